-- REST front lifecycle: hot reload of scripts, broken scripts, clean shutdown.
local t = require "testlib"
local H = dofile(t.root .. "/tests/lua/fixtures_server/harness.lua")

local function edit(dir, file, from, to)
  local path = dir .. "/" .. file
  local f = assert(io.open(path, "rb"))
  local text = f:read("a")
  f:close()
  local new, n = text:gsub(from, to)
  assert(n > 0, "nothing to replace in " .. file)
  H.write(path, new)
  return text
end

t.test("an edited route file takes effect on the next request, no restart", function()
  local srv = H.start()
  t.eq(H.request(srv, "GET", "/t/hello").json.version, 1)
  edit(srv.scripts, "testroutes.lua", "local VERSION = 1", "local VERSION = 2")
  t.eq(H.request(srv, "GET", "/t/hello").json.version, 2)
  -- every worker picks it up: several connections in a row
  for _ = 1, 10 do t.eq(H.request(srv, "GET", "/t/hello").json.version, 2) end
  edit(srv.scripts, "testroutes.lua", "local VERSION = 2", "local VERSION = 3")
  t.eq(H.request(srv, "GET", "/t/hello").json.version, 3)
  t.match(srv.log(), "serve: scripts changed, reloading")
end)

t.test("a new module in a new directory is watched too", function()
  local srv = H.start()
  os.execute("mkdir " .. H.quote(srv.scripts .. "/extra"))
  H.write(srv.scripts .. "/extra/value.lua", "return 'first'\n")
  edit(srv.scripts, "testroutes.lua", "local VERSION = 1", "local VERSION = require 'extra.value'")
  t.eq(H.request(srv, "GET", "/t/hello").json.version, "first")
  H.write(srv.scripts .. "/extra/value.lua", "return 'second'\n")
  t.eq(H.request(srv, "GET", "/t/hello").json.version, "second")
end)

t.test("a deploy that swaps a symlinked scripts directory takes effect, no restart", function()
  local root = t.tmpdir()
  local q = H.quote
  H.scripts_copy(root .. "/r1")
  H.scripts_copy(root .. "/r2")
  edit(root .. "/r2", "testroutes.lua", "local VERSION = 1", "local VERSION = 2")
  assert(os.execute("ln -s r1 " .. q(root .. "/current")))
  local srv = H.serve(root .. "/current", nil, "--threads 4")
  t.eq(H.request(srv, "GET", "/t/hello").json.version, 1)
  -- other files beside the link are no change of the scripts
  H.write(root .. "/deploy.log", "r2 unpacked\n")
  t.eq(H.request(srv, "GET", "/t/hello").json.version, 1)
  t.ok(not srv.log():find("reloading", 1, true), "reloaded for a file beside the scripts")
  -- the atomic swap of a deploy: a new link renamed over the old one
  assert(os.execute(string.format("ln -s r2 %s && mv -T %s %s", q(root .. "/next"), q(root .. "/next"), q(root .. "/current"))))
  for _ = 1, 5 do t.eq(H.request(srv, "GET", "/t/hello").json.version, 2) end
  -- the old release is no longer watched; the new one is
  edit(root .. "/r1", "testroutes.lua", "local VERSION = 1", "local VERSION = 'old'")
  t.eq(H.request(srv, "GET", "/t/hello").json.version, 2)
  edit(root .. "/r2", "testroutes.lua", "local VERSION = 2", "local VERSION = 3")
  t.eq(H.request(srv, "GET", "/t/hello").json.version, 3)
  srv.stop()
  os.execute("rm -rf " .. q(root))
end)

t.test("a broken route module is logged and switched off; fixing it brings it back", function()
  local srv = H.start()
  local good = edit(srv.scripts, "testroutes.lua", "local VERSION = 1", "local VERSION = = 1")
  local r = H.request(srv, "GET", "/t/hello")
  t.eq(r.status, 404)
  t.eq(H.request(srv, "GET", "/").json.endpoints, {})
  local log = srv.log()
  t.match(log, "error %[%x+%] serve: route module testroutes %([^)]*testroutes%.lua%) failed to load, its routes are off: .-testroutes%.lua:%d+: unexpected symbol")
  -- logged once for the generation, not once per worker
  for _ = 1, 6 do H.request(srv, "GET", "/") end
  local _, count = srv.log():gsub("failed to load", "")
  t.eq(count, 1)
  H.write(srv.scripts .. "/testroutes.lua", good)
  t.eq(H.request(srv, "GET", "/t/hello").status, 200)
end)

t.test("a route module returning garbage names the bad route", function()
  local srv = H.start()
  edit(srv.scripts, "testroutes.lua", 'method = "GET", path = "/t/hello"', 'method = "get", path = "/t/hello"')
  t.eq(H.request(srv, "GET", "/t/hello").status, 404)
  t.match(srv.log(), "testroutes route 1: method must be an upper%-case string")
end)

t.test("a broken front answers 500 JSON and recovers once fixed", function()
  local srv = H.start()
  local good = edit(srv.scripts, "server/app.lua", "local GZIP_MIN = 1024", "local GZIP_MIN = = 1024")
  local r = H.request(srv, "GET", "/t/hello")
  t.eq(r.status, 500)
  t.eq(r.json, { error = "internal error (request " .. r.headers["x-request-id"] .. ")" })
  t.match(srv.log(), "serve: cannot load the front %(server/app%.lua%): .-app%.lua:%d+: unexpected symbol")
  H.write(srv.scripts .. "/server/app.lua", good)
  t.eq(H.request(srv, "GET", "/t/hello").status, 200)
end)

t.test("a front that cannot load at start-up stops sis serve with a clear error", function()
  local dir = t.tmpdir()
  os.execute(string.format("mkdir -p %s/server && echo 'return 42' > %s/server/app.lua", dir, dir))
  local code, _, err = t.exec(string.format("%s serve --scripts %s --listen 127.0.0.1:0", t.sis, dir))
  os.execute("rm -rf " .. dir)
  t.eq(code, 1)
  t.match(err, "server/app%.lua must return a function")
end)

t.test("a port already in use is a clear error", function()
  local srv = H.start()
  local code, _, err = t.exec(string.format("%s serve --listen 127.0.0.1:%d", t.sis, srv.port))
  t.eq(code, 1)
  t.match(err, "cannot listen on 127%.0%.0%.1:" .. srv.port)
end)

for _, sig in ipairs { "TERM", "INT" } do
  t.test("SIG" .. sig .. " stops the server cleanly (sessions wiped, no leak reports)", function()
    local srv = H.start()
    for i = 1, 3 do H.request(srv, "POST", "/t/login", { json = { name = "u" .. i, password = "pw" } }) end
    H.request(srv, "GET", "/t/big", { gzip = true })
    local log = H.stop_and_log(srv, sig)
    t.match(log, "serve: SIG" .. sig .. ", stopping")
    t.match(log, "serve: stopped %(3 sessions wiped%)")
    t.ok(not log:find("Sanitizer"), log)
    t.ok(not log:find("runtime error"), log)
  end)
end
