/*
 * chain.c — one frame chain, in three phases:
 *
 *   collect   Follow `previous` from the first frame, reading each frame
 *             from the local chunk copies or directly (chunks.c), and
 *             record (frame address, code, instruction pointer, owner) for
 *             every frame that may be shown.  Stops at NULL, at
 *             UW_LIMIT_FRAMES hops, at a cycle (Brent's algorithm on frame
 *             addresses), at an unreadable frame or an impossible owner.
 *   resolve   Every distinct code object recorded gets a cache entry
 *             validated in this sample (resolve.c).
 *   emit      Skip incomplete frames (CPython's _PyFrame_IsIncomplete),
 *             look up lines, append frames to the sample up to the depth
 *             limit.
 *
 * A record whose code object cannot be read or is not a code object ends
 * the emitted stack at that frame with the reason; frames inward of it are
 * kept.  The same resolve and emit turn frames that the Task walk copied
 * out of coroutine objects into sample frames (uw__frames_from_copies).
 */
#include <string.h>

#include "internal/frame.h"
#include "internal/uw_assert.h"
#include "tornstack/error.h"
#include "unwind_int.h"

/* Phase 1: the records of the chain from `first` into u->recs.  With a
 * depth limit the walk stops once that many generator frames (never
 * hidden) were recorded, or the limit plus UW_DEPTH_SLACK records of any
 * kind.  Every frame visited is remembered for the re-read (recheck.c).
 * *top gets the first frame read that is not an entry frame (0 if none),
 * *top_instr its instruction pointer as read. */
static int uw_collect(uw_unwinder *u, uint64_t first, uint32_t max_depth, size_t *n_out,
                      uint64_t *top, uint64_t *top_instr)
{
    const uw_layout *l = u->l;
    uint8_t fb[UW_FRAME_BUF];
    uint64_t addr = first;
    size_t n = 0, hops = 0, sure = 0;
    uw_brent br;
    int rc = 0;

    *top = 0;
    *top_instr = 0;
    uw_brent_init(&br, first);
    while (addr != 0) {
        uw__owner owner;
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
        rc = uw__frame_get(u, addr, fb);
        if (rc != 0)
            break;
        uw__visit(u, addr, fb);
        u->last_frame = addr;
        owner = uw__frame_owner(l, fb);
        code = uw__frame_code(l, fb);
        if (owner == UW__OWNER_THREAD)
            u->last_plain = addr;
        if (*top == 0 && owner != UW__OWNER_CSTACK) {
            *top = addr;
            *top_instr = uw__frame_instr(l, fb);
        }
        if (owner == UW__OWNER_CSTACK) {
            /* entry/trampoline frame on the C stack: never shown */
        } else if (owner == UW__OWNER_BAD) {
            rc = UW_ERR_BAD_FRAME;
            break;
        } else if (code != 0) {
            u->recs[n] = (uw_frame_rec){addr, code, uw__frame_instr(l, fb), owner, 0};
            sure += owner == UW__OWNER_GENERATOR;
            n++;
        }
        addr = uw__frame_previous(l, fb);
    }
    *n_out = n;
    return rc;
}

/* The frame a validated record shows: 0, 1 when it is hidden (incomplete,
 * or a shim), or UW_ERR_BAD_FRAME when its instruction pointer lies outside
 * its code object's bytecode (it came from another frame that used the
 * same slot: a torn frame). */
static int uw_rec_frame(uw_unwinder *u, const uw_frame_rec *rec, uw_frame *f)
{
    const uw_layout *l = u->l;
    uw_code_info *e = uw__code_for(u, rec->code);
    int64_t index;
    int line = -1;

    UW_ASSERT(e != NULL); /* uw__resolve validated it */
    if (e == NULL)
        return UW_ERR_BAD_CODE;
    if (uw__frame_incomplete(l, rec->owner, rec->ip, rec->code, e->id.firsttraceable))
        return 1;
    if (e->flags & UW_CODE_SHIM)
        return 1;
    if (uw__frame_code_index(l, rec->ip, rec->code, e->id.units, &index))
        return UW_ERR_BAD_FRAME;
    if (uw__code_line(e, index, &line) != 0)
        line = -1; /* a malformed table costs the line, not the frame */
    f->code = e;
    f->addr = rec->addr;
    f->line = line;
    f->flags = (rec->owner == UW__OWNER_GENERATOR ? UW_FRAME_GENERATOR : 0u) |
               ((e->flags & UW_CODE_NAME_TRUNCATED) ? UW_FRAME_NAME_TRUNCATED : 0u);
    return 0;
}

/* Phase 3: append the shown frames of records [0, n) to the sample, at
 * most max_depth (0: no limit); *trunc gets why the stack stops early. */
static int uw_emit(uw_unwinder *u, size_t n, uint32_t max_depth, uw_sample *s, uw_thread_sample *th,
                   int *trunc)
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
            const uw_code_info *e = uw__code_for(u, u->recs[i].code);
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

int uw__walk_chain(uw_unwinder *u, uint64_t first, uint32_t max_depth, uw_sample *s,
                   uw_thread_sample *th)
{
    size_t n = 0, bad_at;
    int trunc, rc, trunc_resolve;

    trunc = uw_collect(u, first, max_depth, &n, &th->shown_top, &th->shown_top_instr);
    trunc_resolve = uw__resolve(u, n, &bad_at);
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

int uw__unwind_chain(uw_unwinder *u, uint64_t first, uint32_t max_depth, uw_sample *s,
                     uw_thread_sample *th)
{
    if (u == NULL || s == NULL || th == NULL)
        return UW_ERR_INVALID_ARG;
    uw__walk_reset(u);
    return uw__walk_chain(u, first, max_depth, s, th);
}

/* Records of copies [done, n) into u->recs, at most UW_LIMIT_FRAMES;
 * hidden and impossible frames get their status at once.  Returns the
 * first copy not taken; idx[k] is the copy of record k. */
static size_t uw_copies_collect(uw_unwinder *u, const uint64_t *addrs, const uint8_t *bytes,
                                size_t done, size_t n, int *status, size_t *idx, size_t *m)
{
    const uw_layout *l = u->l;
    size_t i;

    *m = 0;
    for (i = done; i < n && *m < UW_LIMIT_FRAMES; i++) {
        const uint8_t *fb = bytes + i * (size_t)l->frame_size;
        uw__owner owner = uw__frame_owner(l, fb);
        uint64_t code = uw__frame_code(l, fb);
        if (owner == UW__OWNER_CSTACK) {
            status[i] = 1;
        } else if (owner == UW__OWNER_BAD) {
            status[i] = UW_ERR_BAD_FRAME;
        } else if (code == 0) {
            status[i] = 1;
        } else {
            u->recs[*m] = (uw_frame_rec){addrs[i], code, uw__frame_instr(l, fb), owner, 0};
            idx[(*m)++] = i;
            status[i] = 0;
        }
    }
    return i;
}

/* 3.14+: the code-object generation of interpreter `interp` (0: none),
 * read now, after every copy was read.  An entry validated after the
 * counter read the same value still names the object it was read from
 * (no code object was freed in between, so none was made at its
 * address), at every instant up to now, and so when each copy was read:
 * it is taken without reading it (resolve.c), as a thread walk takes it
 * (whose reads come after its counter, and is confirmed by a second
 * reading); entries read now are noted with the value.  Costs one read,
 * and saves the reading of every code object that stood since.  This
 * holds for an entry validated before the copies were read, and for one
 * validated before a later instant at which the caller knows each frame
 * copied still held the code object it names (an entry takes a value only
 * from a thread walk, which reads the counter first, or from this
 * function): the Task walk resolves its first chains after its check,
 * which vouches for them at the instant of its read, and the only thread
 * walks in between, its second round's, come before that read
 * (tasks/chains.c). */
static void uw_copies_gen(uw_unwinder *u, uint64_t interp)
{
    u->gen_trust = u->gen_confirmed = 0;
    u->n_gen_taken = 0;
    if (interp == 0 || u->l->interp_code_generation == UW_ABSENT)
        return;
    u->gen_interp = interp;
    u->gen_addr = interp + (uint64_t)u->l->interp_code_generation;
    u->gen_trust = uw_read(u->r, u->gen_addr, &u->gen_value, sizeof u->gen_value) == 0;
}

/* In batches of UW_LIMIT_FRAMES frames: collect from the copies, resolve
 * the batch's code objects in one read, then turn each record into its
 * frame. */
int uw__frames_from_copies(uw_unwinder *u, const uint64_t *addrs, const uint8_t *bytes, size_t n,
                           uw_frame *out, int *status, uint64_t interp)
{
    size_t done = 0;

    if (u == NULL || (n != 0 && (addrs == NULL || bytes == NULL || out == NULL || status == NULL)))
        return UW_ERR_INVALID_ARG;
    uw__walk_reset(u);
    if (n > 0)
        uw_copies_gen(u, interp);
    while (done < n) {
        size_t idx[UW_LIMIT_FRAMES];
        size_t m, i, bad_at;

        done = uw_copies_collect(u, addrs, bytes, done, n, status, idx, &m);
        u->n_gen_taken = 0; /* nothing to give back: no confirmation is due */
        (void)uw__resolve(u, m, &bad_at);
        for (i = 0; i < m; i++) {
            if (u->recs[i].err != 0) {
                status[idx[i]] = u->recs[i].err;
                continue;
            }
            status[idx[i]] = uw_rec_frame(u, &u->recs[i], &out[idx[i]]);
        }
    }
    u->gen_trust = u->gen_confirmed = 0;
    u->n_gen_taken = 0;
    return 0;
}
