/* sis.json: a small strict JSON codec (RFC 8259) that keeps Lua 5.4's
 * integer/float distinction, which lua-cjson 2.1.0 loses (see README.md, "Dependencies").
 *
 * Decisions beyond the API document:
 * - json.null is the NULL light userdata, the very value of cjson.null.
 * - Decoding: integers whose lexeme has no fraction/exponent and fits int64 are
 *   Lua integers (`-0` is the integer 0), every other number is a float;
 *   a number that overflows a double (`1e400`) is an error, so every decoded
 *   value re-encodes. A leading UTF-8 byte order mark is skipped (RFC 8259 §8.1
 *   allows it). Duplicate object keys: the last one wins. Columns in error
 *   messages count characters, not bytes.
 * - Encoding: object keys must be strings; a table with both string and integer
 *   keys, integer keys that are not exactly 1..n, or keys of other types raise.
 *   Strings must be valid UTF-8 (raise otherwise: silently replacing bytes would
 *   lose data; transcode first). Cycles are reported as cycles, with the path.
 * Both directions are iterative or depth-bounded, never unbounded recursion. */
#include "json.h"
#include "options.h"
#include "sis.h"
#include "text.h"

#include <lauxlib.h>

#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char array_mt_key = 'a', object_mt_key = 'o';
#define BUFFER_MT "sis.json.buffer"

/* Pushes the shared array or object metatable, creating it on first use (so
 * C callers need not have required sis.json first). */
static void push_mt(lua_State *L, const char *key) {
    if (lua_rawgetp(L, LUA_REGISTRYINDEX, key) == LUA_TTABLE) return;
    lua_pop(L, 1);
    lua_createtable(L, 0, 1);
    lua_pushstring(L, key == &array_mt_key ? "json.array" : "json.object");
    lua_setfield(L, -2, "__name");
    lua_pushvalue(L, -1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, key);
}

/* Length of the valid UTF-8 sequence at p (1..4), or 0 when it is invalid:
 * truncated, overlong, a surrogate or above U+10FFFF. */
static int utf8_seq(const unsigned char *p, const unsigned char *end) {
    unsigned c = p[0];
    size_t avail = (size_t)(end - p);
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) return avail >= 2 && (p[1] & 0xC0) == 0x80 ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        if (avail < 3 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80) return 0;
        if ((c == 0xE0 && p[1] < 0xA0) || (c == 0xED && p[1] >= 0xA0)) return 0;
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (avail < 4 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80)
            return 0;
        if ((c == 0xF0 && p[1] < 0x90) || (c == 0xF4 && p[1] >= 0x90)) return 0;
        return 4;
    }
    return 0;
}

/* ------------------------------------------------------------------ decode */

typedef struct {
    lua_State *L;
    const unsigned char *start, *p, *end;
    int array_mt, object_mt; /* stack indexes of the metatables */
    const char *msg;         /* error: message, NULL = "unexpected <char at>" */
    const unsigned char *at; /* error: position */
    char msgbuf[64];
} decoder;

static int fail(decoder *d, const unsigned char *at, const char *msg) {
    d->at = at;
    d->msg = msg;
    return 0;
}

/* Pushes "json: <msg> at line L col C" for the recorded error. */
static void push_error(decoder *d) {
    lua_Integer line = 1; /* not int: an input may hold more than INT_MAX lines */
    const unsigned char *ls = d->start;
    for (const unsigned char *q = d->start; q < d->at; q++)
        if (*q == '\n') line++, ls = q + 1;
    lua_Integer col = 1;
    for (const unsigned char *q = ls; q < d->at; q++) col += (*q & 0xC0) != 0x80;
    char what[48];
    const char *msg = d->msg;
    if (!msg) {
        unsigned c = d->at < d->end ? *d->at : 0;
        if (d->at == d->end) msg = "unexpected end of input";
        else if (c > 0x20 && c < 0x7F) snprintf(what, sizeof what, "unexpected character '%c'", c), msg = what;
        else snprintf(what, sizeof what, "unexpected byte 0x%02X", c), msg = what;
    }
    lua_pushfstring(d->L, "json: %s at line %I col %I", msg, line, col);
}

static void skip_ws(decoder *d) {
    while (d->p < d->end && (*d->p == ' ' || *d->p == '\n' || *d->p == '\r' || *d->p == '\t')) d->p++;
}

static int hex4(const unsigned char *p, const unsigned char *end, unsigned *out) {
    unsigned v = 0;
    if (end - p < 4) return 0;
    for (int i = 0; i < 4; i++) {
        unsigned c = p[i], h;
        if (c >= '0' && c <= '9') h = c - '0';
        else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') h = (c | 0x20) - 'a' + 10;
        else return 0;
        v = v << 4 | h;
    }
    *out = v;
    return 1;
}

/* Parses the escape after a backslash at p into b; returns its end or NULL. */
static const unsigned char *parse_escape(decoder *d, const unsigned char *p, luaL_Buffer *b) {
    const unsigned char *bs = p - 1;
    if (p == d->end) return fail(d, p, NULL), NULL;
    switch (*p) {
    case '"': luaL_addchar(b, '"'); return p + 1;
    case '\\': luaL_addchar(b, '\\'); return p + 1;
    case '/': luaL_addchar(b, '/'); return p + 1;
    case 'b': luaL_addchar(b, '\b'); return p + 1;
    case 'f': luaL_addchar(b, '\f'); return p + 1;
    case 'n': luaL_addchar(b, '\n'); return p + 1;
    case 'r': luaL_addchar(b, '\r'); return p + 1;
    case 't': luaL_addchar(b, '\t'); return p + 1;
    case 'u': break;
    default: return fail(d, bs, "invalid escape in string"), NULL;
    }
    unsigned cp, lo;
    if (!hex4(p + 1, d->end, &cp)) return fail(d, bs, "invalid \\u escape"), NULL;
    p += 5;
    if (cp >= 0xDC00 && cp <= 0xDFFF) return fail(d, bs, "lone low surrogate in \\u escape"), NULL;
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        if (d->end - p < 6 || p[0] != '\\' || p[1] != 'u' || !hex4(p + 2, d->end, &lo) || lo < 0xDC00 ||
            lo > 0xDFFF)
            return fail(d, bs, "high surrogate not followed by a low surrogate"), NULL;
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        p += 6;
    }
    if (cp == 0) luaL_addchar(b, '\0'); /* sis_utf8_encode writes U+FFFD for NUL (HTML rule) */
    else sis_utf8_encode(cp, b);
    return p;
}

/* Parses the string whose opening quote is at d->p and pushes it. Strings
 * without escapes (the common case) are pushed straight from the input. */
static int parse_string(decoder *d) {
    lua_State *L = d->L;
    const unsigned char *p = d->p + 1, *run = p, *end = d->end;
    luaL_Buffer b;
    int buffered = 0;
    for (;;) {
        while (p < end && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\') p++;
        if (p == end) return fail(d, p, "unterminated string");
        if (*p == '"') break;
        if (*p == '\\') {
            if (!buffered) luaL_buffinit(L, &b), buffered = 1;
            luaL_addlstring(&b, (const char *)run, (size_t)(p - run));
            if (!(p = parse_escape(d, p + 1, &b))) return 0;
            run = p;
        } else if (*p < 0x20) {
            return fail(d, p, "control character in string");
        } else {
            int n = utf8_seq(p, end);
            if (!n) return fail(d, p, "invalid UTF-8 in string");
            p += n;
        }
    }
    if (buffered) {
        luaL_addlstring(&b, (const char *)run, (size_t)(p - run));
        luaL_pushresult(&b);
    } else {
        lua_pushlstring(L, (const char *)run, (size_t)(p - run));
    }
    d->p = p + 1;
    return 1;
}

#define IS_DIGIT(c) ((c) >= '0' && (c) <= '9')

static int parse_number(decoder *d) {
    const unsigned char *s = d->p, *p = s, *end = d->end;
    int is_float = 0;
    if (*p == '-') p++;
    if (p == end || !IS_DIGIT(*p)) return fail(d, p, p == end ? NULL : "invalid number");
    if (*p == '0') {
        if (++p < end && IS_DIGIT(*p)) return fail(d, s, "leading zero in number");
    } else {
        while (p < end && IS_DIGIT(*p)) p++;
    }
    if (p < end && *p == '.') {
        is_float = 1;
        if (++p == end || !IS_DIGIT(*p)) return fail(d, p, "expected a digit after '.'");
        while (p < end && IS_DIGIT(*p)) p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        is_float = 1;
        if (++p < end && (*p == '+' || *p == '-')) p++;
        if (p == end || !IS_DIGIT(*p)) return fail(d, p, "expected a digit in the exponent");
        while (p < end && IS_DIGIT(*p)) p++;
    }
    size_t len = (size_t)(p - s);
    int neg = *s == '-';
    if (!is_float && len - (size_t)neg <= 18) { /* always fits int64 */
        lua_Integer v = 0;
        for (const unsigned char *q = s + neg; q < p; q++) v = v * 10 + (*q - '0');
        lua_pushinteger(d->L, neg ? -v : v);
    } else {
        /* lua_stringtonumber: integer when it fits int64, else a float read
         * independently of the C locale's decimal point. */
        char buf[64];
        const char *num;
        if (len < sizeof buf) {
            memcpy(buf, s, len);
            buf[len] = '\0';
            num = buf;
        } else {
            num = lua_pushlstring(d->L, (const char *)s, len);
        }
        size_t ok = lua_stringtonumber(d->L, num);
        if (num != buf) lua_remove(d->L, -2);
        if (!ok) return fail(d, s, "invalid number");
        if (lua_isinteger(d->L, -1) == 0 && isinf(lua_tonumber(d->L, -1)))
            return fail(d, s, "number out of range");
    }
    d->p = p;
    return 1;
}

static int parse_literal(decoder *d, const char *word, size_t n) {
    if ((size_t)(d->end - d->p) < n || memcmp(d->p, word, n) != 0) return fail(d, d->p, NULL);
    d->p += n;
    return 1;
}

/* Parses `"key" :` and pushes the key. */
static int parse_key(decoder *d) {
    skip_ws(d);
    if (d->p == d->end || *d->p != '"') return fail(d, d->p, d->p == d->end ? NULL : "expected a string key");
    if (!parse_string(d)) return 0;
    skip_ws(d);
    if (d->p == d->end || *d->p != ':') return fail(d, d->p, d->p == d->end ? NULL : "expected ':'");
    d->p++;
    return 1;
}

/* Parses one value and pushes it. Iterative: every open container sits on the
 * Lua stack with, above it, its pending key (object) or its element count
 * (array); the slot's type tells the two apart. */
static int parse_value(decoder *d, int max_depth) {
    lua_State *L = d->L;
    int depth = 0;
    for (;;) {
        skip_ws(d);
        if (d->p == d->end) return fail(d, d->p, NULL);
        switch (*d->p) {
        case '[':
        case '{': {
            int is_array = *d->p == '[';
            if (depth == max_depth) {
                snprintf(d->msgbuf, sizeof d->msgbuf, "nesting deeper than %d", max_depth);
                return fail(d, d->p, d->msgbuf);
            }
            if (!lua_checkstack(L, 6)) return fail(d, d->p, "nesting too deep for the Lua stack");
            depth++;
            d->p++;
            lua_createtable(L, 0, 0);
            lua_pushvalue(L, is_array ? d->array_mt : d->object_mt);
            lua_setmetatable(L, -2);
            skip_ws(d);
            if (d->p < d->end && *d->p == (is_array ? ']' : '}')) { /* empty */
                d->p++;
                depth--;
                break;
            }
            if (is_array) {
                lua_pushinteger(L, 0);
            } else if (!parse_key(d)) {
                return 0;
            }
            continue; /* parse the first member */
        }
        case '"':
            if (!parse_string(d)) return 0;
            break;
        case 't':
            if (!parse_literal(d, "true", 4)) return 0;
            lua_pushboolean(L, 1);
            break;
        case 'f':
            if (!parse_literal(d, "false", 5)) return 0;
            lua_pushboolean(L, 0);
            break;
        case 'n':
            if (!parse_literal(d, "null", 4)) return 0;
            lua_pushlightuserdata(L, NULL);
            break;
        default:
            if (*d->p != '-' && !IS_DIGIT(*d->p)) return fail(d, d->p, NULL);
            if (!parse_number(d)) return 0;
        }
        /* A complete value is on top: store it into its container; a closing
         * bracket completes the container, which is stored in turn. */
        for (;;) {
            if (depth == 0) return 1;
            int is_array = lua_type(L, -2) == LUA_TNUMBER;
            if (is_array) {
                lua_Integer n = lua_tointeger(L, -2) + 1;
                lua_rawseti(L, -3, n);
                lua_pushinteger(L, n);
                lua_replace(L, -2);
            } else {
                lua_rawset(L, -3);
            }
            skip_ws(d);
            if (d->p == d->end) return fail(d, d->p, NULL);
            unsigned char c = *d->p++;
            if (c == ',') {
                skip_ws(d);
                if (d->p < d->end && (*d->p == ']' || *d->p == '}')) return fail(d, d->p, "trailing comma");
                if (!is_array && !parse_key(d)) return 0;
                break; /* parse the next member */
            }
            if (c != (is_array ? ']' : '}'))
                return fail(d, d->p - 1, is_array ? "expected ',' or ']'" : "expected ',' or '}'");
            if (is_array) lua_pop(L, 1);
            depth--;
        }
    }
}

int sis_json_decode(lua_State *L, const char *s, size_t n, int max_depth) {
    int base = lua_gettop(L);
    luaL_checkstack(L, 8, "json.decode");
    push_mt(L, &array_mt_key);
    push_mt(L, &object_mt_key);
    decoder d = {.L = L, .start = (const unsigned char *)s, .p = (const unsigned char *)s,
                 .end = (const unsigned char *)s + n, .array_mt = base + 1, .object_mt = base + 2};
    if (n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) d.p += 3;
    int ok = parse_value(&d, max_depth);
    if (ok) {
        skip_ws(&d);
        if (d.p != d.end) ok = fail(&d, d.p, "unexpected data after the value");
    }
    if (!ok) {
        lua_settop(L, base);
        push_error(&d);
        return 0;
    }
    lua_replace(L, base + 1);
    lua_settop(L, base + 1);
    return 1;
}

/* ------------------------------------------------------------------ encode */

/* The output buffer and the path to the value being encoded live in a
 * userdata, so an error raised half-way frees everything (through __gc).
 * The path grows with the depth reached: most values are shallow, and a
 * full-depth path in every encoder would be 12 KB of garbage per call. */
typedef struct {
    int table;         /* stack index of the container (cycle check) */
    const char *key;   /* object member being encoded, or NULL */
    lua_Integer index; /* array element being encoded */
} path_step;

typedef struct {
    char *p;
    size_t n, cap;
    int flags, depth, path_cap;
    int array_mt, object_mt; /* stack indexes */
    path_step *path;         /* path[1..depth] */
} encoder;

static int encoder_gc(lua_State *L) {
    encoder *e = luaL_checkudata(L, 1, BUFFER_MT);
    free(e->p);
    free(e->path);
    e->p = NULL;
    e->path = NULL;
    return 0;
}

/* Raises "json.encode: <what> (at .path[2].to.value)"; never returns. */
static void encode_error(lua_State *L, encoder *e, const char *what) {
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    luaL_addstring(&b, "json.encode: ");
    luaL_addstring(&b, what);
    int located = 0;
    for (int i = 1; i <= e->depth; i++) located |= e->path[i].key || e->path[i].index;
    if (located) {
        luaL_addstring(&b, " (at ");
        for (int i = 1; i <= e->depth; i++) {
            if (e->path[i].key) {
                luaL_addchar(&b, '.');
                luaL_addstring(&b, e->path[i].key);
            } else if (e->path[i].index) {
                lua_pushfstring(L, "[%I]", e->path[i].index);
                luaL_addvalue(&b);
            }
        }
        luaL_addchar(&b, ')');
    }
    luaL_pushresult(&b);
    lua_error(L);
}

static char *grow(lua_State *L, encoder *e, size_t extra) {
    size_t cap = e->cap ? e->cap : 256;
    while (cap - e->n < extra) cap *= 2;
    char *p = realloc(e->p, cap);
    if (!p) luaL_error(L, "json.encode: not enough memory");
    e->p = p;
    e->cap = cap;
    return e->p + e->n;
}

static inline char *reserve(lua_State *L, encoder *e, size_t extra) {
    return e->cap - e->n >= extra ? e->p + e->n : grow(L, e, extra);
}

static inline void add(lua_State *L, encoder *e, const char *s, size_t n) {
    memcpy(reserve(L, e, n), s, n);
    e->n += n;
}

#define ADD_LITERAL(L, e, s) add(L, e, "" s, sizeof(s) - 1)

static inline void add_char(lua_State *L, encoder *e, char c) {
    *reserve(L, e, 1) = c;
    e->n++;
}

static void newline(lua_State *L, encoder *e) {
    if (!(e->flags & SIS_JSON_PRETTY)) return;
    size_t n = 1 + 2 * (size_t)e->depth;
    char *p = reserve(L, e, n);
    p[0] = '\n';
    memset(p + 1, ' ', n - 1);
    e->n += n;
}

/* Per ASCII byte: 0 = copied as is, 'u' = \u00XX, otherwise the letter of
 * its escape; 'x' (bytes >= 0x80) = a multi-byte UTF-8 sequence, validated. */
static const char escapes[128] = {
    ['\b'] = 'b', ['\t'] = 't', ['\n'] = 'n', ['\f'] = 'f', ['\r'] = 'r', ['"'] = '"', ['\\'] = '\\',
    [0] = 'u', [1] = 'u', [2] = 'u', [3] = 'u', [4] = 'u', [5] = 'u', [6] = 'u', [7] = 'u',
    [11] = 'u', [14] = 'u', [15] = 'u', [16] = 'u', [17] = 'u', [18] = 'u', [19] = 'u', [20] = 'u',
    [21] = 'u', [22] = 'u', [23] = 'u', [24] = 'u', [25] = 'u', [26] = 'u', [27] = 'u', [28] = 'u',
    [29] = 'u', [30] = 'u', [31] = 'u',
};

static void encode_string(lua_State *L, encoder *e, const char *str, size_t len) {
    const unsigned char *s = (const unsigned char *)str, *end = s + len, *run = s;
    add_char(L, e, '"');
    while (s < end) {
        char esc = *s < 0x80 ? escapes[*s] : 'x';
        if (!esc) {
            s++;
        } else if (esc == 'x') {
            int n = utf8_seq(s, end);
            if (!n) {
                lua_Integer at = (lua_Integer)(s - (const unsigned char *)str) + 1;
                encode_error(L, e, lua_pushfstring(L, "invalid UTF-8 in string at byte %I", at));
            }
            s += n;
        } else {
            add(L, e, (const char *)run, (size_t)(s - run));
            char buf[8] = {'\\', esc};
            if (esc == 'u') snprintf(buf + 1, sizeof buf - 1, "u%04x", *s);
            add(L, e, buf, esc == 'u' ? 6 : 2);
            run = ++s;
        }
    }
    add(L, e, (const char *)run, (size_t)(s - run));
    add_char(L, e, '"');
}

/* Shortest of %.15g/%.16g/%.17g that reads back as the same double, with
 * '.' as decimal point whatever the C locale, and always marked as a float. */
static void encode_float(lua_State *L, encoder *e, double v) {
    if (isnan(v) || isinf(v)) encode_error(L, e, isnan(v) ? "cannot encode NaN" : "cannot encode inf");
    char buf[40];
    int n = 0;
    for (int prec = 15; prec <= 17; prec++) {
        n = snprintf(buf, sizeof buf - 2, "%.*g", prec, v);
        if (strtod(buf, NULL) == v) break;
    }
    char point = lua_getlocaledecpoint();
    int marked = 0;
    for (int i = 0; i < n; i++) {
        if (buf[i] == point) buf[i] = '.';
        if (buf[i] == '.' || buf[i] == 'e') marked = 1;
    }
    if (!marked) buf[n++] = '.', buf[n++] = '0';
    add(L, e, buf, (size_t)n);
}

enum { KIND_ARRAY, KIND_OBJECT, BAD_MIXED, BAD_SPARSE, BAD_KEY, BAD_ARRAY_KEY, BAD_OBJECT_KEY };
static const char *const bad_table[] = {
    "cannot encode a table with both integer and string keys",
    "cannot encode a sparse array (integer keys are not 1..n)",
    "cannot encode a table key that is neither a string nor an integer",
    "json.array has a key that is not an integer",
    "json.object has a key that is not a string",
};

/* How the table at idx encodes, and its number of entries. A metatable of
 * sis.json forces the kind; otherwise keys 1..n make an array, string keys an
 * object, and an empty table is an object. */
static int classify(lua_State *L, int idx, int array_mt, int object_mt, lua_Integer *count) {
    int forced = -1;
    if (lua_getmetatable(L, idx)) {
        if (lua_rawequal(L, -1, array_mt)) forced = KIND_ARRAY;
        else if (lua_rawequal(L, -1, object_mt)) forced = KIND_OBJECT;
        lua_pop(L, 1);
    }
    lua_Integer n = 0, max = 0, nstr = 0, nint = 0, nother = 0;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        n++;
        if (lua_type(L, -1) == LUA_TSTRING) {
            nstr++;
        } else if (lua_isinteger(L, -1)) {
            lua_Integer k = lua_tointeger(L, -1);
            nint++;
            if (k < 1) max = LUA_MAXINTEGER;
            else if (k > max) max = k;
        } else {
            nother++;
        }
    }
    *count = n;
    if (forced == KIND_ARRAY) return nstr || nother ? BAD_ARRAY_KEY : max != n ? BAD_SPARSE : KIND_ARRAY;
    if (forced == KIND_OBJECT) return nint || nother ? BAD_OBJECT_KEY : KIND_OBJECT;
    if (nother) return BAD_KEY;
    if (nstr && nint) return BAD_MIXED;
    if (nint) return max != n ? BAD_SPARSE : KIND_ARRAY;
    return KIND_OBJECT;
}

typedef struct {
    const char *s;
    size_t n;
    lua_Integer slot; /* stack index of the value, 0 when not on the stack */
} keyref;

static int compare_keys(const void *a, const void *b) {
    const keyref *x = a, *y = b;
    int c = memcmp(x->s, y->s, x->n < y->n ? x->n : y->n);
    return c ? c : (x->n > y->n) - (x->n < y->n);
}

static void encode_value(lua_State *L, encoder *e, int idx);

static void encode_member(lua_State *L, encoder *e, const char *key, size_t keylen, int first) {
    if (!first) add_char(L, e, ',');
    newline(L, e);
    e->path[e->depth].key = key;
    encode_string(L, e, key, keylen);
    if (e->flags & SIS_JSON_PRETTY) ADD_LITERAL(L, e, ": ");
    else add_char(L, e, ':');
    encode_value(L, e, lua_gettop(L));
}

#define MODIFIED "a table was modified while it was being encoded (by a __gc finalizer?)"

static void encode_object(lua_State *L, encoder *e, int idx, lua_Integer count) {
    lua_Integer n = 0;
    add_char(L, e, '{');
    if (!(e->flags & SIS_JSON_UNSORTED)) {
        /* Every key and value stays on the stack (or, past its room, in a
         * table), which anchors the key strings: a finalizer can run at any
         * allocation and add or remove keys of the table being encoded. */
        int on_stack = count < 100000 && lua_checkstack(L, 2 * (int)count + 4);
        keyref *keys = lua_newuserdatauv(L, (size_t)count * sizeof *keys, 0);
        if (!on_stack) lua_newtable(L);
        int base = lua_gettop(L);
        lua_pushnil(L);
        while (lua_next(L, idx)) {
            if (n == count || lua_type(L, -2) != LUA_TSTRING) encode_error(L, e, MODIFIED);
            keys[n].s = lua_tolstring(L, -2, &keys[n].n);
            if (on_stack) {
                keys[n].slot = base + 2 * n + 2; /* the value; its key below it */
                lua_pushvalue(L, -2);
            } else {
                keys[n].slot = 0;
                lua_pop(L, 1);
                lua_pushvalue(L, -1);
                lua_rawseti(L, base, n + 1);
            }
            n++;
        }
        qsort(keys, (size_t)n, sizeof *keys, compare_keys);
        for (lua_Integer i = 0; i < n; i++) {
            if (keys[i].slot) {
                lua_pushvalue(L, (int)keys[i].slot);
            } else {
                lua_pushlstring(L, keys[i].s, keys[i].n);
                lua_rawget(L, idx);
            }
            encode_member(L, e, keys[i].s, keys[i].n, i == 0);
            lua_pop(L, 1);
        }
        lua_settop(L, base - 1 - !on_stack);
    } else {
        lua_pushnil(L);
        while (lua_next(L, idx)) {
            if (lua_type(L, -2) != LUA_TSTRING) encode_error(L, e, MODIFIED);
            size_t keylen;
            const char *key = lua_tolstring(L, -2, &keylen);
            encode_member(L, e, key, keylen, n++ == 0);
            lua_pop(L, 1);
        }
    }
    e->path[e->depth].key = NULL;
    e->depth--;
    if (n) newline(L, e);
    add_char(L, e, '}');
}

static void encode_table(lua_State *L, encoder *e, int idx) {
    for (int i = 1; i <= e->depth; i++)
        if (lua_rawequal(L, e->path[i].table, idx))
            encode_error(L, e, "cannot encode a cycle (a table contains itself)");
    if (e->depth == SIS_JSON_MAX_DEPTH)
        encode_error(L, e, lua_pushfstring(L, "nesting deeper than %d", SIS_JSON_MAX_DEPTH));
    luaL_checkstack(L, 6, "json.encode");
    lua_Integer count;
    int kind = classify(L, idx, e->array_mt, e->object_mt, &count);
    if (kind != KIND_ARRAY && kind != KIND_OBJECT) encode_error(L, e, bad_table[kind - BAD_MIXED]);
    if (e->depth + 1 >= e->path_cap) {
        int cap = e->path_cap ? 2 * e->path_cap : 16;
        if (cap > SIS_JSON_MAX_DEPTH + 1) cap = SIS_JSON_MAX_DEPTH + 1;
        path_step *grown = realloc(e->path, (size_t)cap * sizeof *grown);
        if (!grown) luaL_error(L, "not enough memory");
        e->path = grown;
        e->path_cap = cap;
    }
    e->depth++;
    e->path[e->depth].table = idx;
    e->path[e->depth].key = NULL;
    e->path[e->depth].index = 0; /* none yet: not shown in error paths */
    if (kind == KIND_OBJECT) {
        encode_object(L, e, idx, count);
        return;
    }
    add_char(L, e, '[');
    for (lua_Integer i = 1; i <= count; i++) {
        if (i > 1) add_char(L, e, ',');
        newline(L, e);
        e->path[e->depth].index = i;
        lua_rawgeti(L, idx, i);
        encode_value(L, e, lua_gettop(L));
        lua_pop(L, 1);
    }
    e->depth--;
    if (count) newline(L, e);
    add_char(L, e, ']');
}

static void encode_value(lua_State *L, encoder *e, int idx) {
    switch (lua_type(L, idx)) {
    case LUA_TNIL: ADD_LITERAL(L, e, "null"); break;
    case LUA_TBOOLEAN:
        if (lua_toboolean(L, idx)) ADD_LITERAL(L, e, "true");
        else ADD_LITERAL(L, e, "false");
        break;
    case LUA_TNUMBER:
        if (lua_isinteger(L, idx)) {
            char buf[32];
            int n = snprintf(buf, sizeof buf, LUA_INTEGER_FMT, (LUAI_UACINT)lua_tointeger(L, idx));
            add(L, e, buf, (size_t)n);
        } else {
            encode_float(L, e, lua_tonumber(L, idx));
        }
        break;
    case LUA_TSTRING: {
        size_t n;
        const char *s = lua_tolstring(L, idx, &n);
        encode_string(L, e, s, n);
        break;
    }
    case LUA_TTABLE: encode_table(L, e, idx); break;
    default:
        if (lua_islightuserdata(L, idx) && lua_touserdata(L, idx) == NULL) ADD_LITERAL(L, e, "null");
        else encode_error(L, e, lua_pushfstring(L, "cannot encode a %s", luaL_typename(L, idx)));
    }
}

void sis_json_encode(lua_State *L, int idx, int flags) {
    idx = lua_absindex(L, idx);
    luaL_checkstack(L, 8, "json.encode");
    encoder *e = lua_newuserdatauv(L, sizeof *e, 0);
    e->p = NULL;
    e->n = e->cap = 0;
    e->flags = flags;
    e->depth = 0;
    e->path = NULL;
    e->path_cap = 0;
    if (luaL_newmetatable(L, BUFFER_MT)) {
        lua_pushcfunction(L, encoder_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_setmetatable(L, -2);
    push_mt(L, &array_mt_key);
    push_mt(L, &object_mt_key);
    e->array_mt = lua_gettop(L) - 1;
    e->object_mt = lua_gettop(L);
    encode_value(L, e, idx);
    lua_pushlstring(L, e->p, e->n);
    free(e->p);
    free(e->path);
    e->p = NULL;
    e->path = NULL;
    lua_replace(L, -4);
    lua_pop(L, 2);
}

/* ------------------------------------------------------------- Lua binding */

static int l_decode(lua_State *L) {
    static const char *const names[] = {"max_depth", NULL};
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    sis_check_options(L, 2, names);
    lua_Integer max_depth = sis_opt_integer(L, 2, "max_depth", SIS_JSON_MAX_DEPTH, 1, 1000000);
    if (sis_json_decode(L, s, n, (int)max_depth)) return 1;
    luaL_pushfail(L);
    lua_insert(L, -2);
    return 2;
}

static int l_encode(lua_State *L) {
    static const char *const names[] = {"pretty", "sort_keys", NULL};
    luaL_checkany(L, 1);
    sis_check_options(L, 2, names);
    int flags = (sis_opt_boolean(L, 2, "pretty", 0) ? SIS_JSON_PRETTY : 0) |
                (sis_opt_boolean(L, 2, "sort_keys", 1) ? 0 : SIS_JSON_UNSORTED);
    sis_json_encode(L, 1, flags);
    return 1;
}

static int set_mt(lua_State *L, const char *key) {
    if (lua_isnoneornil(L, 1)) {
        lua_settop(L, 0);
        lua_newtable(L);
    } else {
        luaL_checktype(L, 1, LUA_TTABLE);
        lua_settop(L, 1);
    }
    push_mt(L, key);
    lua_setmetatable(L, 1);
    return 1;
}

static int l_array(lua_State *L) { return set_mt(L, &array_mt_key); }
static int l_object(lua_State *L) { return set_mt(L, &object_mt_key); }

/* True when json.encode would write the value as an array. */
static int l_is_array(lua_State *L) {
    lua_settop(L, 1);
    int yes = 0;
    if (lua_istable(L, 1)) {
        push_mt(L, &array_mt_key);
        push_mt(L, &object_mt_key);
        lua_Integer count;
        yes = classify(L, 1, 2, 3, &count) == KIND_ARRAY;
    }
    lua_pushboolean(L, yes);
    return 1;
}

int luaopen_sis_json(lua_State *L) {
    static const luaL_Reg funcs[] = {
        {"decode", l_decode}, {"encode", l_encode},     {"array", l_array},
        {"object", l_object}, {"is_array", l_is_array}, {NULL, NULL},
    };
    luaL_newlib(L, funcs);
    lua_pushlightuserdata(L, NULL);
    lua_setfield(L, -2, "null");
    push_mt(L, &array_mt_key);
    lua_setfield(L, -2, "array_mt");
    push_mt(L, &object_mt_key);
    lua_setfield(L, -2, "object_mt");
    return 1;
}
