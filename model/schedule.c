/*
 * schedule.c — the model's reader: interleaves the unwinder's reads with
 * the mutator's stores (see schedule.h).
 */
#include "schedule.h"

#include <stdlib.h>
#include <string.h>

#include "tornstack/error.h"

const char *mm_model_name(int model)
{
    switch (model) {
    case MM_TSO:
        return "tso";
    case MM_BOUNDED:
        return "bounded";
    default:
        return "?";
    }
}

static uint64_t mm_sched_rand(mm_sched *s)
{
    uint64_t z = (s->rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void mm_sched_record(mm_sched *s)
{
    if (s->n_hist == s->cap_hist) {
        size_t cap = s->cap_hist ? 2 * s->cap_hist : 64;
        mm_truth *h = realloc(s->hist, cap * sizeof *h);
        if (h == NULL)
            return; /* the oracle then sees fewer instants: stricter, never looser */
        s->hist = h;
        s->cap_hist = cap;
    }
    mm_mutator_truth(s->m, &s->hist[s->n_hist++]);
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

/* Let up to n stores land, respecting the preemption bound. */
static void mm_sched_advance(mm_sched *s, uint64_t n)
{
    uint64_t i;
    for (i = 0; i < n; i++) {
        int rc;
        if (s->recording && s->cfg.model == MM_BOUNDED && mm_mutator_pending(s->m) == 0 &&
            mm_mutator_ops(s->m) - s->ops_at_start >= (uint64_t)s->cfg.bound)
            return;
        rc = mm_mutator_step(s->m);
        if (rc == 1)
            return;
        if (s->trace != NULL && s->recording) {
            const mm_store *st = mm_mutator_last(s->m);
            mm_trace_ev e = {mm_mutator_time(s->m), 0, st->addr, st->value, st->len, 0, st->ev,
                             st->task};
            mm_trace_add(s, &e);
        }
        if (rc == 2 && s->recording)
            mm_sched_record(s);
    }
}

static int mm_sched_read(void *ctx, uint64_t addr, void *dst, size_t len)
{
    mm_sched *s = ctx;
    uint8_t *d = dst;
    size_t done = 0;
    int rc = 0;

    uint64_t t0;
    int torn = 0;

    mm_sched_advance(s, mm_sched_rand(s) % (uint64_t)(2 * s->cfg.rate + 1));
    t0 = mm_mutator_time(s->m);
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
    if (s->trace != NULL) {
        mm_trace_ev e = {t0, mm_mutator_time(s->m), addr, 0, (uint32_t)len,
                         (int8_t)(rc != 0 ? 3 : torn ? 2 : 1), 0, 0};
        mm_trace_add(s, &e);
    }
    return rc;
}

static const uw_reader_ops mm_sched_ops = {mm_sched_read, NULL};

int mm_sched_init(mm_sched *s, mm_mutator *m, mm_space *sp, const mm_sched_cfg *cfg,
                  uint64_t seed)
{
    memset(s, 0, sizeof *s);
    s->m = m;
    s->sp = sp;
    s->cfg = *cfg;
    s->rng = seed ^ 0x5bd1e995u;
    uw_reader_init(&s->reader, &mm_sched_ops, s);
    return 0;
}

void mm_sched_free(mm_sched *s)
{
    free(s->hist);
    s->hist = NULL;
}

void mm_sched_run(mm_sched *s, uint64_t n)
{
    mm_sched_advance(s, n);
}

void mm_sched_begin_sample(mm_sched *s)
{
    if (s->trace != NULL)
        s->trace->n = 0;
    s->n_hist = 0;
    s->recording = 1;
    s->ops_at_start = mm_mutator_ops(s->m);
    mm_sched_record(s);
}

void mm_sched_end_sample(mm_sched *s)
{
    s->recording = 0;
}
