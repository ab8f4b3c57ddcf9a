/*
 * live_rates.h — the skip and recovery rates of live programs, measured by
 * scripts/bias.sh (its non-blocking recordings), read from a file so that
 * `tornstack verify` can print the realistic model's rates beside them:
 * the realistic model is calibrated against the live busy program and the
 * race test (docs/model.md), and this is where the two are seen together.
 *
 * The file has one line per workload and interpreter, tab-separated:
 *   workload  python  skip%  recov%
 * e.g. "busy\t3.12.1\t0.53\t0.05"; '#' starts a comment line (the source
 * and date of the measurement go there).  Nothing here runs inside a
 * simulated sample: it is read once, before the rows.
 */
#ifndef TORNSTACK_MM_LIVE_RATES_H
#define TORNSTACK_MM_LIVE_RATES_H

#include <stddef.h>
#include <stdio.h>

/* Lines kept at most; past it the file is refused. */
#define MM_LIVE_RATES_MAX 64

typedef struct mm_live_rate {
    char workload[16];
    char python[16];
    int minor; /* 11 for "3.11.7" */
    double skip, recov;
} mm_live_rate;

typedef struct mm_live_rates {
    mm_live_rate r[MM_LIVE_RATES_MAX];
    size_t n;
    char source[160]; /* the first comment line, if any */
} mm_live_rates;

/* Read `path`.  Returns 0, UW_ERR_IO when it cannot be opened or read,
 * UW_ERR_INVALID_ARG (with the line number in *bad_line) for a line that is
 * not four fields of the form above, or past MM_LIVE_RATES_MAX lines. */
int mm_live_rates_read(const char *path, mm_live_rates *out, size_t *bad_line);

/* Print, for CPython 3.<minor>, the live rows of `workload` (all
 * interpreters of that minor): "  live <workload> 3.x.y: skip S% recov R%".
 * Returns how many were printed. */
size_t mm_live_rates_print(FILE *out, const mm_live_rates *lr, const char *workload, int minor);

#endif
