-- The fake ScoDoc (tests/servers/fake_scodoc.py) in the configurations the
-- ScoDoc test files run their whole suite against (issue 11): the
-- documentation mode (the recorded corpus, cookie_mode 1) and the default
-- install (cookie_mode 2, __aca tokens, the docLogin page) with each status
-- of its login page, the install modes answering as ScoDoc 7, 9.0 and 6.5.
--
--   local fakes = require "scodoc_fake"
--   for _, mode in ipairs(fakes.modes()) do
--     local fake = fakes.start(mode)        -- started once per test file
--     t.test(mode.tag .. " ...", function() ... fake.reset() ... end)
--   end
--
-- SIS_SCODOC_MODES=docs,install-500 runs only those (default: all).
-- A mode: name, tag ("[name]"), args (the fake's switches), install (bool),
-- version ("7", "9.0", "6.5").
local t = require "testlib"
local json = require "sis.json"
local http = require "sis.http"

local M = {}

M.SCRIPT = "python3 " .. t.root .. "/tests/servers/fake_scodoc.py"

local ALL = {
  { name = "docs", args = "", version = "7" },
  { name = "install-401", args = "--install --login-status 401", install = true, version = "7" },
  { name = "install-200-9.0", args = "--install --login-status 200 --version 9.0", install = true,
    version = "9.0" },
  { name = "install-500-6.5", args = "--install --login-status 500 --version 6.5", install = true,
    version = "6.5" },
}

function M.modes()
  local only = os.getenv("SIS_SCODOC_MODES")
  local out = {}
  for _, m in ipairs(ALL) do
    if not only or ("," .. only .. ","):find("," .. m.name .. ",", 1, true) then
      m.tag = "[" .. m.name .. "]"
      out[#out + 1] = m
    end
  end
  return out
end

M.docs = ALL[1]

-- Starts a fake in `mode` (extra: more switches) and returns it with its
-- test URLs: reset(), expire() (forget the __aca tokens), received() (the
-- requests since the last reset), next_answer(status, ctype, body [, headers]).
function M.start(mode, extra)
  -- (30 s to start: the suite starts a score of them, on machines that may be busy)
  local fake = t.server(M.SCRIPT .. " " .. mode.args .. " " .. (extra or ""), 30)
  fake.mode = mode
  local control = http.session()
  local function post(path, body)
    local res = assert(control:request { url = fake.url .. path, method = "POST", body = body or "" })
    assert(res.status == 200, path)
    return json.decode(res.body)
  end
  function fake.reset() post("/__fake__/reset") end
  function fake.expire() return post("/__fake__/expire").expired end
  function fake.received()
    local res = assert(control:request { url = fake.url .. "/__fake__/requests" })
    return assert(json.decode(res.body))
  end
  function fake.next_answer(status, ctype, body, headers)
    post("/__fake__/next", json.encode { status = status, content_type = ctype, body = body,
                                         headers = headers })
  end
  -- what list_depts answers the reader (ScoDoc 6.5 ignores `viewable`)
  fake.reader_depts = mode.version == "6.5" and { "INFO", "RT" } or { "INFO" }
  return fake
end

-- A normalised answer as fetched through XML: a deep copy whose JSON-only
-- fields (scodoc.schema json_only, e.g. the bulletin's "ue[].note.moy")
-- are null.
function M.as_from_xml(name, value)
  local copy = json.decode(json.encode(value))
  for _, path in ipairs((require "scodoc.schema").json_only[name] or {}) do
    local function clear(node, steps, i)
      if type(node) ~= "table" then return end
      local step = steps[i]
      local key, each = step:match("^(.-)(%[%])$")
      key = key or step
      if i == #steps then node[key] = json.null return end
      local child = node[key]
      if each == "[]" then
        for _, x in ipairs(type(child) == "table" and child or {}) do clear(x, steps, i + 1) end
      else
        clear(child, steps, i + 1)
      end
    end
    local steps = {}
    for step in path:gmatch("[^.]+") do steps[#steps + 1] = step end
    clear(copy, steps, 1)
  end
  return copy
end

return M
