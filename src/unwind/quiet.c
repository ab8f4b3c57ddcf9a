/*
 * quiet.c — a process none of whose threads ran since a sample began shows
 * that sample's threads again, without a read.
 *
 * A process's memory changes only through its threads' stores: the
 * interpreter's lists, thread states and frames are private memory, which
 * no other process writes (a debugger poking it aside; a profiler that
 * writes a frame cache hint into a thread state changes no frame).  A
 * thread is created by a thread that runs.  So when every thread of the
 * process reads the same run clock (reader.h) as at the readings taken
 * before a sample's first read, and those readings came before a listing
 * of the process's threads that showed no thread unknown to them, nothing
 * ran since: every thread list, thread state and frame that sample read
 * is as it was, and its threads are this sample's.
 *
 * Each sample (before any memory read, after idle.c's readings):
 *   - the clocks of every thread known are read (idle.c's readings of the
 *     same sample are served again by the reader);
 *   - a base whose readings they all equal: the base sample's threads are
 *     shown from their kept walks (idle.c) and nothing is read, provided
 *     every kept walk is still usable (uw__idle_usable: no bracket now,
 *     the same depth limit, no code-cache entry freed since);
 *   - otherwise, when the readings equal the last sample's (the process
 *     stood for a while: the listing is worth its calls), the process's
 *     threads are listed; none unknown, and these readings may become the
 *     base: they do (uw__quiet_end) when every thread of this sample is
 *     shown from, or kept as, a walk of idle.c.  Threads listed that were
 *     unknown are added (their clocks are read from the next sample on),
 *     and threads no longer listed are dropped.
 * While a thread known has no clock, a listing (to drop it once it ended)
 * is made once in UW_QUIET_LIST_WAIT samples, so that a process with a
 * thread that never has one pays a listing now and then only.
 * Bounds: UW_QUIET_THREADS threads; a process with more (or a reader that
 * cannot list threads) is never taken as quiet.  One listing a sample at
 * most.
 */
#include <string.h>

#include "tornstack/error.h"
#include "unwind_int.h"

/* Show the base sample's threads into s: 1, 0 when a kept walk is no
 * longer usable (nothing added), or an error. */
static int uw_quiet_show(uw_unwinder *u, uw_sample *s)
{
    uw_quiet *q = &u->quiet;
    uw_idle *e[UW_IDLE_THREADS];
    size_t i;
    int rc;

    for (i = 0; i < q->n_saved; i++) {
        e[i] = uw__idle_find(u, q->saved[i].ts);
        if (e[i] == NULL || !uw__idle_usable(u, e[i], q->saved[i].ts))
            return 0;
    }
    for (i = 0; i < q->n_saved; i++) {
        rc = uw__idle_show(u, e[i], q->saved[i].ts, q->saved[i].interp, q->saved[i].interp_id, s);
        if (rc != 0)
            return rc;
    }
    s->truncated = q->saved_truncated;
    q->shown++;
    return 1;
}

/* Is tid among the threads known?  Its index, or q->n. */
static size_t uw_quiet_find(const uw_quiet *q, uint64_t tid)
{
    size_t i;

    for (i = 0; i < q->n && q->tid[i] != tid; i++)
        ;
    return i;
}

/* List the process's threads; returns 1 when none was unknown.  The known
 * set becomes the listed one (readings of dropped threads dropped too). */
static int uw_quiet_list(uw_unwinder *u)
{
    uw_quiet *q = &u->quiet;
    uint64_t listed[UW_QUIET_THREADS], now[UW_QUIET_THREADS];
    uint8_t ok[UW_QUIET_THREADS];
    size_t m = 0, i, at;
    int rc, all_known = 1;

    rc = uw_reader_threads(u->r, listed, UW_QUIET_THREADS, &m);
    if (rc == UW_ERR_CAPACITY || rc == UW_ERR_NO_CLOCK) {
        q->off = 1;
        return 0;
    }
    if (rc != 0)
        return 0;
    for (i = 0; i < m; i++) {
        at = uw_quiet_find(q, listed[i]);
        all_known &= at < q->n;
        now[i] = at < q->n ? q->now[at] : 0;
        ok[i] = at < q->n ? q->prev_ok[at] : 0;
    }
    memcpy(q->tid, listed, m * sizeof *listed);
    memcpy(q->now, now, m * sizeof *now);
    memcpy(q->prev, now, m * sizeof *now);
    memcpy(q->prev_ok, ok, m * sizeof *ok);
    q->n = m;
    return all_known;
}

int uw__quiet_begin(uw_unwinder *u, uw_sample *s)
{
    uw_quiet *q = &u->quiet;
    int all_ok = 1, any_ok = q->n == 0, same_base, same_prev = 1, rc;
    uint8_t ok[UW_QUIET_THREADS];
    size_t i;

    q->candidate = 0;
    if (q->off)
        return 0;
    for (i = 0; i < q->n; i++) {
        ok[i] = uw_reader_clock(u->r, q->tid[i], &q->now[i]) == 0;
        all_ok &= ok[i];
        any_ok |= ok[i];
    }
    same_base = all_ok && q->base_ok;
    for (i = 0; i < q->n; i++) {
        same_base = same_base && q->now[i] == q->base[i];
        /* threads without a clock are left out of this guess only */
        same_prev = same_prev && (!ok[i] || (q->prev_ok[i] && q->now[i] == q->prev[i]));
        q->prev[i] = q->now[i];
        q->prev_ok[i] = ok[i];
    }
    if (same_base) {
        rc = uw_quiet_show(u, s);
        if (rc != 0)
            return rc;
    }
    q->base_ok = 0;
    if (q->wait > 0) {
        q->wait--;
        return 0;
    }
    if (same_prev && any_ok) {
        if (all_ok && uw_quiet_list(u)) {
            q->candidate = 1; /* these readings came before the listing */
        } else if (!all_ok) {
            (void)uw_quiet_list(u); /* drop threads that ended, meet new ones */
            q->wait = UW_QUIET_LIST_WAIT;
        }
    }
    return 0;
}

void uw__quiet_end(uw_unwinder *u, const uw_sample *s)
{
    uw_quiet *q = &u->quiet;
    size_t i;

    if (!q->candidate || s->n_threads > UW_IDLE_THREADS)
        return;
    q->candidate = 0;
    for (i = 0; i < s->n_threads; i++) {
        const uw_thread_sample *th = &s->threads[i];
        const uw_idle *e = uw__idle_find(u, th->tstate);
        /* shown from a kept walk, or kept in this sample: either way the
         * entry holds this thread's stack of the sample */
        if (e == NULL || !e->kept || e->met != u->idle_sample)
            return;
        q->saved[i].ts = th->tstate;
        q->saved[i].interp = th->interp;
        q->saved[i].interp_id = th->interp_id;
    }
    q->n_saved = s->n_threads;
    q->saved_truncated = s->truncated;
    memcpy(q->base, q->now, q->n * sizeof *q->now);
    q->base_ok = 1;
}
