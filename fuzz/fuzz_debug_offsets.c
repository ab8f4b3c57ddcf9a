/*
 * fuzz_debug_offsets — the attach-time checks of debug-offset blocks on
 * arbitrary bytes.  The last 8 bytes: the Py_Version the target claims
 * (fuzz_data.h); the bytes before them: a block.  The claimed minor version picks the table (3.14
 * and 3.15 their own, anything else 3.13).  A block that opens with the cookie is judged as
 * _Py_DebugOffsets (uw_build_check, then uw__debug_offsets_check); any other, on 3.14+, as
 * _asyncio's .AsyncioDebug block (uw_asyncio_debug_check).
 */
#include <string.h>

#include "fuzz.h"
#include "fuzz_data.h"
#include "internal/asyncio_layout.h"
#include "internal/debug_offsets.h"

static uint64_t fz_h;

uint64_t fz_verdict(void)
{
    return fz_h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_data d = fz_data_of(data, size);
    const uint64_t version = fz_data_u64(&d);
    const uw_layout *l;
    char why[256];
    int rc, minor;

    fz_h = FZ_SEED;
    data = d.data;
    size = d.size;
    minor = (int)((version >> 16) & 0xff);
    l = uw__layout_table_for_minor(minor == 14 || minor == 15 ? minor : 13);
    if (l->py_minor >= 14 && (size < 8 || memcmp(data, UW_DEBUG_COOKIE, 8) != 0)) {
        rc = uw_asyncio_debug_check(l, uw__asyncio_layout_for_minor(l->py_minor), data, size, why,
                                    sizeof why);
        fz_h = fz_mix(fz_h, (uint64_t)(int64_t)rc);
        fz_h = fz_mix(fz_h, (uint64_t)strlen(why));
        return 0;
    }
    if (l->py_minor >= 14) {
        rc = uw_build_check(l, version, data, size, why, sizeof why);
        fz_h = fz_mix(fz_h, (uint64_t)(int64_t)rc);
        fz_h = fz_mix(fz_h, (uint64_t)strlen(why));
    }
    rc = uw__debug_offsets_check(l, version, data, size, why, sizeof why);
    fz_h = fz_mix(fz_h, (uint64_t)(int64_t)rc);
    fz_h = fz_mix(fz_h, (uint64_t)strlen(why));
    return 0;
}
