/*
 * compose.c — whole stacks from the pieces of a sample (see compose.h).
 */
#include "tornstack/compose.h"

#include <stdlib.h>
#include <string.h>

#include "internal/rules.h"
#include "tornstack/error.h"
#include "tornstack/limits.h"

void uw_compose_options_default(uw_compose_options *o)
{
    o->task_items = 1;
    o->thread_items = 1;
}

/* Was the thread's walk cut short?  A walk stopped at the requested depth
 * is not: it was asked for. */
static int uw_walk_cut(const uw_thread_sample *th)
{
    return th->truncated != 0 && th->truncated != UW_ERR_DEPTH;
}

int uw_compose_is_leaf(const uw_sample *s, size_t task)
{
    size_t i;

    for (i = 0; i < s->n_tasks; i++)
        if (s->tasks[i].parent == (int64_t)task && i != task)
            return 0;
    return 1;
}

/* The Tasks of a stack, leaf first, into chain[0..*n): follow parent links
 * at most UW_LIMIT_LINK_CHAIN times, with Brent's cycle check.  Returns 0
 * or why the chain cannot be trusted (a skipped Task, a cycle, the bound). */
static int uw_compose_chain(const uw_sample *s, size_t task, size_t *chain, size_t *n)
{
    int64_t cur = (int64_t)task;
    size_t hops = 0;
    uw_brent br;

    *n = 0;
    uw_brent_init(&br, (uint64_t)task);
    while (cur >= 0) {
        const uw_task_sample *ts;
        if ((size_t)cur >= s->n_tasks)
            return UW_ERR_INVALID_ARG;
        ts = &s->tasks[cur];
        if (ts->skipped != 0)
            return ts->skipped;
        if (hops == UW_LIMIT_LINK_CHAIN)
            return UW_ERR_LIMIT_LINKS;
        if (hops > 0 && uw_brent_cycle(&br, (uint64_t)cur))
            return UW_ERR_LINK_CYCLE;
        chain[hops++] = (size_t)cur;
        cur = ts->parent;
    }
    *n = hops;
    return 0;
}

/* Append one item, failing at the cap. */
static int uw_item_put(uw_stack_item *items, size_t cap, size_t *k, uw_item_kind kind, size_t index,
                       const uw_frame *f)
{
    if (*k >= cap)
        return UW_ERR_LIMIT_STACK;
    items[*k].kind = kind;
    items[*k].index = index;
    items[*k].frame = f;
    (*k)++;
    return 0;
}

/* Frames first..first+n of the sample (stored innermost first), root first. */
static int uw_items_frames(const uw_sample *s, size_t first, size_t n, uw_stack_item *items,
                           size_t cap, size_t *k)
{
    size_t i;
    int rc;

    for (i = n; i-- > 0;) {
        rc = uw_item_put(items, cap, k, UW_ITEM_FRAME, 0, &s->frames[first + i]);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int uw_compose_task(const uw_sample *s, size_t task, const uw_compose_options *o,
                    uw_stack_item *items, size_t cap, size_t *n)
{
    size_t chain[UW_LIMIT_LINK_CHAIN], nc = 0, k = 0, i;
    const uw_thread_sample *th;
    uw_compose_options def;
    int rc;

    if (n != NULL)
        *n = 0;
    if (s == NULL || items == NULL || n == NULL || task >= s->n_tasks)
        return UW_ERR_INVALID_ARG;
    if (o == NULL) {
        uw_compose_options_default(&def);
        o = &def;
    }
    if (cap > UW_LIMIT_STACK_ITEMS)
        cap = UW_LIMIT_STACK_ITEMS;
    rc = uw_compose_chain(s, task, chain, &nc);
    if (rc != 0)
        return rc;
    if (s->tasks[task].thread >= s->n_threads)
        return UW_ERR_INVALID_ARG;
    for (i = 0; UW_RULE(compose_whole_task) && i < nc; i++) {
        int cut = s->tasks[chain[i]].truncated;
        if (cut == UW_ERR_LIMIT_AWAIT || cut == UW_ERR_AWAIT_CYCLE)
            return cut; /* a chain cut at a bound: its root part never stood alone */
    }
    th = &s->threads[s->tasks[task].thread];
    /* Without a pure Python stack found (a walk cut short, or no Task walk
     * said where it starts) the stack would stand as a root of its own. */
    if (UW_RULE(compose_pure_stack) &&
        (uw_walk_cut(th) || th->pure_start < 0 || (size_t)th->pure_start > th->n_frames))
        return UW_SKIP_NO_PURE_STACK;
    if (o->thread_items) {
        rc = uw_item_put(items, cap, &k, UW_ITEM_THREAD, s->tasks[task].thread, NULL);
        if (rc != 0)
            return rc;
    }
    /* the loop's pure Python stack: frames pure_start.. of the thread */
    if (th->pure_start >= 0 && (size_t)th->pure_start <= th->n_frames) {
        rc = uw_items_frames(s, th->first_frame + (size_t)th->pure_start,
                             th->n_frames - (size_t)th->pure_start, items, cap, &k);
        if (rc != 0)
            return rc;
    }
    /* outermost ancestor first, the leaf last */
    for (i = nc; i-- > 0;) {
        const uw_task_sample *ts = &s->tasks[chain[i]];
        if (o->task_items) {
            rc = uw_item_put(items, cap, &k, UW_ITEM_TASK, chain[i], NULL);
            if (rc != 0)
                return rc;
        }
        rc = uw_items_frames(s, ts->first_frame, ts->n_frames, items, cap, &k);
        if (rc != 0)
            return rc;
    }
    *n = k;
    return 0;
}

/* The thread's own frames as one stack, root first.  A walk cut short
 * (its reason) or whose frames above Handle._run were dropped
 * (running_task_frames_changed) is not a stack that existed whole: it
 * gives none. */
static int uw_compose_thread(const uw_sample *s, size_t th_i, const uw_compose_options *o,
                             uw_stack_item *items, size_t cap, size_t *n)
{
    const uw_thread_sample *th = &s->threads[th_i];
    size_t k = 0;
    int rc = 0;

    *n = 0;
    if (UW_RULE(compose_whole_thread) && uw_walk_cut(th))
        return th->truncated;
    if (UW_RULE(compose_whole_thread) && th->top_dropped)
        return UW_SKIP_RUNNING_TORN;
    if (o->thread_items)
        rc = uw_item_put(items, cap, &k, UW_ITEM_THREAD, th_i, NULL);
    if (rc == 0)
        rc = uw_items_frames(s, th->first_frame, th->n_frames, items, cap, &k);
    *n = k;
    return rc;
}

/* Room for `want` items (at most UW_LIMIT_STACK_ITEMS). */
static int uw_items_room(uw_stack_item **items, size_t *cap, size_t want)
{
    uw_stack_item *p;

    if (want > UW_LIMIT_STACK_ITEMS)
        want = UW_LIMIT_STACK_ITEMS;
    if (*cap >= want)
        return 0;
    p = realloc(*items, want * sizeof *p);
    if (p == NULL)
        return UW_ERR_NOMEM;
    *items = p;
    *cap = want;
    return 0;
}

/* A stack is at most every frame of the sample (the pure Python stack and
 * the Tasks' own frames are distinct frames), a marker per Task and the
 * thread's: the items buffer starts that big, not at the bound, and grows
 * to UW_LIMIT_STACK_ITEMS only if a stack does not fit, so a stack past
 * the bound is refused exactly as before. */
int uw_compose(const uw_sample *s, const uw_compose_options *o, uw_stack_fn fn, void *ctx,
               uint32_t *skipped)
{
    uw_stack_item *items = NULL;
    unsigned char *parent_of = NULL;
    uw_compose_options def;
    size_t th, i, cap = 0;
    int rc = 0;

    if (s == NULL || fn == NULL)
        return UW_ERR_INVALID_ARG;
    if (o == NULL) {
        uw_compose_options_default(&def);
        o = &def;
    }
    parent_of = calloc(s->n_tasks > 0 ? s->n_tasks : 1, 1);
    if (parent_of == NULL || uw_items_room(&items, &cap, s->n_frames + s->n_tasks + 2) != 0) {
        rc = UW_ERR_NOMEM;
        goto out;
    }
    /* leaves in one pass: a Task is a leaf when no other Task names it */
    for (i = 0; i < s->n_tasks; i++) {
        int64_t p = s->tasks[i].parent;
        if (p >= 0 && (size_t)p < s->n_tasks && (size_t)p != i)
            parent_of[p] = 1;
    }
    for (th = 0; th < s->n_threads; th++) {
        int emitted = 0;
        size_t n;

        for (i = 0; i < s->n_tasks; i++) {
            uw_stack st;
            int r;
            if (s->tasks[i].thread != th || parent_of[i])
                continue;
            r = uw_compose_task(s, i, o, items, cap, &n);
            if (r == UW_ERR_LIMIT_STACK && cap < UW_LIMIT_STACK_ITEMS) {
                if ((rc = uw_items_room(&items, &cap, UW_LIMIT_STACK_ITEMS)) != 0)
                    goto out;
                r = uw_compose_task(s, i, o, items, cap, &n);
            }
            if (r != 0) {
                if (skipped != NULL)
                    skipped[uw_reason_slot(r)]++;
                continue;
            }
            emitted = 1;
            st = (uw_stack){th, (int64_t)i, items, n};
            rc = fn(ctx, &st);
            if (rc != 0)
                goto out;
        }
        if (emitted)
            continue;
        /* No Tasks (or none trustworthy): the thread's own stack. */
        if (s->threads[th].n_frames + 2 > cap &&
            (rc = uw_items_room(&items, &cap, UW_LIMIT_STACK_ITEMS)) != 0)
            goto out;
        {
            int r = uw_compose_thread(s, th, o, items, cap, &n);
            if (r != 0) {
                if (skipped != NULL)
                    skipped[uw_reason_slot(r)]++;
                continue;
            }
        }
        {
            uw_stack st = {th, -1, items, n};
            rc = fn(ctx, &st);
            if (rc != 0)
                goto out;
        }
    }
out:
    free(items);
    free(parent_of);
    return rc;
}
