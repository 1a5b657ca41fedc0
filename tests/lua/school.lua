-- A school of one's own for the tests: a copy of the Focus corpus
-- (tests/fixtures/focus/pages) that a test changes (a renamed class, a new
-- page) and serves with the fake Focus.
--   local school = require "school"
--   local dir = school.copy()
--   school.edit(dir, "Schedule.html", "LO_header", "LO_head")
--   local html = school.replace(text, "9 / 10", "E / 10")  -- first occurrence
--   school.add_page(dir, "focus/Modules.php?modname=Food/Lunch.php", "Lunch.html", html)
--   local focus = school.start(dir)      -- focus_fake.start on that corpus
local t = require "testlib"
local json = require "sis.json"
local fake = require "focus_fake"

local S = {}

local function quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

local function write(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

function S.copy()
  local dir = t.tmpdir()
  assert(os.execute(string.format("cp -r %s/tests/fixtures/focus/pages/. %s/", quote(t.root), quote(dir))))
  return dir
end

-- s with the first occurrence of the plain text `from` replaced by `to`
-- (which must be there: the fixture changed otherwise).
function S.replace(s, from, to)
  local i, j = s:find(from, 1, true)
  assert(i, "fixture text not found: " .. from)
  return s:sub(1, i - 1) .. to .. s:sub(j + 1)
end

-- text with every plain `from` replaced by `to` (at least one: `what` names
-- the text in the error otherwise).
function S.edit_text(text, from, to, what)
  local at, count, parts = 1, 0, {}
  while true do
    local i, j = text:find(from, at, true)
    if not i then break end
    parts[#parts + 1] = text:sub(at, i - 1) .. to
    at, count = j + 1, count + 1
  end
  assert(count > 0, "no '" .. from .. "' in " .. (what or "the text"))
  parts[#parts + 1] = text:sub(at)
  return table.concat(parts)
end

-- Replaces the plain text `from` by `to` in a page file (at least once).
function S.edit(dir, file, from, to)
  write(dir .. "/" .. file, S.edit_text(read(dir .. "/" .. file), from, to, file))
end

-- focus.pages.parse with the log quiet → data, its warnings (nil, err, kind
-- on failure).
function S.parse(name, html, ctx)
  local log, warnings, pages = require "sis.log", require "lib.warnings", require "focus.pages"
  local level = log.level()
  log.level("error")
  local list, data, err, kind = warnings.collect(pages.parse, name, html, ctx)
  log.level(level)
  if not data then return nil, err, kind end
  return data, list
end

-- A new page served at `url` (every marking period).
function S.add_page(dir, url, file, html)
  write(dir .. "/" .. file, html)
  local manifest = json.decode(read(dir .. "/manifest.json"))
  table.insert(manifest.pages, 1, { url = url, mp = "*", method = "GET", file = file,
                                    content_type = "text/html; charset=UTF-8" })
  write(dir .. "/manifest.json", json.encode(manifest, { pretty = true }))
end

function S.start(dir, flags)
  return fake.start("--pages " .. quote(dir) .. " " .. (flags or ""))
end

S.quote, S.read, S.write = quote, read, write
return S
