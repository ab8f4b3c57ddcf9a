/*
 * reader_replay.c — a live sample's reads predicted from the last sample
 * and read in one go (see internal/reader_replay.h for the rules).
 */
#include "internal/reader_replay.h"

#include "internal/addr_sort.h"

#include <stdlib.h>
#include <string.h>

#include "tornstack/error.h"

/* Coalescing within one request (whose pieces have no order among them):
 * pieces closer than this, or on the page the span ends on (mapped, then,
 * whatever lies between), are read as one span ... */
#ifndef UW_REPLAY_GAP
#define UW_REPLAY_GAP 2048 /* as UW_PROC_GAP, for the same reason */
#endif
#define UW_REPLAY_PAGE 4096u
/* ... of at most this many bytes.  The kernel pins every page of every
 * span and looks its mapping up: a span more costs more than the bytes
 * between two pieces. */
#define UW_REPLAY_SPAN_MAX (64 * 1024)

static void uw_seq_free(uw_replay_seq *s)
{
    free(s->req);
    free(s->gend);
    free(s->addr);
    free(s->len);
    memset(s, 0, sizeof *s);
}

static int uw_seq_alloc(uw_replay_seq *s)
{
    s->req = malloc(UW_REPLAY_REQUESTS * sizeof *s->req);
    s->gend = malloc(UW_REPLAY_GROUPS * sizeof *s->gend);
    s->addr = malloc(UW_REPLAY_PIECES * sizeof *s->addr);
    s->len = malloc(UW_REPLAY_PIECES * sizeof *s->len);
    return s->req != NULL && s->gend != NULL && s->addr != NULL && s->len != NULL ? 0
                                                                                  : UW_ERR_NOMEM;
}

void uw__replay_init(uw_replay *rp)
{
    memset(rp, 0, sizeof *rp);
}

void uw__replay_free(uw_replay *rp)
{
    uw_seq_free(&rp->rec);
    uw_seq_free(&rp->pred);
    free(rp->data);
    free(rp->off);
    free(rp->status);
    free(rp->spans);
    free(rp->keys);
    free(rp->span_of);
    memset(rp, 0, sizeof *rp);
}

/* Record request iov[0..n) and its groups; past a bound the sequence is
 * closed. */
static void uw_record(uw_replay *rp, const uw_iov *iov, size_t n, const size_t *end,
                      size_t n_groups)
{
    uw_replay_seq *s = &rp->rec;
    size_t i, bytes = 0;

    if (s->full || s->req == NULL)
        return;
    for (i = 0; i < n; i++)
        bytes += iov[i].len;
    if (s->n_req == UW_REPLAY_REQUESTS || n > UW_REPLAY_PIECES - s->n_pieces ||
        n_groups > UW_REPLAY_GROUPS - s->n_groups || bytes > UW_REPLAY_BYTES - s->bytes) {
        s->full = 1;
        return;
    }
    s->req[s->n_req++] = (uw_replay_req){s->n_pieces, n, s->n_groups, n_groups};
    for (i = 0; i < n_groups; i++)
        s->gend[s->n_groups++] = end[i];
    for (i = 0; i < n; i++) {
        s->addr[s->n_pieces] = iov[i].addr;
        s->len[s->n_pieces] = iov[i].len;
        s->n_pieces++;
    }
    s->bytes += bytes;
}

/* Room for the prediction's data. */
static int uw_replay_data(uw_replay *rp, size_t bytes)
{
    if (rp->cap_data < bytes) {
        uint8_t *d = realloc(rp->data, bytes);
        if (d == NULL)
            return UW_ERR_NOMEM;
        rp->data = d;
        rp->cap_data = bytes;
    }
    return 0;
}

/* Room for the prediction's spans (at most one per piece), its pieces'
 * offsets and statuses. */
static int uw_replay_room(uw_replay *rp, size_t pieces)
{
    if (rp->cap_spans < pieces) {
        uw_iov *sp = realloc(rp->spans, pieces * sizeof *sp);
        size_t *off = realloc(rp->off, pieces * sizeof *off);
        int *st = realloc(rp->status, pieces * sizeof *st);
        if (sp != NULL)
            rp->spans = sp;
        if (off != NULL)
            rp->off = off;
        if (st != NULL)
            rp->status = st;
        if (sp == NULL || off == NULL || st == NULL)
            return UW_ERR_NOMEM;
        rp->cap_spans = pieces;
    }
    return 0;
}

/* Does the new prediction start with the same `want` requests, piece for
 * piece, as the old one (whose arrays are rp->rec's until this sample
 * records, old_pieces of them), for which the last plan was made? */
static int uw_same_plan(const uw_replay *rp, size_t want, size_t old_req, size_t old_pieces,
                        size_t old_groups)
{
    const uw_replay_seq *a = &rp->pred, *b = &rp->rec;
    size_t pieces, groups;

    if (rp->plan_want != want || want == 0 || want > old_req)
        return 0;
    pieces = a->req[want - 1].first + a->req[want - 1].n;
    groups = a->req[want - 1].group_first + a->req[want - 1].n_groups;
    return pieces == rp->plan_pieces && pieces <= old_pieces && groups <= old_groups &&
           memcmp(a->req, b->req, want * sizeof *a->req) == 0 &&
           memcmp(a->gend, b->gend, groups * sizeof *a->gend) == 0 &&
           memcmp(a->addr, b->addr, pieces * sizeof *a->addr) == 0 &&
           memcmp(a->len, b->len, pieces * sizeof *a->len) == 0;
}

/* The spans of request r appended from spans[*ns] and data[*used]: the
 * pieces of each of its groups in address order, merged while close (never
 * across groups); each piece's offset in data, its span in span_of.
 * Empty pieces take no span.  A span's dst holds its offset in data until
 * the data buffer is sized.
 *
 * One exception to a span per group: a group that is one piece, the same
 * bytes as the group just before it, which was that one piece too (a
 * thread walk reads the code-object counter last, the next walk reads it
 * first), shares that group's span.  Nothing is read between the two, so
 * one read is what two reads with no store between them would give: the
 * order every group keeps still holds.  *single: the last span if a
 * one-piece group made it, else SIZE_MAX. */
static void uw_plan_request(uw_replay *rp, const uw_replay_req *r, uw_addr_key *keys,
                            size_t *span_of, size_t *ns, size_t *used, size_t *single)
{
    const uw_replay_seq *s = &rp->pred;
    size_t k, g, g0, first_span = *ns;

    for (k = 0; k < r->n; k++)
        keys[k] = (uw_addr_key){s->addr[r->first + k], r->first + k};
    for (g = 0, g0 = 0; g < r->n_groups; g0 = s->gend[r->group_first + g], g++)
        uw__addr_sort(keys + g0, keys + r->n, s->gend[r->group_first + g] - g0);
    for (k = 0, g = 0; k < r->n; k++) {
        size_t pi = keys[k].i;
        uint64_t a = s->addr[pi], end = a + s->len[pi];
        uw_iov *cur;
        while (g < r->n_groups && k >= s->gend[r->group_first + g]) {
            g++;
            first_span = *ns; /* a group's pieces never share a span with another's */
        }
        cur = *ns > first_span ? &rp->spans[*ns - 1] : NULL;
        if (s->len[pi] == 0) {
            span_of[pi] = SIZE_MAX;
            rp->off[pi] = 0;
            continue;
        }
        if (s->gend[r->group_first + g] - (g > 0 ? s->gend[r->group_first + g - 1] : 0) == 1) {
            const uw_iov *last = *single != SIZE_MAX ? &rp->spans[*single] : NULL;
            if (last != NULL && *single + 1 == *ns && last->addr == a && last->len == s->len[pi]) {
                span_of[pi] = *single; /* the group before read just these bytes */
                rp->off[pi] = (size_t)(uintptr_t)last->dst;
                continue;
            }
            *single = *ns; /* the span made below */
        } else {
            *single = SIZE_MAX;
        }
        if (cur != NULL && end >= a && a >= cur->addr &&
            (a <= cur->addr + cur->len + UW_REPLAY_GAP ||
             a / UW_REPLAY_PAGE == (cur->addr + cur->len - 1) / UW_REPLAY_PAGE) &&
            (end > cur->addr + cur->len ? end : cur->addr + cur->len) - cur->addr <=
                UW_REPLAY_SPAN_MAX) {
            if (end > cur->addr + cur->len) {
                *used += (size_t)(end - (cur->addr + cur->len));
                cur->len = (size_t)(end - cur->addr);
            }
        } else {
            rp->spans[*ns] = (uw_iov){a, (void *)(uintptr_t)*used, s->len[pi], 0};
            (*ns)++;
            *used += s->len[pi];
            cur = &rp->spans[*ns - 1];
        }
        span_of[pi] = *ns - 1;
        rp->off[pi] = (size_t)(uintptr_t)cur->dst + (size_t)(a - cur->addr);
    }
}

uint64_t uw__replay_begin(uw_replay *rp, uw_replay_readv_fn readv, void *ctx)
{
    uw_replay_seq tmp;
    size_t want, r, ns = 0, used = 0, *span_of, i, old_req, old_pieces, old_groups;
    size_t single = SIZE_MAX;
    uw_addr_key *keys;
    uint64_t calls = 0;

    if (!rp->on) {
        rp->on = 1;
        rp->keys = malloc(2 * UW_REPLAY_PIECES * sizeof *rp->keys); /* keys, sort scratch */
        rp->span_of = malloc(UW_REPLAY_PIECES * sizeof *rp->span_of);
        if (uw_seq_alloc(&rp->rec) != 0 || uw_seq_alloc(&rp->pred) != 0 || rp->keys == NULL ||
            rp->span_of == NULL) {
            uw_seq_free(&rp->rec);
            uw_seq_free(&rp->pred);
            return 0; /* no memory: nothing is recorded, every read is real */
        }
    }
    keys = rp->keys;
    span_of = rp->span_of;
    /* this sample's record becomes the prediction; served + as much again */
    rp->last_served = rp->next;
    tmp = rp->pred;
    rp->pred = rp->rec;
    rp->rec = tmp;
    old_req = rp->rec.n_req;
    old_pieces = rp->rec.n_pieces;
    old_groups = rp->rec.n_groups;
    rp->rec.n_req = rp->rec.n_pieces = rp->rec.n_groups = rp->rec.bytes = 0;
    rp->rec.full = 0;
    rp->next = 0;
    rp->serving = 1;
    rp->pred_n = 0;
    if (rp->pred.req == NULL)
        return 0;
    want = 2 * rp->last_served + 1;
    if (want > rp->pred.n_req)
        want = rp->pred.n_req;
    if (want == 0)
        return 0;
    if (uw_same_plan(rp, want, old_req, old_pieces, old_groups)) {
        ns = rp->plan_ns; /* the same requests: the same spans (a still program) */
    } else {
        rp->plan_want = 0;
        if (uw_replay_room(rp, rp->pred.n_pieces + 1) != 0)
            return 0;
        for (r = 0; r < want; r++)
            uw_plan_request(rp, &rp->pred.req[r], keys, span_of, &ns, &used, &single);
        if (uw_replay_data(rp, used + 1) != 0)
            return 0;
        for (i = 0; i < ns; i++)
            rp->spans[i].dst = rp->data + (size_t)(uintptr_t)rp->spans[i].dst;
        rp->plan_want = want;
        rp->plan_ns = ns;
        rp->plan_pieces = rp->pred.req[want - 1].first + rp->pred.req[want - 1].n;
    }
    if (ns > 0)
        (void)readv(ctx, rp->spans, ns, &calls);
    rp->batches += calls;
    /* servable: the requests before the first with a span not read whole */
    for (r = 0; r < want; r++) {
        const uw_replay_req *q = &rp->pred.req[r];
        int ok = 1;
        for (i = q->first; i < q->first + q->n && ok; i++)
            ok = span_of[i] == SIZE_MAX || rp->spans[span_of[i]].status == 0;
        if (!ok)
            break;
    }
    rp->pred_n = r;
    return calls;
}

int uw__replay_serve(uw_replay *rp, uw_iov *iov, size_t n, const size_t *end, size_t n_groups)
{
    const uw_replay_req *q;
    size_t i;

    if (!rp->on)
        return 0;
    uw_record(rp, iov, n, end, n_groups);
    if (!rp->serving)
        return 0;
    if (rp->next >= rp->pred_n) {
        rp->serving = 0;
        return 0;
    }
    q = &rp->pred.req[rp->next];
    if (q->n != n || q->n_groups != n_groups ||
        memcmp(rp->pred.gend + q->group_first, end, n_groups * sizeof *end) != 0) {
        rp->serving = 0;
        return 0;
    }
    for (i = 0; i < n; i++) {
        if (rp->pred.addr[q->first + i] != iov[i].addr ||
            rp->pred.len[q->first + i] != iov[i].len) {
            rp->serving = 0;
            return 0;
        }
    }
    for (i = 0; i < n; i++) {
        if (iov[i].len > 0)
            memcpy(iov[i].dst, rp->data + rp->off[q->first + i], iov[i].len);
        iov[i].status = 0;
    }
    rp->next++;
    rp->served++;
    return 1;
}
