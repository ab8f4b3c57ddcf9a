/*
 * reader_replay.h — a live sample's reads, predicted from the last sample
 * and read in one go (internal; used by reader_proc.c).
 *
 * Each process_vm_readv costs a few microseconds whatever it copies, and a
 * sample of a still program makes the same requests as the one before it:
 * the same thread states, chunks, frames and code objects, the same
 * re-read.  So the live reader records the requests of a sample (the
 * addresses and lengths of each read or vectored read, in order) and, when
 * the next sample begins, reads all of them at once: one call (or one per
 * UIO_MAXIOV spans), the pieces of each of a request's ordered groups
 * merged into spans (close together or on one page: a group's pieces have
 * no order among them), the groups and the requests one after the other,
 * in order; a one-piece group that reads what the one-piece group before
 * it read shares its span (nothing is read between them).  Then each
 * request of the new sample that
 * equals the next predicted one is served from that read.
 *
 * The first request that differs from the prediction ends the serving: it
 * and every later request of the sample are read for real.  So the reads
 * a sample is served happened in the order it made them, before any read
 * it made for real: exactly as if it had made its requests back to back.
 * Nothing is served from an earlier sample.  A prediction whose read of a
 * request failed anywhere is cut before that request.  The next prediction
 * is as long as what this sample was served plus as much again (at least
 * one request), so a program that changes at the same place each sample
 * costs one wasted request, and a still one is read whole in one call.
 *
 * Bounds: UW_REPLAY_REQUESTS requests, UW_REPLAY_GROUPS groups,
 * UW_REPLAY_PIECES pieces and UW_REPLAY_BYTES bytes recorded per sample; a
 * sample past them is predicted up to there.
 */
#ifndef TORNSTACK_READER_REPLAY_H
#define TORNSTACK_READER_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#include "tornstack/reader.h"

#define UW_REPLAY_REQUESTS 4096
#define UW_REPLAY_GROUPS 8192
#define UW_REPLAY_PIECES 16384
#define UW_REPLAY_BYTES (2u * 1024 * 1024)

/* Read pieces iov[0..n) in order, setting each status (a backend's
 * in-order vectored read, no coalescing); *calls gets the calls made. */
typedef int (*uw_replay_readv_fn)(void *ctx, uw_iov *iov, size_t n, uint64_t *calls);

typedef struct uw_replay_req {
    size_t first, n;              /* pieces [first, first + n) */
    size_t group_first, n_groups; /* their ordered groups' ends (gend[]) */
} uw_replay_req;

typedef struct uw_replay_seq {
    uw_replay_req *req;
    size_t n_req;
    size_t *gend; /* each group's end, relative to its request's first */
    size_t n_groups;
    uint64_t *addr;
    size_t *len;
    size_t n_pieces, bytes;
    int full; /* a bound was reached: the rest of the sample is not in it */
} uw_replay_seq;

typedef struct uw_replay {
    int on;             /* a sample has begun */
    uw_replay_seq rec;  /* this sample's requests */
    uw_replay_seq pred; /* the last sample's, being served */
    size_t pred_n;      /* requests of pred read and servable */
    size_t next;        /* the next request of pred to serve */
    int serving;        /* 0 once a request differed */
    size_t last_served; /* requests the last sample was served */
    uint8_t *data;      /* pred's pieces, in order */
    size_t *off;        /* each piece's place in data */
    int *status;
    size_t cap_data;
    uw_iov *spans; /* the batch read */
    size_t cap_spans;
    struct uw_addr_key *keys; /* one request's pieces in address order, then sort scratch */
    size_t *span_of;          /* each piece's span */
    /* the last batch's plan (spans, offsets), kept while the prediction's
     * first plan_want requests stay the same */
    size_t plan_want, plan_ns, plan_pieces;
    uint64_t served, batches; /* counters for benchmarks */
} uw_replay;

void uw__replay_init(uw_replay *rp);
void uw__replay_free(uw_replay *rp);

/* A sample begins: predict it from the last one and read the prediction
 * with readv(ctx, ...).  Returns the backend calls made. */
uint64_t uw__replay_begin(uw_replay *rp, uw_replay_readv_fn readv, void *ctx);

/* Serve request iov[0..n), in n_groups ordered groups ending at end[]
 * (reader.h), from the prediction (1: served, statuses set), or 0: read it
 * for real.  Either way the request is recorded. */
int uw__replay_serve(uw_replay *rp, uw_iov *iov, size_t n, const size_t *end, size_t n_groups);

#endif /* TORNSTACK_READER_REPLAY_H */
