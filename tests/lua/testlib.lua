-- The test library used by every tests/lua/*_test.lua file.
--   local t = require "testlib"
--   t.test("name", function() t.eq(got, want) end)
-- Assertions raise; the runner counts a test as failed when its function raises.
local json = require "sis.json"

local t = { tests = {}, servers = {} }

t.root = os.getenv("SIS_TEST_ROOT") or "."
t.sis = os.getenv("SIS_BIN") or "build/sis"

function t.test(name, fn)
  t.tests[#t.tests + 1] = { name = name, fn = fn }
end

local function show(v)
  if type(v) == "string" then return string.format("%q", v) end
  if type(v) == "table" then
    local ok, s = pcall(json.encode, v)
    if ok then return #s > 400 and s:sub(1, 400) .. "..." or s end
  end
  return tostring(v) .. " (" .. (math.type(v) or type(v)) .. ")"
end
t.show = show

-- Deep equality that also tells integers from floats (JSON fidelity matters).
local function diff(a, b, path)
  if type(a) ~= type(b) then
    return string.format("%s: got %s, want %s", path, show(a), show(b))
  end
  if type(a) == "number" and math.type(a) ~= math.type(b) then
    return string.format("%s: got %s, want %s", path, show(a), show(b))
  end
  if type(a) ~= "table" then
    if a ~= b then return string.format("%s: got %s, want %s", path, show(a), show(b)) end
    return nil
  end
  for k, v in pairs(b) do
    local d = diff(a[k], v, path .. "." .. tostring(k))
    if d then return d end
  end
  for k, v in pairs(a) do
    if b[k] == nil then
      return string.format("%s.%s: unexpected %s", path, tostring(k), show(v))
    end
  end
  return nil
end
t.diff = diff

function t.eq(got, want, msg)
  local d = diff(got, want, "value")
  if d then error((msg and msg .. ": " or "") .. d, 2) end
end

function t.ok(v, msg)
  if not v then error(msg or "expected a true value", 2) end
  return v
end

function t.match(s, pattern, msg)
  if type(s) ~= "string" or not s:find(pattern) then
    error(string.format("%s%s does not match %q", msg and msg .. ": " or "", show(s), pattern), 2)
  end
end

-- fn must raise an error whose message matches pattern (plain substring if plain).
function t.raises(fn, pattern, plain)
  local ok, err = pcall(fn)
  if ok then error("expected an error matching " .. show(pattern), 2) end
  if pattern and not tostring(err):find(pattern, 1, plain) then
    error(string.format("error %s does not match %s", show(tostring(err)), show(pattern)), 2)
  end
  return err
end

-- fn's first two results must be nil, err with err matching pattern.
function t.fails(pattern, ...)
  local v, err = ...
  if v ~= nil then error("expected nil, err; got " .. show(v), 2) end
  if pattern and not tostring(err):find(pattern) then
    error(string.format("error %s does not match %s", show(err), show(pattern)), 2)
  end
  return err
end

function t.read(path)
  local f = assert(io.open(t.root .. "/" .. path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

function t.fixture(path) return t.read("tests/fixtures/" .. path) end

function t.tmpdir()
  local p = io.popen("mktemp -d")
  local d = p:read("l")
  p:close()
  return d
end

local function sleep(s) os.execute(string.format("sleep %.3f", s)) end
t.sleep = sleep

-- Starts a background server: `cmd` gets `--port-file FILE` appended and must
-- write its port there once it listens. Returns {port=, pid=, url=, stop=}.
-- Servers still running when a test file ends are stopped by the runner.
function t.server(cmd, timeout)
  local dir = t.tmpdir()
  local portfile = dir .. "/port"
  local p = io.popen(string.format("%s --port-file %s >%s/log 2>&1 & echo $!", cmd, portfile, dir))
  local pid = p:read("l")
  p:close()
  local deadline = os.time() + (timeout or 10)
  local port
  repeat
    local f = io.open(portfile)
    if f then port = tonumber(f:read("l")); f:close() end
    if not port then sleep(0.05) end
  until port or os.time() > deadline
  if not port then
    local f = io.open(dir .. "/log")
    local log = f and f:read("a") or ""
    if f then f:close() end
    os.execute("kill " .. pid .. " 2>/dev/null")
    error("server did not start: " .. cmd .. "\n" .. log)
  end
  local s = { port = port, pid = pid, dir = dir, url = "http://127.0.0.1:" .. port }
  function s.stop()
    if s.stopped then return end
    s.stopped = true
    os.execute("kill " .. pid .. " 2>/dev/null; sleep 0.1; rm -rf " .. dir)
  end
  function s.log()
    local f = io.open(dir .. "/log")
    local log = f and f:read("a") or ""
    if f then f:close() end
    return log
  end
  t.servers[#t.servers + 1] = s
  return s
end

-- Runs a shell command, returns its exit code, stdout and stderr.
function t.exec(cmd)
  local dir = t.tmpdir()
  local ok, _, code = os.execute(string.format("{ %s\n} >%s/out 2>%s/err", cmd, dir, dir))
  local function slurp(name)
    local f = io.open(dir .. "/" .. name, "rb")
    local s = f:read("a")
    f:close()
    return s
  end
  local out, err = slurp("out"), slurp("err")
  os.execute("rm -rf " .. dir)
  return ok and 0 or code, out, err
end

return t
