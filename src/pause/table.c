/*
 * table.c — the attached threads of a pause session.
 *
 * A flat array searched linearly: a Python process has a handful of
 * threads, and the table never holds more than UW_PAUSE_LIMIT_THREADS
 * live records (records of threads that have gone are dropped by
 * uw_pt_compact between operations).
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "pause/internal.h"
#include "tornstack/error.h"
#include "tornstack/limits.h"

uw_pt *uw_pt_find(uw__pause *p, pid_t tid)
{
    size_t i;

    for (i = 0; i < p->n; i++)
        if (p->threads[i].tid == tid && p->threads[i].state != UW_PT_GONE)
            return &p->threads[i];
    return NULL;
}

/* Add a record for tid in `state`.  A thread counts once however it was
 * found (a clone event, a re-scan, the first scan).  The bound counts
 * live records: a process whose threads come and go reaches it only when
 * that many run at once, counting those that exited but whose exit is not
 * reported yet (a new thread's clone can be reported before them).
 * Records of gone threads are dropped only at safe points
 * (uw_pt_compact), never here, so callers may walk the table by index
 * while reports add newborns; the array holds at most twice the bound
 * (the service drops gone records before each poll, service.c).
 * *out is valid until the next add. */
int uw_pt_add(uw__pause *p, pid_t tid, uw_pt_state state, uw_pt **out)
{
    uw_pt *t;

    if (uw_pt_find(p, tid) != NULL)
        return UW_ERR_INVALID_ARG;
    if (uw__pause_threads(p) >= UW_PAUSE_LIMIT_THREADS || p->n >= 2 * UW_PAUSE_LIMIT_THREADS)
        return UW_ERR_LIMIT_THREADS;
    if (p->n == p->cap) {
        size_t cap = p->cap ? 2 * p->cap : 16;
        uw_pt *grown;
        if (cap > 2 * UW_PAUSE_LIMIT_THREADS)
            cap = 2 * UW_PAUSE_LIMIT_THREADS;
        grown = realloc(p->threads, cap * sizeof *grown);
        if (grown == NULL)
            return UW_ERR_NOMEM;
        p->threads = grown;
        p->cap = cap;
    }
    t = &p->threads[p->n++];
    memset(t, 0, sizeof *t);
    t->tid = tid;
    t->state = (uint8_t)state;
    t->kind = UW_PK_TRAP;
    t->sig = 0;
    uw_pt_clock_open(p, t);
    p->stats.threads_seen++;
    if (out != NULL)
        *out = t;
    return 0;
}

/* Drop the records of threads that have gone.  Only at the start of a
 * public operation: it moves records. */
void uw_pt_compact(uw__pause *p)
{
    size_t i, k = 0;

    for (i = 0; i < p->n; i++) {
        if (p->threads[i].state != UW_PT_GONE)
            p->threads[k++] = p->threads[i];
        else
            uw_pt_clock_close(&p->threads[i]);
    }
    p->n = k;
}

size_t uw_pt_count(const uw__pause *p, uw_pt_state state)
{
    size_t i, k = 0;

    for (i = 0; i < p->n; i++)
        k += p->threads[i].state == state;
    return k;
}

size_t uw__pause_threads(const uw__pause *p)
{
    size_t i, k = 0;

    if (p == NULL)
        return 0;
    for (i = 0; i < p->n; i++)
        k += p->threads[i].state != UW_PT_GONE;
    return k;
}

void uw__pause_stats_get(const uw__pause *p, uw__pause_stats *out)
{
    if (out == NULL)
        return;
    if (p == NULL) {
        *out = (uw__pause_stats){0};
        return;
    }
    *out = p->stats;
    out->clock_user_only = p->clock_on && p->clock_user_only;
}
