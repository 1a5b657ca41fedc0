/* CA certificates for sis.http's TLS connections, parsed once per process
 * and shared by every thread (see tls.c). */
#ifndef SIS_TLS_H
#define SIS_TLS_H

#include <stddef.h>

/* Makes the certificates of the PEM bundle `file` the ones ssl_ctx (an
 * OpenSSL SSL_CTX about to make a connection, as curl's
 * CURLOPT_SSL_CTX_FUNCTION hands it) trusts. The file is parsed the first
 * time, and again when it changed. 0, or -1 with err filled. */
int sis_tls_trust(void *ssl_ctx, const char *file, char *err, size_t errlen);

/* Parses the bundle now if it is not already (to report a bad file early).
 * 0, or -1 with err filled. */
int sis_tls_check(const char *file, char *err, size_t errlen);

#endif
