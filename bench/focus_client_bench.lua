-- Wall time of the Focus fan-outs against fake_focus.py --latency 100:
-- one page; /courses the first time (the portal, then 7 course pages at
-- once; target ≤ 2.5× one page) and once the session knows its courses (the
-- portal and the pages in one round trip; target ≤ 1.5×); a year calendar
-- (12 months at once; target ≤ 1.5×). Prints figures, asserts nothing.
package.path = (os.getenv("SIS_TEST_ROOT") or ".") .. "/bench/?.lua;" .. package.path
local B = require "benchlib"
local t = require "testlib"
local fake = require "focus_fake"
local focus = require "focus.service"

local LATENCY_MS = 100
local ROUNDS = 5

local server = fake.start("--latency " .. LATENCY_MS)
local state = assert(focus.login {
  base_url = server.base, username = fake.user, password = fake.password, timeout = 30,
})

local function call(endpoint, args)
  local status = focus.call(state, endpoint, args)
  assert(status == 200, endpoint .. " answered " .. tostring(status))
end

-- median wall time (ms) of `ROUNDS` calls, and the fake's max in-flight;
-- before(): run untimed before each call
local function measure(endpoint, args, before)
  server.stats(true)
  local times = {}
  for i = 1, ROUNDS do
    if before then before() end
    times[i] = B.wall_ms(function() call(endpoint, args) end)
  end
  return B.median(times), server.stats().max_in_flight
end

local page = measure("schedule")
local cold, cold_flight = measure("courses", nil, function() state.course_ids = nil end)
local warm, warm_flight = measure("courses")
local year, year_flight = measure("calendar", { year = 2017 })

print(string.format("focus client, fake Focus latency %d ms, median of %d", LATENCY_MS, ROUNDS))
print(string.format("  one page (schedule)             %7.1f ms", page))
print(string.format("  /courses, courses not known yet %7.1f ms  = %.2fx one page (target <= 2.5x), max in flight %d",
  cold, cold / page, cold_flight))
print(string.format("  /courses, course list unchanged %7.1f ms  = %.2fx one page (target <= 1.5x), max in flight %d",
  warm, warm / page, warm_flight))
print(string.format("  calendar/2017 (12 months)       %7.1f ms  = %.2fx one page (target <= 1.5x), max in flight %d",
  year, year / page, year_flight))
focus.logout(state)
for _, s in ipairs(t.servers) do s.stop() end
