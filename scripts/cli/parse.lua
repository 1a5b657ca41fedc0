-- sis parse: run a Focus parser on a saved page and print its JSON.
local json = require "sis.json"
local pages = require "focus.pages"

local USAGE = [[
usage: sis parse focus/PAGE FILE.html [--id ID] [--picture PHOTO]
       sis parse focus/final_grades FILE.json KIND
       sis parse --help

Runs one Focus parser on a saved page (FILE "-" reads stdin) and prints the
JSON it gives (pretty, keys sorted), marking periods included.
  PAGE   portal course schedule calendar calendar_detail demographic address
         referrals absences final_grades_page
  KIND   exams final_grades semester_grades quarter_grades: the finalGrades
         API answer (POST focus/API/APIEndpoint.php) of that request
  --id ID          calendar_detail: the requested event/assignment id (the
                   popup does not show it)
  --picture PHOTO  demographic: the student photo file, included as base64
Exit status: 0 printed, 1 the page could not be parsed (message on stderr),
2 usage error.]]

local function usage_error(msg)
  io.stderr:write("sis parse: ", msg, "\n", USAGE, "\n")
  os.exit(2)
end

local function slurp(path)
  local f, err
  if path == "-" then f = io.stdin else f, err = io.open(path, "rb") end
  if not f then usage_error("cannot read " .. err) end
  local s = f:read("a")
  if f ~= io.stdin then f:close() end
  return s
end

local args = { ... }
local positional, ctx = {}, {}
local i = 1
while i <= #args do
  local a = args[i]
  if a == "-h" or a == "--help" then
    print(USAGE)
    os.exit(0)
  elseif a == "--id" or a == "--picture" then
    local v = args[i + 1] or usage_error(a .. " needs a value")
    if a == "--id" then ctx.id = v else ctx.picture = slurp(v) end
    i = i + 1
  elseif a:sub(1, 2) == "--" then
    usage_error("unknown option " .. a)
  else
    positional[#positional + 1] = a
  end
  i = i + 1
end

local parser = positional[1] or usage_error("missing the parser name (e.g. focus/portal)")
local page = parser:match("^focus/([%w_]+)$") or usage_error("unknown parser '" .. parser .. "'")
local file = positional[2] or usage_error("missing the file to parse")

local data, err
if page == "final_grades" then
  local kind = positional[3] or usage_error("focus/final_grades needs the KIND of answer")
  if not pages.is_api_kind(kind) then usage_error("unknown KIND '" .. kind .. "'") end
  if #positional > 3 then usage_error("too many arguments") end
  data, err = pages.parse_api(kind, slurp(file))
else
  if not pages.is_page(page) then usage_error("unknown parser '" .. parser .. "'") end
  if #positional > 2 then usage_error("too many arguments") end
  data, err = pages.parse(page, slurp(file), ctx)
end
if not data then
  io.stderr:write("sis parse: ", err, "\n")
  os.exit(1)
end
io.write(json.encode(data, { pretty = true }), "\n")
