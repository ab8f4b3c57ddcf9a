/*
 * check.c — the chain check: every Task's chain read again, twice, in one
 * vectored read between two readings of each loop's epoch.
 *
 * The chains were read level by level, over a stretch of time (chains.c).
 * The check's one read holds: every loop's epoch, a copy A of what each
 * Task depends on, a second copy B of the same, then the epochs again.  A
 * Task is kept only if
 *   - A equals what the chain read saw: the Task still pending with the
 *     same coroutine (so its root coroutine stayed alive), and every
 *     coroutine of its chain in the same state at the same instruction,
 *     with the same value-stack depth and awaitee, and its `previous`
 *     cleared (a coroutine marks itself suspended before it unlinks);
 *   - B equals A, byte for byte;
 *   - its loop's epoch did not move between the first and the last piece.
 * Equal values alone prove nothing across callbacks: a Task whose step
 * ended and whose next step began between two reads can show the same
 * values again (ABA), mixed from two steps.  With the epoch unchanged, one
 * callback ran at most, so one Task's chain moved at most, and only within
 * one step: resumed root first, suspended innermost first.  Two root-first
 * copies of it, one after the other, cannot then agree on a mix of before
 * and after (docs/tasks.md has the argument).  A moved epoch gets the read
 * retried (UW_VALIDATE_RETRIES); still moving, the Tasks of that loop that
 * are not on the thread stack are skipped (loop_stepped_while_read).
 * Running Tasks placed on the thread stack only need the Task check.
 *
 * Bounds: the views hold two pieces per Task and coroutine frame
 * (UW_LIMIT_TASKS + UW_TASK_FRAMES_MAX) and two copies of them; a Task
 * whose pieces would not fit is not trusted (task_changed_while_read).
 */
#include <string.h>

#include "tasks_int.h"
#include "tornstack/error.h"

#ifndef UW_VALIDATE_RETRIES
#define UW_VALIDATE_RETRIES 3
#endif
/* Awaitees in at most this many value-stack slots are read with their
 * coroutine (a Task whose coroutine now awaits a coroutine where it awaited
 * a Future has a longer chain). */
#ifndef UW_CHECK_AWAITEE_SLOTS
#define UW_CHECK_AWAITEE_SLOTS 16
#endif

/* The Task fields fut_state .. task_coro (3.14+: from awaited_by on), as
 * one piece [lo, hi). */
typedef struct uw_check_span {
    size_t lo, hi;
} uw_check_span;

static uw_check_span uw_task_span(const uw_asyncio_layout *al)
{
    uw_check_span sp;

    sp.lo = (size_t)(al->fut_state < al->task_coro ? al->fut_state : al->task_coro);
    sp.hi = (size_t)(al->fut_state > al->task_coro ? al->fut_state + 4 : al->task_coro + 8);
    if (al->fut_awaited_by >= 0 && (size_t)al->fut_awaited_by < sp.lo)
        sp.lo = (size_t)al->fut_awaited_by;
    return sp;
}

/* Bytes of coroutine frame c read by the check: the coroutine up to the
 * end of its frame, and its value stack when it holds the awaitee. */
static size_t uw_coro_len(const uw_tasks *t, size_t c)
{
    const uw_layout *l = t->l;
    const size_t win = uw__gen_window(l);
    const uint8_t *mine = t->sc.cf_bytes.p + c * t->sc.cf_bytes.elem;
    int32_t depth = uw__frame_stack_depth(l, mine, UW__U64(&t->sc.cf_addr)[c]);
    size_t len = win;

    if (UW__U64(&t->sc.cf_yf)[c] != 0 && depth >= 1 && depth <= UW_CHECK_AWAITEE_SLOTS)
        len = (size_t)uw__gen_frame_offset(l) + (size_t)uw__frame_slot_offset(l, depth);
    return len < win ? win : len;
}

/* Queue copy A's pieces of Task w from piece *n and byte *used on: its
 * span, and unless it runs on the thread stack, each coroutine of its
 * chain.  A Task whose pieces do not fit is rolled back and not trusted. */
static void uw_check_queue_task(uw_tasks *t, uw_task_work *w, uw_iov *a, size_t room_pieces,
                                size_t *n, size_t *used)
{
    const uw_check_span sp = uw_task_span(t->al);
    const size_t n0 = *n, used0 = *used;
    size_t k;

    for (k = 0; k <= (w->on_stack ? 0 : w->n_cf); k++) {
        size_t c = w->first_cf + k - 1, len = k == 0 ? sp.hi - sp.lo : uw_coro_len(t, c);
        uint64_t addr =
            k == 0 ? w->addr + sp.lo : uw__frame_gen_addr(t->l, UW__U64(&t->sc.cf_addr)[c]);
        uint8_t *dst = uw__bytes(&t->sc.copy_a, *used, len);
        if (dst == NULL || uw__bytes(&t->sc.copy_b, *used, len) == NULL || *n >= room_pieces) {
            *n = n0;
            *used = used0;
            w->skipped = UW_SKIP_TASK_CHANGED; /* cannot check it: do not trust it */
            return;
        }
        a[(*n)++] = (uw_iov){addr, dst, len, 0};
        *used += len;
    }
}

/* Does coroutine frame c's copy co (from a check copy, len bytes) read
 * the same as the chain read saw it? */
static int uw_check_coro(const uw_tasks *t, size_t c, const uint8_t *co, size_t len)
{
    const uw_layout *l = t->l;
    const uint8_t *f = uw__gen_frame(l, co), *mine = t->sc.cf_bytes.p + c * t->sc.cf_bytes.elem;
    const int8_t state = ((const int8_t *)(const void *)t->sc.cf_state.p)[c];
    const uint64_t frame = UW__U64(&t->sc.cf_addr)[c], yf = UW__U64(&t->sc.cf_yf)[c];
    int32_t depth = uw__frame_stack_depth(l, mine, frame);
    int ok;

    ok = uw__gen_state(l, co) == state && uw__frame_instr(l, f) == uw__frame_instr(l, mine) &&
         uw__frame_code(l, f) == uw__frame_code(l, mine);
    /* A coroutine marks itself suspended before it unlinks from the thread
     * stack and clears its `previous`: until then its Task still runs and
     * its chain is not yet its stack.  (A never-started one may keep the
     * copied `previous` of the frame that created it; it was never
     * linked.) */
    ok = ok && (uw__gen_created(l, state) || uw__frame_previous(l, f) == 0);
    ok = ok && uw__frame_stack_depth(l, f, frame) == depth;
    if (ok && yf != 0) {
        int32_t slot = uw__frame_awaitee_slot(depth, t->al->awaitee_depth);
        size_t at;
        if (slot < 0)
            return 0;
        at = (size_t)uw__gen_frame_offset(l) + (size_t)uw__frame_slot_offset(l, slot);
        ok = at + 8 <= len && uw__u64(co + at) == yf;
    }
    return ok;
}

/* Judge Task w on its pieces from *n on (copy A at a[], copy B at
 * b[]): 1 when it reads as the chain read saw it, twice alike. */
static int uw_check_task(const uw_tasks *t, const uw_task_work *w, const uw_iov *a, const uw_iov *b,
                         size_t *n)
{
    const uw_asyncio_layout *al = t->al;
    const uw_check_span sp = uw_task_span(al);
    const uint8_t *tb = a[*n].dst;
    size_t first = *n, k;
    int ok;

    ok = a[*n].status == 0 && uw__i32(tb + ((size_t)al->fut_state - sp.lo)) == al->state_pending &&
         uw__u64(tb + ((size_t)al->task_coro - sp.lo)) == w->coro;
    /* 3.14+: its awaiters, as the links were read (awaited_by.c) */
    ok = ok && (al->fut_awaited_by < 0 ||
                (uw__u64(tb + ((size_t)al->fut_awaited_by - sp.lo)) == w->awaited_by &&
                 (tb[(size_t)al->fut_awaited_by_is_set - sp.lo] != 0) == w->awaited_by_is_set));
    (*n)++;
    for (k = 0; !w->on_stack && k < w->n_cf; k++) {
        ok = ok && a[*n].status == 0 && uw_check_coro(t, w->first_cf + k, a[*n].dst, a[*n].len);
        (*n)++;
    }
    for (k = first; ok && k < *n; k++) /* the second copy read the same */
        ok = b[k].status == 0 && memcmp(a[k].dst, b[k].dst, a[k].len) == 0;
    return ok;
}

/* The one read, retried while an epoch moved (UW_VALIDATE_RETRIES more
 * times): [epochs a][copy A][copy B][epochs b]. */
static void uw_check_read(uw_tasks *t, uw_iov *iov, size_t ne, size_t n)
{
    const uw_iov *b_epochs = iov + ne + 2 * n;
    unsigned attempt;
    size_t k;

    for (attempt = 0;; attempt++) {
        int stepped = 0;
        (void)uw_readv(t->r, iov, 2 * ne + 2 * n);
        for (k = 0; k < ne; k++) {
            t->ep[k].moved =
                iov[k].status != 0 || b_epochs[k].status != 0 || t->ep[k].a != t->ep[k].b;
            stepped |= t->ep[k].moved;
        }
        if (!stepped || attempt == UW_VALIDATE_RETRIES)
            break;
    }
}

/* Reserve the check's views for this sample's Tasks and frames. */
static int uw_check_reserve(uw_tasks *t)
{
    const uw_check_span sp = uw_task_span(t->al);
    size_t coro = uw__gen_window(t->l);
    size_t deep = (size_t)uw__gen_frame_offset(t->l) +
                  (size_t)uw__frame_slot_offset(t->l, UW_CHECK_AWAITEE_SLOTS);
    size_t pieces = t->n_work + t->n_cf, bytes;
    int rc;

    if (deep > coro)
        coro = deep;
    bytes = t->n_work * (sp.hi - sp.lo) + t->n_cf * coro;
    if ((rc = uw__view_reserve(&t->sc.check_iov, 2 * (t->n_ep + pieces))) != 0 ||
        (rc = uw__view_reserve(&t->sc.copy_a, bytes)) != 0 ||
        (rc = uw__view_reserve(&t->sc.copy_b, bytes)) != 0)
        return rc;
    return 0;
}

/* Queue copy A (each Task not skipped yet, rolled back if it does not
 * fit), mirror it as copy B, bracket both with the epochs, read, then
 * judge each Task on its pieces in the same order. */
int uw__check(uw_tasks *t)
{
    const size_t ne = t->n_ep;
    uw_iov *iov, *a;
    size_t i, k, n = 0, na, used = 0, room;
    int rc;

    if ((rc = uw_check_reserve(t)) != 0)
        return rc;
    iov = UW__IOV(&t->sc.check_iov);
    a = iov + ne;
    room = (t->sc.check_iov.have - 2 * ne) / 2; /* pieces of one copy */
    for (i = 0; i < t->n_work; i++)
        if (t->work[i].skipped == 0)
            uw_check_queue_task(t, &t->work[i], a, room, &n, &used);
    for (k = 0; k < ne; k++)
        iov[k] = (uw_iov){t->ep[k].counter, &t->ep[k].a, 8, 0};
    for (i = 0; i < n; i++)
        a[n + i] = (uw_iov){a[i].addr, t->sc.copy_b.p + ((uint8_t *)a[i].dst - t->sc.copy_a.p),
                            a[i].len, 0};
    for (k = 0; k < ne; k++)
        a[2 * n + k] = (uw_iov){t->ep[k].counter, &t->ep[k].b, 8, 0};
    uw_check_read(t, iov, ne, n);
    na = n;
    for (i = 0, n = 0; i < t->n_work; i++) {
        uw_task_work *w = &t->work[i];
        if (w->skipped != 0)
            continue;
        if (!uw_check_task(t, w, a, a + na, &n)) {
            w->skipped = UW_SKIP_TASK_CHANGED;
            continue;
        }
        if (w->on_stack)
            continue;
        for (k = 0; k < ne; k++)
            if (t->ep[k].thread == w->thread && t->ep[k].moved)
                w->skipped = UW_SKIP_LOOP_STEPPED;
    }
    return 0;
}
