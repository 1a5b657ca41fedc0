-- What the Focus and ScoDoc change detectors share (pure functions).
--
-- A snapshot is a table of sections; a section maps a stable key (string)
-- to a small record (a flat table of the values that matter). Comparing two
-- snapshots walks each section present on both sides in key order; a section
-- missing on either side (not fetched this time, or a failed fetch) yields no
-- event, so the first snapshot of a section is its baseline.
local json = require "sis.json"

local M = {}

local function equal(a, b)
  if a == b then return true end
  if type(a) ~= "table" or type(b) ~= "table" then
    -- 9 and 9.0 are the same grade
    return type(a) == "number" and type(b) == "number" and a == b
  end
  for k, v in pairs(a) do
    if not equal(v, b[k]) then return false end
  end
  for k in pairs(b) do
    if a[k] == nil then return false end
  end
  return true
end
M.equal = equal

local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys)
  return keys
end
M.sorted_keys = sorted_keys

-- Calls fn(key, old, new) for every key of section `name` whose record is new
-- (old nil), gone (new nil) or different, in key order; sections absent
-- from either snapshot are skipped.
function M.each_change(old_snap, new_snap, name, fn)
  local old, new = old_snap and old_snap[name], new_snap and new_snap[name]
  if type(old) ~= "table" or type(new) ~= "table" then return end
  local keys, seen = {}, {}
  for _, k in ipairs(sorted_keys(old)) do keys[#keys + 1], seen[k] = k, true end
  for _, k in ipairs(sorted_keys(new)) do
    if not seen[k] then keys[#keys + 1] = k end
  end
  table.sort(keys)
  for _, k in ipairs(keys) do
    if not equal(old[k], new[k]) then fn(k, old[k], new[k]) end
  end
end

-- An event without its id and time (the poller adds them).
function M.event(kind, key, identity, old, new)
  return { kind = kind, key = key, identity = identity,
           old = old == nil and json.null or old, new = new == nil and json.null or new }
end

-- Whether a subscription asking for `kinds` (nil or empty: every kind)
-- wants events of `kind`. An entry names a kind ("focus.absence.added"), a
-- family ("focus.absence" or "focus.absence.*") or everything ("*").
function M.wants(kinds, kind)
  if kinds == nil or #kinds == 0 then return true end
  for _, k in ipairs(kinds) do
    local family = k:gsub("%.%*$", "")
    if k == "*" or k == kind or kind:sub(1, #family + 1) == family .. "." then return true end
  end
  return false
end

-- The subset of `fields` of record r, with JSON nulls dropped (a small
-- record that compares and encodes the same however the answer spelled it).
function M.pick(r, fields)
  local out = {}
  for _, f in ipairs(fields) do
    local v = r[f]
    if v ~= nil and v ~= json.null then out[f] = v end
  end
  return out
end

-- Sections still missing from `new` are taken from `old`: a failed fetch
-- keeps what was known, so the change is reported when the fetch works again.
function M.merge(old, new)
  local out = {}
  for k, v in pairs(old or {}) do out[k] = v end
  for k, v in pairs(new) do out[k] = v end
  return out
end

return M
