-- Applies a schema (scodoc/schema.lua) to an answer decoded from ScoDoc's
-- JSON, or read from its XML by xml_map.lua: typed values, nulls, arrays
-- marked as arrays. The rules are documented in docs/scodoc.md.
local json = require "sis.json"
local codec = require "sis.codec"
local date = require "sis.date"
local text = require "lib.text"

local M = {}
local null = json.null

local function fail(path, msg) error({ path = path, msg = msg }, 0) end

local function is_missing(v) return v == nil or v == null end

-- A number from its lexeme: integers stay integers, decimals become floats.
-- No ScoDoc number is 40 characters long: longer text is text (and the
-- patterns below backtrack quadratically over a long run of digits).
local function number(s)
  local t = text.strip(s)
  if #t > 40 then return nil end
  if t:match("^[-+]?%d+$") then return math.tointeger(tonumber(t)) or tonumber(t) + 0.0 end
  if t:match("^[-+]?%d*%.?%d+[eE][-+]?%d+$") or t:match("^[-+]?%d*%.%d+$")
     or t:match("^[-+]?%d+%.%d*$") then
    return tonumber(t) + 0.0
  end
  return nil
end
M.number = number

local NO_VALUE = { [""] = true, ["-"] = true, ["NA"] = true }

local scalar = {}

function scalar.str(v, ctx, path)
  if type(v) == "number" then return math.type(v) == "integer" and string.format("%d", v) or tostring(v) end
  if type(v) ~= "string" then fail(path, "expected text, got " .. type(v)) end
  return ctx.unescape and codec.html_unescape(v) or v
end

function scalar.opt(v, ctx, path)
  if v == "" then return null end
  return scalar.str(v, ctx, path)
end

function scalar.num(v, ctx, path)
  if type(v) == "number" then return v end
  if type(v) ~= "string" then fail(path, "expected a number, got " .. type(v)) end
  if NO_VALUE[text.strip(v)] then return null end
  return number(v) or scalar.str(v, ctx, path)
end

function scalar.date(v, ctx, path)
  local s = scalar.str(v, ctx, path)
  if s == "" then return null end
  -- anything but a valid dd/mm/yyyy is kept as ScoDoc wrote it
  return s:match("^%d%d?/%d%d?/%d%d%d%d$") and date.parse(s, "dmy") or s
end

local HALF_DAYS = { ["1"] = "morning", ["0"] = "afternoon" }
function scalar.ampm(v, ctx, path)
  local s = scalar.str(v, ctx, path)
  return HALF_DAYS[s] or s
end

local BOOLS = { ["1"] = true, ["True"] = true, ["true"] = true,
                ["0"] = false, ["False"] = false, ["false"] = false, [""] = false, [1] = true, [0] = false }
function scalar.bool(v, _, path)
  if type(v) == "boolean" then return v end
  local b = BOOLS[v]
  if b == nil then fail(path, "expected a flag, got " .. tostring(v)) end
  return b
end

local walk

local function walk_object(schema, v, ctx, path)
  if is_missing(v) then return null end
  if type(v) ~= "table" or getmetatable(v) == json.array_mt or json.is_array(v) and #v > 0 then
    fail(path, "expected an object")
  end
  if schema.derive then schema.derive(v) end
  local out = json.object()
  for k, t in pairs(schema.fields) do
    local x = v[k]
    -- a GenTable's XML writes a None cell as value="": read its JSON null alike
    if x == null and schema.gentable then x = "" end
    out[k] = walk(t, x, ctx, path .. "." .. k)
  end
  if schema.others or schema.patterns then
    for k, x in pairs(v) do
      if schema.fields[k] == nil then
        local t = schema.others
        for _, p in ipairs(schema.patterns or {}) do
          if k:match(p[1]) then t = p[2] end
        end
        if t then out[k] = walk(t, x, ctx, path .. "." .. k) end
      end
    end
  end
  return out
end

local function walk_array(schema, v, ctx, path)
  local out = json.array()
  if is_missing(v) then return out end
  if type(v) ~= "table" or getmetatable(v) == json.object_mt or (next(v) ~= nil and v[1] == nil) then
    fail(path, "expected an array")
  end
  for i, x in ipairs(v) do
    out[i] = walk(schema.item, x, ctx, path .. "[" .. i .. "]")
  end
  return out
end

function walk(schema, v, ctx, path)
  if type(schema) == "string" then
    if is_missing(v) then return null end
    return scalar[schema](v, ctx, path)
  elseif schema.kind == "object" then
    return walk_object(schema, v, ctx, path)
  end
  return walk_array(schema, v, ctx, path)
end

local function top(schema, tree, ctx)
  -- a missing field is null, a missing answer is not an empty one
  if is_missing(tree) then fail("", "expected an " .. schema.kind .. ", got null") end
  return walk(schema, tree, ctx, "")
end

-- normalise(schema, tree [, opts]) -> value | nil, err
-- opts.unescape: decode HTML entities in text (ScoDoc's JSON of the
-- functions that pass their strings through quote_xml_attr).
function M.apply(schema, tree, opts)
  local ok, res = pcall(top, schema, tree, { unescape = opts and opts.unescape })
  if ok then return res end
  if type(res) == "table" and res.msg then
    local where = res.path == "" and "top level" or res.path:gsub("^%.", "")
    return nil, string.format("unexpected answer (%s: %s)", where, res.msg)
  end
  error(res, 0)
end

return M
