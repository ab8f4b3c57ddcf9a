/*
 * adebug.c — 3.14+: _asyncio's own debug offsets, checked before any Task
 * is read with the tables.
 *
 * From 3.14, _asyncio publishes where a Task keeps its name, coroutine,
 * awaited_by and list node, and where the thread and interpreter states
 * keep their Task lists (section .AsyncioDebug).  Attaching compares that
 * block with the tables (target.c) when it is mapped; on Debian's 3.14 it
 * lives in the _asyncio extension module, which is mapped only once the
 * program imports asyncio, possibly long after attach.  So while the block
 * has not been found, each sample with a running loop looks for it again
 * (uw_target_find_asyncio: the process's maps and the section tables of
 * its mapped objects), and no Task is read until it was found and matched.
 * A look costs some hundreds of microseconds, so after a miss the next one
 * waits UW_ADEBUG_RETRY samples; a loop runs only once asyncio is imported,
 * so on a standard build the first look finds it.  A block that does not
 * match is final: the Task walk reports debug_offsets_mismatch and reads no
 * Task.  A simulated target (pid <= 0) maps no objects; its tables are
 * trusted.
 */
#include <string.h>

#include "tasks_int.h"
#include "tornstack/error.h"
#include "tornstack/target.h"

/* Samples between two looks for a block not found. */
#define UW_ADEBUG_RETRY 64

int uw__adebug_gate(uw_tasks *t)
{
    uw__lists *ls = &t->ls;
    uw_target copy;
    char why[256];
    int rc;

    if (t->al->debug_size <= 0 || t->t->pid <= 0 || t->t->asyncio_debug_addr != 0)
        return 0;
    if (ls->adebug == 0 || ls->adebug == UW_ERR_DEBUG_OFFSETS)
        return ls->adebug;
    if (ls->adebug_wait > 0) {
        ls->adebug_wait--;
        return ls->adebug;
    }
    copy = *t->t;
    rc = uw_target_find_asyncio(t->r, &copy, why, sizeof why);
    if (rc == UW_ERR_NO_PROCESS || rc == UW_ERR_NOMEM)
        return rc;
    if (rc == UW_ERR_NOT_FOUND || rc == UW_ERR_PERMISSION) {
        ls->adebug = UW_ERR_NOT_FOUND;
        ls->adebug_wait = UW_ADEBUG_RETRY;
    } else if (rc != 0) {
        ls->adebug = UW_ERR_DEBUG_OFFSETS; /* a mismatch, or an unreadable block */
    } else {
        ls->adebug = 0;
    }
    return ls->adebug;
}
