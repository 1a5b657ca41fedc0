-- Runs tests/lua/*_test.lua (or the files given as arguments) and prints one
-- line per test and a final "N passed, N failed" line. Exit status 1 on failure.
local root = os.getenv("SIS_TEST_ROOT") or "."
package.path = root .. "/tests/lua/?.lua;" .. package.path

local files = { ... }
if #files == 0 then
  local p = io.popen("ls " .. root .. "/tests/lua/*_test.lua")
  for f in p:lines() do files[#files + 1] = f end
  p:close()
end

local only = os.getenv("SIS_TEST_ONLY") -- run only tests whose name contains this

-- Every test file starts from the modules loaded now: helper modules such as
-- focus_fake hold the testlib instance of the file that loaded them, so they
-- must be loaded afresh (else the servers they start are never stopped).
local preloaded = {}
for name in pairs(package.loaded) do preloaded[name] = true end
local function unload_test_modules()
  for name in pairs(package.loaded) do
    if not preloaded[name] then package.loaded[name] = nil end
  end
end
local passed, failed = 0, 0
for _, file in ipairs(files) do
  unload_test_modules()
  local t = require "testlib"
  local short = file:match("([^/]+)$")
  local chunk, err = loadfile(file)
  local ok
  if chunk then ok, err = xpcall(chunk, debug.traceback) end
  if not chunk or not ok then
    failed = failed + 1
    print(string.format("not ok - %s: cannot load: %s", short, err))
  else
    for _, tc in ipairs(t.tests) do
      if not only or tc.name:find(only, 1, true) then
        local clock = os.clock()
        local tok, terr = xpcall(tc.fn, debug.traceback)
        if tok then
          passed = passed + 1
          print(string.format("ok - %s: %s (%.0f ms cpu)", short, tc.name, (os.clock() - clock) * 1000))
        else
          failed = failed + 1
          print(string.format("not ok - %s: %s\n    %s", short, tc.name,
            tostring(terr):gsub("\n", "\n    ")))
        end
      end
    end
  end
  for _, s in ipairs(t.servers) do s.stop() end
  collectgarbage()
end
print(string.format("%d passed, %d failed", passed, failed))
os.exit(failed == 0 and 0 or 1)
