-- Packaging: the man page, `make install` / `make uninstall` and the systemd
-- unit of examples/.
local t = require "testlib"

-- The release build next to t.sis (build/sis or build/asan/sis → build):
-- what `make install` installs.
local BUILD = t.sis:gsub("/asan/sis$", ""):gsub("/sis$", "")

local function sh(cmd)
  local code, out, err = t.exec(cmd)
  t.eq(code, 0, cmd .. "\n" .. out .. err)
  return out, err
end

local function files_under(dir)
  local p = io.popen("cd " .. dir .. " && find . \\( -type f -o -type l \\) | sort")
  local list = {}
  for line in p:lines() do list[#list + 1] = line:sub(3) end
  p:close()
  return list
end

t.test("the man page renders without a warning and describes every command", function()
  local page, warnings = sh("MANWIDTH=80 LC_ALL=C.UTF-8 man --warnings -l " .. t.root .. "/docs/sis.1")
  t.eq(warnings, "")
  t.match(page, "^SIS%(1%)")
  local usage = sh(t.sis .. " --help")
  for line in usage:match("commands:\n(.-)\n\n"):gmatch("[^\n]+") do
    local cmd = line:match("^  (%l+) ")
    t.match(page, "\n       " .. cmd .. " ", "the man page's COMMANDS lack " .. cmd)
  end
  for flag in usage:match("global options:\n(.*)"):gmatch("(%-%-[%l-]+)") do
    t.ok(page:find(flag, 1, true), "the man page lacks " .. flag)
  end
end)

t.test("make install puts a working sis, its scripts, man page, docs and examples; make uninstall removes them", function()
  local dest = t.tmpdir()
  local make = string.format("make -s --no-print-directory -C %s BUILD=%s DESTDIR=%s PREFIX=/opt/sis-test ",
    t.root, BUILD, dest)
  sh(make .. "install")
  local installed = files_under(dest)
  local want = { "opt/sis-test/bin/sis", "opt/sis-test/share/man/man1/sis.1",
                 "opt/sis-test/share/sis/scripts/cli/focus.lua", "opt/sis-test/share/sis/scripts/lib/cli.lua",
                 "opt/sis-test/share/doc/sis/README.md", "opt/sis-test/share/doc/sis/LICENSE",
                 "opt/sis-test/share/doc/sis/CHANGELOG.md", "opt/sis-test/share/doc/sis/docs/server.md",
                 "opt/sis-test/share/doc/sis/docs/focus-pages.md",
                 "opt/sis-test/share/doc/sis/examples/sis.service", "opt/sis-test/share/doc/sis/examples/sis.env",
                 "opt/sis-test/share/doc/sis/examples/bulletin.lua" }
  local have = {}
  for _, f in ipairs(installed) do have[f] = true end
  for _, f in ipairs(want) do t.ok(have[f], f .. " is not installed") end
  -- the installed binary finds the installed scripts (not the tree's)
  local out = sh(string.format("cd / && env -u SIS_SCRIPTS %s/opt/sis-test/bin/sis parse focus/portal %s",
    dest, t.root .. "/tests/fixtures/focus/pages/Portal__mp326.html"))
  t.match(out, '"courses"')
  out = sh(string.format("cd / && env -u SIS_SCRIPTS %s/opt/sis-test/bin/sis run - <<'X'\nprint(require('sis').scripts_dir)\nX", dest))
  t.eq(out, dest .. "/opt/sis-test/share/sis/scripts\n")
  local _, warnings = sh("MANWIDTH=80 man --warnings -l " .. dest .. "/opt/sis-test/share/man/man1/sis.1")
  t.eq(warnings, "")
  -- a file of the user's beside the installed ones is left alone
  sh("touch " .. dest .. "/opt/sis-test/bin/other")
  sh(make .. "uninstall")
  t.eq(files_under(dest), { "opt/sis-test/bin/other" })
  local p = io.popen("find " .. dest .. " -name '*sis' -path '*share*'")
  t.eq(p:read("a"), "", "a share/sis or share/doc/sis directory is left")
  p:close()
  os.execute("rm -rf " .. dest)
end)

t.test("examples/sis.service passes systemd-analyze verify (when systemd is there)", function()
  if os.execute("command -v systemd-analyze >/dev/null 2>&1") ~= true then
    print("# skip: systemd-analyze is not installed: examples/sis.service not verified")
    return
  end
  local dir = t.tmpdir()
  -- the unit as installed, running the sis under test; man:sis(1) found through MANPATH
  local root = t.root:sub(1, 1) == "/" and t.root or os.getenv("PWD") .. "/" .. t.root
  local sis = t.sis:sub(1, 1) == "/" and t.sis or root .. "/" .. t.sis
  sh(string.format("mkdir -p %s/man/man1 && cp %s/docs/sis.1 %s/man/man1/ && " ..
    "sed 's|^ExecStart=/usr/local/bin/sis |ExecStart=%s |' %s/examples/sis.service >%s/sis.service",
    dir, root, dir, sis, root, dir))
  local unit = t.read("examples/sis.service")
  for _, setting in ipairs { "DynamicUser=yes", "ProtectSystem=strict", "NoNewPrivileges=yes",
                             "EnvironmentFile=/etc/sis/sis.env", "LimitCORE=0" } do
    t.ok(unit:find("\n" .. setting .. "\n", 1, true), setting)
  end
  local code, out, err = t.exec(string.format("MANPATH=%s/man systemd-analyze verify %s/sis.service", dir, dir))
  os.execute("rm -rf " .. dir)
  t.eq({ code, out, err }, { 0, "", "" })
end)
