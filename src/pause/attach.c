/*
 * attach.c — opening a pause session: PTRACE_SEIZE the threads.
 *
 * PTRACE_SEIZE, unlike PTRACE_ATTACH, attaches without stopping the
 * thread and without sending it SIGSTOP.  No stop of ours is ever a
 * group-stop, so nothing can leave the process in a job-control stop:
 * whether tornstack detaches or dies, a thread it interrupted runs on.
 * In the all-threads mode each thread is seized with PTRACE_O_TRACECLONE:
 * a thread it creates is attached by the kernel before it runs a single
 * instruction, and reports a first stop (PTRACE_EVENT_STOP) that the
 * session collects and answers.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pause/internal.h"
#include "tornstack/error.h"
#include "tornstack/limits.h"

/* Attach to one thread (running; a record in UW_PT_RUNNING).  Errors:
 * UW_ERR_NO_PROCESS (the thread is gone), UW_ERR_PTRACE (refused). */
int uw_pt_seize(uw__pause *p, pid_t tid, uw_pt **out)
{
    /* TRACESYSGOOD: a system-call stop (asked for only by a kernel turn,
     * clock.c) is told from a SIGTRAP by its 0x80 */
    unsigned long opts = PTRACE_O_TRACESYSGOOD | (p->only ? 0 : PTRACE_O_TRACECLONE);
    int rc;

    if (ptrace(PTRACE_SEIZE, tid, NULL, (void *)opts) != 0) {
        switch (errno) {
        case ESRCH:
            return UW_ERR_NO_PROCESS;
        case EPERM:
        case EACCES:
        case ENOSYS:
            return UW_ERR_PTRACE;
        default:
            return UW_ERR_IO;
        }
    }
    rc = uw_pt_add(p, tid, UW_PT_RUNNING, out);
    if (rc != 0) {
        /* Not tracked: detach at once (it has not been stopped). */
        uw_pt_release(tid);
        return rc;
    }
    return 0;
}

/* Ask a running thread to stop.  Either way a report is then due: a stop,
 * or, from a thread that is exiting (it may accept the request, or answer
 * ESRCH), its exit.  If the thread is not ours at all any more, its wait
 * says ECHILD and the record is dropped; the wait settles every case. */
int uw_pt_interrupt(uw_pt *t)
{
    if (t->state != UW_PT_RUNNING)
        return 0;
    if (ptrace(PTRACE_INTERRUPT, t->tid, NULL, NULL) == 0 || errno == ESRCH) {
        t->state = UW_PT_STOPPING;
        return 0;
    }
    return UW_ERR_IO;
}

/* Let go of a thread attached to us but not in the table: wait (bounded)
 * for its first stop and detach it; if it exits first, reap it. */
void uw_pt_release(pid_t tid)
{
    uint64_t deadline = uw_pt_now_ns() + (uint64_t)UW_PAUSE_STOP_TIMEOUT_MS * 1000000u;

    if (ptrace(PTRACE_DETACH, tid, NULL, NULL) == 0)
        return; /* it was already stopped */
    (void)ptrace(PTRACE_INTERRUPT, tid, NULL, NULL);
    for (;;) {
        int status = 0;
        pid_t w = waitpid(tid, &status, WNOHANG | __WALL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 || (w > 0 && !WIFSTOPPED(status)))
            return;
        if (w > 0) {
            int sig = (unsigned)status >> 16 == 0 ? WSTOPSIG(status) : 0;
            if (ptrace(PTRACE_DETACH, tid, NULL, (void *)(uintptr_t)sig) == 0)
                return;
            continue;
        }
        if (uw_pt_sleep(deadline, NULL))
            return;
    }
}

/* One pass over /proc/PID/task: seize every listed thread not in the
 * table yet.  A listed thread may be one the kernel attached to us at its
 * birth whose first stop we have not collected (PTRACE_SEIZE then says
 * EPERM, and /proc shows us as its tracer): it is added with its stop due.
 * An exited thread not yet reaped is passed over.  *added counts new
 * records.  `hold`: interrupt the new threads (a stop is in progress). */
int uw_pt_scan(uw__pause *p, pid_t *tids, int hold, size_t *added, pid_t *refused)
{
    size_t n = 0, i;
    int rc = uw__proc_tasks(p->pid, tids, UW_PAUSE_LIMIT_THREADS, &n);

    *added = 0;
    if (rc != 0)
        return rc;
    for (i = 0; i < n; i++) {
        uw_pt *t = NULL;
        if (uw_pt_find(p, tids[i]) != NULL)
            continue;
        rc = uw_pt_seize(p, tids[i], &t);
        if (rc == UW_ERR_NO_PROCESS)
            continue;
        if (rc == UW_ERR_PTRACE) {
            char state;
            pid_t tracer;
            if (uw_pt_status(p->pid, tids[i], &state, &tracer, NULL) != 0 ||
                uw__proc_state_gone(state))
                continue; /* gone meanwhile */
            if (tracer == getpid()) {
                rc = uw_pt_add(p, tids[i], UW_PT_STOPPING, NULL);
                if (rc != 0)
                    return rc;
                (*added)++;
                continue;
            }
            *refused = tids[i];
            return UW_ERR_PTRACE;
        }
        if (rc != 0)
            return rc;
        (*added)++;
        if (hold) {
            rc = uw_pt_interrupt(t);
            if (rc != 0)
                return rc;
        }
    }
    return 0;
}

/* Open a session (pause.h).  In the all-threads mode /proc/PID/task is
 * read until a pass finds no thread it did not know (a thread created by
 * one not attached yet shows up in the next pass; one created by an
 * attached thread is attached by the kernel), at most
 * UW_PAUSE_SCAN_PASSES passes.  SIGCHLD is blocked for the session's
 * waits.  On failure everything attached so far is detached. */
int uw__pause_open(pid_t pid, pid_t tid, uw__pause **out, char *why, size_t len)
{
    uw__pause *p;
    sigset_t chld;
    pid_t refused = 0;
    int rc = 0;

    if (why != NULL && len > 0)
        why[0] = '\0';
    if (out == NULL || pid <= 0 || tid < 0)
        return UW_ERR_INVALID_ARG;
    *out = NULL;
    if (kill(pid, 0) != 0 && errno == ESRCH)
        return UW_ERR_NO_PROCESS;
    p = calloc(1, sizeof *p);
    if (p == NULL)
        return UW_ERR_NOMEM;
    p->pid = pid;
    p->only = tid;
    p->clock_on = 0; /* uw__pause_set_clock */
    p->rng = (uw_pt_now_ns() ^ ((uint64_t)pid << 32)) | 1u;
    if (tid == 0) {
        p->scan = malloc(UW_PAUSE_LIMIT_THREADS * sizeof *p->scan);
        if (p->scan == NULL) {
            free(p);
            return UW_ERR_NOMEM;
        }
    }
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    pthread_sigmask(SIG_BLOCK, &chld, &p->old_mask);

    if (tid > 0) {
        char path[64];
        struct stat st;
        snprintf(path, sizeof path, "/proc/%d/task/%d", (int)pid, (int)tid);
        if (stat(path, &st) != 0) {
            rc = UW_ERR_NO_PROCESS;
            if (why != NULL && len > 0)
                snprintf(why, len, "thread %d is not a thread of pid %d", (int)tid, (int)pid);
        } else {
            rc = uw_pt_seize(p, tid, NULL);
            if (rc == UW_ERR_PTRACE)
                refused = tid;
        }
    } else {
        unsigned pass;
        size_t added = 1;
        for (pass = 0; rc == 0 && added > 0; pass++) {
            if (pass == UW_PAUSE_SCAN_PASSES) {
                rc = UW_ERR_STOP_TIMEOUT;
                if (why != NULL && len > 0)
                    snprintf(why, len,
                             "pid %d kept creating threads over %d passes of its task list",
                             (int)pid, UW_PAUSE_SCAN_PASSES);
                break;
            }
            rc = uw_pt_scan(p, p->scan, 0, &added, &refused);
        }
        if (rc == 0 && uw__pause_threads(p) == 0)
            rc = UW_ERR_NO_PROCESS;
    }
    if (rc == UW_ERR_PTRACE)
        uw_pt_explain_refusal(pid, refused, EPERM, why, len);
    if (rc == 0) {
        /* Attached threads that created threads meanwhile wait in a clone
         * event: answer them now. */
        int r = uw_pt_poll(p, UW_PT_RESTART);
        rc = r < 0 ? r : 0;
    }
    if (rc != 0) {
        (void)uw__pause_close(p);
        return rc;
    }
    *out = p;
    return 0;
}
