/* sis.sqlite: a thin binding of SQLite (Debian's libsqlite3) for the watch
 * store. Lua writes the schema and the queries; C prepares them once per
 * connection (a small cache keyed by the SQL text), binds the arguments,
 * steps, and hands rows back as tables.
 *
 *   local db = sqlite.open(path [, {busy_timeout = ms}])   -> db | nil, err
 *   db:exec(sql)              several statements, no arguments (the schema)
 *   db:run(sql, ...)          one statement -> changes, last_insert_rowid | nil, err, kind
 *   db:rows(sql, ...)         -> array of rows {column = value} | nil, err, kind
 *   db:row(sql, ...)          -> the first row or false | nil, err, kind
 *   db:close()                also __close and __gc; closing twice is fine
 *
 * Arguments: nil -> NULL, booleans -> 0/1, integers, floats, strings (text).
 * Columns: INTEGER -> integer, REAL -> float, TEXT/BLOB -> string, NULL ->
 * absent from the row. SQL that does not compile raises (a programmer
 * error); a failure while running (busy past the timeout, a constraint, a
 * full disk) is nil, "sqlite: msg", kind with kind "busy", "constraint" or
 * "other". A new database file is created 0600: it holds sealed secrets. */
#include "sis.h"

#include <lauxlib.h>
#include <sqlite3.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DB_MT "sis.sqlite.db"
#define CACHE_SIZE 64

typedef struct {
    char *sql;
    sqlite3_stmt *stmt;
} cached;

typedef struct {
    sqlite3 *db;
    cached cache[CACHE_SIZE];
    int next; /* the slot replaced when the cache is full */
} db_ud;

static db_ud *check_db(lua_State *L) {
    db_ud *d = luaL_checkudata(L, 1, DB_MT);
    if (!d->db) luaL_error(L, "sqlite: database is closed");
    return d;
}

static void close_db(db_ud *d) {
    if (!d->db) return;
    for (int i = 0; i < CACHE_SIZE; i++) {
        if (d->cache[i].stmt) sqlite3_finalize(d->cache[i].stmt);
        free(d->cache[i].sql);
        d->cache[i].stmt = NULL;
        d->cache[i].sql = NULL;
    }
    sqlite3_close_v2(d->db);
    d->db = NULL;
}

static int l_open(lua_State *L) {
    const char *path = luaL_checkstring(L, 1);
    int busy = 5000;
    if (!lua_isnoneornil(L, 2)) {
        luaL_checktype(L, 2, LUA_TTABLE);
        lua_getfield(L, 2, "busy_timeout");
        if (!lua_isnil(L, -1)) busy = (int)luaL_checkinteger(L, -1);
        lua_pop(L, 1);
    }
    db_ud *d = lua_newuserdatauv(L, sizeof *d, 0);
    memset(d, 0, sizeof *d);
    luaL_setmetatable(L, DB_MT);
    if (strcmp(path, ":memory:") != 0) { /* created private, before SQLite creates it 0644 */
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd >= 0) close(fd);
        else if (errno != EEXIST) {
            luaL_pushfail(L);
            lua_pushfstring(L, "sqlite: cannot create %s: %s", path, strerror(errno));
            return 2;
        }
    }
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        luaL_pushfail(L);
        lua_pushfstring(L, "sqlite: cannot open %s: %s", path, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        sqlite3_close_v2(db);
        return 2;
    }
    sqlite3_busy_timeout(db, busy);
    sqlite3_extended_result_codes(db, 0);
    d->db = db;
    return 1;
}

static int fail(lua_State *L, sqlite3 *db, int rc) {
    luaL_pushfail(L);
    lua_pushfstring(L, "sqlite: %s", sqlite3_errmsg(db));
    lua_pushstring(L, rc == SQLITE_BUSY || rc == SQLITE_LOCKED ? "busy"
                      : rc == SQLITE_CONSTRAINT                ? "constraint"
                                                               : "other");
    return 3;
}

/* The prepared statement for sql, from the cache or compiled now (raises
 * when it does not compile), reset with its bindings cleared. */
static sqlite3_stmt *statement(lua_State *L, db_ud *d, const char *sql) {
    for (int i = 0; i < CACHE_SIZE; i++) {
        if (d->cache[i].sql && !strcmp(d->cache[i].sql, sql)) {
            sqlite3_reset(d->cache[i].stmt);
            sqlite3_clear_bindings(d->cache[i].stmt);
            return d->cache[i].stmt;
        }
    }
    sqlite3_stmt *st = NULL;
    const char *tail = NULL;
    if (sqlite3_prepare_v3(d->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, &tail) != SQLITE_OK)
        luaL_error(L, "sqlite: %s in: %s", sqlite3_errmsg(d->db), sql);
    if (!st) luaL_error(L, "sqlite: no statement in: %s", sql);
    while (tail && (*tail == ' ' || *tail == '\n' || *tail == '\t' || *tail == ';')) tail++;
    if (tail && *tail) {
        sqlite3_finalize(st);
        luaL_error(L, "sqlite: one statement at a time (db:exec runs several): %s", sql);
    }
    char *copy = strdup(sql);
    if (!copy) {
        sqlite3_finalize(st);
        luaL_error(L, "sqlite: out of memory");
    }
    cached *slot = &d->cache[d->next];
    d->next = (d->next + 1) % CACHE_SIZE;
    if (slot->stmt) sqlite3_finalize(slot->stmt);
    free(slot->sql);
    slot->sql = copy;
    slot->stmt = st;
    return st;
}

/* Binds the Lua arguments from index first on; raises on a bad type. */
static void bind_args(lua_State *L, sqlite3_stmt *st, int first) {
    int n = lua_gettop(L) - first + 1;
    if (n != sqlite3_bind_parameter_count(st)) {
        sqlite3_reset(st);
        luaL_error(L, "sqlite: %d arguments for %d parameters in: %s", n,
                   sqlite3_bind_parameter_count(st), sqlite3_sql(st));
    }
    for (int i = 0; i < n; i++) {
        int idx = first + i, rc;
        switch (lua_type(L, idx)) {
        case LUA_TNIL: rc = sqlite3_bind_null(st, i + 1); break;
        case LUA_TBOOLEAN: rc = sqlite3_bind_int(st, i + 1, lua_toboolean(L, idx)); break;
        case LUA_TNUMBER:
            rc = lua_isinteger(L, idx) ? sqlite3_bind_int64(st, i + 1, lua_tointeger(L, idx))
                                       : sqlite3_bind_double(st, i + 1, lua_tonumber(L, idx));
            break;
        case LUA_TSTRING: {
            size_t len;
            const char *s = lua_tolstring(L, idx, &len);
            rc = sqlite3_bind_text64(st, i + 1, s, len, SQLITE_TRANSIENT, SQLITE_UTF8);
            break;
        }
        default:
            sqlite3_reset(st);
            luaL_error(L, "sqlite: cannot bind a %s (argument %d)", luaL_typename(L, idx), i + 1);
            return;
        }
        if (rc != SQLITE_OK) luaL_error(L, "sqlite: bind failed: %s", sqlite3_errstr(rc));
    }
}

static void push_row(lua_State *L, sqlite3_stmt *st) {
    int n = sqlite3_column_count(st);
    lua_createtable(L, 0, n);
    for (int i = 0; i < n; i++) {
        switch (sqlite3_column_type(st, i)) {
        case SQLITE_INTEGER: lua_pushinteger(L, sqlite3_column_int64(st, i)); break;
        case SQLITE_FLOAT: lua_pushnumber(L, sqlite3_column_double(st, i)); break;
        case SQLITE_NULL: continue;
        default: {
            const void *p = sqlite3_column_blob(st, i);
            lua_pushlstring(L, p ? p : "", (size_t)sqlite3_column_bytes(st, i));
        }
        }
        lua_setfield(L, -2, sqlite3_column_name(st, i));
    }
}

/* Steps st to its end, collecting up to `max` rows into a new table. */
static int collect(lua_State *L, db_ud *d, sqlite3_stmt *st, lua_Integer max) {
    lua_newtable(L);
    lua_Integer n = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n < max) {
            push_row(L, st);
            lua_rawseti(L, -2, ++n);
        }
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) return fail(L, d->db, rc);
    return 1;
}

static int l_rows(lua_State *L) {
    db_ud *d = check_db(L);
    sqlite3_stmt *st = statement(L, d, luaL_checkstring(L, 2));
    bind_args(L, st, 3);
    return collect(L, d, st, LUA_MAXINTEGER);
}

static int l_row(lua_State *L) {
    db_ud *d = check_db(L);
    sqlite3_stmt *st = statement(L, d, luaL_checkstring(L, 2));
    bind_args(L, st, 3);
    int r = collect(L, d, st, 1);
    if (r != 1) return r;
    if (lua_rawgeti(L, -1, 1) == LUA_TNIL) lua_pushboolean(L, 0);
    return 1;
}

static int l_run(lua_State *L) {
    db_ud *d = check_db(L);
    sqlite3_stmt *st = statement(L, d, luaL_checkstring(L, 2));
    bind_args(L, st, 3);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) continue;
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) return fail(L, d->db, rc);
    lua_pushinteger(L, sqlite3_changes64(d->db));
    lua_pushinteger(L, sqlite3_last_insert_rowid(d->db));
    return 2;
}

static int l_exec(lua_State *L) {
    db_ud *d = check_db(L);
    const char *sql = luaL_checkstring(L, 2);
    char *err = NULL;
    int rc = sqlite3_exec(d->db, sql, NULL, NULL, &err);
    if (rc != SQLITE_OK) {
        luaL_pushfail(L);
        lua_pushfstring(L, "sqlite: %s", err ? err : sqlite3_errstr(rc));
        sqlite3_free(err);
        lua_pushstring(L, rc == SQLITE_BUSY ? "busy" : rc == SQLITE_CONSTRAINT ? "constraint" : "other");
        return 3;
    }
    lua_pushboolean(L, 1);
    return 1;
}

static int l_close(lua_State *L) {
    close_db(luaL_checkudata(L, 1, DB_MT));
    return 0;
}

static int l_tostring(lua_State *L) {
    db_ud *d = luaL_checkudata(L, 1, DB_MT);
    if (d->db) lua_pushfstring(L, "sis.sqlite.db (%s)", sqlite3_db_filename(d->db, "main"));
    else lua_pushliteral(L, "sis.sqlite.db (closed)");
    return 1;
}

static const luaL_Reg db_methods[] = {
    {"exec", l_exec}, {"run", l_run}, {"rows", l_rows}, {"row", l_row}, {"close", l_close},
    {NULL, NULL},
};

int luaopen_sis_sqlite(lua_State *L) {
    if (luaL_newmetatable(L, DB_MT)) {
        luaL_newlib(L, db_methods);
        lua_setfield(L, -2, "__index");
        lua_pushcfunction(L, l_close);
        lua_setfield(L, -2, "__gc");
        lua_pushcfunction(L, l_close);
        lua_setfield(L, -2, "__close");
        lua_pushcfunction(L, l_tostring);
        lua_setfield(L, -2, "__tostring");
    }
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushcfunction(L, l_open);
    lua_setfield(L, -2, "open");
    lua_pushstring(L, sqlite3_libversion());
    lua_setfield(L, -2, "version");
    return 1;
}
