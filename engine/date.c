/* sis.date — placeholder until the module lands (see docs/lua-api.md). */
#include "sis.h"

#include <lauxlib.h>

int luaopen_sis_date(lua_State *L) {
    lua_newtable(L);
    return 1;
}
