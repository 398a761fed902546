/* A minimal check harness for the probe's CTest programs (no test framework exists for the arm64 cross build). */
#ifndef ACCELSDK_TEST_UTIL_H
#define ACCELSDK_TEST_UTIL_H

#include <stdio.h>
#include <stdlib.h>

static int test_failures = 0;
static int test_checks = 0;

#define CHECK(condition)                                                                       \
    do {                                                                                       \
        test_checks++;                                                                         \
        if (!(condition)) {                                                                    \
            test_failures++;                                                                   \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #condition);     \
        }                                                                                      \
    } while (0)

#define CHECK_EQ_LL(expected, actual)                                                          \
    do {                                                                                       \
        long long e_ = (long long)(expected), a_ = (long long)(actual);                        \
        test_checks++;                                                                         \
        if (e_ != a_) {                                                                        \
            test_failures++;                                                                   \
            fprintf(stderr, "%s:%d: %s: expected %lld, got %lld\n", __FILE__, __LINE__,        \
                    #actual, e_, a_);                                                          \
        }                                                                                      \
    } while (0)

static inline int test_finish(const char* name)
{
    printf("%s: %d checks, %d failed\n", name, test_checks, test_failures);
    return test_failures == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif
