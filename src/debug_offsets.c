/*
 * debug_offsets.c — validation of a target's _Py_DebugOffsets block.
 *
 * Order of checks (each failure names itself in `why`):
 *   1. the block is at least as long as the table's block size;
 *   2. cookie "xdebugpy" (else this is not a 3.13+ runtime at all);
 *   3. version: same major.minor as the table and as Py_Version;
 *   4. free_threaded == 0 (a 3.13t build shifts every object offset);
 *   5. every field the table lists equals the value of our headers, and is
 *      a sane offset (below the size of the structure it indexes).
 */
#include "internal/debug_offsets.h"

#include <stdio.h>
#include <string.h>

#include "internal/load.h"
#include "tornstack/error.h"

int uw__debug_offsets_check(const uw_layout *layout, uint64_t py_version,
                           const uint8_t *blk, size_t len, char *why, size_t whylen)
{
    char dummy[8];
    uint64_t version, ft;
    size_t i;

    if (why == NULL || whylen == 0) {
        why = dummy;
        whylen = sizeof dummy;
    }
    why[0] = '\0';
    if (layout == NULL || (blk == NULL && len != 0))
        return UW_ERR_INVALID_ARG;
    if (layout->debug_offsets_size <= 24 || layout->debug_fields == NULL) {
        snprintf(why, whylen, "layout 3.%d has no debug offsets", layout->py_minor);
        return UW_ERR_INVALID_ARG;
    }
    if (len < (size_t)layout->debug_offsets_size) {
        snprintf(why, whylen, "debug offsets block is %zu bytes, expected %d", len,
                 (int)layout->debug_offsets_size);
        return UW_ERR_DEBUG_OFFSETS;
    }
    if (memcmp(blk, UW_DEBUG_COOKIE, 8) != 0) {
        snprintf(why, whylen, "no \"xdebugpy\" cookie at the start of _PyRuntime");
        return UW_ERR_DEBUG_OFFSETS;
    }
    version = uw__u64(blk + 8);
    if ((version >> 24) != 3 || ((version >> 16) & 0xff) != (uint64_t)layout->py_minor) {
        snprintf(why, whylen, "debug offsets say version 0x%llx, table is 3.%d",
                 (unsigned long long)version, layout->py_minor);
        return UW_ERR_DEBUG_OFFSETS;
    }
    if (py_version != 0 && (py_version >> 16) != (version >> 16)) {
        snprintf(why, whylen, "debug offsets version 0x%llx differs from Py_Version 0x%llx",
                 (unsigned long long)version, (unsigned long long)py_version);
        return UW_ERR_DEBUG_OFFSETS;
    }
    ft = uw__u64(blk + 16);
    if (ft != 0) {
        snprintf(why, whylen, "free-threaded build (free_threaded=%llu) is not supported",
                 (unsigned long long)ft);
        return UW_ERR_DEBUG_OFFSETS;
    }
    for (i = 0; i < layout->n_debug_fields; i++) {
        const uw_debug_field *f = &layout->debug_fields[i];
        uint64_t got;
        if ((size_t)f->at + 8 > len) {
            snprintf(why, whylen, "field %s lies outside the block", f->name);
            return UW_ERR_DEBUG_OFFSETS;
        }
        got = uw__u64(blk + f->at);
        if (got != f->expect) {
            snprintf(why, whylen, "%s is %llu in the target, %llu in the table", f->name,
                     (unsigned long long)got, (unsigned long long)f->expect);
            return UW_ERR_DEBUG_OFFSETS;
        }
    }
    return 0;
}
