-- The REST front over real HTTP: routing, JSON errors, request decoding,
-- response encoding and gzip (sis serve + the test routes, curl as client).
local t = require "testlib"
local json = require "sis.json"
local H = dofile(t.root .. "/tests/lua/fixtures_server/harness.lua")

local srv = H.start()

t.test("GET / is a JSON index of the served prefixes", function()
  local r = H.request(srv, "GET", "/")
  t.eq(r.status, 200)
  t.eq(r.headers["content-type"], "application/json")
  t.eq(r.json.name, "sis")
  t.match(r.json.version, "^%d+%.%d+%.%d+$")
  t.eq(r.json.endpoints, json.array { "/t" })
end)

t.test("path captures, percent-decoding, trailing slash and query strings", function()
  local r = H.request(srv, "GET", "/t/items/a%20b/?x=1&y=two+words&x=3&e=%C3%A9&flag")
  t.eq(r.status, 200)
  t.eq(r.json.id, "a b")
  t.eq(r.json.query, { x = "3", y = "two words", e = "é", flag = "" })
  t.eq(r.json.query_all, { x = { "1", "3" }, y = { "two words" }, e = { "é" }, flag = { "" } })
  r = H.request(srv, "GET", "/t/items/7/notes/n%2F1")
  t.eq(r.json, { id = "7", note = "n/1" })
end)

t.test("unknown path: 404 JSON", function()
  local r = H.request(srv, "GET", "/t/nowhere")
  t.eq(r.status, 404)
  t.eq(r.json, { error = "Not found" }) -- as focus-api spells it
  r = H.request(srv, "GET", "/T/hello") -- case-sensitive
  t.eq(r.status, 404)
end)

t.test("wrong method: 405 JSON with Allow listing the path's methods", function()
  local r = H.request(srv, "DELETE", "/t/items/5")
  t.eq(r.status, 405)
  t.eq(r.headers.allow, "GET, PUT")
  t.eq(r.json, { error = "Method not allowed" })
  r = H.request(srv, "POST", "/")
  t.eq(r.status, 405)
  t.eq(r.headers.allow, "GET")
end)

t.test("HEAD is served by GET routes, without a body", function()
  -- HEAD then GET on one keep-alive connection: a stray body would break the GET
  local code, out = t.exec(string.format([[python3 -c '
import http.client
c = http.client.HTTPConnection("127.0.0.1", %d)
c.request("HEAD", "/t/hello"); r = c.getresponse()
print(r.status, r.getheader("Content-Length"), repr(r.read()))
c.request("GET", "/t/hello"); r = c.getresponse()
print(r.status, r.read().decode())
']], srv.port))
  t.eq(code, 0)
  t.eq(out, "200 29 b''\n200 {\"hello\":\"world\",\"version\":1}\n")
end)

t.test("a 304 goes out without a body, whatever the handler returned", function()
  -- a client reads no body after a 304: one sent would be taken for the
  -- start of the next answer on the connection
  local dir = t.tmpdir()
  H.write(dir .. "/req", "GET /t/unchanged HTTP/1.1\r\nHost: x\r\n\r\n"
    .. "GET /t/hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
  local code, out = t.exec(string.format("python3 %s/tests/lua/fixtures_server/rawhttp.py %d %s",
    H.quote(t.root), srv.port, H.quote(dir .. "/req")))
  os.execute("rm -rf " .. H.quote(dir))
  t.eq(code, 0)
  t.match(out, "^HTTP/1%.1 304 Not Modified\r\n")
  local first, second = out:match("^(.-\r\n\r\n)(.*)$")
  t.ok(not first:find("Content-Length", 1, true), "Content-Length on a 304")
  t.match(second, "^HTTP/1%.1 200 OK\r\n.*\r\n\r\n{\"hello\":\"world\",\"version\":1}\n<eof>\n$")
end)

t.test("a JSON body is decoded before the handler", function()
  local r = H.request(srv, "PUT", "/t/items/9", { json = { year = 2015, mp_id = 315, f = 1.5, l = { 1, 2 } } })
  t.eq(r.status, 200)
  t.eq(r.json, { id = "9", json = { year = 2015, mp_id = 315, f = 1.5, l = { 1, 2 } } })
  -- no Content-Type, but it looks like JSON
  r = H.request(srv, "POST", "/t/echo", { body = '  {"a": [true, null]}' })
  t.eq(r.json.json, { a = { true, json.null } })
  -- not JSON at all: passed as the raw body only
  r = H.request(srv, "POST", "/t/echo", { body = "a=1&b=2", headers = { ["Content-Type"] = "application/x-www-form-urlencoded" } })
  t.eq(r.json, { body = "a=1&b=2", content_type = "application/x-www-form-urlencoded" })
end)

t.test("bad JSON: 400 before the handler runs", function()
  local r = H.request(srv, "POST", "/t/echo", { body = '{"a": ', headers = { ["Content-Type"] = "application/json" } })
  t.eq(r.status, 400)
  t.match(r.json.error, "^invalid JSON body: json: ")
  r = H.request(srv, "POST", "/t/echo", { body = "[1, 2,]" })
  t.eq(r.status, 400)
  t.match(r.json.error, "^invalid JSON body")
end)

t.test("missing fields: the handler's 400 reaches the client as JSON", function()
  local r = H.request(srv, "POST", "/t/need", { json = { other = 1 } })
  t.eq(r.status, 400)
  t.eq(r.json, { error = "missing field: name" })
end)

t.test("oversize body: 413 from Content-Length, before reading it", function()
  local r = H.request(srv, "POST", "/t/echo", { body = string.rep("x", (1 << 20) + 1) })
  t.eq(r.status, 413)
  t.eq(r.json, { error = "request body too large (limit 1048576 bytes)" })
  t.eq(r.headers.connection, "close")
  -- exactly at the limit is fine
  r = H.request(srv, "POST", "/t/echo", { body = string.rep("x", 1 << 20) })
  t.eq(r.status, 200)
  t.eq(#r.json.body, 1 << 20)
end)

t.test("Expect: 100-continue is answered before the body is read", function()
  local dir = t.tmpdir()
  H.write(dir .. "/body", string.rep("z", 5000))
  local code, _, err = t.exec(string.format(
    "curl -sv --http1.1 -H 'Expect: 100-continue' --data-binary @%s/body %s/t/echo -o /dev/null",
    dir, srv.url))
  os.execute("rm -rf " .. dir)
  t.eq(code, 0)
  t.match(err, "< HTTP/1%.1 100 Continue\r?\n.*< HTTP/1%.1 200 OK")
end)

t.test("oversize chunked body (no Content-Length): 413 while reading", function()
  local r = H.request(srv, "POST", "/t/echo", { body = string.rep("y", (1 << 20) + 10),
    headers = { ["Transfer-Encoding"] = "chunked" } })
  t.eq(r.status, 413)
  t.match(r.json.error, "too large")
  r = H.request(srv, "POST", "/t/echo", { body = '{"small": 1}',
    headers = { ["Transfer-Encoding"] = "chunked" } })
  t.eq(r.json.json, { small = 1 })
end)

t.test("string bodies keep their Content-Type; empty bodies are empty", function()
  local r = H.request(srv, "GET", "/t/text")
  t.eq(r.status, 200)
  t.eq(r.body, "plain words")
  t.eq(r.headers["content-type"], "text/plain; charset=utf-8")
  t.eq(r.headers["x-extra"], "yes")
  r = H.request(srv, "GET", "/t/nothing")
  t.eq(r.status, 204)
  t.eq(r.body, "")
end)

t.test("gzip when accepted and the body is over 1 KB", function()
  local plain = H.request(srv, "GET", "/t/big")
  t.eq(plain.headers["content-encoding"], nil)
  t.eq(plain.headers.vary, "Accept-Encoding")
  t.eq(#plain.json.data, 5000)
  local dir = t.tmpdir()
  local code, out = t.exec(string.format(
    "curl -s --http1.1 -H 'Accept-Encoding: gzip' -D %s/h %s/t/big | gzip -dc", dir, srv.url))
  local f = io.open(dir .. "/h")
  local head = f:read("a")
  f:close()
  os.execute("rm -rf " .. dir)
  t.eq(code, 0)
  t.match(head, "\r\nContent%-Encoding: gzip\r\n")
  t.eq(out, plain.body)
  local zipped = H.request(srv, "GET", "/t/big", { gzip = true })
  t.ok(#zipped.body < #plain.body / 10, "compressed size " .. #zipped.body)
  t.eq(tonumber(zipped.headers["content-length"]), #zipped.body)
  -- refused with q=0, and small bodies are never compressed
  local r = H.request(srv, "GET", "/t/big", { headers = { ["Accept-Encoding"] = "gzip;q=0, identity" } })
  t.eq(r.headers["content-encoding"], nil)
  r = H.request(srv, "GET", "/t/hello", { gzip = true })
  t.eq(r.headers["content-encoding"], nil)
  t.eq(json.decode(r.body), { hello = "world", version = 1 })
end)

t.test("gzip of an incompressible body fits the buffer (gzip's bound: zlib's + 12)", function()
  local plain = H.request(srv, "GET", "/t/noise")
  t.eq(#plain.body, 20000)
  local code, out = t.exec(string.format("curl -s --http1.1 -H 'Accept-Encoding: gzip' %s/t/noise | gzip -dc", srv.url))
  t.eq(code, 0)
  t.eq(out, plain.body)
  local zipped = H.request(srv, "GET", "/t/noise", { gzip = true })
  t.eq(zipped.headers["content-encoding"], "gzip")
  t.ok(#zipped.body > #plain.body, "stored blocks and the wrapper: " .. #zipped.body)
end)

t.test("config reaches handlers", function()
  local r = H.request(srv, "GET", "/t/config")
  t.eq(r.json.timeout, 20)
  t.eq(r.json.session_idle, 1200)
  local other = H.start { SIS_TIMEOUT = "2.5", SIS_SESSION_IDLE = "-5" }
  r = H.request(other, "GET", "/t/config")
  t.eq(r.json.timeout, 2.5)
  t.eq(r.json.session_idle, 1200, "not positive: the default, as the session store reads it")
  other.stop()
end)

t.test("a handler error is 500 internal error, logged with file:line and traceback", function()
  local r = H.request(srv, "GET", "/t/boom")
  t.eq(r.status, 500)
  -- the answer names the request; its log lines carry the same id
  local id = r.headers["x-request-id"]
  t.match(id, "^%x%x%x%x%x%x%x%x$")
  t.eq(r.json, { error = "internal error (request " .. id .. ")" })
  local line
  local n = 0
  for l in io.lines(t.root .. "/tests/lua/fixtures_server/testroutes.lua") do
    n = n + 1
    if l:find("t.field", 1, true) then line = n end
  end
  local log = srv.log()
  t.match(log, "%[" .. id .. "%] GET /t/boom: handler failed: [^\n]*testroutes%.lua:" .. line
    .. ": attempt to index a nil value")
  t.match(log, "stack traceback:")
  t.match(log, "%[" .. id .. "%] GET /t/boom 500 ")
  -- the server goes on serving
  t.eq(H.request(srv, "GET", "/t/hello").status, 200)
end)

t.test("bad answers from a handler are 500s too", function()
  local r = H.request(srv, "GET", "/t/badstatus")
  t.eq(r.status, 500)
  t.eq(r.json, { error = "internal error (request " .. r.headers["x-request-id"] .. ")" })
  r = H.request(srv, "GET", "/t/badbody")
  t.eq(r.status, 500)
  t.match(srv.log(), "GET /t/badstatus: bad answer: handler returned a bad status: 200")
end)

t.test("an access line per request: method, path, status, ms; no query, no cookie", function()
  H.request(srv, "GET", "/t/items/42?secret=abc", { headers = { Cookie = "sis_test=" .. string.rep("ab", 16) } })
  local log = srv.log()
  t.match(log, "info  %[%x+%] GET /t/items/42 200 [%d.]+ ms\n")
  t.ok(not log:find("secret=abc", 1, true), "query logged")
  t.ok(not log:find(string.rep("ab", 16), 1, true), "cookie logged")
end)

t.test("malformed HTTP gets a JSON error from civetweb's side too", function()
  local code, out = t.exec(string.format(
    "printf 'GET /t/hello HTTP/9.9\\r\\n\\r\\n' | curl -s --max-time 5 telnet://127.0.0.1:%d", srv.port))
  t.eq(code, 0)
  t.match(out, "^HTTP/1%.1 %d%d%d ")
  t.match(out, '{"error": "')
end)

-- issue 14 item 11
t.test("GET /health: liveness and readiness", function()
  local r = H.request(srv, "GET", "/health")
  -- the test routes load, but no upstream URL is set: alive, not ready
  t.eq(r.status, 503)
  t.eq(r.json, { live = true, ready = false, routes = { testroutes = "loaded" },
                 focus_url = "not set", scodoc_url = "not set" })
  local ready = H.start { SIS_FOCUS_URL = "http://127.0.0.1:9/" }
  r = H.request(ready, "GET", "/health")
  t.eq(r.status, 200)
  t.eq(r.json.ready, true)
  t.eq(r.json.focus_url, "set")
  ready.stop()
end)

t.test("GET <prefix> lists the routes of a module", function()
  local r = H.request(srv, "GET", "/t")
  t.eq(r.status, 200)
  t.eq(r.json.prefix, "/t")
  t.eq(r.json.routes[1], "GET /t/hello")
  t.ok(#r.json.routes > 20, "every route listed")
  for _, line in ipairs(r.json.routes) do t.match(line, "^%u+ /t/") end
end)

-- issue 14 items 1, 2, 10
t.test("a bare port listens on 127.0.0.1 only, and the log says so", function()
  local code, out = t.exec("python3 -c 'import socket; s = socket.socket(); s.bind((\"127.0.0.1\", 0)); print(s.getsockname()[1])'")
  t.eq(code, 0)
  local port = tonumber(out)
  local bare = H.serve(srv.scripts, nil, "--listen " .. port)
  t.eq(H.request(bare, "GET", "/t/hello").status, 200)
  t.match(bare.log(), "listening on http://127%.0%.0%.1:" .. port .. "/")
  -- the kernel's view: the socket is bound to 127.0.0.1, not 0.0.0.0
  local hex = string.format(":%04X", port)
  local bound
  for line in io.lines("/proc/net/tcp") do
    local addr = line:match("^%s*%d+:%s+(%x+)" .. hex .. "%s+00000000:0000%s+0A")
    if addr then bound = addr end
  end
  t.eq(bound, "0100007F")
  bare.stop()
end)

t.test("an unusable upstream URL or login flow stops sis serve at start, exit 2, with the reason", function()
  for _, case in ipairs { { "SIS_FOCUS_URL", "not-a-url" }, { "SIS_SCODOC_URL", "ftp://host/" },
                          { "SIS_FOCUS_URL", "http://" } } do
    local code, _, err = t.exec(string.format("env %s=%s timeout 20 %s serve --listen 127.0.0.1:0", case[1],
      H.quote(case[2]), t.sis))
    t.eq(code, 2, case[2])
    t.match(err, case[1] .. " must be an http:// or https:// URL with a host, not '" .. case[2]:gsub("%p", "%%%0") .. "'")
  end
  local code, _, err = t.exec(string.format("timeout 20 %s serve --focus-url nope --listen 127.0.0.1:0", t.sis))
  t.eq(code, 2)
  t.match(err, "SIS_FOCUS_URL must be")
  -- the way to log in to Focus, checked as well (else every login would be a 500)
  code, _, err = t.exec(string.format("env SIS_FOCUS_LOGIN=cas timeout 20 %s serve --listen 127.0.0.1:0", t.sis))
  t.eq(code, 2)
  t.match(err, "serve: SIS_FOCUS_LOGIN must be native, saml or auto, not 'cas'\n")
end)

t.test("a port file that cannot be written stops sis serve, exit 1", function()
  local code, _, err = t.exec(string.format("timeout 20 %s serve --listen 127.0.0.1:0 --port-file /nonexistent/dir/port", t.sis))
  t.eq(code, 1)
  t.match(err, "cannot write the port file /nonexistent/dir/port")
end)
