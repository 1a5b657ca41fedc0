-- The REST reference of the focus-api routes (scripts/focus/rest.lua), keyed
-- by "METHOD /path" as the route table spells it (scripts/openapi/build.lua
-- checks that each route has one entry and each entry a route). Fields the
-- parsers add later are allowed: the schemas list what is known, typed.
local S = require "openapi.dsl"

local C = {} -- components

C.MarkingPeriods = S.map(S.obj({ id = S.str, name = S.str, year = S.int, selected = S.bool }, { required = { "id", "name" } }))
local with_mps = { mps = S.ref("MarkingPeriods"), mp_years = S.arr(S.int) }

C.Session = S.obj({ username = S.str, timeout = S.int }, { required = true })
C.Assignment = S.obj({
  name = S.str, assigned = S.str, due = S.str, category = S.str, description = S.str, comment = S.str,
  status = S.str, max_grade = S.num, student_grade = S.num, letter_overall_grade = S.str,
  percent_overall_grade = S.num,
}, { required = { "name" } })
C.Course = S.obj({
  id = S.str, name = S.str, teacher = S.str, period = S.either("integer", "string"), days = S.str,
  letter_grade = S.str, percent_grade = S.num, assignments = S.arr(S.ref("Assignment")),
  categories = S.arr(S.obj({ name = S.str, letter_grade = S.str, percent_grade = S.num, percent_weight = S.num },
                           { required = { "name" } })),
  mps = S.ref("MarkingPeriods"), mp_years = S.arr(S.int),
}, { required = { "id", "name" } })
C.Portal = S.obj({
  courses = S.map(S.obj({ id = S.str, name = S.str, teacher = S.str, period = S.either("integer", "string"),
    days = S.str, letter_grade = S.str, percent_grade = S.num,
    assignments = S.arr(S.obj({ name = S.str, due = S.str }, { required = { "name" } })) }, { required = { "id", "name" } })),
  events = S.arr(S.obj({ date = S.str, description = S.str })),
  alert = S.str, mps = with_mps.mps, mp_years = with_mps.mp_years,
}, { required = { "courses" } })
C.Courses = S.obj({ courses = S.map(S.ref("Course")), mps = with_mps.mps, mp_years = with_mps.mp_years },
                  { required = { "courses" } })
C.Schedule = S.obj({ courses = S.arr(S.obj({ name = S.str, period = S.either("integer", "string"), days = S.str,
  room = S.str, teacher = S.str, term = S.str }, { required = { "name" } })), mps = with_mps.mps,
  mp_years = with_mps.mp_years }, { required = { "courses" } })
C.CalendarEvent = S.obj({ id = S.str, date = S.date, name = S.str, type = S.enum("assignment", "occasion") },
                        { required = { "id", "date", "name", "type" } })
C.Calendar = S.obj({ year = S.int, month = S.int, day = S.int, events = S.map(S.ref("CalendarEvent")),
                     mps = with_mps.mps, mp_years = with_mps.mp_years }, { required = { "year" } })
C.CalendarDetail = S.obj({ id = S.str, type = S.str, title = S.str, date = S.date, school = S.str, notes = S.str,
  course = S.obj({ name = S.str, teacher = S.str, period = S.either("integer", "string"), days = S.str, term = S.str }) },
  { required = { "id", "type" } })
C.Demographic = S.obj({ name = S.str, username = S.str, id = S.int, grade = S.int, birthday = S.str, gender = S.str,
  email = S.str, picture = S.str, mps = with_mps.mps, mp_years = with_mps.mp_years })
C.Address = S.obj({ address = S.str, city = S.str, state = S.str, zip = S.str, phone = S.str,
  contacts = S.arr(S.obj({ name = S.str, relationship = S.str, address = S.str, email = S.str })),
  mps = with_mps.mps, mp_years = with_mps.mp_years })
C.Referral = S.obj({ id = S.str, name = S.str, violation = S.str, other_violation = S.str, teacher = S.str,
  entry_date = S.str, creation_date = S.str, last_updated = S.str, processed = S.bool, display = S.bool,
  grade = S.int, school = S.str, school_year = S.int, notification_sent = S.int,
  mps = with_mps.mps, mp_years = with_mps.mp_years }, { required = { "id" } })
C.Referrals = S.obj({ referrals = S.map(S.ref("Referral")), mps = with_mps.mps, mp_years = with_mps.mp_years },
                    { required = { "referrals" } })
C.Absences = S.obj({
  absences = S.map(S.obj({ date = S.date, status = S.str, periods = S.map(S.obj({ name = S.str,
    period = S.either("integer", "string"), status = S.str, teacher = S.str, days = S.str, last_updated = S.str,
    last_updated_by = S.str })) }, { required = { "date" } })),
  mps = with_mps.mps, mp_years = with_mps.mp_years,
}, { required = { "absences" } })
C.FinalGrade = S.obj({ id = S.str, name = S.str, course_id = S.str, course_num = S.str, mp_id = S.str,
  mp_name = S.str, syear = S.int, letter_grade = S.str, percent_grade = S.num, gpa_points = S.num,
  weighted_gpa_points = S.num, credits = S.num, credits_earned = S.num, comment = S.str, teacher = S.str,
  affects_gpa = S.bool, grade_level = S.int, last_updated = S.str, last_updated_by = S.str, location = S.str,
  scale = S.str, subject = S.str }, { required = { "id" } })
C.FinalGrades = S.obj({ grades = S.map(S.ref("FinalGrade")) }, { required = { "grades" } })
C.Exams = S.obj({ exams = S.map(S.ref("FinalGrade")) }, { required = { "exams" } })

local routes = {}
local function route(key, e)
  e.tag, e.session = "Focus", e.session == nil and "focus" or e.session or nil
  routes[key] = e
end

local UPSTREAM = { 403, 502, 504 }

route("GET /api/v3/session", { summary = "The logged-in user and Focus's session timeout",
  responses = { [200] = S.ref("Session") }, errors = { 403 } })
route("POST /api/v3/session", { summary = "Log in to Focus (sets the sis_focus cookie)", session = false,
  body = S.obj({ username = S.str, password = S.str }, { required = true }),
  responses = { [200] = S.ref("Session") }, errors = { 400, 401, 502, 503, 504 } })
route("PUT /api/v3/session", { summary = "Switch the school year / marking period; answers the redirect page",
  body = S.obj({ year = S.int, mp_id = S.int, redirect = S.str }, { required = { "year", "mp_id" } }),
  responses = { [200] = S.obj({}, {}) }, errors = { 400, 403, 502, 504 } })
route("DELETE /api/v3/session", { summary = "Log out (Focus too)", responses = { [200] = S.obj({}) }, errors = { 403 } })
route("GET /api/v3/portal", { summary = "The portal: courses with grades, upcoming assignments, alerts",
  responses = { [200] = S.ref("Portal") }, errors = UPSTREAM })
route("GET /api/v3/courses", { summary = "Every course's gradebook (the portal and each course page)",
  responses = { [200] = S.ref("Courses") }, errors = UPSTREAM })
route("GET /api/v3/courses/:id", { summary = "One course's gradebook",
  responses = { [200] = S.ref("Course") }, errors = { 403, 404, 502, 504 } })
route("GET /api/v3/schedule", { summary = "The class schedule", responses = { [200] = S.ref("Schedule") }, errors = UPSTREAM })
route("GET /api/v3/calendar/occasions/:id", { summary = "A calendar occasion's details",
  responses = { [200] = S.ref("CalendarDetail") }, errors = { 400, 403, 502, 504 } })
route("GET /api/v3/calendar/assignments/:id", { summary = "A calendar assignment's details (its course)",
  responses = { [200] = S.ref("CalendarDetail") }, errors = { 400, 403, 502, 504 } })
for _, p in ipairs { "/:year", "/:year/:month", "/:year/:month/:day" } do
  route("GET /api/v3/calendar" .. p, { summary = "The calendar of a year (12 months at once), a month or a day",
    responses = { [200] = S.ref("Calendar") }, errors = { 400, 403, 404, 502, 504 } })
end
route("GET /api/v3/demographic", { summary = "The student's record, with the photo (base64)",
  responses = { [200] = S.ref("Demographic") }, errors = UPSTREAM })
route("GET /api/v3/address", { summary = "The address and contacts", responses = { [200] = S.ref("Address") }, errors = UPSTREAM })
route("GET /api/v3/referrals", { summary = "Discipline referrals", responses = { [200] = S.ref("Referrals") }, errors = UPSTREAM })
route("GET /api/v3/referrals/:id", { summary = "One referral", responses = { [200] = S.ref("Referral") },
  errors = { 403, 404, 502, 504 } })
route("GET /api/v3/absences", { summary = "Absences by day and period, with the totals",
  responses = { [200] = S.ref("Absences") }, errors = UPSTREAM })
for _, name in ipairs { "exams", "final_grades", "semester_grades", "quarter_grades" } do
  local all = name == "exams" and S.ref("Exams") or S.ref("FinalGrades")
  route("GET /api/v3/" .. name, { summary = "Every " .. name:gsub("_", " "):gsub("s$", "") .. " (the finalGrades API)",
    responses = { [200] = all }, errors = UPSTREAM })
  route("GET /api/v3/" .. name .. "/:id", { summary = "One of them",
    responses = { [200] = S.ref("FinalGrade") }, errors = { 403, 404, 502, 504 } })
end

return { routes = routes, components = C }
