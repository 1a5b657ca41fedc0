/* Record/replay of HTTP exchanges for sis.http (format: see cassette.c).
 * The mode (live, record, replay) and its cassette are process-wide: every
 * Lua state of every thread sees the same one. */
#ifndef SIS_CASSETTE_H
#define SIS_CASSETTE_H

#include <lua.h>
#include <stddef.h>

/* A growable array of malloc'ed, NUL-terminated strings. */
typedef struct {
    char **items;
    size_t n, cap;
} sis_strv;
int sis_strv_push(sis_strv *v, const char *s, size_t len); /* 0, or -1: out of memory */
void sis_strv_free(sis_strv *v);

/* What a request is matched on. body is NULL when the request has none. */
typedef struct {
    const char *method, *url, *body;
    size_t body_len;
} sis_request;

/* The outcome of one request; every pointer is owned (malloc'ed). */
typedef struct {
    long status;        /* 0 when the transfer failed */
    char kind[16];      /* failed: timeout, connect, ... (see README.md, sis.http) */
    char *error;        /* failed: "<kind>: <message> (<url without query>)" */
    sis_strv headers;   /* final response: lower-case name, value, name, value... */
    sis_strv cookies;   /* Set-Cookie of every hop: hop URL, header value, ... */
    char *final_url;
    double elapsed;     /* seconds */
    char *body;
    size_t body_len, body_cap;
} sis_exchange;
void sis_exchange_free(sis_exchange *x);

enum { SIS_HTTP_LIVE, SIS_HTTP_RECORD, SIS_HTTP_REPLAY };
typedef struct sis_cassette sis_cassette;

/* Applies SIS_HTTP_RECORD / SIS_HTTP_REPLAY once per process (later calls do
 * nothing). L is used to decode a replay cassette. 0, or -1 with err filled. */
int sis_cassette_from_env(lua_State *L, char *err, size_t errlen);

/* Switch the mode. 0, or -1 with err filled (the mode is then unchanged). */
int sis_cassette_record(const char *dir, char *err, size_t errlen);
int sis_cassette_replay(lua_State *L, const char *dir, char *err, size_t errlen);
void sis_cassette_live(void);

/* The current mode and a reference to its cassette (NULL when live), valid
 * until sis_cassette_release even if the mode changes meanwhile. */
sis_cassette *sis_cassette_acquire(int *mode);
void sis_cassette_release(sis_cassette *c);

/* Record mode: writes the exchange as the next numbered entry. Failures to
 * write are logged, never fatal to the request. */
void sis_cassette_save(sis_cassette *c, const sis_request *rq, const sis_exchange *x);

/* Replay mode: fills out with the next recorded outcome of rq.
 * 0 found, -1 not in the cassette, -2 its body file is unreadable. */
int sis_cassette_find(sis_cassette *c, const sis_request *rq, sis_exchange *out);

#endif
