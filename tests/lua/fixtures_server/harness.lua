-- Helpers shared by the server_*_test.lua files: start `sis serve` on a
-- scratch copy of the scripts directory with the test routes, and talk to it
-- with curl (an independent HTTP client).
--   local H = dofile(t.root .. "/tests/lua/fixtures_server/harness.lua")
local t = require "testlib"
local json = require "sis.json"

local H = {}

local function quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end
H.quote = quote

function H.write(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

-- Fills dir (created if missing) with a copy of the scripts and the test routes.
function H.scripts_copy(dir)
  assert(os.execute(string.format("mkdir -p %s && cp -r %s/scripts/. %s/ && cp %s/tests/lua/fixtures_server/testroutes.lua %s/",
    quote(dir), quote(t.root), quote(dir), quote(t.root), quote(dir))))
end

-- `sis serve` on the scripts directory dir, with the test routes.
-- env: extra environment variables for the server (SIS_* settings).
function H.serve(dir, env, args)
  local vars = { "SIS_ROUTES=testroutes" }
  for k, v in pairs(env or {}) do vars[#vars + 1] = k .. "=" .. quote(v) end
  return t.server(string.format("env %s %s serve --scripts %s --listen 127.0.0.1:0 %s",
    table.concat(vars, " "), t.sis, quote(dir), args or "--threads 8"))
end

-- H.serve on a scratch copy of the scripts, removed when the server stops.
function H.start(env, args)
  local dir = t.tmpdir()
  H.scripts_copy(dir)
  local srv = H.serve(dir, env, args)
  srv.scripts = dir
  local stop = srv.stop
  function srv.stop()
    stop()
    os.execute("rm -rf " .. quote(dir))
  end
  return srv
end

-- Sends one request with curl. opts: headers (table), body (string), json
-- (value), jar (cookie file, read and written), gzip (send Accept-Encoding:
-- gzip; the body is returned still compressed). Returns
-- { status, headers = {lower-case name = value | array if repeated}, body, json }.
function H.request(srv, method, path, opts)
  opts = opts or {}
  local dir = t.tmpdir()
  local cmd = { "curl -s --http1.1 -o", quote(dir .. "/body"), "-D", quote(dir .. "/head"),
    "-X", method, quote(srv.url .. path) }
  for k, v in pairs(opts.headers or {}) do cmd[#cmd + 1] = "-H " .. quote(k .. ": " .. v) end
  local body = opts.body
  if opts.json ~= nil then
    body = json.encode(opts.json)
    cmd[#cmd + 1] = "-H 'Content-Type: application/json'"
  end
  if body then
    H.write(dir .. "/req", body)
    cmd[#cmd + 1] = "--data-binary @" .. quote(dir .. "/req")
  end
  if opts.jar then cmd[#cmd + 1] = "-b " .. quote(opts.jar) .. " -c " .. quote(opts.jar) end
  if opts.gzip then cmd[#cmd + 1] = "-H 'Accept-Encoding: gzip'" end
  local code = t.exec(table.concat(cmd, " "))
  local function slurp(name)
    local f = io.open(dir .. "/" .. name, "rb")
    if not f then return "" end
    local s = f:read("a")
    f:close()
    return s
  end
  local head, out = slurp("head"), slurp("body")
  os.execute("rm -rf " .. quote(dir))
  assert(code == 0, "curl failed (" .. tostring(code) .. ") for " .. method .. " " .. path)
  -- the last header block (after any "100 Continue")
  head = head:match(".*\r\n\r\n(HTTP/.-\r\n\r\n)$") or head
  local res = { status = tonumber(head:match("^HTTP/[%d.]+ (%d+)")), headers = {}, body = out }
  for name, value in head:gmatch("\r\n([^:\r\n]+):%s*([^\r\n]*)") do
    name = name:lower()
    local old = res.headers[name]
    if old == nil then res.headers[name] = value
    elseif type(old) == "table" then old[#old + 1] = value
    else res.headers[name] = { old, value } end
  end
  if (res.headers["content-type"] or ""):find("json") and not opts.gzip then
    res.json = json.decode(out)
  end
  return res
end

-- Sends SIGTERM (or sig) and waits for the process to exit; returns its log.
function H.stop_and_log(srv, sig)
  os.execute("kill -" .. (sig or "TERM") .. " " .. srv.pid)
  local deadline = os.time() + 20
  while os.execute("kill -0 " .. srv.pid .. " 2>/dev/null") and os.time() <= deadline do t.sleep(0.1) end
  local log = srv.log()
  srv.stop()
  return log
end

return H
