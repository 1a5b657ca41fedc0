/* sis.log: levels, stderr, and redaction of secrets.
 *
 * Redaction is applied to every line written, so a script that logs a URL,
 * a form body or a header dump cannot leak a password or a session cookie.
 * The level and the registered secrets are process-wide (shared by the
 * server's worker threads); the level is atomic, the secrets are guarded by
 * a mutex. */
#include "log.h"
#include "sis.h"

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
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

#define MAX_SECRETS 256
static char *secrets[MAX_SECRETS];

#define BUFFER_MT "sis.log.buffer"

/* Keys whose value is masked. Pair keys end at '=' or ':' (JSON "key": "v");
 * header keys mask the rest of the line. */
static const struct { const char *key; int header; } secret_keys[] = {
    {"password", 0}, {"passwd", 0},    {"phpsessid", 0}, {"__ac", 0},
    {"session_id", 0}, {"sis_session", 0}, {"token", 0},
    {"cookie:", 1},  {"set-cookie:", 1}, {"authorization:", 1},
};

static int level_from_env(void) {
    const char *e = getenv("SIS_LOG_LEVEL");
    for (int i = 0; e && level_names[i]; i++)
        if (!strcasecmp(e, level_names[i])) return i;
    return SIS_LOG_INFO;
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

typedef struct { char *p; size_t n, cap; } buf;

static void put(buf *b, const char *s, size_t n) {
    if (b->n + n + 1 > b->cap) {
        while (b->n + n + 1 > b->cap) b->cap = b->cap ? b->cap * 2 : 128;
        char *p = realloc(b->p, b->cap);
        if (!p) abort();
        b->p = p;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

/* Length of the value after a pair key: skips `=`, `:`, quotes and spaces,
 * then runs to a delimiter. Returns the offset where the value starts in *start. */
static size_t pair_value(const char *s, size_t n, size_t i, size_t *start) {
    size_t j = i;
    while (j < n && (s[j] == '"' || s[j] == '\'')) j++;          /* "password" */
    if (j >= n || (s[j] != '=' && s[j] != ':')) return 0;
    j++;
    while (j < n && (s[j] == ' ' || s[j] == '"' || s[j] == '\'')) j++;
    *start = j;
    size_t k = j;
    while (k < n && !strchr("&;,\"' \t\r\n}", s[k])) k++;
    return k - j;
}

char *sis_redact(const char *s, size_t n, size_t *outlen) {
    buf b = {0};
    put(&b, "", 0);
    size_t i = 0;
    while (i < n) {
        size_t matched = 0, vstart = 0, vlen = 0;
        /* a key counts only when a value follows it ("password=x",
         * "password": "x"), so prose such as "passwordless" is kept */
        for (size_t k = 0; k < sizeof secret_keys / sizeof *secret_keys && !matched; k++) {
            size_t kl = strlen(secret_keys[k].key);
            if (i + kl > n || strncasecmp(s + i, secret_keys[k].key, kl)) continue;
            if (secret_keys[k].header) {
                vstart = i + kl;
                while (vstart < n && s[vstart] == ' ') vstart++;
                size_t e = vstart;
                while (e < n && s[e] != '\r' && s[e] != '\n') e++;
                vlen = e - vstart;
                matched = vlen > 0;
            } else {
                vlen = pair_value(s, n, i + kl, &vstart);
                matched = vlen > 0;
            }
        }
        if (matched) {
            put(&b, s + i, vstart - i);
            put(&b, "***", 3);
            i = vstart + vlen;
            continue;
        }
        put(&b, s + i, 1);
        i++;
    }
    /* registered secrets (passwords) are masked wherever they appear */
    pthread_mutex_lock(&lock);
    for (int k = 0; k < MAX_SECRETS; k++) {
        if (!secrets[k]) continue;
        size_t sl = strlen(secrets[k]);
        char *hit;
        while ((hit = memmem(b.p, b.n, secrets[k], sl)) != NULL) {
            size_t off = (size_t)(hit - b.p);
            buf c = {0};
            put(&c, b.p, off);
            put(&c, "***", 3);
            put(&c, hit + sl, b.n - off - sl);
            free(b.p);
            b = c;
        }
    }
    pthread_mutex_unlock(&lock);
    if (outlen) *outlen = b.n;
    return b.p;
}

static void emit(int level, const char *msg, size_t len) {
    size_t n;
    char *clean = sis_redact(msg, len, &n);
    char stamp[32];
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
    fprintf(stderr, "%s %-5s %.*s\n", stamp, level_names[level], (int)n, clean);
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

static int buffer_gc(lua_State *L) {
    char **p = luaL_checkudata(L, 1, BUFFER_MT);
    free(*p);
    *p = NULL;
    return 0;
}

static int l_redact(lua_State *L) {
    size_t len, n;
    const char *s = luaL_checklstring(L, 1, &len);
    /* the result is owned by a userdata until copied: pushing it may raise */
    char **box = lua_newuserdatauv(L, sizeof *box, 0);
    *box = NULL;
    luaL_setmetatable(L, BUFFER_MT);
    *box = sis_redact(s, len, &n);
    lua_pushlstring(L, *box, n);
    free(*box);
    *box = NULL;
    return 1;
}

static int l_secret(lua_State *L) {
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    if (len < 3) return 0; /* masking one or two characters would mangle every line */
    pthread_mutex_lock(&lock);
    int free_slot = -1, known = 0;
    for (int k = 0; k < MAX_SECRETS; k++) {
        if (secrets[k] && !strcmp(secrets[k], s)) known = 1;
        if (!secrets[k] && free_slot < 0) free_slot = k;
    }
    if (!known && free_slot >= 0) secrets[free_slot] = strdup(s);
    pthread_mutex_unlock(&lock);
    return 0;
}

static int l_forget(lua_State *L) {
    const char *s = luaL_checkstring(L, 1);
    pthread_mutex_lock(&lock);
    for (int k = 0; k < MAX_SECRETS; k++)
        if (secrets[k] && !strcmp(secrets[k], s)) {
            memset(secrets[k], 0, strlen(secrets[k]));
            free(secrets[k]);
            secrets[k] = NULL;
        }
    pthread_mutex_unlock(&lock);
    return 0;
}

int luaopen_sis_log(lua_State *L) {
    static const luaL_Reg writers[] = {
        {"debug", l_debug}, {"info", l_info}, {"warn", l_warn}, {"error", l_error}, {NULL, NULL},
    };
    static const luaL_Reg funcs[] = {
        {"level", l_level}, {"redact", l_redact}, {"secret", l_secret}, {"forget", l_forget}, {NULL, NULL},
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
