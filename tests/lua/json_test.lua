-- sis.json: number fidelity, strict decoding with line/col errors, encoding
-- rules and errors, and round trips of every JSON fixture.
local t = require "testlib"
local json = require "sis.json"
local cjson = require "cjson"

local function roundtrip(text) return json.encode(json.decode(text)) end

t.test("integers stay integers, floats stay floats", function()
  t.eq(json.decode('{"id":123}'), { id = 123 })
  t.eq(math.type(json.decode('{"id":123}').id), "integer")
  t.eq(json.decode("1.0"), 1.0)
  t.eq(math.type(json.decode("1.0")), "float")
  t.eq(roundtrip("1.0"), "1.0")
  t.eq(json.decode("1e2"), 100.0)
  t.eq(json.decode("-2.5E-3"), -0.0025)
  t.eq(roundtrip("[1,2.0,3e0]"), "[1,2.0,3.0]")
end)

t.test("large integers survive decode and encode exactly", function()
  t.eq(json.decode("123456789012345678"), 123456789012345678)
  t.eq(roundtrip("123456789012345678"), "123456789012345678")
  t.eq(json.decode("9007199254740993"), (1 << 53) + 1)
  t.eq(roundtrip("9007199254740993"), "9007199254740993")
  t.eq(json.decode("9223372036854775807"), math.maxinteger)
  t.eq(json.decode("-9223372036854775808"), math.mininteger)
  t.eq(json.encode(math.mininteger), "-9223372036854775808")
  -- beyond int64 the lexeme becomes a float
  t.eq(json.decode("9223372036854775808"), 9223372036854775808.0)
  t.eq(json.decode("-12345678901234567890123"), -1.2345678901234568e22)
end)

t.test("signed zero, overflow and underflow", function()
  t.eq(json.decode("-0"), 0) -- integer lexeme: the integer 0
  local z = json.decode("-0.0")
  t.eq(math.type(z), "float")
  t.eq(1 / z, -math.huge)
  t.eq(json.encode(z), "-0.0")
  t.fails("^json: number out of range at line 1 col 2$", json.decode("[1e400]"))
  t.fails("number out of range", json.decode("-1e999"))
  t.eq(json.decode("1e-400"), 0.0)
end)

t.test("floats encode as the shortest round-tripping form, marked as floats", function()
  local cases = {
    { 0.1, "0.1" }, { 1 / 3, "0.3333333333333333" }, { 100.0, "100.0" }, { 1e20, "1e+20" },
    { 2.0 ^ 63, "9.223372036854776e+18" }, { 5e-324, "4.94065645841247e-324" },
    { 0.1 + 0.2, "0.30000000000000004" }, { 1.7976931348623157e308, "1.7976931348623157e+308" },
    { -1.5, "-1.5" }, { 123456789.125, "123456789.125" }, { 2.0 ^ 53 + 2, "9007199254740994.0" },
  }
  for _, c in ipairs(cases) do
    t.eq(json.encode(c[1]), c[2])
    t.eq(json.decode(c[2]), c[1])
  end
end)

t.test("empty arrays and objects round trip", function()
  t.eq(roundtrip("[]"), "[]")
  t.eq(roundtrip("{}"), "{}")
  t.eq(roundtrip('{"a":[],"b":{},"c":[[]]}'), '{"a":[],"b":{},"c":[[]]}')
  t.eq(getmetatable(json.decode("[]")), json.array_mt)
  t.eq(getmetatable(json.decode("{}")), json.object_mt)
  t.eq(json.encode({}), "{}")
  t.eq(json.encode(json.array()), "[]")
  t.eq(json.encode(json.object()), "{}")
  t.eq(json.encode({ list = json.array({}) }), '{"list":[]}')
end)

t.test("null round trips and is cjson.null", function()
  t.ok(json.null == cjson.null)
  t.eq(type(json.null), "userdata")
  local v = json.decode('{"a":null,"b":[1,null,3]}')
  t.ok(v.a == json.null)
  t.eq(#v.b, 3)
  t.ok(v.b[2] == json.null)
  t.eq(json.encode(v), '{"a":null,"b":[1,null,3]}')
  t.eq(json.encode(nil), "null")
  t.eq(json.encode(cjson.decode("null")), "null")
end)

t.test("nested values decode to the expected tables", function()
  local v = json.decode(' { "a" : [ 1 , { "b" : [ true , false , "x" ] } ] , "c" : { } } \n')
  t.eq(v, { a = { 1, { b = { true, false, "x" } } }, c = {} })
  t.eq(json.encode(v), '{"a":[1,{"b":[true,false,"x"]}],"c":{}}')
  t.eq(json.decode('"top-level string"'), "top-level string")
  t.eq(json.decode(" true "), true)
end)

t.test("string escapes and unicode, including surrogate pairs", function()
  t.eq(json.decode([["\"\\\/\b\f\n\r\t"]]), "\"\\/\b\f\n\r\t")
  t.eq(json.decode([["caf\u00e9 \u00E9"]]), "café é")
  t.eq(json.decode([["\u20ac"]]), "€")
  t.eq(json.decode([["\ud83d\ude00"]]), "\u{1F600}")
  t.eq(json.decode([["\uD834\uDD1E"]]), "\u{1D11E}")
  t.eq(json.decode([["a\u0000b"]]), "a\0b")
  t.eq(json.decode('"déjà vu 😀"'), "déjà vu 😀")
  t.fails("lone low surrogate", json.decode([["\udc00"]]))
  t.fails("high surrogate not followed by a low surrogate at line 1 col 2", json.decode([["\ud800"]]))
  t.fails("high surrogate not followed", json.decode([["\ud800\u0041"]]))
  t.fails("invalid \\u escape", json.decode([["\u12g4"]]))
  t.fails("invalid escape in string", json.decode([["\x41"]]))
end)

t.test("strings are encoded with minimal escaping, UTF-8 kept", function()
  t.eq(json.encode("a/b"), '"a/b"')
  t.eq(json.encode("\"\\\b\f\n\r\t\1\31\127"), [["\"\\\b\f\n\r\t\u0001\u001f]] .. "\127\"")
  t.eq(json.encode("café 😀 €"), '"café 😀 €"')
  t.eq(json.encode("a\0b"), [["a\u0000b"]])
  t.eq(json.decode(json.encode("\0\1\2\127 \u{10FFFF}")), "\0\1\2\127 \u{10FFFF}")
end)

t.test("every malformed form gives nil and an error with line and column", function()
  local cases = {
    { "", "unexpected end of input at line 1 col 1" },
    { "   ", "unexpected end of input at line 1 col 4" },
    { "[1,2,]", "trailing comma at line 1 col 6" },
    { '{"a":1,}', "trailing comma at line 1 col 8" },
    { "[1 2]", "expected ',' or ']' at line 1 col 4" },
    { '{"a":1 "b":2}', "expected ',' or '}' at line 1 col 8" },
    { '{"a" 1}', "expected ':' at line 1 col 6" },
    { "{a:1}", "expected a string key at line 1 col 2" },
    { "{1:2}", "expected a string key at line 1 col 2" },
    { "[1,2", "unexpected end of input at line 1 col 5" },
    { '{"a":', "unexpected end of input at line 1 col 6" },
    { '"abc', "unterminated string at line 1 col 5" },
    { "01", "leading zero in number at line 1 col 1" },
    { "-01", "leading zero in number at line 1 col 1" },
    { "1.", "expected a digit after '.' at line 1 col 3" },
    { ".5", "unexpected character '.' at line 1 col 1" },
    { "1e", "expected a digit in the exponent at line 1 col 3" },
    { "1e+", "expected a digit in the exponent at line 1 col 4" },
    { "+1", "unexpected character '+' at line 1 col 1" },
    { "-", "unexpected end of input at line 1 col 2" },
    { "-a", "invalid number at line 1 col 2" },
    { "0x10", "unexpected data after the value at line 1 col 2" },
    { "NaN", "unexpected character 'N' at line 1 col 1" },
    { "Infinity", "unexpected character 'I' at line 1 col 1" },
    { "[-Infinity]", "invalid number at line 1 col 3" },
    { "nul", "unexpected character 'n' at line 1 col 1" },
    { "True", "unexpected character 'T' at line 1 col 1" },
    { "[1] // comment", "unexpected data after the value at line 1 col 5" },
    { "/* c */ 1", "unexpected character '/' at line 1 col 1" },
    { "[1]]", "unexpected data after the value at line 1 col 4" },
    { "1 2", "unexpected data after the value at line 1 col 3" },
    { "'single'", "unexpected character ''' at line 1 col 1" },
    { '"tab\there"', "control character in string at line 1 col 5" },
    { '"new\nline"', "control character in string at line 1 col 5" },
    { '"\255"', "invalid UTF-8 in string at line 1 col 2" },
    { '"\xC3("', "invalid UTF-8 in string at line 1 col 2" },
    { '"\xC0\xAF"', "invalid UTF-8 in string at line 1 col 2" }, -- overlong '/'
    { '"\xED\xA0\x80"', "invalid UTF-8 in string at line 1 col 2" }, -- encoded surrogate
    { '"\xF4\x90\x80\x80"', "invalid UTF-8 in string at line 1 col 2" }, -- > U+10FFFF
    { "[\0]", "unexpected byte 0x00 at line 1 col 2" },
    { "\f1", "unexpected byte 0x0C at line 1 col 1" },
    { "[1,\n 2,\n x]", "unexpected character 'x' at line 3 col 2" },
    { '{"é": "ü", x}', "expected a string key at line 1 col 12" }, -- columns count characters
  }
  for _, c in ipairs(cases) do
    local v, err = json.decode(c[1])
    if v ~= nil or err ~= "json: " .. c[2] then
      error(string.format("decode(%q): got %s, %s; want nil, %q", c[1], t.show(v), t.show(err), "json: " .. c[2]))
    end
  end
end)

t.test("a leading byte order mark is skipped", function()
  t.eq(json.decode("\xEF\xBB\xBF{\"a\":1}"), { a = 1 })
  t.fails("unexpected byte 0xEF", json.decode("[\xEF\xBB\xBF1]"))
end)

t.test("nesting deeper than the limit is refused", function()
  local function nested(n) return string.rep("[", n) .. string.rep("]", n) end
  t.ok(json.decode(nested(512)))
  t.fails("^json: nesting deeper than 512 at line 1 col 513$", json.decode(nested(513)))
  t.fails("nesting deeper than 512", json.decode(string.rep('{"a":', 600) .. "1" .. string.rep("}", 600)))
  t.fails("nesting deeper than 3 at line 1 col 4", json.decode(nested(4), { max_depth = 3 }))
  t.ok(json.decode(nested(3), { max_depth = 3 }))
  t.ok(json.decode(nested(5000), { max_depth = 5000 }))
  -- a hostile unterminated document costs no recursion
  t.fails("unexpected end of input", json.decode(string.rep("[", 100000), { max_depth = 200000 }))
end)

t.test("options are checked", function()
  t.raises(function() json.decode("1", { max_depth = 0 }) end, "option 'max_depth' must be an integer in 1..1000000")
  t.raises(function() json.decode("1", { max_depth = 1.5 }) end, "option 'max_depth' must be an integer in 1..1000000")
  t.raises(function() json.decode("1", { maxdepth = 3 }) end, "unknown option 'maxdepth'")
  t.raises(function() json.encode(1, { indent = 2 }) end, "unknown option 'indent'")
  t.raises(function() json.encode(1, { pretty = "yes" }) end, "option 'pretty' must be a boolean")
  t.raises(function() json.decode({}) end, "string expected")
  t.raises(function() json.encode() end, "value expected")
end)

t.test("duplicate keys: the last one wins", function()
  t.eq(json.decode('{"a":1,"a":2}'), { a = 2 })
end)

t.test("tables: arrays, objects and the metatables", function()
  t.eq(json.encode({ 1, 2, 3 }), "[1,2,3]")
  t.eq(json.encode({ b = 1, a = 2 }), '{"a":2,"b":1}')
  t.eq(json.encode(json.array({ 1, "x" })), '[1,"x"]')
  local a = json.array()
  t.eq(getmetatable(a), json.array_mt)
  local o = { k = 1 }
  t.ok(json.object(o) == o)
  t.eq(getmetatable(o), json.object_mt)
  t.ok(json.is_array({ 1, 2 }))
  t.ok(json.is_array(json.array()))
  t.ok(json.is_array(json.decode("[]")))
  t.ok(not json.is_array({}))
  t.ok(not json.is_array({ a = 1 }))
  t.ok(not json.is_array({ [2] = 1 }))
  t.ok(not json.is_array(json.decode("{}")))
  t.ok(not json.is_array("x"))
  t.ok(not json.is_array(nil))
  t.raises(function() json.array(5) end, "table expected")
end)

t.test("sort_keys and pretty", function()
  local v = { zeta = 1, alpha = { 3, json.array(), {} }, mid = { b = true, a = json.null } }
  t.eq(json.encode(v), '{"alpha":[3,[],{}],"mid":{"a":null,"b":true},"zeta":1}')
  t.eq(json.encode(v, { pretty = true }), table.concat({
    "{",
    '  "alpha": [',
    "    3,",
    "    [],",
    "    {}",
    "  ],",
    '  "mid": {',
    '    "a": null,',
    '    "b": true',
    "  },",
    '  "zeta": 1',
    "}" }, "\n"))
  local unsorted = json.encode(v, { sort_keys = false })
  t.eq(#unsorted, #json.encode(v))
  t.eq(json.decode(unsorted), json.decode(json.encode(v)))
  -- byte order, so upper case sorts before lower case
  t.eq(json.encode({ b = 1, B = 2, a = 3, ["a b"] = 4 }), '{"B":2,"a":3,"a b":4,"b":1}')
end)

t.test("large objects sort like small ones", function()
  local v, keys = {}, {}
  for i = 1, 3000 do
    local k = string.format("k%05d", (i * 7919) % 3001)
    v[k] = i
    keys[#keys + 1] = k
  end
  table.sort(keys)
  local s = json.encode(v)
  local pos, last = 0, ""
  for _, k in ipairs(keys) do
    local at = s:find('"' .. k .. '":', pos + 1, true)
    t.ok(at and at > pos and k > last, "key order at " .. k)
    pos, last = at, k
  end
  t.eq(json.decode(s), v)
end)

t.test("unencodable values raise with the path to them", function()
  t.raises(function() json.encode(print) end, "^json.encode: cannot encode a function$")
  t.raises(function() json.encode({ a = { b = { 1, print } } }) end,
    "json.encode: cannot encode a function (at .a.b[2])", true)
  t.raises(function() json.encode({ 1, 2, nil, 4 }) end, "cannot encode a sparse array")
  t.raises(function() json.encode({ [0] = 1, 2 }) end, "cannot encode a sparse array")
  t.raises(function() json.encode({ [2] = "x" }) end, "cannot encode a sparse array")
  t.raises(function() json.encode({ 1, 2, x = 3 }) end, "both integer and string keys")
  t.raises(function() json.encode({ [1.5] = 1 }) end, "neither a string nor an integer")
  t.raises(function() json.encode({ [true] = 1 }) end, "neither a string nor an integer")
  t.raises(function() json.encode(json.array({ 1, x = 2 })) end, "json.array has a key that is not an integer")
  t.raises(function() json.encode(json.object({ 1 })) end, "json.object has a key that is not a string")
  t.raises(function() json.encode({ x = 0 / 0 }) end, "cannot encode NaN (at .x)", true)
  t.raises(function() json.encode({ math.huge }) end, "cannot encode inf (at [1])", true)
  t.raises(function() json.encode(-math.huge) end, "cannot encode inf")
  t.raises(function() json.encode(io.stdout) end, "cannot encode a userdata")
  t.raises(function() json.encode(coroutine.create(print)) end, "cannot encode a thread")
  t.raises(function() json.encode({ name = "caf\xE9" }) end, "invalid UTF-8 in string at byte 4 (at .name)", true)
  t.raises(function() json.encode({ ["k\xFF"] = 1 }) end, "invalid UTF-8 in string at byte 2", true)
end)

t.test("cycles and excessive depth raise", function()
  local c = { name = "c" }
  c.self = c
  t.raises(function() json.encode(c) end, "cannot encode a cycle (a table contains itself) (at .self)", true)
  local a = { 1 }
  a[2] = { a }
  t.raises(function() json.encode(a) end, "cycle (a table contains itself) (at [2][1])", true)
  -- the same table twice, side by side, is not a cycle
  local shared = { 1 }
  t.eq(json.encode({ shared, shared }), "[[1],[1]]")
  local deep = {}
  for _ = 1, 600 do deep = { deep } end
  t.raises(function() json.encode(deep) end, "nesting deeper than 512")
  local ok = {}
  for _ = 1, 511 do ok = { ok } end
  t.eq(#json.encode(ok), 512 * 2)
end)

t.test("a failed encode does not leak its buffer", function()
  local big = string.rep("x", 100000)
  for _ = 1, 200 do
    pcall(json.encode, { big, big, big, print })
  end
  collectgarbage()
  collectgarbage()
  t.ok(collectgarbage("count") < 20000)
end)

-- Every JSON fixture: decode -> encode -> decode gives the same value, and
-- our value agrees with cjson's up to int/float (cjson reads floats only).
local function same_as_cjson(ours, theirs, path)
  if type(ours) == "number" then
    if ours ~= theirs then error(path .. ": " .. tostring(ours) .. " ~= cjson " .. tostring(theirs)) end
    return
  end
  if type(ours) ~= "table" then
    if ours ~= theirs then error(path .. ": " .. t.show(ours) .. " ~= cjson " .. t.show(theirs)) end
    return
  end
  for k, v in pairs(ours) do same_as_cjson(v, theirs[k], path .. "." .. tostring(k)) end
  for k in pairs(theirs) do
    if ours[k] == nil then error(path .. "." .. tostring(k) .. ": missing") end
  end
end

local function fixture_files()
  local files = {}
  for _, pattern in ipairs({ "focus/expected/*.json", "scodoc/responses/*.json", "scodoc/*.json" }) do
    local p = io.popen("ls " .. t.root .. "/tests/fixtures/" .. pattern)
    for f in p:lines() do files[#files + 1] = f end
    p:close()
  end
  return files
end

t.test("every JSON fixture round trips exactly", function()
  local files = fixture_files()
  t.ok(#files > 400, "fixtures found: " .. #files)
  local integers = 0
  for _, path in ipairs(files) do
    local f = assert(io.open(path, "rb"))
    local text = f:read("a")
    f:close()
    local v, err = json.decode(text)
    if v == nil then error(path .. ": " .. err) end
    local again = json.decode(json.encode(v))
    local d = t.diff(again, v, path)
    if d then error(d) end
    t.eq(json.decode(json.encode(v, { pretty = true })), v, path)
    same_as_cjson(v, cjson.decode(text), path)
    if text:find('"id": %d') or text:find('"id":%d') then integers = integers + 1 end
  end
  t.ok(integers > 0)
end)

t.test("fixture numbers keep their type", function()
  local v = json.decode(t.fixture("scodoc/dept_INFO.json"))
  local text = t.fixture("scodoc/dept_INFO.json")
  -- every number written without '.' or exponent decodes as an integer
  local ints, floats = 0, 0
  local function walk(x)
    if type(x) == "table" then
      for _, y in pairs(x) do walk(y) end
    elseif math.type(x) == "integer" then
      ints = ints + 1
    elseif math.type(x) == "float" then
      floats = floats + 1
    end
  end
  walk(v)
  local lex_ints, lex_floats = 0, 0
  -- count number lexemes outside strings
  local stripped = text:gsub('"[^"\\]*"', '""')
  for num in stripped:gmatch("[-%d][%d.eE+-]*") do
    if num:find("[.eE]") then lex_floats = lex_floats + 1 else lex_ints = lex_ints + 1 end
  end
  t.eq(ints, lex_ints)
  t.eq(floats, lex_floats)
end)

t.test("objects past the stack's room sort through a table", function()
  local v = {}
  for i = 1, 100001 do v["k" .. i] = i end
  local s = json.encode(v)
  t.eq(s:sub(1, 24), '{"k1":1,"k10":10,"k100":')
  t.eq(json.decode(s), v)
end)

t.test("a __gc finalizer that grows the table being encoded is an error, not an overflow", function()
  -- (the C walk overflowed its key array)
  local t0, raised = {}, 0
  for i = 1, 50 do t0["k" .. i] = i end
  local fired = require("finalizer_race").run(t0, 20000, function()
    local done, e = pcall(json.encode, t0)
    if not done then
      raised = raised + 1
      t.match(e, "^json.encode: a table was modified while it was being encoded %(by a __gc finalizer%?%)$")
    end
    return raised > 0
  end)
  t.ok(fired > 0 and raised > 0, string.format("finalizers fired %d times, %d encodes raised", fired, raised))
end)
