/*
 * prefetch.c — per thread, what its last walk read outside its current
 * chunk, read again in the next walk's first vectored read.
 *
 * A thread's stack changes little between samples, so the C-stack entry
 * frames, generator frames, older chunks and code objects its last walk
 * needed are likely needed again.  Their addresses are kept per thread
 * state (UW_PF_THREADS threads, replaced in turn) and queued, with the
 * thread's chunk, in one vectored read.  A guess that has gone stale costs
 * one failed or unused piece; what is served from a prefetched piece was
 * read during this sample, so a wrong guess never produces a wrong frame.
 * Bounds: UW_PF_FRAMES frames, UW_PF_CODES code objects and
 * UW_LIMIT_CHUNKS - 1 older chunks per thread.
 */
#include <string.h>

#include "tornstack/error.h"
#include "unwind_int.h"

uw_prefetch *uw__pf_entry(uw_unwinder *u, uint64_t ts)
{
    size_t i;

    for (i = 0; i < UW_PF_THREADS; i++)
        if (u->pf[i].tstate == ts)
            return &u->pf[i];
    i = u->pf_next;
    u->pf_next = (u->pf_next + 1) % UW_PF_THREADS;
    memset(&u->pf[i], 0, sizeof u->pf[i]);
    u->pf[i].tstate = ts;
    return &u->pf[i];
}

void uw__pf_reset(uw_unwinder *u)
{
    u->pf_n_frames = 0;
    u->pf_n_codes = 0;
    u->pf_n_chunk_pieces = 0;
    /* the lists are filled from 0 by their counts: only those are reset */
    u->pf_new.tstate = 0;
    u->pf_new.n_frames = u->pf_new.n_codes = u->pf_new.n_chunks = 0;
}

/* Older chunks go into chunk copies 1.. (copy 0 is the current chunk),
 * frames into their own buffers, code objects into the first UW_PF_CODES
 * slots of code_buf. */
size_t uw__pf_queue(uw_unwinder *u, const uw_prefetch *pf, uw_iov *iov, size_t *n)
{
    const size_t cs = (size_t)u->l->code_size, first = *n;
    size_t i;

    for (i = 0; i < pf->n_chunks && i + 1 < UW_LIMIT_CHUNKS; i++) {
        uw_chunk_copy *c = &u->chunks[i + 1];
        if (pf->chunk_len[i] > UW_LIMIT_CHUNK_BYTES ||
            uw__chunk_reserve(c, (size_t)pf->chunk_len[i]) != 0)
            break;
        c->pf_addr = pf->chunks[i];
        c->pf_len = (size_t)pf->chunk_len[i];
        iov[(*n)++] = (uw_iov){c->pf_addr, c->buf, c->pf_len, 0};
    }
    u->pf_n_chunk_pieces = *n - first;
    for (i = 0; i < pf->n_frames; i++) {
        u->pf_frame_addr[i] = pf->frames[i];
        iov[(*n)++] = (uw_iov){pf->frames[i], u->pf_frame_buf[i], (size_t)u->l->frame_size, 0};
    }
    u->pf_n_frames = pf->n_frames;
    for (i = 0; i < pf->n_codes; i++) {
        u->pf_code_addr[i] = pf->codes[i];
        iov[(*n)++] = (uw_iov){pf->codes[i], u->code_buf + i * cs, cs, 0};
    }
    u->pf_n_codes = pf->n_codes;
    return first;
}

void uw__pf_settle(uw_unwinder *u, const uw_iov *iov, size_t first)
{
    const size_t frames = first + u->pf_n_chunk_pieces, codes = frames + u->pf_n_frames;
    size_t i;

    for (i = 0; i < u->pf_n_frames; i++)
        u->pf_frame_ok[i] = iov[frames + i].status == 0;
    for (i = 0; i < u->pf_n_codes; i++)
        u->pf_code_ok[i] = iov[codes + i].status == 0;
    for (i = 0; i < u->pf_n_chunk_pieces; i++)
        u->chunks[i + 1].pf_ok = iov[first + i].status == 0;
}

int uw__pf_frame(uw_unwinder *u, uint64_t addr, uint8_t *out)
{
    size_t i;

    for (i = 0; i < u->pf_n_frames; i++) {
        if (u->pf_frame_ok[i] && u->pf_frame_addr[i] == addr) {
            memcpy(out, u->pf_frame_buf[i], (size_t)u->l->frame_size);
            return 1;
        }
    }
    return 0;
}

const uint8_t *uw__pf_code(const uw_unwinder *u, uint64_t addr)
{
    size_t j;

    for (j = 0; j < u->pf_n_codes; j++)
        if (u->pf_code_ok[j] && u->pf_code_addr[j] == addr)
            return u->code_buf + j * (size_t)u->l->code_size;
    return NULL;
}

void uw__pf_keep(const uw_unwinder *u, uw_prefetch *pf)
{
    const uw_prefetch *n = &u->pf_new;

    pf->tstate = n->tstate;
    pf->n_frames = n->n_frames;
    pf->n_codes = n->n_codes;
    pf->n_chunks = n->n_chunks;
    memcpy(pf->frames, n->frames, n->n_frames * sizeof *n->frames);
    memcpy(pf->codes, n->codes, n->n_codes * sizeof *n->codes);
    memcpy(pf->chunks, n->chunks, n->n_chunks * sizeof *n->chunks);
    memcpy(pf->chunk_len, n->chunk_len, n->n_chunks * sizeof *n->chunk_len);
}

void uw__pf_note_chunk(uw_unwinder *u, uint64_t addr, uint64_t len)
{
    if (u->pf_new.n_chunks < UW_LIMIT_CHUNKS) {
        u->pf_new.chunks[u->pf_new.n_chunks] = addr;
        u->pf_new.chunk_len[u->pf_new.n_chunks] = len;
        u->pf_new.n_chunks++;
    }
}

void uw__pf_note_frame(uw_unwinder *u, uint64_t addr)
{
    if (u->pf_new.n_frames < UW_PF_FRAMES)
        u->pf_new.frames[u->pf_new.n_frames++] = addr;
}

void uw__pf_note_code(uw_unwinder *u, uint64_t addr)
{
    if (u->pf_new.n_codes < UW_PF_CODES)
        u->pf_new.codes[u->pf_new.n_codes++] = addr;
}
