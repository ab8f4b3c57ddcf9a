/*
 * record.c — `tornstack record`, and `tornstack dump` in a profile format:
 * compose every sample's stacks (uw_compose), aggregate them in a profile
 * (src/profile/), and write the profile in the format asked for
 * (docs/output.md).  dump takes --count samples back to back; record
 * samples at --rate for --duration seconds and keeps what it has if the
 * target exits.  The summary (samples, failures, stacks, skips per reason)
 * goes to stderr.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "tornstack/error.h"
#include "tornstack/profile.h"

/* What one recording holds besides the profile. */
typedef struct ts_recording {
    uw_profile prof;
    ts_out out;
    ts_thread_names *names;
    uint64_t tasks;      /* Task readings, for the summary */
    uint64_t torn_skips; /* ... of which skipped for a tear (not a bound) */
    /* samples whose Tasks could not be read, per reason (-code) */
    uint64_t tasks_errors[2 * UW_REASON_SLOTS];
    int rc; /* the last sample's result */
} ts_recording;

/* The profile's title, start time and rate. */
static void ts_recording_meta(ts_recording *rec, const ts_session *ss, const ts_args *a, int dump)
{
    struct timespec wall;
    char vs[16];

    uw_version_string(ss->target.py_version, vs, sizeof vs);
    snprintf(rec->prof.title, sizeof rec->prof.title, "tornstack %s of pid %ld (Python %s)",
             dump ? "dump" : "record", a->pid, vs);
    clock_gettime(CLOCK_REALTIME, &wall);
    rec->prof.start_ns = (int64_t)wall.tv_sec * 1000000000 + wall.tv_nsec;
    rec->prof.rate_hz = dump ? 0 : a->rate;
}

/* Sample until --count samples (dump) or --duration seconds (record) are
 * done, the target is gone, or the profile cannot grow.  A dump stops at
 * its first failed sample, as text and JSON dumps do. */
static void ts_recording_loop(ts_recording *rec, ts_session *ss, const ts_args *a, int dump)
{
    double period = 1e6 / a->rate, start, next;
    uw_sample s;

    uw_sample_init(&s);
    if (dump && a->count > 0)
        ts_warm_up(ss);
    start = next = ts_now_us();
    rec->rc = 0;
    while (!ts_stop_signal && (dump ? (long)(rec->prof.samples + rec->prof.failed) < a->count
                                    : ts_now_us() - start < a->duration * 1e6)) {
        if (dump && rec->prof.samples + rec->prof.failed > 0 &&
            (rec->rc = ts_blocking_wait(&ss->blk, 0)) != 0)
            break; /* answer the target's own stops between samples */
        rec->rc = ts_sample(ss, &s);
        if (dump && rec->rc != 0)
            break;
        if (rec->rc == UW_ERR_NO_PROCESS)
            break; /* the target exited: keep what was recorded */
        if (rec->rc != 0) {
            rec->prof.failed++;
        } else {
            rec->tasks += s.n_tasks;
            rec->torn_skips += ts_torn_skips(&s);
            if (s.tasks_error < 0 && s.tasks_error > -2 * UW_REASON_SLOTS)
                rec->tasks_errors[-s.tasks_error]++;
            if (uw_profile_add_sample(&rec->prof, &s, &a->compose, ts_thread_name, rec->names) != 0)
                break; /* out of memory: write what is held */
        }
        if (!dump) {
            double now = ts_now_us();
            next += period;
            /* sleeps (--blocking: answering the target's stops meanwhile) */
            if (ts_blocking_wait(&ss->blk, next > now ? next - now : 0) == UW_ERR_NO_PROCESS)
                break; /* the target exited between samples */
        }
    }
    rec->prof.duration_s = (ts_now_us() - start) / 1e6;
    uw_sample_free(&s);
}

static void ts_recording_summary(const ts_recording *rec)
{
    const uw_profile *p = &rec->prof;
    int r;

    fprintf(stderr, "tornstack: %llu samples (%llu failed), %.1f tasks/sample, %u stacks\n",
            (unsigned long long)(p->samples + p->failed), (unsigned long long)p->failed,
            p->samples ? (double)rec->tasks / (double)p->samples : 0.0, p->n_stacks);
    for (r = 1; r < UW_REASON_SLOTS; r++)
        if (p->task_skips[r] != 0 || p->stack_skips[r] != 0)
            fprintf(stderr, "tornstack: skipped %s: %llu tasks, %llu stacks\n", uw_errname(-r),
                    (unsigned long long)p->task_skips[r], (unsigned long long)p->stack_skips[r]);
    for (r = 1; r < UW_REASON_SLOTS; r++)
        if (p->task_recovered[r] != 0)
            fprintf(stderr, "tornstack: recovered %s: %llu tasks (read and checked again)\n",
                    uw_errname(-r), (unsigned long long)p->task_recovered[r]);
    for (r = 1; r < 2 * UW_REASON_SLOTS; r++)
        if (rec->tasks_errors[r] != 0)
            fprintf(stderr, "tornstack: Tasks not (all) read in %llu samples: %s\n",
                    (unsigned long long)rec->tasks_errors[r], uw_errname(-r));
}

/* Attach, open the output, sample, write the profile, then the summary.
 * Exit 0 when at least one sample was taken and the profile was written. */
int ts_cmd_profile(const ts_args *a, int dump)
{
    ts_session ss;
    ts_recording rec;
    int rc, code;

    rc = ts_attach(&ss, a);
    if (rc != 0)
        return ts_exit_for(rc);
    memset(&rec, 0, sizeof rec);
    code = ts_out_open(&rec.out, a->output, a->profile_format);
    rec.names = ts_thread_names_new((int)a->pid);
    if (code == 0 && (rec.names == NULL || uw_profile_init(&rec.prof) != 0))
        code = TS_EXIT_INTERNAL;
    if (code != 0) {
        ts_out_abort(&rec.out);
        ts_thread_names_free(rec.names);
        ts_detach(&ss);
        return code;
    }
    ts_recording_meta(&rec, &ss, a, dump);
    ts_recording_loop(&rec, &ss, a, dump);
    if (dump && rec.rc != 0) {
        fprintf(stderr, "tornstack: pid %ld: sampling failed: %s\n", a->pid, uw_strerror(rec.rc));
        ts_out_abort(&rec.out);
        code = ts_exit_for(rec.rc);
    } else {
        /* The target goes free before the profile is written: a reader
         * that stalls (a pager on stdout) must not keep its signals and
         * new threads waiting on a tracer stuck in write(). */
        ts_blocking_report(&ss.blk, stderr, rec.prof.duration_s * 1e6);
        ts_skip_hint(&ss.blk, stderr, rec.torn_skips, rec.tasks);
        ts_blocking_close(&ss.blk);
        code = ts_out_finish(&rec.out, &rec.prof, (uw_profile_format)a->profile_format);
        if (code == 0) /* a failure is its one line */
            ts_recording_summary(&rec);
        /* No sample at all: the target was gone, unless a signal ended
         * the recording first (a blocking record keeps what it has). */
        if (code == 0 && rec.prof.samples + rec.prof.failed == 0 && !ts_stop_signal)
            code = TS_EXIT_NO_PROCESS;
    }
    uw_profile_free(&rec.prof);
    ts_thread_names_free(rec.names);
    ts_detach(&ss);
    if (dump && code == 0 && ts_stop_signal)
        return 128 + ts_stop_signal;
    return code;
}

int ts_cmd_record(const ts_args *a)
{
    return ts_cmd_profile(a, 0);
}
