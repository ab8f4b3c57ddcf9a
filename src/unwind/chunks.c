/*
 * chunks.c — where the thread walk finds a frame: local copies of the
 * thread's data-stack chunks, prefetched frames, or a direct read.
 *
 * CPython keeps a thread's frames in chunks of its data stack: the current
 * chunk, from its start up to datastack_top, then older chunks linked by
 * `previous`.  The walk copies the live part of the current chunk in its
 * first vectored read (thread.c) and older chunks when a frame is first
 * found outside the copies, at most UW_LIMIT_CHUNKS of them; frames beyond
 * those, and frames that live elsewhere (generator frames, C-stack entry
 * frames), are read one at a time.  Copies are taken during the current
 * sample, so a frame served from them is as fresh as a direct read.
 */
#include <stdlib.h>
#include <string.h>

#include "internal/frame.h"
#include "tornstack/error.h"
#include "unwind_int.h"

int uw__chunk_reserve(uw_chunk_copy *c, size_t len)
{
    if (c->cap < len) {
        uint8_t *b = realloc(c->buf, len);
        if (b == NULL)
            return UW_ERR_NOMEM;
        c->buf = b;
        c->cap = len;
    }
    return 0;
}

void uw__walk_reset(uw_unwinder *u)
{
    size_t i;

    u->n_chunks = 0;
    u->next_chunk = 0;
    u->wp_n = 0;
    u->wp_off = 0;
    for (i = 0; i < UW_LIMIT_CHUNKS; i++)
        u->chunks[i].pf_ok = 0;
    uw__pf_reset(u);
}

void uw__chunk_set_current(uw_unwinder *u, uint64_t chunk, size_t len)
{
    u->chunks[0].addr = chunk;
    u->chunks[0].len = len;
    u->n_chunks = 1;
    u->next_chunk = uw__u64(u->chunks[0].buf + u->l->chunk_previous);
}

/* Read the chunk at u->next_chunk into copy c: its first
 * UW_DATA_STACK_CHUNK_SIZE bytes, then the rest when its header says it
 * is bigger (at most UW_LIMIT_CHUNK_BYTES).  Returns 0 with *size set, or
 * an error. */
static int uw_chunk_read(uw_unwinder *u, uw_chunk_copy *c, uint64_t *size)
{
    const uw_layout *l = u->l;
    int rc;

    rc = uw__chunk_reserve(c, UW_DATA_STACK_CHUNK_SIZE);
    if (rc == 0)
        rc = uw_read(u->r, u->next_chunk, c->buf, UW_DATA_STACK_CHUNK_SIZE);
    if (rc != 0)
        return rc;
    *size = uw__u64(c->buf + l->chunk_size);
    if (*size < (uint64_t)l->chunk_data + (uint64_t)l->frame_size || *size > UW_LIMIT_CHUNK_BYTES)
        return UW_ERR_LIMIT_CHUNK_SIZE;
    if (*size > UW_DATA_STACK_CHUNK_SIZE) {
        rc = uw__chunk_reserve(c, (size_t)*size);
        if (rc == 0)
            rc = uw_read(u->r, u->next_chunk, c->buf, (size_t)*size);
    }
    return rc;
}

/* Copy the next older chunk.  Returns 0 when one was added, 1 when there is
 * none left (or UW_LIMIT_CHUNKS are copied: older frames are then read one
 * by one, so deep recursions stay correct, only slower), or an error (the
 * chain of chunks is then abandoned). */
static int uw_chunk_pull(uw_unwinder *u)
{
    const uw_layout *l = u->l;
    uw_chunk_copy *c;
    uint64_t size;
    int rc;

    if (u->next_chunk == 0)
        return 1;
    if (u->n_chunks == UW_LIMIT_CHUNKS) {
        u->next_chunk = 0;
        return 1;
    }
    c = &u->chunks[u->n_chunks];
    if (c->pf_ok && c->pf_addr == u->next_chunk &&
        uw__u64(c->buf + l->chunk_size) == (uint64_t)c->pf_len) {
        size = c->pf_len; /* prefetched whole with the thread's chunk */
    } else {
        rc = uw_chunk_read(u, c, &size);
        if (rc != 0) {
            u->next_chunk = 0;
            return rc;
        }
    }
    c->addr = u->next_chunk;
    c->len = (size_t)size;
    uw__pf_note_chunk(u, c->addr, size);
    u->n_chunks++;
    u->next_chunk = uw__u64(c->buf + l->chunk_previous);
    return 0;
}

/* The copy that holds a whole frame at addr (past the chunk header), or
 * NULL.  Compared without adding to addr: garbage near 2^64 must not wrap. */
static const uint8_t *uw_chunk_frame(const uw_unwinder *u, uint64_t addr)
{
    const size_t fs = (size_t)u->l->frame_size;
    size_t i;

    for (i = 0; i < u->n_chunks; i++) {
        const uw_chunk_copy *c = &u->chunks[i];
        if (addr >= c->addr && addr - c->addr >= (uint64_t)u->l->chunk_data &&
            addr - c->addr <= c->len && c->len - (addr - c->addr) >= fs)
            return c->buf + (addr - c->addr);
    }
    return NULL;
}

/* 3.15 embeds each thread's base frame in its _PyThreadStateImpl, which
 * the walk read with the thread state in this sample.  That frame is set
 * once, when the thread state is made (no caller, owned by the
 * interpreter, no code) and never changes, so its copy is taken from the
 * thread state's and it needs no read of its own, nor a second one. */
int uw__frame_in_tstate(const uw_unwinder *u, uint64_t addr)
{
    const uw_layout *l = u->l;

    return l->tstate_embedded_base_frame != UW_ABSENT && u->cur_ts != 0 &&
           addr == u->cur_ts + (uint64_t)l->tstate_embedded_base_frame &&
           (size_t)l->tstate_embedded_base_frame + (size_t)l->frame_size <= u->tstate_len;
}

/* The frame at addr from the pages this walk read whole: 1 when served
 * (copied to out).  A frame on no such page has its pages read now (one
 * or two, while UW_WALK_PAGES hold them), so the frames the walk meets
 * next on them (a coroutine chain's frames, made one after the other,
 * share pages) cost no read of their own.  What is served was read during
 * this walk, before its re-read, as the chunk copies were (recheck.c: the
 * walk's reads only need to come before the re-read's).  A page that
 * cannot be read (a process mapped by regions, as the unit tests' are, or
 * a frame at a mapping's end) stops the page reads for the walk, and the
 * frame is read as itself. */
static int uw_walk_page_frame(uw_unwinder *u, uint64_t addr, uint8_t *out)
{
    const size_t fs = (size_t)u->l->frame_size;
    const uint64_t first = addr / UW_WALK_PAGE, last = (addr + fs - 1) / UW_WALK_PAGE;
    size_t i, k;

    if (addr + fs < addr || last - first > 1)
        return 0;
    for (i = 0; i < u->wp_n; i++) {
        /* on one page, or on two read as a pair (neighbours in wp_buf) */
        if (u->wp_page[i] == first &&
            (last == first || (i + 1 < u->wp_n && u->wp_page[i + 1] == last))) {
            memcpy(out, u->wp_buf[i] + addr % UW_WALK_PAGE, fs);
            return 1;
        }
    }
    k = (size_t)(last - first) + 1;
    if (u->wp_off || u->wp_n + k > UW_WALK_PAGES)
        return 0;
    if (uw_read(u->r, first * UW_WALK_PAGE, u->wp_buf[u->wp_n], k * UW_WALK_PAGE) != 0) {
        u->wp_off = 1;
        return 0;
    }
    for (i = 0; i < k; i++)
        u->wp_page[u->wp_n + i] = first + i;
    memcpy(out, u->wp_buf[u->wp_n] + addr % UW_WALK_PAGE, fs);
    u->wp_n += k;
    return 1;
}

/* A frame is looked for in the thread state's copy (3.15's base frame),
 * the prefetched frames, then in the chunk copies (copying older chunks as
 * needed), then on the pages this walk read whole (reading its own when
 * there is room), then read directly.  What was not in a chunk is
 * remembered for the next walk's prefetch. */
int uw__frame_get(uw_unwinder *u, uint64_t addr, uint8_t *out)
{
    const size_t fs = (size_t)u->l->frame_size;
    const uint8_t *in;
    int rc;

    if (uw__frame_in_tstate(u, addr)) {
        memcpy(out, u->tstate + u->l->tstate_embedded_base_frame, fs);
        return 0;
    }
    if (uw__pf_frame(u, addr, out)) {
        uw__pf_note_frame(u, addr);
        return 0;
    }
    for (;;) {
        in = uw_chunk_frame(u, addr);
        if (in != NULL) {
            memcpy(out, in, fs);
            return 0;
        }
        if (uw_chunk_pull(u) != 0)
            break;
    }
    if (uw_walk_page_frame(u, addr, out)) {
        uw__pf_note_frame(u, addr);
        return 0;
    }
    rc = uw_read(u->r, addr, out, fs);
    if (rc != 0)
        return rc;
    uw__pf_note_frame(u, addr);
    return 0;
}

/* The root chunk (the one with no `previous`) starts its frames at data[1]
 * (CPython skips data[0]); a complete walk's last data-stack frame is
 * there.  On 3.15 every chain of thread ts ends at the base frame embedded
 * in its thread state, so the walk's last frame must be that one too. */
int uw__walk_ended_at_root(const uw_unwinder *u, uint64_t ts)
{
    const uw_layout *l = u->l;
    size_t i;

    if (l->tstate_embedded_base_frame != UW_ABSENT &&
        u->last_frame != ts + (uint64_t)l->tstate_embedded_base_frame)
        return 0;
    for (i = 0; i < u->n_chunks; i++) {
        const uw_chunk_copy *c = &u->chunks[i];
        if (uw__u64(c->buf + l->chunk_previous) == 0)
            return u->last_plain >= c->addr &&
                   u->last_plain - c->addr == (uint64_t)l->chunk_data + 8;
    }
    return 1;
}
