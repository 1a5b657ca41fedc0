-- Normalisation of ScoDoc answers (scripts/scodoc/schema.lua, normalise.lua,
-- xml_map.lua): typing rules, and the same normalised JSON from the JSON and
-- the XML answer of every recorded call.
local t = require "testlib"
local json = require "sis.json"
local xml = require "sis.xml"
local schema = require "scodoc.schema"
local normalise = require "scodoc.normalise"
local xml_map = require "scodoc.xml_map"
local functions = require "scodoc.functions"
local client = require "scodoc.client"
local fakes = require "scodoc_fake"

local null = json.null
local R = "scodoc/responses/"

local function from_json(name, body)
  local f = functions[name]
  return assert(normalise.apply(f.schema, assert(json.decode(body)), { unescape = f.escaped.json }))
end

local function from_xml(name, body)
  local f = functions[name]
  local root = assert(client.parse_xml(body))
  return assert(normalise.apply(f.schema, xml_map.tree(f.schema, root), { unescape = f.escaped.xml }))
end

local function fixture(file) return t.fixture(R .. file) end

t.test("numbers from their lexeme; '', '-', 'NA' are null; notes like ABS stay text", function()
  local sch = { kind = "object", fields = { a = "num", b = "num", c = "num", d = "num", e = "num",
                                            f = "num", g = "num", h = "num", i = "num" } }
  local v = normalise.apply(sch, { a = "07.29", b = "3", c = "-", d = "NA", e = "", f = "ABS",
                                   g = 2.0, h = 12, i = "-0.5" })
  t.eq(v, { a = 7.29, b = 3, c = null, d = null, e = null, f = "ABS", g = 2.0, h = 12, i = -0.5 })
  t.eq(math.type(v.b), "integer")
  t.eq(math.type(v.a), "float")
end)

t.test("ids and codes stay strings, whatever they look like", function()
  local v = from_json("etud_info", fixture("INFO__Scolarite__etud_info__etudid=EID3101.json"))
  t.eq(v.etudid, "EID3101")
  t.eq(v.code_nip, "21900100")
  t.eq(v.codepostaldomicile, "82950")
  t.eq(v.annee_bac, 2019) -- a number by the schema
  t.eq(v.insemestre[1].current, 1)
  t.eq(v.insemestre[2].current, null)
  t.eq(v.insemestre[2].groupes, null)
end)

t.test("HTML entities decoded where ScoDoc escapes, raw text kept elsewhere", function()
  local etud = from_json("etud_info", fixture("INFO__Scolarite__etud_info__etudid=EID3102.json"))
  t.eq(etud.nom, "D'AUBIGNY")
  t.eq(etud.nomprenom, "M. Théo D'AUBIGNY")
  local etud_x = from_xml("etud_info", fixture("INFO__Scolarite__etud_info__etudid=EID3102.xml"))
  t.eq(etud_x.nom, "D'AUBIGNY") -- escaped twice in the XML
  local f = from_json("formation_export",
    fixture("INFO__Notes__formation_export__export_ids=1__formation_id=FORM3115.json"))
  t.eq(f.ue[2].matiere[2].module[1].titre, "Expression : « Écrire & convaincre »")
  t.eq(f.ue[3].matiere[1].module[2].titre, "Réseaux <niveau 1>")
  -- no entity decoding on text ScoDoc did not escape
  local raw = normalise.apply(functions.formation_list.schema, { { titre = "a &amp; b" } })
  t.eq(raw[1].titre, "a &amp; b")
end)

t.test("bulletin: values typed, special notes, ranks as text, entities decoded", function()
  local b = from_json("formsemestre_bulletinetud", fixture(
    "INFO__Notes__formsemestre_bulletinetud__etudid=EID3101__formsemestre_id=SEM3190__version=long.json"))
  t.eq(b.note, { value = 10.25, min = 8.34, max = 16.67, moy = 12.25 })
  t.eq(b.rang, { value = null, ninscrits = 12 })
  t.eq(b.absences, { nbabs = 2, nbabsjust = 1 })
  t.eq(b.etapes, { "V1INF" })
  t.eq(b.publie, 1)
  local ue1, ue2 = b.ue[1], b.ue[2]
  t.eq(ue1.numero, 3)
  t.eq(ue1.effectif, 12)
  t.eq(ue1.ects, 15)
  t.eq(ue1.note, { value = 10.25, min = 9.42, max = 16.67, moy = 12.26 }) -- moy: JSON only
  t.eq(ue2.rang, "8 ex")
  t.eq(ue2.titre, "Mathématiques & gestion")
  local poo, reseaux = ue1.module[1], ue1.module[2]
  t.eq(poo.coefficient, 2.5)
  t.eq(poo.evaluation[2], { coefficient = 2.0, jour = "2021-03-08", description = "DS POO",
    evaluation_type = 0, note = 8.25, heure_debut = "08:00", heure_fin = "10:00", incomplete = null,
    evaluation_id = "EVAL3201" })
  t.eq(reseaux.titre, "Réseaux <niveau 1>")
  t.eq(reseaux.note, { value = null, min = null, max = null, moy = null, -- "-" and "NA"
                       nb_notes = 0, nb_missing = 12, nb_valid_evals = 0 })
  t.eq(ue2.module[2].titre, 'Économie "numérique"')
  t.eq(b.decision, null)
  t.eq(json.encode(b.decision_ue), "[]")
end)

t.test("an ABS note stays 'ABS'; an incomplete evaluation is flagged 1", function()
  local seen = {}
  for _, e in ipairs(assert(json.decode(fixture("manifest.json"))).exchanges) do
    local file = e.response.body_file
    if file:find("bulletinetud.*version=long%.json$") then
      local b = from_json("formsemestre_bulletinetud", fixture(file))
      for _, ue in ipairs(b.ue) do
        for _, m in ipairs(ue.module) do
          for _, ev in ipairs(m.evaluation) do
            if type(ev.note) == "string" then seen[ev.note] = true end
            if ev.incomplete ~= null then seen.incomplete = ev.incomplete end
          end
        end
      end
    end
  end
  t.eq(seen, { ABS = true, EXC = true, ATT = true, incomplete = 1 })
end)

t.test("dates dd/mm/yyyy become ISO, ampm becomes morning/afternoon", function()
  local s = from_json("formsemestre_list",
    fixture("INFO__Notes__formsemestre_list__formsemestre_id=SEM3190.json"))[1]
  t.eq({ s.date_debut, s.date_fin, s.etat, s.semestre_id, s.annee_debut },
       { "2021-02-01", "2021-06-30", 1, 2, 2021 })
  t.eq(s.responsables, { "rgarnier", "cfaucher" })
  local abs = from_json("ListeAbsEtud",
    fixture("INFO__Absences__ListeAbsEtud__absjust_only=0__etudid=EID3101.json"))
  t.eq(abs, { { jour = "2021-02-08", datedmy = "2021-02-08", ampm = "morning", matin = "matin",
                exams = "", description = "", motif = "" } })
end)

t.test("a date that is not one is kept as ScoDoc wrote it", function()
  local v = normalise.apply(functions.ListeAbsEtud.schema,
    { { datedmy = "31/02/2021", ampm = "2" }, { datedmy = "", ampm = "0" }, { datedmy = "2021-02-08" } })
  t.eq({ v[1].datedmy, v[1].ampm, v[2].datedmy, v[2].ampm, v[3].datedmy, v[3].ampm },
       { "31/02/2021", "2", null, "afternoon", "2021-02-08", null })
end)

t.test("partition columns of groups_view: group name or null in both formats", function()
  local j = from_json("groups_view", fixture("INFO__Scolarite__groups_view__formsemestre_id=SEM3190__with_codes=1.json"))
  local x = from_xml("groups_view", fixture("INFO__Scolarite__groups_view__formsemestre_id=SEM3190__with_codes=1.xml"))
  t.eq(j[1].P3191, "B")
  t.eq(j[1].P3194, null)
  t.eq(x[1].P3194, null) -- value="" in the XML
  t.eq(j, x)
end)

t.test("a GenTable cell that is None reads the same from JSON (null) and XML (value=\"\")", function()
  -- ScoDoc's GenTable JSON keeps None as null where its XML writes value="":
  -- the first row of each recorded pair, with some cells made None
  local cases = {
    { "groups_view", "INFO__Scolarite__groups_view__formsemestre_id=SEM3190__with_codes=1",
      { "email", "etape", "code_ine", "P3191" } },
    { "ListeAbsEtud", "INFO__Absences__ListeAbsEtud__absjust_only=0__etudid=EID3101",
      { "ampm", "datedmy", "motif" } },
    { "EtatAbsencesGr", "INFO__Absences__EtatAbsencesGr__debut=01-02-2021__fin=30-06-2021__group_ids=G3192",
      { "nomprenom", "nbabs" } },
  }
  for _, case in ipairs(cases) do
    local name, file, cells = table.unpack(case)
    local j, x = fixture(file .. ".json"), fixture(file .. ".xml")
    for _, cell in ipairs(cells) do
      local nj, nx
      j, nj = j:gsub('"' .. cell .. '": "[^"]*"', '"' .. cell .. '": null', 1)
      x, nx = x:gsub("<" .. cell .. ' value="[^"]*" />', "<" .. cell .. ' value="" />', 1)
      t.eq({ nj, nx }, { 1, 1 }, cell)
    end
    t.eq(from_json(name, j), from_xml(name, x), name)
  end
  local row = from_json("groups_view", fixture(cases[1][2] .. ".json"):gsub('"email": "[^"]*"', '"email": null', 1))[1]
  t.eq({ row.email, row.etudid }, { "", "EID3112" }) -- text: "", as the XML says
end)

t.test("missing fields are null, missing lists [], unknown fields dropped", function()
  local v = from_json("etud_info", fixture("err-unknown-etudid__INFO__Scolarite__etud_info__etudid=EID9999.json"))
  t.eq(v.error, "code etudiant inconnu")
  t.eq(v.code_nip, null)
  t.eq(json.encode(v.insemestre), "[]")
  local extra = normalise.apply(functions.formation_list.schema, { { titre = "x", surprise = 1 } })
  t.eq(extra[1].surprise, nil)
  t.eq(json.encode(normalise.apply(functions.ListeAbsEtud.schema, json.decode("[]"))), "[]")
end)

t.test("an answer of the wrong shape is an error, not data", function()
  t.fails("unexpected answer %(top level: expected an array%)",
    normalise.apply(functions.formsemestre_list.schema, { titre = "x" }))
  t.fails("unexpected answer %(ue%[1%]%.note: expected an object%)",
    normalise.apply(functions.formsemestre_bulletinetud.schema, { ue = { { note = "12" } } }))
  t.fails("expected text", normalise.apply(functions.list_depts.schema, { {} }))
  -- well-formed JSON of the wrong shape, empty or null: not an empty answer
  t.fails("top level: expected an array", normalise.apply(functions.formation_list.schema, json.decode("{}")))
  t.fails("top level: expected an array", normalise.apply(functions.formation_list.schema, json.decode("null")))
  t.fails("top level: expected an object", normalise.apply(functions.etud_info.schema, json.decode("[]")))
  t.fails("top level: expected an object", normalise.apply(functions.etud_info.schema, json.decode("null")))
  t.fails("etapes: expected an array", normalise.apply(functions.formsemestre_list.schema,
                                                       json.decode('[{"etapes": {}}]')))
end)

t.test("XML with a bare & (ScoDoc 7 generic exports) is read, not refused", function()
  local body = '<?xml version="1.0" encoding="utf-8"?>\n<formation_list>\n'
    .. '    <formation titre="Sport & Culture" acronyme="A &amp; B" version="1" />\n</formation_list>\n'
  local v = from_xml("formation_list", body)
  t.eq({ v[1].titre, v[1].acronyme, v[1].version }, { "Sport & Culture", "A & B", 1 })
  t.fails("xml", client.parse_xml("<a><b></a>"))
end)

-- Every recorded call answered in both formats: [key] = {name=, json=, xml=}
local function recorded_pairs()
  local manifest = assert(json.decode(fixture("manifest.json")))
  local scenario = assert(json.decode(fixture("scenario-absences.json")))
  local found = {}
  local function add(ex, state)
    local r, res = ex.request, ex.response
    local ctype = res.headers["Content-Type"] or ""
    local fmt = ctype:find("json") and "json" or ctype:find("xml") and "xml"
    if res.status ~= 200 or not fmt then return end
    local name = r.path:match("([^/]+)$"):gsub("XMLgetEtudInfos", "etud_info")
    if not functions[name] or not functions[name].schema then return end
    local params = {}
    for _, p in ipairs(r.query) do
      if p[1] ~= "format" and not p[1]:find("^__ac") then params[#params + 1] = p[1] .. "=" .. p[2] end
    end
    table.sort(params)
    local key = table.concat({ state, r.path, table.concat(params, "&"), r.auth.user or "" }, " ")
    found[key] = found[key] or { name = name }
    found[key][fmt] = res.body_file
  end
  for _, ex in ipairs(manifest.exchanges) do add(ex, "") end
  for _, step in ipairs(scenario.steps) do add(step, step.description:match("^[%w-]+")) end
  return found
end

t.test("every recorded JSON/XML pair gives identical normalised JSON", function()
  local n, by_function = 0, {}
  for key, p in pairs(recorded_pairs()) do
    if p.json and p.xml then
      -- the JSON-only fields (schema.json_only) are null from the XML
      local a = fakes.as_from_xml(p.name, from_json(p.name, fixture(p.json)))
      local b = from_xml(p.name, fixture(p.xml))
      local d = t.diff(b, a, p.name)
      if d then error(key .. ": " .. d) end
      t.eq(json.encode(a), json.encode(b), key)
      n = n + 1
      by_function[p.name] = (by_function[p.name] or 0) + 1
    end
  end
  t.eq(n, 213) -- 207 in the manifest, 6 in the scenario
  -- all the functions that answer in both formats
  for _, name in ipairs { "list_depts", "formation_list", "formation_export", "formsemestre_list",
                          "formsemestre_partition_list", "groups_view", "etud_info",
                          "formsemestre_bulletinetud", "ListeAbsEtud", "EtatAbsencesGr" } do
    t.ok(by_function[name], "no recorded pair for " .. name)
  end
end)

-- The paths of a value not covered by a schema: "ue[].note.moy".
local function uncovered(sch, v, path, out)
  if type(sch) == "string" or type(v) ~= "table" then return out end
  if sch.kind == "array" then
    for _, x in ipairs(v) do uncovered(sch.item, x, path .. "[]", out) end
    return out
  end
  for k, x in pairs(v) do
    local ft = sch.fields[k] or sch.others
    for _, p in ipairs(sch.patterns or {}) do
      if k:match(p[1]) then ft = p[2] end
    end
    local sub = (path == "" and "" or path .. ".") .. k
    if ft then uncovered(ft, x, sub, out) else out[sub] = true end
  end
  return out
end

local function xml_uncovered(sch, el, path, out)
  if type(sch) == "string" then return out end
  if sch.kind == "array" then
    for _, c in ipairs(el) do
      if type(c) == "table" then xml_uncovered(sch.item, c, path .. "[]", out) end
    end
    return out
  end
  local function check(k)
    if sch.fields[k] or sch.others then return sch.fields[k] end
    for _, p in ipairs(sch.patterns or {}) do if k:match(p[1]) then return p[2] end end
    out[(path == "" and "" or path .. ".") .. k] = true
  end
  for k in pairs(el.attrs) do check(k) end
  for _, c in ipairs(el) do
    if type(c) == "table" then
      local ft = check(c.tag)
      if type(ft) == "table" then xml_uncovered(ft.kind == "array" and ft.item or ft, c,
                                                 (path == "" and "" or path .. ".") .. c.tag
                                                   .. (ft.kind == "array" and "[]" or ""), out) end
    end
  end
  return out
end

local function sorted_keys(set)
  local l = {}
  for k in pairs(set) do l[#l + 1] = k end
  table.sort(l)
  return l
end

t.test("the bulletin's JSON-only fields are kept from JSON, null from XML", function()
  local file = "INFO__Notes__formsemestre_bulletinetud__etudid=EID3101__formsemestre_id=SEM3160__version=long"
  local j, x = from_json("formsemestre_bulletinetud", fixture(file .. ".json")),
               from_xml("formsemestre_bulletinetud", fixture(file .. ".xml"))
  local seen = 0
  for _, path in ipairs(schema.json_only.formsemestre_bulletinetud) do
    local first = path:gsub("%[%]", "[1]")
    local function at(v)
      for step in first:gmatch("[^.]+") do
        local key, i = step:match("^(.-)%[(%d)%]$")
        v = key and v[key][tonumber(i)] or v[step]
      end
      return v
    end
    t.ok(at(j) ~= null and at(j) ~= nil, path .. " from JSON")
    t.eq(at(x), null, path .. " from XML")
    seen = seen + 1
  end
  t.eq(seen, 6)
end)

t.test("only the documented format-specific fields are left out", function()
  local dropped = { json = {}, xml = {} }
  for _, p in pairs(recorded_pairs()) do
    local sch = functions[p.name].schema
    if p.json then
      for path in pairs(uncovered(sch, json.decode(fixture(p.json)), "", {})) do
        dropped.json[p.name .. " " .. path] = true
      end
    end
    if p.xml then
      -- (a top-level list's wrapper attributes, e.g. a GenTable's caption, are not data)
      for path in pairs(xml_uncovered(sch, client.parse_xml(fixture(p.xml)), "", {})) do
        dropped.xml[p.name .. " " .. path] = true
      end
    end
  end
  local want = { json = {}, xml = {} } -- (the JSON-only fields are kept: none dropped)
  for name, lists in pairs(schema.format_only) do
    for fmt, paths in pairs(lists) do
      for _, path in ipairs(paths) do want[fmt][name .. " " .. path] = true end
    end
  end
  t.eq(sorted_keys(dropped.json), sorted_keys(want.json))
  t.eq(sorted_keys(dropped.xml), sorted_keys(want.xml))
end)
