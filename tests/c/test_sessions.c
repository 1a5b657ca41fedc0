/* The REST front's session store (engine/sessions.c): ids, holding rules,
 * serialisation of one session's requests, expiry and limits. */
#include "check.h"
#include "request.h"
#include "sessions.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void nap(double seconds) {
    struct timespec ts = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
    nanosleep(&ts, NULL);
}

static void test_create_open_save_destroy(void) {
    sis_sessions *s = sis_sessions_new(60, 0, 0);
    sis_session_holder a = {0}, b = {0};
    char id[SIS_SESSION_ID_LEN + 1], id2[SIS_SESSION_ID_LEN + 1];
    CHECK(sis_sessions_create(s, &a, "focus", "{\"n\":1}", 7, id) == 0);
    CHECK(strlen(id) == SIS_SESSION_ID_LEN);
    CHECK(strspn(id, "0123456789abcdef") == SIS_SESSION_ID_LEN);
    CHECK(sis_sessions_create(s, &a, "focus", "{}", 2, id2) == 0);
    CHECK(strcmp(id, id2) != 0);
    CHECK(a.n == 2);

    const char *state;
    size_t len;
    CHECK(sis_sessions_open(s, &a, "focus", id, &state, &len) == 1); /* already held: no wait */
    CHECK(len == 7 && !memcmp(state, "{\"n\":1}", 7));
    CHECK(sis_sessions_save(s, &b, "focus", id, "x", 1) == -1);  /* b does not hold it */
    CHECK(sis_sessions_destroy(s, &b, "focus", id) == -1);
    CHECK(sis_sessions_save(s, &a, "focus", id, "{\"n\":2}", 7) == 0);
    sis_sessions_release_all(s, &a);
    CHECK(a.n == 0);

    CHECK(sis_sessions_open(s, &b, "focus", id, &state, &len) == 1);
    CHECK(len == 7 && !memcmp(state, "{\"n\":2}", 7));
    CHECK(sis_sessions_open(s, &b, "scodoc", id, &state, &len) == 0); /* other namespace */
    CHECK(sis_sessions_open(s, &b, "focus", "0123456789abcdef0123456789abcdef", &state, &len) == 0);
    CHECK(sis_sessions_open(s, &b, "focus", "../../etc/passwd", &state, &len) == 0);
    CHECK(sis_sessions_open(s, &b, "focus", "0123456789ABCDEF0123456789ABCDEF", &state, &len) == 0);
    CHECK(sis_sessions_destroy(s, &b, "focus", id) == 0);
    CHECK(b.n == 0);
    CHECK(sis_sessions_open(s, &b, "focus", id, &state, &len) == 0);
    CHECK(sis_sessions_count(s) == 1);
    CHECK(sis_sessions_free(s) == 1);
}

static void test_limits(void) {
    sis_sessions *s = sis_sessions_new(60, 3, 0);
    sis_session_holder h = {0};
    char id[SIS_SESSION_ID_LEN + 1];
    for (int i = 0; i < 3; i++) CHECK(sis_sessions_create(s, &h, "focus", "{}", 2, id) == 0);
    CHECK(sis_sessions_create(s, &h, "focus", "{}", 2, id) == -1); /* store full */
    CHECK(sis_sessions_create(s, &h, "a-namespace-name-too-long", "{}", 2, id) == -1);
    sis_sessions_release_all(s, &h);
    CHECK(sis_sessions_free(s) == 3);

    s = sis_sessions_new(60, 0, 0);
    char ids[SIS_SESSION_HELD_MAX + 1][SIS_SESSION_ID_LEN + 1];
    for (int i = 0; i < SIS_SESSION_HELD_MAX; i++)
        CHECK(sis_sessions_create(s, &h, "focus", "{}", 2, ids[i]) == 0);
    CHECK(sis_sessions_create(s, &h, "focus", "{}", 2, ids[SIS_SESSION_HELD_MAX]) == -1);
    sis_sessions_release_all(s, &h);
    sis_session_holder other = {0};
    CHECK(sis_sessions_create(s, &other, "focus", "{}", 2, ids[SIS_SESSION_HELD_MAX]) == 0);
    sis_sessions_release_all(s, &other);
    const char *state;
    size_t len;
    for (int i = 0; i < SIS_SESSION_HELD_MAX; i++)
        CHECK(sis_sessions_open(s, &h, "focus", ids[i], &state, &len) == 1);
    CHECK(sis_sessions_open(s, &h, "focus", ids[SIS_SESSION_HELD_MAX], &state, &len) == -1);
    sis_sessions_release_all(s, &h);
    CHECK(sis_sessions_free(s) == SIS_SESSION_HELD_MAX + 1);
}

static void test_expiry(void) {
    sis_sessions *s = sis_sessions_new(0.05, 0, 0);
    sis_session_holder h = {0};
    char idle[SIS_SESSION_ID_LEN + 1], held[SIS_SESSION_ID_LEN + 1];
    CHECK(sis_sessions_create(s, &h, "focus", "{\"password\":\"pw\"}", 17, idle) == 0);
    sis_sessions_release_all(s, &h);
    CHECK(sis_sessions_create(s, &h, "focus", "{}", 2, held) == 0); /* held: never expires */
    nap(0.12);
    const char *state;
    size_t len;
    sis_session_holder other = {0};
    CHECK(sis_sessions_open(s, &other, "focus", idle, &state, &len) == 0);
    CHECK(sis_sessions_count(s) == 1);
    sis_sessions_release_all(s, &h);
    nap(0.12);
    CHECK(sis_sessions_count(s) == 0);
    CHECK(sis_sessions_free(s) == 0);
}

/* Many threads each increment a counter kept in one session's state: the
 * total is exact only if holders of the same session never overlap. */
enum { THREADS = 8, ROUNDS = 400 };
static sis_sessions *shared;
static char shared_id[SIS_SESSION_ID_LEN + 1];

static void *incrementer(void *arg) {
    (void)arg;
    sis_session_holder h = {0};
    for (int i = 0; i < ROUNDS; i++) {
        const char *state;
        size_t len;
        if (sis_sessions_open(shared, &h, "focus", shared_id, &state, &len) != 1) return "lost";
        long n = atol(state);
        char next[32];
        int nl = snprintf(next, sizeof next, "%ld", n + 1);
        if (i % 50 == 0) nap(0.001); /* widen the window a race would need */
        if (sis_sessions_save(shared, &h, "focus", shared_id, next, (size_t)nl) != 0) return "save";
        sis_sessions_release_all(shared, &h);
    }
    return NULL;
}

static void test_serialised(void) {
    shared = sis_sessions_new(60, 0, 0);
    sis_session_holder h = {0};
    CHECK(sis_sessions_create(shared, &h, "focus", "0", 1, shared_id) == 0);
    sis_sessions_release_all(shared, &h);
    pthread_t th[THREADS];
    for (int i = 0; i < THREADS; i++) pthread_create(&th[i], NULL, incrementer, NULL);
    for (int i = 0; i < THREADS; i++) {
        void *err;
        pthread_join(th[i], &err);
        CHECK(err == NULL);
    }
    const char *state;
    size_t len;
    CHECK(sis_sessions_open(shared, &h, "focus", shared_id, &state, &len) == 1);
    CHECK(atol(state) == THREADS * ROUNDS);
    sis_sessions_release_all(shared, &h);
    sis_sessions_free(shared);
}

/* A request waiting for a session that its holder then ends gets "no session". */
static void *waiter(void *arg) {
    sis_session_holder h = {0};
    const char *state;
    size_t len;
    int *rc = arg;
    *rc = sis_sessions_open(shared, &h, "focus", shared_id, &state, &len);
    sis_sessions_release_all(shared, &h);
    return NULL;
}

static void test_destroy_wakes_waiters(void) {
    shared = sis_sessions_new(60, 0, 0);
    sis_session_holder h = {0};
    CHECK(sis_sessions_create(shared, &h, "focus", "{}", 2, shared_id) == 0);
    int rc = 99;
    pthread_t th;
    pthread_create(&th, NULL, waiter, &rc);
    nap(0.05);
    CHECK(sis_sessions_destroy(shared, &h, "focus", shared_id) == 0);
    pthread_join(th, NULL);
    CHECK(rc == 0);
    sis_sessions_free(shared);
}

/* A wait ends at the holder's deadline; beyond max_waiting waiters a request
 * is refused at once (issue 15: 16 requests of one session queued without
 * limit, the last answered after 48 s). */
typedef struct {
    double deadline, took;
    int rc;
} waiting;

static void *timed_waiter(void *arg) {
    waiting *w = arg;
    sis_session_holder h = {.deadline = w->deadline};
    const char *state;
    size_t len;
    double t0 = sis_monotonic();
    w->rc = sis_sessions_open(shared, &h, "focus", shared_id, &state, &len);
    w->took = sis_monotonic() - t0;
    sis_sessions_release_all(shared, &h);
    return NULL;
}

static void test_bounded_wait(void) {
    shared = sis_sessions_new(60, 0, 2);
    sis_session_holder h = {0};
    CHECK(sis_sessions_create(shared, &h, "focus", "{}", 2, shared_id) == 0);
    waiting w[3];
    pthread_t th[3];
    for (int i = 0; i < 3; i++) {
        w[i] = (waiting){.deadline = sis_monotonic() + 0.3, .rc = 99};
        pthread_create(&th[i], NULL, timed_waiter, &w[i]);
        nap(0.03); /* in order: the third finds two waiting */
    }
    for (int i = 0; i < 3; i++) pthread_join(th[i], NULL);
    CHECK(w[0].rc == SIS_SESSION_TIMEOUT && w[1].rc == SIS_SESSION_TIMEOUT);
    CHECK(w[0].took > 0.25 && w[0].took < 2);
    CHECK(w[2].rc == SIS_SESSION_BUSY && w[2].took < 0.1);
    /* released in time: the waiter gets it */
    w[0] = (waiting){.deadline = sis_monotonic() + 5, .rc = 99};
    pthread_create(&th[0], NULL, timed_waiter, &w[0]);
    nap(0.05);
    sis_sessions_release_all(shared, &h);
    pthread_join(th[0], NULL);
    CHECK(w[0].rc == SIS_SESSION_HELD && w[0].took < 1);
    sis_sessions_free(shared);
}

/* A request that did not finish loses the sessions it created, keeps the others. */
static void test_abort(void) {
    sis_sessions *s = sis_sessions_new(60, 0, 0);
    sis_session_holder h = {0};
    char old[SIS_SESSION_ID_LEN + 1], fresh[SIS_SESSION_ID_LEN + 1];
    CHECK(sis_sessions_create(s, &h, "focus", "{}", 2, old) == 0);
    sis_sessions_release_all(s, &h);
    const char *state;
    size_t len;
    CHECK(sis_sessions_open(s, &h, "focus", old, &state, &len) == SIS_SESSION_HELD);
    CHECK(sis_sessions_create(s, &h, "scodoc", "{}", 2, fresh) == 0);
    sis_sessions_abort(s, &h);
    CHECK(h.n == 0);
    CHECK(sis_sessions_open(s, &h, "scodoc", fresh, &state, &len) == SIS_SESSION_NONE);
    CHECK(sis_sessions_open(s, &h, "focus", old, &state, &len) == SIS_SESSION_HELD);
    sis_sessions_release_all(s, &h);
    CHECK(sis_sessions_free(s) == 1);
}

int main(void) {
    test_create_open_save_destroy();
    test_limits();
    test_expiry();
    test_serialised();
    test_destroy_wakes_waiters();
    test_bounded_wait();
    test_abort();
    return check_report("test_sessions");
}
