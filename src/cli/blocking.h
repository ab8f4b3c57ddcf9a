/*
 * blocking.h — the --blocking mode of dump, record and bench.
 *
 * The commands call these around each sample and between samples; when
 * the mode is off every call is a no-op (ts_blocking_wait just sleeps).
 */
#ifndef TORNSTACK_CLI_BLOCKING_H
#define TORNSTACK_CLI_BLOCKING_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>

#include "internal/pause.h"

typedef struct ts_blocking {
    uw__pause *pause; /* NULL: not blocking */
    long hold_ms;     /* extra time each sample keeps the target stopped (tests) */
    int on_torn;      /* --pause-on-torn: stop only to redo a sample that skipped */
    int by_clock;     /* how running threads are stopped: UW_PAUSE_CLOCK_OFF
                       * (interrupted), _ON or _KERNEL (by their own clocks,
                       * pause/clock.c) */
    uint64_t samples; /* --pause-on-torn: samples taken, redone stopped, */
    uint64_t paused;
    uint64_t restopped;       /* stops made again after a stopped sample tore (both modes) */
    uint64_t snapshots_again; /* stops made again for a page a snapshot lacked */
    uint64_t run_waits;       /* restarts that waited past their minimum for a torn thread */
    uint64_t run_gave_up;     /* ... of them, those that stopped again without seeing it run */
} ts_blocking;

/* The signal (SIGINT, SIGTERM, SIGHUP) that asked a blocking command to
 * stop, or 0.  Set by the handler, read by the sampling loops. */
extern volatile sig_atomic_t ts_stop_signal;

/* Attach to every thread of pid and install the stop handlers; with
 * on_torn, samples are taken running and only redone stopped when they
 * skipped (session.c); with by_clock (a UW_PAUSE_CLOCK_ mode), a running
 * thread is stopped by its own CPU-time clock where perf events allow
 * (src/pause/clock.c), else by PTRACE_INTERRUPT.  On failure prints the one-line error and returns
 * the code (UW_ERR_PTRACE, UW_ERR_NO_PROCESS, ...); nothing stays
 * attached. */
int ts_blocking_open(ts_blocking *b, long pid, long hold_ms, int on_torn, int by_clock);

/* Around one sample: stop every thread; then (after the hold) restart
 * them.  0 when not blocking. */
int ts_blocking_begin(ts_blocking *b);
int ts_blocking_end(ts_blocking *b);

/* Whether the target is attached (a stopping mode is open): its own stops
 * then wait for tornstack to answer them. */
int ts_blocking_active(const ts_blocking *b);

/* Between samples: wait `us` microseconds, answering the target's own
 * stops meanwhile (or just sleep when not blocking).  Returns early when
 * a stop signal arrived.  UW_ERR_NO_PROCESS when the target is gone. */
int ts_blocking_wait(ts_blocking *b, double us);

/* Between the stops of one sample that tore: let the target run at
 * least min_us and, past that, until each of the n threads named (native
 * ids) ran or sleeps, at most max_us (or just sleep min_us when not
 * blocking).  UW_ERR_NO_PROCESS when the target is gone. */
int ts_blocking_run_on(ts_blocking *b, const pid_t *tids, size_t n, double min_us, double max_us);

/* One line on f: how long the target was held, per sample and per
 * second of `wall_us` (nothing when not blocking). */
void ts_blocking_report(const ts_blocking *b, FILE *f, double wall_us);

/* One line on f when a run that did not stop the target skipped at least
 * TS_SKIP_HINT_PERCENT % of its Task readings for a tear (`skipped`, bound
 * reasons left out, of `readings`): the options that would have kept them. */
void ts_skip_hint(const ts_blocking *b, FILE *f, uint64_t skipped, uint64_t readings);

/* Detach (the target runs on) and say so if a stop signal ended the run. */
void ts_blocking_close(ts_blocking *b);

#endif /* TORNSTACK_CLI_BLOCKING_H */
