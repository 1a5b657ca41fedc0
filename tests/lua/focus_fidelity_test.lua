-- Replays every call of tests/fixtures/focus/expected/index.json, in order,
-- through the focus.rest handlers against the fake Focus, and compares status
-- and body with what the original focus-api answered. Where the original
-- crashes, the derived answer is the reference; where we deliberately answer
-- differently (docs/compatibility.md), the corrected value is
-- (tests/lua/focus_expected.lua). Each Focus generation of E.generations
-- plays the same calls (sis serve does too: server_focus_test.lua).
local t = require "testlib"
local fake = require "focus_fake"
local E = require "focus_expected"

local calls, main, expiry = E.calls, E.main, E.expiry

-- One REST client (one session store) plays the calls in order.
local function replay(list, server, generation, before_each)
  local rest = fake.rest_client { focus_url = server.base, timeout = 10 }
  E.replay(list, function(call)
    local req = call.request
    return rest.call(req.method, req.path, req.json)
  end, before_each, generation)
end

for _, gen in ipairs(E.generations) do
  t.test("every call of index.json answers as the original (or its correction), Focus " .. gen.name, function()
    t.ok(#main > 140, "index.json lists the calls")
    local server = fake.start(gen.flags)
    replay(main, server, gen)
    t.eq(server.stats().logins, 1, "one Focus login for the whole replay")
  end)

  t.test("Focus session expiry: transparent re-login instead of the original's 500, Focus " .. gen.name, function()
    t.eq(#expiry, 4)
    local server = fake.start("--session-timeout 2 " .. gen.flags)
    replay(expiry, server, gen, function(call)
      if call.name == "expiry_portal_after_focus_timeout" then t.sleep(3.5) end
    end)
    local stats = server.stats()
    t.eq(stats.logins, 2, "the fake Focus saw the second login")
    t.ok(stats.expired >= 1, "the fake Focus expired the first session")
  end)
end

-- What the later layouts carry differently must be listed in docs/compatibility.md.
t.test("every difference of the later generations is documented in docs/compatibility.md", function()
  local doc = t.read("docs/compatibility.md")
  local section = ("\n" .. doc):match("\n## Later Focus generations\n(.-)\n## ")
  t.ok(section, "docs/compatibility.md has a section 'Later Focus generations' (before the last)")
  local n = 0
  for page, d in pairs(E.later_differences) do
    n = n + 1
    t.ok(section:find(d.doc, 1, true), "docs/compatibility.md does not list " .. d.doc .. " (" .. page .. ")")
  end
  t.eq(n, 3)
end)

-- The later corpus is what its generator writes from the 2016-17 one.
t.test("tests/fixtures/focus-2018 is up to date with its generator", function()
  local code, out, err = t.exec("/usr/bin/python3 " .. t.root .. "/tests/fixtures/focus-2018/generate.py --check")
  t.eq({ code, out, err }, { 0, "", "" })
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
