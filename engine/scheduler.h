/* The background poller of `sis serve` (scheduler.c). */
#ifndef SIS_SCHEDULER_H
#define SIS_SCHEDULER_H

#include "sis.h"

typedef struct sis_scheduler sis_scheduler;

/* Starts the poller thread when SIS_DATA_DIR is set; NULL otherwise or when
 * it cannot start (logged). */
sis_scheduler *sis_scheduler_start(const sis_options *host);

/* Stops it (waits for the poll in progress) and frees it; NULL is fine. */
void sis_scheduler_stop(sis_scheduler *s);

#endif
