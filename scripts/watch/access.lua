-- What the watch and feed routes share: the caller's session per service,
-- who owns what, and this worker's store (opened once per Lua state).
local json = require "sis.json"
local store_mod = require "watch.store"
local settings_mod = require "watch.settings"

local M = {}

M.settings = settings_mod.load()

M.SERVICES = {
  focus = { ns = "focus", prefix = "/api/v3", no_session = { 403, { error = "Forbidden" } } },
  scodoc = { ns = "scodoc", prefix = "/api/scodoc",
             no_session = { 401, { error = "not logged in to ScoDoc (POST /api/scodoc/session)" } } },
}

local store, store_err

-- → store | nil, status, body
function M.store()
  if store then return store end
  if not M.settings.data_dir then
    return nil, 503, { error = "no data directory configured (sis serve --data-dir)" }
  end
  store, store_err = store_mod.open(M.settings.data_dir)
  if not store then error("watch: cannot open the store: " .. tostring(store_err), 0) end
  return store
end

-- The caller's state of `service` and its owner key | nil, status, body
function M.session(req, service)
  local svc = M.SERVICES[service]
  local state = req.session(svc.ns)
  if not state then return nil, svc.no_session[1], svc.no_session[2] end
  return state, store_mod.owner(service, state)
end

-- The session and the store together (what every route needs first).
-- → state, owner, store | nil, status, body
function M.open(req, service)
  local state, owner, body = M.session(req, service) -- owner: the status when no session
  if not state then return nil, owner, body end
  local st, status, err = M.store()
  if not st then return nil, status, err end
  return state, owner, st
end

-- A handler on the caller's record :id of a service: fn(req, record, store).
-- find: the store method reading it (another account's record, or another
-- service's, is 404 as an unknown one). → function(service) → handler
function M.owned(find, not_found, fn)
  return function(service)
    return function(req)
      local state, owner, st = M.open(req, service)
      if not state then return owner, st end
      local rec = st[find](st, req.params.id)
      if not rec or rec.owner ~= owner or rec.service ~= service then return 404, not_found end
      return fn(req, rec, st)
    end
  end
end

-- A handler listing the caller's records of a service as {[key] = [view(store, record)...]}.
-- records: the store method listing an owner's. → function(service) → handler
function M.lister(records, key, view)
  return function(service)
    return function(req)
      local state, owner, st = M.open(req, service)
      if not state then return owner, st end
      local out = json.array()
      for _, rec in ipairs(st[records](st, owner)) do
        if rec.service == service then out[#out + 1] = view(st, rec) end
      end
      return 200, { [key] = out }
    end
  end
end

-- The state a background fetch logs in with: the session's credentials,
-- without its upstream session (its own login, so the user's marking period
-- switches and logouts do not disturb it, nor it them).
function M.credentials(state)
  local copy = {}
  for k, v in pairs(state) do copy[k] = v end
  copy.cookies = ""
  copy.year, copy.mp, copy.photo_url, copy.student_id, copy.grades_page_login = nil, nil, nil, nil, nil
  return copy
end

return M
