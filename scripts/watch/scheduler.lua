-- The background poller of `sis serve` (engine/scheduler.c runs it in
-- SIS_WATCH_THREADS threads, each with its own Lua state): each tick polls
-- the subscriptions that are due (each claimed first, so one thread polls
-- it), thread 0 also delivers the webhooks that are due (one thread: each
-- subscription's events go out in order), and says how long to sleep.
-- Nothing here runs when SIS_DATA_DIR is unset.
--
--   seconds = scheduler.tick(stopping, index)   -- stopping() is true once sis serve stops
local log = require "sis.log"
local poll = require "watch.poll"
local deliver = require "watch.deliver"
local store_mod = require "watch.store"
local settings_mod = require "watch.settings"

local M = {}

local settings = settings_mod.load()
local store, broken
local PRUNE_EVERY = 3600
local LEASE = 600 -- a poll that dies with its thread is tried again after this
local last_prune = 0

local function open()
  if store then return store end
  local st, err = store_mod.open(settings.data_dir)
  if not st then
    if broken ~= err then log.error("watch: cannot open the store in %s: %s", settings.data_dir, err) end
    broken = err
    return nil
  end
  broken, store = nil, st
  return st
end

-- One poll; a poll that raises is logged and the subscription waits for its
-- next turn (else it would be retried at every tick).
local function poll_one(st, id)
  local ok, err = xpcall(poll.run, debug.traceback, st, id, { settings = settings })
  if ok then return end
  log.error("watch: poll of subscription %s failed: %s", id, err)
  local sub = st:subscription(id)
  local now = os.time()
  if sub then
    pcall(st.record_poll, st, id, { now = now, next_poll_at = settings_mod.next_poll(now, sub.interval),
                                    error = "internal error" })
  end
end

function M.tick(stopping, index)
  local st = open()
  if not st then return 60 end
  for _, id in ipairs(st:due(os.time(), 50)) do
    if stopping() then return 0 end
    local now = os.time()
    if st:claim(id, now, now + LEASE) then poll_one(st, id) end
  end
  if index ~= 0 then
    local due = st:next_due()
    return due and math.max(0, due - os.time()) or 60
  end
  if not stopping() then deliver.run(st, { settings = settings }) end
  local now = os.time()
  if now - last_prune >= PRUNE_EVERY then
    st:prune_events(settings.keep)
    last_prune = now
  end
  local due = st:next_due()
  return due and math.max(0, due - now) or 60
end

return M
