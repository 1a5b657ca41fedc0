/* The host: builds Lua states with every sis module preloaded and runs Lua
 * code only through protected calls with a traceback. */
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
    {"sis.codec", luaopen_sis_codec}, {"sis.sqlite", luaopen_sis_sqlite},
    {"sis.crypto", luaopen_sis_crypto}, {"cjson", luaopen_cjson},
    {"cjson.safe", luaopen_cjson_safe}, {NULL, NULL},
};

static char scripts_dir[PATH_MAX];

static int is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The scripts that belong to this binary: next to it (in-tree build/sis ->
 * ../scripts) or installed under ../share/sis/scripts. */
static void resolve_scripts_dir(const char *wanted) {
    if (!wanted) wanted = getenv("SIS_SCRIPTS");
    if (wanted && *wanted) {
        snprintf(scripts_dir, sizeof scripts_dir, "%s", wanted);
        return;
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) *slash = '\0';
        static const char *const candidates[] = {"%s/scripts", "%s/../scripts",
                                                 "%s/../share/sis/scripts"};
        for (size_t i = 0; i < sizeof candidates / sizeof *candidates; i++) {
            char path[PATH_MAX];
            snprintf(path, sizeof path, candidates[i], exe);
            if (is_dir(path) && realpath(path, scripts_dir)) return;
        }
    }
    snprintf(scripts_dir, sizeof scripts_dir, "scripts");
}

const char *sis_scripts_dir(void) { return scripts_dir; }

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

static int sis_info(lua_State *L) {
    lua_newtable(L);
    lua_pushliteral(L, SIS_VERSION);
    lua_setfield(L, -2, "version");
    lua_pushstring(L, scripts_dir);
    lua_setfield(L, -2, "scripts_dir");
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
    lua_pushfstring(L, "%s/?.lua;%s/?/init.lua;", scripts_dir, scripts_dir);
    lua_getfield(L, -2, "path");
    lua_concat(L, 2);
    lua_setfield(L, -2, "path");
    lua_pop(L, 1);
    return 0;
}

lua_State *sis_state_new(const sis_options *opt) {
    if (!scripts_dir[0] || (opt && opt->scripts_dir)) resolve_scripts_dir(opt ? opt->scripts_dir : NULL);
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
    if (luaL_loadfile(L, path) != LUA_OK) return lua_error(L);
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
