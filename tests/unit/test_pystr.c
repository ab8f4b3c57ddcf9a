/*
 * test_pystr.c — str objects to UTF-8: each kind, the length bound,
 * truncated objects (reads that come back short), malformed headers; and
 * a type's tp_name (a C string), read where a mapping ends or nowhere.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fake_proc.h"
#include "tornstack/error.h"
#include "tornstack/limits.h"
#include "internal/pyobj.h"
#include "internal/pystr.h"

static char out[UW_PYSTR_MAX_UTF8];

static int rd(fake_proc *fp, uint64_t a, int *trunc)
{
    return uw__pystr_read(&fp->reader, fp->l, a, out, sizeof out, trunc);
}

static void test_kinds(void **state)
{
    static const uint8_t latin1[] = {'c', 0xe9, 'l', 0xe8, 'b', 'r', 'e'};
    static const uint16_t ucs2[] = {0x0444, 0x0443, 0x043d, 0xd800};
    static const uint32_t ucs4[] = {0x1f600, 'x', 0x10ffff};
    static const uint8_t nul_in[] = {'j', 'o', 'b', 0, '-', '1'};
    int minor, trunc;
    (void)state;
    for (minor = 11; minor <= 13; minor++) {
        fake_proc fp;
        fp_init(&fp, minor);
        assert_int_equal(rd(&fp, fp_str(&fp, "Handle._run"), &trunc), 0);
        assert_string_equal(out, "Handle._run");
        assert_int_equal(trunc, 0);
        assert_int_equal(rd(&fp, fp_str(&fp, ""), &trunc), 0);
        assert_string_equal(out, "");
        assert_int_equal(rd(&fp, fp_str_kind(&fp, latin1, sizeof latin1, 1), &trunc), 0);
        assert_string_equal(out, "c\xc3\xa9l\xc3\xa8"
                                 "bre");
        /* lone surrogate becomes U+FFFD */
        assert_int_equal(rd(&fp, fp_str_kind(&fp, ucs2, 4, 2), &trunc), 0);
        assert_string_equal(out, "\xd1\x84\xd1\x83\xd0\xbd\xef\xbf\xbd");
        assert_int_equal(rd(&fp, fp_str_kind(&fp, ucs4, 3, 4), &trunc), 0);
        assert_string_equal(out, "\xf0\x9f\x98\x80x\xf4\x8f\xbf\xbf");
        /* U+0000 (a Task named "job\0-1") becomes U+FFFD, not the end of
         * the name: two such Tasks stay apart */
        assert_int_equal(rd(&fp, fp_str_kind(&fp, nul_in, sizeof nul_in, 1), &trunc), 0);
        assert_string_equal(out, "job\xef\xbf\xbd-1");
        assert_int_equal(trunc, 0);
        fp_free(&fp);
    }
}

static void length_bound(size_t n, int want_trunc)
{
    fake_proc fp;
    char s[UW_LIMIT_STRING_CHARS + 2];
    int trunc = -1;
    fp_init(&fp, 12);
    memset(s, 'z', n);
    s[n] = '\0';
    assert_int_equal(rd(&fp, fp_str(&fp, s), &trunc), 0);
    assert_int_equal(trunc, want_trunc);
    assert_int_equal(strlen(out), want_trunc ? UW_LIMIT_STRING_CHARS : n);
    fp_free(&fp);
}

static void test_bound(void **state)
{
    (void)state;
    length_bound(UW_LIMIT_STRING_CHARS - 1, 0);
    length_bound(UW_LIMIT_STRING_CHARS, 0);
    length_bound(UW_LIMIT_STRING_CHARS + 1, 1);
}

static void test_malformed(void **state)
{
    fake_proc fp;
    uint64_t a;
    static const uint32_t bad4[] = {0x110000};
    int trunc;
    (void)state;
    fp_init(&fp, 13);
    /* over-long: claims 1<<40 code points (only the bound is read, and the
     * object is too short: the read comes back short) */
    a = fp_str(&fp, "short");
    fp_put64(&fp, a + (uint64_t)fp.l->unicode_length, 1ull << 40);
    assert_int_equal(rd(&fp, a, &trunc), UW_ERR_READ_SHORT);
    /* negative length */
    fp_put64(&fp, a + (uint64_t)fp.l->unicode_length, (uint64_t)-5);
    assert_int_equal(rd(&fp, a, &trunc), UW_ERR_STRING);
    /* kind 3 */
    a = fp_str(&fp, "abc");
    fp_put32(&fp, a + (uint64_t)fp.l->unicode_state,
             (uint32_t)fp.l->unicode_compact_mask | (3u << fp.l->unicode_kind_shift));
    assert_int_equal(rd(&fp, a, &trunc), UW_ERR_STRING);
    /* not compact */
    fp_put32(&fp, a + (uint64_t)fp.l->unicode_state, 1u << fp.l->unicode_kind_shift);
    assert_int_equal(rd(&fp, a, &trunc), UW_ERR_STRING);
    /* ASCII flag with a high byte */
    a = fp_str(&fp, "abc");
    fp_put8(&fp, a + (uint64_t)fp.l->unicode_ascii_data + 1, 0xff);
    assert_int_equal(rd(&fp, a, &trunc), UW_ERR_STRING);
    /* code point above U+10FFFF */
    assert_int_equal(rd(&fp, fp_str_kind(&fp, bad4, 1, 4), &trunc), UW_ERR_STRING);
    /* truncated object: header runs into unmapped memory */
    a = fp_alloc(&fp, 20);
    assert_int_equal(rd(&fp, a, &trunc), UW_ERR_READ_SHORT);
    /* unmapped */
    assert_int_equal(rd(&fp, 0x10, &trunc), UW_ERR_READ_FAULT);
    fp_free(&fp);
}

/* tp_name in one read after its pointer; at the end of a mapping the
 * short read is followed byte by byte; a pointer to nothing mapped ends at
 * the fault, with no byte-by-byte try (a fault says the first byte is
 * unreadable: reader.h), so a freed type costs two reads, not three. */
static void test_type_name(void **state)
{
    char name[64];
    uw_pytypes types;
    fake_proc fp;
    uw_pyctx c;
    uint64_t t, edge, reads;
    (void)state;
    fp_init(&fp, 13);
    memset(&types, 0, sizeof types);
    c = (uw_pyctx){&fp.reader, fp.l, &types};
    t = fp_type(&fp, "_asyncio.Task", 0);
    reads = fp.reads;
    assert_int_equal(uw__type_name(&c, t, name, sizeof name), 0);
    assert_string_equal(name, "_asyncio.Task");
    assert_int_equal(fp.reads - reads, 2);

    edge = fp_alloc(&fp, 4); /* "abc" and its NUL end the mapping */
    memcpy(fp_ptr(&fp, edge, 4), "abc", 4);
    fp_put64(&fp, t + (uint64_t)fp.l->type_name, edge);
    assert_int_equal(uw__type_name(&c, t, name, sizeof name), 0);
    assert_string_equal(name, "abc");

    fp_put64(&fp, t + (uint64_t)fp.l->type_name, 0x10);
    reads = fp.reads;
    assert_int_equal(uw__type_name(&c, t, name, sizeof name), UW_ERR_READ_FAULT);
    assert_int_equal(fp.reads - reads, 2);
    fp_free(&fp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kinds),
        cmocka_unit_test(test_bound),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_type_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
