/*
 * close.c — detaching: nothing stays stopped, nothing stays traced.
 *
 * PTRACE_DETACH works only on a thread in a ptrace-stop, so every thread
 * is first brought to one (the same interrupt-and-wait as a sample), then
 * detached with the signal it was about to receive, if any: a zero would
 * discard it.  A thread in a group-stop is detached with no signal; the
 * kernel puts it back in the job-control stop that someone else asked
 * for, and SIGCONT ends it as it would have without tornstack.  Every
 * other thread runs on.
 *
 * Signals caught by the caller during close do not cut it short (the
 * waits go on until their deadline).  If a thread cannot be stopped
 * within UW_PAUSE_STOP_TIMEOUT_MS (stuck in uninterruptible sleep), it
 * stays attached until this process exits, when the kernel detaches it
 * the same way (and wakes it if it is in a stop).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <time.h>

#include "pause/internal.h"
#include "tornstack/error.h"
#include "tornstack/limits.h"

int uw__pause_close(uw__pause *p)
{
    sigset_t chld;
    struct timespec zero = {0, 0};
    pid_t refused = 0;
    size_t i;
    int rc = 0;

    if (p == NULL)
        return 0;
    if (uw__pause_threads(p) > 0) {
        uint64_t deadline = uw_pt_now_ns() + (uint64_t)UW_PAUSE_STOP_TIMEOUT_MS * 1000000u;
        rc = uw_pt_stop_everything(p, deadline, p->scan != NULL, 0, &refused);
        /* A thread we never held (another tracer's), or a process gone
         * while we looked: nothing of ours to detach there. */
        if (rc == UW_ERR_PTRACE || rc == UW_ERR_NO_PROCESS)
            rc = 0;
        /* a clock's signal still pending is taken here, held, so the
         * detach cannot hand it to the target (clock.c) */
        if (rc == 0)
            rc = uw_pt_clock_settle_strays(p, UW_PT_HOLD);
    }
    for (i = 0; i < p->n; i++) {
        uw_pt *t = &p->threads[i];
        int sig = t->kind == UW_PK_SIGNAL ? t->sig : 0;
        /* no clock of ours signals after this; one signalled already was
         * taken above, or is held in this stop (dropped) */
        uw_pt_clock_close(t);
        if (t->state != UW_PT_STOPPED)
            continue;
        if (ptrace(PTRACE_DETACH, t->tid, NULL, (void *)(uintptr_t)sig) == 0) {
            if (sig != 0)
                p->stats.signals_passed++;
        } else if (errno != ESRCH && rc == 0) {
            rc = UW_ERR_IO;
        }
        t->state = UW_PT_GONE;
    }
    /* Threads that exited and were not reaped yet; a thread still running
     * here is one that never stopped (rc says so). */
    for (i = 0; i < p->n; i++) {
        int status;
        if (p->threads[i].state != UW_PT_GONE)
            (void)waitpid(p->threads[i].tid, &status, WNOHANG | __WALL);
    }
    /* Leave no SIGCHLD of ours pending for the caller. */
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    while (sigtimedwait(&chld, NULL, &zero) == SIGCHLD)
        ;
    pthread_sigmask(SIG_SETMASK, &p->old_mask, NULL);
    free(p->threads);
    free(p->scan);
    free(p);
    return rc;
}
