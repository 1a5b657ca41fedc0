-- Webhook deliveries: each event is POSTed alone, its JSON as the body,
-- signed with the subscription's secret:
--   X-Sis-Signature: sha256=<hex HMAC-SHA256(secret, body)>
--   X-Sis-Event: <event id>            (the receiver de-duplicates on it)
-- A 2xx answer delivers it; anything else is retried after SIS_WATCH_RETRY
-- seconds, doubled at each failure (at most an hour): at least once, in
-- order of detection. A webhook failing for SIS_WATCH_PAUSE_AFTER seconds
-- pauses its subscription, which says why (GET .../watch/<id>).
--
--   delivered, failed = deliver.run(store [, {now =, settings =, limit =, trusted =}])
-- A webhook reaches public addresses only (a subscriber must not make the
-- server post into its own network), unless SIS_WATCH_PRIVATE_WEBHOOKS=1 or
-- the webhooks are the operator's own (trusted: `sis watch --webhook`).
local http = require "sis.http"
local codec = require "sis.codec"
local log = require "sis.log"
local settings_mod = require "watch.settings"

local M = {}

local MAX_DELAY = 3600
local TIMEOUT = 10

function M.signature(secret, body) return "sha256=" .. codec.hmac_sha256_hex(secret, body) end

-- POSTs one event. → true | nil, err
function M.post(url, secret, event_id, body, public_only)
  local s <close> = http.session { timeout = TIMEOUT, redirects = false, public_only = public_only }
  local res, err = s:post(url, { body = body, headers = {
    ["Content-Type"] = "application/json",
    ["X-Sis-Event"] = event_id,
    ["X-Sis-Signature"] = M.signature(secret, body),
  } })
  -- the URL stays out of the message: webhook URLs often hold a token
  if not res then return nil, (err:gsub(" %(https?://[^)]*%)$", "")) end
  if res.status < 200 or res.status > 299 then return nil, "the webhook answered HTTP " .. res.status end
  return true
end

function M.delay(settings, attempts)
  return math.min(settings.retry * 2 ^ attempts, MAX_DELAY) // 1
end

function M.run(store, opts)
  opts = opts or {}
  local settings = opts.settings or settings_mod.load()
  local now = opts.now or os.time()
  local delivered, failed = 0, 0
  local public_only = not (opts.trusted or settings.private_webhooks)
  local broken = {} -- subscriptions that failed in this round: their later events wait
  for _, d in ipairs(store:due_deliveries(now, opts.limit or 100)) do
    if not broken[d.subscription] then
      local secret = store:secret(d.subscription)
      local ok, err = false, "the webhook secret cannot be read"
      if secret then ok, err = M.post(d.webhook, secret, d.event, d.body, public_only) end
      if ok then
        store:delivered(d.event)
        delivered = delivered + 1
      else
        failed = failed + 1
        broken[d.subscription] = true
        log.warn("watch: webhook of subscription %s: %s", d.subscription, err)
        store:delivery_failed(d.event, d.subscription, err, now + M.delay(settings, d.attempts), now)
        local since = d.first_failure_at or now
        if now - since >= settings.pause_after then
          store:pause(d.subscription, string.format("the webhook has failed since %s: %s",
            os.date("!%Y-%m-%dT%H:%M:%SZ", since), err), now)
        end
      end
    end
  end
  return delivered, failed
end

return M
