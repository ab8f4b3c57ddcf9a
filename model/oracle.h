/*
 * oracle.h — judge one sample of the unwinder against the truth history of
 * the instants it spanned.
 *
 * (a) bounds: no Task stack deeper than the limits, no more reads than
 *     MM_READ_BOUND per sample;
 * (b) no leakage: every frame in a Task's stack belonged to that Task at
 *     some instant of the sample (a frame that was another Task's, or the
 *     loop's, is a leak);
 * (c) every emitted Task stack equals that Task's true stack at some
 *     instant, and the thread's pure Python stack equals the loop's at some
 *     instant (otherwise: a bogus stack);
 * (d) every skip's reason is consistent with the history (a Task skipped as
 *     "running but not on the stack" was on the stack, or marked executing,
 *     at some instant).
 */
#ifndef TORNSTACK_MM_ORACLE_H
#define TORNSTACK_MM_ORACLE_H

#include <stdint.h>

#include "mutator.h"
#include "tornstack/sample.h"

/* Reads one sample of a model program may take (documented bound). */
#define MM_READ_BOUND 512

typedef struct mm_verdict {
    uint64_t samples, tasks, emitted, skipped;
    uint64_t skips[UW_REASON_SLOTS];
    uint64_t leaks, bogus, bogus_pure, depth, reads_over, bad_skips;
    uint64_t calls, bytes;
    uint64_t max_calls; /* most reads in one sample */
    uint64_t reordered; /* MM_RELAXED: stores that became visible before an
                         * older one (the model's own count, not a verdict) */
    char first[512]; /* the first violation, described */
} mm_verdict;

/* Judge s against hist[0..n); counts go into v.  Returns the number of
 * violations found in this sample. */
int mm_oracle_check(const uw_sample *s, const mm_truth *hist, size_t n, mm_verdict *v);

uint64_t mm_verdict_violations(const mm_verdict *v);
void mm_verdict_add(mm_verdict *into, const mm_verdict *v);

#endif
