-- The OpenAPI 3.1 document of the REST API, generated from the route tables
-- (the modules of SIS_ROUTES, as the front loads them) and the reference
-- written next to them in scripts/openapi/schemas/*.lua ("METHOD /path" ->
-- summary, parameters, body, responses).
--
--   doc = build.document()            -- the whole document
--   missing, orphans = build.check()  -- routes without an entry, entries without a route
--   route = build.find(method, path)  -- the route (and its "METHOD /path") a request matches
local json = require "sis.json"
local router = require "server.router"

local M = {}

M.DEFAULT_ROUTES = "focus.rest,scodoc.rest,watch.rest,feeds.rest,openapi.rest"
local SCHEMA_MODULES = { "openapi.schemas.focus", "openapi.schemas.scodoc", "openapi.schemas.watch" }

-- The routes the server serves, as scripts/server/app.lua builds them: GET /
-- and GET /health (the front's), each module's, then GET <prefix> for each
-- module's prefix it does not serve itself (a list of its routes).
function M.routes(names)
  local out = { { method = "GET", path = "/" }, { method = "GET", path = "/health" } }
  local served, prefixes = {}, {}
  for name in (names or os.getenv("SIS_ROUTES") or M.DEFAULT_ROUTES):gmatch("[^,%s]+") do
    if package.searchpath(name, package.path) then
      local ok, list = pcall(require, name)
      if ok and type(list) == "table" then
        for _, r in ipairs(list) do
          out[#out + 1] = { method = r.method, path = r.path }
          served[r.method .. " " .. r.path] = true
        end
        local ok2, compiled = pcall(router.check, list, name)
        local own = type(list.endpoints) == "table" and list.endpoints or { ok2 and router.prefix(compiled) }
        for _, p in ipairs(own) do prefixes[#prefixes + 1] = p end
      end
    end
  end
  for _, p in ipairs(prefixes) do
    if not served["GET " .. p] then
      served["GET " .. p] = true
      out[#out + 1] = { method = "GET", path = p, index = true }
    end
  end
  return out
end

-- The reference of a GET <prefix> route (generated: the front makes them).
local function index_entry(path)
  return { tag = "Server", summary = "The routes under " .. path,
           responses = { [200] = { ["$ref"] = "#/components/schemas/RouteIndex" } } }
end

-- Every reference entry and component, merged.
function M.reference()
  local entries, components = {}, {}
  for _, name in ipairs(SCHEMA_MODULES) do
    local mod = require(name)
    for k, v in pairs(mod.routes) do
      assert(entries[k] == nil, "two reference entries for " .. k)
      entries[k] = v
    end
    for k, v in pairs(mod.components) do
      assert(components[k] == nil, "two components named " .. k)
      components[k] = v
    end
  end
  return entries, components
end

local function key(r) return r.method .. " " .. r.path end

function M.check(routes)
  local entries = M.reference()
  local missing, seen = {}, {}
  for _, r in ipairs(routes or M.routes(M.DEFAULT_ROUTES)) do
    seen[key(r)] = true
    if not entries[key(r)] and not r.index then missing[#missing + 1] = key(r) end
  end
  local orphans = {}
  for k in pairs(entries) do
    if not seen[k] then orphans[#orphans + 1] = k end
  end
  table.sort(orphans)
  return missing, orphans
end

-- "/api/v3/courses/:id" -> "/api/v3/courses/{id}", { "id" }
function M.template(path)
  local names = {}
  local t = path:gsub(":([%w_]+)", function(n)
    names[#names + 1] = n
    return "{" .. n .. "}"
  end)
  return t, names
end

local STATUS_TEXT = {
  [200] = "OK", [201] = "Created", [304] = "Not modified (If-None-Match)", [400] = "Bad request",
  [401] = "No ScoDoc session, or credentials refused", [403] = "No Focus session, or forbidden",
  [404] = "Not found", [405] = "Method not allowed", [500] = "Internal error",
  [502] = "The school answered something unreadable, or failed", [503] = "Not configured, or the session store is full",
  [504] = "The school did not answer in time",
}

local function responses(e)
  local out = {}
  for status, r in pairs(e.responses or {}) do
    local res = { description = STATUS_TEXT[status] or "answer" }
    if r ~= false then
      local ctype, schema = "application/json", r
      if type(r) == "table" and r.type == "text/calendar" then ctype, schema = r.type, r.schema end
      res.content = { [ctype] = { schema = schema } }
    end
    out[tostring(status)] = res
  end
  for _, status in ipairs(e.errors or {}) do
    out[tostring(status)] = { description = STATUS_TEXT[status] or "error",
      content = { ["application/json"] = { schema = { ["$ref"] = "#/components/schemas/Error" } } } }
  end
  out["500"] = out["500"] or { description = STATUS_TEXT[500],
    content = { ["application/json"] = { schema = { ["$ref"] = "#/components/schemas/Error" } } } }
  return out
end

local function operation(r, e)
  local path, names = M.template(r.path)
  local params = json.array()
  for _, n in ipairs(names) do
    params[#params + 1] = { name = n, ["in"] = "path", required = true, schema = { type = "string" },
                            description = e.path_doc and e.path_doc[n] or nil }
  end
  local qnames = {}
  for n in pairs(e.query or {}) do qnames[#qnames + 1] = n end
  table.sort(qnames)
  for _, n in ipairs(qnames) do
    local q = e.query[n]
    params[#params + 1] = { name = n, ["in"] = "query", required = q.required or false, schema = q.schema,
                            description = q.description }
  end
  local op = {
    summary = e.summary, tags = json.array { e.tag or "Other" },
    operationId = (r.method:lower() .. path):gsub("[^%w]+", "_"):gsub("_$", ""),
    responses = responses(e),
  }
  if #params > 0 then op.parameters = params end
  if e.body then
    op.requestBody = { required = e.body.required ~= nil,
                       content = { ["application/json"] = { schema = e.body } } }
  end
  if e.session then op.security = json.array { { [e.session .. "Session"] = json.array() } } end
  return path, op
end

function M.document(routes)
  local entries, components = M.reference()
  local paths = {}
  for _, r in ipairs(routes or M.routes()) do
    local e = entries[key(r)] or (r.index and index_entry(r.path)) or { summary = "(not documented)", responses = {} }
    local path, op = operation(r, e)
    paths[path] = paths[path] or {}
    paths[path][r.method:lower()] = op
  end
  return {
    openapi = "3.1.0",
    info = { title = "sis REST API", version = require("sis").version,
             description = "Focus for Schools (the focus-api v3 routes) and ScoDoc 7 through sis, "
               .. "change notifications (watch), calendar feeds. Generated from the route tables." },
    servers = json.array { { url = "/" } },
    paths = paths,
    components = {
      schemas = components,
      securitySchemes = {
        focusSession = { type = "apiKey", ["in"] = "cookie", name = "sis_focus",
                         description = "set by POST /api/v3/session" },
        scodocSession = { type = "apiKey", ["in"] = "cookie", name = "sis_scodoc",
                          description = "set by POST /api/scodoc/session" },
      },
    },
  }
end

-- The route a request matches, for the answer checks of the tests.
function M.find(method, path, routes)
  local compiled = {}
  for i, r in ipairs(routes or M.routes()) do
    compiled[i] = { method = r.method, path = r.path, handler = function() end }
  end
  local rt = router.new { router.check(compiled, "openapi") }
  local r = rt:match(method, path)
  return r and r.path
end

return M
