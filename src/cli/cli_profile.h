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

/* Open path (NULL or "-": stdout) for profile format f (a
 * uw_profile_format), or -1 for dump's text and JSON.  Returns 0, or
 * prints why not and returns an exit code (2: cannot write, pprof to a
 * terminal). */
int ts_out_open(ts_out *o, const char *path, int f);
/* Close o after a writer returned rc (0 or a UW_ERR_ code; why: the errno
 * of a write known to have failed, or 0): when all was written, the new
 * file replaces the old; otherwise it is removed and one line on stderr
 * says why (a failed close's errno, else why).  Returns an exit code (0,
 * 1 out of memory, 2 not written). */
int ts_out_commit(ts_out *o, int rc, int why);
/* Write p, commit, and say on stderr what was written and how to open it.
 * Returns an exit code. */
int ts_out_finish(ts_out *o, const uw_profile *p, uw_profile_format f);
/* The --format word an output name asks for when --format is not given
 * (record and convert: .html, .json or .speedscope.json, .pb.gz or
 * .pprof, .folded or .txt; dump takes .json as its JSON document and .txt
 * as its text), or NULL for a name that says nothing. */
const char *ts_format_from_name(const char *cmd, const char *out);
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
