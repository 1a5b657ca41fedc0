/* The REST front's Lua workers: a fixed number of threads, each with its own
 * context (server.c gives each a Lua state), taking jobs from one queue in
 * arrival order.
 *
 * The connection threads (civetweb's, many and cheap: they only read and
 * write) hand a request over once it is fully read, and wait for it; so a
 * slow or idle client holds a connection thread, never a Lua state, and a
 * client that just connected is served after the requests that came before
 * it, whoever holds the other connections. */
#ifndef SIS_POOL_H
#define SIS_POOL_H

typedef struct sis_pool sis_pool;

typedef struct sis_pool_worker {
    void *(*init)(void *arg);          /* a worker's context, on its own thread */
    void (*run)(void *ctx, void *job); /* runs one job */
    void (*exit)(void *ctx);           /* when the pool stops */
    void *arg;
    /* optional: called on the worker's thread once it has waited idle_after
     * seconds without a job (again after each job), to let go of what it
     * keeps for the next one */
    void (*idle)(void *ctx);
    double idle_after;
} sis_pool_worker;

/* Starts threads workers (8 MiB stacks); NULL when threads cannot be created.
 * A job wakes the worker that went idle last. */
sis_pool *sis_pool_new(int threads, const sis_pool_worker *w);

/* Queues job and waits until a worker has run it: 0. When no worker has
 * taken it by deadline (sis_monotonic seconds; 0: no limit), it leaves the
 * queue unrun: -1. */
int sis_pool_run(sis_pool *p, void *job, double deadline);

/* Stops and joins the workers once their queue is empty. No sis_pool_run
 * may be running or come after. */
void sis_pool_free(sis_pool *p);

#endif
