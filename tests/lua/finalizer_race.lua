-- A helper for tests of C code that walks a table: runs step() up to
-- `rounds` times while __gc finalizers keep adding keys ("x...") to tbl.
-- Finalizers run at any allocation; with the collector always running, some
-- run while the C code is in the middle of its walk. step() returns true to
-- stop early. Returns how many times a finalizer fired.
local M = {}

function M.run(tbl, rounds, step)
  local fired, active = 0, true
  local function arm()
    setmetatable({}, { __gc = function()
      if not active then return end -- the last one must not re-arm forever
      fired = fired + 1
      for i = 1, 200 do tbl["x" .. fired .. "_" .. i] = i end
      arm()
    end })
  end
  collectgarbage("incremental", 0, 1000, 0)
  local ok, err = pcall(function()
    for _ = 1, rounds do
      arm()
      if step() then break end
      for k in pairs(tbl) do if k:sub(1, 1) == "x" then tbl[k] = nil end end
    end
  end)
  active = false
  collectgarbage("incremental", 200, 100, 13) -- the defaults
  collectgarbage()
  if not ok then error(err, 0) end
  return fired
end

return M
