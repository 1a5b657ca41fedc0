-- Focus schedule (Modules.php?modname=Scheduling/Schedule.php): the student's
-- courses for the whole year, in page order. Either layout: one row
-- tr#LOy_rowN per course (course | period - teacher | days | room | term), or
-- (2019 on) the first two columns fixed at the left, in tr#LOy_fixed_left_rowN,
-- and the rest in cells 3-5 of tr#LOy_rowN (FocusSIS ScheduleParser.java:35,
-- commit 7aa15fc).
local common = require "focus.common"
local json = require "sis.json"

-- "Full Year" → "year", "Semester 2" → "s2", "Quarter 3" → "q3".
local function term(text)
  text = common.strip(text)
  if text == "Full Year" or text == "" then return "year" end
  local words = common.split(text, " ")
  if #words < 2 then return text:lower() end
  return words[1]:sub(1, 1):lower() .. words[2]
end

return function(doc)
  local courses = json.array()
  local rows, left = common.list_rows(doc, true)
  -- an empty schedule still has the list's header row
  if #rows == 0 then common.need(doc, "td.LO_header") end
  for i, tr in ipairs(rows) do
    local td = tr:select("td.LO_field")
    if #td < 5 then common.fail("schedule row %d has %d cells, expected 5", i, #td) end
    local fixed = left[i] and left[i]:select("td.LO_field")
    if fixed and #fixed < 2 then common.fail("schedule fixed-left row %d has %d cells, expected 2", i, #fixed) end
    local name, period_teacher = (fixed or td)[1]:text(), (fixed or td)[2]:text()
    local parts = common.split(period_teacher, " - ")
    courses[i] = {
      name = name,
      period = common.period(parts[1]),
      teacher = common.collapse(parts[#parts]),
      days = td[3]:text(),
      room = td[4]:text(),
      term = term(td[5]:text()),
    }
  end
  return { courses = courses }
end
