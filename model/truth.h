/*
 * truth.h — the ground truth of a model program: what a perfect reader of
 * the process could know at each instant, and its history over the window
 * of one sample.
 *
 * Entities:
 *   - Tasks, by id (an index reused only between two samples), each with a
 *     serial number `gen` that is never reused, so that a reference to a
 *     Task that died is never taken for the Task that got its id later;
 *   - loops (one per thread): the thread's stack of linked frames;
 *   - gather futures: their `_children` (Tasks and nested gathers), fixed
 *     when the gather is built.
 *
 * A Task's record holds what follows from memory at an instant: its name,
 * root coroutine, its coroutine chain (as the awaitee pointers link it),
 * whether its root frame is linked on its thread's stack (running) or
 * marked executing, what its fut_waiter points at, which Task awaits it
 * (through fut_waiter, directly or through a gather), and which strong and
 * creation parents the hook module's records name (visible records only).
 * From 3.14 memory holds more, and so does the record: the Task its
 * `task_awaited_by` names (gather and TaskGroup record the calling Task on
 * their children, a Task step the awaiting Task on what it awaits),
 * whether it is on its thread's list of native Tasks, and for each loop
 * the Task its thread state calls running.
 *
 * History.  Nothing is copied while no sample is taken.  During a sample
 * (mm_world_begin .. mm_world_end) the first change of an entity copies its
 * state as it was at the window's start, and every change appends the new
 * state, stamped with the mutator's time (stores made visible so far).  An
 * entity without entries kept its current state for the whole window.  The
 * oracle asks for the state of one entity at one instant (mm_task_at,
 * mm_loop_at) and for the instants at which an entity changed.  The cost
 * is proportional to what moved during the window, not to the program's
 * size: a sample of 16,384 idle Tasks copies nothing.
 */
#ifndef TORNSTACK_MM_TRUTH_H
#define TORNSTACK_MM_TRUTH_H

#include <stddef.h>
#include <stdint.h>

#define MM_MAX_LOOPS 4   /* loop threads of one program */
#define MM_MAX_CHAIN 8   /* coroutines of one Task's chain */
#define MM_MAX_STACK 48  /* frames linked on one thread */
#define MM_NAME_MAX 32   /* bytes of a Task name, NUL included */
#define MM_GATHER_MAX 12 /* items of one gather future's _children */
#define MM_LOOP (-1)     /* owner of a frame that belongs to no Task */

/* A reference to a Task or a gather: valid while the entity with that id
 * still has that serial. */
typedef struct mm_ref {
    int32_t id; /* -1: none */
    uint32_t gen;
} mm_ref;

#define MM_NOREF ((mm_ref){-1, 0})

typedef struct mm_tframe {
    uint64_t addr, code;
    int32_t line;
    int32_t owner; /* Task id, or MM_LOOP */
} mm_tframe;

/* What a Task's fut_waiter points at. */
enum { MM_W_NONE = 0, MM_W_FUTURE, MM_W_TASK, MM_W_GATHER };

typedef struct mm_ttask {
    uint64_t addr; /* the Task object */
    uint64_t coro; /* its root coroutine */
    uint64_t code; /* the root coroutine's code object */
    uint32_t gen;
    int8_t alive;     /* holds its coroutine and is not finished */
    int8_t running;   /* its root coroutine frame is linked on its thread */
    int8_t executing; /* its root coroutine is marked executing */
    int8_t loop;      /* index of its loop (thread) */
    int8_t n_chain;   /* coroutines reachable from the root */
    int8_t waiter_kind;
    int8_t listed; /* 3.14+: on its thread's list of native Tasks */
    int8_t pad;
    mm_ref waiter;                 /* MM_W_TASK or MM_W_GATHER */
    mm_ref awaiter;                /* the Task whose fut_waiter leads to this one */
    mm_ref strong;                 /* hook record: strong link (gather, TaskGroup, ...) */
    mm_ref creator;                /* hook record: creation link */
    mm_ref amem;                   /* 3.14+: the Task task_awaited_by names (memory) */
    mm_tframe chain[MM_MAX_CHAIN]; /* root first; owner = this Task's id */
    char name[MM_NAME_MAX];        /* as get_name() gives it */
} mm_ttask;

typedef struct mm_tloop {
    uint64_t tstate;
    int32_t n; /* frames linked, f[0] the root */
    int32_t pad;
    mm_ref running_task;   /* 3.14+: the thread state's running Task */
    uint64_t running_addr; /* ... the word itself: that Task's object, 0 none */
    mm_tframe f[MM_MAX_STACK];
} mm_tloop;

typedef struct mm_tgather {
    uint64_t addr;
    uint32_t gen;
    int32_t n;
    mm_ref item[MM_GATHER_MAX]; /* a Task, or a nested gather */
    int8_t is_gather[MM_GATHER_MAX];
} mm_tgather;

typedef struct mm_world mm_world;

int mm_world_new(int n_loops, mm_world **out);
void mm_world_free(mm_world *w);

/* --- the mutator's side ------------------------------------------------ */

/* A new Task id (reusing ids freed before the current window). */
int32_t mm_world_task_new(mm_world *w);
/* Task `id` died: its id may be reused after the current window. */
void mm_world_task_release(mm_world *w, int32_t id);
/* The address now holds Task id (the address map, kept across reuse). */
void mm_world_task_at_addr(mm_world *w, uint64_t addr, int32_t id);

/* Change Task id / loop L: the returned record may be written until the
 * next call; the change is stamped with mm_world_set_time's time. */
mm_ttask *mm_world_task_edit(mm_world *w, int32_t id);
mm_tloop *mm_world_loop_edit(mm_world *w, int loop);
/* The current time (stores made visible), used to stamp changes. */
void mm_world_set_time(mm_world *w, uint64_t time);

/* The current state (the mutator's view, no history). */
const mm_ttask *mm_world_task_cur(const mm_world *w, int32_t id);
const mm_tloop *mm_world_loop_cur(const mm_world *w, int loop);

int32_t mm_world_gather_new(mm_world *w, const mm_tgather *g);
void mm_world_gather_release(mm_world *w, int32_t id);
uint32_t mm_world_gather_gen(const mm_world *w, int32_t id);

/* --- sample windows ---------------------------------------------------- */

void mm_world_begin(mm_world *w, uint64_t time);
void mm_world_end(mm_world *w, uint64_t time);

/* --- the oracle's side ------------------------------------------------- */

size_t mm_world_tasks(const mm_world *w); /* ids are < this */
int mm_world_loops(const mm_world *w);
uint64_t mm_world_t0(const mm_world *w);
uint64_t mm_world_t1(const mm_world *w);

/* The state at instant t (t0 <= t <= t1). */
const mm_ttask *mm_task_at(const mm_world *w, int32_t id, uint64_t t);
const mm_tloop *mm_loop_at(const mm_world *w, int loop, uint64_t t);
const mm_tgather *mm_gather_get(const mm_world *w, mm_ref g);
/* The Task a reference names, if that Task is alive at t; else NULL. */
const mm_ttask *mm_ref_at(const mm_world *w, mm_ref r, uint64_t t);

/* Instants at which Task id / loop L changed during the window, ascending,
 * without t0; *n gets their count.  Valid until the next window. */
const uint64_t *mm_task_times(const mm_world *w, int32_t id, size_t *n);
const uint64_t *mm_loop_times(const mm_world *w, int loop, size_t *n);
/* Did anything change during the window? */
int mm_world_moved(const mm_world *w);

/* Task ids that held the Task object at addr at some instant of the
 * window, into ids; returns how many.  More than cap is an assertion
 * failure: a caller judging with some of them left out would judge
 * wrong. */
size_t mm_world_ids_at_addr(const mm_world *w, uint64_t addr, int32_t *ids, size_t cap);

/* Every state a Task had during the window (for searches over the whole
 * window: whose frame is this?).  fn is called for each distinct state. */
typedef void (*mm_task_visit_fn)(void *ctx, int32_t id, const mm_ttask *t);
void mm_world_visit_tasks(const mm_world *w, mm_task_visit_fn fn, void *ctx);
typedef void (*mm_loop_visit_fn)(void *ctx, int loop, const mm_tloop *l);
void mm_world_visit_loops(const mm_world *w, mm_loop_visit_fn fn, void *ctx);

/* The Task's own true frames at t, innermost first, into out (cap
 * entries): its frames on its thread's stack while its root frame is
 * linked there, else its coroutine chain.  Returns the count. */
int mm_truth_frames(const mm_world *w, int32_t id, uint64_t t, mm_tframe *out, int cap);
/* The loop's pure Python stack at t, innermost first: from the outermost
 * Handle._run (code handle_run) to the root, or the whole stack when no
 * Handle._run is linked.  Returns the count. */
int mm_truth_pure(const mm_world *w, int loop, uint64_t t, uint64_t handle_run, mm_tframe *out,
                  int cap);

#endif
