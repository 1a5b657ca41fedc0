-- sis.codec and sis.log
local t = require "testlib"
local codec = require "sis.codec"
local log = require "sis.log"

t.test("base64 round trip and errors", function()
  t.eq(codec.base64_encode(""), "")
  t.eq(codec.base64_encode("f"), "Zg==")
  t.eq(codec.base64_encode("fo"), "Zm8=")
  t.eq(codec.base64_encode("foo"), "Zm9v")
  t.eq(codec.base64_decode("Zg=="), "f")
  t.eq(codec.base64_decode("Zm8="), "fo")
  t.eq(codec.base64_decode("Zm9v\nYmFy"), "foobar")
  local bin = string.rep("\0\255\1\128", 100)
  t.eq(codec.base64_decode(codec.base64_encode(bin)), bin)
  t.fails("multiple of 4", codec.base64_decode("abc"))
  t.fails("invalid", codec.base64_decode("ab!="))
  -- '=' is padding at the end only, not zero bits anywhere
  for _, bad in ipairs { "ab=c", "=Zg=", "Zg=a", "====", "a===", "Zg==Zg==" } do
    t.fails("invalid character", codec.base64_decode(bad))
  end
  t.eq(codec.base64_decode(" Zm9v\r\nYg== "), "foob")
end)

t.test("sha1 and hmac-sha1 match the RFC 2202 vectors", function()
  t.eq(codec.sha1_hex("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d")
  t.eq(codec.hmac_sha1_hex(string.rep("\x0b", 20), "Hi There"),
       "b617318655057264e28bc0b6fb378c8ef146be00")
  t.eq(codec.hmac_sha1_hex("Jefe", "what do ya want for nothing?"),
       "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79")
end)

t.test("random ids are hex of the asked size and differ", function()
  local a, b = codec.random_hex(16), codec.random_hex(16)
  t.match(a, "^%x+$")
  t.eq(#a, 32)
  t.ok(a ~= b)
  t.raises(function() codec.random_hex(0) end, "out of range")
end)

t.test("html entities", function()
  t.eq(codec.html_unescape("Sport &amp; Culture"), "Sport & Culture")
  t.eq(codec.html_unescape("s&apos;inscrire &quot;x&quot; &lt;b&gt;"), "s'inscrire \"x\" <b>")
  t.eq(codec.html_unescape("&eacute;t&eacute; &#233; &#xE9; &nbsp;"), "été é é \u{a0}")
  t.eq(codec.html_unescape("AT&T &bogus; & &#;"), "AT&T &bogus; & &#;")
  t.eq(codec.html_unescape("&amp\0x; &lt x;"), "&amp\0x; &lt x;") -- not names: kept whole
end)

t.test("url encoding", function()
  t.eq(codec.url_encode("a b&c=d+e%f/é~"), "a%20b%26c%3Dd%2Be%25f%2F%C3%A9~")
  t.eq(codec.url_decode("a%20b+c%26%zz%"), "a b c&%zz%")
end)

t.test("redaction masks passwords, cookies and registered secrets", function()
  t.eq(log.redact("login=true&data=username=jo&password=p%40ss&x=1"),
       "login=true&data=username=jo&password=***&x=1")
  t.eq(log.redact('{"username": "jo", "password": "hunter2"}'),
       '{"username": "jo", "password": "***"}')
  t.eq(log.redact("Cookie: PHPSESSID=abc; other=1\nnext"), "Cookie: ***\nnext")
  t.eq(log.redact("Set-Cookie: __ac=\"abc\"; Path=/"), "Set-Cookie: ***")
  t.eq(log.redact("url?__ac_name=u&__ac_password=Secr3t!&format=json"),
       "url?__ac_name=u&__ac_password=***&format=json")
  t.eq(log.redact("PHPSESSID=deadbeef; session_timeout=1"), "PHPSESSID=***; session_timeout=1")
  t.eq(log.redact("a passwordless login"), "a passwordless login")
  log.secret("harbor-lights-42")
  t.eq(log.redact("oops harbor-lights-42 leaked twice harbor-lights-42"), "oops *** leaked twice ***")
  log.forget("harbor-lights-42")
  t.eq(log.redact("harbor-lights-42"), "harbor-lights-42")
end)

t.test("a secret registered twice stays masked until forgotten twice", function()
  -- two sessions of one user: the first logout must not unmask the other's password
  log.secret("shared-pass-7")
  log.secret("shared-pass-7")
  log.forget("shared-pass-7")
  t.eq(log.redact("x shared-pass-7"), "x ***")
  log.forget("shared-pass-7")
  t.eq(log.redact("x shared-pass-7"), "x shared-pass-7")
end)

t.test("levels", function()
  local old = log.level()
  t.eq(log.level("error"), "error")
  t.raises(function() log.level("loud") end, "invalid option")
  log.level(old)
end)

t.test("log lines go to stderr, redacted", function()
  local code, out, err = t.exec(t.sis .. [[ run /dev/stdin <<'X'
local log = require "sis.log"
log.info("posting %s", "password=hunter2")
log.debug("hidden")
X]])
  t.eq(code, 0)
  t.eq(out, "")
  t.match(err, "^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d info  posting password=%*%*%*\n$")
end)

t.test("log lines are redacted whole, however long", function()
  -- the line is cut nowhere before redaction, so no prefix of a secret shows
  local filler = string.rep("a", 4080)
  local code, _, err = t.exec("SIS_LOG_LEVEL=debug " .. t.sis .. [[ run /dev/stdin <<'X'
local log, http = require "sis.log", require "sis.http"
log.secret("hunter2secret")
http.session():get("http://127.0.0.1:1/]] .. filler .. [[?x=hunter2secret")
X]])
  t.eq(code, 0)
  t.match(err, "debug http GET http://127.0.0.1:1/a+%?x=%*%*%* failed: connect")
  t.ok(not err:find("hunter"), err)
end)

t.test("logging survives a script that replaces the string library", function()
  local code, _, err = t.exec(t.sis .. [[ run /dev/stdin <<'X'
local log = require "sis.log"
string = nil
log.info("still %d", 42)
X]])
  t.eq(code, 0)
  t.match(err, "info  still 42\n$")
end)

t.test("registered secrets like the mask or with NUL bytes do not hang redaction", function()
  for _, s in ipairs { "***", "\0\0\0", "a\0b" } do
    log.secret(s)
    t.eq(log.redact("x " .. s .. " y password=z"), "x *** y password=***")
    log.forget(s)
    t.eq(log.redact("x " .. s), "x " .. s)
  end
end)

t.test("registered secrets are masked URL-encoded too, and there is no limit on them", function()
  log.secret("p@ss w&rd")
  t.eq(log.redact("?pw=p%40ss%20w%26rd&data=pw%3Dp%2540ss%2520w%2526rd"), "?pw=***&data=pw%3D***")
  log.forget("p@ss w&rd")
  t.eq(log.redact("?pw=p%40ss%20w%26rd"), "?pw=p%40ss%20w%26rd")
  for i = 1, 300 do log.secret("many-secret-" .. i) end
  t.eq(log.redact("many-secret-1 many-secret-300"), "*** ***")
  for i = 1, 300 do log.forget("many-secret-" .. i) end
  t.eq(log.redact("many-secret-300"), "many-secret-300")
end)

t.test("redaction masks whole quoted values, encoded pairs, session= and URL passwords", function()
  t.eq(log.redact('{"password": "correct horse battery", "user": "jo"}'),
       '{"password": "***", "user": "jo"}')
  t.eq(log.redact([[{"password": "say \"hi\" there"}]]), [[{"password": "***"}]])
  t.eq(log.redact([[body "{\"password\":\"a b c\",\"x\":1}"]]), [[body "{\"password\":\"***\",\"x\":1}"]])
  -- Focus login: the password sits in a form field holding a query string
  t.eq(log.redact("login=true&data=username%3Djo%26password%3Dp%2540ss"),
       "login=true&data=username%3Djo%26password%3D***")
  t.eq(log.redact("data=password%3Dx%2526y%26z%3D1"), "data=password%3D***%26z%3D1")
  t.eq(log.redact("session=abc123; session_timeout=1"), "session=***; session_timeout=1")
  t.eq(log.redact("session_id=abc sis_session=def"), "session_id=*** sis_session=***")
  t.eq(log.redact('{"cookie": "sid=1; lang=fr", "host": "h"}'), '{"cookie": "***", "host": "h"}')
  t.eq(log.redact("GET https://bob:hunter2@host/x failed"), "GET https://bob:***@host/x failed")
  t.eq(log.redact("http://host/a@b:c https://bob@host/"), "http://host/a@b:c https://bob@host/")
  -- the user name is text like any other (found by tests/fuzz: the span from
  -- "://" to the password was copied unscanned)
  log.secret("hunter2")
  t.eq(log.redact("https://xhunter2:pw@host"), "https://x***:***@host")
  log.forget("hunter2")
end)

t.test("ordinary log lines survive redaction: only values of secret keys are masked", function()
  -- lines sis writes itself (server/app.lua, server.c, the services)
  for _, line in ipairs {
    "POST /api/v3/session: handler failed: scripts/focus/rest.lua:40: boom",
    "POST /api/scodoc/session: cannot store the session: session store full",
    "DELETE /api/v3/session 200 1.4 ms",
    "GET /api/v3/session: bad answer: handler returned a bad status: nil",
    "serve: stopped (3 sessions wiped)",
    "focus: session expired, logging in again",
  } do
    t.eq(log.redact(line), line)
  end
  -- the secrets those keys guard are still masked, in each form they take
  t.eq(log.redact("session=abc123 session_id=def"), "session=*** session_id=***")
  t.eq(log.redact('{"session": "abc", "session_id": "d e"}'), '{"session": "***", "session_id": "***"}')
  t.eq(log.redact([[{\"session\":\"abc\"}]]), [[{\"session\":\"***\"}]])
  t.eq(log.redact("password: hunter2 passwd:x2 token: abc def"), "password: *** passwd:*** token: *** def")
  t.eq(log.redact("data=session%3Dabc%26y%3D1"), "data=session%3D***%26y%3D1")
end)

t.test("held log lines are written at release but those the final message repeats, and at exit", function()
  local code, out, err = t.exec(t.sis .. [[ run - <<'X'
local log = require "sis.log"
log.hold()
log.warn("kept line")
log.warn("focus: connect: refused password=hunter2")
io.stderr:write("before release\n")
log.release("login failed (502): focus: connect: refused password=hunter2")
log.warn("written at once")
log.hold()
log.warn("held at exit")
os.exit(3)
X]])
  t.eq({ code, out }, { 3, "" })
  local lines = {}
  for line in err:gmatch("[^\n]+") do lines[#lines + 1] = line:gsub("^%d%d%d%d%-%d%d%-%d%dT[%d:]+ ", "") end
  t.eq(lines, { "before release", "warn  kept line", "warn  written at once", "warn  held at exit" })
end)
