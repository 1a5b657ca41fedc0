-- Script overlays: --scripts (repeatable) and SIS_SCRIPTS (a ':'-list) put
-- directories in front of the shipped scripts; the first holding a module
-- wins; sis serve reloads on a change in any of them; make install leaves
-- them alone.
local t = require "testlib"
local json = require "sis.json"
local http = require "sis.http"
local school = require "school"
local fake = require "focus_fake"

local quote, write = school.quote, school.write

-- An overlay directory holding only `files` (relative name → text).
local function overlay(files)
  local dir = t.tmpdir()
  for name, text in pairs(files) do
    os.execute("mkdir -p " .. quote((dir .. "/" .. name):match("^(.*)/")))
    write(dir .. "/" .. name, text)
  end
  return dir
end

-- The shipped course parser with its course name marked.
local function marked_course(mark)
  local text = t.read("scripts/focus/course.lua")
  local new, n = text:gsub("name = t%.name,", 'name = t.name .. " (' .. mark .. ')",')
  assert(n == 1)
  return new
end

local function sis_focus(scripts, server, args)
  return t.exec(string.format("SIS_FOCUS_PASSWORD=%s %s %s focus --url %s --user %s %s </dev/null",
    quote(fake.password), t.sis, scripts, server.base, fake.user, args))
end

t.test("a scripts directory that does not exist is a usage error, without Lua's search list", function()
  for _, cmd in ipairs {
    t.sis .. " --scripts /nonexistent/overlay focus portal",
    t.sis .. " --scripts " .. t.root .. "/scripts --scripts /nonexistent/overlay parse focus/portal x",
    "SIS_SCRIPTS=/nonexistent/overlay " .. t.sis .. " scripts",
    t.sis .. " serve --scripts /nonexistent/overlay --listen 127.0.0.1:0",
    t.sis .. " --scripts /nonexistent/overlay run " .. t.root .. "/examples/fetch_and_select.lua",
  } do
    local code, out, err = t.exec(cmd)
    t.eq({ code, out }, { 2, "" }, cmd)
    t.eq(err, "sis: scripts directory /nonexistent/overlay: directory does not exist\n", cmd)
  end
end)

t.test("sis scripts: the path in order, shipped last; a module's file and what it hides", function()
  local a = overlay { ["focus/course.lua"] = "return 1\n" }
  local b = overlay { ["focus/course/init.lua"] = "return 2\n", ["lib/extra.lua"] = "return 3\n" }
  local code, out = t.exec(string.format("SIS_SCRIPTS=%s:%s %s scripts", a, b, t.sis))
  t.eq(code, 0)
  local shipped = out:match("  3 (%S+)  %(shipped%)\n")
  t.ok(shipped, out)
  t.eq(out, string.format("scripts path (the first directory holding a module wins):\n  1 %s\n  2 %s\n  3 %s  (shipped)\n",
    a, b, shipped))
  -- --scripts, repeatable, replaces SIS_SCRIPTS; the shipped directory named again stays once
  code, out = t.exec(string.format("SIS_SCRIPTS=/nonexistent %s --scripts %s --scripts %s --scripts %s scripts focus.course lib/extra.lua focus.nope",
    t.sis, b, a, shipped))
  t.eq(code, 1, "a module not on the path")
  t.eq(out, string.format("focus.course: %s/focus/course/init.lua\n  hides %s/focus/course.lua\n  hides %s/focus/course.lua\n" ..
    "lib/extra.lua: %s/lib/extra.lua\nfocus.nope: not on the scripts path\n", b, a, shipped, b))
  -- a script (cli/x) comes from the first directory holding it
  local c = overlay { ["cli/hello.lua"] = "print('hello from the overlay')\n" }
  code, out = t.exec(string.format("%s --scripts %s hello", t.sis, c))
  t.eq({ code, out }, { 0, "hello from the overlay\n" })
  os.execute(string.format("rm -rf %s %s %s", a, b, c))
end)

t.test("an overlay with one changed parser: sis parse, sis focus and sis serve use it; an edit is live on the next request", function()
  local dir = overlay { ["focus/course.lua"] = marked_course("overlay") }
  local page = t.root .. "/tests/fixtures/focus/pages/StudentGBGrades__course_period_id=24101__mp326.html"
  local code, out, err = t.exec(string.format("%s --scripts %s parse focus/course %s", t.sis, dir, quote(page)))
  t.eq(code, 0, err)
  t.eq(json.decode(out).name, "Learning Studio (overlay)")
  -- the rest of the scripts are the shipped ones: the portal parses as always
  code, out = t.exec(string.format("SIS_SCRIPTS=%s %s parse focus/portal %s/tests/fixtures/focus/pages/Portal__mp326.html",
    dir, t.sis, t.root))
  t.eq(json.decode(out), json.decode(t.fixture("focus/expected/portal.json")))

  local focus = fake.start()
  code, out, err = sis_focus("--scripts " .. dir, focus, "courses 24101")
  t.eq(code, 0, err)
  t.eq(json.decode(out).name, "Learning Studio (overlay)")

  local srv = t.server(string.format("%s serve --scripts %s --listen 127.0.0.1:0 --focus-url %s --threads 4",
    t.sis, dir, focus.base))
  local client <close> = http.session { timeout = 20 }
  assert(client:post(srv.url .. "/api/v3/session", { json = { username = fake.user, password = fake.password } }))
  local function course_name()
    return json.decode(assert(client:get(srv.url .. "/api/v3/courses/24101")).body).name
  end
  t.eq(course_name(), "Learning Studio (overlay)")
  write(dir .. "/focus/course.lua", marked_course("edited"))
  for _ = 1, 4 do t.eq(course_name(), "Learning Studio (edited)") end
  -- a file new in the overlay hides the shipped one from the next request on
  local portal = t.read("scripts/focus/portal.lua"):gsub("if #order > 0 then out%.courses = courses end",
    "if #order > 0 then out.courses = courses end out.school = 'overlay'")
  write(dir .. "/focus/portal.lua", portal)
  t.eq(json.decode(assert(client:get(srv.url .. "/api/v3/portal")).body).school, "overlay")
  -- and removing it brings the shipped one back
  os.remove(dir .. "/focus/portal.lua")
  t.eq(json.decode(assert(client:get(srv.url .. "/api/v3/portal")).body).school, nil)
  t.match(srv.log(), "scripts " .. dir:gsub("%p", "%%%0") .. ":")
  srv.stop()
  os.execute("rm -rf " .. dir)
end)

t.test("hot reload watches every directory of the path, a swapped symlinked overlay included", function()
  local H = dofile(t.root .. "/tests/lua/fixtures_server/harness.lua")
  local root = t.tmpdir()
  local routes = t.read("tests/lua/fixtures_server/testroutes.lua")
  -- the test routes live in the second directory; the first is an overlay swapped by symlink
  os.execute(string.format("mkdir -p %s/r1 %s/r2 %s/base", root, root, root))
  write(root .. "/base/testroutes.lua", routes)
  write(root .. "/r1/marker.lua", "return 'r1'\n")
  write(root .. "/r2/marker.lua", "return 'r2'\n")
  assert(os.execute(string.format("ln -s r1 %s/current", root)))
  local function edit_base(from, to)
    local text = t.read("tests/lua/fixtures_server/testroutes.lua"):gsub(from, to)
    write(root .. "/base/testroutes.lua", text)
  end
  edit_base("local VERSION = 1", "local VERSION = require 'marker'")
  local srv = H.serve(root .. "/current:" .. root .. "/base", nil, "--threads 4")
  -- (H.serve passes the list as --scripts; SIS_SCRIPTS-like lists work there too)
  t.eq(H.request(srv, "GET", "/t/hello").json.version, "r1")
  -- a change in the second directory
  edit_base("local VERSION = 1", "local VERSION = 'base ' .. require 'marker'")
  t.eq(H.request(srv, "GET", "/t/hello").json.version, "base r1")
  -- the overlay swapped by a deploy
  assert(os.execute(string.format("ln -s r2 %s/next && mv -T %s/next %s/current", root, root, root)))
  for _ = 1, 4 do t.eq(H.request(srv, "GET", "/t/hello").json.version, "base r2") end
  write(root .. "/r2/marker.lua", "return 'r2 edited'\n")
  t.eq(H.request(srv, "GET", "/t/hello").json.version, "base r2 edited")
  srv.stop()
  os.execute("rm -rf " .. quote(root))
end)

t.test("make install replaces the shipped scripts and leaves an overlay alone", function()
  local dest = t.tmpdir()
  local function install()
    local code, _, err = t.exec(string.format("make -s -C %s install DESTDIR=%s PREFIX=/usr", quote(t.root), dest))
    t.eq(code, 0, err)
  end
  install()
  local shipped = dest .. "/usr/share/sis/scripts"
  local etc = dest .. "/etc/sis/scripts"
  os.execute("mkdir -p " .. etc .. "/focus")
  write(etc .. "/focus/course.lua", marked_course("school"))
  write(shipped .. "/focus/stale.lua", "return 'left by an old release'\n")
  install()
  t.eq(t.exec("test -e " .. shipped .. "/focus/stale.lua"), 1, "a file of the old release survived")
  t.eq(t.exec("test -e " .. shipped .. "/focus/course.lua"), 0)
  t.eq(io.open(etc .. "/focus/course.lua"):read("a"), marked_course("school"), "the overlay was touched")
  local bin = dest .. "/usr/bin/sis"
  local page = t.root .. "/tests/fixtures/focus/pages/StudentGBGrades__course_period_id=24101__mp326.html"
  local code, out = t.exec(string.format("SIS_SCRIPTS=%s %s parse focus/course %s", etc, bin, quote(page)))
  t.eq(code, 0)
  t.eq(json.decode(out).name, "Learning Studio (school)")
  code, out = t.exec(string.format("SIS_SCRIPTS=%s %s scripts", etc, bin))
  t.eq(out, string.format("scripts path (the first directory holding a module wins):\n  1 %s\n  2 %s  (shipped)\n", etc, shipped))
  os.execute("rm -rf " .. dest)
end)
