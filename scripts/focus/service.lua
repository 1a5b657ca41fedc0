-- The Focus service: a logged-in state plus an endpoint name → an HTTP-shaped
-- answer (docs/architecture.md "Services").
--
--   state, status, msg = focus.login{ base_url =, username =, password = [, timeout = s]
--                                     [, login = "native" | "saml" | "auto"] }
--     login: how to log in (default: SIS_FOCUS_LOGIN, else "auto": native or
--     single sign-on, as focus/ answers; focus/sso.lua)
--   status, body = focus.call(state, endpoint, args)
--   focus.logout(state)
--
-- Endpoints (those of focus/registry.lua, plus set_marking_period and
-- session) and their args (ids are digit strings or integers; year, month,
-- day, mp_id integers):
--   portal, schedule, demographic, address, absences        {}
--   courses, referrals, exams, final_grades, semester_grades,
--   quarter_grades                                          { id = optional }
--   calendar                  { year =, month = optional, day = optional }
--   calendar_occasion, calendar_assignment                  { id = }
--   set_marking_period        { year =, mp_id =, redirect = optional }
--   session                   {} → { username, timeout }
--
-- The state is a plain JSON-serialisable table: base_url, username, password
-- (kept in memory for the transparent re-login), timeout, cookies (exported
-- jar text), year/mp (chosen marking period; mp_stale: a switch whose answer
-- failed, re-read from the next page), student_id, photo_url, expires
-- (Focus's session_timeout), login_count, grades_page_login, course_ids (the
-- courses of the last /courses: fetched with the portal), login (the forced
-- flow, if any), login_flow (the one in use) and, for the later finalGrades
-- API, api_key, api_endpoint and api_domains.
--
-- An answer other than 200 comes with two more values: `reason`, what went
-- wrong in the user's terms ("month must be 1..12, got 13", "Focus did not
-- answer in time", "Focus answered a page sis cannot read: focus/course:
-- ..."; no host, port or curl text), and `detail`, the upstream error as
-- sis.http or the parser gave it (for logs and the command line). The body
-- stays focus-api's ({"error": "Bad request"}; a 5xx body is the detail).
local client = require "focus.client"
local pages = require "focus.pages"
local registry = require "focus.registry"
local json = require "sis.json"
local log = require "sis.log"

local service = {}

local BAD_REQUEST = { error = "Bad request" }
local NOT_FOUND = { error = "Not found" }
local STATUS = { credentials = 401, not_found = 404, timeout = 504 }
local MESSAGE = { [401] = "Invalid credentials", [404] = "Not found" }

-- Why the call being served did not answer 200 (service.call returns them).
local reason, detail

local function bad_request(why)
  reason = why
  return 400, BAD_REQUEST
end

local function not_found(why)
  reason = why
  return 404, NOT_FOUND
end

-- A client failure in the user's terms (kinds: focus.client's).
local UNREACHABLE = { connect = true, resolve = true, tls = true, protocol = true, redirects = true, other = true }

local function user_terms(err, kind)
  if kind == "timeout" then return "Focus did not answer in time" end
  if UNREACHABLE[kind] then return "Focus could not be reached" end
  if kind == "too_large" then return "Focus answered a page too large to read" end
  if kind == "credentials" then return "Invalid credentials" end
  if kind == "not_found" then return "Focus has no such page" end
  -- "focus: upstream answered HTTP 500 (http://host/focus/...)": without the URL
  local what = err:gsub("^focus: ", ""):gsub(" %(https?://[^)]*%)$", ""):gsub("https?://%S+", "(its URL)")
  return "Focus answered something sis cannot use: " .. what
end

-- The answer for a failure of focus.client (nil, err, kind); a 5xx is
-- logged with the upstream's words (the commands leave out the line their
-- final message repeats: lib/cli.lua).
local function fail(err, kind)
  local status = STATUS[kind] or 502
  if status >= 500 then log.warn("%s", err) end
  reason, detail = user_terms(err, kind), err
  return status, { error = MESSAGE[status] or err }
end

-- What a parser failure answers: Focus said the object does not exist (the
-- calendar popups: 400, as the README says), Focus's 404 page, else 502.
local function parse_failure(err, kind)
  detail = err
  if kind == "missing" then return nil, bad_request(err) end
  if kind == "not_found" then return nil, not_found("Focus has no such page") end
  log.warn("%s", err)
  reason = "Focus answered a page sis cannot read: " .. err
  return nil, 502, { error = err }
end

-- Parses a page answer. → data | nil, status, body
local function parse(parser, ctx, res, err, kind)
  if not res then return nil, fail(err, kind) end
  local data, perr, pkind = pages.parse(parser, res.body, ctx)
  if not data then return parse_failure(perr, pkind) end
  return data
end

local function ok(data, status, body)
  if not data then return status, body end
  return 200, data
end

-- Ids come from URLs: digits only, anything else is an unknown id.
local function id_of(v)
  v = math.type(v) == "integer" and tostring(v) or v
  if type(v) == "string" and v:find("^%d+$") then return v end
  return nil
end

-- One record of an id-keyed collection, with the page's marking periods.
local function one(data, key, id)
  local items = type(data[key]) == "table" and data[key] or {}
  local item = id and items[id]
  if type(item) ~= "table" then return not_found(string.format("no %s %s", key, tostring(id))) end
  local out = {}
  for k, v in pairs(item) do out[k] = v end
  out.mps, out.mp_years = data.mps, data.mp_years
  return 200, out
end

-- How a page's answer is made from its fetch (res, err, kind): the parse
-- (ctx = the endpoint's args: a popup copies ctx.id), or finish[page].
local finish = {}

local function answer_page(c, page, args, ...)
  local f = finish[page]
  if f then return f(c, args, ...) end
  return ok(parse(page, args, ...))
end

-- The photo path relative to the base URL: focus-api dropped every "../".
-- (The Student application of later Focus gives an absolute URL.)
local function photo_url(c, src)
  if src:find("^https?://") then return src end
  return c.state.base_url .. (src:gsub("%.%./", ""))
end

-- A Student page that is the JavaScript application (2017-18 on) answers
-- through its calls (client.student_app); the page parser reads their
-- answers from ctx.app.
local function is_student_app(res) return res.body:find("var methods", 1, true) ~= nil end

local function parse_app(c, name, ctx, res)
  local got, err, kind = client.student_app(c, name, res)
  if not got then return nil, fail(err, kind) end
  ctx.app = got.answer
  return parse(name, ctx, got.page)
end

function finish.address(c, args, res, err, kind)
  if res and is_student_app(res) then return ok(parse_app(c, "address", {}, res)) end
  return ok(parse("address", args, res, err, kind))
end

-- The demographic page and its photo: both at once when the photo URL is
-- already known from an earlier call, else the page first.
function finish.demographic(c, _, res, err, kind)
  if not res then return fail(err, kind) end
  local src = pages.photo_src(res.body)
  local picture
  if src then
    local want = photo_url(c, src)
    local got = c.photo -- prefetched together with the page
    if not got or got.url ~= want then
      got = client.get_all(c, { { url = want } })[1]
      got.url = want
    end
    if got.res then
      picture = got.res.body
      c.state.photo_url = want
    else
      log.warn("focus: photo not fetched: %s", got.err)
    end
  end
  if is_student_app(res) then return ok(parse_app(c, "demographic", { picture = picture }, res)) end
  return ok(parse("demographic", { picture = picture }, res))
end

-- The URL arguments of a page from an endpoint's args (the variant first).
local function url_args(p, variant, args)
  local list, n = {}, 0
  if variant then n, list[1] = 1, variant end
  for i, name in ipairs(p.args) do list[n + i] = args[name] end
  return table.unpack(list, 1, n + #p.args)
end

-- Fetches page `name` for args and answers it.
local function get_page(c, name, args, variant)
  local p = registry.pages[name]
  return answer_page(c, name, args, client.get(c, client.page(name, url_args(p, variant, args))))
end

-- Checks the args a page's URL takes (before anything is fetched): `id` a
-- digit string (else bad_id), any other an integer (else 400).
-- → the args to use | nil, status, body
local function page_args(p, args, bad_id)
  local out = {}
  for _, name in ipairs(p.args) do
    if name == "id" then
      out.id = id_of(args.id)
      if not out.id then
        local why = "the id must be digits, got " .. tostring(args.id)
        if bad_id == 400 then return nil, bad_request(why) end
        return nil, not_found(why)
      end
    elseif math.type(args[name]) == "integer" then
      out[name] = args[name]
    else
      return nil, bad_request(name .. " must be an integer, got " .. tostring(args[name]))
    end
  end
  return out
end

-- The endpoints of the registry that need no code of their own.
local ANSWERS = {}

function ANSWERS.page(p, e)
  return function(c, args)
    local a, status, body = page_args(p, args, e.bad_id)
    if not a then return status, body end
    return get_page(c, p.name, a, e.variant)
  end
end

-- An optional id argument: its digits (nil when absent), or false and the
-- 404 of an id that is not one.
local function optional_id(args)
  if args.id == nil then return nil end
  local id = id_of(args.id)
  if id then return id end
  return false, not_found("the id must be digits, got " .. tostring(args.id))
end

function ANSWERS.collection(p, e)
  return function(c, args)
    local id, status404, body404 = optional_id(args)
    if id == false then return status404, body404 end
    local data, status, body = parse(p.name, nil, client.get(c, client.page(p.name)))
    if not data then return status, body end
    if id == nil then return 200, data end
    return one(data, e.key, id)
  end
end

local endpoints = {}
local custom = {} -- the registry's answer = "custom" endpoints

function custom.demographic(c)
  local known = c.state.photo_url
  if not known then return get_page(c, "demographic", {}) end
  local both = client.get_all(c, { client.page("demographic"), { url = known } })
  c.photo = both[2]
  c.photo.url = known
  local page = both[1]
  return finish.demographic(c, {}, page.res, page.err, page.kind)
end

-- /courses: the portal and every course page, each with the portal's days;
-- marking periods of the last course page. The courses are the portal's, but
-- their pages are fetched together with it, in one round trip, for the
-- course ids of the previous call (state.course_ids); only courses the portal
-- adds are fetched after it, and pages of courses it no longer lists are
-- dropped.
function custom.courses(c, args)
  if args.id ~= nil then
    local id = id_of(args.id)
    if not id then return not_found("the course id must be digits, got " .. tostring(args.id)) end
    return get_page(c, "course", { id = id })
  end
  local known = type(c.state.course_ids) == "table" and c.state.course_ids or {}
  local paths, fetched = { client.page("portal") }, {}
  for _, id in ipairs(known) do
    id = id_of(id)
    if id and not fetched[id] then
      paths[#paths + 1] = client.page("course", id)
      fetched[id] = #paths
    end
  end
  local first = client.get_all(c, paths, c.on_progress)
  local p = first[1]
  local portal, status, body = parse("portal", nil, p.res, p.err, p.kind)
  if not portal then return status, body end
  local ids, more = {}, {}
  for id in pairs(portal.courses or {}) do ids[#ids + 1] = id end
  table.sort(ids)
  local results = {}
  for i, id in ipairs(ids) do
    if fetched[id] then results[i] = first[fetched[id]]
    else more[#more + 1] = i end
  end
  if #more > 0 then
    local later = {}
    for k, i in ipairs(more) do later[k] = client.page("course", ids[i]) end
    for k, r in ipairs(client.get_all(c, later, c.on_progress)) do results[more[k]] = r end
  end
  c.state.course_ids = ids
  local out = { courses = json.object(), mps = portal.mps, mp_years = portal.mp_years }
  for i, id in ipairs(ids) do
    local r = results[i]
    local course, st, b = parse("course", nil, r.res, r.err, r.kind)
    if not course then return st, b end
    out.mps, out.mp_years, course.mps, course.mp_years = course.mps, course.mp_years, nil, nil
    course.days = portal.courses[id].days
    out.courses[id] = course
  end
  return 200, out
end

local function days_in_month(year, month)
  return os.date("*t", os.time { year = year, month = month + 1, day = 0, hour = 12 }).day
end

local function is_int(v, lo, hi)
  return math.type(v) == "integer" and v >= lo and v <= hi
end

-- Calendar month; day = that month's answer filtered to the day (with
-- "day" added); year = the union of the 12 months fetched at once, "month"
-- dropped (docs/focus-pages.md §4 B4, B5: the original crashed on both).
function custom.calendar(c, args)
  local year, month, day = args.year, args.month, args.day
  if not is_int(year, 1, 9999) then return bad_request("the year must be 1..9999, got " .. tostring(year)) end
  if month == nil then
    if day ~= nil then return bad_request("a day needs a month") end
    local paths = {}
    for m = 1, 12 do paths[m] = client.page("calendar", m, year) end
    local results = client.get_all(c, paths, c.on_progress)
    local out = { year = year }
    for m = 1, 12 do
      local r = results[m]
      local data, status, body = parse("calendar", nil, r.res, r.err, r.kind)
      if not data then return status, body end
      for id, ev in pairs(data.events or {}) do
        out.events = out.events or {}
        out.events[id] = ev
      end
      out.mps, out.mp_years = data.mps, data.mp_years
    end
    return 200, out
  end
  if not is_int(month, 1, 12) then return bad_request("the month must be 1..12, got " .. tostring(month)) end
  if day ~= nil and not is_int(day, 1, days_in_month(year, month)) then
    return bad_request(string.format("%04d-%02d has no day %s", year, month, tostring(day)))
  end
  local data, status, body = parse("calendar", nil, client.get(c, client.page("calendar", month, year)))
  if not data then return status, body end
  if day == nil then return 200, data end
  local date = string.format("%04d-%02d-%02d", year, month, day)
  local events = data.events
  data.events, data.day = nil, day
  for id, ev in pairs(events or {}) do
    if ev.date == date then
      data.events = data.events or {}
      data.events[id] = ev
    end
  end
  return 200, data
end

-- The finalGrades API family: (endpoint, API argument, parse_api kind, key).
local function final_grades(argument, kind, key)
  return function(c, args)
    local id, status404, body404 = optional_id(args)
    if id == false then return status404, body404 end
    local text, err, fkind = client.final_grades(c, argument)
    if not text then return fail(err, fkind) end
    local data, perr, pkind = pages.parse_api(kind, text)
    if not data then return select(2, parse_failure(perr, pkind)) end
    if id == nil then return 200, data end
    local item = type(data[key]) == "table" and data[key][id]
    if type(item) ~= "table" then return not_found(string.format("no %s %s", key, id)) end
    return 200, item
  end
end

for _, p in pairs(registry.pages) do
  for ename, e in pairs(p.endpoints) do
    endpoints[ename] = e.answer == "custom"
      and (custom[ename] or error("focus.service: no code for the custom endpoint '" .. ename .. "'", 0))
      or ANSWERS[e.answer](p, e)
  end
end
for kind, a in pairs(registry.apis) do endpoints[kind] = final_grades(a.argument, kind, a.key) end

-- set_marking_period's redirect: the forms of the README and of the API
-- paths, optional /api/v3/ prefix, any case; nil → the portal. Each page's
-- `redirect` pattern (registry) says which redirects answer it.
local function redirect_target(redirect)
  if redirect == nil then return "portal", {} end
  if type(redirect) ~= "string" then return nil end
  local r = redirect:lower():gsub("^/", ""):gsub("^api/v3/", ""):gsub("/$", "")
  for _, name in ipairs(registry.page_names()) do
    local p = registry.pages[name]
    local caps = p.redirect and { r:match(p.redirect) }
    if caps and caps[1] then
      local targs = {}
      if p.args[1] then targs[p.args[1]] = caps[1] end
      return name, targs
    end
  end
  return nil
end

-- Switches Focus to (year, mp_id) by posting the side form to the redirect
-- target, answering that page. A marking period Focus does not offer for the
-- year (it falls back to another one) → 400.
function endpoints.set_marking_period(c, args)
  local year, mp = args.year, args.mp_id
  if math.type(year) ~= "integer" or math.type(mp) ~= "integer" then
    return bad_request("year and mp_id must be integers")
  end
  local name, targs = redirect_target(args.redirect)
  if not name then return bad_request("no page answers the redirect " .. tostring(args.redirect)) end
  local status, body = answer_page(c, name, targs,
    client.switch(c, year, mp, client.page(name, url_args(registry.pages[name], nil, targs))))
  local mps = status == 200 and type(body.mps) == "table" and body.mps
  if mps then
    for id, p in pairs(mps) do
      if p.selected then c.state.year, c.state.mp = p.year, id end
    end
    c.state.mp_stale = nil
    local want = mps[tostring(mp)]
    if not (want and want.selected and want.year == year) then
      return bad_request(string.format("Focus offers no marking period %d in %d", mp, year))
    end
  elseif status ~= 200 then
    -- Focus may have switched all the same: until a page says which period
    -- is selected (service.call re-reads it), a re-login asks for this one
    c.state.year, c.state.mp, c.state.mp_stale = year, tostring(mp), true
  end
  return status, body
end

function endpoints.session(c)
  return 200, { username = c.state.username, timeout = c.state.expires or 0 }
end

-- The server's root from the URL a user gives: the address a browser shows
-- ("https://focus.example.org/focus/", ".../focus/index.php",
-- ".../focus/Modules.php?...") is cut before its focus/ part.
local function server_root(url)
  local origin, path = url:match("^(https?://[^/?#]+)(.*)$")
  path = path:gsub("[?#].*$", "")
  path = path:match("^(.-/)focus/") or path:match("^(.-/)focus$") or path
  if path:sub(-1) ~= "/" then path = path .. "/" end
  return origin .. path
end
service.server_root = server_root

-- Logs in. → state | nil, status, message, reason, detail
function service.login(opts)
  assert(type(opts) == "table", "focus.login: options table expected")
  local base, user, pass = opts.base_url, opts.username, opts.password
  assert(type(base) == "string" and base:find("^https?://[^/]"), "focus.login: base_url must be an http(s) URL")
  assert(type(user) == "string", "focus.login: username must be a string")
  assert(type(pass) == "string", "focus.login: password must be a string")
  reason, detail = nil, nil
  local flow = opts.login or os.getenv("SIS_FOCUS_LOGIN") or "auto"
  if flow ~= "native" and flow ~= "saml" and flow ~= "auto" and flow ~= "" then
    error(string.format("focus.login: login must be native, saml or auto (SIS_FOCUS_LOGIN), not '%s'", flow), 2)
  end
  local state = {
    base_url = server_root(base),
    username = user, password = pass, timeout = opts.timeout or 30,
    cookies = "", login_count = 0, login = (flow == "native" or flow == "saml") and flow or nil,
  }
  local c <close> = client.open(state)
  local done, err, kind = client.login(c)
  if not done then
    local status, body = fail(err, kind)
    return nil, status, body.error, reason, detail
  end
  return state
end

-- After a switch whose answer failed: the period the page says is selected.
local function reread_period(state, status, body)
  if not state.mp_stale or status ~= 200 or type(body) ~= "table" or type(body.mps) ~= "table" then return end
  for id, p in pairs(body.mps) do
    if p.selected then state.year, state.mp, state.mp_stale = p.year, id, nil end
  end
end

-- Calls one endpoint. opts.on_progress(done, total) follows long fan-outs.
-- → status, body [, reason, detail] (see the top of this file)
function service.call(state, endpoint, args, opts)
  local fn = endpoints[endpoint]
  if not fn then error("focus.call: unknown endpoint '" .. tostring(endpoint) .. "'", 2) end
  local c <close> = client.open(state)
  c.on_progress = opts and opts.on_progress
  reason, detail = nil, nil
  local status, body = fn(c, args or {})
  reread_period(state, status, body)
  if status == 200 then return status, body end
  return status, body, reason, detail
end

function service.endpoints()
  local names = {}
  for k in pairs(endpoints) do names[#names + 1] = k end
  table.sort(names)
  return names
end

-- Ends the Focus session. → true | nil, err
function service.logout(state)
  local c <close> = client.open(state)
  local done, err = client.logout(c)
  state.year, state.mp, state.photo_url = nil, nil, nil
  return done, err
end

return service
