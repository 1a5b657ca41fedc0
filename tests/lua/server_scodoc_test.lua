-- End to end: the ScoDoc REST routes through `sis serve` over real HTTP,
-- against the fake ScoDoc (the handlers themselves are tested call by call in
-- scodoc_rest_test.lua; here the front, the cookie session and the route
-- module work together); once per configuration of the fake
-- (tests/lua/scodoc_fake.lua).
local t = require "testlib"
local http = require "sis.http"
local json = require "sis.json"
local fakes = require "scodoc_fake"

for _, mode in ipairs(fakes.modes()) do
local fake = fakes.start(mode)
local function test(name, fn) t.test(mode.tag .. " " .. name, fn) end
local srv = t.server(string.format("%s serve --scripts %s/scripts --listen 127.0.0.1:0 --scodoc-url %s/",
  t.sis, t.root, fake.url))
local api = srv.url .. "/api/scodoc"

-- A REST client with its own cookie jar: call(method, path [, json]) → status,
-- decoded body; the raw response is kept in last.res.
local last = {}
local function client()
  local s = http.session { timeout = 30 }
  return function(method, path, body)
    local res = assert(s:request { method = method, url = api .. path, json = body })
    t.eq(res.headers["content-type"], "application/json", path)
    last.res = res
    return res.status, json.decode(res.body)
  end
end

local reset_fake = fake.reset

test("login sets an HttpOnly session cookie; bad credentials are 401; logout ends it", function()
  local call = client()
  t.eq({ call("GET", "/depts") }, { 401, { error = "not logged in to ScoDoc (POST /api/scodoc/session)" } })
  local status, body = call("POST", "/session", { username = "lecteur_api", password = "wrong" })
  t.eq(status, 401)
  t.match(body.error, "authentication failed")
  status, body = call("POST", "/session", { username = "lecteur_api", password = "Lecture-Info-2021" })
  t.eq({ status, body }, { 200, { username = "lecteur_api", auth = "cookie", depts = fake.reader_depts } })
  local cookie = last.res.headers["set-cookie"][1]
  t.match(cookie, "^sis_scodoc=%x+; ")
  t.eq(#cookie:match("^sis_scodoc=(%x+)"), 32)
  t.match(cookie, "HttpOnly")
  t.match(cookie, "SameSite=Lax")
  t.eq({ call("GET", "/depts") }, { 200, fake.reader_depts })
  t.eq({ call("DELETE", "/session") }, { 200, {} })
  t.eq(select(1, call("GET", "/depts")), 401)
end)

test("reads give identical answers fetched upstream as JSON or as XML", function()
  local call = client()
  t.eq(select(1, call("POST", "/session", { username = "lecteur_api", password = "Lecture-Info-2021" })), 200)
  for _, path in ipairs {
    "/INFO/formations/FORM3115", "/INFO/formsemestres/SEM3190", "/INFO/formsemestres/SEM3190/partitions",
    "/INFO/groups/G3162/students", "/INFO/students/EID3101",
    "/INFO/students/EID3101/bulletins/SEM3190?version=long",
    "/INFO/groups/absences?group_ids=G3162&from=2020-09-01&to=2021-01-22",
  } do
    local s1, a = call("GET", path)
    local s2, x = call("GET", path .. (path:find("?", 1, true) and "&" or "?") .. "via=xml")
    t.eq({ s1, s2 }, { 200, 200 }, path)
    t.eq(x, fakes.as_from_xml(path:find("bulletins") and "formsemestre_bulletinetud" or "", a), path)
  end
  local _, bul = call("GET", "/INFO/students/EID3101/bulletins/SEM3190?version=short")
  t.eq(bul.note.value, 10.25)
  t.eq({ call("GET", "/INFO/students/EID9999") }, { 404, { error = "scodoc: code etudiant inconnu" } })
  t.eq(select(1, call("GET", "/INFO/students/EID3101/bulletins/SEM3190?version=full")), 400)
  t.eq(select(1, call("GET", "/XYZ/formsemestres")), 404)
  t.eq(select(1, call("PUT", "/depts")), 405)
end)

test("absence write scenario round-trips through the front", function()
  reset_fake()
  local call = client()
  t.eq(select(1, call("POST", "/session", { username = "secr_info", password = "Secr3tariat!" })), 200)
  local base = "/INFO/students/EID3103"
  t.eq(select(2, call("GET", base .. "/absences")), {})
  t.eq(select(1, call("POST", base .. "/absences", { from = "2021-03-08", to = "2021-03-08", half_day = "day" })), 201)
  t.eq(select(1, call("POST", base .. "/absences", { from = "2021-03-09", half_day = "morning" })), 201)
  t.eq(select(1, call("POST", base .. "/absences", { from = "2021-03-10", half_day = "afternoon",
    justified = true, description = "Certificat médical", moduleimpl_id = "MIP3204" })), 201)
  t.eq(#select(2, call("GET", base .. "/absences?justified=0")), 3)
  local _, just = call("GET", base .. "/absences?justified=1")
  t.eq({ #just, just[1].jour, just[1].ampm }, { 1, "2021-03-10", "afternoon" })
  t.eq(select(1, call("DELETE", base .. "/absences?from=2021-03-08&to=2021-03-08&half_day=day")), 200)
  t.eq(select(1, call("DELETE", base .. "/justifications?from=2021-03-10&half_day=afternoon")), 200)
  local _, left = call("GET", base .. "/absences")
  t.eq({ #left, left[1].jour, left[2].jour }, { 2, "2021-03-09", "2021-03-10" })
  t.eq(select(2, call("GET", base .. "/absences?justified=1")), {})
  t.eq(select(1, call("POST", base .. "/absences", { from = "2021-03-08", half_day = "evening" })), 400)
  reset_fake()
end)

test("a default install's expired token: one new login; logout ends the session", function()
  local call = client()
  t.eq(select(1, call("POST", "/session", { username = "lecteur_api", password = "Lecture-Info-2021" })), 200)
  if mode.install then t.ok(fake.expire() > 0) end
  t.eq(select(1, call("GET", "/INFO/formsemestres")), 200)
  fake.reset()
  t.eq({ call("DELETE", "/session") }, { 200, {} })
  local logout = fake.received()
  t.eq({ #logout, logout[1].path, logout[1].cookie }, { 1, "/ScoDoc/acl_users/logout", true })
end)
end
