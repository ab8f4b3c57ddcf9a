/*
 * tvd.h — the total variation distance between two folded profiles.
 *
 * A folded profile is one line per stack, "frame;frame;... count", root
 * first (tornstack record, flamegraph.pl, speedscope).  Its stack
 * distribution gives each stack s the share p(s) = count(s) / total.  The
 * distance between profiles A and B is
 *
 *     TVD = 1/2 * sum over s of |p_A(s) - p_B(s)|
 *
 * 0 for identical distributions, 1 for disjoint ones.  It is computed
 * exactly in integers, as sum |c_A(s) N_B - c_B(s) N_A| / (2 N_A N_B),
 * and given both as a reduced fraction and as a double.
 *
 * At function level (UW_TVD_FUNCTIONS) each frame loses its line number
 * ("name (file:12)" becomes "name (file)") and stacks that become equal
 * are added up.  Private to tornstack (src/cli/compare.c, the tests).
 */
#ifndef TORNSTACK_PROFILE_TVD_H
#define TORNSTACK_PROFILE_TVD_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define UW_TVD_FUNCTIONS 1u

typedef struct uw__tvd uw__tvd;

typedef struct uw__tvd_result {
    uint64_t total[2];   /* sum of the counts of A and B */
    size_t stacks[2];    /* distinct stacks of A and B (count > 0) */
    size_t stacks_union; /* distinct stacks of either */
    double tvd;
    char exact[96]; /* "num/den", reduced ("0/1" when equal) */
} uw__tvd_result;

typedef struct uw__tvd_entry {
    const char *stack; /* valid until uw__tvd_free */
    uint64_t count[2];
    double p[2]; /* count / total of each side */
} uw__tvd_entry;

int uw__tvd_new(unsigned flags, uw__tvd **out);
void uw__tvd_free(uw__tvd *t);

/* One folded line (without its newline; a trailing '\r' is dropped) into
 * side 0 (A) or 1 (B).  A blank line is accepted and adds nothing.
 * UW_ERR_FORMAT: no count after the last space, a count that is not a
 * decimal integer, or an empty stack.  A bound: UW_ERR_LIMIT_TVD_LINE (the
 * line), UW_ERR_LIMIT_TVD_TOTAL (its count, or the side's counts together),
 * UW_ERR_LIMIT_TVD_STACKS (a new stack past the table's). */
int uw__tvd_add_line(uw__tvd *t, int side, const char *line, size_t len);

/* Every line of f into `side`, at most max_lines of them (the CLI passes
 * UW_TVD_LIMIT_LINES; more is UW_ERR_LIMIT_TVD_LINES).  On an error,
 * *line_no is the 1-based number of the line at fault (0 for a read
 * error, UW_ERR_IO). */
int uw__tvd_read(uw__tvd *t, int side, FILE *f, uint64_t max_lines, uint64_t *line_no);

/* The distance.  UW_ERR_FORMAT if a side holds no count at all. */
int uw__tvd_compute(const uw__tvd *t, uw__tvd_result *r);

/* The k stacks contributing most to the distance (largest |p_B - p_A|
 * first, ties by stack text), into out[0..*n). */
int uw__tvd_top(const uw__tvd *t, size_t k, uw__tvd_entry *out, size_t *n);

#endif /* TORNSTACK_PROFILE_TVD_H */
