-- Calendar feeds (RFC 5545, docs/watch.md "Calendar feeds"):
--   GET    /api/v3/calendar.ics?year=Y              the Focus calendar of a year (session cookie)
--   GET    /api/scodoc/calendar.ics?dept=D&etudid=E  a student's ScoDoc absences (session cookie)
--   POST   /api/v3/feeds {"year"?, "interval"?}      a private feed URL for calendar apps -> 201
--   POST   /api/scodoc/feeds {"dept", "etudid", "interval"?}
--   GET    {prefix}/feeds, DELETE {prefix}/feeds/:id the caller's feeds; DELETE revokes one
--   GET    /feeds/<token>.ics                        the feed: no cookie, the token is the key
-- A feed fetches with the credentials stored (sealed) at its creation,
-- caches its answer for its interval and answers ETag / If-None-Match (304).
-- When the school cannot be reached the last answer is served again.
local json = require "sis.json"
local codec = require "sis.codec"
local log = require "sis.log"
local A = require "watch.access"
local ical = require "feeds.ical"
local calendar = require "feeds.calendar"
local settings_mod = require "watch.settings"

local CONTENT_TYPE = "text/calendar; charset=utf-8"
local DEFAULT_INTERVAL = 3600
local NOT_FOUND = { error = "no such feed" }

local function this_year() return tonumber(os.date("%Y")) end

local function year_of(v)
  if v == nil then return this_year() end
  local y = math.tointeger(tonumber(v))
  if not y or y < 1 or y > 9999 then return nil end
  return y
end

local function student(src)
  for _, k in ipairs { "dept", "etudid" } do
    if type(src[k]) ~= "string" or src[k] == "" or #src[k] > 64 then return nil end
  end
  return { dept = src.dept, etudid = src.etudid }
end

-- The calendar of a feed's or a session's service. → cal | nil, status, body
local function build(service, state, target)
  if service == "focus" then return calendar.focus(state, target.year or this_year()) end
  return calendar.scodoc(state, target)
end

local function ics(status, text, extra)
  local headers = { ["Content-Type"] = CONTENT_TYPE }
  for k, v in pairs(extra or {}) do headers[k] = v end
  return status, text, headers
end

local function session_calendar(service)
  return function(req)
    local state, status, body = A.session(req, service)
    if not state then return status, body end
    local target
    if service == "focus" then
      local year = year_of(req.query.year)
      if not year then return 400, { error = "year must be an integer" } end
      target = { year = year }
    else
      target = student(req.query)
      if not target then return 400, { error = "dept and etudid are required" } end
    end
    local cal, cstatus, cbody = build(service, state, target)
    if not cal then return cstatus, cbody end
    return ics(200, ical.calendar(cal))
  end
end

local function path_of(token) return "/feeds/" .. token .. ".ics" end

local function view(feed)
  return { id = feed.id, service = feed.service, interval = feed.interval, target = feed.target,
           created_at = os.date("!%Y-%m-%dT%H:%M:%SZ", feed.created_at) }
end

local function create(service)
  return function(req)
    local state, owner, st = A.open(req, service)
    if not state then return owner, st end
    local j = req.json or {}
    if type(j) ~= "table" or json.is_array(j) and next(j) then return 400, { error = "expected a JSON object" } end
    local target
    if service == "focus" then
      if j.year ~= nil and (math.type(j.year) ~= "integer" or not year_of(j.year)) then
        return 400, { error = "year must be an integer" }
      end
      target = { year = j.year } -- absent: the current year, whenever the feed is fetched
    else
      target = student(j)
      if not target then return 400, { error = 'ScoDoc feeds need "dept" and "etudid" (strings)' } end
    end
    local interval, ierr = settings_mod.interval(j.interval or DEFAULT_INTERVAL, A.settings)
    if not interval then return 400, { error = ierr } end
    local feed, token = st:create_feed { service = service, owner = owner, target = target,
      credentials = A.credentials(state), interval = interval, now = os.time() }
    local out = view(feed)
    out.path = path_of(token)
    local host = req.headers.host
    if host and host:match("^[%w.:%-%[%]]+$") then
      local scheme = req.headers["x-forwarded-proto"] == "https" and "https" or "http"
      out.url = scheme .. "://" .. host .. out.path
    end
    return 201, out
  end
end

local list = A.lister("feeds_of", "feeds", function(_, feed) return view(feed) end)

local delete = A.owned("feed", NOT_FOUND, function(_, feed, st)
  st:delete_feed(feed.id)
  return 200, {}
end)

-- The feed's calendar, from the cache while it is fresh. → body, etag | nil, status, err
local function refreshed(st, feed, now)
  if feed.body and feed.cached_at and now - feed.cached_at < feed.interval then return feed.body, feed.etag end
  local state, cerr = st:feed_credentials(feed.id)
  if not state then error("feed credentials: " .. tostring(cerr), 0) end
  local before = json.encode(state)
  local cal, status, body = build(feed.service, state, feed.target)
  if json.encode(state) ~= before then st:save_feed(feed.id, { credentials = state }) end
  if not cal then
    if feed.body then -- the school is away: the last answer is better than none
      log.warn("feeds: feed %s served from its cache: %d %s", feed.id, status, tostring(body and body.error))
      return feed.body, feed.etag
    end
    return nil, status == 401 and 502 or status, status == 401
      and { error = "the school refused the stored credentials: create a new feed" } or body
  end
  -- the ETag follows the events, not the time stamp: unchanged events keep the old answer
  local etag = codec.sha256_hex(json.encode(cal)):sub(1, 32)
  local text = etag == feed.etag and feed.body or ical.calendar { name = cal.name, events = cal.events, stamp = now }
  st:save_feed(feed.id, { body = text, etag = etag, now = now })
  return text, etag
end

-- The token is the feed's key and sits in the URL: the access log line,
-- written after the handler returns, must mask it. It stays registered with
-- the log's redactor until this worker serves its next feed (at most one
-- token per worker registered, however many feeds there are).
local masked

local function mask(token)
  if masked then log.forget(masked) end
  log.secret(token)
  masked = token
end

local function fetch(req)
  local token = req.params.file:match("^(%x+)%.ics$")
  if not token or #token ~= 32 then return 404, NOT_FOUND end
  local st, status, body = A.store()
  if not st then return status, body end
  local feed = st:feed_by_token(token:lower())
  if not feed then return 404, NOT_FOUND end
  mask(token)
  local now = os.time()
  local text, etag, err = refreshed(st, feed, now)
  if not text then return etag, err end
  local quoted = '"' .. etag .. '"'
  local headers = { ETag = quoted, ["Cache-Control"] = "private, max-age=" .. feed.interval }
  local inm = req.headers["if-none-match"]
  if inm and (inm == "*" or inm:find(quoted, 1, true)) then return 304, nil, headers end
  return ics(200, text, headers)
end

local routes = {
  { method = "GET", path = "/api/v3/calendar.ics", handler = session_calendar("focus") },
  { method = "GET", path = "/api/scodoc/calendar.ics", handler = session_calendar("scodoc") },
  { method = "GET", path = "/feeds/:file", handler = fetch },
}
for _, service in ipairs { "focus", "scodoc" } do
  local base = A.SERVICES[service].prefix .. "/feeds"
  routes[#routes + 1] = { method = "POST", path = base, handler = create(service) }
  routes[#routes + 1] = { method = "GET", path = base, handler = list(service) }
  routes[#routes + 1] = { method = "DELETE", path = base .. "/:id", handler = delete(service) }
end

routes.endpoints = { "/api/v3/feeds", "/api/scodoc/feeds", "/feeds" } -- for GET / (the routes share only "/api" or "/")

return routes
