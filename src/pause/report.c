/*
 * report.c — what a thread's wait status means, and how to restart it.
 *
 * Every thread is attached with PTRACE_SEIZE, so the kernel tells the
 * stops apart for us (ptrace(2), "Stopped states"):
 *
 *   status>>16 == PTRACE_EVENT_STOP, WSTOPSIG a stop signal
 *       group-stop: someone sent SIGSTOP (SIGTSTP, SIGTTIN, SIGTTOU) and
 *       the whole process is meant to be stopped.  Restarted with
 *       PTRACE_LISTEN, which leaves it stopped until SIGCONT; a PTRACE_CONT
 *       here would let the target run through a job-control stop.
 *   status>>16 == PTRACE_EVENT_STOP, WSTOPSIG SIGTRAP
 *       the stop asked for by PTRACE_INTERRUPT, the first stop of a thread
 *       the kernel attached at its birth, or the notice that SIGCONT ended
 *       a group-stop.  Restarted with PTRACE_CONT and no signal.
 *   status>>16 == another PTRACE_EVENT_*
 *       an event we asked for (PTRACE_EVENT_CLONE: a new thread, whose id
 *       PTRACE_GETEVENTMSG gives).  PTRACE_CONT, no signal.
 *   status>>16 == 0, WSTOPSIG SIGTRAP | 0x80
 *       a system-call stop, which only a kernel turn asks for (clock.c:
 *       restarted with PTRACE_SYSCALL, the thread stops as it enters its
 *       next system call; PTRACE_O_TRACESYSGOOD sets the 0x80).
 *       PTRACE_CONT, no signal: the call then runs.
 *   status>>16 == 0
 *       signal-delivery-stop: the thread was about to receive WSTOPSIG.
 *       Restarted with PTRACE_CONT and that very signal, so the target
 *       receives every signal it was sent (a zero here would discard it);
 *       but for the signal of our own clock (clock.c), told apart by its
 *       siginfo, which is the stop asked for and is dropped.
 *
 * Any ptrace-stop also satisfies a pending PTRACE_INTERRUPT (the kernel
 * clears the pending trap when a thread enters any trap), so a thread
 * that reports one of these after an interrupt is stopped, whichever it
 * was.  An exit status (WIFEXITED / WIFSIGNALED) means the thread is gone
 * and has been reaped by the wait.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <sys/ptrace.h>
#include <sys/wait.h>

#include "pause/internal.h"
#include "tornstack/error.h"

static int uw_pt_is_stop_signal(int sig)
{
    return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

/* Apply one wait status of thread t.  In UW_PT_RESTART mode a stop is
 * answered at once; in UW_PT_HOLD mode the thread stays stopped with what
 * its restart needs.  A clone event adds the newborn, whose first stop is
 * due, to the table (this may move the table: t is not used after). */
int uw_pt_report(uw__pause *p, uw_pt *t, int status, uw_pt_mode mode)
{
    unsigned event;
    int sig;
    pid_t child = 0, tid = t->tid;
    int rc = 0;

    if (WIFEXITED(status) || WIFSIGNALED(status)) {
        t->state = UW_PT_GONE;
        p->stats.threads_exited++;
        return 0;
    }
    if (!WIFSTOPPED(status))
        return 0;
    sig = WSTOPSIG(status);
    event = (unsigned)status >> 16;
    t->state = UW_PT_STOPPED;
    t->sig = 0;
    if (!(event == PTRACE_EVENT_STOP && mode == UW_PT_HOLD))
        t->turn = 0; /* any other stop ends a turn where it landed */
    if (event == PTRACE_EVENT_STOP) {
        t->kind = uw_pt_is_stop_signal(sig) ? UW_PK_GROUP : UW_PK_TRAP;
        if (t->kind == UW_PK_TRAP)
            t->stray &= (uint8_t)~UW_PT_STRAY_TRAP;
        /* a kernel turn's interrupt that landed off a system call runs on
         * to its next one (clock.c) */
        if (t->turn && mode == UW_PT_HOLD && t->kind == UW_PK_TRAP)
            return uw_pt_clock_turn_again(p, t);
    } else if (event == 0 && sig == (SIGTRAP | 0x80)) {
        t->kind = UW_PK_TRAP; /* a kernel turn's system-call stop */
        /* interrupted as it stopped here: that interrupt stops it again
         * once restarted (clock.c) */
        if (t->turn_tries == 2)
            t->stray |= UW_PT_STRAY_TRAP;
    } else if (event != 0) {
        unsigned long msg = 0;
        t->kind = UW_PK_EVENT;
        if (event == PTRACE_EVENT_CLONE && ptrace(PTRACE_GETEVENTMSG, tid, NULL, &msg) == 0)
            child = (pid_t)msg;
    } else if (sig == UW_PT_CLOCK_SIGNAL && uw_pt_clock_signal(t, sig)) {
        t->kind = UW_PK_TRAP; /* our clock's: never passed on */
        t->stray &= (uint8_t)~UW_PT_STRAY_SIGNAL;
        t->limit_left = 0; /* its one overflow taken: the kernel disabled it */
        if (t->armed)
            p->stats.clock_stops++;
        t->armed = 0;
    } else {
        t->kind = UW_PK_SIGNAL;
        t->sig = sig;
        if (sig == UW_PT_CLOCK_SIGNAL) /* someone else's, pending with it: passed on */
            t->stray &= (uint8_t)~UW_PT_STRAY_SIGNAL;
    }
    if (mode == UW_PT_RESTART)
        rc = uw_pt_restart(p, t);
    if (child > 0 && uw_pt_find(p, child) == NULL) {
        int rc2 = uw_pt_add(p, child, UW_PT_STOPPING, NULL);
        if (rc2 != 0) {
            /* Attached by the kernel but not tracked: let it go now rather
             * than leave it in its first stop until this process ends. */
            uw_pt_release(child);
            if (rc == 0)
                rc = rc2;
        }
    }
    return rc;
}

/* Restart a held thread the way its stop requires (see above).  ESRCH
 * means the thread is no longer in a stop we hold: it was killed (SIGKILL
 * wakes a ptrace-stop) or is exiting; its exit status is still to come,
 * so it goes back to the running set, where the next poll reaps it. */
int uw_pt_restart(uw__pause *p, uw_pt *t)
{
    long r;

    if (t->state != UW_PT_STOPPED)
        return 0;
    if (t->kind == UW_PK_GROUP) {
        r = ptrace(PTRACE_LISTEN, t->tid, NULL, NULL);
        if (r == 0)
            p->stats.group_stops++;
        else if (errno == EIO) /* the group-stop ended meanwhile */
            r = ptrace(PTRACE_CONT, t->tid, NULL, NULL);
    } else {
        int sig = t->kind == UW_PK_SIGNAL ? t->sig : 0;
        r = ptrace(PTRACE_CONT, t->tid, NULL, (void *)(uintptr_t)sig);
        if (r == 0 && sig != 0)
            p->stats.signals_passed++;
    }
    if (r != 0 && errno != ESRCH)
        return UW_ERR_IO;
    t->state = UW_PT_RUNNING;
    t->sig = 0;
    t->turn = 0;
    t->turn_tries = 0;
    return 0;
}
