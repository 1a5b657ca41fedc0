-- Focus addresses & contacts (Modules.php?modname=Students/Student.php&include=Address):
-- the student's address and phone, and every contact with its phones and address.
local common = require "focus.common"
local json = require "sis.json"

local NAME_CELL = 'td[title="Click to edit this contact."]'
local INFO_TABLE = 'table[colspan="2"]'
local ADDRESS_CELL = 'td[rowspan="2"]'

local ADDRESS_KEYS = { "address", "apt", "city", "state", "zip" }

-- An apartment shown as "-" (or " &nbsp;-&nbsp;") means none.
local function is_none(v) return common.strip(v) == "-" or common.is_blank(v) end

-- "Label: value" → value (everything after the first ": ").
local function labelled(tr)
  local text = tr:text()
  local at = text:find(": ", 1, true) or common.fail("address row '%s' has no 'Label: value'", text)
  return text:sub(at + 2)
end

local function read_student(doc, out)
  local holder = common.need(doc, "table#main_address_holder")
  local rows = common.need(holder, "table"):select("tr")
  if #rows < 6 then common.fail("student address table has %d rows, expected 6", #rows) end
  for i, key in ipairs(ADDRESS_KEYS) do
    local v = labelled(rows[i])
    if key ~= "apt" or not is_none(v) then out[key] = v end
  end
  out.phone = common.phone(labelled(rows[6]))
end

-- The part of the page that belongs to one contact: the largest ancestor of its
-- name cell that holds no other contact's name cell.
local function contact_scope(name_cell)
  local scope = name_cell
  while true do
    local up = scope:parent()
    if not up or #up:select(NAME_CELL) > 1 then return scope end
    scope = up
  end
end

local function read_contact(name_cell)
  local tds = name_cell:select("td")
  if #tds < 4 then common.fail("contact name table has %d cells, expected 4", #tds) end
  local c = {
    relationship = common.strip(tds[1]:text()):lower(),
    name = tds[2]:text() .. " " .. tds[3]:text(),
    email = tds[4]:text(),
  }
  local scope = contact_scope(name_cell)
  local info = scope:select_one(INFO_TABLE)
  for _, tr in ipairs(info and info:select("tr") or {}) do
    local cells = tr:select("td")
    local label, v = cells[1] and cells[1]:text(), cells[2] and cells[2]:text()
    if v then
      if label == "Cell Phone" or label == "Cell" then
        c.cell_phone = common.phone(v)
      elseif label == "Home Phone" or label == "Home" then
        c.home_phone = common.phone(v)
      elseif label == "Private Email" then
        c.private_email = v
      end
    end
  end
  local where = scope:select_one(ADDRESS_CELL)
  local rows = where and where:select("tr") or {}
  for i, key in ipairs(ADDRESS_KEYS) do
    local cells = rows[i] and rows[i]:select("td")
    local v = cells and cells[2] and cells[2]:text()
    if v and (key ~= "apt" or not is_none(v)) then c[key] = v end
  end
  return c
end

return function(doc)
  local out = { contacts = json.array() }
  read_student(doc, out)
  for i, name_cell in ipairs(doc:select(NAME_CELL)) do out.contacts[i] = read_contact(name_cell) end
  return out
end
