-- The OpenAPI document (scripts/openapi/): one reference entry per route and
-- a route per entry, valid OpenAPI 3.1 (a real validator, Node's
-- @seriousme/openapi-schema-validator), served by GET /api/openapi.json,
-- docs/rest.md up to date; and the Focus and ScoDoc answers of the fixture
-- replays validated against their routes' schemas.
local t = require "testlib"
local json = require "sis.json"
local build = require "openapi.build"
local V = dofile(t.root .. "/tests/lua/fixtures_server/openapi_check.lua")
local H = V.wrap(dofile(t.root .. "/tests/lua/fixtures_server/harness.lua"))
local W = dofile(t.root .. "/tests/lua/fixtures_server/watch_fakes.lua")
local E = require "focus_expected"

t.test("every route has a reference entry, every entry a route", function()
  local routes = build.routes(build.DEFAULT_ROUTES)
  t.ok(#routes > 60, "the default route modules")
  local missing, orphans = build.check(routes)
  t.eq(missing, {}, "routes without a reference entry")
  t.eq(orphans, {}, "entries without a route")
  t.eq(build.template("/api/scodoc/:dept/students/:etudid"), "/api/scodoc/{dept}/students/{etudid}")
end)

t.test("GET /api/openapi.json serves the document; it is valid OpenAPI 3.1", function()
  local ok, why = V.available()
  if not ok then error(why) end
  local srv = H.start { SIS_ROUTES = build.DEFAULT_ROUTES }
  local r = H.request(srv, "GET", "/api/openapi.json")
  t.eq({ r.status, r.headers["content-type"] }, { 200, "application/json" })
  t.eq(r.json, json.decode(json.encode(build.document(build.routes(build.DEFAULT_ROUTES)))))
  t.eq(r.json.openapi, "3.1.0")
  local dir = t.tmpdir()
  H.write(dir .. "/doc.json", r.body)
  local code, out = t.exec("cd " .. t.root .. "/tests/openapi && node validate.mjs " .. dir .. "/doc.json")
  os.execute("rm -rf " .. dir)
  t.eq(code, 0, out)
  t.match(out, "the document is valid OpenAPI 3%.1")
  srv.stop()
end)

t.test("docs/rest.md is generated from the same source and up to date", function()
  local code, out, err = t.exec(t.sis .. " openapi --markdown")
  t.eq(code, 0, err)
  t.ok(out == t.read("docs/rest.md"), "docs/rest.md is out of date: sis openapi --markdown > docs/rest.md")
end)

t.test("the Focus answers of the fixture replay through sis serve", function()
  local fake = W.focus()
  local srv = H.start { SIS_ROUTES = build.DEFAULT_ROUTES, SIS_FOCUS_URL = fake.base }
  local jar = t.tmpdir() .. "/jar"
  E.replay(E.main, function(call)
    local req = call.request
    local r = H.request(srv, req.method, req.path, { jar = jar, json = req.json })
    return r.status, r.json
  end)
  t.ok(#V.answers > 140)
  srv.stop()
end)

t.test("the ScoDoc answers through sis serve", function()
  local fake = W.scodoc()
  local srv = H.start { SIS_ROUTES = build.DEFAULT_ROUTES, SIS_SCODOC_URL = fake.base }
  local jar = t.tmpdir() .. "/jar"
  local function get(path, status)
    local r = H.request(srv, "GET", path, { jar = jar })
    t.eq(r.status, status or 200, path .. ": " .. r.body)
  end
  get("/api/scodoc/session", 401)
  t.eq(H.request(srv, "POST", "/api/scodoc/session", { jar = jar,
    json = { username = "lecteur_api", password = "Lecture-Info-2021" } }).status, 200)
  get("/api/scodoc/session")
  get("/api/scodoc/depts")
  local P = "/api/scodoc/INFO"
  for _, via in ipairs { "json", "xml" } do
    get(P .. "/formations?via=" .. via)
    get(P .. "/formsemestres?via=" .. via)
    get(P .. "/formsemestres/SEM3190?via=" .. via)
    get(P .. "/formsemestres/SEM3190/partitions?via=" .. via)
    get(P .. "/formsemestres/SEM3190/students?via=" .. via)
    get(P .. "/students/EID3101?via=" .. via)
    get(P .. "/students?etudid=EID3101&via=" .. via)
    get(P .. "/students/EID3101/bulletins/SEM3190?via=" .. via)
    get(P .. "/students/EID3101/bulletins/SEM3160?version=short&via=" .. via)
    get(P .. "/students/EID3102/absences?via=" .. via)
    get(P .. "/groups/absences?group_ids=G3192&from=2021-02-01&to=2021-06-30&via=" .. via)
  end
  get(P .. "/formsemestres/SEM3190/moduleimpls")
  get(P .. "/formsemestres/SEM3190/description?with_evals=1")
  get("/api/scodoc/students/EID3101/dept")
  get("/health")
  get("/api/scodoc")
  get("/")
  get(P .. "/students/EID9999", 404)
  get(P .. "/students", 400)
  srv.stop()
end)

t.test("the answer check catches answers that do not match", function()
  local function answer(method, route, status, body)
    return { method = method, route = route, status = status, content_type = "application/json", body = body }
  end
  local code, out = V.validate {
    answer("GET", "/api/v3/portal", 200, { courses = "none" }),
    answer("GET", "/api/scodoc/{dept}/students/{etudid}/absences", 200, { { jour = "2021-02-22", extra = 1 } }),
    answer("GET", "/api/v3/portal", 418, { error = "teapot" }),
    answer("GET", "/api/v3/watch/{id}/changes", 200, { events = { { id = "x" } } }),
  }
  t.eq(code, 1)
  t.match(out, "GET /api/v3/portal 200: data/courses must be object")
  t.match(out, "GET /api/scodoc/{dept}/students/{etudid}/absences 200: data/0 must have required property")
  t.match(out, "GET /api/v3/portal 418: status not documented")
  t.match(out, "GET /api/v3/watch/{id}/changes 200: data/events/0 must have required property")
  t.match(out, "3 answers checked, 4 problems")
end)

t.test("every answer matches the OpenAPI document", V.check)
