/*
 * asyncio_layout.c — the _asyncio Future/Task tables (see the header).
 *
 * Field order, from Modules/_asynciomodule.c:
 *   3.11, 3.12  FutureObj_HEAD: loop 16, callback0 24, context0 32,
 *               callbacks 40, exception 48, exception_tb 56, result 64,
 *               source_tb 72, cancel_msg 80, state (int) 88, log_tb (int)
 *               92, blocking (int) 96, dict 104, weakreflist 112,
 *               cancelled_exc 120 -> sizeof(FutureObj) 128;
 *               TaskObj: fut_waiter 128, coro 136, name 144, context 152,
 *               must_cancel 160, log_destroy_pending 164,
 *               num_cancels_requested 168 -> sizeof 176.
 *   3.13        FutureObj_HEAD: ... cancel_msg 80, cancelled_exc 88, state
 *               96, log_tb:1 and blocking:1 bitfields (byte 100); no dict or
 *               weakreflist (managed) -> sizeof(FutureObj) 104;
 *               TaskObj: must_cancel:1, log_destroy_pending:1 (same byte),
 *               num_cancels_requested 104, fut_waiter 112, coro 120, name
 *               128, context 136 -> sizeof 144.
 *   3.14, 3.15  FutureObj_HEAD: ... cancel_msg 80, cancelled_exc 88,
 *               awaited_by 96, state (int) 104, is_task (char) 108,
 *               awaited_by_is_set (char) 109, log_tb:1 and blocking:1
 *               (byte 110) -> sizeof(FutureObj) 112; TaskObj:
 *               must_cancel:1, log_destroy_pending:1 (byte 110),
 *               num_cancels_requested 112, fut_waiter 120, coro 128, name
 *               136, context 144, task_node {next, prev} 152 -> sizeof 168
 *               (a free-threaded build appends task_tid; refused anyway).
 *               The module publishes the Task fields a sampler needs in
 *               its Py_AsyncioModuleDebugOffsets block (section
 *               .AsyncioDebug; symbol _AsyncioDebug in 3.14,
 *               _Py_AsyncioDebug in 3.15): 13 words, task {size, name,
 *               awaited_by, is_task, awaited_by_is_set, coro, node} at 0,
 *               interpreter {size, asyncio_tasks_head} at 56, thread
 *               {size of _PyThreadStateImpl, running_loop, running_task,
 *               tasks_head} at 72 -> 104 bytes.
 */
#include "internal/asyncio_layout.h"

#include <stddef.h>

static const uw_asyncio_layout uw_asyncio_py311 = {
    .py_minor = 11,
    .fut_loop = 16,
    .fut_callback0 = 24,
    .fut_callbacks = 40,
    .fut_state = 88,
    .fut_size = 128,
    .task_fut_waiter = 128,
    .task_coro = 136,
    .task_name = 144,
    .task_size = 176,
    .state_pending = 0,
    .fut_awaited_by = -1,
    .fut_is_task = -1,
    .fut_awaited_by_is_set = -1,
    .task_node = -1,
    .debug_size = 0,
    .awaitee_depth = 1,
    .holder_loop = 16,
    .asend_gen = 16,
    .deque_state = 56,
    .deque_len = 16,
    .loop_ready = "_ready",
    .scheduled_tasks = "_all_tasks",
    .eager_tasks = NULL,
    .running_loop_key = "__asyncio_running_event_loop__",
};

static const uw_asyncio_layout uw_asyncio_py312 = {
    .py_minor = 12,
    .fut_loop = 16,
    .fut_callback0 = 24,
    .fut_callbacks = 40,
    .fut_state = 88,
    .fut_size = 128,
    .task_fut_waiter = 128,
    .task_coro = 136,
    .task_name = 144,
    .task_size = 176,
    .state_pending = 0,
    .fut_awaited_by = -1,
    .fut_is_task = -1,
    .fut_awaited_by_is_set = -1,
    .task_node = -1,
    .debug_size = 0,
    .awaitee_depth = 1,
    .holder_loop = -1,
    .asend_gen = 16,
    .deque_state = 56,
    .deque_len = 16,
    .loop_ready = "_ready",
    .scheduled_tasks = "_scheduled_tasks",
    .eager_tasks = "_eager_tasks",
    .running_loop_key = "__asyncio_running_event_loop__",
};

static const uw_asyncio_layout uw_asyncio_py313 = {
    .py_minor = 13,
    .fut_loop = 16,
    .fut_callback0 = 24,
    .fut_callbacks = 40,
    .fut_state = 96,
    .fut_size = 104,
    .task_fut_waiter = 112,
    .task_coro = 120,
    .task_name = 128,
    .task_size = 144,
    .state_pending = 0,
    .fut_awaited_by = -1,
    .fut_is_task = -1,
    .fut_awaited_by_is_set = -1,
    .task_node = -1,
    .debug_size = 0,
    .awaitee_depth = 1,
    .holder_loop = -1,
    .asend_gen = 16,
    .deque_state = 56,
    .deque_len = 16,
    .loop_ready = "_ready",
    .scheduled_tasks = "_scheduled_tasks",
    .eager_tasks = "_eager_tasks",
    .running_loop_key = NULL,
};

/* 3.14 and 3.15 share the Future and Task layout (checked on live objects
 * of Debian's 3.14.8 and 3.15.0 and against their .AsyncioDebug blocks);
 * they differ in where a suspended coroutine keeps its awaitee. */
#define UW_ASYNCIO_PY314_315(minor, depth)                                                     \
    {                                                                                          \
        .py_minor = (minor), .fut_loop = 16, .fut_callback0 = 24, .fut_callbacks = 40,         \
        .fut_state = 104, .fut_size = 112, .task_fut_waiter = 120, .task_coro = 128,           \
        .task_name = 136, .task_size = 168, .state_pending = 0, .fut_awaited_by = 96,          \
        .fut_is_task = 108, .fut_awaited_by_is_set = 109, .task_node = 152, .debug_size = 104, \
        .awaitee_depth = (depth), .holder_loop = -1, .asend_gen = 16, .deque_state = 56,       \
        .deque_len = 16, .loop_ready = "_ready", .scheduled_tasks = "_scheduled_tasks",        \
        .eager_tasks = "_eager_tasks", .running_loop_key = NULL,                               \
    }

static const uw_asyncio_layout uw_asyncio_py314 = UW_ASYNCIO_PY314_315(14, 1);
static const uw_asyncio_layout uw_asyncio_py315 = UW_ASYNCIO_PY314_315(15, 2);

const uw_asyncio_layout *uw__asyncio_layout_for_minor(int py_minor)
{
    switch (py_minor) {
    case 11:
        return &uw_asyncio_py311;
    case 12:
        return &uw_asyncio_py312;
    case 13:
        return &uw_asyncio_py313;
    case 14:
        return &uw_asyncio_py314;
    case 15:
        return &uw_asyncio_py315;
    default:
        return NULL;
    }
}

/* Py_AsyncioModuleDebugOffsets, Modules/_asynciomodule.c (3.14, 3.15):
 * three structs of uint64_t, in this order. */
static const uw_asyncio_debug_field uw_asyncio_debug[] = {
    {"asyncio_task_object.size", 0, UW_ADBG_TASK_SIZE},
    {"asyncio_task_object.task_name", 8, UW_ADBG_TASK_NAME},
    {"asyncio_task_object.task_awaited_by", 16, UW_ADBG_TASK_AWAITED_BY},
    {"asyncio_task_object.task_is_task", 24, UW_ADBG_TASK_IS_TASK},
    {"asyncio_task_object.task_awaited_by_is_set", 32, UW_ADBG_TASK_AWAITED_BY_IS_SET},
    {"asyncio_task_object.task_coro", 40, UW_ADBG_TASK_CORO},
    {"asyncio_task_object.task_node", 48, UW_ADBG_TASK_NODE},
    {"asyncio_interpreter_state.size", 56, UW_ADBG_INTERP_SIZE},
    {"asyncio_interpreter_state.asyncio_tasks_head", 64, UW_ADBG_INTERP_TASKS_HEAD},
    {"asyncio_thread_state.size", 72, UW_ADBG_TSTATE_SIZE},
    {"asyncio_thread_state.asyncio_running_loop", 80, UW_ADBG_TSTATE_RUNNING_LOOP},
    {"asyncio_thread_state.asyncio_running_task", 88, UW_ADBG_TSTATE_RUNNING_TASK},
    {"asyncio_thread_state.asyncio_tasks_head", 96, UW_ADBG_TSTATE_TASKS_HEAD},
};

const uw_asyncio_debug_field *uw__asyncio_debug_fields(size_t *n_out)
{
    if (n_out != NULL)
        *n_out = sizeof uw_asyncio_debug / sizeof uw_asyncio_debug[0];
    return uw_asyncio_debug;
}
