-- Test helpers for the Focus client tests: the fake Focus server
-- (tests/servers/fake_focus.py) and a REST client that calls the focus.rest
-- handlers directly, the way the server front does (tests/lua/rest_client.lua).
local t = require "testlib"
local json = require "sis.json"
local http = require "sis.http"

local M = {}

M.manifest = json.decode(t.fixture("focus/pages/manifest.json"))
M.user = M.manifest.credentials.username
M.password = M.manifest.credentials.password

-- Starts a fake Focus; `flags` is appended to its command line. With `ca`
-- (tests/lua/test_ca.lua) it serves HTTPS with ca's certificate: s.url and
-- s.base are https:// URLs, trusted through ca.bundle.
function M.start(flags, ca)
  local tls = ca and " --tls " .. ca.server or ""
  -- (30 s to start: on a loaded machine Python alone can take 10)
  local s = t.server("python3 " .. t.root .. "/tests/servers/fake_focus.py " .. (flags or "") .. tls, 30)
  if ca then s.url = s.url:gsub("^http:", "https:") end
  s.base = s.url .. "/"
  local h = http.session { timeout = 10, cafile = ca and ca.bundle }
  local function get(path)
    local res = assert(h:get(s.url .. path))
    return json.decode(res.body)
  end
  -- counters of the fake (see fake_focus.py); reset = true zeroes them after reading
  function s.stats(reset) return get("/__stats" .. (reset and "?reset=1" or "")) end
  -- makes the next requests matching `match` fail: mode 500 | garbage | hang | expire
  function s.fault(mode, match, extra)
    return get(string.format("/__fault?mode=%s&match=%s%s", mode, match or "", extra or ""))
  end
  return s
end

-- A port nothing listens on.
function M.dead_port_url()
  local s = M.start()
  s.stop()
  return s.base
end

-- The answer the corpus expects for a call (tests/fixtures/focus/expected/<name>.json).
function M.expected(name) return json.decode(t.fixture("focus/expected/" .. name .. ".json")) end

-- focus.service.login on a fake with the corpus credentials (`extra` over
-- them). → state | nil, status, message
function M.login(server, extra)
  local opts = { base_url = server.base, username = M.user, password = M.password, timeout = 10 }
  for k, v in pairs(extra or {}) do opts[k] = v end
  return require("focus.service").login(opts)
end

-- focus.service.call that must answer 200 → the body.
function M.call_ok(state, endpoint, args)
  local status, body = require("focus.service").call(state, endpoint, args)
  t.eq(status, 200, endpoint .. ": " .. t.show(body))
  return body
end

-- A REST client of the focus.rest routes, called in-process through the real
-- router (tests/lua/rest_client.lua). call(method, path, json_body) → status,
-- decoded body; .sessions[ns] holds what the session cookie would select.
function M.rest_client(config)
  return require("rest_client").new("focus.rest", config)
end

return M
