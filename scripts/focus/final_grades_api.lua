-- The requests of Focus's finalGrades API (focus.client.final_grades sends
-- them): requestGrades, and requestDomains for the domains an answer of the
-- later Focus leaves out (kidcontact/FocusSIS network/FocusApi.java:420-520,
-- parser/FinalGradesDomainParser.java). Pure functions, no network.
--
--   form = api.grades_form(access, argument)
--   needs = api.missing_domains(answer)        -- nil when nothing is missing
--   form = api.domains_form(access, needs)
--   api.merge_domains(answer, domains_answer)  -- into answer.result.domains
-- access = {student_id =, key =}: the accessID and the HMAC-SHA1 key that signs
-- "-<accessID>-<api>-<method>".
local codec = require "sis.codec"
local common = require "focus.common"
local json = require "sis.json"

local M = {}

-- The key of the 2016-17 Focus (docs/focus-pages.md §3.10; the same for every
-- school, it ships in Focus's own JavaScript); later pages give their own.
M.KEY_2017 = "e01c88dde89d9dc0cb59cec2e81e2602793ed282"

local API = "finalGrades"

local function signed(access, method, fields)
  local form = { { "accessID", access.student_id }, { "api", API }, { "method", method },
                 { "modname", "Grades/StudentRCGrades.php" } }
  for _, f in ipairs(fields) do form[#form + 1] = f end
  form[#form + 1] = { "signature", codec.hmac_sha1_hex(access.key or M.KEY_2017,
    "-" .. access.student_id .. "-" .. API .. "-" .. method) }
  return form
end

function M.grades_form(access, argument)
  return signed(access, "requestGrades", { { "arguments[]", argument }, { "arguments[1][**FIRST-REQUEST**]", "true" } })
end

local text = common.value_text

local function has(result, domain, key)
  for _, source in ipairs { "domains", "defaults" } do
    local d = type(result[source]) == "table" and result[source][domain]
    if type(d) == "table" and type(d[key]) == "table" then return true end
  end
  return false
end

-- The domains the grades of `answer` refer to and it lacks:
-- {grade_scale = {{school, year}}, grad_subject = {{year}}, marking_period = {{school, year}}}
-- (each key once), or nil when none is missing. A grade with its own
-- _mp_title needs no marking_period domain, nor one without a grad_subject_id
-- a grad_subject domain.
function M.missing_domains(answer)
  local result = type(answer) == "table" and answer.result
  local grades = type(result) == "table" and result.grades
  if type(grades) ~= "table" then return nil end
  local needs, seen, any = { grade_scale = {}, grad_subject = {}, marking_period = {} }, {}, false
  local function need(domain, key, params)
    if seen[domain .. "|" .. key] or has(result, domain, key) then return end
    seen[domain .. "|" .. key] = true
    local list = needs[domain]
    list[#list + 1] = params
    any = true
  end
  local ids = {}
  for id in pairs(grades) do ids[#ids + 1] = id end
  table.sort(ids, function(a, b) return tostring(a) < tostring(b) end)
  for _, id in ipairs(ids) do
    local g = grades[id]
    local year, school = type(g) == "table" and text(g.syear), type(g) == "table" and text(g.school_id)
    if year and school then
      if text(g.grade_scale_id) then need("grade_scale", school .. ";" .. year, { school = school, year = year }) end
      if text(g.grad_subject_id) then need("grad_subject", year, { year = year }) end
      if not text(g._mp_title) then need("marking_period", school .. ";" .. year, { school = school, year = year }) end
    end
  end
  return any and needs or nil
end

function M.domains_form(access, needs)
  local fields = {}
  for _, domain in ipairs { "grade_scale", "grad_subject", "marking_period" } do
    for i, p in ipairs(needs[domain]) do
      local at = string.format("arguments[0][%s][by_param][%d]", domain, i - 1)
      if p.school then fields[#fields + 1] = { at .. "[school_id]", p.school } end
      fields[#fields + 1] = { at .. "[year]", p.year }
    end
  end
  return signed(access, "requestDomains", fields)
end

-- Adds the domains of a requestDomains answer ({result = {domain = {key = {...}}}})
-- to answer.result.domains.
function M.merge_domains(answer, got)
  local found = type(got) == "table" and type(got.result) == "table" and got.result or {}
  local result = answer.result
  if type(result.domains) ~= "table" or json.is_array(result.domains) then result.domains = json.object() end
  for domain, keys in pairs(found) do
    if type(keys) == "table" then
      result.domains[domain] = type(result.domains[domain]) == "table" and result.domains[domain] or json.object()
      for key, members in pairs(keys) do result.domains[domain][key] = members end
    end
  end
end

return M
