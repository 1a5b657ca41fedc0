-- The ScoDoc 7 functions sis calls: where each lives (its canonical URL is
-- BASE/ScoDoc/DEPT/Scolarite/[CONTAINER/]NAME, root functions BASE/ScoDoc/NAME),
-- the parameters it takes, the formats it answers in, and whether its
-- strings come HTML-escaped (quote_xml_attr) in each format.
--   formats   json, xml (`format` is sent only to functions that take both),
--             text (a plain-text answer)
--   escaped   per format: true, or "detect" (XML escaped once by ScoDoc 6.5,
--             twice by 7 and 9.0: client.lua tells them apart)
--   read_repr reads the Python repr ScoDoc 6 answers instead of JSON
--   empty_is  the not_found message for an empty answer
local schema = require "scodoc.schema"

local F = {}

-- define(name, t): declares a function (also how tests add one ScoDoc lacks).
local function def(name, t)
  t.name = name
  t.schema = schema[name]
  t.formats = t.formats or { json = true, xml = true }
  t.escaped = t.escaped or {}
  local allowed = {}
  for p in (t.params or ""):gmatch("%S+") do allowed[p] = true end
  t.allowed = allowed
  F[name] = t
end

-- ScoDoc 6 answers list_depts with the repr of its Zope folders whatever
-- `format` says: "[<Folder at /ScoDoc/MMI>, <Folder at /ScoDoc/INFO>]"; a
-- list of names "['INFO']" is what Zope writes for it without `format`.
local function depts_repr(body)
  local out = {}
  for name in body:gmatch("<Folder at /ScoDoc/([%w_-]+)>") do out[#out + 1] = name end
  if #out == 0 then
    for name in body:gmatch("'([%w_-]+)'") do out[#out + 1] = name end
  end
  if #out == 0 and not body:match("^%s*%[%s*%]%s*$") then return nil end
  return out
end

def("list_depts", { container = "root", params = "viewable", read_repr = depts_repr })
-- the department holding a student, asked of every department: plain text, "" when none
def("get_etud_dept", { container = "root", params = "etudid code_nip code_ine",
  formats = { text = true }, empty_is = "unknown student (no department has it)" })
def("formation_list", { container = "Notes", params = "formation_id" })
def("formation_export", { container = "Notes", params = "formation_id export_ids" })
def("formsemestre_list", { container = "Notes",
  params = "formsemestre_id formation_id etape_apo" })
-- the deprecated XML-only listing older clients use
def("XMLgetFormsemestres", { container = "Notes", params = "formsemestre_id etape_apo",
  formats = { xml = true } })
def("formsemestre_description", { container = "Notes", params = "formsemestre_id with_evals" })
def("formsemestre_partition_list", { container = "", params = "formsemestre_id" })
def("groups_view", { container = "",
  params = "formsemestre_id group_ids with_codes all_groups etat" })
-- etud_info: values escaped in JSON, and in XML once (6.5) or twice (7, 9.0)
def("etud_info", { container = "", params = "etudid code_nip code_ine",
  escaped = { json = true, xml = "detect" } })
-- its old name, where ScoDoc 7 clients call it (Notes/XMLgetEtudInfos)
def("XMLgetEtudInfos", { container = "Notes", params = "etudid code_nip code_ine",
  escaped = { json = true, xml = "detect" } })
-- the bulletin: escaped in JSON; its XML once (7) or twice (9.0)
def("formsemestre_bulletinetud", { container = "Notes",
  params = "formsemestre_id etudid code_nip version xml_with_decisions force_publishing",
  escaped = { json = true, xml = "detect" } })
def("ListeAbsEtud", { container = "Absences", params = "etudid absjust_only with_evals" })
-- group_id: ScoDoc 6's one-group form (it refuses group_ids)
def("EtatAbsencesGr", { container = "Absences", params = "group_ids group_id debut fin with_boursier" })
def("XMLgetAbsEtud", { container = "Absences", params = "etudid code_nip code_ine beg_date end_date",
  formats = { xml = true } })
-- always JSON whatever `format` says, so none is sent
def("do_moduleimpl_list", { container = "Notes", formats = { json = true },
  params = "formsemestre_id moduleimpl_id module_id" })
def("do_moduleimpl_withmodule_list", { container = "Notes", formats = { json = true },
  params = "formsemestre_id moduleimpl_id module_id" })
-- writes: POST, the answer is an HTML page
def("doSignaleAbsence", { container = "Absences", write = true,
  params = "etudid datedebut datefin demijournee estjust description moduleimpl_id" })
def("doAnnuleAbsence", { container = "Absences", write = true,
  params = "etudid datedebut datefin demijournee" })
def("doAnnuleJustif", { container = "Absences", write = true,
  params = "etudid datedebut0 datefin0 demijournee" })

F.define = def

-- The path of a function below the base URL (dept already checked).
function F.path(f, dept)
  if f.container == "root" then return "ScoDoc/" .. f.name end
  local c = f.container == "" and "" or f.container .. "/"
  return "ScoDoc/" .. dept .. "/Scolarite/" .. c .. f.name
end

return F
