-- The watch settings, from the environment (docs/watch.md).
--   SIS_DATA_DIR             the data directory (sis serve --data-dir); unset: no watch, no feeds
--   SIS_WATCH_MIN_INTERVAL   the shortest poll interval, seconds (300: protects the school's server)
--   SIS_WATCH_RETRY          the first webhook retry delay, seconds (30; doubled each time, at most 1 h)
--   SIS_WATCH_PAUSE_AFTER    a webhook failing this long pauses its subscription, seconds (86400)
--   SIS_WATCH_KEEP           events kept per subscription for GET .../changes (1000)
--   SIS_WATCH_PRIVATE_WEBHOOKS  1: subscribers' webhooks may be on private addresses
--                            (default: public addresses only: sis.http public_only)
local M = {}

local function positive(name, default)
  local n = tonumber(os.getenv(name))
  return n and n > 0 and n or default
end

M.DEFAULT_INTERVAL = 900

function M.load()
  local dir = os.getenv("SIS_DATA_DIR")
  return {
    data_dir = dir ~= "" and dir or nil,
    min_interval = positive("SIS_WATCH_MIN_INTERVAL", 300),
    retry = positive("SIS_WATCH_RETRY", 30),
    pause_after = positive("SIS_WATCH_PAUSE_AFTER", 86400),
    keep = math.floor(positive("SIS_WATCH_KEEP", 1000)),
    private_webhooks = os.getenv("SIS_WATCH_PRIVATE_WEBHOOKS") == "1",
  }
end

-- The interval a subscription gets: asked (or the default), never below
-- the minimum. → seconds | nil, err
function M.interval(asked, settings)
  if asked == nil then return math.max(M.DEFAULT_INTERVAL, settings.min_interval) end
  if math.type(asked) ~= "integer" or asked <= 0 then return nil, "interval must be a positive integer (seconds)" end
  return math.max(asked, settings.min_interval)
end

-- The time of the next poll: the interval plus up to 10 % of jitter, so
-- subscriptions created together do not poll the school together.
function M.next_poll(now, interval)
  return now + interval + math.random(0, interval // 10)
end

return M
