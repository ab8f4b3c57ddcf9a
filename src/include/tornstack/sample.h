/*
 * sample.h — one sample of a process: its threads and their frames, its
 * asyncio Tasks and their links.
 *
 * A plain value: no pointer into target memory.  Both walks fill it: the
 * thread walk (unwind.h) its threads and frames, the Task walk (tasks.h)
 * its Tasks, links and skips, and each thread's pure Python stack.  Frames
 * point at code objects as read (uw_code_info), which live in the
 * unwinder's code cache and stay valid until the unwinder takes its next
 * sample.  Sizes are bounded by the named limits (threads, frames).
 */
#ifndef TORNSTACK_SAMPLE_H
#define TORNSTACK_SAMPLE_H

#include <stddef.h>
#include <stdint.h>

/* Fields that identify a code object, parsed from its fixed part. */
typedef struct uw_code_ident {
    uint64_t type;
    uint64_t name, qualname, filename, linetable;
    int32_t firstlineno;
    int32_t firsttraceable;
    int64_t units; /* bytecode length in code units */
} uw_code_ident;

#define UW_CODE_NAME_TRUNCATED 1u /* qualname or filename was cut */
#define UW_CODE_SHIM 4u           /* 3.12's <interpreter trampoline> (never shown) */
#define UW_CODE_CLASSES 0xff00u   /* set by the Task walk's classifier (e.g. Handle._run) */

/* Lines remembered per code object (uw_code_info.memo_*). */
#define UW_CODE_LINE_MEMO 4

/* A code object as read from the target: its address, identity, names and
 * location table.  Owned by the unwinder's code cache (the fields after
 * `flags` are the cache's bookkeeping). */
typedef struct uw_code_info {
    uint64_t addr;
    uw_code_ident id;
    char *qualname;
    char *filename;
    uint8_t *linetable;
    size_t linetable_len;
    uint32_t flags;
    uint32_t stamp; /* sample in which it was last validated */
    /* 3.14+: validated by reading it after the code-object generation of
     * interpreter gen_interp read gen (0: no such record): while that
     * counter still reads gen, no code object was freed since, so this one
     * is still at addr (resolve.c) */
    uint64_t gen_interp, gen;
    uint64_t serial; /* unique per load in this process (0: not from a cache):
                      * an entry reloaded at the same place gets a new one */
    /* the last lines looked up (uw__code_line): a coroutine function of
     * many Tasks stands at several awaits in one sample */
    int64_t memo_index[UW_CODE_LINE_MEMO];
    int memo_line[UW_CODE_LINE_MEMO];
    unsigned memo_next;
    struct uw_code_info *next_overflow;
} uw_code_info;

#define UW_FRAME_GENERATOR 1u      /* frame owned by a generator/coroutine */
#define UW_FRAME_NAME_TRUNCATED 2u /* qualname or file name was cut */

typedef struct uw_frame {
    const uw_code_info *code; /* qualname, filename */
    uint64_t addr;            /* frame address in the target */
    int32_t line;             /* -1 when unknown */
    uint32_t flags;
} uw_frame;

typedef struct uw_thread_sample {
    uint64_t tstate;
    uint64_t interp;       /* interpreter address */
    uint64_t tstate_dict;  /* tstate->dict (3.11/3.12 running loop lives there) */
    uint64_t running_loop; /* asyncio loop running on this thread, 0 if none */
    uint64_t running_task; /* 3.14+: the thread state's running Task, 0 if none */
    int64_t split;         /* the stable frame the Task walk named: its outermost
                            * Handle._run, -1 (or no Task walk) */
    int64_t pure_start;    /* first frame of the pure Python stack (Task walk) */
    uint64_t thread_id;
    uint64_t native_id;
    int64_t interp_id;
    size_t first_frame;       /* index into uw_sample.frames */
    size_t n_frames;          /* innermost first */
    int truncated;            /* 0, or the code that cut the walk short */
    uint32_t retries;         /* walks retried after a torn read */
    uint64_t epoch_loop;      /* loop whose epoch bracketed the walk, 0 if none */
    int top_dropped;          /* frames above the split changed during the walk and
                               * were dropped; the pure Python stack is kept */
    uint64_t epoch;           /* the bracket counter's value through the walk
                               * (when epoch_loop != 0) */
    uint64_t current_frame;   /* the current-frame pointer the walk started from */
    uint64_t shown_top;       /* the first frame the walk met that is not an entry
                               * frame (owned by the C stack or the interpreter,
                               * never shown): current_frame, or the frame below
                               * the entry frame a returning frame left current
                               * for an instant; 0 if none */
    uint64_t shown_top_instr; /* that frame's instruction pointer, as the walk
                               * read it */
    uint64_t cframe;          /* 3.11/3.12: the _PyCFrame it was read through, else 0 */
    int anchored;             /* the loop's epoch moved under the walk: its frames
                               * above the split were dropped and the split
                               * rootward kept, the split's caller (asyncio's
                               * _run_once) read at the call that makes the split
                               * frame (src/unwind/recheck.c); no frame the walk
                               * shows belongs to a callback running now */
    int loop_in_c;            /* the running loop calls its callbacks from C (uvloop):
                               * 1, the Task walk placed the split itself (th->split,
                               * or none known: pure_start -1); 2, no callback ran
                               * (the whole stack is the loop's); 0 otherwise */
} uw_thread_sample;

/* Task names are cut at this many bytes (CPython's own reader: 255). */
#define UW_TASK_NAME_MAX 255
/* Reason codes are small negative numbers; skip counts are indexed by -code
 * (error.c asserts that every code has its slot). */
#define UW_REASON_SLOTS 96

typedef struct uw_task_sample {
    uint64_t addr; /* the Task object (JSON "id") */
    uint64_t coro; /* its root coroutine */
    uint64_t loop;
    uint64_t coro_frame; /* address of the root coroutine's frame */
    size_t thread;       /* index of the thread running its loop */
    char name[UW_TASK_NAME_MAX + 1];
    const uw_code_info *coro_code;     /* root coroutine's code (qualname) */
    size_t first_frame, n_frames;      /* own frames in uw_sample.frames, innermost first */
    size_t first_awaiting, n_awaiting; /* indices into uw_sample.awaiting */
    int64_t awaited_by;                /* task index awaiting it (read from memory), -1 */
    int64_t linked_to;                 /* strong link (gather, wait, shield, TaskGroup...), -1 */
    int64_t created_by;                /* creation link, -1 */
    int64_t parent;                    /* awaited_by, else linked_to, else created_by */
    int running;                       /* root coroutine executing */
    int skipped;                       /* 0, or the reason the Task's stack is not given */
    int label_unknown;                 /* skipped, and nothing vouches for its name and
                                        * root coroutine (a name read from one Task and the
                                        * coroutine from another at its address would be a
                                        * leak): name "", coro_code NULL, running 0,
                                        * truncated 0, no links; shown as unknown */
    int truncated;                     /* 0, or why its frames stop early */
} uw_task_sample;

typedef struct uw_sample {
    uw_thread_sample *threads;
    size_t n_threads, cap_threads;
    uw_frame *frames;
    size_t n_frames, cap_frames;
    uw_task_sample *tasks;
    size_t n_tasks, cap_tasks;
    size_t *awaiting; /* task indices */
    size_t n_awaiting, cap_awaiting;
    int truncated;                          /* 0, or why not every thread was visited */
    int tasks_error;                        /* 0, or why Tasks could not be enumerated, or the first
                                             * bound that cut what was read of them (task_limit,
                                             * gather_limit, link_limit, awaited_by_limit,
                                             * registry_limit: more interpreters with loops in
                                             * one sample than the registry cache, dict_limit) */
    uint32_t skips[UW_REASON_SLOTS];        /* skipped Tasks per reason (-code) */
    uint32_t thread_skips[UW_REASON_SLOTS]; /* threads whose Tasks were all skipped */
    uint32_t recovered[UW_REASON_SLOTS];    /* Tasks the chain check found moved, kept after
                                             * they were read and checked again, per the
                                             * reason they would have been skipped for */
    uint64_t calls, bytes;                  /* reads this sample cost */
} uw_sample;

void uw_sample_init(uw_sample *s);
void uw_sample_free(uw_sample *s);
void uw_sample_reset(uw_sample *s);
/* A new thread record for thread state `tstate` of interpreter `interp`
 * (id `interp_id`), its frames starting at the sample's next frame. */
int uw_sample_add_thread(uw_sample *s, uint64_t tstate, uint64_t interp, int64_t interp_id,
                         uw_thread_sample **out);
int uw_sample_add_frame(uw_sample *s, const uw_frame *f);
/* Append n frames at once. */
int uw_sample_add_frames(uw_sample *s, const uw_frame *f, size_t n);
int uw_sample_add_task(uw_sample *s, uw_task_sample **out);
int uw_sample_add_awaiting(uw_sample *s, size_t task_index);
/* Brent's cycle detection over a chain of addresses: feed each address
 * after the first (uw_brent_init takes the first); 1 means the chain came
 * back to an address it had visited. */
typedef struct uw_brent {
    uint64_t tortoise;
    size_t power, lam;
} uw_brent;

static inline void uw_brent_init(uw_brent *b, uint64_t first)
{
    b->tortoise = first;
    b->power = 1;
    b->lam = 0;
}

static inline int uw_brent_cycle(uw_brent *b, uint64_t next)
{
    if (next == b->tortoise)
        return 1;
    if (++b->lam == b->power) { /* the tortoise jumps to the hare */
        b->tortoise = next;
        b->power *= 2;
        b->lam = 0;
    }
    return 0;
}

/* Skip count slot of a reason code (0 for codes out of range). */
static inline size_t uw_reason_slot(int code)
{
    return code < 0 && code > -UW_REASON_SLOTS ? (size_t)-code : 0;
}

static inline const char *uw_frame_name(const uw_frame *f)
{
    return f->code != NULL && f->code->qualname != NULL ? f->code->qualname : "?";
}

static inline const char *uw_frame_file(const uw_frame *f)
{
    return f->code != NULL && f->code->filename != NULL ? f->code->filename : "?";
}

#endif /* TORNSTACK_SAMPLE_H */
