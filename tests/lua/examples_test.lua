-- The runnable examples: they must work as their headers say.
local t = require "testlib"
local json = require "sis.json"
local fake = require "focus_fake"

t.test("fetch_and_select fetches a page from a local server, selects, prints JSON", function()
  local focus = fake.start()
  local code, out, err = t.exec(string.format("%s run examples/fetch_and_select.lua %s 'input[name]' name type",
    t.sis, focus.base .. "focus/index.php"))
  t.eq(code, 0, err)
  local doc = json.decode(out)
  t.eq(doc.url, focus.base .. "focus/index.php")
  t.eq(doc.selector, "input[name]")
  -- the login form of the fixture login page (tests/fixtures/focus/pages/login.html)
  local names = {}
  for _, e in ipairs(doc.elements) do names[#names + 1] = e.name .. ":" .. tostring(e.type) end
  t.eq(doc.count, #doc.elements)
  t.ok(#names >= 2, "expected the login inputs, got " .. out)
  t.match(table.concat(names, " "), "username:text")
  t.match(table.concat(names, " "), "password:password")
end)

t.test("fetch_and_select reports HTTP and network failures on stderr", function()
  local focus = fake.start()
  local code, out, err = t.exec(t.sis .. " run examples/fetch_and_select.lua " .. focus.base .. "photos/2016/nobody.JPG")
  t.eq(code, 1)
  t.eq(out, "")
  t.match(err, "^HTTP 404 from ")
  code, out, err = t.exec(t.sis .. " run examples/fetch_and_select.lua " .. fake.dead_port_url())
  t.eq(code, 1)
  t.match(err, "^connect: ")
  code, _, err = t.exec(t.sis .. " run examples/fetch_and_select.lua")
  t.eq(code, 2)
  t.match(err, "usage:")
end)
