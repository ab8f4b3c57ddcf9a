/*
 * output.h — print a sample as text or JSON (format in docs/output.md).
 */
#ifndef TORNSTACK_OUTPUT_H
#define TORNSTACK_OUTPUT_H

#include <stdio.h>

#include "tornstack/sample.h"
#include "tornstack/target.h"

/* Text: one block per thread, innermost frame first, "name (file:line)".
 * Both writers return 0, UW_ERR_IO (a write failed) or, text only,
 * UW_ERR_NOMEM (the Task tree could not be laid out). */
int uw_output_text(FILE *out, const uw_target *t, const uw_sample *s);

/* JSON: {"pid", "python", "threads": [{"native_id", "thread_id",
 * "interpreter", "frames": [{"name", "file", "line"}], "truncated"}],
 * "truncated"}. */
int uw_output_json(FILE *out, const uw_target *t, const uw_sample *s);

/* Folded stacks and the other profile formats: profile.h, profile_io.h. */

/* Write s as a JSON string literal (quotes included). */
void uw_output_json_string(FILE *out, const char *s);

#endif /* TORNSTACK_OUTPUT_H */
