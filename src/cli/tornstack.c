/*
 * tornstack — command line.
 *
 *   tornstack dump    --pid PID [--format text|json|PROFILE] [policy options]
 *   tornstack record  --pid PID [--rate HZ] [--duration S] [-o FILE] [--format PROFILE]
 *   tornstack convert IN [-o OUT] [--format PROFILE]        (src/cli/convert.c)
 *   PROFILE: folded|speedscope|pprof|html (src/profile/, docs/output.md)
 *   tornstack bench  --pid PID [--samples N] [--tasks] [policy options]
 *   tornstack run    [--] COMMAND [ARGS...]   (preloads python/tornstack_hook.py)
 *
 * Policy options (defaults are the correct ones; the others exist to
 * compare earlier profilers' behaviour): --task-depth N (0 = unwind each
 * coroutine's chain fully), --no-split, --no-skip, --tasks-root ADDR.
 *
 * Exit codes (docs/cli.md): 0 ok, 1 internal error, 2 usage, 3 no such
 * process, 4 permission denied, 5 not a Python process, 6 unsupported
 * Python version, 7 debug offsets mismatch, 8 the target could not be read
 * while sampling (it exited, or its memory vanished).
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

#include "cli_profile.h"
#include "tornstack/asyncio_layout.h"
#include "tornstack/error.h"
#include "tornstack/output.h"
#include "tornstack/profile.h"
#include "tornstack/reader_proc.h"
#include "tornstack/target.h"
#include "tornstack/tasks.h"
#include "tornstack/unwind.h"

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
    case UW_ERR_READ_FAULT:
    case UW_ERR_READ_SHORT:
        return TS_EXIT_READ;
    default:
        return TS_EXIT_INTERNAL;
    }
}

static void ts_usage(FILE *f)
{
    fputs("usage: tornstack dump    --pid PID [--format text|json|PROFILE] [--count N] [POLICY]\n"
          "       tornstack record  --pid PID [--rate HZ] [--duration S] [-o FILE]\n"
          "                         [--format PROFILE] [POLICY]\n"
          "       tornstack convert IN [-o OUT] [--format PROFILE]\n"
          "       tornstack bench   --pid PID [--samples N] [--tasks] [POLICY]\n"
          "       tornstack run     [--] COMMAND [ARGS...]\n"
          "       tornstack verify  [--python V|all] [--model M|all] [--samples N] [--policy P|all]\n"
          "       tornstack replay  FILE [--svg OUT] [--policy P]\n"
          "       tornstack layout  MINOR\n"
          "       tornstack --help | --version | COMMAND --help\n"
          "PROFILE: folded|speedscope|pprof|html   [--no-task-frames] [--no-thread-frames]\n"
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
    int profile_format; /* a uw_profile_format, or -1 for text and json */
    uw_compose_options compose; /* Task and thread frames */
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
    a->profile_format = strcmp(argv[1], "dump") == 0 ? -1 : UW_FORMAT_FOLDED;
    uw_compose_options_default(&a->compose);
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
            if (ts_format_arg(argv[1], val, &a->profile_format) != 0)
                return -1;
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
        } else if (strcmp(opt, "--no-task-frames") == 0) {
            a->compose.task_items = 0;
        } else if (strcmp(opt, "--no-thread-frames") == 0) {
            a->compose.thread_items = 0;
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
    return 0;
}

typedef struct ts_session {
    uw_proc proc;
    uw_reader reader;
    uw_target target;
    uw_unwinder *unwinder;
    uw_tasks *tasks;
} ts_session;

static void ts_detach(ts_session *s)
{
    uw_tasks_free(s->tasks);
    uw_unwinder_free(s->unwinder);
    uw_proc_close(&s->proc);
    s->tasks = NULL;
    s->unwinder = NULL;
}

/* One sample: threads, then Tasks. */
static int ts_sample(ts_session *ss, uw_sample *s)
{
    int rc = uw_unwind_threads(ss->unwinder, s);
    if (rc == 0 && ss->tasks != NULL)
        rc = uw_unwind_tasks(ss->tasks, s);
    return rc;
}

static int ts_attach(ts_session *s, const ts_args *a)
{
    int pid = (int)a->pid;
    char why[600];
    int rc;

    memset(s, 0, sizeof *s);
    rc = uw_proc_reader_open(&s->proc, pid, &s->reader);
    if (rc != 0) {
        fprintf(stderr, "tornstack: pid %d: %s\n", pid, uw_strerror(rc));
        return rc;
    }
    rc = uw_target_find(&s->reader, pid, &s->target, why, sizeof why);
    if (rc != 0) {
        fprintf(stderr, "tornstack: pid %d: %s: %s\n", pid, uw_strerror(rc),
                why[0] ? why : "no details");
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

static int ts_cmd_profile(const ts_args *a, int dump);

static int ts_cmd_dump(const ts_args *a)
{
    ts_session ss;
    uw_sample s;
    long n;
    int rc;

    if (a->profile_format >= 0)
        return ts_cmd_profile(a, 1);
    rc = ts_attach(&ss, a);
    if (rc != 0)
        return ts_exit_for(rc);
    uw_sample_init(&s);
    for (n = 0; n < a->count && rc == 0; n++) {
        rc = ts_sample(&ss, &s);
        if (rc != 0) {
            fprintf(stderr, "tornstack: pid %ld: sampling failed: %s\n", a->pid,
                    uw_strerror(rc));
        } else if (strcmp(a->format, "json") == 0) {
            rc = uw_output_json(stdout, &ss.target, &s);
        } else {
            rc = uw_output_text(stdout, &ss.target, &s);
        }
    }
    uw_sample_free(&s);
    ts_detach(&ss);
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
    double t0, t1;
    long i;
    int rc;

    t0 = ts_now_us();
    for (i = 0; i < n; i++) {
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
    printf("%-5s samples=%ld threads/sample=%.1f tasks/sample=%.1f frames/sample=%.1f "
           "reads/sample=%.2f reads/thread=%.2f bytes/sample=%.0f us/sample=%.2f\n",
           label, n, (double)threads / (double)n, (double)tasks / (double)n,
           (double)frames / (double)n,
           (double)calls / (double)n, threads ? (double)calls / (double)threads : 0.0,
           (double)bytes / (double)n, (t1 - t0) / (double)n);
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
    if (rc == 0)
        rc = ts_bench_run(&ss, &s, a->samples, 0, "warm");
    uw_sample_free(&s);
    ts_detach(&ss);
    return ts_exit_for(rc);
}

/* record (and dump in a profile format): compose every sample's stacks,
 * aggregate them in a profile (src/profile/), write it in the format asked
 * for.  dump takes --count samples back to back; record samples at --rate
 * for --duration seconds, and keeps what it has if the target exits. */
static int ts_cmd_profile(const ts_args *a, int dump)
{
    ts_session ss;
    uw_sample s;
    uw_profile prof;
    ts_out out;
    ts_thread_names *names;
    uint64_t tasks = 0;
    double period = 1e6 / a->rate, start, next;
    struct timespec wall;
    char vs[16];
    int rc, r, code;

    rc = ts_attach(&ss, a);
    if (rc != 0)
        return ts_exit_for(rc);
    code = ts_out_open(&out, a->output, (uw_profile_format)a->profile_format);
    names = ts_thread_names_new((int)a->pid);
    if (code == 0 && (names == NULL || uw_profile_init(&prof) != 0))
        code = TS_EXIT_INTERNAL;
    if (code != 0) {
        ts_out_abort(&out);
        ts_thread_names_free(names);
        ts_detach(&ss);
        return code;
    }
    uw_version_string(ss.target.py_version, vs, sizeof vs);
    snprintf(prof.title, sizeof prof.title, "tornstack %s of pid %ld (Python %s)",
             dump ? "dump" : "record", a->pid, vs);
    clock_gettime(CLOCK_REALTIME, &wall);
    prof.start_ns = (int64_t)wall.tv_sec * 1000000000 + wall.tv_nsec;
    prof.rate_hz = dump ? 0 : a->rate;
    uw_sample_init(&s);
    start = next = ts_now_us();
    while (dump ? (long)prof.samples + (long)prof.failed < a->count
                : ts_now_us() - start < a->duration * 1e6) {
        struct timespec ts;
        double now;
        rc = ts_sample(&ss, &s);
        if (dump && rc != 0)
            break; /* dump reports a failed sample as text does */
        if (rc == UW_ERR_NO_PROCESS)
            break; /* the target exited: keep what was recorded */
        if (rc != 0) {
            prof.failed++;
        } else {
            tasks += s.n_tasks;
            if (uw_profile_add_sample(&prof, &s, &a->compose, ts_thread_name, names) != 0)
                break; /* out of memory: write what is held */
        }
        if (dump)
            continue;
        next += period;
        now = ts_now_us();
        if (next > now) {
            ts.tv_sec = (time_t)((next - now) / 1e6);
            ts.tv_nsec = (long)((next - now) - (double)ts.tv_sec * 1e6) * 1000;
            nanosleep(&ts, NULL);
        }
    }
    prof.duration_s = (ts_now_us() - start) / 1e6;
    if (dump && rc != 0) {
        fprintf(stderr, "tornstack: pid %ld: sampling failed: %s\n", a->pid, uw_strerror(rc));
        ts_out_abort(&out);
        uw_profile_free(&prof);
        ts_thread_names_free(names);
        uw_sample_free(&s);
        ts_detach(&ss);
        return ts_exit_for(rc);
    }
    code = ts_out_finish(&out, &prof, (uw_profile_format)a->profile_format);
    fprintf(stderr, "tornstack: %llu samples (%llu failed), %.1f tasks/sample, %u stacks\n",
            (unsigned long long)(prof.samples + prof.failed), (unsigned long long)prof.failed,
            prof.samples ? (double)tasks / (double)prof.samples : 0.0, prof.n_stacks);
    for (r = 1; r < UW_REASON_SLOTS; r++)
        if (prof.task_skips[r] != 0 || prof.stack_skips[r] != 0)
            fprintf(stderr, "tornstack: skipped %s: %llu tasks, %llu stacks\n", uw_errname(-r),
                    (unsigned long long)prof.task_skips[r],
                    (unsigned long long)prof.stack_skips[r]);
    if (code == 0 && prof.samples + prof.failed == 0)
        code = TS_EXIT_NO_PROCESS;
    uw_profile_free(&prof);
    ts_thread_names_free(names);
    uw_sample_free(&s);
    ts_detach(&ss);
    return code;
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
    if (ts_wants_help(argc, argv)) {
        if (ts_help(argv[1]) == 0)
            return TS_EXIT_OK;
        fprintf(stderr, "tornstack: unknown command '%s'\n", argv[1]);
        ts_usage(stderr);
        return TS_EXIT_USAGE;
    }
    if (strcmp(argv[1], "convert") == 0)
        return ts_cmd_convert(argc, argv);
    if (strcmp(argv[1], "dump") == 0 || strcmp(argv[1], "bench") == 0 ||
        strcmp(argv[1], "record") == 0) {
        if (ts_parse(argc, argv, &a) != 0) {
            ts_usage(stderr);
            return TS_EXIT_USAGE;
        }
        if (argv[1][0] == 'd')
            return ts_cmd_dump(&a);
        return argv[1][0] == 'r' ? ts_cmd_profile(&a, 0) : ts_cmd_bench(&a);
    }
    if (strcmp(argv[1], "layout") == 0)
        return ts_cmd_layout(argc, argv);
    if (strcmp(argv[1], "run") == 0)
        return ts_cmd_run(argc, argv);
    if (strcmp(argv[1], "verify") == 0)
        return ts_cmd_model(argc, argv, 0);
    if (strcmp(argv[1], "replay") == 0)
        return ts_cmd_model(argc, argv, 1);
    fprintf(stderr, "tornstack: unknown command '%s'\n", argv[1]);
    ts_usage(stderr);
    return TS_EXIT_USAGE;
}
