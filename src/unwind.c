/*
 * unwind.c — the thread walk (see unwind.h for costs and bounds).
 *
 * A walk of one thread has three phases:
 *
 *   collect   Follow `previous` from the current frame, reading each frame
 *             from the local chunk copies (or directly), and record
 *             (frame address, code, instruction pointer, owner) for every
 *             frame that may be shown.  Stops at NULL, at UW_LIMIT_FRAMES
 *             hops, at a cycle (Brent's algorithm on frame addresses), at
 *             an unreadable frame or an impossible owner.
 *   resolve   One vectored read of the fixed part of every distinct code
 *             object recorded.  Entries already validated in this sample are
 *             trusted; others are compared with the cache and reloaded when
 *             their identity changed (freed and reused code objects).
 *   emit      Skip incomplete frames (CPython's _PyFrame_IsIncomplete), look
 *             up lines, append frames to the sample up to the depth limit.
 *
 * A record whose code object cannot be read or is not a code object ends the
 * emitted stack at that frame with the reason; frames inward of it are kept.
 */
#include "tornstack/unwind.h"

#include "internal/uw_assert.h"
#include <stdlib.h>
#include <string.h>

#include "internal/code_cache.h"
#include "internal/layout.h"
#include "tornstack/error.h"
#include "tornstack/limits.h"

/* Largest thread state / frame we copy (3.11 PyThreadState is 360 bytes). */
#define UW_TSTATE_BUF 1024
#define UW_FRAME_BUF 128

/* Speculative prefetch: what a thread's walk read outside its current
 * chunk last time (C-stack entry frames, generator frames, older chunks,
 * code objects) is read again, by address, in the same vectored call as
 * the thread's chunk.  A stale address costs one failed piece; a frame or
 * code object at the same address is fresh data read in this sample, so
 * correctness never depends on the guess. */
#define UW_PF_THREADS 64
#define UW_PF_FRAMES 32
#define UW_PF_CODES 256

typedef struct uw_chunk_copy {
    uint64_t addr;
    size_t len;
    uint8_t *buf;
    size_t cap;
    uint64_t pf_addr; /* prefetched into buf this walk, 0 if not */
    size_t pf_len;
    int pf_ok;
} uw_chunk_copy;

typedef struct uw_frame_rec {
    uint64_t addr, code, ip;
    int owner;
    int err; /* set by uw_resolve: the code object's problem, 0 if none */
} uw_frame_rec;

typedef struct uw_prefetch {
    uint64_t tstate;
    uint32_t n_frames, n_codes, n_chunks;
    uint64_t frames[UW_PF_FRAMES];
    uint64_t codes[UW_PF_CODES];
    uint64_t chunks[UW_LIMIT_CHUNKS];
    uint64_t chunk_len[UW_LIMIT_CHUNKS];
} uw_prefetch;

/* A thread's loop epoch counter (uw_unwinder_set_epoch). */
typedef struct uw_epoch_ent {
    uint64_t tstate, loop, counter;
} uw_epoch_ent;

struct uw_unwinder {
    uw_reader *r;
    uw_target t;
    const uw_layout *l;
    uw_code_cache cache;
    uint32_t max_depth;

    /* Chunk copies of the thread being walked; buffers kept across walks. */
    uw_chunk_copy chunks[UW_LIMIT_CHUNKS];
    size_t n_chunks;     /* valid copies */
    uint64_t last_plain; /* last frame of the walk in a data stack (owner thread) */
    uint64_t next_chunk; /* older chunk not yet copied, 0 if none */

    /* Prefetch memory per thread, and this walk's prefetched pieces. */
    uw_prefetch pf[UW_PF_THREADS];
    size_t pf_next;          /* round-robin replacement */
    uw_prefetch *pf_cur;     /* entry of the thread being walked */
    uw_prefetch pf_new;      /* what this walk reads out of chunk */
    uint64_t pf_frame_addr[UW_PF_FRAMES];
    int pf_frame_ok[UW_PF_FRAMES];
    uint8_t pf_frame_buf[UW_PF_FRAMES][UW_FRAME_BUF];
    size_t pf_n_frames;
    uint64_t pf_code_addr[UW_PF_CODES];
    int pf_code_ok[UW_PF_CODES];
    size_t pf_n_codes;

    /* Loop epochs (uw_unwinder_set_epoch), by thread state. */
    uw_epoch_ent epoch[UW_PF_THREADS];
    size_t epoch_next; /* next entry to replace when the table is full */

    /* Speculative roots: last sample's first interpreter and thread. */
    uint64_t last_interp, last_tstate;

    uw_frame_rec recs[UW_LIMIT_FRAMES];
    /* Every frame a thread walk visited, as read: checked again at the end. */
    uint64_t visited[UW_LIMIT_FRAMES];
    uint8_t *visited_bytes, *recheck_bytes;
    size_t n_visited;
    uint8_t *recheck_chunk; /* the current chunk, read again */
    size_t recheck_cap;
    uw_iov recheck_iov[UW_LIMIT_FRAMES + 3];
    /* Code resolution scratch; the first UW_PF_CODES slots of code_buf
     * hold prefetched code objects. */
    uint64_t batch_addr[UW_LIMIT_FRAMES];
    uw_iov batch_iov[UW_LIMIT_FRAMES];
    uint8_t *code_buf;
    uw_iov walk_iov[5 + UW_LIMIT_CHUNKS + UW_PF_FRAMES + UW_PF_CODES];
    size_t tstate_len; /* bytes of a thread state read (covers 3.13's running loop) */
    uint8_t tstate[UW_TSTATE_BUF];
    uint8_t tstate_next[UW_TSTATE_BUF];
    int tstate_next_ok;
};

static uint64_t uw_u64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

int uw_unwinder_new(uw_reader *r, const uw_target *t, uw_unwinder **out)
{
    uw_unwinder *u;
    int rc;

    if (r == NULL || t == NULL || out == NULL || t->layout == NULL)
        return UW_ERR_INVALID_ARG;
    *out = NULL;
    rc = uw_layout_check(t->layout);
    if (rc != 0)
        return rc;
    if (t->layout->tstate_size > UW_TSTATE_BUF || t->layout->frame_size > UW_FRAME_BUF)
        return UW_ERR_BAD_LAYOUT;
    u = calloc(1, sizeof *u);
    if (u == NULL)
        return UW_ERR_NOMEM;
    u->r = r;
    u->t = *t;
    u->l = t->layout;
    u->tstate_len = (size_t)u->l->tstate_size;
    if (u->l->tstate_asyncio_running_loop != UW_ABSENT &&
        (size_t)u->l->tstate_asyncio_running_loop + 8 > u->tstate_len)
        u->tstate_len = (size_t)u->l->tstate_asyncio_running_loop + 8;
    if (u->tstate_len > UW_TSTATE_BUF) {
        free(u);
        return UW_ERR_BAD_LAYOUT;
    }
    u->code_buf = malloc((size_t)(UW_PF_CODES + UW_LIMIT_FRAMES) * (size_t)u->l->code_size);
    u->visited_bytes = malloc((size_t)UW_LIMIT_FRAMES * UW_FRAME_BUF);
    u->recheck_bytes = malloc((size_t)UW_LIMIT_FRAMES * UW_FRAME_BUF);
    if (u->code_buf == NULL || u->visited_bytes == NULL || u->recheck_bytes == NULL ||
        uw_code_cache_init(&u->cache) != 0) {
        free(u->code_buf);
        free(u->visited_bytes);
        free(u->recheck_bytes);
        free(u);
        return UW_ERR_NOMEM;
    }
    *out = u;
    return 0;
}

void uw_unwinder_free(uw_unwinder *u)
{
    size_t i;

    if (u == NULL)
        return;
    uw_code_cache_free(&u->cache);
    for (i = 0; i < UW_LIMIT_CHUNKS; i++)
        free(u->chunks[i].buf);
    free(u->code_buf);
    free(u->visited_bytes);
    free(u->recheck_bytes);
    free(u->recheck_chunk);
    free(u);
}

uw_code_cache *uw_unwinder_cache(uw_unwinder *u)
{
    return u != NULL ? &u->cache : NULL;
}

void uw_unwinder_set_max_depth(uw_unwinder *u, uint32_t max_depth)
{
    if (u != NULL)
        u->max_depth = max_depth;
}

static int uw_chunk_reserve(uw_chunk_copy *c, size_t len)
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

/* Forget this walk's chunk copies and prefetched pieces. */
static void uw_walk_reset(uw_unwinder *u)
{
    size_t i;

    u->n_chunks = 0;
    u->next_chunk = 0;
    for (i = 0; i < UW_LIMIT_CHUNKS; i++)
        u->chunks[i].pf_ok = 0;
    u->pf_n_frames = 0;
    u->pf_n_codes = 0;
    u->pf_cur = NULL;
    memset(&u->pf_new, 0, sizeof u->pf_new);
}

/* Copy the next older chunk.  Returns 0 when one was added, 1 when there is
 * none left, or an error (the chain of chunks is then abandoned). */
static int uw_chunk_pull(uw_unwinder *u)
{
    const uw_layout *l = u->l;
    uw_chunk_copy *c;
    uint64_t size;
    int rc;

    if (u->next_chunk == 0)
        return 1;
    if (u->n_chunks == UW_LIMIT_CHUNKS) {
        /* Keep the newest copies; older frames beyond them are read one by
         * one.  Deep recursions stay correct, only slower. */
        u->next_chunk = 0;
        return 1;
    }
    c = &u->chunks[u->n_chunks];
    if (c->pf_ok && c->pf_addr == u->next_chunk &&
        uw_u64(c->buf + l->chunk_size) == (uint64_t)c->pf_len) {
        size = c->pf_len; /* prefetched whole with the thread's chunk */
    } else {
        rc = uw_chunk_reserve(c, UW_DATA_STACK_CHUNK_SIZE);
        if (rc == 0)
            rc = uw_read(u->r, u->next_chunk, c->buf, UW_DATA_STACK_CHUNK_SIZE);
        if (rc != 0) {
            u->next_chunk = 0;
            return rc;
        }
        size = uw_u64(c->buf + l->chunk_size);
        if (size < (uint64_t)l->chunk_data + (uint64_t)l->frame_size ||
            size > UW_LIMIT_CHUNK_BYTES) {
            u->next_chunk = 0;
            return UW_ERR_LIMIT_CHUNK_SIZE;
        }
        if (size > UW_DATA_STACK_CHUNK_SIZE) {
            rc = uw_chunk_reserve(c, (size_t)size);
            if (rc == 0)
                rc = uw_read(u->r, u->next_chunk, c->buf, (size_t)size);
            if (rc != 0) {
                u->next_chunk = 0;
                return rc;
            }
        }
    }
    c->addr = u->next_chunk;
    c->len = (size_t)size;
    if (u->pf_new.n_chunks < UW_LIMIT_CHUNKS) {
        u->pf_new.chunks[u->pf_new.n_chunks] = c->addr;
        u->pf_new.chunk_len[u->pf_new.n_chunks] = size;
        u->pf_new.n_chunks++;
    }
    u->n_chunks++;
    u->next_chunk = uw_u64(c->buf + l->chunk_previous);
    return 0;
}

/* Copy of the frame at addr into out (frame_size bytes): from a chunk copy,
 * a prefetched piece, an older chunk, or a direct read. */
static int uw_frame_get(uw_unwinder *u, uint64_t addr, uint8_t *out)
{
    const size_t fs = (size_t)u->l->frame_size;
    size_t i;
    int rc;

    for (i = 0; i < u->pf_n_frames; i++) {
        if (u->pf_frame_ok[i] && u->pf_frame_addr[i] == addr) {
            memcpy(out, u->pf_frame_buf[i], fs);
            goto remember;
        }
    }
    for (;;) {
        for (i = 0; i < u->n_chunks; i++) {
            const uw_chunk_copy *c = &u->chunks[i];
            if (addr >= c->addr && addr - c->addr >= (uint64_t)u->l->chunk_data &&
                addr - c->addr <= c->len &&
                c->len - (addr - c->addr) >= fs) {
                memcpy(out, c->buf + (addr - c->addr), fs);
                return 0;
            }
        }
        if (uw_chunk_pull(u) != 0)
            break;
    }
    rc = uw_read(u->r, addr, out, fs);
    if (rc != 0)
        return rc;
remember:
    if (u->pf_new.n_frames < UW_PF_FRAMES)
        u->pf_new.frames[u->pf_new.n_frames++] = addr;
    return 0;
}

/* Phase 1: collect the records of the chain starting at first.  With a
 * depth limit the walk stops once that many generator frames (never hidden)
 * were recorded, or the limit plus UW_DEPTH_SLACK records of any kind:
 * enough to fill the limit after incomplete frames are skipped. */
#define UW_DEPTH_SLACK 8
static int uw_collect(uw_unwinder *u, uint64_t first, uint32_t max_depth, size_t *n_out)
{
    const uw_layout *l = u->l;
    uint8_t fb[UW_FRAME_BUF];
    uint64_t addr = first;
    size_t n = 0, hops = 0, sure = 0;
    uw_brent br;
    int rc = 0;

    uw_brent_init(&br, first);
    while (addr != 0) {
        int owner;
        uint64_t code;

        if (max_depth != 0 && (sure >= max_depth || n >= (size_t)max_depth + UW_DEPTH_SLACK)) {
            rc = UW_ERR_DEPTH;
            break;
        }
        if (hops == UW_LIMIT_FRAMES) {
            rc = UW_ERR_LIMIT_FRAMES;
            break;
        }
        if (hops > 0 && uw_brent_cycle(&br, addr)) {
            rc = UW_ERR_CYCLE;
            break;
        }
        hops++;
        if ((addr & 7) != 0) {
            rc = UW_ERR_READ_FAULT; /* frames are word aligned */
            break;
        }
        rc = uw_frame_get(u, addr, fb);
        if (rc != 0)
            break;
        if (u->n_visited < UW_LIMIT_FRAMES) {
            u->visited[u->n_visited] = addr;
            memcpy(u->visited_bytes + u->n_visited * UW_FRAME_BUF, fb, (size_t)l->frame_size);
            u->n_visited++;
        }
        owner = fb[l->frame_owner];
        code = uw_u64(fb + l->frame_code);
        if (owner == l->owner_thread)
            u->last_plain = addr;
        if (l->owner_cstack != UW_ABSENT && owner == l->owner_cstack) {
            /* entry/trampoline frame on the C stack: never shown */
        } else if (owner != l->owner_thread && owner != l->owner_generator &&
                   owner != l->owner_frame_object) {
            rc = UW_ERR_BAD_FRAME;
            break;
        } else if (code != 0) {
            u->recs[n].addr = addr;
            u->recs[n].code = code;
            u->recs[n].ip = uw_u64(fb + l->frame_instr);
            u->recs[n].owner = owner;
            u->recs[n].err = 0;
            sure += owner == l->owner_generator;
            n++;
        }
        addr = uw_u64(fb + l->frame_previous);
    }
    *n_out = n;
    return rc;
}

/* Validate (or load) the cache entry of one code object whose fixed part
 * is in obj.  Returns 0 or the error that makes it unusable. */
static int uw_resolve_one(uw_unwinder *u, uint64_t addr, const uint8_t *obj)
{
    uw_code_ident id;
    uw_code_info *e;
    int rc;

    rc = uw_code_ident_parse(u->l, obj, (size_t)u->l->code_size, &id);
    if (rc != 0)
        return rc;
    e = uw_code_cache_find(&u->cache, addr);
    if (e != NULL && memcmp(&e->id, &id, sizeof id) == 0) {
        e->stamp = u->cache.stamp;
        u->cache.hits++;
        return 0;
    }
    if (e != NULL)
        u->cache.reloads++;
    return uw_code_cache_load(&u->cache, u->r, u->l, u->t.code_type, addr, &id, &e);
}

/* Phase 2: give every recorded code object a cache entry validated in this
 * sample.  Codes prefetched with the chunk are checked from that copy; the
 * rest are read in one vectored call.  On failure, *bad_at is the innermost
 * record whose code is unusable and the error is returned. */
static int uw_resolve(uw_unwinder *u, size_t n, size_t *bad_at)
{
    const size_t cs = (size_t)u->l->code_size;
    uint8_t *batch_base = u->code_buf + (size_t)UW_PF_CODES * cs;
    size_t i, j, nb = 0;
    int first_err = 0;

    *bad_at = n;
    for (i = 0; i < n; i++) {
        uint64_t code = u->recs[i].code;
        uw_code_info *e = uw_code_cache_find(&u->cache, code);
        int done = 0, rc = 0;

        if (e != NULL && e->stamp == u->cache.stamp)
            continue;
        for (j = 0; j < nb && !done; j++)
            done = u->batch_addr[j] == code;
        if (done)
            continue;
        if (u->pf_new.n_codes < UW_PF_CODES)
            u->pf_new.codes[u->pf_new.n_codes++] = code;
        for (j = 0; j < u->pf_n_codes; j++) {
            if (u->pf_code_ok[j] && u->pf_code_addr[j] == code) {
                rc = uw_resolve_one(u, code, u->code_buf + j * cs);
                done = 1;
                break;
            }
        }
        if (done) {
            if (rc != 0) {
                u->recs[i].err = rc;
                if (i < *bad_at) {
                    *bad_at = i;
                    first_err = rc;
                }
            }
            continue;
        }
        u->batch_addr[nb] = code;
        u->batch_iov[nb] = (uw_iov){code, batch_base + nb * cs, cs, 0};
        nb++;
    }
    if (nb == 0)
        return first_err;
    (void)uw_readv(u->r, u->batch_iov, nb);
    for (j = 0; j < nb; j++) {
        int rc = u->batch_iov[j].status;
        if (rc == 0)
            rc = uw_resolve_one(u, u->batch_addr[j], batch_base + j * cs);
        if (rc == 0)
            continue;
        for (i = 0; i < n; i++) {
            if (u->recs[i].code == u->batch_addr[j]) {
                u->recs[i].err = rc;
                if (i < *bad_at) {
                    *bad_at = i;
                    first_err = rc;
                }
            }
        }
    }
    return first_err;
}

/* The validated entry of a code object (table or overflow list). */
static uw_code_info *uw_code_for(uw_unwinder *u, uint64_t code)
{
    uw_code_info *e = uw_code_cache_find(&u->cache, code);

    if (e != NULL && e->stamp == u->cache.stamp)
        return e;
    /* Loaded while the table was full: bounded by the codes of a sample. */
    for (e = u->cache.overflow; e != NULL && e->addr != code; e = e->next_overflow)
        ;
    return e;
}

/* The frame a validated record shows; 1 when it is hidden (incomplete). */
static int uw_rec_frame(uw_unwinder *u, const uw_frame_rec *rec, uw_frame *f)
{
    const uw_layout *l = u->l;
    uw_code_info *e = uw_code_for(u, rec->code);
    uint64_t base;
    int64_t index;
    int line = -1;

    UW_ASSERT(e != NULL); /* uw_resolve validated it */
    if (e == NULL)
        return UW_ERR_BAD_CODE;
    base = rec->code + (uint64_t)l->code_adaptive;
    /* Incomplete frame: not yet past its first traceable instruction. */
    if (rec->owner != l->owner_generator &&
        rec->ip < base + 2 * (uint64_t)(uint32_t)e->id.firsttraceable)
        return 1;
    if (e->flags & UW_CODE_SHIM)
        return 1;
    index = rec->ip >= base ? (int64_t)((rec->ip - base) / 2) : -1;
    /* An instruction pointer outside its code object's bytecode comes from
     * another frame that used the same slot: a torn frame. */
    if (rec->ip + 2 < base || index >= e->id.units)
        return UW_ERR_BAD_FRAME;
    if (uw_code_line(e, index, &line) != 0)
        line = -1; /* a malformed table costs the line, not the frame */
    f->code = e;
    f->addr = rec->addr;
    f->line = line;
    f->flags = (rec->owner == l->owner_generator ? UW_FRAME_GENERATOR : 0u) |
               ((e->flags & UW_CODE_NAME_TRUNCATED) ? UW_FRAME_NAME_TRUNCATED : 0u);
    return 0;
}

/* Phase 3: append the shown frames to the sample. */
static int uw_emit(uw_unwinder *u, size_t n, uint32_t max_depth, uw_sample *s,
                   uw_thread_sample *th, int *trunc)
{
    size_t i;
    uint32_t shown = 0;

    for (i = 0; i < n; i++) {
        uw_frame f;
        int rc = uw_rec_frame(u, &u->recs[i], &f);
        if (rc == UW_ERR_BAD_FRAME) {
            *trunc = rc; /* keep the frames before the torn one */
            break;
        }
        if (rc < 0)
            return rc;
        if (rc == 1) {
            /* Only the newest frame can be incomplete (not yet at its first
             * instruction): one with a callee has run.  Further down, it
             * is a slot read before all of its fields were (a torn walk),
             * and hiding it could hide a Handle._run, and the split. */
            const uw_code_info *e = uw_code_for(u, u->recs[i].code);
            if (i > 0 && e != NULL && !(e->flags & UW_CODE_SHIM)) {
                *trunc = UW_ERR_INCOMPLETE;
                break;
            }
            continue;
        }
        if (max_depth != 0 && shown == max_depth) {
            *trunc = UW_ERR_DEPTH;
            break;
        }
        rc = uw_sample_add_frame(s, &f);
        if (rc != 0)
            return rc;
        th->n_frames++;
        shown++;
    }
    return 0;
}

int uw_frames_from_copies(uw_unwinder *u, const uint64_t *addrs, const uint8_t *bytes, size_t n,
                          uw_frame *out, int *status)
{
    const uw_layout *l;
    size_t done = 0;

    if (u == NULL || (n != 0 && (addrs == NULL || bytes == NULL || out == NULL || status == NULL)))
        return UW_ERR_INVALID_ARG;
    l = u->l;
    uw_walk_reset(u);
    while (done < n) {
        size_t idx[UW_LIMIT_FRAMES];
        size_t m = 0, i, bad_at;

        for (i = done; i < n && m < UW_LIMIT_FRAMES; i++) {
            const uint8_t *fb = bytes + i * (size_t)l->frame_size;
            int owner = fb[l->frame_owner];
            uint64_t code = uw_u64(fb + l->frame_code);
            if (l->owner_cstack != UW_ABSENT && owner == l->owner_cstack) {
                status[i] = 1;
            } else if (owner != l->owner_thread && owner != l->owner_generator &&
                       owner != l->owner_frame_object) {
                status[i] = UW_ERR_BAD_FRAME;
            } else if (code == 0) {
                status[i] = 1;
            } else {
                u->recs[m] = (uw_frame_rec){addrs[i], code, uw_u64(fb + l->frame_instr), owner, 0};
                idx[m++] = i;
                status[i] = 0;
            }
        }
        done = i;
        (void)uw_resolve(u, m, &bad_at);
        for (i = 0; i < m; i++) {
            if (u->recs[i].err != 0) {
                status[idx[i]] = u->recs[i].err;
                continue;
            }
            status[idx[i]] = uw_rec_frame(u, &u->recs[i], &out[idx[i]]);
        }
    }
    return 0;
}

uw_reader *uw_unwinder_reader(uw_unwinder *u)
{
    return u != NULL ? u->r : NULL;
}

const uw_target *uw_unwinder_target(uw_unwinder *u)
{
    return u != NULL ? &u->t : NULL;
}

int uw_unwinder_set_epoch(uw_unwinder *u, uint64_t tstate, uint64_t loop, uint64_t counter)
{
    size_t i, free_i = SIZE_MAX;

    if (u == NULL || tstate == 0)
        return UW_ERR_INVALID_ARG;
    for (i = 0; i < UW_PF_THREADS; i++) {
        if (u->epoch[i].tstate == tstate) {
            free_i = i;
            break;
        }
        if (u->epoch[i].tstate == 0 && free_i == SIZE_MAX)
            free_i = i;
    }
    if (counter == 0) {
        if (free_i != SIZE_MAX && u->epoch[free_i].tstate == tstate)
            memset(&u->epoch[free_i], 0, sizeof u->epoch[free_i]);
        return 0;
    }
    if (free_i == SIZE_MAX) {
        /* full: threads that exited keep their entries, so replace one in
         * turn (a live thread that loses its entry is walked once more
         * without an epoch, then registered again) */
        free_i = u->epoch_next;
        u->epoch_next = (u->epoch_next + 1) % UW_PF_THREADS;
    }
    u->epoch[free_i].tstate = tstate;
    u->epoch[free_i].loop = loop;
    u->epoch[free_i].counter = counter;
    return 0;
}

uint64_t uw_unwinder_epoch_loop(const uw_unwinder *u, uint64_t tstate)
{
    size_t i;

    if (u == NULL || tstate == 0)
        return 0;
    for (i = 0; i < UW_PF_THREADS; i++)
        if (u->epoch[i].tstate == tstate)
            return u->epoch[i].loop;
    return 0;
}

int uw_unwinder_epoch(const uw_unwinder *u, uint64_t tstate, uint64_t *loop, uint64_t *counter)
{
    size_t i;

    if (u == NULL || loop == NULL || counter == NULL)
        return UW_ERR_INVALID_ARG;
    for (i = 0; tstate != 0 && i < UW_PF_THREADS; i++) {
        if (u->epoch[i].tstate == tstate) {
            *loop = u->epoch[i].loop;
            *counter = u->epoch[i].counter;
            return 0;
        }
    }
    return UW_ERR_NOT_FOUND;
}

static int uw_walk_chain(uw_unwinder *u, uint64_t first, uint32_t max_depth, uw_sample *s,
                         uw_thread_sample *th)
{
    size_t n = 0, bad_at;
    int trunc, rc, trunc_resolve;

    trunc = uw_collect(u, first, max_depth, &n);
    trunc_resolve = uw_resolve(u, n, &bad_at);
    if (trunc_resolve != 0) {
        n = bad_at;
        trunc = trunc_resolve;
    }
    rc = uw_emit(u, n, max_depth, s, th, &trunc);
    if (rc != 0)
        return rc;
    if (th->truncated == 0)
        th->truncated = trunc;
    return 0;
}

int uw_unwind_chain(uw_unwinder *u, uint64_t first, uint32_t max_depth, uw_sample *s,
                    uw_thread_sample *th)
{
    if (u == NULL || s == NULL || th == NULL)
        return UW_ERR_INVALID_ARG;
    uw_walk_reset(u);
    return uw_walk_chain(u, first, max_depth, s, th);
}

/* The prefetch entry of thread state ts (a fresh one if unknown). */
static uw_prefetch *uw_pf_entry(uw_unwinder *u, uint64_t ts)
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

/* Check a finished walk of thread `ts` (current frame `first`) against a
 * second read of everything it visited.
 *
 * The frames were read over a stretch of time, so a `previous` may have led
 * into a slot that another frame has reused since: a stack mixing two
 * instants.  One vectored read brings every visited frame again (the
 * chunk's frames coalesce into one span), then the current-frame pointer,
 * then (with an epoch) the loop's epoch counter.  They are read in the
 * reverse order of the walk's reads, so that one interleaving of the
 * target's stores cannot tear both reads the same way.  What must be
 * unchanged: each frame's code, previous and owner, and the callers'
 * instruction pointers (fixed at their call sites while their callee
 * runs); the innermost frame keeps running and its pointer may move.
 *
 * Without an epoch, any change marks the walk incomplete (retried).  A
 * change that reverted in between (ABA) escapes this check: a Task step
 * that ended and a next one that began in the same slot look the same.
 *
 * With an epoch (e0 read before the walk, e1 now), the loop started no
 * callback in between, so it ran one Handle._run throughout, or none.
 * Then:
 *   - e0 != e1: incomplete (the walk may span two callbacks);
 *   - the frames from the outermost Handle._run down changed: incomplete;
 *   - only frames above it changed: they belong to the callback (the
 *     running Task) and are dropped from the sample (th->top_dropped); the
 *     pure Python stack is kept, because during one callback the frames
 *     under its Handle._run stay on the stack untouched (LIFO);
 *   - no Handle._run on the stack and anything changed: incomplete. */
static void uw_walk_recheck(uw_unwinder *u, uint64_t ts, uint64_t first, const uw_epoch_ent *ep,
                            uint64_t e0, uw_sample *s, uw_thread_sample *th)
{
    const uw_layout *l = u->l;
    uw_iov *rv = u->recheck_iov;
    uint64_t cf = 0, now = 0, e1 = 0;
    const uw_chunk_copy *c0 = u->n_chunks > 0 ? &u->chunks[0] : NULL;
    size_t nr = 0, k, i_re = SIZE_MAX, k_split = SIZE_MAX;
    int read_ok, top_same, bottom_same;

    UW_ASSERT(th->truncated == 0 && first != 0);
    UW_ASSERT(th->first_frame + th->n_frames == s->n_frames);
    if (th->split >= 0) {
        uint64_t split_addr = s->frames[th->first_frame + (size_t)th->split].addr;
        for (k = u->n_visited; k-- > 0;)
            if (u->visited[k] == split_addr) {
                k_split = k;
                break;
            }
    }
    for (k = 0; k < u->n_visited; k++) {
        uint64_t a = u->visited[k];
        if (c0 != NULL && a >= c0->addr && a - c0->addr + (uint64_t)l->frame_size <= c0->len &&
            u->recheck_cap >= c0->len)
            continue;
        rv[nr++] = (uw_iov){a, u->recheck_bytes + k * UW_FRAME_BUF, (size_t)l->frame_size, 0};
    }
    if (c0 != NULL) {
        if (u->recheck_cap < c0->len) {
            uint8_t *b = realloc(u->recheck_chunk, c0->len);
            if (b != NULL) {
                u->recheck_chunk = b;
                u->recheck_cap = c0->len;
            }
        }
        if (u->recheck_cap >= c0->len) {
            i_re = nr;
            rv[nr++] = (uw_iov){c0->addr, u->recheck_chunk, c0->len, 0};
        }
    }
    if (l->tstate_cframe != UW_ABSENT) {
        rv[nr++] = (uw_iov){ts + (uint64_t)l->tstate_cframe, &cf, 8, 0};
        rv[nr++] = (uw_iov){uw_u64(u->tstate + l->tstate_cframe) +
                                (uint64_t)l->cframe_current_frame,
                            &now, 8, 0};
    } else {
        rv[nr++] = (uw_iov){ts + (uint64_t)l->tstate_current_frame, &now, 8, 0};
    }
    if (ep != NULL)
        rv[nr++] = (uw_iov){ep->counter, &e1, 8, 0};
    UW_ASSERT(nr <= sizeof u->recheck_iov / sizeof u->recheck_iov[0]);
    read_ok = uw_readv(u->r, rv, nr) == 0;
    top_same = read_ok && now == first &&
               (l->tstate_cframe == UW_ABSENT || cf == uw_u64(u->tstate + l->tstate_cframe));
    bottom_same = read_ok;
    for (k = 0; read_ok && k < u->n_visited; k++) {
        const uint8_t *b = u->visited_bytes + k * UW_FRAME_BUF;
        uint64_t addr = u->visited[k];
        const uint8_t *a;
        int same;
        if (i_re != SIZE_MAX && addr >= c0->addr &&
            addr - c0->addr + (uint64_t)l->frame_size <= c0->len)
            a = u->recheck_chunk + (addr - c0->addr);
        else
            a = u->recheck_bytes + k * UW_FRAME_BUF;
        same = memcmp(a + l->frame_code, b + l->frame_code, 8) == 0 &&
               memcmp(a + l->frame_previous, b + l->frame_previous, 8) == 0 &&
               a[l->frame_owner] == b[l->frame_owner] &&
               (k == 0 || memcmp(a + l->frame_instr, b + l->frame_instr, 8) == 0);
        if (k_split != SIZE_MAX && k >= k_split)
            bottom_same = bottom_same && same;
        else
            top_same = top_same && same;
    }
    if (ep == NULL) {
        if (!top_same || !bottom_same)
            th->truncated = UW_ERR_INCOMPLETE;
        return;
    }
    th->epoch_loop = ep->loop;
    if (!read_ok || e1 != e0 || !bottom_same) {
        th->truncated = UW_ERR_INCOMPLETE;
    } else if (!top_same) {
        size_t cut;
        if (k_split == SIZE_MAX || th->split < 0) {
            th->truncated = UW_ERR_INCOMPLETE;
            return;
        }
        cut = (size_t)th->split;
        memmove(&s->frames[th->first_frame], &s->frames[th->first_frame + cut],
                (th->n_frames - cut) * sizeof *s->frames);
        th->n_frames -= cut;
        s->n_frames -= cut;
        th->split = 0;
        th->top_dropped = 1;
    }
}

/* Walk the thread whose state is in u->tstate (read from address ts).
 * One vectored read brings the current-frame pointer (3.11/3.12), the live
 * part of the current chunk, last walk's out-of-chunk pieces and the next
 * thread state (into u->tstate_next). */
static int uw_walk_thread_once(uw_unwinder *u, uint64_t ts, uw_sample *s, uw_thread_sample *th)
{
    const uw_layout *l = u->l;
    const size_t cs = (size_t)l->code_size;
    uw_iov *iov = u->walk_iov;
    uint64_t first = 0, chunk, top, next;
    uw_prefetch *pf;
    size_t niov = 0, i, i_cframe = SIZE_MAX, i_chunk = SIZE_MAX, i_next = SIZE_MAX;
    size_t i_frames, i_codes, i_chunks, i_epoch = SIZE_MAX, ep = SIZE_MAX;
    uint64_t e0 = 0;
    int rc;

    th->tstate_dict = uw_u64(u->tstate + l->tstate_dict);
    if (l->tstate_asyncio_running_loop != UW_ABSENT)
        th->running_loop = uw_u64(u->tstate + l->tstate_asyncio_running_loop);
    next = uw_u64(u->tstate + l->tstate_next);
    th->thread_id = uw_u64(u->tstate + l->tstate_thread_id);
    th->native_id = uw_u64(u->tstate + l->tstate_native_thread_id);
    chunk = uw_u64(u->tstate + l->tstate_datastack_chunk);
    top = uw_u64(u->tstate + l->tstate_datastack_top);

    uw_walk_reset(u);
    u->last_plain = 0;
    u->n_visited = 0;
    pf = uw_pf_entry(u, ts);
    /* The loop epoch before anything the walk depends on, the current-frame
     * pointer included (read again here on 3.13 too, after the epoch). */
    for (i = 0; i < UW_PF_THREADS; i++)
        if (u->epoch[i].tstate == ts)
            ep = i;
    if (ep != SIZE_MAX) {
        i_epoch = niov;
        iov[niov++] = (uw_iov){u->epoch[ep].counter, &e0, sizeof e0, 0};
    }
    i_cframe = niov;
    if (l->tstate_cframe != UW_ABSENT)
        iov[niov++] = (uw_iov){uw_u64(u->tstate + l->tstate_cframe) +
                                   (uint64_t)l->cframe_current_frame,
                               &first, sizeof first, 0};
    else
        iov[niov++] = (uw_iov){ts + (uint64_t)l->tstate_current_frame, &first, sizeof first, 0};
    /* The live part of the current chunk: [chunk, datastack_top).  Compared
     * without adding to `chunk`: garbage near 2^64 must not wrap. */
    if (chunk != 0 && top > chunk && top - chunk > (uint64_t)l->chunk_data &&
        top - chunk <= UW_LIMIT_CHUNK_BYTES &&
        uw_chunk_reserve(&u->chunks[0], (size_t)(top - chunk)) == 0) {
        i_chunk = niov;
        iov[niov++] = (uw_iov){chunk, u->chunks[0].buf, (size_t)(top - chunk), 0};
    }
    if (next != 0) {
        i_next = niov;
        iov[niov++] = (uw_iov){next, u->tstate_next, u->tstate_len, 0};
    }
    i_chunks = niov;
    for (i = 0; i < pf->n_chunks && i + 1 < UW_LIMIT_CHUNKS; i++) {
        uw_chunk_copy *c = &u->chunks[i + 1];
        if (pf->chunk_len[i] > UW_LIMIT_CHUNK_BYTES ||
            uw_chunk_reserve(c, (size_t)pf->chunk_len[i]) != 0)
            break;
        c->pf_addr = pf->chunks[i];
        c->pf_len = (size_t)pf->chunk_len[i];
        iov[niov++] = (uw_iov){c->pf_addr, c->buf, c->pf_len, 0};
    }
    i_frames = niov;
    for (i = 0; i < pf->n_frames; i++) {
        u->pf_frame_addr[i] = pf->frames[i];
        iov[niov++] = (uw_iov){pf->frames[i], u->pf_frame_buf[i], (size_t)l->frame_size, 0};
    }
    u->pf_n_frames = pf->n_frames;
    i_codes = niov;
    for (i = 0; i < pf->n_codes; i++) {
        u->pf_code_addr[i] = pf->codes[i];
        iov[niov++] = (uw_iov){pf->codes[i], u->code_buf + i * cs, cs, 0};
    }
    u->pf_n_codes = pf->n_codes;
    UW_ASSERT(niov <= sizeof u->walk_iov / sizeof u->walk_iov[0]);

    rc = uw_readv(u->r, iov, niov);
    if (rc == UW_ERR_NO_PROCESS)
        return rc;
    u->tstate_next_ok = i_next != SIZE_MAX && iov[i_next].status == 0;
    for (i = 0; i < u->pf_n_frames; i++)
        u->pf_frame_ok[i] = iov[i_frames + i].status == 0;
    for (i = 0; i < u->pf_n_codes; i++)
        u->pf_code_ok[i] = iov[i_codes + i].status == 0;
    for (i = i_chunks; i < i_frames; i++)
        u->chunks[i - i_chunks + 1].pf_ok = iov[i].status == 0;
    if (i_epoch != SIZE_MAX && iov[i_epoch].status != 0)
        ep = SIZE_MAX; /* no epoch this time: the whole walk is checked */
    if (iov[i_cframe].status != 0) {
        th->truncated = iov[i_cframe].status;
        return 0;
    }
    if (i_chunk != SIZE_MAX && iov[i_chunk].status == 0) {
        u->chunks[0].addr = chunk;
        u->chunks[0].len = iov[i_chunk].len;
        u->n_chunks = 1;
        u->next_chunk = uw_u64(u->chunks[0].buf + l->chunk_previous);
    }
    rc = uw_walk_chain(u, first, u->max_depth, s, th);
    for (i = th->n_frames; i-- > 0;) {
        const uw_frame *f = &s->frames[th->first_frame + i];
        if (f->code->flags & UW_CODE_HANDLE_RUN) {
            th->split = (int64_t)i; /* the outermost one */
            break;
        }
    }
    if (rc == 0 && th->truncated == 0 && first != 0)
        uw_walk_recheck(u, ts, first, ep != SIZE_MAX ? &u->epoch[ep] : NULL, e0, s, th);
    /* A complete walk ends at the thread's first frame, data[1] of its root
     * chunk (the root chunk skips data[0]).  Ending anywhere else means a
     * frame was unlinked (its `previous` cleared) between reading the
     * current-frame pointer and reading the frame: a stack that never was. */
    if (rc == 0 && th->truncated == 0 && first != 0) {
        for (i = 0; i < u->n_chunks; i++) {
            const uw_chunk_copy *c = &u->chunks[i];
            if (uw_u64(c->buf + l->chunk_previous) == 0) {
                if (u->last_plain < c->addr ||
                    u->last_plain - c->addr != (uint64_t)l->chunk_data + 8)
                    th->truncated = UW_ERR_INCOMPLETE;
                break;
            }
        }
    }
    /* Remember what this walk needed outside its chunk for next time. */
    u->pf_new.tstate = ts;
    *pf = u->pf_new;
    return rc;
}

/* Is `reason` the mark of a torn read (a frame pushed or popped while we
 * copied it), worth walking the thread again for? */
static int uw_torn(int reason)
{
    switch (reason) {
    case UW_ERR_READ_FAULT:
    case UW_ERR_READ_SHORT:
    case UW_ERR_BAD_FRAME:
    case UW_ERR_BAD_CODE:
    case UW_ERR_CYCLE:
    case UW_ERR_STRING:
    case UW_ERR_LINETABLE:
    case UW_ERR_INCOMPLETE:
        return 1;
    default:
        return 0;
    }
}

/* Walk the thread whose state is in u->tstate; a walk cut by a torn read
 * is retried from a fresh thread state, at most UW_THREAD_RETRIES times,
 * as CPython's own remote tools treat such errors as transient.  The sample
 * keeps the last walk only. */
static int uw_walk_thread(uw_unwinder *u, uint64_t ts, uint64_t interp, int64_t interp_id,
                          uw_sample *s)
{
    uw_thread_sample *th;
    unsigned attempt;
    int rc;

    rc = uw_sample_add_thread(s, ts, interp, interp_id, &th);
    if (rc != 0)
        return rc;
    for (attempt = 0;; attempt++) {
        rc = uw_walk_thread_once(u, ts, s, th);
        if (rc != 0 || !uw_torn(th->truncated) || attempt == UW_THREAD_RETRIES)
            break;
        if (uw_read(u->r, ts, u->tstate, u->tstate_len) != 0)
            break; /* keep the cut walk: the thread state itself is gone */
        s->n_frames = th->first_frame;
        th->n_frames = 0;
        th->truncated = 0;
        th->split = -1;
        th->top_dropped = 0;
        th->epoch_loop = 0;
        th->retries++;
    }
    return rc;
}

int uw_unwind_one_thread(uw_unwinder *u, uint64_t tstate, uint64_t interp, int64_t interp_id,
                         uw_sample *s)
{
    int rc;

    if (u == NULL || s == NULL || tstate == 0)
        return UW_ERR_INVALID_ARG;
    rc = uw_read(u->r, tstate, u->tstate, u->tstate_len);
    if (rc != 0)
        return rc;
    return uw_walk_thread(u, tstate, interp, interp_id, s);
}

int uw_unwind_threads(uw_unwinder *u, uw_sample *s)
{
    const uw_layout *l;
    uint64_t interp, c0, b0, words[3] = {0, 0, 0};
    size_t n_interp = 0;
    uw_brent br_i;
    uw_iov root[5];
    size_t nroot = 0;
    int rc, interp_known = 0, tstate_known = 0;

    if (u == NULL || s == NULL)
        return UW_ERR_INVALID_ARG;
    l = u->l;
    uw_sample_reset(s);
    uw_code_cache_begin(&u->cache);
    c0 = u->r->calls;
    b0 = u->r->bytes;
    /* Roots, with last sample's first interpreter and thread guessed. */
    root[nroot++] = (uw_iov){u->t.runtime_addr + (uint64_t)l->runtime_interpreters_head,
                             &interp, sizeof interp, 0};
    if (u->last_interp != 0) {
        root[nroot++] = (uw_iov){u->last_interp + (uint64_t)l->interp_next, &words[0], 8, 0};
        root[nroot++] = (uw_iov){u->last_interp + (uint64_t)l->interp_id, &words[1], 8, 0};
        root[nroot++] = (uw_iov){u->last_interp + (uint64_t)l->interp_threads_head, &words[2], 8, 0};
        if (u->last_tstate != 0)
            root[nroot++] = (uw_iov){u->last_tstate, u->tstate, u->tstate_len, 0};
    }
    rc = uw_readv(u->r, root, nroot);
    if (root[0].status != 0) {
        rc = root[0].status;
        goto out;
    }
    interp_known = nroot >= 4 && interp == u->last_interp && root[1].status == 0 &&
                   root[2].status == 0 && root[3].status == 0;
    tstate_known = interp_known && nroot == 5 && root[4].status == 0 &&
                   words[2] == u->last_tstate;
    u->last_interp = interp;
    u->last_tstate = 0;
    uw_brent_init(&br_i, interp);
    while (interp != 0) {
        uint64_t ts;
        int64_t id;
        size_t n_threads = 0;
        uw_brent br_t;
        uw_iov iov[3];

        if (n_interp == UW_LIMIT_INTERPRETERS) {
            s->truncated = UW_ERR_LIMIT_INTERPRETERS;
            break;
        }
        if (n_interp > 0 && uw_brent_cycle(&br_i, interp)) {
            s->truncated = UW_ERR_CYCLE;
            break;
        }
        if (!interp_known) {
            iov[0] = (uw_iov){interp + (uint64_t)l->interp_next, &words[0], 8, 0};
            iov[1] = (uw_iov){interp + (uint64_t)l->interp_id, &words[1], 8, 0};
            iov[2] = (uw_iov){interp + (uint64_t)l->interp_threads_head, &words[2], 8, 0};
            rc = uw_readv(u->r, iov, 3);
            if (rc != 0) {
                s->truncated = rc;
                rc = rc == UW_ERR_NO_PROCESS ? rc : 0;
                break;
            }
        }
        interp_known = 0;
        memcpy(&id, &words[1], sizeof id);
        ts = words[2];
        if (n_interp == 0)
            u->last_tstate = ts;
        n_interp++;
        uw_brent_init(&br_t, ts);
        while (ts != 0) {
            if (n_threads == UW_LIMIT_THREADS) {
                s->truncated = UW_ERR_LIMIT_THREADS;
                break;
            }
            if (n_threads > 0 && uw_brent_cycle(&br_t, ts)) {
                s->truncated = UW_ERR_CYCLE;
                break;
            }
            n_threads++;
            if (!tstate_known) {
                rc = uw_read(u->r, ts, u->tstate, u->tstate_len);
                if (rc != 0) {
                    uw_thread_sample *th;
                    if (rc == UW_ERR_NO_PROCESS)
                        goto out;
                    /* An unreadable thread state ends this interpreter's
                     * list: its `next` is unknown. */
                    rc = uw_sample_add_thread(s, ts, interp, id, &th);
                    if (rc != 0)
                        goto out;
                    th->truncated = UW_ERR_READ_FAULT;
                    break;
                }
            }
            rc = uw_walk_thread(u, ts, interp, id, s);
            if (rc != 0)
                goto out;
            ts = uw_u64(u->tstate + l->tstate_next);
            tstate_known = u->tstate_next_ok;
            if (tstate_known)
                memcpy(u->tstate, u->tstate_next, u->tstate_len);
        }
        tstate_known = 0;
        interp = words[0];
    }
    rc = 0;
out:
    s->calls = u->r->calls - c0;
    s->bytes = u->r->bytes - b0;
    return rc;
}
