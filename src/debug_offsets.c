/*
 * debug_offsets.c — validation of a target's _Py_DebugOffsets block and of
 * _asyncio's Py_AsyncioModuleDebugOffsets block.
 *
 * Order of checks of _Py_DebugOffsets (each failure names itself in `why`):
 *   1. the block is at least as long as the table's block size;
 *   2. cookie "xdebugpy" (else this is not a 3.13+ runtime at all);
 *   3. version: same major.minor as the table and as Py_Version;
 *   4. free_threaded == 0 (a free-threaded build shifts every object offset);
 *   5. every field the table lists equals the value of our headers, and is
 *      a sane offset (below the size of the structure it indexes).
 * uw_build_check() runs before it on attach and answers "is this a build
 * the tables describe at all" (free-threaded, pre-release) with its own
 * code, so a user learns that no table will ever fit, rather than that one
 * field differs.
 */
#include "internal/debug_offsets.h"

#include <stdio.h>
#include <string.h>

#include "internal/load.h"
#include "tornstack/error.h"
#include "tornstack/target.h"

/* Where the version and free_threaded words sit: from the table when it
 * has them (3.13+ all put them at 8 and 16, after the 8-byte cookie). */
static size_t uw_dbg_version_at(const uw_layout *l)
{
    return l->debug_version_at > 0 ? (size_t)l->debug_version_at : 8;
}

static size_t uw_dbg_ft_at(const uw_layout *l)
{
    return l->debug_free_threaded_at > 0 ? (size_t)l->debug_free_threaded_at : 16;
}

int uw__debug_offsets_check(const uw_layout *layout, uint64_t py_version, const uint8_t *blk,
                            size_t len, char *why, size_t whylen)
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
    version = uw__u64(blk + uw_dbg_version_at(layout));
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
    ft = uw__u64(blk + uw_dbg_ft_at(layout));
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

/* Pre-release builds change structures between alphas and betas, so a
 * table describes only the release level it was generated from: a final
 * table any final release of its minor version (patch releases keep the
 * layout; the debug-offset fields catch the day one does not), a
 * pre-release table only that very pre-release. */
int uw_build_check(const uw_layout *layout, uint64_t py_version, const uint8_t *blk, size_t len,
                   char *why, size_t whylen)
{
    char dummy[8], vs[24];
    unsigned level = (unsigned)((py_version >> 4) & 0xf), serial = (unsigned)(py_version & 0xf);
    int known;

    if (why == NULL || whylen == 0) {
        why = dummy;
        whylen = sizeof dummy;
    }
    why[0] = '\0';
    if (layout == NULL || (blk == NULL && len != 0))
        return UW_ERR_INVALID_ARG;
    uw_release_string(py_version, vs, sizeof vs);
    known = (level == 0xf && layout->release_level == 0xf) ||
            (level == (unsigned)layout->release_level &&
             serial == (unsigned)layout->release_serial && ((py_version >> 8) & 0xff) == 0);
    if (!known) {
        snprintf(why, whylen, "Python %s is %s; the 3.%d table was generated from %s headers", vs,
                 level == 0xf ? "a final release" : "a pre-release", layout->py_minor,
                 layout->release_level == 0xf ? "final-release" : "other pre-release");
        return UW_ERR_UNSUPPORTED_BUILD;
    }
    /* The free_threaded word means something only under a valid cookie;
     * a block without one is judged by uw__debug_offsets_check. */
    if (blk != NULL && layout->debug_offsets_size > 24 && len >= uw_dbg_ft_at(layout) + 8 &&
        memcmp(blk, UW_DEBUG_COOKIE, 8) == 0) {
        uint64_t ft = uw__u64(blk + uw_dbg_ft_at(layout));
        if (ft != 0) {
            snprintf(why, whylen,
                     "Python %s is a free-threaded build (free_threaded=%llu): its objects "
                     "have another layout and its Task lists cannot be read from outside",
                     vs, (unsigned long long)ft);
            return UW_ERR_UNSUPPORTED_BUILD;
        }
    }
    return 0;
}

static uint64_t uw_adbg_expect(const uw_layout *l, const uw_asyncio_layout *al,
                               uw_asyncio_debug_source s)
{
    switch (s) {
    case UW_ADBG_TASK_SIZE:
        return (uint64_t)al->task_size;
    case UW_ADBG_TASK_NAME:
        return (uint64_t)al->task_name;
    case UW_ADBG_TASK_AWAITED_BY:
        return (uint64_t)al->fut_awaited_by;
    case UW_ADBG_TASK_IS_TASK:
        return (uint64_t)al->fut_is_task;
    case UW_ADBG_TASK_AWAITED_BY_IS_SET:
        return (uint64_t)al->fut_awaited_by_is_set;
    case UW_ADBG_TASK_CORO:
        return (uint64_t)al->task_coro;
    case UW_ADBG_TASK_NODE:
        return (uint64_t)al->task_node;
    case UW_ADBG_INTERP_SIZE:
        return (uint64_t)l->interp_size;
    case UW_ADBG_INTERP_TASKS_HEAD:
        return (uint64_t)l->interp_asyncio_tasks_head;
    case UW_ADBG_TSTATE_SIZE:
        return (uint64_t)l->tstate_impl_size;
    case UW_ADBG_TSTATE_RUNNING_LOOP:
        return (uint64_t)l->tstate_asyncio_running_loop;
    case UW_ADBG_TSTATE_RUNNING_TASK:
        return (uint64_t)l->tstate_asyncio_running_task;
    case UW_ADBG_TSTATE_TASKS_HEAD:
        return (uint64_t)l->tstate_asyncio_tasks_head;
    }
    return UINT64_MAX;
}

int uw_asyncio_debug_check(const uw_layout *layout, const uw_asyncio_layout *al, const uint8_t *blk,
                           size_t len, char *why, size_t whylen)
{
    char dummy[8];
    const uw_asyncio_debug_field *f;
    size_t n, i;

    if (why == NULL || whylen == 0) {
        why = dummy;
        whylen = sizeof dummy;
    }
    why[0] = '\0';
    if (layout == NULL || al == NULL || (blk == NULL && len != 0))
        return UW_ERR_INVALID_ARG;
    if (al->debug_size <= 0 || al->py_minor != layout->py_minor) {
        snprintf(why, whylen, "3.%d has no _asyncio debug offsets", layout->py_minor);
        return UW_ERR_INVALID_ARG;
    }
    if (len < (size_t)al->debug_size) {
        snprintf(why, whylen, "_asyncio debug offsets block is %zu bytes, expected %d", len,
                 (int)al->debug_size);
        return UW_ERR_DEBUG_OFFSETS;
    }
    f = uw__asyncio_debug_fields(&n);
    for (i = 0; i < n; i++) {
        uint64_t got, want = uw_adbg_expect(layout, al, f[i].source);
        if ((size_t)f[i].at + 8 > len) {
            snprintf(why, whylen, "field %s lies outside the block", f[i].name);
            return UW_ERR_DEBUG_OFFSETS;
        }
        got = uw__u64(blk + f[i].at);
        if (got != want) {
            snprintf(why, whylen, "%s is %llu in the target, %llu in the table", f[i].name,
                     (unsigned long long)got, (unsigned long long)want);
            return UW_ERR_DEBUG_OFFSETS;
        }
    }
    return 0;
}
