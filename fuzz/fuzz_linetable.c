/*
 * fuzz_linetable — the location-table decoder on arbitrary bytes.  From
 * the end (fuzz_data.h): the last 4 bytes the first line (int32), the 4
 * before them the code unit looked up; the bytes before are the table.
 * Also looks up every unit index 0..64 so the whole table is walked.
 */
#include "fuzz.h"
#include "fuzz_data.h"
#include "internal/linetable.h"

static uint64_t fz_h;

uint64_t fz_verdict(void)
{
    return fz_h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_data d = fz_data_of(data, size);
    const int32_t first = (int32_t)fz_data_u32(&d), index = (int32_t)fz_data_u32(&d);
    int line, k;

    fz_h = FZ_SEED;
    data = d.data;
    size = d.size;
    fz_h = fz_mix(fz_h, (uint64_t)(int64_t)uw__linetable_line(data, size, first, index, &line));
    fz_h = fz_mix(fz_h, (uint64_t)(int64_t)line);
    for (k = 0; k <= 64; k++) {
        fz_h = fz_mix(fz_h, (uint64_t)(int64_t)uw__linetable_line(data, size, first, k, &line));
        fz_h = fz_mix(fz_h, (uint64_t)(int64_t)line);
    }
    return 0;
}
