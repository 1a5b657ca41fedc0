-- sis focus: log in to a Focus for Schools, call one endpoint, print its JSON.
local cli = require "lib.cli"
local focus = require "focus.service"
local registry = require "focus.registry"

-- The endpoints of the registry: { name =, cli =, routes = {{segments}} },
-- each route's segments after /api/v3/ ("calendar", ":year", ...).
local ENDPOINTS = {}
local function add(name, e)
  local routes = {}
  for i, path in ipairs(e.routes) do
    local segs = {}
    for seg in path:gsub("^/api/v3/", ""):gmatch("[^/]+") do segs[#segs + 1] = seg end
    routes[i] = segs
  end
  ENDPOINTS[#ENDPOINTS + 1] = { name = name, cli = e.cli, routes = routes }
end
for _, p in pairs(registry.pages) do
  for name, e in pairs(p.endpoints) do add(name, e) end
end
for name, a in pairs(registry.apis) do add(name, a) end
table.sort(ENDPOINTS, function(a, b) return a.cli < b.cli end)

local function params(route)
  local out = {}
  for _, seg in ipairs(route) do
    if seg:sub(1, 1) == ":" then out[#out + 1] = seg:sub(2) end
  end
  return out
end

-- "courses [ID]", "calendar YEAR [MONTH [DAY]]": the longest route's
-- parameters, those some route goes without in brackets.
local function synopsis(e)
  local longest, shortest = {}, nil
  for _, r in ipairs(e.routes) do
    local ps = params(r)
    if #ps > #longest then longest = ps end
    if not shortest or #ps < shortest then shortest = #ps end
  end
  local words, close = { e.cli }, ""
  for i, name in ipairs(longest) do
    if i > (shortest or 0) then
      words[#words + 1] = "[" .. name:upper()
      close = close .. "]"
    else
      words[#words + 1] = name:upper()
    end
  end
  return table.concat(words, " ") .. close
end

local listed = {}
for _, e in ipairs(ENDPOINTS) do listed[#listed + 1] = "  " .. synopsis(e) end

local USAGE = [==[
usage: sis focus --url URL --user NAME [options] ENDPOINT [ARGS...]

Logs in to Focus, prints the endpoint's answer as JSON, logs out.
The password comes from the environment variable SIS_FOCUS_PASSWORD or is
asked for (never on the command line).

options:
  --url URL        Focus base URL, e.g. https://focus.example.org/ (env SIS_FOCUS_URL)
  --user NAME      Focus username (env SIS_FOCUS_USER)
  --year YEAR --mp ID
                   switch to that school year / marking period first
  --timeout SEC    timeout of each request to Focus (default 30)
  --login FLOW     native (Focus's own form), saml (single sign-on through the
                   school's identity provider) or auto: as focus/ answers
                   (env SIS_FOCUS_LOGIN, default auto)
  -h, --help       this help

endpoints (also as the REST path: calendar occasions ID):
%s
  session
  mp YEAR MP_ID [REDIRECT]            (what PUT /api/v3/session does)

examples:
  SIS_FOCUS_PASSWORD=... sis focus --url https://focus.example.org/ --user jdoe portal
  sis focus --url https://focus.example.org/ --user jdoe calendar 2017 2
]==]
USAGE = USAGE:format(table.concat(listed, "\n"))

local cmd = cli.new("focus", USAGE)
local die = cmd.die

local function int_arg(s, what)
  local v = s and s:find("^%d+$") and math.tointeger(tonumber(s))
  if not v then die(string.format("%s must be a number, got %s", what, s and ("'" .. s .. "'") or "nothing")) end
  return v
end

-- One word for parameter `name`: an id stays a digit string, the rest are integers.
local function param_value(name, word)
  if name == "id" then return tostring(int_arg(word, "the id")) end
  return int_arg(word, "the " .. name)
end

-- The args of `route` from words (the parameters of `route`, in order).
local function route_args(route, words)
  local args, i = {}, 0
  for _, seg in ipairs(route) do
    if seg:sub(1, 1) == ":" then
      i = i + 1
      args[seg:sub(2)] = param_value(seg:sub(2), words[i])
    end
  end
  return args
end

-- ENDPOINT ARGS... → service endpoint, args: "NAME PARAMS..." or the REST
-- path's segments ("calendar occasions 690").
local function endpoint_of(words)
  local name = (words[1] or die("no endpoint given (sis focus --help)")):gsub("-", "_")
  local a = { table.unpack(words, 2) }
  if name == "session" then
    if #a > 0 then die("too many arguments for session") end
    return name, {}
  end
  if name == "mp" then
    if #a > 3 then die("too many arguments for mp") end
    return "set_marking_period", { year = int_arg(a[1], "the year"), mp_id = int_arg(a[2], "the marking period id"), redirect = a[3] }
  end
  -- the REST path's segments first, the route with the most literal ones
  -- ("calendar occasions 690" is no calendar/:year/:month)
  local best, best_e, literals = nil, nil, -1
  for _, e in ipairs(ENDPOINTS) do
    for _, r in ipairs(e.routes) do
      local fits, n = #r == #words, 0
      for i = 1, #r do
        if r[i]:sub(1, 1) ~= ":" then
          n = n + 1
          if r[i] ~= words[i] then fits = false end
        end
      end
      if fits and n > literals then best, best_e, literals = r, e, n end
    end
  end
  if best then
    local values = {}
    for i = 1, #best do
      if best[i]:sub(1, 1) == ":" then values[#values + 1] = words[i] end
    end
    return best_e.name, route_args(best, values)
  end
  for _, e in ipairs(ENDPOINTS) do
    if e.cli == name then
      for _, r in ipairs(e.routes) do
        if #params(r) == #a then return e.name, route_args(r, a) end
      end
      die(string.format("%s takes %s (sis focus --help)", name, synopsis(e)))
    end
  end
  die("unknown endpoint '" .. name .. "' (sis focus --help)")
end

local opts, words = cmd.options(arg,
  { url = true, user = true, year = true, mp = true, timeout = cli.seconds, login = true },
  { url = os.getenv("SIS_FOCUS_URL"), user = os.getenv("SIS_FOCUS_USER"), login = os.getenv("SIS_FOCUS_LOGIN") },
  { password = "the password is never taken from the command line: set SIS_FOCUS_PASSWORD or type it when asked" })
if not opts.url then die("--url is required (sis focus --help)") end
if not opts.user then die("--user is required (sis focus --help)") end
if not opts.url:find("^https?://[^/]") then die("--url must be an http:// or https:// URL") end
if (opts.year == nil) ~= (opts.mp == nil) then die("--year and --mp go together") end
local FLOWS = { native = true, saml = true, auto = true }
if opts.login == "" then opts.login = nil end
if opts.login and not FLOWS[opts.login] then die("--login must be native, saml or auto, not '" .. opts.login .. "'") end
local endpoint, args = endpoint_of(words)
local timeout = opts.timeout or 30
local switch = opts.year and { year = int_arg(opts.year, "--year"), mp_id = int_arg(opts.mp, "--mp") }

-- "400: Bad request: the month must be 1..12, got 13"; a 5xx says what the
-- upstream did ("502: focus: connect: Failed to connect to ... (URL)"), the
-- words of the log line it stands for (lib/cli.lua leaves that line out).
local function failure(status, body, reason, detail)
  if status >= 500 then return detail or reason or body.error end
  local msg = tostring(body.error)
  if reason and reason ~= msg then msg = msg .. ": " .. reason end
  return msg
end

local state, login_status, msg, reason, detail = focus.login {
  base_url = opts.url, username = opts.user, password = cmd.password("SIS_FOCUS_PASSWORD", "Focus password"),
  timeout = timeout, login = opts.login,
}
if not state then
  die(string.format("login failed (%d): %s", login_status, failure(login_status, { error = msg }, reason, detail)), 1)
end

local progress
if cli.is_tty(2) then
  progress = function(done, total)
    io.stderr:write(string.format("\r%d/%d pages", done, total))
    if done == total then io.stderr:write("\n") end
  end
end

local status, body, why, raw = 200, nil, nil, nil
if switch then status, body, why, raw = focus.call(state, "set_marking_period", switch) end
if status == 200 then status, body, why, raw = focus.call(state, endpoint, args, { on_progress = progress }) end
focus.logout(state)
if status ~= 200 then die(string.format("%d: %s", status, failure(status, body, why, raw)), 1) end
cmd.print_json(body)
