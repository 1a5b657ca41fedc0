/* sis.log: levels, stderr, and redaction of secrets.
 *
 * Redaction is applied to every line written, so a script that logs a URL,
 * a form body or a header dump cannot leak a password or a session cookie.
 * The level and the registered secrets are process-wide (shared by the
 * server's worker threads); the level is atomic, the secrets are guarded by
 * a mutex. */
#include "log.h"
#include "request.h"
#include "sis.h"
#include "text.h"

#include <lauxlib.h>
#include <lualib.h>

#include <ctype.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static const char *const level_names[] = {"debug", "info", "warn", "error", NULL};
static atomic_int current_level = -1;

/* Registered secrets (log.secret), as given and URL-encoded once and twice,
 * since that is how they travel in query strings and nested form fields;
 * filed by first byte, so that each position of a text is compared with
 * the few that could start there. */
typedef struct {
    char *s;
    size_t n;
    size_t refs; /* log.secret calls not yet matched by log.forget */
} secret;
static struct bucket {
    secret *v;
    size_t n, cap;
} buckets[256];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

#define BUFFER_MT "sis.log.buffer"

/* Keys whose value is masked. A pair key ends at '=' (`key=v`, also
 * URL-encoded) or, quoted, at ':' (JSON `"key": "v"`). A bare `key: v`
 * counts only for the keys marked `colon`: "password: x" is a secret, while
 * "POST /api/v3/session: handler failed" is an ordinary line. Header keys in
 * the header form (`Cookie: ...`) mask the rest of the line. */
enum { PAIR = 0, COLON = 1, HEADER = 2 };
static const struct { const char *key; int form; } secret_keys[] = {
    {"password", COLON}, {"passwd", COLON}, {"phpsessid", PAIR},  {"__ac", PAIR},    {"__aca", PAIR},
    {"session", PAIR},   {"session_id", PAIR}, {"token", COLON},  {"cookie", HEADER},
    {"set-cookie", HEADER}, {"authorization", HEADER},
};

int sis_log_level_named(const char *name) {
    for (int i = 0; level_names[i]; i++)
        if (!strcasecmp(name, level_names[i])) return i;
    return -1;
}

static int level_from_env(void) {
    const char *e = getenv("SIS_LOG_LEVEL");
    int level = e ? sis_log_level_named(e) : -1;
    return level < 0 ? SIS_LOG_INFO : level;
}

static int get_level(void) {
    int level = atomic_load(&current_level);
    if (level < 0) {
        int expected = -1;
        level = level_from_env();
        if (!atomic_compare_exchange_strong(&current_level, &expected, level)) level = expected;
    }
    return level;
}

int sis_log_enabled(int level) { return level >= get_level(); }

/* ---------------------------------------------------------------- redaction */

typedef struct {
    char *p;
    size_t n, cap;
} buf;

/* Out of memory aborts: a redactor that gave up would have to hand back the
 * unredacted text or nothing, and callers have no better answer either. */
static void put(buf *b, const char *s, size_t n) {
    if (b->cap - b->n < n + 1) {
        size_t cap = b->cap ? b->cap : 128;
        while (cap - b->n < n + 1) cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) abort();
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

static int is_quote(char c) { return c == '"' || c == '\''; }

/* An '=' at s[j] (also URL-encoded, as in a form field holding a query
 * string: data=username%3Dx%26password%3Dy), or a ':' when colon is set:
 * its length, else 0. */
static size_t equals_at(const char *s, size_t n, size_t j, int colon) {
    if (j < n && (s[j] == '=' || (colon && s[j] == ':'))) return 1;
    if (j + 2 < n && s[j] == '%' && s[j + 1] == '3' && (s[j + 2] == 'D' || s[j + 2] == 'd')) return 3;
    return 0;
}

/* The value after a pair key ending at i (`key=v`, `"key": "v"`, also with
 * escaped quotes as in JSON inside a JSON string; `key: v` when bare_colon).
 * Returns its length and sets *start; a quoted value runs to its closing
 * quote, spaces included, else to a delimiter. 0 when no value follows. */
static size_t pair_value(const char *s, size_t n, size_t i, int bare_colon, size_t *start) {
    size_t j = i;
    while (j < n && (is_quote(s[j]) || s[j] == '\\')) j++; /* the key's closing quote */
    size_t eq = equals_at(s, n, j, bare_colon || j > i);
    if (!eq) return 0;
    int encoded = eq == 3;
    j += eq;
    while (j < n && s[j] == ' ') j++;
    char quote = 0;
    int escaped = 0;
    if (j + 1 < n && s[j] == '\\' && is_quote(s[j + 1])) quote = s[j + 1], escaped = 1, j += 2;
    else if (j < n && is_quote(s[j])) quote = s[j++];
    *start = j;
    size_t k = j;
    if (quote) {
        while (k < n && s[k] != quote) k += !escaped && s[k] == '\\' && k + 1 < n ? 2 : 1;
        if (escaped && k > j && k < n && s[k - 1] == '\\') k--;
    } else {
        while (k < n && !strchr("&;,\"' \t\r\n}", s[k]) &&
               !(encoded && k + 2 < n && s[k] == '%' && s[k + 1] == '2' && s[k + 2] == '6'))
            k++;
    }
    return k - j;
}

/* The password of a URL's user:password@ when s[i] is the ':' after the
 * user (matched there, not at "://", so that the user name is scanned for
 * registered secrets like any other text). */
static size_t userinfo_password(const char *s, size_t n, size_t i, size_t *start) {
    static const char stops[] = "/?#@ \t\r\n\"'<>";
    size_t u = i, k = i + 1;
    while (u > 0 && s[u - 1] != ':' && !memchr(stops, s[u - 1], sizeof stops - 1)) u--;
    if (u < 3 || memcmp(s + u - 3, "://", 3) != 0) return 0;
    while (k < n && !memchr(stops, s[k], sizeof stops - 1)) k++;
    if (k >= n || s[k] != '@' || k == i + 1) return 0;
    *start = i + 1;
    return k - i - 1;
}

/* The masked span that starts at s[i] (its start may lie after i: the key
 * is kept), or 0. */
static size_t secret_at(const char *s, size_t n, size_t i, size_t *start) {
    size_t len;
    if (s[i] == ':' && (len = userinfo_password(s, n, i, start))) return len;
    int c = tolower((unsigned char)s[i]);
    for (size_t k = 0; k < sizeof secret_keys / sizeof *secret_keys; k++) {
        if (c != secret_keys[k].key[0]) continue; /* cheap first: most positions start no key */
        size_t kl = strlen(secret_keys[k].key);
        if (n - i < kl || strncasecmp(s + i, secret_keys[k].key, kl)) continue;
        if (secret_keys[k].form == HEADER && i + kl < n && s[i + kl] == ':') {
            size_t v = i + kl + 1, e;
            while (v < n && s[v] == ' ') v++;
            for (e = v; e < n && s[e] != '\r' && s[e] != '\n'; e++) {}
            *start = v;
            if (e > v) return e - v;
        }
        /* a key counts only when a value follows it ("password=x",
         * "password": "x"), so prose such as "passwordless" is kept */
        if ((len = pair_value(s, n, i + kl, secret_keys[k].form != PAIR, start))) return len;
    }
    /* registered secrets, wherever they appear: the longest one here */
    size_t longest = 0;
    const struct bucket *b = &buckets[(unsigned char)s[i]];
    for (size_t k = 0; k < b->n; k++)
        if (b->v[k].n > longest && b->v[k].n <= n - i && !memcmp(s + i, b->v[k].s, b->v[k].n)) longest = b->v[k].n;
    *start = i;
    return longest;
}

static void redact_into(buf *b, const char *s, size_t n) {
    put(b, "", 0);
    pthread_mutex_lock(&lock);
    size_t i = 0, copied = 0;
    while (i < n) {
        size_t start, len = secret_at(s, n, i, &start);
        if (!len) {
            i++;
            continue;
        }
        put(b, s + copied, start - copied);
        put(b, "***", 3);
        i = copied = start + len;
    }
    put(b, s + copied, n - copied);
    pthread_mutex_unlock(&lock);
}

char *sis_redact(const char *s, size_t n, size_t *outlen) {
    buf b = {0};
    redact_into(&b, s, n);
    if (outlen) *outlen = b.n;
    return b.p;
}

/* ------------------------------------------------------------------ writing */

/* Held lines (log.hold): a command whose last message says why it failed
 * holds its log lines, then writes those that message does not already say
 * (log.release), so that a failure is said once. Lines still held at exit
 * are written then. */
typedef struct {
    char *line;    /* "stamp level message\n", redacted */
    size_t msg_at; /* where the message starts in it */
} held_line;
static struct {
    held_line *v;
    size_t n, cap;
} held;
static atomic_int holding;
static pthread_mutex_t held_lock = PTHREAD_MUTEX_INITIALIZER;

/* Keeps head + msg[0..n) as a held line; 0 when nothing is held (then, or
 * short of memory, the caller writes the line). */
static int hold_line(const char *head, const char *msg, size_t n) {
    size_t at = strlen(head);
    char *line = malloc(at + n + 2);
    if (!line) return 0;
    memcpy(line, head, at);
    memcpy(line + at, msg, n);
    memcpy(line + at + n, "\n", 2);
    pthread_mutex_lock(&held_lock);
    int kept = atomic_load(&holding);
    if (kept && held.n == held.cap) {
        size_t cap = held.cap ? 2 * held.cap : 16;
        held_line *v = realloc(held.v, cap * sizeof *v);
        if (v) held.v = v, held.cap = cap;
        else kept = 0;
    }
    if (kept) held.v[held.n++] = (held_line){line, at};
    pthread_mutex_unlock(&held_lock);
    if (!kept) free(line);
    return kept;
}

/* Writes the held lines but those whose message occurs in `except` (NULL:
 * all), and stops holding. */
static void release_held(const char *except) {
    pthread_mutex_lock(&held_lock);
    for (size_t i = 0; i < held.n; i++) {
        const char *msg = held.v[i].line + held.v[i].msg_at;
        size_t len = strlen(msg) - 1; /* without its newline */
        if (!except || !memmem(except, strlen(except), msg, len)) fputs(held.v[i].line, stderr);
        free(held.v[i].line);
    }
    free(held.v);
    held.v = NULL;
    held.n = held.cap = 0;
    atomic_store(&holding, 0);
    pthread_mutex_unlock(&held_lock);
}

static void release_at_exit(void) { release_held(NULL); }

static void emit(int level, const char *msg, size_t len) {
    size_t n;
    char *clean = sis_redact(msg, len, &n);
    char stamp[32];
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
    /* a line written while a REST request is served names it: [id] */
    const char *id = sis_request_id();
    char head[64];
    snprintf(head, sizeof head, "%s %-5s %s%s%s", stamp, level_names[level], id ? "[" : "", id ? id : "",
             id ? "] " : "");
    if (!atomic_load(&holding) || !hold_line(head, clean, n)) fprintf(stderr, "%s%.*s\n", head, (int)n, clean);
    free(clean);
}

void sis_log(int level, const char *fmt, ...) {
    if (!sis_log_enabled(level)) return;
    char small[1024], *msg = small;
    va_list ap, again;
    va_start(ap, fmt);
    va_copy(again, ap);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    /* formatted in full: a line cut before redaction could end in a prefix
     * of a secret, which would not be recognised */
    if (n >= (int)sizeof small && (msg = malloc((size_t)n + 1)) != NULL) vsnprintf(msg, (size_t)n + 1, fmt, again);
    va_end(again);
    if (n < 0) return;
    if (!msg) msg = small, n = (int)sizeof small - 1;
    emit(level, msg, (size_t)n);
    if (msg != small) free(msg);
}

/* log.<level>(fmt, ...): string.format (the upvalue) semantics */
static int l_write(lua_State *L, int level) {
    if (!sis_log_enabled(level)) return 0;
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, 1);
    size_t len;
    const char *msg = lua_tolstring(L, -1, &len);
    emit(level, msg, len);
    return 0;
}

static int l_debug(lua_State *L) { return l_write(L, SIS_LOG_DEBUG); }
static int l_info(lua_State *L) { return l_write(L, SIS_LOG_INFO); }
static int l_warn(lua_State *L) { return l_write(L, SIS_LOG_WARN); }
static int l_error(lua_State *L) { return l_write(L, SIS_LOG_ERROR); }

static int l_level(lua_State *L) {
    if (!lua_isnoneornil(L, 1)) atomic_store(&current_level, luaL_checkoption(L, 1, NULL, level_names));
    lua_pushstring(L, level_names[get_level()]);
    return 1;
}

/* log.hold(): lines are held from now on (written at log.release or exit). */
static int l_hold(lua_State *L) {
    (void)L;
    static int at_exit;
    pthread_mutex_lock(&held_lock);
    if (!at_exit) at_exit = atexit(release_at_exit) == 0;
    atomic_store(&holding, 1);
    pthread_mutex_unlock(&held_lock);
    return 0;
}

/* log.release([except]): writes the held lines but those whose message
 * `except` (redacted, as they are) already says; holding stops. */
static int l_release(lua_State *L) {
    size_t n;
    const char *except = luaL_optlstring(L, 1, NULL, &n);
    char *clean = except ? sis_redact(except, n, NULL) : NULL;
    release_held(clean);
    free(clean);
    return 0;
}

static int buffer_gc(lua_State *L) {
    buf *b = luaL_checkudata(L, 1, BUFFER_MT);
    free(b->p);
    b->p = NULL;
    return 0;
}

static int l_redact(lua_State *L) {
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    /* the result lives in a userdata until copied: pushing it may raise */
    buf *b = lua_newuserdatauv(L, sizeof *b, 0);
    memset(b, 0, sizeof *b);
    luaL_setmetatable(L, BUFFER_MT);
    redact_into(b, s, len);
    lua_pushlstring(L, b->p, b->n);
    free(b->p);
    b->p = NULL;
    return 1;
}

/* Pushes the variants of the secret at index 1 that log.secret registers:
 * itself, URL-encoded, URL-encoded twice (at 2, 3, 4; duplicates included). */
static void push_variants(lua_State *L) {
    lua_settop(L, 1);
    lua_pushvalue(L, 1);
    for (int i = 0; i < 2; i++) {
        size_t n;
        const char *s = lua_tolstring(L, -1, &n);
        luaL_Buffer b;
        luaL_buffinit(L, &b);
        sis_url_encode(s, n, &b);
        luaL_pushresult(&b);
    }
}

static int same(const secret *x, const char *s, size_t n) { return x->n == n && !memcmp(x->s, s, n); }

static int l_secret(lua_State *L) {
    size_t len;
    luaL_checklstring(L, 1, &len);
    if (len < 3) return 0; /* masking one or two characters would mangle every line */
    push_variants(L);
    int oom = 0;
    pthread_mutex_lock(&lock);
    for (int i = 2; i <= 4 && !oom; i++) {
        size_t n;
        const char *s = lua_tolstring(L, i, &n);
        struct bucket *b = &buckets[(unsigned char)s[0]];
        secret *known = NULL;
        for (size_t k = 0; k < b->n && !known; k++)
            if (same(&b->v[k], s, n)) known = &b->v[k];
        if (known) {
            known->refs++;
            continue;
        }
        if (b->n == b->cap) {
            size_t cap = b->cap ? 2 * b->cap : 4;
            secret *grown = realloc(b->v, cap * sizeof *grown);
            if (!grown) oom = 1;
            else b->v = grown, b->cap = cap;
        }
        char *copy = oom ? NULL : malloc(n);
        if (copy) {
            memcpy(copy, s, n);
            b->v[b->n++] = (secret){copy, n, 1};
        }
        oom = !copy;
    }
    pthread_mutex_unlock(&lock); /* raise only once it is released */
    if (oom) return luaL_error(L, "not enough memory");
    return 0;
}

static int l_forget(lua_State *L) {
    luaL_checkstring(L, 1);
    push_variants(L);
    pthread_mutex_lock(&lock);
    for (int i = 2; i <= 4; i++) {
        size_t n;
        const char *s = lua_tolstring(L, i, &n);
        struct bucket *b = &buckets[(unsigned char)s[0]];
        for (size_t k = 0; k < b->n; k++) {
            if (!same(&b->v[k], s, n) || --b->v[k].refs > 0) continue;
            memset(b->v[k].s, 0, n);
            free(b->v[k].s);
            b->v[k--] = b->v[--b->n];
        }
    }
    pthread_mutex_unlock(&lock);
    return 0;
}

int luaopen_sis_log(lua_State *L) {
    static const luaL_Reg writers[] = {
        {"debug", l_debug}, {"info", l_info}, {"warn", l_warn}, {"error", l_error}, {NULL, NULL},
    };
    static const luaL_Reg funcs[] = {
        {"level", l_level},   {"redact", l_redact}, {"secret", l_secret},
        {"forget", l_forget}, {"hold", l_hold},     {"release", l_release}, {NULL, NULL},
    };
    if (luaL_newmetatable(L, BUFFER_MT)) {
        lua_pushcfunction(L, buffer_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_pop(L, 1);
    luaL_newlib(L, funcs);
    /* string.format, taken now: a script that replaces the global `string`
     * does not break logging */
    luaL_requiref(L, LUA_STRLIBNAME, luaopen_string, 0);
    lua_getfield(L, -1, "format");
    lua_remove(L, -2);
    luaL_setfuncs(L, writers, 1);
    return 1;
}
