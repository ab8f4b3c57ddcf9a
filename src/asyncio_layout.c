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
 */
#include "internal/asyncio_layout.h"

#include <stddef.h>

static const uw_asyncio_layout uw_asyncio_py311 = {
    .py_minor = 11,
    .fut_loop = 16,
    .fut_state = 88,
    .fut_size = 128,
    .task_fut_waiter = 128,
    .task_coro = 136,
    .task_name = 144,
    .task_size = 176,
    .state_pending = 0,
    .holder_loop = 16,
    .asend_gen = 16,
    .deque_state = 56,
    .loop_ready = "_ready",
    .scheduled_tasks = "_all_tasks",
    .eager_tasks = NULL,
    .running_loop_key = "__asyncio_running_event_loop__",
};

static const uw_asyncio_layout uw_asyncio_py312 = {
    .py_minor = 12,
    .fut_loop = 16,
    .fut_state = 88,
    .fut_size = 128,
    .task_fut_waiter = 128,
    .task_coro = 136,
    .task_name = 144,
    .task_size = 176,
    .state_pending = 0,
    .holder_loop = -1,
    .asend_gen = 16,
    .deque_state = 56,
    .loop_ready = "_ready",
    .scheduled_tasks = "_scheduled_tasks",
    .eager_tasks = "_eager_tasks",
    .running_loop_key = "__asyncio_running_event_loop__",
};

static const uw_asyncio_layout uw_asyncio_py313 = {
    .py_minor = 13,
    .fut_loop = 16,
    .fut_state = 96,
    .fut_size = 104,
    .task_fut_waiter = 112,
    .task_coro = 120,
    .task_name = 128,
    .task_size = 144,
    .state_pending = 0,
    .holder_loop = -1,
    .asend_gen = 16,
    .deque_state = 56,
    .loop_ready = "_ready",
    .scheduled_tasks = "_scheduled_tasks",
    .eager_tasks = "_eager_tasks",
    .running_loop_key = NULL,
};

const uw_asyncio_layout *uw__asyncio_layout_for_minor(int py_minor)
{
    switch (py_minor) {
    case 11:
        return &uw_asyncio_py311;
    case 12:
        return &uw_asyncio_py312;
    case 13:
        return &uw_asyncio_py313;
    default:
        return NULL;
    }
}
