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

#include <stddef.h>
#include <stdint.h>

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

#endif
