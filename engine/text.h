/* Byte codecs shared between C modules (http, server, html, json). */
#ifndef SIS_TEXT_H
#define SIS_TEXT_H

#include <lauxlib.h>
#include <stddef.h>

/* Appends s with HTML/XML character references decoded (named Latin-1 and
 * XML entities, &#N; and &#xH;); unknown references are kept verbatim. */
void sis_html_unescape(const char *s, size_t n, luaL_Buffer *b);

/* Appends s percent-encoded: RFC 3986 unreserved characters kept, all else %XX. */
void sis_url_encode(const char *s, size_t n, luaL_Buffer *b);

/* Appends the code point as UTF-8 (invalid code points as U+FFFD). */
void sis_utf8_encode(unsigned long cp, luaL_Buffer *b);

/* Fills out with n bytes from the kernel CSPRNG. 0 on success, -1 on failure. */
int sis_random_bytes(unsigned char *out, size_t n);

/* Writes the 2 n lower-case hex digits of in[0..n) to out (no NUL). */
void sis_hex_encode(const unsigned char *in, size_t n, char *out);

#endif
