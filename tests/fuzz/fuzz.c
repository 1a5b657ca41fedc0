/* libFuzzer targets for the byte-level parsers of the C core. One harness,
 * several targets: TARGET (a -D at build time) names a Lua property in
 * targets[] below, a function(s) that must neither raise nor return false
 * for any input. A raise or a false result aborts, so libFuzzer keeps the
 * input. See tests/fuzz/README.md. */
#include "sis.h"

#include <lauxlib.h>
#include <lualib.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef TARGET
#error "build with -DTARGET=json|xml|date|codec|redact"
#endif
#define STR2(x) #x
#define STR(x) STR2(x)

static const struct { const char *name, *property; } targets[] = {
    /* a decoded value re-encodes, and its encoding is a fixed point */
    {"json", "local json = require 'sis.json'\n"
             "return function(s)\n"
             "  local v, err = json.decode(s)\n"
             "  if v == nil then return type(err) == 'string' and err:find('^json: .* at line %d+ col %d+$') end\n"
             "  local e = json.encode(v)\n"
             "  local again, err2 = json.decode(e)\n"
             "  return err2 == nil and json.encode(again) == e\n"
             "end\n"},
    /* elements are {tag, attrs, children...} with string leaves */
    {"xml", "local xml = require 'sis.xml'\n"
            "local function ok(e)\n"
            "  if type(e) == 'string' then return true end\n"
            "  if type(e.tag) ~= 'string' or type(e.attrs) ~= 'table' then return false end\n"
            "  for _, c in ipairs(e) do if not ok(c) then return false end end\n"
            "  return true\n"
            "end\n"
            "return function(s)\n"
            "  local v, err = xml.parse(s, {max_depth = 64})\n"
            "  if v == nil then return type(err) == 'string' and err:find('^xml: ') end\n"
            "  return ok(v)\n"
            "end\n"},
    /* a parsed date is ISO, parses as itself and survives the epoch */
    {"date", "local date = require 'sis.date'\n"
             "return function(s)\n"
             "  for _, order in ipairs {'mdy', 'dmy'} do\n"
             "    local v, err = date.parse(s, order)\n"
             "    if v == nil then\n"
             "      if not err:find('^date: cannot parse') then return false end\n"
             "    else\n"
             "      local timed = #v == 19\n"
             "      if not (v:find('^%d%d%d%d%-%d%d%-%d%d$') or v:find('^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d$')) then return false end\n"
             "      if date.parse(v) ~= v then return false end\n"
             "      if date.from_epoch(date.to_epoch(v), timed) ~= v then return false end\n"
             "      date.format(v, '%Y %m %d %H %M %S %b %B %a %A %e %j %%')\n"
             "    end\n"
             "  end\n"
             "  return true\n"
             "end\n"},
    /* codecs: round trips, and decoders never raise */
    {"codec", "local codec = require 'sis.codec'\n"
              "return function(s)\n"
              "  codec.html_unescape(s)\n"
              "  codec.url_decode(s)\n"
              "  local b = codec.base64_decode(s)\n"
              "  if b and codec.base64_decode(codec.base64_encode(b)) ~= b then return false end\n"
              "  return codec.url_decode(codec.url_encode(s)) == s\n"
              "    and codec.base64_decode(codec.base64_encode(s)) == s\n"
              "end\n"},
    /* registered secrets never survive redaction, nor their URL-encoded
     * forms, and no text before a password= pair can keep it from being
     * masked. (Not idempotence: masking changes the context, e.g. the space
     * of a masked secret no longer ends a URL's authority.) */
    {"redact", "local log = require 'sis.log'\n"
               "log.secret('hunter2')\n"
               "log.secret('p@ss w0rd')\n"
               "return function(s)\n"
               "  local r = log.redact(s)\n"
               "  for _, x in ipairs {'hunter2', 'p@ss w0rd', 'p%40ss%20w0rd', 'p%2540ss%2520w0rd'} do\n"
               "    if r:find(x, 1, true) then return false end\n"
               "  end\n"
               "  if s:find('zz9secret', 1, true) then return true end -- the fuzzer learns literals\n"
               "  return not log.redact(s .. '\\n password=zz9secret&x'):find('zz9secret', 1, true)\n"
               "end\n"},
};

static lua_State *L;

static void init(void) {
    L = luaL_newstate();
    luaL_openlibs(L);
    static const luaL_Reg mods[] = {
        {"sis.json", luaopen_sis_json}, {"sis.xml", luaopen_sis_xml}, {"sis.date", luaopen_sis_date},
        {"sis.codec", luaopen_sis_codec}, {"sis.log", luaopen_sis_log}, {NULL, NULL},
    };
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
    for (const luaL_Reg *m = mods; m->name; m++) {
        lua_pushcfunction(L, m->func);
        lua_setfield(L, -2, m->name);
    }
    lua_pop(L, 1);
    for (size_t i = 0; i < sizeof targets / sizeof *targets; i++) {
        if (strcmp(targets[i].name, STR(TARGET)) != 0) continue;
        if (luaL_loadstring(L, targets[i].property) != LUA_OK || lua_pcall(L, 0, 1, 0) != LUA_OK) {
            fprintf(stderr, "fuzz: %s\n", lua_tostring(L, -1));
            abort();
        }
        return; /* the property function stays at stack index 1 */
    }
    fprintf(stderr, "fuzz: unknown target %s\n", STR(TARGET));
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!L) init();
    lua_pushvalue(L, 1);
    lua_pushlstring(L, (const char *)data, size);
    if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
        fprintf(stderr, "fuzz: %s raised: %s\n", STR(TARGET), lua_tostring(L, -1));
        abort();
    }
    if (!lua_toboolean(L, -1)) {
        fprintf(stderr, "fuzz: %s property failed\n", STR(TARGET));
        abort();
    }
    lua_settop(L, 1);
    lua_gc(L, LUA_GCSTEP, 0);
    return 0;
}
