-- Single sign-on for the Focus schools whose focus/ sends the browser to a
-- SAML identity provider (Duval's ADFS, evidence: rothso/gradeskinda
-- RemoteLoginService.java, rothso/gradeshift FocusLoginApi.kt): follow focus/
-- to the provider, fill its form holding a password input (ADFS: UserName /
-- Password), submit it, then submit the auto-posting form that carries
-- SAMLResponse (and RelayState) back to Focus, every cookie kept in the
-- client's jar. The result is a Focus session like a native login's.
--
--   flow, err, kind = sso.choose(c)   -- "native" | "saml" (state.login forces one)
--   ok, err, kind = sso.login(c)       -- through the identity provider
--   sso.expired(c, res)                -- does this Focus answer mean "log in again"?
--   sso.native_refused(c, res)         -- the message when a native login met a sign-on redirect, or nil
--
-- c is a focus.client (c.http: the sis.http session, c.state). The password
-- is sent only in the form that asks for it; it is registered with sis.log
-- while the client is open (focus.client), so it is masked in logs and in
-- the request-body digests of cassettes.
local html = require "sis.html"
local pages = require "focus.pages"

local sso = {}

local MAX_STEPS = 8 -- pages between focus/ and a Focus session (Duval: 3)

-- "https://host:port" of an absolute URL, or nil.
local function origin(url) return url:match("^(%a[%w+.-]*://[^/?#]+)") end

local function host(url) return (url:match("^%a[%w+.-]*://([^/?#]+)") or url):gsub("^.*@", "") end

-- ref (a Location, a form action) resolved against the URL of the page it came from.
function sso.resolve(base, ref)
  if ref:find("^%a[%w+.-]*:") then return ref end
  if ref:sub(1, 2) == "//" then return (base:match("^(%a[%w+.-]*:)") or "https:") .. ref end
  if ref:sub(1, 1) == "/" then return (origin(base) or "") .. ref end
  local path = base:gsub("#.*", "")
  if ref == "" then return path end
  if ref:sub(1, 1) == "?" then return (path:gsub("%?.*", "")) .. ref end
  return (path:gsub("%?.*", ""):gsub("[^/]*$", "")) .. ref
end

-- Is url a page of this Focus (same origin, under the base URL's path)?
local function in_focus(c, url)
  return url:sub(1, #c.state.base_url) == c.state.base_url
end

-- Words in a URL that name a SAML/SSO step (Duval's adfs/ls, simplesaml,
-- Pasco's sso/saml2, Palm Beach's multiauth, Broward's auth/).
local SSO_WORDS = { "saml", "adfs", "/sso", "sso/", "multiauth", "/auth/", "login.microsoftonline", "idp" }

local function looks_sso(url)
  local u = url:lower()
  for _, w in ipairs(SSO_WORDS) do
    if u:find(w, 1, true) then return true end
  end
  return false
end

-- A page carrying a SAML message to post on (the provider's answer, or the
-- service provider's request in the POST binding).
local function carries_saml(body)
  return body:find('name="SAMLResponse"', 1, true) or body:find("name='SAMLResponse'", 1, true)
    or body:find('name="SAMLRequest"', 1, true) or body:find("name='SAMLRequest'", 1, true)
end

-- The forms of a page: {action (absolute), method, fields = {{name, value}},
-- password = name of its password input, user = name of its user input, saml = true}.
local TEXTUAL = { text = true, email = true, [""] = true, tel = true }

local function read_forms(page_url, body)
  local doc <close> = html.parse(body)
  if not doc then return {}, nil end
  local out = {}
  for _, f in ipairs(doc:select("form")) do
    local form = { action = sso.resolve(page_url, f:attr("action") or ""),
                   method = (f:attr("method") or "GET"):upper(), fields = {} }
    for _, input in ipairs(f:select("input, select, textarea")) do
      local name = input:attr("name")
      local itype = (input:attr("type") or ""):lower()
      if name and name ~= "" then
        if itype == "password" then
          form.password = form.password or name
        elseif TEXTUAL[itype] and input:tag() == "input" and not form.user and not form.password then
          form.user = name
        elseif itype == "submit" or itype == "button" or itype == "image" or itype == "reset" then
          name = nil -- a browser sends only the button it clicked
        elseif (itype == "checkbox" or itype == "radio") and not input:attr("checked") then
          name = nil
        end
        if name then
          form.fields[#form.fields + 1] = { name, input:attr("value") or "" }
          if name == "SAMLResponse" or name == "SAMLRequest" then form.saml = true end
        end
      end
    end
    out[#out + 1] = form
  end
  return out, doc:title()
end

-- GET (or POST `form`) url, following redirects, in the client's jar.
local function fetch(c, url, form)
  local res, err, kind = c.http:request { url = url, method = form and "POST" or "GET", form = form,
                                          redirects = true }
  if not res then return nil, "focus: single sign-on: " .. err, kind end
  return res
end

local function fields_with(form, values)
  local out = {}
  for i, f in ipairs(form.fields) do
    out[i] = { f[1], values[f[1]] or f[2] }
  end
  return out
end

-- Where the flow stopped and why, in the user's terms.
local function stuck(res, title, what)
  return nil, string.format("focus: single sign-on at %s cannot go on: %s (page '%s' at %s); sis fills "
    .. "only a user name and password form (multi-factor authentication or an account chooser need a browser)",
    host(res.url or ""), what, title or "untitled", (res.url or ""):gsub("%?.*", "")), "upstream"
end

-- Logs in through the identity provider. → true | nil, err, kind
function sso.login(c)
  local st = c.state
  local res, err, kind = fetch(c, st.base_url .. "focus/")
  local password_sent = false
  for _ = 1, MAX_STEPS do
    if not res then return nil, err, kind end
    local url = res.url or ""
    if res.status ~= 200 then
      return nil, string.format("focus: single sign-on: %s answered HTTP %d", host(url), res.status), "upstream"
    end
    if in_focus(c, url) and not carries_saml(res.body) then
      local page = pages.kind(res.body)
      if page == "page" and c.http:cookie("PHPSESSID") then return true end
      if page == "login" and not password_sent then
        return nil, "focus: single sign-on was asked for, but Focus answered its own login page "
          .. "(SIS_FOCUS_LOGIN=native, or unset to detect the login)", "upstream"
      end
      if page == "login" then return nil, "focus: invalid credentials", "credentials" end
    end
    local forms, title = read_forms(url, res.body)
    local saml, login
    for _, f in ipairs(forms) do
      if f.saml and not saml then saml = f end
      if f.password and not login then login = f end
    end
    if saml then
      res, err, kind = fetch(c, saml.action, saml.fields)
    elseif login then
      if password_sent then return nil, "focus: invalid credentials", "credentials" end
      if not login.user then return stuck(res, title, "its password form has no user name field") end
      password_sent = true
      res, err, kind = fetch(c, login.action, fields_with(login, {
        [login.user] = st.username, [login.password] = st.password,
      }))
    else
      return stuck(res, title, password_sent and "the password was accepted, then a page with no password "
        .. "form came" or "the page has no password form")
    end
  end
  return nil, string.format("focus: single sign-on: no Focus session after %d pages (last: %s)", MAX_STEPS,
    host(res and res.url or "")), "upstream"
end

-- The login flow: state.login ("native" / "saml") forces it; otherwise what
-- focus/ answers decides (once per state): a redirect off Focus or to a SAML
-- step, or a page posting a SAML message, is single sign-on.
-- → "native" | "saml", or nil, err, kind
function sso.choose(c)
  local st = c.state
  if st.login == "native" or st.login == "saml" then st.login_flow = st.login end
  if st.login_flow then return st.login_flow end
  local res, err, kind = c.http:request { url = st.base_url .. "focus/", redirects = false }
  if not res then return nil, "focus: " .. err, kind end
  local flow = "native"
  if res.status >= 300 and res.status < 400 then
    local loc = sso.resolve(res.url or st.base_url, res.headers.location or "")
    if not in_focus(c, loc) or looks_sso(loc:sub(#st.base_url + 1)) then flow = "saml" end
  elseif carries_saml(res.body) then
    flow = "saml"
  end
  st.login_flow = flow
  return flow
end

-- A Focus answer that means the single sign-on session must be renewed: a
-- redirect to the identity provider, or its auto-post page.
function sso.expired(c, res)
  if c.state.login_flow ~= "saml" then return false end
  if res.status >= 300 and res.status < 400 then
    local loc = sso.resolve(res.url or c.state.base_url, res.headers.location or "")
    return not in_focus(c, loc) or looks_sso(loc:sub(#c.state.base_url + 1))
  end
  return res.status == 200 and carries_saml(res.body) and true or false
end

-- The message for a native login answered with a redirect to single sign-on,
-- or nil when the redirect stays in Focus (not a sign-on: the caller says why).
function sso.native_refused(c, res)
  local loc = sso.resolve(res.url or c.state.base_url, res.headers.location or "")
  if in_focus(c, loc) and not looks_sso(loc:sub(#c.state.base_url + 1)) then return nil end
  return string.format("focus: the login was answered with a redirect to %s: this school logs in through "
    .. "single sign-on (SIS_FOCUS_LOGIN=saml, or unset to detect it)", host(loc))
end

return sso
