/*
 * test_linetable.c — location-table decoding: every entry form, the
 * bound, and malformed tables (truncated entries, bad varints, bytes that
 * start an entry where a payload byte belongs).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tornstack/error.h"
#include "tornstack/limits.h"
#include "internal/linetable.h"

static int line_at(const uint8_t *t, size_t n, int first, int64_t index)
{
    int line = -99;
    assert_int_equal(uw__linetable_line(t, n, first, index, &line), 0);
    return line;
}

static void test_forms(void **state)
{
    /* unit 0-1: short form (code 3, len 2), col byte;
     * unit 2:   one-line form code 11 (+1), col, endcol;
     * unit 3-5: no-column form code 13 len 3, svarint -3 (v = 7);
     * unit 6:   no location (code 15);
     * unit 7:   long form code 14: svarint +40 (v = 80 = 0x50: 0x10|0x40, 0x01),
     *           end-line 0, col+1 5, endcol+1 9. */
    static const uint8_t t[] = {
        0x80 | (3 << 3) | 1,
        0x05,
        0x80 | (11 << 3) | 0,
        0x02,
        0x09,
        0x80 | (13 << 3) | 2,
        0x07,
        0x80 | (15 << 3) | 0,
        0x80 | (14 << 3) | 0,
        0x50,
        0x01,
        0x00,
        0x05,
        0x09,
    };
    (void)state;
    assert_int_equal(line_at(t, sizeof t, 100, 0), 100);
    assert_int_equal(line_at(t, sizeof t, 100, 1), 100);
    assert_int_equal(line_at(t, sizeof t, 100, 2), 101);
    assert_int_equal(line_at(t, sizeof t, 100, 3), 98);
    assert_int_equal(line_at(t, sizeof t, 100, 5), 98);
    assert_int_equal(line_at(t, sizeof t, 100, 6), -1);
    assert_int_equal(line_at(t, sizeof t, 100, 7), 138);
    assert_int_equal(line_at(t, sizeof t, 100, 8), -1); /* past the end */
    /* before the first unit (a frame not started): the first line, as
     * CPython's PyCode_Addr2Line gives for a negative offset */
    assert_int_equal(line_at(t, sizeof t, 100, -1), 100);
    assert_int_equal(line_at(NULL, 0, 100, 0), -1);
}

static void test_malformed(void **state)
{
    int line;
    /* payload byte where an entry must start */
    static const uint8_t a[] = {0x05};
    /* one-line form missing its end column */
    static const uint8_t b[] = {0x80 | (10 << 3), 0x02};
    /* varint continuing past the end */
    static const uint8_t c[] = {0x80 | (13 << 3), 0x40};
    /* varint longer than 32 bits */
    static const uint8_t d[] = {0x80 | (13 << 3), 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x01};
    /* entry start byte inside a payload */
    static const uint8_t e[] = {0x80 | (13 << 3), 0x80};
    (void)state;
    assert_int_equal(uw__linetable_line(a, sizeof a, 1, 0, &line), UW_ERR_LINETABLE);
    assert_int_equal(uw__linetable_line(b, sizeof b, 1, 0, &line), UW_ERR_LINETABLE);
    assert_int_equal(uw__linetable_line(c, sizeof c, 1, 0, &line), UW_ERR_LINETABLE);
    assert_int_equal(uw__linetable_line(d, sizeof d, 1, 0, &line), UW_ERR_LINETABLE);
    assert_int_equal(uw__linetable_line(e, sizeof e, 1, 0, &line), UW_ERR_LINETABLE);
    assert_int_equal(uw__linetable_line(a, sizeof a, 1, 0, NULL), UW_ERR_INVALID_ARG);
}

/* Line overflowing int range from repeated big deltas. */
static void test_overflow(void **state)
{
    uint8_t t[8 * 4];
    size_t n = 0, i;
    int line;
    (void)state;
    /* +2^30 each (v = 2^31 -> 6 groups): the third entry passes INT_MAX,
     * in a table far below UW_LIMIT_LINETABLE_BYTES (28 bytes) */
    for (i = 0; i < 4; i++) {
        uint32_t v = 1u << 31;
        t[n++] = 0x80 | (13 << 3);
        while (v) {
            uint8_t b = v & 0x3f;
            v >>= 6;
            t[n++] = (uint8_t)(b | (v ? 0x40 : 0));
        }
    }
    assert_int_equal(uw__linetable_line(t, n, 1, 3, &line), UW_ERR_LINETABLE);
}

static void bound(size_t len, int want)
{
    uint8_t *t = malloc(len + 1);
    int line;
    memset(t, 0xf8, len + 1); /* no-location entries */
    assert_int_equal(uw__linetable_line(t, len, 1, (int64_t)len + 5, &line), want);
    free(t);
}

static void test_bound(void **state)
{
    (void)state;
    bound(UW_LIMIT_LINETABLE_BYTES - 1, 0);
    bound(UW_LIMIT_LINETABLE_BYTES, 0);
    bound(UW_LIMIT_LINETABLE_BYTES + 1, UW_ERR_LIMIT_LINETABLE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forms),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_overflow),
        cmocka_unit_test(test_bound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
