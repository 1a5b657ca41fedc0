/* Cassettes: sis.http exchanges recorded to a directory and replayed from it
 * without any network.
 *
 * Format. A cassette is a directory of entries numbered in the order the
 * exchanges completed (recording into a directory that already holds
 * entries continues after the highest number):
 *
 *   DIR/0001.body  the response body as the script saw it (decoded)
 *   DIR/0001.json  the metadata, one JSON object:
 *     {
 *       "method": "POST",
 *       "url": "https://host/login?x=1",      request URL (redacted)
 *       "body_sha1": "a9993e36..." | null,     SHA-1 of the redacted request body
 *       "status": 200,                         0 when the transfer failed, then
 *       "error": "timeout: ... (https://host/login)", "kind": "timeout",
 *       "headers": [["content-type", "text/html"], ...],   final response, in order
 *       "set_cookies": [["https://host/login", "sid=***; Path=/"], ...],  every hop
 *       "final_url": "https://host/home",      (redacted)
 *       "elapsed": 0.012345                    seconds
 *     }
 *
 * Secrets stay off the disk: request headers (Cookie, Authorization) are not
 * stored, a request body only as a SHA-1, cookie values the server set as
 * *** (a replayed session's jar holds "sid=***"), and URLs and bodies first go
 * through sis_redact (password=..., __ac_password=..., log.secret() strings ->
 * ***), which also makes a replay match whatever password the script uses.
 * Response bodies are stored as received: they are what parsers need.
 *
 * Replay matches method + redacted URL + body SHA-1. Identical requests get
 * their recorded outcomes in recorded order; once those are used up the last
 * one is served again (a cassette behaves like a cache, not a script).
 *
 * Strings are written byte for byte (only '"', '\\' and control characters
 * escaped): a header value may hold raw Latin-1 bytes, which lua-cjson reads
 * back exactly where the strict sis.json would refuse the file. The decoding
 * runs in the calling Lua state; the index itself is plain C memory shared
 * by every thread.
 */
#include "cassette.h"
#include "log.h"
#include "text.h"

#include <lauxlib.h>
#include <lua-cjson.h>
#include <openssl/sha.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
    char *method, *url, *body_sha1; /* the key; body_sha1 is "" without a body */
    unsigned id;
    int served;
    sis_exchange x; /* without the body, read from its file when served */
} entry;

struct sis_cassette {
    int refs;
    char *dir;
    unsigned next_id; /* record */
    entry *entries;   /* replay: sorted by key, then id */
    size_t n;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int mode = SIS_HTTP_LIVE;
static sis_cassette *current;

int sis_strv_push(sis_strv *v, const char *s, size_t len) {
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 8;
        char **items = realloc(v->items, cap * sizeof *items);
        if (!items) return -1;
        v->items = items;
        v->cap = cap;
    }
    char *copy = malloc(len + 1);
    if (!copy) return -1;
    memcpy(copy, s, len);
    copy[len] = '\0';
    v->items[v->n++] = copy;
    return 0;
}

void sis_strv_free(sis_strv *v) {
    for (size_t i = 0; i < v->n; i++) free(v->items[i]);
    free(v->items);
    memset(v, 0, sizeof *v);
}

static int strv_copy(sis_strv *dst, const sis_strv *src) {
    for (size_t i = 0; i < src->n; i++)
        if (sis_strv_push(dst, src->items[i], strlen(src->items[i])) != 0) return -1;
    return 0;
}

void sis_exchange_free(sis_exchange *x) {
    free(x->error);
    sis_strv_free(&x->headers);
    sis_strv_free(&x->cookies);
    free(x->final_url);
    free(x->body);
    memset(x, 0, sizeof *x);
}

static void cassette_free(sis_cassette *c) {
    for (size_t i = 0; i < c->n; i++) {
        entry *e = &c->entries[i];
        free(e->method);
        free(e->url);
        free(e->body_sha1);
        sis_exchange_free(&e->x);
    }
    free(c->entries);
    free(c->dir);
    free(c);
}

sis_cassette *sis_cassette_acquire(int *mode_out) {
    pthread_mutex_lock(&lock);
    sis_cassette *c = current;
    *mode_out = mode;
    if (c) c->refs++;
    pthread_mutex_unlock(&lock);
    return c;
}

void sis_cassette_release(sis_cassette *c) {
    if (!c) return;
    pthread_mutex_lock(&lock);
    int left = --c->refs;
    pthread_mutex_unlock(&lock);
    if (left == 0) cassette_free(c);
}

static void install(int new_mode, sis_cassette *c) {
    pthread_mutex_lock(&lock);
    sis_cassette *old = current;
    current = c;
    mode = new_mode;
    pthread_mutex_unlock(&lock);
    sis_cassette_release(old);
}

void sis_cassette_live(void) { install(SIS_HTTP_LIVE, NULL); }

/* --- files ------------------------------------------------------------- */

static void entry_path(char *out, size_t size, const char *dir, unsigned id, const char *ext) {
    snprintf(out, size, "%s/%04u.%s", dir, id, ext);
}

static int cmp_uint(const void *a, const void *b) {
    unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
    return (x > y) - (x < y);
}

/* The entry numbers in dir (files "<digits>.json"), sorted; -1 if unreadable. */
static int list_ids(const char *dir, unsigned **ids, size_t *n) {
    DIR *d = opendir(dir);
    if (!d) return -1;
    size_t cap = 0;
    *ids = NULL;
    *n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char *end;
        if (!isdigit((unsigned char)e->d_name[0])) continue;
        unsigned long id = strtoul(e->d_name, &end, 10);
        if (strcmp(end, ".json") != 0 || id > UINT_MAX) continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 64;
            unsigned *grown = realloc(*ids, cap * sizeof *grown);
            if (!grown) {
                closedir(d);
                free(*ids);
                errno = ENOMEM;
                return -1;
            }
            *ids = grown;
        }
        (*ids)[(*n)++] = (unsigned)id;
    }
    closedir(d);
    if (*n) qsort(*ids, *n, sizeof **ids, cmp_uint);
    return 0;
}

/* The whole file, malloc'ed and NUL-terminated; NULL on failure. */
static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n - 1, f);
        if (n < cap - 1) break;
        char *grown = realloc(buf, cap *= 2);
        if (!grown) free(buf);
        buf = grown;
    }
    int failed = ferror(f);
    fclose(f);
    if (!buf || failed) {
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

static int make_dirs(const char *dir) {
    char path[PATH_MAX];
    if (!*dir) { /* the loop below starts after the first character */
        errno = ENOENT;
        return -1;
    }
    if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *p = path + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(path, 0700) != 0 && errno != EEXIST) return -1;
        *p = '/';
    }
    return mkdir(path, 0700) != 0 && errno != EEXIST ? -1 : 0;
}

/* --- keys -------------------------------------------------------------- */

static char *redacted_url(const char *url) { return sis_redact(url, strlen(url), NULL); }

static void body_sha1(const sis_request *rq, char out[2 * SHA_DIGEST_LENGTH + 1]) {
    out[0] = '\0';
    if (!rq->body) return;
    size_t n;
    char *clean = sis_redact(rq->body, rq->body_len, &n);
    unsigned char d[SHA_DIGEST_LENGTH];
    SHA1((const unsigned char *)clean, n, d);
    free(clean);
    sis_hex_encode(d, sizeof d, out);
    out[2 * SHA_DIGEST_LENGTH] = '\0';
}

static int cmp_key(const entry *a, const entry *b) {
    int c = strcmp(a->method, b->method);
    if (!c) c = strcmp(a->url, b->url);
    if (!c) c = strcmp(a->body_sha1, b->body_sha1);
    return c;
}

static int cmp_entry(const void *a, const void *b) {
    int c = cmp_key(a, b);
    return c ? c : cmp_uint(&((const entry *)a)->id, &((const entry *)b)->id);
}

/* --- record ------------------------------------------------------------ */

int sis_cassette_record(const char *dir, char *err, size_t errlen) {
    unsigned *ids;
    size_t n;
    if (make_dirs(dir) != 0 || list_ids(dir, &ids, &n) != 0) {
        snprintf(err, errlen, "cannot record to %s: %s", dir, strerror(errno));
        return -1;
    }
    sis_cassette *c = calloc(1, sizeof *c);
    char *copy = strdup(dir);
    if (!c || !copy) {
        free(c);
        free(copy);
        free(ids);
        snprintf(err, errlen, "not enough memory");
        return -1;
    }
    c->refs = 1;
    c->dir = copy;
    c->next_id = n ? ids[n - 1] + 1 : 1;
    free(ids);
    install(SIS_HTTP_RECORD, c);
    return 0;
}

static void put_string(FILE *f, const char *s) {
    if (!s) {
        fputs("null", f);
        return;
    }
    putc('"', f);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\') fprintf(f, "\\%c", ch);
        else if (ch < 0x20) fprintf(f, "\\u%04x", ch);
        else putc(ch, f);
    }
    putc('"', f);
}

static void put_redacted(FILE *f, const char *s) {
    char *clean = s ? redacted_url(s) : NULL;
    put_string(f, clean);
    free(clean);
}

/* A Set-Cookie value with the cookie's value masked ("sid=***; Path=/"):
 * session ids are secrets, and ScoDoc's __ac is base64 of user:password. */
static void put_cookie(FILE *f, const char *c) {
    size_t name = strcspn(c, "=;");
    if (c[name] != '=') {
        put_string(f, c);
        return;
    }
    const char *attrs = c + name + 1 + strcspn(c + name + 1, ";");
    char *masked = malloc(name + 5 + strlen(attrs));
    if (!masked) {
        put_string(f, "***");
        return;
    }
    sprintf(masked, "%.*s=***%s", (int)name, c, attrs);
    put_string(f, masked);
    free(masked);
}

/* Pairs as [[a, b], ...]; the first of each pair redacted when it is a URL
 * (then the second is a Set-Cookie), the value of a set-cookie header
 * masked. */
static void put_pairs(FILE *f, const char *name, const sis_strv *v, int first_is_url) {
    fprintf(f, "  \"%s\": [", name);
    for (size_t i = 0; i + 1 < v->n; i += 2) {
        fputs(i ? ",\n    [" : "\n    [", f);
        if (first_is_url) put_redacted(f, v->items[i]);
        else put_string(f, v->items[i]);
        fputs(", ", f);
        if (first_is_url || !strcasecmp(v->items[i], "set-cookie")) put_cookie(f, v->items[i + 1]);
        else put_string(f, v->items[i + 1]);
        putc(']', f);
    }
    fputs(v->n ? "\n  ],\n" : "],\n", f);
}

static int write_metadata(FILE *f, const sis_request *rq, const sis_exchange *x) {
    char sha[2 * SHA_DIGEST_LENGTH + 1];
    body_sha1(rq, sha);
    fputs("{\n  \"method\": ", f);
    put_string(f, rq->method);
    fputs(",\n  \"url\": ", f);
    put_redacted(f, rq->url);
    fputs(",\n  \"body_sha1\": ", f);
    put_string(f, rq->body ? sha : NULL);
    fprintf(f, ",\n  \"status\": %ld,\n", x->status);
    if (!x->status) {
        fputs("  \"error\": ", f);
        put_redacted(f, x->error);
        fputs(",\n  \"kind\": ", f);
        put_string(f, x->kind);
        fputs(",\n", f);
    }
    put_pairs(f, "headers", &x->headers, 0);
    put_pairs(f, "set_cookies", &x->cookies, 1);
    fputs("  \"final_url\": ", f);
    put_redacted(f, x->final_url);
    /* not %f, which writes the C locale's decimal point (os.setlocale) */
    long long us = llround(x->elapsed * 1e6);
    fprintf(f, ",\n  \"elapsed\": %lld.%06lld\n}\n", us / 1000000, us % 1000000);
    return ferror(f) ? -1 : 0;
}

static FILE *create_private(const char *path) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return NULL;
    FILE *f = fdopen(fd, "wb");
    if (!f) close(fd);
    return f;
}

void sis_cassette_save(sis_cassette *c, const sis_request *rq, const sis_exchange *x) {
    pthread_mutex_lock(&lock);
    unsigned id = c->next_id++;
    pthread_mutex_unlock(&lock);

    char path[PATH_MAX], meta[PATH_MAX], tmp[PATH_MAX + 8];
    entry_path(path, sizeof path, c->dir, id, "body");
    entry_path(meta, sizeof meta, c->dir, id, "json");
    snprintf(tmp, sizeof tmp, "%s.tmp", meta);
    /* the body first, then the metadata renamed into place: a listed entry
     * always has its body */
    FILE *f = create_private(path);
    int ok = f && fwrite(x->body ? x->body : "", 1, x->body_len, f) == x->body_len;
    if (f && fclose(f) != 0) ok = 0;
    if (ok) {
        f = create_private(tmp);
        ok = f && write_metadata(f, rq, x) == 0;
        if (f && fclose(f) != 0) ok = 0;
        ok = ok && rename(tmp, meta) == 0;
    }
    if (!ok) sis_log(SIS_LOG_WARN, "http: cannot record entry %s: %s", meta, strerror(errno));
}

/* --- replay ------------------------------------------------------------ */

typedef struct {
    sis_cassette *c;
    const unsigned *ids;
    size_t nids;
    char file[PATH_MAX]; /* the one being read, for error messages */
    char *text;          /* its contents (freed by the caller) */
} load_ctx;

/* t[name] as a malloc'ed string; NULL when absent or null unless required. */
static char *field_string(lua_State *L, int t, const char *name, int required) {
    lua_getfield(L, t, name);
    const char *s = lua_tostring(L, -1);
    if (!s && required) luaL_error(L, "field '%s' is missing", name);
    char *copy = s ? strdup(s) : NULL;
    lua_pop(L, 1);
    if (s && !copy) luaL_error(L, "not enough memory");
    return copy;
}

static void field_pairs(lua_State *L, int t, const char *name, sis_strv *out) {
    lua_getfield(L, t, name);
    if (!lua_istable(L, -1)) luaL_error(L, "field '%s' is not an array", name);
    lua_Integer n = luaL_len(L, -1);
    for (lua_Integer i = 1; i <= n; i++) {
        lua_rawgeti(L, -1, i);
        for (int k = 1; k <= 2; k++) {
            size_t len;
            lua_rawgeti(L, -1, k);
            const char *s = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &len) : NULL;
            if (!s) luaL_error(L, "field '%s' holds something else than string pairs", name);
            if (sis_strv_push(out, s, len) != 0) luaL_error(L, "not enough memory");
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
}

/* Runs protected: decodes every DIR/NNNN.json into ctx->c->entries. */
static int load_entries(lua_State *L) {
    load_ctx *ctx = lua_touserdata(L, 1);
    sis_cassette *c = ctx->c;
    luaL_requiref(L, "cjson", luaopen_cjson, 0);
    lua_getfield(L, -1, "decode");
    int decode = lua_gettop(L);
    for (size_t i = 0; i < ctx->nids; i++) {
        size_t len;
        entry_path(ctx->file, sizeof ctx->file, c->dir, ctx->ids[i], "json");
        free(ctx->text);
        ctx->text = read_file(ctx->file, &len);
        if (!ctx->text) luaL_error(L, "%s", strerror(errno));
        lua_pushvalue(L, decode);
        lua_pushlstring(L, ctx->text, len);
        lua_call(L, 1, 1);
        if (!lua_istable(L, -1)) luaL_error(L, "not a JSON object");
        int t = lua_gettop(L);
        entry *e = &c->entries[c->n++];
        e->id = ctx->ids[i];
        e->method = field_string(L, t, "method", 1);
        e->url = field_string(L, t, "url", 1);
        e->body_sha1 = field_string(L, t, "body_sha1", 0);
        if (!e->body_sha1 && !(e->body_sha1 = strdup(""))) luaL_error(L, "not enough memory");
        lua_getfield(L, t, "status");
        e->x.status = (long)lua_tointeger(L, -1);
        lua_getfield(L, t, "elapsed");
        e->x.elapsed = lua_tonumber(L, -1);
        lua_getfield(L, t, "kind");
        snprintf(e->x.kind, sizeof e->x.kind, "%s", lua_tostring(L, -1) ? lua_tostring(L, -1) : "");
        lua_pop(L, 3);
        if (!e->x.status) e->x.error = field_string(L, t, "error", 1);
        e->x.final_url = field_string(L, t, "final_url", 0);
        field_pairs(L, t, "headers", &e->x.headers);
        field_pairs(L, t, "set_cookies", &e->x.cookies);
        lua_settop(L, decode);
    }
    return 0;
}

int sis_cassette_replay(lua_State *L, const char *dir, char *err, size_t errlen) {
    unsigned *ids;
    size_t n;
    if (list_ids(dir, &ids, &n) != 0) {
        snprintf(err, errlen, "cannot replay %s: %s", dir, strerror(errno));
        return -1;
    }
    sis_cassette *c = calloc(1, sizeof *c);
    if (c) {
        c->refs = 1;
        c->dir = strdup(dir);
        c->entries = calloc(n ? n : 1, sizeof *c->entries);
    }
    if (!c || !c->dir || !c->entries) {
        if (c) cassette_free(c);
        free(ids);
        snprintf(err, errlen, "not enough memory");
        return -1;
    }
    load_ctx ctx = {.c = c, .ids = ids, .nids = n};
    lua_pushcfunction(L, load_entries);
    lua_pushlightuserdata(L, &ctx);
    int status = lua_pcall(L, 1, 0, 0);
    if (status != LUA_OK) {
        const char *msg = lua_tostring(L, -1);
        snprintf(err, errlen, "bad cassette entry %s: %s", ctx.file, msg ? msg : "error");
        lua_pop(L, 1);
    }
    free(ctx.text);
    free(ids);
    if (status != LUA_OK) {
        cassette_free(c);
        return -1;
    }
    if (c->n) qsort(c->entries, c->n, sizeof *c->entries, cmp_entry);
    install(SIS_HTTP_REPLAY, c);
    return 0;
}

int sis_cassette_find(sis_cassette *c, const sis_request *rq, sis_exchange *out) {
    char sha[2 * SHA_DIGEST_LENGTH + 1];
    body_sha1(rq, sha);
    char *url = redacted_url(rq->url);
    entry key = {.method = (char *)rq->method, .url = url, .body_sha1 = sha};

    pthread_mutex_lock(&lock);
    size_t lo = 0, hi = c->n; /* the first entry >= key */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cmp_key(&c->entries[mid], &key) < 0) lo = mid + 1;
        else hi = mid;
    }
    entry *hit = NULL; /* the first unserved one, else the last one */
    for (size_t i = lo; i < c->n && cmp_key(&c->entries[i], &key) == 0; i++) {
        hit = &c->entries[i];
        if (!hit->served) break;
    }
    if (hit) hit->served = 1;
    pthread_mutex_unlock(&lock);
    free(url);
    if (!hit) return -1;

    /* the entry is immutable now and lives as long as our reference */
    const sis_exchange *x = &hit->x;
    char path[PATH_MAX];
    entry_path(path, sizeof path, c->dir, hit->id, "body");
    out->status = x->status;
    memcpy(out->kind, x->kind, sizeof out->kind);
    out->elapsed = x->elapsed;
    out->error = x->error ? strdup(x->error) : NULL;
    out->final_url = x->final_url ? strdup(x->final_url) : NULL;
    out->body = read_file(path, &out->body_len);
    if (!out->body || (x->error && !out->error) || (x->final_url && !out->final_url) ||
        strv_copy(&out->headers, &x->headers) != 0 || strv_copy(&out->cookies, &x->cookies) != 0)
        return -2;
    return 0;
}

int sis_cassette_from_env(lua_State *L, char *err, size_t errlen) {
    static pthread_mutex_t env_lock = PTHREAD_MUTEX_INITIALIZER;
    static int applied;
    int rc = 0;
    pthread_mutex_lock(&env_lock);
    if (!applied) {
        const char *rec = getenv("SIS_HTTP_RECORD"), *rep = getenv("SIS_HTTP_REPLAY");
        if (rec && !*rec) rec = NULL;
        if (rep && !*rep) rep = NULL;
        if (rec && rep) {
            snprintf(err, errlen, "set only one of SIS_HTTP_RECORD and SIS_HTTP_REPLAY");
            rc = -1;
        } else if (rep) {
            rc = sis_cassette_replay(L, rep, err, errlen);
        } else if (rec) {
            rc = sis_cassette_record(rec, err, errlen);
        }
        applied = rc == 0;
    }
    pthread_mutex_unlock(&env_lock);
    return rc;
}
