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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_escapes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
