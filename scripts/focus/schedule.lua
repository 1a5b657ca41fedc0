-- Focus schedule (Modules.php?modname=Scheduling/Schedule.php): the student's
-- courses for the whole year, in page order.
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
  local rows = common.list_rows(doc)
  -- an empty schedule still has the list's header row
  if #rows == 0 then common.need(doc, "td.LO_header") end
  for i, tr in ipairs(rows) do
    local td = tr:select("td.LO_field")
    if #td < 5 then common.fail("schedule row %d has %d cells, expected 5", i, #td) end
    local parts = common.split(td[2]:text(), " - ")
    local period = parts[1]:match("^Period%s*(%d+)")
    courses[i] = {
      name = td[1]:text(),
      period = period and math.tointeger(tonumber(period)),
      teacher = common.collapse(parts[#parts]),
      days = td[3]:text(),
      room = td[4]:text(),
      term = term(td[5]:text()),
    }
  end
  return { courses = courses }
end
