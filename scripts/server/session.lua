-- Per-request session access for handlers: req.session(ns),
-- req.start_session(ns, state), req.end_session(ns).
--
-- The states live in the C store (sis.server), JSON-encoded, one cookie per
-- namespace: sis_<ns> = 128-bit random id (HttpOnly, SameSite=Lax, Path=/).
-- engine/server.c reads the request's cookies and takes (holds) the sessions
-- they name before the front runs (waiting there, boundedly, so that a
-- request waiting for its session holds no Lua state); two requests of one
-- session run one after the other. The C side lets go of them when the
-- request ends.
local server = require "sis.server"
local json = require "sis.json"

local M = {}

local ATTRS = "; Path=/; HttpOnly; SameSite=Lax"

local function is_ns(ns)
  return type(ns) == "string" and #ns <= 15 and ns:match("^[a-z][a-z0-9_]*$") ~= nil
end

local function check_ns(ns)
  if not is_ns(ns) then error("bad session namespace " .. tostring(ns), 3) end
end

-- Installs the session functions on req. Returns the request's session
-- record for commit/abort.
function M.attach(req)
  local open = server.held() -- ns -> { id, json = stored text, state = decoded table, new, ended }
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
