/*
 * blocking.c — the --blocking mode of dump, record and bench: every
 * thread of the target is stopped while a sample is read (src/pause/).
 *
 * Teardown is what matters here.  SIGINT, SIGTERM and SIGHUP only set a
 * flag; the sampling loop sees it, leaves, and the command detaches before
 * it exits.  The handler stays installed through the detach, so a second
 * signal cannot cut it short.  If tornstack is killed outright (SIGKILL),
 * the kernel detaches it; since no stop of ours is a job-control stop,
 * every thread runs on (docs/pause.md).  The job-control stops of
 * tornstack itself (Ctrl-Z, a background write to a terminal with
 * tostop) are ignored while the mode is open: stopped in the middle of a
 * sample, tornstack would keep the target stopped with it.
 */
#define _GNU_SOURCE
#include "blocking.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "tornstack/error.h"

volatile sig_atomic_t ts_stop_signal;

static void ts_on_stop_signal(int sig)
{
    ts_stop_signal = sig;
}

static void ts_nap_us(double us)
{
    struct timespec ts;

    if (!(us > 0))
        return;
    ts.tv_sec = (time_t)(us / 1e6);
    ts.tv_nsec = (long)((us - (double)ts.tv_sec * 1e6) * 1000.0);
    if (ts.tv_nsec > 999999999L)
        ts.tv_nsec = 999999999L;
    (void)nanosleep(&ts, NULL); /* a stop signal ends it early */
}

/* tornstack's own job-control signals, and their actions before the mode
 * was opened (one session a process: the CLI's). */
static const int ts_job_sigs[3] = {SIGTSTP, SIGTTIN, SIGTTOU};
static struct sigaction ts_job_old[3];

int ts_blocking_open(ts_blocking *b, long pid, long hold_ms, int on_torn, int by_clock)
{
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
    struct sigaction sa, ign;
    char why[768];
    size_t i;
    int rc;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = ts_on_stop_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        sigaction(sigs[i], &sa, NULL);
    memset(&ign, 0, sizeof ign);
    ign.sa_handler = SIG_IGN;
    sigemptyset(&ign.sa_mask);
    for (i = 0; i < 3; i++)
        sigaction(ts_job_sigs[i], &ign, &ts_job_old[i]);
    b->hold_ms = hold_ms;
    b->on_torn = on_torn;
    b->by_clock = by_clock;
    b->samples = b->paused = b->restopped = b->snapshots_again = 0;
    b->run_waits = b->run_gave_up = 0;
    rc = uw__pause_open((pid_t)pid, 0, &b->pause, why, sizeof why);
    if (rc == 0)
        uw__pause_set_clock(b->pause, by_clock);
    if (rc != 0) {
        b->pause = NULL;
        for (i = 0; i < 3; i++)
            sigaction(ts_job_sigs[i], &ts_job_old[i], NULL);
        fprintf(stderr, "tornstack: pid %ld: %s: %s%s%s\n", pid,
                on_torn ? "--pause-on-torn" : "--blocking", uw_strerror(rc), why[0] ? ": " : "",
                why);
    }
    return rc;
}

int ts_blocking_begin(ts_blocking *b)
{
    return b->pause != NULL ? uw__pause_stop_all(b->pause) : 0;
}

int ts_blocking_end(ts_blocking *b)
{
    if (b->pause == NULL)
        return 0;
    if (b->hold_ms > 0 && !ts_stop_signal)
        ts_nap_us((double)b->hold_ms * 1000.0);
    return uw__pause_resume_all(b->pause);
}

int ts_blocking_active(const ts_blocking *b)
{
    return b->pause != NULL;
}

int ts_blocking_wait(ts_blocking *b, double us)
{
    if (b->pause == NULL) {
        ts_nap_us(us);
        return 0;
    }
    return uw__pause_service(b->pause, us > 0 ? (int64_t)us : 0);
}

/* Threads ts_blocking_run_on watches at most (more are let run without
 * being watched: the first ones are the sample's torn ones). */
#define TS_RUN_ON_THREADS 16
/* ... and how often it looks again once min_us has passed (microseconds) */
#define TS_RUN_ON_STEP_US 250.0

/* After a stop whose sample tore, before the next stop: a restarted
 * thread is not scheduled at once, and on a loaded machine a stop
 * min_us later can find it exactly where the last one did (three stops
 * in the same eval-loop prologue were seen under a parallel test run).
 * So the target runs min_us, and then on, a step at a time, until each
 * named thread has run since this call (its run time grew) or sleeps in
 * the kernel (it left the user code it stood in), at most max_us in all;
 * a thread whose clock cannot be read counts as moved.  Meanwhile the
 * target's own stops are answered (uw__pause_service).  Counts the waits
 * past min_us, and those that gave up at max_us. */
int ts_blocking_run_on(ts_blocking *b, const pid_t *tids, size_t n, double min_us, double max_us)
{
    uint64_t base[TS_RUN_ON_THREADS];
    unsigned char moved[TS_RUN_ON_THREADS];
    double waited = 0, step = min_us;
    size_t i;
    int rc, asleep, waiting = 0;

    if (b->pause == NULL) {
        ts_nap_us(min_us);
        return 0;
    }
    if (n > TS_RUN_ON_THREADS)
        n = TS_RUN_ON_THREADS;
    for (i = 0; i < n; i++)
        moved[i] = uw__pause_thread_clock(b->pause, tids[i], &base[i], &asleep) != 0 || asleep;
    for (;;) {
        int all = 1;
        if ((rc = uw__pause_service(b->pause, step > 0 ? (int64_t)step : 0)) != 0)
            return rc;
        waited += step;
        if (ts_stop_signal)
            return 0;
        for (i = 0; i < n; i++) {
            uint64_t now;
            if (!moved[i])
                moved[i] = uw__pause_thread_clock(b->pause, tids[i], &now, &asleep) != 0 ||
                           asleep || now > base[i];
            all &= moved[i];
        }
        if (all)
            return 0;
        if (!waiting) {
            waiting = 1;
            b->run_waits++;
        }
        if (waited >= max_us) {
            b->run_gave_up++;
            return 0;
        }
        step = TS_RUN_ON_STEP_US;
    }
}

void ts_blocking_report(const ts_blocking *b, FILE *f, double wall_us)
{
    uw__pause_stats st;

    if (b->pause == NULL)
        return;
    uw__pause_stats_get(b->pause, &st);
    if (b->on_torn)
        fprintf(f,
                "tornstack: pause-on-torn: %llu of %llu samples redone stopped (%.2f%%), "
                "%llu stops made again\n",
                (unsigned long long)b->paused, (unsigned long long)b->samples,
                b->samples ? 100.0 * (double)b->paused / (double)b->samples : 0.0,
                (unsigned long long)b->restopped);
    fprintf(f,
            "tornstack: blocking: target stopped %llu times (%llu again after a torn stop, "
            "%llu again for a page a snapshot lacked), %.1f us mean, %.1f us max, %.3f ms per "
            "second of wall time; %llu signals passed on, %llu threads attached, %llu exited; "
            "%llu restarts waited for a torn thread to run (%llu gave up)\n",
            (unsigned long long)st.stops, (unsigned long long)b->restopped,
            (unsigned long long)b->snapshots_again,
            st.stops ? (double)st.stopped_ns / 1e3 / (double)st.stops : 0.0,
            (double)st.stopped_max_ns / 1e3,
            wall_us > 0 ? (double)st.stopped_ns / 1e3 / (wall_us / 1e3) : 0.0,
            (unsigned long long)st.signals_passed, (unsigned long long)st.threads_seen,
            (unsigned long long)st.threads_exited, (unsigned long long)b->run_waits,
            (unsigned long long)b->run_gave_up);
    if (st.clock_refused == 0 && st.clock_user_only)
        fprintf(
            f,
            "tornstack: blocking: the threads' clocks count user time only%s: %llu running "
            "threads were interrupted in the place of their kernel time (%llu of them, stopped "
            "off a system call, ran on to their next one; %llu kept off one)\n",
            b->by_clock == UW_PAUSE_CLOCK_KERNEL ? " (the kernel refused to count its own)" : "",
            (unsigned long long)st.clock_kernel_turns, (unsigned long long)st.clock_turn_retries,
            (unsigned long long)st.clock_turns_off_call);
    else if (st.clock_refused == 0 && b->by_clock == UW_PAUSE_CLOCK_KERNEL)
        fprintf(f, "tornstack: blocking: the threads' clocks count kernel time too\n");
    if (st.clock_refused != 0)
        fprintf(f,
                "tornstack: blocking: the threads' own clocks were refused (%s): every running "
                "thread was stopped by PTRACE_INTERRUPT, at its next entry to the kernel, which "
                "over-counts the code before system calls (docs/pause.md)\n",
                strerror(st.clock_refused));
    else
        fprintf(f,
                "tornstack: blocking: %llu thread stops by the thread's own clock, %llu of its "
                "clocks late (the thread slept: interrupted instead), %llu signalled as they "
                "were disarmed (taken on restart, %llu not in time), %llu threads blocking the "
                "clocks' signal (interrupted instead)%s\n",
                (unsigned long long)st.clock_stops, (unsigned long long)st.clock_late,
                (unsigned long long)st.clock_strays, (unsigned long long)st.clock_strays_unsettled,
                (unsigned long long)st.clock_blocked,
                b->by_clock ? "" : "; every running thread interrupted (--stop-by interrupt)");
}

/* Skips at or above this share of Task readings get the hint below. */
#define TS_SKIP_HINT_PERCENT 10

void ts_skip_hint(const ts_blocking *b, FILE *f, uint64_t skipped, uint64_t readings)
{
    if (b->pause != NULL || readings == 0 || 100 * skipped < TS_SKIP_HINT_PERCENT * readings)
        return;
    fprintf(f,
            "tornstack: %llu of %llu Task readings skipped (%.1f%%): the program moved while "
            "it was read; --pause-on-torn takes such samples again with the target stopped "
            "briefly, --blocking takes every sample so (docs/pause.md)\n",
            (unsigned long long)skipped, (unsigned long long)readings,
            100.0 * (double)skipped / (double)readings);
}

void ts_blocking_close(ts_blocking *b)
{
    size_t i;
    int rc;

    if (b->pause == NULL)
        return;
    rc = uw__pause_close(b->pause);
    b->pause = NULL;
    for (i = 0; i < 3; i++)
        sigaction(ts_job_sigs[i], &ts_job_old[i], NULL);
    if (rc != 0)
        fprintf(stderr,
                "tornstack: --blocking: detach: %s (the kernel detaches when tornstack "
                "exits)\n",
                uw_strerror(rc));
    if (ts_stop_signal)
        fprintf(stderr, "tornstack: stopped by %s; the target was resumed and detached\n",
                strsignal(ts_stop_signal));
}
