-- Focus addresses & contacts (Modules.php?modname=Students/Student.php&include=Address):
-- the student's address and phone, and every contact with its phones and
-- address. Either generation, recognised from the page: the 2016-17 HTML, or
-- (2017-18 on) the Student JavaScript application, whose AddressController
-- getAddresses / getContacts answers the caller fetched and passes as ctx.app
-- (focus.client.student_app; FocusSIS parser/AddressParser.java).
local common = require "focus.common"
local json = require "sis.json"
local student_app = require "focus.student_app"

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

-- Contact detail titles → keys (both generations).
local DETAILS = { ["Cell Phone"] = "cell_phone", Cell = "cell_phone", ["Home Phone"] = "home_phone",
                  Home = "home_phone", ["Private Email"] = "private_email" }

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
      local key = DETAILS[label]
      if key then c[key] = key == "private_email" and v or common.phone(v) end
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

---------------------------------------------------------------------------
-- 2017-18 on: the Student application

local text_of = common.value_text

-- address, apt, city, state, zip of an address record into t.
local function copy_address(a, t)
  t.address, t.city, t.state, t.zip = text_of(a.address), text_of(a.city), text_of(a.state), text_of(a.zipcode)
  local apt = text_of(a.address2)
  if apt and not is_none(apt) then t.apt = apt end
end

local function app_contact(c, addresses, i)
  local names = {}
  for _, k in ipairs { "first_name", "middle_name", "last_name" } do
    local v = text_of(c[k])
    if v and not common.is_blank(v) then names[#names + 1] = v end
  end
  local out = {
    relationship = common.strip(text_of(c._student_relation) or ""):lower(),
    name = common.collapse(table.concat(names, " ")),
    email = text_of(c.email) or "",
  }
  local details = type(c._details) == "table" and c._details or {}
  local ids = {}
  for id in pairs(details) do ids[#ids + 1] = id end
  table.sort(ids, function(a, b) return tostring(a) < tostring(b) end)
  for _, id in ipairs(ids) do
    local d = details[id]
    local key = type(d) == "table" and DETAILS[common.collapse(text_of(d.title) or "")]
    local v = key and text_of(d.value)
    if v and not common.is_blank(v) then out[key] = key == "private_email" and v or common.phone(v) end
  end
  local where = addresses[text_of(c._address_id) or ""]
  if where then
    copy_address(where, out)
  elseif c._address_id ~= nil and c._address_id ~= json.null then
    common.warn { field = "contacts.*.address", row = i, label = "_address_id",
                  seen = text_of(c._address_id), message = "no address with this id" }
  end
  return out
end

local function from_app(ctx)
  local answer = ctx.app
  if type(answer) ~= "table" then
    common.fail("the Student page is the JavaScript application: its addresses come from its "
      .. "AddressController calls, which the service makes (sis focus address)")
  end
  local list = type(answer[1]) == "table" and answer[1].result
  local people = type(answer[2]) == "table" and answer[2].result
  if type(list) ~= "table" then common.fail("the AddressController getAddresses answer has no result list") end
  if type(people) ~= "table" then common.fail("the AddressController getContacts answer has no result list") end
  local addresses = {}
  for _, a in ipairs(list) do
    if type(a) == "table" and text_of(a.address_id) then addresses[text_of(a.address_id)] = a end
  end
  local out = { contacts = json.array() }
  local home = list[1] -- the student's own address comes first (FocusSIS AddressParser.java:30)
  if type(home) ~= "table" then common.fail("the student has no address in the getAddresses answer") end
  copy_address(home, out)
  local phone = text_of(home.phone)
  if phone and not common.is_blank(phone) then out.phone = common.phone(phone) end
  for i, c in ipairs(people) do
    if type(c) == "table" then out.contacts[#out.contacts + 1] = app_contact(c, addresses, i) end
  end
  return out
end

return function(doc, ctx)
  if student_app.is_app(doc) then return from_app(ctx) end
  local out = { contacts = json.array() }
  read_student(doc, out)
  for i, name_cell in ipairs(doc:select(NAME_CELL)) do out.contacts[i] = read_contact(name_cell) end
  return out
end
