-- The Student page of the Focus of 2017-18 and later is a JavaScript
-- application (kidcontact/FocusSIS parser/StudentParser.java:47-125,
-- network/FocusApi.java:289-361): the page holds
--   var url = "<endpoint>";
--   var methods = {"EditController": {"getFieldData": "<token>", ...}, ...};
--   ... context: {"user_id": "417", "obj_info": {...}} ...
-- and its data comes from a multipart POST of `__call__` =
-- {"requests": [{controller, method, token, args}, ...]} to the endpoint,
-- answered by a JSON array of {"result": ...} (or {"error": ...}), one per request.
--
--   info, err = app.info(doc)            -- {url, methods, context} of the page's scripts
--   app.is_app(doc)                      -- the page is the application
--   requests, err = app.requests(name, info)   -- "demographic" | "address"
--   app.student_id(info)                 -- the internal id the calls take
local common = require "focus.common"
local json = require "sis.json"

local text_of = common.value_text

local M = {}

-- Index of the '}' closing the JSON object that starts at s[i] ('{'), strings
-- and their escapes skipped; nil when it does not close. One pass, linear.
local function object_end(s, i)
  local depth, j, n = 0, i, #s
  while j <= n do
    local at = s:find('[{}"]', j)
    if not at then return nil end
    local ch = s:sub(at, at)
    if ch == '"' then
      local k = at + 1
      while true do -- the closing quote: one not escaped by an odd run of backslashes
        local q = s:find('"', k, true)
        if not q then return nil end
        local b = q - 1
        while s:byte(b) == 92 do b = b - 1 end
        if (q - 1 - b) % 2 == 0 then
          j = q + 1
          break
        end
        k = q + 1
      end
    else
      depth = depth + (ch == "{" and 1 or -1)
      if depth == 0 then return at end
      j = at + 1
    end
  end
  return nil
end

-- The JSON object right after the first match of `prefix_pattern` in text,
-- decoded; nil when absent or not JSON. (Only the first: a page holds each
-- once, and trying every later one could scan hostile text quadratically.)
local function object_after(text, prefix_pattern)
  local _, e = text:find(prefix_pattern .. "{")
  if not e then return nil end
  local close = object_end(text, e)
  local value = close and json.decode(text:sub(e, close))
  return type(value) == "table" and value or nil
end

local function scripts(doc)
  local out = {}
  for i, s in ipairs(doc:select("script")) do out[i] = s:text() end
  return out
end

function M.info(doc)
  local info = {}
  for _, text in ipairs(scripts(doc)) do
    if text:find("methods", 1, true) or text:find("context", 1, true) then
      info.url = info.url or text:match('var%s+url%s*=%s*"([^"]*)"')
      info.methods = info.methods or object_after(text, "var%s+methods%s*=%s*")
      info.context = info.context or object_after(text, "context%s*:%s*")
    end
  end
  if not info.methods then return nil, "no 'var methods = {...}' (the application's method tokens)" end
  if not info.context then return nil, "no 'context: {...}' (the application's student record)" end
  if not info.url or info.url == "" then return nil, "no 'var url = \"...\"' (the application's endpoint)" end
  return info
end

-- The Student application rather than the HTML pages of 2016-17.
function M.is_app(doc)
  for _, text in ipairs(scripts(doc)) do
    if text:find("var%s+methods%s*=") and text:find("context%s*:") then return true end
  end
  return false
end


-- The internal student id the application's calls take (user_id, else
-- obj_info.student_id), as a JSON number when it is digits.
function M.student_id(info)
  local ctx = info.context
  local id = text_of(ctx.user_id) or text_of(type(ctx.obj_info) == "table" and ctx.obj_info.student_id)
  if id and id:find("^%d+$") then return math.tointeger(tonumber(id)) or id end
  return id
end

-- Field categories EditController.getFieldData is asked for: the general
-- fields, then two custom-field categories (FocusApi.java:301-303).
local CATEGORIES = { "general", "9", "6" }

local CALLS = {
  demographic = function(id)
    local out = {}
    for i, cat in ipairs(CATEGORIES) do
      out[i] = { "EditController", "cache:getFieldData", { cat, "SISStudent", id } }
    end
    return out
  end,
  address = function(id)
    return { { "AddressController", "getAddresses", { id } }, { "AddressController", "getContacts", { id } } }
  end,
}

-- The `requests` of the __call__ for a page ("demographic", "address"),
-- each with the token the page gave for it. → list | nil, err
function M.requests(name, info)
  local id = M.student_id(info)
  if id == nil then return nil, "the application's context has no user_id nor obj_info.student_id" end
  local out = {}
  for i, call in ipairs(CALLS[name](id)) do
    local controller, method = call[1], call[2]
    local plain = method:gsub("^cache:", "") -- the page keys tokens by the plain method name
    local tokens = info.methods[controller]
    local token = type(tokens) == "table" and tokens[plain]
    if type(token) ~= "string" then
      return nil, string.format("the page gives no token for %s.%s", controller, plain)
    end
    out[i] = { controller = controller, method = method, token = token, args = json.array(call[3]) }
  end
  return out
end

return M
