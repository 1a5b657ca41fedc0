-- Warnings: what a parser could not read, without failing the page.
--
-- A parser that meets one cell or field it cannot read records a warning and
-- goes on (the field is omitted, or its raw text kept where the contract has
-- a free-text field); a page that is not what the parser expects still fails
-- (focus/common.lua's fail). Warnings never change an answer's JSON: they go
--   - to the log, one line each (level warn), `key=value` fields, with the
--     running count of the parser's warnings in this process;
--   - to the REST answer's `X-Sis-Warnings: N` header (M.counting wraps a
--     route handler);
--   - to whoever collects them (sis check, tests): M.collect.
--
--   local warnings = require "lib.warnings"
--   warnings.add { field = "assignments.status", row = "LOy_row3",
--                  selector = "td.LO_field (2nd)", seen = text }
--   local list, ok, ... = warnings.collect(fn, ...)   -- fn's warnings, fn's results
--   local scope <close> = warnings.scope("focus/course")  -- names the parser
--
-- A warning is a table { parser, field, row?, selector?, label?, seen?,
-- message? }: `field` the contract field that was not read (a dotted path,
-- `*` for ids: "courses.*.name"); `row` which record (a row id, an index);
-- `selector` the CSS selector, or `label` the label text, that did not match;
-- `seen` what the page had instead (cut to SEEN_MAX bytes); `message` a
-- sentence when the above do not say it all. `parser` comes from the
-- innermost named scope (focus.pages opens one per parse: "focus/course").
local log = require "sis.log"

local M = {}

M.SEEN_MAX = 160 -- bytes of raw text a warning keeps

local scopes = {}  -- open scopes, innermost last: { parser = name?, list = {...} }
local counts = {}  -- parser → warnings recorded in this process
local total = 0

-- At most SEEN_MAX bytes, not cutting a UTF-8 sequence; whitespace runs as one space.
local function bound(s)
  if s == nil then return nil end
  s = tostring(s)
  if #s > 4 * M.SEEN_MAX then s = s:sub(1, 4 * M.SEEN_MAX) end -- the gsub below stays small
  s = s:gsub("%s+", " ")
  if #s <= M.SEEN_MAX then return s end
  local cut = M.SEEN_MAX
  while cut > 0 and (s:byte(cut + 1) or 0) & 0xC0 == 0x80 do cut = cut - 1 end
  return s:sub(1, cut) .. "..."
end

-- A value for the log line: bare when it is one simple word, else quoted
-- with \" \\ and control bytes escaped (one line whatever the text holds).
local function quote(v)
  v = tostring(v)
  if v:find("^[%w_.:/*%[%]#-]+$") then return v end
  return '"' .. v:gsub('[%c"\\]', function(c)
    if c == "\n" then return "\\n" end
    if c == "\t" then return "\\t" end
    if c == '"' or c == "\\" then return "\\" .. c end
    return string.format("\\x%02x", c:byte())
  end) .. '"'
end

local FIELDS = { "field", "row", "selector", "label", "seen", "message" }

-- The log line of a warning (without the level and time the logger adds).
function M.format(w)
  local parts = { "warning", "parser=" .. quote(w.parser) }
  if w.n then parts[#parts + 1] = "n=" .. w.n end
  for _, k in ipairs(FIELDS) do
    if w[k] ~= nil then parts[#parts + 1] = k .. "=" .. quote(w[k]) end
  end
  return table.concat(parts, " ")
end

-- A sentence for people (sis check): "field courses.*.name (row 3): no match
-- for 'td.x', seen "..."".
function M.describe(w)
  local s = "field " .. tostring(w.field)
  if w.row ~= nil then s = s .. " (row " .. tostring(w.row) .. ")" end
  local what = {}
  if w.message then what[#what + 1] = w.message end
  if w.selector then what[#what + 1] = "no match for '" .. w.selector .. "'" end
  if w.label then what[#what + 1] = "no label '" .. w.label .. "'" end
  if w.seen then what[#what + 1] = 'seen "' .. w.seen .. '"' end
  if #what > 0 then s = s .. ": " .. table.concat(what, ", ") end
  return s
end

local function innermost_parser()
  for i = #scopes, 1, -1 do
    if scopes[i].parser then return scopes[i].parser end
  end
  return "?"
end

-- Records a warning. w.field is required (a programmer error otherwise).
function M.add(w)
  if type(w) ~= "table" or type(w.field) ~= "string" then
    error("warnings.add: a table with a string field 'field' expected", 2)
  end
  local rec = { parser = w.parser or innermost_parser(), field = w.field }
  for _, k in ipairs(FIELDS) do
    if k ~= "field" and w[k] ~= nil then rec[k] = k == "seen" and bound(w[k]) or tostring(w[k]) end
  end
  counts[rec.parser] = (counts[rec.parser] or 0) + 1
  total = total + 1
  rec.n = counts[rec.parser]
  log.warn("%s", M.format(rec))
  rec.n = nil
  for _, s in ipairs(scopes) do s.list[#s.list + 1] = rec end
  return rec
end

local scope_mt = {}
scope_mt.__index = scope_mt
-- Closing a scope also closes those opened inside it and left open.
function scope_mt:close()
  for i = #scopes, 1, -1 do
    if scopes[i] == self then
      for j = #scopes, i, -1 do scopes[j] = nil end
      break
    end
  end
end
scope_mt.__close = scope_mt.close

-- Opens a scope: the warnings added until it is closed land in scope.list
-- (and in every enclosing scope's); `parser`, if given, names the parser of
-- the warnings added inside. Close it with <close> or :close().
function M.scope(parser)
  local s = setmetatable({ parser = parser, list = {} }, scope_mt)
  scopes[#scopes + 1] = s
  return s
end

-- Runs fn(...) and returns the warnings it recorded, then fn's results
-- (an error fn raises propagates, after the scope is closed).
function M.collect(fn, ...)
  local s <close> = M.scope(nil)
  local function pack(...) return { n = select("#", ...), ... } end
  local r = pack(fn(...))
  return s.list, table.unpack(r, 1, r.n)
end

-- Warnings recorded in this process: the total, and per parser.
function M.total() return total end
function M.counts()
  local out = {}
  for k, v in pairs(counts) do out[k] = v end
  return out
end

-- Wraps a REST handler: its answer gets `X-Sis-Warnings: N` when it
-- recorded N > 0 warnings (the body is left alone).
function M.counting(handler)
  return function(req)
    local before = total
    local status, body, headers = handler(req)
    local n = total - before
    if n > 0 then
      local h = {}
      for k, v in pairs(headers or {}) do h[k] = v end
      h["X-Sis-Warnings"] = tostring(n)
      headers = h
    end
    return status, body, headers
  end
end

return M
