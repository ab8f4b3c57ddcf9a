/*
 * test_replay.c — the live reader's replay (internal/reader_replay.h) on
 * this process's own memory: a sample's requests are served from the read
 * made when it began only while they are the predicted ones, in order;
 * the first request that differs, and every later one, is read for real;
 * a failed piece cuts the prediction; the prediction grows back.
 *
 * Served or real is told by memory changed after the sample began: a
 * served request returns what was there at the beginning.
 *
 * Also the reader's ordered groups (reader.h): pieces of two groups never
 * share a span, read directly or replayed; and the address sort both
 * paths use (internal/addr_sort.h) against a plain reference, and the
 * in-place address sort of the Task walk against qsort.
 *
 * And the run clocks of the live reader (reader.h, internal/reader_clock.h):
 * read before the sample's predicted bytes, the same reading served for
 * the rest of the sample, refused once those bytes were read, moving for
 * a thread that runs and still for one that sleeps.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "internal/addr_sort.h"
#include "internal/reader_replay.h"
#include "tornstack/error.h"
#include "tornstack/reader_proc.h"

/* reader_proc.c's bound, unless the build sets it (small limits) */
#ifndef UW_PROC_IOV_BATCH
#define UW_PROC_IOV_BATCH 1024
#endif

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
    mem_a[0] = 11, mem_b[0] = 12; /* before the sample's first read: seen */
    calls = g.r.calls;
    {
        uw_iov v[2] = {{addr_of(mem_a), &a, 8, 0}, {addr_of(mem_b), &b, 8, 0}};
        assert_int_equal(uw_readv(&g.r, v, 2), 0);
    }
    mem_c[0] = 13; /* after the batch read, made at the first read */
    assert_int_equal(uw_read(&g.r, addr_of(mem_c), &c, 8), 0);
    assert_int_equal(g.r.calls, calls + 1); /* the batch only: both served */
    assert_int_equal(a, 11);
    assert_int_equal(b, 12);
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
    v[0] = (uw_iov){addr_of(mem_a), &a, 8, 0};
    v[1] = (uw_iov){addr_of(mem_b), &b, 8, 0};
    assert_int_equal(uw_readv(&g.r, v, 2), 0); /* served */
    assert_int_equal(a, 1);
    mem_a[0] = 31, mem_b[0] = 32, mem_c[0] = 33, mem_d[0] = 34; /* after the batch */
    assert_int_equal(uw_read(&g.r, addr_of(mem_d), &d, 8), 0);  /* not predicted */
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
    assert_int_equal(uw_read(&g.r, addr_of(mem_a), &a, 8), 0);
    assert_int_equal(a, 1);       /* served */
    mem_a[0] = 41, mem_b[0] = 42; /* after the batch */
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
        /* sample s serves min(8, 2^s - 1) requests; the rest are calls,
         * and so is the batch when there is one (a span a request, at
         * most UW_PROC_IOV_BATCH a call) */
        {
            size_t want = ((size_t)1 << s) - 1 < 8 ? ((size_t)1 << s) - 1 : 8;
            size_t batch = (want + UW_PROC_IOV_BATCH - 1) / UW_PROC_IOV_BATCH;
            assert_int_equal(g.p.replay->served - served_before, want);
            assert_int_equal(g.r.calls - calls, 8 - want + batch);
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

/* Shapes of addresses to sort: heap-like, many ties, in the high byte
 * only, sorted, reversed, and two that are bad for a quicksort (organ
 * pipe, all equal).  Key i of n; rng moves on. */
#define SORT_SHAPES 7
static uint64_t sort_key(int shape, size_t i, size_t n, uint64_t *rng)
{
    uint64_t x;

    *rng = *rng * 6364136223846793005ull + 1442695040888963407ull;
    x = *rng >> 11;
    switch (shape) {
    case 0:
        return 0x7f0000000000ull + (x & 0xffffff);
    case 1:
        return 0x550000000000ull + (x & 0x7) * 8;
    case 2:
        return (x & 0xff) << 40;
    case 3:
        return 0x1000 + 8 * i;
    case 4:
        return 0x100000 - 8 * i;
    case 5:
        return i < n / 2 ? i : n - i;
    default:
        return 42;
    }
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The in-place sort of plain addresses against qsort, on every shape, at
 * sizes around its insertion-sort cut and beyond; and the binary search
 * over the result, for every key and for keys that are absent. */
static void test_u64_sort(void **state)
{
    static uint64_t a[5000], ref[5000];
    const size_t sizes[] = {0, 1, 2, 3, 31, 32, 33, 34, 100, 1000, 5000};
    uint64_t rng = 777;
    size_t si, i;
    int shape;
    (void)state;
    for (shape = 0; shape < SORT_SHAPES; shape++) {
        for (si = 0; si < sizeof sizes / sizeof *sizes; si++) {
            size_t n = sizes[si];
            for (i = 0; i < n; i++)
                a[i] = ref[i] = sort_key(shape, i, n, &rng);
            if (n > 0)
                qsort(ref, n, sizeof *ref, cmp_u64);
            uw__u64_sort(a, n);
            for (i = 0; i < n; i++) {
                size_t at = uw__u64_find(a, n, ref[i]);
                assert_int_equal(a[i], ref[i]);
                assert_true(at < n && a[at] == ref[i]);
            }
            /* absent: above every key (no shape makes UINT64_MAX), and
             * between two neighbours */
            assert_int_equal(uw__u64_find(a, n, UINT64_MAX), SIZE_MAX);
            for (i = 1; i < n; i++)
                if (a[i] - a[i - 1] > 1)
                    assert_int_equal(uw__u64_find(a, n, a[i - 1] + 1), SIZE_MAX);
        }
    }
}

/* The radix sort is stable and sorts: against an insertion sort of the
 * same keys, on every shape, over sizes around its small-input cut-off
 * and past it. */
static void test_addr_sort(void **state)
{
    static uw_addr_key k[3000], tmp[3000], ref[3000];
    const size_t sizes[] = {0, 1, 2, 31, 32, 33, 100, 1000, 3000};
    uint64_t rng = 12345;
    size_t si, i, j;
    int shape;
    (void)state;
    for (shape = 0; shape < SORT_SHAPES; shape++) {
        for (si = 0; si < sizeof sizes / sizeof *sizes; si++) {
            size_t n = sizes[si];
            for (i = 0; i < n; i++) {
                uint64_t a = sort_key(shape, i, n, &rng);
                k[i] = ref[i] = (uw_addr_key){a, i};
            }
            for (i = 1; i < n; i++) {
                uw_addr_key x = ref[i];
                for (j = i; j > 0 && ref[j - 1].addr > x.addr; j--)
                    ref[j] = ref[j - 1];
                ref[j] = x;
            }
            uw__addr_sort(k, tmp, n);
            for (i = 0; i < n; i++) {
                assert_int_equal(k[i].addr, ref[i].addr);
                assert_int_equal(k[i].i, ref[i].i);
            }
        }
    }
}

/* 16 pieces of two neighbouring words: in one group they make one span;
 * as two ordered groups of 8, two spans (the second group's pieces are
 * read after the first's, never from its span). */
static void test_groups_split_spans(void **state)
{
    rig g;
    uint64_t out[16];
    uw_iov v[16];
    const size_t one[1] = {16}, two[2] = {8, 16};
    size_t i;
    (void)state;
    rig_open(&g);
    mem_a[0] = 7, mem_a[1] = 8;
    for (i = 0; i < 16; i++)
        v[i] = (uw_iov){addr_of(&mem_a[i % 2]), &out[i], 8, 0};
    assert_int_equal(uw_readv_groups(&g.r, v, 16, one, 1), 0);
    assert_int_equal(g.p.last_spans, 1);
    assert_int_equal(uw_readv_groups(&g.r, v, 16, two, 2), 0);
    assert_int_equal(g.p.last_spans, 2);
    for (i = 0; i < 16; i++)
        assert_int_equal(out[i], 7 + i % 2);
    uw_proc_close(&g.p);
}

/* Four pages of words, each word base + its index (*words of them). */
static uint64_t *words_area(size_t *words, uint64_t base)
{
    const size_t page = (size_t)sysconf(_SC_PAGESIZE);
    uint64_t *area = aligned_alloc(page, 4 * page);
    size_t i;

    assert_non_null(area);
    *words = 4 * page / 8;
    for (i = 0; i < *words; i++)
        area[i] = base + i;
    return area;
}

/* Every piece read, each its own word. */
static void assert_each_word(const uw_iov *v, const uint64_t *out, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        assert_int_equal(v[i].status, 0);
        assert_int_equal(out[i], *(const uint64_t *)(uintptr_t)v[i].addr);
    }
}

/* Three groups of 64 words scattered over four pages in a scrambled
 * order, the second asking for the first's addresses in the same order
 * (the chain check's two copies): it takes the first's order instead of
 * a sort of its own; the third, of the same length but one address
 * other, is sorted.  Every piece gets its own word, in each group. */
static void test_repeated_group_order(void **state)
{
    enum { N = 64 };
    const size_t three[3] = {N, 2 * N, 3 * N};
    size_t i, words;
    uint64_t *area = words_area(&words, 0x5000), out[3 * N];
    uw_iov v[3 * N];
    rig g;
    (void)state;
    rig_open(&g);
    for (i = 0; i < 3 * N; i++) {
        size_t w = ((i % N) * 37 + 11) % N * (words / N); /* scrambled, a few per page */
        if (i == 2 * N + 5)
            w++; /* the third group differs here */
        v[i] = (uw_iov){(uint64_t)(uintptr_t)&area[w], &out[i], 8, 0};
        out[i] = 0;
    }
    assert_int_equal(uw_readv_groups(&g.r, v, 3 * N, three, 3), 0);
    assert_int_equal(g.p.last_reused, 1);
    assert_each_word(v, out, 3 * N);
    uw_proc_close(&g.p);
    free(area);
}

/* The chain check's copies with its middle group between them
 * (check.c, uw_check_read_mid): five groups, A, a middle M of another
 * length, M again, a group D of A's length with one address other, then
 * A again.  The last takes A's order (not D's, the nearest of its
 * length, nor a sort), the third M's; D is sorted.  Every piece gets its
 * own word, in each group. */
static void test_repeated_group_apart(void **state)
{
    enum { N = 64, M = 40, ALL = 3 * N + 2 * M };
    const size_t five[5] = {N, N + M, N + 2 * M, 2 * N + 2 * M, ALL};
    size_t i, words;
    uint64_t *area = words_area(&words, 0x9000), out[ALL];
    uw_iov v[ALL];
    rig g;
    (void)state;
    rig_open(&g);
    for (i = 0; i < ALL; i++) {
        size_t w;
        if (i < N) /* A */
            w = (i * 37 + 11) % N * (words / N);
        else if (i >= 2 * N + 2 * M) /* A again */
            w = ((i - 2 * N - 2 * M) * 37 + 11) % N * (words / N);
        else if (i < N + 2 * M) /* M twice */
            w = (((i - N) % M) * 13 + 5) % M * (words / M) + 1;
        else /* D: A's addresses but one */
            w = ((i - N - 2 * M) * 37 + 11) % N * (words / N) + (i == N + 2 * M + 9);
        v[i] = (uw_iov){(uint64_t)(uintptr_t)&area[w], &out[i], 8, 0};
        out[i] = 0;
    }
    assert_int_equal(uw_readv_groups(&g.r, v, ALL, five, 5), 0);
    assert_int_equal(g.p.last_reused, 2);
    assert_each_word(v, out, ALL);
    uw_proc_close(&g.p);
    free(area);
}

/* More spans than one call takes (UW_PROC_IOV_BATCH, the kernel's bound):
 * 2,500 words a page apart, each its own span, with one unmapped page
 * among them.  Every mapped piece is filled, the unmapped one fails alone,
 * and every piece is read as a span of its own, in calls of 1,024 (before,
 * past 1,024 spans the read fell back to no coalescing at all). */
static void test_spans_past_batch(void **state)
{
    rig g;
    const size_t n = 2500, bad = 1500;
    const size_t page = (size_t)sysconf(_SC_PAGESIZE);
    uint8_t *area = aligned_alloc(page, n * page);
    uint64_t *out = calloc(n, sizeof *out);
    uw_iov *v = calloc(n, sizeof *v);
    size_t i;
    uint64_t c0;
    (void)state;
    assert_non_null(area);
    assert_non_null(out);
    assert_non_null(v);
    for (i = 0; i < n; i++) {
        uint64_t x = 1000 + i;
        memcpy(area + i * page, &x, 8);
        v[i] = (uw_iov){(uint64_t)(uintptr_t)(area + i * page), &out[i], 8, 0};
    }
    rig_open(&g);
    /* a piece no process maps: the zero page */
    v[bad].addr = 8;
    c0 = g.r.calls;
    assert_int_equal(uw_readv(&g.r, v, n), UW_ERR_READ_FAULT); /* the first failure */
    assert_int_equal(g.p.last_spans, n - 1); /* the zero page's piece takes none */
    for (i = 0; i < n; i++) {
        if (i == bad) {
            assert_int_not_equal(v[i].status, 0);
            continue;
        }
        assert_int_equal(v[i].status, 0);
        assert_int_equal(out[i], 1000 + i);
    }
    /* the zero page lies below any mapping (vm.mmap_min_addr): its piece
     * fails without a call; the other spans go UW_PROC_IOV_BATCH to a call
     * (1,024 + 1,024 + 451 by default) */
    assert_int_equal(g.r.calls - c0, (n - 1 + UW_PROC_IOV_BATCH - 1) / UW_PROC_IOV_BATCH);
    /* ... and so does a plain read there, and one piece of a few */
    assert_true(g.p.min_addr >= 4096);
    c0 = g.r.calls;
    assert_int_equal(uw_read(&g.r, 8, out, 8), UW_ERR_READ_FAULT);
    assert_int_equal(uw_read(&g.r, g.p.min_addr - 8, out, 8), UW_ERR_READ_FAULT);
    assert_int_equal(g.r.calls, c0);
    v[0].addr = 16;
    assert_int_equal(uw_readv(&g.r, v, 3), UW_ERR_READ_FAULT); /* the plain path */
    assert_int_equal(v[0].status, UW_ERR_READ_FAULT);
    assert_int_equal(v[1].status, 0);
    assert_int_equal(v[2].status, 0);
    assert_int_equal(g.r.calls - c0, 1);
    uw_proc_close(&g.p);
    free(v);
    free(out);
    free(area);
}

/* The replay plans the same way: a request of two groups gets a span per
 * group; the groups are part of the request (the same pieces in other
 * groups are another request, read for real). */
static void test_replay_groups(void **state)
{
    rig g;
    uint64_t out[16];
    uw_iov v[16];
    const size_t one[1] = {16}, two[2] = {8, 16};
    size_t i, s;
    uint64_t calls;
    (void)state;
    rig_open(&g);
    mem_a[0] = 1, mem_a[1] = 2;
    for (i = 0; i < 16; i++)
        v[i] = (uw_iov){addr_of(&mem_a[i % 2]), &out[i], 8, 0};
    for (s = 0; s < 3; s++) {
        uw_proc_sample_begin(&g.p, &g.r);
        assert_int_equal(uw_readv_groups(&g.r, v, 16, two, 2), 0);
    }
    uw_proc_sample_begin(&g.p, &g.r);
    calls = g.r.calls;
    assert_int_equal(uw_readv_groups(&g.r, v, 16, two, 2), 0); /* served */
    assert_int_equal(g.p.replay->plan_ns, 2);
    assert_int_equal(g.r.calls, calls + 1); /* the batch's */
    uw_proc_sample_begin(&g.p, &g.r);
    calls = g.r.calls;
    assert_int_equal(uw_readv_groups(&g.r, v, 16, one, 1), 0); /* other groups: real */
    assert_true(g.r.calls > calls);
    for (i = 0; i < 16; i++)
        assert_int_equal(out[i], 1 + i % 2);
    uw_proc_close(&g.p);
}

/* A one-piece group reading the same bytes as the one-piece group just
 * before it (a walk's last read of a counter and the next walk's first)
 * shares its span: the same value served to both, one piece fewer in the
 * call.  Groups with another read between them, or a group of two pieces
 * before, keep spans of their own. */
static void test_replay_shared_single(void **state)
{
    const size_t two[2] = {1, 2};
    uint64_t x[4], calls;
    rig g;
    size_t s;
    (void)state;
    rig_open(&g);
    mem_c[0] = 3, mem_d[0] = 4;
    for (s = 0; s < 5; s++) {
        uw_iov v[2] = {{addr_of(mem_c), &x[2], 8, 0}, {addr_of(mem_d), &x[3], 8, 0}};
        if (s == 4)
            calls = g.r.calls;
        assert_int_equal(uw_read(&g.r, addr_of(mem_c), &x[0], 8), 0);
        if (s == 4) {
            assert_int_equal(g.p.replay->plan_ns, 2); /* c (three groups), then d */
            mem_c[0] = 13; /* after the batch read: every c is the batch's */
        }
        assert_int_equal(uw_read(&g.r, addr_of(mem_c), &x[1], 8), 0);
        assert_int_equal(uw_readv_groups(&g.r, v, 2, two, 2), 0);
        if (s == 4) {
            assert_int_equal(g.r.calls, calls + 1); /* the batch only: all served */
            assert_int_equal(x[0], 3);
            assert_int_equal(x[1], 3);
            assert_int_equal(x[2], 3);
            assert_int_equal(x[3], 4);
        }
        uw_proc_sample_begin(&g.p, &g.r);
    }
    /* c, d, c: the second c follows d's read; {c, d} then c: a group of two
     * before it */
    mem_c[0] = 3;
    for (s = 0; s < 5; s++) {
        uw_iov v[2] = {{addr_of(mem_c), &x[2], 8, 0}, {addr_of(mem_d), &x[3], 8, 0}};
        assert_int_equal(uw_read(&g.r, addr_of(mem_c), &x[0], 8), 0);
        assert_int_equal(uw_read(&g.r, addr_of(mem_d), &x[1], 8), 0);
        assert_int_equal(uw_read(&g.r, addr_of(mem_c), &x[0], 8), 0);
        assert_int_equal(uw_readv(&g.r, v, 2), 0);
        assert_int_equal(uw_read(&g.r, addr_of(mem_c), &x[0], 8), 0);
        uw_proc_sample_begin(&g.p, &g.r);
    }
    assert_int_equal(g.p.replay->plan_ns, 5);
    uw_proc_close(&g.p);
}

/* On a machine that may show stores out of order (split_groups, set
 * where the machine is not x86, forced here), a read of two ordered
 * groups is two calls, one group one call, and no sample is predicted:
 * every sample's reads are made for real.  The values are the same. */
static void test_split_groups(void **state)
{
    rig g;
    uint64_t out[16], calls;
    uw_iov v[16];
    const size_t one[1] = {16}, two[2] = {8, 16}, three[3] = {0, 8, 16};
    size_t i, s;
    (void)state;
    rig_open(&g);
    assert_int_equal(g.p.split_groups, 0); /* this machine keeps stores in order */
    g.p.split_groups = 1;
    mem_a[0] = 5, mem_a[1] = 6;
    for (i = 0; i < 16; i++)
        v[i] = (uw_iov){addr_of(&mem_a[i % 2]), &out[i], 8, 0};
    for (s = 0; s < 3; s++) {
        uw_proc_sample_begin(&g.p, &g.r);
        assert_null(g.p.replay);
        calls = g.r.calls;
        assert_int_equal(uw_readv_groups(&g.r, v, 16, two, 2), 0);
        assert_int_equal(g.r.calls - calls, 2);
        calls = g.r.calls;
        assert_int_equal(uw_readv_groups(&g.r, v, 16, three, 3), 0); /* an empty group */
        assert_int_equal(g.r.calls - calls, 2);
        calls = g.r.calls;
        assert_int_equal(uw_readv_groups(&g.r, v, 16, one, 1), 0);
        assert_int_equal(g.r.calls - calls, 1);
    }
    for (i = 0; i < 16; i++) {
        assert_int_equal(v[i].status, 0);
        assert_int_equal(out[i], 5 + i % 2);
    }
    /* a group that cannot be read fails alone */
    v[3].addr = 8; /* unmapped */
    assert_int_equal(uw_readv_groups(&g.r, v, 16, two, 2), UW_ERR_READ_FAULT);
    for (i = 0; i < 16; i++)
        assert_int_equal(v[i].status, i == 3 ? UW_ERR_READ_FAULT : 0);
    uw_proc_close(&g.p);
}

/* A span that runs into an unreadable page (a freed allocator arena
 * under a busy program's Tasks): three pages, the middle one PROT_NONE,
 * two pieces on each, close enough to make one span, read as two ordered
 * groups of the same six pieces (the chain check's two copies).  The
 * pieces of the good pages are filled, those of the bad page fail; the
 * call that stopped at the bad page names it, so its pieces fail without
 * calls of their own and the second group's span costs one call, not one
 * per piece (it cost 14 calls before: every piece of a stopped span was
 * read alone). */
static void test_bad_page_in_span(void **state)
{
    const size_t page = (size_t)sysconf(_SC_PAGESIZE);
    uint8_t *area =
        mmap(NULL, 3 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    const size_t off[6] = {page - 64,     page - 16,     page + 64,
                           2 * page - 64, 2 * page + 16, 2 * page + 64};
    const size_t two[2] = {6, 12};
    uint64_t out[12];
    uw_iov v[12];
    uint64_t calls;
    rig g;
    size_t i;
    (void)state;
    assert_true(area != MAP_FAILED);
    for (i = 0; i < 6; i++)
        memcpy(area + off[i], &(uint64_t){100 + i}, 8);
    assert_int_equal(mprotect(area + page, page, PROT_NONE), 0);
    rig_open(&g);
    for (i = 0; i < 12; i++)
        v[i] = (uw_iov){(uint64_t)(uintptr_t)(area + off[i % 6]), &out[i], 8, 0};
    calls = g.r.calls;
    assert_int_equal(uw_readv_groups(&g.r, v, 12, two, 2), UW_ERR_READ_FAULT);
    for (i = 0; i < 12; i++) {
        int on_bad = i % 6 == 2 || i % 6 == 3;
        assert_int_equal(v[i].status, on_bad ? UW_ERR_READ_FAULT : 0);
        if (!on_bad)
            assert_int_equal(out[i], 100 + i % 6);
    }
    /* each group is two spans, one into the bad page and one out of it:
     * a call stops at the bad page; the next span starts on it, so no
     * call is made for it, and its pieces past the page are read in one */
    assert_int_equal(g.r.calls - calls, 4);
    /* a piece below any mapping in the second group: it sorts first in
     * its group, after the first group's spans, and belongs to none */
    v[6 + 1].addr = 0xa;
    assert_int_equal(uw_readv_groups(&g.r, v, 12, two, 2), UW_ERR_READ_FAULT);
    for (i = 0; i < 12; i++) {
        int on_bad = i % 6 == 2 || i % 6 == 3 || i == 7;
        assert_int_equal(v[i].status, on_bad ? UW_ERR_READ_FAULT : 0);
        if (!on_bad)
            assert_int_equal(out[i], 100 + i % 6);
    }
    /* a piece that starts on a good page and runs into the bad one is
     * short, not a fault (reader.h: a fault means its first byte is
     * unreadable), in a span and alone */
    {
        uint8_t wide[16];
        uw_iov x[3] = {{(uint64_t)(uintptr_t)(area + page - 64), &out[0], 8, 0},
                       {(uint64_t)(uintptr_t)(area + page - 8), wide, 16, 0},
                       {(uint64_t)(uintptr_t)(area + page + 8), &out[1], 8, 0}};
        assert_int_not_equal(uw_readv(&g.r, x, 3), 0);
        assert_int_equal(x[0].status, 0);
        assert_int_equal(out[0], 100);
        assert_int_equal(x[1].status, UW_ERR_READ_SHORT);
        assert_int_equal(x[2].status, UW_ERR_READ_FAULT);
        assert_int_equal(uw_read(&g.r, x[1].addr, wide, 16), UW_ERR_READ_SHORT);
        assert_int_equal(uw_read(&g.r, x[2].addr, &out[1], 8), UW_ERR_READ_FAULT);
    }
    uw_proc_close(&g.p);
    munmap(area, 3 * page);
}

/* Malformed groups are refused before anything is read. */
static void test_groups_invalid(void **state)
{
    rig g;
    uint64_t out[4];
    uw_iov v[4];
    const size_t short_end[2] = {2, 3}, down[3] = {3, 2, 4};
    size_t many[UW_READV_GROUPS_MAX + 1], i;
    (void)state;
    rig_open(&g);
    for (i = 0; i < 4; i++)
        v[i] = (uw_iov){addr_of(&mem_a[i]), &out[i], 8, 0};
    for (i = 0; i <= UW_READV_GROUPS_MAX; i++)
        many[i] = 4;
    for (i = 0; i < 4; i++)
        v[i].status = 0;
    assert_int_equal(uw_readv_groups(&g.r, v, 4, short_end, 2), UW_ERR_INVALID_ARG);
    for (i = 0; i < 4; i++) /* no piece looks filled */
        assert_int_equal(v[i].status, UW_ERR_INVALID_ARG);
    assert_int_equal(uw_readv_groups(&g.r, v, 4, down, 3), UW_ERR_INVALID_ARG);
    assert_int_equal(uw_readv_groups(&g.r, v, 4, NULL, 1), UW_ERR_INVALID_ARG);
    assert_int_equal(uw_readv_groups(&g.r, v, 4, many, 0), UW_ERR_INVALID_ARG);
    assert_int_equal(uw_readv_groups(&g.r, v, 4, many, UW_READV_GROUPS_MAX + 1),
                     UW_ERR_INVALID_ARG);
    assert_int_equal(uw_readv_groups(&g.r, v, 4, many, UW_READV_GROUPS_MAX), 0); /* empties */
    assert_int_equal(g.r.bytes, 32); /* only the last read was made */
    uw_proc_close(&g.p);
}

static volatile int sleeper_stop;
static volatile uint64_t sleeper_tid;

static void *sleeper(void *arg)
{
    (void)arg;
    sleeper_tid = (uint64_t)syscall(SYS_gettid);
    while (!sleeper_stop) {
        struct timespec t = {0, 2000000};
        nanosleep(&t, NULL);
    }
    return NULL;
}

/* Burn some CPU on this thread (its clock must move). */
static volatile uint64_t spin_sink;

static void spin(void)
{
    uint64_t i, x = 0;
    for (i = 0; i < 2000000; i++)
        x = x * 31 + (i ^ spin_sink);
    spin_sink = x;
}

static void test_clock(void **state)
{
    rig g;
    uint64_t me = (uint64_t)syscall(SYS_gettid), v1, v2, v3, w1, w2, a, b, c;
    pthread_t t;
    uw_iov v[2];
    int k;
    (void)state;
    rig_open(&g);
    for (k = 0; k < 4; k++) { /* a prediction to replay */
        uw_proc_sample_begin(&g.p, &g.r);
        requests(&g, &a, &b, &c);
    }
    assert_int_equal(pthread_create(&t, NULL, sleeper, NULL), 0);
    while (sleeper_tid == 0)
        spin();
    uw_proc_sample_begin(&g.p, &g.r);
    if (uw_reader_clock(&g.r, me, &v1) != 0) {
        /* no perf events here (permission, seccomp): no thread has one */
        assert_int_equal(uw_reader_clock(&g.r, sleeper_tid, &w1), UW_ERR_NO_CLOCK);
        sleeper_stop = 1;
        pthread_join(t, NULL);
        uw_proc_close(&g.p);
        skip();
    }
    assert_int_equal(uw_reader_clock(&g.r, sleeper_tid, &w1), 0);
    spin();
    assert_int_equal(uw_reader_clock(&g.r, me, &v2), 0);
    assert_true(v2 == v1); /* the sample's reading, not a new one */
    v[0] = (uw_iov){addr_of(mem_a), &a, 8, 0};
    v[1] = (uw_iov){addr_of(mem_b), &b, 8, 0};
    assert_int_equal(uw_readv(&g.r, v, 2), 0);           /* the predicted bytes read now */
    assert_int_equal(uw_reader_clock(&g.r, me, &v2), 0); /* still the sample's */
    assert_true(v2 == v1);
    assert_int_equal(uw_reader_clock(&g.r, 1, &v3), UW_ERR_NO_CLOCK); /* none before: late */
    uw_proc_sample_begin(&g.p, &g.r);
    assert_int_equal(uw_reader_clock(&g.r, me, &v3), 0);
    assert_true(v3 > v1); /* this thread ran */
    /* a thread of another process has none (pid 1 is not ours) */
    assert_int_equal(uw_reader_clock(&g.r, 1, &v2), UW_ERR_NO_CLOCK);
    /* The sleeper wakes every 2 ms: over 50 ms its clock moves; it may
     * stand between two readings close together, which is what makes a
     * kept walk hold. */
    {
        struct timespec pause = {0, 50000000};
        nanosleep(&pause, NULL);
    }
    uw_proc_sample_begin(&g.p, &g.r);
    assert_int_equal(uw_reader_clock(&g.r, sleeper_tid, &w2), 0);
    assert_true(w2 > w1);
    sleeper_stop = 1;
    assert_int_equal(pthread_join(t, NULL), 0);
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
        cmocka_unit_test(test_addr_sort),
        cmocka_unit_test(test_u64_sort),
        cmocka_unit_test(test_groups_split_spans),
        cmocka_unit_test(test_spans_past_batch),
        cmocka_unit_test(test_repeated_group_order),
        cmocka_unit_test(test_repeated_group_apart),
        cmocka_unit_test(test_replay_groups),
        cmocka_unit_test(test_replay_shared_single),
        cmocka_unit_test(test_split_groups),
        cmocka_unit_test(test_bad_page_in_span),
        cmocka_unit_test(test_groups_invalid),
        cmocka_unit_test(test_clock),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
