-- The finalGrades API answer (POST focus/API/APIEndpoint.php, method
-- requestGrades) → {exams = {id → grade}} for kind "exams", {grades = {...}}
-- for "final_grades", "semester_grades" and "quarter_grades".
--
-- Both generations (FocusSIS FinalGradesParser.java, FinalGradesDomainParser.java):
-- the term name is the grade's `_mp_title` (2016-17) or its title in the
-- `marking_period` domain keyed "<school>;<year>" (later); `grad_subject` is
-- keyed "1" (2016-17) or by the school year (later); domains the answer
-- lacked were fetched with requestDomains and merged into result.domains
-- (focus.client.final_grades); percent_grade "-1" means no grade.
local common = require "focus.common"
local json = require "sis.json"

local function present(v) return v ~= nil and v ~= json.null and v ~= "" and v ~= false end

local function text(v)
  if not present(v) then return nil end
  if type(v) == "number" then return tostring(math.tointeger(v) or v) end
  return type(v) == "string" and v or nil
end

local function float(v)
  local n = common.number(text(v))
  return n and n + 0.0
end

-- affects_gpa is "Y" (or null) in Focus; "N" must not count as yes.
local function yes(v)
  if v == true then return true end
  local s = text(v)
  return s ~= nil and (s:upper() == "Y" or s:upper() == "YES" or s == "1" or s:lower() == "true")
end

local function get(t, ...)
  for _, k in ipairs({ ... }) do
    if type(t) ~= "table" then return nil end
    t = t[k]
  end
  return t
end

local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  return keys
end

-- grade_scale = {"<school>;<year>" = {id = {title}}} in defaults and domains:
-- the grade's own school year first, then any.
local function scale_title(result, grade)
  local id = text(grade.grade_scale_id)
  if not id then return nil end
  local own = (text(grade.school_id) or "") .. ";" .. (text(grade.syear) or "")
  local sources = { get(result, "domains", "grade_scale"), get(result, "defaults", "grade_scale") }
  for _, scales in ipairs(sources) do
    local title = get(scales, own, id, "title")
    if title then return title end
  end
  for _, scales in ipairs(sources) do
    if type(scales) == "table" then
      for _, key in ipairs(sorted_keys(scales)) do
        local title = get(scales, key, id, "title")
        if title then return title end
      end
    end
  end
  return nil
end

-- A domain's member title: the answer's domains, then its defaults, under
-- the first of `keys` that has the member.
local function domain_title(result, domain, keys, id)
  if not id then return nil end
  for _, source in ipairs { "domains", "defaults" } do
    for _, key in ipairs(keys) do
      local title = get(result, source, domain, key, id, "title")
      if title ~= nil then return text(title) end
    end
  end
  return nil
end

local function read_grade(result, g)
  local year, school = text(g.syear), text(g.school_id)
  local mp_id = text(g.marking_period_id) and text(g.marking_period_id):gsub("^E", "") -- exams: E325
  local s = {
    id = text(g.id),
    syear = common.number_or_text(text(g.syear)),
    name = text(g.course_title),
    affects_gpa = yes(g.affects_gpa),
    teacher = text(g.teacher) and common.person_name(text(g.teacher)),
    course_id = text(g.course_period_id),
    course_num = text(g.course_num),
    grade_level = text(g.gradelevel_title) and common.number_or_text(text(g.gradelevel_title)),
    last_updated = text(g.last_updated_date),
    location = text(g.location_title),
    mp_id = mp_id,
    mp_name = text(g._mp_title) or domain_title(result, "marking_period", { (school or "") .. ";" .. (year or "") }, mp_id),
    comment = text(g.comment),
    subject = domain_title(result, "grad_subject", { year or "", "1" }, text(g.grad_subject_id)),
    scale = scale_title(result, g),
  }
  if s.affects_gpa then
    s.gpa_points, s.weighted_gpa_points = float(g.gpa_points), float(g.weighted_gpa_points)
  end
  local percent = common.number(text(g.percent_grade))
  if percent and percent ~= -1 then s.percent_grade, s.letter_grade = percent, text(g.grade_title) end
  if present(g.credits) and present(g.credits_earned) then
    s.credits, s.credits_earned = float(g.credits), float(g.credits_earned)
  end
  local by = text(get(result, "defaults", "teacher", "1", text(g.last_updated_user), "title"))
  if by then s.last_updated_by = common.person_name(by) end
  return s
end

return function(answer, kind)
  if type(answer) ~= "table" then common.fail("the answer is not a JSON object") end
  if answer.success == false then common.fail("the API answered success=false") end
  local result = answer.result
  local grades = get(result, "grades")
  if type(grades) ~= "table" then common.fail("the answer has no result.grades") end
  local out = {}
  for id, g in pairs(grades) do -- an empty list ([]) means no grades
    if type(g) ~= "table" then common.fail("grade %s is not an object", tostring(id)) end
    local s = read_grade(result, g)
    out[s.id or tostring(id)] = s
  end
  return { [kind == "exams" and "exams" or "grades"] = out }
end
