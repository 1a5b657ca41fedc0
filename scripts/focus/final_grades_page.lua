-- Focus "Final Grades & GPA" page (Modules.php?force_package=SIS&modname=Grades/StudentRCGrades.php).
-- Focus serves the finalGrades API only after this page was opened; the page
-- hands its script what the API calls need, in either generation:
--   2016-17: new Focus.FinalGrades({"student_id":"417",...}) — the API key is
--     the one in Focus's JavaScript, the endpoint focus/API/APIEndpoint.php;
--   2018-04 on: Focus.API.allowAccess('finalGrades', '<student id>', '<HMAC
--     key>', null || "<...>") — a key per page (FocusSIS
--     FinalGradesPageParser.java:36); when the call names the endpoint
--     (legacy_API/APIEndpoint.php, where it moved in 2018-12) it is used.
-- → {student_id = "417" [, key = "<hex>"] [, endpoint = "focus/legacy_API/APIEndpoint.php"]}
-- (the id: any number of digits, quoted or not)
local common = require "focus.common"

-- The arguments of Focus.API.allowAccess( 'a', 'b', 'c', null || "d" ): the
-- quoted strings after it, up to its closing parenthesis (plain scans: no
-- pattern runs over the whole script).
local function allow_access(text)
  local at = text:find("Focus.API.allowAccess(", 1, true)
  if not at then return nil end
  local close = text:find(")", at, true)
  local call = text:sub(at, close or #text)
  local args = {}
  for quote, value in call:gmatch("(['\"])(.-)%1") do
    if quote then args[#args + 1] = value end
  end
  return args
end

return function(doc)
  for _, script in ipairs(doc:select("script")) do
    local text = script:text()
    local args = allow_access(text)
    if args then
      local id, key = args[2], args[3]
      if not (id and id:find("^%d+$")) then
        common.fail("Focus.API.allowAccess(...) gives no student id (second argument: '%s')", tostring(id))
      end
      if not (key and key:find("^%x+$")) then
        common.fail("Focus.API.allowAccess(...) gives no HMAC key (third argument)")
      end
      local out = { student_id = id, key = key }
      for _, a in ipairs(args) do
        local path = a:match("^/?(.-APIEndpoint%.php)$")
        if path then out.endpoint = (path:find("^focus/") and "" or "focus/") .. path end
      end
      return out
    end
    local id = text:match('"student_id"%s*:%s*"?(%d+)')
    if id then return { student_id = id } end
  end
  common.fail("no <script> holds '\"student_id\":'") -- (nor Focus.API.allowAccess(...))
end
