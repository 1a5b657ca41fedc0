-- sis check: the drift report. Runs every Focus page (and the finalGrades
-- API) and every ScoDoc read function of a school through sis's parsers,
-- live or from a cassette, and says what no longer reads.
local cli = require "lib.cli"
local json = require "sis.json"
local http = require "sis.http"
local log = require "sis.log"
local warnings = require "lib.warnings"

local USAGE = [==[
usage: sis check [--url URL --user NAME] [--scodoc-url URL --scodoc-user NAME
                 [--dept DEPT]] [--record DIR | --replay DIR] [--save DIR] [--json]
                 [--timeout SEC]

Fetches every Focus page sis reads (focus/registry.lua) and the finalGrades
API, and every ScoDoc read function (in JSON and in XML), runs each through
its parser, and reports per page: fetched or not, parsed or failed (the
parser's message), each field of the answer's contract found or missing,
and the warnings (what the parser could not read, and what it saw). The
first command to run after a school's Focus or ScoDoc changed.

options:
  --url URL           Focus base URL (env SIS_FOCUS_URL)
  --user NAME         Focus username (env SIS_FOCUS_USER); the password comes
                      from SIS_FOCUS_PASSWORD or is asked for
  --scodoc-url URL    ScoDoc base URL (env SIS_SCODOC_URL)
  --scodoc-user NAME  ScoDoc user (env SIS_SCODOC_USER; password SIS_SCODOC_PASSWORD)
  --dept DEPT         the ScoDoc department to check (default: the first listed)
  --record DIR        save every exchange to the cassette DIR (with the URLs
                      and user names, never a password) to replay it later
  --replay DIR        check the cassette DIR instead of the live school: URLs
                      and users default to those it was recorded with; no
                      password is needed
  --save DIR          write every Focus page fetched to DIR (course_24101.html,
                      ...) to run `sis parse` on it
  --json              the report as JSON
  --timeout SEC       timeout of each request (default 30)
  -h, --help          this help

Exit status: 0 every page fetched and parsed without a warning, 1 anything
else (the report says what), 2 usage error.
]==]

local cmd = cli.new("check", USAGE)
local die = cmd.die

local opts, words = cmd.options({ ... }, {
  url = true, user = true, ["scodoc-url"] = true, ["scodoc-user"] = true, dept = true,
  record = true, replay = true, save = true, timeout = cli.seconds, json = "flag",
}, {}, { password = "passwords never come from the command line: SIS_FOCUS_PASSWORD, SIS_SCODOC_PASSWORD" })
if #words > 0 then cmd.usage_error("unexpected argument '" .. words[1] .. "'") end
if opts.record and opts.replay then cmd.usage_error("--record and --replay go alone") end
if opts.save and os.execute("test -d '" .. opts.save:gsub("'", "'\\''") .. "'") ~= true then
  die("--save " .. opts.save .. ": directory does not exist")
end
local timeout = opts.timeout or 30

-- What a cassette remembers of the run that recorded it (no password).
local SETTINGS = "check.json"
local settings_keys = { "url", "user", "scodoc-url", "scodoc-user", "dept" }

local function read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

local replay = opts.replay or os.getenv("SIS_HTTP_REPLAY")
local record = opts.record or os.getenv("SIS_HTTP_RECORD")
if opts.replay then
  local ok, err = http.replay(opts.replay)
  if not ok then die(err) end
elseif opts.record then
  local ok, err = http.record(opts.record)
  if not ok then die(err) end
end
local saved = replay and json.decode(read_file(replay .. "/" .. SETTINGS) or "{}") or {}
local function setting(name, env)
  return opts[name] or (env and os.getenv(env)) or (type(saved) == "table" and saved[name]) or nil
end
opts.url, opts.user = setting("url", "SIS_FOCUS_URL"), setting("user", "SIS_FOCUS_USER")
opts["scodoc-url"], opts["scodoc-user"] = setting("scodoc-url", "SIS_SCODOC_URL"), setting("scodoc-user", "SIS_SCODOC_USER")
opts.dept = setting("dept")
if not opts.url and not opts["scodoc-url"] then
  die("nothing to check: give --url (Focus) and/or --scodoc-url (sis check --help)")
end
if opts.url and not opts.url:find("^https?://[^/]") then die("--url must be an http:// or https:// URL") end
if opts.url and not opts.user then die("--user is required with --url") end
if record then
  local keep = {}
  for _, k in ipairs(settings_keys) do keep[k] = opts[k] end
  local f = io.open(record .. "/" .. SETTINGS, "wb")
  if f then f:write(json.encode(keep, { pretty = true }), "\n") f:close() end
end

---------------------------------------------------------------------------
-- Running the checks (the warnings go into the report, not to stderr too,
-- unless a log level was asked for)

if not os.getenv("SIS_LOG_LEVEL") then log.level("error") end

local reports = {}

if opts.url then
  local focus = require "focus.service"
  local password = replay and (os.getenv("SIS_FOCUS_PASSWORD") or "(replayed)")
    or cmd.password("SIS_FOCUS_PASSWORD", "Focus password")
  local state, status, msg = focus.login { base_url = opts.url, username = opts.user,
                                           password = password, timeout = timeout }
  if not state then
    reports[#reports + 1] = { upstream = "focus", url = opts.url, ok = false, pages = {},
                              note = string.format("login failed (%d): %s", status, msg) }
  else
    local report = require("check.focus").run(state, { save = opts.save })
    focus.logout(state)
    report.url = opts.url
    reports[#reports + 1] = report
  end
end

if opts["scodoc-url"] then
  local client = require "scodoc.client"
  local user = opts["scodoc-user"]
  local password = user and (os.getenv("SIS_SCODOC_PASSWORD") or (replay and "(replayed)"))
  if user and not password then die("no ScoDoc password: set SIS_SCODOC_PASSWORD") end
  local ok, c = pcall(client.new, { base_url = opts["scodoc-url"], username = user,
                                    password = password, timeout = timeout })
  if not ok then die((tostring(c):gsub("^.-client%.new: ", ""))) end
  local report = require("check.scodoc").run(c, opts.dept)
  c:close()
  report.url = opts["scodoc-url"]
  reports[#reports + 1] = report
end

local all_ok = true
for _, r in ipairs(reports) do all_ok = all_ok and r.ok end

if opts.json then
  cmd.print_json({ ok = all_ok, reports = reports })
  os.exit(all_ok and 0 or 1, true)
end

---------------------------------------------------------------------------
-- The report for people

local out = {}
local function say(fmt, ...) out[#out + 1] = string.format(fmt, ...) end

-- Words on lines of at most 78 columns, after `lead` (continuations indented).
local function wrapped(lead, words_list)
  local line = lead
  for _, w in ipairs(words_list) do
    local piece = " " .. w
    if #line + #piece > 78 and line ~= lead then
      say("%s", line)
      line = (" "):rep(#lead + 1) .. w
    else
      line = line .. piece
    end
  end
  say("%s", line)
end

local problems = 0
for _, r in ipairs(reports) do
  say("%s %s", r.upstream == "focus" and "Focus" or "ScoDoc", r.url)
  if r.note then say("  %s", r.note) problems = problems + 1 end
  for _, p in ipairs(r.pages) do
    -- found (in how many of the records that could hold it, when not all),
    -- missing, or unseen (no record could hold it: an empty list)
    local found, missing, unseen = {}, {}, {}
    for _, f in ipairs(p.fields) do
      if f.found > 0 then
        found[#found + 1] = f.found < f.of and string.format("%s(%d/%d)", f.path, f.found, f.of) or f.path
      elseif f.of > 0 then
        missing[#missing + 1] = f.path
      else
        unseen[#unseen + 1] = f.path
      end
    end
    local bad = p.fetched < p.of or p.parsed < p.fetched or #p.failures > 0 or #p.warnings > 0
    if bad then problems = problems + 1 end
    say("  %-38s %s  fetched %d/%d  parsed %d/%d  warnings %d%s", p.name, bad and "PROBLEM" or "ok     ",
      p.fetched, p.of, p.parsed, p.fetched, #p.warnings,
      #p.fields > 0 and string.format("  fields %d/%d", #found, #p.fields) or "")
    if p.note then say("    note: %s", p.note) end
    for _, e in ipairs(p.errors) do say("    not fetched: %s", e) end
    for _, e in ipairs(p.failures) do say("    failed: %s", e) end
    for _, w in ipairs(p.warnings) do
      say("    warning%s: %s", w.args and " (" .. w.args .. ")" or "", warnings.describe(w))
    end
    if bad and p.saved then wrapped("    saved:", p.saved) end
    if #missing > 0 then wrapped("    missing:", missing) end
    if #found > 0 then wrapped("    found:", found) end
    if #unseen > 0 then wrapped("    no record to hold:", unseen) end
  end
end
if all_ok then
  say("sis check: every page fetched and parsed without a warning")
else
  say("sis check: %d page%s with problems", problems, problems == 1 and "" or "s")
end
log.release()
io.write(table.concat(out, "\n"), "\n")
os.exit(all_ok and 0 or 1, true)
