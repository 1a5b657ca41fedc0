-- focus.registry: every Focus page sis reads, listed once. focus.pages (which
-- parser reads a page), focus.client (its URL), focus.service (its
-- endpoints), focus.rest (their routes), `sis focus` (their command-line
-- form) and `sis check` (what to fetch and which fields to expect) read it.
--
-- pages[name] (name: the page's parser name, `sis parse focus/<name>`):
--   url       path under the Focus base URL, string.format template whose
--             placeholders take `args` in order; a table of such templates
--             when the page has several URLs (variant name → template)
--   args      names of the URL placeholders ({"id"}, {"month", "year"})
--   parser    module returning function(doc, ctx) → data (default "focus.<name>")
--   side      true: a full page carrying the side year / marking-period
--             selects, merged into its answer as mp_years and mps
--   redirect  pattern a `PUT /session` redirect must match to answer this
--             page (its capture, if any, is the page's first argument)
--   endpoints service endpoint name → how it answers (below)
--   used_by   other endpoints that read the page (documentation, sis check)
--   sample    function(seen) → list of argument lists `sis check` fetches
--             the page with (the variant first; seen: page name → parsed
--             data of the pages checked before); pages without args are
--             fetched once
--   after     pages `sis check` parses before this one (what sample reads)
--   fields    the fields of the answer's contract, as paths: "courses.*.name"
--             (`*`: every element of an array or id map); default: those of
--             focus/contract.lua (focus-api's)
-- An endpoint (endpoints[name]):
--   answer    "page" (default): the parsed page; "collection": the parsed
--             page, or with an id the element data[key][id]; "custom": the
--             service's own code (service.lua `custom`)
--   key       the collection's field (answer = "collection")
--   variant   which of the page's URLs (url is a table)
--   routes    REST GET paths (`:name` segments: `id` a digit string, any
--             other name an integer)
--   cli       its name for `sis focus` (default: the endpoint name); the
--             words after it are the longest route's parameters
--   bad_id    status for an id that is not digits (default 404)
-- apis[kind]: the finalGrades API answers (parser focus.final_grades):
-- argument (the API's), key (the collection), routes, fields.
--
-- A school's overlay changes one entry, not this file: a module
-- `focus.registry_local` found on the scripts path (see docs/adapting.md)
-- returns a table shaped like this one ({pages = {...}, apis = {...},
-- paths = {...}}) whose entries are merged field by field over these
-- (a new name adds a page; `false` removes one), or a function(registry)
-- that edits it in place.

local MODULES = "focus/Modules.php?"

local R = {}

-- Focus paths that are not pages a parser reads.
R.paths = {
  login = "focus/index.php",
  logout = "focus/index.php?logout",
  api = "focus/API/APIEndpoint.php",
  legacy_api = "focus/legacy_API/APIEndpoint.php", -- where the Focus of 2018-12 on has it
}

local function keys_of(field)
  return function(seen)
    local out = {}
    local items = seen and type(seen[field[1]]) == "table" and seen[field[1]][field[2]]
    for id in pairs(type(items) == "table" and items or {}) do out[#out + 1] = { id } end
    table.sort(out, function(a, b) return a[1] < b[1] end)
    return out
  end
end

R.pages = {
  portal = {
    url = MODULES .. "modname=misc/Portal.php",
    side = true,
    redirect = "^portal$",
    endpoints = { portal = { routes = { "/api/v3/portal" } } },
    used_by = { "courses" },
  },
  course = {
    url = MODULES .. "modname=Grades/StudentGBGrades.php?course_period_id=%s",
    args = { "id" },
    side = true,
    redirect = "^courses?/(%d+)$",
    endpoints = {
      courses = { answer = "custom", routes = { "/api/v3/courses", "/api/v3/courses/:id" } },
    },
    sample = keys_of { "portal", "courses" },
    after = { "portal" },
  },
  schedule = {
    url = MODULES .. "modname=Scheduling/Schedule.php",
    side = true,
    redirect = "^schedule$",
    endpoints = { schedule = { routes = { "/api/v3/schedule" } } },
  },
  calendar = {
    url = MODULES .. "modname=School_Setup/Calendar.php&month=%d&year=%d",
    args = { "month", "year" },
    side = true,
    endpoints = {
      calendar = { answer = "custom",
                   routes = { "/api/v3/calendar/:year", "/api/v3/calendar/:year/:month",
                              "/api/v3/calendar/:year/:month/:day" } },
    },
    -- the month of the portal's first upcoming event (a page of the same
    -- school year), else this month
    sample = function(seen)
      local events = seen.portal and seen.portal.events
      local first = type(events) == "table" and events[1] and events[1].date
      local y, m = tostring(first or os.date("%Y-%m")):match("^(%d+)-(%d+)")
      return { { math.tointeger(tonumber(m)), math.tointeger(tonumber(y)) } }
    end,
    after = { "portal" },
  },
  calendar_detail = {
    url = {
      occasion = MODULES .. "modname=School_Setup/Calendar.php&modfunc=detail&event_id=%s",
      assignment = MODULES .. "modname=School_Setup/Calendar.php&modfunc=detail&assignment_id=%s",
    },
    args = { "id" },
    side = false, -- a popup
    endpoints = {
      calendar_occasion = { variant = "occasion", cli = "occasion", bad_id = 400,
                            routes = { "/api/v3/calendar/occasions/:id" } },
      calendar_assignment = { variant = "assignment", cli = "assignment", bad_id = 400,
                              routes = { "/api/v3/calendar/assignments/:id" } },
    },
    -- one event of each kind from the sampled calendar month
    sample = function(seen)
      local out, kinds = {}, {}
      local events = seen.calendar and seen.calendar.events or {}
      local ids = {}
      for id in pairs(events) do ids[#ids + 1] = id end
      table.sort(ids)
      for _, id in ipairs(ids) do
        local kind = events[id].type
        if (kind == "occasion" or kind == "assignment") and not kinds[kind] then
          kinds[kind] = true
          out[#out + 1] = { kind, id }
        end
      end
      return out
    end,
    after = { "calendar" },
  },
  demographic = {
    url = MODULES .. "modname=Students/Student.php",
    side = true,
    redirect = "^demographic$",
    endpoints = { demographic = { answer = "custom", routes = { "/api/v3/demographic" } } },
  },
  address = {
    url = MODULES .. "modname=Students/Student.php&include=Address",
    side = true,
    redirect = "^address$",
    endpoints = { address = { routes = { "/api/v3/address" } } },
  },
  referrals = {
    url = MODULES .. "force_package=SIS&modname=Discipline/Referrals.php",
    side = true,
    redirect = "^referrals$",
    endpoints = {
      referrals = { answer = "collection", key = "referrals",
                    routes = { "/api/v3/referrals", "/api/v3/referrals/:id" } },
    },
  },
  absences = {
    url = MODULES .. "force_package=SIS&modname=Attendance/StudentSummary.php",
    side = true,
    redirect = "^absences$",
    endpoints = { absences = { routes = { "/api/v3/absences" } } },
  },
  final_grades_page = {
    url = MODULES .. "force_package=SIS&modname=Grades/StudentRCGrades.php",
    side = true,
    used_by = { "exams", "final_grades", "semester_grades", "quarter_grades" },
  },
}

R.apis = {
  exams = { argument = "all_SEM_exams", key = "exams", routes = { "/api/v3/exams", "/api/v3/exams/:id" } },
  final_grades = { argument = "-1", key = "grades",
                   routes = { "/api/v3/final_grades", "/api/v3/final_grades/:id" } },
  semester_grades = { argument = "all_SEM", key = "grades",
                      routes = { "/api/v3/semester_grades", "/api/v3/semester_grades/:id" } },
  quarter_grades = { argument = "all_QTR", key = "grades",
                     routes = { "/api/v3/quarter_grades", "/api/v3/quarter_grades/:id" } },
}

---------------------------------------------------------------------------
-- The school's changes, then defaults and checks (a malformed entry fails
-- here, when the registry loads, naming the entry).

local function merge(into, changes, what)
  for name, entry in pairs(changes or {}) do
    if entry == false then
      into[name] = nil
    elseif type(entry) ~= "table" then
      error(string.format("focus.registry_local: %s '%s' must be a table or false", what, name), 0)
    elseif type(into[name]) == "table" then
      for k, v in pairs(entry) do into[name][k] = v end
    else
      into[name] = entry
    end
  end
end

local function apply_local(reg)
  if not package.searchpath("focus.registry_local", package.path) then return end
  local changes = require "focus.registry_local"
  if type(changes) == "function" then
    changes(reg)
  elseif type(changes) == "table" then
    merge(reg.pages, changes.pages, "page")
    merge(reg.apis, changes.apis, "api")
    for k, v in pairs(changes.paths or {}) do reg.paths[k] = v end
  else
    error("focus.registry_local must return a table or a function", 0)
  end
end

local function check(reg)
  local endpoints = {}
  local names = {}
  for name in pairs(reg.pages) do names[#names + 1] = name end
  table.sort(names)
  for _, name in ipairs(names) do
    local p = reg.pages[name]
    local function bad(msg) error(string.format("focus.registry: page '%s': %s", name, msg), 0) end
    if not name:find("^[%a_][%w_]*$") then bad("the name must be a Lua identifier") end
    p.name = name
    p.parser = p.parser or ("focus." .. name)
    p.args = p.args or {}
    p.endpoints = p.endpoints or {}
    if type(p.url) ~= "string" and type(p.url) ~= "table" then bad("url must be a string or a table") end
    if type(p.parser) ~= "string" then bad("parser must be a module name") end
    for ename, e in pairs(p.endpoints) do
      e.answer = e.answer or "page"
      if e.answer ~= "page" and e.answer ~= "collection" and e.answer ~= "custom" then
        bad("endpoint '" .. ename .. "': answer must be page, collection or custom")
      end
      if e.answer == "collection" and type(e.key) ~= "string" then bad("endpoint '" .. ename .. "': no key") end
      if type(p.url) == "table" and not p.url[e.variant] then
        bad("endpoint '" .. ename .. "': variant must name one of the page's URLs")
      end
      if endpoints[ename] then
        bad(string.format("endpoint '%s' is declared by pages '%s' and '%s'", ename, endpoints[ename], name))
      end
      endpoints[ename] = name
      e.name, e.page, e.cli, e.routes = ename, name, e.cli or ename, e.routes or {}
    end
  end
  for kind, a in pairs(reg.apis) do
    if type(a.argument) ~= "string" or type(a.key) ~= "string" then
      error(string.format("focus.registry: api '%s' needs an argument and a key", kind), 0)
    end
    a.name, a.cli, a.routes = kind, a.cli or kind, a.routes or {}
  end
end

apply_local(R)
check(R)

-- Page names in a stable order (sis check, listings).
function R.page_names()
  local names = {}
  for name in pairs(R.pages) do names[#names + 1] = name end
  table.sort(names)
  return names
end

return R
