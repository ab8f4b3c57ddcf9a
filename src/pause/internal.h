/*
 * internal.h — the state shared by the files of src/pause/.
 *
 * Each attached thread has a record saying whether it runs, has been
 * interrupted and not reported yet, is held in a ptrace-stop, or has gone;
 * and, when held, how it must be restarted (the kind of its stop).
 */
#ifndef TORNSTACK_PAUSE_INTERNAL_H
#define TORNSTACK_PAUSE_INTERNAL_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "internal/pause.h"

typedef enum uw_pt_state {
    UW_PT_RUNNING = 0, /* restarted (or listening in a group-stop) */
    UW_PT_STOPPING,    /* interrupted, or newborn: a report is due */
    UW_PT_STOPPED,     /* in a ptrace-stop, held */
    UW_PT_GONE,        /* exited and reaped, or no longer ours: dropped */
} uw_pt_state;

typedef enum uw_pt_kind {
    UW_PK_TRAP = 0, /* PTRACE_EVENT_STOP with SIGTRAP (interrupt, newborn,
                     * SIGCONT notice): restart with PTRACE_CONT, no signal */
    UW_PK_EVENT,    /* another ptrace event (clone): PTRACE_CONT, no signal */
    UW_PK_SIGNAL,   /* signal-delivery-stop: PTRACE_CONT with that signal */
    UW_PK_GROUP,    /* group-stop: PTRACE_LISTEN, the job-control stop stays */
} uw_pt_kind;

typedef struct uw_pt {
    pid_t tid;
    uint8_t state; /* uw_pt_state */
    uint8_t kind;  /* uw_pt_kind, when UW_PT_STOPPED */
    uint8_t armed; /* its clock is armed: its stop is due by it (clock.c) */
    int sig;       /* signal to deliver on restart (UW_PK_SIGNAL) */
    int pfd;       /* its task-clock perf event, -1 if none (clock.c) */
    /* its user and kernel CPU time in clock ticks when its event opened,
     * times_known 0 if unread (clock.c: the kernel's share, when the
     * clocks count user time only) */
    uint8_t times_known;
    uint64_t times0[2];
    /* this stop stands for its kernel time (clock.c): interrupted, and
     * if that lands off a system call restarted to its next one
     * (turn_tries 1), interrupted after turn_until_ns (2) */
    uint8_t turn, turn_tries;
    uint64_t turn_until_ns;
    /* its clock was disarmed unfired this stop (clock.c): once every
     * thread is held, is its signal pending all the same?  stray: a stop
     * of its own is still due after its restart, and is taken then:
     * UW_PT_STRAY_SIGNAL, that signal; UW_PT_STRAY_TRAP, an interrupt
     * sent to a kernel turn as it stopped at a system call */
    uint8_t check_stray, stray;
    /* its event still holds the one overflow a refresh allowed: armed and
     * disarmed unfired (clock.c) */
    uint8_t limit_left;
    /* it blocks the clock's signal: its clock fired and could not stop
     * it; it is interrupted from then on, never armed (clock.c) */
    uint8_t clock_blocked;
} uw_pt;

#define UW_PT_STRAY_SIGNAL 1u
#define UW_PT_STRAY_TRAP 2u

/* The signal our clocks send (clock.c): ignored by default. */
#define UW_PT_CLOCK_SIGNAL SIGURG

/* What a report handler should do with a thread that reports a stop. */
typedef enum uw_pt_mode {
    UW_PT_HOLD,    /* keep it stopped (a sample is being taken) */
    UW_PT_RESTART, /* restart it at once (between samples) */
} uw_pt_mode;

struct uw__pause {
    pid_t pid;
    pid_t only;     /* 0: every thread and clones; else this one thread */
    uw_pt *threads; /* at most UW_PAUSE_LIMIT_THREADS live records */
    size_t n, cap;
    pid_t *scan;              /* room for one /proc/PID/task listing */
    sigset_t old_mask;        /* the caller's mask, restored by close */
    uint64_t stop_start_ns;   /* 0 when nothing is held */
    int clock_on;             /* running threads are stopped by their clocks */
    int clock_user_only;      /* their clocks count user time only (clock.c):
                               * all but UW_PAUSE_CLOCK_KERNEL */
    int clock_kernel_refused; /* ... and kernel time may not be counted */
    uint64_t rng;             /* the clocks' random periods (never 0) */
    uw__pause_stats stats;
};

/* table.c */
uw_pt *uw_pt_find(uw__pause *p, pid_t tid);
int uw_pt_add(uw__pause *p, pid_t tid, uw_pt_state state, uw_pt **out);
void uw_pt_compact(uw__pause *p);
size_t uw_pt_count(const uw__pause *p, uw_pt_state state);

/* scan.c */
int uw_pt_status(pid_t pid, pid_t tid, char *state, pid_t *tracer, uint64_t sigs[2]);
int uw_pt_sched_times(pid_t pid, pid_t tid, char *state, uint64_t times[2]);
int uw_pt_sig_pending(pid_t pid, pid_t tid, int sig, int *blocked);
int uw_pt_runtime(pid_t pid, pid_t tid, uint64_t *run_ns, char *state);

/* report.c */
int uw_pt_report(uw__pause *p, uw_pt *t, int status, uw_pt_mode mode);
int uw_pt_restart(uw__pause *p, uw_pt *t);

/* wait.c */
uint64_t uw_pt_now_ns(void);
int uw_pt_poll(uw__pause *p, uw_pt_mode mode);
int uw_pt_sleep(uint64_t deadline_ns, int *interrupted);
int uw_pt_wait_stopped(uw__pause *p, uint64_t deadline_ns);

/* stop.c */
int uw_pt_stop_everything(uw__pause *p, uint64_t deadline_ns, int rescan, int by_clock,
                          pid_t *refused);

/* clock.c */
void uw_pt_clock_open(uw__pause *p, uw_pt *t);
void uw_pt_clock_close(uw_pt *t);
int uw_pt_clock_arm(uw__pause *p, uw_pt *t);
int uw_pt_clock_kernel_turn(uw__pause *p, uw_pt *t, const uint64_t times[2]);
void uw_pt_clock_disarm(uw_pt *t);
int uw_pt_clock_signal(const uw_pt *t, int sig);
int uw_pt_clock_turn_again(uw__pause *p, uw_pt *t);
uint64_t uw_pt_clock_turns_due(uw__pause *p);
void uw_pt_clock_find_strays(uw__pause *p);
int uw_pt_clock_settle_strays(uw__pause *p, uw_pt_mode mode);

/* attach.c */
int uw_pt_seize(uw__pause *p, pid_t tid, uw_pt **out);
int uw_pt_interrupt(uw_pt *t);
void uw_pt_release(pid_t tid);
int uw_pt_scan(uw__pause *p, pid_t *tids, int hold, size_t *added, pid_t *refused);

/* refusal.c */
void uw_pt_explain_refusal(pid_t pid, pid_t tid, int err, char *why, size_t len);

#endif /* TORNSTACK_PAUSE_INTERNAL_H */
