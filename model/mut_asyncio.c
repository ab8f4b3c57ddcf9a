/*
 * mut_asyncio.c — what _asyncio keeps in memory for outside readers from
 * CPython 3.14 (Modules/_asynciomodule.c, Include/internal/pycore_llist.h),
 * as its stores; nothing is stored on a version without it (version.h).
 *
 *   The thread's list of native Tasks: a circular doubly linked list whose
 *   head sits in the thread state (_PyThreadStateImpl.asyncio_tasks_head)
 *   and whose nodes sit in the Tasks (TaskObj.task_node).
 *     insert  register_task at the end of Task.__init__ (llist_insert_tail):
 *             node->prev = head->prev, node->next = head,
 *             head->prev->next = node, head->prev = node.
 *     remove  unregister_task when the Task finishes (llist_remove):
 *             prev->next = next, next->prev = prev, node->prev = NULL,
 *             node->next = NULL.
 *     A reader following `next` from the head finds the Task from the third
 *     store of the insert to the first of the removal: that is when the
 *     truth calls it listed.
 *
 *   task_awaited_by (FutureObj.fut_awaited_by, with fut_awaited_by_is_set):
 *     add      future_awaited_by_add(fut, thing): NULL -> the thing itself.
 *              (A second awaiter turns it into a set; the model's programs
 *              never give a Future or Task two awaiters at once, and the
 *              still model fabricates sets directly.)
 *     discard  future_awaited_by_discard(fut, thing): the thing itself ->
 *              NULL (Py_CLEAR); anything else stays.
 *
 *   The running Task (_PyThreadStateImpl.asyncio_running_task): enter_task
 *   stores the Task as a step begins, leave_task clears it (Py_CLEAR) as
 *   the step ends.
 */
#include "mut_internal.h"

#include "internal/uw_assert.h"

/* Address of a list node: the head in thread th's state, or a Task's. */
static uint64_t mm_node(mm_mutator *m, int th, int32_t id)
{
    return id == MM_LIST_HEAD ? m->im->th[th].tasks_head
                              : mm_t(m, id)->obj + (uint64_t)m->al->task_node;
}

/* Where the shadow of a neighbour's `next` / `prev` lives. */
static int32_t *mm_next_of(mm_mutator *m, int th, int32_t id)
{
    return id == MM_LIST_HEAD ? &m->lp[th].tl_first : &mm_t(m, id)->ln_next;
}

static int32_t *mm_prev_of(mm_mutator *m, int th, int32_t id)
{
    return id == MM_LIST_HEAD ? &m->lp[th].tl_last : &mm_t(m, id)->ln_prev;
}

void mm_tlist_insert(mm_mutator *m, int th, int32_t id)
{
    const uw_layout *l = m->l;
    mm_mtask *t = mm_t(m, id);
    uint64_t node, head;
    int32_t last;
    mm_store *s;

    if (!m->v->task_lists || t->ln_next != MM_LIST_OUT) /* already registered */
        return;
    node = t->obj + (uint64_t)m->al->task_node;
    head = mm_node(m, th, MM_LIST_HEAD);
    last = m->lp[th].tl_last;
    mm_q(m, th, node + (uint64_t)l->llist_prev, mm_node(m, th, last), 8);
    mm_q(m, th, node + (uint64_t)l->llist_next, head, 8);
    s = mm_q(m, th, mm_node(m, th, last) + (uint64_t)l->llist_next, node, 8);
    s->ev = EV_LISTED;
    s->task = id;
    s->index = 1;
    mm_q(m, th, head + (uint64_t)l->llist_prev, node, 8);
    t->ln_prev = last;
    t->ln_next = MM_LIST_HEAD;
    t->ln_th = th;
    *mm_next_of(m, th, last) = id;
    m->lp[th].tl_last = id;
}

void mm_tlist_remove(mm_mutator *m, int th, int32_t id)
{
    const uw_layout *l = m->l;
    mm_mtask *t = mm_t(m, id);
    int32_t prev, next;
    uint64_t node;
    int lt;
    mm_store *s;

    (void)th;
    if (!m->v->task_lists || t->ln_next == MM_LIST_OUT) /* not registered */
        return;
    lt = t->ln_th; /* the list of the thread that created it */
    prev = t->ln_prev;
    next = t->ln_next;
    node = t->obj + (uint64_t)m->al->task_node;
    s = mm_q(m, th, mm_node(m, lt, prev) + (uint64_t)l->llist_next, mm_node(m, lt, next), 8);
    s->ev = EV_LISTED;
    s->task = id;
    s->index = 0;
    mm_q(m, th, mm_node(m, lt, next) + (uint64_t)l->llist_prev, mm_node(m, lt, prev), 8);
    mm_q(m, th, node + (uint64_t)l->llist_prev, 0, 8);
    mm_q(m, th, node + (uint64_t)l->llist_next, 0, 8);
    *mm_next_of(m, lt, prev) = next;
    *mm_prev_of(m, lt, next) = prev;
    t->ln_prev = t->ln_next = MM_LIST_OUT;
}

void mm_awaited_add(mm_mutator *m, int th, uint64_t obj, int32_t obj_task, int32_t waiter)
{
    mm_mtask *w = mm_t(m, waiter);
    mm_store *s;

    if (!m->v->awaited_by)
        return;
    s = mm_q(m, th, obj + (uint64_t)m->al->fut_awaited_by, w->obj, 8);
    if (obj_task >= 0) {
        mm_mtask *t = mm_t(m, obj_task);
        UW_ASSERT(t->ab == -1); /* one awaiter at a time (above) */
        t->ab = waiter;
        s->ev = EV_AMEM;
        s->task = obj_task;
        s->x = mm_pack_ref((mm_ref){waiter, w->gen});
    }
}

void mm_awaited_discard(mm_mutator *m, int th, uint64_t obj, int32_t obj_task, int32_t waiter)
{
    mm_store *s;

    if (!m->v->awaited_by)
        return;
    if (obj_task >= 0) {
        mm_mtask *t = mm_t(m, obj_task);
        if (t->ab != waiter)
            return; /* not the one recorded: set.discard() semantics */
        t->ab = -1;
        s = mm_q(m, th, obj + (uint64_t)m->al->fut_awaited_by, 0, 8);
        s->ev = EV_AMEM;
        s->task = obj_task;
        s->x = mm_pack_ref(MM_NOREF);
        return;
    }
    mm_q(m, th, obj + (uint64_t)m->al->fut_awaited_by, 0, 8);
}

void mm_running_task(mm_mutator *m, int th, int32_t id)
{
    mm_store *s;
    mm_ref r = MM_NOREF;
    uint64_t obj = 0;

    if (!m->v->running_task)
        return;
    if (id >= 0) {
        r = (mm_ref){id, mm_t(m, id)->gen};
        obj = mm_t(m, id)->obj;
    }
    s = mm_q(m, th, m->lp[th].tstate + (uint64_t)m->l->tstate_asyncio_running_task, obj, 8);
    s->ev = EV_RUNTASK;
    s->x = mm_pack_ref(r);
    m->lp[th].running = id;
}
