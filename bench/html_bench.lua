-- sis.html: parse throughput per Focus page type, and what a parser's usual
-- selects cost on top of the parse. Prints figures, asserts nothing.
--   raw gumbo   html._parse_only: gumbo parse + destroy, no pre-scan, no document
--   parse       html.parse + doc:close() (pre-scan, gumbo, document userdata)
--   + selects   the same plus the selects/texts a Focus parser does on that page
-- Columns: "vs raw" is what parse costs over raw gumbo (pre-scan, document),
-- "selects" what the selects cost over parse; "calls" counts select calls.
-- Times are CPU seconds (os.clock), median of ROUNDS samples of BATCH runs each.
package.path = (os.getenv("SIS_TEST_ROOT") or ".") .. "/bench/?.lua;" .. package.path
local B = require "benchlib"
local html = require "sis.html"

local ROUNDS, BATCH = tonumber(os.getenv("HTML_BENCH_ROUNDS") or 31), 10

local function read(name) return B.read("tests/fixtures/focus/pages/" .. name) end

-- Median CPU seconds of each function (B.medians: sampled in turns).
local function medians(...) return B.medians(ROUNDS, BATCH, ...) end

-- The side selector every full Focus page carries.
local function marking_periods(doc)
  local n = 0
  for _, o in ipairs(doc:select("select[name=side_syear] option")) do
    n = n + #o:attr("value") + (o:attr("selected") and 1 or 0)
  end
  for _, o in ipairs(doc:select("select[name=side_mp] option")) do
    n = n + #o:attr("value") + #o:text()
  end
  return n
end

local function list_rows(doc)
  local n = 0
  for _, row in ipairs(doc:select("tr[id^=LOy_row]")) do
    for _, td in ipairs(row:select("td.LO_field")) do n = n + #td:text() + #td:comments() end
  end
  return n
end

-- Per page: the file, and the selects and texts a Focus parser of that page
-- needs (marking periods, course rows, calendar cells, ...).
local pages = {
  { "portal", "Portal__mp326.html", function(doc)
      local n = marking_periods(doc)
      local featured = doc:select_one("td.portal_block_Featured")
      for _, a in ipairs(featured:select('a[href^="Modules.php?modname=Grades/StudentGBGrades.php?course_period_id="]')) do
        n = n + #a:attr("href") + #a:text()
      end
      local upcoming = doc:select_one("td.portal_block_Upcoming")
      n = n + #upcoming:select("a") + #upcoming:comments()
      local alerts = doc:select_one("td.portal_block_Alerts td.BoxContent")
      n = n + #alerts:select_one("a"):collapsed_text()
      for _, li in ipairs(alerts:select("ul > li")) do
        for _, td in ipairs(li:select("tr > td")) do n = n + #td:collapsed_text() end
        n = n + #li:text()
      end
      return n
    end },
  { "course", "StudentGBGrades__course_period_id=24101__mp326.html", function(doc)
      local n = marking_periods(doc) + #doc:title()
      local gray = doc:select_one("td.GrayDrawHeader")
      n = n + #doc:select_one("#currentStudentGrade\\[\\]"):text()
      for _, tr in ipairs(gray:select("tr")) do
        for _, td in ipairs(tr:select("td")) do n = n + #td:text() end
      end
      for _, row in ipairs(doc:select("tr[id^=LOy_row]")) do
        local tds = row:select("td.LO_field")
        local div = tds[1]:select_one("div[onmouseover]")
        if div then n = n + #div:attr("onmouseover") end
        if row:select_one("img") then n = n + 1 end
        for _, td in ipairs(tds) do n = n + #td:text() + #td:comments() end
      end
      return n
    end },
  { "calendar", "Calendar__2017-02.html", function(doc)
      local n = marking_periods(doc)
      n = n + #doc:select_one("select#monthSelect1 option[selected]"):attr("value")
      n = n + #doc:select_one("select#yearSelect1 option[selected]"):attr("value")
      local grid = doc:select_one("div.scroll_contents table")
      for _, td in ipairs(grid:select("tr.calendar_week > td")) do
        local day = td:select_one("td.calendar_day_number")
        if day then
          n = n + #day:text()
          for _, a in ipairs(td:select("td.calendar_day_events a")) do
            n = n + #a:text() + #a:attr("onclick")
          end
        end
      end
      return n
    end },
  { "event", "Calendar_detail__assignment_id=93104.html", function(doc)
      local n = 0
      for _, tr in ipairs(doc:select("div.scroll_contents tr")) do
        for _, td in ipairs(tr:select("td")) do n = n + #td:collapsed_text() end
      end
      return n
    end },
  { "schedule", "Schedule.html", function(doc) return marking_periods(doc) + list_rows(doc) end },
  { "absences", "StudentSummary.html", function(doc)
      local n = marking_periods(doc) + list_rows(doc)
      for _, b in ipairs(doc:select("td.WhiteDrawHeader div.attendance_code")) do n = n + #b:collapsed_text() end
      for _, td in ipairs(doc:select("table.attendance_totals td")) do n = n + #td:text() end
      return n
    end },
  { "address", "Student__include=Address.html", function(doc)
      local n = marking_periods(doc)
      for _, td in ipairs(doc:select("table.address_table td")) do n = n + #td:collapsed_text() end
      for _, block in ipairs(doc:select("table.contact_block")) do
        for _, td in ipairs(block:select("td.contact_name td, table.contact_address td, td.contact_info_value")) do
          n = n + #td:text()
        end
      end
      return n
    end },
  { "referrals", "Referrals.html", function(doc)
      return marking_periods(doc) + #doc:select_one("script:contains('var records')"):text()
        + #doc:select_one("script:contains('var columns')"):text()
    end },
  { "final grades", "StudentRCGrades.html", function(doc)
      local n = marking_periods(doc) + #doc:select_one("script:contains('new Focus.FinalGrades')"):text()
      for _, li in ipairs(doc:select("#fg_tabs li.tab")) do n = n + #li:attr("data-target-mp") + #li:text() end
      return n + #doc:select_one("td.DrawHeader_right"):collapsed_text()
    end },
}

print(string.format("%-13s %7s %9s %9s %9s %9s %8s %8s %7s",
  "page", "bytes", "raw MB/s", "MB/s", "parse ms", "+sel ms", "vs raw", "selects", "calls"))
local total_parse, total_selects = 0, 0
for _, p in ipairs(pages) do
  local name, file, work = p[1], p[2], p[3]
  local s = read(file)
  local raw, parse, with = medians(
    function() html._parse_only(s) end,
    function() assert(html.parse(s)):close() end,
    function()
      local doc = assert(html.parse(s))
      work(doc)
      doc:close()
    end)
  -- count the select/select_one calls the parser makes
  local calls = 0
  local doc = assert(html.parse(s))
  local mt = getmetatable(doc:root()).__index
  local sel, one = mt.select, mt.select_one
  local dmt = getmetatable(doc).__index
  local dsel, done = dmt.select, dmt.select_one
  mt.select = function(...) calls = calls + 1 return sel(...) end
  mt.select_one = function(...) calls = calls + 1 return one(...) end
  dmt.select = function(...) calls = calls + 1 return dsel(...) end
  dmt.select_one = function(...) calls = calls + 1 return done(...) end
  work(doc)
  mt.select, mt.select_one, dmt.select, dmt.select_one = sel, one, dsel, done
  doc:close()
  total_parse, total_selects = total_parse + parse, total_selects + (with - parse)
  print(string.format("%-13s %7d %9.1f %9.1f %9.3f %9.3f %7.1f%% %7.1f%% %7d",
    name, #s, #s / raw / 1e6, #s / parse / 1e6, parse * 1e3, with * 1e3,
    (parse - raw) / raw * 100, (with - parse) / parse * 100, calls))
end
print(string.format("all pages: selects add %.1f%% over the parse (target <= 25%%)",
  total_selects / total_parse * 100))

-- Selector compilation: the same select with a cached selector, and with a
-- fresh selector string each time (trailing spaces differ: always compiled).
do
  local doc = assert(html.parse(read("StudentGBGrades__course_period_id=24101__mp326.html")))
  local row = doc:select_one("tr[id^=LOy_row]")
  local sel = "td.LO_field:not([colspan]) > div[onmouseover], td.LO_field img[src$='.png']"
  local variants = {}
  for k = 1, 300 do variants[k] = sel .. (" "):rep(k) end
  local i = 0
  local cached, fresh = medians(
    function() for _ = 1, 100 do row:select(sel) end end,
    function()
      for _ = 1, 100 do
        i = i % 300 + 1
        row:select(variants[i])
      end
    end)
  cached, fresh = cached / 100, fresh / 100
  print(string.format("one row:select(): %.2f us with the cached selector, %.2f us compiling it each time",
    cached * 1e6, fresh * 1e6))
  doc:close()
end

-- Hostile input is refused by the pre-scan before gumbo runs, or by gumbo's
-- CPU budget.
for _, h in ipairs {
  { "20k unclosed <span>", ("<span>"):rep(20000) },
  { "100k nested <div>", ("<div>"):rep(100000) .. ("</div>"):rep(100000) },
  { "8 MiB of </b> over 398 spans", "<div>" .. ("<span>"):rep(398) .. ("</b>"):rep(2000000) },
  { "1 MB of comments (parsed)", ("<!-- x - y -- z -->"):rep(55000) },
  -- formatting elements gumbo reopens (the pre-scan follows its active list)
  { "1 MB of <b><p><b></p></b>", ("<b><p><b></p></b>"):rep(58000) },
  -- no nesting at all, but gumbo checks each attribute against the tag's
  -- others (quadratic): the CPU budget stops it
  { "60k attributes on one tag", "<div " .. (function()
    local names = {}
    for i = 1, 60000 do names[i] = "a" .. i end
    return table.concat(names, " ")
  end)() .. ">" },
} do
  local t = os.clock()
  local doc, err = html.parse(h[2])
  print(string.format("%-30s %9d bytes: %s in %.2f ms", h[1], #h[2], doc and "parsed" or err,
    (os.clock() - t) * 1e3))
end

-- How far the pre-scan's estimate runs above the real nesting on sloppy
-- markup (random tags, a third of them never closed): the smallest max_depth
-- each document passes at, against the depth of gumbo's tree (every element,
-- implied ones included, counts there; the estimate leaves them out).
do
  local tags = { "div", "span", "b", "i", "font", "p", "a", "table", "tr", "td", "li", "ul", "em",
                 "strong", "small", "center", "form", "select", "option", "br", "img", "h1", "pre",
                 "u", "nobr", "tt", "big", "s" }
  local rng = 1
  local function random(n) -- a fixed LCG: the same documents on every run
    rng = (rng * 1103515245 + 12345) % 2147483648
    return rng % n + 1
  end
  local function tree_depth(node, d)
    local best = d
    for _, c in ipairs(node:children()) do best = math.max(best, tree_depth(c, d + 1)) end
    return best
  end
  local over, worst, docs = 0, 0, 400
  for _ = 1, docs do
    local parts, open = {}, {}
    for _ = 1, 50 + random(350) do
      local r = random(100)
      if r <= 45 then
        local tag = tags[random(#tags)]
        parts[#parts + 1] = "<" .. tag .. ">"
        open[#open + 1] = tag
      elseif r <= 80 and #open > 0 then
        parts[#parts + 1] = "</" .. table.remove(open, random(3) == 1 and random(#open) or #open) .. ">"
      else
        parts[#parts + 1] = "text "
      end
    end
    local s = table.concat(parts)
    local doc = assert(html.parse(s, { max_depth = 100000 }))
    local real = tree_depth(doc:select_one("html"), 1)
    doc:close()
    local lo, hi = 1, 100000 -- the smallest max_depth that passes
    while lo < hi do
      local mid = (lo + hi) // 2
      local d = html.parse(s, { max_depth = mid })
      if d then d:close(); hi = mid else lo = mid + 1 end
    end
    if lo > real then over = over + 1 end
    worst = math.max(worst, lo / real)
  end
  print(string.format("pre-scan on %d sloppy documents: %d estimated above the tree's depth, worst %.2fx",
    docs, over, worst))
end
