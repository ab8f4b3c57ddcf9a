/*
 * awaited_by.c — 3.14+: awaiting edges as CPython records them.
 *
 * From 3.14 a Future or Task keeps who awaits it in its awaited_by field:
 * NULL, one awaiter, or (awaited_by_is_set) a set of them.  The Task's own
 * step records the Task that awaits a Future or Task directly, and gather,
 * wait, shield, as_completed, TaskGroup and staggered_race record the Task
 * that called them for each child, so the parents of gather and TaskGroup
 * children are in memory, no hook needed.  Each awaiter that is a Task of
 * the sample gives an awaiting edge (parent awaits child), merged with the
 * edges read from fut_waiter (edges.c); the parent rules are unchanged.
 *
 * The awaited_by word and flag come from the Task object discovery read,
 * and the chain check reads them again, twice (check.c): the edges are
 * made from the check's word, when copies A and B agree on it and on the
 * Task (its coroutine and loop) and the loop's epoch did not move, so an
 * edge holds at the check's instant, the instant of every kept Task's
 * entry.  A child skipped for its frames or its place (it stepped since
 * it was read, its loop stepped since the walk, it was not found on the
 * stack, its awaiter is unknown, ...) still names its awaiter: its word
 * was read alike in both copies at the check's instant, and a parent
 * would otherwise show fewer children than it had at any instant.  One
 * skipped for what it is (no sane coroutine, an unreadable object, a root
 * frame running other code) gives no edge: the sample shows no Task at
 * that address to hang under a parent.  Nor does one whose word is not
 * kept (it changed between the copies, or the object holds another Task
 * by the check: the one read was freed and another made at its address).
 * But a Task of the sample that a copy of either names may have had that
 * child at the check, which the sample does not show as its own, so its
 * children are not known: it is skipped (awaiter_unknown) rather than
 * shown with fewer.  The model found both, on 3.14: a TaskGroup child
 * that named its parent in copy B only, the parent kept without it; and
 * a TaskGroup child made at the address of a Task the sample had read
 * before it was freed, skipped for its coroutine, that named its parent
 * in both copies (corpus/race/regress, INDEX).
 *
 * A Task placed on the thread stack shows the walk's frames, read before
 * its children's words: it may have made children (or gathered Tasks)
 * since, which name it at the check but did not at the walk.  So it is
 * shown with what names it only if the check read its thread's current
 * frame and each of its own frames again as the walk's (same code, same
 * line), in both copies, in the walk's callback (check.c, frames_now);
 * otherwise it is skipped (running_task_frames_changed), showing fewer
 * children being no truer.  Within one callback of its own step nothing
 * removes it from a child's awaited_by (the discards run in done
 * callbacks, and the one for what it awaited ran before its step), so a
 * child that names it in both copies named it throughout between them,
 * at copy B's reading of its frames, which were the walk's: one instant
 * with those frames and those children.  A set's members are read once
 * (set object, then its table), and only members that are Tasks of this
 * sample make edges.  Bounds: UW_LIMIT_AWAITED_BY edges per sample, at
 * most UW_LIMIT_GATHER_CHILDREN members per set.  An edge beyond either
 * is not made, and nothing is shown as if it had not been there: the
 * child, whose awaiters are then not all known, is skipped
 * (awaiter_unknown) rather than shown awaited by fewer Tasks or, with its
 * only awaiter lost, as a root of its own; the parent whose edge was
 * dropped, its children not all known, is skipped too; and the sample
 * says awaited_by_limit (rule ab_unread_unknown).  A set whose members
 * cannot be read (torn, not a set, unreadable) skips its child the same
 * way; running out of memory fails the sample, as the gathers' reading
 * does, rather than lose edges silently.
 */
#include <stdlib.h>
#include <string.h>

#include "internal/pyobj.h"
#include "internal/rules.h"
#include "tasks_int.h"
#include "tornstack/error.h"

/* Task w's awaiters, or (as a parent) its children, are not all known:
 * some were past a bound or could not be read. */
static void uw_ab_unread(uw_tasks *t, int64_t w)
{
    if (w >= 0 && t->work[w].skipped == 0 && t->opt.skip && UW_RULE(ab_unread_unknown))
        t->work[w].skipped = UW_SKIP_AWAITER_UNKNOWN;
}

/* Record edge parent -> child (work indices).  A parent that ran at the
 * walk's instant whose frames the check did not read again as the walk's
 * is skipped (running_task_frames_changed): no instant has its frames
 * with its children.  The edge is made all the same: it holds at the
 * check, the child's instant.  Past UW_LIMIT_AWAITED_BY edges it is not
 * made: both Tasks are skipped and the sample says awaited_by_limit.
 * Returns 0, or UW_ERR_NOMEM. */
static int uw_pair(uw_tasks *t, int64_t parent, size_t child)
{
    uw__lists *ls = &t->ls;
    uw_task_work *p;
    int rc;

    if (parent < 0 || (size_t)parent == child)
        return 0;
    p = &t->work[parent];
    if (p->on_stack && !p->frames_now && p->skipped == 0 && t->opt.skip &&
        UW_RULE(skip_running_torn))
        p->skipped = UW_SKIP_RUNNING_TORN;
    rc = uw__view_reserve(&ls->pairs, ls->n_pairs + 1);
    if (rc == UW_ERR_CAPACITY) {
        t->ab_cut = 1;
        uw_ab_unread(t, parent);
        uw_ab_unread(t, (int64_t)child);
        return 0;
    }
    if (rc != 0)
        return rc;
    ((uw__ab_pair *)(void *)ls->pairs.p)[ls->n_pairs++] = (uw__ab_pair){(size_t)parent, child};
    return 0;
}

static int uw_cmp_pair(const void *a, const void *b)
{
    const uw__ab_pair *x = a, *y = b;

    if (x->parent != y->parent)
        return x->parent < y->parent ? -1 : 1;
    return x->child < y->child ? -1 : x->child > y->child;
}

/* Task p (work index) had a child at the check that the sample cannot
 * show as its own: what it awaits is not known. */
static void uw_children_unknown(uw_tasks *t, int64_t p)
{
    if (p >= 0 && t->work[p].skipped == 0 && t->opt.skip && UW_RULE(ab_other_parent))
        t->work[p].skipped = UW_SKIP_AWAITER_UNKNOWN;
}

/* The members of Task `child`'s awaiter set, as edges (child < 0: a set
 * named by a word not kept, whose members have children not known:
 * uw_children_unknown).  A set cut at UW_LIMIT_GATHER_CHILDREN members
 * gives the edges of those read, and its child is skipped (the sample
 * says awaited_by_limit); one that cannot be read gives none, and its
 * child is skipped.  Returns 0, or UW_ERR_NOMEM. */
static int uw_set_members(uw_tasks *t, int64_t child, uint64_t set)
{
    size_t k, nk = 0;
    int rc;

    if ((rc = uw__view_reserve(&t->sc.children, UW_LIMIT_GATHER_CHILDREN)) != 0)
        return rc;
    rc = uw__set_keys(&t->pc, set, UW__U64(&t->sc.children), UW_LIMIT_GATHER_CHILDREN, &nk);
    if (rc == UW_ERR_NOMEM)
        return rc;
    if (rc == UW_ERR_CAPACITY)
        t->ab_cut = 1;
    if (rc != 0) {
        uw_ab_unread(t, child);
        if (rc != UW_ERR_CAPACITY)
            return 0;
    }
    for (k = 0; k < nk; k++) {
        int64_t member = uw__task_find(t, UW__U64(&t->sc.children)[k]);
        if (child < 0)
            uw_children_unknown(t, member);
        else if ((rc = uw_pair(t, member, (size_t)child)) != 0)
            return rc;
    }
    return 0;
}

/* Was Task w skipped for what it is, not for its frames or its place? */
static int uw_skipped_as_object(const uw_task_work *w)
{
    return w->skipped == UW_SKIP_BAD_CORO || w->skipped == UW_SKIP_TASK_UNREADABLE ||
           w->skipped == UW_SKIP_CODE_MISMATCH;
}

/* Every Task's awaiter(s) into edges, sorted by parent.  A single awaiter
 * costs nothing more (it is the Task's own word); a set costs its reads.
 * A bound met on the way is the sample's awaited_by_limit. */
int uw__awaited_by_read(uw_tasks *t, uw_sample *s)
{
    uw__lists *ls = &t->ls;
    size_t i;
    int rc;

    ls->n_pairs = 0;
    t->ab_cut = 0;
    if (t->al->fut_awaited_by < 0)
        return 0;
    if ((rc = uw__view_reserve(&ls->mark, t->n_work)) != 0)
        return rc;
    memset(ls->mark.p, 0, t->n_work * sizeof(uint64_t));
    for (i = 0; i < t->n_work; i++) {
        const uw_task_work *w = &t->work[i];
        if (!w->ab_ok || uw_skipped_as_object(w)) {
            int k;
            for (k = 0; k < 2; k++) {
                if (w->ab_seen[k] == 0)
                    continue;
                if (w->ab_seen_set[k]) {
                    if ((rc = uw_set_members(t, -1, w->ab_seen[k])) != 0)
                        return rc;
                } else
                    uw_children_unknown(t, uw__task_find(t, w->ab_seen[k]));
            }
            continue;
        }
        if (w->ab_now == 0)
            continue; /* no awaiter at the check */
        if (w->ab_now_is_set)
            rc = uw_set_members(t, (int64_t)i, w->ab_now);
        else
            rc = uw_pair(t, uw__task_find(t, w->ab_now), i);
        if (rc != 0)
            return rc;
    }
    if (ls->n_pairs > 1)
        qsort(ls->pairs.p, ls->n_pairs, sizeof(uw__ab_pair), uw_cmp_pair);
    if (t->ab_cut && s->tasks_error == 0)
        s->tasks_error = UW_ERR_LIMIT_AWAITED_BY;
    return 0;
}

int uw__awaited_by_edges(uw_tasks *t, uw_sample *s, size_t i, size_t first)
{
    const uw__ab_pair *p = (const uw__ab_pair *)(const void *)t->ls.pairs.p;
    uint64_t *mark = UW__U64(&t->ls.mark);
    size_t lo = 0, hi = t->ls.n_pairs, k, j;
    int rc;

    while (lo < hi) { /* the first pair of parent i */
        size_t mid = (lo + hi) / 2;
        if (p[mid].parent < i)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == t->ls.n_pairs || p[lo].parent != i)
        return 0;
    /* mark the edges Task i has (work index == sample index), then add
     * the others once each */
    for (j = first; j < s->n_awaiting; j++)
        if (s->awaiting[j] < t->n_work)
            mark[s->awaiting[j]] = (uint64_t)i + 1;
    for (k = lo; k < t->ls.n_pairs && p[k].parent == i; k++) {
        size_t child = t->work[p[k].child].out;
        if (child >= t->n_work || mark[child] == (uint64_t)i + 1)
            continue;
        mark[child] = (uint64_t)i + 1;
        if ((rc = uw_sample_add_awaiting(s, child)) != 0)
            return rc;
    }
    return 0;
}
