/*
 * mut_coro.c — coroutines as stores (docs/model.md): made, awaited,
 * resumed, suspended and returned.
 *
 *   made      RETURN_GENERATOR: the coroutine object is allocated (not
 *             cleared: what the last object of that size left stays where
 *             nothing is copied), its type set, the calling frame copied
 *             into it (code, instruction pointer, `previous` still the
 *             frame that called it, stack pointer), then it is marked
 *             FRAME_CREATED and owned by a generator.
 *   awaited   the caller's value stack takes the awaitable (its top, at
 *             slot `slots` - 1; 3.15 keeps a NULL reference in the slot
 *             above it), its stack pointer and instruction pointer are
 *             stored as it enters the callee (SEND / DISPATCH_INLINED).
 * A frame's stack pointer is `stacktop`, a count of slots, up to 3.13 and
 * `stackpointer`, the address one past the top slot, from 3.14 (mm_sp).
 *   resumed   gen_send_ex2 / SEND_GEN (version.h): for the root (sent to
 *             from C), when the program says so (mm_prog sent_push), the
 *             value sent (None) pushed on its value stack above its
 *             awaitee first, while it still reads suspended; 3.11 stores `previous`
 *             then marks it executing, 3.12+ marks it first; then the
 *             thread's current frame points at it.  The root is sent to
 *             from C: on 3.14+ the entry frame of that call to the
 *             interpreter is filled (previous: Handle._run) and the root's
 *             `previous` is it; suspending or returning, the root unlinks
 *             itself to the entry frame, then INTERPRETER_EXIT puts the
 *             current frame back to Handle._run.  Linked, the root's SEND
 *             pops the value sent (its stack back to its await depth).
 *   suspended YIELD_VALUE, innermost first: the instruction pointer, the
 *             stack pointer (the innermost), the suspended state (3.13: in
 *             an await or at a bare yield), the thread's current frame back
 *             to the caller, `previous` cleared.
 *   returned  RETURN_VALUE: unlinked first (GH-99729), then marked
 *             FRAME_CLEARED and `previous` cleared.  Once the coroutines
 *             above the root have returned, the chain the Task shows when
 *             the root is unlinked (before it is cleared) is the root
 *             alone: the ones it awaited are cleared.
 */
#include "mut_internal.h"

#include <assert.h>

static size_t mm_coro_bytes(const mm_mutator *m, int slots)
{
    /* a slot more where a value may be sent on top of an awaitee */
    size_t b = (size_t)m->l->gen_iframe + (size_t)m->l->frame_localsplus +
               8u * (size_t)((slots < 1 ? 1 : slots) + m->v->awaitee_depth - 1 +
                             (m->prog.sent_push ? 1 : 0));
    return (b + 15) & ~(size_t)15;
}

mm_store *mm_sp(mm_mutator *m, int th, uint64_t f, int depth)
{
    const uw_layout *l = m->l;

    if (m->v->stackpointer)
        return mm_q(m, th, f + (uint64_t)l->frame_stackpointer,
                    f + (uint64_t)l->frame_localsplus + 8u * (uint64_t)depth, 8);
    return mm_q(m, th, f + (uint64_t)l->frame_stacktop, (uint64_t)depth, 4);
}

int mm_await_depth(const mm_mutator *m, int slots)
{
    return slots + m->v->awaitee_depth - 1;
}

void mm_coro_new(mm_mutator *m, int th, mm_mcoro *c, uint64_t code, int slots, uint64_t caller)
{
    const uw_layout *l = m->l;
    uint64_t f;
    int first = mm_code_line(m, code);

    c->code = code;
    c->slots = slots < 1 ? 1 : slots;
    c->size = (int)mm_coro_bytes(m, c->slots);
    c->obj = mm_m_alloc(m, th, (size_t)c->size, 0);
    c->line = first;
    f = c->obj + (uint64_t)l->gen_iframe;
    mm_q(m, th, c->obj + (uint64_t)l->object_type,
         code == m->c_sleep0 ? m->im->target.types.gen : m->im->target.types.coro, 8);
    mm_q(m, th, f + (uint64_t)l->frame_code, code, 8);
    /* not started: no RESUME says it awaits (its line is the first) */
    mm_q(m, th, f + (uint64_t)l->frame_instr, mm_fab_ip_start(m->im, code), 8);
    mm_q(m, th, f + (uint64_t)l->frame_previous, caller, 8);
    mm_sp(m, th, f, c->slots - 1);
    mm_q(m, th, c->obj + (uint64_t)l->gen_frame_state, (uint64_t)(uint8_t)l->state_created, 1);
    mm_q(m, th, f + (uint64_t)l->frame_owner, (uint64_t)l->owner_generator, 1);
}

void mm_coro_await(mm_mutator *m, int th, mm_mcoro *c, uint64_t awaitee)
{
    const uw_layout *l = m->l;
    uint64_t f = c->obj + (uint64_t)l->gen_iframe;

    mm_q(m, th, f + (uint64_t)l->frame_localsplus + 8u * (uint64_t)(c->slots - 1),
         m->v->stack_ref(awaitee), 8);
    if (m->v->awaitee_depth > 1) /* 3.15: a NULL reference above it */
        mm_q(m, th, f + (uint64_t)l->frame_localsplus + 8u * (uint64_t)c->slots,
             (uint64_t)l->stackref_null, 8);
    mm_sp(m, th, f, mm_await_depth(m, c->slots));
}

/* The frame a suspending or returning coroutine unlinks itself to: its
 * caller's, or for the root the entry frame of the send (3.14+; YIELD_VALUE
 * and RETURN_VALUE set the current frame to `previous`, and the entry
 * frame's INTERPRETER_EXIT then to Handle._run: mm_entry_pop). */
static uint64_t mm_coro_below(const mm_mutator *m, int th, int k, uint64_t prev)
{
    return k == 0 && m->v->entry_frames && m->lp[th].entry != 0 ? m->lp[th].entry : prev;
}

void mm_coro_resume(mm_mutator *m, int th, mm_mtask *t, int k)
{
    const uw_layout *l = m->l;
    mm_mcoro *c = &t->c[k];
    uint64_t f = c->obj + (uint64_t)l->gen_iframe;
    const int depth = mm_await_depth(m, c->slots);
    /* a root suspended in its await (a new Task's root never ran) */
    const int sent = k == 0 && m->prog.sent_push && t->wait != MM_WT_NEW;
    mm_store *st;

    if (sent) {
        mm_q(m, th, f + (uint64_t)l->frame_localsplus + 8u * (uint64_t)depth,
             m->v->stack_ref(m->im->target.types.none), 8);
        mm_sp(m, th, f, depth + 1);
    }

    if (m->v->previous_first) {
        mm_q(m, th, f + (uint64_t)l->frame_previous, m->lp[th].current, 8);
        st = mm_q(m, th, c->obj + (uint64_t)l->gen_frame_state,
                  (uint64_t)(uint8_t)l->state_executing, 1);
    } else {
        /* the root is sent to from C (task_step: PyIter_Send), so on 3.14+
         * _PyEval_EvalFrameDefault's entry frame comes between */
        uint64_t prev;
        st = mm_q(m, th, c->obj + (uint64_t)l->gen_frame_state,
                  (uint64_t)(uint8_t)l->state_executing, 1);
        prev = k == 0 ? mm_entry_push(m, th) : m->lp[th].current;
        mm_q(m, th, f + (uint64_t)l->frame_previous, prev, 8);
    }
    if (k == 0) {
        st->ev = EV_EXEC;
        st->task = t->id;
        st->index = 1;
    }
    mm_link(m, th, f, c->code, c->line, t->id, k == 0);
    if (sent)
        mm_sp(m, th, f, depth); /* SEND takes the value sent */
}

void mm_coro_suspend(mm_mutator *m, int th, mm_mtask *t, int k, uint64_t prev, int await)
{
    const uw_layout *l = m->l;
    mm_mcoro *c = &t->c[k];
    uint64_t f = c->obj + (uint64_t)l->gen_iframe;
    mm_store *st;

    mm_line_await(m, th, f, c->code, c->line, t->id);
    st = mm_q(m, th, c->obj + (uint64_t)l->gen_frame_state,
              (uint64_t)(uint8_t)(await ? m->v->state_await : m->v->state_yield), 1);
    if (k == 0) {
        st->ev = EV_EXEC;
        st->task = t->id;
        st->index = 0;
    }
    mm_unlink(m, th, mm_coro_below(m, th, k, prev), t->id, k == 0);
    mm_q(m, th, f + (uint64_t)l->frame_previous, 0, 8);
    if (k == 0)
        mm_entry_pop(m, th, prev);
}

void mm_chain_root_only(mm_mutator *m, mm_store *s, const mm_mtask *t)
{
    mm_ttask *p;

    s->ev = EV_CHAIN;
    s->task = t->id;
    s->arg = (int32_t)mm_payload(m, &p);
    p->n_chain = 1;
    p->chain[0] =
        (mm_tframe){t->c[0].obj + (uint64_t)m->l->gen_iframe, t->c[0].code, t->c[0].line, t->id};
}

void mm_coro_return(mm_mutator *m, int th, mm_mtask *t, int k, uint64_t prev)
{
    const uw_layout *l = m->l;
    mm_mcoro *c = &t->c[k];
    uint64_t f = c->obj + (uint64_t)l->gen_iframe;
    mm_store *st;

    mm_unlink(m, th, mm_coro_below(m, th, k, prev), t->id, k == 0);
    st = mm_q(m, th, c->obj + (uint64_t)l->gen_frame_state, (uint64_t)(uint8_t)l->state_cleared, 1);
    if (k == 0) { /* the root returned: no chain, not executing */
        mm_ttask *p;
        st->ev = EV_CHAIN;
        st->task = t->id;
        st->arg = (int32_t)mm_payload(m, &p);
    }
    st = mm_q(m, th, f + (uint64_t)l->frame_previous, 0, 8);
    if (k == 1) /* the root alone is left, to be unlinked next */
        mm_chain_root_only(m, st, t);
    if (k == 0)
        mm_entry_pop(m, th, prev);
}

/* The chain the Task leaves behind when it suspends, declared on the
 * innermost coroutine's stack-pointer store (YIELD_VALUE saves it): the
 * truth switches to it when the root is unlinked. */
void mm_chain_declare(mm_mutator *m, int th, mm_mtask *t)
{
    const uw_layout *l = m->l;
    mm_mcoro *c = &t->c[t->n - 1];
    mm_ttask *p;
    uint32_t pay = mm_payload(m, &p);
    mm_store *s;
    int k;

    p->n_chain = (int8_t)t->n;
    for (k = 0; k < t->n; k++)
        p->chain[k] =
            (mm_tframe){t->c[k].obj + (uint64_t)l->gen_iframe, t->c[k].code, t->c[k].line, t->id};
    s = mm_sp(m, th, c->obj + (uint64_t)l->gen_iframe, mm_await_depth(m, c->slots));
    s->ev = EV_CHAIN;
    s->task = t->id;
    s->arg = (int32_t)pay;
}
