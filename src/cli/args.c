/*
 * args.c — the options of dump, record and bench (cli.h).
 *
 * Each option is a row of a table: its names, whether it takes a value,
 * and the function that checks and stores it.  Every bad value is refused
 * with one line naming it; a missing value or an unknown option likewise.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* A handler stores `val` (NULL for a flag) into a; 0 or -1 (said). */
typedef int (*ts_opt_fn)(ts_args *a, const char *opt, const char *val);

/* An integer in [lo, hi], or -1 (the caller says which option). */
static int ts_long(const char *val, long lo, long hi, long *out)
{
    char *end = NULL;

    errno = 0;
    *out = strtol(val, &end, 10);
    return errno != 0 || end == val || *end != '\0' || *out < lo || *out > hi ? -1 : 0;
}

static int ts_opt_pid(ts_args *a, const char *opt, const char *val)
{
    (void)opt;
    if (ts_long(val, 1, INT_MAX, &a->pid) != 0) {
        fprintf(stderr, "tornstack: invalid pid '%s'\n", val);
        return -1;
    }
    return 0;
}

/* --format: text and json (dump only) or a profile format (cli_profile.h). */
static int ts_opt_format(ts_args *a, const char *opt, const char *val)
{
    (void)opt;
    if (ts_format_arg(a->cmd, val, &a->profile_format) != 0)
        return -1;
    a->format = val;
    a->format_set = 1;
    return 0;
}

/* --samples / -n (bench) and --count (dump). */
static int ts_opt_samples(ts_args *a, const char *opt, const char *val)
{
    long v;

    if (ts_long(val, 1, 100000000, &v) != 0) {
        fprintf(stderr, "tornstack: invalid sample count '%s'\n", val);
        return -1;
    }
    if (strcmp(opt, "--count") == 0)
        a->count = v;
    else
        a->samples = v;
    return 0;
}

/* --rate HZ and --duration S: positive, at most 1e6. */
static int ts_opt_rate(ts_args *a, const char *opt, const char *val)
{
    char *end = NULL;
    double v;

    errno = 0;
    v = strtod(val, &end);
    if (errno != 0 || end == val || *end != '\0' || !(v > 0) || v > 1e6) {
        fprintf(stderr, "tornstack: invalid %s '%s'\n", opt + 2, val);
        return -1;
    }
    if (opt[2] == 'r')
        a->rate = v;
    else
        a->duration = v;
    return 0;
}

static int ts_opt_output(ts_args *a, const char *opt, const char *val)
{
    (void)opt;
    a->output = val;
    return 0;
}

/* --hold-ms MS (tests of --blocking): 0 to 60000. */
static int ts_opt_hold(ts_args *a, const char *opt, const char *val)
{
    (void)opt;
    if (ts_long(val, 0, 60000, &a->hold_ms) != 0) {
        fprintf(stderr, "tornstack: invalid hold '%s' (0 to 60000 ms)\n", val);
        return -1;
    }
    return 0;
}

/* --stop-by interrupt|clock|kernel-clock: how a running thread is stopped
 * (src/pause/clock.c; kernel-clock: by clocks that count its kernel time
 * too where the kernel allows it, to compare). */
static int ts_opt_stop_by(ts_args *a, const char *opt, const char *val)
{
    (void)opt;
    if (strcmp(val, "interrupt") == 0)
        a->stop_by = UW_PAUSE_CLOCK_ON;
    else if (strcmp(val, "clock") == 0)
        a->stop_by = UW_PAUSE_CLOCK_ON;
    else if (strcmp(val, "kernel-clock") == 0)
        a->stop_by = UW_PAUSE_CLOCK_KERNEL;
    else {
        fprintf(stderr, "tornstack: invalid --stop-by '%s' (interrupt, clock or kernel-clock)\n",
                val);
        return -1;
    }
    a->stop_by_set = 1;
    return 0;
}

static int ts_opt_task_depth(ts_args *a, const char *opt, const char *val)
{
    long v;

    (void)opt;
    if (ts_long(val, 0, 4096, &v) != 0) {
        fprintf(stderr, "tornstack: invalid task depth '%s'\n", val);
        return -1;
    }
    a->opt.task_depth = (uint32_t)v;
    return 0;
}

static int ts_opt_tasks_root(ts_args *a, const char *opt, const char *val)
{
    char *end = NULL;

    (void)opt;
    errno = 0;
    a->tasks_root = strtoull(val, &end, 0);
    if (errno != 0 || end == val || *end != '\0' || a->tasks_root == 0) {
        fprintf(stderr, "tornstack: invalid address '%s'\n", val);
        return -1;
    }
    return 0;
}

static int ts_opt_flag(ts_args *a, const char *opt, const char *val)
{
    (void)val;
    if (strcmp(opt, "--no-split") == 0)
        a->opt.split = 0;
    else if (strcmp(opt, "--no-skip") == 0)
        a->opt.skip = 0;
    else if (strcmp(opt, "--no-recover") == 0)
        a->opt.recover = 0;
    else if (strcmp(opt, "--blocking") == 0)
        a->blocking = 1;
    else if (strcmp(opt, "--pause-on-torn") == 0)
        a->pause_on_torn = 1;
    else if (strcmp(opt, "--no-task-frames") == 0)
        a->compose.task_items = 0;
    else if (strcmp(opt, "--no-thread-frames") == 0)
        a->compose.thread_items = 0;
    else if (strcmp(opt, "--no-replay") == 0)
        a->no_replay = 1;
    else
        a->tasks = 1; /* --tasks */
    return 0;
}

static const struct ts_opt {
    const char *name, *alias;
    int value; /* takes a value */
    ts_opt_fn fn;
} ts_opts[] = {
    {"--pid", "-p", 1, ts_opt_pid},
    {"--format", "-f", 1, ts_opt_format},
    {"--samples", "-n", 1, ts_opt_samples},
    {"--count", NULL, 1, ts_opt_samples},
    {"--rate", NULL, 1, ts_opt_rate},
    {"--duration", NULL, 1, ts_opt_rate},
    {"--output", "-o", 1, ts_opt_output},
    {"--task-depth", NULL, 1, ts_opt_task_depth},
    {"--tasks-root", NULL, 1, ts_opt_tasks_root},
    {"--no-split", NULL, 0, ts_opt_flag},
    {"--no-skip", NULL, 0, ts_opt_flag},
    {"--no-recover", NULL, 0, ts_opt_flag},
    {"--tasks", NULL, 0, ts_opt_flag},
    {"--blocking", NULL, 0, ts_opt_flag},
    {"--pause-on-torn", NULL, 0, ts_opt_flag},
    {"--hold-ms", NULL, 1, ts_opt_hold},
    {"--stop-by", NULL, 1, ts_opt_stop_by},
    {"--no-task-frames", NULL, 0, ts_opt_flag},
    {"--no-thread-frames", NULL, 0, ts_opt_flag},
    {"--no-replay", NULL, 0, ts_opt_flag},
};

static const struct ts_opt *ts_opt_find(const char *name)
{
    size_t i;

    for (i = 0; i < sizeof ts_opts / sizeof ts_opts[0]; i++)
        if (strcmp(name, ts_opts[i].name) == 0 ||
            (ts_opts[i].alias != NULL && strcmp(name, ts_opts[i].alias) == 0))
            return &ts_opts[i];
    return NULL;
}

static void ts_args_default(ts_args *a, const char *cmd)
{
    a->cmd = cmd;
    a->pid = -1;
    a->format = "text";
    a->samples = 10000;
    a->rate = 100;
    a->duration = 5;
    a->output = NULL;
    a->count = 1;
    a->tasks = 0;
    a->tasks_root = 0;
    a->blocking = 0;
    a->pause_on_torn = 0;
    a->hold_ms = 0;
    a->stop_by = UW_PAUSE_CLOCK_OFF;
    a->stop_by_set = 0;
    a->no_replay = 0;
    /* dump prints text unless told; record writes a folded profile */
    a->profile_format = strcmp(cmd, "dump") == 0 ? -1 : (int)UW_FORMAT_FOLDED;
    a->format_set = 0;
    uw_compose_options_default(&a->compose);
    uw_task_options_default(&a->opt);
}

/* Options from argv[2] on, each looked up in the table; --pid is
 * required. */
int ts_parse(int argc, char **argv, ts_args *a)
{
    int i;

    ts_args_default(a, argv[1]);
    for (i = 2; i < argc; i++) {
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        const struct ts_opt *o = ts_opt_find(argv[i]);
        if (o == NULL) {
            fprintf(stderr, "tornstack: unknown option '%s'\n", argv[i]);
            return -1;
        }
        if (o->value && val == NULL) {
            fprintf(stderr, "tornstack: option %s needs a value\n", argv[i]);
            return -1;
        }
        if (o->fn(a, argv[i], o->value ? val : NULL) != 0)
            return -1;
        i += o->value;
    }
    if (a->pid < 0) {
        fprintf(stderr, "tornstack: --pid is required\n");
        return -1;
    }
    /* -o app.html asks for HTML as --format html does (as convert reads
     * it), unless --format says otherwise */
    if (!a->format_set && (strcmp(a->cmd, "record") == 0 || strcmp(a->cmd, "dump") == 0)) {
        const char *word = ts_format_from_name(a->cmd, a->output);
        if (word != NULL && ts_opt_format(a, "--format", word) != 0)
            return -1;
    }
    if (a->blocking && a->pause_on_torn) {
        fprintf(stderr, "tornstack: --blocking and --pause-on-torn exclude each other\n");
        return -1;
    }
    if (a->hold_ms > 0 && !a->blocking && !a->pause_on_torn) {
        fprintf(stderr, "tornstack: --hold-ms needs --blocking or --pause-on-torn\n");
        return -1;
    }
    if (a->stop_by_set && !a->blocking && !a->pause_on_torn) {
        fprintf(stderr, "tornstack: --stop-by needs --blocking or --pause-on-torn\n");
        return -1;
    }
    return 0;
}
