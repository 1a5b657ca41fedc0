-- The watch store: subscriptions, their last snapshot, events, pending
-- webhook deliveries and calendar feeds, in SQLite (sis.sqlite) under the
-- data directory (DATA_DIR/sis.db, DATA_DIR/secret.key). Everything that
-- touches SQL is here, so another engine can replace this file.
--
--   local st, err = store.open(data_dir)
--
-- Credentials (the service state a poll logs in with, password included)
-- and webhook secrets are sealed with the key (watch.secrets), bound to
-- their row; feed tokens are kept only as their SHA-256. Deleting a
-- subscription or a feed deletes its credentials, events and deliveries.
-- Times are integer seconds (os.time()). The journal is WAL with
-- synchronous=NORMAL: a power cut may lose the last poll's results, which
-- the next poll then finds again with the same event ids (receivers
-- de-duplicate on them).
local sqlite = require "sis.sqlite"
local json = require "sis.json"
local codec = require "sis.codec"
local secrets = require "watch.secrets"

local SCHEMA = [[
PRAGMA journal_mode = WAL;
CREATE TABLE IF NOT EXISTS subscriptions (
  id TEXT PRIMARY KEY,
  service TEXT NOT NULL,
  owner TEXT NOT NULL,
  target TEXT NOT NULL,
  kinds TEXT NOT NULL,
  webhook TEXT,
  secret TEXT NOT NULL,
  credentials TEXT NOT NULL,
  interval INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  next_poll_at INTEGER NOT NULL,
  last_poll_at INTEGER,
  last_error TEXT,
  polls INTEGER NOT NULL DEFAULT 0,
  paused_at INTEGER,
  paused_reason TEXT,
  snapshot TEXT
);
CREATE INDEX IF NOT EXISTS subscriptions_owner ON subscriptions (owner);
CREATE INDEX IF NOT EXISTS subscriptions_due ON subscriptions (next_poll_at);
CREATE TABLE IF NOT EXISTS events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  subscription TEXT NOT NULL REFERENCES subscriptions (id) ON DELETE CASCADE,
  body TEXT NOT NULL,
  detected_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS events_subscription ON events (subscription, seq);
CREATE TABLE IF NOT EXISTS deliveries (
  event TEXT PRIMARY KEY REFERENCES events (id) ON DELETE CASCADE,
  subscription TEXT NOT NULL REFERENCES subscriptions (id) ON DELETE CASCADE,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_at INTEGER NOT NULL,
  first_failure_at INTEGER,
  last_error TEXT
);
CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries (next_at);
CREATE TABLE IF NOT EXISTS feeds (
  id TEXT PRIMARY KEY,
  token_sha256 TEXT NOT NULL UNIQUE,
  service TEXT NOT NULL,
  owner TEXT NOT NULL,
  target TEXT NOT NULL,
  credentials TEXT NOT NULL,
  interval INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  cached_at INTEGER,
  etag TEXT,
  body TEXT
);
CREATE INDEX IF NOT EXISTS feeds_owner ON feeds (owner);
]]

local Store = {}
Store.__index = Store

local M = {}

-- Who a service state belongs to: the same school account whoever logs in.
function M.owner(service, state)
  return codec.sha256_hex(table.concat({ service, state.base_url or "", state.username or "" }, "\n"))
end

-- Creates the data directory (0700) if needed. → store | nil, err
function M.open(data_dir)
  assert(type(data_dir) == "string" and data_dir ~= "", "watch.store: data directory expected")
  os.execute("mkdir -p -m 700 '" .. data_dir:gsub("'", "'\\''") .. "' 2>/dev/null")
  local key, kerr = secrets.key(data_dir)
  if not key then return nil, kerr end
  local db, err = sqlite.open(data_dir .. "/sis.db")
  if not db then return nil, err end
  local ok, serr = db:exec("PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; PRAGMA synchronous = NORMAL;")
  if ok then ok, serr = db:exec(SCHEMA) end
  if not ok then
    db:close()
    return nil, serr
  end
  return setmetatable({ db = db, key = key, dir = data_dir }, Store)
end

function Store:close() self.db:close() end
Store.__close = Store.close

-- Runs fn() in one write transaction; its error is raised again after the rollback.
function Store:transaction(fn)
  assert(self.db:exec("BEGIN IMMEDIATE"))
  local ok, a, b = pcall(fn)
  if ok then
    local cok, cerr = self.db:exec("COMMIT")
    if cok then return a, b end
    self.db:exec("ROLLBACK")
    error(cerr, 0)
  end
  self.db:exec("ROLLBACK")
  error(a, 0)
end

local function must(v, err, ...)
  if v == nil then error(err, 0) end
  return v, err, ...
end

-- ---------- subscriptions

local function decode_sub(row)
  if not row then return nil end
  row.kinds = json.decode(row.kinds)
  row.target = json.decode(row.target)
  row.secret, row.credentials = nil, nil
  if row.snapshot then row.snapshot = json.decode(row.snapshot) end
  return row
end

local SUB_FIELDS = "id, service, owner, target, kinds, webhook, interval, created_at, next_poll_at, "
  .. "last_poll_at, last_error, polls, paused_at, paused_reason"

-- s: service, owner, target (table), kinds (array), webhook (or nil),
-- interval, credentials (the service state), now [, id]. → the row, the
-- webhook secret
function Store:create_subscription(s)
  local id, secret = s.id or secrets.token(16), secrets.token(32)
  must(self.db:run("INSERT INTO subscriptions (id, service, owner, target, kinds, webhook, secret, "
    .. "credentials, interval, created_at, next_poll_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    id, s.service, s.owner, json.encode(s.target or json.object()), json.encode(json.array(s.kinds or {})),
    s.webhook, secrets.seal(self.key, secret, "secret:" .. id),
    secrets.seal(self.key, json.encode(s.credentials), "credentials:" .. id),
    s.interval, s.now, s.now))
  return self:subscription(id), secret
end

-- New kinds, webhook, interval and credentials (sis watch, run again); due now.
function Store:configure(id, s)
  must(self.db:run("UPDATE subscriptions SET kinds = ?, webhook = ?, interval = ?, credentials = ?, "
    .. "next_poll_at = ? WHERE id = ?", json.encode(json.array(s.kinds or {})), s.webhook, s.interval,
    secrets.seal(self.key, json.encode(s.credentials), "credentials:" .. id), s.now, id))
end

function Store:subscription(id)
  return decode_sub(must(self.db:row("SELECT " .. SUB_FIELDS .. " FROM subscriptions WHERE id = ?", id)) or nil)
end

-- With its last snapshot (the poller's view).
function Store:subscription_state(id)
  return decode_sub(must(self.db:row("SELECT " .. SUB_FIELDS .. ", snapshot FROM subscriptions WHERE id = ?", id)) or nil)
end

function Store:subscriptions_of(owner)
  local rows = must(self.db:rows("SELECT " .. SUB_FIELDS .. " FROM subscriptions WHERE owner = ? ORDER BY created_at, id", owner))
  for i, r in ipairs(rows) do rows[i] = decode_sub(r) end
  return rows
end

function Store:delete_subscription(id)
  return must(self.db:run("DELETE FROM subscriptions WHERE id = ?", id)) > 0
end

-- Ids of the unpaused subscriptions due at `now`, oldest first.
function Store:due(now, limit)
  local rows = must(self.db:rows("SELECT id FROM subscriptions WHERE next_poll_at <= ? AND paused_at IS NULL "
    .. "ORDER BY next_poll_at LIMIT ?", now, limit or 100))
  for i, r in ipairs(rows) do rows[i] = r.id end
  return rows
end

-- Takes a due subscription for one poller thread: its next poll moves to
-- lease_until (the poll sets the real one), so no other thread polls it.
-- → true when this caller got it
function Store:claim(id, now, lease_until)
  return must(self.db:run("UPDATE subscriptions SET next_poll_at = ? WHERE id = ? AND next_poll_at <= ? "
    .. "AND paused_at IS NULL", lease_until, id, now)) == 1
end

-- The earliest time something is due (a poll or a delivery), or nil.
function Store:next_due()
  local a = must(self.db:row("SELECT min(next_poll_at) AS t FROM subscriptions WHERE paused_at IS NULL"))
  local b = must(self.db:row("SELECT min(d.next_at) AS t FROM deliveries d JOIN subscriptions s "
    .. "ON s.id = d.subscription WHERE s.paused_at IS NULL"))
  if a.t and b.t then return math.min(a.t, b.t) end
  return a.t or b.t
end

function Store:credentials(id)
  local row = must(self.db:row("SELECT credentials FROM subscriptions WHERE id = ?", id))
  if not row then return nil, "no such subscription" end
  local text, err = secrets.open(self.key, row.credentials, "credentials:" .. id)
  if not text then return nil, err end
  return json.decode(text)
end

function Store:save_credentials(id, state)
  must(self.db:run("UPDATE subscriptions SET credentials = ? WHERE id = ?",
    secrets.seal(self.key, json.encode(state), "credentials:" .. id), id))
end

function Store:secret(id)
  local row = must(self.db:row("SELECT secret FROM subscriptions WHERE id = ?", id))
  if not row then return nil, "no such subscription" end
  return secrets.open(self.key, row.secret, "secret:" .. id)
end

-- After a poll: the new snapshot (nil: keep the old one), its events (each
-- {id, body (JSON), detected_at}; an id already stored is skipped, so a
-- poll repeated after a crash announces nothing twice) and, when the
-- subscription has a webhook, their deliveries. In one transaction.
-- → the number of new events
function Store:record_poll(id, p)
  return self:transaction(function()
    local sub = must(self.db:row("SELECT webhook FROM subscriptions WHERE id = ?", id))
    if not sub then return 0 end
    local fresh = 0
    for _, e in ipairs(p.events or {}) do
      local n = must(self.db:run("INSERT OR IGNORE INTO events (id, subscription, body, detected_at) "
        .. "VALUES (?, ?, ?, ?)", e.id, id, e.body, e.detected_at))
      if n > 0 then
        fresh = fresh + 1
        if sub.webhook then
          must(self.db:run("INSERT INTO deliveries (event, subscription, next_at) VALUES (?, ?, ?)",
            e.id, id, p.now))
        end
      end
    end
    must(self.db:run("UPDATE subscriptions SET snapshot = coalesce(?, snapshot), last_poll_at = ?, "
      .. "next_poll_at = ?, last_error = ?, polls = polls + 1 WHERE id = ?",
      p.snapshot and json.encode(p.snapshot), p.now, p.next_poll_at, p.error, id))
    return fresh
  end)
end

function Store:pause(id, reason, now)
  must(self.db:run("UPDATE subscriptions SET paused_at = ?, paused_reason = ? WHERE id = ?", now, reason, id))
end

-- Unpaused, due now; its deliveries are tried again at once.
function Store:resume(id, now)
  self:transaction(function()
    must(self.db:run("UPDATE subscriptions SET paused_at = NULL, paused_reason = NULL, next_poll_at = ? "
      .. "WHERE id = ?", now, id))
    must(self.db:run("UPDATE deliveries SET next_at = ?, first_failure_at = NULL WHERE subscription = ?", now, id))
  end)
end

-- ---------- events

-- Events of a subscription after the one whose id is `since` (nil: the
-- oldest kept), oldest first. → array of decoded events | nil when `since`
-- names no event of this subscription.
function Store:events_since(sub, since, limit)
  local after = 0
  if since then
    local row = must(self.db:row("SELECT seq FROM events WHERE id = ? AND subscription = ?", since, sub))
    if not row then return nil end
    after = row.seq
  end
  local rows = must(self.db:rows("SELECT body FROM events WHERE subscription = ? AND seq > ? ORDER BY seq LIMIT ?",
    sub, after, limit or 100))
  for i, r in ipairs(rows) do rows[i] = json.decode(r.body) end
  return rows
end

-- Keeps the newest `keep` events of each subscription (those still to be
-- delivered too).
function Store:prune_events(keep)
  must(self.db:run("DELETE FROM events WHERE seq IN (SELECT seq FROM (SELECT seq, row_number() OVER "
    .. "(PARTITION BY subscription ORDER BY seq DESC) AS n FROM events) WHERE n > ?) "
    .. "AND id NOT IN (SELECT event FROM deliveries)", keep))
end

-- ---------- deliveries

-- Deliveries due at `now` of unpaused subscriptions, oldest event first.
function Store:due_deliveries(now, limit)
  return must(self.db:rows("SELECT d.event, d.subscription, d.attempts, d.first_failure_at, e.body, s.webhook "
    .. "FROM deliveries d JOIN events e ON e.id = d.event JOIN subscriptions s ON s.id = d.subscription "
    .. "WHERE d.next_at <= ? AND s.paused_at IS NULL ORDER BY e.seq LIMIT ?", now, limit or 100))
end

function Store:delivered(event)
  must(self.db:run("DELETE FROM deliveries WHERE event = ?", event))
end

-- The event's next try is at next_at, and its subscription's later events
-- wait for it (they are delivered in order).
function Store:delivery_failed(event, sub, err, next_at, now)
  self:transaction(function()
    must(self.db:run("UPDATE deliveries SET attempts = attempts + 1, last_error = ?, "
      .. "first_failure_at = coalesce(first_failure_at, ?) WHERE event = ?", err, now, event))
    must(self.db:run("UPDATE deliveries SET next_at = max(next_at, ?) WHERE subscription = ?", next_at, sub))
  end)
end

-- Pending deliveries of a subscription (its GET shows them).
function Store:pending(sub)
  local row = must(self.db:row("SELECT count(*) AS n, min(first_failure_at) AS failing_since, "
    .. "max(last_error) AS last_error FROM deliveries WHERE subscription = ?", sub))
  return row
end

-- ---------- feeds

-- f: service, owner, target, credentials, interval, now. → the row, the token
function Store:create_feed(f)
  local id, token = secrets.token(8), secrets.token(16)
  must(self.db:run("INSERT INTO feeds (id, token_sha256, service, owner, target, credentials, interval, "
    .. "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", id, codec.sha256_hex(token), f.service, f.owner,
    json.encode(f.target or json.object()), secrets.seal(self.key, json.encode(f.credentials), "feed:" .. id),
    f.interval, f.now))
  return self:feed(id), token
end

local FEED_FIELDS = "id, service, owner, target, interval, created_at, cached_at, etag"

local function decode_feed(row)
  if not row then return nil end
  row.target = json.decode(row.target)
  return row
end

function Store:feed(id)
  return decode_feed(must(self.db:row("SELECT " .. FEED_FIELDS .. " FROM feeds WHERE id = ?", id)) or nil)
end

function Store:feeds_of(owner)
  local rows = must(self.db:rows("SELECT " .. FEED_FIELDS .. " FROM feeds WHERE owner = ? ORDER BY created_at, id", owner))
  for i, r in ipairs(rows) do rows[i] = decode_feed(r) end
  return rows
end

-- The feed a token opens, with its cached body.
function Store:feed_by_token(token)
  return decode_feed(must(self.db:row("SELECT " .. FEED_FIELDS .. ", body FROM feeds WHERE token_sha256 = ?",
    codec.sha256_hex(token))) or nil)
end

function Store:feed_credentials(id)
  local row = must(self.db:row("SELECT credentials FROM feeds WHERE id = ?", id))
  if not row then return nil, "no such feed" end
  local text, err = secrets.open(self.key, row.credentials, "feed:" .. id)
  if not text then return nil, err end
  return json.decode(text)
end

function Store:save_feed(id, f)
  if f.credentials then
    must(self.db:run("UPDATE feeds SET credentials = ? WHERE id = ?",
      secrets.seal(self.key, json.encode(f.credentials), "feed:" .. id), id))
  end
  if f.body then
    must(self.db:run("UPDATE feeds SET body = ?, etag = ?, cached_at = ? WHERE id = ?", f.body, f.etag, f.now, id))
  end
end

function Store:delete_feed(id)
  return must(self.db:run("DELETE FROM feeds WHERE id = ?", id)) > 0
end

return M
