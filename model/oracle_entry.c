/*
 * oracle_entry.c — each Task entry against its Task's truth (oracle.h).
 *
 * An entry matches when one Task that held the entry's address during the
 * window, at one instant, has every field the entry states: first tried at
 * the window's start and the instants that Task changed (enough for nearly
 * every entry), then, if none matched, also at the instants its loop and
 * every Task it was linked to changed.  Links are stated by address, and a
 * Task can only be linked to what the sample lists: the truth drops links
 * to Tasks the sample does not hold (the unwinder cannot point at them).
 *
 * From 3.14 CPython records who awaits a Task in the Task itself
 * (task_awaited_by: gather and TaskGroup children name the Task that
 * called them), and a perfect reader takes those as awaiting edges too:
 * a Task awaits the Tasks its fut_waiter leads to (in that order), then
 * the Tasks of the sample whose awaited_by names it (in sample order, the
 * ones not listed already); a Task's awaiter is the one its awaiter's
 * fut_waiter leads from, else the one its awaited_by names.
 *
 * An entry that matches no instant is classified by what went wrong:
 *   label_leak  its frames and coroutine are the Task's at an instant
 *               whose name differs, and at none with the name shown;
 *   link_leak   a link names a Task that never was, at any instant of the
 *               window, the relation stated (an awaited_by, linked_to,
 *               created_by or parent that was never an awaiter, strong or
 *               creation parent; an awaited Task never awaited);
 *   leak        a frame belonged to another Task or to the loop, never to
 *               this one;
 *   bogus       its frames were never the Task's (or it was no Task);
 *   entry_mismatch  each part was right at some instant, not all at one.
 * Both label and link leaks are counted when both happen.
 */
#include "oracle_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tornstack/error.h"
#include "tornstack/limits.h"

/* A link's target at t, if it is a Task alive then and in the sample. */
static const mm_ttask *mm_link_at(const mm_oq *q, mm_ref r, uint64_t t)
{
    const mm_ttask *k = mm_ref_at(q->w, r, t);
    return k != NULL && mm_present(q, k->addr) ? k : NULL;
}

/* The Tasks a fut_waiter target leads to at t (gathers flattened, list
 * order), alive then; with `present`, only those in the sample.  With
 * `cut` (an entry as the unwinder states it), each gather list counts its
 * first UW_LIMIT_GATHER_CHILDREN items only, as documented (gather.c),
 * and *cut is set when a list is longer or a gather nests past
 * UW_LIMIT_GATHER_NESTING: the sample must then say gather_limit.
 * Without `cut`, every item counts (who ever awaited a Task). */
static void mm_await_list(const mm_oq *q, int kind, mm_ref r, uint64_t t, int present,
                          uint64_t *out, int *n, int cap, int depth, int *cut)
{
    if (kind == MM_W_TASK) {
        const mm_ttask *k = mm_ref_at(q->w, r, t);
        if (k != NULL && (!present || mm_present(q, k->addr)) && *n < cap)
            out[(*n)++] = k->addr;
    } else if (kind == MM_W_GATHER && depth >= UW_LIMIT_GATHER_NESTING) {
        if (cut != NULL && mm_gather_get(q->w, r) != NULL)
            *cut = 1;
    } else if (kind == MM_W_GATHER) {
        const mm_tgather *g = mm_gather_get(q->w, r);
        int i, items;
        if (g == NULL)
            return;
        items = g->n;
        if (cut != NULL && items > UW_LIMIT_GATHER_CHILDREN) {
            items = UW_LIMIT_GATHER_CHILDREN;
            *cut = 1;
        }
        for (i = 0; i < items; i++)
            mm_await_list(q, g->is_gather[i] ? MM_W_GATHER : MM_W_TASK, g->item[i], t, present, out,
                          n, cap, depth + 1, cut);
    }
}

static int mm_cmp_abpair(const void *a, const void *b)
{
    const mm_abpair *x = a, *y = b;
    if (x->parent != y->parent)
        return x->parent < y->parent ? -1 : 1;
    if (x->idx != y->idx)
        return x->idx < y->idx ? -1 : 1;
    return x->child < y->child ? -1 : x->child > y->child;
}

static void mm_ab_push(mm_oq *q, size_t *cap, int32_t parent, int32_t child, size_t idx)
{
    size_t i;

    for (i = q->n_ab; i-- > 0 && q->ab[i].child == child;)
        if (q->ab[i].parent == parent && q->ab[i].idx == idx)
            return; /* this Task's states named it before */
    if (q->n_ab == *cap) {
        size_t nc = *cap ? 2 * *cap : 64;
        mm_abpair *a = realloc(q->ab, nc * sizeof *a);
        if (a == NULL)
            return; /* fewer edges known: stricter, never looser */
        q->ab = a;
        *cap = nc;
    }
    q->ab[q->n_ab++] = (mm_abpair){parent, child, idx};
}

void mm_ab_build(mm_oq *q)
{
    const uw_sample *s = q->s;
    size_t i, a, k, cap = 0;

    q->n_ab = 0;
    if (q->c->im == NULL || q->c->im->al->fut_awaited_by < 0)
        return;
    for (i = 0; i < s->n_tasks; i++) {
        int32_t ids[MM_OE_IDS];
        size_t n_ids = mm_world_ids_at_addr(q->w, s->tasks[i].addr, ids, MM_OE_IDS);
        for (a = 0; a < n_ids; a++) {
            size_t n;
            const uint64_t *tt = mm_task_times(q->w, ids[a], &n);
            const mm_ttask *k0 = mm_task_at(q->w, ids[a], q->t0);
            if (k0->amem.id >= 0)
                mm_ab_push(q, &cap, k0->amem.id, ids[a], i);
            for (k = 0; k < n; k++) {
                const mm_ttask *kk = mm_task_at(q->w, ids[a], tt[k]);
                if (kk->amem.id >= 0)
                    mm_ab_push(q, &cap, kk->amem.id, ids[a], i);
            }
        }
    }
    if (q->n_ab > 1)
        qsort(q->ab, q->n_ab, sizeof *q->ab, mm_cmp_abpair);
}

/* The first pair whose parent is id (q->n_ab if none). */
static size_t mm_ab_first(const mm_oq *q, int32_t id)
{
    size_t lo = 0, hi = q->n_ab;

    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (q->ab[mid].parent < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* 3.14+: the sample's Tasks whose task_awaited_by names Task id at t
 * (alive then), appended to out[] in sample order unless already there. */
static void mm_ab_children(const mm_oq *q, int32_t id, uint64_t t, uint64_t *out, int *n, int cap)
{
    const mm_ttask *me = mm_task_at(q->w, id, t);
    size_t i;
    int j, dup;

    for (i = mm_ab_first(q, id); i < q->n_ab && q->ab[i].parent == id && *n < cap; i++) {
        const mm_ttask *c = mm_task_at(q->w, q->ab[i].child, t);
        if (!c->alive || c->amem.id != id || c->amem.gen != me->gen ||
            c->addr != q->s->tasks[q->ab[i].idx].addr)
            continue;
        for (j = 0, dup = 0; j < *n && !dup; j++)
            dup = out[j] == c->addr;
        if (!dup)
            out[(*n)++] = c->addr;
    }
}

int mm_truth_entry(const mm_oq *q, int32_t id, uint64_t t, mm_tentry *e)
{
    const mm_ttask *k = mm_task_at(q->w, id, t);
    const mm_ttask *p;

    if (!k->alive)
        return 0;
    e->id = id;
    e->addr = k->addr;
    e->coro = k->coro;
    e->code = k->code;
    e->name = k->name;
    e->running = k->running;
    e->tstate = q->c->tstate[k->loop];
    e->n_frames = mm_truth_frames(q->w, id, t, e->f, MM_MAX_STACK);
    e->n_await = 0;
    e->gather_cut = 0;
    mm_await_list(q, k->waiter_kind, k->waiter, t, 1, e->await, &e->n_await, MM_OE_AWAIT, 0,
                  &e->gather_cut);
    mm_ab_children(q, id, t, e->await, &e->n_await, MM_OE_AWAIT);
    p = mm_link_at(q, k->awaiter, t);
    if (p == NULL) /* 3.14+: the awaiter task_awaited_by names */
        p = mm_link_at(q, k->amem, t);
    e->awaited_by = p != NULL ? p->addr : 0;
    p = mm_link_at(q, k->strong, t);
    e->linked_to = p != NULL ? p->addr : 0;
    p = mm_link_at(q, k->creator, t);
    e->created_by = p != NULL ? p->addr : 0;
    e->parent = e->awaited_by ? e->awaited_by : e->linked_to ? e->linked_to : e->created_by;
    e->parent_id = e->awaited_by
                       ? (mm_link_at(q, k->awaiter, t) != NULL ? k->awaiter.id : k->amem.id)
                   : e->linked_to  ? k->strong.id
                   : e->created_by ? k->creator.id
                                   : -1;
    return 1;
}

int mm_gather_cut_any(const mm_oq *q, uint64_t t)
{
    size_t id;

    for (id = 0; id < mm_world_tasks(q->w); id++) {
        const mm_ttask *k = mm_task_at(q->w, (int32_t)id, t);
        uint64_t aw[MM_OE_AWAIT];
        int n = 0, cut = 0;
        if (!k->alive)
            continue;
        mm_await_list(q, k->waiter_kind, k->waiter, t, 0, aw, &n, MM_OE_AWAIT, 0, &cut);
        if (cut)
            return 1;
    }
    return 0;
}

static uint64_t mm_idx_addr(const uw_sample *s, int64_t i)
{
    return i >= 0 && (size_t)i < s->n_tasks ? s->tasks[i].addr : 0;
}

/* The entry's frames (innermost first) against the truth's.  A chain cut
 * at a bound (truncated: await_limit, from UW_LIMIT_AWAIT_CHAIN or the
 * sample's UW_TASK_FRAMES_MAX) was read from its root outward and stops
 * early: it must be exactly the root-side part of a longer true stack, and
 * nothing else. */
static int mm_frames_eq(const uw_sample *s, const uw_task_sample *ts, const mm_tentry *e)
{
    size_t k, skip = 0;

    if (ts->truncated == UW_ERR_LIMIT_AWAIT && (size_t)e->n_frames > ts->n_frames)
        skip = (size_t)e->n_frames - ts->n_frames;
    else if ((size_t)e->n_frames != ts->n_frames)
        return 0;
    for (k = 0; k < ts->n_frames; k++) {
        const uw_frame *f = &s->frames[ts->first_frame + k];
        const mm_tframe *t = &e->f[skip + k];
        if (f->addr != t->addr || f->code == NULL || f->code->addr != t->code || f->line != t->line)
            return 0;
    }
    return 1;
}

/* Which fields of the entry differ from e (MM_F_* bits). */
static unsigned mm_entry_diff(const mm_oq *q, const uw_task_sample *ts, const mm_tentry *e)
{
    const uw_sample *s = q->s;
    unsigned d = 0;
    size_t k;

    if (ts->addr != e->addr)
        d |= MM_F_ADDR;
    if (strcmp(ts->name, e->name) != 0)
        d |= MM_F_NAME;
    if (ts->coro != e->coro || ts->coro_code == NULL || ts->coro_code->addr != e->code)
        d |= MM_F_CORO;
    if ((ts->running != 0) != (e->running != 0))
        d |= MM_F_RUNNING;
    if (ts->thread >= s->n_threads || s->threads[ts->thread].tstate != e->tstate)
        d |= MM_F_THREAD;
    if (!mm_frames_eq(s, ts, e))
        d |= MM_F_FRAMES;
    /* a list the bound cut is shown cut only with the sample saying so */
    if (ts->n_awaiting != (size_t)e->n_await || (e->gather_cut && s->tasks_error == 0)) {
        d |= MM_F_AWAITING;
    } else {
        for (k = 0; k < ts->n_awaiting; k++)
            if (mm_idx_addr(s, (int64_t)s->awaiting[ts->first_awaiting + k]) != e->await[k])
                d |= MM_F_AWAITING;
    }
    if (mm_idx_addr(s, ts->awaited_by) != e->awaited_by)
        d |= MM_F_AWAITED_BY;
    if (mm_idx_addr(s, ts->linked_to) != e->linked_to)
        d |= MM_F_LINKED_TO;
    if (mm_idx_addr(s, ts->created_by) != e->created_by)
        d |= MM_F_CREATED_BY;
    if (mm_idx_addr(s, ts->parent) != e->parent)
        d |= MM_F_PARENT;
    return d;
}

static size_t mm_fields_str(unsigned d, char *out, size_t cap)
{
    static const char *names[] = {"id",        "name",       "coro",     "running",
                                  "thread",    "frames",     "awaiting", "awaited_by",
                                  "linked_to", "created_by", "parent"};
    size_t off = 0, i;

    out[0] = '\0';
    for (i = 0; i < sizeof names / sizeof names[0] && off + 16 < cap; i++)
        if (d & (1u << i))
            off += (size_t)snprintf(out + off, cap - off, "%s%s", off ? "," : "", names[i]);
    return off;
}

/* Instants at which Task id, its loop, and every Task it was linked to
 * during the window changed. */
static void mm_inst_wide(mm_oq *q, int32_t id)
{
    size_t n, i;
    const uint64_t *tt = mm_task_times(q->w, id, &n);
    uint64_t *times = malloc((n + 1) * sizeof *times);
    size_t nt = 0;
    int loops = 0;

    if (times == NULL)
        return;
    times[nt++] = q->t0;
    for (i = 0; i < n; i++)
        times[nt++] = tt[i]; /* copied: the next call reuses the buffer */
    mm_inst_add_task(q, id);
    for (i = mm_ab_first(q, id); i < q->n_ab && q->ab[i].parent == id; i++)
        mm_inst_add_task(q, q->ab[i].child); /* 3.14+: Tasks naming it their awaiter */
    for (i = 0; i < nt; i++) {
        const mm_ttask *k = mm_task_at(q->w, id, times[i]);
        mm_ref refs[5] = {k->awaiter, k->strong, k->creator, k->amem, k->waiter};
        int j;
        if (!(loops & (1 << k->loop))) {
            loops |= 1 << k->loop;
            mm_inst_add_loop(q, k->loop);
        }
        for (j = 0; j < 4; j++)
            if (refs[j].id >= 0 && (size_t)refs[j].id < mm_world_tasks(q->w))
                mm_inst_add_task(q, refs[j].id);
        if (k->waiter_kind == MM_W_TASK && refs[4].id >= 0 &&
            (size_t)refs[4].id < mm_world_tasks(q->w)) {
            mm_inst_add_task(q, refs[4].id);
        } else if (k->waiter_kind == MM_W_GATHER) {
            const mm_tgather *g = mm_gather_get(q->w, refs[4]);
            int a;
            for (a = 0; g != NULL && a < g->n; a++) {
                if (!g->is_gather[a]) {
                    mm_inst_add_task(q, g->item[a].id);
                } else {
                    const mm_tgather *h = mm_gather_get(q->w, g->item[a]);
                    int b;
                    for (b = 0; h != NULL && b < h->n; b++)
                        if (!h->is_gather[b])
                            mm_inst_add_task(q, h->item[b].id);
                }
            }
        }
    }
    free(times);
}

/* Every frame's owners over the window (Task chains, loop stacks). */
static void mm_owner_push(mm_oq *q, uint64_t addr, int32_t owner)
{
    if (q->n_owners == q->cap_owners) {
        size_t nc = q->cap_owners ? 2 * q->cap_owners : 1024;
        mm_owner *o = realloc(q->owners, nc * sizeof *o);
        if (o == NULL)
            return;
        q->owners = o;
        q->cap_owners = nc;
    }
    q->owners[q->n_owners++] = (mm_owner){addr, owner};
}

static void mm_visit_task(void *ctx, int32_t id, const mm_ttask *k)
{
    int i;
    for (i = 0; i < k->n_chain; i++)
        mm_owner_push(ctx, k->chain[i].addr, id);
}

static void mm_visit_loop(void *ctx, int loop, const mm_tloop *l)
{
    int i;
    (void)loop;
    for (i = 0; i < l->n; i++)
        mm_owner_push(ctx, l->f[i].addr, l->f[i].owner);
}

static int mm_cmp_owner(const void *a, const void *b)
{
    const mm_owner *x = a, *y = b;
    if (x->addr != y->addr)
        return x->addr < y->addr ? -1 : 1;
    return x->owner < y->owner ? -1 : x->owner > y->owner;
}

static void mm_owners_build(mm_oq *q)
{
    if (q->owners_built)
        return;
    q->owners_built = 1;
    mm_world_visit_tasks(q->w, mm_visit_task, q);
    mm_world_visit_loops(q->w, mm_visit_loop, q);
    qsort(q->owners, q->n_owners, sizeof *q->owners, mm_cmp_owner);
}

/* Did a frame at addr belong to someone other than `ids` during the
 * window (another Task, or the loop)? */
static int mm_owned_by_other(mm_oq *q, uint64_t addr, const int32_t *ids, size_t n_ids)
{
    size_t lo = 0, hi, i, j;

    mm_owners_build(q);
    hi = q->n_owners;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (q->owners[mid].addr < addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (i = lo; i < q->n_owners && q->owners[i].addr == addr; i++) {
        int mine = 0;
        for (j = 0; j < n_ids; j++)
            mine |= q->owners[i].owner == ids[j];
        if (!mine)
            return 1;
    }
    return 0;
}

/* Was the Task at `addr` ever, at an instant tried, in the relation the
 * link field states with Task id?  kind 0: a parent (awaiter, strong or
 * creation parent); kind 1: a Task id awaited. */
static int mm_link_ever(mm_oq *q, int32_t id, uint64_t addr, int kind)
{
    size_t i;

    mm_inst_reset(q);
    mm_inst_wide(q, id);
    mm_inst_done(q);
    for (i = 0; i < q->n_inst; i++) {
        uint64_t t = q->inst[i];
        const mm_ttask *k = mm_task_at(q->w, id, t);
        if (!k->alive)
            continue;
        if (kind == 0) {
            mm_ref refs[4] = {k->awaiter, k->strong, k->creator, k->amem};
            int j;
            for (j = 0; j < 4; j++) {
                const mm_ttask *p = mm_ref_at(q->w, refs[j], t);
                if (p != NULL && p->addr == addr)
                    return 1;
            }
        } else {
            uint64_t aw[MM_OE_AWAIT];
            int n = 0, j;
            mm_await_list(q, k->waiter_kind, k->waiter, t, 0, aw, &n, MM_OE_AWAIT, 0, NULL);
            mm_ab_children(q, id, t, aw, &n, MM_OE_AWAIT);
            for (j = 0; j < n; j++)
                if (aw[j] == addr)
                    return 1;
        }
    }
    return 0;
}

static void mm_describe_truth(const mm_oq *q, int32_t id, uint64_t t, char *out, size_t cap)
{
    mm_tentry e;
    size_t off, k;

    if (!mm_truth_entry(q, id, t, &e)) {
        snprintf(out, cap, "no live Task there at t=%" PRIu64, t);
        return;
    }
    off = (size_t)snprintf(out, cap, "truth at t=%" PRIu64 ": %s%s frames [", t, e.name,
                           e.running ? " running" : "");
    for (k = 0; k < (size_t)e.n_frames && off + 40 < cap; k++)
        off += (size_t)snprintf(out + off, cap - off, "%s%" PRIx64 ":%d", k ? ", " : "",
                                e.f[k].addr, e.f[k].line);
    if (off + 80 < cap)
        snprintf(out + off, cap - off,
                 "] awaited_by 0x%" PRIx64 " linked_to 0x%" PRIx64 " created_by 0x%" PRIx64,
                 e.awaited_by, e.linked_to, e.created_by);
}

/* The instants to try for candidate id: at pass 0 those it changed at, at
 * pass 1 also those its loop and the Tasks it was linked to changed at. */
static void mm_inst_pass(mm_oq *q, int32_t id, int pass)
{
    mm_inst_reset(q);
    if (pass == 0)
        mm_inst_add_task(q, id);
    else
        mm_inst_wide(q, id);
    mm_inst_done(q);
}

/* Did a Task that held the entry's address (ids) run, or read as
 * executing, at an instant of the window it changed at?  Bounds: MM_OE_IDS
 * candidates and their instants. */
static int mm_ran_in_window(mm_oq *q, const int32_t *ids, size_t n_ids)
{
    size_t a, j;

    for (a = 0; a < n_ids; a++) {
        mm_inst_pass(q, ids[a], 0);
        for (j = 0; j < q->n_inst; j++) {
            const mm_ttask *k = mm_task_at(q->w, ids[a], q->inst[j]);
            if (k->alive && (k->running || k->executing))
                return 1;
        }
    }
    return 0;
}

/* Does an entry state a relation (awaited_by, linked_to, created_by,
 * parent, or an awaited Task) that never held, at any instant of the
 * window, for any Task at its address?  The first such is described in
 * `what`.  Bounds: the four links, the entry's awaiting list, MM_OE_IDS
 * candidates. */
static int mm_link_leak(mm_oq *q, const uw_task_sample *ts, const int32_t *ids, size_t n_ids,
                        char *what, size_t cap)
{
    const uw_sample *s = q->s;
    int64_t links[4] = {ts->awaited_by, ts->linked_to, ts->created_by, ts->parent};
    static const char *lname[4] = {"awaited_by", "linked_to", "created_by", "parent"};
    size_t a, j;
    int l;

    for (l = 0; l < 4; l++) {
        uint64_t to = mm_idx_addr(s, links[l]);
        int ever = 0;
        if (to == 0)
            continue;
        for (a = 0; a < n_ids && !ever; a++)
            ever = mm_link_ever(q, ids[a], to, 0);
        if (!ever) {
            snprintf(what, cap, "%s 0x%" PRIx64 " (%s)", lname[l], to, s->tasks[links[l]].name);
            return 1;
        }
    }
    for (j = 0; j < ts->n_awaiting; j++) {
        int64_t ci = (int64_t)s->awaiting[ts->first_awaiting + j];
        uint64_t to = mm_idx_addr(s, ci);
        int ever = 0;
        for (a = 0; a < n_ids && !ever; a++)
            ever = mm_link_ever(q, ids[a], to, 1);
        if (!ever) {
            snprintf(what, cap, "awaiting 0x%" PRIx64 " (%s)", to, s->tasks[ci].name);
            return 1;
        }
    }
    return 0;
}

/* A skipped entry shows no frames, and whatever else it states must be
 * true: its name and root coroutine those of one Task that held its
 * address at one instant of the window (a name read from one Task shown
 * with the coroutine of another that reused the address is a label leak,
 * skipped or not), "running" only of a Task that ran or was marked
 * executing then, and every link it states held at an instant (a skipped
 * Task still awaits what the check read: its children hang under it).
 * Bounds: the candidate Tasks at the address
 * (MM_OE_IDS) and their instants. */
static void mm_check_skipped_entry(mm_oq *q, const uw_task_sample *ts, const int32_t *ids,
                                   size_t n_ids)
{
    const unsigned shown =
        (ts->label_unknown ? 0u : MM_F_NAME) | (ts->coro_code != NULL ? MM_F_CORO : 0u);
    size_t a, j;
    int ok = shown == 0, pass;
    mm_tentry e;

    if (ts->n_frames != 0)
        mm_violation(q, MM_V_BOGUS, "task 0x%" PRIx64 " (%s) skipped as %s shows %zu frames",
                     ts->addr, ts->name, uw_errname(ts->skipped), ts->n_frames);
    if (ts->label_unknown && (ts->name[0] != '\0' || ts->coro_code != NULL || ts->truncated != 0))
        mm_violation(q, MM_V_MISMATCH,
                     "task 0x%" PRIx64 " skipped as %s, its label unknown, still shows '%s', "
                     "a coroutine or a truncation (%s)",
                     ts->addr, uw_errname(ts->skipped), ts->name, uw_errname(ts->truncated));
    {
        char what[320] = "";
        if (mm_link_leak(q, ts, ids, n_ids, what, sizeof what))
            mm_violation(q, MM_V_LINK_LEAK,
                         "task 0x%" PRIx64 " (%s) skipped as %s: %s was never its awaiter, "
                         "strong or creation parent (or awaited) in the window",
                         ts->addr, ts->name, uw_errname(ts->skipped), what);
    }
    for (pass = 0; pass < 2 && !ok; pass++) {
        for (a = 0; a < n_ids && !ok; a++) {
            mm_inst_pass(q, ids[a], pass);
            for (j = 0; j < q->n_inst && !ok; j++)
                if (mm_truth_entry(q, ids[a], q->inst[j], &e))
                    ok = (mm_entry_diff(q, ts, &e) & shown) == 0;
        }
    }
    if (!ok)
        mm_violation(q, MM_V_LABEL_LEAK,
                     "task 0x%" PRIx64 " skipped as %s is shown named '%s' with coroutine %s: "
                     "no Task at that address had both at one instant of the window",
                     ts->addr, uw_errname(ts->skipped), ts->label_unknown ? "(none)" : ts->name,
                     ts->coro_code != NULL && ts->coro_code->qualname != NULL
                         ? ts->coro_code->qualname
                         : "(none)");
    if (ts->running) {
        if (!mm_ran_in_window(q, ids, n_ids))
            mm_violation(q, MM_V_MISMATCH,
                         "task 0x%" PRIx64 " (%s) skipped as %s is shown running, and no Task at "
                         "that address ran in the window",
                         ts->addr, ts->name, uw_errname(ts->skipped));
    }
}

void mm_check_entry(mm_oq *q, size_t i)
{
    const uw_sample *s = q->s;
    const uw_task_sample *ts = &s->tasks[i];
    int32_t ids[MM_OE_IDS];
    size_t n_ids, a, j;
    unsigned best = ~0u, d;
    int32_t best_id = -1;
    uint64_t best_t = q->t0;
    int pass, label = 0, named = 0, frames_ever = 0;
    mm_tentry e;
    char fr[256], tr[300], fl[96];

    q->v->tasks++;
    n_ids = mm_world_ids_at_addr(q->w, ts->addr, ids, MM_OE_IDS);
    if (ts->skipped != 0) {
        q->v->skipped++;
        q->v->skips[uw_reason_slot(ts->skipped)]++;
        if (ts->skipped == UW_SKIP_EPOCH_LIMIT && !mm_loops_past_epochs(q))
            mm_violation(q, MM_V_BAD_SKIP,
                         "task 0x%" PRIx64 " (%s) skipped as epoch_limit, with no more loop "
                         "threads than UW_EPOCH_THREADS",
                         ts->addr, ts->name);
        if (ts->skipped == UW_SKIP_NOT_ON_STACK) {
            if (!mm_ran_in_window(q, ids, n_ids))
                mm_violation(q, MM_V_BAD_SKIP,
                             "task 0x%" PRIx64 " (%s) skipped as running_task_not_on_stack, "
                             "never running nor marked executing",
                             ts->addr, ts->name);
        }
        mm_check_skipped_entry(q, ts, ids, n_ids);
        return;
    }
    q->v->emitted++;
    if (ts->n_frames > (size_t)UW_LIMIT_AWAIT_CHAIN + UW_LIMIT_FRAMES) {
        mm_frames_str(s, ts->first_frame, ts->n_frames, fr, sizeof fr);
        mm_violation(q, MM_V_DEPTH, "task 0x%" PRIx64 " (%s) %zu frames [%s]", ts->addr, ts->name,
                     ts->n_frames, fr);
    }
    /* pass 0: the instants each candidate changed; pass 1: wider */
    for (pass = 0; pass < 2 && best != 0; pass++) {
        for (a = 0; a < n_ids && best != 0; a++) {
            mm_inst_pass(q, ids[a], pass);
            for (j = 0; j < q->n_inst && best != 0; j++) {
                if (!mm_truth_entry(q, ids[a], q->inst[j], &e))
                    continue;
                d = mm_entry_diff(q, ts, &e);
                if (!(d & (MM_F_FRAMES | MM_F_CORO)) && (d & MM_F_NAME))
                    label = 1;
                if (!(d & (MM_F_FRAMES | MM_F_CORO | MM_F_NAME)))
                    named = 1;
                if (!(d & MM_F_FRAMES))
                    frames_ever = 1;
                if (__builtin_popcount(d) < __builtin_popcount(best)) {
                    best = d;
                    best_id = ids[a];
                    best_t = q->inst[j];
                }
            }
        }
    }
    if (best == 0)
        return;
    mm_frames_str(s, ts->first_frame, ts->n_frames, fr, sizeof fr);
    if (best_id >= 0)
        mm_describe_truth(q, best_id, best_t, tr, sizeof tr);
    else
        snprintf(tr, sizeof tr, "no Task held that address during the window");
    mm_fields_str(best, fl, sizeof fl);
    /* A name that never went with these frames at one instant is
     * another Task's; one that did, and differed only before the Task
     * was named (a lazy name) or after, is no label leak: whatever else
     * is wrong is said below. */
    if (named)
        label = 0;
    if (label)
        mm_violation(q, MM_V_LABEL_LEAK,
                     "task 0x%" PRIx64 " named '%s' shows the frames [%s] of a Task named "
                     "otherwise; %s",
                     ts->addr, ts->name, fr, tr);
    /* links: every stated relation must have held at some instant */
    {
        char what[320] = "";
        int leak = mm_link_leak(q, ts, ids, n_ids, what, sizeof what);
        if (leak)
            mm_violation(q, MM_V_LINK_LEAK,
                         "task 0x%" PRIx64 " (%s) frames [%s]: %s was never its awaiter, strong "
                         "or creation parent (or awaited) in the window; %s",
                         ts->addr, ts->name, fr, what, tr);
        if (label || leak)
            return;
    }
    /* frames: another Task's or the loop's (a leak), never its own
     * (bogus), or its own, though not with the rest at one instant */
    if (!frames_ever) {
        int leak = 0;
        size_t k;
        for (k = 0; k < ts->n_frames && n_ids > 0 && !leak; k++) {
            uint64_t fa = s->frames[ts->first_frame + k].addr;
            int mine = 0;
            for (a = 0; a < n_ids && !mine; a++) {
                mm_inst_reset(q);
                mm_inst_wide(q, ids[a]);
                mm_inst_done(q);
                for (j = 0; j < q->n_inst && !mine; j++) {
                    mm_tframe f[MM_MAX_STACK];
                    int n = mm_truth_frames(q->w, ids[a], q->inst[j], f, MM_MAX_STACK), x;
                    for (x = 0; x < n; x++)
                        mine |= f[x].addr == fa;
                }
            }
            leak = !mine && mm_owned_by_other(q, fa, ids, n_ids);
        }
        if (leak)
            mm_violation(q, MM_V_LEAK,
                         "task 0x%" PRIx64 " (%s) frames [%s]: a frame of another Task or of the "
                         "loop; %s",
                         ts->addr, ts->name, fr, tr);
        else
            mm_violation(
                q, MM_V_BOGUS, "task 0x%" PRIx64 " (%s) frames [%s] %s; %s", ts->addr, ts->name, fr,
                n_ids > 0 ? "never the Task's true stack" : "(not a Task in the window)", tr);
        return;
    }
    mm_violation(q, MM_V_MISMATCH,
                 "task 0x%" PRIx64 " (%s) frames [%s]: no instant with every field right "
                 "(closest differs in %s); %s",
                 ts->addr, ts->name, fr, fl, tr);
}
