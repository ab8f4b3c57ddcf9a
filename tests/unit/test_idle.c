/*
 * test_idle.c — a thread that did not run since its last complete walk is
 * shown as that walk (src/unwind/idle.c), and only then.
 *
 * A fabricated process (main -> helper -> leaf in a data-stack chunk)
 * read through a reader whose run clock the test sets.  That the kept
 * walk is what is shown is seen by changing the process behind the
 * walk's back with the clock held: the old stack comes back.  Each
 * condition of reuse is then broken in turn (the clock moves, the thread
 * state changes, the code cache frees an entry, a bracket, another depth
 * limit, no clock, a cut walk), and the new stack must come back.  The
 * clocks must be asked before the sample's first memory read.
 *
 * The same for a process none of whose threads ran (src/unwind/quiet.c):
 * the rig lists the process's threads (the Python thread and one other,
 * with a clock each); once the process stood for a sample, a sample reads
 * no memory at all and shows the base sample's threads, until any thread
 * of the process runs (the other one included), or a thread appears.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fake_proc.h"
#include "internal/code_cache.h"
#include "internal/unwinder.h"
#include "tornstack/error.h"
#include "tornstack/unwind.h"
#include "unwind/unwind_int.h"

enum { OP_READ = 1, OP_CLOCK = 2 };

typedef struct rig {
    fake_proc fp;
    uw_reader r; /* fp's reader with a run clock */
    uw_unwinder *u;
    uw_sample s;
    uint64_t clock;  /* the Python thread's (4242) */
    uint64_t clock2; /* the other thread's (5000) */
    int has_clock;
    int first_op;     /* of the current sample: OP_READ or OP_CLOCK */
    size_t reads;     /* memory reads, ever */
    uint64_t tids[4]; /* the process's threads, listed */
    size_t n_tids;    /* 0: the rig cannot list them */
    uint64_t ts, f0, f1, f2, c_leaf, c_helper;
    size_t fs;
} rig;

static int rig_read(void *ctx, uint64_t addr, void *dst, size_t len)
{
    rig *g = ctx;
    if (g->first_op == 0)
        g->first_op = OP_READ;
    g->reads++;
    return uw_read(&g->fp.reader, addr, dst, len);
}

static int rig_readv(void *ctx, uw_iov *iov, size_t n, const size_t *end, size_t n_groups,
                     uint64_t *calls)
{
    rig *g = ctx;
    if (g->first_op == 0)
        g->first_op = OP_READ;
    g->reads++;
    *calls = 1;
    return uw_readv_groups(&g->fp.reader, iov, n, end, n_groups);
}

static int rig_clock(void *ctx, uint64_t tid, uint64_t *out, uint64_t *calls)
{
    rig *g = ctx;
    *calls = 1;
    if (g->first_op == 0)
        g->first_op = OP_CLOCK;
    if (!g->has_clock || (tid != 4242 && tid != 5000))
        return UW_ERR_NO_CLOCK;
    *out = tid == 4242 ? g->clock : g->clock2;
    return 0;
}

static int rig_threads(void *ctx, uint64_t *tids, size_t cap, size_t *n, uint64_t *calls)
{
    rig *g = ctx;
    *calls = 1;
    *n = 0;
    if (g->n_tids == 0)
        return UW_ERR_NO_CLOCK;
    if (g->n_tids > cap)
        return UW_ERR_CAPACITY;
    memcpy(tids, g->tids, g->n_tids * sizeof *tids);
    *n = g->n_tids;
    return 0;
}

static const uw_reader_ops rig_ops = {rig_read, rig_readv, rig_clock, rig_threads};

static const int lines_abc[4] = {10, 11, 12, 14};

static void rig_open(rig *g, int minor)
{
    const uw_layout *l;
    uint64_t interp, chunk, c_main;

    memset(g, 0, sizeof *g);
    fp_init(&g->fp, minor);
    l = g->fp.l;
    g->fs = (size_t)l->frame_size + 64;
    interp = fp_runtime(&g->fp);
    c_main = fp_code(&g->fp, "main", "/app/main.py", 10, lines_abc, 4);
    g->c_helper = fp_code(&g->fp, "helper", "/app/helper.py", 10, lines_abc, 4);
    g->c_leaf = fp_code(&g->fp, "leaf", "/app/leaf.py", 10, lines_abc, 4);
    chunk = fp_alloc(&g->fp, 16384);
    fp_put64(&g->fp, chunk + (uint64_t)l->chunk_size, 16384);
    g->f0 = chunk + (uint64_t)l->chunk_data + 8;
    g->f1 = g->f0 + g->fs;
    g->f2 = g->f1 + g->fs;
    fp_frame_at(&g->fp, g->f0, c_main, 0, l->owner_thread, 1);
    fp_frame_at(&g->fp, g->f1, g->c_helper, g->f0, l->owner_thread, 2);
    fp_frame_at(&g->fp, g->f2, g->c_leaf, g->f1, l->owner_thread, 3);
    g->ts = fp_thread(&g->fp, interp, 4242, g->f2);
    fp_put64(&g->fp, g->ts + (uint64_t)l->tstate_datastack_chunk, chunk);
    fp_put64(&g->fp, g->ts + (uint64_t)l->tstate_datastack_top, g->f2 + g->fs);
    g->has_clock = 1;
    g->clock = 100;
    uw_reader_init(&g->r, &rig_ops, g);
    assert_int_equal(uw_unwinder_new(&g->r, &g->fp.target, &g->u), 0);
    uw_sample_init(&g->s);
}

static void rig_close(rig *g)
{
    uw_sample_free(&g->s);
    uw_unwinder_free(g->u);
    fp_free(&g->fp);
}

/* One sample; returns the innermost frame's line (the leaf's index). */
static int sample(rig *g)
{
    const uw_thread_sample *th;

    g->first_op = 0;
    assert_int_equal(uw_unwind_threads(g->u, &g->s), 0);
    assert_int_equal(g->s.n_threads, 1);
    th = &g->s.threads[0];
    assert_int_equal(th->truncated, 0);
    assert_int_equal(th->n_frames, 3);
    assert_string_equal(uw_frame_name(&g->s.frames[th->first_frame]), "leaf");
    assert_string_equal(uw_frame_name(&g->s.frames[th->first_frame + 2]), "main");
    return g->s.frames[th->first_frame].line;
}

/* The leaf moves on to its next line, behind the reader's back. */
static void leaf_steps(rig *g, int64_t index)
{
    fp_frame_at(&g->fp, g->f2, g->c_leaf, g->f1, g->fp.l->owner_thread, index);
}

/* Two samples: the first meets the thread, the second keeps a walk (its
 * clock was read before it); the third is shown from it. */
static void warm(rig *g)
{
    assert_int_equal(sample(g), 14);
    assert_int_equal(sample(g), 14);
    assert_int_equal(g->u->idle_shown, 0);
    assert_int_equal(sample(g), 14);
    assert_int_equal(g->u->idle_shown, 1);
    assert_int_equal(g->first_op, OP_CLOCK);
}

static void idle_kept(int minor)
{
    rig g;
    uint64_t calls;

    rig_open(&g, minor);
    warm(&g);
    /* The process changes with the clock held (which a real thread cannot
     * do): the kept walk is shown, and nothing of the stack is read. */
    leaf_steps(&g, 2);
    calls = g.r.calls;
    assert_int_equal(sample(&g), 14);
    assert_int_equal(g.u->idle_shown, 2);
    assert_true(g.r.calls - calls <= 3); /* the clock, the roots and the state */
    /* The thread ran: walked again, and the walk is kept anew. */
    g.clock++;
    assert_int_equal(sample(&g), 12);
    assert_int_equal(g.u->idle_shown, 2);
    leaf_steps(&g, 3);
    assert_int_equal(sample(&g), 12);
    assert_int_equal(g.u->idle_shown, 3);
    rig_close(&g);
}

static void test_idle_kept_311(void **state)
{
    (void)state;
    idle_kept(11);
}

static void test_idle_kept_312(void **state)
{
    (void)state;
    idle_kept(12);
}

static void test_idle_kept_313(void **state)
{
    (void)state;
    idle_kept(13);
}

/* A change of the thread state (here its current frame: the leaf
 * returned and was called again in another slot) is walked, clock or
 * not. */
static void test_idle_tstate_changed(void **state)
{
    rig g;
    const uw_layout *l;
    uint64_t f3;
    (void)state;
    rig_open(&g, 13);
    l = g.fp.l;
    warm(&g);
    f3 = g.f2 + g.fs;
    fp_frame_at(&g.fp, f3, g.c_leaf, g.f1, l->owner_thread, 1);
    fp_put64(&g.fp, g.ts + (uint64_t)l->tstate_current_frame, f3);
    fp_put64(&g.fp, g.ts + (uint64_t)l->tstate_datastack_top, f3 + g.fs);
    assert_int_equal(sample(&g), 11);
    assert_int_equal(g.u->idle_shown, 1);
    rig_close(&g);
}

/* The code cache freed entries (a cold cache): walked. */
static void test_idle_cache_freed(void **state)
{
    rig g;
    (void)state;
    rig_open(&g, 12);
    warm(&g);
    leaf_steps(&g, 2);
    uw_unwinder_clear_cache(g.u);
    assert_int_equal(sample(&g), 12);
    assert_int_equal(g.u->idle_shown, 1);
    rig_close(&g);
}

/* Another depth limit: walked. */
static void test_idle_depth(void **state)
{
    rig g;
    (void)state;
    rig_open(&g, 13);
    warm(&g);
    leaf_steps(&g, 2);
    uw_unwinder_set_max_depth(g.u, 50);
    assert_int_equal(sample(&g), 12);
    assert_int_equal(g.u->idle_shown, 1);
    rig_close(&g);
}

static uint64_t bracket_counter;

static uint64_t some_bracket(void *ctx, uint64_t tstate, uint64_t *tag)
{
    (void)ctx;
    (void)tstate;
    *tag = 0x1234;
    return bracket_counter;
}

/* A thread the Task walk brackets (its loop's epoch) is walked. */
static void test_idle_bracketed(void **state)
{
    rig g;
    uw__walk_hooks h = {NULL, some_bracket, NULL, NULL};
    (void)state;
    rig_open(&g, 12);
    warm(&g);
    bracket_counter = fp_alloc(&g.fp, 8);
    uw__unwinder_set_hooks(g.u, &h);
    leaf_steps(&g, 2);
    assert_int_equal(sample(&g), 12);
    assert_int_equal(g.u->idle_shown, 1);
    leaf_steps(&g, 1);
    assert_int_equal(sample(&g), 11);
    assert_int_equal(g.u->idle_shown, 1);
    rig_close(&g);
}

/* No clock (or none for the thread): every sample walks. */
static void test_idle_no_clock(void **state)
{
    rig g;
    int k;
    (void)state;
    rig_open(&g, 13);
    g.has_clock = 0;
    for (k = 0; k < 4; k++)
        assert_int_equal(sample(&g), 14);
    leaf_steps(&g, 2);
    assert_int_equal(sample(&g), 12);
    assert_int_equal(g.u->idle_shown, 0);
    rig_close(&g);
}

/* A walk that was cut is not kept: with the clock held and the process
 * mended, the next sample walks and shows the whole stack. */
static void test_idle_cut_not_kept(void **state)
{
    rig g;
    const uw_layout *l;
    (void)state;
    rig_open(&g, 13);
    l = g.fp.l;
    fp_frame_at(&g.fp, g.f1, 0x10, g.f0, l->owner_thread, 2); /* no code object */
    g.first_op = 0;
    assert_int_equal(uw_unwind_threads(g.u, &g.s), 0);
    assert_int_equal(uw_unwind_threads(g.u, &g.s), 0);
    assert_int_not_equal(g.s.threads[0].truncated, 0);
    assert_int_equal(uw_unwind_threads(g.u, &g.s), 0);
    assert_int_not_equal(g.s.threads[0].truncated, 0);
    assert_int_equal(g.u->idle_shown, 0);
    fp_frame_at(&g.fp, g.f1, g.c_helper, g.f0, l->owner_thread, 2);
    assert_int_equal(sample(&g), 14); /* walked: nothing of the cut walk kept */
    assert_int_equal(g.u->idle_shown, 0);
    assert_int_equal(sample(&g), 14);
    assert_int_equal(g.u->idle_shown, 1);
    rig_close(&g);
}

/* Sample until one reads no memory (the base is taken and used), at most
 * `bound` samples; returns how many it took.  The stack shown is always
 * the leaf at line `line`. */
static int until_quiet(rig *g, int bound, int line)
{
    size_t reads;
    int k;

    for (k = 1; k <= bound; k++) {
        reads = g->reads;
        assert_int_equal(sample(g), line);
        if (g->reads == reads)
            return k;
    }
    fail_msg("no sample without a read in %d", bound);
    return 0;
}

/* Samples of a process whose threads all stand: a base is taken, then no
 * memory is read. */
static void quiet_warm(rig *g)
{
    g->tids[0] = 4242;
    g->tids[1] = 5000;
    g->n_tids = 2;
    (void)until_quiet(g, 8, 14);
    assert_true(g->u->quiet.shown >= 1);
}

static void test_quiet(void **state)
{
    rig g;
    size_t reads;
    uint64_t shown;
    (void)state;
    rig_open(&g, 13);
    quiet_warm(&g);
    /* behind the clocks' back: the base is shown, nothing read */
    leaf_steps(&g, 2);
    reads = g.reads;
    shown = g.u->quiet.shown;
    assert_int_equal(sample(&g), 14);
    assert_int_equal(g.reads, reads);
    assert_int_equal(g.u->quiet.shown, shown + 1);
    /* the other thread ran: the lists are read again (the Python thread's
     * own walk is still kept: its clock stood) */
    g.clock2++;
    assert_int_equal(sample(&g), 14);
    assert_true(g.reads > reads);
    assert_int_equal(g.u->quiet.shown, shown + 1);
    /* the Python thread ran: walked */
    g.clock++;
    assert_int_equal(sample(&g), 12);
    rig_close(&g);
}

/* A thread that appears in the listing has no reading from before it:
 * no base until it stood for a sample; one without a clock: never. */
static void test_quiet_new_thread(void **state)
{
    rig g;
    size_t reads;
    int k;
    (void)state;
    rig_open(&g, 12);
    quiet_warm(&g);
    g.clock2++;       /* the other thread runs ... */
    g.tids[2] = 6000; /* ... and starts a thread, which has no clock */
    g.n_tids = 3;
    for (k = 0; k < 3 * UW_QUIET_LIST_WAIT; k++) {
        reads = g.reads;
        assert_int_equal(sample(&g), 14);
        assert_true(g.reads > reads);
    }
    g.n_tids = 2; /* it ended: once listed without it, quiet again */
#if UW_QUIET_THREADS >= 3
    assert_true(until_quiet(&g, 2 * UW_QUIET_LIST_WAIT + 4, 14) > 1);
#else
    /* three threads were more than UW_QUIET_THREADS: never quiet again */
    assert_true(g.u->quiet.off);
    for (k = 0; k < 3 * UW_QUIET_LIST_WAIT; k++) {
        reads = g.reads;
        assert_int_equal(sample(&g), 14);
        assert_true(g.reads > reads);
    }
#endif
    rig_close(&g);
}

/* No listing (the rig cannot list), or too many threads: never quiet. */
static void test_quiet_no_listing(void **state)
{
    rig g;
    size_t reads;
    int k;
    (void)state;
    rig_open(&g, 13);
    for (k = 0; k < 8; k++) {
        reads = g.reads;
        assert_int_equal(sample(&g), 14);
        assert_true(g.reads > reads);
    }
    assert_int_equal(g.u->quiet.shown, 0);
    rig_close(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_idle_kept_311),     cmocka_unit_test(test_idle_kept_312),
        cmocka_unit_test(test_idle_kept_313),     cmocka_unit_test(test_idle_tstate_changed),
        cmocka_unit_test(test_idle_cache_freed),  cmocka_unit_test(test_idle_depth),
        cmocka_unit_test(test_idle_bracketed),    cmocka_unit_test(test_idle_no_clock),
        cmocka_unit_test(test_idle_cut_not_kept), cmocka_unit_test(test_quiet),
        cmocka_unit_test(test_quiet_new_thread),  cmocka_unit_test(test_quiet_no_listing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
