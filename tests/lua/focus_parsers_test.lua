-- Focus page parsers (scripts/focus/*.lua) against the shared corpus: every
-- call of tests/fixtures/focus/expected/index.json that is one page parse must
-- give the original focus-api's answer, except the documented corrections of
-- its bugs (docs/compatibility.md), which are patched into the expected
-- answer field by field (focus_expected.lua's page corrections, and B7
-- below). Then synthetic pages for the bug cases the corpus does not
-- trigger, failures, and the `sis parse` command.
local t = require "testlib"
local json = require "sis.json"
local codec = require "sis.codec"
local pages = require "focus.pages"
local E = require "focus_expected"

local function fixture(path) return t.fixture("focus/" .. path) end
local function decode(text) return assert(json.decode(text)) end

local manifest = decode(fixture("pages/manifest.json"))

local same = E.same

---------------------------------------------------------------------------
-- The corpus: which page file the fake Focus serves for a URL in a marking period

local function page_file(url, mp)
  local wildcard
  for _, p in ipairs(manifest.pages) do
    if p.method == "GET" then
      if p.url == url and (p.mp == mp or p.mp == "*") then return p.file end
      local prefix = p.url:match("^(.+)%*$")
      if prefix and url:sub(1, #prefix) == prefix then wildcard = p.file end
    end
  end
  return wildcard or "not_found.html" -- the body of every 404
end

local function api_file(argument)
  for _, p in ipairs(manifest.pages) do
    if p.match and p.match["arguments[]"] == argument then return p.file end
  end
  error("no API answer for " .. argument)
end

local MODULES = "focus/Modules.php?"
local URLS = {
  portal = MODULES .. "modname=misc/Portal.php",
  course = MODULES .. "modname=Grades/StudentGBGrades.php?course_period_id=%s",
  schedule = MODULES .. "modname=Scheduling/Schedule.php",
  calendar = MODULES .. "modname=School_Setup/Calendar.php&month=%d&year=%d",
  occasion = MODULES .. "modname=School_Setup/Calendar.php&modfunc=detail&event_id=%s",
  assignment = MODULES .. "modname=School_Setup/Calendar.php&modfunc=detail&assignment_id=%s",
  demographic = MODULES .. "modname=Students/Student.php",
  address = MODULES .. "modname=Students/Student.php&include=Address",
  referrals = MODULES .. "force_package=SIS&modname=Discipline/Referrals.php",
  absences = MODULES .. "force_package=SIS&modname=Attendance/StudentSummary.php",
}
local API_ARGUMENT = { exams = "all_SEM_exams", final_grades = "-1",
                       semester_grades = "all_SEM", quarter_grades = "all_QTR" }

-- An endpoint path → how one page parse answers it, or nil (session calls,
-- /courses (several pages), calendar days/years: the client's business).
local WHOLE_PAGE = { portal = true, schedule = true, demographic = true, address = true,
                     referrals = true, absences = true }

local function plan(path)
  local p = path:gsub("^/?api/v3/", "")
  if WHOLE_PAGE[p] then return { page = p, url = URLS[p] } end
  local id = p:match("^courses/(%d+)$")
  if id then return { page = "course", url = URLS.course:format(id) } end
  id = p:match("^referrals/(%d+)$")
  if id then return { page = "referrals", url = URLS.referrals, pick = { "referrals", id } } end
  local y, m = p:match("^calendar/(%d+)/(%d+)$")
  if y and tonumber(m) <= 12 then
    return { page = "calendar", url = URLS.calendar:format(tonumber(m), tonumber(y)) }
  end
  local what
  what, id = p:match("^calendar/(%a+)s/(%d+)$")
  if what then return { page = "calendar_detail", url = URLS[what]:format(id), ctx = { id = id } } end
  local kind
  kind, id = p:match("^([%a_]+)/?(%d*)$")
  if API_ARGUMENT[kind] then
    return { api = kind, file = api_file(API_ARGUMENT[kind]),
             pick = id ~= "" and { kind == "exams" and "exams" or "grades", id } or nil }
  end
  return nil
end

local picture = fixture("pages/417.JPG")

local function run(step, mp)
  if step.api then return pages.parse_api(step.api, fixture("pages/" .. step.file)) end
  local ctx = step.ctx or {}
  if step.page == "demographic" then ctx.picture = picture end
  return pages.parse(step.page, fixture("pages/" .. page_file(step.url, mp)), ctx)
end

-- referrals/<id>, exams/<id>, ...: the one record (+ marking periods when the page has them)
local function pick(data, step)
  local one = data[step.pick[1]][step.pick[2]]
  if one and data.mps then one.mps, one.mp_years = data.mps, data.mp_years end
  return one
end

---------------------------------------------------------------------------
-- Deliberate corrections of the original's bugs (docs/compatibility.md): the
-- page corrections of focus_expected.lua, and one that is the parsers' own.

-- B7: an unknown calendar id must not be a 200 {"id": ...}: the parser
-- reports that it does not exist (the REST route answers 400).
local function expected_failure(step, want)
  if step.page == "calendar_detail" and want.date == nil then
    return { fails = "^focus/calendar_detail: calendar event " .. want.id .. " does not exist$", kind = "missing" }
  end
end

---------------------------------------------------------------------------
-- Every call of the corpus that one parse answers

local function expected_answer(call)
  -- calls that crash in the original: the intended answer of derived/ (B6, B17)
  if call.derived then return call.derived.status, E.file(call.derived.file) end
  return call.status, E.file(call.file)
end

local mp = manifest.default.mp
local covered = {} -- page or API kind → number of calls
for _, call in ipairs(E.calls) do
  local req = call.request
  local step
  local status = call.derived and call.derived.status or call.status
  if call.scenario or (status ~= 200 and status ~= 404) then
    step = nil -- the session-expiry scenario, REST-session and argument errors: the client's
  elseif req.method == "PUT" then -- the marking period changes, then the redirect target
    mp = tostring(math.tointeger(req.json.mp_id))
    step = plan(req.json.redirect or "portal")
  elseif req.method == "GET" then
    step = plan(req.path)
  end
  if step then
    local what = step.page or step.api
    covered[what] = (covered[what] or 0) + 1
    local call_mp = mp
    t.test("corpus: " .. call.name, function()
      local status, want = expected_answer(call)
      local correct = E.page_corrections[step.page]
      if correct then correct(want) end
      local fix = expected_failure(step, want)
      local data, err, kind = run(step, call_mp)
      if fix then
        t.fails(fix.fails, data, err)
        t.eq(kind, fix.kind)
        return
      end
      if status == 404 and not step.pick then
        -- Focus answered its "page not found" page (unknown course, other marking period)
        t.fails("page not found", data, err)
        t.eq(kind, "not_found")
        return
      end
      t.ok(data, err)
      if step.pick then data = pick(data, step) end
      if status == 404 then
        t.eq(data, nil, "an unknown id is not in the list")
      else
        same(data, want, call.name)
      end
    end)
  end
end

t.test("corpus: the calls above cover every page and API kind", function()
  t.eq(covered, { portal = 8, course = 18, schedule = 2, demographic = 2, address = 2, referrals = 6,
                  absences = 2, calendar = 24, calendar_detail = 58, exams = 6, final_grades = 15,
                  semester_grades = 13, quarter_grades = 2 })
end)

---------------------------------------------------------------------------
-- Synthetic pages for the bug cases the corpus lacks

local SIDE = [[<form><select name="side_syear"><option value="2015">2015-2016</option>]] ..
  [[<option value="2016" selected>2016-2017</option></select>]] ..
  [[<select name="side_mp"><option value="325">Semester 1</option><option value="326" selected>Semester 2</option></select></form>]]
local MPS = { ["325"] = { id = "325", name = "Semester 1", year = 2016 },
              ["326"] = { id = "326", name = "Semester 2", year = 2016, selected = true } }

local function page(body, title)
  return "<!DOCTYPE html><html><head><title>" .. (title or "Focus") .. "</title></head><body>" ..
    SIDE .. body .. "</body></html>"
end

local LINK = "Modules.php?modname=Grades/StudentGBGrades.php?course_period_id="

local function portal_course(id, title, grade)
  return ('<tr><td><a href="%s%s">%s</a></td><td><a href="%s%s">%s</a></td></tr>')
    :format(LINK, id, title, LINK, id, grade)
end

t.test("portal: alerts of period 10+, Advisory and unknown headers (B10), 3-space names (B13)", function()
  local html = page([[
<table><tr><td class="portal_block_Featured Programs"><table>
  <tr><td class="BoxHeader">Featured Programs</td></tr>
  <tr><td class="BoxContent"><table>]] ..
    portal_course("501", "Robotics - Period 10 - MW - 12 - Ada   Byron", "88%&nbsp;B+") ..
    portal_course("502", "Algebra - Period 1 - TH - 3 - Al  Khwarizmi", "NG") ..
    portal_course("503", "Blue Advisory - Advisory - MTWHF - 112 - Harriet Anne Calloway", "P") .. [[
  </table></td></tr></table></td>
<td class="portal_block_Alerts"><table><tr><td class="BoxContent">
  <ul>
    <li>Period 10 - MW - 12 - Ada Byron</li>
    <li><table><tr><td>Gear Design</td><td>Due: Mar 3, 2017</td></tr></table></li>
    <li>Advisory - MTWHF - 112 - Harriet Anne  Calloway</li>
    <li><table><tr><td>Course
 Requests</td><td>Due: Mar 10, 2017</td></tr></table></li>
    <li>HR - MTWHF - 9 - Nobody</li>
    <li><table><tr><td>Lost</td><td>Due: Mar 1, 2017</td></tr></table></li>
  </ul></td></tr></table></td>
<td class="portal_block_Upcoming"><a href="#">Upcoming</a><!-- 20170303 --><a href="#">Fri Mar 3: Robotics Fair</a>
<!-- 20170304 --><a href="#">no colon here</a></td></tr></table>]], "Portal")
  local data, err = pages.parse("portal", html)
  t.ok(data, err)
  same(data, {
    courses = {
      ["501"] = { id = "501", name = "Robotics", period = 10, days = "MW", teacher = "Ada Byron",
                  percent_grade = 88, letter_grade = "B+",
                  assignments = json.array { { name = "Gear Design", due = "2017-03-03T00:00:00" } } },
      ["502"] = { id = "502", name = "Algebra", period = 1, days = "TH", teacher = "Al Khwarizmi" },
      ["503"] = { id = "503", name = "Blue Advisory", days = "MTWHF", teacher = "Harriet Anne Calloway",
                  assignments = json.array { { name = "Course Requests", due = "2017-03-10T00:00:00" } } },
    },
    events = json.array { { date = "2017-03-03", description = "Robotics Fair" } },
    mp_years = json.array { 2015, 2016 },
    mps = MPS,
  }, "synthetic portal")
end)

local function course_page(opts)
  local header = {}
  for _, h in ipairs(opts.columns) do header[#header + 1] = '<td class="LO_header">' .. h .. "</td>" end
  local rows = {}
  for i, r in ipairs(opts.rows) do
    local cells = {}
    for _, c in ipairs(r) do cells[#cells + 1] = '<td class="LO_field">' .. c .. "</td>" end
    rows[i] = '<tr id="LOy_row' .. i .. '">' .. table.concat(cells) .. "</tr>"
  end
  return page(([[
<table class="DrawHeader"><tr><td>%s</td><td><a href="Modules.php?modname=Grades/StudentGBGrades.php&amp;course_period_id=%s&amp;_FOCUS_PDF=true">Print</a></td></tr></table>
%s
<table><thead><tr>%s</tr></thead><tbody>%s</tbody></table>]]):format(
    opts.grade or "", opts.id, opts.categories or "", table.concat(header), table.concat(rows)), opts.title)
end

t.test("course: no categories still has its grade, no files as category (B12)", function()
  local html = course_page {
    id = "777", title = "Art Studio - Period 8 - MW - 5 - Mary  Cassatt",
    grade = 'Current grade: <b id="currentStudentGrade[]">92.5%&nbsp;A-</b>',
    columns = { "Assignment", "Points / Possible", "Grade", "Comment", "Assigned", "Due", "Assignment Files", "Last Modified" },
    rows = {
      { "Portfolio", "18.5 / 20", "92.5% A-", " ", "Feb 1, 2017", "Feb 3, 2017",
        '<a href="x"><img src="assets/icons/attachment.png"> brief.pdf</a>', "" },
      { "Sketch", '<img src="assets/x.png">', "Fail", "redo", "Feb 6, 2017", "Feb 7, 2017", "", "" },
    },
  }
  local data, err = pages.parse("course", html)
  t.ok(data, err)
  same(data, {
    id = "777", name = "Art Studio", period = 8, teacher = "Mary Cassatt",
    percent_grade = 92.5, letter_grade = "A-",
    assignments = json.array {
      { name = "Portfolio", status = "graded", student_grade = 18.5, max_grade = 20,
        percent_overall_grade = 92.5, letter_overall_grade = "A-",
        assigned = "2017-02-01T00:00:00", due = "2017-02-03T00:00:00" },
      { name = "Sketch", status = "fail", comment = "redo",
        assigned = "2017-02-06T00:00:00", due = "2017-02-07T00:00:00" },
    },
    mp_years = json.array { 2015, 2016 }, mps = MPS,
  }, "course without categories")
end)

t.test("course: decimal category weights, blank category columns (B12)", function()
  local html = course_page {
    id = "778", title = "Chemistry - Period 2 - S2 - TWF - 145 - Eliot Marsh",
    categories = [[<table><tr><td class="GrayDrawHeader"><table>
      <tr><td>Labs</td><td> </td><td>Tests</td><td>Quizzes</td><td><b>Weighted Grade</b></td></tr>
      <tr><td>33.3%</td><td>&nbsp;</td><td>33.3%</td><td>33.4%</td><td>&nbsp;</td></tr>
      <tr><td>90%&nbsp;A-</td><td></td><td>-</td><td>75.5%&nbsp;C</td><td><b id="currentStudentGrade[]">82%&nbsp;B-</b></td></tr>
    </table></td></tr></table>]],
    columns = { "Assignment", "Points / Possible", "Grade", "Comment", "Assigned", "Due", "Category" },
    rows = { { "Lab 1", "NG / 10", "Not Graded", "", "Feb 1, 2017", "Feb 2, 2017", "Labs" } },
  }
  local data, err = pages.parse("course", html)
  t.ok(data, err)
  same(data.categories, json.array {
    { name = "Labs", percent_weight = 33.3, percent_grade = 90, letter_grade = "A-" },
    { name = "Tests", percent_weight = 33.3 },
    { name = "Quizzes", percent_weight = 33.4, percent_grade = 75.5, letter_grade = "C" },
  }, "categories")
  t.eq(data.percent_grade, 82)
  t.eq(data.period, 2)
  t.eq(data.assignments[1].category, "Labs")
  t.eq(data.assignments[1].status, "ng")
end)

t.test("schedule: terms and advisory rows", function()
  local rows = {
    { "Homeroom", "HR - MTWHF - 9 - Jo   Doe", "MTWHF", "9", "" },
    { "Drama", "Period 11 - Q3 - MW - AUD - Al Pacino", "MW", "AUD", "Quarter 3" },
  }
  local trs = {}
  for i, r in ipairs(rows) do
    trs[i] = '<tr id="LOy_row' .. i .. '"><td class="LO_field">' .. table.concat(r, '</td><td class="LO_field">') .. "</td></tr>"
  end
  local data, err = pages.parse("schedule", page('<table><thead><tr><td class="LO_header">Course</td></tr></thead>' ..
    table.concat(trs) .. "</table>"))
  t.ok(data, err)
  same(data.courses, json.array {
    { name = "Homeroom", teacher = "Jo Doe", days = "MTWHF", room = "9", term = "year" },
    { name = "Drama", period = 11, teacher = "Al Pacino", days = "MW", room = "AUD", term = "q3" },
  }, "schedule")
  local empty = assert(pages.parse("schedule", page('<table><thead><tr><td class="LO_header">Course</td></tr></thead></table>')))
  same(empty.courses, json.array(), "empty schedule")
end)

local function popup(rows)
  local trs = {}
  for i, r in ipairs(rows) do trs[i] = "<tr><td>" .. r[1] .. "</td><td>" .. r[2] .. "</td></tr>" end
  return '<html><head><title>Calendar Event</title></head><body><div class="scroll_contents"><table>' ..
    table.concat(trs) .. "</table></div></body></html>"
end

t.test("calendar_detail: semester course period and 3-space teacher (B13)", function()
  local data, err = pages.parse("calendar_detail", popup {
    { "Date", "<!-- 20170208 -->February 8, 2017" }, { "Title", "Debate Prep 7" },
    { "Teacher", "Alan T Brewster" }, { "Course", "Economics" },
    { "Course Period", "Period 6 - S2 - MWH - 150 - Alan   T Brewster" },
    { "School", "Harborview" }, { "Notes", "&nbsp;Bring notes&nbsp;" },
  }, { id = 93420 })
  t.ok(data, err)
  same(data, { id = "93420", date = "2017-02-08", title = "Debate Prep 7", type = "assignment",
               course = { name = "Economics", period = 6, term = "s2", days = "MWH", teacher = "Alan T Brewster" },
               school = "Harborview", notes = "Bring notes" }, "popup")
  t.eq(data.mps, nil, "popups have no marking periods")
end)

t.test("demographic: 3-space names, non-numeric ids and lockers, other statuses (B14)", function()
  local data, err = pages.parse("demographic", page([[<div class="scroll_contents"><table><tr>
<td><img src="../photos/2016/9.JPG"></td><td><table>
<tr><td>Ann   Mary  Lee<br><small>Name</small></td><td>S-0042<br><small>Student ID</small></td><td>K<br><small>Grade</small></td></tr>
<tr><td>ann.lee<br><small>Username</small></td><td>*****<br><small>Password</small></td><td>Yes<br><small>Force Password Change</small></td></tr>
<tr><td colspan="3"><small>Last Login</small></td></tr></table></td></tr></table>
<table class="remove_me"><tr><td>Birthdate</td><td>-</td><td>Level</td><td>6</td></tr>
<tr><td>Gender</td><td>Female</td><td>Nickname</td><td>Annie</td></tr>
<tr><td>Email</td><td></td><td>Locker</td><td>B-17</td></tr>
<tr><td>Combo</td><td>-</td><td>Bus</td><td>7</td></tr>
<tr><td>Cumulative File</td><td>No file</td><td>Medical Record Status</td><td>Complete  on file</td></tr>
<tr><td>Photo</td><td>N</td><td>Mobile</td><td>603.555.0199</td></tr></table></div>]]))
  t.ok(data, err)
  same(data, {
    name = "Ann Mary Lee", id = "S-0042", grade = "K", username = "ann.lee", pass_length = 5,
    force_pass_change = true, level = 6, gender = "female", nickname = "Annie", locker = "B-17",
    arrival_bus = 7, dismissal_bus = 7, cumulative_file = false,
    medical_record_status = "complete on file", photo_auth = false, student_mobile = "6035550199",
    mp_years = json.array { 2015, 2016 }, mps = MPS,
  }, "demographic")
  t.eq(pages.photo_src(fixture("pages/Student__General_Info.html")), "../photos/2016/417.JPG")
  t.eq(pages.photo_src(fixture("pages/Portal__mp326.html")), nil)
  local with_photo = assert(pages.parse("demographic", fixture("pages/Student__General_Info.html"),
                                        { picture = "\255\216\255" }))
  t.eq(with_photo.picture, codec.base64_encode("\255\216\255"))
end)

t.test("address: contacts matched per contact, dotted phones, ': ' in values (B15)", function()
  local function contact(relation, first, last, info, address)
    return [[<table><tr><td title="Click to edit this contact."><table><tr><td>]] .. relation ..
      "</td><td>" .. first .. "</td><td>" .. last .. "</td><td></td></tr></table></td>" ..
      (address and ('<td rowspan="2"><table>' .. address .. "</table></td>") or "") ..
      "</tr><tr><td>" .. (info and ('<table colspan="2">' .. info .. "</table>") or "") .. "</td></tr></table>"
  end
  local data, err = pages.parse("address", page([[<table id="main_address_holder"><tr><td><table>
<tr><td><b>Street: </b>1 Main St: Rear</td></tr><tr><td><b>Apt: </b>-</td></tr>
<tr><td><b>City: </b>Nashua</td></tr><tr><td><b>State: </b>NH</td></tr>
<tr><td><b>Zip: </b>03060</td></tr><tr><td><b>Phone: </b>(603) 555.0100</td></tr></table></td></tr></table>]] ..
    contact("Grandmother", "Ida", "Lee", nil, nil) ..
    contact("Father", "Tom", "Lee", "<tr><td>Cell</td><td>603.555.0123</td></tr>",
            "<tr><td>Street</td><td>2 Elm St</td></tr><tr><td>Apt</td><td>&nbsp;-&nbsp;</td></tr>" ..
            "<tr><td>City</td><td>Nashua</td></tr><tr><td>State</td><td>NH</td></tr><tr><td>Zip</td><td>03060</td></tr>")))
  t.ok(data, err)
  same(data, {
    address = "1 Main St: Rear", city = "Nashua", state = "NH", zip = "03060", phone = "6035550100",
    contacts = json.array {
      { relationship = "grandmother", name = "Ida Lee", email = "" },
      { relationship = "father", name = "Tom Lee", email = "", cell_phone = "6035550123",
        address = "2 Elm St", city = "Nashua", state = "NH", zip = "03060" },
    },
    mp_years = json.array { 2015, 2016 }, mps = MPS,
  }, "address")
end)

local function referrals_page(records)
  return page('<script type="text/javascript">\n\tvar records = ' .. records .. ';\n\tvar list = 1;\n</script>')
end

t.test("referrals: empty lists, numbers, CUSTOM_11, no referral (B11, B19)", function()
  local data, err = pages.parse("referrals", referrals_page(json.encode {
    ["9"] = { SYEAR = 2016, ENTRY_DATE = "2017-01-05", CREATION_DATE = "2017-01-05", LAST_UPDATED = "2017-01-06",
              DISPLAY = "N", PROCESSED = "Y", NOTIFICATION_SENT = 0, SUSPENSION_BEGIN = json.null,
              CUSTOM_1 = json.array { "", "" }, CUSTOM_3 = 12, CUSTOM_11 = "Late to class", CUSTOM_12 = "x",
              _student = '<a href="x">O&#039;Neil, Sam</a>', _staff_name = "Fisk,Madeleine",
              _school = "HAST", _grade = "11" },
  }))
  t.ok(data, err)
  same(data.referrals, { ["9"] = {
    id = "9", school_year = 2016, entry_date = "2017-01-05", creation_date = "2017-01-05",
    last_updated = "2017-01-06", display = false, processed = true, notification_sent = 0,
    other_violation = "12", name = "Sam O'Neil", teacher = "Madeleine Fisk", school = "HAST", grade = 11,
  } }, "referral")
  local none = assert(pages.parse("referrals", referrals_page("[]")))
  same(none.referrals, {}, "no referral is an empty object")
  t.fails("^focus/referrals: 'var records' is not JSON", pages.parse("referrals", referrals_page("{oops")))
  t.fails("^focus/referrals: no <script> holds 'var records = '$", pages.parse("referrals", page("")))
end)

t.test("absences: 3-space teacher, term not days (B16), loose summary whitespace", function()
  local data, err = pages.parse("absences", page([[
<table><tr><td class="WhiteDrawHeader"><b>Absent:</b> 1 periods (during 1 days) A Absent: 1 periods -- 1 days
E Excused Absence: 0 periods -- 0 days <b>Other Marks:</b> 2 periods (during 1 days) D Dismissed: 1 periods
L Late: 1 periods T Tardy: 0 periods M Misc. Activity: 0 periods O Off Site/Field Trip: 1 periods</td></tr></table>
<table><tr><td>Total Full Days Possible: 10</td></tr><tr><td>Total Full Days Attended: 9.5 (95%)</td></tr>
<tr><td>Total Full Days Absent: 0.5 (5%)</td></tr><tr><td>Enrollment Dates: x</td></tr></table>
<table><thead><tr><td class="LO_header">Date</td><td class="LO_header">Status</td><td class="LO_header">6</td>
<td class="LO_header">HR</td></tr></thead><tbody>
<tr id="LOy_row1"><td class="LO_field"><!-- 20170301 -->Mar 1, 2017</td><td class="LO_field">Half Day</td>
<td class="LO_field"><div data-tooltip="Drama - Period 6 - Q3 - MW - AUD - Al   Pacino&lt;BR&gt;Last Modified: 2017-03-01 09:00:00&lt;BR&gt;Office">X</div></td>
<td class="LO_field">L</td></tr></tbody></table>]]))
  t.ok(data, err)
  same(data.absences, { ["2017-03-01"] = { date = "2017-03-01", status = "half", periods = {
    ["6"] = { period = 6, status = "misc", name = "Drama", days = "MW", teacher = "Al Pacino",
              last_updated = "2017-03-01T09:00:00", last_updated_by = "Office" },
    hr = { period = "hr", status = "late" },
  } } }, "absence days")
  t.eq({ data.periods_absent, data.days_partially_absent, data.periods_other_marks, data.periods_late,
         data.periods_offsite, data.days_possible, data.days_attended_percent },
       { 1, 1, 2, 1, 1, 10.0, 95.0 })
end)

local function api_answer(grades)
  return json.encode { success = true, result = { grades = grades, defaults = {
    grade_scale = { ["2;2016"] = { ["1"] = { id = "1", title = "Default" } } },
    grad_subject = { ["1"] = { ["4"] = { id = "4", title = "Math" } } },
    teacher = { ["1"] = { ["93"] = { id = "93", title = "Tate, Rosalind (Teacher)" } } } },
    domains = { grade_scale = { ["2;2015"] = { ["2"] = { id = "2", title = "College Prep" } } } } } }
end

t.test("final grades: affects_gpa N, teacher without a comma, decimal percent, [] (B17)", function()
  local data, err = pages.parse_api("final_grades", api_answer {
    ["301"] = { id = "301", syear = "2016", school_id = "2", course_title = "Geometry", affects_gpa = "N",
                gpa_points = "3.00", weighted_gpa_points = "3.00", teacher = "Staff", course_period_id = "5",
                course_num = "MA2", percent_grade = "85.5", grade_title = "B", credits = "0.000",
                credits_earned = "0.000", gradelevel_title = "11", last_updated_date = "2017-01-24",
                location_title = "HAST", marking_period_id = "326", _mp_title = "Semester 2",
                comment = json.null, grad_subject_id = "4", last_updated_user = "93", grade_scale_id = "2" },
  })
  t.ok(data, err)
  same(data, { grades = { ["301"] = {
    id = "301", syear = 2016, name = "Geometry", affects_gpa = false, teacher = "Staff", course_id = "5",
    course_num = "MA2", percent_grade = 85.5, letter_grade = "B", credits = 0.0, credits_earned = 0.0,
    grade_level = 11, last_updated = "2017-01-24", location = "HAST", mp_id = "326", mp_name = "Semester 2",
    subject = "Math", last_updated_by = "Rosalind Tate", scale = "College Prep",
  } } }, "final grade")
  same(assert(pages.parse_api("quarter_grades", api_answer(json.array()))), { grades = {} }, "no grades")
  same(assert(pages.parse_api("exams", api_answer(json.array()))), { exams = {} }, "no exams")
  t.fails("^focus/final_grades: json: ", pages.parse_api("exams", "{"))
  t.fails("^focus/final_grades: the answer has no result.grades$", pages.parse_api("exams", '{"success":true}'))
  t.fails("success=false", pages.parse_api("exams", '{"success":false}'))
  local _, _, kind = pages.parse_api("exams", fixture("pages/login.html"))
  t.eq(kind, "login")
end)

t.test("final grades page: the student id, whatever its length (B9)", function()
  same(assert(pages.parse("final_grades_page", fixture("pages/StudentRCGrades.html"))).student_id, "417", "id")
  local four = page('<script>var fg = new Focus.FinalGrades({"student_id": 1417, "syear":"2016"});</script>')
  t.eq(assert(pages.parse("final_grades_page", four)).student_id, "1417")
  t.fails("^focus/final_grades_page: no <script> holds '\"student_id\":'$", pages.parse("final_grades_page", page("")))
end)

---------------------------------------------------------------------------
-- Failures

t.test("a parser given another page names itself and what it could not find", function()
  local schedule = fixture("pages/Schedule.html")
  local data, err, kind = pages.parse("course", schedule)
  t.fails("^focus/course: title 'Class Registration/Schedule' is not a course%-period title", data, err)
  t.eq(kind, "structure")
  t.fails("^focus/calendar: no element matches 'select#monthSelect1'$", pages.parse("calendar", schedule))
  t.fails("^focus/demographic: no element matches 'div.scroll_contents'$", pages.parse("demographic", schedule))
  t.fails("^focus/address: no element matches 'table#main_address_holder'$", pages.parse("address", schedule))
  t.fails("^focus/portal: no <td> whose text is 'Featured Programs'$", pages.parse("portal", schedule))
  t.fails("^focus/absences: no element matches 'td.WhiteDrawHeader, table.WhiteDrawHeader'$",
          pages.parse("absences", schedule))
  t.fails("^focus/schedule: no element matches 'td.LO_header'$",
          pages.parse("schedule", fixture("pages/Calendar__2017-02.html")))
  t.fails("^focus/calendar_detail: no element matches 'div.scroll_contents'$",
          pages.parse("calendar_detail", fixture("pages/Portal__mp326.html")))
  -- a page without the side selects
  t.fails("^focus/schedule: no element matches 'select%[name=\"side_syear\"%]'$",
          pages.parse("schedule", (fixture("pages/Schedule.html"):gsub('name="side_syear"', 'name="x"'))))
end)

t.test("the login and 'page not found' pages are recognised", function()
  local login, missing = fixture("pages/login.html"), fixture("pages/not_found.html")
  t.eq(pages.kind(login), "login")
  t.eq(pages.kind(missing), "not_found")
  t.eq(pages.kind(fixture("pages/Portal__mp326.html")), "page")
  t.eq(pages.kind(fixture("pages/Calendar_detail__event_id=711.html")), "page")
  local data, err, kind = pages.parse("course", login)
  t.fails("^focus/course: title 'Focus %- Harborview Regional School District' is not a course%-period title.*login page", data, err)
  t.eq(kind, "login")
  data, err, kind = pages.parse("schedule", missing)
  t.fails("^focus/schedule: .*'page not found' page", data, err)
  t.eq(kind, "not_found")
end)

t.test("script bugs are raised with their file:line, not returned as failures", function()
  local saved = package.loaded["focus.schedule"]
  package.loaded["focus.schedule"] = function() local page; return page.rows end
  local ok, err = pcall(pages.parse, "schedule", fixture("pages/Schedule.html"))
  package.loaded["focus.schedule"] = saved
  t.ok(not ok, "expected an error")
  t.match(err, "focus_parsers_test%.lua:%d+: attempt to index")
end)

t.test("programmer errors raise", function()
  t.raises(function() pages.parse("nope", "<html></html>") end, "unknown page 'nope'")
  t.raises(function() pages.parse("portal", 42) end, "html must be a string")
  t.raises(function() pages.parse_api("grades", "{}") end, "unknown API kind 'grades'")
end)

---------------------------------------------------------------------------
-- sis parse

local function sis_parse(args)
  return t.exec(t.sis .. " parse " .. args)
end

t.test("sis parse prints the parser's JSON", function()
  local root = t.root .. "/tests/fixtures/focus/pages/"
  local code, out, err = sis_parse("focus/portal " .. root .. "Portal__mp326.html")
  t.eq(code, 0, err)
  same(decode(out), assert(pages.parse("portal", fixture("pages/Portal__mp326.html"))), "portal")
  t.match(out, '^{\n  "alert": ')
  code, out, err = sis_parse("focus/final_grades " .. root .. "APIEndpoint__finalGrades__requestGrades__all_SEM_exams.json exams")
  t.eq(code, 0, err)
  same(decode(out), decode(fixture("expected/exams.json")), "exams")
  code, out, err = sis_parse("focus/calendar_detail --id 711 " .. root .. "Calendar_detail__event_id=711.html")
  t.eq(code, 0, err)
  same(decode(out), decode(fixture("expected/calendar_occasions_711.json")), "popup")
  code, out, err = sis_parse("focus/demographic " .. root .. "Student__General_Info.html --picture " .. root .. "417.JPG")
  t.eq(code, 0, err)
  same(decode(out), decode(fixture("expected/demographic.json")), "demographic")
  code, out = sis_parse("focus/schedule - < " .. root .. "Schedule.html")
  t.eq(code, 0)
  t.eq(#decode(out).courses, 9)
end)

t.test("sis parse: usage and parse errors", function()
  local root = t.root .. "/tests/fixtures/focus/pages/"
  local code, out, err = sis_parse("--help")
  t.eq(code, 0)
  t.match(out, "usage: sis parse focus/PAGE FILE.html")
  for _, args in ipairs { "", "focus/portal", "nope/portal x", "focus/nope x", "focus/portal a b",
                          "focus/final_grades x", "focus/final_grades x bogus", "--bogus",
                          "focus/calendar_detail --id", "focus/portal /no/such/file" } do
    code, out, err = sis_parse(args)
    t.eq(code, 2, "sis parse " .. args .. " → " .. err)
    t.match(err, "^sis parse: ", args)
    t.eq(out, "")
  end
  code, out, err = sis_parse("focus/course " .. root .. "Schedule.html")
  t.eq(code, 1)
  t.eq(out, "")
  t.match(err, "^sis parse: focus/course: title 'Class Registration/Schedule' is not a course%-period title")
end)
