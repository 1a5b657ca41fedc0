-- One Lua function per ScoDoc 7 API function (seed 004). Each takes a
-- scodoc.client, the department (except list_depts) and a table of
-- arguments named as ScoDoc names its parameters, checks them, and returns
-- the normalised answer (docs/scodoc.md) or nil, err, kind.
--
--   local api = require "scodoc.api"
--   local bul = api.formsemestre_bulletinetud(c, "INFO",
--     { formsemestre_id = "SEM3190", etudid = "EID3101", version = "long" })
--
-- Every function also takes `format` ("json" or "xml": how to fetch it from
-- ScoDoc; the answer is the same). Dates are given as yyyy-mm-dd (dd/mm/yyyy
-- is accepted too) and sent to ScoDoc as dd/mm/yyyy. Bad arguments give
-- nil, "scodoc: ...", "bad_request" without calling ScoDoc; an argument
-- name the function does not take raises (a programmer's mistake).
-- Lookups by code_nip retry once with "NNN.0" when ScoDoc does not know
-- "NNN" (real data often stores NIPs that way).
local date = require "sis.date"
local json = require "sis.json"

local api = {}

-- The argument names each function takes: api.arguments(name) -> sorted list.
local ARGS = {}
function api.arguments(name)
  local set = ARGS[name]
  if not set then return nil end
  local list = {}
  for k in pairs(set) do list[#list + 1] = k end
  table.sort(list)
  return list
end

local function takes(name, names)
  local set = { format = true }
  for _, n in ipairs(names) do set[n] = true end
  ARGS[name] = set
end

local function check_names(name, a)
  local set = ARGS[name]
  for k in pairs(a) do
    if not set[k] then
      error(string.format("scodoc: %s takes no argument '%s' (it takes %s)", name, tostring(k),
                          table.concat(api.arguments(name), ", ")), 3)
    end
  end
end

local BAD = "bad_request"

local function bad(fmt, ...) return nil, "scodoc: " .. string.format(fmt, ...), BAD end

local function text(v)
  if math.type(v) == "integer" then return string.format("%d", v) end
  if type(v) == "string" then return v end
  return nil
end

-- Argument readers: each returns the value to send, or nil, err.
local function optional(a, name)
  local v = a[name]
  if v == nil then return nil end
  local s = text(v)
  if not s or s == "" then return nil, string.format("%s must be a non-empty string", name) end
  return s
end

local function required(a, name)
  if a[name] == nil then return nil, name .. " is required" end
  return optional(a, name)
end

local FLAGS = { [true] = "1", [false] = "0", ["1"] = "1", ["0"] = "0", [1] = "1", [0] = "0",
                ["true"] = "1", ["false"] = "0" }
-- A flag ScoDoc converts to an int: "1" or "0" (default: not sent).
local function flag(a, name, default)
  local v = a[name]
  if v == nil then return default end
  local s = FLAGS[v]
  if not s then return nil, string.format("%s must be true/false or 1/0, got %s", name, tostring(v)) end
  return s
end

-- ScoDoc 7 takes most flags as true when they are any non-empty string,
-- "0" included. A flag false by default: true sends "1", false nothing.
local function flag_on(a, name, default)
  local v, err = flag(a, name, default)
  if v == "0" then return nil end
  return v, err
end

-- A flag true by default: false sends an empty value, true nothing.
local function flag_off(a, name)
  local v, err = flag(a, name)
  if v == "0" then return "" end
  if v == "1" then return nil end
  return v, err
end

-- A date as ScoDoc wants it, dd/mm/yyyy; also returns the ISO form.
local function day(a, name)
  local v = a[name]
  if type(v) ~= "string" then return nil, name .. " (a date, yyyy-mm-dd) is required" end
  local iso = date.parse(v, "dmy")
  if not iso or not iso:match("^%d%d%d%d%-%d%d%-%d%d$") then
    return nil, string.format("%s: '%s' is not a date (yyyy-mm-dd)", name, v)
  end
  return iso:sub(9, 10) .. "/" .. iso:sub(6, 7) .. "/" .. iso:sub(1, 4), iso
end

-- A date sent as ScoDoc's XML functions take it, yyyy-mm-dd.
local function iso_day(a, name)
  local v, iso = day(a, name)
  if not v then return nil, iso end
  return iso
end

-- A list of ids: an array, or one string with commas ("G1,G2").
local function ids(a, name)
  local v = a[name]
  local list = {}
  if type(v) == "string" or math.type(v) == "integer" then
    for id in text(v):gmatch("[^,%s]+") do list[#list + 1] = id end
  elseif type(v) == "table" then
    for _, id in ipairs(v) do
      if not text(id) then return nil, name .. " must hold strings" end
      list[#list + 1] = text(id)
    end
  end
  if #list == 0 then return nil, name .. " is required (one or more ids)" end
  return list
end

-- Builds the parameter list from readers; stops at the first bad argument.
-- spec: list of {name, reader, ...reader args}; a nil value is not sent.
local function params_of(a, spec)
  local out = {}
  for _, s in ipairs(spec) do
    local v, err = s[2](a, s[1], s[3])
    if v == nil and err ~= nil then return nil, err end
    if type(v) == "table" then
      for _, x in ipairs(v) do out[#out + 1] = { s[1], x } end
    elseif v ~= nil then
      out[#out + 1] = { s[1], v }
    end
  end
  return out
end

local function one_of(a, names)
  local n = 0
  for _, k in ipairs(names) do if a[k] ~= nil then n = n + 1 end end
  if n ~= 1 then return nil, "give exactly one of " .. table.concat(names, ", ") end
  return true
end

local function opts_of(a) return { format = a.format } end

-- ScoDoc's answer for a student it does not know (etud_info's error field,
-- the bulletin's page, get_etud_dept's empty answer).
local function unknown_student(err)
  return err:find("tudiant inconnu") ~= nil or err:find("unknown student", 1, true) ~= nil
end
-- functions that name nothing but the student: any not_found is about it
local STUDENT_ONLY = { etud_info = true, XMLgetEtudInfos = true, get_etud_dept = true,
                       XMLgetAbsEtud = true }

-- c:call, and the lookup by code_nip once more with ".0" when ScoDoc does
-- not know the student (the first error is kept if that fails too).
local function call_nip(c, name, dept, p, opts, nip)
  local value, err, kind, detail = c:call(name, dept, p, opts)
  if value ~= nil or kind ~= "not_found" or not nip or nip:find("%.0$")
     or not (STUDENT_ONLY[name] or unknown_student(err)) then
    return value, err, kind, detail
  end
  local again = {}
  for i, kv in ipairs(p) do again[i] = kv[1] == "code_nip" and { "code_nip", nip .. ".0" } or kv end
  local v2 = c:call(name, dept, again, opts)
  if v2 ~= nil then return v2 end
  return value, err, kind, detail
end

-- A read: check, build, call. `root`: a function of no department
-- (called as fn(c, a)).
local function read(name, spec, check, root)
  local names = {}
  for i, s in ipairs(spec) do names[i] = s[1] end
  takes(name, names)
  local function run(c, dept, a)
    a = a or {}
    check_names(name, a)
    if check then
      local ok, err = check(a)
      if not ok then return bad("%s: %s", name, err) end
    end
    local p, err = params_of(a, spec)
    if not p then return bad("%s: %s", name, err) end
    return call_nip(c, name, dept, p, opts_of(a), a.code_nip ~= nil and text(a.code_nip) or nil)
  end
  if root then return function(c, a) return run(c, nil, a) end end
  return run
end

takes("list_depts", { "viewable" })
function api.list_depts(c, a)
  a = a or {}
  check_names("list_depts", a)
  local viewable, err = flag(a, "viewable", "1")
  if not viewable then return bad("list_depts: %s", err) end
  return c:call("list_depts", nil, { { "viewable", viewable } }, opts_of(a))
end

api.formation_list = read("formation_list", { { "formation_id", optional } })

api.formation_export = read("formation_export",
  { { "formation_id", required }, { "export_ids", flag_on } })

api.formsemestre_list = read("formsemestre_list",
  { { "formsemestre_id", optional }, { "formation_id", optional }, { "etape_apo", optional } })

-- The deprecated XML listing (XMLgetFormsemestres): formsemestre_list's
-- rows without their lists (etapes, responsables).
api.XMLgetFormsemestres = read("XMLgetFormsemestres",
  { { "formsemestre_id", optional }, { "etape_apo", optional } })

-- The semestre's modules, coefficients, teachers (and its evaluations
-- with_evals): ScoDoc's description table, row by row.
api.formsemestre_description = read("formsemestre_description",
  { { "formsemestre_id", required }, { "with_evals", flag } })

api.formsemestre_partition_list = read("formsemestre_partition_list",
  { { "formsemestre_id", required } })

-- groups_view: the members of groups (group_ids) or of a whole semestre;
-- with_codes defaults to true (etudid, code_nip, code_ine, etape columns).
api.groups_view = read("groups_view",
  { { "formsemestre_id", optional }, { "group_ids", function(a, n) if a[n] then return ids(a, n) end end },
    { "with_codes", flag_on, "1" }, { "all_groups", flag_on }, { "etat", optional } },
  function(a) return one_of(a, { "formsemestre_id", "group_ids" }) end)

local student = { { "etudid", optional }, { "code_nip", optional }, { "code_ine", optional } }
local function one_student(a) return one_of(a, { "etudid", "code_nip", "code_ine" }) end
api.etud_info = read("etud_info", student, one_student)
-- the same under its old name, where ScoDoc 7 clients call it (Notes/)
api.XMLgetEtudInfos = read("XMLgetEtudInfos", student, one_student)

-- The department that has the student (ScoDoc asks each of its departments).
api.get_etud_dept = read("get_etud_dept", student, one_student, true)

-- XMLgetAbsEtud: the absent half-days between beg_date and end_date
-- (yyyy-mm-dd, included), with their justification.
local abs_spec = { { "beg_date", iso_day }, { "end_date", iso_day } }
for _, s in ipairs(student) do abs_spec[#abs_spec + 1] = s end
api.XMLgetAbsEtud = read("XMLgetAbsEtud", abs_spec, one_student)

local VERSIONS = { short = true, selectedevals = true, long = true }
-- version defaults to "long" (all evaluations), ScoDoc's own default.
api.formsemestre_bulletinetud = read("formsemestre_bulletinetud",
  { { "formsemestre_id", required }, { "etudid", optional }, { "code_nip", optional },
    { "version", function(a) return a.version or "long" end },
    { "xml_with_decisions", flag_on }, { "force_publishing", flag_on } },
  function(a)
    if a.version ~= nil and not VERSIONS[a.version] then
      return nil, "version must be short, selectedevals or long"
    end
    return one_of(a, { "etudid", "code_nip" })
  end)

-- ListeAbsEtud: absjust_only false (ScoDoc's default) lists the unjustified
-- half-days, true the justified ones; with_evals (default true) adds the
-- `exams` column.
api.ListeAbsEtud = read("ListeAbsEtud",
  { { "etudid", required }, { "absjust_only", flag }, { "with_evals", flag_off } })

local group_state = read("EtatAbsencesGr",
  { { "group_ids", ids }, { "debut", day }, { "fin", day }, { "with_boursier", flag_off } })

-- EtatAbsencesGr: ScoDoc 6 takes one group_id (and no with_boursier):
-- when group_ids is refused for it, one call per group, rows merged.
function api.EtatAbsencesGr(c, dept, a)
  a = a or {}
  local value, err, kind, detail = group_state(c, dept, a)
  if value ~= nil or err ~= "scodoc: missing parameter group_id" then return value, err, kind, detail end
  local rows, seen = json.array(), {}
  local debut, fin = day(a, "debut"), day(a, "fin")
  for _, g in ipairs((ids(a, "group_ids"))) do
    local part, perr, pkind, pdetail = c:call("EtatAbsencesGr", dept,
      { { "group_id", g }, { "debut", debut }, { "fin", fin } }, opts_of(a))
    if not part then return nil, perr, pkind, pdetail end
    for _, row in ipairs(part) do
      if not seen[row.etudid] then seen[row.etudid], rows[#rows + 1] = true, row end
    end
  end
  return rows
end

local moduleimpl_filters = { { "formsemestre_id", optional }, { "moduleimpl_id", optional },
                             { "module_id", optional } }
api.do_moduleimpl_list = read("do_moduleimpl_list", moduleimpl_filters)
api.do_moduleimpl_withmodule_list = read("do_moduleimpl_withmodule_list", moduleimpl_filters)

-- Writes. demijournee: "day" (2, default), "morning" (1), "afternoon" (0),
-- always sent: without it ScoDoc 7 records the morning only.
local HALF_DAYS = { day = "2", morning = "1", afternoon = "0", ["2"] = "2", ["1"] = "1", ["0"] = "0",
                    [2] = "2", [1] = "1", [0] = "0" }

-- The common part of the three writes: etudid, the period, the half-days.
local function period(name, a)
  local etudid, err = required(a, "etudid")
  if not etudid then return bad("%s: %s", name, err) end
  local from, from_iso = day(a, "datedebut")
  if not from then return bad("%s: %s", name, from_iso) end
  local to, to_iso = from, from_iso
  if a.datefin ~= nil then
    to, to_iso = day(a, "datefin")
    if not to then return bad("%s: %s", name, to_iso) end
  end
  if to_iso < from_iso then return bad("%s: datefin %s is before datedebut %s", name, to_iso, from_iso) end
  local half = HALF_DAYS[a.demijournee == nil and "day" or a.demijournee]
  if not half then
    return bad("%s: demijournee must be day, morning or afternoon (2, 1, 0), got %s", name, tostring(a.demijournee))
  end
  return { etudid = etudid, from = from, to = to, half = half }
end

-- doSignaleAbsence: datedebut..datefin (included; datefin defaults to
-- datedebut), estjust (boolean), description, moduleimpl_id.
takes("doSignaleAbsence", { "etudid", "datedebut", "datefin", "demijournee", "estjust", "description",
                            "moduleimpl_id" })
function api.doSignaleAbsence(c, dept, a)
  a = a or {}
  check_names("doSignaleAbsence", a)
  local p, err, kind = period("doSignaleAbsence", a)
  if not p then return nil, err, kind end
  local params = { { "etudid", p.etudid }, { "datedebut", p.from }, { "datefin", p.to },
                   { "demijournee", p.half } }
  local just, ferr = flag(a, "estjust", "0")
  if not just then return bad("doSignaleAbsence: %s", ferr) end
  -- ScoDoc 7 takes any non-empty estjust as true, "0" included: send it only when true
  if just == "1" then params[#params + 1] = { "estjust", "1" } end
  if a.description ~= nil and a.description ~= "" then
    if type(a.description) ~= "string" then return bad("doSignaleAbsence: description must be text") end
    -- ScoDoc stores "(description)" and reads the motif back up to the first ')'
    if a.description:find(")", 1, true) then
      return bad("doSignaleAbsence: description must not contain ')' (ScoDoc 7 cuts the motif there)")
    end
    params[#params + 1] = { "description", a.description }
  end
  local mod, merr = optional(a, "moduleimpl_id")
  if merr then return bad("doSignaleAbsence: %s", merr) end
  if mod then params[#params + 1] = { "moduleimpl_id", mod } end
  return c:call("doSignaleAbsence", dept, params)
end

-- The two cancellations: the period's parameters under ScoDoc's names.
local function cancel(name, from_name, to_name)
  takes(name, { "etudid", "datedebut", "datefin", "demijournee" })
  return function(c, dept, a)
    a = a or {}
    check_names(name, a)
    local p, err, kind = period(name, a)
    if not p then return nil, err, kind end
    return c:call(name, dept, { { "etudid", p.etudid }, { from_name, p.from }, { to_name, p.to },
                                { "demijournee", p.half } })
  end
end

-- doAnnuleAbsence: deletes the absences of those half-days (justifications stay).
api.doAnnuleAbsence = cancel("doAnnuleAbsence", "datedebut", "datefin")
-- doAnnuleJustif: removes the justifications of those half-days (the
-- absences stay, unjustified). ScoDoc names its dates datedebut0/datefin0.
api.doAnnuleJustif = cancel("doAnnuleJustif", "datedebut0", "datefin0")

return api
