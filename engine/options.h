/* Checked option tables for the Lua API: `f(x, {name = value, ...})`.
 * A wrong option is a programmer error, so these raise (luaL_argerror). */
#ifndef SIS_OPTIONS_H
#define SIS_OPTIONS_H

#include <lua.h>

/* Raises unless the argument at idx is none, nil or a table whose keys are
 * all among names (NULL-terminated): catches typos such as `maxdepth`. */
void sis_check_options(lua_State *L, int idx, const char *const names[]);

/* The boolean option `name` of the table at idx (none/nil table or field: dflt). */
int sis_opt_boolean(lua_State *L, int idx, const char *name, int dflt);

/* The integer option `name` in [min, max] of the table at idx (or dflt). */
lua_Integer sis_opt_integer(lua_State *L, int idx, const char *name, lua_Integer dflt, lua_Integer min,
                            lua_Integer max);

#endif
