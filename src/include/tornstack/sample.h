/*
 * sample.h — one sample of a process: its threads and their frames.
 *
 * A plain value: no pointer into target memory.  Frame names point into the
 * unwinder's code cache and stay valid until the unwinder takes its next
 * sample.  Sizes are bounded by the named limits (threads, frames).
 */
#ifndef TORNSTACK_SAMPLE_H
#define TORNSTACK_SAMPLE_H

#include <stddef.h>
#include <stdint.h>

#include "tornstack/code_cache.h"

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
    uint64_t thread_id;
    uint64_t native_id;
    int64_t interp_id;
    size_t first_frame; /* index into uw_sample.frames */
    size_t n_frames;    /* innermost first */
    int truncated;      /* 0, or the code that cut the walk short */
} uw_thread_sample;

typedef struct uw_sample {
    uw_thread_sample *threads;
    size_t n_threads, cap_threads;
    uw_frame *frames;
    size_t n_frames, cap_frames;
    int truncated; /* 0, or why not every thread was visited */
    uint64_t calls, bytes; /* reads this sample cost */
} uw_sample;

void uw_sample_init(uw_sample *s);
void uw_sample_free(uw_sample *s);
void uw_sample_reset(uw_sample *s);
int uw_sample_add_thread(uw_sample *s, uw_thread_sample **out);
int uw_sample_add_frame(uw_sample *s, const uw_frame *f);

static inline const char *uw_frame_name(const uw_frame *f)
{
    return f->code != NULL && f->code->qualname != NULL ? f->code->qualname : "?";
}

static inline const char *uw_frame_file(const uw_frame *f)
{
    return f->code != NULL && f->code->filename != NULL ? f->code->filename : "?";
}

#endif /* TORNSTACK_SAMPLE_H */
