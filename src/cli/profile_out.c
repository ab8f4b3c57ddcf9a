/*
 * profile_out.c — where `record`, `dump` and `convert` write a profile, and
 * what they tell the user afterwards (cli_profile.h).
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli_profile.h"
#include "tornstack/error.h"

int ts_format_arg(const char *cmd, const char *val, int *f)
{
    uw_profile_format pf;
    int dump = strcmp(cmd, "dump") == 0;

    if (dump && (strcmp(val, "text") == 0 || strcmp(val, "json") == 0)) {
        *f = -1;
        return 0;
    }
    if (uw_profile_format_parse(val, &pf) != 0) {
        fprintf(stderr, "tornstack: unknown format '%s' (%sfolded, speedscope, pprof or html)\n",
                val, dump ? "text, json, " : "");
        return -1;
    }
    if (!uw_profile_format_built(pf)) {
        fprintf(stderr,
                "tornstack: --format %s was not built in: this tornstack was built "
                "without protobuf-c and zlib (docs/output.md)\n",
                val);
        return -1;
    }
    *f = (int)pf;
    return 0;
}

int ts_out_open(ts_out *o, const char *path, uw_profile_format f)
{
    o->path = path;
    o->f = stdout;
    if (path == NULL || strcmp(path, "-") == 0) {
        o->path = NULL;
        if (f == UW_FORMAT_PPROF && isatty(STDOUT_FILENO)) {
            fprintf(stderr, "tornstack: pprof output is binary (gzip); give -o FILE\n");
            return 2;
        }
        return 0;
    }
    o->f = fopen(path, f == UW_FORMAT_PPROF ? "wb" : "w");
    if (o->f == NULL) {
        fprintf(stderr, "tornstack: cannot write %s: %s\n", path, strerror(errno));
        return 2;
    }
    return 0;
}

void ts_out_abort(ts_out *o)
{
    if (o->f != NULL && o->f != stdout)
        fclose(o->f);
    o->f = NULL;
}

/* 1234567 as "1,234,567". */
static const char *ts_grouped(uint64_t v, char *buf, size_t cap)
{
    char raw[32];
    size_t n, i, k = 0;

    snprintf(raw, sizeof raw, "%" PRIu64, v);
    n = strlen(raw);
    for (i = 0; i < n && k + 2 < cap; i++) {
        if (i > 0 && (n - i) % 3 == 0)
            buf[k++] = ',';
        buf[k++] = raw[i];
    }
    buf[k] = '\0';
    return buf;
}

int ts_out_finish(ts_out *o, const uw_profile *p, uw_profile_format f)
{
    char total[40], distinct[40];
    const char *where = o->path != NULL ? o->path : "stdout";
    int rc, closed = 0;

    rc = uw_write_profile(o->f, p, f);
    if (o->f != stdout)
        closed = fclose(o->f);
    else
        closed = fflush(o->f);
    o->f = NULL;
    if (rc == 0 && closed != 0)
        rc = UW_ERR_IO;
    if (rc != 0) {
        fprintf(stderr, "tornstack: writing %s failed: %s\n", where, uw_strerror(rc));
        return rc == UW_ERR_NOMEM ? 1 : 2;
    }
    ts_grouped(p->total, total, sizeof total);
    ts_grouped(p->n_stacks, distinct, sizeof distinct);
    fprintf(stderr, "tornstack: wrote %s stacks (%s distinct) as %s to %s", total, distinct,
            uw_profile_format_name(f), where);
    if (o->path == NULL) {
        fputc('\n', stderr);
        return 0;
    }
    switch (f) {
    case UW_FORMAT_HTML:
        fprintf(stderr, "; open it in a browser: xdg-open %s\n", o->path);
        break;
    case UW_FORMAT_SPEEDSCOPE:
        fprintf(stderr, "; drag it onto https://www.speedscope.app or run: speedscope %s\n",
                o->path);
        break;
    case UW_FORMAT_PPROF:
        fprintf(stderr, "; open it with: go tool pprof -http=: %s\n", o->path);
        break;
    default:
        fprintf(stderr,
                "; make a flame graph with: flamegraph.pl %s > flame.svg, or "
                "tornstack convert %s -o flame.html\n",
                o->path, o->path);
        break;
    }
    return 0;
}
