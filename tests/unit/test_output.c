/*
 * test_output.c — the text and JSON writers of a sample (src/output.c):
 * names, file names and Task names come from target memory, and a
 * newline, a carriage return or a terminal escape sequence in one of them
 * must not forge a line of the text output or reach the terminal raw,
 * nor break the JSON.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hand_sample.h"
#include "tornstack/limits.h"
#include "tornstack/output.h"
#include "tornstack/target.h"

/* What writer `json` (or text) makes of h's sample; the caller frees it. */
static char *written(const hand_sample *h, int json)
{
    uw_target t;
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);

    assert_non_null(m);
    memset(&t, 0, sizeof t);
    t.pid = 42;
    t.py_version = 0x030c01f0;
    assert_int_equal(json ? uw_output_json(m, &t, &h->s) : uw_output_text(m, &t, &h->s), 0);
    assert_int_equal(fclose(m), 0);
    return buf;
}

/* A thread whose frame name holds a newline and a forged frame line, a
 * file name with an escape sequence, and a Task named with a carriage
 * return and a backslash: every control character is shown escaped, one
 * frame and one Task make one line each. */
static void test_text_escapes(void **state)
{
    static const char *const thread_frames[] = {"main", "evil\n    fake (/app/fake.py:1)"};
    static const char *const task_frames[] = {"job\x1b[2Jclear"};
    hand_sample h;
    char *text, *json;
    size_t lines = 0;
    const char *p;
    (void)state;

    hs_init(&h);
    hs_thread(&h, 7, thread_frames, 2, -1);
    hs_task(&h, 0, "t\r1\\x", -1, task_frames, 1);
    text = written(&h, 0);
    for (p = text; *p != '\0'; p++) {
        lines += *p == '\n';
        assert_true(*p == '\n' || (unsigned char)*p >= 0x20 || *p == '\t');
        assert_true(*p != 0x1b && *p != '\r');
    }
    assert_non_null(strstr(text, "evil\\n    fake (/app/fake.py:1) (/app/evil\\n"));
    assert_non_null(strstr(text, "job\\x1b[2Jclear ("));
    assert_non_null(strstr(text, "t\\r1\\\\x 0x"));
    assert_null(strstr(text, "\n    fake"));
    /* the header, a blank line, the thread, its two frames, a blank line,
     * the Tasks' heading, the Task and its frame */
    assert_int_equal(lines, 9);
    json = written(&h, 1);
    assert_non_null(strstr(json, "\"evil\\n    fake (/app/fake.py:1)\""));
    assert_non_null(strstr(json, "\"job\\u001b[2Jclear\""));
    assert_non_null(strstr(json, "\"t\\u000d1\\\\x\""));
    free(text);
    free(json);
    hs_free(&h);
}

/* The Task tree as `tree` draws it: siblings still to come "├── ", the
 * last "└── ", and a "│" kept through the frames and children of each
 * Task whose siblings are still to come.  A and E are roots; B, C (and D
 * under C) are A's; F and G name each other as parent, so F, the first
 * of them, is a root of its own and the cycle ends at G; H, a Task of the
 * second thread whose parent is A, is written under A and not again under
 * its own thread (whose heading still counts it). */
static void test_text_tree(void **state)
{
    static const char *const main_frames[] = {"main"};
    static const char *const a[] = {"a"}, *const b[] = {"b"}, *const c[] = {"c"},
                             *const d[] = {"d"}, *const f[] = {"f"}, *const hh[] = {"h"};
    static const char want[] = "\nTasks of thread 7 (loop 0x0): 7\n"
                               "  ├── A 0x5000 (?)\n"
                               "  │   │   a (/app/a.py:10)\n"
                               "  │   ├── B 0x5100 (?)\n"
                               "  │   │       b (/app/b.py:10)\n"
                               "  │   ├── C 0x5200 (?)\n"
                               "  │   │   │   c (/app/c.py:10)\n"
                               "  │   │   └── D 0x5300 (?)\n"
                               "  │   │           d (/app/d.py:10)\n"
                               "  │   └── H 0x5700 (?)\n"
                               "  │           h (/app/h.py:10)\n"
                               "  ├── E 0x5400 (?)\n"
                               "  └── F 0x5500 (?)\n"
                               "      │   f (/app/f.py:10)\n"
                               "      └── G 0x5600 (?)\n"
                               "\nTasks of thread 8 (loop 0x0): 1\n";
    hand_sample h;
    char *text;
    const char *tree;
    (void)state;

    hs_init(&h);
    hs_thread(&h, 7, main_frames, 1, -1);
    hs_thread(&h, 8, main_frames, 1, -1);
    hs_task(&h, 0, "A", -1, a, 1);
    hs_task(&h, 0, "B", 0, b, 1);
    hs_task(&h, 0, "C", 0, c, 1);
    hs_task(&h, 0, "D", 2, d, 1);
    hs_task(&h, 0, "E", -1, NULL, 0);
    hs_task(&h, 0, "F", 6, f, 1);
    hs_task(&h, 0, "G", 5, NULL, 0);
    hs_task(&h, 1, "H", 0, hh, 1);
    text = written(&h, 0);
    tree = strstr(text, "\nTasks of thread");
    assert_non_null(tree);
    assert_string_equal(tree, want);
    free(text);
    hs_free(&h);
}

/* A chain of Tasks deeper than UW_LIMIT_LINK_CHAIN: the Task past the
 * bound starts a tree of its own, written as the last root; and every
 * Task of the chain is written once. */
static void test_text_tree_depth_bound(void **state)
{
    static const char *const main_frames[] = {"main"};
    const size_t n = UW_LIMIT_LINK_CHAIN + 3;
    hand_sample h;
    char *text, name[32], want[64];
    const char *p;
    size_t i, lines = 0;
    (void)state;

    hs_init(&h);
    hs_thread(&h, 7, main_frames, 1, -1);
    for (i = 0; i < n; i++) {
        snprintf(name, sizeof name, "t%zu", i);
        hs_task(&h, 0, name, (int64_t)i - 1, NULL, 0);
    }
    text = written(&h, 0);
    p = strstr(text, "\nTasks of thread");
    assert_non_null(p);
    for (; *p != '\0'; p++)
        lines += *p == '\n';
    assert_int_equal(lines, n + 2); /* the blank line, the heading, a line a Task */
    /* t0 is a root with a root after it; the first Task past the bound is
     * the last root, and its one child is its last */
    assert_non_null(strstr(text, "\n  ├── t0 0x"));
    snprintf(want, sizeof want, "\n  └── t%d 0x", UW_LIMIT_LINK_CHAIN + 1);
    assert_non_null(strstr(text, want));
    snprintf(want, sizeof want, "\n      └── t%d 0x", UW_LIMIT_LINK_CHAIN + 2);
    assert_non_null(strstr(text, want));
    free(text);
    hs_free(&h);
}

/* UW_LIMIT_TASKS Tasks under one root: each written once, the last child
 * last (the tree is written from child lists, not a scan per Task). */
static void test_text_tree_many(void **state)
{
    static const char *const main_frames[] = {"main"};
    hand_sample h;
    char *text, want[64];
    const char *p;
    size_t i, lines = 0, mid = 0;
    (void)state;

    hs_init(&h);
    hs_thread(&h, 7, main_frames, 1, -1);
    hs_task(&h, 0, "root", -1, NULL, 0);
    for (i = 1; i < UW_LIMIT_TASKS; i++)
        hs_task(&h, 0, "leaf", 0, NULL, 0);
    text = written(&h, 0);
    p = strstr(text, "\nTasks of thread");
    assert_non_null(p);
    for (; *p != '\0'; p++) {
        lines += *p == '\n';
        mid += strncmp(p, "\n      ├── leaf 0x", strlen("\n      ├── leaf 0x")) == 0;
    }
    assert_int_equal(lines, (size_t)UW_LIMIT_TASKS + 2);
    assert_int_equal(mid, (size_t)UW_LIMIT_TASKS - 2);
    snprintf(want, sizeof want, "\n      └── leaf 0x%x (?)\n",
             (unsigned)(0x5000 + 0x100 * (UW_LIMIT_TASKS - 1)));
    assert_non_null(strstr(text, want));
    free(text);
    hs_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_escapes),
        cmocka_unit_test(test_text_tree),
        cmocka_unit_test(test_text_tree_depth_bound),
        cmocka_unit_test(test_text_tree_many),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
