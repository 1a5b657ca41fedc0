-- The command line a new user meets: usage errors (one line, exit 2, no
-- stack trace), `sis run -`, Ctrl-C (one line, $? = 130) and the password
-- prompt shared by sis focus and sis scodoc.
local t = require "testlib"

-- A usage error: exit status 2, exactly one line on stderr, nothing on stdout.
local function usage_error(cmd, pattern)
  local code, out, err = t.exec(cmd)
  t.eq({ code, out }, { 2, "" }, cmd)
  t.match(err, "^[^\n]+\n$", cmd .. ": one line")
  t.ok(not err:find("traceback", 1, true), cmd .. ": " .. err)
  t.match(err, pattern, cmd)
  return err
end

t.test("global options: a wrong value is a one-line usage error", function()
  usage_error(t.sis .. " --log-level bogus run /dev/null", "^sis: %-%-log%-level %(SIS_LOG_LEVEL%) wants debug, info, warn or error, not 'bogus'")
  usage_error("SIS_LOG_LEVEL=loud " .. t.sis .. " parse --help", "not 'loud'")
  local dir = t.tmpdir()
  usage_error(t.sis .. " --record " .. dir .. "/a --replay " .. dir .. " run /dev/null",
    "^sis: %-%-record and %-%-replay %(SIS_HTTP_RECORD, SIS_HTTP_REPLAY%) exclude each other")
  usage_error(t.sis .. " --replay " .. dir .. "/missing focus --url http://127.0.0.1:1/ --user u portal",
    "^sis: cannot replay " .. dir:gsub("%p", "%%%0") .. "/missing: No such file or directory")
  os.execute("rm -rf " .. dir)
  usage_error(t.sis .. " --ca-file " .. dir .. "/none.pem run /dev/null",
    "^sis: SIS_CA_FILE %(%-%-ca%-file%): cannot read '.*/none%.pem': No such file or directory")
  usage_error(t.sis .. " --bogus run x", "^sis: unknown option %-%-bogus %(sis %-%-help%)")
  usage_error(t.sis .. " --log-level", "^sis: %-%-log%-level needs a value")
  -- a good level is taken, any case
  local code = t.exec("SIS_LOG_LEVEL=DEBUG " .. t.sis .. " run /dev/null </dev/null")
  t.eq(code, 0)
end)

t.test("sis serve: an unknown option is named as such, not as one that needs a value", function()
  usage_error(t.sis .. " serve --bogus", "^sis serve: unknown option %-%-bogus %(sis serve %-%-help%)")
  usage_error(t.sis .. " serve --listen", "^sis serve: %-%-listen needs a value")
  usage_error(t.sis .. " serve --threads 0", "wants a number in 1%.%.1024, not '0'")
end)

t.test("an unknown command lists the commands there are", function()
  local err = usage_error(t.sis .. " frobnicate", "^sis: unknown command 'frobnicate'; commands: run, serve, help")
  for _, cmd in ipairs { "focus", "parse", "scodoc" } do t.match(err, ", " .. cmd .. "[,( ]") end
  usage_error(t.sis .. " ../cli/focus", "^sis: unknown command '%.%./cli/focus'")
end)

t.test("sis run --help, sis run - (the script from stdin), sis run -x", function()
  local code, out = t.exec(t.sis .. " run --help")
  t.eq(code, 0)
  t.match(out, "^usage: sis run SCRIPT")
  code, out = t.exec("echo 'print(arg[0], ...)' | " .. t.sis .. " run - one two")
  t.eq({ code, out }, { 0, "-\tone\ttwo\n" })
  local err
  code, out, err = t.exec("printf 'local x = 1\\nerror(\"boom\")\\n' | " .. t.sis .. " run -")
  t.eq(code, 1)
  t.match(err, "^sis: stdin:2: boom")
  usage_error(t.sis .. " run -x", "^sis run: unknown option %-x")
  code, out, err = t.exec(t.sis .. " run")
  t.eq({ code, out }, { 2, "" })
  t.match(err, "^usage: sis run")
end)

-- Ctrl-C typed on a terminal (tests/lua/pty_ctrl_c.py) into `argv` (a shell
-- word list, run without a shell: sis is the child the status is of).
-- Returns the transcript and the status ($?, or "hung").
local function ctrl_c(argv, wait_for, delay)
  local p = io.popen(string.format("python3 %s/tests/lua/pty_ctrl_c.py --delay %s %s -- %s 2>&1",
    t.root, delay or 0.3, wait_for and ("--wait-for '" .. wait_for .. "'") or "", argv))
  local out = p:read("a")
  p:close()
  local transcript, status = out:match("^(.*)\nstatus=(%w+)\n$")
  t.ok(status, out)
  return transcript, status
end

-- What an interrupted command shows: its output so far, then exactly one
-- line, "sis: interrupted", and no Lua trace.
local function interrupted(transcript, status)
  t.eq(status, "130", transcript)
  t.match(transcript, "\r?\nsis: interrupted\r?\n$")
  t.ok(not transcript:find("traceback", 1, true), transcript)
  t.eq(select(2, transcript:gsub("sis:", "")), 1, transcript)
end

t.test("Ctrl-C in a Lua loop stops sis run at once: one line, $? = 130", function()
  local dir = t.tmpdir()
  local f = assert(io.open(dir .. "/spin.lua", "w"))
  f:write('io.stderr:write("spinning\\n") while true do end\n')
  f:close()
  interrupted(ctrl_c(t.sis .. " run " .. dir .. "/spin.lua", "spinning"))
  os.execute("rm -rf " .. dir)
end)

-- sis focus / sis scodoc with their upstream's address
local function timeout_refused(cmd)
  for _, bad in ipairs { "0", "-1", "soon", "90000" } do
    usage_error(string.format("SIS_FOCUS_PASSWORD=x SIS_SCODOC_PASSWORD=x %s %s --timeout %s list_depts",
      t.sis, cmd, bad), "%-%-timeout wants a number of seconds in %]0, 86400%], not '" .. bad:gsub("%p", "%%%0") .. "'")
  end
end

t.test("sis focus --timeout 0 (or not a number) is a usage error", function()
  timeout_refused("focus --url http://127.0.0.1:1/ --user u")
end)

t.test("Ctrl-C at sis focus's password prompt stops it at once: one line, $? = 130", function()
  local fake = require "focus_fake"
  local server = fake.start()
  local transcript, status = ctrl_c(string.format("env -u SIS_FOCUS_PASSWORD %s focus --url %s --user %s portal",
    t.sis, server.base, fake.user), "Focus password: ")
  interrupted(transcript, status)
  t.match(transcript, "^Focus password: ")
  t.eq(server.stats().logins or 0, 0)
end)

t.test("Ctrl-C while sis focus waits for Focus stops it at once: one line, $? = 130", function()
  local fake = require "focus_fake"
  local server = fake.start("--latency 3000")
  -- typed a second after the start: sis waits for the login's answer
  interrupted(ctrl_c(string.format("env SIS_FOCUS_PASSWORD=%s %s focus --url %s --user %s courses",
    fake.password, t.sis, server.base, fake.user), nil, 1))
end)

t.test("sis scodoc --timeout 0 (or not a number) is a usage error", function()
  timeout_refused("scodoc --url http://127.0.0.1:1/ --user u")
end)

t.test("sis scodoc takes the password as sis focus does: stdin, or a prompt Ctrl-C stops", function()
  local fake = t.server("python3 " .. t.root .. "/tests/servers/fake_scodoc.py")
  local cmd = string.format("%s scodoc --url %s --user lecteur_api list_depts", t.sis, fake.url)
  local code, out, err = t.exec("echo Lecture-Info-2021 | env -u SIS_SCODOC_PASSWORD " .. cmd)
  t.eq({ code, out, err }, { 0, '[\n  "INFO"\n]\n', "" })
  local transcript, status = ctrl_c("env -u SIS_SCODOC_PASSWORD " .. cmd, "ScoDoc password: ")
  interrupted(transcript, status)
  t.match(transcript, "^ScoDoc password: ")
end)

t.test("a command's failure is said once; with --log-level the log comes whole", function()
  local fake = require "focus_fake"
  local cmd = string.format("SIS_FOCUS_PASSWORD=x %s %%s focus --url %s --user u portal </dev/null",
    t.sis, fake.dead_port_url())
  local code, out, err = t.exec(cmd:format(""))
  t.eq({ code, out }, { 1, "" })
  t.match(err, "^sis focus: login failed %(502%): [^\n]*connect[^\n]*\n$")
  code, out, err = t.exec(cmd:format("--log-level warn"))
  t.eq({ code, out }, { 1, "" })
  t.match(err, "^%S+ warn  focus: connect: [^\n]*\nsis focus: login failed")
end)
