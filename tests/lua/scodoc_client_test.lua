-- scodoc.client and scodoc.api against the fake ScoDoc 7 (tests/servers/fake_scodoc.py):
-- every function in both formats, the three ways to authenticate, the
-- error cases, and the absence write scenario step by step; the whole
-- suite once per configuration of the fake (tests/lua/scodoc_fake.lua: the
-- documentation mode, and the default install with each login-page status
-- and ScoDoc version).
local t = require "testlib"
local json = require "sis.json"
local client = require "scodoc.client"
local api = require "scodoc.api"
local functions = require "scodoc.functions"
local fakes = require "scodoc_fake"

local null = json.null
local READER = { username = "lecteur_api", password = "Lecture-Info-2021" }
local SECRETARY = { username = "secr_info", password = "Secr3tariat!" }

local function param(req, name)
  local v
  for _, p in ipairs(req.params) do if p[1] == name then v = p[2] end end
  return v
end

for _, mode in ipairs(fakes.modes()) do
local fake = fakes.start(mode)
local received, reset, next_answer = fake.received, fake.reset, fake.next_answer
local v65 = mode.version == "6.5"
local function test(name, fn) t.test(mode.tag .. " " .. name, fn) end

local function new(opts)
  opts = opts or {}
  local o = { base_url = fake.url .. "/" }
  for k, v in pairs(READER) do o[k] = v end
  for k, v in pairs(opts) do o[k] = v end
  return client.new(o)
end

-- A call in both formats: the answers must be equal (but for the JSON-only
-- fields, null from XML); returns the JSON one.
local function both(fn, ...)
  local c = new()
  local args = select(select("#", ...), ...)
  local rest = { ... }
  local a, err, kind = fn(c, table.unpack(rest))
  t.ok(a, tostring(err) .. " " .. tostring(kind))
  args.format = "xml"
  local b, xerr = fn(c, table.unpack(rest))
  t.ok(b, tostring(xerr))
  for name, f in pairs(api) do
    if f == fn then t.eq(b, fakes.as_from_xml(name, a)) end
  end
  c:close()
  return a
end

test("list_depts, formation_list, formation_export in JSON and XML", function()
  t.eq(both(api.list_depts, {}), fake.reader_depts)
  t.eq(both(api.list_depts, { viewable = false }), { "INFO", "RT" })
  local forms = both(api.formation_list, "INFO", {})
  t.eq(#forms, 1)
  t.eq({ forms[1].formation_id, forms[1].version, forms[1].type_parcours }, { "FORM3115", 1, 100 })
  t.eq(both(api.formation_list, "INFO", { formation_id = "FORM9999" }), {})
  local tree = both(api.formation_export, "INFO", { formation_id = "FORM3115", export_ids = true })
  t.eq(#tree.ue, 5)
  t.eq(tree.ue[1].ue_id, "UE3116")
  t.eq(tree.ue[1].ects, 16.0)
  t.eq(tree.ue[1].matiere[1].module[1].ects, null) -- "" in a numeric field
  local bare = both(api.formation_export, "INFO", { formation_id = "FORM3115" })
  t.eq(bare.ue[1].ue_id, null) -- ids only with export_ids
  t.eq(bare.ue[1].titre, "Bases de l'informatique")
  -- ScoDoc 7 takes export_ids=0 as true: false is not sent
  t.eq(both(api.formation_export, "INFO", { formation_id = "FORM3115", export_ids = false }), bare)
end)

test("formsemestre_list with its filters, partitions, groups in JSON and XML", function()
  local all = both(api.formsemestre_list, "INFO", {})
  t.eq(#all, 3)
  t.eq({ all[1].formsemestre_id, all[1].date_debut, all[1].etat }, { "SEM3190", "2021-02-01", 1 })
  t.eq(#both(api.formsemestre_list, "INFO", { formation_id = "FORM3115" }), 3)
  t.eq(#both(api.formsemestre_list, "INFO", { etape_apo = "V1INF2" }), 1)
  t.eq(both(api.formsemestre_list, "INFO", { formsemestre_id = "SEM9999" }), {})
  local parts = both(api.formsemestre_partition_list, "INFO", { formsemestre_id = "SEM3190" })
  t.eq(#parts, 3)
  t.eq({ parts[1].partition_name, #parts[1].group, parts[3].partition_name }, { "TD", 2, null })
  local members = both(api.groups_view, "INFO", { group_ids = "G3192" })
  t.eq(#members, 7)
  t.eq({ members[1].etudid, members[1].nom_disp, members[1].P3191 }, { "EID3105", "BOURDIEL", "A" })
  local two = both(api.groups_view, "INFO", { group_ids = { "G3165", "G3166" } })
  t.eq(#two, 6)
  t.eq({ two[1].P3161, two[1].P3164 }, { "A", "A2" })
  local sem = both(api.groups_view, "INFO", { formsemestre_id = "SEM3190", with_codes = false })
  t.eq(#sem, 13)
  t.eq(sem[1].etudid, null) -- no codes asked
  t.eq(#both(api.groups_view, "INFO", { formsemestre_id = "SEM3190", etat = "I" }), 12)
end)

test("etud_info by etudid, code_nip, code_ine in JSON and XML", function()
  local e = both(api.etud_info, "INFO", { etudid = "EID3101" })
  t.eq({ e.nom, e.prenom, e.code_nip }, { "MARCHAL-VÉRIN", "Élodie", "21900100" })
  local chloe = both(api.etud_info, "INFO", { code_nip = "21900507" })
  t.eq({ chloe.etudid, chloe.nomprenom, chloe.insemestre[1].groupes }, { "EID3112", "Mme Chloé ANDRIEUX", "B" })
  t.eq(both(api.etud_info, "INFO", { code_ine = "0B9QX0001143" }), chloe)
end)

test("formsemestre_bulletinetud in its three versions, JSON and XML", function()
  local args = { formsemestre_id = "SEM3190", etudid = "EID3101" }
  local long = both(api.formsemestre_bulletinetud, "INFO", args)
  t.eq(#long.ue[1].module[1].evaluation, 2)
  args.version = "short"
  local short = both(api.formsemestre_bulletinetud, "INFO", args)
  t.eq(#short.ue[1].module[1].evaluation, 0)
  t.eq(short.note, long.note)
  args.version = "selectedevals"
  both(api.formsemestre_bulletinetud, "INFO", args)
  local by_nip = both(api.formsemestre_bulletinetud, "INFO",
    { formsemestre_id = "SEM3190", code_nip = "21900100" })
  t.eq(by_nip, long)
  local jury = both(api.formsemestre_bulletinetud, "INFO",
    { formsemestre_id = "SEM3160", etudid = "EID3101", version = "long" })
  t.eq(jury.decision.code, "ADM")
  t.eq(jury.autorisation_inscription, { { semestre_id = 2 } })
end)

test("absences: ListeAbsEtud, EtatAbsencesGr in JSON and XML", function()
  t.eq(both(api.ListeAbsEtud, "INFO", { etudid = "EID3101" }),
    { { jour = "2021-02-08", datedmy = "2021-02-08", ampm = "morning", matin = "matin",
        exams = "", description = "", motif = "" } })
  local just = both(api.ListeAbsEtud, "INFO", { etudid = "EID3101", absjust_only = true })
  t.eq({ #just, just[1].ampm, just[1].motif }, { 1, "afternoon", "RDV médical" })
  t.eq(both(api.ListeAbsEtud, "INFO", { etudid = "EID3101", absjust_only = false }),
       both(api.ListeAbsEtud, "INFO", { etudid = "EID3101" }))
  local no_exams = both(api.ListeAbsEtud, "INFO", { etudid = "EID3102", with_evals = false })
  t.eq({ no_exams[1].jour, no_exams[1].exams }, { "2021-02-22", null })
  local state = both(api.EtatAbsencesGr, "INFO", { group_ids = "G3193", debut = "2021-02-01", fin = "2021-06-30" })
  -- ScoDoc 6.5 has neither the boursier nor the nbjustifs_noabs column
  t.eq(state[6], { etudid = "EID3109", nomprenom = "M. Hugo VALLANZ (dem)", boursier = v65 and null or "N",
                   nbabs = 3, nbabsjust = 0, nbabsnonjust = 3, nbjustifs_noabs = v65 and null or 0 })
  local nob = both(api.EtatAbsencesGr, "INFO",
    { group_ids = "G3198", debut = "01/02/2021", fin = "30/06/2021", with_boursier = false })
  t.eq(nob[1].boursier, null)
  t.eq(#both(api.EtatAbsencesGr, "INFO",
    { group_ids = { "G3192", "G3193" }, debut = "2021-02-01", fin = "2021-06-30" }), 13)
end)

test("do_moduleimpl_list and _withmodule_list (JSON only: via xml gives the same)", function()
  if v65 then -- a Python repr: a clear error naming the version problem
    for _, name in ipairs { "do_moduleimpl_list", "do_moduleimpl_withmodule_list" } do
      t.eq({ select(2, api[name](new(), "INFO", { formsemestre_id = "SEM3190" })) },
        { "scodoc: ScoDoc answered a page sis cannot read: " .. name .. " answered a Python value "
          .. "instead of JSON: this ScoDoc (6.x) does not export it, ScoDoc 7 or later does", "unreadable" })
    end
    return
  end
  local list = both(api.do_moduleimpl_list, "INFO", { formsemestre_id = "SEM3190" })
  t.eq(#list, 4)
  t.eq(list[1].moduleimpl_id, "MIP3199")
  local with = both(api.do_moduleimpl_withmodule_list, "INFO", { moduleimpl_id = "MIP3145" })
  t.eq({ with[1].module.code, with[1].module.coefficient, with[1].ue.acronyme }, { "M1101", 2.5, "UE11" })
  t.eq(#both(api.do_moduleimpl_withmodule_list, "INFO", {}), 20)
  reset()
  api.do_moduleimpl_list(new(), "INFO", { module_id = "MOD3118", format = "xml" })
  t.eq(param(received()[1], "format"), nil) -- no format is sent to these
end)

test("cookie auth (default): basic once, then only the cookie ScoDoc set (__ac, or __aca)", function()
  reset()
  local c = new()
  t.ok(api.formsemestre_list(c, "INFO", {}))
  t.ok(api.etud_info(c, "INFO", { etudid = "EID3101" }))
  t.ok(api.ListeAbsEtud(c, "INFO", { etudid = "EID3101", format = "xml" }))
  -- the session is the jar: __aca (an opaque token) on a default install
  t.match(c:export_cookies(), mode.install and "\t__aca\t" or "\t__ac\t")
  local reqs = received()
  t.eq(#reqs, 3)
  t.eq({ reqs[1].auth, reqs[2].auth, reqs[3].auth }, { "basic", "cookie", "cookie" })
  t.eq({ reqs[2].authorization, param(reqs[2], "__ac_name") }, { false, nil })
  c:close()
end)

test("params auth: __ac_name/__ac_password with every request, GET and POST", function()
  reset()
  local c = new { auth = "params" }
  local c2 = new { auth = "params", username = SECRETARY.username, password = SECRETARY.password }
  t.ok(api.formsemestre_list(c, "INFO", { formsemestre_id = "SEM3190" }))
  t.ok(api.formsemestre_list(c, "INFO", { formsemestre_id = "SEM3190" }))
  t.fails("date invalide", c2:call("doSignaleAbsence", "INFO", { { "etudid", "EID3101" },
    { "datedebut", "31/02/2021" }, { "datefin", "31/02/2021" }, { "demijournee", "2" } }))
  local reqs = received()
  t.eq(#reqs, 3)
  for i, r in ipairs(reqs) do
    t.eq({ r.auth, r.authorization, param(r, "__ac_password") }, { "params", false, "***" }, i)
    -- never in the URL: ScoDoc's error page prints the query string and mails it
    t.eq({ r.method, r.query_names }, { "POST", {} }, i)
  end
end)

test("basic auth: an Authorization header with every request", function()
  reset()
  local c = new { auth = "basic" }
  local a = api.formsemestre_bulletinetud(c, "INFO", { formsemestre_id = "SEM3190", etudid = "EID3101", version = "short" })
  local b = api.formsemestre_bulletinetud(new(), "INFO", { formsemestre_id = "SEM3190", etudid = "EID3101", version = "short" })
  t.eq(a, b)
  t.ok(api.formsemestre_list(c, "INFO", {}))
  local reqs = received()
  t.eq({ reqs[1].auth, reqs[3].auth }, { "basic", "basic" })
end)

test("a cookie that stops working: one new login, then the data", function()
  reset()
  local c = new()
  t.ok(api.list_depts(c)) -- gets the cookie
  local stale = c:export_cookies():gsub("__ac\t[^\n]*", "__ac\tbGVjdGV1cl9hcGk6d3Jvbmc%%3D")
  c:close()
  if mode.install then t.ok(fake.expire() > 0) end -- the server forgets its __aca tokens
  c = new { cookies = stale }
  t.eq(#api.formsemestre_list(c, "INFO", {}), 3)
  local reqs = received()
  t.eq({ reqs[2].auth, reqs[3].auth }, { "cookie", "basic" })
end)

test("a cookie answered by a redirect to the login form: one new login, then the answer", function()
  local c = new(SECRETARY)
  t.ok(api.list_depts(c)) -- gets the cookie
  local function redirect_to_login()
    reset()
    next_answer(302, "text/html", "", { Location = fake.url .. "/ScoDoc/acl_users/docLogin?came_from=x" })
    next_answer(200, "text/html", '<html><body><form><input type="PASSWORD" name="__ac_password"></form></body></html>')
  end
  redirect_to_login()
  t.eq(#api.formation_list(c, "INFO", {}), 1)
  t.eq(#received(), 1) -- (the fake does not log the answers queued by /__fake__/next)
  t.eq(received()[1].auth, "basic")
  redirect_to_login() -- a write: curl follows the 302 with a GET, the POST is sent again after the login
  t.eq({ select(2, c:call("doSignaleAbsence", "INFO", { { "etudid", "EID3101" }, { "datedebut", "31/02/2021" },
    { "datefin", "31/02/2021" }, { "demijournee", "2" } })) }, { "scodoc: date invalide: 31/02/2021", "bad_request" })
  t.eq({ received()[1].method, received()[1].auth }, { "POST", "basic" })
end)

test("login checks the credentials in every auth mode", function()
  for _, auth in ipairs { "cookie", "params", "basic" } do
    t.eq(new({ auth = auth }):login(), fake.reader_depts, auth)
    local _, err, kind = new({ auth = auth, password = "wrong" }):login()
    t.eq(kind, "auth", auth)
    t.match(err, "authentication failed")
    t.eq({ select(2, new({ auth = auth, username = "nobody" }):login()) },
         { "scodoc: login refused for nobody", "auth" }, auth)
  end
  t.eq(new({ username = "ens_rt", password = "ReseauxEtTelecoms" }):login(), v65 and { "INFO", "RT" } or { "RT" })
end)

test("refusals: bad password, no credentials, no permission", function()
  local bad = new { password = "wrong" }
  local _, err, kind = api.formsemestre_list(bad, "INFO", {})
  t.eq(kind, "auth")
  t.match(err, "login page")
  local anon = client.new { base_url = fake.url }
  t.eq(select(3, api.formsemestre_bulletinetud(anon, "INFO",
    { formsemestre_id = "SEM3190", etudid = "EID3101", version = "short" })), "auth")
  -- public, but lists nothing for anonymous (ScoDoc 6.5 ignores viewable)
  t.eq(api.list_depts(anon), v65 and { "INFO", "RT" } or {})
  local rt = new { username = "ens_rt", password = "ReseauxEtTelecoms" }
  t.eq(select(3, api.formsemestre_list(rt, "INFO", {})), "forbidden")
  t.eq(#api.formsemestre_list(rt, "RT", {}), 0)
  t.eq(select(3, api.formsemestre_list(new(), "RT", {})), "forbidden")
  -- writes need ScoAbsChange
  local _, werr, wkind = api.doSignaleAbsence(new(), "INFO", { etudid = "EID3101", datedebut = "2021-03-09" })
  t.eq(wkind, "forbidden")
  t.match(werr, "permission denied")
end)

test("unknown student, semestre, group, department, function", function()
  local c = new()
  for _, fmt in ipairs { "json", "xml" } do
    local _, err, kind = api.etud_info(c, "INFO", { etudid = "EID9999", format = fmt })
    t.eq({ err, kind }, { "scodoc: code etudiant inconnu", "not_found" })
    _, err, kind = api.formsemestre_bulletinetud(c, "INFO",
      { formsemestre_id = "SEM9999", etudid = "EID3101", format = fmt })
    t.eq({ err, kind }, { "scodoc: semestre SEM9999 inconnu !", "not_found" })
    _, err, kind = api.formsemestre_bulletinetud(c, "INFO",
      { formsemestre_id = "SEM3190", etudid = "EID9999", format = fmt })
    t.eq({ err, kind }, { "scodoc: étudiant inconnu", "not_found" })
  end
  t.eq(select(3, api.etud_info(c, "INFO", { code_nip = "99999999" })), "not_found")
  t.eq({ select(2, api.formsemestre_bulletinetud(c, "INFO",
    { formsemestre_id = "SEM3140", etudid = "EID3101" })) },
    { "scodoc: Mme Élodie MARCHAL-VÉRIN non inscrit dans ce semestre !", "not_found" })
  t.eq(select(3, api.groups_view(c, "INFO", { formsemestre_id = "SEM9999", with_codes = false })), "not_found")
  t.eq({ select(2, api.groups_view(c, "INFO", { group_ids = "G9999", with_codes = false })) },
    { "scodoc: invalid group_id: G9999", "not_found" })
  t.eq(select(3, api.EtatAbsencesGr(c, "INFO", { group_ids = "G9999", debut = "2021-02-01", fin = "2021-06-30" })),
    "not_found")
  t.eq({ select(2, c:call("ListeAbsEtud", "INFO", { { "etudid", "EID9999" } })) },
    { "scodoc: list index out of range", "not_found" })
  -- Zope's 404 names the upstream path: that goes to the log (the detail)
  t.eq({ select(2, api.formsemestre_list(c, "XYZ", {})) },
    { "scodoc: not found on this ScoDoc: department XYZ or function formsemestre_list", "not_found",
      "HTTP 404 resource not found: /ScoDoc/XYZ/Scolarite/Notes/formsemestre_list" })
  t.eq(select(3, api.etud_info(c, "XYZ", { etudid = "EID3101" })), "not_found")
  t.eq(select(3, api.formation_export(c, "INFO", { formation_id = "FORM9999" })), "not_found")
  functions.define("no_such_function", { container = "Notes", formats = { json = true } })
  t.eq({ select(2, c:call("no_such_function", "INFO", {})) },
    { "scodoc: not found on this ScoDoc: department INFO or function no_such_function", "not_found",
      "HTTP 404 resource not found: /ScoDoc/INFO/Scolarite/Notes/no_such_function" })
  functions.no_such_function = nil
end)

test("missing or refused parameters: 400 and ScoDoc's refusals", function()
  local c = new()
  t.eq({ select(2, c:call("formation_export", "INFO", {})) },
    { "scodoc: missing parameter formation_id", "bad_request" })
  t.eq(select(3, c:call("formsemestre_partition_list", "INFO", {})), "bad_request")
  t.eq(select(3, c:call("ListeAbsEtud", "INFO", {})), "bad_request")
  t.eq({ select(2, c:call("formsemestre_bulletinetud", "INFO", { { "formsemestre_id", "SEM3190" } })) },
    { "scodoc: Paramètre manquant: spécifier code_nip ou etudid", "bad_request" })
  t.eq({ select(2, c:call("EtatAbsencesGr", "INFO", { { "group_ids", "G3192" },
    { "debut", "2021-02-01" }, { "fin", "2021-06-30" } })) },
    { v65 and "scodoc: missing parameter group_id" or "scodoc: invalid date: 2021-02-01 / 2021-06-30",
      "bad_request" })
  t.eq({ select(2, c:call("formsemestre_bulletinetud", "INFO", { { "formsemestre_id", "SEM3190" },
    { "etudid", "EID3101" }, { "version", "full" } })) },
    { "scodoc: invalid version code !", "bad_request" })
  local s = new(SECRETARY)
  t.eq({ select(2, s:call("doSignaleAbsence", "INFO", { { "etudid", "EID3101" }, { "datedebut", "06/10/2021" },
    { "datefin", "06/10/2021" }, { "demijournee", "2" } })) },
    { "scodoc: date absence trop loin dans le futur !", "bad_request" })
  t.eq({ select(2, s:call("doAnnuleAbsence", "INFO", { { "etudid", "EID3101" }, { "datedebut", "08/02/2021" },
    { "datefin", "08/02/2021" } })) },
    { "scodoc: missing parameter demijournee", "bad_request" })
  t.raises(function() c:call("formation_list", "INFO", { { "bogus", "1" } }) end, "takes no parameter 'bogus'")
  t.raises(function() c:call("nonexistent", "INFO", {}) end, "unknown function")
end)

test("the API checks its arguments before calling ScoDoc", function()
  reset()
  local c = new(SECRETARY)
  t.fails("formation_id is required", api.formation_export(c, "INFO", {}))
  t.fails("exactly one of etudid, code_nip, code_ine", api.etud_info(c, "INFO", { etudid = "E", code_nip = "1" }))
  t.fails("version must be short, selectedevals or long",
    api.formsemestre_bulletinetud(c, "INFO", { formsemestre_id = "S", etudid = "E", version = "full" }))
  t.fails("exactly one of formsemestre_id, group_ids", api.groups_view(c, "INFO", {}))
  t.fails("'2021%-02%-31' is not a date", api.EtatAbsencesGr(c, "INFO", { group_ids = "G", debut = "2021-02-31", fin = "2021-03-01" }))
  t.fails("group_ids is required", api.EtatAbsencesGr(c, "INFO", { debut = "2021-02-01", fin = "2021-03-01" }))
  t.fails("datedebut %(a date", api.doSignaleAbsence(c, "INFO", { etudid = "EID3103" }))
  t.fails("datefin 2021%-03%-07 is before datedebut 2021%-03%-08",
    api.doSignaleAbsence(c, "INFO", { etudid = "EID3103", datedebut = "2021-03-08", datefin = "2021-03-07" }))
  t.fails("demijournee must be day, morning or afternoon",
    api.doAnnuleAbsence(c, "INFO", { etudid = "EID3103", datedebut = "2021-03-08", demijournee = "evening" }))
  local _, err, kind = api.doSignaleAbsence(c, "INFO",
    { etudid = "EID3103", datedebut = "2021-03-08", description = "RDV (dentiste) urgent" })
  t.eq(kind, "bad_request")
  t.match(err, "must not contain '%)'")
  t.fails("etudid is required", api.doAnnuleJustif(c, "INFO", { datedebut = "2021-03-08" }))
  -- a misspelt argument is a mistake, not a filter silently dropped
  t.raises(function() api.formsemestre_list(c, "INFO", { formation = "FORM3115" }) end,
    "formsemestre_list takes no argument 'formation' (it takes etape_apo, format, formation_id, formsemestre_id)",
    true)
  t.raises(function() api.list_depts(c, { viewable = true, dept = "INFO" }) end, "takes no argument 'dept'")
  t.raises(function() api.doAnnuleAbsence(c, "INFO", { etudid = "E", datedebut = "2021-03-08", half = "day" }) end,
    "doAnnuleAbsence takes no argument 'half'")
  t.raises(function() api.get_etud_dept(c, { nip = "1" }) end, "get_etud_dept takes no argument 'nip'")
  -- a department that would change the upstream path
  for _, dept in ipairs { "..", ".", "A/B", "A%2FB", "", "IN FO" } do
    t.eq(select(3, api.formsemestre_list(c, dept, {})), "bad_request", dept)
  end
  t.eq(#received(), 0) -- none of these reached ScoDoc
end)

test("answers that are not data: HTML instead of JSON, broken JSON/XML, 503", function()
  local c = new()
  local R = "scodoc: ScoDoc answered a page sis cannot read: "
  next_answer(200, "text/html", "<html><head><title>Maintenance</title></head><body>Bientôt</body></html>")
  t.eq({ select(2, api.formation_list(c, "INFO", {})) },
    { R .. "formation_list: an HTML page where JSON was expected", "unreadable", "page: Maintenance" })
  next_answer(200, "application/json", '[{"titre": "x"')
  local _, err, kind = api.formation_list(c, "INFO", {})
  t.eq(kind, "unreadable")
  t.match(err, "^" .. R .. "formation_list: malformed JSON: json: ")
  next_answer(200, "text/xml", "<formation_list><formation></formation_list>")
  _, err, kind = api.formation_list(c, "INFO", { format = "xml" })
  t.eq(kind, "unreadable")
  t.match(err, "malformed XML: xml: ")
  next_answer(200, "application/json", '{"titre": "an object, not a list"}')
  t.eq({ select(2, api.formation_list(c, "INFO", {})) },
    { R .. "formation_list: unexpected answer (top level: expected an array)", "unreadable" })
  next_answer(503, "text/plain", "overloaded")
  t.eq({ select(2, api.formation_list(c, "INFO", {})) }, { R .. "formation_list: HTTP status 503", "unreadable" })
  -- a traceback page: its text is evidence for the log, not the message
  next_answer(502, "text/html", "<html><head><title>Proxy Error</title></head><body>Traceback: ...</body></html>")
  t.eq({ select(2, api.formation_list(c, "INFO", {})) },
    { R .. "formation_list: HTTP status 502", "unreadable", "page: Proxy Error" })
  next_answer(200, "text/plain", "INFO")
  t.eq({ select(2, api.etud_info(c, "INFO", { etudid = "EID3101" })) },
    { R .. "etud_info: 'text/plain' where JSON was expected", "unreadable" })
end)

test("the login page is recognised by its content, whatever its status and letter case", function()
  local pages = {
    '<html><body><form><input type="PASSWORD" name="__ac_password"></form></body></html>',
    '<HTML><BODY><FORM><INPUT TYPE="PASSWORD" NAME="__ac_password" SIZE="20"></FORM></BODY></HTML>',
    "<html><head><TITLE>Login Failed</TITLE></head><body>...</body></html>",
    "<html><head><title>Please Login</title></head><body>...</body></html>",
    "<html><head><title>Identifiez vous sur ScoDoc</title></head><body>...</body></html>",
  }
  -- good credentials: the role is missing (403); bad ones: 401
  for _, status in ipairs { 200, 401, 500 } do
    for i, page in ipairs(pages) do
      next_answer(status, "text/html", page)
      t.eq({ select(2, api.formation_list(new(), "INFO", {})) },
        { "scodoc: permission denied (the account lacks the role needed)", "forbidden" }, status .. " " .. i)
      next_answer(status, "text/html", page)
      t.eq({ select(2, api.formation_list(new { password = "wrong" }, "INFO", {})) },
        { "scodoc: authentication failed (ScoDoc answered its login page)", "auth" }, status .. " " .. i)
    end
  end
  -- the same credentials accepted at login: no second check
  local c = new { auth = "basic" }
  t.ok(c:login())
  reset()
  next_answer(500, "text/html", pages[2])
  t.eq(select(3, api.formation_list(c, "INFO", {})), "forbidden")
  t.eq(#received(), 0)
end)

test("a write answered by a ScoDoc error page with status 200 is an error, not a success", function()
  local s = new(SECRETARY)
  local page = t.fixture("scodoc/responses/err-bad-date__INFO__Absences__doSignaleAbsence__"
    .. "datedebut=31-02-2021__datefin=31-02-2021__demijournee=2__etudid=EID3101.html")
  next_answer(200, "text/html", page) -- the recorded 500 page, sent with 200
  t.eq({ select(2, api.doSignaleAbsence(s, "INFO", { etudid = "EID3101", datedebut = "2021-03-08" })) },
    { "scodoc: date invalide: 31/02/2021", "bad_request" })
  next_answer(200, "text/html", t.fixture("scodoc/responses/err-unknown-etudid__INFO__Absences__"
    .. "doSignaleAbsence__datedebut=09-03-2021__datefin=09-03-2021__demijournee=2__etudid=EID9999.html"))
  t.eq({ select(2, api.doAnnuleAbsence(s, "INFO", { etudid = "EID9999", datedebut = "2021-03-09" })) },
    { "scodoc: list index out of range", "not_found" })
  -- a description that says "Erreur" does not make a success page an error
  next_answer(200, "text/html", "<html><body><h2>Signalement d'absences</h2>"
    .. "<p>Ajout de 2 absences <b>NON justifiées</b> (Erreur de bus)</p></body></html>")
  t.eq(api.doSignaleAbsence(s, "INFO", { etudid = "EID3101", datedebut = "2021-03-08" }).count, 2)
end)

test("a write's message is its first paragraph, also when ScoDoc leaves paragraphs open", function()
  local s = new(SECRETARY)
  -- 20000 unclosed <p>: "<p>(.-)</p>" tried each of them to the end (quadratic: a minute of CPU)
  next_answer(200, "text/html", "<html><body><h2>Signalement d'absences</h2>"
    .. "<p>Ajout de 2 absences <b>NON justifiées</b> du 08/03/2021 au 08/03/2021\n"
    .. ("<p>Autre absence\n"):rep(20000) .. "</body></html>")
  t.eq(api.doSignaleAbsence(s, "INFO", { etudid = "EID3101", datedebut = "2021-03-08" }),
    { count = 2, message = "Ajout de 2 absences NON justifiées du 08/03/2021 au 08/03/2021" })
  next_answer(200, "text/html", "<html><body><p>Annulation sur 1 demi-journées</body></html>")
  t.eq(api.doAnnuleAbsence(s, "INFO", { etudid = "EID3101", datedebut = "2021-03-08" }),
    { count = 1, message = "Annulation sur 1 demi-journées" })
end)

if mode == fakes.docs then
test("error pages are read in linear time, however hostile", function()
  -- 200000 openings without their closing: "open(.-)close" patterns retried
  -- from each of them: about an hour of CPU for the first one
  for _, opening in ipairs { "Error Value:", "<title>", "<h2>Erreur !</h2>", "<b>Resource:</b>" } do
    next_answer(500, "text/html", "<html>" .. ("x " .. opening):rep(200000))
    local _, err, kind = api.formation_list(new(), "INFO", {})
    t.eq({ err, kind }, opening:find("Erreur") and { "scodoc: no message", "bad_request" }
      or { "scodoc: ScoDoc answered a page sis cannot read: formation_list: HTTP status 500", "unreadable" },
      opening)
  end
  -- a write's page of unclosed tags ("<[^>]*>" rescanned it from every "<")
  next_answer(200, "text/html", "<html><body><p>Ajout de 2 absences " .. ("<b"):rep(200000))
  t.eq(api.doSignaleAbsence(new(SECRETARY), "INFO", { etudid = "EID3101", datedebut = "2021-03-08" }).count, 2)
  -- a numeric field of a million digits and a letter is text
  local digits = ("9"):rep(1000000) .. "x"
  next_answer(200, "application/json", '[{"formation_id": "F", "version": "' .. digits .. '"}]')
  t.eq(api.formation_list(new(), "INFO", {})[1].version, digits)
end)

test("timeouts and unreachable servers: the user's terms, the evidence apart", function()
  local slow = fakes.start(fakes.docs, "--latency 1500")
  local c = client.new { base_url = slow.url, username = READER.username, password = READER.password, timeout = 0.5 }
  local _, err, kind, detail = api.list_depts(c)
  t.eq({ err, kind }, { "scodoc: ScoDoc did not answer in time", "timeout" })
  t.match(detail, "^GET " .. slow.url:gsub("%p", "%%%0") .. "/ScoDoc/list_depts: .*[Tt]imed? ?out")
  slow.stop()
  local gone = client.new { base_url = slow.url, username = "x", password = "y" }
  local _, gerr, gkind, gdetail = api.list_depts(gone)
  t.eq({ gerr, gkind }, { "scodoc: ScoDoc could not be reached", "network" })
  t.match(gdetail, "^GET " .. slow.url:gsub("%p", "%%%0") .. "/ScoDoc/list_depts: connect: ")
end)
end

test("write scenario: report, list shows it, cancel, list no longer shows it", function()
  reset()
  local r, s = new(), new(SECRETARY)
  local function absences(just, fmt)
    local v = assert(api.ListeAbsEtud(r, "INFO", { etudid = "EID3103", absjust_only = just, format = fmt }))
    t.eq(api.ListeAbsEtud(r, "INFO", { etudid = "EID3103", absjust_only = just, format = "xml" }), v)
    local out = {}
    for i, a in ipairs(v) do out[i] = a.jour .. " " .. a.ampm .. (a.motif ~= "" and " " .. a.motif or "") end
    return out
  end
  local function zoe()
    local rows = assert(api.EtatAbsencesGr(r, "INFO", { group_ids = "G3192", debut = "2021-02-01", fin = "2021-06-30" }))
    for _, row in ipairs(rows) do if row.etudid == "EID3103" then return { row.nbabs, row.nbabsjust } end end
  end
  t.eq(absences(false), {})
  t.eq(absences(true), {})
  t.eq(api.doSignaleAbsence(s, "INFO", { etudid = "EID3103", datedebut = "2021-03-08" }).count, 2)
  t.eq(api.doSignaleAbsence(s, "INFO", { etudid = "EID3103", datedebut = "2021-03-09",
                                           demijournee = "morning" }).count, 1)
  local done = api.doSignaleAbsence(s, "INFO", { etudid = "EID3103", datedebut = "2021-03-10",
    datefin = "2021-03-10", demijournee = "afternoon", estjust = true, description = "Certificat médical",
    moduleimpl_id = "MIP3204" })
  t.eq(done, { count = 1,
    message = "Ajout de 1 absences justifiées du 10/03/2021 au 10/03/2021 dans le module M2201" })
  t.eq(absences(false), { "2021-03-08 afternoon", "2021-03-08 morning", "2021-03-09 morning" })
  t.eq(absences(true), { "2021-03-10 afternoon Certificat médical" })
  t.eq(zoe(), { 4, 1 })
  t.eq(api.formsemestre_bulletinetud(r, "INFO", { formsemestre_id = "SEM3190", etudid = "EID3103",
                                                   version = "short" }).absences, { nbabs = 4, nbabsjust = 1 })
  t.eq(api.doAnnuleAbsence(s, "INFO", { etudid = "EID3103", datedebut = "2021-03-08", demijournee = "day" }),
    { count = 2, message = "Annulation sur 2 demi-journées du 08/03/2021 au 08/03/2021" })
  t.eq(api.doAnnuleJustif(s, "INFO", { etudid = "EID3103", datedebut = "2021-03-10",
                                         demijournee = "afternoon" }).count, 1)
  t.eq(absences(false), { "2021-03-09 morning", "2021-03-10 afternoon Certificat médical" })
  t.eq(absences(true), {})
  t.eq(zoe(), { 2, 0 })
  -- what went to ScoDoc: POSTs with dd/mm/yyyy dates and demijournee always
  local writes = {}
  for _, req in ipairs(received()) do
    if req.method == "POST" then
      local p = {}
      for _, kv in ipairs(req.params) do if not kv[1]:find("^__ac") then p[#p + 1] = kv[1] .. "=" .. kv[2] end end
      writes[#writes + 1] = table.concat(p, "&")
    end
  end
  t.eq(writes, {
    "etudid=EID3103&datedebut=08/03/2021&datefin=08/03/2021&demijournee=2",
    "etudid=EID3103&datedebut=09/03/2021&datefin=09/03/2021&demijournee=1",
    "etudid=EID3103&datedebut=10/03/2021&datefin=10/03/2021&demijournee=0&estjust=1"
      .. "&description=Certificat médical&moduleimpl_id=MIP3204",
    "etudid=EID3103&datedebut=08/03/2021&datefin=08/03/2021&demijournee=2",
    "etudid=EID3103&datedebut0=10/03/2021&datefin0=10/03/2021&demijournee=0",
  })
  reset()
end)

test("the password is registered as a secret with sis.log while the client is open", function()
  local log = require "sis.log"
  -- a default install's token is a secret like __ac
  t.eq(log.redact("Set-Cookie: x; __aca=Zk3tQx; __ac=YWI6Yw%3D%3D"), "Set-Cookie: ***")
  t.eq(log.redact("got __aca=Zk3tQx; Path=/"), "got __aca=***; Path=/")
  do
    local c <close> = new { password = "Tr3s-Secret!" }
    t.eq(log.redact("login with Tr3s-Secret! failed"), "login with *** failed")
  end
  t.eq(log.redact("login with Tr3s-Secret! failed"), "login with Tr3s-Secret! failed")
end)


test("what ScoDoc 7 clients call: XMLgetEtudInfos, get_etud_dept, XMLgetFormsemestres", function()
  local c = new()
  for _, args in ipairs { { etudid = "EID3105" }, { code_nip = "21900507" } } do
    t.eq(both(api.XMLgetEtudInfos, "INFO", args), both(api.etud_info, "INFO", args))
  end
  for _, args in ipairs { { etudid = "EID3102" }, { code_nip = "21900137" }, { code_ine = "0B9QX0001013" } } do
    t.eq(api.get_etud_dept(c, args), "INFO")
  end
  t.eq({ select(2, api.get_etud_dept(c, { etudid = "EID9999" })) },
       { "scodoc: unknown student (no department has it)", "not_found" })
  t.fails("give exactly one of", api.get_etud_dept(c, {}))
  -- formsemestre_list's rows, without their lists, in XML only (format is not sent)
  reset()
  local sems = both(api.XMLgetFormsemestres, "INFO", { etape_apo = "V1INF2" })
  t.eq(param(received()[1], "format"), nil)
  local full = api.formsemestre_list(c, "INFO", { formsemestre_id = "SEM3160" })[1]
  full.etapes, full.responsables = nil, nil
  t.eq(sems, { full })
  t.eq(#api.XMLgetFormsemestres(c, "INFO", {}), 3)
end)

test("what ScoDoc 7 clients call: XMLgetAbsEtud, formsemestre_description", function()
  local c = new()
  -- ScoDoc 6.5 writes justified="True"/"False", 9.0 "1"/"0": booleans either way
  local abs = api.XMLgetAbsEtud(c, "INFO", { etudid = "EID3101", beg_date = "2021-01-01", end_date = "2021-06-30" })
  t.eq(abs, { etudid = "EID3101", beg_date = "2021-01-01", end_date = "2021-06-30", abs = {
    { begin = "2021-02-08 08:00:00", ["end"] = "2021-02-08 11:59:59", description = "", justified = false },
    { begin = "2021-02-08 12:00:00", ["end"] = "2021-02-08 17:59:59", description = "RDV médical",
      justified = true } } })
  t.eq(api.XMLgetAbsEtud(c, "INFO", { code_nip = "21900100", beg_date = "2021-02-09", end_date = "2021-06-30" }).abs,
       {})
  t.fails("beg_date: '2021%-13%-01' is not a date",
    api.XMLgetAbsEtud(c, "INFO", { etudid = "EID3101", beg_date = "2021-13-01", end_date = "2021-06-30" }))
  t.eq(select(3, api.XMLgetAbsEtud(c, "INFO", { etudid = "EID9999", beg_date = "2021-01-01",
                                               end_date = "2021-06-30" })), "not_found")
  local d = both(api.formsemestre_description, "INFO", { formsemestre_id = "SEM3190" })
  local codes = {}
  for _, r in ipairs(d) do if r.Code ~= "" then codes[#codes + 1] = r.Code end end
  t.eq(codes, { "M2103", "M2102", "M2201", "M2204" })
  t.eq(d[#d]["Coef."], 7.5)
  local ev = both(api.formsemestre_description, "INFO", { formsemestre_id = "SEM3190", with_evals = true })
  t.eq(#ev, #d + 5)
  local dated = {}
  for _, r in ipairs(ev) do if r.jour ~= null then dated[#dated + 1] = r.jour .. " " .. r.description end end
  t.eq(dated[1], "2021-02-22 TP POO")
  t.eq(select(3, api.formsemestre_description(c, "INFO", { formsemestre_id = "SEM9999" })), "not_found")
end)

if mode.install then
test("a default install: a fresh __aca token per answer; logout expires it on both sides", function()
  reset()
  local c = new()
  t.ok(c:login())
  local first = c.http:cookie("__aca")
  t.ok(api.formation_list(c, "INFO", {}))
  local second = c.http:cookie("__aca")
  t.ok(first and second and first ~= second, "remember() sets a new token")
  local jar = c:export_cookies()
  c:logout()
  t.eq({ c.http:cookie("__aca"), c.http:cookie("__ac") }, { nil, nil })
  -- the server forgot the token: a client holding the old jar logs in again
  reset()
  local again = new { cookies = jar }
  t.eq(#api.formation_list(again, "INFO", {}), 1)
  local reqs = received()
  t.eq({ #reqs, reqs[1].auth, reqs[2].auth }, { 2, "cookie", "basic" })
end)
end

end
