-- The ScoDoc service: a logged-in state plus an endpoint name -> an
-- HTTP-shaped answer (docs/architecture.md "Services").
--
--   state, status, msg = scodoc.login{ base_url =, username =, password =
--                                      [, auth = "cookie"|"params"|"basic"] [, timeout = s] }
--   status, body = scodoc.call(state, endpoint, args)
--   scodoc.logout(state)
--
-- Endpoints are the functions of scodoc.api (ScoDoc's names: list_depts,
-- formsemestre_bulletinetud, ListeAbsEtud, doSignaleAbsence...) plus
-- "session"; args are that function's arguments plus `dept` and `format`.
-- The state is a plain JSON-serialisable table: base_url, username,
-- password (kept in memory: the basic and params modes send it each time,
-- the cookie mode logs in again with it when the cookie expires), auth,
-- timeout, cookies (the exported jar: the session), depts (viewable
-- departments).
--
-- Error bodies are in the user's terms: ScoDoc's own message for a 4xx
-- ("scodoc: code etudiant inconnu"), "ScoDoc did not answer in time",
-- "ScoDoc answered a page sis cannot read: ..." for a 5xx; the upstream
-- URL, curl's text and the page's title go to the log line only.
local client = require "scodoc.client"
local api = require "scodoc.api"
local functions = require "scodoc.functions"
local log = require "sis.log"

local service = {}

-- client error kinds -> HTTP statuses of our answers
local STATUS = { auth = 401, forbidden = 403, not_found = 404, bad_request = 400,
                 unreadable = 502, network = 502, timeout = 504 }
service.STATUS = STATUS

local function client_of(state)
  return client.new { base_url = state.base_url, username = state.username,
                      password = state.password, auth = state.auth, timeout = state.timeout,
                      cookies = state.cookies }
end

-- -> status, body. Logged while the client is open, so the password is masked.
local function failure(err, kind, detail)
  local status = STATUS[kind] or 502
  if status < 500 then return status, { error = err } end
  log.warn("%s%s", err, detail and " (" .. detail .. ")" or "")
  return status, { error = (err:gsub("^scodoc: ", "")) }
end

function service.login(opts)
  local c <close> = client.new { base_url = opts.base_url, username = opts.username,
                                 password = opts.password, auth = opts.auth, timeout = opts.timeout }
  local depts, err, kind, detail = c:login()
  if not depts then
    local status, body = failure(err, kind, detail)
    return nil, status, body.error
  end
  return { base_url = opts.base_url, username = opts.username, password = opts.password,
           auth = opts.auth or "cookie", timeout = opts.timeout,
           cookies = c:export_cookies(), depts = depts }
end

function service.call(state, endpoint, args)
  args = args or {}
  if endpoint == "session" then
    return 200, { username = state.username, auth = state.auth, depts = state.depts }
  end
  local fn = api[endpoint]
  if not fn or not functions[endpoint] then
    return 404, { error = "scodoc: unknown function " .. tostring(endpoint) }
  end
  local fargs, dept = {}, args.dept
  for k, v in pairs(args) do if k ~= "dept" then fargs[k] = v end end
  local root = functions[endpoint].container == "root"
  if not root and type(dept) ~= "string" then
    return 400, { error = "scodoc: " .. endpoint .. " needs a department" }
  end
  local c <close> = client_of(state)
  local value, err, kind, detail
  if root then
    value, err, kind, detail = fn(c, fargs)
  else
    value, err, kind, detail = fn(c, dept, fargs)
  end
  state.cookies = c:export_cookies()
  if value == nil then return failure(err, kind, detail) end
  return 200, value
end

function service.logout(state)
  local c <close> = client_of(state)
  c:logout()
  state.cookies = nil
end

return service
