-- sis.http: concurrency and per-request overhead against the local fake server.
-- Prints figures only. Run: build/sis run bench/http_bench.lua (or make bench).
package.path = (os.getenv("SIS_TEST_ROOT") or ".") .. "/bench/?.lua;" .. package.path
local B = require "benchlib"
local t = require "testlib" -- for t.server
local http = require "sis.http"

local SERVER = "python3 " .. B.root .. "/tests/servers/http_test_server.py"

local function check(results, n)
  local ok = 0
  for _, r in ipairs(results) do if r.status == 200 then ok = ok + 1 end end
  if ok ~= n then print(string.format("  (only %d of %d answered 200)", ok, n)) end
end

local function batch(url, n)
  local reqs = {}
  for i = 1, n do reqs[i] = { url = url } end
  return reqs
end

-- 1. 12 requests to a server that takes 100 ms per answer
local slow = t.server(SERVER .. " --latency 100")
local url = slow.url .. "/latency"
print("12 requests, server latency 100 ms per response:")
for _, per_host in ipairs({ 12, 6 }) do
  local s = http.session({ per_host = per_host })
  local cold, res = B.wall_ms(function() return s:request_all(batch(url, 12)) end)
  check(res, 12)
  local best = math.huge
  for _ = 1, 5 do
    local ms
    ms, res = B.wall_ms(function() return s:request_all(batch(url, 12)) end)
    check(res, 12)
    best = math.min(best, ms)
  end
  print(string.format("  request_all, per_host=%-2d  %6.1f ms cold (new connections), %6.1f ms warm (best of 5)%s",
    per_host, cold, best, per_host == 12 and "   target <= 150 ms" or ""))
  s:close()
end
local s = http.session()
local seq = B.wall_ms(function()
  for _ = 1, 12 do s:get(url) end
end)
print(string.format("  sequential s:get x12       %6.1f ms", seq))
s:close()
slow.stop()

-- 2. per-request overhead: a zero-latency server, one kept-alive connection
local fast = t.server(SERVER)
url = fast.url .. "/latency"
s = http.session()
s:get(url)
local n = 2000
local ms = B.wall_ms(function()
  for _ = 1, n do s:get(url) end
end)
print(string.format("sequential keep-alive GETs, zero-latency server: %d in %.0f ms = %.0f req/s (%.0f us/request)",
  n, ms, n / ms * 1000, ms * 1000 / n))
local clock0 = os.clock()
for _ = 1, n do s:get(url) end
print(string.format("  CPU time of sis itself: %.0f us/request (the rest is the Python server and the loopback)",
  (os.clock() - clock0) * 1e6 / n))
ms = B.wall_ms(function() return s:request_all(batch(url, n)) end)
print(string.format("request_all of %d, per_host=6: %.0f ms = %.0f req/s", n, ms, n / ms * 1000))
s:close()
fast.stop()
