-- End to end: the focus-api REST API through `sis serve` over real HTTP,
-- against the fake Focus: every call of tests/fixtures/focus/expected/
-- index.json (statuses, bodies and JSON text, with the references and
-- corrections of tests/lua/focus_expected.lua, as focus_fidelity_test.lua
-- checks them on the handlers directly; over HTTP and over HTTPS, on the
-- upstream connections the workers keep), against each Focus generation
-- (E.generations: the 2016-17 pages, the later layouts, the later layouts
-- behind single sign-on), and the focus-api README's Python client example,
-- run unchanged.
local t = require "testlib"
local http = require "sis.http"
local json = require "sis.json"
local E = require "focus_expected"
local H = dofile(t.root .. "/tests/lua/fixtures_server/harness.lua")
local fake = require "focus_fake"
local test_ca = require "test_ca"

-- ca: the CA of an HTTPS fake Focus (its bundle becomes SIS_CA_FILE)
local function serve(focus_url, ca)
  return t.server(string.format("env SIS_CA_FILE=%s %s serve --scripts %s --listen 127.0.0.1:0 --focus-url %s",
    ca and H.quote(ca.bundle) or "", t.sis, H.quote(t.root .. "/scripts"), focus_url))
end

local main, expiry = E.main, E.expiry

-- One HTTP client (one cookie jar) plays the calls in order.
local function replay(list, srv, generation, before_each)
  local client <close> = http.session { timeout = 60 }
  E.replay(list, function(call)
    local req = call.request
    local res = assert(client:request { method = req.method, url = srv.url .. req.path, json = req.json })
    t.eq(res.headers["content-type"], "application/json", call.name)
    return res.status, json.decode(res.body), res.body
  end, before_each, generation)
end

local ca = test_ca.make()
for _, gen in ipairs(E.generations) do
  for _, scheme in ipairs { "http", "https" } do
    t.test("every call of index.json through sis serve answers as the original (or its correction), "
        .. "Focus " .. gen.name .. " (" .. scheme .. ")", function()
      t.ok(#main > 140, "index.json lists the calls")
      local tls = scheme == "https" and ca or nil
      local focus = fake.start(gen.flags, tls)
      local srv = serve(focus.base, tls)
      replay(main, srv, gen)
      local stats = focus.stats()
      t.eq(stats.logins, 1, "one Focus login for the whole replay")
      t.ok(stats.connections < stats.requests / 4,
        string.format("%d upstream connections for %d requests", stats.connections, stats.requests))
      if gen.sso then t.eq(stats.idp_logins, 1, "one password at the identity provider") end
      if gen.later then t.ok(stats.app_calls >= 2 and stats.domain_requests >= 1, "the later APIs were used") end
      local log = srv.log()
      t.ok(not log:find(fake.password, 1, true), "the password is in the server log")
      t.match(log, "info  %[%x+%] GET /api/v3/portal 200 [%d.]+ ms\n")
      srv.stop()
      focus.stop()
    end)
  end

  t.test("Focus session expiry through sis serve: transparent re-login, Focus " .. gen.name, function()
    t.eq(#expiry, 4)
    local focus = fake.start("--session-timeout 2 " .. gen.flags)
    local srv = serve(focus.base)
    replay(expiry, srv, gen, function(call)
      if call.name == "expiry_portal_after_focus_timeout" then t.sleep(3.5) end
    end)
    local stats = focus.stats()
    t.eq(stats.logins, 2, "the fake Focus saw the second login")
    if gen.sso then
      t.eq({ stats.idp_logins, stats.idp_auto_posts }, { 1, 1 }, "the second login went through the provider's session")
    end
  end)
end

t.test("the focus-api README's Python client example works unchanged", function()
  local focus = fake.start()
  local srv = serve(focus.base)
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
    H.quote(t.root .. "/tests/fixtures/focus/expected/session_put_2015_315.json")))
  os.execute("rm -rf " .. dir)
  t.eq(err, "")
  t.eq(code, 0)
  local n, same = out:match("^(%d+) (%a+)\n$")
  t.ok(tonumber(n) > 0, "courses printed: " .. out)
  t.eq(same, "True", "the printed courses are the 2015 semester 2 portal's")
end)
