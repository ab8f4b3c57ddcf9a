/*
 * campaign.c — scenario decoding and running (see campaign.h).
 *
 * Scenario bytes, in order (missing bytes read as zero):
 *   0  version: 11 + b % 3          5  p_complete: b % 40
 *   1  model: b % MM_MODELS         6  p_create: b % 60
 *   2  tasks: 1 + b % MM_MAX_TASKS  7  rate: b % 6 stores per read
 *   3  chain depths (2 bits each)   8  tear percent: b % 50
 *   4  p_sync: b % 100              9  bound: 1 + b % 3
 *   10..17 seed (little-endian)     18 samples: 1 + b (x4)
 *   19 gap: 1 + b % 64 stores between samples
 *   20 swarm: each set bit switches a class off for the whole run
 *      (MM_SWARM_*: tears, sync calls, completions, creations, more than
 *      one Task, chains deeper than one); 0 (or absent) keeps all on
 */
#include "campaign.h"
#include "explain.h"

#include <stdlib.h>
#include <string.h>

#include "tornstack/error.h"

void mm_policy(int policy, uw_task_options *o)
{
    uw_task_options_default(o);
    if (policy == 1)
        o->task_depth = 0;
    else if (policy == 2)
        o->split = 0;
    else if (policy == 3)
        o->skip = 0;
}

const char *mm_policy_name(int policy)
{
    static const char *names[MM_POLICIES] = {"default", "full-task-unwind", "no-split", "no-skip"};
    return policy >= 0 && policy < MM_POLICIES ? names[policy] : "?";
}

void mm_scenario_decode(const uint8_t *b, size_t n, int minor, int model, mm_scenario *out)
{
    uint8_t z[21];
    int i;

    memset(z, 0, sizeof z);
    memcpy(z, b, n < sizeof z ? n : sizeof z);
    memset(out, 0, sizeof *out);
    out->minor = minor >= 0 ? minor : 11 + z[0] % 3;
    out->sched.model = model >= 0 ? model : z[1] % MM_MODELS;
    out->prog.n_tasks = 1 + z[2] % MM_MAX_TASKS;
    for (i = 0; i < MM_MAX_TASKS; i++)
        out->prog.depth[i] = 1 + ((z[3] >> (2 * (i % 4))) & 3);
    out->prog.p_sync = z[4] % 100;
    out->prog.p_complete = z[5] % 40;
    out->prog.p_create = z[6] % 60;
    out->sched.rate = z[7] % 6;
    out->sched.tear_pct = z[8] % 50;
    out->sched.bound = 1 + z[9] % 3;
    if (out->sched.model == MM_REALISTIC)
        out->sched.tear_pct = 0; /* a copy is far shorter than a store sequence */
    for (i = 0; i < 8; i++)
        out->seed |= (uint64_t)z[10 + i] << (8 * i);
    out->samples = 4u * (1u + z[18]);
    out->gap = 1 + z[19] % 64;
    out->swarm = z[20];
    if (out->swarm & MM_SWARM_NO_TEARS)
        out->sched.tear_pct = 0;
    if (out->swarm & MM_SWARM_NO_SYNC)
        out->prog.p_sync = 0;
    if (out->swarm & MM_SWARM_NO_COMPLETE)
        out->prog.p_complete = 0;
    if (out->swarm & MM_SWARM_NO_CREATE)
        out->prog.p_create = 0;
    if (out->swarm & MM_SWARM_ONE_TASK)
        out->prog.n_tasks = 1;
    if (out->swarm & MM_SWARM_SHALLOW)
        for (i = 0; i < MM_MAX_TASKS; i++)
            out->prog.depth[i] = 1;
}

static int mm_scenario_do(const mm_scenario *sc, const uw_task_options *policy, mm_verdict *v,
                          FILE *out, const char *svg_path);

int mm_scenario_run(const mm_scenario *sc, const uw_task_options *policy, mm_verdict *v)
{
    return mm_scenario_do(sc, policy, v, NULL, NULL);
}

int mm_scenario_explain(const mm_scenario *sc, const uw_task_options *policy, mm_verdict *v,
                        FILE *out, const char *svg_path)
{
    return mm_scenario_do(sc, policy, v, out, svg_path);
}

static int mm_scenario_do(const mm_scenario *sc, const uw_task_options *policy, mm_verdict *v,
                          FILE *out, const char *svg_path)
{
    mm_trace trace = {NULL, 0, 0};
    int explained = 0;
    mm_space *sp = NULL;
    mm_image im;
    mm_mutator *m = NULL;
    mm_sched sch;
    uw_unwinder *u = NULL;
    uw_tasks *t = NULL;
    uw_sample s;
    uint32_t k;
    uint64_t rng = sc->seed * 0x2545f4914f6cdd1dull + 1;
    int rc;

    uw_sample_init(&s);
    rc = mm_space_new(&sp);
    if (rc == 0)
        rc = mm_fab_process(sp, sc->minor, &im);
    if (rc == 0)
        rc = mm_mutator_new(&im, &sc->prog, sc->seed, &m);
    if (rc == 0)
        rc = mm_sched_init(&sch, m, sp, &sc->sched, sc->seed);
    if (rc == 0)
        rc = uw_unwinder_new(&sch.reader, &im.target, &u);
    if (rc == 0)
        rc = uw_tasks_new(u, &t);
    if (rc == 0) {
        uw_tasks_set_options(t, policy);
        if (out != NULL)
            sch.trace = &trace;
        for (k = 0; k < sc->samples && rc == 0; k++) {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            mm_sched_run(&sch, rng % (sc->gap + 1));
            mm_sched_begin_sample(&sch);
            sch.reader.budget_calls = sch.reader.calls + 4 * MM_READ_BOUND;
            rc = uw_unwind_threads(u, &s);
            if (rc == 0)
                rc = uw_unwind_tasks(t, &s);
            sch.reader.budget_calls = 0;
            mm_sched_end_sample(&sch);
            if (rc != 0)
                break;
            if (mm_oracle_check(&s, sch.hist, sch.n_hist, v) != 0 && out != NULL && !explained) {
                fprintf(out, "sample %u of %u:\n", k + 1, sc->samples);
                mm_explain_text(out, &trace, sch.hist, sch.n_hist, &s, v->first);
                if (svg_path != NULL && mm_explain_svg(svg_path, &trace, sch.hist, sch.n_hist,
                                                       v->first) != 0)
                    fprintf(out, "cannot write %s\n", svg_path);
                explained = 1;
            }
        }
        if (out != NULL && !explained && rc == 0 && sc->samples > 0) {
            fprintf(out, "last sample (no violation):\n");
            mm_explain_text(out, &trace, sch.hist, sch.n_hist, &s, "");
            if (svg_path != NULL)
                (void)mm_explain_svg(svg_path, &trace, sch.hist, sch.n_hist, "");
        }
    }
    if (m != NULL)
        v->reordered += sch.reordered;
    free(trace.ev);
    uw_sample_free(&s);
    uw_tasks_free(t);
    uw_unwinder_free(u);
    if (m != NULL)
        mm_sched_free(&sch);
    mm_mutator_free(m);
    mm_space_free(sp);
    return rc;
}
