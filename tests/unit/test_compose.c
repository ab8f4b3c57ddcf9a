/*
 * test_compose.c — the stacks users see (uw_compose) on samples built by
 * hand: where the Task and thread markers go, that removing them gives the
 * stack composed without them, skips by reason, and the item bound (of a
 * thread's stack, with and without markers, and of a Task's), the link
 * chain bound at -1/0/+1, and that a chain cut at a bound or a cycle gives
 * no stack (rule compose_whole_task).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hand_sample.h"
#include "tornstack/compose.h"
#include "tornstack/error.h"
#include "tornstack/limits.h"

/* A stack as text: frames by name, markers as "T:<task name>" and
 * "H:<native id>", joined by '|'. */
typedef struct collected {
    char *lines[16];
    int64_t task[16];
    size_t n;
} collected;

static char *stack_text(const uw_sample *s, const uw_stack *st)
{
    size_t cap = 64, len = 0, i;
    char *out = malloc(cap);

    assert_non_null(out);
    out[0] = '\0';
    for (i = 0; i < st->n; i++) {
        char item[300];
        const uw_stack_item *it = &st->items[i];
        size_t k;
        if (it->kind == UW_ITEM_FRAME)
            snprintf(item, sizeof item, "%s", uw_frame_name(it->frame));
        else if (it->kind == UW_ITEM_TASK)
            snprintf(item, sizeof item, "T:%s", s->tasks[it->index].name);
        else
            snprintf(item, sizeof item, "H:%llu",
                     (unsigned long long)s->threads[it->index].native_id);
        k = strlen(item);
        while (len + k + 2 > cap) {
            cap *= 2;
            out = realloc(out, cap);
            assert_non_null(out);
        }
        if (len > 0)
            out[len++] = '|';
        memcpy(out + len, item, k + 1);
        len += k;
    }
    return out;
}

typedef struct collect_ctx {
    const uw_sample *s;
    collected *c;
} collect_ctx;

static int collect(void *ctx, const uw_stack *st)
{
    collect_ctx *cc = ctx;

    assert_true(cc->c->n < 16);
    cc->c->task[cc->c->n] = st->task;
    cc->c->lines[cc->c->n++] = stack_text(cc->s, st);
    return 0;
}

static void collected_free(collected *c)
{
    size_t i;
    for (i = 0; i < c->n; i++)
        free(c->lines[i]);
    c->n = 0;
}

static void compose_all(const uw_sample *s, int task_items, int thread_items, collected *c,
                        uint32_t *skipped)
{
    uw_compose_options o;
    collect_ctx cc = {s, c};

    uw_compose_options_default(&o);
    o.task_items = task_items;
    o.thread_items = thread_items;
    memset(c, 0, sizeof *c);
    assert_int_equal(uw_compose(s, &o, collect, &cc, skipped), 0);
}

/* Thread 100 runs a loop (pure stack <module>, run, select) with Tasks
 * main <- batch <- fetch and main <- idle (no frames of its own); thread
 * 101 runs plain code. */
static void build_world(hand_sample *h)
{
    static const char *const loop[] = {"<module>", "run", "select"};
    static const char *const plain[] = {"_bootstrap", "work", "spin"};
    static const char *const f_main[] = {"main"};
    static const char *const f_batch[] = {"batch"};
    static const char *const f_fetch[] = {"fetch", "fetch_inner"};
    size_t t0, t1;

    hs_init(h);
    hs_thread(h, 100, loop, 3, 3);
    hs_thread(h, 101, plain, 3, -1);
    t0 = hs_task(h, 0, "Task-1", -1, f_main, 1);
    t1 = hs_task(h, 0, "batch-a", (int64_t)t0, f_batch, 1);
    hs_task(h, 0, "fetch;a\n0", (int64_t)t1, f_fetch, 2);
    hs_task(h, 0, "idle", (int64_t)t0, NULL, 0);
}

static void test_markers_by_default(void **state)
{
    hand_sample h;
    collected c;
    uw_compose_options o;

    (void)state;
    uw_compose_options_default(&o);
    assert_int_equal(o.task_items, 1);
    assert_int_equal(o.thread_items, 1);
    build_world(&h);
    compose_all(&h.s, 1, 1, &c, NULL);
    assert_int_equal(c.n, 3);
    assert_string_equal(c.lines[0], "H:100|<module>|run|select|T:Task-1|main|T:batch-a|batch|"
                                    "T:fetch;a\n0|fetch|fetch_inner");
    assert_int_equal(c.task[0], 2);
    assert_string_equal(c.lines[1], "H:100|<module>|run|select|T:Task-1|main|T:idle");
    assert_int_equal(c.task[1], 3);
    assert_string_equal(c.lines[2], "H:101|_bootstrap|work|spin");
    assert_int_equal(c.task[2], -1);
    collected_free(&c);
    hs_free(&h);
}

/* Each combination of options: the same stacks with exactly the markers
 * asked for; none of the frames moves. */
static void test_markers_change_nothing_else(void **state)
{
    static const char *const want[4][3] = {
        {"<module>|run|select|main|batch|fetch|fetch_inner", "<module>|run|select|main",
         "_bootstrap|work|spin"},
        {"<module>|run|select|T:Task-1|main|T:batch-a|batch|T:fetch;a\n0|fetch|fetch_inner",
         "<module>|run|select|T:Task-1|main|T:idle", "_bootstrap|work|spin"},
        {"H:100|<module>|run|select|main|batch|fetch|fetch_inner", "H:100|<module>|run|select|main",
         "H:101|_bootstrap|work|spin"},
        {"H:100|<module>|run|select|T:Task-1|main|T:batch-a|batch|T:fetch;a\n0|fetch|"
         "fetch_inner",
         "H:100|<module>|run|select|T:Task-1|main|T:idle", "H:101|_bootstrap|work|spin"},
    };
    hand_sample h;
    collected c;
    int k;

    (void)state;
    build_world(&h);
    for (k = 0; k < 4; k++) {
        size_t i;
        compose_all(&h.s, k & 1, (k >> 1) & 1, &c, NULL);
        assert_int_equal(c.n, 3);
        for (i = 0; i < 3; i++)
            assert_string_equal(c.lines[i], want[k][i]);
        collected_free(&c);
    }
    hs_free(&h);
}

/* A skipped ancestor takes its leaves' stacks with it, counted by reason;
 * other leaves keep theirs, markers and all. */
static void test_skip_with_markers(void **state)
{
    hand_sample h;
    collected c;
    uint32_t skipped[UW_REASON_SLOTS] = {0};

    (void)state;
    build_world(&h);
    h.s.tasks[1].skipped = UW_SKIP_TASK_CHANGED;
    compose_all(&h.s, 1, 1, &c, skipped);
    assert_int_equal(c.n, 2);
    assert_string_equal(c.lines[0], "H:100|<module>|run|select|T:Task-1|main|T:idle");
    assert_string_equal(c.lines[1], "H:101|_bootstrap|work|spin");
    assert_int_equal(skipped[uw_reason_slot(UW_SKIP_TASK_CHANGED)], 1);
    collected_free(&c);
    hs_free(&h);
}

static int count_stack(void *ctx, const uw_stack *st)
{
    size_t *n = ctx;
    *n = st->n;
    return 0;
}

/* A thread of `frames` frames composed with or without its marker: the
 * stack's length, or 0 when it was refused at UW_LIMIT_STACK_ITEMS. */
static size_t thread_stack_len(size_t frames, int thread_items, uint32_t *limit_skips)
{
    hand_sample h;
    const char **names = malloc(frames * sizeof *names);
    uw_compose_options o;
    uint32_t skipped[UW_REASON_SLOTS] = {0};
    size_t n = 0, i;

    assert_non_null(names);
    for (i = 0; i < frames; i++)
        names[i] = i == 0 ? "<module>" : "f";
    hs_init(&h);
    hs_thread(&h, 7, names, frames, -1);
    uw_compose_options_default(&o);
    o.thread_items = thread_items;
    assert_int_equal(uw_compose(&h.s, &o, count_stack, &n, skipped), 0);
    *limit_skips = skipped[uw_reason_slot(UW_ERR_LIMIT_STACK)];
    hs_free(&h);
    free(names);
    return n;
}

/* The marker is an item: it counts towards UW_LIMIT_STACK_ITEMS. */
static void test_item_bound(void **state)
{
    uint32_t lim;

    (void)state;
    assert_int_equal(thread_stack_len(UW_LIMIT_STACK_ITEMS - 1, 1, &lim), UW_LIMIT_STACK_ITEMS);
    assert_int_equal(lim, 0);
    assert_int_equal(thread_stack_len(UW_LIMIT_STACK_ITEMS, 1, &lim), 0);
    assert_int_equal(lim, 1);
    assert_int_equal(thread_stack_len(UW_LIMIT_STACK_ITEMS, 0, &lim), UW_LIMIT_STACK_ITEMS);
    assert_int_equal(lim, 0);
    assert_int_equal(thread_stack_len(UW_LIMIT_STACK_ITEMS + 1, 0, &lim), 0);
    assert_int_equal(lim, 1);
}

/* A leaf under a chain of `n` Tasks in all (leaf and ancestors): composed
 * up to UW_LIMIT_LINK_CHAIN Tasks; one more is refused with link_limit, and
 * uw_compose counts the leaf's stack under that reason. */
static void link_chain(size_t n)
{
    static const char *const loop[] = {"<module>", "run"};
    static const char *const own[] = {"f"};
    uint32_t skipped[UW_REASON_SLOTS] = {0};
    uw_stack_item *items = malloc(UW_LIMIT_STACK_ITEMS * sizeof *items);
    hand_sample h;
    size_t i, k = 0, got = 0;
    int64_t parent = -1;

    assert_non_null(items);
    hs_init(&h);
    hs_thread(&h, 7, loop, 2, 2);
    for (i = 0; i < n; i++)
        parent = (int64_t)hs_task(&h, 0, "t", parent, own, 1);
    assert_int_equal(uw_compose_task(&h.s, n - 1, NULL, items, UW_LIMIT_STACK_ITEMS, &k),
                     n <= UW_LIMIT_LINK_CHAIN ? 0 : UW_ERR_LIMIT_LINKS);
    if (n <= UW_LIMIT_LINK_CHAIN)
        assert_int_equal(k, 1 + 2 + 2 * n); /* thread, loop, each Task and its frame */
    assert_int_equal(uw_compose(&h.s, NULL, count_stack, &got, skipped), 0);
    assert_int_equal(skipped[uw_reason_slot(UW_ERR_LIMIT_LINKS)], n <= UW_LIMIT_LINK_CHAIN ? 0 : 1);
    hs_free(&h);
    free(items);
}

static void test_link_chain_bound(void **state)
{
    (void)state;
    link_chain(UW_LIMIT_LINK_CHAIN - 1);
    link_chain(UW_LIMIT_LINK_CHAIN);
    link_chain(UW_LIMIT_LINK_CHAIN + 1);
}

/* A Task stack of `items` items (thread marker, one loop frame, the Task's
 * marker and its frames): given up to UW_LIMIT_STACK_ITEMS; past it,
 * counted under stack_limit, and the thread's own stack (its marker and
 * frame) given instead, as for a thread whose Tasks are all skipped. */
static void task_stack_items(size_t items)
{
    static const char *const loop[] = {"<module>"};
    const size_t frames = items - 3;
    const char **names = malloc(frames * sizeof *names);
    uint32_t skipped[UW_REASON_SLOTS] = {0};
    hand_sample h;
    size_t i, n = 0;

    assert_non_null(names);
    for (i = 0; i < frames; i++)
        names[i] = "f";
    hs_init(&h);
    hs_thread(&h, 7, loop, 1, 1);
    hs_task(&h, 0, "t", -1, names, frames);
    assert_int_equal(uw_compose(&h.s, NULL, count_stack, &n, skipped), 0);
    assert_int_equal(n, items <= UW_LIMIT_STACK_ITEMS ? items : 2);
    assert_int_equal(skipped[uw_reason_slot(UW_ERR_LIMIT_STACK)],
                     items <= UW_LIMIT_STACK_ITEMS ? 0 : 1);
    hs_free(&h);
    free(names);
}

static void test_task_item_bound(void **state)
{
    (void)state;
    task_stack_items(UW_LIMIT_STACK_ITEMS - 1);
    task_stack_items(UW_LIMIT_STACK_ITEMS);
    task_stack_items(UW_LIMIT_STACK_ITEMS + 1);
}

/* uw_compose_task honours a caller's smaller cap, markers included. */
static void test_task_cap(void **state)
{
    hand_sample h;
    uw_stack_item items[16];
    size_t n;

    (void)state;
    build_world(&h);
    /* fetch's stack with markers: 11 items */
    assert_int_equal(uw_compose_task(&h.s, 2, NULL, items, 11, &n), 0);
    assert_int_equal(n, 11);
    assert_int_equal(items[0].kind, UW_ITEM_THREAD);
    assert_int_equal(items[0].index, 0);
    assert_int_equal(items[4].kind, UW_ITEM_TASK);
    assert_int_equal(items[4].index, 0);
    assert_int_equal(items[8].kind, UW_ITEM_TASK);
    assert_int_equal(items[8].index, 2);
    assert_null(items[8].frame);
    assert_int_equal(uw_compose_task(&h.s, 2, NULL, items, 10, &n), UW_ERR_LIMIT_STACK);
    assert_int_equal(n, 0);
    hs_free(&h);
}

/* Rule compose_whole_task.  A Task whose own chain was cut, at the await
 * bound or at a cycle, holds only the frames read before the cut: stacked
 * on its parent's they would make a stack that never stood.  So neither it
 * nor any Task under it gives a stack: uw_compose_task returns the cut's
 * code (nothing composed), and uw_compose counts the leaf's stack under
 * that reason and gives the other leaves theirs.  `at` is the cut Task
 * (0 Task-1, 1 batch-a, 2 fetch), `cut` its reason. */
static void cut_chain(size_t at, int cut)
{
    hand_sample h;
    collected c;
    uw_stack_item items[16];
    uint32_t skipped[UW_REASON_SLOTS] = {0};
    size_t n = 99;
    int rc;

    build_world(&h);
    h.s.tasks[at].truncated = cut;
    /* fetch (2) is under every one of them */
    rc = uw_compose_task(&h.s, 2, NULL, items, 16, &n);
    if (rc == 0)
        fail_msg("fetch composed (%zu items) through Task %zu, cut with %d", n, at, cut);
    assert_int_equal(rc, cut);
    assert_int_equal(n, 0);
    compose_all(&h.s, 1, 1, &c, skipped);
    if (at == 0) {
        /* both leaves are under Task-1: the thread's own stack instead */
        assert_int_equal(skipped[uw_reason_slot(cut)], 2);
        assert_int_equal(c.n, 2);
        assert_string_equal(c.lines[0], "H:100|<module>|run|select");
        assert_int_equal(c.task[0], -1);
    } else {
        /* idle hangs from Task-1 alone: its stack stands */
        assert_int_equal(skipped[uw_reason_slot(cut)], 1);
        assert_int_equal(c.n, 2);
        assert_string_equal(c.lines[0], "H:100|<module>|run|select|T:Task-1|main|T:idle");
        assert_int_equal(c.task[0], 3);
    }
    assert_string_equal(c.lines[1], "H:101|_bootstrap|work|spin");
    collected_free(&c);
    hs_free(&h);
}

static void test_cut_chain_no_stack(void **state)
{
    size_t at;

    (void)state;
    for (at = 0; at < 3; at++) {
        cut_chain(at, UW_ERR_LIMIT_AWAIT);
        cut_chain(at, UW_ERR_AWAIT_CYCLE);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_markers_by_default),
        cmocka_unit_test(test_markers_change_nothing_else),
        cmocka_unit_test(test_skip_with_markers),
        cmocka_unit_test(test_item_bound),
        cmocka_unit_test(test_task_cap),
        cmocka_unit_test(test_link_chain_bound),
        cmocka_unit_test(test_task_item_bound),
        cmocka_unit_test(test_cut_chain_no_stack),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
