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

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "tornstack/error.h"
#include "tornstack/limits.h"

/* Largest thread state / frame we copy (3.11 PyThreadState is 360 bytes). */
#define UW_TSTATE_BUF 1024
#define UW_FRAME_BUF 128

typedef struct uw_chunk_copy {
    uint64_t addr;
    size_t len;
    uint8_t *buf;
    size_t cap;
} uw_chunk_copy;

typedef struct uw_frame_rec {
    uint64_t addr, code, ip;
    int owner;
} uw_frame_rec;

struct uw_unwinder {
    uw_reader *r;
    uw_target t;
    const uw_layout *l;
    uw_code_cache cache;
    uint32_t max_depth;

    /* Chunk copies of the thread being walked; buffers kept across walks. */
    uw_chunk_copy chunks[8];
    size_t n_chunks;       /* valid copies, at most 8 kept */
    uint64_t next_chunk;   /* older chunk not yet copied, 0 if none */
    size_t chunks_seen;    /* chunks visited this thread (bound) */
    uint8_t *spill;        /* one extra chunk beyond the 8 kept ones */

    uw_frame_rec recs[UW_LIMIT_FRAMES];
    /* Code resolution scratch. */
    uint64_t batch_addr[UW_LIMIT_FRAMES];
    uw_iov batch_iov[UW_LIMIT_FRAMES];
    uint8_t *batch_buf;
    uint8_t tstate[UW_TSTATE_BUF];
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
    u->batch_buf = malloc((size_t)UW_LIMIT_FRAMES * (size_t)u->l->code_size);
    if (u->batch_buf == NULL || uw_code_cache_init(&u->cache) != 0) {
        free(u->batch_buf);
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
    for (i = 0; i < sizeof u->chunks / sizeof u->chunks[0]; i++)
        free(u->chunks[i].buf);
    free(u->spill);
    free(u->batch_buf);
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
    if (u->chunks_seen >= UW_LIMIT_CHUNKS) {
        u->next_chunk = 0;
        return UW_ERR_LIMIT_CHUNKS;
    }
    if (u->n_chunks == sizeof u->chunks / sizeof u->chunks[0]) {
        /* Keep the newest copies; older frames beyond them are read one by
         * one.  Deep recursions (>8 chunks) stay correct, only slower. */
        u->next_chunk = 0;
        return 1;
    }
    c = &u->chunks[u->n_chunks];
    rc = uw_chunk_reserve(c, UW_DATA_STACK_CHUNK_SIZE);
    if (rc != 0)
        return rc;
    u->chunks_seen++;
    rc = uw_read(u->r, u->next_chunk, c->buf, UW_DATA_STACK_CHUNK_SIZE);
    if (rc != 0) {
        u->next_chunk = 0;
        return rc;
    }
    size = uw_u64(c->buf + l->chunk_size);
    if (size < (uint64_t)l->chunk_data + (uint64_t)l->frame_size || size > UW_LIMIT_CHUNK_BYTES) {
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
    } else {
        size = UW_DATA_STACK_CHUNK_SIZE < size ? UW_DATA_STACK_CHUNK_SIZE : size;
    }
    c->addr = u->next_chunk;
    c->len = (size_t)size;
    u->n_chunks++;
    u->next_chunk = uw_u64(c->buf + l->chunk_previous);
    return 0;
}

/* Copy of the frame at addr into out (frame_size bytes). */
static int uw_frame_get(uw_unwinder *u, uint64_t addr, uint8_t *out)
{
    const size_t fs = (size_t)u->l->frame_size;
    size_t i;

    for (;;) {
        for (i = 0; i < u->n_chunks; i++) {
            const uw_chunk_copy *c = &u->chunks[i];
            if (addr >= c->addr + (uint64_t)u->l->chunk_data && addr - c->addr <= c->len &&
                c->len - (addr - c->addr) >= fs) {
                memcpy(out, c->buf + (addr - c->addr), fs);
                return 0;
            }
        }
        if (uw_chunk_pull(u) != 0)
            break;
    }
    return uw_read(u->r, addr, out, fs);
}

/* Phase 1: collect the records of the chain starting at first. */
static int uw_collect(uw_unwinder *u, uint64_t first, size_t *n_out)
{
    const uw_layout *l = u->l;
    uint8_t fb[UW_FRAME_BUF];
    uint64_t addr = first, tortoise = first;
    size_t n = 0, hops = 0, power = 1, lam = 0;
    int rc = 0;

    while (addr != 0) {
        int owner;
        uint64_t code;

        if (hops == UW_LIMIT_FRAMES) {
            rc = UW_ERR_LIMIT_FRAMES;
            break;
        }
        if (hops > 0) {
            /* Brent: the tortoise jumps to the hare at powers of two. */
            if (addr == tortoise) {
                rc = UW_ERR_CYCLE;
                break;
            }
            if (++lam == power) {
                tortoise = addr;
                power *= 2;
                lam = 0;
            }
        }
        hops++;
        if ((addr & 7) != 0) {
            rc = UW_ERR_READ_FAULT; /* frames are word aligned */
            break;
        }
        rc = uw_frame_get(u, addr, fb);
        if (rc != 0)
            break;
        owner = fb[l->frame_owner];
        code = uw_u64(fb + l->frame_code);
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
            n++;
        }
        addr = uw_u64(fb + l->frame_previous);
    }
    *n_out = n;
    return rc;
}

/* Phase 2: make sure every recorded code object has a validated cache
 * entry.  Returns in bad[] ... nothing: records whose code failed get code
 * 0 and their error in the record's ip field is not used; instead the first
 * failing record index and its error are reported. */
static int uw_resolve(uw_unwinder *u, size_t n, size_t *bad_at)
{
    const uw_layout *l = u->l;
    const size_t cs = (size_t)l->code_size;
    size_t i, j, nb = 0;
    int first_err = 0;

    *bad_at = n;
    for (i = 0; i < n; i++) {
        uint64_t code = u->recs[i].code;
        uw_code_info *e = uw_code_cache_find(&u->cache, code);
        int dup = 0;
        if (e != NULL && e->stamp == u->cache.stamp)
            continue;
        for (j = 0; j < nb && !dup; j++)
            dup = u->batch_addr[j] == code;
        if (dup)
            continue;
        u->batch_addr[nb] = code;
        u->batch_iov[nb].addr = code;
        u->batch_iov[nb].dst = u->batch_buf + nb * cs;
        u->batch_iov[nb].len = cs;
        u->batch_iov[nb].status = 0;
        nb++;
    }
    if (nb == 0)
        return 0;
    (void)uw_readv(u->r, u->batch_iov, nb);
    for (j = 0; j < nb; j++) {
        uw_code_ident id;
        uw_code_info *e;
        int rc = u->batch_iov[j].status;

        if (rc == 0)
            rc = uw_code_ident_parse(l, u->batch_buf + j * cs, cs, &id);
        if (rc == 0) {
            e = uw_code_cache_find(&u->cache, u->batch_addr[j]);
            if (e != NULL && memcmp(&e->id, &id, sizeof id) == 0) {
                e->stamp = u->cache.stamp;
                u->cache.hits++;
                continue;
            }
            if (e != NULL)
                u->cache.reloads++;
            rc = uw_code_cache_load(&u->cache, u->r, l, u->t.code_type, u->batch_addr[j], &id,
                                    &e);
        }
        if (rc != 0) {
            /* Mark the innermost record using this code as the cut point. */
            for (i = 0; i < n; i++) {
                if (u->recs[i].code == u->batch_addr[j]) {
                    if (i < *bad_at) {
                        *bad_at = i;
                        first_err = rc;
                    }
                    break;
                }
            }
        }
    }
    return first_err;
}

/* Phase 3: append the shown frames to the sample. */
static int uw_emit(uw_unwinder *u, size_t n, uint32_t max_depth, uw_sample *s,
                   uw_thread_sample *th, int *trunc)
{
    const uw_layout *l = u->l;
    size_t i;
    uint32_t shown = 0;

    for (i = 0; i < n; i++) {
        const uw_frame_rec *rec = &u->recs[i];
        uw_code_info *e = uw_code_cache_find(&u->cache, rec->code);
        uw_frame f;
        uint64_t base;
        int64_t index;
        int line = -1, rc;

        if (e == NULL || e->stamp != u->cache.stamp) {
            /* Only possible for entries pushed to the overflow list: look
             * there (bounded by the number of codes loaded this sample). */
            uw_code_info *o;
            for (o = u->cache.overflow; o != NULL && o->addr != rec->code; o = o->next_overflow)
                ;
            e = o;
        }
        if (e == NULL)
            return UW_ERR_BAD_CODE;
        base = rec->code + (uint64_t)l->code_adaptive;
        /* Incomplete frame: not yet past its first traceable instruction. */
        if (rec->owner != l->owner_generator &&
            rec->ip < base + 2 * (uint64_t)(uint32_t)e->id.firsttraceable)
            continue;
        if (max_depth != 0 && shown == max_depth) {
            *trunc = UW_ERR_DEPTH;
            break;
        }
        index = rec->ip >= base ? (int64_t)((rec->ip - base) / 2) : -1;
        rc = uw_code_line(e, index, &line);
        if (rc != 0)
            line = -1; /* a malformed table costs the line, not the frame */
        f.code = e;
        f.addr = rec->addr;
        f.line = line;
        f.flags = (rec->owner == l->owner_generator ? UW_FRAME_GENERATOR : 0u) |
                  ((e->flags & UW_CODE_NAME_TRUNCATED) ? UW_FRAME_NAME_TRUNCATED : 0u);
        rc = uw_sample_add_frame(s, &f);
        if (rc != 0)
            return rc;
        th->n_frames++;
        shown++;
    }
    return 0;
}

static int uw_walk_chain(uw_unwinder *u, uint64_t first, uint32_t max_depth, uw_sample *s,
                         uw_thread_sample *th)
{
    size_t n = 0, bad_at;
    int trunc, rc, trunc_resolve;

    trunc = uw_collect(u, first, &n);
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
    u->n_chunks = 0;
    u->next_chunk = 0;
    u->chunks_seen = 0;
    return uw_walk_chain(u, first, max_depth, s, th);
}

/* Read one thread state and walk its frames; *next gets the next tstate. */
static int uw_walk_thread(uw_unwinder *u, uint64_t ts, int64_t interp_id, uw_sample *s,
                          uint64_t *next)
{
    const uw_layout *l = u->l;
    uw_thread_sample *th;
    uint64_t first = 0, chunk, top;
    uw_iov iov[2];
    size_t niov = 0;
    int rc;

    *next = 0;
    rc = uw_sample_add_thread(s, &th);
    if (rc != 0)
        return rc;
    th->tstate = ts;
    th->interp_id = interp_id;
    rc = uw_read(u->r, ts, u->tstate, (size_t)l->tstate_size);
    if (rc != 0) {
        th->truncated = rc;
        return rc == UW_ERR_NO_PROCESS ? rc : 0;
    }
    *next = uw_u64(u->tstate + l->tstate_next);
    th->thread_id = uw_u64(u->tstate + l->tstate_thread_id);
    th->native_id = uw_u64(u->tstate + l->tstate_native_thread_id);
    chunk = uw_u64(u->tstate + l->tstate_datastack_chunk);
    top = uw_u64(u->tstate + l->tstate_datastack_top);

    u->n_chunks = 0;
    u->chunks_seen = 0;
    u->next_chunk = 0;
    if (l->tstate_cframe != UW_ABSENT) {
        uint64_t cf = uw_u64(u->tstate + l->tstate_cframe);
        iov[niov].addr = cf + (uint64_t)l->cframe_current_frame;
        iov[niov].dst = &first;
        iov[niov].len = sizeof first;
        niov++;
    } else {
        first = uw_u64(u->tstate + l->tstate_current_frame);
    }
    /* The live part of the current chunk: [chunk, datastack_top). */
    if (chunk != 0 && top > chunk + (uint64_t)l->chunk_data && top - chunk <= UW_LIMIT_CHUNK_BYTES &&
        uw_chunk_reserve(&u->chunks[0], (size_t)(top - chunk)) == 0) {
        iov[niov].addr = chunk;
        iov[niov].dst = u->chunks[0].buf;
        iov[niov].len = (size_t)(top - chunk);
        niov++;
    }
    if (niov > 0)
        (void)uw_readv(u->r, iov, niov);
    if (l->tstate_cframe != UW_ABSENT && iov[0].status != 0) {
        th->truncated = iov[0].status;
        return iov[0].status == UW_ERR_NO_PROCESS ? iov[0].status : 0;
    }
    if (niov > 0 && iov[niov - 1].dst != &first && iov[niov - 1].status == 0) {
        u->chunks[0].addr = chunk;
        u->chunks[0].len = iov[niov - 1].len;
        u->n_chunks = 1;
        u->chunks_seen = 1;
        u->next_chunk = uw_u64(u->chunks[0].buf + l->chunk_previous);
    }
    return uw_walk_chain(u, first, u->max_depth, s, th);
}

int uw_unwind_threads(uw_unwinder *u, uw_sample *s)
{
    const uw_layout *l;
    uint64_t interp, tortoise_i, c0, b0;
    size_t n_interp = 0, power_i = 1, lam_i = 0;
    int rc;

    if (u == NULL || s == NULL)
        return UW_ERR_INVALID_ARG;
    l = u->l;
    uw_sample_reset(s);
    uw_code_cache_begin(&u->cache);
    c0 = u->r->calls;
    b0 = u->r->bytes;
    rc = uw_read_u64(u->r, u->t.runtime_addr + (uint64_t)l->runtime_interpreters_head, &interp);
    if (rc != 0)
        goto out;
    tortoise_i = interp;
    while (interp != 0) {
        uint64_t words[3], ts, tortoise_t;
        int64_t id;
        size_t n_threads = 0, power_t = 1, lam_t = 0;
        uw_iov iov[3];

        if (n_interp == UW_LIMIT_INTERPRETERS) {
            s->truncated = UW_ERR_LIMIT_INTERPRETERS;
            break;
        }
        if (n_interp > 0) {
            if (interp == tortoise_i) {
                s->truncated = UW_ERR_CYCLE;
                break;
            }
            if (++lam_i == power_i) {
                tortoise_i = interp;
                power_i *= 2;
                lam_i = 0;
            }
        }
        n_interp++;
        iov[0] = (uw_iov){interp + (uint64_t)l->interp_next, &words[0], 8, 0};
        iov[1] = (uw_iov){interp + (uint64_t)l->interp_id, &words[1], 8, 0};
        iov[2] = (uw_iov){interp + (uint64_t)l->interp_threads_head, &words[2], 8, 0};
        rc = uw_readv(u->r, iov, 3);
        if (rc != 0) {
            s->truncated = rc;
            rc = rc == UW_ERR_NO_PROCESS ? rc : 0;
            break;
        }
        memcpy(&id, &words[1], sizeof id);
        ts = words[2];
        tortoise_t = ts;
        while (ts != 0) {
            uint64_t next;
            if (n_threads == UW_LIMIT_THREADS) {
                s->truncated = UW_ERR_LIMIT_THREADS;
                break;
            }
            if (n_threads > 0) {
                if (ts == tortoise_t) {
                    s->truncated = UW_ERR_CYCLE;
                    break;
                }
                if (++lam_t == power_t) {
                    tortoise_t = ts;
                    power_t *= 2;
                    lam_t = 0;
                }
            }
            n_threads++;
            rc = uw_walk_thread(u, ts, id, s, &next);
            if (rc != 0)
                goto out;
            ts = next;
        }
        interp = words[0];
    }
    rc = 0;
out:
    s->calls = u->r->calls - c0;
    s->bytes = u->r->bytes - b0;
    return rc;
}
