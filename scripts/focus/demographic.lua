-- Focus student demographics (Modules.php?modname=Students/Student.php),
-- in either generation, recognised from the page:
--   2016-17: the General Info tab's HTML tables;
--   2017-18 and later: the Student JavaScript application (focus/student_app.lua):
--     the name, id, grade and birthdate in its `context`, the fields in the
--     answers of its EditController cache:getFieldData calls, which the caller
--     fetched and passes as ctx.app (focus.client.student_app).
-- ctx.picture: the photo's bytes (fetched by the caller from
-- focus.pages.photo_src) → `picture`, base64.
local codec = require "sis.codec"
local common = require "focus.common"
local json = require "sis.json"
local student_app = require "focus.student_app"

-- table.remove_me holds label/value cell pairs; values in this order (2016-17).
local FIELDS = { "birthday", "level", "gender", "nickname", "email", "locker", "locker_combo",
                 "bus", "cumulative_file", "medical_record_status", "photo_auth", "student_mobile" }

-- The same fields by their label (the application's field titles).
local LABELS = {
  birthday = "Birthdate", level = "Level", gender = "Gender", nickname = "Nickname", email = "Email",
  locker = "Locker", locker_combo = "Locker Combination", bus = "Bus", cumulative_file = "Cumulative File",
  medical_record_status = "Medical Record Status", photo_auth = "Photo Authorization",
  student_mobile = "Student Mobile",
}

local CONVERT = {
  level = common.number_or_text,
  locker = common.number_or_text,
  gender = string.lower,
  cumulative_file = function(v) return v == "Have file" end,
  medical_record_status = function(v)
    if v == "Need emergency contact form" then return "need emergency form" end
    return common.collapse(v):lower()
  end,
  photo_auth = function(v) return v == "Y" end,
  student_mobile = common.phone,
}

local function set(out, key, v)
  if v and v ~= "" and v ~= "-" then out[key] = (CONVERT[key] or tostring)(v) end
end

-- "14/22" or "14 22": arrival / dismissal; one number serves both; 0 = no bus
local function split_bus(out)
  local bus = out.bus
  out.bus = nil
  if bus and bus ~= "0" then
    -- (no "%s*" on both sides of an optional separator: that backtracks quadratically)
    local arrival, dismissal = common.strip(bus):match("^([^%s/]+)[%s/]+([^%s/]+)$")
    arrival = arrival or common.strip(bus)
    out.arrival_bus = common.number_or_text(arrival)
    out.dismissal_bus = common.number_or_text(dismissal or arrival)
  end
end

---------------------------------------------------------------------------
-- 2016-17: HTML

local function read_fields(doc, out)
  local tds = common.need(doc, "table.remove_me"):select("td")
  for i, key in ipairs(FIELDS) do
    local td = tds[2 * i]
    if td then
      if key == "birthday" then
        set(out, key, common.proper_date(td:comments()[1]) or common.iso_date(td:text()))
      else
        set(out, key, td:text())
      end
    end
  end
end

local function from_html(doc)
  -- the first row of the first table of div.scroll_contents: [photo | general info]
  local tbl = common.need(common.need(doc, "div.scroll_contents"), "table")
  local cells = common.cells(common.need(tbl, "tr"))
  if #cells < 2 then common.fail("student header row has %d cells, expected 2", #cells) end
  local rows = cells[2]:select("tr")
  if #rows < 2 then common.fail("student info table has %d rows, expected 2", #rows) end
  local function row(i)
    local tds = rows[i]:select("td")
    if #tds < 3 then common.fail("student info row %d has %d cells, expected 3", i, #tds) end
    local values = {}
    for j = 1, 3 do values[j] = common.text_without(tds[j], "small") end
    return values
  end
  local first, second = row(1), row(2)
  local out = {
    name = common.collapse(first[1]),
    id = common.number_or_text(common.strip(first[2])),
    grade = common.number_or_text(common.strip(first[3])),
    username = second[1],
    pass_length = utf8.len(second[2]) or #second[2],
    force_pass_change = second[3] ~= "No",
  }
  read_fields(doc, out)
  return out
end

---------------------------------------------------------------------------
-- 2017-18 on: the Student application

local text_of = common.value_text

-- A field's value as shown: the text of its selected option, if it has options.
local function shown(f)
  local v = text_of(f.value)
  if v and type(f.options) == "table" then
    for _, o in ipairs(f.options) do
      if type(o) == "table" and text_of(o.value) == v and text_of(o.text) then return text_of(o.text) end
    end
  end
  return v
end

-- Every field of every answered category by its title (first one wins).
local function fields_by_title(answer)
  local fields = {}
  for _, entry in ipairs(answer) do
    local result = type(entry) == "table" and entry.result
    for _, f in ipairs(type(result) == "table" and result or {}) do
      if type(f) == "table" and type(f.title) == "string" then
        local title = common.collapse(f.title)
        if fields[title] == nil then fields[title] = shown(f) or json.null end
      end
    end
  end
  return fields
end

local function from_app(doc, ctx)
  local info, why = student_app.info(doc)
  if not info then common.fail("the Student application page has %s", why) end
  if type(ctx.app) ~= "table" then
    common.fail("the Student page is the JavaScript application: its fields come from its "
      .. "EditController calls, which the service makes (sis focus demographic)")
  end
  local fields = fields_by_title(ctx.app)
  local function field(label, key)
    local v = fields[label]
    if v == nil then
      common.warn { field = key, label = label, message = "no field with this title in the application's answers" }
      return nil
    end
    return v ~= json.null and v or nil
  end
  local obj = type(info.context.obj_info) == "table" and info.context.obj_info or {}
  local out = {}
  local names = {}
  for _, label in ipairs { "First Name", "Middle Name", "Last Name" } do
    local v = fields[label]
    if type(v) == "string" and not common.is_blank(v) then names[#names + 1] = v end
  end
  if #names > 0 then out.name = common.collapse(table.concat(names, " ")) end
  local id = fields["Student ID"]
  id = type(id) == "string" and id or text_of(obj.student_id) or text_of(info.context.user_id)
  if id then out.id = common.number_or_text(common.strip(id)) end
  -- the grade: the highest of the enrolments (FocusSIS StudentParser.java:61-68)
  local grade
  for _, e in ipairs(type(obj.enrollment) == "table" and obj.enrollment or {}) do
    local g = type(e) == "table" and common.number(text_of(e.grade_level))
    if g and (not grade or g > grade) then grade = g end
  end
  out.grade = grade
  out.username = field("Username", "username")
  local password = field("Password", "pass_length")
  if password then out.pass_length = utf8.len(password) or #password end
  local force = field("Force Password Change", "force_pass_change")
  if force then out.force_pass_change = force == "Yes" or force == "Y" end
  for key, label in pairs(LABELS) do
    local v = fields[label]
    if key == "birthday" then
      v = common.iso_date(text_of(obj.birthdate)) or (type(v) == "string" and common.iso_date(v) or nil)
    end
    set(out, key, type(v) == "string" and v or nil)
  end
  return out
end

return function(doc, ctx)
  local out
  if student_app.is_app(doc) then
    out = from_app(doc, ctx)
  else
    out = from_html(doc)
  end
  split_bus(out)
  if ctx.picture then out.picture = codec.base64_encode(ctx.picture) end
  return out
end
