/* The REST request a thread is serving: its id and its deadline.
 *
 * One deadline per request (SIS_TIMEOUT end to end): the front sets it when
 * the request is read; waiting for a session or a Lua worker, every upstream
 * transfer (http.c clamps its timeout to the time left) and the Lua work
 * itself (host.c's count hook) all count against it. The id is short and
 * random; every log line written while the request is served carries it
 * (log.c), and 5xx answers name it. Both are thread-local: the connection
 * thread and the Lua worker serving the request each begin it. */
#ifndef SIS_REQUEST_H
#define SIS_REQUEST_H

#define SIS_REQUEST_ID_LEN 8 /* hex characters */

/* Monotonic clock, seconds. */
double sis_monotonic(void);

/* Writes a new random id (SIS_REQUEST_ID_LEN hex characters and a NUL). */
void sis_request_new_id(char *id);

/* Marks this thread as serving request id until deadline (sis_monotonic
 * seconds; 0: none). thread: the Lua coroutine running it, or NULL. */
void sis_request_begin(const char *id, double deadline, void *thread);

/* This thread serves no request any more. */
void sis_request_end(void);

/* The id of the request this thread serves, or NULL. */
const char *sis_request_id(void);

/* The Lua coroutine given to sis_request_begin, or NULL. */
void *sis_request_thread(void);

/* Seconds left before the deadline (negative once past); a large number
 * when this thread serves no request or the request has no deadline. */
double sis_request_left(void);

#endif
