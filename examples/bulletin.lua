-- Prints a student's ScoDoc bulletin as a table: UE, module, coefficient,
-- note, class min/avg/max and rank.
--
--   SIS_SCODOC_URL=https://scodoc.example.org/ SIS_SCODOC_USER=jdoe SIS_SCODOC_PASSWORD=... \
--     sis run examples/bulletin.lua DEPT ETUDID SEMESTRE
--
-- (the UE's class average, ue[].note.moy, is only in ScoDoc's JSON: this
-- fetches JSON, the default; fetched as XML it would be "-", docs/scodoc.md)
local client = require "scodoc.client"
local api = require "scodoc.api"
local json = require "sis.json"

local dept, etudid, semestre = ...
if not semestre then
  io.stderr:write("usage: sis run examples/bulletin.lua DEPT ETUDID SEMESTRE\n",
                  "(base URL and credentials from SIS_SCODOC_URL, SIS_SCODOC_USER, SIS_SCODOC_PASSWORD)\n")
  os.exit(2)
end
local url, user, password = os.getenv("SIS_SCODOC_URL"), os.getenv("SIS_SCODOC_USER"),
                            os.getenv("SIS_SCODOC_PASSWORD")
if not (url and user and password) then
  io.stderr:write("bulletin: set SIS_SCODOC_URL, SIS_SCODOC_USER and SIS_SCODOC_PASSWORD\n")
  os.exit(2)
end

local b, err
do
  local c <close> = client.new { base_url = url, username = user, password = password }
  b, err = api.formsemestre_bulletinetud(c, dept, { formsemestre_id = semestre, etudid = etudid })
end
if not b then
  io.stderr:write("bulletin: ", (err:gsub("^scodoc: ", "")), "\n")
  os.exit(1)
end

-- Cells: numbers with 2 decimals, null as "-", text as is.
local function cell(v)
  if v == nil or v == json.null then return "-" end
  if math.type(v) == "float" then return string.format("%.2f", v) end
  return tostring(v)
end

-- Pads to a width in characters (UTF-8), left or right aligned.
local function pad(s, width, right)
  local fill = string.rep(" ", math.max(0, width - utf8.len(s)))
  return right and fill .. s or s .. fill
end

local function clip(s, width)
  if utf8.len(s) <= width then return s end
  return s:sub(1, utf8.offset(s, width) - 1) .. "…"
end

local COLUMNS = { { "UE / module", 40 }, { "coef", 5 }, { "note", 6 }, { "min", 6 }, { "moy", 6 },
                  { "max", 6 }, { "rang", 6 } }
local function row(cells)
  local out = {}
  for i, col in ipairs(COLUMNS) do
    out[i] = pad(i == 1 and clip(cells[i], col[2]) or cells[i], col[2], i > 1)
  end
  print((table.concat(out, " "):gsub("%s+$", "")))
end

local e = b.etudiant
print(string.format("%s %s %s (%s), semestre %s", cell(e.civilite), cell(e.prenom), cell(e.nom),
                    b.etudid, b.formsemestre_id))
local rank = b.rang.value == json.null and "-" or b.rang.value
print(string.format("moyenne générale %s (min %s, moy %s, max %s), rang %s/%s", cell(b.note.value),
                    cell(b.note.min), cell(b.note.moy), cell(b.note.max), rank, cell(b.rang.ninscrits)))
print()
local head = {}
for i, col in ipairs(COLUMNS) do head[i] = col[1] end
row(head)
for _, ue in ipairs(b.ue) do
  row { ue.acronyme .. " " .. ue.titre, "", cell(ue.note.value), cell(ue.note.min), cell(ue.note.moy),
        cell(ue.note.max), cell(ue.rang) }
  for _, m in ipairs(ue.module) do
    row { "  " .. m.code .. " " .. m.titre, cell(m.coefficient), cell(m.note.value), cell(m.note.min),
          cell(m.note.moy), cell(m.note.max), cell(m.rang.value) }
  end
end
if b.absences ~= json.null then
  print()
  print(string.format("absences: %s demi-journées dont %s justifiées", cell(b.absences.nbabs),
                      cell(b.absences.nbabsjust)))
end
if b.situation ~= json.null then print(b.situation) end
