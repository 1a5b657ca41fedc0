-- ScoDoc versions (issue 11, docs/scodoc.md "ScoDoc versions"): each
-- difference between what 6.5, 7 and 9.0 write, against the fake's
-- --version switches, in JSON and in XML. The raw answers differ (so the
-- switch is on), the normalised ones do not. And the code_nip ".0" retry
-- (--nip-dot0).
local t = require "testlib"
local json = require "sis.json"
local client = require "scodoc.client"
local api = require "scodoc.api"
local fakes = require "scodoc_fake"

local null = json.null
local fake = {
  ["7"] = fakes.start(fakes.docs),
  ["6.5"] = fakes.start(fakes.docs, "--version 6.5"),
  ["9.0"] = fakes.start(fakes.docs, "--version 9.0"),
}

local function new(version, opts)
  local o = { base_url = fake[version].url, username = "lecteur_api", password = "Lecture-Info-2021" }
  for k, v in pairs(opts or {}) do o[k] = v end
  return client.new(o)
end

-- fn's answer from each version and format: all equal to 7's JSON (but
-- for the JSON-only fields, null from XML). Returns it.
local function same_everywhere(fn, dept, args, versions)
  local want
  for _, version in ipairs(versions or { "7", "6.5", "9.0" }) do
    for _, format in ipairs { "json", "xml" } do
      local a = {}
      for k, v in pairs(args) do a[k] = v end
      a.format = format
      local c <close> = new(version)
      local got, err = fn(c, dept, a)
      t.ok(got, version .. " " .. format .. ": " .. tostring(err))
      if not want then want = got end
      local name
      for n, f in pairs(api) do if f == fn then name = n end end
      t.eq(got, format == "xml" and fakes.as_from_xml(name, want) or want, version .. " " .. format)
    end
  end
  return want
end

-- The raw answer (before normalisation) of a version.
local function raw(version, name, dept, params, format)
  local c <close> = new(version)
  return assert(c:fetch(name, dept, params, { format = format }))
end

t.test("bulletin: 6.5's etape_apo2..4 are '' and its JSON has no etapes; same answer", function()
  local p = { { "formsemestre_id", "SEM3190" }, { "etudid", "EID3101" }, { "version", "short" } }
  local r65 = raw("6.5", "formsemestre_bulletinetud", "INFO", p, "json")
  t.eq({ r65.etapes, r65.etape_apo2, r65.etape_apo4 }, { nil, "", "" })
  t.eq(raw("6.5", "formsemestre_bulletinetud", "INFO", p, "xml").etape_apo3, "")
  local b = same_everywhere(api.formsemestre_bulletinetud, "INFO",
    { formsemestre_id = "SEM3190", etudid = "EID3101", version = "short" })
  t.eq({ b.etapes, b.etape_apo, b.etape_apo2 }, { { "V1INF" }, "V1INF", nil })
  -- two steps: derived in order from etape_apo, etape_apo2
  local two = same_everywhere(api.formsemestre_bulletinetud, "INFO",
    { formsemestre_id = "SEM3160", etudid = "EID3101", version = "short" })
  t.eq({ two.etapes, two.etape_apo2, two.etape_apo3 }, { { "V1INF", "V1INF2" }, "V1INF2", nil })
end)

t.test("bulletin: 9.0's XML escaped twice reads as 7's escaped once", function()
  local p = { { "formsemestre_id", "SEM3190" }, { "etudid", "EID3101" }, { "version", "long" } }
  t.eq(raw("9.0", "formsemestre_bulletinetud", "INFO", p, "xml").ue[2].titre, "Mathématiques &amp; gestion")
  local b = same_everywhere(api.formsemestre_bulletinetud, "INFO", { formsemestre_id = "SEM3190", etudid = "EID3101" })
  t.eq({ b.ue[2].titre, b.ue[1].module[2].titre }, { "Mathématiques & gestion", "Réseaux <niveau 1>" })
end)

t.test("ListeAbsEtud: 6.5 has no jour/ampm and writes 'après midi'; same answer", function()
  local r = raw("6.5", "ListeAbsEtud", "INFO", { { "etudid", "EID3101" }, { "absjust_only", "1" } }, "json")
  t.eq(r, { { datedmy = "08/02/2021", matin = "après midi", description = "", exams = "", motif = "RDV médical" } })
  t.eq(raw("6.5", "ListeAbsEtud", "INFO", { { "etudid", "EID3101" }, { "absjust_only", "1" } }, "xml")[1].ampm, nil)
  t.eq(same_everywhere(api.ListeAbsEtud, "INFO", { etudid = "EID3101", absjust_only = true }),
    { { jour = "2021-02-08", datedmy = "2021-02-08", ampm = "afternoon", matin = "après-midi",
        exams = "", description = "", motif = "RDV médical" } })
  t.eq(#same_everywhere(api.ListeAbsEtud, "INFO", { etudid = "EID3102" }), 2)
end)

local function by_etudid(rows)
  table.sort(rows, function(a, b) return a.etudid < b.etudid end)
  return rows
end

t.test("EtatAbsencesGr: 6.5 refuses group_ids: one call per group_id, merged", function()
  local want = by_etudid(api.EtatAbsencesGr(new("7"), "INFO",
    { group_ids = { "G3192", "G3193" }, debut = "2021-02-01", fin = "2021-06-30" }))
  t.eq(#want, 13)
  for _, format in ipairs { "json", "xml" } do
    fake["6.5"].reset()
    local got = api.EtatAbsencesGr(new("6.5"), "INFO",
      { group_ids = { "G3192", "G3193" }, debut = "2021-02-01", fin = "2021-06-30", format = format })
    -- 6.5 has no boursier nor nbjustifs_noabs column
    for _, row in ipairs(want) do row.boursier, row.nbjustifs_noabs = null, null end
    t.eq(by_etudid(got), want, format) -- (group after group: 7 sorts them by name)
    local asked = {}
    for _, r in ipairs(fake["6.5"].received()) do
      for _, kv in ipairs(r.params) do
        if kv[1]:find("^group_id") then asked[#asked + 1] = kv[1] .. "=" .. kv[2] end
      end
    end
    t.eq(asked, { "group_ids=G3192", "group_ids=G3193", "group_id=G3192", "group_id=G3193" }, format)
  end
end)

t.test("GenTable cells: text (6.5, 7) or numbers (9.0): the same typed values", function()
  local p = { { "group_ids", "G3193" }, { "debut", "01/02/2021" }, { "fin", "30/06/2021" } }
  t.eq(math.type(raw("9.0", "EtatAbsencesGr", "INFO", p, "json")[6].nbabs), "integer")
  t.eq(raw("7", "EtatAbsencesGr", "INFO", p, "json")[6].nbabs, "3")
  local rows = same_everywhere(api.EtatAbsencesGr, "INFO", { group_ids = "G3193", debut = "2021-02-01",
                                                              fin = "2021-06-30" }, { "7", "9.0" })
  t.eq({ rows[6].nbabs, rows[6].nbabsnonjust, rows[6].nbjustifs_noabs }, { 3, 3, 0 })
  t.eq(math.type(raw("9.0", "ListeAbsEtud", "INFO", { { "etudid", "EID3101" } }, "json")[1].ampm), "integer")
end)

t.test("list_depts: 6.5 answers the repr of its Zope folders", function()
  local c <close> = new("6.5")
  t.eq(api.list_depts(c), { "INFO", "RT" })
  t.eq({ api.list_depts(c, { format = "xml" }) }, { { "INFO", "RT" } })
  t.eq(c:login(), { "INFO", "RT" }) -- it ignores viewable: every department
  -- Zope's repr of a list of names, without format
  local seven = fake["7"]
  seven.next_answer(200, "text/html", "['INFO', 'GEII']")
  t.eq(api.list_depts(new("7")), { "INFO", "GEII" })
  seven.next_answer(200, "text/html", "[<Folder at /ScoDoc/MMI>]")
  t.eq(api.list_depts(new("7")), { "MMI" })
end)

t.test("do_moduleimpl_*: 6.5's Python repr is a clear error, not a crash", function()
  for _, name in ipairs { "do_moduleimpl_list", "do_moduleimpl_withmodule_list" } do
    local _, err, kind = api[name](new("6.5"), "INFO", { moduleimpl_id = "MIP3145" })
    t.eq({ err, kind }, { "scodoc: ScoDoc answered a page sis cannot read: " .. name .. " answered a Python "
      .. "value instead of JSON: this ScoDoc (6.x) does not export it, ScoDoc 7 or later does", "unreadable" })
  end
end)

t.test("etud_info: escaped once (6.5) or twice (7) in XML, decoded right either way", function()
  t.eq(raw("6.5", "etud_info", "INFO", { { "etudid", "EID3102" } }, "xml").nom, "D'AUBIGNY")
  t.eq(raw("7", "etud_info", "INFO", { { "etudid", "EID3102" } }, "xml").nom, "D&apos;AUBIGNY")
  local e = same_everywhere(api.etud_info, "INFO", { etudid = "EID3102" })
  t.eq(e.nomprenom, "M. Théo D'AUBIGNY")
  -- a literal "&amp;" in a value survives both ways (here beside an apostrophe)
  local seven = fake["7"]
  local once = '<etudiant etudid="E1" nom="D&apos;AUBIGNY" villelycee="R&amp;amp;D" />'
  local twice = '<etudiant etudid="E1" nom="D&amp;apos;AUBIGNY" villelycee="R&amp;amp;amp;D" />'
  for _, body in ipairs { once, twice } do
    seven.next_answer(200, "text/xml", body)
    local v = api.etud_info(new("7"), "INFO", { etudid = "E1", format = "xml" })
    t.eq({ v.nom, v.villelycee }, { "D'AUBIGNY", "R&amp;D" }, body)
  end
  seven.next_answer(200, "application/json", '{"etudid": "E1", "nom": "D&apos;AUBIGNY", "villelycee": "R&amp;amp;D"}')
  t.eq(api.etud_info(new("7"), "INFO", { etudid = "E1" }).villelycee, "R&amp;D")
end)

t.test("code_nip lookups retry with a trailing .0 when ScoDoc does not know NNN", function()
  local dot0 = fakes.start(fakes.docs, "--nip-dot0")
  local c <close> = client.new { base_url = dot0.url, username = "lecteur_api", password = "Lecture-Info-2021" }
  local function nips()
    local out = {}
    for _, r in ipairs(dot0.received()) do
      for _, kv in ipairs(r.params) do if kv[1] == "code_nip" then out[#out + 1] = kv[2] end end
    end
    dot0.reset()
    return out
  end
  dot0.reset()
  t.eq(api.etud_info(c, "INFO", { code_nip = "21900507" }).etudid, "EID3112")
  t.eq(nips(), { "21900507", "21900507.0" })
  t.eq(api.XMLgetEtudInfos(c, "INFO", { code_nip = "21900507", format = "xml" }).etudid, "EID3112")
  t.eq(api.get_etud_dept(c, { code_nip = "21900100" }), "INFO")
  t.eq(api.formsemestre_bulletinetud(c, "INFO", { formsemestre_id = "SEM3190", code_nip = "21900100" }).etudid,
       "EID3101")
  t.eq(#api.XMLgetAbsEtud(c, "INFO", { code_nip = "21900100", beg_date = "2021-01-01",
                                      end_date = "2021-06-30" }).abs, 2)
  t.eq(nips(), { "21900507", "21900507.0", "21900100", "21900100.0", "21900100", "21900100.0",
                 "21900100", "21900100.0" })
  -- already .0, or not about the student: no retry; unknown both ways: the first error
  t.eq(api.etud_info(c, "INFO", { code_nip = "21900507.0" }).etudid, "EID3112")
  t.eq(nips(), { "21900507.0" })
  dot0.next_answer(500, "text/html", "<html><body><h2>Erreur !</h2><p>semestre SEM9999 inconnu !</p></body></html>")
  t.eq({ select(2, api.formsemestre_bulletinetud(c, "INFO", { formsemestre_id = "SEM9999", code_nip = "21900100" })) },
       { "scodoc: semestre SEM9999 inconnu !", "not_found" })
  t.eq(nips(), {}) -- (the queued answer is not logged: nothing else was asked)
  t.eq({ select(2, api.etud_info(c, "INFO", { code_nip = "99999999" })) }, { "scodoc: code etudiant inconnu", "not_found" })
  t.eq(nips(), { "99999999", "99999999.0" })
  -- the documentation mode stores them plainly: one request
  local plain <close> = new("7")
  fake["7"].reset()
  t.eq(api.etud_info(plain, "INFO", { code_nip = "21900507" }).etudid, "EID3112")
  t.eq(#fake["7"].received(), 1)
end)
