-- sis watch: a baseline run prints nothing, the next run prints the change
-- as one JSON line; --exec gets the event on stdin; usage errors exit 2.
local t = require "testlib"
local json = require "sis.json"
local W = dofile(t.root .. "/tests/lua/fixtures_server/watch_fakes.lua")

local function quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local GRADE = { 'Prototype Critique 8</td><td class="LO_field">NG / 50</td><td class="LO_field">Not Graded</td>',
                'Prototype Critique 8</td><td class="LO_field">47 / 50</td><td class="LO_field">94% A</td>' }

local function watch(fake, data, extra)
  return t.exec(string.format("SIS_FOCUS_PASSWORD=%s SIS_WATCH_MIN_INTERVAL=1 %s watch focus --url %s --user %s "
    .. "--data-dir %s --once %s", quote(W.focus_password), t.sis, fake.base, W.focus_user, quote(data), extra or ""))
end

t.test("sis watch --once: baseline, then the change as a JSON line, then nothing", function()
  local fake = W.focus()
  local data = t.tmpdir()
  local code, out, err = watch(fake, data, "--kinds focus.assignment")
  t.eq({ code, out }, { 0, "" }, err)
  W.edit(fake.pages .. "/StudentGBGrades__course_period_id=24101__mp326.html", GRADE[1], GRADE[2])
  fake.reload()
  code, out, err = watch(fake, data, "--kinds focus.assignment")
  t.eq(code, 0, err)
  local lines = {}
  for line in out:gmatch("[^\n]+") do lines[#lines + 1] = json.decode(line) end
  t.eq(#lines, 1)
  t.eq({ lines[1].kind, lines[1].identity.assignment, lines[1].new.student_grade },
       { "focus.assignment.graded", "Prototype Critique 8", 47.0 })
  t.ok(not err:find(W.focus_password, 1, true))
  code, out = watch(fake, data, "--kinds focus.assignment")
  t.eq({ code, out }, { 0, "" }, "announced once")
  os.execute("rm -rf " .. quote(data))
end)

t.test("sis watch --exec runs the command with the event on stdin", function()
  local fake = W.focus()
  local data = t.tmpdir()
  local sink = data .. "/events"
  local exec = "--kinds focus.assignment.graded --exec " .. quote("cat >> " .. sink)
  t.eq((watch(fake, data, exec)), 0)
  W.edit(fake.pages .. "/StudentGBGrades__course_period_id=24101__mp326.html", GRADE[1], GRADE[2])
  fake.reload()
  local code, out = watch(fake, data, exec)
  t.eq({ code, out }, { 0, "" })
  local f = assert(io.open(sink))
  local event = json.decode(f:read("l"))
  f:close()
  t.eq(event.kind, "focus.assignment.graded")
  os.execute("rm -rf " .. quote(data))
end)

t.test("sis watch usage errors exit 2 with a message", function()
  local code, _, err = t.exec(t.sis .. " watch")
  t.eq(code, 2)
  t.match(err, "first say what to watch")
  code, _, err = t.exec(t.sis .. " watch focus --url http://127.0.0.1:9/ --user u --kinds focus.nope --data-dir /tmp")
  t.eq(code, 2)
  t.match(err, "unknown event kind focus.nope")
  code, _, err = t.exec(t.sis .. " watch scodoc --url http://127.0.0.1:9/ --user u")
  t.eq(code, 2)
  t.match(err, "%-%-dept is required")
  code, _, err = t.exec(t.sis .. " watch focus --url http://127.0.0.1:9/ --user u --interval soon")
  t.eq(code, 2)
  t.match(err, "whole seconds")
  code, _, err = t.exec(t.sis .. " watch focus --url http://127.0.0.1:9/ --user u --password x")
  t.eq(code, 2)
  t.match(err, "never taken from the command line")
  local help
  code, help = t.exec(t.sis .. " watch --help")
  t.eq(code, 0)
  t.match(help, "^usage: sis watch focus")
end)
