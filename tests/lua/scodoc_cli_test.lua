-- sis scodoc (scripts/cli/scodoc.lua) and examples/bulletin.lua, run as
-- commands against the fake ScoDoc.
local t = require "testlib"
local json = require "sis.json"
local fakes = require "scodoc_fake"

for _, mode in ipairs(fakes.modes()) do
local fake = fakes.start(mode)
local function test(name, fn) t.test(mode.tag .. " " .. name, fn) end
local ENV = string.format("SIS_SCODOC_URL=%s SIS_SCODOC_USER=lecteur_api SIS_SCODOC_PASSWORD=Lecture-Info-2021 ",
                          fake.url)

local function scodoc(args, env)
  return t.exec((env or ENV) .. t.sis .. " scodoc " .. args)
end

test("sis scodoc prints the normalised JSON, the same via JSON or XML", function()
  local code, out, err = scodoc("etud_info dept=INFO etudid=EID3102")
  t.eq({ code, err }, { 0, "" })
  local v = assert(json.decode(out))
  t.eq({ v.nom, v.code_nip, v.annee_bac, v.insemestre[1].current }, { "D'AUBIGNY", "21900137", 2020, 1 })
  local code2, out2 = scodoc("--via xml etud_info dept=INFO etudid=EID3102")
  t.eq({ code2, out2 }, { 0, out })
  t.match(out, '^{\n  "annee_bac": 2020,\n')
end)

test("sis scodoc: lists from repeated names, dates in ISO, other auth modes", function()
  local code, out = scodoc("EtatAbsencesGr dept=INFO group_ids=G3192 group_ids=G3193 debut=2021-02-01 fin=2021-06-30")
  t.eq(code, 0)
  t.eq(#json.decode(out), 13)
  local _, same = scodoc("--auth basic EtatAbsencesGr dept=INFO group_ids=G3192,G3193 debut=2021-02-01 fin=2021-06-30")
  t.eq(same, out)
  local _, depts = scodoc("--auth params list_depts")
  t.eq(json.decode(depts), fake.reader_depts)
  local _, bul = scodoc("formsemestre_bulletinetud dept=INFO formsemestre_id=SEM3190 etudid=EID3101 version=short")
  t.eq(json.decode(bul).note.value, 10.25)
end)

test("sis scodoc: the functions ScoDoc 7 clients call", function()
  t.eq({ scodoc("get_etud_dept code_nip=21900137") }, { 0, '"INFO"\n', "" })
  local code, out = scodoc("formsemestre_description dept=INFO formsemestre_id=SEM3190 with_evals=1")
  t.eq(code, 0)
  local rows = json.decode(out)
  t.eq(rows[#rows]["Coef."], 7.5)
  local _, via_xml = scodoc("--via xml formsemestre_description dept=INFO formsemestre_id=SEM3190 with_evals=1")
  t.eq(via_xml, out)
  local _, abs = scodoc("XMLgetAbsEtud dept=INFO etudid=EID3101 beg_date=2021-01-01 end_date=2021-06-30")
  t.eq(#json.decode(abs).abs, 2)
  local _, sems = scodoc("XMLgetFormsemestres dept=INFO etape_apo=V1INF2")
  t.eq(json.decode(sems)[1].formsemestre_id, "SEM3160")
  local _, e = scodoc("XMLgetEtudInfos dept=INFO etudid=EID3102")
  t.eq(json.decode(e).nom, "D'AUBIGNY")
end)

test("a recorded ScoDoc run keeps the password off the disk in every auth mode", function()
  local codec = require "sis.codec"
  local ac = codec.base64_encode("lecteur_api:Lecture-Info-2021") -- ScoDoc's __ac cookie
  for _, auth in ipairs { "cookie", "params", "basic" } do
    local dir = t.tmpdir()
    local code, out = t.exec(ENV .. t.sis .. " --record " .. dir .. "/c scodoc --auth " .. auth ..
      " formsemestre_list dept=INFO")
    t.eq(code, 0, auth)
    t.ok(#json.decode(out) > 0, auth)
    local p = io.popen("cat " .. dir .. "/c/*")
    local text = p:read("a")
    p:close()
    os.execute("rm -rf " .. dir)
    t.ok(text:find("formsemestre", 1, true), "the cassette holds the answers")
    for _, secret in ipairs { "Lecture-Info-2021", "Lecture%2DInfo", ac, (ac:gsub("=", "%%3D")) } do
      t.ok(not text:find(secret, 1, true), auth .. ": " .. secret .. " is on disk")
    end
  end
end)

test("sis scodoc errors: ScoDoc's, arguments, password on the command line", function()
  -- one line each, no doubled "scodoc: " prefix
  t.eq({ scodoc("etud_info dept=INFO etudid=EID9999") }, { 1, "", "sis scodoc: code etudiant inconnu\n" })
  t.eq({ scodoc("formsemestre_list dept=INFO", ENV:gsub("Lecture%-Info%-2021", "wrong")) },
       { 1, "", "sis scodoc: authentication failed (ScoDoc answered its login page)\n" })
  -- a refused login is an error, never an empty answer
  for _, fn in ipairs { "list_depts", "formsemestre_list dept=INFO" } do
    t.eq({ scodoc(fn, ENV:gsub("lecteur_api", "nobody")) }, { 1, "", "sis scodoc: login refused for nobody\n" }, fn)
    t.eq({ scodoc(fn, "SIS_SCODOC_URL=" .. fake.url .. " SIS_SCODOC_PASSWORD=x ") },
         { 1, "", "sis scodoc: no user name: give --user or SIS_SCODOC_USER\n" }, fn)
  end
  -- a misspelt argument is a usage error, not a filter silently dropped
  t.eq({ scodoc("formsemestre_list dept=INFO formation=FORM3115") }, { 2, "",
    "sis scodoc: formsemestre_list takes no argument 'formation' (it takes dept, etape_apo, formation_id, "
    .. "formsemestre_id) (sis scodoc --help)\n" })
  t.eq(select(1, scodoc("list_depts dept=INFO")), 2)
  t.eq(select(1, scodoc("etud_info dept=INFO etudid=EID3101 format=xml")), 2) -- that is --via
  t.eq({ scodoc("formation_list dept=../x") }, { 2, "",
    "sis scodoc: dept must be a department acronym (letters, digits, _ and -)\n" })
  t.eq({ scodoc("--password x list_depts") },
       { 2, "", "sis scodoc: the password comes from SIS_SCODOC_PASSWORD, never the command line\n" })
  t.eq({ scodoc("list_depts </dev/null", "SIS_SCODOC_URL=" .. fake.url .. " SIS_SCODOC_USER=lecteur_api ") },
       { 2, "", "sis scodoc: no ScoDoc password (set SIS_SCODOC_PASSWORD or give it on stdin)\n" })
  t.eq({ scodoc("etud_info etudid=EID3101") }, { 2, "", "sis scodoc: etud_info needs dept=DEPT\n" })
  t.eq({ scodoc("no_such") }, { 2, "", "sis scodoc: unknown function no_such (sis scodoc --help)\n" })
  t.eq({ scodoc("etud_info dept=INFO EID3101") }, { 2, "", "sis scodoc: expected name=value, got 'EID3101'\n" })
  t.eq(select(3, scodoc("doSignaleAbsence dept=INFO etudid=EID3103 datedebut=2021-03-08 description='a)'")),
       "sis scodoc: doSignaleAbsence: description must not contain ')' (ScoDoc 7 cuts the motif there)\n")
  local code, out = scodoc("--help")
  t.eq(code, 0)
  t.match(out, "^usage: sis scodoc")
end)

if mode == fakes.docs then
test("sis scodoc: a timeout is one line, in the user's terms, with its evidence", function()
  local slow = fakes.start(fakes.docs, "--latency 1500")
  local code, out, err = scodoc("--timeout 0.5 list_depts", ENV:gsub("SIS_SCODOC_URL=%S+", "SIS_SCODOC_URL=" .. slow.url))
  slow.stop()
  t.eq({ code, out }, { 1, "" })
  t.match(err, "^sis scodoc: ScoDoc did not answer in time %(GET http://127%.0%.0%.1:%d+/ScoDoc/list_depts: [^\n]*%)\n$")
end)
end

test("examples/bulletin.lua prints the bulletin as a table", function()
  local code, out, err = t.exec(ENV .. t.sis .. " run " .. t.root .. "/examples/bulletin.lua INFO EID3101 SEM3190")
  t.eq({ code, err }, { 0, "" })
  t.eq(out, table.concat({
    "Mme Élodie MARCHAL-VÉRIN (EID3101), semestre SEM3190",
    "moyenne générale 10.25 (min 8.34, moy 12.25, max 16.67), rang -/12",
    "",
    "UE / module                               coef   note    min    moy    max   rang",
    "UE21 Informatique approfondie                   10.25   9.42  12.26  16.67     10",
    "  M2103 Programmation objet               2.50  10.25   9.42  12.26  16.67     10",
    "  M2102 Réseaux <niveau 1>                1.50      -      -      -      -   1 ex",
    "UE22 Mathématiques & gestion                    10.25   7.00  11.84  16.25   8 ex",
    "  M2201 Graphes et langages               2.00  10.25   7.00  11.84  16.25   8 ex",
    "  M2204 Économie \"numérique\"              1.50      -      -      -      -   1 ex",
    "",
    "absences: 2 demi-journées dont 1 justifiées",
    "" }, "\n"))
  local code2, _, err2 = t.exec(ENV .. t.sis .. " run " .. t.root .. "/examples/bulletin.lua INFO EID3101 SEM9999")
  t.eq({ code2, err2 }, { 1, "bulletin: semestre SEM9999 inconnu !\n" })
end)
end
