/*
 * profile_io.h — a profile written in each format users open, and read back
 * from a folded file (docs/output.md).
 *
 *   folded      one line per stack, root first, labels joined by ';', then
 *               a space and the count (flamegraph.pl, speedscope, ...)
 *   speedscope  speedscope's JSON file format, "sampled" profiles, one per
 *               thread
 *   pprof       profile.proto, gzipped (go tool pprof, Pyroscope, Datadog);
 *               only when built with protobuf-c and zlib
 *   html        one self-contained HTML file: an interactive flame graph
 *
 * Labels in folded files: a Python frame is "QUALNAME (FILE:LINE)", a Task
 * marker "<task NAME>", a thread marker "<thread NATIVE_ID NAME>" (or
 * "<thread NATIVE_ID>" when the name is unknown).  In names and files the
 * bytes '%', ';', CR, LF, the other control bytes and DEL are written as
 * %XX (two upper-case hex digits), so a label never holds a separator and
 * reads back to the same bytes.
 *
 * Every writer returns 0, UW_ERR_NOMEM or UW_ERR_IO (and pprof
 * UW_ERR_NOT_BUILT when built without it).
 */
#ifndef TORNSTACK_PROFILE_IO_H
#define TORNSTACK_PROFILE_IO_H

#include <stddef.h>
#include <stdio.h>

#include "tornstack/limits.h"
#include "tornstack/profile.h"

typedef enum uw_profile_format {
    UW_FORMAT_FOLDED = 0,
    UW_FORMAT_SPEEDSCOPE = 1,
    UW_FORMAT_PPROF = 2,
    UW_FORMAT_HTML = 3,
} uw_profile_format;

/* "folded", "speedscope", "pprof", "html": 0 and *f, or UW_ERR_NOT_FOUND. */
int uw_profile_format_parse(const char *name, uw_profile_format *f);
const char *uw_profile_format_name(uw_profile_format f);
/* 1 when the format was built in (pprof needs protobuf-c and zlib). */
int uw_profile_format_built(uw_profile_format f);

int uw_write_profile(FILE *out, const uw_profile *p, uw_profile_format f);
int uw_write_folded(FILE *out, const uw_profile *p);
int uw_write_speedscope(FILE *out, const uw_profile *p);
int uw_write_pprof(FILE *out, const uw_profile *p);
int uw_write_html(FILE *out, const uw_profile *p);

/* Lines the folded writer gives for p (stacks with equal frames but
 * different labels share a line). */
int uw_folded_line_count(const uw_profile *p, size_t *n);

/* Percent-escape s into dst (at most cap bytes with the NUL); returns the
 * length the escaped string needs, as snprintf does. */
size_t uw_label_escape(char *dst, size_t cap, const char *s, size_t len);
/* Undo uw_label_escape in place; a '%' not followed by two hex digits is
 * kept as it is (folded files of other tools).  Returns the new length. */
size_t uw_label_unescape(char *s, size_t len);

/* A frame's name as people read it (not escaped): the qualname,
 * "<task NAME>" or "<thread NATIVE_ID NAME>".  Returns the length needed. */
size_t uw_profile_frame_display(const uw_profile *p, uint32_t id, char *dst, size_t cap);
/* A frame's folded label (escaped).  Returns the length needed. */
size_t uw_profile_frame_folded(const uw_profile *p, uint32_t id, char *dst, size_t cap);
/* Room for any label of either kind: names and files are bounded when
 * read from a target (UW_PYSTR_MAX_UTF8 bytes) or from a folded file
 * (UW_LIMIT_FOLDED_LABEL bytes, each of which escapes to at most 3). */
#define UW_LABEL_MAX (3 * UW_LIMIT_FOLDED_LABEL + 64)

typedef struct uw_folded_read_options {
    int task_frames;   /* keep <task ...> frames (default 1) */
    int thread_frames; /* keep <thread ...> frames (default 1) */
} uw_folded_read_options;

void uw_folded_read_options_default(uw_folded_read_options *o);

/* Where a folded file went wrong: 1-based line and a short reason. */
typedef struct uw_folded_error {
    size_t line;
    char what[128];
} uw_folded_error;

/* Read a folded file into p: each line "LABEL;LABEL;... COUNT" (a missing
 * count is an error; an empty line is skipped).  Stacks take their labels
 * from their markers: the thread from "<thread ...>", the Task from the
 * innermost "<task ...>".  Returns 0, UW_ERR_NOMEM, UW_ERR_IO, UW_ERR_FORMAT,
 * UW_ERR_LIMIT_LABEL, UW_ERR_LIMIT_STACK, UW_ERR_LIMIT_COUNT or a profile
 * bound, with err set. */
int uw_folded_read(FILE *in, uw_profile *p, const uw_folded_read_options *o, uw_folded_error *err);

#endif /* TORNSTACK_PROFILE_IO_H */
