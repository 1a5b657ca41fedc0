-- sis.http against the local fake upstream tests/servers/http_test_server.py
local t = require "testlib"
local http = require "sis.http"
local json = require "sis.json"
local test_ca = require "test_ca"

local SERVER = "python3 " .. t.root .. "/tests/servers/http_test_server.py"
local srv = t.server(SERVER)
local base = srv.url

local function echo(res)
  t.ok(res, "no response")
  t.eq(res.status, 200)
  return json.decode(res.body)
end

-- fn(dir) with a fresh directory; then, whatever happens, the process-wide
-- record/replay mode goes back to live and the directory goes away
local function with_cassette(fn)
  local dir = t.tmpdir()
  local ok, err = pcall(fn, dir)
  http.live()
  os.execute("rm -rf " .. dir)
  if not ok then error(err, 0) end
end

local function slurp(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

local function write(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

local function files_in(dir)
  local p = io.popen("ls " .. dir)
  local names = {}
  for name in p:lines() do names[#names + 1] = name end
  p:close()
  return names
end

t.test("a response has status, lower-case headers, body, final url and elapsed", function()
  local s = http.session()
  local res = s:get(base .. "/multi-header")
  t.eq(res.status, 200)
  t.eq(res.body, "multi")
  t.eq(res.url, base .. "/multi-header")
  t.eq(math.type(res.elapsed), "float")
  t.ok(res.elapsed >= 0 and res.elapsed < 10)
  t.eq(res.headers["content-type"], "text/plain; charset=utf-8")
  t.eq(res.headers["x-multi"], "a, b")
  t.eq(res.headers["set-cookie"], { "m1=1; Path=/", "m2=2; Path=/" })
  s:close()
end)

t.test("query and form values are RFC 3986 encoded", function()
  local s = http.session()
  local tricky = "a&b=c+d%e f\u{e9}"
  local want = "a%26b%3Dc%2Bd%25e%20f%C3%A9"
  t.eq(http.encode_query({ q = tricky }), "q=" .. want)
  t.eq(http.encode_query({ b = 2, a = true, ["k y"] = 1.5 }), "a=true&b=2&k%20y=1.5")
  t.eq(http.encode_query({ { "z", "1" }, { "a", "2" }, { "z", "3" } }), "z=1&a=2&z=3")
  t.eq(http.encode_query({}), "")
  -- names are compared and looked up with their length (strcmp saw "a" twice)
  t.eq(http.encode_query({ ["a\0b"] = "1", a = "2" }), "a=2&a%00b=1")

  local got = echo(s:get(base .. "/echo", { query = { q = tricky, n = 7 } }))
  t.eq(got.query, "n=7&q=" .. want)
  t.eq(got.method, "GET")
  -- appended with & to an existing query, before a fragment
  t.eq(echo(s:get(base .. "/echo?x=1#frag", { query = { { "y", "2" } } })).query, "x=1&y=2")

  got = echo(s:post(base .. "/echo", { form = { user = "jo", note = tricky } }))
  t.eq(got.method, "POST")
  t.eq(got.body, "note=" .. want .. "&user=jo")
  t.eq(got.headers["content-type"], "application/x-www-form-urlencoded")
  s:close()
end)

t.test("a __gc finalizer that grows a query map while it is encoded is harmless", function()
  -- (the C walk overflowed its array of names)
  local q, good = {}, 0
  for i = 1, 50 do q["k" .. i] = i end
  local fired = require("finalizer_race").run(q, 300, function()
    if http.encode_query(q):find("^k1=1&k10=10&k11=11&") then good = good + 1 end
  end)
  t.ok(fired > 0, "no finalizer ran")
  t.eq(good, 300)
end)

t.test("raw bodies, methods and custom headers", function()
  local s = http.session({ headers = { ["X-Session"] = "s", ["X-Both"] = "session" } })
  local got = echo(s:request({
    url = base .. "/echo", method = "PUT", body = "<x/>",
    headers = { ["Content-Type"] = "application/xml", ["x-both"] = "request", ["X-Num"] = 42 },
  }))
  t.eq(got.method, "PUT")
  t.eq(got.body, "<x/>")
  t.eq(got.headers["content-type"], "application/xml")
  t.eq(got.headers["x-session"], "s")
  t.eq(got.headers["x-both"], "request") -- the request's header wins, sent once
  t.eq(got.headers["x-num"], "42")
  t.eq(got.headers["user-agent"], "sis/" .. require("sis").version)
  t.eq(got.headers["expect"], nil)

  got = echo(s:request({ url = base .. "/echo", method = "DELETE" }))
  t.eq(got.method, "DELETE")
  -- without a body, POST (and PUT, PATCH) are still what goes out, with an empty body
  got = echo(s:post(base .. "/echo"))
  t.eq({ got.method, got.body, got.headers["content-length"] }, { "POST", "", "0" })
  for _, m in ipairs { "POST", "PUT", "PATCH" } do
    t.eq(echo(s:request({ url = base .. "/echo", method = m })).method, m)
  end
  local head = s:request({ url = base .. "/echo", method = "HEAD" })
  t.eq(head.status, 200)
  t.eq(head.body, "")
  -- the reused handle is back to a plain GET
  got = echo(s:get(base .. "/echo"))
  t.eq({ got.method, got.body }, { "GET", "" })

  local ua = http.session({ user_agent = "probe/1" })
  t.eq(echo(ua:get(base .. "/echo")).headers["user-agent"], "probe/1")
  ua:close()
  s:close()
end)

t.test("json bodies go through sis.json", function()
  local s = http.session()
  local value = { name = "é", n = 3, list = { 1, 2.5 } }
  local got = echo(s:post(base .. "/echo", { json = value }))
  t.eq(got.method, "POST")
  t.eq(got.headers["content-type"], "application/json")
  t.eq(got.body, '{"list":[1,2.5],"n":3,"name":"é"}')
  t.eq(json.decode(got.body), value)
  got = echo(s:request({ url = base .. "/echo", method = "PUT", json = json.array(),
                         headers = { ["content-type"] = "application/vnd.x+json" } }))
  t.eq({ got.method, got.body, got.headers["content-type"] }, { "PUT", "[]", "application/vnd.x+json" })
  t.raises(function() s:post(base .. "/echo", { json = { f = print } }) end, "function")
  s:close()
end)

t.test("gzip bodies are decoded", function()
  local s = http.session()
  local res = s:get(base .. "/gzip")
  t.eq(res.body, string.rep("compressed hello ", 100))
  t.eq(res.headers["content-encoding"], "gzip")
  s:close()
end)

t.test("cookies are kept across requests and listed", function()
  local s = http.session()
  t.eq(s:get(base .. "/needs-cookie?name=sid").status, 401)
  s:get(base .. "/set-cookie?sid=abc123&lang=fr")
  t.eq(s:cookie("sid"), "abc123")
  t.eq(s:cookie("missing"), nil)
  local res = s:get(base .. "/needs-cookie?name=sid")
  t.eq(res.status, 200)
  t.eq(res.body, "abc123")
  local byname = {}
  for _, c in ipairs(s:cookies()) do byname[c.name] = c end
  t.eq(byname.sid, { name = "sid", value = "abc123", domain = "127.0.0.1", path = "/",
                     secure = false, expires = 0, http_only = false })
  t.eq(byname.lang.value, "fr")
  s:clear_cookies()
  t.eq(s:cookies(), {})
  t.eq(s:get(base .. "/needs-cookie?name=sid").status, 401)
  s:close()
end)

t.test("export_cookies / import_cookies carry a jar to a new session", function()
  local s = http.session()
  s:get(base .. "/set-cookie?sid=carried")
  local jar = s:export_cookies()
  t.match(jar, "^127%.0%.0%.1\tFALSE\t/\tFALSE\t0\tsid\tcarried\n$")
  s:close()
  local fresh = http.session()
  fresh:import_cookies("# a comment\n\n" .. jar)
  t.eq(fresh:cookie("sid"), "carried")
  t.eq(fresh:get(base .. "/needs-cookie?name=sid").body, "carried")
  fresh:import_cookies("Set-Cookie: extra=1; domain=127.0.0.1; path=/")
  t.eq(fresh:cookie("extra"), "1")
  -- a NUL byte used to hang the line loop; curl's commands are not cookies
  fresh:import_cookies("x\0y\nALL\nSESS\nFLUSH\nRELOAD\n")
  t.eq({ fresh:cookie("sid"), fresh:cookie("extra") }, { "carried", "1" })
  fresh:close()
end)

t.test("20 concurrent requests share the session's cookie jar", function()
  local s = http.session({ per_host = 20 })
  s:post(base .. "/redirect?to=/echo&cookie=sid=login-42", { form = { user = "jo" } })
  t.eq(s:cookie("sid"), "login-42")
  local reqs, setters = {}, {}
  for i = 1, 20 do
    reqs[i] = { url = base .. "/needs-cookie?name=sid" }
    setters[i] = { url = base .. "/set-cookie?c" .. i .. "=v" .. i }
  end
  local results = s:request_all(reqs)
  t.eq(#results, 20)
  for i = 1, 20 do
    t.eq(results[i].status, 200, "request " .. i)
    t.eq(results[i].body, "login-42")
  end
  -- cookies set by concurrent responses all land in the one jar
  results = s:request_all(setters)
  for i = 1, 20 do
    t.eq(results[i].status, 200)
    t.eq(s:cookie("c" .. i), "v" .. i)
  end
  t.eq(#s:cookies(), 21)
  s:close()
end)

t.test("request_all keeps request order and reports failures in place", function()
  local s = http.session()
  local done = {}
  local results = s:request_all({
    { url = base .. "/slow?ms=150" },
    { url = base .. "/status/500" },
    { url = base .. "/slow?ms=500", timeout = 0.1 },
    { url = base .. "/echo?i=4" },
  }, { on_progress = function(n, total) done[#done + 1] = n .. "/" .. total end })
  t.eq(results[1].body, "slow")
  t.eq(results[2].status, 500)
  t.eq(results[3].kind, "timeout")
  t.match(results[3].error, "^timeout: .+ %(" .. base:gsub("%p", "%%%0") .. "/slow%)$")
  t.eq(echo(results[4]).query, "i=4")
  t.eq(done, { "1/4", "2/4", "3/4", "4/4" })
  t.eq(s:request_all({}), {})
  s:close()
end)

t.test("an error in on_progress propagates and leaves the session usable", function()
  local s = http.session()
  local reqs = { { url = base .. "/echo" }, { url = base .. "/slow?ms=200" } }
  t.raises(function()
    s:request_all(reqs, { on_progress = function() error("progress kaput") end })
  end, "progress kaput")
  t.raises(function()
    s:request_all(reqs, { on_progress = function() s:get(base .. "/echo") end })
  end, "busy")
  t.raises(function()
    s:request_all(reqs, { on_progress = function() s:close() end })
  end, "while its requests run")
  t.eq(s:get(base .. "/echo").status, 200)
  s:close()
end)

t.test("per_host caps the connections to one host", function()
  local s = http.session({ per_host = 3 })
  s:get(base .. "/count/reset")
  local reqs = {}
  for i = 1, 12 do reqs[i] = { url = base .. "/count?ms=100" } end
  for _, res in ipairs(s:request_all(reqs)) do t.eq(res.status, 200) end
  t.eq(json.decode(s:get(base .. "/count/max").body).max, 3)
  s:close()
end)

t.test("requests queued behind the per_host cap do not time out while they wait", function()
  local s = http.session({ per_host = 1, timeout = 0.8 })
  local results = s:request_all({
    { url = base .. "/slow?ms=300" }, { url = base .. "/slow?ms=300" }, { url = base .. "/slow?ms=300" },
  })
  for i = 1, 3 do t.eq(results[i].status, 200, "request " .. i) end
  s:close()
end)

t.test("redirects are followed, or not, and capped", function()
  local s = http.session()
  local res = s:get(base .. "/redirect?to=/echo%3Fafter%3D1&cookie=hop=1")
  t.eq(res.url, base .. "/echo?after=1")
  t.eq(echo(res).query, "after=1")
  t.eq(res.headers.location, nil) -- headers of the final response only
  t.eq(s:cookie("hop"), "1")      -- a cookie set by the redirect itself is kept
  -- a POST answered by a 302 continues as a GET
  t.eq(echo(s:post(base .. "/redirect?to=/echo", { body = "x" })).method, "GET")

  res = s:get(base .. "/redirect?to=/echo", { redirects = false })
  t.eq(res.status, 302)
  t.eq(res.headers.location, "/echo")
  local nofollow = http.session({ redirects = false })
  t.eq(nofollow:get(base .. "/redirect?to=/echo").status, 302)
  nofollow:close()

  local _, err, kind = s:get(base .. "/redirect-loop")
  t.eq(kind, "redirects")
  t.match(err, "^redirects: ")
  s:close()
end)

t.test("HTTP errors are responses; network failures are nil, err, kind", function()
  local s = http.session({ timeout = 0.2 })
  local res = s:get(base .. "/status/500")
  t.eq(res.status, 500)
  t.eq(res.body, "status 500")
  t.eq(s:get(base .. "/status/404").status, 404)

  local v, err, kind = s:get(base .. "/slow?ms=1000&secret=1")
  t.eq(v, nil)
  t.eq(kind, "timeout")
  t.match(err, "^timeout: .+ %(" .. base:gsub("%p", "%%%0") .. "/slow%)$") -- no query in errors

  v, err, kind = s:get("http://127.0.0.1:1/x?y=1")
  t.eq(v, nil)
  t.eq(kind, "connect")
  t.match(err, "^connect: .+ %(http://127%.0%.0%.1:1/x%)$")
  err = select(2, s:get("http://bob:hunter2@127.0.0.1:1/x"))
  t.match(err, "^connect: .+ %(http://127%.0%.0%.1:1/x%)$") -- nor a password

  v, err, kind = s:get("http://no-such-host.invalid/")
  t.eq(v, nil)
  t.eq(kind, "resolve")

  t.eq(select(3, s:get("ftp://127.0.0.1/")), "protocol")
  s:close()
end)

t.test("bodies over max_body fail with too_large", function()
  local s = http.session({ max_body = 1000 })
  t.eq(#s:get(base .. "/big?bytes=1000").body, 1000)
  local _, err, kind = s:get(base .. "/big?bytes=1001") -- refused on Content-Length
  t.eq(kind, "too_large")
  t.match(err, "^too_large: response body over 1000 bytes %(")
  _, _, kind = s:get(base .. "/big?bytes=5000000&chunked=1") -- no length: cut while reading
  t.eq(kind, "too_large")
  t.eq(#s:get(base .. "/big?bytes=5000&chunked=1", { max_body = 5000 }).body, 5000)
  t.eq(s:get(base .. "/echo").status, 200) -- the session goes on
  s:close()
end)

-- Connections and TLS. Each test runs over HTTP and over HTTPS (a CA made
-- for the run, trusted through cafile = ca.bundle).
local ca = test_ca.make()
local tls_srv = t.server(SERVER .. " --tls " .. ca.server)
local UPSTREAMS = {
  { scheme = "http", base = base, opts = {} },
  { scheme = "https", base = "https://127.0.0.1:" .. tls_srv.port, opts = { cafile = ca.bundle } },
}

-- http.session(opts) with the upstream's TLS options added.
local function session_for(up, opts)
  local all = {}
  for k, v in pairs(up.opts) do all[k] = v end
  for k, v in pairs(opts or {}) do all[k] = v end
  return http.session(all)
end

local function conn(res)
  t.ok(res and res.status == 200, "no /conn answer")
  return json.decode(res.body)
end

local function stats(up, reset)
  local s <close> = session_for(up)
  return json.decode(assert(s:get(up.base .. "/stats" .. (reset and "?reset=1" or ""))).body)
end

t.test("public_only: no connection to loopback, private, link-local or reserved addresses", function()
  local s <close> = http.session { public_only = true, timeout = 5 }
  stats(UPSTREAMS[1], true)
  for _, url in ipairs { base .. "/", "http://localhost:" .. srv.port .. "/", "http://[::1]:1/",
                         "http://10.1.2.3/", "http://172.16.0.1/", "http://192.168.1.1/", "http://169.254.169.254/",
                         "http://100.64.0.1/", "http://0.0.0.0/", "http://224.0.0.1/", "http://[fd00::1]/",
                         "http://[fe80::1]/", "http://[::ffff:127.0.0.1]/" } do
    local res, err, kind = s:get(url)
    t.eq({ res, kind }, { nil, "connect" }, url)
    t.match(err, "^connect: [%x.:]+ is not a public address %(the session is public_only%) %(", url)
  end
  t.eq(stats(UPSTREAMS[1]).connections, 0, "none reached the server")
  -- by default a session connects anywhere; a kept connection never carries a public_only request
  local open <close> = http.session()
  t.eq(assert(open:get(base .. "/status/204")).status, 204)
  t.eq(select(3, s:get(base .. "/status/204")), "connect")
  -- the same judgement, for a literal address
  for ip, public in pairs { ["8.8.8.8"] = true, ["1.1.1.1"] = true, ["172.32.0.1"] = true, ["100.128.0.1"] = true,
                            ["2001:4860:4860::8888"] = true, ["127.0.0.1"] = false, ["10.255.0.1"] = false,
                            ["172.31.255.255"] = false, ["192.168.0.1"] = false, ["169.254.169.254"] = false,
                            ["100.64.0.1"] = false, ["0.0.0.0"] = false, ["255.255.255.255"] = false,
                            ["::1"] = false, ["::"] = false, ["fc00::1"] = false, ["fe80::1"] = false,
                            ["::ffff:10.0.0.1"] = false, ["::ffff:8.8.8.8"] = true } do
    t.eq(http.is_public_address(ip), public, ip)
  end
  t.eq({ http.is_public_address("localhost"), http.is_public_address("1.2.3"), http.is_public_address("") }, {})
  local ok, e = pcall(http.session, { public_only = "yes" })
  t.eq(ok, false)
  t.match(e, "'public_only' must be a boolean")
end)

for _, up in ipairs(UPSTREAMS) do
  local b, label = up.base, " (" .. up.scheme .. ")"

  t.test("connections outlive sessions: the next session reuses them" .. label, function()
    local first = session_for(up)
    local c1 = conn(first:get(b .. "/conn"))
    first:close()
    local second <close> = session_for(up)
    local c2 = conn(second:get(b .. "/conn"))
    t.eq(c2.id, c1.id, "the same connection")
    t.eq(c2.served, c1.served + 1)
    -- a batch takes the kept connection and opens only what it lacks
    local reqs = {}
    for i = 1, 4 do reqs[i] = { url = b .. "/conn" } end
    local ids = {}
    for _, res in ipairs(second:request_all(reqs)) do ids[conn(res).id] = true end
    t.ok(ids[c1.id], "the batch used the kept connection")
  end)

  t.test("sessions sharing a connection keep their own cookies" .. label, function()
    local a <close> = session_for(up)
    local bb <close> = session_for(up)
    local none <close> = session_for(up)
    t.eq(a:get(b .. "/set-cookie?sid=alice").status, 200)
    t.eq(bb:get(b .. "/set-cookie?sid=bob").status, 200)
    local seen = {}
    for round = 1, 3 do
      for _, pair in ipairs { { a, "alice" }, { bb, "bob" } } do
        local res = pair[1]:get(b .. "/needs-cookie?name=sid&round=" .. round)
        t.eq({ res.status, res.body }, { 200, pair[2] })
      end
      local res = none:get(b .. "/echo")
      t.eq(echo(res).headers.cookie, nil, "a session without cookies sends none")
      seen[conn(a:get(b .. "/conn")).id] = true
      seen[conn(none:get(b .. "/conn")).id] = true
    end
    local n = 0
    for _ in pairs(seen) do n = n + 1 end
    t.eq(n, 1, "all of it went over one connection")
  end)

  t.test("a kept connection the server drops: idempotent requests go again, writes never" .. label, function()
    -- a server of its own, so that no connection is kept to it yet
    local srv <close> = setmetatable(t.server(SERVER .. (up.scheme == "https" and " --tls " .. ca.server or "")),
      { __close = function(x) x.stop() end })
    local own = { scheme = up.scheme, base = up.scheme .. "://127.0.0.1:" .. srv.port, opts = up.opts }
    local u = own.base .. "/drop-reused"
    local s <close> = session_for(own)
    t.eq(s:get(u).body, "fresh") -- connection A, kept
    -- on A, which the server drops unanswered: sent again on a new one, B
    t.eq(s:request { url = u, method = "POST", body = "x", idempotent = true }.body, "fresh")
    t.eq(stats(own).drop_reused, 3, "the POST marked idempotent was received twice")
    t.eq(s:get(u).body, "fresh") -- B dropped, C
    t.eq(stats(own).drop_reused, 5, "the GET was received twice")
    -- writes never go out on a kept connection (C stays unused), so they are
    -- never sent twice, and one the server drops fails
    t.eq(s:post(u, { body = "x" }).body, "fresh")
    t.eq(s:request { url = u, method = "PUT", idempotent = false }.body, "fresh")
    t.eq(stats(own).drop_reused, 7, "each write received once")
    local res, err, kind = s:post(own.base .. "/drop", { form = { absence = "2024-01-15" } })
    t.eq({ res, kind }, { nil, "protocol" })
    t.match(err, "^protocol: ")
    t.eq(stats(own).drop, 1, "the dropped POST was received once")
  end)

  t.test("a batch started from another batch's on_progress runs beside it" .. label, function()
    local outer <close> = session_for(up)
    local inner <close> = session_for(up)
    local got = {}
    local results = outer:request_all({ { url = b .. "/slow?ms=100" }, { url = b .. "/slow?ms=300" } }, {
      on_progress = function(n)
        if n == 1 then got = inner:request_all { { url = b .. "/echo?inner=1" }, { url = b .. "/echo?inner=2" } } end
      end,
    })
    t.eq({ results[1].body, results[2].body }, { "slow", "slow" })
    t.eq({ echo(got[1]).query, echo(got[2]).query }, { "inner=1", "inner=2" })
    t.eq(inner:get(b .. "/echo").status, 200)
  end)
end

t.test("TLS: certificates are checked against the system bundle, cafile, or not at all", function()
  local url = UPSTREAMS[2].base .. "/echo"
  local system <close> = http.session()
  local v, err, kind = system:get(url)
  t.eq({ v, kind }, { nil, "tls" })
  t.match(err, "^tls: .*certificate")
  local school <close> = http.session { cafile = ca.bundle }
  t.eq(echo(school:get(url)).path, "/echo")
  local only_ca <close> = http.session { cafile = ca.ca } -- a bundle of one certificate
  t.eq(echo(only_ca:get(url)).path, "/echo")
  local insecure <close> = http.session { verify = false }
  t.eq(echo(insecure:get(url)).path, "/echo")
  -- the connections verified (or not) above are never lent to a session
  -- that trusts less: each still fails on its own
  local again <close> = http.session()
  t.eq(select(3, again:get(url)), "tls")
  -- 127.0.0.1 is in the certificate, another name for it is not
  local wrong_name <close> = http.session { cafile = ca.bundle }
  t.eq(select(3, wrong_name:get("https://127.0.0.1.nip.invalid:" .. tls_srv.port .. "/echo")), "resolve")
end)

t.test("TLS: a CA bundle changed on disk is read again for new connections", function()
  local dir = t.tmpdir()
  local file = dir .. "/bundle.pem"
  write(file, slurp(test_ca.SYSTEM_BUNDLE))
  local url = UPSTREAMS[2].base .. "/echo"
  local s = http.session { cafile = file }
  t.eq(select(3, s:get(url)), "tls")
  s:close()
  t.sleep(0.01) -- a new modification time
  write(file, slurp(test_ca.SYSTEM_BUNDLE) .. slurp(ca.ca))
  s = http.session { cafile = file }
  t.eq(echo(s:get(url)).path, "/echo")
  s:close()
  os.execute("rm -rf " .. dir)
end)

t.test("cafile and SIS_CA_FILE name a readable PEM bundle", function()
  local dir = t.tmpdir()
  write(dir .. "/empty.pem", "no certificate here\n")
  write(dir .. "/broken.pem", "-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n")
  t.raises(function() http.session { cafile = dir .. "/missing.pem" } end, "'cafile': cannot read '.*missing.pem': No such file")
  t.raises(function() http.session { cafile = dir .. "/empty.pem" } end, "holds no PEM certificate")
  t.raises(function() http.session { cafile = dir .. "/broken.pem" } end, "not a readable PEM certificate bundle")
  t.raises(function() http.session { cafile = "" } end, "'cafile' must be a file name")
  t.raises(function() http.session { cafile = 1 } end, "'cafile' must be a string")
  write(dir .. "/probe.lua", 'local http = require "sis.http"\n'
    .. 'local s = http.session()\n'
    .. 'local res, err, kind = s:get(arg[1])\n'
    .. 'print(res and res.status or kind)\n')
  local probe = t.sis .. " run " .. dir .. "/probe.lua " .. UPSTREAMS[2].base .. "/echo"
  local code, out = t.exec("SIS_CA_FILE=" .. ca.bundle .. " " .. probe)
  t.eq({ code, out }, { 0, "200\n" }, "SIS_CA_FILE is every session's default")
  code, out = t.exec(probe)
  t.eq({ code, out }, { 0, "tls\n" })
  code, out = t.exec(probe:gsub(" run ", " --ca-file " .. ca.bundle .. " run ", 1))
  t.eq({ code, out }, { 0, "200\n" }, "--ca-file sets SIS_CA_FILE")
  local err
  code, out, err = t.exec("SIS_CA_FILE=" .. dir .. "/missing.pem " .. probe)
  t.ok(code ~= 0, "a missing SIS_CA_FILE stops the script")
  t.match(err, "SIS_CA_FILE %(%-%-ca%-file%): cannot read '.*missing.pem'")
  os.execute("rm -rf " .. dir)
end)

t.test("record, then replay with the server stopped", function()
  local up = t.server(SERVER)
  with_cassette(function(tmp)
    local dir = tmp .. "/cassette" -- created by http.record
    local live = {}
    t.eq(http.record(dir), true)
    local s = http.session()
    local login = s:post(up.url .. "/redirect?to=/set-cookie%3Fsid%3Drec-1",
                         { form = { user = "jo", password = "hunter2-secret" } })
    live.login = { login.status, login.body, login.url }
    live.echo = s:get(up.url .. "/echo", { query = { page = 1 } }).body
    live.again = s:get(up.url .. "/echo", { query = { page = 2 } }).body
    live.err = select(2, s:get(up.url .. "/slow?ms=500", { timeout = 0.05 }))
    local all = s:request_all({ { url = up.url .. "/status/500" }, { url = up.url .. "/multi-header" } })
    live.all = { all[1].status, all[1].body, all[2].headers }
    live.jar = s:export_cookies()
    s:close()
    http.live()
    up.stop()

    -- the cassette: numbered entries, and no password or cookie header on disk
    local names = files_in(dir)
    t.eq(#names, 12)
    t.eq(names[1], "0001.body")
    t.eq(names[2], "0001.json")
    local meta = json.decode(slurp(dir .. "/0001.json"))
    t.eq(meta.method, "POST")
    t.eq(meta.url, up.url .. "/redirect?to=/set-cookie%3Fsid%3Drec-1")
    t.match(meta.body_sha1, "^%x+$")
    t.eq(#meta.body_sha1, 40)
    t.eq(meta.final_url, up.url .. "/set-cookie?sid=rec-1")
    t.eq(meta.set_cookies, { { up.url .. "/set-cookie?sid=rec-1", "sid=***; Path=/" } })
    t.eq(slurp(dir .. "/0001.body"), "sid=rec-1\n")
    local p = io.popen("cat " .. dir .. "/*")
    local all_text = p:read("a")
    p:close()
    t.ok(not all_text:find("hunter2", 1, true), "a password landed on disk")
    t.ok(not all_text:lower():find("cookie:", 1, true), "a Cookie header landed on disk")
    -- cookie values the server set are masked (only the echoing body holds it)
    local metas = io.popen("cat " .. dir .. "/*.json")
    local meta_text = metas:read("a")
    metas:close()
    t.ok(not meta_text:find("sid=rec-1;", 1, true), "a Set-Cookie value landed on disk")

    t.eq(http.replay(dir), true)
    s = http.session()
    -- any password matches: bodies are keyed on their redacted form
    login = s:post(up.url .. "/redirect?to=/set-cookie%3Fsid%3Drec-1",
                   { form = { user = "jo", password = "another" } })
    t.eq({ login.status, login.body, login.url }, live.login)
    t.eq(s:cookie("sid"), "***")
    t.eq(s:get(up.url .. "/echo", { query = { page = 1 } }).body, live.echo)
    t.eq(s:get(up.url .. "/echo", { query = { page = 2 } }).body, live.again)
    t.eq(select(2, s:get(up.url .. "/slow?ms=500", { timeout = 0.05 })), live.err)
    all = s:request_all({
      { url = up.url .. "/status/500" }, { url = up.url .. "/multi-header" }, { url = up.url .. "/unknown" },
    })
    local masked = {} -- Set-Cookie values come back as recorded: masked
    for i, c in ipairs(live.all[3]["set-cookie"]) do masked[i] = c:gsub("^([^=;]+)=[^;]*", "%1=***") end
    live.all[3]["set-cookie"] = masked
    t.eq({ all[1].status, all[1].body, all[2].headers }, live.all)
    t.eq(all[3].kind, "replay_miss")
    t.match(all[3].error, "^replay_miss: GET .+/unknown is not in the cassette")
    local v, err, kind = s:get(up.url .. "/echo?never=1")
    t.eq(v, nil)
    t.eq(kind, "replay_miss")
    t.match(err, "^replay_miss: ")
    t.eq(s:export_cookies(), (live.jar:gsub("\t[^\t\n]*\n", "\t***\n")), "every cookie, its value masked")
    s:close()
  end)
  -- back to live: the stopped server is unreachable again
  t.eq(select(3, http.session():get(up.url .. "/echo")), "connect")
end)

t.test("a password nested in a form field is redacted before the body is hashed", function()
  -- Focus's login: data=<a query string holding the password>, so the
  -- cassette's SHA-1 would otherwise be a guessing oracle for the password
  local codec = require "sis.codec"
  local function login(s, password)
    local data = http.encode_query({ { "username", "jo" }, { "password", password } })
    return s:post(base .. "/echo", { form = { { "login", "true" }, { "data", data } } })
  end
  with_cassette(function(dir)
    t.eq(http.record(dir), true)
    local s = http.session()
    local live = login(s, "p@ss w0rd").body
    s:close()
    local meta = json.decode(slurp(dir .. "/0001.json"))
    t.eq(meta.body_sha1, codec.sha1_hex("login=true&data=username%3Djo%26password%3D***"))
    t.eq(http.replay(dir), true)
    s = http.session()
    t.eq(login(s, "another one").body, live)
    s:close()
  end)
end)

t.test("identical requests replay in recorded order, then repeat the last", function()
  with_cassette(function(dir)
    local s = http.session()
    http.record(dir)
    s:get(base .. "/set-cookie?n=1")
    s:get(base .. "/status/500")
    s:get(base .. "/set-cookie?n=1")
    write(dir .. "/0003.body", "second") -- make the two answers to the same request differ
    http.replay(dir)
    t.eq(s:get(base .. "/set-cookie?n=1").body, "n=1\n")
    t.eq(s:get(base .. "/set-cookie?n=1").body, "second")
    t.eq(s:get(base .. "/set-cookie?n=1").body, "second")
    local all = s:request_all({ { url = base .. "/status/500" }, { url = base .. "/status/500" } })
    t.eq({ all[1].status, all[2].status }, { 500, 500 })
    s:close()
  end)
end)

t.test("replay keeps header bytes that are not UTF-8", function()
  with_cassette(function(dir)
    local s = http.session()
    http.record(dir)
    t.eq(s:get(base .. "/latin1-header").headers["x-name"], "caf\xe9")
    http.replay(dir)
    t.eq(s:get(base .. "/latin1-header").headers["x-name"], "caf\xe9")
    s:close()
  end)
end)

t.test("SIS_HTTP_REPLAY replays a cassette for a whole process", function()
  with_cassette(function(dir)
    http.record(dir)
    http.session():get(base .. "/echo?from=env")
    http.live()
    local script = dir .. "/replay.lua"
    write(script, string.format([[
      local s = require("sis.http").session()
      local res = s:get(%q)
      print(res.status, select(3, s:get(%q)))
    ]], base .. "/echo?from=env", base .. "/echo?other"))
    local code, out, err = t.exec(string.format("SIS_HTTP_REPLAY=%s %s run %s", dir, t.sis, script))
    t.eq(err, "")
    t.eq(code, 0)
    t.eq(out, "200\treplay_miss\n")
    -- the command line refuses both, and a missing cassette, as usage errors
    code, _, err = t.exec(string.format("SIS_HTTP_REPLAY=%s SIS_HTTP_RECORD=%s %s run %s", dir, dir, t.sis, script))
    t.eq(code, 2)
    t.match(err, "%-%-record and %-%-replay %(SIS_HTTP_RECORD, SIS_HTTP_REPLAY%) exclude each other")
    code, _, err = t.exec(string.format("%s --replay %s/missing run %s", t.sis, dir, script))
    t.eq(code, 2)
    t.match(err, "cannot replay .*/missing")
  end)
end)

t.test("record and replay refuse unusable directories and cassettes", function()
  with_cassette(function(dir)
    t.fails("cannot replay", http.replay(dir .. "/missing"))
    write(dir .. "/file", "")
    t.fails("cannot record to", http.record(dir .. "/file/sub"))
    t.fails("cannot record to : No such file", http.record("")) -- read past the path (valgrind)
    local bad = dir .. "/bad"
    os.execute("mkdir " .. bad)
    write(bad .. "/0001.json", "{not json")
    t.fails("bad cassette entry .*0001%.json", http.replay(bad))
    write(bad .. "/0001.json", '{"method": "GET"}')
    t.fails("field 'url' is missing", http.replay(bad))
    -- a failed switch keeps the mode: still live
    t.eq(http.session():get(base .. "/echo").status, 200)
  end)
end)

t.test("a closed session raises; close is idempotent", function()
  local s = http.session()
  t.match(tostring(s), "^sis%.http%.session %(0x")
  s:close()
  s:close()
  t.eq(tostring(s), "sis.http.session (closed)")
  t.raises(function() s:get(base .. "/echo") end, "attempt to use a closed sis.http.session", true)
  t.raises(function() s:cookies() end, "closed")
  do
    local scoped <close> = http.session()
    t.eq(scoped:get(base .. "/echo").status, 200)
    s = scoped
  end
  t.raises(function() s:request_all({}) end, "closed")
end)

t.test("a session closed while its request is read raises (no use after free)", function()
  local function closing(s)
    return setmetatable({}, { __index = function(_, k)
      if k == "url" then s:close(); return base .. "/echo" end
    end })
  end
  local s = http.session({ headers = { ["X-A"] = "1" } })
  t.raises(function() s:request(closing(s)) end, "attempt to use a closed sis.http.session", true)
  s = http.session({ headers = { ["X-A"] = "1" } })
  t.raises(function() s:request_all({ closing(s) }) end, "attempt to use a closed sis.http.session", true)
end)

t.test("bad arguments raise", function()
  local s = http.session()
  t.raises(function() http.session({ bogus = 1 }) end, "unknown field 'bogus'")
  t.raises(function() http.session({ timeout = "5" }) end, "'timeout' must be a number of seconds")
  t.raises(function() http.session({ timeout = 0 }) end, "'timeout'")
  t.raises(function() http.session({ per_host = 0 }) end, "'per_host' must be a positive integer")
  t.raises(function() http.session({ verify = "no" }) end, "'verify' must be a boolean")
  t.raises(function() http.session("x") end, "table expected")
  t.raises(function() s:request({}) end, "'url' %(a string%) is required")
  t.raises(function() s:request("http://x/") end, "table expected")
  t.raises(function() s:request({ url = base, bogus = true }) end, "unknown field 'bogus'")
  t.raises(function() s:request({ url = base, form = {}, body = "x" }) end, "only one of form, json, multipart and body")
  t.raises(function() s:request({ url = base, body = 3 }) end, "'body' must be a string")
  t.raises(function() s:request({ url = base, query = "a=1" }) end, "'query' must be a table")
  t.raises(function() s:request({ url = base, query = { a = {} } }) end, "query value of type table")
  t.raises(function() s:request({ url = base, query = { [1.5] = 1 } }) end, "keys must be strings")
  t.raises(function() s:request({ url = base, headers = { ["X-A"] = "1\r\nX-B: 2" } }) end, "invalid header")
  t.raises(function() s:request({ url = base, headers = { ["Bad Name"] = "1" } }) end, "invalid header")
  -- the User-Agent is a header too: no header injection through it
  t.raises(function() http.session({ user_agent = "ua\r\nX-Injected: yes" }) end, "must be a single line")
  t.raises(function() http.session({ user_agent = "ua\0tail" }) end, "must be a single line")
  t.raises(function() s:request({ url = base, method = "GET /x" }) end, "invalid method")
  t.raises(function() s:request({ url = base, max_body = -1 }) end, "'max_body'")
  t.raises(function() s:get(base, { url = base }) end, "url and method are given by the call")
  t.raises(function() s:get() end, "string expected")
  t.raises(function() s:request_all({ "x" }) end, "request 1 is not a table")
  t.raises(function() s:request_all({ { url = base }, { nope = 1 } }) end, "request 2: unknown field 'nope'")
  t.raises(function() s:request_all({}, { on_progress = 1 }) end, "'on_progress' must be a function")
  t.raises(function() s:request_all({}, { bogus = 1 }) end, "unknown field 'bogus'")
  t.raises(function() s:cookie() end, "string expected")
  t.raises(function() http.encode_query("a") end, "table expected")
  t.raises(function() s.get({}, base) end, "sis.http.session expected")
  -- the session still works after all of that
  t.eq(s:get(base .. "/echo").status, 200)
  s:close()
end)
