-- The C primitives of the watch store: sis.sqlite, sis.crypto, and the
-- SHA-256 / HMAC-SHA256 of sis.codec.
local t = require "testlib"
local codec = require "sis.codec"
local crypto = require "sis.crypto"
local sqlite = require "sis.sqlite"

local function unhex(h) return (h:gsub("%x%x", function(x) return string.char(tonumber(x, 16)) end)) end

t.test("sha256 and hmac-sha256 match FIPS 180 and RFC 4231", function()
  t.eq(codec.sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
  t.eq(codec.hmac_sha256_hex(string.rep("\x0b", 20), "Hi There"),
       "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")
  t.eq(codec.hmac_sha256_hex("Jefe", "what do ya want for nothing?"),
       "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
end)

t.test("AES-256-GCM opens the McGrew-Viega test case 14 and round-trips", function()
  local key = string.rep("\0", 32)
  -- nonce 0^96, plaintext 0^128 -> C, T of the GCM specification's test case 14
  local sealed = string.rep("\0", 12) .. unhex("cea7403d4d606b6e074ec5d3baf39d18")
    .. unhex("d0d1c8a799996bf0265b98b5d48ab919")
  t.eq(crypto.open(key, sealed), string.rep("\0", 16))
  local k2 = crypto.random(32)
  local s = crypto.seal(k2, "harbor-lights-42", "sub:1")
  t.eq(#s, 12 + 16 + 16)
  t.ok(not s:find("harbor", 1, true))
  t.eq(crypto.open(k2, s, "sub:1"), "harbor-lights-42")
  t.ok(crypto.seal(k2, "x") ~= crypto.seal(k2, "x"), "a fresh nonce each time")
  t.eq(crypto.open(k2, crypto.seal(k2, "")), "")
end)

t.test("AES-256-GCM refuses a wrong key, another aad, an altered or short value", function()
  local k = crypto.random(32)
  local s = crypto.seal(k, "secret", "sub:1")
  t.fails("wrong key or altered", crypto.open(crypto.random(32), s, "sub:1"))
  t.fails("wrong key or altered", crypto.open(k, s, "sub:2"))
  t.fails("wrong key or altered", crypto.open(k, s))
  local flipped = s:sub(1, 14) .. string.char(s:byte(15) ~ 1) .. s:sub(16)
  t.fails("wrong key or altered", crypto.open(k, flipped, "sub:1"))
  t.fails("too short", crypto.open(k, "abc"))
  t.raises(function() crypto.seal("short", "x") end, "32 bytes")
end)

t.test("the key file is created 0600 once and read back; a shared one is refused", function()
  local dir = t.tmpdir()
  local path = dir .. "/key"
  local k1 = assert(crypto.key_file(path))
  t.eq(#k1, 32)
  local _, mode = t.exec("stat -c %a " .. path)
  t.eq(mode, "600\n")
  t.eq(crypto.key_file(path), k1)
  os.execute("chmod 644 " .. path)
  t.fails("readable by others", crypto.key_file(path))
  os.execute("chmod 600 " .. path .. " && printf abc > " .. path)
  t.fails("not 32 bytes", crypto.key_file(path))
  t.fails("No such file", crypto.key_file(dir .. "/missing/key"))
  os.execute("rm -rf " .. dir)
end)

t.test("sqlite: typed values, parameters, rows, changes and rowids", function()
  local db <close> = assert(sqlite.open(":memory:"))
  t.match(tostring(db), "^sis.sqlite.db")
  assert(db:exec("CREATE TABLE x (id INTEGER PRIMARY KEY, name TEXT UNIQUE, score REAL, flag INTEGER, note TEXT)"))
  local changes, rowid = db:run("INSERT INTO x (name, score, flag, note) VALUES (?, ?, ?, ?)", "a", 1.5, true, nil)
  t.eq({ changes, rowid }, { 1, 1 })
  db:run("INSERT INTO x (name, score, flag, note) VALUES (?, ?, ?, ?)", "b\0c", 2, false, "n")
  local rows = db:rows("SELECT id, name, score, flag, note FROM x ORDER BY id")
  t.eq(rows, { { id = 1, name = "a", score = 1.5, flag = 1 },
               { id = 2, name = "b\0c", score = 2.0, flag = 0, note = "n" } })
  t.eq(db:row("SELECT name FROM x WHERE id = ?", 2), { name = "b\0c" })
  t.eq(db:row("SELECT name FROM x WHERE id = ?", 99), false)
  t.eq({ db:run("UPDATE x SET flag = 1") }, { 2, 2 })
  local v, err, kind = db:run("INSERT INTO x (name) VALUES (?)", "a")
  t.eq({ v, kind }, { nil, "constraint" })
  t.match(err, "^sqlite: UNIQUE")
end)

t.test("sqlite: programmer errors raise, closing twice is fine", function()
  local db = assert(sqlite.open(":memory:"))
  t.raises(function() db:rows("SELEKT 1") end, "syntax error")
  t.raises(function() db:rows("SELECT ?", {}) end, "cannot bind a table")
  t.raises(function() db:rows("SELECT ?") end, "0 arguments for 1 parameters")
  t.raises(function() db:run("SELECT 1; SELECT 2") end, "one statement at a time")
  db:close()
  db:close()
  t.raises(function() db:rows("SELECT 1") end, "closed")
end)

t.test("sqlite: a new database file is private; two connections see each other's writes", function()
  local dir = t.tmpdir()
  local path = dir .. "/s.db"
  local a = assert(sqlite.open(path))
  local _, mode = t.exec("stat -c %a " .. path)
  t.eq(mode, "600\n")
  assert(a:exec("PRAGMA journal_mode=WAL; CREATE TABLE k (v TEXT)"))
  local b = assert(sqlite.open(path))
  a:run("INSERT INTO k VALUES (?)", "one")
  t.eq(b:rows("SELECT v FROM k"), { { v = "one" } })
  a:close()
  b:close()
  t.fails("cannot create", sqlite.open(dir .. "/no/such/dir.db"))
  os.execute("rm -rf " .. dir)
end)

t.test("the key: SIS_SECRET_KEY (hex or base64) wins over the key file; a bad one is refused", function()
  local dir = t.tmpdir()
  local script = dir .. "/key.lua"
  local f = assert(io.open(script, "w"))
  f:write([[
local secrets = require "watch.secrets"
local key, err = secrets.key(arg[1])
if not key then io.write("error: ", err) return end
io.write((key:gsub(".", function(c) return string.format("%02x", c:byte()) end)))
]])
  f:close()
  local hex = string.rep("0f", 32)
  local function key(env)
    local _, out = t.exec(string.format("%s %s run %s %s", env, t.sis, script, dir))
    return out
  end
  t.eq(key("SIS_SECRET_KEY=" .. hex), hex)
  t.eq(key("SIS_SECRET_KEY=" .. require("sis.codec").base64_encode(string.rep("\15", 32))), hex)
  t.eq(key("SIS_SECRET_KEY=short"), "error: SIS_SECRET_KEY must be 32 bytes: 64 hex digits or base64")
  local from_file = key("SIS_SECRET_KEY=")
  t.match(from_file, "^%x+$")
  t.eq(#from_file, 64)
  t.eq(key(""), from_file, "the key file, created once")
  os.execute("rm -rf " .. dir)
end)
