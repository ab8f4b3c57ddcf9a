/*
 * pause.h — stop a live process's threads while a sample is read, with
 * ptrace, and never leave one stopped or traced.
 *
 * This is the private API of src/pause/ (the CLI's --blocking mode, and
 * the thread pause of an adaptive mode).  A session attaches once: either
 * every thread of the process (PTRACE_SEIZE each thread of /proc/PID/task,
 * with PTRACE_O_TRACECLONE so that new threads are attached by the kernel
 * as they are born), or one thread only (the loop thread of an adaptive
 * pause, by native id).  Then, as often as needed:
 *
 *   uw__pause_stop_all()   stop every attached thread and wait for every
 *                         one to report its stop (by PTRACE_INTERRUPT; with
 *                         uw__pause_set_clock, a running thread by its own
 *                         CPU-time clock, so that it stops where it stands,
 *                         pause/clock.c);
 *                         in the
 *                         all-threads mode /proc/PID/task is read again
 *                         while they are stopped, and a thread found there
 *                         that is not held yet is attached and stopped too.
 *                         On success every thread of the process is in a
 *                         ptrace-stop (or has exited).
 *   uw__pause_resume_all() restart each thread the way its stop requires:
 *                         PTRACE_CONT, with the signal it was about to
 *                         receive if it stopped for one (a target's signal
 *                         is never swallowed), or PTRACE_LISTEN if it is
 *                         in a group-stop (a job-control stop asked for by
 *                         someone else stays in force).
 *   uw__pause_stop_thread() / uw__pause_resume_thread()
 *                         the same for one thread.
 *   uw__pause_service()    between samples: while the threads run, stops
 *                         they report on their own (a signal to deliver,
 *                         a group-stop, a new thread) are answered at
 *                         once, so the target waits for tornstack only
 *                         while a sample is read.
 *   uw__pause_close()      detach from every thread, passing on any signal
 *                         held; a thread stopped by job control stays
 *                         stopped, every other one runs on.
 *
 * Guarantees: no stop is ever created with SIGSTOP (PTRACE_SEIZE and
 * PTRACE_INTERRUPT only), so when the tracer dies, even by SIGKILL, the
 * kernel's detach lets every thread run on, and a signal held in a
 * signal-delivery-stop is delivered.  Each wait is bounded by
 * UW_PAUSE_STOP_TIMEOUT_MS; the thread table by UW_PAUSE_LIMIT_THREADS.
 *
 * While a session is open, SIGCHLD is blocked in the calling thread (the
 * waits sleep in sigtimedwait on it) and the previous mask is restored by
 * uw__pause_close().  Waits name each thread (waitpid(tid, ..., __WALL)),
 * so other children of the caller are never reaped.  One session per
 * process at a time (the kernel allows one tracer per thread).
 *
 * Every function returns 0 or a negative uw_ code (error.h); errno never
 * escapes.  UW_ERR_PTRACE means the kernel refused to attach: the `why`
 * sentence of uw__pause_open says which of the usual causes applies.
 */
#ifndef TORNSTACK_PAUSE_H
#define TORNSTACK_PAUSE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct uw__pause uw__pause;

/* Counters of a session (uw__pause_stats).  A "stop" is one stop_all or
 * stop_thread with its resume; its time runs from the first interrupt to
 * the last restart. */
typedef struct uw__pause_stats {
    uint64_t stops;                  /* stops completed (stop then resume) */
    uint64_t stopped_ns;             /* total time the target was held stopped */
    uint64_t stopped_max_ns;         /* longest single stop */
    uint64_t signals_passed;         /* signals held in a stop and delivered on restart */
    uint64_t group_stops;            /* group-stops (job control) left in force */
    uint64_t threads_seen;           /* threads ever attached, newborns included */
    uint64_t threads_exited;         /* threads that exited while attached */
    uint64_t late_attached;          /* threads found by a re-scan, not by a clone event */
    uint64_t clock_stops;            /* threads stopped by their own clock (pause/clock.c) */
    uint64_t clock_late;             /* clocks armed that did not stop their thread in time:
                                      * interrupted instead */
    int clock_refused;               /* 0, or the errno that turned the clocks off (every
                                      * thread is then interrupted) */
    int clock_user_only;             /* the clocks count user time only (not
                                      * UW_PAUSE_CLOCK_KERNEL, or the kernel refused it) */
    uint64_t clock_kernel_turns;     /* with clocks of user time only: running threads
                                      * interrupted in the place of their kernel
                                      * time (pause/clock.c) */
    uint64_t clock_turn_retries;     /* ... whose stop came off a system call:
                                      * restarted to their next one */
    uint64_t clock_turns_off_call;   /* ... kept off a system call (none came in
                                      * time) */
    uint64_t clock_strays;           /* clocks whose signal came as they were
                                      * disarmed, taken on restart (clock.c) */
    uint64_t clock_strays_unsettled; /* ... not taken within the stop timeout */
    uint64_t clock_blocked;          /* threads found blocking the clocks' signal:
                                      * interrupted from then on (clock.c) */
} uw__pause_stats;

/* Attach to process `pid`.  tid == 0: every thread, and every thread it
 * creates later.  tid > 0: only that thread of pid (it must be one).
 * On failure nothing stays attached; `why` (may be NULL) gets a sentence:
 * for UW_ERR_PTRACE, which cause applies (another tracer, another user,
 * a seccomp filter on this process, Yama's ptrace_scope).
 * Errors: UW_ERR_INVALID_ARG, UW_ERR_NO_PROCESS, UW_ERR_PTRACE,
 * UW_ERR_LIMIT_THREADS, UW_ERR_STOP_TIMEOUT, UW_ERR_NOMEM, UW_ERR_IO. */
int uw__pause_open(pid_t pid, pid_t tid, uw__pause **out, char *why, size_t why_len);

/* Stop every attached thread (see above).  UW_ERR_NO_PROCESS when no
 * thread is left (the target exited; nothing is held then).  On any
 * other error the threads that did stop are restarted before returning. */
int uw__pause_stop_all(uw__pause *p);

/* Restart every thread held by stop_all / stop_thread.  Threads that
 * exited meanwhile are dropped; that is not an error. */
int uw__pause_resume_all(uw__pause *p);

/* Stop / restart one attached thread, by native id.  UW_ERR_NOT_FOUND if
 * tid is not attached, UW_ERR_NO_PROCESS if it exited. */
int uw__pause_stop_thread(uw__pause *p, pid_t tid);

/* How running threads are stopped (uw__pause_set_clock): by
 * PTRACE_INTERRUPT alone (OFF, a session's initial mode: no event is
 * opened); by their own clocks where perf events allow, clocks that count
 * user time only, with the kernel's share of a thread's time given back
 * by interrupting it in that proportion (ON: the same with or without
 * privilege; pause/clock.c; the CLI's default); or by clocks that count
 * kernel time too where the kernel allows it (KERNEL; else as ON;
 * docs/pause.md measures both).  Takes effect from the next stop; a clock
 * mode after the kernel refused the events does nothing. */
#define UW_PAUSE_CLOCK_OFF 0
#define UW_PAUSE_CLOCK_ON 1
#define UW_PAUSE_CLOCK_KERNEL 2
void uw__pause_set_clock(uw__pause *p, int mode);
int uw__pause_resume_thread(uw__pause *p, pid_t tid);

/* Answer the threads' own stops until `timeout_us` microseconds have
 * passed (0: only what is already reported), or earlier when a signal
 * handler of the caller ran (so a flag it set can be looked at).  Must
 * not be called while threads are held.  UW_ERR_NO_PROCESS when no
 * thread is left. */
int uw__pause_service(uw__pause *p, int64_t timeout_us);

/* How far attached thread tid has got while it runs: the CPU time it
 * has run (nanoseconds) and whether it sleeps (in a system call or a
 * page wait: state S or D) rather than runs or waits for a CPU.  A
 * stopped thread's run time is exact; a running one's lags by up to a
 * scheduler tick.  UW_ERR_NOT_FOUND if tid is not attached,
 * UW_ERR_NO_PROCESS if it exited, UW_ERR_IO if the kernel keeps no run
 * time (no schedstat). */
int uw__pause_thread_clock(uw__pause *p, pid_t tid, uint64_t *run_ns, int *asleep);

/* Threads currently attached (exited ones are not counted). */
size_t uw__pause_threads(const uw__pause *p);

void uw__pause_stats_get(const uw__pause *p, uw__pause_stats *out);

/* The thread ids listed in /proc/PID/task, at most cap of them (more is
 * UW_ERR_LIMIT_THREADS), UW_ERR_NO_PROCESS, UW_ERR_PERMISSION or UW_ERR_IO.
 * (pause/scan.c; the live reader's run clocks list threads with it too.) */
int uw__proc_tasks(pid_t pid, pid_t *tids, size_t cap, size_t *n);

/* The state letter of thread tid of pid ('R', 'S', 'Z', ...) in *state
 * ('?' when it cannot be read), from /proc/PID/task/TID/stat: 0,
 * UW_ERR_NO_PROCESS if the thread is gone, UW_ERR_IO.  (pause/scan.c; the
 * live reader asks it of a process whose leader may have exited.) */
int uw__proc_thread_state(pid_t pid, pid_t tid, char *state);

/* Has a thread in this state exited?  A zombie, not reaped yet (a
 * leader is not while its group lives), or dead. */
static inline int uw__proc_state_gone(char state)
{
    return state == 'Z' || state == 'X' || state == 'x';
}

/* Detach from every thread and free p (NULL is fine).  Held signals are
 * delivered, job-control stops stay, every other thread runs on.  Returns
 * UW_ERR_STOP_TIMEOUT if a thread could not be brought to a stop to be
 * detached (the kernel detaches it when this process exits). */
int uw__pause_close(uw__pause *p);

#endif /* TORNSTACK_PAUSE_H */
