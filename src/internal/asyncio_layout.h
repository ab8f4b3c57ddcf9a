/*
 * asyncio_layout.h — Future and Task object layouts of the C _asyncio
 * module, per version.
 *
 * These structures are private to Modules/_asynciomodule.c, so no header
 * gives them: the table in asyncio_layout.c mirrors that file's field
 * order for 3.11 to 3.15 (FutureObj_HEAD, then TaskObj), computed for
 * x86-64.  tests/live/check_asyncio_layout.py verifies every offset against
 * live Task and Future objects of each installed version, and on 3.14+
 * against the module's own debug offsets (.AsyncioDebug), which attaching
 * also compares (uw_asyncio_debug_check).
 */
#ifndef TORNSTACK_ASYNCIO_LAYOUT_H
#define TORNSTACK_ASYNCIO_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

typedef struct uw_asyncio_layout {
    int py_minor;
    int32_t fut_loop;
    /* its done callbacks: the first one, and a list of the others (each
     * NULL while none was added; a Future is awaited, gathered or joined
     * to a TaskGroup only through one) */
    int32_t fut_callback0;
    int32_t fut_callbacks;
    int32_t fut_state; /* int: 0 pending, 1 cancelled, 2 finished */
    int32_t fut_size;  /* sizeof(FutureObj) */
    int32_t task_fut_waiter;
    int32_t task_coro;
    int32_t task_name;
    int32_t task_size; /* sizeof(TaskObj) */
    int32_t state_pending;
    /* 3.14+ (-1 before): who awaits this Future or Task (one object, or a
     * set of them when fut_awaited_by_is_set), whether it is a Task (char
     * flags), and the Task's node in its thread's list of native Tasks. */
    int32_t fut_awaited_by;
    int32_t fut_is_task;
    int32_t fut_awaited_by_is_set;
    int32_t task_node;
    /* Size of the module's Py_AsyncioModuleDebugOffsets block (section
     * .AsyncioDebug, 3.14+), 0 when the version has none. */
    int32_t debug_size;
    /* Where a coroutine suspended at an await keeps the object it awaits
     * (what cr_await returns: the inner coroutine, or the FutureIter of a
     * Future or Task): this many slots below the top of its value stack,
     * localsplus[stacktop - d] (3.11-3.13) or stackpointer[-d] (3.14+).
     * Not in any header: measured on live coroutines by
     * tests/live/check_asyncio_facts.py (1 up to 3.14; 3.15 keeps a NULL
     * reference above it, so 2). */
    int32_t awaitee_depth;
    /* 3.11: the running loop is wrapped in a _RunningLoopHolder whose
     * rl_loop sits here; -1 when the loop itself is stored. */
    int32_t holder_loop;
    /* PyAsyncGenASend.ags_gen (Objects/genobject.c), same in 3.11-3.15 */
    int32_t asend_gen;
    /* dequeobject.state (Modules/_collectionsmodule.c): a mutation count,
     * +1 on every append and pop; same in 3.11-3.15.  The loop's ready
     * deque (attribute loop_ready) pops every callback before running it,
     * so its count is the loop's epoch (src/tasks/epoch.c). */
    int32_t deque_state;
    /* dequeobject's ob_size (PyObject_VAR_HEAD): its length, one more on
     * every append, one less on every pop, stored before the state; same
     * in 3.11-3.15.  With the count, it tells how many handles a stretch
     * popped against how many were queued when it began (check.c). */
    int32_t deque_len;
    const char *loop_ready;
    /* Names in asyncio.tasks' globals */
    const char *scheduled_tasks; /* WeakSet of Tasks */
    const char *eager_tasks;     /* set of eager Tasks, NULL before 3.12 */
    /* Key of the running loop in tstate->dict, NULL when the loop lives in
     * the thread state itself (3.13). */
    const char *running_loop_key;
} uw_asyncio_layout;

const uw_asyncio_layout *uw__asyncio_layout_for_minor(int py_minor);

/* One word of _asyncio's Py_AsyncioModuleDebugOffsets block (3.14+):
 * where it sits and which table entry it must equal. */
typedef enum uw_asyncio_debug_source {
    UW_ADBG_TASK_SIZE,
    UW_ADBG_TASK_NAME,
    UW_ADBG_TASK_AWAITED_BY,
    UW_ADBG_TASK_IS_TASK,
    UW_ADBG_TASK_AWAITED_BY_IS_SET,
    UW_ADBG_TASK_CORO,
    UW_ADBG_TASK_NODE,
    UW_ADBG_INTERP_SIZE, /* sizeof(PyInterpreterState) */
    UW_ADBG_INTERP_TASKS_HEAD,
    UW_ADBG_TSTATE_SIZE, /* sizeof(_PyThreadStateImpl) */
    UW_ADBG_TSTATE_RUNNING_LOOP,
    UW_ADBG_TSTATE_RUNNING_TASK,
    UW_ADBG_TSTATE_TASKS_HEAD,
} uw_asyncio_debug_source;

typedef struct uw_asyncio_debug_field {
    const char *name;
    uint32_t at;
    uw_asyncio_debug_source source;
} uw_asyncio_debug_field;

/* The block's words in order (n_out gets the count). */
const uw_asyncio_debug_field *uw__asyncio_debug_fields(size_t *n_out);

#endif /* TORNSTACK_ASYNCIO_LAYOUT_H */
