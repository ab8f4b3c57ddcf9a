/*
 * test_unwind.c — the thread walk on fabricated processes: shapes, every
 * named bound at limit-1 / limit / limit+1, cycles, garbage pointers, hidden
 * frames, stale code objects, all three layouts.
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
#include "unwind/unwind_int.h"
#include "tornstack/error.h"
#include "tornstack/limits.h"
#include "tornstack/unwind.h"

typedef struct walk {
    fake_proc fp;
    uw_unwinder *u;
    uw_sample s;
} walk;

static void walk_start(walk *w)
{
    assert_int_equal(uw_unwinder_new(&w->fp.reader, &w->fp.target, &w->u), 0);
    uw_sample_init(&w->s);
}

static void walk_end(walk *w)
{
    uw_sample_free(&w->s);
    uw_unwinder_free(w->u);
    fp_free(&w->fp);
}

static const uw_frame *frame_of(const walk *w, size_t thread, size_t i)
{
    assert_true(thread < w->s.n_threads);
    assert_true(i < w->s.threads[thread].n_frames);
    return &w->s.frames[w->s.threads[thread].first_frame + i];
}

static const int lines_abc[4] = {10, 11, 12, 14};

/* main -> helper -> leaf, in a data-stack chunk, on each version. */
static void basic_walk(int minor)
{
    walk w;
    uint64_t interp, chunk, f0, f1, f2, ts, c_main, c_helper, c_leaf;
    const uw_layout *l;
    size_t fs;

    fp_init(&w.fp, minor);
    l = w.fp.l;
    fs = (size_t)l->frame_size + 64;
    interp = fp_runtime(&w.fp);
    c_main = fp_code(&w.fp, "main", "/app/main.py", 10, lines_abc, 4);
    c_helper = fp_code(&w.fp, "Helper.run", "/app/helper.py", 10, lines_abc, 4);
    c_leaf = fp_code(&w.fp, "leaf", "/app/leaf.py", 10, lines_abc, 4);
    chunk = fp_alloc(&w.fp, 16384);
    fp_put64(&w.fp, chunk + (uint64_t)l->chunk_size, 16384);
    f0 = chunk + (uint64_t)l->chunk_data + 8;
    f1 = f0 + fs;
    f2 = f1 + fs;
    fp_frame_at(&w.fp, f0, c_main, 0, l->owner_thread, 1);
    fp_frame_at(&w.fp, f1, c_helper, f0, l->owner_thread, 2);
    fp_frame_at(&w.fp, f2, c_leaf, f1, l->owner_thread, 3);
    ts = fp_thread(&w.fp, interp, 4242, f2);
    fp_put64(&w.fp, ts + (uint64_t)l->tstate_datastack_chunk, chunk);
    fp_put64(&w.fp, ts + (uint64_t)l->tstate_datastack_top, f2 + fs);
    walk_start(&w);
    /* Three samples: cold, warm, warm with prefetch. */
    for (int k = 0; k < 3; k++) {
        assert_int_equal(uw_unwind_threads(w.u, &w.s), 0);
        assert_int_equal(w.s.n_threads, 1);
        assert_int_equal(w.s.threads[0].native_id, 4242);
        assert_int_equal(w.s.threads[0].truncated, 0);
        assert_int_equal(w.s.threads[0].n_frames, 3);
        assert_string_equal(uw_frame_name(frame_of(&w, 0, 0)), "leaf");
        assert_string_equal(uw_frame_file(frame_of(&w, 0, 0)), "/app/leaf.py");
        assert_int_equal(frame_of(&w, 0, 0)->line, 14);
        assert_string_equal(uw_frame_name(frame_of(&w, 0, 1)), "Helper.run");
        assert_int_equal(frame_of(&w, 0, 1)->line, 12);
        assert_string_equal(uw_frame_name(frame_of(&w, 0, 2)), "main");
        assert_int_equal(frame_of(&w, 0, 2)->line, 11);
        assert_int_equal(frame_of(&w, 0, 2)->addr, f0);
    }
    walk_end(&w);
}

static void test_basic_311(void **state)
{
    (void)state;
    basic_walk(11);
}
static void test_basic_312(void **state)
{
    (void)state;
    basic_walk(12);
}
static void test_basic_313(void **state)
{
    (void)state;
    basic_walk(13);
}

/* A thread whose chain is n frames long (each its own allocation). */
static uint64_t chain(walk *w, size_t n, uint64_t code)
{
    uint64_t prev = 0;
    size_t i;
    for (i = 0; i < n; i++)
        prev = fp_frame(&w->fp, code, prev, w->fp.l->owner_thread, 1);
    return prev;
}

static void frames_bound(size_t n, size_t want_frames, int want_trunc)
{
    walk w;
    uint64_t interp, code;

    fp_init(&w.fp, 12);
    interp = fp_runtime(&w.fp);
    code = fp_code(&w.fp, "f", "/f.py", 1, lines_abc, 4);
    fp_thread(&w.fp, interp, 1, chain(&w, n, code));
    walk_start(&w);
    assert_int_equal(uw_unwind_threads(w.u, &w.s), 0);
    assert_int_equal(w.s.threads[0].n_frames, want_frames);
    assert_int_equal(w.s.threads[0].truncated, want_trunc);
    walk_end(&w);
}

static void test_limit_frames(void **state)
{
    (void)state;
    frames_bound(UW_LIMIT_FRAMES - 1, UW_LIMIT_FRAMES - 1, 0);
    frames_bound(UW_LIMIT_FRAMES, UW_LIMIT_FRAMES, 0);
    frames_bound(UW_LIMIT_FRAMES + 1, UW_LIMIT_FRAMES, UW_ERR_LIMIT_FRAMES);
}

static void threads_bound(size_t n, size_t want_threads, int want_trunc)
{
    walk w;
    uint64_t interp;
    size_t i;

    fp_init(&w.fp, 13);
    interp = fp_runtime(&w.fp);
    for (i = 0; i < n; i++)
        fp_thread(&w.fp, interp, i + 1, 0);
    walk_start(&w);
    assert_int_equal(uw_unwind_threads(w.u, &w.s), 0);
    assert_int_equal(w.s.n_threads, want_threads);
    assert_int_equal(w.s.truncated, want_trunc);
    walk_end(&w);
}

static void test_limit_threads(void **state)
{
    (void)state;
    threads_bound(UW_LIMIT_THREADS - 1, UW_LIMIT_THREADS - 1, 0);
    threads_bound(UW_LIMIT_THREADS, UW_LIMIT_THREADS, 0);
    threads_bound(UW_LIMIT_THREADS + 1, UW_LIMIT_THREADS, UW_ERR_LIMIT_THREADS);
}

static void interps_bound(size_t n, size_t want_threads, int want_trunc)
{
    walk w;
    uint64_t interp;
    size_t i;

    fp_init(&w.fp, 11);
    interp = fp_runtime(&w.fp);
    fp_thread(&w.fp, interp, 1, 0);
    for (i = 1; i < n; i++) {
        interp = fp_interp(&w.fp, interp, (int64_t)i);
        fp_thread(&w.fp, interp, i + 1, 0);
    }
    walk_start(&w);
    assert_int_equal(uw_unwind_threads(w.u, &w.s), 0);
    assert_int_equal(w.s.n_threads, want_threads);
    assert_int_equal(w.s.truncated, want_trunc);
    if (want_threads > 1)
        assert_int_equal(w.s.threads[1].interp_id, 1);
    walk_end(&w);
}

static void test_limit_interpreters(void **state)
{
    (void)state;
    interps_bound(UW_LIMIT_INTERPRETERS - 1, UW_LIMIT_INTERPRETERS - 1, 0);
    interps_bound(UW_LIMIT_INTERPRETERS, UW_LIMIT_INTERPRETERS, 0);
    interps_bound(UW_LIMIT_INTERPRETERS + 1, UW_LIMIT_INTERPRETERS, UW_ERR_LIMIT_INTERPRETERS);
}

/* previous pointers forming a 1-cycle and a 2-cycle. */
static void test_frame_cycles(void **state)
{
    walk w;
    uint64_t interp, code, a, b, c;

    (void)state;
    fp_init(&w.fp, 12);
    interp = fp_runtime(&w.fp);
    code = fp_code(&w.fp, "spin", "/s.py", 1, lines_abc, 4);
    a = fp_frame(&w.fp, code, 0, 0, 1);
    fp_put64(&w.fp, a + (uint64_t)w.fp.l->frame_previous, a); /* 1-cycle */
    b = fp_frame(&w.fp, code, 0, 0, 1);
    c = fp_frame(&w.fp, code, b, 0, 1);
    fp_put64(&w.fp, b + (uint64_t)w.fp.l->frame_previous, c); /* 2-cycle */
    fp_thread(&w.fp, interp, 1, a);
    fp_thread(&w.fp, interp, 2, c);
    walk_start(&w);
    assert_int_equal(uw_unwind_threads(w.u, &w.s), 0);
    assert_int_equal(w.s.n_threads, 2);
    for (size_t t = 0; t < 2; t++) {
        assert_int_equal(w.s.threads[t].truncated, UW_ERR_CYCLE);
        assert_true(w.s.threads[t].n_frames >= 1 && w.s.threads[t].n_frames <= 4);
    }
    walk_end(&w);
}

/* A cycle in the thread list ends the list, not the sample. */
static void test_thread_cycle(void **state)
{
    walk w;
    uint64_t interp, t1, t2;

    (void)state;
    fp_init(&w.fp, 13);
    interp = fp_runtime(&w.fp);
    t1 = fp_thread(&w.fp, interp, 1, 0);
    t2 = fp_thread(&w.fp, interp, 2, 0);
    fp_put64(&w.fp, t1 + (uint64_t)w.fp.l->tstate_next, t2);
    walk_start(&w);
    assert_int_equal(uw_unwind_threads(w.u, &w.s), 0);
    assert_int_equal(w.s.truncated, UW_ERR_CYCLE);
    assert_true(w.s.n_threads <= 3);
    walk_end(&w);
}

/* A cycle in the interpreter list ends the list, not the sample
 * (docs/states.md class 1). */
static void test_interp_cycle(void **state)
{
    walk w;
    uint64_t i1, i2;

    (void)state;
    fp_init(&w.fp, 13);
    i1 = fp_runtime(&w.fp);
    i2 = fp_interp(&w.fp, i1, 1);
    fp_put64(&w.fp, i2 + (uint64_t)w.fp.l->interp_next, i1);
    (void)fp_thread(&w.fp, i1, 1, 0);
    (void)fp_thread(&w.fp, i2, 2, 0);
    walk_start(&w);
    assert_int_equal(uw_unwind_threads(w.u, &w.s), 0);
    assert_int_equal(w.s.truncated, UW_ERR_CYCLE);
    assert_true(w.s.n_threads >= 2 && w.s.n_threads <= 4);
    walk_end(&w);
}

/* A 3.11 thread still starting, its cframe not yet set (class 3): that
 * thread reads as cut short, and the next one is still walked. */
static void test_cframe_null(void **state)
{
    walk w;
    uint64_t interp, code, t1;

    (void)state;
    fp_init(&w.fp, 11);
    interp = fp_runtime(&w.fp);
    code = fp_code(&w.fp, "shown", "/s.py", 1, lines_abc, 4);
    (void)fp_thread(&w.fp, interp, 1, fp_frame(&w.fp, code, 0, w.fp.l->owner_thread, 1));
    t1 = fp_thread(&w.fp, interp, 2, 0);
    fp_put64(&w.fp, t1 + (uint64_t)w.fp.l->tstate_cframe, 0);
    walk_start(&w);
    assert_int_equal(uw_unwind_threads(w.u, &w.s), 0);
    assert_int_equal(w.s.n_threads, 2);
    assert_int_equal(w.s.threads[0].truncated, UW_ERR_READ_FAULT); /* newest first */
    assert_int_equal(w.s.threads[0].n_frames, 0);
    assert_int_equal(w.s.threads[1].truncated, 0);
    assert_int_equal(w.s.threads[1].n_frames, 1);
    walk_end(&w);
}

/* 3.11/3.12, a nested eval loop in its prologue: its cframe is published
 * (tstate->cframe) while its current frame still holds what the C stack
 * held.  `top` is that word: 0, misaligned bytes, a stale frame of another
 * call whose chain skips the outer loop's frame, or (the loop past its
 * prologue) the frame it runs.  The outer eval loop's current frame is
 * handle_run (main under it).  The stack of the prologue's instant is the
 * outer loop's; past it, the nested loop's frame on top of it.
 * The C stack grows down: the nested cframe lies below the outer one.
 * Case 4: the cframe's `previous` is as stale as its current frame
 * (Debian's 3.11.2 stores both after publishing the cframe, in one
 * 16-byte store) and names a cframe of dead stack, below the nested one,
 * whose current frame is the stale frame: starting there would show a
 * stack that never was, so the walk is cut, entering the eval loop (a
 * stopped sample is then taken again). */
static void prologue_walk(int minor, int which)
{
    walk w;
    uint64_t interp, chunk, f0, f1, f2, stale, ts, root_cf, cf, dead, top = 0;
    uint64_t c_main, c_run, c_coro, c_stale;
    const uw_layout *l;
    size_t fs;

    fp_init(&w.fp, minor);
    l = w.fp.l;
    fs = (size_t)l->frame_size + 64;
    dead = fp_alloc(&w.fp, 32);
    cf = fp_alloc(&w.fp, 32);
    (void)fp_alloc(&w.fp, 8192); /* the C stack lies far from the thread state */
    interp = fp_runtime(&w.fp);
    c_main = fp_code(&w.fp, "main", "/app/main.py", 10, lines_abc, 4);
    c_run = fp_code(&w.fp, "Handle._run", "/app/events.py", 10, lines_abc, 4);
    c_coro = fp_code(&w.fp, "coro", "/app/coro.py", 10, lines_abc, 4);
    c_stale = fp_code(&w.fp, "stale", "/app/stale.py", 10, lines_abc, 4);
    chunk = fp_alloc(&w.fp, 16384);
    fp_put64(&w.fp, chunk + (uint64_t)l->chunk_size, 16384);
    f0 = chunk + (uint64_t)l->chunk_data + 8;
    f1 = f0 + fs;
    fp_frame_at(&w.fp, f0, c_main, 0, l->owner_thread, 1);
    fp_frame_at(&w.fp, f1, c_run, f0, l->owner_thread, 2);
    /* a coroutine's frame lives in its object, outside the chunk */
    f2 = fp_frame(&w.fp, c_coro, f1, l->owner_generator, 3);
    /* a suspended frame of an earlier call at this C depth, linked to main */
    stale = fp_frame(&w.fp, c_stale, f0, l->owner_generator, 3);
    ts = fp_thread(&w.fp, interp, 77, f1);
    fp_put64(&w.fp, ts + (uint64_t)l->tstate_datastack_chunk, chunk);
    fp_put64(&w.fp, ts + (uint64_t)l->tstate_datastack_top, f1 + fs);
    memcpy(&root_cf, fp_ptr(&w.fp, ts + (uint64_t)l->tstate_cframe, 8), 8);
    assert_true(cf < root_cf);
    switch (which) {
    case 0:
        top = 0;
        break;
    case 1:
        top = 0x7f0000a0c0e3ull;
        break;
    case 2:
    case 4:
        top = stale;
        break;
    default:
        top = f2;
        break;
    }
    fp_put64(&w.fp, cf + (uint64_t)l->cframe_current_frame, which == 4 ? 0x7f0000a0c0e3ull : top);
    fp_put64(&w.fp, cf + (uint64_t)l->cframe_current_frame + 8, which == 4 ? dead : root_cf);
    fp_put64(&w.fp, dead + (uint64_t)l->cframe_current_frame, stale);
    fp_put64(&w.fp, ts + (uint64_t)l->tstate_cframe, cf);
    walk_start(&w);
    for (int k = 0; k < 2; k++) {
        size_t base = which == 3 ? 1 : 0;
        assert_int_equal(uw_unwind_threads(w.u, &w.s), 0);
        assert_int_equal(w.s.n_threads, 1);
        if (which == 4) {
            assert_int_equal(w.s.threads[0].truncated, UW_ERR_ENTERING_EVAL);
            assert_int_equal(w.s.threads[0].n_frames, 0);
            continue;
        }
        assert_int_equal(w.s.threads[0].truncated, 0);
        assert_int_equal(w.s.threads[0].n_frames, base + 2);
        if (which == 3)
            assert_string_equal(uw_frame_name(frame_of(&w, 0, 0)), "coro");
        assert_string_equal(uw_frame_name(frame_of(&w, 0, base)), "Handle._run");
        assert_string_equal(uw_frame_name(frame_of(&w, 0, base + 1)), "main");
        assert_int_equal(frame_of(&w, 0, base)->addr, f1);
    }
    walk_end(&w);
}

static void test_eval_prologue(void **state)
{
    (void)state;
    for (int minor = 11; minor <= 12; minor++)
        for (int which = 0; which < 5; which++)
            prologue_walk(minor, which);
}

/* Garbage previous pointer: the frames before it are kept. */
static void test_garbage_previous(void **state)
{
    walk w;
    uint64_t interp, code, f;

    (void)state;
    fp_init(&w.fp, 12);
    interp = fp_runtime(&w.fp);
    code = fp_code(&w.fp, "g", "/g.py", 1, lines_abc, 4);
    f = fp_frame(&w.fp, code, 0xdead0000beef0ull, 0, 1);
    f = fp_frame(&w.fp, code, f, 0, 2);
    fp_thread(&w.fp, interp, 1, f);
    walk_start(&w);
    assert_int_equal(uw_unwind_threads(w.u, &w.s), 0);
    assert_int_equal(w.s.threads[0].n_frames, 2);
    assert_int_equal(w.s.threads[0].truncated, UW_ERR_READ_FAULT);
    walk_end(&w);
}

/* Impossible owner, non-code object, unreadable code. */
static void test_bad_frames(void **state)
{
    walk w;
    uint64_t interp, code, bad, f1, f2, f3;

    (void)state;
    fp_init(&w.fp, 13);
    interp = fp_runtime(&w.fp);
    code = fp_code(&w.fp, "ok", "/ok.py", 1, lines_abc, 4);
    f1 = fp_frame(&w.fp, code, 0, 0, 1);
    fp_put8(&w.fp, f1 + (uint64_t)w.fp.l->frame_owner, 0x7f); /* stale byte */
    f1 = fp_frame(&w.fp, code, f1, 0, 1);
    fp_thread(&w.fp, interp, 1, f1);
    bad = fp_code(&w.fp, "notcode", "/x.py", 1, lines_abc, 4);
    fp_put64(&w.fp, bad + 8, FP_STR_TYPE);
    f2 = fp_frame(&w.fp, bad, 0, 0, 1);
    f2 = fp_frame(&w.fp, code, f2, 0, 1);
    fp_thread(&w.fp, interp, 2, f2);
    f3 = fp_frame(&w.fp, 0xfeed00000000ull, 0, 0, 1);
    f3 = fp_frame(&w.fp, code, f3, 0, 1);
    fp_thread(&w.fp, interp, 3, f3);
    walk_start(&w);
    assert_int_equal(uw_unwind_threads(w.u, &w.s), 0);
    assert_int_equal(w.s.n_threads, 3);
    /* newest first: thread 3, 2, 1 */
    assert_int_equal(w.s.threads[0].truncated, UW_ERR_READ_FAULT);
    assert_int_equal(w.s.threads[0].n_frames, 1);
    assert_int_equal(w.s.threads[1].truncated, UW_ERR_BAD_CODE);
    assert_int_equal(w.s.threads[1].n_frames, 1);
    assert_int_equal(w.s.threads[2].truncated, UW_ERR_BAD_FRAME);
    assert_int_equal(w.s.threads[2].n_frames, 1);
    walk_end(&w);
}

/* Entry frames (owner C stack), frames with no code and an incomplete
 * newest frame are hidden; generator frames are shown and flagged.  An
 * incomplete frame under another one cannot exist (a frame with a callee
 * has run): it marks the walk torn. */
static void test_hidden_frames(void **state)
{
    walk w;
    uint64_t interp, code, code_ft, f, base;
    const uw_layout *l;

    (void)state;
    fp_init(&w.fp, 12);
    l = w.fp.l;
    interp = fp_runtime(&w.fp);
    code = fp_code(&w.fp, "shown", "/s.py", 1, lines_abc, 4);
    code_ft = fp_code(&w.fp, "Klass.__init__", "/s.py", 1, lines_abc, 4);
    fp_put32(&w.fp, code_ft + (uint64_t)l->code_firsttraceable, 2);
    f = fp_frame(&w.fp, code, 0, l->owner_thread, 1);
    f = fp_frame(&w.fp, code, f, l->owner_cstack, 0);        /* trampoline */
    f = fp_frame(&w.fp, 0, f, l->owner_thread, 0);           /* no code */
    base = fp_frame(&w.fp, code, f, l->owner_generator, 0);  /* generator */
    f = fp_frame(&w.fp, code_ft, base, l->owner_thread, -1); /* just pushed */
    fp_thread(&w.fp, interp, 1, f);
    walk_start(&w);
    assert_int_equal(uw_unwind_threads(w.u, &w.s), 0);
    assert_int_equal(w.s.threads[0].truncated, 0);
    assert_int_equal(w.s.threads[0].n_frames, 2);
    assert_true(frame_of(&w, 0, 0)->flags & UW_FRAME_GENERATOR);
    assert_int_equal(frame_of(&w, 0, 0)->line, 10);
    assert_false(frame_of(&w, 0, 1)->flags & UW_FRAME_GENERATOR);
    walk_end(&w);

    /* the same, with an incomplete frame under the newest one */
    fp_init(&w.fp, 12);
    l = w.fp.l;
    interp = fp_runtime(&w.fp);
    code = fp_code(&w.fp, "shown", "/s.py", 1, lines_abc, 4);
    code_ft = fp_code(&w.fp, "Klass.__init__", "/s.py", 1, lines_abc, 4);
    fp_put32(&w.fp, code_ft + (uint64_t)l->code_firsttraceable, 2);
    f = fp_frame(&w.fp, code, 0, l->owner_thread, 1);
    f = fp_frame(&w.fp, code_ft, f, l->owner_thread, 1); /* incomplete, yet a caller */
    f = fp_frame(&w.fp, code, f, l->owner_thread, 2);
    fp_thread(&w.fp, interp, 1, f);
    walk_start(&w);
    assert_int_equal(uw_unwind_threads(w.u, &w.s), 0);
    assert_int_equal(w.s.threads[0].truncated, UW_ERR_INCOMPLETE);
    walk_end(&w);

    /* ... except the init shim (3.13+: name and file "__init__"), which a
     * specialised call pushes between a caller and the Python __init__ it
     * calls, and which is not at its first instruction while __init__
     * runs: hidden, the walk whole.  Found live (still scenario `init`):
     * the walk was cut and the running Task skipped. */
    fp_init(&w.fp, 13);
    l = w.fp.l;
    interp = fp_runtime(&w.fp);
    code = fp_code(&w.fp, "shown", "/s.py", 1, lines_abc, 4);
    code_ft = fp_code(&w.fp, "__init__", "__init__", 1, lines_abc, 4);
    fp_put32(&w.fp, code_ft + (uint64_t)l->code_firsttraceable, 2);
    base = fp_code(&w.fp, "Klass.__init__", "/s.py", 1, lines_abc, 4);
    f = fp_frame(&w.fp, code, 0, l->owner_thread, 1);
    f = fp_frame(&w.fp, code_ft, f, l->owner_thread, 0); /* the shim, not yet run */
    f = fp_frame(&w.fp, base, f, l->owner_thread, 2);
    fp_thread(&w.fp, interp, 1, f);
    walk_start(&w);
    assert_int_equal(uw_unwind_threads(w.u, &w.s), 0);
    assert_int_equal(w.s.threads[0].truncated, 0);
    assert_int_equal(w.s.threads[0].n_frames, 2);
    assert_string_equal(uw_frame_name(frame_of(&w, 0, 0)), "Klass.__init__");
    assert_string_equal(uw_frame_name(frame_of(&w, 0, 1)), "shown");
    walk_end(&w);
}

/* A code object freed and another allocated at the same address must not
 * be served from the cache. */
static void test_stale_code(void **state)
{
    walk w;
    uint64_t interp, code, other, f;
    const uw_layout *l;
    uint8_t *p, *q;

    (void)state;
    fp_init(&w.fp, 13);
    l = w.fp.l;
    interp = fp_runtime(&w.fp);
    code = fp_code(&w.fp, "before", "/a.py", 1, lines_abc, 4);
    other = fp_code(&w.fp, "after", "/b.py", 20, lines_abc, 4);
    f = fp_frame(&w.fp, code, 0, 0, 1);
    fp_thread(&w.fp, interp, 1, f);
    walk_start(&w);
    assert_int_equal(uw_unwind_threads(w.u, &w.s), 0);
    assert_string_equal(uw_frame_name(frame_of(&w, 0, 0)), "before");
    /* reuse: copy the other code object over the first one */
    p = fp_ptr(&w.fp, code, (size_t)l->code_size);
    q = fp_ptr(&w.fp, other, (size_t)l->code_size);
    memcpy(p, q, (size_t)l->code_size);
    assert_int_equal(uw_unwind_threads(w.u, &w.s), 0);
    assert_string_equal(uw_frame_name(frame_of(&w, 0, 0)), "after");
    assert_string_equal(uw_frame_file(frame_of(&w, 0, 0)), "/b.py");
    assert_int_equal(uw_unwinder_cache(w.u)->reloads, 1);
    walk_end(&w);
}

/* call_site.c: the split caller's instruction judged from its code.  A
 * code object of one line whose units are a unit before (pad), then
 * `x.<name>(<args>)` as the version compiles it (fp_code_call), a frame
 * standing at the call moved by off units. */
typedef struct call_case {
    fp_call call;
    int off;
    int want;
} call_case;

/* Build, in w (initialised for its version), _run_once's code making the
 * call of c; *ip is where a frame making that call stands, moved by
 * c->off units. */
static uint64_t call_site_code(walk *w, const call_case *c, uint64_t *ip)
{
    int64_t at;
    uint64_t code = fp_code_call(&w->fp, "BaseEventLoop._run_once", "/py/asyncio/base_events.py",
                                 10, &c->call, &at);

    *ip = code + (uint64_t)w->fp.l->code_adaptive + 2 * (uint64_t)(at + c->off);
    return code;
}

static void call_site_case(int minor, const call_case *c)
{
    walk w;
    uint64_t interp, code, f, ip, calls;

    fp_init(&w.fp, minor);
    interp = fp_runtime(&w.fp);
    code = call_site_code(&w, c, &ip);
    f = fp_frame(&w.fp, code, 0, 0, 0);
    fp_put64(&w.fp, f + (uint64_t)w.fp.l->frame_instr, ip);
    fp_thread(&w.fp, interp, 1, f);
    walk_start(&w);
    assert_int_equal(uw_unwind_threads(w.u, &w.s), 0);
    if (uw__split_call_site(w.u, code, ip) != c->want)
        fail_msg("3.%d: %s(%d args) method %d spec %d pad_ext %d off %d: want %d", minor,
                 c->call.method, c->call.args, c->call.method_bit, c->call.spec, c->call.pad_ext,
                 c->off, c->want);
    /* the verdict is kept: asked again, nothing is read */
    calls = w.fp.reader.calls;
    assert_int_equal(uw__split_call_site(w.u, code, ip), c->want);
    assert_int_equal(w.fp.reader.calls, calls);
    walk_end(&w);
}

static void test_split_call_site(void **state)
{
    static const call_case cases[] = {
        {{"_run", 0, 1, 0, 0, 0}, 0, 1},    /* handle._run() */
        {{"_run", 0, 1, 1, 0, 0}, 0, 1},    /* specialized */
        {{"popleft", 0, 1, 0, 0, 0}, 0, 0}, /* self._ready.popleft() */
        {{"popleft", 0, 1, 1, 0, 0}, 0, 0}, /* specialized */
        {{"_run", 1, 1, 0, 0, 0}, 0, 0},    /* an argument */
        {{"select", 1, 1, 0, 0, 0}, 0, 0},  /* self._selector.select(timeout) */
        {{"_run", 0, 1, 0, 1, 0}, 0, 0},    /* the name's index widened */
        {{"_run", 0, 1, 0, 0, 0}, -1, 0},   /* a unit before the call's place */
        {{"_run", 0, 1, 0, 0, 0}, 1, 0},    /* a unit after it */
        {{"_runx", 0, 1, 0, 0, 0}, 0, 0},   /* another name */
        {{"_run", 0, 1, 0, 0, 100}, 0, 1},  /* a name far in co_names */
    };
    (void)state;
    for (int minor = 11; minor <= 15; minor++) {
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
            call_site_case(minor, &cases[i]);
        if (minor >= 12) { /* an attribute load, not a method's */
            const call_case attr = {{"_run", 0, 0, 0, 0, 0}, 0, 0};
            call_site_case(minor, &attr);
        }
    }
}

/* The Task walk's hooks as a loop thread past UW_EPOCH_THREADS has
 * them: no bracket, the split at the Handle._run frame, the roles of
 * Handle._run and _run_once by name. */
static uint64_t no_bracket(void *ctx, uint64_t tstate, uint64_t *tag)
{
    (void)ctx;
    (void)tstate;
    *tag = 0;
    return 0;
}

static int code_role_by_name(void *ctx, const uw_code_info *code)
{
    (void)ctx;
    if (strcmp(code->qualname, "Handle._run") == 0)
        return UW__ROLE_SPLIT;
    return strcmp(code->qualname, "BaseEventLoop._run_once") == 0 ? UW__ROLE_LOOP : 0;
}

static int64_t split_at_handle(void *ctx, const uw_frame *f, size_t n)
{
    (void)ctx;
    for (size_t i = 0; i < n; i++)
        if (strcmp(uw_frame_name(&f[i]), "Handle._run") == 0)
            return (int64_t)i;
    return -1;
}

/* A walk without a bracket (recheck.c, rule
 * recheck_unbracketed_split_site): _run_once, the loop's own code, making
 * the call `callee` (`select` or `_run`), under a frame of code `top`
 * (Handle._run, or a select frame).  Handle._run over _run_once at its
 * select call, and a select frame over _run_once at its _run() call, are
 * what two copies torn alike show once the handle returned and the
 * select frame took its slot (or the other way round): the memory here
 * holds that stack for good, and both reads agree on it, yet it never was
 * one instant's.  Handle._run over _run_once at its _run() call is kept,
 * with its split; a select frame over _run_once at its select call too. */
static void unbracketed_split_args(int minor, const char *callee, int args, const char *top_name,
                                   int want_cut)
{
    const call_case c = {{callee, args, 1, 0, 0, 0}, 0, 0};
    const uw__walk_hooks hooks = {NULL, no_bracket, split_at_handle, code_role_by_name};
    const int is_handle = strcmp(top_name, "Handle._run") == 0;
    walk w;
    const int lines[4] = {80, 81, 82, 83};
    uint64_t interp, run_once, top_code, caller, top, ip;
    const uw_thread_sample *th;

    fp_init(&w.fp, minor);
    interp = fp_runtime(&w.fp);
    run_once = call_site_code(&w, &c, &ip);
    top_code = fp_code(&w.fp, top_name, is_handle ? "/py/asyncio/events.py" : "/py/selectors.py",
                       80, lines, 4);
    caller = fp_frame(&w.fp, run_once, 0, w.fp.l->owner_thread, 0);
    fp_put64(&w.fp, caller + (uint64_t)w.fp.l->frame_instr, ip);
    top = fp_frame(&w.fp, top_code, caller, w.fp.l->owner_thread, 2);
    fp_thread(&w.fp, interp, 1, top);
    walk_start(&w);
    uw__unwinder_set_hooks(w.u, &hooks);
    assert_int_equal(uw_unwind_threads(w.u, &w.s), 0);
    assert_int_equal(w.s.n_threads, 1);
    th = &w.s.threads[0];
    if (want_cut) {
        if (th->truncated != UW_ERR_INCOMPLETE)
            fail_msg("3.%d: %s over _run_once at %s() kept (truncated %d)", minor, top_name, callee,
                     th->truncated);
    } else {
        assert_int_equal(th->truncated, 0);
        assert_int_equal(th->n_frames, 2);
        assert_int_equal(th->split, is_handle ? 0 : -1);
        assert_string_equal(uw_frame_name(frame_of(&w, 0, 0)), top_name);
    }
    walk_end(&w);
}

/* _run_once's calls as asyncio makes them: select with its timeout, the
 * others without arguments. */
static void unbracketed_split(int minor, const char *callee, const char *top_name, int want_cut)
{
    unbracketed_split_args(minor, callee, strcmp(callee, "select") == 0, top_name, want_cut);
}

/* The select frame left over _run_once moved on to its popleft (rule
 * recheck_unbracketed_callee): the same tear at another call.  A frame
 * at `x.M()` under M's frame is kept whatever M is (a zero-argument
 * select here); under a frame of another name it is not. */
static void test_unbracketed_callee(void **state)
{
    (void)state;
    for (int minor = 11; minor <= 15; minor++) {
        unbracketed_split(minor, "popleft", "EpollSelector.select", 1);
        unbracketed_split(minor, "popleft", "Handle._run", 1);
        unbracketed_split_args(minor, "select", 0, "EpollSelector.select", 0);
        unbracketed_split_args(minor, "select", 0, "Handle.select_more", 1);
        unbracketed_split(minor, "_process_events", "Loop._process_events", 0);
    }
}

static void test_unbracketed_split_site(void **state)
{
    (void)state;
    for (int minor = 11; minor <= 15; minor++) {
        unbracketed_split(minor, "select", "Handle._run", 1);
        unbracketed_split(minor, "_run", "EpollSelector.select", 1);
        unbracketed_split(minor, "_run", "Handle._run", 0);
        unbracketed_split(minor, "select", "EpollSelector.select", 0);
    }
}

/* A function that returned and the next call of the same code built in
 * the same slot, while the walk read the stack (rule
 * recheck_innermost_ip): leaf (line 16) is read, then main has moved on
 * (line 12) and called leaf again (now at line 15, same code, previous
 * and owner) before main is read.  The walk saw leaf at 16 under main at
 * 12, a stack that never was; only the innermost frame's instruction
 * pointer tells, so the re-read must find it moved and the walk be taken
 * again: leaf at 15 under main at 12.  Each frame read alone (the reader
 * below has no readv), the change made just before the first read of
 * main's frame that follows a read of leaf's.  main keeps the previous
 * frame it had: on 3.15 that is the thread's embedded base frame
 * (fp_thread), and a main rewritten with none would stand unlinked from
 * it, a walk that can never end at the thread's first frame. */
static const int ip_lines[8] = {10, 11, 12, 13, 14, 15, 16, 17};
static uint64_t ip_leaf, ip_main, ip_c_leaf, ip_c_main;
static int ip_seen_leaf, ip_done;
static walk *ip_w;
static const uw_reader_ops *ip_real;

static int ip_read(void *ctx, uint64_t addr, void *dst, size_t len)
{
    const uw_layout *l = ip_w->fp.l;

    if (addr <= ip_leaf && ip_leaf < addr + len)
        ip_seen_leaf = 1;
    else if (!ip_done && ip_seen_leaf && addr <= ip_main && ip_main < addr + len) {
        uint64_t prev; /* 0, or (3.15) the thread's embedded base frame */
        memcpy(&prev, fp_ptr(&ip_w->fp, ip_main + (uint64_t)l->frame_previous, 8), 8);
        fp_frame_at(&ip_w->fp, ip_main, ip_c_main, prev, l->owner_thread, 2);
        fp_frame_at(&ip_w->fp, ip_leaf, ip_c_leaf, ip_main, l->owner_thread, 5);
        ip_done = 1;
    }
    return ip_real->read(ctx, addr, dst, len);
}

static const uw_reader_ops ip_ops = {ip_read, NULL, NULL, NULL};

static void test_recheck_innermost_ip(void **state)
{
    (void)state;
    for (int minor = 11; minor <= 15; minor++) {
        walk w;
        uint64_t interp;
        const uw_thread_sample *th;
        int rc;

        fp_init(&w.fp, minor);
        interp = fp_runtime(&w.fp);
        ip_c_main = fp_code(&w.fp, "main", "/app/main.py", 10, ip_lines, 8);
        ip_c_leaf = fp_code(&w.fp, "leaf", "/app/leaf.py", 10, ip_lines, 8);
        ip_main = fp_frame(&w.fp, ip_c_main, 0, w.fp.l->owner_thread, 1);
        ip_leaf = fp_frame(&w.fp, ip_c_leaf, ip_main, w.fp.l->owner_thread, 6);
        fp_thread(&w.fp, interp, 1, ip_leaf);
        walk_start(&w);
        ip_w = &w;
        ip_seen_leaf = ip_done = 0;
        ip_real = w.fp.reader.ops;
        w.fp.reader.ops = &ip_ops;
        rc = uw_unwind_threads(w.u, &w.s);
        w.fp.reader.ops = ip_real;
        if (rc != 0)
            fail_msg("3.%d: the walk failed: %s", minor, uw_strerror(rc));
        assert_true(ip_done);
        assert_int_equal(w.s.n_threads, 1);
        th = &w.s.threads[0];
        assert_int_equal(th->n_frames, 2);
        if (frame_of(&w, 0, 0)->line == 16 && frame_of(&w, 0, 1)->line == 12)
            fail_msg("3.%d: leaf at 16 under main at 12, a stack that never was", minor);
        if (th->truncated != 0)
            fail_msg("3.%d: the walk taken again is %s", minor, uw_strerror(th->truncated));
        assert_int_equal(frame_of(&w, 0, 0)->line, 15);
        assert_int_equal(frame_of(&w, 0, 1)->line, 12);
        walk_end(&w);
    }
}

/* 3.14+: the interpreter counts code objects freed.  While the counter
 * reads what it read when an entry was validated, the entry is taken
 * without reading the code object: shown here by replacing the object's
 * bytes without counting (no interpreter does that), which the walk does
 * not see.  Counted, the next walk reads it again and reloads. */
typedef struct gen_rig {
    walk w;
    uint64_t code, other, gen_addr;
} gen_rig;

static void gen_rig_open(gen_rig *g, int minor)
{
    uint64_t interp, f;

    fp_init(&g->w.fp, minor);
    interp = fp_runtime(&g->w.fp);
    assert_int_not_equal(g->w.fp.l->interp_code_generation, UW_ABSENT);
    g->gen_addr = interp + (uint64_t)g->w.fp.l->interp_code_generation;
    g->code = fp_code(&g->w.fp, "before", "/a.py", 1, lines_abc, 4);
    g->other = fp_code(&g->w.fp, "after", "/b.py", 20, lines_abc, 4);
    f = fp_frame(&g->w.fp, g->code, 0, 0, 1);
    fp_thread(&g->w.fp, interp, 1, f);
}

/* The code object at g->code becomes a copy of g->other. */
static void gen_rig_reuse(gen_rig *g)
{
    const size_t cs = (size_t)g->w.fp.l->code_size;
    memcpy(fp_ptr(&g->w.fp, g->code, cs), fp_ptr(&g->w.fp, g->other, cs), cs);
}

static void code_generation(int minor)
{
    gen_rig g;

    gen_rig_open(&g, minor);
    walk_start(&g.w);
    assert_int_equal(uw_unwind_threads(g.w.u, &g.w.s), 0);
    assert_string_equal(uw_frame_name(frame_of(&g.w, 0, 0)), "before");
    gen_rig_reuse(&g);
    /* not counted: the entry is taken as it is */
    assert_int_equal(uw_unwind_threads(g.w.u, &g.w.s), 0);
    assert_string_equal(uw_frame_name(frame_of(&g.w, 0, 0)), "before");
    assert_int_equal(uw_unwinder_cache(g.w.u)->reloads, 0);
    /* counted: read again */
    fp_put64(&g.w.fp, g.gen_addr, 1);
    assert_int_equal(uw_unwind_threads(g.w.u, &g.w.s), 0);
    assert_string_equal(uw_frame_name(frame_of(&g.w, 0, 0)), "after");
    assert_string_equal(uw_frame_file(frame_of(&g.w, 0, 0)), "/b.py");
    assert_int_equal(uw_unwinder_cache(g.w.u)->reloads, 1);
    assert_int_equal(g.w.s.threads[0].truncated, 0);
    walk_end(&g.w);
}

static void test_code_generation_314(void **state)
{
    (void)state;
    code_generation(14);
}

static void test_code_generation_315(void **state)
{
    (void)state;
    code_generation(15);
}

/* A code object freed while the walk reads: the counter moves after the
 * walk's first read (and the object is reused then).  The walk took the
 * entry as validated, so it must not stand: the counter read after its
 * last read differs, the walk is retried, and the retry reads the code
 * object again. */
typedef struct gen_hook {
    uw_reader r;
    gen_rig *g;
    int armed;
} gen_hook;

static void gen_hook_fire(gen_hook *h, const uw_iov *iov, size_t n)
{
    size_t i;
    for (i = 0; i < n && h->armed; i++) {
        if (iov[i].addr == h->g->gen_addr) {
            h->armed = 0;
            fp_put64(&h->g->w.fp, h->g->gen_addr, 7);
            gen_rig_reuse(h->g);
        }
    }
}

static int gen_hook_read(void *ctx, uint64_t addr, void *dst, size_t len)
{
    gen_hook *h = ctx;
    uw_iov one = {addr, dst, len, 0};
    int rc = uw_read(&h->g->w.fp.reader, addr, dst, len);
    gen_hook_fire(h, &one, 1);
    return rc;
}

static int gen_hook_readv(void *ctx, uw_iov *iov, size_t n, const size_t *end, size_t n_groups,
                          uint64_t *calls)
{
    gen_hook *h = ctx;
    int rc = uw_readv_groups(&h->g->w.fp.reader, iov, n, end, n_groups);
    *calls = 1;
    gen_hook_fire(h, iov, n);
    return rc;
}

static const uw_reader_ops gen_hook_ops = {gen_hook_read, gen_hook_readv, NULL, NULL};

static void code_generation_moves(int minor)
{
    gen_rig g;
    gen_hook h;
    uw_unwinder *u;
    uw_sample s;

    gen_rig_open(&g, minor);
    h.g = &g;
    h.armed = 0;
    uw_reader_init(&h.r, &gen_hook_ops, &h);
    assert_int_equal(uw_unwinder_new(&h.r, &g.w.fp.target, &u), 0);
    uw_sample_init(&s);
    assert_int_equal(uw_unwind_threads(u, &s), 0);
    assert_string_equal(uw_frame_name(&s.frames[s.threads[0].first_frame]), "before");
    h.armed = 1;
    assert_int_equal(uw_unwind_threads(u, &s), 0);
    assert_int_equal(h.armed, 0);
    assert_int_equal(s.threads[0].truncated, 0);
    assert_true(s.threads[0].retries >= 1);
    assert_string_equal(uw_frame_name(&s.frames[s.threads[0].first_frame]), "after");
    assert_int_equal(uw_unwinder_cache(u)->reloads, 1);
    uw_sample_free(&s);
    uw_unwinder_free(u);
    fp_free(&g.w.fp);
}

static void test_code_generation_moves_314(void **state)
{
    (void)state;
    code_generation_moves(14);
}

static void test_code_generation_moves_315(void **state)
{
    (void)state;
    code_generation_moves(15);
}

static void string_bound(size_t n, int want_truncated)
{
    walk w;
    uint64_t interp, code, f;
    char name[UW_LIMIT_STRING_CHARS + 8];

    fp_init(&w.fp, 12);
    memset(name, 'q', n);
    name[n] = '\0';
    interp = fp_runtime(&w.fp);
    code = fp_code(&w.fp, name, "/s.py", 1, lines_abc, 4);
    f = fp_frame(&w.fp, code, 0, 0, 1);
    fp_thread(&w.fp, interp, 1, f);
    walk_start(&w);
    assert_int_equal(uw_unwind_threads(w.u, &w.s), 0);
    assert_int_equal(w.s.threads[0].n_frames, 1);
    assert_int_equal(strlen(uw_frame_name(frame_of(&w, 0, 0))),
                     n > UW_LIMIT_STRING_CHARS ? UW_LIMIT_STRING_CHARS : n);
    assert_int_equal((frame_of(&w, 0, 0)->flags & UW_FRAME_NAME_TRUNCATED) != 0, want_truncated);
    walk_end(&w);
}

static void test_limit_string(void **state)
{
    (void)state;
    string_bound(UW_LIMIT_STRING_CHARS - 1, 0);
    string_bound(UW_LIMIT_STRING_CHARS, 0);
    string_bound(UW_LIMIT_STRING_CHARS + 1, 1);
}

static void linetable_bound(size_t len, int want_trunc)
{
    walk w;
    uint64_t interp, code, lt, f;
    uint8_t *tab = calloc(1, len + 1);
    size_t i;

    fp_init(&w.fp, 11);
    interp = fp_runtime(&w.fp);
    /* no-location entries (0xf8), one byte each */
    for (i = 0; i < len; i++)
        tab[i] = 0xf8;
    tab[0] = 0x80 | (13 << 3); /* unit 0: line delta ... */
    tab[1] = 4;                /* ... +2 */
    code = fp_code(&w.fp, "big", "/b.py", 5, lines_abc, 1);
    lt = fp_bytes(&w.fp, tab, len);
    fp_put64(&w.fp, code + (uint64_t)w.fp.l->code_linetable, lt);
    f = fp_frame(&w.fp, code, 0, 0, 0);
    fp_thread(&w.fp, interp, 1, f);
    walk_start(&w);
    assert_int_equal(uw_unwind_threads(w.u, &w.s), 0);
    assert_int_equal(w.s.threads[0].truncated, want_trunc);
    if (want_trunc == 0) {
        assert_int_equal(w.s.threads[0].n_frames, 1);
        assert_int_equal(frame_of(&w, 0, 0)->line, 7);
    } else {
        assert_int_equal(w.s.threads[0].n_frames, 0);
    }
    free(tab);
    walk_end(&w);
}

static void test_limit_linetable(void **state)
{
    (void)state;
    linetable_bound(UW_LIMIT_LINETABLE_BYTES - 1, 0);
    linetable_bound(UW_LIMIT_LINETABLE_BYTES, 0);
    linetable_bound(UW_LIMIT_LINETABLE_BYTES + 1, UW_ERR_LIMIT_LINETABLE);
}

/* Frames spread over chains of data-stack chunks: more chunks than are
 * copied (UW_LIMIT_CHUNKS) and a chunk whose size is garbage still give the
 * exact stack; the bound only changes how frames are read. */
static void chunks_walk(size_t n_chunks, int garbage_size)
{
    walk w;
    uint64_t interp, code, prev_chunk = 0, prev_frame = 0, chunk = 0, top = 0, ts;
    const uw_layout *l;
    size_t i;

    fp_init(&w.fp, 13);
    l = w.fp.l;
    interp = fp_runtime(&w.fp);
    code = fp_code(&w.fp, "deep", "/d.py", 1, lines_abc, 4);
    for (i = 0; i < n_chunks; i++) {
        uint64_t fr;
        chunk = fp_alloc(&w.fp, UW_DATA_STACK_CHUNK_SIZE);
        fp_put64(&w.fp, chunk + (uint64_t)l->chunk_previous, prev_chunk);
        fp_put64(&w.fp, chunk + (uint64_t)l->chunk_size,
                 garbage_size && i == 0 ? 0xffffffffffull : UW_DATA_STACK_CHUNK_SIZE);
        fr = chunk + (uint64_t)l->chunk_data + 8;
        fp_frame_at(&w.fp, fr, code, prev_frame, l->owner_thread, 1 + (int64_t)(i % 3));
        prev_frame = fr;
        prev_chunk = chunk;
        top = fr + (uint64_t)l->frame_size + 16;
    }
    ts = fp_thread(&w.fp, interp, 1, prev_frame);
    fp_put64(&w.fp, ts + (uint64_t)l->tstate_datastack_chunk, chunk);
    fp_put64(&w.fp, ts + (uint64_t)l->tstate_datastack_top, top);
    walk_start(&w);
    for (int k = 0; k < 2; k++) {
        assert_int_equal(uw_unwind_threads(w.u, &w.s), 0);
        assert_int_equal(w.s.threads[0].truncated, 0);
        assert_int_equal(w.s.threads[0].n_frames, n_chunks);
        for (i = 0; i < n_chunks; i++)
            assert_int_equal(frame_of(&w, 0, i)->line, lines_abc[1 + (n_chunks - 1 - i) % 3]);
    }
    walk_end(&w);
}

static void test_limit_chunks(void **state)
{
    (void)state;
    chunks_walk(UW_LIMIT_CHUNKS - 1, 0);
    chunks_walk(UW_LIMIT_CHUNKS, 0);
    chunks_walk(UW_LIMIT_CHUNKS + 1, 0);
    chunks_walk(3, 1);
}

/* uw__unwind_chain with a depth limit (used for one frame per coroutine). */
static void test_max_depth(void **state)
{
    walk w;
    uint64_t interp, code, f;
    uw_thread_sample *th;

    (void)state;
    fp_init(&w.fp, 12);
    interp = fp_runtime(&w.fp);
    code = fp_code(&w.fp, "c", "/c.py", 1, lines_abc, 4);
    f = chain(&w, 5, code);
    fp_thread(&w.fp, interp, 1, f);
    walk_start(&w);
    uw_unwinder_set_max_depth(w.u, 3);
    assert_int_equal(uw_unwind_threads(w.u, &w.s), 0);
    assert_int_equal(w.s.threads[0].n_frames, 3);
    assert_int_equal(w.s.threads[0].truncated, UW_ERR_DEPTH);
    uw_unwinder_set_max_depth(w.u, 5);
    assert_int_equal(uw_unwind_threads(w.u, &w.s), 0);
    assert_int_equal(w.s.threads[0].n_frames, 5);
    assert_int_equal(w.s.threads[0].truncated, 0);
    assert_int_equal(uw_sample_add_thread(&w.s, 0, 0, 0, &th), 0);
    assert_int_equal(uw__unwind_chain(w.u, f, 1, &w.s, th), 0);
    assert_int_equal(th->n_frames, 1);
    assert_int_equal(th->truncated, UW_ERR_DEPTH);
    walk_end(&w);
}

/* The layout is checked at attach against the buffers the thread walk
 * reads into: a table whose frame, thread state or a thread-state field
 * would not fit is refused with an error, before anything is read. */
static void test_layout_buffers(void **state)
{
    int minor;

    (void)state;
    for (minor = 11; minor <= 13; minor++) {
        const uw_layout *orig = uw__layout_for_minor(minor);
        uw_layout l = *orig;
        fake_proc fp;
        uw_target t;
        uw_unwinder *u = NULL;

        fp_init(&fp, minor);
        t = fp.target;
        t.layout = &l;
        assert_int_equal(uw_unwinder_new(&fp.reader, &t, &u), 0);
        uw_unwinder_free(u);
        /* a frame one word past UW_FRAME_BUF */
        l.frame_size = UW_FRAME_BUF + 8;
        l.frame_localsplus = UW_FRAME_BUF;
        assert_int_equal(uw_unwinder_new(&fp.reader, &t, &u), UW_ERR_BAD_LAYOUT);
        /* a thread state past UW_TSTATE_BUF, at the limit, and one field
         * past the bytes copied */
        l = *orig;
        l.tstate_size = UW_TSTATE_BUF + 1;
        assert_int_equal(uw_unwinder_new(&fp.reader, &t, &u), UW_ERR_BAD_LAYOUT);
        if (l.tstate_asyncio_running_loop == UW_ABSENT) {
            l.tstate_size = UW_TSTATE_BUF;
            assert_int_equal(uw_unwinder_new(&fp.reader, &t, &u), 0);
            uw_unwinder_free(u);
        }
        l = *orig;
        l.tstate_dict = UW_TSTATE_BUF - 4;
        assert_int_equal(uw_unwinder_new(&fp.reader, &t, &u), UW_ERR_BAD_LAYOUT);
        fp_free(&fp);
    }
}

/* The process vanishing (runtime unmapped) is an error of the sample. */
static void test_runtime_unreadable(void **state)
{
    walk w;

    (void)state;
    fp_init(&w.fp, 12);
    fp_runtime(&w.fp);
    walk_start(&w);
    fp_unmap(&w.fp, w.fp.runtime);
    assert_int_equal(uw_unwind_threads(w.u, &w.s), UW_ERR_READ_FAULT);
    walk_end(&w);
}

/* A cold walk of n frames that live outside any data-stack chunk (as
 * coroutine frames do), in a process mapped by regions or a page at a
 * time: its calls, every frame checked. */
static uint64_t walk_pages_calls(size_t n, int paged, size_t stride)
{
    walk w;
    uint64_t interp, code, calls, blk, prev;
    size_t i;

    fp_init(&w.fp, 13);
    if (paged)
        fp_use_pages(&w.fp);
    else
        fp_use_vectored(&w.fp);
    interp = fp_runtime(&w.fp);
    code = fp_code(&w.fp, "f", "/f.py", 1, lines_abc, 4);
    /* one block, a frame every `stride` bytes (fp_frame leaves a hole
     * after each) */
    if (stride == 0)
        stride = (size_t)w.fp.l->frame_size + 64;
    blk = fp_alloc(&w.fp, n * stride);
    for (i = 0, prev = 0; i < n; i++) {
        fp_frame_at(&w.fp, blk + i * stride, code, prev, w.fp.l->owner_thread, 1);
        prev = blk + i * stride;
    }
    fp_thread(&w.fp, interp, 1, prev);
    walk_start(&w);
    assert_int_equal(uw_unwind_threads(w.u, &w.s), 0);
    assert_int_equal(w.s.threads[0].truncated, 0);
    assert_int_equal(w.s.threads[0].n_frames, n);
    for (i = 0; i < n; i++)
        assert_string_equal(uw_frame_name(frame_of(&w, 0, i)), "f");
    calls = w.fp.reader.calls;
    walk_end(&w);
    return calls;
}

/* A frame found in no chunk copy nor prefetch is read with its whole page
 * (chunks.c, uw_walk_page_frame), and the frames after it on that page
 * are served: 24 frames made one after the other lie on a few pages, so
 * the walk reads those pages, not 24 frames.  Mapped by regions, a
 * page cannot be read: one failed page read, then a read a frame. */
static void test_walk_pages(void **state)
{
    const size_t n = UW_LIMIT_FRAMES < 24 ? UW_LIMIT_FRAMES : 24;
    const size_t far = UW_LIMIT_FRAMES < UW_WALK_PAGES + 4 ? UW_LIMIT_FRAMES : UW_WALK_PAGES + 4;
    const uint64_t paged = walk_pages_calls(n, 1, 0), regions = walk_pages_calls(n, 0, 0);
    uint64_t far_paged, far_regions;

    (void)state;
    print_message("walk of %zu frames outside chunks: %llu calls paged, %llu by regions\n", n,
                  (unsigned long long)paged, (unsigned long long)regions);
    assert_true(paged + n - UW_WALK_PAGES <= regions);
    /* a frame a page: past UW_WALK_PAGES pages the frames are read as
     * themselves, and the walk is as whole */
    far_paged = walk_pages_calls(far, 1, 4096);
    far_regions = walk_pages_calls(far, 0, 4096);
    print_message("walk of %zu frames a page apart: %llu calls paged, %llu by regions\n", far,
                  (unsigned long long)far_paged, (unsigned long long)far_regions);
    assert_true(far_paged <= far_regions);
}

/* A read budget stops a sample of garbage from reading without end. */
static void test_read_budget(void **state)
{
    walk w;
    uint64_t interp, code;

    (void)state;
    fp_init(&w.fp, 12);
    interp = fp_runtime(&w.fp);
    code = fp_code(&w.fp, "f", "/f.py", 1, lines_abc, 4);
    fp_thread(&w.fp, interp, 1, chain(&w, 100, code));
    walk_start(&w);
    w.fp.reader.budget_calls = 20;
    assert_int_equal(uw_unwind_threads(w.u, &w.s), 0);
    assert_int_equal(w.s.threads[0].truncated, UW_ERR_READ_BUDGET);
    assert_true(w.fp.reader.calls <= 20);
    walk_end(&w);
}

/* --- the walk's retries (UW_THREAD_RETRIES) at -1/0/+1 ------------------- */

/* A reader of the fake process that calls `after` on every piece once it
 * has been read: the tests below change the process between reads. */
typedef struct hooked_reader {
    fake_proc *fp;
    void (*after)(void *ctx, uint64_t addr, size_t len);
    void *ctx;
} hooked_reader;

static int hooked_read(void *ctx, uint64_t addr, void *dst, size_t len)
{
    hooked_reader *h = ctx;
    int rc = uw_read(&h->fp->reader, addr, dst, len);
    h->after(h->ctx, addr, len);
    return rc;
}

static int hooked_readv(void *ctx, uw_iov *iov, size_t n, const size_t *end, size_t n_groups,
                        uint64_t *calls)
{
    hooked_reader *h = ctx;
    int rc = uw_readv_groups(&h->fp->reader, iov, n, end, n_groups);
    size_t i;

    *calls = 1;
    for (i = 0; i < n; i++)
        h->after(h->ctx, iov[i].addr, iov[i].len);
    return rc;
}

static const uw_reader_ops hooked_ops = {hooked_read, hooked_readv, NULL, NULL};

/* A thread whose current-frame pointer moves between the reads of one
 * walk, for its first `torn` walks: each walk begins with a read of the
 * whole thread state (at its address), and while that count is at most
 * `torn` every later read of the pointer flips it between two complete
 * chains, so the walk's re-read finds another pointer (a frame pushed
 * while it was copied) and the walk is torn. */
typedef struct tear_world {
    walk w;
    uw_reader r;
    hooked_reader h;
    uint64_t ts, field, x, y;
    unsigned starts, torn, flips;
} tear_world;

static void tear_after(tear_world *t, uint64_t addr, size_t len)
{
    if (addr == t->ts) {
        t->starts++;
    } else if (t->starts <= t->torn && addr <= t->field && t->field + 8 <= addr + len) {
        uint64_t now = 0;
        assert_int_equal(uw_read(&t->w.fp.reader, t->field, &now, 8), 0);
        fp_put64(&t->w.fp, t->field, now == t->x ? t->y : t->x);
        t->flips++;
    }
}

static void tear_after_cb(void *ctx, uint64_t addr, size_t len)
{
    tear_after(ctx, addr, len);
}

/* A walk torn `torn` times: kept whole, from its last walk, while `torn`
 * is at most its bound of retries (that many made); one more and the
 * walk is reported cut (incomplete) after exactly that many retries,
 * never more.  The bound is UW_THREAD_RETRIES for the sample's walk
 * (uw_unwind_threads) and UW_AGAIN_RETRIES for a thread walked again
 * later in the sample (`again`: uw__unwind_one_thread), after which the
 * sample's walks have their own bound again. */
static void retries_bound(unsigned torn, int want_trunc, int again)
{
    const unsigned bound = again ? UW_AGAIN_RETRIES : UW_THREAD_RETRIES;
    tear_world t;
    uw_unwinder *u;
    uint64_t interp, code_x, code_y;

    memset(&t, 0, sizeof t);
    fp_init(&t.w.fp, 13);
    interp = fp_runtime(&t.w.fp);
    code_x = fp_code(&t.w.fp, "x", "/x.py", 1, lines_abc, 4);
    code_y = fp_code(&t.w.fp, "y", "/y.py", 1, lines_abc, 4);
    t.x = chain(&t.w, 3, code_x);
    t.y = chain(&t.w, 3, code_y);
    t.ts = fp_thread(&t.w.fp, interp, 1, t.x);
    t.field = t.ts + (uint64_t)t.w.fp.l->tstate_current_frame;
    t.torn = torn;
    t.h = (hooked_reader){&t.w.fp, tear_after_cb, &t};
    uw_reader_init(&t.r, &hooked_ops, &t.h);
    assert_int_equal(uw_unwinder_new(&t.r, &t.w.fp.target, &u), 0);
    uw_sample_init(&t.w.s);
    if (again)
        assert_int_equal(uw__unwind_one_thread(u, t.ts, interp, 0, &t.w.s), 0);
    else
        assert_int_equal(uw_unwind_threads(u, &t.w.s), 0);
    assert_int_equal(t.w.s.n_threads, 1);
    assert_int_equal(t.w.s.threads[0].truncated, want_trunc);
    assert_true(t.flips >= (torn < bound + 1 ? torn : bound + 1));
    if (want_trunc == 0) {
        assert_int_equal(t.w.s.threads[0].retries, torn);
        assert_int_equal(t.w.s.threads[0].n_frames, 3);
        assert_int_equal(t.starts, torn + 1);
    } else {
        assert_int_equal(t.w.s.threads[0].retries, bound);
        assert_int_equal(t.starts, bound + 1);
    }
    if (again) { /* the sample's next walk has its own bound back */
        uw_sample_reset(&t.w.s);
        t.starts = 0;
        t.torn = UW_THREAD_RETRIES;
        assert_int_equal(uw_unwind_threads(u, &t.w.s), 0);
        assert_int_equal(t.w.s.threads[0].truncated, 0);
        assert_int_equal(t.w.s.threads[0].retries, UW_THREAD_RETRIES);
    }
    uw_sample_free(&t.w.s);
    uw_unwinder_free(u);
    fp_free(&t.w.fp);
}

static void test_limit_retries(void **state)
{
    (void)state;
    retries_bound(0, 0, 0);
    retries_bound(UW_THREAD_RETRIES - 1, 0, 0);
    retries_bound(UW_THREAD_RETRIES, 0, 0);
    retries_bound(UW_THREAD_RETRIES + 1, UW_ERR_INCOMPLETE, 0);
    retries_bound(UW_THREAD_RETRIES + 5, UW_ERR_INCOMPLETE, 0);
    retries_bound(0, 0, 1);
    retries_bound(UW_AGAIN_RETRIES - 1, 0, 1);
    retries_bound(UW_AGAIN_RETRIES, 0, 1);
    retries_bound(UW_AGAIN_RETRIES + 1, UW_ERR_INCOMPLETE, 1);
}

/* --- the sample's extra walks (UW_SAMPLE_RETRIES) at -1/0/+1 ------------- */

/* Threads enough to ask for more extra walks than the sample has, each
 * at most its own UW_THREAD_RETRIES, and one more that never tears. */
#define SB_THREADS (UW_SAMPLE_RETRIES / UW_THREAD_RETRIES + 2)

/* Threads whose walks tear a set number of times each: a read of a
 * thread's whole state (a walk's start, or the walk before prefetching
 * it) arms it while it has tears left, and the next read of its
 * current-frame pointer on its own then flips the pointer between two
 * complete chains, so the walk's re-read finds another one. */
typedef struct budget_world {
    walk w;
    uw_reader r;
    hooked_reader h;
    uint64_t ts[SB_THREADS], field[SB_THREADS], x[SB_THREADS], y[SB_THREADS];
    unsigned tears[SB_THREADS];
    int armed[SB_THREADS];
} budget_world;

static void budget_after(budget_world *b, uint64_t addr, size_t len)
{
    size_t k;

    for (k = 0; k < SB_THREADS; k++) {
        uint64_t now = 0;
        if (addr == b->ts[k]) {
            b->armed[k] = b->tears[k] > 0;
            continue;
        }
        if (!b->armed[k] || addr > b->field[k] || b->field[k] + 8 > addr + len)
            continue;
        assert_int_equal(uw_read(&b->w.fp.reader, b->field[k], &now, 8), 0);
        fp_put64(&b->w.fp, b->field[k], now == b->x[k] ? b->y[k] : b->x[k]);
        b->armed[k] = 0;
        b->tears[k]--;
    }
}

static void budget_after_cb(void *ctx, uint64_t addr, size_t len)
{
    budget_after(ctx, addr, len);
}

/* One sample of SB_THREADS threads whose walks tear `tears` times in all,
 * the first threads walked taking as many as they may (UW_THREAD_RETRIES
 * each): every tear is retried while the sample has extra walks left, and
 * no more.  With `tears` at most UW_SAMPLE_RETRIES every walk ends whole;
 * one more and the thread that meets it keeps its walk cut (incomplete),
 * having made only the retries left to it.  Either way the threads' retries
 * add up to min(tears, UW_SAMPLE_RETRIES), and the next sample has its
 * extra walks back. */
static void sample_retries_bound(unsigned tears)
{
    budget_world b;
    uw_unwinder *u;
    uint64_t interp, code_x, code_y;
    unsigned want[SB_THREADS], left = tears, budget = UW_SAMPLE_RETRIES, sum = 0;
    size_t k, j;

    memset(&b, 0, sizeof b);
    fp_init(&b.w.fp, 13);
    interp = fp_runtime(&b.w.fp);
    code_x = fp_code(&b.w.fp, "x", "/x.py", 1, lines_abc, 4);
    code_y = fp_code(&b.w.fp, "y", "/y.py", 1, lines_abc, 4);
    for (k = 0; k < SB_THREADS; k++) {
        b.x[k] = chain(&b.w, 3, code_x);
        b.y[k] = chain(&b.w, 3, code_y);
        b.ts[k] = fp_thread(&b.w.fp, interp, k + 1, b.x[k]);
        b.field[k] = b.ts[k] + (uint64_t)b.w.fp.l->tstate_current_frame;
    }
    b.h = (hooked_reader){&b.w.fp, budget_after_cb, &b};
    uw_reader_init(&b.r, &hooked_ops, &b.h);
    assert_int_equal(uw_unwinder_new(&b.r, &b.w.fp.target, &u), 0);
    uw_sample_init(&b.w.s);
    /* the threads are walked newest first: give the tears in that order */
    for (j = 0; j < SB_THREADS; j++) {
        k = SB_THREADS - 1 - j;
        want[j] = left < UW_THREAD_RETRIES ? left : UW_THREAD_RETRIES;
        left -= want[j];
        b.tears[k] = want[j];
    }
    assert_int_equal(left, 0);
    assert_int_equal(uw_unwind_threads(u, &b.w.s), 0);
    assert_int_equal(b.w.s.n_threads, SB_THREADS);
    for (j = 0; j < SB_THREADS; j++) {
        const uw_thread_sample *th = &b.w.s.threads[j];
        unsigned may = want[j] < budget ? want[j] : budget;
        assert_int_equal(th->tstate, b.ts[SB_THREADS - 1 - j]);
        assert_int_equal(th->retries, may);
        assert_int_equal(th->truncated, may < want[j] ? UW_ERR_INCOMPLETE : 0);
        budget -= may;
        sum += th->retries;
    }
    assert_int_equal(sum, tears < UW_SAMPLE_RETRIES ? tears : UW_SAMPLE_RETRIES);
    assert_int_equal(b.w.s.threads[SB_THREADS - 1].retries, 0); /* it never tore */
    /* the next sample: its own extra walks, for every tear left */
    uw_sample_reset(&b.w.s);
    for (j = 0; j < SB_THREADS; j++)
        b.tears[j] = 0;
    b.tears[SB_THREADS - 1] = 1u << 20; /* the first thread walked: torn every time */
    assert_int_equal(uw_unwind_threads(u, &b.w.s), 0);
    assert_int_equal(b.w.s.threads[0].retries, UW_THREAD_RETRIES);
    assert_int_equal(b.w.s.threads[0].truncated, UW_ERR_INCOMPLETE);
    uw_sample_free(&b.w.s);
    uw_unwinder_free(u);
    fp_free(&b.w.fp);
}

static void test_limit_sample_retries(void **state)
{
    (void)state;
    sample_retries_bound(0);
    sample_retries_bound(UW_SAMPLE_RETRIES - 1);
    sample_retries_bound(UW_SAMPLE_RETRIES);
    sample_retries_bound(UW_SAMPLE_RETRIES + 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic_311),
        cmocka_unit_test(test_basic_312),
        cmocka_unit_test(test_basic_313),
        cmocka_unit_test(test_limit_frames),
        cmocka_unit_test(test_limit_threads),
        cmocka_unit_test(test_limit_sample_retries),
        cmocka_unit_test(test_limit_interpreters),
        cmocka_unit_test(test_frame_cycles),
        cmocka_unit_test(test_thread_cycle),
        cmocka_unit_test(test_interp_cycle),
        cmocka_unit_test(test_cframe_null),
        cmocka_unit_test(test_garbage_previous),
        cmocka_unit_test(test_eval_prologue),
        cmocka_unit_test(test_bad_frames),
        cmocka_unit_test(test_hidden_frames),
        cmocka_unit_test(test_stale_code),
        cmocka_unit_test(test_code_generation_314),
        cmocka_unit_test(test_code_generation_315),
        cmocka_unit_test(test_code_generation_moves_314),
        cmocka_unit_test(test_code_generation_moves_315),
        cmocka_unit_test(test_limit_string),
        cmocka_unit_test(test_limit_linetable),
        cmocka_unit_test(test_limit_chunks),
        cmocka_unit_test(test_max_depth),
        cmocka_unit_test(test_runtime_unreadable),
        cmocka_unit_test(test_walk_pages),
        cmocka_unit_test(test_read_budget),
        cmocka_unit_test(test_limit_retries),
        cmocka_unit_test(test_layout_buffers),
        cmocka_unit_test(test_split_call_site),
        cmocka_unit_test(test_unbracketed_callee),
        cmocka_unit_test(test_unbracketed_split_site),
        cmocka_unit_test(test_recheck_innermost_ip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
