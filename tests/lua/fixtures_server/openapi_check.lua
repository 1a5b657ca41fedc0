-- Checks REST answers against the OpenAPI document (opt-in per test file):
--   local V = dofile(t.root .. "/tests/lua/fixtures_server/openapi_check.lua")
--   V.wrap(H)                -- every H.request answer is recorded
--   V.record(method, path, status, content_type, body)   -- or one by one
--   t.test("every answer matches the OpenAPI document", V.check)   -- last
-- V.check runs tests/openapi/validate.mjs (Node, installed by make deps with
-- npm ci from the lockfile); without it the check fails and says why.
local t = require "testlib"
local json = require "sis.json"
local build = require "openapi.build"

local V = { answers = {} }
local routes = build.routes(build.DEFAULT_ROUTES)

function V.record(method, path, status, content_type, body)
  local route = build.find(method, path, routes)
  assert(route, "no route matches " .. method .. " " .. path)
  V.answers[#V.answers + 1] = { method = method, route = (build.template(route)), status = status,
                                content_type = content_type or json.null, body = body == nil and json.null or body }
end

function V.wrap(H)
  local request = H.request
  function H.request(srv, method, path, opts)
    local res = request(srv, method, path, opts)
    local p = path:match("^[^?]*")
    if not p:match("^/__") then -- the fakes' and receivers' own test URLs
      local ctype = res.headers["content-type"]
      local body = res.json
      if body == nil then body = res.body ~= "" and res.body or nil end
      V.record(method, p, res.status, type(ctype) == "string" and ctype or nil, body)
    end
    return res
  end
  return H
end

function V.available()
  if os.execute("command -v node >/dev/null 2>&1") ~= true then
    return nil, "node is not installed (make deps)"
  end
  local f = io.open(t.root .. "/tests/openapi/node_modules/@seriousme/openapi-schema-validator/package.json")
  if not f then return nil, "the OpenAPI validator is not installed: make deps (npm ci in tests/openapi)" end
  f:close()
  return true
end

-- Runs the validator on a list of answers. → exit code, its output
function V.validate(answers)
  local ok, why = V.available()
  if not ok then error("cannot check the answers: " .. why) end
  local dir = t.tmpdir()
  local doc = assert(io.open(dir .. "/doc.json", "wb"))
  doc:write(json.encode(build.document(routes)))
  doc:close()
  local out = assert(io.open(dir .. "/answers.jsonl", "wb"))
  for _, a in ipairs(answers) do out:write(json.encode(a), "\n") end
  out:close()
  local code, stdout, stderr = t.exec(string.format("cd %s/tests/openapi && node validate.mjs %s/doc.json %s/answers.jsonl",
    t.root, dir, dir))
  os.execute("rm -rf " .. dir)
  return code, stdout .. stderr
end

function V.check()
  t.ok(#V.answers > 0, "no answer recorded")
  local code, stdout = V.validate(V.answers)
  if code ~= 0 then error("answers that do not match the document:\n" .. stdout .. stderr, 0) end
  t.match(stdout, string.format("%d answers checked, 0 problems", #V.answers))
end

return V
