/*
 * test_rules_links.c — four rules of the Task walk shown necessary on a
 * fabricated 3.13 process: each test passes as built and fails in the
 * mutant built without its rule (-DTORNSTACK_DROP_RULE=name).
 *
 *   parent_awaiter_first   a Task awaited by one Task, strongly linked to a
 *                          second and created by a third stands under the
 *                          one awaiting it (edges.c, uw_parent);
 *   parent_strong_first    with no awaiter it stands under its strong link,
 *                          not its creator;
 *   pure_idle_still        an idle loop whose current frame no longer reads
 *                          as the walk's in the check (a callback began
 *                          after the walk) gives its Tasks no stack
 *                          (check.c, uw_check_pure);
 *   pure_idle_still_instr  nor does one whose current frame is the walk's
 *                          but at another instruction (a callback ran and
 *                          returned between the walk and the check);
 *   compose_whole_task     a Task whose await chain the walk cut at a
 *                          cycle gives no stack, nor does a Task under it
 *                          (compose.c; test_compose.c shows it on hand
 *                          samples, for the await bound too).
 *
 * And the hook module's count moving between the check's copies
 * (test_hook_count_moves): only the Tasks the records it uncovers name
 * lose their links, not every Task (check.c, uw_judge_hook).
 *
 * The world: one thread running an asyncio loop, idle in select() (which
 * stands for _run_once) called from <module>; a leaf Task and three other
 * Tasks on the loop, all suspended.
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
#include "tasks/tasks_int.h"
#include "tornstack/compose.h"
#include "tornstack/error.h"
#include "tornstack/tasks.h"

static const int lines[4] = {10, 11, 12, 13};

typedef struct lw {
    fake_proc fp;
    uint64_t interp, ts, loop, task_type, fut;
    uint64_t root_frame, sel_code, sel_frame; /* <module> and select() */
    uint64_t leaf, awaiter, strong, creator;  /* the Tasks */
    uint64_t counter;                         /* the loop's epoch (ready deque's count) */
    uw_unwinder *u;
    uw_tasks *t;
    uw_sample s;
} lw;

/* A suspended Task named `name` whose one coroutine runs `qualname` and
 * awaits `awaitee` (a Task or a Future), its fut_waiter. */
static uint64_t lw_task(lw *w, const char *qualname, const char *name, uint64_t awaitee)
{
    const int suspended = uw__layout_for_minor(13)->state_suspended_yield_from;
    uint64_t code = fp_code(&w->fp, qualname, "/app/work.py", 10, lines, 4);
    uint64_t coro = fp_coro(&w->fp, code, suspended, 1, awaitee);

    return fp_task(&w->fp, w->task_type, w->loop, coro, fp_str(&w->fp, name), awaitee);
}

/* The world, its loop idle in select() under <module>.  The leaf Task
 * ("fetch") awaits a plain Future; so do "gatherer" and "spawner".
 * "waiter" awaits the leaf when `awaited`, else the Future too.  The loop
 * has a ready deque whose count is the epoch, at 100 throughout. */
static void lw_build(lw *w, int awaited)
{
    const uw_layout *l;
    const uw_asyncio_layout *al = uw__asyncio_layout_for_minor(13);
    uint64_t root_code, deque;

    memset(w, 0, sizeof *w);
    fp_init(&w->fp, 13);
    l = w->fp.l;
    w->interp = fp_runtime(&w->fp);
    root_code = fp_code(&w->fp, "<module>", "/app/main.py", 10, lines, 4);
    w->root_frame = fp_frame(&w->fp, root_code, 0, l->owner_thread, 2);
    w->sel_code = fp_code(&w->fp, "EpollSelector.select", "/lib/selectors.py", 10, lines, 4);
    w->sel_frame = fp_frame(&w->fp, w->sel_code, w->root_frame, l->owner_thread, 1);
    w->ts = fp_thread(&w->fp, w->interp, 77, w->sel_frame);
    w->loop = fp_alloc(&w->fp, 64);
    fp_put64(&w->fp, w->ts + (uint64_t)l->tstate_asyncio_running_loop, w->loop);
    deque = fp_alloc(&w->fp, 64);
    w->counter = deque + (uint64_t)al->deque_state;
    fp_put64(&w->fp, w->counter, 100);
    fp_put64(&w->fp, deque + (uint64_t)al->deque_len, 1);
    w->task_type = fp_type(&w->fp, "_asyncio.Task", fp_type(&w->fp, "_asyncio.Future", 0));
    w->fut = fp_alloc(&w->fp, 128);
    fp_put64(&w->fp, w->fut + (uint64_t)l->object_type, FP_FUTURE_OBJ_TYPE);
    w->leaf = lw_task(w, "fetch", "leaf", w->fut);
    w->awaiter = lw_task(w, "waiter", "awaiter", awaited ? w->leaf : w->fut);
    w->strong = lw_task(w, "gatherer", "strong", w->fut);
    w->creator = lw_task(w, "spawner", "creator", w->fut);
}

/* The walker over the world, recovery off (each test judges one check),
 * warmed by one sample; the loop's epoch registered at its count, as the
 * Task walk does once it finds loop._ready (epoch.c). */
static void lw_start(lw *w)
{
    const uint64_t keys[4] = {w->leaf, w->awaiter, w->strong, w->creator};
    uw_task_options o;

    assert_int_equal(uw_unwinder_new(&w->fp.reader, &w->fp.target, &w->u), 0);
    assert_int_equal(uw_tasks_new(w->u, &w->t), 0);
    uw_tasks_set_root(w->t, fp_set(&w->fp, keys, 4));
    uw_task_options_default(&o);
    o.recover = 0;
    uw_tasks_set_options(w->t, &o);
    uw_sample_init(&w->s);
    assert_int_equal(uw_unwind_threads(w->u, &w->s), 0);
    assert_int_equal(uw_unwind_tasks(w->t, &w->s), 0);
    assert_int_equal(uw__epoch_set(&w->t->epochs, w->s.threads[0].tstate, w->loop, w->counter), 0);
}

static void lw_end(lw *w)
{
    uw_sample_free(&w->s);
    uw_tasks_free(w->t);
    uw_unwinder_free(w->u);
    fp_free(&w->fp);
}

static const uw_task_sample *lw_at(const lw *w, uint64_t addr)
{
    size_t i;

    for (i = 0; i < w->s.n_tasks; i++)
        if (w->s.tasks[i].addr == addr)
            return &w->s.tasks[i];
    fail_msg("Task at %#llx not in the sample", (unsigned long long)addr);
    return NULL;
}

static int64_t lw_index(const lw *w, uint64_t addr)
{
    return (int64_t)(lw_at(w, addr) - w->s.tasks);
}

/* Task addr's stack, composed without markers, as its frames' names root
 * first joined by '|' into out: 0, or compose's refusal (out empty). */
static int lw_compose(const lw *w, uint64_t addr, char *out, size_t cap)
{
    const uw_compose_options bare = {0, 0};
    uw_stack_item stack[32];
    size_t n = 0, i, len = 0;
    int rc;

    out[0] = '\0';
    rc = uw_compose_task(&w->s, (size_t)lw_index(w, addr), &bare, stack, 32, &n);
    for (i = 0; rc == 0 && i < n; i++) {
        const char *name = uw_frame_name(stack[i].frame);
        size_t k = strlen(name);
        assert_true(len + k + 2 <= cap);
        if (i > 0)
            out[len++] = '|';
        memcpy(out + len, name, k + 1);
        len += k;
    }
    return rc;
}

/* --- the parent's precedence (edges.c) -------------------------------------- */

/* Where the links come from: the API table (an embedding profiler that saw
 * the gather and the create_task calls them), or the target's
 * tornstack_hook module (its records, as python/tornstack_hook.py writes
 * them). */
enum { FROM_API = 0, FROM_HOOK };

/* The hook module in sys.modules, its _LINKS buffer holding the leaf's
 * strong link to "gatherer" and its creation link to "spawner", and four
 * free slots; with a third record {child, parent, kind} in slot 2, past
 * the count, when child is not 0 (a record written whole, its count not
 * yet moved over it): the address of the buffer's bytes. */
static uint64_t lw_hook_third(lw *w, uint64_t child, uint64_t parent, uint64_t kind)
{
    static const char *const mod_key[1] = {"tornstack_hook"}, *const links_key[1] = {"_LINKS"};
    const uint64_t recs[3][3] = {{w->leaf, w->strong, UW_LINK_STRONG},
                                 {w->leaf, w->creator, UW_LINK_CREATION},
                                 {child, parent, kind}};
    const uint64_t count = 2;
    uint8_t buf[16 + 6 * UW_LINK_RECORD];
    uint64_t links, module, data;

    memset(buf, 0, sizeof buf);
    memcpy(buf, UW_LINKS_MAGIC, 8);
    memcpy(buf + 8, &count, 8);
    memcpy(buf + 16, recs, child != 0 ? sizeof recs : 2 * UW_LINK_RECORD);
    links = fp_bytearray(&w->fp, buf, sizeof buf);
    module = fp_alloc(&w->fp, 64);
    fp_put64(&w->fp, module + (uint64_t)w->fp.l->module_dict,
             fp_dict(&w->fp, links_key, &links, 1));
    fp_set_modules(&w->fp, w->interp, fp_dict(&w->fp, mod_key, &module, 1));
    memcpy(&data, fp_ptr(&w->fp, links + (uint64_t)w->fp.l->bytearray_start, 8), 8);
    return data;
}

/* The same, with no third record. */
static void lw_hook(lw *w)
{
    (void)lw_hook_third(w, 0, 0, 0);
}

/* One sample of the world with the leaf strongly linked to "gatherer" and
 * created by "spawner" (links `from` either source), awaited by "waiter"
 * or not; every Task kept. */
static void links_sample(lw *w, int awaited, int from)
{
    size_t i;

    lw_build(w, awaited);
    if (from == FROM_HOOK)
        lw_hook(w);
    lw_start(w);
    if (from == FROM_API) {
        assert_int_equal(uw_tasks_link(w->t, w->leaf, w->strong, UW_LINK_STRONG), 0);
        assert_int_equal(uw_tasks_link(w->t, w->leaf, w->creator, UW_LINK_CREATION), 0);
    }
    assert_int_equal(uw_unwind_threads(w->u, &w->s), 0);
    assert_int_equal(uw_unwind_tasks(w->t, &w->s), 0);
    assert_int_equal(w->s.tasks_error, 0);
    assert_int_equal(w->s.n_tasks, 4);
    for (i = 0; i < w->s.n_tasks; i++)
        assert_int_equal(w->s.tasks[i].skipped, 0);
}

/* Rule parent_awaiter_first.  The leaf is awaited by "waiter", strongly
 * linked to "gatherer" and created by "spawner", three different Tasks,
 * each link read as such: its parent is the one awaiting it, and its stack
 * goes through the awaiter's frames.  Without the rule the strong link
 * comes first and the leaf's stack is composed under "gatherer", a Task
 * that is not waiting on it. */
static void parent_awaiter_first(int from)
{
    lw w;
    const uw_task_sample *leaf;
    char stack[256];

    links_sample(&w, 1, from);
    leaf = lw_at(&w, w.leaf);
    assert_int_equal(leaf->awaited_by, lw_index(&w, w.awaiter));
    assert_int_equal(leaf->linked_to, lw_index(&w, w.strong));
    assert_int_equal(leaf->created_by, lw_index(&w, w.creator));
    if (leaf->parent != lw_index(&w, w.awaiter))
        fail_msg("links from %s: leaf's parent is Task %lld (%s), want its awaiter %lld",
                 from == FROM_HOOK ? "the hook" : "the API", (long long)leaf->parent,
                 leaf->parent >= 0 ? w.s.tasks[leaf->parent].name : "none",
                 (long long)lw_index(&w, w.awaiter));
    assert_int_equal(lw_compose(&w, w.leaf, stack, sizeof stack), 0);
    assert_string_equal(stack, "<module>|EpollSelector.select|waiter|fetch");
    /* the awaiter is a leaf no more; the other two stand alone */
    assert_false(uw_compose_is_leaf(&w.s, (size_t)lw_index(&w, w.awaiter)));
    assert_true(uw_compose_is_leaf(&w.s, (size_t)lw_index(&w, w.strong)));
    lw_end(&w);
}

/* Rule parent_strong_first.  The same links, but "waiter" awaits the
 * Future, not the leaf: with no awaiter, the leaf's parent is its strong
 * link ("gatherer", whose gather holds it), not its creator.  Without the
 * rule the creation link comes first and the stack is composed under
 * "spawner". */
static void parent_strong_first(int from)
{
    lw w;
    const uw_task_sample *leaf;
    char stack[256];

    links_sample(&w, 0, from);
    leaf = lw_at(&w, w.leaf);
    assert_int_equal(leaf->awaited_by, -1);
    assert_int_equal(leaf->linked_to, lw_index(&w, w.strong));
    assert_int_equal(leaf->created_by, lw_index(&w, w.creator));
    if (leaf->parent != lw_index(&w, w.strong))
        fail_msg("links from %s: leaf's parent is Task %lld (%s), want its strong link %lld",
                 from == FROM_HOOK ? "the hook" : "the API", (long long)leaf->parent,
                 leaf->parent >= 0 ? w.s.tasks[leaf->parent].name : "none",
                 (long long)lw_index(&w, w.strong));
    assert_int_equal(lw_compose(&w, w.leaf, stack, sizeof stack), 0);
    assert_string_equal(stack, "<module>|EpollSelector.select|gatherer|fetch");
    assert_true(uw_compose_is_leaf(&w.s, (size_t)lw_index(&w, w.creator)));
    lw_end(&w);
}

/* Each rule with the links from each source: the precedence is the same
 * whichever table a link came from. */
static void test_parent_awaiter_first(void **state)
{
    (void)state;
    parent_awaiter_first(FROM_API);
    parent_awaiter_first(FROM_HOOK);
}

static void test_parent_strong_first(void **state)
{
    (void)state;
    parent_strong_first(FROM_API);
    parent_strong_first(FROM_HOOK);
}

/* --- the idle loop's stack at the check (check.c, uw_check_pure) ------------- */

/* What the loop does once the walk is over, just before the check's
 * second copy reads the thread's current-frame pointer (so the first copy
 * saw the loop as the walk did, the second sees it moved):
 *   STILL       nothing;
 *   CALL        the handle popped before the walk is called now:
 *               Handle._run becomes the current frame above select()
 *               (the pointer moves);
 *   RAN         that call ran and returned: select() is current again,
 *               the pointer as the walk read it, but select() is at its
 *               next instruction. */
enum { IW_STILL = 0, IW_CALL, IW_RAN };

typedef struct iw_world {
    lw w;
    const uw_reader_ops *real;
    int mode, moved;
    uint64_t cur, ip;        /* the thread's pointer; select()'s instruction */
    int cur_reads, ip_reads; /* of each (8 bytes), in the Task walk */
} iw_world;

static iw_world *iw_cur;

static void iw_move(iw_world *r)
{
    lw *w = &r->w;
    const uw_layout *l = w->fp.l;

    if (r->mode == IW_CALL) {
        uint64_t run = fp_code(&w->fp, "Handle._run", "/py/asyncio/events.py", 80, lines, 4);
        fp_put64(&w->fp, r->cur, fp_frame(&w->fp, run, w->sel_frame, l->owner_thread, 1));
    } else if (r->mode == IW_RAN) {
        fp_frame_at(&w->fp, w->sel_frame, w->sel_code, w->root_frame, l->owner_thread, 2);
    }
}

/* The world's own read, the loop moved before the pointer's second read. */
static int iw_read(void *ctx, uint64_t addr, void *dst, size_t len)
{
    iw_world *r = iw_cur;

    if (addr == r->cur && len == 8 && ++r->cur_reads == 2 && r->mode != IW_STILL) {
        r->moved = 1;
        iw_move(r);
    }
    if (addr == r->ip && len == 8)
        r->ip_reads++;
    return r->real->read(ctx, addr, dst, len);
}

static const uw_reader_ops iw_ops = {iw_read, NULL, NULL, NULL};

/* The world warmed, then one sample: the thread walk meets the loop idle
 * in select() (no Handle._run: the loop's whole stack is the pure Python
 * stack), then the Task walk reads through iw_read, which moves the loop
 * as `mode` says between the check's copies.  The epoch does not move:
 * the handle was popped before the walk. */
static void iw_run(iw_world *r, int mode)
{
    const uw_layout *l;
    const uw_thread_sample *th;

    memset(r, 0, sizeof *r);
    lw_build(&r->w, 1);
    lw_start(&r->w);
    l = r->w.fp.l;
    r->mode = mode;
    assert_int_equal(uw_unwind_threads(r->w.u, &r->w.s), 0);
    th = &r->w.s.threads[0];
    assert_int_equal(th->truncated, 0);
    assert_int_equal(th->split, -1);
    assert_int_equal(th->n_frames, 2);
    assert_int_equal(th->current_frame, r->w.sel_frame);
    assert_int_equal(th->shown_top, r->w.sel_frame);
    /* bracketed by the loop's epoch, which the check reads unmoved */
    assert_int_equal(th->epoch_loop, r->w.loop);
    assert_int_equal(th->epoch, 100);
    r->cur = r->w.ts + (uint64_t)l->tstate_current_frame;
    r->ip = r->w.sel_frame + (uint64_t)l->frame_instr;
    iw_cur = r;
    r->real = r->w.fp.reader.ops;
    r->w.fp.reader.ops = &iw_ops;
    assert_int_equal(uw_unwind_tasks(r->w.t, &r->w.s), 0);
    r->w.fp.reader.ops = r->real;
    assert_int_equal(r->w.s.tasks_error, 0);
    /* the pointer read once per copy, so the move fell between them */
    assert_int_equal(r->cur_reads, 2);
    assert_int_equal(r->moved, mode != IW_STILL);
    /* the Tasks did not move: all kept, whatever the loop did */
    assert_int_equal(r->w.s.n_tasks, 4);
    assert_int_equal(lw_at(&r->w, r->w.leaf)->skipped, 0);
    assert_int_equal(lw_at(&r->w, r->w.awaiter)->skipped, 0);
}

/* The loop still: the leaf's stack stands on the idle loop's. */
static void idle_still_stands(void)
{
    iw_world r;
    char stack[256];

    iw_run(&r, IW_STILL);
    assert_true(r.w.s.threads[0].pure_start >= 0);
    assert_int_equal(lw_compose(&r.w, r.w.leaf, stack, sizeof stack), 0);
    assert_string_equal(stack, "<module>|EpollSelector.select|waiter|fetch");
    lw_end(&r.w);
}

/* Rule pure_idle_still.  Walked idle, then Handle._run called between the
 * check's copies (the epoch had moved before the walk, when its handle was
 * popped, so it cannot tell): at the check's second copy the loop's stack
 * is a callback's, not the walk's.  The Tasks' chains read alike, but the
 * idle stack did not stand with them: the thread has no pure stack, and
 * the leaf's stack is refused (no_pure_stack).  Without the rule it is
 * composed on the idle stack anyway. */
static void test_pure_idle_still(void **state)
{
    iw_world r;
    char stack[256];
    int rc;

    (void)state;
    idle_still_stands();
    iw_run(&r, IW_CALL);
    rc = lw_compose(&r.w, r.w.leaf, stack, sizeof stack);
    if (rc == 0)
        fail_msg("leaf composed on an idle stack the loop had left: %s", stack);
    assert_int_equal(rc, UW_SKIP_NO_PURE_STACK);
    assert_int_equal(r.w.s.threads[0].pure_start, -1);
    lw_end(&r.w);
}

/* Rule pure_idle_still_instr.  Walked idle; the popped handle's call then
 * runs and returns between the copies: select() (standing for _run_once)
 * is the current frame again, the pointer as the walk read it, but at its
 * next instruction in the second copy.  The stack the walk read, with
 * select() where it was, is not the loop's at the check: refused as above.
 * Without the rule only the pointer is compared, and the leaf is composed
 * on the stale stack. */
static void test_pure_idle_still_instr(void **state)
{
    iw_world r;
    char stack[256];
    int rc;

    (void)state;
    idle_still_stands();
    iw_run(&r, IW_RAN);
    rc = lw_compose(&r.w, r.w.leaf, stack, sizeof stack);
    if (rc == 0)
        fail_msg("leaf composed on an idle stack past which the loop had run: %s", stack);
    assert_int_equal(rc, UW_SKIP_NO_PURE_STACK);
    assert_int_equal(r.w.s.threads[0].pure_start, -1);
    assert_int_equal(r.ip_reads, 2); /* the instruction read in both copies */
    lw_end(&r.w);
}

/* --- the hook's count between the check's copies (check.c) ------------------ */

/* What the target does just before the check's second copy reads the
 * hook's records (the third read of the count and its six slots: the
 * records' own read, then copy A, then copy B):
 *   COVER    the count moves over slot 2, whose record was written before
 *            the records were read (a record is written whole, then the
 *            count covers it);
 *   WRITE    a new record is written in slot 2, empty until then, and
 *            the count covers it;
 *   PAST     the count moves past the slots read (the module wrote
 *            records no copy saw);
 *   BACK     the count moves back (no module does that: memory that is
 *            not what it says). */
enum { HC_COVER = 0, HC_WRITE, HC_PAST, HC_BACK };

typedef struct hc_world {
    lw w;
    const uw_reader_ops *real;
    uint64_t data; /* the buffer's bytes: magic, count, records */
    int mode, reads;
} hc_world;

static hc_world *hc_cur;

static int hc_read(void *ctx, uint64_t addr, void *dst, size_t len)
{
    hc_world *r = hc_cur;

    if (addr == r->data + 8 && len == 8 + 6 * UW_LINK_RECORD && ++r->reads == 3) {
        const uint64_t rec[3] = {r->w.awaiter, r->w.creator, UW_LINK_CREATION};
        const uint64_t count = r->mode == HC_PAST ? 7 : r->mode == HC_BACK ? 1 : 3;
        if (r->mode == HC_WRITE)
            memcpy(fp_ptr(&r->w.fp, r->data + 16 + 2 * UW_LINK_RECORD, sizeof rec), rec,
                   sizeof rec);
        fp_put64(&r->w.fp, r->data + 8, count);
    }
    return r->real->read(ctx, addr, dst, len);
}

static const uw_reader_ops hc_ops = {hc_read, NULL, NULL, NULL};

/* The world with the hook's records (the leaf strongly linked to
 * "gatherer", created by "spawner"; "waiter" awaits the Future), slot 2
 * holding "waiter"'s creation by "spawner" past the count (COVER) or
 * empty (the others), warmed; then one sample in which the target does
 * what `mode` says between the check's copies.  Nothing else moves: the
 * loop's epoch reads 100 throughout. */
static void hc_run(hc_world *r, int mode)
{
    memset(r, 0, sizeof *r);
    lw_build(&r->w, 0);
    r->data =
        lw_hook_third(&r->w, mode == HC_COVER ? r->w.awaiter : 0, r->w.creator, UW_LINK_CREATION);
    lw_start(&r->w);
    r->mode = mode;
    hc_cur = r;
    r->real = r->w.fp.reader.ops;
    r->w.fp.reader.ops = &hc_ops;
    assert_int_equal(uw_unwind_threads(r->w.u, &r->w.s), 0);
    assert_int_equal(uw_unwind_tasks(r->w.t, &r->w.s), 0);
    r->w.fp.reader.ops = r->real;
    assert_int_equal(r->reads, 3); /* the records' read, then each copy */
    assert_int_equal(r->w.s.tasks_error, 0);
    assert_int_equal(r->w.s.n_tasks, 4);
}

/* The hook's count moved while the check read its copies: copy A saw two
 * records, copy B three.  The links of a Task are shown as the records
 * read in every read and covered by the count in both copies give them,
 * which holds at the first copy's instant and, the count only growing,
 * until the second's.  A record the count covers in one copy only names
 * a Task whose links changed in between; every other Task's did not.
 *   COVER: slot 2 read alike three times, covered in copy B only: at copy
 *          A's instant "waiter" had no creation link, and so it is shown
 *          (kept, created by nobody); the leaf keeps both its links.
 *   WRITE: slot 2 written between the copies: "waiter"'s links changed
 *          under the check (skipped, task_changed_while_read); the three
 *          other Tasks are kept with their links.
 * Before, a count that moved left every Task's links unknown, and the
 * check skipped all four (on the model's busy programs with the hook,
 * most of their skips).  Past the slots read, or moving back, the count
 * still leaves every Task's links unknown: records no copy read could
 * name any of them. */
static void test_hook_count_moves(void **state)
{
    hc_world r;
    const uw_task_sample *leaf, *waiter;
    int mode;

    (void)state;
    hc_run(&r, HC_COVER);
    leaf = lw_at(&r.w, r.w.leaf);
    waiter = lw_at(&r.w, r.w.awaiter);
    assert_int_equal(leaf->skipped, 0);
    assert_int_equal(leaf->linked_to, lw_index(&r.w, r.w.strong));
    assert_int_equal(leaf->created_by, lw_index(&r.w, r.w.creator));
    assert_int_equal(waiter->skipped, 0);
    assert_int_equal(waiter->created_by, -1);
    assert_int_equal(waiter->parent, -1);
    assert_int_equal(lw_at(&r.w, r.w.strong)->skipped, 0);
    assert_int_equal(lw_at(&r.w, r.w.creator)->skipped, 0);
    lw_end(&r.w);

    hc_run(&r, HC_WRITE);
    leaf = lw_at(&r.w, r.w.leaf);
    assert_int_equal(leaf->skipped, 0);
    assert_int_equal(leaf->linked_to, lw_index(&r.w, r.w.strong));
    assert_int_equal(leaf->created_by, lw_index(&r.w, r.w.creator));
    assert_int_equal(lw_at(&r.w, r.w.awaiter)->skipped, UW_SKIP_TASK_CHANGED);
    assert_int_equal(lw_at(&r.w, r.w.strong)->skipped, 0);
    assert_int_equal(lw_at(&r.w, r.w.creator)->skipped, 0);
    lw_end(&r.w);

    for (mode = HC_PAST; mode <= HC_BACK; mode++) {
        size_t i;
        hc_run(&r, mode);
        for (i = 0; i < r.w.s.n_tasks; i++)
            if (r.w.s.tasks[i].skipped != UW_SKIP_TASK_CHANGED)
                fail_msg("count %s: Task %s kept (skipped %d) with records unread",
                         mode == HC_PAST ? "past the slots read" : "moved back",
                         r.w.s.tasks[i].name, r.w.s.tasks[i].skipped);
        lw_end(&r.w);
    }
}

/* --- a chain cut at a cycle (compose.c) --------------------------------------- */

/* Task `task`'s root coroutine (which awaits something) made to await a
 * new coroutine "relay", which awaits the root again: a cycle the walk
 * meets at the root's second visit. */
static void lw_await_back(lw *w, uint64_t task)
{
    const uw_layout *l = w->fp.l;
    const uw_asyncio_layout *al = uw__asyncio_layout_for_minor(13);
    const int suspended = uw__layout_for_minor(13)->state_suspended_yield_from;
    uint64_t root, relay;

    memcpy(&root, fp_ptr(&w->fp, task + (uint64_t)al->task_coro, 8), 8);
    relay =
        fp_coro(&w->fp, fp_code(&w->fp, "relay", "/app/work.py", 10, lines, 4), suspended, 2, root);
    fp_put64(&w->fp, root + (uint64_t)l->gen_iframe + (uint64_t)l->frame_localsplus, relay);
}

/* Rule compose_whole_task, on a sample the walk took.  The leaf's own
 * chain cycles (fetch awaits relay, which awaits fetch): the walk keeps
 * the Task, cut with await_cycle, and its stack is refused with that code.
 * Then the same with the awaiter's chain cycling instead: the leaf's own
 * chain is whole, but its parent's is not, and the leaf's stack would
 * stand on frames that never made a stack: refused too, while the Tasks
 * with no cut in their chain (the other two) keep theirs.  Without the
 * rule both are composed from the frames read before the cut. */
static void test_compose_whole_task(void **state)
{
    char stack[256];
    size_t k;

    (void)state;
    for (k = 0; k < 2; k++) { /* the cycle: in the leaf's chain, the awaiter's */
        lw w;
        const uw_task_sample *cut;
        uint64_t at;
        int rc;

        lw_build(&w, 1);
        at = k == 0 ? w.leaf : w.awaiter;
        lw_await_back(&w, at);
        lw_start(&w);
        assert_int_equal(uw_unwind_threads(w.u, &w.s), 0);
        assert_int_equal(uw_unwind_tasks(w.t, &w.s), 0);
        assert_int_equal(w.s.n_tasks, 4);
        cut = lw_at(&w, at);
        assert_int_equal(cut->skipped, 0);
        assert_int_equal(cut->truncated, UW_ERR_AWAIT_CYCLE);
        assert_int_equal(lw_at(&w, w.leaf)->skipped, 0);
        assert_int_equal(lw_at(&w, w.leaf)->parent, lw_index(&w, w.awaiter));
        rc = lw_compose(&w, w.leaf, stack, sizeof stack);
        if (rc == 0)
            fail_msg("leaf composed through %s's cut chain: %s", cut->name, stack);
        assert_int_equal(rc, UW_ERR_AWAIT_CYCLE);
        assert_int_equal(lw_compose(&w, w.strong, stack, sizeof stack), 0);
        assert_string_equal(stack, "<module>|EpollSelector.select|gatherer");
        lw_end(&w);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parent_awaiter_first), cmocka_unit_test(test_parent_strong_first),
        cmocka_unit_test(test_pure_idle_still),      cmocka_unit_test(test_pure_idle_still_instr),
        cmocka_unit_test(test_compose_whole_task),   cmocka_unit_test(test_hook_count_moves),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
