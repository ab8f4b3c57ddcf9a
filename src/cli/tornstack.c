/*
 * tornstack — command line.
 *
 *   tornstack dump   --pid PID [--format text|json|folded] [policy options]
 *   tornstack record --pid PID [--rate HZ] [--duration S] [-o FILE] [policy options]
 *   tornstack bench  --pid PID [--samples N] [--tasks] [policy options]
 *   (dump, record and bench take --blocking: stop the target's threads
 *   for each sample; see blocking.c)
 *   tornstack run    [--] COMMAND [ARGS...]   (preloads python/tornstack_hook.py)
 *
 * Policy options (defaults are the correct ones; the others exist to
 * compare earlier profilers' behaviour): --task-depth N (0 = unwind each
 * coroutine's chain fully), --no-split, --no-skip, --tasks-root ADDR.
 *
 * Exit codes (docs/cli.md): 0 ok, 1 internal error, 2 usage, 3 no such
 * process, 4 permission denied, 5 not a Python process, 6 unsupported
 * Python version, 7 debug offsets mismatch, 8 the target could not be read
 * while sampling (it exited, or its memory vanished), 9 unsupported build
 * (free-threaded, or a pre-release no layout table describes), 10
 * --blocking could not stop the target's threads (ptrace refused, or a
 * stop timed out), 11 compare: an input file missing, malformed or empty.
 * A blocking dump or bench ended by SIGINT/SIGTERM/SIGHUP exits 128+signal
 * after detaching; a blocking record keeps what it has and exits 0.
 * Every failure prints one line "tornstack: <what>" on stderr.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tornstack/asyncio_layout.h"
#include "tornstack/error.h"
#include "tornstack/output.h"
#include "tornstack/reader_proc.h"
#include "tornstack/target.h"
#include "tornstack/tasks.h"
#include "tornstack/unwind.h"

#include "blocking.h"
#include "compare.h"

enum {
    TS_EXIT_OK = 0,
    TS_EXIT_INTERNAL = 1,
    TS_EXIT_USAGE = 2,
    TS_EXIT_NO_PROCESS = 3,
    TS_EXIT_PERMISSION = 4,
    TS_EXIT_NOT_PYTHON = 5,
    TS_EXIT_UNSUPPORTED = 6,
    TS_EXIT_DEBUG_OFFSETS = 7,
    TS_EXIT_READ = 8,
    TS_EXIT_UNSUPPORTED_BUILD = 9,
    TS_EXIT_PAUSE = 10,
};

static int ts_exit_for(int rc)
{
    switch (rc) {
    case 0:
        return TS_EXIT_OK;
    case UW_ERR_NO_PROCESS:
        return TS_EXIT_NO_PROCESS;
    case UW_ERR_PERMISSION:
        return TS_EXIT_PERMISSION;
    case UW_ERR_NOT_PYTHON:
        return TS_EXIT_NOT_PYTHON;
    case UW_ERR_UNSUPPORTED_VERSION:
        return TS_EXIT_UNSUPPORTED;
    case UW_ERR_DEBUG_OFFSETS:
        return TS_EXIT_DEBUG_OFFSETS;
    case UW_ERR_UNSUPPORTED_BUILD:
        return TS_EXIT_UNSUPPORTED_BUILD;
    case UW_ERR_READ_FAULT:
    case UW_ERR_READ_SHORT:
        return TS_EXIT_READ;
    case UW_ERR_PTRACE:
    case UW_ERR_STOP_TIMEOUT:
        return TS_EXIT_PAUSE;
    default:
        return TS_EXIT_INTERNAL;
    }
}

static void ts_usage(FILE *f)
{
    fputs("usage: tornstack dump   --pid PID [--format text|json|folded] [--count N] [BLOCKING] [POLICY]\n"
          "       tornstack record --pid PID [--rate HZ] [--duration S] [-o FILE] [BLOCKING] [POLICY]\n"
          "       tornstack bench  --pid PID [--samples N] [--tasks] [BLOCKING] [POLICY]\n"
          "       tornstack run    [--] COMMAND [ARGS...]\n"
          "       tornstack verify [--python V|all] [--model M|all] [--samples N] [--policy P|all]\n"
          "       tornstack replay FILE [--svg OUT] [--policy P]\n"
          "       tornstack compare A B [--functions] [--top N]\n"
          "       tornstack --help | --version\n"
          "BLOCKING: [--blocking [--hold-ms MS]]\n"
          "POLICY: [--task-depth N] [--no-split] [--no-skip] [--tasks-root ADDR]\n",
          f);
}

typedef struct ts_args {
    long pid;
    const char *format;
    long samples;
    double rate, duration;
    const char *output;
    long count; /* dump: samples to print */
    int tasks;  /* bench: include the Task walk */
    int blocking; /* stop the target's threads for each sample */
    long hold_ms; /* --blocking: keep them stopped this much longer (tests) */
    uw_task_options opt;
    unsigned long long tasks_root;
} ts_args;

/* Parse "--pid N" style options; returns 0 or prints a usage error. */
static int ts_parse(int argc, char **argv, ts_args *a)
{
    int i;

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
    a->hold_ms = 0;
    uw_task_options_default(&a->opt);
    for (i = 2; i < argc; i++) {
        const char *opt = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        char *end = NULL;
        if (strcmp(opt, "--pid") == 0 || strcmp(opt, "-p") == 0) {
            if (val == NULL)
                goto missing;
            errno = 0;
            a->pid = strtol(val, &end, 10);
            if (errno != 0 || end == val || *end != '\0' || a->pid <= 0 || a->pid > INT_MAX) {
                fprintf(stderr, "tornstack: invalid pid '%s'\n", val);
                return -1;
            }
            i++;
        } else if (strcmp(opt, "--format") == 0 || strcmp(opt, "-f") == 0) {
            if (val == NULL)
                goto missing;
            if (strcmp(val, "text") != 0 && strcmp(val, "json") != 0 &&
                strcmp(val, "folded") != 0) {
                fprintf(stderr, "tornstack: unknown format '%s' (text, json or folded)\n", val);
                return -1;
            }
            a->format = val;
            i++;
        } else if (strcmp(opt, "--samples") == 0 || strcmp(opt, "-n") == 0 ||
                   strcmp(opt, "--count") == 0) {
            long v;
            if (val == NULL)
                goto missing;
            errno = 0;
            v = strtol(val, &end, 10);
            if (errno != 0 || end == val || *end != '\0' || v <= 0 || v > 100000000) {
                fprintf(stderr, "tornstack: invalid sample count '%s'\n", val);
                return -1;
            }
            if (strcmp(opt, "--count") == 0)
                a->count = v;
            else
                a->samples = v;
            i++;
        } else if (strcmp(opt, "--rate") == 0 || strcmp(opt, "--duration") == 0) {
            double v;
            if (val == NULL)
                goto missing;
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
            i++;
        } else if (strcmp(opt, "-o") == 0 || strcmp(opt, "--output") == 0) {
            if (val == NULL)
                goto missing;
            a->output = val;
            i++;
        } else if (strcmp(opt, "--task-depth") == 0) {
            long v;
            if (val == NULL)
                goto missing;
            errno = 0;
            v = strtol(val, &end, 10);
            if (errno != 0 || end == val || *end != '\0' || v < 0 || v > 4096) {
                fprintf(stderr, "tornstack: invalid task depth '%s'\n", val);
                return -1;
            }
            a->opt.task_depth = (uint32_t)v;
            i++;
        } else if (strcmp(opt, "--tasks-root") == 0) {
            if (val == NULL)
                goto missing;
            errno = 0;
            a->tasks_root = strtoull(val, &end, 0);
            if (errno != 0 || end == val || *end != '\0' || a->tasks_root == 0) {
                fprintf(stderr, "tornstack: invalid address '%s'\n", val);
                return -1;
            }
            i++;
        } else if (strcmp(opt, "--no-split") == 0) {
            a->opt.split = 0;
        } else if (strcmp(opt, "--no-skip") == 0) {
            a->opt.skip = 0;
        } else if (strcmp(opt, "--tasks") == 0) {
            a->tasks = 1;
        } else if (strcmp(opt, "--blocking") == 0) {
            a->blocking = 1;
        } else if (strcmp(opt, "--hold-ms") == 0) {
            if (val == NULL)
                goto missing;
            errno = 0;
            a->hold_ms = strtol(val, &end, 10);
            if (errno != 0 || end == val || *end != '\0' || a->hold_ms < 0 || a->hold_ms > 60000) {
                fprintf(stderr, "tornstack: invalid hold '%s' (0 to 60000 ms)\n", val);
                return -1;
            }
            i++;
        } else {
            fprintf(stderr, "tornstack: unknown option '%s'\n", opt);
            return -1;
        }
        continue;
    missing:
        fprintf(stderr, "tornstack: option %s needs a value\n", opt);
        return -1;
    }
    if (a->pid < 0) {
        fprintf(stderr, "tornstack: --pid is required\n");
        return -1;
    }
    if (a->hold_ms > 0 && !a->blocking) {
        fprintf(stderr, "tornstack: --hold-ms needs --blocking\n");
        return -1;
    }
    return 0;
}

typedef struct ts_session {
    uw_proc proc;
    uw_reader reader;
    uw_target target;
    uw_unwinder *unwinder;
    uw_tasks *tasks;
    ts_blocking blk; /* --blocking */
} ts_session;

static void ts_detach(ts_session *s)
{
    ts_blocking_close(&s->blk);
    uw_tasks_free(s->tasks);
    uw_unwinder_free(s->unwinder);
    uw_proc_close(&s->proc);
    s->tasks = NULL;
    s->unwinder = NULL;
}

/* One sample: threads, then Tasks (with --blocking, between a stop and
 * a restart of every thread of the target). */
static int ts_sample(ts_session *ss, uw_sample *s)
{
    int rc = ts_blocking_begin(&ss->blk), rc2;
    if (rc != 0)
        return rc;
    rc = uw_unwind_threads(ss->unwinder, s);
    if (rc == 0 && ss->tasks != NULL)
        rc = uw_unwind_tasks(ss->tasks, s);
    rc2 = ts_blocking_end(&ss->blk);
    return rc != 0 ? rc : rc2;
}

static int ts_attach(ts_session *s, const ts_args *a)
{
    int pid = (int)a->pid;
    char why[600];
    int rc;

    memset(s, 0, sizeof *s);
    /* --blocking attaches first, so that a ptrace refusal is named as such. */
    if (a->blocking && (rc = ts_blocking_open(&s->blk, a->pid, a->hold_ms)) != 0)
        return rc;
    rc = uw_proc_reader_open(&s->proc, pid, &s->reader);
    if (rc != 0) {
        fprintf(stderr, "tornstack: pid %d: %s\n", pid, uw_strerror(rc));
        ts_detach(s);
        return rc;
    }
    rc = uw_target_find(&s->reader, pid, &s->target, why, sizeof why);
    if (rc != 0) {
        fprintf(stderr, "tornstack: pid %d: %s: %s\n", pid, uw_strerror(rc),
                why[0] ? why : "no details");
        ts_detach(s);
        return rc;
    }
    rc = uw_unwinder_new(&s->reader, &s->target, &s->unwinder);
    if (rc == 0)
        rc = uw_tasks_new(s->unwinder, &s->tasks);
    if (rc != 0) {
        fprintf(stderr, "tornstack: %s\n", uw_strerror(rc));
        ts_detach(s);
        return rc;
    }
    uw_tasks_set_options(s->tasks, &a->opt);
    uw_tasks_set_root(s->tasks, a->tasks_root);
    return 0;
}

static double ts_now_us(void);

static int ts_cmd_dump(const ts_args *a)
{
    ts_session ss;
    uw_sample s;
    double t0;
    long n;
    int rc;

    rc = ts_attach(&ss, a);
    if (rc != 0)
        return ts_exit_for(rc);
    uw_sample_init(&s);
    t0 = ts_now_us();
    for (n = 0; n < a->count && rc == 0 && !ts_stop_signal; n++) {
        if (n > 0)
            rc = ts_blocking_wait(&ss.blk, 0); /* answer the target's own stops */
        if (rc == 0)
            rc = ts_sample(&ss, &s);
        if (rc != 0) {
            fprintf(stderr, "tornstack: pid %ld: sampling failed: %s\n", a->pid,
                    uw_strerror(rc));
        } else if (strcmp(a->format, "json") == 0) {
            rc = uw_output_json(stdout, &ss.target, &s);
        } else if (strcmp(a->format, "folded") == 0) {
            rc = uw_output_folded(stdout, &s, NULL);
        } else {
            rc = uw_output_text(stdout, &ss.target, &s);
        }
    }
    fflush(stdout);
    if (rc == 0)
        ts_blocking_report(&ss.blk, stderr, ts_now_us() - t0);
    uw_sample_free(&s);
    ts_detach(&ss);
    if (rc == 0 && ts_stop_signal)
        return 128 + ts_stop_signal;
    return ts_exit_for(rc);
}

static double ts_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* Sample n times; cold = empty the code cache before each sample. */
static int ts_bench_run(ts_session *ss, uw_sample *s, long n, int cold, const char *label)
{
    uint64_t calls = 0, bytes = 0, frames = 0, threads = 0, tasks = 0;
    uw_pause_stats p0 = {0}, p1 = {0};
    double t0, t1;
    long i;
    int rc;

    uw_pause_stats_get(ss->blk.pause, &p0);
    t0 = ts_now_us();
    for (i = 0; i < n && !ts_stop_signal; i++) {
        if (i > 0 && (rc = ts_blocking_wait(&ss->blk, 0)) != 0) {
            fprintf(stderr, "tornstack: sampling failed: %s\n", uw_strerror(rc));
            return rc;
        }
        if (cold)
            uw_code_cache_clear(uw_unwinder_cache(ss->unwinder));
        uint64_t c0 = ss->reader.calls, b0 = ss->reader.bytes;
        rc = ts_sample(ss, s);
        if (rc != 0) {
            fprintf(stderr, "tornstack: sampling failed: %s\n", uw_strerror(rc));
            return rc;
        }
        calls += ss->reader.calls - c0;
        bytes += ss->reader.bytes - b0;
        frames += s->n_frames;
        threads += s->n_threads;
        tasks += s->n_tasks;
    }
    t1 = ts_now_us();
    n = i > 0 ? i : 1;
    printf("%-5s samples=%ld threads/sample=%.1f tasks/sample=%.1f frames/sample=%.1f "
           "reads/sample=%.2f reads/thread=%.2f bytes/sample=%.0f us/sample=%.2f",
           label, n, (double)threads / (double)n, (double)tasks / (double)n,
           (double)frames / (double)n,
           (double)calls / (double)n, threads ? (double)calls / (double)threads : 0.0,
           (double)bytes / (double)n, (t1 - t0) / (double)n);
    uw_pause_stats_get(ss->blk.pause, &p1);
    if (ss->blk.pause != NULL && p1.stops > p0.stops)
        printf(" stopped_us/sample=%.2f stopped_max_us=%.1f",
               (double)(p1.stopped_ns - p0.stopped_ns) / 1e3 / (double)(p1.stops - p0.stops),
               (double)p1.stopped_max_ns / 1e3);
    printf("\n");
    return 0;
}

static int ts_cmd_bench(const ts_args *a)
{
    ts_session ss;
    uw_sample s;
    long cold_n = a->samples / 10 > 0 ? a->samples / 10 : 1;
    char vs[16];
    int rc;

    rc = ts_attach(&ss, a);
    if (rc != 0)
        return ts_exit_for(rc);
    if (!a->tasks) {
        uw_tasks_free(ss.tasks);
        ss.tasks = NULL;
    }
    uw_sample_init(&s);
    uw_version_string(ss.target.py_version, vs, sizeof vs);
    printf("bench pid=%ld python=%s\n", a->pid, vs);
    rc = ts_bench_run(&ss, &s, cold_n, 1, "cold");
    if (rc == 0 && !ts_stop_signal)
        rc = ts_bench_run(&ss, &s, a->samples, 0, "warm");
    fflush(stdout);
    uw_sample_free(&s);
    ts_detach(&ss);
    if (rc == 0 && ts_stop_signal)
        return 128 + ts_stop_signal;
    return ts_exit_for(rc);
}

/* record: aggregate folded stacks over many samples. */
typedef struct ts_agg {
    char **lines;
    uint64_t *counts;
    size_t n, cap;
    int oom;
} ts_agg;

static void ts_agg_add(void *ctx, const char *line)
{
    ts_agg *g = ctx;
    size_t i;

    for (i = 0; i < g->n; i++) {
        if (strcmp(g->lines[i], line) == 0) {
            g->counts[i]++;
            return;
        }
    }
    if (g->n == g->cap) {
        size_t cap = g->cap ? 2 * g->cap : 64;
        char **l = realloc(g->lines, cap * sizeof *l);
        uint64_t *c;
        if (l == NULL) {
            g->oom = 1;
            return;
        }
        g->lines = l;
        c = realloc(g->counts, cap * sizeof *c);
        if (c == NULL) {
            g->oom = 1;
            return;
        }
        g->counts = c;
        g->cap = cap;
    }
    g->lines[g->n] = strdup(line);
    if (g->lines[g->n] == NULL) {
        g->oom = 1;
        return;
    }
    g->counts[g->n++] = 1;
}

static int ts_cmd_record(const ts_args *a)
{
    ts_session ss;
    uw_sample s;
    ts_agg g = {0};
    uint32_t skipped[UW_REASON_SLOTS] = {0}, task_skips[UW_REASON_SLOTS] = {0};
    uint64_t samples = 0, failed = 0, tasks = 0;
    double period = 1e6 / a->rate, start, next, wall;
    FILE *out = stdout;
    size_t i;
    int rc, r;

    rc = ts_attach(&ss, a);
    if (rc != 0)
        return ts_exit_for(rc);
    if (a->output != NULL && (out = fopen(a->output, "w")) == NULL) {
        fprintf(stderr, "tornstack: cannot write %s: %s\n", a->output, strerror(errno));
        ts_detach(&ss);
        return TS_EXIT_USAGE;
    }
    uw_sample_init(&s);
    start = next = ts_now_us();
    while (ts_now_us() - start < a->duration * 1e6 && !ts_stop_signal) {
        double now;
        rc = ts_sample(&ss, &s);
        if (rc == UW_ERR_NO_PROCESS)
            break; /* the target exited: keep what was recorded */
        samples++;
        if (rc != 0) {
            failed++;
        } else {
            tasks += s.n_tasks;
            for (r = 1; r < UW_REASON_SLOTS; r++)
                task_skips[r] += s.skips[r];
            (void)uw_folded_lines(&s, ts_agg_add, &g, skipped);
        }
        next += period;
        now = ts_now_us();
        if (ts_blocking_wait(&ss.blk, next > now ? next - now : 0) == UW_ERR_NO_PROCESS)
            break; /* the target exited between samples */
    }
    wall = ts_now_us() - start;
    for (i = 0; i < g.n; i++) {
        fprintf(out, "%s %llu\n", g.lines[i], (unsigned long long)g.counts[i]);
        free(g.lines[i]);
    }
    free(g.lines);
    free(g.counts);
    if (out != stdout)
        fclose(out);
    fprintf(stderr, "tornstack: %llu samples (%llu failed), %.1f tasks/sample, %zu stacks%s\n",
            (unsigned long long)samples, (unsigned long long)failed,
            samples ? (double)tasks / (double)samples : 0.0, g.n, g.oom ? " (out of memory)" : "");
    for (r = 1; r < UW_REASON_SLOTS; r++)
        if (task_skips[r] != 0 || skipped[r] != 0)
            fprintf(stderr, "tornstack: skipped %s: %u tasks, %u stacks\n", uw_errname(-r),
                    task_skips[r], skipped[r]);
    ts_blocking_report(&ss.blk, stderr, wall);
    uw_sample_free(&s);
    ts_detach(&ss);
    /* No sample at all: the target was gone, unless a signal ended the
     * recording first (a blocking record keeps what it has, even nothing). */
    return samples > 0 || ts_stop_signal ? TS_EXIT_OK : TS_EXIT_NO_PROCESS;
}

/* layout MINOR: the asyncio table tornstack uses for 3.MINOR, as
 * key=value lines (tests/live/check_asyncio_layout.py compares it with
 * live objects). */
static int ts_cmd_layout(int argc, char **argv)
{
    const uw_asyncio_layout *al;
    long minor;
    char *end = NULL;

    if (argc != 3) {
        fprintf(stderr, "tornstack: usage: tornstack layout MINOR\n");
        return TS_EXIT_USAGE;
    }
    minor = strtol(argv[2], &end, 10);
    al = (end != argv[2] && *end == '\0') ? uw_asyncio_layout_for_minor((int)minor) : NULL;
    if (al == NULL) {
        fprintf(stderr, "tornstack: no asyncio layout for 3.%s\n", argv[2]);
        return TS_EXIT_UNSUPPORTED;
    }
    printf("fut_loop=%d\nfut_state=%d\nfut_size=%d\ntask_fut_waiter=%d\ntask_coro=%d\n"
           "task_name=%d\ntask_size=%d\nstate_pending=%d\nholder_loop=%d\nasend_gen=%d\ndeque_state=%d\n"
           "scheduled_tasks=%s\neager_tasks=%s\nrunning_loop_key=%s\nloop_ready=%s\n",
           al->fut_loop, al->fut_state, al->fut_size, al->task_fut_waiter, al->task_coro,
           al->task_name, al->task_size, al->state_pending, al->holder_loop, al->asend_gen,
           al->deque_state, al->scheduled_tasks, al->eager_tasks ? al->eager_tasks : "",
           al->running_loop_key ? al->running_loop_key : "", al->loop_ready);
    printf("awaitee_depth=%d\n", al->awaitee_depth);
    if (al->debug_size > 0) {
        /* 3.14+: the Task list and awaited-by fields, and the thread and
         * interpreter fields of the generated table that the .AsyncioDebug
         * block also names (the live check compares all three sources). */
        const uw_layout *l = uw_layout_table_for_minor(al->py_minor);
        size_t n, i;
        const uw_asyncio_debug_field *f = uw_asyncio_debug_fields(&n);
        printf("fut_awaited_by=%d\nfut_is_task=%d\nfut_awaited_by_is_set=%d\ntask_node=%d\n"
               "asyncio_debug_size=%d\n",
               al->fut_awaited_by, al->fut_is_task, al->fut_awaited_by_is_set, al->task_node,
               al->debug_size);
        if (l != NULL)
            printf("tstate_impl_size=%d\ntstate_asyncio_running_loop=%d\n"
                   "tstate_asyncio_running_task=%d\ntstate_asyncio_tasks_head=%d\n"
                   "interp_size=%d\ninterp_asyncio_tasks_head=%d\nllist_next=%d\nllist_prev=%d\n"
                   "tstate_current_frame=%d\ntstate_base_frame=%d\n"
                   "tstate_embedded_base_frame=%d\ngen_iframe=%d\ngen_frame_state=%d\n"
                   "frame_stackpointer=%d\nframe_localsplus=%d\nframe_code=%d\n"
                   "frame_previous=%d\nframe_owner=%d\nstackref_borrow_mask=%d\n"
                   "stackref_tag_bits=%d\nstackref_null=%d\nstate_created=%d\n"
                   "state_suspended=%d\nstate_suspended_yield_from=%d\n"
                   "state_suspended_yield_from_locked=%d\nstate_executing=%d\n"
                   "state_completed=%d\nstate_cleared=%d\nowner_thread=%d\n"
                   "owner_generator=%d\nowner_interpreter=%d\nowner_cstack=%d\n",
                   l->tstate_impl_size, l->tstate_asyncio_running_loop,
                   l->tstate_asyncio_running_task, l->tstate_asyncio_tasks_head, l->interp_size,
                   l->interp_asyncio_tasks_head, l->llist_next, l->llist_prev,
                   l->tstate_current_frame, l->tstate_base_frame, l->tstate_embedded_base_frame,
                   l->gen_iframe, l->gen_frame_state, l->frame_stackpointer, l->frame_localsplus,
                   l->frame_code, l->frame_previous, l->frame_owner, l->stackref_borrow_mask,
                   l->stackref_tag_bits, l->stackref_null, l->state_created, l->state_suspended,
                   l->state_suspended_yield_from, l->state_suspended_yield_from_locked,
                   l->state_executing, l->state_completed, l->state_cleared, l->owner_thread,
                   l->owner_generator, l->owner_interpreter, l->owner_cstack);
        for (i = 0; i < n; i++)
            printf("asyncio_debug.%s=%u\n", f[i].name, (unsigned)f[i].at);
    }
    return TS_EXIT_OK;
}

/* verify and replay: the model lives in model/ (src/ never includes it);
 * run the tornstack-verify program built next to this one.  replay FILE
 * [--svg OUT] [--policy P] becomes --replay FILE --explain yes ... */
static int ts_cmd_model(int argc, char **argv, int replay)
{
    static char opt_replay[] = "--replay", opt_explain[] = "--explain", opt_yes[] = "yes";
    char self[4096], *slash;
    char **args = calloc((size_t)argc + 6, sizeof *args);
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 32);
    int i, k = 0;

    if (n <= 0 || args == NULL) {
        fprintf(stderr, "tornstack: cannot locate tornstack-verify\n");
        free(args);
        return TS_EXIT_INTERNAL;
    }
    self[n] = '\0';
    slash = strrchr(self, '/');
    if (slash == NULL) {
        free(args);
        return TS_EXIT_INTERNAL;
    }
    strcpy(slash + 1, "tornstack-verify");
    args[k++] = self;
    if (replay) {
        if (argc < 3) {
            fprintf(stderr, "tornstack: usage: tornstack replay FILE [--svg OUT] [--policy P]\n");
            free(args);
            return TS_EXIT_USAGE;
        }
        args[k++] = opt_replay;
        args[k++] = argv[2];
        args[k++] = opt_explain;
        args[k++] = opt_yes;
        for (i = 3; i < argc; i++)
            args[k++] = argv[i];
    } else {
        for (i = 2; i < argc; i++)
            args[k++] = argv[i];
    }
    args[k] = NULL;
    execv(self, args);
    fprintf(stderr, "tornstack: cannot run %s: %s\n", self, strerror(errno));
    free(args);
    return TS_EXIT_INTERNAL;
}

/* run: start COMMAND with the link hook preloaded (PYTHONPATH gets the
 * preload directory, whose sitecustomize imports tornstack_hook). */
static int ts_cmd_run(int argc, char **argv)
{
    const char *dir = getenv("TORNSTACK_PYTHON_DIR");
    const char *old = getenv("PYTHONPATH");
    char *path;
    size_t n;
    int first = 2;

    if (dir == NULL || dir[0] == '\0')
        dir = TORNSTACK_PYTHON_DIR;
    if (first < argc && strcmp(argv[first], "--") == 0)
        first++;
    if (first >= argc) {
        fprintf(stderr, "tornstack: run needs a command\n");
        return TS_EXIT_USAGE;
    }
    n = strlen(dir) + strlen("/preload") + (old ? strlen(old) + 1 : 0) + 1;
    path = malloc(n);
    if (path == NULL)
        return TS_EXIT_INTERNAL;
    snprintf(path, n, "%s/preload%s%s", dir, old && old[0] ? ":" : "", old ? old : "");
    if (setenv("PYTHONPATH", path, 1) != 0) {
        free(path);
        return TS_EXIT_INTERNAL;
    }
    free(path);
    execvp(argv[first], &argv[first]);
    fprintf(stderr, "tornstack: cannot run %s: %s\n", argv[first], strerror(errno));
    return TS_EXIT_USAGE;
}

int main(int argc, char **argv)
{
    ts_args a;

    if (argc < 2) {
        ts_usage(stderr);
        return TS_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        ts_usage(stdout);
        return TS_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        puts("tornstack " TORNSTACK_VERSION);
        return TS_EXIT_OK;
    }
    if (strcmp(argv[1], "dump") == 0 || strcmp(argv[1], "bench") == 0 ||
        strcmp(argv[1], "record") == 0) {
        if (ts_parse(argc, argv, &a) != 0) {
            ts_usage(stderr);
            return TS_EXIT_USAGE;
        }
        if (argv[1][0] == 'd')
            return ts_cmd_dump(&a);
        return argv[1][0] == 'r' ? ts_cmd_record(&a) : ts_cmd_bench(&a);
    }
    if (strcmp(argv[1], "layout") == 0)
        return ts_cmd_layout(argc, argv);
    if (strcmp(argv[1], "run") == 0)
        return ts_cmd_run(argc, argv);
    if (strcmp(argv[1], "verify") == 0)
        return ts_cmd_model(argc, argv, 0);
    if (strcmp(argv[1], "replay") == 0)
        return ts_cmd_model(argc, argv, 1);
    if (strcmp(argv[1], "compare") == 0)
        return ts_cmd_compare(argc, argv);
    fprintf(stderr, "tornstack: unknown command '%s'\n", argv[1]);
    ts_usage(stderr);
    return TS_EXIT_USAGE;
}
