/*
 * edges.c — who awaits whom, and each Task's parent.
 *
 * `awaiting` comes from what gather.c read and the chain check confirmed:
 * a Task's fut_waiter, a Task, or a gather future whose children are
 * Tasks (nested gathers flattened, in list order).  A Task placed on the
 * thread stack (and kept) awaits nothing: its entry is the walk's instant,
 * when it ran, and a running Task's fut_waiter is cleared; skipped, it
 * awaits what the check read, as any other Task.  A Task whose links read
 * differently in the check (it stepped) shows none; if its fut_waiter at
 * the check is known (nothing, or a Task) that is what it awaits then; if
 * not (a new gather or future), every Task of its loop could be awaited by
 * it unseen, so those with no known awaiter are skipped (awaiter_unknown)
 * rather than shown awaited by nobody.  A Task whose gather list a bound
 * cut (gather.c) shows the Tasks read before the cut, and counts as
 * awaiting who-knows-what for the others of its loop.  From 3.14 a Task whose awaited_by
 * the check read empty (copies alike, the epoch unmoved) is not among
 * them: whoever awaits it, or a gather of it, is recorded there before it
 * suspends on it and removed only when it wakes, after the Task is done
 * (awaited_by.c), so at the check's instant nothing awaited it.
 *
 * From 3.14 each Task also records its awaiters (awaited_by.c), which adds
 * the edges of gather, wait, shield, TaskGroup and the like, from Tasks the
 * check kept.
 *
 * Strong links (gather, wait, shield, as_completed, TaskGroup) and
 * creation links come from the link tables (links.c); a hook record counts
 * only if it read the same in the check.  They count only between Tasks of
 * the sample.  A Task's parent is its awaiter, else its strong link, else
 * its creation link (rules parent_awaiter_first, parent_strong_first).
 */
#include "internal/rules.h"
#include "tasks_int.h"
#include "tornstack/error.h"

/* What Task w awaited at the check, as far as known: its kids (links
 * checked), the one Task its fut_waiter named then, or nothing.  Returns
 * 0 known (*first, *n into kids, or *one), 1 unknown. */
static int uw_awaits(const uw_tasks *t, const uw_task_work *w, int64_t *one)
{
    *one = -1;
    if ((w->on_stack && w->skipped == 0) || w->links_ok)
        return 0;
    if (w->waiter_now == UW_WAITER_UNKNOWN)
        return 1;
    if (w->waiter_now == 0 || w->waiter_plain)
        return 0; /* nothing, or a Future that holds no Task (plain.c) */
    *one = uw__task_find(t, w->waiter_now);
    return *one < 0;
}

/* Awaited by nothing at its (last) check, as its own span read there:
 * from 3.14, no awaiter recorded (the word read alike in both copies, the
 * same Task); before, no done callback in either copy (awaiting a Task,
 * gathering it or joining it to a TaskGroup adds one first, removed only
 * once it is done), or only one that no awaiter adds (callbacks.c). */
int uw__awaited_by_none(const uw_tasks *t, const uw_task_work *w)
{
    if (t->al->fut_awaited_by >= 0)
        return w->ab_ok && w->ab_now == 0;
    return !UW_RULE(unawaited_no_callbacks) || w->no_callbacks || w->cb_harmless;
}

int uw__one_named_awaiter(const uw_tasks *t, const uw_task_work *w)
{
    return t->al->fut_awaited_by >= 0 && w->ab_ok && !w->ab_now_is_set && w->ab_now != 0 &&
           uw__task_find(t, w->ab_now) >= 0;
}

int uw__awaits_named(const uw_tasks *t, const uw_task_work *w, int64_t *one, int *kids)
{
    *kids = 0;
    if (uw_awaits(t, w, one) != 0)
        return 1;
    if (*one >= 0)
        return 0;
    if (w->links_ok && !(w->on_stack && w->skipped == 0)) {
        *kids = 1;
        return w->gather_cut; /* past the cut: -1 */
    }
    return 0;
}

/* uw__awaits_named's answer for one x. */
int uw__awaits_task(const uw_tasks *t, const uw_task_work *w, size_t x)
{
    int64_t one;
    size_t k;
    int kids;
    const int unknown = uw__awaits_named(t, w, &one, &kids);

    if (unknown && !kids)
        return -1;
    if (one >= 0)
        return (size_t)one == x;
    for (k = 0; kids && k < w->n_kid; k++)
        if (UW__SIZE(&t->sc.kids)[w->first_kid + k] == x)
            return 1;
    return unknown ? -1 : 0; /* x may be past the cut */
}

/* Threads whose Tasks may be awaited unseen, gathered in one pass before
 * the Tasks are marked: a busy loop has hundreds of Tasks that step while
 * read, and marking every Task of the thread for each of them was
 * quadratic.  Past this many distinct threads, one more is marked on its
 * own (a pass over the Tasks each). */
#define UW_UNSURE_THREADS 16

static int uw_thread_listed(const size_t *list, size_t n, size_t thread)
{
    size_t j;

    for (j = 0; j < n; j++)
        if (list[j] == thread)
            return 1;
    return 0;
}

static void uw_mark_unsure(uw_tasks *t, const size_t *list, size_t n)
{
    size_t k;

    for (k = 0; k < t->n_work; k++)
        if (uw_thread_listed(list, n, t->work[k].thread))
            t->work[k].await_unsure = 1;
}

/* Thread `thread` may have Tasks awaited unseen: listed once in
 * unsure[0..*n), or marked on its own once the list is full. */
static void uw_unsure_add(uw_tasks *t, size_t *unsure, size_t *n, size_t thread)
{
    if (uw_thread_listed(unsure, *n, thread))
        return;
    if (*n < UW_UNSURE_THREADS)
        unsure[(*n)++] = thread;
    else
        uw_mark_unsure(t, &thread, 1);
}

void uw__awaiting_verdict(uw_tasks *t)
{
    size_t unsure[UW_UNSURE_THREADS], n_unsure = 0;
    size_t i, k;
    int64_t one;

    /* pending marks, per thread: a Task awaiting who-knows-what */
    for (i = 0; i < t->n_work; i++)
        t->work[i].awaited = 0;
    for (i = 0; i < t->n_work; i++) {
        const uw_task_work *w = &t->work[i];
        if (uw_awaits(t, w, &one) != 0) {
            uw_unsure_add(t, unsure, &n_unsure, w->thread);
            continue;
        }
        if (one >= 0) {
            t->work[one].awaited = 1;
        } else if (w->links_ok && !(w->on_stack && w->skipped == 0)) {
            for (k = 0; k < w->n_kid; k++)
                t->work[UW__SIZE(&t->sc.kids)[w->first_kid + k]].awaited = 1;
            /* a gather bound cut its list: the Tasks past the cut are
             * awaited by it unseen, as by a Task awaiting who-knows-what */
            if (UW_RULE(gather_cut_unsure) && w->gather_cut)
                uw_unsure_add(t, unsure, &n_unsure, w->thread);
        }
    }
    /* 3.14+: a Task whose awaited_by names one Task of the sample, read
     * alike in both copies of its check, has that awaiter and no other (a
     * second would have made the word a set, and every awaiter, gather
     * and TaskGroup records itself there before it suspends): nothing
     * unseen holds it, whatever a gather bound cut from a list */
    for (i = 0; i < t->n_work && t->al->fut_awaited_by >= 0; i++)
        if (uw__one_named_awaiter(t, &t->work[i]))
            t->work[i].awaited = 1;
    uw_mark_unsure(t, unsure, n_unsure);
    for (i = 0; i < t->n_work; i++) {
        uw_task_work *w = &t->work[i];
        if (UW_RULE(skip_awaiter_unknown) && w->skipped == 0 && w->await_unsure && !w->awaited &&
            !uw__awaited_by_none(t, w))
            w->skipped = UW_SKIP_AWAITER_UNKNOWN;
    }
}

/* Strong and creation links of a table, between Tasks of the sample; a
 * hook record only when its child's hook records read the same. */
static void uw_table_links(const uw_tasks *t, uw_sample *s, const uw_link *tab, size_t n)
{
    size_t j;

    for (j = 0; j < n; j++) {
        int64_t c = uw__task_find(t, tab[j].child);
        int64_t p = uw__task_find(t, tab[j].parent);
        if (c < 0 || p < 0 || c == p || (tab[j].addr != 0 && !t->work[c].hook_ok))
            continue;
        if (tab[j].kind == UW_LINK_STRONG && s->tasks[c].linked_to < 0)
            s->tasks[c].linked_to = p;
        if (tab[j].kind == UW_LINK_CREATION && s->tasks[c].created_by < 0)
            s->tasks[c].created_by = p;
    }
}

/* The parent: awaiter, else strong link, else creation link.  A mutant
 * without a precedence rule swaps the two it orders. */
static int64_t uw_parent(const uw_task_sample *ts)
{
    int64_t order[3] = {ts->awaited_by, ts->linked_to, ts->created_by}, x;
    int i;

    if (!UW_RULE(parent_awaiter_first)) {
        x = order[0];
        order[0] = order[1];
        order[1] = x;
    }
    if (!UW_RULE(parent_strong_first)) {
        for (i = 0; i < 2; i++) {
            if (order[i] == ts->linked_to && order[i + 1] == ts->created_by) {
                x = order[i];
                order[i] = order[i + 1];
                order[i + 1] = x;
                break;
            }
        }
    }
    for (i = 0; i < 3; i++)
        if (order[i] >= 0)
            return order[i];
    return -1;
}

/* Each Task's awaiting edges; each Task's first awaiter; the strong and
 * creation links of both tables; then each Task's parent. */
int uw__edges(uw_tasks *t, uw_sample *s)
{
    size_t i, j;
    int rc;

    for (i = 0; i < t->n_work; i++) {
        uw_task_sample *ts = &s->tasks[i];
        const uw_task_work *w = &t->work[i];
        int64_t one;
        ts->first_awaiting = s->n_awaiting;
        if (uw_awaits(t, w, &one) == 0) {
            if (one >= 0 && (rc = uw_sample_add_awaiting(s, (size_t)one)) != 0)
                return rc;
            for (j = 0; one < 0 && w->links_ok && !(w->on_stack && w->skipped == 0) && j < w->n_kid;
                 j++)
                if ((rc = uw_sample_add_awaiting(s, UW__SIZE(&t->sc.kids)[w->first_kid + j])) != 0)
                    return rc;
        }
        if ((rc = uw__awaited_by_edges(t, s, i, ts->first_awaiting)) != 0)
            return rc;
        ts->n_awaiting = s->n_awaiting - ts->first_awaiting;
    }
    for (i = 0; i < s->n_tasks; i++) {
        const uw_task_sample *ts = &s->tasks[i];
        for (j = 0; j < ts->n_awaiting; j++) {
            uw_task_sample *c = &s->tasks[s->awaiting[ts->first_awaiting + j]];
            if (c->awaited_by < 0 && c != ts)
                c->awaited_by = (int64_t)i;
        }
    }
    uw_table_links(t, s, t->links, t->n_links);
    uw_table_links(t, s, t->hook, t->n_hook);
    for (i = 0; i < s->n_tasks; i++)
        s->tasks[i].parent = uw_parent(&s->tasks[i]);
    /* A skipped Task whose label nothing vouches for states no link of
     * its own either: what it awaits still hangs its children under it
     * (their entries say so), but its own awaiter may have been read for
     * a Task that held its address before (the 3.14 model showed one in
     * four million samples, a skipped child "awaited by" a Task that never
     * awaited it in the window). */
    for (i = 0; i < s->n_tasks; i++) {
        uw_task_sample *ts = &s->tasks[i];
        if (!ts->label_unknown)
            continue;
        ts->n_awaiting = 0;
        ts->awaited_by = ts->linked_to = ts->created_by = ts->parent = -1;
    }
    return 0;
}
