/*
 * sis — a Lua-scriptable scraping engine for student information systems.
 * Public C API for embedding the host (the `sis` binary is one such embedder).
 *
 * Stack effects use the Lua manual's notation [-pop, +push, errors].
 */
#ifndef SIS_H
#define SIS_H

#include <lua.h>

#define SIS_VERSION "0.1.0"

typedef struct sis_options {
    const char *scripts_dir; /* NULL: $SIS_SCRIPTS, then the in-tree/installed scripts */
} sis_options;

/* A new Lua state with the standard libraries, every sis.* module and cjson
 * preloaded, and package.path pointing at the scripts directory.
 * Returns NULL only when memory is exhausted. */
lua_State *sis_state_new(const sis_options *opt);

/* lua_pcall with a traceback message handler. [-(nargs+1), +(nresults|1), -]
 * On error the message "file:line: message\nstack traceback:\n..." is left on
 * the stack and the Lua status code is returned. */
int sis_pcall(lua_State *L, int nargs, int nresults);

/* Loads and runs the script at path with the global `arg` set the way lua.c
 * does (arg[0] = path, arg[1..] = argv). Prints an error to stderr and returns
 * 1 on failure, 0 on success. */
int sis_run_file(lua_State *L, const char *path, int argc, char **argv);

/* The scripts directory the host resolved (valid for the program's lifetime). */
const char *sis_scripts_dir(void);

/* Module openers, also usable with luaL_requiref by other embedders. */
int luaopen_sis_http(lua_State *L);
int luaopen_sis_html(lua_State *L);
int luaopen_sis_date(lua_State *L);
int luaopen_sis_json(lua_State *L);
int luaopen_sis_xml(lua_State *L);
int luaopen_sis_log(lua_State *L);
int luaopen_sis_codec(lua_State *L);
int luaopen_sis_sqlite(lua_State *L);
int luaopen_sis_crypto(lua_State *L);

/* The REST front (civetweb). Blocks until SIGINT/SIGTERM; returns an exit code. */
typedef struct sis_serve_options {
    const char *listen;      /* "127.0.0.1:5000" */
    int threads;             /* worker threads (0: default) */
    const sis_options *host; /* for the per-worker Lua states */
} sis_serve_options;
int sis_serve(const sis_serve_options *opt);

#endif
