-- GET /api/openapi.json: the OpenAPI 3.1 document of what this server serves
-- (scripts/openapi/build.lua), built once per worker state.
local json = require "sis.json"
local build = require "openapi.build"

local cached

return {
  { method = "GET", path = "/api/openapi.json", handler = function()
    cached = cached or json.encode(build.document())
    return 200, cached, { ["Content-Type"] = "application/json", ["Cache-Control"] = "public, max-age=300" }
  end },
}
