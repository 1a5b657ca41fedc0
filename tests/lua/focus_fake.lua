-- Test helpers for the Focus client tests: the fake Focus server
-- (tests/servers/fake_focus.py) and a REST client that calls the focus.rest
-- handlers directly, the way the server front does (docs/architecture.md).
local t = require "testlib"
local json = require "sis.json"
local http = require "sis.http"

local M = {}

M.manifest = json.decode(t.fixture("focus/pages/manifest.json"))
M.user = M.manifest.credentials.username
M.password = M.manifest.credentials.password

-- Starts a fake Focus; `flags` is appended to its command line.
function M.start(flags)
  local s = t.server("python3 " .. t.root .. "/tests/servers/fake_focus.py " .. (flags or ""))
  s.base = s.url .. "/"
  local h = http.session { timeout = 10 }
  local function get(path)
    local res = assert(h:get(s.url .. path))
    return json.decode(res.body)
  end
  -- counters of the fake (see fake_focus.py); reset = true zeroes them after reading
  function s.stats(reset) return get("/__stats" .. (reset and "?reset=1" or "")) end
  -- makes the next requests matching `match` fail: mode 500 | garbage | hang | expire
  function s.fault(mode, match, extra)
    return get(string.format("/__fault?mode=%s&match=%s%s", mode, match or "", extra or ""))
  end
  return s
end

-- A port nothing listens on.
function M.dead_port_url()
  local s = M.start()
  s.stop()
  return s.base
end

local function split(path)
  local out = {}
  for seg in path:gmatch("[^/]+") do out[#out + 1] = seg end
  return out
end

-- method + path → route, params (the router contract: `:name` captures one
-- segment, trailing / ignored, table order); or nil, 404/405.
function M.route(routes, method, path)
  local segs, other_method = split(path:gsub("%?.*", "")), false
  for _, r in ipairs(routes) do
    local pat = split(r.path)
    if #pat == #segs then
      local params, ok = {}, true
      for i, p in ipairs(pat) do
        if p:sub(1, 1) == ":" then params[p:sub(2)] = segs[i]
        elseif p ~= segs[i] then ok = false break end
      end
      if ok then
        if r.method == method then return r, params end
        other_method = true
      end
    end
  end
  return nil, other_method and 405 or 404
end

-- A REST client holding its own sessions (what the cookie would select).
-- call(method, path, json_body) → status, decoded body (as the front would
-- send it: encoded to JSON and decoded back).
function M.rest_client(config)
  local routes = require "focus.rest"
  local c = { sessions = {}, config = config }
  function c.call(method, path, body)
    local route, params = M.route(routes, method, path)
    if not route then
      return params, { error = params == 404 and "Not found" or "Method not allowed" }
    end
    local req = {
      method = method, path = path, params = params, query = {}, query_all = {},
      headers = {}, body = body and json.encode(body) or "", json = body, config = config,
    }
    function req.session(ns) return c.sessions[ns] end
    function req.start_session(ns, state) c.sessions[ns] = state end
    function req.end_session(ns) c.sessions[ns] = nil end
    local status, out = route.handler(req)
    assert(math.type(status) == "integer", "handler returned no status for " .. path)
    assert(type(out) == "table", "handler returned no body table for " .. path)
    -- the session state must survive a JSON round trip (it is plain data)
    for ns, state in pairs(c.sessions) do c.sessions[ns] = json.decode(json.encode(state)) end
    return status, json.decode(json.encode(out))
  end
  return c
end

return M
