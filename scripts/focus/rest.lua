-- REST routes of the focus-api compatible API (/api/v3/*), see
-- docs/architecture.md "REST routes" and the focus-api README.
-- The session namespace "focus" holds the focus.service state. The routes of
-- the pages are those of focus/registry.lua; an answer whose parsers
-- recorded warnings carries `X-Sis-Warnings: N` (lib/warnings.lua).
local focus = require "focus.service"
local registry = require "focus.registry"
local warnings = require "lib.warnings"

local NS = "focus"
local BAD_REQUEST = { error = "Bad request" }
local FORBIDDEN = { error = "Forbidden" }
local NOT_FOUND = { error = "Not found" }

-- A path segment that must be a number (Flask's <int:...>): its integer,
-- false when it is not digits (→ 404), nil when it is too large (→ 400).
local function int(s)
  if not s:find("^%d+$") then return false end
  return math.tointeger(tonumber(s))
end

-- A route calling `endpoint` on the caller's session. args_of(params) → the
-- endpoint's args | nil, status (path segments that are not what they should be).
local function call(endpoint, args_of)
  return function(req)
    local state = req.session(NS)
    if not state then return 403, FORBIDDEN end
    local args, status = {}, nil
    if args_of then args, status = args_of(req.params) end
    if not args then return status, status == 404 and NOT_FOUND or BAD_REQUEST end
    local code, body = focus.call(state, endpoint, args)
    -- the password no longer works: the session is useless
    if code == 401 then req.end_session(NS) end
    return code, body
  end
end

-- A route's path parameters → the endpoint's args: `id` as given (the
-- service checks it), any other an integer (else 404 like Flask's <int:>
-- routes, 400 when too large for one).
local function path_args(params)
  local args = {}
  for k, v in pairs(params) do
    if k == "id" then
      args.id = v
    else
      local n = int(v)
      if n == false then return nil, 404 end
      if n == nil then return nil, 400 end
      args[k] = n
    end
  end
  return args
end

local function session_get(req)
  local state = req.session(NS)
  if not state then return 403, FORBIDDEN end
  return focus.call(state, "session")
end

local function session_post(req)
  local j = req.json
  if type(j) ~= "table" or type(j.username) ~= "string" or type(j.password) ~= "string" then
    return 400, BAD_REQUEST
  end
  local url = req.config and req.config.focus_url
  if not url then return 503, { error = "no Focus URL configured (sis serve --focus-url)" } end
  local state, status, msg = focus.login {
    base_url = url, username = j.username, password = j.password,
    timeout = req.config.timeout,
  }
  if not state then return status, { error = msg } end
  local old = req.session(NS)
  if old then -- replaced: its Focus session ends too, as on DELETE (best effort)
    focus.logout(old)
    req.end_session(NS)
  end
  req.start_session(NS, state)
  return focus.call(state, "session")
end

-- PUT {"year": int, "mp_id": int, "redirect"?: string}
local function session_put(req)
  local state = req.session(NS)
  if not state then return 403, FORBIDDEN end
  local j = req.json
  if type(j) ~= "table" or math.type(j.year) ~= "integer" or math.type(j.mp_id) ~= "integer"
      or (j.redirect ~= nil and type(j.redirect) ~= "string") then
    return 400, BAD_REQUEST
  end
  return focus.call(state, "set_marking_period", { year = j.year, mp_id = j.mp_id, redirect = j.redirect })
end

local function session_delete(req)
  local state = req.session(NS)
  if not state then return 403, FORBIDDEN end
  focus.logout(state)
  req.end_session(NS)
  return 200, {}
end

local routes = {
  { method = "GET", path = "/api/v3/session", handler = session_get },
  { method = "POST", path = "/api/v3/session", handler = session_post },
  { method = "PUT", path = "/api/v3/session", handler = session_put },
  { method = "DELETE", path = "/api/v3/session", handler = session_delete },
}

-- The registry's routes, a literal segment before a parameter at the same
-- place (calendar/occasions/:id before calendar/:year/:month), then by path.
local found = {}
local function add(endpoint, paths)
  for _, path in ipairs(paths) do
    found[#found + 1] = { method = "GET", path = path,
                          handler = warnings.counting(call(endpoint, path:find(":", 1, true) and path_args)) }
  end
end
for _, p in pairs(registry.pages) do
  for name, e in pairs(p.endpoints) do add(name, e.routes) end
end
for name, a in pairs(registry.apis) do add(name, a.routes) end

local function key(path) return (path:gsub("/:", "/\255")) end
table.sort(found, function(a, b) return key(a.path) < key(b.path) end)
for _, r in ipairs(found) do routes[#routes + 1] = r end

return routes
