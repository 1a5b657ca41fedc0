-- Defects found by the review of the Focus support (scripts/focus/*): each
-- test shows one, on a saved page of tests/fixtures/focus with a small edit
-- (or the fake Focus server), and would fail on the code before its fix.
local t = require "testlib"
local json = require "sis.json"
local pages = require "focus.pages"

local function page(name) return t.fixture("focus/pages/" .. name) end

-- s with the first occurrence of the plain text `from` replaced by `to`
-- (which must be there: the fixture changed otherwise).
local function edit(s, from, to)
  local i, j = s:find(from, 1, true)
  assert(i, "fixture text not found: " .. from)
  return s:sub(1, i - 1) .. to .. s:sub(j + 1)
end

local COURSE = "StudentGBGrades__course_period_id=24101__mp326.html"

-- What a probe chunk starts with: the same helpers, in the child.
local PRELUDE = [[
  local pages, common = require "focus.pages", require "focus.common"
  local COURSE = "]] .. COURSE .. [["
  local function page(name)
    local f = assert(io.open(]] .. string.format("%q", t.root) .. [[ .. "/tests/fixtures/focus/pages/" .. name, "rb"))
    local s = f:read("a"); f:close(); return s
  end
  local function edit(s, from, to)
    local i, j = s:find(from, 1, true)
    return s:sub(1, i - 1) .. to .. s:sub(j + 1)
  end
]]

-- Runs `code` (a Lua chunk printing its result, after PRELUDE) in a separate
-- `sis run` with a 60 s limit: hostile inputs that made a pattern super-linear
-- do not finish there, linear code takes milliseconds. → stdout (the test
-- fails otherwise).
local function bounded(code)
  local dir = t.tmpdir()
  local f = assert(io.open(dir .. "/probe.lua", "wb"))
  f:write(PRELUDE, code)
  f:close()
  local status, out, err = t.exec(string.format("timeout 60 %s run %s/probe.lua", t.sis, dir))
  os.execute("rm -rf " .. dir)
  t.eq(status, 0, "probe did not finish (killed after 60 s?) " .. err)
  return out
end

---------------------------------------------------------------------------
-- Hostile pages: Lua patterns that backtrack

t.test("course: a points cell of blanks without '/' is read at once (the split pattern was cubic)", function()
  -- "^%s*(.-)%s*/%s*(.-)%s*$" on 2000 blanks + "x" took 27 s, 64 KB hours
  local out = bounded([[
    local function with(points)
      return edit(page(COURSE), '<td class="LO_field">9 / 10</td>', '<td class="LO_field">' .. points .. '</td>')
    end
    local blanks = string.rep(" ", 1 << 16)
    -- (an unknown points code: kept as the status, with a warning; issue 9)
    local data = assert(pages.parse("course", with(blanks .. "x" .. blanks .. "y")))
    print(data.assignments[4].status, data.assignments[4].student_grade)
    data = assert(pages.parse("course", with(blanks .. "9" .. blanks .. "/" .. blanks .. "10" .. blanks)))
    print(data.assignments[4].student_grade, data.assignments[4].max_grade, data.assignments[4].status)
  ]])
  t.eq(out, "x y\tnil\n9.0\t10\tgraded\n")
end)

t.test("strip and number are linear: blank cells, NBSP runs (their patterns were quadratic)", function()
  -- strip's "^%s*(.*%S)" on 20 KB of blanks took 4 s; number's
  -- "^%s*([+-]?%d*%.?%d*)%s*$" on blanks + "x" 3 s; 1 MB, hours
  local out = bounded([[
    local blanks, nbsp = string.rep(" \t\n", 1 << 18), string.rep("\194\160", 1 << 18)
    print(common.strip(blanks) == "", common.strip(nbsp) == "", common.strip(blanks .. nbsp .. " x y" .. nbsp .. blanks) == "x y")
    print(common.number(blanks .. "x"), common.number(blanks .. "85" .. nbsp), common.number(nbsp .. "-92.5 "))
    -- a comment cell of blanks is no comment
    local html = edit(page(COURSE), '<td class="LO_field">Grading in progress</td>', '<td class="LO_field">' .. blanks .. '</td>')
    print(assert(pages.parse("course", html)).assignments[5].comment)
  ]])
  t.eq(out, "true\ttrue\ttrue\nnil\t85\t-92.5\nnil\n")
end)

t.test("grade, bus, 'Last Modified' and '(Teacher)' trims are linear (their '(.-)%s*$' patterns were quadratic)", function()
  local out = bounded([[
    local B = string.rep(" ", 1 << 20)
    local course = assert(pages.parse("course", edit(page(COURSE),
      "91%&nbsp;A-</b>", "91%&nbsp;A" .. B .. "x" .. B .. "</b>")))
    print(course.percent_grade, #course.letter_grade)
    local portal = assert(pages.parse("portal", edit(page("Portal__mp326.html"),
      "91%&nbsp;A-</a>", "91%&nbsp;A" .. B .. "x" .. B .. "</a>")))
    print(portal.courses["24101"].percent_grade, #portal.courses["24101"].letter_grade)
    local absences = assert(pages.parse("absences", edit(page("StudentSummary.html"),
      "Last Modified: 2017-02-14 08:11:40", "Last Modified: 2017-02-14" .. B .. "x" .. B)))
    print(absences.absences["2017-02-14"].periods["1"].last_updated)
    local demographic = assert(pages.parse("demographic", edit(page("Student__General_Info.html"),
      ">14/22<", ">14" .. B .. "22" .. B .. "x<")))
    print(#demographic.arrival_bus, demographic.arrival_bus == demographic.dismissal_bus)
    print(common.person_name("Calloway, Harriet (Teacher)" .. B .. "x" .. B) == "Harriet (Teacher)" .. " x Calloway",
          common.person_name("Calloway, Harriet (Teacher) "))
  ]])
  t.eq(out, "91\t" .. ((1 << 20) + 2) .. "\n91\t" .. ((1 << 20) + 2) ..
    "\nnil\n" .. (2 * (1 << 20) + 5) .. "\ttrue\ntrue\tHarriet Calloway\n")
end)

---------------------------------------------------------------------------
-- Valid page variants read wrong

local function keys(t)
  local out = {}
  for k in pairs(t or {}) do out[#out + 1] = k end
  table.sort(out)
  return out
end

t.test("portal: course links with another parameter or the '&course_period_id=' form keep their ids", function()
  local html = page("Portal__mp326.html")
  local want = assert(pages.parse("portal", html))
  t.eq(keys(want.courses), { "24101", "24107", "24113", "24119", "24125", "24131", "24137" })
  -- an extra parameter after the id made the id "24101&side_mp=326"
  local extra = assert(pages.parse("portal", (html:gsub('(course_period_id=%d+)"', '%1&amp;side_mp=326"'))))
  t.eq(extra.courses, want.courses)
  -- the "&" form (Focus writes both) gave no course at all, silently
  local amp = assert(pages.parse("portal",
    (html:gsub("StudentGBGrades%.php%?course_period_id=", "StudentGBGrades.php&amp;course_period_id="))))
  t.eq(amp.courses, want.courses)
end)

---------------------------------------------------------------------------
-- Service

t.test("a login, refused or not, does not leave its password registered for redaction", function()
  -- every refused POST /api/v3/session added a registration that nothing
  -- removed: the redaction list (scanned for every log line) grew without bound
  local log = require "sis.log"
  local focus = require "focus.service"
  local server = require("focus_fake").start()
  local pw = "review-" .. require("sis.codec").random_hex(8)
  local state, status = focus.login { base_url = server.base, username = "nobody", password = pw, timeout = 10 }
  t.eq({ state, status }, { nil, 401 })
  t.eq(log.redact("tried " .. pw), "tried " .. pw)
  -- nor does one that succeeds: a password is registered while a client
  -- that sends it is open (sessions that expire unseen would keep theirs)
  local fake = require "focus_fake"
  state = assert(focus.login { base_url = server.base, username = fake.user, password = fake.password, timeout = 10 })
  t.eq(log.redact("x " .. fake.password), "x " .. fake.password)
  do
    local c <close> = require("focus.client").open(state)
    t.eq(log.redact("x " .. fake.password), "x ***")
  end
  t.eq(log.redact("x " .. fake.password), "x " .. fake.password)
  focus.logout(state)
end)

t.test("final grades: a teacher that is a JSON number is written as text, not a Lua error", function()
  local answer = edit(page("APIEndpoint__finalGrades__requestGrades__-1.json"),
    '"teacher":"Fisk, Madeleine"', '"teacher":1042')
  local ok, data = pcall(pages.parse_api, "final_grades", answer)
  t.ok(ok, "raised: " .. tostring(data))
  local teachers = {}
  for _, g in pairs(data.grades) do teachers[g.teacher] = true end
  t.ok(teachers["1042"], "the numeric teacher is kept as text")
end)

t.test("course: blanks around the title and the 'Extra Credit' grade are not data", function()
  local html = page(COURSE)
  local spaced = edit(edit(html, "<title>Learning Studio - Period 1", "<title>\n\tLearning Studio - Period 1"),
    '<td class="LO_field">90% A-</td>', '<td class="LO_field">\n  Extra Credit\n</td>')
  local data = assert(pages.parse("course", spaced))
  t.eq({ data.name, data.period, data.teacher }, { "Learning Studio", 1, "Harriet Anne Calloway" })
  t.eq(data.assignments[4].status, "extra") -- was "graded", without a grade
end)

t.test("calendar and referrals: event ids and student names are read in one pass", function()
  -- "_id=(.-)&year" rescanned the onclick from every "_id=", "<[^>]*>" the
  -- student cell from every '<': a long attribute or cell held a worker
  local out = bounded([==[
    local cal = page("Calendar__2016-11.html")
    local hostile = edit(cal, "event_id=703&amp;year=2016", "event_id=703" .. string.rep("&amp;a_id=x", 100000))
    local data = assert(pages.parse("calendar", hostile))
    print(data.events["703"] and data.events["703"].id)
    hostile = edit(cal, "event_id=703&amp;year=2016", string.rep("a_id=", 200000) .. "703")
    data = assert(pages.parse("calendar", hostile))
    for id in pairs(data.events) do -- the value after the first "_id=", to the quote
      if id:find("^a_id=") then print(#id, id:sub(-8)) end
    end
    -- an empty id before the event's: the event's, not "&event_id=704"
    data = assert(pages.parse("calendar", edit(cal, "event_id=704", "other_id=&amp;event_id=704")))
    print(data.events["704"] and data.events["704"].id)
    local refs = page("Referrals.html")
    local cell = [["_student":"<a href=\"Modules.php?modname=Students\/Student.php&student_id=417\">Whitcombe, Jonah Peter<\/a>"]]
    local r = assert(pages.parse("referrals", edit(refs, cell, [["_student":"<a>]] .. string.rep("<", 200000) .. [[ Whitcombe, Jonah<\/a>"]])))
    local name = r.referrals["3168"].name
    print(#name, name:sub(1, 6), name:sub(-11))
    print(assert(pages.parse("referrals", refs)).referrals["3168"].name)
  ]==])
  t.eq(out, "703\n999998\ta_id=703\n704\n200016\tJonah \t< Whitcombe\nJonah Peter Whitcombe\n")
end)

t.test("absences: tooltips split at <br>, <br/> or <br /> as at <BR>", function()
  local html = page("StudentSummary.html")
  local want = assert(pages.parse("absences", html))
  local n = 0
  for _, br in ipairs { "&lt;br&gt;", "&lt;br/&gt;", "&lt;br /&gt;", "&lt;Br  /&gt;" } do
    local variant, k = html:gsub("&lt;BR&gt;", br)
    n = n + k
    t.eq(assert(pages.parse("absences", variant)), want, br)
  end
  t.ok(n > 0, "the fixture has <BR> tooltips")
  t.eq(want.absences["2017-02-14"].periods["1"].last_updated_by, "Harriet Anne Calloway")
end)

t.test("course titles: a name holding ' - ' keeps its period, term, days, room and teacher", function()
  local common = require "focus.common"
  t.eq(common.course_title("Math - Honors - Period 3 - S2 - MWF - 112 - Ada  Lovelace", true),
       { name = "Math - Honors", period = 3, term = "s2", days = "MWF", room = "112", teacher = "Ada Lovelace" })
  t.eq(common.course_title("Economics - Period 6 - MWH - 150 - Alan T Brewster", true),
       { name = "Economics", period = 6, days = "MWH", room = "150", teacher = "Alan T Brewster" })
  -- no period part: the name is the first part, as before
  t.eq(common.course_title("Advisory - MTWHF - 161 - Teacher", true),
       { name = "Advisory", days = "MTWHF", room = "161", teacher = "Teacher" })
  t.eq(common.course_title("Period 1 - MWH - 112 - Teacher", false),
       { period = 1, days = "MWH", room = "112", teacher = "Teacher" })
  -- on a page: the portal's course list
  local html = page("Portal__mp325.html")
  local want = assert(pages.parse("portal", html))
  local honors = assert(pages.parse("portal", (html:gsub("Learning Studio %- Period", "Learning Studio - Honors - Period"))))
  want.courses["24101"].name = "Learning Studio - Honors"
  t.eq(honors, want)
end)

t.test("text_without finds a label's last occurrence in one search", function()
  -- one plain find per occurrence: a cell of 300k 'a' with a 100k 'a' label
  -- compared 100k bytes at each of 200k places
  local out = bounded([[
    local html = require "sis.html"
    local function without(h)
      local doc = html.parse("<div>" .. h .. "</div>")
      return common.text_without(doc:select_one("div"), "small")
    end
    print(without("123 Main St<br><small>Street</small>"), without("Label x Label<br><small>Label</small>"))
    print(#without(string.rep("a", 200000) .. "<small>" .. string.rep("a", 100000) .. "</small>"))
  ]])
  t.eq(out, "123 Main St\tLabel x Label\n200000\n")
end)
