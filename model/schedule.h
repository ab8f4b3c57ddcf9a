/*
 * schedule.h — what each read of the unwinder sees.
 *
 * The scheduler is the model's uw_reader backend.  Before each read it lets
 * the mutator make some stores visible, and during a multi-word read it may
 * let more land between two 8-byte words, so one read can return a torn
 * mix of two instants.  How many, and when, is drawn from one PRNG seeded
 * by the scenario, so a run is reproducible from (seed, version, model,
 * program).
 *
 * Memory models:
 *   MM_TSO      x86: every read sees a prefix of the store sequence, time
 *               never goes backwards, a multi-word read may tear at word
 *               boundaries as time advances during the copy;
 *   MM_BOUNDED  TSO with at most `bound` mutator operations started during
 *               one sample (preemption bounding, k <= 3);
 *   MM_RELAXED  ARM-like: stores are issued in program order (the truth
 *               follows that order) but become visible to the reader out
 *               of order, at most MM_RELAXED_WINDOW stores behind, keeping
 *               only what the hardware keeps: the order of stores to the
 *               same bytes, and the fence at the start of each operation
 *               (the loop returns from select through a GIL release and
 *               acquire, so every earlier store is visible before any
 *               later one).  Every store issued before a reader call ends
 *               is visible once it returns: a syscall takes longer than a
 *               store buffer takes to drain, and the reader's kernel entry
 *               and exit order its own reads.  So reorders show within one
 *               vectored read, as a real one would see them.
 *   MM_REALISTIC TSO at the pace of a real sampler: no store lands during
 *               the copy of a piece, and between pieces few do (pace_milli
 *               per thousand pieces on average, before each piece of a
 *               vectored read too: a live process runs on while a long
 *               read copies).  Two paces: MM_REALISTIC_MILLI, the model's
 *               first, and MM_REALISTIC_CAL_MILLI, calibrated against the
 *               live busy program (docs/model.md, scenario byte 43).
 * Run clocks (reader.h): thread k's clock (native id MM_FAB_NATIVE_ID0 + k)
 * counts its stores as they are issued and as they become visible, so a
 * clock that reads the same twice saw none of that thread's stores
 * issued or landing in between; a store of no one thread moves them all.
 * Reading a clock lets no store land (the next read does).
 * While a sample runs, the truth keeps its history (truth.h: what changed,
 * and when), and the scheduler counts the stores that became visible: a
 * sample during which none did saw a still process.
 */
#ifndef TORNSTACK_MM_SCHEDULE_H
#define TORNSTACK_MM_SCHEDULE_H

#include <stdint.h>

#include "fabricate.h"
#include "mutator.h"
#include "tornstack/reader.h"

enum { MM_TSO = 0, MM_BOUNDED = 1, MM_RELAXED = 2, MM_REALISTIC = 3, MM_MODELS = 4 };

/* MM_REALISTIC: stores landing before each piece read, in thousandths (a
 * mean, not a bound).  The first pace (every scenario written before byte
 * 43, and those whose byte 43 bit 0 is clear) ... */
#define MM_REALISTIC_MILLI 500
/* ... and the pace calibrated against the live busy program (byte 43 bit
 * 0; verify's realistic rows): of 10 to 200 tried, the nearest to its
 * skip rates over five versions; the busy rows (800 samples a row) still
 * skip 2-19 times what it does, the programs drawn moving them more than
 * the pace (docs/model.md, "Realistic").  A build may set another to try
 * one. */
#ifndef MM_REALISTIC_CAL_MILLI
#define MM_REALISTIC_CAL_MILLI 15
#endif

/* MM_RELAXED: stores issued but not yet visible, at most. */
#define MM_RELAXED_WINDOW 8

typedef struct mm_sched_cfg {
    int model;
    int rate;       /* stores made visible per read: uniform in [0, 2*rate] */
    int tear_pct;   /* chance of stores landing between two words of a read */
    int bound;      /* MM_BOUNDED: operations started per sample */
    int pace_milli; /* MM_REALISTIC: stores landing before a piece, per 1000 */
} mm_sched_cfg;

/* One entry of a sample's trace: a store made visible, or a read. */
typedef struct mm_trace_ev {
    uint64_t time;     /* stores visible when it happened (reads: at start) */
    uint64_t time_end; /* reads: stores visible at the end */
    uint64_t addr, value;
    uint32_t len;
    int8_t kind;   /* 0 store, 1 read, 2 torn read, 3 failed read */
    int8_t ev, th; /* store: event and thread */
    int32_t task;  /* store: the event's Task */
} mm_trace_ev;

typedef struct mm_trace {
    mm_trace_ev *ev;
    size_t n, cap;
} mm_trace;

typedef struct mm_sched {
    mm_mutator *m;
    mm_space *sp;
    mm_sched_cfg cfg;
    uint64_t rng;
    uw_reader reader;
    int recording;
    uint64_t ops_at_start;
    uint64_t landed; /* stores made visible during the current sample */
    mm_trace *trace; /* when set: the current sample's stores and reads */
    /* MM_RELAXED: issued stores not yet visible, oldest first, with the
     * mutator time at which each was issued */
    mm_store pend[MM_RELAXED_WINDOW];
    uint64_t pend_time[MM_RELAXED_WINDOW];
    size_t n_pend;
    uint64_t reordered; /* stores made visible before an older one */
    /* A vectored read's pieces in the order they are read, and sort
     * scratch; the order's own random stream (so that it leaves the
     * landing decisions' stream alone) */
    struct uw_addr_key *order;
    size_t order_cap;
    uint64_t order_rng;
    uint64_t clock[MM_FAB_THREADS]; /* run clocks, by thread index */
} mm_sched;

int mm_sched_init(mm_sched *s, mm_mutator *m, mm_space *sp, const mm_sched_cfg *cfg, uint64_t seed);
void mm_sched_free(mm_sched *s);

/* Let n stores land (the program runs between samples); with `to_pause`,
 * then on until a thread stops at a GIL release point (a sleep), within
 * a bound, as a sampler often finds a process blocked. */
void mm_sched_run(mm_sched *s, uint64_t n);
void mm_sched_run_to_pause(mm_sched *s, uint64_t bound);

/* Start and stop a sample: the truth keeps its history meanwhile. */
void mm_sched_begin_sample(mm_sched *s);
void mm_sched_end_sample(mm_sched *s);
/* Did no store become visible during the last sample? */
int mm_sched_still(const mm_sched *s);

const char *mm_model_name(int model);

#endif
