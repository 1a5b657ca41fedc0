-- The REST reference of the ScoDoc routes (scripts/scodoc/rest.lua), keyed
-- by "METHOD /path". The answers' schemas are derived from the normalised
-- shapes of scripts/scodoc/schema.lua (written once): every field present,
-- null when ScoDoc left it out, no other field.
local S = require "openapi.dsl"
local json = require "sis.json"
local shapes = require "scodoc.schema"

local SCALAR = {
  str = S.nullable(S.str),
  opt = S.nullable(S.str),
  date = S.nullable(S.str),
  ampm = S.nullable(S.enum("morning", "afternoon")),
  -- a number, or the text of a note ("ABS", "EXC", "ATT", "NP")
  num = { type = json.array { "number", "string", "null" } },
}

-- A Lua pattern of schema.lua ("^etape_apo%d+$") as a regular expression.
local function regex(p) return (p:gsub("%%d", "[0-9]"):gsub("%%(.)", "\\%1")) end

local function convert(shape)
  if type(shape) == "string" then return SCALAR[shape] end
  if shape.kind == "array" then return S.arr(convert(shape.item)) end
  local props, names = {}, {}
  for name, f in pairs(shape.fields) do
    props[name] = convert(f)
    names[#names + 1] = name
  end
  table.sort(names)
  local out = { type = json.array { "object", "null" }, properties = props, required = json.array(names) }
  if shape.others then
    out.additionalProperties = SCALAR[shape.others]
  elseif shape.patterns then
    out.patternProperties = {}
    for _, p in ipairs(shape.patterns) do out.patternProperties[regex(p[1])] = SCALAR[p[2]] end
    out.additionalProperties = false
  else
    out.additionalProperties = false
  end
  return out
end

local C = {}
for _, name in ipairs { "list_depts", "formation_list", "formation_export", "formsemestre_list",
                        "formsemestre_partition_list", "groups_view", "etud_info", "formsemestre_bulletinetud",
                        "ListeAbsEtud", "EtatAbsencesGr", "do_moduleimpl_withmodule_list",
                        "formsemestre_description" } do
  C[name] = convert(shapes[name])
end
C.formsemestre = C.formsemestre_list.items
C.ScoDocSession = S.obj({ username = S.str, auth = S.enum("cookie", "params", "basic"), depts = S.arr(S.str) },
                        { required = true })

local routes = {}
local DEPT = { name = "dept", description = "the department's acronym (INFO)" }
local function route(key, e)
  e.tag, e.session = "ScoDoc", e.session == nil and "scodoc" or e.session or nil
  if key:find(":dept", 1, true) then e.path_doc = { dept = DEPT.description } end
  if key:match("^GET ") and key ~= "GET /api/scodoc/session" then
    e.query = e.query or {}
    e.query.via = { schema = S.enum("json", "xml"), description = "fetch ScoDoc's JSON (default) or its XML: the same answer" }
  end
  routes[key] = e
end

local READ = { 400, 401, 403, 404, 502, 504 }
local P = "/api/scodoc/:dept"
local function ok(schema) return { [200] = schema } end
local function done() return S.obj({}, {}) end

route("POST /api/scodoc/session", { summary = "Log in to ScoDoc (sets the sis_scodoc cookie)", session = false,
  body = S.obj({ username = S.str, password = S.str, auth = S.enum("cookie", "params", "basic") },
               { required = { "username", "password" } }),
  responses = ok(S.ref("ScoDocSession")), errors = { 400, 401, 502, 503, 504 } })
route("GET /api/scodoc/session", { summary = "The logged-in ScoDoc user", responses = ok(S.ref("ScoDocSession")), errors = { 401 } })
route("DELETE /api/scodoc/session", { summary = "Log out", responses = ok(done()), errors = { 401 } })
route("GET /api/scodoc/depts", { summary = "Departments (list_depts)", responses = ok(S.ref("list_depts")), errors = READ })
route("GET /api/scodoc/students/:etudid/dept", { summary = "The department of a student (get_etud_dept)",
  responses = ok(S.obj({ etudid = S.str, dept = S.str }, { required = true })), errors = READ })
route("GET " .. P .. "/formations", { summary = "Formations (formation_list)", responses = ok(S.ref("formation_list")), errors = READ })
route("GET " .. P .. "/formations/:formation_id", { summary = "A formation with its UEs and modules (formation_export)",
  responses = ok(S.ref("formation_export")), errors = READ })
route("GET " .. P .. "/formsemestres", { summary = "Semesters (formsemestre_list)",
  query = { formation_id = { schema = S.str }, etape_apo = { schema = S.str } },
  responses = ok(S.ref("formsemestre_list")), errors = READ })
route("GET " .. P .. "/formsemestres/:id", { summary = "One semester", responses = ok(S.ref("formsemestre")), errors = READ })
route("GET " .. P .. "/formsemestres/:id/partitions", { summary = "Partitions and groups (formsemestre_partition_list)",
  responses = ok(S.ref("formsemestre_partition_list")), errors = READ })
route("GET " .. P .. "/formsemestres/:id/students", { summary = "Students of a semester (groups_view)",
  responses = ok(S.ref("groups_view")), errors = READ })
route("GET " .. P .. "/formsemestres/:id/description", { summary = "The semester's description table (formsemestre_description)",
  query = { with_evals = { schema = S.enum("0", "1"), description = "1: with the evaluation rows" } },
  responses = ok(S.ref("formsemestre_description")), errors = READ })
route("GET " .. P .. "/formsemestres/:id/moduleimpls", { summary = "Module implementations (do_moduleimpl_withmodule_list)",
  responses = ok(S.ref("do_moduleimpl_withmodule_list")), errors = READ })
route("GET " .. P .. "/groups/absences", { summary = "Absence counts of groups (EtatAbsencesGr)",
  query = { group_ids = { schema = S.str, required = true, description = "a,b or repeated" },
            from = { schema = S.date, required = true }, to = { schema = S.date, required = true },
            with_boursier = { schema = S.enum("0", "1") } },
  responses = ok(S.ref("EtatAbsencesGr")), errors = READ })
route("GET " .. P .. "/groups/:group_id/students", { summary = "Students of a group (groups_view)",
  responses = ok(S.ref("groups_view")), errors = READ })
route("GET " .. P .. "/students", { summary = "A student by etudid, code_nip or code_ine (etud_info)",
  query = { etudid = { schema = S.str }, code_nip = { schema = S.str }, code_ine = { schema = S.str } },
  responses = ok(S.ref("etud_info")), errors = READ })
route("GET " .. P .. "/students/:etudid", { summary = "A student (etud_info)", responses = ok(S.ref("etud_info")), errors = READ })
route("GET " .. P .. "/students/:etudid/bulletins/:formsemestre_id", { summary = "A bulletin (formsemestre_bulletinetud)",
  query = { version = { schema = S.enum("short", "long", "selectedevals") } },
  responses = ok(S.ref("formsemestre_bulletinetud")), errors = READ })
route("GET " .. P .. "/students/:etudid/absences", { summary = "A student's absences (ListeAbsEtud)",
  query = { justified = { schema = S.enum("0", "1"), description = "1: the justified ones only" } },
  responses = ok(S.ref("ListeAbsEtud")), errors = READ })
local PERIOD = { from = S.date, to = S.date, half_day = S.enum("day", "morning", "afternoon") }
route("POST " .. P .. "/students/:etudid/absences", { summary = "Record an absence (doSignaleAbsence)",
  body = S.obj({ from = S.date, to = S.date, half_day = PERIOD.half_day, justified = S.bool,
                 description = S.str, moduleimpl_id = S.str }, { required = { "from" } }),
  responses = { [201] = S.any }, errors = READ })
local period_query = { from = { schema = S.date, required = true }, to = { schema = S.date },
                       half_day = { schema = PERIOD.half_day } }
route("DELETE " .. P .. "/students/:etudid/absences", { summary = "Cancel absences (doAnnuleAbsence)",
  query = period_query, responses = ok(S.any), errors = READ })
route("DELETE " .. P .. "/students/:etudid/justifications", { summary = "Cancel justifications (doAnnuleJustif)",
  query = period_query, responses = ok(S.any), errors = READ })

return { routes = routes, components = C }
