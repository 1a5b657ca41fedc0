-- sis watch: poll Focus or ScoDoc and report each change as an event
-- (docs/watch.md): JSON lines on stdout, a command per event, or a webhook.
local cli = require "lib.cli"
local json = require "sis.json"
local codec = require "sis.codec"
local log = require "sis.log"
local D = require "watch.diff"
local poll = require "watch.poll"
local deliver = require "watch.deliver"
local store_mod = require "watch.store"
local settings_mod = require "watch.settings"

local USAGE = [==[
usage: sis watch focus --url URL --user NAME [options]
       sis watch scodoc --url URL --user NAME --dept D --etudid E --semester S [--auth MODE] [options]

Polls Focus (grades, assignments, absences, calendar, referrals) or one
student's ScoDoc bulletin and absences, and reports every change as a JSON
event, one per line on stdout. The first poll records a baseline and reports
nothing; the state is kept in the data directory, so a later run reports
what changed since the last one. The password comes from SIS_FOCUS_PASSWORD /
SIS_SCODOC_PASSWORD, or is asked for.

options:
  --kinds K1,K2     event kinds or families, e.g. focus.assignment,focus.absence.added
                    (default: all; the list is in docs/watch.md)
  --interval SEC    seconds between polls (default 900; never below SIS_WATCH_MIN_INTERVAL, 300)
  --once            poll once and exit (for cron)
  --exec CMD        run CMD (sh -c) for each event, the event's JSON on its stdin
  --webhook URL     POST each event there, signed (the secret is printed once, on stderr)
  --data-dir DIR    where the state is kept (env SIS_DATA_DIR; default ~/.local/share/sis)
  --timeout SEC     timeout of each request to the school (default 30)
  -h, --help        this help

examples:
  SIS_FOCUS_PASSWORD=... sis watch focus --url https://focus.example.org/ --user jdoe --once
  sis watch focus --url https://focus.example.org/ --user jdoe --kinds focus.assignment.graded \
      --exec 'mail -s "new grade" me@example.org'
]==]

local cmd = cli.new("watch", USAGE)
local die = cmd.die
log.release() -- a watch runs for long: its warnings go out as they come, not held to the end

local args = { ... }
local service = args[1]
if service == "-h" or service == "--help" then io.write(USAGE) os.exit(0) end
if service ~= "focus" and service ~= "scodoc" then cmd.usage_error("first say what to watch: focus or scodoc") end
table.remove(args, 1)

local once = false
for i = #args, 1, -1 do
  if args[i] == "--once" then once = true table.remove(args, i) end
end
local opts, words = cmd.options(args, {
  url = true, user = true, dept = true, etudid = true, semester = true, auth = true, kinds = true,
  interval = true, exec = true, webhook = true, ["data-dir"] = true, timeout = cli.seconds,
}, {
  url = os.getenv(service == "focus" and "SIS_FOCUS_URL" or "SIS_SCODOC_URL"),
  user = os.getenv(service == "focus" and "SIS_FOCUS_USER" or "SIS_SCODOC_USER"),
  ["data-dir"] = os.getenv("SIS_DATA_DIR"), timeout = 30,
}, { password = "the password is never taken from the command line" })
if #words > 0 then cmd.usage_error("unexpected argument " .. words[1]) end
if not opts.url or not opts.url:match("^https?://[^/]") then cmd.usage_error("--url URL is required (http or https)") end
if not opts.user then cmd.usage_error("--user NAME is required") end

local settings = settings_mod.load()
local kinds = {}
for k in (opts.kinds or ""):gmatch("[^,%s]+") do kinds[#kinds + 1] = k end
local known = require(poll.services[service].diff).KINDS
for _, k in ipairs(kinds) do
  local any = false
  for kind in pairs(known) do any = any or D.wants({ k }, kind) end
  if not any then cmd.usage_error("unknown event kind " .. k) end
end
local asked = opts.interval and (math.tointeger(tonumber(opts.interval)) or cmd.usage_error("--interval wants whole seconds"))
local interval, ierr = settings_mod.interval(asked, settings)
if not interval then cmd.usage_error("--" .. ierr) end
if opts.webhook and not opts.webhook:match("^https?://[^/%s]+%S*$") then cmd.usage_error("--webhook wants an http(s) URL") end

local target = json.object()
if service == "scodoc" then
  for _, k in ipairs { "dept", "etudid", "semester" } do
    if not opts[k] then cmd.usage_error("--" .. k .. " is required for scodoc") end
  end
  target = { dept = opts.dept, etudid = opts.etudid, formsemestre_id = opts.semester }
end

local data_dir = opts["data-dir"] or ((os.getenv("HOME") or ".") .. "/.local/share/sis")
local st, serr = store_mod.open(data_dir)
if not st then die("cannot open the data directory: " .. tostring(serr), 1) end

local svc = require(poll.services[service].service)
local password = cmd.password(service == "focus" and "SIS_FOCUS_PASSWORD" or "SIS_SCODOC_PASSWORD",
  service == "focus" and "Focus password" or "ScoDoc password")
local state, status, msg = svc.login { base_url = opts.url, username = opts.user, password = password,
                                       auth = opts.auth, timeout = opts.timeout }
if not state then die(string.format("login failed (%s): %s", status, tostring(msg)), 1) end

-- One subscription per account and target, found again by the next run.
local owner = store_mod.owner(service, state)
local id = codec.sha256_hex("cli\n" .. owner .. "\n" .. json.encode(target)):sub(1, 32)
local now = os.time()
if st:subscription(id) then
  st:configure(id, { kinds = kinds, webhook = opts.webhook, interval = interval, credentials = state, now = now })
else
  local _, secret = st:create_subscription { id = id, service = service, owner = owner, target = target,
    kinds = kinds, webhook = opts.webhook, interval = interval, credentials = state, now = now }
  if opts.webhook then io.stderr:write("sis watch: webhook secret (shown once): ", secret, "\n") end
end

local function run_exec(event_json)
  local p = io.popen(opts.exec, "w")
  p:write(event_json, "\n")
  local ok, _, code = p:close()
  if not ok then log.warn("watch: --exec exited with %s", tostring(code)) end
end

while true do
  local events, err = poll.run(st, id, { settings = settings })
  if not events then die(err, 1) end
  for _, e in ipairs(events) do
    local text = json.encode(e)
    if opts.exec then run_exec(text)
    elseif not opts.webhook then io.write(text, "\n") io.flush() end
  end
  if opts.webhook then deliver.run(st, { settings = settings, trusted = true }) end
  local sub = st:subscription(id)
  if sub.paused_at then die("paused: " .. tostring(sub.paused_reason), 1) end
  if once then break end
  local wait = math.max(1, (st:next_due() or sub.next_poll_at) - os.time())
  if not os.execute("sleep " .. wait) then break end
end
st:close()
