/*
 * fuzz_memory — the whole unwinder (thread walk and Task walk) on memory
 * that is nothing but fuzz bytes (see fuzz_mem.h): _PyRuntime is at
 * FZ_BASE, PyCode_Type and the builtin types at fixed fake addresses,
 * the Task registry at FZ_BASE + 512.  Byte 0 picks the version.  The
 * unwinder must not crash, hang, or read more than its budget allows:
 * UW reads past the budget fail, and the sample must come back anyway.
 */
#include <stdlib.h>

#include "fuzz.h"
#include "fuzz_mem.h"
#include "internal/layout.h"
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
    fz_mem m = {data, size};
    uw_reader r;
    uw_target t;
    uw_unwinder *u = NULL;
    uw_tasks *tk = NULL;
    uw_sample s;
    size_t i;
    int rc;

    fz_h = FZ_SEED;
    memset(&t, 0, sizeof t);
    t.layout = uw__layout_for_minor(11 + (size > 0 ? data[0] % 3 : 0));
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
    if (uw_unwinder_new(&r, &t, &u) != 0 || uw_tasks_new(u, &tk) != 0)
        abort(); /* the tables are fixed: this cannot fail */
    uw_tasks_set_root(tk, FZ_BASE + 512);
    for (i = 0; i < 2; i++) { /* twice: the second sample uses the caches */
        r.budget_calls = r.calls + FZ_READ_BUDGET;
        rc = uw_unwind_threads(u, &s);
        if (rc == 0)
            rc = uw_unwind_tasks(tk, &s);
        if (r.calls > r.budget_calls)
            abort(); /* the reader itself enforces the budget */
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
