/*
 * mut_internal.h — what the mutator's files share: the mutator's state,
 * the queue of issued stores per thread, allocation in program order, and
 * the helpers that queue stores with their truth events.
 *
 * Issued and visible.  Operations are generated whole into their thread's
 * queue (program order); mm_mutator_step issues one store at a time, and
 * the truth (truth.h) follows the issued stores.  Memory a thread frees
 * while generating is handed to the allocator only when that free is
 * issued, except to the same thread's later allocations, which come after
 * it in program order: so another thread never reuses a block before every
 * store to its old object was issued, and one thread reuses what it just
 * freed, last-in first-out, as pymalloc does.
 */
#ifndef TORNSTACK_MM_MUT_INTERNAL_H
#define TORNSTACK_MM_MUT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "mutator.h"
#include "version.h"

#define MM_LINES 8       /* code units (lines) per code object */
#define MM_SLOTS 16      /* data-stack frame slots per thread */
#define MM_SLOT_LOOP 6   /* select / Handle._run */
#define MM_SLOT_SYNC 7   /* first slot of calls made by a callback */
#define MM_CFUNC_SIZE 56 /* a builtin method object (PyCFunctionObject) */
/* _run_once's lines (from its first line): the calls it makes; its frame
 * is moved to one (mm_run_once_at) before it makes it */
#define MM_RUN_ONCE_SELECT 1
#define MM_RUN_ONCE_POPLEFT 2
#define MM_RUN_ONCE_HANDLE 3
#define MM_PAYLOADS 16384 /* EV_NEW / EV_CHAIN payloads outstanding, at most */
#define MM_MAX_FAMILIES 32

/* Pseudo-entries of a queue: not stores, handled when issued. */
enum {
    MM_ST_FREE = 16,     /* block (addr, len: size) returned to the allocator */
    MM_ST_RELEASE = 17,  /* Task `task`'s id released (its memory is gone) */
    MM_ST_GRELEASE = 18, /* gather `task`'s truth record released */
};

typedef struct mm_queue {
    mm_store *q;
    size_t head, len, cap;
} mm_queue;

typedef struct mm_mcoro {
    uint64_t obj, code;
    int line;
    int size;  /* bytes allocated */
    int slots; /* value-stack depth at its await (stacktop) */
} mm_mcoro;

enum { MM_R_CLASSIC = 0, MM_R_WORKER, MM_R_CHILD, MM_R_ORPHAN, MM_R_IDLE };

/* What a server Task waits for (issued state). */
enum {
    MM_WT_NEW = 0, /* created, its first step scheduled */
    MM_WT_FUTURE,  /* a Future (asyncio.sleep): steppable */
    MM_WT_SLEEP0,  /* a bare yield: steppable */
    MM_WT_CHILD,   /* a child Task */
    MM_WT_GATHER,  /* a gather of child Tasks */
    MM_WT_GROUP,   /* a TaskGroup's children */
    MM_WT_EVENT,   /* an event that never fires (idle Tasks) */
    MM_WT_DONE,    /* finished */
};

typedef struct mm_mtask {
    int32_t id;
    uint32_t gen;
    int used; /* this slot holds a Task (issued) */
    int loop, role, family;
    uint64_t obj, name_obj, wr; /* the Task, its name, the registry's weakref */
    int name_size;
    int name_is_int; /* a default name still kept as an int */
    char name[MM_NAME_MAX];
    int n; /* issued chain, root first */
    mm_mcoro c[MM_MAX_CHAIN];
    int wait;
    uint64_t fut;           /* MM_WT_FUTURE / MM_WT_GROUP: the Future awaited */
    int32_t child;          /* MM_WT_CHILD: the child's id */
    int32_t gather;         /* MM_WT_GATHER: index in the mutator's gathers */
    int group_left;         /* MM_WT_GROUP: children not yet called back */
    int32_t parent;         /* Task that awaits it (fut_waiter = it), -1 */
    int32_t in_gather;      /* gather whose _children holds it, -1 */
    int32_t in_group;       /* Task whose TaskGroup made it, -1 */
    int steps_left;         /* children, orphans: steps before they finish */
    int holders;            /* references besides callbacks (a gather's list,
                             * an awaiting frame) */
    int callbacks;          /* done callbacks scheduled, not yet run */
    int done_cbs;           /* done callbacks added while pending (mm_done_cb_add) */
    uint64_t cb_method;     /* a set's discard it holds as a callback, 0 */
    int hook_slot[3];       /* hook record slot by kind (1, 2), -1 */
    int32_t hook_parent[3]; /* the parent each record names (id, gen) */
    uint32_t hook_parent_gen[3];
    int hook_kids;    /* records naming it as the parent */
    int hook_watched; /* the hook holds a weak reference to it as a parent */
    int set_slot;     /* its weakref's slot in the registry table */
    int ready_at;     /* index in its loop's ready list, -1 */
    int sleep_at;     /* fifo: index in its loop's sleepers, -1 */
    int queued;       /* fifo: a step handle of it is on the ready deque */
    int classic_slot; /* classic: family / registry slot */
    /* 3.14+ (issued state): its neighbours on its thread's list of native
     * Tasks (Task ids; MM_LIST_HEAD: the list head; MM_LIST_OUT: not on
     * the list), that thread, and the Task its task_awaited_by names (-1:
     * NULL) */
    int32_t ln_prev, ln_next;
    int ln_th;
    int32_t ab;
} mm_mtask;

#define MM_LIST_HEAD (-1)
#define MM_LIST_OUT (-2)

typedef struct mm_mgather {
    int32_t wid; /* truth record */
    uint32_t wgen;
    int used;
    uint64_t obj, dict, keys, list, items;
    int n;
    int32_t item[MM_GATHER_MAX]; /* Task id, or gather index */
    int8_t is_gather[MM_GATHER_MAX];
    int left;      /* direct items not yet done */
    int32_t outer; /* gather holding this one, -1 */
    int32_t owner; /* Task awaiting it (the outermost's), -1 */
    int32_t cur;   /* the Task that called gather() (current_task()) */
} mm_mgather;

enum { MM_CB_GATHER = 1, MM_CB_GROUP, MM_CB_DISCARD };

typedef struct mm_callback {
    int kind;
    int32_t task;   /* the finished Task the handle holds */
    int32_t target; /* MM_CB_GATHER: gather index; MM_CB_GROUP: parent id */
    int32_t inner;  /* MM_CB_GATHER for a finished nested gather: its index
                     * (the item done), -1 */
} mm_callback;

/* fifo: a handle on the ready deque: a Task's step (task >= 0, cb.kind
 * 0) or a done callback. */
typedef struct mm_handle {
    int32_t task;
    mm_callback cb;
} mm_handle;

typedef struct mm_pfree {
    uint64_t addr;
    size_t size;
} mm_pfree;

typedef struct mm_mloop {
    int idx;
    uint64_t tstate, current_slot, chunk, loop_obj, ready_state;
    uint64_t slot[MM_SLOTS];
    uint64_t c_root;    /* the thread's root frame code */
    uint64_t entry;     /* 3.14+: its C-stack entry frame above Handle._run, 0 */
    uint64_t current;   /* issued current frame */
    uint64_t ready;     /* issued ready-deque mutation count */
    uint64_t ready_len; /* fifo: the deque's length field, and its issued value */
    uint64_t qlen;
    int fifo;
    mm_handle *hq; /* fifo: the ready deque, FIFO */
    size_t hq_head, hq_n, hq_cap;
    int32_t *slp; /* fifo: Tasks asleep on a timer (asyncio.sleep) */
    size_t n_slp, cap_slp;
    mm_queue q;
    mm_pfree *pf; /* frees of this thread not yet issued */
    size_t n_pf, cap_pf;
    int32_t *rdy; /* steppable Task ids */
    size_t n_rdy, cap_rdy;
    mm_callback *cb; /* pending done callbacks, FIFO */
    size_t cb_head, n_cb, cap_cb;
    int32_t stepping;  /* Task whose step is being generated, -1 */
    int32_t dying[64]; /* Tasks freed when Handle._run returns */
    int n_dying;
    int gil_emitted; /* this operation has a GIL release point already:
                      * it must touch nothing shared after it */
    /* 3.14+ (issued state): the first and last Task of the thread's list
     * (MM_LIST_HEAD: empty), and its thread state's running Task (-1) */
    int32_t tl_first, tl_last;
    int32_t running;
} mm_mloop;

/* The registry set as issued (shadow of the table in memory). */
typedef struct mm_mset {
    uint64_t obj, table;
    size_t mask, fill, used;
    uint64_t *key; /* shadow of the table's keys (0 empty, 1 dummy) */
    int64_t *hash;
    int32_t *who; /* Task id of each key */
} mm_mset;

struct mm_mutator {
    mm_image *im;
    const uw_layout *l;
    const uw_asyncio_layout *al;
    const mm_version *v;
    mm_version ver;
    mm_space *sp;
    mm_world *w;
    mm_program prog;
    uint64_t rng;
    /* code objects */
    uint64_t c_loop[6]; /* <module>, run, Runner.run, run_until_complete, run_forever, _run_once */
    uint64_t c_select, c_handle_run, c_thread_root;
    uint64_t fam_code[MM_MAX_FAMILIES][MM_MAX_CHAIN];
    int fam_slots[MM_MAX_FAMILIES][MM_MAX_CHAIN];
    uint64_t fam_sync[MM_MAX_FAMILIES][3];
    /* 3.13+, with p_init: each family's Box.__init__, and the init shim
     * (0: none made, so a program without them lays out as before) */
    uint64_t fam_init[MM_MAX_FAMILIES];
    uint64_t c_init_shim;
    uint64_t c_sleep, c_sleep0, c_aexit, c_create_task, c_call_soon, c_gather, c_done_cb,
        c_group_done, c_get_name, c_discard;
    int n_fam;
    size_t frame_bytes;
    /* threads */
    mm_mloop lp[MM_MAX_LOOPS];
    int n_loops;
    /* a thread that runs no loop (prog.plain), lp[n_loops], or -1: it
     * calls a leaf function and returns from it now and then, and stands
     * still in between (a worker thread blocked in C) */
    int plain;
    uint64_t c_plain[4]; /* its root, worker, wait, leaf */
    int cur;             /* thread holding the GIL */
    int fence_next;      /* the next store issued begins a GIL tenure */
    int defer;
    /* Tasks (indexed by truth id, in blocks that never move) and gathers */
    mm_mtask **tblk;
    size_t n_tblk;
    mm_mgather *g;
    size_t n_g, cap_g;
    int32_t *g_free;
    size_t n_g_free, cap_g_free;
    size_t alive;
    uint64_t name_counter; /* asyncio's default-name counter */
    uint64_t serial;       /* names of explicitly named Tasks */
    /* registry, hook records */
    mm_mset set;
    uint64_t hook_buf; /* the _LINKS bytearray's buffer, 0 without the hook */
    size_t hook_cap, hook_count;
    int *hook_free; /* free record slots, LIFO */
    size_t n_hook_free;
    /* interned strs and types of the server shape */
    uint64_t s_children, s_cancel, gather_type, list_type, int_type;
    /* payloads of EV_NEW / EV_CHAIN */
    mm_ttask *pay;
    uint32_t pay_next;
    uint32_t gen_serial; /* Task serials (truth.h) */
    /* classic */
    int32_t classic_id[MM_CLASSIC_TASKS]; /* the Task of each family, -1 */
    /* counters */
    mm_store last;
    uint64_t time, ops;
    int last_gil;
};

#define MM_TBLK 1024

/* The mutator's record of Task id (ids are dense: truth.h). */
static inline mm_mtask *mm_t(mm_mutator *m, int32_t id)
{
    return &m->tblk[(size_t)id / MM_TBLK][(size_t)id % MM_TBLK];
}

/* --- core (mut_core.c) ---------------------------------------------------- */

uint64_t mm_rand(mm_mutator *m);
int mm_pct(mm_mutator *m, int p);
int mm_code_line(const mm_mutator *m, uint64_t code);

/* Queue a store of thread th; returns it so events can be attached. */
mm_store *mm_q(mm_mutator *m, int th, uint64_t addr, uint64_t value, int len);
mm_store *mm_q_zero(mm_mutator *m, int th, uint64_t addr, size_t len);
void mm_q_pseudo(mm_mutator *m, int th, int kind, uint64_t addr, size_t len, int32_t task);
/* A payload slot for EV_NEW / EV_CHAIN. */
uint32_t mm_payload(mm_mutator *m, mm_ttask **out);
mm_ref mm_unpack_ref(uint64_t x);
uint64_t mm_pack_ref(mm_ref r);

/* Allocation in program order of thread th (see above).  zero: the block
 * is cleared by a queued store, as PyType_GenericAlloc does. */
uint64_t mm_m_alloc(mm_mutator *m, int th, size_t size, int zero);
void mm_m_free(mm_mutator *m, int th, uint64_t addr, size_t size);

/* Frames on thread th's data stack. */
void mm_link(mm_mutator *m, int th, uint64_t frame, uint64_t code, int line, int32_t owner,
             int root);
void mm_unlink(mm_mutator *m, int th, uint64_t to, int32_t task, int root);
void mm_top(mm_mutator *m, int th, uint64_t top);
void mm_frame_fill(mm_mutator *m, int th, uint64_t f, uint64_t code, int line, uint64_t previous);
void mm_call(mm_mutator *m, int th, int k, uint64_t code, int line, int32_t owner);
void mm_return(mm_mutator *m, int th, int k, uint64_t to);
/* 3.14+: the interpreter entered from C above Handle._run (a Task step's
 * send, a callback run through Context.run): _PyEval_EvalFrameDefault's
 * entry frame on the thread's C stack is filled and its `previous` set to
 * the current frame.  Returns what the callee's `previous` takes: the
 * entry frame, or the current frame on a version without entry frames
 * (nothing stored then). */
uint64_t mm_entry_push(mm_mutator *m, int th);
/* The callee unlinked itself to the entry frame; INTERPRETER_EXIT puts
 * the current frame back to `below` (nothing on a version without). */
void mm_entry_pop(mm_mutator *m, int th, uint64_t below);
/* A frame called from C: its `previous` is the entry frame mm_entry_push
 * made (or the current frame). */
void mm_call_from_c(mm_mutator *m, int th, int k, uint64_t code, int line, int32_t owner);
void mm_return_to_c(mm_mutator *m, int th, int k, uint64_t below);
/* A frame's instruction pointer moved to `line` (an event when linked or
 * part of Task `task`'s chain). */
mm_store *mm_line(mm_mutator *m, int th, uint64_t frame, uint64_t code, int line, int32_t task);
/* The same, for a frame suspending there (the instruction pointer of an
 * await: fabricate.h). */
mm_store *mm_line_await(mm_mutator *m, int th, uint64_t frame, uint64_t code, int line,
                        int32_t task);

/* A new Task id in the truth, and the mutator's record for it. */
/* Room for one more in a ring of n elements of `size` bytes starting at
 * index *head of *cap: a full ring is copied, in order, to the front of
 * one twice as big (64 at first), which is returned; else `ring` is. */
void *mm_ring_room(void *ring, size_t size, size_t *head, size_t n, size_t *cap);
mm_mtask *mm_task_slot(mm_mutator *m);
void mm_ready_add(mm_mutator *m, int32_t id);
void mm_ready_del(mm_mutator *m, int32_t id);
/* call_soon on loop `loop` from thread th (deque_append): in a fifo loop
 * the length, then the count, and the handle is queued (a step of `task`,
 * or the callback cb); otherwise the count only. */
void mm_ready_append(mm_mutator *m, int th, int loop, int32_t task, const mm_callback *cb);
/* fifo: the handle at the deque's head, popped (popleft: the length, then
 * the count). */
mm_handle mm_ready_popleft(mm_mutator *m, int th);
/* fifo: a Task asleep on a timer, and its timer firing (its wakeup queued). */
void mm_sleeper_add(mm_mutator *m, int32_t id);
void mm_sleeper_fire(mm_mutator *m, int th, int32_t id);

/* --- classic shape (mut_classic.c) --------------------------------------- */

void mm_classic_init(mm_mutator *m);
void mm_classic_next_op(mm_mutator *m);

/* --- server shape (mut_server.c, mut_task.c, mut_registry.c) -------------- */

void mm_server_init(mm_mutator *m);
void mm_server_next_op(mm_mutator *m, int th);
int mm_server_has_work(const mm_mutator *m, int th);

/* Task lifecycle (mut_task.c). */
int32_t mm_task_create(mm_mutator *m, int th, int loop, int role, int family, int32_t creator,
                       int named, const mm_mcoro *root);
void mm_task_die(mm_mutator *m, int th, int32_t id);
void mm_task_maybe_free(mm_mutator *m, int th, int32_t id);
void mm_task_get_name(mm_mutator *m, int th, int32_t id);
uint64_t mm_str_new(mm_mutator *m, int th, const char *s, int *size);

/* Registry set (mut_registry.c). */
void mm_set_init(mm_mutator *m);
void mm_set_add(mm_mutator *m, int th, int32_t id, uint64_t key);
void mm_set_discard(mm_mutator *m, int th, int32_t id);

/* Hook records (mut_registry.c). */
void mm_hook_init(mm_mutator *m);
void mm_hook_record(mm_mutator *m, int th, int32_t child, int32_t parent, int kind);
void mm_hook_release(mm_mutator *m, int th, int32_t child, int kind);
/* The hook's done callback of a parent: every record naming it released. */
void mm_hook_release_parent(mm_mutator *m, int th, int32_t parent);

/* _asyncio's state for outside readers, 3.14+ (mut_asyncio.c): the
 * thread's list of native Tasks, task_awaited_by, the running Task.  Each
 * stores nothing on a version without it. */
void mm_tlist_insert(mm_mutator *m, int th, int32_t id);
void mm_tlist_remove(mm_mutator *m, int th, int32_t id);
/* future_awaited_by_add / _discard on the Future or Task `obj` (a Task:
 * obj_task its id, else -1) for the Task `waiter`. */
void mm_awaited_add(mm_mutator *m, int th, uint64_t obj, int32_t obj_task, int32_t waiter);
void mm_awaited_discard(mm_mutator *m, int th, uint64_t obj, int32_t obj_task, int32_t waiter);
/* future_add_done_callback on pending Task id (mut_task.c), and
 * future_schedule_callbacks's clearing of them as it finishes. */
void mm_run_once_at(mm_mutator *m, int th, int line);
void mm_done_cb_add(mm_mutator *m, int th, int32_t id);
/* ... one that no awaiter adds: the callable `obj` itself. */
void mm_done_cb_add_obj(mm_mutator *m, int th, int32_t id, uint64_t obj);
void mm_done_cb_clear(mm_mutator *m, int th, int32_t id);
/* enter_task (id >= 0) / leave_task (id -1) on thread th. */
void mm_running_task(mm_mutator *m, int th, int32_t id);

/* Coroutines (mut_coro.c). */
/* Store frame f's stack pointer: `depth` slots on its value stack. */
mm_store *mm_sp(mm_mutator *m, int th, uint64_t f, int depth);
/* The value-stack depth of a coroutine of `slots` slots suspended in an
 * await (3.15: one more, the NULL above the awaitee). */
int mm_await_depth(const mm_mutator *m, int slots);
void mm_coro_new(mm_mutator *m, int th, mm_mcoro *c, uint64_t code, int slots, uint64_t caller);
void mm_coro_resume(mm_mutator *m, int th, mm_mtask *t, int k);
void mm_coro_suspend(mm_mutator *m, int th, mm_mtask *t, int k, uint64_t prev, int await);
void mm_coro_return(mm_mutator *m, int th, mm_mtask *t, int k, uint64_t prev);
/* Declare, on store s, the chain of Task t as its root alone (the others
 * returned; the root is about to be unlinked and cleared). */
void mm_chain_root_only(mm_mutator *m, mm_store *s, const mm_mtask *t);
void mm_coro_await(mm_mutator *m, int th, mm_mcoro *c, uint64_t awaitee);
void mm_chain_declare(mm_mutator *m, int th, mm_mtask *t);

#endif
