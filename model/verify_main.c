/*
 * tornstack-verify — the main job: run the unwinder against simulated
 * programs under each memory model and report what the oracle finds.
 *
 *   tornstack-verify [--python 3.11|3.12|3.13|all] [--model tso|bounded|relaxed|realistic|all]
 *                    [--samples N] [--seed S] [--policy default|full-task-unwind|
 *                    no-split|no-skip|all]
 *   tornstack-verify --replay FILE [--policy P]   (a scenario file, e.g. one
 *                    written by a failing property test)
 *
 * (`tornstack verify ...` runs this program.)  Prints, per version x model
 * and policy: samples, Task readings, emitted, skipped per reason, leaks,
 * bogus stacks, depth and read-bound violations, reads and bytes per sample,
 * and samples verified per second.  Exits 1 on any violation, whatever the
 * policy (the earlier policies are expected to fail), 2 on bad usage.
 */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "campaign.h"
#include "internal/uw_assert.h"
#include "still.h"
#include "tornstack/error.h"


static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Replay one scenario file: its bytes decode to version, model, program
 * and schedule exactly as when it was written. */
static int replay(const char *path, int pol, int explain, const char *svg)
{
    uint8_t bytes[64];
    size_t n;
    FILE *f = fopen(path, "rb");
    mm_scenario sc;
    mm_verdict v;
    uw_task_options o;
    int i;

    if (f == NULL) {
        fprintf(stderr, "tornstack verify: cannot read %s\n", path);
        return 2;
    }
    n = fread(bytes, 1, sizeof bytes, f);
    fclose(f);
    if (n == 0) {
        fprintf(stderr, "tornstack verify: %s is empty\n", path);
        return 2;
    }
    mm_scenario_decode(bytes, n, -1, -1, &sc);
    mm_policy(pol, &o);
    memset(&v, 0, sizeof v);
    printf("scenario %s: python 3.%d, model %s (rate %d, tear %d%%, bound %d), %d tasks "
           "(p_sync %d, p_complete %d, p_create %d), swarm 0x%02x, seed %" PRIu64
           ", %u samples, policy %s\n",
           path, sc.minor, mm_model_name(sc.sched.model), sc.sched.rate, sc.sched.tear_pct,
           sc.sched.bound, sc.prog.n_tasks, sc.prog.p_sync, sc.prog.p_complete,
           sc.prog.p_create, (unsigned)sc.swarm, sc.seed, sc.samples, mm_policy_name(pol));
    if ((explain ? mm_scenario_explain(&sc, &o, &v, stdout, svg) : mm_scenario_run(&sc, &o, &v)) !=
        0) {
        fprintf(stderr, "tornstack verify: scenario failed to run\n");
        return 1;
    }
    printf("samples %" PRIu64 ", task readings %" PRIu64 ", emitted %" PRIu64 ", skipped %" PRIu64
           ", leaks %" PRIu64 ", bogus %" PRIu64 ", other %" PRIu64 "\n",
           v.samples, v.tasks, v.emitted, v.skipped, v.leaks, v.bogus + v.bogus_pure,
           v.depth + v.reads_over + v.bad_skips);
    for (i = 1; i < UW_REASON_SLOTS; i++)
        if (v.skips[i] != 0)
            printf("skipped %s: %" PRIu64 "\n", uw_errname(-i), v.skips[i]);
    if (v.first[0] != '\0')
        printf("first violation: %s\n", v.first);
    return mm_verdict_violations(&v) ? 1 : 0;
}

/* Keep the scenario of a row's first violation as a file the replay
 * driver runs (its bytes carry version and model), in the current
 * directory: verify-<policy>-3.<minor>-<model>-<seed>.scenario. */
static void write_reproducer(const uint8_t *bytes, size_t n, int minor, int model, int pol,
                             uint64_t seed, char *path, size_t cap)
{
    FILE *f;

    snprintf(path, cap, "verify-%s-3.%d-%s-%" PRIu64 ".scenario", mm_policy_name(pol), minor,
             mm_model_name(model), seed);
    f = fopen(path, "wb");
    if (f == NULL || fwrite(bytes, 1, n, f) != n) {
        fprintf(stderr, "tornstack verify: cannot write %s\n", path);
        path[0] = '\0';
    }
    if (f != NULL && fclose(f) != 0)
        path[0] = '\0';
}

/* Samples per row (version x model x policy) by default: 3 versions x 4
 * models (TSO, bounded, relaxed, realistic) x 84,000 = 1,008,000. */
#define VF_DEFAULT_SAMPLES 84000

/* One row of the report, run on its own: its PRNG derives from (seed,
 * version, model), so the numbers do not depend on how rows are spread
 * over jobs. */
typedef struct vf_row {
    int minor, model, policy;
    uint64_t samples, seed;
    int failed;
    double seconds;
    mm_verdict v;
    char repro[160];
} vf_row;

static void vf_run_row(vf_row *r)
{
    uw_task_options pol;
    uint64_t rng = r->seed ^ ((uint64_t)r->minor << 40) ^ ((uint64_t)r->model << 48);
    double t0 = now_s();

    mm_policy(r->policy, &pol);
    memset(&r->v, 0, sizeof r->v);
    while (r->v.samples < r->samples) {
        uint8_t bytes[21];
        mm_scenario sc;
        uint64_t before;
        int b;
        for (b = 0; b < 21; b++) {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            bytes[b] = (uint8_t)(rng >> 24);
        }
        bytes[0] = (uint8_t)(r->minor - 11); /* replays as is */
        bytes[1] = (uint8_t)r->model;
        bytes[20] &= 0x3f; /* swarm: each class off in half the runs */
        mm_scenario_decode(bytes, sizeof bytes, -1, -1, &sc);
        before = mm_verdict_violations(&r->v);
        if (mm_scenario_run(&sc, &pol, &r->v) != 0) {
            r->failed = 1;
            break;
        }
        if (before == 0 && mm_verdict_violations(&r->v) != 0)
            write_reproducer(bytes, sizeof bytes, r->minor, r->model, r->policy, r->seed,
                             r->repro, sizeof r->repro);
    }
    r->seconds = now_s() - t0;
    if (r->seconds <= 0)
        r->seconds = 1e-9;
}

typedef struct vf_pool {
    vf_row *rows;
    size_t n;
    atomic_size_t next;
} vf_pool;

static void *vf_worker(void *arg)
{
    vf_pool *pool = arg;
    size_t i;

    while ((i = atomic_fetch_add(&pool->next, 1)) < pool->n)
        vf_run_row(&pool->rows[i]);
    return NULL;
}

/* Run the rows on `jobs` threads (the model and the unwinder keep no
 * global state).  A thread that cannot start leaves its share to the
 * others. */
static void vf_run_rows(vf_row *rows, size_t n, int jobs)
{
    vf_pool pool = {rows, n, 0};
    pthread_t th[256];
    int started = 0, k;

    atomic_init(&pool.next, 0);
    for (k = 1; k < jobs && (size_t)k < n; k++)
        if (pthread_create(&th[started], NULL, vf_worker, &pool) == 0)
            started++;
    (void)vf_worker(&pool);
    for (k = 0; k < started; k++)
        pthread_join(th[k], NULL);
}

static int vf_default_jobs(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 256 ? 256 : (int)n;
}

static int usage(void)
{
    fputs("usage: tornstack verify [--python 3.11|3.12|3.13|all]\n"
          "                        [--model tso|bounded|relaxed|realistic|all]\n"
          "                        [--samples N] [--seed S] [--jobs J]\n"
          "                        [--policy default|full-task-unwind|no-split|no-skip|all]\n"
          "       tornstack verify --replay FILE [--policy P] [--explain yes] [--svg OUT]\n"
          "       tornstack verify --fabricate DESCRIPTION --python 3.X   (fidelity dump)\n",
          stderr);
    return 2;
}

int main(int argc, char **argv)
{
    int minors[3] = {11, 12, 13}, n_minor = 3, models[MM_MODELS] = {MM_TSO, MM_BOUNDED, MM_RELAXED, MM_REALISTIC};
    int n_model = MM_MODELS, pol_lo = 0, pol_hi = 0, i, mi, mo, p;
    uint64_t samples = VF_DEFAULT_SAMPLES, seed = 1, violations = 0;
    mm_verdict per_policy[4], total;
    vf_row rows[MM_POLICIES * 3 * MM_MODELS];
    size_t n_rows;
    int jobs = vf_default_jobs();
    double t_all = now_s();
    const char *replay_file = NULL, *svg = NULL, *fabricate = NULL;
    int explain = 0;

    uw__require_assertions("tornstack verify");
    for (i = 1; i < argc; i += 2) { /* every option takes a value */
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (v == NULL)
            return usage();
        if (strcmp(argv[i], "--python") == 0) {
            if (strcmp(v, "all") != 0) {
                if (strncmp(v, "3.", 2) != 0 || atoi(v + 2) < 11 || atoi(v + 2) > 13)
                    return usage();
                minors[0] = atoi(v + 2);
                n_minor = 1;
            }
        } else if (strcmp(argv[i], "--model") == 0) {
            if (strcmp(v, "tso") == 0) {
                models[0] = MM_TSO;
                n_model = 1;
            } else if (strcmp(v, "bounded") == 0) {
                models[0] = MM_BOUNDED;
                n_model = 1;
            } else if (strcmp(v, "relaxed") == 0) {
                models[0] = MM_RELAXED;
                n_model = 1;
            } else if (strcmp(v, "realistic") == 0) {
                models[0] = MM_REALISTIC;
                n_model = 1;
            } else if (strcmp(v, "all") != 0) {
                return usage();
            }
        } else if (strcmp(argv[i], "--samples") == 0) {
            samples = strtoull(v, NULL, 10);
            if (samples == 0)
                return usage();
        } else if (strcmp(argv[i], "--jobs") == 0) {
            jobs = atoi(v);
            if (jobs < 1 || jobs > 256)
                return usage();
        } else if (strcmp(argv[i], "--fabricate") == 0) {
            fabricate = v;
        } else if (strcmp(argv[i], "--replay") == 0) {
            replay_file = v;
        } else if (strcmp(argv[i], "--explain") == 0) {
            explain = strcmp(v, "yes") == 0 || strcmp(v, "1") == 0;
        } else if (strcmp(argv[i], "--svg") == 0) {
            svg = v;
            explain = 1;
        } else if (strcmp(argv[i], "--seed") == 0) {
            seed = strtoull(v, NULL, 0);
        } else if (strcmp(argv[i], "--policy") == 0) {
            for (p = 0; p < 4 && strcmp(v, mm_policy_name(p)) != 0; p++)
                ;
            if (strcmp(v, "all") == 0) {
                pol_lo = 0;
                pol_hi = 3;
            } else if (p == MM_POLICIES) {
                return usage();
            } else {
                pol_lo = pol_hi = p;
            }
        } else {
            return usage();
        }
    }
    if (fabricate != NULL) {
        /* fidelity: fabricate a still process from a description and dump it */
        FILE *f = strcmp(fabricate, "-") == 0 ? stdin : fopen(fabricate, "r");
        int rc;
        if (f == NULL) {
            fprintf(stderr, "tornstack verify: cannot read %s\n", fabricate);
            return 2;
        }
        rc = mm_still_dump(f, minors[0], stdout);
        if (f != stdin)
            fclose(f);
        if (rc != 0)
            fprintf(stderr, "tornstack verify: %s: %s\n", fabricate, uw_strerror(rc));
        return rc ? 1 : 0;
    }
    if (replay_file != NULL)
        return replay(replay_file, pol_lo, explain, svg);
    memset(per_policy, 0, sizeof per_policy);
    memset(&total, 0, sizeof total);
    printf("tornstack verify: seed %" PRIu64 ", %" PRIu64 " samples per version x model x policy\n",
           seed, samples);
    printf("%-7s %-8s %-17s %9s %9s %8s %8s %6s %6s %6s %9s %9s %9s\n", "python", "model",
           "policy", "samples", "emitted", "skipped", "skip%", "leaks", "bogus", "other",
           "reads/smp", "bytes/smp", "samples/s");
    n_rows = 0;
    for (p = pol_lo; p <= pol_hi; p++)
        for (mi = 0; mi < n_minor; mi++)
            for (mo = 0; mo < n_model; mo++)
                rows[n_rows++] = (vf_row){.minor = minors[mi], .model = models[mo], .policy = p,
                                          .samples = samples, .seed = seed};
    vf_run_rows(rows, n_rows, jobs);
    for (i = 0; i < (int)n_rows; i++) {
        const vf_row *r = &rows[i];
        const mm_verdict *v = &r->v;
        int k;
        if (r->failed) {
            fprintf(stderr, "verify: scenario failed to run\n");
            return 1;
        }
        printf("3.%-5d %-8s %-17s %9" PRIu64 " %9" PRIu64 " %8" PRIu64 " %7.3f%% %6" PRIu64
               " %6" PRIu64 " %6" PRIu64 " %9.1f %9.0f %9.0f\n",
               r->minor, mm_model_name(r->model), mm_policy_name(r->policy), v->samples,
               v->emitted, v->skipped, v->tasks ? 100.0 * (double)v->skipped / (double)v->tasks : 0.0,
               v->leaks, v->bogus + v->bogus_pure, v->depth + v->reads_over + v->bad_skips,
               (double)v->calls / (double)v->samples, (double)v->bytes / (double)v->samples,
               (double)v->samples / r->seconds);
        if (mm_verdict_violations(v) != 0 && v->first[0] != '\0')
            printf("        first violation: %s\n", v->first);
        if (r->repro[0] != '\0')
            printf("        reproducer: %s (tornstack replay %s%s%s)\n", r->repro, r->repro,
                   r->policy != 0 ? " --policy " : "", r->policy != 0 ? mm_policy_name(r->policy) : "");
        if (r->model == MM_RELAXED)
            printf("        stores made visible out of order: %" PRIu64 "\n", v->reordered);
        if (v->depth + v->reads_over + v->bad_skips != 0)
            printf("        depth %" PRIu64 ", over the read bound %" PRIu64
                   ", skip reason inconsistent %" PRIu64 "\n",
                   v->depth, v->reads_over, v->bad_skips);
        for (k = 1; k < UW_REASON_SLOTS; k++)
            if (v->skips[k] != 0)
                printf("        skipped %s: %" PRIu64 "\n", uw_errname(-k), v->skips[k]);
        mm_verdict_add(&per_policy[r->policy], v);
        mm_verdict_add(&total, v);
        violations += mm_verdict_violations(v);
    }
    printf("total: %" PRIu64 " samples, %" PRIu64 " Task readings, %.3f%% skipped, at most %" PRIu64
           " reads in a sample (bound %d), %.1f s on %d jobs (%.0f samples/s)\n",
           total.samples, total.tasks,
           total.tasks ? 100.0 * (double)total.skipped / (double)total.tasks : 0.0,
           total.max_calls, MM_READ_BOUND,
           now_s() - t_all, jobs, (double)total.samples / (now_s() - t_all));
    if (pol_hi > pol_lo) {
        printf("\npolicy comparison (all versions and models):\n%-17s %10s %10s %10s %12s\n",
               "policy", "leaks", "bogus", "skip%", "reads/sample");
        for (p = pol_lo; p <= pol_hi; p++) {
            const mm_verdict *v = &per_policy[p];
            printf("%-17s %10" PRIu64 " %10" PRIu64 " %9.3f%% %12.1f\n", mm_policy_name(p), v->leaks,
                   v->bogus + v->bogus_pure,
                   v->tasks ? 100.0 * (double)v->skipped / (double)v->tasks : 0.0,
                   v->samples ? (double)v->calls / (double)v->samples : 0.0);
        }
    }
    printf("%s: %" PRIu64 " violations\n", violations ? "FAILED" : "verified", violations);
    return violations ? 1 : 0;
}
