/* sis.codec: small byte codecs scripts need and Lua lacks: base64, SHA-1,
 * HMAC-SHA1 (the Focus API signature), SHA-256 and HMAC-SHA256 (ETags,
 * webhook signatures), secure random ids, HTML entities and
 * URL percent-encoding. */
#include "sis.h"
#include "text.h"

#include <lauxlib.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/random.h>

void sis_hex_encode(const unsigned char *in, size_t n, char *out) {
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[in[i] >> 4];
        out[2 * i + 1] = hex[in[i] & 15];
    }
}

static void push_hex(lua_State *L, const unsigned char *d, size_t n) {
    luaL_Buffer b;
    sis_hex_encode(d, n, luaL_buffinitsize(L, &b, 2 * n));
    luaL_pushresultsize(&b, 2 * n);
}

/* OpenSSL takes int lengths. */
#define MAX_CODEC_INPUT ((size_t)INT_MAX / 4 * 3)

static int l_base64_encode(lua_State *L) {
    size_t n;
    const unsigned char *s = (const unsigned char *)luaL_checklstring(L, 1, &n);
    luaL_argcheck(L, n <= MAX_CODEC_INPUT, 1, "string too long");
    luaL_Buffer b;
    char *p = luaL_buffinitsize(L, &b, 4 * ((n + 2) / 3) + 1);
    int len = EVP_EncodeBlock((unsigned char *)p, s, (int)n);
    luaL_pushresultsize(&b, (size_t)len);
    return 1;
}

static int is_base64(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
}

static int base64_fail(lua_State *L, const char *why) {
    luaL_pushfail(L);
    lua_pushfstring(L, "base64: %s", why);
    return 2;
}

static int l_base64_decode(lua_State *L) {
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    luaL_argcheck(L, n <= MAX_CODEC_INPUT, 1, "string too long");
    /* EVP_DecodeBlock wants no whitespace and a multiple of 4 */
    luaL_Buffer clean;
    luaL_buffinit(L, &clean);
    for (size_t i = 0; i < n; i++)
        if (s[i] != '\n' && s[i] != '\r' && s[i] != ' ' && s[i] != '\t') luaL_addchar(&clean, s[i]);
    luaL_pushresult(&clean);
    size_t m;
    const unsigned char *c = (const unsigned char *)lua_tolstring(L, -1, &m);
    if (m % 4 != 0) return base64_fail(L, "length is not a multiple of 4");
    /* padding only at the very end (EVP_DecodeBlock takes '=' anywhere as
     * zero bits, and would turn "ab=c" into bytes) */
    size_t pad = m >= 1 && c[m - 1] == '=' ? m >= 2 && c[m - 2] == '=' ? 2 : 1 : 0;
    for (size_t i = 0; i < m - pad; i++)
        if (!is_base64(c[i])) return base64_fail(L, "invalid character");
    luaL_Buffer b;
    unsigned char *out = (unsigned char *)luaL_buffinitsize(L, &b, m / 4 * 3 + 1);
    int len = EVP_DecodeBlock(out, c, (int)m);
    if (len < 0) return base64_fail(L, "invalid character");
    luaL_pushresultsize(&b, (size_t)len - pad); /* EVP_DecodeBlock counts padding as zero bytes */
    return 1;
}

static int digest_hex(lua_State *L, const EVP_MD *md) {
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int dn = 0;
    if (!EVP_Digest(s, n, d, &dn, md, NULL)) return luaL_error(L, "digest failed");
    push_hex(L, d, dn);
    return 1;
}

static int l_sha1_hex(lua_State *L) { return digest_hex(L, EVP_sha1()); }
static int l_sha256_hex(lua_State *L) { return digest_hex(L, EVP_sha256()); }

static int hmac_hex(lua_State *L, const EVP_MD *md) {
    size_t kn, mn;
    const char *key = luaL_checklstring(L, 1, &kn);
    const unsigned char *msg = (const unsigned char *)luaL_checklstring(L, 2, &mn);
    luaL_argcheck(L, kn <= INT_MAX, 1, "key too long");
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int dn = 0;
    if (!HMAC(md, key, (int)kn, msg, mn, d, &dn)) return luaL_error(L, "hmac failed");
    push_hex(L, d, dn);
    return 1;
}

static int l_hmac_sha1_hex(lua_State *L) { return hmac_hex(L, EVP_sha1()); }
static int l_hmac_sha256_hex(lua_State *L) { return hmac_hex(L, EVP_sha256()); }

int sis_random_bytes(unsigned char *out, size_t n) {
    size_t got = 0;
    while (got < n) {
        ssize_t r = getrandom(out + got, n - got, 0);
        if (r < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        got += (size_t)r;
    }
    return 0;
}

static int l_random_hex(lua_State *L) {
    lua_Integer n = luaL_optinteger(L, 1, 16);
    luaL_argcheck(L, n > 0 && n <= 1024, 1, "byte count out of range 1..1024");
    unsigned char d[1024];
    if (sis_random_bytes(d, (size_t)n) != 0) return luaL_error(L, "getrandom failed");
    push_hex(L, d, (size_t)n);
    return 1;
}

static int l_html_unescape(lua_State *L) {
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    sis_html_unescape(s, n, &b);
    luaL_pushresult(&b);
    return 1;
}

static int l_url_encode(lua_State *L) {
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    sis_url_encode(s, n, &b);
    luaL_pushresult(&b);
    return 1;
}

static int hexval(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static int l_url_decode(lua_State *L) {
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '+') {
            luaL_addchar(&b, ' ');
        } else if (s[i] == '%' && i + 2 < n && hexval((unsigned char)s[i + 1]) >= 0 &&
                   hexval((unsigned char)s[i + 2]) >= 0) {
            luaL_addchar(&b, (char)(hexval((unsigned char)s[i + 1]) * 16 + hexval((unsigned char)s[i + 2])));
            i += 2;
        } else {
            luaL_addchar(&b, s[i]);
        }
    }
    luaL_pushresult(&b);
    return 1;
}

static const luaL_Reg funcs[] = {
    {"base64_encode", l_base64_encode}, {"base64_decode", l_base64_decode},
    {"sha1_hex", l_sha1_hex},           {"hmac_sha1_hex", l_hmac_sha1_hex},
    {"sha256_hex", l_sha256_hex},       {"hmac_sha256_hex", l_hmac_sha256_hex},
    {"random_hex", l_random_hex},       {"html_unescape", l_html_unescape},
    {"url_encode", l_url_encode},       {"url_decode", l_url_decode},
    {NULL, NULL},
};

int luaopen_sis_codec(lua_State *L) {
    luaL_newlib(L, funcs);
    return 1;
}
