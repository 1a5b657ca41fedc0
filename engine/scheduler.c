/* The background poller of `sis serve`: one thread with its own Lua state
 * that calls tick(stopping) of scripts/watch/scheduler.lua in a loop and
 * sleeps for the time it returns (at most a second, so subscriptions
 * created by the REST workers are seen at once). It runs only when a data
 * directory is set (SIS_DATA_DIR / --data-dir).
 *
 * The state is built once, at start: edits of the watch scripts take effect
 * at the next start (the REST workers reload by themselves). Stopping waits
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

struct sis_scheduler {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    atomic_int stop;
    lua_State *L;
};

static char tick_key; /* registry: scheduler.tick */

/* stopping() -> whether sis serve is stopping (upvalue: the scheduler) */
static int l_stopping(lua_State *L) {
    sis_scheduler *s = lua_touserdata(L, lua_upvalueindex(1));
    lua_pushboolean(L, atomic_load(&s->stop));
    return 1;
}

/* Protected: requires the scheduler module, keeps its tick. */
static int load(lua_State *L) {
    lua_getglobal(L, "require");
    lua_pushliteral(L, "watch.scheduler");
    lua_call(L, 1, 1);
    lua_getfield(L, -1, "tick");
    if (!lua_isfunction(L, -1)) return luaL_error(L, "watch.scheduler has no tick function");
    lua_rawsetp(L, LUA_REGISTRYINDEX, &tick_key);
    return 0;
}

/* One tick; returns the seconds to sleep. */
static double tick(sis_scheduler *s) {
    lua_State *L = s->L;
    lua_rawgetp(L, LUA_REGISTRYINDEX, &tick_key);
    lua_pushlightuserdata(L, s);
    lua_pushcclosure(L, l_stopping, 1);
    double wait = SLEEP_AFTER_ERROR;
    if (sis_pcall(L, 1, 1) != LUA_OK) sis_log(SIS_LOG_ERROR, "watch: tick failed: %s", lua_tostring(L, -1));
    else if (lua_isnumber(L, -1)) wait = lua_tonumber(L, -1);
    lua_settop(L, 0);
    return wait < MAX_SLEEP ? (wait < 0 ? 0 : wait) : MAX_SLEEP;
}

static void *run(void *arg) {
    sis_scheduler *s = arg;
    while (!atomic_load(&s->stop)) {
        double wait = tick(s);
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

sis_scheduler *sis_scheduler_start(const sis_options *host) {
    const char *dir = getenv("SIS_DATA_DIR");
    if (!dir || !*dir) return NULL;
    sis_scheduler *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->L = sis_state_new(host);
    if (!s->L) {
        free(s);
        return NULL;
    }
    lua_pushcfunction(s->L, load);
    if (sis_pcall(s->L, 0, 0) != LUA_OK) {
        sis_log(SIS_LOG_ERROR, "watch: the poller is off: %s", lua_tostring(s->L, -1));
        lua_close(s->L);
        free(s);
        return NULL;
    }
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->wake, NULL);
    if (pthread_create(&s->thread, NULL, run, s) != 0) {
        sis_log(SIS_LOG_ERROR, "watch: cannot start the poller thread");
        pthread_cond_destroy(&s->wake);
        pthread_mutex_destroy(&s->lock);
        lua_close(s->L);
        free(s);
        return NULL;
    }
    sis_log(SIS_LOG_INFO, "watch: poller started (data directory %s)", dir);
    return s;
}

void sis_scheduler_stop(sis_scheduler *s) {
    if (!s) return;
    pthread_mutex_lock(&s->lock);
    atomic_store(&s->stop, 1);
    pthread_cond_signal(&s->wake);
    pthread_mutex_unlock(&s->lock);
    pthread_join(s->thread, NULL);
    pthread_cond_destroy(&s->wake);
    pthread_mutex_destroy(&s->lock);
    lua_close(s->L);
    free(s);
}
