/*
 * fuzz_linetable — the location-table decoder on arbitrary bytes.
 * Bytes 0..3: first line (int32); 4..7: the code unit looked up; the rest
 * is the table.  Also looks up every unit index 0..64 so the whole table
 * is walked.
 */
#include <string.h>

#include "fuzz.h"
#include "internal/linetable.h"

static uint64_t fz_h;

uint64_t fz_verdict(void)
{
    return fz_h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int32_t first = 0, index = 0;
    int line, k;

    fz_h = FZ_SEED;
    if (size >= 4)
        memcpy(&first, data, 4);
    if (size >= 8)
        memcpy(&index, data + 4, 4);
    data += size >= 8 ? 8 : size;
    size -= size >= 8 ? 8 : size;
    fz_h = fz_mix(fz_h, (uint64_t)(int64_t)uw__linetable_line(data, size, first, index, &line));
    fz_h = fz_mix(fz_h, (uint64_t)(int64_t)line);
    for (k = 0; k <= 64; k++) {
        fz_h = fz_mix(fz_h, (uint64_t)(int64_t)uw__linetable_line(data, size, first, k, &line));
        fz_h = fz_mix(fz_h, (uint64_t)(int64_t)line);
    }
    return 0;
}
