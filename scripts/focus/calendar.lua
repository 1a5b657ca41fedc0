-- Focus month calendar (Modules.php?modname=School_Setup/Calendar.php&month=M&year=Y):
-- {month, year, events? = {id → {id, name, type, date}}}.
local common = require "focus.common"
local date = require "sis.date"

local function selected(doc, selector)
  local select = common.need(doc, selector)
  local opt = select:select_one("option[selected]")
    or common.fail("no selected option in '%s'", selector)
  return math.tointeger(tonumber(opt:attr("value") or ""))
    or common.fail("selected option of '%s' is not a number", selector)
end

-- onclick="javascript:window.open('...&modfunc=detail&event_id=697&year=2016&month=11',...)"
local function read_event(a, day)
  local onclick = a:attr("onclick") or common.fail("calendar link '%s' has no onclick", a:text())
  -- the first non-empty <kind>_id= value (a single pass: "_id=(.-)&year"
  -- rescanned the rest of the attribute from every "_id=")
  local id = onclick:match("_id=([^&'\"]+)") or common.fail("no event id in onclick '%s'", onclick)
  return {
    id = id,
    name = a:text(),
    type = onclick:find("assignment", 1, true) and "assignment" or "occasion",
    date = day,
  }
end

return function(doc)
  local month = selected(doc, "select#monthSelect1")
  local year = selected(doc, "select#yearSelect1")
  local grid = common.need(doc, "div.scroll_contents table")
  local events, found = {}, false
  local weeks = common.rows(grid)
  for w = 2, #weeks do -- the first row holds the weekday names
    for _, td in ipairs(common.cells(weeks[w])) do
      -- (a blank cell has a blank second line: no need to build its whole text)
      local day_table = td:select_one("table")
      local lines = day_table and common.rows(day_table) or {}
      if #lines >= 2 and not common.is_blank(lines[2]:text()) then
        local number = common.number(lines[1]:text())
        local day = number and string.format("%04d-%02d-%02d", year, month, number)
        if not day or not date.parse(day) then
          common.fail("calendar day '%s' of %d-%02d is not a day", lines[1]:text(), year, month)
        end
        for _, a in ipairs(lines[2]:select("a")) do
          local event = read_event(a, day)
          events[event.id], found = event, true
        end
      end
    end
  end
  return { month = month, year = year, events = found and events or nil }
end
