-- Fetch a page, select elements with a CSS selector, print them as JSON.
--   sis run examples/fetch_and_select.lua URL [SELECTOR] [ATTRIBUTE...]
-- e.g. sis run examples/fetch_and_select.lua http://127.0.0.1:8080/focus/index.php 'input[name]' name type
local http = require "sis.http"
local html = require "sis.html"
local json = require "sis.json"

local url, selector = arg[1], arg[2] or "a[href]"
if not url then
  io.stderr:write("usage: sis run examples/fetch_and_select.lua URL [SELECTOR] [ATTRIBUTE...]\n")
  os.exit(2)
end
local wanted = { table.unpack(arg, 3) }
if #wanted == 0 then wanted = { "href" } end

local session <close> = http.session { timeout = 15 }
local res, err = session:get(url)
if not res then
  io.stderr:write(err, "\n")
  os.exit(1)
end
if res.status ~= 200 then
  io.stderr:write(("HTTP %d from %s\n"):format(res.status, res.url))
  os.exit(1)
end
local doc <close>, perr = html.parse(res.body)
if not doc then
  io.stderr:write(perr, "\n")
  os.exit(1)
end

local found = json.array()
for _, node in ipairs(doc:select(selector)) do
  local item = { tag = node:tag(), text = node:collapsed_text() }
  for _, name in ipairs(wanted) do item[name] = node:attr(name) end
  found[#found + 1] = item
end
print(json.encode({ url = res.url, selector = selector, count = #found, elements = found },
  { pretty = true }))
