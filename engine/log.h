/* Logging shared by the C modules and sis.log: levelled lines on stderr,
 * every message passed through the secret redactor first. */
#ifndef SIS_LOG_H
#define SIS_LOG_H

#include <stddef.h>

enum { SIS_LOG_DEBUG, SIS_LOG_INFO, SIS_LOG_WARN, SIS_LOG_ERROR };

void sis_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int sis_log_enabled(int level);
/* SIS_LOG_DEBUG.. for "debug", "info", "warn", "error" (any case), else -1. */
int sis_log_level_named(const char *name);

/* Returns a malloc'ed, NUL-terminated copy of s (length n, stored in
 * *outlen unless NULL) with secrets masked as ***: values of password=,
 * "token": "...", Cookie: lines..., URL passwords (user:***@host) and the
 * strings registered with log.secret. Aborts when out of memory (handing
 * back the unredacted text is not an option). Thread-safe. */
char *sis_redact(const char *s, size_t n, size_t *outlen);

#endif
