-- lib/warnings.lua: what a parser could not read, recorded without failing
-- the page: the log line, the collectors, the X-Sis-Warnings header.
local t = require "testlib"
local warnings = require "lib.warnings"
local log = require "sis.log"

-- Runs fn with the log captured (sis.log writes to stderr: run in a child).
local function logged(code)
  local dir = t.tmpdir()
  local f = assert(io.open(dir .. "/w.lua", "w"))
  f:write(code)
  f:close()
  local status, out, err = t.exec(string.format("cd %s && %s run %s/w.lua", t.root, t.sis, dir))
  os.execute("rm -rf " .. dir)
  return status, out, err
end

t.test("a warning is one structured log line, counted per parser", function()
  local code, out, err = logged([[
local w = require "lib.warnings"
local s <close> = w.scope("focus/course")
w.add { field = "assignments.*.status", row = "LOy_row3", selector = "td.LO_field", seen = "Z\nq \"x\"" }
w.add { field = "categories", label = "Weighted Grade" }
w.add { parser = "scodoc/bulletin", field = "ue.*.note", message = "not a number" }
print(w.total(), w.counts()["focus/course"], w.counts()["scodoc/bulletin"])
]])
  t.eq(code, 0, err)
  t.eq(out, "3\t2\t1\n")
  local lines = {}
  for line in err:gmatch("[^\n]+") do lines[#lines + 1] = line:gsub("^%S+ ", "") end
  t.eq(lines, {
    'warn  warning parser=focus/course n=1 field=assignments.*.status row=LOy_row3 selector=td.LO_field seen="Z q \\"x\\""',
    'warn  warning parser=focus/course n=2 field=categories label="Weighted Grade"',
    'warn  warning parser=scodoc/bulletin n=1 field=ue.*.note message="not a number"',
  })
end)

t.test("seen text is bounded, whitespace collapsed, UTF-8 kept whole", function()
  local level = log.level()
  log.level("error")
  local list = warnings.collect(function()
    warnings.add { field = "f", seen = ("é"):rep(500) }
    warnings.add { field = "g", seen = "  a \t\n b  " }
  end)
  log.level(level)
  local seen = list[1].seen
  t.ok(#seen <= warnings.SEEN_MAX + 3, "bounded: " .. #seen)
  t.match(seen, "^[\195\169]+%.%.%.$")
  t.eq((#seen - 3) % 2, 0, "cut between two characters")
  t.eq(list[2].seen, " a b ")
end)

t.test("collect returns the warnings and the function's results; scopes nest and name the parser", function()
  local level = log.level()
  log.level("error")
  local outer, a, b = warnings.collect(function(x)
    local inner = warnings.collect(function()
      local s <close> = warnings.scope("focus/portal")
      warnings.add { field = "courses.*.name", selector = "a.x" }
    end)
    t.eq(#inner, 1)
    t.eq(inner[1].parser, "focus/portal")
    warnings.add { field = "top" }
    return x, "two"
  end, "one")
  log.level(level)
  t.eq({ a, b }, { "one", "two" })
  t.eq(#outer, 2, "the outer collector sees the inner warnings too")
  t.eq(outer[2].parser, "?")
  t.eq(warnings.describe(outer[1]), "field courses.*.name: no match for 'a.x'")
  -- an error closes the scopes it crossed (one left open inside goes too)
  t.raises(function() warnings.collect(function() warnings.scope("x") error("boom") end) end, "boom")
  log.level("error")
  local after = warnings.collect(function() warnings.add { field = "z" } end)
  log.level(level)
  t.eq(after[1].parser, "?", "no scope left open")
end)

t.test("counting adds X-Sis-Warnings only when the handler recorded some", function()
  local level = log.level()
  log.level("error")
  local quiet = warnings.counting(function() return 200, { a = 1 } end)
  local noisy = warnings.counting(function()
    warnings.add { field = "x" }
    warnings.add { field = "y" }
    return 200, { a = 1 }, { ["Cache-Control"] = "max-age=1" }
  end)
  local s, b, h = quiet({})
  t.eq({ s, b, h }, { 200, { a = 1 } })
  s, b, h = noisy({})
  log.level(level)
  t.eq({ s, b, h }, { 200, { a = 1 }, { ["Cache-Control"] = "max-age=1", ["X-Sis-Warnings"] = "2" } })
end)

t.test("add without a field is a programmer error", function()
  t.raises(function() warnings.add { row = 1 } end, "field")
  t.raises(function() warnings.add("x") end, "field")
end)
