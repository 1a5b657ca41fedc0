-- REST routes of scripts/scodoc/rest.lua, called as the server front calls
-- them (docs/architecture.md "REST routes", tests/lua/rest_client.lua): the
-- real router, a `req` per request, a session store per client, against the
-- fake ScoDoc, in each of its configurations (tests/lua/scodoc_fake.lua).
local t = require "testlib"
local json = require "sis.json"
local routes = require "scodoc.rest"
local rest_client = require "rest_client"
local fakes = require "scodoc_fake"

t.test("the route table follows the contract", function()
  local seen = {}
  for _, r in ipairs(routes) do
    t.ok(r.method == "GET" or r.method == "POST" or r.method == "DELETE", r.path)
    t.match(r.path, "^/api/scodoc/")
    t.eq(type(r.handler), "function")
    local key = r.method .. " " .. r.path
    t.ok(not seen[key], "duplicate " .. key)
    seen[key] = true
  end
  t.eq(#routes, 22)
end)

for _, mode in ipairs(fakes.modes()) do
local fake = fakes.start(mode)
local v65 = mode.version == "6.5"
local function test(name, fn) t.test(mode.tag .. " " .. name, fn) end

-- A client of the REST API (tests/lua/rest_client.lua): its own session store.
local function browser(config)
  local b = rest_client.new("scodoc.rest", config or { scodoc_url = fake.url .. "/", timeout = 5 })
  function b.login(user, password)
    return b.call("POST", "/api/scodoc/session", { username = user, password = password })
  end
  return b
end

local function reader()
  local b = browser()
  local status, body = b.login("lecteur_api", "Lecture-Info-2021")
  assert(status == 200, json.encode(body))
  return b
end

test("session: 401 on bad credentials, login, GET, DELETE", function()
  local b = browser()
  t.eq({ b.call("GET", "/api/scodoc/depts") },
       { 401, { error = "not logged in to ScoDoc (POST /api/scodoc/session)" } })
  local status, body = b.login("lecteur_api", "wrong")
  t.eq(status, 401)
  t.match(body.error, "authentication failed")
  t.eq(b.sessions.scodoc, nil)
  t.eq(select(1, b.login("nobody", "x")), 401)
  t.eq({ b.call("POST", "/api/scodoc/session", { username = "x" }) },
       { 400, { error = 'expected {"username": "...", "password": "..."}' } })
  t.eq({ b.login("lecteur_api", "Lecture-Info-2021") },
       { 200, { username = "lecteur_api", auth = "cookie", depts = fake.reader_depts } })
  -- the session keeps the jar: __ac, or a default install's __aca token
  t.ok(b.sessions.scodoc.cookies:find(mode.install and "\t__aca\t" or "\t__ac\t"))
  t.eq({ b.call("GET", "/api/scodoc/session") },
       { 200, { username = "lecteur_api", auth = "cookie", depts = fake.reader_depts } })
  t.eq({ b.call("DELETE", "/api/scodoc/session") }, { 200, {} })
  t.eq(b.sessions.scodoc, nil)
  t.eq(select(1, b.call("GET", "/api/scodoc/session")), 401)
  t.eq(select(1, b.call("DELETE", "/api/scodoc/session")), 401)
  local basic = browser()
  t.eq({ basic.call("POST", "/api/scodoc/session", { username = "lecteur_api", password = "Lecture-Info-2021",
                                                     auth = "basic" }) },
       { 200, { username = "lecteur_api", auth = "basic", depts = fake.reader_depts } })
  t.eq(#select(2, basic.call("GET", "/api/scodoc/INFO/formsemestres")), 3)
  t.eq({ basic.call("POST", "/api/scodoc/session", { username = "a", password = "b", auth = "digest" }) },
       { 400, { error = "auth must be cookie, params or basic" } })
  local unconfigured = browser {}
  t.eq({ unconfigured.login("lecteur_api", "Lecture-Info-2021") },
       { 503, { error = "no ScoDoc URL configured (sis serve --scodoc-url)" } })
end)

test("departments, formations, semestres", function()
  local b = reader()
  t.eq({ b.call("GET", "/api/scodoc/depts") }, { 200, fake.reader_depts })
  local status, forms = b.call("GET", "/api/scodoc/INFO/formations")
  t.eq({ status, #forms, forms[1].formation_id }, { 200, 1, "FORM3115" })
  local _, tree = b.call("GET", "/api/scodoc/INFO/formations/FORM3115")
  t.eq({ #tree.ue, tree.ue[1].ue_id, tree.ue[1].matiere[1].module[1].module_id }, { 5, "UE3116", "MOD3118" })
  local _, sems = b.call("GET", "/api/scodoc/INFO/formsemestres")
  t.eq(#sems, 3)
  local _, by_etape = b.call("GET", "/api/scodoc/INFO/formsemestres?etape_apo=V1INF2")
  t.eq({ #by_etape, by_etape[1].formsemestre_id }, { 1, "SEM3160" })
  t.eq(#select(2, b.call("GET", "/api/scodoc/INFO/formsemestres?formation_id=FORM3115")), 3)
  local status1, sem = b.call("GET", "/api/scodoc/INFO/formsemestres/SEM3190")
  t.eq({ status1, sem.titre_num, sem.date_debut }, { 200, "DUT Informatique semestre 2", "2021-02-01" })
  t.eq({ b.call("GET", "/api/scodoc/INFO/formsemestres/SEM9999") },
       { 404, { error = "scodoc: unknown formsemestre SEM9999" } })
  local _, parts = b.call("GET", "/api/scodoc/INFO/formsemestres/SEM3190/partitions")
  t.eq(#parts, 3)
  local _, students = b.call("GET", "/api/scodoc/INFO/formsemestres/SEM3190/students")
  t.eq({ #students, students[1].etudid }, { 13, "EID3112" })
  local mstatus, mods = b.call("GET", "/api/scodoc/INFO/formsemestres/SEM3190/moduleimpls")
  if v65 then
    t.eq(mstatus, 502) -- ScoDoc 6.5 answers a Python repr
    t.match(mods.error, "^ScoDoc answered a page sis cannot read: do_moduleimpl_withmodule_list answered a Python value")
  else
    t.eq({ #mods, mods[1].module.code }, { 4, "M2103" })
  end
  t.eq(select(1, b.call("GET", "/api/scodoc/XYZ/formsemestres")), 404)
end)

test("groups, students, bulletins, absences", function()
  local b = reader()
  local _, members = b.call("GET", "/api/scodoc/INFO/groups/G3192/students")
  t.eq(#members, 7)
  local status, rows = b.call("GET", "/api/scodoc/INFO/groups/absences?group_ids=G3192,G3193&from=2021-02-01&to=2021-06-30")
  t.eq({ status, #rows }, { 200, 13 })
  t.eq(select(2, b.call("GET", "/api/scodoc/INFO/groups/absences?group_ids=G3192&group_ids=G3193&from=2021-02-01&to=2021-06-30")), rows)
  local _, nob = b.call("GET", "/api/scodoc/INFO/groups/absences?group_ids=G3198&from=2021-02-01&to=2021-06-30&with_boursier=0")
  t.eq({ #nob, nob[1].boursier }, { 13, json.null })
  t.eq(rows[1].boursier, v65 and json.null or "N") -- 6.5 has no boursier column
  t.eq(select(1, b.call("GET", "/api/scodoc/INFO/groups/absences?group_ids=G3192&from=01/02/2021&to=2021-06-30")), 400)
  t.eq(select(1, b.call("GET", "/api/scodoc/INFO/groups/absences?from=2021-02-01&to=2021-06-30")), 400)
  local _, etud = b.call("GET", "/api/scodoc/INFO/students/EID3101")
  t.eq({ etud.nom, etud.code_nip }, { "MARCHAL-VÉRIN", "21900100" })
  t.eq(select(2, b.call("GET", "/api/scodoc/INFO/students?code_nip=21900507")).etudid, "EID3112")
  t.eq(select(2, b.call("GET", "/api/scodoc/INFO/students?code_ine=0B9QX0001143")).etudid, "EID3112")
  t.eq({ b.call("GET", "/api/scodoc/INFO/students/EID9999") }, { 404, { error = "scodoc: code etudiant inconnu" } })
  t.eq(select(1, b.call("GET", "/api/scodoc/INFO/students?code_nip=1&code_ine=2")), 400)
  local _, bul = b.call("GET", "/api/scodoc/INFO/students/EID3101/bulletins/SEM3190?version=short")
  t.eq({ bul.note.value, #bul.ue[1].module[1].evaluation }, { 10.25, 0 })
  local _, long = b.call("GET", "/api/scodoc/INFO/students/EID3101/bulletins/SEM3190")
  t.eq(#long.ue[1].module[1].evaluation, 2)
  t.eq(select(1, b.call("GET", "/api/scodoc/INFO/students/EID3101/bulletins/SEM3190?version=full")), 400)
  t.eq({ b.call("GET", "/api/scodoc/INFO/students/EID3101/bulletins/SEM9999") },
       { 404, { error = "scodoc: semestre SEM9999 inconnu !" } })
  local _, abs = b.call("GET", "/api/scodoc/INFO/students/EID3101/absences")
  t.eq(abs[1].ampm, "morning")
  local _, just = b.call("GET", "/api/scodoc/INFO/students/EID3101/absences?justified=1")
  t.eq(just[1].motif, "RDV médical")
  t.eq(select(1, b.call("GET", "/api/scodoc/INFO/students/EID3101/absences?justified=maybe")), 400)
end)

test("?via=xml gives the same answer on every GET route", function()
  local b = reader()
  local targets = {
    "/api/scodoc/depts", "/api/scodoc/INFO/formations", "/api/scodoc/INFO/formations/FORM3115",
    "/api/scodoc/INFO/formsemestres", "/api/scodoc/INFO/formsemestres/SEM3160",
    "/api/scodoc/INFO/formsemestres/SEM3190/partitions", "/api/scodoc/INFO/formsemestres/SEM3140/students",
    v65 and "/api/scodoc/INFO/formsemestres/SEM3190/description"
      or "/api/scodoc/INFO/formsemestres/SEM3190/moduleimpls", "/api/scodoc/INFO/groups/G3162/students",
    "/api/scodoc/INFO/groups/absences?group_ids=G3162&from=2020-09-01&to=2021-01-22",
    "/api/scodoc/INFO/students/EID3102", "/api/scodoc/INFO/students?code_nip=21900507",
    "/api/scodoc/INFO/students/EID3106/bulletins/SEM3140?version=long",
    "/api/scodoc/INFO/students/EID3102/bulletins/SEM3160?version=selectedevals",
    "/api/scodoc/INFO/students/EID3102/absences?justified=1",
  }
  for _, target in ipairs(targets) do
    local s1, a = b.call("GET", target)
    local s2, x = b.call("GET", target .. (target:find("?", 1, true) and "&" or "?") .. "via=xml")
    t.eq({ s1, s2 }, { 200, 200 }, target)
    t.eq(x, fakes.as_from_xml(target:find("bulletins") and "formsemestre_bulletinetud" or "", a), target)
  end
  t.eq({ b.call("GET", "/api/scodoc/depts?via=yaml") }, { 400, { error = "via must be json or xml" } })
end)

test("ScoDoc refusals map to 403, timeouts to 504, unreadable answers to 502", function()
  local rt = browser()
  t.eq(select(1, rt.login("ens_rt", "ReseauxEtTelecoms")), 200)
  local status, body = rt.call("GET", "/api/scodoc/INFO/formsemestres")
  t.eq(status, 403)
  t.match(body.error, "permission denied")
  local r = reader()
  t.eq(select(1, r.call("POST", "/api/scodoc/INFO/students/EID3101/absences", { from = "2021-03-09" })), 403)
  -- 5xx bodies in the user's terms: no upstream URL, no page
  fake.next_answer(200, "text/html", "<html><head><title>Traceback (most recent call last)</title></head></html>")
  t.eq({ r.call("GET", "/api/scodoc/INFO/formations") },
       { 502, { error = "ScoDoc answered a page sis cannot read: formation_list: an HTML page where JSON was expected" } })
  if mode == fakes.docs then
    local slow = fakes.start(fakes.docs, "--latency 1500")
    local b = browser { scodoc_url = slow.url, timeout = 0.5 }
    t.eq({ b.login("lecteur_api", "Lecture-Info-2021") }, { 504, { error = "ScoDoc did not answer in time" } })
    slow.stop()
    t.eq({ b.login("lecteur_api", "Lecture-Info-2021") }, { 502, { error = "ScoDoc could not be reached" } })
  end
end)

test("absence writes: POST 201, list, DELETE absences and justifications", function()
  fake.reset()
  local s = browser()
  t.eq(select(1, s.login("secr_info", "Secr3tariat!")), 200)
  local base = "/api/scodoc/INFO/students/EID3103"
  t.eq(select(2, s.call("GET", base .. "/absences")), {})
  t.eq({ s.call("POST", base .. "/absences", { from = "2021-03-08", to = "2021-03-08", half_day = "day" }) },
       { 201, { count = 2, message = "Ajout de 2 absences NON justifiées du 08/03/2021 au 08/03/2021" } })
  t.eq(select(1, s.call("POST", base .. "/absences", { from = "2021-03-09", half_day = "morning" })), 201)
  t.eq(select(1, s.call("POST", base .. "/absences", { from = "2021-03-10", half_day = "afternoon",
    justified = true, description = "Certificat médical", moduleimpl_id = "MIP3204" })), 201)
  local _, unjust = s.call("GET", base .. "/absences?justified=0")
  t.eq(#unjust, 3)
  local _, just = s.call("GET", base .. "/absences?justified=1&via=xml")
  t.eq({ #just, just[1].jour, just[1].ampm, just[1].motif }, { 1, "2021-03-10", "afternoon", "Certificat médical" })
  t.eq({ s.call("DELETE", base .. "/absences?from=2021-03-08&to=2021-03-08&half_day=day") },
       { 200, { count = 2, message = "Annulation sur 2 demi-journées du 08/03/2021 au 08/03/2021" } })
  t.eq(select(1, s.call("DELETE", base .. "/justifications?from=2021-03-10&half_day=afternoon")), 200)
  _, unjust = s.call("GET", base .. "/absences")
  t.eq({ unjust[1].jour, unjust[2].jour, unjust[2].motif }, { "2021-03-09", "2021-03-10", "Certificat médical" })
  t.eq(select(2, s.call("GET", base .. "/absences?justified=1")), {})
  -- bad requests never reach ScoDoc
  for _, bad in ipairs {
    { from = "08/03/2021" }, { from = "2021-03-08", half_day = "evening" },
    { from = "2021-03-08", justified = "yes" }, { from = "2021-03-08", description = "a (b) c" },
    { from = "2021-03-08", to = "2021-03-01" },
  } do
    t.eq(select(1, s.call("POST", base .. "/absences", bad)), 400, json.encode(bad))
  end
  t.eq(select(1, s.call("DELETE", base .. "/absences?from=2021-03-08&half_day=night")), 400)
  t.eq(select(1, s.call("DELETE", base .. "/justifications")), 400)
  fake.reset()
end)


test("new routes: a student's department, a semestre's description", function()
  local b = reader()
  t.eq({ b.call("GET", "/api/scodoc/students/EID3102/dept") }, { 200, { etudid = "EID3102", dept = "INFO" } })
  t.eq({ b.call("GET", "/api/scodoc/students/EID9999/dept") },
       { 404, { error = "scodoc: unknown student (no department has it)" } })
  local status, rows = b.call("GET", "/api/scodoc/INFO/formsemestres/SEM3190/description")
  t.eq(status, 200)
  local m2103
  for _, r in ipairs(rows) do if r.Code == "M2103" then m2103 = r end end
  t.eq({ m2103.UE, m2103.Module, m2103["Coef."], m2103.Inscrits, m2103.Responsable },
       { "UE21", "POO", 2.5, 13, "rgarnier" })
  t.eq(rows[#rows]["Coef."], 7.5) -- the sums
  local _, evals = b.call("GET", "/api/scodoc/INFO/formsemestres/SEM3190/description?with_evals=1&via=xml")
  t.eq(#evals, #rows + 5) -- one row per evaluation
  t.eq(select(2, b.call("GET", "/api/scodoc/INFO/formsemestres/SEM3190/description?with_evals=1")), evals)
  t.eq(select(1, b.call("GET", "/api/scodoc/INFO/formsemestres/SEM3190/description?with_evals=yes")), 400)
end)

if mode == fakes.docs then
test("path arguments that would change ScoDoc's URL are refused before any request", function()
  local b = reader()
  fake.reset()
  local refused = {
    "/api/scodoc/%2e%2e/formations", "/api/scodoc/%2E/formations", "/api/scodoc/a%2Fb/formations",
    "/api/scodoc/INFO%00/formations", "/api/scodoc/IN%20FO/formsemestres",
    "/api/scodoc/INFO/formations/%2e%2e", "/api/scodoc/INFO/formsemestres/..%2Fx/students",
    "/api/scodoc/INFO/students/a%2Fb/absences", "/api/scodoc/INFO/groups/%2e%2e/students",
    "/api/scodoc/students/%2e%2e/dept", "/api/scodoc/INFO/students/EID3101/bulletins/%2e",
  }
  for _, target in ipairs(refused) do
    local status, body = b.call("GET", target)
    t.eq(status, 400, target)
    t.match(body.error, "must be ", target)
  end
  t.eq(select(1, b.call("POST", "/api/scodoc/%2e%2e/students/EID3101/absences", { from = "2021-03-08" })), 400)
  t.eq(#fake.received(), 0) -- none reached ScoDoc
end)
end

end
