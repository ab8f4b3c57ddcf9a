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
 *   names.c     Task names;
 *   gather.c    what each Task awaits: its fut_waiter, gather futures'
 *               children, level by level;
 *   links.c     the link tables: the API's, and the hook module's records;
 *   adebug.c    3.14+: _asyncio's debug offsets, found after attach when
 *               asyncio is imported late, before any Task is read;
 *   discover_lists.c  3.14+: candidates from each thread's and the
 *               interpreter's list of native Tasks;
 *   awaited_by.c  3.14+: awaiting edges from each Task's awaited_by;
 *   deps.c      what each Task's links were read from, for the check, and
 *               the Tasks each one awaits;
 *   check.c     the chain check: one read of two copies of everything the
 *               Tasks depend on (chains, names, links), between two
 *               readings of each epoch;
 *   recover.c   the Tasks the check found moved, read again and checked
 *               again on their own before they are skipped;
 *   emit.c      each Task's entry and own frames in the sample;
 *   edges.c     awaiting edges from the checked links, then strong and
 *               creation links, then parents;
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
/* What a chain level reads besides each coroutine's window (chains.c): a
 * root's value-stack slots from its awaitee (as before a value was sent to
 * it) up to its top, at most UW_AWAITEE_SLOTS, and its next instruction. */
#define UW_AWAITEE_SLOTS 4
#define UW_AWAITEE_BYTES (8 * UW_AWAITEE_SLOTS + 8)
/* Bytes of a Task's name object read at once (short names fit). */
#define UW_NAME_WINDOW 128
/* Bytes of a registry entry read to tell a weakref from a Task. */
#define UW_WEAKREF_WINDOW 24
/* Bytes of the hook module's bytearray header, then its buffer's head. */
#define UW_HOOK_HEADER 64
/* Entries of the hook links' table: a power of two above twice the
 * records (links.c), so at most four times them. */
#define UW_HOOK_SLOTS (4 * (size_t)UW_LIMIT_LINK_RECORDS + 64)
/* Gather futures followed per sample (gather.c). */
#define UW_GATHER_NODES_MAX (2 * UW_LIMIT_TASKS)
/* Pieces one gather node reads over its steps at most: locate (4), dict,
 * keys (3), slot, list and items, twice when the node is located again
 * (uw_node_relocate, once); its items' types count against
 * UW_LIMIT_GATHER_ITEMS.  gather.c asserts it per node.  (Locate and keys
 * read the Task's fut_waiter too, which decides a relocation.) */
#define UW_G_NODE_PIECES 22
/* Bytes of those steps per node on average: a gather's own dict is small
 * (its keys object up to the `_children` entry is some 100 bytes, twice
 * with a relocation); in a sample whose gathers need more, what the Tasks
 * left await is cut (gather.c uw_nodes_cut; UW_ERR_CAPACITY in
 * tasks_error). */
#define UW_G_NODE_BYTES 1024
/* Dependencies of the Tasks' links per sample (deps.c), over the first
 * reading and every recovery round, which keep adding: each Task's
 * waiter type once a reading, each gather node's steps, each item's type.
 * Pieces: a program within the bounds never meets this capacity. */
#define UW_DEP_PIECES_MAX                                       \
    ((1 + (size_t)UW_RECOVER_ROUNDS) * (size_t)UW_LIMIT_TASKS + \
     (size_t)UW_GATHER_NODES_MAX * UW_G_NODE_PIECES + (size_t)UW_LIMIT_GATHER_ITEMS)
#define UW_DEP_BYTES_MAX                                            \
    (8 * (1 + (size_t)UW_RECOVER_ROUNDS) * (size_t)UW_LIMIT_TASKS + \
     (size_t)UW_GATHER_NODES_MAX * UW_G_NODE_BYTES + 16 * (size_t)UW_LIMIT_GATHER_ITEMS)
/* A recovery round's index of the Tasks naming each Task (recover.c,
 * uw_cross_index): each Task's kids, and at most five more it names. */
#define UW_CROSS_REL_MAX ((size_t)UW_DEP_PIECES_MAX + 5 * (size_t)UW_LIMIT_TASKS)
/* Slots of the index of the sample's Tasks by address (uw__task_find):
 * the least power of two at least twice the Tasks, so the index is at most
 * half used and every probe ends at an empty slot; for UW_LIMIT_TASKS
 * Tasks that is less than four times as many. */
#define UW_TASK_SLOTS_MAX (4 * (size_t)UW_LIMIT_TASKS)
/* Bytes of a name object a name is decoded from, at most: its header and
 * UW_TASK_NAME_MAX characters of 4 bytes. */
#define UW_NAME_BYTES_MAX (128 + 4 * UW_TASK_NAME_MAX)
/* The loop's stack at the check's instant (check.c, "The loop's stack
 * between the copies"): a thread's skeleton holds the loop's frames from
 * asyncio's _run_once rootward, UW_PURE_CHECK_FRAMES at most (a deeper
 * loop gets none); at most UW_PURE_THREADS threads a sample are read so,
 * each with its current-frame pointer, its cframe (3.11/3.12) and the
 * slot above _run_once: UW_PURE_PIECES pieces of at most
 * UW_PURE_FRAME_BYTES bytes (the layout check bounds frame_size so). */
#ifndef UW_PURE_CHECK_FRAMES
#define UW_PURE_CHECK_FRAMES 32
#endif
#ifndef UW_PURE_THREADS
#define UW_PURE_THREADS 8
#endif
#define UW_PURE_FRAME_BYTES 128
#define UW_PURE_PIECES ((size_t)UW_PURE_THREADS * (UW_PURE_CHECK_FRAMES + 3))
/* The middle group is read in UW_PURE_WINDOWS windows one after the other,
 * each its two copies between two readings of the epoch; the first whose
 * epoch held gives the stack.  A window takes some microseconds (a few
 * pages pinned twice), about as long as a busy loop's callback: on the
 * busy program one window in three to one in two saw its epoch move. */
#ifndef UW_PURE_WINDOWS
#define UW_PURE_WINDOWS 3
#endif
/* The chain check's pieces and bytes per copy: a span, a name, the end of
 * the chain, the dependencies and the one done callback (two pieces) of
 * every Task, each coroutine frame (on to its awaitee slot when near) and
 * its awaitee slot, three words of every thread, the hook module's
 * records. */
#define UW_CHECK_PIECES_MAX                                                                       \
    (3 * (size_t)UW_LIMIT_THREADS + 6 * (size_t)UW_LIMIT_TASKS + 2 * (size_t)UW_TASK_FRAMES_MAX + \
     (size_t)UW_DEP_PIECES_MAX)
#define UW_CHECK_BYTES_MAX                                                             \
    ((size_t)UW_LIMIT_TASKS * (160 + UW_NAME_BYTES_MAX + 16 + UW_CALLABLE_PIECE + 8) + \
     (size_t)UW_TASK_FRAMES_MAX * (UW_CORO_WINDOW + 8 + 512) + UW_DEP_BYTES_MAX +      \
     24 * (size_t)UW_LIMIT_THREADS + 8 + (size_t)UW_LIMIT_LINK_RECORDS * UW_LINK_RECORD)
/* Walks of a thread in the second round while the walk's frames above the
 * split keep moving under its re-read (place.c).  One: on a busy loop the
 * frames that moved under one walk move under the next (docs/tasks.md). */
#ifndef UW_SECOND_ROUND_WALKS
#define UW_SECOND_ROUND_WALKS 1
#endif
/* The chain's end is no coroutine (chains.c, check.c). */
#define UW_END_NO_STATE (-1000)
/* A fut_waiter read at the check that is not known (gather.c, edges.c). */
#define UW_WAITER_UNKNOWN UINT64_MAX

/* Code objects the classifier marks (within UW_CODE_CLASSES). */
#define UW__CODE_HANDLE_RUN 0x100u
/* The loop's own code: any function of the asyncio package or of
 * selectors.py (split.c, the pure stack of an idle loop). */
#define UW__CODE_LOOP_OWN 0x200u

/* Pages the first chain read of a sample reads at once, from the last
 * sample's (snapshot.c): a power of two. */
#ifndef UW_SNAP_PAGES
#define UW_SNAP_PAGES 2048
#endif

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
    uw__view keys;      /* u64: one registry set's keys (UW_LIMIT_TASK_CANDIDATES) */
    uw__view cand;      /* u64: candidate Task addresses (UW_LIMIT_TASK_CANDIDATES) */
    uw__view work;      /* uw_task_work: the sample's Tasks (UW_LIMIT_TASKS) */
    uw__view work_addr; /* u64: their addresses, in the same order (uw__task_find) */
    uw__view cross_all; /* size_t: a recovery round's Tasks asked about every Task
                         * (recover.c, uw_cross_index; UW_LIMIT_TASKS) */
    uw__view cross_at;  /* size_t: where each Task's list in cross_rel begins
                         * (UW_LIMIT_TASKS + 1) */
    uw__view cross_rel; /* size_t: the Tasks asked about it only (UW_CROSS_REL_MAX) */
    uw__view rs_used;   /* uw__resume_use: remembered RESUMEs a chain read used
                         * (resume.c; UW_TASK_FRAMES_MAX) */
    uw__view rs_read;   /* size_t: slots of the RESUMEs it read (UW_TASK_FRAMES_MAX) */
    uw__view work_slot; /* u32: open-addressing index of work_addr, 1 + entry or 0 for
                         * empty (UW_TASK_SLOTS_MAX, at most half used) */
    uw__view iov;       /* uw_iov: one read of registry entries, Tasks, a chain level
                         * (a coroutine and up to two awaitee pieces per Task),
                         * names, or a round of the gathers (UW_DEP_PIECES_MAX) */
    uw__view idx;       /* size_t: the Task of each piece of a chain level (same) */
    uw__view bytes;     /* u8: what that read brings (UW_LIMIT_TASKS x the largest
                         * per-Task share: Task object, coroutine window and
                         * awaitee slot, name window) */
    uw__view placed;    /* size_t: Tasks placed on one thread (UW_LIMIT_TASKS) */
    uw__view roots;     /* u64: sorted root coroutine frames (UW_LIMIT_TASKS) */
    uw__view pending;   /* size_t: per thread, a running Task to look for again
                         * (UW_LIMIT_INTERPRETERS x UW_LIMIT_THREADS) */
    uw__view thread_ok; /* size_t: per thread, its current frame read as walked
                         * in the check (same) */
    uw__view need;      /* size_t: bytes each Task's name still needs (UW_LIMIT_TASKS) */
    uw__view hook;      /* u8: the hook module's count word and records
                         * (8 + UW_LIMIT_LINK_RECORDS records); hook_now: the
                         * records stable through the check */
    uw__view hook_now;
    /* links.c: the hook's links, and a table of (child, kind) to find each
     * (hook index + 1) */
    uw__view hook_links; /* uw_link (UW_LIMIT_LINK_RECORDS) */
    uw__view hook_slot;  /* size_t (UW_HOOK_SLOTS) */
    /* gather.c: gather futures being read, their items, their items' types */
    uw__view gnode;  /* uw__gnode (UW_GATHER_NODES_MAX) */
    uw__view gitems; /* u64 (UW_LIMIT_GATHER_ITEMS) */
    uw__view gtypes; /* uint8_t *: one round's type pieces of one node
                      * (UW_LIMIT_GATHER_CHILDREN) */
    /* deps.c: what links were read from, and the awaited Tasks */
    uw__view dep;       /* uw__dep (UW_DEP_PIECES_MAX) */
    uw__view dep_tmp;   /* uw__dep: the pieces while sorted by Task (same) */
    uw__view dep_count; /* size_t: pieces per Task, for that sort (UW_LIMIT_TASKS + 1) */
    uw__view dep_bytes; /* u8 (UW_DEP_BYTES_MAX) */
    uw__view kids;      /* size_t: awaited Tasks, per Task a range (UW_DEP_PIECES_MAX) */
    uw__view children;  /* u64: a set's members (awaited_by.c; UW_LIMIT_GATHER_CHILDREN) */
    /* the chain check: pieces (epochs twice, everything twice), what each
     * piece is, and the two copies */
    uw__view check_iov;
    uw__view check_what; /* uw__ckpiece (UW_CHECK_PIECES_MAX) */
    uw__view copy_a, copy_b;
    /* coroutine frames of all chains (UW_TASK_FRAMES_MAX each) */
    uw__view cf_addr;   /* u64: frame address */
    uw__view cf_state;  /* int8: generator state when read */
    uw__view cf_yf;     /* u64: awaitee word as read from its value stack (3.14+: a
                         * tagged reference), kept also when it is no object
                         * and so ended the chain; read only where cf_slot is */
    uw__view cf_slot;   /* u64: the value-stack slot it was read from, 0 if none */
    uw__view cf_bytes;  /* u8: the frame, frame_size bytes each */
    uw__view cf_frame;  /* uw_frame: the frame resolved */
    uw__view cf_status; /* int: 0 shown, 1 hidden, or a reason */
    /* chains.c: frames set aside while the chains are laid out again
     * (UW__CF_KEEP bytes each, UW_TASK_FRAMES_MAX), the chains' places in
     * that order (uw__cf_place, UW_LIMIT_TASKS), and which Tasks' frames
     * are resolved before the check (u8, UW_LIMIT_TASKS + 1) */
    uw__view cf_keep;
    uw__view cf_order;
    uw__view cf_early;
    uw__view saved; /* uw__saved: the Tasks of a recovery round (UW_LIMIT_TASKS) */
    /* a recovery round's check in windows (check.c): the read in its
     * order (uw_iov: both copies, UW_CHECK_PIECES_MAX each, and the epochs),
     * the epochs between the windows and which moved in each (u64, twice
     * UW_TASK_EPOCHS x (UW_RECOVER_WINDOWS + 2)), and per Task its
     * group, the group's size, its window and the Tasks in window order
     * (size_t, four per Task: UW_LIMIT_TASKS) */
    uw__view ck_rd;
    uw__view ck_ep;
    uw__view ck_grp;
} uw__scratch;

/* Bytes one coroutine frame takes while set aside: every per-frame view
 * (address, state, awaitee word, awaitee slot, the frame's fs bytes). */
#define UW__CF_KEEP(fs) (8 + 1 + 8 + 8 + (fs))

/* A chain's place, to lay the chains out again in order. */
typedef struct uw__cf_place {
    size_t first, task;
} uw__cf_place;

/* Set every view's element size and capacity (nothing is allocated). */
void uw__scratch_init(uw__scratch *sc, const uw_layout *l, const uw_asyncio_layout *al);
void uw__scratch_free(uw__scratch *sc);

/* --- types.c ------------------------------------------------------------------- */

/* UW_KIND_CLOOP: an event loop that calls its callbacks from C (uvloop's
 * uvloop.loop.Loop): no Handle._run frame splits its thread's stack.
 * UW_KIND_FUNCTION, UW_KIND_CFUNC, UW_KIND_SET: a Python function, a
 * builtin method and a set, the done callbacks callbacks.c knows. */
enum {
    UW_KIND_OTHER = 0,
    UW_KIND_TASK,
    UW_KIND_FUTURE,
    UW_KIND_GATHER,
    UW_KIND_CLOOP,
    UW_KIND_FUNCTION,
    UW_KIND_CFUNC,
    UW_KIND_SET
};

#ifndef UW_TYPE_CACHE
#define UW_TYPE_CACHE 64
#endif
/* Addresses found to be no readable type in this sample (types.c). */
#define UW_TYPE_BAD 16
/* Thread dicts whose running-loop entry is remembered (discover.c); more
 * threads take turns. */
#define UW_LOOP_SLOTS 8
typedef struct uw_type_verdict {
    uint64_t type;
    int kind;
    int has_loc; /* a gather type: where its instances keep `_children` */
    uw_attr_loc loc;
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
    /* before 3.14: asyncio.base_events._run_until_complete_cb, its type
     * and code as found (callbacks.c); 0 if absent */
    uint64_t ruc_fn, ruc_type, ruc_code;
    /* before 3.14: the code of the done callback asyncio's stream server
     * gives each connection's Task (a closure made per connection:
     * StreamReaderProtocol.connection_made's `callback`); 0 if absent */
    uint64_t stream_cb_code;
    int found;      /* asyncio.tasks was found */
    int bound;      /* not found for a bound (dict_limit), or 0 */
    uint32_t retry; /* samples until the next search */
    uint64_t used;  /* the discovery (reg_clock) that last asked for it */
} uw_registry;

/* --- links.c ------------------------------------------------------------------- */

#define UW_LINKS_MAGIC "TSLINKS1"
#define UW_LINK_RECORD 24
/* Hook records read past the count (new slots seen by the check). */
#define UW_HOOK_MARGIN 64

typedef struct uw_link {
    uint64_t child, parent;
    int kind;
    uint64_t addr; /* where the hook record was read, 0 for the API table */
} uw_link;

/* --- deps.c, gather.c ------------------------------------------------------------ */

/* A piece a Task's links were decided from. */
typedef struct uw__dep {
    size_t task; /* work index (SIZE_MAX: dropped) */
    uint64_t addr;
    size_t len;
    size_t off; /* its bytes, as read, in dep_bytes */
    int keys;   /* a dict keys object: its reference count and version tag are not compared */
} uw__dep;

/* A gather future being read (gather.c). */
typedef struct uw__gnode {
    size_t task; /* the Task whose fut_waiter leads here */
    uint64_t obj;
    uw_attr_loc loc;
    int step, relocated, depth;
    size_t pieces; /* read over its steps, types aside (UW_G_NODE_PIECES) */
    uint64_t d, k, v, list, items;
    int64_t n;
    size_t first_item, n_items; /* in gitems */
    size_t pos;                 /* its index in its parent's items */
    int64_t first_kid_node, next_sibling;
} uw__gnode;

/* --- epoch.c ------------------------------------------------------------------- */

/* UW_EPOCH_THREADS (limits.h): threads whose loop epoch is known. */

/* A loop that calls its callbacks from C (cloop) may have no counter; it
 * keeps the split last found from its running Task (split.c): the frame
 * below that Task's root, by address, code, line and depth from the root
 * (lsplit_addr 0: none yet). */
/* A loop thread's skeleton (check.c, uw_pure_learn): where asyncio's
 * _run_once and every frame rootward were in the last walk that reached
 * its root through Handle._run, by address and code, and the slot above
 * _run_once (that walk's Handle._run frame); on 3.11/3.12 also the cframe
 * of the eval loop running them, as a walk that started at _run_once or
 * in its slot read it (0: not known).  n 0: none.  Only where to look:
 * every frame is proven again where it is used. */
typedef struct uw__pure_skel {
    size_t n;
    uint64_t slot, cframe;
    uint64_t addr[UW_PURE_CHECK_FRAMES], code[UW_PURE_CHECK_FRAMES];
} uw__pure_skel;

typedef struct uw__epoch_ent {
    uint64_t tstate, loop, counter;
    int cloop;
    /* a C loop's ready deque count (its `dequeobject.state`), for the
     * chain check only (epoch.c): 0 when not found */
    uint64_t ccounter;
    uint64_t lsplit_addr, lsplit_code;
    int32_t lsplit_line;
    size_t lsplit_depth;
    uw__pure_skel skel;
} uw__epoch_ent;

typedef struct uw__epochs {
    uw__epoch_ent e[UW_EPOCH_THREADS];
    /* limited: only the first `limit` entries are used (the model's knob,
     * uw__tasks_limit_epochs), as a build with UW_EPOCH_THREADS = limit */
    int limited;
    size_t limit;
} uw__epochs;

/* A loop thread's epoch counter, read first (a) and last (b) in the
 * vectored read that checks the chains.  Unchanged, the loop ran one
 * callback (or none) meanwhile: at most one Task's chain moved, within one
 * step, and two copies read one after the other catch that. */
#ifndef UW_TASK_EPOCHS
#define UW_TASK_EPOCHS 64
#endif
/* A recovery round's check is read in at most this many windows (check.c;
 * each costs three ordered groups of the read, UW_READV_GROUPS_MAX). */
#ifndef UW_RECOVER_WINDOWS
#define UW_RECOVER_WINDOWS 64
#endif
/* A recovery round is followed by another only if it kept at least one in
 * this many of the Tasks it read again (recover.c, uw__recover) ... */
#define UW_RECOVER_YIELD 4
/* ... or if it read again at most this many: such a round is a few calls,
 * microseconds long, whatever it kept. */
#define UW_RECOVER_AGAIN 4
/* Rounds at most where every ordered group of a read is a call of its own
 * (reader.h, a machine that may show stores out of order; the model's
 * relaxed memory): a round is then some ten calls or more, and five of
 * them took a small-limits model sample of three loops to 584 reads,
 * past the model's bound of 512 (the race fuzzer's corpus, and
 * corpus/race/regress/pbt-small-limits-3.15-relaxed-read-bound). */
#define UW_RECOVER_ROUNDS_SPLIT 3
/* No round at all is begun once the sample has made this many reads
 * (uw__sample_reads): the rounds are the one part of a sample that may be
 * left out, and a round of the relaxed model's four loops, every ordered
 * group a call, took some 30.  Its first sample, each thread walked up to
 * three times a phase and discovery reading cold dicts, had made some 440
 * reads by the end of its first check, and three rounds more took it to
 * 533, past the model's bound of 512
 * (corpus/race/regress/violation-local-4540a3ff-four-loops-recovery-reads). */
#ifndef UW_RECOVER_READS
#define UW_RECOVER_READS 416
#endif
_Static_assert(UW_RECOVER_ROUNDS_SPLIT <= UW_RECOVER_ROUNDS, "a bound within the bound");
/* From 3.14, where no round is read in windows, a round on a loop the
 * check saw busy reads again only Tasks awaited by nothing or by one Task
 * that can vouch for them (recover.c, uw_held_by), in one piece, and at
 * most this many of them: the others wait for a later sample's turn
 * (busy_turn), so that no Task is always left out ... */
#ifndef UW_RECOVER_BUSY_TASKS
#define UW_RECOVER_BUSY_TASKS 64
#endif
/* ... and no such round is begun once the sample has made this many
 * reads (uw__sample_reads): on the busy program of 500 Tasks (3.14.8) a
 * warm sample made some 37 reads before its rounds, and rounds of its
 * hundreds of movers took it to 131, past the 64 the cost target of a
 * sample allows; with this bound 58. */
#ifndef UW_RECOVER_BUSY_READS
#define UW_RECOVER_BUSY_READS 48
#endif
/* With the count (counter, read as a and b) a check read at once (the
 * first, or a recovery round's) reads the deque's length (len_addr) in
 * ordered groups of their own: the count,
 * then the length, before both copies; the length, then the count, after
 * them (check.c, uw_one_step). */
typedef struct uw_task_epoch {
    size_t thread;
    uint64_t counter, a, b;
    uint64_t len_addr, la, lb;
    int cloop;    /* a C loop's (uvloop): judges the check only (epoch.c) */
    int moved;    /* unreadable, or a != b */
    int one_step; /* unmoved, or every handle popped during the check's
                   * read was queued before it began: no Task stepped
                   * twice (0 in a round read in windows) */
} uw_task_epoch;

/* --- discover_lists.c, awaited_by.c (3.14+) ----------------------------------- */

/* Nodes taken last that a list node may name as its `prev`. */
#define UW_TL_BACK 4
/* Times one list may read its last node again in an attempt, when the
 * node that node's copy named next was found unlinked (discover_lists.c). */
#define UW_TL_RETAKES 32

/* One list of native Tasks being followed (discover_lists.c). */
typedef struct uw__tlist {
    uint64_t head;             /* address of its head node */
    uint64_t hw[2];            /* the head as read: next (its prev is not used) */
    uint64_t pw[2];            /* a node read in a round: next, prev */
    size_t win;                /* the window slot a round read for it, SIZE_MAX if none */
    size_t win_len;            /* the bytes its next window reads (discover_lists.c) */
    size_t from_win;           /* nodes it took from windows since its last round */
    int win_down;              /* that window ends at the node (the list went down) */
    uint64_t torn_prev;        /* the `prev` named by the node that tore it (0: none) */
    int retake;                /* the round reads back's newest node again (cur) */
    unsigned retakes;          /* such reads this attempt (UW_TL_RETAKES) */
    uint64_t tore;             /* the node whose fresh copy made the last retake */
    uint64_t back[UW_TL_BACK]; /* the last nodes taken, the newest at
                                * back[(n_taken - 1) % UW_TL_BACK]; the head
                                * counts as taken first */
    size_t n_taken;
    uint64_t cur; /* the node to take next */
    uw_brent br;
    int state; /* UW__TL_* or a reason (task_list_*) */
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

/* Pages of remembered list nodes read whole at the start of an attempt,
 * at most (the lowest first; nodes past them are found by rounds):
 * 4 MiB, room for 16,384 Tasks packed side by side (discover_lists.c). */
#ifndef UW_TASK_LIST_PAGES
#define UW_TASK_LIST_PAGES 1024
#endif

typedef struct uw__lists {
    uw__view lists; /* uw__tlist: the lists of one interpreter (threads + 1) */
    uw__view iov;   /* uw_iov: heads and remembered nodes; a round's nodes */
    uw__view words; /* u64 pairs: the remembered nodes as read */
    uw__view seen;  /* u64: nodes taken in this attempt (UW_LIMIT_TASK_LIST) */
    uw__list_memo memo[UW_LIST_MEMO];
    size_t memo_next;
    int full;          /* UW_LIMIT_TASKS candidates held: more nodes not kept */
    uw__view win;      /* u8: windows read after unknown nodes, a ring */
    uw__view win_addr; /* u64 pairs: where each starts, how much was read */
    size_t n_win;      /* windows read this attempt */
    uw__view pages;    /* u8: the remembered nodes' pages, read whole with them */
    uw__view page_at;  /* u64: each page's address, ascending (| 1: not read) */
    size_t n_pages;    /* pages read this attempt (UW_TASK_LIST_PAGES) */
    uw__view pairs;    /* uw__ab_pair: awaited-by edges (UW_LIMIT_AWAITED_BY) */
    uw__view mark;     /* u64 per Task: edges a parent has (UW_LIMIT_TASKS) */
    size_t n_pairs;
    /* adebug.c */
    int adebug;           /* 0 found and matching (or nothing to check), else why not */
    uint32_t adebug_wait; /* samples until the block is looked for again */
} uw__lists;

void uw__lists_init(uw__lists *ls);
void uw__lists_free(uw__lists *ls);

/* --- resume.c (types) -------------------------------------------------------------- */

/* RESUMEs remembered (a power of two), and the slots a lookup looks at. */
#ifndef UW_RESUME_SLOTS
#define UW_RESUME_SLOTS 16384
#endif
#define UW_RESUME_PROBE 8
_Static_assert((UW_RESUME_SLOTS & (UW_RESUME_SLOTS - 1)) == 0 && UW_RESUME_SLOTS >= UW_RESUME_PROBE,
               "UW_RESUME_SLOTS: a power of two, at least a probe's slots");

enum { UW_RESUME_EMPTY, UW_RESUME_READ, UW_RESUME_KNOWN };

/* A RESUME's two bytes at `at`, in code object `code` whose cache entry
 * had `serial` when they were read; READ until the sample's resolve
 * validated that entry (KNOWN), or not (EMPTY). */
typedef struct uw__resume_slot {
    uint64_t at, code, serial;
    uint8_t op, arg, state;
} uw__resume_slot;

/* A remembered RESUME used by Task `task` (work index), to be checked
 * after resolve: its code object's entry must have `serial` then. */
typedef struct uw__resume_use {
    size_t task;
    uint64_t code, serial;
} uw__resume_use;

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
    int on_stack;       /* found on its thread's stack: the running Task; its
                           frames are the sample's ... */
    size_t own_first;   /* ... from this index ... */
    size_t n_own;       /* ... innermost first */
    size_t out;         /* index in the sample's tasks */
    uint64_t root_prev; /* the root coroutine's `previous` when read */
    int root_finished;  /* its root returned (the Task is not done): no frames */
    uint64_t end_obj;   /* the awaitee its chain stopped at (chains.c), 0 */
    uint64_t end_type;  /* its type when read (0: unreadable, or read as 0) */
    int end_state;      /* a coroutine's state then, else UW_END_NO_STATE */
    int end_owner;      /* its frame's owner byte then (a coroutine read in its
                           window), else UW_END_NO_STATE */
    int end_unread;     /* its window could not be read: type and state read
                           alone after the levels (uw_chain_ends_exact) */
    int resuming;       /* root marked running (or `previous` set) but not
                           linked on the walk: its chain, if the check shows
                           nothing linked above the walk's Handle._run */
    uint64_t name_len;  /* bytes of the name object the name came from */
    /* links (gather.c, deps.c) */
    int links_todo;          /* its links are to be read */
    int links_cut;           /* a link could not be followed */
    int gather_cut;          /* a gather bound cut what it awaits: Tasks past
                                the cut may be awaited by it unseen */
    int64_t waiter_task;     /* its fut_waiter is this Task (work index) */
    int64_t root_node;       /* its fut_waiter is this gather node */
    size_t first_dep, n_dep; /* its dependencies (after uw__deps_index) */
    size_t first_kid, n_kid; /* the Tasks it awaits */
    /* the check's verdicts (check.c) */
    int check_cut;        /* its pieces did not fit */
    int resume_stale;     /* a remembered RESUME of its chain may be another code's (resume.c) */
    int code_late;        /* a code object of its chain was loaded after the chain was read,
                           * its frames resolved after the check (chains.c) */
    int span_ok;          /* state, coroutine, waiter, name pointer read twice alike */
    int chain_ok;         /* its chain and name are trusted */
    int label_ok;         /* its name and root coroutine are vouched for: the
                             check kept it (chain_ok, its loop's epoch unmoved, a
                             place that stands); a skipped Task shows them only
                             then */
    int links_ok;         /* what it awaits is trusted */
    int hook_ok;          /* its hook records read the same */
    int hook_moved;       /* a hook record naming it as the child changed */
    int round_hook;       /* in a recovery round's check, likewise (check.c) */
    uint64_t ab_now;      /* 3.14+: its awaited_by in the check (ab_ok) ... */
    int ab_now_is_set;    /* ... and whether a set */
    int ab_ok;            /* the same Task (coroutine, loop) with the same
                             awaited_by word and flag in both copies, its loop's
                             epoch unmoved: ab_now holds at the check */
    uint64_t ab_seen[2];  /* 3.14+: its awaited_by word in copies A and B of
                             the check (0: none, or not read) ... */
    int ab_seen_set[2];   /* ... and whether each is a set */
    int ab_alike;         /* ... both read, and alike (whatever the rest of
                             the span, and whoever the object is now) */
    int frames_now;       /* placed (3.14+): its thread's current frame and its
                             own frames read in the check as the walk's, so what
                             names it in awaited_by then was so with them */
    int span_known;       /* its span read alike in both copies */
    int pending_now;      /* ... and pending with its coroutine */
    uint64_t waiter_now;  /* fut_waiter in the check (UW_WAITER_UNKNOWN) */
    int waiter_plain;     /* ... a Future that holds no Task (plain.c) */
    int awaited;          /* a Task of the sample awaits it (edges.c) */
    int await_unsure;     /* a Task of its loop awaits something unknown */
    int recheck;          /* read again in this recovery round (recover.c) */
    int peer;             /* not read again, but of a loop with Tasks that are: its
                             span is read in that round's check ... */
    int peer_ok;          /* ... alike in both copies ... */
    int peer_same;        /* ... still pending with the same coroutine, loop and name ... */
    uint64_t peer_waiter; /* ... with this fut_waiter then, and (3.14+) these awaiters */
    uint64_t peer_ab;
    int peer_ab_set;
    int peer_ab_alike; /* 3.14+: its awaited_by word and flag read alike in both
                          copies (peer_ab, peer_ab_set: copy A's), whatever the
                          rest of its span */
    size_t ck_win;     /* the window of a recovery round's check it is read in */
    int no_callbacks;  /* the check read no done callback in either copy */
    int one_callback;  /* ... exactly one, the same word in both copies (fut_callback0 set,
                        * fut_callbacks NULL), the same pending Task */
    /* before 3.14, its done callbacks as discovery read them, and one
     * that no awaiter adds (callbacks.c) */
    uint64_t cb0, cbs;    /* fut_callback0, fut_callbacks */
    int cb_kind;          /* UW_CB_*: what cb0 was found to be, or 0 */
    size_t cb_len;        /* bytes of the callable's piece, from its type */
    uint64_t cb_type;     /* the callable's type ... */
    uint64_t cb_word;     /* ... and its code (a function) or its object */
    uint64_t cb_set_type; /* a method's object's type (a set) */
    int cb_harmless;      /* the check read it so, in both copies, as the
                             Task's only callback */
} uw_task_work;

/* A Task's entry before a recovery round, put back when the round does
 * not keep it (recover.c). */
typedef struct uw__saved {
    size_t task;
    int keep; /* it is kept (so far) */
    uw_task_work w;
    char name[UW_TASK_NAME_MAX + 1];
} uw__saved;

/* The middle group of the first check's read (check.c, "The loop's stack
 * between the copies"): the threads read so (their sample index), their
 * pieces in a first and a second copy of each window, and each one's loop
 * epoch read before the first window and after each (window w lies
 * between epoch readings w and w + 1). */
typedef struct uw__pure_mid {
    size_t n_th, n; /* threads, pieces of one copy */
    size_t th[UW_PURE_THREADS];
    uint64_t ev[UW_PURE_WINDOWS + 1][UW_PURE_THREADS];
    uw_iov ec[UW_PURE_WINDOWS + 1][UW_PURE_THREADS];
    uint8_t kind[UW_PURE_PIECES];
    size_t owner[UW_PURE_PIECES], ref[UW_PURE_PIECES];
    uw_iov a[UW_PURE_WINDOWS][UW_PURE_PIECES], b[UW_PURE_WINDOWS][UW_PURE_PIECES];
    uint8_t stands[UW_PURE_THREADS]; /* a recovery round's: the idle stack stood */
    uint8_t bytes_a[UW_PURE_WINDOWS][UW_PURE_PIECES * UW_PURE_FRAME_BYTES];
    uint8_t bytes_b[UW_PURE_WINDOWS][UW_PURE_PIECES * UW_PURE_FRAME_BYTES];
} uw__pure_mid;

typedef struct uw__snap uw__snap;

struct uw_tasks {
    uw_unwinder *u;
    uw_reader *r;            /* the sample's reader (the snapshot's during the first chain read) */
    uw__snap *snap;          /* snapshot.c, made at its first use */
    uw__snap *snap_round;    /* snapshot.c: recovery rounds' (uw__snap_round_begin) */
    uw__resume_slot *resume; /* resume.c: UW_RESUME_SLOTS, made at first use */
    size_t n_resume_used, n_resume_read; /* resume.c: in sc.rs_used, sc.rs_read */
    uint64_t resume_recalled;            /* resume.c: RESUMEs taken remembered, ever (tests) */
    const uw_target *t;
    const uw_layout *l;
    const uw_asyncio_layout *al;
    uw_pyctx pc;
    uw_task_options opt;
    uint64_t root;
    uw_type_verdict types[UW_TYPE_CACHE];
    size_t n_types;
    /* the registry's sets (scheduled or the root, eager) as last read */
    uw_set_guess reg_guess[2];
    uint64_t bad_types[UW_TYPE_BAD]; /* this sample's, a ring */
    size_t n_bad_types;
    uw_dict_slot loop_slot[UW_LOOP_SLOTS]; /* 3.11/3.12: where each thread
                                            * dict keeps its running loop */
    size_t loop_slot_next;
    uw_registry reg[UW_REGISTRY_CACHE];
    size_t n_reg;
    uint64_t reg_clock; /* discoveries so far: which entries this sample uses */
    uw_link *links;     /* the API table */
    size_t n_links, cap_links;
    size_t *link_slot; /* its index: (child, kind) -> link + 1 (links.c) */
    size_t link_mask;
    uw_link *hook;                  /* read from the target this sample */
    size_t n_hook;                  /* t->hook is sc.hook_links' storage */
    uint64_t hook_area, hook_start; /* the count word and records, as read */
    size_t hook_len;                /* (sc.hook), 0 if none */
    int hook_unknown;               /* they changed during the check */
    int hook_cut;                   /* more records than UW_LIMIT_LINK_RECORDS */
    uw__epochs epochs;
    uw__scratch sc;
    uw_task_work *work; /* sc.work's storage, sorted by address */
    size_t n_work;
    size_t n_work_addr;      /* entries of sc.work_addr: n_work once they are made */
    size_t work_mask;        /* slots of sc.work_slot in use, less one (a power of two) */
    size_t n_cf;             /* coroutine frames of all chains ... */
    size_t n_cf_live;        /* ... less those moved chains left behind */
    uint64_t cf_compactions; /* times the chains were squeezed (every
                              * chain may have moved; chains.c) */
    uw_sample again;         /* threads walked a second time in this sample */
    int second_round;
    uw_task_epoch ep[UW_TASK_EPOCHS];
    size_t n_ep;
    uw__pure_mid mid;                 /* check.c: the loop's stack between the copies */
    uw__lists ls;                     /* 3.14+ */
    size_t n_gnode, n_gitems;         /* gather.c */
    size_t n_gclaimed;                /* items lists were cut to, read or not
                                       * (UW_LIMIT_GATHER_ITEMS) */
    int gather_cut;                   /* a gather bound was hit: UW_ERR_LIMIT_GATHER */
    int ab_cut;                       /* 3.14+: awaiters past a bound were not read
                                         (awaited_by.c): UW_ERR_LIMIT_AWAITED_BY */
    int deps_cut;                     /* a round's pieces found no room: links of
                                       * Tasks left unread (UW_ERR_CAPACITY) */
    size_t n_dep, n_dep_bytes, n_kid; /* deps.c */
    size_t n_dep_indexed;             /* n_dep when last indexed (deps.c) */
    int aw_stage;                     /* gather.c: what is read next of what Tasks await */
    unsigned aw_rounds;               /* gather.c: gather rounds read so far */
    size_t ck_n;                      /* check.c: pieces of one copy */
    int ck_busy; /* check.c: an epoch moved by more than UW_VALIDATE_RETRY_MOVES in its last read */
    int recovering;   /* recover.c: names and the check take only the Tasks marked recheck */
    int round_idle;   /* recover.c: the round reads a Task shown on an idle loop's stack
                       * again, so its check is one read with the middle group */
    size_t busy_turn; /* recover.c: where the next capped round of a busy loop
                       * starts among its candidates (UW_RECOVER_BUSY_TASKS) */
    uint64_t round_hook_moved; /* check.c: a round could not compare the hook records
                                * with those decided (count moved, not read), in window
                                * j (bit j; bit 0 unwindowed) */
    size_t ck_nw;              /* check.c: windows of the last recovery check (0: read as one) */
    uint64_t chains_interp;    /* walk.c: the one interpreter of the sample's loops, 0 if not one */
    struct {                   /* chains.c: chains read, their frames not resolved yet */
        int on;                /* frames from `first` on wait for uw__chains_resolve */
        size_t first;          /* the first of them (all, if the chains were squeezed since) */
        uint64_t compactions;  /* cf_compactions when they were read */
        uint64_t interp;       /* the interpreter they are resolved against (0: by reading) */
        uint64_t serial;       /* uw__code_serial_last() before they were read */
        int late;              /* resolved after the check: code loaded since marks (code_late) */
    } unresolved;
    uint64_t walk_calls; /* walk.c: the sample's reads when the Task walk began ... */
    uint64_t calls0;     /* ... and the reader's count of calls then (uw__sample_reads) */
};

/* --- epoch.c ------------------------------------------------------------------- */

/* Register (counter != 0) or forget (counter 0) the epoch of a thread.
 * 0, or UW_ERR_INVALID_ARG for thread state 0. */
int uw__epoch_set(uw__epochs *t, uint64_t tstate, uint64_t loop, uint64_t counter);
/* tstate's entry if it names `loop` as a loop that calls its callbacks
 * from C, else NULL. */
uw__epoch_ent *uw__epoch_cloop(uw__epochs *t, uint64_t tstate, uint64_t loop);
/* The entry of thread tstate while its loop is `loop` and has a counter
 * (not a C loop), else NULL. */
uw__epoch_ent *uw__epoch_find(uw__epochs *t, uint64_t tstate, uint64_t loop);
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
/* The check's epoch entry of thread th_i (in t->ep), NULL if none or if
 * it is a C loop's: such a count proves no callback started (plain
 * callbacks leave it), only that no Task stepped, so nothing but the
 * chain check's own verdict may lean on it (uw__epoch_of_check). */
const uw_task_epoch *uw__epoch_of(const uw_tasks *t, size_t th_i);
/* The check's epoch entry of thread th_i, a C loop's included: whether a
 * Task of that loop stepped during the check. */
const uw_task_epoch *uw__epoch_of_check(const uw_tasks *t, size_t th_i);
/* Was thread th walked without its loop's epoch because of the bound:
 * more threads of the sample run a loop than UW_EPOCH_THREADS, so the
 * threads past it have no entry and their walks go without one?  Never
 * for a loop that calls its callbacks from C (it has no epoch at all). */
int uw__epoch_crowded(uw_tasks *t, const uw_sample *s, const uw_thread_sample *th);

/* --- split.c ------------------------------------------------------------------- */

/* The code classifier: Handle._run of asyncio/events.py. */
uint32_t uw__split_classify(const char *qualname, const char *filename);
/* The stable_from hook: the outermost Handle._run frame, -1 if none. */
int64_t uw__split_stable_from(void *ctx, const uw_frame *f, size_t n);
/* The code_role hook: Handle._run is the split's, asyncio's and
 * selectors' code the loop's own. */
int uw__split_code_role(void *ctx, const uw_code_info *code);
/* Thread th's frames in s (innermost first), or NULL when the sample
 * holds none: no pointer arithmetic on a NULL frame array. */
static inline const uw_frame *uw__thread_frames(const uw_sample *s, const uw_thread_sample *th)
{
    return s->frames != NULL ? s->frames + th->first_frame : NULL;
}

/* The frames a thread's loop runs now, f[0..top): above the outermost
 * Handle._run with the split, the whole stack without it. */
int64_t uw__split_top(const uw_tasks *t, const uw_thread_sample *th);
/* Innermost frame of the thread's pure Python stack (with no split, the
 * idle loop's: see split.c), -1 when not known. */
int64_t uw__split_pure_start(const uw_tasks *t, const uw_sample *s, const uw_thread_sample *th);
/* A thread whose loop calls its callbacks from C (th->loop_in_c), after
 * its Tasks were placed: its split from the running Task, the one
 * learnt before, or an idle loop (docs/tasks.md, "uvloop"). */
void uw__split_c_loop(uw_tasks *t, uw_sample *s, size_t th_i);

/* --- types.c ------------------------------------------------------------------- */

/* UW_KIND_* of a type (or a base, up to UW_LIMIT_TYPE_BASES), cached. */
int uw__type_kind(uw_tasks *t, uint64_t type);

/* --- callbacks.c ---------------------------------------------------------------- */

/* What a Task's only done callback was found to be (uw_task_work.cb_kind). */
enum { UW_CB_NONE = 0, UW_CB_RUN_UNTIL_COMPLETE, UW_CB_SET_METHOD, UW_CB_STREAM_CLOSE };
/* A callable's piece: its type word up to the word that tells what it is
 * (func_code, m_self), at most this many bytes (uw__layout_check_task_walk). */
#define UW_CALLABLE_PIECE 64

/* Before 3.14, before the check: mark each Task whose only done callback is
 * one no awaiter adds (cb_kind), for the check to read again.  0, or a
 * capacity error. */
int uw__callbacks_read(uw_tasks *t, const uw_sample *s);
/* The registry's _run_until_complete_cb (registry.c): found under that name
 * in mdict (asyncio.base_events'), a function; its type and code kept.  0,
 * or UW_ERR_NOMEM. */
int uw__callbacks_find_ruc(uw_tasks *t, uw_registry *g, uint64_t mdict);
/* The code of the stream server's per-connection callback (registry.c):
 * in mdict (asyncio.streams'), StreamReaderProtocol.connection_made's
 * constant code object named `callback`.  0, or UW_ERR_NOMEM. */
int uw__callbacks_find_stream(uw_tasks *t, uw_registry *g, uint64_t mdict);

/* --- plain.c ------------------------------------------------------------------- */

/* After the first check: mark each Task whose links moved and whose
 * fut_waiter at the check is a Future that holds no Task (waiter_plain),
 * read in one call while its loop's epoch stands.  0, or a capacity
 * error. */
int uw__plain_waiters(uw_tasks *t);
/* Where instances of gather type `type` keep `_children` (located on obj
 * the first time). */
int uw__type_gather_loc(uw_tasks *t, uint64_t type, uint64_t obj, uw_attr_loc *loc);
/* Forget it (the type's shared keys moved). */
void uw__type_forget_loc(uw_tasks *t, uint64_t type);

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
/* The index uw__task_find looks up, made once sc.work_addr is filled:
 * 0, or an error of the index's view. */
int uw__task_index(uw_tasks *t);

/* --- chains.c ------------------------------------------------------------------- */

/* Read the await chain of every active Task, appending to the coroutine
 * frames (from t->n_cf on). */
int uw__read_chains(uw_tasks *t);
/* Mark Task w's chain to be read again from its root. */
void uw__chain_again(uw_task_work *w);
/* Read the active chains and resolve their frames. */
int uw__read_and_resolve_chains(uw_tasks *t);
/* Read the active chains and leave their frames for uw__chains_resolve
 * (the sample's first chains: walk.c, resolved by the check after its
 * read, check.c); resolved at once when the read failed. */
int uw__read_chains_unresolved(uw_tasks *t);
/* Resolve the frames uw__read_chains_unresolved left, if any, and settle
 * the RESUMEs their chains took (uw__resume_settle). */
int uw__chains_resolve(uw_tasks *t);
/* Of the frames just left unresolved (the sample's first chains), those
 * of Tasks whose frames name a code object the cache has no entry for
 * are resolved now, the others wait for the check (late); all are
 * resolved now on a cold or full cache, without recovery or without
 * memory. */
int uw__chains_resolve_late(uw_tasks *t);
/* Reads the sample made so far: its thread walks', then the Task walk's. */
uint64_t uw__sample_reads(const uw_tasks *t);
/* recover.c: may a round of a busy loop read in one piece be begun once
 * the sample has made `reads` reads (UW_RECOVER_BUSY_READS)?  Is its
 * candidate ord of total read in the round that starts at turn (the
 * UW_RECOVER_BUSY_TASKS from turn on, round the list)? */
int uw__busy_round_may(uint64_t reads);
/* recover.c: may any round be begun once the sample has made `reads`
 * reads (UW_RECOVER_READS)? */
int uw__round_may(uint64_t reads);
int uw__busy_picked(size_t ord, size_t total, size_t turn);
/* Reserve the coroutine-frame views for n frames. */
int uw__cf_reserve(uw_tasks *t, size_t n);
/* Address of a Task's root coroutine frame, 0 when none was read. */
uint64_t uw__root_frame(const uw_tasks *t, const uw_task_work *w);

/* --- resume.c ------------------------------------------------------------------- */

/* The RESUME at `at` in code object `code`, for Task `task`'s chain: 1
 * and its two bytes in out when remembered for the entry the code cache
 * holds for `code` now (the use noted), else 0 (read it). */
int uw__resume_recall(uw_tasks *t, size_t task, uint64_t code, uint64_t at, uint8_t out[2]);
/* The RESUME at `at` in `code` was read for real as b: remembered, once
 * the sample's resolve validated its code object (uw__resume_settle). */
void uw__resume_read(uw_tasks *t, uint64_t code, uint64_t at, const uint8_t b[2]);
/* After the chain read's resolve: each use whose code object's entry did
 * not stay leaves its Task untrusted (resume_stale); each read is
 * remembered or dropped; none is noted after it. */
void uw__resume_settle(uw_tasks *t);
void uw__resume_free(uw_tasks *t);

/* --- snapshot.c ----------------------------------------------------------------- */

/* Serve the chain levels of this sample from one read of the pages the
 * last sample's levels read: t->r reads through the snapshot until
 * uw__snap_end.  0, or UW_ERR_NOMEM (nothing changed: read for real). */
int uw__snap_begin(uw_tasks *t);
/* The same for a recovery round's chains, from the pages of the chains
 * its Tasks were last read with (first: the sample's first round) or of
 * those the last round's levels read.  0, or UW_ERR_NOMEM. */
int uw__snap_round_begin(uw_tasks *t, int first);
void uw__snap_end(uw_tasks *t);
void uw__snap_free(uw_tasks *t);

/* What the last snapshot did (tests, benchmarks): the pages noted by the
 * sample before (at most UW_SNAP_PAGES) and read, the pages of missed
 * pieces read and added, the pieces served from them and the pieces
 * missed (read for real, or as pages added). */
typedef struct uw__snap_stats {
    size_t pages, pages_read, pages_grown;
    uint64_t served, missed;
} uw__snap_stats;
void uw__snap_stats_of(const uw_tasks *t, uw__snap_stats *out);

/* --- place.c -------------------------------------------------------------------- */

/* Place running Tasks on their thread stacks and apply the skip rules. */
int uw__place(uw_tasks *t, uw_sample *s);
/* Walk again the threads with a running Task not found, and place it. */
int uw__second_round(uw_tasks *t, uw_sample *s);

/* --- check.c -------------------------------------------------------------------- */

/* The chain check: every Task's span and links, and the chains and names
 * of those not skipped yet. */
int uw__check(uw_tasks *t, uw_sample *s);
/* Bytes of the Task span the check reads; size of a check piece's
 * descriptor (for scratch.c). */
size_t uw__check_span_len(const uw_asyncio_layout *al);
size_t uw__ckpiece_size(void);
/* Did thread th's walk meet its loop idle (no Handle._run), with a pure
 * stack to compose on? */
int uw__loop_idle_walk(const uw_thread_sample *th);
/* Can a recovery round's check read thread th_i's idle stack again (a
 * loop thread with a skeleton)?  Did the last round's find it standing,
 * the very stack the thread shows (rule recover_idle_stands)? */
int uw__idle_provable(uw_tasks *t, const uw_sample *s, size_t th_i);
int uw__round_idle_stands(const uw_tasks *t, size_t th_i);

/* --- recover.c ------------------------------------------------------------------ */

/* The Tasks the check skipped for a change (task_changed_while_read,
 * loop_stepped_while_read), read and checked again, up to opt.recover
 * rounds; those kept are counted in s->recovered.  0, or UW_ERR_NOMEM. */
int uw__recover(uw_tasks *t, uw_sample *s);
/* Is a recovery round's check read in windows (check.c)? */
int uw__recover_windows(const uw_tasks *t);

/* --- names.c -------------------------------------------------------------------- */

/* Every Task's name into the sample (and name_len). */
int uw__read_names(uw_tasks *t, uw_sample *s);
/* Decode a name object from o[0..len): 0 (out set), 1 when it needs *need
 * bytes, -1 when it is no name. */
int uw__name_decode(const uw_tasks *t, const uint8_t *o, size_t len, char *out, size_t cap,
                    size_t *need);

/* --- gather.c ------------------------------------------------------------------- */

/* What the Tasks marked links_todo await: their kids and dependencies. */
int uw__read_awaiting(uw_tasks *t);
/* The same in three calls, so that its reads can share another phase's
 * (the chain levels'): begin marks the waiters' types as the next step;
 * each uw__aw_readv reads iov view pieces [first, first + n) and, in the
 * same vectored read, the next step (queued after them, the view grown as
 * needed), and decodes that step; end reads the steps left on their own
 * and lists each Task's kids.  Between begin and end, nothing else may use
 * the dependencies or the gather nodes. */
enum { UW_AW_OFF = 0, UW_AW_WAITERS, UW_AW_ROUNDS, UW_AW_DONE };
void uw__awaiting_begin(uw_tasks *t);
int uw__aw_readv(uw_tasks *t, size_t first, size_t n);
int uw__awaiting_end(uw_tasks *t);

/* --- deps.c --------------------------------------------------------------------- */

int uw__deps_reserve(uw_tasks *t, size_t pieces, size_t bytes);
/* Append a dependency of Task `task` (room reserved): its bytes are read
 * into the dependency bytes (uw__dep_iov); `keys`: they are a dict keys
 * object's prefix (uw__dep_same). */
void uw__dep_add(uw_tasks *t, size_t task, uint64_t addr, size_t len, int keys);
/* Do bytes x (as long as dependency d) read as d did, but for what moves
 * in place without changing what a link was decided from (a keys
 * object's reference count and version tag)?  `was` is what x is
 * compared with: d's bytes as read, or another copy. */
int uw__dep_same(const uw_tasks *t, size_t d, const uint8_t *x, const uint8_t *was);
uw_iov uw__dep_iov(uw_tasks *t, size_t d);
uint8_t *uw__dep_bytes(uw_tasks *t, size_t d);
const uw__dep *uw__dep_get(const uw_tasks *t, size_t d);
/* Forget Task task's dependencies. */
void uw__deps_drop(uw_tasks *t, size_t task);
/* Sort them by Task: first_dep, n_dep of every Task. */
void uw__deps_index(uw_tasks *t);
/* Task `task` awaits Task `kid` (appended to its range). */
int uw__kid_add(uw_tasks *t, size_t task, size_t kid);

/* --- edges.c (for recover.c) ----------------------------------------------------- */

/* Do Task w's awaiting edges, as uw__edges would make them now, include
 * Task x (work index)?  1 yes, 0 no, -1 not known (its fut_waiter at the
 * check is not). */
int uw__awaits_task(const uw_tasks *t, const uw_task_work *w, size_t x);
/* uw__awaits_task for every x at once: 1 when it answers -1 (not known)
 * for some x outside the Tasks it names; else 0, and the Tasks for which
 * it answers 1 are *one (a work index, or -1) and, when *kids is set, its
 * kids; for every other x it answers 0. */
int uw__awaits_named(const uw_tasks *t, const uw_task_work *w, int64_t *one, int *kids);
/* Is Task w awaited by nothing at its check, by what its own span read
 * (edges.c)?  Trusted for skips and for recovery alike. */
int uw__awaited_by_none(const uw_tasks *t, const uw_task_work *w);
/* From 3.14: does Task w's awaited_by, read alike in both copies of its
 * check, name one Task of the sample, not a set (edges.c)?  Then that
 * Task is its only awaiter. */
int uw__one_named_awaiter(const uw_tasks *t, const uw_task_work *w);

/* --- emit.c --------------------------------------------------------------------- */

/* Each Task's entry (state, skip, own frames) into the sample. */
int uw__emit_tasks(uw_tasks *t, uw_sample *s);

/* --- edges.c -------------------------------------------------------------------- */

/* After the check: Tasks whose awaiter may have changed unseen are
 * skipped (awaiter_unknown). */
void uw__awaiting_verdict(uw_tasks *t);
/* Awaiting edges, strong and creation links and parents of the sample's
 * Tasks. */
int uw__edges(uw_tasks *t, uw_sample *s);

/* --- links.c -------------------------------------------------------------------- */

/* The links of the target's hook module buffer into t->hook, the area
 * they were read from kept for the check. */
int uw__read_hook_links(uw_tasks *t, uint64_t bytearray);
/* The links of `count` records at p (of the buffer at start) into t->hook. */
int uw__hook_parse(uw_tasks *t, const uint8_t *p, uint64_t count, uint64_t start);

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
 * Tasks of the sample; a bound met is s's awaited_by_limit. */
int uw__awaited_by_read(uw_tasks *t, uw_sample *s);
/* Append to s->awaiting the Tasks that record Task i as their awaiter and
 * are not among its edges from `first` on yet. */
int uw__awaited_by_edges(uw_tasks *t, uw_sample *s, size_t i, size_t first);

#endif /* TORNSTACK_TASKS_INT_H */
