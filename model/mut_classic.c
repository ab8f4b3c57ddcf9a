/*
 * mut_classic.c — the classic program shape (mutator.h): one loop thread,
 * up to MM_CLASSIC_TASKS Tasks, each a chain of its own family's
 * coroutines.  The stores, their order and every random draw are those the
 * model made before the server shape existed, so the scenarios and
 * reproducers written then replay the same schedules.
 *
 * Operations (docs/model.md): STEP resumes the chain root first (3.11:
 * `previous` before the executing state; 3.12/3.13: the state first), may
 * make a sync call, and suspends innermost first (line, state, unlink,
 * `previous` cleared); COMPLETE returns every coroutine (unlink, CLEARED,
 * `previous` cleared), marks the Task finished and puts the set's dummy in
 * its registry slot; CREATE allocates the coroutines and the Task (freed
 * blocks first), initialises them store by store, schedules its first
 * step (the ready deque moves) and publishes the Task last, as a weakref
 * in the registry (3.14+: linked into the thread's list), in CPython's
 * order (Task.__init__: call_soon, then register).  Memory of a finished Task is freed
 * when the next operation is generated (all its stores are visible by
 * then) and reused by a later CREATE.
 */
#include "mut_internal.h"
#include "internal/uw_assert.h"

#include <stdio.h>
#include <string.h>

static int mm_classic_rand_line(mm_mutator *m, uint64_t code)
{
    return mm_code_line(m, code) + (int)(mm_rand(m) % MM_LINES);
}

static int mm_suspended_state(const uw_layout *l)
{
    return l->state_suspended_yield_from != UW_NO_STATE ? l->state_suspended_yield_from
                                                        : l->state_suspended;
}

/* CREATE: a Task of family i with a chain of `depth` coroutines, made by
 * a callback (Handle._run on the loop's stack while it is built and
 * published), as in CPython, where a Task is created by running code: a
 * Task's chain is true with the loop's frames from Handle._run rootward at
 * some instant of a callback, the unwinder's premise for every suspended
 * Task.  It is born suspended in an await, as a Task started eagerly
 * (3.12+) is after its first step. */
static void mm_classic_create(mm_mutator *m, int i, int depth)
{
    const uw_layout *l = m->l;
    const uw_asyncio_layout *al = m->al;
    mm_mtask *t = mm_task_slot(m);
    mm_ttask *p;
    char name[32];
    uint32_t pay;
    int k;
    mm_store *s;
    uint64_t run_once = m->lp[0].slot[5];

    mm_return(m, 0, MM_SLOT_LOOP, run_once); /* select returns */
    mm_run_once_at(m, 0, MM_RUN_ONCE_POPLEFT);
    mm_q(m, 0, m->lp[0].ready_state, ++m->lp[0].ready, 8); /* the handle is popped left */
    mm_run_once_at(m, 0, MM_RUN_ONCE_HANDLE);
    mm_call(m, 0, MM_SLOT_LOOP, m->c_handle_run, mm_code_line(m, m->c_handle_run) + 2, MM_LOOP);

    t->role = MM_R_CLASSIC;
    t->classic_slot = i;
    t->n = depth;
    m->classic_id[i] = t->id;
    t->fut = mm_alloc(m->sp, 128);
    mm_q(m, 0, t->fut + (uint64_t)l->object_type, m->im->future_type, 8);
    for (k = 0; k < depth; k++) {
        t->c[k].obj = mm_alloc(m->sp, mm_fab_coro_size(m->im));
        t->c[k].code = m->fam_code[i][k];
        t->c[k].line = mm_classic_rand_line(m, t->c[k].code);
    }
    for (k = depth - 1; k >= 0; k--) {
        uint64_t c = t->c[k].obj, f = c + (uint64_t)l->gen_iframe;
        uint64_t awaitee = k + 1 < depth ? t->c[k + 1].obj : t->fut;
        mm_q(m, 0, c + (uint64_t)l->object_type, m->im->target.types.coro, 8);
        mm_q(m, 0, f + (uint64_t)l->frame_code, t->c[k].code, 8);
        mm_q(m, 0, f + (uint64_t)l->frame_owner, (uint64_t)l->owner_generator, 1);
        mm_q(m, 0, f + (uint64_t)l->frame_instr,
             mm_fab_ip_await(m->im, t->c[k].code, t->c[k].line - mm_code_line(m, t->c[k].code)), 8);
        mm_q(m, 0, f + (uint64_t)l->frame_previous, 0, 8);
        mm_sp(m, 0, f, mm_await_depth(m, 1));
        mm_q(m, 0, f + (uint64_t)l->frame_localsplus, m->v->stack_ref(awaitee), 8);
        if (m->v->awaitee_depth > 1) /* 3.15: a NULL reference above it */
            mm_q(m, 0, f + (uint64_t)l->frame_localsplus + 8, (uint64_t)l->stackref_null, 8);
        mm_q(m, 0, c + (uint64_t)l->gen_frame_state, (uint64_t)(uint8_t)mm_suspended_state(l), 1);
    }
    snprintf(name, sizeof name, "fam%d-%llu", i, (unsigned long long)m->ops);
    snprintf(t->name, sizeof t->name, "%s", name);
    t->name_obj = mm_fab_str(m->im, name);
    t->obj = mm_alloc(m->sp, mm_fab_task_size(m->im));
    mm_q(m, 0, t->obj + (uint64_t)l->object_type, m->im->task_type, 8);
    mm_q(m, 0, t->obj + (uint64_t)al->fut_loop, m->lp[0].loop_obj, 8);
    if (m->v->task_lists) /* 3.14+: Task.__init__ sets task_is_task */
        mm_q(m, 0, t->obj + (uint64_t)al->fut_is_task, 1, 1);
    /* The Task exists, with a stack, once it holds its coroutine: it can be
     * reached through a stale pointer before it is published. */
    pay = mm_payload(m, &p);
    p->addr = t->obj;
    p->coro = t->c[0].obj;
    p->code = t->c[0].code;
    p->gen = t->gen;
    p->alive = 1;
    p->n_chain = (int8_t)depth;
    p->waiter_kind = MM_W_NONE; /* fut_waiter is stored below */
    p->waiter = p->awaiter = p->strong = p->creator = p->amem = MM_NOREF;
    for (k = 0; k < depth; k++)
        p->chain[k] =
            (mm_tframe){t->c[k].obj + (uint64_t)l->gen_iframe, t->c[k].code, t->c[k].line, t->id};
    snprintf(p->name, sizeof p->name, "?"); /* no name stored yet */
    s = mm_q(m, 0, t->obj + (uint64_t)al->task_coro, t->c[0].obj, 8);
    s->ev = EV_NEW;
    s->task = t->id;
    s->arg = (int32_t)pay;
    pay = mm_payload(m, &p);
    snprintf(p->name, sizeof p->name, "%s", name);
    s = mm_q(m, 0, t->obj + (uint64_t)al->task_name, t->name_obj, 8);
    s->ev = EV_NAME;
    s->task = t->id;
    s->arg = (int32_t)pay;
    /* 3.14+: the Future records the Task awaiting it (its step's result) */
    mm_awaited_add(m, 0, t->fut, -1, t->id);
    s = mm_q(m, 0, t->obj + (uint64_t)al->task_fut_waiter, t->fut, 8);
    s->ev = EV_WAITER;
    s->task = t->id;
    s->arg = MM_W_FUTURE;
    s->x = mm_pack_ref(MM_NOREF);
    mm_q(m, 0, t->obj + (uint64_t)al->fut_state, (uint64_t)al->state_pending, 4);
    /* Task.__init__ schedules its first step (call_soon: the ready deque
     * moves, the loop epoch) before it registers the Task, on every
     * version: a reader that finds the Task sees the epoch moved. */
    mm_q(m, 0, m->lp[0].ready_state, ++m->lp[0].ready, 8);
    if (m->v->task_lists) {
        /* 3.14+: published last, linked into the thread's list */
        mm_tlist_insert(m, 0, t->id);
    } else {
        /* Published last, as a weakref: the registry slot of family i. */
        t->wr = mm_alloc(m->sp, 64);
        mm_q(m, 0, t->wr + (uint64_t)l->object_type, m->im->target.types.weakref, 8);
        mm_q(m, 0, t->wr + (uint64_t)l->weakref_object, t->obj, 8);
        mm_q(m, 0,
             m->im->registry_table + (uint64_t)i * (uint64_t)l->setentry_size +
                 (uint64_t)l->setentry_key,
             t->wr, 8);
    }
    t->wait = MM_WT_FUTURE;
    m->alive++;
    mm_return(m, 0, MM_SLOT_LOOP, run_once); /* Handle._run returns */
    mm_run_once_at(m, 0, MM_RUN_ONCE_SELECT);
    mm_call(m, 0, MM_SLOT_LOOP, m->c_select, mm_code_line(m, m->c_select) + 1, MM_LOOP);
}

/* STEP (or COMPLETE) of the Task of family i. */
static void mm_classic_step(mm_mutator *m, int i, int complete)
{
    const uw_layout *l = m->l;
    mm_mtask *t = mm_t(m, m->classic_id[i]);
    uint64_t run_once = m->lp[0].slot[5];
    int32_t id = t->id;
    int k;

    UW_ASSERT(t->used && t->wait != MM_WT_DONE);
    mm_return(m, 0, MM_SLOT_LOOP, run_once); /* select returns */
    mm_run_once_at(m, 0, MM_RUN_ONCE_POPLEFT);
    mm_q(m, 0, m->lp[0].ready_state, ++m->lp[0].ready, 8); /* the handle is popped left */
    mm_run_once_at(m, 0, MM_RUN_ONCE_HANDLE);
    mm_call(m, 0, MM_SLOT_LOOP, m->c_handle_run, mm_code_line(m, m->c_handle_run) + 2, MM_LOOP);
    mm_running_task(m, 0, id);   /* 3.14+: enter_task */
    for (k = 0; k < t->n; k++) { /* resume, root first */
        uint64_t c = t->c[k].obj, f = c + (uint64_t)l->gen_iframe;
        mm_store *st;
        if (l->py_minor == 11) {
            mm_q(m, 0, f + (uint64_t)l->frame_previous, m->lp[0].current, 8);
            st = mm_q(m, 0, c + (uint64_t)l->gen_frame_state, (uint64_t)(uint8_t)l->state_executing,
                      1);
        } else {
            st = mm_q(m, 0, c + (uint64_t)l->gen_frame_state, (uint64_t)(uint8_t)l->state_executing,
                      1);
            /* 3.14+: the root is sent to from C, past an entry frame */
            mm_q(m, 0, f + (uint64_t)l->frame_previous,
                 k == 0 ? mm_entry_push(m, 0) : m->lp[0].current, 8);
        }
        if (k == 0) {
            st->ev = EV_EXEC;
            st->task = id;
            st->index = 1;
        }
        mm_link(m, 0, f, t->c[k].code, t->c[k].line, id, k == 0);
    }
    if (mm_pct(m, m->prog.p_sync)) { /* a sync call and its return */
        uint64_t inner = m->lp[0].current;
        mm_call(m, 0, MM_SLOT_SYNC, m->fam_sync[i][0], mm_classic_rand_line(m, m->fam_sync[i][0]),
                id);
        mm_return(m, 0, MM_SLOT_SYNC, inner);
    }
    for (k = t->n - 1; k >= 0; k--) { /* suspend (or return), innermost first */
        uint64_t c = t->c[k].obj, f = c + (uint64_t)l->gen_iframe;
        uint64_t prev = k > 0 ? t->c[k - 1].obj + (uint64_t)l->gen_iframe : m->lp[0].slot[6];
        /* 3.14+: the root unlinks itself to its entry frame, then
         * INTERPRETER_EXIT goes back to Handle._run */
        uint64_t to = k == 0 && m->v->entry_frames && m->lp[0].entry != 0 ? m->lp[0].entry : prev;
        if (complete) {
            mm_store *st;
            mm_unlink(m, 0, to, id, k == 0);
            st = mm_q(m, 0, c + (uint64_t)l->gen_frame_state, (uint64_t)(uint8_t)l->state_cleared,
                      1);
            if (k == 0) { /* the root returned: no chain, not executing */
                mm_ttask *p;
                st->ev = EV_CHAIN;
                st->task = id;
                st->arg = (int32_t)mm_payload(m, &p);
            }
            st = mm_q(m, 0, f + (uint64_t)l->frame_previous, 0, 8);
            if (k == 1) /* the root alone is left, to be unlinked next */
                mm_chain_root_only(m, st, t);
            if (k == 0)
                mm_entry_pop(m, 0, prev);
        } else {
            mm_store *s;
            int line = mm_classic_rand_line(m, t->c[k].code);
            mm_line_await(m, 0, f, t->c[k].code, line, id);
            t->c[k].line = line;
            s = mm_q(m, 0, c + (uint64_t)l->gen_frame_state,
                     (uint64_t)(uint8_t)mm_suspended_state(l), 1);
            if (k == 0) {
                s->ev = EV_EXEC;
                s->task = id;
                s->index = 0;
            }
            mm_unlink(m, 0, to, id, k == 0);
            mm_q(m, 0, f + (uint64_t)l->frame_previous, 0, 8);
            if (k == 0)
                mm_entry_pop(m, 0, prev);
        }
    }
    if (complete) {
        mm_store *s = mm_q(m, 0, t->obj + (uint64_t)m->al->fut_state, 2, 4);
        s->ev = EV_DONE;
        s->task = id;
        if (m->v->task_lists) {
            /* 3.14+: unlinked as it finishes (future_schedule_callbacks) */
            mm_tlist_remove(m, 0, id);
            mm_q_pseudo(m, 0, MM_ST_RELEASE, 0, 0, id);
        } else {
            mm_q_pseudo(m, 0, MM_ST_RELEASE, 0, 0, id);
            mm_q(m, 0,
                 m->im->registry_table + (uint64_t)i * (uint64_t)l->setentry_size +
                     (uint64_t)l->setentry_key,
                 m->im->set_dummy, 8);
        }
        t->wait = MM_WT_DONE;
        m->alive--;
    }
    mm_running_task(m, 0, -1);               /* 3.14+: leave_task */
    mm_return(m, 0, MM_SLOT_LOOP, run_once); /* Handle._run returns */
    mm_run_once_at(m, 0, MM_RUN_ONCE_SELECT);
    mm_call(m, 0, MM_SLOT_LOOP, m->c_select, mm_code_line(m, m->c_select) + 1, MM_LOOP);
}

/* Memory of a finished Task, freed once its stores are visible. */
static void mm_classic_release(mm_mutator *m, int i)
{
    mm_mtask *t = mm_t(m, m->classic_id[i]);
    int k;

    for (k = 0; k < t->n; k++)
        mm_free(m->sp, t->c[k].obj, mm_fab_coro_size(m->im));
    mm_free(m->sp, t->obj, mm_fab_task_size(m->im));
    mm_free(m->sp, t->fut, 128);
    if (t->wr != 0) /* 3.11-3.13: its weakref */
        mm_free(m->sp, t->wr, 64);
    t->obj = 0;
    t->used = 0;
    m->classic_id[i] = -1;
}

void mm_classic_next_op(mm_mutator *m)
{
    int alive[MM_CLASSIC_TASKS], free_slots[MM_CLASSIC_TASKS], na = 0, nf = 0, i;

    for (i = 0; i < MM_CLASSIC_TASKS; i++) {
        int32_t id = m->classic_id[i];
        if (id >= 0 && mm_t(m, id)->wait != MM_WT_DONE) {
            alive[na++] = i;
        } else {
            if (id >= 0 && mm_t(m, id)->obj != 0)
                mm_classic_release(m, i);
            free_slots[nf++] = i;
        }
    }
    m->ops++;
    m->cur = 0;
    if (na == 0 || (nf > 0 && mm_pct(m, m->prog.p_create))) {
        int slot = free_slots[mm_rand(m) % (uint64_t)nf];
        mm_classic_create(m, slot, 1 + (int)(mm_rand(m) % MM_CLASSIC_CHAIN));
        return;
    }
    i = alive[mm_rand(m) % (uint64_t)na];
    mm_classic_step(m, i, mm_pct(m, m->prog.p_complete));
}

void mm_classic_init(mm_mutator *m)
{
    mm_image *im = m->im;
    char name[64];
    int i, k;

    for (i = 0; i < MM_CLASSIC_TASKS; i++) {
        m->classic_id[i] = -1;
        for (k = 0; k < MM_CLASSIC_CHAIN; k++) {
            snprintf(name, sizeof name, "fam%d_coro%d", i, k);
            m->fam_code[i][k] =
                mm_fab_code(im, name, "/app/tasks.py", 1000 * (i + 1) + 20 * k, MM_LINES);
        }
        snprintf(name, sizeof name, "fam%d_sync", i);
        m->fam_sync[i][0] = mm_fab_code(im, name, "/app/tasks.py", 1000 * (i + 1) + 500, MM_LINES);
    }
    /* The loop, then the first Tasks: all visible before the first sample. */
    for (k = 0; k < 6; k++)
        mm_call(m, 0, k, m->c_loop[k], 10 + 100 * k + 1, MM_LOOP);
    mm_call(m, 0, MM_SLOT_LOOP, m->c_select, 461, MM_LOOP);
    for (i = 0; i < m->prog.n_tasks && i < MM_CLASSIC_TASKS; i++) {
        while (m->lp[0].q.len > 0)
            (void)mm_mutator_step(m);
        mm_classic_create(
            m, i,
            m->prog.depth[i] >= 1 && m->prog.depth[i] <= MM_CLASSIC_CHAIN ? m->prog.depth[i] : 1);
    }
}
