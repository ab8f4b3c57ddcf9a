/*
 * place.c — running Tasks placed on their threads' stacks, and the skip
 * rules where the thread stack and the Task objects disagree.
 *
 * The thread walk came first (instant t0), the Task objects after (t1), so
 * the two can disagree.  A Task whose root coroutine frame is on the stack
 * at t0 (running the Task's code) was running at t0 and its frames at t0
 * are known: it is placed there, whatever its coroutine state reads at
 * t1, and owns the thread frames from that frame inward, up to the next
 * frame that is another Task's root coroutine frame (an eager Task running
 * nested in it).  A Task that reads as executing at t1 but was not on the
 * stack at t0 started after the walk: its thread is walked once more
 * (uw__second_round), and if it is not there either, it is skipped rather
 * than given someone else's frames.  Two Tasks claiming one frame are both
 * skipped.  Only the frames the loop runs now (split.c) are searched.
 */
#include <stdlib.h>

#include "tasks_int.h"
#include "tornstack/error.h"

static int uw_cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Is addr the root coroutine frame of some Task of this sample? */
static int uw_is_root(const uw_tasks *t, uint64_t addr)
{
    const uint64_t *roots = UW__U64(&t->sc.roots);
    size_t lo = 0, hi = t->n_work;

    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (roots[mid] == addr)
            return 1;
        if (roots[mid] < addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

/* Look for Task w on a thread stack (frames f[0..top), innermost first,
 * from index `first` of `frames`): found at the address of its root
 * coroutine frame, running the same code, it is the running Task and owns
 * f[j..k], k that frame and j-1 the next frame inward that is another
 * Task's root.  `src` says which walk the frames are from (0: the sample,
 * 1: the second round).  Returns 1 found, 0 absent, or a skip reason. */
static int uw_place_one(const uw_tasks *t, uw_task_work *w, const uw_frame *frames, size_t first,
                        int64_t top, int src)
{
    const uw_frame *f = frames + first;
    uint64_t root = uw__root_frame(t, w);
    int64_t k, j;

    if (root == 0)
        return 0;
    for (k = 0; k < top; k++)
        if (f[k].addr == root)
            break;
    if (k == top)
        return 0;
    if (t->opt.skip && f[k].code->addr != w->root_code)
        return UW_SKIP_CODE_MISMATCH;
    for (j = k; j > 0 && !uw_is_root(t, f[j - 1].addr); j--)
        ;
    w->own_src = src;
    w->own_first = first + (size_t)j;
    w->n_own = (size_t)(k - j + 1);
    w->on_stack = 1;
    return 1;
}

/* Does Task w of thread th_i still read as running and wait for a place? */
static int uw_unplaced_running(const uw_tasks *t, const uw_task_work *w, size_t th_i)
{
    return w->thread == th_i && w->skipped == 0 && !w->on_stack &&
           uw__gen_executing(t->l, w->state);
}

/* A thread walk cut short: the running Task's frames cannot be trusted,
 * so a Task that reads as executing is skipped.  A Task that reads as
 * suspended gets its coroutine chain, which is checked on its own
 * (check.c): its true stack when read. */
static void uw_skip_truncated(uw_tasks *t, uw_sample *s, size_t th_i)
{
    size_t i;

    for (i = 0; i < t->n_work; i++)
        if (t->work[i].thread == th_i && t->work[i].skipped == 0 &&
            uw__gen_executing(t->l, t->work[i].state))
            t->work[i].skipped = UW_SKIP_THREAD_TRUNCATED;
    if (!t->second_round)
        s->thread_skips[uw_reason_slot(UW_SKIP_THREAD_TRUNCATED)]++;
}

/* Two Tasks placed on the same frame are both skipped: compare only the
 * Tasks that were placed (a handful), not every pair of Tasks. */
static int uw_claimed_twice(uw_tasks *t, size_t th_i)
{
    size_t i, j, np = 0;
    int rc;

    for (i = 0; i < t->n_work; i++)
        if (t->work[i].thread == th_i && t->work[i].on_stack)
            if ((rc = uw__put_size(&t->sc.placed, np++, i)) != 0)
                return rc;
    for (i = 0; i < np; i++) {
        for (j = i + 1; j < np; j++) {
            uw_task_work *a = &t->work[UW__SIZE(&t->sc.placed)[i]];
            uw_task_work *b = &t->work[UW__SIZE(&t->sc.placed)[j]];
            if (a->own_src != b->own_src || a->own_first + a->n_own != b->own_first + b->n_own)
                continue;
            a->skipped = b->skipped = UW_SKIP_CLAIMED_TWICE;
        }
    }
    return 0;
}

/* Place the Tasks of thread th_i.  Executing Tasks not found are looked
 * for again in a second round (pending), then skipped; without the skip
 * rules they get whatever the loop runs. */
static int uw_place_thread(uw_tasks *t, uw_sample *s, size_t th_i)
{
    uw_thread_sample *th = &s->threads[th_i];
    int64_t top = uw__split_top(t, th);
    size_t i;
    int again = 0;

    if (t->opt.skip && th->truncated != 0 && th->truncated != UW_ERR_DEPTH) {
        uw_skip_truncated(t, s, th_i);
        return 0;
    }
    for (i = 0; i < t->n_work; i++) {
        uw_task_work *w = &t->work[i];
        int rc;
        if (w->thread != th_i || w->skipped != 0)
            continue;
        rc = uw_place_one(t, w, s->frames, th->first_frame, top, 0);
        if (rc < 0)
            w->skipped = rc;
        else if (rc == 0 && uw__gen_executing(t->l, w->state))
            again = 1;
    }
    if (again && t->opt.skip && !t->second_round) {
        UW__SIZE(&t->sc.pending)[th_i] = 1; /* looked at again in a second round */
        return 0;
    }
    for (i = 0; i < t->n_work; i++) {
        uw_task_work *w = &t->work[i];
        if (!uw_unplaced_running(t, w, th_i))
            continue;
        if (t->opt.skip) {
            w->skipped = UW_SKIP_NOT_ON_STACK;
        } else if (top > 0) {
            /* no skip rules: give it whatever the loop runs */
            w->own_src = 0;
            w->own_first = th->first_frame;
            w->n_own = (size_t)top;
            w->on_stack = 1;
        }
    }
    return t->opt.skip ? uw_claimed_twice(t, th_i) : 0;
}

/* Roots sorted for uw_is_root; each thread's pure Python stack and
 * pending mark set afresh. */
int uw__place(uw_tasks *t, uw_sample *s)
{
    size_t th_i, i;
    int rc;

    if ((rc = uw__view_reserve(&t->sc.roots, t->n_work)) != 0 ||
        (rc = uw__view_reserve(&t->sc.placed, t->n_work)) != 0 ||
        (rc = uw__view_reserve(&t->sc.pending, s->n_threads)) != 0)
        return rc;
    for (i = 0; i < t->n_work; i++)
        if ((rc = uw__put_u64(&t->sc.roots, i, uw__root_frame(t, &t->work[i]))) != 0)
            return rc;
    qsort(t->sc.roots.p, t->n_work, sizeof(uint64_t), uw_cmp_u64);
    for (th_i = 0; th_i < s->n_threads; th_i++) {
        uw_thread_sample *th = &s->threads[th_i];
        int any = 0;

        if ((rc = uw__put_size(&t->sc.pending, th_i, 0)) != 0)
            return rc;
        th->pure_start = uw__split_pure_start(t, th);
        for (i = 0; i < t->n_work; i++)
            any |= t->work[i].thread == th_i;
        if (any && (rc = uw_place_thread(t, s, th_i)) != 0)
            return rc;
    }
    return 0;
}

/* Place w on the second walk th2 of its thread th: found, skipped, or its
 * chain to be read again from the root (returns 1 then). */
static int uw_place_again(uw_tasks *t, uw_task_work *w, const uw_thread_sample *th,
                          const uw_thread_sample *th2)
{
    int rc = uw_place_one(t, w, t->again.frames, th2->first_frame, uw__split_top(t, th2), 1);

    if (rc < 0) {
        w->skipped = rc;
    } else if (rc == 0 && th->top_dropped && th2->top_dropped) {
        w->skipped = UW_SKIP_RUNNING_TORN; /* its frames changed under both walks */
    } else if (rc == 0) {
        w->cur = w->coro;
        w->n_cf = 0;
        w->active = 1;
        w->state = INT32_MIN;
        w->truncated = 0;
        return 1;
    }
    return 0;
}

/* Second round for Tasks that read as executing but were not on their
 * thread's stack: walk each such thread again (into t->again), read those
 * Tasks' chains again, and place them on the new stack.  A Task found there
 * is running at the new walk; one whose chain now reads as suspended gets
 * that chain (its true stack when read); one executing again is skipped
 * (by the next uw__place). */
int uw__second_round(uw_tasks *t, uw_sample *s)
{
    const size_t first_cf = t->n_cf, fs = t->sc.cf_bytes.elem;
    size_t th_i, i;
    int any = 0, rc;

    uw_sample_reset(&t->again);
    for (th_i = 0; th_i < s->n_threads; th_i++) {
        uw_thread_sample *th = &s->threads[th_i];
        const uw_thread_sample *th2;
        if (!UW__SIZE(&t->sc.pending)[th_i])
            continue;
        if (uw__unwind_one_thread(t->u, th->tstate, th->interp, th->interp_id, &t->again) != 0)
            continue;
        th2 = &t->again.threads[t->again.n_threads - 1];
        if (th2->truncated != 0 && th2->truncated != UW_ERR_DEPTH)
            continue;
        for (i = 0; i < t->n_work; i++)
            if (uw_unplaced_running(t, &t->work[i], th_i))
                any |= uw_place_again(t, &t->work[i], th, th2);
    }
    if (!any)
        return 0;
    if ((rc = uw__read_chains(t)) != 0)
        return rc;
    return uw__frames_from_copies(t->u, UW__U64(&t->sc.cf_addr) + first_cf,
                                  t->sc.cf_bytes.p + first_cf * fs, t->n_cf - first_cf,
                                  (uw_frame *)(void *)t->sc.cf_frame.p + first_cf,
                                  (int *)(void *)t->sc.cf_status.p + first_cf);
}
