-- Focus calendar popup (Calendar.php&modfunc=detail&event_id=N or &assignment_id=N):
-- label/value rows in div.scroll_contents. Occasion rows: Date, Title, School,
-- Notes; assignment rows: Date, Title, Teacher, Course, Course period, School, Notes.
-- The page does not repeat the id: ctx.id (the requested id) is copied into
-- the answer when given. Focus answers an unknown id with a popup full of
-- dashes: that is reported as a "missing" failure (the service answers 400).
local common = require "focus.common"

local function value(rows, i)
  local row = rows[i] or common.fail("popup has %d rows, expected at least %d", #rows, i)
  local cells = row:select("td")
  if #cells < 2 then common.fail("popup row %d has %d cells, expected 2", i, #cells) end
  return cells[2]:text(), common.strip(cells[1]:text())
end

return function(doc, ctx)
  local rows = common.need(doc, "div.scroll_contents"):select("tr")
  local when = value(rows, 1)
  if common.strip(when) == "-" then
    common.missing("calendar %s does not exist", ctx.id and ("event " .. ctx.id) or "event")
  end
  local out = {
    id = ctx.id and tostring(ctx.id),
    date = common.iso_date(when) or common.fail("popup date '%s' is not a date", when),
    title = value(rows, 2),
  }
  local first = 3
  local _, label = value(rows, 3)
  if label == "Teacher" then
    out.type = "assignment"
    local cp_text = value(rows, 5)
    local cp = common.course_title(cp_text, false)
      or common.fail("course period '%s' is not 'Period N - Days - Room - Teacher'", cp_text)
    out.course = { name = value(rows, 4), period = cp.period, term = cp.term,
                   days = cp.days, teacher = cp.teacher }
    first = 6
  else
    out.type = "occasion"
  end
  out.school = value(rows, first)
  local notes = common.strip(common.nbsp_to_space(value(rows, first + 1)))
  if notes ~= "-" then out.notes = notes end
  return out
end
