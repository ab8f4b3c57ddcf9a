/*
 * mut_server.c — the server program shape (mutator.h): per loop thread,
 * workers that step forever, their children, gathers, TaskGroups and
 * fire-and-forget Tasks, and idle Tasks; every operation is one callback
 * the loop runs, as its stores (docs/model.md has the orders).
 *
 * An operation: `select` returns and is unlinked; a handle is popped off
 * the ready deque (its mutation count moves: the loop epoch);
 * Handle._run is pushed into the same slot; the callback runs (a Task
 * step, or a done callback); Handle._run returns; objects whose last
 * reference the handle held are deallocated; `select` is pushed again.
 *
 * A Task step (task_step_impl): fut_waiter is cleared, the chain is
 * resumed root first, the tail coroutines that awaited (asyncio.sleep,
 * __sleep0, TaskGroup.__aexit__) return and what they awaited is freed, an
 * awaited child or a gather (with its children and nested gathers) is
 * released; then the body: family coroutines return or are called (the
 * chain's depth changes; their memory is freed and reused), Tasks are
 * created (fire-and-forget, a replacement worker), a default name may be
 * formatted by get_name(), a CPU-bound burst of nested sync calls may run
 * (with GIL release points when nothing shared is touched after them);
 * then the Task either finishes (its coroutines return, it is marked
 * finished, its done callbacks are scheduled) or awaits: a Future (through
 * asyncio.sleep), a bare yield (asyncio.sleep(0)), a new child Task, a
 * gather of new child Tasks (maybe holding a gather), or a TaskGroup of
 * new child Tasks (its __aexit__ awaiting a Future).  It suspends
 * innermost first and stores what it awaits in fut_waiter.
 *
 * Done callbacks run as their own operations: a gather's _done_callback
 * (the last one finishes the gather and wakes its awaiter, or the outer
 * gather's callback), TaskGroup._on_task_done (the last one wakes the
 * parent).  A finished Task is deallocated when nothing holds it: no
 * callback pending, no gather list and no awaiting frame referring to
 * it; the hook module's records naming it go then (mm_task_die: its weak
 * references' callbacks; their frame is not modelled).
 */
#include "mut_internal.h"
#include "internal/uw_assert.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t mm_frame(const mm_mutator *m, const mm_mcoro *c)
{
    return c->obj + (uint64_t)m->l->gen_iframe;
}

static int mm_rand_line(mm_mutator *m, uint64_t code)
{
    return mm_code_line(m, code) + (int)(mm_rand(m) % MM_LINES);
}

/* The frame a Task's root coroutine returns to: Handle._run. */
static uint64_t mm_below(const mm_mutator *m, int th, const mm_mtask *t, int k)
{
    return k > 0 ? mm_frame(m, &t->c[k - 1]) : m->lp[th].slot[MM_SLOT_LOOP];
}

/* Call a new coroutine from t's innermost one and enter it. */
static void mm_push_coro(mm_mutator *m, int th, mm_mtask *t, uint64_t code, int slots)
{
    mm_mcoro *caller = &t->c[t->n - 1];
    mm_mcoro *c = &t->c[t->n];

    UW_ASSERT(t->n < MM_MAX_CHAIN);
    mm_coro_new(m, th, c, code, slots, mm_frame(m, caller));
    caller->line = mm_rand_line(m, caller->code);
    mm_line(m, th, mm_frame(m, caller), caller->code, caller->line, t->id);
    mm_coro_await(m, th, caller, c->obj);
    t->n++;
    mm_coro_resume(m, th, t, t->n - 1);
}

/* t's innermost coroutine returns to its caller, which moves on. */
static void mm_pop_coro(mm_mutator *m, int th, mm_mtask *t)
{
    int k = t->n - 1;
    mm_mcoro *c = &t->c[k];

    UW_ASSERT(k >= 1);
    mm_coro_return(m, th, t, k, mm_below(m, th, t, k));
    mm_m_free(m, th, c->obj, (size_t)c->size);
    t->n--;
    c = &t->c[t->n - 1];
    c->line = mm_rand_line(m, c->code);
    mm_line(m, th, mm_frame(m, c), c->code, c->line, t->id);
}

/* A Future of loop th (loop.create_future()), cleared by the allocator. */
static uint64_t mm_future_new(mm_mutator *m, int th, int loop)
{
    uint64_t f = mm_m_alloc(m, th, (size_t)m->al->fut_size, 1);
    mm_q(m, th, f + (uint64_t)m->l->object_type, m->im->future_type, 8);
    mm_q(m, th, f + (uint64_t)m->al->fut_loop, m->lp[loop].loop_obj, 8);
    return f;
}

static void mm_future_free(mm_mutator *m, int th, uint64_t f)
{
    mm_m_free(m, th, f, (size_t)m->al->fut_size);
}

static void mm_waiter(mm_mutator *m, int th, mm_mtask *t, uint64_t obj, int kind, mm_ref target)
{
    mm_store *s = mm_q(m, th, t->obj + (uint64_t)m->al->task_fut_waiter, obj, 8);
    s->ev = EV_WAITER;
    s->task = t->id;
    s->arg = kind;
    s->x = mm_pack_ref(target);
}

/* create_task(coro()) from Task `creator` (or at setup): the coroutine is
 * made by the caller, then the Task. */
static int32_t mm_spawn(mm_mutator *m, int th, int role, int family, int32_t creator, int named)
{
    mm_mcoro root;
    uint64_t caller = creator >= 0 ? m->lp[th].current : 0;
    int32_t id;
    mm_mtask *t;

    memset(&root, 0, sizeof root);
    mm_coro_new(m, th, &root, m->fam_code[family][0], m->fam_slots[family][0], caller);
    id = mm_task_create(m, th, th, role, family, creator, named, &root);
    t = mm_t(m, id);
    t->steps_left = 1 + (int)(mm_rand(m) % 3);
    mm_ready_add(m, id);
    /* known: callbacks the unwinder can tell no awaiter adds, first when
     * there are more: a worker as asyncio.run's main Task
     * (run_until_complete's function), a fire-and-forget Task kept in a
     * set (its discard: a builtin method made for it, whose object is the
     * set) or a stream server's connection (a closure made for it, of
     * asyncio.streams' callback code), one or the other at random */
    if (m->prog.p_known > 0 && role == MM_R_WORKER && mm_pct(m, m->prog.p_known))
        mm_done_cb_add_obj(m, th, id, m->im->ruc_fn);
    if (m->prog.p_known > 0 && role == MM_R_ORPHAN && mm_pct(m, m->prog.p_known)) {
        uint64_t meth = mm_m_alloc(m, th, MM_CFUNC_SIZE, 0);
        if (mm_rand(m) % 2 == 0) {
            mm_q(m, th, meth + (uint64_t)m->l->object_type, m->im->cfunc_type, 8);
            mm_q(m, th, meth + 16, m->im->cfunc_type, 8); /* m_ml: a stand-in, never read */
            mm_q(m, th, meth + (uint64_t)m->l->cfunc_self, m->im->background, 8);
        } else { /* a stream server's connection: its closure */
            mm_q(m, th, meth + (uint64_t)m->l->object_type, m->im->func_type, 8);
            mm_q(m, th, meth + (uint64_t)m->l->func_code, m->im->stream_cb_code, 8);
        }
        t->cb_method = meth;
        mm_done_cb_add_obj(m, th, id, meth);
    }
    /* held: a done callback that is no awaiter, as a program's main Task
     * gathering its workers gives each (or a server, each connection's
     * Task): the unwinder may not take such a worker for one that nothing
     * awaits */
    if (role == MM_R_WORKER && m->prog.p_held > 0 && mm_pct(m, m->prog.p_held))
        mm_done_cb_add(m, th, id);
    return id;
}

/* Named explicitly, or with the default name? */
static int mm_named(mm_mutator *m, int role)
{
    return role == MM_R_WORKER || role == MM_R_IDLE || !mm_pct(m, m->prog.p_lazy);
}

/* --- gathers ------------------------------------------------------------------ */

static int32_t mm_gather_slot(mm_mutator *m)
{
    int32_t i;

    if (m->n_g_free > 0) {
        i = m->g_free[--m->n_g_free];
    } else {
        if (m->n_g == m->cap_g) {
            size_t nc = m->cap_g ? 2 * m->cap_g : 64;
            mm_mgather *g = realloc(m->g, nc * sizeof *g);
            UW_ASSERT(g != NULL);
            if (g == NULL)
                abort();
            m->g = g;
            m->cap_g = nc;
        }
        i = (int32_t)m->n_g++;
    }
    memset(&m->g[i], 0, sizeof m->g[i]);
    m->g[i].used = 1;
    m->g[i].outer = m->g[i].owner = -1;
    return i;
}

/* A one-entry-per-key dict {keys[i]: values[i]} (n <= 5, str keys, a
 * combined table of 8 slots) written store by store. */
static uint64_t mm_dict_new(mm_mutator *m, int th, const uint64_t *keys, const uint64_t *values,
                            int n, uint64_t *keys_obj)
{
    const uw_layout *l = m->l;
    size_t kbytes = (size_t)l->dictkeys_indices + 8 + 8 * (size_t)l->dictuentry_size;
    uint64_t d = mm_m_alloc(m, th, 64, 0), k = mm_m_alloc(m, th, kbytes, 1);
    uint64_t e = k + (uint64_t)l->dictkeys_indices + 8;
    int i;

    mm_q(m, th, k + (uint64_t)l->dictkeys_log2_size, 3, 1);
    mm_q(m, th, k + (uint64_t)l->dictkeys_log2_index_bytes, 3, 1);
    mm_q(m, th, k + (uint64_t)l->dictkeys_kind, (uint64_t)l->dictkeys_kind_unicode, 1);
    for (i = 0; i < n; i++) {
        uint64_t ei = e + (uint64_t)i * (uint64_t)l->dictuentry_size;
        mm_q(m, th, ei + (uint64_t)l->dictuentry_key, keys[i], 8);
        mm_q(m, th, ei + (uint64_t)l->dictuentry_value, values[i], 8);
        mm_q(m, th, k + (uint64_t)l->dictkeys_nentries, (uint64_t)i + 1, 8);
    }
    mm_q(m, th, d + (uint64_t)l->object_type, m->im->target.types.dict, 8);
    mm_q(m, th, d + (uint64_t)l->dict_values, 0, 8);
    mm_q(m, th, d + (uint64_t)l->dict_keys, k, 8);
    mm_q(m, th, d + (uint64_t)l->dict_used, (uint64_t)n, 8);
    *keys_obj = k;
    return d;
}

/* gather(*aws) run by Task t: child Tasks for the coroutines (and an inner
 * gather for a nested one), then the _GatheringFuture with `_children`.
 * Returns the gather's index. */
static int32_t mm_gather_build(mm_mutator *m, int th, mm_mtask *t, int n, int nested, int depth)
{
    const uw_layout *l = m->l;
    mm_tgather tg;
    int32_t gi, item[MM_GATHER_MAX];
    int8_t isg[MM_GATHER_MAX];
    uint64_t vals[2], keys[2], obj[MM_GATHER_MAX];
    mm_mgather *g;
    int i;

    memset(&tg, 0, sizeof tg);
    for (i = 0; i < n; i++) { /* the arguments, left to right */
        if (nested && i == n - 1 && depth == 0) {
            item[i] = mm_gather_build(m, th, t, 2, 0, depth + 1);
            isg[i] = 1;
            obj[i] = m->g[item[i]].obj;
            tg.item[i] = (mm_ref){m->g[item[i]].wid, m->g[item[i]].wgen};
        } else {
            int32_t c = mm_spawn(m, th, MM_R_CHILD, (t->family + 1) % m->n_fam, t->id,
                                 mm_named(m, MM_R_CHILD));
            mm_mtask *ct = mm_t(m, c);
            item[i] = c;
            isg[i] = 0;
            obj[i] = ct->obj;
            ct->holders = 1; /* the gather's _children list */
            tg.item[i] = (mm_ref){c, ct->gen};
        }
        tg.is_gather[i] = isg[i];
        /* 3.14+: future_add_to_awaited_by(fut, cur_task) */
        mm_awaited_add(m, th, obj[i], isg[i] ? -1 : item[i], t->id);
        if (!isg[i]) /* fut.add_done_callback(_done_callback) */
            mm_done_cb_add(m, th, item[i]);
    }
    gi = mm_gather_slot(m);
    g = &m->g[gi];
    g->cur = t->id;
    g->n = n;
    g->left = n;
    memcpy(g->item, item, sizeof item);
    memcpy(g->is_gather, isg, sizeof isg);
    for (i = 0; i < n; i++) {
        if (isg[i])
            m->g[item[i]].outer = gi;
        else
            mm_t(m, item[i])->in_gather = gi;
    }
    /* the list of children */
    g->items = mm_m_alloc(m, th, 8 * (size_t)n, 0);
    for (i = 0; i < n; i++)
        mm_q(m, th, g->items + 8u * (uint64_t)i, obj[i], 8);
    g->list = mm_m_alloc(m, th, 64, 0);
    mm_q(m, th, g->list + (uint64_t)l->object_type, m->im->target.types.list, 8);
    mm_q(m, th, g->list + (uint64_t)l->list_items, g->items, 8);
    mm_q(m, th, g->list + (uint64_t)l->list_size, (uint64_t)n, 8);
    /* the future: super().__init__(loop), then self._children = children */
    g->obj = mm_m_alloc(m, th, mm_fab_gather_size(m->im), 1);
    mm_q(m, th, g->obj + (uint64_t)l->object_type, m->gather_type, 8);
    mm_q(m, th, g->obj + (uint64_t)m->al->fut_loop, m->lp[t->loop].loop_obj, 8);
    keys[0] = m->s_children;
    vals[0] = g->list;
    keys[1] = m->s_cancel;
    vals[1] = m->im->target.types.none;
    g->dict = mm_dict_new(m, th, keys, vals, 2, &g->keys);
    mm_q(m, th, g->obj + (uint64_t)m->al->fut_size, g->dict, 8);
    tg.addr = g->obj;
    tg.n = n;
    g->wid = mm_world_gather_new(m->w, &tg);
    g->wgen = mm_world_gather_gen(m->w, g->wid);
    /* the hook's gather wrapper: a strong link to each Task child */
    if (m->prog.hook)
        for (i = 0; i < n; i++)
            if (!isg[i])
                mm_hook_record(m, th, item[i], t->id, 1);
    return gi;
}

/* The gather's last reference went (its awaiter resumed): the future, its
 * dict and list are freed; its children lose their last reference. */
static void mm_gather_free(mm_mutator *m, int th, int32_t gi)
{
    mm_mgather *g = &m->g[gi];
    int i;

    for (i = 0; i < g->n; i++) {
        if (g->is_gather[i]) {
            mm_gather_free(m, th, g->item[i]);
        } else {
            mm_mtask *c = mm_t(m, g->item[i]);
            c->holders--;
            c->in_gather = -1;
            mm_task_maybe_free(m, th, c->id);
        }
    }
    mm_m_free(m, th, g->items, 8 * (size_t)g->n);
    mm_m_free(m, th, g->list, 64);
    mm_m_free(m, th, g->keys,
              (size_t)m->l->dictkeys_indices + 8 + 8 * (size_t)m->l->dictuentry_size);
    mm_m_free(m, th, g->dict, 64);
    mm_m_free(m, th, g->obj, mm_fab_gather_size(m->im));
    mm_q_pseudo(m, th, MM_ST_GRELEASE, 0, 0, g->wid);
    g->used = 0;
    m->g_free = realloc(m->g_free, (m->n_g_free + 1) * sizeof *m->g_free);
    UW_ASSERT(m->g_free != NULL);
    m->g_free[m->n_g_free++] = gi;
}

/* --- callbacks ---------------------------------------------------------------- */

static void mm_schedule_cb_item(mm_mutator *m, int th, int kind, int32_t task, int32_t target,
                                int32_t inner);

static void mm_schedule_cb(mm_mutator *m, int th, int kind, int32_t task, int32_t target)
{
    mm_schedule_cb_item(m, th, kind, task, target, -1);
}

static void mm_schedule_cb_item(mm_mutator *m, int th, int kind, int32_t task, int32_t target,
                                int32_t inner)
{
    mm_mloop *L = &m->lp[th];

    if (L->fifo) {
        const mm_callback cb = {kind, task, target, inner};
        mm_ready_append(m, th, th, -1, &cb); /* call_soon */
        if (task >= 0)
            mm_t(m, task)->callbacks++;
        return;
    }
    L->cb = mm_ring_room(L->cb, sizeof *L->cb, &L->cb_head, L->n_cb, &L->cap_cb);
    L->cb[(L->cb_head + L->n_cb++) % L->cap_cb] = (mm_callback){kind, task, target, inner};
    mm_q(m, th, L->ready_state, ++L->ready, 8); /* call_soon */
    if (task >= 0)
        mm_t(m, task)->callbacks++;
}

/* A waiting Task's awaited thing is done: its wakeup is scheduled. */
static void mm_wake(mm_mutator *m, int th, int32_t id)
{
    if (m->lp[th].fifo)
        mm_ready_append(m, th, th, id, NULL);
    else
        mm_q(m, th, m->lp[th].ready_state, ++m->lp[th].ready, 8);
    mm_ready_add(m, id);
}

static void mm_dying(mm_mutator *m, int th, int32_t id)
{
    mm_mloop *L = &m->lp[th];
    mm_mtask *t = mm_t(m, id);

    if (t->used && t->wait == MM_WT_DONE && t->callbacks == 0 && t->holders == 0 &&
        L->n_dying < (int)(sizeof L->dying / sizeof L->dying[0]))
        L->dying[L->n_dying++] = id;
}

static void mm_callback_run(mm_mutator *m, int th, mm_callback cb)
{
    mm_mloop *L = &m->lp[th];
    uint64_t code = cb.kind == MM_CB_GATHER  ? m->c_done_cb
                    : cb.kind == MM_CB_GROUP ? m->c_group_done
                                             : m->c_discard;

    /* Handle._run -> Context.run (C) -> the callback: from C */
    mm_call_from_c(m, th, MM_SLOT_SYNC, code, mm_rand_line(m, code), MM_LOOP);
    if (cb.kind == MM_CB_GATHER) {
        mm_mgather *g = &m->g[cb.target];
        /* 3.14+: future_discard_from_awaited_by(fut, cur_task) */
        if (cb.task >= 0)
            mm_awaited_discard(m, th, mm_t(m, cb.task)->obj, cb.task, g->cur);
        else if (cb.inner >= 0)
            mm_awaited_discard(m, th, m->g[cb.inner].obj, -1, g->cur);
        if (--g->left == 0) { /* outer.set_result(results) */
            mm_q(m, th, g->obj + (uint64_t)m->al->fut_state, 2, 4);
            /* 3.14+: its first done callback, added by gather() itself,
             * discards every child from cur_task's awaited_by (all were
             * discarded as they finished) */
            if (m->v->awaited_by)
                mm_schedule_cb(m, th, MM_CB_DISCARD, -1, cb.target);
            if (g->outer >= 0)
                mm_schedule_cb_item(m, th, MM_CB_GATHER, -1, g->outer, cb.target);
            else if (g->owner >= 0)
                mm_wake(m, th, g->owner);
        }
    } else if (cb.kind == MM_CB_DISCARD) {
        /* functools.partial(_discard_awaited_by, children, cur_task):
         * nothing left to discard */
    } else {
        mm_mtask *p = mm_t(m, cb.target);
        UW_ASSERT(cb.kind == MM_CB_GROUP);
        /* 3.14+: future_discard_from_awaited_by(task, self._parent_task) */
        mm_awaited_discard(m, th, mm_t(m, cb.task)->obj, cb.task, cb.target);
        if (--p->group_left == 0) { /* self._on_completed_fut.set_result(True) */
            mm_q(m, th, p->fut + (uint64_t)m->al->fut_state, 2, 4);
            mm_wake(m, th, p->id);
        }
    }
    mm_return_to_c(m, th, MM_SLOT_SYNC, L->slot[MM_SLOT_LOOP]);
    if (cb.task >= 0) {
        mm_t(m, cb.task)->callbacks--;
        mm_dying(m, th, cb.task);
    }
}

/* The done callback at the head of the callbacks (not fifo). */
static void mm_callback_op(mm_mutator *m, int th)
{
    mm_mloop *L = &m->lp[th];
    mm_callback cb = L->cb[L->cb_head];

    L->cb_head = (L->cb_head + 1) % L->cap_cb;
    L->n_cb--;
    mm_callback_run(m, th, cb);
}

/* --- a Task step -------------------------------------------------------------- */

/* 3.13+: the innermost call of a burst made into a Python __init__ by a
 * call site specialised for its class.  The interpreter pushes its init
 * shim (the caller as its `previous`, not yet at its first instruction),
 * makes the shim the current frame, then pushes __init__ over it and runs
 * it: the shim stays under __init__, hidden, for the whole call.  On the
 * way back __init__ returns to the shim (current again, still before its
 * first traceable instruction), which returns to the caller.  The shim is
 * never on the truth's stack (it is never shown).  Slots: the shim's,
 * then __init__'s; returns __init__'s frame. */
static uint64_t mm_call_init(mm_mutator *m, int th, int k, uint64_t code, int line, int32_t owner)
{
    const uw_layout *l = m->l;
    mm_mloop *L = &m->lp[th];
    uint64_t shim = L->slot[k];

    UW_ASSERT(k + 1 < MM_SLOTS);
    mm_top(m, th, L->slot[k + 1]);
    mm_q(m, th, shim + (uint64_t)l->frame_code, m->c_init_shim, 8);
    mm_q(m, th, shim + (uint64_t)l->frame_owner, (uint64_t)l->owner_thread, 1);
    mm_q(m, th, shim + (uint64_t)l->frame_instr, mm_fab_ip_start(m->im, m->c_init_shim), 8);
    mm_q(m, th, shim + (uint64_t)l->frame_previous, L->current, 8);
    mm_q(m, th, L->current_slot, shim, 8);
    L->current = shim;
    mm_call(m, th, k + 1, code, line, owner);
    return L->slot[k + 1];
}

static void mm_return_init(mm_mutator *m, int th, int k, uint64_t to)
{
    mm_mloop *L = &m->lp[th];

    mm_return(m, th, k + 1, L->slot[k]); /* to the shim */
    mm_q(m, th, L->current_slot, to, 8);
    L->current = to;
    mm_top(m, th, L->slot[k]);
}

/* A CPU-bound stretch: nested sync calls of the Task's family, moving
 * from line to line; at some lines the thread may release the GIL (a
 * sleep, the eval breaker) when `gil_ok`.  With p_init (3.13+) the
 * innermost call may be a Box.__init__ entered through the init shim. */
static void mm_burst(mm_mutator *m, int th, mm_mtask *t, int gil_ok)
{
    mm_mloop *L = &m->lp[th];
    uint64_t back[3];
    int depth = 1 + (int)(mm_rand(m) % 3), d, j, init = -1;

    for (d = 0; d < depth; d++) {
        uint64_t code = m->fam_sync[t->family][d], frame;
        back[d] = L->current;
        if (d == depth - 1 && m->c_init_shim != 0 && mm_pct(m, m->prog.p_init)) {
            init = d;
            code = m->fam_init[t->family];
            frame = mm_call_init(m, th, MM_SLOT_SYNC + d, code, mm_rand_line(m, code), t->id);
        } else {
            mm_call(m, th, MM_SLOT_SYNC + d, code, mm_rand_line(m, code), t->id);
            frame = L->slot[MM_SLOT_SYNC + d];
        }
        for (j = (int)(mm_rand(m) % 4); j > 0; j--) {
            mm_store *s = mm_line(m, th, frame, code, mm_rand_line(m, code), t->id);
            if (gil_ok && mm_pct(m, 50)) {
                s->gil = 1;
                L->gil_emitted = 1;
            }
        }
    }
    for (d = depth; d-- > 0;) {
        if (d == init)
            mm_return_init(m, th, MM_SLOT_SYNC + d, back[d]);
        else
            mm_return(m, th, MM_SLOT_SYNC + d, back[d]);
    }
}

static void mm_suspend_all(mm_mutator *m, int th, mm_mtask *t, int bare_yield)
{
    int k;

    mm_chain_declare(m, th, t);
    for (k = t->n; k-- > 0;)
        mm_coro_suspend(m, th, t, k, mm_below(m, th, t, k), !(bare_yield && k == t->n - 1));
}

static void mm_finish(mm_mutator *m, int th, mm_mtask *t)
{
    int k;
    mm_store *s;

    for (k = t->n; k-- > 0;) {
        mm_coro_return(m, th, t, k, mm_below(m, th, t, k));
        if (k > 0)
            mm_m_free(m, th, t->c[k].obj, (size_t)t->c[k].size);
    }
    t->n = 1; /* the root's memory goes with the Task */
    s = mm_q(m, th, t->obj + (uint64_t)m->al->fut_state, 2, 4); /* future_set_result */
    s->ev = EV_DONE;
    s->task = t->id;
    mm_done_cb_clear(m, th, t->id);    /* future_schedule_callbacks */
    m->v->task_finished(m, th, t->id); /* 3.14+: unlinked from its thread's list */
    t->wait = MM_WT_DONE;
    mm_ready_del(m, t->id);
    /* future_schedule_callbacks, in the order they were added */
    if (t->parent >= 0) {
        mm_mtask *p = mm_t(m, t->parent);
        if (p->used && p->wait == MM_WT_CHILD && p->child == t->id)
            mm_wake(m, th, p->id);
    }
    if (t->in_gather >= 0)
        mm_schedule_cb(m, th, MM_CB_GATHER, t->id, t->in_gather);
    if (t->in_group >= 0)
        mm_schedule_cb(m, th, MM_CB_GROUP, t->id, t->in_group);
    mm_dying(m, th, t->id);
}

enum { MM_AW_FUTURE, MM_AW_SLEEP0, MM_AW_CHILD, MM_AW_GATHER, MM_AW_GROUP, MM_AW_JOIN };

/* A fire-and-forget Task of this loop that another Task created, still
 * running and awaited by nobody, -1 if none. */
static int32_t mm_joinable(mm_mutator *m, int th, int32_t self)
{
    mm_mloop *L = &m->lp[th];
    size_t n = L->n_rdy, i, start = n ? mm_rand(m) % n : 0;

    for (i = 0; i < n; i++) {
        mm_mtask *o = mm_t(m, L->rdy[(start + i) % n]);
        if (o->role == MM_R_ORPHAN && o->parent < 0 && o->id != self && o->steps_left > 1)
            return o->id;
    }
    return -1;
}

static void mm_step(mm_mutator *m, int th, int32_t id)
{
    mm_mloop *L = &m->lp[th];
    mm_mtask *t = mm_t(m, id);
    int finishing = 0, aw = MM_AW_FUTURE, k, gil_ok;
    int32_t join = -1;

    L->stepping = id;
    /* 3.14+ task_wakeup: what the Task awaited forgets it
     * (future_awaited_by_discard), then task_step: enter_task */
    switch (t->wait) {
    case MM_WT_FUTURE:
    case MM_WT_GROUP:
        mm_awaited_discard(m, th, t->fut, -1, id);
        break;
    case MM_WT_CHILD:
        mm_awaited_discard(m, th, mm_t(m, t->child)->obj, t->child, id);
        break;
    case MM_WT_GATHER:
        mm_awaited_discard(m, th, m->g[t->gather].obj, -1, id);
        break;
    default:
        break;
    }
    mm_running_task(m, th, id);
    /* task_step_impl: Py_CLEAR(task->task_fut_waiter), then send */
    if (t->wait == MM_WT_FUTURE || t->wait == MM_WT_CHILD || t->wait == MM_WT_GATHER ||
        t->wait == MM_WT_GROUP)
        mm_waiter(m, th, t, 0, MM_W_NONE, MM_NOREF);
    for (k = 0; k < t->n; k++)
        mm_coro_resume(m, th, t, k);
    /* what the Task awaited lets go */
    switch (t->wait) {
    case MM_WT_FUTURE: /* asyncio.sleep returns; its Future goes */
        mm_pop_coro(m, th, t);
        mm_future_free(m, th, t->fut);
        t->fut = 0;
        break;
    case MM_WT_SLEEP0:
        mm_pop_coro(m, th, t); /* __sleep0 */
        mm_pop_coro(m, th, t); /* sleep */
        break;
    case MM_WT_GROUP: /* __aexit__ returns; on_completed_fut goes */
        mm_pop_coro(m, th, t);
        mm_future_free(m, th, t->fut);
        t->fut = 0;
        break;
    case MM_WT_CHILD: {
        mm_mtask *c = mm_t(m, t->child);
        c->holders--;
        c->parent = -1;
        mm_task_maybe_free(m, th, t->child);
        t->child = -1;
        break;
    }
    case MM_WT_GATHER:
        mm_gather_free(m, th, t->gather);
        t->gather = -1;
        break;
    default:
        break;
    }
    t->wait = MM_WT_NEW; /* running */
    /* the body */
    if (t->role == MM_R_WORKER)
        finishing = mm_pct(m, m->prog.p_finish);
    else
        finishing = --t->steps_left <= 0;
    if (!finishing && t->n > 1 && mm_pct(m, m->prog.p_deep)) {
        int r = (int)(mm_rand(m) % (uint64_t)t->n);
        while (r-- > 0 && t->n > 1)
            mm_pop_coro(m, th, t);
    }
    if (t->role != MM_R_ORPHAN && mm_pct(m, m->prog.p_orphan))
        (void)mm_spawn(m, th, MM_R_ORPHAN, (t->family + 2) % m->n_fam, id,
                       mm_named(m, MM_R_ORPHAN));
    if (finishing && t->role == MM_R_WORKER) /* its replacement */
        (void)mm_spawn(m, th, MM_R_WORKER, t->family, id, 1);
    if (mm_pct(m, m->prog.p_getname) && L->n_rdy > 0)
        mm_task_get_name(m, th, L->rdy[mm_rand(m) % L->n_rdy]);
    if (!finishing && mm_pct(m, m->prog.p_deep)) {
        int target = 1 + (int)(mm_rand(m) % (uint64_t)m->prog.max_depth);
        while (t->n < target)
            mm_push_coro(m, th, t, m->fam_code[t->family][t->n], m->fam_slots[t->family][t->n]);
    }
    if (!finishing) {
        int p = (int)(mm_rand(m) % 100);
        if (t->role != MM_R_WORKER)
            aw = mm_pct(m, m->prog.p_sleep0) ? MM_AW_SLEEP0 : MM_AW_FUTURE;
        else if (p < m->prog.p_child)
            aw = MM_AW_CHILD;
        else if (p < m->prog.p_child + m->prog.p_gather)
            aw = MM_AW_GATHER;
        else if (p < m->prog.p_child + m->prog.p_gather + m->prog.p_group)
            aw = MM_AW_GROUP;
        else if (p < m->prog.p_child + m->prog.p_gather + m->prog.p_group + m->prog.p_join)
            aw = (join = mm_joinable(m, th, id)) >= 0 ? MM_AW_JOIN : MM_AW_FUTURE;
        else
            aw = mm_pct(m, m->prog.p_sleep0) ? MM_AW_SLEEP0 : MM_AW_FUTURE;
    }
    /* GIL release points only when nothing shared (registry, hook records)
     * is touched after them in this operation */
    gil_ok = finishing ? (t->holders > 0 || t->in_gather >= 0 || t->in_group >= 0 ||
                          (t->parent >= 0 && mm_t(m, t->parent)->wait == MM_WT_CHILD))
                       : (aw == MM_AW_FUTURE || aw == MM_AW_SLEEP0 || aw == MM_AW_JOIN);
    if (mm_pct(m, m->prog.p_burst))
        mm_burst(m, th, t, gil_ok);
    if (finishing) {
        mm_finish(m, th, t);
        mm_running_task(m, th, -1); /* 3.14+: leave_task */
        L->stepping = -1;
        return;
    }
    switch (aw) {
    case MM_AW_FUTURE: {
        uint64_t fut;
        mm_push_coro(m, th, t, m->c_sleep, 2);
        fut = mm_future_new(m, th, t->loop);
        mm_coro_await(m, th, &t->c[t->n - 1], fut);
        t->fut = fut;
        t->wait = MM_WT_FUTURE;
        mm_suspend_all(m, th, t, 0);
        mm_awaited_add(m, th, fut, -1, id); /* 3.14+: the step's result */
        mm_waiter(m, th, t, fut, MM_W_FUTURE, MM_NOREF);
        if (L->fifo)
            mm_sleeper_add(m, id); /* its timer (call_later) */
        break;
    }
    case MM_AW_SLEEP0:
        mm_push_coro(m, th, t, m->c_sleep, 2);
        mm_push_coro(m, th, t, m->c_sleep0, 1);
        t->wait = MM_WT_SLEEP0;
        mm_suspend_all(m, th, t, 1);
        if (L->fifo)
            mm_ready_append(m, th, th, id, NULL); /* bare yield: call_soon(step) */
        break;
    case MM_AW_JOIN: /* await a Task created elsewhere */
    case MM_AW_CHILD: {
        int32_t c = aw == MM_AW_JOIN ? join
                                     : mm_spawn(m, th, MM_R_CHILD, (t->family + 1) % m->n_fam, id,
                                                mm_named(m, MM_R_CHILD));
        mm_mtask *ct = mm_t(m, c);
        mm_mcoro *in = &t->c[t->n - 1];
        ct->parent = id;
        ct->holders++; /* the awaiting frame */
        in->line = mm_rand_line(m, in->code);
        mm_line(m, th, mm_frame(m, in), in->code, in->line, id);
        mm_coro_await(m, th, in, ct->obj);
        t->child = c;
        t->wait = MM_WT_CHILD;
        mm_ready_del(m, id);
        mm_suspend_all(m, th, t, 0);
        mm_awaited_add(m, th, ct->obj, c, id); /* 3.14+: the step's result */
        mm_done_cb_add(m, th, c);              /* result.add_done_callback(task._wakeup) */
        mm_waiter(m, th, t, ct->obj, MM_W_TASK, (mm_ref){c, ct->gen});
        break;
    }
    case MM_AW_GATHER: {
        int n = 2 + (int)(mm_rand(m) % 4);
        int nested = n >= 3 && mm_pct(m, m->prog.p_nested);
        int32_t gi = mm_gather_build(m, th, t, n, nested, 0);
        mm_mcoro *in = &t->c[t->n - 1];
        m->g[gi].owner = id;
        in->line = mm_rand_line(m, in->code);
        mm_line(m, th, mm_frame(m, in), in->code, in->line, id);
        mm_coro_await(m, th, in, m->g[gi].obj);
        t->gather = gi;
        t->wait = MM_WT_GATHER;
        mm_ready_del(m, id);
        mm_suspend_all(m, th, t, 0);
        mm_awaited_add(m, th, m->g[gi].obj, -1, id); /* 3.14+: the step's result */
        mm_waiter(m, th, t, m->g[gi].obj, MM_W_GATHER, (mm_ref){m->g[gi].wid, m->g[gi].wgen});
        break;
    }
    case MM_AW_GROUP: {
        int n = 1 + (int)(mm_rand(m) % 4), i;
        uint64_t fut;
        for (i = 0; i < n; i++) { /* tg.create_task(child()) */
            int32_t c = mm_spawn(m, th, MM_R_CHILD, (t->family + 1) % m->n_fam, id,
                                 mm_named(m, MM_R_CHILD));
            mm_t(m, c)->in_group = id;
            /* 3.14+: future_add_to_awaited_by(task, self._parent_task) */
            mm_awaited_add(m, th, mm_t(m, c)->obj, c, id);
            mm_done_cb_add(m, th, c); /* task.add_done_callback(self._on_task_done) */
            if (m->prog.hook)
                mm_hook_record(m, th, c, id, 1);
        }
        t->group_left = n;
        mm_push_coro(m, th, t, m->c_aexit, 3);
        fut = mm_future_new(m, th, t->loop); /* self._on_completed_fut */
        mm_coro_await(m, th, &t->c[t->n - 1], fut);
        t->fut = fut;
        t->wait = MM_WT_GROUP;
        mm_ready_del(m, id);
        mm_suspend_all(m, th, t, 0);
        mm_awaited_add(m, th, fut, -1, id); /* 3.14+: the step's result */
        mm_waiter(m, th, t, fut, MM_W_FUTURE, MM_NOREF);
        break;
    }
    default:
        break;
    }
    mm_running_task(m, th, -1); /* 3.14+: leave_task */
    L->stepping = -1;
}

int mm_server_has_work(const mm_mutator *m, int th)
{
    const mm_mloop *L = &m->lp[th];

    return L->fifo ? L->hq_n > 0 || L->n_slp > 0 : L->n_cb > 0 || L->n_rdy > 0;
}

void mm_server_next_op(mm_mutator *m, int th)
{
    mm_mloop *L = &m->lp[th];
    int i;

    if (!mm_server_has_work(m, th))
        return; /* nothing ready: the loop sleeps in select */
    L->gil_emitted = 0;
    L->n_dying = 0;
    mm_return(m, th, MM_SLOT_LOOP, L->slot[5]); /* select returns */
    if (L->fifo) {
        mm_handle h;
        /* timers come due (at least one when nothing else is ready):
         * each sleeper's wakeup is queued behind what is there */
        while (L->n_slp > 0 && (L->hq_n == 0 || mm_rand(m) % 4 == 0))
            mm_sleeper_fire(m, th, L->slp[mm_rand(m) % L->n_slp]);
        mm_run_once_at(m, th, MM_RUN_ONCE_POPLEFT); /* self._ready.popleft() */
        h = mm_ready_popleft(m, th);                /* the oldest handle */
        mm_run_once_at(m, th, MM_RUN_ONCE_HANDLE);  /* handle._run() */
        mm_call(m, th, MM_SLOT_LOOP, m->c_handle_run, mm_code_line(m, m->c_handle_run) + 2,
                MM_LOOP);
        if (h.task >= 0)
            mm_step(m, th, h.task);
        else
            mm_callback_run(m, th, h.cb);
    } else {
        mm_run_once_at(m, th, MM_RUN_ONCE_POPLEFT);
        mm_q(m, th, L->ready_state, ++L->ready, 8); /* a handle is popped */
        mm_run_once_at(m, th, MM_RUN_ONCE_HANDLE);
        mm_call(m, th, MM_SLOT_LOOP, m->c_handle_run, mm_code_line(m, m->c_handle_run) + 2,
                MM_LOOP);
        if (L->n_cb > 0 && (L->n_rdy == 0 || mm_rand(m) % 3 == 0))
            mm_callback_op(m, th);
        else
            mm_step(m, th, L->rdy[mm_rand(m) % L->n_rdy]);
    }
    mm_return(m, th, MM_SLOT_LOOP, L->slot[5]); /* Handle._run returns */
    for (i = 0; i < L->n_dying; i++)            /* handle = None */
        mm_task_maybe_free(m, th, L->dying[i]);
    mm_run_once_at(m, th, MM_RUN_ONCE_SELECT); /* self._selector.select(timeout) */
    mm_call(m, th, MM_SLOT_LOOP, m->c_select, mm_code_line(m, m->c_select) + 1, MM_LOOP);
}

/* An idle Task: `await event.wait()` on an event that is never set, built
 * as its first step would leave it (setup, before any sample). */
static void mm_idle_new(mm_mutator *m, int th, uint64_t event_fut, int i)
{
    const uw_layout *l = m->l;
    int family = m->n_fam - 1 - i % (m->n_fam > 1 ? 2 : 1);
    int32_t id = mm_spawn(m, th, MM_R_IDLE, family, -1, 1);
    mm_mtask *t = mm_t(m, id);
    mm_mcoro *root = &t->c[0];
    uint64_t f0 = mm_frame(m, root);
    int k;

    /* 3.14+: Event.wait() makes one Future per waiter, and each records
     * its waiter (awaited_by); earlier versions' idle Tasks share one. */
    if (m->v->awaited_by)
        event_fut = mm_future_new(m, th, th);
    mm_ready_del(m, id);
    t->n = 1 + (int)(mm_rand(m) % 2);
    for (k = 1; k < t->n; k++)
        mm_coro_new(m, th, &t->c[k], m->fam_code[family][k], m->fam_slots[family][k],
                    mm_frame(m, &t->c[k - 1]));
    for (k = 0; k < t->n; k++) {
        mm_mcoro *c = &t->c[k];
        c->line = mm_rand_line(m, c->code);
        mm_q(m, th, mm_frame(m, c) + (uint64_t)l->frame_instr,
             mm_fab_ip_await(m->im, c->code, c->line - mm_code_line(m, c->code)), 8);
        mm_coro_await(m, th, c, k + 1 < t->n ? t->c[k + 1].obj : event_fut);
        mm_q(m, th, mm_frame(m, c) + (uint64_t)l->frame_previous, 0, 8);
        mm_q(m, th, c->obj + (uint64_t)l->gen_frame_state, (uint64_t)(uint8_t)m->v->state_await, 1);
    }
    (void)f0;
    mm_chain_declare(m, th, t);
    t->wait = MM_WT_EVENT;
    mm_awaited_add(m, th, event_fut, -1, id); /* 3.14+: the step's result */
    mm_waiter(m, th, t, event_fut, MM_W_FUTURE, MM_NOREF);
}

static void mm_server_codes(mm_mutator *m)
{
    mm_image *im = m->im;
    char name[64], file[64];
    int f, k;

    m->n_fam = m->prog.families < 1                 ? 1
               : m->prog.families > MM_MAX_FAMILIES ? MM_MAX_FAMILIES
                                                    : m->prog.families;
    for (f = 0; f < m->n_fam; f++) {
        snprintf(file, sizeof file, "/app/fam%d.py", f);
        for (k = 0; k < MM_MAX_CHAIN; k++) {
            if (k == 0)
                snprintf(name, sizeof name, "f%d_main", f);
            else
                snprintf(name, sizeof name, "f%d_level%d", f, k);
            m->fam_code[f][k] = mm_fab_code(im, name, file, 100 + 20 * k, MM_LINES);
            m->fam_slots[f][k] = 1 + (int)(mm_rand(m) % (uint64_t)(m->prog.slots + 1));
        }
        for (k = 0; k < 3; k++) {
            snprintf(name, sizeof name, "f%d_burst%d", f, k);
            m->fam_sync[f][k] = mm_fab_code(im, name, file, 400 + 20 * k, MM_LINES);
        }
    }
    if (m->prog.p_init > 0 && m->v->minor >= 13) {
        for (f = 0; f < m->n_fam; f++) {
            snprintf(file, sizeof file, "/app/fam%d.py", f);
            snprintf(name, sizeof name, "f%d_Box.__init__", f);
            m->fam_init[f] = mm_fab_code(im, name, file, 480, MM_LINES);
        }
        m->c_init_shim = mm_fab_init_shim(im);
    }
    m->c_sleep = mm_fab_code(im, "sleep", "/py/asyncio/tasks.py", 640, MM_LINES);
    m->c_sleep0 = mm_fab_code_ex(im, "__sleep0", "/py/asyncio/tasks.py", 630, 2, 1);
    m->c_aexit = mm_fab_code(im, "TaskGroup.__aexit__", "/py/asyncio/taskgroups.py", 70, MM_LINES);
    m->c_create_task = m->prog.hook
                           ? mm_fab_code(im, "_create_task", "/py/tornstack_hook.py", 90, MM_LINES)
                           : mm_fab_code(im, "BaseEventLoop.create_task",
                                         "/py/asyncio/base_events.py", 430, MM_LINES);
    m->c_call_soon =
        mm_fab_code(im, "BaseEventLoop.call_soon", "/py/asyncio/base_events.py", 740, MM_LINES);
    m->c_done_cb =
        mm_fab_code(im, "gather.<locals>._done_callback", "/py/asyncio/tasks.py", 760, MM_LINES);
    m->c_group_done =
        mm_fab_code(im, "TaskGroup._on_task_done", "/py/asyncio/taskgroups.py", 200, MM_LINES);
    m->c_discard = m->v->awaited_by ? mm_fab_code(im, "_discard_awaited_by", "/py/asyncio/tasks.py",
                                                  778, MM_LINES)
                                    : 0;
}

/* 3.14+: Tasks of a type not derived from _asyncio.Task still go to
 * asyncio.tasks' WeakSet (_register_task: non_asyncio_tasks.add), while
 * native ones go to the lists; a reader must pass them over.  Two such
 * pending Tasks (a pure-Python Task class deriving from the pure-Python
 * Future), made at setup; they are no Tasks of the truth (the unwinder
 * reads only _asyncio.Task and its subclasses). */
static void mm_foreign_tasks(mm_mutator *m)
{
    uint64_t future = mm_fab_type(m->im, "Future", 0), type = mm_fab_type(m->im, "Task", future);
    int i;

    for (i = 0; i < 2; i++) {
        mm_mtask *t = mm_task_slot(m);
        t->loop = 0;
        t->role = MM_R_IDLE;
        t->wait = MM_WT_EVENT;
        t->obj = mm_m_alloc(m, 0, 64, 1);
        mm_q(m, 0, t->obj + (uint64_t)m->l->object_type, type, 8);
        mm_set_add(m, 0, t->id, 0);
        while (m->lp[0].q.len > 0)
            (void)mm_mutator_step(m);
    }
}

void mm_server_init(mm_mutator *m)
{
    mm_image *im = m->im;
    int th, i, n, made = 0;

    if (m->prog.max_depth < 1)
        m->prog.max_depth = 1;
    if (m->prog.max_depth > MM_MAX_CHAIN - 3)
        m->prog.max_depth = MM_MAX_CHAIN - 3;
    im->target.types.list = mm_fab_type(im, "list", 0);
    m->gather_type = mm_fab_gather_type(im);
    m->s_children = mm_fab_str(im, "_children");
    m->s_cancel = mm_fab_str(im, "_cancel_requested");
    mm_server_codes(m);
    mm_set_init(m);
    mm_hook_init(m);
    if (m->v->task_lists)
        mm_foreign_tasks(m);
    for (th = 0; th < m->n_loops; th++) {
        uint64_t event_fut = 0;
        m->cur = th;
        for (i = 0; i < m->prog.workers; i++) {
            (void)mm_spawn(m, th, MM_R_WORKER, (th * m->prog.workers + i) % m->n_fam, -1, 1);
            while (m->lp[th].q.len > 0)
                (void)mm_mutator_step(m);
        }
        n = m->prog.idle / m->n_loops + (th < m->prog.idle % m->n_loops ? 1 : 0);
        if (n > 0)
            event_fut = mm_future_new(m, th, th);
        for (i = 0; i < n; i++, made++) {
            mm_idle_new(m, th, event_fut, made);
            while (m->lp[th].q.len > 0)
                (void)mm_mutator_step(m);
        }
    }
    m->cur = 0;
}
