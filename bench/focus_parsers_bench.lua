-- Focus parsers: median CPU time per page of html.parse + parser (focus.pages.parse,
-- marking periods and the login/not-found check included) and its ratio to
-- html.parse alone on the same page (target <= 1.5x) and to a gumbo-only parse
-- (html._parse_only: no pre-scan, no document). Prints figures, asserts nothing.
package.path = (os.getenv("SIS_TEST_ROOT") or ".") .. "/bench/?.lua;" .. package.path
local B = require "benchlib"
local html = require "sis.html"
local json = require "sis.json"
local pages = require "focus.pages"

local ROUNDS, BATCH = tonumber(os.getenv("BENCH_ROUNDS") or "31"), 10

local function read(name) return B.read("tests/fixtures/focus/pages/" .. name) end

-- Median CPU milliseconds of each function (B.medians: mean of BATCH calls,
-- sampled in turns).
local function medians(...)
  local result = { B.medians(ROUNDS, BATCH, ...) }
  for k, s in ipairs(result) do result[k] = s * 1000 end
  return table.unpack(result)
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

print(string.format("%-18s %7s %9s %9s %11s %9s %9s", "page", "bytes", "gumbo ms", "parse ms",
                    "+parser ms", "vs parse", "vs gumbo"))
for _, case in ipairs(CASES) do
  local name, file, ctx = case[1], case[2], case[3]
  local page = read(file)
  local ok, err = pages.parse(name, page, ctx)
  if not ok then
    print(name .. ": " .. err)
  else
    local raw, parse, full = medians(function() html._parse_only(page) end,
                                     function() html.parse(page):close() end,
                                     function() pages.parse(name, page, ctx) end)
    print(string.format("%-18s %7d %9.3f %9.3f %11.3f %8.2fx %8.2fx", name, #page, raw, parse, full,
                        full / parse, full / raw))
  end
end

local API = {
  { "exams", "APIEndpoint__finalGrades__requestGrades__all_SEM_exams.json" },
  { "final_grades", "APIEndpoint__finalGrades__requestGrades__-1.json" },
}
print(string.format("\n%-18s %7s %9s %11s %9s", "API answer", "bytes", "decode ms", "+mapping ms", "ratio"))
for _, case in ipairs(API) do
  local answer = read(case[2])
  local ok, err = pages.parse_api(case[1], answer)
  if not ok then
    print(case[1] .. ": " .. err)
  else
    local decode, full = medians(function() json.decode(answer) end,
                                 function() pages.parse_api(case[1], answer) end)
    print(string.format("%-18s %7d %9.3f %11.3f %8.2fx", case[1], #answer, decode, full, full / decode))
  end
end
