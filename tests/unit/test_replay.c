/*
 * test_replay.c — the live reader's replay (internal/reader_replay.h) on
 * this process's own memory: a sample's requests are served from the read
 * made when it began only while they are the predicted ones, in order;
 * the first request that differs, and every later one, is read for real;
 * a failed piece cuts the prediction; the prediction grows back.
 *
 * Served or real is told by memory changed after the sample began: a
 * served request returns what was there at the beginning.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "internal/reader_replay.h"
#include "tornstack/error.h"
#include "tornstack/reader_proc.h"

static volatile uint64_t mem_a[4], mem_b[4], mem_c[4], mem_d[4];

typedef struct rig {
    uw_proc p;
    uw_reader r;
} rig;

static void rig_open(rig *g)
{
    assert_int_equal(uw_proc_reader_open(&g->p, getpid(), &g->r), 0);
}

static uint64_t addr_of(volatile uint64_t *x)
{
    return (uint64_t)(uintptr_t)x;
}

/* Request 1: a and b (vectored); request 2: c alone. */
static void requests(rig *g, uint64_t *a, uint64_t *b, uint64_t *c)
{
    uw_iov v[2] = {{addr_of(mem_a), a, 8, 0}, {addr_of(mem_b), b, 8, 0}};
    assert_int_equal(uw_readv(&g->r, v, 2), 0);
    assert_int_equal(uw_read(&g->r, addr_of(mem_c), c, 8), 0);
}

/* Samples until the whole prediction is served (it grows 1, 3, 7...). */
static void warm_up(rig *g)
{
    uint64_t a, b, c;
    int i;
    for (i = 0; i < 4; i++) {
        uw_proc_sample_begin(&g->p, &g->r);
        requests(g, &a, &b, &c);
    }
}

static void test_served_in_order(void **state)
{
    rig g;
    uint64_t a, b, c, calls;
    (void)state;
    rig_open(&g);
    mem_a[0] = 1, mem_b[0] = 2, mem_c[0] = 3;
    warm_up(&g);
    uw_proc_sample_begin(&g.p, &g.r);
    mem_a[0] = 11, mem_b[0] = 12, mem_c[0] = 13; /* after the batch read */
    calls = g.r.calls;
    requests(&g, &a, &b, &c);
    assert_int_equal(g.r.calls, calls); /* no call: both served */
    assert_int_equal(a, 1);
    assert_int_equal(b, 2);
    assert_int_equal(c, 3);
    uw_proc_close(&g.p);
}

static void test_first_difference_ends_serving(void **state)
{
    rig g;
    uint64_t a, b, c, d, calls;
    uw_iov v[2];
    (void)state;
    rig_open(&g);
    mem_a[0] = 1, mem_b[0] = 2, mem_c[0] = 3, mem_d[0] = 4;
    warm_up(&g);
    uw_proc_sample_begin(&g.p, &g.r);
    mem_a[0] = 21, mem_b[0] = 22, mem_c[0] = 23, mem_d[0] = 24;
    /* the same pieces in another order: not the predicted request */
    v[0] = (uw_iov){addr_of(mem_b), &b, 8, 0};
    v[1] = (uw_iov){addr_of(mem_a), &a, 8, 0};
    calls = g.r.calls;
    assert_int_equal(uw_readv(&g.r, v, 2), 0);
    assert_true(g.r.calls > calls);
    assert_int_equal(a, 21);
    assert_int_equal(b, 22);
    /* c was predicted, but after a difference everything is real */
    assert_int_equal(uw_read(&g.r, addr_of(mem_c), &c, 8), 0);
    assert_int_equal(c, 23);
    (void)d;
    uw_proc_close(&g.p);
}

static void test_other_request_then_real(void **state)
{
    rig g;
    uint64_t a, b, c, d;
    uw_iov v[2];
    (void)state;
    rig_open(&g);
    mem_a[0] = 1, mem_b[0] = 2, mem_c[0] = 3, mem_d[0] = 4;
    warm_up(&g);
    uw_proc_sample_begin(&g.p, &g.r);
    mem_a[0] = 31, mem_b[0] = 32, mem_c[0] = 33, mem_d[0] = 34;
    v[0] = (uw_iov){addr_of(mem_a), &a, 8, 0};
    v[1] = (uw_iov){addr_of(mem_b), &b, 8, 0};
    assert_int_equal(uw_readv(&g.r, v, 2), 0); /* served */
    assert_int_equal(a, 1);
    assert_int_equal(uw_read(&g.r, addr_of(mem_d), &d, 8), 0); /* not predicted */
    assert_int_equal(d, 34);
    assert_int_equal(uw_read(&g.r, addr_of(mem_c), &c, 8), 0); /* real from now on */
    assert_int_equal(c, 33);
    uw_proc_close(&g.p);
}

/* A piece that failed in the batch cuts the prediction before its request:
 * that request is read for real (and fails as it would have). */
static void test_failed_piece_cuts(void **state)
{
    rig g;
    uint64_t a, b, bad;
    int i;
    uw_iov v[2];
    (void)state;
    rig_open(&g);
    mem_a[0] = 1, mem_b[0] = 2;
    for (i = 0; i < 5; i++) {
        uw_proc_sample_begin(&g.p, &g.r);
        assert_int_equal(uw_read(&g.r, addr_of(mem_a), &a, 8), 0);
        v[0] = (uw_iov){addr_of(mem_b), &b, 8, 0};
        v[1] = (uw_iov){0x10, &bad, 8, 0};
        assert_int_not_equal(uw_readv(&g.r, v, 2), 0);
        assert_int_equal(v[0].status, 0);
        assert_int_not_equal(v[1].status, 0);
    }
    uw_proc_sample_begin(&g.p, &g.r);
    mem_a[0] = 41, mem_b[0] = 42;
    assert_int_equal(uw_read(&g.r, addr_of(mem_a), &a, 8), 0);
    assert_int_equal(a, 1); /* served */
    v[0] = (uw_iov){addr_of(mem_b), &b, 8, 0};
    v[1] = (uw_iov){0x10, &bad, 8, 0};
    assert_int_not_equal(uw_readv(&g.r, v, 2), 0);
    assert_int_equal(b, 42); /* real: its batch read failed */
    uw_proc_close(&g.p);
}

/* The prediction starts at one request and doubles while it is served. */
static void test_prediction_grows(void **state)
{
    rig g;
    uint64_t x[8], calls;
    size_t k, served_before;
    int s;
    (void)state;
    rig_open(&g);
    for (s = 0; s < 6; s++) {
        uw_proc_sample_begin(&g.p, &g.r);
        served_before = (size_t)g.p.replay->served;
        calls = g.r.calls;
        for (k = 0; k < 8; k++)
            assert_int_equal(uw_read(&g.r, addr_of(&mem_a[k % 4]), &x[k], 8), 0);
        /* sample s serves min(8, 2^s - 1) requests; the rest are calls */
        {
            size_t want = ((size_t)1 << s) - 1 < 8 ? ((size_t)1 << s) - 1 : 8;
            assert_int_equal(g.p.replay->served - served_before, want);
            assert_int_equal(g.r.calls - calls, 8 - want);
        }
    }
    uw_proc_close(&g.p);
}

/* Without uw_proc_sample_begin nothing is recorded or served. */
static void test_off_by_default(void **state)
{
    rig g;
    uint64_t a, b, c, calls;
    (void)state;
    rig_open(&g);
    calls = g.r.calls;
    requests(&g, &a, &b, &c);
    requests(&g, &a, &b, &c);
    assert_int_equal(g.r.calls - calls, 4);
    assert_null(g.p.replay);
    uw_proc_close(&g.p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_served_in_order),
        cmocka_unit_test(test_first_difference_ends_serving),
        cmocka_unit_test(test_other_request_then_real),
        cmocka_unit_test(test_failed_piece_cuts),
        cmocka_unit_test(test_prediction_grows),
        cmocka_unit_test(test_off_by_default),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
