-- The reference answers of the Focus corpus (tests/fixtures/focus/expected/)
-- for the tests that compare our answers with the original focus-api's:
--   local E = require "focus_expected"
--   E.calls                      -- index.json's calls, in order
--   E.main, E.expiry             -- the same, without / only the session-expiry scenario
--   status, body = E.reference(call)
--   E.drop_volatile(body, call.volatile)
--   E.replay(calls, answer)      -- plays calls in order, checks every answer
--   E.same(got, want, what)      -- deep equality and the same JSON text
--   E.generations                -- the Focus generations a replay runs against
-- The reference is the original's answer (compat), or derived/ where it
-- crashes, with our deliberate corrections (docs/compatibility.md) applied:
-- E.page_corrections (the page parsers', by page) and E.call_corrections
-- (the client's and REST routes', by call). Against a later generation, the
-- same reference with E.later_differences applied (what the later pages do
-- not carry; docs/compatibility.md, "Later Focus generations").
local t = require "testlib"
local json = require "sis.json"

local E = {}

local DIR = "focus/expected/"
function E.file(file) return json.decode(t.fixture(DIR .. file)) end
local index = E.file("index.json")
E.calls = index.calls or index
E.main, E.expiry = {}, {}
for _, call in ipairs(E.calls) do table.insert(call.scenario and E.expiry or E.main, call) end

local function collapse(s) return (s:gsub("%s+", " ")) end

-- page → function(expected answer) that patches it in place
local CORRECT = {}
E.page_corrections = CORRECT

-- B13: the schedule kept Focus's double spaces in teacher names.
function CORRECT.schedule(want)
  for _, c in ipairs(want.courses) do c.teacher = collapse(c.teacher) end
end

-- B13: so did the calendar assignment popup.
function CORRECT.calendar_detail(want)
  if want.course then want.course.teacher = collapse(want.course.teacher) end
end

-- B11: teacher without the leading space; other_violation is the first
-- other-violation field (CUSTOM_2), not the last one (CUSTOM_9, the action taken).
local OTHER_VIOLATION = { ["3168"] = "Would not stop when asked",
                          ["3241"] = "Playing games during lab",
                          ["3307"] = "Left campus without permission" }
local function correct_referral(r)
  r.teacher = r.teacher:gsub("^ ", "")
  r.other_violation = OTHER_VIOLATION[r.id]
end
function CORRECT.referrals(want)
  if want.referrals then
    for _, r in pairs(want.referrals) do correct_referral(r) end
  elseif want.id then
    correct_referral(want)
  end
end

-- B16: a semester course's `days` was its term (S1/S2); both period-6 courses meet MWH.
function CORRECT.absences(want)
  for _, day in pairs(want.absences) do
    for _, p in pairs(day.periods) do
      if p.days == "S1" or p.days == "S2" then p.days = "MWH" end
    end
  end
end

-- call name → function(call) → status, body: the client's and REST routes'
-- corrections ("Client and REST corrections").
E.call_corrections = {
  -- B7: an unknown calendar popup id is a 400, as the README says.
  calendar_occasions_99999 = function() return 400, { error = "Bad request" } end,
  calendar_assignments_99999 = function() return 400, { error = "Bad request" } end,
  -- B18: Focus forgot the PHP session; we log in again and answer the portal.
  expiry_portal_after_focus_timeout = function() return 200, E.file("expiry_portal_before.json") end,
}

-- The page that answers a call (a PUT /session answers its redirect target).
local function page_of(call)
  local req = call.request
  local path = req.method == "PUT" and (req.json.redirect or "portal") or req.path
  path = path:gsub("^/api/v3/", "")
  if path:find("^calendar/%a+/") then return "calendar_detail" end
  return path:match("^(%a+)")
end

-- The Focus generations of tests/servers/fake_focus.py: the 2016-17 pages
-- (the references' own), the later layouts (tests/fixtures/focus-2018/),
-- and the later layouts behind single sign-on.
E.generations = {
  { name = "2016-17", flags = "" },
  { name = "2018 on", flags = "--generation 2018", later = true },
  { name = "2018 on, single sign-on", flags = "--generation 2018 --sso", later = true, sso = true },
}

-- page → {doc = what docs/compatibility.md names, patch = function(reference)}:
-- information the later layouts do not carry.
E.later_differences = {}

local function drop_days(courses)
  for _, c in pairs(courses or {}) do c.days = nil end
end

-- The 2018-12 portal's course table has no meeting days (the hyphenated title is gone)...
E.later_differences.portal = { doc = "portal `days`", patch = function(want) drop_days(want.courses) end }
-- ...so /courses, which takes them from the portal, has none either.
E.later_differences.courses = { doc = "/courses `days`", patch = function(want) drop_days(want.courses) end }
-- The 2018 absence summary gives no day count after "A Absent".
E.later_differences.absences = { doc = "`days_absent_unexcused`",
                                 patch = function(want) want.days_absent_unexcused = nil end }

function E.reference(call, generation)
  local fix = E.call_corrections[call.name]
  local status, want
  if fix then
    status, want = fix(call)
  else
    if call.derived then
      status, want = call.derived.status, E.file(call.derived.file)
    else
      status, want = call.status, E.file(call.file)
    end
    local correct = status == 200 and CORRECT[page_of(call)]
    if correct then correct(want) end
  end
  local later = generation and generation.later and status == 200 and E.later_differences[page_of(call)]
  if later then later.patch(want) end
  return status, want
end

-- Volatile keys (the session's timeout) compare as 0.
function E.drop_volatile(body, keys)
  for _, k in ipairs(keys or {}) do
    if type(body) == "table" and body[k] ~= nil then body[k] = 0 end
  end
  return body
end

-- Deep equality, and the same JSON text ([] vs {}, 1 vs 1.0, key sets).
function E.same(got, want, what)
  t.eq(got, want, what)
  t.eq(json.encode(got), json.encode(want), what .. " JSON text ([] vs {})")
end

-- Checks one call's answer against its reference: status, then E.same.
-- `text`, the answer as received, only shows in the failure message
-- (default: the body).
function E.check(call, status, body, text, generation)
  local want_status, want = E.reference(call, generation)
  E.drop_volatile(body, call.volatile)
  E.drop_volatile(want, call.volatile)
  t.eq(status, want_status, call.name .. " status (" .. (text or t.show(body)):sub(1, 200) .. ")")
  E.same(body, want, call.name)
end

-- Plays `calls` in order: answer(call) → status, decoded body [, text] is
-- checked by E.check (against `generation`'s reference, default 2016-17);
-- before_each(call), if given, runs before each call.
function E.replay(calls, answer, before_each, generation)
  for _, call in ipairs(calls) do
    if before_each then before_each(call) end
    local status, body, text = answer(call)
    E.check(call, status, body, text, generation)
  end
end

return E
