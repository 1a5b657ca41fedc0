-- ScoDoc changes as events (pure): snapshot(answers) turns the scodoc.service
-- answers of one poll into a snapshot, diff(old, new) lists the events.
--
-- answers: { bulletin = formsemestre_bulletinetud (normalised, with
-- decisions), absences = ListeAbsEtud, justified = ListeAbsEtud with
-- absjust_only }, each present only when it was fetched and answered 200.
local D = require "watch.diff"
local json = require "sis.json"

local M = {}

M.KINDS = {
  ["scodoc.note.posted"] = "bulletin",
  ["scodoc.note.changed"] = "bulletin",
  ["scodoc.module_average.changed"] = "bulletin",
  ["scodoc.average.changed"] = "bulletin",
  ["scodoc.rank.changed"] = "bulletin",
  ["scodoc.decision.posted"] = "bulletin",
  ["scodoc.decision.changed"] = "bulletin",
  ["scodoc.absence.added"] = "absences",
  ["scodoc.absence.cancelled"] = "absences",
  ["scodoc.absence.justified"] = "absences",
}

local function list(t) return type(t) == "table" and t or {} end
local function value(v) if v == nil or v == json.null then return nil end return v end
local function nullable(v) if v == nil then return json.null end return v end
local function note_of(n) return type(n) == "table" and value(n.value) or value(n) end

local function bulletin_sections(b, snap)
  local notes, modules, averages = {}, {}, {}
  averages.semester = { value = note_of(b.note), rank = type(b.rang) == "table" and value(b.rang.value) or nil }
  for _, ue in ipairs(list(b.ue)) do
    local ue_id = value(ue.id) or value(ue.acronyme) or "?"
    averages["ue|" .. ue_id] = { value = note_of(ue.note), ue = value(ue.acronyme) }
    for _, m in ipairs(list(ue.module)) do
      local mid = value(m.id) or value(m.code) or "?"
      modules[mid] = { value = note_of(m.note), module = value(m.titre), code = value(m.code) }
      local seen = {}
      for _, e in ipairs(list(m.evaluation)) do
        -- evaluations have no id in the bulletin: module, title and day
        local key = string.format("%s|%s|%s", mid, tostring(value(e.description)), tostring(value(e.jour)))
        seen[key] = (seen[key] or 0) + 1
        if seen[key] > 1 then key = key .. "#" .. seen[key] end
        notes[key] = { note = value(e.note), module_id = mid, module = value(m.titre),
                       evaluation = value(e.description), date = value(e.jour),
                       coefficient = value(e.coefficient) }
      end
    end
  end
  local decisions = {}
  local d = type(b.decision) == "table" and b.decision or nil
  if d and value(d.code) and d.code ~= "" then decisions.semester = { code = d.code, etat = value(d.etat) } end
  for _, du in ipairs(list(b.decision_ue)) do
    local code = value(du.code)
    if code and code ~= "" then
      decisions["ue|" .. tostring(value(du.ue_id))] = { code = code, ue = value(du.acronyme) }
    end
  end
  snap.notes, snap.modules, snap.averages, snap.decisions = notes, modules, averages, decisions
end

local function absences_section(all, justified)
  local just = {}
  for _, r in ipairs(list(justified)) do just[tostring(r.jour) .. "|" .. tostring(r.ampm)] = true end
  local out = {}
  for _, r in ipairs(list(all)) do
    local key = tostring(r.jour) .. "|" .. tostring(r.ampm)
    out[key] = { date = value(r.jour), half_day = value(r.ampm), justified = just[key] or false,
                 description = value(r.description) ~= "" and value(r.description) or nil,
                 motif = value(r.motif) ~= "" and value(r.motif) or nil }
  end
  return out
end

function M.snapshot(answers)
  local snap = {}
  if answers.bulletin then bulletin_sections(answers.bulletin, snap) end
  if answers.absences and answers.justified then
    snap.absences = absences_section(answers.absences, answers.justified)
  end
  return snap
end

function M.diff(old, new)
  local events = {}
  local function emit(...) events[#events + 1] = D.event(...) end

  D.each_change(old, new, "notes", function(key, o, n)
    if not n then return end
    local id = { module_id = n.module_id, module = n.module, evaluation = n.evaluation, date = n.date }
    local had = o and o.note ~= nil
    if n.note == nil and not had then return end -- an evaluation still without a note
    emit(had and "scodoc.note.changed" or "scodoc.note.posted", key, id,
      o and { note = nullable(o.note), coefficient = o.coefficient }, { note = nullable(n.note), coefficient = n.coefficient })
  end)
  D.each_change(old, new, "modules", function(key, o, n)
    if not (o and n) or D.equal(o.value, n.value) then return end
    emit("scodoc.module_average.changed", key, { module_id = key, module = n.module, code = n.code },
      { value = nullable(o.value) }, { value = nullable(n.value) })
  end)
  D.each_change(old, new, "averages", function(key, o, n)
    if not (o and n) then return end
    local id = key == "semester" and { level = "semester" } or { level = "ue", ue_id = key:sub(4), ue = n.ue }
    if not D.equal(o.value, n.value) then
      emit("scodoc.average.changed", key, id, { value = nullable(o.value) }, { value = nullable(n.value) })
    end
    if key == "semester" and not D.equal(o.rank, n.rank) then
      emit("scodoc.rank.changed", key, id, { rank = nullable(o.rank) }, { rank = nullable(n.rank) })
    end
  end)
  D.each_change(old, new, "decisions", function(key, o, n)
    if not n then return end
    local id = key == "semester" and { level = "semester" } or { level = "ue", ue_id = key:sub(4), ue = n.ue }
    emit(o and "scodoc.decision.changed" or "scodoc.decision.posted", key, id, o, n)
  end)
  D.each_change(old, new, "absences", function(key, o, n)
    local r = n or o
    local id = { date = r.date, half_day = r.half_day }
    if not o then
      emit("scodoc.absence.added", key, id, nil, n)
    elseif not n then
      emit("scodoc.absence.cancelled", key, id, o, nil)
    elseif n.justified and not o.justified then
      emit("scodoc.absence.justified", key, id, o, n)
    end
  end)
  return events
end

return M
