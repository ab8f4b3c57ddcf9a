/*
 * test_tvd.c — the total variation distance of folded profiles
 * (src/profile/tvd.c): hand-computed distances as exact fractions, the
 * function level, malformed input with its line number, every bound at
 * -1/0/+1, and properties (symmetry, scale invariance, triangle
 * inequality, agreement with a floating-point sum) over seeded random
 * profiles.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal/tvd.h"
#include "tornstack/error.h"
#include "tornstack/limits.h"

/* Load two profiles given as text (lines separated by '\n'). */
static uw__tvd *load(unsigned flags, const char *a, const char *b)
{
    uw__tvd *t = NULL;
    const char *src[2] = {a, b};
    int side;

    assert_int_equal(uw__tvd_new(flags, &t), 0);
    for (side = 0; side < 2; side++) {
        FILE *f = fmemopen((void *)(uintptr_t)src[side], strlen(src[side]), "r");
        uint64_t line = 99;
        assert_non_null(f);
        assert_int_equal(uw__tvd_read(t, side, f, UW_TVD_LIMIT_LINES, &line), 0);
        assert_int_equal(line, 0);
        fclose(f);
    }
    return t;
}

static void expect_tvd(unsigned flags, const char *a, const char *b, const char *exact,
                       double value)
{
    uw__tvd *t = load(flags, a, b);
    uw__tvd_result r;
    assert_int_equal(uw__tvd_compute(t, &r), 0);
    assert_string_equal(r.exact, exact);
    assert_true(fabs(r.tvd - value) < 1e-15);
    uw__tvd_free(t);
}

static void test_known(void **state)
{
    (void)state;
    /* identical: 0 */
    expect_tvd(0, "a;b 1\na;c 2\n", "a;b 1\na;c 2\n", "0/1", 0.0);
    /* the same distribution at another scale: 0 */
    expect_tvd(0, "a;b 1\na;c 2\n", "a;c 14\na;b 7\n", "0/1", 0.0);
    /* disjoint: 1 */
    expect_tvd(0, "a;b 5\n", "a;c 1\nd 2\n", "1/1", 1.0);
    /* pA = (1/3, 2/3, 0), pB = (1/2, 0, 1/2):
     * (|1/3 - 1/2| + 2/3 + 1/2) / 2 = (1/6 + 4/6 + 3/6) / 2 = 2/3 */
    expect_tvd(0, "a;b 1\na;c 2\n", "a;b 1\nd 1\n", "2/3", 2.0 / 3.0);
    /* pA = (3/4, 1/4, 0), pB = (1/4, 1/4, 1/2): (1/2 + 0 + 1/2) / 2 = 1/2 */
    expect_tvd(0, "x 3\ny 1\n", "x 1\ny 1\nz 2\n", "1/2", 0.5);
    /* duplicate lines add up: A is x 3, y 1 again */
    expect_tvd(0, "x 1\ny 1\nx 2\n", "x 1\ny 1\nz 2\n", "1/2", 0.5);
    /* counts at the bound stay exact: pA = (1/2, 1/2), pB = (1/4, 3/4) */
    {
        char a[128];
        snprintf(a, sizeof a, "a %llu\nb %llu\n", (unsigned long long)(UW_TVD_LIMIT_TOTAL / 2),
                 (unsigned long long)(UW_TVD_LIMIT_TOTAL / 2));
        expect_tvd(0, a, "a 1\nb 3\n", "1/4", 0.25);
    }
    /* blank lines, CRLF, a last line without newline, zero counts */
    expect_tvd(0, "\r\na;b 1\r\n   \n\na;c 2", "a;b 1\nnever 0\na;c 2\n", "0/1", 0.0);
}

static void test_functions(void **state)
{
    const char *a = "<module> (app.py:3);f (app.py:10);g (app.py:20) 3\n"
                    "<module> (app.py:3);f (app.py:11);g (app.py:21) 1\n";
    const char *b = "<module> (app.py:4);f (app.py:12);g (app.py:-1) 2\n";
    uw__tvd *t;
    uw__tvd_entry e[4];
    size_t n = 0;
    (void)state;

    expect_tvd(0, a, b, "1/1", 1.0);
    expect_tvd(UW_TVD_FUNCTIONS, a, b, "0/1", 0.0);
    t = load(UW_TVD_FUNCTIONS, a, b);
    assert_int_equal(uw__tvd_top(t, 4, e, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(e[0].stack, "<module> (app.py);f (app.py);g (app.py)");
    assert_int_equal(e[0].count[0], 4);
    assert_int_equal(e[0].count[1], 2);
    uw__tvd_free(t);
    /* frames of other shapes are left alone; a colon in the file name stays */
    t = load(UW_TVD_FUNCTIONS, "f;g (x:y.py:7);h (z.py:);k (q.py:a1) 1\n", "f 1\n");
    assert_int_equal(uw__tvd_top(t, 4, e, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(e[0].stack, "f");
    assert_string_equal(e[1].stack, "f;g (x:y.py);h (z.py:);k (q.py:a1)");
    uw__tvd_free(t);
    /* function level merges stacks of A with each other too */
    expect_tvd(UW_TVD_FUNCTIONS, "f (a:1) 1\nf (a:2) 1\ng (a:1) 2\n", "f (a:9) 1\ng (a:9) 1\n",
               "0/1", 0.0);
}

static void test_top(void **state)
{
    uw__tvd *t = load(0, "a 1\nb 2\nc 1\nd 4\n", "a 2\nb 2\nc 2\ne 2\n");
    uw__tvd_entry e[8];
    size_t n = 0;
    (void)state;

    /* pA = (1/8, 2/8, 1/8, 4/8, 0), pB = (1/4, 1/4, 1/4, 0, 1/4):
     * contributions d 1/2, e 1/4, a 1/8, c 1/8, b 0; ties by text */
    assert_int_equal(uw__tvd_top(t, 8, e, &n), 0);
    assert_int_equal(n, 5);
    assert_string_equal(e[0].stack, "d");
    assert_string_equal(e[1].stack, "e");
    assert_string_equal(e[2].stack, "a");
    assert_string_equal(e[3].stack, "c");
    assert_string_equal(e[4].stack, "b");
    assert_true(e[0].p[0] == 0.5 && e[0].p[1] == 0.0);
    assert_int_equal(uw__tvd_top(t, 2, e, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(e[1].stack, "e");
    assert_int_equal(uw__tvd_top(t, 0, NULL, &n), 0);
    assert_int_equal(n, 0);
    uw__tvd_free(t);
}

static int add(uw__tvd *t, int side, const char *line)
{
    return uw__tvd_add_line(t, side, line, strlen(line));
}

static void test_malformed(void **state)
{
    static const char *bad[] = {"a;b", "a;b 1x", "a;b -1",   "a;b ",
                                " 5",  "a;b +3", "a;b 0x10", "a;b 1.5"};
    uw__tvd *t = NULL;
    uw__tvd_result r;
    size_t i;
    (void)state;

    assert_int_equal(uw__tvd_new(0, &t), 0);
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(add(t, 0, bad[i]), UW_ERR_FORMAT);
    /* nothing was added by the bad lines */
    assert_int_equal(add(t, 1, "x 1"), 0);
    assert_int_equal(uw__tvd_compute(t, &r), UW_ERR_FORMAT);
    assert_int_equal(r.total[0], 0);
    assert_int_equal(add(t, 0, "a b c 4"), 0); /* spaces inside frames are fine */
    assert_int_equal(uw__tvd_compute(t, &r), 0);
    assert_string_equal(r.exact, "1/1");
    assert_int_equal(add(t, 2, "x 1"), UW_ERR_INVALID_ARG);
    assert_int_equal(uw__tvd_new(2, &t), UW_ERR_INVALID_ARG);
    uw__tvd_free(t);

    /* the line number of the first bad line of a file */
    {
        const char *text = "a 1\n\nb 2\nc three\nd 4\n";
        FILE *f = fmemopen((void *)(uintptr_t)text, strlen(text), "r");
        uint64_t line = 0;
        assert_int_equal(uw__tvd_new(0, &t), 0);
        assert_int_equal(uw__tvd_read(t, 0, f, UW_TVD_LIMIT_LINES, &line), UW_ERR_FORMAT);
        assert_int_equal(line, 4);
        fclose(f);
        /* a NUL byte: not a text file */
        f = fmemopen((void *)(uintptr_t) "a 1\nb\0 2\n", 9, "r");
        assert_int_equal(uw__tvd_read(t, 1, f, UW_TVD_LIMIT_LINES, &line), UW_ERR_FORMAT);
        assert_int_equal(line, 2);
        fclose(f);
        uw__tvd_free(t);
    }
}

/* Each bound at -1, 0 and +1. */
static void test_bounds(void **state)
{
    uw__tvd *t = NULL;
    char line[64], *big;
    size_t len, i;
    int d;
    (void)state;

    /* one count, and the total of one side: at most 2^62 */
    assert_int_equal(uw__tvd_new(0, &t), 0);
    snprintf(line, sizeof line, "a %llu", (unsigned long long)UW_TVD_LIMIT_TOTAL + 1);
    assert_int_equal(add(t, 0, line), UW_ERR_LIMIT_TVD_TOTAL);
    snprintf(line, sizeof line, "a %llu", (unsigned long long)UW_TVD_LIMIT_TOTAL - 1);
    assert_int_equal(add(t, 0, line), 0);
    assert_int_equal(add(t, 0, "b 1"), 0); /* total = 2^62 */
    assert_int_equal(add(t, 0, "b 1"), UW_ERR_LIMIT_TVD_TOTAL);
    assert_int_equal(add(t, 0, "c 12345678901234567890"), UW_ERR_LIMIT_TVD_TOTAL);
    uw__tvd_free(t);

    /* one line: at most UW_TVD_LIMIT_LINE_BYTES bytes, through both entry
     * points (the file reader never holds more than that and a chunk) */
    big = malloc(UW_TVD_LIMIT_LINE_BYTES + 3);
    assert_non_null(big);
    for (d = -1; d <= 1; d++) {
        FILE *f;
        uint64_t no = 0;
        len = (size_t)(UW_TVD_LIMIT_LINE_BYTES + d);
        memset(big, 'f', len - 2);
        big[len - 2] = ' ';
        big[len - 1] = '1';
        big[len] = '\n';
        assert_int_equal(uw__tvd_new(0, &t), 0);
        assert_int_equal(uw__tvd_add_line(t, 0, big, len), d <= 0 ? 0 : UW_ERR_LIMIT_TVD_LINE);
        f = fmemopen(big, len + 1, "r");
        assert_non_null(f);
        assert_int_equal(uw__tvd_read(t, 1, f, UW_TVD_LIMIT_LINES, &no),
                         d <= 0 ? 0 : UW_ERR_LIMIT_TVD_LINE);
        assert_int_equal(no, d <= 0 ? 0 : 1);
        fclose(f);
        uw__tvd_free(t);
    }
    free(big);

    /* lines of one file: at most max_lines */
    for (d = -1; d <= 1; d++) {
        const char *text = "a 1\nb 1\nc 1\n";
        FILE *f = fmemopen((void *)(uintptr_t)text, strlen(text), "r");
        uint64_t no = 0;
        assert_int_equal(uw__tvd_new(0, &t), 0);
        assert_int_equal(uw__tvd_read(t, 0, f, (uint64_t)(3 + d), &no),
                         d < 0 ? UW_ERR_LIMIT_TVD_LINES : 0);
        assert_int_equal(no, d < 0 ? 3 : 0);
        fclose(f);
        uw__tvd_free(t);
    }

    /* distinct stacks: at most UW_TVD_LIMIT_STACKS, both sides together */
    assert_int_equal(uw__tvd_new(0, &t), 0);
    for (i = 0; i + 1 < UW_TVD_LIMIT_STACKS; i++) {
        snprintf(line, sizeof line, "s%zu 1", i);
        assert_int_equal(add(t, (int)(i & 1), line), 0);
    }
    assert_int_equal(add(t, 1, "last 1"), 0); /* the bound itself */
    assert_int_equal(add(t, 0, "s0 5"), 0);   /* a known stack still counts */
    assert_int_equal(add(t, 0, "one more 1"), UW_ERR_LIMIT_TVD_STACKS);
    {
        uw__tvd_result r;
        assert_int_equal(uw__tvd_compute(t, &r), 0);
        assert_int_equal(r.stacks_union, UW_TVD_LIMIT_STACKS);
    }
    uw__tvd_free(t);
}

/* Random profiles (seeded): the exact value agrees with a direct
 * floating-point sum, does not depend on the order of A and B or on a
 * scale factor, and obeys the triangle inequality. */
static uint64_t rng_state;

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static char *random_profile(uint64_t scale, unsigned stacks, double *p)
{
    char *text = malloc(64 * stacks + 1);
    size_t len = 0;
    uint64_t total = 0, c[16];
    unsigned i;

    assert_non_null(text);
    text[0] = '\0';
    for (i = 0; i < stacks; i++) {
        c[i] = rng() % 4 == 0 ? 0 : rng() % 50;
        total += c[i];
    }
    if (total == 0) {
        c[0] = 1;
        total = 1;
    }
    for (i = 0; i < stacks; i++) {
        p[i] = (double)c[i] / (double)total;
        if (c[i] > 0)
            len += (size_t)sprintf(text + len, "root;s%u %llu\n", i,
                                   (unsigned long long)(c[i] * scale));
    }
    return text;
}

static double tvd_of(const char *a, const char *b, char *exact)
{
    uw__tvd *t = load(0, a, b);
    uw__tvd_result r;
    assert_int_equal(uw__tvd_compute(t, &r), 0);
    if (exact != NULL)
        strcpy(exact, r.exact);
    uw__tvd_free(t);
    return r.tvd;
}

static void test_properties(void **state)
{
    const uint64_t seed = 0x7d5a11c3ull;
    unsigned round;
    (void)state;

    rng_state = seed;
    for (round = 0; round < 300; round++) {
        double pa[16], pb[16], pc[16], direct = 0;
        char ab[96], ba[96], a7b[96];
        unsigned stacks = 1 + (unsigned)(rng() % 16), i;
        char *a = random_profile(1, stacks, pa);
        char *b = random_profile(1, stacks, pb);
        char *c = random_profile(1, stacks, pc);
        char *a7;
        double d_ab, d_bc, d_ac;

        a7 = malloc(strlen(a) * 3 + 64);
        assert_non_null(a7);
        {
            /* A with every count times 7 */
            const char *s = a;
            size_t len = 0;
            unsigned k;
            unsigned long long v;
            a7[0] = '\0';
            while (sscanf(s, "root;s%u %llu\n", &k, &v) == 2) {
                len += (size_t)sprintf(a7 + len, "root;s%u %llu\n", k, v * 7);
                s = strchr(s, '\n') + 1;
            }
        }
        for (i = 0; i < stacks; i++)
            direct += fabs(pa[i] - pb[i]);
        direct /= 2;
        d_ab = tvd_of(a, b, ab);
        (void)tvd_of(b, a, ba);
        (void)tvd_of(a7, b, a7b);
        d_bc = tvd_of(b, c, NULL);
        d_ac = tvd_of(a, c, NULL);
        if (fabs(d_ab - direct) > 1e-12 || strcmp(ab, ba) != 0 || strcmp(ab, a7b) != 0 ||
            d_ac > d_ab + d_bc + 1e-12 || d_ab < 0 || d_ab > 1)
            fail_msg("seed %#llx round %u: tvd %s (%.17g) direct %.17g, reversed %s, A*7 %s, "
                     "d_ac %.17g d_bc %.17g\nA:\n%sB:\n%s",
                     (unsigned long long)seed, round, ab, d_ab, direct, ba, a7b, d_ac, d_bc, a, b);
        free(a);
        free(b);
        free(c);
        free(a7);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known),  cmocka_unit_test(test_functions),
        cmocka_unit_test(test_top),    cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_bounds), cmocka_unit_test(test_properties),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
