-- A REST client for tests that calls a route module's handlers in-process,
-- the way the server front (scripts/server/app.lua) does, without HTTP:
-- routes matched by the real router (scripts/server/router.lua: 404, 405,
-- captures), the query string decoded, one session store per client (what
-- its cookie would select), and the answer and the session states through a
-- JSON round trip, as the front encodes and stores them.
--   local client = require("rest_client").new("focus.rest", config)
--   status, body = client.call(method, "/api/v3/courses/1?x=y", json_body)
--   client.sessions[ns]   -- the session states, by namespace
local codec = require "sis.codec"
local json = require "sis.json"
local router = require "server.router"

local M = {}

function M.new(module, config)
  local routes = router.new { router.check(require(module), module) }
  local c = { sessions = {}, config = config }
  -- → status, decoded body (a 404 or 405 from the router as the front words it)
  function c.call(method, target, body)
    local path, qs = target:match("^([^?]*)%??(.*)$")
    local route, params = routes:match(method, path)
    if not route then
      return params, { error = params == 404 and "not found" or "method not allowed" }
    end
    local req = {
      method = method, path = path, params = params,
      headers = {}, body = body and json.encode(body) or "", json = body, config = config,
    }
    req.query, req.query_all = router.parse_query(qs)
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
