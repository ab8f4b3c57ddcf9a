/*
 * unwind.h — the thread walk: every thread of every interpreter, each
 * thread's Python frames innermost first.
 *
 * Per thread the walk costs (live process, warm code cache): one read of the
 * thread state; one vectored read of the current-frame pointer (3.11/3.12,
 * through the C-stack _PyCFrame) together with the thread's data-stack chunk
 * up to datastack_top; one vectored read validating every code object met.
 * Frames are then decoded from the local copy of the chunk; frames outside
 * it (generator frames, 3.12+ entry frames on the C stack, older chunks) are
 * read on demand.  Hidden frames (entry/shim frames owned by the C stack,
 * frames with no code, incomplete frames) are skipped as CPython's own
 * tracebacks skip them.
 *
 * Bounds: UW_LIMIT_INTERPRETERS, UW_LIMIT_THREADS, UW_LIMIT_FRAMES (hops,
 * hidden frames included), UW_LIMIT_CHUNKS, UW_LIMIT_CHUNK_BYTES; cycles in
 * any chain end it with UW_ERR_CYCLE.  A walk cut short keeps the frames it
 * had and records why in uw_thread_sample.truncated.
 */
#ifndef TORNSTACK_UNWIND_H
#define TORNSTACK_UNWIND_H

#include <stdint.h>

#include "tornstack/reader.h"
#include "tornstack/sample.h"
#include "tornstack/target.h"

typedef struct uw_unwinder uw_unwinder;
/* The unwinder's cache of code objects (internal: src/internal/code_cache.h). */
typedef struct uw_code_cache uw_code_cache;

int uw_unwinder_new(uw_reader *r, const uw_target *t, uw_unwinder **out);
void uw_unwinder_free(uw_unwinder *u);

/* The cache, for benchmarks (cold runs clear it) and statistics. */
uw_code_cache *uw_unwinder_cache(uw_unwinder *u);

/* Frames emitted per thread at most (0 = no limit besides UW_LIMIT_FRAMES).
 * A walk stopped by it reports UW_ERR_DEPTH. */
void uw_unwinder_set_max_depth(uw_unwinder *u, uint32_t max_depth);

/* Take one sample of all threads.  Returns 0 when the runtime could be
 * read (threads may still be truncated, each with its reason), or the
 * error that prevented any walk (e.g. UW_ERR_NO_PROCESS). */
int uw_unwind_threads(uw_unwinder *u, uw_sample *s);

/* Walk one frame chain from frame address `first`, emitting at most
 * max_depth frames (0 = unbounded) into s for thread th.  Used by the thread
 * walk and, with max_depth 1, for a coroutine's own frame. */
int uw_unwind_chain(uw_unwinder *u, uint64_t first, uint32_t max_depth, uw_sample *s,
                    uw_thread_sample *th);

/* Walk one more thread (thread state at tstate, of interpreter interp)
 * into s, as uw_unwind_threads does for each thread: used to look at a
 * thread again later in the same sample. */
int uw_unwind_one_thread(uw_unwinder *u, uint64_t tstate, uint64_t interp, int64_t interp_id,
                         uw_sample *s);

/* The loop epoch of thread `tstate`: the address of a counter that the
 * asyncio loop `loop` running on that thread changes before it starts any
 * callback (its ready deque's mutation count: every Handle._run follows a
 * popleft).  A walk whose reads all fall between two equal readings of the
 * counter saw one callback, or none, throughout; the frames from the
 * outermost Handle._run down cannot have changed during it (the argument
 * is in docs/tasks.md).  The walk then needs only those frames unchanged
 * when read again, and frames above them that changed are dropped instead
 * of failing the whole walk.  The Task walk sets this once per loop;
 * counter 0 forgets the thread.  The table holds 64 threads;
 * when full, entries are replaced in turn (threads that exited keep
 * theirs).  Returns 0, or UW_ERR_INVALID_ARG. */
int uw_unwinder_set_epoch(uw_unwinder *u, uint64_t tstate, uint64_t loop, uint64_t counter);

/* The loop whose epoch is registered for thread `tstate`, 0 if none. */
uint64_t uw_unwinder_epoch_loop(const uw_unwinder *u, uint64_t tstate);

/* The loop and counter address registered for `tstate`; UW_ERR_NOT_FOUND
 * when none is. */
int uw_unwinder_epoch(const uw_unwinder *u, uint64_t tstate, uint64_t *loop, uint64_t *counter);

/* What the Task walk shares with the thread walk. */
uw_reader *uw_unwinder_reader(uw_unwinder *u);
const uw_target *uw_unwinder_target(uw_unwinder *u);

/* Frames already copied out of the target (frame_size bytes each, e.g.
 * coroutine frames embedded in coroutine objects): resolve all their code
 * objects together (one vectored read) and fill out[i].  status[i] is 0
 * when out[i] is a shown frame, 1 when the frame is hidden (entry frame,
 * no code, incomplete), or a negative reason (bad code object, ...). */
int uw_frames_from_copies(uw_unwinder *u, const uint64_t *addrs, const uint8_t *bytes, size_t n,
                          uw_frame *out, int *status);

#endif /* TORNSTACK_UNWIND_H */
