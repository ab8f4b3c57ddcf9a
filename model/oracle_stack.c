/*
 * oracle_stack.c — whole stacks, as users receive them (oracle.h).
 *
 * Every stack uw_compose() builds is judged as it is: root first, the
 * pure Python stack, the ancestors' frames and the leaf's.  It must start
 * at its thread's root frame (else `unrooted`: a separate root in a flame
 * graph), and equal, at one instant of the window, the stack a perfect
 * reader would compose (else `bogus_stack`):
 *   - a leaf Task's: its true frames, then those of its true parent at
 *     that instant (awaiter over strong link over creation link, among the
 *     Tasks the sample holds), and so on, then its loop's pure Python stack
 *     at that instant (from the outermost Handle._run to the root, or the
 *     whole stack when none is linked);
 *   - a thread's own stack (a thread without Task stacks): its true stack.
 * Markers are judged with the frames: the stack must start with one thread
 * marker naming the thread it belongs to, and have one Task marker just
 * before (rootward of) each Task's own frames, naming that Task (its entry
 * at the Task's address, with its name then).  A stack whose frames are
 * right at an instant but whose marker names another Task or thread is a
 * label_leak; a marker out of place makes the stack one that never was.
 * Instants tried: the window's start and every instant at which the loop,
 * or a Task that held the address of the leaf or of one of its stated
 * ancestors, or a Task such a Task's links named, changed (a creation
 * parent that finishes leaves its child a root).
 *
 * The pure Python stack of every thread running a loop is judged on its
 * own too (`bogus_pure`), as before composition existed.
 */
#include "oracle_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tornstack/error.h"
#include "tornstack/limits.h"

/* An item of a true stack: a frame, or a marker (the Task whose frames
 * follow, by address and name; the thread at the root). */
typedef struct mm_titem {
    int kind; /* UW_ITEM_* */
    mm_tframe f;
    uint64_t addr;    /* UW_ITEM_TASK: the Task; UW_ITEM_THREAD: its thread state */
    const char *name; /* UW_ITEM_TASK: its name then */
} mm_titem;

typedef struct mm_sctx {
    mm_oq *q;
    mm_titem *truth; /* a true stack, root first */
    const uw_frame **got;
} mm_sctx;

/* The stack a perfect reader composes for the Task at `leaf` at t, root
 * first, into out, with its markers: the thread at the root, each Task
 * just before (rootward of) its own frames; returns its length, or -1 when
 * no Task is there. */
static int mm_true_stack(const mm_oq *q, uint64_t leaf, int loop, uint64_t t, mm_titem *out,
                         int cap)
{
    int32_t ids[MM_OE_IDS], cur = -1;
    size_t n_ids = mm_world_ids_at_addr(q->w, leaf, ids, MM_OE_IDS), a;
    int n = 0, hops, i;
    mm_tframe tmp[MM_MAX_STACK];

    /* an id that held the address once may name a Task elsewhere at t
     * (ids are reused): only the one alive at the leaf's address counts */
    for (a = 0; a < n_ids && cur < 0; a++) {
        const mm_ttask *k = mm_task_at(q->w, ids[a], t);
        if (k->alive && k->addr == leaf)
            cur = ids[a];
    }
    if (cur < 0)
        return -1;
    /* innermost first, then reversed */
    for (hops = 0; cur >= 0 && hops < MM_OE_CHAIN; hops++) {
        mm_tentry e;
        int k;
        if (!mm_truth_entry(q, cur, t, &e))
            break;
        k = mm_truth_frames(q->w, cur, t, tmp, MM_MAX_STACK);
        for (i = 0; i < k && n < cap; i++)
            out[n++] = (mm_titem){UW_ITEM_FRAME, tmp[i], 0, NULL};
        if (n < cap)
            out[n++] = (mm_titem){UW_ITEM_TASK, {0, 0, 0, 0}, e.addr, e.name};
        cur = e.parent_id;
    }
    i = mm_truth_pure(q->w, loop, t, q->c->handle_run, tmp, MM_MAX_STACK);
    for (a = 0; a < (size_t)i && n < cap; a++)
        out[n++] = (mm_titem){UW_ITEM_FRAME, tmp[a], 0, NULL};
    if (n < cap)
        out[n++] = (mm_titem){UW_ITEM_THREAD, {0, 0, 0, 0}, q->c->tstate[loop], NULL};
    for (i = 0; i < n / 2; i++) {
        mm_titem x = out[i];
        out[i] = out[n - 1 - i];
        out[n - 1 - i] = x;
    }
    return n;
}

/* The instants at which a Task that id's links name (awaiter, strong,
 * creator, the awaiter memory names; at the window's start and end)
 * changed: its true parent is one of them, and ends being so when that
 * Task goes (a creator that finishes leaves its children with no
 * creation parent), so the stack a perfect reader composes for id
 * changes then too. */
static void mm_inst_add_links(mm_oq *q, int32_t id)
{
    const uint64_t ends[2] = {q->t0, q->t1};
    int e;

    for (e = 0; e < 2; e++) {
        const mm_ttask *k = mm_task_at(q->w, id, ends[e]);
        const mm_ref r[4] = {k->awaiter, k->strong, k->creator, k->amem};
        int j;
        for (j = 0; j < 4; j++)
            if (r[j].id >= 0)
                mm_inst_add_task(q, r[j].id);
    }
}

/* A thread's own true stack at t, root first, with its thread marker. */
static int mm_true_thread(const mm_oq *q, int loop, uint64_t t, mm_titem *out, int cap)
{
    const mm_tloop *L = mm_loop_at(q->w, loop, t);
    int n = 0, i;

    if (n < cap)
        out[n++] = (mm_titem){UW_ITEM_THREAD, {0, 0, 0, 0}, q->c->tstate[loop], NULL};
    for (i = 0; i < L->n && n < cap; i++) /* root first, as the loop keeps them */
        out[n++] = (mm_titem){UW_ITEM_FRAME, L->f[i], 0, NULL};
    return n;
}

/* How a composed stack compares with a true one: 0 equal; else what
 * differs first: frames (MM_SD_FRAMES, or an item where the truth has
 * another kind: a marker misplaced), or only a marker naming another Task
 * or thread (MM_SD_LABEL). */
enum { MM_SD_SAME = 0, MM_SD_LABEL = 1, MM_SD_FRAMES = 2 };

static int mm_stack_cmp(const mm_oq *q, const uw_stack *st, const mm_titem *truth, int n)
{
    const uw_sample *s = q->s;
    int label = 0;
    size_t k;

    if ((size_t)n != st->n)
        return MM_SD_FRAMES;
    for (k = 0; k < st->n; k++) {
        const uw_stack_item *it = &st->items[k];
        const mm_titem *tr = &truth[k];
        if ((int)it->kind != tr->kind)
            return MM_SD_FRAMES;
        if (it->kind == UW_ITEM_FRAME) {
            const uw_frame *f = it->frame;
            if (f->addr != tr->f.addr || f->code == NULL || f->code->addr != tr->f.code ||
                f->line != tr->f.line)
                return MM_SD_FRAMES;
        } else if (it->kind == UW_ITEM_TASK) {
            label |= it->index >= s->n_tasks || s->tasks[it->index].addr != tr->addr ||
                     strcmp(s->tasks[it->index].name, tr->name) != 0;
        } else {
            label |= it->index != st->thread || it->index >= s->n_threads ||
                     s->threads[it->index].tstate != tr->addr;
        }
    }
    return label ? MM_SD_LABEL : MM_SD_SAME;
}

static void mm_stack_str(const uw_frame *const *got, size_t m, char *out, size_t cap)
{
    size_t k, off = 0;

    out[0] = '\0';
    for (k = 0; k < m && off + 48 < cap; k++)
        off += (size_t)snprintf(out + off, cap - off, "%s%s:%d", k ? ";" : "",
                                uw_frame_name(got[k]), got[k]->line);
    if (k < m && off + 8 < cap)
        snprintf(out + off, cap - off, ";...");
}

static int mm_stack_cb(void *ctx, const uw_stack *st)
{
    mm_sctx *sc = ctx;
    mm_oq *q = sc->q;
    const uw_sample *s = q->s;
    const uw_thread_sample *th = &s->threads[st->thread];
    int loop = mm_loop_of_tstate(q, th->tstate);
    size_t m = 0, k;
    int matched = MM_SD_FRAMES;
    char buf[400];

    q->v->stacks++;
    if (loop < 0)
        return 0; /* not a thread of the model's loops */
    for (k = 0; k < st->n && m < MM_OE_STACK; k++)
        if (st->items[k].kind == UW_ITEM_FRAME)
            sc->got[m++] = st->items[k].frame;
    if (m == 0 || sc->got[0]->addr != mm_world_loop_cur(q->w, loop)->f[0].addr) {
        mm_stack_str(sc->got, m, buf, sizeof buf);
        if (st->task >= 0)
            mm_violation(q, MM_V_UNROOTED,
                         "task 0x%" PRIx64 " (%s): its stack does not start at the thread's root "
                         "frame (pure Python stack %s, thread %s): %s",
                         s->tasks[st->task].addr, s->tasks[st->task].name,
                         th->pure_start >= 0 && (size_t)th->pure_start < th->n_frames ? "given"
                                                                                      : "missing",
                         uw_errname(th->truncated), buf);
        else
            mm_violation(q, MM_V_UNROOTED,
                         "thread %" PRIu64 " (%s): its own stack does not start at its root "
                         "frame: %s",
                         th->native_id, uw_errname(th->truncated), buf);
        return 0;
    }
    mm_inst_reset(q);
    mm_inst_add_loop(q, loop);
    if (st->task >= 0) {
        int64_t i = st->task;
        int hops;
        for (hops = 0; i >= 0 && (size_t)i < s->n_tasks && hops < MM_OE_CHAIN; hops++) {
            int32_t ids[MM_OE_IDS];
            size_t n_ids = mm_world_ids_at_addr(q->w, s->tasks[i].addr, ids, MM_OE_IDS), a;
            for (a = 0; a < n_ids; a++) {
                mm_inst_add_task(q, ids[a]);
                mm_inst_add_links(q, ids[a]);
            }
            i = s->tasks[i].parent;
        }
    }
    mm_inst_done(q);
    for (k = 0; k < q->n_inst && matched != MM_SD_SAME; k++) {
        int n = st->task >= 0 ? mm_true_stack(q, s->tasks[st->task].addr, loop, q->inst[k],
                                              sc->truth, MM_OE_STACK)
                              : mm_true_thread(q, loop, q->inst[k], sc->truth, MM_OE_STACK);
        int d = n >= 0 ? mm_stack_cmp(q, st, sc->truth, n) : MM_SD_FRAMES;
        if (d < matched)
            matched = d; /* a marker wrong is closer than frames wrong */
    }
    if (matched == MM_SD_LABEL) {
        mm_stack_str(sc->got, m, buf, sizeof buf);
        mm_violation(q, MM_V_LABEL_LEAK,
                     "the stack %s of %s %" PRIx64 " has a marker naming another Task or "
                     "thread: %s",
                     st->task >= 0 ? "of task" : "of thread",
                     st->task >= 0 ? s->tasks[st->task].name : "",
                     st->task >= 0 ? s->tasks[st->task].addr : th->native_id, buf);
    } else if (matched != MM_SD_SAME) {
        mm_stack_str(sc->got, m, buf, sizeof buf);
        if (st->task >= 0)
            mm_violation(q, MM_V_BOGUS_STACK,
                         "the stack of task 0x%" PRIx64 " (%s) never existed: %s",
                         s->tasks[st->task].addr, s->tasks[st->task].name, buf);
        else
            mm_violation(q, MM_V_BOGUS_STACK,
                         "thread %" PRIu64 "'s own stack (%s%s) never existed: %s", th->native_id,
                         uw_errname(th->truncated), th->top_dropped ? ", top dropped" : "", buf);
    }
    return 0;
}

void mm_check_stacks(mm_oq *q)
{
    uint32_t skipped[UW_REASON_SLOTS];
    mm_sctx sc;
    int rc, r;

    memset(skipped, 0, sizeof skipped);
    sc.q = q;
    sc.truth = malloc(MM_OE_STACK * sizeof *sc.truth);
    sc.got = malloc(MM_OE_STACK * sizeof *sc.got);
    if (sc.truth == NULL || sc.got == NULL) {
        free(sc.truth);
        free(sc.got);
        return;
    }
    rc =
        (q->c->compose != NULL ? q->c->compose : uw_compose)(q->s, NULL, mm_stack_cb, &sc, skipped);
    if (rc != 0)
        mm_violation(q, MM_V_BOGUS_STACK, "uw_compose failed: %s", uw_errname(rc));
    /* a still process: a leaf whose stack cannot be composed for a reason
     * other than a skip already counted is a skip too */
    if (q->c->still) {
        static const int why[] = {UW_ERR_LINK_CYCLE, UW_ERR_LIMIT_LINKS, UW_ERR_LIMIT_STACK,
                                  UW_ERR_INVALID_ARG};
        for (r = 0; r < (int)(sizeof why / sizeof why[0]); r++)
            if (skipped[uw_reason_slot(why[r])] != 0)
                mm_violation(q, MM_V_STILL_SKIP,
                             "nothing moved, yet %u stacks were not composed: %s",
                             skipped[uw_reason_slot(why[r])], uw_errname(why[r]));
    }
    free(sc.truth);
    free(sc.got);
}

void mm_check_pure(mm_oq *q)
{
    const uw_sample *s = q->s;
    size_t t, k;
    mm_tframe truth[MM_MAX_STACK];

    if (s->n_tasks == 0)
        return;
    for (t = 0; t < s->n_threads; t++) {
        const uw_thread_sample *th = &s->threads[t];
        int loop = mm_loop_of_tstate(q, th->tstate), matched = 0;
        size_t np;
        if (th->running_loop == 0 || loop < 0 || th->truncated != 0)
            continue;
        if (th->pure_start < 0 || (size_t)th->pure_start > th->n_frames)
            continue;
        np = th->n_frames - (size_t)th->pure_start;
        mm_inst_reset(q);
        mm_inst_add_loop(q, loop);
        mm_inst_done(q);
        for (k = 0; k < q->n_inst && !matched; k++) {
            int n = mm_truth_pure(q->w, loop, q->inst[k], q->c->handle_run, truth, MM_MAX_STACK);
            size_t i;
            if ((size_t)n != np)
                continue;
            for (i = 0; i < np; i++) {
                const uw_frame *f = &s->frames[th->first_frame + (size_t)th->pure_start + i];
                if (f->addr != truth[i].addr || f->code == NULL || f->code->addr != truth[i].code ||
                    f->line != truth[i].line)
                    break;
            }
            matched = i == np;
        }
        if (!matched)
            mm_violation(
                q, MM_V_BOGUS_PURE, "thread %" PRIu64 ": %zu frames, innermost %s", th->native_id,
                np, np ? uw_frame_name(&s->frames[th->first_frame + (size_t)th->pure_start]) : "-");
    }
}
