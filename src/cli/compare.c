/*
 * compare.c — `tornstack compare A B [--functions] [--top N]`.
 *
 * Reads two folded profiles (recordings of `tornstack record`, or any
 * "stack count" lines, root first, ';'-separated) and prints their sample
 * totals, the total variation distance between their stack distributions
 * (exact fraction and decimal), and the stacks that contribute most.
 * --functions compares at function level: frames without line numbers.
 *
 * Exit: 0, 2 usage, 11 an input file missing, unreadable, malformed,
 * empty or beyond a bound (one line on stderr naming file and line).
 */
#define _POSIX_C_SOURCE 200809L
#include "compare.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal/tvd.h"
#include "tornstack/error.h"
#include "tornstack/limits.h"

#define TS_EXIT_OK 0
#define TS_EXIT_USAGE 2
/* Most stacks listed by --top. */
#define TS_COMPARE_TOP_MAX 1000

static int ts_compare_usage(void)
{
    fprintf(stderr, "tornstack: usage: tornstack compare A B [--functions] [--top N]\n");
    return TS_EXIT_USAGE;
}

/* Load one file into side `side`; prints the one-line error. */
static int ts_compare_load(uw__tvd *t, int side, const char *path)
{
    uint64_t line = 0;
    FILE *f = fopen(path, "r");
    int rc;

    if (f == NULL) {
        fprintf(stderr, "tornstack: compare: cannot read %s: %s\n", path, strerror(errno));
        return TS_EXIT_BAD_INPUT;
    }
    rc = uw__tvd_read(t, side, f, (uint64_t)UW_TVD_LIMIT_LINES, &line);
    fclose(f);
    if (rc == 0)
        return TS_EXIT_OK;
    if (rc == UW_ERR_FORMAT)
        fprintf(stderr,
                "tornstack: compare: %s:%llu: malformed line (expected \"frame;frame;... "
                "count\", the count a decimal integer after the last space)\n",
                path, (unsigned long long)line);
    else if (line > 0)
        fprintf(stderr, "tornstack: compare: %s:%llu: %s\n", path, (unsigned long long)line,
                uw_strerror(rc));
    else
        fprintf(stderr, "tornstack: compare: %s: %s\n", path, uw_strerror(rc));
    return TS_EXIT_BAD_INPUT;
}

int ts_cmd_compare(int argc, char **argv)
{
    const char *files[2] = {NULL, NULL};
    unsigned flags = 0;
    long top = 10;
    uw__tvd *t = NULL;
    uw__tvd_result r;
    uw__tvd_entry *e = NULL;
    size_t n = 0, i;
    int k = 0, rc, exit_code = TS_EXIT_OK;

    for (i = 2; i < (size_t)argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--functions") == 0) {
            flags |= UW_TVD_FUNCTIONS;
        } else if (strcmp(a, "--top") == 0) {
            char *end = NULL;
            if (i + 1 >= (size_t)argc) {
                fprintf(stderr, "tornstack: option --top needs a value\n");
                return ts_compare_usage();
            }
            errno = 0;
            top = strtol(argv[++i], &end, 10);
            if (errno != 0 || end == argv[i] || *end != '\0' || top < 0 ||
                top > TS_COMPARE_TOP_MAX) {
                fprintf(stderr, "tornstack: invalid --top '%s' (0 to %d)\n", argv[i],
                        TS_COMPARE_TOP_MAX);
                return ts_compare_usage();
            }
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "tornstack: unknown option '%s'\n", a);
            return ts_compare_usage();
        } else if (k < 2) {
            files[k++] = a;
        } else {
            fprintf(stderr, "tornstack: compare takes two files\n");
            return ts_compare_usage();
        }
    }
    if (k != 2) {
        fprintf(stderr, "tornstack: compare takes two files\n");
        return ts_compare_usage();
    }
    if (uw__tvd_new(flags, &t) != 0) {
        fprintf(stderr, "tornstack: out of memory\n");
        return 1;
    }
    for (k = 0; k < 2 && exit_code == TS_EXIT_OK; k++)
        exit_code = ts_compare_load(t, k, files[k]);
    if (exit_code == TS_EXIT_OK) {
        rc = uw__tvd_compute(t, &r);
        if (rc != 0) {
            fprintf(stderr, "tornstack: compare: %s: no samples (no line with a count above 0)\n",
                    files[r.total[0] == 0 ? 0 : 1]);
            exit_code = TS_EXIT_BAD_INPUT;
        }
    }
    if (exit_code == TS_EXIT_OK && top > 0) {
        e = calloc((size_t)top, sizeof *e);
        if (e == NULL || uw__tvd_top(t, (size_t)top, e, &n) != 0) {
            fprintf(stderr, "tornstack: out of memory\n");
            exit_code = 1;
        }
    }
    if (exit_code == TS_EXIT_OK) {
        printf("A %s: %llu samples in %zu stacks\n", files[0], (unsigned long long)r.total[0],
               r.stacks[0]);
        printf("B %s: %llu samples in %zu stacks\n", files[1], (unsigned long long)r.total[1],
               r.stacks[1]);
        printf("level: %s\n", flags & UW_TVD_FUNCTIONS ? "function" : "line");
        printf("tvd: %.6f (exact %s)\n", r.tvd, r.exact);
        if (n > 0) {
            printf("top %zu of %zu stacks by |pB - pA|:\n", n, r.stacks_union);
            printf("%10s %10s %10s  stack\n", "pA", "pB", "pB-pA");
            for (i = 0; i < n; i++)
                printf("%10.6f %10.6f %+10.6f  %s\n", e[i].p[0], e[i].p[1], e[i].p[1] - e[i].p[0],
                       e[i].stack);
        }
        if (fflush(stdout) != 0)
            exit_code = 1;
    }
    free(e);
    uw__tvd_free(t);
    return exit_code;
}
