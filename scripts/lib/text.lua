-- Text helpers shared by the Focus and ScoDoc scripts.
--   local text = require "lib.text"
--   text.strip("  a b \u{a0}") --> "a b"
local M = {}

local function is_space_byte(b) return b == 32 or (b >= 9 and b <= 13) or b == 0xC2 or b == 0xA0 end

-- Trims ASCII whitespace and NBSP at both ends (Python's str.strip() does).
-- Linear: the front is skipped with find, the end byte by byte (a pattern
-- such as "^%s*(.*%S)" backtracks quadratically over a cell of blanks).
function M.strip(s)
  if s == "" or not (is_space_byte(s:byte(1)) or is_space_byte(s:byte(-1))) then return s end
  local i = 1
  while true do
    i = s:find("%S", i)
    if not i then return "" end
    if s:byte(i) ~= 0xC2 or s:byte(i + 1) ~= 0xA0 then break end
    i = i + 2
  end
  -- a non-blank byte at i: the loop below stops before it
  local j = #s
  while true do
    local b = s:byte(j)
    if b == 32 or (b >= 9 and b <= 13) then
      j = j - 1
    elseif b == 0xA0 and s:byte(j - 1) == 0xC2 then
      j = j - 2
    else
      break
    end
  end
  return s:sub(i, j)
end

return M
