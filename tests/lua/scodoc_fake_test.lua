-- The fake ScoDoc replays every recorded exchange exactly: each request of
-- tests/fixtures/scodoc/responses (manifest, then the scenario in order) sent
-- as recorded gets the recorded status, headers and body, byte for byte.
local t = require "testlib"
local json = require "sis.json"
local http = require "sis.http"

local fake = t.server("python3 " .. t.root .. "/tests/servers/fake_scodoc.py")
local R = "scodoc/responses/"

local function replay(s, ex)
  local r = ex.request
  s:clear_cookies() -- each exchange carries its own credentials
  local res = assert(s:request { url = fake.url .. r.target, method = r.method, body = r.body,
                                 headers = r.headers or {}, redirects = false })
  local want = ex.response
  local got_cookie = res.headers["set-cookie"]
  got_cookie = type(got_cookie) == "table" and got_cookie[1] or got_cookie
  t.eq({ res.status, res.headers["content-type"], got_cookie, res.headers["www-authenticate"] },
       { want.status, want.headers["Content-Type"], want.headers["Set-Cookie"], want.headers["WWW-Authenticate"] },
       want.body_file)
  if res.body ~= t.fixture(R .. want.body_file) then error(want.body_file .. ": body differs") end
end

t.test("every exchange of the manifest is replayed exactly", function()
  local manifest = assert(json.decode(t.fixture(R .. "manifest.json")))
  local s = http.session()
  for _, ex in ipairs(manifest.exchanges) do replay(s, ex) end
  t.eq(#manifest.exchanges, 551)
end)

t.test("the absence scenario is replayed exactly, and again after a reset", function()
  local scenario = assert(json.decode(t.fixture(R .. "scenario-absences.json")))
  local s = http.session()
  for _ = 1, 2 do
    assert(s:request { url = fake.url .. "/__fake__/reset", method = "POST", body = "" })
    for _, step in ipairs(scenario.steps) do replay(s, step) end
  end
  -- without a reset, the writes apply twice: a state nothing was recorded for
  local step8 = scenario.steps[8]
  for _, i in ipairs { 5, 6, 7 } do replay(s, scenario.steps[i]) end
  s:clear_cookies()
  local res = assert(s:request { url = fake.url .. step8.request.target, headers = step8.request.headers or {} })
  t.eq({ res.status, res.headers["content-type"] }, { 500, "text/html" })
  t.match(res.body, "not recorded")
end)
