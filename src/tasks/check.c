/*
 * check.c — the chain check: everything a Task's entry was read from, read
 * again, twice, in one vectored read between two readings of each loop's
 * epoch.
 *
 * A Task's entry was read over a stretch of time: its chain level by level
 * (chains.c), its name (names.c), its links (gather.c, links.c).  The
 * check's one read holds: every loop's epoch, copy A of what each Task
 * depends on, copy B of the same, then the epochs again.  Per Task, in this
 * order:
 *   span     its loop, state, waiter, coroutine and name pointer (one
 *            piece: a Task object reused with its coroutine and name at
 *            the same addresses may be another loop's);
 *   coro     each coroutine of its chain (unless it runs on the thread
 *            stack), and its awaitee's value-stack slot as a piece of its
 *            own, whatever the stack's depth; then what the chain stopped
 *            at (its type, a coroutine's state): a coroutine that had
 *            returned when read and is another one now continues it;
 *   name     the bytes its name was decoded from;
 *   deps     the bytes each link was decided from (deps.c);
 *   callback before 3.14, its one done callback when callbacks.c found
 *            it to be one that no awaiter adds: the callable's type up to
 *            the word telling what it is, and a method's set's type;
 *   own      3.14+, a Task placed on the thread stack that another Task's
 *            awaited_by may name: each of its own frames, which must
 *            resolve to the walk's code and line (with its thread's
 *            current frame among the thread pieces): then the Tasks that
 *            name it are its children with the walk's frames
 *            (awaited_by.c).
 * Threads with a Task found resuming (place.c), or with such a placed
 * Task, add, before the Tasks, the pointer to their current frame (through the cframe
 * on 3.11/3.12); and the hook module's count and records are read whole, once: a record that
 * appeared is as much a change as one that went.  Records that changed
 * alike in both copies give the links of the check's instant; a count
 * that moved leaves every Task's strong and creation links unknown (its
 * Tasks are not trusted).
 *
 * A Task is kept only if
 *   - copy A reads as the walk saw it: still pending with the same
 *     coroutine and name object; every coroutine in the same state at the
 *     same instruction, code and value-stack depth, with the same awaitee,
 *     and its `previous` cleared (a coroutine marks itself suspended
 *     before it unlinks); its name decodes to the name shown;
 *   - copy B reads as copy A;
 *   - its loop's epoch did not move from the first piece to the last.
 * Its links (the waiter, every dependency) must read the same in A as
 * when decided and in B as in A, or they are not shown and the Task is not
 * trusted either.  Equal values alone prove nothing across callbacks: a
 * Task whose step ended and whose next step began between two reads can
 * show the same values again (ABA), mixed from two steps.  With the epoch
 * unchanged, one callback ran at most, so one Task moved at most, within
 * one step: its fut_waiter cleared first, its coroutines resumed root
 * first, suspended innermost first, its new waiter (and the gather it
 * built before) set last.  Two copies of it in that order, one after the
 * other, cannot agree on a mix of before and after (docs/tasks.md has the
 * argument).  A moved epoch gets the read retried (UW_VALIDATE_RETRIES);
 * still moving, the Tasks of that loop that are not on the thread stack
 * are skipped (loop_stepped_while_read).
 *
 * Two kinds of Task lean on the thread walk, so its epoch must still be
 * the walk's (the same callback throughout):
 *   - a Task placed on the thread stack (the running Task at the walk)
 *     needs only its span, and its loop's epoch equal to the one its walk
 *     was bracketed with, in both readings (loop_stepped_since_walk): a
 *     new callback could have freed it and put another Task with a
 *     coroutine at the same address (same code) in its place;
 *   - a Task resuming (its root marked running, or its `previous` set,
 *     but not linked on the stack) keeps its chain only if the thread's
 *     current frame is still the walk's innermost, Handle._run, in both
 *     copies: then nothing is linked above it and the chain is the Task's
 *     stack; else it is skipped as running_task_not_on_stack.
 *
 * Bounds: the views hold UW_CHECK_PIECES_MAX pieces and UW_CHECK_BYTES_MAX
 * bytes a copy (scratch.c); a Task whose pieces would not fit is not
 * trusted (task_changed_while_read) and its links are not shown.
 */
#include <string.h>

#include "internal/rules.h"
#include "internal/uw_assert.h"
#include "tasks_int.h"
#include "tornstack/error.h"

#ifndef UW_VALIDATE_RETRIES
#define UW_VALIDATE_RETRIES 3
#endif
/* A retry is made only while no epoch moved by more than this in the
 * attempt before: a loop that started several callbacks during one read
 * starts as many during the next, of the same length, and the retry would
 * only cost its bytes (a busy program's check is megabytes). */
#define UW_VALIDATE_RETRY_MOVES 2

enum {
    UW_CK_THREAD_CF = 1,
    UW_CK_THREAD_CUR,
    UW_CK_THREAD_IP,
    UW_CK_THREAD_FRAME, /* the middle group's only (uw_pure_queue) */
    UW_CK_HOOK,
    UW_CK_SPAN,
    UW_CK_CORO,
    UW_CK_SLOT,
    UW_CK_END,
    UW_CK_NAME,
    UW_CK_DEP,
    UW_CK_OWN,
    UW_CK_PEER,
    UW_CK_CALLBACK
};

/* A coroutine's piece reaches on to its awaitee's slot when the slot lies
 * within this many bytes of the coroutine's start (one piece instead of
 * two; each piece of a read costs the reader). */
#define UW_CHECK_SLOT_REACH 512

/* What a piece of copy A is (copy B's piece i is the same). */
typedef struct uw__ckpiece {
    uint8_t kind;
    size_t task; /* work index; thread index for the thread pieces */
    size_t ref;  /* coroutine frame or dependency index */
} uw__ckpiece;

/* The Task fields fut_loop .. task_name, as one piece [lo, hi). */
typedef struct uw_check_span {
    size_t lo, hi;
} uw_check_span;

static uw_check_span uw_task_span(const uw_asyncio_layout *al)
{
    const int32_t f[5] = {al->fut_loop, al->fut_state, al->task_coro, al->task_fut_waiter,
                          al->task_name};
    uw_check_span sp = {SIZE_MAX, 0};
    int i;

    for (i = 0; i < 5; i++) {
        if ((size_t)f[i] < sp.lo)
            sp.lo = (size_t)f[i];
        if ((size_t)f[i] + 8 > sp.hi)
            sp.hi = (size_t)f[i] + 8;
    }
    if (al->fut_awaited_by >= 0) { /* 3.14+: its awaiters, and whether a set */
        if ((size_t)al->fut_awaited_by < sp.lo)
            sp.lo = (size_t)al->fut_awaited_by;
        if ((size_t)al->fut_awaited_by + 8 > sp.hi)
            sp.hi = (size_t)al->fut_awaited_by + 8;
        if ((size_t)al->fut_awaited_by_is_set < sp.lo)
            sp.lo = (size_t)al->fut_awaited_by_is_set;
        if ((size_t)al->fut_awaited_by_is_set + 1 > sp.hi)
            sp.hi = (size_t)al->fut_awaited_by_is_set + 1;
    }
    return sp;
}

/* Do two copies of a Task's span agree on the fields compared (the rest
 * of the span, callbacks and flags, may change freely)? */
static int uw_span_same(const uw_asyncio_layout *al, const uw_check_span *sp, const uint8_t *x,
                        const uint8_t *y)
{
    const int32_t f[4] = {al->fut_loop, al->task_coro, al->task_fut_waiter, al->task_name};
    int i;

    for (i = 0; i < 4; i++)
        if (uw__u64(x + ((size_t)f[i] - sp->lo)) != uw__u64(y + ((size_t)f[i] - sp->lo)))
            return 0;
    if (al->fut_awaited_by >= 0 && (uw__u64(x + ((size_t)al->fut_awaited_by - sp->lo)) !=
                                        uw__u64(y + ((size_t)al->fut_awaited_by - sp->lo)) ||
                                    x[(size_t)al->fut_awaited_by_is_set - sp->lo] !=
                                        y[(size_t)al->fut_awaited_by_is_set - sp->lo]))
        return 0;
    return uw__i32(x + ((size_t)al->fut_state - sp->lo)) ==
           uw__i32(y + ((size_t)al->fut_state - sp->lo));
}

size_t uw__ckpiece_size(void)
{
    return sizeof(uw__ckpiece);
}

size_t uw__check_span_len(const uw_asyncio_layout *al)
{
    uw_check_span sp = uw_task_span(al);
    return sp.hi - sp.lo;
}

/* --- queueing ---------------------------------------------------------------- */

typedef struct uw_ckq {
    uw_iov *a;
    uw__ckpiece *what;
    size_t n, used, room;
    int full;
} uw_ckq;

static void uw_ck_put(uw_tasks *t, uw_ckq *q, int kind, size_t task, size_t ref, uint64_t addr,
                      size_t len)
{
    uint8_t *dst = uw__bytes(&t->sc.copy_a, q->used, len);

    if (q->full || dst == NULL || uw__bytes(&t->sc.copy_b, q->used, len) == NULL ||
        q->n >= q->room) {
        q->full = 1;
        return;
    }
    q->a[q->n] = (uw_iov){addr, dst, len, 0};
    q->what[q->n] = (uw__ckpiece){(uint8_t)kind, task, ref};
    q->n++;
    q->used += len;
}

/* Copy B: the pieces of copy A again, each into its place in copy_b
 * (q->a[q->n ..]). */
static void uw_ck_mirror(uw_tasks *t, uw_ckq *q)
{
    size_t i;

    for (i = 0; i < q->n; i++)
        q->a[q->n + i] =
            (uw_iov){q->a[i].addr, t->sc.copy_b.p + ((uint8_t *)q->a[i].dst - t->sc.copy_a.p),
                     q->a[i].len, 0};
}

/* 3.14+: is Task i placed on its thread stack (and kept so far) while
 * another Task's awaited_by, as discovery read it, may name it (its
 * address, or a set)?  Then its own frames and its thread's current frame
 * are read again, to give those edges an instant (awaited_by.c). */
static int uw_named_running(const uw_tasks *t, size_t i)
{
    const uw_task_work *w = &t->work[i];
    size_t k;

    if (t->al->fut_awaited_by < 0 || !w->on_stack || w->skipped != 0 || w->n_own == 0)
        return 0;
    for (k = 0; k < t->n_work; k++)
        if (k != i && t->work[k].awaited_by != 0 &&
            (t->work[k].awaited_by_is_set || t->work[k].awaited_by == w->addr))
            return 1;
    return 0;
}

/* Does Task w get its chain and name judged (not skipped, not placed)? */
static int uw_judged(const uw_task_work *w)
{
    return w->skipped == 0;
}

/* The bytes of a chain's end the check reads, from its type word: the
 * type alone, or for a coroutine up to its state and its frame's owner
 * (both lie in the window a level reads of it: uw_level_decode). */
static size_t uw_end_len(const uw_layout *l, const uw_task_work *w)
{
    size_t st = (size_t)(l->gen_frame_state - l->object_type) + 1;
    size_t ow = (size_t)(l->gen_iframe + l->frame_owner - l->object_type) + 1;

    if (w->end_state == UW_END_NO_STATE)
        return 8;
    return w->end_owner != UW_END_NO_STATE && ow > st ? ow : st;
}

/* Copy A's pieces of Task i (rolled back, and the Task not trusted, when
 * they do not fit). */
static void uw_ck_task(uw_tasks *t, const uw_sample *s, uw_ckq *q, size_t i)
{
    uw_task_work *w = &t->work[i];
    const uw_check_span sp = uw_task_span(t->al);
    const size_t n0 = q->n, used0 = q->used;
    size_t k;

    uw_ck_put(t, q, UW_CK_SPAN, i, 0, w->addr + sp.lo, sp.hi - sp.lo);
    if (uw_judged(w) && !w->on_stack) {
        for (k = 0; k < w->n_cf; k++) {
            size_t c = w->first_cf + k;
            uint64_t slot = UW__U64(&t->sc.cf_slot)[c];
            uint64_t gen = uw__frame_gen_addr(t->l, UW__U64(&t->sc.cf_addr)[c]);
            size_t len = uw__gen_window(t->l);
            int inline_slot = slot != 0 && slot >= gen && slot - gen <= UW_CHECK_SLOT_REACH;
            if (inline_slot && slot - gen + 8 > len)
                len = (size_t)(slot - gen) + 8;
            uw_ck_put(t, q, UW_CK_CORO, i, c, gen, len);
            if (slot != 0 && !inline_slot)
                uw_ck_put(t, q, UW_CK_SLOT, i, c, slot, 8);
        }
        if (w->end_obj != 0) /* its type, up to a coroutine's state and owner */
            uw_ck_put(t, q, UW_CK_END, i, 0, w->end_obj + (uint64_t)t->l->object_type,
                      uw_end_len(t->l, w));
    }
    if (uw_judged(w) && w->name_len > 0)
        uw_ck_put(t, q, UW_CK_NAME, i, 0, w->name_obj, (size_t)w->name_len);
    for (k = 0; k < w->n_dep; k++) {
        const uw__dep *d = uw__dep_get(t, w->first_dep + k);
        uw_ck_put(t, q, UW_CK_DEP, i, w->first_dep + k, d->addr, d->len);
    }
    if (uw_named_running(t, i)) /* its own frames, innermost first */
        for (k = 0; k < w->n_own; k++)
            uw_ck_put(t, q, UW_CK_OWN, i, k, s->frames[w->own_first + k].addr,
                      (size_t)t->l->frame_size);
    if (w->cb_kind != UW_CB_NONE) { /* its one callback (callbacks.c) */
        uw_ck_put(t, q, UW_CK_CALLBACK, i, 0, w->cb0 + (uint64_t)t->l->object_type, w->cb_len);
        if (w->cb_kind == UW_CB_SET_METHOD)
            uw_ck_put(t, q, UW_CK_CALLBACK, i, 1, w->cb_word + (uint64_t)t->l->object_type, 8);
    }
    if (q->full) {
        q->n = n0;
        q->used = used0;
        q->full = 0;
        w->check_cut = 1; /* cannot check it: do not trust it */
    }
}

int uw__loop_idle_walk(const uw_thread_sample *th)
{
    return th->running_loop != 0 && th->split < 0 && th->pure_start >= 0;
}

/* The thread pieces of thread th_i: its current-frame pointer as the walk
 * read it (3.11/3.12: the cframe pointer, then the cframe's current
 * frame). */
static void uw_ck_thread(uw_tasks *t, uw_ckq *q, const uw_thread_sample *th, size_t th_i)
{
    const uw_layout *l = t->l;

    if (l->tstate_cframe != UW_ABSENT) {
        uw_ck_put(t, q, UW_CK_THREAD_CF, th_i, 0, th->tstate + (uint64_t)l->tstate_cframe, 8);
        uw_ck_put(t, q, UW_CK_THREAD_CUR, th_i, 0, th->cframe + (uint64_t)l->cframe_current_frame,
                  8);
    } else {
        uw_ck_put(t, q, UW_CK_THREAD_CUR, th_i, 0, th->tstate + (uint64_t)l->tstate_current_frame,
                  8);
    }
    /* an idle loop: where its innermost frame stood (rule pure_idle_still) */
    if (uw__loop_idle_walk(th) && UW_RULE(pure_idle_still_instr))
        uw_ck_put(t, q, UW_CK_THREAD_IP, th_i, 0,
                  th->shown_top != 0 ? th->shown_top + (uint64_t)l->frame_instr : 0, 8);
}

/* --- judging ----------------------------------------------------------------- */

/* The fields of a coroutine the check compares. */
typedef struct uw_coro_fields {
    int state;
    uint64_t instr, code, previous;
    int32_t depth;
} uw_coro_fields;

static uw_coro_fields uw_fields_of_copy(const uw_tasks *t, const uint8_t *co, uint64_t frame)
{
    const uint8_t *f = uw__gen_frame(t->l, co);
    uw_coro_fields x;

    x.state = uw__gen_state(t->l, co);
    x.instr = uw__frame_instr(t->l, f);
    x.code = uw__frame_code(t->l, f);
    x.previous = uw__frame_previous(t->l, f);
    x.depth = uw__frame_stack_depth(t->l, f, frame);
    return x;
}

/* The fields as the chain read saw them. */
static uw_coro_fields uw_fields_read(const uw_tasks *t, size_t c)
{
    const uint8_t *mine = t->sc.cf_bytes.p + c * t->sc.cf_bytes.elem;
    uw_coro_fields x;

    x.state = ((const int8_t *)(const void *)t->sc.cf_state.p)[c];
    x.instr = uw__frame_instr(t->l, mine);
    x.code = uw__frame_code(t->l, mine);
    x.previous = uw__frame_previous(t->l, mine);
    x.depth = uw__frame_stack_depth(t->l, mine, UW__U64(&t->sc.cf_addr)[c]);
    return x;
}

/* Do two readings of a coroutine agree on every field the check compares? */
static int uw_fields_eq(const uw_coro_fields *x, const uw_coro_fields *y)
{
    return (!UW_RULE(check_state) || x->state == y->state) &&
           (!UW_RULE(check_instr) || x->instr == y->instr) &&
           (!UW_RULE(check_code) || x->code == y->code) &&
           (!UW_RULE(check_depth) || x->depth == y->depth);
}

/* Is a coroutine read as x unlinked from the thread stack?  A coroutine
 * marks itself suspended before it unlinks and clears its `previous`: until
 * then its Task still runs and its chain is not yet its stack.  (A
 * never-started one may keep the copied `previous` of the frame that made
 * it: it was never linked.  The root of a resuming Task is proven unlinked
 * by its thread's current frame instead.) */
static int uw_unlinked(const uw_tasks *t, const uw_coro_fields *x, int resuming_root)
{
    if (!UW_RULE(check_previous))
        return 1;
    return uw__gen_created(t->l, x->state) || uw__gen_finished(t->l, x->state) ||
           x->previous == 0 || resuming_root;
}

/* Does a copy of frame `addr` (frame_size bytes) resolve to the frame the
 * walk showed there: shown, same code, same line? */
static int uw_frame_again(const uw_tasks *t, uint64_t addr, const uint8_t *copy,
                          const uw_frame *was)
{
    uw_frame f;
    int st = -1;

    memset(&f, 0, sizeof f);
    return uw__frames_from_copies(t->u, &addr, copy, 1, &f, &st, 0) == 0 && st == 0 &&
           f.code != NULL && f.code->addr == was->code->addr && f.line == was->line;
}

/* Task i's pieces from *p on: its verdicts into the work entry. */
static void uw_judge_task(uw_tasks *t, const uw_sample *s, size_t i, const uw_iov *a,
                          const uw_iov *b, const uw__ckpiece *what, size_t *p)
{
    uw_task_work *w = &t->work[i];
    const uw_asyncio_layout *al = t->al;
    const uw_check_span sp = uw_task_span(al);
    int chain = 1, links = 1, span_a = 0, span_b = 0, name = 1, own = 1, cb = 1, cb_span = 0;
    size_t n_own = 0, n_cb = 0;
    const int copy_a = UW_RULE(check_copy_a), copy_b = UW_RULE(check_copy_b);

    for (; *p < t->ck_n && what[*p].task == i && what[*p].kind >= UW_CK_SPAN &&
           what[*p].kind != UW_CK_PEER;
         (*p)++) {
        const uw__ckpiece *pc = &what[*p];
        const uint8_t *x = a[*p].dst, *y = b[*p].dst;
        int ok_a = a[*p].status == 0, ok_b = b[*p].status == 0;
        switch (pc->kind) {
        case UW_CK_SPAN: {
#define UW_F64(buf, off) uw__u64((buf) + ((size_t)(off)-sp.lo))
            span_a = ok_a && (!UW_RULE(check_pending) ||
                              uw__i32(x + ((size_t)al->fut_state - sp.lo)) == al->state_pending);
            span_a = span_a &&
                     (!copy_a || !UW_RULE(check_coro) ||
                      (UW_F64(x, al->task_coro) == w->coro && UW_F64(x, al->fut_loop) == w->loop));
            span_b = ok_b && (!copy_b || uw_span_same(al, &sp, x, y));
            /* alive (pending, its coroutine) at the check, as a parent */
            w->pending_now = ok_a && ok_b && uw_span_same(al, &sp, x, y) &&
                             uw__i32(x + ((size_t)al->fut_state - sp.lo)) == al->state_pending &&
                             UW_F64(x, al->task_coro) == w->coro;
            w->span_known = ok_a && ok_b && uw_span_same(al, &sp, x, y);
            name = (!copy_a || !UW_RULE(check_name) || UW_F64(x, al->task_name) == w->name_obj);
            links =
                (!copy_a || !UW_RULE(check_links) || UW_F64(x, al->task_fut_waiter) == w->waiter);
            /* 3.14+: its awaiters, as the links were read (awaited_by.c) */
            links = links && (al->fut_awaited_by < 0 || !copy_a || !UW_RULE(check_links) ||
                              (UW_F64(x, al->fut_awaited_by) == w->awaited_by &&
                               (x[(size_t)al->fut_awaited_by_is_set - sp.lo] != 0) ==
                                   (w->awaited_by_is_set != 0)));
            w->waiter_now = UW_F64(x, al->task_fut_waiter);
            /* nothing added a done callback: nothing awaits it (both
             * words lie in the span: uw__layout_check_task_walk) */
            w->no_callbacks = ok_a && ok_b && UW_F64(x, al->fut_callback0) == 0 &&
                              UW_F64(x, al->fut_callbacks) == 0 &&
                              UW_F64(y, al->fut_callback0) == 0 &&
                              UW_F64(y, al->fut_callbacks) == 0;
            /* exactly one callback, whatever it is: one awaiter at
             * most (recover.c, uw_held_by) */
            w->one_callback = w->pending_now && UW_F64(x, al->fut_callback0) != 0 &&
                              UW_F64(x, al->fut_callbacks) == 0 &&
                              UW_F64(y, al->fut_callback0) == UW_F64(x, al->fut_callback0) &&
                              UW_F64(y, al->fut_callbacks) == 0;
            /* its one callback, the one callbacks.c decided on */
            cb_span =
                ok_a && ok_b &&
                (!UW_RULE(callback_checked) ||
                 (UW_F64(x, al->fut_callback0) == w->cb0 && UW_F64(x, al->fut_callbacks) == 0 &&
                  UW_F64(y, al->fut_callback0) == w->cb0 && UW_F64(y, al->fut_callbacks) == 0));
            /* 3.14+: who names it its awaiter now, even if it stepped
             * since it was read (awaited_by.c) */
            w->ab_ok = al->fut_awaited_by >= 0 && ok_a && ok_b &&
                       UW_F64(x, al->task_coro) == w->coro && UW_F64(x, al->fut_loop) == w->loop &&
                       UW_F64(y, al->task_coro) == w->coro && UW_F64(y, al->fut_loop) == w->loop &&
                       UW_F64(x, al->fut_awaited_by) == UW_F64(y, al->fut_awaited_by) &&
                       x[(size_t)al->fut_awaited_by_is_set - sp.lo] ==
                           y[(size_t)al->fut_awaited_by_is_set - sp.lo];
            if (w->ab_ok) {
                w->ab_now = UW_F64(x, al->fut_awaited_by);
                w->ab_now_is_set = x[(size_t)al->fut_awaited_by_is_set - sp.lo] != 0;
            }
            /* 3.14+: the awaiter each copy names, kept or not: one not
             * kept (changing, or read off another Task at this address)
             * leaves the Tasks it names with children not known
             * (awaited_by.c) */
            if (al->fut_awaited_by >= 0) {
                w->ab_seen[0] = ok_a ? UW_F64(x, al->fut_awaited_by) : 0;
                w->ab_seen_set[0] = ok_a && x[(size_t)al->fut_awaited_by_is_set - sp.lo] != 0;
                w->ab_seen[1] = ok_b ? UW_F64(y, al->fut_awaited_by) : 0;
                w->ab_seen_set[1] = ok_b && y[(size_t)al->fut_awaited_by_is_set - sp.lo] != 0;
                w->ab_alike = ok_a && ok_b && w->ab_seen[0] == w->ab_seen[1] &&
                              w->ab_seen_set[0] == w->ab_seen_set[1];
            }
#undef UW_F64
            break;
        }
        case UW_CK_CORO: {
            size_t c = pc->ref;
            uint64_t frame = UW__U64(&t->sc.cf_addr)[c], yf = UW__U64(&t->sc.cf_yf)[c];
            uint64_t gen = a[*p].addr, slot = UW__U64(&t->sc.cf_slot)[c];
            int root = c == w->first_cf;
            uw_coro_fields fa, fb, fr = uw_fields_read(t, c);
            if (!ok_a || !ok_b) {
                chain = 0;
                break;
            }
            if (slot != 0 && slot >= gen && slot - gen + 8 <= a[*p].len && UW_RULE(check_awaitee)) {
                /* the awaitee's slot, read with its coroutine */
                size_t at = (size_t)(slot - gen);
                chain = chain && (!copy_a || uw__u64(x + at) == yf) &&
                        (!copy_b || uw__u64(y + at) == uw__u64(x + at));
            }
            fa = uw_fields_of_copy(t, x, frame);
            fb = uw_fields_of_copy(t, y, frame);
            chain = chain && (!copy_a || uw_fields_eq(&fa, &fr)) &&
                    (!copy_b || uw_fields_eq(&fb, &fa)) &&
                    uw_unlinked(t, &fa, root && w->resuming) &&
                    uw_unlinked(t, &fb, root && w->resuming);
            break;
        }
        case UW_CK_SLOT: {
            uint64_t yf = UW__U64(&t->sc.cf_yf)[pc->ref];
            if (!UW_RULE(check_awaitee))
                break;
            chain = chain && ok_a && ok_b && (!copy_a || uw__u64(x) == yf) &&
                    (!copy_b || uw__u64(y) == uw__u64(x));
            break;
        }
        case UW_CK_END: {
            /* what the chain stopped at is still no coroutine going on: its
             * type, and a coroutine's state and frame owner */
            size_t st = (size_t)(t->l->gen_frame_state - t->l->object_type);
            size_t ow = (size_t)(t->l->gen_iframe + t->l->frame_owner - t->l->object_type);
            int same = ok_a && ok_b && w->end_type != 0 && (!copy_a || uw__u64(x) == w->end_type) &&
                       (!copy_b || uw__u64(y) == uw__u64(x));
            if (same && a[*p].len > st)
                same = (!copy_a || (int8_t)x[st] == w->end_state) && (!copy_b || y[st] == x[st]);
            if (same && w->end_owner != UW_END_NO_STATE && a[*p].len > ow &&
                UW_RULE(check_end_owner))
                same = (!copy_a || x[ow] == (uint8_t)w->end_owner) && (!copy_b || y[ow] == x[ow]);
            chain = chain && (!UW_RULE(check_chain_end) || same);
            break;
        }
        case UW_CK_NAME: {
            char na[UW_TASK_NAME_MAX + 1], nb[UW_TASK_NAME_MAX + 1];
            const char *shown = s->tasks[w->out].name;
            size_t more;
            if (!UW_RULE(check_name))
                break;
            name = name && ok_a && ok_b &&
                   uw__name_decode(t, x, a[*p].len, na, sizeof na, &more) == 0 &&
                   uw__name_decode(t, y, b[*p].len, nb, sizeof nb, &more) == 0 &&
                   (!copy_a || strcmp(na, shown) == 0) && (!copy_b || strcmp(nb, na) == 0);
            break;
        }
        case UW_CK_OWN: {
            /* an own frame of a placed Task: the walk's code and line in
             * both copies */
            const uw_frame *was = &s->frames[w->own_first + pc->ref];
            own = own && ok_a && ok_b && was->code != NULL &&
                  uw_frame_again(t, a[*p].addr, x, was) && uw_frame_again(t, a[*p].addr, y, was);
            n_own++;
            break;
        }
        case UW_CK_CALLBACK: {
            /* the callable: its type, and its code (a function) or its
             * object (a method), as decided; a method's set: its type */
            const size_t at = pc->ref == 0 ? w->cb_len - 8 : 0;
            const uint64_t type = pc->ref == 0 ? w->cb_type : w->cb_set_type;
            const uint64_t word = pc->ref == 0 ? w->cb_word : w->cb_set_type;
            cb = cb && ok_a && ok_b && a[*p].len >= at + 8 &&
                 (!UW_RULE(callback_checked) || (uw__u64(x) == type && uw__u64(x + at) == word &&
                                                 uw__u64(y) == type && uw__u64(y + at) == word));
            n_cb++;
            break;
        }
        case UW_CK_DEP: {
            int same = ok_a && ok_b &&
                       (!copy_a || uw__dep_same(t, pc->ref, x, uw__dep_bytes(t, pc->ref))) &&
                       (!copy_b || uw__dep_same(t, pc->ref, y, x));
            links = links && (!UW_RULE(check_links) || same);
            break;
        }
        default:
            break;
        }
    }
    w->span_ok = span_a && span_b;
    w->chain_ok = w->span_ok && chain && name && !w->check_cut && !w->resume_stale && !w->code_late;
    w->links_ok = w->span_ok && links && !w->check_cut && !w->links_cut;
    w->hook_ok = w->span_ok && !w->check_cut && !t->hook_unknown && !w->hook_moved;
    w->frames_now = w->on_stack && n_own > 0 && n_own == w->n_own && own && w->span_ok &&
                    !w->check_cut && UW__SIZE(&t->sc.thread_ok)[w->thread];
    w->cb_harmless = w->cb_kind != UW_CB_NONE && w->span_ok && !w->check_cut && cb_span && cb &&
                     n_cb == (w->cb_kind == UW_CB_SET_METHOD ? 2u : 1u);
}

/* A Task's verdicts of the check, before it is judged (not known). */
static void uw_judge_clear(uw_task_work *w)
{
    w->span_ok = w->chain_ok = w->links_ok = w->hook_ok = w->frames_now = w->ab_ok = 0;
    w->waiter_plain = w->cb_harmless = w->one_callback = 0;
    w->ab_seen[0] = w->ab_seen[1] = 0;
    w->ab_seen_set[0] = w->ab_seen_set[1] = w->ab_alike = 0;
}

/* What a recovery round's check read of a peer's span, before it is
 * judged (not known). */
static void uw_peer_clear(uw_task_work *w)
{
    w->peer_ok = w->peer_same = w->peer_ab_set = w->peer_ab_alike = 0;
    w->peer_waiter = UW_WAITER_UNKNOWN;
    w->peer_ab = 0;
}

/* A peer's span in a recovery round (the piece at *p, if queued): read
 * alike twice, its fut_waiter then, and whether it is still the Task it
 * was (pending, the same coroutine, loop and name object). */
static void uw_judge_peer(uw_tasks *t, size_t i, const uw_iov *a, const uw_iov *b,
                          const uw__ckpiece *what, size_t *p)
{
    uw_task_work *w = &t->work[i];
    const uw_asyncio_layout *al = t->al;
    const uw_check_span sp = uw_task_span(al);
    const uint8_t *x, *y;

    uw_peer_clear(w);
    if (*p >= t->ck_n || what[*p].task != i || what[*p].kind != UW_CK_PEER)
        return;
    x = a[*p].dst;
    y = b[*p].dst;
    if (a[*p].status == 0 && b[*p].status == 0 && al->fut_awaited_by >= 0) {
        w->peer_ab = uw__u64(x + ((size_t)al->fut_awaited_by - sp.lo));
        w->peer_ab_set = x[(size_t)al->fut_awaited_by_is_set - sp.lo] != 0;
        w->peer_ab_alike = w->peer_ab == uw__u64(y + ((size_t)al->fut_awaited_by - sp.lo)) &&
                           w->peer_ab_set == (y[(size_t)al->fut_awaited_by_is_set - sp.lo] != 0);
    }
    if (a[*p].status == 0 && b[*p].status == 0 && uw_span_same(al, &sp, x, y)) {
        w->peer_ok = 1;
        w->peer_waiter = uw__u64(x + ((size_t)al->task_fut_waiter - sp.lo));
        w->peer_same = uw__i32(x + ((size_t)al->fut_state - sp.lo)) == al->state_pending &&
                       uw__u64(x + ((size_t)al->task_coro - sp.lo)) == w->coro &&
                       uw__u64(x + ((size_t)al->fut_loop - sp.lo)) == w->loop &&
                       uw__u64(x + ((size_t)al->task_name - sp.lo)) == w->name_obj;
    }
    (*p)++;
}

/* The thread pieces of a thread: its current frame reads as the walk's, in
 * both copies, and for an idle loop its innermost frame's instruction. */
static int uw_judge_thread(const uw_tasks *t, const uw_thread_sample *th, const uw_iov *a,
                           const uw_iov *b, const uw__ckpiece *what, size_t *p, size_t th_i)
{
    int ok = 1;

    for (; *p < t->ck_n && what[*p].task == th_i && what[*p].kind < UW_CK_HOOK; (*p)++) {
        uint64_t want = what[*p].kind == UW_CK_THREAD_CF    ? th->cframe
                        : what[*p].kind == UW_CK_THREAD_CUR ? th->current_frame
                                                            : th->shown_top_instr;
        if (what[*p].kind == UW_CK_THREAD_IP && th->shown_top == 0)
            ok = 0;
        ok = ok && a[*p].status == 0 && b[*p].status == 0 && uw__u64(a[*p].dst) == want &&
             uw__u64(b[*p].dst) == want;
    }
    return ok;
}

/* Bound on a ready deque's length as read: more handles than this queued
 * at once is taken for a misread, not for a queue (the loop's deque holds
 * what one iteration of _run_once will run). */
#define UW_READY_LEN_MAX ((uint64_t)1 << 32)

/* Did the check of loop epoch e run, at most, handles that were queued
 * when it began?  The deque is appended on the right (call_soon) and
 * popped on the left (_run_once), and each append and pop moves its
 * length by one and its count (state) by one, the length stored first.
 * Read in this order: count (a), length (la), copy A, copy B, length
 * (lb), count (b).  Let P be the pops whose length store came between the
 * two length readings, A the appends: lb - la = A - P, and the count
 * moved between its readings by every one of those and by at most one
 * more whose length was stored before la and its count after a (one
 * operation runs at a time, and a TSO machine shows a thread's stores in
 * the order made): b - a >= A + P - 1.  So P <= (b - a + 1 - (lb - la))
 * / 2, and P <= la means every handle popped during the copies was on the
 * deque when they began: none was queued by a callback they saw run.  A
 * Task has one pending step at most (its wakeup is queued only when what
 * it awaits is done, a bare yield queues the next step), so then no Task
 * stepped twice during the copies, and each Task's pieces, read alike in
 * both, are as they stood between copy A and copy B, but for the one Task
 * (if any) whose step ran across that instant, which shows the state it
 * had just before or just after that step: while it ran, nothing else
 * moved (docs/tasks.md, "More than one callback: the queue's length").
 * A recovery round's check, read at once, holds the same way: its copies
 * give the re-read Tasks' pieces and the others' spans of one such
 * instant, which is all recover.c asks of it; a round read in windows
 * judges each window on its own epoch, strictly (uw_check_windows).
 * Only where the groups share a call (x86, reader.h): a machine that may
 * show a store before an earlier one bounds nothing here. */
static int uw_one_step(const uw_tasks *t, const uw_task_epoch *e)
{
    uint64_t ds;
    int64_t dl;

    if (t->r->group_calls)
        return 0;
    if (!UW_RULE(check_one_step_bound))
        return 1;
    if (e->la > UW_READY_LEN_MAX || e->lb > UW_READY_LEN_MAX || e->b < e->a ||
        e->b - e->a > UW_READY_LEN_MAX)
        return 0;
    ds = e->b - e->a;
    dl = (int64_t)e->lb - (int64_t)e->la;
    return (int64_t)ds + 1 - dl <= 2 * (int64_t)e->la;
}

/* The first check's read with its middle group (uw_pure_queue): [counts
 * a][lengths a][copy A], then for each window [epochs][middle, first
 * copy][middle, second copy], then [epochs][copy B][lengths b][counts b]:
 * 3 * UW_PURE_WINDOWS + 7 ordered groups, read through ck_rd and put back
 * where each piece belongs. */
#define UW_MID_GROUPS (3 * UW_PURE_WINDOWS + 7)
static void uw_check_read_mid(uw_tasks *t, uw_iov *iov, size_t ne, size_t n)
{
    uw__pure_mid *m = &t->mid;
    const size_t nt = m->n_th, nm = m->n, head = 2 * ne + n, tail = n + 2 * ne;
    const size_t all = head + (UW_PURE_WINDOWS + 1) * nt + 2 * UW_PURE_WINDOWS * nm + tail;
    size_t end[UW_MID_GROUPS], g = 0, w;
    uw_iov *rd = UW__IOV(&t->sc.ck_rd);
    size_t at = 0;

    UW_ASSERT(UW_MID_GROUPS <= UW_READV_GROUPS_MAX);
    UW_ASSERT(t->sc.ck_rd.have >= all); /* reserved by uw_pure_queue */
    end[g++] = ne;
    end[g++] = 2 * ne;
    memcpy(rd + at, iov, head * sizeof *rd), at += head;
    end[g++] = at;
    for (w = 0; w < UW_PURE_WINDOWS; w++) {
        memcpy(rd + at, m->ec[w], nt * sizeof *rd), at += nt;
        end[g++] = at;
        memcpy(rd + at, m->a[w], nm * sizeof *rd), at += nm;
        end[g++] = at;
        memcpy(rd + at, m->b[w], nm * sizeof *rd), at += nm;
        end[g++] = at;
    }
    memcpy(rd + at, m->ec[UW_PURE_WINDOWS], nt * sizeof *rd), at += nt;
    end[g++] = at;
    memcpy(rd + at, iov + head, tail * sizeof *rd), at += n;
    end[g++] = at;
    at += ne;
    end[g++] = at;
    at += ne;
    end[g++] = at;
    UW_ASSERT(at == all && g == UW_MID_GROUPS);
    (void)uw_readv_groups(t->r, rd, all, end, g);
    at = 0;
    memcpy(iov, rd + at, head * sizeof *rd), at += head;
    for (w = 0; w < UW_PURE_WINDOWS; w++) {
        memcpy(m->ec[w], rd + at, nt * sizeof *rd), at += nt;
        memcpy(m->a[w], rd + at, nm * sizeof *rd), at += nm;
        memcpy(m->b[w], rd + at, nm * sizeof *rd), at += nm;
    }
    memcpy(m->ec[UW_PURE_WINDOWS], rd + at, nt * sizeof *rd), at += nt;
    memcpy(iov + head, rd + at, tail * sizeof *rd);
}

/* The one read, retried while an epoch moved, by no more than
 * UW_VALIDATE_RETRY_MOVES (UW_VALIDATE_RETRIES more times at most), unless
 * every loop that moved ran only handles queued before (uw_one_step):
 * [counts a][lengths a][copy A][copy B][lengths b][counts b], six ordered
 * groups (the reader reads a group's pieces in any order, and merges two
 * pieces of one address into one read: copy B must be read after all of
 * copy A, and the epochs around both); the first check's middle group
 * goes between the copies (uw_check_read_mid). */
static void uw_check_read(uw_tasks *t, uw_iov *iov, size_t ne, size_t n)
{
    const uw_iov *b_lens = iov + 2 * ne + 2 * n, *b_epochs = b_lens + ne;
    const size_t end[6] = {ne, 2 * ne, 2 * ne + n, 2 * ne + 2 * n, 3 * ne + 2 * n, 4 * ne + 2 * n};
    unsigned attempt;
    size_t k;

    for (attempt = 0;; attempt++) {
        int stepped = 0, busy = 0;
        if (UW_RULE(check_ordered_read) && t->mid.n_th > 0)
            uw_check_read_mid(t, iov, ne, n);
        else if (UW_RULE(check_ordered_read))
            (void)uw_readv_groups(t->r, iov, 4 * ne + 2 * n, end, 6);
        else
            (void)uw_readv(t->r, iov, 4 * ne + 2 * n); /* one group, any order */
        if (!UW_RULE(check_ordered_read))
            t->mid.n_th = 0; /* not read: nothing to judge */
        for (k = 0; k < ne; k++) {
            t->ep[k].moved =
                iov[k].status != 0 || b_epochs[k].status != 0 || t->ep[k].a != t->ep[k].b;
            t->ep[k].one_step =
                !t->ep[k].moved ||
                (iov[ne + k].status == 0 && b_lens[k].status == 0 && uw_one_step(t, &t->ep[k]));
            stepped |= !t->ep[k].one_step;
            busy |= t->ep[k].moved && (iov[k].status != 0 || b_epochs[k].status != 0 ||
                                       t->ep[k].b - t->ep[k].a > UW_VALIDATE_RETRY_MOVES);
        }
        t->ck_busy = busy;
        if (!stepped || busy || attempt == UW_VALIDATE_RETRIES)
            break;
    }
}

/* Reserve the check's views for this sample. */
static int uw_check_reserve(uw_tasks *t, const uw_sample *s)
{
    size_t pieces = 3 * s->n_threads + 1 + 5 * t->n_work + 2 * t->n_cf + t->n_dep, bytes = 0, i;
    int rc;

    for (i = 0; i < t->n_work; i++) {
        /* its span (twice: a windowed round reads it once more), name, end */
        bytes += 2 * uw__check_span_len(t->al) + (size_t)t->work[i].name_len + 16;
        if (uw_named_running(t, i)) {
            pieces += t->work[i].n_own;
            bytes += t->work[i].n_own * (size_t)t->l->frame_size;
        }
        if (t->work[i].cb_kind != UW_CB_NONE) { /* the callable, a set's type */
            pieces += 2;
            bytes += t->work[i].cb_len + 8;
        }
    }
    bytes += t->n_cf * (uw__gen_window(t->l) + 8 + UW_CHECK_SLOT_REACH) + t->n_dep_bytes +
             24 * s->n_threads + t->hook_len;
    if (t->recovering && t->hook_len > 0) { /* a windowed round: the hook in every window */
        pieces += UW_RECOVER_WINDOWS;
        bytes += (size_t)UW_RECOVER_WINDOWS * t->hook_len;
    }
    if (pieces > UW_CHECK_PIECES_MAX)
        pieces = UW_CHECK_PIECES_MAX;
    if (bytes > UW_CHECK_BYTES_MAX)
        bytes = UW_CHECK_BYTES_MAX;
    if ((rc = uw__view_reserve(&t->sc.check_iov, 2 * (2 * t->n_ep + pieces))) != 0 ||
        (rc = uw__view_reserve(&t->sc.check_what, pieces)) != 0 ||
        (rc = uw__view_reserve(&t->sc.copy_a, bytes)) != 0 ||
        (rc = uw__view_reserve(&t->sc.copy_b, bytes)) != 0)
        return rc;
    /* the hook records as judged: the records only, not the count word */
    if (t->hook_len > 0 && (rc = uw__view_reserve(&t->sc.hook_now, t->hook_len - 8)) != 0)
        return rc;
    return 0;
}

/* Is the thread's loop epoch, in both readings of the check, the one its
 * walk was bracketed with (the same callback since the walk)?  A loop with
 * no epoch at all (no ready deque to count: not asyncio's own loop) cannot
 * say: it gets the checks that need none (docs/tasks.md). */
static int uw_same_callback(const uw_tasks *t, const uw_sample *s, size_t th_i)
{
    const uw_thread_sample *th = &s->threads[th_i];
    const uw_task_epoch *e = uw__epoch_of(t, th_i);

    if (!UW_RULE(check_epoch) || e == NULL)
        return 1;
    return !e->moved && th->epoch_loop != 0 && th->epoch_loop == th->running_loop &&
           e->a == th->epoch && !th->anchored;
}

/* Mark the Task named as the child by a hook record as changed. */
static void uw_hook_moved(uw_tasks *t, const uint8_t *rec)
{
    int64_t c = uw__task_find(t, uw__u64(rec));

    if (c >= 0)
        t->work[c].hook_moved = 1;
}

/* The hook module's records read again (the piece at *p), record by
 * record: those that read the same when decided and in both copies, and
 * that copy A's count covers, give the links; a record that changed
 * leaves its child's (any child it named) not known; a count past the
 * records read (in either copy), or one that went back, every Task's.
 * The count may move between the copies: it is a high-water mark, so a
 * record covered in copy A is covered from then on, and the links given
 * are those at copy A's instant, for every Task.  A record that only
 * copy B's count covers names a child whose links changed in between,
 * but only in a step of another Task (a Task's own step records only
 * its children), so the child's chain, which both copies read alike, was
 * the same at copy A's instant; every other Task's records stood
 * throughout.  Skipping every Task when the count moved (as before) cost
 * the model's busy programs with the hook most of their skips.  Returns
 * 0, or UW_ERR_NOMEM (the sample fails rather than skip Tasks for a
 * change that did not happen). */
static int uw_judge_hook(uw_tasks *t, const uw_iov *a, const uw_iov *b, size_t *p)
{
    const uint8_t *x = a[*p].dst, *y = b[*p].dst, *r = t->sc.hook.p;
    const size_t nrec = (t->hook_len - 8) / UW_LINK_RECORD;
    const int copy_a = UW_RULE(check_copy_a), copy_b = UW_RULE(check_copy_b);
    uint64_t count;
    size_t i, n = 0;

    (*p)++;
    if (!UW_RULE(check_hook))
        return 0;
    if (a[*p - 1].status != 0 || b[*p - 1].status != 0) {
        t->hook_unknown = 1;
        return 0;
    }
    count = uw__u64(x);
    if (t->hook_cut && count > nrec && (!copy_b || uw__u64(y) > nrec))
        count = nrec; /* past UW_LIMIT_LINK_RECORDS: the first records count */
    else if (count > nrec || (copy_b && (uw__u64(y) > nrec || uw__u64(y) < count))) {
        t->hook_unknown = 1;
        return 0;
    }
    for (i = 0; i < nrec; i++) {
        const uint8_t *rr = r + 8 + i * UW_LINK_RECORD, *xr = x + 8 + i * UW_LINK_RECORD,
                      *yr = y + 8 + i * UW_LINK_RECORD;
        if ((copy_a && memcmp(rr, xr, UW_LINK_RECORD) != 0) ||
            (copy_b && memcmp(yr, xr, UW_LINK_RECORD) != 0)) {
            uw_hook_moved(t, rr);
            uw_hook_moved(t, xr);
            uw_hook_moved(t, yr);
            continue;
        }
        if (i < count) /* stable: one of the records the links come from */
            memcpy(t->sc.hook_now.p + UW_LINK_RECORD * n++, xr, UW_LINK_RECORD);
        else
            memset(t->sc.hook_now.p + UW_LINK_RECORD * n++, 0, UW_LINK_RECORD);
    }
    return uw__hook_parse(t, t->sc.hook_now.p, n, t->hook_start);
}

/* A round's hook record rec differs from the one decided: the Task it
 * names as the child, if read again in this window (any, unwindowed),
 * cannot keep the links it was shown with. */
static void uw_round_hook_moved(uw_tasks *t, const uint8_t *rec, size_t win)
{
    int64_t c = uw__task_find(t, uw__u64(rec));

    if (c >= 0 && t->work[c].recheck && (t->ck_nw == 0 || t->work[c].ck_win == win))
        t->work[c].round_hook = 1;
}

/* A recovery round's read of the hook module's records (the piece at
 * *p, one per window of a windowed round, its window in `ref`): the links
 * a Task read again is shown with were decided from the records before
 * the first check, and hold at its instant only if the records naming it
 * are then what was decided.  Record by record (those read, the count's
 * and UW_HOOK_MARGIN free slots past it: links.c), both copies of its
 * window (or of the round) must read as decided; a record that differs
 * marks the Task it named, or names, as the child (round_hook), and a
 * count past the records read, or a piece not read, the whole window
 * (round_hook_moved: a record past those read may name any Task; past
 * UW_LIMIT_LINK_RECORDS only the first records count, as decided).  Such
 * Tasks are not kept (recover.c).  Why two copies suffice: the epoch unmoved, one callback
 * ran at most, and a callback either adds records (a Task's step) or
 * removes them (a done callback), never both, so a record equal before
 * and after was so throughout. */
static void uw_judge_round_hook(uw_tasks *t, const uw_iov *a, const uw_iov *b,
                                const uw__ckpiece *what, size_t *p)
{
    const uint8_t *r = t->sc.hook.p, *x = a[*p].dst, *y = b[*p].dst;
    const size_t nrec = (t->hook_len - 8) / UW_LINK_RECORD, win = what[*p].ref;
    size_t i;

    UW_ASSERT(win < 64);
    (*p)++;
    if (a[*p - 1].status != 0 || b[*p - 1].status != 0 ||
        (!t->hook_cut && (uw__u64(x) > nrec || uw__u64(y) > nrec))) {
        t->round_hook_moved |= (uint64_t)1 << win;
        return;
    }
    for (i = 0; i < nrec; i++) {
        const size_t off = 8 + i * UW_LINK_RECORD;
        if (memcmp(r + off, x + off, UW_LINK_RECORD) == 0 &&
            memcmp(r + off, y + off, UW_LINK_RECORD) == 0)
            continue;
        uw_round_hook_moved(t, r + off, win);
        uw_round_hook_moved(t, x + off, win);
        uw_round_hook_moved(t, y + off, win);
    }
}

/* A hook record names its parent by address: the link holds at the check
 * only if that Task was still alive then (pending with the same coroutine:
 * the record goes only in a callback after the parent finished).  A
 * parent whose state was not read alike twice leaves the child's links not
 * known. */
static void uw_hook_parents(uw_tasks *t)
{
    size_t j;

    for (j = 0; j < t->n_hook; j++) {
        int64_t c = uw__task_find(t, t->hook[j].child), p = uw__task_find(t, t->hook[j].parent);
        if (c < 0 || p < 0 || t->hook[j].addr == 0)
            continue;
        if (!t->work[p].span_known)
            t->work[c].hook_moved = 1;
        else if (!t->work[p].pending_now)
            t->hook[j].parent = 0; /* finished: no parent any more */
    }
}

/* Did the epoch e of Task w's loop move while w was read?  In a
 * recovery round read in windows, only its window's readings count. */
static int uw_task_moved(const uw_tasks *t, const uw_task_work *w, const uw_task_epoch *e)
{
    if (t->recovering && t->ck_nw > 0 && w->recheck)
        return UW__U64(&t->sc.ck_ep)[(t->ck_nw + 2) * t->n_ep + w->ck_win * t->n_ep +
                                     (size_t)(e - t->ep)] != 0;
    return e->moved && !e->one_step;
}

/* Judge every Task on its pieces (and each resuming Task's thread on
 * its own): the skip reasons it earns. */
static int uw_check_judge(uw_tasks *t, const uw_sample *s, const uw_iov *a, const uw_iov *b)
{
    const uw__ckpiece *what = (const uw__ckpiece *)(const void *)t->sc.check_what.p;
    size_t p = 0, i, th_i;

    for (th_i = 0; th_i < s->n_threads && !t->recovering; th_i++)
        UW__SIZE(&t->sc.thread_ok)[th_i] = 0; /* not shown unlinked */
    while (p < t->ck_n && what[p].kind < UW_CK_SPAN) {
        size_t th = what[p].task;
        if (what[p].kind == UW_CK_HOOK) {
            int rc = 0;
            if (t->recovering)
                uw_judge_round_hook(t, a, b, what, &p);
            else
                rc = uw_judge_hook(t, a, b, &p);
            if (rc != 0)
                return rc;
            continue;
        }
        UW__SIZE(&t->sc.thread_ok)
        [th] = (size_t)uw_judge_thread(t, &s->threads[th], a, b, what, &p, th);
    }
    if (t->recovering && t->ck_nw > 0) {
        /* windows: the Tasks in window order, then every Task's span */
        for (i = 0; i < t->n_work; i++) {
            uw_peer_clear(&t->work[i]);
            if (t->work[i].recheck)
                uw_judge_clear(&t->work[i]);
        }
        while (p < t->ck_n) {
            size_t k = what[p].task;
            if (what[p].kind == UW_CK_PEER)
                uw_judge_peer(t, k, a, b, what, &p);
            else if (what[p].kind == UW_CK_HOOK)
                uw_judge_round_hook(t, a, b, what, &p);
            else if (what[p].kind == UW_CK_SPAN && t->work[k].recheck)
                uw_judge_task(t, s, k, a, b, what, &p);
            else
                UW_ASSERT(0 && "a windowed check's pieces start with a span, a peer or the hook");
        }
    }
    for (i = 0; i < t->n_work && !(t->recovering && t->ck_nw > 0); i++) {
        uw_task_work *w = &t->work[i];
        if (t->recovering && !w->recheck) {
            if (w->peer)
                uw_judge_peer(t, i, a, b, what, &p);
            continue;
        }
        uw_judge_clear(w);
        if (p < t->ck_n && what[p].task == i && what[p].kind == UW_CK_SPAN)
            uw_judge_task(t, s, i, a, b, what, &p);
        else
            w->check_cut = 1;
    }
    if (UW_RULE(check_hook) && !t->recovering) {
        uw_hook_parents(t);
        for (i = 0; i < t->n_work; i++)
            if (t->work[i].hook_moved)
                t->work[i].hook_ok = 0;
    }
    for (i = 0; i < t->n_work; i++) {
        uw_task_work *w = &t->work[i];
        /* a C loop's count too: it says whether a Task of it stepped */
        const uw_task_epoch *e = uw__epoch_of_check(t, w->thread);
        int moved = UW_RULE(check_epoch) && e != NULL && uw_task_moved(t, w, e);
        if (t->recovering && !w->recheck)
            continue;
        if (!w->span_ok)
            w->waiter_now = UW_WAITER_UNKNOWN;
        if (moved)
            w->links_ok = w->hook_ok = w->ab_ok = 0;
        if (moved || !uw_same_callback(t, s, w->thread))
            w->frames_now = 0; /* another callback: not the walk's Task step */
        w->label_ok = 0;
        if (w->skipped != 0) {
            w->frames_now = 0;
            continue;
        }
        if (!w->chain_ok || (UW_RULE(check_hook) && !w->hook_ok && !moved)) {
            w->skipped = UW_SKIP_TASK_CHANGED;
        } else if (w->on_stack) {
            if (UW_RULE(skip_stale_place) && !uw_same_callback(t, s, w->thread))
                w->skipped = UW_SKIP_STALE_PLACE;
        } else if (w->resuming) {
            /* Its root frame read linked, off the walked stack, with the
             * split on top: being resumed, or just suspended (a frame's
             * `previous` is cleared only after it left the stack).  With
             * the loop gone on since the walk (another callback, or the
             * thread's current frame moved), which of the two is not
             * known: it is skipped as a place gone stale, not as a Task
             * that ran (it may not have run in the sample at all), and
             * recovery reads it again from its root (recover.c). */
            if (UW_RULE(resuming_proof) &&
                (!uw_same_callback(t, s, w->thread) || !UW__SIZE(&t->sc.thread_ok)[w->thread]))
                w->skipped = UW_SKIP_STALE_PLACE;
        } else if (moved) {
            w->skipped = UW_SKIP_LOOP_STEPPED;
        } else if (!w->links_ok) {
            w->skipped = UW_SKIP_TASK_CHANGED;
        }
        /* Kept by the check: its name and root coroutine hold, even if a
         * later rule skips it (a placed Task's chain is not among the
         * copies: only a place that stands vouches for its coroutine). */
        w->label_ok = w->skipped == 0 && w->chain_ok && !moved;
        if (w->skipped != 0)
            w->frames_now = 0;
    }
    return 0;
}

/* --- the loop's stack between the copies ------------------------------------ */

/* A walk reads the loop's stack at one instant and the check reads the
 * Tasks at another; on a loop whose callbacks are shorter than a walk the
 * two rarely meet: the walk is cut, or its idle stack no longer stands at
 * the check, and every Task of the thread is left without a pure stack
 * (pure_stack_not_found), the idle loop's roots first of all
 * (docs/tasks.md, "What the race program's profile misses").  So the
 * first check reads the loop's own frames as well, in a middle group
 * between copy A and copy B, where the instant its argument gives the
 * Tasks lies: the loop's epoch, the thread's current frame (and on
 * 3.11/3.12 its cframe), the slot above _run_once and the frames from
 * _run_once rootward (the thread's skeleton), the same again, the epoch.
 * Both epoch readings alike (rule pure_check_epoch): no handle was popped
 * or queued between them, so the loop stood in one callback, or between
 * callbacks, throughout; every Task the check kept held its checked state
 * at every instant between its copies (the Task that ran across such an
 * instant shows its state from just before or just after that step,
 * while its callback ran), so at an instant of the middle group the
 * loop's stack is the one its two copies agree on, and it roots them.
 * uw_pure_mid_judge tells the shape.  The group is read in
 * UW_PURE_WINDOWS windows in a row, each bracketed by its own epoch
 * readings (the reading after one is the one before the next): a busy
 * loop pops a handle within one window in three to one in two, and every
 * window lies between the copies, so the first whose epoch held serves.
 * Before, with one window, a slow or shared CPU left up to a tenth of the
 * busy program's Task stacks with no pure stack in `record` (live_busy,
 * 3.15). */

/* Remember each loop thread's skeleton from this sample's walk: one that
 * reached its root through a Handle._run (whole, or anchored: from the
 * split rootward read alike twice) gives the split's caller and every
 * frame rootward, and the slot (the Handle._run frame); on 3.11/3.12 a
 * walk that started at that caller or in its slot gives the cframe of the
 * eval loop running them (a cframe whose current frame is _run_once or
 * its callee is that eval loop's: callbacks run in eval loops of their
 * own, above it).  Bound: UW_PURE_CHECK_FRAMES frames. */
static void uw_pure_learn(uw_tasks *t, const uw_sample *s)
{
    size_t th_i, i;

    for (th_i = 0; th_i < s->n_threads; th_i++) {
        const uw_thread_sample *th = &s->threads[th_i];
        const uw_frame *f = uw__thread_frames(s, th);
        uw__epoch_ent *e = uw__epoch_find(&t->epochs, th->tstate, th->running_loop);
        uw__pure_skel *k;
        size_t r, n;

        if (e == NULL)
            continue;
        k = &e->skel;
        if (k->n > 0 && th->cframe != 0 &&
            (th->current_frame == k->addr[0] || th->current_frame == k->slot))
            k->cframe = th->cframe;
        if (th->truncated != 0 || th->split < 0 || (size_t)th->split + 1 >= th->n_frames)
            continue;
        r = (size_t)th->split + 1;
        n = th->n_frames - r;
        if (n > UW_PURE_CHECK_FRAMES)
            continue;
        for (i = 0; i < n && f[r + i].code != NULL; i++)
            ;
        if (i < n)
            continue;
        if (k->n != n || k->addr[0] != f[r].addr)
            k->cframe = 0;
        k->n = n;
        k->slot = f[r - 1].addr;
        for (i = 0; i < n; i++) {
            k->addr[i] = f[r + i].addr;
            k->code[i] = f[r + i].code->addr;
        }
    }
}

/* The skeleton a thread's middle group is read from: a loop thread whose
 * walk gives its Tasks no pure stack for certain (cut short by a torn
 * read: not by a bound or a want of memory, which the thread keeps as its
 * reason), an idle one
 * that may not stand at the check, or an anchored one (whose stack, a
 * callback's, was taken where the walk could prove one: the middle
 * group's is the loop's whatever it was doing), with an epoch in the
 * check and a skeleton (and on 3.11/3.12 its cframe); else NULL.  A whole
 * walk in a callback keeps its own: the running Task stands on it. */
static const uw__pure_skel *uw_pure_skel_of(uw_tasks *t, const uw_sample *s, size_t th_i)
{
    const uw_thread_sample *th = &s->threads[th_i];
    const uw__epoch_ent *e;

    if (th->running_loop == 0 || uw__epoch_of(t, th_i) == NULL ||
        !(uw__loop_idle_walk(th) || th->anchored || uw__reason_is_tear(th->truncated)))
        return NULL;
    e = uw__epoch_find(&t->epochs, th->tstate, th->running_loop);
    if (e == NULL || e->skel.n == 0 || (t->l->tstate_cframe != UW_ABSENT && e->skel.cframe == 0))
        return NULL;
    return &e->skel;
}

static void uw_pure_put(uw__pure_mid *m, int kind, size_t owner, size_t ref, uint64_t addr,
                        size_t len)
{
    size_t w;

    UW_ASSERT(m->n < UW_PURE_PIECES && len <= UW_PURE_FRAME_BYTES);
    m->kind[m->n] = (uint8_t)kind;
    m->owner[m->n] = owner;
    m->ref[m->n] = ref;
    for (w = 0; w < UW_PURE_WINDOWS; w++) {
        m->a[w][m->n] = (uw_iov){addr, m->bytes_a[w] + m->n * UW_PURE_FRAME_BYTES, len, 0};
        m->b[w][m->n] = (uw_iov){addr, m->bytes_b[w] + m->n * UW_PURE_FRAME_BYTES, len, 0};
    }
    m->n++;
}

/* Does a recovery round read a Task of thread th_i again? */
static int uw_round_reads_thread(const uw_tasks *t, size_t th_i)
{
    size_t i;

    for (i = 0; i < t->n_work; i++)
        if (t->work[i].recheck && t->work[i].thread == th_i)
            return 1;
    return 0;
}

/* The middle group of this check: UW_PURE_THREADS threads at most, in
 * thread order, each with its epoch's counter around both copies of each
 * of the UW_PURE_WINDOWS windows.  In a
 * recovery round, only the threads shown on an idle loop's stack that
 * have a Task read again (uw__round_idle_stands). */
static void uw_pure_queue(uw_tasks *t, const uw_sample *s, size_t ne, size_t n)
{
    uw__pure_mid *m = &t->mid;
    const uw_layout *l = t->l;
    size_t th_i, i, w;

    m->n_th = m->n = 0;
    for (th_i = 0; th_i < s->n_threads && m->n_th < UW_PURE_THREADS; th_i++) {
        const uw_thread_sample *th = &s->threads[th_i];
        const uw__pure_skel *k = uw_pure_skel_of(t, s, th_i);
        const uw_task_epoch *e = uw__epoch_of(t, th_i);
        const size_t j = m->n_th;

        if (k == NULL ||
            (t->recovering && !(uw__loop_idle_walk(th) && uw_round_reads_thread(t, th_i))))
            continue;
        m->stands[j] = 0;
        m->th[j] = th_i;
        for (w = 0; w <= UW_PURE_WINDOWS; w++)
            m->ec[w][j] = (uw_iov){e->counter, &m->ev[w][j], 8, 0};
        if (l->tstate_cframe != UW_ABSENT) {
            uw_pure_put(m, UW_CK_THREAD_CF, j, 0, th->tstate + (uint64_t)l->tstate_cframe, 8);
            uw_pure_put(m, UW_CK_THREAD_CUR, j, 0, k->cframe + (uint64_t)l->cframe_current_frame,
                        8);
        } else {
            uw_pure_put(m, UW_CK_THREAD_CUR, j, 0, th->tstate + (uint64_t)l->tstate_current_frame,
                        8);
        }
        for (i = 0; i <= k->n; i++)
            uw_pure_put(m, UW_CK_THREAD_FRAME, j, i, i == 0 ? k->slot : k->addr[i - 1],
                        (size_t)l->frame_size);
        m->n_th++;
    }
    if (m->n_th > 0 &&
        uw__view_reserve(&t->sc.ck_rd, 4 * ne + 2 * n + (UW_PURE_WINDOWS + 1) * m->n_th +
                                           2 * UW_PURE_WINDOWS * m->n) != 0)
        m->n_th = m->n = 0; /* no room: read as before */
}

/* A frame of the middle group as both copies read it. */
typedef struct uw_pure_frame {
    const uint8_t *a, *b;
    uint64_t code, prev, ip;
    int ip_moved; /* its instruction differs between the copies */
} uw_pure_frame;

/* Frames from..n of the group (0 the slot, 1.. _run_once rootward)
 * resolved from the first copy (code, line at that instant) into out,
 * each resolving alike from the second (the current frame, whose
 * instruction may have moved, to the same code): 1; 0 when one does not;
 * UW_ERR_NOMEM when a code object could not be loaded for want of
 * memory. */
static int uw_pure_resolve(uw_tasks *t, const uw__pure_skel *k, const uw_pure_frame *pf,
                           size_t from, uw_frame *out)
{
    size_t i;

    for (i = from; i <= k->n; i++) {
        uint64_t addr = i == 0 ? k->slot : k->addr[i - 1];
        uw_frame fa, fb;
        int sa = 0, sb = 0, rc;

        /* A status starts at 0, not at a negative code: UW_ERR_NOMEM is -1,
         * and a second copy left unread is no failed allocation. */
        memset(&fa, 0, sizeof fa);
        memset(&fb, 0, sizeof fb);
        rc = uw__frames_from_copies(t->u, &addr, pf[i].a, 1, &fa, &sa, 0);
        if (rc == 0 && sa == 0)
            rc = uw__frames_from_copies(t->u, &addr, pf[i].b, 1, &fb, &sb, 0);
        if (rc == UW_ERR_NOMEM || sa == UW_ERR_NOMEM || sb == UW_ERR_NOMEM)
            return UW_ERR_NOMEM;
        if (rc != 0 || sa != 0 || sb != 0 || fa.code == NULL || fb.code == NULL ||
            fb.code->addr != fa.code->addr || (!pf[i].ip_moved && fb.line != fa.line))
            return 0; /* (a cache too small for the sample loads an entry twice) */
        out[i - from] = fa;
    }
    return 1;
}

/* Thread mid.th[j]'s stack at an instant of the middle group's window w,
 * when the epoch read before and after the window is one and its two
 * copies agree (each frame the same code, caller, owner and instruction;
 * the current frame as each shape asks, in both: a callback's moves on)
 * and the skeleton stands in them
 * (each frame from _run_once rootward running the remembered code and,
 * rule pure_check_links, naming the next as its caller).  Shapes:
 *   - idle at _run_once: it is the current frame (and on 3.11/3.12 the
 *     thread's cframe is the skeleton's: no eval loop entered above it);
 *   - in a callback: _run_once stands at a call that makes Handle._run
 *     and is not the current frame (rule pure_check_site): its callee
 *     runs, and is in the slot, which names it and runs Handle._run (rule
 *     pure_check_slot).  The callback's own frames above are not read:
 *     the thread is shown dropped above Handle._run, as an anchored walk
 *     is, and recovery may read its Tasks again on that stack as on an
 *     anchored walk's;
 *   - idle in the slot: the current frame is the slot's, which names
 *     _run_once as its caller and runs the loop's own code (the selector,
 *     the clock, the timer heap; not Handle._run).
 * The stack goes into now (*n_now frames, innermost first; *in_callback
 * for the callback's shape): 1; 0 when the group gives none; UW_ERR_NOMEM
 * when a code object could not be loaded for want of memory. */
static int uw_pure_mid_stack(uw_tasks *t, const uw_sample *s, size_t j, size_t w, uw_frame *now,
                             size_t *n_now, int *in_callback)
{
    const uw__pure_mid *m = &t->mid;
    const uw_layout *l = t->l;
    const size_t th_i = m->th[j];
    const uw__pure_skel *k = uw_pure_skel_of(t, s, th_i);
    uw_pure_frame pf[UW_PURE_CHECK_FRAMES + 1];
    uint64_t cur[2] = {0, 0};
    size_t p, i, seen = 0, moved = 0, from;
    int have_cur = 0, cf_same = l->tstate_cframe == UW_ABSENT, callback = 0, rr;

    UW_ASSERT(w < UW_PURE_WINDOWS);
    if (k == NULL || m->ec[w][j].status != 0 || m->ec[w + 1][j].status != 0 ||
        (UW_RULE(pure_check_epoch) && m->ev[w][j] != m->ev[w + 1][j]))
        return 0;
    for (p = 0; p < m->n; p++) {
        const uint8_t *x = m->a[w][p].dst, *y = m->b[w][p].dst;
        if (m->owner[p] != j)
            continue;
        if (m->a[w][p].status != 0 || m->b[w][p].status != 0)
            return 0;
        if (m->kind[p] == UW_CK_THREAD_CF) {
            cf_same = uw__u64(x) == k->cframe && uw__u64(y) == k->cframe;
        } else if (m->kind[p] == UW_CK_THREAD_CUR) {
            cur[0] = uw__u64(x); /* a callback's moves on: compared below */
            cur[1] = uw__u64(y);
            have_cur = 1;
        } else {
            i = m->ref[p];
            UW_ASSERT(i <= k->n && m->a[w][p].len == (size_t)l->frame_size);
            if (!uw__frame_same_link(l, x, y))
                return 0;
            pf[i] = (uw_pure_frame){x,
                                    y,
                                    uw__frame_code(l, x),
                                    uw__frame_previous(l, x),
                                    uw__frame_instr(l, x),
                                    uw__frame_instr(l, x) != uw__frame_instr(l, y)};
            moved += pf[i].ip_moved != 0;
            seen++;
        }
    }
    if (!have_cur || seen != k->n + 1)
        return 0;
    for (i = 1; i <= k->n; i++)
        if (pf[i].code != k->code[i - 1] ||
            (UW_RULE(pure_check_links) && i < k->n && pf[i].prev != k->addr[i]))
            return 0;
    if (cur[0] == k->addr[0] && cur[1] == k->addr[0] && cf_same) {
        from = 1;
    } else if (moved == 0 &&
               (!UW_RULE(pure_check_site) ||
                (cur[0] != k->addr[0] && cur[1] != k->addr[0] &&
                 uw__split_site_at(t->u, k->addr[0], pf[1].code, pf[1].ip))) &&
               (!UW_RULE(pure_check_slot) || pf[0].prev == k->addr[0])) {
        from = 0;
        callback = 1;
    } else if (cur[0] == k->slot && cur[1] == k->slot && cf_same && pf[0].prev == k->addr[0]) {
        from = 0;
    } else {
        return 0;
    }
    /* Only the current frame (idle: _run_once, or the loop's own code in
     * the slot) may have moved on between the copies: it ran bytecode and
     * made calls that returned, with no handle popped (the epoch), so the
     * stack with it at the first copy's line stood then (rule
     * pure_check_still_below).  A callback's frames below it stand still
     * in both copies, at the split site. */
    for (i = from + 1; i <= k->n; i++)
        if (pf[i].ip_moved && UW_RULE(pure_check_still_below))
            return 0;
    if ((rr = uw_pure_resolve(t, k, pf, from, now)) != 1)
        return rr; /* 0: not taken, or UW_ERR_NOMEM */
    if (callback && UW_RULE(pure_check_slot) && !(now[0].code->flags & UW__CODE_HANDLE_RUN))
        return 0;
    if (!callback && from == 0 &&
        (!(now[0].code->flags & UW__CODE_LOOP_OWN) || (now[0].code->flags & UW__CODE_HANDLE_RUN)))
        return 0;
    *n_now = k->n + 1 - from;
    *in_callback = callback;
    return 1;
}

/* The first check: thread mid.th[j]'s frames become the stack the middle
 * group gives (appended to the sample's), *got 1: the first window's that
 * gives one (every window lies between the copies, so any of them is an
 * instant the kept Tasks held their checked state at).  Returns 0, or
 * UW_ERR_NOMEM when there was no room for them. */
static int uw_pure_mid_judge(uw_tasks *t, uw_sample *s, size_t j, int *got)
{
    uw_thread_sample *th = &s->threads[t->mid.th[j]];
    uw_frame now[UW_PURE_CHECK_FRAMES + 1];
    size_t n = 0, p, w;
    int callback = 0, rr = 0;

    for (w = 0; w < UW_PURE_WINDOWS && rr == 0; w++)
        rr = uw_pure_mid_stack(t, s, j, w, now, &n, &callback);
    if (rr != 1)
        return rr; /* 0: not taken, or UW_ERR_NOMEM */
    p = s->n_frames;
    if (uw_sample_add_frames(s, now, n) != 0)
        return UW_ERR_NOMEM;
    th->first_frame = p;
    th->n_frames = n;
    th->truncated = 0;
    th->anchored = callback;
    th->top_dropped = callback;
    th->split = callback ? 0 : -1;
    th->pure_start = callback ? 0 : uw__split_pure_start(t, s, th);
    *got = 1;
    return 0;
}

/* A recovery round keeps a Task shown on an idle loop's stack (rule
 * recover_idle_stands) only if, at an instant of the round's middle
 * group, the loop stood idle in that very stack: every frame the thread
 * shows, the same frame at the same code and line, and no callback (the
 * shapes of uw_pure_mid_stack).  The stack is the loop's only while no
 * callback runs; the first check proved it at its own instants, and a
 * Task read again is shown at the round's, after the loop stepped.  With
 * the round's epoch unmoved through a window of its middle group, every
 * Task the round's check keeps held its checked state there (the argument
 * of the first check's middle group), on that stack; any window that shows
 * it will do.  Returns 0, or UW_ERR_NOMEM (a code object not loaded for
 * want of memory). */
static int uw_pure_round_judge(uw_tasks *t, const uw_sample *s)
{
    uw__pure_mid *m = &t->mid;
    size_t j, i, w;

    for (j = 0; j < m->n_th; j++) {
        const uw_thread_sample *th = &s->threads[m->th[j]];
        const uw_frame *f = uw__thread_frames(s, th);

        m->stands[j] = 0;
        for (w = 0; w < UW_PURE_WINDOWS && !m->stands[j]; w++) {
            uw_frame now[UW_PURE_CHECK_FRAMES + 1];
            size_t n = 0;
            int callback = 0, rr;

            if ((rr = uw_pure_mid_stack(t, s, j, w, now, &n, &callback)) < 0)
                return rr;
            if (rr != 1 || callback || n != th->n_frames)
                continue;
            for (i = 0; i < n; i++)
                if (now[i].addr != f[i].addr || f[i].code == NULL ||
                    now[i].code->addr != f[i].code->addr || now[i].line != f[i].line)
                    break;
            m->stands[j] = i == n;
        }
    }
    return 0;
}

int uw__round_idle_stands(const uw_tasks *t, size_t th_i)
{
    size_t j;

    for (j = 0; j < t->mid.n_th; j++)
        if (t->mid.th[j] == th_i)
            return t->mid.stands[j];
    return 0;
}

int uw__idle_provable(uw_tasks *t, const uw_sample *s, size_t th_i)
{
    return uw_pure_skel_of(t, s, th_i) != NULL;
}

/* Did the middle group give thread th_i its stack at the check (*got)?
 * 0, or UW_ERR_NOMEM: the sample fails rather than lose a stack it has. */
static int uw_pure_mid(uw_tasks *t, uw_sample *s, size_t th_i, int *got)
{
    size_t j;

    *got = 0;
    for (j = 0; j < t->mid.n_th; j++)
        if (t->mid.th[j] == th_i)
            return uw_pure_mid_judge(t, s, j, got);
    return 0;
}

/* The pure Python stack of a thread whose walk met no Handle._run is the
 * whole idle loop (the selector, _run_once between callbacks): it is the
 * loop's only while no callback runs, so the Tasks' chains checked now
 * were true with it only if no callback ran between the walk and the
 * check.  The epoch alone cannot say so: _run_once pops a handle (the
 * epoch moves) before it calls Handle._run, so a walk in between reads
 * the idle loop with the new epoch, and a Task that steps in that
 * callback is checked after its step under the same epoch.  So the
 * thread's current frame is read in both copies too, and must still be
 * the walk's (rule pure_idle_still), and so must the instruction of its
 * innermost frame (rule pure_idle_still_instr): the callback returns
 * within the epoch, leaving _run_once current again, but no longer at
 * the call it stood at before it made the handle's call.  A pointer and
 * instruction that read as the walk's show the loop's stack as the walk
 * read it at the copies' instants (the frames under _run_once do not move
 * while it runs), with every Task in the state checked then.  Otherwise
 * the thread has no pure stack to compose on.  (The frames from
 * Handle._run rootward are the same in every callback: a chain checked
 * now was true with them at the end of its Task's last step, when its
 * callback still ran.) */
static int uw_check_pure(uw_tasks *t, uw_sample *s)
{
    size_t th_i;
    int rc = 0, got;

    for (th_i = 0; th_i < s->n_threads && rc == 0; th_i++) {
        uw_thread_sample *th = &s->threads[th_i];
        if (!uw__loop_idle_walk(th)) {
            /* else the callback's, or none */
            if (th->anchored || uw__reason_is_tear(th->truncated))
                rc = uw_pure_mid(t, s, th_i, &got);
            continue;
        }
        if ((UW_RULE(pure_idle_same_callback) && !uw_same_callback(t, s, th_i)) ||
            (UW_RULE(pure_idle_still) && !UW__SIZE(&t->sc.thread_ok)[th_i])) {
            rc = uw_pure_mid(t, s, th_i, &got);
            if (!got)
                th->pure_start = -1;
        }
    }
    t->mid.n_th = t->mid.n = 0;
    return rc;
}

/* --- a recovery round's check, in windows ------------------------------------ */

static size_t uw_grp_find(size_t *par, size_t i)
{
    while (par[i] != i) {
        par[i] = par[par[i]];
        i = par[i];
    }
    return i;
}

/* Join Task i's group with that of the Task at addr, if it is read again
 * too. */
static void uw_grp_join(uw_tasks *t, size_t *par, size_t i, uint64_t addr)
{
    int64_t o = addr != 0 ? uw__task_find(t, addr) : -1;
    size_t a, b;

    if (o < 0 || !t->work[o].recheck)
        return;
    a = uw_grp_find(par, i);
    b = uw_grp_find(par, (size_t)o);
    if (a != b)
        par[a > b ? a : b] = a < b ? a : b;
}

/* Give each Task read again a window: Tasks a link joins (what one awaits,
 * the awaiter it records, a link of the API table or of the hook) share
 * one, since recovery keeps only what is shown at one instant with its
 * links (recover.c); the groups so made fill the windows in Task order,
 * about evenly, at most `most` windows.  *ord: the Tasks in window order.
 * Returns the windows used. */
static size_t uw_windows_assign(uw_tasks *t, size_t most, size_t *grp, size_t *ord, size_t *start)
{
    const size_t n = t->n_work;
    size_t *par = grp, *size = grp + n, *win = grp + 2 * n;
    size_t i, k, n_re = 0, per, cur = 0, fill = 0;

    for (i = 0; i < n; i++) {
        par[i] = i;
        size[i] = 0;
        win[i] = SIZE_MAX;
    }
    for (i = 0; i < n; i++) {
        const uw_task_work *w = &t->work[i];
        if (!w->recheck)
            continue;
        n_re++;
        uw_grp_join(t, par, i, w->waiter);
        for (k = 0; k < w->n_kid; k++)
            uw_grp_join(t, par, i, t->work[UW__SIZE(&t->sc.kids)[w->first_kid + k]].addr);
        if (t->al->fut_awaited_by >= 0 && !w->awaited_by_is_set)
            uw_grp_join(t, par, i, w->awaited_by);
    }
    for (k = 0; k < t->n_links; k++) {
        int64_t c = uw__task_find(t, t->links[k].child);
        if (c >= 0 && t->work[c].recheck)
            uw_grp_join(t, par, (size_t)c, t->links[k].parent);
    }
    for (k = 0; k < t->n_hook; k++) {
        int64_t c = uw__task_find(t, t->hook[k].child);
        if (c >= 0 && t->work[c].recheck)
            uw_grp_join(t, par, (size_t)c, t->hook[k].parent);
    }
    for (i = 0; i < n; i++)
        if (t->work[i].recheck)
            size[uw_grp_find(par, i)]++;
    per = (n_re + most - 1) / most;
    for (i = 0; i < n; i++) {
        size_t r;
        if (!t->work[i].recheck)
            continue;
        r = uw_grp_find(par, i);
        if (win[r] == SIZE_MAX) {
            if (fill > 0 && fill + size[r] > per && cur + 1 < most) {
                cur++;
                fill = 0;
            }
            win[r] = cur;
            fill += size[r];
        }
        t->work[i].ck_win = win[r];
    }
    /* the Tasks by window (a counting sort): start[j] .. start[j + 1] */
    for (k = 0; k <= cur + 1; k++)
        start[k] = 0;
    for (i = 0; i < n; i++)
        if (t->work[i].recheck)
            start[t->work[i].ck_win + 1]++;
    for (k = 1; k <= cur + 1; k++)
        start[k] += start[k - 1];
    for (k = 0; k <= cur; k++)
        size[k] = start[k]; /* size: reused as each window's next place */
    for (i = 0; i < n; i++)
        if (t->work[i].recheck)
            ord[size[t->work[i].ck_win]++] = i;
    return n_re > 0 ? cur + 1 : 0;
}

/* A recovery round's check (recover.c), read in windows.  Its first
 * check's one read failed for many of these Tasks only because their
 * loop started callbacks while it was read: a busy loop starts one every
 * few microseconds, and a read of hundreds of Tasks lasts longer.  So the
 * round reads them in windows: each window's copy A, its copy B, then
 * every epoch, as ordered groups of one read ([epochs][A1][B1][epochs]
 * [A2][B2][epochs] ...).  A Task is judged on its own window's epochs: the
 * check's argument (docs/tasks.md) holds within a window as within the
 * whole read, so a Task kept is true at an instant of its window.  The
 * Tasks a link joins are read in one window (recover.c keeps a Task only
 * with the linked Tasks of its own instant).  Last come the spans of every
 * Task of the sample, twice, then the epochs: what each Task awaits after
 * every window, which recover.c compares with what it awaited at the
 * first check, before every window, to see that none started or stopped
 * awaiting a kept Task unseen.  Bounds: UW_RECOVER_WINDOWS windows (the
 * read's 3 x (windows + 1) + 1 groups stay within UW_READV_GROUPS_MAX),
 * the check's views as for one read. */
static int uw_check_windows(uw_tasks *t, uw_sample *s)
{
    const size_t ne = t->n_ep, n = t->n_work;
    const uw_check_span sp = uw_task_span(t->al);
    size_t ends[UW_READV_GROUPS_MAX], start[UW_RECOVER_WINDOWS + 2], lo[UW_RECOVER_WINDOWS + 1],
        hi[UW_RECOVER_WINDOWS + 1];
    size_t nw, i, j, k, r, g;
    size_t *ord;
    uint64_t *ep, *mv;
    uw_iov *iov, *rd;
    uw_ckq q;
    int rc;

    if ((rc = uw_check_reserve(t, s)) != 0 || (rc = uw__view_reserve(&t->sc.ck_grp, 4 * n)) != 0)
        return rc;
    ord = UW__SIZE(&t->sc.ck_grp) + 3 * n;
    nw = uw_windows_assign(t, UW_RECOVER_WINDOWS, UW__SIZE(&t->sc.ck_grp), ord, start);
    UW_ASSERT(3 * (nw + 1) + 1 <= UW_READV_GROUPS_MAX);
    if ((rc = uw__view_reserve(&t->sc.ck_ep, (2 * nw + 3) * ne)) != 0)
        return rc;
    iov = UW__IOV(&t->sc.check_iov);
    memset(&q, 0, sizeof q);
    q.a = iov;
    q.what = (uw__ckpiece *)(void *)t->sc.check_what.p;
    q.room = t->sc.check_what.have;
    if (q.room > t->sc.check_iov.have / 2)
        q.room = t->sc.check_iov.have / 2;
    for (j = 0; j < nw; j++) {
        lo[j] = q.n;
        if (t->hook_len > 0) { /* the hook's records, for this window's instant */
            uw_ck_put(t, &q, UW_CK_HOOK, 0, j, t->hook_area, t->hook_len);
            if (q.full)
                t->round_hook_moved |= (uint64_t)1 << j; /* not read: not known the same */
            q.full = 0;
        }
        for (k = start[j]; k < start[j + 1]; k++) {
            t->work[ord[k]].check_cut = 0;
            uw_ck_task(t, s, &q, ord[k]);
        }
        hi[j] = q.n;
    }
    lo[nw] = q.n;
    for (i = 0; i < n; i++) {
        uw_ck_put(t, &q, UW_CK_PEER, i, 0, t->work[i].addr + sp.lo, sp.hi - sp.lo);
        q.full = 0; /* one not queued is judged not known */
    }
    hi[nw] = q.n;
    t->ck_n = q.n;
    uw_ck_mirror(t, &q);
    if ((rc = uw__view_reserve(&t->sc.ck_rd, (nw + 2) * ne + 2 * q.n)) != 0)
        return rc;
    rd = UW__IOV(&t->sc.ck_rd);
    ep = UW__U64(&t->sc.ck_ep);
    mv = ne > 0 ? ep + (nw + 2) * ne : NULL; /* no epoch: nothing is read into either */
    /* the read in its order: epochs, then per window A, B, epochs */
    for (k = 0, r = 0, g = 0; k < ne; k++)
        rd[r++] = (uw_iov){t->ep[k].counter, &ep[k], 8, 0};
    ends[g++] = r;
    for (j = 0; j <= nw; j++) {
        for (i = lo[j]; i < hi[j]; i++)
            rd[r++] = q.a[i];
        ends[g++] = r;
        for (i = lo[j]; i < hi[j]; i++)
            rd[r++] = q.a[q.n + i];
        ends[g++] = r;
        for (k = 0; k < ne; k++)
            rd[r++] = (uw_iov){t->ep[k].counter, &ep[(j + 1) * ne + k], 8, 0};
        ends[g++] = r;
    }
    (void)uw_readv_groups(t->r, rd, r, ends, g);
    /* the statuses back, in the same order */
    for (j = 0, r = ne; j <= nw; j++) {
        for (i = lo[j]; i < hi[j]; i++)
            q.a[i].status = rd[r++].status;
        for (i = lo[j]; i < hi[j]; i++)
            q.a[q.n + i].status = rd[r++].status;
        for (k = 0; k < ne; k++) /* an epoch not read reads as moved */
            if (rd[r + k].status != 0)
                ep[(j + 1) * ne + k] = ~ep[j * ne + k];
        r += ne;
    }
    for (k = 0; k < ne; k++) {
        if (rd[k].status != 0)
            ep[k] = ~ep[ne + k];
        t->ep[k].a = ep[k];
        t->ep[k].b = ep[(nw + 1) * ne + k];
        t->ep[k].moved = 0;
        t->ep[k].one_step = 0;
        for (j = 0; j <= nw; j++) {
            mv[j * ne + k] = ep[j * ne + k] != ep[(j + 1) * ne + k];
            t->ep[k].moved |= mv[j * ne + k] != 0;
        }
    }
    t->ck_busy = 0;
    t->ck_nw = nw; /* till the round ends (recover.c) */
    return uw_check_judge(t, s, q.a, q.a + q.n);
}

/* Queue copy A (every Task's span and links; the chains and names of those
 * not skipped yet; the current frames of threads with a resuming Task),
 * mirror it as copy B, bracket both with the epochs, read, then judge. */
int uw__check(uw_tasks *t, uw_sample *s)
{
    const size_t ne = t->n_ep;
    uw_iov *iov;
    uw_ckq q;
    size_t i, k, th_i;
    int rc;

    if ((rc = uw__view_reserve(&t->sc.thread_ok, s->n_threads)) != 0)
        return rc;
    t->mid.n_th = t->mid.n = 0;
    if (!t->recovering)
        uw_pure_learn(t, s);
    if (t->recovering && uw__recover_windows(t) && !t->round_idle)
        return uw_check_windows(t, s);
    if ((rc = uw_check_reserve(t, s)) != 0)
        return rc;
    iov = UW__IOV(&t->sc.check_iov);
    memset(&q, 0, sizeof q);
    q.a = iov + 2 * ne;
    q.what = (uw__ckpiece *)(void *)t->sc.check_what.p;
    /* pieces of one copy: what both views hold (each may have grown more) */
    q.room = t->sc.check_what.have;
    if (q.room > (t->sc.check_iov.have - 4 * ne) / 2)
        q.room = (t->sc.check_iov.have - 4 * ne) / 2;
    for (th_i = 0; th_i < s->n_threads && !t->recovering; th_i++) {
        int any = uw__loop_idle_walk(&s->threads[th_i]);
        for (i = 0; i < t->n_work && !any; i++)
            any = t->work[i].thread == th_i &&
                  ((t->work[i].resuming && t->work[i].skipped == 0) || uw_named_running(t, i));
        if (any)
            uw_ck_thread(t, &q, &s->threads[th_i], th_i);
    }
    if (q.full)
        q.n = q.used = 0; /* no thread piece: no resuming Task is trusted */
    q.full = 0;
    if (t->hook_len > 0) { /* the hook module's records, all of them */
        uw_ck_put(t, &q, UW_CK_HOOK, 0, 0, t->hook_area, t->hook_len);
        if (t->recovering)
            t->round_hook_moved |= (uint64_t)q.full; /* not read: not known the same */
        else
            t->hook_unknown = q.full;
        q.full = 0;
    }
    for (i = 0; i < t->n_work; i++) {
        if (t->recovering && !t->work[i].recheck) {
            /* a recovery round checks only its own Tasks, and reads the
             * span of the others of their loops (recover.c) */
            const uw_check_span sp = uw_task_span(t->al);
            if (t->work[i].peer)
                uw_ck_put(t, &q, UW_CK_PEER, i, 0, t->work[i].addr + sp.lo, sp.hi - sp.lo);
            q.full = 0; /* one not queued is judged not known */
            continue;
        }
        t->work[i].check_cut = 0;
        uw_ck_task(t, s, &q, i);
    }
    t->ck_n = q.n;
    for (k = 0; k < ne; k++) {
        iov[k] = (uw_iov){t->ep[k].counter, &t->ep[k].a, 8, 0};
        iov[ne + k] = (uw_iov){t->ep[k].len_addr, &t->ep[k].la, 8, 0};
    }
    uw_ck_mirror(t, &q);
    uw_pure_queue(t, s, ne, q.n);
    for (k = 0; k < ne; k++) {
        q.a[2 * q.n + k] = (uw_iov){t->ep[k].len_addr, &t->ep[k].lb, 8, 0};
        q.a[2 * q.n + ne + k] = (uw_iov){t->ep[k].counter, &t->ep[k].b, 8, 0};
    }
    uw_check_read(t, iov, ne, q.n);
    /* the sample's first chains' frames, now that the Tasks are read
     * (chains.c): their RESUMEs settled before any Task is judged */
    if ((rc = uw__chains_resolve(t)) != 0 || (rc = uw_check_judge(t, s, q.a, q.a + q.n)) != 0)
        return rc;
    return t->recovering ? uw_pure_round_judge(t, s) : uw_check_pure(t, s);
}
