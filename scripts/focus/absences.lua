-- Focus absences (Modules.php?modname=Attendance/StudentSummary.php): the
-- period/day counts of the summary box, the full-day totals and, per day with
-- a mark, the status of each period.
-- The summary in every wording seen (FocusSIS AbsencesParser.java, commits
-- 5ab3f80, d400e00, e98fb24): td.WhiteDrawHeader with "A Absent: N periods
-- -- N days" (2016-17); "A Absent: N periods" without the day count
-- (2018-03); the second table.WhiteDrawHeader with labels without colons
-- and an optional "D Dismissed N periods" line (2018-12); "Absent: N
-- periods (during N days)" headings throughout. Period headers are kept as
-- written ("1" → 1, "P5" → "p5", "HR" → "hr").
local common = require "focus.common"

-- Summary box counts: label pattern (matched on whitespace-collapsed text,
-- lower-cased) → keys of its numbers; `days`: a " -- N days" may follow
-- (the key of that number). Later wordings drop the colons.
local SUMMARY = {
  { "absent: (%d+) periods %(during (%d+) days%)", "periods_absent", "days_partially_absent" },
  { "%f[%a]a absent:? (%d+) periods", "periods_absent_unexcused", days = "days_absent_unexcused" },
  { "excused absence:? (%d+) periods", "periods_absent_excused", days = "days_absent_excused" },
  { "other marks: (%d+) periods %(during (%d+) days%)", "periods_other_marks", "days_other_marks" },
  { "%f[%a]late:? (%d+) periods", "periods_late" },
  { "%f[%a]tardy:? (%d+) periods", "periods_tardy" },
  { "misc%. activity:? (%d+) periods", "periods_misc" },
  { "off site/field trip:? (%d+) periods", "periods_offsite" },
}

-- The summary box: the first td.WhiteDrawHeader or table.WhiteDrawHeader that
-- counts periods (2018-12: the second table; the first is the student's header).
local SUMMARY_BOX = "td.WhiteDrawHeader, table.WhiteDrawHeader"

local function read_summary(doc, out)
  local text
  for _, box in ipairs(doc:select(SUMMARY_BOX)) do
    local t = box:text()
    if t:find("periods", 1, true) then
      text = common.collapse(t):lower()
      break
    end
  end
  if not text then common.fail("no element matches '%s'", SUMMARY_BOX) end
  for _, s in ipairs(SUMMARY) do
    local from, to, a, b = text:find(s[1])
    if not from then
      common.warn { field = s[2], selector = SUMMARY_BOX, label = (s[1]:gsub("%%f%[%%a%]", ""):gsub("%%", "")),
                    seen = text }
    else
      out[s[2]] = math.tointeger(tonumber(a))
      if s[3] then out[s[3]] = math.tointeger(tonumber(b)) end
      if s.days then
        local days = text:match("^ %-%- (%d+) days", to + 1)
        if days then out[s.days] = math.tointeger(tonumber(days)) end
      end
    end
  end
end

-- "Total Full Days Attended: 108.5 (96.88%)" → 108.5, 96.88 (floats).
local function read_totals(doc, out)
  local text = common.need(doc, "body"):text()
  local function total(label)
    -- a plain search for the label as usually written, then one with loose spaces
    local at = text:find(label .. ":", 1, true)
    local n, pct
    if at then n, pct = text:match("^%s*([%d.]+)%s*(%S*)", at + #label + 1) end
    if not n then n, pct = text:match(label:gsub(" ", "%%s+") .. ":%s*([%d.]+)%s*(%S*)") end
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
  -- split at the first two <BR> (plain finds: a "^(.-)<BR>(.-)<BR>" match
  -- was the parser's largest cost)
  local title, modified, by
  local i = tooltip:find("<BR>", 1, true)
  if i then
    title = tooltip:sub(1, i - 1)
    local j = tooltip:find("<BR>", i + 4, true)
    if j then
      modified, by = tooltip:sub(i + 4, j - 1), tooltip:sub(j + 4)
    else
      modified = tooltip:sub(i + 4)
    end
  end
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
