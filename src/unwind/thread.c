/*
 * thread.c — the walk of one thread, and its retries.
 *
 * One walk:
 *   1. One vectored read brings, in this order: the bracket counter (when
 *      the Task walk's hooks give one: the loop epoch), the current-frame
 *      pointer, the live part of the current chunk [chunk, datastack_top),
 *      the next thread state (so the next walk needs no read of its own),
 *      and what this thread's last walk read outside its chunk
 *      (prefetch.c).
 *   2. The frame chain from the current frame (chain.c), into the sample.
 *   3. The stable frame, asked of the hooks (th->split).
 *   4. The re-read of every visited frame (recheck.c).
 *   5. A complete walk ends at its root chunk's first frame (chunks.c);
 *      ending anywhere else means a frame was unlinked (its `previous`
 *      cleared) between reading the current-frame pointer and reading the
 *      frame: a stack that never was.
 * A walk cut by a torn read is done again from a fresh thread state, at
 * most UW_THREAD_RETRIES times (CPython's own remote tools treat such
 * errors as transient); the sample keeps the last walk only.
 *
 * 3.11/3.12: an eval loop publishes its C-stack cframe before it sets that
 * cframe's current frame, which until then holds whatever the C stack held
 * (zero, a stale frame pointer, any bytes).  A walk from such a pointer
 * fails, or (a stale frame) never reaches the outer eval loop's current
 * frame (recheck.c).  When every attempt saw the same pointer fail that
 * way, the thread stands in that prologue (a stopped process shows it
 * for good): the stack of that instant is the outer eval loop's, from the
 * outer cframe's current frame, and one more walk starts there, checked
 * like any other (the outer frame re-read through its own pointer).
 */
#include <stdint.h>

#include "internal/uw_assert.h"
#include "tornstack/error.h"
#include "unwind_int.h"

/* The pieces of a walk's first vectored read, and where each went. */
typedef struct uw_walk_read {
    size_t n, i_epoch, i_gen, i_cframe, i_chunk, i_next, i_pf;
    size_t first_group; /* pieces of the first ordered group: counter, generation */
    uint64_t cf[2];     /* the current frame, then (3.11/3.12) the outer cframe */
    uint64_t e0;        /* the bracket counter before the walk */
} uw_walk_read;

/* A thread state is smaller than this many bytes (its root cframe lies
 * within it). */
#define UW_TSTATE_SPAN_MAX 4096

/* Data-stack chunks come from mmap: their start is aligned to at least
 * this many bytes. */
#define UW_CHUNK_PAGE 4096u

/* 3.11/3.12: the eval loop publishes its C-stack cframe in the thread
 * state before it sets that cframe's current frame (and on the way out the
 * other way round), so a cframe that is not the thread state's own root
 * cframe with no current frame is a thread entering or leaving the eval
 * loop, not a thread without Python frames.  The root cframe lives inside
 * the thread state; nested ones live on the C stack, far from it. */
static int uw_entering_eval(uint64_t cframe, uint64_t ts)
{
    return cframe != 0 && (cframe < ts || cframe - ts >= UW_TSTATE_SPAN_MAX);
}

/* 3.11/3.12: is the thread's cframe (in u->tstate) an eval loop's on the C
 * stack, with an outer cframe before it?  Only then is the word after its
 * current frame, `previous`, read with it. */
static int uw_nested_cframe(const uw_unwinder *u, uint64_t ts)
{
    return uw__tstate_has_cframe(u->l) && uw_entering_eval(uw__tstate_cframe(u->l, u->tstate), ts);
}

/* Queue the first read of the walk of thread ts (fields f), with the
 * bracket counter (0: none) and the code-object generation (u->gen_addr,
 * 0: none) first, before anything the walk depends on,
 * the current-frame pointer included (on 3.13 read again here, after the
 * counter; on 3.11/3.12, for a nested cframe, with its `previous`, the word
 * after it).
 * The live chunk is compared without adding to `chunk`: garbage
 * near 2^64 must not wrap; it is read only when it holds more than its
 * header and at most UW_LIMIT_CHUNK_BYTES. */
static void uw_walk_queue(uw_unwinder *u, uint64_t ts, const uw_tstate_fields *f,
                          const uw_prefetch *pf, uint64_t counter, uw_walk_read *w)
{
    const uw_layout *l = u->l;
    uw_iov *iov = u->walk_iov;

    w->n = 0;
    w->i_epoch = w->i_gen = w->i_chunk = w->i_next = SIZE_MAX;
    if (counter != 0) {
        w->i_epoch = w->n;
        iov[w->n++] = (uw_iov){counter, &w->e0, sizeof w->e0, 0};
    }
    if (u->gen_addr != 0) {
        w->i_gen = w->n;
        iov[w->n++] = (uw_iov){u->gen_addr, &u->gen_value, sizeof u->gen_value, 0};
    }
    w->first_group = w->n;
    w->i_cframe = w->n;
    w->cf[1] = 0;
    iov[w->n++] = (uw_iov){uw__tstate_current_frame_addr(l, u->tstate, ts), w->cf,
                           uw_nested_cframe(u, ts) ? 2 * sizeof w->cf[0] : sizeof w->cf[0], 0};
    if (f->chunk != 0 && f->top > f->chunk && f->top - f->chunk > (uint64_t)l->chunk_data &&
        f->top - f->chunk <= UW_LIMIT_CHUNK_BYTES &&
        uw__chunk_reserve(&u->chunks[0], (size_t)(f->top - f->chunk)) == 0) {
        w->i_chunk = w->n;
        iov[w->n++] = (uw_iov){f->chunk, u->chunks[0].buf, (size_t)(f->top - f->chunk), 0};
    }
    if (f->next != 0) {
        w->i_next = w->n;
        iov[w->n++] = (uw_iov){f->next, u->tstate_next, u->tstate_len, 0};
    }
    w->i_pf = uw__pf_queue(u, pf, iov, &w->n);
    UW_ASSERT(w->n <= UW_WALK_IOV);
}

/* The bracket of thread ts from the hooks: its counter (0: none). */
uint64_t uw__walk_bracket(uw_unwinder *u, uint64_t ts, uint64_t *tag)
{
    *tag = 0;
    if (!u->has_hooks || u->hooks.bracket == NULL)
        return 0;
    return u->hooks.bracket(u->hooks.ctx, ts, tag);
}

/* The stable frame of the walked thread from the hooks, -1 if none. */
int64_t uw__walk_stable_from(uw_unwinder *u, const uw_sample *s, const uw_thread_sample *th)
{
    if (!u->has_hooks || u->hooks.stable_from == NULL || th->n_frames == 0)
        return -1;
    return u->hooks.stable_from(u->hooks.ctx, &s->frames[th->first_frame], th->n_frames);
}

/* The cframe of the walk (th->cframe) is read again, its current frame
 * and the `previous` after it (both 3.11's and 3.12's _PyCFrame put
 * `previous` right after `current_frame`).  An eval loop sets its
 * cframe's `previous` once, on entry, and only the outermost eval loop
 * of a thread has the root cframe (inside the thread state) before it;
 * a cframe that still names the walk's innermost frame as current is
 * still that eval loop's. */
int uw__walk_one_eval(uw_unwinder *u, const uw_thread_sample *th)
{
    uint64_t cf[2];
    int32_t off;

    if (u == NULL || th == NULL || th->cframe == 0 || th->current_frame == 0 ||
        !uw__tstate_has_cframe(u->l) || !uw_entering_eval(th->cframe, th->tstate))
        return 0;
    off = u->l->cframe_current_frame;
    if (uw_read(u->r, th->cframe + (uint64_t)off, cf, sizeof cf) != 0)
        return 0;
    return cf[0] == th->current_frame && cf[1] != 0 && !uw_entering_eval(cf[1], th->tstate);
}

/* Where the walk of thread ts (its current frame read as w->cf[0], and
 * for a nested cframe its outer cframe as w->cf[1]) starts: at its current
 * frame, or, with u->walk_outer, at the outer cframe's current frame, read
 * now (the outer frame stays put while the nested loop runs).  Returns
 * UW_ERR_ENTERING_EVAL when that outer frame cannot be had. */
static int uw_walk_start(uw_unwinder *u, uint64_t ts, const uw_walk_read *w, uw_walk_from *from)
{
    int nested = uw_nested_cframe(u, ts) && w->cf[1] != 0;

    from->first = w->cf[0];
    from->ptr_addr = 0;
    from->outer_cframe = nested ? w->cf[1] : 0;
    from->pin_addr = 0;
    from->pin[0] = from->pin[1] = 0;
    if (!u->walk_outer || !nested)
        return 0;
    /* The nested cframe keeps its words while the thread stands in the
     * prologue: the re-read pins them.  An outer frame of 0 (a thread
     * entering its first eval loop, or a cframe read after its loop
     * returned) is no walk. */
    from->pin_addr = uw__tstate_current_frame_addr(u->l, u->tstate, ts);
    from->pin[0] = w->cf[0];
    from->pin[1] = w->cf[1];
    from->ptr_addr = w->cf[1] + (uint64_t)u->l->cframe_current_frame;
    from->outer_cframe = 0;
    /* An outer cframe is the thread state's root one or an eval loop's
     * further up the C stack (at a higher address: the stack grows down);
     * a `previous` below the nested cframe is a stale word of dead stack
     * (the prologue may store it after publishing the cframe). */
    if (uw_entering_eval(w->cf[1], ts) && w->cf[1] <= uw__tstate_cframe(u->l, u->tstate))
        return UW_ERR_ENTERING_EVAL;
    if (uw_read(u->r, from->ptr_addr, &from->first, sizeof from->first) != 0 || from->first == 0)
        return UW_ERR_ENTERING_EVAL;
    return 0;
}

/* Did the walk fail before it showed any frame, in a way that shows its
 * start was no frame at all?  A stale word on the C stack may be unmapped,
 * misaligned, or point at readable bytes that are no frame (a thread
 * state, a static object), whose owner is impossible or whose `previous`
 * leads to unreadable memory one hop later: each of these counts while
 * nothing was shown.  A code object that cannot be had does not: a real
 * frame may hold one, and its stack is cut, not replaced by the outer
 * loop's.  One start is a real frame too: a read fault at the
 * first frame slot of a page-aligned chunk is a data-stack chunk that the
 * eval loop freed while popping its first frame, before it moved the
 * current frame back; that stack is gone, not a prologue, and stays cut. */
static int uw_first_failed(const uw_unwinder *u, const uw_thread_sample *th, size_t visited,
                           uint64_t first)
{
    if (th->n_frames != 0)
        return 0;
    switch (th->truncated) {
    case UW_ERR_READ_FAULT:
        return visited != 0 || first < (uint64_t)u->l->chunk_data ||
               ((first - (uint64_t)u->l->chunk_data) & (UW_CHUNK_PAGE - 1)) != 0;
    case UW_ERR_READ_SHORT:
    case UW_ERR_BAD_FRAME:
    case UW_ERR_CYCLE:
        return 1;
    default:
        return 0;
    }
}

/* A walk that took code objects as validated by the generation (3.14+)
 * holds only if no code object was freed until its last read: the
 * recheck read the counter again as its last piece; a walk that ended
 * before the recheck reads it now.  Moved, or unreadable: the walk is
 * incomplete, and its retry validates by reading (the value it starts
 * from is not the entries'). */
static int uw_walk_gen_confirm(uw_unwinder *u)
{
    size_t i;

    if (u->gen_confirmed)
        return 1;
    if (uw_read(u->r, u->gen_addr, &u->gen_again, sizeof u->gen_again) == 0 &&
        u->gen_again == u->gen_value)
        return 1;
    /* not validated in this sample after all, nor by that value */
    for (i = 0; i < u->n_gen_taken; i++) {
        u->gen_taken[i]->stamp = u->gen_taken_stamp[i];
        u->gen_taken[i]->gen_interp = 0;
    }
    return 0;
}

/* One walk of the thread whose state is in u->tstate (read from ts). */
static int uw_walk_thread_once(uw_unwinder *u, uint64_t ts, uw_sample *s, uw_thread_sample *th)
{
    const uw_iov *iov = u->walk_iov;
    uw_tstate_fields f;
    uw_walk_read w = {0};
    uw_walk_from from;
    uw_prefetch *pf;
    uint64_t counter, tag;
    int rc;

    uw__tstate_decode(u->l, u->tstate, &f);
    u->gen_trust = u->gen_confirmed = 0;
    u->n_gen_taken = 0;
    u->gen_interp = th->interp;
    u->gen_addr = u->l->interp_code_generation != UW_ABSENT && th->interp != 0
                      ? th->interp + (uint64_t)u->l->interp_code_generation
                      : 0;
    th->tstate_dict = f.dict;
    th->running_loop = f.running_loop;
    th->running_task = f.running_task;
    th->thread_id = f.thread_id;
    th->native_id = f.native_id;
    uw__walk_reset(u);
    u->last_plain = 0;
    u->last_frame = 0;
    u->cur_ts = ts;
    u->n_visited = 0;
    u->walk_garbage = 0;
    u->walk_between = 0;
    pf = uw__pf_entry(u, ts);
    counter = uw__walk_bracket(u, ts, &tag);
    uw_walk_queue(u, ts, &f, pf, counter, &w);
    {
        /* The bracket counter and the generation, when there are any,
         * before everything else (the reader orders nothing within a
         * group). */
        const size_t end[2] = {w.first_group, w.n};
        rc = uw_readv_groups(u->r, u->walk_iov, w.n, end, 2);
    }
    if (rc == UW_ERR_NO_PROCESS)
        return rc;
    u->gen_trust = w.i_gen != SIZE_MAX && iov[w.i_gen].status == 0;
    u->tstate_next_ok = w.i_next != SIZE_MAX && iov[w.i_next].status == 0;
    uw__pf_settle(u, iov, w.i_pf);
    if (w.i_epoch != SIZE_MAX && iov[w.i_epoch].status != 0)
        counter = 0; /* no bracket this time: the whole walk is checked */
    if (iov[w.i_cframe].status != 0) {
        th->truncated = iov[w.i_cframe].status;
        return 0;
    }
    th->cframe = uw__tstate_has_cframe(u->l) ? uw__tstate_cframe(u->l, u->tstate) : 0;
    if (uw_walk_start(u, ts, &w, &from) != 0) {
        th->truncated = UW_ERR_ENTERING_EVAL;
        return 0;
    }
    th->current_frame = from.first;
    if (from.first == 0 && from.ptr_addr == 0 && uw_entering_eval(th->cframe, ts)) {
        th->truncated = UW_ERR_ENTERING_EVAL;
        u->walk_garbage = w.cf[1] != 0;
        return 0;
    }
    if (w.i_chunk != SIZE_MAX && iov[w.i_chunk].status == 0)
        uw__chunk_set_current(u, f.chunk, iov[w.i_chunk].len);
    rc = uw__walk_chain(u, from.first, u->max_depth, s, th);
    if (rc == 0 && from.outer_cframe != 0 && uw_first_failed(u, th, u->n_visited, from.first))
        u->walk_garbage = 1;
    th->split = uw__walk_stable_from(u, s, th);
    if (rc == 0 && th->truncated == 0 && from.first != 0)
        uw__walk_recheck(u, ts, &from, counter, tag, w.e0, s, th);
    if (rc == 0 && th->truncated == 0 && from.first != 0 && !uw__walk_ended_at_root(u, ts))
        th->truncated = UW_ERR_INCOMPLETE;
    if (rc == 0 && u->n_gen_taken > 0 && !uw_walk_gen_confirm(u))
        th->truncated = UW_ERR_INCOMPLETE;
    u->gen_trust = u->gen_confirmed = 0;
    /* Remember what this walk needed outside its chunk for next time. */
    u->pf_new.tstate = ts;
    uw__pf_keep(u, pf);
    return rc;
}

int uw__reason_is_tear(int reason)
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
    case UW_ERR_ENTERING_EVAL:
        return 1;
    default:
        return 0;
    }
}

/* Forget the walk of th, the last thread of s, before a retry. */
static void uw_walk_reset_thread(uw_sample *s, uw_thread_sample *th)
{
    s->n_frames = th->first_frame;
    th->n_frames = 0;
    th->truncated = 0;
    th->split = -1;
    th->top_dropped = 0;
    th->anchored = 0;
    th->shown_top = 0;
    th->shown_top_instr = 0;
    th->epoch_loop = 0;
    th->epoch = 0;
    th->retries++;
}

/* Retries start from a fresh read of the thread state; when it cannot be
 * read, the cut walk is kept.  A complete walk that met asyncio's
 * _run_once between two callbacks is also taken again, up to
 * UW_BETWEEN_RETRIES times: the Task walk's check finds such an idle
 * stack moved on (rule pure_idle_still_instr) on a busy loop, while a
 * walk in a callback gives it a pure stack.  Which walk is kept changes
 * no rule: each is judged as any walk.  Bound: 1 + `retries` walks in
 * all (UW_THREAD_RETRIES for a sample's walk, UW_AGAIN_RETRIES for a
 * thread walked again), and one more from the outer eval loop's frame (see the
 * file's comment).  Every walk after the first, that one from the outer
 * frame aside, also takes one of the sample's extra walks
 * (UW_SAMPLE_RETRIES): with none left the walk it has is kept, cut with
 * its reason, as when its own retries run out. */
int uw__walk_thread(uw_unwinder *u, uint64_t ts, uint64_t interp, int64_t interp_id, uw_sample *s,
                    unsigned retries)
{
    uw_thread_sample *th;
    unsigned attempt, between = 0;
    uint64_t first = 0;
    int rc, garbage = 0;

    rc = uw_sample_add_thread(s, ts, interp, interp_id, &th);
    if (rc != 0)
        return rc;
    u->walk_outer = 0;
    for (attempt = 0;; attempt++) {
        rc = uw_walk_thread_once(u, ts, s, th);
        if (rc == 0 && attempt == 0) {
            garbage = u->walk_garbage;
            first = th->current_frame;
        } else if (rc == 0) {
            garbage = garbage && u->walk_garbage && th->current_frame == first;
        }
        if (rc != 0 || u->walk_outer)
            break;
        if (!uw__reason_is_tear(th->truncated)) {
            /* complete: kept, unless it met _run_once between two
             * callbacks (u->walk_between), when another walk may meet a
             * callback and give the Tasks a pure stack that holds */
            if (!u->walk_between || between == UW_BETWEEN_RETRIES || attempt >= retries)
                break;
            between++;
        } else if (attempt >= retries) {
            /* Every attempt met the same pointer that is no frame: one
             * more walk, from the outer eval loop's frame. */
            if (!garbage)
                break;
            u->walk_outer = 1;
        }
        if (!u->walk_outer && !uw__walk_budget_take(u))
            break; /* the sample's extra walks are spent */
        if (uw_read(u->r, ts, u->tstate, u->tstate_len) != 0)
            break;
        uw_walk_reset_thread(s, th);
    }
    u->walk_outer = 0;
    return rc;
}

/* A thread walked again later in the sample, to find one Task's place
 * (the Task walk's second round): fewer retries than the sample's own walk
 * (UW_AGAIN_RETRIES), each also one of the sample's (UW_SAMPLE_RETRIES).
 * A cut sample walk costs every Task of its thread its stack, so it is
 * worth many tries; a cut walk here costs one Task its place, and on a
 * busy loop these walks tear as often as the first, so
 * UW_THREAD_RETRIES of them cost the 500-Task busy program some 16 calls
 * a sample. */
int uw__unwind_one_thread(uw_unwinder *u, uint64_t tstate, uint64_t interp, int64_t interp_id,
                          uw_sample *s)
{
    int rc;

    if (u == NULL || s == NULL || tstate == 0)
        return UW_ERR_INVALID_ARG;
    rc = uw_read(u->r, tstate, u->tstate, u->tstate_len);
    if (rc != 0)
        return rc;
    return uw__walk_thread(u, tstate, interp, interp_id, s, UW_AGAIN_RETRIES);
}

int uw__walk_budget_take(uw_unwinder *u)
{
    if (u->walks_left == 0)
        return 0;
    u->walks_left--;
    return 1;
}
