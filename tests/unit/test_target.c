/*
 * test_target.c — the boundary checks of attaching: /proc/PID/maps lines,
 * the 3.13+ _Py_DebugOffsets block, 3.14+'s _asyncio debug offsets, the
 * builds no table describes (free-threaded, pre-release), the layout
 * tables' own sanity, the gate that keeps 3.14+ tables from the walks, and
 * the choice of the initialised _PyRuntime when the interpreter is mapped twice.
 * Doctored blocks live in a fake process (fake_proc.h), read through the
 * same reader interface as a live one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fake_proc.h"
#include "internal/asyncio_layout.h"
#include "internal/debug_offsets.h"
#include "tornstack/error.h"
#include "internal/layout.h"
#include "tornstack/target.h"
#include "tornstack/unwind.h"

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
    assert_int_equal(uw_maps_parse_line("7ffd1000-7ffd2000 rw-p 00000000 00:00 0   [stack]", &m),
                     0);
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
    const uw_layout *l = uw__layout_for_minor(13);
    uint8_t b[1024];
    char why[256];
    size_t i, n;
    uint64_t one = 1;
    (void)state;
    assert_non_null(l);
    n = (size_t)l->debug_offsets_size;
    assert_true(l->n_debug_fields > 40);
    good_block(l, b);
    assert_int_equal(uw__debug_offsets_check(l, 0x030d00f0, b, n, why, sizeof why), 0);
    /* every field, changed by one, is refused and named */
    for (i = 0; i < l->n_debug_fields; i++) {
        good_block(l, b);
        b[l->debug_fields[i].at] ^= 1;
        assert_int_equal(uw__debug_offsets_check(l, 0, b, n, why, sizeof why),
                         UW_ERR_DEBUG_OFFSETS);
        assert_non_null(strstr(why, l->debug_fields[i].name));
    }
    good_block(l, b);
    b[0] = 'X';
    assert_int_equal(uw__debug_offsets_check(l, 0, b, n, why, sizeof why), UW_ERR_DEBUG_OFFSETS);
    assert_non_null(strstr(why, "cookie"));
    good_block(l, b);
    memcpy(b + 16, &one, 8);
    assert_int_equal(uw__debug_offsets_check(l, 0, b, n, why, sizeof why), UW_ERR_DEBUG_OFFSETS);
    assert_non_null(strstr(why, "free-threaded"));
    good_block(l, b);
    b[10] = 14; /* version 3.14 */
    assert_int_equal(uw__debug_offsets_check(l, 0, b, n, why, sizeof why), UW_ERR_DEBUG_OFFSETS);
    good_block(l, b);
    assert_int_equal(uw__debug_offsets_check(l, 0x030c01f0, b, n, why, sizeof why),
                     UW_ERR_DEBUG_OFFSETS);
    assert_int_equal(uw__debug_offsets_check(l, 0, b, n - 1, why, sizeof why),
                     UW_ERR_DEBUG_OFFSETS);
    assert_int_equal(uw__debug_offsets_check(uw__layout_for_minor(12), 0, b, n, why, sizeof why),
                     UW_ERR_INVALID_ARG);
}

static void test_layouts(void **state)
{
    int m;
    (void)state;
    for (m = 11; m <= 15; m++) {
        const uw_layout *l = uw__layout_for_minor(m);
        assert_non_null(l);
        assert_int_equal(l->py_minor, m);
        assert_int_equal(uw__layout_check(l), 0);
    }
    assert_null(uw__layout_for_minor(10));
    assert_null(uw__layout_for_minor(16));
    assert_int_equal(uw__layout_check(NULL), UW_ERR_INVALID_ARG);
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
        fp_put64(&fp,
                 live + (uint64_t)l->runtime_size - (uint64_t)l->interp_size +
                     (uint64_t)l->interp_id,
                 7);
        assert_int_equal(uw_target_runtime_ready(&fp.reader, l, live, why, sizeof why),
                         UW_ERR_NOT_PYTHON);
        fp_put64(&fp,
                 live + (uint64_t)l->runtime_size - (uint64_t)l->interp_size +
                     (uint64_t)l->interp_id,
                 0);
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

/* A _Py_DebugOffsets block as a build matching table l holds (3.13+). */
static void table_block(const uw_layout *l, uint64_t version, uint8_t *b)
{
    size_t i;
    memset(b, 0, (size_t)l->debug_offsets_size);
    memcpy(b, "xdebugpy", 8);
    memcpy(b + l->debug_version_at, &version, 8);
    for (i = 0; i < l->n_debug_fields; i++)
        memcpy(b + l->debug_fields[i].at, &l->debug_fields[i].expect, 8);
}

static uint64_t final_version(int minor)
{
    return 0x03000000ull | ((uint64_t)minor << 16) | 0x0400f0ull; /* 3.M.4 final */
}

/* The 3.14 and 3.15 tables: present, sane, with the 3.14+ fields, and
 * read by the walks (UW_WALK_MAX_MINOR). */
static void test_layouts_314_315(void **state)
{
    int m;
    (void)state;
    for (m = 14; m <= 15; m++) {
        const uw_layout *l = uw__layout_table_for_minor(m);
        assert_non_null(l);
        assert_int_equal(l->py_minor, m);
        assert_int_equal(uw__layout_check_table(l), 0);
        assert_int_equal(uw__layout_check(l), 0);
        assert_ptr_equal(uw__layout_for_minor(m), l);
        assert_int_equal(l->frame_tagged, 1);
        assert_int_equal(l->frame_stacktop, UW_ABSENT);
        assert_true(l->frame_stackpointer > 0);
        assert_true(l->tstate_asyncio_tasks_head > l->tstate_size);
        assert_true(l->n_debug_fields > 60);
        assert_int_equal(l->release_level, 0xf);
    }
    for (m = 11; m <= 13; m++) {
        assert_ptr_equal(uw__layout_table_for_minor(m), uw__layout_for_minor(m));
        assert_int_equal(uw__layout_check(uw__layout_for_minor(m)), 0);
        assert_int_equal(uw__layout_for_minor(m)->frame_tagged, 0);
    }
    assert_int_equal(uw__layout_table_for_minor(15)->owner_cstack, UW_ABSENT);
    assert_int_equal(uw__layout_table_for_minor(15)->state_completed, UW_NO_STATE);
    assert_true(uw__layout_table_for_minor(15)->tstate_embedded_base_frame > 0);
    assert_int_equal(uw__layout_table_for_minor(14)->tstate_base_frame, UW_ABSENT);
    assert_null(uw__layout_table_for_minor(16));
    assert_null(uw__layout_table_for_minor(10));
}

/* A table mixing two versions' ways of reading frames is refused. */
static void test_layout_mixed(void **state)
{
    uw_layout l;
    (void)state;
    l = *uw__layout_table_for_minor(14);
    l.frame_stacktop = 64; /* 3.13's count beside 3.14's pointer */
    assert_int_equal(uw__layout_check_table(&l), UW_ERR_BAD_LAYOUT);
    l = *uw__layout_table_for_minor(14);
    l.frame_tagged = 0;
    assert_int_equal(uw__layout_check_table(&l), UW_ERR_BAD_LAYOUT);
    l = *uw__layout_table_for_minor(14);
    l.stackref_borrow_mask = 4; /* outside Py_TAG_BITS */
    assert_int_equal(uw__layout_check_table(&l), UW_ERR_BAD_LAYOUT);
    l = *uw__layout_table_for_minor(15);
    l.tstate_embedded_base_frame = UW_ABSENT; /* pointer without its frame */
    assert_int_equal(uw__layout_check_table(&l), UW_ERR_BAD_LAYOUT);
    l = *uw__layout_table_for_minor(15);
    l.tstate_asyncio_tasks_head = l.tstate_impl_size - 8; /* node past the end */
    assert_int_equal(uw__layout_check_table(&l), UW_ERR_BAD_LAYOUT);
    l = *uw__layout_table_for_minor(13);
    l.frame_tagged = 1;
    assert_int_equal(uw__layout_check_table(&l), UW_ERR_BAD_LAYOUT);
    l = *uw__layout_table_for_minor(13);
    l.frame_stackpointer = 64;
    assert_int_equal(uw__layout_check_table(&l), UW_ERR_BAD_LAYOUT);
}

/* 3.14/3.15 blocks: every field, changed by one, is refused and named;
 * the version and free-threaded words are where the table says. */
static void test_debug_offsets_314_315(void **state)
{
    uint8_t b[UW_TARGET_DEBUG_BLOCK_MAX];
    char why[256];
    int m;
    (void)state;
    for (m = 14; m <= 15; m++) {
        const uw_layout *l = uw__layout_table_for_minor(m);
        size_t n = (size_t)l->debug_offsets_size, i;
        uint64_t one = 1;
        assert_true(n <= sizeof b);
        table_block(l, final_version(m), b);
        assert_int_equal(uw__debug_offsets_check(l, final_version(m), b, n, why, sizeof why), 0);
        for (i = 0; i < l->n_debug_fields; i++) {
            table_block(l, final_version(m), b);
            b[l->debug_fields[i].at] ^= 8;
            assert_int_equal(uw__debug_offsets_check(l, 0, b, n, why, sizeof why),
                             UW_ERR_DEBUG_OFFSETS);
            assert_non_null(strstr(why, l->debug_fields[i].name));
        }
        table_block(l, final_version(m), b);
        b[l->debug_version_at + 2] = (uint8_t)(m == 14 ? 15 : 14); /* other minor */
        assert_int_equal(uw__debug_offsets_check(l, 0, b, n, why, sizeof why),
                         UW_ERR_DEBUG_OFFSETS);
        table_block(l, final_version(m), b);
        memcpy(b + l->debug_free_threaded_at, &one, 8);
        assert_int_equal(uw__debug_offsets_check(l, 0, b, n, why, sizeof why),
                         UW_ERR_DEBUG_OFFSETS);
        assert_int_equal(uw_build_check(l, final_version(m), b, n, why, sizeof why),
                         UW_ERR_UNSUPPORTED_BUILD);
        assert_non_null(strstr(why, "free-threaded"));
    }
}

/* Builds no table describes, and the boundaries of that rule. */
static void test_build_check(void **state)
{
    const uw_layout *l14 = uw__layout_table_for_minor(14), *l13 = uw__layout_table_for_minor(13);
    uint8_t b[UW_TARGET_DEBUG_BLOCK_MAX];
    size_t n = (size_t)l14->debug_offsets_size;
    char why[256];
    uint64_t one = 1;
    (void)state;
    table_block(l14, 0x030e08f0, b);
    assert_int_equal(uw_build_check(l14, 0x030e08f0, b, n, why, sizeof why), 0);
    assert_int_equal(uw_build_check(l14, 0x030e00f0, b, n, why, sizeof why), 0); /* 3.14.0 */
    assert_int_equal(uw_build_check(l14, 0x030e0cf0, b, n, why, sizeof why), 0); /* 3.14.12 */
    assert_int_equal(uw_build_check(l14, 0x030e00b1, b, n, why, sizeof why),
                     UW_ERR_UNSUPPORTED_BUILD);
    assert_non_null(strstr(why, "3.14.0b1"));
    assert_non_null(strstr(why, "pre-release"));
    assert_int_equal(uw_build_check(l14, 0x030e00c2, b, n, why, sizeof why),
                     UW_ERR_UNSUPPORTED_BUILD);
    assert_non_null(strstr(why, "3.14.0rc2"));
    assert_int_equal(uw_build_check(l14, 0x030e00a7, NULL, 0, why, sizeof why),
                     UW_ERR_UNSUPPORTED_BUILD);
    assert_int_equal(uw_build_check(l13, 0x030d00a1, NULL, 0, why, sizeof why),
                     UW_ERR_UNSUPPORTED_BUILD); /* the rule holds for every version */
    /* A pre-release table would accept its own pre-release only. */
    {
        uw_layout pre = *l14;
        pre.release_level = 0xb;
        pre.release_serial = 1;
        assert_int_equal(uw_build_check(&pre, 0x030e00b1, NULL, 0, why, sizeof why), 0);
        assert_int_equal(uw_build_check(&pre, 0x030e00b2, NULL, 0, why, sizeof why),
                         UW_ERR_UNSUPPORTED_BUILD);
        assert_int_equal(uw_build_check(&pre, 0x030e00f0, NULL, 0, why, sizeof why),
                         UW_ERR_UNSUPPORTED_BUILD);
    }
    /* free_threaded only counts under the cookie (else: a mismatch). */
    memcpy(b + l14->debug_free_threaded_at, &one, 8);
    assert_int_equal(uw_build_check(l14, 0x030e08f0, b, n, why, sizeof why),
                     UW_ERR_UNSUPPORTED_BUILD);
    b[0] = 'X';
    assert_int_equal(uw_build_check(l14, 0x030e08f0, b, n, why, sizeof why), 0);
    assert_int_equal(uw__debug_offsets_check(l14, 0x030e08f0, b, n, why, sizeof why),
                     UW_ERR_DEBUG_OFFSETS);
    assert_int_equal(uw_build_check(NULL, 0, NULL, 0, why, sizeof why), UW_ERR_INVALID_ARG);
}

/* The whole runtime check over target memory: a doctored block in a fake
 * process, read through the reader like a live one. */
static void test_check_runtime(void **state)
{
    char why[256];
    int m;
    (void)state;
    for (m = 14; m <= 15; m++) {
        const uw_layout *l = uw__layout_table_for_minor(m);
        fake_proc fp;
        uw_target t;
        uint64_t rt;
        uint8_t *blk;
        uint64_t one = 1;

        fp_init(&fp, 13); /* the reader and memory; the table is l */
        rt = fp_alloc(&fp, (size_t)l->debug_offsets_size);
        blk = fp_ptr(&fp, rt, (size_t)l->debug_offsets_size);
        memset(&t, 0, sizeof t);
        t.layout = l;
        t.py_version = final_version(m);
        t.runtime_addr = rt;
        table_block(l, t.py_version, blk);
        assert_int_equal(uw_target_check_runtime(&fp.reader, &t, why, sizeof why), 0);

        blk[l->debug_fields[5].at] ^= 16;
        assert_int_equal(uw_target_check_runtime(&fp.reader, &t, why, sizeof why),
                         UW_ERR_DEBUG_OFFSETS);
        assert_non_null(strstr(why, l->debug_fields[5].name));
        assert_non_null(strstr(why, "debug offsets mismatch"));

        table_block(l, t.py_version, blk);
        memcpy(blk + l->debug_free_threaded_at, &one, 8);
        assert_int_equal(uw_target_check_runtime(&fp.reader, &t, why, sizeof why),
                         UW_ERR_UNSUPPORTED_BUILD);

        table_block(l, t.py_version, blk);
        t.py_version = (t.py_version & ~0xffffull) | 0xa3; /* 3.M.0a3 */
        assert_int_equal(uw_target_check_runtime(&fp.reader, &t, why, sizeof why),
                         UW_ERR_UNSUPPORTED_BUILD);
        t.py_version = final_version(m);

        /* A block cut short by the end of its mapping, then none at all. */
        t.runtime_addr = rt + 64;
        assert_int_equal(uw_target_check_runtime(&fp.reader, &t, why, sizeof why),
                         UW_ERR_READ_SHORT);
        fp_unmap(&fp, rt);
        t.runtime_addr = rt;
        assert_int_equal(uw_target_check_runtime(&fp.reader, &t, why, sizeof why),
                         UW_ERR_READ_FAULT);
        fp_free(&fp);
    }
}

/* An .AsyncioDebug block as a build matching the tables holds. */
static void asyncio_block(const uw_layout *l, const uw_asyncio_layout *al, uint8_t *b)
{
    const uint64_t w[13] = {(uint64_t)al->task_size,
                            (uint64_t)al->task_name,
                            (uint64_t)al->fut_awaited_by,
                            (uint64_t)al->fut_is_task,
                            (uint64_t)al->fut_awaited_by_is_set,
                            (uint64_t)al->task_coro,
                            (uint64_t)al->task_node,
                            (uint64_t)l->interp_size,
                            (uint64_t)l->interp_asyncio_tasks_head,
                            (uint64_t)l->tstate_impl_size,
                            (uint64_t)l->tstate_asyncio_running_loop,
                            (uint64_t)l->tstate_asyncio_running_task,
                            (uint64_t)l->tstate_asyncio_tasks_head};
    memcpy(b, w, sizeof w);
}

static void test_asyncio_debug(void **state)
{
    char why[256];
    int m;
    (void)state;
    for (m = 14; m <= 15; m++) {
        const uw_layout *l = uw__layout_table_for_minor(m);
        const uw_asyncio_layout *al = uw__asyncio_layout_for_minor(m);
        const uw_asyncio_debug_field *f;
        size_t nf, i;
        uint8_t b[104];
        fake_proc fp;
        uw_target t;
        uint64_t sec;

        assert_non_null(al);
        assert_int_equal(al->debug_size, (int)sizeof b);
        f = uw__asyncio_debug_fields(&nf);
        assert_int_equal(nf, 13);
        asyncio_block(l, al, b);
        assert_int_equal(uw_asyncio_debug_check(l, al, b, sizeof b, why, sizeof why), 0);
        for (i = 0; i < nf; i++) {
            asyncio_block(l, al, b);
            b[f[i].at] ^= 8;
            assert_int_equal(uw_asyncio_debug_check(l, al, b, sizeof b, why, sizeof why),
                             UW_ERR_DEBUG_OFFSETS);
            assert_non_null(strstr(why, f[i].name));
        }
        asyncio_block(l, al, b);
        assert_int_equal(uw_asyncio_debug_check(l, al, b, sizeof b - 1, why, sizeof why),
                         UW_ERR_DEBUG_OFFSETS);
        /* The other version's table does not fit this block. */
        assert_int_equal(uw_asyncio_debug_check(uw__layout_table_for_minor(m == 14 ? 15 : 14), al,
                                                b, sizeof b, why, sizeof why),
                         UW_ERR_INVALID_ARG);

        /* Through target memory, as attaching reads it. */
        fp_init(&fp, 13);
        sec = fp_alloc(&fp, sizeof b);
        memcpy(fp_ptr(&fp, sec, sizeof b), b, sizeof b);
        memset(&t, 0, sizeof t);
        t.layout = l;
        t.py_version = final_version(m);
        assert_int_equal(uw_target_check_asyncio_at(&fp.reader, &t, sec, sizeof b, why, sizeof why),
                         0);
        assert_int_equal(uw_target_check_asyncio_at(&fp.reader, &t, sec, 96, why, sizeof why),
                         UW_ERR_DEBUG_OFFSETS); /* section too small */
        fp_put64(&fp, sec + 48, 160);           /* task_node moved */
        assert_int_equal(uw_target_check_asyncio_at(&fp.reader, &t, sec, sizeof b, why, sizeof why),
                         UW_ERR_DEBUG_OFFSETS);
        assert_non_null(strstr(why, "asyncio_task_object.task_node is 160"));
        assert_int_equal(
            uw_target_check_asyncio_at(&fp.reader, &t, sec + 8, sizeof b, why, sizeof why),
            UW_ERR_READ_SHORT);
        /* A simulated target has no maps to search: not found, retry later. */
        assert_int_equal(uw_target_find_asyncio(&fp.reader, &t, why, sizeof why), UW_ERR_NOT_FOUND);
        t.asyncio_debug_addr = sec; /* found earlier: nothing more to do */
        assert_int_equal(uw_target_find_asyncio(&fp.reader, &t, why, sizeof why), 0);
        fp_free(&fp);
    }
    /* Versions without the block. */
    {
        fake_proc fp;
        fp_init(&fp, 13);
        fp.target.pid = 1;
        assert_int_equal(uw_target_find_asyncio(&fp.reader, &fp.target, NULL, 0), UW_ERR_NOT_FOUND);
        assert_int_equal(uw_target_check_asyncio_at(&fp.reader, &fp.target, 0x1000, 104, NULL, 0),
                         UW_ERR_INVALID_ARG);
        fp_free(&fp);
    }
}

/* The walks read 3.11 to 3.15: an unwinder is made for each table.  A
 * table the fixed buffers cannot hold is refused at attach: a thread state
 * (_PyThreadStateImpl, 1104 bytes on 3.15) or a Task-walk field of it past
 * UW_TSTATE_BUF, and a version no table is for. */
static void test_walk_gate(void **state)
{
    fake_proc fp;
    uw_unwinder *u = NULL;
    uw_layout big;
    int m;
    (void)state;
    fp_init(&fp, 13);
    for (m = 11; m <= 15; m++) {
        fp.target.layout = uw__layout_table_for_minor(m);
        fp.target.py_version = final_version(m);
        assert_int_equal(uw_unwinder_new(&fp.reader, &fp.target, &u), 0);
        uw_unwinder_free(u);
        u = NULL;
    }
    big = *uw__layout_table_for_minor(15);
    assert_int_equal(big.tstate_impl_size, 1104);
    assert_true(big.tstate_asyncio_tasks_head + 16 <= 1104);
    fp.target.layout = &big;
    big.tstate_impl_size = 4096; /* a _PyThreadStateImpl past the buffer */
    assert_int_equal(uw_unwinder_new(&fp.reader, &fp.target, &u), UW_ERR_BAD_LAYOUT);
    assert_null(u);
    big = *uw__layout_table_for_minor(15);
    big.tstate_asyncio_running_task = 4000; /* a field past the buffer */
    assert_int_equal(uw_unwinder_new(&fp.reader, &fp.target, &u), UW_ERR_BAD_LAYOUT);
    big = *uw__layout_table_for_minor(15);
    big.py_minor = 16;
    assert_int_equal(uw_unwinder_new(&fp.reader, &fp.target, &u), UW_ERR_BAD_LAYOUT);
    assert_null(u);
    fp_free(&fp);
}

static void test_release_string(void **state)
{
    char b[24];
    (void)state;
    uw_release_string(0x030e08f0, b, sizeof b);
    assert_string_equal(b, "3.14.8");
    uw_release_string(0x030f00b1, b, sizeof b);
    assert_string_equal(b, "3.15.0b1");
    uw_release_string(0x030f00a8, b, sizeof b);
    assert_string_equal(b, "3.15.0a8");
    uw_release_string(0x030e00c2, b, sizeof b);
    assert_string_equal(b, "3.14.0rc2");
    assert_string_equal(uw_errname(UW_ERR_UNSUPPORTED_BUILD), "unsupported_build");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_maps),           cmocka_unit_test(test_debug_offsets),
        cmocka_unit_test(test_layouts),        cmocka_unit_test(test_runtime_ready),
        cmocka_unit_test(test_errors),         cmocka_unit_test(test_layouts_314_315),
        cmocka_unit_test(test_layout_mixed),   cmocka_unit_test(test_debug_offsets_314_315),
        cmocka_unit_test(test_build_check),    cmocka_unit_test(test_check_runtime),
        cmocka_unit_test(test_asyncio_debug),  cmocka_unit_test(test_walk_gate),
        cmocka_unit_test(test_release_string),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
