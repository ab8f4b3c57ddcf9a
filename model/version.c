/*
 * version.c — the per-version store tables (see version.h).
 *
 * Sources, per version (Objects/genobject.c gen_send_ex2, Python/ceval.c
 * and generated_cases.c.h, Modules/_asynciomodule.c):
 *   3.11  gen_send_ex2 sets frame->previous, then _PyEval_EvalFrame marks
 *         the generator FRAME_EXECUTING and links the frame; _all_tasks is
 *         a WeakSet; default names are PyUnicode "Task-%llu".
 *   3.12  gen_send_ex2 marks FRAME_EXECUTING, then the frame is pushed
 *         (previous, then current); _scheduled_tasks is a WeakSet; default
 *         names are PyLong counters, formatted by get_name().
 *   3.13  as 3.12, with FRAME_SUSPENDED_YIELD_FROM for a coroutine
 *         suspended in an await and FRAME_SUSPENDED at a bare yield.
 *   3.14  as 3.13 for frames, with `stackpointer` and _PyStackRef words;
 *         _asynciomodule.c keeps native Tasks in per-thread linked lists
 *         (register_task at the end of Task.__init__, unregister_task in
 *         future_schedule_callbacks when the Task finishes, and again, a
 *         no-op then, in TaskObj_dealloc), `task_awaited_by`
 *         (future_awaited_by_add / _discard) and the thread state's
 *         `asyncio_running_task` (enter_task / leave_task); only Tasks not
 *         derived from _asyncio.Task go to the WeakSet.
 *   3.15  as 3.14, with generator states renumbered (generated table) and
 *         a NULL reference kept above a suspended coroutine's awaitee.
 */
#include "version.h"

#include "internal/asyncio_layout.h"
#include "mut_internal.h"
#include "tornstack/error.h"

static uint64_t mm_plain_ref(uint64_t obj)
{
    return obj;
}

/* 3.11-3.13: the Task enters asyncio.tasks' WeakSet (a weakref to it in
 * the set's table) and leaves it when deallocated, through the weakref's
 * callback (mut_registry.c). */
static void mm_weakset_register(mm_mutator *m, int th, int32_t id)
{
    mm_set_add(m, th, id, 0);
}

static void mm_weakset_unregister(mm_mutator *m, int th, int32_t id)
{
    mm_set_discard(m, th, id);
}

static void mm_nothing(mm_mutator *m, int th, int32_t id)
{
    (void)m;
    (void)th;
    (void)id;
}

/* 3.14+: the thread's list (mut_tlist.c).  TaskObj_dealloc calls
 * unregister_task again, which stores nothing for a Task already
 * unlinked (its node's `next` is NULL). */
static void mm_list_register(mm_mutator *m, int th, int32_t id)
{
    mm_tlist_insert(m, th, id);
}

static void mm_list_finished(mm_mutator *m, int th, int32_t id)
{
    mm_tlist_remove(m, th, id);
}

int mm_version_init(const uw_layout *l, mm_version *v)
{
    const uw_asyncio_layout *al = uw__asyncio_layout_for_minor(l->py_minor);
    int v314 = l->py_minor >= 14;

    if (l->py_minor < 11 || l->py_minor > 15 || al == NULL)
        return UW_ERR_UNSUPPORTED_VERSION;
    v->minor = l->py_minor;
    v->previous_first = l->py_minor == 11;
    v->lazy_names = l->py_minor >= 12;
    v->state_yield = l->state_suspended;
    v->state_await = l->state_suspended_yield_from != UW_NO_STATE ? l->state_suspended_yield_from
                                                                  : l->state_suspended;
    v->task_lists = v314;
    v->awaited_by = v314 && al->fut_awaited_by >= 0;
    v->running_task = v314 && l->tstate_asyncio_running_task != UW_ABSENT;
    v->stackpointer = l->frame_stackpointer != UW_ABSENT;
    v->awaitee_depth = al->awaitee_depth > 0 ? al->awaitee_depth : 1;
    v->entry_frames = l->owner_interpreter != UW_ABSENT;
    v->task_register = v314 ? mm_list_register : mm_weakset_register;
    v->task_finished = v314 ? mm_list_finished : mm_nothing;
    v->task_unregister = v314 ? mm_nothing : mm_weakset_unregister;
    v->stack_ref = mm_plain_ref;
    return 0;
}
