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
 * The clocks count user time only (counting kernel time too needs
 * privilege: CAP_PERFMON, or a perf_event_paranoid below 2, and measured
 * worse; UW_PAUSE_CLOCK_KERNEL asks for it), and the kernel's part of a
 * thread's time is given back by interrupting it in that proportion
 * (uw_pt_clock_kernel_turn): the same stops with or without privilege.
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
#include <sys/user.h>
#include <unistd.h>

#include "pause/internal.h"
#include "tornstack/error.h"
#include "tornstack/limits.h"

void uw_pt_clock_open(uw__pause *p, uw_pt *t)
{
    struct perf_event_attr a;
    struct f_owner_ex owner;
    char state;
    long fd;

    t->pfd = -1;
    t->armed = 0;
    t->limit_left = 0;
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
    /* User time only, unless UW_PAUSE_CLOCK_KERNEL asked for kernel time
     * too.  With kernel time excluded (all a paranoid level of 2 allows
     * the unprivileged) an overflow inside a system call is dropped and
     * the period starts again, so the kernel's part of the thread's time
     * is given back by interrupts instead (uw_pt_clock_kernel_turn).
     * Counting kernel time, such an overflow stops the thread as the call
     * returns, still in the function that made it; on the machines this
     * is tested on that still under-counted the code that makes system
     * calls, by more than the interrupts' turns do (docs/pause.md), so it
     * is the option, not the rule. */
    a.exclude_kernel = p->clock_user_only ? 1u : 0u;
    fd = syscall(SYS_perf_event_open, &a, t->tid, -1, -1, PERF_FLAG_FD_CLOEXEC);
    if (fd < 0 && (errno == EACCES || errno == EPERM) && !a.exclude_kernel) {
        p->clock_user_only = 1;
        p->clock_kernel_refused = 1;
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
    t->times_known = uw_pt_sched_times(p->pid, t->tid, &state, t->times0) == 0;
}

void uw_pt_clock_close(uw_pt *t)
{
    if (t->pfd >= 0)
        close(t->pfd);
    t->pfd = -1;
    t->armed = 0;
    t->limit_left = 0;
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

    if (t->pfd < 0 || t->state != UW_PT_RUNNING || t->clock_blocked)
        return -1;
    /* A refresh adds one to the overflows the event may take before the
     * kernel disables it; a clock disarmed unfired still holds its one,
     * and another refresh would let it fire twice: the second time after
     * the restart, holding the thread in a stop nobody waits for (found
     * by unit_pause with clocks on, 1 run in 20 under load).  Such an
     * event is only enabled again. */
    if (ioctl(t->pfd, PERF_EVENT_IOC_PERIOD, &period) != 0 ||
        ioctl(t->pfd, PERF_EVENT_IOC_RESET, 0) != 0 ||
        (t->limit_left ? ioctl(t->pfd, PERF_EVENT_IOC_ENABLE, 0)
                       : ioctl(t->pfd, PERF_EVENT_IOC_REFRESH, 1)) != 0)
        return -1;
    t->limit_left = 1;
    t->armed = 1;
    t->state = UW_PT_STOPPING;
    return 0;
}

/* With clocks that count user time only, a stop by the clock never lands
 * in the kernel's part of a thread's time: an overflow that comes due
 * there is dropped and the period starts again, so the code that makes
 * system calls would be under-counted by all the time the calls take.
 * That part is given back by chance: a running thread whose kernel share
 * of CPU time is k is not armed with probability k (1: this turn stands
 * for its kernel time) and is interrupted instead, which stops it as its
 * system call returns, or at its next one (the interrupt's usual landing
 * place, docs/pause.md), in the code that made the call.  k is its
 * ratio of kernel to all CPU time in clock ticks (times: now, from
 * /proc/PID/task/TID/stat) since its event opened, or over its whole
 * life until UW_PAUSE_CLOCK_TICKS_MIN ticks have passed since.  With
 * clocks that count kernel time too, always 0. */
int uw_pt_clock_kernel_turn(uw__pause *p, uw_pt *t, const uint64_t times[2])
{
    uint64_t user = times[0], kernel = times[1];

    if (!p->clock_user_only)
        return 0;
    if (t->times_known && times[0] >= t->times0[0] && times[1] >= t->times0[1] &&
        (times[0] - t->times0[0]) + (times[1] - t->times0[1]) >= UW_PAUSE_CLOCK_TICKS_MIN) {
        user = times[0] - t->times0[0];
        kernel = times[1] - t->times0[1];
    }
    if (kernel == 0)
        return 0;
    return uw_pt_clock_rand(p) % (user + kernel) < kernel;
}

/* A kernel turn's stop (uw_pt_clock_kernel_turn) should stand in a system
 * call.  An interrupt lands there when the thread is on a CPU (it takes
 * effect at the next entry to the kernel, and on the machines measured
 * that is its next system call), but a thread that waits for a CPU,
 * preempted at a tick in its own code, stops right there: under load that
 * moved a share of the turns into user code.  So a turn's stop that did
 * not come through a system call (x86-64: orig_rax, the call's number, is
 * -1 after an interrupt or a fault) is restarted with PTRACE_SYSCALL, and
 * the thread stops as it enters its next call (report.c), unless
 * turn_until_ns passes first: then it is interrupted where it runs
 * (uw_pt_clock_turns_due) and kept there, counted.  Once only: a turn
 * never restarts a thread twice.  Elsewhere than x86-64 every landing is
 * kept.  Called for its PTRACE_EVENT_STOP while held: 0, or UW_ERR_IO. */
int uw_pt_clock_turn_again(uw__pause *p, uw_pt *t)
{
    int at_call = 1;
#if defined(__x86_64__)
    struct user_regs_struct regs;

    if (ptrace(PTRACE_GETREGS, t->tid, NULL, &regs) == 0)
        at_call = (long long)regs.orig_rax >= 0;
#endif
    if (at_call || t->turn_tries > 0) {
        if (!at_call)
            p->stats.clock_turns_off_call++;
        t->turn = 0;
        return 0;
    }
    t->turn_tries++;
    p->stats.clock_turn_retries++;
    if (ptrace(PTRACE_SYSCALL, t->tid, NULL, NULL) != 0) {
        if (errno != ESRCH)
            return UW_ERR_IO;
        t->turn = 0; /* going: its exit is still to come */
    }
    t->state = UW_PT_STOPPING;
    return 0;
}

/* Interrupt each turn restarted to its next system call whose
 * turn_until_ns has passed (it made none); return the earliest such time
 * still to come, or UINT64_MAX. */
uint64_t uw_pt_clock_turns_due(uw__pause *p)
{
    uint64_t now = uw_pt_now_ns(), next = UINT64_MAX;
    size_t i;

    for (i = 0; i < p->n; i++) {
        uw_pt *t = &p->threads[i];
        if (!t->turn || t->turn_tries == 0 || t->state != UW_PT_STOPPING)
            continue;
        if (now < t->turn_until_ns) {
            if (t->turn_until_ns < next)
                next = t->turn_until_ns;
        } else if (t->turn_tries == 1) {
            t->turn_tries = 2; /* interrupted once */
            (void)ptrace(PTRACE_INTERRUPT, t->tid, NULL, NULL);
        }
    }
    return next;
}

/* A clock that overflows just as it is disarmed (late, or its thread
 * stopped for another reason first) has its signal queued all the same,
 * behind the stop: the thread takes it once restarted, in a
 * signal-delivery-stop that nobody waits for until the next service, and
 * after a detach the target itself would get it.  So once every thread is
 * held, each thread whose clock was disarmed unfired this stop
 * (check_stray) is looked at: SIGURG pending for it (SigPnd) marks it
 * stray.  The overflow's signal is sent on the thread's own CPU before it
 * returns to user mode, so before it can report the stop that holds it:
 * the look comes late enough.  A SIGURG someone else sent is marked the
 * same way; settling passes it on as always (report.c).  A thread that
 * blocks the signal cannot take it: waiting for its stop would cost the
 * whole stop timeout in every sample.  It is marked clock_blocked instead
 * and interrupted from then on (the signal stays pending for it, and
 * after the detach reaches the program only if it unblocks SIGURG and
 * handles it). */
void uw_pt_clock_find_strays(uw__pause *p)
{
    size_t i;

    for (i = 0; i < p->n; i++) {
        uw_pt *t = &p->threads[i];
        int blocked;
        if (!t->check_stray)
            continue;
        t->check_stray = 0;
        if (t->state == UW_PT_STOPPED &&
            uw_pt_sig_pending(p->pid, t->tid, UW_PT_CLOCK_SIGNAL, &blocked)) {
            t->limit_left = 0; /* it did fire: the kernel disabled it */
            if (blocked) {
                /* blocked, it will not be taken on restart: no stop to
                 * wait for, and no clock can stop this thread */
                t->clock_blocked = 1;
                p->stats.clock_blocked++;
                continue;
            }
            t->stray |= UW_PT_STRAY_SIGNAL;
            p->stats.clock_strays++;
        }
    }
}

/* Take the pending signal of every stray thread (uw_pt_clock_find_strays)
 * that runs: wait, up to UW_PAUSE_STOP_TIMEOUT_MS, for its
 * signal-delivery-stop and answer it in `mode` (UW_PT_RESTART: restarted
 * with no signal if it is ours, with it if not; UW_PT_HOLD: held, for a
 * detach).  A stray not settled by then is counted and left to the next
 * service.  0, or an error of the poll. */
int uw_pt_clock_settle_strays(uw__pause *p, uw_pt_mode mode)
{
    uint64_t deadline = 0;
    size_t i, left;
    int rc;

    for (;;) {
        for (i = 0, left = 0; i < p->n; i++)
            if (p->threads[i].stray && p->threads[i].state != UW_PT_GONE)
                left++;
        if (left == 0)
            return 0;
        if (deadline == 0)
            deadline = uw_pt_now_ns() + (uint64_t)UW_PAUSE_STOP_TIMEOUT_MS * 1000000u;
        else if (uw_pt_now_ns() >= deadline) {
            for (i = 0; i < p->n; i++) {
                uw_pt *t = &p->threads[i];
                if (!t->stray)
                    continue;
                t->stray = 0;
                p->stats.clock_strays_unsettled++;
                /* restarted here and not stopped since: held again */
                if (mode == UW_PT_HOLD && t->state == UW_PT_STOPPING)
                    (void)ptrace(PTRACE_INTERRUPT, t->tid, NULL, NULL);
            }
            return mode == UW_PT_HOLD
                       ? uw_pt_wait_stopped(p, uw_pt_now_ns() +
                                                   (uint64_t)UW_PAUSE_STOP_TIMEOUT_MS * 1000000u)
                       : 0;
        }
        if ((rc = uw_pt_poll(p, mode)) < 0)
            return rc;
        for (i = 0; i < p->n; i++) {
            uw_pt *t = &p->threads[i];
            /* held by another stop: in HOLD mode, restart it the way that
             * stop requires (report.c), and wait for it to take the signal */
            if (t->stray && t->state == UW_PT_STOPPED && mode == UW_PT_HOLD) {
                if ((rc = uw_pt_restart(p, t)) != 0)
                    return rc;
                if (t->state == UW_PT_RUNNING)
                    t->state = UW_PT_STOPPING;
            }
        }
        (void)uw_pt_sleep(deadline, NULL);
    }
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
