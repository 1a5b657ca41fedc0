-- The drift report for Focus: every page of focus/registry.lua and every
-- finalGrades API answer, fetched for one logged-in session and run through
-- its parser; per page: fetched or not, parsed or failed (the parser's
-- message), each contract field found or missing, the warnings.
--
--   local report = require("check.focus").run(state [, {save = DIR, on_progress = fn}])
--   report = { upstream = "focus", pages = { <page>, ... }, ok = bool }
--   <page> = { name, fetched, parsed, of (how many fetches), errors =
--              {"args: message"}, failures = {"args: message"}, warnings =
--              {warning + args}, fields = {{path, found, of}}, note? }
-- `ok`: every page fetched and parsed, no warning. Missing fields are told,
-- not judged (many are optional: a course without categories). opts.save:
-- a directory where every page fetched is written as <page>[_<args>].html
-- (final_grades_<kind>.json for the API), for `sis parse`; <page>.saved
-- lists the files.
local client = require "focus.client"
local contract = require "focus.contract"
local fields = require "lib.fields"
local pages = require "focus.pages"
local registry = require "focus.registry"
local warnings = require "lib.warnings"

local M = {}

-- One fetch of a page: its URL arguments (the variant first for a page
-- with several URLs) → the path, and the ctx its parser gets ({id = ...}).
local function job(p, list)
  local offset = type(p.url) == "table" and 1 or 0
  local ctx = {}
  for i, name in ipairs(p.args) do ctx[name] = list[offset + i] end
  return { page = p.name, args = list, path = client.page(p.name, table.unpack(list)), ctx = ctx }
end

local function label(list)
  local parts = {}
  for i, v in ipairs(list) do parts[i] = tostring(v) end
  return table.concat(parts, " ")
end

local function new_page(name, wanted)
  return { name = "focus/" .. name, fetched = 0, parsed = 0, of = 0, errors = {}, failures = {},
           warnings = {}, data = {}, wanted = wanted }
end

-- Records one fetch's outcome into page `rec`; data, list from the parse.
local function record(rec, args, res_err, data, err, list)
  rec.of = rec.of + 1
  local where = #args > 0 and label(args) .. ": " or ""
  if res_err then
    rec.errors[#rec.errors + 1] = where .. res_err
    return
  end
  rec.fetched = rec.fetched + 1
  for _, w in ipairs(list or {}) do
    local copy = { args = #args > 0 and label(args) or nil }
    for k, v in pairs(w) do copy[k] = v end
    rec.warnings[#rec.warnings + 1] = copy
  end
  if not data then
    rec.failures[#rec.failures + 1] = where .. err
    return
  end
  rec.parsed = rec.parsed + 1
  rec.data[#rec.data + 1] = data
end

-- The demographic page's photo (what the service adds as `picture`).
local function with_photo(c, j, res)
  if j.page ~= "demographic" then return end
  local src = pages.photo_src(res.body)
  if not src then return end
  local got = client.get_all(c, { { url = c.state.base_url .. src:gsub("%.%./", "") } })[1]
  if got.res then j.ctx.picture = got.res.body end
end

local function finish(rec)
  rec.fields = fields.count(rec.data, rec.wanted or {})
  rec.data, rec.wanted = nil, nil
  return rec
end

-- Writes one fetched body under opts.save → its path (nil when not saving).
local function save(dir, name, text)
  if not dir then return nil end
  local path = dir .. "/" .. name:gsub("[^%w_.-]", "_")
  local f, err = io.open(path, "wb")
  if not f then error("sis check: cannot save the page: " .. err, 0) end
  f:write(text)
  f:close()
  return path
end

-- Runs the check on a logged-in state (focus.service.login's).
function M.run(state, opts)
  opts = opts or {}
  local c <close> = client.open(state)
  local seen, done, out = {}, {}, {}
  local names = registry.page_names()
  local left = #names
  while left > 0 do
    -- this round: the pages whose AFTER pages are done
    local round, jobs = {}, {}
    for _, name in ipairs(names) do
      local ready = not done[name]
      for _, before in ipairs(registry.pages[name].after or {}) do
        if registry.pages[before] and not done[before] then ready = false end
      end
      if ready then round[#round + 1] = name end
    end
    if #round == 0 then break end -- a cycle in `after`: the rest is not checked
    for _, name in ipairs(round) do
      local p = registry.pages[name]
      local rec = new_page(name, p.fields or contract.pages[name])
      out[name], done[name], left = rec, true, left - 1
      local lists
      if #p.args == 0 and type(p.url) == "string" then
        lists = { {} }
      elseif p.sample then
        lists = p.sample(seen)
        if #lists == 0 then rec.note = "nothing to sample it with" end
      else
        lists = {}
        rec.note = "not checked: its URL takes arguments and its registry entry has no `sample`"
      end
      for _, list in ipairs(lists) do jobs[#jobs + 1] = job(p, list) end
    end
    local paths = {}
    for i, j in ipairs(jobs) do paths[i] = j.path end
    local results = client.get_all(c, paths, opts.on_progress)
    for i, j in ipairs(jobs) do
      local r = results[i]
      if r.res then
        local file = save(opts.save, table.concat({ j.page, table.unpack(j.args) }, "_") .. ".html", r.res.body)
        if file then
          out[j.page].saved = out[j.page].saved or {}
          table.insert(out[j.page].saved, file)
        end
        with_photo(c, j, r.res)
        local list, data, err = warnings.collect(pages.parse, j.page, r.res.body, j.ctx)
        record(out[j.page], j.args, nil, data, err, list)
        if data and seen[j.page] == nil then seen[j.page] = data end
      else
        record(out[j.page], j.args, r.err)
      end
    end
  end
  local report = { upstream = "focus", pages = {} }
  for _, name in ipairs(names) do
    if out[name] then report.pages[#report.pages + 1] = finish(out[name]) end
  end
  -- the finalGrades API, one call per kind
  local kinds = {}
  for kind in pairs(registry.apis) do kinds[#kinds + 1] = kind end
  table.sort(kinds)
  for _, kind in ipairs(kinds) do
    local a = registry.apis[kind]
    local rec = new_page("final_grades:" .. kind, a.fields or contract.apis[kind])
    local text, err = client.final_grades(c, a.argument)
    if text then
      local file = save(opts.save, "final_grades_" .. kind .. ".json", text)
      rec.saved = file and { file } or nil
      local list, data, perr = warnings.collect(pages.parse_api, kind, text)
      record(rec, {}, nil, data, perr, list)
    else
      record(rec, {}, err)
    end
    report.pages[#report.pages + 1] = finish(rec)
  end
  report.ok = true
  for _, rec in ipairs(report.pages) do
    if rec.fetched < rec.of or rec.parsed < rec.fetched or #rec.warnings > 0 then report.ok = false end
  end
  return report
end

return M
