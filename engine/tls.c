/* CA certificates for sis.http's TLS connections, parsed once per process.
 *
 * libcurl (7.88, OpenSSL) builds a new certificate store for every new TLS
 * connection and fills it from the CA bundle file: parsing Debian's 140
 * certificates costs about 20 ms of CPU. Its CA cache keeps one parsed store
 * per multi handle, so a REST front with 16 workers, each with its own pool
 * of connections, would still parse the bundle 16 times and keep 16 copies
 * of it (about 1 MB each).
 *
 * Here a bundle file is parsed once for the whole process, its certificates
 * sorted by subject name and shared, read-only, by every thread. Each new
 * connection's store gets an X509_LOOKUP on it: while OpenSSL verifies the
 * server's chain it asks the lookup for the issuers it needs by name, and
 * the lookup adds those (a reference each, no copy) to that store, the way
 * OpenSSL's own lookup in a hashed CA directory does. A file that changed
 * since it was parsed (size, time or inode) is parsed again for the
 * connections that follow; stores made before keep the old bundle alive
 * until they are freed (a reference count).
 */
#include "tls.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct bundle {
    char *path;
    struct stat st; /* of the file when it was read */
    X509 **certs;   /* sorted by subject name */
    size_t n;
    size_t refs; /* the cache's own, one per lookup using it (under lock) */
    struct bundle *next;
} bundle;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static bundle *bundles; /* the current bundle of each file read */
static X509_LOOKUP_METHOD *method;
static pthread_once_t method_once = PTHREAD_ONCE_INIT;

static void bundle_free(bundle *b) {
    for (size_t i = 0; i < b->n; i++) X509_free(b->certs[i]);
    free(b->certs);
    free(b->path);
    free(b);
}

/* Drops a reference; call with lock held. */
static void unref(bundle *b) {
    if (--b->refs == 0) bundle_free(b);
}

static int by_subject_name(const void *a, const void *b) {
    return X509_NAME_cmp(X509_get_subject_name(*(X509 *const *)a), X509_get_subject_name(*(X509 *const *)b));
}

static int same_file(const struct stat *a, const struct stat *b) {
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* The OpenSSL reason of the last error, for messages. */
static const char *ssl_reason(void) {
    const char *r = ERR_reason_error_string(ERR_peek_last_error());
    return r ? r : "unknown error";
}

/* Parses the certificates of a PEM file. NULL with err filled on failure. */
static bundle *bundle_read(const char *path, const struct stat *st, char *err, size_t errlen) {
    bundle *b = calloc(1, sizeof *b);
    BIO *in = BIO_new_file(path, "r");
    if (!b || !in || !(b->path = strdup(path))) {
        snprintf(err, errlen, "cannot read '%s': %s", path, in ? "out of memory" : ssl_reason());
        goto fail;
    }
    b->st = *st;
    size_t cap = 0;
    ERR_clear_error();
    for (X509 *x; (x = PEM_read_bio_X509_AUX(in, NULL, NULL, NULL)) != NULL;) {
        if (b->n == cap) {
            X509 **grown = realloc(b->certs, (cap = cap ? cap * 2 : 256) * sizeof *grown);
            if (!grown) {
                X509_free(x);
                snprintf(err, errlen, "cannot read '%s': out of memory", path);
                goto fail;
            }
            b->certs = grown;
        }
        b->certs[b->n++] = x;
    }
    /* the end of the file shows as "no start line"; anything else is damage */
    unsigned long e = ERR_peek_last_error();
    if (e && !(ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE)) {
        snprintf(err, errlen, "'%s' is not a readable PEM certificate bundle: %s", path, ssl_reason());
        goto fail;
    }
    if (!b->n) {
        snprintf(err, errlen, "'%s' holds no PEM certificate", path);
        goto fail;
    }
    ERR_clear_error();
    BIO_free(in);
    qsort(b->certs, b->n, sizeof *b->certs, by_subject_name);
    return b;
fail:
    ERR_clear_error();
    BIO_free(in);
    if (b) bundle_free(b);
    return NULL;
}

/* The current bundle of path, read now if it was not or if the file changed,
 * with a reference for the caller. Call with lock held. */
static bundle *bundle_get(const char *path, char *err, size_t errlen) {
    struct stat st;
    if (stat(path, &st) != 0) {
        snprintf(err, errlen, "cannot read '%s': %s", path, strerror(errno));
        return NULL;
    }
    bundle **at = &bundles;
    while (*at && strcmp((*at)->path, path)) at = &(*at)->next;
    if (*at && same_file(&(*at)->st, &st)) {
        (*at)->refs++;
        return *at;
    }
    bundle *b = bundle_read(path, &st, err, errlen);
    if (!b) return NULL;
    if (*at) { /* replaced: the stores using the old one keep it until freed */
        bundle *old = *at;
        *at = old->next;
        unref(old);
    }
    b->refs = 2;
    b->next = bundles;
    bundles = b;
    return b;
}

/* OpenSSL asks for the certificates named `name`: every one of the bundle
 * goes into the lookup's store, and ret borrows the store's reference to the
 * first (the caller takes its own: a reference taken here would never be
 * dropped, hence set1 then free). */
static int lookup_by_subject(X509_LOOKUP *lu, X509_LOOKUP_TYPE type, const X509_NAME *name, X509_OBJECT *ret) {
    bundle *b = X509_LOOKUP_get_method_data(lu);
    if (type != X509_LU_X509 || !b) return 0;
    size_t lo = 0, hi = b->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (X509_NAME_cmp(X509_get_subject_name(b->certs[mid]), name) < 0) lo = mid + 1;
        else hi = mid;
    }
    X509_STORE *store = X509_LOOKUP_get_store(lu);
    size_t end = lo;
    for (; end < b->n && !X509_NAME_cmp(X509_get_subject_name(b->certs[end]), name); end++)
        if (!X509_STORE_add_cert(store, b->certs[end])) return 0;
    if (end == lo || !X509_OBJECT_set1_X509(ret, b->certs[lo])) return 0;
    X509_free(b->certs[lo]);
    return 1;
}

static void lookup_free(X509_LOOKUP *lu) {
    bundle *b = X509_LOOKUP_get_method_data(lu);
    if (!b) return;
    pthread_mutex_lock(&lock);
    unref(b);
    pthread_mutex_unlock(&lock);
}

static void make_method(void) {
    method = X509_LOOKUP_meth_new("sis CA bundle");
    if (method && (!X509_LOOKUP_meth_set_get_by_subject(method, lookup_by_subject) ||
                   !X509_LOOKUP_meth_set_free(method, lookup_free))) {
        X509_LOOKUP_meth_free(method);
        method = NULL;
    }
}

int sis_tls_check(const char *file, char *err, size_t errlen) {
    pthread_mutex_lock(&lock);
    bundle *b = bundle_get(file, err, errlen);
    if (b) unref(b);
    pthread_mutex_unlock(&lock);
    return b ? 0 : -1;
}

int sis_tls_trust(void *ssl_ctx, const char *file, char *err, size_t errlen) {
    pthread_once(&method_once, make_method);
    X509_STORE *store = SSL_CTX_get_cert_store(ssl_ctx);
    X509_LOOKUP *lu = method && store ? X509_STORE_add_lookup(store, method) : NULL;
    if (!lu) {
        snprintf(err, errlen, "cannot set up the CA certificates: %s", ssl_reason());
        ERR_clear_error();
        return -1;
    }
    pthread_mutex_lock(&lock);
    bundle *b = bundle_get(file, err, errlen);
    bundle *old = X509_LOOKUP_get_method_data(lu);
    if (b) {
        X509_LOOKUP_set_method_data(lu, b);
        if (old) unref(old);
    }
    pthread_mutex_unlock(&lock);
    return b ? 0 : -1;
}
