/*
 * clock.c — stopping a running thread where it stands, by its own clock.
 *
 * PTRACE_INTERRUPT marks a stop pending and kicks the thread's CPU; the
 * thread stops when it next enters the kernel.  Where the kick is slow
 * (a virtual CPU's interrupt), a thread that makes system calls every few
 * microseconds reaches one first, and every stop lands at a system call:
 * a blocking profile then over-counts the code before them (docs/pause.md,
 * "Where a stop lands").  So a running thread is stopped by a timer of its
 * own instead: a perf task-clock event on the thread, armed with a period
 * of UW_PAUSE_CLOCK_MIN_NS plus a random part below UW_PAUSE_CLOCK_SPREAD_NS
 * of its CPU time, whose overflow sends the thread UW_PT_CLOCK_SIGNAL
 * (F_SETOWN_EX to the thread, F_SETSIG).  The timer interrupt is the
 * thread's own CPU's, so the signal is taken on the way back to the
 * interrupted instruction, wherever that is, and a traced thread stops
 * there in a signal-delivery-stop.  That stop is recognised by its
 * siginfo (si_code POLL_IN or POLL_HUP, si_fd the thread's event) and restarted
 * with no signal: the target never receives it.  The random part keeps
 * the stop from locking onto a phase of a loop that the arming itself
 * may be in step with.
 *
 * The clock runs only while the thread runs: a thread asleep in the
 * kernel is interrupted as before (asleep, it stands in its system call,
 * and a stop there is where it is), and one that has not stopped by its
 * clock within UW_PAUSE_CLOCK_WAIT_MS is interrupted too (counted).
 *
 * The signal is SIGURG, whose default action is to ignore it: one queued
 * when tornstack is killed outright, or after the session let the thread
 * go, does nothing to a program that does not handle it.  A program that
 * handles SIGURG itself gets its own signals passed on as always (they do
 * not come from our event); only a signal of ours that outlives the
 * session would reach its handler.
 *
 * Everything here is optional: a kernel or a policy that refuses perf
 * events (perf_event_paranoid, seccomp, no perf at all) leaves every
 * thread stopped by PTRACE_INTERRUPT, as the statistics say.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "pause/internal.h"
#include "tornstack/error.h"
#include "tornstack/limits.h"

void uw_pt_clock_open(uw__pause *p, uw_pt *t)
{
    struct perf_event_attr a;
    struct f_owner_ex owner;
    long fd;

    t->pfd = -1;
    t->armed = 0;
    if (!p->clock_on)
        return;
    memset(&a, 0, sizeof a);
    a.size = sizeof a;
    a.type = PERF_TYPE_SOFTWARE;
    a.config = PERF_COUNT_SW_TASK_CLOCK;
    a.disabled = 1;
    a.exclude_hv = 1;
    a.wakeup_events = 1; /* every overflow signals */
    a.sample_period = UW_PAUSE_CLOCK_MIN_NS;
    /* Kernel time counts: an overflow inside a system call stops the
     * thread as the call returns, still in the function that made it.
     * With kernel time excluded (all a paranoid level of 2 allows the
     * unprivileged) such an overflow is dropped and the period starts
     * again, which under-counts the code that makes system calls; that is
     * the fallback, and the statistics say so. */
    a.exclude_kernel = p->clock_user_only ? 1u : 0u;
    fd = syscall(SYS_perf_event_open, &a, t->tid, -1, -1, PERF_FLAG_FD_CLOEXEC);
    if (fd < 0 && (errno == EACCES || errno == EPERM) && !a.exclude_kernel) {
        p->clock_user_only = 1;
        a.exclude_kernel = 1;
        fd = syscall(SYS_perf_event_open, &a, t->tid, -1, -1, PERF_FLAG_FD_CLOEXEC);
    }
    if (fd < 0) {
        /* ESRCH: the thread is going; anything else: none will open */
        if (errno != ESRCH) {
            p->clock_on = 0;
            p->stats.clock_refused = errno;
        }
        return;
    }
    owner.type = F_OWNER_TID;
    owner.pid = t->tid;
    if (fcntl((int)fd, F_SETOWN_EX, &owner) != 0 ||
        fcntl((int)fd, F_SETSIG, UW_PT_CLOCK_SIGNAL) != 0 ||
        fcntl((int)fd, F_SETFL, O_ASYNC) != 0) {
        p->clock_on = 0;
        p->stats.clock_refused = errno;
        close((int)fd);
        return;
    }
    t->pfd = (int)fd;
}

void uw_pt_clock_close(uw_pt *t)
{
    if (t->pfd >= 0)
        close(t->pfd);
    t->pfd = -1;
    t->armed = 0;
}

/* xorshift64: the random part of a period (p->rng is never 0). */
static uint64_t uw_pt_clock_rand(uw__pause *p)
{
    uint64_t x = p->rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    p->rng = x;
    return x;
}

/* Arm t's clock for one overflow, a random period from now: 0, or -1 when
 * it cannot be armed (the caller interrupts the thread instead).  The
 * thread is then due to report a stop. */
int uw_pt_clock_arm(uw__pause *p, uw_pt *t)
{
    uint64_t period = UW_PAUSE_CLOCK_MIN_NS + uw_pt_clock_rand(p) % UW_PAUSE_CLOCK_SPREAD_NS;

    if (t->pfd < 0 || t->state != UW_PT_RUNNING)
        return -1;
    if (ioctl(t->pfd, PERF_EVENT_IOC_PERIOD, &period) != 0 ||
        ioctl(t->pfd, PERF_EVENT_IOC_RESET, 0) != 0 ||
        ioctl(t->pfd, PERF_EVENT_IOC_REFRESH, 1) != 0)
        return -1;
    t->armed = 1;
    t->state = UW_PT_STOPPING;
    return 0;
}

/* Disarm t's clock (a stop came, by the clock or otherwise).  An overflow
 * already signalled is dropped when its stop is reported. */
void uw_pt_clock_disarm(uw_pt *t)
{
    if (t->armed && t->pfd >= 0)
        (void)ioctl(t->pfd, PERF_EVENT_IOC_DISABLE, 0);
    t->armed = 0;
}

/* Is t's signal-delivery-stop for `sig` one of our clock's?  Then it is
 * answered with no signal. */
int uw_pt_clock_signal(const uw_pt *t, int sig)
{
    siginfo_t si;

    if (sig != UW_PT_CLOCK_SIGNAL || t->pfd < 0)
        return 0;
    memset(&si, 0, sizeof si);
    if (ptrace(PTRACE_GETSIGINFO, t->tid, NULL, &si) != 0)
        return 0;
    /* POLL_HUP: the overflow that used up the refresh count */
    return (si.si_code == POLL_IN || si.si_code == POLL_HUP) && si.si_fd == t->pfd;
}
