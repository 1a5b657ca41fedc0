-- End to end: the focus-api REST API through `sis serve` over real HTTP,
-- against the fake Focus. Every call of tests/fixtures/focus/expected/
-- index.json (statuses and bodies, with the corrections of
-- docs/compatibility.md, the same references as focus_fidelity_test.lua), and
-- the focus-api README's Python client example, run unchanged.
local t = require "testlib"
local http = require "sis.http"
local json = require "sis.json"
local fake = require "focus_fake"
local H = dofile(t.root .. "/tests/lua/fixtures_server/harness.lua")

local DIR = "focus/expected/"
local index = json.decode(t.fixture(DIR .. "index.json"))
local function expected_file(file) return json.decode(t.fixture(DIR .. file)) end

-- The corrected answers, as in focus_fidelity_test.lua.
local corrections = {
  calendar_occasions_99999 = function() return 400, { error = "Bad request" } end,
  calendar_assignments_99999 = function() return 400, { error = "Bad request" } end,
  expiry_portal_after_focus_timeout = function() return 200, expected_file("expiry_portal_before.json") end,
}

local function reference(call)
  local fix = corrections[call.name]
  if fix then return fix(call) end
  if call.derived then return call.derived.status, expected_file(call.derived.file) end
  return call.status, expected_file(call.file)
end

local function drop_volatile(body, keys)
  for _, k in ipairs(keys or {}) do
    if type(body) == "table" and body[k] ~= nil then body[k] = 0 end
  end
end

local main, expiry = {}, {}
for _, call in ipairs(index.calls) do table.insert(call.scenario and expiry or main, call) end

local function serve(focus)
  return t.server(string.format("%s serve --scripts %s --listen 127.0.0.1:0 --focus-url %s",
    t.sis, H.quote(t.root .. "/scripts"), focus.base))
end

-- One HTTP client with its own cookie jar plays the calls in order.
local function replay(list, srv, before_each)
  local client <close> = http.session { timeout = 60 }
  for _, call in ipairs(list) do
    if before_each then before_each(call) end
    local req = call.request
    local res = assert(client:request { method = req.method, url = srv.url .. req.path, json = req.json })
    local body = json.decode(res.body)
    local want_status, want = reference(call)
    drop_volatile(body, call.volatile)
    drop_volatile(want, call.volatile)
    t.eq(res.status, want_status, call.name .. " status (" .. res.body:sub(1, 200) .. ")")
    t.eq(body, want, call.name)
    t.eq(res.headers["content-type"], "application/json", call.name)
  end
end

t.test("every call of index.json through sis serve answers as the original (or its correction)", function()
  t.ok(#main > 140, "index.json lists the calls")
  local focus = fake.start()
  local srv = serve(focus)
  replay(main, srv)
  t.eq(focus.stats().logins, 1, "one Focus login for the whole replay")
  t.ok(not srv.log():find(fake.password, 1, true), "the password is in the server log")
end)

t.test("Focus session expiry through sis serve: transparent re-login", function()
  t.eq(#expiry, 4)
  local focus = fake.start("--session-timeout 2")
  local srv = serve(focus)
  replay(expiry, srv, function(call)
    if call.name == "expiry_portal_after_focus_timeout" then t.sleep(3.5) end
  end)
  t.eq(focus.stats().logins, 2, "the fake Focus saw the second login")
end)

t.test("the focus-api README's Python client example works unchanged", function()
  local focus = fake.start()
  local srv = serve(focus)
  local dir = t.tmpdir()
  local example = t.read("tests/lua/fixtures_server/seed_example.py")
    :gsub("http://127%.0%.0%.1:5000", srv.url)
    :gsub("your%.username", fake.user)
    :gsub("yourpassword", fake.password)
  H.write(dir .. "/example.py", example)
  os.execute(string.format("cp %s/tests/lua/fixtures_server/requests.py %s/", H.quote(t.root), dir))
  local code, out, err = t.exec(string.format("cd %s && python3 example.py > out.txt && python3 -c '%s' out.txt %s",
    dir, "import ast, json, sys; got = ast.literal_eval(open(sys.argv[1]).read()); "
      .. "want = json.load(open(sys.argv[2]))[\"courses\"]; print(len(got), got == want)",
    H.quote(t.root .. "/tests/fixtures/" .. DIR .. "session_put_2015_315.json")))
  os.execute("rm -rf " .. dir)
  t.eq(err, "")
  t.eq(code, 0)
  local n, same = out:match("^(%d+) (%a+)\n$")
  t.ok(tonumber(n) > 0, "courses printed: " .. out)
  t.eq(same, "True", "the printed courses are the 2015 semester 2 portal's")
end)
