/*
 * edges.c — who awaits whom, and each Task's parent.
 *
 * `awaiting` and `awaited_by` are read from memory: a Task's fut_waiter is
 * a Task, or a gather future (_GatheringFuture) whose pending children are
 * Tasks; nested gathers are flattened, at most UW_LIMIT_GATHER_NESTING deep
 * and UW_LIMIT_GATHER_CHILDREN children each (children beyond are not
 * linked, and gather_limit goes to s->tasks_error).  From 3.14 each Task
 * also records its awaiters, which adds the edges of gather, wait, shield,
 * TaskGroup and the like (awaited_by.c).  Strong links (gather, wait,
 * shield, as_completed, TaskGroup) and creation links come from the link
 * tables (links.c), and count only between Tasks of the sample.  A Task's
 * parent is its awaiter, else its strong link, else its creation link.
 */
#include "internal/pyobj.h"
#include "tasks_int.h"
#include "tornstack/error.h"

/* Awaiting edges to the Tasks among items[0..n); with `nested`, gather
 * futures among them are flattened too.  0 or UW_ERR_NOMEM. */
static int uw_gather_children(uw_tasks *t, uw_sample *s, uint64_t fut, int depth);

static int uw_gather_items(uw_tasks *t, uw_sample *s, const uint64_t *items, size_t n, int nested,
                           int depth)
{
    size_t i;
    int rc;

    for (i = 0; i < n; i++) {
        int64_t k = uw__task_find(t, items[i]);
        uint64_t type;
        if (k >= 0) {
            if ((rc = uw_sample_add_awaiting(s, t->work[k].out)) != 0)
                return rc;
            continue;
        }
        if (nested && uw__obj_type(&t->pc, items[i], &type) == 0 &&
            uw__type_kind(t, type) == UW_KIND_GATHER &&
            (rc = uw_gather_children(t, s, items[i], depth + 1)) != 0)
            return rc;
    }
    return 0;
}

_Static_assert(UW_GATHER_SMALL <= UW_LIMIT_GATHER_CHILDREN,
               "the small buffer of gather children is within UW_LIMIT_GATHER_CHILDREN");

/* The first bound that cut what the sample says of its Tasks. */
static void uw_edges_cut(uw_sample *s, int reason)
{
    if (s->tasks_error == 0)
        s->tasks_error = reason;
}

/* A gather future's `_children` list is read into a small buffer first;
 * when that fails (a longer list, or a read error), once more into one of
 * UW_LIMIT_GATHER_CHILDREN, whose Tasks are linked without looking for
 * nested gathers.  A longer list has its first UW_LIMIT_GATHER_CHILDREN
 * linked, and a gather nested deeper than UW_LIMIT_GATHER_NESTING is not
 * read: either says gather_limit in s->tasks_error.  What cannot be read
 * links nothing; running out of memory fails the sample (UW_ERR_NOMEM). */
static int uw_gather_children(uw_tasks *t, uw_sample *s, uint64_t fut, int depth)
{
    uint64_t list, items[UW_GATHER_SMALL];
    size_t n = 0;
    int rc;

    if (depth >= UW_LIMIT_GATHER_NESTING) {
        uw_edges_cut(s, UW_ERR_LIMIT_GATHER);
        return 0;
    }
    rc = uw__obj_getattr(&t->pc, fut, "_children", &list);
    if (rc != 0)
        return rc == UW_ERR_NOMEM ? rc : 0;
    if (uw__list_items(&t->pc, list, items, UW_GATHER_SMALL, &n) == 0)
        return uw_gather_items(t, s, items, n, 1, depth);
    if ((rc = uw__view_reserve(&t->sc.children, UW_LIMIT_GATHER_CHILDREN)) != 0)
        return rc;
    rc = uw__list_items(&t->pc, list, UW__U64(&t->sc.children), UW_LIMIT_GATHER_CHILDREN, &n);
    if (rc == UW_ERR_CAPACITY)
        uw_edges_cut(s, UW_ERR_LIMIT_GATHER);
    if (rc == 0 || rc == UW_ERR_CAPACITY)
        return uw_gather_items(t, s, UW__U64(&t->sc.children), n, 0, depth);
    return 0;
}

/* The types of all waiters that are not Tasks, in one vectored read (an
 * empty piece for the others).  Returns how many were queued. */
static int uw_waiter_types(uw_tasks *t, size_t *nw)
{
    size_t i;
    int rc;

    *nw = 0;
    if ((rc = uw__view_reserve(&t->sc.iov, t->n_work)) != 0 ||
        (rc = uw__view_reserve(&t->sc.types, t->n_work)) != 0)
        return rc;
    for (i = 0; i < t->n_work; i++) {
        uint64_t w = t->work[i].waiter;
        uw_iov piece = {w + (uint64_t)t->l->object_type, &UW__U64(&t->sc.types)[i], 8, 0};
        if (w == 0 || uw__task_find(t, w) >= 0)
            piece.len = 0;
        else
            (*nw)++;
        if ((rc = uw__put_iov(&t->sc.iov, i, piece)) != 0)
            return rc;
    }
    if (*nw > 0)
        (void)uw_readv(t->r, UW__IOV(&t->sc.iov), t->n_work);
    return 0;
}

/* Task i's awaiting edges: its waiter, if a Task, or a gather's children.
 * 0 or UW_ERR_NOMEM. */
static int uw_awaiting_of(uw_tasks *t, uw_sample *s, size_t i, size_t nw)
{
    const uw_iov *piece = &UW__IOV(&t->sc.iov)[i];
    uint64_t waiter = t->work[i].waiter;
    int64_t k;

    if (waiter == 0)
        return 0;
    k = uw__task_find(t, waiter);
    if (k >= 0)
        return uw_sample_add_awaiting(s, (size_t)k);
    if (nw > 0 && piece->len != 0 && piece->status == 0 &&
        uw__type_kind(t, UW__U64(&t->sc.types)[i]) == UW_KIND_GATHER)
        return uw_gather_children(t, s, waiter, 0);
    return 0;
}

/* Strong and creation links of a table, between Tasks of the sample. */
static void uw_table_links(const uw_tasks *t, uw_sample *s, const uw_link *tab, size_t n)
{
    size_t j;

    for (j = 0; j < n; j++) {
        int64_t c = uw__task_find(t, tab[j].child);
        int64_t p = uw__task_find(t, tab[j].parent);
        if (c < 0 || p < 0 || c == p)
            continue;
        if (tab[j].kind == UW_LINK_STRONG && s->tasks[c].linked_to < 0)
            s->tasks[c].linked_to = p;
        if (tab[j].kind == UW_LINK_CREATION && s->tasks[c].created_by < 0)
            s->tasks[c].created_by = p;
    }
}

/* The waiters' types in one read; each Task's awaiting edges; each
 * Task's first awaiter; the strong and creation links of both tables;
 * then each Task's parent. */
int uw__edges(uw_tasks *t, uw_sample *s)
{
    size_t i, j, nw;
    int rc;

    if ((rc = uw_waiter_types(t, &nw)) != 0 || (rc = uw__awaited_by_read(t)) != 0)
        return rc;
    for (i = 0; i < t->n_work; i++) {
        uw_task_sample *ts = &s->tasks[i];
        ts->first_awaiting = s->n_awaiting;
        if ((rc = uw_awaiting_of(t, s, i, nw)) != 0)
            return rc;
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
    for (i = 0; i < s->n_tasks; i++) {
        uw_task_sample *ts = &s->tasks[i];
        ts->parent = ts->awaited_by >= 0  ? ts->awaited_by
                     : ts->linked_to >= 0 ? ts->linked_to
                                          : ts->created_by;
    }
    return 0;
}
