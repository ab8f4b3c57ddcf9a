/*
 * fuzz_race — bytes -> a scenario (version, memory model, program of the
 * classic or the server shape, schedule; model/campaign.c documents the
 * format, and all-zero bytes give the simplest one) -> the unwinder with a
 * policy -> the oracle, which judges every Task entry and composed stack.
 * Inputs stay small (mm_scenario_clamp: the small size class, at most
 * FZ_RACE_SAMPLES samples), so the fuzzer explores breadth.  Any violation
 * fails (FZ_ASSERT_MSG) with one line naming it, its kind first.
 *
 * Built once per policy: FZ_POLICY 0 default (race), 1 full Task unwind,
 * 2 no split, 3 no skip (the earlier policies, to measure how fast the
 * suite catches them).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "campaign.h"
#include "fuzz.h"

#define FZ_RACE_SAMPLES 8

#ifndef FZ_POLICY
#define FZ_POLICY 0
#endif

static uint64_t fz_h;

uint64_t fz_verdict(void)
{
    return fz_h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mm_scenario sc;
    mm_verdict v;
    uw_task_options o;

    mm_policy(FZ_POLICY, &o);
    mm_scenario_decode(data, size, -1, -1, &sc);
    /* Keep one input fast: the fuzzer explores breadth.  The first
     * FZ_RACE_SAMPLES samples of a scenario are the same however many it
     * has, but a server scenario of the busy or idle class becomes another
     * program here (the small class): `tornstack-verify --replay FILE
     * --clamp 8` runs a finding as this does. */
    mm_scenario_clamp(&sc, FZ_RACE_SAMPLES);
    mm_verdict_init(&v);
    FZ_ASSERT_MSG(mm_scenario_run(&sc, &o, &v) == 0, "the scenario could not run");
    fz_h = fz_mix(fz_mix(fz_mix(FZ_SEED, v.samples), v.emitted), v.skipped);
    FZ_ASSERT_MSG(mm_verdict_violations(&v) == 0, "violation: %s", v.first);
    return 0;
}
