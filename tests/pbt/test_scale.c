/*
 * test_scale.c — the Task walk at the sizes real programs reach, up to and
 * past UW_LIMIT_TASKS, on every version.
 *
 * The still model (model/still.h) fabricates a loop thread and N Tasks,
 * each suspended in one coroutine that awaits a Future of its own (as
 * thousands of Tasks waiting on one asyncio.Event do), registered in
 * asyncio's WeakSet as on a live process.  One sample must list every Task
 * with its frame, nothing skipped, up to UW_LIMIT_TASKS; past it, the
 * sample says task_limit and still lists the first UW_LIMIT_TASKS.
 *
 * The Task walk once queued up to three reads per Task at each await level
 * into bookkeeping sized one per Task: from about 5,500 Tasks (3.11/3.12;
 * 8,200 on 3.13) it wrote past its buffers and corrupted the heap.
 */
#define _POSIX_C_SOURCE 200809L /* fmemopen */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "still.h"
#include "tornstack/error.h"
#include "tornstack/limits.h"

/* A description of n Tasks "T<i>", each in coroutine "wait_<i % 7>". */
static char *scale_desc(size_t n, size_t *len)
{
    size_t cap = 128 + n * 64, k = 0, i;
    char *d = malloc(cap);

    assert_non_null(d);
    k += (size_t)snprintf(d + k, cap - k,
                          "loop\tBaseEventLoop.run_forever\t/a/base_events.py\t600\n"
                          "loop\tmain\t/app/main.py\t3\n");
    for (i = 0; i < n; i++)
        k += (size_t)snprintf(d + k, cap - k, "task\tt%zu\tT%zu\nframe\twait_%zu\t/app/w.py\t%zu\n",
                              i, i, i % 7, 10 + i % 7);
    assert_true(k < cap);
    *len = k;
    return d;
}

/* One sample of n Tasks on 3.<minor>: every Task (or the first
 * UW_LIMIT_TASKS and task_limit) with its one frame. */
static void scale_run(int minor, size_t n)
{
    size_t len, i, want = n < UW_LIMIT_TASKS ? n : UW_LIMIT_TASKS;
    char *text = scale_desc(n, &len);
    FILE *f = fmemopen(text, len, "r");
    mm_still *d = NULL;
    mm_still_run run;

    assert_non_null(f);
    assert_int_equal(mm_still_parse(f, &d), 0);
    fclose(f);
    assert_int_equal(mm_still_sample(&run, d, minor), 0);
    assert_int_equal(run.s.tasks_error, n > UW_LIMIT_TASKS ? UW_ERR_LIMIT_TASKS : 0);
    assert_int_equal(run.s.n_tasks, want);
    for (i = 0; i < run.s.n_tasks; i++) {
        const uw_task_sample *ts = &run.s.tasks[i];
        const uw_frame *fr;
        if (ts->skipped != 0 || ts->truncated != 0 || ts->n_frames != 1)
            fail_msg("3.%d, %zu Tasks: Task %zu (%s) skipped %s, truncated %s, %zu frames", minor,
                     n, i, ts->name, uw_errname(ts->skipped), uw_errname(ts->truncated),
                     ts->n_frames);
        fr = &run.s.frames[ts->first_frame];
        assert_int_equal(strncmp(uw_frame_name(fr), "wait_", 5), 0);
        assert_int_equal(ts->name[0], 'T');
    }
    mm_still_end(&run);
    mm_still_free(d);
    free(text);
}

/* The sizes at which the Task walk once corrupted its heap.  They are
 * below UW_LIMIT_TASKS by default; in a build with smaller bounds (the
 * small-limits preset) they are far past it, where the registry set itself
 * is over UW_LIMIT_SET_SLOTS, and test_task_limit covers the bound. */
static int below_bounds(size_t n)
{
    if (n <= UW_LIMIT_TASKS)
        return 1;
    print_message("skipped: %zu Tasks is past UW_LIMIT_TASKS (%d) in this build; "
                  "test_task_limit runs the bound\n",
                  n, (int)UW_LIMIT_TASKS);
    return 0;
}

static void test_6000_tasks(void **state)
{
    int minor;
    (void)state;
    if (!below_bounds(6000))
        skip();
    for (minor = 11; minor <= 15; minor++)
        scale_run(minor, 6000);
}

static void test_9000_tasks(void **state)
{
    (void)state;
    if (!below_bounds(9000))
        skip();
    scale_run(13, 9000);
}

/* UW_LIMIT_TASKS - 1, UW_LIMIT_TASKS and UW_LIMIT_TASKS + 1. */
static void test_task_limit(void **state)
{
    int minor;
    (void)state;
    for (minor = 11; minor <= 15; minor++) {
        scale_run(minor, UW_LIMIT_TASKS - 1);
        scale_run(minor, UW_LIMIT_TASKS);
        scale_run(minor, UW_LIMIT_TASKS + 1);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_6000_tasks),
        cmocka_unit_test(test_9000_tasks),
        cmocka_unit_test(test_task_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
