-- The layouts of the later Focus that the corpus (tests/fixtures/focus-2018)
-- does not show, each built from a corpus page changed as the evidence says
-- (docs/compatibility.md, "Later Focus generations"), and the later
-- generation's client paths (Student application, finalGrades API) under
-- failures. Every call of index.json against the later corpus is replayed by
-- focus_fidelity_test.lua and server_focus_test.lua.
local t = require "testlib"
local json = require "sis.json"
local pages = require "focus.pages"
local common = require "focus.common"
local focus = require "focus.service"
local fake = require "focus_fake"
local school = require "school"

local function later(name) return t.fixture("focus-2018/pages/" .. name) end
local function earlier(name) return t.fixture("focus/pages/" .. name) end
local expected = fake.expected

-- s with every plain `from` replaced by `to` (it must be there)
local edit = school.edit_text
-- pages.parse with the log quiet → data, warnings (nil, err, kind on failure)
local parse = school.parse

---------------------------------------------------------------------------
-- Course titles

t.test("course titles as real schools write them: no invented period, days or room", function()
  local cases = {
    -- FocusSIS HyphenatedCourseInformationTest.java (with and without a name part)
    { "Physical Education - Period 1 - H - Red - Clive Alston", true,
      { name = "Physical Education", period = 1, days = "H", room = "Red", teacher = "Clive Alston" } },
    { "Language Arts - - MWF - Red - Ella Barron", true,
      { name = "Language Arts", days = "MWF", room = "Red", teacher = "Ella Barron" } },
    { "- MWF - Red - Ella Barron", false, { days = "MWF", room = "Red", teacher = "Ella Barron" } },
    { "- MWF - Red - Ella Barron", true, { days = "MWF", room = "Red", teacher = "Ella Barron" } },
    { "- MWF - Red - Ella  van-Barron", false, { days = "MWF", room = "Red", teacher = "Ella van-Barron" } },
    { "Advisory - M - Red - Ella Barron", false, { days = "M", room = "Red", teacher = "Ella Barron" } },
    { "Senior Project - Advisory - W - 001 - Amarah Travis", true,
      { name = "Senior Project", days = "W", room = "001", teacher = "Amarah Travis" } },
    { "Advisory - 12 - Shayna Hollis", false, { room = "12", teacher = "Shayna Hollis" } },
    { "Advisory - 12 - Shayna Hollis", true, { name = "Advisory", room = "12", teacher = "Shayna Hollis" } },
    -- Duval (rothso/gradeskinda login_success_done.html:965): "01 01", an A-day, line breaks
    { "IB\n          CHEMISTRY - 01 01 - A - 181 -\n          Teacher A", true,
      { name = "IB CHEMISTRY", period = 1, days = "A", room = "181", teacher = "Teacher A" } },
    { "Advanced Placement Calculus Ab - 08 08 - B - 003 - Teacher H", true,
      { name = "Advanced Placement Calculus Ab", period = 8, days = "B", room = "003", teacher = "Teacher H" } },
    -- a block over two periods: no single period to give
    { "Chemistry Lab - 03 04 - A - 181 - Teacher C", true,
      { name = "Chemistry Lab", days = "A", room = "181", teacher = "Teacher C" } },
    -- not a title
    { "Learning Studio", true, nil },
    { "Name - Teacher", true, nil },
  }
  for _, c in ipairs(cases) do
    t.eq(common.course_title(c[1], c[2]), c[3], c[1] .. (c[2] and " (with a name)" or ""))
  end
  t.eq({ common.period("Period 3"), common.period(" 3 "), common.period("01 01"), common.period("Advisory"),
         common.period("HR"), common.period("") }, { 3, 3, 1, nil, nil, nil })
end)

---------------------------------------------------------------------------
-- Portal

t.test("portal, Duval 2015-16 layout: titles over several lines, '01 01' periods, a lesson link", function()
  local html = earlier("Portal__mp326.html")
  html = edit(html, [[<a href="Modules.php?modname=Grades/StudentGBGrades.php?course_period_id=24101">Learning Studio - Period 1 - MWH - 112 - Harriet Anne Calloway</a>]],
    "<a href='Modules.php?modname=LMS/ViewLesson.php&course_period_id=24101'><b>IB\n\t\t\tCHEMISTRY - 01 01 - A - 181 -\n\t\t\tHarriet Anne Calloway</b></a>")
  html = edit(html, "Humanities III (LA) - Period 2 - TWF - 204 - Peter  Okonkwo",
    "IB PSYCHOLOG - 02 02 - B - 204 -\n\t\t\tPeter  Okonkwo")
  local data, list = parse("portal", html)
  t.ok(data, list)
  t.eq(list, {})
  local want = assert(parse("portal", earlier("Portal__mp326.html")))
  want.courses["24101"].name, want.courses["24101"].days = "IB CHEMISTRY", "A"
  want.courses["24107"].name, want.courses["24107"].days = "IB PSYCHOLOG", "B"
  t.eq(data, want, "period, teacher, grade and alerts as before")
end)

t.test("portal, 2018-12 table: period names, two courses in one period told apart by teacher", function()
  local html = later("Portal__mp326.html")
  -- an advisory row, and Physics moved to period 1 (Learning Studio's) under another teacher
  html = edit(html, '<td class="portal_course_period">Period 7</td>', '<td class="portal_course_period">Advisory</td>')
  html = edit(html, '<td class="portal_course_period">Period 4</td>', '<td class="portal_course_period">Period 1</td>')
  html = edit(html, "Period 4 - MWF - 147 - Gregory  Lindqvist", "Period 1 - MWF - 147 - Gregory  Lindqvist")
  local data, list = parse("portal", html)
  t.ok(data, list)
  t.eq(list, {})
  local acs = data.courses["24137"]
  t.eq({ acs.name, acs.period, acs.teacher, acs.days }, { "Advanced Computer Science", nil, "Madeleine Fisk", nil })
  local want = expected("portal")
  t.eq(data.courses["24119"].assignments, want.courses["24119"].assignments, "Physics' alerts found by teacher")
  t.eq(data.courses["24101"].assignments, want.courses["24101"].assignments, "Learning Studio's kept")
  t.eq(data.courses["24119"].period, 1)
end)

---------------------------------------------------------------------------
-- Gradebook

local COURSE = "StudentGBGrades__course_period_id=24101__mp326.html"

t.test("gradebook without categories: only the current grade in td.DarkGradientBG", function()
  local html = later(COURSE)
  local from = html:find('<table class="gradebook_summary"', 1, true)
  local to = select(2, html:find("</tr></table>", from, true))
  html = html:sub(1, from - 1) .. '<table class="gradebook_summary" width="100%"><tr><td class="DarkGradientBG">'
    .. 'Current Grade: <b id="currentStudentGrade[]">91%&nbsp;A-</b></td></tr></table>' .. html:sub(to + 1)
  html = html:gsub('<td class="LO_header" data%-column="CATEGORY">.-</td>', "")
  local data, list = parse("course", html)
  t.ok(data, list)
  t.eq(list, {})
  t.eq({ data.categories, data.percent_grade, data.letter_grade }, { nil, 91, "A-" })
  t.eq(#data.assignments, 10)
  -- without a Category header the category column is not read (it holds the files)
  t.eq(data.assignments[1].category, nil)
  t.eq(data.assignments[1].due, "2017-02-24T00:00:00")
end)

t.test("gradebook ~2020: cells found by data-col whatever the order, headers by data-assoc", function()
  local html = later("StudentGBGrades__course_period_id=24101__mp325.html")
  local want = assert(parse("course", html))
  -- every header text unknown to sis: the data-assoc names still say which is which
  local renamed = html:gsub('class="column_heading">[^<]*</a>', 'class="column_heading">?</a>')
  -- and the cells of each row in another order (comment cell first)
  renamed = renamed:gsub('(<tr id="LOy_row%d+" class="[^"]*">)(.-)(<td class="LO_field" data%-col="comment">.-</td>)',
    "%1%3%2")
  local data, list = parse("course", renamed)
  t.eq(list, {})
  t.eq(data, want)
  t.eq(want.assignments[1].assigned, "2017-01-10T00:00:00", "'Jan 10, 2017 12:00 AM'")
end)

t.test("gradebook: a column without a known header is a warning, read where 2016-17 had it", function()
  local html = edit(edit(later(COURSE), ">Due</a>", ">Deadline</a>"), 'data-column="DUE_DATE"', 'data-column="DEADLINE"')
  local data, list = parse("course", html)
  t.eq(data, (parse("course", later(COURSE))))
  t.eq(#list, 1)
  t.eq({ list[1].field, list[1].message }, { "assignments.*.due", "no column header for 'due'; column 6 is read" })
end)

---------------------------------------------------------------------------
-- Schedule

t.test("schedule, 2019 fixed-left rows: a short fixed row fails naming it", function()
  local html = later("Schedule.html")
  local data = assert(parse("schedule", html))
  t.eq(data.courses[1], { name = "Blue Advisory", teacher = "Harriet Anne Calloway", days = "MTWHF",
                          room = "112", term = "year" })
  local short = html:gsub('(<tr id="LOy_fixed_left_row3" class="[^"]*"><td class="LO_field">[^<]*</td>)<td class="LO_field">[^<]*</td>', "%1")
  t.fails("^focus/schedule: schedule fixed%-left row 3 has 1 cells, expected 2$", parse("schedule", short))
end)

---------------------------------------------------------------------------
-- Absences

local SUMMARY_2016 = { periods_absent = 18, days_partially_absent = 5, periods_absent_unexcused = 9,
                       periods_absent_excused = 9, days_absent_excused = 2, periods_other_marks = 11,
                       days_other_marks = 8, periods_late = 2, periods_tardy = 3, periods_misc = 2,
                       periods_offsite = 4 }

local function summary(data)
  local out = {}
  for k in pairs(SUMMARY_2016) do out[k] = data[k] end
  out.days_absent_unexcused = data.days_absent_unexcused
  return out
end

t.test("absences: the 2018-03, 2018-12 (D Dismissed, raw headers) and ~2020 summary wordings", function()
  local html = later("StudentSummary.html")
  local data, list = parse("absences", html)
  t.eq(list, {})
  t.eq(summary(data), SUMMARY_2016, "2018-12")
  -- 2018-03: colons still there, no day count after A Absent
  local march = edit(edit(edit(html, "Absent 9 periods", "Absent: 9 periods"), "Late 2", "Late: 2"),
    "Excused Absence 9 periods", "Excused Absence: 9 periods")
  t.eq(summary(assert(parse("absences", march))), SUMMARY_2016, "2018-03")
  -- 2018-12 with the optional D line and period headers as Focus writes them
  local dec = edit(html, "Absent 9 periods\n</div>", "Absent 9 periods\n</div><div class=\"attendance_code\">"
    .. "<b class=\"code\">D</b> Dismissed 1 periods</div>")
  for p = 1, 7 do dec = edit(dec, 'class="column_heading">' .. p .. "</a>", 'class="column_heading">P' .. p .. "</a>") end
  dec = edit(dec, 'class="column_heading">Advisory</a>', 'class="column_heading">HR</a>')
  local d = assert(parse("absences", dec))
  t.eq(summary(d), SUMMARY_2016, "2018-12 with D Dismissed")
  t.eq(d.absences["2017-02-14"].periods.p1.period, "p1")
  t.eq(d.absences["2017-02-08"].periods.hr.name, "Blue Advisory")
  -- 2016-17 as always, with the day count
  local old = summary(assert(parse("absences", earlier("StudentSummary.html"))))
  t.eq(old.days_absent_unexcused, 3)
end)

t.test("absences: a count the summary does not give is a warning, the rest is read", function()
  local html = edit(later("StudentSummary.html"), "Tardy 3 periods", "Tardiness")
  local data, list = parse("absences", html)
  t.eq(data.periods_tardy, nil)
  t.eq(data.periods_late, 2)
  t.eq(#list, 1)
  t.eq({ list[1].field, list[1].selector }, { "periods_tardy", "td.WhiteDrawHeader, table.WhiteDrawHeader" })
end)

---------------------------------------------------------------------------
-- Final grades

t.test("final grades page: the key and endpoint of Focus.API.allowAccess, else the 2016-17 script", function()
  local html = later("StudentRCGrades.html")
  local data = assert(parse("final_grades_page", html))
  t.eq({ data.student_id, data.endpoint }, { "417", "focus/legacy_API/APIEndpoint.php" })
  t.match(data.key, "^%x+$")
  local no_endpoint = edit(html, 'null || "legacy_API/APIEndpoint.php"', 'null || "{}"')
  t.eq(assert(parse("final_grades_page", no_endpoint)).endpoint, nil)
  local old = assert(parse("final_grades_page", earlier("StudentRCGrades.html")))
  t.eq({ old.student_id, old.key, old.endpoint }, { "417", nil, nil })
  t.fails("^focus/final_grades_page: Focus.API.allowAccess%(...%) gives no HMAC key",
    parse("final_grades_page", edit(html, data.key, "not-hex")))
end)

t.test("final grades answer of the later Focus: domains by year, -1 is no grade, exam terms", function()
  local answer = json.decode(later("APIEndpoint__finalGrades__requestGrades__-1.json"))
  local domains = json.decode(later("APIEndpoint__finalGrades__domains.json"))
  answer.result.domains = domains
  local data = assert(pages.parse_api("final_grades", json.encode(answer)))
  t.eq(data, expected("final_grades"))
  -- without the domains: the grades stay, their term names and subjects go
  local bare = assert(pages.parse_api("final_grades", later("APIEndpoint__finalGrades__requestGrades__-1.json")))
  t.eq({ bare.grades["205257"].mp_name, bare.grades["205257"].subject, bare.grades["221408"].mp_name },
       { nil, nil, "Semester 1" })
end)

-- A copy of both corpora (the later one points into the earlier one).
local function later_school()
  local dir = t.tmpdir()
  assert(os.execute(string.format("mkdir -p %s/focus %s/focus-2018 && cp -r %s/tests/fixtures/focus/pages %s/focus/ "
    .. "&& cp -r %s/tests/fixtures/focus-2018/pages %s/focus-2018/", dir, dir, t.root, dir, t.root, dir)))
  return dir, dir .. "/focus-2018/pages"
end

local function login(server) return assert(fake.login(server)) end

t.test("final grades client: no endpoint on the page → focus/API/ (404), then focus/legacy_API/", function()
  local dir, pages_dir = later_school()
  school.edit(pages_dir, "StudentRCGrades.html", 'null || "legacy_API/APIEndpoint.php"', 'null || "{}"')
  local server = fake.start("--generation 2018 --pages " .. pages_dir)
  local state = login(server)
  local status, body = focus.call(state, "exams")
  t.eq({ status, body }, { 200, expected("exams") })
  status, body = focus.call(state, "final_grades", { id = "205257" })
  t.eq({ status, body }, { 200, expected("final_grades_205257") })
  local stats = server.stats()
  t.eq({ stats.paths["/focus/API/APIEndpoint.php"], stats.paths["/focus/legacy_API/APIEndpoint.php"],
         stats.domain_requests }, { 1, 4, 2 },
    "one miss, then requestGrades and requestDomains for each call (the 2014 domains only the second time)")
  os.execute("rm -rf " .. dir)
end)

---------------------------------------------------------------------------
-- Student application

t.test("Student application: its calls again after Focus forgot the session (fresh tokens)", function()
  local server = fake.start("--generation 2018")
  local state = login(server)
  server.fault("expire", "FocusModule.class.php", "&count=1")
  local status, body = focus.call(state, "address")
  t.eq({ status, body }, { 200, expected("address") })
  local stats = server.stats()
  t.eq({ stats.logins, stats.app_calls, stats.app_refused }, { 2, 1, 0 })
end)

t.test("Student application: a refused call or a page without tokens is a 502 naming what failed", function()
  local dir, pages_dir = later_school()
  -- (the fake writes the session's tokens into the page: its list of methods changes)
  school.edit(pages_dir, "manifest.json", '"AddressController.getContacts",', '"AddressController.getContactList",')
  local server = fake.start("--generation 2018 --pages " .. pages_dir)
  local state = login(server)
  local status, body = focus.call(state, "address")
  t.eq(status, 502)
  t.eq(body.error, "focus/address: the page gives no token for AddressController.getContacts")
  -- a method the fake does not answer: its error comes back in the call's answer
  os.execute("rm -rf " .. dir)
  dir, pages_dir = later_school()
  school.edit(pages_dir, "manifest.json", '"AddressController.getContacts": {', '"AddressController.getContactz": {')
  server = fake.start("--generation 2018 --pages " .. pages_dir)
  state = login(server)
  status, body = focus.call(state, "address")
  t.eq(status, 502)
  t.eq(body.error, "focus/address: the Student application refused AddressController.getContacts: "
    .. "Unknown method AddressController.getContacts")
  os.execute("rm -rf " .. dir)
end)

t.test("Student application page parsed alone: a failure saying where its data comes from", function()
  local data, err, kind = parse("demographic", later("Student.html"))
  t.eq({ data, kind }, { nil, "structure" })
  t.match(err, "^focus/demographic: the Student page is the JavaScript application: its fields come from its "
    .. "EditController calls")
  -- with the calls' answers: the fields; a missing one is a warning
  local fields = json.decode(later("FocusModule__EditController__getFieldData.json"))
  local answer = { { result = fields.general }, { result = fields["9"] }, { result = fields["6"] } }
  local got = assert(parse("demographic", later("Student.html"), { app = answer }))
  local want = expected("demographic")
  want.picture = nil
  t.eq(got, want)
  table.remove(fields.general, 5) -- Username
  local _, list = parse("demographic", later("Student.html"), { app = answer })
  t.eq(#list, 1)
  t.eq({ list[1].field, list[1].label }, { "username", "Username" })
end)

---------------------------------------------------------------------------
-- Hostile text: the new scans stay linear (a quadratic one would not finish)

t.test("hostile titles, application scripts, allowAccess calls and summaries are read at once", function()
  local dir = t.tmpdir()
  local f = assert(io.open(dir .. "/probe.lua", "wb"))
  f:write([[
    local common, pages, html = require "focus.common", require "focus.pages", require "sis.html"
    local app = require "focus.student_app"
    local big = 1 << 18
    -- " - - - ..." runs: an empty part each (a fix-up loop over them was quadratic)
    local t1 = common.course_title(("- "):rep(big) .. "x - 12 - T", true)
    print(t1 and t1.room, t1 and t1.teacher)
    -- an unterminated application object, repeated
    local doc = html.parse("<script>" .. ("var methods = {"):rep(big // 8) .. "</script>")
    print(app.info(doc))
    -- an allowAccess call with a quarter million quotes and no closing parenthesis
    print(select(2, pages.parse("final_grades_page", "<select name=side_syear><option value=2016 selected>x"
      .. "</option></select><select name=side_mp><option value=1>a</option></select>"
      .. "<script>Focus.API.allowAccess( " .. ("'\""):rep(big) .. "</script>")))
    -- a summary count of a quarter million digits
    doc = html.parse("<table class=WhiteDrawHeader><tr><td>Absent: " .. ("9"):rep(big) .. " periods (during 1 days) "
      .. ("a absent "):rep(big // 16) .. "</td></tr></table>Total Full Days Possible: 1")
    print(pcall(require("focus.absences"), doc, {}))
  ]])
  f:close()
  local status, out, err = t.exec(string.format("timeout 60 %s run %s/probe.lua", t.sis, dir))
  os.execute("rm -rf " .. dir)
  t.eq(status, 0, "probe did not finish (killed after 60 s?) " .. err)
  local lines = {}
  for line in out:gmatch("[^\n]+") do lines[#lines + 1] = line end
  t.eq(lines[1], "12\tT")
  t.eq(lines[2], "nil\tno 'var methods = {...}' (the application's method tokens)")
  t.match(lines[3], "^focus/final_grades_page: Focus.API.allowAccess%(...%) gives no student id")
  t.match(lines[4], "^false\tno number after 'Total Full Days Attended:'")
end)
