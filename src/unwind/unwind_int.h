/*
 * unwind_int.h — the thread walk's private header: the unwinder object and
 * one section per file of src/unwind/.
 *
 * How one sample runs through these files:
 *
 *   threads.c   the interpreters and each one's threads, from _PyRuntime;
 *               for each thread:
 *   thread.c    the walk of one thread: one vectored read of the thread's
 *               current-frame pointer, live chunk, prefetched pieces and
 *               next thread state; the frame chain; the end checks; the
 *               retries of a torn walk;
 *   chain.c     a frame chain: collect (follow `previous`), resolve (code
 *               objects, resolve.c), emit (frames into the sample);
 *   chunks.c    where collect finds a frame: the chunk copies, prefetched
 *               frames, older chunks copied on demand, or a direct read;
 *   prefetch.c  per thread, what its last walk read outside its chunk, read
 *               again in the next walk's first vectored read;
 *   resolve.c   code objects validated against the cache in one read;
 *   recheck.c   every visited frame read again at the end: the walk stands
 *               only if they read back equal (within the bracket of the
 *               Task walk's hooks, from the stable frame rootward);
 *   idle.c      a thread that has not run since its last complete walk
 *               (the reader's run clock) is shown as that walk, unread;
 *   quiet.c     a process none of whose threads ran since the last
 *               sample began shows that sample's threads, nothing read;
 *   unwinder.c  the object itself: creation, the buffers, the hooks.
 *
 * Frame fields are decoded only by src/internal/frame.h.
 */
#ifndef TORNSTACK_UNWIND_INT_H
#define TORNSTACK_UNWIND_INT_H

#include <stddef.h>
#include <stdint.h>

#include "internal/code_cache.h"
#include "internal/frame.h"
#include "internal/layout.h"
#include "internal/unwinder.h"
#include "tornstack/limits.h"
#include "tornstack/unwind.h"

/* Largest thread state and frame copied into fixed buffers (3.15's
 * _PyThreadStateImpl is 1104 bytes, and the Task walk's fields lie in it);
 * the layout check at attach refuses a table whose thread state or offsets
 * do not fit (layout_check.c). */
#define UW_TSTATE_BUF 1536
#define UW_FRAME_BUF 128
/* Split callers remembered (recheck.c): a loop thread's _run_once each. */
#define UW_SPLIT_SITES 16
/* Verdicts kept on where the split's caller stood (call_site.c): its
 * handle calls, popleft and select, per loop thread. */
#define UW_CALL_SITES 32
/* Bytes of a method's name a call-site verdict keeps (call_site.c); a
 * longer name is kept as unknown.  asyncio's longest is 26. */
#define UW_CALL_NAME 39
/* Walks taken again because the last one met _run_once between two
 * callbacks (thread.c), within UW_THREAD_RETRIES. */
#define UW_BETWEEN_RETRIES 2

/* Speculative prefetch: what a thread's walk read outside its current
 * chunk last time (C-stack entry frames, generator frames, older chunks,
 * code objects) is read again, by address, in the same vectored call as
 * the thread's chunk.  A stale address costs one failed piece; a frame or
 * code object at the same address is fresh data read in this sample, so
 * correctness never depends on the guess.  Threads, frames and codes
 * remembered at most: */
#ifndef UW_PF_THREADS
#define UW_PF_THREADS 64
#endif
/* Pages a walk reads whole when a frame is found nowhere else (chunks.c):
 * the frames of one coroutine chain share pages. */
#ifndef UW_WALK_PAGES
#define UW_WALK_PAGES 8
#endif
#define UW_WALK_PAGE 4096u

#ifndef UW_PF_FRAMES
#define UW_PF_FRAMES 32
#endif
#ifndef UW_PF_CODES
#define UW_PF_CODES 256
#endif

/* With a depth limit, collect stops once that many generator frames (never
 * hidden) were recorded, or the limit plus this many records of any kind:
 * enough to fill the limit after incomplete frames are skipped. */
#define UW_DEPTH_SLACK 8

/* Pieces of a thread's first vectored read: epoch, current-frame pointer,
 * chunk, next thread state, plus the prefetched chunks, frames and codes. */
#define UW_WALK_IOV (6 + UW_LIMIT_CHUNKS + UW_PF_FRAMES + UW_PF_CODES)
/* Pieces of the re-read: the current-frame pointer (two on 3.11/3.12),
 * every visited frame, the chunk, the pointer again, the epoch, the
 * outer eval loop's current frame and the nested cframe's two words
 * (3.11/3.12, a nested cframe). */
#define UW_RECHECK_IOV (UW_LIMIT_FRAMES + 9)

/* Threads whose last complete walk is kept (idle.c). */
#ifndef UW_IDLE_THREADS
#define UW_IDLE_THREADS 64
#endif

typedef struct uw_idle {
    uint64_t ts;   /* thread state (0: free entry) */
    uint64_t tid;  /* native id whose run clock is read (0: none yet) */
    uint64_t now;  /* its run clock, read at the start of this sample */
    int now_ok;    /* ... when that reading was had */
    int kept;      /* a walk is kept: */
    uint64_t base; /* the run clock read before its first read */
    uint32_t met;  /* idle_sample in which the thread was last met */
    uint32_t depth;
    uint64_t code_frees; /* the code cache's `frees` when kept */
    uw_thread_sample th;
    uw_frame *frames;
    uw_code_info **codes; /* each frame's cache entry (NULL: none) */
    size_t n_frames, cap;
    uint8_t tstate[UW_TSTATE_BUF]; /* the thread state it started from */
} uw_idle;

/* Threads of the process whose run clocks quiet.c reads (Python's or
 * not); a process with more is never taken as quiet. */
#ifndef UW_QUIET_THREADS
#define UW_QUIET_THREADS 64
#endif

/* Samples after a listing that gave no base before the next. */
#define UW_QUIET_LIST_WAIT 8

typedef struct uw_quiet {
    uint64_t tid[UW_QUIET_THREADS]; /* every thread of the process, last listed */
    uint64_t now[UW_QUIET_THREADS]; /* this sample's readings */
    uint64_t prev[UW_QUIET_THREADS], base[UW_QUIET_THREADS];
    uint8_t prev_ok[UW_QUIET_THREADS];
    size_t n;
    int off;       /* too many threads, or no listing: never quiet */
    int candidate; /* this sample's readings may become the base */
    int base_ok;
    unsigned wait; /* samples before the next listing */
    struct {
        uint64_t ts, interp;
        int64_t interp_id;
    } saved[UW_IDLE_THREADS]; /* the base sample's threads, in order */
    size_t n_saved;
    int saved_truncated;
    uint64_t shown; /* samples served so (benchmarks) */
} uw_quiet;

typedef struct uw_chunk_copy {
    uint64_t addr;
    size_t len;
    uint8_t *buf;
    size_t cap;
    uint64_t pf_addr; /* prefetched into buf this walk, 0 if not */
    size_t pf_len;
    int pf_ok;
} uw_chunk_copy;

/* One frame collect kept: where it is and what resolve and emit need. */
typedef struct uw_frame_rec {
    uint64_t addr, code, ip;
    uw__owner owner;
    int err; /* set by resolve: the code object's problem, 0 if none */
} uw_frame_rec;

/* What one thread's walk read outside its chunk (prefetch.c). */
typedef struct uw_prefetch {
    uint64_t tstate;
    uint32_t n_frames, n_codes, n_chunks;
    uint64_t frames[UW_PF_FRAMES];
    uint64_t codes[UW_PF_CODES];
    uint64_t chunks[UW_LIMIT_CHUNKS];
    uint64_t chunk_len[UW_LIMIT_CHUNKS];
} uw_prefetch;

/* call_site.c: what instruction ip of one load (serial) of a code object
 * is: a method call without arguments (method), named name ("": unknown). */
typedef struct uw__call_verdict {
    uint64_t serial, ip;
    int method;
    char name[UW_CALL_NAME + 1];
} uw__call_verdict;

struct uw_unwinder {
    uw_reader *r;
    uw_target t;
    const uw_layout *l;
    uw_code_cache cache;
    uint32_t max_depth;
    uw__walk_hooks hooks; /* the Task walk's, if has_hooks */
    int has_hooks;

    /* chunks.c: chunk copies of the thread being walked; buffers kept
     * across walks. */
    uw_chunk_copy chunks[UW_LIMIT_CHUNKS];
    size_t n_chunks;     /* valid copies */
    uint64_t last_plain; /* last frame of the walk in a data stack (owner thread) */
    uint64_t last_frame; /* last frame the walk read (3.15: the base frame) */
    uint64_t cur_ts;     /* the thread state being walked (its copy: tstate) */
    uint64_t next_chunk; /* older chunk not yet copied, 0 if none */
    /* pages read whole by this walk (chunks.c), and whether one failed */
    uint64_t wp_page[UW_WALK_PAGES];
    uint8_t wp_buf[UW_WALK_PAGES][UW_WALK_PAGE];
    size_t wp_n;
    int wp_off;

    /* prefetch.c: prefetch memory per thread, and this walk's prefetched
     * pieces. */
    uw_prefetch pf[UW_PF_THREADS];
    size_t pf_next;           /* round-robin replacement */
    uw_prefetch pf_new;       /* what this walk reads out of chunk */
    size_t pf_n_chunk_pieces; /* older chunks queued into this walk's read */
    uint64_t pf_frame_addr[UW_PF_FRAMES];
    int pf_frame_ok[UW_PF_FRAMES];
    uint8_t pf_frame_buf[UW_PF_FRAMES][UW_FRAME_BUF];
    size_t pf_n_frames;
    uint64_t pf_code_addr[UW_PF_CODES];
    int pf_code_ok[UW_PF_CODES];
    size_t pf_n_codes;

    /* threads.c: speculative roots, last sample's first interpreter and
     * thread. */
    uint64_t last_interp, last_tstate;

    /* chain.c */
    uw_frame_rec recs[UW_LIMIT_FRAMES];

    /* recheck.c: every frame a thread walk visited, as read, and as read
     * again. */
    uint64_t visited[UW_LIMIT_FRAMES];
    uint8_t *visited_bytes, *recheck_bytes; /* UW_LIMIT_FRAMES x UW_FRAME_BUF */
    size_t n_visited;
    /* The split's caller (asyncio's _run_once) at the call that made the
     * split frame, as walks that proved the whole stack one instant's
     * read it: its frame, code and instruction (recheck.c), the newest
     * first, at most UW_SPLIT_SITES. */
    struct {
        uint64_t frame, code, ip;
    } split_site[UW_SPLIT_SITES];
    size_t n_split_sites;
    /* call_site.c: verdicts on instructions of the split's caller, by code
     * cache load (serial) and instruction, at most UW_CALL_SITES. */
    uw__call_verdict call_site[UW_CALL_SITES];
    size_t n_call_sites, next_call_site;
    uint8_t *recheck_chunk; /* the current chunk, read again */
    size_t recheck_cap;
    uw_iov recheck_iov[UW_RECHECK_IOV];

    /* resolve.c: the first UW_PF_CODES slots of code_buf hold prefetched
     * code objects, the rest one batch of UW_LIMIT_FRAMES. */
    uint64_t batch_addr[UW_LIMIT_FRAMES];
    uw_iov batch_iov[UW_LIMIT_FRAMES];
    uint64_t load_addr[UW_LIMIT_FRAMES]; /* entries to load, together */
    uw_code_ident load_id[UW_LIMIT_FRAMES];
    int load_rc[UW_LIMIT_FRAMES];
    uint8_t *code_buf;
    /* resolve.c: the code objects settled in the current uw__resolve call
     * (queued to be read or loaded, or failed), a set by open addressing
     * whose slots count as empty unless stamped with queued_now: a call
     * starts with an empty set without clearing it.  At most
     * UW_LIMIT_FRAMES keys a call, so it is never more than half full. */
    uint64_t queued_key[2 * UW_LIMIT_FRAMES];
    uint32_t queued_stamp[2 * UW_LIMIT_FRAMES];
    uint32_t queued_now;
    /* thread.c, resolve.c, recheck.c (3.14+): the code-object generation
     * of the walked thread's interpreter, read before anything else of the
     * walk (gen_trust: that read succeeded, and uw__resolve may take an
     * entry validated after the same value as validated now), and read
     * again after the walk's last read (gen_confirmed: the same value).
     * Off outside thread walks (the Task walk reads its code objects
     * later, unbracketed). */
    uint64_t gen_addr, gen_interp, gen_value, gen_again;
    int gen_trust, gen_confirmed;
    /* the entries so taken in this walk, and the stamps they had: a walk
     * that took any and is not confirmed is incomplete, and gives them
     * back, so that its retry reads them */
    uw_code_info *gen_taken[UW_LIMIT_FRAMES];
    uint32_t gen_taken_stamp[UW_LIMIT_FRAMES];
    size_t n_gen_taken;

    /* thread.c */
    uw_iov walk_iov[UW_WALK_IOV];
    size_t tstate_len; /* bytes of a thread state read (covers 3.13's running loop) */
    uint8_t tstate[UW_TSTATE_BUF];
    uint8_t tstate_next[UW_TSTATE_BUF];
    int tstate_next_ok;
    /* The last walk started at a pointer that was no frame of its eval
     * loop (a nested cframe's current frame not set yet); with
     * walk_outer, the next walk starts at the outer eval loop's frame. */
    int walk_garbage, walk_outer;
    /* The last walk was complete, met no split, and its top frame is a
     * split caller's (recheck.c): asyncio's _run_once between two
     * callbacks, whose stack will have moved on by the Task walk's check;
     * another walk may meet a callback (at most UW_BETWEEN_RETRIES). */
    int walk_between;
    /* Extra walks the sample's thread walks may still make (threads.c:
     * UW_SAMPLE_RETRIES at each sample's start). */
    unsigned walks_left;

    /* idle.c: kept walks; on while uw_unwind_threads walks its list */
    uw_idle idle[UW_IDLE_THREADS];
    size_t idle_hi; /* entries from here on are free */
    uint32_t idle_sample;
    int idle_on;
    uint64_t idle_shown; /* threads shown from a kept walk (benchmarks) */
    /* quiet.c */
    uw_quiet quiet;
};

/* --- thread.c ----------------------------------------------------------------- */

/* Walk the thread whose state was just read into u->tstate (from address
 * ts), retrying a torn walk up to `retries` times, each retry also one of
 * the sample's u->walks_left; the thread is appended to s. */
int uw__walk_thread(uw_unwinder *u, uint64_t ts, uint64_t interp, int64_t interp_id, uw_sample *s,
                    unsigned retries);

/* The hooks' bracket counter of thread ts (0: none), its tag in *tag. */
uint64_t uw__walk_bracket(uw_unwinder *u, uint64_t ts, uint64_t *tag);
/* The hooks' stable frame of th's frames in s, -1 if none. */
int64_t uw__walk_stable_from(uw_unwinder *u, const uw_sample *s, const uw_thread_sample *th);

/* --- idle.c ------------------------------------------------------------------- */

/* A sample's walk of the thread list begins: the run clock of every kept
 * thread is read now, before the sample's first memory read. */
void uw__idle_begin(uw_unwinder *u);
/* ... and ends: walks made later neither use nor keep a kept one. */
void uw__idle_end(uw_unwinder *u);
/* Thread ts (its state in u->tstate) into s: its kept walk when it has
 * not run since, else a walk (uw__walk_thread), kept when complete. */
int uw__idle_walk(uw_unwinder *u, uint64_t ts, uint64_t interp, int64_t interp_id, uw_sample *s);
/* Free the kept walks' frames. */
void uw__idle_free(uw_unwinder *u);
/* The entry of thread state ts (0: a free one), or NULL. */
uw_idle *uw__idle_find(uw_unwinder *u, uint64_t ts);
/* May e's kept walk stand for thread ts when it did not run: kept, the
 * same depth limit, no code-cache entry freed since, no bracket now. */
int uw__idle_usable(uw_unwinder *u, const uw_idle *e, uint64_t ts);
/* Show e's kept walk as thread ts's entry of s (its code entries marked
 * validated in this sample): for a thread known not to have run. */
int uw__idle_show(uw_unwinder *u, uw_idle *e, uint64_t ts, uint64_t interp, int64_t interp_id,
                  uw_sample *s);

/* --- quiet.c ------------------------------------------------------------------ */

/* Before any read of the sample: when no thread of the process ran since
 * the base's readings, s gets the base sample's threads again (1); else 0
 * (the readings may make this sample the next base), or an error. */
int uw__quiet_begin(uw_unwinder *u, uw_sample *s);
/* After the sample's threads were walked: it becomes the base when its
 * readings allowed one and every thread's walk is kept. */
void uw__quiet_end(uw_unwinder *u, const uw_sample *s);

/* --- chain.c ------------------------------------------------------------------ */

/* Collect, resolve and emit the chain from frame `first` into s for th. */
int uw__walk_chain(uw_unwinder *u, uint64_t first, uint32_t max_depth, uw_sample *s,
                   uw_thread_sample *th);

/* --- chunks.c ----------------------------------------------------------------- */

/* Grow a chunk copy's buffer to len bytes. */
int uw__chunk_reserve(uw_chunk_copy *c, size_t len);
/* Forget this walk's chunk copies and prefetched pieces. */
void uw__walk_reset(uw_unwinder *u);
/* The current chunk [chunk, chunk + len) was read into chunks[0].buf. */
void uw__chunk_set_current(uw_unwinder *u, uint64_t chunk, size_t len);
/* Copy of the frame at addr into out (frame_size bytes). */
int uw__frame_get(uw_unwinder *u, uint64_t addr, uint8_t *out);
/* Is addr the frame embedded in the walked thread's state (3.15's base
 * frame), whose copy came with the thread state? */
int uw__frame_in_tstate(const uw_unwinder *u, uint64_t addr);
/* Did the walk of thread ts end where a complete walk ends: at the first
 * frame of its root chunk (data[1]), and on 3.15 at the thread state's base
 * frame?  1 yes or no chunk to tell, 0 no. */
int uw__walk_ended_at_root(const uw_unwinder *u, uint64_t ts);

/* --- prefetch.c --------------------------------------------------------------- */

/* The prefetch entry of thread state ts (a fresh one if unknown). */
uw_prefetch *uw__pf_entry(uw_unwinder *u, uint64_t ts);
/* Forget this walk's prefetched pieces and notes. */
void uw__pf_reset(uw_unwinder *u);
/* Queue pf's chunks, frames and codes into iov (from *n on); returns the
 * index of the first chunk piece.  uw__pf_settle reads the statuses. */
size_t uw__pf_queue(uw_unwinder *u, const uw_prefetch *pf, uw_iov *iov, size_t *n);
void uw__pf_settle(uw_unwinder *u, const uw_iov *iov, size_t first);
/* A prefetched copy of the frame at addr into out; 1 when there was one. */
int uw__pf_frame(uw_unwinder *u, uint64_t addr, uint8_t *out);
/* A prefetched copy of the code object at addr, or NULL. */
const uint8_t *uw__pf_code(const uw_unwinder *u, uint64_t addr);
/* Keep what this walk read outside its chunk in pf, for the next walk of
 * that thread (the used entries only). */
void uw__pf_keep(const uw_unwinder *u, uw_prefetch *pf);
/* What this walk read outside its chunk, for the next walk. */
void uw__pf_note_chunk(uw_unwinder *u, uint64_t addr, uint64_t len);
void uw__pf_note_frame(uw_unwinder *u, uint64_t addr);
void uw__pf_note_code(uw_unwinder *u, uint64_t addr);

/* --- resolve.c ---------------------------------------------------------------- */

/* Give every record's code object a cache entry validated in this sample.
 * On failure, *bad_at is the innermost record whose code is unusable and
 * its error is returned. */
int uw__resolve(uw_unwinder *u, size_t n, size_t *bad_at);
/* The validated entry of a code object, NULL if none. */
uw_code_info *uw__code_for(uw_unwinder *u, uint64_t code);

/* --- call_site.c -------------------------------------------------------------- */

/* Does the split's caller, at ip in code, stand at the call `x._run()`
 * (read from its bytecode, the verdict kept)?  1 or 0; a read error or a
 * code object without an entry of this sample is 0. */
int uw__split_call_site(uw_unwinder *u, uint64_t code, uint64_t ip);

/* The name M when the frame at ip in code stands at a method call without
 * arguments, `x.M()` (the verdict kept); NULL otherwise, on a read error,
 * or when the name is unknown (longer than UW_CALL_NAME bytes). */
const char *uw__method_call_name(uw_unwinder *u, uint64_t code, uint64_t ip);

/* --- recheck.c ---------------------------------------------------------------- */

/* Remember a frame the walk visited, as read (at most UW_LIMIT_FRAMES). */
void uw__visit(uw_unwinder *u, uint64_t addr, const uint8_t *frame);
/* Where a walk started: its first frame, the address of the pointer that
 * named it (0: the thread's current-frame pointer), and on 3.11/3.12 the
 * cframe before the thread's current one (0: none, or not checked). */
typedef struct uw_walk_from {
    uint64_t first, ptr_addr, outer_cframe;
    /* A walk from the outer frame: the nested cframe's current frame and
     * previous at pin_addr (0: none) must read back as pin[0], pin[1]. */
    uint64_t pin_addr, pin[2];
} uw_walk_from;

/* Check a finished walk of thread ts (started at `from`) against a
 * second read of everything it visited; `counter` (0: none) is the
 * bracket, read as e0 before the walk, `tag` its owner. */
void uw__walk_recheck(uw_unwinder *u, uint64_t ts, const uw_walk_from *from, uint64_t counter,
                      uint64_t tag, uint64_t e0, uw_sample *s, uw_thread_sample *th);

/* --- tstate.c ----------------------------------------------------------------- */

/* The fields of a thread state the walks use, decoded from a copy of
 * u->tstate_len bytes. */
typedef struct uw_tstate_fields {
    uint64_t next; /* next thread state of the interpreter */
    uint64_t thread_id, native_id;
    uint64_t dict;         /* tstate->dict (3.11/3.12 keep the running loop there) */
    uint64_t running_loop; /* 3.13+: the asyncio loop running on the thread, else 0 */
    uint64_t running_task; /* 3.14+: the Task running on the thread, else 0 */
    uint64_t chunk, top;   /* current data-stack chunk, and its top */
} uw_tstate_fields;

void uw__tstate_decode(const uw_layout *l, const uint8_t *ts_bytes, uw_tstate_fields *out);
/* The next thread state, from a copy. */
uint64_t uw__tstate_next(const uw_layout *l, const uint8_t *ts_bytes);
/* Does the thread reach its current frame through a _PyCFrame (3.11/3.12)? */
int uw__tstate_has_cframe(const uw_layout *l);
/* With a cframe: where the thread state keeps the cframe pointer, and the
 * pointer as copied. */
uint64_t uw__tstate_cframe_slot(const uw_layout *l, uint64_t ts);
uint64_t uw__tstate_cframe(const uw_layout *l, const uint8_t *ts_bytes);
/* Where the current-frame pointer of the thread state copied into ts_bytes
 * (from address ts) lives: in the cframe on 3.11/3.12, in the thread state
 * itself on 3.13. */
uint64_t uw__tstate_current_frame_addr(const uw_layout *l, const uint8_t *ts_bytes, uint64_t ts);

#endif /* TORNSTACK_UNWIND_INT_H */
