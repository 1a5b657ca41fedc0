-- Calendar feeds (feeds.ical, feeds.rest): the iCalendar text checked by a
-- real parser (Debian's python3-icalendar, tests/servers/ical_check.py),
-- the session calendar, private feeds with their cache, ETag and 304,
-- revocation, and ScoDoc absences as events.
local t = require "testlib"
local json = require "sis.json"
local ical = require "feeds.ical"
local V = dofile(t.root .. "/tests/lua/fixtures_server/openapi_check.lua")
local H = V.wrap(dofile(t.root .. "/tests/lua/fixtures_server/harness.lua"))
local W = dofile(t.root .. "/tests/lua/fixtures_server/watch_fakes.lua")

local ROUTES = "focus.rest,scodoc.rest,feeds.rest"

-- The parsed calendar | raises with the checker's reason.
local function parse(text)
  local dir = t.tmpdir()
  H.write(dir .. "/cal.ics", text)
  local code, out, err = t.exec("/usr/bin/python3 " .. t.root .. "/tests/servers/ical_check.py " .. dir .. "/cal.ics")
  os.execute("rm -rf " .. dir)
  if code == 3 then error("python3-icalendar is missing (make deps installs it): " .. err) end
  assert(code == 0, "not valid iCalendar: " .. err)
  return json.decode(out)
end

local function by_uid(cal)
  local out = {}
  for _, e in ipairs(cal.events) do out[e.uid] = e end
  return out
end

t.test("ical: escaping and folding survive a real parser, UTF-8 never cut", function()
  local summary = "Préparation; " .. string.rep("é", 60) .. ", fin"
  local text = ical.calendar { name = "Cal, 1", stamp = 0, events = {
    { uid = "a@sis", date = "2017-02-28", summary = summary, description = "one\ntwo, \\ three; four" },
    { uid = "b@sis", start = "2021-03-08T08:00:00", finish = "2021-03-08T12:00:00", summary = "Absence" } } }
  t.eq(parse(text), { name = "Cal, 1", events = {
    { uid = "a@sis", summary = summary, description = "one\ntwo, \\ three; four", start = "2017-02-28", ["end"] = "2017-03-01" },
    { uid = "b@sis", summary = "Absence", start = "2021-03-08T08:00:00", ["end"] = "2021-03-08T12:00:00" } } })
  t.match(text, "DTSTAMP:19700101T000000Z\r\n")
  t.eq(ical.fold(string.rep("a", 75)), string.rep("a", 75) .. "\r\n")
  t.eq(ical.fold(string.rep("a", 76)), string.rep("a", 75) .. "\r\n a\r\n")
end)

-- Every event of the fixture's 2017 calendar (the month answers' union).
local function calendar_2017()
  local all = {}
  for m = 1, 12 do
    local month = json.decode(t.fixture(string.format("focus/expected/calendar_2017_%02d.json", m)))
    for id, ev in pairs(month.events or {}) do all[id] = ev end
  end
  return all
end

local function start(fake, data, scodoc)
  return H.start { SIS_ROUTES = ROUTES, SIS_FOCUS_URL = fake and fake.base, SIS_SCODOC_URL = scodoc and scodoc.base,
                   SIS_DATA_DIR = data, SIS_WATCH_MIN_INTERVAL = "1" }
end

-- A fake Focus and sis serve on a fresh data directory; logged in unless
-- `anonymous`. → fake, data, jar, srv
local function focus_server(anonymous)
  local fake = W.focus()
  local data = t.tmpdir()
  local jar = data .. "/jar"
  local srv = start(fake, data)
  if not anonymous then W.login(H, srv, jar) end
  return fake, data, jar, srv
end

t.test("GET /api/v3/calendar.ics: one event per assignment and occasion, course and notes", function()
  local _, data, jar, srv = focus_server(true)
  t.eq(H.request(srv, "GET", "/api/v3/calendar.ics?year=2017").status, 403)
  W.login(H, srv, jar)
  local r = H.request(srv, "GET", "/api/v3/calendar.ics?year=2017", { jar = jar })
  t.eq({ r.status, r.headers["content-type"] }, { 200, "text/calendar; charset=utf-8" })
  local cal = parse(r.body)
  local want = calendar_2017()
  local n = 0
  for _ in pairs(want) do n = n + 1 end
  t.eq(#cal.events, n)
  local events = by_uid(cal)
  for id, ev in pairs(want) do
    local e = events[string.format("focus-%s-%s@sis", ev.type, id)]
    t.ok(e, "event " .. id)
    t.eq(e.start, ev.date)
  end
  -- an assignment of the gradebook: its course in the summary, its notes in the description
  t.eq(events["focus-assignment-93164@sis"], { uid = "focus-assignment-93164@sis", start = "2017-02-24", ["end"] = "2017-02-25",
    summary = "Learning Studio: Project Proposal 8", categories = { "Project Work" },
    description = "Minimum one page, double spaced. Cite any sources you use." })
  t.eq(events["focus-occasion-721@sis"].description, "Cafeteria, 6:00 PM")
  t.eq(parse(H.request(srv, "GET", "/api/v3/calendar.ics?year=2017", { jar = jar }).body), cal, "stable UIDs")
  t.eq(H.request(srv, "GET", "/api/v3/calendar.ics?year=abc", { jar = jar }).status, 400)
  srv.stop()
  os.execute("rm -rf " .. data)
end)

t.test("private feeds: a token URL without cookie, cached, ETag and 304, revoked by DELETE", function()
  local fake, data, jar, srv = focus_server()
  local r = H.request(srv, "POST", "/api/v3/feeds", { jar = jar, json = { year = 2017, interval = 3600 } })
  t.eq(r.status, 201)
  local feed = r.json
  t.match(feed.path, "^/feeds/%x+%.ics$")
  t.eq(#feed.path, #"/feeds/.ics" + 32, "a 128-bit token")
  t.eq(feed.url, srv.url .. feed.path)
  t.eq({ feed.interval, feed.target }, { 3600, { year = 2017 } })
  fake.stats(true)
  local first = H.request(srv, "GET", feed.path)
  t.eq({ first.status, first.headers["content-type"] }, { 200, "text/calendar; charset=utf-8" })
  local etag = first.headers.etag
  t.match(etag, '^"%x+"$')
  t.eq(#parse(first.body).events, 100, "the 2017 calendar")
  local upstream = fake.stats().requests
  t.ok(upstream > 12, "the calendar was fetched")
  local again = H.request(srv, "GET", feed.path)
  t.eq({ again.status, again.body, again.headers.etag }, { 200, first.body, etag })
  t.eq(fake.stats().requests, upstream, "served from the cache")
  local cached = H.request(srv, "GET", feed.path, { headers = { ["If-None-Match"] = etag } })
  t.eq({ cached.status, cached.body, cached.headers.etag }, { 304, "", etag })
  local token = feed.path:match("^/feeds/(%x+)%.ics$")
  t.ok(not srv.log():find(token, 1, true), "the token is not logged")
  t.match(srv.log(), "GET /feeds/%*%*%*%.ics 304")
  t.eq(H.request(srv, "GET", "/feeds/" .. string.rep("0", 32) .. ".ics").status, 404)
  t.eq(H.request(srv, "GET", "/feeds/nothex.ics").status, 404)
  local list = H.request(srv, "GET", "/api/v3/feeds", { jar = jar }).json.feeds
  t.eq(#list, 1)
  t.eq(list[1].path, nil, "the token is shown once only")
  t.eq(H.request(srv, "DELETE", "/api/v3/feeds/" .. feed.id, { jar = jar }).status, 200)
  t.eq(H.request(srv, "GET", feed.path).status, 404, "revoked")
  local f = assert(io.open(data .. "/sis.db", "rb"))
  local raw = f:read("a")
  f:close()
  t.ok(not raw:find(token, 1, true), "the token is not stored")
  srv.stop()
  os.execute("rm -rf " .. data)
end)

t.test("a feed refetches after its interval; unchanged events keep the ETag", function()
  local fake, data, jar, srv = focus_server()
  local path = H.request(srv, "POST", "/api/v3/feeds", { jar = jar, json = { year = 2017, interval = 1 } }).json.path
  local first = H.request(srv, "GET", path)
  fake.stats(true)
  t.sleep(1.2)
  local second = H.request(srv, "GET", path)
  t.ok(fake.stats().requests > 0, "fetched again")
  t.eq({ second.body, second.headers.etag }, { first.body, first.headers.etag })
  W.edit(fake.pages .. "/Calendar__2017-03.html", "Pi Day Math Competition", "Pi Day Math Contest")
  fake.reload()
  t.sleep(1.2)
  local third = H.request(srv, "GET", path)
  t.ok(third.headers.etag ~= first.headers.etag)
  t.eq(by_uid(parse(third.body))["focus-occasion-726@sis"].summary, "Pi Day Math Contest")
  srv.stop()
  os.execute("rm -rf " .. data)
end)

t.test("scodoc: a student's absences as timed events, in a session and as a feed", function()
  local fake = W.scodoc()
  local data = t.tmpdir()
  local jar = data .. "/jar"
  local srv = start(nil, data, fake)
  t.eq(H.request(srv, "POST", "/api/scodoc/session", { jar = jar,
    json = { username = "lecteur_api", password = "Lecture-Info-2021" } }).status, 200)
  local r = H.request(srv, "GET", "/api/scodoc/calendar.ics?dept=INFO&etudid=EID3102", { jar = jar })
  t.eq(r.status, 200)
  local want = { name = "ScoDoc absences EID3102", events = {
    { uid = "scodoc-absence-EID3102-2021-02-22-morning@sis", summary = "Absence (morning)", description = "M2103",
      start = "2021-02-22T08:00:00", ["end"] = "2021-02-22T12:00:00" },
    { uid = "scodoc-absence-EID3102-2021-02-22-afternoon@sis", summary = "Absence (afternoon)", description = "M2103",
      start = "2021-02-22T13:00:00", ["end"] = "2021-02-22T18:00:00" },
  } }
  local got = parse(r.body)
  table.sort(got.events, function(a, b) return a.start < b.start end)
  t.eq(got, want)
  t.eq(H.request(srv, "GET", "/api/scodoc/calendar.ics?dept=INFO", { jar = jar }).status, 400)
  local feed = H.request(srv, "POST", "/api/scodoc/feeds", { jar = jar, json = { dept = "INFO", etudid = "EID3102" } })
  t.eq(feed.status, 201)
  local fetched = parse(H.request(srv, "GET", feed.json.path).body)
  table.sort(fetched.events, function(a, b) return a.start < b.start end)
  t.eq(fetched, want)
  t.eq(H.request(srv, "POST", "/api/scodoc/feeds", { jar = jar, json = { dept = "INFO" } }).status, 400)
  srv.stop()
  os.execute("rm -rf " .. data)
end)

t.test("every answer matches the OpenAPI document", V.check)
