/* The background poller of `sis serve`: SIS_WATCH_THREADS threads (4;
 * 1..64), each with its own Lua state, that call tick(stopping, index) of
 * scripts/watch/scheduler.lua in a loop and sleep for the time it returns
 * (at most a second, so subscriptions created by the REST workers are seen
 * at once). The threads share the work through the store (a poll is claimed
 * before it runs). It runs only when a data directory is set (SIS_DATA_DIR /
 * --data-dir). A poll mostly waits for the school, hence several threads.
 *
 * Like the REST workers, a thread builds a new state between ticks when a
 * script changed (an overlay's fixed parser serves the next poll); if the
 * new state cannot load, it keeps the old one (logged once). Stopping waits
 * for the poll in progress, at most the upstream timeout. */
#include "scheduler.h"

#include "log.h"

#include <lauxlib.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#define MAX_SLEEP 1.0
#define SLEEP_AFTER_ERROR 5.0
#define DEFAULT_THREADS 4
#define MAX_THREADS 64

struct sis_scheduler;

typedef struct poller {
    struct sis_scheduler *owner;
    int index;
    pthread_t thread;
    lua_State *L;
    unsigned long generation; /* of the scripts L was built from */
} poller;

struct sis_scheduler {
    const sis_options *host;
    sis_generation_fn generation;
    void *generation_ctx;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    atomic_int stop;
    int count;
    poller threads[MAX_THREADS];
};

static char tick_key;     /* registry: scheduler.tick */
static char stopping_key; /* registry: the stopping() closure */

/* stopping() -> whether sis serve is stopping (upvalue: the scheduler) */
static int l_stopping(lua_State *L) {
    sis_scheduler *s = lua_touserdata(L, lua_upvalueindex(1));
    lua_pushboolean(L, atomic_load(&s->stop));
    return 1;
}

/* Protected: requires the scheduler module, keeps its tick and the
 * stopping() closure (arg: the scheduler), so a tick allocates nothing
 * outside its protected call. */
static int load(lua_State *L) {
    lua_pushcclosure(L, l_stopping, 1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &stopping_key);
    lua_getglobal(L, "require");
    lua_pushliteral(L, "watch.scheduler");
    lua_call(L, 1, 1);
    lua_getfield(L, -1, "tick");
    if (!lua_isfunction(L, -1)) return luaL_error(L, "watch.scheduler has no tick function");
    lua_rawsetp(L, LUA_REGISTRYINDEX, &tick_key);
    return 0;
}

/* One tick; returns the seconds to sleep. */
static double tick(poller *p) {
    lua_State *L = p->L;
    lua_rawgetp(L, LUA_REGISTRYINDEX, &tick_key);
    lua_rawgetp(L, LUA_REGISTRYINDEX, &stopping_key);
    lua_pushinteger(L, p->index);
    double wait = SLEEP_AFTER_ERROR;
    if (sis_pcall(L, 2, 1) != LUA_OK) sis_log(SIS_LOG_ERROR, "watch: tick failed: %s", lua_tostring(L, -1));
    else if (lua_isnumber(L, -1)) wait = lua_tonumber(L, -1);
    lua_settop(L, 0);
    return wait < MAX_SLEEP ? (wait < 0 ? 0 : wait) : MAX_SLEEP;
}

/* A thread's state with the scheduler module loaded, or NULL (logged). */
static lua_State *new_state(const sis_options *host, sis_scheduler *s) {
    lua_State *L = sis_state_new(host);
    if (!L) return NULL;
    lua_pushcfunction(L, load);
    lua_pushlightuserdata(L, s);
    if (sis_pcall(L, 1, 0) != LUA_OK) {
        sis_log(SIS_LOG_ERROR, "watch: cannot load the poller's scripts: %s", lua_tostring(L, -1));
        lua_close(L);
        return NULL;
    }
    return L;
}

/* A new state when the scripts changed since p's was built. */
static void reload(poller *p) {
    sis_scheduler *s = p->owner;
    unsigned long g = s->generation(s->generation_ctx);
    if (g == p->generation) return;
    p->generation = g;
    lua_State *L = new_state(s->host, s);
    if (!L) { /* logged: the old scripts go on polling */
        sis_log(SIS_LOG_WARN, "watch: poller %d keeps the scripts it had", p->index);
        return;
    }
    lua_close(p->L);
    p->L = L;
}

static void *run(void *arg) {
    poller *p = arg;
    sis_scheduler *s = p->owner;
    while (!atomic_load(&s->stop)) {
        reload(p);
        double wait = tick(p);
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        long ns = until.tv_nsec + (long)(wait * 1e9);
        until.tv_sec += ns / 1000000000L;
        until.tv_nsec = ns % 1000000000L;
        pthread_mutex_lock(&s->lock);
        if (!atomic_load(&s->stop)) pthread_cond_timedwait(&s->wake, &s->lock, &until);
        pthread_mutex_unlock(&s->lock);
    }
    return NULL;
}

static int thread_count(void) {
    const char *v = getenv("SIS_WATCH_THREADS");
    char *end;
    long n = v && *v ? strtol(v, &end, 10) : DEFAULT_THREADS;
    if (v && *v && (*end || n < 1 || n > MAX_THREADS)) {
        sis_log(SIS_LOG_WARN, "watch: SIS_WATCH_THREADS wants 1..%d, not '%s': %d threads", MAX_THREADS, v,
                DEFAULT_THREADS);
        n = DEFAULT_THREADS;
    }
    return (int)n;
}

sis_scheduler *sis_scheduler_start(const sis_options *host, sis_generation_fn generation, void *ctx) {
    const char *dir = getenv("SIS_DATA_DIR");
    if (!dir || !*dir) return NULL;
    sis_scheduler *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->host = host;
    s->generation = generation;
    s->generation_ctx = ctx;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->wake, NULL);
    int want = thread_count();
    for (int i = 0; i < want; i++) {
        poller *p = &s->threads[i];
        p->owner = s;
        p->index = i;
        p->generation = generation(ctx);
        p->L = new_state(host, s);
        if (!p->L) break;
        if (pthread_create(&p->thread, NULL, run, p) != 0) {
            sis_log(SIS_LOG_ERROR, "watch: cannot start a poller thread");
            lua_close(p->L);
            break;
        }
        s->count++;
    }
    if (s->count == 0) {
        sis_log(SIS_LOG_ERROR, "watch: the poller is off");
        sis_scheduler_stop(s);
        return NULL;
    }
    sis_log(SIS_LOG_INFO, "watch: poller started (%d threads, data directory %s)", s->count, dir);
    return s;
}

void sis_scheduler_stop(sis_scheduler *s) {
    if (!s) return;
    pthread_mutex_lock(&s->lock);
    atomic_store(&s->stop, 1);
    pthread_cond_broadcast(&s->wake);
    pthread_mutex_unlock(&s->lock);
    for (int i = 0; i < s->count; i++) {
        pthread_join(s->threads[i].thread, NULL);
        lua_close(s->threads[i].L);
    }
    pthread_cond_destroy(&s->wake);
    pthread_mutex_destroy(&s->lock);
    free(s);
}
