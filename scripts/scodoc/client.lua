-- ScoDoc 7 HTTP client: URLs, the three ways to authenticate, and the
-- classification of ScoDoc's answers into data or errors.
--
--   local c = client.new{ base_url = "https://scodoc.example.org/", username =, password =,
--                         auth = "cookie" | "params" | "basic", format = "json" | "xml",
--                         timeout = 30, cookies = <exported jar> }
--   value, err, kind, detail = c:call(name, dept, params [, { format = "xml" }])
--
-- `params` is a list of {name, value} pairs in ScoDoc's own names (values
-- strings); scodoc.api builds them. Errors are nil, "scodoc: ...", kind
-- [, detail] with kind one of: auth (bad credentials, or no credentials
-- where needed), forbidden (logged in without the needed role), not_found
-- (unknown department, function, student, semestre...), bad_request
-- (missing or refused parameter), unreadable (an answer that is not what
-- was asked, e.g. an HTML page where JSON or XML was expected), timeout,
-- network. The message is in the user's terms; `detail` (when there is
-- one) is the technical evidence for the log: the URL, curl's text, the
-- page's title. Neither ever carries the password.
--
-- Authentication (docs/scodoc.md): "params" posts __ac_name/__ac_password
-- with every request, "basic" sends an Authorization header, "cookie" (the
-- default) logs in with HTTP basic once and then relies on the cookie
-- ScoDoc's user folder sets, whatever it is (__ac, or the __aca token of a
-- default install): the session is the cookie jar. It logs in again once
-- when the cookie stops working.
local http = require "sis.http"
local json = require "sis.json"
local xml = require "sis.xml"
local log = require "sis.log"
local codec = require "sis.codec"
local text = require "lib.text"
local functions = require "scodoc.functions"
local normalise = require "scodoc.normalise"
local xml_map = require "scodoc.xml_map"

local client = {}
client.__index = client

local AUTH = { cookie = true, params = true, basic = true }
local FORMATS = { json = true, xml = true }
-- exUserFolder's cookies: __ac (cookie_mode 1: base64 of user:password) and
-- __aca (cookie_mode 2, what ScoDoc's installer sets up: an opaque token)
local AUTH_COOKIES = { "__ac", "__aca" }

-- A department as ScoDoc names them: its create_dept.sh takes letters and
-- digits; `_` and `-` are let through (ScoDoc 9's command line does not
-- check). Anything else would change the upstream URL's path.
function client.valid_dept(dept)
  return type(dept) == "string" and #dept <= 64 and dept:match("^[A-Za-z0-9_-]+$") ~= nil
end

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

local function has_auth_cookie(c)
  for _, name in ipairs(AUTH_COOKIES) do
    if c.http:cookie(name) then return true end
  end
  return false
end

local function basic(c)
  return "Basic " .. codec.base64_encode(c.username .. ":" .. c.password)
end

-- Adds the credentials to a request. Returns true when it relies on the
-- cookie alone (so a refusal may just mean an expired cookie).
local function authenticate(c, req, pairs_, force_login)
  if not c.username then return false end
  if c.auth == "params" then
    pairs_[#pairs_ + 1] = { "__ac_name", c.username }
    pairs_[#pairs_ + 1] = { "__ac_password", c.password or "" }
  elseif c.auth == "basic" or force_login or not has_auth_cookie(c) then
    req.headers.Authorization = basic(c)
  else
    return true
  end
  return false
end

-- The text of a piece of HTML: tags become spaces, entities decoded,
-- blanks collapsed. (Plain finds: "<[^>]*>" rescans to the end from every
-- "<" of a page that never closes one.)
local function page_text(html)
  local parts, i = {}, 1
  while true do
    local lt = html:find("<", i, true)
    local gt = lt and html:find(">", lt + 1, true)
    if not gt then
      parts[#parts + 1] = html:sub(i)
      break
    end
    parts[#parts + 1] = html:sub(i, lt - 1)
    parts[#parts + 1] = " "
    i = gt + 1
  end
  local s = codec.html_unescape(table.concat(parts))
  return text.strip((s:gsub("%s+", " ")))
end

-- The text between the first `open` and the next `close` (plain finds: a
-- pattern "open(.-)close" is retried from every `open` of a page that has
-- no `close`, quadratic on a hostile page), leading blanks skipped.
local function between(body, open, close)
  local from = body:find(open, 1, true)
  if not from then return nil end
  from = body:find("%S", from + #open) or #body + 1
  local to = body:find(close, from, true)
  return to and body:sub(from, to - 1) or nil
end

-- The message of a ScoDoc/Zope error page.
local function error_message(body)
  local value = between(body, "Error Value:", "</")
  if value then return codec.html_unescape(value) end
  local erreur = between(body, "<h2>Erreur !</h2>", "</p>")
  if erreur and erreur:sub(1, 3) == "<p>" then return page_text(erreur:sub(4)) end
  local param = between(body, "The parameter, <em>", "</em>, was omitted")
  if param then return "missing parameter " .. param end
  local resource = between(body, "<b>Resource:</b>", "</p>")
  if resource then return "resource not found: " .. resource end
  local title = between(body, "<title>", "</title>")
  return title and page_text(title) or "no message"
end

-- ScoDoc 7 reports unknown ids through exceptions (500 "Erreur" pages);
-- these messages say that what was asked for does not exist.
local NOT_FOUND_MESSAGES = { "inconnu", "invalid group_id", "non inscrit", "list index out of range" }

-- exUserFolder's login page (docLogin), recognised by its content in any
-- letter case whatever the status ScoDoc sends it with (401, 200 or 500).
local LOGIN_MARKS = { 'name="__ac_password"', "name='__ac_password'", "name=__ac_password",
                      "<title>please login</title>", "<title>login failed</title>",
                      "<title>identifiez vous sur scodoc</title>" }
local function is_login_page(body)
  local lower = body:lower()
  for _, mark in ipairs(LOGIN_MARKS) do
    if lower:find(mark, 1, true) then return true end
  end
  return false
end

-- What the user is told for each kind of failure ScoDoc is not the author of.
local UNREADABLE = "scodoc: ScoDoc answered a page sis cannot read: "

-- Turns an answer that is not data into nil, err, kind, detail (nil when
-- it is data). Kind "refused": the login page (or a 401/403), which the
-- caller turns into auth or forbidden. A write answers an HTML page even
-- when it works, so its "Erreur !" page must be told from its message
-- whatever the status.
local function refusal(f, dept, res, ctype)
  local body, status = res.body, res.status
  local html = ctype:find("html", 1, true) or body:find("^%s*<[hH][tT][mM][lL]")
  if html and is_login_page(body) or status == 401 or status == 403 then
    -- the documentation's wording for a missing role (not on a default install)
    if body:find("droits suffisants", 1, true) then
      return nil, "scodoc: permission denied (the account lacks the role needed)", "forbidden"
    end
    return nil, nil, "refused"
  end
  if status == 404 then
    local what = f.container == "root" and "function " .. f.name
      or string.format("department %s or function %s", dept, f.name)
    return nil, "scodoc: not found on this ScoDoc: " .. what, "not_found", "HTTP 404 " .. error_message(body)
  end
  if status == 400 then return nil, "scodoc: " .. error_message(body), "bad_request" end
  if html and (status == 500 and body:find("Erreur", 1, true)
               or status == 200 and f.write and body:find("<h2>Erreur", 1, true)) then
    local msg = error_message(body)
    for _, pat in ipairs(NOT_FOUND_MESSAGES) do
      if msg:find(pat, 1, true) then return nil, "scodoc: " .. msg, "not_found" end
    end
    return nil, "scodoc: " .. msg, "bad_request"
  end
  if status ~= 200 then
    return nil, UNREADABLE .. string.format("%s: HTTP status %d", f.name, status), "unreadable",
      html and "page: " .. error_message(body) or nil
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

-- Whether the strings of a tree read from XML still carry one level of
-- quote_xml_attr's escaping (ScoDoc 7 and 9.0 escape those values twice,
-- 6.5 once): escaped text has no raw < > " ' and no & outside an entity.
-- A text whose only special characters are entity texts ("R&amp;D" escaped
-- once) cannot be told apart and is read as escaped.
local function still_escaped(tree)
  local raw = false
  local function walk(v)
    if raw then return end
    if type(v) == "string" then
      if v:find("[<>\"']") then raw = true return end
      for rest in v:gmatch("&([^&]*)") do
        if not rest:match("^#?%w+;") then raw = true return end
      end
    elseif type(v) == "table" then
      for _, x in pairs(v) do walk(x) end
    end
  end
  walk(tree)
  return not raw
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
  local msg = page_text(first_paragraph(body))
  local count
  for _, pat in ipairs(WRITE_RESULTS) do
    count = count or msg:match(pat)
  end
  return { count = count and math.tointeger(tonumber(count)) or json.null, message = msg }
end

-- The format a function is fetched in: the one asked when it has it, else
-- its only one. `format` is sent only to functions that take both.
local function format_of(f, asked)
  if f.formats[asked] then return asked end
  return next(f.formats)
end

-- One HTTP exchange. -> res, cookie_only | nil, err, kind, detail
local function exchange(c, f, dept, params, format, force_login)
  local q = {}
  for i, p in ipairs(params) do
    if not f.allowed[p[1]] then error(string.format("scodoc: %s takes no parameter '%s'", f.name, p[1]), 3) end
    q[i] = p
  end
  if not f.write and f.formats.json and f.formats.xml then q[#q + 1] = { "format", format } end
  local req = { url = c.base .. "/" .. functions.path(f, dept), headers = {} }
  local cookie_only = authenticate(c, req, q, force_login)
  -- the credentials never go into a URL: ScoDoc's error page prints the
  -- query string (and mails it to its maintainers)
  if f.write or c.auth == "params" then req.method, req.form = "POST", q else req.method, req.query = "GET", q end
  local res, err, kind = c.http:request(req)
  if not res then
    local detail = string.format("%s %s: %s", req.method, req.url, tostring(err))
    if kind == "timeout" then return nil, "scodoc: ScoDoc did not answer in time", "timeout", detail end
    return nil, "scodoc: ScoDoc could not be reached", "network", detail
  end
  return res, cookie_only
end

-- A Python value's repr (what Zope publishes without `format`, and what
-- ScoDoc 6 answers for some functions whatever is asked).
local function is_repr(body) return body:match("^%s*[%[{(]") ~= nil end

local function decode(self, f, res, ctype, format)
  local body = res.body
  if f.write then
    if not ctype:find("html", 1, true) then
      return nil, UNREADABLE .. f.name .. ": " .. ctype .. " where its HTML message was expected", "unreadable"
    end
    return write_result(body), "html"
  end
  if ctype:find("json", 1, true) then
    local v, jerr = json.decode(body)
    if v == nil then return nil, UNREADABLE .. f.name .. ": malformed JSON: " .. jerr, "unreadable" end
    return v, "json"
  elseif ctype:find("xml", 1, true) then
    local root, xerr = client.parse_xml(body)
    if not root then return nil, UNREADABLE .. f.name .. ": malformed XML: " .. xerr, "unreadable" end
    return xml_map.tree(f.schema, root), "xml"
  elseif f.formats.text and ctype:find("text/plain", 1, true) then
    return text.strip(body), "text"
  elseif is_repr(body) then
    if f.read_repr then
      local v = f.read_repr(body)
      if v then return v, "repr" end
    end
    return nil, UNREADABLE .. string.format("%s answered a Python value instead of %s: this ScoDoc "
      .. "(6.x) does not export it, ScoDoc 7 or later does", f.name, format:upper()), "unreadable"
  end
  local what = ctype:find("html", 1, true) and "an HTML page" or "'" .. ctype .. "'"
  return nil, UNREADABLE .. string.format("%s: %s where %s was expected", f.name, what, format:upper()),
    "unreadable", ctype:find("html", 1, true) and "page: " .. error_message(body) or nil
end

-- Whether an answer sets an authentication cookie (a successful login).
local function sets_auth_cookie(res)
  local set = res.headers["set-cookie"] or {}
  for _, line in ipairs(type(set) == "table" and set or { set }) do
    local name, value = line:match("^%s*([^=;%s]+)=([^;]*)")
    for _, auth in ipairs(AUTH_COOKIES) do
      if name == auth and value ~= "" and value ~= "deleted" then return true end
    end
  end
  return false
end

-- Whether ScoDoc accepts the credentials: list_depts (public) answered
-- with an authentication cookie. Remembered for the client's life.
function client:credentials_accepted()
  if self.accepted == nil then
    local res = exchange(self, functions.list_depts, nil, { { "viewable", "1" } }, "json", true)
    self.accepted = res ~= nil and res.status == 200 and not is_login_page(res.body)
      and sets_auth_cookie(res)
  end
  return self.accepted
end

-- fetch(name, dept, params [, opts]) -> tree, format | nil, err, kind, detail
-- The decoded answer before normalisation (JSON value, or the XML read into
-- the JSON's shape); for writes {count, message}.
function client:fetch(name, dept, params, opts)
  local f = functions[name] or error("scodoc: unknown function " .. tostring(name), 2)
  if f.container ~= "root" then
    if dept == nil then error("scodoc: " .. name .. " needs a department", 2) end
    if not client.valid_dept(dept) then
      return nil, "scodoc: not a department name: " .. string.format("%q", tostring(dept)):sub(1, 80),
        "bad_request"
    end
  end
  local asked = opts and opts.format or self.format
  if not FORMATS[asked] then error("scodoc: format must be json or xml, got " .. tostring(asked), 2) end
  local format = format_of(f, asked)
  local res, cookie_only, xkind, xdetail = exchange(self, f, dept, params, format)
  if not res then return nil, cookie_only, xkind, xdetail end
  local ctype = (res.headers["content-type"] or ""):lower()
  local _, err, kind, detail = refusal(f, dept, res, ctype)
  if kind == "refused" and cookie_only then -- the cookie expired: log in again once
    log.info("scodoc: the session cookie was refused, logging in again as %s", self.username)
    res, err, kind, detail = exchange(self, f, dept, params, format, true)
    if not res then return nil, err, kind, detail end
    ctype = (res.headers["content-type"] or ""):lower()
    _, err, kind, detail = refusal(f, dept, res, ctype)
  end
  if kind == "refused" then
    -- a default install shows the same login page for a wrong password and
    -- for a missing role: the role is missing when the credentials work
    if self.username and name ~= "list_depts" and self:credentials_accepted() then
      return nil, "scodoc: permission denied (the account lacks the role needed)", "forbidden"
    end
    if name == "list_depts" then self.accepted = false end -- a public function: the credentials
    return nil, "scodoc: authentication failed (ScoDoc answered its login page)", "auth"
  end
  if kind then return nil, err, kind, detail end
  return decode(self, f, res, ctype, format)
end

-- call(name, dept, params [, opts]) -> normalised value | nil, err, kind, detail
function client:call(name, dept, params, opts)
  local tree, format, kind, detail = self:fetch(name, dept, params, opts)
  if tree == nil then return nil, format, kind, detail end
  local f = functions[name]
  if f.write then return tree end
  local unescape = f.escaped[format]
  if unescape == "detect" then unescape = still_escaped(tree) end
  local value, err = normalise.apply(f.schema, tree, { unescape = unescape })
  if value == nil then return nil, UNREADABLE .. name .. ": " .. err, "unreadable" end
  -- etud_info of an unknown student: 200 with an `error` field
  if type(value) == "table" and type(value.error) == "string" and value.error ~= "" then
    return nil, "scodoc: " .. value.error, "not_found"
  end
  if f.empty_is and value == "" then return nil, "scodoc: " .. f.empty_is, "not_found" end
  return value
end

-- Checks the credentials: list_depts (public) answered with the
-- authentication cookie ScoDoc sets on a successful login. -> the
-- departments the user may view
function client:login()
  self.http:clear_cookies()
  local depts, err, kind, detail = self:call("list_depts", nil, { { "viewable", "1" } })
  if not depts then return nil, err, kind, detail end
  if not has_auth_cookie(self) then
    self.accepted = false
    return nil, "scodoc: login refused for " .. tostring(self.username), "auth"
  end
  self.accepted = true
  return depts
end

-- Expires the authentication cookie on the server side (best effort) and
-- forgets the jar.
function client:logout()
  if has_auth_cookie(self) then
    self.http:request { url = self.base .. "/ScoDoc/acl_users/logout" }
  end
  self.http:clear_cookies()
end

return client
