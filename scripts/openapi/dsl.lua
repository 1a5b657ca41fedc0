-- A few constructors for the JSON Schemas (2020-12, as OpenAPI 3.1 uses
-- them) of the REST reference, so the schema modules stay short.
local json = require "sis.json"

local S = {}

S.str = { type = "string" }
S.int = { type = "integer" }
S.num = { type = "number" }
S.bool = { type = "boolean" }
S.date = { type = "string", format = "date" }
S.datetime = { type = "string", format = "date-time" }
S.any = {}

function S.nullable(s)
  if s["$ref"] then return { oneOf = json.array { s, { type = "null" } } } end
  local out = {}
  for k, v in pairs(s) do out[k] = v end
  local types = type(s.type) == "table" and { table.unpack(s.type) } or { s.type }
  types[#types + 1] = "null"
  out.type = json.array(types)
  return out
end

function S.either(...) return { type = json.array { ... } } end
function S.enum(...) return { type = "string", enum = json.array { ... } } end
function S.arr(item) return { type = "array", items = item } end
function S.ref(name) return { ["$ref"] = "#/components/schemas/" .. name } end
function S.describe(s, text)
  local out = {}
  for k, v in pairs(s) do out[k] = v end
  out.description = text
  return out
end

-- An object: props (name -> schema); opts.required (array of names, or
-- true: every property), opts.closed (no other property), opts.extra (the
-- schema of other properties).
function S.obj(props, opts)
  opts = opts or {}
  local out = { type = "object", properties = props }
  local req = opts.required
  if req == true then
    req = {}
    for k in pairs(props) do req[#req + 1] = k end
    table.sort(req)
  end
  if req and #req > 0 then out.required = json.array(req) end
  if opts.closed then out.additionalProperties = false end
  if opts.extra then out.additionalProperties = opts.extra end
  return out
end

-- An object keyed by ids: { "<id>": value }.
function S.map(value) return { type = "object", additionalProperties = value } end

-- Copies a and adds b's properties (schemas that extend another).
function S.extend(a, b, required)
  local props = {}
  for k, v in pairs(a.properties) do props[k] = v end
  for k, v in pairs(b) do props[k] = v end
  local req = {}
  for _, k in ipairs(a.required or {}) do req[#req + 1] = k end
  for _, k in ipairs(required or {}) do req[#req + 1] = k end
  return S.obj(props, { required = req })
end

S.error = S.ref("Error")

return S
