/*
 * cli_profile.h — the CLI's profile output, `convert`, per-command help and
 * thread names (src/cli/profile_out.c, convert.c, help.c, thread_names.c).
 */
#ifndef TORNSTACK_CLI_PROFILE_H
#define TORNSTACK_CLI_PROFILE_H

#include <stdint.h>
#include <stdio.h>

#include "tornstack/profile_io.h"

/* Check a --format value for `cmd` ("dump" also takes text and json):
 * 0 and *f (-1 for text/json), or a usage error printed (returns -1). */
int ts_format_arg(const char *cmd, const char *val, int *f);

/* Where a profile goes: a file opened before recording starts (so a bad
 * path fails at once), or stdout.  A regular file (or one a path's symlink
 * leads to) is written as a new file beside it, renamed onto it only once
 * the whole profile is written: a profile that fails half-way (a full
 * disk, a target gone before `dump` had a sample) leaves what was there. */
typedef struct ts_out {
    FILE *f;
    const char *path; /* NULL: stdout; as given, for messages */
    char *tmp;        /* the file written, or NULL: path written directly */
    char *dest;       /* what tmp replaces at the end (path, or its symlink's file) */
    int had;          /* dest existed before: a failure leaves it so */
} ts_out;

/* Open path (NULL: stdout) for format f.  Returns 0, or prints why not and
 * returns an exit code (2: cannot write, pprof to a terminal or not built). */
int ts_out_open(ts_out *o, const char *path, uw_profile_format f);
/* Write p, close (the new file renamed onto the old), and say on stderr
 * what was written and how to open it.  Returns an exit code. */
int ts_out_finish(ts_out *o, const uw_profile *p, uw_profile_format f);
/* Close without writing (an error before any sample): the new file is
 * removed, the old one left as it was. */
void ts_out_abort(ts_out *o);

/* tornstack convert IN [-o OUT] [--format F] ... */
int ts_cmd_convert(int argc, char **argv);

/* Help of one command on stdout: 0, or -1 for an unknown command. */
int ts_help(const char *cmd);
/* 1 when argv asks for help (--help or -h); for `run`, only right after
 * the command name. */
int ts_wants_help(int argc, char **argv);

/* Thread names of a live process: /proc/PID/task/TID/comm, read once per
 * thread and cached (at most UW_LIMIT_THREADS * 4 names; then the cache
 * starts again). */
typedef struct ts_thread_names ts_thread_names;
ts_thread_names *ts_thread_names_new(int pid);
void ts_thread_names_free(ts_thread_names *t);
/* uw_thread_name_fn for uw_profile_add_sample; ctx is a ts_thread_names. */
const char *ts_thread_name(void *ctx, uint64_t tid);

#endif /* TORNSTACK_CLI_PROFILE_H */
