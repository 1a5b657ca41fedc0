-- sis.http multipart/form-data request bodies, read back by Python's own MIME
-- parser (tests/servers/multipart_test_server.py).
local t = require "testlib"
local http = require "sis.http"
local json = require "sis.json"

local srv = t.server("python3 " .. t.root .. "/tests/servers/multipart_test_server.py")
local URL = srv.url .. "/parts"

local function value(v) if v ~= json.null then return v end end
local function unhex(h) return (h:gsub("%x%x", function(x) return string.char(tonumber(x, 16)) end)) end

-- POSTs `multipart` and returns what the server's parser read.
local function parsed(s, multipart, extra)
  local req = { url = URL, multipart = multipart }
  for k, v in pairs(extra or {}) do req[k] = v end
  local res = assert(s:request(req))
  t.eq(res.status, 200, res.body)
  return json.decode(res.body)
end

-- 300 bytes with NULs, CR/LF, dashes and every byte value
local BINARY = {}
for i = 0, 255 do BINARY[#BINARY + 1] = string.char(i) end
BINARY = table.concat(BINARY) .. "\r\n--\r\n--x--\0\0" .. ("-"):rep(30)

t.test("fields and files, in order, as a MIME parser reads them", function()
  local s <close> = http.session()
  local got = parsed(s, {
    { "__call__", '{"requests":[{"controller":"EditController","args":["general",417]}]}' },
    { "count", 42 },
    { "flag", true },
    { "empty", "" },
    { "utf8", "\u{e9}l\u{e8}ve \u{2014} \u{1f600}" },
    { "photo", { filename = "417.JPG", content_type = "image/jpeg", data = BINARY } },
    { "notes", { filename = "notes.txt", data = "line 1\r\nline 2\n" } },
    { "__call__", "second value of the same name" },
  })
  t.eq(got.defects, {})
  t.match(got.content_type, "^multipart/form%-data; boundary=sis%-%x+$")
  t.match(got.boundary, "^sis%-" .. ("%x"):rep(32) .. "$")
  local want = {
    { "__call__", nil, nil, '{"requests":[{"controller":"EditController","args":["general",417]}]}' },
    { "count", nil, nil, "42" },
    { "flag", nil, nil, "true" },
    { "empty", nil, nil, "" },
    { "utf8", nil, nil, "\u{e9}l\u{e8}ve \u{2014} \u{1f600}" },
    { "photo", "417.JPG", "image/jpeg", BINARY },
    { "notes", "notes.txt", "application/octet-stream", "line 1\r\nline 2\n" },
    { "__call__", nil, nil, "second value of the same name" },
  }
  t.eq(#got.parts, #want)
  for i, w in ipairs(want) do
    local p = got.parts[i]
    t.eq({ p.disposition, p.name, value(p.filename), value(p.content_type) },
      { "form-data", w[1], w[2], w[3] }, "part " .. i)
    t.eq(unhex(p.data_hex), w[4], "part " .. i .. " data")
  end
  -- the body ends with the closing delimiter
  local body = unhex(got.body_hex)
  t.eq(body:sub(-(#got.boundary + 8)), "\r\n--" .. got.boundary .. "--\r\n")
end)

t.test("every body gets a new random boundary", function()
  local s <close> = http.session()
  local seen = {}
  for _ = 1, 20 do
    local b = parsed(s, { { "a", "same" } }).boundary
    t.ok(not seen[b], "boundary repeated: " .. b)
    seen[b] = true
  end
end)

t.test("an empty list is a body with no part", function()
  local s <close> = http.session()
  local got = parsed(s, {})
  t.eq(got.parts, {})
  t.eq(unhex(got.body_hex), "--" .. got.boundary .. "--\r\n")
end)

t.test("a Content-Type header given by the caller wins, as for form and json", function()
  local s <close> = http.session()
  local got = parsed(s, { { "a", "b" } }, { headers = { ["Content-Type"] = "text/plain" } })
  t.eq(got.content_type, "text/plain")
end)

t.test("bad multipart values raise", function()
  local s <close> = http.session()
  local function raises(mp, pattern, extra)
    local req = { url = URL, multipart = mp }
    for k, v in pairs(extra or {}) do req[k] = v end
    local ok, err = pcall(s.request, s, req)
    t.ok(not ok, "no error for " .. t.show(mp))
    t.match(err, pattern)
  end
  raises({ a = "b" }, "multipart is a list of {name, value} pairs")
  raises({ "a" }, "multipart is a list of {name, value} pairs")
  raises({ { 'na"me', "v" } }, "multipart name holds a quote, CR, LF or NUL")
  raises({ { "na\r\nme", "v" } }, "multipart name holds a quote, CR, LF or NUL")
  raises({ { 1, "v" } }, "multipart name must be a string")
  raises({ { "f", { filename = "a\nb", data = "" } } }, "multipart filename holds")
  raises({ { "f", { filename = "a", content_type = "text/plain\r\nX: y", data = "" } } }, "multipart content_type holds")
  raises({ { "f", { filename = "a" } } }, "a multipart file needs data")
  raises({ { "f", { data = "x" } } }, "multipart filename must be a string")
  raises({ { "a", {} } }, "multipart filename must be a string")
  raises({ { "a", "b" } }, "give only one of form, json, multipart and body", { form = { x = 1 } })
  raises("x", "'multipart' must be a table")
end)

t.test("a recorded multipart request replays: the boundary comes from the parts then", function()
  local dir = t.tmpdir()
  local ok, err = pcall(function()
    local parts = { { "__call__", '{"requests":[]}' }, { "f", { filename = "x.bin", data = "\0\1\2" } } }
    t.eq(http.record(dir .. "/c"), true)
    local first
    do
      local s <close> = http.session()
      first = parsed(s, parts)
      t.eq(parsed(s, parts).boundary, first.boundary, "derived: the same parts, the same boundary")
      t.ok(parsed(s, { { "__call__", "other" } }).boundary ~= first.boundary, "other parts, another boundary")
    end
    t.eq(http.replay(dir .. "/c"), true)
    srv.stop()
    local s <close> = http.session()
    t.eq(parsed(s, parts), first, "replayed from the cassette")
  end)
  http.live()
  os.execute("rm -rf " .. dir)
  if not ok then error(err, 0) end
end)
