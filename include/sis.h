/*
 * sis — a Lua-scriptable scraping engine for student information systems.
 * Public C API for embedding the host (the `sis` binary is one such embedder).
 *
 * Stack effects use the Lua manual's notation [-pop, +push, errors].
 */
#ifndef SIS_H
#define SIS_H

#include <lua.h>
#include <stddef.h>

#define SIS_VERSION "0.1.0"

typedef struct sis_options {
    const char *scripts_dir; /* ':'-separated directories; NULL: $SIS_SCRIPTS. The
                                in-tree/installed scripts always come last */
} sis_options;

/* A new Lua state with the standard libraries, every sis.* module and cjson
 * preloaded, and package.path listing the scripts search path.
 * Returns NULL when memory is exhausted or a scripts directory does not
 * exist (reported on stderr). */
lua_State *sis_state_new(const sis_options *opt);

/* lua_pcall with a traceback message handler. [-(nargs+1), +(nresults|1), -]
 * On error the message "file:line: message\nstack traceback:\n..." is left on
 * the stack and the Lua status code is returned. */
int sis_pcall(lua_State *L, int nargs, int nresults);

/* Installs a count hook that stops Lua work past the deadline of the REST
 * request the thread serves (engine/request.h): the request's coroutine
 * yields (its runner abandons it), a script's own coroutine raises. It acts
 * only where the coroutine can yield, never inside a C function. */
void sis_state_stop_at_deadline(lua_State *L);

/* Loads and runs the script at path with the global `arg` set the way lua.c
 * does (arg[0] = path, arg[1..] = argv). Prints an error to stderr and returns
 * 1 on failure, 0 on success. */
int sis_run_file(lua_State *L, const char *path, int argc, char **argv);

/* The scripts search path: the directories of `list` (':'-separated; NULL:
 * $SIS_SCRIPTS) in order, then the shipped scripts (next to the binary or
 * installed), each once; the first directory holding a module wins. Returns
 * 0, or -1 with a message in err naming a directory that does not exist.
 * sis_state_new sets it on first use; set it again before building states. */
#define SIS_SCRIPTS_MAX 16
int sis_scripts_path_set(const char *list, char *err, size_t errlen);
size_t sis_scripts_count(void);
const char *sis_scripts_at(size_t i); /* NULL past the end */

/* The first directory of the scripts path (valid for the program's lifetime). */
const char *sis_scripts_dir(void);

/* Module openers, also usable with luaL_requiref by other embedders. */
int luaopen_sis_http(lua_State *L);
int luaopen_sis_html(lua_State *L);
int luaopen_sis_date(lua_State *L);
int luaopen_sis_json(lua_State *L);
int luaopen_sis_xml(lua_State *L);
int luaopen_sis_log(lua_State *L);
int luaopen_sis_codec(lua_State *L);

/* The REST front (civetweb). Blocks until SIGINT/SIGTERM; returns an exit code. */
typedef struct sis_serve_options {
    const char *listen;      /* "127.0.0.1:5000" */
    int threads;             /* worker threads (0: default) */
    const sis_options *host; /* for the per-worker Lua states */
} sis_serve_options;
int sis_serve(const sis_serve_options *opt);

#endif
