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
-- the cookie mode logs in again with it when the __ac cookie expires),
-- auth, timeout, cookies (the exported jar), depts (viewable departments).
local client = require "scodoc.client"
local api = require "scodoc.api"
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

local function failure(err, kind)
  local status = STATUS[kind] or 502
  if status >= 500 then log.warn("%s", err) end
  return status, { error = err }
end

function service.login(opts)
  local c = client.new { base_url = opts.base_url, username = opts.username,
                         password = opts.password, auth = opts.auth, timeout = opts.timeout }
  local depts, err, kind = c:login()
  if not depts then
    local status = failure(err, kind) -- logged while the password is still masked
    c:close()
    return nil, status, err
  end
  local state = { base_url = opts.base_url, username = opts.username, password = opts.password,
                  auth = opts.auth or "cookie", timeout = opts.timeout,
                  cookies = c:export_cookies(), depts = depts }
  c:close()
  return state
end

function service.call(state, endpoint, args)
  args = args or {}
  if endpoint == "session" then
    return 200, { username = state.username, auth = state.auth, depts = state.depts }
  end
  local fn = api[endpoint]
  if not fn then return 404, { error = "scodoc: unknown function " .. tostring(endpoint) } end
  if endpoint ~= "list_depts" and type(args.dept) ~= "string" then
    return 400, { error = "scodoc: " .. endpoint .. " needs a department" }
  end
  local c = client_of(state)
  local value, err, kind
  if endpoint == "list_depts" then
    value, err, kind = fn(c, args)
  else
    value, err, kind = fn(c, args.dept, args)
  end
  state.cookies = c:export_cookies()
  local status, body = 200, value
  if value == nil then status, body = failure(err, kind) end -- logged while the password is masked
  c:close()
  return status, body
end

function service.logout(state)
  local c = client_of(state)
  c:logout()
  c:close()
  state.cookies = nil
end

return service
