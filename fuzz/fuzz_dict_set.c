/*
 * fuzz_dict_set — the readers of dicts, sets, lists, ints, strs and
 * instance attributes on arbitrary memory (see fuzz_mem.h).  The last byte
 * picks the version (fuzz_data.h); the bytes before it are the memory, the
 * objects read at FZ_BASE + 64.  Types are unknown
 * (0), so the layouts are trusted as the bytes say: the worst case.
 */
#include "fuzz.h"
#include "fuzz_data.h"
#include "fuzz_mem.h"
#include "tornstack/limits.h"
#include "internal/pyobj.h"
#include "internal/pystr.h"

static uint64_t fz_h;

uint64_t fz_verdict(void)
{
    return fz_h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint64_t keys[UW_LIMIT_TASKS];
    fz_data d = fz_data_of(data, size);
    const uw_layout *l = uw__layout_for_minor((int)fz_data_range(&d, 11, 13));
    fz_mem m = {d.data, d.size};
    uw_reader r;
    uw_pytypes types;
    uw_pyctx c;
    char out[UW_PYSTR_MAX_UTF8];
    uint64_t v = 0, obj = FZ_BASE + 64;
    int64_t iv = 0;
    size_t n = 0;
    int trunc = 0;

    fz_h = FZ_SEED;
    memset(&types, 0, sizeof types);
    uw_reader_init(&r, &fz_mem_ops, &m);
    r.budget_calls = 4096;
    r.budget_bytes = 1u << 24;
    c = (uw_pyctx){&r, l, &types};
    fz_h = fz_mix(fz_h, (uint64_t)(int64_t)uw__dict_get_str(&c, obj, "asyncio.tasks", &v));
    fz_h = fz_mix(fz_h, v);
    fz_h = fz_mix(fz_h, (uint64_t)(int64_t)uw__obj_getattr(&c, obj, "data", &v));
    fz_h = fz_mix(fz_h, (uint64_t)(int64_t)uw__set_keys(&c, obj, keys, UW_LIMIT_TASKS, &n));
    fz_h = fz_mix(fz_h, n);
    fz_h = fz_mix(fz_h, (uint64_t)(int64_t)uw__list_items(&c, obj, keys, 256, &n));
    fz_h = fz_mix(fz_h, (uint64_t)(int64_t)uw__long_value(&c, obj, &iv));
    fz_h = fz_mix(fz_h, (uint64_t)iv);
    fz_h = fz_mix(fz_h, (uint64_t)(int64_t)uw__pystr_read(&r, l, obj, out, sizeof out, &trunc));
    fz_h = fz_mix(fz_h, (uint64_t)(int64_t)uw__str_equals(&c, obj, "data"));
    fz_h = fz_mix(fz_h, (uint64_t)(int64_t)uw__type_name(&c, obj, out, 64));
    return 0;
}
