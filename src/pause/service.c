/*
 * service.c — answering the threads between samples.
 *
 * A traced thread that receives a signal, creates a thread or is stopped
 * by job control waits for its tracer before it goes on.  Between samples
 * tornstack therefore does not sleep blindly: it sleeps in the session's
 * wait (SIGCHLD) and answers each such stop as it comes, so a signal
 * reaches the target within microseconds and a new thread starts at once.
 */
#define _GNU_SOURCE
#include "pause/internal.h"
#include "tornstack/error.h"

/* Until the deadline: collect reports and restart each stopped thread
 * (passing its signal on, leaving a group-stop in force).  Returns early,
 * with 0, after a signal handler of the caller ran.  Bounded by time;
 * each poll by the table's size.  The records of threads gone are dropped
 * before every poll, not only once: a target whose threads come and go
 * ends many in one service, and their records, kept till dropped, once
 * filled the table's room (twice the thread bound) while four threads
 * ran, so the next newborn was refused as over the bound (unit_pause,
 * test_new_threads, at small limits under load).  Between two polls
 * nothing here holds a record, so moving them is safe. */
int uw__pause_service(uw__pause *p, int64_t timeout_us)
{
    uint64_t deadline;
    int rc;

    if (p == NULL || p->stop_start_ns != 0)
        return UW_ERR_INVALID_ARG;
    deadline = uw_pt_now_ns() + (timeout_us > 0 ? (uint64_t)timeout_us * 1000u : 0);
    for (;;) {
        int interrupted = 0, late;
        uw_pt_compact(p);
        rc = uw_pt_poll(p, UW_PT_RESTART);
        if (rc < 0)
            return rc;
        if (uw__pause_threads(p) == 0)
            return UW_ERR_NO_PROCESS;
        late = uw_pt_sleep(deadline, &interrupted);
        if (late || interrupted) {
            uw_pt_compact(p);
            rc = uw_pt_poll(p, UW_PT_RESTART);
            if (rc < 0)
                return rc;
            return uw__pause_threads(p) == 0 ? UW_ERR_NO_PROCESS : 0;
        }
    }
}

/* The run time and sleep of one attached thread, for a caller that
 * wants a thread to have moved on before it stops it again (a stop that
 * landed in a few instructions no reader can take as one instant is worth
 * repeating only once the thread ran). */
int uw__pause_thread_clock(uw__pause *p, pid_t tid, uint64_t *run_ns, int *asleep)
{
    const uw_pt *t;
    char state;
    int rc;

    if (p == NULL || run_ns == NULL || asleep == NULL)
        return UW_ERR_INVALID_ARG;
    *run_ns = 0;
    *asleep = 0;
    t = uw_pt_find(p, tid);
    if (t == NULL || t->state == UW_PT_GONE)
        return UW_ERR_NOT_FOUND;
    rc = uw_pt_runtime(p->pid, tid, run_ns, &state);
    *asleep = state == 'S' || state == 'D';
    return rc;
}
