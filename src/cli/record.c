/*
 * record.c — `tornstack record`: sample at --rate for --duration seconds
 * and print each folded stack with how often it was seen (agg.c).  A
 * target that exits keeps what was recorded.  The summary (samples,
 * failures, stacks, skips per reason) goes to stderr.
 */
#define _POSIX_C_SOURCE 200809L /* nanosleep, clock_gettime */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "tornstack/error.h"
#include "tornstack/output.h"

typedef struct ts_record {
    ts_agg *agg;
    uint32_t skipped[UW_REASON_SLOTS];    /* stacks not given, per reason */
    uint32_t task_skips[UW_REASON_SLOTS]; /* Tasks skipped, per reason */
    uint64_t samples, failed, tasks;
} ts_record;

/* Sleep until `next` (microseconds on ts_now_us's clock), if it is ahead. */
static void ts_sleep_until(double next)
{
    double now = ts_now_us();
    struct timespec ts;

    if (next <= now)
        return;
    ts.tv_sec = (time_t)((next - now) / 1e6);
    ts.tv_nsec = (long)((next - now) - (double)ts.tv_sec * 1e6) * 1000;
    nanosleep(&ts, NULL);
}

/* Sample until the duration is over or the target is gone. */
static void ts_record_loop(ts_session *ss, const ts_args *a, ts_record *rec)
{
    double period = 1e6 / a->rate, start, next;
    uw_sample s;
    int r;

    uw_sample_init(&s);
    start = next = ts_now_us();
    while (ts_now_us() - start < a->duration * 1e6) {
        int rc = ts_sample(ss, &s);
        if (rc == UW_ERR_NO_PROCESS)
            break; /* the target exited: keep what was recorded */
        rec->samples++;
        if (rc != 0) {
            rec->failed++;
        } else {
            rec->tasks += s.n_tasks;
            for (r = 1; r < UW_REASON_SLOTS; r++)
                rec->task_skips[r] += s.skips[r];
            (void)uw_folded_lines(&s, ts_agg_add, rec->agg, rec->skipped);
        }
        next += period;
        ts_sleep_until(next);
    }
    uw_sample_free(&s);
}

static void ts_record_summary(const ts_record *rec)
{
    int r;

    fprintf(stderr, "tornstack: %llu samples (%llu failed), %.1f tasks/sample, %zu stacks%s\n",
            (unsigned long long)rec->samples, (unsigned long long)rec->failed,
            rec->samples ? (double)rec->tasks / (double)rec->samples : 0.0, ts_agg_count(rec->agg),
            ts_agg_oom(rec->agg) ? " (out of memory)" : "");
    for (r = 1; r < UW_REASON_SLOTS; r++)
        if (rec->task_skips[r] != 0 || rec->skipped[r] != 0)
            fprintf(stderr, "tornstack: skipped %s: %u tasks, %u stacks\n", uw_errname(-r),
                    rec->task_skips[r], rec->skipped[r]);
}

/* Attach, open the output, sample, print the stacks, then the summary.
 * Exit 0 when at least one sample was taken. */
int ts_cmd_record(const ts_args *a)
{
    ts_session ss;
    ts_record rec;
    FILE *out = stdout;
    int rc;

    rc = ts_attach(&ss, a);
    if (rc != 0)
        return ts_exit_for(rc);
    if (a->output != NULL && (out = fopen(a->output, "w")) == NULL) {
        fprintf(stderr, "tornstack: cannot write %s: %s\n", a->output, strerror(errno));
        ts_detach(&ss);
        return TS_EXIT_USAGE;
    }
    memset(&rec, 0, sizeof rec);
    rec.agg = ts_agg_new();
    if (rec.agg == NULL) {
        fprintf(stderr, "tornstack: %s\n", uw_strerror(UW_ERR_NOMEM));
        if (out != stdout)
            fclose(out);
        ts_detach(&ss);
        return TS_EXIT_INTERNAL;
    }
    ts_record_loop(&ss, a, &rec);
    ts_agg_print(rec.agg, out);
    if (out != stdout)
        fclose(out);
    ts_record_summary(&rec);
    ts_agg_free(rec.agg);
    ts_detach(&ss);
    return rec.samples > 0 ? TS_EXIT_OK : TS_EXIT_NO_PROCESS;
}
