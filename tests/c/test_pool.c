/* The Lua workers' pool (engine/pool.c): a job wakes the worker that went
 * idle last, concurrent jobs get distinct workers, none is lost, a job no
 * worker takes by its deadline leaves the queue unrun, and idle workers let
 * go of their contexts. */
#include "check.h"
#include "pool.h"
#include "request.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

enum { WORKERS = 4 };

static atomic_int next_worker; /* the id init gives the next worker */
static atomic_int exited;

typedef struct job {
    int ran_on;              /* the id of the worker that ran it, 0 if none */
    atomic_int *gate;        /* when set: hold until it reaches `until` */
    int until;
} job;

static void *init(void *arg) {
    (void)arg;
    int *id = malloc(sizeof *id);
    *id = atomic_fetch_add(&next_worker, 1) + 1;
    return id;
}

static void run(void *ctx, void *arg) {
    job *j = arg;
    j->ran_on = *(int *)ctx;
    if (j->gate) {
        atomic_fetch_add(j->gate, 1);
        while (atomic_load(j->gate) < j->until) sched_yield();
    }
}

static atomic_int released; /* calls of the idle callback */

static void let_go(void *ctx) {
    (void)ctx;
    atomic_fetch_add(&released, 1);
}

static void nap_ms(long ms) { nanosleep(&(struct timespec){ms / 1000, ms % 1000 * 1000000}, NULL); }

static void finish(void *ctx) {
    free(ctx);
    atomic_fetch_add(&exited, 1);
}

static sis_pool *start(int threads) {
    sis_pool_worker w = {.init = init, .run = run, .exit = finish};
    atomic_store(&next_worker, 0);
    atomic_store(&exited, 0);
    return sis_pool_new(threads, &w);
}

/* One job after another: all on one worker (its state stays warm; the
 * others never build theirs). */
static void test_sequential_jobs_stay_on_one_worker(void) {
    sis_pool *p = start(WORKERS);
    CHECK(p != NULL);
    job first = {0};
    CHECK(sis_pool_run(p, &first, 0) == 0);
    CHECK(first.ran_on >= 1 && first.ran_on <= WORKERS);
    int same = 0;
    for (int i = 0; i < 50; i++) {
        job j = {0};
        CHECK(sis_pool_run(p, &j, 0) == 0);
        same += j.ran_on == first.ran_on;
    }
    CHECK(same == 50);
    sis_pool_free(p);
    CHECK(atomic_load(&exited) == WORKERS);
}

typedef struct submitter {
    pthread_t id;
    sis_pool *p;
    job j;
    int rounds, done;
} submitter;

static void *submit(void *arg) {
    submitter *s = arg;
    for (int i = 0; i < s->rounds; i++) {
        job j = s->j;
        if (sis_pool_run(s->p, &j, 0) == 0 && j.ran_on) s->done++;
        s->j.ran_on = j.ran_on;
    }
    return NULL;
}

/* As many jobs at once as workers, each holding its worker until all have
 * started: each wakes a worker of its own (a lost wakeup would hang here). */
static void test_concurrent_jobs_get_distinct_workers(void) {
    sis_pool *p = start(WORKERS);
    atomic_int gate = 0;
    submitter s[WORKERS];
    for (int i = 0; i < WORKERS; i++) {
        s[i] = (submitter){.p = p, .j = {.gate = &gate, .until = WORKERS}, .rounds = 1};
        pthread_create(&s[i].id, NULL, submit, &s[i]);
    }
    int seen[WORKERS + 1] = {0};
    for (int i = 0; i < WORKERS; i++) {
        pthread_join(s[i].id, NULL);
        CHECK(s[i].done == 1);
        if (s[i].j.ran_on >= 1 && s[i].j.ran_on <= WORKERS) seen[s[i].j.ran_on]++;
    }
    for (int w = 1; w <= WORKERS; w++) CHECK(seen[w] == 1);
    sis_pool_free(p);
}

/* Many submitters, fewer workers: every job runs once. */
static void test_no_job_lost(void) {
    sis_pool *p = start(3);
    enum { SUBMITTERS = 8, ROUNDS = 400 };
    submitter s[SUBMITTERS];
    for (int i = 0; i < SUBMITTERS; i++) {
        s[i] = (submitter){.p = p, .rounds = ROUNDS};
        pthread_create(&s[i].id, NULL, submit, &s[i]);
    }
    int done = 0;
    for (int i = 0; i < SUBMITTERS; i++) {
        pthread_join(s[i].id, NULL);
        done += s[i].done;
    }
    CHECK(done == SUBMITTERS * ROUNDS);
    sis_pool_free(p);
    CHECK(atomic_load(&exited) == 3);
}

/* The only worker is held: a job with a deadline leaves the queue unrun. */
static void test_deadline_while_all_busy(void) {
    sis_pool *p = start(1);
    atomic_int gate = 0;
    submitter holder = {.p = p, .j = {.gate = &gate, .until = 2}, .rounds = 1};
    pthread_create(&holder.id, NULL, submit, &holder);
    while (atomic_load(&gate) < 1) sched_yield(); /* the worker runs it */
    job late = {0};
    CHECK(sis_pool_run(p, &late, sis_monotonic() + 0.05) == -1);
    CHECK(late.ran_on == 0);
    atomic_fetch_add(&gate, 1); /* lets the held job end */
    pthread_join(holder.id, NULL);
    CHECK(holder.done == 1);
    job after = {0};
    CHECK(sis_pool_run(p, &after, sis_monotonic() + 5) == 0);
    CHECK(after.ran_on == 1);
    sis_pool_free(p);
}

/* Idle past idle_after, each worker lets go of its context once; after a
 * job, once again; and it still runs jobs after. */
static void test_idle_workers_let_go(void) {
    sis_pool_worker w = {.init = init, .run = run, .exit = finish, .idle = let_go, .idle_after = 0.05};
    atomic_store(&next_worker, 0);
    atomic_store(&released, 0);
    sis_pool *p = sis_pool_new(2, &w);
    nap_ms(400);
    CHECK(atomic_load(&released) == 2);
    job j = {0};
    CHECK(sis_pool_run(p, &j, 0) == 0);
    CHECK(j.ran_on >= 1);
    nap_ms(400);
    CHECK(atomic_load(&released) == 3);
    sis_pool_free(p);
    CHECK(atomic_load(&released) == 3);
}

int main(void) {
    test_sequential_jobs_stay_on_one_worker();
    test_concurrent_jobs_get_distinct_workers();
    test_no_job_lost();
    test_deadline_while_all_busy();
    test_idle_workers_let_go();
    return check_report("pool");
}
