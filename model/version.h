/*
 * version.h — what differs between CPython versions in the stores the
 * model makes, kept in one table per version (version.c).
 *
 * Field offsets come from the generated layout tables; this table holds
 * the rest: the order of stores where versions differ, the frame states
 * used, how default Task names are kept, and how a Task enters and leaves
 * the registry the unwinder enumerates.  A new version (3.14: native
 * Tasks in per-thread linked lists, `task_awaited_by` in the Task object,
 * tagged stack references) is a new table here plus the functions it
 * names, with no change to the operations that use them.
 */
#ifndef TORNSTACK_MM_VERSION_H
#define TORNSTACK_MM_VERSION_H

#include <stdint.h>

#include "internal/layout.h"

typedef struct mm_mutator mm_mutator;

typedef struct mm_version {
    int minor;
    /* resume: 3.11 stores the frame's `previous` before marking the
     * coroutine executing; 3.12 and 3.13 mark it first (gen_send_ex2). */
    int previous_first;
    /* default Task names: an int until get_name() (3.12+), else a str
     * "Task-N" made at creation */
    int lazy_names;
    /* frame state of a coroutine suspended in an await, and at a bare
     * yield (3.13 tells them apart; 3.11/3.12 use the RESUME oparg) */
    int state_await, state_yield;
    /* The registry: called when the Task is initialised (after its first
     * step is scheduled) and when it is deallocated. */
    void (*task_register)(mm_mutator *m, int th, int32_t id);
    void (*task_unregister)(mm_mutator *m, int th, int32_t id);
    /* A pointer as a frame's value stack holds it (3.14 tags them). */
    uint64_t (*stack_ref)(uint64_t obj);
} mm_version;

/* The table of l's version into *out; 0, or UW_ERR_UNSUPPORTED_VERSION. */
int mm_version_init(const uw_layout *l, mm_version *out);

#endif
