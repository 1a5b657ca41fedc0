-- What users see when Focus fails or a request is wrong (issue 15 items 7-9,
-- issue 14 items 5, 6, 9, Focus side): REST error bodies in the user's terms
-- with the upstream's host, port and error text only in the log; the reasons
-- of 400s logged and printed by `sis focus` (bodies unchanged); messages
-- printed once; path arguments checked before Focus is asked anything; the
-- URL a browser shows accepted; the marking period re-read after a switch
-- whose answer failed.
local t = require "testlib"
local json = require "sis.json"
local http = require "sis.http"
local fake = require "focus_fake"
local focus = require "focus.service"

local function expected(name) return json.decode(t.fixture("focus/expected/" .. name .. ".json")) end

local function serve(focus_url, env)
  return t.server(string.format("%s %s serve --listen 127.0.0.1:0 --focus-url %s", env or "", t.sis, focus_url))
end

local function session(srv)
  local client = http.session { timeout = 30 }
  local res = assert(client:post(srv.url .. "/api/v3/session", { json = { username = fake.user, password = fake.password } }))
  assert(res.status == 200, res.body)
  -- (the request id the front adds to 5xx bodies is left out)
  return function(path)
    local r = assert(client:get(srv.url .. path))
    local body = json.decode(r.body)
    if body.error then body.error = body.error:gsub(" %(request %x+%)$", "") end
    return r.status, body
  end
end

t.test("REST 5xx bodies say what failed in the user's terms; host, port and curl text only in the log", function()
  local server = fake.start()
  local srv = serve(server.base, "SIS_TIMEOUT=1")
  local get = session(srv)
  local port = tostring(server.port)
  -- (Focus too slow: the request's deadline, SIS_TIMEOUT, words the 504)
  server.fault("hang", "Portal.php", "&count=1&delay=3")
  local status, body = get("/api/v3/portal")
  t.eq(status, 504)
  t.ok(not body.error:find("127.0.0.1", 1, true) and not body.error:find(port, 1, true), body.error)
  server.fault("500", "Portal.php", "&count=1")
  t.eq({ get("/api/v3/portal") }, { 502, { error = "Focus answered something sis cannot use: upstream answered HTTP 500" } })
  server.fault("garbage", "Schedule.php", "&count=1")
  t.eq({ get("/api/v3/schedule") },
    { 502, { error = "Focus answered a page sis cannot read: focus/schedule: no element matches 'td.LO_header'" } })
  server.stop()
  t.eq({ get("/api/v3/portal") }, { 502, { error = "Focus could not be reached" } })
  local log = srv.log()
  t.match(log, "warn  [^\n]*focus: upstream answered HTTP 500 %(http://127%.0%.0%.1:" .. port .. "/focus/Modules%.php%)")
  t.match(log, "warn  [^\n]*focus/schedule: no element matches 'td%.LO_header'")
  t.match(log, "warn  [^\n]*focus: connect: [^\n]*127%.0%.0%.1")
end)

t.test("the service's reason for a Focus too slow is in the user's terms, its detail names what timed out", function()
  local server = fake.start()
  local state = assert(focus.login { base_url = server.base, username = fake.user, password = fake.password, timeout = 1 })
  server.fault("hang", "Portal.php", "&count=1&delay=3")
  local status, body, reason, detail = focus.call(state, "portal")
  t.eq({ status, reason }, { 504, "Focus did not answer in time" })
  t.match(detail, "^focus: timeout: .*" .. server.base:gsub("%p", "%%%0"))
  t.match(body.error, "timeout")
end)

t.test("400s: focus-api's body, the reason in the log and in sis focus's message, printed once", function()
  local server = fake.start()
  local srv = serve(server.base)
  local get = session(srv)
  t.eq({ get("/api/v3/calendar/2017/13") }, { 400, { error = "Bad request" } })
  t.eq({ get("/api/v3/calendar/2017/2/30") }, { 400, { error = "Bad request" } })
  t.match(srv.log(), "info  [^\n]*focus: 400 Bad request: the month must be 1%.%.12, got 13\n")
  t.match(srv.log(), "info  [^\n]*focus: 400 Bad request: 2017%-02 has no day 30\n")
  local code, out, err = t.exec(string.format("SIS_FOCUS_PASSWORD='%s' %s focus --url %s --user %s calendar 2017 13 </dev/null",
    fake.password, t.sis, server.base, fake.user))
  t.eq({ code, out, err }, { 1, "", "sis focus: 400: Bad request: the month must be 1..12, got 13\n" })
  -- a 5xx: what happened, once (no log line repeating it, no doubled prefix)
  server.fault("500", "Portal.php", "&count=1")
  code, out, err = t.exec(string.format("SIS_FOCUS_PASSWORD='%s' %s focus --url %s --user %s portal </dev/null",
    fake.password, t.sis, server.base, fake.user))
  t.eq({ code, out, err }, { 1, "", string.format("sis focus: 502: focus: upstream answered HTTP 500 (%sfocus/Modules.php)\n", server.base) })
end)

t.test("sis focus --url as a browser shows it (.../focus/, .../focus/index.php) works; a wrong one names the URL tried", function()
  local server = fake.start()
  for _, url in ipairs { server.base .. "focus/", server.base .. "focus", server.base .. "focus/index.php",
                         server.base .. "focus/Modules.php?modname=misc/Portal.php" } do
    local code, out, err = t.exec(string.format("SIS_FOCUS_PASSWORD='%s' %s focus --url '%s' --user %s portal </dev/null",
      fake.password, t.sis, url, fake.user))
    t.eq(code, 0, url .. ": " .. err)
    t.eq(json.decode(out), expected("portal"), url)
  end
  t.eq(focus.server_root("https://focus.example.org"), "https://focus.example.org/")
  t.eq(focus.server_root("https://focus.example.org/district/focus/"), "https://focus.example.org/district/")
  local code, _, err = t.exec(string.format("SIS_FOCUS_PASSWORD='%s' %s focus --url '%snope/' --user %s portal </dev/null",
    fake.password, t.sis, server.base, fake.user))
  t.eq(code, 1)
  t.match(err, "^sis focus: login failed %(502%): focus: login answered HTTP %d+ %(" .. server.base:gsub("%p", "%%%0") ..
    "nope/focus/index%.php; the Focus URL is the server's root, as in https://focus%.example%.org/%)\n$")
end)

t.test("path arguments are checked before Focus is asked anything", function()
  local server = fake.start()
  local rest = fake.rest_client { focus_url = server.base, timeout = 10 }
  t.eq((rest.call("POST", "/api/v3/session", { username = fake.user, password = fake.password })), 200)
  local before = server.stats().requests
  for path, status in pairs {
    ["/api/v3/courses/%2e%2e"] = 404, ["/api/v3/courses/..%2F..%2Fx"] = 404, ["/api/v3/courses/1%2F2"] = 404,
    ["/api/v3/courses/-1"] = 404, ["/api/v3/referrals/abc"] = 404, ["/api/v3/exams/1.5"] = 404,
    ["/api/v3/calendar/occasions/..%2Fx"] = 400, ["/api/v3/calendar/assignments/%2e"] = 400,
    ["/api/v3/calendar/2017/%2e%2e"] = 404, ["/api/v3/calendar/2017/2/x"] = 404,
    ["/api/v3/calendar/0"] = 400, ["/api/v3/calendar/2017/0"] = 400,
  } do
    t.eq((rest.call("GET", path)), status, path)
  end
  t.eq(server.stats().requests, before, "Focus was asked nothing")
end)

t.test("after a switch whose answer failed, the next page says which period is selected", function()
  -- Focus applied the switch but answered too late: a later re-login keeps it
  local server = fake.start()
  local state = assert(focus.login { base_url = server.base, username = fake.user, password = fake.password, timeout = 1 })
  server.fault("hang", "Portal.php", "&count=1&delay=2")
  local status = focus.call(state, "set_marking_period", { year = 2015, mp_id = 315 })
  t.eq(status, 504)
  t.sleep(1.5) -- the fake finishes the switch
  server.fault("expire", "Portal.php", "&count=1")
  local got
  status, got = focus.call(state, "portal")
  t.eq(status, 200)
  t.eq(got, expected("mp315_portal"), "the period Focus switched to, kept across the re-login")
  -- Focus did not switch (its answer failed first): the next page corrects sis
  state = assert(focus.login { base_url = server.base, username = fake.user, password = fake.password, timeout = 10 })
  server.fault("500", "Portal.php", "&count=1")
  t.eq((focus.call(state, "set_marking_period", { year = 2015, mp_id = 315 })), 502)
  t.eq((focus.call(state, "schedule")), 200) -- says 2016 / 326 is selected
  server.fault("expire", "Portal.php", "&count=1")
  status, got = focus.call(state, "portal")
  t.eq({ status, got }, { 200, expected("portal") }, "the period Focus is on, not the failed one")
end)
