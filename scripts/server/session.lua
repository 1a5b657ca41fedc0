-- Per-request session access for handlers: req.session(ns),
-- req.start_session(ns, state), req.end_session(ns).
--
-- The states live in the C store (sis.server), JSON-encoded, one cookie per
-- namespace: sis_<ns> = 128-bit random id (HttpOnly, SameSite=Lax, Path=/).
-- Every session named by the request's cookies is taken (held) before the
-- handler runs, in namespace order, so two requests of one session run one
-- after the other and two requests of one client can never wait on each other
-- in a cycle. The C side lets go of them when the request ends.
local server = require "sis.server"
local json = require "sis.json"

local M = {}

local ATTRS = "; Path=/; HttpOnly; SameSite=Lax"
local MAX_FROM_COOKIES = 4 -- the store lets a request hold 8; keep room for new ones

local function is_ns(ns)
  return type(ns) == "string" and #ns <= 15 and ns:match("^[a-z][a-z0-9_]*$") ~= nil
end

local function check_ns(ns)
  if not is_ns(ns) then error("bad session namespace " .. tostring(ns), 3) end
end

-- Cookie values hold no blanks (RFC 6265); a pair with blanks inside its
-- value is skipped. ("(.-)%s*$" trimmed in quadratic time: a 16 KB header of
-- blanks cost 2 s of CPU.)
local function parse_cookies(header)
  local out = {}
  for pair in (header or ""):gmatch("[^;]+") do
    local name, value = pair:match("^%s*([^=%s]+)%s*=%s*(%S*)%s*$")
    if name and out[name] == nil then out[name] = value end
  end
  return out
end

-- Opens the request's sessions and installs the session functions on req.
-- Returns the request's session record for commit/abort.
function M.attach(req)
  local cookies = parse_cookies(req.headers.cookie)
  local names = {}
  for name, value in pairs(cookies) do
    local ns = name:match("^sis_(.*)$")
    if is_ns(ns) and #value == 32 and value:match("^[0-9a-f]+$") then names[#names + 1] = ns end
  end
  table.sort(names)
  local open = {} -- ns -> { id, json = stored text, state = decoded table, new, ended }
  for i = 1, math.min(#names, MAX_FROM_COOKIES) do
    local ns = names[i]
    local id = cookies["sis_" .. ns]
    local text = server.session_open(ns, id)
    if text then open[ns] = { id = id, json = text } end
  end
  local secure = req.headers["x-forwarded-proto"] == "https" and "; Secure" or ""
  local rec = { open = open, attrs = ATTRS .. secure }

  function req.session(ns)
    check_ns(ns)
    local e = open[ns]
    if not e or e.ended then return nil end
    if e.state == nil then
      e.state = json.decode(e.json)
      if type(e.state) ~= "table" then e.state = false end -- unreadable: no session
    end
    return e.state or nil
  end

  function req.start_session(ns, state)
    check_ns(ns)
    if type(state) ~= "table" then error("start_session: state must be a table", 2) end
    local old = open[ns]
    if old and not old.ended then server.session_destroy(ns, old.id) end
    local text = json.encode(state)
    local id, err = server.session_create(ns, text)
    if not id then error({ status = 503, error = err }, 0) end
    open[ns] = { id = id, json = text, state = state, new = true }
    return true
  end

  function req.end_session(ns)
    check_ns(ns)
    local e = open[ns]
    if e and not e.ended then
      server.session_destroy(ns, e.id)
      e.ended, e.state = true, nil
    end
  end

  return rec
end

-- After the handler returned: stores changed states; returns the Set-Cookie values.
function M.commit(rec)
  local cookies = {}
  for ns, e in pairs(rec.open) do
    if e.ended then
      if not e.new then cookies[#cookies + 1] = "sis_" .. ns .. "=" .. rec.attrs .. "; Max-Age=0" end
    else
      if e.state then
        local text = json.encode(e.state)
        if text ~= e.json then server.session_save(ns, e.id, text) end
      end
      if e.new then cookies[#cookies + 1] = "sis_" .. ns .. "=" .. e.id .. rec.attrs end
    end
  end
  table.sort(cookies)
  return cookies
end

-- After the handler failed: sessions it created are dropped, changes are lost.
function M.abort(rec)
  for ns, e in pairs(rec.open) do
    if e.new and not e.ended then server.session_destroy(ns, e.id) end
  end
end

return M
