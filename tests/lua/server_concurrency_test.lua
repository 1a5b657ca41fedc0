-- REST front under concurrency: many sessions at once never see each other's
-- data, upstream cookies included (over HTTP and HTTPS, on the upstream
-- connections the workers keep), one session's requests run one at a time (a
-- bounded queue of them), different sessions run in parallel, and a request
-- has one deadline (SIS_TIMEOUT) for its waits, its upstream calls and its
-- Lua work.
local t = require "testlib"
local http = require "sis.http"
local json = require "sis.json"
local test_ca = require "test_ca"
local H = dofile(t.root .. "/tests/lua/fixtures_server/harness.lua")

local ca = test_ca.make()
local srv = H.start({ SIS_SESSION_QUEUE = "16", SIS_CA_FILE = ca.bundle }, "--threads 16")
local short = H.start({ SIS_TIMEOUT = "1" }, "--threads 16")
local UPSTREAM = "python3 " .. t.root .. "/tests/servers/http_test_server.py"
local upstreams = {
  http = t.server(UPSTREAM),
  https = t.server(UPSTREAM .. " --tls " .. ca.server),
}
upstreams.https.url = upstreams.https.url:gsub("^http:", "https:")

-- the upstream's counters (connections accepted, ...)
local function upstream_stats(up)
  local s <close> = http.session { cafile = ca.bundle }
  return json.decode(assert(s:get(up.url .. "/stats")).body)
end

-- One http session (own cookie jar) per client, logged in with its own name.
local function clients(n, server)
  server = server or srv
  local out = {}
  for i = 1, n do
    local s = http.session { timeout = 30 }
    local name = string.format("client-%02d", i)
    local res = assert(s:post(server.url .. "/t/login", { json = { name = name, password = "pw" .. i } }))
    t.eq(res.status, 200)
    local id = s:cookie("sis_test")
    t.ok(id and #id == 32, "login cookie for " .. name)
    out[i] = { http = s, name = name, id = id }
  end
  return out
end

local function close_all(cs)
  for _, c in ipairs(cs) do c.http:close() end
end

for _, scheme in ipairs { "http", "https" } do
  t.test("50 concurrent sessions: every answer carries its own session's data and upstream cookie ("
      .. scheme .. ")", function()
    local up = upstreams[scheme]
    local before = upstream_stats(up).connections
    local cs = clients(50)
    local ids = {}
    for _, c in ipairs(cs) do
      t.ok(not ids[c.id], "ids are unique")
      ids[c.id] = true
    end
    -- 4 rounds x 50 clients in one concurrent batch; the Cookie header is the
    -- client's own (the batch session itself has an empty jar). Each answer
    -- also asks the upstream which cookie the session's requests carry.
    local batch <close> = http.session { per_host = 64, timeout = 60 }
    local reqs, owner = {}, {}
    local upstream = http.encode_query { upstream = up.url }
    for round = 1, 4 do
      for i, c in ipairs(cs) do
        reqs[#reqs + 1] = { url = srv.url .. "/t/me?wait=0.01&round=" .. round .. "&" .. upstream,
          headers = { Cookie = "sis_test=" .. c.id } }
        owner[#reqs] = i
      end
    end
    local results = batch:request_all(reqs)
    local seen = {}
    for k, res in ipairs(results) do
      t.ok(res.status, "request " .. k .. " failed: " .. tostring(res.error))
      t.eq(res.status, 200, res.body)
      local body = json.decode(res.body)
      local c = cs[owner[k]]
      t.eq({ body.name, body.upstream }, { c.name, c.name }, "answer " .. k)
      seen[c.name] = seen[c.name] or {}
      seen[c.name][#seen[c.name] + 1] = body.n
    end
    -- each session counted exactly 1..4: no lost update, no foreign request
    for _, c in ipairs(cs) do
      local ns = seen[c.name]
      table.sort(ns)
      t.eq(ns, { 1, 2, 3, 4 }, c.name)
    end
    -- 250 upstream requests from 16 workers went over the connections they keep
    local opened = upstream_stats(up).connections - before
    t.ok(opened <= 32, "upstream connections opened: " .. opened)
    close_all(cs)
  end)
end

t.test("requests of one session run one after the other", function()
  local c = clients(1)[1]
  local reqs = {}
  for i = 1, 10 do
    reqs[i] = { url = srv.url .. "/t/me?wait=0.05&i=" .. i }
  end
  -- all ten at once on the client's own session (its jar sends the cookie)
  local s <close> = http.session { per_host = 16, timeout = 60 }
  for i = 1, 10 do reqs[i].headers = { Cookie = "sis_test=" .. c.id } end
  local ns = {}
  for _, res in ipairs(s:request_all(reqs)) do
    t.eq(res.status, 200)
    ns[#ns + 1] = json.decode(res.body).n
  end
  table.sort(ns)
  t.eq(ns, { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 }) -- read-wait-write never interleaved
  local res = c.http:get(srv.url .. "/t/me")
  t.eq(json.decode(res.body).n, 11)
  close_all { c }
end)

-- Two requests that can only both succeed when they run at the same time.
local function meet(id_a, id_b, wait)
  local dir = t.tmpdir()
  local s <close> = http.session { per_host = 4, timeout = 30 }
  local function url(me, other)
    return string.format("%s/t/barrier?dir=%s&me=%s&other=%s&wait=%d", srv.url, dir, me, other, wait)
  end
  local results = s:request_all {
    { url = url("a", "b"), headers = { Cookie = "sis_test=" .. id_a } },
    { url = url("b", "a"), headers = { Cookie = "sis_test=" .. id_b } },
  }
  os.execute("rm -rf " .. dir)
  return json.decode(results[1].body).met, json.decode(results[2].body).met
end

t.test("different sessions run in parallel, one session does not", function()
  local cs = clients(2)
  local a, b = meet(cs[1].id, cs[2].id, 10)
  t.eq({ a, b }, { true, true })
  -- the same session: the second waits for the first, which gives up alone
  a, b = meet(cs[1].id, cs[1].id, 1)
  t.eq((a and 1 or 0) + (b and 1 or 0), 1)
  close_all(cs)
end)

t.test("an upstream slower than config.timeout answers 504, the worker is freed", function()
  local s <close> = http.session { timeout = 30 }
  local slow = srv.url .. "/t/sleep?s=3"
  local res = assert(s:get(short.url .. "/t/upstream?url=" .. http.encode_query { x = slow }:sub(3)))
  t.eq(res.status, 504)
  t.match(json.decode(res.body).error, "^timeout: .* %(request %x+%)$")
  res = assert(s:get(short.url .. "/t/upstream?url=" .. http.encode_query { x = srv.url .. "/t/hello" }:sub(3)))
  t.eq(res.status, 200)
  t.eq(json.decode(res.body), { status = 200 })
end)

-- issue 15: 16 concurrent requests of one cookie with a slow upstream took
-- all 16 workers and were answered one after another, the last after 48 s
-- at SIS_TIMEOUT=3.
t.test("requests of one session wait boundedly: beyond the queue 429, past the deadline 503", function()
  local c = clients(1, short)[1]
  local s <close> = http.session { per_host = 16, timeout = 60 }
  local reqs = {}
  for i = 1, 16 do reqs[i] = { url = short.url .. "/t/me?wait=0.6&i=" .. i, headers = { Cookie = "sis_test=" .. c.id } } end
  local t0 = os.time()
  local statuses, retry = {}, true
  for _, res in ipairs(s:request_all(reqs)) do
    statuses[res.status] = (statuses[res.status] or 0) + 1
    if res.status ~= 200 then
      retry = retry and res.headers["retry-after"] == "1"
      t.match(json.decode(res.body).error, res.status == 429 and "too many requests of this session" or "busy")
    end
  end
  t.ok(os.time() - t0 <= 3, "the last answer came after " .. (os.time() - t0) .. " s")
  t.ok(retry, "Retry-After on every refusal")
  -- one ran (0.6 s) while four waited, the other eleven were refused at
  -- once; the next ran past its deadline (504), the rest waited until
  -- theirs (503)
  t.eq(statuses[429], 11, "refused at once")
  t.ok((statuses[200] or 0) >= 1, "served: " .. t.show(statuses))
  t.eq((statuses[200] or 0) + (statuses[503] or 0) + (statuses[504] or 0), 5, t.show(statuses))
  close_all { c }
  -- meanwhile other sessions were not held up: the workers were free
  t.eq(H.request(short, "GET", "/t/hello").status, 200)
end)

-- issue 15: SIS_TIMEOUT was per fetch, and Lua work had no bound at all (a
-- quadratic parser held a worker for minutes).
t.test("Lua work past the deadline is stopped: 504 naming the request, the script and line in the log", function()
  local before = os.time()
  local r = H.request(short, "GET", "/t/spin")
  t.eq(r.status, 504)
  local id = r.headers["x-request-id"]
  t.eq(r.json, { error = "the request did not finish within 1 s (request " .. id .. ")" })
  t.ok(os.time() - before <= 3, "stopped late")
  local log = short.log()
  t.match(log, "%[" .. id .. "%] deadline: the request ran past its time, stopped at [^\n]*testroutes%.lua:%d+\n")
  t.match(log, "%[" .. id .. "%] GET /t/spin 504 ")
  -- a pcall in the handler cannot swallow it, and the worker serves on
  r = H.request(short, "GET", "/t/spin?pcall=1")
  t.eq(r.status, 504)
  t.eq(H.request(short, "GET", "/t/hello").status, 200)
end)

t.test("a session started by a request stopped at its deadline is dropped", function()
  local r = H.request(short, "POST", "/t/login/spin", { json = { name = "late" } })
  t.eq(r.status, 504)
  t.eq(r.headers["set-cookie"], nil)
  local log = H.stop_and_log(short)
  t.match(log, "serve: stopped %(1 sessions wiped%)") -- the one client of the queue test
end)

t.test("one request after another stays on one worker; an idle worker lets go of its Lua state, not the sessions", function()
  local idle = H.start({ SIS_WORKER_IDLE = "0.5", SIS_LOG_LEVEL = "debug" }, "--threads 8")
  local c <close> = http.session { timeout = 30 }
  t.eq(assert(c:post(idle.url .. "/t/login", { json = { name = "ada" } })).status, 200)
  -- the worker that went idle last takes the next request: its state counts on
  local counts = {}
  for i = 1, 5 do counts[i] = json.decode(assert(c:get(idle.url .. "/t/served")).body).served end
  t.eq(counts, { 1, 2, 3, 4, 5 })
  local since = require("sis.date").now()
  repeat t.sleep(0.2) until require("sis.date").now() - since > 1.5
  -- a new state answers (it counts from 1); the session was in the store
  t.eq(json.decode(assert(c:get(idle.url .. "/t/served")).body), { served = 1 })
  t.eq(json.decode(assert(c:get(idle.url .. "/t/me")).body).name, "ada")
  local log = H.stop_and_log(idle)
  t.match(log, "serve: a worker idle for 0.5 s let go of its Lua state")
end)
