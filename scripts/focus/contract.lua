-- focus.contract: the fields of each Focus answer, as the focus-api answers
-- of the corpus have them (tests/fixtures/focus/expected/; checked by
-- tests/lua/check_test.lua, which derives these lists from those files
-- with lib/fields.lua). `sis check` reports each one found or missing.
-- Paths as lib/fields.lua writes them ("courses.*.name"). A page of
-- focus/registry.lua may give its own `fields` instead (an overlay's page).
local M = {}

M.pages = {
  final_grades_page = {
    "mp_years", "mps", "mps.*.id", "mps.*.name", "mps.*.selected", "mps.*.year", "student_id",
  },
  portal = {
    "alert", "courses", "courses.*.assignments", "courses.*.assignments.*.due",
    "courses.*.assignments.*.name", "courses.*.days", "courses.*.id", "courses.*.letter_grade",
    "courses.*.name", "courses.*.percent_grade", "courses.*.period", "courses.*.teacher", "events",
    "events.*.date", "events.*.description", "mp_years", "mps", "mps.*.id", "mps.*.name",
    "mps.*.selected", "mps.*.year",
  },
  course = {
    "assignments", "assignments.*.assigned", "assignments.*.category", "assignments.*.comment",
    "assignments.*.description", "assignments.*.due", "assignments.*.letter_overall_grade",
    "assignments.*.max_grade", "assignments.*.name", "assignments.*.percent_overall_grade",
    "assignments.*.status", "assignments.*.student_grade", "categories",
    "categories.*.letter_grade", "categories.*.name", "categories.*.percent_grade",
    "categories.*.percent_weight", "id", "letter_grade", "mp_years", "mps", "mps.*.id",
    "mps.*.name", "mps.*.selected", "mps.*.year", "name", "percent_grade", "period", "teacher",
  },
  schedule = {
    "courses", "courses.*.days", "courses.*.name", "courses.*.period", "courses.*.room",
    "courses.*.teacher", "courses.*.term", "mp_years", "mps", "mps.*.id", "mps.*.name",
    "mps.*.selected", "mps.*.year",
  },
  calendar = {
    "events", "events.*.date", "events.*.id", "events.*.name", "events.*.type", "month",
    "mp_years", "mps", "mps.*.id", "mps.*.name", "mps.*.selected", "mps.*.year", "year",
  },
  calendar_detail = {
    "course", "course.days", "course.name", "course.period", "course.teacher", "course.term",
    "date", "id", "notes", "school", "title", "type",
  },
  demographic = {
    "arrival_bus", "birthday", "cumulative_file", "dismissal_bus", "email", "force_pass_change",
    "gender", "grade", "id", "level", "locker", "locker_combo", "medical_record_status",
    "mp_years", "mps", "mps.*.id", "mps.*.name", "mps.*.selected", "mps.*.year", "name",
    "pass_length", "photo_auth", "picture", "student_mobile", "username",
  },
  address = {
    "address", "city", "contacts", "contacts.*.address", "contacts.*.apt", "contacts.*.cell_phone",
    "contacts.*.city", "contacts.*.email", "contacts.*.home_phone", "contacts.*.name",
    "contacts.*.private_email", "contacts.*.relationship", "contacts.*.state", "contacts.*.zip",
    "mp_years", "mps", "mps.*.id", "mps.*.name", "mps.*.selected", "mps.*.year", "phone", "state",
    "zip",
  },
  referrals = {
    "mp_years", "mps", "mps.*.id", "mps.*.name", "mps.*.selected", "mps.*.year", "referrals",
    "referrals.*.creation_date", "referrals.*.display", "referrals.*.entry_date",
    "referrals.*.grade", "referrals.*.id", "referrals.*.last_updated", "referrals.*.name",
    "referrals.*.notification_sent", "referrals.*.other_violation", "referrals.*.processed",
    "referrals.*.school", "referrals.*.school_year", "referrals.*.suspension_begin",
    "referrals.*.suspension_end", "referrals.*.teacher", "referrals.*.violation",
  },
  absences = {
    "absences", "absences.*.date", "absences.*.periods", "absences.*.periods.*.days",
    "absences.*.periods.*.last_updated", "absences.*.periods.*.last_updated_by",
    "absences.*.periods.*.name", "absences.*.periods.*.period", "absences.*.periods.*.status",
    "absences.*.periods.*.teacher", "absences.*.status", "days_absent", "days_absent_excused",
    "days_absent_percent", "days_absent_unexcused", "days_attended", "days_attended_percent",
    "days_other_marks", "days_partially_absent", "days_possible", "mp_years", "mps", "mps.*.id",
    "mps.*.name", "mps.*.selected", "mps.*.year", "periods_absent", "periods_absent_excused",
    "periods_absent_unexcused", "periods_late", "periods_misc", "periods_offsite",
    "periods_other_marks", "periods_tardy",
  },
}

M.apis = {
  exams = {
    "exams", "exams.*.affects_gpa", "exams.*.comment", "exams.*.course_id", "exams.*.course_num",
    "exams.*.credits", "exams.*.credits_earned", "exams.*.gpa_points", "exams.*.grade_level",
    "exams.*.id", "exams.*.last_updated", "exams.*.last_updated_by", "exams.*.letter_grade",
    "exams.*.location", "exams.*.mp_id", "exams.*.mp_name", "exams.*.name",
    "exams.*.percent_grade", "exams.*.scale", "exams.*.subject", "exams.*.syear",
    "exams.*.teacher", "exams.*.weighted_gpa_points",
  },
}

-- final, semester and quarter grades: the same records (the corpus has no
-- quarter grades)
local GRADES = {
  "grades", "grades.*.affects_gpa", "grades.*.comment", "grades.*.course_id",
  "grades.*.course_num", "grades.*.credits", "grades.*.credits_earned", "grades.*.gpa_points",
  "grades.*.grade_level", "grades.*.id", "grades.*.last_updated", "grades.*.last_updated_by",
  "grades.*.letter_grade", "grades.*.location", "grades.*.mp_id", "grades.*.mp_name",
  "grades.*.name", "grades.*.percent_grade", "grades.*.scale", "grades.*.subject",
  "grades.*.syear", "grades.*.teacher", "grades.*.weighted_gpa_points",
}
M.apis.final_grades, M.apis.semester_grades, M.apis.quarter_grades = GRADES, GRADES, GRADES

return M
