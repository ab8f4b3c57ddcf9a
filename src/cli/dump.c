/*
 * dump.c — `tornstack dump`: --count samples (default one), each printed
 * as text or JSON, or aggregated in a profile format (record.c;
 * docs/output.md).
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "tornstack/error.h"
#include "tornstack/output.h"

int ts_cmd_dump(const ts_args *a)
{
    ts_session ss;
    uw_sample s;
    double t0;
    uint64_t skipped = 0, readings = 0;
    long n;
    int rc;

    if (a->profile_format >= 0)
        return ts_cmd_profile(a, 1);
    rc = ts_attach(&ss, a);
    if (rc != 0)
        return ts_exit_for(rc);
    uw_sample_init(&s);
    if (a->count > 0)
        ts_warm_up(&ss);
    t0 = ts_now_us();
    for (n = 0; n < a->count && rc == 0 && !ts_stop_signal; n++) {
        if (n > 0)
            rc = ts_blocking_wait(&ss.blk, 0); /* answer the target's own stops */
        if (rc == 0)
            rc = ts_sample(&ss, &s);
        if (rc == 0) {
            skipped += ts_torn_skips(&s);
            readings += s.n_tasks;
        }
        if (rc != 0) {
            fprintf(stderr, "tornstack: pid %ld: sampling failed: %s\n", a->pid, uw_strerror(rc));
        } else if (strcmp(a->format, "json") == 0) {
            rc = uw_output_json(stdout, &ss.target, &s);
        } else {
            rc = uw_output_text(stdout, &ss.target, &s);
        }
    }
    fflush(stdout);
    if (rc == 0) {
        ts_blocking_report(&ss.blk, stderr, ts_now_us() - t0);
        ts_skip_hint(&ss.blk, stderr, skipped, readings);
    }
    uw_sample_free(&s);
    ts_detach(&ss);
    if (rc == 0 && ts_stop_signal)
        return 128 + ts_stop_signal;
    return ts_exit_for(rc);
}
