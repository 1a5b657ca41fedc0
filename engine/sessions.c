/* The REST front's session store (see sessions.h). One mutex guards the whole
 * table; a condition variable wakes requests waiting for a held session.
 * The mutex is only held for lookups and copies, never while a handler runs. */
#include "sessions.h"
#include "request.h"
#include "text.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BUCKETS 1024
#define SWEEP_EVERY 1.0 /* seconds between full sweeps for expired sessions */

struct sis_session {
    char ns[SIS_SESSION_NS_MAX];
    char id[SIS_SESSION_ID_LEN + 1];
    char *state;
    size_t len;
    double last_used;           /* monotonic seconds */
    sis_session_holder *holder; /* NULL when no request holds it */
    int waiting;                /* requests waiting for it */
    sis_session *next;
};

struct sis_sessions {
    pthread_mutex_t lock;
    pthread_cond_t released;
    double idle, last_sweep;
    size_t max, count;
    int max_waiting;
    sis_session *buckets[BUCKETS];
};

static double now(void) { return sis_monotonic(); }

static int valid_key(const char *ns, const char *id) {
    size_t nl = strlen(ns);
    if (nl == 0 || nl >= SIS_SESSION_NS_MAX || strlen(id) != SIS_SESSION_ID_LEN) return 0;
    for (const char *p = id; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'))) return 0;
    return 1;
}

static sis_session **bucket(sis_sessions *s, const char *ns, const char *id) {
    uint32_t h = 2166136261u; /* FNV-1a */
    for (const char *p = ns; *p; p++) h = (h ^ (unsigned char)*p) * 16777619u;
    for (const char *p = id; *p; p++) h = (h ^ (unsigned char)*p) * 16777619u;
    return &s->buckets[h % BUCKETS];
}

/* The link pointing at the session, or NULL. */
static sis_session **find(sis_sessions *s, const char *ns, const char *id) {
    for (sis_session **p = bucket(s, ns, id); *p; p = &(*p)->next)
        if (!strcmp((*p)->id, id) && !strcmp((*p)->ns, ns)) return p;
    return NULL;
}

/* explicit_bzero, not memset: a memset just before free is a dead store the
 * compiler may drop (gcc 12 -O2 dropped the id's in unlink_free). */
static void wipe_state(sis_session *e) {
    if (e->state) {
        explicit_bzero(e->state, e->len);
        free(e->state);
    }
    e->state = NULL;
    e->len = 0;
}

static void unlink_free(sis_sessions *s, sis_session **link) {
    sis_session *e = *link;
    *link = e->next;
    wipe_state(e);
    explicit_bzero(e->id, sizeof e->id);
    free(e);
    s->count--;
}

static int expired(const sis_sessions *s, const sis_session *e, double t) {
    return !e->holder && !e->waiting && t - e->last_used > s->idle;
}

static void sweep(sis_sessions *s, double t) {
    if (t - s->last_sweep < SWEEP_EVERY) return;
    s->last_sweep = t;
    for (int b = 0; b < BUCKETS; b++) {
        sis_session **p = &s->buckets[b];
        while (*p) {
            if (expired(s, *p, t)) unlink_free(s, p);
            else p = &(*p)->next;
        }
    }
}

static int holds(const sis_session_holder *h, const sis_session *e) {
    for (int i = 0; i < h->n; i++)
        if (h->held[i] == e) return 1;
    return 0;
}

static void drop_from_holder(sis_session_holder *h, const sis_session *e) {
    for (int i = 0; i < h->n; i++)
        if (h->held[i] == e) {
            h->n--;
            h->held[i] = h->held[h->n];
            h->created[i] = h->created[h->n];
            return;
        }
}

static void hold(sis_session_holder *h, sis_session *e, int created) {
    e->holder = h;
    h->held[h->n] = e;
    h->created[h->n++] = (char)created;
}

/* Waits for a release until h's deadline: 0, or ETIMEDOUT. */
static int wait_release(sis_sessions *s, const sis_session_holder *h) {
    if (h->deadline <= 0) return pthread_cond_wait(&s->released, &s->lock);
    double whole = floor(h->deadline);
    struct timespec until = {(time_t)whole, (long)((h->deadline - whole) * 1e9)};
    return pthread_cond_timedwait(&s->released, &s->lock, &until);
}

static char *copy(const char *state, size_t len) {
    char *p = malloc(len + 1);
    if (!p) return NULL;
    memcpy(p, state, len);
    p[len] = '\0';
    return p;
}

sis_sessions *sis_sessions_new(double idle, size_t max, int max_waiting) {
    sis_sessions *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    pthread_mutex_init(&s->lock, NULL);
    pthread_condattr_t attr; /* deadlines are on the monotonic clock */
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&s->released, &attr);
    pthread_condattr_destroy(&attr);
    s->idle = idle;
    s->max = max;
    s->max_waiting = max_waiting;
    s->last_sweep = now();
    return s;
}

size_t sis_sessions_free(sis_sessions *s) {
    if (!s) return 0;
    size_t n = s->count;
    for (int b = 0; b < BUCKETS; b++)
        while (s->buckets[b]) unlink_free(s, &s->buckets[b]);
    pthread_cond_destroy(&s->released);
    pthread_mutex_destroy(&s->lock);
    free(s);
    return n;
}

int sis_sessions_open(sis_sessions *s, sis_session_holder *h, const char *ns,
                      const char *id, const char **state, size_t *len) {
    if (!valid_key(ns, id)) return SIS_SESSION_NONE;
    pthread_mutex_lock(&s->lock);
    double t = now();
    sweep(s, t);
    sis_session **link;
    int rc = SIS_SESSION_HELD, timed_out = 0;
    for (;;) {
        link = find(s, ns, id);
        if (!link) {
            rc = SIS_SESSION_NONE;
            break;
        }
        sis_session *e = *link;
        if (e->holder == h) break;
        if (!e->holder) {
            if (expired(s, e, t)) {
                unlink_free(s, link);
                rc = SIS_SESSION_NONE;
            } else if (h->n >= SIS_SESSION_HELD_MAX) {
                rc = SIS_SESSION_TOO_MANY;
            } else {
                hold(h, e, 0);
            }
            break;
        }
        if (timed_out) {
            rc = SIS_SESSION_TIMEOUT;
            break;
        }
        if (s->max_waiting > 0 && e->waiting >= s->max_waiting) {
            rc = SIS_SESSION_BUSY;
            break;
        }
        e->waiting++; /* keeps it from expiring meanwhile */
        timed_out = wait_release(s, h) != 0;
        if ((link = find(s, ns, id)) != NULL) (*link)->waiting--; /* e may have been ended */
        t = now();
    }
    if (rc == SIS_SESSION_HELD) {
        (*link)->last_used = t;
        *state = (*link)->state;
        *len = (*link)->len;
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

int sis_sessions_create(sis_sessions *s, sis_session_holder *h, const char *ns,
                        const char *state, size_t len, char *id) {
    if (strlen(ns) == 0 || strlen(ns) >= SIS_SESSION_NS_MAX || h->n >= SIS_SESSION_HELD_MAX)
        return -1;
    sis_session *e = calloc(1, sizeof *e);
    if (!e || !(e->state = copy(state, len))) {
        free(e);
        return -1;
    }
    e->len = len;
    strcpy(e->ns, ns);
    pthread_mutex_lock(&s->lock);
    double t = now();
    sweep(s, t);
    int rc = -1;
    if (!s->max || s->count < s->max) {
        unsigned char raw[SIS_SESSION_ID_LEN / 2];
        do { /* a collision is astronomically unlikely, but cheap to rule out */
            if (sis_random_bytes(raw, sizeof raw) != 0) goto out;
            sis_hex_encode(raw, sizeof raw, e->id);
            e->id[SIS_SESSION_ID_LEN] = '\0';
        } while (find(s, ns, e->id));
        sis_session **b = bucket(s, ns, e->id);
        e->next = *b;
        *b = e;
        hold(h, e, 1);
        e->last_used = t;
        s->count++;
        memcpy(id, e->id, SIS_SESSION_ID_LEN + 1);
        rc = 0;
    }
out:
    pthread_mutex_unlock(&s->lock);
    if (rc != 0) {
        wipe_state(e);
        free(e);
    }
    return rc;
}

int sis_sessions_save(sis_sessions *s, sis_session_holder *h, const char *ns,
                      const char *id, const char *state, size_t len) {
    char *fresh = copy(state, len);
    if (!fresh) return -1;
    pthread_mutex_lock(&s->lock);
    sis_session **link = valid_key(ns, id) ? find(s, ns, id) : NULL;
    int rc = -1;
    if (link && holds(h, *link)) {
        wipe_state(*link);
        (*link)->state = fresh;
        (*link)->len = len;
        fresh = NULL;
        rc = 0;
    }
    pthread_mutex_unlock(&s->lock);
    if (fresh) {
        explicit_bzero(fresh, len);
        free(fresh);
    }
    return rc;
}

int sis_sessions_destroy(sis_sessions *s, sis_session_holder *h, const char *ns,
                         const char *id) {
    pthread_mutex_lock(&s->lock);
    sis_session **link = valid_key(ns, id) ? find(s, ns, id) : NULL;
    int rc = -1;
    if (link && holds(h, *link)) {
        drop_from_holder(h, *link);
        unlink_free(s, link);
        pthread_cond_broadcast(&s->released);
        rc = 0;
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

void sis_sessions_release_all(sis_sessions *s, sis_session_holder *h) {
    if (h->n == 0) return;
    pthread_mutex_lock(&s->lock);
    double t = now();
    for (int i = 0; i < h->n; i++) {
        h->held[i]->holder = NULL;
        h->held[i]->last_used = t; /* idle time counts from the end of a request */
    }
    h->n = 0;
    pthread_cond_broadcast(&s->released);
    pthread_mutex_unlock(&s->lock);
}

void sis_sessions_abort(sis_sessions *s, sis_session_holder *h) {
    pthread_mutex_lock(&s->lock);
    for (int i = h->n - 1; i >= 0; i--) {
        if (!h->created[i]) continue;
        sis_session **link = find(s, h->held[i]->ns, h->held[i]->id);
        drop_from_holder(h, h->held[i]);
        if (link) unlink_free(s, link);
    }
    pthread_mutex_unlock(&s->lock);
    sis_sessions_release_all(s, h);
}

size_t sis_sessions_count(sis_sessions *s) {
    pthread_mutex_lock(&s->lock);
    s->last_sweep = -1e300; /* force a sweep */
    sweep(s, now());
    size_t n = s->count;
    pthread_mutex_unlock(&s->lock);
    return n;
}
