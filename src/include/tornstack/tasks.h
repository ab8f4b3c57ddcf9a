/*
 * tasks.h — asyncio Task stacks, on top of the thread walk.
 *
 * Per sample (after uw_unwind_threads filled the threads of the same
 * sample):
 *   1. each thread's running loop (3.11: tstate dict holder, 3.12: tstate
 *      dict, 3.13: thread state);
 *   2. the loop's Tasks, from asyncio.tasks' registries (WeakSet of
 *      scheduled Tasks, and from 3.12 the eager set) found through
 *      sys.modules, or from an explicit registry address; kept when they
 *      are real Task objects, pending, and on a running loop;
 *   3. each Task's await chain read from memory, one frame per coroutine
 *      (the depth limit of the policy), ending at the first executing one;
 *   4. running Tasks placed on their thread's stack by frame address: a
 *      running Task owns the thread frames from its coroutine's frame
 *      inward, up to the next running Task's frame (an eager Task nested
 *      in it).  Frames from the outermost Handle._run to the root are the
 *      pure Python stack (the loop);
 *   5. links: awaited-by read from memory (fut_waiter, gather children),
 *      then strong links, then creation links (from the API table or the
 *      target's tornstack_hook module);
 *   6. skips: where the thread stack and the Task objects disagree, the
 *      Task (or the thread's Tasks) gets a reason code instead of a stack.
 */
#ifndef TORNSTACK_TASKS_H
#define TORNSTACK_TASKS_H

#include <stdint.h>

#include "tornstack/sample.h"
#include "tornstack/unwind.h"

/* The unwinder's policy for Tasks; defaults are the correct ones.  The
 * others reproduce earlier profilers' behaviour so that the simulator can
 * measure what each costs and leaks. */
typedef struct uw_task_options {
    uint32_t task_depth; /* frames per coroutine: 1, or 0 = unwind each chain fully */
    int split;           /* 1: Handle._run splits loop frames from Task frames */
    int skip;            /* 1: skip Tasks whose stack cannot be trusted */
    uint32_t recover;    /* rounds in which the Tasks the chain check found moved are
                          * read and checked again before they are skipped (default
                          * and at most UW_RECOVER_ROUNDS; 0: skipped at once) */
} uw_task_options;

enum uw_link_kind {
    UW_LINK_STRONG = 1,   /* gather, wait, shield, as_completed, TaskGroup */
    UW_LINK_CREATION = 2, /* created by, when nothing awaits it */
};

typedef struct uw_tasks uw_tasks;

void uw_task_options_default(uw_task_options *o);

int uw_tasks_new(uw_unwinder *u, uw_tasks **out);
void uw_tasks_free(uw_tasks *t);
void uw_tasks_set_options(uw_tasks *t, const uw_task_options *o);

/* Use this set (of Tasks, or of weakrefs to Tasks) instead of discovering
 * asyncio's registries; 0 returns to discovery. */
void uw_tasks_set_root(uw_tasks *t, uint64_t registry_set);

/* Links known to an embedding profiler (which sees gather/wait/TaskGroup
 * calls and task creation).  A later call for the same child and kind
 * replaces the parent.  UW_ERR_LIMIT_LINK_RECORDS when the table is full
 * (UW_LIMIT_LINK_RECORDS links). */
int uw_tasks_link(uw_tasks *t, uint64_t child, uint64_t parent, int kind);
void uw_tasks_unlink(uw_tasks *t, uint64_t child);

/* Fill s's Tasks from the threads already in s.  Returns 0, or an error of
 * the whole sample (the process vanished); problems with single Tasks are
 * skips, with a reason, inside s. */
int uw_unwind_tasks(uw_tasks *t, uw_sample *s);

#endif /* TORNSTACK_TASKS_H */
