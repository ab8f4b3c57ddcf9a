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
 */
#include "version.h"

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

int mm_version_init(const uw_layout *l, mm_version *v)
{
    if (l->py_minor < 11 || l->py_minor > 13)
        return UW_ERR_UNSUPPORTED_VERSION;
    v->minor = l->py_minor;
    v->previous_first = l->py_minor == 11;
    v->lazy_names = l->py_minor >= 12;
    v->state_yield = l->state_suspended;
    v->state_await = l->state_suspended_yield_from != UW_NO_STATE ? l->state_suspended_yield_from
                                                                  : l->state_suspended;
    v->task_register = mm_weakset_register;
    v->task_unregister = mm_weakset_unregister;
    v->stack_ref = mm_plain_ref;
    return 0;
}
