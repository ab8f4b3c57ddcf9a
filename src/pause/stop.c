/*
 * stop.c — holding the threads for a sample, and letting them go.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <time.h>

#include "pause/internal.h"
#include "tornstack/error.h"
#include "tornstack/limits.h"

/* Collect the reports already in, if SIGCHLD says there are any: a thread
 * that stopped on its own since the last poll (a signal to deliver, a
 * clone) is held as it is, and an exited one is dropped.  The check costs
 * one system call where a poll costs one per thread. */
static int uw_pt_collect_pending(uw__pause *p)
{
    sigset_t pend, chld;
    struct timespec zero = {0, 0};
    int rc;

    if (sigpending(&pend) != 0 || !sigismember(&pend, SIGCHLD))
        return 0;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    (void)sigtimedwait(&chld, NULL, &zero);
    rc = uw_pt_poll(p, UW_PT_HOLD);
    return rc < 0 ? rc : 0;
}

/* With `by_clock`, stop each running thread that has a clock (clock.c)
 * by it, and wait for those: a thread that the kernel shows running or
 * runnable, whose clock runs with it.  A clock that has not stopped its
 * thread within UW_PAUSE_CLOCK_WAIT_MS (the thread slept since, and its
 * clock stood) is left to PTRACE_INTERRUPT, which stops the rest after
 * this.  The threads asleep are interrupted only then, so none of them is
 * held while the clocks run.  Every clock is disarmed on the way out. */
static int uw_pt_stop_by_clock(uw__pause *p, uint64_t deadline_ns)
{
    uint64_t soon;
    size_t i, armed = 0;
    int rc;

    for (i = 0; i < p->n; i++) {
        uw_pt *t = &p->threads[i];
        uint64_t times[2];
        char state;
        if (t->state != UW_PT_RUNNING || t->pfd < 0 ||
            uw_pt_sched_times(p->pid, t->tid, &state, times) != 0 || state != 'R')
            continue;
        if (uw_pt_clock_kernel_turn(p, t, times)) {
            p->stats.clock_kernel_turns++; /* interrupted with the rest */
            t->turn = 1;
            t->turn_tries = 0;
            t->turn_until_ns = uw_pt_now_ns() + (uint64_t)UW_PAUSE_CLOCK_WAIT_MS * 1000000u;
            continue;
        }
        if (uw_pt_clock_arm(p, t) == 0)
            armed++;
    }
    if (armed == 0)
        return 0;
    /* one thread stops alone: the window opens with its stop (the caller
     * opens it next); with several, the first may be held while the
     * others run on, so it opens now, counting the wait as held */
    if (armed > 1 && p->stop_start_ns == 0)
        p->stop_start_ns = uw_pt_now_ns();
    soon = uw_pt_now_ns() + (uint64_t)UW_PAUSE_CLOCK_WAIT_MS * 1000000u;
    rc = uw_pt_wait_stopped(p, soon < deadline_ns ? soon : deadline_ns);
    for (i = 0; i < p->n; i++) {
        uw_pt *t = &p->threads[i];
        if (t->state == UW_PT_STOPPING && t->armed) {
            p->stats.clock_late++;
            t->state = UW_PT_RUNNING; /* its report is still due: interrupted next */
        }
        if (t->armed)
            t->check_stray = 1; /* it may have fired as it was disarmed */
        uw_pt_clock_disarm(t);
    }
    return rc == UW_ERR_STOP_TIMEOUT ? 0 : rc;
}

/* Bring every thread to a stop and hold it: stop those running (by their
 * clocks with `by_clock`, the rest by PTRACE_INTERRUPT) and wait for each
 * report (or exit).  With `rescan` (the all-threads mode),
 * /proc/PID/task is then read while everything is stopped: a stopped
 * thread cannot create one, so a thread listed there and not held yet
 * escaped the clone events (a race of the first attach); it is attached,
 * interrupted and waited for, and the listing read again, at most
 * UW_PAUSE_SCAN_PASSES times.  On return with 0, every thread the kernel
 * lists is held or has exited. */
int uw_pt_stop_everything(uw__pause *p, uint64_t deadline_ns, int rescan, int by_clock,
                          pid_t *refused)
{
    unsigned pass;
    size_t i;
    int rc = uw_pt_collect_pending(p);

    if (rc == 0 && by_clock && p->clock_on)
        rc = uw_pt_stop_by_clock(p, deadline_ns);
    if (rc != 0)
        return rc;
    /* the window opens when the first thread is held: the clocks' wait
     * let the target run */
    if (p->stop_start_ns == 0)
        p->stop_start_ns = uw_pt_now_ns();
    for (i = 0; i < p->n; i++) {
        rc = uw_pt_interrupt(&p->threads[i]);
        if (rc != 0)
            return rc;
    }
    rc = uw_pt_wait_stopped(p, deadline_ns);
    if (rc == 0)
        uw_pt_clock_find_strays(p);
    if (rc != 0 || !rescan || p->only != 0)
        return rc;
    for (pass = 0; pass < UW_PAUSE_SCAN_PASSES; pass++) {
        size_t added = 0;
        rc = uw_pt_scan(p, p->scan, 1, &added, refused);
        if (rc == 0 && added > 0) {
            p->stats.late_attached += added;
            rc = uw_pt_wait_stopped(p, deadline_ns);
        }
        if (rc != 0 || added == 0)
            return rc;
    }
    return UW_ERR_STOP_TIMEOUT;
}

/* Restart every held thread; the first error is returned, but every
 * thread is tried. */
static int uw_pt_restart_all(uw__pause *p)
{
    size_t i;
    int first = 0;

    for (i = 0; i < p->n; i++) {
        int rc = uw_pt_restart(p, &p->threads[i]);
        if (rc != 0 && first == 0)
            first = rc;
    }
    return first;
}

/* End the stop window: its length goes into the statistics. */
static void uw_pt_window_end(uw__pause *p)
{
    uint64_t dt;

    if (p->stop_start_ns == 0)
        return;
    dt = uw_pt_now_ns() - p->stop_start_ns;
    p->stats.stops++;
    p->stats.stopped_ns += dt;
    if (dt > p->stats.stopped_max_ns)
        p->stats.stopped_max_ns = dt;
    p->stop_start_ns = 0;
}

int uw__pause_stop_all(uw__pause *p)
{
    pid_t refused = 0;
    int rc;

    if (p == NULL)
        return UW_ERR_INVALID_ARG;
    if (p->stop_start_ns == 0)
        uw_pt_compact(p);
    rc = uw_pt_stop_everything(p, uw_pt_now_ns() + (uint64_t)UW_PAUSE_STOP_TIMEOUT_MS * 1000000u, 1,
                               1, &refused);
    if (rc == 0 && uw__pause_threads(p) == 0)
        rc = UW_ERR_NO_PROCESS;
    if (rc != 0) {
        (void)uw_pt_restart_all(p);
        p->stop_start_ns = 0;
    }
    return rc;
}

int uw__pause_resume_all(uw__pause *p)
{
    int rc;

    if (p == NULL)
        return UW_ERR_INVALID_ARG;
    rc = uw_pt_restart_all(p);
    uw_pt_window_end(p);
    /* a clock's signal left pending behind this stop is taken now, not
     * at the next service (clock.c) */
    if (rc == 0)
        rc = uw_pt_clock_settle_strays(p, UW_PT_RESTART);
    return rc;
}

/* One thread: PTRACE_INTERRUPT and wait for its report, nothing else —
 * the cheap pause of a single (loop) thread. */
int uw__pause_stop_thread(uw__pause *p, pid_t tid)
{
    uw_pt *t;
    int rc;

    if (p == NULL)
        return UW_ERR_INVALID_ARG;
    t = uw_pt_find(p, tid);
    if (t == NULL)
        return UW_ERR_NOT_FOUND;
    if (t->state == UW_PT_STOPPED)
        return 0;
    if (p->stop_start_ns == 0)
        p->stop_start_ns = uw_pt_now_ns();
    rc = uw_pt_interrupt(t);
    if (rc == 0)
        rc = uw_pt_wait_stopped(p, uw_pt_now_ns() + (uint64_t)UW_PAUSE_STOP_TIMEOUT_MS * 1000000u);
    t = uw_pt_find(p, tid);
    if (rc == 0 && (t == NULL || t->state != UW_PT_STOPPED))
        rc = UW_ERR_NO_PROCESS;
    if (rc != 0) {
        if (t != NULL)
            (void)uw_pt_restart(p, t);
        if (uw_pt_count(p, UW_PT_STOPPED) == 0)
            p->stop_start_ns = 0;
    }
    return rc;
}

int uw__pause_resume_thread(uw__pause *p, pid_t tid)
{
    uw_pt *t;
    int rc;

    if (p == NULL)
        return UW_ERR_INVALID_ARG;
    t = uw_pt_find(p, tid);
    if (t == NULL)
        return UW_ERR_NOT_FOUND;
    rc = uw_pt_restart(p, t);
    if (uw_pt_count(p, UW_PT_STOPPED) == 0)
        uw_pt_window_end(p);
    return rc;
}

/* On opens an event for each thread without one (unless the kernel
 * refused them before); off closes every one (none is needed, and each is
 * a file descriptor).  A change between counting kernel time and not
 * opens every event again. */
void uw__pause_set_clock(uw__pause *p, int mode)
{
    int user_only;
    size_t i;

    if (p == NULL)
        return;
    user_only = mode != UW_PAUSE_CLOCK_KERNEL || p->clock_kernel_refused;
    p->clock_on = mode != UW_PAUSE_CLOCK_OFF && p->stats.clock_refused == 0;
    for (i = 0; i < p->n; i++) {
        uw_pt *t = &p->threads[i];
        if (!p->clock_on || user_only != p->clock_user_only)
            uw_pt_clock_close(t);
    }
    p->clock_user_only = user_only;
    for (i = 0; i < p->n && p->clock_on; i++) {
        uw_pt *t = &p->threads[i];
        if (t->pfd < 0 && t->state != UW_PT_GONE)
            uw_pt_clock_open(p, t);
    }
}
