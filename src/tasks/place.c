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
 * nested in it).  The check then requires its loop to be in the same
 * callback as at t0 (check.c): otherwise the coroutine at that address
 * could be another Task's, with the same code.  Its entry is the walk's
 * instant: running, no awaiting (a running Task's fut_waiter is cleared
 * before its step).
 *
 * A Task whose root reads as resumed at t1 (marked executing, or its
 * `previous` set) but was not on the stack at t0 either started after the
 * walk, or is in the instants around a step when it is not linked (the
 * eval loop's prologue, a suspension's epilogue).  Its thread is walked
 * once more (uw__second_round), and that walk becomes the thread's walk in
 * the sample, every Task of the thread placed again on it (a pure Python
 * stack and a running Task from two walks are two instants).  Not there
 * either, it is resuming if the walk's innermost frame is the split
 * (Handle._run, nothing linked above it): its chain is its stack if the
 * check finds the thread's current frame unchanged; otherwise it is
 * skipped rather than given someone else's frames.  Two Tasks claiming one
 * frame are both skipped.  Only the frames the loop runs now (split.c) are
 * searched: on a loop that calls its callbacks from C (uvloop), the whole
 * stack, and the split is placed after the Tasks (uw__split_c_loop).
 */
#include <stdlib.h>
#include <string.h>

#include "internal/addr_sort.h"
#include "internal/rules.h"
#include "internal/uw_assert.h"
#include "tasks_int.h"
#include "tornstack/error.h"

/* Is addr the root coroutine frame of some Task of this sample? */
static int uw_is_root(const uw_tasks *t, uint64_t addr)
{
    return uw__u64_find(UW__U64(&t->sc.roots), t->n_work, addr) != SIZE_MAX;
}

/* Does Task w's root read as resumed (marked executing, or its `previous`
 * set: running, or about to, or just unlinked)? */
static int uw_busy(const uw_tasks *t, const uw_task_work *w)
{
    return uw__gen_executing(t->l, w->state) ||
           (w->n_cf > 0 && w->root_prev != 0 && !uw__gen_created(t->l, w->state) &&
            !w->root_finished);
}

/* Look for Task w on the stack of thread th in s (frames f[0..top),
 * innermost first): found at the address of its root coroutine frame,
 * running the same code, it is the running Task and owns f[j..k], k that
 * frame and j-1 the next frame inward that is another Task's root.
 * Returns 1 found, 0 absent, or a skip reason. */
static int uw_place_one(const uw_tasks *t, uw_task_work *w, const uw_sample *s,
                        const uw_thread_sample *th)
{
    int64_t top = uw__split_top(t, th), k, j;
    uint64_t root = uw__root_frame(t, w);
    const uw_frame *f;

    if (root == 0 || top <= 0)
        return 0;
    f = uw__thread_frames(s, th);
    for (k = 0; k < top; k++)
        if (f[k].addr == root)
            break;
    if (k == top)
        return 0;
    if (t->opt.skip && UW_RULE(skip_code_mismatch) && f[k].code->addr != w->root_code)
        return UW_SKIP_CODE_MISMATCH;
    for (j = k; j > 0 && !uw_is_root(t, f[j - 1].addr); j--)
        ;
    w->own_first = th->first_frame + (size_t)j;
    w->n_own = (size_t)(k - j + 1);
    w->on_stack = 1;
    return 1;
}

/* Does Task w of thread th_i read as resumed and wait for a place? */
static int uw_unplaced_busy(const uw_tasks *t, const uw_task_work *w, size_t th_i)
{
    return w->thread == th_i && w->skipped == 0 && !w->on_stack && uw_busy(t, w);
}

/* A thread walk cut short: the running Task's frames cannot be trusted,
 * so a Task that reads as resumed is skipped.  A Task that reads as
 * suspended gets its coroutine chain, which is checked on its own
 * (check.c): its true stack when read (compose gives it no stack without
 * a pure Python stack).  A walk cut at UW_LIMIT_FRAMES (a real stack that
 * deep, in a still process too) gives that bound as the reason: the walk
 * was not read again, so its frames are not vouched for either. */
static void uw_skip_truncated(uw_tasks *t, uw_sample *s, size_t th_i)
{
    int why = s->threads[th_i].truncated == UW_ERR_LIMIT_FRAMES ? UW_ERR_LIMIT_FRAMES
                                                                : UW_SKIP_THREAD_TRUNCATED;
    size_t i;

    for (i = 0; i < t->n_work; i++)
        if (t->work[i].thread == th_i && t->work[i].skipped == 0 && uw_busy(t, &t->work[i]))
            t->work[i].skipped = why;
    if (!t->second_round)
        s->thread_skips[uw_reason_slot(why)]++;
}

/* Two Tasks placed on the same frame are both skipped: compare only the
 * Tasks that were placed (a handful), not every pair of Tasks. */
static int uw_claimed_twice(uw_tasks *t, size_t th_i)
{
    size_t i, j, np = 0;
    int rc;

    for (i = 0; i < t->n_work; i++)
        if (t->work[i].thread == th_i && t->work[i].on_stack && t->work[i].skipped == 0)
            if ((rc = uw__put_size(&t->sc.placed, np++, i)) != 0)
                return rc;
    for (i = 0; i < np; i++) {
        for (j = i + 1; j < np; j++) {
            uw_task_work *a = &t->work[UW__SIZE(&t->sc.placed)[i]];
            uw_task_work *b = &t->work[UW__SIZE(&t->sc.placed)[j]];
            if (a->own_first + a->n_own != b->own_first + b->n_own)
                continue;
            a->skipped = b->skipped = UW_SKIP_CLAIMED_TWICE;
        }
    }
    return 0;
}

/* Was nothing linked above the split when thread th was walked: its
 * innermost frame is the outermost Handle._run, where the walk started
 * (or, on 3.12+, just below the entry frame that was current: a root that
 * returned to it from the interpreter it was sent to, before
 * INTERPRETER_EXIT made Handle._run current again)?  Then a resumed root
 * not on it may be one not linked yet, or unlinked already. */
static int uw_split_on_top(const uw_sample *s, const uw_thread_sample *th, int need_epoch)
{
    return th->truncated == 0 && !th->top_dropped && th->split == 0 && th->n_frames > 0 &&
           (th->epoch_loop != 0 || !need_epoch) && th->current_frame != 0 &&
           s->frames[th->first_frame].addr == th->shown_top;
}

/* Place the Tasks of thread th_i.  Resumed Tasks not found are looked for
 * again in a second round (pending), then resuming or skipped; without the
 * skip rules they get whatever the loop runs. */
static int uw_place_thread(uw_tasks *t, uw_sample *s, size_t th_i)
{
    uw_thread_sample *th = &s->threads[th_i];
    int64_t top = uw__split_top(t, th);
    size_t i;
    int again = 0;

    if (t->opt.skip && UW_RULE(skip_thread_truncated) && th->truncated != 0 &&
        th->truncated != UW_ERR_DEPTH) {
        uw_skip_truncated(t, s, th_i);
        return 0;
    }
    if (t->opt.skip && UW_RULE(skip_past_epochs) && uw__epoch_crowded(t, s, th)) {
        for (i = 0; i < t->n_work; i++) /* nothing proves their chains */
            if (t->work[i].thread == th_i && t->work[i].skipped == 0)
                t->work[i].skipped = UW_SKIP_EPOCH_LIMIT;
        return 0;
    }
    for (i = 0; i < t->n_work; i++) {
        uw_task_work *w = &t->work[i];
        int rc;
        if (w->thread != th_i || w->skipped != 0)
            continue;
        rc = uw_place_one(t, w, s, th);
        if (rc < 0)
            w->skipped = rc;
        else if (rc == 0 && uw_busy(t, w) && !w->on_stack)
            again = 1;
    }
    if (again && t->opt.skip && !t->second_round) {
        UW__SIZE(&t->sc.pending)[th_i] = 1; /* looked at again in a second round */
        return 0;
    }
    for (i = 0; i < t->n_work; i++) {
        uw_task_work *w = &t->work[i];
        if (!uw_unplaced_busy(t, w, th_i))
            continue;
        if (!t->opt.skip) {
            if (top > 0) { /* no skip rules: give it whatever the loop runs */
                w->own_first = th->first_frame;
                w->n_own = (size_t)top;
                w->on_stack = 1;
            }
        } else if (!UW_RULE(skip_not_on_stack) || uw_split_on_top(s, th, 1)) {
            w->resuming = 1; /* its chain, if the check finds nothing linked */
        } else if (uw_split_on_top(s, th, 0) && uw__epoch_crowded(t, s, th)) {
            /* it would be resuming, but the walk had no epoch to vouch
             * that nothing was linked above the split: the bound's doing */
            w->skipped = UW_SKIP_EPOCH_LIMIT;
        } else {
            w->skipped = UW_SKIP_NOT_ON_STACK;
        }
    }
    return t->opt.skip && UW_RULE(skip_claimed_twice) ? uw_claimed_twice(t, th_i) : 0;
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
    uw__u64_sort(UW__U64(&t->sc.roots), t->n_work);
    for (th_i = 0; th_i < s->n_threads; th_i++) {
        uw_thread_sample *th = &s->threads[th_i];
        int any = 0;

        if ((rc = uw__put_size(&t->sc.pending, th_i, 0)) != 0)
            return rc;
        if (th->loop_in_c)
            th->split = -1; /* placed by the last round, placed again */
        th->loop_in_c = t->opt.split && th->split < 0 &&
                        uw__epoch_cloop(&t->epochs, th->tstate, th->running_loop) != NULL;
        for (i = 0; i < t->n_work; i++)
            any |= t->work[i].thread == th_i;
        if (any && (rc = uw_place_thread(t, s, th_i)) != 0)
            return rc;
        uw__split_c_loop(t, s, th_i);
        th->pure_start = uw__split_pure_start(t, s, th);
    }
    return 0;
}

/* The second walk th2 (in t->again) becomes thread th's walk in s: its
 * frames appended to the sample's, the thread pointed at them. */
static int uw_adopt_walk(uw_tasks *t, uw_sample *s, size_t th_i, const uw_thread_sample *th2)
{
    size_t first = s->n_frames, k;
    uw_thread_sample *th;
    int rc;

    for (k = 0; k < th2->n_frames; k++)
        if ((rc = uw_sample_add_frame(s, &t->again.frames[th2->first_frame + k])) != 0)
            return rc;
    th = &s->threads[th_i];
    th->first_frame = first;
    th->n_frames = th2->n_frames;
    th->split = th2->split;
    th->truncated = th2->truncated;
    th->top_dropped = th2->top_dropped;
    th->epoch_loop = th2->epoch_loop;
    th->epoch = th2->epoch;
    th->current_frame = th2->current_frame;
    th->shown_top = th2->shown_top;
    th->shown_top_instr = th2->shown_top_instr;
    th->cframe = th2->cframe;
    th->anchored = th2->anchored;
    th->retries += th2->retries + 1;
    return 0;
}

/* Second round for Tasks that read as resumed but were not on their
 * thread's stack: walk each such thread again (into t->again); a complete
 * walk becomes the thread's walk, and its Tasks are placed on it: those
 * that were placed on the first walk or read as resumed are placed on the
 * new walk or get their chains read again from the root (they may have
 * suspended since); one resumed but absent from both walks, whose frames
 * above the split moved under both, is skipped as
 * running_task_frames_changed.  A second walk whose frames above the split
 * moved too is walked again, UW_SECOND_ROUND_WALKS walks at most.  The
 * next uw__place decides the rest. */
int uw__second_round(uw_tasks *t, uw_sample *s)
{
    size_t th_i, i;
    int any = 0, rc;

    uw_sample_reset(&t->again);
    for (th_i = 0; th_i < s->n_threads; th_i++) {
        uw_thread_sample *th = &s->threads[th_i];
        const uw_thread_sample *th2;
        int dropped_before = th->top_dropped;
        unsigned walks;
        if (!UW__SIZE(&t->sc.pending)[th_i])
            continue;
        /* a walk whose top moved under its re-read (a Task spinning in a
         * loop saves its instruction pointer now and then) is walked
         * again, up to UW_SECOND_ROUND_WALKS walks in all, each one of the
         * sample's extra walks (UW_SAMPLE_RETRIES) */
        for (walks = 1, th2 = NULL;; walks++) {
            if (uw__unwind_one_thread(t->u, th->tstate, th->interp, th->interp_id, &t->again) !=
                0) {
                th2 = NULL;
                break;
            }
            th2 = &t->again.threads[t->again.n_threads - 1];
            if (!th2->top_dropped || walks == UW_SECOND_ROUND_WALKS || !uw__walk_budget_take(t->u))
                break;
        }
        if (th2 == NULL)
            continue;
        if ((th2->truncated != 0 && th2->truncated != UW_ERR_DEPTH) ||
            th2->epoch_loop != th->epoch_loop)
            continue; /* the first walk stays; its resumed Tasks are skipped */
        if ((rc = uw_adopt_walk(t, s, th_i, th2)) != 0)
            return rc;
        th = &s->threads[th_i];
        for (i = 0; i < t->n_work; i++) {
            uw_task_work *w = &t->work[i];
            int was_placed = w->on_stack;
            if (w->thread != th_i || w->skipped != 0 || (!was_placed && !uw_busy(t, w)))
                continue;
            w->on_stack = 0;
            rc = uw_place_one(t, w, s, th);
            if (rc < 0) {
                w->skipped = rc;
            } else if (rc == 0 && !was_placed && dropped_before && th->top_dropped &&
                       UW_RULE(skip_running_torn)) {
                w->skipped = UW_SKIP_RUNNING_TORN; /* its frames changed under both walks */
            } else if (rc == 0) {
                uw__chain_again(w);
                any = 1;
            }
        }
    }
    if (!any)
        return 0;
    return uw__read_and_resolve_chains(t);
}
