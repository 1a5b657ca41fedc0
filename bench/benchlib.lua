-- What the benchmarks (bench/*_bench.lua, run by `build/sis run` from the
-- repository root) share: reading fixtures, medians, CPU and wall timing.
-- Each bench starts with
--   package.path = (os.getenv("SIS_TEST_ROOT") or ".") .. "/bench/?.lua;" .. package.path
--   local B = require "benchlib"
-- Loading it also puts tests/lua/ on package.path, for the benches that
-- start fake servers with testlib's t.server (and focus_fake).
package.path = (os.getenv("SIS_TEST_ROOT") or ".") .. "/tests/lua/?.lua;" .. package.path
local date = require "sis.date"
local t = require "testlib"

local B = {}

-- The repository root, and B.read(path): the bytes of a file, its path
-- relative to the root (testlib's).
B.root, B.read = t.root, t.read

-- The median of xs (the lower one of an even count); sorts xs.
function B.median(xs)
  table.sort(xs)
  return xs[(#xs + 1) // 2]
end

-- Median CPU seconds of one call of each function (the mean of `batch`
-- calls), over `rounds` samples taken in turns, so that changes in the
-- machine's load hit them alike. Each function is called once first, untimed.
function B.medians(rounds, batch, ...)
  local fns, samples, result = { ... }, {}, {}
  for k, fn in ipairs(fns) do
    samples[k] = {}
    fn() -- warm-up
  end
  for i = 1, rounds do
    for k, fn in ipairs(fns) do
      collectgarbage()
      local t0 = os.clock()
      for _ = 1, batch do fn() end
      samples[k][i] = (os.clock() - t0) / batch
    end
  end
  for k = 1, #fns do result[k] = B.median(samples[k]) end
  return table.unpack(result)
end

-- Wall milliseconds of one call of fn, and fn's first result.
function B.wall_ms(fn)
  local t0 = date.now()
  local out = fn()
  return (date.now() - t0) * 1000, out
end

-- CPU seconds used so far by process pid, all its threads: the sum of each
-- thread's run time (/proc/PID/task/*/schedstat, in ns; /proc/PID/stat
-- counts 10 ms ticks). Threads that ended are not counted: measure servers
-- whose threads live on (civetweb's workers do).
function B.process_cpu(pid)
  local ls = io.popen("ls /proc/" .. pid .. "/task 2>/dev/null")
  local total = 0
  for tid in ls:lines() do
    local f = io.open(string.format("/proc/%s/task/%s/schedstat", pid, tid))
    if f then
      total = total + (tonumber(f:read("n")) or 0)
      f:close()
    end
  end
  ls:close()
  return total / 1e9
end

-- Median wall milliseconds of n calls of fn.
function B.wall_median_ms(n, fn)
  local times = {}
  for i = 1, n do times[i] = B.wall_ms(fn) end
  return B.median(times)
end

return B
