/*
 * version.h — what differs between CPython versions in the stores the
 * model makes, kept in one table per version (version.c).
 *
 * Field offsets come from the generated layout tables; this table holds
 * the rest: the order of stores where versions differ, the frame states
 * used, how default Task names are kept, how a Task enters and leaves the
 * registry the unwinder enumerates, and from 3.14 the state _asyncio keeps
 * in memory for outside readers (per-thread Task lists, `task_awaited_by`,
 * the thread's running Task) and the frames' tagged references and stack
 * pointers.  The operations call these functions and test these flags;
 * they do not test version numbers.
 */
#ifndef TORNSTACK_MM_VERSION_H
#define TORNSTACK_MM_VERSION_H

#include <stdint.h>

#include "internal/layout.h"

typedef struct mm_mutator mm_mutator;

typedef struct mm_version {
    int minor;
    /* resume: 3.11 stores the frame's `previous` before marking the
     * coroutine executing; 3.12+ mark it first (gen_send_ex2). */
    int previous_first;
    /* default Task names: an int until get_name() (3.12+), else a str
     * "Task-N" made at creation */
    int lazy_names;
    /* frame state of a coroutine suspended in an await, and at a bare
     * yield (3.13+ tell them apart; 3.11/3.12 use the RESUME oparg) */
    int state_await, state_yield;
    /* 3.14+: native Tasks live in their thread's linked list (no weakref,
     * no WeakSet entry), `task_is_task` is set at init, and a Task is
     * unlinked when it finishes (future_schedule_callbacks), not when it
     * is deallocated. */
    int task_lists;
    /* 3.14+: every native Future or Task keeps who awaits it
     * (`fut_awaited_by`, one object or a set): the Task step records the
     * Task on what it yields, gather and TaskGroup record the calling Task
     * on their children; the wakeup and the done callbacks discard it. */
    int awaited_by;
    /* 3.14+: the thread state keeps the running Task
     * (`asyncio_running_task`): set when a step enters, cleared when it
     * leaves (enter_task / leave_task). */
    int running_task;
    /* 3.14+: a frame keeps `stackpointer`, a pointer one past its value
     * stack's top, where earlier versions keep `stacktop`, a count. */
    int stackpointer;
    /* Slots from the top of a suspended coroutine's value stack down to
     * the object it awaits (uw_asyncio_layout.awaitee_depth): 1, or 2 on
     * 3.15, which keeps a NULL reference above it. */
    int awaitee_depth;
    /* 3.14+: interpreter entry frames (FRAME_OWNED_BY_INTERPRETER, on the
     * C stack, f_executable a tagged None) are laid out: one below each
     * thread's first Python frame (and on 3.15 the thread state's own base
     * frame below that). */
    int entry_frames;
    /* The registry: called when the Task is initialised (after its first
     * step is scheduled), when it finishes (its state stored, before its
     * callbacks are scheduled) and when it is deallocated. */
    void (*task_register)(mm_mutator *m, int th, int32_t id);
    void (*task_finished)(mm_mutator *m, int th, int32_t id);
    void (*task_unregister)(mm_mutator *m, int th, int32_t id);
    /* A pointer as a frame's value stack holds it (a _PyStackRef from
     * 3.14: a new reference to a mortal object has no tag bit). */
    uint64_t (*stack_ref)(uint64_t obj);
} mm_version;

/* The table of l's version into *out; 0, or UW_ERR_UNSUPPORTED_VERSION. */
int mm_version_init(const uw_layout *l, mm_version *out);

#endif
