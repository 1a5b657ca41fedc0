/* sis.http: HTTP sessions on libcurl (API: README.md, "sis.http").
 *
 * A session owns one curl share (cookies, TLS sessions), so every transfer
 * of the session, concurrent ones included, uses one cookie jar; and a pool
 * of easy handles reused from call to call.
 *
 * Connections outlive sessions: each Lua state (a REST worker, a CLI run)
 * keeps a pool of multi handles, one per CA bundle trusted, whose connection
 * and DNS caches serve every session of the state in turn. A REST request
 * opens a session on its user's saved cookies, and its pages go out on
 * connections kept from earlier requests, whoever made them: HTTP/1.1
 * connections carry no cookie or login state (the cookies ride in each
 * request's headers, from the session's own jar), and curl reuses a
 * connection only for the same origin and TLS options (verify). The
 * certificates trusted come from tls.c (each bundle parsed once per
 * process), which curl does not see: hence one multi per bundle, so that a
 * connection verified against one bundle never serves a session trusting
 * another.
 *
 * Neither the share nor the pool is used by two threads: a session and a
 * pool belong to one Lua state, hence to one thread at a time, so no curl
 * share locks are needed. A batch started while the pool runs another one
 * (from an on_progress callback) runs on a multi of its own session.
 *
 * A kept-alive connection the server closed is noticed by curl before it is
 * used, or, when it closes as the request goes out, curl sends the request
 * again on a new connection. That is only safe for idempotent requests:
 * others (POST, PATCH, or idempotent = false) always go out on a new
 * connection, on which curl never resends.
 *
 * Every call runs a batch (s:request is a batch of one) on the multi handle.
 * Transfers are started per origin, at most per_host at a time, rather than
 * all handed to curl at once: curl's own per-host queue lets queued
 * transfers time out before they even start.
 *
 * Record/replay (cassette.c) hooks in per batch: in replay mode no curl
 * transfer runs at all; the recorded Set-Cookie headers are applied to the
 * session's jar so cookie reads behave as they did live.
 */
#include "cassette.h"
#include "log.h"
#include "request.h"
#include "sis.h"
#include "text.h"
#include "tls.h"

#include <curl/curl.h>
#include <lauxlib.h>
#include <openssl/sha.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SESSION_MT "sis.http.session"
#define BATCH_MT "sis.http.batch"
#define MAX_REDIRECTS 10L

#define POOL_MT "sis.http.pool"
/* Idle connections a multi of the pool keeps (curl's default follows the
 * number of transfers, so one single request would shrink it to 4): a year
 * calendar is 12 pages at once. */
#define POOL_CONNECTIONS 16L

/* The connections of a Lua state (see the top comment): a multi handle per
 * CA bundle; anchored in the registry, closed with the state. */
typedef struct pool_multi {
    char *cafile; /* NULL: the system bundle */
    CURLM *multi;
    int busy; /* a batch runs on it */
    struct pool_multi *next;
} pool_multi;

typedef struct {
    pool_multi *first;
} pool;

typedef struct {
    CURLSH *share;
    CURLM *own_multi; /* for batches started while the pool is busy */
    CURL *jar;        /* attached to the share only: cookie reads and writes */
    CURL **idle; /* easy handles waiting for reuse (room for all of them) */
    size_t nidle, nhandles;
    struct curl_slist *headers; /* "Name: value" sent on every request */
    char *user_agent;
    char *cafile; /* CA bundle (PEM) instead of the system one, or NULL */
    long timeout_ms, connect_timeout_ms, per_host;
    curl_off_t max_body;
    int redirects, verify;
    int public_only; /* connect to public addresses only (see open_public) */
    int busy; /* a batch is running (on_progress must not start another) */
    int closed;
} session;

typedef struct {
    sis_request rq; /* method, url, body: strings anchored in the batch */
    struct curl_slist *headers;
    long timeout_ms;
    curl_off_t max_body;
    int redirects, idempotent;
    enum { WAITING, RUNNING, DONE } state;
    size_t origin;  /* index of the first transfer with the same origin, */
    size_t running; /* which counts the running transfers of that origin */
    CURL *easy;     /* from the session's pool while running */
    int too_large, oom;
    char errbuf[CURL_ERROR_SIZE];
    char tls_error[256]; /* why trust_hook failed */
    char refused[128];   /* why open_public refused an address */
    sis_exchange x;
} transfer;

/* A userdata, so that an error raised while it is built frees it (__gc). */
typedef struct {
    CURLM *multi; /* while it runs */
    size_t n;
    size_t next; /* every transfer before it has started */
    transfer t[];
} batch;

static const char *const session_fields[] = {
    "timeout",    "connect_timeout", "max_body", "redirects", "verify",
    "headers",    "user_agent",      "per_host", "cafile",    "public_only", NULL,
};
static const char *const request_fields[] = {
    "url",     "method",  "query",     "form",     "json",       "body",
    "multipart", "headers", "timeout", "redirects", "max_body", "idempotent", NULL,
};

/* --- argument checking --------------------------------------------------- */

static int bad_arg(lua_State *L, int arg, const char *ctx, const char *fmt, const char *name) {
    lua_pushfstring(L, fmt, name);
    return luaL_argerror(L, arg, lua_pushfstring(L, "%s%s", ctx, lua_tostring(L, -1)));
}

static void check_fields(lua_State *L, int t, const char *const names[], int arg, const char *ctx) {
    lua_pushnil(L);
    while (lua_next(L, t)) {
        lua_pop(L, 1);
        const char *k = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
        int i = 0;
        while (k && names[i] && strcmp(k, names[i])) i++;
        if (!k) bad_arg(L, arg, ctx, "unknown field of type %s", luaL_typename(L, -1));
        if (!names[i]) bad_arg(L, arg, ctx, "unknown field '%s'", k);
    }
}

static long field_ms(lua_State *L, int t, const char *name, long dflt, int arg, const char *ctx) {
    if (lua_getfield(L, t, name) == LUA_TNIL) {
        lua_pop(L, 1);
        return dflt;
    }
    lua_Number v = lua_type(L, -1) == LUA_TNUMBER ? lua_tonumber(L, -1) : -1;
    if (!(v > 0 && v <= 86400))
        bad_arg(L, arg, ctx, "'%s' must be a number of seconds in ]0, 86400]", name);
    lua_pop(L, 1);
    return v * 1000 < 1 ? 1 : (long)(v * 1000 + 0.5);
}

static lua_Integer field_int(lua_State *L, int t, const char *name, lua_Integer dflt, int arg,
                             const char *ctx) {
    if (lua_getfield(L, t, name) == LUA_TNIL) {
        lua_pop(L, 1);
        return dflt;
    }
    int ok;
    lua_Integer v = lua_tointegerx(L, -1, &ok);
    if (!ok || lua_type(L, -1) != LUA_TNUMBER || v < 1)
        bad_arg(L, arg, ctx, "'%s' must be a positive integer", name);
    lua_pop(L, 1);
    return v;
}

static int field_bool(lua_State *L, int t, const char *name, int dflt, int arg, const char *ctx) {
    int type = lua_getfield(L, t, name);
    if (type != LUA_TNIL && type != LUA_TBOOLEAN) bad_arg(L, arg, ctx, "'%s' must be a boolean", name);
    int v = type == LUA_TNIL ? dflt : lua_toboolean(L, -1);
    lua_pop(L, 1);
    return v;
}

/* --- query strings -------------------------------------------------------- */

/* The string form of a query value (string, number or boolean) at idx. */
static const char *query_value(lua_State *L, int idx, size_t *len, int arg) {
    switch (lua_type(L, idx)) {
    case LUA_TSTRING: return lua_tolstring(L, idx, len);
    case LUA_TNUMBER:
    case LUA_TBOOLEAN: return luaL_tolstring(L, idx, len); /* pushes; the caller's frame pops */
    default:
        luaL_argerror(L, arg, lua_pushfstring(L, "query value of type %s", luaL_typename(L, idx)));
        return NULL;
    }
}

/* Appends name=value (both RFC 3986 encoded) to parts. */
static void add_pair(lua_State *L, int parts, int name, int value, int arg) {
    int top = lua_gettop(L);
    name = lua_absindex(L, name);
    value = lua_absindex(L, value);
    size_t nl, vl;
    const char *n = query_value(L, name, &nl, arg);
    const char *v = query_value(L, value, &vl, arg);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    sis_url_encode(n, nl, &b);
    luaL_addchar(&b, '=');
    sis_url_encode(v, vl, &b);
    luaL_pushresult(&b);
    lua_rawseti(L, parts, (lua_Integer)lua_rawlen(L, parts) + 1);
    lua_settop(L, top);
}

typedef struct {
    const char *s;
    size_t n;
    lua_Integer at; /* index in the table of names */
} name_ref;

static int cmp_names(const void *a, const void *b) {
    const name_ref *x = a, *y = b;
    int c = memcmp(x->s, y->s, x->n < y->n ? x->n : y->n);
    return c ? c : (x->n > y->n) - (x->n < y->n);
}

/* Pushes the encoded query for the table at t: a map (keys sorted) or a list
 * of {name, value} pairs. */
static void push_query(lua_State *L, int t, int arg) {
    t = lua_absindex(L, t);
    lua_newtable(L);
    int parts = lua_gettop(L);
    if (lua_rawgeti(L, t, 1) != LUA_TNIL) { /* a list of pairs */
        lua_pop(L, 1);
        lua_Integer n = (lua_Integer)lua_rawlen(L, t);
        for (lua_Integer i = 1; i <= n; i++) {
            if (lua_rawgeti(L, t, i) != LUA_TTABLE)
                luaL_argerror(L, arg, "query/form lists hold {name, value} pairs");
            lua_rawgeti(L, -1, 1);
            lua_rawgeti(L, -2, 2);
            add_pair(L, parts, -2, -1, arg);
            lua_pop(L, 3);
        }
    } else { /* a map: the keys in byte order, so the output is deterministic */
        lua_pop(L, 1);
        /* the names are copied into a table, which anchors them whatever a
         * __gc finalizer (they run at any allocation) does to t */
        lua_newtable(L);
        int names = lua_gettop(L);
        lua_Integer n = 0;
        lua_pushnil(L);
        while (lua_next(L, t)) {
            if (lua_type(L, -2) != LUA_TSTRING) luaL_argerror(L, arg, "query/form keys must be strings");
            lua_pop(L, 1);
            lua_pushvalue(L, -1);
            lua_rawseti(L, names, ++n);
        }
        name_ref *keys = lua_newuserdatauv(L, (size_t)(n ? n : 1) * sizeof *keys, 0);
        for (lua_Integer i = 0; i < n; i++) {
            lua_rawgeti(L, names, i + 1);
            keys[i].s = lua_tolstring(L, -1, &keys[i].n);
            keys[i].at = i + 1;
            lua_pop(L, 1);
        }
        qsort(keys, (size_t)n, sizeof *keys, cmp_names);
        for (lua_Integer i = 0; i < n; i++) {
            lua_rawgeti(L, names, keys[i].at);
            lua_pushvalue(L, -1);
            lua_rawget(L, t);
            add_pair(L, parts, -2, -1, arg);
            lua_pop(L, 2);
        }
        lua_pop(L, 2);
    }
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    lua_Integer n = (lua_Integer)lua_rawlen(L, parts);
    for (lua_Integer i = 1; i <= n; i++) {
        if (i > 1) luaL_addchar(&b, '&');
        lua_rawgeti(L, parts, i);
        luaL_addvalue(&b);
    }
    luaL_pushresult(&b);
    lua_remove(L, parts);
}

/* --- requests ------------------------------------------------------------- */

/* Keeps the string on top alive in the batch's anchor table and pops it. */
static const char *anchor(lua_State *L, int anchors, size_t *len) {
    const char *s = lua_tolstring(L, -1, len);
    lua_rawseti(L, anchors, (lua_Integer)lua_rawlen(L, anchors) + 1);
    return s;
}

static void add_header(lua_State *L, struct curl_slist **list, const char *line) {
    struct curl_slist *grown = curl_slist_append(*list, line);
    if (!grown) luaL_error(L, "not enough memory");
    *list = grown;
}

static int has_header(lua_State *L, int headers, struct curl_slist *more, const char *name) {
    size_t n = strlen(name);
    if (headers) {
        lua_pushnil(L);
        while (lua_next(L, headers)) {
            lua_pop(L, 1);
            if (lua_type(L, -1) == LUA_TSTRING && !strcasecmp(lua_tostring(L, -1), name)) {
                lua_pop(L, 1);
                return 1;
            }
        }
    }
    for (; more; more = more->next)
        if (!strncasecmp(more->data, name, n) && (more->data[n] == ':' || more->data[n] == ';')) return 1;
    return 0;
}

/* Appends the headers of table t ("Name" -> string or number) to *list. */
static void add_headers(lua_State *L, struct curl_slist **list, int t, int arg, const char *ctx) {
    lua_pushnil(L);
    while (lua_next(L, t)) {
        size_t nl, vl;
        const char *name = lua_type(L, -2) == LUA_TSTRING ? lua_tolstring(L, -2, &nl) : NULL;
        int type = lua_type(L, -1);
        const char *value = type == LUA_TSTRING || type == LUA_TNUMBER ? lua_tolstring(L, -1, &vl) : NULL;
        if (!name || !value) bad_arg(L, arg, ctx, "%s", "headers map names to strings");
        /* no header splitting: a name is a token, a value a single line */
        if (!nl || strcspn(name, ":\r\n \t") != nl || strcspn(value, "\r\n") != vl)
            bad_arg(L, arg, ctx, "invalid header '%s'", name);
        /* "Name;" is curl's way to send an empty value */
        add_header(L, list, vl ? lua_pushfstring(L, "%s: %s", name, value) : lua_pushfstring(L, "%s;", name));
        lua_pop(L, 2);
    }
}

/* --- multipart/form-data bodies ------------------------------------------ */

#define BOUNDARY_LEN 36 /* "sis-" + 32 hex digits */

/* A name, filename or content type that goes into a part's header line: no
 * quote, CR, LF or NUL (rejected rather than escaped: servers disagree on
 * escapes, RFC 7578 4.2). */
static const char *header_word(lua_State *L, int idx, const char *what, int arg, const char *ctx) {
    size_t n;
    if (lua_type(L, idx) != LUA_TSTRING) bad_arg(L, arg, ctx, "multipart %s must be a string", what);
    const char *s = lua_tolstring(L, idx, &n);
    if (strcspn(s, "\"\r\n") != n) bad_arg(L, arg, ctx, "multipart %s holds a quote, CR, LF or NUL", what);
    return s;
}

/* The length of the string at index i of the list at idx. */
static size_t item_len(lua_State *L, int idx, lua_Integer i) {
    lua_rawgeti(L, idx, i);
    size_t n = lua_rawlen(L, -1);
    lua_pop(L, 1);
    return n;
}

/* Whether a string of the list at idx (items 1..n) contains s. */
static int any_contains(lua_State *L, int idx, lua_Integer n, const char *s, size_t sl) {
    int found = 0;
    for (lua_Integer i = 1; i <= n && !found; i++) {
        size_t pl;
        lua_rawgeti(L, idx, i);
        const char *p = lua_tolstring(L, -1, &pl);
        found = memmem(p, pl, s, sl) != NULL;
        lua_pop(L, 1);
    }
    return found;
}

/* Pushes the multipart/form-data body (RFC 7578) of the list at t, whose
 * items are {name, value}: a value is a field (string, number or boolean) or
 * a file, {data = string, filename = string [, content_type = string]}. The
 * boundary (written to boundary) is random; while a cassette records or
 * replays it is derived from the parts instead (SHA-1), because a cassette
 * matches a request by its body. Either way no part contains it. */
static void push_multipart(lua_State *L, int t, int arg, const char *ctx, char boundary[BOUNDARY_LEN + 1]) {
    static const char *const not_a_list = "multipart is a list of {name, value} pairs";
    t = lua_absindex(L, t);
    lua_Integer n = (lua_Integer)lua_rawlen(L, t);
    if (!n) { /* an empty list, not a map */
        lua_pushnil(L);
        if (lua_next(L, t)) bad_arg(L, arg, ctx, "%s", not_a_list);
    }
    lua_createtable(L, (int)n, 0);
    int parts = lua_gettop(L);     /* each "headers\r\n\r\ndata" */
    for (lua_Integer i = 1; i <= n; i++) {
        if (lua_rawgeti(L, t, i) != LUA_TTABLE) bad_arg(L, arg, ctx, "%s", not_a_list);
        int item = lua_gettop(L);
        lua_pushliteral(L, "Content-Disposition: form-data; name=\"");
        lua_rawgeti(L, item, 1);
        header_word(L, -1, "name", arg, ctx);
        lua_pushliteral(L, "\"");
        if (lua_rawgeti(L, item, 2) == LUA_TTABLE) { /* a file */
            int file = lua_gettop(L);
            lua_pushliteral(L, "; filename=\"");
            lua_getfield(L, file, "filename");
            header_word(L, -1, "filename", arg, ctx);
            lua_pushliteral(L, "\"\r\nContent-Type: ");
            if (lua_getfield(L, file, "content_type") == LUA_TNIL) {
                lua_pop(L, 1);
                lua_pushliteral(L, "application/octet-stream");
            } else {
                header_word(L, -1, "content_type", arg, ctx);
            }
            lua_pushliteral(L, "\r\n\r\n");
            if (lua_getfield(L, file, "data") != LUA_TSTRING)
                bad_arg(L, arg, ctx, "%s", "a multipart file needs data (a string)");
            lua_remove(L, file);
        } else { /* a field */
            size_t vl;
            query_value(L, -1, &vl, arg);
            if (lua_gettop(L) > item + 4) lua_remove(L, -2); /* a number or boolean: its text */
            lua_pushliteral(L, "\r\n\r\n");
            lua_insert(L, -2);
        }
        lua_concat(L, lua_gettop(L) - item);
        lua_rawseti(L, parts, i);
        lua_pop(L, 1);
    }
    int mode;
    sis_cassette_release(sis_cassette_acquire(&mode));
    unsigned char d[SHA_DIGEST_LENGTH];
    if (mode != SIS_HTTP_LIVE) { /* the digest of the parts, each after its length */
        luaL_Buffer h;
        luaL_buffinit(L, &h);
        for (lua_Integer i = 1; i <= n; i++) {
            char len[24];
            snprintf(len, sizeof len, "%zu:", item_len(L, parts, i));
            luaL_addstring(&h, len);
            lua_rawgeti(L, parts, i);
            luaL_addvalue(&h);
        }
        luaL_pushresult(&h);
        size_t hl;
        const char *all = lua_tolstring(L, -1, &hl);
        SHA1((const unsigned char *)all, hl, d);
        lua_pop(L, 1);
    }
    for (;;) {
        if (mode == SIS_HTTP_LIVE && sis_random_bytes(d, 16) != 0) luaL_error(L, "sis.http: getrandom failed");
        memcpy(boundary, "sis-", 4);
        sis_hex_encode(d, 16, boundary + 4);
        boundary[BOUNDARY_LEN] = 0;
        if (!any_contains(L, parts, n, boundary, BOUNDARY_LEN)) break;
        if (mode != SIS_HTTP_LIVE) SHA1(d, sizeof d, d); /* the next derived one */
    }
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (lua_Integer i = 1; i <= n; i++) {
        luaL_addstring(&b, "--");
        luaL_addlstring(&b, boundary, BOUNDARY_LEN);
        luaL_addstring(&b, "\r\n");
        lua_rawgeti(L, parts, i);
        luaL_addvalue(&b);
        luaL_addstring(&b, "\r\n");
    }
    luaL_addstring(&b, "--");
    luaL_addlstring(&b, boundary, BOUNDARY_LEN);
    luaL_addstring(&b, "--\r\n");
    luaL_pushresult(&b);
    lua_remove(L, parts);
}

/* Pushes the JSON text of the value at idx, through sis.json. */
static void push_json(lua_State *L, int idx) {
    idx = lua_absindex(L, idx);
    luaL_requiref(L, "sis.json", luaopen_sis_json, 0);
    if (lua_getfield(L, -1, "encode") != LUA_TFUNCTION)
        luaL_error(L, "sis.http: a json body needs sis.json's encode, which this build lacks");
    lua_pushvalue(L, idx);
    lua_call(L, 1, 1);
    if (lua_type(L, -1) != LUA_TSTRING) luaL_error(L, "sis.http: json.encode returned no string");
    lua_remove(L, -2);
}

/* RFC 9110 9.2.2: a request that may be sent twice with the effect of once. */
static int is_idempotent(const char *method) {
    static const char *const safe[] = {"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE", NULL};
    for (int i = 0; safe[i]; i++)
        if (!strcmp(method, safe[i])) return 1;
    return 0;
}

/* Fills t from the request table at req (0: none). url and method, when not
 * NULL, come from a shorthand (s:get / s:post) and may not be in req. */
static void parse_request(lua_State *L, session *s, transfer *t, int anchors, int req, int arg,
                          const char *ctx, const char *url, const char *method) {
    int top = lua_gettop(L);
    size_t len;
    if (req) check_fields(L, req, request_fields, arg, ctx);
    if (url && req && (lua_getfield(L, req, "url") != LUA_TNIL || lua_getfield(L, req, "method") != LUA_TNIL))
        bad_arg(L, arg, ctx, "%s", "url and method are given by the call");
    lua_settop(L, top);
    if (!url) {
        if (lua_getfield(L, req, "url") != LUA_TSTRING) bad_arg(L, arg, ctx, "'%s' (a string) is required", "url");
        url = lua_tostring(L, -1);
    }
    if (req && lua_getfield(L, req, "query") != LUA_TNIL) {
        if (!lua_istable(L, -1)) bad_arg(L, arg, ctx, "'%s' must be a table", "query");
        push_query(L, -1, arg);
        size_t ql, cut = strcspn(url, "#");
        const char *q = lua_tolstring(L, -1, &ql);
        luaL_Buffer b;
        luaL_buffinit(L, &b);
        luaL_addlstring(&b, url, cut);
        if (ql) {
            if (!memchr(url, '?', cut)) luaL_addchar(&b, '?');
            else if (cut && url[cut - 1] != '?' && url[cut - 1] != '&') luaL_addchar(&b, '&');
            luaL_addlstring(&b, q, ql);
        }
        luaL_addstring(&b, url + cut);
        luaL_pushresult(&b);
    } else {
        lua_pushstring(L, url);
    }
    t->rq.url = anchor(L, anchors, &len);
    lua_settop(L, top);

    const char *content_type = NULL;
    char multipart_type[64 + BOUNDARY_LEN];
    int bodies = 0;
    if (req && lua_getfield(L, req, "form") != LUA_TNIL) {
        if (!lua_istable(L, -1)) bad_arg(L, arg, ctx, "'%s' must be a table", "form");
        push_query(L, -1, arg);
        t->rq.body = anchor(L, anchors, &t->rq.body_len);
        content_type = "Content-Type: application/x-www-form-urlencoded";
        bodies++;
    }
    if (req && lua_getfield(L, req, "json") != LUA_TNIL) {
        push_json(L, -1);
        t->rq.body = anchor(L, anchors, &t->rq.body_len);
        content_type = "Content-Type: application/json";
        bodies++;
    }
    if (req && lua_getfield(L, req, "body") != LUA_TNIL) {
        if (lua_type(L, -1) != LUA_TSTRING) bad_arg(L, arg, ctx, "'%s' must be a string", "body");
        lua_pushvalue(L, -1);
        t->rq.body = anchor(L, anchors, &t->rq.body_len);
        bodies++;
    }
    if (req && lua_getfield(L, req, "multipart") != LUA_TNIL) {
        if (!lua_istable(L, -1)) bad_arg(L, arg, ctx, "'%s' must be a table", "multipart");
        char boundary[BOUNDARY_LEN + 1];
        push_multipart(L, -1, arg, ctx, boundary);
        t->rq.body = anchor(L, anchors, &t->rq.body_len);
        snprintf(multipart_type, sizeof multipart_type, "Content-Type: multipart/form-data; boundary=%s", boundary);
        content_type = multipart_type;
        bodies++;
    }
    if (bodies > 1) bad_arg(L, arg, ctx, "%s", "give only one of form, json, multipart and body");
    lua_settop(L, top);

    if (!method && req && lua_getfield(L, req, "method") != LUA_TNIL) {
        if (lua_type(L, -1) != LUA_TSTRING) bad_arg(L, arg, ctx, "'%s' must be a string", "method");
        method = lua_tolstring(L, -1, &len);
        if (!len || strcspn(method, " \t\r\n") != len) bad_arg(L, arg, ctx, "invalid method '%s'", method);
    }
    if (!method) method = t->rq.body ? "POST" : "GET";
    lua_pushstring(L, method);
    t->rq.method = anchor(L, anchors, &len);
    lua_settop(L, top);

    t->timeout_ms = req ? field_ms(L, req, "timeout", s->timeout_ms, arg, ctx) : s->timeout_ms;
    t->redirects = req ? field_bool(L, req, "redirects", s->redirects, arg, ctx) : s->redirects;
    t->max_body = req ? (curl_off_t)field_int(L, req, "max_body", s->max_body, arg, ctx) : s->max_body;
    t->idempotent = is_idempotent(t->rq.method);
    if (req) t->idempotent = field_bool(L, req, "idempotent", t->idempotent, arg, ctx);

    int headers = 0;
    if (req && lua_getfield(L, req, "headers") != LUA_TNIL) {
        if (!lua_istable(L, -1)) bad_arg(L, arg, ctx, "'%s' must be a table", "headers");
        headers = lua_gettop(L);
        add_headers(L, &t->headers, headers, arg, ctx);
    }
    for (struct curl_slist *h = s->headers; h; h = h->next) {
        lua_pushlstring(L, h->data, strcspn(h->data, ":;"));
        if (!headers || !has_header(L, headers, NULL, lua_tostring(L, -1))) add_header(L, &t->headers, h->data);
        lua_pop(L, 1);
    }
    if (content_type && !has_header(L, headers, s->headers, "content-type")) add_header(L, &t->headers, content_type);
    add_header(L, &t->headers, "Expect:"); /* no 100-continue round trip for large bodies */
    lua_settop(L, top);
}

/* --- batches -------------------------------------------------------------- */

static int batch_gc(lua_State *L) {
    batch *b = luaL_checkudata(L, 1, BATCH_MT);
    for (size_t i = 0; i < b->n; i++) {
        curl_slist_free_all(b->t[i].headers);
        b->t[i].headers = NULL;
        sis_exchange_free(&b->t[i].x);
    }
    return 0;
}

/* Pushes a batch of n transfers and its anchor table; returns the batch. */
static batch *new_batch(lua_State *L, size_t n) {
    batch *b = lua_newuserdatauv(L, offsetof(batch, t) + n * sizeof(transfer), 1);
    memset(b, 0, offsetof(batch, t) + n * sizeof(transfer));
    b->n = n;
    luaL_setmetatable(L, BATCH_MT);
    lua_newtable(L);
    lua_pushvalue(L, -1);
    lua_setiuservalue(L, -3, 1);
    return b;
}

/* The length of the scheme://authority part of url. */
static size_t origin_len(const char *url) {
    const char *host = strstr(url, "://");
    return host ? (size_t)(host + 3 - url) + strcspn(host + 3, "/?#") : strlen(url);
}

/* Links each transfer to the first one with the same origin (case-insensitive). */
static void group_origins(batch *b) {
    for (size_t i = 0; i < b->n; i++) {
        const char *u = b->t[i].rq.url;
        size_t len = origin_len(u), j = 0;
        while (j < i && (origin_len(b->t[j].rq.url) != len || strncasecmp(u, b->t[j].rq.url, len))) j++;
        b->t[i].origin = j;
    }
}

/* --- transfers -------------------------------------------------------------- */

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud) {
    transfer *t = ud;
    sis_exchange *x = &t->x;
    size_t n = size * nmemb;
    if ((curl_off_t)(x->body_len + n) > t->max_body) {
        t->too_large = 1;
        return 0;
    }
    if (x->body_len + n > x->body_cap) {
        size_t cap = x->body_cap ? x->body_cap * 2 : 16384;
        while (cap < x->body_len + n) cap *= 2;
        char *grown = realloc(x->body, cap);
        if (!grown) {
            t->oom = 1;
            return 0;
        }
        x->body = grown;
        x->body_cap = cap;
    }
    memcpy(x->body + x->body_len, data, n);
    x->body_len += n;
    return n;
}

/* Keeps the headers of the last response only (a status line starts a new
 * one), and every Set-Cookie with the URL of the hop that sent it. */
static size_t on_header(char *line, size_t size, size_t nmemb, void *ud) {
    transfer *t = ud;
    size_t n = size * nmemb, len = n;
    while (len && (line[len - 1] == '\r' || line[len - 1] == '\n')) len--;
    if (len >= 5 && !memcmp(line, "HTTP/", 5)) {
        sis_strv_free(&t->x.headers);
        return n;
    }
    const char *colon = memchr(line, ':', len);
    if (!colon || colon == line) return n; /* the blank line ending the headers */
    size_t nl = (size_t)(colon - line);
    const char *v = colon + 1, *end = line + len;
    while (v < end && (*v == ' ' || *v == '\t')) v++;
    while (end > v && (end[-1] == ' ' || end[-1] == '\t')) end--;
    if (sis_strv_push(&t->x.headers, line, nl) != 0 ||
        sis_strv_push(&t->x.headers, v, (size_t)(end - v)) != 0) {
        t->oom = 1;
        return 0;
    }
    char *name = t->x.headers.items[t->x.headers.n - 2];
    for (char *p = name; *p; p++) *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
    if (!strcmp(name, "set-cookie")) {
        char *hop = NULL;
        curl_easy_getinfo(t->easy, CURLINFO_EFFECTIVE_URL, &hop);
        if (!hop || sis_strv_push(&t->x.cookies, hop, strlen(hop)) != 0 ||
            sis_strv_push(&t->x.cookies, v, (size_t)(end - v)) != 0) {
            t->oom = 1;
            return 0;
        }
    }
    return n;
}

/* Whether a session with public_only may connect to the address: not to
 * loopback, private (RFC 1918, fc00::/7), link-local (cloud metadata at
 * 169.254.169.254), shared (100.64/10), unspecified, multicast or reserved
 * ones. A URL a user gives (a webhook) must not reach the server's own
 * network. (Addresses are copied out of the sockaddr, not read through
 * casts of it: GCC at -O2 misread a sockaddr_in built here and passed as a
 * sockaddr.) */
static int public_v4(const struct in_addr *in) {
    uint32_t a = ntohl(in->s_addr);
    return !((a >> 24) == 0 || (a >> 24) == 10 || (a >> 24) == 127 || (a >> 16) == 0xA9FE ||
             (a >> 20) == 0xAC1 || (a >> 16) == 0xC0A8 || (a >> 22) == 0x191 || (a >> 28) >= 0xE);
}

static int public_v6(const struct in6_addr *a6) {
    if (IN6_IS_ADDR_V4MAPPED(a6) || IN6_IS_ADDR_V4COMPAT(a6)) {
        struct in_addr v4;
        memcpy(&v4, a6->s6_addr + 12, sizeof v4);
        return public_v4(&v4);
    }
    return !(IN6_IS_ADDR_UNSPECIFIED(a6) || IN6_IS_ADDR_LOOPBACK(a6) || IN6_IS_ADDR_LINKLOCAL(a6) ||
             IN6_IS_ADDR_SITELOCAL(a6) || IN6_IS_ADDR_MULTICAST(a6) || (a6->s6_addr[0] & 0xFE) == 0xFC);
}

/* curl's socket for a connection of a public_only session: none for an
 * address that is not public (curl tries the host's next address, or fails). */
static curl_socket_t open_public(void *ud, curlsocktype purpose, struct curl_sockaddr *a) {
    transfer *t = ud;
    if (purpose != CURLSOCKTYPE_IPCXN) return socket(a->family, a->socktype, a->protocol);
    struct sockaddr_in v4;
    struct sockaddr_in6 v6;
    int ok = 0;
    char ip[INET6_ADDRSTRLEN] = "?";
    if (a->family == AF_INET && a->addrlen >= sizeof v4) {
        memcpy(&v4, &a->addr, sizeof v4);
        ok = public_v4(&v4.sin_addr);
        inet_ntop(AF_INET, &v4.sin_addr, ip, sizeof ip);
    } else if (a->family == AF_INET6 && a->addrlen >= sizeof v6) {
        memcpy(&v6, &a->addr, sizeof v6);
        ok = public_v6(&v6.sin6_addr);
        inet_ntop(AF_INET6, &v6.sin6_addr, ip, sizeof ip);
    }
    if (!ok) {
        snprintf(t->refused, sizeof t->refused, "%s is not a public address (the session is public_only)", ip);
        return CURL_SOCKET_BAD;
    }
    return socket(a->family, a->socktype, a->protocol);
}

/* The options that change from transfer to transfer (the fixed ones are set
 * once, in take_handle). */
static void setup_easy(session *s, transfer *t) {
    CURL *e = t->easy;
    curl_easy_setopt(e, CURLOPT_URL, t->rq.url);
    curl_easy_setopt(e, CURLOPT_PRIVATE, (void *)t);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->errbuf);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, (void *)t);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, (void *)t);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, t->timeout_ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, s->connect_timeout_ms);
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, t->redirects ? 1L : 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, s->verify ? 1L : 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, s->verify ? 2L : 0L);
    curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, t->max_body); /* refuses a long Content-Length early */
    curl_easy_setopt(e, CURLOPT_USERAGENT, s->user_agent);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
    curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, t->idempotent && !s->public_only ? 0L : 1L); /* see the top comment */
    /* public_only: every request on a connection of its own, checked by open_public */
    curl_easy_setopt(e, CURLOPT_FORBID_REUSE, s->public_only ? 1L : 0L);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, s->public_only ? open_public : NULL);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, s->public_only ? (void *)t : NULL);
    curl_easy_setopt(e, CURLOPT_HTTPGET, 1L); /* back to a plain GET, then the method */
    const char *m = t->rq.method;
    if (!strcmp(m, "HEAD")) {
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    } else if (t->rq.body || !strcmp(m, "POST") || !strcmp(m, "PUT") || !strcmp(m, "PATCH")) {
        /* these methods send a (maybe empty) body, or curl's GET would go
         * out as the request line: s:post(url) must be a POST */
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)t->rq.body_len);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, t->rq.body ? t->rq.body : "");
    }
    /* POST stays curl's POST so that a 302/303 turns into a GET, as browsers do */
    if (strcmp(m, "GET") && strcmp(m, "HEAD") && strcmp(m, "POST")) curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, m);
    else if (!strcmp(m, "GET") && t->rq.body) curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, m);
}

static const char *error_kind(CURLcode rc) {
    switch (rc) {
    case CURLE_OPERATION_TIMEDOUT: return "timeout";
    case CURLE_COULDNT_CONNECT: return "connect";
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY: return "resolve";
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_CLIENTCERT:
    case CURLE_USE_SSL_FAILED: return "tls";
    case CURLE_FILESIZE_EXCEEDED: return "too_large";
    case CURLE_TOO_MANY_REDIRECTS: return "redirects";
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_HTTP3:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_BAD_CONTENT_ENCODING:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR: return "protocol";
    default: return "other";
    }
}

/* Turns t's outcome into a failure "<kind>: <message> (<url without query>)". */
static void set_error(transfer *t, const char *kind, const char *message) {
    sis_exchange *x = &t->x;
    x->status = 0;
    snprintf(x->kind, sizeof x->kind, "%s", kind);
    sis_strv_free(&x->headers);
    free(x->body);
    x->body = NULL;
    x->body_len = x->body_cap = 0;
    free(x->error);
    /* the URL without its query, nor the user:password@ of its authority */
    const char *url = t->rq.url, *host = strstr(url, "://");
    int scheme = host ? (int)(host + 3 - url) : 0;
    const char *rest = url + scheme, *at = memrchr(rest, '@', strcspn(rest, "/?#"));
    if (at) rest = at + 1;
    if (asprintf(&x->error, "%s: %s (%.*s%.*s)", kind, message, scheme, url, (int)strcspn(rest, "?#"), rest) < 0)
        x->error = NULL;
}

static void log_outcome(const transfer *t, const char *how) {
    if (!sis_log_enabled(SIS_LOG_DEBUG)) return;
    if (t->x.status)
        sis_log(SIS_LOG_DEBUG, "http%s %s %s -> %ld (%.3f s)", how, t->rq.method, t->rq.url, t->x.status,
                t->x.elapsed);
    else
        sis_log(SIS_LOG_DEBUG, "http%s %s %s failed: %s", how, t->rq.method, t->rq.url, t->x.kind);
}

/* --- running a batch --------------------------------------------------------- */

/* curl's default CA bundle (read once at start-up), for sessions without cafile. */
static char *system_bundle;

/* Called by curl for each new TLS connection, before its handshake: the
 * certificates it trusts are the session's bundle. */
static CURLcode trust_hook(CURL *e, void *ssl_ctx, void *arg) {
    const session *s = arg;
    if (!s->verify) return CURLE_OK;
    const char *file = s->cafile ? s->cafile : system_bundle;
    char *p = NULL, err[sizeof ((transfer *)0)->tls_error];
    curl_easy_getinfo(e, CURLINFO_PRIVATE, &p);
    transfer *t = (transfer *)p;
    if (!file) snprintf(err, sizeof err, "no CA bundle to verify certificates with: give SIS_CA_FILE (--ca-file)");
    else if (sis_tls_trust(ssl_ctx, file, err, sizeof err) == 0) return CURLE_OK;
    if (t) snprintf(t->tls_error, sizeof t->tls_error, "%s", err);
    return CURLE_SSL_CACERT_BADFILE;
}

/* A handle from the pool, created on demand with the options every transfer
 * shares. */
static CURL *take_handle(session *s) {
    if (s->nidle) return s->idle[--s->nidle];
    CURL **grown = realloc(s->idle, (s->nhandles + 1) * sizeof *grown);
    if (!grown) return NULL;
    s->idle = grown;
    CURL *e = curl_easy_init();
    if (!e) return NULL;
    s->nhandles++;
    curl_easy_setopt(e, CURLOPT_SHARE, s->share);
    curl_easy_setopt(e, CURLOPT_COOKIEFILE, ""); /* the cookie engine, on the shared jar */
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_MAXREDIRS, MAX_REDIRECTS);
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    /* The certificates trusted come from tls.c, through the SSL_CTX hook:
     * curl itself loads none (it parsed the whole bundle again for every new
     * connection) and caches no store. */
    curl_easy_setopt(e, CURLOPT_CAINFO, NULL);
    curl_easy_setopt(e, CURLOPT_CAPATH, NULL);
    curl_easy_setopt(e, CURLOPT_CA_CACHE_TIMEOUT, 0L);
    curl_easy_setopt(e, CURLOPT_SSL_CTX_FUNCTION, trust_hook);
    curl_easy_setopt(e, CURLOPT_SSL_CTX_DATA, (void *)s);
    return e;
}

/* Handles are reused without curl_easy_reset, which in libcurl 7.88 leaks
 * the COOKIEFILE list: setup_easy sets every per-transfer option, and this
 * drops the pointers into the transfer, which is about to be freed. */
static void release_handle(session *s, transfer *t) {
    CURL *e = t->easy;
    curl_easy_setopt(e, CURLOPT_PRIVATE, NULL);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, NULL);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, NULL);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, NULL);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, NULL);
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, NULL);
    s->idle[s->nidle++] = e;
    t->easy = NULL;
}

static int start(session *s, batch *b, transfer *t) {
    /* a REST request's deadline (request.h) bounds each of its transfers */
    double left = sis_request_left();
    if (left <= 0) {
        set_error(t, "timeout", "the request's time ran out before this transfer");
        return -1;
    }
    if (!(t->easy = take_handle(s))) {
        set_error(t, "other", "out of memory");
        return -1;
    }
    setup_easy(s, t);
    if (left * 1000 < (double)t->timeout_ms) curl_easy_setopt(t->easy, CURLOPT_TIMEOUT_MS, (long)(left * 1000) + 1);
    if (curl_multi_add_handle(b->multi, t->easy) != CURLM_OK) {
        release_handle(s, t);
        set_error(t, "other", "cannot start the transfer");
        return -1;
    }
    return 0;
}

/* Collects the outcome of a finished transfer and returns its handle. */
static void finish(session *s, batch *b, transfer *t, CURLcode rc) {
    CURL *e = t->easy;
    sis_exchange *x = &t->x;
    curl_off_t us = 0;
    curl_easy_getinfo(e, CURLINFO_TOTAL_TIME_T, &us);
    x->elapsed = (double)us / 1e6;
    if (rc == CURLE_OK) {
        char *url = NULL;
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &x->status);
        curl_easy_getinfo(e, CURLINFO_EFFECTIVE_URL, &url);
        if (!(x->final_url = strdup(url ? url : t->rq.url))) t->oom = 1;
    }
    if (t->too_large || rc == CURLE_FILESIZE_EXCEEDED) { /* the body, or its Content-Length */
        char msg[64];
        snprintf(msg, sizeof msg, "response body over %lld bytes", (long long)t->max_body);
        set_error(t, "too_large", msg);
    } else if (t->oom) {
        set_error(t, "other", "out of memory");
    } else if (rc != CURLE_OK && t->tls_error[0]) {
        set_error(t, "tls", t->tls_error);
    } else if (rc != CURLE_OK && t->refused[0]) {
        set_error(t, "connect", t->refused);
    } else if (rc != CURLE_OK) {
        set_error(t, error_kind(rc), t->errbuf[0] ? t->errbuf : curl_easy_strerror(rc));
    }
    curl_multi_remove_handle(b->multi, e);
    release_handle(s, t);
    t->state = DONE;
    b->t[t->origin].running--;
    log_outcome(t, "");
}

/* Fails every transfer not done yet with message. */
static void stop_all(session *s, batch *b, const char *message) {
    for (size_t i = 0; i < b->n; i++) {
        transfer *t = &b->t[i];
        if (t->easy) {
            curl_multi_remove_handle(b->multi, t->easy);
            release_handle(s, t);
        }
        if (t->state != DONE) set_error(t, "other", message);
        t->state = DONE;
    }
}

static int call_progress(lua_State *L, int fn, size_t done, size_t total) {
    if (!fn) return LUA_OK;
    lua_pushvalue(L, fn);
    lua_pushinteger(L, (lua_Integer)done);
    lua_pushinteger(L, (lua_Integer)total);
    return lua_pcall(L, 2, 0, 0);
}

/* Starts the waiting transfers whose origin has fewer than per_host running. */
static int start_ready(lua_State *L, session *s, batch *b, int progress, size_t *done) {
    while (b->next < b->n && b->t[b->next].state != WAITING) b->next++;
    for (size_t i = b->next; i < b->n; i++) {
        transfer *t = &b->t[i];
        if (t->state != WAITING || b->t[t->origin].running >= (size_t)s->per_host) continue;
        if (start(s, b, t) == 0) {
            t->state = RUNNING;
            b->t[t->origin].running++;
            continue;
        }
        t->state = DONE;
        int status = call_progress(L, progress, ++*done, b->n);
        if (status != LUA_OK) return status;
    }
    return LUA_OK;
}

/* Runs the batch on its multi handle. rec: the cassette to record to, or
 * NULL. Returns LUA_OK, or the status of a failed on_progress call
 * (its error on the stack top) once every transfer is stopped. */
static int run_live(lua_State *L, session *s, batch *b, sis_cassette *rec, int progress) {
    group_origins(b);
    size_t done = 0;
    int status = LUA_OK;
    while (done < b->n && status == LUA_OK) {
        status = start_ready(L, s, b, progress, &done);
        if (status != LUA_OK || done == b->n) break;
        int still;
        size_t before = done;
        CURLMcode mc = curl_multi_perform(b->multi, &still);
        CURLMsg *m;
        int left;
        while (status == LUA_OK && (m = curl_multi_info_read(b->multi, &left)) != NULL) {
            if (m->msg != CURLMSG_DONE) continue;
            char *p;
            curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &p);
            transfer *t = (transfer *)p;
            finish(s, b, t, m->data.result); /* m is invalid from here on */
            if (rec) sis_cassette_save(rec, &t->rq, &t->x);
            status = call_progress(L, progress, ++done, b->n);
        }
        if (mc == CURLM_OK && done == before) mc = curl_multi_poll(b->multi, NULL, 0, 1000, NULL);
        if (mc != CURLM_OK) {
            stop_all(s, b, curl_multi_strerror(mc));
            break;
        }
    }
    if (status != LUA_OK) stop_all(s, b, "stopped by an error in on_progress");
    return status;
}

static int has_attribute(const char *cookie, const char *name) {
    size_t n = strlen(name);
    for (const char *p = strchr(cookie, ';'); p; p = strchr(p, ';')) {
        p++;
        while (*p == ' ' || *p == '\t') p++;
        if (!strncasecmp(p, name, n) && (p[n] == '=' || p[n] == ';' || p[n] == ' ' || !p[n])) return 1;
    }
    return 0;
}

/* Puts a recorded Set-Cookie into the jar. Live, curl defaults a cookie's
 * domain and path from the request; CURLOPT_COOKIELIST knows no request, so
 * the RFC 6265 defaults (host of the hop, directory of its path) are added
 * when the cookie has none. */
static void replay_cookie(session *s, const char *hop, const char *cookie) {
    CURLU *u = curl_url();
    char *host = NULL, *path = NULL, *line = NULL;
    if (u && !curl_url_set(u, CURLUPART_URL, hop, 0) && !curl_url_get(u, CURLUPART_HOST, &host, 0) &&
        !curl_url_get(u, CURLUPART_PATH, &path, 0)) {
        const char *slash = strrchr(path, '/');
        int dir = path[0] == '/' && slash && slash != path ? (int)(slash - path) : 1;
        int domain = has_attribute(cookie, "domain"), with_path = has_attribute(cookie, "path");
        if (asprintf(&line, "Set-Cookie: %s%s%s%s%.*s", cookie, domain ? "" : "; domain=", domain ? "" : host,
                     with_path ? "" : "; path=", with_path ? 0 : dir, path) < 0)
            line = NULL;
    }
    if (line) curl_easy_setopt(s->jar, CURLOPT_COOKIELIST, line);
    free(line);
    curl_free(host);
    curl_free(path);
    curl_url_cleanup(u);
}

/* Serves the batch from the cassette: no network at all. */
static int run_replay(lua_State *L, session *s, batch *b, sis_cassette *c, int progress) {
    for (size_t i = 0; i < b->n; i++) {
        transfer *t = &b->t[i];
        int found = sis_cassette_find(c, &t->rq, &t->x);
        if (found == -1) {
            char *url = sis_redact(t->rq.url, strlen(t->rq.url), NULL);
            char msg[256];
            snprintf(msg, sizeof msg, "%s %.200s is not in the cassette", t->rq.method, url);
            free(url);
            set_error(t, "replay_miss", msg);
        } else if (found == -2) {
            sis_exchange_free(&t->x);
            set_error(t, "other", "cannot read the cassette entry");
        }
        for (size_t k = 0; k + 1 < t->x.cookies.n; k += 2)
            replay_cookie(s, t->x.cookies.items[k], t->x.cookies.items[k + 1]);
        t->state = DONE;
        log_outcome(t, " (replay)");
        int status = call_progress(L, progress, i + 1, b->n);
        if (status != LUA_OK) return status;
    }
    return LUA_OK;
}

/* --- the pool ------------------------------------------------------------- */

static const char pool_key = 0; /* the registry key of the state's pool */

static int pool_gc(lua_State *L) {
    pool *p = luaL_checkudata(L, 1, POOL_MT);
    while (p->first) {
        pool_multi *m = p->first;
        p->first = m->next;
        curl_multi_cleanup(m->multi); /* closes the kept connections */
        free(m->cafile);
        free(m);
    }
    return 0;
}

static int same_cafile(const char *a, const char *b) { return a && b ? !strcmp(a, b) : a == b; }

/* The pool's multi for the session's CA bundle, created on first use. */
static pool_multi *pool_multi_for(lua_State *L, session *s) {
    pool *p;
    if (lua_rawgetp(L, LUA_REGISTRYINDEX, &pool_key) == LUA_TUSERDATA) {
        p = lua_touserdata(L, -1);
    } else {
        lua_pop(L, 1);
        p = lua_newuserdatauv(L, sizeof *p, 0);
        memset(p, 0, sizeof *p);
        luaL_setmetatable(L, POOL_MT);
        lua_pushvalue(L, -1);
        lua_rawsetp(L, LUA_REGISTRYINDEX, &pool_key);
    }
    lua_pop(L, 1);
    for (pool_multi *m = p->first; m; m = m->next)
        if (same_cafile(m->cafile, s->cafile)) return m;
    pool_multi *m = calloc(1, sizeof *m);
    if (!m) luaL_error(L, "sis.http: not enough memory");
    m->multi = curl_multi_init();
    m->cafile = s->cafile ? strdup(s->cafile) : NULL;
    if (!m->multi || (s->cafile && !m->cafile)) {
        if (m->multi) curl_multi_cleanup(m->multi);
        free(m->cafile);
        free(m);
        luaL_error(L, "sis.http: cannot create a connection pool");
        return NULL;
    }
    curl_multi_setopt(m->multi, CURLMOPT_MAXCONNECTS, POOL_CONNECTIONS);
    m->next = p->first;
    p->first = m;
    return m;
}

/* The multi handle b runs on: the pool's unless a batch already runs on it
 * (this one was started from its on_progress), then the session's own. Sets
 * *shared to the pool's multi taken, or NULL. */
static void take_multi(lua_State *L, session *s, batch *b, pool_multi **shared) {
    pool_multi *m = pool_multi_for(L, s);
    *shared = NULL;
    if (!m->busy) {
        m->busy = 1;
        *shared = m;
        b->multi = m->multi;
        return;
    }
    if (!s->own_multi && !(s->own_multi = curl_multi_init())) luaL_error(L, "sis.http: cannot start the requests");
    b->multi = s->own_multi;
}

/* Runs every transfer of the batch: live, recording or replaying. Raises
 * again an error raised by on_progress (at index progress, 0: none). */
static void perform(lua_State *L, session *s, batch *b, int progress) {
    pool_multi *shared = NULL;
    take_multi(L, s, b, &shared); /* may raise: before anything is held */
    int mode;
    sis_cassette *c = sis_cassette_acquire(&mode);
    s->busy = 1;
    int status = mode == SIS_HTTP_REPLAY ? run_replay(L, s, b, c, progress)
                                         : run_live(L, s, b, mode == SIS_HTTP_RECORD ? c : NULL, progress);
    s->busy = 0;
    if (shared) shared->busy = 0;
    b->multi = NULL;
    sis_cassette_release(c);
    if (status != LUA_OK) lua_error(L);
}

/* --- results ------------------------------------------------------------------ */

static void push_headers(lua_State *L, const sis_strv *h) {
    lua_newtable(L);
    int t = lua_gettop(L);
    for (size_t i = 0; i + 1 < h->n; i += 2) {
        const char *name = h->items[i], *value = h->items[i + 1];
        int type = lua_getfield(L, t, name);
        if (!strcmp(name, "set-cookie")) { /* an array: values may hold commas */
            if (type == LUA_TNIL) {
                lua_pop(L, 1);
                lua_newtable(L);
                lua_pushvalue(L, -1);
                lua_setfield(L, t, name);
            }
            lua_pushstring(L, value);
            lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
            lua_pop(L, 1);
        } else {
            if (type == LUA_TNIL) lua_pop(L, 1);
            else lua_pushliteral(L, ", ");
            lua_pushstring(L, value);
            lua_concat(L, type == LUA_TNIL ? 1 : 3);
            lua_setfield(L, t, name);
        }
    }
}

/* Pushes a response table, or {error =, kind =} for a failed transfer. */
static void push_result(lua_State *L, const transfer *t) {
    const sis_exchange *x = &t->x;
    if (!x->status) {
        lua_createtable(L, 0, 2);
        lua_pushstring(L, x->error ? x->error : x->kind);
        lua_setfield(L, -2, "error");
        lua_pushstring(L, x->kind);
        lua_setfield(L, -2, "kind");
        return;
    }
    lua_createtable(L, 0, 5);
    lua_pushinteger(L, x->status);
    lua_setfield(L, -2, "status");
    push_headers(L, &x->headers);
    lua_setfield(L, -2, "headers");
    lua_pushlstring(L, x->body ? x->body : "", x->body_len);
    lua_setfield(L, -2, "body");
    lua_pushstring(L, x->final_url ? x->final_url : t->rq.url);
    lua_setfield(L, -2, "url");
    lua_pushnumber(L, x->elapsed);
    lua_setfield(L, -2, "elapsed");
}

/* res | nil, err, kind */
static int push_outcome(lua_State *L, const transfer *t) {
    if (t->x.status) {
        push_result(L, t);
        return 1;
    }
    luaL_pushfail(L);
    lua_pushstring(L, t->x.error ? t->x.error : t->x.kind);
    lua_pushstring(L, t->x.kind);
    return 3;
}

/* --- sessions --------------------------------------------------------------------- */

static session *check_session(lua_State *L) {
    session *s = luaL_checkudata(L, 1, SESSION_MT);
    if (s->closed) luaL_error(L, "attempt to use a closed " SESSION_MT);
    return s;
}

static session *check_idle_session(lua_State *L) {
    session *s = check_session(L);
    if (s->busy) luaL_error(L, SESSION_MT " is busy: its requests are running (called from on_progress?)");
    return s;
}

/* s:request(req), s:get(url [, req]), s:post(url [, req]) */
static int request_one(lua_State *L, const char *method) {
    session *s = check_idle_session(L);
    const char *url = method ? luaL_checkstring(L, 2) : NULL;
    int req = method ? 3 : 2;
    if (!method || !lua_isnoneornil(L, req)) luaL_checktype(L, req, LUA_TTABLE);
    lua_settop(L, req);
    int has_req = !lua_isnil(L, req);
    batch *b = new_batch(L, 1);
    parse_request(L, s, &b->t[0], lua_gettop(L), has_req ? req : 0, req, "", url, method);
    check_idle_session(L); /* still open: reading req may have run Lua code */
    perform(L, s, b, 0);
    return push_outcome(L, &b->t[0]);
}

static int l_request(lua_State *L) { return request_one(L, NULL); }
static int l_get(lua_State *L) { return request_one(L, "GET"); }
static int l_post(lua_State *L) { return request_one(L, "POST"); }

/* s:request_all(reqs [, {on_progress = fn}]) -> results in request order */
static int l_request_all(lua_State *L) {
    session *s = check_idle_session(L);
    luaL_checktype(L, 2, LUA_TTABLE);
    int progress = 0;
    if (!lua_isnoneornil(L, 3)) {
        static const char *const fields[] = {"on_progress", NULL};
        luaL_checktype(L, 3, LUA_TTABLE);
        check_fields(L, 3, fields, 3, "");
        if (lua_getfield(L, 3, "on_progress") != LUA_TNIL) {
            if (!lua_isfunction(L, -1)) luaL_argerror(L, 3, "'on_progress' must be a function");
            progress = lua_gettop(L);
        }
    }
    size_t n = lua_rawlen(L, 2);
    batch *b = new_batch(L, n);
    int anchors = lua_gettop(L);
    for (size_t i = 0; i < n; i++) {
        if (lua_rawgeti(L, 2, (lua_Integer)i + 1) != LUA_TTABLE)
            luaL_argerror(L, 2, lua_pushfstring(L, "request %d is not a table", (int)i + 1));
        const char *ctx = lua_pushfstring(L, "request %d: ", (int)i + 1);
        parse_request(L, s, &b->t[i], anchors, anchors + 1, 2, ctx, NULL, NULL);
        lua_settop(L, anchors);
    }
    check_idle_session(L); /* still open: reading reqs may have run Lua code */
    perform(L, s, b, progress);
    lua_createtable(L, (int)n, 0);
    for (size_t i = 0; i < n; i++) {
        push_result(L, &b->t[i]);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}

static int lines_to_table(lua_State *L) {
    struct curl_slist *c = lua_touserdata(L, 1);
    lua_newtable(L);
    for (lua_Integer i = 1; c; c = c->next, i++) {
        lua_pushstring(L, c->data);
        lua_rawseti(L, -2, i);
    }
    return 1;
}

/* Pushes the jar's cookies as an array of Netscape-format lines. */
static void push_cookie_lines(lua_State *L, session *s) {
    struct curl_slist *list = NULL;
    if (curl_easy_getinfo(s->jar, CURLINFO_COOKIELIST, &list) != CURLE_OK)
        luaL_error(L, "cannot read the cookie jar");
    lua_pushcfunction(L, lines_to_table); /* protected: the list is freed either way */
    lua_pushlightuserdata(L, list);
    int status = lua_pcall(L, 1, 1, 0);
    curl_slist_free_all(list);
    if (status != LUA_OK) lua_error(L);
}

enum { C_DOMAIN, C_TAILMATCH, C_PATH, C_SECURE, C_EXPIRES, C_NAME, C_VALUE, C_FIELDS };

/* Splits a Netscape cookie line into its 7 tab-separated fields. */
static int split_cookie(const char *line, const char *f[C_FIELDS], size_t len[C_FIELDS]) {
    for (int i = 0; i < C_FIELDS; i++) {
        f[i] = line;
        len[i] = i < C_VALUE ? strcspn(line, "\t") : strlen(line);
        if (i < C_VALUE && !line[len[i]]) return -1;
        line += len[i] + 1;
    }
    return 0;
}

static int l_cookies(lua_State *L) {
    session *s = check_session(L);
    push_cookie_lines(L, s);
    lua_Integer n = (lua_Integer)lua_rawlen(L, -1), out = 0;
    lua_createtable(L, (int)n, 0);
    for (lua_Integer i = 1; i <= n; i++) {
        const char *f[C_FIELDS];
        size_t len[C_FIELDS];
        lua_rawgeti(L, -2, i);
        int bad = split_cookie(lua_tostring(L, -1), f, len);
        lua_pop(L, 1); /* the lines table still holds the string */
        if (bad) continue;
        /* curl marks HttpOnly cookies with a prefix on the domain */
        int http_only = !strncmp(f[C_DOMAIN], "#HttpOnly_", 10);
        lua_createtable(L, 0, 7);
        lua_pushlstring(L, f[C_NAME], len[C_NAME]);
        lua_setfield(L, -2, "name");
        lua_pushlstring(L, f[C_VALUE], len[C_VALUE]);
        lua_setfield(L, -2, "value");
        lua_pushlstring(L, f[C_DOMAIN] + (http_only ? 10 : 0), len[C_DOMAIN] - (http_only ? 10 : 0));
        lua_setfield(L, -2, "domain");
        lua_pushlstring(L, f[C_PATH], len[C_PATH]);
        lua_setfield(L, -2, "path");
        lua_pushboolean(L, !strncmp(f[C_SECURE], "TRUE", 4));
        lua_setfield(L, -2, "secure");
        lua_pushinteger(L, strtoll(f[C_EXPIRES], NULL, 10));
        lua_setfield(L, -2, "expires");
        lua_pushboolean(L, http_only);
        lua_setfield(L, -2, "http_only");
        lua_rawseti(L, -2, ++out);
    }
    return 1;
}

static int l_cookie(lua_State *L) {
    session *s = check_session(L);
    size_t nl;
    const char *name = luaL_checklstring(L, 2, &nl);
    push_cookie_lines(L, s);
    lua_Integer n = (lua_Integer)lua_rawlen(L, -1);
    for (lua_Integer i = 1; i <= n; i++) {
        const char *f[C_FIELDS];
        size_t len[C_FIELDS];
        lua_rawgeti(L, -1, i);
        if (!split_cookie(lua_tostring(L, -1), f, len) && len[C_NAME] == nl && !memcmp(f[C_NAME], name, nl)) {
            lua_pushlstring(L, f[C_VALUE], len[C_VALUE]);
            return 1;
        }
        lua_pop(L, 1);
    }
    lua_pushnil(L);
    return 1;
}

static int l_export_cookies(lua_State *L) {
    session *s = check_session(L);
    push_cookie_lines(L, s);
    int lines = lua_gettop(L);
    lua_Integer n = (lua_Integer)lua_rawlen(L, lines);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (lua_Integer i = 1; i <= n; i++) {
        lua_rawgeti(L, lines, i);
        luaL_addvalue(&b);
        luaL_addchar(&b, '\n');
    }
    luaL_pushresult(&b);
    return 1;
}

/* A cookie line for CURLOPT_COOKIELIST: a Netscape line (tab-separated,
 * HttpOnly ones start with #HttpOnly_) or a "Set-Cookie:" line. Anything
 * else is skipped, curl's commands ("ALL", "FLUSH", ...) included. */
static int is_cookie_line(const char *s, size_t n) {
    if (memchr(s, '\0', n)) return 0; /* curl would read a cut line */
    if (n > 11 && !strncasecmp(s, "Set-Cookie:", 11)) return 1;
    return memchr(s, '\t', n) && (s[0] != '#' || (n > 10 && !strncmp(s, "#HttpOnly_", 10)));
}

/* Netscape lines (as export_cookies writes them) or "Set-Cookie:" lines;
 * blank lines, # comments and other lines are skipped. */
static int l_import_cookies(lua_State *L) {
    session *s = check_session(L);
    size_t n;
    const char *text = luaL_checklstring(L, 2, &n), *end = text + n;
    while (text < end) {
        const char *eol = text;
        while (eol < end && *eol != '\r' && *eol != '\n') eol++;
        if (is_cookie_line(text, (size_t)(eol - text))) {
            lua_pushlstring(L, text, (size_t)(eol - text)); /* NUL-terminated for curl, which copies it */
            curl_easy_setopt(s->jar, CURLOPT_COOKIELIST, lua_tostring(L, -1));
            lua_pop(L, 1);
        }
        text = eol;
        while (text < end && (*text == '\r' || *text == '\n')) text++;
    }
    return 0;
}

static int l_clear_cookies(lua_State *L) {
    session *s = check_session(L);
    curl_easy_setopt(s->jar, CURLOPT_COOKIELIST, "ALL");
    return 0;
}

/* Everything freed is also forgotten: Lua code run while a request is read
 * (a metamethod of the request table) may close the session under it. */
static void session_free(session *s) {
    if (s->closed) return;
    s->closed = 1;
    for (size_t i = 0; i < s->nidle; i++) curl_easy_cleanup(s->idle[i]);
    free(s->idle);
    if (s->jar) curl_easy_cleanup(s->jar);
    if (s->own_multi) curl_multi_cleanup(s->own_multi);
    if (s->share) curl_share_cleanup(s->share); /* last: no handle uses it any more */
    curl_slist_free_all(s->headers);
    free(s->user_agent);
    free(s->cafile);
    s->idle = NULL;
    s->nidle = s->nhandles = 0;
    s->jar = NULL;
    s->own_multi = NULL;
    s->share = NULL;
    s->headers = NULL;
    s->user_agent = NULL;
    s->cafile = NULL;
}

static int l_close(lua_State *L) {
    session *s = luaL_checkudata(L, 1, SESSION_MT);
    if (s->busy) luaL_error(L, "cannot close a " SESSION_MT " while its requests run");
    session_free(s);
    return 0;
}

static int l_gc(lua_State *L) {
    session_free(luaL_checkudata(L, 1, SESSION_MT));
    return 0;
}

static int l_tostring(lua_State *L) {
    session *s = luaL_checkudata(L, 1, SESSION_MT);
    if (s->closed) lua_pushliteral(L, SESSION_MT " (closed)");
    else lua_pushfstring(L, SESSION_MT " (%p)", (void *)s);
    return 1;
}

/* --- the module ------------------------------------------------------------------ */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_status;
static int curl_openssl; /* tls.c hands OpenSSL objects to curl */
static const char *curl_tls;

static void init_curl(void) {
    curl_init_status = curl_global_init(CURL_GLOBAL_ALL);
    if (curl_init_status != CURLE_OK) return;
    const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
    curl_tls = v->ssl_version ? v->ssl_version : "no TLS";
    curl_openssl = !strncmp(curl_tls, "OpenSSL/", 8);
    CURL *e = curl_easy_init();
    char *dflt = NULL;
    if (e && curl_easy_getinfo(e, CURLINFO_CAINFO, &dflt) == CURLE_OK && dflt) system_bundle = strdup(dflt);
    if (e) curl_easy_cleanup(e);
}

/* The default CA bundle of every session: SIS_CA_FILE (--ca-file), or NULL. */
static const char *env_cafile(void) {
    const char *f = getenv("SIS_CA_FILE");
    return f && *f ? f : NULL;
}

/* http.session([opts]) */
static int l_session(lua_State *L) {
    int opts = lua_isnoneornil(L, 1) ? 0 : 1;
    if (opts) {
        luaL_checktype(L, 1, LUA_TTABLE);
        check_fields(L, 1, session_fields, 1, "");
    }
    lua_settop(L, 1);
    session *s = lua_newuserdatauv(L, sizeof *s, 0);
    memset(s, 0, sizeof *s);
    luaL_setmetatable(L, SESSION_MT); /* from here on __gc frees what exists */
    s->timeout_ms = 30000;
    s->connect_timeout_ms = 10000;
    s->max_body = 16 << 20;
    s->redirects = s->verify = 1;
    s->per_host = 6;
    const char *ua = "sis/" SIS_VERSION, *cafile = env_cafile();
    if (opts) {
        s->timeout_ms = field_ms(L, 1, "timeout", s->timeout_ms, 1, "");
        s->connect_timeout_ms = field_ms(L, 1, "connect_timeout", s->connect_timeout_ms, 1, "");
        s->max_body = (curl_off_t)field_int(L, 1, "max_body", s->max_body, 1, "");
        s->redirects = field_bool(L, 1, "redirects", 1, 1, "");
        s->verify = field_bool(L, 1, "verify", 1, 1, "");
        s->public_only = field_bool(L, 1, "public_only", 0, 1, "");
        s->per_host = (long)field_int(L, 1, "per_host", 6, 1, "");
        if (lua_getfield(L, 1, "user_agent") != LUA_TNIL) {
            size_t len;
            if (lua_type(L, -1) != LUA_TSTRING) bad_arg(L, 1, "", "'%s' must be a string", "user_agent");
            ua = lua_tolstring(L, -1, &len);
            if (strcspn(ua, "\r\n") != len) bad_arg(L, 1, "", "'%s' must be a single line", "user_agent");
        }
        if (lua_getfield(L, 1, "headers") != LUA_TNIL) {
            if (!lua_istable(L, -1)) bad_arg(L, 1, "", "'%s' must be a table", "headers");
            add_headers(L, &s->headers, lua_gettop(L), 1, "");
        }
        if (lua_getfield(L, 1, "cafile") != LUA_TNIL) {
            size_t len;
            if (lua_type(L, -1) != LUA_TSTRING) bad_arg(L, 1, "", "'%s' must be a string", "cafile");
            cafile = lua_tolstring(L, -1, &len);
            char err[512];
            if (!len || strlen(cafile) != len) bad_arg(L, 1, "", "'%s' must be a file name", "cafile");
            if (sis_tls_check(cafile, err, sizeof err)) bad_arg(L, 1, "", "'cafile': %s", err);
        }
    }
    s->user_agent = strdup(ua);
    s->cafile = cafile ? strdup(cafile) : NULL;
    s->share = curl_share_init();
    s->jar = curl_easy_init();
    if (!s->user_agent || (cafile && !s->cafile) || !s->share || !s->jar)
        luaL_error(L, "cannot create an HTTP session");
    /* DNS and connections are the pool's (the multi handle's) */
    curl_share_setopt(s->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_COOKIE);
    curl_share_setopt(s->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    curl_easy_setopt(s->jar, CURLOPT_SHARE, s->share);
    curl_easy_setopt(s->jar, CURLOPT_COOKIEFILE, "");
    /* without it, curl_easy_cleanup brackets its work with two sigaction
     * calls (SIGPIPE), which take a lock every thread of the process shares:
     * 6 % of sis serve's CPU went there, one session being closed per request */
    curl_easy_setopt(s->jar, CURLOPT_NOSIGNAL, 1L);
    lua_settop(L, 2);
    return 1;
}

/* http.is_public_address(ip) -> whether a public_only session may connect
 * to the IP address (text; IPv6 without brackets), or nil when ip is none */
static int l_is_public_address(lua_State *L) {
    const char *ip = luaL_checkstring(L, 1);
    struct in_addr v4;
    struct in6_addr v6;
    if (inet_pton(AF_INET, ip, &v4) == 1) lua_pushboolean(L, public_v4(&v4));
    else if (inet_pton(AF_INET6, ip, &v6) == 1) lua_pushboolean(L, public_v6(&v6));
    else luaL_pushfail(L);
    return 1;
}

/* http.encode_query(tbl) */
static int l_encode_query(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    push_query(L, 1, 1);
    return 1;
}

static int mode_result(lua_State *L, int rc, const char *err) {
    if (rc == 0) {
        lua_pushboolean(L, 1);
        return 1;
    }
    luaL_pushfail(L);
    lua_pushstring(L, err);
    return 2;
}

static int l_record(lua_State *L) {
    char err[512];
    return mode_result(L, sis_cassette_record(luaL_checkstring(L, 1), err, sizeof err), err);
}

static int l_replay(lua_State *L) {
    char err[512];
    return mode_result(L, sis_cassette_replay(L, luaL_checkstring(L, 1), err, sizeof err), err);
}

static int l_live(lua_State *L) {
    sis_cassette_live();
    lua_pushboolean(L, 1);
    return 1;
}

static const luaL_Reg session_methods[] = {
    {"request", l_request},
    {"get", l_get},
    {"post", l_post},
    {"request_all", l_request_all},
    {"cookies", l_cookies},
    {"cookie", l_cookie},
    {"export_cookies", l_export_cookies},
    {"import_cookies", l_import_cookies},
    {"clear_cookies", l_clear_cookies},
    {"close", l_close},
    {NULL, NULL},
};

static const luaL_Reg session_meta[] = {
    {"__gc", l_gc},
    {"__close", l_close},
    {"__tostring", l_tostring},
    {NULL, NULL},
};

static const luaL_Reg funcs[] = {
    {"session", l_session},
    {"encode_query", l_encode_query},
    {"is_public_address", l_is_public_address},
    {"record", l_record},
    {"replay", l_replay},
    {"live", l_live},
    {NULL, NULL},
};

int luaopen_sis_http(lua_State *L) {
    pthread_once(&curl_once, init_curl);
    if (curl_init_status != CURLE_OK)
        luaL_error(L, "sis.http: curl_global_init failed: %s", curl_easy_strerror(curl_init_status));
    char err[512];
    if (sis_cassette_from_env(L, err, sizeof err) != 0) luaL_error(L, "sis.http: %s", err);
    if (!curl_openssl) luaL_error(L, "sis.http: needs a libcurl built with OpenSSL (this one has %s)", curl_tls);
    if (env_cafile() && sis_tls_check(env_cafile(), err, sizeof err) != 0)
        luaL_error(L, "sis.http: SIS_CA_FILE (--ca-file): %s", err);
    if (luaL_newmetatable(L, SESSION_MT)) {
        luaL_setfuncs(L, session_meta, 0);
        luaL_newlib(L, session_methods);
        lua_setfield(L, -2, "__index");
    }
    lua_pop(L, 1);
    if (luaL_newmetatable(L, BATCH_MT)) {
        lua_pushcfunction(L, batch_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_pop(L, 1);
    if (luaL_newmetatable(L, POOL_MT)) {
        lua_pushcfunction(L, pool_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_pop(L, 1);
    luaL_newlib(L, funcs);
    return 1;
}
