-- The ScoDoc 7 functions sis calls: where each lives (its canonical URL is
-- BASE/ScoDoc/DEPT/Scolarite/[CONTAINER/]NAME, root functions BASE/ScoDoc/NAME),
-- the parameters it takes, the formats it answers in, and whether its
-- strings come HTML-escaped (quote_xml_attr) in each format.
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

def("list_depts", { container = "root", params = "viewable" })
def("formation_list", { container = "Notes", params = "formation_id" })
def("formation_export", { container = "Notes", params = "formation_id export_ids" })
def("formsemestre_list", { container = "Notes",
  params = "formsemestre_id formation_id etape_apo" })
def("formsemestre_partition_list", { container = "", params = "formsemestre_id" })
def("groups_view", { container = "",
  params = "formsemestre_id group_ids with_codes all_groups etat" })
-- etud_info: the corpus escapes its values in JSON and twice in XML
def("etud_info", { container = "", params = "etudid code_nip code_ine",
  escaped = { json = true, xml = true } })
def("formsemestre_bulletinetud", { container = "Notes",
  params = "formsemestre_id etudid code_nip version xml_with_decisions force_publishing",
  escaped = { json = true } })
def("ListeAbsEtud", { container = "Absences", params = "etudid absjust_only with_evals" })
def("EtatAbsencesGr", { container = "Absences", params = "group_ids debut fin with_boursier" })
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

-- The path of a function below the base URL.
function F.path(f, dept)
  if f.container == "root" then return "ScoDoc/" .. f.name end
  local c = f.container == "" and "" or f.container .. "/"
  return "ScoDoc/" .. dept .. "/Scolarite/" .. c .. f.name
end

return F
