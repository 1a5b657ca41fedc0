-- The normalised shape of every ScoDoc function's answer: field names and
-- nesting are ScoDoc's (as in its JSON), each field has an explicit type.
-- normalise.lua applies these tables to a decoded JSON answer, xml_map.lua
-- uses them to read the XML answer into the same shape. The exact rules are
-- in docs/scodoc.md; the short version:
--   str   text ("" stays ""); HTML entities decoded for `escaped` functions
--   opt   text, "" -> null (ranks, group names, optional ids)
--   num   number from its lexeme ("3" -> 3, "07.29" -> 7.29); "", "-", "NA"
--         -> null; other text (the notes "ABS", "EXC", "ATT", "NP") kept
--   date  dd/mm/yyyy -> yyyy-mm-dd ("" -> null)
--   ampm  "1" -> "morning", "0" -> "afternoon"
--   bool  "1", "True", "true" -> true; "0", "False", "false", "" -> false
-- Every field of a schema is present in the output (null, or [] for arrays,
-- when ScoDoc left it out); fields outside the schema are dropped. A field
-- only one of the two formats carries is left out of the schema, except the
-- bulletin's JSON-only fields listed in `json_only` (null from the XML).
-- `derive(raw)`: fills in what an older ScoDoc leaves out, from what it
-- writes, before typing (both formats).
-- `gentable`: the rows of a GenTable (groups_view, ListeAbsEtud,
-- EtatAbsencesGr), whose XML cannot tell a None cell from "": a JSON null
-- cell is read as "" (so typed: str "", opt/num/date null).
local date = require "sis.date"

local S = {}

local function obj(fields, opts)
  local o = { kind = "object", fields = fields }
  for k, v in pairs(opts or {}) do o[k] = v end
  return o
end
local function arr(item) return { kind = "array", item = item } end

local function strs(names, t, into)
  into = into or {}
  for name in names:gmatch("%S+") do into[name] = t end
  return into
end
-- fields("str: a b c", "num: d e") -> {a="str", b="str", c="str", d="num", e="num"}
local function fields(...)
  local out = {}
  for _, spec in ipairs({ ... }) do
    local t, names = spec:match("^(%w+):%s*(.*)$")
    strs(names, t, out)
  end
  return out
end
local function with(base, extra)
  local out = {}
  for k, v in pairs(base) do out[k] = v end
  for k, v in pairs(extra) do out[k] = v end
  return out
end

S.list_depts = arr("str")

local formation = fields("str: formation_id acronyme titre titre_officiel formation_code code_specialite",
                         "num: version type_parcours")
S.formation_list = arr(obj(formation))

-- Module, UE and matière rows as formation_export and do_moduleimpl_withmodule_list
-- give them (the *_id fields only with export_ids=1).
local module_row = fields(
  "str: module_id formation_id ue_id matiere_id code code_apogee titre abbrev",
  "num: coefficient ects heures_cours heures_td heures_tp module_type numero semestre_id")
local ue_row = fields("str: ue_id formation_id acronyme titre ue_code code_apogee",
                      "num: numero type is_external coefficient ects")
local matiere_row = fields("str: matiere_id ue_id titre", "num: numero")

S.formation_export = obj(with(formation, {
  ue = arr(obj(with(ue_row, {
    matiere = arr(obj(with(matiere_row, {
      module = arr(obj(module_row)),
    }))),
  }))),
}))

local formsemestre = fields(
  "str: formsemestre_id formation_id titre titre_num titreannee titremois sem_id_txt session_id",
  "str: annee anneescolaire mois_debut mois_fin dateord date_debut_iso date_fin_iso",
  "str: modalite bul_bgcolor elt_sem_apo elt_annee_apo etapes_apo_str",
  "date: date_debut date_fin",
  "num: semestre_id etat gestion_compensation gestion_semestrielle bul_hide_xml resp_can_edit",
  "num: resp_can_change_ens ens_can_edit_eval annee_debut annee_fin mois_debut_ord mois_fin_ord periode")
S.formsemestre_list = arr(obj(with(formsemestre, { etapes = arr("str"), responsables = arr("str") })))
-- the same rows as attributes of <formsemestrelist><formsemestre .../>: no lists
S.XMLgetFormsemestres = arr(obj(formsemestre))

-- formsemestre_description: a GenTable of UE rows (UE, ects, Module = the
-- UE's title), module rows, evaluation rows (with_evals) and a last row of
-- sums (Coef., ects); ScoDoc 6.5 has no UE rows and no ects/Enseignants.
S.formsemestre_description = arr(obj(fields(
  "str: UE Code Module Responsable Enseignants description evalcomplete_str publish_incomplete_str",
  "num: Coef. ects Inscrits coefficient", "date: jour"), { gentable = true }))

local partition = fields("str: partition_id formsemestre_id partition_name",
                         "num: numero compute_ranks show_in_lists bul_show_rank")
S.formsemestre_partition_list = arr(obj(with(partition, {
  group = arr(obj(with(partition, fields("str: group_id group_name")))),
})))

-- One column per partition, named after its partition_id ("P3191"): every
-- key outside the fixed columns is one, its value a group name or null.
S.groups_view = arr(obj(fields(
  "str: civilite_str nom_disp prenom etat email emailperso etape etudid code_nip code_ine"),
  { others = "opt", gentable = true }))

S.etud_info = obj(with(fields(
  "str: etudid code_nip code_ine nom nom_usuel prenom nomprenom civilite sexe email emailperso",
  "str: domicile codepostaldomicile villedomicile paysdomicile telephone telephonemobile fax",
  "str: bac specialite nomlycee villelycee codepostallycee codelycee date_naissance_iso photo_url",
  "str: error", "num: annee_bac"),
  { insemestre = arr(obj(fields("str: formsemestre_id etat groupes date_debut date_fin",
                                "num: current"))) }))

S.get_etud_dept = "str"

local note4 = obj(fields("num: value min max moy"))

-- The bulletin's Apogée steps: etapes, and etape_apo, etape_apo2...
-- derived from each other. ScoDoc 6.5 writes etape_apo2..etape_apo4
-- always, "" when unused (those are absent), and its JSON has no etapes;
-- the XML never has etapes.
local function bulletin_etapes(b)
  local numbered = {}
  for k, v in pairs(b) do
    local n = k:match("^etape_apo(%d+)$")
    if n then
      if v == "" then b[k] = nil else numbered[#numbered + 1] = tonumber(n) end
    end
  end
  if b.etapes == nil then
    table.sort(numbered)
    local etapes = {}
    if type(b.etape_apo) == "string" and b.etape_apo ~= "" then etapes[1] = b.etape_apo end
    for _, n in ipairs(numbered) do etapes[#etapes + 1] = b["etape_apo" .. n] end
    b.etapes = etapes
  end
end

S.formsemestre_bulletinetud = obj(with(fields(
  "str: etudid formsemestre_id date situation", "opt: etape_apo", "num: publie"), {
  etapes = arr("str"),
  etudiant = obj(fields(
    "str: etudid code_nip code_ine nom prenom civilite sexe email emailperso photo_url")),
  note = note4,
  rang = obj(fields("opt: value", "num: ninscrits")),
  rang_group = arr(obj(fields("str: group_type group_name", "opt: value", "num: ninscrits"))),
  note_max = obj(fields("num: value")),
  bonus_sport_culture = obj(fields("num: value")),
  ue = arr(obj(with(fields("str: id acronyme titre code_apogee", "opt: rang",
                           "num: numero effectif ects"), {
    note = note4,
    module = arr(obj(with(fields("str: id code code_apogee titre abbrev",
                                 "num: coefficient numero"), {
      note = obj(fields("num: value min max moy nb_notes nb_missing nb_valid_evals")),
      rang = obj(fields("opt: value")),
      effectif = obj(fields("num: value")),
      evaluation = arr(obj(fields("str: jour heure_debut heure_fin description evaluation_id",
                                  "num: coefficient evaluation_type note incomplete"))),
    }))),
  }))),
  ue_capitalisee = arr(obj(fields("str: id acronyme titre date_capitalisation",
                                  "num: numero note coefficient_ue ects"))),
  absences = obj(fields("num: nbabs nbabsjust")),
  decision = obj(fields("str: code etat", "opt: compense_formsemestre_id")),
  decision_ue = arr(obj(fields("str: ue_id acronyme titre code", "num: numero ects"))),
  autorisation_inscription = arr(obj(fields("num: semestre_id"))),
  -- XML: <appreciation date="...">comment</appreciation>
  appreciation = arr(obj(fields("str: comment date"), { xml_text = "comment" })),
}), {
  -- etape_apo2, etape_apo3, ...: the other Apogée steps
  patterns = { { "^etape_apo%d+$", "str" } },
  derive = bulletin_etapes,
})

-- ListeAbsEtud rows: ScoDoc 6.5 has no jour and ampm (derived from datedmy
-- and matin) and writes the afternoon "après midi" (7: "après-midi").
local AFTERNOON = { ["après midi"] = true, ["après-midi"] = true }
local function absence_day(row)
  if AFTERNOON[row.matin] then row.matin = "après-midi" end
  if row.jour == nil and type(row.datedmy) == "string" then
    local iso = date.parse(row.datedmy, "dmy")
    row.jour = iso and iso:match("^%d%d%d%d%-%d%d%-%d%d$") and iso or nil
  end
  if row.ampm == nil then
    row.ampm = row.matin == "matin" and "1" or AFTERNOON[row.matin] and "0" or nil
  end
end

local absence_row = obj(fields("date: datedmy", "str: jour matin exams description motif",
                               "ampm: ampm"), { gentable = true, derive = absence_day })
S.ListeAbsEtud = arr(absence_row)

-- <absences etudid beg_date end_date><abs begin end description justified/>
S.XMLgetAbsEtud = obj(with(fields("str: etudid beg_date end_date"), {
  abs = arr(obj(fields("str: begin end description", "bool: justified"))),
}))

S.EtatAbsencesGr = arr(obj(fields("str: etudid nomprenom boursier",
                                  "num: nbabs nbabsjust nbabsnonjust nbjustifs_noabs"),
                           { gentable = true }))

local moduleimpl = fields("str: moduleimpl_id module_id formsemestre_id responsable_id computation_expr")
local ens = arr(obj(fields("str: modules_enseignants_id moduleimpl_id ens_id")))
S.do_moduleimpl_list = arr(obj(with(moduleimpl, { ens = ens })))
S.do_moduleimpl_withmodule_list = arr(obj(with(moduleimpl, {
  ens = ens, module = obj(module_row), ue = obj(ue_row), matiere = obj(matiere_row),
})))

-- What only one of the two formats carries (tests/lua/scodoc_normalise_test.lua
-- checks these lists against the recorded answers). `json_only`: kept, null
-- when fetched as XML; `format_only`: left out of the schemas above. The
-- GenTable XML (groups_view, ListeAbsEtud, EtatAbsencesGr) also has the
-- table's caption, id and origin attributes.
S.json_only = {
  formsemestre_bulletinetud = { "decision_ue[].ects", "ue[].note.moy", "ue[].module[].note.nb_notes",
    "ue[].module[].note.nb_missing", "ue[].module[].note.nb_valid_evals",
    "ue[].module[].evaluation[].evaluation_id" },
}
S.format_only = {
  formsemestre_bulletinetud = { xml = { "ue[].module[].evaluation[].note_max_origin" } },
}

S.XMLgetEtudInfos = S.etud_info

return S
