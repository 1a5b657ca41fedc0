/* The background poller of `sis serve` (scheduler.c). */
#ifndef SIS_SCHEDULER_H
#define SIS_SCHEDULER_H

#include "sis.h"

typedef struct sis_scheduler sis_scheduler;

/* The scripts generation of sis serve (bumped when a script changes). */
typedef unsigned long (*sis_generation_fn)(void *ctx);

/* Starts the poller threads when SIS_DATA_DIR is set; NULL otherwise or when
 * they cannot start (logged). Between ticks, a thread whose state was built
 * for an older generation builds a new one. */
sis_scheduler *sis_scheduler_start(const sis_options *host, sis_generation_fn generation, void *ctx);

/* Stops it (waits for the poll in progress) and frees it; NULL is fine. */
void sis_scheduler_stop(sis_scheduler *s);

#endif
