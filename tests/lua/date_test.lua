-- sis.date: every documented input form, both slash orders, French and
-- English names, calendar validation, formatting and epoch round trips
-- (cross-checked with os.date/os.time, i.e. the C library's gmtime).
local t = require "testlib"
local date = require "sis.date"

local function parses(input, want, order)
  local got, err = date.parse(input, order)
  if got ~= want then
    error(string.format("parse(%q%s): got %s, %s; want %q", input, order and ", " .. order or "",
      t.show(got), t.show(err), want), 2)
  end
end

local function refuses(input, why, order)
  local got, err = date.parse(input, order)
  local want = "date: cannot parse '" .. input .. "'" .. (why and " (" .. why .. ")" or "")
  if got ~= nil or err ~= want then
    error(string.format("parse(%q): got %s, %s; want nil, %q", input, t.show(got), t.show(err), want), 2)
  end
end

t.test("every documented form", function()
  parses("Feb 14, 2017", "2017-02-14")
  parses("February 14, 2017", "2017-02-14")
  parses("Tuesday, February 14, 2017", "2017-02-14")
  parses("Tue Feb 14 2017", "2017-02-14")
  parses("2/14/2017", "2017-02-14")
  parses("2017-02-14", "2017-02-14")
  parses("2017-02-22 08:19:21", "2017-02-22T08:19:21")
  parses("2017-02-22T08:19:21", "2017-02-22T08:19:21")
  parses("14/02/2017", "2017-02-14", "dmy")
  parses("20161214", "2016-12-14")
  parses("14 février 2017", "2017-02-14")
  parses("mardi 14 février 2017", "2017-02-14")
  parses("14 févr. 2017", "2017-02-14")
end)

t.test("slash order: mdy by default, dmy on request, nothing guessed", function()
  parses("02/03/2017", "2017-02-03")
  parses("02/03/2017", "2017-02-03", "mdy")
  parses("02/03/2017", "2017-03-02", "dmy")
  parses("1/2/2017", "2017-01-02")
  parses("12/31/2017", "2017-12-31")
  parses("31/12/2017", "2017-12-31", "dmy")
  refuses("14/02/2017", "no such date") -- month 14 in mdy
  refuses("12/31/2017", "no such date", "dmy")
  -- ScoDoc also writes 01-02-2021 and 15.03.2021
  parses("01-02-2021", "2021-02-01", "dmy")
  parses("15.03.2021", "2021-03-15", "dmy")
  refuses("01-02/2021") -- mixed separators
  refuses("2/14/17") -- no 2-digit years
  refuses("2/14/02017")
  t.raises(function() date.parse("1/2/2017", "ymd") end, "invalid option 'ymd'")
end)

t.test("ISO forms, with optional seconds, fraction and Z", function()
  parses("2017-2-3", "2017-02-03")
  parses("2017/02/14", "2017-02-14")
  parses("2017-02-22T08:19", "2017-02-22T08:19:00")
  parses("2021-03-15T10:42:17.503212", "2021-03-15T10:42:17") -- ScoDoc bulletin date
  parses("2021-03-15T10:42:17Z", "2021-03-15T10:42:17")
  parses("2017-02-22 8:19:21", "2017-02-22T08:19:21")
  refuses("2021-03-15T10:42:17+01:00") -- offsets are not silently dropped
  refuses("2017-02-22T08")
  refuses("2017-02-22T08:1")
  refuses("2017-02-22T24:00:00", "no such time")
  refuses("2017-02-22 23:60", "no such time")
  refuses("2017-02-22 23:59:60", "no such time")
  refuses("2017-02-14-01")
  refuses("17-02-14")
end)

t.test("English names: full, abbreviated, ordinals, weekday prefixes, times", function()
  parses("Sep 5, 2016", "2016-09-05")
  parses("Sept. 5, 2016", "2016-09-05")
  parses("september 5 2016", "2016-09-05")
  parses("Dec 31, 1999", "1999-12-31")
  parses("March 1st, 2017", "2017-03-01")
  parses("April 22nd 2017", "2017-04-22")
  parses("May 3rd, 2017", "2017-05-03")
  parses("June 4th, 2017", "2017-06-04")
  parses("14 February 2017", "2017-02-14")
  parses("Mon, Feb 13, 2017", "2017-02-13")
  parses("Thurs Feb 16 2017", "2017-02-16")
  parses("Wed. February 15, 2017", "2017-02-15")
  parses("Feb 14, 2017 8:19 PM", "2017-02-14T20:19:00")
  parses("Feb 14, 2017, 8:19:05 am", "2017-02-14T08:19:05")
  parses("2/14/2017 12:00 AM", "2017-02-14T00:00:00")
  parses("Feb 14, 2017 at 8:19 pm", "2017-02-14T20:19:00")
  parses("2/14/2017 12:30 pm", "2017-02-14T12:30:00")
  refuses("2/14/2017 13:00 pm", "no such time")
  refuses("2/14/2017 0:30 am", "no such time")
  -- "Mar" is March first; the French weekday reading is tried only after
  parses("Mar 14, 2017", "2017-03-14")
end)

t.test("French names: accents optional, abbreviations, 1er, weekdays", function()
  local months = { "janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
    "octobre", "novembre", "décembre" }
  for m, name in ipairs(months) do
    parses("3 " .. name .. " 2017", string.format("2017-%02d-03", m))
  end
  local abbreviations = { "janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.",
    "nov.", "déc." }
  for m, name in ipairs(abbreviations) do
    parses("3 " .. name .. " 2017", string.format("2017-%02d-03", m))
  end
  parses("14 fevrier 2017", "2017-02-14")
  parses("14 FÉVRIER 2017", "2017-02-14")
  parses("15 aout 2017", "2017-08-15")
  parses("25 Déc 2017", "2017-12-25")
  parses("1er mars 2017", "2017-03-01")
  parses("dimanche 1er janvier 2017", "2017-01-01")
  parses("Mercredi, 15 février 2017", "2017-02-15")
  parses("mar. 14 févr. 2017", "2017-02-14")
  parses("sam 18 févr 2017", "2017-02-18")
  parses("14 février 2017 à 08:30", "2017-02-14T08:30:00")
  parses("14\u{A0}février\u{A0}2017", "2017-02-14") -- no-break spaces, as French pages write them
  parses("14\u{202F}févr.\u{202F}2017", "2017-02-14")
  parses("janv. 2 2017", "2017-01-02")
  refuses("jui 3 2017") -- juin or juillet?
  refuses("ju 3 2017")
  refuses("3 marsupial 2017")
end)

t.test("a weekday must match the date", function()
  refuses("Wed Feb 14 2017", "2017-02-14 is a Tuesday")
  refuses("lundi 14 février 2017", "2017-02-14 is a Tuesday")
  refuses("Tuesday, February 15, 2017", "2017-02-15 is a Wednesday")
end)

t.test("leap years and impossible dates", function()
  parses("February 29, 2016", "2016-02-29")
  parses("2000-02-29", "2000-02-29")
  parses("29/02/2024", "2024-02-29", "dmy")
  refuses("February 29, 2017", "no such date")
  refuses("1900-02-29", "no such date")
  refuses("2100-02-29", "no such date")
  refuses("Feb 30, 2016", "no such date")
  refuses("April 31, 2017", "no such date")
  refuses("31 juin 2017", "no such date")
  refuses("2017-00-10", "no such date")
  refuses("2017-01-00", "no such date")
  refuses("2017-13-01", "no such date")
  refuses("20170230", "no such date")
  refuses("0000-01-01", "no such date")
  parses("2017-01-31", "2017-01-31")
  parses("0001-01-01", "0001-01-01")
  parses("9999-12-31", "9999-12-31")
end)

t.test("garbage, whitespace and case", function()
  refuses("xyz")
  refuses("")
  refuses("   ")
  refuses("2017")
  refuses("Feb 2017")
  refuses("February")
  refuses("14 2017")
  refuses("2017-02-14 garbage")
  refuses("Feb 14, 2017!")
  refuses("Feb 14,, 2017")
  refuses("123456789012")
  t.fails("^date: cannot parse '2017%-02%-14", date.parse("2017-02-14\0"))
  refuses("\xFF\xFE")
  refuses("le 14 février 2017")
  parses("  \t2017-02-14\n ", "2017-02-14")
  parses("FEB 14, 2017", "2017-02-14")
  parses("fEbRuArY 14, 2017", "2017-02-14")
  local long = string.rep("x", 200)
  local _, err = date.parse(long)
  t.eq(err, "date: cannot parse '" .. string.rep("x", 77) .. "...'")
  t.raises(function() date.parse() end, "string expected")
end)

t.test("format: every conversion, English names whatever the locale", function()
  t.eq(date.format("2017-02-14T08:05:09", "%Y|%m|%d|%e|%H|%M|%S|%b|%B|%a|%A|%j|%%"),
    "2017|02|14|14|08|05|09|Feb|February|Tue|Tuesday|045|%")
  t.eq(date.format("2017-02-04", "%e/%j %H:%M:%S"), " 4/035 00:00:00")
  t.eq(date.format("2016-12-31", "%j"), "366")
  t.eq(date.format("2017-12-31 23:59:59", "%A %d %B %Y %H:%M"), "Sunday 31 December 2017 23:59")
  t.eq(date.format("2017-02-14", "no conversions"), "no conversions")
  t.eq(date.format("2017-02-14", ""), "")
  t.fails("^date: cannot parse 'Feb 14, 2017' %(expected YYYY%-MM%-DD or YYYY%-MM%-DDTHH:MM:SS%)$",
    date.format("Feb 14, 2017", "%Y"))
  t.fails("no such date", date.format("2017-02-29", "%Y"))
  t.fails("cannot parse", date.format("2017-02-14T08:05", "%Y"))
  t.raises(function() date.format("2017-02-14", "%Q") end, "unknown conversion '%Q'", true)
  t.raises(function() date.format("2017-02-14", "50%") end, "format ends with '%'", true)
end)

t.test("format agrees with the C library's strftime in the C locale", function()
  for day = 0, 800, 7 do
    local epoch = 1451606400 + day * 86400 + day * 37 -- 2016-01-01 onwards, varying times
    local iso = date.from_epoch(epoch, true)
    for _, f in ipairs({ "%Y-%m-%d %H:%M:%S", "%a %A %b %B", "%e %j" }) do
      t.eq(date.format(iso, f), os.date("!" .. f, epoch), iso .. " " .. f)
    end
  end
end)

t.test("to_epoch and from_epoch are UTC and inverse of each other", function()
  t.eq(date.to_epoch("1970-01-01"), 0)
  t.eq(date.to_epoch("1970-01-01T00:00:01"), 1)
  t.eq(date.to_epoch("2017-02-14"), 1487030400)
  t.eq(date.to_epoch("2017-02-14T08:19:21"), 1487030400 + 8 * 3600 + 19 * 60 + 21)
  t.eq(date.to_epoch("1969-12-31T23:59:59"), -1)
  t.eq(date.from_epoch(0), "1970-01-01")
  t.eq(date.from_epoch(-1, true), "1969-12-31T23:59:59")
  t.eq(date.from_epoch(1487030400), "2017-02-14")
  t.eq(date.from_epoch(1487030400, true), "2017-02-14T00:00:00")
  t.eq(date.from_epoch(1.9, true), "1970-01-01T00:00:01")
  t.eq(date.from_epoch(-0.5, true), "1969-12-31T23:59:59")
  t.eq(date.from_epoch(-62135596800, true), "0001-01-01T00:00:00")
  t.eq(date.from_epoch(253402300799, true), "9999-12-31T23:59:59")
  t.raises(function() date.from_epoch(253402300800) end, "epoch out of range")
  t.raises(function() date.from_epoch(-62135596801) end, "epoch out of range")
  t.raises(function() date.from_epoch("x") end, "number expected")
  t.fails("cannot parse", date.to_epoch("yesterday"))
  -- cross-check with gmtime, and round trips, over 1901..2100
  for epoch = -2145916800, 4102444800, 86400 * 97 + 3671 do
    local iso = date.from_epoch(epoch, true)
    t.eq(iso, os.date("!%Y-%m-%dT%H:%M:%S", epoch))
    t.eq(date.to_epoch(iso), epoch)
    t.eq(date.parse(iso), iso)
    t.eq(date.to_epoch(date.from_epoch(epoch)), epoch - epoch % 86400)
  end
end)

t.test("parse output round trips through to_epoch", function()
  for _, s in ipairs({ "Feb 14, 2017", "14 févr. 2017", "2017-02-22 08:19:21", "20161214" }) do
    local iso = date.parse(s)
    t.eq(date.from_epoch(date.to_epoch(iso), #iso > 10), iso)
  end
end)

t.test("today and now", function()
  local today = date.today()
  t.match(today, "^%d%d%d%d%-%d%d%-%d%d$")
  t.eq(today, os.date("%Y-%m-%d")) -- both local time (a run at midnight could differ)
  local now = date.now()
  t.eq(math.type(now), "float")
  t.ok(math.abs(now - os.time()) < 5)
  t.eq(date.from_epoch(now), os.date("!%Y-%m-%d", math.floor(now)))
end)
