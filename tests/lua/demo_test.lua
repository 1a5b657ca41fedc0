-- The demo school (examples/demo-school.sh, what `make run` runs): a taken
-- port is said before anything starts; the banner's command lines work.
local t = require "testlib"
local json = require "sis.json"

local BUILD = t.sis:match("^(.*)/sis$") or "."

-- The demo's command line with SIS_LISTEN=listen, from the tree, the sis under test.
local function demo(listen)
  return string.format("cd %s && SIS_LISTEN=%s BUILD=%s exec examples/demo-school.sh", t.root, listen,
    BUILD:sub(1, 1) == "/" and BUILD or (os.getenv("PWD") .. "/" .. BUILD))
end

local function slurp(path)
  local f = io.open(path, "rb")
  local s = f and f:read("a") or ""
  if f then f:close() end
  return s
end

-- A socket listening on 127.0.0.1 (t.server's port-file handshake).
local LISTENER = [[python3 -c "import socket, sys, time
s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen()
open(sys.argv[2], 'w').write(str(s.getsockname()[1])); time.sleep(120)"]]

t.test("make run on a taken port says so before the banner and suggests SIS_LISTEN", function()
  local busy = t.server(LISTENER)
  local code, out, err = t.exec(demo("127.0.0.1:" .. busy.port))
  t.eq({ code, out }, { 1, "" })
  t.match(err, "^demo%-school: cannot listen on 127%.0%.0%.1:" .. busy.port .. ": Address already in use\n")
  t.match(err, "SIS_LISTEN=127%.0%.0%.1:" .. (busy.port + 1) .. " make run\n$")
  -- a bare port is the same loopback address
  code, out, err = t.exec(demo(busy.port))
  t.eq({ code, out }, { 1, "" })
  t.match(err, "cannot listen on 127%.0%.0%.1:" .. busy.port .. ":")
end)

local function free_port()
  local p = io.popen([[python3 -c "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])"]])
  local port = tonumber(p:read("l"))
  p:close()
  return port
end

t.test("the demo banner lists the ScoDoc ids and CLI lines that work", function()
  local dir = t.tmpdir()
  local port = free_port()
  local p = io.popen(string.format("%s >%s/out 2>%s/err & echo $!", demo("127.0.0.1:" .. port), dir, dir))
  local pid = p:read("l")
  p:close()
  local banner
  for _ = 1, 600 do -- the fakes load their corpora first (slow on a loaded machine)
    banner = slurp(dir .. "/out"):match("^(.-Ctrl%-C to stop%.\n)")
    if banner or os.execute("kill -0 " .. pid .. " 2>/dev/null") ~= true then break end
    t.sleep(0.1)
  end
  local function stop()
    os.execute("kill -TERM " .. pid .. " 2>/dev/null")
    for _ = 1, 100 do
      if os.execute("kill -0 " .. pid .. " 2>/dev/null") ~= true then break end
      t.sleep(0.1)
    end
  end
  local ok, failure = pcall(function()
    t.ok(banner, "no banner:\n" .. slurp(dir .. "/out") .. slurp(dir .. "/err"))
    t.match(banner, "REST API    http://127%.0%.0%.1:" .. port .. "/")
    -- the ids the fake ScoDoc answers
    t.match(banner, "\n    students     EID3101 EID3102 [^\n]* EID3114\n")
    t.match(banner, "\n    bulletins    SEM3190: EID3101 [^\n]*\n")
    -- every command line of the banner runs as printed, from the tree
    local ran = 0
    for export, block in banner:gmatch("\n  (export [^\n]+)\n(.-)\n\n") do
      for line in (block .. "\n"):gmatch("  ([^\n]-)\n") do
        t.match(line, "^%S*/sis ")
        local code, out, err = t.exec(string.format("cd %s && %s && %s </dev/null", t.root, export, line))
        t.eq(code, 0, line .. ": " .. err)
        if not line:find("bulletin.lua", 1, true) then t.ok(json.decode(out), line .. ": " .. out) end
        ran = ran + 1
      end
    end
    t.eq(ran, 6, banner)
    -- a bulletin of each semester, first and last listed student, through the CLI
    local env = banner:match("\n  (export SIS_SCODOC_URL=[^\n]+)\n")
    for sem, ids in banner:gmatch("\n    bulletins    (SEM%d+): ([^\n]+)") do
      for _, etudid in ipairs { ids:match("^(%S+)"), ids:match("(%S+)$") } do
        local code, out, err = t.exec(string.format(
          "%s && %s/sis scodoc formsemestre_bulletinetud dept=INFO formsemestre_id=%s etudid=%s </dev/null",
          env, t.sis:match("^(.*)/sis$"), sem, etudid))
        t.eq(code, 0, sem .. " " .. etudid .. ": " .. err)
        t.eq(json.decode(out).etudid, etudid)
      end
    end
  end)
  stop()
  os.execute("rm -rf " .. dir)
  if not ok then error(failure, 0) end
end)
