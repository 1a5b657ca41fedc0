-- docs/adapting.md, followed as written: its ```sh blocks run in order (the
-- school's URL, user and overlay directory replaced by the test's), against
-- the fixture school whose gradebook renamed its category-table class, with a
-- sis serve running on the overlay all along. Each step's output is checked.
local t = require "testlib"
local json = require "sis.json"
local http = require "sis.http"
local school = require "school"
local fake = require "focus_fake"

local quote = school.quote

-- The guide's ```sh blocks, in order.
local function guide_blocks()
  local text = t.read("docs/adapting.md")
  local blocks = {}
  for block in text:gmatch("\n```sh\n(.-)\n```") do blocks[#blocks + 1] = block end
  return blocks
end

t.test("docs/adapting.md: each step of the guide on a school whose category table changed class", function()
  local blocks = guide_blocks()
  t.eq(#blocks, 7, "the guide's steps (this test checks each one)")

  -- the school: every gradebook page's category table renamed
  local pages = school.copy()
  local p = io.popen("ls " .. quote(pages))
  for file in p:lines() do
    if file:find("^StudentGBGrades__") then
      school.write(pages .. "/" .. file, (school.read(pages .. "/" .. file):gsub("GrayDrawHeader", "CategoryBox")))
    end
  end
  p:close()
  local focus = school.start(pages)

  -- where the guide's commands run: `sis` on the PATH, a scratch directory
  local work, bin = t.tmpdir(), t.tmpdir()
  local sis = t.sis:sub(1, 1) == "/" and t.sis or t.root .. "/" .. t.sis
  assert(os.execute(string.format("ln -s %s %s/sis", quote(sis), bin)))
  local overlay = work .. "/etc-sis-scripts"
  local function run(i)
    local script = blocks[i]:gsub("/etc/sis/scripts", overlay):gsub("https://focus%.example%.org/", focus.base)
      :gsub("%-%-user jdoe", "--user " .. fake.user)
    return t.exec(string.format("cd %s && PATH=%s:$PATH SIS_FOCUS_PASSWORD=%s sh -e -c %s </dev/null",
      quote(work), quote(bin), quote(fake.password), quote(script)))
  end

  -- once: the overlay, and the server on it
  local code, out, err = run(1)
  t.eq(code, 0, err)
  local srv = t.server(string.format("SIS_SCRIPTS=%s %s serve --listen 127.0.0.1:0 --focus-url %s",
    quote(overlay), quote(sis), focus.base))
  local client <close> = http.session { timeout = 30 }
  assert(client:post(srv.url .. "/api/v3/session", { json = { username = fake.user, password = fake.password } }))
  local function course()
    local res = assert(client:get(srv.url .. "/api/v3/courses/24101"))
    t.eq(res.status, 200)
    return json.decode(res.body), res.headers["x-sis-warnings"]
  end
  local want = json.decode(t.fixture("focus/expected/courses_24101.json"))
  local body, warned = course()
  t.eq({ body.categories, warned }, { nil, "1" }, "before: 200 with what was read, and the warning count")
  body.categories = want.categories
  t.eq(body, want, "everything else read")

  -- 1. record and read the report
  local warning = "\n  focus/course +PROBLEM +fetched 7/7  parsed 7/7  warnings 7  fields 24/29\n" ..
    "    warning %(24101%): field categories: no match for 'td%.GrayDrawHeader, td%.DarkGradientBG'\n" ..
    "    warning %(24107%): field categories: no match for 'td%.GrayDrawHeader, td%.DarkGradientBG'\n"
  code, out, err = run(2)
  t.eq(code, 1, err)
  t.match(out, warning)
  t.match(out, "\n    saved: pages/course_24101%.html pages/course_24107%.html\n")
  t.match(out, "\n    missing: categories\n")
  t.match(out, "\nsis check: 1 page with problems\n$")
  -- 2. the same report from the cassette
  local replayed
  code, replayed = run(3)
  t.eq({ code, replayed }, { 1, (out:gsub("\n    saved: [^\n]*\n[^%a]+%a[^\n]*\n[^%a]+%a[^\n]*\n[^%a]+%a[^\n]*", "")) },
    "the replayed report (nothing saved)")
  -- 3. the parser copied into the overlay
  code, out, err = run(4)
  t.eq(code, 0, err)
  local shipped = out:match("\n  hides (%S+)\n$")
  t.eq(out, string.format("focus.course: %s/focus/course.lua\n  hides %s\n", overlay, shipped))
  t.eq(shipped, t.root .. "/scripts/focus/course.lua")
  t.eq(select(2, course()), "1", "the server runs the copy: the same code")
  -- 4. sis parse on the saved page, before and after the fix
  code, out, err = run(5)
  t.eq(code, 0, err)
  t.eq(json.decode(out).categories, nil)
  t.match(err, "warn  warning parser=focus/course n=1 field=categories selector=\"td%.GrayDrawHeader, td%.DarkGradientBG\"\n")
  code, out, err = run(6)
  t.eq(code, 0, err)
  t.eq(json.decode(out).categories, want.categories)
  t.eq(err, "", "no warning once fixed")
  -- 5. the whole school again, with the fix
  code, out, err = run(7)
  t.eq(code, 0, err)
  t.match(out, "\n  focus/course +ok +fetched 7/7  parsed 7/7  warnings 0  fields 29/29\n")
  t.match(out, "\nsis check: every page fetched and parsed without a warning\n$")
  -- 6. deployed: the running server answers with the fix, no restart
  body, warned = course()
  t.eq({ body, warned }, { want, nil })

  srv.stop()
  os.execute(string.format("rm -rf %s %s %s", quote(work), quote(bin), quote(pages)))
end)
