-- One poll of one subscription: log in with the stored credentials (the
-- service re-logs in by itself when the school forgot the session), fetch
-- what the subscription's kinds need, snapshot, diff against the last
-- snapshot, store the snapshot and the new events (watch.store).
--
--   events, err = poll.run(store, sub_id [, opts])
--   opts: now (os.time()), today ("YYYY-MM-DD", the calendar months watched),
--         settings (watch.settings.load())
--
-- A fetch that fails keeps that part of the last snapshot: its changes are
-- reported once it works again. Credentials the school refuses pause the
-- subscription (a poll a day with a wrong password could lock the account).
local D = require "watch.diff"
local json = require "sis.json"
local codec = require "sis.codec"
local date = require "sis.date"
local log = require "sis.log"
local settings_mod = require "watch.settings"

local M = {}

M.services = {
  focus = { service = "focus.service", diff = "watch.focus_diff" },
  scodoc = { service = "scodoc.service", diff = "watch.scodoc_diff" },
}

-- The answers each kind needs, for the kinds asked.
local function needed(diff, kinds)
  local want = {}
  for kind, answer in pairs(diff.KINDS) do
    if D.wants(kinds, kind) then want[answer] = true end
  end
  return want
end

local function month_after(year, month)
  if month == 12 then return year + 1, 1 end
  return year, month + 1
end

-- → answers, errors (answer name → message), refused (credentials refused)
local fetchers = {}

function fetchers.focus(svc, state, want, opts)
  local answers, errors, refused = {}, {}, false
  local function get(name, endpoint, args)
    local status, body = svc.call(state, endpoint, args or {})
    if status == 200 then return body end
    if status == 401 then refused = true end
    errors[name] = string.format("%d %s", status, type(body) == "table" and tostring(body.error) or "")
  end
  for _, name in ipairs { "courses", "final_grades", "semester_grades", "quarter_grades", "absences", "referrals" } do
    if want[name] and not refused then answers[name] = get(name, name) end
  end
  if want.calendar and not refused then
    -- this month and the next: what a calendar shows as coming
    local y, m = (opts.today or date.today()):match("^(%d+)-(%d+)")
    y, m = tonumber(y), tonumber(m)
    local months = {}
    for _ = 1, 2 do
      local body = get("calendar", "calendar", { year = y, month = m })
      if not body then months = nil break end
      months[#months + 1] = body
      y, m = month_after(y, m)
    end
    answers.calendar = months
  end
  return answers, errors, refused
end

function fetchers.scodoc(svc, state, want, _, target)
  local answers, errors, refused = {}, {}, false
  local function get(name, endpoint, args)
    args.dept = target.dept
    local status, body = svc.call(state, endpoint, args)
    if status == 200 then return body end
    if status == 401 then refused = true end
    errors[name] = string.format("%d %s", status, type(body) == "table" and tostring(body.error) or "")
  end
  if want.bulletin then
    answers.bulletin = get("bulletin", "formsemestre_bulletinetud",
      { etudid = target.etudid, formsemestre_id = target.formsemestre_id, version = "long", format = "json" })
  end
  if want.absences and not refused then
    answers.absences = get("absences", "ListeAbsEtud", { etudid = target.etudid, absjust_only = false, format = "json" })
    if answers.absences then
      answers.justified = get("absences", "ListeAbsEtud", { etudid = target.etudid, absjust_only = true, format = "json" })
    end
  end
  return answers, errors, refused
end

-- A stable event id: the same change found by the same poll of the same
-- subscription has the same id however often that poll runs (after a crash
-- before its results were stored); the same change back later is new.
local function event_id(sub, e)
  local basis = table.concat({ sub.id, sub.polls, e.kind, e.key, json.encode(e.old), json.encode(e.new) }, "\n")
  return codec.sha256_hex(basis):sub(1, 32)
end

local function iso(t) return os.date("!%Y-%m-%dT%H:%M:%SZ", t) end
M.iso = iso

function M.run(store, sub_id, opts)
  opts = opts or {}
  local settings = opts.settings or settings_mod.load()
  local now = opts.now or os.time()
  local sub = store:subscription_state(sub_id)
  if not sub then return nil, "no such subscription" end
  local kind = M.services[sub.service]
  if not kind then return nil, "unknown service " .. tostring(sub.service) end
  local svc, diff = require(kind.service), require(kind.diff)
  local state, cerr = store:credentials(sub_id)
  local next_poll = settings_mod.next_poll(now, sub.interval)
  if not state then
    store:pause(sub_id, "the stored credentials cannot be read: " .. tostring(cerr), now)
    return nil, cerr
  end
  local before = json.encode(state)
  local answers, errors, refused = fetchers[sub.service](svc, state, needed(diff, sub.kinds), opts, sub.target)
  if json.encode(state) ~= before then store:save_credentials(sub_id, state) end
  local problems = {}
  for name, msg in pairs(errors) do problems[#problems + 1] = name .. ": " .. msg end
  table.sort(problems)
  local err = #problems > 0 and table.concat(problems, "; ") or nil
  if err then log.warn("watch: subscription %s: %s", sub_id, err) end
  if refused then
    store:pause(sub_id, sub.service .. " refused the stored credentials; log in and subscribe again", now)
  end
  local snapshot = D.merge(sub.snapshot, diff.snapshot(answers))
  local events = {}
  if sub.snapshot then -- else: the baseline, nothing to announce
    for _, e in ipairs(diff.diff(sub.snapshot, snapshot)) do
      if D.wants(sub.kinds, e.kind) then
        e.id, e.subscription, e.service, e.detected_at = event_id(sub, e), sub_id, sub.service, iso(now)
        e.key = nil
        events[#events + 1] = e
      end
    end
  end
  local rows = {}
  for i, e in ipairs(events) do rows[i] = { id = e.id, body = json.encode(e), detected_at = now } end
  store:record_poll(sub_id, { snapshot = snapshot, events = rows, now = now, next_poll_at = next_poll, error = err })
  return events, err
end

return M
