/*
 * tasks_int.h — the Task walk's private header: the uw_tasks object, its
 * scratch memory, and one section per file of src/tasks/.
 *
 * How one sample runs through these files (walk.c orchestrates):
 *
 *   epoch.c     each loop thread's epoch counter, registered for the next
 *               thread walk (the bracket hook), and the list the chain
 *               check reads; a new loop gets its threads walked again;
 *   split.c     Handle._run recognised by code object (the classifier
 *               hook), the outermost one on a thread (the stable_from
 *               hook), the frames the loop runs now, the pure Python stack;
 *   registry.c  asyncio's registries of one interpreter, through
 *               sys.modules, cached;
 *   discover.c  each thread's running loop; the registry's keys as
 *               candidate Tasks; the candidates read as Task objects;
 *   types.c     whether a type is a Task, a Future or a gather future;
 *   chains.c    every Task's await chain, one level for all Tasks at a time;
 *   place.c     running Tasks placed on their thread's stack by frame
 *               address, the skip rules, the second round;
 *   check.c     the chain check: one read of two copies of everything the
 *               Tasks depend on, between two readings of each epoch;
 *   names.c     Task names;
 *   emit.c      each Task's entry and own frames in the sample;
 *   edges.c     awaiting edges read from memory (fut_waiter, gather
 *               children), then strong and creation links, then parents;
 *   links.c     the link tables: the API's, and the hook module's records;
 *   adebug.c    3.14+: _asyncio's debug offsets, found after attach when
 *               asyncio is imported late, before any Task is read;
 *   discover_lists.c  3.14+: candidates from each thread's and the
 *               interpreter's list of native Tasks;
 *   awaited_by.c  3.14+: awaiting edges from each Task's awaited_by;
 *   scratch.c   the per-sample memory, as views with stated capacities;
 *   tasks.c     the object: creation, options, the hooks it installs.
 *
 * Frame and coroutine fields are decoded only by src/internal/frame.h.
 */
#ifndef TORNSTACK_TASKS_INT_H
#define TORNSTACK_TASKS_INT_H

#include <stddef.h>
#include <stdint.h>

#include "internal/asyncio_layout.h"
#include "internal/frame.h"
#include "internal/layout.h"
#include "internal/pyobj.h"
#include "internal/unwinder.h"
#include "tornstack/limits.h"
#include "tornstack/tasks.h"

/* Coroutine frames kept per sample over all Tasks' chains. */
#ifndef UW_TASK_FRAMES_MAX
#define UW_TASK_FRAMES_MAX 65536
#endif
/* Bytes kept for each coroutine read at each step of an await chain: a
 * coroutine up to the end of its frame's fixed part (the largest is 3.11:
 * 80 + 80); the layout check proves the layout fits. */
#define UW_CORO_WINDOW 192
/* Bytes of a Task's name object read at once (short names fit). */
#define UW_NAME_WINDOW 128
/* Bytes of a registry entry read to tell a weakref from a Task. */
#define UW_WEAKREF_WINDOW 24
/* Bytes of the hook module's bytearray header, then its buffer's head. */
#define UW_HOOK_HEADER 64
/* Children of a gather future read into a small buffer first. */
#ifndef UW_GATHER_SMALL
#define UW_GATHER_SMALL 256
#endif

/* Code objects the classifier marks (within UW_CODE_CLASSES). */
#define UW__CODE_HANDLE_RUN 0x100u

/* --- scratch.c ---------------------------------------------------------------- */

/* A view: an array whose capacity is stated (`cap`, its worst case in
 * elements) and whose storage grows to what a sample needs (`have`).  A
 * phase reserves what it will write; every write goes through a checked
 * accessor and fails with UW_ERR_CAPACITY past what was reserved, so no
 * phase can write past its memory, whatever the target holds. */
typedef struct uw__view {
    uint8_t *p;
    size_t elem; /* bytes per element */
    size_t have; /* elements allocated */
    size_t cap;  /* elements it may ever hold */
} uw__view;

void uw__view_init(uw__view *v, size_t elem, size_t cap);
void uw__view_free(uw__view *v);
/* Room for n elements: 0, UW_ERR_CAPACITY when n > cap, UW_ERR_NOMEM. */
int uw__view_reserve(uw__view *v, size_t n);
/* Checked writes: UW_ERR_CAPACITY when i is past what was reserved. */
int uw__put_u64(uw__view *v, size_t i, uint64_t x);
int uw__put_size(uw__view *v, size_t i, size_t x);
int uw__put_iov(uw__view *v, size_t i, uw_iov x);
/* Bytes [off, off + len) of a byte view, NULL when past what was
 * reserved. */
uint8_t *uw__bytes(uw__view *v, size_t off, size_t len);

/* Typed reads of what a phase wrote. */
#define UW__U64(v) ((uint64_t *)(void *)(v)->p)
#define UW__SIZE(v) ((size_t *)(void *)(v)->p)
#define UW__IOV(v) ((uw_iov *)(void *)(v)->p)

/* The Task walk's per-sample memory.  Each view is one phase's (or a few
 * phases' of the same shape), with its worst case for UW_LIMIT_TASKS
 * Tasks and UW_TASK_FRAMES_MAX coroutine frames: */
typedef struct uw__scratch {
    uw__view keys;     /* u64: one registry set's keys (UW_LIMIT_TASKS) */
    uw__view cand;     /* u64: candidate Task addresses (UW_LIMIT_TASKS) */
    uw__view work;     /* uw_task_work: the sample's Tasks (UW_LIMIT_TASKS) */
    uw__view iov;      /* uw_iov: one read of registry entries, Tasks, a chain level
                        * (a coroutine and up to two awaitee pieces per Task),
                        * names or waiter types (3 x UW_LIMIT_TASKS) */
    uw__view idx;      /* size_t: the Task of each piece of a chain level (same) */
    uw__view bytes;    /* u8: what that read brings (UW_LIMIT_TASKS x the largest
                        * per-Task share: Task object, coroutine window and
                        * awaitee slot, name window) */
    uw__view placed;   /* size_t: Tasks placed on one thread (UW_LIMIT_TASKS) */
    uw__view types;    /* u64: types of the Tasks' waiters (UW_LIMIT_TASKS) */
    uw__view roots;    /* u64: sorted root coroutine frames (UW_LIMIT_TASKS) */
    uw__view pending;  /* size_t: per thread, a running Task to look for again
                        * (UW_LIMIT_INTERPRETERS x UW_LIMIT_THREADS) */
    uw__view children; /* u64: a big gather's children (UW_LIMIT_GATHER_CHILDREN) */
    uw__view hook;     /* u8: the hook module's records (UW_LIMIT_LINK_RECORDS) */
    /* the chain check: pieces (epochs twice, every Task and coroutine
     * twice) and the two copies */
    uw__view check_iov;
    uw__view copy_a, copy_b;
    /* coroutine frames of all chains (UW_TASK_FRAMES_MAX each) */
    uw__view cf_addr;   /* u64: frame address */
    uw__view cf_state;  /* int8: generator state when read */
    uw__view cf_yf;     /* u64: awaitee word as read from its value stack (3.14+: a
                         * tagged reference), 0 if none */
    uw__view cf_bytes;  /* u8: the frame, frame_size bytes each */
    uw__view cf_frame;  /* uw_frame: the frame resolved */
    uw__view cf_status; /* int: 0 shown, 1 hidden, or a reason */
} uw__scratch;

/* Set every view's element size and capacity (nothing is allocated). */
void uw__scratch_init(uw__scratch *sc, const uw_layout *l, const uw_asyncio_layout *al);
void uw__scratch_free(uw__scratch *sc);

/* --- types.c ------------------------------------------------------------------- */

enum { UW_KIND_OTHER = 0, UW_KIND_TASK, UW_KIND_FUTURE, UW_KIND_GATHER };

#ifndef UW_TYPE_CACHE
#define UW_TYPE_CACHE 64
#endif
typedef struct uw_type_verdict {
    uint64_t type;
    int kind;
} uw_type_verdict;

/* --- registry.c ---------------------------------------------------------------- */

#ifndef UW_REGISTRY_CACHE
#define UW_REGISTRY_CACHE 8
#endif
/* A registry that was not found is looked for again after this many samples. */
#ifndef UW_REGISTRY_RETRY
#define UW_REGISTRY_RETRY 64
#endif

typedef struct uw_registry {
    uint64_t interp;
    uint64_t scheduled, eager, hook; /* set, set, bytearray; 0 if absent */
    int found;                       /* asyncio.tasks was found */
    int bound;                       /* not found for a bound (dict_limit), or 0 */
    uint32_t retry;                  /* samples until the next search */
} uw_registry;

/* --- links.c ------------------------------------------------------------------- */

#define UW_LINKS_MAGIC "TSLINKS1"
#define UW_LINK_RECORD 24

typedef struct uw_link {
    uint64_t child, parent;
    int kind;
} uw_link;

/* --- epoch.c ------------------------------------------------------------------- */

/* Threads whose loop epoch is known; when full, entries are replaced in
 * turn (threads that exited keep theirs). */
#ifndef UW_EPOCH_THREADS
#define UW_EPOCH_THREADS 64
#endif

typedef struct uw__epoch_ent {
    uint64_t tstate, loop, counter;
} uw__epoch_ent;

typedef struct uw__epochs {
    uw__epoch_ent e[UW_EPOCH_THREADS];
    size_t next; /* next entry to replace when the table is full */
} uw__epochs;

/* A loop thread's epoch counter, read first (a) and last (b) in the
 * vectored read that checks the chains.  Unchanged, the loop ran one
 * callback (or none) meanwhile: at most one Task's chain moved, within one
 * step, and two copies read one after the other catch that. */
#ifndef UW_TASK_EPOCHS
#define UW_TASK_EPOCHS 64
#endif
typedef struct uw_task_epoch {
    size_t thread;
    uint64_t counter, a, b;
    int moved; /* unreadable, or a != b */
} uw_task_epoch;

/* --- discover_lists.c, awaited_by.c (3.14+) ----------------------------------- */

/* Nodes taken last that a list node may name as its `prev`. */
#define UW_TL_BACK 4

/* One list of native Tasks being followed (discover_lists.c). */
typedef struct uw__tlist {
    uint64_t head;     /* address of its head node */
    uint64_t hw[2];    /* the head as read: next (its prev is not used) */
    uint64_t pw[2];    /* a node read in a round: next, prev */
    size_t win;        /* the window slot a round read for it, SIZE_MAX if none */
    uint64_t back[UW_TL_BACK]; /* the last nodes taken, the newest at
                                * back[(n_taken - 1) % UW_TL_BACK]; the head
                                * counts as taken first */
    size_t n_taken;
    uint64_t cur;      /* the node to take next */
    uw_brent br;
    int state;         /* UW__TL_* or a reason (task_list_*) */
} uw__tlist;

/* The nodes of one interpreter's lists found by the last sample: read
 * first, all at once, in the next (discover_lists.c). */
#define UW_LIST_MEMO 8
typedef struct uw__list_memo {
    uint64_t interp;
    uw__view nodes; /* u64, sorted */
    size_t n;
} uw__list_memo;

/* One awaiting edge read from a Task's awaited_by: work indices. */
typedef struct uw__ab_pair {
    size_t parent, child;
} uw__ab_pair;

typedef struct uw__lists {
    uw__view lists;  /* uw__tlist: the lists of one interpreter (threads + 1) */
    uw__view iov;    /* uw_iov: heads and remembered nodes; a round's nodes */
    uw__view words;  /* u64 pairs: the remembered nodes as read */
    uw__view seen;   /* u64: nodes taken in this attempt (UW_LIMIT_TASK_LIST) */
    uw__list_memo memo[UW_LIST_MEMO];
    size_t memo_next;
    int full; /* UW_LIMIT_TASKS candidates held: more nodes not kept */
    uw__view win;      /* u8: windows read after unknown nodes, a ring */
    uw__view win_addr; /* u64 pairs: where each starts, how much was read */
    size_t n_win;      /* windows read this attempt */
    uw__view pairs;  /* uw__ab_pair: awaited-by edges (UW_LIMIT_AWAITED_BY) */
    uw__view mark;   /* u64 per Task: edges a parent has (UW_LIMIT_TASKS) */
    size_t n_pairs;
    /* adebug.c */
    int adebug;           /* 0 found and matching (or nothing to check), else why not */
    uint32_t adebug_wait; /* samples until the block is looked for again */
} uw__lists;

void uw__lists_init(uw__lists *ls);
void uw__lists_free(uw__lists *ls);

/* --- the object ------------------------------------------------------------------ */

/* Working state of one Task during a sample. */
typedef struct uw_task_work {
    uint64_t addr, coro, loop, waiter, name_obj;
    uint64_t awaited_by; /* 3.14+: its awaiter, or a set of them (awaited_by_is_set) */
    int awaited_by_is_set;
    size_t thread;
    int state;             /* root coroutine's frame state */
    uint64_t root_code;    /* root coroutine frame's code pointer */
    uint64_t cur;          /* next object of the await chain */
    size_t first_cf, n_cf; /* chain frames, root first */
    int active;            /* await chain still being read */
    int skipped, truncated;
    int on_stack;     /* found on its thread's stack: the running Task */
    int own_src;      /* running: its frames are in the sample (0) or
                         in the second walk (1), ... */
    size_t own_first; /* ... from this index ... */
    size_t n_own;     /* ... innermost first */
    size_t out;       /* index in the sample's tasks */
} uw_task_work;

struct uw_tasks {
    uw_unwinder *u;
    uw_reader *r;
    const uw_target *t;
    const uw_layout *l;
    const uw_asyncio_layout *al;
    uw_pyctx pc;
    uw_task_options opt;
    uint64_t root;
    uw_type_verdict types[UW_TYPE_CACHE];
    size_t n_types;
    uw_registry reg[UW_REGISTRY_CACHE];
    size_t n_reg;
    uw_link *links; /* the API table */
    size_t n_links, cap_links;
    uw_link *hook; /* read from the target this sample */
    size_t n_hook, cap_hook;
    uw__epochs epochs;
    uw__scratch sc;
    uw_task_work *work; /* sc.work's storage, sorted by address */
    size_t n_work;
    size_t n_cf;      /* coroutine frames of all chains ... */
    size_t n_cf_live; /* ... less those moved chains left behind */
    uw_sample again;  /* threads walked a second time in this sample */
    int second_round;
    uw_task_epoch ep[UW_TASK_EPOCHS];
    size_t n_ep;
    uw__lists ls; /* 3.14+ */
};

/* --- epoch.c ------------------------------------------------------------------- */

/* Register (counter != 0) or forget (counter 0) the epoch of a thread.
 * 0, or UW_ERR_INVALID_ARG for thread state 0. */
int uw__epoch_set(uw__epochs *t, uint64_t tstate, uint64_t loop, uint64_t counter);
/* The loop registered for tstate, 0 if none. */
uint64_t uw__epoch_loop(const uw__epochs *t, uint64_t tstate);
/* The loop and counter registered for tstate, or UW_ERR_NOT_FOUND. */
int uw__epoch_get(const uw__epochs *t, uint64_t tstate, uint64_t *loop, uint64_t *counter);
/* The bracket hook of the thread walk: the counter of tstate's epoch. */
uint64_t uw__epoch_bracket(void *ctx, uint64_t tstate, uint64_t *tag);
/* Register every loop thread's counter; returns how many threads got one
 * they were not walked with (their walks lacked it). */
int uw__epochs_update(uw_tasks *t, uw_sample *s);
/* The epochs the chain check reads (t->ep), from the registered ones. */
void uw__epochs_for_check(uw_tasks *t, const uw_sample *s);

/* --- split.c ------------------------------------------------------------------- */

/* The code classifier: Handle._run of asyncio/events.py. */
uint32_t uw__split_classify(const char *qualname, const char *filename);
/* The stable_from hook: the outermost Handle._run frame, -1 if none. */
int64_t uw__split_stable_from(void *ctx, const uw_frame *f, size_t n);
/* The frames a thread's loop runs now, f[0..top): above the outermost
 * Handle._run with the split, the whole stack without it. */
int64_t uw__split_top(const uw_tasks *t, const uw_thread_sample *th);
/* First frame of the thread's pure Python stack. */
int64_t uw__split_pure_start(const uw_tasks *t, const uw_thread_sample *th);

/* --- types.c ------------------------------------------------------------------- */

/* UW_KIND_* of a type (or a base, up to UW_LIMIT_TYPE_BASES), cached. */
int uw__type_kind(uw_tasks *t, uint64_t type);

/* --- registry.c ---------------------------------------------------------------- */

/* The registry entry of an interpreter, searching sys.modules when needed
 * (force: search again).  NULL when the cache is full, or with *rc
 * UW_ERR_NOMEM when the search ran out of memory. */
uw_registry *uw__registry_for(uw_tasks *t, uint64_t interp, int force, int *rc);

/* --- discover.c ---------------------------------------------------------------- */

/* Each thread's running loop (3.11/3.12: from tstate->dict).  0, or
 * UW_ERR_NOMEM (a loop that cannot be read is none). */
int uw__running_loops(uw_tasks *t, uw_sample *s);
/* Candidates of every interpreter with a running loop into t->work. */
int uw__discover(uw_tasks *t, uw_sample *s);
/* Index of the working Task at addr (t->work is sorted), or -1. */
int64_t uw__task_find(const uw_tasks *t, uint64_t addr);

/* --- chains.c ------------------------------------------------------------------- */

/* Read the await chain of every active Task, appending to the coroutine
 * frames (from t->n_cf on). */
int uw__read_chains(uw_tasks *t);
/* Reserve the coroutine-frame views for n frames. */
int uw__cf_reserve(uw_tasks *t, size_t n);
/* Address of a Task's root coroutine frame, 0 when none was read. */
uint64_t uw__root_frame(const uw_tasks *t, const uw_task_work *w);

/* --- place.c -------------------------------------------------------------------- */

/* Place running Tasks on their thread stacks and apply the skip rules. */
int uw__place(uw_tasks *t, uw_sample *s);
/* Walk again the threads with a running Task not found, and place it. */
int uw__second_round(uw_tasks *t, uw_sample *s);

/* --- check.c -------------------------------------------------------------------- */

/* The chain check of every Task not skipped yet. */
int uw__check(uw_tasks *t);

/* --- names.c -------------------------------------------------------------------- */

/* Every Task's name into the sample. */
int uw__read_names(uw_tasks *t, uw_sample *s);

/* --- emit.c --------------------------------------------------------------------- */

/* Each Task's entry (state, skip, own frames) into the sample. */
int uw__emit_tasks(uw_tasks *t, uw_sample *s);

/* --- edges.c -------------------------------------------------------------------- */

/* Awaiting edges, strong and creation links and parents of the sample's
 * Tasks. */
int uw__edges(uw_tasks *t, uw_sample *s);

/* --- links.c -------------------------------------------------------------------- */

/* The links of the target's hook module buffer into t->hook. */
int uw__read_hook_links(uw_tasks *t, uint64_t bytearray);

/* --- adebug.c ------------------------------------------------------------------- */

/* May Tasks be read with the tables?  0 when the version has no
 * .AsyncioDebug block, or it was found and matched (at attach or later),
 * or the target is simulated; UW_ERR_NOT_FOUND while it is not mapped,
 * UW_ERR_DEBUG_OFFSETS once it mismatched.  Called once per sample. */
int uw__adebug_gate(uw_tasks *t);

/* --- discover_lists.c ----------------------------------------------------------- */

/* Append the Tasks on interpreter interp's lists (each of its threads' and
 * its own) to the candidates from *n on.  *lerr gets the lists' first
 * problem (task_list_*, task_limit); the return value is an error that
 * ends the sample. */
int uw__list_candidates(uw_tasks *t, const uw_sample *s, uint64_t interp, size_t *n, int *lerr);

/* --- awaited_by.c --------------------------------------------------------------- */

/* Read every Task's awaiters (one, or a set) into awaiting edges between
 * Tasks of the sample. */
int uw__awaited_by_read(uw_tasks *t);
/* Append to s->awaiting the Tasks that record Task i as their awaiter and
 * are not among its edges from `first` on yet. */
int uw__awaited_by_edges(uw_tasks *t, uw_sample *s, size_t i, size_t first);

#endif /* TORNSTACK_TASKS_INT_H */
