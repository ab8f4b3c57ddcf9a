/*
 * test_tasks.c — the Task walk on a fabricated 3.13 process: a clean
 * world (awaits, names, links), then corrupt registries and objects, and
 * read failures injected at every read through a cmocka-mocked reader.
 */
#include <setjmp.h>
#include <limits.h>
#include <stdio.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fake_proc.h"
#include "internal/asyncio_layout.h"
#include "internal/code_cache.h"
#include "tornstack/error.h"
#include "tornstack/limits.h"
#include "tornstack/compose.h"
#include "tornstack/tasks.h"
#include "tasks/tasks_int.h"

static const int lines[4] = {10, 11, 12, 13};

typedef struct world {
    fake_proc fp;
    uint64_t interp, loop, task_type, set;
    uint64_t ts, sel_frame; /* the loop's thread and its select() frame */
    uint64_t a, b, c;       /* Tasks: A awaits B; C created by A */
    uint64_t coro_a, coro_b_outer, coro_b_inner, coro_c;
    uw_unwinder *u;
    uw_tasks *t;
    uw_sample s;
} world;

/* A 3.13 process whose loop thread idles in select(), with no Task yet:
 * the runtime, the thread and its frame, the loop and the Task type. */
static void world_base(world *w)
{
    const uw_layout *l;
    uint64_t sel;

    memset(w, 0, sizeof *w);
    fp_init(&w->fp, 13);
    l = w->fp.l;
    w->interp = fp_runtime(&w->fp);
    sel = fp_code(&w->fp, "EpollSelector.select", "/lib/selectors.py", 10, lines, 4);
    w->sel_frame = fp_frame(&w->fp, sel, 0, l->owner_thread, 1);
    w->ts = fp_thread(&w->fp, w->interp, 77, w->sel_frame);
    w->loop = fp_alloc(&w->fp, 512); /* a C loop's fields are searched (cloop_world) */
    fp_put64(&w->fp, w->ts + (uint64_t)l->tstate_asyncio_running_loop, w->loop);
    w->task_type = fp_type(&w->fp, "_asyncio.Task", fp_type(&w->fp, "_asyncio.Future", 0));
}

/* Loop thread idle in select(); three Tasks on its loop. */
static void world_build(world *w)
{
    uint64_t c_main, c_outer, c_inner, c_orphan, fut;
    const int suspended = uw__layout_for_minor(13)->state_suspended_yield_from;

    world_base(w);
    c_main = fp_code(&w->fp, "main", "/app/main.py", 10, lines, 4);
    c_outer = fp_code(&w->fp, "outer", "/app/work.py", 10, lines, 4);
    c_inner = fp_code(&w->fp, "inner", "/app/work.py", 10, lines, 4);
    c_orphan = fp_code(&w->fp, "orphan", "/app/work.py", 10, lines, 4);
    fut = fp_alloc(&w->fp, 128);
    fp_put64(&w->fp, fut + 8, FP_FUTURE_OBJ_TYPE);
    w->coro_b_inner = fp_coro(&w->fp, c_inner, suspended, 3, fut);
    w->coro_b_outer = fp_coro(&w->fp, c_outer, suspended, 2, w->coro_b_inner);
    w->b = fp_task(&w->fp, w->task_type, w->loop, w->coro_b_outer, fp_str(&w->fp, "worker"), fut);
    w->coro_a = fp_coro(&w->fp, c_main, suspended, 1, w->b);
    w->a = fp_task(&w->fp, w->task_type, w->loop, w->coro_a, fp_long(&w->fp, 1), w->b);
    w->coro_c = fp_coro(&w->fp, c_orphan, suspended, 1, fut);
    w->c = fp_task(&w->fp, w->task_type, w->loop, w->coro_c, fp_long(&w->fp, 3), fut);
    {
        uint64_t keys[3] = {w->a, w->b, w->c};
        w->set = fp_set(&w->fp, keys, 3);
    }
}

static void world_start(world *w)
{
    assert_int_equal(uw_unwinder_new(&w->fp.reader, &w->fp.target, &w->u), 0);
    assert_int_equal(uw_tasks_new(w->u, &w->t), 0);
    uw_tasks_set_root(w->t, w->set);
    uw_sample_init(&w->s);
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
    return NULL;
}

/* The index in the sample of the Task at addr, -1 if none. */
static int64_t task_index(const world *w, uint64_t addr)
{
    const uw_task_sample *ts = task_at(w, addr);

    return ts != NULL ? (int64_t)(ts - w->s.tasks) : -1;
}

static const char *fname(const world *w, const uw_task_sample *t, size_t i)
{
    assert_true(i < t->n_frames);
    return uw_frame_name(&w->s.frames[t->first_frame + i]);
}

static int sample(world *w)
{
    int rc = uw_unwind_threads(w->u, &w->s);
    if (rc == 0)
        rc = uw_unwind_tasks(w->t, &w->s);
    return rc;
}

/* Start the world with recovery off, take one sample (the loop found),
 * and register the loop's epoch at `counter`, as the Task walk does once
 * it finds loop._ready (epoch.c). */
static void world_start_epoch(world *w, uint64_t counter)
{
    uw_task_options o;

    world_start(w);
    uw_task_options_default(&o);
    o.recover = 0;
    uw_tasks_set_options(w->t, &o);
    assert_int_equal(sample(w), 0);
    assert_int_equal(uw__epoch_set(&w->t->epochs, w->s.threads[0].tstate, w->loop, counter), 0);
}

/* One sample through a reader that wraps the world's (ops; *real gets the
 * world's own, which the wrapper calls and which is put back after). */
static void sample_through(world *w, const uw_reader_ops *ops, const uw_reader_ops **real)
{
    *real = w->fp.reader.ops;
    w->fp.reader.ops = ops;
    assert_int_equal(sample(w), 0);
    w->fp.reader.ops = *real;
}

static void test_clean_world(void **state)
{
    world w;
    const uw_task_sample *a, *b, *c;
    uw_stack_item stack[64];
    uw_compose_options bare = {0, 0};
    size_t n;

    (void)state;
    world_build(&w);
    world_start(&w);
    assert_int_equal(uw_tasks_link(w.t, w.c, w.a, UW_LINK_CREATION), 0);
    for (int k = 0; k < 2; k++) {
        assert_int_equal(sample(&w), 0);
        assert_int_equal(w.s.n_tasks, 3);
        assert_int_equal(w.s.tasks_error, 0);
        a = task_at(&w, w.a);
        b = task_at(&w, w.b);
        c = task_at(&w, w.c);
        assert_non_null(a);
        assert_non_null(b);
        assert_non_null(c);
        assert_string_equal(a->name, "Task-1");
        assert_string_equal(b->name, "worker");
        assert_int_equal(b->n_frames, 2);
        assert_string_equal(fname(&w, b, 0), "inner");
        assert_string_equal(fname(&w, b, 1), "outer");
        assert_int_equal(w.s.frames[b->first_frame].line, 13);
        assert_int_equal(a->n_frames, 1);
        assert_int_equal(a->n_awaiting, 1);
        assert_int_equal(w.s.tasks[w.s.awaiting[a->first_awaiting]].addr, w.b);
        assert_int_equal(b->awaited_by, a - w.s.tasks);
        assert_int_equal(b->parent, a - w.s.tasks);
        assert_int_equal(c->created_by, a - w.s.tasks);
        assert_int_equal(c->parent, a - w.s.tasks);
        assert_int_equal(a->parent, -1);
        assert_int_equal(a->skipped + b->skipped + c->skipped, 0);
        /* Leaf B's whole stack: inner, outer, main, then the idle loop. */
        assert_int_equal(uw_compose_task(&w.s, (size_t)(b - w.s.tasks), &bare, stack, 64, &n), 0);
        assert_int_equal(n, 4); /* root first */
        assert_string_equal(uw_frame_name(stack[0].frame), "EpollSelector.select");
        assert_string_equal(uw_frame_name(stack[1].frame), "main");
        assert_string_equal(uw_frame_name(stack[2].frame), "outer");
        assert_string_equal(uw_frame_name(stack[3].frame), "inner");
        /* The same with the default markers: the thread at the root, each
         * Task before its own frames. */
        assert_int_equal(uw_compose_task(&w.s, (size_t)(b - w.s.tasks), NULL, stack, 64, &n), 0);
        assert_int_equal(n, 7);
        assert_int_equal(stack[0].kind, UW_ITEM_THREAD);
        assert_int_equal(stack[0].index, b->thread);
        assert_string_equal(uw_frame_name(stack[1].frame), "EpollSelector.select");
        assert_int_equal(stack[2].kind, UW_ITEM_TASK);
        assert_int_equal(stack[2].index, (size_t)(a - w.s.tasks));
        assert_string_equal(uw_frame_name(stack[3].frame), "main");
        assert_int_equal(stack[4].kind, UW_ITEM_TASK);
        assert_int_equal(stack[4].index, (size_t)(b - w.s.tasks));
        assert_string_equal(uw_frame_name(stack[5].frame), "outer");
        assert_string_equal(uw_frame_name(stack[6].frame), "inner");
        assert_true(uw_compose_is_leaf(&w.s, (size_t)(b - w.s.tasks)));
        assert_false(uw_compose_is_leaf(&w.s, (size_t)(a - w.s.tasks)));
    }
    world_end(&w);
}

/* A Task step begins, in gen_send_ex2, by pushing the value sent (None)
 * on the root's value stack; only then is the root marked executing and
 * linked.  A process stopped in between (a blocking sample, a debugger)
 * holds that instant: B's root reads suspended in its await, unlinked,
 * with None on top of its awaitee.  B's stack is still outer -> inner:
 * nothing of it ran yet.  Read as the awaitee, the None would end the
 * chain at outer, a stack B never had. */
static void test_value_sent_to_root(void **state)
{
    world w;
    const uw_task_sample *b;
    int k;

    (void)state;
    world_build(&w);
    fp_coro_send_none(&w.fp, w.coro_b_outer);
    world_start(&w);
    for (k = 0; k < 2; k++) { /* the first sample, and one from its memory */
        assert_int_equal(sample(&w), 0);
        b = task_at(&w, w.b);
        assert_non_null(b);
        assert_int_equal(b->skipped, 0);
        assert_int_equal(b->n_frames, 2);
        assert_string_equal(fname(&w, b, 0), "inner");
        assert_string_equal(fname(&w, b, 1), "outer");
    }
    for (k = 0; k < (int)w.s.n_tasks; k++)
        assert_int_equal(w.s.tasks[k].skipped, 0);
    world_end(&w);
}

/* An int name object ends where its digits end, which may be the end of a
 * mapping: a Task-N name of one digit (28 bytes on 64-bit) and of two,
 * each alone in a region of exactly its size, are read all the same. */
static uint64_t exact_long(fake_proc *fp, int64_t v)
{
    const uw_layout *l = fp->l;
    uint64_t nd = (v >> 30) ? 2 : 1, src = fp_long(fp, v);
    size_t size = (size_t)l->long_digits + 4 * (size_t)nd;
    uint64_t a = fp_alloc(fp, size);

    memcpy(fp_ptr(fp, a, size), fp_ptr(fp, src, size), size);
    return a;
}

static void test_int_names_at_mapping_end(void **state)
{
    world w;
    const uw_task_sample *a, *c;

    (void)state;
    world_build(&w);
    fp_put64(&w.fp, w.a + (uint64_t)uw__asyncio_layout_for_minor(13)->task_name,
             exact_long(&w.fp, 7));
    fp_put64(&w.fp, w.c + (uint64_t)uw__asyncio_layout_for_minor(13)->task_name,
             exact_long(&w.fp, (int64_t)3 << 30 | 5));
    world_start(&w);
    for (int k = 0; k < 2; k++) {
        assert_int_equal(sample(&w), 0);
        a = task_at(&w, w.a);
        c = task_at(&w, w.c);
        assert_non_null(a);
        assert_non_null(c);
        assert_int_equal(a->skipped, 0);
        assert_string_equal(a->name, "Task-7");
        assert_string_equal(c->name, "Task-3221225477");
    }
    world_end(&w);
}

/* Worlds that are odd but real (docs/states.md): two Tasks awaiting the
 * same Task (class 31), a Task awaiting one that the registry does not hold
 * (created after the set was read, class 30), and a Task of another loop,
 * not running on any thread (class 26). */
static void test_odd_worlds(void **state)
{
    world w;
    const int suspended = uw__layout_for_minor(13)->state_suspended_yield_from;
    uint64_t c_second, c_lone, d, e, f, g, other_loop;
    const uw_task_sample *a, *b, *td, *tg;

    (void)state;
    world_build(&w);
    c_second = fp_code(&w.fp, "second", "/app/main.py", 10, lines, 4);
    c_lone = fp_code(&w.fp, "lone", "/app/work.py", 10, lines, 4);
    /* D awaits B, as A does */
    d = fp_task(&w.fp, w.task_type, w.loop, fp_coro(&w.fp, c_second, suspended, 1, w.b),
                fp_str(&w.fp, "second-waiter"), w.b);
    /* E exists but is not in the registry; G awaits it */
    e = fp_task(&w.fp, w.task_type, w.loop, fp_coro(&w.fp, c_lone, suspended, 1, 0),
                fp_str(&w.fp, "unlisted"), 0);
    g = fp_task(&w.fp, w.task_type, w.loop, fp_coro(&w.fp, c_second, suspended, 2, e),
                fp_str(&w.fp, "awaits-unlisted"), e);
    /* F belongs to a loop that runs on no thread */
    other_loop = fp_alloc(&w.fp, 64);
    f = fp_task(&w.fp, w.task_type, other_loop, fp_coro(&w.fp, c_lone, suspended, 1, 0),
                fp_str(&w.fp, "elsewhere"), 0);
    {
        uint64_t keys[6] = {w.a, w.b, w.c, d, f, g};
        w.set = fp_set(&w.fp, keys, 6);
    }
    world_start(&w);
    assert_int_equal(sample(&w), 0);
    assert_int_equal(w.s.tasks_error, 0);
    assert_int_equal(w.s.n_tasks, 5); /* A, B, C, D, G: not E (unlisted), not F */
    assert_null(task_at(&w, e));
    assert_null(task_at(&w, f));
    a = task_at(&w, w.a);
    b = task_at(&w, w.b);
    td = task_at(&w, d);
    tg = task_at(&w, g);
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(td);
    assert_non_null(tg);
    assert_int_equal(a->skipped + b->skipped + td->skipped + tg->skipped, 0);
    /* both awaiters list B; B names one of them as its awaiter */
    assert_int_equal(a->n_awaiting, 1);
    assert_int_equal(td->n_awaiting, 1);
    assert_int_equal(w.s.tasks[w.s.awaiting[a->first_awaiting]].addr, w.b);
    assert_int_equal(w.s.tasks[w.s.awaiting[td->first_awaiting]].addr, w.b);
    assert_true(b->awaited_by == a - w.s.tasks || b->awaited_by == td - w.s.tasks);
    /* G keeps its own frame; the Task it awaits is simply not listed */
    assert_int_equal(tg->n_awaiting, 0);
    assert_int_equal(tg->n_frames, 1);
    assert_string_equal(fname(&w, tg, 0), "second");
    world_end(&w);
}

/* Await chains: one longer than UW_LIMIT_AWAIT_CHAIN is cut there with
 * its reason (class 16); a coroutine whose awaitee reads as NULL ends its
 * chain (class 21).  Neither costs the Task its other frames. */
static void test_chain_ends(void **state)
{
    world w;
    const int suspended = uw__layout_for_minor(13)->state_suspended_yield_from;
    uint64_t c_deep, cur = 0, deep, nul;
    const uw_task_sample *td, *tn;
    int i;

    (void)state;
    world_build(&w);
    c_deep = fp_code(&w.fp, "deep", "/app/deep.py", 10, lines, 4);
    for (i = 0; i < UW_LIMIT_AWAIT_CHAIN + 10; i++)
        cur = fp_coro(&w.fp, c_deep, suspended, 1, cur);
    deep = fp_task(&w.fp, w.task_type, w.loop, cur, fp_str(&w.fp, "deep"), 0);
    nul = fp_task(&w.fp, w.task_type, w.loop,
                  fp_coro(&w.fp, c_deep, suspended, 2, fp_coro(&w.fp, c_deep, suspended, 1, 0)),
                  fp_str(&w.fp, "null-awaitee"), 0);
    {
        uint64_t keys[5] = {w.a, w.b, w.c, deep, nul};
        w.set = fp_set(&w.fp, keys, 5);
    }
    world_start(&w);
    assert_int_equal(sample(&w), 0);
    td = task_at(&w, deep);
    tn = task_at(&w, nul);
    assert_non_null(td);
    assert_non_null(tn);
    assert_int_equal(td->skipped, 0);
    assert_int_equal(td->truncated, UW_ERR_LIMIT_AWAIT);
    assert_true(td->n_frames >= 1 && td->n_frames <= UW_LIMIT_AWAIT_CHAIN);
    assert_int_equal(tn->skipped, 0);
    assert_int_equal(tn->n_frames, 2);
    world_end(&w);
}

/* Registry sets that lie: every one ends as an error of the Task walk,
 * never a crash, never a Task made of garbage. */
static void test_corrupt_registry(void **state)
{
    world w;
    const uw_layout *l;

    (void)state;
    world_build(&w);
    world_start(&w);
    l = w.fp.l;
    fp_put64(&w.fp, w.set + (uint64_t)l->set_mask, 6); /* not 2^k - 1 */
    assert_int_equal(sample(&w), 0);
    assert_int_equal(w.s.n_tasks, 0);
    assert_int_equal(w.s.tasks_error, UW_ERR_BAD_OBJECT);
    fp_put64(&w.fp, w.set + (uint64_t)l->set_mask, ((uint64_t)UW_LIMIT_SET_SLOTS << 1) - 1);
    assert_int_equal(sample(&w), 0);
    assert_int_equal(w.s.tasks_error, UW_ERR_LIMIT_SET);
    fp_put64(&w.fp, w.set + (uint64_t)l->set_mask, 7);
    fp_put64(&w.fp, w.set + (uint64_t)l->set_table, 0xbad0000);
    assert_int_equal(sample(&w), 0);
    assert_int_equal(w.s.tasks_error, UW_ERR_READ_FAULT);
    fp_put64(&w.fp, w.set + 8, FP_STR_TYPE); /* not a set */
    assert_int_equal(sample(&w), 0);
    assert_int_equal(w.s.tasks_error, UW_ERR_BAD_OBJECT);
    world_end(&w);
}

/* Entries that are not Tasks, Tasks whose coroutine is not one, a
 * coroutine awaiting itself, a finished Task. */
static void test_corrupt_objects(void **state)
{
    world w;
    uint64_t keys[6], not_task, dict_type, bad_coro, selfish_coro, selfish, done;
    const uw_asyncio_layout *al;
    const uw_task_sample *t;

    (void)state;
    world_build(&w);
    al = uw__asyncio_layout_for_minor(13);
    dict_type = fp_type(&w.fp, "dict", 0);
    not_task = fp_alloc(&w.fp, 256);
    fp_put64(&w.fp, not_task + 8, dict_type);
    bad_coro = fp_alloc(&w.fp, 256);
    fp_put64(&w.fp, bad_coro + 8, FP_STR_TYPE);
    selfish_coro = fp_coro(&w.fp, fp_code(&w.fp, "selfish", "/s.py", 10, lines, 4),
                           uw__layout_for_minor(13)->state_suspended_yield_from, 1, 0);
    fp_put32(&w.fp, selfish_coro + (uint64_t)w.fp.l->gen_iframe + (uint64_t)w.fp.l->frame_stacktop,
             1);
    fp_put64(&w.fp,
             selfish_coro + (uint64_t)w.fp.l->gen_iframe + (uint64_t)w.fp.l->frame_localsplus,
             selfish_coro);
    selfish = fp_task(&w.fp, w.task_type, w.loop, selfish_coro, fp_str(&w.fp, "selfish"), 0);
    done = fp_task(&w.fp, w.task_type, w.loop, w.coro_c, fp_str(&w.fp, "done"), 0);
    fp_put32(&w.fp, done + (uint64_t)al->fut_state, 2);
    keys[0] = not_task;
    keys[1] = 0xdead00000ull; /* unmapped */
    keys[2] = fp_task(&w.fp, w.task_type, w.loop, bad_coro, fp_str(&w.fp, "badcoro"), 0);
    keys[3] = selfish;
    keys[4] = done;
    keys[5] = fp_task(&w.fp, w.task_type, 0x1234000, w.coro_c, fp_str(&w.fp, "otherloop"), 0);
    w.set = fp_set(&w.fp, keys, 6);
    world_start(&w);
    assert_int_equal(sample(&w), 0);
    /* Only the Task with a bad coroutine and the self-awaiting one are
     * Tasks of this loop; the rest is not (dict, unmapped, done, other loop). */
    assert_int_equal(w.s.n_tasks, 2);
    t = task_at(&w, keys[2]);
    assert_non_null(t);
    assert_int_equal(t->skipped, UW_SKIP_BAD_CORO);
    assert_int_equal(t->n_frames, 0);
    assert_int_equal(w.s.skips[uw_reason_slot(UW_SKIP_BAD_CORO)], 1);
    t = task_at(&w, selfish);
    assert_non_null(t);
    assert_int_equal(t->skipped, 0);
    assert_int_equal(t->truncated, UW_ERR_AWAIT_CYCLE);
    assert_int_equal(t->n_frames, 1);
    world_end(&w);
}

/* Links that form a cycle are reported, never followed forever. */
static void test_link_cycle(void **state)
{
    world w;
    uw_stack_item stack[64];
    size_t n;

    (void)state;
    world_build(&w);
    world_start(&w);
    assert_int_equal(uw_tasks_link(w.t, w.c, w.b, UW_LINK_STRONG), 0);
    assert_int_equal(uw_tasks_link(w.t, w.a, w.c, UW_LINK_STRONG), 0);
    assert_int_equal(sample(&w), 0);
    /* B awaited by A (memory), A linked to C, C linked to B: a cycle of
     * three, which Brent's check sees by the seventh hop; a smaller
     * UW_LIMIT_LINK_CHAIN (the small-limits build) refuses it first. */
    assert_int_equal(uw_compose_task(&w.s, 0, NULL, stack, 64, &n),
                     UW_LIMIT_LINK_CHAIN >= 7 ? UW_ERR_LINK_CYCLE : UW_ERR_LIMIT_LINKS);
    assert_int_equal(uw_tasks_link(w.t, 0, w.a, UW_LINK_STRONG), UW_ERR_INVALID_ARG);
    uw_tasks_unlink(w.t, w.a);
    assert_int_equal(sample(&w), 0);
    assert_int_equal(uw_compose_task(&w.s, 0, NULL, stack, 64, &n), 0);
    world_end(&w);
}

/* The reader, mocked with cmocka: mock_type(int) decides whether a read
 * fails before reaching the fabricated memory. */
static const uw_reader_ops *real_ops;

static int mock_read(void *ctx, uint64_t addr, void *dst, size_t len)
{
    if (mock_type(int) != 0)
        return UW_ERR_READ_FAULT;
    return real_ops->read(ctx, addr, dst, len);
}

static const uw_reader_ops mock_ops = {mock_read, NULL, NULL, NULL};

/* Fail every read from the k-th on (one cmocka test per k, so each gets a
 * fresh mock queue): whatever the Task walk still emits must be exactly the
 * clean result, or cut short keeping its root, or skipped. */
static void test_reads_fail_at(void **state)
{
    const size_t k = *(const size_t *)*state;
    world w;
    size_t i;
    int rc;

    world_build(&w);
    world_start(&w);
    assert_int_equal(sample(&w), 0); /* warm the caches with real reads */
    real_ops = w.fp.reader.ops;
    w.fp.reader.ops = &mock_ops;
    if (k > 0)
        will_return_count(mock_read, 0, (int)k);
    will_return_maybe(mock_read, 1);
    rc = sample(&w);
    assert_true(rc == 0 || rc == UW_ERR_READ_FAULT);
    for (i = 0; rc == 0 && i < w.s.n_tasks; i++) {
        const uw_task_sample *t = &w.s.tasks[i];
        if (t->skipped != 0 || t->n_frames == 0)
            continue;
        if (t->addr == w.b && t->n_frames == 2) {
            assert_string_equal(fname(&w, t, 0), "inner");
            assert_string_equal(fname(&w, t, 1), "outer");
        } else {
            const char *root = fname(&w, t, t->n_frames - 1);
            assert_int_equal(t->n_frames, 1);
            assert_true(strcmp(root, "outer") == 0 || strcmp(root, "main") == 0 ||
                        strcmp(root, "orphan") == 0);
        }
    }
    world_end(&w);
}

/* --- recovery (src/tasks/recover.c) --------------------------------------- */

/* A reader over the world that changes it at two moments of a sample:
 * when the chain check reads B's name object again (copy A; copy B then
 * reads the change, so B is skipped as task_changed_while_read), and when
 * recovery reads B's object again.  Mode REBORN: at the first moment B is
 * freed and made again at its address, its coroutine too, under another
 * name, while A, which awaited B, still names that address; at the second
 * A has resumed and awaits the new B from its next line, its fut_waiter
 * the same word (an ABA through B's reuse).  Mode STEP: at the first
 * moment B steps (its outer coroutine now awaits the future itself, at
 * its next line), nothing else. */
enum {
    REC_REBORN = 1,
    REC_STEP,
    REC_ALONE,
    REC_ALONE_AWAITED,
    REC_ALONE_HARMLESS,
    REC_ALONE_HOOK,
    REC_ALONE_HOOK_NEW,
    REC_HOOK_FIRST,
    REC_IDLE,
    REC_SLOT,
    REC_UNMADE,
    REC_FRAMELESS,
    REC_HELD,
    REC_HELD_TWO
};

typedef struct rec_world {
    world w;
    const uw_reader_ops *real;
    int mode, first, second;
    uint64_t name_b, reborn_code, main_code, outer_code, fut, orphan_code, fut2;
    uint64_t hook;       /* the hook module's records (REC_ALONE_HOOK*): its buffer */
    uint64_t leaf, slot; /* REC_SLOT: the coroutine B's inner one comes to
                          * await, and the awaitee slot it goes in */
    uint64_t leaf_type;  /* REC_UNMADE: the leaf's type word once made */
    uint8_t leaf_owner;  /* REC_FRAMELESS: its frame's owner once made */
    uint64_t d;          /* REC_HELD*: a fourth Task, awaiting C */
} rec_world;

/* rec_run's recovery option: -1 leaves the default. */
static int rec_recover = -1;

static rec_world *rec_cur;

static uint64_t rd64(world *w, uint64_t addr)
{
    uint64_t v;
    memcpy(&v, fp_ptr(&w->fp, addr, 8), 8);
    return v;
}

/* Coroutine c's frame: code at instruction `index`, awaiting `awaitee`. */
static void rec_frame(world *w, uint64_t c, uint64_t code, int64_t index, uint64_t awaitee)
{
    const uw_layout *l = w->fp.l;
    uint64_t f = c + (uint64_t)l->gen_iframe;

    fp_frame_at(&w->fp, f, code, 0, l->owner_generator, index);
    fp_put32(&w->fp, f + (uint64_t)l->frame_stacktop, 1);
    fp_put64(&w->fp, f + (uint64_t)l->frame_localsplus, awaitee);
}

static void rec_change(rec_world *r, uint64_t addr, size_t len)
{
    world *w = &r->w;
    const uw_asyncio_layout *al = uw__asyncio_layout_for_minor(13);

    if (r->mode == 0)
        return;
    if (r->mode == REC_FRAMELESS) {
        /* the leaf's frame is its own again just before the check's
         * copy A reads what the chain stopped at (its type word on) */
        const uint64_t owner =
            r->leaf + (uint64_t)w->fp.l->gen_iframe + (uint64_t)w->fp.l->frame_owner;
        if (!r->first && addr == r->leaf + (uint64_t)w->fp.l->object_type && len > 8 &&
            addr + len > owner) {
            r->first = 1;
            memcpy(fp_ptr(&w->fp, owner, 1), &r->leaf_owner, 1);
        }
        return;
    }
    if (r->mode == REC_UNMADE) {
        /* the leaf is made (its type word written) just before its type
         * word is read alone: by the re-read of an end whose window the
         * levels could not read, or by the check's copy A of the end */
        if (!r->first && addr == r->leaf + (uint64_t)w->fp.l->object_type && len == 8) {
            r->first = 1;
            fp_put64(&w->fp, r->leaf + (uint64_t)w->fp.l->object_type, r->leaf_type);
        }
        return;
    }
    if (!r->first && addr == r->name_b && len != UW_NAME_WINDOW) {
        r->first = 1;
        if (r->mode == REC_REBORN) {
            rec_frame(w, w->coro_b_outer, r->reborn_code, 1, r->fut);
            fp_put64(&w->fp, w->b + (uint64_t)al->task_name, fp_str(&w->fp, "reborn"));
        } else if (r->mode == REC_STEP) {
            rec_frame(w, w->coro_b_outer, r->outer_code, 2, r->fut);
        } else if (r->mode == REC_HOOK_FIRST) {
            /* the hook's first record, C created by A, written in its
             * first free slot, then the count covers it */
            const uint64_t rec[3] = {w->c, w->a, UW_LINK_CREATION}, one = 1;
            memcpy(fp_ptr(&w->fp, r->hook + 16, UW_LINK_RECORD), rec, sizeof rec);
            memcpy(fp_ptr(&w->fp, r->hook + 8, 8), &one, 8);
        } else if (r->mode == REC_SLOT) {
            /* the awaitee slot, read empty by the chains, now holds the
             * coroutine B's inner one awaits */
            fp_put64(&w->fp, r->slot, r->leaf);
        } else {
            /* C steps to its next await, a new Future; B's fut_waiter
             * moves to that Future too */
            rec_frame(w, w->coro_c, r->orphan_code, 2, r->fut2);
            fp_put64(&w->fp, w->c + (uint64_t)al->task_fut_waiter, r->fut2);
            fp_put64(&w->fp, w->b + (uint64_t)al->task_fut_waiter, r->fut2);
        }
    } else if (r->first && !r->second && addr == w->b && len == (size_t)al->task_size) {
        r->second = 1;
        if (r->mode == REC_REBORN)
            rec_frame(w, w->coro_a, r->main_code, 2, w->b);
        if (r->mode == REC_HELD || r->mode == REC_HELD_TWO) /* B is another Task now */
            fp_put64(&w->fp, w->b + (uint64_t)al->task_name, fp_str(&w->fp, "renamed"));
        if (r->mode == REC_ALONE_HOOK_NEW) {
            /* the round begins: C's creation record is written in a free
             * slot, then the count covers it (as the hook module does) */
            const uint64_t rec[3] = {w->c, w->a, UW_LINK_CREATION}, two = 2;
            memcpy(fp_ptr(&w->fp, r->hook + 16 + UW_LINK_RECORD, UW_LINK_RECORD), rec, sizeof rec);
            memcpy(fp_ptr(&w->fp, r->hook + 8, 8), &two, 8);
        }
    }
}

static int rec_read(void *ctx, uint64_t addr, void *dst, size_t len)
{
    rec_change(rec_cur, addr, len);
    return rec_cur->real->read(ctx, addr, dst, len);
}

static const uw_reader_ops rec_ops = {rec_read, NULL, NULL, NULL};

/* The loop's thread in a callback: Handle._run, as the split finds it,
 * current above the select() frame (standing for _run_once); no Task
 * runs.  Recovery reads Tasks again on such a walk without reading the
 * loop's stack again: an idle loop's stack holds only while no callback
 * runs (rule recover_idle_stands). */
static void world_in_callback(world *w)
{
    const uw_layout *l = w->fp.l;
    /* a short path: the small-limits build cuts strings at 32 characters */
    uint64_t run = fp_code(&w->fp, "Handle._run", "/py/asyncio/events.py", 80, lines, 4);
    uint64_t f = fp_frame(&w->fp, run, w->sel_frame, l->owner_thread, 1);

    fp_put64(&w->fp, w->ts + (uint64_t)l->tstate_current_frame, f);
}

static uint64_t pw_method(world *w, uint64_t self);

/* The world warmed by one sample, then one sample through the reader.
 * Mode IDLE: REC_STEP with the thread's walk meeting the loop idle. */
static void rec_run(rec_world *r, int mode)
{
    const uw_layout *l;
    const uw_asyncio_layout *al = uw__asyncio_layout_for_minor(13);

    const int idle = mode == REC_IDLE;

    memset(r, 0, sizeof *r);
    world_build(&r->w);
    if (!idle)
        world_in_callback(&r->w);
    else
        mode = REC_STEP;
    l = r->w.fp.l;
    r->name_b = rd64(&r->w, r->w.b + (uint64_t)al->task_name);
    r->fut = rd64(&r->w, r->w.b + (uint64_t)al->task_fut_waiter);
    r->main_code = rd64(&r->w, r->w.coro_a + (uint64_t)l->gen_iframe + (uint64_t)l->frame_code);
    r->outer_code =
        rd64(&r->w, r->w.coro_b_outer + (uint64_t)l->gen_iframe + (uint64_t)l->frame_code);
    r->reborn_code = fp_code(&r->w.fp, "reborn", "/app/work.py", 10, lines, 4);
    r->orphan_code = rd64(&r->w, r->w.coro_c + (uint64_t)l->gen_iframe + (uint64_t)l->frame_code);
    r->fut2 = fp_alloc(&r->w.fp, 128);
    fp_put64(&r->w.fp, r->fut2 + 8, FP_FUTURE_OBJ_TYPE);
    if (mode == REC_ALONE_AWAITED || mode == REC_HELD || mode == REC_HELD_TWO) {
        /* B has a callback besides A's wakeup: nothing vouches for who
         * awaits B, and B stays skipped (recover.c, uw_held_by) */
        uint64_t list = fp_alloc(&r->w.fp, 64);
        fp_put64(&r->w.fp, r->w.b + (uint64_t)al->fut_callbacks, list);
        if (mode == REC_HELD_TWO) /* and so has C, besides D's */
            fp_put64(&r->w.fp, r->w.c + (uint64_t)al->fut_callbacks, list);
    }
    if (mode == REC_ALONE_AWAITED) /* something outside the sample awaits C */
        fp_put64(&r->w.fp, r->w.c + (uint64_t)al->fut_callback0, r->fut2);
    if (mode == REC_HELD || mode == REC_HELD_TWO) {
        /* D awaits C: its wakeup is C's callback (fp_task) */
        const uint64_t code = fp_code(&r->w.fp, "waiter", "/app/work.py", 10, lines, 4);
        const uint64_t coro = fp_coro(&r->w.fp, code, l->state_suspended_yield_from, 1, r->w.c);
        uint64_t keys[4] = {r->w.a, r->w.b, r->w.c, 0};
        r->d = keys[3] =
            fp_task(&r->w.fp, r->w.task_type, r->w.loop, coro, fp_long(&r->w.fp, 4), r->w.c);
        r->w.set = fp_set(&r->w.fp, keys, 4);
    }
    if (mode == REC_ALONE_HOOK || mode == REC_ALONE_HOOK_NEW || mode == REC_HOOK_FIRST) {
        /* the hook module's records: B created by A, three free slots
         * (REC_HOOK_FIRST: none yet, four free slots) */
        static const char *const mod_key[1] = {"tornstack_hook"}, *const links_key[1] = {"_LINKS"};
        uint8_t buf[16 + 4 * UW_LINK_RECORD];
        const uint64_t count = mode == REC_HOOK_FIRST ? 0 : 1,
                       rec[3] = {r->w.b, r->w.a, UW_LINK_CREATION};
        uint64_t v, module;
        memset(buf, 0, sizeof buf);
        memcpy(buf, UW_LINKS_MAGIC, 8);
        memcpy(buf + 8, &count, 8);
        if (count > 0)
            memcpy(buf + 16, rec, sizeof rec);
        v = fp_bytearray(&r->w.fp, buf, sizeof buf);
        r->hook = rd64(&r->w, v + (uint64_t)l->bytearray_start);
        module = fp_alloc(&r->w.fp, 64);
        fp_put64(&r->w.fp, module + (uint64_t)l->module_dict, fp_dict(&r->w.fp, links_key, &v, 1));
        fp_set_modules(&r->w.fp, r->w.interp, fp_dict(&r->w.fp, mod_key, &module, 1));
    }
    if (mode == REC_ALONE_HARMLESS) { /* C kept alive in a set: its discard */
        uint64_t set = fp_set(&r->w.fp, NULL, 0);
        fp_put64(&r->w.fp, set + (uint64_t)l->object_type, fp_type(&r->w.fp, "set", 0));
        fp_put64(&r->w.fp, r->w.c + (uint64_t)al->fut_callback0, pw_method(&r->w, set));
    }
    if (mode == REC_SLOT || mode == REC_UNMADE || mode == REC_FRAMELESS) {
        r->leaf = fp_coro(&r->w.fp, fp_code(&r->w.fp, "leaf", "/app/work.py", 10, lines, 4),
                          l->state_suspended_yield_from, 1, r->fut);
        r->slot = r->w.coro_b_inner + (uint64_t)l->gen_iframe + (uint64_t)l->frame_localsplus;
        r->leaf_type = rd64(&r->w, r->leaf + (uint64_t)l->object_type);
    }
    world_start(&r->w);
    if (rec_recover >= 0) {
        uw_task_options o;
        uw_task_options_default(&o);
        o.recover = (uint32_t)rec_recover;
        uw_tasks_set_options(r->w.t, &o);
    }
    assert_int_equal(sample(&r->w), 0);
    if (mode == REC_SLOT) /* B's inner coroutine's awaitee slot, not yet written */
        fp_put64(&r->w.fp, r->slot, 0);
    if (mode == REC_UNMADE) { /* the slot names the leaf, not made yet */
        fp_put64(&r->w.fp, r->slot, r->leaf);
        fp_put64(&r->w.fp, r->leaf + (uint64_t)l->object_type, 0);
    }
    if (mode == REC_FRAMELESS) { /* the slot names the leaf, its frame not its own yet */
        const uint64_t owner = r->leaf + (uint64_t)l->gen_iframe + (uint64_t)l->frame_owner;
        const uint8_t thread = (uint8_t)l->owner_thread;
        fp_put64(&r->w.fp, r->slot, r->leaf);
        memcpy(&r->leaf_owner, fp_ptr(&r->w.fp, owner, 1), 1);
        memcpy(fp_ptr(&r->w.fp, owner, 1), &thread, 1);
    }
    rec_cur = r;
    r->mode = mode;
    sample_through(&r->w, &rec_ops, &r->real);
    assert_true(r->first);
    /* the walk found Handle._run (the split), or met the loop idle */
    assert_int_equal(r->w.s.threads[0].split, idle ? -1 : 0);
}

static uint32_t rec_total(const uw_sample *s)
{
    uint32_t n = 0;
    size_t i;

    for (i = 1; i < UW_REASON_SLOTS; i++)
        n += s->recovered[i];
    return n;
}

/* The scenario of `mode` again with recovery off: B, whose chain the
 * check found moved, is skipped as task_changed_while_read and nothing is
 * recovered. */
static void rec_assert_skipped_unrecovered(int mode)
{
    rec_world r;
    const uw_task_sample *b;

    rec_recover = 0;
    rec_run(&r, mode);
    rec_recover = -1;
    b = task_at(&r.w, r.w.b);
    assert_non_null(b);
    assert_int_equal(b->skipped, UW_SKIP_TASK_CHANGED);
    assert_int_equal(rec_total(&r.w.s), 0);
    world_end(&r.w);
}

/* A Task that stepped between its chain read and the check, then held
 * still, is read again and kept: counted once as recovered, shown with
 * the frames it has now, still awaited by A (whose fut_waiter is B all
 * along).  Without recovery (option recover 0) it is skipped. */
static void test_recover_step(void **state)
{
    rec_world r;
    const uw_task_sample *b;
    uw_task_options o;

    (void)state;
    rec_run(&r, REC_STEP);
    b = task_at(&r.w, r.w.b);
    assert_non_null(b);
    assert_int_equal(b->skipped, 0);
    assert_int_equal(r.w.s.recovered[uw_reason_slot(UW_SKIP_TASK_CHANGED)], 1);
    assert_int_equal(rec_total(&r.w.s), 1);
    assert_int_equal(b->n_frames, 1);
    assert_string_equal(fname(&r.w, b, 0), "outer");
    assert_int_equal(r.w.s.frames[b->first_frame].line, lines[2]);
    assert_int_equal(b->awaited_by, (int64_t)(task_at(&r.w, r.w.a) - r.w.s.tasks));
    world_end(&r.w);

    uw_task_options_default(&o);
    assert_int_equal(o.recover, UW_RECOVER_ROUNDS);
    rec_assert_skipped_unrecovered(REC_STEP);
}

/* The scenario of `mode`, in which the check finds B's chain moved past
 * an end its coroutine's awaitee did not hold: B is read again by
 * recovery (counted once) and shown as [leaf, inner, outer]; with
 * recovery off it is skipped (rec_assert_skipped_unrecovered). */
static void rec_assert_leaf_recovered(int mode)
{
    rec_world r;
    const uw_task_sample *b;

    rec_run(&r, mode);
    b = task_at(&r.w, r.w.b);
    assert_non_null(b);
    assert_int_equal(b->skipped, 0);
    assert_int_equal(r.w.s.recovered[uw_reason_slot(UW_SKIP_TASK_CHANGED)], 1);
    assert_int_equal(b->n_frames, 3);
    assert_string_equal(fname(&r.w, b, 0), "leaf");
    assert_string_equal(fname(&r.w, b, 1), "inner");
    assert_string_equal(fname(&r.w, b, 2), "outer");
    world_end(&r.w);
    rec_assert_skipped_unrecovered(mode);
}

/* A chain that ended at an awaitee slot holding no object (read before
 * its coroutine wrote it, or, on a torn read, before the coroutine was
 * made at its address) is kept only if the check reads that slot empty
 * too: the check reads every slot a chain read, the one that ended it
 * included.  B's inner coroutine is suspended in an await whose slot the
 * chain read finds empty; by the check the slot holds a leaf coroutine.
 * The build before the fix read no slot for such an end and showed B as
 * [inner, outer], a chain the check never saw.  Recovery reads B again
 * and shows [leaf, inner, outer]; without recovery B is skipped. */
static void test_check_empty_awaitee_slot(void **state)
{
    (void)state;
    rec_assert_leaf_recovered(REC_SLOT);
}

/* A chain that stopped at an awaitee whose window it read whole with a
 * type word of 0 (a torn copy that caught the coroutine before it was
 * made) keeps that end as read, which no check takes for an end: B is
 * found changed, read again by recovery and shown as [leaf, inner,
 * outer]; without recovery it is skipped.  The build before the fix
 * took type 0 for a window it could not read, read the type and state
 * again after the levels (the leaf made by then, suspended), and the
 * check's copies agreed with that end: B shown as [inner, outer], the
 * chain it had only before the leaf was made (the fuzzer's scenario,
 * corpus/race/open/violation-local-d0139e9b-315-chain-ends-at-sleep). */
static void test_check_unmade_awaitee(void **state)
{
    (void)state;
    rec_assert_leaf_recovered(REC_UNMADE);
}

/* Rule check_end_owner.  A chain that stopped at a coroutine read with no
 * frame of its own (its frame's owner not the generator: a copy of its
 * memory older than the coroutine made there) keeps that end only if the
 * check reads the same owner: here the leaf's frame is its own by the
 * check, and B is found changed, read again by recovery and shown as
 * [leaf, inner, outer]; without recovery it is skipped.  Before the rule
 * the check compared the end's type and state only, the same for the
 * coroutine made since, and B was shown as [inner, outer], cut as
 * bad_coroutine: verify's busy rows found it (3.14, TSO, 2,000 samples:
 * a new sleep coroutine at the address of one that had finished, its
 * page in the chains' snapshot read before it was made). */
static void test_check_end_owner(void **state)
{
    (void)state;
    rec_assert_leaf_recovered(REC_FRAMELESS);
}

/* --- the recovery rounds' bounds at -1/0/+1 ------------------------------ */

/* Worlds of Tasks of their own, each suspended on a Future of its own,
 * nothing linking them.  Task j steps between its chain read and its check
 * in the first limit[j] readings of it (the sample's, then its recovery
 * rounds'): each time its name is read after its object was read again (a
 * reading's names come after its chains), its one coroutine moves to the
 * other of two instructions.  So a Task of limit k is kept by round k if
 * recovery gets so far, and a Task of limit UINT_MAX (a mover) never.
 * The rounds' test (rounds_bound) has Tasks T0..T(R+1), Tj of limit j
 * (R = UW_RECOVER_ROUNDS), and movers ... */
#define RB_TASKS (UW_RECOVER_ROUNDS + 2)
/* ... enough to make the first round keep its one Task in
 * UW_RECOVER_YIELD, and one more */
#define RB_MOVERS_MAX \
    (UW_RECOVER_YIELD > UW_RECOVER_ROUNDS + 1 ? UW_RECOVER_YIELD - UW_RECOVER_ROUNDS : 1)
/* The yield test has 2 * UW_RECOVER_YIELD Tasks, the few-again test
 * UW_RECOVER_AGAIN + 1. */
#define RB_MAX2(a, b) ((a) > (b) ? (a) : (b))
#define RB_ALL \
    RB_MAX2(RB_MAX2(RB_TASKS + RB_MOVERS_MAX, 2 * UW_RECOVER_YIELD), UW_RECOVER_AGAIN + 1)
_Static_assert(RB_ALL <= UW_LIMIT_TASKS, "the rounds' tests: their Tasks");
_Static_assert(2 * UW_RECOVER_YIELD > UW_RECOVER_AGAIN,
               "the yield test: a first round of more Tasks than a few");

typedef struct rb_world {
    world w;
    const uw_reader_ops *real;
    int armed;
    unsigned n; /* Tasks in the world */
    uint64_t task[RB_ALL], coro[RB_ALL], name[RB_ALL], fut[RB_ALL], code;
    unsigned obj_reads[RB_ALL], changed_at[RB_ALL], changes[RB_ALL];
    unsigned limit[RB_ALL]; /* readings Tj steps in, at most (UINT_MAX: all) */
    int group_calls;        /* the reader's: each ordered group a call */
    uint64_t charge;        /* calls added to the armed sample's first read */
    int charged;
} rb_world;

static rb_world *rb_cur;

static int rb_read(void *ctx, uint64_t addr, void *dst, size_t len)
{
    rb_world *r = rb_cur;
    const uw_asyncio_layout *al = uw__asyncio_layout_for_minor(13);
    unsigned j;

    for (j = 0; r->armed && j < r->n; j++) {
        if (addr == r->task[j] && len == (size_t)al->task_size)
            r->obj_reads[j]++;
        if (addr == r->name[j] && len != UW_NAME_WINDOW && r->changes[j] < r->limit[j] &&
            r->changed_at[j] != r->obj_reads[j] + 1) {
            r->changed_at[j] = r->obj_reads[j] + 1;
            r->changes[j]++;
            rec_frame(&r->w, r->coro[j], r->code, 1 + (int64_t)(r->changes[j] & 1), r->fut[j]);
        }
    }
    return r->real->read(ctx, addr, dst, len);
}

/* The pieces in order through rb_read, counted as a vectored reader
 * counts its calls (one, or one per ordered group where each group is a
 * call): the sample's reads decide whether a round may begin
 * (UW_RECOVER_READS), and a piece is not a call on any real reader. */
static int rb_readv(void *ctx, uw_iov *iov, size_t n, const size_t *end, size_t n_groups,
                    uint64_t *calls)
{
    size_t i;

    (void)end;
    for (i = 0; i < n; i++) /* the reader takes the failures from the statuses */
        iov[i].status = iov[i].len == 0 ? 0 : rb_read(ctx, iov[i].addr, iov[i].dst, iov[i].len);
    *calls = rb_cur->group_calls ? n_groups : 1;
    if (rb_cur->armed && !rb_cur->charged) {
        *calls += rb_cur->charge;
        rb_cur->charged = 1;
    }
    return 0;
}

static const uw_reader_ops rb_ops = {rb_read, rb_readv, NULL, NULL};

/* Make r's world of r->n Tasks, each suspended on a Future of its own
 * and stepping in the first r->limit[j] readings of it, and take one
 * sample with the option recover = `rounds`, through rb_read. */
static void rb_sample(rb_world *r, uint32_t rounds)
{
    uw_task_options o;
    const int suspended = uw__layout_for_minor(13)->state_suspended_yield_from;
    unsigned j;

    assert_true(r->n <= RB_ALL);
    world_build(&r->w);
    world_in_callback(&r->w);
    r->code = fp_code(&r->w.fp, "stepper", "/app/step.py", 10, lines, 4);
    for (j = 0; j < r->n; j++) {
        char nm[16];
        snprintf(nm, sizeof nm, "t%u", j);
        r->fut[j] = fp_alloc(&r->w.fp, 128);
        fp_put64(&r->w.fp, r->fut[j] + 8, FP_FUTURE_OBJ_TYPE);
        r->coro[j] = fp_coro(&r->w.fp, r->code, suspended, 1, r->fut[j]);
        r->name[j] = fp_str(&r->w.fp, nm);
        r->task[j] =
            fp_task(&r->w.fp, r->w.task_type, r->w.loop, r->coro[j], r->name[j], r->fut[j]);
    }
    r->w.set = fp_set(&r->w.fp, r->task, r->n);
    world_start(&r->w);
    uw_task_options_default(&o);
    o.recover = rounds;
    uw_tasks_set_options(r->w.t, &o);
    r->w.fp.reader.group_calls = r->group_calls;
    assert_int_equal(sample(&r->w), 0);
    rb_cur = r;
    r->armed = 1;
    sample_through(&r->w, &rb_ops, &r->real);
    r->armed = 0;
    assert_int_equal(r->w.s.n_tasks, r->n);
}

/* What one sample of r's world must show, with the option recover =
 * `rounds`, by the rule recover.c states: rounds while Tasks are left,
 * min(rounds, UW_RECOVER_ROUNDS) at most (UW_RECOVER_ROUNDS_SPLIT where
 * each ordered group is a call), each followed by another only
 * if it kept at least one in UW_RECOVER_YIELD of the Tasks it read again
 * or read again at most UW_RECOVER_AGAIN.  Every Task is kept or skipped
 * as task_changed_while_read accordingly, stepped in every reading of it
 * up to its limit, and shows the instruction its last step left; the
 * sample counts those kept by a round as recovered. */
static void rb_expect(rb_world *r, uint32_t rounds, const char *what)
{
    const uint32_t most = r->group_calls ? UW_RECOVER_ROUNDS_SPLIT : UW_RECOVER_ROUNDS;
    const uint32_t bound = rounds < most ? rounds : most;
    unsigned readings[RB_ALL], kept_in[RB_ALL]; /* kept_in: 0 not kept, else reading */
    unsigned j, left = 0, recovered = 0;
    uint32_t k;

    for (j = 0; j < r->n; j++) {
        readings[j] = 1;
        kept_in[j] = r->limit[j] == 0 ? 1 : 0;
        left += r->limit[j] != 0;
    }
    for (k = 1; k <= bound && left > 0; k++) {
        unsigned n = left, kept = 0;
        for (j = 0; j < r->n; j++) {
            if (kept_in[j] != 0)
                continue;
            readings[j]++;
            if (r->limit[j] == k) {
                kept_in[j] = k + 1;
                kept++;
            }
        }
        left -= kept;
        recovered += kept;
        if ((kept == 0 || kept * UW_RECOVER_YIELD < n) && n > UW_RECOVER_AGAIN)
            break;
    }
    for (j = 0; j < r->n; j++) {
        const uw_task_sample *t = task_at(&r->w, r->task[j]);
        const unsigned stepped = r->limit[j] < readings[j] ? r->limit[j] : readings[j];
        assert_non_null(t);
        if (kept_in[j] != 0) {
            if (t->skipped != 0)
                fail_msg("%s, rounds %u: t%u skipped (%s), want it kept by reading %u", what,
                         rounds, j, uw_errname(t->skipped), kept_in[j]);
            assert_int_equal(t->n_frames, 1);
            assert_int_equal(r->w.s.frames[t->first_frame].line, lines[1 + (r->changes[j] & 1)]);
        } else if (t->skipped != UW_SKIP_TASK_CHANGED) {
            fail_msg("%s, rounds %u: t%u %s, want it skipped after %u readings", what, rounds, j,
                     t->skipped ? uw_errname(t->skipped) : "kept", readings[j]);
        }
        if (r->changes[j] != stepped)
            fail_msg("%s, rounds %u: t%u stepped %u times, want %u", what, rounds, j, r->changes[j],
                     stepped);
    }
    assert_int_equal(r->w.s.recovered[uw_reason_slot(UW_SKIP_TASK_CHANGED)], recovered);
}

/* A world of n Tasks of the given limits, sampled with recover = rounds
 * (each ordered group of a read a call of its own if group_calls) and
 * judged by rb_expect. */
static void rb_run_on(const unsigned *limit, unsigned n, uint32_t rounds, int group_calls,
                      const char *what)
{
    rb_world r;

    memset(&r, 0, sizeof r);
    assert_true(n <= RB_ALL);
    r.n = n;
    r.group_calls = group_calls;
    memcpy(r.limit, limit, n * sizeof *limit);
    rb_sample(&r, rounds);
    rb_expect(&r, rounds, what);
    world_end(&r.w);
}

static void rb_run(const unsigned *limit, unsigned n, uint32_t rounds, const char *what)
{
    rb_run_on(limit, n, rounds, 0, what);
}

/* T0..T(R+1), Tj of limit j, and `movers`: round j keeps Tj while the
 * rounds go on, and T(R+1) is still moving when they end.  Whether they
 * go on past the first is the yield rule's to say: with R + 1 Tasks read
 * again and one kept, only where R + 1 <= UW_RECOVER_YIELD (with
 * UW_RECOVER_ROUNDS 5 they end after the first, and the two-Task worlds
 * of test_recover_rounds_bound hold the bound itself). */
static void rounds_bound(uint32_t rounds, unsigned movers)
{
    unsigned limit[RB_ALL], j;

    assert_true(movers <= RB_MOVERS_MAX);
    for (j = 0; j < RB_TASKS + movers; j++)
        limit[j] = j < RB_TASKS ? j : UINT_MAX;
    rb_run(limit, RB_TASKS + movers, rounds, "T0..T(R+1)");
}

static void test_recover_rounds_bound(void **state)
{
    const unsigned at_yield = UW_RECOVER_YIELD > UW_RECOVER_ROUNDS + 1
                                  ? (unsigned)(UW_RECOVER_YIELD - UW_RECOVER_ROUNDS - 1)
                                  : 0u;
    /* two Tasks, kept by round R and by none: every round before R keeps
     * none and reads few again */
    const unsigned last[2] = {UW_RECOVER_ROUNDS, UW_RECOVER_ROUNDS + 1};

    (void)state;
    rounds_bound(0, 0);
    rounds_bound(UW_RECOVER_ROUNDS - 1, 0);
    rounds_bound(UW_RECOVER_ROUNDS, 0);
    rounds_bound(UW_RECOVER_ROUNDS + 1, 0);
    /* the yield rule: a first round that kept exactly one in
     * UW_RECOVER_YIELD goes on (when the world allows so few movers), one
     * that kept fewer ends recovery, unless it read few again */
    if (UW_RECOVER_YIELD >= UW_RECOVER_ROUNDS + 1)
        rounds_bound(UW_RECOVER_ROUNDS, at_yield);
    rounds_bound(UW_RECOVER_ROUNDS, at_yield + 1);
    rb_run(last, 2, UW_RECOVER_ROUNDS - 1, "kept by round R");
    rb_run(last, 2, UW_RECOVER_ROUNDS, "kept by round R");
    rb_run(last, 2, UW_RECOVER_ROUNDS + 1, "kept by round R");
}

/* UW_RECOVER_ROUNDS_SPLIT at -1/0/+1, where each ordered group of a read
 * is a call of its own: two Tasks kept by round k and by none, k each of
 * the split bound's neighbours; the one of k = UW_RECOVER_ROUNDS_SPLIT + 1
 * is skipped there, though the option and UW_RECOVER_ROUNDS allow its
 * round. */
static void test_recover_rounds_split(void **state)
{
    unsigned k;

    (void)state;
    for (k = UW_RECOVER_ROUNDS_SPLIT - 1; k <= UW_RECOVER_ROUNDS_SPLIT + 1; k++) {
        const unsigned two[2] = {k, UINT_MAX};
        rb_run_on(two, 2, UW_RECOVER_ROUNDS, 1, "split groups");
    }
}

/* UW_RECOVER_AGAIN at -1/0/+1: m Tasks that step in the sample's reading
 * and the first round's.  The first round keeps none; the second, made
 * only when the first read at most UW_RECOVER_AGAIN Tasks again, keeps
 * every one. */
static void test_recover_few_again(void **state)
{
    unsigned limit[RB_ALL], m, j;

    (void)state;
    for (m = UW_RECOVER_AGAIN - 1; m <= UW_RECOVER_AGAIN + 1; m++) {
        for (j = 0; j < m; j++)
            limit[j] = 2;
        rb_run(limit, m, UW_RECOVER_ROUNDS, m <= UW_RECOVER_AGAIN ? "few again" : "many again");
    }
}

/* One sample of two Tasks stepping in the sample's reading only, its
 * first read charged `charge` calls more: is T0 kept (by the first round,
 * the only way it can be)? */
static int rb_kept_with_charge(uint64_t charge)
{
    const unsigned limit[2] = {1, 1};
    rb_world r;
    const uw_task_sample *t0;
    int kept;

    memset(&r, 0, sizeof r);
    r.n = 2;
    r.charge = charge;
    memcpy(r.limit, limit, sizeof limit);
    rb_sample(&r, UW_RECOVER_ROUNDS);
    t0 = task_at(&r.w, r.task[0]);
    assert_non_null(t0);
    kept = t0->skipped == 0;
    if (!kept) {
        assert_int_equal(t0->skipped, UW_SKIP_TASK_CHANGED);
        assert_int_equal(rec_total(&r.w.s), 0);
    } else {
        assert_int_equal(rec_total(&r.w.s), 2);
    }
    assert_true(r.w.s.calls >= charge);
    world_end(&r.w);
    return kept;
}

/* UW_RECOVER_READS as the sample meets it: the reads charged before the
 * first round are raised one at a time from none until no round is
 * begun.  That happens within UW_RECOVER_READS calls of charge (the
 * sample made some of its own), never at no charge; the scan itself
 * shows the round keeping both Tasks one charge below it and both left
 * skipped as their first check left them, none recovered, at it
 * (rb_kept_with_charge asserts each); one past it they stay so. */
static void test_recover_reads_bound(void **state)
{
    uint64_t e;

    (void)state;
    for (e = 0; e <= UW_RECOVER_READS && rb_kept_with_charge(e); e++)
        ;
    if (e > UW_RECOVER_READS)
        fail_msg("a round was still begun with %d calls charged", UW_RECOVER_READS);
    if (e == 0)
        fail_msg("no round was begun with no calls charged");
    assert_false(rb_kept_with_charge(e + 1));
}

/* UW_RECOVER_YIELD at its threshold, with more Tasks than a few: of
 * 2 * UW_RECOVER_YIELD Tasks, k step in the sample's reading only (kept
 * by the first round), the others in the first round's too (kept by the
 * second).  Two kept is one in UW_RECOVER_YIELD: the second round is made
 * and keeps the rest; one kept ends recovery with them skipped. */
static void test_recover_yield(void **state)
{
    unsigned limit[RB_ALL], k, j;

    (void)state;
    for (k = 1; k <= 2; k++) {
        for (j = 0; j < 2 * UW_RECOVER_YIELD; j++)
            limit[j] = j < k ? 1 : 2;
        rb_run(limit, 2 * UW_RECOVER_YIELD, UW_RECOVER_ROUNDS,
               k == 2 ? "yield met" : "yield missed");
    }
}

/* The same step with the loop's thread idle in select() at the walk, and
 * no skeleton of the loop's stack to read it again from (this world's
 * loop has no epoch, and no walk met it in a callback): B is not read
 * again and stays skipped.  The idle loop's stack is a pure stack only
 * while no callback runs; B stepped, so one ran after the first check's
 * instants, and B read again would be shown in a state of that callback
 * on a stack of no callback, unless a round proves the stack standing
 * (test_recover_idle_stands). */
static void test_recover_idle_unprovable(void **state)
{
    rec_world r;
    const uw_task_sample *b;

    (void)state;
    rec_run(&r, REC_IDLE);
    assert_false(r.second); /* B's object was not read again */
    b = task_at(&r.w, r.w.b);
    assert_non_null(b);
    assert_int_equal(r.w.s.threads[0].split, -1);
    assert_int_equal(b->skipped, UW_SKIP_TASK_CHANGED);
    assert_int_equal(rec_total(&r.w.s), 0);
    world_end(&r.w);
}

/* B freed and made again at its address (rule recover_same_task): the
 * Task there is read again and its check is clean, but its name object
 * is another, so it is another Task and stays skipped.  Without the rule
 * it is kept and shown under A, whose frames are of the first check, a
 * line A had left when it awaited the new B (A's fut_waiter reads the
 * same both times, so the links rule cannot see it). */
static void test_recover_reused_task(void **state)
{
    rec_world r;
    const uw_task_sample *b, *a;

    (void)state;
    rec_run(&r, REC_REBORN);
    assert_true(r.second); /* recovery read B's object again */
    b = task_at(&r.w, r.w.b);
    a = task_at(&r.w, r.w.a);
    assert_non_null(b);
    assert_non_null(a);
    assert_int_equal(b->skipped, UW_SKIP_TASK_CHANGED);
    assert_int_equal(rec_total(&r.w.s), 0);
    assert_int_equal(a->skipped, 0);
    assert_int_equal(a->n_frames, 1);
    assert_int_equal(r.w.s.frames[a->first_frame].line, lines[1]);
    world_end(&r.w);
}

/* Recovery in windows (before 3.14), rule unawaited_no_callbacks: C and B
 * step during the check, C to a new Future, B's fut_waiter to that
 * Future.  C, read again, is kept: no done callback, so nothing awaits it
 * at its window's instant, whatever B, which now awaits a Future that is
 * no Task, came to await (a new gather could hold C, but a gather adds
 * its callback to C first).  So is C whose one callback is the discard of
 * a set that keeps it alive (callbacks.c: no awaiter adds it).  With a
 * done callback on C (something awaits it, unseen) B's change is a
 * possible new awaiter of C, and C stays skipped; without the rule it
 * would be kept and shown as a root.  B has a second callback there
 * besides A's wakeup: with A's alone, A would vouch that nothing else
 * awaits B (rule recover_one_awaiter), B would be kept from the round
 * too, its new Future read at C's instant, and C then rightly kept. */
/* C, read again, is kept: recovered, shown with its new frame (orphan,
 * at its next line) and awaited by the Task of sample index awaited_by
 * (-1: nothing). */
static void rec_c_kept(const rec_world *r, int64_t awaited_by)
{
    const uw_task_sample *c = task_at(&r->w, r->w.c);

    assert_true(r->second);
    assert_non_null(c);
    assert_int_equal(c->skipped, 0);
    assert_true(r->w.s.recovered[uw_reason_slot(UW_SKIP_TASK_CHANGED)] >= 1);
    assert_int_equal(c->n_frames, 1);
    assert_string_equal(fname(&r->w, c, 0), "orphan");
    assert_int_equal(r->w.s.frames[c->first_frame].line, lines[2]);
    assert_int_equal(c->awaited_by, awaited_by);
}

/* C, read again, is not kept: skipped as first checked, no frames. */
static void rec_c_skipped(const rec_world *r)
{
    const uw_task_sample *c = task_at(&r->w, r->w.c);

    assert_true(r->second);
    assert_non_null(c);
    assert_int_equal(c->skipped, UW_SKIP_TASK_CHANGED);
    assert_int_equal(c->n_frames, 0);
}

/* C, read again in mode `mode`, is kept, awaited by nothing. */
static void rec_alone_kept(int mode)
{
    rec_world r;

    rec_run(&r, mode);
    rec_c_kept(&r, -1);
    world_end(&r.w);
}

static void test_recover_alone(void **state)
{
    rec_world r;
    const uw_task_sample *c;

    (void)state;
    rec_alone_kept(REC_ALONE);
    rec_alone_kept(REC_ALONE_HARMLESS);
    rec_alone_kept(REC_ALONE_HOOK);

    /* Rule recover_hook_same: C's creation record written as the round
     * begins.  C's links were decided from the records before it (none),
     * and at the round's instant A is its creator: kept, C would be shown
     * with no creator, frames of one instant and links of another.  It
     * stays skipped (with the records unchanged, above, it is kept). */
    rec_run(&r, REC_ALONE_HOOK_NEW);
    rec_c_skipped(&r);
    assert_true(r.w.t->hook_len > 0); /* the records were read */
    world_end(&r.w);

    /* The hook held no record when its records were read, and C's
     * creation record came before the check (regress
     * violation-local-47243de7: a Task shown created by nobody while the
     * check found it awaited).  The empty table is read again with the
     * rest: C's record moved, and C is not shown without its creator. */
    rec_run(&r, REC_HOOK_FIRST);
    c = task_at(&r.w, r.w.c);
    assert_non_null(c);
    if (c->skipped == 0 && c->created_by != task_index(&r.w, r.w.a))
        fail_msg("C kept (skipped %d) with created_by %lld: its record came before the check",
                 (int)c->skipped, (long long)c->created_by);
    assert_true(r.w.t->hook_len > 0); /* the empty table was read */
    world_end(&r.w);

    rec_run(&r, REC_ALONE_AWAITED);
    rec_c_skipped(&r);
    world_end(&r.w);
}

/* Rule recover_one_awaiter, before 3.14: C steps during the check (to a
 * new Future, B's fut_waiter with it), and D awaits C throughout.  B's
 * object holds another name object when read again (another Task: it
 * stays skipped), and it now awaits a Future that is no Task, not what
 * it awaited at the first check (a new gather could hold C).  C, read again, has exactly one done
 * callback, D's wakeup: its one awaiter relation, D's, frozen since the first check, so B cannot
 * await C, and C is kept, awaited by D.  With a second callback on C
 * (REC_HELD_TWO) B's move may be a new awaiter of C, and C stays
 * skipped; without the rule it would be kept, awaited by D alone. */
static void test_recover_held(void **state)
{
    rec_world r;
    const uw_task_sample *b;

    (void)state;
    rec_run(&r, REC_HELD);
    b = task_at(&r.w, r.w.b);
    assert_non_null(b);
    assert_int_equal(b->skipped, UW_SKIP_TASK_CHANGED);
    rec_c_kept(&r, task_index(&r.w, r.d));
    world_end(&r.w);

    rec_run(&r, REC_HELD_TWO);
    rec_c_skipped(&r);
    world_end(&r.w);
}

/* --- a C loop's ready deque (uvloop) --------------------------------------- */

/* The world's loop made a uvloop one: its type named uvloop.loop.Loop,
 * its ready deque a C field (offset 96, as in uvloop 0.17) among fields
 * pointing to other objects (a set, a dict-like blob, the loop itself),
 * the deque's count at 5 and its length 0.  Reads of the count go
 * through cl_read, which moves it by `step` each time (a loop running
 * Task steps throughout the check), once `stepping` is set. */
typedef struct cloop_world {
    world w;
    const uw_reader_ops *real;
    uint64_t deque, counter;
    int stepping;
    uint64_t step, reads;
} cloop_world;

static cloop_world *cl_cur;

static int cl_read(void *ctx, uint64_t addr, void *dst, size_t len)
{
    if (cl_cur->stepping && addr == cl_cur->counter && len == 8) {
        fp_put64(&cl_cur->w.fp, cl_cur->counter, rd64(&cl_cur->w, cl_cur->counter) + cl_cur->step);
        cl_cur->reads++;
    }
    return cl_cur->real->read(ctx, addr, dst, len);
}

static const uw_reader_ops cl_ops = {cl_read, NULL, NULL, NULL};

static void cloop_build(cloop_world *r, int two_deques)
{
    const uw_asyncio_layout *al = uw__asyncio_layout_for_minor(13);
    uint64_t deque_type, other;

    memset(r, 0, sizeof *r);
    world_build(&r->w);
    fp_put64(&r->w.fp, r->w.loop + (uint64_t)r->w.fp.l->object_type,
             fp_type(&r->w.fp, "uvloop.loop.Loop", 0));
    deque_type = fp_type(&r->w.fp, "collections.deque", 0);
    r->deque = fp_alloc(&r->w.fp, 64);
    fp_put64(&r->w.fp, r->deque + (uint64_t)r->w.fp.l->object_type, deque_type);
    r->counter = r->deque + (uint64_t)al->deque_state;
    fp_put64(&r->w.fp, r->counter, 5);
    fp_put64(&r->w.fp, r->deque + (uint64_t)al->deque_len, 0);
    fp_put64(&r->w.fp, r->w.loop + 96, r->deque);
    fp_put64(&r->w.fp, r->w.loop + 104, r->w.set);
    fp_put64(&r->w.fp, r->w.loop + 112, r->w.loop);
    other = fp_alloc(&r->w.fp, 64); /* a field of no readable type */
    fp_put64(&r->w.fp, r->w.loop + 120, other);
    if (two_deques) { /* which one is the ready queue is not known */
        uint64_t d2 = fp_alloc(&r->w.fp, 64);
        fp_put64(&r->w.fp, d2 + (uint64_t)r->w.fp.l->object_type, deque_type);
        fp_put64(&r->w.fp, r->w.loop + 200, d2);
    }
    world_start(&r->w);
    assert_int_equal(sample(&r->w), 0); /* the loop found, its deque with it */
}

/* A still uvloop program: the ready deque is found and read around the
 * check, and nothing is skipped.  A loop running Task steps through every
 * check (its deque's count moving by three each read, its length 0: more
 * handles popped than were queued) has its Tasks skipped as
 * loop_stepped_while_read, read again by recovery and skipped again (rule
 * check_cloop_epoch: a chain that stepped twice between the copies can
 * read the same); without the rule they were kept on two copies alike.
 * A loop with two deques among its fields gets no count: nothing to
 * bracket with, kept as before. */
static void test_cloop_epoch(void **state)
{
    cloop_world r;
    size_t i;

    (void)state;
    cloop_build(&r, 0);
    assert_int_equal(sample(&r.w), 0);
    assert_int_equal(r.w.t->n_ep, 1);
    assert_true(r.w.t->ep[0].cloop);
    assert_int_equal(r.w.t->ep[0].counter, r.counter);
    assert_int_equal(r.w.s.n_tasks, 3);
    for (i = 0; i < r.w.s.n_tasks; i++)
        assert_int_equal(r.w.s.tasks[i].skipped, 0);
    cl_cur = &r;
    r.stepping = 1;
    r.step = 3;
    sample_through(&r.w, &cl_ops, &r.real);
    assert_true(r.reads >= 2);
    for (i = 0; i < r.w.s.n_tasks; i++)
        if (r.w.s.tasks[i].skipped != UW_SKIP_LOOP_STEPPED)
            fail_msg("Task %zu kept (skipped %d) while its C loop stepped through every check", i,
                     (int)r.w.s.tasks[i].skipped);
    /* one step at most (the count moved by one between the check's two
     * readings, one handle queued before it): no Task stepped twice, and
     * these, read alike, are kept */
    r.step = 1;
    fp_put64(&r.w.fp, r.deque + (uint64_t)uw__asyncio_layout_for_minor(13)->deque_len, 1);
    sample_through(&r.w, &cl_ops, &r.real);
    for (i = 0; i < r.w.s.n_tasks; i++)
        if (r.w.s.tasks[i].skipped != 0)
            fail_msg("Task %zu skipped (%d) after one step of its C loop", i,
                     (int)r.w.s.tasks[i].skipped);
    world_end(&r.w);

    cloop_build(&r, 1);
    assert_int_equal(sample(&r.w), 0);
    assert_int_equal(r.w.t->n_ep, 0);
    world_end(&r.w);
}

/* --- recovery of the Task the walk found running --------------------------- */

/* C runs in a callback at the walk: its coroutine's frame linked above
 * Handle._run, marked executing, no waiter; the loop has an epoch (a
 * counter the walk is told about).  When its name is first read (after
 * the walk and its placement, before the check) the loop moves on: the
 * counter moves, and in mode RUN_SUSPENDED C's step ends (its frame
 * unlinked and suspended at its next line on a new Future, its
 * fut_waiter that Future, the thread back in select()); in mode
 * RUN_STILL C keeps running.  The check finds C's place stale
 * (loop_stepped_since_walk).  In modes RUN_LATE and RUN_LATE_STILL the
 * walk finds the loop in a plain callback instead (a frame of its own
 * above Handle._run), while C reads as executing: its step began after
 * the walk, so it is on neither walk (running_task_not_on_stack); at its
 * name's read the loop moves on, and in RUN_LATE C's step ends as in
 * RUN_SUSPENDED. */
enum { RUN_SUSPENDED = 1, RUN_STILL, RUN_LATE, RUN_LATE_STILL, RUN_LATE_CB };

typedef struct run_world {
    world w;
    const uw_reader_ops *real;
    int mode, fired, round;
    uint64_t counter, name_c, fut2, orphan_code;
} run_world;

static run_world *run_cur;

static int run_read(void *ctx, uint64_t addr, void *dst, size_t len)
{
    run_world *r = run_cur;

    if (r->mode != 0 && !r->fired && addr == r->name_c) {
        world *w = &r->w;
        const uw_layout *l = w->fp.l;
        const uw_asyncio_layout *al = uw__asyncio_layout_for_minor(13);
        r->fired = 1;
        fp_put64(&w->fp, r->counter, rd64(w, r->counter) + 1);
        if (r->mode == RUN_SUSPENDED || r->mode == RUN_LATE || r->mode == RUN_LATE_CB) {
            fp_put8(&w->fp, w->coro_c + (uint64_t)l->gen_frame_state,
                    (uint8_t)(int8_t)l->state_suspended_yield_from);
            rec_frame(w, w->coro_c, r->orphan_code, 2, r->fut2); /* previous cleared */
            fp_put64(&w->fp, w->c + (uint64_t)al->task_fut_waiter, r->fut2);
            fp_put64(&w->fp, w->ts + (uint64_t)l->tstate_current_frame, w->sel_frame);
        }
    } else if (r->mode == RUN_LATE_CB && r->fired && !r->round && addr == r->w.c &&
               len == (size_t)uw__asyncio_layout_for_minor(13)->task_size) {
        /* recovery reads C again: B has moved on to await a new Future
         * since the first check */
        uint64_t fut3 = fp_alloc(&r->w.fp, 128);
        r->round = 1;
        fp_put64(&r->w.fp, fut3 + 8, FP_FUTURE_OBJ_TYPE);
        fp_put64(&r->w.fp, r->w.b + (uint64_t)uw__asyncio_layout_for_minor(13)->task_fut_waiter,
                 fut3);
    }
    return r->real->read(ctx, addr, dst, len);
}

static const uw_reader_ops run_ops = {run_read, NULL, NULL, NULL};

static void run_sample(run_world *r, int mode)
{
    const uw_layout *l;
    const uw_asyncio_layout *al = uw__asyncio_layout_for_minor(13);
    uint64_t run, f, cf;

    memset(r, 0, sizeof *r);
    world_build(&r->w);
    l = r->w.fp.l;
    r->orphan_code = rd64(&r->w, r->w.coro_c + (uint64_t)l->gen_iframe + (uint64_t)l->frame_code);
    r->name_c = fp_str(&r->w.fp, "conn");
    fp_put64(&r->w.fp, r->w.c + (uint64_t)al->task_name, r->name_c);
    fp_put64(&r->w.fp, r->w.c + (uint64_t)al->task_fut_waiter, 0);
    /* the thread in Handle._run, C's coroutine running on it; the frame
     * under it (until now select()) stands at _run_once's handle._run()
     * call, as a walk without the epoch (the first sample) must see it */
    fp_stand_at_run_call(&r->w.fp, r->w.sel_frame, "BaseEventLoop._run_once", 11);
    run = fp_code(&r->w.fp, "Handle._run", "/py/asyncio/events.py", 80, lines, 4);
    f = fp_frame(&r->w.fp, run, r->w.sel_frame, l->owner_thread, 1);
    cf = r->w.coro_c + (uint64_t)l->gen_iframe;
    fp_put8(&r->w.fp, r->w.coro_c + (uint64_t)l->gen_frame_state,
            (uint8_t)(int8_t)l->state_executing);
    fp_put64(&r->w.fp, cf + (uint64_t)l->frame_previous, f);
    fp_put64(&r->w.fp, r->w.ts + (uint64_t)l->tstate_current_frame, cf);
    r->fut2 = fp_alloc(&r->w.fp, 128);
    fp_put64(&r->w.fp, r->fut2 + 8, FP_FUTURE_OBJ_TYPE);
    r->counter = fp_alloc(&r->w.fp, 8);
    fp_put64(&r->w.fp, r->counter, 5);
    if (mode == RUN_LATE_CB) { /* C kept alive in a set: its discard */
        uint64_t set = fp_set(&r->w.fp, NULL, 0);
        fp_put64(&r->w.fp, set + (uint64_t)l->object_type, fp_type(&r->w.fp, "set", 0));
        fp_put64(&r->w.fp, r->w.c + (uint64_t)al->fut_callback0, pw_method(&r->w, set));
    }
    world_start(&r->w);
    assert_int_equal(sample(&r->w), 0); /* warm: C placed, no epoch yet */
    assert_int_equal(r->w.s.n_threads, 1);
    assert_int_equal(task_at(&r->w, r->w.c)->running, 1);
    assert_int_equal(
        uw__epoch_set(&r->w.t->epochs, r->w.s.threads[0].tstate, r->w.loop, r->counter), 0);
    assert_int_equal(sample(&r->w), 0); /* the epoch's first sample */
    assert_int_equal(task_at(&r->w, r->w.c)->running, 1);
    assert_int_equal(task_at(&r->w, r->w.c)->skipped, 0);
    if (mode == RUN_LATE || mode == RUN_LATE_STILL || mode == RUN_LATE_CB) {
        /* the thread in a plain callback when walked; C's frame, still
         * executing, linked to Handle._run but not on the thread's chain */
        uint64_t cb = fp_code(&r->w.fp, "plain_callback", "/app/cb.py", 5, lines, 4);
        fp_put64(&r->w.fp, r->w.ts + (uint64_t)l->tstate_current_frame,
                 fp_frame(&r->w.fp, cb, f, l->owner_thread, 1));
    }
    run_cur = r;
    r->mode = mode;
    sample_through(&r->w, &run_ops, &r->real);
    assert_true(r->fired);
}

/* One sample in `mode` in which C, skipped for `from`, is read again and
 * kept as the suspended Task it then was: no longer running, its frame at
 * its next line, the only Task recovered, A and B kept as they were, a
 * stack of its own on the pure Python stack (into stack, *n items). */
static const uw_task_sample *run_kept_suspended(run_world *r, int mode, int from,
                                                uw_stack_item *stack, size_t cap, size_t *n)
{
    const uw_task_sample *c;

    run_sample(r, mode);
    c = task_at(&r->w, r->w.c);
    assert_non_null(c);
    assert_int_equal(c->skipped, 0);
    assert_int_equal(c->running, 0);
    assert_int_equal(r->w.s.recovered[uw_reason_slot(from)], 1);
    assert_int_equal(rec_total(&r->w.s), 1);
    assert_int_equal(c->n_frames, 1);
    assert_string_equal(fname(&r->w, c, 0), "orphan");
    assert_int_equal(r->w.s.frames[c->first_frame].line, lines[2]);
    assert_int_equal(task_at(&r->w, r->w.a)->skipped, 0);
    assert_int_equal(task_at(&r->w, r->w.b)->skipped, 0);
    assert_int_equal(uw_compose_task(&r->w.s, (size_t)(c - r->w.s.tasks), NULL, stack, cap, n), 0);
    assert_true(*n >= 3); /* the thread, the pure Python stack, C and its frame */
    return c;
}

/* One sample in `mode` in which C, still running when read again, keeps
 * its skip `why` and shows no frames; nothing is recovered. */
static void run_kept_skip(run_world *r, int mode, int why)
{
    const uw_task_sample *c;

    run_sample(r, mode);
    c = task_at(&r->w, r->w.c);
    assert_non_null(c);
    assert_int_equal(c->skipped, why);
    assert_int_equal(c->n_frames, 0);
    assert_int_equal(rec_total(&r->w.s), 0);
    world_end(&r->w);
}

/* RUN_SUSPENDED: read again from its root, C is suspended and its round's
 * check holds, so it is kept (counted as recovered from
 * loop_stepped_since_walk), awaited by nothing.  RUN_STILL: still running
 * when read again, it keeps its skip (the skip the first case recovered
 * from). */
static void test_recover_running(void **state)
{
    run_world r;
    uw_stack_item stack[64];
    size_t n;

    (void)state;
    assert_int_equal(
        run_kept_suspended(&r, RUN_SUSPENDED, UW_SKIP_STALE_PLACE, stack, 64, &n)->awaited_by, -1);
    world_end(&r.w);
    run_kept_skip(&r, RUN_STILL, UW_SKIP_STALE_PLACE);
}

/* RUN_LATE_CB: as RUN_LATE (C's step began after the walk, so it is on
 * neither walk, running_task_not_on_stack, and has ended when C is read
 * again), with C holding one done callback, the discard of a set that
 * keeps it alive (callbacks.c: no awaiter adds it), and B moving on to
 * await a new Future between the first check and recovery's round.  C is
 * kept: its callback tells nothing awaits it, so what B came to await
 * cannot be a gather holding it.  C was skipped when placed, before the
 * callbacks are read, and so once had no verdict on its callback: with
 * B's move it was taken as possibly awaited and stayed skipped (on the
 * echo server, the Task that ran just after the walk, or whose frames
 * moved under both walks, read again: 46 of the 105 Task readings a run
 * of 6 s skipped on 3.13.0). */
static void test_recover_running_with_callback(void **state)
{
    run_world r;
    const uw_task_sample *c;

    (void)state;
    run_sample(&r, RUN_LATE_CB);
    assert_true(r.round); /* B moved after the first check */
    c = task_at(&r.w, r.w.c);
    assert_non_null(c);
    assert_int_equal(c->skipped, 0);
    assert_int_equal(c->running, 0);
    assert_int_equal(r.w.s.recovered[uw_reason_slot(UW_SKIP_NOT_ON_STACK)], 1);
    assert_int_equal(c->awaited_by, -1);
    assert_int_equal(c->n_frames, 1);
    assert_string_equal(fname(&r.w, c, 0), "orphan");
    assert_int_equal(r.w.s.frames[c->first_frame].line, lines[2]);
    world_end(&r.w);
}

/* RUN_LATE: C's step began after the walk and had ended when it was read
 * again, so recovery keeps it as the suspended Task it then was (counted
 * as recovered from running_task_not_on_stack), the plain callback's
 * frame in no Task's stack.  RUN_LATE_STILL: still running when read
 * again, it keeps its skip. */
static void test_recover_started_after_walk(void **state)
{
    run_world r;
    uw_stack_item stack[64];
    size_t n, k;

    (void)state;
    (void)run_kept_suspended(&r, RUN_LATE, UW_SKIP_NOT_ON_STACK, stack, 64, &n);
    for (k = 0; k < n; k++)
        if (stack[k].kind == UW_ITEM_FRAME)
            assert_string_not_equal(stack[k].frame->code->qualname, "plain_callback");
    world_end(&r.w);
    run_kept_skip(&r, RUN_LATE_STILL, UW_SKIP_NOT_ON_STACK);
}

/* --- a waiter that holds no Task (src/tasks/plain.c) ---------------------- */

/* The world with a loop epoch (a counter the walk is told about, as it
 * would find loop._ready's), recovery off, and C holding a done callback
 * (something may await it unseen).  When the check reads the epoch, after
 * the names were read, B steps: its outer coroutine now awaits a new
 * Future, fut_waiter too, so B is skipped (task_changed_while_read) and
 * what it awaits comes from the check alone.  PLAIN: that Future is an
 * _asyncio.Future; GATHER: a _GatheringFuture; MOVED: an _asyncio.Future,
 * but the loop starts a callback while its type is read. */
enum { PW_PLAIN = 1, PW_GATHER, PW_MOVED };

/* C's one done callback (PW_GATHER; callbacks.c): an object of no kind
 * known; run_until_complete's function; a set's discard; a wakeup (a
 * builtin method bound to B); a function of other code; a discard whose
 * object becomes B when the check begins (freed, a wakeup made there); a
 * discard with a second callback listed; the stream server's per-connection
 * closure (a function of the code connection_made holds as a constant);
 * a function of another code of the same name. */
enum {
    CB_BLOB = 0,
    CB_RUC,
    CB_DISCARD,
    CB_WAKEUP,
    CB_OTHER_FN,
    CB_SWAP,
    CB_TWO,
    CB_STREAM,
    CB_STREAM_NAMED
};

typedef struct pw_world {
    world w;
    const uw_reader_ops *real;
    int mode, cb, names_seen, stepped, typed;
    uint64_t counter, name_b, outer_code, fut2, method;
} pw_world;

static pw_world *pw_cur;

static int pw_read(void *ctx, uint64_t addr, void *dst, size_t len)
{
    pw_world *r = pw_cur;
    world *w = &r->w;
    const uw_asyncio_layout *al = uw__asyncio_layout_for_minor(13);

    if (addr == r->name_b && len == UW_NAME_WINDOW) {
        r->names_seen = 1;
    } else if (r->names_seen && !r->stepped && addr == r->counter) {
        r->stepped = 1;
        rec_frame(w, w->coro_b_outer, r->outer_code, 2, r->fut2);
        fp_put64(&w->fp, w->b + (uint64_t)al->task_fut_waiter, r->fut2);
        if (r->cb == CB_SWAP)
            fp_put64(&w->fp, r->method + (uint64_t)w->fp.l->cfunc_self, w->b);
    } else if (r->stepped && addr == r->fut2 + (uint64_t)w->fp.l->object_type && len == 8) {
        r->typed++;
        if (r->mode == PW_MOVED)
            fp_put64(&w->fp, r->counter, 9);
    }
    return r->real->read(ctx, addr, dst, len);
}

static const uw_reader_ops pw_ops = {pw_read, NULL, NULL, NULL};

/* A function object of `code`, or a builtin method bound to `self`. */
static uint64_t pw_function(world *w, uint64_t code)
{
    uint64_t fn = fp_alloc(&w->fp, 128);

    fp_put64(&w->fp, fn + (uint64_t)w->fp.l->object_type, fp_type(&w->fp, "function", 0));
    fp_put64(&w->fp, fn + (uint64_t)w->fp.l->func_code, code);
    return fn;
}

static uint64_t pw_method(world *w, uint64_t self)
{
    uint64_t m = fp_alloc(&w->fp, 64);

    fp_put64(&w->fp, m + (uint64_t)w->fp.l->object_type,
             fp_type(&w->fp, "builtin_function_or_method", 0));
    fp_put64(&w->fp, m + 16, fp_alloc(&w->fp, 32)); /* m_ml */
    fp_put64(&w->fp, m + (uint64_t)w->fp.l->cfunc_self, self);
    return m;
}

/* asyncio.streams as the registry finds it: StreamReaderProtocol, a class
 * whose connection_made's code holds, among its constants, the code of
 * the closure it gives each connection's Task; that code into *cb_code. */
static uint64_t pw_streams(world *w, uint64_t *cb_code)
{
    const uw_layout *l = w->fp.l;
    const char *cls_name = "StreamReaderProtocol", *meth = "connection_made";
    const char *file = "/usr/lib/python3.13/asyncio/streams.py";
    uint64_t mod = fp_alloc(&w->fp, 64), cls = fp_type(&w->fp, "StreamReaderProtocol", 0);
    uint64_t made = fp_code(&w->fp, "StreamReaderProtocol.connection_made", file, 230, lines, 4);
    uint64_t consts[3], fn;

    *cb_code = fp_code(&w->fp, "callback", file, 250, lines, 4);
    consts[0] = 0; /* None */
    consts[1] = fp_str(&w->fp, "callback");
    consts[2] = *cb_code;
    fp_put64(&w->fp, made + (uint64_t)l->code_consts, fp_tuple(&w->fp, consts, 3));
    fn = pw_function(w, made);
    fp_put64(&w->fp, cls + (uint64_t)l->type_dict, fp_dict(&w->fp, &meth, &fn, 1));
    fp_put64(&w->fp, mod + (uint64_t)l->module_dict, fp_dict(&w->fp, &cls_name, &cls, 1));
    return mod;
}

/* C's callback as r->cb says; sys.modules["asyncio.base_events"] holds
 * _run_until_complete_cb, and asyncio.streams its closure's code, in
 * every mode. */
static uint64_t pw_callback(pw_world *r)
{
    world *w = &r->w;
    const uw_layout *l = w->fp.l;
    const char *name = "_run_until_complete_cb";
    const char *mod_names[2] = {"asyncio.base_events", "asyncio.streams"};
    uint64_t ruc =
        pw_function(w, fp_code(&w->fp, "_run_until_complete_cb",
                               "/usr/lib/python3.13/asyncio/base_events.py", 180, lines, 4));
    uint64_t mods[2], set, stream_code;

    mods[0] = fp_alloc(&w->fp, 64);
    mods[1] = pw_streams(w, &stream_code);
    fp_put64(&w->fp, mods[0] + (uint64_t)l->module_dict, fp_dict(&w->fp, &name, &ruc, 1));
    fp_set_modules(&w->fp, w->interp, fp_dict(&w->fp, mod_names, mods, 2));
    set = fp_set(&w->fp, NULL, 0);
    fp_put64(&w->fp, set + (uint64_t)l->object_type, fp_type(&w->fp, "set", 0));
    switch (r->cb) {
    case CB_RUC:
        return ruc;
    case CB_DISCARD:
    case CB_SWAP:
    case CB_TWO:
        return r->method = pw_method(w, set);
    case CB_WAKEUP:
        return pw_method(w, w->b);
    case CB_OTHER_FN:
        return pw_function(w, fp_code(&w->fp, "gather.<locals>._done_callback",
                                      "/usr/lib/python3.13/asyncio/tasks.py", 760, lines, 4));
    case CB_STREAM:
        return pw_function(w, stream_code);
    case CB_STREAM_NAMED:
        return pw_function(w, fp_code(&w->fp, "callback", "/usr/lib/python3.13/asyncio/streams.py",
                                      250, lines, 4));
    default:
        return fp_alloc(&w->fp, 64);
    }
}

static void pw_run_cb(pw_world *r, int mode, int cb)
{
    const uw_asyncio_layout *al = uw__asyncio_layout_for_minor(13);
    const uw_layout *l;
    uint64_t future_type;

    memset(r, 0, sizeof *r);
    world_build(&r->w);
    l = r->w.fp.l;
    r->name_b = rd64(&r->w, r->w.b + (uint64_t)al->task_name);
    r->outer_code =
        rd64(&r->w, r->w.coro_b_outer + (uint64_t)l->gen_iframe + (uint64_t)l->frame_code);
    r->counter = fp_alloc(&r->w.fp, 8);
    fp_put64(&r->w.fp, r->counter, 5);
    future_type = fp_type(&r->w.fp, "_asyncio.Future", 0);
    r->fut2 = fp_alloc(&r->w.fp, 128);
    fp_put64(&r->w.fp, r->fut2 + (uint64_t)l->object_type,
             mode == PW_GATHER ? fp_type(&r->w.fp, "_GatheringFuture", future_type) : future_type);
    r->cb = cb;
    fp_put64(&r->w.fp, r->w.c + (uint64_t)al->fut_callback0, pw_callback(r));
    if (cb == CB_TWO)
        fp_put64(&r->w.fp, r->w.c + (uint64_t)al->fut_callbacks, fp_list(&r->w.fp, NULL, 0));
    world_start_epoch(&r->w, r->counter);
    assert_int_equal(r->w.s.n_threads, 1);
    pw_cur = r;
    r->mode = mode;
    sample_through(&r->w, &pw_ops, &r->real);
    assert_true(r->stepped);
}

static void pw_run(pw_world *r, int mode)
{
    pw_run_cb(r, mode, CB_BLOB);
}

/* B's new waiter is a plain Future, its type read while the loop stood:
 * B awaits no Task at the check, so C, which nothing shown awaits, is
 * shown (a root), not skipped as awaiter_unknown.  A gather there could
 * hold C, and a callback started while the type was read leaves the
 * object at that address unknown (rule plain_waiter_epoch): C is skipped
 * in both. */
static void test_plain_waiter(void **state)
{
    pw_world r;
    const uw_task_sample *b, *c;
    int mode;

    (void)state;
    pw_run(&r, PW_PLAIN);
    assert_int_equal(r.typed, 1);
    b = task_at(&r.w, r.w.b);
    c = task_at(&r.w, r.w.c);
    assert_non_null(b);
    assert_non_null(c);
    assert_int_equal(b->skipped, UW_SKIP_TASK_CHANGED);
    assert_int_equal(c->skipped, 0);
    assert_int_equal(c->awaited_by, -1);
    assert_int_equal(c->n_frames, 1);
    assert_string_equal(fname(&r.w, c, 0), "orphan");
    world_end(&r.w);

    for (mode = PW_GATHER; mode <= PW_MOVED; mode++) {
        pw_run(&r, mode);
        assert_int_equal(r.typed, 1);
        c = task_at(&r.w, r.w.c);
        assert_non_null(c);
        assert_int_equal(c->skipped, UW_SKIP_AWAITER_UNKNOWN);
        world_end(&r.w);
    }
}

/* B now awaits a gather, and C has one done callback (callbacks.c).  One
 * that no awaiter adds, run_until_complete's function, a set's discard or
 * the stream server's closure, tells nothing awaits C: it is shown, a
 * root.  Any other object, an awaiter's wakeup, a gather's callback, a
 * function of another code (even one named callback), a second callback
 * listed, or a
 * discard whose method object was freed and made again as B's wakeup
 * between its read and the check (rule callback_checked) leaves C's
 * awaiter unknown: skipped. */
static void test_harmless_callback(void **state)
{
    static const struct {
        int cb, kept;
        const char *what;
    } cases[] = {
        {CB_BLOB, 0, "an object of no kind known"},
        {CB_RUC, 1, "run_until_complete's callback"},
        {CB_DISCARD, 1, "a set's discard"},
        {CB_WAKEUP, 0, "B's wakeup"},
        {CB_OTHER_FN, 0, "a gather's callback"},
        {CB_SWAP, 0, "a discard made B's wakeup before the check"},
        {CB_TWO, 0, "a discard and a second callback"},
        {CB_STREAM, 1, "the stream server's closure"},
        {CB_STREAM_NAMED, 0, "a function of another code named callback"},
    };
    pw_world r;
    const uw_task_sample *c;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pw_run_cb(&r, PW_GATHER, cases[i].cb);
        c = task_at(&r.w, r.w.c);
        assert_non_null(c);
        if (cases[i].kept != (c->skipped == 0))
            fail_msg("C with %s: skipped %d, want %s", cases[i].what, c->skipped,
                     cases[i].kept ? "shown" : "awaiter_unknown");
        if (cases[i].kept) {
            assert_int_equal(c->awaited_by, -1);
            assert_int_equal(c->n_frames, 1);
            assert_string_equal(fname(&r.w, c, 0), "orphan");
        } else {
            assert_int_equal(c->skipped, UW_SKIP_AWAITER_UNKNOWN);
        }
        world_end(&r.w);
    }
}

/* --- the loop's stack between the copies (check.c, uw_pure_mid_judge) ----- */

/* The world with a loop epoch and a <module> frame under select()
 * (select() stands for _run_once), warmed by two samples in a callback
 * (Handle._run above select()), which give the thread its skeleton:
 * select() and <module>, Handle._run's slot, select()'s call as a split
 * site.  Then one sample whose walk meets the loop idle in select(), and
 * whose reader, once the Task walk reads B's name, pops a handle (the
 * epoch moves: the idle stack no longer stands at the check) and moves
 * the loop as the mode says. */
enum {
    PM_CALLBACK = 1,
    PM_IDLE,
    PM_OTHER_CALL,
    PM_SLOT_STALE,
    PM_ROOT_MOVED,
    PM_SLOT_NO_CODE,
    PM_IDLE_RAN,    /* idle, and select() moves on between the group's copies */
    PM_ROOT_RAN,    /* idle, and <module> moves on between them, in every window */
    PM_EPOCH_FIRST, /* idle, and a handle popped (and done) in the first window */
    PM_EPOCH_ROOT,  /* PM_EPOCH_FIRST, and <module> moves on in every later window */
    /* B steps too (test_recover_idle_stands); the loop, idle again, then
     * through recovery's round: */
    PM_STEP_STANDS,   /* stays idle in select() */
    PM_STEP_CALLBACK, /* pops a handle and runs its callback */
    PM_STEP_RAN,      /* runs select() on to its next line */
};

typedef struct pm_world {
    world w;
    const uw_reader_ops *real;
    int mode, moved, slot_reads, round;
    int root_line; /* <module>'s line: 2, then 3 and 2 in turn as it moves on */
    uint64_t counter, name_b, run, sel_code, run_code, root, root_code;
    uint64_t outer_code, fut; /* PM_STEP_*: B's outer coroutine's code, its Future */
} pm_world;

static pm_world *pm_cur;

static void pm_move(pm_world *r)
{
    world *w = &r->w;
    const uw_layout *l = w->fp.l;
    const uint64_t cur = w->ts + (uint64_t)l->tstate_current_frame;

    fp_put64(&w->fp, r->counter, rd64(w, r->counter) + 1);
    if (r->mode == PM_CALLBACK) { /* in the callback it popped */
        fp_put64(&w->fp, cur, r->run);
    } else if (r->mode == PM_OTHER_CALL) {
        /* select() at another call, whose callee was built elsewhere;
         * the slot still holds the Handle._run frame that returned */
        fp_frame_at(&w->fp, w->sel_frame, r->sel_code, r->root, l->owner_thread, 2);
        fp_put64(&w->fp, cur, fp_frame(&w->fp, r->run_code, w->sel_frame, l->owner_thread, 1));
    } else if (r->mode == PM_SLOT_STALE) {
        /* in a callback whose Handle._run was built elsewhere; the slot
         * holds a select() frame that returned */
        fp_frame_at(&w->fp, r->run, r->sel_code, w->sel_frame, l->owner_thread, 2);
        fp_put64(&w->fp, cur, fp_frame(&w->fp, r->run_code, w->sel_frame, l->owner_thread, 3));
    } else if (r->mode == PM_ROOT_MOVED) {
        /* in the callback, select() now called from a <module> frame
         * elsewhere, at another line; the old one left in memory */
        fp_frame_at(&w->fp, w->sel_frame, r->sel_code,
                    fp_frame(&w->fp, r->root_code, 0, l->owner_thread, 3), l->owner_thread, 1);
        fp_put64(&w->fp, cur, r->run);
    } else if (r->mode == PM_SLOT_NO_CODE) {
        /* in the callback, whose frame in the slot names no code object
         * (one being built, or garbage): nothing there to resolve */
        fp_put64(&w->fp, r->run + (uint64_t)l->frame_code, fp_alloc(&w->fp, 64));
        fp_put64(&w->fp, cur, r->run);
    } else if (r->mode >= PM_STEP_STANDS) {
        /* the callback was B's step: its outer coroutine now awaits the
         * Future itself, at its next line; select() again */
        rec_frame(w, w->coro_b_outer, r->outer_code, 2, r->fut);
    } /* PM_IDLE: the callback ran and returned, select() again */
}

/* PM_STEP_*: recovery reads B's object again: the loop does as the mode
 * says before the round's check is read. */
static void pm_round(pm_world *r)
{
    world *w = &r->w;
    const uw_layout *l = w->fp.l;

    if (r->mode == PM_STEP_CALLBACK) {
        fp_put64(&w->fp, r->counter, rd64(w, r->counter) + 1);
        fp_put64(&w->fp, w->ts + (uint64_t)l->tstate_current_frame, r->run);
    } else if (r->mode == PM_STEP_RAN) { /* no handle popped: the epoch stands */
        fp_frame_at(&w->fp, w->sel_frame, r->sel_code, r->root, l->owner_thread, 2);
    }
}

static int pm_read(void *ctx, uint64_t addr, void *dst, size_t len)
{
    pm_world *r = pm_cur;

    if (!r->moved && addr == r->name_b && len != UW_NAME_WINDOW) {
        r->moved = 1;
        pm_move(r);
    } else if (r->moved && !r->round && r->mode >= PM_STEP_STANDS && addr == r->w.b &&
               len == (size_t)uw__asyncio_layout_for_minor(13)->task_size) {
        r->round = 1;
        pm_round(r);
    }
    /* The slot is read only by the middle group, once per copy of each
     * window: its second read falls between the first window's copies of
     * select() and <module>, its fourth between the second window's */
    if (r->moved && addr == r->run && len == (size_t)r->w.fp.l->frame_size) {
        const uw_layout *l = r->w.fp.l;
        ++r->slot_reads;
        if (r->mode == PM_IDLE_RAN && r->slot_reads == 2) /* select() ran on to its next line */
            fp_frame_at(&r->w.fp, r->w.sel_frame, r->sel_code, r->root, l->owner_thread, 2);
        else if ((r->mode == PM_ROOT_RAN || (r->mode == PM_EPOCH_ROOT && r->slot_reads > 2)) &&
                 r->slot_reads % 2 == 0)
            /* <module> ran on: returned, entered again (at one line, then
             * at the other, so no window's copies agree) */
            fp_frame_at(&r->w.fp, r->root, r->root_code, 0, l->owner_thread,
                        r->root_line = 5 - r->root_line);
        else if ((r->mode == PM_EPOCH_FIRST || r->mode == PM_EPOCH_ROOT) && r->slot_reads == 2)
            /* a handle popped and its callback done: select() again */
            fp_put64(&r->w.fp, r->counter, rd64(&r->w, r->counter) + 1);
    }
    return r->real->read(ctx, addr, dst, len);
}

static const uw_reader_ops pm_ops = {pm_read, NULL, NULL, NULL};

static void pm_run(pm_world *r, int mode)
{
    const uw_asyncio_layout *al = uw__asyncio_layout_for_minor(13);
    const uw_layout *l;
    uint64_t deque;

    memset(r, 0, sizeof *r);
    world_build(&r->w);
    l = r->w.fp.l;
    r->sel_code = rd64(&r->w, r->w.sel_frame + (uint64_t)l->frame_code);
    r->root_code = fp_code(&r->w.fp, "<module>", "/app/main.py", 10, lines, 4);
    r->root_line = 2;
    r->root = fp_frame(&r->w.fp, r->root_code, 0, l->owner_thread, r->root_line);
    fp_frame_at(&r->w.fp, r->w.sel_frame, r->sel_code, r->root, l->owner_thread, 1);
    world_in_callback(&r->w);
    r->run = rd64(&r->w, r->w.ts + (uint64_t)l->tstate_current_frame);
    r->run_code = rd64(&r->w, r->run + (uint64_t)l->frame_code);
    r->name_b = rd64(&r->w, r->w.b + (uint64_t)al->task_name);
    r->outer_code =
        rd64(&r->w, r->w.coro_b_outer + (uint64_t)l->gen_iframe + (uint64_t)l->frame_code);
    r->fut = rd64(&r->w, r->w.b + (uint64_t)al->task_fut_waiter);
    deque = fp_alloc(&r->w.fp, 64);
    r->counter = deque + (uint64_t)al->deque_state;
    fp_put64(&r->w.fp, r->counter, 100);
    fp_put64(&r->w.fp, deque + (uint64_t)al->deque_len, 1);
    world_start_epoch(&r->w, r->counter);
    assert_int_equal(sample(&r->w), 0); /* bracketed: the split site, the skeleton */
    assert_int_equal(r->w.s.threads[0].split, 0);
    fp_put64(&r->w.fp, r->w.ts + (uint64_t)l->tstate_current_frame, r->w.sel_frame);
    if (mode >= PM_STEP_STANDS) { /* recovery on (world_start_epoch turned it off) */
        uw_task_options o;
        uw_task_options_default(&o);
        uw_tasks_set_options(r->w.t, &o);
    }
    pm_cur = r;
    r->mode = mode;
    sample_through(&r->w, &pm_ops, &r->real);
    assert_true(r->moved);
}

/* Compose Task addr's stack: 0 and its root frame's name, or the error. */
static int pm_compose(pm_world *r, uint64_t addr, const char **root)
{
    const uw_task_sample *t = task_at(&r->w, addr);
    const uw_compose_options bare = {0, 0};
    uw_stack_item stack[64];
    size_t n = 0;
    int rc;

    assert_non_null(t);
    assert_int_equal(t->skipped, 0);
    rc = uw_compose_task(&r->w.s, (size_t)(t - r->w.s.tasks), &bare, stack, 64, &n);
    *root = rc == 0 && n > 0 ? uw_frame_name(stack[0].frame) : NULL;
    return rc;
}

/* In mode `mode` the middle group gives no stack: B, kept by the check,
 * has no pure stack to stand on; `why` is what a stack given would be. */
static void pm_refused(int mode, const char *why)
{
    pm_world r;
    const char *root;

    pm_run(&r, mode);
    if (r.w.s.threads[0].split == 0)
        fail_msg("%s", why);
    assert_int_equal(pm_compose(&r, r.w.b, &root), UW_SKIP_NO_PURE_STACK);
    world_end(&r.w);
}

static void test_pure_between_copies(void **state)
{
    pm_world r;
    const uw_thread_sample *th;
    const char *root;
    int32_t idle_line;

    (void)state;
    /* in a callback at the check: the Tasks on [<module>, select,
     * Handle._run], the thread shown dropped above Handle._run (before,
     * with no stack that stood, every Task was pure_stack_not_found) */
    pm_run(&r, PM_CALLBACK);
    th = &r.w.s.threads[0];
    assert_int_equal(th->truncated, 0);
    assert_int_equal(th->split, 0);
    assert_true(th->top_dropped);
    assert_int_equal(th->n_frames, 3);
    assert_string_equal(uw_frame_name(&r.w.s.frames[th->first_frame]), "Handle._run");
    assert_string_equal(uw_frame_name(&r.w.s.frames[th->first_frame + 1]), "EpollSelector.select");
    assert_int_equal(pm_compose(&r, r.w.b, &root), 0);
    assert_string_equal(root, "<module>");
    world_end(&r.w);

    /* idle again at the check: the Tasks on [<module>, select] */
    pm_run(&r, PM_IDLE);
    th = &r.w.s.threads[0];
    assert_int_equal(th->split, -1);
    assert_int_equal(th->n_frames, 2);
    assert_int_equal(th->pure_start, 0);
    assert_int_equal(pm_compose(&r, r.w.a, &root), 0);
    assert_string_equal(root, "<module>");
    idle_line = r.w.s.frames[th->first_frame].line;
    assert_int_equal(r.slot_reads, 2 * UW_PURE_WINDOWS); /* once per copy of each window */
    world_end(&r.w);

    /* ... and select(), the current frame, ran on between the copies (it
     * ran bytecode and made calls that returned; no handle was popped):
     * the same stack, select() at the first copy's line (before, the
     * Tasks had none) */
    pm_run(&r, PM_IDLE_RAN);
    th = &r.w.s.threads[0];
    assert_int_equal(th->split, -1);
    assert_int_equal(th->n_frames, 2);
    assert_string_equal(uw_frame_name(&r.w.s.frames[th->first_frame]), "EpollSelector.select");
    assert_int_equal(r.w.s.frames[th->first_frame].line, idle_line);
    assert_int_equal(pm_compose(&r, r.w.a, &root), 0);
    assert_string_equal(root, "<module>");
    world_end(&r.w);

    /* the loop popped a handle in the first window (its epoch moved
     * between the window's readings): the next window, whose epoch held,
     * gives the idle stack (before, with one window, the Tasks had none,
     * and `record` refused up to a tenth of the busy program's stacks as
     * pure_stack_not_found on 3.15) */
    pm_run(&r, PM_EPOCH_FIRST);
    th = &r.w.s.threads[0];
    assert_int_equal(r.slot_reads, 2 * UW_PURE_WINDOWS);
    assert_int_equal(th->split, -1);
    assert_int_equal(th->n_frames, 2);
    assert_string_equal(uw_frame_name(&r.w.s.frames[th->first_frame]), "EpollSelector.select");
    assert_int_equal(pm_compose(&r, r.w.a, &root), 0);
    assert_string_equal(root, "<module>");
    world_end(&r.w);

    /* Rule pure_check_epoch: the first window's copies agree, but a handle
     * was popped between them; every later window sees <module> move on
     * between its copies (without the rule the Tasks stand on the first
     * window's frames, read in two idle periods: with one window the
     * property tests found such a stack that never was, reproducer
     * corpus/race/regress/violation-local-3.11-pure-mid-epoch-moved) */
    pm_refused(PM_EPOCH_ROOT, "Tasks rooted on frames read across a popped handle");
    /* Rule pure_check_site: select() at another call, the slot holding a
     * Handle._run that returned (without the rule the Tasks stand on that
     * returned frame) */
    pm_refused(PM_OTHER_CALL, "Tasks rooted on a Handle._run frame that had returned");
    /* Rule pure_check_slot: the callee built elsewhere, a select() frame
     * that returned in the slot (without the rule the Tasks stand on that
     * select() as if it were Handle._run) */
    pm_refused(PM_SLOT_STALE, "Tasks rooted on a returned select() frame taken for Handle._run");
    /* Rule pure_check_links: select() called from another <module> frame:
     * the skeleton does not stand (without the rule the Tasks stand on the
     * old <module> frame, at a line it left) */
    pm_refused(PM_ROOT_MOVED, "Tasks rooted on a <module> frame the stack had left");
    /* Rule pure_check_still_below: idle, <module> at another line in the
     * second copy (without the rule the Tasks stand on a <module> frame
     * whose line may not have stood with that select()) */
    pm_refused(PM_ROOT_RAN, "Tasks rooted on a <module> frame that moved between the copies");
    /* A slot frame that resolves to no code in the first copy is not
     * taken, and is no failure of the sample: the second copy's status,
     * left unread, once started at -1, which is UW_ERR_NOMEM, and the
     * sample failed "out of memory" (live_race, 1 run in 60) */
    pm_refused(PM_SLOT_NO_CODE, "Tasks rooted on a slot frame with no code object");
}

/* Recovery on an idle loop's stack (rule recover_idle_stands).  The walk
 * meets the loop idle in select(); B steps in a callback before the check
 * (skipped as task_changed_while_read), and the check's middle group
 * finds the loop idle again in select(): the thread shows [select(),
 * <module>].  Recovery reads B again.  Where the round's check reads the
 * loop standing in that very stack between its copies, B is kept there,
 * at its new line, and stands on <module>.  Where the loop has started a
 * callback by then, or select() ran on to another line, the stack shown
 * is not the loop's at the round's instant: B stays skipped.  Without the
 * rule B is kept in both, on a stack that did not exist with it (in the
 * callback its stack was rooted at Handle._run).  Before the rule (the
 * build of d3a8db3), B was never read again: an idle loop's Tasks stayed
 * skipped, most of the echo server's skips on 3.14 in some runs. */
static void test_recover_idle_stands(void **state)
{
    static const struct {
        int mode;
        const char *why;
    } refused[] = {
        {PM_STEP_CALLBACK, "B kept on the idle stack while its loop ran a callback"},
        {PM_STEP_RAN, "B kept on select() at a line the loop had left"},
    };
    pm_world r;
    const uw_task_sample *b;
    const uw_thread_sample *th;
    const char *root;
    size_t i;

    (void)state;
    pm_run(&r, PM_STEP_STANDS);
    th = &r.w.s.threads[0];
    assert_true(r.round); /* recovery read B's object again */
    assert_int_equal(th->split, -1);
    assert_int_equal(th->n_frames, 2);
    b = task_at(&r.w, r.w.b);
    assert_non_null(b);
    assert_int_equal(b->skipped, 0);
    assert_int_equal(r.w.s.recovered[uw_reason_slot(UW_SKIP_TASK_CHANGED)], 1);
    assert_int_equal(b->n_frames, 1);
    assert_string_equal(fname(&r.w, b, 0), "outer");
    assert_int_equal(r.w.s.frames[b->first_frame].line, lines[2]);
    assert_int_equal(pm_compose(&r, r.w.b, &root), 0);
    assert_string_equal(root, "<module>");
    world_end(&r.w);

    for (i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        pm_run(&r, refused[i].mode);
        assert_true(r.round);
        assert_int_equal(r.w.s.threads[0].split, -1);
        b = task_at(&r.w, r.w.b);
        assert_non_null(b);
        if (b->skipped == 0)
            fail_msg("%s", refused[i].why);
        assert_int_equal(b->skipped, UW_SKIP_TASK_CHANGED);
        assert_int_equal(r.w.s.recovered[uw_reason_slot(UW_SKIP_TASK_CHANGED)], 0);
        world_end(&r.w);
    }
}

/* --- more than one callback during the check (check.c, uw_one_step) ------- */

/* The world with a loop epoch whose ready deque has a length too, and a
 * reader that moves the loop while the check is read.  MIX: B steps each
 * time a read reaches one of its coroutines, back and forth between two
 * states: S1 (outer at line 12 awaiting inner, inner at 13) when outer is
 * read, S2 (outer at 11, a new inner at the same address at 10) when
 * inner is read; each step pops B's handle and queues the next (a bare
 * yield), and B's is the only handle queued.  So every read of outer
 * sees S1 and every read of inner S2, in the chain read and in both
 * copies alike: outer at 12 over inner at 10, a stack B never had.  The
 * count moved by far more than the queue held, so the check must not
 * vouch for B.  POPS: nothing of a Task moves, but each read of inner
 * pops one of many queued handles (callbacks of no Task): every handle
 * the check saw run was queued before it, and the Tasks are kept. */
enum { OS_MIX = 1, OS_POPS };

typedef struct os_world {
    world w;
    const uw_reader_ops *real;
    int mode, state, steps;
    uint64_t deque, counter, outer_code, inner_code, fut;
} os_world;

static os_world *os_cur;

static void os_state(os_world *r, int state)
{
    world *w = &r->w;

    rec_frame(w, w->coro_b_outer, r->outer_code, state == 1 ? 2 : 1, w->coro_b_inner);
    rec_frame(w, w->coro_b_inner, r->inner_code, state == 1 ? 3 : 0, r->fut);
    r->state = state;
}

static int os_covers(uint64_t addr, size_t len, uint64_t at)
{
    return addr <= at && at + 8 <= addr + len;
}

static int os_read(void *ctx, uint64_t addr, void *dst, size_t len)
{
    os_world *r = os_cur;
    world *w = &r->w;
    const uw_layout *l = w->fp.l;
    const uint64_t outer = w->coro_b_outer + (uint64_t)l->gen_iframe + (uint64_t)l->frame_instr;
    const uint64_t inner = w->coro_b_inner + (uint64_t)l->gen_iframe + (uint64_t)l->frame_instr;
    const int at_outer = os_covers(addr, len, outer), at_inner = os_covers(addr, len, inner);

    if (r->mode == OS_MIX && at_outer != at_inner && r->state != (at_outer ? 1 : 2)) {
        os_state(r, at_outer ? 1 : 2);
        fp_put64(&w->fp, r->counter, rd64(w, r->counter) + 2); /* popped, queued again */
        r->steps++;
    } else if (r->mode == OS_POPS && at_inner) {
        fp_put64(&w->fp, r->deque + 16, rd64(w, r->deque + 16) - 1);
        fp_put64(&w->fp, r->counter, rd64(w, r->counter) + 1);
        r->steps++;
    }
    return r->real->read(ctx, addr, dst, len);
}

static const uw_reader_ops os_ops = {os_read, NULL, NULL, NULL};

static void os_run(os_world *r, int mode, int group_calls)
{
    const uw_asyncio_layout *al = uw__asyncio_layout_for_minor(13);
    const uw_layout *l;

    memset(r, 0, sizeof *r);
    world_build(&r->w);
    l = r->w.fp.l;
    r->outer_code =
        rd64(&r->w, r->w.coro_b_outer + (uint64_t)l->gen_iframe + (uint64_t)l->frame_code);
    r->inner_code =
        rd64(&r->w, r->w.coro_b_inner + (uint64_t)l->gen_iframe + (uint64_t)l->frame_code);
    r->fut = rd64(&r->w, r->w.b + (uint64_t)al->task_fut_waiter);
    os_state(r, 1);
    r->deque = fp_alloc(&r->w.fp, 64);
    r->counter = r->deque + (uint64_t)al->deque_state;
    fp_put64(&r->w.fp, r->counter, 100);
    fp_put64(&r->w.fp, r->deque + (uint64_t)al->deque_len, mode == OS_MIX ? 1 : 50);
    world_start_epoch(&r->w, r->counter);
    assert_int_equal(sample(&r->w), 0); /* the epoch's first sample */
    os_cur = r;
    r->mode = mode;
    r->w.fp.reader.group_calls = group_calls;
    sample_through(&r->w, &os_ops, &r->real);
}

static void test_one_step(void **state)
{
    os_world r;
    const uw_task_sample *a, *b;

    (void)state;
    /* MIX: B read as outer at 12 over inner at 10 in the chains and both
     * copies; rule check_one_step_bound keeps it skipped (without it, B is
     * shown with that stack) */
    os_run(&r, OS_MIX, 0);
    assert_true(r.steps >= 3);
    b = task_at(&r.w, r.w.b);
    assert_non_null(b);
    if (b->skipped == 0 && b->n_frames == 2)
        fail_msg("B shown as inner line %d under outer line %d: a stack it never had",
                 r.w.s.frames[b->first_frame].line, r.w.s.frames[b->first_frame + 1].line);
    assert_int_equal(b->skipped, UW_SKIP_LOOP_STEPPED);
    world_end(&r.w);

    /* POPS: the loop ran two callbacks during the check, both queued
     * before it: every Task is kept, B with the stack it has */
    os_run(&r, OS_POPS, 0);
    assert_true(r.steps >= 2);
    a = task_at(&r.w, r.w.a);
    b = task_at(&r.w, r.w.b);
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(a->skipped, 0);
    assert_int_equal(b->skipped, 0);
    assert_int_equal(b->n_frames, 2);
    assert_string_equal(fname(&r.w, b, 0), "inner");
    assert_int_equal(r.w.s.frames[b->first_frame].line, lines[3]);
    assert_string_equal(fname(&r.w, b, 1), "outer");
    assert_int_equal(r.w.s.frames[b->first_frame + 1].line, lines[2]);
    assert_int_equal(b->awaited_by, (int64_t)(a - r.w.s.tasks));
    world_end(&r.w);

    /* the same where the groups are calls of their own (a machine that may
     * show stores out of order): the length vouches for nothing, the
     * epoch moved, the Tasks off the stack are skipped */
    os_run(&r, OS_POPS, 1);
    b = task_at(&r.w, r.w.b);
    assert_non_null(b);
    assert_int_equal(b->skipped, UW_SKIP_LOOP_STEPPED);
    world_end(&r.w);
}

/* Reads of one warm sample of the world, to know how many k to try. */
static size_t warm_sample_reads(void)
{
    world w;
    uint64_t r0;
    size_t n;

    world_build(&w);
    world_start(&w);
    if (sample(&w) != 0)
        abort();
    r0 = w.fp.reads;
    if (sample(&w) != 0)
        abort();
    n = (size_t)(w.fp.reads - r0);
    world_end(&w);
    return n;
}

/* The loop-epoch table: set, found, forgotten; when full, a newcomer is
 * refused and every entry kept (uw__epochs_update frees a stale one
 * first). */
static void test_epoch_table(void **state)
{
    uw__epochs e;
    uint64_t ts, loop = 0, counter = 0;

    (void)state;
    memset(&e, 0, sizeof e);
    assert_int_equal(uw__epoch_set(&e, 0, 1, 2), UW_ERR_INVALID_ARG);
    assert_int_equal(uw__epoch_set(&e, 0x1000, 0x2000, 0x3000), 0);
    assert_int_equal(uw__epoch_get(&e, 0x1000, &loop, &counter), 0);
    assert_int_equal(loop, 0x2000);
    assert_int_equal(counter, 0x3000);
    assert_int_equal(uw__epoch_set(&e, 0x1000, 0, 0), 0); /* forget */
    assert_int_equal(uw__epoch_get(&e, 0x1000, &loop, &counter), UW_ERR_NOT_FOUND);
    for (ts = 1; ts <= UW_EPOCH_THREADS; ts++)
        assert_int_equal(uw__epoch_set(&e, ts << 12, ts << 20, ts << 24), 0);
    assert_int_equal(uw__epoch_set(&e, (ts + 1) << 12, ts << 20, ts << 24), UW_ERR_CAPACITY);
    assert_int_equal(uw__epoch_loop(&e, (ts + 1) << 12), 0);
    for (ts = 1; ts <= UW_EPOCH_THREADS; ts++)
        assert_int_equal(uw__epoch_loop(&e, ts << 12), ts << 20); /* all kept */
    /* a thread's own entry is still its to change, and to free */
    assert_int_equal(uw__epoch_set(&e, 1ull << 12, 7ull << 40, 8ull << 40), 0);
    assert_int_equal(uw__epoch_loop(&e, 1ull << 12), 7ull << 40);
    assert_int_equal(uw__epoch_set(&e, 1ull << 12, 0, 0), 0);
    assert_int_equal(uw__epoch_set(&e, 0x1000ull << 20, 1, 2), 0);
    assert_int_equal(uw__epoch_loop(&e, 0x1000ull << 20), 1);
}

/* Make the world's loop an object whose `_ready` is a deque, as the
 * Task walk reads it to register the loop's epoch (epoch.c); returns the
 * counter's address. */
static uint64_t give_ready_deque(world *w, uint64_t loop)
{
    const uw_layout *l = w->fp.l;
    const char *key[1] = {"_ready"};
    uint64_t deque = fp_alloc(&w->fp, 64), loop_type = fp_type(&w->fp, "_UnixSelectorEventLoop", 0);

    fp_put64(&w->fp, deque + (uint64_t)l->object_type, fp_type(&w->fp, "collections.deque", 0));
    fp_put64(&w->fp, loop_type + (uint64_t)l->type_dictoffset, 32);
    fp_put64(&w->fp, loop + (uint64_t)l->object_type, loop_type);
    fp_put64(&w->fp, loop + 32, fp_dict(&w->fp, key, &deque, 1));
    return deque + (uint64_t)uw__asyncio_layout_for_minor(13)->deque_state;
}

/* One loop thread more than UW_EPOCH_THREADS, each with a loop of its own
 * (the world's thread and its loop among them).  The first sample gives
 * UW_EPOCH_THREADS of them an entry (walking them again with it); the
 * next samples keep exactly those entries, and walk each of those threads
 * with its epoch and the one left over without, until a thread that has
 * one exits.  Entries once replaced
 * in turn: every sample then gave the one left over the entry of a
 * thread that had just been walked with it, and walked every thread
 * again (the small-limits regress reproducer
 * pbt-small-limits-3.15-relaxed-read-bound, past MM_READ_BOUND). */
static void test_epoch_table_full(void **state)
{
    world w;
    const uw_layout *l;
    uint64_t sel, next = 0, held[UW_EPOCH_THREADS], counter[UW_EPOCH_THREADS + 1];
    uint64_t tstate[UW_EPOCH_THREADS + 1], loop[UW_EPOCH_THREADS + 1];
    size_t i, k, round;

    (void)state;
    world_build(&w);
    l = w.fp.l;
    sel = fp_code(&w.fp, "EpollSelector.select", "/lib/selectors.py", 10, lines, 4);
    tstate[0] = w.ts;
    loop[0] = w.loop;
    counter[0] = give_ready_deque(&w, w.loop);
    for (i = 1; i <= UW_EPOCH_THREADS; i++) {
        tstate[i] =
            fp_thread(&w.fp, w.interp, 100 + i, fp_frame(&w.fp, sel, 0, l->owner_thread, 1));
        loop[i] = fp_alloc(&w.fp, 64);
        counter[i] = give_ready_deque(&w, loop[i]);
        fp_put64(&w.fp, tstate[i] + (uint64_t)l->tstate_asyncio_running_loop, loop[i]);
    }
    world_start(&w);
    for (round = 0; round < 3; round++) {
        size_t without = 0;
        assert_int_equal(sample(&w), 0);
        assert_int_equal(w.s.n_threads, UW_EPOCH_THREADS + 1);
        for (k = 0; k < UW_EPOCH_THREADS; k++) {
            assert_int_not_equal(w.t->epochs.e[k].tstate, 0);
            if (round == 0)
                held[k] = w.t->epochs.e[k].tstate;
            else
                assert_int_equal(w.t->epochs.e[k].tstate, held[k]); /* kept */
        }
        for (i = 0; i < w.s.n_threads; i++) {
            const uw_thread_sample *th = &w.s.threads[i];
            uint64_t lp = 0, c = 0;
            for (k = 0; k <= UW_EPOCH_THREADS && tstate[k] != th->tstate; k++)
                ;
            assert_true(k <= UW_EPOCH_THREADS);
            assert_int_equal(th->running_loop, loop[k]);
            if (uw__epoch_get(&w.t->epochs, th->tstate, &lp, &c) != 0) {
                without++;
                assert_int_equal(th->epoch_loop, 0); /* walked without */
                continue;
            }
            assert_int_equal(lp, loop[k]);
            assert_int_equal(c, counter[k]);
            assert_int_equal(th->epoch_loop, loop[k]); /* walked with it */
        }
        assert_int_equal(without, 1);
    }
    /* One registered thread exits (unlinked from the interpreter's list;
     * each fp_thread put itself first): its entry, held for a thread the
     * sample no longer has, is the one the thread left over gets. */
    for (k = 0; k <= UW_EPOCH_THREADS && tstate[k] != held[0]; k++)
        ;
    assert_true(k <= UW_EPOCH_THREADS);
    memcpy(&next, fp_ptr(&w.fp, tstate[k] + (uint64_t)l->tstate_next, 8), 8);
    fp_put64(&w.fp,
             k == UW_EPOCH_THREADS ? w.interp + (uint64_t)l->interp_threads_head
                                   : tstate[k + 1] + (uint64_t)l->tstate_next,
             next);
    assert_int_equal(sample(&w), 0);
    assert_int_equal(w.s.n_threads, UW_EPOCH_THREADS);
    for (i = 0; i <= UW_EPOCH_THREADS; i++) {
        uint64_t lp = 0, c = 0;
        if (i == k) {
            assert_int_equal(uw__epoch_get(&w.t->epochs, tstate[i], &lp, &c), UW_ERR_NOT_FOUND);
            continue;
        }
        assert_int_equal(uw__epoch_get(&w.t->epochs, tstate[i], &lp, &c), 0);
        assert_int_equal(lp, loop[i]);
        assert_int_equal(c, counter[i]);
    }
    for (i = 0; i < w.s.n_threads; i++)
        assert_int_not_equal(w.s.threads[i].epoch_loop, 0); /* every one walked with it */
    world_end(&w);
}

/* The Task walk refuses, with an error, a layout whose objects would not
 * fit the buffers it reads them into: dict keys past UW_PYOBJ_HEAD, a
 * coroutine's frame past UW_CORO_WINDOW, a str header past its window. */
static void test_layout_windows(void **state)
{
    const uw_layout *orig = uw__layout_for_minor(13);
    uw_layout l = *orig;
    fake_proc fp;
    uw_target tg;
    uw_unwinder *u = NULL;
    uw_tasks *t = NULL;

    (void)state;
    fp_init(&fp, 13);
    tg = fp.target;
    tg.layout = &l;
    assert_int_equal(uw_unwinder_new(&fp.reader, &tg, &u), 0);
    assert_int_equal(uw_tasks_new(u, &t), 0);
    uw_tasks_free(t);
    l.dictkeys_indices = UW_PYOBJ_HEAD + 8;
    assert_int_equal(uw_tasks_new(u, &t), UW_ERR_BAD_LAYOUT);
    l = *orig;
    l.gen_iframe = UW_CORO_WINDOW - l.frame_size + 8;
    assert_int_equal(uw_tasks_new(u, &t), UW_ERR_BAD_LAYOUT);
    l = *orig;
    l.unicode_ascii_data = UW_NAME_WINDOW + 8;
    assert_int_equal(uw_tasks_new(u, &t), UW_ERR_BAD_LAYOUT);
    l = *orig;
    assert_int_equal(uw_tasks_new(u, &t), 0);
    uw_tasks_free(t);
    uw_unwinder_free(u);
    fp_free(&fp);
}

/* A 3.12 code object with a RESUME after its YIELD_VALUE at instruction
 * `index` (3.11/3.12 keep the unit stepped over): location bits `where`
 * (3: after an await, 1: after a plain yield). */
static void resume_at(fake_proc *fp, uint64_t code, int64_t index, int where)
{
    const uw_layout *l = fp->l;
    const uint64_t at = code + (uint64_t)l->code_adaptive + 2 * (uint64_t)(index + 1);

    fp_put8(fp, at, (uint8_t)l->opcode_resume);
    fp_put8(fp, at + 1, (uint8_t)where);
}

/* 3.12 (the state cannot tell an await from a plain yield there: each
 * chain level reads the RESUME its coroutine goes on at): Task T's chain
 * outer -> inner -> deep -> a Future, each coroutine at an await.  Three
 * samples of the still process show T with its three frames, the third
 * taking the three RESUMEs remembered (resume.c) rather than read.  Then
 * inner's code object is another one at the same address (another name,
 * and a plain yield where the await was): T must never be shown with deep
 * under it, the remembered await (rule resume_memo_same_code: the chain
 * is not trusted once resolve finds the code object's entry reloaded);
 * read again it is [inner_new, outer], or skipped in that sample. */
/* recover: the options' recover (-1: as by default). */
static void resume_remembered(int recover)
{
    const uw_layout *l12 = uw__layout_for_minor(12);
    const char *key[1] = {"__asyncio_running_event_loop__"};
    fake_proc fp;
    uw_unwinder *u;
    uw_tasks *t;
    uw_sample s;
    uint64_t interp, sel, ts, loop, type, fut, c_out, c_in, c_deep, deep, in, out, task, set;
    const uw_task_sample *ts_t = NULL;
    size_t i, round;
    uw_task_options o;

    fp_init(&fp, 12);
    interp = fp_runtime(&fp);
    sel = fp_code(&fp, "EpollSelector.select", "/lib/selectors.py", 10, lines, 4);
    ts = fp_thread(&fp, interp, 77, fp_frame(&fp, sel, 0, l12->owner_thread, 1));
    loop = fp_alloc(&fp, 512);
    fp_put64(&fp, ts + (uint64_t)l12->tstate_dict, fp_dict(&fp, key, &loop, 1));
    type = fp_type(&fp, "_asyncio.Task", fp_type(&fp, "_asyncio.Future", 0));
    fut = fp_alloc(&fp, 128);
    fp_put64(&fp, fut + 8, FP_FUTURE_OBJ_TYPE);
    c_out = fp_code(&fp, "outer", "/app/w.py", 10, lines, 4);
    c_in = fp_code(&fp, "inner", "/app/w.py", 10, lines, 4);
    c_deep = fp_code(&fp, "deep", "/app/w.py", 10, lines, 4);
    resume_at(&fp, c_out, 1, 3);
    resume_at(&fp, c_in, 1, 3);
    resume_at(&fp, c_deep, 1, 3);
    deep = fp_coro(&fp, c_deep, l12->state_suspended, 1, fut);
    in = fp_coro(&fp, c_in, l12->state_suspended, 1, deep);
    out = fp_coro(&fp, c_out, l12->state_suspended, 1, in);
    task = fp_task(&fp, type, loop, out, fp_str(&fp, "T"), fut);
    set = fp_set(&fp, &task, 1);
    assert_int_equal(uw_unwinder_new(&fp.reader, &fp.target, &u), 0);
    assert_int_equal(uw_tasks_new(u, &t), 0);
    uw_tasks_set_root(t, set);
    uw_task_options_default(&o);
    if (recover >= 0)
        o.recover = (uint32_t)recover;
    uw_tasks_set_options(t, &o);
    uw_sample_init(&s);
    for (round = 0; round < 4; round++) {
        if (round == 3) {
            /* another code object at inner's address: its own name, and a
             * plain yield where inner awaited */
            const uint64_t q = fp_str(&fp, "inner_new");
            fp_put64(&fp, c_in + (uint64_t)l12->code_qualname, q);
            fp_put64(&fp, c_in + (uint64_t)l12->code_name, q);
            resume_at(&fp, c_in, 1, 1);
        }
        assert_int_equal(uw_unwind_threads(u, &s), 0);
        assert_int_equal(uw_unwind_tasks(t, &s), 0);
        for (i = 0, ts_t = NULL; i < s.n_tasks; i++)
            if (s.tasks[i].addr == task)
                ts_t = &s.tasks[i];
        assert_non_null(ts_t);
        if (round < 3) { /* still: shown whole, never skipped */
            assert_int_equal(ts_t->skipped, 0);
            assert_int_equal(ts_t->n_frames, 3);
            assert_string_equal(uw_frame_name(&s.frames[ts_t->first_frame]), "deep");
            assert_string_equal(uw_frame_name(&s.frames[ts_t->first_frame + 2]), "outer");
            /* the first sample reads the RESUMEs of code objects new to the
             * cache (not remembered: no entry vouched for them when read),
             * the second reads them again and remembers them, the third
             * recalls the three */
            assert_int_equal(t->resume_recalled, round < 2 ? 0 : 3);
            continue;
        }
        for (i = 0; i < ts_t->n_frames; i++)
            if (strcmp(uw_frame_name(&s.frames[ts_t->first_frame + i]), "deep") == 0)
                fail_msg("T shown with deep under inner_new's plain yield (frame %zu of %zu)", i,
                         (size_t)ts_t->n_frames);
        if (ts_t->skipped == 0) {
            assert_int_equal(ts_t->n_frames, 2);
            assert_string_equal(uw_frame_name(&s.frames[ts_t->first_frame]), "inner_new");
        }
    }
    uw_sample_free(&s);
    uw_tasks_free(t);
    uw_unwinder_free(u);
    fp_free(&fp);
}

/* With recovery (the default) the chains' frames are resolved after the
 * check, where a code object reloaded since the chain read also leaves the
 * Task untrusted (code_late); without it they are resolved before the
 * check, where only the remembered RESUME's serial tells. */
static void test_resume_remembered(void **state)
{
    (void)state;
    resume_remembered(-1); /* the default options */
    resume_remembered(0);
}

/* The sample's first chains are resolved after the check's read
 * (chains.c), so the check no longer vouches for the code objects their
 * frames name: here, between the check and that resolution, Task T's
 * inner coroutine finishes (outer awaits the Future itself) and another
 * code object, "other", is made at inner's address.  The resolution reads
 * it as a new code object; T must not be shown as [other, outer], a stack
 * it never had (rule code_loaded_after_check: a code object loaded after
 * the chain read leaves the Task to recovery, which reads [outer]).  The
 * code objects lie pages away from the Task's objects, so only their own
 * validation reads them (3.13: no remembered RESUMEs, no count of freed
 * code objects to stand in for the reading). */
static uint64_t late_code, late_outer, late_fut, late_other;
static size_t late_code_size;
static int late_armed, late_done;
static const uw_reader_ops *late_real;

static int late_read(void *ctx, uint64_t addr, void *dst, size_t len)
{
    fake_proc *fp = (fake_proc *)ctx;
    const uw_layout *l = fp->l;

    if (late_armed && !late_done && addr == late_code && len == late_code_size) {
        /* inner finished; another code object at its address */
        fp_put64(fp, late_outer + (uint64_t)l->gen_iframe + (uint64_t)l->frame_localsplus,
                 late_fut);
        fp_put64(fp, late_code + (uint64_t)l->code_qualname, late_other);
        fp_put64(fp, late_code + (uint64_t)l->code_name, late_other);
        late_done = 1;
    }
    return late_real->read(ctx, addr, dst, len);
}

static const uw_reader_ops late_ops = {late_read, NULL, NULL, NULL};

static void test_code_loaded_after_check(void **state)
{
    const uw_layout *l13 = uw__layout_for_minor(13);
    const int suspended = l13->state_suspended_yield_from;
    world w;
    uint64_t c_out, c_in, in, task;
    size_t round, k;

    (void)state;
    world_base(&w);
    c_out = fp_code(&w.fp, "outer", "/app/w.py", 10, lines, 4);
    c_in = fp_code(&w.fp, "inner", "/app/w.py", 10, lines, 4);
    late_other = fp_str(&w.fp, "other");
    (void)fp_alloc(&w.fp, 4 * 4096); /* the code objects on pages of their own */
    late_fut = fp_alloc(&w.fp, 128);
    fp_put64(&w.fp, late_fut + 8, FP_FUTURE_OBJ_TYPE);
    in = fp_coro(&w.fp, c_in, suspended, 1, late_fut);
    late_outer = fp_coro(&w.fp, c_out, suspended, 1, in);
    task = fp_task(&w.fp, w.task_type, w.loop, late_outer, fp_str(&w.fp, "T"), late_fut);
    w.set = fp_set(&w.fp, &task, 1);
    late_code = c_in;
    late_code_size = (size_t)l13->code_size;
    late_armed = late_done = 0;
    world_start(&w);
    for (round = 0; round < 4; round++) {
        const uw_task_sample *tt;
        late_armed = round == 2; /* the first two fill the code cache */
        sample_through(&w, &late_ops, &late_real);
        tt = task_at(&w, task);
        assert_non_null(tt);
        for (k = 0; k < tt->n_frames; k++)
            if (strcmp(fname(&w, tt, k), "other") == 0)
                fail_msg("round %zu: T shown with 'other', made after the check, as frame "
                         "%zu of %zu",
                         round, k, (size_t)tt->n_frames);
        if (round < 2) {
            assert_int_equal(tt->skipped, 0);
            assert_int_equal(tt->n_frames, 2);
            assert_string_equal(fname(&w, tt, 0), "inner");
        } else if (round == 2) {
            /* the code object was read after the check, as the late
             * resolution does (not before its chain read) */
            assert_true(late_done);
        }
        if (round == 3) { /* still since: [outer] alone */
            assert_int_equal(tt->skipped, 0);
            assert_int_equal(tt->n_frames, 1);
            assert_string_equal(fname(&w, tt, 0), "outer");
        }
    }
    world_end(&w);
}

/* A frame the late resolution hides without a code object gets a status
 * and no uw_frame: its slot of cf_frame keeps what an earlier sample
 * wrote there, an entry the code cache may have freed since.  The late
 * marking (uw_mark_late) once read the code entry from that slot, and
 * verify's mixed 3.11 TSO row lost a worker to SIGSEGV so (93c3813).
 * Here Task T's root coroutine runs "alpha" in the first two samples, so
 * its slot names alpha's entry; then alpha's code object is replaced
 * (another name at its address) and a second thread runs it, so that
 * thread's walk reloads it and the cache frees the old entry; and T's
 * root, now finished, names "beta" (known from Task U) with its frame's
 * owner byte torn to the C stack's, which hides it.  The marking must take
 * the code object from the frame's copy (the asan-ubsan preset reports
 * the freed entry read otherwise), and T, its code known since the first
 * sample, is not left untrusted for a code object loaded late. */
static void test_late_hidden_frame(void **state)
{
    const uw_layout *l13 = uw__layout_for_minor(13);
    const int suspended = l13->state_suspended_yield_from;
    world w;
    uint64_t c_a, c_b, other, fut, fut_u, g, task, tasks[2];
    uint64_t reloads0 = 0;
    size_t round;

    (void)state;
    world_base(&w);
    c_a = fp_code(&w.fp, "alpha", "/app/w.py", 10, lines, 4);
    c_b = fp_code(&w.fp, "beta", "/app/w.py", 10, lines, 4);
    other = fp_str(&w.fp, "other");
    fut = fp_alloc(&w.fp, 128);
    fp_put64(&w.fp, fut + 8, FP_FUTURE_OBJ_TYPE);
    fut_u = fp_alloc(&w.fp, 128);
    fp_put64(&w.fp, fut_u + 8, FP_FUTURE_OBJ_TYPE);
    g = fp_coro(&w.fp, c_a, suspended, 1, fut);
    task = fp_task(&w.fp, w.task_type, w.loop, g, fp_str(&w.fp, "T"), fut);
    tasks[0] = task;
    tasks[1] = fp_task(&w.fp, w.task_type, w.loop, fp_coro(&w.fp, c_b, suspended, 1, fut_u),
                       fp_str(&w.fp, "U"), fut_u);
    w.set = fp_set(&w.fp, tasks, 2);
    world_start(&w);
    for (round = 0; round < 3; round++) {
        const uw_task_sample *tt;
        if (round == 2) {
            const uint64_t f = g + (uint64_t)l13->gen_iframe;
            reloads0 = uw_unwinder_cache(w.u)->reloads;
            fp_put64(&w.fp, c_a + (uint64_t)l13->code_qualname, other);
            fp_put64(&w.fp, c_a + (uint64_t)l13->code_name, other);
            (void)fp_thread(&w.fp, w.interp, 78, fp_frame(&w.fp, c_a, 0, l13->owner_thread, 1));
            fp_frame_at(&w.fp, f, c_b, 0, l13->owner_cstack, 1);
            fp_put8(&w.fp, g + (uint64_t)l13->gen_frame_state, (uint8_t)l13->state_completed);
        }
        assert_int_equal(sample(&w), 0);
        tt = task_at(&w, task);
        assert_non_null(tt);
        if (round < 2) {
            assert_int_equal(tt->skipped, 0);
            assert_int_equal(tt->n_frames, 1);
            assert_string_equal(fname(&w, tt, 0), "alpha");
            continue;
        }
        /* the scenario's premise: alpha's old entry was freed (reloaded
         * by the second thread's walk) in this sample */
        assert_true(uw_unwinder_cache(w.u)->reloads > reloads0);
        assert_int_equal(tt->skipped, 0);
        assert_int_equal(tt->n_frames, 0); /* its one frame hidden */
    }
    world_end(&w);
}

int main(void)
{
    const struct CMUnitTest fixed[] = {
        cmocka_unit_test(test_clean_world),
        cmocka_unit_test(test_int_names_at_mapping_end),
        cmocka_unit_test(test_corrupt_registry),
        cmocka_unit_test(test_corrupt_objects),
        cmocka_unit_test(test_link_cycle),
        cmocka_unit_test(test_odd_worlds),
        cmocka_unit_test(test_chain_ends),
        cmocka_unit_test(test_epoch_table),
        cmocka_unit_test(test_epoch_table_full),
        cmocka_unit_test(test_plain_waiter),
        cmocka_unit_test(test_harmless_callback),
        cmocka_unit_test(test_layout_windows),
        cmocka_unit_test(test_recover_step),
        cmocka_unit_test(test_check_empty_awaitee_slot),
        cmocka_unit_test(test_check_unmade_awaitee),
        cmocka_unit_test(test_check_end_owner),
        cmocka_unit_test(test_recover_idle_unprovable),
        cmocka_unit_test(test_recover_reused_task),
        cmocka_unit_test(test_recover_alone),
        cmocka_unit_test(test_recover_held),
        cmocka_unit_test(test_resume_remembered),
        cmocka_unit_test(test_code_loaded_after_check),
        cmocka_unit_test(test_late_hidden_frame),
        cmocka_unit_test(test_cloop_epoch),
        cmocka_unit_test(test_recover_running),
        cmocka_unit_test(test_recover_started_after_walk),
        cmocka_unit_test(test_recover_running_with_callback),
        cmocka_unit_test(test_recover_rounds_bound),
        cmocka_unit_test(test_recover_rounds_split),
        cmocka_unit_test(test_recover_few_again),
        cmocka_unit_test(test_recover_yield),
        cmocka_unit_test(test_recover_reads_bound),
        cmocka_unit_test(test_value_sent_to_root),
        cmocka_unit_test(test_one_step),
        cmocka_unit_test(test_pure_between_copies),
        cmocka_unit_test(test_recover_idle_stands),
    };
    size_t n = warm_sample_reads(), i;
    const size_t nf = sizeof fixed / sizeof fixed[0];
    struct CMUnitTest *all = calloc(nf + n + 1, sizeof *all);
    size_t *ks = calloc(n + 1, sizeof *ks);
    int rc;

    if (all == NULL || ks == NULL || n < 10)
        return 1;
    memcpy(all, fixed, sizeof fixed);
    for (i = 0; i <= n; i++) {
        ks[i] = i;
        all[nf + i] = (struct CMUnitTest)cmocka_unit_test_prestate(test_reads_fail_at, &ks[i]);
    }
    rc = _cmocka_run_group_tests("tasks", all, nf + n + 1, NULL, NULL);
    free(all);
    free(ks);
    return rc;
}
