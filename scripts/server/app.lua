-- The REST front: the function engine/server.c calls for every request.
--
-- C hands over a plain request { method, path, query_string, http_version,
-- remote_addr, headers (lower-case names), body } and writes back what this
-- returns: status, header lines ("Name: value\r\n"...), body. C adds the
-- framing (Content-Length, Connection) and writes the answer in one write.
--
-- Here: route lookup (404/405), query and JSON body decoding (400), sessions,
-- the handler call (a raised error becomes 500 and is logged with its
-- traceback), JSON encoding and gzip. Errors are always {"error": "..."}.
--
-- Environment: SIS_FOCUS_URL, SIS_SCODOC_URL, SIS_TIMEOUT (seconds, default
-- 20), SIS_SESSION_IDLE (seconds, default 1200), SIS_ROUTES (route modules,
-- default "focus.rest,scodoc.rest").
local json = require "sis.json"
local log = require "sis.log"
local server = require "sis.server"
local router = require "server.router"
local session = require "server.session"

local GZIP_MIN = 1024 -- smaller bodies are not worth compressing

-- A positive number from the environment, else the default (as the C side
-- reads SIS_SESSION_IDLE).
local function env_positive(name, default)
  local n = tonumber(os.getenv(name))
  return n and n > 0 and n or default
end

-- An upstream URL from the environment; empty is unset (engine/server.c
-- checked it at start-up).
local function env_url(name)
  local url = os.getenv(name)
  return url ~= "" and url or nil
end

local config = {
  focus_url = env_url("SIS_FOCUS_URL"),
  scodoc_url = env_url("SIS_SCODOC_URL"),
  timeout = env_positive("SIS_TIMEOUT", 20),
  session_idle = env_positive("SIS_SESSION_IDLE", 1200),
}

-- Route problems are logged once per scripts generation (server.announce),
-- not once per worker thread.
local function say(level, ...)
  if server.announce then log[level](...) end
end

local endpoints = json.array()
local lists = {}
local modules = {} -- name -> "loaded" | "failed" | "not present", for /health
for name in (os.getenv("SIS_ROUTES") or "focus.rest,scodoc.rest"):gmatch("[^,%s]+") do
  local file = package.searchpath(name, package.path)
  if not file then
    modules[name] = "not present"
    say("info", "serve: route module %s not present, skipped", name)
  else
    local ok, routes = xpcall(function() return router.check(require(name), name) end,
      debug.traceback)
    modules[name] = ok and "loaded" or "failed"
    if ok then
      lists[#lists + 1] = routes
      endpoints[#endpoints + 1] = router.prefix(routes)
      say("info", "serve: %d routes from %s under %s", #routes, file, endpoints[#endpoints])
    else
      say("error", "serve: route module %s (%s) failed to load, its routes are off: %s",
        name, file, routes)
    end
  end
end

-- GET <prefix> (e.g. /api/v3) lists the module's routes, unless the module
-- serves that path itself (its routes come first).
local indexes = {}
for i, list in ipairs(lists) do
  local listed = json.array()
  for _, r in ipairs(list) do listed[#listed + 1] = r.method .. " " .. r.path end
  indexes[#indexes + 1] = { method = "GET", path = endpoints[i], handler = function()
    return 200, { prefix = endpoints[i], routes = listed }
  end }
end

-- Liveness (any answer) and readiness: every route module that is present
-- loaded, and an upstream URL set.
local function health()
  local ready = config.focus_url ~= nil or config.scodoc_url ~= nil
  for _, state in pairs(modules) do ready = ready and state ~= "failed" end
  return ready and 200 or 503, {
    live = true,
    ready = ready,
    routes = modules,
    focus_url = config.focus_url and "set" or "not set",
    scodoc_url = config.scodoc_url and "set" or "not set",
  }
end

local index = { name = "sis", version = require("sis").version, endpoints = endpoints }
table.insert(lists, 1, router.check({
  { method = "GET", path = "/", handler = function() return 200, index end },
  { method = "GET", path = "/health", handler = health },
}, "server.app"))
lists[#lists + 1] = router.check(indexes, "server.app")
local routes = router.new(lists)

local function accepts_gzip(header)
  for token in (header or ""):gmatch("[^,]+") do
    local coding = token:match("^%s*([^;%s]+)")
    local q = tonumber(token:match(";%s*q=([%d.]+)") or "1")
    if (coding == "gzip" or coding == "x-gzip" or coding == "*") and q and q > 0 then return true end
  end
  return false
end

-- Headers the front owns: C writes the framing, the front the encoding.
local reserved = { ["content-length"] = true, connection = true, ["transfer-encoding"] = true }

local function header_lines(out, name, value)
  local values = type(value) == "table" and value or { value }
  for _, v in ipairs(values) do
    v = tostring(v)
    if v:find("[\r\n]") or not name:match("^[%w!#$%%&'*+.^_`|~-]+$") then
      error(string.format("bad response header %q", name), 0)
    end
    out[#out + 1] = name .. ": " .. v .. "\r\n"
  end
end

-- Encodes the handler's answer; raises (caught by the caller) on a bad one.
-- A 5xx {error = "..."} names the request, so that its log lines can be
-- found (engine/server.c adds X-Request-Id to every answer).
local function encode(req, status, body, headers, cookies)
  if math.type(status) ~= "integer" or status < 100 or status > 599 then
    error("handler returned a bad status: " .. tostring(status), 0)
  end
  if status >= 500 and type(body) == "table" and type(body.error) == "string" and req.id ~= "" then
    local named = {}
    for k, v in pairs(body) do named[k] = v end
    named.error = string.format("%s (request %s)", body.error, req.id)
    body = named
  end
  if headers ~= nil and type(headers) ~= "table" then error("handler returned bad headers", 0) end
  local given, lines = {}, {}
  for name, value in pairs(headers or {}) do
    local lname = name:lower()
    if not reserved[lname] then
      given[lname] = true
      header_lines(lines, name, value)
    end
  end
  if type(body) == "table" then
    body = json.encode(body)
    if not given["content-type"] then lines[#lines + 1] = "Content-Type: application/json\r\n" end
  elseif type(body) == "string" then
    if not given["content-type"] then lines[#lines + 1] = "Content-Type: text/plain; charset=utf-8\r\n" end
  elseif body == nil then
    body = ""
  else
    error("handler returned a body of type " .. type(body), 0)
  end
  if #body >= GZIP_MIN and not given["content-encoding"] then
    lines[#lines + 1] = "Vary: Accept-Encoding\r\n"
    if accepts_gzip(req.headers["accept-encoding"]) then
      body = server.gzip(body)
      lines[#lines + 1] = "Content-Encoding: gzip\r\n"
    end
  end
  if not given["cache-control"] then lines[#lines + 1] = "Cache-Control: no-store\r\n" end
  for _, c in ipairs(cookies or {}) do header_lines(lines, "Set-Cookie", c) end
  return status, table.concat(lines), body
end

local function fail(req, status, message, headers)
  return encode(req, status, { error = message }, headers)
end

local function internal_error(req, what, err)
  log.error("%s %s: %s: %s", req.method, req.path, what, err)
  return fail(req, 500, "internal error")
end

-- The handler and the session bookkeeping around it.
local function run(req, route)
  local rec = session.attach(req)
  local ok, status, body, headers = xpcall(route.handler, debug.traceback, req)
  if not ok then
    session.abort(rec)
    if type(status) == "table" and math.type(status.status) == "integer" then
      return fail(req, status.status, tostring(status.error)) -- raised by the front itself
    end
    return internal_error(req, "handler failed", status)
  end
  -- on a failure below no cookie goes out: sessions started here are dropped
  -- (else they would sit in the store, unreachable, until they expire)
  local cok, cookies = pcall(session.commit, rec)
  if not cok then
    session.abort(rec)
    return internal_error(req, "cannot store the session", cookies)
  end
  local eok, s, h, b = pcall(encode, req, status, body, headers, cookies)
  if not eok then
    session.abort(rec)
    return internal_error(req, "bad answer", s)
  end
  return s, h, b
end

return function(req)
  local route, params, allow = routes:match(req.method, req.path)
  if not route then
    if params == 405 then return fail(req, 405, "Method not allowed", { Allow = allow }) end
    return fail(req, 404, "Not found") -- spelled as focus-api spells its own
  end
  req.params = params
  req.query, req.query_all = router.parse_query(req.query_string)
  req.config = config
  local ctype = req.headers["content-type"] or ""
  if ctype:find("json", 1, true) or req.body:match("^%s*[%[{]") then
    if req.body:match("^%s*$") then
      req.json = nil
    else
      local value, err = json.decode(req.body)
      if value == nil then return fail(req, 400, "invalid JSON body: " .. tostring(err)) end
      req.json = value
    end
  end
  return run(req, route)
end
