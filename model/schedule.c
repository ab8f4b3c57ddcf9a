/*
 * schedule.c — the model's reader: interleaves the unwinder's reads with
 * the mutator's stores (see schedule.h).
 */
#include "schedule.h"

#include <stdlib.h>
#include <string.h>

#include "internal/addr_sort.h"
#include "internal/uw_assert.h"
#include "tornstack/error.h"

const char *mm_model_name(int model)
{
    switch (model) {
    case MM_TSO:
        return "tso";
    case MM_BOUNDED:
        return "bounded";
    case MM_RELAXED:
        return "relaxed";
    case MM_REALISTIC:
        return "realistic";
    default:
        return "?";
    }
}

/* One step of a splitmix64 stream. */
static uint64_t mm_stream_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t mm_sched_rand(mm_sched *s)
{
    return mm_stream_next(&s->rng);
}

static void mm_trace_add(mm_sched *s, const mm_trace_ev *e)
{
    mm_trace *t = s->trace;
    if (t == NULL || !s->recording)
        return;
    if (t->n == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 256;
        mm_trace_ev *ev = realloc(t->ev, cap * sizeof *ev);
        if (ev == NULL)
            return;
        t->ev = ev;
        t->cap = cap;
    }
    t->ev[t->n++] = *e;
}

/* Thread th ran: it issued a store, or one of its stores became visible
 * (a store of no one thread moves every clock). */
static void mm_clock_tick(mm_sched *s, int th)
{
    size_t k;

    if (th >= 0 && th < MM_FAB_THREADS) {
        s->clock[th]++;
        return;
    }
    for (k = 0; k < MM_FAB_THREADS; k++)
        s->clock[k]++;
}

/* MM_RELAXED: write pending store i to memory and drop it from the list. */
static void mm_relaxed_show(mm_sched *s, size_t i)
{
    const mm_store *st = &s->pend[i];

    UW_ASSERT(i < s->n_pend);
    mm_store_write(s->sp, st);
    mm_clock_tick(s, st->th);
    if (i > 0)
        s->reordered++;
    if (s->recording)
        s->landed++;
    if (s->trace != NULL && s->recording) {
        mm_trace_ev e = {s->pend_time[i], 0,      st->addr, st->value, st->len, 0,
                         st->ev,          st->th, st->task};
        mm_trace_add(s, &e);
    }
    for (; i + 1 < s->n_pend; i++) { /* at most MM_RELAXED_WINDOW - 1 */
        s->pend[i] = s->pend[i + 1];
        s->pend_time[i] = s->pend_time[i + 1];
    }
    s->n_pend--;
}

/* MM_RELAXED: may pending store i become visible before the older ones?
 * Not past an older store to overlapping bytes (coherence), not past a
 * fence, and a fence only once everything before it is visible. */
static int mm_relaxed_may_pass(const mm_sched *s, size_t i)
{
    size_t j;

    if (s->pend[i].fence)
        return i == 0;
    for (j = 0; j < i; j++) {
        const mm_store *a = &s->pend[j], *b = &s->pend[i];
        if (a->fence)
            return 0;
        if (a->addr < b->addr + b->len && b->addr < a->addr + a->len)
            return 0;
    }
    return 1;
}

/* MM_RELAXED: let a random choice of the pending stores become visible. */
static void mm_relaxed_settle(mm_sched *s)
{
    size_t i = 0;

    while (i < s->n_pend) {
        if (mm_sched_rand(s) % 3 == 0 && mm_relaxed_may_pass(s, i))
            mm_relaxed_show(s, i);
        else
            i++;
    }
}

/* MM_RELAXED: everything issued becomes visible, in order. */
static void mm_relaxed_drain(mm_sched *s)
{
    while (s->n_pend > 0)
        mm_relaxed_show(s, 0);
}

/* Let up to n stores land, respecting the preemption bound.  Under
 * MM_RELAXED they are issued, and land later (mm_relaxed_settle). */
static void mm_sched_advance(mm_sched *s, uint64_t n)
{
    uint64_t i;
    for (i = 0; i < n; i++) {
        int rc;
        if (s->recording && s->cfg.model == MM_BOUNDED && mm_mutator_pending(s->m) == 0 &&
            mm_mutator_ops(s->m) - s->ops_at_start >= (uint64_t)s->cfg.bound)
            return;
        if (s->cfg.model == MM_RELAXED && s->n_pend == MM_RELAXED_WINDOW)
            mm_relaxed_show(s, 0); /* the oldest store cannot lag further */
        rc = mm_mutator_step(s->m);
        if (rc == 1)
            return;
        mm_clock_tick(s, mm_mutator_last(s->m)->th);
        if (s->cfg.model == MM_RELAXED) {
            s->pend[s->n_pend] = *mm_mutator_last(s->m);
            s->pend_time[s->n_pend++] = mm_mutator_time(s->m);
        } else {
            if (s->recording)
                s->landed++;
            if (s->trace != NULL && s->recording) {
                const mm_store *st = mm_mutator_last(s->m);
                mm_trace_ev e = {mm_mutator_time(s->m),
                                 0,
                                 st->addr,
                                 st->value,
                                 st->len,
                                 0,
                                 st->ev,
                                 st->th,
                                 st->task};
                mm_trace_add(s, &e);
            }
        }
    }
    if (s->cfg.model == MM_RELAXED)
        mm_relaxed_settle(s);
}

static int mm_sched_read(void *ctx, uint64_t addr, void *dst, size_t len)
{
    mm_sched *s = ctx;
    uint8_t *d = dst;
    size_t done = 0;
    int rc = 0;

    uint64_t t0;
    int torn = 0;

    if (s->cfg.model == MM_REALISTIC)
        mm_sched_advance(
            s, (uint64_t)(s->cfg.pace_milli / 1000) +
                   (mm_sched_rand(s) % 1000 < (uint64_t)(s->cfg.pace_milli % 1000) ? 1 : 0));
    else
        mm_sched_advance(s, mm_sched_rand(s) % (uint64_t)(2 * s->cfg.rate + 1));
    t0 = mm_mutator_time(s->m);
    if (s->cfg.tear_pct == 0) {
        /* Nothing can land during the copy: one span.  The draws the word
         * loop below would make (and ignore) after each word but the last
         * are skipped by moving the PRNG on by as many steps. */
        size_t r = mm_space_readable(s->sp, addr, len), words;
        if (r > 0)
            (void)mm_space_read(s->sp, addr, d, r);
        if (r >= len) {
            words = (len + 7) / 8;
            if (words > 0)
                s->rng += 0x9e3779b97f4a7c15ull * (uint64_t)(words - 1);
        } else {
            words = r / 8; /* whole words read before the one that faults */
            s->rng += 0x9e3779b97f4a7c15ull * (uint64_t)words;
            rc = r > 0 ? UW_ERR_READ_SHORT : UW_ERR_READ_FAULT;
        }
        goto out;
    }
    /* Word by word: stores may land between two words (a torn read).
     * (Copying the words between two landing points as one span would
     * draw the landing decisions before knowing where a read faults, and
     * change every scenario that reads an unmapped page.) */
    while (done < len) {
        size_t n = len - done < 8 ? len - done : 8;
        rc = mm_space_read(s->sp, addr + done, d + done, n);
        if (rc != 0) {
            rc = done > 0 ? UW_ERR_READ_SHORT : rc;
            break;
        }
        done += n;
        if (done < len && (int)(mm_sched_rand(s) % 100) < s->cfg.tear_pct) {
            torn = 1;
            mm_sched_advance(s, 1 + mm_sched_rand(s) % 3);
        }
    }
out:
    if (s->trace != NULL) {
        mm_trace_ev e = {t0,
                         mm_mutator_time(s->m),
                         addr,
                         0,
                         (uint32_t)len,
                         (int8_t)(rc != 0 ? 3 : torn ? 2 : 1),
                         0,
                         0,
                         0};
        mm_trace_add(s, &e);
    }
    return rc;
}

/* One reader call: a plain read, or the pieces of a vectored one (stores
 * may land before each piece and between its words).  A vectored read's
 * pieces are read group after group; within a group the reader promises no
 * order (reader.h), so each read draws one of the orders a live reader
 * uses or could: the request's (the live reader's few-piece path), address
 * order (its spans), or any (a random permutation), from a stream of its
 * own.  Under MM_RELAXED everything issued is visible once the call
 * returns.  A vectored read counts as one call, as one process_vm_readv
 * does; except under MM_RELAXED, where each ordered group is a call of its
 * own, as a live reader on a machine that may show another core's stores
 * out of order must make it (reader.h): within one call, a group read
 * after another may miss a store issued before one the earlier group saw. */
static int mm_sched_read1(void *ctx, uint64_t addr, void *dst, size_t len)
{
    mm_sched *s = ctx;
    int rc = mm_sched_read(ctx, addr, dst, len);

    if (s->cfg.model == MM_RELAXED)
        mm_relaxed_drain(s);
    return rc;
}

/* The order of group [g0, g1) of s->order: kept, by address, or shuffled. */
static void mm_order_group(mm_sched *s, size_t g0, size_t g1, size_t n, unsigned how)
{
    size_t i;

    if (how == 1) {
        uw__addr_sort(s->order + g0, s->order + n, g1 - g0);
    } else if (how == 2) {
        for (i = g1 - g0; i > 1; i--) {
            size_t j = (size_t)(mm_stream_next(&s->order_rng) % i);
            uw_addr_key t = s->order[g0 + i - 1];
            s->order[g0 + i - 1] = s->order[g0 + j];
            s->order[g0 + j] = t;
        }
    }
}

static int mm_sched_readv(void *ctx, uw_iov *iov, size_t n, const size_t *end, size_t n_groups,
                          uint64_t *calls)
{
    mm_sched *s = ctx;
    size_t i, g, g0;
    unsigned how;

    if (s->order_cap < n) {
        uw_addr_key *o = realloc(s->order, 2 * n * sizeof *o); /* keys, then scratch */
        UW_ASSERT(o != NULL);                                  /* the model does not run short */
        s->order = o;
        s->order_cap = n;
    }
    how = (unsigned)(mm_stream_next(&s->order_rng) % 3);
    for (i = 0; i < n; i++)
        s->order[i] = (uw_addr_key){iov[i].addr, i};
    for (g = 0, g0 = 0; g < n_groups; g0 = end[g], g++)
        mm_order_group(s, g0, end[g], n, how);
    *calls = 1;
    for (i = 0, g = 0; i < n; i++) {
        uw_iov *v = &iov[s->order[i].i];
        size_t g_was = g;
        while (g < n_groups && i >= end[g])
            g++;
        /* a new call: what the last one saw issued is visible */
        if (g != g_was && i > 0 && s->cfg.model == MM_RELAXED) {
            mm_relaxed_drain(s);
            (*calls)++;
        }
        v->status = v->len == 0 ? 0 : mm_sched_read(ctx, v->addr, v->dst, v->len);
    }
    if (s->cfg.model == MM_RELAXED)
        mm_relaxed_drain(s);
    return 0;
}

/* The run clock of the thread with native id tid (schedule.h). */
static int mm_sched_clock(void *ctx, uint64_t tid, uint64_t *out, uint64_t *calls)
{
    mm_sched *s = ctx;

    *calls = 1;
    if (tid < MM_FAB_NATIVE_ID0 || tid - MM_FAB_NATIVE_ID0 >= MM_FAB_THREADS)
        return UW_ERR_NO_CLOCK;
    *out = s->clock[tid - MM_FAB_NATIVE_ID0];
    return 0;
}

/* Every thread of the process: the fabricated threads' native ids (ids
 * of threads not made yet included: their clocks never move alone). */
static int mm_sched_threads(void *ctx, uint64_t *tids, size_t cap, size_t *n, uint64_t *calls)
{
    size_t k;

    (void)ctx;
    *calls = 1;
    *n = 0;
    if (cap < MM_FAB_THREADS)
        return UW_ERR_CAPACITY;
    for (k = 0; k < MM_FAB_THREADS; k++)
        tids[(*n)++] = MM_FAB_NATIVE_ID0 + k;
    return 0;
}

static const uw_reader_ops mm_sched_ops = {mm_sched_read1, mm_sched_readv, mm_sched_clock,
                                           mm_sched_threads};

int mm_sched_init(mm_sched *s, mm_mutator *m, mm_space *sp, const mm_sched_cfg *cfg, uint64_t seed)
{
    memset(s, 0, sizeof *s);
    s->m = m;
    s->sp = sp;
    s->cfg = *cfg;
    s->rng = seed ^ 0x5bd1e995u;
    s->order_rng = seed ^ 0x2545f4914f6cdd1dull;
    uw_reader_init(&s->reader, &mm_sched_ops, s);
    s->reader.group_calls = cfg->model == MM_RELAXED;
    mm_mutator_defer_writes(m, cfg->model == MM_RELAXED);
    return 0;
}

void mm_sched_free(mm_sched *s)
{
    free(s->order);
    s->order = NULL;
    s->order_cap = 0;
}

void mm_sched_run(mm_sched *s, uint64_t n)
{
    mm_sched_advance(s, n);
    if (s->cfg.model == MM_RELAXED)
        mm_relaxed_drain(s); /* between samples everything settles */
}

void mm_sched_run_to_pause(mm_sched *s, uint64_t bound)
{
    uint64_t i;

    for (i = 0; i < bound && !mm_mutator_at_gil_point(s->m); i++) {
        uint64_t t = mm_mutator_time(s->m);
        mm_sched_advance(s, 1);
        if (mm_mutator_time(s->m) == t)
            break; /* nothing left to run */
    }
    if (s->cfg.model == MM_RELAXED)
        mm_relaxed_drain(s);
}

void mm_sched_begin_sample(mm_sched *s)
{
    if (s->trace != NULL)
        s->trace->n = 0;
    s->landed = 0;
    s->recording = 1;
    s->ops_at_start = mm_mutator_ops(s->m);
    mm_world_begin(mm_mutator_world(s->m), mm_mutator_time(s->m));
}

void mm_sched_end_sample(mm_sched *s)
{
    s->recording = 0;
    mm_world_end(mm_mutator_world(s->m), mm_mutator_time(s->m));
}

int mm_sched_still(const mm_sched *s)
{
    return s->landed == 0;
}
