-- focus.client / focus.service / focus.rest / sis focus against the fake Focus:
-- login, re-login, logout, marking periods, parallel fan-outs, failures.
local t = require "testlib"
local json = require "sis.json"
local http = require "sis.http"
local codec = require "sis.codec"
local focus = require "focus.service"
local fake = require "focus_fake"

local expected, login, call_ok = fake.expected, fake.login, fake.call_ok

local function selected_mp(body)
  for id, mp in pairs(body.mps or {}) do
    if mp.selected then return mp.year, id end
  end
end

-- The call must answer `status` with an error message matching `pattern`.
local function call_fails(state, endpoint, status, pattern)
  local got, body = focus.call(state, endpoint)
  t.eq(got, status, endpoint .. ": " .. t.show(body))
  t.match(body.error, pattern)
end

t.test("a password with & = + % and spaces logs in (inner data query string encoded)", function()
  local pw = "p&ss=w+rd%20 100%"
  local server = fake.start("--password '" .. pw .. "'")
  local state = assert(login(server, { password = pw }))
  t.eq(call_ok(state, "portal").courses["24101"].name, "Learning Studio")
  t.eq(server.stats().logins, 1)
  -- the corpus password no longer works on that server
  local none, status, msg = login(server)
  t.eq({ none, status, msg }, { nil, 401, "Invalid credentials" })
end)

t.test("bad credentials: 401, Focus saw the refused login", function()
  local server = fake.start()
  local state, status, msg = login(server, { password = "not-the-password" })
  t.eq({ state, status, msg }, { nil, 401, "Invalid credentials" })
  local stats = server.stats()
  t.eq({ stats.logins, stats.login_failures }, { 0, 1 })
end)

t.test("expired Focus session: transparent re-login and one retry", function()
  local server = fake.start()
  local state = assert(login(server))
  server.fault("expire", "Portal.php", "&count=1") -- Focus forgets the session
  t.eq(call_ok(state, "portal"), expected("portal"))
  local stats = server.stats()
  t.eq(stats.logins, 2, "second login")
  t.eq(stats.redirects_to_login, 1)
end)

t.test("a login page answered with 200 after a byte-order mark is an expired session too", function()
  local server = fake.start()
  local state = assert(login(server))
  server.fault("login_page", "Portal.php", "&count=1")
  t.eq(call_ok(state, "portal"), expected("portal"))
  t.eq(server.stats().logins, 2, "logged in again")
end)

t.test("re-login keeps the chosen marking period", function()
  local server = fake.start()
  local state = assert(login(server))
  t.eq(call_ok(state, "set_marking_period", { year = 2015, mp_id = 315 }), expected("mp315_portal"))
  server.fault("expire", "Portal.php", "&count=1")
  t.eq(call_ok(state, "portal"), expected("mp315_portal"))
  server.fault("expire", "Calendar.php", "&count=3") -- fan-out pages expire as well
  local year = call_ok(state, "calendar", { year = 2017 })
  t.eq({ selected_mp(year) }, { 2015, "315" })
  t.eq(server.stats().logins, 3)
end)

t.test("re-login with a password that no longer works: 401", function()
  local server = fake.start()
  local state = assert(login(server))
  state.password = "changed-meanwhile"
  server.fault("expire", "Schedule.php", "&count=1")
  call_fails(state, "schedule", 401, "^Invalid credentials$")
end)

t.test("logout ends the Focus session; its cookie is then sent to the login page", function()
  local server = fake.start()
  local state = assert(login(server))
  call_ok(state, "schedule")
  local cookies = state.cookies
  t.ok(focus.logout(state))
  local stats = server.stats()
  t.eq({ stats.logouts, stats.sessions }, { 1, 0 })
  local s <close> = http.session()
  s:import_cookies(cookies)
  local res = assert(s:get(server.url .. "/focus/Modules.php?modname=misc/Portal.php", { redirects = false }))
  t.eq(res.status, 302)
  t.eq(res.headers.location, "index.php")
end)

t.test("marking periods: switch, pages follow, year fallback is a 400", function()
  local server = fake.start()
  local state = assert(login(server))
  t.eq(call_ok(state, "set_marking_period", { year = 2015, mp_id = 314 }), expected("session_put_2015_314"))
  t.eq({ state.year, state.mp }, { 2015, "314" })
  -- a page served in every marking period shows the session's year in its side selects
  t.eq({ selected_mp(call_ok(state, "schedule")) }, { 2015, "314" })
  -- 315 is not a 2016 marking period: Focus falls back to 2016's last one
  local status, body = focus.call(state, "set_marking_period", { year = 2016, mp_id = 315 })
  t.eq({ status, body }, { 400, { error = "Bad request" } })
  t.eq({ state.year, state.mp }, { 2016, "326" })
  -- redirect forms: README's course/<id>, the API's courses/<id>, /api/v3/ prefix
  for _, r in ipairs { "course/24137", "courses/24137", "/api/v3/courses/24137", "API/V3/Courses/24137/" } do
    t.eq(call_ok(state, "set_marking_period", { year = 2016, mp_id = 325, redirect = r }),
      expected("session_put_2016_325_redirect_course_24137"), r)
  end
  for _, r in ipairs { "nowhere", "courses/abc", "portal/x", "" } do
    status = focus.call(state, "set_marking_period", { year = 2016, mp_id = 325, redirect = r })
    t.eq(status, 400, "redirect " .. r)
  end
end)

t.test("fan-outs run at once: all course pages, the 12 months of a year", function()
  local server = fake.start("--latency 100")
  local state = assert(login(server))
  server.stats(true)
  t.eq(call_ok(state, "courses"), expected("courses"))
  local stats = server.stats(true)
  t.eq(stats.requests, 8, "the portal and 7 course pages")
  t.ok(stats.max_in_flight >= 7, "course pages in flight together: " .. stats.max_in_flight)
  local progress = {}
  local status, body = focus.call(state, "calendar", { year = 2017 }, {
    on_progress = function(done, total) progress[#progress + 1] = { done, total } end,
  })
  t.eq(status, 200)
  t.eq(body, json.decode(t.fixture("focus/expected/derived/calendar_2017.json")))
  stats = server.stats()
  t.eq(stats.requests, 12)
  t.ok(stats.max_in_flight >= 12, "months in flight together: " .. stats.max_in_flight)
  t.eq(progress[#progress], { 12, 12 })
end)

t.test("courses: the pages of the last call's courses go with the portal; added ones after, dropped ones dropped", function()
  local server = fake.start("--latency 100")
  local state = assert(login(server))
  local want = expected("courses")
  local ids = {}
  for id in pairs(want.courses) do ids[#ids + 1] = id end
  table.sort(ids)
  t.eq(#ids, 7)
  t.eq(call_ok(state, "courses"), want) -- the portal, then the 7 pages
  t.eq(state.course_ids, ids)
  server.stats(true)
  t.eq(call_ok(state, "courses"), want)
  local stats = server.stats(true)
  t.eq({ stats.requests, stats.max_in_flight }, { 8, 8 }, "the portal and the 7 pages in one round trip")
  -- the last call knew a course the portal no longer lists, and not one it lists
  state.course_ids = { "99999", table.unpack(ids, 2) }
  t.eq(call_ok(state, "courses"), want, "exactly the portal's courses")
  stats = server.stats(true)
  t.eq(stats.requests, 9, "portal + 6 known + the dropped one, then the added one")
  t.eq(state.course_ids, ids)
end)

t.test("demographic: page then photo; page and photo at once once the photo URL is known", function()
  local server = fake.start()
  local state = assert(login(server))
  local photo = codec.base64_encode(t.fixture("focus/pages/417.JPG"))
  server.stats(true)
  local first = call_ok(state, "demographic")
  t.eq(first.picture, photo)
  t.eq(first, expected("demographic"))
  t.eq(state.photo_url, server.base .. "photos/2016/417.JPG")
  t.eq(server.stats(true).requests, 2)
  t.eq(call_ok(state, "demographic"), first)
  t.eq(server.stats().requests, 2)
  -- a stale cached URL is replaced by the page's
  state.photo_url = server.base .. "photos/2015/417.JPG"
  t.eq(call_ok(state, "demographic"), first)
  t.eq(state.photo_url, server.base .. "photos/2016/417.JPG")
end)

t.test("final grades: page first, then the signed API call; any student id length", function()
  -- a copy of the corpus whose student id has 5 digits (the original read 3 characters, B9)
  local dir = t.tmpdir()
  os.execute(string.format("cp -r %s/tests/fixtures/focus/pages %s/", t.root, dir))
  local m = fake.manifest
  local manifest = json.decode(json.encode(m))
  manifest.student_id = "41742"
  local f = assert(io.open(dir .. "/pages/manifest.json", "w"))
  f:write(json.encode(manifest))
  f:close()
  local page = t.fixture("focus/pages/StudentRCGrades.html"):gsub('"student_id":"417"', '"student_id":"41742"')
  f = assert(io.open(dir .. "/pages/StudentRCGrades.html", "w"))
  f:write(page)
  f:close()
  local server = fake.start("--pages " .. dir .. "/pages")
  local state = assert(login(server))
  t.eq(call_ok(state, "exams"), expected("exams"))
  t.eq(state.student_id, "41742")
  server.stats(true)
  t.eq(call_ok(state, "final_grades", { id = "205253" }), expected("final_grades_205253"))
  t.eq(server.stats().requests, 1, "the page is not fetched again in the same Focus session")
  os.execute("rm -rf " .. dir)
end)

t.test("upstream down: 502 with the connect error", function()
  local url = fake.dead_port_url()
  local state, status, msg = focus.login { base_url = url, username = "u", password = "p", timeout = 5 }
  t.eq({ state, status }, { nil, 502 })
  t.match(msg, "connect")
  local server = fake.start()
  state = assert(login(server))
  server.stop()
  call_fails(state, "portal", 502, "connect")
end)

t.test("upstream HTTP 500 → 502; garbage page → 502 with the parser's message", function()
  local server = fake.start()
  local state = assert(login(server))
  server.fault("500", "Portal.php", "&count=1")
  call_fails(state, "portal", 502, "HTTP 500")
  server.fault("garbage", "Schedule.php", "&count=1")
  call_fails(state, "schedule", 502, "^focus/schedule: ")
  server.fault("garbage", "APIEndpoint", "&count=1")
  call_fails(state, "exams", 502, "^focus/final_grades: ")
  -- and everything works again afterwards
  t.eq(call_ok(state, "portal"), expected("portal"))
end)

t.test("upstream too slow: 504", function()
  local server = fake.start()
  local state = assert(login(server, { timeout = 1 }))
  server.fault("hang", "Portal.php", "&count=1&delay=3")
  call_fails(state, "portal", 504, "timeout")
end)

t.test("service argument checks", function()
  local server = fake.start()
  local state = assert(login(server))
  local function status_of(endpoint, args) return (focus.call(state, endpoint, args)) end
  t.eq(status_of("calendar", { year = 2017, month = 13 }), 400)
  t.eq(status_of("calendar", { year = 2017, month = 0 }), 400)
  t.eq(status_of("calendar", { year = 2017, month = 2, day = 29 }), 400)
  t.eq(status_of("calendar", { year = 2016, month = 2, day = 29 }), 200)
  t.eq(status_of("calendar", { year = "2017" }), 400)
  t.eq(status_of("courses", { id = "abc" }), 404)
  t.eq(status_of("referrals", { id = "99999" }), 404)
  t.eq(status_of("quarter_grades", { id = "1" }), 404)
  t.eq(status_of("calendar_occasion", { id = "x" }), 400)
  t.eq(call_ok(state, "courses", { id = 24101 }), expected("courses_24101"))
  t.raises(function() focus.call(state, "nope") end, "unknown endpoint")
end)

t.test("REST: session life cycle and request validation", function()
  local server = fake.start()
  local rest = fake.rest_client { focus_url = server.base, timeout = 10 }
  local creds = { username = fake.user, password = fake.password }
  t.eq({ rest.call("GET", "/api/v3/schedule") }, { 403, { error = "Forbidden" } })
  t.eq({ rest.call("POST", "/api/v3/session", { username = fake.user }) }, { 400, { error = "Bad request" } })
  t.eq({ rest.call("POST", "/api/v3/session", { username = 1, password = "x" }) }, { 400, { error = "Bad request" } })
  t.eq({ rest.call("POST", "/api/v3/session") }, { 400, { error = "Bad request" } })
  local status, body = rest.call("POST", "/api/v3/session", creds)
  t.eq(status, 200)
  t.eq(body.username, fake.user)
  t.ok(math.type(body.timeout) == "integer" and body.timeout > os.time(), "timeout is Focus's expiry")
  t.eq((rest.call("PUT", "/api/v3/session", { year = 2016.0, mp_id = 326 })), 400)
  t.eq((rest.call("PUT", "/api/v3/session", { year = 2016, mp_id = 326, redirect = 5 })), 400)
  t.eq((rest.call("PUT", "/api/v3/session", { year = 2016, mp_id = 326, redirect = "elsewhere" })), 400)
  t.eq((rest.call("GET", "/api/v3/calendar/2017/13")), 400)
  t.eq((rest.call("GET", "/api/v3/calendar/2017/x")), 404)
  t.eq((rest.call("GET", "/api/v3/calendar/99999999999999999999999")), 400)
  t.eq((rest.call("GET", "/api/v3/courses/abc")), 404)
  t.eq({ rest.call("GET", "/api/v3/calendar/2017/2/17") },
    { 200, json.decode(t.fixture("focus/expected/derived/calendar_2017_02_17.json")) })
  -- a second login replaces the session, and logs the first out of Focus
  t.eq(server.stats().sessions, 1)
  t.eq((rest.call("POST", "/api/v3/session", creds)), 200)
  t.eq(server.stats().sessions, 1, "the replaced Focus session was logged out")
  t.eq((rest.call("GET", "/api/v3/session")), 200)
  t.eq({ rest.call("DELETE", "/api/v3/session") }, { 200, {} })
  t.eq(server.stats().sessions, 0, "Focus session ended")
  t.eq((rest.call("GET", "/api/v3/session")), 403)
  t.eq((rest.call("DELETE", "/api/v3/session")), 403)
  -- a session whose Focus password stopped working is ended
  rest.call("POST", "/api/v3/session", creds)
  rest.sessions.focus.password = "changed"
  server.fault("expire", "Portal.php", "&count=1")
  t.eq((rest.call("GET", "/api/v3/portal")), 401)
  t.eq((rest.call("GET", "/api/v3/portal")), 403)
end)

t.test("REST: no Focus URL configured", function()
  local rest = fake.rest_client {}
  local status, body = rest.call("POST", "/api/v3/session", { username = "u", password = "p" })
  t.eq(status, 503)
  t.match(body.error, "Focus URL")
end)

-- sis focus
local function sis_focus(server, args, env)
  return t.exec(string.format("%s SIS_FOCUS_PASSWORD='%s' %s focus --url %s --user %s %s </dev/null",
    env or "", fake.password, t.sis, server.base, fake.user, args))
end

t.test("sis focus: endpoints print the JSON answer", function()
  local server = fake.start()
  local code, out, err = sis_focus(server, "courses 24101")
  t.eq(code, 0, err)
  t.eq(json.decode(out), expected("courses_24101"))
  code, out, err = sis_focus(server, "calendar 2017 2")
  t.eq(code, 0, err)
  t.eq(json.decode(out), expected("calendar_2017_02"))
  code, out, err = sis_focus(server, "--year 2015 --mp 315 portal")
  t.eq(code, 0, err)
  t.eq(json.decode(out), expected("mp315_portal"))
  code, out = sis_focus(server, "calendar occasions 690")
  t.eq({ code, json.decode(out) }, { 0, expected("calendar_occasions_690") })
  t.eq(server.stats().sessions, 0, "every run logged out")
end)

t.test("sis focus: errors, help, password never from argv", function()
  local server = fake.start()
  local code, out, err = sis_focus(server, "calendar 2017 13")
  t.eq({ code, out }, { 1, "" })
  t.match(err, "400")
  code, _, err = sis_focus(server, "nonsense")
  t.eq(code, 2)
  t.match(err, "unknown endpoint")
  code, _, err = sis_focus(server, "--password x portal")
  t.eq(code, 2)
  t.match(err, "never taken from the command line")
  code, _, err = t.exec(string.format("SIS_FOCUS_PASSWORD=wrong %s focus --url %s --user %s portal",
    t.sis, server.base, fake.user))
  t.eq(code, 1)
  t.match(err, "Invalid credentials")
  -- the password on stdin when stdin is not a terminal
  code, out = t.exec(string.format("echo '%s' | %s focus --url %s --user %s portal",
    fake.password, t.sis, server.base, fake.user))
  t.eq({ code, json.decode(out) }, { 0, expected("portal") })
  code, out = t.exec(t.sis .. " focus --help")
  t.eq(code, 0)
  t.match(out, "usage: sis focus")
end)

t.test("sis focus on a terminal: password prompt without echo, progress of the fan-out", function()
  local server = fake.start()
  -- script(1) runs the command on a pseudo-terminal; the password is typed
  -- after the prompt had time to turn echo off
  local code, out = t.exec(string.format(
    "(sleep 2; echo '%s') | script -qec '%s focus --url %s --user %s calendar 2017' /dev/null",
    fake.password, t.sis, server.base, fake.user))
  t.eq(code, 0, out)
  t.match(out, "^Focus password: ")
  t.ok(not out:find(fake.password, 1, true), "the password was echoed")
  t.match(out, "\r12/12 pages\r?\n")
  local body = out:match("\n({.*})")
  t.eq(json.decode((body:gsub("\r\n", "\n"))), json.decode(t.fixture("focus/expected/derived/calendar_2017.json")))
end)
