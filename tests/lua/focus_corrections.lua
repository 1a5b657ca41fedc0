-- The page parsers' deliberate corrections of focus-api's answers
-- (docs/compatibility.md, "Page parsers"), as patches of an expected answer
-- of tests/fixtures/focus/expected/, keyed by the page that answers it:
--   require("focus_corrections")[page](expected_answer)   -- patches in place
-- For the tests that compare our answers with the original's.
local function collapse(s) return (s:gsub("%s+", " ")) end

local CORRECT = {}

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

return CORRECT
