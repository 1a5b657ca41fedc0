-- sis focus: log in to a Focus for Schools, call one endpoint, print its JSON.
local cli = require "lib.cli"
local focus = require "focus.service"
local json = require "sis.json"

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

endpoints:
  portal, schedule, demographic, address, absences, session
  courses [ID], referrals [ID]
  exams [ID], final_grades [ID], semester_grades [ID], quarter_grades [ID]
  calendar YEAR [MONTH [DAY]]
  occasion ID, assignment ID          (calendar popups)
  mp YEAR MP_ID [REDIRECT]            (what PUT /api/v3/session does)

examples:
  SIS_FOCUS_PASSWORD=... sis focus --url https://focus.example.org/ --user jdoe portal
  sis focus --url https://focus.example.org/ --user jdoe calendar 2017 2
]==]

local cmd = cli.new("focus", USAGE)
local die = cmd.die

local function is_tty(fd) return os.execute("test -t " .. fd) == true end

local function read_password()
  local env = os.getenv("SIS_FOCUS_PASSWORD")
  if env then return env end
  if not is_tty(0) then return io.read("l") or die("no password (SIS_FOCUS_PASSWORD or stdin)") end
  io.stderr:write("Focus password: ")
  io.stderr:flush()
  os.execute("stty -echo")
  local ok, pw = pcall(io.read, "l")
  os.execute("stty echo")
  io.stderr:write("\n")
  if not ok or not pw then die("no password given") end
  return pw
end

local function int_arg(s, what)
  local v = s and s:find("^%d+$") and math.tointeger(tonumber(s))
  if not v then die(string.format("%s must be a number, got %s", what, s and ("'" .. s .. "'") or "nothing")) end
  return v
end

local ID_ENDPOINTS = {
  courses = true, referrals = true, exams = true, final_grades = true,
  semester_grades = true, quarter_grades = true,
}
local PLAIN = { portal = true, schedule = true, demographic = true, address = true, absences = true, session = true }

-- ENDPOINT ARGS... → service endpoint, args
local function endpoint_of(words)
  local name = (words[1] or die("no endpoint given (sis focus --help)")):gsub("-", "_")
  local a = { table.unpack(words, 2) }
  local function at_most(n) if #a > n then die("too many arguments for " .. name) end end
  if PLAIN[name] then at_most(0) return name, {} end
  if ID_ENDPOINTS[name] then
    at_most(1)
    return name, { id = a[1] and tostring(int_arg(a[1], "the id")) }
  end
  if name == "calendar" and (a[1] == "occasions" or a[1] == "assignments") then
    name, a = a[1] == "occasions" and "occasion" or "assignment", { a[2] }
  end
  if name == "occasion" or name == "assignment" then
    at_most(1)
    return "calendar_" .. name, { id = tostring(int_arg(a[1], "the id")) }
  end
  if name == "calendar" then
    at_most(3)
    return name, {
      year = int_arg(a[1], "the year"),
      month = a[2] and int_arg(a[2], "the month"),
      day = a[3] and int_arg(a[3], "the day"),
    }
  end
  if name == "mp" then
    at_most(3)
    return "set_marking_period", { year = int_arg(a[1], "the year"), mp_id = int_arg(a[2], "the marking period id"), redirect = a[3] }
  end
  die("unknown endpoint '" .. name .. "' (sis focus --help)")
end

local opts, words = cmd.options(arg, { url = true, user = true, year = true, mp = true, timeout = true, login = true },
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
local timeout = opts.timeout and int_arg(opts.timeout, "--timeout") or 30
local switch = opts.year and { year = int_arg(opts.year, "--year"), mp_id = int_arg(opts.mp, "--mp") }

local state, login_status, msg = focus.login {
  base_url = opts.url, username = opts.user, password = read_password(), timeout = timeout, login = opts.login,
}
if not state then die(string.format("login failed (%d): %s", login_status, msg), 1) end

local progress
if is_tty(2) then
  progress = function(done, total)
    io.stderr:write(string.format("\r%d/%d pages", done, total))
    if done == total then io.stderr:write("\n") end
  end
end

local status, body = 200, nil
if switch then status, body = focus.call(state, "set_marking_period", switch) end
if status == 200 then status, body = focus.call(state, endpoint, args, { on_progress = progress }) end
focus.logout(state)
if status ~= 200 then die(string.format("%d: %s", status, body.error or json.encode(body)), 1) end
cmd.print_json(body)
