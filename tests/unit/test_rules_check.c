/*
 * test_rules_check.c — three comparisons of the chain check (check.c,
 * uw_fields_eq and uw_unlinked) proven necessary on a fabricated 3.13
 * process: each test passes on the normal build and fails on the mutant
 * built without its rule (CMake -DTORNSTACK_DROP_RULE=name).
 *
 * - check_code: a coroutine freed and made again at its address, running
 *   code that lies where the old code lay, reads at the same instruction
 *   pointer, state, depth and awaitee; only its code object tells.
 * - check_depth: a chain read while its inner coroutine was suspending
 *   (state stored, stack pointer not yet) ends there; at the check that
 *   coroutine awaits one more, and only its depth tells.
 * - check_previous: a Task's root that stored its suspended state and its
 *   stack pointer but is still the thread's current frame reads as the
 *   chain read saw it; only its `previous` tells that it is still linked.
 *
 * Each world changes memory at one chosen read of one sample (a reader
 * that wraps the process's), and the change stays: the Task read again
 * by recovery (recover.c) reads it too, so what a test asserts is the
 * sample's final word on the Task, its frames at the check's instant or
 * its skip.
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
#include "tornstack/error.h"
#include "tornstack/limits.h"
#include "tornstack/tasks.h"
#include "tasks/tasks_int.h"

static const int lines[4] = {10, 11, 12, 13};

typedef struct world {
    fake_proc fp;
    uint64_t interp, loop, task_type, set, fut;
    uint64_t ts, sel_frame, run; /* the loop's thread, select(), Handle._run */
    uint64_t a, b, c, spin;      /* Tasks: A awaits B; C alone; spin yields */
    uint64_t coro_a, coro_b_outer, coro_b_inner, coro_c, coro_spin, coro_yield;
    uint64_t code_outer, code_inner, code_spin, code_yield;
    uw_unwinder *u;
    uw_tasks *t;
    uw_sample s;
} world;

/* The loop's thread in a callback (Handle._run current above select(),
 * which stands for _run_once: recovery reads Tasks again on such a walk
 * without reading the loop's stack again, rule recover_idle_stands) and
 * four Tasks on its loop: A awaits B; B's
 * outer coroutine awaits its inner one, which awaits a Future; C awaits
 * the Future; the spinning Task's root awaits a coroutine suspended in a
 * plain yield (asyncio.sleep(0)'s), so that Task awaits no Future and its
 * fut_waiter is NULL.  Every name is an int (fp_long) but B's. */
static void world_build(world *w)
{
    const uw_layout *l;
    const int syf = uw__layout_for_minor(13)->state_suspended_yield_from;
    uint64_t sel, run, main_code, orphan_code;

    memset(w, 0, sizeof *w);
    fp_init(&w->fp, 13);
    l = w->fp.l;
    w->interp = fp_runtime(&w->fp);
    sel = fp_code(&w->fp, "EpollSelector.select", "/lib/selectors.py", 10, lines, 4);
    w->sel_frame = fp_frame(&w->fp, sel, 0, l->owner_thread, 1);
    /* a short path: the small-limits build cuts strings at 32 characters */
    run = fp_code(&w->fp, "Handle._run", "/py/asyncio/events.py", 80, lines, 4);
    w->run = fp_frame(&w->fp, run, w->sel_frame, l->owner_thread, 1);
    w->ts = fp_thread(&w->fp, w->interp, 77, w->run);
    w->loop = fp_alloc(&w->fp, 64);
    fp_put64(&w->fp, w->ts + (uint64_t)l->tstate_asyncio_running_loop, w->loop);
    w->task_type = fp_type(&w->fp, "_asyncio.Task", fp_type(&w->fp, "_asyncio.Future", 0));
    main_code = fp_code(&w->fp, "main", "/app/main.py", 10, lines, 4);
    w->code_outer = fp_code(&w->fp, "outer", "/app/work.py", 10, lines, 4);
    w->code_inner = fp_code(&w->fp, "inner", "/app/work.py", 10, lines, 4);
    orphan_code = fp_code(&w->fp, "orphan", "/app/work.py", 10, lines, 4);
    w->code_spin = fp_code(&w->fp, "spin", "/app/work.py", 10, lines, 4);
    w->code_yield = fp_code(&w->fp, "__sleep0", "/py/asyncio/tasks.py", 10, lines, 4);
    w->fut = fp_alloc(&w->fp, 128);
    fp_put64(&w->fp, w->fut + 8, FP_FUTURE_OBJ_TYPE);
    w->coro_b_inner = fp_coro(&w->fp, w->code_inner, syf, 3, w->fut);
    w->coro_b_outer = fp_coro(&w->fp, w->code_outer, syf, 2, w->coro_b_inner);
    w->b =
        fp_task(&w->fp, w->task_type, w->loop, w->coro_b_outer, fp_str(&w->fp, "worker"), w->fut);
    w->coro_a = fp_coro(&w->fp, main_code, syf, 1, w->b);
    w->a = fp_task(&w->fp, w->task_type, w->loop, w->coro_a, fp_long(&w->fp, 1), w->b);
    w->coro_c = fp_coro(&w->fp, orphan_code, syf, 1, w->fut);
    w->c = fp_task(&w->fp, w->task_type, w->loop, w->coro_c, fp_long(&w->fp, 3), w->fut);
    w->coro_yield = fp_coro(&w->fp, w->code_yield, l->state_suspended, 1, 0);
    w->coro_spin = fp_coro(&w->fp, w->code_spin, syf, 2, w->coro_yield);
    w->spin = fp_task(&w->fp, w->task_type, w->loop, w->coro_spin, fp_long(&w->fp, 4), 0);
    {
        const uint64_t keys[4] = {w->a, w->b, w->c, w->spin};
        w->set = fp_set(&w->fp, keys, 4);
    }
}

/* The unwinder and Task walk over the world, default options (recovery
 * on: UW_RECOVER_ROUNDS rounds). */
static void world_start(world *w)
{
    uw_task_options o;

    assert_int_equal(uw_unwinder_new(&w->fp.reader, &w->fp.target, &w->u), 0);
    assert_int_equal(uw_tasks_new(w->u, &w->t), 0);
    uw_tasks_set_root(w->t, w->set);
    uw_task_options_default(&o);
    assert_true(o.recover > 0);
    uw_tasks_set_options(w->t, &o);
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

static const uw_task_sample *task_at(const world *w, uint64_t addr)
{
    size_t i;
    for (i = 0; i < w->s.n_tasks; i++)
        if (w->s.tasks[i].addr == addr)
            return &w->s.tasks[i];
    return NULL;
}

static const char *fname(const world *w, const uw_task_sample *t, size_t i)
{
    assert_true(i < t->n_frames);
    return uw_frame_name(&w->s.frames[t->first_frame + i]);
}

static int fline(const world *w, const uw_task_sample *t, size_t i)
{
    assert_true(i < t->n_frames);
    return (int)w->s.frames[t->first_frame + i].line;
}

static uint64_t rd64(world *w, uint64_t addr)
{
    uint64_t v;
    memcpy(&v, fp_ptr(&w->fp, addr, 8), 8);
    return v;
}

static uint32_t recovered(const uw_sample *s)
{
    uint32_t n = 0;
    size_t i;

    for (i = 1; i < UW_REASON_SLOTS; i++)
        n += s->recovered[i];
    return n;
}

/* Coroutine c's frame, suspended, unlinked: code at instruction `index`,
 * one value on its stack, `awaitee`. */
static void coro_frame(world *w, uint64_t c, uint64_t code, int64_t index, uint64_t awaitee)
{
    const uw_layout *l = w->fp.l;
    uint64_t f = c + (uint64_t)l->gen_iframe;

    fp_frame_at(&w->fp, f, code, 0, l->owner_generator, index);
    fp_put32(&w->fp, f + (uint64_t)l->frame_stacktop, 1);
    fp_put64(&w->fp, f + (uint64_t)l->frame_localsplus, awaitee);
}

/* --- a reader that tears one read ----------------------------------------- */

/* Once armed, the n-th read of the coroutine at `at` (a read of its whole
 * window: in a sample, the first is the chain level's, chains.c, and the
 * second the check's copy A, check.c, uw_ck_task; its awaitee's slot lies
 * within the window) changes the world: `before` just before that read,
 * `after` just after it.  Nothing changes back. */
typedef struct tear {
    world w;
    const uw_reader_ops *real;
    uint64_t at;
    int nth, seen, fired;
    void (*before)(struct tear *);
    void (*after)(struct tear *);
    uint64_t code_x, code_y, leaf; /* the scenario's objects */
    size_t y_len;
} tear;

static tear *tear_cur;

static int tear_read(void *ctx, uint64_t addr, void *dst, size_t len)
{
    tear *r = tear_cur;
    const size_t win = uw__gen_window(r->w.fp.l);
    int rc;

    if (r->fired || addr != r->at || len != win || ++r->seen < r->nth)
        return r->real->read(ctx, addr, dst, len);
    r->fired = 1;
    if (r->before != NULL)
        r->before(r);
    rc = r->real->read(ctx, addr, dst, len);
    if (r->after != NULL)
        r->after(r);
    return rc;
}

static const uw_reader_ops tear_ops = {tear_read, NULL, NULL, NULL};

/* One sample through the tearing reader (the world warmed before). */
static void tear_sample(tear *r)
{
    world *w = &r->w;

    tear_cur = r;
    r->real = w->fp.reader.ops;
    w->fp.reader.ops = &tear_ops;
    assert_int_equal(sample(w), 0);
    w->fp.reader.ops = r->real;
    assert_true(r->fired);
    /* the walk met Handle._run: the loop in a callback, Tasks recoverable */
    assert_int_equal(w->s.threads[0].split, 0);
}

/* --- check_code ------------------------------------------------------------ */

/* Units of the old code object: the new one is made 16 bytes into its
 * block, so unit k + 8 of the old one is unit k of the new. */
#define CODE_X_UNITS 16
#define CODE_Y_UNITS 8
#define CODE_SHIFT_UNITS 8

/* B stepped between its chain read and the check: inner returned and was
 * freed, and with it the last function of its code, which was freed too
 * (code made at run time, compile()); a new code object was then allocated
 * 16 bytes into the freed block, and outer, looping at the same await,
 * called it: its coroutine made at inner's address (the same size class),
 * suspended in an await of a new Future made at the old one's address.
 * A frame's instruction pointer is an address, and the new code's unit
 * there lies where the old code's unit was, so the coroutine reads with
 * the same state, instruction pointer, depth, awaitee and `previous`:
 * only its code object is another. */
static void code_before(tear *r)
{
    world *w = &r->w;
    const uw_layout *l = w->fp.l;
    const uint64_t f = w->coro_b_inner + (uint64_t)l->gen_iframe;
    const uint64_t ip = rd64(w, f + (uint64_t)l->frame_instr);
    const uint64_t at = r->code_x + 2 * CODE_SHIFT_UNITS;

    memcpy(fp_ptr(&w->fp, at, r->y_len), fp_ptr(&w->fp, r->code_y, r->y_len), r->y_len);
    coro_frame(w, w->coro_b_inner, at, 12 - CODE_SHIFT_UNITS, w->fut);
    assert_int_equal(rd64(w, f + (uint64_t)l->frame_instr), ip);
}

/* Rule check_code.  The chain read saw inner run step_a at unit 12; the
 * check reads step_b at unit 4, at the same instruction pointer.  Without
 * the code compared, the first check keeps B with step_a's frame, a frame
 * B does not have at the check's instant (the emitted line is of code freed
 * by then).  With it, B is skipped as changed, read again by recovery and
 * shown as it is at the round's instant: step_b at its line, under outer. */
static void test_check_code(void **state)
{
    static const int x_lines[CODE_X_UNITS] = {20, 21, 22, 23, 24, 25, 26, 27,
                                              28, 29, 30, 31, 32, 33, 34, 35};
    static const int y_lines[CODE_Y_UNITS] = {50, 51, 52, 53, 54, 55, 56, 57};
    tear r;
    const uw_task_sample *b;
    const uw_layout *l;

    (void)state;
    memset(&r, 0, sizeof r);
    world_build(&r.w);
    l = r.w.fp.l;
    r.code_x = fp_code(&r.w.fp, "step_a", "/app/steps.py", 20, x_lines, CODE_X_UNITS);
    r.code_y = fp_code(&r.w.fp, "step_b", "/app/steps.py", 50, y_lines, CODE_Y_UNITS);
    r.y_len = (size_t)l->code_size + 2 * CODE_Y_UNITS + 2;
    /* the new code object fits in the old one's block (fp_code's length) */
    assert_true(2 * CODE_SHIFT_UNITS + r.y_len <= (size_t)l->code_size + 2 * CODE_X_UNITS + 2);
    coro_frame(&r.w, r.w.coro_b_inner, r.code_x, 12, r.w.fut);
    world_start(&r.w);
    assert_int_equal(sample(&r.w), 0); /* warm: step_a's code known */
    b = task_at(&r.w, r.w.b);
    assert_non_null(b);
    assert_int_equal(b->skipped, 0);
    assert_int_equal(b->n_frames, 2);
    assert_string_equal(fname(&r.w, b, 0), "step_a");
    assert_int_equal(fline(&r.w, b, 0), x_lines[12]);

    r.at = r.w.coro_b_inner;
    r.nth = 2; /* the check's copy A */
    r.before = code_before;
    tear_sample(&r);
    b = task_at(&r.w, r.w.b);
    assert_non_null(b);
    if (b->skipped == 0 && b->n_frames > 0 && strcmp(fname(&r.w, b, 0), "step_a") == 0)
        fail_msg("B shown in step_a line %d: its coroutine ran step_b at the check",
                 fline(&r.w, b, 0));
    assert_int_equal(b->skipped, 0);
    assert_int_equal(r.w.s.recovered[uw_reason_slot(UW_SKIP_TASK_CHANGED)], 1);
    assert_int_equal(recovered(&r.w.s), 1);
    assert_int_equal(b->n_frames, 2);
    assert_string_equal(fname(&r.w, b, 0), "step_b");
    assert_int_equal(fline(&r.w, b, 0), y_lines[12 - CODE_SHIFT_UNITS]);
    assert_string_equal(fname(&r.w, b, 1), "outer");
    assert_int_equal(fline(&r.w, b, 1), lines[2]);
    world_end(&r.w);
}

/* --- check_depth ----------------------------------------------------------- */

/* B stepped while its chain was read: outer was read before the step; the
 * level after it read inner while inner was suspending again at the await
 * it had stood at (a loop): YIELD_VALUE had stored its state and had not
 * yet stored its stack pointer, which an executing 3.11-3.13 frame keeps
 * at -1 (_PyFrame_GetStackPointer), nor unlinked it.  With no value stack
 * the chain ends at inner. */
static void depth_before(tear *r)
{
    world *w = &r->w;
    const uw_layout *l = w->fp.l;
    const uint64_t f = w->coro_b_inner + (uint64_t)l->gen_iframe;

    coro_frame(w, w->coro_b_inner, w->code_inner, 3, r->leaf);
    fp_put32(&w->fp, f + (uint64_t)l->frame_stacktop, (uint32_t)-1);
    fp_put64(&w->fp, f + (uint64_t)l->frame_previous, w->coro_b_outer + (uint64_t)l->gen_iframe);
}

/* ... then the step ended: inner's stack pointer stored (its awaitee, the
 * new coroutine `leaf`, on top), inner unlinked, outer suspended again at
 * its own await of inner, as before.  leaf awaits a new Future made at the
 * old one's address, which B's fut_waiter names again. */
static void depth_after(tear *r)
{
    coro_frame(&r->w, r->w.coro_b_inner, r->w.code_inner, 3, r->leaf);
}

/* Rule check_depth.  The chain read gave B [inner, outer]; at the check
 * inner reads as then in state, instruction, code and `previous`, and the
 * chain read took no awaitee from it to compare: only its depth (-1 then,
 * 1 now) differs.  Without the depth compared, the first check keeps B
 * cut short as [inner, outer], a stack B never had (inner awaited the
 * Future before the step, leaf after it).  With it, B is skipped as
 * changed, read again by recovery and shown as at the round's instant:
 * [leaf, inner, outer]. */
static void test_check_depth(void **state)
{
    tear r;
    const uw_task_sample *b;
    const uw_layout *l;
    uint64_t leaf_code;

    (void)state;
    memset(&r, 0, sizeof r);
    world_build(&r.w);
    l = r.w.fp.l;
    leaf_code = fp_code(&r.w.fp, "leaf", "/app/work.py", 10, lines, 4);
    r.leaf = fp_coro(&r.w.fp, leaf_code, l->state_suspended_yield_from, 2, r.w.fut);
    world_start(&r.w);
    assert_int_equal(sample(&r.w), 0);
    b = task_at(&r.w, r.w.b);
    assert_non_null(b);
    assert_int_equal(b->skipped, 0);
    assert_int_equal(b->n_frames, 2);

    r.at = r.w.coro_b_inner;
    r.nth = 1; /* the chain level's read */
    r.before = depth_before;
    r.after = depth_after;
    tear_sample(&r);
    b = task_at(&r.w, r.w.b);
    assert_non_null(b);
    if (b->skipped == 0 && b->n_frames == 2)
        fail_msg("B shown as [%s line %d, %s line %d]: inner awaited leaf at the check",
                 fname(&r.w, b, 0), fline(&r.w, b, 0), fname(&r.w, b, 1), fline(&r.w, b, 1));
    assert_int_equal(b->skipped, 0);
    assert_int_equal(r.w.s.recovered[uw_reason_slot(UW_SKIP_TASK_CHANGED)], 1);
    assert_int_equal(recovered(&r.w.s), 1);
    assert_int_equal(b->n_frames, 3);
    assert_string_equal(fname(&r.w, b, 0), "leaf");
    assert_int_equal(fline(&r.w, b, 0), lines[2]);
    assert_string_equal(fname(&r.w, b, 1), "inner");
    assert_int_equal(fline(&r.w, b, 1), lines[3]);
    assert_string_equal(fname(&r.w, b, 2), "outer");
    assert_int_equal(fline(&r.w, b, 2), lines[2]);
    world_end(&r.w);
}

/* --- check_previous -------------------------------------------------------- */

/* The spinning Task stepped after its chain was read (the walk had met
 * its handle before the step reached Python): its root was sent to, ran,
 * let sleep(0)'s coroutine finish, made a new one at its address (the same
 * code, suspended at the same yield) and awaits it at the same await; it
 * has stored its suspended state and its stack pointer, and is still the
 * thread's current frame, linked above Handle._run (YIELD_VALUE unlinks
 * it and clears `previous` next).  Its fut_waiter, cleared as the step
 * began and set only when the step returns, is NULL as it was. */
static void previous_before(tear *r)
{
    world *w = &r->w;
    const uw_layout *l = w->fp.l;
    const uint64_t f = w->coro_spin + (uint64_t)l->gen_iframe;

    fp_put64(&w->fp, f + (uint64_t)l->frame_previous, w->run);
    fp_put64(&w->fp, w->ts + (uint64_t)l->tstate_current_frame, f);
}

/* Rule check_previous.  The chain read saw the root unlinked; at the check
 * it reads as then in state, instruction, code, depth and awaitee, with
 * `previous` set: the Task still runs, its chain is not yet its stack.
 * Without the rule the first check keeps it, shown suspended with that
 * chain while it is the thread's running frame.  With it, it is skipped as
 * task_changed_while_read, and stays so: recovery reads its root as
 * resumed (it runs now) and gives it back its skip. */
static void test_check_previous(void **state)
{
    tear r;
    const uw_task_sample *p;

    (void)state;
    memset(&r, 0, sizeof r);
    world_build(&r.w);
    world_start(&r.w);
    assert_int_equal(sample(&r.w), 0);
    p = task_at(&r.w, r.w.spin);
    assert_non_null(p);
    assert_int_equal(p->skipped, 0);
    assert_int_equal(p->n_frames, 2);
    assert_string_equal(fname(&r.w, p, 0), "__sleep0");
    assert_string_equal(fname(&r.w, p, 1), "spin");

    r.at = r.w.coro_spin;
    r.nth = 2; /* the check's copy A */
    r.before = previous_before;
    tear_sample(&r);
    p = task_at(&r.w, r.w.spin);
    assert_non_null(p);
    if (p->skipped == 0)
        fail_msg("the spinning Task kept as suspended (%zu frames) while its root "
                 "was the thread's current frame",
                 p->n_frames);
    assert_int_equal(p->skipped, UW_SKIP_TASK_CHANGED);
    assert_int_equal(p->n_frames, 0);
    assert_int_equal(recovered(&r.w.s), 0);
    /* the others stood still and are kept */
    assert_int_equal(task_at(&r.w, r.w.b)->skipped, 0);
    assert_int_equal(task_at(&r.w, r.w.c)->skipped, 0);
    world_end(&r.w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check_code),
        cmocka_unit_test(test_check_depth),
        cmocka_unit_test(test_check_previous),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
