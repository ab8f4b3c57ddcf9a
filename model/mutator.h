/*
 * mutator.h — runs an asyncio program on the fabricated process as the
 * sequence of individual stores CPython performs, and keeps the ground
 * truth that each store establishes.
 *
 * The program: one event-loop thread (<module> -> run -> Runner.run ->
 * run_until_complete -> run_forever -> _run_once -> select/Handle._run),
 * and up to MM_MAX_TASKS Tasks, each a chain of coroutines of its own
 * "family" (its own code objects), suspended on a Future.  Operations:
 *   STEP(T)     Handle._run pushed, T's coroutines resumed and linked into
 *               the thread's chain root first, maybe a sync call made and
 *               returned, the coroutines suspended innermost first at new
 *               lines, Handle._run popped, select pushed again;
 *   COMPLETE(T) a STEP whose coroutines return: cleared, the Task marked
 *               finished and removed from the registry, its memory freed
 *               (and later reused by CREATE);
 *   CREATE(T)   a new Task and its coroutines allocated (possibly at freed
 *               addresses), initialised, then published in the registry.
 * The order of stores per operation and version follows CPython's source
 * (docs/model.md): e.g. a resumed coroutine is marked executing before it
 * is linked (3.12/3.13) or after its `previous` is set (3.11); a suspended
 * one is marked suspended before it is unlinked; a frame is unlinked before
 * its memory is reused.
 *
 * Ground truth: a store may carry an event (link a frame, unlink one, a
 * Task created or finished, a coroutine's line changed).  When the
 * scheduler makes the store visible, the event updates the logical state,
 * from which the true stack of every Task and of the loop at that instant
 * follows (mm_truth).
 */
#ifndef TORNSTACK_MM_MUTATOR_H
#define TORNSTACK_MM_MUTATOR_H

#include <stddef.h>
#include <stdint.h>

#include "fabricate.h"

#define MM_MAX_TASKS 6
#define MM_MAX_CHAIN 4
#define MM_MAX_FRAMES 16
#define MM_LOOP -1

typedef struct mm_tframe {
    uint64_t addr, code;
    int line;
    int owner; /* task index, or MM_LOOP */
} mm_tframe;

/* The true state at one instant (after `time` stores became visible). */
typedef struct mm_truth {
    uint64_t time;
    uint64_t task_addr[MM_MAX_TASKS]; /* 0: no Task in this slot */
    int running[MM_MAX_TASKS];   /* its root coroutine frame is on the stack */
    int executing[MM_MAX_TASKS]; /* its root coroutine is marked executing */
    int n[MM_MAX_TASKS];
    mm_tframe f[MM_MAX_TASKS][MM_MAX_FRAMES]; /* own stack, innermost first */
    int n_loop;
    mm_tframe loop[MM_MAX_FRAMES]; /* pure Python stack, innermost first */
} mm_truth;

typedef struct mm_store {
    uint64_t addr, value;
    uint8_t len;     /* 1, 4 or 8 */
    int8_t ev;       /* event, see mutator.c */
    int8_t task;     /* event's Task */
    int8_t index;    /* event's chain index */
    uint8_t fence;   /* begins an operation: the loop came back from select,
                      * whose GIL release and acquire order every earlier
                      * store before it and every later one (MM_RELAXED) */
    mm_tframe frame; /* EV_LINK: the frame linked */
} mm_store;

/* Program knobs, decoded from a scenario (all-zero: the simplest one). */
typedef struct mm_program {
    int n_tasks;         /* 1..MM_MAX_TASKS at start */
    int depth[MM_MAX_TASKS]; /* chain lengths 1..MM_MAX_CHAIN */
    int p_sync;          /* percent of steps that make a sync call */
    int p_complete;      /* percent of steps that complete the Task */
    int p_create;        /* percent of operations that create a Task */
} mm_program;

typedef struct mm_mutator mm_mutator;

int mm_mutator_new(mm_image *im, const mm_program *prog, uint64_t seed, mm_mutator **out);
void mm_mutator_free(mm_mutator *m);

/* Make the next pending store visible (generating the next operation's
 * stores when none are pending).  Returns 0, 2 when the store changed the
 * truth, or 1 when there is nothing to do. */
int mm_mutator_step(mm_mutator *m);

/* Deferred writes (MM_RELAXED): mm_mutator_step issues the next store in
 * program order (the truth follows it) without writing it to memory; the
 * scheduler writes it (mm_space_write) when it lets it become visible. */
void mm_mutator_defer_writes(mm_mutator *m, int on);

/* The store made visible last (for traces). */
const mm_store *mm_mutator_last(const mm_mutator *m);

/* Event kinds of mm_store.ev, for traces. */
const char *mm_event_name(int ev);

/* Stores still pending from the current operation. */
size_t mm_mutator_pending(const mm_mutator *m);

/* Stores made visible so far. */
uint64_t mm_mutator_time(const mm_mutator *m);

/* The truth now. */
void mm_mutator_truth(const mm_mutator *m, mm_truth *out);

/* Operations generated so far. */
uint64_t mm_mutator_ops(const mm_mutator *m);

#endif
