/*
 * asyncio_layout.h — Future and Task object layouts of the C _asyncio
 * module, per version.
 *
 * These structures are private to Modules/_asynciomodule.c, so no header
 * gives them: the table in asyncio_layout.c mirrors that file's field
 * order for 3.11, 3.12 and 3.13 (FutureObj_HEAD, then TaskObj), computed
 * for x86-64.  tests/live/check_asyncio_layout.py verifies every offset
 * against live Task and Future objects of each installed version.
 */
#ifndef TORNSTACK_ASYNCIO_LAYOUT_H
#define TORNSTACK_ASYNCIO_LAYOUT_H

#include <stdint.h>

typedef struct uw_asyncio_layout {
    int py_minor;
    int32_t fut_loop;
    int32_t fut_state; /* int: 0 pending, 1 cancelled, 2 finished */
    int32_t fut_size;  /* sizeof(FutureObj) */
    int32_t task_fut_waiter;
    int32_t task_coro;
    int32_t task_name;
    int32_t task_size; /* sizeof(TaskObj) */
    int32_t state_pending;
    /* 3.11: the running loop is wrapped in a _RunningLoopHolder whose
     * rl_loop sits here; -1 when the loop itself is stored. */
    int32_t holder_loop;
    /* PyAsyncGenASend.ags_gen (Objects/genobject.c), same in 3.11-3.13 */
    int32_t asend_gen;
    /* dequeobject.state (Modules/_collectionsmodule.c): a mutation count,
     * +1 on every append and pop; same in 3.11-3.13.  The loop's ready
     * deque (attribute loop_ready) pops every callback before running it,
     * so its count is the loop's epoch (src/tasks/epoch.c). */
    int32_t deque_state;
    const char *loop_ready;
    /* Names in asyncio.tasks' globals */
    const char *scheduled_tasks; /* WeakSet of Tasks */
    const char *eager_tasks;     /* set of eager Tasks, NULL before 3.12 */
    /* Key of the running loop in tstate->dict, NULL when the loop lives in
     * the thread state itself (3.13). */
    const char *running_loop_key;
} uw_asyncio_layout;

const uw_asyncio_layout *uw__asyncio_layout_for_minor(int py_minor);

#endif /* TORNSTACK_ASYNCIO_LAYOUT_H */
