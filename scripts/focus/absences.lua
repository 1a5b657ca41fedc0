-- Focus absences (Modules.php?modname=Attendance/StudentSummary.php): the
-- period/day counts of the summary box, the full-day totals and, per day with
-- a mark, the status of each period.
local common = require "focus.common"

-- Summary box counts: label pattern (matched on whitespace-collapsed text,
-- case-insensitive) → keys of its numbers.
local SUMMARY = {
  { "absent: (%d+) periods %(during (%d+) days%)", "periods_absent", "days_partially_absent" },
  { "absent: (%d+) periods %-%- (%d+) days", "periods_absent_unexcused", "days_absent_unexcused" },
  { "excused absence: (%d+) periods %-%- (%d+) days", "periods_absent_excused", "days_absent_excused" },
  { "other marks: (%d+) periods %(during (%d+) days%)", "periods_other_marks", "days_other_marks" },
  { "late: (%d+) periods", "periods_late" },
  { "tardy: (%d+) periods", "periods_tardy" },
  { "misc%. activity: (%d+) periods", "periods_misc" },
  { "off site/field trip: (%d+) periods", "periods_offsite" },
}

local function read_summary(doc, out)
  local text = common.collapse(common.need(doc, "td.WhiteDrawHeader"):text()):lower()
  for _, s in ipairs(SUMMARY) do
    local a, b = text:match(s[1])
    if not a then common.fail("the absence summary has no '%s'", (s[1]:gsub("%%", ""))) end
    out[s[2]] = math.tointeger(tonumber(a))
    if s[3] then out[s[3]] = math.tointeger(tonumber(b)) end
  end
end

-- "Total Full Days Attended: 108.5 (96.88%)" → 108.5, 96.88 (floats).
local function read_totals(doc, out)
  local text = common.need(doc, "body"):text()
  local function total(label)
    local n, pct = text:match(label:gsub(" ", "%%s+") .. ":%s*([%d.]+)%s*(%S*)")
    n = tonumber(n or "") or common.fail("no number after '%s:'", label)
    pct = pct:match("^%(([%d.]+)%%%)$")
    return n + 0.0, pct and tonumber(pct) + 0.0
  end
  out.days_possible = total("Total Full Days Possible")
  out.days_attended, out.days_attended_percent = total("Total Full Days Attended")
  out.days_absent, out.days_absent_percent = total("Total Full Days Absent")
end

local STATUS = { A = "absent", E = "excused", L = "late", T = "tardy", O = "offsite" }

-- fn with its results kept per argument: the same few course titles and
-- teachers come back on every day of the list.
local function memoize(fn)
  local seen = {}
  return function(s)
    local v = seen[s]
    if v == nil then
      v = fn(s) or false
      seen[s] = v
    end
    return v or nil
  end
end

-- data-tooltip: "Title with name<BR>Last Modified: 2017-02-22 08:19:21<BR>Belley, Douglass Adam"
local function read_tooltip(tooltip, mark, memo)
  tooltip = tooltip:gsub("<[Bb][Rr]%s*/?>", "<BR>") -- <br>, <br/>, <br /> alike
  local title, modified, by = tooltip:match("^(.-)<BR>(.-)<BR>(.*)$")
  if not title then title, modified = tooltip:match("^(.-)<BR>(.*)$") end
  local course = memo.title(title or tooltip)
  if course then
    mark.name, mark.days, mark.teacher = course.name, course.days, course.teacher
  end
  if modified then mark.last_updated = memo.time(modified) end
  if by then mark.last_updated_by = memo.person(by) end
end

-- Period columns: the header cells from the third on → {key, period}
-- ("1" → 1, "Advisory" → "advisory").
local function period_columns(doc)
  local columns = {}
  local headers = doc:select("thead td.LO_header")
  for i = 3, #headers do
    local name = common.strip(headers[i]:text()):lower()
    local period = name:match("^%d+$") and math.tointeger(tonumber(name)) or name
    columns[#columns + 1] = { key = tostring(period), period = period }
  end
  return columns
end

local function read_days(doc)
  local columns = period_columns(doc)
  local memo = { title = memoize(function(s) return common.course_title(s, true) end),
                 person = memoize(common.person_name),
                 time = memoize(function(s) -- "Last Modified: 2017-02-22 08:19:21"
                   return common.iso_datetime(common.strip(s):match("^Last Modified:(.*)$") or s)
                 end) }
  local days = {}
  for _, tr in ipairs(common.list_rows(doc)) do
    local td = tr:select("td.LO_field")
    if #td >= 2 then
      local day = common.proper_date(td[1]:comments()[1]) or common.iso_date(td[1]:text())
        or common.fail("absence date '%s' is not a date", td[1]:text())
      local entry = { date = day, status = (common.strip(td[2]:text()):lower():match("^%S*")),
                      periods = {} }
      for p, column in ipairs(columns) do
        local cell = td[p + 2]
        local code = cell and common.strip(cell:text()) or ""
        if code ~= "" and code ~= "-" then
          local mark = { period = column.period, status = STATUS[code] or "misc" }
          local tip = cell:select_one("[data-tooltip]")
          if tip then read_tooltip(tip:attr("data-tooltip"), mark, memo) end
          entry.periods[column.key] = mark
        end
      end
      days[day] = entry
    end
  end
  return days
end

return function(doc)
  local out = {}
  read_summary(doc, out)
  read_totals(doc, out)
  out.absences = read_days(doc)
  return out
end
