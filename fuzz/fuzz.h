/*
 * fuzz.h — shared by the fuzz targets and the replay driver.
 *
 * Every target defines LLVMFuzzerTestOneInput (returns 0, reads neither
 * the clock nor the environment, resets all state per input) and
 * fz_verdict(), a digest of what the last input produced, which the replay
 * driver compares across two runs of the same input (determinism).
 */
#ifndef TORNSTACK_FUZZ_H
#define TORNSTACK_FUZZ_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
uint64_t fz_verdict(void);

/* FNV-1a, to fold results into a verdict. */
static inline uint64_t fz_mix(uint64_t h, uint64_t v)
{
    int i;
    for (i = 0; i < 8; i++) {
        h ^= (v >> (8 * i)) & 0xff;
        h *= 0x100000001b3ull;
    }
    return h;
}

#define FZ_SEED 0xcbf29ce484222325ull

/* A property of the target that does not hold: where, what, and why, on
 * one line, then abort() (which the fuzzing engine reports as a crash). */
__attribute__((format(printf, 4, 5), noreturn)) static inline void
fz_fail(const char *file, int line, const char *cond, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "%s:%d: FZ_ASSERT(%s) failed: ", file, line, cond);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
    abort();
}

/* FZ_ASSERT_MSG(cond, "format", ...): fails with the message unless cond;
 * FZ_ASSERT(cond) with the condition alone.  On in every build. */
#define FZ_ASSERT_MSG(cond, ...)                             \
    do {                                                     \
        if (!(cond))                                         \
            fz_fail(__FILE__, __LINE__, #cond, __VA_ARGS__); \
    } while (0)
#define FZ_ASSERT(cond) FZ_ASSERT_MSG(cond, "%s", "")

#endif
