/*
 * profile_out.c — where `record`, `dump` and `convert` write a profile, and
 * what they tell the user afterwards (cli_profile.h).
 */
#define _XOPEN_SOURCE 700 /* realpath */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

static int ts_ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

const char *ts_format_from_name(const char *cmd, const char *out)
{
    const int dump = strcmp(cmd, "dump") == 0;

    if (out == NULL)
        return NULL;
    if (ts_ends_with(out, ".html") || ts_ends_with(out, ".htm"))
        return "html";
    if (ts_ends_with(out, ".speedscope.json"))
        return "speedscope";
    if (ts_ends_with(out, ".json"))
        return dump ? "json" : "speedscope";
    if (ts_ends_with(out, ".pb.gz") || ts_ends_with(out, ".pprof"))
        return "pprof";
    if (ts_ends_with(out, ".folded"))
        return "folded";
    if (ts_ends_with(out, ".txt"))
        return dump ? "text" : "folded";
    return NULL;
}

/* Tries for a free name beside the file to replace, at most. */
#define TS_OUT_TMP_TRIES 16

/* The name of the new file that will replace dest: ".NAME.tornstack-PID"
 * (then "-PID-K") in dest's directory, so the rename stays within one
 * file system.  Malloced, or NULL. */
static char *ts_out_tmp_name(const char *dest, unsigned k)
{
    const char *slash = strrchr(dest, '/');
    size_t dir = slash != NULL ? (size_t)(slash - dest) + 1 : 0;
    size_t cap = strlen(dest) + 64;
    char *t = malloc(cap);

    if (t == NULL)
        return NULL;
    if (k == 0)
        snprintf(t, cap, "%.*s.%s.tornstack-%ld", (int)dir, dest, dest + dir, (long)getpid());
    else
        snprintf(t, cap, "%.*s.%s.tornstack-%ld-%u", (int)dir, dest, dest + dir, (long)getpid(), k);
    return t;
}

/* The new file for o->path (ts_out_open): 1 when o->f writes o->tmp, 0 when
 * the path is to be written directly (not a regular file: a device, a
 * pipe, a dangling symlink; a file under /dev or /proc, such as
 * /dev/stdout, which names a file already open; a file of several hard
 * links; or no new file can be made beside it, as in a directory the user
 * may not write), or a negative error (printed) when the existing file may
 * not be written.  An existing file's mode (and,
 * where allowed, owner) pass to the new one. */
static int ts_out_open_tmp(ts_out *o, const char *mode)
{
    struct stat st, lst;
    int have = stat(o->path, &st) == 0, fd = -1;
    unsigned k;

    if (have && (!S_ISREG(st.st_mode) || st.st_nlink > 1))
        return 0; /* a device, a pipe; or a file of several names, all kept */
    if (strncmp(o->path, "/dev/", 5) == 0 || strncmp(o->path, "/proc/", 6) == 0)
        return 0; /* an open file by name (/dev/stdout), maybe appended to */
    if (!have && lstat(o->path, &lst) == 0)
        return 0; /* a symlink to nothing: where it leads is written as before */
    if (have && access(o->path, W_OK) != 0) {
        fprintf(stderr, "tornstack: cannot write %s: %s\n", o->path, strerror(errno));
        return -1;
    }
    o->dest = have ? realpath(o->path, NULL) : strdup(o->path);
    if (o->dest == NULL)
        return 0;
    for (k = 0; k < TS_OUT_TMP_TRIES && fd < 0; k++) {
        free(o->tmp);
        o->tmp = ts_out_tmp_name(o->dest, k);
        if (o->tmp == NULL)
            break;
        fd = open(o->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                  have ? (mode_t)(st.st_mode & 07777) : (mode_t)0666);
        if (fd < 0 && errno != EEXIST)
            break;
    }
    if (fd >= 0 && have) {
        /* best effort: root may give the file to the old one's owner, a
         * user may not (the mode then is the old one's less the umask) */
        int given = fchown(fd, st.st_uid, st.st_gid) == 0;
        int moded = fchmod(fd, st.st_mode & 07777) == 0;
        (void)given;
        (void)moded;
    }
    o->had = have;
    if (fd >= 0 && (o->f = fdopen(fd, mode)) != NULL)
        return 1;
    if (fd >= 0) {
        close(fd);
        unlink(o->tmp);
    }
    free(o->tmp);
    free(o->dest);
    o->tmp = o->dest = NULL;
    return 0;
}

int ts_out_open(ts_out *o, const char *path, int f)
{
    const char *mode = f == (int)UW_FORMAT_PPROF ? "wb" : "w";
    int rc;

    o->path = path;
    o->f = stdout;
    o->tmp = o->dest = NULL;
    o->had = 0;
    if (path == NULL || strcmp(path, "-") == 0) {
        o->path = NULL;
        if (f == (int)UW_FORMAT_PPROF && isatty(STDOUT_FILENO)) {
            fprintf(stderr, "tornstack: pprof output is binary (gzip); give -o FILE\n");
            return 2;
        }
        return 0;
    }
    rc = ts_out_open_tmp(o, mode);
    if (rc < 0) {
        o->f = NULL;
        return 2;
    }
    if (rc == 1)
        return 0;
    o->f = fopen(path, mode);
    if (o->f == NULL) {
        fprintf(stderr, "tornstack: cannot write %s: %s\n", path, strerror(errno));
        return 2;
    }
    return 0;
}

/* The new file given up (removed); the old one stays. */
static void ts_out_drop(ts_out *o)
{
    if (o->tmp != NULL)
        unlink(o->tmp);
    free(o->tmp);
    free(o->dest);
    o->tmp = o->dest = NULL;
}

void ts_out_abort(ts_out *o)
{
    if (o->f != NULL && o->f != stdout)
        fclose(o->f);
    o->f = NULL;
    ts_out_drop(o);
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

int ts_out_commit(ts_out *o, int rc, int why)
{
    const char *where = o->path != NULL ? o->path : "stdout";
    int closed = 0;

    if (o->f != stdout)
        closed = fclose(o->f);
    else
        closed = fflush(o->f);
    if (closed != 0)
        why = errno; /* the last write's: a full disk, a file size limit */
    o->f = NULL;
    if (rc == 0 && closed != 0)
        rc = UW_ERR_IO;
    if (rc == 0 && o->tmp != NULL && rename(o->tmp, o->dest) != 0) {
        fprintf(stderr, "tornstack: writing %s failed: cannot replace it: %s\n", where,
                strerror(errno));
        ts_out_drop(o);
        return 2;
    }
    if (rc != 0) {
        fprintf(stderr, "tornstack: writing %s failed: %s%s\n", where,
                rc == UW_ERR_IO && why != 0 ? strerror(why) : uw_strerror(rc),
                o->tmp != NULL && o->had ? "; it was left as it was" : "");
        ts_out_drop(o);
        return rc == UW_ERR_NOMEM ? 1 : 2;
    }
    free(o->tmp);
    free(o->dest);
    o->tmp = o->dest = NULL;
    return 0;
}

int ts_out_finish(ts_out *o, const uw_profile *p, uw_profile_format f)
{
    char total[40], distinct[40];
    const char *where = o->path != NULL ? o->path : "stdout";
    int rc = ts_out_commit(o, uw_write_profile(o->f, p, f), 0);

    if (rc != 0)
        return rc;
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
