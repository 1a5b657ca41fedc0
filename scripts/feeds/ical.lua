-- iCalendar (RFC 5545) text for the calendar feeds: one VCALENDAR of
-- VEVENTs, CRLF lines folded at 75 octets (never inside a UTF-8 sequence),
-- TEXT values escaped (\\ \; \, \n).
--
--   ical.calendar { name =, events = { { uid =, summary =, description =,
--     date = "YYYY-MM-DD" (all day) | start =, finish = "YYYY-MM-DDTHH:MM:SS" (floating) }, ... },
--     stamp = os.time() }  -> text
local M = {}

function M.escape(s)
  return (tostring(s):gsub("\r\n", "\n"):gsub("[\\;,\n\r]", { ["\\"] = "\\\\", [";"] = "\\;", [","] = "\\,",
                                                            ["\n"] = "\\n", ["\r"] = "\\n" }))
end

-- One content line, folded: at most 75 octets a line, continuation lines
-- start with a space (RFC 5545 3.1).
function M.fold(line)
  if #line <= 75 then return line .. "\r\n" end
  local out, i, limit = {}, 1, 75
  while i <= #line do
    local j = math.min(i + limit - 1, #line)
    -- back off so that a UTF-8 sequence is not cut (continuation bytes 0x80-0xBF)
    while j < #line and j > i and line:byte(j + 1) >= 0x80 and line:byte(j + 1) < 0xC0 do j = j - 1 end
    out[#out + 1] = line:sub(i, j)
    i, limit = j + 1, 74
  end
  return table.concat(out, "\r\n ") .. "\r\n"
end

local function compact_date(iso) return (iso:gsub("-", "")) end
local function compact_time(iso) return (iso:gsub("[-:]", "")) end

local function next_day(iso)
  local y, m, d = iso:match("^(%d+)-(%d+)-(%d+)$")
  return os.date("!%Y%m%d", os.time { year = tonumber(y), month = tonumber(m), day = tonumber(d) + 1, hour = 12 })
end

function M.calendar(cal)
  local lines = { "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//sis//sis calendar feed//EN", "CALSCALE:GREGORIAN",
                  "METHOD:PUBLISH" }
  if cal.name then lines[#lines + 1] = "X-WR-CALNAME:" .. M.escape(cal.name) end
  local stamp = os.date("!%Y%m%dT%H%M%SZ", cal.stamp or os.time())
  for _, ev in ipairs(cal.events) do
    lines[#lines + 1] = "BEGIN:VEVENT"
    lines[#lines + 1] = "UID:" .. ev.uid
    lines[#lines + 1] = "DTSTAMP:" .. stamp
    if ev.date then
      lines[#lines + 1] = "DTSTART;VALUE=DATE:" .. compact_date(ev.date)
      lines[#lines + 1] = "DTEND;VALUE=DATE:" .. next_day(ev.date)
    else
      lines[#lines + 1] = "DTSTART:" .. compact_time(ev.start)
      lines[#lines + 1] = "DTEND:" .. compact_time(ev.finish)
    end
    lines[#lines + 1] = "SUMMARY:" .. M.escape(ev.summary)
    if ev.description and ev.description ~= "" then lines[#lines + 1] = "DESCRIPTION:" .. M.escape(ev.description) end
    if ev.categories then lines[#lines + 1] = "CATEGORIES:" .. M.escape(ev.categories) end
    lines[#lines + 1] = "END:VEVENT"
  end
  lines[#lines + 1] = "END:VCALENDAR"
  local out = {}
  for i, l in ipairs(lines) do out[i] = M.fold(l) end
  return table.concat(out)
end

return M
