/*
 * test_rules_place.c — the rules of the Task walk that decide which frames
 * a Task owns, each shown necessary on a fabricated 3.13 process: every
 * test passes on the normal build and fails on the build with its rule
 * compiled out (CMake -DTORNSTACK_DROP_RULE=name), where the unwinder
 * gives a Task frames that are not its own.
 *
 * The loop's thread stands in a callback: Handle._run, called by
 * _run_once at its handle._run() call.  Task A, a bystander, is suspended on
 * a Future throughout; Task C is the Task each test is about.
 *
 *   test_code_mismatch_not_placed   kills skip_code_mismatch
 *   test_one_frame_two_tasks        kills skip_claimed_twice
 *   test_resuming_frame_moved       kills resuming_proof
 *   test_resuming_new_callback      kills resuming_proof
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fake_proc.h"
#include "internal/asyncio_layout.h"
#include "tasks/tasks_int.h"
#include "tornstack/error.h"
#include "tornstack/tasks.h"

static const int lines[4] = {10, 11, 12, 13};

typedef struct rp_world {
    fake_proc fp;
    const uw_layout *l;
    const uw_asyncio_layout *al;
    uint64_t ts, loop, task_type, fut;
    uint64_t sel_frame, run_frame; /* _run_once's stand-in, Handle._run above it */
    uint64_t main_code, orphan_code, stranger_code, compute_code;
    uint64_t a, coro_a;         /* the bystander */
    uint64_t c, coro_c, name_c; /* the Task under test */
    uint64_t counter;           /* the loop's epoch, once registered */
    uw_unwinder *u;
    uw_tasks *t;
    uw_sample s;
} rp_world;

/* Task C's root coroutine frame: the frame a running C is linked as. */
static uint64_t c_frame(const rp_world *w)
{
    return w->coro_c + (uint64_t)w->l->gen_iframe;
}

/* Coroutine `coro`'s own frame rewritten: `code` at instruction `index`,
 * linked to `previous` (0: unlinked), awaiting `awaitee` on its value
 * stack, in frame state `state`. */
static void coro_set(rp_world *w, uint64_t coro, uint64_t code, uint64_t previous, int64_t index,
                     uint64_t awaitee, int state)
{
    const uint64_t f = coro + (uint64_t)w->l->gen_iframe;

    fp_frame_at(&w->fp, f, code, previous, w->l->owner_generator, index);
    fp_put32(&w->fp, f + (uint64_t)w->l->frame_stacktop, 1);
    fp_put64(&w->fp, f + (uint64_t)w->l->frame_localsplus, awaitee);
    fp_put8(&w->fp, coro + (uint64_t)w->l->gen_frame_state, (uint8_t)(int8_t)state);
}

static void set_current(rp_world *w, uint64_t frame)
{
    fp_put64(&w->fp, w->ts + (uint64_t)w->l->tstate_current_frame, frame);
}

static uint64_t rd64(rp_world *w, uint64_t addr)
{
    uint64_t v;

    memcpy(&v, fp_ptr(&w->fp, addr, 8), 8);
    return v;
}

/* The thread in Handle._run (nothing above it), A and C suspended on one
 * Future, C named "conn".  Nothing is started. */
static void rp_build(rp_world *w)
{
    const int suspended = uw__layout_for_minor(13)->state_suspended_yield_from;
    uint64_t interp, sel, run;

    memset(w, 0, sizeof *w);
    fp_init(&w->fp, 13);
    w->l = w->fp.l;
    w->al = uw__asyncio_layout_for_minor(13);
    interp = fp_runtime(&w->fp);
    sel = fp_code(&w->fp, "EpollSelector.select", "/lib/selectors.py", 10, lines, 4);
    run = fp_code(&w->fp, "Handle._run", "/py/asyncio/events.py", 80, lines, 4);
    w->sel_frame = fp_frame(&w->fp, sel, 0, w->l->owner_thread, 1);
    /* under Handle._run it stands at _run_once's handle._run() call, as a
     * walk without the loop's epoch must see it */
    fp_stand_at_run_call(&w->fp, w->sel_frame, "BaseEventLoop._run_once", 11);
    w->run_frame = fp_frame(&w->fp, run, w->sel_frame, w->l->owner_thread, 1);
    w->ts = fp_thread(&w->fp, interp, 77, w->run_frame);
    w->loop = fp_alloc(&w->fp, 64);
    fp_put64(&w->fp, w->ts + (uint64_t)w->l->tstate_asyncio_running_loop, w->loop);
    w->task_type = fp_type(&w->fp, "_asyncio.Task", fp_type(&w->fp, "_asyncio.Future", 0));
    w->main_code = fp_code(&w->fp, "main", "/app/main.py", 10, lines, 4);
    w->orphan_code = fp_code(&w->fp, "orphan", "/app/work.py", 10, lines, 4);
    w->stranger_code = fp_code(&w->fp, "stranger", "/app/other.py", 10, lines, 4);
    w->compute_code = fp_code(&w->fp, "compute", "/app/work.py", 10, lines, 4);
    w->fut = fp_alloc(&w->fp, 128);
    fp_put64(&w->fp, w->fut + 8, FP_FUTURE_OBJ_TYPE);
    w->coro_a = fp_coro(&w->fp, w->main_code, suspended, 1, w->fut);
    w->a = fp_task(&w->fp, w->task_type, w->loop, w->coro_a, fp_str(&w->fp, "bystander"), w->fut);
    w->coro_c = fp_coro(&w->fp, w->orphan_code, suspended, 1, w->fut);
    w->name_c = fp_str(&w->fp, "conn");
    w->c = fp_task(&w->fp, w->task_type, w->loop, w->coro_c, w->name_c, w->fut);
}

/* The registry holds A, C and `extra` (0: none); the unwinder and the
 * Task walk are made with their default options (skip rules, recovery). */
static void rp_start(rp_world *w, uint64_t extra)
{
    uint64_t keys[3] = {w->a, w->c, extra};

    assert_int_equal(uw_unwinder_new(&w->fp.reader, &w->fp.target, &w->u), 0);
    assert_int_equal(uw_tasks_new(w->u, &w->t), 0);
    uw_tasks_set_root(w->t, fp_set(&w->fp, keys, extra != 0 ? 3 : 2));
    uw_sample_init(&w->s);
}

static void rp_end(rp_world *w)
{
    uw_sample_free(&w->s);
    uw_tasks_free(w->t);
    uw_unwinder_free(w->u);
    fp_free(&w->fp);
}

static int sample(rp_world *w)
{
    int rc = uw_unwind_threads(w->u, &w->s);

    return rc != 0 ? rc : uw_unwind_tasks(w->t, &w->s);
}

static const uw_task_sample *task_at(const rp_world *w, uint64_t addr)
{
    size_t i;

    for (i = 0; i < w->s.n_tasks; i++)
        if (w->s.tasks[i].addr == addr)
            return &w->s.tasks[i];
    return NULL;
}

static const char *fname(const rp_world *w, const uw_task_sample *t, size_t i)
{
    assert_true(i < t->n_frames);
    return uw_frame_name(&w->s.frames[t->first_frame + i]);
}

/* How many frames of Task entries, over all Tasks, run code `name`. */
static size_t task_frames_named(const rp_world *w, const char *name)
{
    size_t i, k, n = 0;

    for (i = 0; i < w->s.n_tasks; i++)
        for (k = 0; k < w->s.tasks[i].n_frames; k++)
            if (strcmp(fname(w, &w->s.tasks[i], k), name) == 0)
                n++;
    return n;
}

/* The bystander as it stands: kept, its one frame main at its line. */
static void assert_bystander(const rp_world *w)
{
    const uw_task_sample *a = task_at(w, w->a);

    assert_non_null(a);
    assert_int_equal(a->skipped, 0);
    assert_int_equal(a->running, 0);
    assert_int_equal(a->n_frames, 1);
    assert_string_equal(fname(w, a, 0), "main");
}

/* --- skip_code_mismatch (place.c, uw_place_one) ----------------------------- */

/* The walk finds, above Handle._run, a frame at the address of C's root
 * coroutine frame that runs `stranger`: a coroutine the loop was running
 * then.  Before the Tasks are read, that coroutine returns and is freed,
 * C's coroutine is made in its memory (suspended on the Future, running
 * `orphan`, its frame unlinked) and the thread is back in Handle._run.
 * The address matches, the code does not: the frame is not C's, and C is
 * skipped as task_frame_code_mismatch, not shown running, with no frame.
 * Without the rule C is placed on that frame and shown running
 * `stranger`, another coroutine's frame. */
static void test_code_mismatch_not_placed(void **state)
{
    rp_world w;
    const int executing = uw__layout_for_minor(13)->state_executing;
    const int suspended = uw__layout_for_minor(13)->state_suspended_yield_from;
    const uw_task_sample *c;
    const uw_frame *top;

    (void)state;
    rp_build(&w);
    coro_set(&w, w.coro_c, w.stranger_code, w.run_frame, 1, 0, executing);
    set_current(&w, c_frame(&w));
    rp_start(&w, 0);
    assert_int_equal(uw_unwind_threads(w.u, &w.s), 0);
    /* the walk saw `stranger` at C's root frame address, over Handle._run */
    assert_int_equal(w.s.n_threads, 1);
    assert_true(w.s.threads[0].n_frames >= 2);
    top = &w.s.frames[w.s.threads[0].first_frame];
    assert_int_equal(top->addr, c_frame(&w));
    assert_string_equal(uw_frame_name(top), "stranger");
    assert_string_equal(uw_frame_name(top + 1), "Handle._run");
    /* between the walk and the Task read: C's coroutine at that address */
    coro_set(&w, w.coro_c, w.orphan_code, 0, 1, w.fut, suspended);
    set_current(&w, w.run_frame);
    assert_int_equal(uw_unwind_tasks(w.t, &w.s), 0);
    assert_int_equal(w.s.tasks_error, 0);
    c = task_at(&w, w.c);
    assert_non_null(c);
    if (c->skipped == 0 && c->running && c->n_frames > 0)
        fail_msg("C placed on a frame running %s, not its own code", fname(&w, c, 0));
    assert_int_equal(c->skipped, UW_SKIP_CODE_MISMATCH);
    assert_int_equal(c->running, 0);
    assert_int_equal(c->n_frames, 0);
    assert_int_equal(w.s.skips[uw_reason_slot(UW_SKIP_CODE_MISMATCH)], 1);
    assert_int_equal(task_frames_named(&w, "stranger"), 0);
    assert_bystander(&w);
    rp_end(&w);
}

/* --- skip_claimed_twice (place.c, uw_claimed_twice) ------------------------- */

/* C runs on the thread: its root coroutine frame linked above Handle._run,
 * marked executing, no waiter.  With `twin`, a second Task object D reads
 * as holding C's very coroutine (a Task read across its address's reuse,
 * or a torn object): both find their root frame at the same address
 * running the same code, so placement alone cannot tell which one the
 * walk saw.  The control (no twin) places C there, running `orphan`. */
static void run_c(rp_world *w, int twin, uint64_t *d)
{
    const int executing = uw__layout_for_minor(13)->state_executing;

    rp_build(w);
    coro_set(w, w->coro_c, w->orphan_code, w->run_frame, 1, 0, executing);
    fp_put64(&w->fp, w->c + (uint64_t)w->al->task_fut_waiter, 0);
    set_current(w, c_frame(w));
    *d = twin ? fp_task(&w->fp, w->task_type, w->loop, w->coro_c, fp_str(&w->fp, "twin"), 0) : 0;
    rp_start(w, *d);
    assert_int_equal(sample(w), 0);
    assert_int_equal(w->s.tasks_error, 0);
}

/* With the twin both are skipped as frame_claimed_twice: neither is shown
 * running, neither gets the thread's `orphan` frame.  Without the rule
 * both are placed on the one frame and each is shown running it: one of
 * them with the other's frames. */
static void test_one_frame_two_tasks(void **state)
{
    rp_world w;
    const uw_task_sample *c, *d;
    uint64_t twin;

    (void)state;
    run_c(&w, 0, &twin);
    c = task_at(&w, w.c);
    assert_non_null(c);
    assert_int_equal(c->skipped, 0);
    assert_int_equal(c->running, 1);
    assert_int_equal(c->n_frames, 1);
    assert_string_equal(fname(&w, c, 0), "orphan");
    assert_bystander(&w);
    rp_end(&w);

    run_c(&w, 1, &twin);
    c = task_at(&w, w.c);
    d = task_at(&w, twin);
    assert_non_null(c);
    assert_non_null(d);
    if (c->running && d->running)
        fail_msg("C and its twin both shown running frame %s", fname(&w, d, 0));
    assert_int_equal(c->skipped, UW_SKIP_CLAIMED_TWICE);
    assert_int_equal(d->skipped, UW_SKIP_CLAIMED_TWICE);
    assert_int_equal(c->running + d->running, 0);
    assert_int_equal(c->n_frames + d->n_frames, 0);
    assert_int_equal(w.s.skips[uw_reason_slot(UW_SKIP_CLAIMED_TWICE)], 2);
    assert_int_equal(task_frames_named(&w, "orphan"), 0);
    assert_bystander(&w);
    rp_end(&w);
}

/* --- resuming_proof (check.c, uw_check_judge) ------------------------------- */

/* C is being resumed: its root marked executing and linked to Handle._run
 * (`previous` set) while the thread's current frame is still Handle._run,
 * the walk's innermost frame (the eval loop's prologue).  C is on neither
 * walk, so it is resuming: its chain is its stack only while nothing is
 * linked above Handle._run, in the walk's callback.  The loop has an
 * epoch (a counter the walk is told about).  When C's name is first read
 * (after both walks and placement, before the check) the reader moves the
 * process as `mode` says: RS_FRAME, C's frame is made current and C calls
 * `compute` (a plain function, current above it), in the same callback;
 * RS_CALLBACK, the loop pops the next handle (the counter moves) and
 * stands in a new Handle._run built in the same slot. */
enum { RS_NONE, RS_FRAME, RS_CALLBACK };

typedef struct rs_world {
    rp_world w;
    const uw_reader_ops *real;
    int mode, fired;
    uint64_t compute_frame;
} rs_world;

static rs_world *rs_cur;

static int rs_read(void *ctx, uint64_t addr, void *dst, size_t len)
{
    rs_world *r = rs_cur;

    if (r->mode != RS_NONE && !r->fired && addr == r->w.name_c) {
        rp_world *w = &r->w;
        r->fired = 1;
        if (r->mode == RS_FRAME) {
            r->compute_frame = fp_frame(&w->fp, w->compute_code, c_frame(w), w->l->owner_thread, 2);
            set_current(w, r->compute_frame);
        } else {
            fp_put64(&w->fp, w->counter, rd64(w, w->counter) + 1);
        }
    }
    return r->real->read(ctx, addr, dst, len);
}

static const uw_reader_ops rs_ops = {rs_read, NULL, NULL, NULL};

/* Build the resuming world, warm it, register the epoch, then take one
 * sample through the reader in `mode`. */
static void rs_run(rs_world *r, int mode)
{
    const int executing = uw__layout_for_minor(13)->state_executing;
    rp_world *w = &r->w;

    memset(r, 0, sizeof *r);
    rp_build(w);
    coro_set(w, w->coro_c, w->orphan_code, w->run_frame, 1, w->fut, executing);
    fp_put64(&w->fp, w->c + (uint64_t)w->al->task_fut_waiter, 0);
    w->counter = fp_alloc(&w->fp, 8);
    fp_put64(&w->fp, w->counter, 40);
    rp_start(w, 0);
    assert_int_equal(sample(w), 0); /* warm: the loop found */
    assert_int_equal(uw__epoch_set(&w->t->epochs, w->s.threads[0].tstate, w->loop, w->counter), 0);
    rs_cur = r;
    r->mode = mode;
    r->real = w->fp.reader.ops;
    w->fp.reader.ops = &rs_ops;
    assert_int_equal(sample(w), 0);
    w->fp.reader.ops = r->real;
    assert_int_equal(r->fired, mode != RS_NONE);
    assert_true(w->s.threads[0].retries >= 1); /* C unplaced: the thread walked again */
    assert_int_equal(w->s.tasks_error, 0);
    /* the walk the sample keeps: Handle._run innermost, with the epoch */
    assert_int_equal(w->s.threads[0].split, 0);
    assert_int_not_equal(w->s.threads[0].epoch_loop, 0);
    assert_string_equal(uw_frame_name(&w->s.frames[w->s.threads[0].first_frame]), "Handle._run");
}

/* C's entry once the proof failed: skipped as loop_stepped_since_walk
 * (a place gone stale), no frame, not running, not recovered (read again,
 * it still reads as resumed). */
static void assert_resuming_skipped(rs_world *r)
{
    const uw_task_sample *c = task_at(&r->w, r->w.c);

    assert_non_null(c);
    if (c->skipped == 0)
        fail_msg("resuming C kept with %zu frame(s) (innermost %s) after the loop went on",
                 c->n_frames, c->n_frames > 0 ? fname(&r->w, c, 0) : "none");
    assert_int_equal(c->skipped, UW_SKIP_STALE_PLACE);
    assert_int_equal(c->running, 0);
    assert_int_equal(c->n_frames, 0);
    assert_int_equal(r->w.s.recovered[uw_reason_slot(UW_SKIP_STALE_PLACE)], 0);
    assert_int_equal(task_frames_named(&r->w, "orphan"), 0);
    assert_bystander(&r->w);
}

/* The control first: the thread unmoved, C is kept as resuming, not
 * running, its chain (`orphan`) its stack.  Then RS_FRAME: at the check
 * the thread's current frame is `compute`, not the walk's Handle._run, so
 * C's chain is no longer its stack (C runs `compute` above it).  C is
 * skipped.  Without the rule it is kept with `orphan` alone, a stack
 * missing the frame it runs. */
static void test_resuming_frame_moved(void **state)
{
    rs_world r;
    const uw_task_sample *c;

    (void)state;
    rs_run(&r, RS_NONE);
    c = task_at(&r.w, r.w.c);
    assert_non_null(c);
    assert_int_equal(c->skipped, 0);
    assert_int_equal(c->running, 0);
    assert_true(c->n_frames >= 1);
    assert_string_equal(fname(&r.w, c, c->n_frames - 1), "orphan");
    assert_bystander(&r.w);
    rp_end(&r.w);

    rs_run(&r, RS_FRAME);
    assert_int_equal(rd64(&r.w, r.w.ts + (uint64_t)r.w.l->tstate_current_frame), r.compute_frame);
    assert_int_equal(rd64(&r.w, r.w.counter), r.w.s.threads[0].epoch); /* the same callback */
    assert_resuming_skipped(&r);
    rp_end(&r.w);
}

/* RS_CALLBACK: the thread's current frame reads as the walk's (a new
 * Handle._run in the same slot), but the loop's epoch moved since the
 * walk: another callback, in which C may have run, suspended and been
 * resumed again.  The walk no longer vouches that nothing is linked above
 * the split for C: it is skipped.  Without the rule it is kept. */
static void test_resuming_new_callback(void **state)
{
    rs_world r;

    (void)state;
    rs_run(&r, RS_CALLBACK);
    assert_int_equal(rd64(&r.w, r.w.ts + (uint64_t)r.w.l->tstate_current_frame), r.w.run_frame);
    assert_int_not_equal(rd64(&r.w, r.w.counter), r.w.s.threads[0].epoch);
    assert_resuming_skipped(&r);
    rp_end(&r.w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_code_mismatch_not_placed),
        cmocka_unit_test(test_one_frame_two_tasks),
        cmocka_unit_test(test_resuming_frame_moved),
        cmocka_unit_test(test_resuming_new_callback),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
