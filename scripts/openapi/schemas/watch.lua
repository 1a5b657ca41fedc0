-- The REST reference of the watch, feed, OpenAPI and index routes
-- (scripts/watch/rest.lua, scripts/feeds/rest.lua, scripts/openapi/rest.lua,
-- the front's GET /), keyed by "METHOD /path".
local S = require "openapi.dsl"
local focus_diff = require "watch.focus_diff"
local scodoc_diff = require "watch.scodoc_diff"

local function kinds(diff)
  local out = {}
  for k in pairs(diff.KINDS) do out[#out + 1] = k end
  table.sort(out)
  return S.enum(table.unpack(out))
end

local C = {}
C.Error = S.obj({ error = S.str }, { required = true })
C.Index = S.obj({ name = S.str, version = S.str, endpoints = S.arr(S.str) }, { required = true })
C.Health = S.obj({ live = S.bool, ready = S.bool, routes = S.map(S.enum("loaded", "failed", "not present")),
  focus_url = S.enum("set", "not set"), scodoc_url = S.enum("set", "not set") }, { required = true })
C.RouteIndex = S.obj({ prefix = S.str, routes = S.arr(S.str) }, { required = true })
C.Event = S.obj({
  id = S.describe(S.str, "stable: the same change has the same id at every delivery (de-duplicate on it)"),
  kind = S.str, service = S.enum("focus", "scodoc"), subscription = S.str,
  identity = S.describe(S.map(S.any), "what changed: course / assignment, module / evaluation, date..."),
  old = S.describe(S.nullable(S.map(S.any)), "the values before (null: new)"),
  new = S.describe(S.nullable(S.map(S.any)), "the values after (null: gone)"),
  detected_at = S.datetime,
}, { required = true, closed = true })
C.Subscription = S.obj({
  id = S.str, service = S.enum("focus", "scodoc"), kinds = S.arr(S.str), webhook = S.nullable(S.str),
  interval = S.int, created_at = S.datetime, next_poll_at = S.datetime, last_poll_at = S.nullable(S.datetime),
  polls = S.int, last_error = S.nullable(S.str), paused = S.bool, paused_at = S.nullable(S.datetime),
  paused_reason = S.nullable(S.str), pending_deliveries = S.int, failing_since = S.nullable(S.datetime),
  target = S.obj({ dept = S.str, etudid = S.str, formsemestre_id = S.str }, { required = true }),
}, { required = { "id", "service", "kinds", "webhook", "interval", "created_at", "next_poll_at", "last_poll_at",
                  "polls", "last_error", "paused", "paused_at", "paused_reason", "pending_deliveries",
                  "failing_since" }, closed = true })
C.NewSubscription = S.extend(C.Subscription, {
  secret = S.describe(S.str, "the webhook secret (HMAC-SHA256 key of X-Sis-Signature), shown this once"),
}, { "secret" })
C.NewSubscription.additionalProperties = false
C.Feed = S.obj({ id = S.str, service = S.enum("focus", "scodoc"), interval = S.int, created_at = S.datetime,
  target = S.map(S.any) }, { required = true, closed = true })
C.NewFeed = S.extend(C.Feed, { path = S.describe(S.str, "/feeds/<token>.ics, shown this once"),
  url = S.describe(S.str, "the same, absolute (from the Host header)") }, { "path" })
C.NewFeed.additionalProperties = false

local routes = {}
local function route(key, e) routes[key] = e end

route("GET /", { tag = "Server", summary = "What this server serves", responses = { [200] = S.ref("Index") } })
route("GET /health", { tag = "Server", summary = "Liveness (any answer) and readiness (200, else 503)",
  responses = { [200] = S.ref("Health"), [503] = S.ref("Health") } })
route("GET /api/openapi.json", { tag = "Server", summary = "This document (OpenAPI 3.1)",
  responses = { [200] = S.obj({ openapi = S.str, info = S.map(S.any), paths = S.map(S.any) },
                              { required = { "openapi", "info", "paths" } }) } })

local SERVICES = {
  { prefix = "/api/v3", session = "focus", tag = "Focus watch", kinds = kinds(focus_diff), no_session = 403 },
  { prefix = "/api/scodoc", session = "scodoc", tag = "ScoDoc watch", kinds = kinds(scodoc_diff), no_session = 401 },
}

for _, s in ipairs(SERVICES) do
  local w = s.prefix .. "/watch"
  local family = S.describe(S.str, "a kind, a family (" .. (s.session == "focus" and "focus.assignment" or "scodoc.note")
    .. ") or *; the kinds: " .. table.concat(s.kinds.enum, ", "))
  local body = { webhook = S.describe(S.str, "http(s) URL the events are POSTed to (optional: poll .../changes)"),
                 kinds = S.arr(family), interval = S.describe(S.int, "seconds between polls (default 900; at least SIS_WATCH_MIN_INTERVAL)") }
  if s.session == "scodoc" then
    body.dept, body.etudid, body.formsemestre_id = S.str, S.str, S.str
  end
  local common = { tag = s.tag, session = s.session }
  local function with(e)
    for k, v in pairs(common) do e[k] = v end
    return e
  end
  local nos = s.no_session
  route("POST " .. w, with { summary = "Subscribe to changes: events by webhook and at .../changes",
    body = S.obj(body, { required = s.session == "scodoc" and { "dept", "etudid", "formsemestre_id" } or nil }),
    responses = { [201] = S.ref("NewSubscription") }, errors = { 400, nos, 503 } })
  route("GET " .. w, with { summary = "The account's subscriptions",
    responses = { [200] = S.obj({ subscriptions = S.arr(S.ref("Subscription")) }, { required = true }) },
    errors = { nos, 503 } })
  route("GET " .. w .. "/:id", with { summary = "One subscription: polls, errors, pause and why",
    responses = { [200] = S.ref("Subscription") }, errors = { nos, 404, 503 } })
  route("DELETE " .. w .. "/:id", with { summary = "Unsubscribe: its credentials, events and deliveries go",
    responses = { [200] = S.obj({}, { closed = true }) }, errors = { nos, 404, 503 } })
  route("POST " .. w .. "/:id/resume", with { summary = "Resume a paused subscription (pending deliveries are retried)",
    responses = { [200] = S.ref("Subscription") }, errors = { nos, 404, 503 } })
  route("GET " .. w .. "/:id/changes", with { summary = "Events, oldest first, after the event `since`",
    query = { since = { schema = S.str, description = "an event id: the events after it" },
              limit = { schema = S.int, description = "at most this many (1..500, default 100)" } },
    responses = { [200] = S.obj({ events = S.arr(S.ref("Event")) }, { required = true, closed = true }) },
    errors = { 400, nos, 404, 503 } })

  local f = s.prefix .. "/feeds"
  local tag = s.session == "focus" and "Focus calendar" or "ScoDoc calendar"
  local feed_body = s.session == "focus"
    and S.obj({ year = S.describe(S.int, "default: the current year when fetched"), interval = S.int })
    or S.obj({ dept = S.str, etudid = S.str, interval = S.int }, { required = { "dept", "etudid" } })
  route("POST " .. f, { tag = tag, session = s.session, summary = "A private feed URL for calendar apps (no cookie needed)",
    body = feed_body, responses = { [201] = S.ref("NewFeed") }, errors = { 400, nos, 503 } })
  route("GET " .. f, { tag = tag, session = s.session, summary = "The account's feeds (without their tokens)",
    responses = { [200] = S.obj({ feeds = S.arr(S.ref("Feed")) }, { required = true }) }, errors = { nos, 503 } })
  route("DELETE " .. f .. "/:id", { tag = tag, session = s.session, summary = "Revoke a feed",
    responses = { [200] = S.obj({}, { closed = true }) }, errors = { nos, 404, 503 } })
  local cal = { tag = tag, session = s.session, summary = "The calendar as iCalendar (RFC 5545)",
    responses = { [200] = { type = "text/calendar", schema = S.str } }, errors = { 400, nos, 502, 504 } }
  if s.session == "focus" then
    cal.query = { year = { schema = S.int, description = "default: the current year" } }
    cal.summary = "The Focus calendar of a year as iCalendar: assignments (course, notes) and occasions"
  else
    cal.query = { dept = { schema = S.str, required = true }, etudid = { schema = S.str, required = true } }
    cal.summary = "A student's absences as iCalendar events"
  end
  route("GET " .. s.prefix .. "/calendar.ics", cal)
end

route("GET /feeds/:file", { tag = "Calendar feeds", summary = "A private feed: <token>.ics, cached, ETag / If-None-Match",
  path_doc = { file = "<token>.ics, as POST .../feeds answered" },
  responses = { [200] = { type = "text/calendar", schema = S.str }, [304] = false }, errors = { 404, 502, 503, 504 } })

return { routes = routes, components = C }
