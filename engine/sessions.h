/* The REST front's session store: server-side, in memory, shared by every
 * worker thread (one mutex), keyed by namespace ("focus", "scodoc") and a
 * random 128-bit id. A session's state is an opaque string (the front stores
 * it JSON-encoded) that may hold a password, so it is wiped (explicit_bzero) whenever
 * it is replaced, ended, expired or the store is freed.
 *
 * A session is held by at most one request at a time: sis_sessions_open waits
 * while another holder has it, so two requests of one session are serialised
 * while different sessions run in parallel. The wait is bounded: by the
 * holder's deadline, and by a cap on how many requests may wait for one
 * session (beyond it they are refused at once). A holder is a small
 * per-request record; sis_sessions_release_all (or sis_sessions_abort) must
 * be called when the request ends. */
#ifndef SIS_SESSIONS_H
#define SIS_SESSIONS_H

#include <stddef.h>

#define SIS_SESSION_ID_LEN 32  /* hex characters of a 128-bit id */
#define SIS_SESSION_NS_MAX 16  /* namespace name, including the NUL */
#define SIS_SESSION_HELD_MAX 8 /* sessions one request may hold at once */

typedef struct sis_sessions sis_sessions;
typedef struct sis_session sis_session;

typedef struct sis_session_holder {
    sis_session *held[SIS_SESSION_HELD_MAX];
    char created[SIS_SESSION_HELD_MAX]; /* held[i] was created by this holder */
    int n;
    double deadline; /* waits end then (sis_monotonic seconds; 0: no limit) */
} sis_session_holder;

/* sis_sessions_open's answers */
enum { SIS_SESSION_NONE = 0, SIS_SESSION_HELD = 1, SIS_SESSION_TOO_MANY = -1, SIS_SESSION_BUSY = -2,
       SIS_SESSION_TIMEOUT = -3 };

/* idle: seconds without a request before a session expires; max: cap on the
 * number of live sessions (0: unlimited); max_waiting: requests that may
 * wait for one session at once (0: unlimited). NULL when out of memory. */
sis_sessions *sis_sessions_new(double idle, size_t max, int max_waiting);

/* Wipes and frees every session; returns how many there were. No request
 * may be running. */
size_t sis_sessions_free(sis_sessions *s);

/* Takes the session (ns, id) for holder h, waiting while another request
 * holds it, and refreshes its idle clock. Returns SIS_SESSION_HELD and sets
 * *state and *len (valid until h releases it or saves a new state) when it
 * exists; SIS_SESSION_NONE when it does not (unknown, ended or expired);
 * SIS_SESSION_TOO_MANY when h already holds SIS_SESSION_HELD_MAX sessions;
 * SIS_SESSION_BUSY when max_waiting requests already wait for it;
 * SIS_SESSION_TIMEOUT when h's deadline passed while waiting. Opening a
 * session h already holds returns it. */
int sis_sessions_open(sis_sessions *s, sis_session_holder *h, const char *ns,
                      const char *id, const char **state, size_t *len);

/* Creates a session with a new random id (written to id, which must have room
 * for SIS_SESSION_ID_LEN + 1 bytes) held by h. 0 on success, -1 when the store
 * is full, h holds too many sessions, or memory or randomness failed. */
int sis_sessions_create(sis_sessions *s, sis_session_holder *h, const char *ns,
                        const char *state, size_t len, char *id);

/* Replaces the state of a session h holds (the old one is wiped). 0 on
 * success, -1 when h does not hold it or memory failed. */
int sis_sessions_save(sis_sessions *s, sis_session_holder *h, const char *ns,
                      const char *id, const char *state, size_t len);

/* Ends a session h holds: wipes and frees it. 0 on success, -1 when h does
 * not hold it. */
int sis_sessions_destroy(sis_sessions *s, sis_session_holder *h, const char *ns,
                         const char *id);

/* Lets go of every session h holds (waking requests waiting for them). */
void sis_sessions_release_all(sis_sessions *s, sis_session_holder *h);

/* For a request that did not finish: wipes the sessions h created (their
 * cookie never went out) and lets go of the others. */
void sis_sessions_abort(sis_sessions *s, sis_session_holder *h);

/* Number of live sessions (expired ones are swept first). */
size_t sis_sessions_count(sis_sessions *s);

#endif
