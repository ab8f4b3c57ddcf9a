/*
 * unwinder.h — what the thread walk offers the Task walk (internal).
 *
 * The thread walk knows nothing of asyncio.  The Task walk needs three
 * things from it, and this is all of them:
 *
 *   - hooks that shape a walk (uw__walk_hooks): per thread, the address of
 *     a counter to read before the walk and after its re-read (the loop
 *     epoch), and which frame the re-read must find unchanged from there
 *     rootward (the split at Handle._run); both are the Task walk's;
 *   - walks on request: one thread again later in the same sample
 *     (uw__unwind_one_thread), one frame chain from a given frame
 *     (uw__unwind_chain), and frames already copied out of coroutine
 *     objects resolved against the code cache (uw__frames_from_copies);
 *   - the reader, the target and the code cache it works with.
 *
 * The Task walk also walks every thread again once it has registered new
 * epochs (uw__unwind_threads_again).
 */
#ifndef TORNSTACK_UNWINDER_H
#define TORNSTACK_UNWINDER_H

#include <stddef.h>
#include <stdint.h>

#include "internal/code_cache.h"
#include "tornstack/unwind.h"

typedef struct uw__walk_hooks {
    void *ctx;
    /* The counter that brackets the walk of thread `tstate`: its address,
     * or 0 for none.  *tag is kept in th->epoch_loop when the bracket was
     * read on both sides of the walk. */
    uint64_t (*bracket)(void *ctx, uint64_t tstate, uint64_t *tag);
    /* Of a walked thread's frames f[0..n), innermost first: the index of
     * the frame from which (rootward) the frames must read back equal when
     * the bracket held, while frames inward of it that changed are dropped
     * (th->top_dropped); -1 when every frame must read back equal.  The
     * walk keeps it in th->split. */
    int64_t (*stable_from)(void *ctx, const uw_frame *f, size_t n);
    /* What a code object is to the loop: UW__ROLE_SPLIT for the stable
     * frame's code (asyncio's Handle._run), UW__ROLE_LOOP for the loop's
     * own code (whose `x._run()` call makes such a frame), 0 for any
     * other.  NULL: none known. */
    int (*code_role)(void *ctx, const uw_code_info *code);
} uw__walk_hooks;

enum { UW__ROLE_LOOP = 1, UW__ROLE_SPLIT = 2 };

/* Install hooks (copied), or remove them with NULL.  Without hooks no
 * bracket is read and th->split is -1. */
void uw__unwinder_set_hooks(uw_unwinder *u, const uw__walk_hooks *h);

uw_reader *uw__unwinder_reader(uw_unwinder *u);
/* Thread entries shown from a kept walk so far (unwind/idle.c), for the
 * model's report. */
uint64_t uw__unwinder_kept_shown(const uw_unwinder *u);
const uw_target *uw__unwinder_target(uw_unwinder *u);

/* Walk every thread again into s, as uw_unwind_threads does, in the same
 * sample: the walks' extra tries are what the sample's first walks left
 * of UW_SAMPLE_RETRIES. */
int uw__unwind_threads_again(uw_unwinder *u, uw_sample *s);

/* Walk one more thread (thread state at tstate, of interpreter interp)
 * into s, as uw_unwind_threads does for each thread: used to look at a
 * thread again later in the same sample.  Its retries draw on the
 * sample's UW_SAMPLE_RETRIES too. */
int uw__unwind_one_thread(uw_unwinder *u, uint64_t tstate, uint64_t interp, int64_t interp_id,
                          uw_sample *s);

/* Take one of the sample's extra walks (UW_SAMPLE_RETRIES) for a walk
 * the caller would make again: 1 taken, 0 none left. */
int uw__walk_budget_take(uw_unwinder *u);

/* Is `reason` (a thread's `truncated`) the mark of a torn read: a frame
 * pushed or popped under the reader, or a stop that landed inside such a
 * push?  Such a walk is worth doing again (the walk's retries; a stopped
 * sample taken again), unlike one cut by a bound or a refusal.  1 or 0. */
int uw__reason_is_tear(int reason);

/* 3.11/3.12: was the walk's innermost frame run by the thread's outermost
 * eval loop (its cframe still names that frame as current, and the
 * cframe before it is the thread state's root cframe)?  Then no Python
 * frame of the walk was called from C code run by another Python frame of
 * it.  1 yes; 0 no, or not known (3.13+, an unreadable cframe). */
int uw__walk_one_eval(uw_unwinder *u, const uw_thread_sample *th);

/* Walk one frame chain from frame address `first`, emitting at most
 * max_depth frames (0 = unbounded) into s for thread th (whose frames must
 * be the last in s). */
int uw__unwind_chain(uw_unwinder *u, uint64_t first, uint32_t max_depth, uw_sample *s,
                     uw_thread_sample *th);

/* Frames already copied out of the target (frame_size bytes each, e.g.
 * coroutine frames embedded in coroutine objects): resolve all their code
 * objects together (one vectored read per UW_LIMIT_FRAMES frames) and fill
 * out[i].  status[i] is 0 when out[i] is a shown frame, 1 when the frame is
 * hidden (entry frame, no code, incomplete), or a negative reason (bad code
 * object, bad owner, ...).  interp: on 3.14+ the interpreter every copy
 * belongs to, whose count of freed code objects, read once now, lets the
 * code objects validated since it last read the same go unread; 0 when
 * the copies span interpreters or none is known (every code object is
 * then read). */
int uw__frames_from_copies(uw_unwinder *u, const uint64_t *addrs, const uint8_t *bytes, size_t n,
                           uw_frame *out, int *status, uint64_t interp);

/* The serial (uw_code_info.serial) of the code cache's entry for `code`:
 * that of the entry validated in this sample (`now` set), or of whatever
 * entry the cache holds for it (`now` clear); 0 when there is none. */
uint64_t uw__code_serial(uw_unwinder *u, uint64_t code, int now);

/* Does a frame at `frame` running `code` at instruction `ip` stand where
 * asyncio's _run_once calls a handle (`x._run()`): a site where a walk
 * proven one instant's found Handle._run called, or one the bytecode
 * shows to be that call (src/unwind/call_site.c)?  1 or 0. */
int uw__split_site_at(uw_unwinder *u, uint64_t frame, uint64_t code, uint64_t ip);

#endif /* TORNSTACK_UNWINDER_H */
