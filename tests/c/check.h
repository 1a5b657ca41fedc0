/* A minimal assertion harness for the C unit tests: every CHECK counts, and
 * check_report() prints the "N passed, N failed" line tests/run.sh sums up. */
#ifndef SIS_CHECK_H
#define SIS_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_passed, check_failed;

#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (cond) {                                                                  \
            check_passed++;                                                          \
        } else {                                                                     \
            check_failed++;                                                          \
            printf("not ok - %s:%d: %s\n", __FILE__, __LINE__, #cond);               \
        }                                                                            \
    } while (0)

#define CHECK_STR(got, want)                                                         \
    do {                                                                             \
        const char *g_ = (got), *w_ = (want);                                        \
        if (g_ && w_ && !strcmp(g_, w_)) {                                           \
            check_passed++;                                                          \
        } else {                                                                     \
            check_failed++;                                                          \
            printf("not ok - %s:%d: got \"%s\", want \"%s\"\n", __FILE__, __LINE__,  \
                   g_ ? g_ : "(null)", w_ ? w_ : "(null)");                          \
        }                                                                            \
    } while (0)

static inline int check_report(const char *suite) {
    printf("%s: %d passed, %d failed\n", suite, check_passed, check_failed);
    return check_failed != 0;
}

#endif
