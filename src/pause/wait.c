/*
 * wait.c — collecting the threads' reports, with a deadline.
 *
 * A report is taken with the thread's own id (waitpid(tid, ..., WNOHANG |
 * __WALL)), never with waitpid(-1), which would also reap children of the
 * caller that are none of our business; waitid(P_ALL, ..., WNOWAIT) only
 * peeks at which child has something to say.  Per-thread waits also keep
 * the thread-group leader from blocking us: the kernel reports the
 * leader's exit only once every other thread has been reaped, and a
 * blocking wait on the leader alone would wait for reaps that never come.
 *
 * Between polls the caller sleeps in sigtimedwait() on SIGCHLD, which the
 * session keeps blocked: every ptrace-stop and every exit of a traced
 * thread sends the tracer SIGCHLD, so the sleep ends as soon as there is
 * something to collect.  A poll always follows a sleep, so a report that
 * arrives between the poll and the sleep finds SIGCHLD pending and the
 * sleep returns at once.  The sleep is also cut into slices of
 * UW_PT_SLEEP_SLICE_MS as a safety net against a lost notification.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "pause/internal.h"
#include "tornstack/error.h"
#include "tornstack/limits.h"

/* Longest single sleep between two polls. */
#define UW_PT_SLEEP_SLICE_MS 50
/* Reports taken from one thread in one pass of the slow path. */
#ifndef UW_PT_REPORTS_PER_THREAD
#define UW_PT_REPORTS_PER_THREAD 64
#endif

uint64_t uw_pt_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Reports taken in one poll: each is a thread's stop or exit, and a
 * thread restarted at once may stop again at once (several signals
 * queued); the next poll goes on where this one stopped. */
#define UW_PT_POLL_REPORTS (4 * UW_PAUSE_LIMIT_THREADS)

/* Wait for one named thread without blocking and apply what it reports. */
static int uw_pt_poll_one(uw__pause *p, size_t i, uw_pt_mode mode, int *err)
{
    uw_pt *t = &p->threads[i];
    int status = 0, rc;
    pid_t w;

    do
        w = waitpid(t->tid, &status, WNOHANG | __WALL);
    while (w < 0 && errno == EINTR);
    if (w == 0)
        return 0;
    if (w < 0) {
        /* ECHILD: not our tracee any more (detached by the kernel, or
         * reaped): nothing more will come from it. */
        t->state = UW_PT_GONE;
        return 0;
    }
    rc = uw_pt_report(p, t, status, mode);
    if (rc != 0 && *err == 0)
        *err = rc;
    return 1;
}

/* Collect what the threads have reported, without blocking, and apply it
 * (report.c) in `mode`.  Fast path: waitid(P_ALL, WNOWAIT) names the next
 * child with something to report without taking it; if it is one of our
 * threads, that thread's own waitpid takes it (two calls a report, however
 * many threads).  If the kernel names nothing, nothing is pending.  If it
 * names a process we do not know (a child of the caller, or a newborn
 * thread whose clone event is still queued on its parent), the slow path
 * asks each of our threads in turn by its id.  A report may append a
 * newborn to the table; the walk is by index.  Returns the number of
 * reports taken (at most UW_PT_POLL_REPORTS), or an error. */
int uw_pt_poll(uw__pause *p, uw_pt_mode mode)
{
    int reports = 0, err = 0;
    size_t i;

    while (reports < UW_PT_POLL_REPORTS) {
        siginfo_t si;
        uw_pt *t;
        memset(&si, 0, sizeof si);
        if (waitid(P_ALL, 0, &si, WEXITED | WSTOPPED | WNOHANG | WNOWAIT | __WALL) != 0) {
            if (errno == EINTR)
                continue;
            return err != 0 ? err : reports; /* ECHILD: no child at all */
        }
        if (si.si_pid == 0)
            return err != 0 ? err : reports;
        t = uw_pt_find(p, si.si_pid);
        if (t == NULL)
            break;
        if (uw_pt_poll_one(p, (size_t)(t - p->threads), mode, &err) == 0)
            break; /* named but not taken: let the slow path sort it out */
        reports++;
    }
    for (i = 0; i < p->n && reports < UW_PT_POLL_REPORTS; i++) {
        int k;
        for (k = 0; k < UW_PT_REPORTS_PER_THREAD; k++) {
            if (p->threads[i].state == UW_PT_GONE)
                break;
            if (uw_pt_poll_one(p, i, mode, &err) == 0)
                break;
            reports++;
        }
    }
    return err != 0 ? err : reports;
}

/* Sleep until SIGCHLD, the deadline, or a signal caught by the caller's
 * handler (then *interrupted is set, so the caller can look at its flags).
 * Returns 1 if the deadline has passed. */
int uw_pt_sleep(uint64_t deadline_ns, int *interrupted)
{
    sigset_t chld;
    struct timespec ts;
    uint64_t now = uw_pt_now_ns(), left;

    if (now >= deadline_ns)
        return 1;
    left = deadline_ns - now;
    if (left > (uint64_t)UW_PT_SLEEP_SLICE_MS * 1000000u)
        left = (uint64_t)UW_PT_SLEEP_SLICE_MS * 1000000u;
    ts.tv_sec = (time_t)(left / 1000000000u);
    ts.tv_nsec = (long)(left % 1000000000u);
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    if (sigtimedwait(&chld, NULL, &ts) < 0 && errno == EINTR && interrupted != NULL)
        *interrupted = 1;
    return 0;
}

/* Wait until no thread has a stop due (each has reported a stop or its
 * exit), holding every stop.  A signal caught meanwhile does not end the
 * wait: the threads interrupted must be collected before they can be
 * restarted or detached.  UW_ERR_STOP_TIMEOUT at the deadline. */
int uw_pt_wait_stopped(uw__pause *p, uint64_t deadline_ns)
{
    uint64_t turn;

    for (;;) {
        int rc = uw_pt_poll(p, UW_PT_HOLD);
        if (rc < 0)
            return rc;
        if (uw_pt_count(p, UW_PT_STOPPING) == 0)
            return 0;
        /* a kernel turn running to its next system call is interrupted
         * when its time is up (clock.c) */
        turn = uw_pt_clock_turns_due(p);
        if (turn < deadline_ns) {
            (void)uw_pt_sleep(turn, NULL);
            continue;
        }
        if (uw_pt_sleep(deadline_ns, NULL))
            return uw_pt_poll(p, UW_PT_HOLD) >= 0 && uw_pt_count(p, UW_PT_STOPPING) == 0
                       ? 0
                       : UW_ERR_STOP_TIMEOUT;
    }
}
