-- The change detectors (watch.focus_diff, watch.scodoc_diff, watch.diff) on
-- real service answers (the fixture corpora) with edits: exactly the
-- expected events, and none between two identical answers.
local t = require "testlib"
local json = require "sis.json"
local D = require "watch.diff"
local F = require "watch.focus_diff"
local S = require "watch.scodoc_diff"
local normalise = require "scodoc.normalise"
local functions = require "scodoc.functions"

local null = json.null

local function focus_answer(name) return assert(json.decode(t.fixture("focus/expected/" .. name .. ".json"))) end

local function focus_answers()
  return {
    courses = focus_answer("courses"), final_grades = focus_answer("final_grades"),
    semester_grades = focus_answer("semester_grades"), absences = focus_answer("absences"),
    referrals = focus_answer("referrals"),
    calendar = { focus_answer("calendar_2017_02"), focus_answer("calendar_2017_03") },
  }
end

-- kind, key and the event's values, for comparisons
local function brief(events)
  local out = {}
  for i, e in ipairs(events) do out[i] = { e.kind, e.key, e.old, e.new } end
  return out
end

local function find(list, field, value)
  for i, x in ipairs(list) do if x[field] == value then return x, i end end
end

t.test("identical answers give no event; a first snapshot is a baseline", function()
  local a, b = F.snapshot(focus_answers()), F.snapshot(focus_answers())
  t.eq(F.diff(a, b), {})
  t.eq(F.diff(nil, a), {})
  t.eq(F.diff({}, a), {}, "sections seen for the first time")
  t.ok(next(a.assignments) and next(a.final_grades) and next(a.absences) and next(a.calendar))
end)

t.test("focus: a grade posted, a course grade moved, a new assignment", function()
  local old = F.snapshot(focus_answers())
  local answers = focus_answers()
  local course = answers.courses.courses["24101"]
  local a = find(course.assignments, "name", "Prototype Critique 8") -- "ng" in the fixture
  a.status, a.student_grade, a.letter_overall_grade, a.percent_overall_grade = "graded", 47.0, "A", 94
  course.letter_grade, course.percent_grade = "A", 93
  table.insert(course.assignments, 1, { name = "Project Proposal 9", due = "2017-03-03T00:00:00",
    assigned = "2017-02-27T00:00:00", category = "Project Work", max_grade = 50, status = "ng" })
  -- a comment added to a graded assignment of another course
  local b = find(answers.courses.courses["24113"].assignments, "status", "graded")
  local old_comment = b.comment
  b.comment = "Redo problem 4"
  local events = F.diff(old, F.snapshot(answers))
  t.eq(#events, 4)
  t.eq(events[1], {
    kind = "focus.assignment.added", key = "24101|Project Proposal 9|2017-03-03T00:00:00",
    identity = { course_id = "24101", course = "Learning Studio", assignment = "Project Proposal 9",
                 due = "2017-03-03T00:00:00" },
    old = null, new = { status = "ng", max_grade = 50 } })
  t.eq(events[2], {
    kind = "focus.assignment.graded", key = "24101|Prototype Critique 8|2017-02-22T00:00:00",
    identity = { course_id = "24101", course = "Learning Studio", assignment = "Prototype Critique 8",
                 due = "2017-02-22T00:00:00" },
    old = { status = "ng", max_grade = 50 },
    new = { status = "graded", max_grade = 50, student_grade = 47.0, letter_overall_grade = "A",
            percent_overall_grade = 94 } })
  t.eq(events[3].kind, "focus.assignment.changed")
  t.eq(events[3].identity.course_id, "24113")
  t.eq({ events[3].old.comment, events[3].new.comment }, { old_comment, "Redo problem 4" })
  t.eq(events[4], {
    kind = "focus.course_grade.changed", key = "24101",
    identity = { course_id = "24101", course = "Learning Studio" },
    old = { letter_grade = "A-", percent_grade = 91 }, new = { letter_grade = "A", percent_grade = 93 } })
end)

t.test("focus: final grades posted and changed, absences, calendar, referrals", function()
  local old = F.snapshot(focus_answers())
  local answers = focus_answers()
  local g = answers.final_grades.grades
  g["221414"].letter_grade, g["221414"].percent_grade = "A-", 92
  g["230001"] = { id = "230001", name = "Physics", mp_name = "Semester 2", syear = 2016,
                  letter_grade = "B+", percent_grade = 88 }
  local day = answers.absences.absences["2017-02-14"]
  day.periods["1"].status = "excused"
  answers.absences.absences["2017-02-20"] = { date = "2017-02-20", status = "absent", periods = {
    ["3"] = { name = "Precalculus Honors", period = 3, status = "absent", last_updated = "2017-02-20T09:00:00" } } }
  local march = answers.calendar[2].events
  march["93999"] = { id = "93999", date = "2017-03-21", name = "Lab Report 9", type = "assignment" }
  march["799"] = { id = "799", date = "2017-03-22", name = "Science Fair", type = "occasion" }
  march["725"] = nil -- gone from the calendar: not an event
  answers.referrals.referrals["3400"] = { id = "3400", entry_date = "2017-02-21", violation = "Tardy" }
  t.eq(brief(F.diff(old, F.snapshot(answers))), {
    { "focus.final_grade.changed", "221414",
      { letter_grade = "A", percent_grade = 95, gpa_points = 4.0, credits_earned = 0.5 },
      { letter_grade = "A-", percent_grade = 92, gpa_points = 4.0, credits_earned = 0.5 } },
    { "focus.final_grade.posted", "230001", null, { letter_grade = "B+", percent_grade = 88 } },
    { "focus.absence.changed", "2017-02-14|1",
      { status = "tardy", last_updated = "2017-02-14T08:11:40" },
      { status = "excused", last_updated = "2017-02-14T08:11:40" } },
    { "focus.absence.added", "2017-02-20|3", null, { status = "absent", last_updated = "2017-02-20T09:00:00" } },
    { "focus.calendar_event.added", "799", null,
      { id = "799", date = "2017-03-22", name = "Science Fair", type = "occasion" } },
    { "focus.calendar_assignment.added", "93999", null,
      { id = "93999", date = "2017-03-21", name = "Lab Report 9", type = "assignment" } },
    { "focus.referral.added", "3400", null, { id = "3400", entry_date = "2017-02-21", violation = "Tardy" } },
  })
end)

t.test("focus: a section that failed keeps its last snapshot (no event now, the change later)", function()
  local old = F.snapshot(focus_answers())
  local answers = focus_answers()
  answers.final_grades.grades["221414"].percent_grade = 97
  local partial = focus_answers()
  partial.final_grades = nil -- this fetch failed
  local kept = D.merge(old, F.snapshot(partial))
  t.eq(F.diff(old, kept), {})
  local events = F.diff(kept, F.snapshot(answers))
  t.eq(#events, 1)
  t.eq(events[1].kind, "focus.final_grade.changed")
end)

-- ScoDoc: the recorded answers, normalised as scodoc.service answers them
local R = "scodoc/responses/INFO__"
local function scodoc_answer(name, file)
  local f = functions[name]
  return assert(normalise.apply(f.schema, assert(json.decode(t.fixture(R .. file))), { unescape = f.escaped.json }))
end
local function scodoc_answers()
  return {
    bulletin = scodoc_answer("formsemestre_bulletinetud",
      "Notes__formsemestre_bulletinetud__etudid=EID3101__formsemestre_id=SEM3190__version=long.json"),
    absences = scodoc_answer("ListeAbsEtud", "Absences__ListeAbsEtud__absjust_only=0__etudid=EID3102.json"),
    justified = scodoc_answer("ListeAbsEtud", "Absences__ListeAbsEtud__absjust_only=1__etudid=EID3102.json"),
  }
end

t.test("scodoc: identical answers give no event", function()
  local a = S.snapshot(scodoc_answers())
  t.eq(S.diff(a, S.snapshot(scodoc_answers())), {})
  t.eq(S.diff(nil, a), {})
  t.ok(next(a.notes) and next(a.modules) and next(a.absences))
end)

t.test("scodoc: a note changed, a note posted, averages, rank and a jury decision", function()
  local old = S.snapshot(scodoc_answers())
  local answers = scodoc_answers()
  local b = answers.bulletin
  local poo = b.ue[1].module[1]
  poo.evaluation[2].note = 9.75 -- DS POO, 8.25 in the fixture
  table.insert(poo.evaluation, { description = "TP2 POO", jour = "2021-03-15", coefficient = 1.0,
                                 evaluation_type = 0, note = 15.5 })
  poo.note.value = 11.0
  b.note.value, b.rang.value = 10.5, "9"
  b.decision = { code = "ADM", etat = "I", compense_formsemestre_id = null }
  t.eq(brief(S.diff(old, S.snapshot(answers))), {
    { "scodoc.note.changed", "MIP3199|DS POO|2021-03-08", { note = 8.25, coefficient = 2.0 },
      { note = 9.75, coefficient = 2.0 } },
    { "scodoc.note.posted", "MIP3199|TP2 POO|2021-03-15", null, { note = 15.5, coefficient = 1.0 } },
    { "scodoc.module_average.changed", "MIP3199", { value = 10.25 }, { value = 11.0 } },
    { "scodoc.average.changed", "semester", { value = 10.25 }, { value = 10.5 } },
    { "scodoc.rank.changed", "semester", { rank = null }, { rank = "9" } },
    { "scodoc.decision.posted", "semester", null, { code = "ADM", etat = "I" } },
  })
end)

t.test("scodoc: an absence added, one cancelled, one justified", function()
  local old = S.snapshot(scodoc_answers())
  local answers = scodoc_answers()
  local abs = answers.absences
  table.remove(abs, 1) -- 2021-02-22 afternoon, cancelled
  abs[#abs + 1] = { jour = "2021-03-08", ampm = "morning", datedmy = "2021-03-08", description = "",
                    motif = "", exams = "", matin = "matin" }
  abs[#abs + 1] = { jour = "2021-03-08", ampm = "afternoon", datedmy = "2021-03-08", description = "",
                    motif = "", exams = "", matin = "après-midi" }
  answers.justified[#answers.justified + 1] = { jour = "2021-02-22", ampm = "morning" }
  local events = S.diff(old, S.snapshot(answers))
  t.eq(brief(events), {
    { "scodoc.absence.cancelled", "2021-02-22|afternoon",
      { date = "2021-02-22", half_day = "afternoon", justified = false, description = "M2103" }, null },
    { "scodoc.absence.justified", "2021-02-22|morning",
      { date = "2021-02-22", half_day = "morning", justified = false, description = "M2103" },
      { date = "2021-02-22", half_day = "morning", justified = true, description = "M2103" } },
    { "scodoc.absence.added", "2021-03-08|afternoon", null,
      { date = "2021-03-08", half_day = "afternoon", justified = false } },
    { "scodoc.absence.added", "2021-03-08|morning", null,
      { date = "2021-03-08", half_day = "morning", justified = false } },
  })
  t.eq(events[1].identity, { date = "2021-02-22", half_day = "afternoon" })
end)

t.test("kinds: exact names, families and everything", function()
  t.ok(D.wants(nil, "focus.absence.added"))
  t.ok(D.wants({}, "focus.absence.added"))
  t.ok(D.wants({ "*" }, "scodoc.note.posted"))
  t.ok(D.wants({ "focus.absence" }, "focus.absence.added"))
  t.ok(D.wants({ "focus.absence.*" }, "focus.absence.changed"))
  t.ok(D.wants({ "scodoc.note.posted" }, "scodoc.note.posted"))
  t.ok(not D.wants({ "scodoc.note.posted" }, "scodoc.note.changed"))
  t.ok(not D.wants({ "focus.abs" }, "focus.absence.added"))
  t.ok(not D.wants({ "focus" .. ".absence" }, "focus.absences.x"))
  for kind in pairs(F.KINDS) do t.match(kind, "^focus%.[a-z_]+%.[a-z_]+$") end
  for kind in pairs(S.KINDS) do t.match(kind, "^scodoc%.[a-z_]+%.[a-z_]+$") end
end)
