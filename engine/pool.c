/* The Lua workers (see pool.h). One mutex guards the queue; each waiting
 * submitter has its own condition variable, so a finished job wakes only
 * its own connection thread, and workers take entries strictly first come,
 * first served. */
#include "pool.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

enum { WORKER_STACK = 8 << 20 }; /* Lua, gumbo, curl and TLS run here: the usual main-thread size */

typedef struct entry {
    void *job;
    int state; /* QUEUED, RUNNING, DONE */
    pthread_cond_t cond;
    struct entry *next;
} entry;

enum { QUEUED, RUNNING, DONE };

typedef struct thread {
    pthread_t id;
    sis_pool *pool;
} thread;

struct sis_pool {
    pthread_mutex_t lock;
    pthread_cond_t work;
    entry *head, *tail;
    int stopping, threads;
    sis_pool_worker w;
    thread *t;
};

static void *worker_main(void *arg) {
    sis_pool *p = ((thread *)arg)->pool;
    void *ctx = p->w.init(p->w.arg);
    pthread_mutex_lock(&p->lock);
    for (;;) {
        while (!p->head && !p->stopping) pthread_cond_wait(&p->work, &p->lock);
        entry *e = p->head;
        if (!e) break; /* stopping, nothing left */
        p->head = e->next;
        if (!p->head) p->tail = NULL;
        e->state = RUNNING;
        pthread_mutex_unlock(&p->lock);
        p->w.run(ctx, e->job);
        pthread_mutex_lock(&p->lock);
        e->state = DONE;
        pthread_cond_signal(&e->cond);
    }
    pthread_mutex_unlock(&p->lock);
    p->w.exit(ctx);
    return NULL;
}

sis_pool *sis_pool_new(int threads, const sis_pool_worker *w) {
    sis_pool *p = calloc(1, sizeof *p);
    if (!p || !(p->t = calloc((size_t)threads, sizeof *p->t))) {
        free(p);
        return NULL;
    }
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->work, NULL);
    p->w = *w;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, WORKER_STACK);
    for (; p->threads < threads; p->threads++) {
        p->t[p->threads].pool = p;
        if (pthread_create(&p->t[p->threads].id, &attr, worker_main, &p->t[p->threads]) != 0) break;
    }
    pthread_attr_destroy(&attr);
    if (p->threads < threads) {
        sis_pool_free(p);
        return NULL;
    }
    return p;
}

static struct timespec to_timespec(double t) {
    double whole = floor(t);
    return (struct timespec){.tv_sec = (time_t)whole, .tv_nsec = (long)((t - whole) * 1e9)};
}

/* Takes e out of the queue (it is there: QUEUED). */
static void unlink_entry(sis_pool *p, entry *e) {
    entry **link = &p->head, *prev = NULL;
    while (*link != e) prev = *link, link = &(*link)->next;
    *link = e->next;
    if (p->tail == e) p->tail = prev;
}

int sis_pool_run(sis_pool *p, void *job, double deadline) {
    entry e = {.job = job, .state = QUEUED};
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&e.cond, &attr);
    pthread_condattr_destroy(&attr);
    pthread_mutex_lock(&p->lock);
    if (p->tail) p->tail->next = &e;
    else p->head = &e;
    p->tail = &e;
    pthread_cond_signal(&p->work);
    struct timespec until = to_timespec(deadline);
    int rc = 0;
    while (e.state != DONE) {
        /* once a worker has it, the job ends at its deadline on its own
         * (the Lua hook, the transfers' clamp): wait for that */
        if (e.state == RUNNING || deadline <= 0) {
            pthread_cond_wait(&e.cond, &p->lock);
        } else if (pthread_cond_timedwait(&e.cond, &p->lock, &until) != 0 && e.state == QUEUED) {
            unlink_entry(p, &e);
            rc = -1;
            break;
        }
    }
    pthread_mutex_unlock(&p->lock);
    pthread_cond_destroy(&e.cond);
    return rc;
}

void sis_pool_free(sis_pool *p) {
    if (!p) return;
    pthread_mutex_lock(&p->lock);
    p->stopping = 1;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->lock);
    for (int i = 0; i < p->threads; i++) pthread_join(p->t[i].id, NULL);
    pthread_cond_destroy(&p->work);
    pthread_mutex_destroy(&p->lock);
    free(p->t);
    free(p);
}
