/*
 * bench.c — `tornstack bench`: samples per second, reads and bytes per
 * sample, with a cold code cache (a tenth of the samples, the cache
 * emptied before each) and warm, and how much of a sample's time is this
 * process's own work and how much the kernel's (its reads of the target:
 * getrusage, so the wait between samples of --blocking is not in it).
 * The Task walk is included with --tasks.  Numbers go to stdout; nothing
 * here is a test.
 */
#include <stdio.h>
#include <sys/resource.h>

#include "cli.h"
#include "tornstack/error.h"

/* This process's user and system CPU time so far, in microseconds. */
static void ts_cpu_us(double *user, double *sys)
{
    struct rusage ru;

    if (getrusage(RUSAGE_SELF, &ru) != 0) {
        *user = *sys = 0;
        return;
    }
    *user = (double)ru.ru_utime.tv_sec * 1e6 + (double)ru.ru_utime.tv_usec;
    *sys = (double)ru.ru_stime.tv_sec * 1e6 + (double)ru.ru_stime.tv_usec;
}

/* Sample n times; cold = empty the code cache before each sample. */
static int ts_bench_run(ts_session *ss, uw_sample *s, long n, int cold, const char *label)
{
    uint64_t calls = 0, bytes = 0, frames = 0, threads = 0, tasks = 0, skipped = 0, kept = 0;
    uw__pause_stats p0 = {0}, p1 = {0};
    double t0, t1, u0, u1, k0, k1;
    long i;
    size_t j;
    int rc;

    uw__pause_stats_get(ss->blk.pause, &p0);
    ts_cpu_us(&u0, &k0);
    t0 = ts_now_us();
    for (i = 0; i < n && !ts_stop_signal; i++) {
        uint64_t c0, b0;
        if (i > 0 && (rc = ts_blocking_wait(&ss->blk, 0)) != 0) {
            fprintf(stderr, "tornstack: sampling failed: %s\n", uw_strerror(rc));
            return rc;
        }
        if (cold)
            uw_unwinder_clear_cache(ss->unwinder);
        c0 = ss->reader.calls;
        b0 = ss->reader.bytes;
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
        for (j = 0; j < UW_REASON_SLOTS; j++) {
            skipped += s->skips[j];
            kept += s->recovered[j];
        }
    }
    t1 = ts_now_us();
    ts_cpu_us(&u1, &k1);
    n = i > 0 ? i : 1;
    printf("%-5s samples=%ld threads/sample=%.1f tasks/sample=%.1f frames/sample=%.1f "
           "reads/sample=%.2f reads/thread=%.2f bytes/sample=%.0f us/sample=%.2f",
           label, n, (double)threads / (double)n, (double)tasks / (double)n,
           (double)frames / (double)n, (double)calls / (double)n,
           threads ? (double)calls / (double)threads : 0.0, (double)bytes / (double)n,
           (t1 - t0) / (double)n);
    printf(" user_us/sample=%.2f sys_us/sample=%.2f", (u1 - u0) / (double)n, (k1 - k0) / (double)n);
    if (tasks > 0)
        printf(" skipped%%=%.2f recovered%%=%.2f", 100.0 * (double)skipped / (double)tasks,
               100.0 * (double)kept / (double)tasks);
    uw__pause_stats_get(ss->blk.pause, &p1);
    if (ss->blk.pause != NULL && p1.stops > p0.stops)
        printf(" stopped_us/sample=%.2f stopped_max_us=%.1f",
               (double)(p1.stopped_ns - p0.stopped_ns) / 1e3 / (double)(p1.stops - p0.stops),
               (double)p1.stopped_max_ns / 1e3);
    printf("\n");
    return 0;
}

int ts_cmd_bench(const ts_args *a)
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
