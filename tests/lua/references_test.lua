-- No dangling references: every repository path that a comment, a document, a
-- manifest or a script names must exist (docs/focus-pages.md was cited by the
-- Focus client for months while missing).
local t = require "testlib"

-- Where paths are looked for: every text file of the tree (not the build, not
-- git's files, not saved pages and recorded bodies, which quote upstreams).
local SKIP_EXT = { html = true, body = true, JPG = true, pem = true, xml = true }
local TOP = { docs = true, engine = true, scripts = true, tests = true, examples = true,
              include = true, bench = true }

local function tree_files(root)
  local p = io.popen("cd " .. root .. " && find . -path ./build -prune -o -name .git -prune -o -type f -print")
  local files = {}
  for f in p:lines() do
    f = f:sub(3)
    if not SKIP_EXT[f:match("%.(%w+)$") or ""] then files[#files + 1] = f end
  end
  p:close()
  return files
end

local function exists(root, path)
  local f = io.open(root .. "/" .. path)
  if f then f:close() end
  return f ~= nil
end

-- "a/b/../c" → "a/c"; nil when it climbs out of the tree.
local function normalise(path)
  local parts = {}
  for piece in path:gmatch("[^/]+") do
    if piece == ".." then
      if #parts == 0 then return nil end
      parts[#parts] = nil
    elseif piece ~= "." then
      parts[#parts + 1] = piece
    end
  end
  return table.concat(parts, "/") .. (path:sub(-1) == "/" and "/" or "")
end

-- The repository paths a text names: words starting with a top-level directory
-- (or, in a Markdown file, ../ and ./ relative to it; in code such paths are
-- relative to the binary or the current directory), cut at a line number, an
-- anchor or a query, trailing punctuation dropped; templates (*, <x>, %s,
-- ${x}, NNNN) are not paths; a relative path that leads out of the top-level
-- directories (an upstream's ../photos/...) is not one of ours. Also bare
-- Markdown file names: some file must have that name.
local function references(text, dir, markdown)
  local found = {}
  for word in text:gmatch("[%w_%-%./=*<>{}%$%%?:#~@]+") do
    local path = word:match("^[^:#?@]*"):gsub("[%.,;=%-]+$", "")
    local rel = markdown and path:match("^%.%.?/")
    local top = path:match("^([%w_]+)/")
    local full = rel and normalise((dir ~= "" and dir .. "/" or "") .. path) or path
    if rel and full then top = full:match("^([%w_]+)/") or (not full:find("/") and "") end
    if (TOP[top] or (rel and top == "")) and not path:find("[*<>{}%$%%~]") and not path:find("NNNN", 1, true) then
      found[#found + 1] = { word = word, path = full }
    elseif path:find("^[%w_%-]+%.md$") then
      found[#found + 1] = { word = word, name = path }
    end
  end
  return found
end

t.test("the reference finder sees paths, relative paths and bare .md names, not templates", function()
  local refs = references([[
see docs/server.md, `engine/cassette.c:293` and ../../docs/scodoc.md#auth, ../../photos/1.JPG
(tests/lua/*_test.lua, scripts/cli/<command>.lua, engine/%s.c, DIR/NNNN.json,
/opt/x/docs/none.md, focus-pages.md) https://example.org/docs/x.md]], "tests/fixtures", true)
  local got = {}
  for _, r in ipairs(refs) do got[#got + 1] = r.path or ("name " .. r.name) end
  t.eq(got, { "docs/server.md", "engine/cassette.c", "docs/scodoc.md", "name focus-pages.md" })
end)

t.test("every repository path named in the repository exists", function()
  local root = t.root
  local names = {}
  local files = tree_files(root)
  for _, f in ipairs(files) do names[f:match("[^/]+$")] = true end
  local dangling = {}
  for _, f in ipairs(files) do
    local text = t.read(f)
    if not text:find("\0", 1, true) then -- text files only
      for _, r in ipairs(references(text, f:match("^(.*)/") or "", f:find("%.md$"))) do
        if (r.path and not exists(root, r.path)) or (r.name and not names[r.name]) then
          dangling[#dangling + 1] = f .. ": " .. r.word
        end
      end
    end
  end
  t.ok(#files > 100, "the tree was not listed")
  t.ok(#dangling == 0, "dangling references:\n" .. table.concat(dangling, "\n"))
end)
