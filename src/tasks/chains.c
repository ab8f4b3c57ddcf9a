/*
 * chains.c — every Task's await chain, one frame per coroutine.
 *
 * The chain starts at the Task's coroutine.  A suspended coroutine's
 * awaitee is the top of its frame's value stack; it counts only when the
 * coroutine is suspended in an await (frame.h: 3.13's yield-from state, or
 * 3.11/3.12's suspended state with a RESUME of oparg >= 2 next).  The chain
 * follows coroutines, generators and async generators (an
 * async_generator_asend to its generator) and stops at any other object,
 * at a just created coroutine, at an executing coroutine below the root
 * (the rest is on the thread stack), at a cycle (await_cycle) and at
 * UW_LIMIT_AWAIT_CHAIN (await_limit).  Each coroutine contributes only its
 * own embedded frame, so `previous` is never followed into the event loop.
 *
 * A root marked executing, or whose `previous` is set, is followed too:
 * gen_send_ex2 pushes the value it sends, sets `previous` (3.11) and marks
 * the frame executing before the frame is linked on the thread, and a
 * suspending root is unlinked before its `previous` is cleared; in those
 * instants the chain is still the Task's stack (place.c decides, and the
 * check proves, that it is not linked).  The pushed value (None for a
 * Task step) sits on top of the awaitee.  It is pushed before anything
 * else of the step, while the root still reads suspended with `previous`
 * clear (3.12+), so every root is read so: when its top slot holds None
 * (a coroutine never awaits None, and on 3.15 the slot above an awaitee
 * holds a NULL reference), the value was sent and the awaitee lies where
 * it lay before the push.
 *
 * All Tasks are read level by level (the first time in a sample through
 * snapshot.c's reader): one vectored read of the next object
 * of every active chain, then one of the awaitees found (two pieces per
 * Task on 3.11/3.12: the slot(s) and the next instruction).  The frames go
 * to the coroutine-frame views, each chain contiguous, root first, with
 * the slot each awaitee was read from (the check reads it again); at most
 * UW_TASK_FRAMES_MAX over all chains (beyond: await_limit).
 */
#include <stdlib.h>
#include <string.h>

#include "internal/rules.h"
#include "internal/uw_assert.h"
#include "tasks_int.h"
#include "tornstack/error.h"

/* Where a level keeps each awaitee's bytes (UW_AWAITEE_BYTES, after the
 * coroutine windows): a root's slots from its awaitee before a value was
 * sent up to its top (at most UW_AWAITEE_SLOTS), the next instruction,
 * two flags. */
#define UW_AW_RESUME (8 * UW_AWAITEE_SLOTS) /* [+0, +2) the RESUME */
#define UW_AW_READ (UW_AW_RESUME + 4)       /* the RESUME was read */
#define UW_AW_FRESH (UW_AW_RESUME + 5)      /* never started: no await */
#define UW_AW_SLOTS (UW_AW_RESUME + 6)      /* slots read: 1, or a root's */

_Static_assert(UW_TASK_FRAMES_MAX >= UW_LIMIT_TASKS,
               "UW_TASK_FRAMES_MAX: room for the root coroutine of every Task of a sample");

int uw__cf_reserve(uw_tasks *t, size_t n)
{
    uw__scratch *sc = &t->sc;
    int rc;

    if ((rc = uw__view_reserve(&sc->cf_addr, n)) != 0 ||
        (rc = uw__view_reserve(&sc->cf_state, n)) != 0 ||
        (rc = uw__view_reserve(&sc->cf_yf, n)) != 0 ||
        (rc = uw__view_reserve(&sc->cf_slot, n)) != 0 ||
        (rc = uw__view_reserve(&sc->cf_bytes, n)) != 0 ||
        (rc = uw__view_reserve(&sc->cf_frame, n)) != 0 ||
        (rc = uw__view_reserve(&sc->cf_status, n)) != 0)
        return rc;
    return 0;
}

uint64_t uw__root_frame(const uw_tasks *t, const uw_task_work *w)
{
    return w->n_cf > 0 ? UW__U64(&t->sc.cf_addr)[w->first_cf] : 0;
}

/* Coroutine frame `to` := coroutine frame `from` (the views were reserved
 * for `to`). */
static void uw_cf_copy(uw_tasks *t, size_t to, size_t from)
{
    uw__scratch *sc = &t->sc;
    const size_t fs = sc->cf_bytes.elem;

    UW__U64(&sc->cf_addr)[to] = UW__U64(&sc->cf_addr)[from];
    ((int8_t *)(void *)sc->cf_state.p)[to] = ((int8_t *)(void *)sc->cf_state.p)[from];
    UW__U64(&sc->cf_yf)[to] = UW__U64(&sc->cf_yf)[from];
    UW__U64(&sc->cf_slot)[to] = UW__U64(&sc->cf_slot)[from];
    memcpy(sc->cf_bytes.p + to * fs, sc->cf_bytes.p + from * fs, fs);
}

static int uw_cf_place_cmp(const void *a, const void *b)
{
    size_t x = ((const uw__cf_place *)a)->first, y = ((const uw__cf_place *)b)->first;
    return x < y ? -1 : x > y;
}

/* Coroutine frame `from`, set aside at e (UW__CF_KEEP bytes). */
static void uw_cf_keep_put(const uw__scratch *sc, uint8_t *e, size_t from)
{
    const size_t fs = sc->cf_bytes.elem;

    memcpy(e, &UW__U64(&sc->cf_addr)[from], 8);
    e[8] = (uint8_t)((const int8_t *)(const void *)sc->cf_state.p)[from];
    memcpy(e + 9, &UW__U64(&sc->cf_yf)[from], 8);
    memcpy(e + 17, &UW__U64(&sc->cf_slot)[from], 8);
    memcpy(e + 25, sc->cf_bytes.p + from * fs, fs);
}

/* Coroutine frame `to` := the one set aside at e. */
static void uw_cf_keep_get(uw__scratch *sc, const uint8_t *e, size_t to)
{
    const size_t fs = sc->cf_bytes.elem;

    memcpy(&UW__U64(&sc->cf_addr)[to], e, 8);
    ((int8_t *)(void *)sc->cf_state.p)[to] = (int8_t)e[8];
    memcpy(&UW__U64(&sc->cf_yf)[to], e + 9, 8);
    memcpy(&UW__U64(&sc->cf_slot)[to], e + 17, 8);
    memcpy(sc->cf_bytes.p + to * fs, e + 25, fs);
}

/* Squeeze out the frames left behind by chains moved to the end (see
 * uw_cf_append): every chain keeps its frames, contiguous and in order,
 * from 0 on, and w's chain comes last, so that it can grow in place.
 * Bounds: one place per Task (UW_LIMIT_TASKS) and w's chain
 * (UW_LIMIT_AWAIT_CHAIN frames) are kept aside meanwhile, in the scratch
 * views cf_order and cf_keep.  0, or the views' error (UW_ERR_NOMEM). */
static int uw_cf_compact(uw_tasks *t, uw_task_work *w)
{
    uw__scratch *sc = &t->sc;
    const size_t fs = sc->cf_bytes.elem, c = w->n_cf;
    uw__cf_place *order;
    uint8_t *keep;
    size_t i, n = 0, dst = 0, k;
    int rc;

    if ((rc = uw__view_reserve(&sc->cf_order, t->n_work)) != 0 ||
        (rc = uw__view_reserve(&sc->cf_keep, c)) != 0)
        return rc;
    order = (uw__cf_place *)(void *)sc->cf_order.p;
    keep = sc->cf_keep.p;
    for (k = 0; k < c; k++) /* w's chain, aside */
        uw_cf_keep_put(sc, keep + k * UW__CF_KEEP(fs), w->first_cf + k);
    for (i = 0; i < t->n_work; i++)
        if (t->work[i].n_cf > 0 && &t->work[i] != w)
            order[n++] = (uw__cf_place){t->work[i].first_cf, i};
    if (n > 1)
        qsort(order, n, sizeof *order, uw_cf_place_cmp);
    for (i = 0; i < n; i++) { /* down, in order: a frame never lands on one not yet moved */
        uw_task_work *o = &t->work[order[i].task];
        if (o->first_cf != dst)
            for (k = 0; k < o->n_cf; k++)
                uw_cf_copy(t, dst + k, o->first_cf + k);
        o->first_cf = dst;
        dst += o->n_cf;
    }
    for (k = 0; k < c; k++)
        uw_cf_keep_get(sc, keep + k * UW__CF_KEEP(fs), dst + k);
    w->first_cf = dst;
    t->n_cf = dst + c;
    t->cf_compactions++;
    return 0;
}

/* Append coroutine frame `frame` (copy f, state) to Task w's chain.  The
 * chains are laid out one level at a time: a chain that is no longer the
 * last one is moved to the end first, so that each stays contiguous; the
 * frames moves leave behind are squeezed out when room runs short, so the
 * bound counts the chains' frames only.  Returns 0, or await_limit when
 * the frames of all chains would pass UW_TASK_FRAMES_MAX (or an error of
 * memory). */
static int uw_cf_append(uw_tasks *t, uw_task_work *w, uint64_t frame, const uint8_t *f,
                        int8_t state)
{
    uw__scratch *sc = &t->sc;
    size_t k, need;
    int rc;

    if (t->n_cf_live == UW_TASK_FRAMES_MAX)
        return UW_ERR_LIMIT_AWAIT;
    need = w->n_cf > 0 && w->first_cf + w->n_cf != t->n_cf ? w->n_cf + 1 : 1;
    if (t->n_cf + need > UW_TASK_FRAMES_MAX && (rc = uw_cf_compact(t, w)) != 0)
        return rc;
    if (w->n_cf == 0) {
        w->first_cf = t->n_cf;
    } else if (w->first_cf + w->n_cf != t->n_cf) {
        if ((rc = uw__cf_reserve(t, t->n_cf + w->n_cf)) != 0)
            return rc;
        for (k = 0; k < w->n_cf; k++)
            uw_cf_copy(t, t->n_cf + k, w->first_cf + k);
        w->first_cf = t->n_cf;
        t->n_cf += w->n_cf;
    }
    if ((rc = uw__cf_reserve(t, t->n_cf + 1)) != 0)
        return rc;
    UW__U64(&sc->cf_addr)[t->n_cf] = frame;
    ((int8_t *)(void *)sc->cf_state.p)[t->n_cf] = state;
    UW__U64(&sc->cf_yf)[t->n_cf] = 0;
    UW__U64(&sc->cf_slot)[t->n_cf] = 0;
    memcpy(sc->cf_bytes.p + t->n_cf * sc->cf_bytes.elem, f, sc->cf_bytes.elem);
    t->n_cf++;
    t->n_cf_live++;
    w->n_cf++;
    return 0;
}

/* Is `frame` already in w's chain (an await cycle)? */
static int uw_cf_seen(const uw_tasks *t, const uw_task_work *w, uint64_t frame)
{
    size_t k;

    for (k = 0; k < w->n_cf; k++)
        if (UW__U64(&t->sc.cf_addr)[w->first_cf + k] == frame)
            return 1;
    return 0;
}

/* End w's chain: a problem of its root coroutine skips the Task (level
 * 0), one further down cuts its stack there. */
static void uw_chain_end(uw_task_work *w, size_t level, int reason)
{
    w->active = 0;
    if (level == 0)
        w->skipped = UW_SKIP_BAD_CORO;
    else
        w->truncated = reason;
}

/* Is `type` one of the generator types whose object has a frame and a
 * state (coroutine, async generator, generator)?  0 is none of them. */
static int uw_gen_type(const uw_pytypes *ty, uint64_t type)
{
    return type != 0 && (type == ty->coro || type == ty->asyncgen || type == ty->gen);
}

/* w's chain stops at its last coroutine's awaitee, the object at w->cur,
 * read into c (NULL: unreadable): what stopped it (its type, and a
 * coroutine's state and its frame's owner) is kept for the check, which
 * must find it so again (a finished coroutine whose memory became a live
 * one, a Future whose memory became a coroutine, a coroutine read with no
 * frame of its own, from a copy older than the coroutine made at its
 * address since, continue the chain). */
static void uw_chain_stop(const uw_tasks *t, uw_task_work *w, const uint8_t *c)
{
    const uw_pytypes *ty = &t->t->types;

    w->active = 0;
    w->end_obj = w->cur;
    w->end_state = w->end_owner = UW_END_NO_STATE;
    w->end_unread = c == NULL;
    if (c == NULL) {
        w->end_type = 0;
        return;
    }
    w->end_type = uw__u64(c + t->l->object_type);
    if (uw_gen_type(ty, w->end_type)) {
        w->end_state = uw__gen_state(t->l, c);
        w->end_owner = uw__gen_frame(t->l, c)[t->l->frame_owner];
    }
}

/* Queue the next object of every active chain (a coroutine window each).
 * A chain ends at UW_LIMIT_AWAIT_CHAIN coroutines (uw_level_decode); the
 * levels, which async-generator hops add to, stop at twice that.  *n:
 * pieces. */
static int uw_level_queue(uw_tasks *t, size_t level, size_t *n)
{
    const size_t win = uw__gen_window(t->l);
    size_t i;
    int rc;

    *n = 0;
    if ((rc = uw__view_reserve(&t->sc.iov, 3 * t->n_work)) != 0 ||
        (rc = uw__view_reserve(&t->sc.idx, 3 * t->n_work)) != 0 ||
        (rc = uw__view_reserve(&t->sc.bytes, t->n_work * (UW_CORO_WINDOW + UW_AWAITEE_BYTES))) != 0)
        return rc;
    for (i = 0; i < t->n_work; i++) {
        uw_task_work *w = &t->work[i];
        uint8_t *dst = uw__bytes(&t->sc.bytes, *n * UW_CORO_WINDOW, win);
        if (!w->active)
            continue;
        if (level == 2 * (size_t)UW_LIMIT_AWAIT_CHAIN + 1) {
            w->active = 0;
            w->truncated = UW_ERR_LIMIT_AWAIT;
            continue;
        }
        if (dst == NULL)
            return UW_ERR_CAPACITY;
        if ((rc = uw__put_iov(&t->sc.iov, *n, (uw_iov){w->cur, dst, win, 0})) != 0 ||
            (rc = uw__put_size(&t->sc.idx, *n, i)) != 0)
            return rc;
        (*n)++;
    }
    return 0;
}

/* Is w's root in the instants around a Task step when it is not linked
 * although it reads as resumed: marked executing, or its `previous` set?
 * (place.c decides whether it is linked.) */
static int uw_root_resumed(const uw_layout *l, int state, uint64_t previous)
{
    return uw__gen_executing(l, state) ||
           (previous != 0 && !uw__gen_created(l, state) && !uw__gen_finished(l, state));
}

/* Queue the read of w's awaitee (frame at `frame`, copy f, value-stack
 * depth `depth`) at piece *m on: its awaitee slot (the top, or on 3.15
 * the one below it: uw__frame_awaitee_slot) and, for a root, every slot
 * from its awaitee slot as it was before a value was sent (one slot
 * lower) up to its top, and the RESUME where it stopped when the state
 * cannot tell an await from a plain yield (3.11, 3.12, a resumed root on
 * 3.13).  Area j of the level (UW_AWAITEE_BYTES each, after the coroutine
 * windows) receives them: the slots from its start, the RESUME and the
 * flags at UW_AW_*. */
static int uw_awaitee_queue(uw_tasks *t, size_t n, size_t task, size_t *m, size_t j, uint64_t frame,
                            const uint8_t *f, int32_t depth, int root, int resumed)
{
    uint8_t *area =
        uw__bytes(&t->sc.bytes, n * UW_CORO_WINDOW + j * UW_AWAITEE_BYTES, UW_AWAITEE_BYTES);
    const int32_t at = uw__frame_awaitee_slot(depth, t->al->awaitee_depth);
    const int32_t below = root ? uw__frame_awaitee_slot(depth - 1, t->al->awaitee_depth) : -1;
    const int32_t slots = below >= 0 ? depth - below : 1;
    uw_iov piece;
    uint64_t resume;
    int rc;

    if (area == NULL)
        return UW_ERR_CAPACITY;
    UW_ASSERT(slots >= 1 && slots <= UW_AWAITEE_SLOTS);
    memset(area, 0, UW_AWAITEE_BYTES);
    area[UW_AW_SLOTS] = (uint8_t)slots;
    piece = slots > 1
                ? (uw_iov){uw__frame_slot_addr(t->l, frame, below), area, 8 * (size_t)slots, 0}
                : (uw_iov){uw__frame_slot_addr(t->l, frame, at), area, 8, 0};
    if ((rc = uw__put_iov(&t->sc.iov, n + *m, piece)) != 0 ||
        (rc = uw__put_size(&t->sc.idx, n + *m, task)) != 0)
        return rc;
    (*m)++;
    if (!uw__gen_await_needs_resume(t->l, resumed))
        return 0;
    area[UW_AW_READ] = 1;
    resume = uw__frame_resume_unit(t->l, f);
    if (resume == 0) { /* never started: read nothing, no await */
        area[UW_AW_FRESH] = 1;
        resume = uw__frame_instr(t->l, f);
    } else if (uw__resume_recall(t, task, uw__frame_code(t->l, f), resume, area + UW_AW_RESUME)) {
        area[UW_AW_READ] = 2; /* remembered (resume.c): no piece */
        return 0;
    }
    if ((rc = uw__put_iov(&t->sc.iov, n + *m, (uw_iov){resume, area + UW_AW_RESUME, 2, 0})) != 0 ||
        (rc = uw__put_size(&t->sc.idx, n + *m, task)) != 0)
        return rc;
    (*m)++;
    return 0;
}

/* Decode piece i of a level (w's next object, read into c): follow an
 * asend, end the chain, or append the coroutine's frame and queue its
 * awaitee.  *m and *j count the awaitee pieces and slots queued. */
static int uw_level_decode(uw_tasks *t, size_t level, size_t n, size_t i, size_t *m, size_t *j)
{
    const uw_layout *l = t->l;
    const uw_pytypes *ty = &t->t->types;
    const uw_iov *piece = &UW__IOV(&t->sc.iov)[i];
    uw_task_work *w = &t->work[UW__SIZE(&t->sc.idx)[i]];
    const uint8_t *c = t->sc.bytes.p + i * UW_CORO_WINDOW, *f = uw__gen_frame(l, c);
    uint64_t type, frame = uw__gen_frame_addr(l, w->cur);
    int8_t state;
    int32_t depth;
    int rc, resumed;

    if (piece->status != 0) {
        if (level > 0)
            uw_chain_stop(t, w, NULL);
        uw_chain_end(w, level, piece->status);
        return 0;
    }
    type = uw__u64(c + l->object_type);
    if (level > 0 && type == ty->asend && type != 0) {
        w->cur = uw__u64(c + t->al->asend_gen); /* async_generator_asend: its generator */
        return 0;
    }
    if (!uw_gen_type(ty, type)) {
        w->active = 0; /* a Future, FutureIter, ...: the chain ends */
        if (level == 0)
            w->skipped = UW_SKIP_BAD_CORO;
        else
            uw_chain_stop(t, w, c);
        return 0;
    }
    state = uw__gen_state(l, c);
    if ((!uw__gen_finished(l, state) || level > 0) &&
        uw__frame_owner(l, f) != UW__OWNER_GENERATOR) {
        if (level > 0)
            uw_chain_stop(t, w, c);
        uw_chain_end(w, level, UW_SKIP_BAD_CORO); /* torn: no frame */
        return 0;
    }
    if (level == 1 && uw__gen_created(l, state) && w->n_cf == 1 &&
        uw_root_resumed(l, w->state, w->root_prev)) {
        /* A coroutine is started as soon as it is awaited: a resumed
         * root's top that never started is a stale slot (the root is
         * returning), not its awaitee. */
        uw_chain_stop(t, w, c);
        return 0;
    }
    if (level > 0 && uw__gen_finished(l, state)) {
        uw_chain_stop(t, w, c);
        uw_chain_end(w, level, UW_SKIP_BAD_CORO); /* finished: no frame */
        return 0;
    }
    if (w->n_cf == UW_LIMIT_AWAIT_CHAIN) {
        w->active = 0; /* one coroutine past the bound: the chain is cut there */
        w->truncated = UW_ERR_LIMIT_AWAIT;
        return 0;
    }
    if (uw_cf_seen(t, w, frame)) {
        w->active = 0;
        w->truncated = UW_ERR_AWAIT_CYCLE;
        return 0;
    }
    rc = uw_cf_append(t, w, frame, f, state);
    if (rc == UW_ERR_LIMIT_AWAIT) {
        /* Every Task's root fits (UW_TASK_FRAMES_MAX >= UW_LIMIT_TASKS,
         * roots are read first): a Task without one would be an entry
         * with neither coroutine nor frames, so it is not shown. */
        w->active = 0;
        w->truncated = rc;
        if (w->n_cf == 0)
            w->skipped = rc;
        return 0;
    }
    if (rc != 0)
        return rc;
    if (w->n_cf == 1) { /* the root coroutine */
        w->state = state;
        w->root_code = uw__frame_code(l, f);
        w->root_prev = uw__frame_previous(l, f);
    }
    if (uw__gen_finished(l, state)) {
        /* the root returned and the Task is not done yet: no frame to show
         * (the Task holds its coroutine, which cannot start again; its
         * code still names it) */
        w->active = 0;
        w->root_finished = 1;
        return 0;
    }
    resumed = level == 0 && uw_root_resumed(l, state, uw__frame_previous(l, f));
    if (uw__gen_created(l, state) || (uw__gen_executing(l, state) && !resumed)) {
        w->active = 0; /* running: the rest is on the thread stack */
        return 0;
    }
    depth = uw__frame_stack_depth(l, f, frame);
    if ((!resumed && !uw__gen_suspended_awaiting(l, state)) ||
        uw__frame_awaitee_slot(depth, t->al->awaitee_depth) < 0 || depth > (1 << 20)) {
        w->active = 0;
        return 0;
    }
    rc = uw_awaitee_queue(t, n, UW__SIZE(&t->sc.idx)[i], m, *j, frame, f, depth, level == 0,
                          resumed);
    (*j)++;
    return rc;
}

/* The bytes of Task w's innermost coroutine frame read so far. */
static const uint8_t *uw_last_frame(const uw_tasks *t, const uw_task_work *w)
{
    UW_ASSERT(w->n_cf > 0);
    return t->sc.cf_bytes.p + (w->first_cf + w->n_cf - 1) * t->sc.cf_bytes.elem;
}

/* The awaitees read (pieces n.. n+m): each continues its chain, or ends
 * it when unreadable, no object (3.14+: NULL or a tagged int), or
 * (3.11/3.12) not an await by its RESUME.  For a root a None on top is
 * the value sent: its awaitee is the lowest slot read.  The word is kept
 * as read (the check compares it); the chain follows the object it
 * refers to. */
static void uw_level_awaitees(uw_tasks *t, size_t n, size_t m)
{
    const uw_iov *iov = UW__IOV(&t->sc.iov);
    size_t i, j = 0;

    for (i = 0; i < m; j++) {
        uw_task_work *w = &t->work[UW__SIZE(&t->sc.idx)[n + i]];
        const uint8_t *p = t->sc.bytes.p + n * UW_CORO_WINDOW + j * UW_AWAITEE_BYTES;
        const uw_iov *slot = &iov[n + i];
        const size_t k = p[UW_AW_SLOTS];
        /* the awaitee slot with nothing sent: the top, or one below on 3.15 */
        const size_t a = k > 1 ? k - (size_t)t->al->awaitee_depth : 0;
        uint64_t yf = uw__u64(p + 8 * a), at = slot->addr + 8 * a, next;
        int ok = slot->status == 0;
        if (p[UW_AW_READ] == 1) {
            const int read = !p[UW_AW_FRESH] && iov[n + i + 1].status == 0;
            ok = ok && read && uw__gen_await_at_resume(t->l, p[UW_AW_RESUME], p[UW_AW_RESUME + 1]);
            if (read) /* remembered once its code object is validated */
                uw__resume_read(t, uw__frame_code(t->l, uw_last_frame(t, w)), iov[n + i + 1].addr,
                                p + UW_AW_RESUME);
            i += 2;
        } else if (p[UW_AW_READ] == 2) {
            ok = ok && uw__gen_await_at_resume(t->l, p[UW_AW_RESUME], p[UW_AW_RESUME + 1]);
            i += 1;
        } else {
            i += 1;
        }
        if (ok && k > 1 && uw__u64(p + 8 * (k - 1)) != 0 &&
            uw__stackref_object(t->l, uw__u64(p + 8 * (k - 1))) == t->t->types.none) {
            yf = uw__u64(p); /* a value sent to the root sits on top */
            at = slot->addr;
        }
        if (!ok) {
            w->active = 0;
            continue;
        }
        /* the slot is the check's to read again even when it ends the
         * chain: a slot read before its coroutine pushed the awaitee (a
         * stale or cleared word) would otherwise cut the chain unchecked,
         * and show a Task that suspended since as it was mid-step */
        UW__U64(&t->sc.cf_yf)[w->first_cf + w->n_cf - 1] = yf;
        UW__U64(&t->sc.cf_slot)[w->first_cf + w->n_cf - 1] = at;
        if ((next = uw__stackref_object(t->l, yf)) == 0) {
            w->active = 0;
            continue;
        }
        w->cur = next;
    }
}

/* Chains that stopped at an awaitee whose window could not be read (an
 * object smaller than a coroutine, near the end of its mapping): its type
 * word, and a coroutine's state, read alone, in one read for all.  Only
 * those: a window read whole whose type word was 0 (an object a torn
 * copy caught before it was made) keeps type 0, which the check never
 * takes for an end; read again here it could name the coroutine the
 * chain should have gone on to, and the check would have held that end
 * (a 3.15 Task shown suspended as [sleep, f3_main], its __sleep0 caught
 * unmade by the snapshot: unit_tasks test_check_unmade_awaitee; the
 * fuzzer's scenario, corpus/race/open/
 * violation-local-d0139e9b-315-chain-ends-at-sleep).  For the same
 * reason an end read here that is a coroutine going on (neither created
 * nor finished) keeps type 0: the chain should have continued through it,
 * and did not. */
static int uw_chain_ends_exact(uw_tasks *t)
{
    size_t i, n = 0;
    int rc;

    if ((rc = uw__view_reserve(&t->sc.iov, 2 * t->n_work)) != 0 ||
        (rc = uw__view_reserve(&t->sc.bytes, 16 * t->n_work)) != 0)
        return rc;
    for (i = 0; i < t->n_work; i++) {
        const uw_task_work *w = &t->work[i];
        if (w->end_obj == 0 || !w->end_unread)
            continue;
        UW__IOV(&t->sc.iov)
        [n++] = (uw_iov){w->end_obj + (uint64_t)t->l->object_type, t->sc.bytes.p + 16 * i, 8, 0};
        UW__IOV(&t->sc.iov)
        [n++] = (uw_iov){w->end_obj + (uint64_t)t->l->gen_frame_state, t->sc.bytes.p + 16 * i + 8,
                         1, 0};
    }
    if (n == 0)
        return 0;
    (void)uw_readv(t->r, UW__IOV(&t->sc.iov), n);
    for (i = 0, n = 0; i < t->n_work; i++) {
        uw_task_work *w = &t->work[i];
        const uw_pytypes *ty = &t->t->types;
        const uw_iov *p = &UW__IOV(&t->sc.iov)[n];
        uint64_t type;
        if (w->end_obj == 0 || !w->end_unread)
            continue;
        n += 2;
        w->end_unread = 0;
        if (p[0].status != 0)
            continue; /* unreadable: the check finds it changed */
        type = uw__u64(t->sc.bytes.p + 16 * i);
        if (uw_gen_type(ty, type)) {
            int8_t st = (int8_t)t->sc.bytes.p[16 * i + 8];
            if (p[1].status != 0 || (!uw__gen_created(t->l, st) && !uw__gen_finished(t->l, st)))
                continue; /* a coroutine going on: no end (type 0) */
            w->end_state = st;
        }
        w->end_type = type;
    }
    return 0;
}

/* Level by level until no chain is active: one read of the next object
 * of every chain, then one read of the awaitees found.  Bounds:
 * UW_LIMIT_AWAIT_CHAIN coroutines per chain, 3 pieces per Task per level. */
int uw__read_chains(uw_tasks *t)
{
    size_t level, i;
    int rc;

    /* The frames of live chains: a chain read again (place.c, the second
     * round) starts from nothing, and what it left behind no longer counts
     * towards UW_TASK_FRAMES_MAX, or its root might not fit. */
    t->n_cf_live = 0;
    for (i = 0; i < t->n_work; i++)
        t->n_cf_live += t->work[i].n_cf;
    for (level = 0;; level++) {
        size_t n = 0, m = 0, j = 0;

        rc = uw_level_queue(t, level, &n);
        if (rc != 0)
            return rc;
        if (n == 0)
            break;
        if ((rc = uw__aw_readv(t, 0, n)) != 0)
            return rc;
        /* Decode each coroutine; queue the reads that find its awaitee. */
        for (i = 0; i < n; i++)
            if ((rc = uw_level_decode(t, level, n, i, &m, &j)) != 0)
                return rc;
        if (m == 0)
            continue;
        if ((rc = uw__aw_readv(t, n, m)) != 0)
            return rc;
        uw_level_awaitees(t, n, m);
    }
    return uw_chain_ends_exact(t);
}

void uw__chain_again(uw_task_work *w)
{
    w->cur = w->coro;
    w->n_cf = 0;
    w->active = 1;
    w->state = INT32_MIN;
    w->root_prev = 0;
    w->root_finished = 0;
    w->end_obj = 0;
    w->truncated = 0;
    w->resume_stale = 0;
    w->code_late = 0;
}

/* The chains of the active Tasks (all of them at first, then those marked
 * by uw__chain_again) are appended to the coroutine frames from t->n_cf
 * on, and only those frames are resolved, unless room ran short and every
 * chain was squeezed down (uw_level_queue): then the frames resolved
 * before sit at other places and all are resolved again (a count that
 * only grows: n_cf may now be below where the new ones began).  Frames
 * left unresolved by an earlier read are resolved first, so that a
 * read's RESUMEs are settled before the next read takes any (resume.c).
 * What is left for uw__chains_resolve: the first of the new frames, the
 * squeeze count, and the interpreter (0 once squeezed: frames read before
 * some thread walk of this sample are resolved by reading). */
int uw__read_chains_unresolved(uw_tasks *t)
{
    int rc;

    if ((rc = uw__chains_resolve(t)) != 0)
        return rc;
    UW_ASSERT(t->n_resume_used == 0 && t->n_resume_read == 0); /* settled, always */
    t->unresolved.on = 1;
    t->unresolved.first = t->n_cf;
    t->unresolved.compactions = t->cf_compactions;
    t->unresolved.interp = t->chains_interp;
    t->unresolved.serial = uw__code_serial_last();
    t->unresolved.late = 0;
    rc = uw__read_chains(t);
    if (rc != 0) {
        /* the frames read are resolved even when the read failed, so that
         * a caller restoring what it had sees resolved frames */
        (void)uw__chains_resolve(t);
    }
    return rc;
}

/* The first of the frames left unresolved (all of them once the chains
 * were squeezed since). */
static size_t uw_unresolved_first(const uw_tasks *t)
{
    return t->cf_compactions != t->unresolved.compactions ? 0 : t->unresolved.first;
}

/* Lay the live frames of the chains out again from 0: first the chains
 * of the Tasks marked in `early`, then the others, each chain contiguous
 * and in order; the frames moved chains left behind are dropped.  Only
 * for frames that are all of one read (the sample's first chains), none
 * resolved yet.  *n_early: the frames of the marked Tasks.  The live
 * frames (at most UW_TASK_FRAMES_MAX) are set aside in the view cf_keep
 * meanwhile.  0, or the view's error (UW_ERR_NOMEM; nothing moved). */
static int uw_cf_split(uw_tasks *t, const uint8_t *early, size_t *n_early)
{
    uw__scratch *sc = &t->sc;
    const size_t fs = sc->cf_bytes.elem, live = t->n_cf_live;
    uint8_t *keep;
    size_t i, k, dst = 0;
    int pass, rc;

    if ((rc = uw__view_reserve(&sc->cf_keep, live)) != 0)
        return rc;
    keep = sc->cf_keep.p;
    for (pass = 1; pass >= 0; pass--) {
        for (i = 0; i < t->n_work; i++) {
            uw_task_work *w = &t->work[i];
            if (w->n_cf == 0 || early[i] != pass)
                continue;
            for (k = 0; k < w->n_cf; k++, dst++)
                uw_cf_keep_put(sc, keep + dst * UW__CF_KEEP(fs), w->first_cf + k);
            w->first_cf = dst - w->n_cf;
        }
        if (pass == 1)
            *n_early = dst;
    }
    UW_ASSERT(dst == live);
    for (k = 0; k < live; k++)
        uw_cf_keep_get(sc, keep + k * UW__CF_KEEP(fs), k);
    t->n_cf = live;
    return 0;
}

/* The sample's first chains are resolved after the check's read (check.c),
 * so that the time between a Task's chain read and its check, in which a
 * Task that steps is lost to the skips, is not spent on code objects.
 * The check vouches for a chain's frames, and so for the code objects
 * they held, only up to its read; what is validated after it says what
 * stands at each address then.  An entry validated then that was in the
 * cache before the chains were read (by reading it again, or, 3.14+, by
 * the interpreter's count of freed code objects) names the code object
 * the frame held: the only way to be wrong is another code object made
 * at its address since with the very identity of the old (the cache's
 * own premise, code_cache.h).  One loaded after the chains were read
 * may be another's; so a Task whose frames name one is not trusted
 * (code_late; rule code_loaded_after_check: recovery may read it again).
 * Hence the chains of Tasks whose frames name a code object the cache has
 * no entry for now are resolved at once, as before (all of them on a
 * cold cache: the busy program makes new code objects now and then, and
 * a quarter of its warm samples met one), and only the others wait:
 * their frames are laid out after those (uw_cf_split), which also drops
 * the frames moved chains left behind (on the busy program five in six
 * of those the levels wrote).  Nothing waits without recovery, when the
 * split has no memory, or when the cache is full (or the early ones'
 * loads evicted entries): an entry evicted before the late resolution is
 * loaded again, and its Tasks lost to code_late, on a program with more
 * code objects than the cache holds (unit_task_bounds test_code_cache).
 * Bounds: one cache look-up per frame, one flag per Task. */
int uw__chains_resolve_late(uw_tasks *t)
{
    const size_t fs = t->sc.cf_bytes.elem;
    const uw_code_cache *c = uw_unwinder_cache(t->u);
    const uint64_t evictions = c->evictions;
    size_t i, k, n_early = 0, any = 0;
    uint8_t *early;
    int rc;

    if (!t->unresolved.on)
        return 0;
    if (t->opt.recover == 0 || uw_unresolved_first(t) != 0 || c->overflow != NULL ||
        c->count >= UW_CODE_CACHE_SLOTS || uw__view_reserve(&t->sc.cf_early, t->n_work + 1) != 0)
        return uw__chains_resolve(t);
    early = t->sc.cf_early.p;
    memset(early, 0, t->n_work);
    for (i = 0; i < t->n_work; i++) {
        const uw_task_work *w = &t->work[i];
        for (k = w->first_cf; k < w->first_cf + w->n_cf && !early[i]; k++)
            early[i] =
                uw__code_serial(t->u, uw__frame_code(t->l, t->sc.cf_bytes.p + k * fs), 0) == 0;
        any += early[i];
    }
    if (2 * any > t->n_work || uw_cf_split(t, early, &n_early) != 0)
        return uw__chains_resolve(t);
    /* the early chains now, the rest after the check */
    t->unresolved.first = n_early;
    rc = n_early == 0
             ? 0
             : uw__frames_from_copies(t->u, UW__U64(&t->sc.cf_addr), t->sc.cf_bytes.p, n_early,
                                      (uw_frame *)(void *)t->sc.cf_frame.p,
                                      (int *)(void *)t->sc.cf_status.p, t->unresolved.interp);
    if (c->evictions != evictions || c->overflow != NULL)
        return rc != 0 ? rc : uw__chains_resolve(t); /* the late ones' entries may be gone */
    t->unresolved.late = 1;
    return rc;
}

/* A Task whose frames, resolved late, name a code object loaded after
 * its chain was read (uw__chains_resolve_late). */
static void uw_mark_late(uw_tasks *t, size_t first)
{
    const size_t fs = t->sc.cf_bytes.elem;
    const int *st = (const int *)(const void *)t->sc.cf_status.p;
    size_t i, k;

    for (i = 0; i < t->n_work; i++) {
        uw_task_work *w = &t->work[i];
        if (w->n_cf == 0 || w->first_cf + w->n_cf <= first)
            continue;
        /* by the code address in the frame's copy and the entry validated
         * now: a frame the resolution hid without a code object (a C
         * stack's, or none) has no uw_frame written, only its status */
        for (k = w->first_cf; k < w->first_cf + w->n_cf && !w->code_late; k++) {
            const uint64_t code = uw__frame_code(t->l, t->sc.cf_bytes.p + k * fs);
            w->code_late =
                st[k] >= 0 && code != 0 && uw__code_serial(t->u, code, 1) > t->unresolved.serial;
        }
    }
}

/* The frames left by uw__read_chains_unresolved, resolved in this sample
 * after their frames were read: each code object by reading it or
 * (3.14+) on the strength of the interpreter's count of freed code
 * objects, read now (uw__frames_from_copies): for frames resolved late,
 * an entry the second round's thread walk validated (before the check's
 * read) names the object its frame held, since the check vouches that
 * the frame still held it at its read.  The check's own frame
 * resolutions in between read no count and note none.  Frames resolved
 * late mark their Tasks (uw_mark_late).  Then the RESUMEs the chains took
 * are settled against the validated code objects (resume.c), before
 * anything judges a Task on them. */
int uw__chains_resolve(uw_tasks *t)
{
    const size_t fs = t->sc.cf_bytes.elem, first_cf = uw_unresolved_first(t);
    /* squeezed: frames read before some thread walk of this sample too */
    const uint64_t interp =
        t->cf_compactions != t->unresolved.compactions ? 0 : t->unresolved.interp;
    int rc;

    if (!t->unresolved.on)
        return 0;
    t->unresolved.on = 0;
    UW_ASSERT(first_cf <= t->n_cf);
    rc = uw__frames_from_copies(t->u, UW__U64(&t->sc.cf_addr) + first_cf,
                                t->sc.cf_bytes.p + first_cf * fs, t->n_cf - first_cf,
                                (uw_frame *)(void *)t->sc.cf_frame.p + first_cf,
                                (int *)(void *)t->sc.cf_status.p + first_cf, interp);
    if (t->unresolved.late && UW_RULE(code_loaded_after_check))
        uw_mark_late(t, first_cf);
    t->unresolved.late = 0;
    uw__resume_settle(t); /* the code objects are validated now */
    return rc;
}

/* The active chains read and their frames resolved at once (recovery's
 * rounds, the second round of placement). */
int uw__read_and_resolve_chains(uw_tasks *t)
{
    int rc = uw__read_chains_unresolved(t), rc2 = uw__chains_resolve(t);

    return rc != 0 ? rc : rc2;
}
