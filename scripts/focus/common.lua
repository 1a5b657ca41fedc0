-- Helpers shared by the Focus page parsers (scripts/focus/*.lua): failures,
-- text clean-up, Focus conventions (ProperDate comments, hyphenated
-- course-period titles, "Last, First" names) and the side marking-period selects.
local date = require "sis.date"
local json = require "sis.json"
local warnings = require "lib.warnings"

local M = {}

-- A parser that cannot find what it needs raises a Failure; focus.pages turns it
-- into `nil, "focus/<page>: <message>"`. Anything else raised is a script bug
-- and propagates with its file:line.
local Failure = {}
Failure.__tostring = function(f) return f.message end

-- The page lacks what the parser needs (kind "structure").
function M.fail(fmt, ...)
  error(setmetatable({ message = string.format(fmt, ...), kind = "structure" }, Failure), 0)
end

-- Focus answered, but the requested object does not exist (kind "missing").
function M.missing(fmt, ...)
  error(setmetatable({ message = string.format(fmt, ...), kind = "missing" }, Failure), 0)
end

function M.is_failure(e) return getmetatable(e) == Failure end

-- One cell or field the parser cannot read: a warning, and the parse goes on
-- (lib/warnings.lua: { field =, row =, selector = | label =, seen = }).
M.warn = warnings.add

-- The first element under node matching selector, or a failure naming it.
function M.need(node, selector)
  return node:select_one(selector) or M.fail("no element matches '%s'", selector)
end

---------------------------------------------------------------------------
-- Text

local NBSP = "\194\160"

-- Trims ASCII whitespace and NBSP at both ends, in linear time (lib/text.lua,
-- shared with the ScoDoc scripts).
M.strip = require("lib.text").strip

function M.is_blank(s) return M.strip(s) == "" end

function M.nbsp_to_space(s) return (s:gsub(NBSP, " ")) end

-- Runs of whitespace become one space, ends trimmed ("Peter  Okonkwo" → "Peter Okonkwo").
function M.collapse(s)
  if not s:find("[\t-\r]") and not s:find("  ", 1, true) and not s:find(NBSP, 1, true) then
    return M.strip(s) -- nothing inside to collapse (the common case)
  end
  return (M.strip(M.nbsp_to_space(s)):gsub("%s+", " "))
end

-- Python's str.split(sep) (sep plain, non-empty).
function M.split(s, sep)
  local parts, start = {}, 1
  while true do
    local i, j = s:find(sep, start, true)
    if not i then break end
    parts[#parts + 1] = s:sub(start, i - 1)
    start = j + 1
  end
  parts[#parts + 1] = s:sub(start)
  return parts
end

-- "85" → 85 (integer), "33.3" → 33.3 (float), anything else → nil.
function M.number(s)
  if type(s) ~= "string" then return type(s) == "number" and s or nil end
  local digits = M.strip(s):match("^[+-]?%d*%.?%d*$")
  return digits and tonumber(digits) -- tonumber keeps "85" an integer, "85.0" a float
end

-- A JSON value as text: a string as is, a number without a ".0" when
-- integral (ids come as either), anything else (null, tables) nil.
function M.value_text(v)
  if type(v) == "number" then return tostring(math.tointeger(v) or v) end
  return type(v) == "string" and v or nil
end

-- A number when the text is one, the text itself otherwise (ids, lockers, levels
-- that are not numeric must not crash the parse).
function M.number_or_text(s)
  return M.number(s) or s
end

-- Phone numbers as digits (and extension letters): spaces, dots, dashes and
-- parentheses removed.
function M.phone(s) return (M.strip(s):gsub("[%s%.%-%(%)]", "")) end

-- Text of node without the text of its descendants matching selector (the
-- demographic cells are `value<br><small>Label</small>`). The removed parts are
-- taken from the end, where Focus puts the labels.
function M.text_without(node, selector)
  local text = node:text()
  local drop = node:select(selector)
  for i = #drop, 1, -1 do
    local piece = drop[i]:text()
    if piece ~= "" then -- its last occurrence: one search from the end, not one per occurrence
      local r = text:reverse():find(piece:reverse(), 1, true)
      if r then
        local at = #text - (r + #piece - 1) + 1
        text = text:sub(1, at - 1) .. text:sub(at + #piece)
      end
    end
  end
  return text
end

---------------------------------------------------------------------------
-- Tables: gumbo inserts <tbody>, so "the rows of this table" skips it.

function M.rows(tbl)
  local rows = {}
  for _, child in ipairs(tbl:children()) do
    local tag = child:tag()
    if tag == "tr" then
      rows[#rows + 1] = child
    elseif tag == "tbody" or tag == "thead" or tag == "tfoot" then
      for _, tr in ipairs(child:children()) do
        if tr:tag() == "tr" then rows[#rows + 1] = tr end
      end
    end
  end
  return rows
end

function M.cells(tr)
  local cells = {}
  for _, child in ipairs(tr:children()) do
    local tag = child:tag()
    if tag == "td" or tag == "th" then cells[#cells + 1] = child end
  end
  return cells
end

-- ListOutput rows tr#LOy_row1..N, in order, stopping at the first missing
-- number; with `fixed_left`, also the rows of the fixed left columns
-- (tr#LOy_fixed_left_row1..N, 2019 on) as a second list, from the same walk.
function M.list_rows(doc, fixed_left)
  local by_id, left_by_id = {}, {}
  for _, tr in ipairs(doc:select(fixed_left and 'tr[id^="LOy_"]' or 'tr[id^="LOy_row"]')) do
    local id = tr:attr("id")
    local n = tonumber(id:match("^LOy_row(%d+)$"))
    if n then
      by_id[n] = by_id[n] or tr
    else
      n = fixed_left and tonumber(id:match("^LOy_fixed_left_row(%d+)$"))
      if n then left_by_id[n] = left_by_id[n] or tr end
    end
  end
  local rows, left = {}, {}
  while by_id[#rows + 1] do rows[#rows + 1] = by_id[#rows + 1] end
  while left_by_id[#left + 1] do left[#left + 1] = left_by_id[#left + 1] end
  return rows, left
end

---------------------------------------------------------------------------
-- Dates

-- A ProperDate comment (" 20161214 ") → "2016-12-14", or nil.
function M.proper_date(comment)
  local digits = comment and comment:match("%d%d%d%d%d%d%d%d")
  return digits and date.parse(digits) or nil
end

-- Displayed date text → "YYYY-MM-DD" (time dropped), or nil.
function M.iso_date(text)
  local iso = text and date.parse(M.strip(text))
  return iso and iso:sub(1, 10) or nil
end

-- Displayed date text → "YYYY-MM-DDTHH:MM:SS" (Python's datetime.isoformat()), or nil.
function M.iso_datetime(text)
  local iso = text and date.parse(M.strip(text))
  if iso and #iso == 10 then iso = iso .. "T00:00:00" end
  return iso
end

---------------------------------------------------------------------------
-- Names and titles

-- A hyphenated course-period title, read as a careful person would:
--   [Name -] [Period -] [Term -] [Days -] Room - Teacher
--   "Economics - Period 6 - S2 - MWH - 150 - Alan T Brewster" (with_name)
--   "Period 1 - MWH - 112 - Teacher", "Advisory - MTWHF - 161 - Teacher" (without)
-- and as real schools write them (FocusSIS HyphenatedCourseInformationTest.java,
-- Duval's pages in rothso/gradeskinda):
--   "Language Arts - - MWF - Red - Ella Barron"   empty period: none
--   "- MWF - Red - Ella Barron"                    no name
--   "Senior Project - Advisory - W - 001 - Amarah Travis"   a period that is no number: none
--   "Advisory - 12 - Shayna Hollis"                no days (the part before the room is
--                                                  the name, or without a name the period)
--   "IB CHEMISTRY - 01 01 - A - 181 - Teacher A"   Duval: period "01 01" (first = last: 1), A-day
-- → {name?, period?, term?, days?, room, teacher} or nil when it is not one.
-- Whitespace runs (line breaks of pretty-printed pages, "Madge  Smith") count
-- as one space. A name may hold " - " itself ("Math - Honors - Period 3 -
-- ..."): it runs to the "Period N" part when there is one. `period` is an
-- integer (absent when the title gives none or a name such as "Advisory"),
-- `days` only when the part reads as meeting days (letters of M T W R H F S
-- U, or an A/B rotation day).
local function period_of(part)
  local n = part:match("^Period%s*(%d+)$") or part:match("^(%d+)$")
  if not n then
    local first, last = part:match("^(%d+) (%d+)$") -- Duval: "01 01", the first and last period
    n = (first and tonumber(first) == tonumber(last)) and first or nil
  end
  return n and math.tointeger(tonumber(n))
end

-- A period cell or part ("Period 3", "3", Duval's "01 01") → its number, or
-- nil (empty, "Advisory", "HR").
function M.period(text) return period_of(M.collapse(text)) end

local function is_days(part) return #part <= 7 and part:find("^[MTWRHFSUAB]+$") ~= nil end

-- The parts of a title between " - " separators, an empty part where a
-- separator follows another or starts the text ("Arts - - MWF", "- MWF - ...").
-- One pass, plain finds.
local function title_parts(text)
  local parts, pos = {}, 1
  while true do
    if text:sub(pos, pos + 1) == "- " then -- an empty part
      parts[#parts + 1] = ""
      pos = pos + 2
    else
      local i = text:find(" - ", pos, true)
      if not i then break end
      parts[#parts + 1] = text:sub(pos, i - 1)
      pos = i + 3
    end
  end
  parts[#parts + 1] = text:sub(pos)
  return parts
end

function M.course_title(text, with_name)
  text = M.collapse(text)
  local parts = title_parts(text)
  local n = #parts
  if n < 2 or parts[n] == "" then return nil end
  local t = { teacher = M.collapse(parts[n]), room = M.strip(parts[n - 1]) }
  local first = 1 -- the first part after the name
  if with_name then
    first = 2
    for i = 2, n - 3 do
      if parts[i]:find("^Period%s*%d+$") then
        first = i
        break
      end
    end
    local name = M.strip(table.concat(parts, " - ", 1, first - 1))
    if first > n - 1 then return nil end -- "Name - Teacher": no room
    if name ~= "" then t.name = name end
  end
  local rest = {}
  for i = first, n - 2 do rest[#rest + 1] = M.strip(parts[i]) end
  if #rest == 1 then
    if is_days(rest[1]) then t.days = rest[1] else t.period = period_of(rest[1]) end
  elseif #rest >= 2 then
    t.period = period_of(rest[1])
    if is_days(rest[#rest]) then t.days = rest[#rest] end
    -- semester/quarter courses insert the term between period and days
    if #rest == 3 and rest[2] ~= "" then t.term = rest[2]:lower() end
  end
  return t
end

-- "Last, First Middle (Teacher)" → "First Middle Last"; a name without a comma
-- is kept (collapsed).
function M.person_name(s)
  local trimmed = M.strip(s) -- (a "%s*...%s*$" gsub is quadratic over blanks)
  if trimmed:sub(-9) == "(Teacher)" then s = trimmed:sub(1, -10) end
  local last, first = s:match("^(.-),(.*)$")
  if not last then return M.collapse(s) end
  return M.collapse(first .. " " .. last)
end

---------------------------------------------------------------------------
-- Marking periods (the side selects every full page carries)

local function options(doc, name)
  local select = M.need(doc, 'select[name="' .. name .. '"]')
  return select:select("option")
end

-- → { mp_years = [2013, ...], mps = { ["325"] = {id, name, year, selected?}, ... } }
function M.marking_periods(doc)
  local years, selected_year = json.array(), nil
  for _, opt in ipairs(options(doc, "side_syear")) do
    local value = opt:attr("value") or ""
    local year = math.tointeger(tonumber(value))
      or M.fail("side_syear option value '%s' is not a year", value)
    years[#years + 1] = year
    if opt:attr("selected") then selected_year = year end
  end
  if not selected_year then M.fail("no selected option in select[name=\"side_syear\"]") end
  local mps = {}
  for _, opt in ipairs(options(doc, "side_mp")) do
    local id = opt:attr("value") or M.fail("side_mp option without a value")
    mps[id] = { id = id, name = opt:text(), year = selected_year,
                selected = opt:attr("selected") and true or nil }
  end
  return { mp_years = years, mps = mps }
end

return M
