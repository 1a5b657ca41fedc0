/* The Lua workers (see pool.h). One mutex guards the queue; each waiting
 * submitter has its own condition variable, so a finished job wakes only
 * its own connection thread, and workers take entries strictly first come,
 * first served. Idle workers wait on their own condition variables too, on
 * a stack: a job wakes the one that went idle last, whose Lua state and
 * parse chunks are still in the CPU's caches (a shared condition variable
 * woke them in turn: 14-20 % more CPU per request with 16 workers), and
 * workers a light load never needs never build a state. */
#include "pool.h"
#include "request.h"

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
    pthread_cond_t wake;
    int idle; /* on the idle stack: woken by a job (which clears it) or the stop */
} thread;

struct sis_pool {
    pthread_mutex_t lock;
    entry *head, *tail;
    int stopping, threads, size; /* threads started, of size */
    sis_pool_worker w;
    thread *t;
    thread **idle; /* the idle workers, the one that went idle last on top */
    int n_idle;
    int settled;         /* workers that have reached their loop */
    pthread_cond_t ready; /* sis_pool_new waits for them all */
};

static struct timespec to_timespec(double t) {
    double whole = floor(t);
    return (struct timespec){.tv_sec = (time_t)whole, .tv_nsec = (long)((t - whole) * 1e9)};
}

/* Waits on the idle stack until a job or the stop wakes it; past
 * idle_after seconds there, hands its context to w.idle, once. */
static void wait_idle(sis_pool *p, thread *self, void *ctx) {
    self->idle = 1;
    p->idle[p->n_idle++] = self;
    int released = !p->w.idle || p->w.idle_after <= 0;
    struct timespec until = to_timespec(released ? 0 : sis_monotonic() + p->w.idle_after);
    while (self->idle && !p->stopping) {
        if (released) {
            pthread_cond_wait(&self->wake, &p->lock);
        } else if (pthread_cond_timedwait(&self->wake, &p->lock, &until) != 0 && self->idle && !p->stopping) {
            released = 1;
            pthread_mutex_unlock(&p->lock); /* a job may pop it meanwhile: it runs once this returns */
            p->w.idle(ctx);
            pthread_mutex_lock(&p->lock);
        }
    }
}

static void *worker_main(void *arg) {
    thread *self = arg;
    sis_pool *p = self->pool;
    void *ctx = p->w.init(p->w.arg);
    pthread_mutex_lock(&p->lock);
    p->settled++;
    pthread_cond_signal(&p->ready);
    for (;;) {
        /* again when its job went to a worker that had just finished */
        while (!p->head && !p->stopping) wait_idle(p, self, ctx);
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
    if (!p || !(p->t = calloc((size_t)threads, sizeof *p->t))
        || !(p->idle = calloc((size_t)threads, sizeof *p->idle))) {
        if (p) free(p->t);
        free(p);
        return NULL;
    }
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->ready, NULL);
    pthread_condattr_t monotonic;
    pthread_condattr_init(&monotonic);
    pthread_condattr_setclock(&monotonic, CLOCK_MONOTONIC);
    for (int i = 0; i < threads; i++) pthread_cond_init(&p->t[i].wake, &monotonic);
    pthread_condattr_destroy(&monotonic);
    p->size = threads;
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
    /* all on the idle stack, in the order they got there: from the first
     * job on, which worker runs what depends on the jobs alone */
    pthread_mutex_lock(&p->lock);
    while (p->settled < p->threads) pthread_cond_wait(&p->ready, &p->lock);
    pthread_mutex_unlock(&p->lock);
    return p;
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
    if (p->n_idle > 0) { /* else a busy worker takes it when it is done */
        thread *t = p->idle[--p->n_idle];
        t->idle = 0;
        pthread_cond_signal(&t->wake);
    }
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
    for (int i = 0; i < p->threads; i++) pthread_cond_signal(&p->t[i].wake);
    pthread_mutex_unlock(&p->lock);
    for (int i = 0; i < p->threads; i++) pthread_join(p->t[i].id, NULL);
    for (int i = 0; i < p->size; i++) pthread_cond_destroy(&p->t[i].wake);
    pthread_cond_destroy(&p->ready);
    pthread_mutex_destroy(&p->lock);
    free(p->idle);
    free(p->t);
    free(p);
}
