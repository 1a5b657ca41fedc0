/* The request a thread is serving (see request.h). */
#include "request.h"
#include "text.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define NO_DEADLINE 1e300

static _Thread_local struct {
    char id[SIS_REQUEST_ID_LEN + 1]; /* "" when none */
    double deadline;                 /* 0: none */
    void *thread;
} current;

double sis_monotonic(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void sis_request_new_id(char *id) {
    unsigned char raw[SIS_REQUEST_ID_LEN / 2];
    if (sis_random_bytes(raw, sizeof raw) != 0) { /* an id only has to tell log lines apart */
        static _Atomic unsigned counter;
        unsigned n = ++counter;
        memcpy(raw, &n, sizeof raw < sizeof n ? sizeof raw : sizeof n);
    }
    sis_hex_encode(raw, sizeof raw, id);
    id[SIS_REQUEST_ID_LEN] = '\0';
}

void sis_request_begin(const char *id, double deadline, void *thread) {
    snprintf(current.id, sizeof current.id, "%s", id ? id : "");
    current.deadline = deadline;
    current.thread = thread;
}

void sis_request_end(void) {
    current.id[0] = '\0';
    current.deadline = 0;
    current.thread = NULL;
}

const char *sis_request_id(void) { return current.id[0] ? current.id : NULL; }

void *sis_request_thread(void) { return current.thread; }

double sis_request_left(void) {
    return current.deadline > 0 ? current.deadline - sis_monotonic() : NO_DEADLINE;
}
