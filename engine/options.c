/* Checked option tables (see options.h). */
#include "options.h"

#include <lauxlib.h>

#include <string.h>

void sis_check_options(lua_State *L, int idx, const char *const names[]) {
    if (lua_isnoneornil(L, idx)) return;
    luaL_checktype(L, idx, LUA_TTABLE);
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        int known = 0;
        if (lua_type(L, -1) == LUA_TSTRING)
            for (int i = 0; names[i] && !known; i++) known = strcmp(lua_tostring(L, -1), names[i]) == 0;
        if (!known) luaL_argerror(L, idx, lua_pushfstring(L, "unknown option '%s'", luaL_tolstring(L, -1, NULL)));
    }
}

int sis_opt_boolean(lua_State *L, int idx, const char *name, int dflt) {
    if (!lua_istable(L, idx)) return dflt;
    int t = lua_getfield(L, idx, name);
    if (t != LUA_TNIL && t != LUA_TBOOLEAN)
        luaL_argerror(L, idx, lua_pushfstring(L, "option '%s' must be a boolean", name));
    int v = t == LUA_TNIL ? dflt : lua_toboolean(L, -1);
    lua_pop(L, 1);
    return v;
}

lua_Integer sis_opt_integer(lua_State *L, int idx, const char *name, lua_Integer dflt, lua_Integer min,
                            lua_Integer max) {
    if (!lua_istable(L, idx)) return dflt;
    lua_Integer v = dflt;
    if (lua_getfield(L, idx, name) != LUA_TNIL) {
        int isint;
        v = lua_tointegerx(L, -1, &isint);
        if (!isint || v < min || v > max)
            luaL_argerror(L, idx, lua_pushfstring(L, "option '%s' must be an integer in %I..%I", name, min, max));
    }
    lua_pop(L, 1);
    return v;
}
