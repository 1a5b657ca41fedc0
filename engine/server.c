/* The REST front: civetweb accepts, this file dispatches and writes, Lua
 * decides. Every request goes to one Lua function, the one scripts/server/
 * app.lua returns, called with a plain `req` table; it answers with a status,
 * the header lines and the body, which are written in one write.
 *
 * Threads: civetweb's workers each own a lua_State (built lazily on the first
 * request, rebuilt when a file under the scripts directory changed or the
 * scripts path came to name another directory: either bumps a generation
 * number). Sessions live in one C store shared by all
 * workers (sessions.c); the front reaches it through the "sis.server" module,
 * which exists only in these worker states.
 *
 * Ownership: a worker's state and session holder belong to its thread; the
 * server struct is read-only after start-up except for the generation and the
 * store, which have their own locks. */
#include "log.h"
#include "sessions.h"
#include "sis.h"

#include <civetweb.h>
#include <lauxlib.h>
#include <zlib.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_THREADS 16
#define DEFAULT_MAX_BODY (1 << 20)
#define DEFAULT_SESSION_IDLE 1200.0
#define DEFAULT_MAX_SESSIONS 10000
#define GC_PAUSE 150   /* see new_front_state */
#define GC_STEPMUL 300

typedef struct server {
    sis_sessions *sessions;
    size_t max_body;
    pthread_mutex_t reload_lock;
    int inotify;               /* -1: no hot reload */
    struct watched {           /* each directory of the scripts path */
        const char *path;
        int parent_watch;      /* the watch on the directory holding it */
        dev_t dev;             /* the directory the path names */
        ino_t ino;
    } scripts[SIS_SCRIPTS_MAX];
    size_t nscripts;
    unsigned long generation;  /* bumped when a script changes */
    unsigned long announced;   /* last generation whose routes were logged, + 1 */
} server;

typedef struct worker {
    server *srv;
    lua_State *L;
    unsigned long generation;
    sis_session_holder holder; /* sessions held by the request being served */
} worker;

static char front_key; /* registry: the front's request function */

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* ---------- hot reload: inotify on every directory under the scripts dir */

static void watch_tree(int fd, const char *dir, int depth) {
    const uint32_t mask = IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_CREATE | IN_DELETE |
                          IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF;
    if (inotify_add_watch(fd, dir, mask) < 0 || depth > 8) return;
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        char path[PATH_MAX];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) watch_tree(fd, path, depth + 1);
    }
    closedir(d);
}

/* Watches each scripts tree of the path, and the directory holding it: a
 * deploy that swaps a symlink there (current -> releases/N) changes no file
 * of the tree, only that directory. */
static void watch_scripts(server *s) {
    for (size_t i = 0; i < s->nscripts; i++) {
        struct watched *w = &s->scripts[i];
        char parent[PATH_MAX];
        snprintf(parent, sizeof parent, "%s", w->path);
        size_t n = strlen(parent);
        while (n > 1 && parent[n - 1] == '/') parent[--n] = '\0';
        char *slash = strrchr(parent, '/');
        if (slash) slash[slash == parent] = '\0'; /* "/srv/current" -> "/srv", "/current" -> "/" */
        w->parent_watch = inotify_add_watch(s->inotify, slash ? parent : ".", IN_CREATE | IN_DELETE | IN_MOVED_TO);
        watch_tree(s->inotify, w->path, 0);
    }
}

static int is_parent_watch(const server *s, int wd) {
    for (size_t i = 0; i < s->nscripts; i++)
        if (s->scripts[i].parent_watch == wd) return 1;
    return 0;
}

/* Whether a directory of the scripts path names another one than before. */
static int scripts_swapped(server *s) {
    int swapped = 0;
    for (size_t i = 0; i < s->nscripts; i++) {
        struct watched *w = &s->scripts[i];
        struct stat st;
        if (stat(w->path, &st) != 0) continue; /* gone for a moment mid-swap: keep what runs */
        if (st.st_dev != w->dev || st.st_ino != w->ino) swapped = 1;
        w->dev = st.st_dev;
        w->ino = st.st_ino;
    }
    return swapped;
}

/* The current scripts generation; also tells (*announce) whether the caller
 * is the first to build a state for it, so route problems are logged once. */
static unsigned long current_generation(server *s, int *announce) {
    pthread_mutex_lock(&s->reload_lock);
    int changed = 0, beside = 0; /* in the tree; beside it, in its parent */
    if (s->inotify >= 0) {
        char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
        ssize_t n;
        while ((n = read(s->inotify, buf, sizeof buf)) > 0) {
            for (char *p = buf; p < buf + n;) {
                const struct inotify_event *e = (const struct inotify_event *)p;
                if (is_parent_watch(s, e->wd)) beside = 1;
                else changed = 1;
                p += sizeof *e + e->len;
            }
        }
    }
    if (beside && scripts_swapped(s)) { /* a fresh instance: the old tree's watches go */
        close(s->inotify);
        s->inotify = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        changed = 1;
    }
    if (changed) {
        s->generation++;
        if (s->inotify >= 0) watch_scripts(s); /* new subdirectories */
    }
    unsigned long g = s->generation;
    if (announce) {
        *announce = s->announced != g + 1;
        s->announced = g + 1;
    }
    pthread_mutex_unlock(&s->reload_lock);
    return g;
}

/* ---------- the sis.server module (worker states only) */

static worker *upworker(lua_State *L) { return lua_touserdata(L, lua_upvalueindex(1)); }

static const char *check_ns(lua_State *L, int arg) {
    size_t n;
    const char *ns = luaL_checklstring(L, arg, &n);
    luaL_argcheck(L, n > 0 && n < SIS_SESSION_NS_MAX, arg, "bad session namespace");
    return ns;
}

/* session_open(ns, id) -> state string | nil (unknown, ended or expired) */
static int l_session_open(lua_State *L) {
    worker *w = upworker(L);
    const char *ns = check_ns(L, 1), *id = luaL_checkstring(L, 2), *state;
    size_t len;
    int rc = sis_sessions_open(w->srv->sessions, &w->holder, ns, id, &state, &len);
    if (rc < 0) return luaL_error(L, "too many sessions in one request");
    if (rc == 0) lua_pushnil(L);
    else lua_pushlstring(L, state, len);
    return 1;
}

/* session_create(ns, state) -> id | nil, err */
static int l_session_create(lua_State *L) {
    worker *w = upworker(L);
    size_t len;
    const char *ns = check_ns(L, 1), *state = luaL_checklstring(L, 2, &len);
    char id[SIS_SESSION_ID_LEN + 1];
    if (sis_sessions_create(w->srv->sessions, &w->holder, ns, state, len, id) != 0) {
        lua_pushnil(L);
        lua_pushliteral(L, "session store full");
        return 2;
    }
    lua_pushstring(L, id);
    return 1;
}

/* session_save(ns, id, state): the session must be held by this request */
static int l_session_save(lua_State *L) {
    worker *w = upworker(L);
    size_t len;
    const char *ns = check_ns(L, 1), *id = luaL_checkstring(L, 2);
    const char *state = luaL_checklstring(L, 3, &len);
    if (sis_sessions_save(w->srv->sessions, &w->holder, ns, id, state, len) != 0)
        return luaL_error(L, "session %s is not held by this request", ns);
    return 0;
}

/* session_destroy(ns, id): wipes a session held by this request */
static int l_session_destroy(lua_State *L) {
    worker *w = upworker(L);
    const char *ns = check_ns(L, 1), *id = luaL_checkstring(L, 2);
    if (sis_sessions_destroy(w->srv->sessions, &w->holder, ns, id) != 0)
        return luaL_error(L, "session %s is not held by this request", ns);
    return 0;
}

/* gzip(s) -> s compressed in the gzip format */
static int l_gzip(lua_State *L) {
    size_t len;
    const char *in = luaL_checklstring(L, 1, &len);
    luaL_argcheck(L, len < (1u << 30), 1, "too large to compress");
    /* a userdata as the output buffer: freed by the GC even if Lua raises;
     * allocated first, so a memory error cannot strand zlib's state. The
     * bound is zlib's plus the gzip wrapper's 18 bytes (for its 6). */
    uLong cap = compressBound((uLong)len) + 12;
    unsigned char *out = lua_newuserdatauv(L, cap, 0);
    z_stream z = {0};
    if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return luaL_error(L, "gzip: cannot initialise zlib");
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)len;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    int rc = deflate(&z, Z_FINISH);
    size_t n = cap - z.avail_out;
    deflateEnd(&z);
    if (rc != Z_STREAM_END) return luaL_error(L, "gzip: deflate failed (%d)", rc);
    lua_pushlstring(L, (const char *)out, n);
    return 1;
}

static const luaL_Reg server_funcs[] = {
    {"session_open", l_session_open},       {"session_create", l_session_create},
    {"session_save", l_session_save},       {"session_destroy", l_session_destroy},
    {"gzip", l_gzip},                       {NULL, NULL},
};

/* require "sis.server": upvalue 1 = the worker, upvalue 2 = announce flag */
static int luaopen_sis_server(lua_State *L) {
    luaL_newlibtable(L, server_funcs);
    lua_pushvalue(L, lua_upvalueindex(1));
    luaL_setfuncs(L, server_funcs, 1);
    lua_pushboolean(L, lua_toboolean(L, lua_upvalueindex(2)));
    lua_setfield(L, -2, "announce");
    return 1;
}

/* Protected: installs sis.server and loads the front. [-2, +0, e] */
static int load_front(lua_State *L) {
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
    lua_pushvalue(L, 1); /* worker */
    lua_pushvalue(L, 2); /* announce */
    lua_pushcclosure(L, luaopen_sis_server, 2);
    lua_setfield(L, -2, "sis.server");
    lua_getglobal(L, "require");
    lua_pushliteral(L, "server.app");
    lua_call(L, 1, 1);
    if (!lua_isfunction(L, -1)) return luaL_error(L, "server/app.lua must return a function");
    lua_rawsetp(L, LUA_REGISTRYINDEX, &front_key);
    return 0;
}

/* A fresh state with the front loaded, or NULL (the reason is logged). */
static lua_State *new_front_state(worker *w, const sis_options *host, int announce) {
    lua_State *L = sis_state_new(host);
    if (!L) return NULL;
    /* Lua's default pause (200: a new cycle when the heap has doubled) let
     * each worker's heap and the C memory behind its garbage (curl handles,
     * parsed pages) grow to 52 MB of RSS over 16 workers; 150 keeps it at 27
     * MB for no measurable CPU cost (a GC step per request costs 2.5x). */
    lua_gc(L, LUA_GCINC, GC_PAUSE, GC_STEPMUL, 0);
    lua_pushcfunction(L, load_front);
    lua_pushlightuserdata(L, w);
    lua_pushboolean(L, announce);
    if (sis_pcall(L, 2, 0) != LUA_OK) {
        sis_log(SIS_LOG_ERROR, "serve: cannot load the front (server/app.lua): %s",
                lua_tostring(L, -1));
        lua_close(L);
        return NULL;
    }
    return L;
}

/* The worker's state for the current scripts generation. */
static lua_State *worker_state(worker *w) {
    int announce;
    unsigned long g = current_generation(w->srv, &announce);
    if (w->L && w->generation == g) return w->L;
    if (w->L) {
        if (announce) sis_log(SIS_LOG_INFO, "serve: scripts changed, reloading");
        lua_close(w->L);
    }
    w->L = new_front_state(w, NULL, announce);
    w->generation = g;
    return w->L;
}

/* ---------- requests */

/* Writes {"error": "msg"} into out (the errors C answers by itself). */
static int json_error(char *out, size_t cap, const char *msg) {
    size_t n = (size_t)snprintf(out, cap, "{\"error\": \"");
    for (const char *p = msg; *p && n + 8 < cap; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '"' || c == '\\') n += (size_t)snprintf(out + n, cap - n, "\\%c", c);
        else if (c < 0x20) n += (size_t)snprintf(out + n, cap - n, "\\u%04x", c);
        else out[n++] = (char)c;
    }
    n += (size_t)snprintf(out + n, cap - n, "\"}");
    return (int)n;
}

/* Whether civetweb will keep the connection open after this request (its own
 * rule: a Connection header must list keep-alive, else HTTP/1.1). */
static int keeps_alive(const struct mg_connection *conn) {
    const char *c = mg_get_header(conn, "Connection");
    if (c) return strcasestr(c, "keep-alive") != NULL;
    const char *v = mg_get_request_info(conn)->http_version;
    return v && !strcmp(v, "1.1");
}

/* Status line + head + framing headers + body in one buffer, one write. */
static void write_response(struct mg_connection *conn, int status, const char *head,
                           size_t head_len, const char *body, size_t body_len, int close) {
    const struct mg_request_info *ri = mg_get_request_info(conn);
    int bodiless = status < 200 || status == 204 || status == 304; /* no body, no Content-Length */
    int send_body = !bodiless && (!ri->request_method || strcmp(ri->request_method, "HEAD"));
    char top[160], tail[96];
    int tn = snprintf(top, sizeof top, "HTTP/1.1 %d %s\r\n", status,
                      mg_get_response_code_text(conn, status));
    int fn = 0;
    if (!bodiless) fn = snprintf(tail, sizeof tail, "Content-Length: %zu\r\n", body_len);
    fn += snprintf(tail + fn, sizeof tail - (size_t)fn, "Connection: %s\r\n\r\n",
                   close || !keeps_alive(conn) ? "close" : "keep-alive");
    size_t total = (size_t)tn + head_len + (size_t)fn + (send_body ? body_len : 0);
    char *buf = malloc(total);
    if (!buf) return;
    char *p = buf;
    memcpy(p, top, (size_t)tn), p += tn;
    memcpy(p, head, head_len), p += head_len;
    memcpy(p, tail, (size_t)fn), p += fn;
    if (send_body) memcpy(p, body, body_len);
    mg_write(conn, buf, total);
    free(buf);
}

/* close: the request's body was not read to its end. civetweb would then read
 * and discard the rest before the next request, as much as the client sends
 * (100 GB declared: 100 GB read, or 30 s waiting for bytes that never come),
 * holding the worker; a connection it must close is closed at once. */
static void send_error(struct mg_connection *conn, int status, const char *msg, int close) {
    static const char head[] = "Content-Type: application/json\r\n";
    char body[512];
    int n = json_error(body, sizeof body, msg);
    if (close) mg_disable_connection_keep_alive(conn);
    write_response(conn, status, head, sizeof head - 1, body, (size_t)n, close);
}

/* Reads the whole body into a malloc'ed buffer; NULL with *refused set to the
 * status to answer when it is over max (413) or ends before its end (400: the
 * client stopped sending, or a chunk is malformed), NULL alone when memory ran
 * out. Chunked bodies have no length up front, so the cap is also enforced
 * while reading. */
static char *read_body(struct mg_connection *conn, size_t max, size_t *len, int *refused) {
    long long declared = mg_get_request_info(conn)->content_length;
    *len = 0;
    *refused = declared > (long long)max ? 413 : 0;
    if (*refused) return NULL;
    const char *expect = mg_get_header(conn, "Expect");
    if (expect && !strcasecmp(expect, "100-continue")) /* civetweb leaves this to us */
        mg_write(conn, "HTTP/1.1 100 Continue\r\n\r\n", 25);
    size_t cap = declared > 0 ? (size_t)declared + 1 : 4096;
    char *buf = malloc(cap);
    while (buf) {
        if (*len == cap) {
            if (cap > max) { /* over the cap: stop reading */
                free(buf);
                *refused = 413;
                return NULL;
            }
            size_t next = cap * 2 > max + 1 ? max + 1 : cap * 2;
            char *bigger = realloc(buf, next);
            if (!bigger) break;
            buf = bigger;
            cap = next;
        }
        int n = mg_read(conn, buf + *len, cap - *len);
        if (n < 0 || (n == 0 && declared > 0 && *len < (size_t)declared)) {
            free(buf);
            *refused = 400;
            return NULL;
        }
        if (n == 0) return buf;
        *len += (size_t)n;
    }
    free(buf);
    return NULL;
}

/* Lengths a proxy in front could read otherwise than civetweb, which takes the
 * chunked body over a Content-Length and the first of two Content-Lengths:
 * what the proxy forwards as one body would here end early and its rest run
 * as a second request (request smuggling). RFC 9112 6.3 allows refusing. */
static int ambiguous_length(const struct mg_request_info *ri) {
    const char *length = NULL;
    int chunked = 0;
    for (int i = 0; i < ri->num_headers; i++) {
        const char *name = ri->http_headers[i].name, *value = ri->http_headers[i].value;
        if (!strcasecmp(name, "Transfer-Encoding")) {
            chunked = 1;
        } else if (!strcasecmp(name, "Content-Length")) {
            if (length && strcmp(length, value)) return 1;
            length = value;
        }
    }
    return chunked && length;
}

static void push_headers(lua_State *L, const struct mg_request_info *ri) {
    lua_createtable(L, 0, ri->num_headers);
    for (int i = 0; i < ri->num_headers; i++) {
        char name[128];
        size_t n = 0;
        for (const char *p = ri->http_headers[i].name; *p && n < sizeof name - 1; p++)
            name[n++] = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
        lua_pushlstring(L, name, n);
        lua_pushvalue(L, -1);
        if (lua_rawget(L, -3) == LUA_TSTRING) { /* repeated header: join */
            lua_pushstring(L, strcmp(name, "cookie") ? ", " : "; ");
            lua_pushstring(L, ri->http_headers[i].value);
            lua_concat(L, 3);
        } else {
            lua_pop(L, 1);
            lua_pushstring(L, ri->http_headers[i].value);
        }
        lua_rawset(L, -3);
    }
}

static void set_string(lua_State *L, const char *key, const char *value) {
    lua_pushstring(L, value ? value : "");
    lua_setfield(L, -2, key);
}

/* Protected: builds req and calls the front. [-3, +3, e]
 * args: conn, body (light userdata), body length */
static int call_front(lua_State *L) {
    const struct mg_connection *conn = lua_touserdata(L, 1);
    const char *body = lua_touserdata(L, 2);
    size_t body_len = (size_t)lua_tointeger(L, 3);
    const struct mg_request_info *ri = mg_get_request_info(conn);
    lua_rawgetp(L, LUA_REGISTRYINDEX, &front_key);
    lua_createtable(L, 0, 8);
    set_string(L, "method", ri->request_method);
    set_string(L, "path", ri->local_uri_raw ? ri->local_uri_raw : ri->local_uri);
    set_string(L, "query_string", ri->query_string);
    set_string(L, "http_version", ri->http_version);
    set_string(L, "remote_addr", ri->remote_addr);
    push_headers(L, ri);
    lua_setfield(L, -2, "headers");
    lua_pushlstring(L, body ? body : "", body_len);
    lua_setfield(L, -2, "body");
    lua_call(L, 1, 3);
    luaL_checkinteger(L, -3);
    luaL_checktype(L, -2, LUA_TSTRING);
    luaL_checktype(L, -1, LUA_TSTRING);
    return 3;
}

/* Runs the front for one request and writes its answer; returns the status. */
static int dispatch(worker *w, struct mg_connection *conn, const char *body, size_t len) {
    lua_State *L = worker_state(w);
    if (!L) {
        send_error(conn, 500, "internal error", 0);
        return 500;
    }
    lua_pushcfunction(L, call_front);
    lua_pushlightuserdata(L, conn);
    lua_pushlightuserdata(L, (void *)body);
    lua_pushinteger(L, (lua_Integer)len);
    int rc = sis_pcall(L, 3, 3);
    sis_sessions_release_all(w->srv->sessions, &w->holder);
    int status = 500;
    if (rc != LUA_OK) {
        sis_log(SIS_LOG_ERROR, "serve: the front failed: %s", lua_tostring(L, -1));
        send_error(conn, 500, "internal error", 0);
    } else {
        status = (int)lua_tointeger(L, -3);
        size_t hl, bl;
        const char *head = lua_tolstring(L, -2, &hl), *out = lua_tolstring(L, -1, &bl);
        if (status < 100 || status > 599) {
            sis_log(SIS_LOG_ERROR, "serve: the front returned status %d", status);
            send_error(conn, status = 500, "internal error", 0);
        } else {
            write_response(conn, status, head, hl, out, bl, 0);
        }
    }
    lua_settop(L, 0);
    return status;
}

static int on_request(struct mg_connection *conn) {
    double t0 = now_ms();
    worker *w = mg_get_thread_pointer(conn);
    const struct mg_request_info *ri = mg_get_request_info(conn);
    size_t len = 0;
    int refused = 0, status, ambiguous = ambiguous_length(ri);
    char *body = w && !ambiguous ? read_body(conn, w->srv->max_body, &len, &refused) : NULL;
    if (ambiguous) {
        send_error(conn, status = 400, "ambiguous request body length", 1);
    } else if (refused == 413) {
        char msg[96];
        snprintf(msg, sizeof msg, "request body too large (limit %zu bytes)", w->srv->max_body);
        send_error(conn, status = 413, msg, 1);
    } else if (refused) {
        send_error(conn, status = 400, "request body incomplete", 1);
    } else if (!body) {
        send_error(conn, status = 500, "internal error", 1);
    } else {
        status = dispatch(w, conn, body, len);
    }
    free(body);
    sis_log(SIS_LOG_INFO, "%s %s %d %.1f ms", ri->request_method,
            ri->local_uri_raw ? ri->local_uri_raw : "-", status, now_ms() - t0);
    return status;
}

/* civetweb's own errors (malformed request, header too large): JSON too. */
static int on_http_error(struct mg_connection *conn, int status, const char *msg) {
    send_error(conn, status, msg && *msg ? msg : mg_get_response_code_text(conn, status), 1);
    sis_log(SIS_LOG_INFO, "- - %d (%s)", status, msg ? msg : "");
    return 0;
}

static int on_log_message(const struct mg_connection *conn, const char *msg) {
    (void)conn;
    sis_log(SIS_LOG_WARN, "civetweb: %s", msg);
    return 1;
}

static void *on_thread_start(const struct mg_context *ctx, int type) {
    if (type != 1) return NULL; /* 0: master, 2: timer */
    worker *w = calloc(1, sizeof *w);
    if (w) w->srv = mg_get_user_data(ctx);
    return w;
}

static void on_thread_exit(const struct mg_context *ctx, int type, void *p) {
    (void)ctx, (void)type;
    worker *w = p;
    if (!w) return;
    if (w->L) lua_close(w->L);
    free(w);
}

/* ---------- start and stop */

static double env_number(const char *name, double fallback) {
    const char *v = getenv(name);
    char *end;
    double d = v ? strtod(v, &end) : 0;
    return v && *v && !*end && d > 0 ? d : fallback;
}

/* A count or size from the environment. Converting a double beyond size_t is
 * undefined (SIS_MAX_BODY=1e20 came out as 0: every body refused); 2^50
 * is as good as no limit and leaves room for the + 1s. */
static size_t env_size(const char *name, double fallback) {
    double d = env_number(name, fallback);
    return d < 0x1p50 ? (size_t)d : (size_t)1 << 50;
}

static int write_port_file(const char *path, int port) {
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) return -1;
    fprintf(f, "%d\n", port);
    if (fclose(f) != 0) return -1;
    return rename(tmp, path);
}

/* Writes the port file (tests listen on port 0) and logs the URL. */
static void announce_listening(struct mg_context *ctx, const char *listen, const char *threads,
                               const char *scripts) {
    struct mg_server_port port = {0};
    mg_get_server_ports(ctx, 1, &port);
    const char *port_file = getenv("SIS_PORT_FILE");
    if (port_file && *port_file && write_port_file(port_file, port.port) != 0)
        sis_log(SIS_LOG_ERROR, "serve: cannot write the port file %s", port_file);
    char host[64];
    snprintf(host, sizeof host, "%s", listen);
    char *colon = strrchr(host, ':');
    if (colon) *colon = '\0';
    sis_log(SIS_LOG_INFO, "serve: listening on http://%s:%d/ (%s threads, scripts %s)",
            colon ? host : "0.0.0.0", port.port, threads, scripts);
}

int sis_serve(const sis_serve_options *opt) {
    server srv = {.inotify = -1};
    srv.max_body = env_size("SIS_MAX_BODY", DEFAULT_MAX_BODY);
    pthread_mutex_init(&srv.reload_lock, NULL);

    /* One state built here first: resolves the scripts directory, fails fast
     * when the front cannot load, and logs the routes once. */
    worker probe = {.srv = &srv};
    lua_State *L = new_front_state(&probe, opt->host, 1);
    if (!L) return 1;
    lua_close(L);
    srv.announced = 1; /* generation 0 announced */
    char path[SIS_SCRIPTS_MAX * (PATH_MAX + 1)] = "";
    for (size_t i = 0; i < sis_scripts_count(); i++) {
        srv.scripts[srv.nscripts++].path = sis_scripts_at(i);
        if (i) strcat(path, ":");
        strcat(path, sis_scripts_at(i));
    }

    srv.sessions = sis_sessions_new(env_number("SIS_SESSION_IDLE", DEFAULT_SESSION_IDLE),
                                    env_size("SIS_MAX_SESSIONS", DEFAULT_MAX_SESSIONS));
    if (!srv.sessions) return 1;
    srv.inotify = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (srv.inotify >= 0) watch_scripts(&srv);
    else sis_log(SIS_LOG_WARN, "serve: no hot reload (inotify: %s)", strerror(errno));
    scripts_swapped(&srv);

    /* Workers inherit this mask, so SIGINT/SIGTERM reach only sigwait below. */
    sigset_t stop, old;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, &old);

    char threads[16];
    snprintf(threads, sizeof threads, "%d", opt->threads > 0 ? opt->threads : DEFAULT_THREADS);
    const char *options[] = {
        "listening_ports", opt->listen,
        "num_threads", threads,
        "enable_keep_alive", "yes",
        "keep_alive_timeout_ms", "500",
        "tcp_nodelay", "1",   /* also set: each answer is one write anyway */
        "decode_url", "no",   /* the router decodes each path segment itself */
        "enable_auth_domain_check", "no", /* absolute-form targets (GET http://host:port/...) */
        NULL,
    };
    struct mg_callbacks cb = {0};
    cb.begin_request = on_request;
    cb.http_error = on_http_error;
    cb.log_message = on_log_message;
    cb.init_thread = on_thread_start;
    cb.exit_thread = on_thread_exit;

    mg_init_library(0);
    struct mg_context *ctx = mg_start(&cb, &srv, options);
    int served = ctx != NULL;
    if (served) {
        announce_listening(ctx, opt->listen, threads, path);
        int sig = 0;
        sigwait(&stop, &sig);
        sis_log(SIS_LOG_INFO, "serve: %s, stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
        /* Ctrl-C again during the shutdown forces the exit; a SIGTERM (say,
         * from a wrapper script relaying the same Ctrl-C) is absorbed */
        sigset_t interrupt;
        sigemptyset(&interrupt);
        sigaddset(&interrupt, SIGINT);
        pthread_sigmask(SIG_UNBLOCK, &interrupt, NULL);
        mg_stop(ctx); /* joins the workers, which close their states */
        const struct timespec now = {0, 0};
        while (sigtimedwait(&stop, NULL, &now) > 0) continue;
    } else {
        sis_log(SIS_LOG_ERROR, "serve: cannot listen on %s", opt->listen);
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    mg_exit_library();
    size_t wiped = sis_sessions_free(srv.sessions);
    if (served) sis_log(SIS_LOG_INFO, "serve: stopped (%zu sessions wiped)", wiped);
    if (srv.inotify >= 0) close(srv.inotify);
    pthread_mutex_destroy(&srv.reload_lock);
    return served ? 0 : 1;
}
