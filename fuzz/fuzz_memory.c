/*
 * fuzz_memory — the whole unwinder (thread walk and Task walk) on memory
 * that is nothing but fuzz bytes (see fuzz_mem.h): _PyRuntime is at
 * FZ_BASE, PyCode_Type and the builtin types at fixed fake addresses,
 * the Task registry at FZ_BASE + 512.  The last byte picks the version
 * (fuzz_data.h); the bytes before it are the memory.  The unwinder must
 * not crash, hang, or read more than its budget allows: reads past the
 * budget fail, and the sample must come back anyway, never failed for
 * want of memory (no allocation fails here, and every one is bounded).
 */
#include "fuzz.h"
#include "fuzz_data.h"
#include "fuzz_mem.h"
#include "internal/layout.h"
#include "tornstack/error.h"
#include "tornstack/tasks.h"
#include "tornstack/unwind.h"

/* Reads one sample may make on garbage (enforced by the reader). */
#define FZ_READ_BUDGET 20000

static uint64_t fz_h;

uint64_t fz_verdict(void)
{
    return fz_h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_data d = fz_data_of(data, size);
    const int minor = (int)fz_data_range(&d, 11, 13);
    fz_mem m = {d.data, d.size};
    uw_reader r;
    uw_target t;
    uw_unwinder *u = NULL;
    uw_tasks *tk = NULL;
    uw_sample s;
    size_t i;
    int rc;

    fz_h = FZ_SEED;
    memset(&t, 0, sizeof t);
    t.layout = uw__layout_for_minor(minor);
    t.py_version = 0x030000f0ull | ((uint64_t)t.layout->py_minor << 16);
    t.runtime_addr = FZ_BASE;
    t.code_type = FZ_BASE + 8;
    t.types.str = FZ_BASE + 16;
    t.types.coro = FZ_BASE + 24;
    t.types.set = FZ_BASE + 32;
    t.types.long_ = FZ_BASE + 40;
    t.types.dict = FZ_BASE + 48;
    t.types.bytes = FZ_BASE + 56;
    uw_reader_init(&r, &fz_mem_ops, &m);
    uw_sample_init(&s);
    rc = uw_unwinder_new(&r, &t, &u);
    if (rc == 0)
        rc = uw_tasks_new(u, &tk);
    FZ_ASSERT_MSG(rc == 0, "the 3.%d tables are fixed, yet creating the walks gave %s", minor,
                  uw_errname(rc));
    uw_tasks_set_root(tk, FZ_BASE + 512);
    for (i = 0; i < 2; i++) { /* twice: the second sample uses the caches */
        r.budget_calls = r.calls + FZ_READ_BUDGET;
        rc = uw_unwind_threads(u, &s);
        if (rc == 0)
            rc = uw_unwind_tasks(tk, &s);
        FZ_ASSERT_MSG(r.calls <= r.budget_calls, "sample %zu made %llu reads, over its budget", i,
                      (unsigned long long)(r.calls - (r.budget_calls - FZ_READ_BUDGET)));
        /* Every allocation is bounded by a limit, and none fails here: a
         * sample that says it ran out of memory took a status for one. */
        FZ_ASSERT_MSG(rc != UW_ERR_NOMEM, "sample %zu failed for want of memory on %zu bytes", i,
                      d.size);
        fz_h = fz_mix(fz_h, (uint64_t)(int64_t)rc);
        fz_h = fz_mix(fz_h, s.n_threads);
        fz_h = fz_mix(fz_h, s.n_frames);
        fz_h = fz_mix(fz_h, s.n_tasks);
    }
    uw_sample_free(&s);
    uw_tasks_free(tk);
    uw_unwinder_free(u);
    return 0;
}
