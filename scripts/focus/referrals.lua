-- Focus discipline referrals (Modules.php?modname=Discipline/Referrals.php): the
-- page renders them with JavaScript from `var records = {...};` in a <script>.
-- Output: {referrals = {id → referral}}.
local codec = require "sis.codec"
local common = require "focus.common"
local json = require "sis.json"

local function records_json(doc)
  for _, script in ipairs(doc:select("script")) do
    local text = script:text()
    local from = select(2, text:find("var records%s*=%s*"))
    if from then
      local to = text:find(";%s*\n", from + 1) or text:find(";%s*$", from + 1)
        or common.fail("'var records = ' is not terminated by ';'")
      return text:sub(from + 1, to - 1)
    end
  end
  common.fail("no <script> holds 'var records = '")
end

local function truthy(v) return v ~= nil and v ~= json.null and v ~= "" and v ~= false end

-- A CUSTOM_ field's text: lists (multi-selects) give their first non-empty
-- element; numbers are written as such.
local function custom_text(v)
  if type(v) == "table" then
    for _, item in ipairs(v) do
      if truthy(item) then return custom_text(item) end
    end
    return nil
  end
  if type(v) == "number" then return tostring(math.tointeger(v) or v) end
  if type(v) == "string" then return v end
  return nil
end

-- CUSTOM_1 is the violation; the other violation is the first other CUSTOM_
-- field (in field order) with a real text, not "Other" (later fields hold
-- actions taken).
local function violations(record, ref)
  local keys = {}
  for k in pairs(record) do
    local n = type(k) == "string" and k:match("^CUSTOM_(%d+)$")
    if n then keys[#keys + 1] = { key = k, n = tonumber(n) } end
  end
  table.sort(keys, function(a, b) return a.n < b.n end)
  for _, f in ipairs(keys) do
    local text = custom_text(record[f.key])
    local clean = text and common.strip(text)
    if clean and clean:lower() ~= "other" and utf8.len(clean) and utf8.len(clean) >= 2 then
      if f.n == 1 then
        ref.violation = text
      elseif not ref.other_violation then
        ref.other_violation = text
      end
    end
  end
end

-- "<a href=...>Whitcombe, Jonah Peter</a>" → "Jonah Peter Whitcombe"
-- (tags end at the next '<' too: "<[^>]*>" rescanned the rest of the text
-- from every '<' that no '>' closes)
local function student_name(link)
  return common.person_name(codec.html_unescape((link:gsub("<[^<>]*>", ""))))
end

local function read_referral(id, record)
  if type(record) ~= "table" then common.fail("referral %s is not an object", id) end
  local ref = {
    id = id,
    creation_date = record.CREATION_DATE,
    display = record.DISPLAY == "Y",
    entry_date = record.ENTRY_DATE,
    last_updated = record.LAST_UPDATED,
    notification_sent = record.NOTIFICATION_SENT,
    processed = record.PROCESSED == "Y",
    school_year = record.SYEAR,
    school = record._school,
  }
  violations(record, ref)
  if truthy(record.SUSPENSION_BEGIN) then
    ref.suspension_begin, ref.suspension_end = record.SUSPENSION_BEGIN, record.SUSPENSION_END
  end
  if type(record._staff_name) == "string" then ref.teacher = common.person_name(record._staff_name) end
  if type(record._student) == "string" then ref.name = student_name(record._student) end
  if truthy(record._grade) then ref.grade = common.number_or_text(tostring(record._grade)) end
  return ref
end

return function(doc)
  local text = records_json(doc)
  local records, err = json.decode(text)
  if records == nil then common.fail("'var records' is not JSON (%s)", err) end
  if type(records) ~= "table" then common.fail("'var records' is not an object") end
  local referrals = {}
  if not json.is_array(records) or #records > 0 then -- PHP writes no referral as []
    for id, record in pairs(records) do
      if type(id) ~= "string" then common.fail("'var records' is not an object keyed by id") end
      referrals[id] = read_referral(id, record)
    end
  end
  return { referrals = referrals }
end
