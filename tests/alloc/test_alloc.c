/*
 * test_alloc.c — every allocation-failure path of a representative set of
 * operations returns its error, leaks nothing and never crashes.
 *
 * Method.  The binary is linked through the failing allocator
 * (failalloc.h).  Each operation below builds its input first, outside the
 * tracked window, then runs inside it: once with no failure, which counts
 * its allocations (N) and gives the reference result as a digest, then N
 * more times, failing allocation 1, 2, ..., N in turn.  Each of those runs
 * must
 *   - reach the allocation it was told to fail (the operations are
 *     deterministic, so the k-th allocation of run k is the k-th of the
 *     reference run);
 *   - free every block it allocated (fa_live() == 0; LeakSanitizer checks
 *     the same again under the asan-ubsan and small-limits presets, and
 *     ASan every read and write);
 *   - end in one of the outcomes the operation documents:
 *       nomem     it returns UW_ERR_NOMEM;
 *       recorded  (samples only) it returns 0 and the sample carries
 *                 UW_ERR_NOMEM as the reason of what it could not give (a
 *                 thread's truncated, tasks_error, a Task's skip or cut);
 *       absorbed  it returns 0 with exactly the reference result: the
 *                 allocation was an optimisation (a cache entry, a larger
 *                 buffer) whose failure costs nothing.
 *     Anything else (success with a different result and no reason, or
 *     another error) is a silent loss, and fails the test.
 *
 * The operations: creating an unwinder and a Task walk; a thread sample
 * (three threads, cold and warm caches); a Task sample of a fabricated
 * process with gathers, awaits, hook links, API links and a running Task,
 * on 3.11, 3.12 and 3.13 (the still model, model/still.h), cold and warm;
 * composing its stacks; the text and JSON writers; aggregating it into a
 * profile; each profile writer (folded, speedscope, pprof, HTML); the
 * folded reader; the total variation distance of two folded profiles.
 * Each prints its allocation count and how its failures ended.
 */
#define _POSIX_C_SOURCE 200809L /* fmemopen, open_memstream */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "failalloc.h"
#include "fake_proc.h"
#include "internal/tvd.h"
#include "still.h"
#include "tornstack/compose.h"
#include "tornstack/error.h"
#include "tornstack/output.h"
#include "tornstack/profile.h"
#include "tornstack/profile_io.h"
#include "tornstack/tasks.h"
#include "tornstack/unwind.h"

/* --- the driver ------------------------------------------------------------ */

/* What one run of an operation ended with. */
typedef struct fa_run {
    int rc;
    uint64_t digest; /* the result, when rc == 0 */
    int recorded;    /* the result names UW_ERR_NOMEM as a reason */
    uint64_t allocs; /* allocations attempted */
    size_t live;     /* blocks left allocated */
    int failed;      /* the allocation to fail was reached */
} fa_run;

/* An operation: builds its input, runs it with allocation fail_at failing
 * (0: none), tears everything down and says how it went. */
typedef void (*fa_op)(const void *arg, uint64_t fail_at, fa_run *out);

/* Close the tracked window into *out. */
static void fa_close(fa_run *out)
{
    out->allocs = fa_allocs();
    out->live = fa_live();
    out->failed = fa_failed();
    fa_stop();
}

static uint64_t mix(uint64_t h, uint64_t v)
{
    int i;
    for (i = 0; i < 8; i++) {
        h ^= (v >> (8 * i)) & 0xff;
        h *= 0x100000001b3ull;
    }
    return h;
}

static uint64_t mix_str(uint64_t h, const char *s)
{
    for (; s != NULL && *s != '\0'; s++)
        h = mix(h, (unsigned char)*s);
    return mix(h, 0);
}

static uint64_t mix_bytes(uint64_t h, const void *p, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        h = mix(h, ((const unsigned char *)p)[i]);
    return mix(h, n);
}

#define FNV 0xcbf29ce484222325ull

/* Run op once to count, then fail each allocation in turn.  may_record:
 * the operation fills a sample, which may carry UW_ERR_NOMEM as a reason. */
static void each_allocation_fails(const char *name, fa_op op, const void *arg, int may_record)
{
    fa_run ref, r;
    uint64_t k, n, nomem = 0, recorded = 0, absorbed = 0;

    memset(&ref, 0, sizeof ref);
    op(arg, 0, &ref);
    if (ref.rc != 0)
        fail_msg("%s: the reference run returned %s", name, uw_errname(ref.rc));
    if (ref.live != 0)
        fail_msg("%s: the reference run leaves %zu blocks", name, ref.live);
    if (ref.recorded)
        fail_msg("%s: the reference run names nomem", name);
    n = ref.allocs;
    if (n == 0) {
        print_message("%-22s    0 allocations: nothing can fail\n", name);
        return;
    }
    for (k = 1; k <= n; k++) {
        memset(&r, 0, sizeof r);
        op(arg, k, &r);
        if (!r.failed)
            fail_msg("%s: allocation %llu of %llu was never reached (not deterministic)", name,
                     (unsigned long long)k, (unsigned long long)n);
        if (r.live != 0)
            fail_msg("%s: allocation %llu of %llu failed: %zu blocks leaked", name,
                     (unsigned long long)k, (unsigned long long)n, r.live);
        if (r.rc == UW_ERR_NOMEM)
            nomem++;
        else if (r.rc == 0 && r.recorded && may_record)
            recorded++;
        else if (r.rc == 0 && !r.recorded && r.digest == ref.digest)
            absorbed++;
        else
            fail_msg("%s: allocation %llu of %llu failed: returned %s%s%s", name,
                     (unsigned long long)k, (unsigned long long)n, uw_errname(r.rc),
                     r.rc == 0 && r.digest != ref.digest ? ", a result unlike the reference" : "",
                     r.recorded ? " naming nomem" : "");
    }
    print_message("%-22s %4llu allocations; failed in turn: %llu nomem, %llu recorded in the "
                  "sample, %llu absorbed\n",
                  name, (unsigned long long)n, (unsigned long long)nomem,
                  (unsigned long long)recorded, (unsigned long long)absorbed);
}

/* --- samples --------------------------------------------------------------- */

static int is_nomem(int code)
{
    return code == UW_ERR_NOMEM;
}

/* A digest of everything a sample gives, and whether it names nomem. */
static uint64_t sample_digest(const uw_sample *s, int *recorded)
{
    uint64_t h = FNV;
    size_t i, k;

    *recorded = is_nomem(s->truncated) || is_nomem(s->tasks_error);
    h = mix(mix(mix(h, s->n_threads), s->n_frames), s->n_tasks);
    h = mix(mix(h, (uint64_t)(int64_t)s->truncated), (uint64_t)(int64_t)s->tasks_error);
    for (i = 0; i < s->n_threads; i++) {
        const uw_thread_sample *th = &s->threads[i];
        *recorded |= is_nomem(th->truncated);
        h = mix(mix(mix(h, th->tstate), th->native_id), (uint64_t)th->running_loop);
        h = mix(mix(mix(h, th->first_frame), th->n_frames), (uint64_t)(int64_t)th->truncated);
        h = mix(mix(h, (uint64_t)th->split), (uint64_t)th->pure_start);
    }
    for (i = 0; i < s->n_frames; i++) {
        const uw_frame *f = &s->frames[i];
        h = mix(mix(mix(h, f->addr), (uint64_t)(int64_t)f->line), f->flags);
        h = mix_str(mix_str(h, uw_frame_name(f)), uw_frame_file(f));
    }
    for (i = 0; i < s->n_tasks; i++) {
        const uw_task_sample *t = &s->tasks[i];
        *recorded |= is_nomem(t->skipped) || is_nomem(t->truncated);
        h = mix(mix(mix(h, t->addr), t->coro), t->coro_frame);
        h = mix_str(h, t->name);
        h = mix(mix(mix(h, t->first_frame), t->n_frames), t->thread);
        h = mix(mix(h, (uint64_t)t->awaited_by), (uint64_t)t->linked_to);
        h = mix(mix(h, (uint64_t)t->created_by), (uint64_t)t->parent);
        h = mix(mix(mix(h, (uint64_t)t->running), (uint64_t)(int64_t)t->skipped),
                (uint64_t)(int64_t)t->truncated);
        for (k = 0; k < t->n_awaiting; k++)
            h = mix(h, s->awaiting[t->first_awaiting + k]);
    }
    for (i = 0; i < UW_REASON_SLOTS; i++)
        h = mix(mix(h, s->skips[i]), s->thread_skips[i]);
    return h;
}

/* --- creating an unwinder and a Task walk ------------------------------------ */

static void op_create(const void *arg, uint64_t fail_at, fa_run *out)
{
    const int minor = *(const int *)arg;
    fake_proc fp;
    uw_unwinder *u = NULL;
    uw_tasks *t = NULL;

    fp_init(&fp, minor);
    (void)fp_runtime(&fp);
    fa_start(fail_at);
    out->rc = uw_unwinder_new(&fp.reader, &fp.target, &u);
    if (out->rc == 0)
        out->rc = uw_tasks_new(u, &t);
    out->digest = (u != NULL) + 2u * (t != NULL); /* a failed creation gives NULL */
    uw_tasks_free(t);
    uw_unwinder_free(u);
    fa_close(out);
    fp_free(&fp);
}

/* --- a thread sample ------------------------------------------------------------ */

static const int lines[4] = {10, 11, 12, 13};

/* Three threads of one interpreter: six, three and no frames, each frame
 * of its own code object (more than the small build's code cache holds). */
static void threads_build(fake_proc *fp)
{
    const uw_layout *l;
    uint64_t interp, prev = 0, f = 0;
    int i;

    fp_init(fp, 13);
    l = fp->l;
    interp = fp_runtime(fp);
    for (i = 0; i < 6; i++) {
        char name[32];
        snprintf(name, sizeof name, "f%d", i);
        f = fp_frame(fp, fp_code(fp, name, "/app/a.py", 10, lines, 4), prev, l->owner_thread,
                     i % 4);
        prev = f;
    }
    (void)fp_thread(fp, interp, 71, f);
    prev = 0;
    for (i = 0; i < 3; i++) {
        char name[32];
        snprintf(name, sizeof name, "g%d", i);
        f = fp_frame(fp, fp_code(fp, name, "/app/b.py", 10, lines, 4), prev, l->owner_thread, i);
        prev = f;
    }
    (void)fp_thread(fp, interp, 72, f);
    (void)fp_thread(fp, interp, 73, 0);
}

static void op_threads(const void *arg, uint64_t fail_at, fa_run *out)
{
    fake_proc fp;
    uw_unwinder *u = NULL;
    uw_sample s;
    int k, rec = 0;

    (void)arg;
    threads_build(&fp);
    fa_start(fail_at);
    uw_sample_init(&s);
    out->rc = uw_unwinder_new(&fp.reader, &fp.target, &u);
    out->digest = FNV;
    for (k = 0; k < 2 && out->rc == 0; k++) { /* cold, then warm caches */
        out->rc = uw_unwind_threads(u, &s);
        out->digest = mix(out->digest, sample_digest(&s, &rec));
        out->recorded |= rec;
    }
    uw_sample_free(&s);
    uw_unwinder_free(u);
    fa_close(out);
    fp_free(&fp);
}

/* --- a Task sample ---------------------------------------------------------------- */

/* A loop thread running Task t6 (its root coroutine is loop frame 0),
 * Task-1 gathering two workers, one of which awaits a leaf, an orphan
 * created by Task-1 (a hook record), a strong link of the leaf to
 * worker-b, and an idle Task. */
static const char task_desc[] = "loop\tstep\t/app/run.py\t71\n"
                                "loop\tHandle._run\t/py/asyncio/events.py\t84\n"
                                "loop\tBaseEventLoop._run_once\t/py/asyncio/base_events.py\t1949\n"
                                "loop\tBaseEventLoop.run_forever\t/py/asyncio/base_events.py\t641\n"
                                "loop\t<module>\t/app/main.py\t20\n"
                                "task\tt1\tTask-1\n"
                                "frame\tmain\t/app/main.py\t12\n"
                                "await\tt2\n"
                                "await\tt3\n"
                                "task\tt2\tworker-a\n"
                                "frame\tstep\t/app/w.py\t40\n"
                                "frame\twork\t/app/w.py\t30\n"
                                "await\tt4\n"
                                "task\tt3\tworker-b\n"
                                "frame\twork\t/app/w.py\t31\n"
                                "task\tt4\tleaf\n"
                                "frame\tleaf\t/app/l.py\t50\n"
                                "task\tt5\torphan\n"
                                "frame\torphan\t/app/o.py\t60\n"
                                "task\tt6\trunning\n"
                                "root\t0\n"
                                "task\tt7\tidle\n"
                                "frame\tidle\t/app/i.py\t5\n"
                                "link\tt5\tt1\t2\n"
                                "link\tt4\tt3\t1\n";

static mm_still *parse_desc(const char *text)
{
    FILE *f = fmemopen((void *)(uintptr_t)text, strlen(text), "r");
    mm_still *d = NULL;

    assert_non_null(f);
    assert_int_equal(mm_still_parse(f, &d), 0);
    fclose(f);
    return d;
}

/* The still process of task_desc for 3.<minor>, fabricated; the sample,
 * unwinder and Task walk mm_still_sample made are freed (the caller makes
 * its own). */
static void still_fabricate(mm_still_run *run, mm_still *d, int minor)
{
    assert_int_equal(mm_still_sample(run, d, minor), 0);
    uw_sample_free(&run->s);
    uw_tasks_free(run->t);
    uw_unwinder_free(run->u);
    run->t = NULL;
    run->u = NULL;
}

static void op_tasks(const void *arg, uint64_t fail_at, fa_run *out)
{
    const int minor = *(const int *)arg;
    mm_still *d = parse_desc(task_desc);
    mm_still_run run;
    uw_unwinder *u = NULL;
    uw_tasks *t = NULL;
    uw_sample s;
    int k, rec = 0;

    still_fabricate(&run, d, minor);
    fa_start(fail_at);
    uw_sample_init(&s);
    out->rc = uw_unwinder_new(&run.reader, &run.im.target, &u);
    if (out->rc == 0)
        out->rc = uw_tasks_new(u, &t);
    /* an API link too: worker-a created by Task-1 (Task objects are at
     * fixed addresses, found by the first sample) */
    out->digest = FNV;
    for (k = 0; k < 2 && out->rc == 0; k++) { /* cold, then warm caches */
        out->rc = uw_unwind_threads(u, &s);
        if (out->rc == 0)
            out->rc = uw_unwind_tasks(t, &s);
        if (out->rc == 0 && k == 0 && s.n_tasks >= 2)
            out->rc = uw_tasks_link(t, s.tasks[1].addr, s.tasks[0].addr, UW_LINK_CREATION);
        out->digest = mix(out->digest, sample_digest(&s, &rec));
        out->recorded |= rec;
    }
    uw_sample_free(&s);
    uw_tasks_free(t);
    uw_unwinder_free(u);
    fa_close(out);
    mm_still_end(&run);
    mm_still_free(d);
}

/* --- what is made of a sample: one reference sample, kept ------------------------------ */

typedef struct ref_sample {
    mm_still *d;
    mm_still_run run;
    uw_profile prof; /* two copies of the sample, aggregated */
    char *folded;    /* prof written as folded text */
    size_t folded_len;
} ref_sample;

static ref_sample ref;

static const char *thread_name(void *ctx, uint64_t native_id)
{
    (void)ctx;
    return native_id % 2 ? "loop" : "worker";
}

/* The reference sample holds what task_desc describes: seven Tasks, a
 * gather's two children, an await, a strong and a creation link, a
 * running Task; otherwise the operations would not run those paths. */
static int ref_is_whole(const uw_sample *s)
{
    size_t i, gather = 0, awaited = 0, linked = 0, created = 0, running = 0;

    for (i = 0; i < s->n_tasks; i++) {
        const uw_task_sample *t = &s->tasks[i];
        if (t->skipped != 0 || t->truncated != 0)
            return 0;
        gather += t->n_awaiting == 2;
        awaited += t->awaited_by >= 0;
        linked += t->linked_to >= 0;
        created += t->created_by >= 0;
        running += t->running != 0;
    }
    return s->n_tasks == 7 && gather == 1 && awaited == 3 && linked == 1 && created == 1 &&
           running == 1;
}

static int ref_setup(void **state)
{
    FILE *f;
    int rc;

    (void)state;
    memset(&ref, 0, sizeof ref);
    ref.d = parse_desc(task_desc);
    if (mm_still_sample(&ref.run, ref.d, 12) != 0 || !ref_is_whole(&ref.run.s)) {
        fprintf(stderr, "test_alloc: the reference sample is not what task_desc describes\n");
        return -1;
    }
    if (uw_profile_init(&ref.prof) != 0 ||
        uw_profile_add_sample(&ref.prof, &ref.run.s, NULL, thread_name, NULL) != 0 ||
        uw_profile_add_sample(&ref.prof, &ref.run.s, NULL, thread_name, NULL) != 0)
        return -1;
    f = open_memstream(&ref.folded, &ref.folded_len);
    if (f == NULL)
        return -1;
    rc = uw_write_folded(f, &ref.prof);
    if (fclose(f) != 0 || rc != 0 || ref.folded_len == 0)
        return -1;
    return 0;
}

static int ref_teardown(void **state)
{
    (void)state;
    free(ref.folded);
    uw_profile_free(&ref.prof);
    mm_still_end(&ref.run);
    mm_still_free(ref.d);
    return 0;
}

static int compose_cb(void *ctx, const uw_stack *st)
{
    uint64_t *h = ctx;
    size_t i;

    *h = mix(mix(mix(*h, st->thread), (uint64_t)st->task), st->n);
    for (i = 0; i < st->n; i++)
        *h = mix(mix(mix(*h, st->items[i].kind), st->items[i].index),
                 st->items[i].frame != NULL ? st->items[i].frame->addr : 0);
    return 0;
}

static void op_compose(const void *arg, uint64_t fail_at, fa_run *out)
{
    uint32_t skipped[UW_REASON_SLOTS];
    size_t i;

    (void)arg;
    memset(skipped, 0, sizeof skipped);
    fa_start(fail_at);
    out->digest = FNV;
    out->rc = uw_compose(&ref.run.s, NULL, compose_cb, &out->digest, skipped);
    for (i = 0; i < UW_REASON_SLOTS; i++)
        out->digest = mix(out->digest, skipped[i]);
    fa_close(out);
}

/* text (0) or JSON (1) */
static void op_output(const void *arg, uint64_t fail_at, fa_run *out)
{
    const int json = *(const int *)arg;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    assert_non_null(f);
    fa_start(fail_at);
    out->rc = json ? uw_output_json(f, &ref.run.im.target, &ref.run.s)
                   : uw_output_text(f, &ref.run.im.target, &ref.run.s);
    fa_close(out);
    assert_int_equal(fclose(f), 0);
    out->digest = mix_bytes(FNV, buf, len);
    free(buf);
}

static uint64_t profile_digest(const uw_profile *p)
{
    uint64_t h = FNV;
    size_t i, k;

    h = mix(mix(mix(h, p->n_stacks), p->n_frames), p->total);
    for (i = 0; i < p->n_stacks; i++) {
        const uw_pstack *st = &p->stacks[i];
        h = mix(mix(h, st->count), st->n);
        for (k = 0; k < st->n; k++) {
            const uw_pframe *f = &p->frames[p->items[st->first + k]];
            h = mix_str(mix_str(h, uw_profile_str(p, f->name)), uw_profile_str(p, f->file));
            h = mix(mix(h, (uint64_t)f->line), (uint64_t)f->kind);
        }
        h = mix(mix(h, st->labels.thread_id), st->labels.task_name);
    }
    for (i = 0; i < UW_REASON_SLOTS; i++)
        h = mix(mix(mix(h, p->stack_skips[i]), p->task_skips[i]), p->thread_skips[i]);
    return h;
}

static void op_profile(const void *arg, uint64_t fail_at, fa_run *out)
{
    uw_profile p;
    int k;

    (void)arg;
    fa_start(fail_at);
    out->rc = uw_profile_init(&p);
    for (k = 0; k < 2 && out->rc == 0; k++)
        out->rc = uw_profile_add_sample(&p, &ref.run.s, NULL, thread_name, NULL);
    if (out->rc == 0)
        out->digest = profile_digest(&p);
    uw_profile_free(&p);
    fa_close(out);
}

static void op_writer(const void *arg, uint64_t fail_at, fa_run *out)
{
    const uw_profile_format fmt = *(const uw_profile_format *)arg;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    assert_non_null(f);
    fa_start(fail_at);
    out->rc = uw_write_profile(f, &ref.prof, fmt);
    fa_close(out);
    assert_int_equal(fclose(f), 0);
    out->digest = mix_bytes(FNV, buf, len);
    free(buf);
}

static void op_folded_read(const void *arg, uint64_t fail_at, fa_run *out)
{
    FILE *f = fmemopen(ref.folded, ref.folded_len, "r");
    uw_folded_error err;
    uw_profile p;

    (void)arg;
    assert_non_null(f);
    fa_start(fail_at);
    out->rc = uw_profile_init(&p);
    if (out->rc == 0)
        out->rc = uw_folded_read(f, &p, NULL, &err);
    if (out->rc == 0)
        out->digest = profile_digest(&p);
    uw_profile_free(&p);
    fa_close(out);
    fclose(f);
}

/* The distance between two folded profiles (short lines, a few stacks:
 * within the small-limits build's bounds too), and the stacks that
 * contribute most. */
static void op_tvd(const void *arg, uint64_t fail_at, fa_run *out)
{
    static const char a[] = "<thread 9>;main (/a.py:1);run (/a.py:5) 3\n"
                            "<thread 9>;main (/a.py:1);idle (/a.py:9) 1\n"
                            "<thread 9>;main (/a.py:2);run (/a.py:6) 2\n"
                            "other;work (/b.py:3) 4\n";
    static const char b[] = "<thread 9>;main (/a.py:1);run (/a.py:5) 1\n"
                            "<thread 9>;main (/a.py:3);idle (/a.py:9) 5\n"
                            "other;work (/b.py:4) 4\n"
                            "new (/c.py:1) 2\n";
    FILE *fa_in = fmemopen((void *)(uintptr_t)a, sizeof a - 1, "r");
    FILE *fb_in = fmemopen((void *)(uintptr_t)b, sizeof b - 1, "r");
    uw__tvd *t = NULL;
    uw__tvd_result res;
    uw__tvd_entry top[4];
    uint64_t line = 0;
    size_t n = 0, i;

    (void)arg;
    assert_non_null(fa_in);
    assert_non_null(fb_in);
    fa_start(fail_at);
    out->rc = uw__tvd_new(UW_TVD_FUNCTIONS, &t);
    if (out->rc == 0)
        out->rc = uw__tvd_read(t, 0, fa_in, UW_TVD_LIMIT_LINES, &line);
    if (out->rc == 0)
        out->rc = uw__tvd_read(t, 1, fb_in, UW_TVD_LIMIT_LINES, &line);
    if (out->rc == 0)
        out->rc = uw__tvd_compute(t, &res);
    if (out->rc == 0)
        out->rc = uw__tvd_top(t, 4, top, &n);
    if (out->rc == 0) {
        out->digest = mix_str(mix(FNV, n), res.exact);
        for (i = 0; i < n; i++)
            out->digest =
                mix(mix_str(out->digest, top[i].stack), top[i].count[0] ^ top[i].count[1]);
    }
    uw__tvd_free(t);
    fa_close(out);
    fclose(fa_in);
    fclose(fb_in);
}

/* --- the tests ----------------------------------------------------------------------- */

/* The hook itself: the chosen allocation fails, live blocks are counted,
 * resizing keeps them counted, blocks from before the window are not. */
static void test_failalloc(void **state)
{
    char *before = malloc(8), *p, *q, *r;

    (void)state;
    assert_non_null(before);
    fa_start(3);
    p = malloc(16);
    q = calloc(2, 8);
    assert_non_null(p);
    assert_non_null(q);
    assert_false(fa_failed());
    {
        void *volatile third = malloc(64); /* fails (volatile: not elided) */
        assert_null(third);
    }
    assert_true(fa_failed());
    r = strdup("x");
    assert_non_null(r);
    assert_int_equal(fa_live(), 3);
    p = realloc(p, 64);
    assert_non_null(p);
    before = realloc(before, 32); /* from before the window: not counted */
    assert_non_null(before);
    assert_int_equal(fa_live(), 3);
    free(q);
    free(r);
    free(before);
    assert_int_equal(fa_live(), 1); /* p: what a leak looks like */
    free(p);
    assert_int_equal(fa_live(), 0);
    assert_int_equal(fa_allocs(), 6);
    fa_stop();
}

static void test_create(void **state)
{
    static const int minors[3] = {11, 12, 13};
    char name[32];
    int i;

    (void)state;
    for (i = 0; i < 3; i++) {
        snprintf(name, sizeof name, "create 3.%d", minors[i]);
        each_allocation_fails(name, op_create, &minors[i], 0);
    }
}

static void test_thread_sample(void **state)
{
    (void)state;
    each_allocation_fails("thread sample", op_threads, NULL, 1);
}

static void test_task_sample(void **state)
{
    static const int minors[3] = {11, 12, 13};
    char name[32];
    int i;

    (void)state;
    for (i = 0; i < 3; i++) {
        snprintf(name, sizeof name, "task sample 3.%d", minors[i]);
        each_allocation_fails(name, op_tasks, &minors[i], 1);
    }
}

static void test_compose(void **state)
{
    (void)state;
    each_allocation_fails("compose", op_compose, NULL, 0);
}

static void test_output(void **state)
{
    static const int kinds[2] = {0, 1};

    (void)state;
    each_allocation_fails("text output", op_output, &kinds[0], 0);
    each_allocation_fails("json output", op_output, &kinds[1], 0);
}

static void test_profile(void **state)
{
    (void)state;
    each_allocation_fails("profile aggregation", op_profile, NULL, 0);
}

static void test_writers(void **state)
{
    static const uw_profile_format fmts[4] = {UW_FORMAT_FOLDED, UW_FORMAT_SPEEDSCOPE,
                                              UW_FORMAT_PPROF, UW_FORMAT_HTML};
    int i;

    (void)state;
    for (i = 0; i < 4; i++) {
        char name[40];
        if (!uw_profile_format_built(fmts[i])) {
            print_message("%s writer: not built\n", uw_profile_format_name(fmts[i]));
            continue;
        }
        snprintf(name, sizeof name, "%s writer", uw_profile_format_name(fmts[i]));
        each_allocation_fails(name, op_writer, &fmts[i], 0);
    }
}

static void test_folded_reader(void **state)
{
    (void)state;
    each_allocation_fails("folded reader", op_folded_read, NULL, 0);
}

static void test_tvd(void **state)
{
    (void)state;
    each_allocation_fails("tvd", op_tvd, NULL, 0);
}

/* A test that failed inside a tracked window leaves the allocator plain
 * for the next. */
static int fa_off(void **state)
{
    (void)state;
    fa_stop();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_failalloc, fa_off),
        cmocka_unit_test_teardown(test_create, fa_off),
        cmocka_unit_test_teardown(test_thread_sample, fa_off),
        cmocka_unit_test_teardown(test_task_sample, fa_off),
        cmocka_unit_test_teardown(test_compose, fa_off),
        cmocka_unit_test_teardown(test_output, fa_off),
        cmocka_unit_test_teardown(test_profile, fa_off),
        cmocka_unit_test_teardown(test_writers, fa_off),
        cmocka_unit_test_teardown(test_folded_reader, fa_off),
        cmocka_unit_test_teardown(test_tvd, fa_off),
    };
    return cmocka_run_group_tests(tests, ref_setup, ref_teardown);
}
