-- sis openapi: the OpenAPI 3.1 document of the REST API (as GET
-- /api/openapi.json serves it), or the REST reference in Markdown.
local cli = require "lib.cli"
local build = require "openapi.build"
local json = require "sis.json"

local USAGE = [[
usage: sis openapi [--markdown]

Prints the OpenAPI 3.1 document of the REST API (what GET /api/openapi.json
serves; the route modules of SIS_ROUTES), or with --markdown the REST
reference (docs/rest.md).
]]

local cmd = cli.new("openapi", USAGE)
local args = { ... }
local markdown = false
for i = #args, 1, -1 do
  if args[i] == "--markdown" then markdown = true table.remove(args, i) end
end
local _, words = cmd.options(args, {})
if #words > 0 then cmd.usage_error("unexpected argument " .. words[1]) end
local doc = build.document()
if markdown then io.write(require("openapi.markdown").render(doc)) else cmd.print_json(doc) end
