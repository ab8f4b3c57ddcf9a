/*
 * campaign.h — run the unchanged unwinder against many simulated programs
 * and judge every sample with the oracle.
 *
 * One run is reproducible from (seed, version, memory model, policy): the
 * program of each of its scenarios and every scheduling decision derive
 * from the seed.  mm_scenario_decode turns any byte string into a valid
 * scenario (all-zero bytes: the simplest one); a run built from a seed
 * draws the bytes from the seed.
 */
#ifndef TORNSTACK_MM_CAMPAIGN_H
#define TORNSTACK_MM_CAMPAIGN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "oracle.h"
#include "schedule.h"
#include "tornstack/tasks.h"

typedef struct mm_scenario {
    int minor; /* 11 to 15 */
    mm_program prog;
    mm_sched_cfg sched;
    uint64_t seed;    /* PRNG of the mutator and the scheduler */
    uint32_t samples; /* samples of this scenario */
    uint32_t gap;     /* stores landing between samples, at most */
    uint8_t swarm;    /* classes switched off (MM_SWARM_*) */
    int scale;        /* MM_SCALE_*: the program's size class */
    int pause;        /* percent of gaps that run on to a thread
                       * stopped at a GIL release point */
    int epochs;       /* loop epochs the unwinder may keep: -1 as many as
                       * its bound, else 0 to 2 (the others' threads are
                       * walked without a bracket) */
} mm_scenario;

/* Size classes of a server program (scenario byte 35). */
enum {
    MM_SCALE_SMALL = 0, /* 1-6 workers per loop, a few dozen idle Tasks */
    MM_SCALE_BUSY = 1,  /* 50-500 workers over the loops, with their children */
    MM_SCALE_IDLE = 2,  /* UW_LIMIT_TASKS idle Tasks, nothing else: still */
    MM_SCALES = 3
};

/* Bytes of a scenario that mean something (more are ignored). */
#define MM_SCENARIO_BYTES 46

/* Make scenario bytes b (MM_SCENARIO_BYTES of them) decode to CPython
 * 3.<minor> (11 to 15): bytes 0 and 38 (campaign.c). */
void mm_scenario_set_minor(uint8_t *b, int minor);

/* Reads the reader lets one sample make before it refuses (a hang stops
 * here); the oracle's bound, MM_READ_BOUND, is far below it, so a sample
 * over that bound is reported, not cut short. */
#define MM_READ_BUDGET (64 * MM_READ_BOUND)

/* Swarm testing: a run may switch whole classes of operations or faults
 * off, so that the rest shows more often and in other combinations. */
#define MM_SWARM_NO_TEARS 0x01    /* no stores land during a read */
#define MM_SWARM_NO_SYNC 0x02     /* Task steps make no sync call */
#define MM_SWARM_NO_COMPLETE 0x04 /* Tasks never finish */
#define MM_SWARM_NO_CREATE 0x08   /* no Task is created after the start */
#define MM_SWARM_ONE_TASK 0x10    /* one Task */
#define MM_SWARM_SHALLOW 0x20     /* every chain one coroutine deep */

/* The unwinder's Task policies by number: 0 default, 1 full unwinding of
 * Task frames, 2 no Handle._run split, 3 no skip rules (the earlier
 * profilers' behaviour), and their names. */
#define MM_POLICIES 4
void mm_policy(int policy, uw_task_options *o);
const char *mm_policy_name(int policy);

/* Any bytes -> a valid scenario.  minor and model are forced when >= 0. */
void mm_scenario_decode(const uint8_t *b, size_t n, int minor, int model, mm_scenario *out);

/* Keep a scenario small (fuzzing: many short inputs): the small size class,
 * at most `samples` samples. */
void mm_scenario_clamp(mm_scenario *sc, uint32_t samples);

/* One line describing a scenario, for reports. */
void mm_scenario_describe(const mm_scenario *sc, char *out, size_t cap);

/* Run one scenario with a policy; counts are added to v. */
int mm_scenario_run(const mm_scenario *sc, const uw_task_options *policy, mm_verdict *v);

/* The same, explaining the first sample with a violation (of kind
 * `kind`, any when -1), or the last sample when none, to `out`, and
 * drawing it to svg_path when not NULL. */
int mm_scenario_explain(const mm_scenario *sc, const uw_task_options *policy, mm_verdict *v,
                        FILE *out, const char *svg_path, int kind);

#endif
