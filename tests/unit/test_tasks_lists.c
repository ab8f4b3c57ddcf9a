/*
 * test_tasks_lists.c — the 3.14+ Task walk on fabricated 3.14 and 3.15
 * processes: Tasks found on the thread's and the interpreter's lists (no
 * registry root given), awaiting edges from awaited_by (one awaiter or a
 * set), awaitees behind tagged references at the version's depth, the
 * thread walk ending at 3.15's base frame; then lists that loop, tear, are
 * cut, or pass their bounds (each with its reason, the Tasks before the
 * damage kept), and a read failure at every read.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fake_proc.h"
#include "internal/asyncio_layout.h"
#include "internal/frame.h"
#include "tasks/tasks_int.h"
#include "tornstack/error.h"
#include "tornstack/limits.h"
#include "tornstack/tasks.h"

static const int lines[4] = {10, 11, 12, 13};

typedef struct world {
    fake_proc fp;
    const uw_asyncio_layout *al;
    uint64_t interp, ts, loop, task_type, fut;
    uint64_t a, b, c, d;      /* A awaits B (B records A); C records {A, D}; D exited */
    uint64_t coro_a, coro_a2; /* A's coroutine awaits coroutine A2 */
    uint64_t cset;            /* C's awaiter set {A, D} */
    uw_unwinder *u;
    uw_tasks *t;
    uw_sample s;
} world;

static uint64_t node_of(const world *w, uint64_t task)
{
    return task + (uint64_t)w->al->task_node;
}

static uint64_t thread_head(const world *w)
{
    return w->ts + (uint64_t)w->fp.l->tstate_asyncio_tasks_head;
}

static uint64_t interp_head(const world *w)
{
    return w->interp + (uint64_t)w->fp.l->interp_asyncio_tasks_head;
}

static uint64_t task(world *w, const char *code_name, uint64_t awaitee, int64_t name)
{
    const int susp = w->fp.l->state_suspended_yield_from;
    uint64_t code = fp_code(&w->fp, code_name, "/app/x.py", 10, lines, 4);
    uint64_t coro = fp_coro(&w->fp, code, susp, 2, awaitee);
    return fp_task(&w->fp, w->task_type, w->loop, coro, fp_long(&w->fp, name), 0);
}

/* The loop thread idle in select(); A, B, C on its list, D on the
 * interpreter's (its thread exited). */
static void world_build(world *w, int minor)
{
    const uw_layout *l;
    uint64_t sel, f, code_a, code_a2, set;
    int susp;

    memset(w, 0, sizeof *w);
    fp_init(&w->fp, minor);
    l = w->fp.l;
    w->al = uw__asyncio_layout_for_minor(minor);
    susp = l->state_suspended_yield_from;
    w->interp = fp_runtime(&w->fp);
    sel = fp_code(&w->fp, "EpollSelector.select", "/lib/selectors.py", 10, lines, 4);
    f = fp_frame(&w->fp, sel, 0, l->owner_thread, 1);
    w->ts = fp_thread(&w->fp, w->interp, 77, f);
    w->loop = fp_alloc(&w->fp, 64);
    fp_put64(&w->fp, w->ts + (uint64_t)l->tstate_asyncio_running_loop, w->loop);
    w->task_type = fp_type(&w->fp, "_asyncio.Task", fp_type(&w->fp, "_asyncio.Future", 0));
    w->fut = fp_alloc(&w->fp, 128);
    fp_put64(&w->fp, w->fut + 8, FP_FUTURE_OBJ_TYPE);
    code_a = fp_code(&w->fp, "main", "/app/main.py", 10, lines, 4);
    code_a2 = fp_code(&w->fp, "inner", "/app/main.py", 10, lines, 4);
    w->coro_a2 = fp_coro(&w->fp, code_a2, susp, 3, w->fut);
    w->coro_a = fp_coro(&w->fp, code_a, susp, 1, w->coro_a2);
    w->a = fp_task(&w->fp, w->task_type, w->loop, w->coro_a, fp_long(&w->fp, 1), w->fut);
    w->b = task(w, "b_body", w->fut, 2);
    w->c = task(w, "c_body", w->fut, 3);
    w->d = task(w, "d_body", w->fut, 4);
    fp_list_append(&w->fp, thread_head(w), node_of(w, w->a));
    fp_list_append(&w->fp, thread_head(w), node_of(w, w->b));
    fp_list_append(&w->fp, thread_head(w), node_of(w, w->c));
    fp_list_append(&w->fp, interp_head(w), node_of(w, w->d));
    fp_put64(&w->fp, w->b + (uint64_t)w->al->fut_awaited_by, w->a);
    {
        uint64_t keys[2] = {w->a, w->d};
        set = fp_set(&w->fp, keys, 2);
    }
    w->cset = set;
    fp_put64(&w->fp, w->c + (uint64_t)w->al->fut_awaited_by, set);
    fp_put8(&w->fp, w->c + (uint64_t)w->al->fut_awaited_by_is_set, 1);
}

static void world_start(world *w)
{
    assert_int_equal(uw_unwinder_new(&w->fp.reader, &w->fp.target, &w->u), 0);
    assert_int_equal(uw_tasks_new(w->u, &w->t), 0);
    uw_sample_init(&w->s);
}

static void world_end(world *w)
{
    uw_sample_free(&w->s);
    uw_tasks_free(w->t);
    uw_unwinder_free(w->u);
    fp_free(&w->fp);
}

static int sample(world *w)
{
    int rc = uw_unwind_threads(w->u, &w->s);
    if (rc == 0)
        rc = uw_unwind_tasks(w->t, &w->s);
    return rc;
}

static int64_t index_of(const world *w, uint64_t addr)
{
    size_t i;
    for (i = 0; i < w->s.n_tasks; i++)
        if (w->s.tasks[i].addr == addr)
            return (int64_t)i;
    return -1;
}

static int awaits(const world *w, uint64_t parent, uint64_t child)
{
    int64_t p = index_of(w, parent), c = index_of(w, child);
    size_t j;
    if (p < 0 || c < 0)
        return 0;
    for (j = 0; j < w->s.tasks[p].n_awaiting; j++)
        if (w->s.awaiting[w->s.tasks[p].first_awaiting + j] == (size_t)c)
            return 1;
    return 0;
}

static void check_clean(world *w)
{
    const uw_task_sample *ta, *tb, *tc;
    int rep;

    for (rep = 0; rep < 3; rep++) { /* the second and third from the memo */
        assert_int_equal(sample(w), 0);
        assert_int_equal(w->s.n_threads, 1);
        assert_int_equal(w->s.threads[0].truncated, 0);
        assert_int_equal(w->s.tasks_error, 0);
        assert_int_equal(w->s.n_tasks, 4);
        assert_true(index_of(w, w->d) >= 0); /* from the interpreter's list */
        ta = &w->s.tasks[index_of(w, w->a)];
        tb = &w->s.tasks[index_of(w, w->b)];
        tc = &w->s.tasks[index_of(w, w->c)];
        assert_int_equal(ta->skipped, 0);
        /* A's coroutine awaits A2 through a tagged reference */
        assert_int_equal(ta->n_frames, 2);
        assert_string_equal(uw_frame_name(&w->s.frames[ta->first_frame]), "inner");
        assert_string_equal(uw_frame_name(&w->s.frames[ta->first_frame + 1]), "main");
        assert_true(awaits(w, w->a, w->b));
        assert_true(awaits(w, w->a, w->c));
        assert_true(awaits(w, w->d, w->c));
        assert_false(awaits(w, w->b, w->a));
        assert_int_equal(tb->awaited_by, index_of(w, w->a));
        assert_true(tc->awaited_by == index_of(w, w->a) || tc->awaited_by == index_of(w, w->d));
        assert_int_equal(tb->parent, tb->awaited_by);
        assert_int_equal(w->s.tasks[index_of(w, w->a)].awaited_by, -1);
    }
}

static void test_clean(void **state)
{
    int m;
    (void)state;
    for (m = 14; m <= 15; m++) {
        world w;
        world_build(&w, m);
        world_start(&w);
        check_clean(&w);
        world_end(&w);
    }
}

/* gen_send_ex2 pushes the value sent to A's root before it marks the root
 * executing: a process stopped there shows A's root suspended in its
 * await, unlinked, with None on top (on 3.15 above the NULL reference
 * that stands over the awaitee).  A's stack is still main -> inner; the
 * None is not what main awaits, and neither is 3.15's NULL below it. */
static void test_value_sent_to_root(void **state)
{
    int m, k;
    (void)state;
    for (m = 14; m <= 15; m++) {
        world w;
        world_build(&w, m);
        fp_coro_send_none(&w.fp, w.coro_a);
        world_start(&w);
        for (k = 0; k < 2; k++) {
            const uw_task_sample *ta;
            size_t i;
            assert_int_equal(sample(&w), 0);
            assert_true(index_of(&w, w.a) >= 0);
            ta = &w.s.tasks[index_of(&w, w.a)];
            assert_int_equal(ta->skipped, 0);
            assert_int_equal(ta->n_frames, 2);
            assert_string_equal(uw_frame_name(&w.s.frames[ta->first_frame]), "inner");
            assert_string_equal(uw_frame_name(&w.s.frames[ta->first_frame + 1]), "main");
            for (i = 0; i < w.s.n_tasks; i++)
                assert_int_equal(w.s.tasks[i].skipped, 0);
        }
        world_end(&w);
    }
}

/* Reads of target memory within [cg_lo, cg_hi), through the fake's reader. */
static const uw_reader_ops *cg_real;
static uint64_t cg_lo, cg_hi;
static int cg_reads;

static int cg_read(void *ctx, uint64_t addr, void *dst, size_t len)
{
    if (addr < cg_hi && addr + len > cg_lo)
        cg_reads++;
    return cg_real->read(ctx, addr, dst, len);
}

static const uw_reader_ops cg_ops = {cg_read, NULL, NULL, NULL};

/* The code objects of the chains' frames are resolved against the
 * interpreter's count of freed code objects, read after the chains: while
 * it stands, a code object validated before is not read again; once a code
 * object was freed (the count moved), the next sample reads A's main
 * again, and the one after does not. */
static void test_code_generation(void **state)
{
    int m, k;
    (void)state;
    for (m = 14; m <= 15; m++) {
        world w;
        uint64_t code_a, gen;
        const uint8_t *f;
        world_build(&w, m);
        f = fp_ptr(&w.fp, w.coro_a + (uint64_t)w.fp.l->gen_iframe, (size_t)w.fp.l->frame_size);
        assert_non_null(f);
        code_a = uw__frame_code(w.fp.l, f);
        gen = w.interp + (uint64_t)w.fp.l->interp_code_generation;
        world_start(&w);
        assert_int_equal(sample(&w), 0); /* loads it */
        cg_real = w.fp.reader.ops;
        cg_lo = code_a;
        cg_hi = code_a + (uint64_t)w.fp.l->code_size;
        w.fp.reader.ops = &cg_ops;
        for (k = 0; k < 3; k++) {
            cg_reads = 0;
            if (k == 1)
                fp_put64(&w.fp, gen, 1); /* a code object was freed */
            assert_int_equal(sample(&w), 0);
            assert_int_equal(w.s.tasks[index_of(&w, w.a)].n_frames, 2);
            if (k == 1)
                assert_true(cg_reads > 0);
            else
                assert_int_equal(cg_reads, 0);
        }
        w.fp.reader.ops = cg_real;
        world_end(&w);
    }
}

/* The chain check reads awaited_by again: a Task whose awaiter changed
 * after it was read is not trusted.  Here, between two samples, it only
 * must follow the change. */
static void test_awaiter_changes(void **state)
{
    world w;
    (void)state;
    world_build(&w, 14);
    world_start(&w);
    assert_int_equal(sample(&w), 0);
    assert_true(awaits(&w, w.a, w.b));
    fp_put64(&w.fp, w.b + (uint64_t)w.al->fut_awaited_by, w.d);
    assert_int_equal(sample(&w), 0);
    assert_false(awaits(&w, w.a, w.b));
    assert_true(awaits(&w, w.d, w.b));
    world_end(&w);
}

/* A Task skipped for what it is gives no edge, though its awaited_by word
 * reads alike in the check: it is no Task's record (here B's coroutine is
 * no coroutine). */
static void test_skipped_child_no_edge(void **state)
{
    world w;
    (void)state;
    world_build(&w, 15);
    fp_put64(&w.fp, w.b + (uint64_t)w.al->task_coro, w.fut);
    world_start(&w);
    assert_int_equal(sample(&w), 0);
    assert_int_equal(w.s.tasks[index_of(&w, w.b)].skipped, UW_SKIP_BAD_CORO);
    assert_false(awaits(&w, w.a, w.b));
    assert_true(awaits(&w, w.a, w.c));
    world_end(&w);
}

/* C's awaiter set {A, D} cannot be read (its table is at no mapped
 * address): C is skipped as awaiter_unknown, not shown as a root Task
 * that nothing awaits; B, whose one awaiter is its word, keeps A.  Rule
 * ab_unread_unknown. */
static void test_awaiter_set_unreadable(void **state)
{
    int m;
    (void)state;
    for (m = 14; m <= 15; m++) {
        world w;
        int64_t c;
        world_build(&w, m);
        fp_put64(&w.fp, w.cset + (uint64_t)w.fp.l->set_table, 0x4242424240);
        world_start(&w);
        assert_int_equal(sample(&w), 0);
        assert_int_equal(w.s.tasks_error, 0);
        c = index_of(&w, w.c);
        assert_true(c >= 0);
        assert_int_equal(w.s.tasks[c].skipped, UW_SKIP_AWAITER_UNKNOWN);
        assert_true(awaits(&w, w.a, w.b));
        assert_int_equal(w.s.tasks[index_of(&w, w.b)].skipped, 0);
        world_end(&w);
    }
}

/* UW_LIMIT_AWAITED_BY edges in a sample: the world's three (A -> B, A and
 * D -> C) and 256 children more, each awaited by a set of the same 256
 * parents but the last, whose set holds the first `last` of them, so that
 * the edges come to the bound - 1, the bound and the bound + 1.  Up to
 * the bound every edge is shown and nothing skipped; past it the sample
 * says awaited_by_limit and the edge not made is shown by no Task: its
 * parent and its child are skipped (awaiter_unknown), every Task kept
 * shows all its edges to the others kept.  Rule ab_unread_unknown. */
#define AB_PARENTS 256
#define AB_CHILDREN 256

static void awaited_by_edges(int64_t total)
{
    const int64_t own = 3; /* the world's own edges */
    const int64_t last = total - own - (int64_t)(AB_CHILDREN - 1) * AB_PARENTS;
    const size_t stride = 192; /* Task objects side by side, as run_many's */
    uint64_t parents[AB_PARENTS], children[AB_CHILDREN], base, coro_p, coro_c, set_all, set_last;
    int susp, skipped = 0;
    size_t i, k;
    world w;

    assert_true(last > 0 && last <= AB_PARENTS);
    world_build(&w, 14);
    susp = w.fp.l->state_suspended_yield_from;
    coro_p =
        fp_coro(&w.fp, fp_code(&w.fp, "parent_body", "/app/ab.py", 10, lines, 4), susp, 2, w.fut);
    coro_c =
        fp_coro(&w.fp, fp_code(&w.fp, "child_body", "/app/ab.py", 20, lines, 4), susp, 2, w.fut);
    base = fp_alloc(&w.fp, (AB_PARENTS + AB_CHILDREN) * stride);
    for (i = 0; i < AB_PARENTS + AB_CHILDREN; i++) {
        uint64_t t = base + i * stride;
        fp_put64(&w.fp, t + 8, w.task_type);
        fp_put64(&w.fp, t + (uint64_t)w.al->fut_loop, w.loop);
        fp_put64(&w.fp, t + (uint64_t)w.al->task_coro, i < AB_PARENTS ? coro_p : coro_c);
        fp_put64(&w.fp, t + (uint64_t)w.al->task_name, FP_NONE);
        fp_list_append(&w.fp, thread_head(&w), node_of(&w, t));
        if (i < AB_PARENTS)
            parents[i] = t;
        else
            children[i - AB_PARENTS] = t;
    }
    set_all = fp_set(&w.fp, parents, AB_PARENTS);
    set_last = fp_set(&w.fp, parents, (size_t)last);
    for (k = 0; k < AB_CHILDREN; k++) {
        fp_put64(&w.fp, children[k] + (uint64_t)w.al->fut_awaited_by,
                 k + 1 < AB_CHILDREN ? set_all : set_last);
        fp_put8(&w.fp, children[k] + (uint64_t)w.al->fut_awaited_by_is_set, 1);
    }
    world_start(&w);
    assert_int_equal(sample(&w), 0);
    assert_int_equal(w.s.n_tasks, 4 + AB_PARENTS + AB_CHILDREN);
    for (i = 0; i < w.s.n_tasks; i++)
        skipped += w.s.tasks[i].skipped != 0;
    print_message("%lld awaited-by edges (bound %d): tasks_error %s, %d Tasks skipped\n",
                  (long long)total, UW_LIMIT_AWAITED_BY, uw_errname(w.s.tasks_error), skipped);
    if (total <= UW_LIMIT_AWAITED_BY) {
        assert_int_equal(w.s.tasks_error, 0);
        assert_int_equal(skipped, 0);
    } else {
        assert_int_equal(w.s.tasks_error, UW_ERR_LIMIT_AWAITED_BY);
        assert_true(skipped >= 2);
        for (i = 0; i < w.s.n_tasks; i++)
            if (w.s.tasks[i].skipped != 0)
                assert_int_equal(w.s.tasks[i].skipped, UW_SKIP_AWAITER_UNKNOWN);
    }
    /* every edge between two Tasks kept is shown */
    for (k = 0; k < AB_CHILDREN; k++) {
        int64_t c = index_of(&w, children[k]);
        const size_t n = k + 1 < AB_CHILDREN ? AB_PARENTS : (size_t)last;
        assert_true(c >= 0);
        if (w.s.tasks[c].skipped != 0)
            continue;
        assert_true(w.s.tasks[c].awaited_by >= 0);
        for (i = 0; i < n; i++) {
            int64_t p = index_of(&w, parents[i]);
            assert_true(p >= 0);
            if (w.s.tasks[p].skipped == 0 && !awaits(&w, parents[i], children[k]))
                fail_msg("parent %zu and child %zu both kept, the edge not shown", i, k);
        }
    }
    world_end(&w);
}

static void test_awaited_by_bound(void **state)
{
    (void)state;
    if (UW_LIMIT_TASKS < 4 + AB_PARENTS + AB_CHILDREN || UW_LIMIT_GATHER_CHILDREN < AB_PARENTS) {
        print_message("%d parents' sets of %d Tasks are past this build's bounds\n", AB_PARENTS,
                      AB_CHILDREN);
        skip();
    }
    awaited_by_edges(UW_LIMIT_AWAITED_BY - 1);
    awaited_by_edges(UW_LIMIT_AWAITED_BY);
    awaited_by_edges(UW_LIMIT_AWAITED_BY + 1);
}

/* Interpreters come and go: for UW_REGISTRY_CACHE + 2 samples the loop
 * thread belongs to a new interpreter each time (the one before unlinked
 * from the runtime, as an ended one is).  Every sample reads A, B and C:
 * a new interpreter takes the registry cache's place of one this sample
 * does not ask for.  Before, the cache kept its first eight forever and
 * the ninth sample said interpreter_limit with no Task. */
static void test_interpreters_come_and_go(void **state)
{
    world w;
    int k;
    (void)state;
    world_build(&w, 14);
    world_start(&w);
    for (k = 0; k < UW_REGISTRY_CACHE + 2; k++) {
        if (k > 0) {
            const uw_layout *l = w.fp.l;
            uint64_t in = fp_interp(&w.fp, 0, k); /* the runtime's only interpreter now */
            fp_put64(&w.fp, in + (uint64_t)l->interp_threads_head, w.ts);
            fp_put64(&w.fp, w.ts + (uint64_t)l->tstate_interp, in);
            fp_put64(&w.fp, in + (uint64_t)l->interp_asyncio_tasks_head + (uint64_t)l->llist_next,
                     in + (uint64_t)l->interp_asyncio_tasks_head);
            fp_put64(&w.fp, in + (uint64_t)l->interp_asyncio_tasks_head + (uint64_t)l->llist_prev,
                     in + (uint64_t)l->interp_asyncio_tasks_head);
        }
        assert_int_equal(sample(&w), 0);
        assert_int_equal(w.s.n_threads, 1);
        if (w.s.tasks_error != 0)
            fail_msg("sample %d (interpreter %d): tasks_error %s", k, k,
                     uw_errname(w.s.tasks_error));
        assert_true(index_of(&w, w.a) >= 0 && index_of(&w, w.b) >= 0 && index_of(&w, w.c) >= 0);
        assert_true(awaits(&w, w.a, w.b));
    }
    world_end(&w);
}

/* A list that loops elsewhere than through its head: task_list_cycle,
 * the Tasks met kept. */
static void test_cycle(void **state)
{
    world w;
    (void)state;
    world_build(&w, 15);
    world_start(&w);
    fp_put64(&w.fp, node_of(&w, w.b) + (uint64_t)w.fp.l->llist_next, node_of(&w, w.a));
    assert_int_equal(sample(&w), 0);
    assert_int_equal(w.s.tasks_error, UW_ERR_TASK_LIST_CYCLE);
    assert_true(index_of(&w, w.a) >= 0 && index_of(&w, w.b) >= 0);
    assert_true(index_of(&w, w.d) >= 0);
    world_end(&w);
}

/* A node naming no node taken before it as its prev (unlinked and reused
 * meanwhile), and a node with no next (unlinked before it was read):
 * task_list_torn after the retries, the Tasks before the tear kept. */
static void test_torn(void **state)
{
    int k;
    (void)state;
    for (k = 0; k < 2; k++) {
        world w;
        world_build(&w, 14);
        world_start(&w);
        if (k == 0)
            fp_put64(&w.fp, node_of(&w, w.c) + (uint64_t)w.fp.l->llist_prev, 0x4242424240);
        else
            fp_put64(&w.fp, node_of(&w, w.b) + (uint64_t)w.fp.l->llist_next, 0);
        assert_int_equal(sample(&w), 0);
        assert_int_equal(w.s.tasks_error, UW_ERR_TASK_LIST_TORN);
        assert_true(index_of(&w, w.a) >= 0 && index_of(&w, w.b) >= 0);
        assert_true(index_of(&w, w.c) < 0);
        world_end(&w);
    }
}

/* A predecessor unlinked after the walk read it: its successor names an
 * earlier node as prev, which is not a tear. */
static void test_prev_unlinked_meanwhile(void **state)
{
    world w;
    (void)state;
    world_build(&w, 15);
    world_start(&w);
    fp_put64(&w.fp, node_of(&w, w.c) + (uint64_t)w.fp.l->llist_prev, node_of(&w, w.a));
    assert_int_equal(sample(&w), 0);
    assert_int_equal(w.s.tasks_error, 0);
    assert_int_equal(w.s.n_tasks, 4);
    world_end(&w);
}

/* N Tasks on the thread's list, in one region: all of them up to
 * UW_LIMIT_TASKS, then task_limit with exactly UW_LIMIT_TASKS kept. */
static void run_many(size_t n)
{
    world w;
    const size_t stride = 192;
    uint64_t base, code, coro;
    size_t i;

    world_build(&w, 15);
    code = fp_code(&w.fp, "idle", "/app/x.py", 10, lines, 4);
    coro = fp_coro(&w.fp, code, w.fp.l->state_suspended_yield_from, 2, w.fut);
    base = fp_alloc(&w.fp, n * stride);
    for (i = 0; i < n; i++) {
        uint64_t t = base + i * stride;
        fp_put64(&w.fp, t + 8, w.task_type);
        fp_put64(&w.fp, t + (uint64_t)w.al->fut_loop, w.loop);
        fp_put64(&w.fp, t + (uint64_t)w.al->task_coro, coro);
        fp_put64(&w.fp, t + (uint64_t)w.al->task_name, FP_NONE);
        fp_list_append(&w.fp, thread_head(&w), t + (uint64_t)w.al->task_node);
    }
    world_start(&w);
    assert_int_equal(sample(&w), 0);
    if (n + 4 <= UW_LIMIT_TASKS) {
        assert_int_equal(w.s.tasks_error, 0);
        assert_int_equal(w.s.n_tasks, n + 4);
    } else {
        assert_int_equal(w.s.tasks_error, UW_ERR_LIMIT_TASKS);
        assert_int_equal(w.s.n_tasks, UW_LIMIT_TASKS);
    }
    world_end(&w);
}

static void test_task_bound(void **state)
{
    (void)state;
    run_many(UW_LIMIT_TASKS - 5); /* with A..D: one under the bound */
    run_many(UW_LIMIT_TASKS - 4); /* at it */
    run_many(UW_LIMIT_TASKS - 3); /* one over */
}

/* A list longer than UW_LIMIT_TASK_LIST nodes (nodes of no Task here):
 * task_list_limit, not task_limit. */
static void test_list_bound(void **state)
{
    world w;
    const size_t n = UW_LIMIT_TASK_LIST + 1;
    uint64_t base;
    size_t i;
    (void)state;
    world_build(&w, 14);
    base = fp_alloc(&w.fp, n * 16);
    for (i = 0; i < n; i++)
        fp_list_append(&w.fp, interp_head(&w), base + i * 16);
    world_start(&w);
    assert_int_equal(sample(&w), 0);
    assert_int_equal(w.s.tasks_error, UW_ERR_LIMIT_TASK_LIST);
    assert_true(index_of(&w, w.a) >= 0);
    world_end(&w);
}

/* A list whose nodes lie apart (no window helps): a sample follows it at
 * most UW_LIMIT_TASK_LIST_ROUNDS reads past what it remembers, says
 * task_list_rounds, and the next samples go on from there to the end;
 * every sample's reads stay bounded. */
static void test_rounds_bound(void **state)
{
    world w;
    const size_t n = 2 * UW_LIMIT_TASK_LIST_ROUNDS + 100;
    uint64_t e;
    size_t i, k;
    (void)state;
    if (n + 8 > (size_t)UW_LIMIT_TASK_LIST) {
        /* the list bound comes first (a build with small bounds):
         * test_list_bound covers that bound's reason */
        skip();
    }
    world_build(&w, 15);
    for (i = 0; i < n; i++)
        fp_list_append(&w.fp, interp_head(&w), fp_alloc(&w.fp, 16));
    e = task(&w, "e_body", w.fut, 5); /* behind the far nodes */
    fp_list_append(&w.fp, interp_head(&w), node_of(&w, e));
    fp_use_vectored(&w.fp); /* a vectored read counts one call */
    world_start(&w);
    for (k = 0; k < 3; k++) {
        assert_int_equal(sample(&w), 0);
        assert_true(w.s.calls < UW_LIMIT_TASK_LIST_ROUNDS + 200);
        assert_int_equal(w.s.tasks_error, UW_ERR_TASK_LIST_ROUNDS);
        assert_int_equal(w.s.n_tasks, 4); /* A..D; E is behind the far nodes */
        if (k == 1)
            break;
    }
    assert_int_equal(sample(&w), 0); /* third: the end */
    assert_int_equal(w.s.tasks_error, 0);
    assert_int_equal(w.s.n_tasks, 5);
    assert_true(index_of(&w, e) >= 0);
    assert_true(w.s.calls < UW_LIMIT_TASK_LIST_ROUNDS + 200);
    world_end(&w);
}

/* The Tasks a first sample of the world finds (A..D, each behind a round
 * of its list's when nothing is remembered), when its thread walks are
 * taken to have made `walks` reads more than they did; *err its
 * tasks_error. */
static size_t reads_bound_found(size_t walks, int *err)
{
    world w;
    size_t n;

    world_build(&w, 14);
    fp_use_vectored(&w.fp); /* a vectored read counts one call */
    world_start(&w);
    assert_int_equal(uw_unwind_threads(w.u, &w.s), 0);
    w.s.calls += walks;
    assert_int_equal(uw_unwind_tasks(w.t, &w.s), 0);
    *err = w.s.tasks_error;
    n = w.s.n_tasks;
    world_end(&w);
    return n;
}

/* UW_LIMIT_TASK_LIST_READS: no round of the lists is read once the
 * sample has made that many reads, its thread walks' included.  Walks
 * that made more reads cost the sample its last rounds: below some count
 * every Task is found; at that count (0) the last round is not read, a
 * Task is missing and the sample says task_list_rounds, as one more (+1)
 * does; one less (-1) finds all.  That count lies within a few dozen
 * reads below the bound (the reads before the last round), never above
 * it, and with the walks at the bound no round is read at all. */
static void test_reads_bound(void **state)
{
    const size_t lo = UW_LIMIT_TASK_LIST_READS - 64;
    size_t x, all;
    int err;

    (void)state;
    all = reads_bound_found(0, &err);
    assert_int_equal(all, 4);
    assert_int_equal(err, 0);
    for (x = lo; x <= UW_LIMIT_TASK_LIST_READS && reads_bound_found(x, &err) == all; x++)
        assert_int_equal(err, 0);
    if (x == lo || x > UW_LIMIT_TASK_LIST_READS)
        fail_msg("the last round stopped at %zu walk reads, want within [%zu, %d]", x, lo + 1,
                 UW_LIMIT_TASK_LIST_READS);
    assert_true(reads_bound_found(x - 1, &err) == all && err == 0);
    assert_true(reads_bound_found(x, &err) < all);
    assert_int_equal(err, UW_ERR_TASK_LIST_ROUNDS);
    assert_true(reads_bound_found(x + 1, &err) < all);
    assert_int_equal(err, UW_ERR_TASK_LIST_ROUNDS);
    assert_int_equal(reads_bound_found(UW_LIMIT_TASK_LIST_READS, &err), 0);
    assert_int_equal(err, UW_ERR_TASK_LIST_ROUNDS);
}

/* --- UW_TASK_LIST_PAGES --------------------------------------------------------- */

/* Calls of the vectored fake that read a node of mp_fresh[0..mp_n) on
 * its own (a round's), not with the heads (the first read's). */
static const uw_reader_ops *mp_vec;
static const uint64_t *mp_fresh;
static size_t mp_n, mp_rounds;
static uint64_t mp_head;

static int mp_readv(void *ctx, uw_iov *iov, size_t n, const size_t *end, size_t n_groups,
                    uint64_t *calls)
{
    size_t i, j;
    int fresh = 0, head = 0;

    for (i = 0; i < n; i++) {
        head |= iov[i].addr == mp_head;
        for (j = 0; j < mp_n; j++)
            fresh |= iov[i].addr == mp_fresh[j] && iov[i].len == 16;
    }
    mp_rounds += fresh && !head;
    return mp_vec->readv(ctx, iov, n, end, n_groups, calls);
}

static uw_reader_ops mp_ops; /* the vectored fake's, with mp_readv */

/* The page of a node (its first byte). */
static uint64_t page_of(uint64_t a)
{
    return a & ~(uint64_t)4095;
}

/* p nodes (of no Task) on the interpreter's list, one on each of p pages
 * apart; once every node is remembered, a new node is put after each, on
 * its page.  The remembered nodes' pages are read whole with them, the
 * lowest UW_TASK_LIST_PAGES (A..D's come first): a new node on one of
 * them is read in no round, one on a page past the bound in a round of
 * its own, and once remembered in none. */
static void memo_pages(size_t p)
{
    const size_t bound = UW_TASK_LIST_PAGES;
    uint64_t *node = malloc(p * sizeof *node), *pages = malloc((p + 4) * sizeof *pages);
    uint64_t *fresh = malloc(p * sizeof *fresh);
    size_t i, k, n_pages = 0, expect = 0;
    world w;

    assert_non_null(node);
    assert_non_null(pages);
    assert_non_null(fresh);
    world_build(&w, 15);
    for (i = 0; i < p; i++) {
        w.fp.brk = page_of(w.fp.brk + 4095); /* a page of its own, a hole after it */
        node[i] = fp_alloc(&w.fp, 4096) + 64;
        fp_list_append(&w.fp, interp_head(&w), node[i]);
    }
    fp_use_vectored(&w.fp);
    world_start(&w);
    for (k = 0; k < 8; k++) { /* rounds are bounded a sample: until all is remembered */
        assert_int_equal(sample(&w), 0);
        if (w.s.tasks_error == 0)
            break;
    }
    /* which pages are read whole: the lowest `bound` of the nodes' */
    pages[n_pages++] = page_of(node_of(&w, w.a));
    pages[n_pages++] = page_of(node_of(&w, w.b));
    pages[n_pages++] = page_of(node_of(&w, w.c));
    pages[n_pages++] = page_of(node_of(&w, w.d));
    for (i = 0; i < p; i++)
        pages[n_pages++] = page_of(node[i]);
    for (i = 0; i < p; i++) {
        const uw_layout *l = w.fp.l;
        uint64_t next = 0;
        size_t rank = 0, j;
        fresh[i] = page_of(node[i]) + 1024;
        memcpy(&next, fp_ptr(&w.fp, node[i] + (uint64_t)l->llist_next, 8), 8);
        fp_put64(&w.fp, fresh[i] + (uint64_t)l->llist_next, next);
        fp_put64(&w.fp, fresh[i] + (uint64_t)l->llist_prev, node[i]);
        fp_put64(&w.fp, node[i] + (uint64_t)l->llist_next, fresh[i]);
        fp_put64(&w.fp, next + (uint64_t)l->llist_prev, fresh[i]);
        for (j = 0; j < n_pages; j++)
            rank += pages[j] < page_of(node[i]);
        expect += rank >= bound;
    }
    mp_vec = w.fp.reader.ops;
    mp_ops = (uw_reader_ops){mp_vec->read, mp_readv, NULL, NULL};
    mp_fresh = fresh;
    mp_n = p;
    mp_head = interp_head(&w);
    w.fp.reader.ops = &mp_ops;
    for (k = 0; k < 2; k++) { /* the new nodes, then the new nodes remembered */
        mp_rounds = 0;
        assert_int_equal(sample(&w), 0);
        assert_int_equal(w.s.tasks_error, 0);
        print_message("%zu pages, bound %zu, sample %zu: %zu rounds for the new nodes\n", p, bound,
                      k, mp_rounds);
        assert_int_equal(mp_rounds, k == 0 ? expect : 0);
    }
    w.fp.reader.ops = mp_vec;
    world_end(&w);
    free(node);
    free(pages);
    free(fresh);
}

static void test_memo_pages(void **state)
{
    /* A..D's four pages come first: the bound is met by the others at
     * bound - 4 (a build whose bound is smaller meets it with A..D's) */
    const size_t pages = UW_TASK_LIST_PAGES, at = pages > 4 ? pages - 4 : 1;
    (void)state;
    memo_pages(at > 1 ? at - 1 : 1);
    memo_pages(at);
    memo_pages(at + 1);
}

/* A busy program's list: each attempt reads the heads, then the Task at
 * the tail ends (its node unlinked, its links cleared) and a new one is
 * appended, before the walk reaches the tail.  The copy of the node
 * before the tail names the ended Task as `next`: read again, it names
 * the new one, which the walk takes.  Without that re-read every attempt
 * met the same tear (task_list_torn); with it one attempt does. */
static world *busy_w;
static const uw_reader_ops *busy_vec; /* the fake's vectored reader */
static uint64_t busy_tail;
static int busy_serial;

static void busy_step(world *w)
{
    const uw_layout *l = w->fp.l;
    uint64_t node = node_of(w, busy_tail), prev = 0, next = 0, t;

    memcpy(&prev, fp_ptr(&w->fp, node + (uint64_t)l->llist_prev, 8), 8);
    memcpy(&next, fp_ptr(&w->fp, node + (uint64_t)l->llist_next, 8), 8);
    fp_put64(&w->fp, prev + (uint64_t)l->llist_next, next);
    fp_put64(&w->fp, next + (uint64_t)l->llist_prev, prev);
    fp_put64(&w->fp, node + (uint64_t)l->llist_next, 0);
    fp_put64(&w->fp, node + (uint64_t)l->llist_prev, 0);
    t = task(w, "t_body", w->fut, 100 + busy_serial++);
    fp_list_append(&w->fp, thread_head(w), node_of(w, t));
    busy_tail = t;
}

static int busy_readv(void *ctx, uw_iov *iov, size_t n, const size_t *end, size_t n_groups,
                      uint64_t *calls)
{
    size_t i;
    int heads = 0;
    int rc = busy_vec->readv(ctx, iov, n, end, n_groups, calls);
    for (i = 0; i < n; i++)
        heads |= iov[i].addr == thread_head(busy_w);
    if (heads)
        busy_step(busy_w);
    return rc;
}

static uw_reader_ops busy_ops; /* the vectored fake's, with busy_readv */

static void test_busy_tail(void **state)
{
    world w;
    size_t k;
    (void)state;
    world_build(&w, 14);
    world_start(&w);
    assert_int_equal(sample(&w), 0); /* A..D remembered */
    print_message("warm-up: calls %llu\n", (unsigned long long)w.s.calls);
    assert_int_equal(w.s.tasks_error, 0);
    busy_w = &w;
    busy_serial = 0;
    busy_tail = task(&w, "t_body", w.fut, 99);
    fp_list_append(&w.fp, thread_head(&w), node_of(&w, busy_tail));
    fp_use_vectored(&w.fp);
    busy_vec = w.fp.reader.ops;
    busy_ops = (uw_reader_ops){busy_vec->read, busy_readv, NULL, NULL};
    w.fp.reader.ops = &busy_ops;
    for (k = 0; k < 3; k++) {
        uint64_t before = busy_tail;
        int serial = busy_serial;
        assert_int_equal(sample(&w), 0);
        assert_int_equal(w.s.tasks_error, 0);
        assert_int_equal(busy_serial, serial + 1); /* one attempt */
        assert_int_equal(w.s.n_tasks, 5);          /* A..D and a Task at the tail */
        assert_true(index_of(&w, w.c) >= 0);
        /* the tail at the heads' read, if its copy came with them (it
         * was remembered), else the one after it; never both */
        assert_true((index_of(&w, before) >= 0) != (index_of(&w, busy_tail) >= 0));
        if (k == 0)
            assert_true(index_of(&w, busy_tail) >= 0); /* not remembered */
    }
    w.fp.reader.ops = busy_vec;
    world_end(&w);
}

/* The frame accessor's 3.14/3.15 decoding on a hand-made frame. */
static void test_frame_accessor(void **state)
{
    int m;
    (void)state;
    for (m = 14; m <= 15; m++) {
        const uw_layout *l = uw__layout_table_for_minor(m);
        const uw_asyncio_layout *al = uw__asyncio_layout_for_minor(m);
        uint8_t f[256] = {0};
        const uint64_t at = 0x7000001000;
        uint64_t sp = at + (uint64_t)l->frame_localsplus + 8 * 5;
        memcpy(f + l->frame_code, &(uint64_t){0x7000002001}, 8);
        memcpy(f + l->frame_stackpointer, &sp, 8);
        assert_int_equal(uw__frame_code(l, f), 0x7000002000);
        assert_int_equal(uw__frame_stack_depth(l, f, at), 5);
        assert_int_equal(uw__frame_awaitee_slot(5, al->awaitee_depth), 5 - al->awaitee_depth);
        assert_int_equal(uw__frame_awaitee_slot(al->awaitee_depth - 1, al->awaitee_depth), -1);
        sp = at; /* below localsplus: no value stack */
        memcpy(f + l->frame_stackpointer, &sp, 8);
        assert_int_equal(uw__frame_stack_depth(l, f, at), -1);
        sp = at + (uint64_t)l->frame_localsplus + 3; /* misaligned */
        memcpy(f + l->frame_stackpointer, &sp, 8);
        assert_int_equal(uw__frame_stack_depth(l, f, at), -1);
        assert_int_equal(uw__stackref_object(l, 0x7000003001), 0x7000003000);
        assert_int_equal(uw__stackref_object(l, 0x7000003003), 0); /* a tagged int */
        assert_int_equal(uw__stackref_object(l, (uint64_t)l->stackref_null), 0);
        f[l->frame_owner] = (uint8_t)l->owner_interpreter;
        assert_int_equal(uw__frame_owner(l, f), UW__OWNER_CSTACK);
        assert_true(uw__gen_finished(l, l->state_cleared));
        assert_false(uw__gen_finished(l, l->state_suspended_yield_from));
        assert_false(uw__gen_finished(l, l->state_executing));
        assert_true(uw__gen_suspended_awaiting(l, l->state_suspended_yield_from));
        assert_false(uw__gen_suspended_awaiting(l, l->state_suspended));
    }
    /* 3.15's locked yield-from state counts as suspended in an await */
    assert_true(uw__gen_suspended_awaiting(uw__layout_table_for_minor(15), 3));
    assert_false(uw__gen_finished(uw__layout_table_for_minor(15), 4)); /* executing */
    assert_int_equal(uw__layout_table_for_minor(14)->owner_cstack, 4);
}

/* A read failing at each read in turn: no crash, no error but the reader's. */
static const uw_reader_ops *real_ops;
static size_t fail_at, n_reads;

static int failing_read(void *ctx, uint64_t addr, void *dst, size_t len)
{
    if (n_reads++ == fail_at)
        return UW_ERR_READ_FAULT;
    return real_ops->read(ctx, addr, dst, len);
}

static const uw_reader_ops failing_ops = {failing_read, NULL, NULL, NULL};

static void test_reads_fail_at(void **state)
{
    size_t total;
    (void)state;
    {
        world w;
        world_build(&w, 15);
        world_start(&w);
        real_ops = w.fp.reader.ops;
        w.fp.reader.ops = &failing_ops;
        fail_at = SIZE_MAX;
        n_reads = 0;
        assert_int_equal(sample(&w), 0);
        total = n_reads;
        world_end(&w);
    }
    for (fail_at = 0; fail_at < total; fail_at++) {
        world w;
        world_build(&w, 15);
        world_start(&w);
        w.fp.reader.ops = &failing_ops;
        n_reads = 0;
        (void)sample(&w);
        assert_true(w.s.n_tasks <= 4);
        world_end(&w);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clean),
        cmocka_unit_test(test_value_sent_to_root),
        cmocka_unit_test(test_awaiter_changes),
        cmocka_unit_test(test_skipped_child_no_edge),
        cmocka_unit_test(test_awaiter_set_unreadable),
        cmocka_unit_test(test_awaited_by_bound),
        cmocka_unit_test(test_interpreters_come_and_go),
        cmocka_unit_test(test_cycle),
        cmocka_unit_test(test_torn),
        cmocka_unit_test(test_prev_unlinked_meanwhile),
        cmocka_unit_test(test_task_bound),
        cmocka_unit_test(test_list_bound),
        cmocka_unit_test(test_rounds_bound),
        cmocka_unit_test(test_reads_bound),
        cmocka_unit_test(test_memo_pages),
        cmocka_unit_test(test_code_generation),
        cmocka_unit_test(test_busy_tail),
        cmocka_unit_test(test_frame_accessor),
        cmocka_unit_test(test_reads_fail_at),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
