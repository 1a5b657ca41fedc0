-- End to end: the focus-api REST API through `sis serve` over real HTTP,
-- against the fake Focus.
--  * focus_fidelity_test.lua, run as is but with its REST client swapped for
--    one that talks HTTP to a `sis serve`: every call of tests/fixtures/focus/
--    expected/index.json, statuses and bodies, with the same references and
--    corrections (docs/compatibility.md) as when it calls the handlers directly;
--  * the focus-api README's Python client example, run unchanged.
local t = require "testlib"
local http = require "sis.http"
local json = require "sis.json"
local H = dofile(t.root .. "/tests/lua/fixtures_server/harness.lua")
-- a private copy: bound to this file's testlib (its servers are stopped at the
-- end of this file) and free to have its REST client replaced
local fake = dofile(t.root .. "/tests/lua/focus_fake.lua")

local function serve(focus_url, timeout)
  return t.server(string.format("env SIS_TIMEOUT=%d %s serve --scripts %s --listen 127.0.0.1:0 --focus-url %s",
    timeout or 20, t.sis, H.quote(t.root .. "/scripts"), focus_url))
end

-- focus_fake.rest_client's contract, over HTTP: one cookie jar per client.
function fake.rest_client(config)
  local srv = serve(config.focus_url, config.timeout)
  local client = http.session { timeout = 60 }
  local c = {}
  function c.call(method, path, body)
    local res = assert(client:request { method = method, url = srv.url .. path, json = body })
    t.eq(res.headers["content-type"], "application/json", method .. " " .. path)
    t.ok(not srv.log():find(fake.password, 1, true), "the password is in the server log")
    return res.status, json.decode(res.body)
  end
  return c
end

local first, shared = #t.tests + 1, package.loaded.focus_fake
package.loaded.focus_fake = fake
dofile(t.root .. "/tests/lua/focus_fidelity_test.lua")
package.loaded.focus_fake = shared
for i = first, #t.tests do t.tests[i].name = "via sis serve: " .. t.tests[i].name end

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
