/*
 * fuzz_debug_offsets — the 3.13 _Py_DebugOffsets check on arbitrary
 * blocks.  Bytes 0..7: the Py_Version the target claims; the rest: the
 * block as read from the start of _PyRuntime.
 */
#include <string.h>

#include "fuzz.h"
#include "internal/debug_offsets.h"

static uint64_t fz_h;

uint64_t fz_verdict(void)
{
    return fz_h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uw_layout *l = uw__layout_for_minor(13);
    uint64_t version = 0;
    char why[256];
    int rc;

    fz_h = FZ_SEED;
    if (size >= 8)
        memcpy(&version, data, 8);
    data += size >= 8 ? 8 : size;
    size -= size >= 8 ? 8 : size;
    rc = uw__debug_offsets_check(l, version, data, size, why, sizeof why);
    fz_h = fz_mix(fz_h, (uint64_t)(int64_t)rc);
    fz_h = fz_mix(fz_h, (uint64_t)strlen(why));
    return 0;
}
