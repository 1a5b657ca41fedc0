-- The watch through `sis serve`: subscribe a webhook, the fake Focus posts a
-- grade, the receiver (which fails first) gets the signed event once
-- delivered, across a restart of the server; a webhook that keeps failing
-- pauses its subscription; the routes' refusals.
local t = require "testlib"
local json = require "sis.json"
local codec = require "sis.codec"
local V = dofile(t.root .. "/tests/lua/fixtures_server/openapi_check.lua")
local H = V.wrap(dofile(t.root .. "/tests/lua/fixtures_server/harness.lua"))
local W = dofile(t.root .. "/tests/lua/fixtures_server/watch_fakes.lua")

local ROUTES = "focus.rest,scodoc.rest,watch.rest"

local function receiver(fail)
  local r = t.server(string.format("python3 %s/tests/servers/webhook_receiver.py --fail %d", H.quote(t.root), fail or 0))
  function r.received()
    return H.request(r, "GET", "/__received").json
  end
  return r
end

local function serve(fake, data_dir, extra)
  local env = { SIS_ROUTES = ROUTES, SIS_FOCUS_URL = fake.base, SIS_DATA_DIR = data_dir,
                SIS_WATCH_MIN_INTERVAL = "1", SIS_WATCH_RETRY = "1",
                SIS_WATCH_PRIVATE_WEBHOOKS = "1" } -- the receivers listen on 127.0.0.1
  for k, v in pairs(extra or {}) do env[k] = v end
  return H.start(env)
end

local function login(srv, jar) W.login(H, srv, jar) end

local wait_for = W.wait_for

-- A Focus subscription of the logged-in jar, once its baseline is taken.
local function subscribe(srv, jar, body)
  local r = H.request(srv, "POST", "/api/v3/watch", { jar = jar, json = body })
  assert(r.status == 201, "subscribe: " .. r.status .. " " .. r.body)
  wait_for("the baseline", function()
    return H.request(srv, "GET", "/api/v3/watch/" .. r.json.id, { jar = jar }).json.polls >= 1
  end)
  return r.json
end

local function delivered(r)
  local out = {}
  for _, p in ipairs(r.received()) do
    if p.status == 204 then out[#out + 1] = p end
  end
  return out
end

local GRADE = { 'Prototype Critique 8</td><td class="LO_field">NG / 50</td><td class="LO_field">Not Graded</td>',
                'Prototype Critique 8</td><td class="LO_field">47 / 50</td><td class="LO_field">94% A</td>' }
local SECOND = { 'Project Proposal 8</div></td><td class="LO_field">NG / 50</td><td class="LO_field">Not Graded</td>',
                 'Project Proposal 8</div></td><td class="LO_field">45 / 50</td><td class="LO_field">90% A-</td>' }

t.test("a grade posted reaches the webhook signed, once, across a restart", function()
  local fake, hook = W.focus(), receiver(2)
  local data = t.tmpdir()
  local jar = data .. "/jar"
  local srv = serve(fake, data)
  login(srv, jar)
  local sub = subscribe(srv, jar, { webhook = hook.url .. "/hook", kinds = { "focus.assignment", "focus.course_grade" },
                                    interval = 1 })
  local secret = sub.secret
  t.match(sub.id, "^%x+$")
  t.eq(#secret, 64)
  t.eq({ sub.service, sub.interval, sub.webhook, sub.kinds, sub.paused }, { "focus", 1, hook.url .. "/hook",
    { "focus.assignment", "focus.course_grade" }, false })
  t.eq(H.request(srv, "GET", "/api/v3/watch/" .. sub.id, { jar = jar }).json.secret, nil, "shown once only")

  W.edit(fake.pages .. "/StudentGBGrades__course_period_id=24101__mp326.html", GRADE[1], GRADE[2])
  fake.reload()
  local got = wait_for("the delivery", function() local d = delivered(hook) return #d > 0 and d end)
  local all = hook.received()
  t.eq(#all, 3, "two failures, then delivered")
  t.eq({ all[1].status, all[2].status, all[3].status }, { 500, 500, 204 })
  local p = got[1]
  t.eq({ all[1].body, all[2].body }, { p.body, p.body }, "the same event each time")
  t.eq(p.signature, "sha256=" .. codec.hmac_sha256_hex(secret, p.body))
  t.eq(p.content_type, "application/json")
  local event = json.decode(p.body)
  t.eq(p.event, event.id)
  t.eq({ event.kind, event.subscription, event.identity.assignment, event.new.student_grade },
       { "focus.assignment.graded", sub.id, "Prototype Critique 8", 47.0 })
  local changes = H.request(srv, "GET", "/api/v3/watch/" .. sub.id .. "/changes", { jar = jar }).json
  t.eq(changes, { events = { event } })
  local log = H.stop_and_log(srv)
  t.ok(not log:find(W.focus_password, 1, true), "the password is not logged")
  t.ok(not log:find(secret, 1, true), "the secret is not logged")

  -- a restart: nothing announced again, the next change announced once
  srv = serve(fake, data)
  login(srv, jar)
  local polls = H.request(srv, "GET", "/api/v3/watch/" .. sub.id, { jar = jar }).json.polls
  wait_for("two more polls", function()
    return H.request(srv, "GET", "/api/v3/watch/" .. sub.id, { jar = jar }).json.polls >= polls + 2
  end)
  t.eq(#hook.received(), 3)
  W.edit(fake.pages .. "/StudentGBGrades__course_period_id=24101__mp326.html", SECOND[1], SECOND[2])
  fake.reload()
  wait_for("the second delivery", function() return #delivered(hook) == 2 end)
  local second = json.decode(delivered(hook)[2].body)
  t.eq({ second.kind, second.identity.assignment }, { "focus.assignment.graded", "Project Proposal 8" })
  t.eq(H.request(srv, "GET", "/api/v3/watch/" .. sub.id .. "/changes?since=" .. event.id, { jar = jar }).json,
    { events = { second } })
  t.eq(#hook.received(), 4)

  t.eq(H.request(srv, "DELETE", "/api/v3/watch/" .. sub.id, { jar = jar }).status, 200)
  t.eq(H.request(srv, "GET", "/api/v3/watch/" .. sub.id, { jar = jar }).status, 404)
  t.eq(H.request(srv, "GET", "/api/v3/watch", { jar = jar }).json, { subscriptions = {} })
  srv.stop()
  os.execute("rm -rf " .. data)
end)

-- Posts a grade in the fake Focus; → the subscription once its webhook paused it.
local function grade_posted_until_paused(fake, srv, jar, sub)
  W.edit(fake.pages .. "/StudentGBGrades__course_period_id=24101__mp326.html", GRADE[1], GRADE[2])
  fake.reload()
  return wait_for("the pause", function()
    local s = H.request(srv, "GET", "/api/v3/watch/" .. sub.id, { jar = jar }).json
    return s.paused and s
  end)
end

t.test("a webhook that keeps failing pauses its subscription; resume delivers", function()
  local fake, hook = W.focus(), receiver(1000)
  local data = t.tmpdir()
  local jar = data .. "/jar"
  local srv = serve(fake, data, { SIS_WATCH_PAUSE_AFTER = "2" })
  login(srv, jar)
  local sub = subscribe(srv, jar, { webhook = hook.url .. "/hook", kinds = { "focus.assignment.graded" }, interval = 1 })
  local paused = grade_posted_until_paused(fake, srv, jar, sub)
  t.match(paused.paused_reason, "^the webhook has failed since %d%d%d%d%-.*HTTP 500$")
  t.eq(paused.pending_deliveries, 1)
  local tries = #hook.received()
  t.ok(tries >= 2)
  t.sleep(2.5)
  t.eq(#hook.received(), tries, "a paused subscription does not deliver")
  H.request(hook, "GET", "/__fail?count=0")
  local resumed = H.request(srv, "POST", "/api/v3/watch/" .. sub.id .. "/resume", { jar = jar })
  t.eq({ resumed.status, resumed.json.paused }, { 200, false })
  wait_for("the delivery", function() return #delivered(hook) == 1 end)
  t.eq(json.decode(delivered(hook)[1].body).kind, "focus.assignment.graded")
  srv.stop()
  os.execute("rm -rf " .. data)
end)

t.test("by default a subscriber's webhook reaches public addresses only: not the server's network", function()
  local fake, hook = W.focus(), receiver(0)
  local data = t.tmpdir()
  local jar = data .. "/jar"
  -- subscribed while private webhooks were allowed; the server then restarts without
  local srv = serve(fake, data)
  login(srv, jar)
  local sub = subscribe(srv, jar, { webhook = hook.url .. "/hook", kinds = { "focus.assignment.graded" }, interval = 1 })
  srv.stop()
  srv = serve(fake, data, { SIS_WATCH_PRIVATE_WEBHOOKS = "", SIS_WATCH_PAUSE_AFTER = "1" })
  login(srv, jar)
  local paused = grade_posted_until_paused(fake, srv, jar, sub)
  -- checked as the connection opens, whatever the name resolves to
  t.match(paused.paused_reason, "^the webhook has failed since .*: connect: 127%.0%.0%.1 is not a public address")
  t.eq(#hook.received(), 0, "nothing reached the receiver")
  -- an address or localhost written in the URL is refused at once
  for _, url in ipairs { hook.url .. "/hook", "http://localhost:8080/", "https://user@10.0.0.7/x", "http://[::1]:80/",
                         "http://169.254.169.254/latest/meta-data/", "http://api.localhost/", "http://LOCALHOST./" } do
    local r = H.request(srv, "POST", "/api/v3/watch", { jar = jar, json = { webhook = url } })
    t.eq({ r.status, r.json.error }, { 400, "webhook must be on a public address (this server posts to private "
      .. "ones only with SIS_WATCH_PRIVATE_WEBHOOKS=1)" }, url)
  end
  local r = H.request(srv, "POST", "/api/v3/watch", { jar = jar, json = { webhook = "https://8.8.8.8/hook" } })
  t.eq(r.status, 201, "a public address")
  srv.stop()
  os.execute("rm -rf " .. data)
end)

t.test("the poller threads take edited scripts without a restart, and keep theirs when an edit does not load", function()
  local data = t.tmpdir()
  local srv = H.start { SIS_ROUTES = ROUTES, SIS_DATA_DIR = data, SIS_WATCH_THREADS = "2" }
  local mark = data .. "/ticks"
  local function ticks()
    local f = io.open(mark)
    if not f then return 0 end
    local n = #f:read("a")
    f:close()
    return n
  end
  local file = srv.scripts .. "/watch/scheduler.lua"
  local f = assert(io.open(file))
  local shipped = f:read("a")
  f:close()
  -- an edit whose tick leaves a mark: the pollers run it
  H.write(file, string.format("return { tick = function(_, index) local f = io.open(%q, 'a') "
    .. "f:write(index) f:close() return 0.1 end }", mark))
  wait_for("the edited tick", function() return ticks() >= 4 end)
  -- an edit that does not load: the pollers go on with what they had
  H.write(file, "return {{ syntax error")
  wait_for("the warning", function() return srv.log():find("watch: poller %d keeps the scripts it had") end)
  local n = ticks()
  wait_for("more ticks", function() return ticks() > n end)
  -- back to the shipped scheduler: no more marks
  H.write(file, shipped)
  t.sleep(1.5)
  n = ticks()
  t.sleep(1)
  t.eq(ticks(), n, "the shipped tick again")
  srv.stop()
  os.execute("rm -rf " .. data)
end)

t.test("watch routes: no session, no data directory, bad bodies, another account", function()
  local fake = W.focus()
  local data = t.tmpdir()
  local jar = data .. "/jar"
  local srv = serve(fake, data)
  t.eq(H.request(srv, "POST", "/api/v3/watch", { json = {} }).status, 403)
  t.eq(H.request(srv, "GET", "/api/scodoc/watch").status, 401)
  login(srv, jar)
  local function post(body)
    local r = H.request(srv, "POST", "/api/v3/watch", { jar = jar, json = body })
    return r.status, r.json.error
  end
  t.eq({ post { kinds = { "focus.nothing" } } }, { 400, "unknown event kind: focus.nothing" })
  t.eq({ post { kinds = { "scodoc.note.changed" } } }, { 400, "unknown event kind: scodoc.note.changed" })
  t.eq({ post { kinds = "focus.absence" } }, { 400, "kinds must be an array of event kinds" })
  t.eq({ post { webhook = "file:///etc/passwd" } }, { 400, "webhook must be an http(s) URL" })
  t.eq({ post { interval = "soon" } }, { 400, "interval must be a positive integer (seconds)" })
  t.eq({ post { interval = 0 } }, { 400, "interval must be a positive integer (seconds)" })
  local r = H.request(srv, "POST", "/api/v3/watch", { jar = jar })
  t.eq({ r.status, r.json.interval, r.json.webhook, r.json.kinds }, { 201, 900, json.null, {} })
  t.eq(#H.request(srv, "GET", "/api/v3/watch", { jar = jar }).json.subscriptions, 1)
  t.eq(H.request(srv, "GET", "/api/v3/watch/" .. r.json.id .. "/changes?since=nope", { jar = jar }).status, 400)
  t.eq(H.request(srv, "GET", "/api/v3/watch/" .. r.json.id .. "/changes?limit=0", { jar = jar }).status, 400)
  t.eq(H.request(srv, "GET", "/api/v3/watch/ffff", { jar = jar }).status, 404)
  srv.stop()
  local bare = H.start { SIS_ROUTES = ROUTES, SIS_FOCUS_URL = fake.base }
  login(bare, jar)
  r = H.request(bare, "POST", "/api/v3/watch", { jar = jar, json = {} })
  t.eq(r.status, 503)
  t.match(r.json.error, "^no data directory configured %(sis serve %-%-data%-dir%)") -- + the request id
  bare.stop()
  os.execute("rm -rf " .. data)
end)

t.test("scodoc subscriptions name the student; intervals are never below the minimum", function()
  local fake = W.scodoc()
  local data = t.tmpdir()
  local jar = data .. "/jar"
  local srv = H.start { SIS_ROUTES = ROUTES, SIS_SCODOC_URL = fake.base, SIS_DATA_DIR = data,
                        SIS_WATCH_MIN_INTERVAL = "600" }
  t.eq(H.request(srv, "POST", "/api/scodoc/session", { jar = jar,
    json = { username = "lecteur_api", password = "Lecture-Info-2021" } }).status, 200)
  local r = H.request(srv, "POST", "/api/scodoc/watch", { jar = jar, json = { dept = "INFO" } })
  t.eq({ r.status, r.json.error }, { 400, 'ScoDoc subscriptions need "dept", "etudid" and "formsemestre_id" (strings)' })
  r = H.request(srv, "POST", "/api/scodoc/watch", { jar = jar, json = { dept = "RT", etudid = "E", formsemestre_id = "S" } })
  t.eq({ r.status, r.json.error }, { 400, "this account cannot see department RT" })
  r = H.request(srv, "POST", "/api/scodoc/watch", { jar = jar, json = { dept = "INFO", etudid = "EID3101",
    formsemestre_id = "SEM3190", interval = 60, kinds = { "scodoc.note", "scodoc.absence.added" } } })
  t.eq(r.status, 201)
  t.eq({ r.json.interval, r.json.target, r.json.service }, { 600,
    { dept = "INFO", etudid = "EID3101", formsemestre_id = "SEM3190" }, "scodoc" })
  t.eq(H.request(srv, "GET", "/api/v3/watch/" .. r.json.id).status, 403, "a Focus route needs a Focus session")
  srv.stop()
  os.execute("rm -rf " .. data)
end)

t.test("every answer matches the OpenAPI document", V.check)
