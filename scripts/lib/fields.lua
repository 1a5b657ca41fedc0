-- Field paths of JSON-like answers: which fields an answer has, and how many
-- of the records that could hold a field do (sis check's found / missing).
--
--   fields.paths(value [, into])  → sorted list of paths: "courses.*.name"
--   fields.count(values, paths)   → { {path =, found =, of =}, ... }
--   fields.diff(a, b)             → nil when equal, else "path: a-value / b-value"
--
-- A path names fields from the top, joined by "."; "*" stands for every
-- element of an array and every value of a map keyed by ids (a map with a
-- key that starts with a digit: course ids, dates, marking periods, period
-- numbers beside "advisory"). Paths name
-- fields, so none ends with "*" ("mp_years", not "mp_years.*").
local json = require "sis.json"

local M = {}

local function keyed_by_ids(t)
  for k in pairs(t) do
    if type(k) == "number" or tostring(k):find("^%d") then return true end
  end
  return false
end

-- Calls visit(path, value) for every field under value (path "" = value).
local function walk(value, path, visit)
  visit(path, value)
  if type(value) ~= "table" then return end
  local ids = keyed_by_ids(value)
  for k, v in pairs(value) do
    local name = ids and "*" or tostring(k)
    walk(v, path == "" and name or path .. "." .. name, visit)
  end
end

function M.paths(value, into)
  local set = {}
  for _, p in ipairs(into or {}) do set[p] = true end
  walk(value, "", function(path)
    if path ~= "" and path:sub(-1) ~= "*" then set[path] = true end
  end)
  local list = {}
  for p in pairs(set) do list[#list + 1] = p end
  table.sort(list)
  return list
end

-- For each path: of = how many records could hold the field (the values
-- at its parent path, over all `values`), found = how many do.
function M.count(values, paths)
  local at = {} -- path → number of values there
  for _, value in ipairs(values) do
    walk(value, "", function(path) at[path] = (at[path] or 0) + 1 end)
  end
  local out = {}
  for i, p in ipairs(paths) do
    local parent = p:match("^(.*)%.[^.]+$") or ""
    out[i] = { path = p, found = at[p] or 0, of = at[parent] or 0 }
  end
  return out
end

local function show(v)
  if v == json.null then return "null" end
  if type(v) == "string" then return string.format("%q", #v > 60 and v:sub(1, 60) .. "..." or v) end
  if type(v) == "table" then return "a table" end
  return tostring(v) .. (math.type(v) == "float" and " (float)" or "")
end

-- The first difference between two decoded answers (integers and floats
-- differ; key order does not matter).
function M.diff(a, b, path)
  path = path or ""
  if type(a) ~= type(b) or (type(a) == "number" and math.type(a) ~= math.type(b)) or
     (type(a) ~= "table" and a ~= b) then
    return string.format("%s: %s / %s", path == "" and "(top)" or path, show(a), show(b))
  end
  if type(a) ~= "table" then return nil end
  local keys = {}
  for k in pairs(a) do keys[#keys + 1] = k end
  for k in pairs(b) do if a[k] == nil then keys[#keys + 1] = k end end
  table.sort(keys, function(x, y) return tostring(x) < tostring(y) end)
  for _, k in ipairs(keys) do
    local d = M.diff(a[k], b[k], path == "" and tostring(k) or path .. "." .. tostring(k))
    if d then return d end
  end
  return nil
end

return M
