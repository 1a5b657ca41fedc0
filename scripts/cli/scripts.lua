-- sis scripts: the scripts search path, and which file a module comes from.
local cli = require "lib.cli"
local sis = require "sis"

local USAGE = [[
usage: sis [--scripts DIR]... scripts [MODULE...]

Prints the scripts search path: the directories of --scripts (repeatable)
or SIS_SCRIPTS (':'-separated), then the shipped scripts. The first
directory holding a module wins, so an overlay directory holds only the
files a school changed. With MODULE names (focus.course, focus/course,
focus/course.lua), prints the file each resolves to and the files on the
path it hides.
Exit status: 0, 1 when a MODULE is not on the path, 2 usage error.
]]

local cmd = cli.new("scripts", USAGE)
local _, modules = cmd.options({ ... }, {})

local path = sis.scripts_path

local function exists(file)
  local f = io.open(file, "rb")
  if f then f:close() end
  return f ~= nil
end

-- The files a module name can be in each directory ("a.b" → a/b.lua, a/b/init.lua).
local function candidates(dir, name)
  local rel = name:gsub("%.lua$", ""):gsub("%.", "/")
  return { dir .. "/" .. rel .. ".lua", dir .. "/" .. rel .. "/init.lua" }
end

if #modules == 0 then
  io.write("scripts path (the first directory holding a module wins):\n")
  for i, dir in ipairs(path) do
    io.write(string.format("  %d %s%s\n", i, dir, dir == sis.shipped_scripts and "  (shipped)" or ""))
  end
  os.exit(0, true)
end

local status = 0
for _, name in ipairs(modules) do
  local found = {}
  for _, dir in ipairs(path) do
    for _, file in ipairs(candidates(dir, name)) do
      if exists(file) then found[#found + 1] = file break end
    end
  end
  if #found == 0 then
    io.write(name, ": not on the scripts path\n")
    status = 1
  else
    io.write(name, ": ", found[1], "\n")
    for i = 2, #found do io.write("  hides ", found[i], "\n") end
  end
end
os.exit(status, true)
