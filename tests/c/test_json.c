/* The C interface of sis.json (engine/json.h) as http.c and server.c use it:
 * stack effects, metatables shared with the Lua module, errors. */
#include "check.h"
#include "json.h"
#include "sis.h"

#include <lauxlib.h>
#include <lualib.h>

/* Runs a chunk that gets the value at the top as `...` and returns a boolean. */
static int lua_true(lua_State *L, const char *code) {
    if (luaL_loadstring(L, code) != LUA_OK) return 0;
    lua_pushvalue(L, -2);
    if (sis_pcall(L, 1, 1) != LUA_OK) {
        printf("# %s\n", lua_tostring(L, -1));
        lua_pop(L, 1);
        return 0;
    }
    int ok = lua_toboolean(L, -1);
    lua_pop(L, 1);
    return ok;
}

static int encode_top(lua_State *L) {
    sis_json_encode(L, 1, (int)lua_tointeger(L, 2));
    return 1;
}

/* Encodes the value at the top with flags in a protected call; returns the
 * JSON text or the error message (valid until the next pop). */
static const char *encode(lua_State *L, int flags, int *ok) {
    lua_pushcfunction(L, encode_top);
    lua_pushvalue(L, -2);
    lua_pushinteger(L, flags);
    *ok = lua_pcall(L, 2, 1, 0) == LUA_OK;
    return lua_tostring(L, -1);
}

int main(void) {
    /* sis.json is deliberately not required first: the C interface must
     * create the shared metatables itself. */
    lua_State *L = sis_state_new(NULL);
    CHECK(L != NULL);
    int top = lua_gettop(L);

    const char *text = "{\"b\":[1,2.5,null,\"\\u00e9\"],\"a\":{},\"c\":[],\"id\":123456789012345678}";
    CHECK(sis_json_decode(L, text, strlen(text), SIS_JSON_MAX_DEPTH) == 1);
    CHECK(lua_gettop(L) == top + 1);
    CHECK(lua_true(L, "local v = ...; return math.type(v.id) == 'integer' and v.id == 123456789012345678 "
                      "and math.type(v.b[2]) == 'float' and v.b[3] == nil == false and v.b[4] == 'é'"));
    CHECK(lua_true(L, "local v, json = ..., require 'sis.json'; return getmetatable(v.c) == json.array_mt "
                      "and getmetatable(v.a) == json.object_mt and v.b[3] == json.null"));

    int ok;
    CHECK_STR(encode(L, 0, &ok), "{\"a\":{},\"b\":[1,2.5,null,\"é\"],\"c\":[],\"id\":123456789012345678}");
    CHECK(ok);
    lua_pop(L, 1);
    CHECK_STR(encode(L, SIS_JSON_PRETTY, &ok),
              "{\n  \"a\": {},\n  \"b\": [\n    1,\n    2.5,\n    null,\n    \"é\"\n  ],\n  \"c\": [],\n"
              "  \"id\": 123456789012345678\n}");
    lua_pop(L, 2);
    CHECK(lua_gettop(L) == top);

    /* sis_json_encode leaves exactly one value and raises on bad values */
    lua_pushinteger(L, 42);
    sis_json_encode(L, -1, 0);
    CHECK_STR(lua_tostring(L, -1), "42");
    CHECK(lua_gettop(L) == top + 2);
    lua_settop(L, top);

    lua_newtable(L);
    lua_pushcfunction(L, encode_top);
    lua_setfield(L, -2, "f");
    const char *err = encode(L, 0, &ok);
    CHECK(!ok);
    CHECK_STR(err, "json.encode: cannot encode a function (at .f)");
    lua_settop(L, top);

    /* malformed input: the message alone, no value */
    CHECK(sis_json_decode(L, "[1,\n2,,3]", 9, SIS_JSON_MAX_DEPTH) == 0);
    CHECK(lua_gettop(L) == top + 1);
    CHECK_STR(lua_tostring(L, -1), "json: unexpected character ',' at line 2 col 3");
    lua_settop(L, top);
    CHECK(sis_json_decode(L, "[[[1]]]", 7, 2) == 0);
    CHECK_STR(lua_tostring(L, -1), "json: nesting deeper than 2 at line 1 col 3");
    lua_settop(L, top);
    CHECK(sis_json_decode(L, "\"a\\u0000b\"", 10, 8) == 1);
    size_t n;
    const char *s = lua_tolstring(L, -1, &n);
    CHECK(n == 3 && memcmp(s, "a\0b", 3) == 0);
    lua_settop(L, top);
    CHECK(sis_json_decode(L, "\"a\0b\"", 5, 8) == 0); /* a raw NUL is a control character */
    CHECK_STR(lua_tostring(L, -1), "json: control character in string at line 1 col 3");
    lua_settop(L, top);
    CHECK(sis_json_decode(L, "[7]garbage", 3, 8) == 1); /* the length is explicit */
    CHECK(lua_true(L, "return (...)[1] == 7"));
    lua_settop(L, top);

    lua_close(L);
    return check_report("test_json");
}
