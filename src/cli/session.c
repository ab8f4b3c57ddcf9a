/*
 * session.c — a process attached for sampling: its reader, its target,
 * the thread walk and the Task walk with the chosen policy (cli.h).
 */
#define _POSIX_C_SOURCE 200809L /* nanosleep, clock_gettime */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "internal/unwinder.h"
#include "tornstack/error.h"

int ts_exit_for(int rc)
{
    switch (rc) {
    case 0:
        return TS_EXIT_OK;
    case UW_ERR_NO_PROCESS:
        return TS_EXIT_NO_PROCESS;
    case UW_ERR_PERMISSION:
        return TS_EXIT_PERMISSION;
    case UW_ERR_NOT_PYTHON:
        return TS_EXIT_NOT_PYTHON;
    case UW_ERR_UNSUPPORTED_VERSION:
        return TS_EXIT_UNSUPPORTED;
    case UW_ERR_DEBUG_OFFSETS:
        return TS_EXIT_DEBUG_OFFSETS;
    case UW_ERR_UNSUPPORTED_BUILD:
        return TS_EXIT_UNSUPPORTED_BUILD;
    case UW_ERR_READ_FAULT:
    case UW_ERR_READ_SHORT:
        return TS_EXIT_READ;
    case UW_ERR_PTRACE:
    case UW_ERR_STOP_TIMEOUT:
        return TS_EXIT_PAUSE;
    default:
        return TS_EXIT_INTERNAL;
    }
}

void ts_detach(ts_session *s)
{
    ts_blocking_close(&s->blk);
    uw_tasks_free(s->tasks);
    uw_unwinder_free(s->unwinder);
    uw_proc_close(&s->proc);
    s->tasks = NULL;
    s->unwinder = NULL;
}

/* Attempts at a stopped sample: all but the last are snapshots, the last
 * holds the target throughout.  On the busy program (500 Tasks, 100 Hz)
 * five kept the target stopped 157-167 ms a second, three 184. */
#define TS_SNAPSHOTS 5

static int ts_unwind(ts_session *ss, uw_sample *s)
{
    int rc = uw_unwind_threads(ss->unwinder, s);

    if (rc == 0 && ss->tasks != NULL)
        rc = uw_unwind_tasks(ss->tasks, s);
    return rc;
}

/* One sample, the target stopped for it when `stop`.  Stopped, every
 * page is read once (reader_frozen.h), and the target is held only while
 * the pages the last stopped sample used are read (and the replay's
 * predicted requests, through them): then it runs on and the sample is
 * taken from those pages, a snapshot of one instant.  A sample that needed
 * a page the snapshot lacks is taken again from a new stop, that page
 * included; the last of TS_SNAPSHOTS attempts holds the target for the
 * whole sample.  Without the page cache (no memory) every attempt holds
 * it. */
static int ts_sample_once(ts_session *ss, uw_sample *s, int stop)
{
    int rc, rc2, k, snap;

    if (!stop) {
        if (ss->replay)
            uw_proc_sample_begin(&ss->proc, &ss->reader);
        return ts_unwind(ss, s);
    }
    for (k = 0;; k++) {
        if ((rc = ts_blocking_begin(&ss->blk)) != 0)
            return rc;
        rc = uw_proc_freeze(&ss->proc, 1);
        /* no pages predicted (the first stopped sample): held throughout */
        snap = rc == 0 && k + 1 < TS_SNAPSHOTS && uw_proc_frozen_pages(&ss->proc) > 0;
        if (rc == UW_ERR_NO_PROCESS) {
            (void)ts_blocking_end(&ss->blk);
            return rc;
        }
        /* after the target stopped: the predicted reads are of this
         * sample */
        if (ss->replay)
            uw_proc_sample_begin(&ss->proc, &ss->reader);
        rc2 = 0;
        if (snap) {
            uw_proc_seal(&ss->proc);
            rc2 = ts_blocking_end(&ss->blk);
        }
        rc = ts_unwind(ss, s);
        if (!snap)
            rc2 = ts_blocking_end(&ss->blk);
        if (snap && rc == 0 && rc2 == 0 && uw_proc_missed(&ss->proc) != 0) {
            (void)uw_proc_freeze(&ss->proc, 0);
            ss->blk.snapshots_again++;
            continue;
        }
        (void)uw_proc_freeze(&ss->proc, 0);
        return rc != 0 ? rc : rc2;
    }
}

/* A dump shows the first sample of its attach, which is cold: every code
 * object is read and validated, and nothing is predicted, so it reads for
 * several times as long as the next one (7-21 ms against 2.6-8 ms on the
 * busy program) and a busy program moves under all of it (a fresh JSON
 * dump skipped every one of its 500 Tasks).  So a dump first takes samples
 * it does not show, with the target running, whatever the mode: their
 * caches and the replay's prediction make the shown sample warm (and,
 * with --blocking, its stop short).  One is enough where nothing moved
 * (its reads are all the next one needs); on a program that moves, the
 * prediction and the snapshot of the chains' pages are each made from the
 * sample before, itself read slowly, and settle over several samples: on
 * the busy program (3.12.1 and 3.14.8) the warm-up samples skipped some
 * 100, 70-100, 55-100, 55, 50 and 45 % of their Tasks in turn, and the
 * dump shown after one of them 88 %, after four 60 %, after six 58 %,
 * after ten 56 %.  So warm-up samples are taken until one skips no Task
 * for a torn read, TS_WARM_UPS at most (on that program about 70 ms more
 * for a dump).  Their outcome is dropped: a target gone meanwhile fails
 * the shown sample with the usual message. */
#define TS_WARM_UPS 6
void ts_warm_up(ts_session *ss)
{
    uw_sample s;
    int k;

    uw_sample_init(&s);
    for (k = 0; k < TS_WARM_UPS && !ts_stop_signal; k++)
        if (ts_sample_once(ss, &s, 0) != 0 || ts_torn_skips(&s) == 0)
            break;
    uw_sample_free(&s);
}

/* Is a Task's skip reason a bound its program meets (a stack, a chain or
 * a list that long, more loops than epochs kept), the same at every stop?
 * Stopping again gives nothing for those. */
int ts_skip_is_bound(int reason)
{
    switch (reason) {
    case UW_ERR_LIMIT_FRAMES:
    case UW_ERR_DEPTH:
    case UW_ERR_LIMIT_TASKS:
    case UW_ERR_LIMIT_AWAIT:
    case UW_ERR_LIMIT_LINKS:
    case UW_ERR_LIMIT_GATHER:
    case UW_ERR_LIMIT_STACK:
    case UW_ERR_LIMIT_TASK_LIST:
    case UW_SKIP_EPOCH_LIMIT:
        return 1;
    default:
        return 0;
    }
}

uint64_t ts_torn_skips(const uw_sample *s)
{
    uint64_t n = 0;
    size_t i;

    for (i = 1; i < UW_REASON_SLOTS; i++)
        if (!ts_skip_is_bound(-(int)i))
            n += s->skips[i];
    return n;
}

/* Were Tasks skipped for other than a bound (on a stopped target none
 * is), or a Task list read as torn? */
static int ts_tasks_torn(const uw_sample *s)
{
    size_t i;

    for (i = 1; i < UW_REASON_SLOTS; i++)
        if (s->skips[i] != 0 && !ts_skip_is_bound(-(int)i))
            return 1;
    return s->tasks_error == UW_ERR_TASK_LIST_TORN || s->tasks_error == UW_ERR_TASK_LIST_ROUNDS;
}

/* Was thread th's walk cut by a tear, or did a loop thread whose walk was
 * whole have no pure Python stack found (its Tasks' stacks are not
 * composed: the idle loop's stack moved under the check)?  A loop that
 * calls its callbacks from C may know no split yet whatever the stop, so
 * it does not count. */
static int ts_thread_torn(const uw_thread_sample *th)
{
    return uw__reason_is_tear(th->truncated) ||
           (th->running_loop != 0 && th->truncated == 0 && th->pure_start < 0 && !th->loop_in_c);
}

/* Would stopping the target (again) have given more of this sample? */
static int ts_sample_torn(const uw_sample *s)
{
    size_t i;

    for (i = 0; i < s->n_threads; i++)
        if (ts_thread_torn(&s->threads[i]))
            return 1;
    return ts_tasks_torn(s);
}

/* The threads a torn sample names (native ids, at most cap): those torn
 * themselves and, when its Tasks tore, every loop thread (the Tasks'
 * states move only while their loop runs). */
static size_t ts_torn_threads(const uw_sample *s, pid_t *tids, size_t cap)
{
    const int tasks_torn = ts_tasks_torn(s);
    size_t i, n = 0;

    for (i = 0; i < s->n_threads && n < cap; i++) {
        const uw_thread_sample *th = &s->threads[i];
        int torn = ts_thread_torn(th) || (th->running_loop != 0 && tasks_torn);
        if (torn && th->native_id > 0 && th->native_id <= INT32_MAX)
            tids[n++] = (pid_t)th->native_id;
    }
    return n;
}

/* Stops of one sample at most.  A stop can land in the few instructions
 * of an interpreter state that no reader can take as one instant (3.11's
 * eval loop publishes its C-stack cframe before it stores that cframe's
 * current frame and `previous`: docs/pause.md); the next stop, a moment
 * later, lands elsewhere. */
#define TS_PAUSE_STOPS 3
/* ... each after the target ran this long (microseconds), and longer, up
 * to TS_PAUSE_RUN_MAX_US, until the sample's torn threads ran */
#define TS_PAUSE_RUN_US 500
#define TS_PAUSE_RUN_MAX_US 50000
/* Torn threads of one sample waited for at most */
#define TS_PAUSE_TORN_THREADS 16

/* --blocking: every sample is taken stopped; one that tore is taken again
 * after a restart (TS_PAUSE_STOPS stops in all, the last one kept).
 * --pause-on-torn: a sample taken with the target running is kept unless
 * it tore (ts_sample_torn) or failed; then it is taken again, stopped, in
 * the same way. */
int ts_sample(ts_session *ss, uw_sample *s)
{
    pid_t torn[TS_PAUSE_TORN_THREADS];
    int rc, k;

    if (ss->blk.pause == NULL)
        return ts_sample_once(ss, s, 0);
    if (ss->blk.on_torn) {
        ss->blk.samples++;
        rc = ts_sample_once(ss, s, 0);
        if (rc == UW_ERR_NO_PROCESS || (rc == 0 && !ts_sample_torn(s)))
            return rc;
        ss->blk.paused++;
    }
    for (k = 0; k < TS_PAUSE_STOPS; k++) {
        if (k > 0) {
            /* let the target run on first, until its torn threads ran:
             * restarted, a thread is not scheduled at once */
            if ((rc = ts_blocking_run_on(&ss->blk, torn,
                                         ts_torn_threads(s, torn, TS_PAUSE_TORN_THREADS),
                                         TS_PAUSE_RUN_US, TS_PAUSE_RUN_MAX_US)) != 0)
                break;
            ss->blk.restopped++;
        }
        rc = ts_sample_once(ss, s, 1);
        if (rc == UW_ERR_NO_PROCESS || (rc == 0 && !ts_sample_torn(s)))
            break;
    }
    return rc;
}

/* The reader (is there such a process, may we read it), the target (is
 * it a CPython we know), then the walks; each failure says why in one
 * line. */
int ts_attach(ts_session *s, const ts_args *a)
{
    int pid = (int)a->pid;
    char why[600];
    int rc;

    memset(s, 0, sizeof *s);
    s->replay = !a->no_replay;
    /* --blocking attaches first, so that a ptrace refusal is named as such. */
    if ((a->blocking || a->pause_on_torn) &&
        (rc = ts_blocking_open(&s->blk, a->pid, a->hold_ms, a->pause_on_torn, a->stop_by)) != 0)
        return rc;
    rc = uw_proc_reader_open(&s->proc, pid, &s->reader);
    if (rc != 0) {
        fprintf(stderr, "tornstack: pid %d: %s\n", pid, uw_strerror(rc));
        ts_detach(s);
        return rc;
    }
    rc = uw_target_find(&s->reader, pid, &s->target, why, sizeof why);
    if (rc != 0) {
        fprintf(stderr, "tornstack: pid %d: %s: %s\n", pid, uw_strerror(rc),
                why[0] ? why : "no details");
        ts_detach(s);
        return rc;
    }
    rc = uw_unwinder_new(&s->reader, &s->target, &s->unwinder);
    if (rc == 0)
        rc = uw_tasks_new(s->unwinder, &s->tasks);
    if (rc != 0) {
        fprintf(stderr, "tornstack: %s\n", uw_strerror(rc));
        ts_detach(s);
        return rc;
    }
    uw_tasks_set_options(s->tasks, &a->opt);
    uw_tasks_set_root(s->tasks, a->tasks_root);
    return 0;
}

double ts_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}
