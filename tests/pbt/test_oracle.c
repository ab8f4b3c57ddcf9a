/*
 * test_oracle.c — the oracle is honest both ways.
 *
 * A perfect sample is built from the truth itself (no unwinder involved):
 * every thread's linked frames with its pure Python stack split at the
 * outermost Handle._run, every live Task with its true frames, name,
 * coroutine, links (awaiter over strong link over creation link) and
 * awaited Tasks (from 3.14 also the Tasks whose task_awaited_by names it,
 * after those its fut_waiter leads to, in sample order; and its awaiter
 * is the one its task_awaited_by names when no fut_waiter leads to it).
 * The oracle must find nothing wrong with it, in a still window and at
 * the end of a moving one.  Then one field at a time is made wrong, as a
 * faulty unwinder would, and the oracle must report that fault's kind:
 *   - a stale pure-stack split (a pure frame from another instant):
 *     bogus_pure and bogus_stack;
 *   - no pure Python stack: unrooted;
 *   - an unvalidated link: link_leak;
 *   - an unvalidated name: label_leak;
 *   - a frame of another Task: leak;
 *   - a field from another instant: entry_mismatch;
 *   - a skip while nothing moved, a Task left out of a still sample:
 *     still_skip;
 *   - a thread's loop another thread's or none, a running Task its
 *     thread state never named: thread_field;
 *   - a Task marker naming another Task, or a thread marker another
 *     thread: label_leak;
 *   - a Task marker out of its place, a thread marker missing:
 *     bogus_stack.
 * Seeds: TORNSTACK_SEED as in test_model.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "campaign.h"
#include "mut_internal.h"
#include "tornstack/compose.h"
#include "tornstack/error.h"
#include "tornstack/limits.h"

static uint64_t seed;
/* perfect samples whose gather lists a bound cut (the cut fault judged) */
static unsigned gather_cuts, gather_cut_left_out;

/* Code infos the synthetic frames point at (the oracle compares code by
 * address only). */
#define MAX_CODES 4096
static uw_code_info codes[MAX_CODES];
static size_t n_codes;

static const uw_code_info *code_info(uint64_t addr)
{
    size_t i;
    for (i = 0; i < n_codes; i++)
        if (codes[i].addr == addr)
            return &codes[i];
    assert_true(n_codes < MAX_CODES);
    memset(&codes[n_codes], 0, sizeof codes[n_codes]);
    codes[n_codes].addr = addr;
    return &codes[n_codes++];
}

static void add_frame(uw_sample *s, const mm_tframe *f)
{
    uw_frame fr;
    memset(&fr, 0, sizeof fr);
    fr.addr = f->addr;
    fr.code = code_info(f->code);
    fr.line = f->line;
    assert_int_equal(uw_sample_add_frame(s, &fr), 0);
}

static int cmp_task(const void *a, const void *b)
{
    uint64_t x = ((const uw_task_sample *)a)->addr, y = ((const uw_task_sample *)b)->addr;
    return x < y ? -1 : x > y;
}

static int64_t index_of(const uw_sample *s, uint64_t addr)
{
    size_t i;
    for (i = 0; addr != 0 && i < s->n_tasks; i++)
        if (s->tasks[i].addr == addr)
            return (int64_t)i;
    return -1;
}

static uint64_t ref_addr(const mm_world *w, mm_ref r, uint64_t t)
{
    const mm_ttask *k = mm_ref_at(w, r, t);
    return k != NULL ? k->addr : 0;
}

/* What a Task awaits, as a perfect reader within the documented gather
 * bounds states it: the first UW_LIMIT_GATHER_CHILDREN items of each list,
 * UW_LIMIT_GATHER_NESTING levels; *cut set when a bound cut something (the
 * sample then says gather_limit). */
static void awaited(const mm_world *w, int kind, mm_ref r, uint64_t t, uint64_t *out, int *n,
                    int depth, int *cut)
{
    if (kind == MM_W_TASK) {
        uint64_t a = ref_addr(w, r, t);
        if (a != 0)
            out[(*n)++] = a;
    } else if (kind == MM_W_GATHER) {
        const mm_tgather *g = mm_gather_get(w, r);
        int i;
        if (g == NULL)
            return;
        if (depth >= UW_LIMIT_GATHER_NESTING) {
            *cut = 1;
            return;
        }
        for (i = 0; i < g->n; i++) {
            if (i == UW_LIMIT_GATHER_CHILDREN) {
                *cut = 1;
                break;
            }
            awaited(w, g->is_gather[i] ? MM_W_GATHER : MM_W_TASK, g->item[i], t, out, n, depth + 1,
                    cut);
        }
    }
}

/* The sample a perfect reader takes at instant t. */
static void perfect(const mm_world *w, const mm_oracle_ctx *c, const mm_image *im, uint64_t t,
                    uw_sample *s)
{
    size_t id, i;
    int loop;

    uw_sample_reset(s);
    for (loop = 0; loop < mm_world_loops(w); loop++) {
        const mm_tloop *L = mm_loop_at(w, loop, t);
        uw_thread_sample *th;
        int k, split = -1;
        assert_int_equal(uw_sample_add_thread(s, c->tstate[loop], im->interp, 0, &th), 0);
        th->running_loop = im->th[loop].loop;
        th->running_task = L->running_addr;
        th->native_id = 4242 + (uint64_t)loop;
        for (k = L->n; k-- > 0;) {
            add_frame(s, &L->f[k]);
            th->n_frames++;
        }
        for (k = 0; k < L->n; k++) /* innermost-first index of the outermost Handle._run */
            if (L->f[k].code == c->handle_run) {
                split = L->n - 1 - k;
                break;
            }
        th->split = split;
        th->pure_start = split >= 0 ? split : 0;
    }
    for (id = 0; id < mm_world_tasks(w); id++) {
        const mm_ttask *k = mm_task_at(w, (int32_t)id, t);
        uw_task_sample *ts;
        mm_tframe f[MM_MAX_STACK];
        int n, j;
        if (!k->alive)
            continue;
        assert_int_equal(uw_sample_add_task(s, &ts), 0);
        memset(ts, 0, sizeof *ts);
        ts->addr = k->addr;
        ts->coro = k->coro;
        ts->coro_code = code_info(k->code);
        ts->thread = (size_t)k->loop;
        ts->running = k->running;
        snprintf(ts->name, sizeof ts->name, "%s", k->name);
        ts->first_frame = s->n_frames;
        n = mm_truth_frames(w, (int32_t)id, t, f, MM_MAX_STACK);
        for (j = 0; j < n; j++)
            add_frame(s, &f[j]);
        ts->n_frames = (size_t)n;
    }
    qsort(s->tasks, s->n_tasks, sizeof *s->tasks, cmp_task);
    for (i = 0; i < s->n_tasks; i++) {
        uw_task_sample *ts = &s->tasks[i];
        const mm_ttask *k = NULL;
        uint64_t aw[64];
        int32_t kid = -1;
        int n = 0, j, ci, cut = 0;
        for (id = 0; id < mm_world_tasks(w) && k == NULL; id++) {
            const mm_ttask *x = mm_task_at(w, (int32_t)id, t);
            if (x->alive && x->addr == ts->addr) {
                k = x;
                kid = (int32_t)id;
            }
        }
        assert_non_null(k);
        awaited(w, k->waiter_kind, k->waiter, t, aw, &n, 0, &cut);
        ts->first_awaiting = s->n_awaiting;
        for (j = 0; j < n; j++)
            if (index_of(s, aw[j]) >= 0)
                assert_int_equal(uw_sample_add_awaiting(s, (size_t)index_of(s, aw[j])), 0);
        for (ci = 0; ci < (int)s->n_tasks; ci++) { /* 3.14+: task_awaited_by names it */
            const mm_ttask *x = NULL;
            int dup = 0;
            size_t a;
            for (id = 0; id < mm_world_tasks(w) && x == NULL; id++) {
                const mm_ttask *y = mm_task_at(w, (int32_t)id, t);
                if (y->alive && y->addr == s->tasks[ci].addr)
                    x = y;
            }
            if (x == NULL || x->amem.id != kid || x->amem.gen != k->gen)
                continue;
            for (a = ts->first_awaiting; a < s->n_awaiting && !dup; a++)
                dup = s->awaiting[a] == (size_t)ci;
            if (!dup)
                assert_int_equal(uw_sample_add_awaiting(s, (size_t)ci), 0);
        }
        ts->n_awaiting = s->n_awaiting - ts->first_awaiting;
        if (cut)
            s->tasks_error = UW_ERR_LIMIT_GATHER;
        ts->awaited_by = index_of(s, ref_addr(w, k->awaiter, t));
        if (ts->awaited_by < 0)
            ts->awaited_by = index_of(s, ref_addr(w, k->amem, t));
        ts->linked_to = index_of(s, ref_addr(w, k->strong, t));
        ts->created_by = index_of(s, ref_addr(w, k->creator, t));
        ts->parent = ts->awaited_by >= 0  ? ts->awaited_by
                     : ts->linked_to >= 0 ? ts->linked_to
                                          : ts->created_by;
    }
}

typedef struct world {
    mm_space *sp;
    mm_image im;
    mm_mutator *m;
    mm_oracle_ctx ctx;
} world;

/* A server program with loops, gathers, TaskGroups, children, orphans and
 * hook records, run `stores` stores. */
static void world_new(world *wd, int minor, uint64_t x, size_t stores, int joins)
{
    uint8_t b[MM_SCENARIO_BYTES];
    mm_scenario sc;
    size_t i;
    int l;

    for (i = 0; i < sizeof b; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        b[i] = (uint8_t)(x >> 24);
    }
    mm_scenario_set_minor(b, minor);
    b[20] = 0; /* no swarm */
    b[21] = MM_SHAPE_SERVER;
    b[22] = 1;     /* two loops */
    b[23] = 3;     /* four workers each */
    b[25] = 20;    /* children */
    b[26] = 30;    /* gathers */
    b[27] = 10;    /* TaskGroups */
    b[28] = 30;    /* orphans */
    b[31] = 1 | 2; /* hook records, nested gathers */
    b[35] = MM_SCALE_SMALL;
    mm_scenario_decode(b, sizeof b, -1, -1, &sc);
    sc.prog.p_join = joins;
    assert_int_equal(mm_space_new(&wd->sp), 0);
    assert_int_equal(mm_fab_process(wd->sp, sc.minor, &wd->im), 0);
    assert_int_equal(mm_mutator_new(&wd->im, &sc.prog, sc.seed, &wd->m), 0);
    for (i = 0; i < stores; i++)
        (void)mm_mutator_step(wd->m);
    memset(&wd->ctx, 0, sizeof wd->ctx);
    wd->ctx.w = mm_mutator_world(wd->m);
    wd->ctx.handle_run = mm_mutator_handle_run(wd->m);
    wd->ctx.n_loops = mm_world_loops(wd->ctx.w);
    for (l = 0; l < wd->ctx.n_loops; l++)
        wd->ctx.tstate[l] = mm_mutator_tstate(wd->m, l);
    wd->ctx.im = &wd->im;
}

static void world_free(world *wd)
{
    mm_mutator_free(wd->m);
    mm_space_free(wd->sp);
}

/* A still window: nothing moves between its start and its end. */
static void still_window(world *wd)
{
    mm_world_begin(mm_mutator_world(wd->m), mm_mutator_time(wd->m));
    mm_world_end(mm_mutator_world(wd->m), mm_mutator_time(wd->m));
    wd->ctx.still = 1;
}

static uint64_t judge(world *wd, const uw_sample *s, mm_verdict *v)
{
    mm_verdict_init(v);
    (void)mm_oracle_check(s, &wd->ctx, v);
    return mm_verdict_violations(v);
}

/* A Task index of the sample matching pred, -1 if none. */
static int64_t find(const uw_sample *s, int (*pred)(const uw_sample *, size_t))
{
    size_t i;
    for (i = 0; i < s->n_tasks; i++)
        if (pred(s, i))
            return (int64_t)i;
    return -1;
}

static int suspended_with_frames(const uw_sample *s, size_t i)
{
    return !s->tasks[i].running && s->tasks[i].n_frames > 1;
}

static int no_parent(const uw_sample *s, size_t i)
{
    return s->tasks[i].parent < 0 && s->tasks[i].n_frames > 0 && !s->tasks[i].running;
}

/* Whether the world's registry set is within UW_LIMIT_SET_SLOTS: past it
 * the unwinder reads no Task (set_limit), and the oracle cannot ask for
 * every registered one (a build with small bounds, the small-limits
 * preset). */
static int registry_within_bounds(const world *wd)
{
    uint64_t mask = 0;

    assert_int_equal(
        mm_space_read(wd->im.space, wd->im.registry + (uint64_t)wd->im.l->set_mask, &mask, 8), 0);
    return mask + 1 <= UW_LIMIT_SET_SLOTS;
}

/* A perfect still sample s with one Task left out: a leaf with no parent
 * whose address no longer names the registered Task.  Judged, that is a
 * still_skip whatever the sample's tasks_error says (every Task is read
 * whatever the gathers).  Returns 1 when judged; 0 when s has no such
 * Task or the registry is past the unwinder's bounds (nothing to judge). */
static int left_out_judged(world *wd, uw_sample *s)
{
    int64_t a = find(s, no_parent);
    mm_verdict v;

    if (!registry_within_bounds(wd) || a < 0 || !uw_compose_is_leaf(s, (size_t)a))
        return 0;
    s->tasks[a].skipped = 0;
    s->tasks[a].addr ^= 0x10; /* no longer the registered Task */
    judge(wd, s, &v);
    assert_true(v.viol[MM_V_STILL_SKIP] > 0);
    return 1;
}

/* A composer that makes one kind of mistake with the markers, as a faulty
 * uw_compose would: it composes with uw_compose and changes each stack
 * before the oracle sees it. */
enum { MK_NONE, MK_TASK_OTHER, MK_TASK_MOVED, MK_THREAD_OTHER, MK_THREAD_NONE };
static int mk_mode;
static int mk_changed;

typedef struct mk_fwd {
    uw_stack_fn fn;
    void *ctx;
    const uw_sample *s;
    uw_stack_item items[8192];
} mk_fwd;

static int mk_cb(void *ctx, const uw_stack *st)
{
    mk_fwd *f = ctx;
    uw_stack out = *st;
    size_t k, n = st->n < 8192 ? st->n : 8192;

    memcpy(f->items, st->items, n * sizeof *f->items);
    out.items = f->items;
    out.n = n;
    for (k = 0; k < n; k++) {
        uw_stack_item *it = &f->items[k];
        if (mk_mode == MK_TASK_OTHER && it->kind == UW_ITEM_TASK && f->s->n_tasks > 1) {
            it->index = it->index == 0 ? 1 : 0; /* another Task's entry */
            mk_changed++;
            break;
        }
        if (mk_mode == MK_TASK_MOVED && it->kind == UW_ITEM_TASK && k + 1 < n &&
            f->items[k + 1].kind == UW_ITEM_FRAME) {
            uw_stack_item x = f->items[k + 1]; /* one frame rootward of it */
            f->items[k + 1] = *it;
            *it = x;
            mk_changed++;
            break;
        }
        if (mk_mode == MK_THREAD_OTHER && it->kind == UW_ITEM_THREAD && f->s->n_threads > 1) {
            it->index = it->index == 0 ? 1 : 0;
            mk_changed++;
            break;
        }
        if (mk_mode == MK_THREAD_NONE && it->kind == UW_ITEM_THREAD) {
            memmove(&f->items[k], &f->items[k + 1], (n - k - 1) * sizeof *f->items);
            out.n--;
            mk_changed++;
            break;
        }
    }
    return f->fn(f->ctx, &out);
}

static int mk_compose(const uw_sample *s, const uw_compose_options *o, uw_stack_fn fn, void *ctx,
                      uint32_t *skipped)
{
    static mk_fwd f;
    f.fn = fn;
    f.ctx = ctx;
    f.s = s;
    return uw_compose(s, o, mk_cb, &f, skipped);
}

/* The perfect sample judged with a composer making marker mistakes of one
 * kind: the oracle reports them as that kind. */
static void marker_faults(world *wd, uw_sample *s)
{
    static const struct {
        int mode, kind;
    } cases[] = {{MK_TASK_OTHER, MM_V_LABEL_LEAK},
                 {MK_TASK_MOVED, MM_V_BOGUS_STACK},
                 {MK_THREAD_OTHER, MM_V_LABEL_LEAK},
                 {MK_THREAD_NONE, MM_V_BOGUS_STACK}};
    mm_verdict v;
    size_t c;

    wd->ctx.compose = mk_compose;
    for (c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        mk_mode = cases[c].mode;
        mk_changed = 0;
        judge(wd, s, &v);
        assert_true(mk_changed > 0);
        if (v.viol[cases[c].kind] == 0)
            fprintf(stderr, "marker fault %d not caught as %s: %.300s\n", mk_mode,
                    mm_vkind_name(cases[c].kind), v.first);
        assert_true(v.viol[cases[c].kind] > 0);
    }
    mk_mode = MK_NONE;
    judge(wd, s, &v); /* the composer itself changes nothing */
    assert_int_equal(mm_verdict_violations(&v), 0);
    wd->ctx.compose = NULL;
}

/* The perfect sample passes; each fault is reported as its kind. */
static void faults(int minor)
{
    uint64_t x = seed ^ ((uint64_t)minor << 20) ^ 0x77;
    int rounds, left_out = 0, within = 0;

    for (rounds = 0; rounds < 6; rounds++) {
        world wd;
        uw_sample s;
        mm_verdict v;
        int64_t a, b;

        x = x * 6364136223846793005ull + 1442695040888963407ull;
        world_new(&wd, minor, x, 3000 + 700 * (size_t)rounds, 0);
        still_window(&wd);
        uw_sample_init(&s);

        perfect(wd.ctx.w, &wd.ctx, &wd.im, mm_world_t0(wd.ctx.w), &s);
        if (judge(&wd, &s, &v) != 0)
            fprintf(stderr, "perfect sample judged wrong: %s\n", v.first);
        assert_int_equal(mm_verdict_violations(&v), 0);
        assert_true(v.stacks > 0 && v.emitted > 4);

        /* a gather list cut at its bound (worlds of the small-limits
         * build): shown cut without the sample saying gather_limit, it is
         * an entry of no instant */
        if (s.tasks_error == UW_ERR_LIMIT_GATHER) {
            s.tasks_error = 0;
            judge(&wd, &s, &v);
            assert_true(v.viol[MM_V_MISMATCH] > 0);
            gather_cuts++;
            /* ... and gather_limit explains no Task left out of a still
             * sample (every Task is read whatever the gathers) */
            perfect(wd.ctx.w, &wd.ctx, &wd.im, mm_world_t0(wd.ctx.w), &s);
            gather_cut_left_out += (unsigned)left_out_judged(&wd, &s);
        }

        /* a stale pure-stack split: a frame of the pure Python stack from
         * another instant (its line moved) */
        perfect(wd.ctx.w, &wd.ctx, &wd.im, mm_world_t0(wd.ctx.w), &s);
        s.frames[s.threads[0].first_frame + s.threads[0].n_frames - 2].line += 1;
        judge(&wd, &s, &v);
        assert_true(v.viol[MM_V_BOGUS_PURE] > 0);
        assert_true(v.viol[MM_V_BOGUS_STACK] > 0);

        /* no pure Python stack under the Task stacks */
        perfect(wd.ctx.w, &wd.ctx, &wd.im, mm_world_t0(wd.ctx.w), &s);
        s.threads[0].pure_start = (int64_t)s.threads[0].n_frames;
        judge(&wd, &s, &v);
        assert_true(v.viol[MM_V_UNROOTED] > 0);

        /* an unvalidated link: a parent that never was one */
        perfect(wd.ctx.w, &wd.ctx, &wd.im, mm_world_t0(wd.ctx.w), &s);
        a = find(&s, no_parent);
        assert_true(a >= 0);
        b = a == 0 ? 1 : 0;
        s.tasks[a].created_by = s.tasks[a].parent = b;
        judge(&wd, &s, &v);
        if (v.viol[MM_V_LINK_LEAK] == 0)
            fprintf(stderr, "unvalidated link not caught: %.300s\n", v.first);
        assert_true(v.viol[MM_V_LINK_LEAK] > 0);

        /* an unvalidated name: another Task's */
        perfect(wd.ctx.w, &wd.ctx, &wd.im, mm_world_t0(wd.ctx.w), &s);
        a = find(&s, suspended_with_frames);
        assert_true(a >= 0);
        b = a == 0 ? 1 : 0;
        memcpy(s.tasks[a].name, s.tasks[b].name, sizeof s.tasks[a].name);
        judge(&wd, &s, &v);
        assert_true(v.viol[MM_V_LABEL_LEAK] > 0);

        /* a frame of another Task */
        perfect(wd.ctx.w, &wd.ctx, &wd.im, mm_world_t0(wd.ctx.w), &s);
        a = find(&s, suspended_with_frames);
        for (b = 0; b < (int64_t)s.n_tasks && (b == a || s.tasks[b].n_frames == 0); b++)
            ;
        assert_true(b < (int64_t)s.n_tasks);
        s.frames[s.tasks[a].first_frame] = s.frames[s.tasks[b].first_frame];
        judge(&wd, &s, &v);
        assert_true(v.viol[MM_V_LEAK] > 0);

        /* a field from another instant: marked running, frames suspended */
        perfect(wd.ctx.w, &wd.ctx, &wd.im, mm_world_t0(wd.ctx.w), &s);
        a = find(&s, suspended_with_frames);
        s.tasks[a].running = 1;
        judge(&wd, &s, &v);
        assert_true(v.viol[MM_V_MISMATCH] > 0);

        /* a skipped entry is judged on what it still shows: its own name
         * with no frames passes (the oracle counts the skip, no
         * violation, beyond a skip while nothing moved) ... */
        perfect(wd.ctx.w, &wd.ctx, &wd.im, mm_world_t0(wd.ctx.w), &s);
        a = find(&s, suspended_with_frames);
        assert_true(a >= 0);
        s.tasks[a].skipped = UW_SKIP_TASK_CHANGED;
        s.tasks[a].n_frames = 0;
        judge(&wd, &s, &v);
        assert_int_equal(v.viol[MM_V_LABEL_LEAK], 0);
        assert_int_equal(v.viol[MM_V_LINK_LEAK], 0);
        assert_int_equal(v.viol[MM_V_MISMATCH], 0);
        /* ... another Task's name on it is a label leak ... */
        b = a == 0 ? 1 : 0;
        memcpy(s.tasks[a].name, s.tasks[b].name, sizeof s.tasks[a].name);
        judge(&wd, &s, &v);
        assert_true(v.viol[MM_V_LABEL_LEAK] > 0);
        /* ... an unknown label is no claim ... */
        s.tasks[a].label_unknown = 1;
        s.tasks[a].name[0] = '\0';
        s.tasks[a].coro_code = NULL;
        judge(&wd, &s, &v);
        assert_int_equal(v.viol[MM_V_LABEL_LEAK], 0);
        /* ... "running" of a Task that never ran is a mismatch ... */
        s.tasks[a].running = 1;
        judge(&wd, &s, &v);
        assert_true(v.viol[MM_V_MISMATCH] > 0);
        /* ... and so are frames */
        s.tasks[a].running = 0;
        s.tasks[a].n_frames = 1;
        judge(&wd, &s, &v);
        assert_true(v.viol[MM_V_BOGUS] > 0);

        /* a thread's loop that is another thread's, or none; a running
         * Task its thread state never named */
        perfect(wd.ctx.w, &wd.ctx, &wd.im, mm_world_t0(wd.ctx.w), &s);
        assert_true(s.n_threads >= 2 && s.threads[0].running_loop != s.threads[1].running_loop);
        s.threads[0].running_loop = s.threads[1].running_loop;
        judge(&wd, &s, &v);
        assert_true(v.viol[MM_V_THREAD_FIELD] > 0);
        s.threads[0].running_loop = 0;
        judge(&wd, &s, &v);
        assert_true(v.viol[MM_V_THREAD_FIELD] > 0);
        perfect(wd.ctx.w, &wd.ctx, &wd.im, mm_world_t0(wd.ctx.w), &s);
        assert_int_equal(s.threads[0].running_task, 0); /* none before 3.14 */
        s.threads[0].running_task = s.tasks[0].addr;
        judge(&wd, &s, &v);
        assert_true(v.viol[MM_V_THREAD_FIELD] > 0);

        /* markers misplaced or naming another Task or thread */
        perfect(wd.ctx.w, &wd.ctx, &wd.im, mm_world_t0(wd.ctx.w), &s);
        marker_faults(&wd, &s);

        /* a skip while nothing moved */
        perfect(wd.ctx.w, &wd.ctx, &wd.im, mm_world_t0(wd.ctx.w), &s);
        s.tasks[0].skipped = UW_SKIP_TASK_CHANGED;
        judge(&wd, &s, &v);
        assert_true(v.viol[MM_V_STILL_SKIP] > 0);

        /* a Task left out while nothing moved (judged only of a registry
         * the unwinder can read whole) */
        perfect(wd.ctx.w, &wd.ctx, &wd.im, mm_world_t0(wd.ctx.w), &s);
        if (!registry_within_bounds(&wd)) {
            print_message("a Task left out: not judged, the registry is over UW_LIMIT_SET_SLOTS "
                          "(%d) in this build\n",
                          (int)UW_LIMIT_SET_SLOTS);
        } else {
            within++;
            left_out += left_out_judged(&wd, &s);
        }
        uw_sample_free(&s);
        world_free(&wd);
    }
    /* The left-out Task was judged in some world wherever a registry could
     * be read whole: a world without a parentless leaf in every round would
     * leave the rule untested. */
    print_message("3.%d: a Task left out judged in %d of %d worlds read whole\n", minor, left_out,
                  within);
    if (within > 0)
        assert_true(left_out > 0);
}

static void test_faults_311(void **st)
{
    (void)st;
    faults(11);
}
static void test_faults_312(void **st)
{
    (void)st;
    faults(12);
}
static void test_faults_313(void **st)
{
    (void)st;
    faults(13);
}

/* At the end of a moving window, the perfect sample of that instant
 * passes too, and so does the one of its start. */
static void test_moving(void **st)
{
    uint64_t x = seed ^ 0x1234;
    int minor, r;

    (void)st;
    for (minor = 11; minor <= 15; minor++) {
        for (r = 0; r < 4; r++) {
            world wd;
            uw_sample s;
            mm_verdict v;
            int k;
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            world_new(&wd, minor, x, 4000, 0);
            mm_world_begin(mm_mutator_world(wd.m), mm_mutator_time(wd.m));
            uw_sample_init(&s);
            perfect(wd.ctx.w, &wd.ctx, &wd.im, mm_mutator_time(wd.m), &s); /* the start */
            for (k = 0; k < 300; k++)
                (void)mm_mutator_step(wd.m);
            mm_world_end(mm_mutator_world(wd.m), mm_mutator_time(wd.m));
            wd.ctx.still = 0;
            if (judge(&wd, &s, &v) != 0)
                fprintf(stderr, "perfect sample of the window's start judged wrong: %s\n", v.first);
            assert_int_equal(mm_verdict_violations(&v), 0);
            perfect(wd.ctx.w, &wd.ctx, &wd.im, mm_world_t1(wd.ctx.w), &s); /* the end */
            if (judge(&wd, &s, &v) != 0)
                fprintf(stderr, "perfect sample of the window's end judged wrong: %s\n", v.first);
            assert_int_equal(mm_verdict_violations(&v), 0);
            if (minor >= 14) {
                /* 3.14+: a running Task of the other loop, which this
                 * thread state cannot have named */
                size_t i;
                for (i = 0; i < s.n_tasks && s.tasks[i].thread != 1; i++)
                    ;
                assert_true(i < s.n_tasks);
                s.threads[0].running_task = s.tasks[i].addr;
                judge(&wd, &s, &v);
                assert_true(v.viol[MM_V_THREAD_FIELD] > 0);
            }
            uw_sample_free(&s);
            world_free(&wd);
        }
    }
}

/* Awaiter over strong link over creation link: with a Task awaited by one
 * Task and created by another, a parent chosen by the wrong precedence is
 * caught. */
static void test_precedence(void **st)
{
    uint64_t x = seed ^ 0x9876;
    int minor, found = 0, r;

    (void)st;
    for (minor = 11; minor <= 15; minor++) {
        for (r = 0; r < 16; r++) {
            world wd;
            uw_sample s;
            mm_verdict v;
            size_t i;
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            world_new(&wd, minor, x, 8000, 60);
            still_window(&wd);
            uw_sample_init(&s);
            perfect(wd.ctx.w, &wd.ctx, &wd.im, mm_world_t0(wd.ctx.w), &s);
            if (judge(&wd, &s, &v) != 0)
                fprintf(stderr, "3.%d: perfect sample judged wrong: %s\n", minor, v.first);
            assert_int_equal(mm_verdict_violations(&v), 0);
            for (i = 0; i < s.n_tasks; i++) {
                uw_task_sample *ts = &s.tasks[i];
                if (ts->awaited_by < 0 || ts->created_by < 0 || ts->awaited_by == ts->created_by)
                    continue;
                found++;
                ts->parent = ts->created_by; /* creation over awaiter: wrong */
                judge(&wd, &s, &v);
                assert_true(v.viol[MM_V_MISMATCH] + v.viol[MM_V_BOGUS_STACK] > 0);
                ts->parent = ts->awaited_by;
                break;
            }
            uw_sample_free(&s);
            world_free(&wd);
        }
    }
    printf("oracle: %d Tasks awaited by one Task and created by another\n", found);
    assert_true(found > 0);
}

/* Where the bounds let a world's gather lists be cut (the small-limits
 * build), the fault tests met such a list and judged its fault; and, in
 * the first still world (of up to 256) with a cut list and a registry read
 * whole, a Task left out is a still_skip whatever gather_limit says
 * (TORNSTACK_SEED=1 found the oracle taking the cut for an excuse). */
static void test_gather_cut_judged(void **st)
{
    uint64_t x = seed ^ 0x6a7;
    int tries, judged = 0;

    (void)st;
    if (UW_LIMIT_GATHER_CHILDREN >= MM_GATHER_MAX) {
        print_message("gather cut: no world's list passes UW_LIMIT_GATHER_CHILDREN (%d) in this "
                      "build; the small-limits build runs this test\n",
                      (int)UW_LIMIT_GATHER_CHILDREN);
        skip();
    }
    for (tries = 0; tries < 256 && judged < 1; tries++) {
        world wd;
        uw_sample s;

        x = x * 6364136223846793005ull + 1442695040888963407ull;
        world_new(&wd, 11 + tries % 3, x, 3000 + 100 * (size_t)(tries % 8), 0);
        still_window(&wd);
        uw_sample_init(&s);
        perfect(wd.ctx.w, &wd.ctx, &wd.im, mm_world_t0(wd.ctx.w), &s);
        if (s.tasks_error == UW_ERR_LIMIT_GATHER)
            judged += left_out_judged(&wd, &s);
        uw_sample_free(&s);
        world_free(&wd);
    }
    printf("gather cut: %u perfect samples with a cut list, each judged; a Task left out beside "
           "a cut judged in %u of them and in %d of %d more worlds\n",
           gather_cuts, gather_cut_left_out, judged, tries);
    assert_true(gather_cuts > 0);
    assert_true(judged > 0);
}

int main(void)
{
    const char *env = getenv("TORNSTACK_SEED");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_faults_311), cmocka_unit_test(test_faults_312),
        cmocka_unit_test(test_faults_313), cmocka_unit_test(test_moving),
        cmocka_unit_test(test_precedence), cmocka_unit_test(test_gather_cut_judged),
    };

    seed = env != NULL ? strtoull(env, NULL, 0) : 20261125u;
    printf("oracle: TORNSTACK_SEED=%llu\n", (unsigned long long)seed);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
