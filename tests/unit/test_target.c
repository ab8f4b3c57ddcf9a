/*
 * test_target.c — the boundary checks of attaching: /proc/PID/maps lines,
 * the 3.13 _Py_DebugOffsets block, the layout tables' own sanity, and the
 * choice of the initialised _PyRuntime when the interpreter is mapped twice.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fake_proc.h"
#include "tornstack/debug_offsets.h"
#include "tornstack/error.h"
#include "tornstack/layout.h"
#include "tornstack/target.h"

static void test_maps(void **state)
{
    uw_mapping m;
    (void)state;
    assert_int_equal(uw_maps_parse_line("7f0e12a00000-7f0e12b00000 r--p 00000000 fe:01 1234567 "
                                        "/root/.pyenv/versions/3.12.1/lib/libpython3.12.so.1.0\n",
                                        &m),
                     0);
    assert_int_equal(m.start, 0x7f0e12a00000ull);
    assert_int_equal(m.end, 0x7f0e12b00000ull);
    assert_int_equal(m.offset, 0);
    assert_string_equal(m.perms, "r--p");
    assert_string_equal(m.path, "/root/.pyenv/versions/3.12.1/lib/libpython3.12.so.1.0");
    assert_int_equal(uw_maps_parse_line("55d0-55e0 rw-p 00001000 00:00 0", &m), 0);
    assert_string_equal(m.path, "");
    assert_int_equal(m.offset, 0x1000);
    assert_int_equal(uw_maps_parse_line("7ffd1000-7ffd2000 rw-p 00000000 00:00 0   [stack]", &m), 0);
    assert_string_equal(m.path, "[stack]");
    assert_int_equal(uw_maps_parse_line("garbage", &m), UW_ERR_MAPS);
    assert_int_equal(uw_maps_parse_line("2000-1000 r--p 0 0 0 /x", &m), UW_ERR_MAPS);
    assert_int_equal(uw_maps_parse_line("", &m), UW_ERR_MAPS);
}

/* A block as the 3.13 headers would lay it out. */
static void good_block(const uw_layout *l, uint8_t *b)
{
    size_t i;
    uint64_t v = 0x030d00f0;
    memset(b, 0, (size_t)l->debug_offsets_size);
    memcpy(b, "xdebugpy", 8);
    memcpy(b + 8, &v, 8);
    for (i = 0; i < l->n_debug_fields; i++)
        memcpy(b + l->debug_fields[i].at, &l->debug_fields[i].expect, 8);
}

static void test_debug_offsets(void **state)
{
    const uw_layout *l = uw_layout_for_minor(13);
    uint8_t b[1024];
    char why[256];
    size_t i, n;
    uint64_t one = 1;
    (void)state;
    assert_non_null(l);
    n = (size_t)l->debug_offsets_size;
    assert_true(l->n_debug_fields > 40);
    good_block(l, b);
    assert_int_equal(uw_debug_offsets_check(l, 0x030d00f0, b, n, why, sizeof why), 0);
    /* every field, changed by one, is refused and named */
    for (i = 0; i < l->n_debug_fields; i++) {
        good_block(l, b);
        b[l->debug_fields[i].at] ^= 1;
        assert_int_equal(uw_debug_offsets_check(l, 0, b, n, why, sizeof why),
                         UW_ERR_DEBUG_OFFSETS);
        assert_non_null(strstr(why, l->debug_fields[i].name));
    }
    good_block(l, b);
    b[0] = 'X';
    assert_int_equal(uw_debug_offsets_check(l, 0, b, n, why, sizeof why), UW_ERR_DEBUG_OFFSETS);
    assert_non_null(strstr(why, "cookie"));
    good_block(l, b);
    memcpy(b + 16, &one, 8);
    assert_int_equal(uw_debug_offsets_check(l, 0, b, n, why, sizeof why), UW_ERR_DEBUG_OFFSETS);
    assert_non_null(strstr(why, "free-threaded"));
    good_block(l, b);
    b[10] = 14; /* version 3.14 */
    assert_int_equal(uw_debug_offsets_check(l, 0, b, n, why, sizeof why), UW_ERR_DEBUG_OFFSETS);
    good_block(l, b);
    assert_int_equal(uw_debug_offsets_check(l, 0x030c01f0, b, n, why, sizeof why),
                     UW_ERR_DEBUG_OFFSETS);
    assert_int_equal(uw_debug_offsets_check(l, 0, b, n - 1, why, sizeof why),
                     UW_ERR_DEBUG_OFFSETS);
    assert_int_equal(uw_debug_offsets_check(uw_layout_for_minor(12), 0, b, n, why, sizeof why),
                     UW_ERR_INVALID_ARG);
}

static void test_layouts(void **state)
{
    int m;
    (void)state;
    for (m = 11; m <= 13; m++) {
        const uw_layout *l = uw_layout_for_minor(m);
        assert_non_null(l);
        assert_int_equal(l->py_minor, m);
        assert_int_equal(uw_layout_check(l), 0);
    }
    assert_null(uw_layout_for_minor(10));
    assert_null(uw_layout_for_minor(14));
    assert_int_equal(uw_layout_check(NULL), UW_ERR_INVALID_ARG);
}

/* A _PyRuntime as a live process has it: the main interpreter is a member
 * of _PyRuntime (the last one on 3.11-3.13) and heads the list. */
static uint64_t live_runtime(fake_proc *fp)
{
    const uw_layout *l = fp->l;
    uint64_t rt = fp_alloc(fp, (size_t)l->runtime_size);
    uint64_t main_interp = rt + (uint64_t)l->runtime_size - (uint64_t)l->interp_size;
    fp->runtime = rt;
    fp_put64(fp, rt + (uint64_t)l->runtime_interpreters_head, main_interp);
    fp_put64(fp, rt + (uint64_t)l->runtime_interpreters_main, main_interp);
    return rt;
}

/* The second mapping of an interpreter: _PyRuntime computed from a copy's
 * load address, which reads whatever lies there.  Each must be refused
 * and the live runtime accepted, on every version. */
static void test_runtime_ready(void **state)
{
    int m;
    (void)state;
    for (m = 11; m <= 13; m++) {
        fake_proc fp;
        const uw_layout *l;
        uint64_t live, copy, junk, other;
        char why[256];

        fp_init(&fp, m);
        l = fp.l;
        live = live_runtime(&fp);
        assert_int_equal(uw_target_runtime_ready(&fp.reader, l, live, why, sizeof why), 0);

        /* a copy loaded with dlopen: static initial values, no interpreter */
        copy = fp_alloc(&fp, (size_t)l->runtime_size);
        assert_int_equal(uw_target_runtime_ready(&fp.reader, l, copy, why, sizeof why),
                         UW_ERR_NOT_PYTHON);
        assert_non_null(strstr(why, "not initialised"));

        /* the file mapped whole at offset 0: the "runtime" is file bytes, whose
         * interpreter words are non-zero garbage */
        junk = fp_alloc(&fp, (size_t)l->runtime_size);
        memset(fp_ptr(&fp, junk, (size_t)l->runtime_size), 0x41, (size_t)l->runtime_size);
        assert_int_equal(uw_target_runtime_ready(&fp.reader, l, junk, why, sizeof why),
                         UW_ERR_NOT_PYTHON);

        /* readable interpreter pointers that do not lead to the runtime's own
         * main interpreter: the head readable, main pointing outside */
        other = fp_alloc(&fp, (size_t)l->runtime_size);
        fp_put64(&fp, other + (uint64_t)l->runtime_interpreters_head, live);
        fp_put64(&fp, other + (uint64_t)l->runtime_interpreters_main, live);
        assert_int_equal(uw_target_runtime_ready(&fp.reader, l, other, why, sizeof why),
                         UW_ERR_NOT_PYTHON);

        /* main inside the runtime but the head unreadable */
        fp_put64(&fp, other + (uint64_t)l->runtime_interpreters_main,
                 other + (uint64_t)l->runtime_size - (uint64_t)l->interp_size);
        fp_put64(&fp, other + (uint64_t)l->runtime_interpreters_head, 0x10);
        assert_int_equal(uw_target_runtime_ready(&fp.reader, l, other, why, sizeof why),
                         UW_ERR_NOT_PYTHON);

        /* main inside the runtime, but not where a whole interpreter fits */
        fp_put64(&fp, other + (uint64_t)l->runtime_interpreters_head, live);
        fp_put64(&fp, other + (uint64_t)l->runtime_interpreters_main,
                 other + (uint64_t)l->runtime_size - 8);
        assert_int_equal(uw_target_runtime_ready(&fp.reader, l, other, why, sizeof why),
                         UW_ERR_NOT_PYTHON);

        /* a main interpreter whose id is not 0 */
        fp_put64(&fp, live + (uint64_t)l->runtime_size - (uint64_t)l->interp_size +
                          (uint64_t)l->interp_id, 7);
        assert_int_equal(uw_target_runtime_ready(&fp.reader, l, live, why, sizeof why),
                         UW_ERR_NOT_PYTHON);
        fp_put64(&fp, live + (uint64_t)l->runtime_size - (uint64_t)l->interp_size +
                          (uint64_t)l->interp_id, 0);
        assert_int_equal(uw_target_runtime_ready(&fp.reader, l, live, why, sizeof why), 0);

        /* an unmapped runtime address */
        assert_int_equal(uw_target_runtime_ready(&fp.reader, l, 0x20, why, sizeof why),
                         UW_ERR_NOT_PYTHON);
        fp_free(&fp);
    }
}

static void test_errors(void **state)
{
    int c;
    (void)state;
    for (c = -1; c > UW_ERR_MIN_; c--) {
        if (strcmp(uw_errname(c), "unknown") == 0)
            continue; /* gaps in the numbering */
        assert_string_not_equal(uw_strerror(c), "unknown error");
    }
    assert_string_equal(uw_errname(UW_ERR_LIMIT_FRAMES), "frame_limit");
    assert_string_equal(uw_errname(0), "ok");
    assert_string_equal(uw_strerror(12345), "unknown error");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_maps),
        cmocka_unit_test(test_debug_offsets),
        cmocka_unit_test(test_layouts),
        cmocka_unit_test(test_runtime_ready),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
