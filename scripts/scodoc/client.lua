-- ScoDoc 7 HTTP client: URLs, the three ways to authenticate, and the
-- classification of ScoDoc's answers into data or errors.
--
--   local c = client.new{ base_url = "https://scodoc.example.org/", username =, password =,
--                         auth = "cookie" | "params" | "basic", format = "json" | "xml",
--                         timeout = 30, cookies = <exported jar> }
--   value, err, kind = c:call(name, dept, params [, { format = "xml" }])
--
-- `params` is a list of {name, value} pairs in ScoDoc's own names (values
-- strings); scodoc.api builds them. Errors are nil, "scodoc: ...", kind with
-- kind one of: auth (bad credentials, or no credentials where needed),
-- forbidden (logged in without the needed role), not_found (unknown
-- department, function, student, semestre...), bad_request (missing or
-- refused parameter), unreadable (an answer that is not what was asked,
-- e.g. an HTML page where JSON or XML was expected), timeout, network.
--
-- Authentication (docs/scodoc.md): "params" sends __ac_name/__ac_password
-- with every request, "basic" an Authorization header, "cookie" (the
-- default) logs in with HTTP basic once and then relies on the __ac cookie
-- ScoDoc sets (logging in again once if the cookie stops working).
local http = require "sis.http"
local json = require "sis.json"
local xml = require "sis.xml"
local log = require "sis.log"
local codec = require "sis.codec"
local functions = require "scodoc.functions"
local normalise = require "scodoc.normalise"
local xml_map = require "scodoc.xml_map"

local client = {}
client.__index = client

local AUTH = { cookie = true, params = true, basic = true }
local FORMATS = { json = true, xml = true }

function client.new(opts)
  assert(type(opts) == "table", "client.new: options table expected")
  local base = opts.base_url
  if type(base) ~= "string" or not base:match("^https?://") then
    error("client.new: base_url must be an http(s) URL, got " .. tostring(base), 2)
  end
  local auth = opts.auth or "cookie"
  if not AUTH[auth] then error("client.new: auth must be cookie, params or basic, got " .. tostring(auth), 2) end
  local format = opts.format or "json"
  if not FORMATS[format] then error("client.new: format must be json or xml, got " .. tostring(format), 2) end
  if opts.username ~= nil and (type(opts.username) ~= "string" or type(opts.password) ~= "string") then
    error("client.new: username and password must be strings", 2)
  end
  if opts.password then log.secret(opts.password) end
  local s = http.session { timeout = opts.timeout or 30, user_agent = "sis-scodoc" }
  if opts.cookies and opts.cookies ~= "" then s:import_cookies(opts.cookies) end
  return setmetatable({
    -- the server root: ScoDoc's paths start with /ScoDoc/
    base = base:gsub("/+$", ""):gsub("/ScoDoc$", ""),
    username = opts.username, password = opts.password,
    auth = auth, format = format, http = s,
  }, client)
end

-- The password stays registered with sis.log while the client is open.
function client:close()
  if self.closed then return end
  self.closed = true
  if self.password then log.forget(self.password) end
  self.http:close()
end
client.__close = client.close
function client:export_cookies() return self.http:export_cookies() end

local function basic(c)
  return "Basic " .. codec.base64_encode(c.username .. ":" .. c.password)
end

-- Adds the credentials to a request. Returns true when it relies on the
-- __ac cookie alone (so a refusal may just mean an expired cookie).
local function authenticate(c, req, pairs_, force_login)
  if not c.username then return false end
  if c.auth == "params" then
    pairs_[#pairs_ + 1] = { "__ac_name", c.username }
    pairs_[#pairs_ + 1] = { "__ac_password", c.password or "" }
  elseif c.auth == "basic" or force_login or not c.http:cookie("__ac") then
    req.headers.Authorization = basic(c)
  else
    return true
  end
  return false
end

local function page_text(html)
  local s = html:gsub("<[^>]*>", " ")
  s = codec.html_unescape(s)
  return (s:gsub("%s+", " "):match("^%s*(.-)%s*$"))
end

-- The message of a ScoDoc/Zope error page.
local function error_message(body)
  local value = body:match("Error Value:%s*(.-)</")
  if value then return codec.html_unescape(value) end
  local p = body:match("<h2>Erreur !</h2>%s*<p>(.-)</p>")
  if p then return page_text(p) end
  local param = body:match("The parameter, <em>(.-)</em>, was omitted")
  if param then return "missing parameter " .. param end
  local resource = body:match("<b>Resource:</b>%s*(.-)</p>")
  if resource then return "resource not found: " .. resource end
  local title = body:match("<title>(.-)</title>")
  return title and page_text(title) or "no message"
end

-- ScoDoc 7 reports unknown ids through exceptions (500 "Erreur" pages);
-- these messages say that what was asked for does not exist.
local NOT_FOUND_MESSAGES = { "inconnu", "invalid group_id", "non inscrit", "list index out of range" }

-- Turns an answer that is not data into nil, err, kind (nil when it is data).
-- A write answers an HTML page even when it works, so its "Erreur !" page
-- must be told from its message whatever the status.
local function refusal(res, ctype, write)
  local body, status = res.body, res.status
  local html = ctype:find("html", 1, true) or body:find("^%s*<[hH][tT][mM][lL]")
  if html and body:find('name="__ac_password"', 1, true) or status == 401 then
    if body:find("droits suffisants", 1, true) then
      return nil, "scodoc: permission denied (the account lacks the role needed)", "forbidden"
    end
    return nil, "scodoc: authentication failed (ScoDoc answered its login page)", "auth"
  end
  if status == 404 then return nil, "scodoc: " .. error_message(body), "not_found" end
  if status == 400 then return nil, "scodoc: " .. error_message(body), "bad_request" end
  if html and (status == 500 and body:find("Erreur", 1, true)
               or status == 200 and write and body:find("<h2>Erreur", 1, true)) then
    local msg = error_message(body)
    for _, pat in ipairs(NOT_FOUND_MESSAGES) do
      if msg:find(pat, 1, true) then return nil, "scodoc: " .. msg, "not_found" end
    end
    return nil, "scodoc: " .. msg, "bad_request"
  end
  if status ~= 200 then
    local what = html and " (" .. error_message(body) .. ")" or ""
    return nil, string.format("scodoc: unexpected HTTP status %d%s", status, what), "unreadable"
  end
end

-- XML as ScoDoc 7's generic exports may write it: a bare '&' in an
-- attribute makes it invalid; read it as "&amp;" rather than fail.
function client.parse_xml(body)
  local root, err = xml.parse(body)
  if root then return root end
  local repaired = body:gsub("&(#?%w*;?)", function(rest)
    if rest:match("^#?%w+;$") then return "&" .. rest end
    return "&amp;" .. rest
  end)
  if repaired ~= body then root = xml.parse(repaired) end
  return root, err
end

local WRITE_RESULTS = { "Ajout de (%d+) absence", "Annulation sur (%d+) demi" }

-- The first paragraph of a page. ScoDoc does not always close it: it then
-- ends at the next <p> or </body>. (Plain finds: "<p>(.-)</p>" retried from
-- every unclosed <p> to the end of the page, quadratic.)
local function first_paragraph(body)
  local from = body:find("<p>", 1, true)
  if not from then return body end
  from = from + 3
  local to = #body + 1
  for _, stop in ipairs { "</p>", "<p>", "</body>" } do
    local at = body:find(stop, from, true)
    if at and at < to then to = at end
  end
  return body:sub(from, to - 1)
end

-- The answer of a write: ScoDoc's HTML message and the number of half-days.
local function write_result(body)
  local text = page_text(first_paragraph(body))
  local count
  for _, pat in ipairs(WRITE_RESULTS) do
    count = count or text:match(pat)
  end
  return { count = count and math.tointeger(tonumber(count)) or json.null, message = text }
end

-- One HTTP exchange. -> res | nil, err, kind
local function exchange(c, f, dept, params, format, force_login)
  local q = {}
  for i, p in ipairs(params) do
    if not f.allowed[p[1]] then error(string.format("scodoc: %s takes no parameter '%s'", f.name, p[1]), 3) end
    q[i] = p
  end
  if not f.write and f.formats.xml then q[#q + 1] = { "format", format } end
  local req = { url = c.base .. "/" .. functions.path(f, codec.url_encode(dept or "")), headers = {} }
  local cookie_only = authenticate(c, req, q, force_login)
  if f.write then req.method, req.form = "POST", q else req.method, req.query = "GET", q end
  local res, err, kind = c.http:request(req)
  if not res then
    return nil, "scodoc: " .. tostring(err), kind == "timeout" and "timeout" or "network"
  end
  return res, cookie_only
end

-- fetch(name, dept, params [, opts]) -> tree, format | nil, err, kind
-- The decoded answer before normalisation (JSON value, or the XML read into
-- the JSON's shape); for writes {count, message}.
function client:fetch(name, dept, params, opts)
  local f = functions[name] or error("scodoc: unknown function " .. tostring(name), 2)
  if f.container ~= "root" and type(dept) ~= "string" then error("scodoc: " .. name .. " needs a department", 2) end
  local format = opts and opts.format or self.format
  if not FORMATS[format] then error("scodoc: format must be json or xml, got " .. tostring(format), 2) end
  if not f.formats[format] then format = "json" end
  local res, cookie_only, xkind = exchange(self, f, dept, params, format)
  if not res then return nil, cookie_only, xkind end
  local ctype = (res.headers["content-type"] or ""):lower()
  local _, err, kind = refusal(res, ctype, f.write)
  if kind == "auth" and cookie_only then -- the cookie expired: log in again once
    log.info("scodoc: __ac cookie refused, logging in again as %s", self.username)
    res, err, kind = exchange(self, f, dept, params, format, true)
    if not res then return nil, err, kind end
    ctype = (res.headers["content-type"] or ""):lower()
    _, err, kind = refusal(res, ctype, f.write)
  end
  if kind then return nil, err, kind end
  if f.write then
    if not ctype:find("html", 1, true) then
      return nil, "scodoc: " .. name .. " answered " .. ctype .. ", not its HTML message", "unreadable"
    end
    return write_result(res.body), "html"
  end
  if ctype:find("json", 1, true) then
    local v, jerr = json.decode(res.body)
    if v == nil then return nil, "scodoc: " .. name .. ": malformed JSON: " .. jerr, "unreadable" end
    return v, "json"
  elseif ctype:find("xml", 1, true) then
    local root, xerr = client.parse_xml(res.body)
    if not root then return nil, "scodoc: " .. name .. ": malformed XML: " .. xerr, "unreadable" end
    return xml_map.tree(f.schema, root), "xml"
  end
  local what = ctype:find("html", 1, true) and "an HTML page (" .. error_message(res.body) .. ")"
    or "'" .. ctype .. "'"
  return nil, string.format("scodoc: %s answered %s where %s was expected", name, what,
                            format:upper()), "unreadable"
end

-- call(name, dept, params [, opts]) -> normalised value | nil, err, kind
function client:call(name, dept, params, opts)
  local tree, format, kind = self:fetch(name, dept, params, opts)
  if tree == nil then return nil, format, kind end
  local f = functions[name]
  if f.write then return tree end
  local value, err = normalise.apply(f.schema, tree, { unescape = f.escaped[format] })
  if value == nil then return nil, "scodoc: " .. name .. ": " .. err, "unreadable" end
  -- etud_info of an unknown student: 200 with an `error` field
  if type(value) == "table" and type(value.error) == "string" and value.error ~= "" then
    return nil, "scodoc: " .. value.error, "not_found"
  end
  return value
end

-- Checks the credentials: list_depts (public) answered with the __ac cookie
-- ScoDoc sets on a successful login. -> the departments the user may view
function client:login()
  self.http:clear_cookies()
  local depts, err, kind = self:call("list_depts", nil, { { "viewable", "1" } })
  if not depts then return nil, err, kind end
  if not self.http:cookie("__ac") then
    return nil, "scodoc: login refused for " .. tostring(self.username), "auth"
  end
  return depts
end

-- Expires the __ac cookie on the server side (best effort) and forgets it.
function client:logout()
  if self.http:cookie("__ac") then
    self.http:request { url = self.base .. "/ScoDoc/acl_users/logout" }
  end
  self.http:clear_cookies()
end

return client
