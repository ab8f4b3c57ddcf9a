/*
 * explain.h — make one sample readable: the stores and reads in the order
 * they happened (torn reads marked), the truth of what changed during the
 * sample, what the unwinder emitted, and the oracle's verdict; and draw
 * the same as an SVG timeline (mutator stores and unwinder reads on two
 * lanes, the running Task of each loop below).
 */
#ifndef TORNSTACK_MM_EXPLAIN_H
#define TORNSTACK_MM_EXPLAIN_H

#include <stdio.h>

#include "oracle.h"
#include "schedule.h"
#include "tornstack/sample.h"

void mm_explain_text(FILE *out, const mm_trace *tr, const mm_oracle_ctx *c, const uw_sample *s,
                     const char *verdict);

/* Returns 0, or UW_ERR_IO when the file cannot be written. */
int mm_explain_svg(const char *path, const mm_trace *tr, const mm_oracle_ctx *c,
                   const char *verdict);

#endif
