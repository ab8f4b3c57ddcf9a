/*
 * mut_task.c — a Task's life as stores (docs/model.md): created by
 * loop.create_task(), named, its default name formatted by get_name(),
 * and deallocated.
 *
 * Creation (Modules/_asynciomodule.c, _asyncio_Task___init___impl): the
 * coroutine object exists already (the caller made it); an explicit name
 * is a str made by the caller.  The Task is allocated cleared
 * (PyType_GenericAlloc), future_init stores its loop, then task_coro (from
 * here the Task exists: it holds its coroutine), then its name (3.11: a
 * str "Task-N" formatted now; 3.12+: the int counter N), then its first
 * step is scheduled (call_soon: the ready deque's count moves), then it
 * is registered (version.h: 3.11-3.13 a weakref in the WeakSet; 3.14+
 * its node linked into its thread's list, after `task_is_task` was set
 * right after the loop).  With the hook module, the creation link is
 * recorded after create_task returns.
 *
 * Deallocation (TaskObj_dealloc): 3.11-3.13: its weakrefs are cleared and
 * their callbacks run (the WeakSet discards it); 3.14+: unregister_task,
 * nothing to do for a Task unlinked when it finished.  Then
 * TaskObj_clear: FutureObj_clear (fut_loop first; 3.14+: awaited_by
 * cleared if set, then its set flag), the coroutine, the name, fut_waiter;
 * the coroutine, the name and the Task are freed.
 */
#include "mut_internal.h"
#include "internal/uw_assert.h"

#include <stdio.h>
#include <string.h>

/* A compact ASCII str object, written store by store. */
uint64_t mm_str_new(mm_mutator *m, int th, const char *str, int *size)
{
    const uw_layout *l = m->l;
    size_t n = strlen(str), bytes = (size_t)l->unicode_ascii_data + n + 1, k;
    uint64_t a = mm_m_alloc(m, th, bytes, 0);
    uint32_t state = (uint32_t)l->unicode_compact_mask | (1u << l->unicode_kind_shift) |
                     (uint32_t)l->unicode_ascii_mask;
    uint8_t data[64];

    UW_ASSERT(n + 1 <= sizeof data);
    memset(data, 0, sizeof data);
    memcpy(data, str, n);
    mm_q(m, th, a + (uint64_t)l->object_type, m->im->target.types.str, 8);
    mm_q(m, th, a + (uint64_t)l->unicode_length, n, 8);
    mm_q(m, th, a + (uint64_t)l->unicode_state, state, 4);
    for (k = 0; k < n + 1; k += 8) {
        uint64_t w;
        size_t len = n + 1 - k < 8 ? n + 1 - k : 8;
        memcpy(&w, data + k, 8);
        mm_q(m, th, a + (uint64_t)l->unicode_ascii_data + k, w, (int)len);
    }
    *size = (int)bytes;
    return a;
}

/* An int object holding v (< 2^30: one digit). */
static uint64_t mm_int_new(mm_mutator *m, int th, uint64_t v, int *size)
{
    const uw_layout *l = m->l;
    size_t bytes = (size_t)l->long_digits + 4;
    uint64_t a = mm_m_alloc(m, th, bytes, 0);
    uint64_t tag = l->long_tagged ? (1u << 3) : 1u; /* one digit, positive */

    UW_ASSERT(v < (1u << 30));
    mm_q(m, th, a + (uint64_t)l->object_type, m->im->target.types.long_, 8);
    mm_q(m, th, a + (uint64_t)l->long_tag, tag, 8);
    mm_q(m, th, a + (uint64_t)l->long_digits, v, 4);
    *size = (int)bytes;
    return a;
}

/* loop.create_task(coro): a new Task of `loop` (run by thread th) whose
 * root coroutine t->c[0] the caller made.  creator: the running Task
 * (-1 at setup).  named: an explicit name, else the default one.  root:
 * the coroutine the caller made. */
int32_t mm_task_create(mm_mutator *m, int th, int loop, int role, int family, int32_t creator,
                       int named, const mm_mcoro *root)
{
    const uw_layout *l = m->l;
    const uw_asyncio_layout *al = m->al;
    mm_mtask *t;
    mm_ttask *p;
    uint32_t pay;
    mm_store *s;
    int32_t id;
    int name_int = 0;
    uint64_t back = m->lp[th].current;

    t = mm_task_slot(m);
    id = t->id;
    t->n = 1;
    t->c[0] = *root;
    t->loop = loop;
    t->role = role;
    t->family = family;
    t->wait = MM_WT_NEW;
    if (creator >= 0) /* BaseEventLoop.create_task, then call_soon, on the stack */
        mm_call(m, th, MM_SLOT_SYNC, m->c_create_task, mm_code_line(m, m->c_create_task) + 1,
                creator);
    if (named) {
        snprintf(t->name, sizeof t->name, "%c%d.%llu",
                 role == MM_R_WORKER   ? 'w'
                 : role == MM_R_ORPHAN ? 'o'
                 : role == MM_R_IDLE   ? 'i'
                                       : 'c',
                 family, (unsigned long long)++m->serial);
        t->name_obj = mm_str_new(m, th, t->name, &t->name_size);
    }
    t->obj = mm_m_alloc(m, th, (size_t)al->task_size, 1);
    mm_q(m, th, t->obj + (uint64_t)l->object_type, m->im->task_type, 8);
    mm_q(m, th, t->obj + (uint64_t)al->fut_loop, m->lp[loop].loop_obj, 8);
    if (m->v->task_lists) /* 3.14+: after future_init, task_is_task = 1 */
        mm_q(m, th, t->obj + (uint64_t)al->fut_is_task, 1, 1);
    pay = mm_payload(m, &p);
    p->addr = t->obj;
    p->coro = t->c[0].obj;
    p->code = t->c[0].code;
    p->gen = t->gen;
    p->alive = 1;
    p->loop = (int8_t)loop;
    p->n_chain = 1;
    p->waiter = p->awaiter = p->strong = p->creator = p->amem = MM_NOREF;
    p->chain[0] =
        (mm_tframe){t->c[0].obj + (uint64_t)l->gen_iframe, t->c[0].code, t->c[0].line, id};
    snprintf(p->name, sizeof p->name, "?"); /* no name stored yet */
    s = mm_q(m, th, t->obj + (uint64_t)al->task_coro, t->c[0].obj, 8);
    s->ev = EV_NEW;
    s->task = id;
    s->arg = (int32_t)pay;
    if (!named) {
        uint64_t n = ++m->name_counter;
        snprintf(t->name, sizeof t->name, "Task-%llu", (unsigned long long)n);
        if (m->v->lazy_names) {
            t->name_obj = mm_int_new(m, th, n, &t->name_size);
            name_int = 1;
        } else {
            t->name_obj = mm_str_new(m, th, t->name, &t->name_size);
        }
    }
    t->name_is_int = name_int;
    pay = mm_payload(m, &p);
    snprintf(p->name, sizeof p->name, "%s", t->name);
    s = mm_q(m, th, t->obj + (uint64_t)al->task_name, t->name_obj, 8);
    s->ev = EV_NAME;
    s->task = id;
    s->arg = (int32_t)pay;
    if (creator >= 0)
        mm_call(m, th, MM_SLOT_SYNC + 1, m->c_call_soon, mm_code_line(m, m->c_call_soon) + 2,
                creator);
    mm_ready_append(m, th, loop, id, NULL); /* call_soon(step) */
    if (creator >= 0)
        mm_return(m, th, MM_SLOT_SYNC + 1, m->lp[th].slot[MM_SLOT_SYNC]);
    m->v->task_register(m, th, id);
    if (creator >= 0) {
        /* the hook module's create_task wrapper records the link before
         * it returns (python/tornstack_hook.py) */
        if (m->prog.hook)
            mm_hook_record(m, th, id, creator, 2);
        mm_return(m, th, MM_SLOT_SYNC, back);
    }
    m->alive++;
    return id;
}

/* task.get_name(): a default name kept as an int becomes the str
 * "Task-N" (the same text); the int is freed. */
/* future_add_done_callback on a pending Task (Modules/_asynciomodule.c,
 * 3.11-3.15 alike): the first callback goes in fut_callback0, the next
 * ones in the list fut_callbacks, made for the second.  Awaiting a Task,
 * gathering it and joining it to a TaskGroup each add one before anything
 * else shows the link (the hook's records add none: mm_hook_record).  The
 * unwinder reads only whether either word is set, so they hold the Task's
 * own address as a stand-in for the callable and the list, which are
 * never read; except a first callback that no awaiter adds
 * (mm_done_cb_add_obj), which the unwinder reads to tell it from one an
 * awaiter adds (callbacks.c). */
void mm_done_cb_add_obj(mm_mutator *m, int th, int32_t id, uint64_t obj)
{
    mm_mtask *t = mm_t(m, id);

    if (t->wait == MM_WT_DONE)
        return; /* done: the callback is scheduled at once, not kept */
    if (t->done_cbs++ == 0)
        mm_q(m, th, t->obj + (uint64_t)m->al->fut_callback0, obj, 8);
    else if (t->done_cbs == 2)
        mm_q(m, th, t->obj + (uint64_t)m->al->fut_callbacks, t->obj, 8);
}

void mm_done_cb_add(mm_mutator *m, int th, int32_t id)
{
    mm_done_cb_add_obj(m, th, id, mm_t(m, id)->obj);
}

/* future_schedule_callbacks as the Task finishes (after its state):
 * fut_callback0 cleared, then fut_callbacks. */
void mm_done_cb_clear(mm_mutator *m, int th, int32_t id)
{
    mm_mtask *t = mm_t(m, id);

    if (t->done_cbs > 0)
        mm_q(m, th, t->obj + (uint64_t)m->al->fut_callback0, 0, 8);
    if (t->done_cbs > 1)
        mm_q(m, th, t->obj + (uint64_t)m->al->fut_callbacks, 0, 8);
    t->done_cbs = 0;
    if (t->cb_method != 0) { /* the discard ran and went: its block reused */
        mm_m_free(m, th, t->cb_method, MM_CFUNC_SIZE);
        t->cb_method = 0;
    }
}

void mm_task_get_name(mm_mutator *m, int th, int32_t id)
{
    mm_mtask *t = mm_t(m, id);
    uint64_t old = t->name_obj;
    int old_size = t->name_size;

    if (!t->name_is_int || t->obj == 0)
        return;
    t->name_obj = mm_str_new(m, th, t->name, &t->name_size);
    mm_q(m, th, t->obj + (uint64_t)m->al->task_name, t->name_obj, 8);
    mm_m_free(m, th, old, (size_t)old_size);
    t->name_is_int = 0;
}

/* The Task's memory is gone (docs: deallocation above). */
void mm_task_die(mm_mutator *m, int th, int32_t id)
{
    const uw_asyncio_layout *al = m->al;
    mm_mtask *t = mm_t(m, id);
    int k;

    UW_ASSERT(t->used && t->wait == MM_WT_DONE);
    /* the hook module's weak references call back first, as the Task is
     * deallocated and before its memory can hold another Task: the
     * records naming it, as child or as parent, are zeroed (_gone) */
    if (m->prog.hook) {
        mm_hook_release(m, th, id, 1);
        mm_hook_release(m, th, id, 2);
        if (t->hook_watched)
            mm_hook_release_parent(m, th, id);
    }
    m->v->task_unregister(m, th, id);
    mm_q(m, th, t->obj + (uint64_t)al->fut_loop, 0, 8);
    if (m->v->awaited_by) { /* 3.14+ FutureObj_clear: Py_CLEAR(awaited_by), not a set */
        if (t->ab >= 0)
            mm_awaited_discard(m, th, t->obj, id, t->ab);
        mm_q(m, th, t->obj + (uint64_t)al->fut_awaited_by_is_set, 0, 1);
    }
    mm_q(m, th, t->obj + (uint64_t)al->task_coro, 0, 8);
    mm_q(m, th, t->obj + (uint64_t)al->task_name, 0, 8);
    mm_q(m, th, t->obj + (uint64_t)al->task_fut_waiter, 0, 8);
    for (k = 0; k < t->n; k++) /* the root (the others returned and went) */
        mm_m_free(m, th, t->c[k].obj, (size_t)t->c[k].size);
    mm_m_free(m, th, t->name_obj, (size_t)t->name_size);
    mm_m_free(m, th, t->obj, (size_t)al->task_size);
    mm_q_pseudo(m, th, MM_ST_RELEASE, 0, 0, id);
    t->used = 0;
    t->obj = 0;
    m->alive--;
}

/* Free a finished Task once nothing holds it: no done callback pending,
 * no gather list or awaiting frame referring to it. */
void mm_task_maybe_free(mm_mutator *m, int th, int32_t id)
{
    mm_mtask *t = mm_t(m, id);

    if (t->used && t->wait == MM_WT_DONE && t->callbacks == 0 && t->holders == 0)
        mm_task_die(m, th, id);
}
