-- Text helpers shared by the Focus and ScoDoc scripts.
--   local text = require "lib.text"
--   text.strip("  a b \u{a0}") --> "a b"
local M = {}

-- The bytes that may start or end a blank: ASCII whitespace, NBSP's two
-- (a table, not a function: strip runs on every cell of every page).
local EDGE = { [9] = true, [10] = true, [11] = true, [12] = true, [13] = true, [32] = true,
               [0xC2] = true, [0xA0] = true }
local byte = string.byte

-- Trims ASCII whitespace and NBSP at both ends (Python's str.strip() does).
-- Linear: the front is skipped with find, the end byte by byte (a pattern
-- such as "^%s*(.*%S)" backtracks quadratically over a cell of blanks).
function M.strip(s)
  local first = byte(s, 1)
  if not first or not (EDGE[first] or EDGE[byte(s, -1)]) then return s end
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
