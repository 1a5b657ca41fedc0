/* The host: builds Lua states with every sis module preloaded and runs Lua
 * code only through protected calls with a traceback. */
#include "log.h"
#include "request.h"
#include "sis.h"

#include <lauxlib.h>
#include <lualib.h>
#include <lua-cjson.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int luaopen_cjson_safe(lua_State *L); /* exported by lua-cjson, missing from its header */

static const luaL_Reg preloads[] = {
    {"sis.http", luaopen_sis_http},   {"sis.html", luaopen_sis_html},
    {"sis.date", luaopen_sis_date},   {"sis.json", luaopen_sis_json},
    {"sis.xml", luaopen_sis_xml},     {"sis.log", luaopen_sis_log},
    {"sis.codec", luaopen_sis_codec}, {"cjson", luaopen_cjson},
    {"cjson.safe", luaopen_cjson_safe}, {NULL, NULL},
};

/* The scripts search path: the directories of --scripts / $SIS_SCRIPTS in
 * order, then the shipped scripts; the first directory holding a module wins
 * (package.path lists them in that order). */
static char scripts_path[SIS_SCRIPTS_MAX][PATH_MAX];
static size_t scripts_count;
static int shipped_index = -1; /* which entry is the shipped scripts, -1: none found */

static int is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int same_dir(const char *a, const char *b) {
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* The scripts that belong to this binary: next to it (in-tree build/sis ->
 * ../scripts) or installed under ../share/sis/scripts. */
static int shipped_scripts(char out[PATH_MAX]) {
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) return 0;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash) *slash = '\0';
    static const char *const candidates[] = {"%s/scripts", "%s/../scripts", "%s/../share/sis/scripts"};
    for (size_t i = 0; i < sizeof candidates / sizeof *candidates; i++) {
        char path[PATH_MAX];
        snprintf(path, sizeof path, candidates[i], exe);
        if (is_dir(path) && realpath(path, out)) return 1;
    }
    return 0;
}

static int add_dir(const char *dir, size_t len, char *err, size_t errlen) {
    char path[PATH_MAX];
    if (len >= sizeof path) {
        snprintf(err, errlen, "scripts directory name too long: %.60s...", dir);
        return -1;
    }
    memcpy(path, dir, len);
    path[len] = '\0';
    if (!is_dir(path)) {
        snprintf(err, errlen, "scripts directory %s: directory does not exist", path);
        return -1;
    }
    for (size_t i = 0; i < scripts_count; i++)
        if (!strcmp(scripts_path[i], path)) return 0; /* named twice: once is enough */
    if (scripts_count == SIS_SCRIPTS_MAX) {
        snprintf(err, errlen, "more than %d scripts directories", SIS_SCRIPTS_MAX);
        return -1;
    }
    memcpy(scripts_path[scripts_count++], path, len + 1);
    return 0;
}

int sis_scripts_path_set(const char *list, char *err, size_t errlen) {
    if (!list) list = getenv("SIS_SCRIPTS");
    scripts_count = 0;
    shipped_index = -1;
    for (const char *p = list ? list : ""; *p;) {
        size_t len = strcspn(p, ":");
        if (len > 0 && add_dir(p, len, err, errlen) != 0) {
            scripts_count = 0;
            return -1;
        }
        p += len + (p[len] == ':');
    }
    char shipped[PATH_MAX];
    if (shipped_scripts(shipped)) {
        size_t i = 0;
        while (i < scripts_count && !same_dir(scripts_path[i], shipped)) i++;
        if (i == scripts_count && scripts_count < SIS_SCRIPTS_MAX)
            snprintf(scripts_path[scripts_count++], PATH_MAX, "%s", shipped);
        if (i < scripts_count) shipped_index = (int)i;
    }
    if (scripts_count == 0) snprintf(scripts_path[scripts_count++], PATH_MAX, "scripts");
    return 0;
}

size_t sis_scripts_count(void) { return scripts_count; }

const char *sis_scripts_at(size_t i) { return i < scripts_count ? scripts_path[i] : NULL; }

const char *sis_scripts_dir(void) { return scripts_path[0]; }

/* Message handler: turn any error value into "message + traceback" (lua.c). */
static int msghandler(lua_State *L) {
    const char *msg = lua_tostring(L, 1);
    if (msg == NULL) {
        if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
            return 1;
        msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    }
    luaL_traceback(L, L, msg, 1);
    return 1;
}

int sis_pcall(lua_State *L, int nargs, int nresults) {
    int base = lua_gettop(L) - nargs;
    lua_pushcfunction(L, msghandler);
    lua_insert(L, base);
    int status = lua_pcall(L, nargs, nresults, base);
    lua_remove(L, base);
    return status;
}

/* Lua work past the request's deadline (request.h) is stopped, but only
 * where the running coroutine could yield: no C function of its own is then
 * between this point and its resume, so nothing C holds (a lock, a curl
 * transfer, a buffer) is abandoned half-way; inside a callback from C the
 * check comes again once back in Lua. The request's coroutine yields and its
 * runner abandons it: no pcall of a handler sees it, so none can swallow it.
 * A script's own coroutine gets an error instead. */
/* VM instructions between two looks at the clock: few, since a loop of long
 * C calls (a parse per page) runs few instructions (the clock read costs
 * under 1 % of the VM's time at this rate) */
enum { DEADLINE_CHECK_EVERY = 1000 };

static void deadline_hook(lua_State *L, lua_Debug *ar) {
    if (sis_request_left() >= 0 || !lua_isyieldable(L)) return;
    if (L != sis_request_thread()) {
        luaL_error(L, "the request ran out of time");
        return;
    }
    if (lua_getinfo(L, "Sl", ar))
        sis_log(SIS_LOG_ERROR, "deadline: the request ran past its time, stopped at %s:%d", ar->short_src,
                ar->currentline);
    lua_yield(L, 0);
}

void sis_state_stop_at_deadline(lua_State *L) {
    lua_sethook(L, deadline_hook, LUA_MASKCOUNT, DEADLINE_CHECK_EVERY);
}

static int sis_info(lua_State *L) {
    lua_newtable(L);
    lua_pushliteral(L, SIS_VERSION);
    lua_setfield(L, -2, "version");
    lua_pushstring(L, scripts_path[0]);
    lua_setfield(L, -2, "scripts_dir");
    lua_createtable(L, (int)scripts_count, 0);
    for (size_t i = 0; i < scripts_count; i++) {
        lua_pushstring(L, scripts_path[i]);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_setfield(L, -2, "scripts_path");
    if (shipped_index >= 0) {
        lua_pushstring(L, scripts_path[shipped_index]);
        lua_setfield(L, -2, "shipped_scripts");
    }
    return 1;
}

/* Runs inside a protected call so that even setup errors are caught. */
static int setup(lua_State *L) {
    luaL_openlibs(L);
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
    for (const luaL_Reg *m = preloads; m->name; m++) {
        lua_pushcfunction(L, m->func);
        lua_setfield(L, -2, m->name);
    }
    lua_pushcfunction(L, sis_info);
    lua_setfield(L, -2, "sis");
    lua_pop(L, 1);

    lua_getglobal(L, "package");
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (size_t i = 0; i < scripts_count; i++) {
        const char *d = scripts_path[i];
        lua_pushfstring(L, "%s/?.lua;%s/?/init.lua;", d, d);
        luaL_addvalue(&b);
    }
    lua_getfield(L, -2, "path");
    luaL_addvalue(&b);
    luaL_pushresult(&b);
    lua_setfield(L, -2, "path");
    lua_pop(L, 1);
    return 0;
}

lua_State *sis_state_new(const sis_options *opt) {
    if (!scripts_count || (opt && opt->scripts_dir)) {
        char err[PATH_MAX + 64];
        if (sis_scripts_path_set(opt ? opt->scripts_dir : NULL, err, sizeof err) != 0) {
            fprintf(stderr, "sis: %s\n", err);
            return NULL;
        }
    }
    lua_State *L = luaL_newstate();
    if (!L) return NULL;
    lua_pushcfunction(L, setup);
    if (sis_pcall(L, 0, 0) != LUA_OK) {
        fprintf(stderr, "sis: cannot set up Lua: %s\n", lua_tostring(L, -1));
        lua_close(L);
        return NULL;
    }
    return L;
}

/* Protected: sets `arg`, loads the script and pushes it with its arguments
 * (so that even a memory error here is reported, not a panic). */
static int load_script(lua_State *L) {
    const char *path = lua_touserdata(L, 1);
    int argc = (int)lua_tointeger(L, 2);
    char **argv = lua_touserdata(L, 3);
    lua_settop(L, 0);
    lua_createtable(L, argc, 1);
    lua_pushstring(L, path);
    lua_rawseti(L, -2, 0);
    for (int i = 0; i < argc; i++) {
        lua_pushstring(L, argv[i]);
        lua_rawseti(L, -2, i + 1);
    }
    lua_setglobal(L, "arg");
    if (luaL_loadfile(L, strcmp(path, "-") ? path : NULL) != LUA_OK) return lua_error(L); /* "-": stdin, as lua */
    luaL_checkstack(L, argc, "too many script arguments");
    for (int i = 0; i < argc; i++) lua_pushstring(L, argv[i]);
    return argc + 1;
}

int sis_run_file(lua_State *L, const char *path, int argc, char **argv) {
    lua_pushcfunction(L, load_script);
    lua_pushlightuserdata(L, (void *)path);
    lua_pushinteger(L, argc);
    lua_pushlightuserdata(L, argv);
    int status = lua_pcall(L, 3, LUA_MULTRET, 0);
    if (status == LUA_OK) status = sis_pcall(L, argc, 0);
    if (status != LUA_OK) {
        fprintf(stderr, "sis: %s\n", lua_tostring(L, -1));
        lua_pop(L, 1);
        return 1;
    }
    return 0;
}
