/*
 * walk.c — one sample's Task walk, phase by phase (uw_unwind_tasks).
 *
 * After the thread walk filled the sample's threads:
 *   1. each thread's running loop, and its loop epoch registered for the
 *      thread walk; a loop seen for the first time had its thread walked
 *      without its epoch, which a Task step reusing the same slots can
 *      fool, so the threads are walked again, now with it (epoch.c);
 *   2. the Tasks of every interpreter with a running loop (discover.c),
 *      sorted by address and given their entries in the sample;
 *   3. every Task's await chain (chains.c) and its frames resolved; the
 *      reads of what each Task awaits (step 5) ride on its levels' reads;
 *   4. running Tasks placed on their thread stacks, the second round for
 *      those not found (place.c);
 *   5. names, and what each Task awaits and is linked to (names.c,
 *      gather.c, links.c), every piece kept (deps.c);
 *   6. the chain check of chains, names and links together (check.c),
 *      the Tasks it found moved read and checked again (recover.c), and
 *      the Tasks whose awaiter may have changed unseen (edges.c);
 *   7. each Task's own frames, the links (emit.c, edges.c).
 * The sample's read counts cover it all.
 */
#include <stdlib.h>

#include "internal/uw_assert.h"
#include "tasks_int.h"
#include "tornstack/error.h"

static int uw_cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Step 1: running loops and epochs, the threads walked again once if a
 * loop is new. */
static int uw_loops_and_epochs(uw_tasks *t, uw_sample *s)
{
    int rc;

    if ((rc = uw__running_loops(t, s)) != 0)
        return rc;
    if (uw__epochs_update(t, s) > 0) {
        rc = uw__unwind_threads_again(t->u, s);
        if (rc == 0)
            rc = uw__running_loops(t, s);
        if (rc != 0)
            return rc;
        (void)uw__epochs_update(t, s);
    }
    uw__epochs_for_check(t, s);
    return 0;
}

/* Step 2's end: the work list sorted by address (its first member) and
 * one entry per Task in the sample, in the same order.  Discovery appends
 * each interpreter's Tasks in address order, so the list is most often
 * sorted already; a sort of it would still move every entry (a few
 * hundred bytes each) at every level of the merge. */
static int uw_task_entries(uw_tasks *t, uw_sample *s)
{
    size_t i;
    int rc;

    for (i = 1; i < t->n_work && t->work[i - 1].addr <= t->work[i].addr; i++)
        ;
    if (i < t->n_work)
        qsort(t->work, t->n_work, sizeof *t->work, uw_cmp_u64);
    if ((rc = uw__view_reserve(&t->sc.work_addr, t->n_work)) != 0)
        return rc;
    for (i = 0; i < t->n_work; i++)
        UW__U64(&t->sc.work_addr)[i] = t->work[i].addr;
    t->n_work_addr = t->n_work;
    if ((rc = uw__task_index(t)) != 0)
        return rc;
    for (i = 0; i < t->n_work; i++) {
        uw_task_sample *ts;
        rc = uw_sample_add_task(s, &ts);
        if (rc != 0)
            return rc;
        t->work[i].out = i;
        ts->addr = t->work[i].addr;
        ts->coro = t->work[i].coro;
        ts->loop = t->work[i].loop;
        ts->thread = t->work[i].thread;
    }
    return 0;
}

/* Step 3: the chains from the root; most of their frames are resolved
 * later, by the check right after its read (with the skip rules, and
 * for the Tasks whose code the cache knows; the others at once): a Task
 * that steps between its chain read and its check is skipped or read
 * again, so the code objects of the chains are validated outside that
 * time where that is sound (chains.c, uw__chains_resolve_late).  What every Task
 * awaits (step 5's links) depends only on the Task objects discovery
 * read, not on the chains, so its reads (the waiters' types, then a
 * gather round per step) share the chain levels' vectored reads
 * (uw__aw_readv): a sample pays for the deeper of the two, not their
 * sum.  The steps the chains leave are read in step 5. */
static int uw_chains(uw_tasks *t)
{
    size_t i;
    int rc, snap;

    t->n_gnode = t->n_gitems = t->n_gclaimed = t->n_dep = t->n_dep_bytes = t->n_kid = 0;
    t->n_dep_indexed = SIZE_MAX; /* not indexed yet */
    t->gather_cut = t->deps_cut = 0;
    for (i = 0; i < t->n_work; i++)
        t->work[i].links_todo = 1;
    uw__awaiting_begin(t);
    t->n_cf = 0;
    if ((rc = uw__cf_reserve(t, 1)) != 0)
        return rc;
    /* the levels from one read of the last sample's pages (snapshot.c);
     * without its memory, read for real */
    snap = uw__snap_begin(t) == 0;
    rc = uw__read_chains_unresolved(t);
    if (rc == 0)
        rc = t->opt.skip ? uw__chains_resolve_late(t) : uw__chains_resolve(t);
    if (snap)
        uw__snap_end(t);
    return rc;
}

/* Step 4: placement; with the skip rules, the second round and placement
 * again (what still reads as resumed unplaced is resuming or skipped). */
static int uw_place_all(uw_tasks *t, uw_sample *s)
{
    int rc;

    t->second_round = 0;
    if ((rc = uw__place(t, s)) != 0 || !t->opt.skip)
        return rc;
    if ((rc = uw__second_round(t, s)) != 0)
        return rc;
    t->second_round = 1;
    return uw__place(t, s);
}

/* Step 5: names, what every Task awaits and is linked to, and (before
 * 3.14) a done callback that tells nothing awaits it, each piece kept for
 * the check (a Task placed on its thread stack shows none of it
 * unless the check finds its loop moved on: then what it awaits then
 * matters to the others).  A gather bound hit on the way (gather.c) is
 * the sample's gather_limit. */
static int uw_labels(uw_tasks *t, uw_sample *s)
{
    int rc;

    if ((rc = uw__read_names(t, s)) != 0 || (rc = uw__awaiting_end(t)) != 0 ||
        (t->opt.skip && (rc = uw__callbacks_read(t, s)) != 0))
        return rc;
    if (t->deps_cut && s->tasks_error == 0)
        s->tasks_error = UW_ERR_CAPACITY; /* a cut of room, not of a bound */
    if (t->gather_cut && s->tasks_error == 0)
        s->tasks_error = UW_ERR_LIMIT_GATHER;
    uw__deps_index(t);
    return 0;
}

/* Step 6: the chain check (chains, names, links), recovery of the Tasks
 * it found moved, the awaited_by edges
 * (3.14+; a running Task they name may be skipped), then who may be
 * awaited unseen. */
static int uw_trust(uw_tasks *t, uw_sample *s)
{
    int rc;

    if (t->opt.skip) {
        if ((rc = uw__check(t, s)) != 0 || (rc = uw__plain_waiters(t)) != 0 ||
            (rc = uw__recover(t, s)) != 0 || (rc = uw__awaited_by_read(t, s)) != 0)
            return rc;
        uw__awaiting_verdict(t);
    } else {
        size_t i;
        for (i = 0; i < t->n_work; i++) {
            t->work[i].links_ok = t->work[i].hook_ok = !t->work[i].links_cut;
            t->work[i].waiter_now = t->work[i].waiter;
            t->work[i].ab_ok = 1; /* awaited_by as discovery read it */
            t->work[i].ab_now = t->work[i].awaited_by;
            t->work[i].ab_now_is_set = t->work[i].awaited_by_is_set;
        }
        return uw__awaited_by_read(t, s);
    }
    return 0;
}

static int uw_unwind_tasks_now(uw_tasks *t, uw_sample *s)
{
    size_t i;
    int rc;

    s->n_tasks = 0;
    s->n_awaiting = 0;
    t->n_work = 0;
    t->n_work_addr = 0;
    t->work_mask = 0;
    t->n_hook = 0;
    t->hook_len = 0;
    t->hook_unknown = 0;
    t->n_bad_types = 0;
    t->aw_stage = UW_AW_OFF;
    if ((rc = uw_loops_and_epochs(t, s)) != 0)
        return rc;
    for (i = 0; i < s->n_threads; i++)
        s->threads[i].pure_start = 0;
    if ((rc = uw__discover(t, s)) != 0 || t->n_work == 0)
        return rc;
    /* the chains' code objects are resolved against this interpreter's
     * count of freed code objects (3.14+), if all loops run in one */
    t->chains_interp = 0;
    for (i = 0; i < s->n_threads; i++) {
        if (s->threads[i].running_loop == 0)
            continue;
        if (t->chains_interp == 0)
            t->chains_interp = s->threads[i].interp;
        else if (t->chains_interp != s->threads[i].interp) {
            t->chains_interp = 0;
            break;
        }
    }
    rc = uw_task_entries(t, s);
    if (rc == 0 && (rc = uw_chains(t)) == 0 && (rc = uw_place_all(t, s)) == 0 &&
        (rc = uw_labels(t, s)) == 0)
        rc = uw_trust(t, s);
    if (rc != 0) {
        /* a sample ended early leaves no frames unresolved, and no RESUME
         * unsettled, for the next */
        (void)uw__chains_resolve(t);
        return rc;
    }
    UW_ASSERT(!t->unresolved.on);
    if ((rc = uw__emit_tasks(t, s)) != 0)
        return rc;
    return uw__edges(t, s);
}

uint64_t uw__sample_reads(const uw_tasks *t)
{
    return t->walk_calls + (t->r->calls - t->calls0);
}

/* The sample's read counts cover the whole sample: the thread walk that
 * came first (already in s->calls), then everything read here, a second
 * walk of the threads included (which resets the counts to its own). */
int uw_unwind_tasks(uw_tasks *t, uw_sample *s)
{
    uint64_t calls, bytes, c0, b0;
    int rc;

    if (t == NULL || s == NULL)
        return UW_ERR_INVALID_ARG;
    calls = s->calls;
    bytes = s->bytes;
    c0 = t->r->calls;
    b0 = t->r->bytes;
    t->walk_calls = calls;
    t->calls0 = c0;
    rc = uw_unwind_tasks_now(t, s);
    s->calls = calls + (t->r->calls - c0);
    s->bytes = bytes + (t->r->bytes - b0);
    return rc;
}
