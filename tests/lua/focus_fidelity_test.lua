-- Replays every call of tests/fixtures/focus/expected/index.json, in order,
-- through the focus.rest handlers against the fake Focus, and compares status
-- and body with what the original focus-api answered. Where the original
-- crashes, the derived answer is the reference; where we deliberately answer
-- differently (docs/compatibility.md, "Client and REST corrections"), the
-- corrected value below is.
local t = require "testlib"
local json = require "sis.json"
local fake = require "focus_fake"

local DIR = "focus/expected/"
local index = json.decode(t.fixture(DIR .. "index.json"))

local function expected_file(file) return json.decode(t.fixture(DIR .. file)) end

local BAD_REQUEST = { error = "Bad request" }

-- Our corrected answers (name → function(call) → status, body).
local corrections = {
  -- B7: an unknown calendar popup id is a 400, as the README says.
  calendar_occasions_99999 = function() return 400, BAD_REQUEST end,
  calendar_assignments_99999 = function() return 400, BAD_REQUEST end,
  -- B18: Focus forgot the PHP session; we log in again and answer the portal.
  expiry_portal_after_focus_timeout = function() return 200, expected_file("expiry_portal_before.json") end,
}

-- The parsers' corrections apply to the REST answers as well, by the page
-- that answers a call (a PUT /session answers its redirect target).
local parser_corrections = require "focus_corrections"

local function page_of(call)
  local req = call.request
  local path = req.method == "PUT" and (req.json.redirect or "portal") or req.path
  path = path:gsub("^/api/v3/", "")
  if path:find("^calendar/%a+/") then return "calendar_detail" end
  return path:match("^(%a+)")
end

-- The reference answer for a call: correction, else derived, else compat;
-- with the parsers' corrections of the page that answers it.
local function reference(call)
  local fix = corrections[call.name]
  if fix then return fix(call) end
  local status, want
  if call.derived then
    status, want = call.derived.status, expected_file(call.derived.file)
  else
    status, want = call.status, expected_file(call.file)
  end
  local correct = status == 200 and parser_corrections[page_of(call)]
  if correct then correct(want) end
  return status, want
end

local function drop_volatile(body, keys)
  for _, k in ipairs(keys or {}) do
    if type(body) == "table" and body[k] ~= nil then body[k] = 0 end
  end
  return body
end

local calls = index.calls or index
local main, expiry = {}, {}
for _, call in ipairs(calls) do
  table.insert(call.scenario and expiry or main, call)
end

local function replay(list, server, before_each)
  local rest = fake.rest_client { focus_url = server.base, timeout = 10 }
  for _, call in ipairs(list) do
    if before_each then before_each(call) end
    local req = call.request
    local status, body = rest.call(req.method, req.path, req.json)
    local want_status, want = reference(call)
    drop_volatile(body, call.volatile)
    drop_volatile(want, call.volatile)
    t.eq(status, want_status, call.name .. " status (" .. t.show(body):sub(1, 200) .. ")")
    t.eq(body, want, call.name)
    t.eq(json.encode(body), json.encode(want), call.name .. " JSON text ([] vs {})")
  end
end

t.test("every call of index.json answers as the original (or its correction)", function()
  t.ok(#main > 140, "index.json lists the calls")
  local server = fake.start()
  replay(main, server)
  t.ok(server.stats().logins == 1, "one Focus login for the whole replay")
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
  for name in pairs(corrections) do
    t.ok(section:find(name, 1, true), "docs/compatibility.md does not mention " .. name)
  end
  for _, call in ipairs(calls) do
    if call.derived then
      t.ok(section:find(call.name, 1, true), "docs/compatibility.md does not mention " .. call.name)
    end
  end
end)
