-- The fake Focus and fake ScoDoc for the watch tests, each serving a scratch
-- copy of its corpus that a test edits between two polls:
--   local W = dofile(t.root .. "/tests/lua/fixtures_server/watch_fakes.lua")
--   local f = W.focus()      -- f.base, f.pages (the copy), f.reload(), f.stats([reset])
--   local s = W.scodoc()     -- s.base, s.responses (the copy: read at each request)
--   W.edit(path, old, new)   -- replaces the one occurrence of old (plain text)
--   W.login(H, srv, jar)     -- POST /api/v3/session with the corpus's account
--   W.wait_for(what, check [, seconds])   -- check()'s first true value, or raises
local t = require "testlib"
local json = require "sis.json"
local http = require "sis.http"

local W = {}

local manifest = json.decode(t.fixture("focus/pages/manifest.json"))
W.focus_user = manifest.credentials.username
W.focus_password = manifest.credentials.password

-- The fakes read a whole corpus before they listen: under a loaded machine
-- that takes more than testlib's default 10 s.
local START_TIMEOUT = 30

local function quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local function copy(from)
  local dir = t.tmpdir()
  assert(os.execute(string.format("cp -r %s/. %s/", quote(t.root .. "/tests/fixtures/" .. from), quote(dir))))
  return dir
end

local function get(url)
  local h <close> = http.session { timeout = 10 }
  local res = assert(h:get(url))
  assert(res.status == 200, url .. " answered " .. res.status)
  return json.decode(res.body)
end

-- The servers and their copies go when the test file ends.
local function with_cleanup(s, dir)
  local stop = s.stop
  function s.stop()
    stop()
    os.execute("rm -rf " .. quote(dir))
  end
  return s
end

function W.focus(flags)
  local dir = copy("focus/pages")
  local s = t.server(string.format("python3 %s/tests/servers/fake_focus.py --pages %s %s",
    quote(t.root), quote(dir), flags or ""), START_TIMEOUT)
  s.base, s.pages = s.url .. "/", dir
  function s.reload() return get(s.url .. "/__reload") end
  function s.stats(reset) return get(s.url .. "/__stats" .. (reset and "?reset=1" or "")) end
  return with_cleanup(s, dir)
end

function W.scodoc()
  local dir = copy("scodoc")
  local s = t.server(string.format("python3 %s/tests/servers/fake_scodoc.py --fixtures %s", quote(t.root), quote(dir)),
    START_TIMEOUT)
  s.base, s.responses = s.url .. "/", dir .. "/responses"
  function s.requests() return get(s.url .. "/__fake__/requests") end
  return with_cleanup(s, dir)
end

function W.write(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

function W.edit(path, old, new)
  local f = assert(io.open(path, "rb"))
  local text = f:read("a")
  f:close()
  local i, j = text:find(old, 1, true)
  assert(i, "W.edit: not found in " .. path .. ": " .. old)
  assert(not text:find(old, j + 1, true), "W.edit: found twice in " .. path)
  W.write(path, text:sub(1, i - 1) .. new .. text:sub(j + 1))
end

function W.login(H, srv, jar)
  local r = H.request(srv, "POST", "/api/v3/session", { jar = jar,
    json = { username = W.focus_user, password = W.focus_password } })
  assert(r.status == 200, "login: " .. tostring(r.status) .. " " .. r.body)
end

function W.wait_for(what, check, seconds)
  local deadline = os.time() + (seconds or 20)
  repeat
    local v = check()
    if v then return v end
    t.sleep(0.2)
  until os.time() > deadline
  error("timed out waiting for " .. what)
end

return W
