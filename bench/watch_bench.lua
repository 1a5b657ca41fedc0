-- The cost of watching: one poll of a subscription (CPU of sis, wall time,
-- requests to the school) for Focus (every kind, and grades only) and for
-- ScoDoc, against the fakes without and with 100 ms of latency per answer;
-- the store's cost with 10,000 subscriptions; webhook deliveries per second.
-- From these: how many subscriptions one poller thread carries at the
-- default 15-minute interval. Prints figures, asserts nothing.
package.path = (os.getenv("SIS_TEST_ROOT") or ".") .. "/bench/?.lua;" .. package.path
local B = require "benchlib"
local t = require "testlib"
local json = require "sis.json"
local date = require "sis.date"
local store_mod = require "watch.store"
local poll = require "watch.poll"
local deliver = require "watch.deliver"
local focus = require "focus.service"
local scodoc = require "scodoc.service"
local W = dofile(B.root .. "/tests/lua/fixtures_server/watch_fakes.lua")

local ROUNDS = tonumber(os.getenv("BENCH_ROUNDS") or "") or 15
local INTERVAL = 900
local settings = { min_interval = 1, retry = 30, pause_after = 86400, keep = 1000 }
local TODAY = "2017-02-15" -- the fixture's months: the calendar kinds find their pages

local dir = t.tmpdir()
local st = assert(store_mod.open(dir))

-- Median CPU ms, wall ms and upstream requests of one poll (no change).
local function measure(sub_id, stats, rounds)
  assert(poll.run(st, sub_id, { settings = settings, today = TODAY })) -- the baseline
  local cpu, wall, requests = {}, {}, {}
  for i = 1, rounds do
    stats(true)
    local c0, w0 = os.clock(), date.now()
    assert(poll.run(st, sub_id, { settings = settings, today = TODAY }))
    cpu[i], wall[i] = (os.clock() - c0) * 1000, (date.now() - w0) * 1000
    requests[i] = stats()
  end
  return B.median(cpu), B.median(wall), B.median(requests)
end

local function focus_sub(fake, kinds)
  local state = assert(focus.login { base_url = fake.base, username = W.focus_user, password = W.focus_password })
  return st:create_subscription { service = "focus", owner = "bench", kinds = kinds, interval = INTERVAL,
                                  credentials = state, now = os.time() }.id
end

local function row(what, cpu, wall, requests)
  print(string.format("  %-44s %7.1f ms CPU %8.1f ms wall %4d requests", what, cpu, wall, requests))
end

print("one poll, no change (median of " .. ROUNDS .. "):")
local focus_wall_latency, focus_cpu
for _, latency in ipairs { 0, 100 } do
  local fake = W.focus(latency > 0 and ("--latency " .. latency) or "")
  local function requests(reset) return fake.stats(reset).requests end
  local rounds = latency > 0 and math.max(3, ROUNDS // 3) or ROUNDS
  local all = focus_sub(fake, {})
  local cpu, wall, n = measure(all, requests, rounds)
  row(string.format("Focus, every kind, %d ms latency", latency), cpu, wall, n)
  if latency > 0 then focus_wall_latency = wall else focus_cpu = cpu end
  local grades = focus_sub(fake, { "focus.assignment", "focus.course_grade" })
  cpu, wall, n = measure(grades, requests, rounds)
  row(string.format("Focus, assignments + course grades, %d ms", latency), cpu, wall, n)
  fake.stop()
end

local sfake = W.scodoc()
local sstate = assert(scodoc.login { base_url = sfake.base, username = "lecteur_api", password = "Lecture-Info-2021" })
local ssub = st:create_subscription { service = "scodoc", owner = "bench", interval = INTERVAL, credentials = sstate,
  target = { dept = "INFO", etudid = "EID3101", formsemestre_id = "SEM3190" }, now = os.time() }.id
local seen = 0
local function scodoc_requests(reset)
  local n = #sfake.requests()
  local out = n - seen
  if reset then seen = n end
  return out
end
local scpu, swall, sn = measure(ssub, scodoc_requests, ROUNDS)
row("ScoDoc, every kind (bulletin + absences)", scpu, swall, sn)
sfake.stop()

-- The store with many subscriptions: what each tick of the poller costs.
local N = 10000
local creds = { base_url = "http://127.0.0.1:9/", username = "u", password = "p", cookies = "" }
local snapshot = json.decode(json.encode((st:subscription_state(ssub) or {}).snapshot or {}))
local t0 = date.now()
st:transaction(function()
  for i = 1, N do
    st:create_subscription { service = "focus", owner = "bench" .. i, interval = INTERVAL, credentials = creds,
                             now = os.time() + 3600 }
  end
end)
local create_ms = (date.now() - t0) * 1000 / N
local due_ms = B.wall_median_ms(50, function() return st:due(os.time(), 50) end)
local next_ms = B.wall_median_ms(50, function() return st:next_due() end)
local some = st:due(os.time() + 7200, 1)[1]
local record_ms = B.wall_median_ms(50, function()
  st:record_poll(some, { snapshot = snapshot, now = os.time(), next_poll_at = os.time() + 3600 })
end)
local f = io.popen("du -k " .. dir .. "/sis.db | cut -f1")
local db_kb = tonumber(f:read("l"))
f:close()
print(string.format("store with %d subscriptions: create %.2f ms each, due() %.2f ms, next_due() %.2f ms, "
  .. "record_poll %.2f ms; %.1f KB on disk each (the ScoDoc snapshot is %d bytes)", N, create_ms, due_ms, next_ms,
  record_ms, db_kb / N, #json.encode(snapshot)))

-- Webhook deliveries to a local receiver.
local hook = t.server("python3 " .. B.root .. "/tests/servers/webhook_receiver.py")
local target = st:create_subscription { service = "focus", owner = "bench", interval = INTERVAL,
  webhook = hook.url .. "/hook", credentials = creds, now = os.time() + 3600 }.id
local EVENTS = 200
local rows = {}
for i = 1, EVENTS do
  rows[i] = { id = string.format("bench%05d", i), detected_at = os.time(),
              body = json.encode { id = string.format("bench%05d", i), kind = "focus.assignment.graded" } }
end
st:record_poll(target, { events = rows, now = os.time(), next_poll_at = os.time() + 3600 })
local d0 = date.now()
local sent = 0
repeat
  local n = deliver.run(st, { settings = settings, limit = 100, trusted = true }) -- loopback: not public
  sent = sent + n
until n == 0
local per_s = sent / (date.now() - d0)
hook.stop()
print(string.format("webhook deliveries (signed, one POST each, loopback): %d in a row, %.0f per second", sent, per_s))

-- Capacity of one poller thread at the default interval: polls run one after
-- the other, so the wall time of a poll against a slow school is the limit.
local per_thread = INTERVAL * 1000 // focus_wall_latency
print(string.format("capacity of one poller thread at %d s: %d Focus subscriptions (every kind, 100 ms per "
  .. "answer), %d ScoDoc ones (loopback); %d with the default 4 threads (SIS_WATCH_THREADS); "
  .. "CPU %.1f %% of a core per 1000 Focus subscriptions", INTERVAL, per_thread, INTERVAL * 1000 // swall,
  4 * per_thread, 1000 * focus_cpu / (INTERVAL * 1000) * 100))
st:close()
os.execute("rm -rf " .. dir)
