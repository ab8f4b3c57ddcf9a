/*
 * mutator.h — runs an asyncio program on the fabricated process as the
 * sequence of individual stores CPython performs, and keeps the ground
 * truth that each store establishes (truth.h).
 *
 * Program shapes (mm_program.shape):
 *
 *   MM_SHAPE_CLASSIC  one loop thread and up to MM_CLASSIC_TASKS Tasks,
 *       each a chain of its own family's coroutines, suspended on a
 *       Future.  Operations: STEP (resume the chain root first, maybe a
 *       sync call, suspend innermost first at new lines), COMPLETE (a STEP
 *       whose coroutines return; the Task's memory is freed and later
 *       reused) and CREATE (a Task born with its chain).  The programs
 *       the model ran before the server shape; their scenarios replay as
 *       before.
 *
 *   MM_SHAPE_SERVER   up to MM_MAX_LOOPS loops, each on its own thread
 *       (thread state, data stack, loop, ready deque), switching at
 *       operation boundaries and at GIL release points inside long steps;
 *       up to thousands of Tasks: workers that step forever, changing the
 *       depth of their chain (coroutines created and freed), making
 *       CPU-bound sync calls, awaiting children (fut_waiter = the child),
 *       flat and nested gathers (a _GatheringFuture whose instance dict
 *       holds `_children`), TaskGroups, fire-and-forget Tasks, Futures and
 *       bare yields; children and orphans that step a few times and
 *       finish; idle Tasks waiting on an event.  Finished Tasks,
 *       coroutines, gather futures, names and weakrefs are freed when
 *       CPython frees them, and their memory is reused last-in first-out
 *       by new objects of the same size class, with other names; default
 *       names are ints until get_name() on 3.12+; the registry set grows
 *       and its table is reallocated; under `tornstack run` the hook
 *       module's link records are written and cleared.
 *
 * The store order of every operation follows CPython 3.11-3.15
 * (docs/model.md); what differs between versions is kept in version.c.
 */
#ifndef TORNSTACK_MM_MUTATOR_H
#define TORNSTACK_MM_MUTATOR_H

#include <stddef.h>
#include <stdint.h>

#include "fabricate.h"
#include "truth.h"

#define MM_CLASSIC_TASKS 6
#define MM_MAX_TASKS MM_CLASSIC_TASKS /* classic shape (scenario byte 2) */
#define MM_CLASSIC_CHAIN 4

enum { MM_SHAPE_CLASSIC = 0, MM_SHAPE_SERVER = 1, MM_SHAPES = 2 };

/* Store kinds (mm_store.kind). */
enum {
    MM_ST_PLAIN = 0, /* `len` bytes of `value` */
    MM_ST_ZERO = 1,  /* `len` bytes of zeros (an allocation cleared) */
};

/* Events a store carries (mm_store.ev): what it changes in the truth. */
enum {
    EV_NONE = 0,
    EV_LINK,    /* a frame linked on thread `th` (value: the frame) */
    EV_UNLINK,  /* the innermost frame of thread `th` unlinked */
    EV_NEW,     /* Task `task` holds its coroutine: it exists */
    EV_DONE,    /* Task `task` finished */
    EV_LINE,    /* a frame moved to line `arg` */
    EV_EXEC,    /* Task `task`'s root coroutine marked executing (index 1) or not */
    EV_CHAIN,   /* Task `task`'s coroutine chain is now payload `arg` */
    EV_WAITER,  /* Task `task`'s fut_waiter: kind `arg`, target `x` (an mm_ref) */
    EV_HOOK,    /* Task `task`'s hook record of kind `arg` (1 strong, 2
                 * creation) now names parent `x` (an mm_ref; none: cleared) */
    EV_NAME,    /* Task `task`'s name is stored: payload `arg`'s name */
    EV_AMEM,    /* 3.14+: Task `task`'s task_awaited_by now names Task `x`
                 * (an mm_ref; none: cleared) */
    EV_LISTED,  /* 3.14+: Task `task` linked into its thread's list (index 1)
                 * or unlinked (0) */
    EV_RUNTASK, /* 3.14+: thread `th`'s running Task is now `x` (an mm_ref;
                 * none: cleared) */
    EV_KINDS
};

typedef struct mm_store {
    uint64_t addr, value;
    uint64_t x;    /* EV_LINK: the frame's code; EV_LINE: the frame;
                    * EV_WAITER, EV_HOOK: a packed mm_ref */
    uint16_t len;  /* bytes (1..8; MM_ST_ZERO: any) */
    uint8_t kind;  /* MM_ST_* */
    uint8_t fence; /* the thread got the GIL (an operation begins, or the
                    * thread switched): every earlier store is visible
                    * before this one and every later one (MM_RELAXED) */
    int8_t ev;     /* EV_* */
    int8_t th;     /* thread (loop) index */
    int8_t gil;    /* the thread may release the GIL after this store */
    int8_t index;  /* EV_LINK/UNLINK: 1 for a Task's root frame;
                    * EV_EXEC: executing; classic EV_LINE: chain index */
    int32_t task;  /* the event's Task id (truth.h), -1 */
    int32_t arg;   /* EV_LINK/EV_LINE: line; EV_NEW/EV_CHAIN: payload */
} mm_store;

/* Program knobs, decoded from a scenario (all-zero: the simplest one). */
typedef struct mm_program {
    int shape;
    /* classic */
    int n_tasks;                 /* 1..MM_CLASSIC_TASKS at start */
    int depth[MM_CLASSIC_TASKS]; /* chain lengths 1..MM_CLASSIC_CHAIN */
    int p_sync;                  /* percent of steps that make a sync call */
    int p_complete;              /* percent of steps that complete the Task */
    int p_create;                /* percent of operations that create a Task */
    /* server */
    int n_loops;   /* 1..MM_MAX_LOOPS */
    int workers;   /* worker Tasks per loop */
    int idle;      /* idle Tasks (waiting on an event), over all loops */
    int max_depth; /* deepest family chain, 1..MM_MAX_CHAIN - 3 */
    int families;  /* code families shared by the workers, >= 1 */
    int p_deep;    /* steps that change their chain's depth */
    int p_child;   /* worker steps that end awaiting a new child Task */
    int p_gather;  /* ... a gather of new child Tasks */
    int p_nested;  /* gathers holding a gather */
    int p_group;   /* ... a TaskGroup of new child Tasks */
    int p_join;    /* ... an existing fire-and-forget Task another Task
                    * created (awaiter and creator differ) */
    int p_orphan;  /* steps that create a fire-and-forget Task */
    int p_burst;   /* CPU-bound steps: nested sync calls, long */
    int p_switch;  /* GIL release points of a burst that switch threads */
    int p_getname; /* steps that call get_name() on a Task (3.12+) */
    int p_finish;  /* worker steps that finish (a new worker replaces it) */
    int p_sleep0;  /* awaits that are a bare yield (asyncio.sleep(0)) */
    int p_lazy;    /* Tasks created with a default name */
    int hook;      /* the program runs under `tornstack run` */
    int slots;     /* value-stack slots under an awaitee, 0..31 */
    int p_init;    /* 3.13+: burst calls into a Python __init__ through the
                    * interpreter's init shim (a specialised call of a class) */
    int p_held;    /* workers given a done callback when made that no Task
                    * of the model awaits through (a main Task's gather of
                    * the workers, a server's callback per connection) */
    int sent_push; /* a step pushes the value sent on its root's stack first
                    * (gen_send_ex2), and the root's SEND pops it */
    int p_known;   /* workers given run_until_complete's callback when made
                    * (the main Task of asyncio.run), fire-and-forget Tasks a
                    * set's discard (kept in a set): callbacks the unwinder
                    * knows no awaiter adds */
    int fifo;      /* server: each loop runs its handles in the order they
                    * were queued, as asyncio's ready deque does, and keeps
                    * the deque's length (ob_size) as well as its count;
                    * a sleeping Task's timer firing queues its wakeup.
                    * Otherwise a ready Task is picked at random and the
                    * length stays 0 (a superset of asyncio's orders, in
                    * which the length vouches for nothing: check.c) */
    int plain;     /* one more thread, running no loop: it calls and returns
                    * now and then (p_plain of the operations) and stands
                    * still in between (n_loops < MM_MAX_LOOPS) */
    int p_plain;
} mm_program;

typedef struct mm_mutator mm_mutator;

int mm_mutator_new(mm_image *im, const mm_program *prog, uint64_t seed, mm_mutator **out);
void mm_mutator_free(mm_mutator *m);

/* Make the next store visible (generating the next operation's stores
 * when none are pending).  Returns 0, 2 when the store changed the truth,
 * or 1 when there is nothing to do. */
int mm_mutator_step(mm_mutator *m);

/* Deferred writes (MM_RELAXED): mm_mutator_step issues the next store in
 * program order (the truth follows it) without writing it to memory; the
 * scheduler writes it (mm_store_write) when it lets it become visible. */
void mm_mutator_defer_writes(mm_mutator *m, int on);
void mm_store_write(mm_space *sp, const mm_store *s);

/* The store made visible last (for traces). */
const mm_store *mm_mutator_last(const mm_mutator *m);

/* Event kinds of mm_store.ev, for traces. */
const char *mm_event_name(int ev);

/* Stores still pending from the running thread's current operation. */
size_t mm_mutator_pending(const mm_mutator *m);

/* Stores made visible so far. */
uint64_t mm_mutator_time(const mm_mutator *m);

/* Operations generated so far. */
uint64_t mm_mutator_ops(const mm_mutator *m);

/* The truth. */
mm_world *mm_mutator_world(mm_mutator *m);

/* What the oracle needs to know about the program: Handle._run's code
 * object, each loop's thread state, Tasks alive. */
uint64_t mm_mutator_handle_run(const mm_mutator *m);
/* The thread state of the world's thread `loop` (mm_world_loops: the
 * loops, then the plain thread if prog.plain made one). */
uint64_t mm_mutator_tstate(const mm_mutator *m, int loop);
size_t mm_mutator_alive(const mm_mutator *m);

/* Is the running thread stopped at a GIL release point (a sleep, a
 * blocking call)?  Between samples the scheduler may run on to one. */
int mm_mutator_at_gil_point(const mm_mutator *m);

#endif
