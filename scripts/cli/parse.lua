-- sis parse: run a Focus parser on a saved page and print its JSON.
local cli = require "lib.cli"
local pages = require "focus.pages"
local registry = require "focus.registry"

local USAGE = [[
usage: sis parse focus/PAGE FILE.html [--id ID] [--picture PHOTO]
       sis parse focus/final_grades FILE.json KIND
       sis parse --help

Runs one Focus parser on a saved page (FILE "-" reads stdin) and prints the
JSON it gives (pretty, keys sorted), marking periods included.
  PAGE   %s
  KIND   exams final_grades semester_grades quarter_grades: the finalGrades
         API answer (POST focus/API/APIEndpoint.php) of that request
  --id ID          calendar_detail: the requested event/assignment id (the
                   popup does not show it)
  --picture PHOTO  demographic: the student photo file, included as base64
Exit status: 0 printed, 1 the page could not be parsed (message on stderr),
2 usage error. What the parser could not read is logged as warnings on
stderr (the JSON lacks those fields).
]]
local lines, line = {}, ""
for _, name in ipairs(registry.page_names()) do
  if #line + #name > 64 then lines[#lines + 1], line = line, "" end
  line = line == "" and name or line .. " " .. name
end
lines[#lines + 1] = line
USAGE = USAGE:format(table.concat(lines, "\n         "))

local cmd = cli.new("parse", USAGE, true)
local usage_error = cmd.usage_error

local function slurp(path)
  local f, err
  if path == "-" then f = io.stdin else f, err = io.open(path, "rb") end
  if not f then usage_error("cannot read " .. err) end
  local s = f:read("a")
  if f ~= io.stdin then f:close() end
  return s
end

local ctx, positional = cmd.options({ ... }, { id = true, picture = true })
if ctx.picture then ctx.picture = slurp(ctx.picture) end

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
if not data then cmd.die(err, 1) end
cmd.print_json(data)
