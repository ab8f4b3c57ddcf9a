/*
 * test_frozen.c — the live reader while the target is stopped
 * (uw_proc_freeze, internal/reader_frozen.h), on this process's own
 * memory: each page is read once, later reads of it are served from that
 * copy (told by memory changed after the first read), an unreadable page
 * fails exactly the pieces that touch it (READ_FAULT at their start,
 * READ_SHORT past it) and costs one call, a new stop reads afresh (the
 * pages the last stop used, and their neighbours, at once), past
 * UW_FROZEN_PAGES the reads go to the process directly, still right; and a
 * snapshot: sealed, the sample is served from the stop's pages only, a
 * page it lacks fails its request and is counted, never read.
 */
#define _GNU_SOURCE /* MAP_ANONYMOUS */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "internal/reader_frozen.h"
#include "tornstack/error.h"
#include "tornstack/reader_proc.h"

/* A snapshot reads UW_FROZEN_NEAR pages either side of each predicted
 * one; the rig's unreadable guard pages cover one. */
_Static_assert(UW_FROZEN_NEAR <= 1, "the rig guards one page either side");
/* Pages held after a stop that predicts pages 0 and 2 of the rig, and the
 * calls their read takes (each unreadable page ends a call): with one
 * page either side, the guards, 0, 1 and 2 in one run, failing at the
 * first guard, at page 1 and at the last guard. */
#define RIG_PREDICTED_PAGES (UW_FROZEN_NEAR ? 5 : 2)
#define RIG_PREDICTED_CALLS (UW_FROZEN_NEAR ? 3 : 1)

typedef struct rig {
    uw_proc p;
    uw_reader r;
    uint8_t *base; /* five pages: guard, area (three pages, the middle
                    * one unreadable), guard */
    uint8_t *area;
} rig;

static void rig_open(rig *g)
{
    void *m =
        mmap(NULL, 5 * UW_FROZEN_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(m != MAP_FAILED);
    g->base = m;
    g->area = g->base + UW_FROZEN_PAGE;
    /* unreadable, and kept: nothing else can be mapped there meanwhile */
    assert_int_equal(mprotect(g->base, UW_FROZEN_PAGE, PROT_NONE), 0);
    assert_int_equal(mprotect(g->base + 4 * UW_FROZEN_PAGE, UW_FROZEN_PAGE, PROT_NONE), 0);
    memset(g->area, 0x11, UW_FROZEN_PAGE);
    assert_int_equal(mprotect(g->area + UW_FROZEN_PAGE, UW_FROZEN_PAGE, PROT_NONE), 0);
    memset(g->area + 2 * UW_FROZEN_PAGE, 0x33, UW_FROZEN_PAGE);
    assert_int_equal(uw_proc_reader_open(&g->p, getpid(), &g->r), 0);
}

static void rig_close(rig *g)
{
    uw_proc_close(&g->p);
    (void)munmap(g->base, 5 * UW_FROZEN_PAGE);
}

static uint64_t at(const rig *g, size_t off)
{
    return (uint64_t)(uintptr_t)(g->area + off);
}

/* Four pieces: on page 0; across pages 0 and 1; on page 1; on page 2. */
static void four(rig *g, uint8_t out[4][16], uw_iov v[4])
{
    v[0] = (uw_iov){at(g, 100), out[0], 16, 1};
    v[1] = (uw_iov){at(g, UW_FROZEN_PAGE - 8), out[1], 16, 1};
    v[2] = (uw_iov){at(g, UW_FROZEN_PAGE + 8), out[2], 16, 1};
    v[3] = (uw_iov){at(g, 2 * UW_FROZEN_PAGE + 40), out[3], 16, 1};
    memset(out, 0, 4 * 16);
    (void)uw_readv(&g->r, v, 4);
}

static void test_pages_read_once(void **state)
{
    rig g;
    uint8_t out[4][16], want0[16], want3[16];
    uw_iov v[4];
    uint64_t c0;
    (void)state;
    rig_open(&g);
    memset(want0, 0x11, 16);
    memset(want3, 0x33, 16);
    assert_int_equal(uw_proc_freeze(&g.p, 1), 0);
    c0 = g.r.calls;
    four(&g, out, v);
    assert_int_equal(v[0].status, 0);
    assert_memory_equal(out[0], want0, 16);
    assert_int_equal(v[1].status, UW_ERR_READ_SHORT);
    assert_int_equal(v[2].status, UW_ERR_READ_FAULT);
    assert_int_equal(v[3].status, 0);
    assert_memory_equal(out[3], want3, 16);
    /* the run of pages 0..2 stops at page 1; page 2 in a call of its own */
    assert_int_equal(g.r.calls - c0, 2);
    assert_int_equal(uw__frozen_pages(g.p.frozen), 3);

    /* memory changes (it cannot while the target is stopped: this shows
     * where the bytes come from): the same pages are served, no call */
    memset(g.area + 100, 0x77, 16);
    c0 = g.r.calls;
    four(&g, out, v);
    assert_int_equal(g.r.calls - c0, 0);
    assert_int_equal(v[0].status, 0);
    assert_memory_equal(out[0], want0, 16);
    assert_int_equal(v[2].status, UW_ERR_READ_FAULT);
    {
        uint8_t one[16];
        assert_int_equal(uw_read(&g.r, at(&g, 100), one, 16), 0);
        assert_memory_equal(one, want0, 16);
        assert_int_equal(uw_read(&g.r, at(&g, UW_FROZEN_PAGE), one, 8), UW_ERR_READ_FAULT);
        assert_int_equal(g.r.calls - c0, 0);
    }

    /* running again: read from the process */
    assert_int_equal(uw_proc_freeze(&g.p, 0), 0);
    memset(want0, 0x77, 16);
    four(&g, out, v);
    assert_int_equal(v[0].status, 0);
    assert_memory_equal(out[0], want0, 16);
    /* a new stop forgets the bytes of the last one: the pages that
     * sample used (0 and 2; not the unreadable one), and their
     * neighbours, are read afresh at once, and page 1 on the first
     * request that needs it, unless read as a neighbour */
    memset(g.area + 100, 0x55, 16);
    memset(want0, 0x55, 16);
    c0 = g.r.calls;
    assert_int_equal(uw_proc_freeze(&g.p, 1), 0);
    assert_int_equal(uw__frozen_pages(g.p.frozen), RIG_PREDICTED_PAGES);
    assert_int_equal(g.r.calls - c0, RIG_PREDICTED_CALLS);
    four(&g, out, v);
    assert_int_equal(g.r.calls - c0, RIG_PREDICTED_CALLS + (UW_FROZEN_NEAR ? 0 : 1));
    assert_memory_equal(out[0], want0, 16);
    assert_int_equal(v[1].status, UW_ERR_READ_SHORT);
    assert_int_equal(uw_proc_missed(&g.p), 0);
    rig_close(&g);
}

/* A snapshot: the pages the last stopped sample used are read when the
 * process stops; sealed (the process runs again), the sample is served
 * from them only: the bytes of the stop, whatever the process does after,
 * and a page not held is not read but fails its request, which is
 * counted, and is read at the next stop. */
static void test_snapshot(void **state)
{
    rig g;
    uint8_t out[4][16], want0[16], want3[16], one[16];
    uw_iov v[4];
    uint64_t c0;
    (void)state;
    rig_open(&g);
    /* a first stopped sample uses page 0 only */
    assert_int_equal(uw_proc_freeze(&g.p, 1), 0);
    assert_int_equal(uw_read(&g.r, at(&g, 100), one, 16), 0);
    assert_int_equal(uw_proc_freeze(&g.p, 0), 0);
    /* the next stop reads page 0 at once (and its neighbours: the guard,
     * and page 1, unreadable: two calls); then the process moves */
    memset(g.area + 100, 0x55, 16);
    memset(want0, 0x55, 16);
    memset(want3, 0x33, 16);
    c0 = g.r.calls;
    assert_int_equal(uw_proc_freeze(&g.p, 1), 0);
    assert_int_equal(uw__frozen_pages(g.p.frozen), UW_FROZEN_NEAR ? 3 : 1);
    assert_int_equal(g.r.calls - c0, UW_FROZEN_NEAR ? 2 : 1);
    uw_proc_seal(&g.p);
    memset(g.area + 100, 0x99, 16);
    memset(g.area + 2 * UW_FROZEN_PAGE + 40, 0x44, 16);
    c0 = g.r.calls;
    assert_int_equal(uw_read(&g.r, at(&g, 100), one, 16), 0);
    assert_memory_equal(one, want0, 16);
    assert_int_equal(uw_proc_missed(&g.p), 0);
    four(&g, out, v);
    assert_int_equal(g.r.calls - c0, 0); /* sealed: no read at all */
    assert_int_equal(v[0].status, 0);
    assert_memory_equal(out[0], want0, 16);
    assert_int_equal(v[1].status, UW_ERR_READ_SHORT);
    assert_int_equal(v[2].status, UW_ERR_READ_FAULT);
    assert_int_equal(v[3].status, UW_ERR_READ_FAULT); /* page 2 was not in it */
    assert_int_equal(uw_proc_missed(&g.p), 1);
    assert_int_equal(uw_proc_freeze(&g.p, 0), 0);
    /* taken again: pages 0 and 2 predicted (1 too when missed, not read
     * as a neighbour), and the neighbours; page 2 now as it is */
    memset(want3, 0x44, 16);
    assert_int_equal(uw_proc_freeze(&g.p, 1), 0);
    assert_int_equal(uw__frozen_pages(g.p.frozen), UW_FROZEN_NEAR ? 5 : 3);
    uw_proc_seal(&g.p);
    c0 = g.r.calls;
    four(&g, out, v);
    assert_int_equal(g.r.calls - c0, 0);
    assert_int_equal(v[3].status, 0);
    assert_memory_equal(out[3], want3, 16);
    assert_int_equal(v[2].status, UW_ERR_READ_FAULT); /* unreadable, not missed */
    assert_int_equal(uw_proc_missed(&g.p), 0);
    assert_int_equal(uw_proc_freeze(&g.p, 0), 0);
    rig_close(&g);
}

/* The bound at -1, 0 and +1: UW_FROZEN_PAGES - 1 pages all held; one
 * more fills the cache; the page past it is read from the process, right,
 * and the cache holds no more. */
static void test_page_bound(void **state)
{
    rig g;
    const size_t n = UW_FROZEN_PAGES + 1;
    uint8_t *big = aligned_alloc(UW_FROZEN_PAGE, n * UW_FROZEN_PAGE);
    uint64_t *out = calloc(n, sizeof *out);
    uw_iov *v = calloc(n, sizeof *v);
    size_t i;
    (void)state;
    assert_non_null(big);
    assert_non_null(out);
    assert_non_null(v);
    for (i = 0; i < n; i++) {
        uint64_t x = 5000 + i;
        memcpy(big + i * UW_FROZEN_PAGE, &x, 8);
        v[i] = (uw_iov){(uint64_t)(uintptr_t)(big + i * UW_FROZEN_PAGE), &out[i], 8, 1};
    }
    rig_open(&g);
    assert_int_equal(uw_proc_freeze(&g.p, 1), 0);
    assert_int_equal(uw_readv(&g.r, v, n - 2), 0);
    assert_int_equal(uw__frozen_pages(g.p.frozen), UW_FROZEN_PAGES - 1);
    assert_int_equal(uw_readv(&g.r, v + n - 2, 1), 0);
    assert_int_equal(uw__frozen_pages(g.p.frozen), UW_FROZEN_PAGES);
    assert_int_equal(uw_readv(&g.r, v + n - 1, 1), 0);
    assert_int_equal(uw__frozen_pages(g.p.frozen), UW_FROZEN_PAGES);
    for (i = 0; i < n; i++) {
        assert_int_equal(v[i].status, 0);
        assert_int_equal(out[i], 5000 + i);
    }
    /* all at once, past the bound, after a new stop: every piece right */
    assert_int_equal(uw_proc_freeze(&g.p, 1), 0);
    memset(out, 0, n * sizeof *out);
    assert_int_equal(uw_readv(&g.r, v, n), 0);
    for (i = 0; i < n; i++) {
        assert_int_equal(v[i].status, 0);
        assert_int_equal(out[i], 5000 + i);
    }
    assert_int_equal(uw__frozen_pages(g.p.frozen), UW_FROZEN_PAGES);
    rig_close(&g);
    free(v);
    free(out);
    free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pages_read_once),
        cmocka_unit_test(test_page_bound),
        cmocka_unit_test(test_snapshot),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
