-- REST front sessions: cookies, server-side state, end, expiry, secrets.
local t = require "testlib"
local H = dofile(t.root .. "/tests/lua/fixtures_server/harness.lua")

local srv = H.start { SIS_LOG_LEVEL = "debug" }
local ATTRS = "; Path=/; HttpOnly; SameSite=Lax"

local function cookie_id(res)
  local c = res.headers["set-cookie"]
  t.ok(type(c) == "string", "one Set-Cookie expected, got " .. t.show(c))
  local id = c:match("^sis_test=(%x+)" .. ATTRS:gsub("%p", "%%%0") .. "$")
  t.ok(id, "cookie " .. c)
  return id
end

local function login(name, jar, password)
  return H.request(srv, "POST", "/t/login", { json = { name = name, password = password }, jar = jar })
end

local function me(id, query)
  return H.request(srv, "GET", "/t/me" .. (query or ""),
    { headers = id and { Cookie = "sis_test=" .. id } or nil })
end

t.test("login sets one random 128-bit id cookie: HttpOnly, SameSite=Lax, Path=/", function()
  local a, b = login("ann"), login("bob")
  t.eq(a.status, 200)
  t.eq(a.json, { name = "ann" })
  local ida, idb = cookie_id(a), cookie_id(b)
  t.eq(#ida, 32)
  t.ok(ida ~= idb, "ids differ")
end)

t.test("Secure is added behind a TLS proxy (X-Forwarded-Proto: https)", function()
  local r = H.request(srv, "POST", "/t/login", { json = { name = "sam" },
    headers = { ["X-Forwarded-Proto"] = "https" } })
  t.match(r.headers["set-cookie"], "; SameSite=Lax; Secure$")
end)

t.test("the state lives on the server and changes are kept", function()
  local id = cookie_id(login("cat"))
  t.eq(me(id).json, { name = "cat", n = 1 })
  t.eq(me(id).json, { name = "cat", n = 2 })
  local r = me(id)
  t.eq(r.json, { name = "cat", n = 3 })
  t.eq(r.headers["set-cookie"], nil) -- the cookie is only sent when it changes
end)

t.test("a curl cookie jar carries the session like a browser", function()
  local jar = t.tmpdir() .. "/jar"
  login("dan", jar)
  local r = H.request(srv, "GET", "/t/me", { jar = jar })
  t.eq(r.json, { name = "dan", n = 1 })
  os.execute("rm -rf " .. H.quote(jar:match("^(.*)/")))
end)

t.test("no cookie, an unknown id or a malformed one: no session", function()
  t.eq(me(nil).status, 403)
  t.eq(me(string.rep("0", 32)).json, { error = "no session" })
  t.eq(me("../../etc").status, 403)
  t.eq(me(string.rep("A", 32)).status, 403)
  local r = H.request(srv, "GET", "/t/me", { headers = { Cookie = "other=1; sis_test=; sis_zz=" .. string.rep("f", 32) } })
  t.eq(r.status, 403)
end)

t.test("DELETE ends the session: expiring cookie, the id is dead", function()
  local id = cookie_id(login("eve"))
  local r = H.request(srv, "DELETE", "/t/login", { headers = { Cookie = "sis_test=" .. id } })
  t.eq(r.status, 200)
  t.eq(r.headers["set-cookie"], "sis_test=" .. ATTRS .. "; Max-Age=0")
  t.eq(me(id).status, 403)
end)

t.test("logging in again replaces the session (fresh id, the old one is dead)", function()
  local old = cookie_id(login("fay"))
  local r = H.request(srv, "POST", "/t/login", { json = { name = "fay2" },
    headers = { Cookie = "sis_test=" .. old } })
  local new = cookie_id(r)
  t.ok(new ~= old)
  t.eq(me(old).status, 403)
  t.eq(me(new).json, { name = "fay2", n = 1 })
end)

t.test("a handler that fails keeps none of its state changes", function()
  local id = cookie_id(login("gus"))
  t.eq(me(id).json.n, 1)
  local r = H.request(srv, "GET", "/t/me/fail", { headers = { Cookie = "sis_test=" .. id } })
  t.eq(r.status, 500)
  t.eq(me(id).json.n, 2)
end)

t.test("neither passwords nor session ids reach the log, even at debug level", function()
  local r = login("hal", nil, "hunter2-very-secret")
  local id = cookie_id(r)
  me(id)
  local log = srv.log()
  t.match(log, "POST /t/login 200")
  t.ok(not log:find("hunter2-very-secret", 1, true), "password in the log")
  t.ok(not log:find(id, 1, true), "session id in the log")
end)

t.test("idle sessions expire; active ones are refreshed by each request", function()
  local short = H.start { SIS_SESSION_IDLE = "3" }
  local function req(method, path, opts) return H.request(short, method, path, opts) end
  local idle = cookie_id(req("POST", "/t/login", { json = { name = "ivy" } }))
  local since = require("sis.date").now()
  local busy = cookie_id(req("POST", "/t/login", { json = { name = "joe" } }))
  -- past the idle limit by a second and more, 0.3 s between requests (time
  -- measured, not counted in sleeps: a loaded machine stretches them)
  repeat
    t.sleep(0.3)
    t.eq(req("GET", "/t/me", { headers = { Cookie = "sis_test=" .. busy } }).status, 200)
  until require("sis.date").now() - since > 4.5
  t.eq(req("GET", "/t/me", { headers = { Cookie = "sis_test=" .. idle } }).status, 403)
  local log = H.stop_and_log(short)
  t.match(log, "serve: stopped %(1 sessions wiped%)")
end)

t.test("the session cookie is found among other cookies and blanks; the first of a name wins", function()
  -- engine/server.c reads the cookies (the Lua trimming pattern it replaced
  -- took 2 s of CPU for a 16 KB header of blanks)
  local id = cookie_id(login("kim"))
  local blanks = string.rep(" ", 4000)
  local r = H.request(srv, "GET", "/t/me", { headers = { Cookie = "a=x" .. blanks .. "y;" .. blanks
    .. "sis_test=" .. id .. blanks .. "; b=" .. blanks } })
  t.eq(r.json, { name = "kim", n = 1 })
  r = H.request(srv, "GET", "/t/me", { headers = { Cookie = "sis_test=" .. string.rep("0", 32) .. "; sis_test=" .. id } })
  t.eq(r.status, 403)
  -- a pair with blanks inside its value is no pair: the next one counts
  r = H.request(srv, "GET", "/t/me", { headers = { Cookie = "sis_test=ab cd; sis_test=" .. id } })
  t.eq(r.json, { name = "kim", n = 2 })
  -- two Cookie header lines are one list
  local code, out = t.exec(string.format("curl -s -H 'Cookie: a=1' -H 'Cookie: sis_test=%s' %s/t/me", id, srv.url))
  t.eq(code, 0)
  t.eq(out, '{"n":3,"name":"kim"}')
end)

t.test("a session whose state cannot be stored, or whose answer is unusable, is dropped, not left behind without its cookie", function()
  local own = H.start()
  local r = H.request(own, "POST", "/t/login/unstorable")
  t.eq(r.status, 500)
  t.eq(r.headers["set-cookie"], nil)
  r = H.request(own, "POST", "/t/login/badanswer") -- stored, but the answer is unusable
  t.eq(r.status, 500)
  t.eq(r.headers["set-cookie"], nil)
  local log = H.stop_and_log(own)
  t.match(log, "cannot store the session")
  t.match(log, "bad answer")
  t.match(log, "serve: stopped %(0 sessions wiped%)")
end)
