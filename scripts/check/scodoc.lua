-- The drift report for ScoDoc: every read function of scodoc.api, each
-- fetched in JSON and in XML, normalised, and the two answers compared.
-- The fields only one format carries (docs/scodoc.md) are not compared.
-- The ids come from the answers before (a department, its first
-- formsemestre, a group and a student of it), so nothing but the login is
-- needed. Write functions (doSignaleAbsence...) are never called.
--
--   local report = require("check.scodoc").run(client [, dept])
--   report = { upstream = "scodoc", pages = { <function>, ... }, ok = bool }
--   <function> = { name = "scodoc/<fn>", fetched, parsed, of (2: json and
--                  xml), errors, failures (a difference between the two
--                  answers is one), warnings = {}, fields = {} }
local api = require "scodoc.api"
local schema = require "scodoc.schema"
local fields = require "lib.fields"
local json = require "sis.json"
local warnings = require "lib.warnings"

local M = {}

-- The fields only the JSON carries (schema.json_only, "ue[].note.moy") set
-- to null in `value`, as the XML answer has them (docs/scodoc.md).
local function as_from_xml(name, value)
  local function clear(v, parts, i)
    if type(v) ~= "table" then return end
    local key, each = parts[i]:match("^([^%[]+)(%[?%]?)$")
    if i == #parts then
      if v[key] ~= nil then v[key] = json.null end
    elseif each == "[]" then
      for _, item in ipairs(type(v[key]) == "table" and v[key] or {}) do clear(item, parts, i + 1) end
    else
      clear(v[key], parts, i + 1)
    end
  end
  for _, path in ipairs(schema.json_only[name] or {}) do
    local parts = {}
    for part in path:gmatch("[^.]+") do parts[#parts + 1] = part end
    clear(value, parts, 1)
  end
  return value
end

-- Calls fn in both formats → the JSON answer (or the XML one), the record.
local function both(c, name, dept, args)
  local rec = { name = "scodoc/" .. name, fetched = 0, parsed = 0, of = 2, errors = {}, failures = {},
                warnings = {}, fields = {} }
  local answers = {}
  for _, format in ipairs { "json", "xml" } do
    local a = { format = format }
    for k, v in pairs(args) do a[k] = v end
    local list, value, err
    if dept then
      list, value, err = warnings.collect(api[name], c, dept, a)
    else
      list, value, err = warnings.collect(api[name], c, a)
    end
    for _, w in ipairs(list) do rec.warnings[#rec.warnings + 1] = w end
    if value == nil then
      rec.errors[#rec.errors + 1] = format .. ": " .. tostring(err)
    else
      rec.fetched, rec.parsed = rec.fetched + 1, rec.parsed + 1
      answers[format] = value
    end
  end
  if answers.json ~= nil and answers.xml ~= nil then
    local d = fields.diff(as_from_xml(name, json.decode(json.encode(answers.json))), answers.xml)
    if d then rec.failures[#rec.failures + 1] = "json and xml answers differ at " .. d end
  end
  return answers.json or answers.xml, rec
end

local function first(list) return type(list) == "table" and list[1] or nil end

function M.run(c, dept)
  local report = { upstream = "scodoc", pages = {} }
  local function check(name, d, args)
    local value, rec = both(c, name, d, args or {})
    report.pages[#report.pages + 1] = rec
    return value
  end
  local depts = check("list_depts", nil)
  dept = dept or first(depts)
  if not dept then
    report.ok = false
    report.note = "no department to check"
    return report
  end
  check("formation_list", dept)
  local sem = first(check("formsemestre_list", dept))
  local sem_id = sem and sem.formsemestre_id
  if sem_id then
    if sem.formation_id then check("formation_export", dept, { formation_id = sem.formation_id }) end
    local partitions = check("formsemestre_partition_list", dept, { formsemestre_id = sem_id })
    local group = first(first(partitions) and first(partitions).group)
    local student = first(check("groups_view", dept, { formsemestre_id = sem_id }))
    local etudid = student and student.etudid
    if etudid then
      check("etud_info", dept, { etudid = etudid })
      check("formsemestre_bulletinetud", dept, { formsemestre_id = sem_id, etudid = etudid })
      check("ListeAbsEtud", dept, { etudid = etudid })
    end
    if group and group.group_id and sem.date_debut and sem.date_fin then
      check("EtatAbsencesGr", dept, { group_ids = group.group_id, debut = sem.date_debut, fin = sem.date_fin })
    end
    check("do_moduleimpl_list", dept, { formsemestre_id = sem_id })
    check("do_moduleimpl_withmodule_list", dept, { formsemestre_id = sem_id })
  end
  report.ok = true
  for _, rec in ipairs(report.pages) do
    if rec.fetched < rec.of or #rec.failures > 0 or #rec.warnings > 0 then report.ok = false end
  end
  return report
end

return M
