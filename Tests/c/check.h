/* check.h — the C test programs' CHECK: count a pass, or count a failure and say where and why.
 * Counters are atomic so threads (concurrency.c) may CHECK concurrently. check_report() prints
 * "N passed, M failed", the last line every program prints, and returns the exit status. */
#ifndef FASTDRIVE_TESTS_CHECK_H
#define FASTDRIVE_TESTS_CHECK_H

#include <stdatomic.h>
#include <stdio.h>

static atomic_int passed, failed;

#define CHECK(cond, ...)                                             \
    do {                                                             \
        if (cond) {                                                  \
            atomic_fetch_add(&passed, 1);                            \
        } else {                                                     \
            atomic_fetch_add(&failed, 1);                            \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);    \
            fprintf(stderr, __VA_ARGS__);                            \
            fputc('\n', stderr);                                     \
        }                                                            \
    } while (0)

static int check_report(void) {
    printf("%d passed, %d failed\n", atomic_load(&passed), atomic_load(&failed));
    return atomic_load(&failed) ? 1 : 0;
}

#endif
