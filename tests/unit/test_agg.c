/*
 * test_agg.c — record's aggregation of folded stacks (src/cli/agg.c):
 * counts per distinct stack, in order of first sight, across table growth,
 * with colliding prefixes and at 100,000 distinct stacks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli/cli.h"

/* The aggregate as printed, into a malloc'd string. */
static char *agg_text(const ts_agg *g)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    assert_non_null(f);
    ts_agg_print(g, f);
    fclose(f);
    return buf;
}

static void test_counts_in_order(void **state)
{
    ts_agg *g = ts_agg_new();
    char *text;

    (void)state;
    assert_non_null(g);
    ts_agg_add(g, "main;a");
    ts_agg_add(g, "main;b");
    ts_agg_add(g, "main;a");
    ts_agg_add(g, "main");
    ts_agg_add(g, "main;a");
    ts_agg_add(g, "");
    assert_int_equal(ts_agg_count(g), 4);
    text = agg_text(g);
    assert_string_equal(text, "main;a 3\nmain;b 1\nmain 1\n 1\n");
    assert_false(ts_agg_oom(g));
    free(text);
    ts_agg_free(g);
}

/* 100,000 distinct stacks, each seen 1 + i % 3 times, interleaved. */
static void test_many_stacks(void **state)
{
    const size_t n = 100000;
    ts_agg *g = ts_agg_new();
    char line[64];
    size_t i, r;
    char *text, *p;

    (void)state;
    assert_non_null(g);
    for (r = 0; r < 3; r++)
        for (i = 0; i < n; i++)
            if (r <= i % 3) {
                snprintf(line, sizeof line, "main;work_%zu;leaf", i);
                ts_agg_add(g, line);
            }
    assert_int_equal(ts_agg_count(g), n);
    text = agg_text(g);
    for (i = 0, p = text; i < n; i++) {
        char want[80];
        size_t k = (size_t)snprintf(want, sizeof want, "main;work_%zu;leaf %zu\n", i, 1 + i % 3);
        assert_memory_equal(p, want, k);
        p += k;
    }
    assert_int_equal(*p, '\0');
    free(text);
    ts_agg_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts_in_order),
        cmocka_unit_test(test_many_stacks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
