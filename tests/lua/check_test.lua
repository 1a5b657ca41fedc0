-- sis check, the drift report: live and from a cassette, Focus and ScoDoc,
-- on the fixture school and on schools whose pages changed. Also the field
-- lists it judges answers by (focus/contract.lua), derived from the corpus.
local t = require "testlib"
local json = require "sis.json"
local fields = require "lib.fields"
local school = require "school"
local fake = require "focus_fake"

local quote = school.quote

---------------------------------------------------------------------------
-- lib/fields.lua and the contract

t.test("fields: paths, counts and the first difference", function()
  local a = { courses = { ["1"] = { name = "A", days = "MW" }, ["2"] = { name = "B" } },
              list = json.array { 1, 2 }, periods = { ["1"] = { x = 1 }, advisory = { x = 2 } } }
  t.eq(fields.paths(a), { "courses", "courses.*.days", "courses.*.name", "list", "periods", "periods.*.x" })
  t.eq(fields.count({ a, { courses = {} } }, { "courses.*.days", "courses.*.name", "list", "nope.x" }), {
    { path = "courses.*.days", found = 1, of = 2 }, { path = "courses.*.name", found = 2, of = 2 },
    { path = "list", found = 1, of = 2 }, { path = "nope.x", found = 0, of = 0 },
  })
  t.eq(fields.diff(a, a), nil)
  t.eq(fields.diff({ x = { 1, 2 } }, { x = { 1, 3 } }), "x.2: 2 / 3")
  t.eq(fields.diff({ n = 1 }, { n = 1.0 }), "n: 1 / 1.0 (float)")
  t.eq(fields.diff({ a = "x" }, {}), 'a: "x" / nil')
end)

-- The expected answers (200 ones) of each page, as index.json lists them.
local function expected_by_page()
  local dir = "focus/expected/"
  local index = json.decode(t.fixture(dir .. "index.json"))
  local by = {}
  local function add(page, file)
    local v = json.decode(t.fixture(dir .. file))
    if not v.error then by[page] = fields.paths(v, by[page]) end
  end
  for _, call in ipairs(index.calls or index) do
    local path = call.request.path:gsub("^/api/v3/", "")
    if call.status == 200 and call.request.method == "GET" and not call.scenario then
      local page = ({ portal = "portal", schedule = "schedule", demographic = "demographic",
                      address = "address", referrals = "referrals", absences = "absences",
                      exams = "exams", final_grades = "final_grades",
                      semester_grades = "semester_grades" })[path]
      if path:find("^courses/%d+$") then page = "course" end
      if path:find("^calendar/%d+/%d+$") then page = "calendar" end
      if path:find("^calendar/%a+/%d+$") then page = "calendar_detail" end
      if page then add(page, call.file) end
    end
  end
  return by
end

t.test("focus/contract.lua is what the corpus's expected answers hold", function()
  local contract = require "focus.contract"
  local by = expected_by_page()
  for page, list in pairs(by) do
    local want = contract.pages[page] or contract.apis[page]
    t.eq(want, list, page)
  end
  local registry = require "focus.registry"
  for name in pairs(registry.pages) do
    if name ~= "final_grades_page" then t.ok(by[name], name .. " has expected answers") end
  end
  -- the final-grades page's is its parse of the corpus page
  local pages = require "focus.pages"
  t.eq(contract.pages.final_grades_page,
    fields.paths(assert(pages.parse("final_grades_page", t.fixture("focus/pages/StudentRCGrades.html")))))
  t.eq(contract.apis.quarter_grades, contract.apis.semester_grades)
end)

---------------------------------------------------------------------------
-- sis check against the fake Focus

local function check(focus, extra, env)
  return t.exec(string.format("%s SIS_FOCUS_PASSWORD=%s %s check --url %s --user %s %s </dev/null",
    env or "", quote(fake.password), t.sis, focus.base, fake.user, extra or ""))
end

local function page_of(report, name)
  for _, p in ipairs(report.reports[1].pages) do
    if p.name == name then return p end
  end
end

t.test("sis check on the fixture school: every page and API answer fetched, parsed, every field found; exit 0", function()
  local focus = fake.start()
  local code, out, err = check(focus, "--json")
  t.eq(code, 0, err)
  local report = json.decode(out)
  t.eq(report.ok, true)
  local names = {}
  for _, p in ipairs(report.reports[1].pages) do
    names[#names + 1] = p.name
    t.eq({ p.fetched, p.parsed, #p.warnings, #p.failures, #p.errors }, { p.of, p.of, 0, 0, 0 }, p.name)
  end
  t.eq(names, { "focus/absences", "focus/address", "focus/calendar", "focus/calendar_detail", "focus/course",
                "focus/demographic", "focus/final_grades_page", "focus/portal", "focus/referrals", "focus/schedule",
                "focus/final_grades:exams", "focus/final_grades:final_grades",
                "focus/final_grades:quarter_grades", "focus/final_grades:semester_grades" })
  local course = page_of(report, "focus/course")
  t.eq(course.of, 7, "every course of the portal")
  for _, f in ipairs(course.fields) do t.ok(f.found > 0, f.path .. " found") end
  t.eq(#page_of(report, "focus/calendar_detail").fields, 12)
  t.eq(focus.stats().sessions, 0, "logged out")
  code, out = check(focus)
  t.eq(code, 0)
  t.match(out, "\n  focus/course +ok +fetched 7/7  parsed 7/7  warnings 0  fields 29/29\n    found: assignments ")
  t.match(out, "\nsis check: every page fetched and parsed without a warning\n$")
end)

t.test("sis check on a changed school names the parser, the field and the selector; exit 1", function()
  local dir = school.copy()
  local file = "StudentGBGrades__course_period_id=24101__mp326.html"
  school.write(dir .. "/" .. file, (school.read(dir .. "/" .. file):gsub("GrayDrawHeader", "CategoryBox")))
  school.edit(dir, "Schedule.html", "LOy_row", "LOx_row") -- no rows: parsed, no course: told, not judged
  local focus = school.start(dir)
  local code, out = check(focus)
  t.eq(code, 1)
  t.match(out, "\n  focus/course +PROBLEM +fetched 7/7  parsed 7/7  warnings 1  fields 29/29\n" ..
    "    warning %(24101%): field categories: no match for 'td%.GrayDrawHeader, td%.DarkGradientBG'\n")
  t.match(out, "\n  focus/schedule +ok +fetched 1/1  parsed 1/1  warnings 0  fields 7/13\n" ..
    "    found: courses mp_years [^\n]*\n[^\n]*\n    no record to hold: courses%.%*%.days courses%.%*%.name ")
  t.match(out, "\nsis check: 1 page with problems\n$")
  local _, json_out = check(focus, "--json")
  local w = page_of(json.decode(json_out), "focus/course").warnings
  t.eq(w, { { parser = "focus/course", field = "categories", selector = "td.GrayDrawHeader, td.DarkGradientBG", args = "24101" } })
  -- a page that is not what its parser expects (the fake reads its pages when it starts)
  focus.stop()
  school.edit(dir, "Portal__mp326.html", "Featured Programs", "Featured Courses")
  focus = school.start(dir)
  code, out = check(focus)
  t.eq(code, 1)
  t.match(out, "\n  focus/portal +PROBLEM +fetched 1/1  parsed 0/1  warnings 0  fields 0/21\n" ..
    "    failed: focus/portal: no <td> whose text is 'Featured Programs'\n")
  t.match(out, "\n  focus/course +ok +fetched 0/0  parsed 0/0  warnings 0  fields 0/29\n    note: nothing to sample it with\n")
  os.execute("rm -rf " .. quote(dir))
end)

t.test("sis check --record, then --replay: the same report with no network, no password, no URL", function()
  local focus = fake.start()
  local cassette = t.tmpdir()
  local code, live, err = check(focus, "--json --record " .. cassette)
  t.eq(code, 0, err)
  focus.stop()
  local replayed
  code, replayed, err = t.exec(string.format("%s check --replay %s --json </dev/null", t.sis, cassette))
  t.eq(code, 0, err)
  t.eq(json.decode(replayed), json.decode(live))
  -- the global option works too
  code, replayed = t.exec(string.format("%s --replay %s check --json </dev/null", t.sis, cassette))
  t.eq({ code, json.decode(replayed) }, { 0, json.decode(live) })
  local c2, grep = t.exec(string.format("grep -rl %s %s", quote(fake.password), cassette))
  t.eq({ c2, grep }, { 1, "" }, "the password is in the cassette")
  os.execute("rm -rf " .. cassette)
end)

t.test("sis check usage errors", function()
  local code, _, err = t.exec(t.sis .. " check")
  t.eq(code, 2)
  t.match(err, "nothing to check")
  code, _, err = t.exec(t.sis .. " check --url x --user y")
  t.eq(code, 2)
  t.match(err, "http")
  code, _, err = t.exec(t.sis .. " check --password x")
  t.eq(code, 2)
  t.match(err, "never come from the command line")
  code, _, err = t.exec(t.sis .. " check --bogus")
  t.eq(code, 2)
  t.match(err, "unknown option %-%-bogus")
end)

---------------------------------------------------------------------------
-- ScoDoc

local SCODOC_USER, SCODOC_PASSWORD = "lecteur_api", "Lecture-Info-2021"

local function scodoc_check(server, extra)
  return t.exec(string.format("SIS_SCODOC_PASSWORD=%s %s check --scodoc-url %s/ --scodoc-user %s %s",
    quote(SCODOC_PASSWORD), t.sis, server.url, SCODOC_USER, extra or ""))
end

t.test("sis check on ScoDoc: each read function in JSON and XML, normalised, the same; exit 0", function()
  local server = t.server("python3 " .. t.root .. "/tests/servers/fake_scodoc.py")
  local code, out, err = scodoc_check(server, "--json")
  t.eq(code, 0, err)
  local report = json.decode(out).reports[1]
  local names = {}
  for _, p in ipairs(report.pages) do
    names[#names + 1] = p.name
    t.eq({ p.fetched, p.of, #p.failures }, { 2, 2, 0 }, p.name)
  end
  t.eq(names, { "scodoc/list_depts", "scodoc/formation_list", "scodoc/formsemestre_list",
                "scodoc/formation_export", "scodoc/formsemestre_partition_list", "scodoc/groups_view",
                "scodoc/etud_info", "scodoc/formsemestre_bulletinetud", "scodoc/ListeAbsEtud",
                "scodoc/EtatAbsencesGr", "scodoc/do_moduleimpl_list", "scodoc/do_moduleimpl_withmodule_list" })
end)

t.test("sis check on ScoDoc: an XML answer that no longer says what the JSON says is reported; exit 1", function()
  local dir = t.tmpdir()
  assert(os.execute(string.format("cp -r %s/tests/fixtures/scodoc/. %s/", quote(t.root), dir)))
  local xml = dir .. "/responses/INFO__Scolarite__etud_info__etudid=EID3112.xml"
  local text = school.read(xml)
  local changed, n = text:gsub(' nom="ANDRIEUX"', ' nom="ANDRIEU"', 1)
  assert(n == 1, "the fixture changed")
  school.write(xml, changed)
  local server = t.server(string.format("python3 %s/tests/servers/fake_scodoc.py --fixtures %s", t.root, dir))
  local code, out = scodoc_check(server)
  t.eq(code, 1, out)
  t.match(out, "\n  scodoc/etud_info +PROBLEM +fetched 2/2  parsed 2/2  warnings 0\n" ..
    "    failed: json and xml answers differ at nom: \"ANDRIEUX\" / \"ANDRIEU\"\n")
  os.execute("rm -rf " .. dir)
end)
