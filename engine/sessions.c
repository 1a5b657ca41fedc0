/* The REST front's session store (see sessions.h). One mutex guards the whole
 * table; a condition variable wakes requests waiting for a held session.
 * The mutex is only held for lookups and copies, never while a handler runs. */
#include "sessions.h"
#include "text.h"

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
    sis_session *next;
};

struct sis_sessions {
    pthread_mutex_t lock;
    pthread_cond_t released;
    double idle, last_sweep;
    size_t max, count;
    sis_session *buckets[BUCKETS];
};

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

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
    return !e->holder && t - e->last_used > s->idle;
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
            h->held[i] = h->held[--h->n];
            return;
        }
}

static char *copy(const char *state, size_t len) {
    char *p = malloc(len + 1);
    if (!p) return NULL;
    memcpy(p, state, len);
    p[len] = '\0';
    return p;
}

sis_sessions *sis_sessions_new(double idle, size_t max) {
    sis_sessions *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->released, NULL);
    s->idle = idle;
    s->max = max;
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
    if (!valid_key(ns, id)) return 0;
    pthread_mutex_lock(&s->lock);
    double t = now();
    sweep(s, t);
    sis_session **link;
    int rc = 1;
    for (;;) {
        link = find(s, ns, id);
        if (!link) {
            rc = 0;
            break;
        }
        sis_session *e = *link;
        if (e->holder == h) break;
        if (!e->holder) {
            if (expired(s, e, t)) {
                unlink_free(s, link);
                rc = 0;
            } else if (h->n >= SIS_SESSION_HELD_MAX) {
                rc = -1;
            } else {
                e->holder = h;
                h->held[h->n++] = e;
            }
            break;
        }
        pthread_cond_wait(&s->released, &s->lock);
        t = now();
    }
    if (rc == 1) {
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
        e->holder = h;
        e->last_used = t;
        h->held[h->n++] = e;
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

size_t sis_sessions_count(sis_sessions *s) {
    pthread_mutex_lock(&s->lock);
    s->last_sweep = -1e300; /* force a sweep */
    sweep(s, now());
    size_t n = s->count;
    pthread_mutex_unlock(&s->lock);
    return n;
}
