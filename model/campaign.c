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
 * Bytes 0..20 alone (21-byte scenarios, and every scenario written before
 * the server shape) give the classic shape, as before.  The server shape:
 *   21 shape: b % MM_SHAPES (0 classic, 1 server)
 *   22 loops: 1 + b % MM_MAX_LOOPS  23 workers per loop: 1 + b % 6
 *   24 deepest chain: 1 + b % 5     25 p_child: b % 40
 *   26 p_gather: b % 40             27 p_group: b % 30
 *   28 p_orphan: b % 40             29 p_burst: b % 80
 *   30 p_switch: b % 100            31 flags: bit 0 under tornstack run
 *      (hook records), bit 1 nested gathers, bits 2-4 value-stack slots
 *      (0, 2, 4, 8, 12, 16, 20, 31), bit 5 many families
 *   32 p_deep: b % 100, p_finish: (b >> 4) % 16
 *   33 p_lazy: b % 101              34 idle Tasks: b % 64 (size class
 *      idle: UW_LIMIT_TASKS >> (b % 4))
 *   35 size class: b % MM_SCALES    36 pause: b % 101
 *   37 p_join: b % 30 (await an orphan another Task created)
 *   38 newer versions: b % 3 == 1 is 3.14, 2 is 3.15, 0 leaves the version
 *      to byte 0 (so every scenario written before 3.14 keeps its own)
 *   39 p_init: b % 40 (3.13+: burst calls into a Python __init__ through
 *      the init shim; 0, and every scenario written before, makes none)
 *   40 p_held: b % 101 (workers given a done callback when made that no
 *      Task of the model awaits through: a main Task's gather of the
 *      workers, a server's callback on each connection's Task; 0, and
 *      every scenario written before, gives none)
 *   41 plain thread: b & 1 (with fewer than MM_MAX_LOOPS loops, one more
 *      thread that runs no loop), p_plain: 2 + (b >> 1) % 20 (percent of
 *      operations that are its; 0, and every scenario written before,
 *      makes none)
 *   42 p_known: b % 101 (workers given run_until_complete's callback,
 *      fire-and-forget Tasks a set's discard: done callbacks the unwinder
 *      knows no awaiter adds; 0, and every scenario written before, gives
 *      none)
 *   43 live calibration (0, and every scenario written before, keeps the
 *      model as it was): bit 0, the realistic model's pace calibrated
 *      against the live busy program (MM_REALISTIC_CAL_MILLI, schedule.h);
 *      bit 1, Tasks yield as the live busy program's do (server shape:
 *      an await of neither a child nor a gather nor a TaskGroup is
 *      asyncio.sleep(0), never a timer)
 *   44 bit 0: a Task step pushes the value sent on its root's value stack
 *      before it marks the root executing, as gen_send_ex2 does, and the
 *      root's SEND pops it (server shape; 0, and every scenario written
 *      before, pushes nothing)
 *   45 epochs: b % 16 of 1, 2 or 3 lets the unwinder keep the loop epochs
 *      of 0, 1 or 2 threads only (uw__tasks_limit_epochs), as a build
 *      whose UW_EPOCH_THREADS is that small: the threads past it are
 *      walked without a bracket; any other value, and every scenario
 *      written before, keeps the bound
 * Swarm bits apply to the server shape too (no tears, no bursts, no
 * finishing, no creations, one worker, shallow chains).  Its tear percent
 * is 1 + byte 8 % 12 (0 stays 0).
 */
#include "campaign.h"
#include "explain.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal/tasks.h"
#include "internal/unwinder.h"
#include "tornstack/error.h"
#include "tornstack/limits.h"

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

static void mm_decode_server(const uint8_t *z, mm_scenario *out)
{
    static const int slots[8] = {0, 2, 4, 8, 12, 16, 20, 31};
    mm_program *p = &out->prog;

    p->shape = MM_SHAPE_SERVER;
    /* A server sample reads several times what a classic one does (more
     * threads, more Tasks): at the classic shape's tear rates nearly every
     * sample would be torn past use, so tears are rarer here. */
    if (out->sched.tear_pct > 0)
        out->sched.tear_pct = 1 + z[8] % 12;
    p->n_loops = 1 + z[22] % MM_MAX_LOOPS;
    p->workers = 1 + z[23] % 6;
    p->max_depth = 1 + z[24] % 5;
    p->p_child = z[25] % 40;
    p->p_gather = z[26] % 40;
    p->p_group = z[27] % 30;
    p->p_orphan = z[28] % 40;
    p->p_burst = z[29] % 80;
    p->p_switch = z[30] % 100;
    p->hook = z[31] & 1;
    p->p_nested = z[31] & 2 ? 50 : 0;
    p->slots = slots[(z[31] >> 2) & 7];
    p->families = z[31] & 0x20 ? 20 : 4;
    p->fifo = (z[31] & 0x40) != 0;
    p->p_deep = z[32] % 100;
    p->p_finish = (z[32] >> 4) % 16;
    p->p_lazy = z[33] % 101;
    p->p_sleep0 = 25;
    p->p_getname = 10;
    p->idle = z[34] % 64;
    p->p_join = z[37] % 30;
    p->p_init = z[39] % 40;
    p->p_held = z[40] % 101;
    p->plain = z[41] & 1; /* (with fewer loops than MM_MAX_LOOPS) */
    p->p_plain = 2 + (z[41] >> 1) % 20;
    p->p_known = z[42] % 101;
    p->sent_push = z[44] & 1;
    /* as the live busy program (tests/live/busy_app.py): a Task that
     * awaits no child, gather or TaskGroup yields (asyncio.sleep(0)), so
     * the runnable Tasks stand queued on a FIFO loop's ready deque; it
     * sets no timers */
    if (z[43] & 2)
        p->p_sleep0 = 100;
    out->scale = z[35] % MM_SCALES;
    out->pause = z[36] % 101;
    if (out->scale == MM_SCALE_BUSY) {
        int total = 50 + (int)z[23] * 450 / 255;
        p->workers = (total + p->n_loops - 1) / p->n_loops;
        p->families = 20;
    } else if (out->scale == MM_SCALE_IDLE) {
        p->workers = 0;
        p->idle = UW_LIMIT_TASKS >> (z[34] % 4); /* verify's rows: byte 34 = 0 */
    }
    if (out->swarm & MM_SWARM_NO_SYNC)
        p->p_burst = p->p_init = 0;
    if (out->swarm & MM_SWARM_NO_COMPLETE)
        p->p_finish = 0;
    if (out->swarm & MM_SWARM_NO_CREATE) {
        p->p_child = p->p_gather = p->p_group = p->p_orphan = p->p_join = 0;
    }
    if ((out->swarm & MM_SWARM_ONE_TASK) && out->scale == MM_SCALE_SMALL) {
        p->workers = 1;
        p->n_loops = 1;
    }
    if (out->swarm & MM_SWARM_SHALLOW)
        p->max_depth = 1;
}

void mm_scenario_decode(const uint8_t *b, size_t n, int minor, int model, mm_scenario *out)
{
    uint8_t z[MM_SCENARIO_BYTES];
    int i;

    memset(z, 0, sizeof z);
    memcpy(z, b, n < sizeof z ? n : sizeof z);
    memset(out, 0, sizeof *out);
    out->minor = minor >= 0 ? minor : z[38] % 3 != 0 ? 13 + z[38] % 3 : 11 + z[0] % 3;
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
    out->sched.pace_milli = z[43] & 1 ? MM_REALISTIC_CAL_MILLI : MM_REALISTIC_MILLI;
    if (out->sched.model == MM_REALISTIC)
        out->sched.tear_pct = 0; /* a copy is far shorter than a store sequence */
    for (i = 0; i < 8; i++)
        out->seed |= (uint64_t)z[10 + i] << (8 * i);
    out->samples = 4u * (1u + z[18]);
    out->gap = 1 + z[19] % 64;
    out->swarm = z[20];
    out->epochs = z[45] % 16 >= 1 && z[45] % 16 <= 3 ? z[45] % 16 - 1 : -1;
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
    if (z[21] % MM_SHAPES == MM_SHAPE_SERVER)
        mm_decode_server(z, out);
}

void mm_scenario_set_minor(uint8_t *b, int minor)
{
    if (minor >= 14) {
        b[0] = 0;
        b[38] = (uint8_t)(minor - 13);
    } else {
        b[0] = (uint8_t)(minor - 11);
        b[38] = 0;
    }
}

void mm_scenario_clamp(mm_scenario *sc, uint32_t samples)
{
    if (sc->samples > samples)
        sc->samples = samples;
    if (sc->prog.shape != MM_SHAPE_SERVER)
        return;
    if (sc->scale != MM_SCALE_SMALL) {
        sc->scale = MM_SCALE_SMALL;
        sc->prog.workers = 1 + sc->prog.workers % 6;
        sc->prog.idle %= 64;
        sc->prog.families = 4;
    }
}

void mm_scenario_describe(const mm_scenario *sc, char *out, size_t cap)
{
    static const char *scale[MM_SCALES] = {"small", "busy", "idle"};
    int n = snprintf(out, cap,
                     "python 3.%d, model %s (rate %d, tear %d%%, bound %d, pace %d/1000), "
                     "swarm 0x%02x, "
                     "seed %llu, %u samples (gap %u), ",
                     sc->minor, mm_model_name(sc->sched.model), sc->sched.rate, sc->sched.tear_pct,
                     sc->sched.bound, sc->sched.pace_milli, (unsigned)sc->swarm,
                     (unsigned long long)sc->seed, sc->samples, sc->gap);
    if (n < 0 || (size_t)n >= cap)
        return;
    if (sc->epochs >= 0) {
        int k = snprintf(out + n, cap - (size_t)n, "epochs kept %d, ", sc->epochs);
        if (k < 0 || (size_t)k >= cap - (size_t)n)
            return;
        n += k;
    }
    if (sc->prog.shape == MM_SHAPE_CLASSIC)
        snprintf(out + n, cap - (size_t)n,
                 "classic: %d tasks (p_sync %d, p_complete %d, p_create %d)", sc->prog.n_tasks,
                 sc->prog.p_sync, sc->prog.p_complete, sc->prog.p_create);
    else
        snprintf(
            out + n, cap - (size_t)n,
            "server %s: %d loops x %d workers, %d idle, depth %d, child %d%% gather %d%% "
            "(nested %d%%) group %d%% join %d%% orphan %d%% burst %d%% (init %d%%) switch %d%% "
            "deep %d%% finish %d%% lazy %d%% held %d%% known %d%%, slots %d, %d families, hook %s, "
            "pause %d%%",
            scale[sc->scale], sc->prog.n_loops, sc->prog.workers, sc->prog.idle, sc->prog.max_depth,
            sc->prog.p_child, sc->prog.p_gather, sc->prog.p_nested, sc->prog.p_group,
            sc->prog.p_join, sc->prog.p_orphan, sc->prog.p_burst, sc->prog.p_init,
            sc->prog.p_switch, sc->prog.p_deep, sc->prog.p_finish, sc->prog.p_lazy, sc->prog.p_held,
            sc->prog.p_known, sc->prog.slots, sc->prog.families, sc->prog.hook ? "on" : "off",
            sc->pause);
}

static int mm_scenario_do(const mm_scenario *sc, const uw_task_options *policy, mm_verdict *v,
                          FILE *out, const char *svg_path, int kind);

static int mm_direct_read(void *ctx, uint64_t addr, void *dst, size_t len)
{
    return mm_space_read(ctx, addr, dst, len);
}

static const uw_reader_ops mm_direct_ops = {mm_direct_read, NULL, NULL, NULL};

int mm_scenario_run(const mm_scenario *sc, const uw_task_options *policy, mm_verdict *v)
{
    return mm_scenario_do(sc, policy, v, NULL, NULL, -1);
}

int mm_scenario_explain(const mm_scenario *sc, const uw_task_options *policy, mm_verdict *v,
                        FILE *out, const char *svg_path, int kind)
{
    return mm_scenario_do(sc, policy, v, out, svg_path, kind);
}

static int mm_scenario_do(const mm_scenario *sc, const uw_task_options *policy, mm_verdict *v,
                          FILE *out, const char *svg_path, int kind)
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
    uint64_t rng = sc->seed * 0x2545f4914f6cdd1dull + 1, kept0;
    mm_oracle_ctx ctx;
    int rc, l;

    uw_sample_init(&s);
    rc = mm_space_new(&sp);
    if (rc == 0)
        rc = mm_fab_process(sp, sc->minor, &im);
    if (rc == 0)
        rc = mm_mutator_new(&im, &sc->prog, sc->seed, &m);
    if (rc == 0)
        rc = mm_sched_init(&sch, m, sp, &sc->sched, sc->seed);
    if (rc == 0) {
        /* the checks a live target passes at attach, read directly (no
         * store lands: the schedule is not touched) */
        uw_reader direct;
        uw_reader_init(&direct, &mm_direct_ops, sp);
        rc = mm_fab_attach_check(&im, &direct, NULL, 0);
    }
    if (rc == 0)
        rc = uw_unwinder_new(&sch.reader, &im.target, &u);
    if (rc == 0)
        rc = uw_tasks_new(u, &t);
    if (rc == 0) {
        memset(&ctx, 0, sizeof ctx);
        ctx.w = mm_mutator_world(m);
        ctx.handle_run = mm_mutator_handle_run(m);
        ctx.n_loops = mm_world_loops(ctx.w);
        for (l = 0; l < ctx.n_loops; l++)
            ctx.tstate[l] = mm_mutator_tstate(m, l);
        ctx.im = &im;
        uw_tasks_set_options(t, policy);
        if (sc->epochs >= 0) {
            uw__tasks_limit_epochs(t, (size_t)sc->epochs);
            ctx.epochs_limited = 1;
            ctx.epochs_kept = sc->epochs;
        }
        if (out != NULL)
            sch.trace = &trace;
        for (k = 0; k < sc->samples && rc == 0; k++) {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            mm_sched_run(&sch, rng % (sc->gap + 1));
            if (sc->pause > 0 && sc->prog.p_burst > 0 && (int)((rng >> 32) % 100) < sc->pause)
                mm_sched_run_to_pause(&sch, 256);
            mm_sched_begin_sample(&sch);
            sch.reader.budget_calls = sch.reader.calls + MM_READ_BUDGET;
            kept0 = uw__unwinder_kept_shown(u);
            rc = uw_unwind_threads(u, &s);
            if (rc == 0)
                rc = uw_unwind_tasks(t, &s);
            sch.reader.budget_calls = 0;
            mm_sched_end_sample(&sch);
            if (rc != 0)
                break;
            ctx.still = mm_sched_still(&sch);
            {
                mm_verdict one;
                mm_verdict_init(&one);
                one.kept = uw__unwinder_kept_shown(u) - kept0;
                one.want_kind = kind; /* --explain KIND: the first of that kind */
                if (mm_oracle_check(&s, &ctx, &one) != 0 && out != NULL && !explained &&
                    (kind < 0 || one.viol[kind] != 0)) {
                    fprintf(out, "sample %u of %u:\n", k + 1, sc->samples);
                    mm_explain_text(out, &trace, &ctx, &s, one.first);
                    if (svg_path != NULL && mm_explain_svg(svg_path, &trace, &ctx, one.first) != 0)
                        fprintf(out, "cannot write %s\n", svg_path);
                    explained = 1;
                }
                mm_verdict_add(v, &one);
            }
        }
        if (out != NULL && !explained && rc == 0 && sc->samples > 0) {
            fprintf(out, "last sample (no violation):\n");
            mm_explain_text(out, &trace, &ctx, &s, "");
            if (svg_path != NULL)
                (void)mm_explain_svg(svg_path, &trace, &ctx, "");
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
