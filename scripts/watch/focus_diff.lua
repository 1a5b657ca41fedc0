-- Focus changes as events (pure): snapshot(answers) turns the focus.service
-- answers of one poll into a snapshot, diff(old, new) lists the events.
--
-- answers: { courses = GET courses, final_grades =, semester_grades =,
-- quarter_grades =, absences =, referrals =, calendar = {calendar month
-- answers...} }, each present only when it was fetched and answered 200.
local D = require "watch.diff"

local M = {}

-- kind -> the service answer it is computed from (the poller fetches only
-- what the subscription's kinds need).
M.KINDS = {
  ["focus.assignment.added"] = "courses",
  ["focus.assignment.graded"] = "courses",
  ["focus.assignment.changed"] = "courses",
  ["focus.course_grade.changed"] = "courses",
  ["focus.final_grade.posted"] = "final_grades",
  ["focus.final_grade.changed"] = "final_grades",
  ["focus.semester_grade.posted"] = "semester_grades",
  ["focus.semester_grade.changed"] = "semester_grades",
  ["focus.quarter_grade.posted"] = "quarter_grades",
  ["focus.quarter_grade.changed"] = "quarter_grades",
  ["focus.absence.added"] = "absences",
  ["focus.absence.changed"] = "absences",
  ["focus.calendar_assignment.added"] = "calendar",
  ["focus.calendar_event.added"] = "calendar",
  ["focus.referral.added"] = "referrals",
}

local ASSIGNMENT = { "status", "student_grade", "max_grade", "letter_overall_grade",
                     "percent_overall_grade", "comment" }
local COURSE_GRADE = { "letter_grade", "percent_grade" }
local FINAL_GRADE = { "letter_grade", "percent_grade", "gpa_points", "credits_earned", "comment" }
local ABSENCE = { "status", "name", "last_updated" }

local function map(t) return type(t) == "table" and t or {} end

local function courses_sections(answer, snap)
  local grades, assignments = {}, {}
  for cid, c in pairs(map(answer.courses)) do
    grades[cid] = D.pick(c, COURSE_GRADE)
    grades[cid].course = c.name
    local seen = {}
    for _, a in ipairs(map(c.assignments)) do
      -- assignments have no id: course, name and due date, numbered if repeated
      local key = string.format("%s|%s|%s", cid, tostring(a.name), tostring(a.due))
      seen[key] = (seen[key] or 0) + 1
      if seen[key] > 1 then key = key .. "#" .. seen[key] end
      local r = D.pick(a, ASSIGNMENT)
      r.course_id, r.course, r.name, r.due = cid, c.name, a.name, a.due
      assignments[key] = r
    end
  end
  snap.course_grades, snap.assignments = grades, assignments
end

local function grades_section(answer)
  local out = {}
  for id, g in pairs(map(answer.grades)) do
    local r = D.pick(g, FINAL_GRADE)
    r.course, r.mp_name, r.syear = g.name, g.mp_name, g.syear
    out[id] = r
  end
  return out
end

local function absences_section(answer)
  local out = {}
  for date, day in pairs(map(answer.absences)) do
    local periods = map(day.periods)
    if next(periods) == nil then
      out[date .. "|day"] = { date = date, status = day.status }
    end
    for period, p in pairs(periods) do
      local r = D.pick(p, ABSENCE)
      r.date, r.period = date, tostring(period)
      out[date .. "|" .. tostring(period)] = r
    end
  end
  return out
end

local function calendar_section(months)
  local out = {}
  for _, answer in ipairs(months) do
    for id, ev in pairs(map(answer.events)) do
      out[id] = D.pick(ev, { "id", "date", "name", "type" })
    end
  end
  return out
end

local function referrals_section(answer)
  local out = {}
  for id, r in pairs(map(answer.referrals)) do
    out[id] = D.pick(r, { "id", "entry_date", "violation", "other_violation", "teacher", "processed" })
  end
  return out
end

function M.snapshot(answers)
  local snap = {}
  if answers.courses then courses_sections(answers.courses, snap) end
  for _, name in ipairs { "final_grades", "semester_grades", "quarter_grades" } do
    if answers[name] then snap[name] = grades_section(answers[name]) end
  end
  if answers.absences then snap.absences = absences_section(answers.absences) end
  if answers.calendar then snap.calendar = calendar_section(answers.calendar) end
  if answers.referrals then snap.referrals = referrals_section(answers.referrals) end
  return snap
end

-- The values an event reports: the record without its identity fields.
local function values(r, identity_fields)
  if r == nil then return nil end
  local out = {}
  for k, v in pairs(r) do
    if not identity_fields[k] then out[k] = v end
  end
  return out
end

local ASSIGNMENT_ID = { course_id = true, course = true, name = true, due = true }
local GRADE_ID = { course = true, mp_name = true, syear = true }
local ABSENCE_ID = { date = true, period = true, name = true }

local function is_graded(r)
  return r ~= nil and r.status == "graded" and r.student_grade ~= nil
end

function M.diff(old, new)
  local events = {}
  local function emit(...) events[#events + 1] = D.event(...) end

  D.each_change(old, new, "assignments", function(key, o, n)
    if not n then return end -- gone from the gradebook: not reported
    local id = { course_id = n.course_id, course = n.course, assignment = n.name, due = n.due }
    local kind = (is_graded(n) and not is_graded(o)) and "focus.assignment.graded"
      or (o and "focus.assignment.changed" or "focus.assignment.added")
    emit(kind, key, id, values(o, ASSIGNMENT_ID), values(n, ASSIGNMENT_ID))
  end)
  D.each_change(old, new, "course_grades", function(key, o, n)
    if not (o and n) then return end -- a new or dropped course is not a grade change
    emit("focus.course_grade.changed", key, { course_id = key, course = n.course },
      values(o, { course = true }), values(n, { course = true }))
  end)
  for _, name in ipairs { "final_grades", "semester_grades", "quarter_grades" } do
    local family = "focus." .. name:gsub("s$", "")
    D.each_change(old, new, name, function(key, o, n)
      if not n then return end
      emit(family .. (o and ".changed" or ".posted"), key,
        { id = key, course = n.course, mp_name = n.mp_name, syear = n.syear },
        values(o, GRADE_ID), values(n, GRADE_ID))
    end)
  end
  D.each_change(old, new, "absences", function(key, o, n)
    if not n then return end
    emit(o and "focus.absence.changed" or "focus.absence.added", key,
      { date = n.date, period = n.period, course = n.name }, values(o, ABSENCE_ID), values(n, ABSENCE_ID))
  end)
  D.each_change(old, new, "calendar", function(key, o, n)
    if o or not n then return end -- only new entries: a calendar keeps its past
    local kind = n.type == "assignment" and "focus.calendar_assignment.added" or "focus.calendar_event.added"
    emit(kind, key, { id = key, name = n.name, date = n.date }, nil, n)
  end)
  D.each_change(old, new, "referrals", function(key, o, n)
    if o or not n then return end
    emit("focus.referral.added", key, { id = key }, nil, n)
  end)
  return events
end

return M
