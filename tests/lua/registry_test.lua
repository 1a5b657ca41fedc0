-- focus/registry.lua: every Focus page once; pages.lua, client.lua,
-- service.lua, rest.lua and `sis focus` read it, and a school's
-- focus/registry_local.lua adds or replaces a page without copying it.
local t = require "testlib"
local json = require "sis.json"
local http = require "sis.http"
local school = require "school"
local fake = require "focus_fake"

local quote = school.quote

-- A registry loaded with `files` (name → Lua text) on the path first.
local function registry_with(files)
  local dir = t.tmpdir()
  os.execute("mkdir -p " .. dir .. "/focus")
  for name, text in pairs(files) do school.write(dir .. "/" .. name, text) end
  local saved_path, saved = package.path, {}
  for _, m in ipairs { "focus.registry", "focus.registry_local" } do saved[m], package.loaded[m] = package.loaded[m], nil end
  package.path = dir .. "/?.lua;" .. package.path
  local ok, reg = pcall(require, "focus.registry")
  package.path = saved_path
  for m, v in pairs(saved) do package.loaded[m] = v end
  os.execute("rm -rf " .. dir)
  return ok, reg
end

t.test("the shipped registry: every page's parser loads, every endpoint is served and routed", function()
  local registry = require "focus.registry"
  local service = require "focus.service"
  local routes = require "focus.rest"
  local served, routed = {}, {}
  for _, name in ipairs(service.endpoints()) do served[name] = true end
  for _, r in ipairs(routes) do routed[r.path] = true end
  local n = 0
  for name, p in pairs(registry.pages) do
    t.eq(type(require(p.parser)), "function", name .. "'s parser")
    for ename, e in pairs(p.endpoints) do
      n = n + 1
      t.ok(served[ename], ename .. " is no service endpoint")
      for _, path in ipairs(e.routes) do t.ok(routed[path], path .. " is not routed") end
    end
  end
  for kind, a in pairs(registry.apis) do
    t.ok(served[kind], kind)
    for _, path in ipairs(a.routes) do t.ok(routed[path], path) end
  end
  t.eq(n, 10)
  -- the popups come before calendar/:year/:month, which would take "occasions" for a year
  local order = {}
  for i, r in ipairs(routes) do order[r.path] = i end
  t.ok(order["/api/v3/calendar/occasions/:id"] < order["/api/v3/calendar/:year/:month"])
end)

t.test("registry_local: entries merged field by field, new pages added, false removes", function()
  local ok, reg = registry_with { ["focus/registry_local.lua"] = [[
return { pages = { schedule = { parser = "focus.my_schedule" }, referrals = false,
                   lunch = { url = "focus/Lunch.php", endpoints = { lunch = { routes = { "/api/v3/lunch" } } } } },
         paths = { api = "focus/legacy_API/APIEndpoint.php" } }
]] }
  t.ok(ok, reg)
  t.eq(reg.pages.schedule.parser, "focus.my_schedule")
  t.eq(reg.pages.schedule.url, "focus/Modules.php?modname=Scheduling/Schedule.php", "the rest kept")
  t.eq(reg.pages.referrals, nil)
  t.eq(reg.pages.lunch.parser, "focus.lunch")
  t.eq(reg.pages.lunch.endpoints.lunch.answer, "page")
  t.eq(reg.paths.api, "focus/legacy_API/APIEndpoint.php")
  ok, reg = registry_with { ["focus/registry_local.lua"] = [[
return function(r) r.pages.course.endpoints.courses.cli = "course" end
]] }
  t.ok(ok, reg)
  t.eq(reg.pages.course.endpoints.courses.cli, "course")
end)

t.test("registry_local mistakes name the entry", function()
  local ok, err = registry_with { ["focus/registry_local.lua"] = "return { pages = { lunch = 3 } }" }
  t.eq(ok, false)
  t.match(err, "page 'lunch' must be a table or false")
  ok, err = registry_with { ["focus/registry_local.lua"] =
    "return { pages = { lunch = { url = 'x', endpoints = { portal = {} } } } }" }
  t.eq(ok, false)
  t.match(err, "page 'portal': endpoint 'portal' is declared by pages 'lunch' and 'portal'")
  ok, err = registry_with { ["focus/registry_local.lua"] =
    "return { pages = { lunch = { url = 'x', endpoints = { lunch = { answer = 'odd' } } } } }" }
  t.eq(ok, false)
  t.match(err, "answer must be page, collection or custom")
end)

---------------------------------------------------------------------------
-- A made-up page, end to end: a parser, a registry entry, a route; the
-- shipped scripts untouched.

local SIDE = [[<form><select name="side_syear"><option value="2016" selected>2016-2017</option></select>]] ..
  [[<select name="side_mp"><option value="326" selected>Semester 2</option></select></form>]]
local LUNCH_PAGE = "<html><head><title>Lunch</title></head><body>" .. SIDE .. [[
<table class="lunch"><tr><td>Pizza</td><td>3.50</td></tr><tr><td>Soup</td><td>free?</td></tr>
<tr><td>Salad</td><td>2</td></tr></table></body></html>]]

local LUNCH_PARSER = [[
-- The lunch page (a school's own): meals and prices.
local common = require "focus.common"
return function(doc)
  local meals = {}
  for i, tr in ipairs(common.rows(common.need(doc, "table.lunch"))) do
    local cells = common.cells(tr)
    local price = common.number(cells[2]:text())
    if not price then
      common.warn { field = "meals.*.price", row = i, selector = "td:nth-child(2)", seen = cells[2]:text() }
    end
    meals[#meals + 1] = { name = cells[1]:text(), price = price }
  end
  return { meals = meals }
end
]]

local OVERLAY = {
  ["focus/lunch.lua"] = LUNCH_PARSER,
  ["focus/my_schedule.lua"] = [[
local schedule = require "focus.schedule"
return function(doc, ctx)
  local data = schedule(doc, ctx)
  data.school = "ours"
  return data
end
]],
  ["focus/registry_local.lua"] = [[
return { pages = {
  lunch = { url = "focus/Modules.php?modname=Food/Lunch.php", side = true,
            endpoints = { lunch = { routes = { "/api/v3/lunch" } } } },
  schedule = { parser = "focus.my_schedule" },
} }
]],
}

local WANT = {
  meals = { { name = "Pizza", price = 3.5 }, { name = "Soup" }, { name = "Salad", price = 2 } },
  mp_years = { 2016 },
  mps = { ["326"] = { id = "326", name = "Semester 2", year = 2016, selected = true } },
}

-- A scripts directory: the shipped scripts plus the overlay's files.
local function scripts_with(files)
  local dir = t.tmpdir()
  assert(os.execute(string.format("cp -r %s/scripts/. %s/", quote(t.root), quote(dir))))
  for name, text in pairs(files) do school.write(dir .. "/" .. name, text) end
  return dir
end

t.test("a made-up page: sis parse, sis focus and sis serve (X-Sis-Warnings) from a registry entry and a parser", function()
  local scripts = scripts_with(OVERLAY)
  local pages = school.copy()
  school.add_page(pages, "focus/Modules.php?modname=Food/Lunch.php", "Lunch.html", LUNCH_PAGE)
  local focus = school.start(pages)

  local code, out, err = t.exec(string.format("%s --scripts %s parse focus/lunch %s/Lunch.html",
    t.sis, quote(scripts), quote(pages)))
  t.eq(code, 0, err)
  t.eq(json.decode(out), WANT)
  t.match(err, "warn  warning parser=focus/lunch n=1 field=meals%.%*%.price row=2 selector=\"td:nth%-child%(2%)\" seen=\"free%?\"")

  code, out, err = t.exec(string.format("SIS_FOCUS_PASSWORD=%s %s --scripts %s focus --url %s --user %s lunch </dev/null",
    quote(fake.password), t.sis, quote(scripts), focus.base, fake.user))
  t.eq(code, 0, err)
  -- (the fake Focus writes its own side selects: every marking period of the year)
  local got = json.decode(out)
  t.eq(got.meals, WANT.meals)
  t.eq(got.mps["326"].selected, true)
  code, out = t.exec(string.format("%s --scripts %s focus --help", t.sis, quote(scripts)))
  t.match(out, "\n  lunch\n")

  local srv = t.server(string.format("%s serve --scripts %s --listen 127.0.0.1:0 --focus-url %s",
    t.sis, quote(scripts), focus.base))
  local client <close> = http.session { timeout = 20 }
  local res = assert(client:post(srv.url .. "/api/v3/session",
    { json = { username = fake.user, password = fake.password } }))
  t.eq(res.status, 200)
  res = assert(client:get(srv.url .. "/api/v3/lunch"))
  t.eq(res.status, 200)
  t.eq(json.decode(res.body).meals, WANT.meals)
  t.eq(res.headers["x-sis-warnings"], "1")
  -- the replaced schedule parser answers, the rest is the shipped one
  res = assert(client:get(srv.url .. "/api/v3/schedule"))
  t.eq(json.decode(res.body).school, "ours")
  res = assert(client:get(srv.url .. "/api/v3/portal"))
  t.eq(res.status, 200)
  t.eq(res.headers["x-sis-warnings"], nil, "no warning, no header")
  t.match(srv.log(), "warning parser=focus/lunch n=1 field=meals")
  os.execute("rm -rf " .. quote(scripts) .. " " .. quote(pages))
end)
