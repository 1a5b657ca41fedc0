/* sis.json from C: other modules (http request bodies, the REST front)
 * encode and decode with exactly the rules of json.encode / json.decode. */
#ifndef SIS_JSON_H
#define SIS_JSON_H

#include <lua.h>
#include <stddef.h>

enum {
    SIS_JSON_PRETTY = 1,   /* 2-space indentation (json.encode's opts.pretty) */
    SIS_JSON_UNSORTED = 2, /* object keys in table order (opts.sort_keys = false) */
};

#define SIS_JSON_MAX_DEPTH 512

/* Pushes the JSON text of the value at idx (it pushes a string rather than
 * filling a luaL_Buffer because walking tables needs the stack, which a
 * luaL_Buffer forbids between its calls). Raises a Lua error on values
 * json.encode refuses (functions, NaN/Inf, mixed or sparse tables, cycles,
 * nesting deeper than SIS_JSON_MAX_DEPTH, invalid UTF-8). [-0, +1, e] */
void sis_json_encode(lua_State *L, int idx, int flags);

/* Decodes the n bytes at s. On success pushes the value and returns 1; on
 * malformed input pushes the message "json: ... at line L col C" and returns
 * 0. Raises only on memory errors. [-0, +1, m] */
int sis_json_decode(lua_State *L, const char *s, size_t n, int max_depth);

#endif
