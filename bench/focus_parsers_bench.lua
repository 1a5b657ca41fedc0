-- Focus parsers: median CPU time per page of html.parse + parser (focus.pages.parse,
-- marking periods included) and its ratio to html.parse alone on the same page
-- (target <= 1.5x). Prints figures, asserts nothing.
local html = require "sis.html"
local json = require "sis.json"
local pages = require "focus.pages"

local root = (os.getenv("SIS_TEST_ROOT") or ".") .. "/tests/fixtures/focus/pages/"
local SAMPLES, BATCH = tonumber(os.getenv("BENCH_SAMPLES") or "31"), 5

local function read(name)
  local f = assert(io.open(root .. name, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

-- Median over SAMPLES of the mean CPU time of BATCH calls, in milliseconds.
local function median_ms(fn)
  for _ = 1, BATCH do fn() end -- warm-up
  local times = {}
  for i = 1, SAMPLES do
    collectgarbage()
    local t0 = os.clock()
    for _ = 1, BATCH do fn() end
    times[i] = (os.clock() - t0) / BATCH * 1000
  end
  table.sort(times)
  return times[(SAMPLES + 1) // 2]
end

local CASES = {
  { "portal", "Portal__mp326.html" },
  { "course", "StudentGBGrades__course_period_id=24101__mp326.html" },
  { "schedule", "Schedule.html" },
  { "calendar", "Calendar__2017-02.html" },
  { "calendar_detail", "Calendar_detail__assignment_id=93104.html", { id = "93104" } },
  { "demographic", "Student__General_Info.html" },
  { "address", "Student__include=Address.html" },
  { "referrals", "Referrals.html" },
  { "absences", "StudentSummary.html" },
  { "final_grades_page", "StudentRCGrades.html" },
}

-- A gumbo-only parse (no DOM wrapping), when the html module offers one.
local raw_parse = html.parse_raw or html.gumbo_parse

print(string.format("%-18s %7s %10s %12s %6s%s", "page", "bytes", "parse ms", "+parser ms", "ratio",
                    raw_parse and "  vs raw gumbo" or ""))
for _, case in ipairs(CASES) do
  local name, file, ctx = case[1], case[2], case[3]
  local page = read(file)
  assert(pages.parse(name, page, ctx))
  local parse = median_ms(function() html.parse(page) end)
  local full = median_ms(function() pages.parse(name, page, ctx) end)
  local extra = ""
  if raw_parse then extra = string.format("  %5.2fx", full / median_ms(function() raw_parse(page) end)) end
  print(string.format("%-18s %7d %10.3f %12.3f %5.2fx%s", name, #page, parse, full, full / parse, extra))
end

local API = {
  { "exams", "APIEndpoint__finalGrades__requestGrades__all_SEM_exams.json" },
  { "final_grades", "APIEndpoint__finalGrades__requestGrades__-1.json" },
}
print(string.format("\n%-18s %7s %10s %12s %6s", "API answer", "bytes", "decode ms", "+mapping ms", "ratio"))
for _, case in ipairs(API) do
  local answer = read(case[2])
  assert(pages.parse_api(case[1], answer))
  local decode = median_ms(function() json.decode(answer) end)
  local full = median_ms(function() pages.parse_api(case[1], answer) end)
  print(string.format("%-18s %7d %10.3f %12.3f %5.2fx", case[1], #answer, decode, full, full / decode))
end
if not raw_parse then print("\n(sis.html offers no gumbo-only parse: no raw-gumbo ratio)") end
