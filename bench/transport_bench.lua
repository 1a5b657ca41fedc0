-- CPU per REST request of `sis serve` for the five-call mix of issue 13
-- (portal, schedule, absences, address, calendar/2017/2), against the fake
-- Focus over HTTPS and over HTTP, beside the floor: a raw gumbo parse of the
-- same pages, and gumbo plus the Focus parsers.
--
-- HTTPS: a test CA made at run time (tests/lua/test_ca.lua), appended to a
-- copy of the system bundle given as SIS_CA_FILE, so the bundle sis loads is
-- as large as the real one. The server's CPU is the sum of its threads' run
-- time (/proc/PID/task/*/schedstat), measured over MIX_ROUNDS rounds of the
-- five calls by one keep-alive client after WARM rounds. Also printed: the
-- connections the fake Focus accepted during the measured rounds.
-- Prints figures, asserts nothing. MIX_ROUNDS=40 by default.
package.path = (os.getenv("SIS_TEST_ROOT") or ".") .. "/bench/?.lua;" .. package.path
local B = require "benchlib"
local t = require "testlib"
local fake = require "focus_fake"
local test_ca = require "test_ca"
local html = require "sis.html"
local http = require "sis.http"
local pages = require "focus.pages"
local client = require "focus.client"

local ROUNDS = tonumber(os.getenv("MIX_ROUNDS") or "40")
local WARM = 3
local MIX = {
  { "portal", "/api/v3/portal", client.page("portal") },
  { "schedule", "/api/v3/schedule", client.page("schedule") },
  { "absences", "/api/v3/absences", client.page("absences") },
  { "address", "/api/v3/address", client.page("address") },
  { "calendar", "/api/v3/calendar/2017/2", client.page("calendar", 2, 2017) },
}
local TARGET = { http = 1.2, https = 1.5 }

local ca = test_ca.make()

-- `sis serve` against focus; → the server (t.server) and its URL
local function serve(focus)
  return t.server(string.format("env SIS_CA_FILE=%s SIS_LOG_LEVEL=warn %s serve --listen 127.0.0.1:0 --focus-url %s",
    ca.bundle, t.sis, focus.base))
end

-- A logged-in client of `sis serve` against focus. run(rounds) plays the
-- mix and adds the server's CPU and the fake's new connections to m.cpu and m.conns.
local function mix_client(focus)
  local m = { srv = serve(focus), cpu = 0, conns = 0 }
  local c = http.session { timeout = 60 }
  local res = assert(c:post(m.srv.url .. "/api/v3/session", { json = { username = fake.user, password = fake.password } }))
  assert(res.status == 200, "login answered " .. res.status .. " " .. res.body)
  function m.run(rounds, counted)
    local cpu, conns = B.process_cpu(m.srv.pid), focus.stats().connections
    for _ = 1, rounds do
      for _, call in ipairs(MIX) do
        res = assert(c:get(m.srv.url .. call[2]))
        assert(res.status == 200, call[2] .. " answered " .. res.status .. " " .. res.body)
      end
    end
    if counted then
      m.cpu = m.cpu + B.process_cpu(m.srv.pid) - cpu
      m.conns = m.conns + focus.stats().connections - conns
    end
  end
  return m
end

local plain = fake.start()
local tls = fake.start(nil, ca)

-- the pages as the fake serves them, for the floor
local bodies = {}
do
  local state = { base_url = plain.base, username = fake.user, password = fake.password }
  local c <close> = client.open(state)
  assert(client.login(c))
  for i, call in ipairs(MIX) do bodies[i] = assert(client.get(c, call[3])).body end
end
local gumbo, parsed = 0, 0
for i, call in ipairs(MIX) do
  local body = bodies[i]
  local g, p = B.medians(11, 10, function() html._parse_only(body) end,
                                 function() assert(pages.parse(call[1], body)) end)
  gumbo, parsed = gumbo + g, parsed + p
end
gumbo, parsed = gumbo * 1000 / #MIX, parsed * 1000 / #MIX

-- HTTPS and HTTP in turns, a round each, so that the machine's load weighs
-- on both alike (and each client's connection stays within civetweb's
-- keep-alive time: a new one may land on another worker, whose pool is cold)
local clients = { https = mix_client(tls), http = mix_client(plain) }
for _, m in pairs(clients) do m.run(WARM, false) end
for _ = 1, ROUNDS do
  for _, scheme in ipairs { "https", "http" } do clients[scheme].run(1, true) end
end
local n = ROUNDS * #MIX
local cores = io.popen("nproc")
print(string.format("five-call mix (portal, schedule, absences, address, calendar/2017/2):"
  .. " sis serve CPU per request, %d requests by one client, %s cores", n, cores:read("l")))
cores:close()
for _, scheme in ipairs { "https", "http" } do
  local m = clients[scheme]
  local ms = m.cpu * 1000 / n
  print(string.format("  upstream %-5s  %6.2f ms/request = %4.1fx the gumbo floor  (target <= %.1f ms)  %d upstream connection%s opened",
    scheme:upper(), ms, ms / gumbo, TARGET[scheme], m.conns, m.conns == 1 and "" or "s"))
end
print(string.format("  floor: raw gumbo parse of the same pages %.2f ms/page; gumbo + Focus parsers %.2f ms/page",
  gumbo, parsed))
for _, s in ipairs(t.servers) do s.stop() end
ca.remove()
