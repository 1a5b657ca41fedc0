-- A route module for the REST front's tests (loaded with SIS_ROUTES=testroutes
-- from a scratch copy of the scripts directory). VERSION is rewritten by the
-- hot-reload test.
local http = require "sis.http"

local VERSION = 1
local served = 0 -- requests to /t/served this Lua state has answered

local function pause(seconds)
  os.execute(string.format("sleep %.3f", seconds))
end

return {
  { method = "GET", path = "/t/hello", handler = function()
    return 200, { hello = "world", version = VERSION }
  end },
  { method = "GET", path = "/t/served", handler = function()
    served = served + 1
    return 200, { served = served }
  end },
  { method = "GET", path = "/t/items/:id", handler = function(req)
    return 200, { id = req.params.id, query = req.query, query_all = req.query_all }
  end },
  { method = "PUT", path = "/t/items/:id", handler = function(req)
    return 200, { id = req.params.id, json = req.json }
  end },
  { method = "GET", path = "/t/items/:id/notes/:note", handler = function(req)
    return 200, req.params
  end },
  { method = "POST", path = "/t/echo", handler = function(req)
    return 200, { json = req.json, body = req.body, content_type = req.headers["content-type"] }
  end },
  { method = "POST", path = "/t/need", handler = function(req)
    if type(req.json) ~= "table" or type(req.json.name) ~= "string" then
      return 400, { error = "missing field: name" }
    end
    return 200, { name = req.json.name }
  end },
  { method = "GET", path = "/t/big", handler = function(req)
    return 200, { data = string.rep("0123456789", tonumber(req.query.n) or 500) }
  end },
  { method = "GET", path = "/t/noise", handler = function() -- incompressible: gzip makes it larger
    local rng, bytes = 12345, {}
    for i = 1, 20000 do
      rng = (rng * 1103515245 + 12345) % 2147483648
      bytes[i] = string.char(rng >> 16 & 255)
    end
    return 200, table.concat(bytes), { ["Content-Type"] = "application/octet-stream" }
  end },
  { method = "GET", path = "/t/text", handler = function()
    return 200, "plain words", { ["Content-Type"] = "text/plain; charset=utf-8", ["X-Extra"] = "yes" }
  end },
  { method = "GET", path = "/t/nothing", handler = function() return 204 end },
  { method = "GET", path = "/t/unchanged", handler = function() return 304, { stale = true } end },
  { method = "GET", path = "/t/boom", handler = function()
    local t = nil
    return 200, { value = t.field } -- raises: attempt to index a nil value
  end },
  { method = "GET", path = "/t/badstatus", handler = function() return "200", {} end },
  { method = "GET", path = "/t/badbody", handler = function() return 200, { f = print } end },
  { method = "GET", path = "/t/config", handler = function(req) return 200, req.config end },
  { method = "GET", path = "/t/sleep", handler = function(req)
    pause(tonumber(req.query.s) or 1)
    return 200, { slept = true }
  end },
  -- Lua work without end (a quadratic parser on a hostile page, say); with
  -- ?pcall=1 inside a pcall that retries, as a careless script would
  { method = "GET", path = "/t/spin", handler = function(req)
    local function spin() local n = 0 while true do n = n + 1 end end
    if req.query.pcall then
      while true do pcall(spin) end
    end
    spin()
  end },
  -- an upstream call bounded by config.timeout: a timeout becomes 504
  { method = "GET", path = "/t/upstream", handler = function(req)
    local s <close> = http.session { timeout = req.config.timeout }
    local res, err, kind = s:get(req.query.url)
    if not res then return kind == "timeout" and 504 or 502, { error = err } end
    return 200, { status = res.status }
  end },

  -- sessions (namespace "test", cookie sis_test)
  { method = "POST", path = "/t/login", handler = function(req)
    local name = type(req.json) == "table" and req.json.name
    if type(name) ~= "string" then return 400, { error = "missing field: name" } end
    req.start_session("test", { name = name, n = 0, password = req.json.password })
    return 200, { name = name }
  end },
  { method = "DELETE", path = "/t/login", handler = function(req)
    if not req.session("test") then return 403, { error = "no session" } end
    req.end_session("test")
    return 200, { ended = true }
  end },
  -- read n, optionally wait, write n + 1: lost updates would show a race.
  -- ?upstream=URL: also asks that server (tests/servers/http_test_server.py)
  -- which cookie it got, from an http.session on the session's own saved
  -- jar (as focus.client does), the upstream having set it the first time
  { method = "GET", path = "/t/me", handler = function(req)
    local s = req.session("test")
    if not s then return 403, { error = "no session" } end
    local n = s.n
    if req.query.wait then pause(tonumber(req.query.wait)) end
    s.n = n + 1
    local up, seen = req.query.upstream, nil
    if up then
      local h <close> = http.session { timeout = req.config.timeout }
      h:import_cookies(s.jar or "")
      if not h:cookie("who") then assert(h:get(up .. "/set-cookie?who=" .. s.name)) end
      local res = assert(h:get(up .. "/needs-cookie?name=who"))
      seen = res.body
      s.jar = h:export_cookies()
    end
    return 200, { name = s.name, n = s.n, upstream = seen }
  end },
  -- meets another request: creates DIR/ME, then waits up to `wait` seconds
  -- for DIR/OTHER; both meet only if the two requests run at the same time
  { method = "GET", path = "/t/barrier", handler = function(req)
    req.session("test")
    local q = req.query
    io.open(q.dir .. "/" .. q.me, "w"):close()
    local deadline = os.time() + tonumber(q.wait)
    repeat
      local f = io.open(q.dir .. "/" .. q.other)
      if f then f:close() return 200, { met = true } end
      pause(0.02)
    until os.time() > deadline
    return 200, { met = false }
  end },
  -- starts a session, then leaves a state JSON cannot encode: storing it fails
  { method = "POST", path = "/t/login/unstorable", handler = function(req)
    req.start_session("test", { name = "x" })
    req.session("test").f = print
    return 200, { name = "x" }
  end },
  { method = "POST", path = "/t/login/spin", handler = function(req)
    req.start_session("test", { name = req.json.name })
    while true do end
  end },
  { method = "POST", path = "/t/login/badanswer", handler = function(req)
    req.start_session("test", { name = "x" })
    return "200", { name = "x" }
  end },
  { method = "GET", path = "/t/me/fail", handler = function(req)
    local s = req.session("test")
    s.n = 1000
    error("after changing the state")
  end },
}
