-- REST front: request framing no well-behaved client sends (refused bodies,
-- truncated bodies, ambiguous lengths), over raw sockets (rawhttp.py).
local t = require "testlib"
local H = dofile(t.root .. "/tests/lua/fixtures_server/harness.lua")

-- One worker: a request that keeps it busy shows as the next one waiting.
local srv = H.start(nil, "--threads 1")

-- Sends `request` as is; returns the answer's status, its JSON body, whether
-- the server closed the connection, and the raw answer.
local function raw(request, opts)
  opts = opts or {}
  local dir = t.tmpdir()
  H.write(dir .. "/req", request)
  local code, out = t.exec(string.format("python3 %s/tests/lua/fixtures_server/rawhttp.py %d %s %s",
    H.quote(t.root), srv.port, H.quote(dir .. "/req"), opts.half_close and "--half-close" or ""))
  os.execute("rm -rf " .. H.quote(dir))
  t.eq(code, 0)
  local answer, ending = out:match("^(.*)\n(<%a+>)\n$")
  local json = require("sis.json").decode(answer:match("\r\n\r\n(.*)$") or "")
  return tonumber(answer:match("^HTTP/1%.1 (%d+)")), json, ending == "<eof>", answer
end

t.test("an oversize Content-Length is refused and the connection closed without reading on", function()
  -- the client declares 100 GB and sends none of it: the 413 must not wait for it
  local status, body, closed = raw("POST /t/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000000\r\n\r\n")
  t.eq(status, 413)
  t.eq(body, { error = "request body too large (limit 1048576 bytes)" })
  t.ok(closed, "connection left open after the 413")
  t.eq(H.request(srv, "GET", "/t/hello").status, 200) -- the only worker is free
end)

t.test("an oversize chunked body is refused without reading the rest of it", function()
  local chunk = string.format("%x\r\n%s\r\n", 65536, string.rep("c", 65536))
  local status, body, closed = raw("POST /t/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    .. string.rep(chunk, 17)) -- 1.06 MB and no last chunk: the rest never comes
  t.eq(status, 413)
  t.match(body.error, "too large")
  t.ok(closed, "connection left open after the 413")
  t.eq(H.request(srv, "GET", "/t/hello").status, 200)
end)

t.test("a body cut short (the client stopped sending) is a 400, the handler never sees it", function()
  local status, body = raw("POST /t/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc",
    { half_close = true })
  t.eq(status, 400)
  t.eq(body, { error = "request body incomplete" })
  status, body = raw("POST /t/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\na\r\nabc",
    { half_close = true })
  t.eq(status, 400)
  t.eq(body, { error = "request body incomplete" })
  t.ok(not srv.log():find("POST /t/echo 200", 1, true), "the handler ran on a partial body")
  -- a complete body on the same terms is served
  status, body = raw("POST /t/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc", { half_close = true })
  t.eq(status, 200)
  t.eq(body.body, "abc")
  status, body = raw("POST /t/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
    { half_close = true })
  t.eq(status, 200)
  t.eq(body.body, "abc")
end)

t.test("ambiguous body lengths are a 400 (a proxy in front could frame them otherwise)", function()
  -- a proxy going by Content-Length forwards one request; civetweb would take
  -- the chunked body and then run the rest as a second, smuggled request
  local smuggled = "GET /t/items/SMUGGLED HTTP/1.1\r\nHost: x\r\n\r\n"
  local status, body, closed = raw("POST /t/echo HTTP/1.1\r\nHost: x\r\nContent-Length: "
    .. (15 + #smuggled) .. "\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n" .. smuggled)
  t.eq(status, 400)
  t.eq(body, { error = "ambiguous request body length" })
  t.ok(closed, "connection left open")
  -- two Content-Lengths that disagree
  status, body, closed = raw("POST /t/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: "
    .. (3 + #smuggled) .. "\r\n\r\nabc" .. smuggled)
  t.eq(status, 400)
  t.eq(body, { error = "ambiguous request body length" })
  t.ok(closed, "connection left open")
  t.ok(not srv.log():find("SMUGGLED", 1, true), "the smuggled request ran")
  -- the same length twice is one length
  status, body = raw("POST /t/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 3\r\n"
    .. "Connection: close\r\n\r\nabc")
  t.eq(status, 200)
  t.eq(body.body, "abc")
end)

t.test("a body cap too large for size_t means no practical cap, not a cap of 0", function()
  local big = H.start { SIS_MAX_BODY = "1e20", SIS_MAX_SESSIONS = "1e20" }
  local r = H.request(big, "POST", "/t/echo", { body = "abc" })
  t.eq(r.status, 200)
  t.eq(r.json.body, "abc")
  t.eq(H.request(big, "POST", "/t/login", { json = { name = "n" } }).status, 200)
  big.stop()
end)

t.test("an absolute-form request target naming this server is served (RFC 9112 3.2.2)", function()
  local target = string.format("http://127.0.0.1:%d/t/hello", srv.port)
  local status, body = raw("GET " .. target .. " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
  t.eq({ status, body }, { 200, H.request(srv, "GET", "/t/hello").json })
end)

-- issue 15 item 4: civetweb keeps 64 header fields and drops the rest
-- silently, so a Content-Length placed after them went unseen and the body
-- ran as a second request.
t.test("as many header fields as civetweb keeps: 431, nothing hides past them", function()
  local smuggled = "GET /t/items/SMUGGLED HTTP/1.1\r\nHost: x\r\n\r\n"
  local fill = {}
  for i = 1, 63 do fill[i] = "X-Fill-" .. i .. ": y\r\n" end
  local status, body, closed = raw("POST /t/echo HTTP/1.1\r\nHost: x\r\n" .. table.concat(fill)
    .. "Content-Length: " .. #smuggled .. "\r\n\r\n" .. smuggled)
  t.eq(status, 431)
  t.eq(body, { error = "too many header fields" })
  t.ok(closed, "connection left open")
  t.ok(not srv.log():find("SMUGGLED", 1, true), "the smuggled request ran")
  -- 63 fields: served
  status = raw("GET /t/hello HTTP/1.1\r\nHost: x\r\n" .. table.concat(fill, "", 1, 61) .. "Connection: close\r\n\r\n")
  t.eq(status, 200)
end)

-- issue 15 item 10
t.test("HTTP/1.1 needs exactly one Host; Content-Length is plain digits", function()
  local status, body, closed = raw("GET /t/hello HTTP/1.1\r\n\r\n")
  t.eq({ status, body }, { 400, { error = "Host header required" } })
  t.ok(closed, "connection left open")
  status, body = raw("GET /t/hello HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n")
  t.eq({ status, body }, { 400, { error = "more than one Host header" } })
  status = raw("GET /t/hello HTTP/1.0\r\n\r\n") -- HTTP/1.0 has no Host to require
  t.eq(status, 200)
  for _, bad in ipairs { "+3", " 3 x", "3, 3", "0x3" } do
    status, body, closed = raw("POST /t/echo HTTP/1.1\r\nHost: x\r\nContent-Length: " .. bad .. "\r\n\r\nabc")
    t.eq({ status, body }, { 400, { error = "invalid Content-Length" } }, bad)
    t.ok(closed, "connection left open")
  end
end)

-- What Debian's civetweb 1.15 does not let sis answer (docs/server.md): it
-- closes the connection without calling the front.
t.test("OPTIONS * and an absolute-form target on another port: civetweb closes without an answer", function()
  local _, _, closed, answer = raw("OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n")
  t.eq(answer, "")
  t.ok(closed, "connection left open")
  _, _, closed, answer = raw(string.format("GET http://127.0.0.1:%d/t/hello HTTP/1.1\r\nHost: x\r\n\r\n", srv.port + 1))
  t.eq(answer, "")
  t.ok(closed, "connection left open")
end)

-- issue 15 item 1: a body trickled a byte at a time held a worker for ever.
t.test("a body that comes too slowly is a 408, and the connection goes", function()
  local slow = H.start({ SIS_READ_TIMEOUT = "1", SIS_READ_RATE = "100" }, "--threads 1")
  local before = os.time()
  local code, out = t.exec(string.format([[python3 -c '
import socket, time
s = socket.create_connection(("127.0.0.1", %d))
s.sendall(b"POST /t/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{")
s.settimeout(0.5)
data = b""
for _ in range(30):
    try:
        chunk = s.recv(65536)
        if not chunk: break
        data += chunk
    except socket.timeout:
        try: s.sendall(b" ")
        except OSError: break
print(data.decode().split("\r\n")[0], data.decode().split("\r\n\r\n")[-1])
']], slow.port))
  t.eq(code, 0)
  t.eq(out, 'HTTP/1.1 408 Request Time-out {"error": "request body too slow"}\n')
  t.ok(os.time() - before <= 8, "cut off after " .. (os.time() - before) .. " s") -- 1.5 s alone
  -- the only worker was never held: a request served at once
  t.eq(H.request(slow, "GET", "/t/hello").status, 200)
  slow.stop()
end)

-- Keep-alive only while connection threads are free: past 3/4 of them taken,
-- answers close their connection.
t.test("keep-alive is refused once most connection threads are taken", function()
  local few = H.start({ SIS_CONNECTIONS = "4" }, "--threads 2")
  local code, out = t.exec(string.format([[python3 -c '
import socket, time
idle = [socket.create_connection(("127.0.0.1", %d)) for _ in range(2)]
time.sleep(0.5)  # taken by their threads
s = socket.create_connection(("127.0.0.1", %d))
s.sendall(b"GET /t/hello HTTP/1.1\r\nHost: x\r\n\r\n")
s.settimeout(5)
print([l for l in s.recv(65536).decode().split("\r\n") if l.startswith("Connection")][0])
']], few.port, few.port))
  t.eq(code, 0)
  t.eq(out, "Connection: close\n")
  -- with the threads free again, keep-alive as usual
  t.eq(H.request(few, "GET", "/t/hello", { headers = { Connection = "keep-alive" } }).headers.connection, "keep-alive")
  few.stop()
end)
