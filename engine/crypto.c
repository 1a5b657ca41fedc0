/* sis.crypto: secrets at rest. AES-256-GCM through libcrypto (sealed =
 * 12-byte random nonce .. ciphertext .. 16-byte tag) and the key file.
 *
 *   crypto.seal(key, plaintext [, aad])  -> sealed bytes
 *   crypto.open(key, sealed [, aad])     -> plaintext | nil, "crypto: ..."
 *   crypto.key_file(path)                -> 32-byte key | nil, err
 *   crypto.random(n)                     -> n random bytes (getrandom)
 *
 * key is 32 raw bytes (anything else raises). aad is authenticated, not
 * encrypted: the store binds a sealed value to its row with it, so a value
 * copied to another row does not open. key_file reads the key file, or
 * creates it (O_EXCL, mode 0600) with a fresh random key when it does not
 * exist; a file of another size, or readable by others, is refused. */
#include "sis.h"
#include "text.h"

#include <lauxlib.h>
#include <openssl/evp.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KEY_LEN 32
#define NONCE_LEN 12
#define TAG_LEN 16

static const unsigned char *check_key(lua_State *L, int arg) {
    size_t n;
    const char *k = luaL_checklstring(L, arg, &n);
    luaL_argcheck(L, n == KEY_LEN, arg, "key must be 32 bytes");
    return (const unsigned char *)k;
}

/* One AES-256-GCM pass; returns 0 on success (open: the tag matched). */
static int gcm(int encrypt, const unsigned char *key, const unsigned char *nonce,
               const unsigned char *aad, size_t aad_len, const unsigned char *in, size_t len,
               unsigned char *out, unsigned char *tag) {
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int ok = ctx != NULL, n = 0;
    ok = ok && EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL, encrypt);
    ok = ok && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, NONCE_LEN, NULL);
    ok = ok && EVP_CipherInit_ex(ctx, NULL, NULL, key, nonce, encrypt);
    ok = ok && (aad_len == 0 || EVP_CipherUpdate(ctx, NULL, &n, aad, (int)aad_len));
    ok = ok && (len == 0 || EVP_CipherUpdate(ctx, out, &n, in, (int)len));
    if (ok && !encrypt) ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_LEN, tag);
    ok = ok && EVP_CipherFinal_ex(ctx, out + n, &n);
    if (ok && encrypt) ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_LEN, tag);
    EVP_CIPHER_CTX_free(ctx);
    return ok ? 0 : -1;
}

static int l_seal(lua_State *L) {
    const unsigned char *key = check_key(L, 1);
    size_t len, aad_len = 0;
    const unsigned char *in = (const unsigned char *)luaL_checklstring(L, 2, &len);
    const unsigned char *aad = (const unsigned char *)luaL_optlstring(L, 3, "", &aad_len);
    luaL_argcheck(L, len < INT_MAX - NONCE_LEN - TAG_LEN, 2, "too long");
    luaL_argcheck(L, aad_len < INT_MAX, 3, "too long");
    luaL_Buffer b;
    unsigned char *out = (unsigned char *)luaL_buffinitsize(L, &b, NONCE_LEN + len + TAG_LEN);
    if (sis_random_bytes(out, NONCE_LEN) != 0) return luaL_error(L, "crypto: getrandom failed");
    if (gcm(1, key, out, aad, aad_len, in, len, out + NONCE_LEN, out + NONCE_LEN + len) != 0)
        return luaL_error(L, "crypto: AES-256-GCM failed");
    luaL_pushresultsize(&b, NONCE_LEN + len + TAG_LEN);
    return 1;
}

static int l_open(lua_State *L) {
    const unsigned char *key = check_key(L, 1);
    size_t len, aad_len = 0;
    const unsigned char *in = (const unsigned char *)luaL_checklstring(L, 2, &len);
    const unsigned char *aad = (const unsigned char *)luaL_optlstring(L, 3, "", &aad_len);
    if (len < NONCE_LEN + TAG_LEN || len > INT_MAX || aad_len > INT_MAX) {
        luaL_pushfail(L);
        lua_pushliteral(L, "crypto: sealed value too short");
        return 2;
    }
    size_t n = len - NONCE_LEN - TAG_LEN;
    luaL_Buffer b;
    unsigned char *out = (unsigned char *)luaL_buffinitsize(L, &b, n + 1);
    unsigned char tag[TAG_LEN];
    memcpy(tag, in + NONCE_LEN + n, TAG_LEN);
    if (gcm(0, key, in, aad, aad_len, in + NONCE_LEN, n, out, tag) != 0) {
        OPENSSL_cleanse(out, n);
        luaL_pushfail(L);
        lua_pushliteral(L, "crypto: cannot open the sealed value (wrong key or altered)");
        return 2;
    }
    luaL_pushresultsize(&b, n);
    return 1;
}

static int key_fail(lua_State *L, const char *path, const char *why) {
    luaL_pushfail(L);
    lua_pushfstring(L, "crypto: key file %s: %s", path, why);
    return 2;
}

static int l_key_file(lua_State *L) {
    const char *path = luaL_checkstring(L, 1);
    unsigned char key[KEY_LEN];
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) { /* first start: a fresh key */
        int ok = sis_random_bytes(key, KEY_LEN) == 0 && write(fd, key, KEY_LEN) == KEY_LEN;
        ok = fsync(fd) == 0 && ok;
        close(fd);
        if (!ok) {
            unlink(path);
            OPENSSL_cleanse(key, KEY_LEN);
            return key_fail(L, path, "cannot write a new key");
        }
    } else {
        if (errno != EEXIST) return key_fail(L, path, strerror(errno));
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0) return key_fail(L, path, strerror(errno));
        struct stat st;
        const char *why = NULL;
        if (fstat(fd, &st) != 0) why = strerror(errno);
        else if (st.st_mode & 077) why = "readable by others (chmod 600 it)";
        else if (st.st_size != KEY_LEN) why = "not 32 bytes";
        else if (read(fd, key, KEY_LEN) != KEY_LEN) why = "cannot read it";
        close(fd);
        if (why) {
            OPENSSL_cleanse(key, KEY_LEN);
            return key_fail(L, path, why);
        }
    }
    lua_pushlstring(L, (const char *)key, KEY_LEN);
    OPENSSL_cleanse(key, KEY_LEN);
    return 1;
}

static int l_random(lua_State *L) {
    lua_Integer n = luaL_checkinteger(L, 1);
    luaL_argcheck(L, n > 0 && n <= 1024, 1, "byte count out of range 1..1024");
    unsigned char d[1024];
    if (sis_random_bytes(d, (size_t)n) != 0) return luaL_error(L, "getrandom failed");
    lua_pushlstring(L, (const char *)d, (size_t)n);
    return 1;
}

static const luaL_Reg funcs[] = {
    {"seal", l_seal}, {"open", l_open}, {"key_file", l_key_file}, {"random", l_random},
    {NULL, NULL},
};

int luaopen_sis_crypto(lua_State *L) {
    luaL_newlib(L, funcs);
    return 1;
}
