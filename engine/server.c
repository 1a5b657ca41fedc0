/* The REST front: civetweb accepts and reads, this file checks, dispatches
 * and writes, Lua decides. Every request goes to one Lua function, the one
 * scripts/server/app.lua returns, called with a plain `req` table; it answers
 * with a status, the header lines and the body, written in one write.
 *
 * Threads. civetweb gives each open connection a thread of its own for as
 * long as it is open, so those are many and cheap (small stacks, no Lua):
 * they read the request (with read deadlines: a slow client must not hold
 * one for ever), take the sessions its cookies name (waiting for them there,
 * boundedly), then hand it to the Lua workers (pool.c: SIS_THREADS threads,
 * each owning a lua_State, built lazily and rebuilt when a file under the
 * scripts directory changed or the scripts path came to name another
 * directory: either bumps a generation number) and write the answer. So an
 * idle, slow or waiting client holds a connection thread, never a Lua state.
 *
 * Each request has one deadline (SIS_TIMEOUT, request.h) from the moment it
 * is read: waiting for a session, for a worker, every upstream transfer and
 * the Lua work itself count against it; past it the handler is stopped (the
 * count hook, host.c) and the answer is a 504. Every request has a short
 * random id, in its log lines and in its 5xx answers.
 *
 * Sessions live in one C store shared by all threads (sessions.c); the front
 * reaches it through the "sis.server" module, which exists only in worker
 * states. Ownership: a worker's state and deflate stream belong to its
 * thread; a request record to its connection thread, lent to one worker
 * while it runs; the server struct is read-only after start-up except for
 * the generation, the store and the connection count (own locks, atomic). */
#include "log.h"
#include "pool.h"
#include "request.h"
#include "scheduler.h"
#include "sessions.h"
#include "sis.h"

#include <civetweb.h>
#include <curl/curl.h>
#include <lauxlib.h>
#include <zlib.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_THREADS 16
#define DEFAULT_CONNECTIONS 512
#define DEFAULT_MAX_BODY (1 << 20)
#define DEFAULT_SESSION_IDLE 1200.0
#define DEFAULT_MAX_SESSIONS 10000
#define DEFAULT_TIMEOUT 20.0       /* SIS_TIMEOUT, as app.lua reads it */
#define DEFAULT_READ_TIMEOUT 10.0  /* seconds for the headers; the body gets this plus... */
#define DEFAULT_READ_RATE 16384.0  /* ...1 s per this many bytes received */
#define DEFAULT_SESSION_QUEUE 4    /* requests that may wait for one session */
#define DEFAULT_WORKER_IDLE 60.0   /* seconds idle after which a worker lets go of its state */
#define READ_SLICE 16384           /* at most this much asked of one read */
#define RETRY_AFTER "1"            /* seconds, in 429 and 503 answers */
#define HEAP_GROWTH_KB (4 << 10)   /* a Lua heap a request grew by this much is collected at once */
#define GC_PAUSE 150               /* see new_front_state */
#define GC_STEPMUL 300

typedef struct server {
    sis_sessions *sessions;
    sis_pool *pool;
    size_t max_body;
    double timeout, read_timeout, read_rate;
    double worker_idle;        /* SIS_WORKER_IDLE */
    int connections;           /* civetweb's threads */
    atomic_int open;           /* connections being served */
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

/* A session named by the request's cookies, held before the Lua work. */
typedef struct cookie_session {
    char ns[SIS_SESSION_NS_MAX];
    char id[SIS_SESSION_ID_LEN + 1];
    const char *state; /* valid while held and unsaved: read once, by attach */
    size_t len;
} cookie_session;

enum { COOKIE_SESSIONS = 4 }; /* the store lets a request hold 8: room for new ones */

/* One request, on its connection thread's stack; lent to a worker. */
typedef struct request {
    struct mg_connection *conn;
    char id[SIS_REQUEST_ID_LEN + 1];
    double deadline;
    const char *body;
    size_t body_len;
    int close; /* answer with Connection: close */
    sis_session_holder holder;
    cookie_session held[COOKIE_SESSIONS];
    int n_held;
    /* the answer, set by the worker */
    int status;
    char *answer;
    size_t answer_len;
} request;

typedef struct worker {
    server *srv;
    lua_State *L;
    unsigned long generation;
    request *req; /* the request being run */
    z_stream gz;  /* kept across requests: zlib's 256 KB of state, set up once */
    int gz_ready;
} worker;

static char front_key; /* registry: the front's request function */

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

/* current_generation for the watch poller (engine/scheduler.h). */
static unsigned long scripts_generation(void *srv) { return current_generation(srv, NULL); }

/* ---------- the sis.server module (worker states only) */

static worker *upworker(lua_State *L) { return lua_touserdata(L, lua_upvalueindex(1)); }

/* The request the calling worker runs; raises outside of one. */
static request *current_request(lua_State *L) {
    request *r = upworker(L)->req;
    if (!r) luaL_error(L, "sis.server: no request is being served");
    return r;
}

static const char *check_ns(lua_State *L, int arg) {
    size_t n;
    const char *ns = luaL_checklstring(L, arg, &n);
    luaL_argcheck(L, n > 0 && n < SIS_SESSION_NS_MAX, arg, "bad session namespace");
    return ns;
}

/* held() -> { [ns] = { id = id, json = state } }: the sessions the request's
 * cookies name, taken before the front was called */
static int l_held(lua_State *L) {
    request *r = current_request(L);
    lua_createtable(L, 0, r->n_held);
    for (int i = 0; i < r->n_held; i++) {
        lua_createtable(L, 0, 2);
        lua_pushstring(L, r->held[i].id);
        lua_setfield(L, -2, "id");
        lua_pushlstring(L, r->held[i].state, r->held[i].len);
        lua_setfield(L, -2, "json");
        lua_setfield(L, -2, r->held[i].ns);
    }
    return 1;
}

/* session_create(ns, state) -> id | nil, err */
static int l_session_create(lua_State *L) {
    request *r = current_request(L);
    size_t len;
    const char *ns = check_ns(L, 1), *state = luaL_checklstring(L, 2, &len);
    char id[SIS_SESSION_ID_LEN + 1];
    if (sis_sessions_create(upworker(L)->srv->sessions, &r->holder, ns, state, len, id) != 0) {
        lua_pushnil(L);
        lua_pushliteral(L, "session store full");
        return 2;
    }
    lua_pushstring(L, id);
    return 1;
}

/* session_save(ns, id, state): the session must be held by this request */
static int l_session_save(lua_State *L) {
    request *r = current_request(L);
    size_t len;
    const char *ns = check_ns(L, 1), *id = luaL_checkstring(L, 2);
    const char *state = luaL_checklstring(L, 3, &len);
    if (sis_sessions_save(upworker(L)->srv->sessions, &r->holder, ns, id, state, len) != 0)
        return luaL_error(L, "session %s is not held by this request", ns);
    return 0;
}

/* session_destroy(ns, id): wipes a session held by this request */
static int l_session_destroy(lua_State *L) {
    request *r = current_request(L);
    const char *ns = check_ns(L, 1), *id = luaL_checkstring(L, 2);
    if (sis_sessions_destroy(upworker(L)->srv->sessions, &r->holder, ns, id) != 0)
        return luaL_error(L, "session %s is not held by this request", ns);
    return 0;
}

/* gzip(s) -> s compressed in the gzip format, with the worker's deflate
 * stream: set up once and reset for each body (a stream per answer cost
 * 256 KB allocated and freed each time, which glibc handed back to the
 * kernel and faulted in again: 17 % of the front's CPU). */
static int l_gzip(lua_State *L) {
    worker *w = upworker(L);
    size_t len;
    const char *in = luaL_checklstring(L, 1, &len);
    luaL_argcheck(L, len < (1u << 30), 1, "too large to compress");
    /* a userdata as the output buffer: freed by the GC even if Lua raises.
     * The bound is zlib's plus the gzip wrapper's 18 bytes (for its 6). */
    uLong cap = compressBound((uLong)len) + 12;
    unsigned char *out = lua_newuserdatauv(L, cap, 0);
    if (!w->gz_ready) {
        if (deflateInit2(&w->gz, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
            return luaL_error(L, "gzip: cannot initialise zlib");
        w->gz_ready = 1;
    } else if (deflateReset(&w->gz) != Z_OK) {
        return luaL_error(L, "gzip: cannot reset zlib");
    }
    w->gz.next_in = (Bytef *)in;
    w->gz.avail_in = (uInt)len;
    w->gz.next_out = out;
    w->gz.avail_out = (uInt)cap;
    int rc = deflate(&w->gz, Z_FINISH);
    if (rc != Z_STREAM_END) return luaL_error(L, "gzip: deflate failed (%d)", rc);
    lua_pushlstring(L, (const char *)out, cap - w->gz.avail_out);
    return 1;
}

static const luaL_Reg server_funcs[] = {
    {"held", l_held},                       {"session_create", l_session_create},
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
    sis_state_stop_at_deadline(L);
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

/* ---------- answers */

/* Writes {"error": "msg"} into out (the errors C answers by itself); a 5xx
 * names the request, so that its log lines can be found. */
static int json_error(char *out, size_t cap, int status, const char *msg) {
    size_t n = (size_t)snprintf(out, cap, "{\"error\": \"");
    for (const char *p = msg; *p && n + 40 < cap; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '"' || c == '\\') n += (size_t)snprintf(out + n, cap - n, "\\%c", c);
        else if (c < 0x20) n += (size_t)snprintf(out + n, cap - n, "\\u%04x", c);
        else out[n++] = (char)c;
    }
    const char *id = sis_request_id();
    if (status >= 500 && id) n += (size_t)snprintf(out + n, cap - n, " (request %s)", id);
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

/* Status line + head + framing headers + body in one malloc'ed buffer, for
 * one write; NULL when memory ran out. */
static char *build_response(const struct mg_connection *conn, int status, const char *head,
                            size_t head_len, const char *body, size_t body_len, int close, size_t *total) {
    const struct mg_request_info *ri = mg_get_request_info(conn);
    int bodiless = status < 200 || status == 204 || status == 304; /* no body, no Content-Length */
    int send_body = !bodiless && (!ri->request_method || strcmp(ri->request_method, "HEAD"));
    char top[160], tail[160];
    int tn = snprintf(top, sizeof top, "HTTP/1.1 %d %s\r\n", status, mg_get_response_code_text(conn, status));
    int fn = 0;
    const char *id = sis_request_id();
    if (id) fn = snprintf(tail, sizeof tail, "X-Request-Id: %s\r\n", id);
    if (!bodiless) fn += snprintf(tail + fn, sizeof tail - (size_t)fn, "Content-Length: %zu\r\n", body_len);
    fn += snprintf(tail + fn, sizeof tail - (size_t)fn, "Connection: %s\r\n\r\n",
                   close || !keeps_alive(conn) ? "close" : "keep-alive");
    *total = (size_t)tn + head_len + (size_t)fn + (send_body ? body_len : 0);
    char *buf = malloc(*total);
    if (!buf) return NULL;
    char *p = buf;
    memcpy(p, top, (size_t)tn), p += tn;
    memcpy(p, head, head_len), p += head_len;
    memcpy(p, tail, (size_t)fn), p += fn;
    if (send_body) memcpy(p, body, body_len);
    return buf;
}

/* An error answer as a whole response (see build_response); extra: more
 * header lines. */
static char *error_response(const struct mg_connection *conn, int status, const char *msg, const char *extra,
                            int close, size_t *total) {
    char head[256], body[600];
    int hn = snprintf(head, sizeof head, "Content-Type: application/json\r\n%s", extra ? extra : "");
    int n = json_error(body, sizeof body, status, msg);
    return build_response(conn, status, head, (size_t)hn, body, (size_t)n, close, total);
}

/* close: the request's body was not read to its end (or the connection
 * should go: the server is nearly out of connection threads). civetweb
 * would read and discard the rest of a body before the next request, as
 * much as the client sends, holding the thread; a connection it must close
 * is closed at once. */
static void send_error(struct mg_connection *conn, int status, const char *msg, const char *extra, int close) {
    if (close) mg_disable_connection_keep_alive(conn);
    size_t n = 0;
    char *answer = error_response(conn, status, msg, extra, close, &n);
    if (answer) mg_write(conn, answer, n);
    free(answer);
}

/* ---------- running a request on a worker */

static void set_string(lua_State *L, const char *key, const char *value) {
    lua_pushstring(L, value ? value : "");
    lua_setfield(L, -2, key);
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

/* Protected: a coroutine holding the front and the request's `req` table,
 * ready to resume. [-1, +1, e] arg: the request (light userdata) */
static int prepare_front(lua_State *L) {
    const request *r = lua_touserdata(L, 1);
    const struct mg_request_info *ri = mg_get_request_info(r->conn);
    lua_State *co = lua_newthread(L);
    lua_rawgetp(L, LUA_REGISTRYINDEX, &front_key);
    lua_createtable(L, 0, 9);
    set_string(L, "method", ri->request_method);
    set_string(L, "path", ri->local_uri_raw ? ri->local_uri_raw : ri->local_uri);
    set_string(L, "query_string", ri->query_string);
    set_string(L, "http_version", ri->http_version);
    set_string(L, "remote_addr", ri->remote_addr);
    set_string(L, "id", r->id);
    push_headers(L, ri);
    lua_setfield(L, -2, "headers");
    lua_pushlstring(L, r->body ? r->body : "", r->body_len);
    lua_setfield(L, -2, "body");
    lua_xmove(L, co, 2);
    return 1;
}

/* Protected: logs the error a coroutine died of, with its traceback.
 * args: the coroutine, the error value */
static int log_failure(lua_State *L) {
    lua_State *co = lua_tothread(L, 1);
    const char *msg = lua_tostring(L, 2);
    luaL_traceback(L, co, msg ? msg : luaL_typename(L, 2), 0);
    sis_log(SIS_LOG_ERROR, "serve: the front failed: %s", lua_tostring(L, -1));
    return 0;
}

static void set_answer(request *r, int status, char *answer, size_t len) {
    r->status = answer ? status : 500;
    r->answer = answer;
    r->answer_len = answer ? len : 0;
}

static void answer_error(request *r, int status, const char *msg) {
    size_t n = 0;
    char *answer = error_response(r->conn, status, msg, NULL, r->close, &n);
    set_answer(r, status, answer, n);
}

/* Runs the front in a coroutine, so that the deadline hook can stop it
 * whatever pcalls the handler made (see host.c). Returns 1 when the request
 * did not finish (its new sessions must go), else 0. */
static int run_front(lua_State *L, request *r, double timeout) {
    lua_pushcfunction(L, prepare_front);
    lua_pushlightuserdata(L, r);
    if (sis_pcall(L, 1, 1) != LUA_OK) {
        sis_log(SIS_LOG_ERROR, "serve: cannot prepare the request: %s", lua_tostring(L, -1));
        lua_settop(L, 0);
        answer_error(r, 500, "internal error");
        return 1;
    }
    lua_State *co = lua_tothread(L, -1);
    sis_request_begin(r->id, r->deadline, co);
    int nres = 0, rc = lua_resume(co, L, 1, &nres);
    sis_request_begin(r->id, 0, NULL); /* no deadline for the clean-up below */
    int unfinished = 1, late = sis_monotonic() >= r->deadline;
    if (rc == LUA_OK && nres == 3 && lua_isinteger(co, -3) && lua_type(co, -2) == LUA_TSTRING &&
        lua_type(co, -1) == LUA_TSTRING && lua_tointeger(co, -3) >= 100 && lua_tointeger(co, -3) <= 599 &&
        !(late && lua_tointeger(co, -3) == 500)) { /* a script error past the deadline is the deadline's */
        int status = (int)lua_tointeger(co, -3);
        size_t hl, bl, n = 0;
        const char *head = lua_tolstring(co, -2, &hl), *body = lua_tolstring(co, -1, &bl);
        char *answer = build_response(r->conn, status, head, hl, body, bl, r->close, &n);
        set_answer(r, status, answer, n);
        unfinished = 0;
    } else if (late && (rc == LUA_YIELD || rc == LUA_OK)) {
        char msg[96];
        snprintf(msg, sizeof msg, "the request did not finish within %g s", timeout);
        answer_error(r, 504, msg);
    } else if (rc == LUA_OK || rc == LUA_YIELD) {
        sis_log(SIS_LOG_ERROR, "serve: the front %s", rc == LUA_YIELD ? "yielded" : "returned an unusable answer");
        answer_error(r, 500, "internal error");
    } else {
        lua_pushcfunction(L, log_failure);
        lua_pushvalue(L, -2);
        lua_xmove(co, L, 1);
        if (sis_pcall(L, 2, 0) != LUA_OK) sis_log(SIS_LOG_ERROR, "serve: the front failed");
        answer_error(r, 500, "internal error");
    }
    /* closes what an abandoned handler left open (to-be-closed variables) */
    lua_resetthread(co);
    lua_settop(L, 0);
    return unfinished;
}

static void run_request(void *ctx, void *job) {
    worker *w = ctx;
    request *r = job;
    sis_request_begin(r->id, r->deadline, NULL);
    lua_State *L = worker_state(w);
    int unfinished = 1;
    if (!L) {
        answer_error(r, 500, "internal error");
    } else {
        int heap_kb = lua_gc(L, LUA_GCCOUNT);
        w->req = r;
        unfinished = run_front(L, r, w->srv->timeout);
        w->req = NULL;
        /* what an abandoned handler had (a parsed page, curl handles), or a
         * large heap a request left (a hostile page's text), goes now and
         * back to the system: else the worker's RSS would stay at its peak.
         * Twice: what has a finalizer (a document) and what it holds (the
         * page's text) go only in the cycle after the one that finalizes it */
        if (unfinished || lua_gc(L, LUA_GCCOUNT) > heap_kb + HEAP_GROWTH_KB) {
            lua_gc(L, LUA_GCCOLLECT);
            lua_gc(L, LUA_GCCOLLECT);
            malloc_trim(0);
        }
    }
    if (unfinished) sis_sessions_abort(w->srv->sessions, &r->holder);
    else sis_sessions_release_all(w->srv->sessions, &r->holder);
    sis_request_end();
}

static void *worker_init(void *arg) {
    worker *w = calloc(1, sizeof *w);
    if (w) w->srv = arg;
    return w;
}

/* Closes the worker's Lua state and deflate stream (rebuilt when needed). */
static void worker_release(worker *w) {
    if (w->L) lua_close(w->L);
    w->L = NULL;
    if (w->gz_ready) deflateEnd(&w->gz);
    w->gz_ready = 0;
}

/* A worker idle for SIS_WORKER_IDLE seconds: its Lua state (with its kept
 * upstream connections) and deflate stream go, and malloc gives the memory
 * back. Jobs wake the worker that went idle last, so this is one the load
 * no longer needs; it builds a new state (about 12 ms) if the load returns. */
static void worker_idle(void *ctx) {
    worker *w = ctx;
    if (!w || !w->L) return;
    worker_release(w);
    malloc_trim(0);
    sis_log(SIS_LOG_DEBUG, "serve: a worker idle for %g s let go of its Lua state", w->srv->worker_idle);
}

static void worker_exit(void *ctx) {
    worker *w = ctx;
    if (!w) return;
    worker_release(w);
    free(w);
}

/* ---------- reading a request (connection threads) */

/* Reads the whole body into a malloc'ed buffer; NULL with *refused set to the
 * status to answer when it is over max (413), ends before its end (400: the
 * client stopped sending, or a chunk is malformed) or comes too slowly (408),
 * NULL alone when memory ran out. Chunked bodies have no length up front, so
 * the cap is also enforced while reading. The body must arrive within
 * read_timeout plus 1 s per read_rate bytes received (a minimum rate); that
 * is checked between reads, which are no larger than what has come so far,
 * and one read waits at most read_timeout for a byte (civetweb's
 * request_timeout_ms): a trickle is cut off in at most about twice its
 * allowance. */
static char *read_body(const server *srv, struct mg_connection *conn, size_t *len, int *refused) {
    long long declared = mg_get_request_info(conn)->content_length;
    size_t max = srv->max_body;
    *len = 0;
    *refused = declared > (long long)max ? 413 : 0;
    if (*refused) return NULL;
    const char *expect = mg_get_header(conn, "Expect");
    if (expect && !strcasecmp(expect, "100-continue")) /* civetweb leaves this to us */
        mg_write(conn, "HTTP/1.1 100 Continue\r\n\r\n", 25);
    size_t cap = declared > 0 ? (size_t)declared + 1 : 4096;
    char *buf = malloc(cap);
    double start = sis_monotonic();
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
        /* civetweb's read returns once it has all it was asked for, and a
         * client that sends a byte now and then keeps it waiting for the
         * rest: ask for as much as has come so far (doubling), so that a
         * trickle is checked after each of its bytes at first, and after
         * about as long again as it has taken so far later on */
        size_t want = *len < 1 ? 1 : *len < READ_SLICE ? *len : READ_SLICE;
        if (want > cap - *len) want = cap - *len;
        int n = mg_read(conn, buf + *len, want);
        double late = sis_monotonic() - start - srv->read_timeout - (double)(*len + (n > 0 ? (size_t)n : 0)) / srv->read_rate;
        if (late > 0 || n < 0 || (n == 0 && declared > 0 && *len < (size_t)declared)) {
            free(buf);
            *refused = late > 0 ? 408 : 400;
            return NULL;
        }
        if (n == 0) return buf;
        *len += (size_t)n;
    }
    free(buf);
    return NULL;
}

/* A Content-Length value is plain digits (civetweb's strtoll also takes
 * "+5", " 5", "5 x"; a proxy in front may read those otherwise). */
static int plain_digits(const char *s) {
    if (!*s) return 0;
    for (; *s; s++)
        if (*s < '0' || *s > '9') return 0;
    return 1;
}

/* Requests refused before their body is read: what a proxy in front, or
 * civetweb, could read otherwise than we do (request smuggling), and what
 * RFC 9112 requires refusing. Returns the status and sets *msg, or 0.
 * - civetweb keeps MG_MAX_HEADERS header fields and drops the rest
 *   silently: a Content-Length or Transfer-Encoding hidden past them would
 *   go unseen (431);
 * - HTTP/1.1 needs exactly one Host (RFC 9112 3.2);
 * - civetweb takes the chunked body over a Content-Length and the first of
 *   two Content-Lengths: what a proxy forwards as one body would end early
 *   here and its rest run as a second request (RFC 9112 6.3 allows
 *   refusing). */
static int refuse_framing(const struct mg_request_info *ri, const char **msg) {
    if (ri->num_headers >= MG_MAX_HEADERS) {
        *msg = "too many header fields";
        return 431;
    }
    const char *length = NULL;
    int chunked = 0, hosts = 0;
    for (int i = 0; i < ri->num_headers; i++) {
        const char *name = ri->http_headers[i].name, *value = ri->http_headers[i].value;
        if (!strcasecmp(name, "Host")) {
            hosts++;
        } else if (!strcasecmp(name, "Transfer-Encoding")) {
            chunked = 1;
        } else if (!strcasecmp(name, "Content-Length")) {
            if (!plain_digits(value)) {
                *msg = "invalid Content-Length";
                return 400;
            }
            if (length && strcmp(length, value)) chunked = 1; /* two lengths: as ambiguous */
            length = value;
        }
    }
    if (hosts > 1 || (hosts == 0 && ri->http_version && !strcmp(ri->http_version, "1.1"))) {
        *msg = hosts ? "more than one Host header" : "Host header required";
        return 400;
    }
    if (chunked && length) {
        *msg = "ambiguous request body length";
        return 400;
    }
    return 0;
}

/* The sessions the request's cookies name (sis_<ns>=<32 hex digits>; the
 * first pair of a name wins; pairs with blanks inside are skipped) into
 * r->held, at most COOKIE_SESSIONS, in namespace order: every request takes
 * its sessions in that order, so two requests never wait for each other in a
 * cycle. Parsed here, once, in linear time. */
static int by_ns(const void *a, const void *b) {
    return strcmp(((const cookie_session *)a)->ns, ((const cookie_session *)b)->ns);
}

static int is_blank(char c) { return c == ' ' || c == '\t'; }

static int all_of(const char *s, size_t n, const char *set) {
    for (size_t i = 0; i < n; i++)
        if (!s[i] || !strchr(set, s[i])) return 0;
    return 1;
}

/* Notes the pair name=value when it names a session (sis_<ns>) not named
 * before: the first pair of a name wins, even when its value is no id (then
 * the id stays empty and the name is skipped). */
static void add_cookie(cookie_session *all, int *n, int cap, const char *name, size_t nl, const char *value,
                       size_t vl) {
    static const char ns_chars[] = "abcdefghijklmnopqrstuvwxyz0123456789_";
    if (nl < 5 || nl - 4 >= SIS_SESSION_NS_MAX || strncmp(name, "sis_", 4) || name[4] < 'a' || name[4] > 'z' ||
        !all_of(name + 4, nl - 4, ns_chars))
        return;
    for (int i = 0; i < *n; i++)
        if (strlen(all[i].ns) == nl - 4 && !memcmp(all[i].ns, name + 4, nl - 4)) return;
    if (*n == cap) return;
    cookie_session *c = &all[(*n)++];
    memcpy(c->ns, name + 4, nl - 4);
    c->ns[nl - 4] = '\0';
    c->id[0] = '\0';
    if (vl == SIS_SESSION_ID_LEN && all_of(value, vl, "0123456789abcdef")) {
        memcpy(c->id, value, vl);
        c->id[vl] = '\0';
    }
}

static int cookie_sessions(const struct mg_request_info *ri, cookie_session *found, int cap) {
    cookie_session all[32]; /* distinct sis_ names looked at */
    int n = 0;
    for (int h = 0; h < ri->num_headers; h++) {
        if (strcasecmp(ri->http_headers[h].name, "Cookie")) continue;
        for (const char *p = ri->http_headers[h].value; *p;) {
            const char *end = strchr(p, ';');
            if (!end) end = p + strlen(p);
            const char *a = p, *b = end;
            while (a < b && is_blank(*a)) a++;
            while (b > a && is_blank(b[-1])) b--;
            const char *eq = memchr(a, '=', (size_t)(b - a));
            if (eq) {
                const char *ne = eq, *v = eq + 1;
                while (ne > a && is_blank(ne[-1])) ne--;
                while (v < b && is_blank(*v)) v++;
                size_t nl = (size_t)(ne - a), vl = (size_t)(b - v);
                int clean = memchr(v, ' ', vl) == NULL && memchr(v, '\t', vl) == NULL &&
                            memchr(a, ' ', nl) == NULL && memchr(a, '\t', nl) == NULL;
                if (clean) add_cookie(all, &n, (int)(sizeof all / sizeof *all), a, nl, v, vl);
            }
            p = *end ? end + 1 : end;
        }
    }
    int k = 0;
    for (int i = 0; i < n; i++)
        if (all[i].id[0]) all[k++] = all[i];
    qsort(all, (size_t)k, sizeof *all, by_ns);
    if (k > cap) k = cap;
    memcpy(found, all, (size_t)k * sizeof *all);
    return k;
}

/* Takes the sessions the cookies name, before any Lua work, so that a
 * request waiting for its session holds this thread and nothing else.
 * Returns 0, or the status to answer (429: too many requests of this
 * session waiting already; 503: it stayed busy until the deadline). */
static int take_sessions(server *srv, request *r) {
    const struct mg_request_info *ri = mg_get_request_info(r->conn);
    cookie_session named[COOKIE_SESSIONS];
    int n = cookie_sessions(ri, named, COOKIE_SESSIONS);
    for (int i = 0; i < n; i++) {
        cookie_session *c = &named[i];
        int rc = sis_sessions_open(srv->sessions, &r->holder, c->ns, c->id, &c->state, &c->len);
        if (rc == SIS_SESSION_HELD) r->held[r->n_held++] = *c;
        else if (rc == SIS_SESSION_BUSY) return 429;
        else if (rc == SIS_SESSION_TIMEOUT) return 503;
    }
    return 0;
}

/* Whether the connection threads are nearly all taken: then answers close
 * their connection, so that an idle keep-alive client does not keep a
 * thread a new client needs. */
static int nearly_full(server *srv) { return atomic_load(&srv->open) * 4 >= srv->connections * 3; }

static int on_request(struct mg_connection *conn) {
    double t0 = sis_monotonic();
    server *srv = mg_get_user_data(mg_get_context(conn));
    const struct mg_request_info *ri = mg_get_request_info(conn);
    request r = {.conn = conn, .close = nearly_full(srv)};
    sis_request_new_id(r.id);
    sis_request_begin(r.id, 0, NULL); /* the id for the log lines; no deadline yet */
    const char *why = NULL;
    int status = refuse_framing(ri, &why), refused = 0;
    char *body = status ? NULL : read_body(srv, conn, &r.body_len, &refused);
    if (status) {
        send_error(conn, status, why, NULL, 1);
    } else if (refused) {
        char msg[96];
        snprintf(msg, sizeof msg, "request body too large (limit %zu bytes)", srv->max_body);
        send_error(conn, status = refused,
                   refused == 413 ? msg : refused == 408 ? "request body too slow" : "request body incomplete", NULL, 1);
    } else if (!body) {
        send_error(conn, status = 500, "internal error", NULL, 1);
    } else {
        r.body = body;
        r.deadline = sis_monotonic() + srv->timeout;
        r.holder.deadline = r.deadline;
        sis_request_begin(r.id, r.deadline, NULL);
        status = take_sessions(srv, &r);
        if (status) {
            sis_sessions_release_all(srv->sessions, &r.holder);
            send_error(conn, status,
                       status == 429 ? "too many requests of this session at once" : "this session is busy, try again",
                       "Retry-After: " RETRY_AFTER "\r\n", r.close);
        } else if (sis_pool_run(srv->pool, &r, r.deadline) != 0) {
            sis_sessions_release_all(srv->sessions, &r.holder);
            send_error(conn, status = 503, "the server is busy, try again", "Retry-After: " RETRY_AFTER "\r\n",
                       r.close);
        } else {
            if (r.close) mg_disable_connection_keep_alive(conn);
            if (r.answer) mg_write(conn, r.answer, r.answer_len);
            status = r.status;
            free(r.answer);
        }
    }
    free(body);
    sis_log(SIS_LOG_INFO, "%s %s %d %.1f ms", ri->request_method, ri->local_uri_raw ? ri->local_uri_raw : "-",
            status, (sis_monotonic() - t0) * 1e3);
    sis_request_end();
    return status;
}

/* civetweb's own errors (malformed request, header too large): JSON too. */
static int on_http_error(struct mg_connection *conn, int status, const char *msg) {
    send_error(conn, status, msg && *msg ? msg : mg_get_response_code_text(conn, status), NULL, 1);
    sis_log(SIS_LOG_INFO, "- - %d (%s)", status, msg ? msg : "");
    return 0;
}

static int on_log_message(const struct mg_connection *conn, const char *msg) {
    (void)conn;
    sis_log(SIS_LOG_WARN, "civetweb: %s", msg);
    return 1;
}

static int on_connection_open(const struct mg_connection *conn, void **data) {
    (void)data;
    server *srv = mg_get_user_data(mg_get_context(conn));
    atomic_fetch_add(&srv->open, 1);
    return 0;
}

static void on_connection_close(const struct mg_connection *conn) {
    server *srv = mg_get_user_data(mg_get_context(conn));
    atomic_fetch_sub(&srv->open, 1);
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

/* "5011" (a bare port) means 127.0.0.1:5011: listening on every interface
 * must be asked for. */
static const char *listen_address(const char *listen, char *buf, size_t cap) {
    if (strspn(listen, "0123456789") != strlen(listen)) return listen;
    snprintf(buf, cap, "127.0.0.1:%s", listen);
    return buf;
}

/* The reason the upstream URL in the environment variable is unusable, or
 * NULL (unset is fine: those routes answer 503). */
static const char *bad_upstream_url(const char *name, char *why, size_t cap) {
    const char *url = getenv(name);
    if (!url || !*url) return NULL;
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL;
    int ok = u && !curl_url_set(u, CURLUPART_URL, url, 0) && !curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) &&
             !curl_url_get(u, CURLUPART_HOST, &host, 0) && (!strcmp(scheme, "http") || !strcmp(scheme, "https"));
    curl_free(scheme);
    curl_free(host);
    curl_url_cleanup(u);
    if (ok) return NULL;
    snprintf(why, cap, "%s must be an http:// or https:// URL with a host, not '%s'", name, url);
    return why;
}

/* Writes the port file (tests listen on port 0) and logs the URL. 0, or -1
 * when the port file cannot be written (a script waiting for it would
 * wait for ever). */
static int announce_listening(struct mg_context *ctx, const char *listen, const server *srv, int threads,
                              const char *scripts) {
    struct mg_server_port port = {0};
    mg_get_server_ports(ctx, 1, &port);
    const char *port_file = getenv("SIS_PORT_FILE");
    if (port_file && *port_file && write_port_file(port_file, port.port) != 0) {
        sis_log(SIS_LOG_ERROR, "serve: cannot write the port file %s: %s", port_file, strerror(errno));
        return -1;
    }
    char host[64];
    snprintf(host, sizeof host, "%s", listen);
    char *colon = strrchr(host, ':');
    if (colon) *colon = '\0';
    sis_log(SIS_LOG_INFO, "serve: listening on http://%s:%d/ (%d workers, %d connections, scripts %s)",
            colon && *host ? host : "0.0.0.0", port.port, threads, srv->connections, scripts);
    return 0;
}

/* The reason SIS_FOCUS_LOGIN is unusable, or NULL (focus/service.lua reads it). */
static const char *bad_focus_login(char *why, size_t cap) {
    const char *flow = getenv("SIS_FOCUS_LOGIN");
    if (!flow || !*flow || !strcmp(flow, "auto") || !strcmp(flow, "native") || !strcmp(flow, "saml")) return NULL;
    snprintf(why, cap, "SIS_FOCUS_LOGIN must be native, saml or auto, not '%s'", flow);
    return why;
}

int sis_serve(const sis_serve_options *opt) {
    char why[512], address[64];
    const char *bad = bad_upstream_url("SIS_FOCUS_URL", why, sizeof why);
    if (!bad) bad = bad_upstream_url("SIS_SCODOC_URL", why, sizeof why);
    if (!bad) bad = bad_focus_login(why, sizeof why);
    if (bad) {
        sis_log(SIS_LOG_ERROR, "serve: %s", bad);
        return 2;
    }
    /* Blocks of 512 KiB and more (a page's text, a big answer) are mapped
     * and unmapped by malloc, so what a hostile page took goes back to the
     * system when it goes; the fixed threshold also stops glibc from raising
     * it to 32 MiB after the first such block. Freed memory at the top of a
     * heap is kept up to 2 MiB: trimmed at once, it was faulted in again by
     * the next request (issue 13). */
    mallopt(M_MMAP_THRESHOLD, 512 << 10);
    mallopt(M_TRIM_THRESHOLD, 2 << 20);
    const char *listen = listen_address(opt->listen, address, sizeof address);
    int threads = opt->threads > 0 ? opt->threads : DEFAULT_THREADS;
    server srv = {.inotify = -1};
    srv.max_body = env_size("SIS_MAX_BODY", DEFAULT_MAX_BODY);
    srv.timeout = env_number("SIS_TIMEOUT", DEFAULT_TIMEOUT);
    srv.read_timeout = env_number("SIS_READ_TIMEOUT", DEFAULT_READ_TIMEOUT);
    srv.read_rate = env_number("SIS_READ_RATE", DEFAULT_READ_RATE);
    srv.worker_idle = env_number("SIS_WORKER_IDLE", DEFAULT_WORKER_IDLE);
    size_t connections = env_size("SIS_CONNECTIONS", DEFAULT_CONNECTIONS);
    srv.connections = connections < 4 ? 4 : connections > 8192 ? 8192 : (int)connections;
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
                                    env_size("SIS_MAX_SESSIONS", DEFAULT_MAX_SESSIONS),
                                    (int)env_size("SIS_SESSION_QUEUE", DEFAULT_SESSION_QUEUE));
    if (!srv.sessions) return 1;
    srv.inotify = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (srv.inotify >= 0) watch_scripts(&srv);
    else sis_log(SIS_LOG_WARN, "serve: no hot reload (inotify: %s)", strerror(errno));
    scripts_swapped(&srv);

    /* Threads inherit this mask, so SIGINT/SIGTERM reach only sigwait below. */
    sigset_t stop, old;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, &old);

    const sis_pool_worker workers = {.init = worker_init, .run = run_request, .exit = worker_exit, .arg = &srv,
                                     .idle = worker_idle,
                                     .idle_after = srv.worker_idle};
    srv.pool = sis_pool_new(threads, &workers);

    char n_conn[16], read_ms[32];
    snprintf(n_conn, sizeof n_conn, "%d", srv.connections);
    snprintf(read_ms, sizeof read_ms, "%.0f", srv.read_timeout * 1000);
    const char *options[] = {
        "listening_ports", listen,
        "num_threads", n_conn,
        "connection_queue", n_conn, /* accepted, waiting for a thread: only when all are taken */
        "listen_backlog", "1024",
        "request_timeout_ms", read_ms, /* the headers' deadline; also the longest one read or write waits */
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
    cb.init_connection = on_connection_open;
    cb.connection_close = on_connection_close;

    mg_init_library(0);
    /* civetweb's threads get the stack civetweb was built with (100 KB in
     * Debian's build): enough, since they only read, check and write */
    struct mg_context *ctx = srv.pool ? mg_start(&cb, &srv, options) : NULL;
    int rc = ctx ? 0 : 1;
    if (ctx && announce_listening(ctx, listen, &srv, threads, path) != 0) rc = 1;
    sis_scheduler *poller = NULL; /* the watch poller (engine/scheduler.c), if any */
    if (ctx && rc == 0) {
        poller = sis_scheduler_start(opt->host, scripts_generation, &srv);
        int sig = 0;
        sigwait(&stop, &sig);
        sis_log(SIS_LOG_INFO, "serve: %s, stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
        /* Ctrl-C again during the shutdown forces the exit; a SIGTERM (say,
         * from a wrapper script relaying the same Ctrl-C) is absorbed */
        sigset_t interrupt;
        sigemptyset(&interrupt);
        sigaddset(&interrupt, SIGINT);
        pthread_sigmask(SIG_UNBLOCK, &interrupt, NULL);
    } else if (!ctx) {
        if (srv.pool) sis_log(SIS_LOG_ERROR, "serve: cannot listen on %s", listen);
        else sis_log(SIS_LOG_ERROR, "serve: cannot start %d worker threads", threads);
    }
    sis_scheduler_stop(poller);
    if (ctx) mg_stop(ctx);    /* joins the connection threads, which wait for their requests */
    sis_pool_free(srv.pool); /* then the workers, which close their states */
    const struct timespec now = {0, 0};
    while (sigtimedwait(&stop, NULL, &now) > 0) continue;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    mg_exit_library();
    size_t wiped = sis_sessions_free(srv.sessions);
    if (ctx) sis_log(SIS_LOG_INFO, "serve: stopped (%zu sessions wiped)", wiped);
    if (srv.inotify >= 0) close(srv.inotify);
    pthread_mutex_destroy(&srv.reload_lock);
    return rc;
}
