/*
 * test_task_bounds.c — every bound of the Task walk at limit - 1, limit
 * and limit + 1, on fabricated 3.13 processes (fake_proc.h).
 *
 * Each test builds a world just below, at and just past one bound and
 * asserts what limits.h documents: everything up to the bound is given
 * whole, with no reason; past it, what is cut is cut at the bound and the
 * sample names the bound's reason code.  The values come from limits.h
 * (and the Task walk's private header), so the same tests run every limit
 * path with tiny bounds in the small-limits build.
 *
 * Elsewhere: UW_LIMIT_TASKS in tests/pbt/test_scale.c (16,384 Tasks of the
 * still model), UW_LIMIT_STACK_ITEMS of a thread and UW_LIMIT_LINK_CHAIN in
 * test_compose.c, the loop-epoch table in test_tasks.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fake_proc.h"
#include "internal/asyncio_layout.h"
#include "internal/code_cache.h"
#include "internal/pyobj.h"
#include "tasks/tasks_int.h"
#include "tornstack/error.h"
#include "tornstack/limits.h"
#include "tornstack/tasks.h"

static const int lines[4] = {10, 11, 12, 13};

/* A loop thread idle in select(), the Task and Future types, one Future
 * every Task may await, and one coroutine code object. */
typedef struct world {
    fake_proc fp;
    uint64_t interp, loop, task_type, future_type, fut, code;
    uw_unwinder *u;
    uw_tasks *t;
    uw_sample s;
} world;

static int suspended(void)
{
    return uw__layout_for_minor(13)->state_suspended_yield_from;
}

/* A loop thread of interpreter `interp` running loop `loop`. */
static void loop_thread(world *w, uint64_t interp, uint64_t native, uint64_t loop)
{
    const uw_layout *l = w->fp.l;
    uint64_t sel = fp_code(&w->fp, "select", "/lib/selectors.py", 10, lines, 4);
    uint64_t ts = fp_thread(&w->fp, interp, native, fp_frame(&w->fp, sel, 0, l->owner_thread, 1));

    fp_put64(&w->fp, ts + (uint64_t)l->tstate_asyncio_running_loop, loop);
}

static void world_init(world *w)
{
    memset(w, 0, sizeof *w);
    fp_init(&w->fp, 13);
    w->interp = fp_runtime(&w->fp);
    w->loop = fp_alloc(&w->fp, 64);
    loop_thread(w, w->interp, 77, w->loop);
    w->future_type = fp_type(&w->fp, "_asyncio.Future", 0);
    w->task_type = fp_type(&w->fp, "_asyncio.Task", w->future_type);
    w->fut = fp_alloc(&w->fp, 512); /* room for a coroutine window: a Future is
                                     * followed by other objects in a process */
    fp_put64(&w->fp, w->fut + 8, FP_FUTURE_OBJ_TYPE);
    w->code = fp_code(&w->fp, "step", "/app/w.py", 10, lines, 4);
    uw_sample_init(&w->s);
}

/* A Task on loop `loop` whose await chain is `depth` coroutines, the
 * innermost awaiting the shared Future; its fut_waiter is `waiter` (0: the
 * Future). */
static uint64_t task_on(world *w, uint64_t loop, size_t depth, uint64_t waiter)
{
    uint64_t cur = w->fut;
    size_t i;

    for (i = 0; i < depth; i++)
        cur = fp_coro(&w->fp, w->code, suspended(), 1, cur);
    return fp_task(&w->fp, w->task_type, loop, cur, fp_long(&w->fp, 1), waiter ? waiter : w->fut);
}

static uint64_t task(world *w, size_t depth, uint64_t waiter)
{
    return task_on(w, w->loop, depth, waiter);
}

/* One sample with `tasks` as the registry (an explicit root). */
static void sample(world *w, const uint64_t *tasks, size_t n)
{
    uint64_t set = fp_set(&w->fp, tasks, n);

    if (w->u == NULL) {
        assert_int_equal(uw_unwinder_new(&w->fp.reader, &w->fp.target, &w->u), 0);
        assert_int_equal(uw_tasks_new(w->u, &w->t), 0);
    }
    uw_tasks_set_root(w->t, set);
    assert_int_equal(uw_unwind_threads(w->u, &w->s), 0);
    assert_int_equal(uw_unwind_tasks(w->t, &w->s), 0);
}

static void world_end(world *w)
{
    uw_sample_free(&w->s);
    uw_tasks_free(w->t);
    uw_unwinder_free(w->u);
    fp_free(&w->fp);
}

static const uw_task_sample *task_at(const world *w, uint64_t addr)
{
    size_t i;
    for (i = 0; i < w->s.n_tasks; i++)
        if (w->s.tasks[i].addr == addr)
            return &w->s.tasks[i];
    fail_msg("Task 0x%llx is not in the sample", (unsigned long long)addr);
    return NULL;
}

static int64_t index_of(const world *w, uint64_t addr)
{
    return task_at(w, addr) - w->s.tasks;
}

/* Does Task `from` list `to` among the Tasks it awaits? */
static int awaits(const world *w, uint64_t from, uint64_t to)
{
    const uw_task_sample *f = task_at(w, from);
    size_t j;

    for (j = 0; j < f->n_awaiting; j++)
        if (w->s.tasks[w->s.awaiting[f->first_awaiting + j]].addr == to)
            return 1;
    return 0;
}

/* --- UW_LIMIT_AWAIT_CHAIN --------------------------------------------------- */

/* A chain of `depth` coroutines (the innermost awaiting a Future) gives all
 * its frames up to the bound; one more is cut at the bound (await_limit). */
static void await_chain(size_t depth)
{
    world w;
    uint64_t a;
    const uw_task_sample *ta;

    world_init(&w);
    a = task(&w, depth, 0);
    sample(&w, &a, 1);
    ta = task_at(&w, a);
    assert_int_equal(ta->skipped, 0);
    assert_int_equal(ta->n_frames, depth < UW_LIMIT_AWAIT_CHAIN ? depth : UW_LIMIT_AWAIT_CHAIN);
    assert_int_equal(ta->truncated, depth > UW_LIMIT_AWAIT_CHAIN ? UW_ERR_LIMIT_AWAIT : 0);
    assert_int_equal(w.s.tasks_error, 0);
    world_end(&w);
}

static void test_await_chain(void **state)
{
    (void)state;
    await_chain(UW_LIMIT_AWAIT_CHAIN - 1);
    await_chain(UW_LIMIT_AWAIT_CHAIN);
    await_chain(UW_LIMIT_AWAIT_CHAIN + 1);
}

/* --- UW_TASK_FRAMES_MAX ------------------------------------------------------------- */

/* `total` coroutine frames over UW_LIMIT_TASKS Tasks (each chain within
 * UW_LIMIT_AWAIT_CHAIN): up to UW_TASK_FRAMES_MAX every chain is whole;
 * one frame more cuts one chain (await_limit) and keeps the bound's worth. */
static void frames_total(size_t total)
{
    const size_t n = UW_LIMIT_TASKS;
    uint64_t *tasks = malloc(n * sizeof *tasks);
    size_t i, frames = 0, cut = 0;
    world w;

    assert_non_null(tasks);
    assert_true(total / n + 1 <= UW_LIMIT_AWAIT_CHAIN);
    world_init(&w);
    for (i = 0; i < n; i++)
        tasks[i] = task(&w, total / n + (i < total % n), 0);
    sample(&w, tasks, n);
    assert_int_equal(w.s.n_tasks, n);
    for (i = 0; i < w.s.n_tasks; i++) {
        const uw_task_sample *t = &w.s.tasks[i];
        assert_int_equal(t->skipped, 0);
        frames += t->n_frames;
        if (t->truncated != 0) {
            assert_int_equal(t->truncated, UW_ERR_LIMIT_AWAIT);
            cut++;
        }
    }
    if (total <= UW_TASK_FRAMES_MAX) {
        assert_int_equal(cut, 0);
        assert_int_equal(frames, total);
    } else {
        assert_int_equal(cut, 1);
        assert_int_equal(frames, UW_TASK_FRAMES_MAX);
    }
    world_end(&w);
    free(tasks);
}

static void test_frames_total(void **state)
{
    (void)state;
    frames_total(UW_TASK_FRAMES_MAX - 1);
    frames_total(UW_TASK_FRAMES_MAX);
    frames_total(UW_TASK_FRAMES_MAX + 1);
}

/* --- UW_LIMIT_GATHER_CHILDREN ------------------------------------------------------ */

/* A gather future (a _GatheringFuture instance) whose `_children` list is
 * items[0..n).  gather() adds a done callback to each child first, as
 * CPython does: a stand-in word in each Task item's first callback slot. */
static uint64_t gather(world *w, const uint64_t *items, size_t n)
{
    static const char *const key[1] = {"_children"};
    const uw_asyncio_layout *al = uw__asyncio_layout_for_minor(13);
    uint64_t type = fp_type(&w->fp, "_GatheringFuture", w->future_type);
    uint64_t list = fp_list(&w->fp, items, n);
    uint64_t g = fp_instance(&w->fp, type, fp_dict(&w->fp, key, &list, 1));
    size_t i;

    for (i = 0; i < n; i++) {
        const uint8_t *ty = fp_ptr(&w->fp, items[i] + 8, 8);
        uint64_t item_type = 0;
        if (ty != NULL)
            memcpy(&item_type, ty, 8);
        if (item_type == w->task_type)
            fp_put64(&w->fp, items[i] + (uint64_t)al->fut_callback0, g);
    }
    return g;
}

/* Task P gathers a list of n items: child Task A first, then Futures, then
 * child Task B last.  Up to the bound both are awaited by P; past it the
 * list is cut at the bound (A kept, B not) and the sample says
 * gather_limit; B, which P may await past the cut (it holds a done
 * callback), is skipped as awaiter_unknown, not shown awaited by nobody
 * (rule gather_cut_unsure). */
static void gather_children(size_t n)
{
    uint64_t *items = malloc(n * sizeof *items), tasks[3];
    size_t i;
    world w;

    assert_non_null(items);
    world_init(&w);
    tasks[1] = task(&w, 1, 0); /* A */
    tasks[2] = task(&w, 1, 0); /* B */
    items[0] = tasks[1];
    for (i = 1; i + 1 < n; i++)
        items[i] = w.fut;
    items[n - 1] = tasks[2];
    tasks[0] = task(&w, 1, gather(&w, items, n)); /* P */
    sample(&w, tasks, 3);
    assert_true(awaits(&w, tasks[0], tasks[1]));
    assert_int_equal(task_at(&w, tasks[1])->awaited_by, index_of(&w, tasks[0]));
    if (n <= UW_LIMIT_GATHER_CHILDREN) {
        assert_true(awaits(&w, tasks[0], tasks[2]));
        assert_int_equal(w.s.tasks_error, 0);
    } else {
        assert_false(awaits(&w, tasks[0], tasks[2]));
        assert_int_equal(task_at(&w, tasks[2])->skipped, UW_SKIP_AWAITER_UNKNOWN);
        assert_int_equal(task_at(&w, tasks[1])->skipped, 0);
        assert_int_equal(w.s.tasks_error, UW_ERR_LIMIT_GATHER);
    }
    world_end(&w);
    free(items);
}

static void test_gather_children(void **state)
{
    (void)state;
    gather_children(UW_LIMIT_GATHER_CHILDREN - 1);
    gather_children(UW_LIMIT_GATHER_CHILDREN);
    gather_children(UW_LIMIT_GATHER_CHILDREN + 1);
}

/* --- UW_LIMIT_GATHER_NESTING ------------------------------------------------------ */

/* Task P gathers child A and a gather of a gather ... `depth` gathers in
 * all, the innermost over child C.  Up to the bound C is awaited by P;
 * past it C is not (it is skipped as awaiter_unknown), A still is, and the
 * sample says gather_limit. */
static void gather_nesting(size_t depth)
{
    uint64_t tasks[3], inner, items[2];
    size_t d;
    world w;

    world_init(&w);
    tasks[1] = task(&w, 1, 0); /* A */
    tasks[2] = task(&w, 1, 0); /* C */
    inner = tasks[2];
    for (d = depth; d > 1; d--)
        inner = gather(&w, &inner, 1);
    items[0] = tasks[1];
    items[1] = inner;
    tasks[0] = task(&w, 1, gather(&w, items, 2)); /* P */
    sample(&w, tasks, 3);
    assert_true(awaits(&w, tasks[0], tasks[1]));
    if (depth <= UW_LIMIT_GATHER_NESTING) {
        assert_true(awaits(&w, tasks[0], tasks[2]));
        assert_int_equal(w.s.tasks_error, 0);
    } else {
        assert_false(awaits(&w, tasks[0], tasks[2]));
        assert_int_equal(task_at(&w, tasks[2])->skipped, UW_SKIP_AWAITER_UNKNOWN);
        assert_int_equal(w.s.tasks_error, UW_ERR_LIMIT_GATHER);
    }
    world_end(&w);
}

static void test_gather_nesting(void **state)
{
    (void)state;
    gather_nesting(UW_LIMIT_GATHER_NESTING - 1);
    gather_nesting(UW_LIMIT_GATHER_NESTING);
    gather_nesting(UW_LIMIT_GATHER_NESTING + 1);
}

/* --- What Tasks await rides on the chain levels ------------------------------------ */

/* The calls of a second sample of a world of Task P awaiting a gather (of child
 * A and of a gather of child C) or, with gathered 0, the shared Future (and
 * no gather at all: a gather gives its children a done callback, which
 * costs a read of its own on a Task nothing awaits, callbacks.c), and Task
 * D whose chain is `depth` coroutines deep. */
static uint64_t awaiting_calls(int gathered, size_t depth)
{
    uint64_t tasks[4], inner, items[2], calls;
    world w;

    world_init(&w);
    fp_use_vectored(&w.fp);        /* a vectored read is one call */
    tasks[1] = task(&w, 1, 0);     /* A */
    tasks[2] = task(&w, 1, 0);     /* C */
    tasks[3] = task(&w, depth, 0); /* D */
    inner = gathered ? gather(&w, &tasks[2], 1) : 0;
    items[0] = tasks[1];
    items[1] = inner;
    tasks[0] = task(&w, 1, gathered ? gather(&w, items, 2) : 0); /* P */
    sample(&w, tasks, 4); /* the types classified, the places found: cached */
    sample(&w, tasks, 4);
    assert_int_equal(awaits(&w, tasks[0], tasks[2]), gathered);
    assert_int_equal(w.s.tasks_error, 0);
    calls = w.s.calls;
    world_end(&w);
    return calls;
}

/* The gather's steps (a dozen dependent reads) share the vectored reads
 * of the chain levels (uw__aw_readv): alone they cost a call each; beside
 * a chain with at least as many levels' reads, no call of their own, and
 * beside a shorter one fewer. */
static void test_awaiting_rides(void **state)
{
    const size_t deep = UW_LIMIT_AWAIT_CHAIN;
    const uint64_t alone = awaiting_calls(1, 1) - awaiting_calls(0, 1);
    const uint64_t riding = awaiting_calls(1, deep) - awaiting_calls(0, deep);

    (void)state;
    print_message("gather steps: %llu calls beside a chain of 1, %llu beside one of %zu\n",
                  (unsigned long long)alone, (unsigned long long)riding, deep);
    assert_true(alone >= 8); /* locate, dict, keys, list, items, types, twice */
    assert_true(riding < alone);
    /* each level's two reads carry a step: 2 * deep of them, the first
     * taken by the waiters' types (the small-limits build's chains are
     * shorter than the steps: there only riding < alone holds) */
    if (2 * deep >= alone + 1)
        assert_int_equal(riding, 0);
}

/* --- UW_SNAP_PAGES: the chain levels from one read of the last sample's pages ----- */

/* Three Tasks whose chains are `depth` coroutines deep, in a world mapped
 * a page at a time (fp_use_pages), sampled `n` times: the last sample's
 * calls and snapshot numbers (*st), every chain whole. */
static uint64_t chains_calls(size_t depth, int n, uw__snap_stats *st)
{
    uint64_t tasks[3], calls;
    size_t i;
    int k;
    world w;

    world_init(&w);
    fp_use_pages(&w.fp);
    for (i = 0; i < 3; i++)
        tasks[i] = task(&w, depth, 0);
    for (k = 0; k < n; k++)
        sample(&w, tasks, 3);
    assert_int_equal(w.s.tasks_error, 0);
    for (i = 0; i < 3; i++) {
        assert_int_equal(task_at(&w, tasks[i])->skipped, 0);
        assert_int_equal(task_at(&w, tasks[i])->n_frames, depth);
    }
    uw__snap_stats_of(w.t, st);
    calls = w.s.calls;
    world_end(&w);
    print_message("chains of %zu, sample %d: %llu calls; snapshot %zu pages noted, %zu added, "
                  "%llu pieces served, %llu missed\n",
                  depth, n, (unsigned long long)calls, st->pages, st->pages_grown,
                  (unsigned long long)st->served, (unsigned long long)st->missed);
    return calls;
}

/* The warm sample's calls (the second). */
static uint64_t warm_calls(size_t depth)
{
    uw__snap_stats st;

    return chains_calls(depth, 2, &st);
}

/* Warm, the levels are served from the snapshot: a sample's calls do not
 * grow with the chains' depth (each level cost two calls before; the
 * small-limits build's snapshot holds too few pages for three chains of
 * UW_LIMIT_AWAIT_CHAIN, so there deeper chains cost more, as before). */
static void test_snapshot_depth(void **state)
{
    const uint64_t one = warm_calls(1), deep = warm_calls(UW_LIMIT_AWAIT_CHAIN);

    (void)state;
    if (3 * (size_t)UW_LIMIT_AWAIT_CHAIN + 4 <= UW_SNAP_PAGES)
        assert_int_equal(deep, one);
    else
        assert_true(deep > one);
}

/* The first sample notes nothing before it, so its levels miss: each
 * missed piece is read as its whole pages, added to the snapshot, and the
 * later pieces on them are served (snapshot.c, uw_snap_grow).  Here each
 * coroutine lies on a page of its own (with its code and frame), so what
 * is served is each level's awaitee slot, read with its coroutine's page:
 * a level costs one call, not two.  Returns the cold sample's calls. */
static uint64_t cold_calls(size_t depth, uw__snap_stats *st)
{
    return chains_calls(depth, 1, st);
}

static void test_snapshot_grow(void **state)
{
    uw__snap_stats one, deep;
    const size_t d = UW_LIMIT_AWAIT_CHAIN;
    const uint64_t c1 = cold_calls(1, &one), cd = cold_calls(d, &deep);

    (void)state;
    assert_int_equal(one.pages, 0); /* nothing noted before the first sample */
    assert_int_equal(deep.pages, 0);
    assert_true(deep.pages_grown > 0 && deep.pages_grown <= UW_SNAP_PAGES);
    assert_true(deep.served > 0); /* pieces of later levels, from pages added */
    if (3 * d + 4 <= UW_SNAP_PAGES) {
        /* two calls a level before (the coroutines, then their awaitees'
         * slots): the deep chains' extra levels now cost one call each */
        assert_true(cd - c1 <= d - 1);
    } else {
        /* the small-limits build: the snapshot fills up, the pieces past
         * it are read as themselves, the chains as whole (cold_calls) */
        assert_int_equal(deep.pages_grown, UW_SNAP_PAGES);
    }
}

/* Before each Task, the allocator's break moved to a page boundary: each
 * Task's coroutine (one page) on a page of its own. */
static uint64_t task_own_page(world *w)
{
    if (w->fp.brk % 4096 != 0)
        (void)fp_alloc(&w->fp, 4096 - (size_t)(w->fp.brk % 4096));
    return task(w, 1, 0);
}

/* n Tasks, each coroutine on a page of its own, sampled twice: the warm
 * snapshot's numbers. */
static uw__snap_stats snapshot_pages(size_t n)
{
    uint64_t *tasks = malloc(n * sizeof *tasks);
    uw__snap_stats st;
    size_t i;
    world w;

    assert_non_null(tasks);
    world_init(&w);
    fp_use_pages(&w.fp);
    for (i = 0; i < n; i++)
        tasks[i] = task_own_page(&w);
    sample(&w, tasks, n);
    sample(&w, tasks, n);
    assert_int_equal(w.s.tasks_error, 0);
    assert_int_equal(w.s.n_tasks, n);
    for (i = 0; i < n; i++) { /* served or read for real, every chain alike */
        assert_int_equal(w.s.tasks[i].skipped, 0);
        assert_int_equal(w.s.tasks[i].n_frames, 1);
    }
    uw__snap_stats_of(w.t, &st);
    world_end(&w);
    free(tasks);
    return st;
}

/* The pages a sample notes for the next, at UW_SNAP_PAGES - 1, the bound
 * and one past: up to the bound every piece of the levels is served; past
 * it the bound's worth of pages is read and the pieces on the page left
 * out are read for real (and the Tasks are as whole). */
static void test_snapshot_pages(void **state)
{
    const uw__snap_stats one = snapshot_pages(1);
    const size_t shared = one.pages - 1; /* pages every Task's levels read */
    int d;

    (void)state;
    assert_int_equal(one.missed, 0);
    assert_true(shared + 2 <= UW_SNAP_PAGES && UW_SNAP_PAGES + 1 - shared <= UW_LIMIT_TASKS);
    for (d = -1; d <= 1; d++) {
        const size_t noted = (size_t)((long)UW_SNAP_PAGES + d);
        const uw__snap_stats st = snapshot_pages(noted - shared);
        print_message("%zu pages noted: %zu read, %llu pieces served, %llu read\n", noted, st.pages,
                      (unsigned long long)st.served, (unsigned long long)st.missed);
        assert_int_equal(st.pages, d <= 0 ? noted : (size_t)UW_SNAP_PAGES);
        assert_int_equal(st.pages_read, st.pages);
        assert_true(st.served > 0);
        if (d <= 0)
            assert_int_equal(st.missed, 0);
        else
            assert_true(st.missed > 0);
    }
}

/* --- A gather located again only for a Task that still awaits it ----------------- */

static uint64_t rd64(world *w, uint64_t addr)
{
    uint64_t v;
    memcpy(&v, fp_ptr(&w->fp, addr, 8), 8);
    return v;
}

/* Two Tasks, P1 and P2, each awaiting a gather of one child Task; the
 * gathers' dicts are two objects with key strings of their own, so the
 * place the type caches from the first does not hold for the second,
 * which is located again (its type and dict read on their own).  With
 * `step`, P2 awaits something else from the moment the waiters' types
 * were read (the wrapping reader changes its fut_waiter then): its gather
 * may be freed, so it is not located again (the check, off here, would
 * find P2 changed). */
typedef struct rl_world {
    world w;
    const uw_reader_ops *real;
    uint64_t g2, p2;
    int step, type_reads;
} rl_world;

static rl_world *rl_cur;

static int rl_read(void *ctx, uint64_t addr, void *dst, size_t len)
{
    rl_world *r = rl_cur;
    const uw_asyncio_layout *al = uw__asyncio_layout_for_minor(13);
    int rc = r->real->read(ctx, addr, dst, len);

    if (addr == r->g2 + (uint64_t)r->w.fp.l->object_type && len == 8 && ++r->type_reads == 1 &&
        r->step)
        fp_put64(&r->w.fp, r->p2 + (uint64_t)al->task_fut_waiter, r->w.fut);
    return rc;
}

static const uw_reader_ops rl_ops = {rl_read, NULL, NULL, NULL};

static void relocate_run(rl_world *r, int step)
{
    const uw_asyncio_layout *al = uw__asyncio_layout_for_minor(13);
    uint64_t tasks[4];
    uw_task_options o;

    memset(r, 0, sizeof *r);
    world_init(&r->w);
    tasks[2] = task(&r->w, 1, 0);                           /* C1 */
    tasks[3] = task(&r->w, 1, 0);                           /* C2 */
    tasks[0] = task(&r->w, 1, gather(&r->w, &tasks[2], 1)); /* P1 */
    {
        /* G2: of G1's type, `_children` second in its dict */
        static const char *const key[2] = {"x", "_children"};
        uint64_t g1 = rd64(&r->w, tasks[0] + (uint64_t)al->task_fut_waiter), v[2];
        v[0] = r->w.fut;
        v[1] = fp_list(&r->w.fp, &tasks[3], 1);
        r->g2 = fp_instance(&r->w.fp, rd64(&r->w, g1 + (uint64_t)r->w.fp.l->object_type),
                            fp_dict(&r->w.fp, key, v, 2));
        fp_put64(&r->w.fp, tasks[3] + (uint64_t)al->fut_callback0, r->g2);
    }
    r->p2 = tasks[1] = task(&r->w, 1, r->g2); /* P2 */
    /* no check, whose two copies read every dependency again */
    assert_int_equal(uw_unwinder_new(&r->w.fp.reader, &r->w.fp.target, &r->w.u), 0);
    assert_int_equal(uw_tasks_new(r->w.u, &r->w.t), 0);
    uw_task_options_default(&o);
    o.skip = 0;
    uw_tasks_set_options(r->w.t, &o);
    /* the type's place, cached from P1's gather alone */
    sample(&r->w, tasks, 1);
    r->step = step;
    rl_cur = r;
    r->real = r->w.fp.reader.ops;
    r->w.fp.reader.ops = &rl_ops;
    sample(&r->w, tasks, 4);
    r->w.fp.reader.ops = r->real;
    assert_true(awaits(&r->w, tasks[0], tasks[2]));
    assert_int_equal(awaits(&r->w, tasks[1], tasks[3]), !step);
}

static void test_relocate_awaited(void **state)
{
    rl_world r;

    (void)state;
    relocate_run(&r, 0);
    assert_true(r.type_reads >= 2); /* the waiter's, then the relocation's */
    world_end(&r.w);
    relocate_run(&r, 1);
    assert_int_equal(r.type_reads, 1); /* the waiter's only */
    world_end(&r.w);
}

/* --- a gather's dict keys, shared with other dicts --------------------------- */

/* Task P awaits a gather of child Task A.  The gather's `_children` is
 * found through its dict's keys object, whose first words hold a
 * reference count and a version tag: shared keys (a `_GatheringFuture`'s,
 * on 3.12 and 3.13) count every dict made and freed with each gather of
 * the program, and the tag is filled in and cleared as code specialises.
 * Here each read of the keys object finds both moved on, as on a busy
 * loop: where `_children` lives did not change, so P still awaits A and
 * neither is skipped.  Before the check left those words out, every Task
 * awaiting a gather of a busy 3.13 program was skipped
 * (task_changed_while_read: 98 % of Task readings, 49 % after). */
typedef struct kr_world {
    world w;
    const uw_reader_ops *real;
    uint64_t keys;
    int bumps;
} kr_world;

static kr_world *kr_cur;

static int kr_read(void *ctx, uint64_t addr, void *dst, size_t len)
{
    kr_world *r = kr_cur;
    const uw_layout *l = r->w.fp.l;

    if (addr <= r->keys && r->keys < addr + len) {
        /* dk_version: the 4 bytes before dk_usable, which precedes
         * dk_nentries */
        uint8_t *version = fp_ptr(&r->w.fp, r->keys + (uint64_t)l->dictkeys_nentries - 12, 4);
        uint32_t v;
        fp_put64(&r->w.fp, r->keys, rd64(&r->w, r->keys) + 1); /* another dict shares them */
        memcpy(&v, version, 4);
        v++;
        memcpy(version, &v, 4);
        r->bumps++;
    }
    return r->real->read(ctx, addr, dst, len);
}

static const uw_reader_ops kr_ops = {kr_read, NULL, NULL, NULL};

static void test_gather_keys_refcount(void **state)
{
    static const char *const key[1] = {"_children"};
    const uw_asyncio_layout *al = uw__asyncio_layout_for_minor(13);
    uint64_t tasks[2], type, list, dict, g;
    kr_world r;

    (void)state;
    memset(&r, 0, sizeof r);
    world_init(&r.w);
    tasks[1] = task(&r.w, 1, 0); /* A */
    type = fp_type(&r.w.fp, "_GatheringFuture", r.w.future_type);
    list = fp_list(&r.w.fp, &tasks[1], 1);
    dict = fp_dict(&r.w.fp, key, &list, 1);
    g = fp_instance(&r.w.fp, type, dict);
    fp_put64(&r.w.fp, tasks[1] + (uint64_t)al->fut_callback0, g);
    r.keys = rd64(&r.w, dict + (uint64_t)r.w.fp.l->dict_keys);
    tasks[0] = task(&r.w, 1, g); /* P */
    kr_cur = &r;
    r.real = r.w.fp.reader.ops;
    r.w.fp.reader.ops = &kr_ops;
    sample(&r.w, tasks, 2);
    r.w.fp.reader.ops = r.real;
    assert_true(r.bumps >= 3); /* the link's read, copy A, copy B */
    assert_int_equal(task_at(&r.w, tasks[0])->skipped, 0);
    assert_int_equal(task_at(&r.w, tasks[1])->skipped, 0);
    assert_true(awaits(&r.w, tasks[0], tasks[1]));
    assert_int_equal(task_at(&r.w, tasks[1])->awaited_by, index_of(&r.w, tasks[0]));
    world_end(&r.w);
}

/* --- UW_LIMIT_GATHER_ITEMS ------------------------------------------------------------ */

/* n items in all over k gathers of UW_LIMIT_GATHER_CHILDREN items at most,
 * Task P_i awaiting gather G_i: child Task A first in G_0, child Task B
 * last in G_k-1, Futures between.  The P_i are made last (the highest
 * addresses), so their gathers are read in that order and G_k-1 claims its
 * items last.  Up to the bound P_k-1 awaits B; past it G_k-1 is cut where
 * the sample's items ran out (B not linked), the sample says
 * gather_limit, and B, which P_k-1 may await past the cut, is skipped as
 * awaiter_unknown.  A is linked either way. */
static void gather_items(size_t n)
{
    const size_t k = (n + UW_LIMIT_GATHER_CHILDREN - 1) / UW_LIMIT_GATHER_CHILDREN;
    uint64_t *items = malloc(UW_LIMIT_GATHER_CHILDREN * sizeof *items);
    uint64_t *tasks = malloc((k + 2) * sizeof *tasks);
    size_t g, i, left = n;
    world w;

    assert_non_null(items);
    assert_non_null(tasks);
    world_init(&w);
    tasks[0] = task(&w, 1, 0); /* A */
    tasks[1] = task(&w, 1, 0); /* B */
    for (g = 0; g < k; g++) {
        size_t m = left < UW_LIMIT_GATHER_CHILDREN ? left : UW_LIMIT_GATHER_CHILDREN;
        for (i = 0; i < m; i++)
            items[i] = w.fut;
        if (g == 0)
            items[0] = tasks[0];
        if (g + 1 == k)
            items[m - 1] = tasks[1];
        tasks[2 + g] = task(&w, 1, gather(&w, items, m));
        left -= m;
    }
    sample(&w, tasks, k + 2);
    assert_true(awaits(&w, tasks[2], tasks[0]));
    if (n <= UW_LIMIT_GATHER_ITEMS) {
        assert_true(awaits(&w, tasks[k + 1], tasks[1]));
        assert_int_equal(task_at(&w, tasks[1])->skipped, 0);
        assert_int_equal(w.s.tasks_error, 0);
    } else {
        assert_false(awaits(&w, tasks[k + 1], tasks[1]));
        assert_int_equal(task_at(&w, tasks[1])->skipped, UW_SKIP_AWAITER_UNKNOWN);
        assert_int_equal(w.s.tasks_error, UW_ERR_LIMIT_GATHER);
    }
    assert_int_equal(task_at(&w, tasks[0])->skipped, 0);
    world_end(&w);
    free(tasks);
    free(items);
}

static void test_gather_items(void **state)
{
    (void)state;
    if ((uint64_t)UW_GATHER_NODES_MAX * UW_LIMIT_GATHER_CHILDREN < UW_LIMIT_GATHER_ITEMS ||
        (UW_LIMIT_GATHER_ITEMS + UW_LIMIT_GATHER_CHILDREN) / UW_LIMIT_GATHER_CHILDREN + 2 >
            UW_LIMIT_TASKS) {
        /* this build's gather and Task bounds cut before the items run out */
        print_message("UW_LIMIT_GATHER_ITEMS (%d) is out of reach of %d gathers of %d items "
                      "and %d Tasks in this build\n",
                      UW_LIMIT_GATHER_ITEMS, (int)UW_GATHER_NODES_MAX, UW_LIMIT_GATHER_CHILDREN,
                      UW_LIMIT_TASKS);
        skip();
    }
    gather_items(UW_LIMIT_GATHER_ITEMS - 1);
    gather_items(UW_LIMIT_GATHER_ITEMS);
    gather_items(UW_LIMIT_GATHER_ITEMS + 1);
}

/* --- the links' dependency bytes (UW_DEP_BYTES_MAX) -------------------------------------- */

/* m Tasks P_i, each awaiting its own gather whose dict is one shared dict
 * of UW_LIMIT_DICT_ENTRIES keys with `_children` last (a list of child
 * Task A): each gather's keys read spans the whole keys object, so enough
 * of them fill the dependency bytes, which no bound of a real gather
 * reaches.  Within the room every P_i awaits A; past it the sample still
 * succeeds, says UW_ERR_CAPACITY, and what the P_i await is cut there (A
 * not linked, and skipped as awaiter_unknown rather than shown awaited by
 * nobody), none of them skipped. */
static void dep_bytes(size_t m, size_t span_out[1])
{
    const size_t n = UW_LIMIT_DICT_ENTRIES;
    const char **keys = malloc(n * sizeof *keys);
    uint64_t *values = calloc(n, sizeof *values), *tasks = malloc((m + 1) * sizeof *tasks);
    uint64_t type, dict;
    size_t i;
    world w;

    assert_non_null(keys);
    assert_non_null(values);
    assert_non_null(tasks);
    world_init(&w);
    tasks[0] = task(&w, 1, 0); /* A */
    for (i = 0; i < n; i++)
        keys[i] = "x";
    keys[n - 1] = "_children";
    values[n - 1] = fp_list(&w.fp, tasks, 1);
    dict = fp_dict(&w.fp, keys, values, n);
    type = fp_type(&w.fp, "_GatheringFuture", w.future_type);
    {
        const uint8_t *k = fp_ptr(&w.fp, dict + (uint64_t)w.fp.l->dict_keys, 8);
        uint64_t ka;
        memcpy(&ka, k, 8);
        span_out[0] =
            (size_t)w.fp.l->dictkeys_indices +
            ((size_t)1 << *fp_ptr(&w.fp, ka + (uint64_t)w.fp.l->dictkeys_log2_index_bytes, 1)) +
            n * (size_t)w.fp.l->dictuentry_size;
    }
    for (i = 1; i <= m; i++) {
        uint64_t g = fp_instance(&w.fp, type, dict);
        if (i == 1) /* gather() gives each child a done callback */
            fp_put64(&w.fp, tasks[0] + (uint64_t)uw__asyncio_layout_for_minor(13)->fut_callback0,
                     g);
        tasks[i] = task(&w, 1, g);
    }
    sample(&w, tasks, m + 1);
    if (m * span_out[0] < UW_DEP_BYTES_MAX) {
        for (i = 1; i <= m; i++)
            assert_true(awaits(&w, tasks[i], tasks[0]));
        assert_int_equal(w.s.tasks_error, 0);
        assert_int_equal(task_at(&w, tasks[0])->skipped, 0);
    } else {
        for (i = 1; i <= m; i++) {
            assert_false(awaits(&w, tasks[i], tasks[0]));
            assert_int_equal(task_at(&w, tasks[i])->skipped, 0);
        }
        assert_int_equal(w.s.tasks_error, UW_ERR_CAPACITY);
        assert_int_equal(task_at(&w, tasks[0])->skipped, UW_SKIP_AWAITER_UNKNOWN);
    }
    world_end(&w);
    free(tasks);
    free(values);
    free(keys);
}

static void test_dep_bytes(void **state)
{
    size_t span, fit;

    (void)state;
    dep_bytes(1, &span);                        /* learn one gather's keys span */
    fit = (UW_DEP_BYTES_MAX - 4096 * 4) / span; /* the other pieces: far less */
    if (fit + 8 > UW_LIMIT_TASKS || fit + 8 > UW_GATHER_NODES_MAX) {
        print_message("the dependency bytes (%zu) are out of reach of %d Tasks' gathers of "
                      "%zu-byte keys in this build\n",
                      (size_t)UW_DEP_BYTES_MAX, UW_LIMIT_TASKS, span);
        skip();
    }
    dep_bytes(fit / 2, &span);
    dep_bytes(UW_DEP_BYTES_MAX / span + 1, &span);
}

/* --- UW_LIMIT_TYPE_BASES ------------------------------------------------------------ */

/* A Task whose type is `depth` types from _asyncio.Task (1: the type
 * itself): a Task up to the bound; past it, not one (no reason: an object
 * not known to be a Task is not a Task). */
static void type_bases(size_t depth)
{
    uint64_t type, a, b;
    size_t d;
    world w;

    world_init(&w);
    type = w.task_type;
    for (d = 1; d < depth; d++)
        type = fp_type(&w.fp, "Sub", type);
    a = task(&w, 1, 0);
    b = fp_task(&w.fp, type, w.loop, fp_coro(&w.fp, w.code, suspended(), 1, w.fut),
                fp_long(&w.fp, 2), w.fut);
    {
        uint64_t tasks[2] = {a, b};
        sample(&w, tasks, 2);
    }
    assert_int_equal(w.s.n_tasks, depth <= UW_LIMIT_TYPE_BASES ? 2 : 1);
    assert_int_equal(task_at(&w, a)->skipped, 0);
    assert_int_equal(w.s.tasks_error, 0);
    world_end(&w);
}

static void test_type_bases(void **state)
{
    (void)state;
    type_bases(UW_LIMIT_TYPE_BASES - 1);
    type_bases(UW_LIMIT_TYPE_BASES);
    type_bases(UW_LIMIT_TYPE_BASES + 1);
}

/* --- UW_TYPE_CACHE ------------------------------------------------------------------ */

/* Tasks of UW_TYPE_CACHE - 1, UW_TYPE_CACHE and UW_TYPE_CACHE + 1 distinct
 * Task subclasses: every one is a Task, in a first and a second sample
 * (a type read once the cache is full is read again, not forgotten). */
static void type_cache(size_t n)
{
    uint64_t *tasks = malloc(n * sizeof *tasks);
    size_t i, k;
    world w;

    assert_non_null(tasks);
    world_init(&w);
    for (i = 0; i < n; i++)
        tasks[i] = fp_task(&w.fp, fp_type(&w.fp, "Sub", w.task_type), w.loop,
                           fp_coro(&w.fp, w.code, suspended(), 1, w.fut), fp_long(&w.fp, 1), w.fut);
    for (k = 0; k < 2; k++) {
        sample(&w, tasks, n);
        assert_int_equal(w.s.n_tasks, n < UW_LIMIT_TASKS ? n : UW_LIMIT_TASKS);
        for (i = 0; i < w.s.n_tasks; i++)
            assert_int_equal(w.s.tasks[i].n_frames, 1);
    }
    world_end(&w);
    free(tasks);
}

static void test_type_cache(void **state)
{
    (void)state;
    type_cache(UW_TYPE_CACHE - 1);
    type_cache(UW_TYPE_CACHE);
    type_cache(UW_TYPE_CACHE + 1);
}

/* --- UW_REGISTRY_CACHE ---------------------------------------------------------- */

/* n interpreters, each with a loop thread and one Task, in one sample: up
 * to the bound every interpreter's Task is read; past it the others are
 * not, and the sample says registry_limit. */
static void registry_cache(size_t n)
{
    uint64_t *tasks = malloc(n * sizeof *tasks), interp = 0;
    size_t i, want = n < UW_REGISTRY_CACHE ? n : UW_REGISTRY_CACHE;
    world w;

    assert_non_null(tasks);
    assert_true(n <= UW_LIMIT_INTERPRETERS && n <= UW_LIMIT_TASKS);
    world_init(&w);
    for (i = 0; i < n; i++) {
        uint64_t loop = w.loop;
        if (i > 0) {
            interp = fp_interp(&w.fp, i == 1 ? w.interp : interp, (int64_t)i);
            loop = fp_alloc(&w.fp, 64);
            loop_thread(&w, interp, 100 + i, loop);
        }
        tasks[i] = task_on(&w, loop, 1, 0);
    }
    sample(&w, tasks, n);
    assert_int_equal(w.s.n_tasks, want);
    assert_int_equal(w.s.tasks_error, n > UW_REGISTRY_CACHE ? UW_ERR_LIMIT_REGISTRIES : 0);
    world_end(&w);
    free(tasks);
}

static void test_registry_cache(void **state)
{
    (void)state;
    registry_cache(UW_REGISTRY_CACHE - 1);
    registry_cache(UW_REGISTRY_CACHE);
    registry_cache(UW_REGISTRY_CACHE + 1);
}

/* --- UW_LIMIT_TASKS among other candidates, UW_LIMIT_TASK_CANDIDATES ----------- */

/* A registry of `others` Tasks that do not count (every other one done,
 * the rest on a loop no thread runs), made first, then n pending Tasks of
 * the running loop.  The Task bound counts the pending ones only: up to
 * UW_LIMIT_TASKS every one is listed whatever the others; one more gives
 * task_limit and the bound's worth.  The candidates' bound counts every
 * registry entry: up to UW_LIMIT_TASK_CANDIDATES every pending Task is
 * listed with no reason; one entry more gives candidate_limit (which
 * entries are cut is the set's order, so only a bound on what is listed
 * holds then).  The small-limits build once listed 7 of 8 pending Tasks
 * behind dead entries here (corpus/race/regress, INDEX). */
static void tasks_among(size_t n, size_t others)
{
    const uw_asyncio_layout *al = uw__asyncio_layout_for_minor(13);
    const size_t total = n + others;
    uint64_t *tasks = malloc(total * sizeof *tasks), idle_loop;
    size_t i;
    world w;

    assert_non_null(tasks);
    world_init(&w);
    idle_loop = fp_alloc(&w.fp, 64);
    for (i = 0; i < others; i++) {
        tasks[i] = task_on(&w, i % 2 ? idle_loop : w.loop, 1, 0);
        if (i % 2 == 0)
            fp_put32(&w.fp, tasks[i] + (uint64_t)al->fut_state, (uint32_t)al->state_pending + 1);
    }
    for (i = others; i < total; i++)
        tasks[i] = task(&w, 1, 0);
    sample(&w, tasks, total);
    if (total > UW_LIMIT_TASK_CANDIDATES) {
        assert_int_equal(w.s.tasks_error, UW_ERR_LIMIT_CANDIDATES);
        assert_true(w.s.n_tasks <= n);
    } else if (n > UW_LIMIT_TASKS) {
        assert_int_equal(w.s.tasks_error, UW_ERR_LIMIT_TASKS);
        assert_int_equal(w.s.n_tasks, UW_LIMIT_TASKS);
    } else {
        assert_int_equal(w.s.tasks_error, 0);
        assert_int_equal(w.s.n_tasks, n);
        for (i = others; i < total; i++)
            assert_int_equal(task_at(&w, tasks[i])->n_frames, 1);
    }
    for (i = 0; i < w.s.n_tasks; i++) {
        const uw_task_sample *ts = &w.s.tasks[i];
        size_t k;
        for (k = others; k < total && tasks[k] != ts->addr; k++)
            ;
        assert_true(k < total); /* never a done Task, nor one of the idle loop */
        assert_int_equal(ts->skipped, 0);
    }
    world_end(&w);
    free(tasks);
}

static void test_tasks_among_others(void **state)
{
    const size_t m = UW_LIMIT_TASK_CANDIDATES - UW_LIMIT_TASKS;
    (void)state;
    _Static_assert(UW_LIMIT_TASK_CANDIDATES > UW_LIMIT_TASKS, "room for entries that do not count");
    tasks_among(UW_LIMIT_TASKS - 1, m);
    tasks_among(UW_LIMIT_TASKS, m);
    tasks_among(UW_LIMIT_TASKS + 1, m - 1);
}

static void test_task_candidates(void **state)
{
    (void)state;
    tasks_among(1, UW_LIMIT_TASK_CANDIDATES - 2);
    tasks_among(1, UW_LIMIT_TASK_CANDIDATES - 1);
    tasks_among(1, UW_LIMIT_TASK_CANDIDATES);
}

/* --- UW_LIMIT_LINK_RECORDS ---------------------------------------------------------- */

/* The hook module's buffer with n creation records: n - 1 of children not
 * in the sample, then one making C a child of P.  Up to the bound C's
 * creator is P; past it the buffer is read up to the bound (C's record is
 * not) and the sample says link_limit. */
static void hook_records(size_t n)
{
    static const char *const mod_key[1] = {"tornstack_hook"}, *const links_key[1] = {"_LINKS"};
    const size_t len = 16 + n * UW_LINK_RECORD;
    uint8_t *buf = calloc(1, len);
    uint64_t tasks[2], count = n, module, v;
    size_t i;
    world w;

    assert_non_null(buf);
    world_init(&w);
    tasks[0] = task(&w, 1, 0); /* P */
    tasks[1] = task(&w, 1, 0); /* C */
    memcpy(buf, UW_LINKS_MAGIC, 8);
    memcpy(buf + 8, &count, 8);
    for (i = 0; i < n; i++) {
        uint64_t rec[3] = {0x5000000000ull + 16 * i, tasks[0], UW_LINK_CREATION};
        if (i == n - 1)
            rec[0] = tasks[1];
        memcpy(buf + 16 + i * UW_LINK_RECORD, rec, sizeof rec);
    }
    v = fp_bytearray(&w.fp, buf, len);
    module = fp_alloc(&w.fp, 64);
    fp_put64(&w.fp, module + (uint64_t)w.fp.l->module_dict, fp_dict(&w.fp, links_key, &v, 1));
    fp_set_modules(&w.fp, w.interp, fp_dict(&w.fp, mod_key, &module, 1));
    sample(&w, tasks, 2);
    if (n <= UW_LIMIT_LINK_RECORDS) {
        assert_int_equal(task_at(&w, tasks[1])->created_by, index_of(&w, tasks[0]));
        assert_int_equal(w.s.tasks_error, 0);
    } else {
        assert_int_equal(task_at(&w, tasks[1])->created_by, -1);
        assert_int_equal(w.s.tasks_error, UW_ERR_LIMIT_LINK_RECORDS);
    }
    world_end(&w);
    free(buf);
}

/* Records naming one child twice with one kind (a slot zeroed and reused
 * while the buffer was read): the later record's parent holds, as the
 * buffer's own order says; another kind is another link; zero records and
 * unknown kinds are none. */
static void test_hook_duplicates(void **state)
{
    static const char *const mod_key[1] = {"tornstack_hook"}, *const links_key[1] = {"_LINKS"};
    uint8_t buf[16 + 6 * UW_LINK_RECORD];
    uint64_t tasks[3], count = 6, module, v;
    size_t i;
    world w;

    (void)state;
    if (UW_LIMIT_LINK_RECORDS < 6) {
        print_message("six hook records are past UW_LIMIT_LINK_RECORDS (%d) in this build\n",
                      (int)UW_LIMIT_LINK_RECORDS);
        skip();
    }
    world_init(&w);
    tasks[0] = task(&w, 1, 0); /* P1 */
    tasks[1] = task(&w, 1, 0); /* P2 */
    tasks[2] = task(&w, 1, 0); /* C */
    memset(buf, 0, sizeof buf);
    memcpy(buf, UW_LINKS_MAGIC, 8);
    memcpy(buf + 8, &count, 8);
    {
        const uint64_t rec[6][3] = {{tasks[2], tasks[0], UW_LINK_CREATION},
                                    {tasks[2], tasks[0], UW_LINK_STRONG},
                                    {0, 0, 0},
                                    {tasks[2], tasks[1], UW_LINK_CREATION},
                                    {tasks[2], tasks[1], 7},
                                    {tasks[1], tasks[0], UW_LINK_CREATION}};
        for (i = 0; i < 6; i++)
            memcpy(buf + 16 + i * UW_LINK_RECORD, rec[i], sizeof rec[i]);
    }
    v = fp_bytearray(&w.fp, buf, sizeof buf);
    module = fp_alloc(&w.fp, 64);
    fp_put64(&w.fp, module + (uint64_t)w.fp.l->module_dict, fp_dict(&w.fp, links_key, &v, 1));
    fp_set_modules(&w.fp, w.interp, fp_dict(&w.fp, mod_key, &module, 1));
    sample(&w, tasks, 3);
    assert_int_equal(task_at(&w, tasks[2])->created_by, index_of(&w, tasks[1]));
    assert_int_equal(task_at(&w, tasks[2])->linked_to, index_of(&w, tasks[0]));
    assert_int_equal(task_at(&w, tasks[1])->created_by, index_of(&w, tasks[0]));
    assert_int_equal(task_at(&w, tasks[1])->linked_to, -1);
    assert_int_equal(w.s.tasks_error, 0);
    world_end(&w);
}

static void test_hook_records(void **state)
{
    (void)state;
    hook_records(UW_LIMIT_LINK_RECORDS - 1);
    hook_records(UW_LIMIT_LINK_RECORDS);
    hook_records(UW_LIMIT_LINK_RECORDS + 1);
}

/* The API's table holds UW_LIMIT_LINK_RECORDS links; one more is refused
 * with link_limit, and replacing a known child's parent still works. */
static void test_api_links(void **state)
{
    world w;
    size_t i;

    (void)state;
    world_init(&w);
    assert_int_equal(uw_unwinder_new(&w.fp.reader, &w.fp.target, &w.u), 0);
    assert_int_equal(uw_tasks_new(w.u, &w.t), 0);
    for (i = 0; i < UW_LIMIT_LINK_RECORDS; i++)
        assert_int_equal(uw_tasks_link(w.t, 0x5000 + 16 * i, 0x100, UW_LINK_CREATION), 0);
    assert_int_equal(uw_tasks_link(w.t, 0x5000 + 16 * i, 0x100, UW_LINK_CREATION),
                     UW_ERR_LIMIT_LINK_RECORDS);
    assert_int_equal(uw_tasks_link(w.t, 0x5000, 0x200, UW_LINK_CREATION), 0);
    uw_tasks_unlink(w.t, 0x5000);
    assert_int_equal(uw_tasks_link(w.t, 0x5000 + 16 * i, 0x100, UW_LINK_CREATION), 0);
    world_end(&w);
}

enum { CHURN_CHILDREN = 12000 };

static uint64_t churn_child(size_t c)
{
    return 0x10000 + 16 * (uint64_t)c;
}

/* The API table holds exactly the links of want[][], each once (a pass
 * over the table, independent of its index). */
static void churn_same(const uw_tasks *t, uint64_t (*want)[2], size_t n_want, uint8_t (*seen)[2])
{
    size_t i;

    memset(seen, 0, CHURN_CHILDREN * sizeof *seen);
    assert_int_equal(t->n_links, n_want);
    for (i = 0; i < t->n_links; i++) {
        const uw_link *e = &t->links[i];
        size_t c = (size_t)((e->child - 0x10000) / 16), k = e->kind == UW_LINK_CREATION;
        assert_true(c < CHURN_CHILDREN && churn_child(c) == e->child);
        assert_int_equal(seen[c][k], 0);
        seen[c][k] = 1;
        assert_int_equal(e->parent, want[c][k]);
    }
}

/* The API table's index under churn, as an embedding profiler drives it:
 * Tasks linked at creation (both kinds for some), relinked, unlinked when
 * done, their addresses reused, in a fixed pseudo-random order (seed
 * 12345); where the build's UW_LIMIT_LINK_RECORDS is below the 24,000
 * links it could reach (small-limits), new links are refused there.  After
 * every step the table's count is the reference's, and often the table
 * holds exactly the reference's links, each once; at the end every link
 * is found through the index (a relink replaces its parent, adds no
 * entry). */
static void test_api_links_churn(void **state)
{
    enum { STEPS = 120000 };
    static uint64_t want[CHURN_CHILDREN][2];
    static uint8_t seen[CHURN_CHILDREN][2];
    world w;
    uint64_t x = 12345;
    size_t step, i, n_want = 0, refused = 0;

    (void)state;
    memset(want, 0, sizeof want);
    world_init(&w);
    assert_int_equal(uw_unwinder_new(&w.fp.reader, &w.fp.target, &w.u), 0);
    assert_int_equal(uw_tasks_new(w.u, &w.t), 0);
    for (step = 0; step < STEPS; step++) {
        size_t c, k;
        uint64_t parent;
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        c = (size_t)(x >> 33) % CHURN_CHILDREN;
        k = (size_t)(x >> 20) & 1u;
        parent = 0x900000 + (x >> 40);
        if (((x >> 12) & 7u) == 0) {
            uw_tasks_unlink(w.t, churn_child(c));
            n_want -= (size_t)(want[c][0] != 0) + (size_t)(want[c][1] != 0);
            want[c][0] = want[c][1] = 0;
        } else {
            int rc =
                uw_tasks_link(w.t, churn_child(c), parent, k ? UW_LINK_CREATION : UW_LINK_STRONG);
            if (n_want == UW_LIMIT_LINK_RECORDS && want[c][k] == 0) {
                assert_int_equal(rc, UW_ERR_LIMIT_LINK_RECORDS);
                refused++;
                continue;
            }
            assert_int_equal(rc, 0);
            n_want += want[c][k] == 0;
            want[c][k] = parent;
        }
        assert_int_equal(w.t->n_links, n_want);
        if (step % 4999 == 0)
            churn_same(w.t, want, n_want, seen);
    }
    churn_same(w.t, want, n_want, seen);
    if (2 * CHURN_CHILDREN > UW_LIMIT_LINK_RECORDS)
        assert_true(refused > 0); /* the bound was met */
    for (i = 0; i < CHURN_CHILDREN; i++)
        for (step = 0; step < 2; step++)
            if (want[i][step] != 0) {
                assert_int_equal(uw_tasks_link(w.t, churn_child(i), 0x77,
                                               step ? UW_LINK_CREATION : UW_LINK_STRONG),
                                 0);
                want[i][step] = 0x77;
            }
    churn_same(w.t, want, n_want, seen);
    world_end(&w);
}

/* --- UW_LIMIT_SET_SLOTS ---------------------------------------------------------------- */

/* A registry set of `slots` slots (a power of two, as every set table):
 * read up to the bound, refused past it (set_limit). */
static void set_slots(uint64_t slots)
{
    world w;
    uint64_t a, set, table;

    world_init(&w);
    a = task(&w, 1, 0);
    table = fp_alloc(&w.fp, (size_t)slots * (size_t)w.fp.l->setentry_size);
    fp_put64(&w.fp,
             table + (slots / 2) * (uint64_t)w.fp.l->setentry_size + (uint64_t)w.fp.l->setentry_key,
             a);
    set = fp_set(&w.fp, &a, 1);
    fp_put64(&w.fp, set + (uint64_t)w.fp.l->set_mask, slots - 1);
    fp_put64(&w.fp, set + (uint64_t)w.fp.l->set_table, table);
    assert_int_equal(uw_unwinder_new(&w.fp.reader, &w.fp.target, &w.u), 0);
    assert_int_equal(uw_tasks_new(w.u, &w.t), 0);
    uw_tasks_set_root(w.t, set);
    assert_int_equal(uw_unwind_threads(w.u, &w.s), 0);
    assert_int_equal(uw_unwind_tasks(w.t, &w.s), 0);
    assert_int_equal(w.s.n_tasks, slots <= UW_LIMIT_SET_SLOTS ? 1 : 0);
    assert_int_equal(w.s.tasks_error, slots <= UW_LIMIT_SET_SLOTS ? 0 : UW_ERR_LIMIT_SET);
    world_end(&w);
}

static void test_set_slots(void **state)
{
    (void)state;
    set_slots((uint64_t)UW_LIMIT_SET_SLOTS / 2);
    set_slots((uint64_t)UW_LIMIT_SET_SLOTS);
    set_slots((uint64_t)UW_LIMIT_SET_SLOTS * 2);
}

/* --- UW_LIMIT_DICT_ENTRIES ------------------------------------------------------------ */

/* A dict of n entries, the key looked for last: found up to the bound,
 * dict_limit past it. */
static void dict_entries(size_t n)
{
    const char **keys = malloc(n * sizeof *keys);
    uint64_t *values = malloc(n * sizeof *values), d, v = 0;
    uw_pytypes types;
    uw_pyctx c;
    size_t i;
    world w;

    assert_non_null(keys);
    assert_non_null(values);
    world_init(&w);
    for (i = 0; i < n; i++) {
        keys[i] = i + 1 < n ? "m" : "asyncio.tasks";
        values[i] = 0x1000 + i;
    }
    d = fp_dict(&w.fp, keys, values, n);
    memset(&types, 0, sizeof types);
    c = (uw_pyctx){&w.fp.reader, w.fp.l, &types};
    assert_int_equal(uw__dict_get_str(&c, d, "asyncio.tasks", &v),
                     n <= UW_LIMIT_DICT_ENTRIES ? 0 : UW_ERR_LIMIT_DICT);
    if (n <= UW_LIMIT_DICT_ENTRIES)
        assert_int_equal(v, 0x1000 + n - 1);
    world_end(&w);
    free(keys);
    free(values);
}

static void test_dict_entries(void **state)
{
    (void)state;
    dict_entries(UW_LIMIT_DICT_ENTRIES - 1);
    dict_entries(UW_LIMIT_DICT_ENTRIES);
    dict_entries(UW_LIMIT_DICT_ENTRIES + 1);
}

/* A remembered dict entry (uw__dict_get_str_at, the running loop on
 * 3.11/3.12): the first lookup is the full one; then one vectored read
 * answers, the holder's word included, and sees a new loop in it; a new
 * holder costs its own read; a dict given new keys, or an entry that now
 * holds another key, is looked up in full again and never answered from
 * the stale place. */
static void test_dict_slot(void **state)
{
    static const char *const keys[2] = {"other", "loop_key"};
    static const char *const keys2[3] = {"x", "y", "loop_key"};
    uint64_t values[2], values2[3], d, d2, holder, holder2, v = 0, loop = 0, c0, k, e;
    uw_dict_slot slot;
    uw_pytypes types;
    uw_pyctx c;
    world w;
    (void)state;
    world_init(&w);
    holder = fp_alloc(&w.fp, 64);
    holder2 = fp_alloc(&w.fp, 64);
    fp_put64(&w.fp, holder + 16, 0x7000);
    fp_put64(&w.fp, holder2 + 16, 0x8000);
    values[0] = 0x1111, values[1] = holder;
    d = fp_dict(&w.fp, keys, values, 2);
    memset(&types, 0, sizeof types);
    memset(&slot, 0, sizeof slot);
    fp_use_vectored(&w.fp);
    c = (uw_pyctx){&w.fp.reader, w.fp.l, &types};

    c0 = w.fp.reader.calls;
    assert_int_equal(uw__dict_get_str_at(&c, d, "loop_key", &slot, 16, &v, &loop), 0);
    assert_int_equal(v, holder);
    assert_int_equal(loop, 0x7000);
    assert_true(w.fp.reader.calls - c0 > 2); /* the full lookup */
    assert_int_equal(slot.dict, d);

    fp_put64(&w.fp, holder + 16, 0x7100); /* a new loop in the same holder */
    c0 = w.fp.reader.calls;
    assert_int_equal(uw__dict_get_str_at(&c, d, "loop_key", &slot, 16, &v, &loop), 0);
    assert_int_equal(v, holder);
    assert_int_equal(loop, 0x7100);
    assert_int_equal(w.fp.reader.calls - c0, 1);

    k = uw__u64(fp_ptr(&w.fp, d + (uint64_t)w.fp.l->dict_keys, 8));
    e = slot.entry;
    fp_put64(&w.fp, e + slot.voff, holder2); /* a new holder */
    c0 = w.fp.reader.calls;
    assert_int_equal(uw__dict_get_str_at(&c, d, "loop_key", &slot, 16, &v, &loop), 0);
    assert_int_equal(v, holder2);
    assert_int_equal(loop, 0x8000);
    assert_int_equal(w.fp.reader.calls - c0, 2);

    /* new keys for the dict: the entry sits elsewhere now */
    values2[0] = 1, values2[1] = 2, values2[2] = holder;
    d2 = fp_dict(&w.fp, keys2, values2, 3);
    fp_put64(&w.fp, d + (uint64_t)w.fp.l->dict_keys,
             uw__u64(fp_ptr(&w.fp, d2 + (uint64_t)w.fp.l->dict_keys, 8)));
    assert_int_equal(uw__dict_get_str_at(&c, d, "loop_key", &slot, 16, &v, &loop), 0);
    assert_int_equal(v, holder);
    assert_int_equal(loop, 0x7100);
    assert_true(slot.keys != k);

    /* the remembered entry now holds another key: not answered from it */
    fp_put64(&w.fp, slot.entry + slot.koff,
             uw__u64(fp_ptr(&w.fp, slot.entry - slot.esize + slot.koff, 8)));
    assert_int_equal(uw__dict_get_str_at(&c, d, "loop_key", &slot, 16, &v, &loop),
                     UW_ERR_NOT_FOUND);

    /* no extra word asked: the value alone, from a full lookup and then
     * from the slot */
    d2 = fp_dict(&w.fp, keys, values, 2);
    assert_int_equal(uw__dict_get_str_at(&c, d2, "loop_key", &slot, -1, &v, &loop), 0);
    assert_int_equal(v, holder);
    c0 = w.fp.reader.calls;
    assert_int_equal(uw__dict_get_str_at(&c, d2, "loop_key", &slot, -1, &v, &loop), 0);
    assert_int_equal(v, holder);
    assert_int_equal(w.fp.reader.calls - c0, 1);
    world_end(&w);
}

/* The registry found through a sys.modules of n entries (asyncio.tasks
 * last): its Task up to the bound; past it none, and the sample says
 * dict_limit rather than nothing. */
static void modules_entries(size_t n)
{
    static const char *const data_key[1] = {"data"};
    const char **keys = malloc(n * sizeof *keys);
    uint64_t *values = malloc(n * sizeof *values), a, weakset, module, set;
    const char *sched = uw__asyncio_layout_for_minor(13)->scheduled_tasks;
    size_t i;
    world w;

    assert_non_null(keys);
    assert_non_null(values);
    world_init(&w);
    a = task(&w, 1, 0);
    set = fp_set(&w.fp, &a, 1);
    weakset = fp_instance(&w.fp, fp_type(&w.fp, "WeakSet", 0), fp_dict(&w.fp, data_key, &set, 1));
    module = fp_alloc(&w.fp, 64);
    fp_put64(&w.fp, module + (uint64_t)w.fp.l->module_dict, fp_dict(&w.fp, &sched, &weakset, 1));
    for (i = 0; i < n; i++) {
        keys[i] = i + 1 < n ? "m" : "asyncio.tasks";
        values[i] = i + 1 < n ? w.fut : module;
    }
    fp_set_modules(&w.fp, w.interp, fp_dict(&w.fp, keys, values, n));
    assert_int_equal(uw_unwinder_new(&w.fp.reader, &w.fp.target, &w.u), 0);
    assert_int_equal(uw_tasks_new(w.u, &w.t), 0);
    assert_int_equal(uw_unwind_threads(w.u, &w.s), 0);
    assert_int_equal(uw_unwind_tasks(w.t, &w.s), 0);
    assert_int_equal(w.s.n_tasks, n <= UW_LIMIT_DICT_ENTRIES ? 1 : 0);
    assert_int_equal(w.s.tasks_error, n <= UW_LIMIT_DICT_ENTRIES ? 0 : UW_ERR_LIMIT_DICT);
    world_end(&w);
    free(keys);
    free(values);
}

static void test_modules_entries(void **state)
{
    (void)state;
    modules_entries(UW_LIMIT_DICT_ENTRIES - 1);
    modules_entries(UW_LIMIT_DICT_ENTRIES);
    modules_entries(UW_LIMIT_DICT_ENTRIES + 1);
}

/* --- UW_CODE_CACHE_SLOTS ----------------------------------------------------------- */

/* n distinct coroutine code objects (one Task each): every frame is named
 * right in three samples in a row, whether the cache holds them all, is
 * full, or overflows and is emptied at the next sample. */
static void code_cache(size_t n)
{
    uint64_t *tasks = malloc(n * sizeof *tasks);
    size_t i, k;
    world w;

    assert_non_null(tasks);
    assert_true(n <= UW_LIMIT_TASKS);
    world_init(&w);
    for (i = 0; i < n; i++) {
        char name[32];
        snprintf(name, sizeof name, "c%zu", i);
        tasks[i] = fp_task(
            &w.fp, w.task_type, w.loop,
            fp_coro(&w.fp, fp_code(&w.fp, name, "/a.py", 10, lines, 4), suspended(), 1, w.fut),
            fp_long(&w.fp, 1), w.fut);
    }
    for (k = 0; k < 3; k++) {
        sample(&w, tasks, n);
        assert_int_equal(w.s.n_tasks, n);
        for (i = 0; i < n; i++) {
            const uw_task_sample *t = task_at(&w, tasks[i]);
            char name[32];
            snprintf(name, sizeof name, "c%zu", i);
            assert_int_equal(t->n_frames, 1);
            assert_string_equal(uw_frame_name(&w.s.frames[t->first_frame]), name);
        }
    }
    world_end(&w);
    free(tasks);
}

static void test_code_cache(void **state)
{
    size_t n = UW_CODE_CACHE_SLOTS + 1;

    (void)state;
    if (n > UW_LIMIT_TASKS) {
        print_message("code cache: %zu code objects need more than UW_LIMIT_TASKS (%d) Tasks; "
                      "checked with %d\n",
                      n, (int)UW_LIMIT_TASKS, (int)UW_LIMIT_TASKS);
        n = UW_LIMIT_TASKS;
    }
    code_cache(n - 2);
    code_cache(n - 1);
    code_cache(n);
    /* more than the table takes in one sample: the overflow list */
    if (2 * UW_CODE_CACHE_SLOTS <= UW_LIMIT_TASKS)
        code_cache(2 * UW_CODE_CACHE_SLOTS);
}

/* UW_RECOVER_BUSY_TASKS at -1/0/+1 candidates: a round of a busy loop
 * read in one piece (3.14+, recover.c) reads every candidate up to the
 * bound; past it, exactly the bound, the ones from the round's turn on,
 * round the list, and successive turns (the turn moved on by the bound
 * each time, as uw__recover moves it) reach every candidate, none left
 * out for good.  Then UW_RECOVER_BUSY_READS: such a round may begin
 * below that many reads of the sample, not at it or past it; and
 * UW_RECOVER_READS the same for any round. */
static void test_recover_busy_bounds(void **state)
{
    const size_t cap = UW_RECOVER_BUSY_TASKS;
    size_t total, turn, ord;

    (void)state;
    for (total = cap - 1; total <= cap + 1; total++) {
        unsigned char *seen = calloc(total, 1);
        size_t k, n_seen = 0;
        assert_non_null(seen);
        for (k = 0, turn = 0; k < total; k++, turn += cap) {
            size_t n = 0;
            for (ord = 0; ord < total; ord++) {
                const int in = uw__busy_picked(ord, total, turn);
                /* the cap from turn on, round the list */
                const int want = total <= cap || (ord + total - turn % total) % total < cap;
                assert_int_equal(in, want);
                if (in) {
                    n++;
                    n_seen += !seen[ord];
                    seen[ord] = 1;
                }
            }
            assert_int_equal(n, total <= cap ? total : cap);
            if (total <= cap)
                break; /* one round reads them all */
        }
        assert_int_equal(n_seen, total);
        free(seen);
    }
    /* past the bound, two turns read disjoint candidates */
    total = cap + 1;
    assert_true(uw__busy_picked(0, total, 0));
    assert_false(uw__busy_picked(cap, total, 0));
    assert_true(uw__busy_picked(cap, total, cap));
    assert_false(uw__busy_picked(cap - 1, total, cap));

    assert_true(uw__busy_round_may(UW_RECOVER_BUSY_READS - 1));
    assert_false(uw__busy_round_may(UW_RECOVER_BUSY_READS));
    assert_false(uw__busy_round_may(UW_RECOVER_BUSY_READS + 1));

    assert_true(uw__round_may(UW_RECOVER_READS - 1));
    assert_false(uw__round_may(UW_RECOVER_READS));
    assert_false(uw__round_may(UW_RECOVER_READS + 1));
}

/* The index of the sample's Tasks by address (uw__task_index), at 0, 1,
 * 63, 64 and 65 Tasks (those within the bound), UW_LIMIT_TASKS - 1 and
 * UW_LIMIT_TASKS, their addresses apart by an object's size, by a page or
 * by a megabyte (the hash's low bits alike): every Task is found at its
 * entry, an address beside one or before all of them is not, and the
 * index uses at most half its slots (so every probe ends).  One address
 * twice leaves the index unused and the lookups to the binary search,
 * which finds that address at an entry holding it.  Past UW_LIMIT_TASKS
 * the addresses' own view refuses, so the index never holds more. */
static void test_task_index(void **state)
{
    const size_t counts[] = {0, 1, 63, 64, 65, UW_LIMIT_TASKS - 1, UW_LIMIT_TASKS};
    const uint64_t strides[] = {0x1c0, 0x1000, 0x100000};
    world w;
    size_t c, s, k;

    (void)state;
    world_init(&w);
    sample(&w, NULL, 0);
    for (c = 0; c < sizeof counts / sizeof counts[0]; c++) {
        for (s = 0; s < sizeof strides / sizeof strides[0]; s++) {
            const size_t n = counts[c];
            uint64_t *a;
            if (n > UW_LIMIT_TASKS)
                continue; /* the small-limits build's bound is below */
            assert_int_equal(uw__view_reserve(&w.t->sc.work_addr, n), 0);
            a = UW__U64(&w.t->sc.work_addr);
            for (k = 0; k < n; k++)
                a[k] = 0x7f0000000000ull + strides[s] * (k + 1);
            w.t->n_work = w.t->n_work_addr = n;
            assert_int_equal(uw__task_index(w.t), 0);
            assert_true(w.t->work_mask != 0);
            assert_true(w.t->work_mask + 1 >= 2 * n);
            assert_true(w.t->work_mask + 1 <= UW_TASK_SLOTS_MAX);
            for (k = 0; k < n; k++) {
                assert_int_equal(uw__task_find(w.t, a[k]), (int64_t)k);
                assert_int_equal(uw__task_find(w.t, a[k] + 8), -1);
            }
            assert_int_equal(uw__task_find(w.t, 0x7f0000000000ull), -1);
            assert_int_equal(uw__task_find(w.t, 0), -1);
        }
    }
    /* one address twice: the binary search, as before the index */
    {
        uint64_t *a = UW__U64(&w.t->sc.work_addr);
        for (k = 0; k < 5; k++)
            a[k] = 0x7f0000001000ull + 0x40 * k;
        a[3] = a[2];
        w.t->n_work = w.t->n_work_addr = 5;
        assert_int_equal(uw__task_index(w.t), 0);
        assert_int_equal(w.t->work_mask, 0);
        assert_int_equal(uw__task_find(w.t, a[0]), 0);
        assert_int_equal(uw__task_find(w.t, a[4]), 4);
        assert_int_equal(a[uw__task_find(w.t, a[2])], a[2]);
        assert_int_equal(uw__task_find(w.t, a[0] + 8), -1);
    }
    assert_int_equal(uw__view_reserve(&w.t->sc.work_addr, (size_t)UW_LIMIT_TASKS + 1),
                     UW_ERR_CAPACITY);
    w.t->n_work = w.t->n_work_addr = 0;
    world_end(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_await_chain),
        cmocka_unit_test(test_frames_total),
        cmocka_unit_test(test_gather_children),
        cmocka_unit_test(test_gather_nesting),
        cmocka_unit_test(test_awaiting_rides),
        cmocka_unit_test(test_relocate_awaited),
        cmocka_unit_test(test_gather_keys_refcount),
        cmocka_unit_test(test_gather_items),
        cmocka_unit_test(test_dep_bytes),
        cmocka_unit_test(test_type_bases),
        cmocka_unit_test(test_type_cache),
        cmocka_unit_test(test_registry_cache),
        cmocka_unit_test(test_tasks_among_others),
        cmocka_unit_test(test_task_candidates),
        cmocka_unit_test(test_hook_records),
        cmocka_unit_test(test_hook_duplicates),
        cmocka_unit_test(test_api_links),
        cmocka_unit_test(test_api_links_churn),
        cmocka_unit_test(test_set_slots),
        cmocka_unit_test(test_dict_entries),
        cmocka_unit_test(test_dict_slot),
        cmocka_unit_test(test_modules_entries),
        cmocka_unit_test(test_code_cache),
        cmocka_unit_test(test_recover_busy_bounds),
        cmocka_unit_test(test_task_index),
        cmocka_unit_test(test_snapshot_depth),
        cmocka_unit_test(test_snapshot_grow),
        cmocka_unit_test(test_snapshot_pages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
