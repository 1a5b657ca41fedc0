-- Reads a ScoDoc 7 XML answer (a sis.xml element tree) into the shape of
-- the same function's JSON answer, guided by its schema (scodoc/schema.lua),
-- so that one normaliser serves both formats. ScoDoc's XML writers (jaxml,
-- GenTable) put the same data in these places:
--   scalar field   an attribute key="v", else a child <key value="v"/>,
--                  else the text of a child <key>v</key>
--   object field   the first child <key .../>
--   array field    every child <key .../>; scalars as <key code="v"/>
--   top-level list the children of the wrapper (<formation_list>, <table>...)
-- None values are simply absent in the XML: the normaliser makes them null.
local M = {}

local function text(el)
  local parts = {}
  for _, c in ipairs(el) do
    if type(c) == "string" then parts[#parts + 1] = c end
  end
  return table.concat(parts)
end

local function first_child(el, tag)
  for _, c in ipairs(el) do
    if type(c) == "table" and c.tag == tag then return c end
  end
end

local function cell(c) return c.attrs.value or c.attrs.code or text(c) end

local function scalar(el, key)
  local v = el.attrs[key]
  if v ~= nil then return v end
  local c = first_child(el, key)
  if c then return cell(c) end
end

local map

local function item(schema, c)
  if type(schema) == "string" then return cell(c) end
  return map(schema, c)
end

local function object(schema, el)
  local t = {}
  for k, ft in pairs(schema.fields) do
    if schema.xml_text == k then
      t[k] = text(el)
    elseif type(ft) == "string" then
      t[k] = scalar(el, k)
    elseif ft.kind == "object" then
      local c = first_child(el, k)
      t[k] = c and map(ft, c)
    else
      local items = {}
      for _, c in ipairs(el) do
        if type(c) == "table" and c.tag == k then items[#items + 1] = item(ft.item, c) end
      end
      t[k] = #items > 0 and items or nil -- absent: the schema may derive it
    end
  end
  if schema.others or schema.patterns then -- keys outside the fixed fields
    for name, v in pairs(el.attrs) do
      if schema.fields[name] == nil then t[name] = v end
    end
    for _, c in ipairs(el) do
      if type(c) == "table" and schema.fields[c.tag] == nil and t[c.tag] == nil then
        t[c.tag] = cell(c)
      end
    end
  end
  return t
end

function map(schema, el)
  if schema.kind == "object" then return object(schema, el) end
  local items = {}
  for _, c in ipairs(el) do
    if type(c) == "table" then items[#items + 1] = item(schema.item, c) end
  end
  return items
end

-- tree(schema, root) -> the JSON-shaped tree of strings for normalise.apply.
M.tree = map

return M
