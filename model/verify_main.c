/*
 * tornstack-verify — the main job: run the unwinder against simulated
 * programs under each memory model and report what the oracle finds.
 *
 *   tornstack-verify [--python 3.11|...|3.15|all] [--model tso|bounded|relaxed|realistic|all]
 *                    [--rows mixed|busy|idle|all] [--samples N] [--busy-samples N]
 *                    [--idle-samples N] [--seed S] [--jobs J]
 *                    [--policy default|full-task-unwind|no-split|no-skip|all] [--out-dir DIR]
 *   tornstack-verify --replay FILE [--policy P] [--explain yes] [--svg OUT]
 *   tornstack-verify --fabricate DESCRIPTION --python 3.X
 *
 * (`tornstack verify ...` runs this program.)  Rows, per version x model
 * x policy:
 *   mixed  small programs, half of the classic shape, half of the server
 *          shape (loops, gathers, TaskGroups, children, orphans, reuse);
 *   busy   server programs of 50-500 workers with their children;
 *   idle   UW_LIMIT_TASKS idle Tasks and nothing moving.
 * Each row prints samples, Task readings, emitted, skipped, violations,
 * reads and bytes per sample and samples verified per second, then its
 * violations by kind, its first violation and the file of its reproducer,
 * written to the output directory (default: tornstack-verify-out/ in the
 * current directory, made on the first violation).  On a terminal, a
 * progress line shows rows done, samples per second and violations so far.
 * Rows run in worker processes (as many as --jobs), so that a crash of
 * the unwinder in one sample is reported (violation kind `crash`, with the
 * scenario it ran as a reproducer) and the other rows go on.
 * Exits 1 on any violation, whatever the policy (the earlier policies are
 * expected to fail), 2 on bad usage.
 */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "campaign.h"
#include "internal/uw_assert.h"
#include "live_rates.h"
#include "still.h"
#include "tornstack/error.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void print_kinds(FILE *out, const char *indent, const mm_verdict *v)
{
    int k, any = 0;

    for (k = 0; k < MM_V_KINDS; k++) {
        if (v->viol[k] == 0)
            continue;
        fprintf(out, "%s%s %s %" PRIu64, any ? ", " : indent,
                any ? "" : "violations:", mm_vkind_name(k), v->viol[k]);
        any = 1;
    }
    if (any)
        fputc('\n', out);
}

/* Replay one scenario file: its bytes decode to version, model, program
 * and schedule exactly as when it was written.  clamp > 0 runs it as the
 * race fuzz target does (mm_scenario_clamp: the small size class, at most
 * clamp samples): a server scenario of the busy or idle class found by the
 * fuzzer is another program unclamped, and replays clean. */
static int replay(const char *path, int pol, int explain, const char *svg, int kind, uint32_t clamp)
{
    uint8_t bytes[MM_SCENARIO_BYTES];
    char desc[512];
    size_t n;
    FILE *f = fopen(path, "rb");
    mm_scenario sc;
    mm_verdict v;
    uw_task_options o;
    int i;

    if (f == NULL) {
        fprintf(stderr, "tornstack verify: cannot read %s: %s\n", path, strerror(errno));
        return 2;
    }
    n = fread(bytes, 1, sizeof bytes, f);
    fclose(f);
    if (n == 0) {
        fprintf(stderr, "tornstack verify: %s is empty\n", path);
        return 2;
    }
    mm_scenario_decode(bytes, n, -1, -1, &sc);
    if (clamp > 0)
        mm_scenario_clamp(&sc, clamp);
    mm_policy(pol, &o);
    mm_verdict_init(&v);
    mm_scenario_describe(&sc, desc, sizeof desc);
    printf("scenario %s: %s, policy %s\n", path, desc, mm_policy_name(pol));
    fflush(stdout); /* seen even if the unwinder crashes */
    if ((explain ? mm_scenario_explain(&sc, &o, &v, stdout, svg, kind)
                 : mm_scenario_run(&sc, &o, &v)) != 0) {
        fprintf(stderr, "tornstack verify: scenario failed to run\n");
        return 1;
    }
    printf("samples %" PRIu64 " (%" PRIu64 " still), task readings %" PRIu64 ", emitted %" PRIu64
           ", skipped %" PRIu64 ", stacks %" PRIu64 ", violations %" PRIu64 "\n",
           v.samples, v.still, v.tasks, v.emitted, v.skipped, v.stacks, mm_verdict_violations(&v));
    print_kinds(stdout, "", &v);
    for (i = 1; i < UW_REASON_SLOTS; i++)
        if (v.skips[i] != 0)
            printf("skipped %s: %" PRIu64 "\n", uw_errname(-i), v.skips[i]);
    if (v.first[0] != '\0')
        printf("first violation: %s\n", v.first);
    return mm_verdict_violations(&v) ? 1 : 0;
}

enum { VF_MIXED = 0, VF_BUSY = 1, VF_IDLE = 2, VF_KINDS = 3 };

static const char *vf_kind_name(int k)
{
    static const char *names[VF_KINDS] = {"mixed", "busy", "idle"};
    return k >= 0 && k < VF_KINDS ? names[k] : "?";
}

/* Samples per row by default: 5 versions x (mixed rows of each model +
 * busy + idle) >= 1,000,000 in about a minute on two cores.  A mixed
 * sample costs its model: the relaxed model (a store buffer to settle and
 * drain around every read) about six times the realistic one, TSO (up to
 * ten stores per read, torn copies) about twice; so the mixed rows get
 * samples in inverse proportion: 16,000 TSO, 72,000 bounded, 8,000
 * relaxed and 120,000 realistic per version, 1,080,000 over the five
 * (docs/model.md has the rates). */
static const uint64_t vf_default_mixed[MM_MODELS] = {16000, 72000, 8000, 120000};
#define VF_DEFAULT_BUSY 72
#define VF_DEFAULT_IDLE 8

/* Progress shared by the jobs. */
typedef struct vf_progress {
    atomic_uint_fast64_t samples, violations;
    atomic_uint rows_done;
} vf_progress;

/* One row of the report, run on its own: its PRNG derives from (seed,
 * version, model, kind), so the numbers do not depend on how rows are
 * spread over jobs. */
typedef struct vf_row {
    int minor, model, policy, kind;
    uint64_t samples, seed;
    int failed;
    double seconds;
    mm_verdict v;
    char repro[MM_V_KINDS][512]; /* the first scenario with each kind */
    const char *out_dir;
    vf_progress *progress;
    int crashed; /* the signal its worker died of, 0 */
} vf_row;

/* What a worker process is running now, for the report of a crash. */
typedef struct vf_slot {
    atomic_long row; /* -1: none */
    uint8_t bytes[MM_SCENARIO_BYTES];
} vf_slot;

/* Keep the first scenario of a row showing violation kind k as a file
 * the replay driver runs (its bytes carry version, model and program), in
 * the output directory. */
static void write_reproducer(vf_row *r, int k, const uint8_t *bytes, size_t n)
{
    char *path = r->repro[k];
    FILE *f;

    if (mkdir(r->out_dir, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "tornstack verify: cannot make %s: %s\n", r->out_dir, strerror(errno));
        return;
    }
    snprintf(path, sizeof r->repro[k], "%s/verify-%s-%s-3.%d-%s-%" PRIu64 "-%s.scenario",
             r->out_dir, mm_policy_name(r->policy), vf_kind_name(r->kind), r->minor,
             mm_model_name(r->model), r->seed, mm_vkind_name(k));
    f = fopen(path, "wb");
    if (f == NULL || fwrite(bytes, 1, n, f) != n) {
        fprintf(stderr, "tornstack verify: cannot write %s\n", path);
        path[0] = '\0';
    }
    if (f != NULL && fclose(f) != 0)
        path[0] = '\0';
}

static uint8_t vf_next(uint64_t *rng)
{
    *rng ^= *rng << 13;
    *rng ^= *rng >> 7;
    *rng ^= *rng << 17;
    return (uint8_t)(*rng >> 24);
}

static void vf_run_row(vf_row *r, vf_slot *slot)
{
    uw_task_options pol;
    uint64_t rng = r->seed ^ ((uint64_t)r->minor << 40) ^ ((uint64_t)r->model << 48) ^
                   ((uint64_t)r->kind << 56);
    double t0 = now_s();

    if (rng == 0)
        rng = 1;
    mm_policy(r->policy, &pol);
    mm_verdict_init(&r->v);
    while (r->v.samples < r->samples) {
        uint8_t bytes[MM_SCENARIO_BYTES];
        mm_scenario sc;
        uint64_t before = mm_verdict_violations(&r->v), s0 = r->v.samples;
        uint64_t kinds[MM_V_KINDS];
        size_t b;
        int k;
        /* 44 bytes drawn, as before byte 44 was added: byte 44 (the value
         * a step sends, pushed first) takes the spare bit 2 of byte 43,
         * so the rows' streams stay those of earlier runs */
        for (b = 0; b < 44; b++)
            bytes[b] = vf_next(&rng);
        bytes[44] = (uint8_t)((bytes[43] >> 2) & 1);
        /* byte 45 (epochs kept) from byte 43's spare bits 3-6, likewise:
         * in 3 of 16 programs the unwinder keeps the epochs of 0, 1 or 2
         * loop threads only, so that walks without a bracket and loops
         * past the bound are judged at the default bounds too; not in the
         * realistic rows, whose skip rates are set beside the live ones */
        bytes[45] = r->model == MM_REALISTIC ? 0 : (uint8_t)((bytes[43] >> 3) & 0x0f);
        mm_scenario_set_minor(bytes, r->minor); /* replays as is */
        bytes[1] = (uint8_t)r->model;
        bytes[20] &= 0x3f; /* swarm: each class off in half the runs */
        /* the realistic model at the pace calibrated against the live
         * busy program (the other models do not read this bit) */
        bytes[43] = (uint8_t)((bytes[43] & ~1u) | (r->model == MM_REALISTIC ? 1u : 0u));
        if (r->kind == VF_MIXED) {
            bytes[35] = MM_SCALE_SMALL; /* byte 21 picks classic or server */
        } else {
            bytes[21] = MM_SHAPE_SERVER;
            bytes[35] = r->kind == VF_BUSY ? MM_SCALE_BUSY : MM_SCALE_IDLE;
            if (r->kind == VF_IDLE)
                bytes[34] = 0;                      /* UW_LIMIT_TASKS idle Tasks */
            bytes[18] = r->kind == VF_BUSY ? 9 : 1; /* 40 or 8 samples a program */
            bytes[20] &= (uint8_t)~MM_SWARM_ONE_TASK;
            if (r->kind == VF_BUSY) {
                bytes[40] = 100;   /* as the live busy program: main gathers every worker */
                bytes[42] = 100;   /* ... and keeps its fire-and-forget Tasks in a set */
                bytes[31] |= 0x40; /* ... and its loop runs handles in order: a deque */
                bytes[43] |= 2;    /* ... and its Tasks yield, as its do */
            }
        }
        mm_scenario_decode(bytes, sizeof bytes, -1, -1, &sc);
        memcpy(slot->bytes, bytes, sizeof bytes);
        memcpy(kinds, r->v.viol, sizeof kinds);
        if (mm_scenario_run(&sc, &pol, &r->v) != 0) {
            r->failed = 1;
            break;
        }
        for (k = 0; k < MM_V_KINDS; k++)
            if (kinds[k] == 0 && r->v.viol[k] != 0)
                write_reproducer(r, k, bytes, sizeof bytes);
        atomic_fetch_add(&r->progress->samples, r->v.samples - s0);
        atomic_fetch_add(&r->progress->violations, mm_verdict_violations(&r->v) - before);
    }
    r->seconds = now_s() - t0;
    if (r->seconds <= 0)
        r->seconds = 1e-9;
    atomic_fetch_add(&r->progress->rows_done, 1);
}

/* Memory the supervisor and its worker processes share. */
typedef struct vf_shared {
    atomic_size_t next; /* the next row to take */
    vf_progress progress;
    vf_slot slot[256];
    vf_row rows[];
} vf_shared;

/* A worker process: rows until none is left. */
static void vf_worker(vf_shared *sh, size_t n, int w)
{
    size_t i;

    while ((i = atomic_fetch_add(&sh->next, 1)) < n) {
        atomic_store(&sh->slot[w].row, (long)i);
        vf_run_row(&sh->rows[i], &sh->slot[w]);
        atomic_store(&sh->slot[w].row, -1L);
    }
    _exit(0);
}

static pid_t vf_spawn(vf_shared *sh, size_t n, int w)
{
    pid_t pid;

    atomic_store(&sh->slot[w].row, -1L);
    pid = fork();
    if (pid == 0)
        vf_worker(sh, n, w);
    return pid;
}

/* Run the rows in `jobs` worker processes (forked before any thread
 * exists); the supervisor shows progress on a terminal, and records a
 * worker's death by a signal as a crash of the row it ran, then starts a
 * new worker for the rows left. */
static void vf_run_rows(vf_shared *sh, size_t n, int jobs, int show)
{
    pid_t pid[256];
    int alive = 0, w;
    double t0 = now_s();

    for (w = 0; w < jobs && (size_t)w < n; w++) {
        pid[w] = vf_spawn(sh, n, w);
        if (pid[w] > 0)
            alive++;
    }
    if (alive == 0) { /* no process could start: run here */
        size_t i;
        for (i = 0; i < n; i++)
            vf_run_row(&sh->rows[i], &sh->slot[0]);
        return;
    }
    while (alive > 0) {
        int st;
        pid_t got = waitpid(-1, &st, WNOHANG);
        if (got > 0) {
            for (w = 0; w < jobs && pid[w] != got; w++)
                ;
            if (w == jobs)
                continue;
            alive--;
            pid[w] = -1;
            if (WIFSIGNALED(st) || (WIFEXITED(st) && WEXITSTATUS(st) != 0)) {
                long i = atomic_load(&sh->slot[w].row);
                if (i >= 0) {
                    vf_row *r = &sh->rows[i];
                    r->crashed = WIFSIGNALED(st) ? WTERMSIG(st) : 128 + WEXITSTATUS(st);
                    r->v.viol[MM_V_CRASH]++;
                    if (r->v.first[0] == '\0') {
                        r->v.first_kind = MM_V_CRASH;
                        snprintf(r->v.first, sizeof r->v.first,
                                 "crash: the worker died of signal %d in a sample", r->crashed);
                    }
                    write_reproducer(r, MM_V_CRASH, sh->slot[w].bytes, MM_SCENARIO_BYTES);
                    atomic_fetch_add(&sh->progress.rows_done, 1);
                    atomic_fetch_add(&sh->progress.violations, 1);
                    if (r->seconds <= 0)
                        r->seconds = now_s() - t0;
                }
                if (atomic_load(&sh->next) < n) {
                    pid[w] = vf_spawn(sh, n, w);
                    if (pid[w] > 0)
                        alive++;
                }
            }
            continue;
        }
        if (show) {
            double el = now_s() - t0;
            uint64_t smp = atomic_load(&sh->progress.samples);
            fprintf(stderr,
                    "\r  %u/%zu rows, %" PRIu64 " samples, %.0f samples/s, %" PRIu64
                    " violations so far   ",
                    atomic_load(&sh->progress.rows_done), n, smp, el > 0 ? (double)smp / el : 0.0,
                    (uint64_t)atomic_load(&sh->progress.violations));
            fflush(stderr);
        }
        {
            struct timespec ts = {0, 100000000};
            nanosleep(&ts, NULL);
        }
    }
    if (show)
        fprintf(stderr, "\r%*s\r", 90, "");
}

/* The fidelity dump's exit status: a target refused at attach exits as
 * `tornstack` does for a live one (docs/cli.md: 6 unsupported version,
 * 7 debug offsets mismatch, 9 unsupported build), anything else 1. */
static int vf_fabricate_exit(int rc)
{
    switch (rc) {
    case 0:
        return 0;
    case UW_ERR_UNSUPPORTED_VERSION:
        return 6;
    case UW_ERR_DEBUG_OFFSETS:
        return 7;
    case UW_ERR_UNSUPPORTED_BUILD:
        return 9;
    default:
        return 1;
    }
}

static int vf_default_jobs(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 256 ? 256 : (int)n;
}

static int usage(void)
{
    fputs(
        "usage: tornstack verify [--python 3.11|3.12|3.13|3.14|3.15|all]\n"
        "                        [--model tso|bounded|relaxed|realistic|all]\n"
        "                        [--rows mixed|busy|idle|all] [--samples N]\n"
        "                        [--busy-samples N] [--idle-samples N] [--seed S] [--jobs J]\n"
        "                        [--policy default|full-task-unwind|no-split|no-skip|all]\n"
        "                        [--out-dir DIR] [--live-rates FILE]\n"
        "       tornstack verify --replay FILE [--policy P] [--explain yes|KIND] [--svg OUT]\n"
        "                        [--clamp N]   (as the race fuzz target: small class, N samples)\n"
        "       tornstack verify --fabricate DESCRIPTION --python 3.X   (fidelity dump)\n",
        stderr);
    return 2;
}

static int parse_count(const char *v, uint64_t *out)
{
    char *end;
    errno = 0;
    *out = strtoull(v, &end, 10);
    return errno == 0 && *end == '\0' && v[0] != '-' && v[0] != '\0';
}

/* A value verify cannot take: one line naming it, then the usage. */
static int bad_value(const char *opt, const char *v)
{
    fprintf(stderr, "tornstack verify: invalid value '%s' for %s\n", v, opt);
    return usage();
}

int main(int argc, char **argv)
{
    int minors[5] = {11, 12, 13, 14, 15}, n_minor = 5;
    int models[MM_MODELS] = {MM_TSO, MM_BOUNDED, MM_RELAXED, MM_REALISTIC};
    int n_model = MM_MODELS, pol_lo = 0, pol_hi = 0, kind_lo = 0, kind_hi = VF_KINDS - 1;
    int i, mi, mo, p, kd, show;
    uint64_t per_kind[VF_KINDS] = {0, VF_DEFAULT_BUSY, VF_DEFAULT_IDLE};
    uint64_t seed = 1, violations = 0;
    mm_verdict per_policy[MM_POLICIES], per_row_kind[VF_KINDS], total;
    double kind_seconds[VF_KINDS];
    vf_row *rows;
    vf_shared *sh;
    size_t n_rows, sh_bytes;
    int jobs = vf_default_jobs();
    double t_all = now_s();
    const char *replay_file = NULL, *svg = NULL, *fabricate = NULL;
    const char *out_dir = "tornstack-verify-out";
    const char *live_file = NULL;
    static mm_live_rates live;
    int explain = 0, explain_kind = -1;
    uint64_t clamp = 0;

    uw__require_assertions("tornstack verify");
    for (i = 1; i < argc; i += 2) { /* every option takes a value */
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (v == NULL) {
            fprintf(stderr, "tornstack verify: %s needs a value\n", argv[i]);
            return usage();
        }
        if (strcmp(argv[i], "--python") == 0) {
            if (strcmp(v, "all") != 0) {
                uint64_t minor;
                if (strncmp(v, "3.", 2) != 0 || !parse_count(v + 2, &minor) || minor < 11 ||
                    minor > 15)
                    return bad_value(argv[i], v);
                minors[0] = (int)minor;
                n_minor = 1;
            }
        } else if (strcmp(argv[i], "--model") == 0) {
            int found = strcmp(v, "all") == 0;
            for (mo = 0; mo < MM_MODELS && !found; mo++) {
                if (strcmp(v, mm_model_name(mo)) == 0) {
                    models[0] = mo;
                    n_model = 1;
                    found = 1;
                }
            }
            if (!found)
                return bad_value(argv[i], v);
        } else if (strcmp(argv[i], "--rows") == 0) {
            if (strcmp(v, "all") == 0) {
                kind_lo = 0;
                kind_hi = VF_KINDS - 1;
            } else {
                for (kd = 0; kd < VF_KINDS && strcmp(v, vf_kind_name(kd)) != 0; kd++)
                    ;
                if (kd == VF_KINDS)
                    return bad_value(argv[i], v);
                kind_lo = kind_hi = kd;
            }
        } else if (strcmp(argv[i], "--samples") == 0) {
            if (!parse_count(v, &per_kind[VF_MIXED]) || per_kind[VF_MIXED] == 0)
                return bad_value(argv[i], v);
        } else if (strcmp(argv[i], "--busy-samples") == 0) {
            if (!parse_count(v, &per_kind[VF_BUSY]) || per_kind[VF_BUSY] == 0)
                return bad_value(argv[i], v);
        } else if (strcmp(argv[i], "--idle-samples") == 0) {
            if (!parse_count(v, &per_kind[VF_IDLE]) || per_kind[VF_IDLE] == 0)
                return bad_value(argv[i], v);
        } else if (strcmp(argv[i], "--jobs") == 0) {
            uint64_t j;
            if (!parse_count(v, &j) || j < 1 || j > 256)
                return bad_value(argv[i], v);
            jobs = (int)j;
        } else if (strcmp(argv[i], "--fabricate") == 0) {
            fabricate = v;
        } else if (strcmp(argv[i], "--replay") == 0) {
            replay_file = v;
        } else if (strcmp(argv[i], "--explain") == 0) {
            /* yes: the first violation; a kind: the first of that kind */
            explain = strcmp(v, "yes") == 0 || strcmp(v, "1") == 0;
            for (kd = 0; kd < MM_V_KINDS && !explain; kd++)
                if (strcmp(v, mm_vkind_name(kd)) == 0) {
                    explain = 1;
                    explain_kind = kd;
                }
            if (!explain)
                return bad_value(argv[i], v); /* a kind misspelt explained nothing */
        } else if (strcmp(argv[i], "--clamp") == 0) {
            if (!parse_count(v, &clamp) || clamp == 0 || clamp > UINT32_MAX)
                return bad_value(argv[i], v);
        } else if (strcmp(argv[i], "--svg") == 0) {
            svg = v;
            explain = 1;
        } else if (strcmp(argv[i], "--out-dir") == 0) {
            if (v[0] == '\0')
                return bad_value(argv[i], v);
            out_dir = v;
        } else if (strcmp(argv[i], "--live-rates") == 0) {
            live_file = v;
        } else if (strcmp(argv[i], "--seed") == 0) {
            char *end;
            errno = 0;
            seed = strtoull(v, &end, 0); /* decimal, or 0x... as reproducers name it */
            if (errno != 0 || *end != '\0' || v[0] == '\0' || v[0] == '-')
                return bad_value(argv[i], v);
        } else if (strcmp(argv[i], "--policy") == 0) {
            for (p = 0; p < MM_POLICIES && strcmp(v, mm_policy_name(p)) != 0; p++)
                ;
            if (strcmp(v, "all") == 0) {
                pol_lo = 0;
                pol_hi = MM_POLICIES - 1;
            } else if (p == MM_POLICIES) {
                return bad_value(argv[i], v);
            } else {
                pol_lo = pol_hi = p;
            }
        } else {
            fprintf(stderr, "tornstack verify: unknown option '%s'\n", argv[i]);
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
        char why[512];
        rc = mm_still_dump(f, minors[0], stdout, why, sizeof why);
        if (f != stdin)
            fclose(f);
        if (rc != 0)
            fprintf(stderr, "tornstack verify: %s: %s%s%s\n", fabricate, uw_strerror(rc),
                    why[0] ? ": " : "", why);
        return vf_fabricate_exit(rc);
    }
    if (clamp > 0 && replay_file == NULL) {
        fputs("tornstack verify: --clamp N replays a scenario as the race fuzz target does; "
              "it needs --replay FILE\n",
              stderr);
        return usage();
    }
    if (replay_file != NULL)
        return replay(replay_file, pol_lo, explain, svg, explain_kind, (uint32_t)clamp);
    if (live_file != NULL) {
        size_t bad = 0;
        int rc = mm_live_rates_read(live_file, &live, &bad);
        if (rc != 0) {
            if (bad != 0)
                fprintf(stderr, "verify: %s:%zu: not 'workload<TAB>3.X.Y<TAB>skip%%<TAB>recov%%'\n",
                        live_file, bad);
            else
                fprintf(stderr, "verify: cannot read %s: %s\n", live_file, uw_strerror(rc));
            return 2;
        }
    }
    show = isatty(STDOUT_FILENO) && isatty(STDERR_FILENO);
    for (p = 0; p < MM_POLICIES; p++)
        mm_verdict_init(&per_policy[p]);
    for (kd = 0; kd < VF_KINDS; kd++) {
        mm_verdict_init(&per_row_kind[kd]);
        kind_seconds[kd] = 0;
    }
    mm_verdict_init(&total);
    sh_bytes = sizeof *sh + (size_t)MM_POLICIES * 5 * MM_MODELS * VF_KINDS * sizeof *rows;
    sh = mmap(NULL, sh_bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (sh == MAP_FAILED)
        return 1;
    memset(sh, 0, sh_bytes);
    rows = sh->rows;
    fflush(stdout);
    if (per_kind[VF_MIXED] != 0)
        printf("tornstack verify: seed %" PRIu64 ", samples per row: mixed %" PRIu64
               ", busy %" PRIu64 ", idle %" PRIu64 "; reproducers in %s/\n",
               seed, per_kind[VF_MIXED], per_kind[VF_BUSY], per_kind[VF_IDLE], out_dir);
    else
        printf("tornstack verify: seed %" PRIu64 ", samples per row: mixed %" PRIu64
               " (tso), %" PRIu64 " (bounded), %" PRIu64 " (relaxed), %" PRIu64
               " (realistic), busy %" PRIu64 ", idle %" PRIu64 "; reproducers in %s/\n",
               seed, vf_default_mixed[MM_TSO], vf_default_mixed[MM_BOUNDED],
               vf_default_mixed[MM_RELAXED], vf_default_mixed[MM_REALISTIC], per_kind[VF_BUSY],
               per_kind[VF_IDLE], out_dir);
    if (live.n > 0)
        printf("live rates (beside the realistic rows): %s\n",
               live.source[0] ? live.source : live_file);
    n_rows = 0;
    /* the slow rows first, so that the jobs finish together */
    for (kd = kind_hi; kd >= kind_lo; kd--)
        for (p = pol_lo; p <= pol_hi; p++)
            for (mi = 0; mi < n_minor; mi++)
                for (mo = 0; mo < n_model; mo++)
                    rows[n_rows++] = (vf_row){.minor = minors[mi],
                                              .model = models[mo],
                                              .policy = p,
                                              .kind = kd,
                                              .samples = kd == VF_MIXED && per_kind[kd] == 0
                                                             ? vf_default_mixed[models[mo]]
                                                             : per_kind[kd],
                                              .seed = seed,
                                              .out_dir = out_dir,
                                              .progress = &sh->progress};
    vf_run_rows(sh, n_rows, jobs, show);
    printf("%-6s %-5s %-9s %-16s %8s %8s %9s %8s %8s %7s %5s %6s %9s %9s %9s\n", "python", "rows",
           "model", "policy", "samples", "still", "emitted", "skipped", "skip%", "recov%", "viol",
           "tasks", "reads/smp", "bytes/smp", "samples/s");
    for (i = 0; i < (int)n_rows; i++) {
        const vf_row *r = &rows[i];
        const mm_verdict *v = &r->v;
        int k;
        if (r->failed) {
            fprintf(stderr, "verify: scenario failed to run\n");
            return 1;
        }
        printf("3.%-4d %-5s %-9s %-16s %8" PRIu64 " %8" PRIu64 " %9" PRIu64 " %8" PRIu64
               " %7.2f%% %6.2f%% %5" PRIu64 " %6" PRIu64 " %9.1f %9.0f %9.0f\n",
               r->minor, vf_kind_name(r->kind), mm_model_name(r->model), mm_policy_name(r->policy),
               v->samples, v->still, v->emitted, v->skipped,
               v->tasks ? 100.0 * (double)v->skipped / (double)v->tasks : 0.0,
               v->tasks ? 100.0 * (double)v->recovered / (double)v->tasks : 0.0,
               mm_verdict_violations(v), v->max_tasks,
               v->samples ? (double)v->calls / (double)v->samples : 0.0,
               v->samples ? (double)v->bytes / (double)v->samples : 0.0,
               (double)v->samples / (r->seconds > 0 ? r->seconds : 1e-9));
        if (r->crashed)
            printf("        CRASHED: a worker died of signal %d in this row (its scenario is the "
                   "crash reproducer)\n",
                   r->crashed);
        print_kinds(stdout, "        ", v);
        if (mm_verdict_violations(v) != 0 && v->first[0] != '\0')
            printf("        first violation: %s\n", v->first);
        for (k = 0; k < MM_V_KINDS; k++)
            if (r->repro[k][0] != '\0')
                printf("        reproducer (%s): %s\n", mm_vkind_name(k), r->repro[k]);
        if (r->model == MM_RELAXED)
            printf("        stores made visible out of order: %" PRIu64 "\n", v->reordered);
        for (k = 1; k < UW_REASON_SLOTS; k++)
            if (v->skips[k] != 0)
                printf("        skipped %s: %" PRIu64 "\n", uw_errname(-k), v->skips[k]);
        /* the realistic model beside the live program it is calibrated
         * against: mixed rows and the race test, busy rows and the busy
         * program (docs/model.md, "Realistic") */
        if (r->model == MM_REALISTIC && r->kind != VF_IDLE)
            (void)mm_live_rates_print(stdout, &live, r->kind == VF_BUSY ? "busy" : "race",
                                      r->minor);
        mm_verdict_add(&per_policy[r->policy], v);
        mm_verdict_add(&per_row_kind[r->kind], v);
        kind_seconds[r->kind] += r->seconds;
        mm_verdict_add(&total, v);
        violations += mm_verdict_violations(v);
    }
    printf("\nby rows (all versions, models and policies):\n%-6s %9s %9s %8s %8s %10s %10s %12s\n",
           "rows", "samples", "samples/s", "skip%", "recov%", "reads/smp", "bytes/smp",
           "violations");
    for (kd = kind_lo; kd <= kind_hi; kd++) {
        const mm_verdict *v = &per_row_kind[kd];
        if (v->samples == 0)
            continue;
        printf("%-6s %9" PRIu64 " %9.0f %7.2f%% %7.2f%% %10.1f %10.0f %12" PRIu64 "\n",
               vf_kind_name(kd), v->samples,
               kind_seconds[kd] > 0 ? (double)v->samples / kind_seconds[kd] : 0.0,
               v->tasks ? 100.0 * (double)v->skipped / (double)v->tasks : 0.0,
               v->tasks ? 100.0 * (double)v->recovered / (double)v->tasks : 0.0,
               (double)v->calls / (double)v->samples, (double)v->bytes / (double)v->samples,
               mm_verdict_violations(v));
    }
    printf("\nviolations by kind (all rows):");
    for (i = 0; i < MM_V_KINDS; i++)
        printf("%s %s %" PRIu64, i ? "," : "", mm_vkind_name(i), total.viol[i]);
    printf("\ntotal: %" PRIu64 " samples (%" PRIu64 " of a still process), %" PRIu64
           " Task readings, %" PRIu64 " composed stacks, %" PRIu64
           " thread entries shown from a kept walk, %.3f%% skipped, %.3f%% recovered, "
           "at most %" PRIu64 " reads in a sample (bound %d), at most %" PRIu64
           " Tasks, %.1f s on %d jobs "
           "(%.0f samples/s)\n",
           total.samples, total.still, total.tasks, total.stacks, total.kept,
           total.tasks ? 100.0 * (double)total.skipped / (double)total.tasks : 0.0,
           total.tasks ? 100.0 * (double)total.recovered / (double)total.tasks : 0.0,
           total.max_calls, MM_READ_BOUND, total.max_tasks, now_s() - t_all, jobs,
           (double)total.samples / (now_s() - t_all));
    if (pol_hi > pol_lo) {
        printf("\npolicy comparison (all versions, models and rows):\n%-17s %10s %10s %10s %10s "
               "%12s\n",
               "policy", "leaks", "bogus", "other", "skip%", "reads/sample");
        for (p = pol_lo; p <= pol_hi; p++) {
            const mm_verdict *v = &per_policy[p];
            uint64_t other = mm_verdict_violations(v) - v->viol[MM_V_LEAK] - v->viol[MM_V_BOGUS] -
                             v->viol[MM_V_BOGUS_PURE];
            printf("%-17s %10" PRIu64 " %10" PRIu64 " %10" PRIu64 " %9.3f%% %12.1f\n",
                   mm_policy_name(p), v->viol[MM_V_LEAK],
                   v->viol[MM_V_BOGUS] + v->viol[MM_V_BOGUS_PURE], other,
                   v->tasks ? 100.0 * (double)v->skipped / (double)v->tasks : 0.0,
                   v->samples ? (double)v->calls / (double)v->samples : 0.0);
        }
    }
    printf("%s: %" PRIu64 " violations\n", violations ? "FAILED" : "verified", violations);
    munmap(sh, sh_bytes);
    return violations ? 1 : 0;
}
