-- Tolerant parsers (issue 9): a cell or field a parser cannot read is a
-- warning and the page still parses; Focus's points codes; the portal's
-- alerts. The corpus itself parses without a single warning.
local t = require "testlib"
local json = require "sis.json"
local http = require "sis.http"
local pages = require "focus.pages"
local school = require "school"
local fake = require "focus_fake"

local function page(name) return t.fixture("focus/pages/" .. name) end
local edit = school.replace

-- pages.parse with the log quiet → data, warnings (err and kind on failure)
local parse = school.parse

local PARSER_OF = {
  Portal = "portal", StudentGBGrades = "course", Schedule = "schedule", Calendar = "calendar",
  Calendar_detail = "calendar_detail", Referrals = "referrals", StudentSummary = "absences",
  StudentRCGrades = "final_grades_page",
}

t.test("the corpus parses without a single warning", function()
  local manifest = json.decode(page("manifest.json"))
  local n = 0
  for _, p in ipairs(manifest.pages) do
    local prefix = p.file:match("^([%a_]+)__") or p.file:match("^([%a_]+)%.html$")
    local name = PARSER_OF[prefix]
      or (p.file == "Student__General_Info.html" and "demographic")
      or (p.file == "Student__include=Address.html" and "address")
    if name then
      local data, list, kind = parse(name, page(p.file), { id = "1" })
      if data then
        n = n + 1
        t.eq(list, {}, p.file)
      else
        t.eq(kind, "missing", p.file .. ": " .. tostring(list)) -- the popups of unknown events
      end
    end
  end
  t.ok(n > 200, "pages parsed: " .. n)
  local _, list = pages.parse_api("final_grades", page("APIEndpoint__finalGrades__requestGrades__-1.json"))
  t.eq(list, nil)
end)

---------------------------------------------------------------------------
-- Points codes

local COURSE = "StudentGBGrades__course_period_id=24101__mp325.html" -- row 1: 9 / 10, 90% A-
local ROW1 = '<td class="LO_field">9 / 10</td><td class="LO_field">90% A-</td>'

-- The course page with the first assignment's points and grade cells replaced.
local function course_with(points, grade)
  return edit(page(COURSE), ROW1,
    '<td class="LO_field">' .. points .. '</td><td class="LO_field">' .. (grade or "") .. "</td>")
end

local CODES = {
  { "* / 10", { status = "excluded", max_grade = 10 } },
  { "E / 10", { status = "excluded", max_grade = 10 } },
  { "Excluded / 10", { status = "excluded", max_grade = 10 } },
  { "NG / 10", { status = "ng", max_grade = 10 } },
  { "M / 10", { status = "missing", max_grade = 10 } },
  { "Missing / 10", { status = "missing", max_grade = 10 } },
  { "EC / 10", { status = "extra", max_grade = 10 } },
  { "Extra / 10", { status = "extra", max_grade = 10 } },
  { "Extra  Credit / 10", { status = "extra", max_grade = 10 } },
  { "extra credit", { status = "extra" } },
  { "3 / 0", { status = "extra", student_grade = 3.0, max_grade = 0 } },
  { "I / 10", { status = "incomplete", max_grade = 10 } },
}

t.test("every points code parses, the rest of the page unchanged", function()
  local base = assert(parse("course", page(COURSE)))
  for _, case in ipairs(CODES) do
    local data, list = parse("course", course_with(case[1], "n/a"))
    t.ok(data, case[1] .. ": " .. tostring(list))
    t.eq(list, {}, case[1] .. ": no warning")
    local want = json.decode(json.encode(base))
    local first = want.assignments[1]
    for _, k in ipairs { "status", "student_grade", "max_grade", "percent_overall_grade", "letter_overall_grade" } do
      first[k] = nil
    end
    for k, v in pairs(case[2]) do first[k] = v end
    t.eq(data, want, case[1])
  end
end)

t.test("an unknown points code: lower-cased as the status, no grade, a warning", function()
  local data, list = parse("course", course_with("Z / 10", ""))
  t.ok(data, list)
  local a = data.assignments[1]
  t.eq({ a.status, a.student_grade, a.max_grade }, { "z", nil, 10 })
  t.eq(list, { { parser = "focus/course", field = "assignments.*.status", row = "LOy_row1",
                 selector = "td.LO_field (2nd)", message = "unknown points code", seen = "Z / 10" } })
  t.eq(data.assignments[2], assert(parse("course", page(COURSE))).assignments[2], "the next row unchanged")
end)

t.test("cells that cannot be read are omitted with a warning; the course still parses", function()
  local html = edit(page(COURSE), "<!-- 20170118 -->Jan 18, 2017</td>", "soon</td>") -- due of row 1
  html = edit(html, '<td class="LO_field">9.5 / 10</td><td class="LO_field">95% A</td>',
    '<td class="LO_field">9.5 / ten</td><td class="LO_field">great</td>')
  local data, list = parse("course", html)
  t.ok(data, list)
  local fields = {}
  for _, w in ipairs(list) do fields[#fields + 1] = w.field .. " " .. w.row .. " " .. w.seen end
  table.sort(fields)
  t.eq(#fields, 3, table.concat(fields, "; "))
  t.match(fields[1], "^assignments%.%*%.due LOy_row1 soon$")
  t.match(fields[2], "^assignments%.%*%.max_grade LOy_row%d+ 9%.5 / ten$")
  t.match(fields[3], "^assignments%.%*%.percent_overall_grade LOy_row%d+ great$")
  t.eq(data.assignments[1].due, nil)
  -- a row too short to be an assignment is skipped with a warning
  html = page(COURSE):gsub('(<tr id="LOy_row1"[^>]*>).-(</tr>)', '%1<td class="LO_field">Status Check 3</td>%2')
  data, list = parse("course", html)
  t.ok(data, list)
  t.eq(#data.assignments, #assert(parse("course", page(COURSE))).assignments - 1)
  t.eq(list[1].field, "assignments")
  t.eq(list[1].row, "LOy_row1")
end)

t.test("a renamed category-table class: categories omitted, a warning naming the selector", function()
  local data, list = parse("course", (page(COURSE):gsub("GrayDrawHeader", "CategoryBox")))
  t.ok(data, list)
  local want = assert(parse("course", page(COURSE)))
  t.ok(want.categories and #want.categories > 0)
  want.categories = nil
  t.eq(data, want, "everything else read")
  t.eq(list, { { parser = "focus/course", field = "categories", selector = "td.GrayDrawHeader, td.DarkGradientBG" } })
end)

t.test("through sis serve: the page with a changed class answers 200 with what was read and X-Sis-Warnings", function()
  local dir = school.copy()
  local file = "StudentGBGrades__course_period_id=24101__mp326.html"
  school.write(dir .. "/" .. file, (page(file):gsub("GrayDrawHeader", "CategoryBox")))
  local focus = school.start(dir)
  local srv = t.server(string.format("%s serve --listen 127.0.0.1:0 --focus-url %s", t.sis, focus.base))
  local client <close> = http.session { timeout = 20 }
  assert(client:post(srv.url .. "/api/v3/session", { json = { username = fake.user, password = fake.password } }))
  local res = assert(client:get(srv.url .. "/api/v3/courses/24101"))
  t.eq(res.status, 200)
  t.eq(res.headers["x-sis-warnings"], "1")
  local want = json.decode(t.fixture("focus/expected/courses_24101.json"))
  want.categories = nil
  t.eq(json.decode(res.body), want)
  -- /courses reads every course page: the warning counts there too
  res = assert(client:get(srv.url .. "/api/v3/courses"))
  t.eq(res.status, 200)
  t.eq(res.headers["x-sis-warnings"], "1")
  t.match(srv.log(), 'warn  %[%x+%] warning parser=focus/course n=%d+ field=categories selector="td%.GrayDrawHeader, td%.DarkGradientBG"\n')
  os.execute("rm -rf " .. school.quote(dir))
end)

---------------------------------------------------------------------------
-- Portal

local PORTAL = "Portal__mp326.html"
local ALERT = '<a href="Modules.php?modname=Attendance/StudentSummary.php&amp;force_package=SIS" class="portal_alert">'

t.test("portal: several alerts give `alerts` (message + url), `alert` stays the first", function()
  local html = edit(page(PORTAL), ALERT,
    '<a href="Modules.php?modname=Grades/Bus.php" class="portal_alert">Bus 12 is late\n</a><br>' .. ALERT)
  local data, list = parse("portal", html)
  t.ok(data, list)
  t.eq(list, {})
  t.eq(data.alert, "Bus 12 is late")
  t.eq(data.alerts, {
    { message = "Bus 12 is late", url = "Modules.php?modname=Grades/Bus.php" },
    { message = "You have been absent 18 periods",
      url = "Modules.php?modname=Attendance/StudentSummary.php&force_package=SIS" },
  })
  local one = assert(parse("portal", page(PORTAL)))
  t.eq({ one.alert, one.alerts }, { "You have been absent 18 periods", nil }, "one alert: the answer as before")
  -- the rest is the page's usual answer
  data.alert, data.alerts, one.alert = nil, nil, nil
  t.eq(data, one)
end)

t.test("portal: a course link that is no course title gives a warning (the course keeps id and grade)", function()
  local html = edit(page(PORTAL), "Learning Studio - Period 1 - MWH - 112 - Harriet Anne Calloway", "Learning Studio (P1)")
  local data, list = parse("portal", html)
  t.ok(data, list)
  t.eq(data.courses["24101"].name, nil)
  t.ok(data.courses["24101"].percent_grade)
  t.eq(#list, 1)
  t.eq({ list[1].field, list[1].row }, { "courses.*.name", "24101" })
  t.eq(list[1].seen, "Learning Studio (P1)")
end)
