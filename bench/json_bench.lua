-- sis.json against lua-cjson 2.1.0: decode and encode throughput (MB/s of
-- JSON text) on the largest fixture files. Prints figures, asserts nothing.
-- Each library encodes the value it decoded itself. Median of 7 rounds.
package.path = (os.getenv("SIS_TEST_ROOT") or ".") .. "/bench/?.lua;" .. package.path
local B = require "benchlib"
local json = require "sis.json"
local cjson = require "cjson"

local files = {
  "tests/fixtures/scodoc/responses/manifest.json",
  "tests/fixtures/scodoc/responses/scenario-absences.json",
  "tests/fixtures/scodoc/responses/INFO__Notes__do_moduleimpl_withmodule_list__noformat.json",
  "tests/fixtures/focus/expected/index.json",
  "tests/fixtures/focus/expected/mp325_courses.json",
  "tests/fixtures/focus/expected/courses.json",
}

-- MB/s of `bytes` processed per call of fn, median over rounds of ~0.2 s.
local function rate(fn, bytes)
  local reps = 1
  repeat -- calibrate
    local t0 = os.clock()
    for _ = 1, reps do fn() end
    local dt = os.clock() - t0
    if dt < 0.05 then reps = reps * 2 end
  until dt >= 0.05
  reps = reps * 4
  local samples = {}
  for r = 1, 7 do
    collectgarbage()
    local t0 = os.clock()
    for _ = 1, reps do fn() end
    samples[r] = bytes * reps / (os.clock() - t0) / 1e6
  end
  return B.median(samples)
end

print(string.format("%-58s %8s %9s %9s %9s %9s", "file", "bytes", "dec sis", "dec cjson", "enc sis", "enc cjson"))
local total = { 0, 0, 0, 0 }
for _, path in ipairs(files) do
  local text = B.read(path)
  local ours, theirs = json.decode(text), cjson.decode(text)
  local out_ours, out_theirs = json.encode(ours), cjson.encode(theirs)
  local r = {
    rate(function() json.decode(text) end, #text),
    rate(function() cjson.decode(text) end, #text),
    rate(function() json.encode(ours) end, #out_ours),
    rate(function() cjson.encode(theirs) end, #out_theirs),
  }
  for i = 1, 4 do total[i] = total[i] + r[i] end
  print(string.format("%-58s %8d %9.1f %9.1f %9.1f %9.1f", path:match("[^/]+$"):sub(1, 58), #text,
    r[1], r[2], r[3], r[4]))
end
print(string.format("%-58s %8s %9.1f %9.1f %9.1f %9.1f", "mean MB/s", "", total[1] / #files,
  total[2] / #files, total[3] / #files, total[4] / #files))

-- Unsorted keys and pretty printing cost, on the largest file.
local big = json.decode(B.read(files[1]))
local bytes = #json.encode(big)
print(string.format("encode manifest.json: sorted %.1f MB/s, sort_keys=false %.1f MB/s, pretty %.1f MB/s",
  rate(function() json.encode(big) end, bytes),
  rate(function() json.encode(big, { sort_keys = false }) end, bytes),
  rate(function() json.encode(big, { pretty = true }) end, bytes)))
