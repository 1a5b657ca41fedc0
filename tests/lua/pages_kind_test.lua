-- focus.pages.kind (what page Focus answered: login, not found, a page) on
-- hostile pages: linear, whatever they hold (issue 15 item 2: one select per
-- password field, and the text of nested error boxes read again per box,
-- held a worker for minutes). Each probe runs in a child with a time limit
-- far above what linear code needs.
local t = require "testlib"

local function probe(code)
  local dir = t.tmpdir()
  local f = assert(io.open(dir .. "/probe.lua", "wb"))
  f:write('local pages = require "focus.pages"\n', code)
  f:close()
  local status, out, err = t.exec(string.format("cd %s && timeout 60 %s run %s/probe.lua", t.root, t.sis, dir))
  os.execute("rm -rf " .. dir)
  t.eq(status, 0, "probe did not finish (killed after 60 s?) " .. err)
  return out
end

t.test("100k password fields on a page with the side selects: one look for the selects", function()
  -- was: select_one('select[name="side_syear"]') per field, 106 s of CPU for 2.3 MB
  local out = probe([[
    -- (the selects after the fields: each look walked the whole page)
    local page = '<html><body>' .. string.rep('<input type="password" name="p">', 100000) ..
      '<select name="side_syear"><option>2016</option></select></body></html>'
    print(pages.kind(page))
    print(pages.kind('<html><body>' .. string.rep('<input type="password">', 1000) .. '</body></html>'))
  ]])
  t.eq(out, "page\nlogin\n")
end)

t.test("nested error boxes: each box's text read once", function()
  -- was: node:text():lower() per box, the whole nest's text each time (2-19 s):
  -- the text read is counted, it must stay within the page's size
  local out = probe([[
    local html = require "sis.html"
    local node_class = getmetatable(html.parse("<p>x</p>"):root()).__index
    local text_of, read = node_class.text, 0
    node_class.text = function(n) local s = text_of(n) read = read + #s return s end
    local text = string.rep("x", 20000)
    local nest = string.rep('<div class="error_box">' .. text, 390) .. "Page not Found" .. string.rep("</div>", 390)
    print(pages.kind("<html><body>" .. nest .. "</body></html>"))
    local quiet = string.rep('<div class="error_box">' .. text, 390) .. string.rep("</div>", 390)
    print(pages.kind("<html><body>" .. quiet .. '<div class="error_box">Not Found</div></body></html>'))
    print(pages.kind("<html><body>" .. quiet .. "</body></html>"))
    print(read <= 3 * (#quiet + #nest + 100), read)
  ]])
  t.match(out, "^not_found\nnot_found\npage\ntrue\t%d+\n$")
end)
