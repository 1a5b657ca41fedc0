-- watch.poll and watch.store against the fake Focus and the fake ScoDoc,
-- whose data is changed between polls (a copied pages / fixtures directory,
-- edited): the baseline announces nothing, each change is announced once,
-- also after the store was closed and opened again (a restart).
local t = require "testlib"
local json = require "sis.json"
local W = dofile(t.root .. "/tests/lua/fixtures_server/watch_fakes.lua")
local store_mod = require "watch.store"
local poll = require "watch.poll"
local focus = require "focus.service"
local scodoc = require "scodoc.service"

local settings = { min_interval = 1, retry = 1, pause_after = 86400, keep = 1000 }

local function kinds_of(events)
  local out = {}
  for i, e in ipairs(events) do out[i] = e.kind end
  return out
end

t.test("focus: baseline, a grade posted, nothing twice, across a reopened store", function()
  local fake = W.focus()
  local dir = t.tmpdir()
  local st = assert(store_mod.open(dir))
  local state = assert(focus.login { base_url = fake.base, username = W.focus_user, password = W.focus_password })
  local sub, secret = st:create_subscription { service = "focus", owner = "o", kinds = { "focus.assignment", "focus.course_grade" },
    interval = 1, credentials = state, now = os.time() }
  t.match(secret, "^%x+$")
  t.eq(#secret, 64)
  local events = assert(poll.run(st, sub.id, { settings = settings }))
  t.eq(events, {}, "the baseline")
  t.eq(st:subscription(sub.id).polls, 1)
  fake.stats(true)
  t.eq(assert(poll.run(st, sub.id, { settings = settings })), {}, "nothing changed")
  local stats = fake.stats()
  t.eq(stats.requests, 8, "portal + 7 course pages, the session reused")
  t.eq(stats.logins, 0)

  W.edit(fake.pages .. "/StudentGBGrades__course_period_id=24101__mp326.html",
    'Prototype Critique 8</td><td class="LO_field">NG / 50</td><td class="LO_field">Not Graded</td>',
    'Prototype Critique 8</td><td class="LO_field">47 / 50</td><td class="LO_field">94% A</td>')
  fake.reload()
  events = assert(poll.run(st, sub.id, { settings = settings }))
  t.eq(kinds_of(events), { "focus.assignment.graded" })
  local e = events[1]
  t.eq(e.identity, { course_id = "24101", course = "Learning Studio", assignment = "Prototype Critique 8",
                     due = "2017-02-22T00:00:00" })
  t.eq({ e.old.status, e.new.status, e.new.student_grade, e.new.max_grade }, { "ng", "graded", 47.0, 50 })
  t.eq({ e.subscription, e.service }, { sub.id, "focus" })
  t.match(e.id, "^%x+$")
  t.match(e.detected_at, "^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%dZ$")
  t.eq(st:events_since(sub.id, nil), { json.decode(json.encode(e)) })
  st:close()

  st = assert(store_mod.open(dir)) -- a restart
  t.eq(assert(poll.run(st, sub.id, { settings = settings })), {}, "not announced again")
  t.eq(#st:events_since(sub.id, nil), 1)
  t.eq(st:events_since(sub.id, e.id), {})
  -- the credentials are sealed: the password is nowhere in the database file
  local f = assert(io.open(dir .. "/sis.db", "rb"))
  local raw = f:read("a")
  f:close()
  t.ok(not raw:find(W.focus_password, 1, true))
  t.ok(st:delete_subscription(sub.id))
  t.eq(st:subscription(sub.id), nil)
  t.eq(st.db:row("SELECT count(*) AS n FROM events").n, 0, "its events went with it")
  st:close()
  os.execute("rm -rf " .. dir)
end)

t.test("focus: a refused password pauses the subscription and says why", function()
  local fake = W.focus()
  local dir = t.tmpdir()
  local st <close> = assert(store_mod.open(dir))
  local state = assert(focus.login { base_url = fake.base, username = W.focus_user, password = W.focus_password })
  state.password, state.cookies = "changed-since", ""
  local sub = st:create_subscription { service = "focus", owner = "o", kinds = { "focus.absence" },
    interval = 1, credentials = state, now = os.time() }
  local events, err = poll.run(st, sub.id, { settings = settings })
  t.eq(events, {})
  t.match(err, "^absences: 401")
  local after = st:subscription(sub.id)
  t.ok(after.paused_at)
  t.match(after.paused_reason, "refused the stored credentials")
  t.eq(st:due(os.time() + 3600), {}, "a paused subscription is not polled")
  t.eq(st:claim(sub.id, os.time() + 3600, os.time() + 7200), false, "nor claimed")
end)

t.test("a due subscription is claimed by one poller thread only", function()
  local dir = t.tmpdir()
  local a <close> = assert(store_mod.open(dir))
  local b <close> = assert(store_mod.open(dir)) -- another thread's connection
  local now = os.time()
  local sub = a:create_subscription { service = "focus", owner = "o", interval = 900, now = now,
    credentials = { base_url = "http://127.0.0.1:9/", username = "u", password = "p" } }
  t.eq(b:due(now), { sub.id })
  t.eq(a:claim(sub.id, now, now + 600), true)
  t.eq(b:claim(sub.id, now, now + 600), false)
  t.eq(b:due(now), {})
  t.eq(b:subscription(sub.id).next_poll_at, now + 600)
  os.execute("rm -rf " .. dir)
end)

t.test("scodoc: a note changed, an absence added and one cancelled", function()
  local fake = W.scodoc()
  local dir = t.tmpdir()
  local st <close> = assert(store_mod.open(dir))
  local state = assert(scodoc.login { base_url = fake.base, username = "lecteur_api", password = "Lecture-Info-2021" })
  local sub = st:create_subscription { service = "scodoc", owner = "o", interval = 1, credentials = state,
    target = { dept = "INFO", etudid = "EID3101", formsemestre_id = "SEM3190" }, now = os.time() }
  t.eq(assert(poll.run(st, sub.id, { settings = settings })), {})
  W.edit(fake.responses .. "/INFO__Notes__formsemestre_bulletinetud__etudid=EID3101__formsemestre_id=SEM3190__version=long.json",
    '"description": "DS POO", "evaluation_type": 0, "note": "08.25"', '"description": "DS POO", "evaluation_type": 0, "note": "09.75"')
  local abs = fake.responses .. "/INFO__Absences__ListeAbsEtud__absjust_only=0__etudid=EID3101.json"
  W.write(abs, json.encode { { jour = "2021-03-09", description = "", ampm = "1", datedmy = "09/03/2021",
    exams = "", motif = "", matin = "matin" } })
  local events = assert(poll.run(st, sub.id, { settings = settings }))
  t.eq(kinds_of(events), { "scodoc.note.changed", "scodoc.absence.cancelled", "scodoc.absence.added" })
  t.eq({ events[1].old.note, events[1].new.note }, { 8.25, 9.75 })
  t.eq(events[1].identity, { module_id = "MIP3199", module = "Programmation objet", evaluation = "DS POO",
                             date = "2021-03-08" })
  t.eq(events[2].identity, { date = "2021-02-08", half_day = "morning" })
  t.eq(events[3].identity, { date = "2021-03-09", half_day = "morning" })
  t.eq(assert(poll.run(st, sub.id, { settings = settings })), {})
end)
