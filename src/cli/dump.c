/*
 * dump.c — `tornstack dump`: --count samples (default one), each printed
 * as text or JSON, or aggregated in a profile format (record.c;
 * docs/output.md).
 *
 * While a stopping mode (--blocking, --pause-on-torn) has the target
 * attached, the target's own stops (a signal it receives, a thread it
 * makes) wait for tornstack to answer them.  So a sample's text is made in
 * memory and written while those stops are answered: a reader that stalls
 * (a pager, a pipe nobody drains) holds tornstack, never the target.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "tornstack/error.h"
#include "tornstack/output.h"

/* A write to a pipe of at most this many bytes, once poll says it takes
 * some, does not block. */
#define TS_DUMP_WRITE_STEP 4096
/* How long a wait for the reader lasts before the target is answered. */
#define TS_DUMP_POLL_MS 10

/* Write buf[0, len) to dst (stdout or -o's file), answering the target's
 * stops whenever it takes nothing.  Returns 0, UW_ERR_IO (the write failed: the
 * reader is gone, the disk is full; *why its errno), or the error of an
 * answer; a stop signal to tornstack ends it with 0, the rest unwritten. */
static int ts_write_serviced(ts_session *ss, FILE *dst, const char *buf, size_t len, int *why)
{
    const int fd = fileno(dst);

    if (fflush(dst) != 0) { /* what stdio holds goes first */
        *why = errno;
        return UW_ERR_IO;
    }

    while (len > 0 && !ts_stop_signal) {
        struct pollfd p = {fd, POLLOUT, 0};
        ssize_t w;
        int r = poll(&p, 1, TS_DUMP_POLL_MS);

        if (r < 0 && errno != EINTR) {
            *why = errno;
            return UW_ERR_IO;
        }
        if (r <= 0) {
            int rc = ts_blocking_wait(&ss->blk, 0);
            if (rc != 0)
                return rc;
            continue;
        }
        w = write(fd, buf, len < TS_DUMP_WRITE_STEP ? len : TS_DUMP_WRITE_STEP);
        if (w < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (w <= 0) {
            *why = w < 0 ? errno : ENOSPC; /* a write of nothing: no room */
            return UW_ERR_IO;
        }
        buf += w;
        len -= (size_t)w;
    }
    return 0;
}

/* Sample s as text or JSON: straight to stdout, or, while the target is
 * attached, made in memory and written by ts_write_serviced.  *out_failed
 * is set when the output, not the sample, failed (*why: the errno of the
 * failed write, when known). */
static int ts_dump_one(ts_session *ss, const ts_args *a, const uw_sample *s, FILE *dst,
                       int *out_failed, int *why)
{
    int json = strcmp(a->format, "json") == 0, rc;
    char *buf = NULL;
    size_t len = 0;
    FILE *m;

    if (!ts_blocking_active(&ss->blk)) {
        rc = json ? uw_output_json(dst, &ss->target, s) : uw_output_text(dst, &ss->target, s);
        *out_failed = rc != 0 && rc != UW_ERR_NOMEM;
        return rc;
    }
    m = open_memstream(&buf, &len);
    if (m == NULL)
        return UW_ERR_NOMEM;
    rc = json ? uw_output_json(m, &ss->target, s) : uw_output_text(m, &ss->target, s);
    if (fclose(m) != 0 && rc == 0)
        rc = UW_ERR_NOMEM;
    if (rc == 0) {
        rc = ts_write_serviced(ss, dst, buf, len, why);
        *out_failed = rc == UW_ERR_IO;
    }
    free(buf);
    return rc;
}

int ts_cmd_dump(const ts_args *a)
{
    ts_session ss;
    uw_sample s;
    double t0;
    uint64_t skipped = 0, readings = 0;
    long n, written = 0;
    int rc, out_failed = 0, flushed, why = 0, code;
    ts_out out;
    FILE *dst = stdout;
    const int to_file = a->output != NULL && strcmp(a->output, "-") != 0;

    if (a->profile_format >= 0)
        return ts_cmd_profile(a, 1);
    rc = ts_attach(&ss, a);
    if (rc != 0)
        return ts_exit_for(rc);
    if (to_file) { /* opened once attached: a bad pid leaves the file alone */
        code = ts_out_open(&out, a->output, -1);
        if (code != 0) {
            ts_detach(&ss);
            return code;
        }
        dst = out.f;
    }
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
        if (rc != 0)
            fprintf(stderr, "tornstack: pid %ld: sampling failed: %s\n", a->pid, uw_strerror(rc));
        else if ((rc = ts_dump_one(&ss, a, &s, dst, &out_failed, &why)) == 0)
            written++;
    }
    if (to_file) {
        /* The documents written replace the file (a failure to sample
         * after some keeps those, as on stdout); none, and it stays as it
         * was.  A failed write says so in ts_out_commit's line. */
        if (written > 0 || out_failed) {
            if (ts_out_commit(&out, out_failed || ferror(dst) ? UW_ERR_IO : 0, why) != 0)
                out_failed = 1;
        } else {
            ts_out_abort(&out);
        }
    } else {
        flushed = fflush(stdout);
        if (flushed != 0)
            why = errno; /* the last write's: a full disk, a closed pipe */
        if ((flushed != 0 || ferror(stdout)) && !out_failed) {
            out_failed = 1;
            if (rc == 0)
                rc = UW_ERR_IO;
        }
        if (out_failed)
            fprintf(stderr, "tornstack: writing stdout failed: %s\n",
                    rc == UW_ERR_IO && why != 0 ? strerror(why) : uw_strerror(rc));
    }
    if (rc == 0) {
        ts_blocking_report(&ss.blk, stderr, ts_now_us() - t0);
        ts_skip_hint(&ss.blk, stderr, skipped, readings);
    }
    uw_sample_free(&s);
    ts_detach(&ss);
    if (out_failed)
        return TS_EXIT_USAGE; /* as record's output: docs/cli.md */
    if (rc == 0 && ts_stop_signal)
        return 128 + ts_stop_signal;
    return ts_exit_for(rc);
}
