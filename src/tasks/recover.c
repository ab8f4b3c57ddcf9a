/*
 * recover.c — Tasks the chain check found moved, read again and checked
 * again on their own before they are skipped.
 *
 * A Task is read over a stretch of time (its object at discovery, its
 * chain level by level, its name, its links) and checked at the end
 * (check.c).  In a busy program many Tasks step in between: their chain
 * no longer reads as it was read (task_changed_while_read), or their loop
 * started a callback during every try of the check's one read
 * (loop_stepped_while_read).  Skipping them all biases the profile
 * against the Tasks that switch most.  So those Tasks, and only they, are
 * read again at once: their objects (state, coroutine, waiter, name,
 * awaiters) in one vectored read, their chains from the root, their names
 * and links, then checked again by the same check, whose read now holds
 * only their pieces between two readings of each epoch.  The argument of
 * the check (docs/tasks.md) holds for that read as for the first: copy A
 * must read as the chain was read, copy B as copy A, the epochs unmoved.
 * A Task kept so is shown as it was at the second check's instant, which
 * lies within the sample; its chain, name and links are that instant's.
 *
 * Only a Task that is suspended when read again is kept: one placed on
 * its thread's stack, or resuming, leans on the thread walk, which is not
 * read again here; one that reads as resumed now started running after
 * the walk and cannot be placed.  A Task that read as resumed but was on
 * neither walk of its thread (running_task_not_on_stack: its step began
 * after the walk) is read again too: its step most often ended since, and
 * it is then a suspended Task at the round's instant like any other; a
 * Task of a loop so busy steps for some microseconds, and skipping it
 * dropped, on a program of twelve Tasks switching that fast, the Task
 * that ran next in more than a quarter of the samples.  A Task the walk found running whose
 * frames the sample could not keep (its loop stepped since the walk,
 * loop_stepped_since_walk, or its frames moved under two walks,
 * running_task_frames_changed) is read again as any other, from its
 * root: if its step ended, it is a suspended Task at the round's instant,
 * composed on the walk's pure Python stack as every Task read again is
 * (uw_as_suspended); if it still runs, it keeps its skip.  A Task whose
 * hook records moved during the first check (or with the hook's count
 * unknown) keeps its skip.  A Task whose object now holds another
 * coroutine or loop, or is no longer pending, is another Task or none: it
 * keeps its skip too.
 *
 * A Task not recovered keeps exactly what the first check gave it (its
 * skip reason, name, links), so recovery never changes an entry it does
 * not keep.  Bounds: UW_RECOVER_ROUNDS rounds (the sample's option
 * `recover`), each one read of the objects, the chain levels
 * (UW_LIMIT_AWAIT_CHAIN), four name reads, the gather rounds and one
 * check read (with its UW_VALIDATE_RETRIES), and none begun once the
 * sample has made UW_RECOVER_READS reads; a bound of the scratch views
 * met on the way ends recovery with the Tasks left skipped, never the
 * sample.
 */
#include <string.h>

#include "internal/rules.h"
#include "internal/uw_assert.h"
#include "tasks_int.h"
#include "tornstack/error.h"

/* Does Task w's thread show an idle loop's stack? */
static int uw_on_idle_stack(const uw_sample *s, const uw_task_work *w)
{
    return w->thread < s->n_threads && uw__loop_idle_walk(&s->threads[w->thread]);
}

/* Was Task w found running by the walk, and skipped for it? */
static int uw_was_running(const uw_task_work *w)
{
    return w->skipped == UW_SKIP_STALE_PLACE || w->skipped == UW_SKIP_RUNNING_TORN;
}

/* Was Task w skipped by the chain check for a change a re-read may see
 * past?  On a thread whose stack is an idle loop's, only where a round
 * can read that stack again (uw_idle_stood).  busy: a check of this
 * sample saw a loop start several callbacks.  only_unawaited: a round of
 * a busy loop, which keeps only Tasks nothing else's moves can reach:
 * awaited by nothing, or (3.14+) by one Task named in their own word. */
static int uw_recoverable(uw_tasks *t, const uw_sample *s, const uw_task_work *w,
                          int only_unawaited, int busy)
{
    return (((w->skipped == UW_SKIP_TASK_CHANGED || w->skipped == UW_SKIP_LOOP_STEPPED ||
              w->skipped == UW_SKIP_NOT_ON_STACK) &&
             !w->on_stack && !w->resuming) ||
            uw_was_running(w)) &&
           !w->check_cut && !w->hook_moved && !(t->hook_len > 0 && t->hook_unknown) &&
           (!only_unawaited || uw__awaited_by_none(t, w) || uw__one_named_awaiter(t, w)) &&
           /* an idle stack is read again only with a skeleton to read it
            * from (uw_idle_stood), and not after a check that saw a loop
            * start several callbacks: such a loop seldom stands idle
            * through a round, and its idle Tasks would only crowd out the
            * others (below, UW_RECOVER_FEW) */
           !(uw_on_idle_stack(s, w) && (busy || !uw__idle_provable(t, s, w->thread)));
}

/* Is Task w, if its thread shows an idle loop's stack, shown on a stack
 * that stood at its round's instant (rule recover_idle_stands)?  An idle
 * loop's stack is the loop's only while no callback runs: the first check
 * proved it for its own instants, and a Task read again is shown at the
 * round's, after the loop stepped (it did: the Task changed).  So the
 * round's check reads the loop's stack again between its copies
 * (check.c, uw_pure_round_judge), and the Task is kept only where that is
 * the very stack the thread shows. */
static int uw_idle_stood(const uw_tasks *t, const uw_sample *s, const uw_task_work *w)
{
    return !UW_RULE(recover_idle_stands) || !uw_on_idle_stack(s, w) ||
           uw__round_idle_stands(t, w->thread);
}

/* Does Task w read as resumed (executing, or its root's `previous` set)? */
static int uw_resumed(const uw_tasks *t, const uw_task_work *w)
{
    return uw__gen_executing(t->l, w->state) ||
           (w->n_cf > 0 && w->root_prev != 0 && !uw__gen_created(t->l, w->state) &&
            !w->root_finished);
}

/* A Task the walk found running, read again from its root as one that is
 * suspended: no place on the thread stack, no own frames, not resuming.
 * Its chain is then read as any Task's, and one that reads as resumed
 * (still running, or running again) is restored; one that reads as
 * suspended is checked as any: the chain both copies agree on, in a
 * window its loop's epoch did not move in, is the Task at that instant,
 * whatever it ran before.  Restoring gives the placement back. */
static void uw_as_suspended(uw_task_work *w)
{
    w->on_stack = 0;
    w->resuming = 0;
    w->n_own = 0;
    w->frames_now = 0;
}

/* Put back what Task saved->task was before the round: its chain's frames
 * are dropped (a skipped Task shows none). */
static void uw_restore(uw_tasks *t, uw_sample *s, const uw__saved *sv)
{
    uw_task_work *w = &t->work[sv->task];
    const size_t first_dep = w->first_dep, n_dep = w->n_dep;

    *w = sv->w;
    /* its pieces as the round's index left them (the saved range may
     * point at other Tasks' since), for a later round to drop */
    w->first_dep = first_dep;
    w->n_dep = n_dep;
    w->n_cf = 0;
    w->active = 0;
    w->recheck = 0;
    memcpy(s->tasks[w->out].name, sv->name, sizeof sv->name);
}

/* Read the objects of the Tasks marked recheck again: a Task still
 * pending with the same coroutine, loop and name object (the same Task,
 * as far as its object tells) takes its waiter and awaiters from this
 * read; any other is restored at once. */
static int uw_reread_objects(uw_tasks *t, uw_sample *s, uw__saved *sv, size_t n_sv)
{
    const uw_asyncio_layout *al = t->al;
    const size_t win = (size_t)al->task_size;
    size_t k;
    int rc;

    if ((rc = uw__view_reserve(&t->sc.iov, n_sv)) != 0 ||
        (rc = uw__view_reserve(&t->sc.bytes, n_sv * win)) != 0)
        return rc;
    for (k = 0; k < n_sv; k++)
        UW__IOV(&t->sc.iov)
    [k] = (uw_iov){t->work[sv[k].task].addr, t->sc.bytes.p + k * win, win, 0};
    (void)uw_readv(t->r, UW__IOV(&t->sc.iov), n_sv);
    for (k = 0; k < n_sv; k++) {
        uw_task_work *w = &t->work[sv[k].task];
        const uw_iov *p = &UW__IOV(&t->sc.iov)[k];
        const uint8_t *o = p->dst;
        if (p->status != 0 || uw__i32(o + al->fut_state) != al->state_pending ||
            uw__u64(o + al->task_coro) != w->coro || uw__u64(o + al->fut_loop) != w->loop ||
            (UW_RULE(recover_same_task) && uw__u64(o + al->task_name) != w->name_obj)) {
            uw_restore(t, s, &sv[k]);
            continue;
        }
        w->waiter = uw__u64(o + al->task_fut_waiter);
        w->name_obj = uw__u64(o + al->task_name);
        if (al->fut_awaited_by >= 0) {
            w->awaited_by = uw__u64(o + al->fut_awaited_by);
            w->awaited_by_is_set = o[al->fut_awaited_by_is_set] != 0;
        }
    }
    return 0;
}

/* The chains of the Tasks still marked, from the root, and their frames
 * resolved (all frames again when the chains were squeezed).  The levels
 * are served from the round's snapshot where they can be (snapshot.c:
 * pages of the chains as last read, read when these chains begin); first:
 * the sample's first round. */
static int uw_reread_chains(uw_tasks *t, int first)
{
    const int snap = uw__snap_round_begin(t, first) == 0;
    size_t i;
    int rc;

    for (i = 0; i < t->n_work; i++) {
        uw_task_work *w = &t->work[i];
        if (!w->recheck)
            continue;
        uw__chain_again(w);
        w->skipped = 0;
    }
    rc = uw__read_and_resolve_chains(t);
    if (snap)
        uw__snap_end(t);
    return rc;
}

/* Names and links of the Tasks still marked, then the check of them
 * alone. */
static int uw_reread_labels_and_check(uw_tasks *t, uw_sample *s)
{
    const int gather_cut = t->gather_cut;
    size_t i;
    int rc;

    if ((rc = uw__read_names(t, s)) != 0)
        return rc;
    for (i = 0; i < t->n_work; i++) {
        uw_task_work *w = &t->work[i];
        w->links_todo = w->recheck;
        if (w->recheck)
            uw__deps_drop(t, i);
    }
    rc = uw__read_awaiting(t);
    if (t->gather_cut && !gather_cut) {
        /* a gather bound met only because of the re-read: not the
         * sample's, and the Tasks it cut stay skipped */
        t->gather_cut = 0;
        for (i = 0; i < t->n_work; i++)
            if (t->work[i].recheck)
                t->work[i].links_cut = 1;
    }
    if (rc != 0)
        return rc;
    uw__deps_index(t);
    return uw__check(t, s);
}

/* The saved entry of Task i, read again in this round (sv is sorted by
 * Task). */
static const uw__saved *uw_saved_of(const uw__saved *sv, size_t n_sv, size_t i)
{
    size_t lo = 0, hi = n_sv;

    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (sv[mid].task < i)
            lo = mid + 1;
        else
            hi = mid;
    }
    UW_ASSERT(lo < n_sv && sv[lo].task == i);
    return &sv[lo];
}

/* The entry Task i will have after the round: its saved one if it was
 * read again and is not kept. */
static const uw_task_work *uw_final(const uw_tasks *t, const uw__saved *sv, size_t n_sv, size_t i)
{
    const uw__saved *x;

    if (!t->work[i].recheck)
        return &t->work[i];
    x = uw_saved_of(sv, n_sv, i);
    return x->keep ? &t->work[i] : &x->w;
}

/* Task i's entry as the first check left it. */
static const uw_task_work *uw_first(const uw_tasks *t, const uw__saved *sv, size_t n_sv, size_t i)
{
    return t->work[i].recheck ? &uw_saved_of(sv, n_sv, i)->w : &t->work[i];
}

/* Is Task p kept from this round at the instant Task x is (the round's;
 * in a check read in windows, x's window's)? */
static int uw_kept(const uw_tasks *t, const uw__saved *sv, size_t n_sv, size_t p, size_t x)
{
    return uw_final(t, sv, n_sv, p) == &t->work[p] && t->work[p].recheck &&
           (t->ck_nw == 0 || t->work[p].ck_win == t->work[x].ck_win);
}

/* Does a link of the table name the Task at addr as child or parent of
 * another Task of the sample, one not kept from this round? */
static int uw_linked(const uw_tasks *t, const uw__saved *sv, size_t n_sv, const uw_link *tab,
                     size_t n, size_t xi)
{
    const uint64_t addr = t->work[xi].addr;
    size_t j;

    for (j = 0; j < n; j++) {
        uint64_t other = tab[j].child == addr    ? tab[j].parent
                         : tab[j].parent == addr ? tab[j].child
                                                 : 0;
        int64_t o = other != 0 && other != addr ? uw__task_find(t, other) : -1;
        if (o >= 0 && !uw_kept(t, sv, n_sv, (size_t)o, xi))
            return 1;
    }
    return 0;
}

/* What a Task not kept from the round awaited as the round's check read
 * it (its span if it was read again, else its peer span): 0 when that is
 * not known (the two copies differ, or it was not read). */
static int uw_round_waiter(const uw_task_work *p, int windows, uint64_t *w1, uint64_t *ab1,
                           int *ab1_set)
{
    if (p->recheck && !windows) { /* read again, not kept: its span in the check */
        *w1 = p->waiter_now;
        *ab1 = p->ab_now;
        *ab1_set = p->ab_now_is_set;
        return p->span_known;
    }
    *w1 = p->peer_waiter;
    *ab1 = p->peer_ab;
    *ab1_set = p->peer_ab_set;
    return p->peer_ok;
}

/* Does Task q hold Task x at x's instant: kept from the round (the same
 * instant) with an edge to x, or frozen since the first check (its waiter
 * read the same then and in the round) with an edge to x then, which it
 * still has (it wakes only once x is done)?  Its waiter at x's instant in
 * *w1: x itself, or the gather holding x. */
static int uw_holds(const uw_tasks *t, const uw__saved *sv, size_t n_sv, size_t q, size_t xi,
                    uint64_t *w1)
{
    const int windows = t->ck_nw > 0;
    const uw_task_work *q0;
    uint64_t ab1;
    int ab1_set;

    if (q == xi)
        return 0;
    if (uw_kept(t, sv, n_sv, q, xi)) {
        *w1 = t->work[q].waiter_now;
        return uw__awaits_task(t, &t->work[q], xi) == 1;
    }
    q0 = windows ? uw_first(t, sv, n_sv, q) : uw_final(t, sv, n_sv, q);
    return uw_round_waiter(&t->work[q], windows, w1, &ab1, &ab1_set) &&
           q0->waiter_now != UW_WAITER_UNKNOWN && *w1 == q0->waiter_now &&
           uw__awaits_task(t, q0, xi) == 1;
}

/* The object through which the one Task that awaits Task x (kept from the
 * round) holds it at x's instant, and that Task in *qi; 0 when there is
 * no such Task to vouch for x's awaiters (rule recover_one_awaiter).
 *
 * Before 3.14, each awaiter relation adds one done callback to the Task
 * before its awaiter suspends on it, removed only once the Task is done:
 * a Task awaiting it directly its wakeup, a gather holding it the
 * gather's callback.  So a Task whose round's check read exactly one
 * callback, alike in both copies, has one relation at that instant; a
 * Task q that holds x then (uw_holds) holds it through that relation,
 * and its waiter is the relation's object: x itself, or the gather.  No
 * other Task awaits x at its instant, but one that awaits that very
 * object (a second awaiter of the gather), whatever it read as before or
 * after.  Where the round is read in windows, the others' waiters are
 * read after every window, not at x's: only a direct awaiter vouches
 * there (a second awaiter of x would add a second callback; one of a
 * gather would not).  From 3.14 the Task names its awaiter itself: one
 * Task, not a set, in both copies of its round's check, that holds it as
 * above, is its only awaiter.  Bounds: one pass over the sample's Tasks. */
static uint64_t uw_held_by(const uw_tasks *t, const uw__saved *sv, size_t n_sv, size_t xi,
                           size_t *qi)
{
    const uw_task_work *x = &t->work[xi];
    const int windows = t->ck_nw > 0;
    size_t i;
    uint64_t w1;

    if (t->al->fut_awaited_by >= 0) {
        const int64_t q = uw__task_find(t, x->ab_now);
        if ((UW_RULE(recover_one_awaiter) && !uw__one_named_awaiter(t, x)) || q < 0 ||
            !uw_holds(t, sv, n_sv, (size_t)q, xi, &w1))
            return 0;
        *qi = (size_t)q;
        return x->addr; /* its only awaiter: no other can be */
    }
    if (UW_RULE(recover_one_awaiter) && !x->one_callback)
        return 0;
    for (i = 0; i < t->n_work; i++) {
        if (!uw_holds(t, sv, n_sv, i, xi, &w1))
            continue;
        if (w1 == 0 || (windows && w1 != x->addr))
            return 0;
        *qi = i;
        return w1;
    }
    return 0;
}

/* With x held through `held` (uw_held_by), is Task p (not kept, p0 as
 * shown) surely not x's parent at x's instant?  Held directly, no other
 * Task can be; held by a gather, p must be read in the round awaiting
 * another object, and have awaited another one at the first check.  An
 * edge p0 showed to x still goes through the checks below (x's entry
 * would lose it). */
static int uw_held_elsewhere(const uw_tasks *t, const uw_task_work *p0, int ok, uint64_t w1,
                             uint64_t held, size_t xi)
{
    const uint64_t x = t->work[xi].addr;

    if (uw__awaits_task(t, p0, xi) == 1 || p0->waiter_now == x || (ok && w1 == x))
        return 0;
    if (held == x)
        return 1;
    return ok && w1 != held && p0->waiter_now != UW_WAITER_UNKNOWN && p0->waiter_now != held;
}

/* What uw_crosses asks of each other Task i about Task x: the round's
 * view of x (its kind of instant, and the one awaiter holding it). */
typedef struct uw_cross_x {
    const uw_task_work *x;
    size_t xi, held_i;
    uint64_t held;
    int windows, alone, unawaited;
} uw_cross_x;

/* Does Task i make Task x cross (uw_crosses): 1, or 0 when it is no
 * link of x to another instant? */
static int uw_cross_one(const uw_tasks *t, const uw__saved *sv, size_t n_sv, const uw_cross_x *c,
                        size_t i)
{
    const uw_task_work *x = c->x;
    const size_t xi = c->xi;
    const uw_task_work *p0 = c->windows ? uw_first(t, sv, n_sv, i) : uw_final(t, sv, n_sv, i);
    const uw_task_work *p = &t->work[i];
    uint64_t w1, ab1;
    int ok, aw, ab1_set;

    if (i == xi || uw_kept(t, sv, n_sv, i, xi))
        return 0;
    if (c->alone)
        return uw__awaits_task(t, p0, xi) == 1;
    /* 3.14+: it records x as its awaiter (x would be its parent) */
    if (p0->ab_ok && (p0->ab_now == x->addr || (p0->ab_now_is_set && p0->loop == x->loop)))
        return 1;
    if (c->unawaited) {
        /* Only who records x as its awaiter at x's instant matters:
         * its word, read alike in both copies of the round's check,
         * whatever else of it moved.  A word comes to name x only in
         * a step of x, which the check found standing, and leaves it
         * only in a callback after that Task is done, which its loop's
         * unmoved epoch rules out; so the word the copies agree on is
         * the one at x's instant. */
        const int alike = p->recheck ? p->ab_alike : p->peer_ab_alike;
        ab1 = p->recheck ? p->ab_seen[0] : p->peer_ab;
        ab1_set = p->recheck ? p->ab_seen_set[0] : p->peer_ab_set;
        if (!alike || ab1 == x->addr || (ab1_set && ab1 != 0))
            return 1;
        return uw__awaits_task(t, p0, xi) == 1;
    }
    ok = uw_round_waiter(p, c->windows, &w1, &ab1, &ab1_set);
    if (c->held != 0 && i != c->held_i && uw_held_elsewhere(t, p0, ok, w1, c->held, xi))
        return 0; /* not x's parent at x's instant: x has one, held */
    if (!ok || p0->waiter_now == UW_WAITER_UNKNOWN)
        return 1;
    /* 3.14+: it records x as its awaiter now (an edge from x not
     * shown: its word as the first check read it is another) */
    if (t->al->fut_awaited_by >= 0 && (ab1 == x->addr || (ab1_set && ab1 != 0)) &&
        !(p0->ab_ok && p0->ab_now == ab1 && p0->ab_now_is_set == ab1_set))
        return 1;
    aw = uw__awaits_task(t, p0, xi);
    if (aw < 0)
        return 1;
    if (w1 == p0->waiter_now)
        return 0; /* frozen: awaits what it awaited (x, or not) */
    return aw == 1 || w1 == x->addr || (w1 != 0 && uw__task_find(t, w1) < 0);
}

/* The Tasks uw_cross_one must be asked about, for every x of a round at
 * once (uw_cross_index): made when a round keeps many Tasks, since each
 * is asked about every Task of the sample, and a busy 3.14 loop's rounds
 * of 64 Tasks asked some 32,000 questions a round (a tenth of its warm
 * sample).  `all` lists the Tasks asked about every x; rel[first[r] ..
 * first[r + 1]) those asked about Task r only. */
typedef struct uw_cross_ix {
    const size_t *all, *first, *rel;
    size_t n_all;
} uw_cross_ix;

/* Does any Task asked about x answer 1 (uw_cross_one): every Task of the
 * sample, or with the round's index only those it lists for x (every
 * other would answer 0; with TORNSTACK_CHECK_INDEXES every Task is asked
 * too, and the answers must agree). */
static int uw_cross_any(const uw_tasks *t, const uw__saved *sv, size_t n_sv, const uw_cross_x *c,
                        const uw_cross_ix *ix)
{
    int crosses = 0;
    size_t i;

    if (ix == NULL) {
        for (i = 0; i < t->n_work && !crosses; i++)
            crosses = uw_cross_one(t, sv, n_sv, c, i);
        return crosses;
    }
    for (i = 0; i < ix->n_all && !crosses; i++)
        crosses = uw_cross_one(t, sv, n_sv, c, ix->all[i]);
    for (i = ix->first[c->xi]; i < ix->first[c->xi + 1] && !crosses; i++)
        crosses = uw_cross_one(t, sv, n_sv, c, ix->rel[i]);
#ifdef TORNSTACK_CHECK_INDEXES
    {
        int scan = 0;
        for (i = 0; i < t->n_work && !scan; i++)
            scan = uw_cross_one(t, sv, n_sv, c, i);
        UW_ASSERT(crosses == scan);
    }
#endif
    return crosses;
}

/* Would Task x (kept, shown at the round's instant) meet, through a
 * link, a Task shown at the first check's instant whose frames may have
 * moved in between?  The stacks compose a Task's frames with its
 * parents', so what a Task kept awaits, what records it as its awaiter
 * and what a link joins it to must be kept from the round too (the same
 * instant), and its own parents of the first instant must be frozen since
 * the first check: a Task whose fut_waiter (this Task, or a gather of it)
 * read the same then and now cannot have resumed.  Every other Task must
 * not have started or stopped awaiting it unseen: one whose fut_waiter
 * changed must not have awaited it then, nor await it now, nor await an
 * object that is not a Task (a new gather could hold it); none may record
 * it as its awaiter now (3.14+).  Every Task of the sample is looked at,
 * of every loop: the address of a Task that finished on one loop may hold
 * a new Task of another.  With the round's index (ix, not NULL) only the
 * Tasks it lists for x are asked: every other would answer 0. */
static int uw_crosses(const uw_tasks *t, const uw__saved *sv, size_t n_sv, size_t xi,
                      const uw_cross_ix *ix)
{
    const uw_task_work *x = &t->work[xi];
    const int windows = t->ck_nw > 0;
    /* Before 3.14, a Task with no done callback at its instant (its
     * window's, or the round's), or only one that no awaiter adds
     * (callbacks.c), is awaited by nothing then: no Task awaits it, no
     * gather or TaskGroup holds it (each adds its callback before its
     * Task suspends, and the callbacks go only once it is done).  Its
     * parents are then none at its instant, whatever the others did
     * after the first check: only an edge the first check showed to it
     * must not be (uw_linked still looks at the link tables).  From 3.14
     * the others' awaited_by words name its children, so it is not alone
     * (below).  Windows are read before 3.14 only (uw__recover_windows). */
    const int alone = t->al->fut_awaited_by < 0 && uw__awaited_by_none(t, x);
    /* From 3.14, a Task whose awaiters the round's check read empty
     * (both copies alike, its epoch unmoved) is awaited by nothing at its
     * instant, and by nothing since the first check either: an awaiter,
     * or a gather or TaskGroup holding it, is recorded there before it
     * suspends on it and removed only once the Task is done (edges.c),
     * and the round found the same pending Task.  What the others'
     * fut_waiters did in between cannot give it a parent unseen then:
     * only an edge the first check showed to it, and a Task recording it
     * as its own awaiter at either instant (its child), still must not
     * be. */
    const int unawaited =
        !windows && t->al->fut_awaited_by >= 0 && uw__awaited_by_none(t, x) && !x->ab_now_is_set;
    size_t i, held_i = SIZE_MAX;
    int64_t one = uw__task_find(t, x->waiter_now);
    uint64_t held;
    uw_cross_x c;

    /* it awaits a Task of another instant */
    for (i = 0; i < x->n_kid; i++)
        if (!uw_kept(t, sv, n_sv, UW__SIZE(&t->sc.kids)[x->first_kid + i], xi))
            return 1;
    if (one >= 0 && !uw_kept(t, sv, n_sv, (size_t)one, xi))
        return 1;
    if (x->ab_ok && x->ab_now_is_set)
        return 1; /* a set of awaiters: who they are is read later */
    /* In windows, the others are compared as the first check read them,
     * before every window, and as the spans read after every window: a
     * Task whose fut_waiter reads the same in both did not resume while
     * x was read, if x was still pending, the same Task, after them too
     * (a Task awaiting it, or a gather of it, wakes only once it is
     * done). */
    if (windows && !alone && !(x->peer_ok && x->peer_same))
        return 1;
    /* its one awaiter, if one vouches for it (a pass over the Tasks,
     * made only for a Task the checks above kept) */
    held = alone || unawaited ? 0 : uw_held_by(t, sv, n_sv, xi, &held_i);
    c = (uw_cross_x){x, xi, held_i, held, windows, alone, unawaited};
    if (uw_cross_any(t, sv, n_sv, &c, ix))
        return 1;
    /* 3.14+: the awaiter x records must be frozen as above, so one of
     * the Tasks whose edges already include x */
    if (x->ab_ok && x->ab_now != 0) {
        int64_t p = uw__task_find(t, x->ab_now);
        if (p >= 0 && !uw_kept(t, sv, n_sv, (size_t)p, xi) &&
            uw__awaits_task(
                t, windows ? uw_first(t, sv, n_sv, (size_t)p) : uw_final(t, sv, n_sv, (size_t)p),
                xi) != 1)
            return 1;
    }
    return uw_linked(t, sv, n_sv, t->links, t->n_links, xi) ||
           uw_linked(t, sv, n_sv, t->hook, t->n_hook, xi);
}

/* Mark as peers the Tasks not read again (their spans go in the round's
 * check): all of them, of every loop, since a Task freed on one loop
 * leaves its address to a Task of any other. */
static void uw_mark_peers(uw_tasks *t)
{
    size_t i;

    for (i = 0; i < t->n_work; i++)
        t->work[i].peer = !t->work[i].recheck;
}

/* Did the hook's records read otherwise than decided at Task w's
 * instant: in its window, or anywhere in a round read in one piece? */
static int uw_hook_moved_for(const uw_tasks *t, const uw_task_work *w)
{
    if (w->round_hook)
        return 1;
    if (t->ck_nw > 0)
        return w->ck_win >= 64 || ((t->round_hook_moved >> w->ck_win) & 1) != 0;
    return t->round_hook_moved != 0;
}

/* Tasks one Task names beside its kids (uw_cross_named). */
#define UW_CROSS_NAMED 5

/* The Tasks Task p (not read again in the round: it stands as the first
 * check left it, throughout the round) names, each a Task x for which
 * uw_cross_one may answer 1 through a word of p: the one Task it awaits,
 * its awaiter word, its waiter, and its waiter and awaiter words as the
 * round read them; into r[] (at most UW_CROSS_NAMED), and its kids too
 * when *kids is set (p->first_kid, n_kid).  Returns their count, or
 * SIZE_MAX when p may answer 1 for a Task it does not name, so that it
 * is asked about every x: what it awaits not known for some Task (its
 * waiter unknown, a gather list cut), an awaiter word naming a set (a
 * loop's every Task), a round's awaiter word read otherwise in its two
 * copies or naming a set not its own before, its round's waiter not
 * known or unknown before, or a round's waiter that is no Task of the
 * sample.  Each is a condition under which uw_cross_one answers 1
 * whatever x is; its every other answer 1 compares a word of p with x. */
static size_t uw_cross_named(const uw_tasks *t, const uw_task_work *p, int64_t *r, int *kids)
{
    const int windows = t->ck_nw > 0, aby = t->al->fut_awaited_by >= 0;
    uint64_t w1, ab1, named[4];
    int64_t one;
    int ok, ab1_set;
    size_t n = 0, k;

    UW_ASSERT(!p->recheck);
    if (uw__awaits_named(t, p, &one, kids) || (p->ab_ok && p->ab_now_is_set))
        return SIZE_MAX;
    ok = uw_round_waiter(p, windows, &w1, &ab1, &ab1_set);
    if (aby && !windows && (!p->peer_ab_alike || (ab1_set && ab1 != 0)))
        return SIZE_MAX; /* the unawaited question */
    if (!ok || p->waiter_now == UW_WAITER_UNKNOWN ||
        (aby && ab1_set && ab1 != 0 &&
         !(p->ab_ok && p->ab_now == ab1 && p->ab_now_is_set == ab1_set)) ||
        (w1 != p->waiter_now && w1 != 0 && uw__task_find(t, w1) < 0))
        return SIZE_MAX;
    if (one >= 0)
        r[n++] = one;
    named[0] = p->ab_ok ? p->ab_now : 0;
    named[1] = p->waiter_now;
    named[2] = w1;
    named[3] = ab1;
    for (k = 0; k < 4; k++) {
        const int64_t q = named[k] != 0 ? uw__task_find(t, named[k]) : -1;
        if (q >= 0)
            r[n++] = q;
    }
    UW_ASSERT(n <= UW_CROSS_NAMED);
    return n;
}

/* The round's index for uw_crosses (uw_cross_ix), in the views cross_*:
 * every Task read again in the round is asked about every x (its entry
 * may change as others are dropped), and so is every other Task that may
 * answer 1 for a Task it does not name (uw_cross_named); each other Task
 * is listed under each Task it names.  1 when made; 0 when not (addresses
 * met twice, which the lookups by address cannot tell apart, or a view
 * refused): uw_crosses then asks every Task, with the same answers.
 * Bounds: two passes over the sample's Tasks; UW_CROSS_NAMED names and
 * the kids a Task (UW_CROSS_REL_MAX in all). */
static int uw_cross_index(uw_tasks *t, uw_cross_ix *ix)
{
    size_t i, k, n_all = 0, n_rel = 0, *all, *first, *rel;
    int64_t r[UW_CROSS_NAMED];
    int kids;

    if (t->work_mask == 0 || uw__view_reserve(&t->sc.cross_all, t->n_work) != 0 ||
        uw__view_reserve(&t->sc.cross_at, t->n_work + 1) != 0)
        return 0;
    all = UW__SIZE(&t->sc.cross_all);
    first = UW__SIZE(&t->sc.cross_at);
    memset(first, 0, (t->n_work + 1) * sizeof *first);
    /* first[q + 1]: how many Tasks name q */
    for (i = 0; i < t->n_work; i++) {
        const uw_task_work *p = &t->work[i];
        size_t n = p->recheck ? SIZE_MAX : uw_cross_named(t, p, r, &kids);
        if (n == SIZE_MAX) {
            all[n_all++] = i;
            continue;
        }
        for (k = 0; k < n; k++)
            first[r[k] + 1]++;
        for (k = 0; kids && k < p->n_kid; k++)
            first[UW__SIZE(&t->sc.kids)[p->first_kid + k] + 1]++;
    }
    for (i = 0; i < t->n_work; i++)
        first[i + 1] += first[i];
    n_rel = first[t->n_work];
    if (uw__view_reserve(&t->sc.cross_rel, n_rel) != 0)
        return 0;
    rel = UW__SIZE(&t->sc.cross_rel);
    /* fill each list from its start, first[q] moving on to its end ... */
    for (i = 0; i < t->n_work; i++) {
        const uw_task_work *p = &t->work[i];
        size_t n;
        if (p->recheck || (n = uw_cross_named(t, p, r, &kids)) == SIZE_MAX)
            continue;
        for (k = 0; k < n; k++)
            rel[first[r[k]]++] = i;
        for (k = 0; kids && k < p->n_kid; k++)
            rel[first[UW__SIZE(&t->sc.kids)[p->first_kid + k]]++] = i;
    }
    /* ... and back: first[q] is now where list q + 1 begins */
    for (i = t->n_work; i > 0; i--)
        first[i] = first[i - 1];
    first[0] = 0;
    *ix = (uw_cross_ix){all, first, rel, n_all};
    return 1;
}

/* A round keeping at least this many Tasks gets its index (uw_cross_index):
 * below, asking every Task costs less than making it. */
#define UW_CROSS_INDEX_MIN 8

/* Which Tasks that passed the round's check are kept: the same Task
 * (its name as first shown), and no link to a Task of another instant
 * (uw_crosses), until no more is dropped (dropping one makes it a Task
 * of the first instant for the others). */
static void uw_choose(uw_tasks *t, const uw_sample *s, uw__saved *sv, size_t n_sv, int rc)
{
    uw_cross_ix ix;
    const uw_cross_ix *use = NULL;
    size_t k, n_keep;
    int dropped;

    for (k = 0; k < n_sv; k++) {
        const uw_task_work *w = &t->work[sv[k].task];
        sv[k].keep =
            rc == 0 && !(UW_RULE(recover_hook_same) && uw_hook_moved_for(t, w)) && w->recheck &&
            w->skipped == 0 && uw_idle_stood(t, s, w) &&
            (!UW_RULE(recover_same_task) || strcmp(s->tasks[w->out].name, sv[k].name) == 0);
    }
    if (!UW_RULE(recover_frozen_links))
        return;
    for (k = 0, n_keep = 0; k < n_sv; k++)
        n_keep += (size_t)sv[k].keep;
    if (n_keep >= UW_CROSS_INDEX_MIN && uw_cross_index(t, &ix))
        use = &ix;
    do {
        dropped = 0;
        for (k = 0; k < n_sv; k++)
            if (sv[k].keep && uw_crosses(t, sv, n_sv, sv[k].task, use)) {
                sv[k].keep = 0;
                dropped = 1;
            }
    } while (dropped);
}

/* One round over the Tasks the check skipped for a change: returns 0
 * (some may be kept), or an error of the sample (UW_ERR_NOMEM). */
static int uw_recover_round(uw_tasks *t, uw_sample *s, uw__saved *sv, size_t n_sv, int first,
                            size_t *kept)
{
    size_t k;
    int rc;

    *kept = 0;
    t->round_idle = 0;
    for (k = 0; k < n_sv; k++) {
        t->round_idle |= uw_on_idle_stack(s, &t->work[sv[k].task]);
        t->work[sv[k].task].recheck = 1;
        t->work[sv[k].task].round_hook = 0;
        sv[k].keep = 0;
        if (uw_was_running(&t->work[sv[k].task]))
            uw_as_suspended(&t->work[sv[k].task]);
    }
    t->recovering = 1;
    t->round_hook_moved = 0;
    rc = uw_reread_objects(t, s, sv, n_sv);
    if (rc == 0)
        rc = uw_reread_chains(t, first);
    for (k = 0; rc == 0 && k < n_sv; k++) {
        const uw_task_work *w = &t->work[sv[k].task];
        if (w->recheck && (w->skipped != 0 || uw_resumed(t, w)))
            uw_restore(t, s, &sv[k]); /* no sane chain, or it runs now */
    }
    uw_mark_peers(t);
    if (rc == 0)
        rc = uw_reread_labels_and_check(t, s);
    t->recovering = 0;
    t->round_idle = 0;
    uw_choose(t, s, sv, n_sv, rc);
    for (k = 0; k < n_sv; k++) {
        uw_task_work *w = &t->work[sv[k].task];
        if (!w->recheck)
            continue;
        if (sv[k].keep) {
            s->recovered[uw_reason_slot(sv[k].w.skipped)]++;
            (*kept)++;
        } else
            uw_restore(t, s, &sv[k]);
    }
    for (k = 0; k < t->n_work; k++)
        t->work[k].recheck = t->work[k].peer = 0;
    t->ck_nw = 0;
    /* a bound of the views: the Tasks stay skipped, the sample goes on */
    return rc == UW_ERR_CAPACITY ? 0 : rc;
}

/* A recovery round's check is read in windows where the reader's
 * ordered groups share a call (reader.h): elsewhere each window would
 * cost calls of its own, and the round reads as one.  Before 3.14 only:
 * from 3.14 a Task read again is kept only if no other Task records it
 * as its awaiter at its instant (uw_crosses), which a read of the others
 * after every window cannot tell for every window (one that recorded it
 * may be gone by then).  The hook module's records are read in both
 * copies of every window, to see they are still, at each window's
 * instant, what the links shown were decided from (check.c,
 * uw_judge_round_hook): past UW_RECOVER_HOOK_WINDOWED bytes of them the
 * round is read in one piece instead. */
#define UW_RECOVER_HOOK_WINDOWED 4096
_Static_assert(UW_RECOVER_WINDOWS <= 64, "a round's windows: a bit each in round_hook_moved");
int uw__recover_windows(const uw_tasks *t)
{
    return !t->r->group_calls && t->al->fut_awaited_by < 0 &&
           t->hook_len <= UW_RECOVER_HOOK_WINDOWED;
}

/* A round for at most this many Tasks is tried even after a check that
 * saw its loop start several callbacks: its read is a few of their
 * objects and chains, microseconds long, so the loop that stepped during
 * the long first read seldom steps during it. */
#define UW_RECOVER_FEW 32

int uw__busy_round_may(uint64_t reads)
{
    return reads < UW_RECOVER_BUSY_READS;
}

int uw__round_may(uint64_t reads)
{
    return reads < UW_RECOVER_READS;
}

int uw__busy_picked(size_t ord, size_t total, size_t turn)
{
    UW_ASSERT(ord < total);
    return total <= UW_RECOVER_BUSY_TASKS ||
           (ord + total - turn % total) % total < UW_RECOVER_BUSY_TASKS;
}

/* Rounds while some Task is left to recover (opt.recover at most). */
int uw__recover(uw_tasks *t, uw_sample *s)
{
    uw__saved *sv;
    size_t n_sv, i, kept;
    uint32_t round;
    int rc = 0, busy = 0;
    /* never past the bound: the links' scratch is sized for it; fewer
     * where each ordered group is a call */
    const uint32_t bound = t->r->group_calls ? UW_RECOVER_ROUNDS_SPLIT : UW_RECOVER_ROUNDS;

    for (round = 0; round < t->opt.recover && round < bound && rc == 0; round++) {
        int only = 0;
        int capped = 0;
        size_t total, ord;
        if (!uw__round_may(uw__sample_reads(t)))
            break; /* the sample's reads leave no room for a round */
        busy |= t->ck_busy;
        for (i = 0, n_sv = 0; i < t->n_work; i++)
            n_sv += (size_t)uw_recoverable(t, s, &t->work[i], 0, busy);
        if (n_sv > UW_RECOVER_FEW && busy) {
            /* A busy loop: read in windows (before 3.14), only a Task
             * nothing awaited at the check can be kept, or (3.14+) one
             * whose one awaiter its own word names (uw_held_by), since
             * most others of such a loop have moved since the first check
             * (uw_crosses); the others would only cost the round its
             * calls.  The loop stays busy for the sample's later rounds:
             * a windowed round's check cannot say so (it clears ck_busy),
             * and a round of every Task left after it, read in one piece
             * on such a loop, kept none of some 290 a sample on the busy
             * program (3.13) for most of the sample's reads. */
            const int windowed = uw__recover_windows(t);
            if (!windowed &&
                (t->al->fut_awaited_by < 0 || !uw__busy_round_may(uw__sample_reads(t))))
                break;
            only = 1;
            for (i = 0, n_sv = 0; i < t->n_work; i++)
                n_sv += (size_t)uw_recoverable(t, s, &t->work[i], 1, busy);
            /* From 3.14 such a round is read in one piece; on the busy
             * bias program it kept about half the Tasks it read again,
             * and the skips went from 5.8-6.9 to 2.3-3.9 % (3.14.8) and
             * from 5.0-5.5 to 2.5-2.9 % (3.15.0; docs/tasks.md).  Its
             * Tasks are the candidates from busy_turn on, round the
             * list. */
            capped = !windowed;
        }
        if (n_sv == 0)
            break;
        rc = uw__view_reserve(&t->sc.saved, n_sv);
        if (rc != 0)
            return rc == UW_ERR_CAPACITY ? 0 : rc;
        sv = (uw__saved *)(void *)t->sc.saved.p;
        total = n_sv;
        for (i = 0, n_sv = 0, ord = 0; i < t->n_work; i++) {
            if (!uw_recoverable(t, s, &t->work[i], only, busy))
                continue;
            if (capped && !uw__busy_picked(ord++, total, t->busy_turn))
                continue;
            sv[n_sv].task = i;
            sv[n_sv].w = t->work[i];
            memcpy(sv[n_sv].name, s->tasks[t->work[i].out].name, sizeof sv[n_sv].name);
            n_sv++;
        }
        if (capped && total > UW_RECOVER_BUSY_TASKS)
            t->busy_turn += UW_RECOVER_BUSY_TASKS;
        rc = uw_recover_round(t, s, sv, n_sv, round == 0, &kept);
        /* a round that kept none is not tried again, nor one whose check
         * saw its loop start several callbacks, unless few Tasks are left
         * (above): the next would be read over as long a stretch of a
         * loop as busy.  Nor is one that kept fewer than one in
         * UW_RECOVER_YIELD of its Tasks: on the busy program (3.12.1,
         * some 540 Tasks) rounds of some nine Tasks kept one in thirty,
         * and the second and third rounds cost a warm sample 7 of its 70
         * calls, 0.8 of its 6.1 MB and a tenth of its time for no Task
         * kept that the skips could tell (race program: no change).
         * But a round of at most UW_RECOVER_AGAIN Tasks is followed by
         * another whatever it kept: it costs a few calls, and a Task of a
         * loop that switches every few microseconds, caught stepping by
         * one round, most often stands through the next */
        if ((kept == 0 || kept * UW_RECOVER_YIELD < n_sv) && n_sv > UW_RECOVER_AGAIN)
            break;
    }
    return rc;
}
