/* The cassette under threads: server workers record and replay at once,
 * and the mode may switch while they do (run under ASan by make test). */
#include "cassette.h"
#include "check.h"

#include <lauxlib.h>
#include <lualib.h>

#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define THREADS 8
#define PER_THREAD 25
#define SAME 60 /* recorded answers to one identical request */

static char dir[64];

typedef struct {
    int id, failures;
    int same[PER_THREAD]; /* the answers this thread got to the identical request */
    int nsame;
} worker;

/* The URL of worker id's request i, and the body it is answered with. */
static void entry(int id, int i, char url[64], char body[32]) {
    snprintf(url, 64, "http://h/t%d/%d", id, i);
    snprintf(body, 32, "t%d-%d", id, i);
}

static void *record(void *arg) {
    worker *w = arg;
    int mode;
    sis_cassette *c = sis_cassette_acquire(&mode);
    if (mode != SIS_HTTP_RECORD) w->failures++;
    for (int i = 0; i < PER_THREAD && c; i++) {
        char url[64], body[32];
        entry(w->id, i, url, body);
        sis_request rq = {.method = "GET", .url = url};
        sis_exchange x = {.status = 200, .body = body, .body_len = strlen(body)};
        sis_cassette_save(c, &rq, &x);
    }
    sis_cassette_release(c);
    return NULL;
}

static void *replay(void *arg) {
    worker *w = arg;
    int mode;
    sis_cassette *c = sis_cassette_acquire(&mode);
    if (mode != SIS_HTTP_REPLAY) w->failures++;
    for (int i = 0; i < PER_THREAD && c; i++) {
        char url[64], want[32];
        entry(w->id, i, url, want);
        sis_request rq = {.method = "GET", .url = url};
        sis_exchange x = {0};
        if (sis_cassette_find(c, &rq, &x) != 0 || x.status != 200 || strcmp(x.body, want)) w->failures++;
        sis_exchange_free(&x);
        if (i % 4 == 0) { /* and the identical request, interleaved with the other threads */
            sis_request same = {.method = "POST", .url = "http://h/same", .body = "q=1", .body_len = 3};
            if (sis_cassette_find(c, &same, &x) != 0) w->failures++;
            else w->same[w->nsame++] = atoi(x.body);
            sis_exchange_free(&x);
        }
    }
    sis_cassette_release(c);
    return NULL;
}

/* Uses whatever the mode is while the main thread switches it. */
static void *churn(void *arg) {
    worker *w = arg;
    for (int i = 0; i < 300; i++) {
        int mode;
        sis_cassette *c = sis_cassette_acquire(&mode);
        if (mode == SIS_HTTP_REPLAY) {
            sis_request rq = {.method = "GET", .url = "http://h/t0/0"};
            sis_exchange x = {0};
            if (sis_cassette_find(c, &rq, &x) != 0 || strcmp(x.body, "t0-0")) w->failures++;
            sis_exchange_free(&x);
        }
        sis_cassette_release(c);
    }
    return NULL;
}

static int run(void *(*fn)(void *), worker *w) {
    pthread_t th[THREADS];
    int failures = 0;
    for (int i = 0; i < THREADS; i++) {
        w[i].id = i;
        pthread_create(&th[i], NULL, fn, &w[i]);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        failures += w[i].failures;
    }
    return failures;
}

static int count_entries(void) {
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));) n += strstr(e->d_name, ".json") != NULL;
    if (d) closedir(d);
    return n;
}

int main(void) {
    char err[512];
    snprintf(dir, sizeof dir, "/tmp/sis-cassette-XXXXXX");
    CHECK(mkdtemp(dir) != NULL);
    lua_State *L = luaL_newstate();
    luaL_openlibs(L);

    /* the identical request first, in order, then 8 threads at once */
    CHECK(sis_cassette_record(dir, err, sizeof err) == 0);
    int mode;
    sis_cassette *c = sis_cassette_acquire(&mode);
    for (int i = 0; i < SAME; i++) {
        char body[16];
        snprintf(body, sizeof body, "%d", i);
        sis_request rq = {.method = "POST", .url = "http://h/same", .body = "q=1", .body_len = 3};
        sis_exchange x = {.status = 200, .body = body, .body_len = strlen(body)};
        sis_cassette_save(c, &rq, &x);
    }
    sis_cassette_release(c);
    worker w[THREADS] = {0};
    CHECK(run(record, w) == 0);
    CHECK(count_entries() == SAME + THREADS * PER_THREAD); /* no number given twice */

    CHECK(sis_cassette_replay(L, dir, err, sizeof err) == 0);
    memset(w, 0, sizeof w);
    CHECK(run(replay, w) == 0);
    /* the identical request was answered in recorded order across threads:
     * every one of the first answers exactly once */
    int seen[SAME] = {0}, total = 0;
    for (int i = 0; i < THREADS; i++)
        for (int k = 0; k < w[i].nsame; k++, total++)
            if (w[i].same[k] >= 0 && w[i].same[k] < SAME) seen[w[i].same[k]]++;
    int in_order = 1;
    for (int i = 0; i < SAME; i++) in_order &= seen[i] == (i < total);
    CHECK(total == THREADS * ((PER_THREAD + 3) / 4));
    CHECK(in_order);

    /* switching modes while threads hold the cassette frees nothing in use */
    memset(w, 0, sizeof w);
    pthread_t th[THREADS];
    for (int i = 0; i < THREADS; i++) pthread_create(&th[i], NULL, churn, &w[i]);
    int switched = 0;
    for (int i = 0; i < 20; i++) {
        sis_cassette_live();
        switched += sis_cassette_replay(L, dir, err, sizeof err) == 0;
    }
    int failures = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        failures += w[i].failures;
    }
    CHECK(switched == 20);
    CHECK(failures == 0);

    sis_cassette_live();
    lua_close(L);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0);
    return check_report("cassette");
}
