/*
 * test_attach.c — the model passes the attach-time checks a live target
 * passes, and a doctored block is refused as a live one is.
 *
 * For every version the fabricated process passes mm_fab_attach_check
 * (the build check and, from 3.13, every field of the runtime's
 * _Py_DebugOffsets block; from 3.14 every word of _asyncio's
 * .AsyncioDebug block).  Then, one word at a time, the block is doctored
 * and the check must refuse it with the documented error and name what
 * it found:
 *   - the free_threaded word set: UW_ERR_UNSUPPORTED_BUILD
 *     ("unsupported_build", exit 9), "free-threaded" in the sentence;
 *   - the cookie, the version, or any one field of _Py_DebugOffsets
 *     changed: UW_ERR_DEBUG_OFFSETS ("debug_offsets_mismatch", exit 7),
 *     the field's name in the sentence;
 *   - any one word of .AsyncioDebug changed: UW_ERR_DEBUG_OFFSETS, its
 *     name in the sentence.
 * Each doctored word is restored and the check passes again, so every
 * refusal is that word's alone.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "fabricate.h"
#include "internal/asyncio_layout.h"
#include "tornstack/error.h"

static int rd(void *ctx, uint64_t addr, void *dst, size_t len)
{
    return mm_space_read(ctx, addr, dst, len);
}

static const uw_reader_ops plain = {rd, NULL, NULL, NULL};

typedef struct fab {
    mm_space *sp;
    mm_image im;
    uw_reader r;
} fab;

static void fab_new(fab *f, int minor)
{
    assert_int_equal(mm_space_new(&f->sp), 0);
    assert_int_equal(mm_fab_process(f->sp, minor, &f->im), 0);
    uw_reader_init(&f->r, &plain, f->sp);
}

/* Doctor the word `name` to `value`, expect `rc` with `needle` in the
 * sentence, restore it and expect the check to pass again. */
static void doctor(fab *f, const char *name, uint64_t value, int rc, const char *needle)
{
    uint64_t at = mm_fab_debug_word(&f->im, name), old;
    char why[512];
    int got;

    if (at == 0)
        fail_msg("3.%d has no debug word %s", f->im.l->py_minor, name);
    old = mm_space_get64(f->sp, at);
    mm_space_put64(f->sp, at, value);
    got = mm_fab_attach_check(&f->im, &f->r, why, sizeof why);
    if (got != rc || strstr(why, needle) == NULL)
        fail_msg("3.%d, %s = %llu: got %s (%s), expected %s naming '%s'", f->im.l->py_minor, name,
                 (unsigned long long)value, uw_errname(got), why, uw_errname(rc), needle);
    mm_space_put64(f->sp, at, old);
    assert_int_equal(mm_fab_attach_check(&f->im, &f->r, why, sizeof why), 0);
}

static void test_versions_pass(void **state)
{
    int minor;
    (void)state;
    for (minor = 11; minor <= 15; minor++) {
        fab f;
        char why[512];
        fab_new(&f, minor);
        if (mm_fab_attach_check(&f.im, &f.r, why, sizeof why) != 0)
            fail_msg("3.%d refused: %s", minor, why);
        /* 3.14+ publish the .AsyncioDebug block, earlier versions none */
        assert_int_equal(f.im.asyncio_debug != 0, minor >= 14);
        mm_space_free(f.sp);
    }
}

static void test_debug_offsets_doctored(void **state)
{
    int minor;
    size_t i, n_checked = 0;
    (void)state;
    for (minor = 13; minor <= 15; minor++) {
        fab f;
        const uw_layout *l;
        fab_new(&f, minor);
        l = f.im.l;
        doctor(&f, "free_threaded", 1, UW_ERR_UNSUPPORTED_BUILD, "free-threaded");
        doctor(&f, "cookie", 0x7a70677562656478ull /* "xdebugpz" */, UW_ERR_DEBUG_OFFSETS,
               "cookie");
        doctor(&f, "version", f.im.target.py_version + (1u << 16), UW_ERR_DEBUG_OFFSETS, "version");
        for (i = 0; i < l->n_debug_fields; i++, n_checked++)
            doctor(&f, l->debug_fields[i].name, l->debug_fields[i].expect + 8, UW_ERR_DEBUG_OFFSETS,
                   l->debug_fields[i].name);
        mm_space_free(f.sp);
    }
    assert_true(n_checked == 59 + 76 + 81); /* docs/layouts.md: fields per version */
}

static void test_asyncio_debug_doctored(void **state)
{
    const uw_asyncio_debug_field *fl;
    size_t n, i;
    int minor;
    (void)state;
    fl = uw__asyncio_debug_fields(&n);
    assert_int_equal((int)n, 13);
    for (minor = 14; minor <= 15; minor++) {
        fab f;
        fab_new(&f, minor);
        for (i = 0; i < n; i++)
            doctor(&f, fl[i].name, mm_space_get64(f.sp, mm_fab_debug_word(&f.im, fl[i].name)) + 8,
                   UW_ERR_DEBUG_OFFSETS, fl[i].name);
        mm_space_free(f.sp);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_versions_pass),
        cmocka_unit_test(test_debug_offsets_doctored),
        cmocka_unit_test(test_asyncio_debug_doctored),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
