/*
 * output.h — print a sample as text or JSON (format in docs/output.md).
 */
#ifndef TORNSTACK_OUTPUT_H
#define TORNSTACK_OUTPUT_H

#include <stdio.h>

#include "tornstack/sample.h"
#include "tornstack/target.h"

/* Text: one block per thread, innermost frame first, "name (file:line)". */
int uw_output_text(FILE *out, const uw_target *t, const uw_sample *s);

/* JSON: {"pid", "python", "threads": [{"native_id", "thread_id",
 * "interpreter", "frames": [{"name", "file", "line"}], "truncated"}],
 * "truncated"}. */
int uw_output_json(FILE *out, const uw_target *t, const uw_sample *s);

/* Folded stacks for flame graphs: one line per stack, root first,
 * "frame;frame;... count".  Threads running an asyncio loop give one line
 * per leaf Task (its frames, its ancestors', then the loop's); other
 * threads give their own stack.  Stacks that cannot be trusted are counted
 * in skipped[reason slot] instead (may be NULL). */
int uw_output_folded(FILE *out, const uw_sample *s, uint32_t *skipped);

/* One folded line per stack into a callback (for aggregation). */
typedef void (*uw_folded_fn)(void *ctx, const char *line);
int uw_folded_lines(const uw_sample *s, uw_folded_fn fn, void *ctx, uint32_t *skipped);

/* Write s as a JSON string literal (quotes included). */
void uw_output_json_string(FILE *out, const char *s);

#endif /* TORNSTACK_OUTPUT_H */
