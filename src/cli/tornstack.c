/*
 * tornstack — command line.
 *
 *   tornstack dump  --pid PID [--format text|json]
 *   tornstack bench --pid PID [--samples N]
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

#include "tornstack/error.h"
#include "tornstack/output.h"
#include "tornstack/reader_proc.h"
#include "tornstack/target.h"
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
    fputs("usage: tornstack dump  --pid PID [--format text|json]\n"
          "       tornstack bench --pid PID [--samples N]\n"
          "       tornstack --help | --version\n",
          f);
}

typedef struct ts_args {
    long pid;
    const char *format;
    long samples;
} ts_args;

/* Parse "--pid N" style options; returns 0 or prints a usage error. */
static int ts_parse(int argc, char **argv, ts_args *a)
{
    int i;

    a->pid = -1;
    a->format = "text";
    a->samples = 10000;
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
            if (strcmp(val, "text") != 0 && strcmp(val, "json") != 0) {
                fprintf(stderr, "tornstack: unknown format '%s' (text or json)\n", val);
                return -1;
            }
            a->format = val;
            i++;
        } else if (strcmp(opt, "--samples") == 0 || strcmp(opt, "-n") == 0) {
            if (val == NULL)
                goto missing;
            errno = 0;
            a->samples = strtol(val, &end, 10);
            if (errno != 0 || end == val || *end != '\0' || a->samples <= 0 ||
                a->samples > 100000000) {
                fprintf(stderr, "tornstack: invalid sample count '%s'\n", val);
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
    return 0;
}

typedef struct ts_session {
    uw_proc proc;
    uw_reader reader;
    uw_target target;
    uw_unwinder *unwinder;
} ts_session;

static int ts_attach(ts_session *s, int pid)
{
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
    if (rc != 0)
        fprintf(stderr, "tornstack: %s\n", uw_strerror(rc));
    return rc;
}

static int ts_cmd_dump(const ts_args *a)
{
    ts_session ss;
    uw_sample s;
    int rc;

    rc = ts_attach(&ss, (int)a->pid);
    if (rc != 0)
        return ts_exit_for(rc);
    uw_sample_init(&s);
    rc = uw_unwind_threads(ss.unwinder, &s);
    if (rc != 0) {
        fprintf(stderr, "tornstack: pid %ld: sampling failed: %s\n", a->pid, uw_strerror(rc));
    } else if (strcmp(a->format, "json") == 0) {
        rc = uw_output_json(stdout, &ss.target, &s);
    } else {
        rc = uw_output_text(stdout, &ss.target, &s);
    }
    uw_sample_free(&s);
    uw_unwinder_free(ss.unwinder);
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
    uint64_t calls = 0, bytes = 0, frames = 0, threads = 0;
    double t0, t1;
    long i;
    int rc;

    t0 = ts_now_us();
    for (i = 0; i < n; i++) {
        if (cold)
            uw_code_cache_clear(uw_unwinder_cache(ss->unwinder));
        rc = uw_unwind_threads(ss->unwinder, s);
        if (rc != 0) {
            fprintf(stderr, "tornstack: sampling failed: %s\n", uw_strerror(rc));
            return rc;
        }
        calls += s->calls;
        bytes += s->bytes;
        frames += s->n_frames;
        threads += s->n_threads;
    }
    t1 = ts_now_us();
    printf("%-5s samples=%ld threads/sample=%.1f frames/sample=%.1f reads/sample=%.2f "
           "reads/thread=%.2f bytes/sample=%.0f us/sample=%.2f\n",
           label, n, (double)threads / (double)n, (double)frames / (double)n,
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

    rc = ts_attach(&ss, (int)a->pid);
    if (rc != 0)
        return ts_exit_for(rc);
    uw_sample_init(&s);
    uw_version_string(ss.target.py_version, vs, sizeof vs);
    printf("bench pid=%ld python=%s\n", a->pid, vs);
    rc = ts_bench_run(&ss, &s, cold_n, 1, "cold");
    if (rc == 0)
        rc = ts_bench_run(&ss, &s, a->samples, 0, "warm");
    uw_sample_free(&s);
    uw_unwinder_free(ss.unwinder);
    return ts_exit_for(rc);
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
    if (strcmp(argv[1], "dump") == 0 || strcmp(argv[1], "bench") == 0) {
        if (ts_parse(argc, argv, &a) != 0) {
            ts_usage(stderr);
            return TS_EXIT_USAGE;
        }
        return argv[1][0] == 'd' ? ts_cmd_dump(&a) : ts_cmd_bench(&a);
    }
    fprintf(stderr, "tornstack: unknown command '%s'\n", argv[1]);
    ts_usage(stderr);
    return TS_EXIT_USAGE;
}
