-- Single sign-on (focus/sso.lua) against the fake Focus behind its fake SAML
-- identity provider (fake_focus.py --sso, fake_idp.py): the flow chosen from
-- what focus/ answers, forced flows, re-login after expiry through the
-- provider's session, what cannot go on (multi-factor, a chooser), and the
-- password kept off logs and cassettes.
local t = require "testlib"
local json = require "sis.json"
local focus = require "focus.service"
local fake = require "focus_fake"

local expected, login, call_ok = fake.expected, fake.login, fake.call_ok

t.test("focus/ redirecting to an identity provider: single sign-on, then pages as usual", function()
  local server = fake.start("--sso")
  local state = assert(login(server))
  t.eq(state.login_flow, "saml")
  t.eq(call_ok(state, "schedule"), call_ok(state, "schedule"))
  t.eq(call_ok(state, "calendar", { year = 2017, month = 2 }), expected("calendar_2017_02"))
  local stats = server.stats()
  t.eq({ stats.idp_logins, stats.idp_login_failures, stats.saml_logins, stats.logins }, { 1, 0, 1, 1 })
  t.match(stats.idp, "^http://127%.0%.0%.1:%d+$")
  -- the identity provider's cookie is kept with Focus's
  t.match(state.cookies, "MSISAuth")
  t.match(state.cookies, "PHPSESSID")
  t.ok(focus.logout(state))
  t.eq(server.stats().sessions, 0)
end)

t.test("Focus forgot the session: the provider's session answers the auto-post page, no password again", function()
  local server = fake.start("--sso --session-timeout 2")
  local state = assert(login(server))
  t.eq(call_ok(state, "calendar", { year = 2017, month = 2 }), expected("calendar_2017_02"))
  t.sleep(3)
  t.eq(call_ok(state, "calendar", { year = 2017, month = 2 }), expected("calendar_2017_02"))
  local stats = server.stats()
  t.eq({ stats.idp_logins, stats.idp_auto_posts, stats.saml_logins, stats.expired }, { 1, 1, 2, 1 })
end)

t.test("both sessions gone: the provider's form is filled again", function()
  local server = fake.start("--sso")
  local state = assert(login(server))
  server.fault("expire_idp", "Schedule.php", "&count=1") -- the provider forgets...
  call_ok(state, "schedule")
  server.fault("expire", "Calendar.php", "&count=1")     -- ...then Focus too
  t.eq(call_ok(state, "calendar", { year = 2017, month = 2 }), expected("calendar_2017_02"))
  local stats = server.stats()
  t.eq({ stats.idp_logins, stats.idp_auto_posts, stats.saml_logins }, { 2, 0, 2 })
end)

t.test("a refused password at the provider is a 401, nothing else", function()
  local server = fake.start("--sso")
  local state, status, msg = login(server, { password = "not-the-password" })
  t.eq({ state, status, msg }, { nil, 401, "Invalid credentials" })
  t.eq(server.stats().idp_login_failures, 1)
end)

t.test("a provider step sis cannot fill fails naming the provider and what it found", function()
  for mode, what in pairs { mfa = "the password was accepted, then a page with no password form came %(page "
      .. "'Multi%-Factor Authentication' at http://127%.0%.0%.1:%d+/adfs/ls/%)",
      chooser = "the page has no password form %(page 'Sign In' at http://127%.0%.0%.1:%d+/adfs/ls/%)" } do
    local server = fake.start("--sso --idp-mode " .. mode)
    local host = server.stats().idp:match("//(.*)$")
    local state, status, msg = login(server)
    t.eq({ state, status }, { nil, 502 }, mode)
    t.eq(msg:sub(1, #("focus: single sign-on at " .. host .. " cannot go on: ")),
      "focus: single sign-on at " .. host .. " cannot go on: ", mode)
    t.match(msg, what)
    t.match(msg, "multi%-factor authentication or an account chooser need a browser")
    t.ok(not msg:find(fake.password, 1, true), "the password is in the message")
  end
end)

t.test("forced flows: native on a single sign-on school, saml on a native one", function()
  local server = fake.start("--sso")
  local state, status, msg = login(server, { login = "native" })
  t.eq({ state, status }, { nil, 502 })
  t.match(msg, "^focus: the login was answered with a redirect to 127%.0%.0%.1:%d+: this school logs in "
    .. "through single sign%-on %(SIS_FOCUS_LOGIN=saml, or unset to detect it%)$")
  local native = fake.start()
  state, status, msg = login(native, { login = "saml" })
  t.eq({ state, status }, { nil, 502 })
  t.match(msg, "Focus answered its own login page %(SIS_FOCUS_LOGIN=native")
  native.stats(true)
  state = assert(login(native, { login = "native" }))
  t.eq(state.login_flow, "native")
  t.eq(call_ok(state, "portal"), expected("portal"))
  t.eq(native.stats().paths["/focus/"], nil, "a forced flow does not look at focus/")
  local ok, err = pcall(login, native, { login = "kerberos" })
  t.ok(not ok)
  t.match(err, "login must be native, saml or auto")
end)

t.test("auto on a native school: one look at focus/, then Focus's own form", function()
  local server = fake.start()
  local state = assert(login(server))
  t.eq(state.login_flow, "native")
  local stats = server.stats()
  t.eq({ stats.paths["/focus/"], stats.logins, stats.idp }, { 1, 1, json.null })
end)

-- sis focus through single sign-on, recorded then replayed with the fake stopped
t.test("sis focus --login saml: recorded, replayed, the password on no disk", function()
  local server = fake.start("--sso")
  local dir = t.tmpdir()
  local function run(extra, args)
    return t.exec(string.format("SIS_FOCUS_PASSWORD='%s' %s %s focus --url %s --user %s %s </dev/null",
      fake.password, t.sis, extra, server.base, fake.user, args))
  end
  local code, out, err = run("--record " .. dir .. "/c", "--login saml schedule")
  t.eq(code, 0, err)
  local schedule = json.decode(out)
  t.eq(#schedule.courses, 9)
  local _, grep = t.exec(string.format("grep -rl -F -e '%s' -e 'Password=' %s/c || true", fake.password, dir))
  t.eq(grep, "", "the password (or a Password= field) is in the cassette")
  server.stop()
  code, out, err = run("--replay " .. dir .. "/c", "--login saml schedule")
  t.eq(code, 0, err)
  t.eq(json.decode(out), schedule)
  code, _, err = run("", "--login kerberos schedule")
  t.eq(code, 2)
  t.match(err, "%-%-login must be native, saml or auto, not 'kerberos'")
  os.execute("rm -rf " .. dir)
end)
