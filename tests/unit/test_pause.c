/*
 * test_pause.c — the pause module (src/pause/) against real processes.
 *
 * Each test forks a target: a few threads that count in memory shared with
 * the test (so progress is seen without reading the target), a SIGUSR1
 * handler that counts deliveries, and optionally a thread that creates and
 * ends short-lived threads without pause.  The test then checks, through
 * /proc/PID/task/TID/status (State, TracerPid) and the counters, what the
 * module promises: everything stopped while held, nothing stopped or
 * traced after close or after the tracer dies (even by SIGKILL), every
 * signal delivered, job-control stops kept, new threads caught, one thread
 * stopped alone, the refusals explained, the thread bound at -1/0/+1.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "noptrace.h"
#include "internal/pause.h"
#include "tornstack/error.h"
#include "tornstack/limits.h"

#define MAX_WORKERS 8

typedef struct shared {
    uint64_t count[MAX_WORKERS + 1]; /* [0]: the main thread */
    pid_t tid[MAX_WORKERS + 1];
    uint64_t usr1;   /* SIGUSR1 deliveries */
    uint64_t born;   /* short-lived threads started */
    uint64_t parked; /* idle threads started (bound tests) */
    uint64_t spin;   /* the spinning thread's count (clock test) */
    uint64_t urg;    /* SIGURG deliveries */
    pid_t spin_tid;  /* the spinning thread (clock tests) */
    int ready;
} shared;

static shared *sh;
/* The targets of the running test, killed by the teardown even when an
 * assertion ends the test early. */
static pid_t targets[8];
static size_t n_targets;

static uint64_t ld(const uint64_t *p)
{
    return __atomic_load_n(p, __ATOMIC_SEQ_CST);
}

static void nap_us(long us)
{
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* ---- the target ---------------------------------------------------------- */

static void on_usr1(int sig)
{
    (void)sig;
    __atomic_fetch_add(&sh->usr1, 1, __ATOMIC_SEQ_CST);
}

static void on_urg(int sig)
{
    (void)sig;
    __atomic_fetch_add(&sh->urg, 1, __ATOMIC_SEQ_CST);
}

/* Counts without a system call: always running, never in the kernel. */
static void *spinner(void *arg)
{
    (void)arg;
    for (;;)
        __atomic_fetch_add(&sh->spin, 1, __ATOMIC_SEQ_CST);
    return NULL;
}

/* The spinner, with every signal blocked (a C library's worker thread). */
static void *blocked_spinner(void *arg)
{
    sigset_t all;

    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    return spinner(arg);
}

/* Counts between system calls that do nothing (getppid through
 * syscall(2), which no C library caches): always running, mostly in the
 * kernel. */
static void *syscaller(void *arg)
{
    (void)arg;
    __atomic_store_n(&sh->spin_tid, gettid(), __ATOMIC_SEQ_CST);
    for (;;) {
        (void)syscall(SYS_getppid);
        __atomic_fetch_add(&sh->spin, 1, __ATOMIC_SEQ_CST);
    }
    return NULL;
}

/* The next spawn's target also runs a spinner (1), a syscaller (2) or a
 * spinner that blocks every signal (3) (the clock tests). */
static int spawn_spinner;

static void *worker(void *arg)
{
    size_t i = (size_t)(uintptr_t)arg;
    __atomic_store_n(&sh->tid[i], gettid(), __ATOMIC_SEQ_CST);
    for (;;) {
        __atomic_fetch_add(&sh->count[i], 1, __ATOMIC_SEQ_CST);
        nap_us(200);
    }
    return NULL;
}

static void *short_lived(void *arg)
{
    uint64_t acc = 0, i;
    (void)arg;
    __atomic_fetch_add(&sh->born, 1, __ATOMIC_SEQ_CST);
    for (i = 0; i < 20000; i++)
        acc += i * i;
    return (void *)(uintptr_t)(acc & 1); /* a little work, kept */
}

/* Creates threads that live a moment, two at a time, for ever. */
static void *spawner(void *arg)
{
    (void)arg;
    for (;;) {
        pthread_t a, b;
        int ra = pthread_create(&a, NULL, short_lived, NULL);
        int rb = pthread_create(&b, NULL, short_lived, NULL);
        if (ra == 0)
            pthread_join(a, NULL);
        if (rb == 0)
            pthread_join(b, NULL);
        nap_us(300);
    }
    return NULL;
}

static void *parked(void *arg)
{
    (void)arg;
    __atomic_fetch_add(&sh->parked, 1, __ATOMIC_SEQ_CST);
    for (;;)
        pause();
    return NULL;
}

static void start_thread(void *(*fn)(void *), void *arg)
{
    pthread_attr_t at;
    pthread_t t;
    pthread_attr_init(&at);
    pthread_attr_setstacksize(&at, 64 * 1024);
    if (pthread_create(&t, &at, fn, arg) != 0)
        _exit(3);
    pthread_attr_destroy(&at);
}

static void target_main(int workers, int churn, int n_parked)
{
    struct sigaction sa;
    int i;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGUSR1, &sa, NULL);
    sa.sa_handler = on_urg;
    sigaction(SIGURG, &sa, NULL);
    sh->tid[0] = gettid();
    if (spawn_spinner)
        start_thread(spawn_spinner == 2   ? syscaller
                     : spawn_spinner == 3 ? blocked_spinner
                                          : spinner,
                     NULL);
    for (i = 1; i <= workers; i++)
        start_thread(worker, (void *)(uintptr_t)i);
    for (i = 0; i < n_parked; i++)
        start_thread(parked, NULL);
    if (churn)
        start_thread(spawner, NULL);
    __atomic_store_n(&sh->ready, 1, __ATOMIC_SEQ_CST);
    for (;;) {
        __atomic_fetch_add(&sh->count[0], 1, __ATOMIC_SEQ_CST);
        nap_us(200);
    }
}

/* Fork a target with `workers` counting threads (plus its main thread),
 * a thread-churning spawner if asked, and n_parked idle threads; return
 * once every thread has started. */
static pid_t spawn(int workers, int churn, int n_parked)
{
    pid_t pid;
    int i, tries;

    memset(sh, 0, sizeof *sh);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        target_main(workers, churn, n_parked);
        _exit(0);
    }
    if (n_targets < sizeof targets / sizeof targets[0])
        targets[n_targets++] = pid;
    for (tries = 0; tries < 20000; tries++) {
        int all = __atomic_load_n(&sh->ready, __ATOMIC_SEQ_CST) &&
                  ld(&sh->parked) == (uint64_t)n_parked && (!churn || ld(&sh->born) > 0);
        for (i = 0; i <= workers; i++)
            all = all && __atomic_load_n(&sh->tid[i], __ATOMIC_SEQ_CST) != 0;
        if (all)
            return pid;
        nap_us(1000);
    }
    fail_msg("target did not start");
    return -1;
}

static void reap(pid_t pid)
{
    size_t i;
    int st;
    kill(pid, SIGCONT);
    kill(pid, SIGKILL);
    while (waitpid(pid, &st, __WALL) < 0 && errno == EINTR)
        ;
    for (i = 0; i < n_targets; i++)
        if (targets[i] == pid)
            targets[i] = targets[--n_targets];
}

static int teardown(void **state)
{
    sigset_t chld;
    (void)state;
    /* A session left open by a failed assertion: its targets die below,
     * and its blocked SIGCHLD must not leak into the next test. */
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    pthread_sigmask(SIG_UNBLOCK, &chld, NULL);
    while (n_targets > 0) {
        pid_t pid = targets[--n_targets];
        int st;
        kill(pid, SIGCONT);
        kill(pid, SIGKILL);
        /* The leader's exit is reported only once its other threads are
         * reaped, and those still traced by the open session are ours to
         * reap: take every report until the leader's (a wait on it alone
         * would never return). */
        for (;;) {
            pid_t w = waitpid(-1, &st, __WALL);
            if (w == pid || (w < 0 && errno != EINTR))
                break;
        }
    }
    return 0;
}

/* ---- what /proc says ----------------------------------------------------- */

typedef struct census {
    int threads;    /* listed in /proc/PID/task, zombies excluded */
    int traced;     /* State t (tracing stop) */
    int stopped;    /* State T (stopped) */
    int tracer_us;  /* TracerPid is this process */
    int tracer_any; /* TracerPid not 0 */
} census;

static int status_of(pid_t pid, pid_t tid, char *state, pid_t *tracer)
{
    char path[96], line[256];
    FILE *f;
    int have = 0;
    snprintf(path, sizeof path, "/proc/%d/task/%d/status", (int)pid, (int)tid);
    f = fopen(path, "r");
    if (f == NULL)
        return -1;
    while (fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, "State:", 6) == 0) {
            *state = line[7];
            have |= 1;
        } else if (strncmp(line, "TracerPid:", 10) == 0) {
            *tracer = (pid_t)atoi(line + 10);
            have |= 2;
        }
    }
    fclose(f);
    return have == 3 ? 0 : -1;
}

static census take_census(pid_t pid)
{
    census c = {0};
    char path[64];
    DIR *d;
    struct dirent *e;
    snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
    d = opendir(path);
    assert_non_null(d);
    while ((e = readdir(d)) != NULL) {
        char state = '?';
        pid_t tracer = 0;
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        if (status_of(pid, (pid_t)atoi(e->d_name), &state, &tracer) != 0 || state == 'Z' ||
            state == 'X')
            continue;
        c.threads++;
        c.traced += state == 't';
        c.stopped += state == 'T';
        c.tracer_us += tracer == getpid();
        c.tracer_any += tracer != 0;
    }
    closedir(d);
    return c;
}

/* The counter moves within `ms` milliseconds. */
static int moves(const uint64_t *counter, int ms)
{
    uint64_t v = ld(counter);
    int i;
    for (i = 0; i < ms; i++) {
        nap_us(1000);
        if (ld(counter) != v)
            return 1;
    }
    return 0;
}

/* Every thread runs free: none stopped, none traced, all counters move. */
static void assert_free(pid_t pid, int workers)
{
    census c = take_census(pid);
    int i;
    assert_int_equal(c.traced, 0);
    assert_int_equal(c.stopped, 0);
    assert_int_equal(c.tracer_any, 0);
    for (i = 0; i <= workers; i++)
        assert_true(moves(&sh->count[i], 2000));
}

static int sigchld_blocked(void)
{
    sigset_t cur;
    pthread_sigmask(SIG_BLOCK, NULL, &cur);
    return sigismember(&cur, SIGCHLD);
}

/* ---- tests --------------------------------------------------------------- */

/* stop_all holds every thread (State t, counters still), resume_all lets
 * them go, close leaves none stopped or traced and restores the mask. */
static void test_stop_all(void **state)
{
    pid_t pid = spawn(3, 0, 0);
    uw__pause *p = NULL;
    uw__pause_stats st;
    uint64_t before[4];
    census c;
    int i, round;
    (void)state;

    assert_false(sigchld_blocked());
    assert_int_equal(uw__pause_open(pid, 0, &p, NULL, 0), 0);
    assert_true(sigchld_blocked());
    assert_int_equal(uw__pause_threads(p), 4);
    for (round = 0; round < 3; round++) {
        assert_int_equal(uw__pause_stop_all(p), 0);
        c = take_census(pid);
        assert_int_equal(c.threads, 4);
        assert_int_equal(c.traced, 4);
        assert_int_equal(c.tracer_us, 4);
        for (i = 0; i < 4; i++)
            before[i] = ld(&sh->count[i]);
        nap_us(50000);
        for (i = 0; i < 4; i++)
            assert_true(ld(&sh->count[i]) == before[i]);
        assert_int_equal(uw__pause_resume_all(p), 0);
        for (i = 0; i < 4; i++)
            assert_true(moves(&sh->count[i], 2000));
        assert_int_equal(uw__pause_service(p, 1000), 0);
    }
    uw__pause_stats_get(p, &st);
    assert_int_equal(st.stops, 3);
    assert_true(st.stopped_ns >= 3 * 50000000ull);
    assert_true(st.stopped_max_ns >= 50000000ull && st.stopped_max_ns <= st.stopped_ns);
    assert_int_equal(uw__pause_close(p), 0);
    assert_false(sigchld_blocked());
    assert_free(pid, 3);
    reap(pid);
}

/* One thread, by native id: only it stops, cheaply, again and again. */
static void test_one_thread(void **state)
{
    pid_t pid = spawn(3, 0, 0);
    pid_t tid = sh->tid[2];
    uw__pause *p = NULL;
    uw__pause_stats st;
    char s = '?';
    pid_t tracer = -1;
    uint64_t v;
    int i;
    (void)state;

    assert_int_equal(uw__pause_open(pid, tid, &p, NULL, 0), 0);
    assert_int_equal(uw__pause_threads(p), 1);
    assert_int_equal(status_of(pid, tid, &s, &tracer), 0);
    assert_int_equal(tracer, getpid());
    assert_int_equal(status_of(pid, sh->tid[1], &s, &tracer), 0);
    assert_int_equal(tracer, 0); /* the others are not even traced */

    assert_int_equal(uw__pause_stop_thread(p, tid), 0);
    assert_int_equal(status_of(pid, tid, &s, &tracer), 0);
    assert_int_equal(s, 't');
    assert_int_equal(take_census(pid).traced, 1);
    v = ld(&sh->count[2]);
    assert_true(moves(&sh->count[1], 2000)); /* the others run on */
    assert_true(moves(&sh->count[0], 2000));
    nap_us(20000);
    assert_true(ld(&sh->count[2]) == v);
    assert_int_equal(uw__pause_stop_thread(p, tid), 0); /* already held: nothing to do */
    assert_int_equal(uw__pause_resume_thread(p, tid), 0);
    assert_true(moves(&sh->count[2], 2000));

    for (i = 0; i < 200; i++) {
        assert_int_equal(uw__pause_stop_thread(p, tid), 0);
        assert_int_equal(uw__pause_resume_thread(p, tid), 0);
    }
    uw__pause_stats_get(p, &st);
    assert_int_equal(st.stops, 201);
    printf("pause: one thread stopped and resumed %llu times, %.1f us mean, %.1f us max\n",
           (unsigned long long)st.stops, (double)st.stopped_ns / 1e3 / (double)st.stops,
           (double)st.stopped_max_ns / 1e3);

    assert_int_equal(uw__pause_stop_thread(p, sh->tid[1]), UW_ERR_NOT_FOUND);
    assert_int_equal(uw__pause_resume_thread(p, 1), UW_ERR_NOT_FOUND);
    assert_int_equal(uw__pause_close(p), 0);
    assert_free(pid, 3);
    reap(pid);
}

/* A target creating threads all the time: each one is attached at birth
 * (or by the re-scan) and every listed thread is held while stopped. */
static void test_new_threads(void **state)
{
    pid_t pid = spawn(2, 1, 0);
    uw__pause *p = NULL;
    uw__pause_stats st;
    uint64_t born0;
    int round;
    (void)state;

    assert_int_equal(uw__pause_open(pid, 0, &p, NULL, 0), 0);
    born0 = ld(&sh->born);
    for (round = 0; round < 100; round++) {
        census c;
        uint64_t b;
        assert_int_equal(uw__pause_stop_all(p), 0);
        c = take_census(pid);
        assert_int_equal(c.traced, c.threads);
        assert_int_equal(c.tracer_us, c.threads);
        assert_int_equal((int)uw__pause_threads(p), c.threads);
        b = ld(&sh->born);
        nap_us(2000);
        assert_true(ld(&sh->born) == b); /* nobody creates threads while held */
        assert_int_equal(uw__pause_resume_all(p), 0);
        assert_int_equal(uw__pause_service(p, 3000), 0);
    }
    assert_true(ld(&sh->born) > born0 + 20); /* threads came and went meanwhile */
    uw__pause_stats_get(p, &st);
    assert_true(st.threads_seen > 4 + 20);
    assert_true(st.threads_exited > 20);
    printf("pause: churn: %llu threads seen, %llu exited, %llu found by re-scan\n",
           (unsigned long long)st.threads_seen, (unsigned long long)st.threads_exited,
           (unsigned long long)st.late_attached);
    assert_int_equal(uw__pause_close(p), 0);
    assert_free(pid, 2);
    assert_true(moves(&sh->born, 2000)); /* and threads are still created */
    reap(pid);
}

/* Signals reach the target: sent while it is held, while it runs between
 * samples, and held in a stop when the session closes. */
static void test_signals(void **state)
{
    pid_t pid = spawn(1, 0, 0);
    uw__pause *p = NULL;
    uw__pause_stats st;
    int i;
    (void)state;

    assert_int_equal(uw__pause_open(pid, 0, &p, NULL, 0), 0);
    /* Sent while held: pending when the threads restart. */
    assert_int_equal(uw__pause_stop_all(p), 0);
    kill(pid, SIGUSR1);
    nap_us(20000);
    assert_true(ld(&sh->usr1) == 0);
    assert_int_equal(uw__pause_resume_all(p), 0);
    for (i = 0; i < 200 && ld(&sh->usr1) < 1; i++)
        assert_int_equal(uw__pause_service(p, 10000), 0);
    assert_true(ld(&sh->usr1) == 1);
    /* Sent between samples. */
    kill(pid, SIGUSR1);
    for (i = 0; i < 200 && ld(&sh->usr1) < 2; i++)
        assert_int_equal(uw__pause_service(p, 10000), 0);
    assert_true(ld(&sh->usr1) == 2);
    /* Sent, then the sample begins before the signal-delivery-stop is
     * answered: held as a signal stop, delivered on restart. */
    kill(pid, SIGUSR1);
    nap_us(20000);
    assert_int_equal(uw__pause_stop_all(p), 0);
    assert_int_equal(uw__pause_resume_all(p), 0);
    for (i = 0; i < 200 && ld(&sh->usr1) < 3; i++)
        assert_int_equal(uw__pause_service(p, 10000), 0);
    assert_true(ld(&sh->usr1) == 3);
    uw__pause_stats_get(p, &st);
    assert_true(st.signals_passed >= 3);
    /* Held in a signal-delivery-stop when the session closes. */
    kill(pid, SIGUSR1);
    nap_us(20000);
    assert_true(ld(&sh->usr1) == 3);
    assert_int_equal(uw__pause_close(p), 0);
    for (i = 0; i < 2000 && ld(&sh->usr1) < 4; i++)
        nap_us(1000);
    assert_true(ld(&sh->usr1) == 4);
    assert_free(pid, 1);
    reap(pid);
}

/* Job control: a SIGSTOP sent by someone else stops the target while it is
 * attached, samples still work, SIGCONT ends the stop, and a stop still in
 * force when the session closes stays in force (State T) until SIGCONT. */
static void test_group_stop(void **state)
{
    pid_t pid = spawn(2, 0, 0);
    uw__pause *p = NULL;
    uw__pause_stats st;
    census c;
    uint64_t v;
    int i;
    (void)state;

    assert_int_equal(uw__pause_open(pid, 0, &p, NULL, 0), 0);
    kill(pid, SIGSTOP);
    for (i = 0; i < 50; i++)
        assert_int_equal(uw__pause_service(p, 10000), 0);
    v = ld(&sh->count[0]);
    nap_us(30000);
    assert_true(ld(&sh->count[0]) == v); /* the stop is in force */
    assert_int_equal(uw__pause_stop_all(p), 0);
    assert_int_equal(uw__pause_resume_all(p), 0);
    assert_int_equal(uw__pause_service(p, 10000), 0);
    assert_true(ld(&sh->count[0]) == v); /* and still is after a sample */
    uw__pause_stats_get(p, &st);
    assert_true(st.group_stops >= 3);
    kill(pid, SIGCONT);
    for (i = 0; i < 200 && ld(&sh->count[0]) == v; i++)
        assert_int_equal(uw__pause_service(p, 10000), 0);
    assert_true(ld(&sh->count[0]) != v);

    kill(pid, SIGSTOP);
    for (i = 0; i < 50; i++)
        assert_int_equal(uw__pause_service(p, 10000), 0);
    assert_int_equal(uw__pause_close(p), 0);
    /* A detached thread re-enters the stop before it runs any code of its
     * own; /proc shows T once it has been scheduled. */
    for (i = 0, c = take_census(pid); i < 2000 && c.stopped != c.threads; i++) {
        nap_us(1000);
        c = take_census(pid);
    }
    assert_int_equal(c.tracer_any, 0);
    assert_int_equal(c.stopped, c.threads); /* State T: the job-control stop */
    v = ld(&sh->count[1]);
    nap_us(30000);
    assert_true(ld(&sh->count[1]) == v);
    kill(pid, SIGCONT);
    assert_free(pid, 2);
    reap(pid);
}

/* The target dies while held, and while running: no error but
 * UW_ERR_NO_PROCESS from the next stop, and close is clean. */
static void test_target_exits(void **state)
{
    uw__pause *p = NULL;
    pid_t pid = spawn(3, 1, 0);
    int st, i, rc = 0;
    (void)state;

    assert_int_equal(uw__pause_open(pid, 0, &p, NULL, 0), 0);
    assert_int_equal(uw__pause_stop_all(p), 0);
    kill(pid, SIGKILL);
    nap_us(20000);
    assert_int_equal(uw__pause_resume_all(p), 0);
    assert_int_equal(uw__pause_stop_all(p), UW_ERR_NO_PROCESS);
    assert_int_equal(uw__pause_threads(p), 0);
    assert_int_equal(uw__pause_service(p, 1000), UW_ERR_NO_PROCESS);
    assert_int_equal(uw__pause_close(p), 0);
    assert_int_equal(waitpid(pid, &st, WNOHANG | __WALL), -1); /* reaped by the session */

    pid = spawn(2, 0, 0);
    assert_int_equal(uw__pause_open(pid, 0, &p, NULL, 0), 0);
    kill(pid, SIGKILL);
    for (i = 0; i < 500 && (rc = uw__pause_service(p, 10000)) == 0; i++)
        ;
    assert_int_equal(rc, UW_ERR_NO_PROCESS);
    assert_int_equal(uw__pause_close(p), 0);
    assert_false(sigchld_blocked());

    pid = spawn(2, 0, 0);
    assert_int_equal(uw__pause_open(pid, sh->tid[1], &p, NULL, 0), 0);
    assert_int_equal(uw__pause_stop_thread(p, sh->tid[1]), 0);
    kill(pid, SIGKILL);
    nap_us(20000);
    assert_int_equal(uw__pause_resume_thread(p, sh->tid[1]), 0);
    assert_int_equal(uw__pause_stop_thread(p, sh->tid[1]), UW_ERR_NO_PROCESS);
    assert_int_equal(uw__pause_stop_thread(p, sh->tid[1]), UW_ERR_NOT_FOUND);
    assert_int_equal(uw__pause_close(p), 0);
    reap(pid);
}

/* A tracer process that dies by SIGKILL: the kernel detaches, every
 * thread runs on (held by an interrupt), a signal held in a
 * signal-delivery-stop is delivered, and a job-control stop stays. */
enum { HOLD_STOPPED, HOLD_SIGNAL, HOLD_GROUP };

static void tracer_main(pid_t pid, int mode, int fd)
{
    uw__pause *p = NULL;
    if (uw__pause_open(pid, 0, &p, NULL, 0) != 0)
        _exit(2);
    if (mode == HOLD_STOPPED && uw__pause_stop_all(p) != 0)
        _exit(3);
    if (write(fd, "h", 1) != 1)
        _exit(4);
    for (;;) {
        if (mode == HOLD_GROUP)
            (void)uw__pause_service(p, 100000);
        else
            pause(); /* answers nothing: whatever stops, stays */
    }
}

static void test_tracer_killed(void **state)
{
    int mode;
    (void)state;

    for (mode = HOLD_STOPPED; mode <= HOLD_GROUP; mode++) {
        pid_t pid = spawn(2, 0, 0), tracer;
        int fds[2], st, i;
        char b;
        census c;

        assert_int_equal(pipe(fds), 0);
        tracer = fork();
        assert_true(tracer >= 0);
        if (tracer == 0)
            tracer_main(pid, mode, fds[1]);
        assert_int_equal(read(fds[0], &b, 1), 1);
        close(fds[0]);
        close(fds[1]);
        if (mode == HOLD_STOPPED) {
            c = take_census(pid);
            assert_int_equal(c.traced, c.threads);
        } else if (mode == HOLD_SIGNAL) {
            kill(pid, SIGUSR1);
            nap_us(50000);
            assert_true(ld(&sh->usr1) == 0); /* waiting in its signal-delivery-stop */
            assert_true(take_census(pid).traced >= 1);
        } else {
            kill(pid, SIGSTOP);
            nap_us(200000);
        }
        kill(tracer, SIGKILL);
        while (waitpid(tracer, &st, 0) < 0 && errno == EINTR)
            ;
        if (mode == HOLD_GROUP) {
            for (i = 0, c = take_census(pid); i < 2000 && c.stopped != c.threads; i++) {
                nap_us(1000);
                c = take_census(pid);
            }
            assert_int_equal(c.tracer_any, 0);
            assert_int_equal(c.stopped, c.threads);
            kill(pid, SIGCONT);
        }
        for (i = 0; i < 1000 && take_census(pid).tracer_any != 0; i++)
            nap_us(1000);
        assert_free(pid, 2);
        if (mode == HOLD_SIGNAL) {
            for (i = 0; i < 2000 && ld(&sh->usr1) == 0; i++)
                nap_us(1000);
            assert_true(ld(&sh->usr1) == 1);
        }
        reap(pid);
    }
}

/* Refusals: each reported as UW_ERR_PTRACE with the cause in `why`, in a
 * child process (its exit status is the verdict). */
enum { REFUSE_TRACED, REFUSE_SECCOMP, REFUSE_USER };

static void refuse_main(pid_t pid, int how)
{
    uw__pause *p = NULL;
    char why[512], want[64];
    int rc;

    if (how == REFUSE_SECCOMP && noptrace_install() != 0)
        _exit(10);
    if (how == REFUSE_USER &&
        (setresgid(65534, 65534, 65534) != 0 || setresuid(65534, 65534, 65534) != 0))
        _exit(11);
    rc = uw__pause_open(pid, 0, &p, why, sizeof why);
    fprintf(stderr, "pause: refusal %d: %s: %s\n", how, uw_errname(rc), why);
    if (rc != UW_ERR_PTRACE || p != NULL)
        _exit(12);
    if (how == REFUSE_TRACED)
        snprintf(want, sizeof want, "already traced by pid %d", (int)getppid());
    else if (how == REFUSE_SECCOMP)
        snprintf(want, sizeof want, "seccomp filter");
    else
        snprintf(want, sizeof want, "tornstack as uid 65534");
    _exit(strstr(why, want) != NULL && strchr(why, '\n') == NULL ? 0 : 13);
}

static void test_refusals(void **state)
{
    pid_t pid = spawn(1, 0, 0);
    uw__pause *p = NULL;
    char why[512];
    int how;
    (void)state;

    for (how = REFUSE_TRACED; how <= REFUSE_USER; how++) {
        pid_t child;
        int st = -1;
        if (how == REFUSE_USER && geteuid() != 0) {
            printf("pause: the other-user refusal needs root; not run\n");
            continue;
        }
        if (how == REFUSE_TRACED)
            assert_int_equal(uw__pause_open(pid, 0, &p, NULL, 0), 0);
        child = fork();
        assert_true(child >= 0);
        if (child == 0)
            refuse_main(pid, how);
        while (waitpid(child, &st, 0) < 0 && errno == EINTR)
            ;
        assert_true(WIFEXITED(st));
        assert_int_equal(WEXITSTATUS(st), 0);
        if (how == REFUSE_TRACED) {
            assert_int_equal(uw__pause_close(p), 0);
            p = NULL;
        }
        assert_free(pid, 1); /* a refused attach leaves nothing behind */
    }
    /* Bad arguments and processes that do not exist. */
    assert_int_equal(uw__pause_open(0, 0, &p, why, sizeof why), UW_ERR_INVALID_ARG);
    assert_int_equal(uw__pause_open(pid, -1, &p, why, sizeof why), UW_ERR_INVALID_ARG);
    assert_int_equal(uw__pause_open(pid, 0, NULL, why, sizeof why), UW_ERR_INVALID_ARG);
    assert_int_equal(uw__pause_open(pid, getpid(), &p, why, sizeof why), UW_ERR_NO_PROCESS);
    assert_non_null(strstr(why, "is not a thread of pid"));
    reap(pid);
    assert_int_equal(uw__pause_open(pid, 0, &p, why, sizeof why), UW_ERR_NO_PROCESS);
    assert_null(p);
    assert_int_equal(uw__pause_stop_all(NULL), UW_ERR_INVALID_ARG);
    assert_int_equal(uw__pause_service(NULL, 0), UW_ERR_INVALID_ARG);
    assert_int_equal(uw__pause_close(NULL), 0);
    assert_false(sigchld_blocked());
}

/* Misuse: service while threads are held. */
static void test_misuse(void **state)
{
    pid_t pid = spawn(1, 0, 0);
    uw__pause *p = NULL;
    (void)state;

    assert_int_equal(uw__pause_open(pid, 0, &p, NULL, 0), 0);
    assert_int_equal(uw__pause_stop_all(p), 0);
    assert_int_equal(uw__pause_service(p, 0), UW_ERR_INVALID_ARG);
    /* close while held: detaches and lets everything run */
    assert_int_equal(uw__pause_close(p), 0);
    assert_free(pid, 1);
    reap(pid);
}

/* The thread clock: exact and still while a thread is held, grown once
 * it ran, "asleep" for a thread parked in the kernel; a thread not
 * attached is not found.  (The run time is what a restart after a torn
 * stop waits on: a stop found where the last one was is no new instant.) */
static void test_thread_clock(void **state)
{
    pid_t pid = spawn(1, 0, 1);
    pid_t tid = sh->tid[1], parked_tid = 0;
    pid_t tids[8];
    uw__pause *p = NULL;
    uint64_t c0, c1, c2;
    int asleep = -1, i, k, n = 0;
    char path[64];
    DIR *d;
    struct dirent *e;
    (void)state;

    if (access("/proc/self/schedstat", R_OK) != 0) {
        /* a kernel without schedstat: restarts fall back to their minimum
         * wait (ts_blocking_run_on), and there is no clock to test */
        print_message("no /proc/PID/schedstat on this kernel: the thread clock is not tested\n");
        reap(pid);
        skip();
    }

    snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
    d = opendir(path);
    assert_non_null(d);
    while ((e = readdir(d)) != NULL && n < 8)
        if (e->d_name[0] >= '1' && e->d_name[0] <= '9')
            tids[n++] = (pid_t)atoi(e->d_name);
    closedir(d);
    for (i = 0; i < n; i++)
        if (tids[i] != sh->tid[0] && tids[i] != sh->tid[1])
            parked_tid = tids[i];
    assert_true(parked_tid > 0);

    assert_int_equal(uw__pause_open(pid, 0, &p, NULL, 0), 0);
    assert_int_equal(uw__pause_stop_all(p), 0);
    assert_int_equal(uw__pause_thread_clock(p, tid, &c0, &asleep), 0);
    assert_int_equal(asleep, 0); /* held: a tracing stop, not a sleep */
    nap_us(20000);
    assert_int_equal(uw__pause_thread_clock(p, tid, &c1, &asleep), 0);
    assert_true(c1 == c0);
    assert_int_equal(uw__pause_resume_all(p), 0);
    /* the worker counts and naps: its run time grows within seconds (it is
     * brought up to date each time it leaves the CPU) */
    for (k = 0; k < 2000; k++) {
        assert_int_equal(uw__pause_service(p, 1000), 0);
        assert_int_equal(uw__pause_thread_clock(p, tid, &c2, &asleep), 0);
        if (c2 > c1)
            break;
    }
    assert_true(c2 > c1);
    /* the parked thread sleeps in pause() */
    for (k = 0; k < 2000; k++) {
        assert_int_equal(uw__pause_thread_clock(p, parked_tid, &c2, &asleep), 0);
        if (asleep)
            break;
        assert_int_equal(uw__pause_service(p, 1000), 0);
    }
    assert_int_equal(asleep, 1);
    assert_int_equal(uw__pause_thread_clock(p, getpid(), &c2, &asleep), UW_ERR_NOT_FOUND);
    assert_int_equal(uw__pause_thread_clock(p, tid, NULL, &asleep), UW_ERR_INVALID_ARG);
    assert_int_equal(uw__pause_thread_clock(NULL, tid, &c2, &asleep), UW_ERR_INVALID_ARG);
    assert_int_equal(uw__pause_close(p), 0);
    assert_free(pid, 1);
    reap(pid);
}

/* A running thread is stopped by its own clock (pause/clock.c): a
 * spinner, always running and never in the kernel, is stopped by it in
 * most samples, and the clock's SIGURG never reaches the target's
 * handler; a SIGURG sent by someone else does.  With the clocks off,
 * every stop is an interrupt; on again, the clocks stop it again.
 * Skipped where perf events are refused. */
/* Where perf events are refused (st->clock_refused), a clock test says
 * what it could not test, lets the target go and is skipped. */
static void skip_refused(uw__pause *p, pid_t pid, const uw__pause_stats *st, const char *what)
{
    print_message("perf events refused (%s): %s is not tested\n", strerror(st->clock_refused),
                  what);
    assert_int_equal(uw__pause_close(p), 0);
    reap(pid);
    skip();
}

/* `rounds` stops of the spinner's target, each checked to hold it for
 * hold_us, with the target's own stops answered between them. */
static void spinner_rounds(uw__pause *p, int rounds, long hold_us)
{
    uint64_t before;
    int round;

    for (round = 0; round < rounds; round++) {
        assert_int_equal(uw__pause_stop_all(p), 0);
        before = ld(&sh->spin);
        nap_us(hold_us);
        assert_true(ld(&sh->spin) == before); /* held */
        assert_int_equal(uw__pause_resume_all(p), 0);
        assert_int_equal(uw__pause_service(p, 1000), 0);
    }
}

static void test_stop_by_clock(void **state)
{
    pid_t pid;
    uw__pause *p = NULL;
    uw__pause_stats st;
    uint64_t before;
    int round, i;
    (void)state;

    spawn_spinner = 1;
    pid = spawn(1, 0, 0);
    spawn_spinner = 0;
    assert_int_equal(uw__pause_open(pid, 0, &p, NULL, 0), 0);
    uw__pause_set_clock(p, UW_PAUSE_CLOCK_ON); /* off by default */
    spinner_rounds(p, 40, 2000);
    uw__pause_stats_get(p, &st);
    if (st.clock_refused != 0) {
        assert_int_equal(st.clock_stops, 0);
        skip_refused(p, pid, &st, "the clock stop");
    }
    /* the spinner by its clock in most rounds; a round it was not shown
     * running in is interrupted (a preempted spinner is still R) */
    assert_true(st.clock_stops >= 30);
    assert_true(ld(&sh->urg) == 0);
    assert_true(st.signals_passed == 0);
    /* someone else's SIGURG is the target's */
    kill(pid, SIGURG);
    for (i = 0; i < 200 && ld(&sh->urg) < 1; i++)
        assert_int_equal(uw__pause_service(p, 10000), 0);
    assert_true(ld(&sh->urg) == 1);
    /* clocks off: interrupts only */
    uw__pause_set_clock(p, UW_PAUSE_CLOCK_OFF);
    for (round = 0; round < 10; round++) {
        assert_int_equal(uw__pause_stop_all(p), 0);
        assert_int_equal(uw__pause_resume_all(p), 0);
    }
    before = st.clock_stops;
    uw__pause_stats_get(p, &st);
    assert_true(st.clock_stops == before);
    assert_int_equal(st.signals_passed, 1);
    /* on again: the events closed when off are opened anew */
    uw__pause_set_clock(p, UW_PAUSE_CLOCK_ON);
    for (round = 0; round < 10; round++) {
        assert_int_equal(uw__pause_stop_all(p), 0);
        assert_int_equal(uw__pause_resume_all(p), 0);
        assert_int_equal(uw__pause_service(p, 1000), 0);
    }
    uw__pause_stats_get(p, &st);
    assert_true(st.clock_stops >= before + 5);
    assert_true(ld(&sh->urg) == 1);
    assert_int_equal(uw__pause_close(p), 0);
    nap_us(20000);
    assert_true(ld(&sh->urg) == 1); /* none of ours after the close */
    assert_free(pid, 1);
    reap(pid);
}

/* A running thread that blocks every signal cannot be stopped by its
 * clock: the clock's SIGURG stays pending.  Once found so (its first
 * clock late, the signal pending and blocked), it is interrupted from then
 * on, and no stop waits the stop timeout for a signal it cannot take:
 * before, every later round waited UW_PAUSE_STOP_TIMEOUT_MS and counted
 * the stray as not settled.  Skipped where perf events are refused. */
static void test_clock_blocked(void **state)
{
    pid_t pid;
    uw__pause *p = NULL;
    uw__pause_stats st;
    (void)state;

    spawn_spinner = 3;
    pid = spawn(1, 0, 0);
    spawn_spinner = 0;
    assert_int_equal(uw__pause_open(pid, 0, &p, NULL, 0), 0);
    uw__pause_set_clock(p, UW_PAUSE_CLOCK_ON);
    spinner_rounds(p, 10, 2000);
    uw__pause_stats_get(p, &st);
    if (st.clock_refused != 0)
        skip_refused(p, pid, &st, "the clock stop");
    print_message("blocked spinner: %llu clock stops, %llu late, %llu strays (%llu unsettled), "
                  "%llu threads blocking\n",
                  (unsigned long long)st.clock_stops, (unsigned long long)st.clock_late,
                  (unsigned long long)st.clock_strays,
                  (unsigned long long)st.clock_strays_unsettled,
                  (unsigned long long)st.clock_blocked);
    assert_int_equal(st.clock_blocked, 1); /* found once, then never armed */
    assert_int_equal(st.clock_strays_unsettled, 0);
    assert_true(ld(&sh->urg) == 0);
    assert_int_equal(uw__pause_close(p), 0);
    assert_free(pid, 1);
    reap(pid);
}

/* The clocks count user time only, and a thread's kernel share of its
 * time is given back by interrupting it in that proportion (clock.c,
 * uw_pt_clock_kernel_turn): a thread that spends most of its time in
 * system calls is interrupted in some rounds and stopped by its clock in
 * others; the spinner of test_stop_by_clock, never in the kernel, is
 * interrupted in none (asserted there through its clock stops).  Asked to
 * count kernel time where the kernel allows it, no round is an
 * interrupt's turn.  Skipped where perf events are refused. */
static void test_clock_kernel_turns(void **state)
{
    pid_t pid;
    uw__pause *p = NULL;
    uw__pause_stats st;
    uint64_t before, turns;
    int round;
    (void)state;

    spawn_spinner = 2;
    pid = spawn(0, 0, 0);
    spawn_spinner = 0;
    while (__atomic_load_n(&sh->spin_tid, __ATOMIC_SEQ_CST) == 0)
        nap_us(1000);
    /* that thread alone: each round is one turn, one clock or neither */
    assert_int_equal(uw__pause_open(pid, sh->spin_tid, &p, NULL, 0), 0);
    uw__pause_set_clock(p, UW_PAUSE_CLOCK_ON);
    nap_us(300000); /* some clock ticks of its time, kernel and user */
    spinner_rounds(p, 80, 500);
    uw__pause_stats_get(p, &st);
    if (st.clock_refused != 0) {
        assert_int_equal(st.clock_kernel_turns, 0);
        skip_refused(p, pid, &st, "the kernel turns");
    }
    print_message("syscaller: %llu clock stops, %llu kernel turns, %llu clocks late of 80 "
                  "rounds\n",
                  (unsigned long long)st.clock_stops, (unsigned long long)st.clock_kernel_turns,
                  (unsigned long long)st.clock_late);
    assert_int_equal(st.clock_user_only, 1);
    assert_true(st.clock_kernel_turns >= 5);
    assert_true(st.clock_stops >= 5);
    assert_true(st.clock_kernel_turns + st.clock_stops + st.clock_late <= 80);
    assert_true(ld(&sh->urg) == 0);
    /* kernel time counted: the turns stop, unless the kernel refuses */
    uw__pause_set_clock(p, UW_PAUSE_CLOCK_KERNEL);
    turns = st.clock_kernel_turns;
    before = st.clock_stops;
    for (round = 0; round < 20; round++) {
        assert_int_equal(uw__pause_stop_all(p), 0);
        assert_int_equal(uw__pause_resume_all(p), 0);
        assert_int_equal(uw__pause_service(p, 1000), 0);
    }
    uw__pause_stats_get(p, &st);
    if (st.clock_user_only)
        print_message("the kernel refused to count kernel time: turns went on\n");
    else {
        assert_true(st.clock_kernel_turns == turns);
        assert_true(st.clock_stops >= before + 10);
    }
    assert_int_equal(uw__pause_close(p), 0);
    assert_free(pid, 0);
    reap(pid);
}

/* The thread bound at -1, 0 and +1: UW_PAUSE_LIMIT_THREADS threads are
 * held, one more is refused with UW_ERR_LIMIT_THREADS and leaves nothing
 * attached. */
static void test_thread_limit(void **state)
{
    int delta;
    (void)state;

    for (delta = -1; delta <= 1; delta++) {
        /* main thread + one worker + parked threads */
        int n_parked = UW_PAUSE_LIMIT_THREADS + delta - 2;
        pid_t pid = spawn(1, 0, n_parked);
        uw__pause *p = NULL;
        int rc = uw__pause_open(pid, 0, &p, NULL, 0);
        if (delta <= 0) {
            census c;
            assert_int_equal(rc, 0);
            assert_int_equal((int)uw__pause_threads(p), UW_PAUSE_LIMIT_THREADS + delta);
            assert_int_equal(uw__pause_stop_all(p), 0);
            c = take_census(pid);
            assert_int_equal(c.traced, UW_PAUSE_LIMIT_THREADS + delta);
            assert_int_equal(uw__pause_resume_all(p), 0);
            assert_int_equal(uw__pause_close(p), 0);
        } else {
            assert_int_equal(rc, UW_ERR_LIMIT_THREADS);
            assert_null(p);
        }
        assert_free(pid, 1);
        reap(pid);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_stop_all, teardown),
        cmocka_unit_test_teardown(test_one_thread, teardown),
        cmocka_unit_test_teardown(test_new_threads, teardown),
        cmocka_unit_test_teardown(test_signals, teardown),
        cmocka_unit_test_teardown(test_group_stop, teardown),
        cmocka_unit_test_teardown(test_target_exits, teardown),
        cmocka_unit_test_teardown(test_tracer_killed, teardown),
        cmocka_unit_test_teardown(test_refusals, teardown),
        cmocka_unit_test_teardown(test_misuse, teardown),
        cmocka_unit_test_teardown(test_thread_limit, teardown),
        cmocka_unit_test_teardown(test_thread_clock, teardown),
        cmocka_unit_test_teardown(test_stop_by_clock, teardown),
        cmocka_unit_test_teardown(test_clock_blocked, teardown),
        cmocka_unit_test_teardown(test_clock_kernel_turns, teardown),
    };
    sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (sh == MAP_FAILED)
        return 1;
    setvbuf(stdout, NULL, _IONBF, 0);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
