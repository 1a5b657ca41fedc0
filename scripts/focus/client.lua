-- The Focus for Schools HTTP client over sis.http: login, page fetches with a
-- transparent re-login when Focus has forgotten the PHP session (bug B18 of
-- the original), marking-period switching like the side form, the
-- finalGrades API and concurrent fan-outs.
--
--   local c <close> = client.open(state)   -- state: see focus/service.lua
--   res, err, kind = client.get(c, client.page("portal"))
--
-- Failures return nil, err, kind; kind is one of sis.http's transport kinds
-- (timeout, connect, ...) or "credentials" (login refused), "not_found"
-- (Focus's 404 page), "upstream" (anything else Focus answered that we cannot use).
--
-- Logging in is native (Focus's own form) or single sign-on through a SAML
-- identity provider (focus/sso.lua), chosen from what focus/ answers unless
-- state.login forces one.
local http = require "sis.http"
local html = require "sis.html"
local log = require "sis.log"
local json = require "sis.json"
local pages = require "focus.pages"
local registry = require "focus.registry"
local sso = require "focus.sso"
local student_app = require "focus.student_app"
local final_grades_api = require "focus.final_grades_api"

local client = {}

local PER_HOST = 16 -- a year calendar is 12 pages fetched at once

-- The path (relative to the base URL) of a Focus page of focus/registry.lua
-- (or one of its `paths`: login, logout, api); `...` fills its placeholders
-- (first the variant for a page with several URLs).
function client.page(name, ...)
  local p = registry.pages[name]
  local template = p and p.url or registry.paths[name]
    or error("focus.client: unknown page '" .. tostring(name) .. "'", 2)
  if type(template) == "table" then
    local variant = ...
    template = template[variant]
      or error(string.format("focus.client: page '%s' has no URL '%s'", name, tostring(variant)), 2)
    return select("#", ...) > 1 and template:format(select(2, ...)) or template
  end
  return select("#", ...) > 0 and template:format(...) or template
end

local function save(c)
  if c.closed then return end
  c.closed = true
  local st = c.state
  log.forget(st.password or "")
  st.cookies = c.http:export_cookies()
  -- Focus tells when it will forget the session (Unix time, refreshed by every page).
  st.expires = math.tointeger(tonumber(c.http:cookie("session_timeout") or "")) or st.expires
  c.http:close()
end

-- No __gc: the http session has its own, and cookies saved late would be lost anyway.
local client_mt = { __close = save, __index = { close = save } }

-- Opens a client on a state table (cookies are imported from it and saved
-- back into it by close()/__close). Its password is registered with sis.log
-- while the client is open, the only time it is sent: the registrations
-- stay as many as the open clients, however many sessions expire unseen.
function client.open(state)
  assert(type(state) == "table" and type(state.base_url) == "string", "focus.client: bad state")
  log.secret(state.password or "")
  local s = http.session { timeout = state.timeout or 30, per_host = PER_HOST }
  if state.cookies and state.cookies ~= "" then s:import_cookies(state.cookies) end
  return setmetatable({ state = state, http = s }, client_mt)
end

local function url(c, path) return c.state.base_url .. path end

-- Whether body names the side form's year select (name=side_syear, quoted
-- or not). A plain find first: the pattern alone tried every byte before it
-- (30 us a page, 1.5 % of a request's CPU).
local function names_side_select(body)
  local at = body:find("side_syear", 1, true)
  while at do
    if body:sub(at > 6 and at - 6 or 1, at - 1):find("name=[\"']?$") then return true end
    at = body:find("side_syear", at + 10, true)
  end
  return false
end

-- What a Focus answer means: the response, or nil, err, kind.
local function classify(c, res)
  local status = res.status
  if sso.expired(c, res) then return nil, "focus: single sign-on session expired", "expired" end
  if status >= 300 and status < 400 then
    local loc = res.headers.location or ""
    if loc:find("index%.php") then return nil, "focus: session expired", "expired" end
    return nil, "focus: unexpected redirect to " .. loc, "upstream"
  end
  if status == 404 then return nil, "focus: page not found", "not_found" end
  if status ~= 200 then
    local where = (res.url or ""):gsub("%?.*", "")
    return nil, string.format("focus: upstream answered HTTP %d (%s)", status, where), "upstream"
  end
  -- Full pages carry the side selects; only other pages (login page, popups,
  -- Focus's error page) need the parsers' closer look. (A page may start
  -- with a UTF-8 byte-order mark; real pages write name=side_syear unquoted.)
  if res.body:find("^\239?\187?\191?%s*<") and not names_side_select(res.body) then
    local kind = pages.kind(res.body)
    if kind == "login" then return nil, "focus: session expired", "expired" end
    if kind == "not_found" then return nil, "focus: page not found", "not_found" end
  end
  return res
end

local function send(c, req)
  local res, err, kind = c.http:request(req)
  if not res then return nil, "focus: " .. err, kind end
  return classify(c, res)
end

-- The request table for a page path (GET, or POST of `form`); redirects are
-- not followed so that Focus's 302 to index.php is seen as an expired session.
-- The forms posted here (the side form, the finalGrades API) read or set a
-- value: sent twice they do no harm, so they may take a kept connection
-- (sis.http sends other POSTs on a new one; the login has its own request).
local function request_for(c, path, form)
  return { url = url(c, path), method = form and "POST" or "GET", form = form, redirects = false,
           idempotent = true }
end

-- After a re-login Focus is back on its default year: a retried page carries
-- the year/marking period chosen earlier with client.switch (state.year/mp;
-- Focus reads side_* on any page).
local function with_side(c, req)
  local st = c.state
  if not (st.year and st.mp) or not req.url:find("/Modules%.php%?") then return req end
  local copy = {}
  for k, v in pairs(req) do copy[k] = v end
  copy.url = string.format("%s&side_syear=%d&side_mp=%s", req.url, st.year, st.mp)
  return copy
end

-- Logs in (again): a fresh PHP session. → true | nil, err, kind
function client.login(c)
  local st = c.state
  local flow, ferr, fkind = sso.choose(c)
  if not flow then return nil, ferr, fkind end
  if flow == "saml" then
    -- the identity provider's cookies stay: its session answers at once
    local ok, err, kind = sso.login(c)
    if not ok then return nil, err, kind end
    st.login_count = (st.login_count or 0) + 1
    return true
  end
  c.http:clear_cookies()
  -- `data` is itself a query string: URL-encoded properly so that & = + %
  -- in a password survive (the original concatenated it raw).
  local data = http.encode_query { { "username", st.username }, { "password", st.password } }
  local res, err, kind = c.http:request {
    url = url(c, client.page("login")), method = "POST", redirects = false,
    form = { { "login", "true" }, { "data", data } },
  }
  if not res then return nil, "focus: " .. err, kind end
  local sso_err = res.status >= 300 and res.status < 400 and sso.native_refused(c, res)
  if sso_err then return nil, sso_err, "upstream" end
  if res.status ~= 200 then
    -- (the URL tried, and what it should be: a browser shows .../focus/...)
    return nil, string.format("focus: login answered HTTP %d (%s; the Focus URL is the server's root, as in https://focus.example.org/)",
      res.status, url(c, client.page("login"))), "upstream"
  end
  local answer = json.decode(res.body)
  if type(answer) ~= "table" then return nil, "focus: the login answer is not JSON", "upstream" end
  if answer.success ~= true then return nil, "focus: invalid credentials", "credentials" end
  if not c.http:cookie("PHPSESSID") then
    return nil, "focus: the login answer set no PHPSESSID cookie", "upstream"
  end
  st.login_count = (st.login_count or 0) + 1
  return true
end

-- Runs attempt() (→ res | nil, err, kind); if Focus answered the login page,
-- logs in again and runs it once more (`retry` = true the second time).
local function with_relogin(c, attempt)
  local res, err, kind = attempt(false)
  if kind ~= "expired" then return res, err, kind end
  local ok, lerr, lkind = client.login(c)
  if not ok then return nil, lerr, lkind end
  res, err, kind = attempt(true)
  if kind == "expired" then
    return nil, "focus: still sent to the login page after logging in again", "upstream"
  end
  return res, err, kind
end

-- GET a page (path from client.page), or POST `form` to it. → res | nil, err, kind
function client.get(c, path, form)
  local req = request_for(c, path, form)
  return with_relogin(c, function(retry) return send(c, retry and with_side(c, req) or req) end)
end

-- Fetches many pages at once (one curl multi). `items`: array of paths or
-- of {url = absolute URL} (e.g. the photo). → array of {res = } or {err =, kind = },
-- in order. Pages answered with the login page are fetched again after one re-login.
function client.get_all(c, items, on_progress)
  local reqs = {}
  for i, it in ipairs(items) do
    reqs[i] = type(it) == "table" and { url = it.url, redirects = false } or request_for(c, it)
  end
  local out = {}
  local function run(idx, retry)
    local batch = {}
    for j, i in ipairs(idx) do batch[j] = retry and with_side(c, reqs[i]) or reqs[i] end
    local results = c.http:request_all(batch, { on_progress = on_progress })
    for j, i in ipairs(idx) do
      local r = results[j]
      if r.error then
        out[i] = { err = "focus: " .. r.error, kind = r.kind }
      else
        local res, err, kind = classify(c, r)
        out[i] = { res = res, err = err, kind = kind }
      end
    end
  end
  local all = {}
  for i = 1, #reqs do all[i] = i end
  run(all, false)
  local expired = {}
  for i, o in ipairs(out) do
    if o.kind == "expired" then expired[#expired + 1] = i end
  end
  if #expired > 0 then
    local ok, err, kind = client.login(c)
    if not ok then
      for _, i in ipairs(expired) do out[i] = { err = err, kind = kind } end
      return out
    end
    run(expired, true)
    for _, i in ipairs(expired) do
      if out[i].kind == "expired" then
        out[i] = { err = "focus: still sent to the login page after logging in again",
                   kind = "upstream" }
      end
    end
  end
  return out
end

-- Switches the year / marking period like the side form: posts side_syear
-- and side_mp to a Modules.php page and returns that page in the new period.
function client.switch(c, year, mp, path)
  local res, err, kind = client.get(c, path, { { "side_syear", year }, { "side_mp", mp } })
  if res then c.state.year, c.state.mp = year, tostring(mp) end
  return res, err, kind
end

-- One finalGrades API call (`argument` = -1, all_SEM, all_SEM_exams, all_QTR).
-- Focus only answers it once the final-grades page was opened in the session;
-- the page gives the accessID and, from 2018 on, its own key and where the
-- API lives (focus/final_grades_page.lua); when it does not say, the 2016-17
-- endpoint is tried, then the one Focus moved it to in 2018-12. The later
-- Focus leaves domains out of its answer (term names, subjects): they are
-- fetched with requestDomains and merged in (focus/final_grades_api.lua).
-- → the JSON text | nil, err, kind
function client.final_grades(c, argument)
  local st = c.state
  local function post(path, form)
    local res, err, kind = send(c, request_for(c, path, form))
    if not res then return nil, err, kind end
    local answer = json.decode(res.body)
    if type(answer) == "table" and answer.success == false then
      return nil, "focus: the finalGrades API refused the call: " .. tostring(answer.error), "upstream"
    end
    return res, answer
  end
  local function attempt()
    if not st.student_id or st.grades_page_login ~= st.login_count then
      -- (with the chosen year: this may be the first page of a new session)
      local res, err, kind = send(c, with_side(c, request_for(c, client.page("final_grades_page"))))
      if not res then return nil, err, kind end
      -- the API's accessID: the whole id, whatever its length (the original read 3 characters, B9)
      local page, perr = pages.parse("final_grades_page", res.body)
      if not page then return nil, perr, "upstream" end
      st.student_id, st.grades_page_login = page.student_id, st.login_count
      st.api_key, st.api_endpoint = page.key, page.endpoint
    end
    local access = { student_id = st.student_id, key = st.api_key }
    local paths = { st.api_endpoint or client.page("api") }
    if not st.api_endpoint then paths[2] = client.page("legacy_api") end
    local res, answer, kind
    for _, path in ipairs(paths) do
      res, answer, kind = post(path, final_grades_api.grades_form(access, argument))
      if res then st.api_endpoint = path end
      if kind ~= "not_found" then break end
    end
    if not res then return nil, answer, kind end
    if not st.api_key then return res.body end
    -- domains fetched earlier in this Focus session first (they do not change)
    if st.api_domains and st.api_domains_login == st.login_count then
      final_grades_api.merge_domains(answer, { result = st.api_domains })
    end
    local needs = final_grades_api.missing_domains(answer)
    if needs then
      local dres, got, dkind = post(st.api_endpoint, final_grades_api.domains_form(access, needs))
      if not dres then return nil, got, dkind end
      final_grades_api.merge_domains(answer, got)
      if st.api_domains_login ~= st.login_count then
        st.api_domains, st.api_domains_login = json.object(), st.login_count
      end
      final_grades_api.merge_domains({ result = { domains = st.api_domains } }, got)
    end
    return json.encode(answer)
  end
  return with_relogin(c, attempt)
end

-- The data of page `name` (demographic, address) when its page, answered in
-- `res`, is the Student application (2017-18 on; focus/student_app.lua): the
-- multipart POST of its `__call__` with the page's tokens. After a re-login
-- the page is fetched again (its tokens belong to the session).
-- → { page = res, answer = decoded list } | nil, err, kind
function client.student_app(c, name, res)
  local base = c.state.base_url
  local function attempt(retry)
    local page = res
    if retry then
      local err, kind
      page, err, kind = send(c, with_side(c, request_for(c, client.page(name))))
      if not page then return nil, err, kind end
    end
    local doc <close> = html.parse(page.body)
    local info, why = student_app.info(doc)
    if not info then return nil, "focus/" .. name .. ": the Student application page has " .. why, "upstream" end
    local requests, rerr = student_app.requests(name, info)
    if not requests then return nil, "focus/" .. name .. ": " .. rerr, "upstream" end
    local target = sso.resolve(page.url or url(c, client.page(name)), info.url)
    if target:sub(1, #base) ~= base then
      return nil, "focus/" .. name .. ": the application's endpoint is not on this Focus: " .. target:gsub("%?.*", ""),
        "upstream"
    end
    local r, err, kind = send(c, { url = target, method = "POST", redirects = false,
                                   multipart = { { "__call__", json.encode { requests = requests } } } })
    if not r then return nil, err, kind end
    local answer = json.decode(r.body)
    if type(answer) ~= "table" or not json.is_array(answer) or #answer ~= #requests then
      return nil, "focus/" .. name .. ": the Student application did not answer one result per request", "upstream"
    end
    for i, a in ipairs(answer) do
      if type(a) ~= "table" or a.error ~= nil or a.result == nil then
        return nil, string.format("focus/%s: the Student application refused %s.%s: %s", name,
          requests[i].controller, requests[i].method, tostring(type(a) == "table" and a.error or a)), "upstream"
      end
    end
    return { page = page, answer = answer }
  end
  return with_relogin(c, attempt)
end

-- Ends the Focus session (and forgets its cookies). → true | nil, err, kind
function client.logout(c)
  local res, err, kind = c.http:request { url = url(c, client.page("logout")), redirects = false }
  c.http:clear_cookies()
  if not res then return nil, "focus: " .. err, kind end
  return true
end

return client
