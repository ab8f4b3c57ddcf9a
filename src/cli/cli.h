/*
 * cli.h — the tornstack command line's private header: the parsed
 * arguments, the session attached to a target, one section per file.
 *
 *   main.c      dispatch to a command, usage, --help and --version;
 *   args.c      the options of dump, record and bench;
 *   session.c   attach to a process, one sample, detach; exit codes;
 *   dump.c, record.c, bench.c, layout.c, run.c, model.c (verify and
 *               replay): one command each;
 *
 * Exit codes (docs/cli.md): 0 ok, 1 internal error, 2 usage, 3 no such
 * process, 4 permission denied, 5 not a Python process, 6 unsupported
 * Python version, 7 debug offsets mismatch, 8 the target could not be read
 * while sampling (it exited, or its memory vanished), 9 unsupported build
 * (free-threaded, or a pre-release no layout table describes), 10
 * --blocking could not stop the target's threads (ptrace refused, or a
 * stop timed out), 11 compare: an input file missing, malformed or empty.
 * A blocking dump or bench ended by SIGINT/SIGTERM/SIGHUP exits 128+signal
 * after detaching; a blocking record keeps what it has and exits 0.  Every
 * failure prints one line "tornstack: <what>" on stderr.
 */
#ifndef TORNSTACK_CLI_H
#define TORNSTACK_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "blocking.h"
#include "cli_profile.h"
#include "compare.h"
#include "tornstack/compose.h"
#include "tornstack/reader_proc.h"
#include "tornstack/tasks.h"
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
    TS_EXIT_UNSUPPORTED_BUILD = 9,
    TS_EXIT_PAUSE = 10,
};

/* --- args.c ---------------------------------------------------------------------- */

typedef struct ts_args {
    const char *cmd; /* dump, record or bench */
    long pid;
    const char *format;
    long samples;
    double rate, duration;
    const char *output;
    long count;                 /* dump: samples to print */
    int tasks;                  /* bench: include the Task walk */
    int blocking;               /* stop the target's threads for each sample */
    int pause_on_torn;          /* stop them only to redo a sample that skipped */
    long hold_ms;               /* --blocking: keep them stopped this much longer (tests) */
    int stop_by;                /* --stop-by: UW_PAUSE_CLOCK_OFF (interrupt),
                                 * _ON (clock, the default) or _KERNEL
                                 * (kernel-clock) */
    int stop_by_set;            /* --stop-by given */
    int profile_format;         /* a uw_profile_format, or -1 for text and json */
    int format_set;             /* --format given (else -o's name may choose it) */
    uw_compose_options compose; /* Task and thread frames */
    uw_task_options opt;
    unsigned long long tasks_root;
    int no_replay; /* every read a call: no prediction from the last sample */
} ts_args;

/* Parse the options after argv[1] (the command); returns 0, or -1 after
 * printing why on stderr. */
int ts_parse(int argc, char **argv, ts_args *a);

/* --- main.c ---------------------------------------------------------------------- */

void ts_usage(FILE *f);

/* --- session.c ------------------------------------------------------------------- */

typedef struct ts_session {
    uw_proc proc;
    uw_reader reader;
    uw_target target;
    uw_unwinder *unwinder;
    uw_tasks *tasks;
    ts_blocking blk; /* --blocking */
    int replay;      /* predict each sample's reads from the last one */
} ts_session;

/* The exit code for an error code. */
int ts_exit_for(int rc);
/* Attach to a->pid with the policy of a; returns 0 or an error (said). */
int ts_attach(ts_session *s, const ts_args *a);
void ts_detach(ts_session *s);
/* One sample: threads, then Tasks (when the session has a Task walk); with
 * --blocking, between a stop and a restart of every thread of the target. */
int ts_sample(ts_session *ss, uw_sample *s);
/* One sample taken and dropped, the target running, so that a dump's
 * first shown sample is warm (session.c). */
void ts_warm_up(ts_session *ss);
/* Is a Task's skip reason a bound its program meets (a stack, a chain or
 * a list that long), the same at every stop? */
int ts_skip_is_bound(int reason);
/* The Tasks of s skipped for other than a bound. */
uint64_t ts_torn_skips(const uw_sample *s);
/* A monotonic clock in microseconds. */
double ts_now_us(void);

/* --- the commands ---------------------------------------------------------------- */

int ts_cmd_dump(const ts_args *a);
int ts_cmd_record(const ts_args *a);
/* record (dump 0) and dump in a profile format (dump 1): record.c. */
int ts_cmd_profile(const ts_args *a, int dump);
int ts_cmd_bench(const ts_args *a);
int ts_cmd_layout(int argc, char **argv);
int ts_cmd_run(int argc, char **argv);
/* verify (replay 0) and replay (1): run tornstack-verify. */
int ts_cmd_model(int argc, char **argv, int replay);

#endif /* TORNSTACK_CLI_H */
