-- REST routes of the watch (docs/watch.md), for both services:
--   POST   {prefix}/watch                  {"webhook"?, "kinds"?, "interval"?[, ScoDoc: "dept", "etudid", "formsemestre_id"]}
--                                          -> 201 the subscription + "secret" (shown this once)
--   GET    {prefix}/watch                  the caller's subscriptions
--   GET    {prefix}/watch/:id              one (paused, why, last poll, pending deliveries)
--   DELETE {prefix}/watch/:id              deletes it, its credentials and events
--   POST   {prefix}/watch/:id/resume       unpauses it
--   GET    {prefix}/watch/:id/changes?since=<event id>&limit=N   events, oldest first
-- {prefix} is /api/v3 (Focus session) or /api/scodoc (ScoDoc session). A
-- subscription is visible to the school account that created it only.
local json = require "sis.json"
local http = require "sis.http"
local D = require "watch.diff"
local A = require "watch.access"
local poll = require "watch.poll"
local settings_mod = require "watch.settings"

local NOT_FOUND = { error = "no such subscription" }
local MAX_LIMIT = 500

local function bad(msg) return nil, 400, { error = msg } end

local function kinds_of(service)
  return require(poll.services[service].diff).KINDS
end

-- kinds: absent, or an array of kind names / families known to the service.
local function check_kinds(service, kinds)
  if kinds == nil then return json.array() end
  if type(kinds) ~= "table" or not json.is_array(kinds) and next(kinds) ~= nil then
    return bad("kinds must be an array of event kinds")
  end
  local known = kinds_of(service)
  for _, k in ipairs(kinds) do
    if type(k) ~= "string" then return bad("kinds must be an array of event kinds") end
    local any = false
    for kind in pairs(known) do any = any or D.wants({ k }, kind) end
    if not any then return bad("unknown event kind: " .. k) end
  end
  return kinds
end

-- A host a webhook may name: at delivery every address is checked
-- (deliver.lua, sis.http public_only); a literal or localhost is refused here.
local function private_host(url)
  local host = url:match("^https?://([^/?#]*)"):gsub("^.*@", "")
  host = host:match("^%[(.*)%]") or host:gsub(":%d*$", "")
  host = host:lower():gsub("%.$", "")
  if host == "localhost" or host:find("%.localhost$") then return true end
  return http.is_public_address(host) == false
end

local function check_webhook(url)
  if url == nil then return true end
  if type(url) ~= "string" or #url > 2048 or not url:match("^https?://[^/%s]+[^%s]*$") then
    return bad("webhook must be an http(s) URL")
  end
  if not A.settings.private_webhooks and private_host(url) then
    return bad("webhook must be on a public address (this server posts to private ones only with "
      .. "SIS_WATCH_PRIVATE_WEBHOOKS=1)")
  end
  return true
end

-- ScoDoc: whose bulletin and absences to watch.
local function scodoc_target(j, state)
  local target = {}
  for _, k in ipairs { "dept", "etudid", "formsemestre_id" } do
    if type(j[k]) ~= "string" or j[k] == "" or #j[k] > 64 then
      return bad('ScoDoc subscriptions need "dept", "etudid" and "formsemestre_id" (strings)')
    end
    target[k] = j[k]
  end
  local depts = type(state.depts) == "table" and state.depts or {}
  local allowed = #depts == 0
  for _, d in ipairs(depts) do allowed = allowed or d == target.dept end
  if not allowed then return bad("this account cannot see department " .. target.dept) end
  return target
end

local function iso(t) return t and poll.iso(t) or json.null end

-- The subscription as answered (never its secret nor its credentials).
local function view(st, sub)
  local pending = st:pending(sub.id)
  local out = {
    id = sub.id, service = sub.service, kinds = json.array(sub.kinds), webhook = sub.webhook or json.null,
    interval = sub.interval, created_at = iso(sub.created_at), next_poll_at = iso(sub.next_poll_at),
    last_poll_at = iso(sub.last_poll_at), polls = sub.polls, last_error = sub.last_error or json.null,
    paused = sub.paused_at ~= nil, paused_at = iso(sub.paused_at), paused_reason = sub.paused_reason or json.null,
    pending_deliveries = pending.n, failing_since = iso(pending.failing_since),
  }
  if sub.service == "scodoc" then out.target = sub.target end
  return out
end

local function create(service)
  return function(req)
    local state, owner, st = A.open(req, service)
    if not state then return owner, st end
    local j = req.json
    if j ~= nil and (type(j) ~= "table" or json.is_array(j)) then return 400, { error = "expected a JSON object" } end
    j = j or {}
    for _, k in ipairs { "webhook", "kinds", "interval" } do
      if j[k] == json.null then j[k] = nil end -- null: as if absent
    end
    local kinds, s1, b1 = check_kinds(service, j.kinds)
    if not kinds then return s1, b1 end
    local ok, s2, b2 = check_webhook(j.webhook)
    if not ok then return s2, b2 end
    local interval, ierr = settings_mod.interval(j.interval, A.settings)
    if not interval then return 400, { error = ierr } end
    local target = json.object()
    if service == "scodoc" then
      local s3, b3
      target, s3, b3 = scodoc_target(j, state)
      if not target then return s3, b3 end
    end
    local sub, secret = st:create_subscription {
      service = service, owner = owner, target = target, kinds = kinds, webhook = j.webhook,
      interval = interval, credentials = A.credentials(state), now = os.time(),
    }
    local out = view(st, sub)
    out.secret = secret
    return 201, out
  end
end

-- A handler on the caller's subscription :id: fn(req, sub, store).
local function owned(fn) return A.owned("subscription", NOT_FOUND, fn) end

local list = A.lister("subscriptions_of", "subscriptions", view)

local get = owned(function(_, sub, st) return 200, view(st, sub) end)

local delete = owned(function(_, sub, st)
  st:delete_subscription(sub.id)
  return 200, {}
end)

local resume = owned(function(_, sub, st)
  st:resume(sub.id, os.time())
  return 200, view(st, st:subscription(sub.id))
end)

local changes = owned(function(req, sub, st)
  local limit = 100
  if req.query.limit then
    limit = math.tointeger(tonumber(req.query.limit))
    if not limit or limit < 1 or limit > MAX_LIMIT then
      return 400, { error = "limit must be an integer in 1.." .. MAX_LIMIT }
    end
  end
  local since = req.query.since
  if since == "" then since = nil end
  local events = st:events_since(sub.id, since, limit)
  if not events then return 400, { error = "since names no kept event of this subscription" } end
  return 200, { events = json.array(events) }
end)

local routes = {}
for _, service in ipairs { "focus", "scodoc" } do
  local base = A.SERVICES[service].prefix .. "/watch"
  for _, r in ipairs {
    { "POST", "", create }, { "GET", "", list }, { "GET", "/:id", get }, { "DELETE", "/:id", delete },
    { "POST", "/:id/resume", resume }, { "GET", "/:id/changes", changes },
  } do
    routes[#routes + 1] = { method = r[1], path = base .. r[2], handler = r[3](service) }
  end
end

routes.endpoints = { "/api/v3/watch", "/api/scodoc/watch" } -- for GET / (the routes share only "/api" or "/")

return routes
