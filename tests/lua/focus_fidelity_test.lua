-- Replays every call of tests/fixtures/focus/expected/index.json, in order,
-- through the focus.rest handlers against the fake Focus, and compares status
-- and body with what the original focus-api answered. Where the original
-- crashes, the derived answer is the reference; where we deliberately answer
-- differently (docs/compatibility.md), the corrected value is
-- (tests/lua/focus_expected.lua).
local t = require "testlib"
local fake = require "focus_fake"
local E = require "focus_expected"

local calls, main, expiry = E.calls, E.main, E.expiry

-- One REST client (one session store) plays the calls in order.
local function replay(list, server, before_each)
  local rest = fake.rest_client { focus_url = server.base, timeout = 10 }
  E.replay(list, function(call)
    local req = call.request
    return rest.call(req.method, req.path, req.json)
  end, before_each)
end

t.test("every call of index.json answers as the original (or its correction)", function()
  t.ok(#main > 140, "index.json lists the calls")
  local server = fake.start()
  replay(main, server)
  t.eq(server.stats().logins, 1, "one Focus login for the whole replay")
end)

t.test("Focus session expiry: transparent re-login instead of the original's 500", function()
  t.eq(#expiry, 4)
  local server = fake.start("--session-timeout 2")
  replay(expiry, server, function(call)
    if call.name == "expiry_portal_after_focus_timeout" then t.sleep(3.5) end
  end)
  local stats = server.stats()
  t.eq(stats.logins, 2, "the fake Focus saw the second login")
  t.ok(stats.expired >= 1, "the fake Focus expired the first session")
end)

-- The corrections must stay explained in docs/compatibility.md.
t.test("every correction is documented in docs/compatibility.md", function()
  local doc = t.read("docs/compatibility.md")
  local section = ("\n" .. doc):match("\n## Client and REST corrections\n(.*)$")
  t.ok(section and not section:find("\n## "),
    "docs/compatibility.md ends with the section 'Client and REST corrections'")
  for name in pairs(E.call_corrections) do
    t.ok(section:find(name, 1, true), "docs/compatibility.md does not mention " .. name)
  end
  for _, call in ipairs(calls) do
    if call.derived then
      t.ok(section:find(call.name, 1, true), "docs/compatibility.md does not mention " .. call.name)
    end
  end
end)
