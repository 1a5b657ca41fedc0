-- The REST router: a list of routes matched in order (docs/architecture.md,
-- "REST routes"). `:name` captures one path segment; a trailing `/` is
-- ignored; matching is case-sensitive on percent-decoded segments.
--   local rt = router.new(routes)
--   route, params = rt:match(method, path)   -- or nil, 404 | nil, 405, "GET, PUT"
local M = {}

local function unescape(seg)
  return (seg:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

-- "/a/b/" -> { "a", "b" }; empty segments ("//") are skipped
local function segments(path, decode)
  local out = {}
  for seg in path:gmatch("[^/]+") do out[#out + 1] = decode and unescape(seg) or seg end
  return out
end

-- Raises with `where` (e.g. "focus.rest route 3") when a route is malformed.
local function compile(route, where)
  if type(route) ~= "table" then error(where .. ": not a table", 0) end
  if type(route.method) ~= "string" or not route.method:match("^%u+$") then
    error(where .. ": method must be an upper-case string", 0)
  end
  if type(route.path) ~= "string" or route.path:sub(1, 1) ~= "/" then
    error(where .. ": path must be a string starting with /", 0)
  end
  if type(route.handler) ~= "function" then error(where .. ": handler must be a function", 0) end
  local parts = {}
  for i, seg in ipairs(segments(route.path, false)) do
    local name = seg:match("^:([%w_]+)$")
    parts[i] = name and { capture = name } or seg
  end
  return { method = route.method, path = route.path, handler = route.handler, parts = parts }
end

local function path_params(parts, segs)
  if #parts ~= #segs then return nil end
  local params = {}
  for i, p in ipairs(parts) do
    if type(p) == "table" then params[p.capture] = segs[i]
    elseif p ~= segs[i] then return nil end
  end
  return params
end

local Router = {}
Router.__index = Router

-- A route matches a HEAD request when it serves GET (the body is not sent).
function Router:match(method, path)
  local segs = segments(path, true)
  local allow, seen = {}, {}
  for _, r in ipairs(self.routes) do
    local params = path_params(r.parts, segs)
    if params then
      if r.method == method or (method == "HEAD" and r.method == "GET") then return r, params end
      if not seen[r.method] then
        seen[r.method] = true
        allow[#allow + 1] = r.method
      end
    end
  end
  if #allow > 0 then return nil, 405, table.concat(allow, ", ") end
  return nil, 404
end

-- The literal path prefix all of a module's routes share ("/api/v3").
function M.prefix(routes)
  local common
  for _, r in ipairs(routes) do
    local lit = {}
    for _, seg in ipairs(segments(r.path, false)) do
      if seg:sub(1, 1) == ":" then break end
      lit[#lit + 1] = seg
    end
    if not common then
      common = lit
    else
      local n = 0
      while n < #common and common[n + 1] == lit[n + 1] do n = n + 1 end
      for i = #common, n + 1, -1 do common[i] = nil end
    end
  end
  return "/" .. table.concat(common or {}, "/")
end

-- Checks a route module's table; raises a message naming the bad route.
function M.check(routes, name)
  if type(routes) ~= "table" then error(name .. " must return an array of routes", 0) end
  local out = {}
  for i, r in ipairs(routes) do out[i] = compile(r, string.format("%s route %d", name, i)) end
  return out
end

function M.new(compiled_lists)
  local routes = {}
  for _, list in ipairs(compiled_lists) do
    for _, r in ipairs(list) do routes[#routes + 1] = r end
  end
  return setmetatable({ routes = routes }, Router)
end

return M
