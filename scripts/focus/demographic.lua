-- Focus student demographics (Modules.php?modname=Students/Student.php, General
-- Info tab). ctx.picture: the photo's bytes (fetched by the caller from
-- focus.pages.photo_src) → `picture`, base64.
local codec = require "sis.codec"
local common = require "focus.common"

-- table.remove_me holds label/value cell pairs; values in this order.
local FIELDS = { "birthday", "level", "gender", "nickname", "email", "locker", "locker_combo",
                 "bus", "cumulative_file", "medical_record_status", "photo_auth", "student_mobile" }

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

local function read_fields(doc, out)
  local tds = common.need(doc, "table.remove_me"):select("td")
  for i, key in ipairs(FIELDS) do
    local td = tds[2 * i]
    if td then
      local v
      if key == "birthday" then
        v = common.proper_date(td:comments()[1]) or common.iso_date(td:text())
      else
        v = td:text()
      end
      if v and v ~= "" and v ~= "-" then out[key] = (CONVERT[key] or tostring)(v) end
    end
  end
  -- "14/22" or "14 22": arrival / dismissal; one number serves both; 0 = no bus
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

return function(doc, ctx)
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
  if ctx.picture then out.picture = codec.base64_encode(ctx.picture) end
  return out
end
