-- The events of a calendar feed, from the services' answers.
--
--   cal, status, body = calendar.focus(state, year)      -- Focus: assignments and occasions of a year
--   cal, status, body = calendar.scodoc(state, target)   -- ScoDoc: a student's absences
--
-- cal = { name =, events = {...} } for feeds.ical; on failure nil and the
-- service's status and error body. UIDs are stable (the Focus event id, the
-- ScoDoc day and half-day), so a calendar app that fetches again updates
-- its copy instead of adding one.
local focus = require "focus.service"
local scodoc = require "scodoc.service"

local M = {}

local function sorted(events)
  table.sort(events, function(a, b)
    local ka, kb = a.date or a.start, b.date or b.start
    if ka ~= kb then return ka < kb end
    return a.uid < b.uid
  end)
  return events
end

-- The gradebook's assignments by "name|date" -> the courses that have one
-- so named that day, with its description (the calendar month pages name an
-- assignment and its day only).
local function gradebook(state)
  local status, body = focus.call(state, "courses")
  local out = {}
  if status ~= 200 then return out end
  for _, c in pairs(body.courses or {}) do
    for _, a in ipairs(c.assignments or {}) do
      if type(a.name) == "string" and type(a.due) == "string" then
        local key = a.name .. "|" .. a.due:sub(1, 10)
        out[key] = out[key] or {}
        out[key][#out[key] + 1] = { course = c.name, description = a.description, category = a.category }
      end
    end
  end
  return out
end

-- The gradebook entry of a calendar assignment: the only candidate, else
-- the one of the course its popup names (two courses can both have a
-- "Unit Test 8" that day).
local function assignment_of(state, candidates, id)
  if not candidates then return nil end
  if #candidates == 1 then return candidates[1] end
  local status, detail = focus.call(state, "calendar_assignment", { id = id })
  if status ~= 200 or type(detail.course) ~= "table" then return nil end
  for _, a in ipairs(candidates) do
    if a.course == detail.course.name then return a end
  end
end

function M.focus(state, year)
  local status, body = focus.call(state, "calendar", { year = year })
  if status ~= 200 then return nil, status, body end
  local known = gradebook(state)
  local events = {}
  for id, ev in pairs(body.events or {}) do
    if type(ev.date) == "string" and ev.date:match("^%d%d%d%d%-%d%d%-%d%d$") then
      local e = { uid = string.format("focus-%s-%s@sis", ev.type or "event", id), date = ev.date,
                  summary = tostring(ev.name or "") }
      if ev.type == "assignment" then
        local a = assignment_of(state, known[tostring(ev.name) .. "|" .. ev.date], id)
        if a then
          e.summary = string.format("%s: %s", a.course, e.summary)
          e.description, e.categories = a.description, a.category
        end
      else -- an occasion: its notes are on its popup
        local ostatus, detail = focus.call(state, "calendar_occasion", { id = id })
        if ostatus == 200 and type(detail.notes) == "string" then e.description = detail.notes end
      end
      events[#events + 1] = e
    end
  end
  return { name = string.format("Focus %d", year), events = sorted(events) }
end

local HALF_DAY = { morning = { "08:00:00", "12:00:00", "morning" }, afternoon = { "13:00:00", "18:00:00", "afternoon" } }

function M.scodoc(state, target)
  local status, all = scodoc.call(state, "ListeAbsEtud", { dept = target.dept, etudid = target.etudid,
                                                           absjust_only = false, format = "json" })
  if status ~= 200 then return nil, status, all end
  local jstatus, just = scodoc.call(state, "ListeAbsEtud", { dept = target.dept, etudid = target.etudid,
                                                             absjust_only = true, format = "json" })
  if jstatus ~= 200 then return nil, jstatus, just end
  local justified = {}
  for _, r in ipairs(just) do justified[tostring(r.jour) .. "|" .. tostring(r.ampm)] = true end
  local events = {}
  for _, r in ipairs(all) do
    local half = HALF_DAY[r.ampm]
    if type(r.jour) == "string" and r.jour:match("^%d%d%d%d%-%d%d%-%d%d$") and half then
      local key = r.jour .. "|" .. r.ampm
      local desc = {}
      for _, v in ipairs { r.description, r.motif } do
        if type(v) == "string" and v ~= "" then desc[#desc + 1] = v end
      end
      events[#events + 1] = {
        uid = string.format("scodoc-absence-%s-%s-%s@sis", target.etudid, r.jour, r.ampm),
        start = r.jour .. "T" .. half[1], finish = r.jour .. "T" .. half[2],
        summary = string.format("Absence (%s%s)", half[3], justified[key] and ", justified" or ""),
        description = table.concat(desc, " — "),
      }
    end
  end
  return { name = string.format("ScoDoc absences %s", target.etudid), events = sorted(events) }
end

return M
