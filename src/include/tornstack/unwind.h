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
 * had and records why in uw_thread_sample.truncated.  A walk torn by the
 * running program (its frames read back changed) is retried, at most
 * UW_THREAD_RETRIES times.
 *
 * The Task walk (tasks.h), when there is one, shapes each thread's walk
 * through internal hooks: see src/internal/unwinder.h.
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

/* The code-object cache, for statistics (its counters are internal:
 * src/internal/code_cache.h). */
uw_code_cache *uw_unwinder_cache(uw_unwinder *u);

/* Forget every code object read so far: the next sample reads them all
 * again (a cold cache, for benchmarks). */
void uw_unwinder_clear_cache(uw_unwinder *u);

/* Frames emitted per thread at most (0 = no limit besides UW_LIMIT_FRAMES).
 * A walk stopped by it reports UW_ERR_DEPTH. */
void uw_unwinder_set_max_depth(uw_unwinder *u, uint32_t max_depth);

/* Take one sample of all threads.  Returns 0 when the runtime could be
 * read (threads may still be truncated, each with its reason), or the
 * error that prevented any walk (e.g. UW_ERR_NO_PROCESS). */
int uw_unwind_threads(uw_unwinder *u, uw_sample *s);

#endif /* TORNSTACK_UNWIND_H */
