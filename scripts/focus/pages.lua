-- focus.pages: the entry point of the Focus page parsers.
--
--   data, err, kind = pages.parse(name, html_string [, ctx])
--     name: portal, course, schedule, calendar, calendar_detail, demographic,
--     address, referrals, absences, final_grades_page. data is the focus-api
--     JSON table of the page, with the marking periods (mp_years, mps) merged
--     for every page but the calendar_detail popup.
--     ctx (optional table): demographic takes ctx.picture (the photo's bytes →
--     `picture`, base64); calendar_detail takes ctx.id (the requested event or
--     assignment id, copied into `id`: the popup does not show it).
--   data, err, kind = pages.parse_api(kind, json_string)
--     the finalGrades API answer; kind: exams | final_grades | semester_grades
--     | quarter_grades.
--   On failure data is nil, err is "focus/<page>: <what is missing>" and kind
--   tells the caller what to answer:
--     "structure"  the page lacks what the parser needs (502)
--     "missing"    Focus says the requested object does not exist (calendar
--                  popup of an unknown id: 400)
--     "login"      Focus answered its login page (session expired: log in again)
--     "not_found"  Focus answered its "page not found" page (404)
--   A bug in a parser is not a failure: it is raised with its file:line.
--   A cell or field the parser cannot read is a warning (lib/warnings.lua),
--   recorded under the parser name "focus/<page>"; the parse goes on.
--   Pages and their parser modules: focus/registry.lua.
--   pages.kind(html_string) → "login" | "not_found" | "page"
--   pages.photo_src(html_string) → the demographic photo's src ("../photos/2016/417.JPG", or
--     the Student application's absolute image URL) or nil
local common = require "focus.common"
local registry = require "focus.registry"
local warnings = require "lib.warnings"
local student_app = require "focus.student_app"
local html = require "sis.html"
local json = require "sis.json"

local M = {}

local PAGES, API_KINDS = registry.pages, registry.apis

-- For callers that validate names first (sis parse): name → true.
function M.is_page(name) return PAGES[name] ~= nil end
function M.is_api_kind(kind) return API_KINDS[kind] ~= nil end

-- One walk of the document: the login form (or a password field on a page
-- without the side selects), or Focus's error box saying "Not Found".
-- Linear on hostile pages: the side selects are looked up once however many
-- password fields there are, and the boxes nested in a box already read are
-- not read again (their text is part of it; in document order they are the
-- next ones of the list).
local SIGNS = 'form[name="loginform"], form#login_form, input[type="password"], .error_box'

local function kind_of(doc)
  if doc:title() == "Error" then return "not_found" end
  local side -- has the side selects (looked up once)
  local nested = 0 -- boxes still to pass: inside the last one read
  for _, node in ipairs(doc:select(SIGNS)) do
    local tag = node:tag()
    if tag == "form" then return "login" end
    if tag == "input" then
      if side == nil then side = doc:select_one('select[name="side_syear"]') ~= nil end
      if not side then return "login" end
    elseif nested > 0 then
      nested = nested - 1
    else
      if node:text():lower():find("not found", 1, true) then return "not_found" end
      nested = #node:select(".error_box")
    end
  end
  return "page"
end

local WHAT = { login = "its login page (session expired?)", not_found = "its 'page not found' page" }

-- Runs fn(...) and turns a parser failure into nil, message, kind; a script
-- bug is raised again (its message keeps the file:line where it happened).
local function protect(prefix, doc, fn, ...)
  local ok, data = pcall(fn, ...)
  if ok then return data end
  if not common.is_failure(data) then error(data, 0) end
  local page = doc and kind_of(doc) or "page"
  if page ~= "page" then
    return nil, prefix .. data.message .. "; Focus answered " .. WHAT[page], page
  end
  return nil, prefix .. data.message, data.kind
end

local function run(name, doc, ctx)
  local scope <close> = warnings.scope("focus/" .. name)
  local data = require(PAGES[name].parser)(doc, ctx)
  if PAGES[name].side then
    for k, v in pairs(common.marking_periods(doc)) do data[k] = v end
  end
  return data
end

function M.parse(name, html_string, ctx)
  if PAGES[name] == nil then error(string.format("focus.pages: unknown page '%s'", tostring(name)), 2) end
  if type(html_string) ~= "string" then error("focus.pages.parse: html must be a string", 2) end
  if ctx ~= nil and type(ctx) ~= "table" then error("focus.pages.parse: ctx must be a table", 2) end
  local prefix = "focus/" .. name .. ": "
  local doc <close>, err = html.parse(html_string)
  if not doc then return nil, prefix .. err, "structure" end
  local data, msg, kind = protect(prefix, doc, run, name, doc, ctx or {})
  if data == nil then return nil, msg, kind end
  local page = kind_of(doc)
  if page ~= "page" then return nil, prefix .. "Focus answered " .. WHAT[page], page end
  return data
end

function M.parse_api(kind, json_string)
  if not API_KINDS[kind] then error(string.format("focus.pages: unknown API kind '%s'", tostring(kind)), 2) end
  if type(json_string) ~= "string" then error("focus.pages.parse_api: answer must be a string", 2) end
  local prefix = "focus/final_grades: "
  local answer, err = json.decode(json_string)
  if answer == nil then
    -- an expired session gets the login page instead of JSON
    local doc <close> = json_string:find("^\239?\187?\191?%s*<") and html.parse(json_string) or nil
    local page = doc and kind_of(doc) or "page"
    if page ~= "page" then return nil, prefix .. "Focus answered " .. WHAT[page], page end
    return nil, prefix .. err, "structure"
  end
  local scope <close> = warnings.scope("focus/final_grades")
  return protect(prefix, nil, require "focus.final_grades", answer, kind)
end

function M.kind(html_string)
  local doc <close> = html.parse(html_string)
  return doc and kind_of(doc) or "page"
end

function M.photo_src(html_string)
  local doc <close> = html.parse(html_string)
  if not doc then return nil end
  local img = doc:select_one("div.scroll_contents img[src]")
  if img then return img:attr("src") end
  -- the Student application (2017-18 on): context.obj_info.image
  local info = student_app.is_app(doc) and student_app.info(doc)
  local image = info and type(info.context.obj_info) == "table" and info.context.obj_info.image
  return type(image) == "string" and image ~= "" and image or nil
end

return M
