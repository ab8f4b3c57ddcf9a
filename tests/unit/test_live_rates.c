/*
 * test_live_rates.c — the live-rates file verify prints beside the
 * realistic model (model/live_rates.h): a good file read whole, each kind
 * of bad line refused with its number, the line bound at 0/+1, a missing
 * file an I/O error, and the print choosing rows by workload and minor.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "live_rates.h"
#include "tornstack/error.h"

static char path[64];

/* Write `text` to a temporary file named in `path`. */
static void put(const char *text)
{
    int fd;
    FILE *f;

    strcpy(path, "/tmp/tornstack-live-rates-XXXXXX");
    fd = mkstemp(path);
    assert_true(fd >= 0);
    f = fdopen(fd, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

static int teardown(void **state)
{
    (void)state;
    if (path[0] != '\0')
        unlink(path);
    path[0] = '\0';
    return 0;
}

static void test_good(void **state)
{
    static mm_live_rates lr;
    size_t bad = 99;
    char *buf = NULL;
    size_t len = 0;
    FILE *out;

    (void)state;
    put("# bias.sh 3 100 16 at abc\n# workload\tpython\tskip%\trecov%\n\n"
        "busy\t3.11.7\t1.55\t0.03\nbusy\t3.11.2\t6.81\t0.14\nrace\t3.11.7\t8.36\t19.28\n"
        "busy\t3.12.1\t0.53\t0.05");
    assert_int_equal(mm_live_rates_read(path, &lr, &bad), 0);
    assert_int_equal(bad, 0);
    assert_int_equal(lr.n, 4);
    assert_string_equal(lr.source, "bias.sh 3 100 16 at abc");
    assert_int_equal(lr.r[1].minor, 11);
    assert_string_equal(lr.r[1].python, "3.11.2");
    assert_true(lr.r[1].skip > 6.80 && lr.r[1].skip < 6.82);
    assert_int_equal(lr.r[3].minor, 12); /* a last line with no newline */
    out = open_memstream(&buf, &len);
    assert_non_null(out);
    assert_int_equal(mm_live_rates_print(out, &lr, "busy", 11), 2);
    assert_int_equal(mm_live_rates_print(out, &lr, "race", 12), 0);
    fclose(out);
    assert_non_null(strstr(buf, "3.11.7"));
    assert_non_null(strstr(buf, "6.81%"));
    assert_null(strstr(buf, "19.28"));
    free(buf);
}

static void test_bad_lines(void **state)
{
    static const char *const bad_text[] = {
        "busy\t3.12.1\t0.5\n",         /* three fields */
        "busy\t3.12.1\t0.5\t0.1\t9\n", /* five */
        "busy\t2.7.18\t0.5\t0.1\n",    /* not 3.x */
        "busy\t3.12.1\tfast\t0.1\n",   /* not a number */
        "busy\t3.12.1\t100.5\t0.1\n",  /* past 100 % */
        "busy\t3.12.1\t-1\t0.1\n",     /* below 0 */
        "busy 3.12.1 0.5 0.1\n",       /* spaces, not tabs */
        "a-workload-name-too-long\t3.12.1\t0.5\t0.1\n",
    };
    static mm_live_rates lr;
    size_t i, bad;

    (void)state;
    for (i = 0; i < sizeof bad_text / sizeof bad_text[0]; i++) {
        char text[256];
        snprintf(text, sizeof text, "# source\nbusy\t3.11.7\t1\t2\n%s", bad_text[i]);
        put(text);
        bad = 0;
        assert_int_equal(mm_live_rates_read(path, &lr, &bad), UW_ERR_INVALID_ARG);
        assert_int_equal(bad, 3);
        assert_int_equal(lr.n, 0);
        teardown(NULL);
    }
}

/* MM_LIVE_RATES_MAX rows are read; one more is refused at its line. */
static void test_line_bound(void **state)
{
    static mm_live_rates lr;
    char *text = malloc(64 * (MM_LIVE_RATES_MAX + 2));
    size_t i, bad, at = 0;

    (void)state;
    assert_non_null(text);
    for (i = 0; i < MM_LIVE_RATES_MAX; i++)
        at += (size_t)sprintf(text + at, "busy\t3.%zu.0\t1\t2\n", 11 + i % 5);
    put(text);
    assert_int_equal(mm_live_rates_read(path, &lr, &bad), 0);
    assert_int_equal(lr.n, MM_LIVE_RATES_MAX);
    teardown(NULL);
    sprintf(text + at, "busy\t3.12.0\t1\t2\n");
    put(text);
    assert_int_equal(mm_live_rates_read(path, &lr, &bad), UW_ERR_INVALID_ARG);
    assert_int_equal(bad, MM_LIVE_RATES_MAX + 1);
    free(text);
}

static void test_missing(void **state)
{
    static mm_live_rates lr;
    size_t bad = 7;

    (void)state;
    assert_int_equal(mm_live_rates_read("/nonexistent/tornstack/rates.tsv", &lr, &bad), UW_ERR_IO);
    assert_int_equal(bad, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_good, teardown),
        cmocka_unit_test_teardown(test_bad_lines, teardown),
        cmocka_unit_test_teardown(test_line_bound, teardown),
        cmocka_unit_test_teardown(test_missing, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
