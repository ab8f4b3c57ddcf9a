/*
 * recheck.c — a finished thread walk checked against a second read of
 * everything it visited.
 *
 * The frames were read over a stretch of time, so a `previous` may have led
 * into a slot that another frame has reused since: a stack mixing two
 * instants.  One vectored read brings the current-frame pointer, every
 * visited frame again (the chunk's frames coalesce into one span), the
 * current-frame pointer once more, then (with a bracket) the bracket
 * counter, each in an ordered group of the read (the reader orders nothing
 * within a group, and would read the two pointers as one).  The last pointer is read after the
 * frames, the reverse of the walk's order, so that one interleaving of the target's stores cannot
 * tear both reads the same way.  The first pointer is what makes the stack one instant's: the walk
 * read every frame before it and the re-read reads every frame after it, so at that read, with the
 * pointer on the walk's first frame, each frame held what both reads saw.  With the pointer read
 * only after the frames, nothing shows that the first frame was linked while they were read: a
 * coroutine that returned (the pointer back on its caller, which runs on) and a new call of the
 * same code built in the same slot, read by both passes before it was linked, show the caller at a
 * line it had left when the new call was linked, and the last pointer finds the first frame again
 * (rule recheck_pointer_first).  What must be unchanged: each frame's code, previous and owner, and
 * every frame's instruction pointer: the callers' are fixed at their call sites while their callee
 * runs, and the innermost frame's must stay at the same line, although it
 * keeps running (uw_same_line).
 * No counter moves on a plain call, so a function that returned and the
 * next call of the same code in the same slot (same code, previous and
 * owner) can only be told apart by where it is: the innermost frame read
 * at one line and its caller read after it called again is a stack that
 * never existed (rule recheck_innermost_ip).  A running frame that moved
 * costs a retry, or, above Handle._run, the frames of the callback.
 *
 * Without a bracket, any change marks the walk incomplete (retried).  A
 * change that reverted in between (ABA) escapes this check: a Task step
 * that ended and a next one that began in the same slot look the same.
 * On a loop thread it also lets through a stack that never was: the
 * Handle._run frame popped, _run_once moved to its select, the select
 * frame built in the same slot and the pointer back on it, each copy torn
 * so that it shows the popped Handle._run over _run_once at the select.
 * So a walk without a bracket that found the split keeps it only with the
 * split's caller at the call that makes a Handle._run frame, and no frame
 * of the loop's own code (the hooks' code_role) stands at that call under
 * a frame that is no Handle._run (the select frame left in the slot over
 * _run_once back at its _run() call: the same tear the other way round);
 * else it is incomplete (rule recheck_unbracketed_split_site).  The select
 * frame can be left over _run_once at any of its calls: a frame of the
 * loop's own code standing at a method call without arguments, `x.M()`,
 * under a frame whose code is not named M, marks it incomplete too (rule
 * recheck_unbracketed_callee; the popleft of the next handle).
 *
 * With a bracket (the Task walk's loop epoch: e0 read before the walk, e1
 * now), the loop started no callback in between, so it ran one
 * Handle._run throughout, or none.  The Task walk's stable_from hook named
 * the frame below which nothing can have changed during one callback
 * (th->split).  Then:
 *   - e0 != e1: incomplete (the walk may span two callbacks), unless the
 *     frames from th->split rootward read alike and the split's caller
 *     stood at its remembered call site: then those frames are kept and
 *     the ones above dropped (th->anchored; uw_anchor);
 *   - the frames from th->split rootward changed: incomplete;
 *   - only frames inward of it changed: they belong to the callback (the
 *     running Task) and are dropped from the sample (th->top_dropped); the
 *     frames from th->split rootward are kept;
 *   - no stable frame (th->split < 0) and anything changed: incomplete.
 * Bound: UW_LIMIT_FRAMES visited frames, one read of UW_RECHECK_IOV pieces.
 */
#include <stdlib.h>
#include <string.h>

#include "internal/frame.h"
#include "internal/rules.h"
#include "internal/uw_assert.h"
#include "tornstack/error.h"
#include "unwind_int.h"

void uw__visit(uw_unwinder *u, uint64_t addr, const uint8_t *frame)
{
    if (u->n_visited < UW_LIMIT_FRAMES) {
        u->visited[u->n_visited] = addr;
        memcpy(u->visited_bytes + u->n_visited * UW_FRAME_BUF, frame, (size_t)u->l->frame_size);
        u->n_visited++;
    }
}

/* Index in u->visited of the frame at addr (the last visit), SIZE_MAX if
 * the walk did not pass it. */
static size_t uw_visited_index(const uw_unwinder *u, uint64_t addr)
{
    size_t k;

    for (k = u->n_visited; k-- > 0;)
        if (u->visited[k] == addr)
            return k;
    return SIZE_MAX;
}

/* Index in u->visited of the stable frame th->split, SIZE_MAX if none. */
static size_t uw_visited_split(const uw_unwinder *u, const uw_sample *s, const uw_thread_sample *th)
{
    if (th->split < 0)
        return SIZE_MAX;
    return uw_visited_index(u, s->frames[th->first_frame + (size_t)th->split].addr);
}

/* Is the visited frame at addr inside the current chunk's re-read copy? */
static int uw_in_chunk(const uw_unwinder *u, const uw_chunk_copy *c0, uint64_t a)
{
    return c0 != NULL && a >= c0->addr && a - c0->addr + (uint64_t)u->l->frame_size <= c0->len;
}

/* The re-read's ordered groups (reader.h): each piece whose place in
 * the argument's order matters closes a group; at most
 * UW_RECHECK_GROUPS. */
#define UW_RECHECK_GROUPS 8
typedef struct uw_recheck_groups {
    size_t end[UW_RECHECK_GROUPS];
    size_t n;
} uw_recheck_groups;

static void uw_group_close(uw_recheck_groups *gr, size_t nr)
{
    UW_ASSERT(gr->n < UW_RECHECK_GROUPS);
    gr->end[gr->n++] = nr;
}

/* Queue the re-read: the current-frame pointer into ptr[0] (through the
 * cframe on 3.11/3.12, whose address is read again too, into cf[0]; both
 * only under rule recheck_pointer_first), visited frames outside the
 * chunk, the chunk (when its buffer can grow to it), the pointer again
 * (cf[1], ptr[1]), the bracket counter.  *i_re is the chunk's piece,
 * SIZE_MAX when the chunk is not re-read. */
static size_t uw_recheck_queue(uw_unwinder *u, uint64_t ts, const uw_walk_from *from,
                               const uw_chunk_copy *c0, uint64_t counter, uint64_t cf[2],
                               uint64_t ptr[5], uint64_t *e1, size_t *i_re, uw_recheck_groups *gr)
{
    const uw_layout *l = u->l;
    uw_iov *rv = u->recheck_iov;
    uint64_t ptr_addr =
        from->ptr_addr != 0 ? from->ptr_addr : uw__tstate_current_frame_addr(l, u->tstate, ts);
    size_t nr = 0, k;

    *i_re = SIZE_MAX;
    gr->n = 0;
    if (UW_RULE(recheck_pointer_first)) {
        if (uw__tstate_has_cframe(l)) {
            rv[nr++] = (uw_iov){uw__tstate_cframe_slot(l, ts), &cf[0], 8, 0};
            uw_group_close(gr, nr);
        }
        rv[nr++] = (uw_iov){ptr_addr, &ptr[0], 8, 0};
        uw_group_close(gr, nr);
    }
    for (k = 0; k < u->n_visited; k++) {
        uint64_t a = u->visited[k];
        if (uw_in_chunk(u, c0, a) && u->recheck_cap >= c0->len)
            continue;
        if (uw__frame_in_tstate(u, a)) { /* never changes (chunks.c) */
            memcpy(u->recheck_bytes + k * UW_FRAME_BUF, u->visited_bytes + k * UW_FRAME_BUF,
                   (size_t)l->frame_size);
            continue;
        }
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
            *i_re = nr;
            rv[nr++] = (uw_iov){c0->addr, u->recheck_chunk, c0->len, 0};
        }
    }
    uw_group_close(gr, nr); /* the frames: one group, the chunk's in one span */
    if (uw__tstate_has_cframe(l)) {
        rv[nr++] = (uw_iov){uw__tstate_cframe_slot(l, ts), &cf[1], 8, 0};
        uw_group_close(gr, nr);
    }
    rv[nr++] = (uw_iov){ptr_addr, &ptr[1], 8, 0};
    uw_group_close(gr, nr);
    if (counter != 0) {
        rv[nr++] = (uw_iov){counter, e1, 8, 0};
        uw_group_close(gr, nr);
    }
    if (from->outer_cframe != 0)
        rv[nr++] = (uw_iov){from->outer_cframe + (uint64_t)l->cframe_current_frame, &ptr[2], 8, 0};
    if (from->pin_addr != 0)
        rv[nr++] = (uw_iov){from->pin_addr, &ptr[3], 16, 0};
    if (u->gen_trust) /* after every frame: code objects taken as validated */
        rv[nr++] = (uw_iov){u->gen_addr, &u->gen_again, 8, 0};
    uw_group_close(gr, nr);
    UW_ASSERT(nr <= UW_RECHECK_IOV);
    return nr;
}

/* Do two copies of the innermost frame (same code, previous and owner)
 * stand at the same line?  A frame that keeps running moves its
 * instruction pointer within a line (a loop on one line, 3.14's stores
 * before each escaping call), and the sample shows its line, not where in
 * the line it was: both copies show the same stack.  A call that returned
 * and the next call of the same code in the same slot are still told apart
 * when they stand at different lines; at the same line they show the same
 * frame.  No line (no validated code entry, an instruction pointer outside
 * the code, a malformed table) is no match. */
static int uw_same_line(uw_unwinder *u, const uint8_t *a, const uint8_t *b)
{
    const uw_layout *l = u->l;
    uint64_t code = uw__frame_code(l, b);
    uw_code_info *e = code != 0 ? uw__code_for(u, code) : NULL;
    int64_t ia, ib;
    int la = -1, lb = -1;

    if (e == NULL || uw__frame_owner(l, b) == UW__OWNER_CSTACK ||
        uw__frame_code_index(l, uw__frame_instr(l, a), code, e->id.units, &ia) ||
        uw__frame_code_index(l, uw__frame_instr(l, b), code, e->id.units, &ib) ||
        uw__code_line(e, ia, &la) != 0 || uw__code_line(e, ib, &lb) != 0)
        return 0;
    return la >= 0 && la == lb;
}

/* Compare every visited frame with its second copy; the frames from
 * k_split on (rootward) count in *bottom_same, the others in *top_same. */
static void uw_recheck_compare(uw_unwinder *u, const uw_chunk_copy *c0, size_t i_re, size_t k_split,
                               int *top_same, int *bottom_same)
{
    const uw_layout *l = u->l;
    size_t k;

    for (k = 0; k < u->n_visited; k++) {
        const uint8_t *b = u->visited_bytes + k * UW_FRAME_BUF, *a;
        uint64_t addr = u->visited[k];
        int same;
        if (i_re != SIZE_MAX && uw_in_chunk(u, c0, addr))
            a = u->recheck_chunk + (addr - c0->addr);
        else
            a = u->recheck_bytes + k * UW_FRAME_BUF;
        same = uw__frame_same_link(l, a, b) && ((k == 0 && !UW_RULE(recheck_innermost_ip)) ||
                                                uw__frame_instr(l, a) == uw__frame_instr(l, b) ||
                                                (k == 0 && uw_same_line(u, a, b)));
        if (k_split != SIZE_MAX && k >= k_split)
            *bottom_same = *bottom_same && same;
        else
            *top_same = *top_same && same;
    }
}

/* The split's caller: the visited frame after the split's (rootward);
 * SIZE_MAX when the walk has none. */
static size_t uw_split_caller(const uw_unwinder *u, size_t k_split)
{
    return k_split != SIZE_MAX && k_split + 1 < u->n_visited ? k_split + 1 : SIZE_MAX;
}

typedef struct uw_split_at {
    uint64_t frame, code, ip;
} uw_split_at;

/* Where visited frame k stood, as the walk read it: its address, code and
 * instruction. */
static uw_split_at uw_split_at_of(const uw_unwinder *u, size_t k)
{
    const uint8_t *b = u->visited_bytes + k * UW_FRAME_BUF;

    return (uw_split_at){u->visited[k], uw__frame_code(u->l, b), uw__frame_instr(u->l, b)};
}

/* Remember where the split's caller stood in a walk whose whole stack was
 * one instant's (the pointer on its first frame before and after the
 * re-read, every frame the same, the bracket unmoved), or at a call its
 * code shows to be the handle's (call_site.c): at the call that made the
 * split frame.  The newest first; a frame seen again moves up. */
static void uw_split_site_learn(uw_unwinder *u, size_t k)
{
    const uw_split_at at = uw_split_at_of(u, k);
    size_t i, n = u->n_split_sites;

    for (i = 0; i < n; i++)
        if (u->split_site[i].frame == at.frame)
            break;
    if (i == n && n < UW_SPLIT_SITES)
        u->n_split_sites = ++n;
    if (i == n) /* full: the oldest goes */
        i = n - 1;
    memmove(&u->split_site[1], &u->split_site[0], i * sizeof u->split_site[0]);
    u->split_site[0].frame = at.frame;
    u->split_site[0].code = at.code;
    u->split_site[0].ip = at.ip;
}

/* Does the split's caller (visited frame k, read alike twice) stand at a
 * call site where a walk proven one instant's found the split frame
 * linked, or at one its code shows to be `x._run()` (call_site.c)?  With
 * the bracket unmoved it stood there throughout: it leaves that site at
 * its next call (a handle's popleft, select), and comes back only to call
 * the next handle, after a popleft that moves the epoch. */
static int uw_split_site_known(uw_unwinder *u, size_t k)
{
    const uw_split_at at = uw_split_at_of(u, k);
    size_t i;

    for (i = 0; i < u->n_split_sites; i++)
        if (u->split_site[i].frame == at.frame && u->split_site[i].code == at.code &&
            u->split_site[i].ip == at.ip)
            return 1;
    if (!uw__split_call_site(u, at.code, at.ip))
        return 0;
    uw_split_site_learn(u, k); /* its code says so: remembered as if seen */
    return 1;
}

int uw__split_site_at(uw_unwinder *u, uint64_t frame, uint64_t code, uint64_t ip)
{
    size_t i;

    if (u == NULL || frame == 0 || code == 0)
        return 0;
    for (i = 0; i < u->n_split_sites; i++)
        if (u->split_site[i].frame == frame && u->split_site[i].code == code &&
            u->split_site[i].ip == ip)
            return 1;
    return uw__split_call_site(u, code, ip);
}

/* The role the hooks give code object `code` (0 without the hook, or
 * without a validated entry). */
static int uw_code_role(uw_unwinder *u, uint64_t code)
{
    const uw_code_info *e;

    if (!u->has_hooks || u->hooks.code_role == NULL || code == 0)
        return 0;
    e = uw__code_for(u, code);
    return e != NULL ? u->hooks.code_role(u->hooks.ctx, e) : 0;
}

/* The name a code object's qualname ends with: its co_name. */
static const char *uw_code_short_name(const char *qualname)
{
    const char *dot = strrchr(qualname, '.');

    return dot != NULL ? dot + 1 : qualname;
}

/* Does a frame of the loop's own code stand at a call its code names
 * (call_site.c) under a frame that call cannot have made?  Two questions
 * of one pass, each under its rule:
 *   - at `x._run()` the frame above is a Handle._run (the split's code;
 *     rule recheck_unbracketed_split_site);
 *   - at any method call without arguments, `x.M()`, the frame above is
 *     M's (a C method such as popleft makes none; rule
 *     recheck_unbracketed_callee).
 * Any other frame there was left in the slot.  A name the verdict does
 * not know, or a frame without a validated entry, says nothing.  Bound:
 * the walk's visited frames. */
static int uw_loop_call_broken(uw_unwinder *u)
{
    const int site = UW_RULE(recheck_unbracketed_split_site);
    const int callee = UW_RULE(recheck_unbracketed_callee);
    size_t k;

    for (k = 1; (site || callee) && k < u->n_visited; k++) {
        const uw_split_at at = uw_split_at_of(u, k);
        const uint64_t above = uw_split_at_of(u, k - 1).code;
        const uw_code_info *e;
        const char *name;

        if (uw_code_role(u, at.code) != UW__ROLE_LOOP)
            continue;
        if (site && uw__split_call_site(u, at.code, at.ip) &&
            uw_code_role(u, above) != UW__ROLE_SPLIT)
            return 1;
        name = callee ? uw__method_call_name(u, at.code, at.ip) : NULL;
        e = name != NULL ? uw__code_for(u, above) : NULL;
        if (e != NULL && e->qualname != NULL && strcmp(uw_code_short_name(e->qualname), name) != 0)
            return 1;
    }
    return 0;
}

/* Is frame the split caller's of a walk before (a remembered site's)? */
static int uw_split_caller_frame(const uw_unwinder *u, uint64_t frame)
{
    size_t i;

    for (i = 0; frame != 0 && i < u->n_split_sites; i++)
        if (u->split_site[i].frame == frame)
            return 1;
    return 0;
}

/* Drop the frames inward of th->split: they changed during the callback
 * that the bracket proved was the only one. */
static void uw_drop_top(uw_sample *s, uw_thread_sample *th)
{
    size_t cut = (size_t)th->split;

    memmove(&s->frames[th->first_frame], &s->frames[th->first_frame + cut],
            (th->n_frames - cut) * sizeof *s->frames);
    th->n_frames -= cut;
    s->n_frames -= cut;
    th->split = 0;
    th->top_dropped = 1;
}

/* The loop's epoch moved under the walk, yet the frames from the split
 * rootward read alike twice and the split's caller stood, both times, at
 * the call site where a walk proven one instant's found it calling the
 * split frame: those frames are the loop's pure Python stack in a
 * callback, which is the same in every callback, and a callback ran
 * during the walk (below); the frames above belong to callbacks the walk
 * spanned and are dropped.  Why a callback ran: the walk began at the
 * current frame, a callee of the split frame's slot as it read.  At that
 * instant either a callback ran, or the slot held another frame (select,
 * a finalizer run as _run_once let a handle go: whatever _run_once calls
 * next is built in that slot), and then the split's code read in it later
 * was written by a new Handle._run: a callback.  A Task checked later
 * held its checked state at that instant, or took it in a step of its
 * own, which ends inside its callback: either way with this pure stack
 * (docs/tasks.md, "A walk the epoch moved under"). */
static void uw_anchor(uw_sample *s, uw_thread_sample *th)
{
    uw_drop_top(s, th);
    th->anchored = 1;
}

/* The verdict, as the file's comment says: without a bracket any change
 * marks the walk incomplete; with one, a moved counter or a change from
 * the stable frame rootward does, and a change only inward of it drops
 * those frames.  th->epoch_loop records the bracket's tag.
 *
 * On 3.11/3.12 a nested eval loop's frames lead to the frame that was
 * current in the eval loop that called it: the outer cframe's current
 * frame, which cannot change while the nested loop runs.  A walk from a
 * nested cframe that never reaches that frame did not start at the nested
 * loop's current frame: in the loop's prologue, between publishing its
 * cframe and setting its current frame, that slot holds whatever the C
 * stack held (rule recheck_outer_frame).  Such a walk is marked
 * UW_ERR_ENTERING_EVAL and u->walk_garbage set; thread.c may then walk
 * from the outer frame. */
void uw__walk_recheck(uw_unwinder *u, uint64_t ts, const uw_walk_from *from, uint64_t counter,
                      uint64_t tag, uint64_t e0, uw_sample *s, uw_thread_sample *th)
{
    const uw_layout *l = u->l;
    const uw_chunk_copy *c0 = u->n_chunks > 0 ? &u->chunks[0] : NULL;
    uint64_t cf[2], ptr[5], e1 = 0, first = from->first;
    size_t nr, i_re, k_split, k_caller;
    uw_recheck_groups gr;
    int read_ok, ptrs_same, top_same, bottom_same;

    UW_ASSERT(th->truncated == 0 && first != 0);
    UW_ASSERT(th->first_frame + th->n_frames == s->n_frames);
    /* Without the rule, the first pointer reads as the last one. */
    cf[0] = cf[1] = uw__tstate_has_cframe(l) ? uw__tstate_cframe(l, u->tstate) : 0;
    ptr[0] = ptr[1] = first;
    ptr[2] = 0;
    ptr[3] = from->pin[0];
    ptr[4] = from->pin[1];
    k_split = uw_visited_split(u, s, th);
    nr = uw_recheck_queue(u, ts, from, c0, counter, cf, ptr, &e1, &i_re, &gr);
    read_ok = uw_readv_groups(u->r, u->recheck_iov, nr, gr.end, gr.n) == 0;
    u->gen_confirmed = u->gen_trust && read_ok && u->gen_again == u->gen_value;
    if (read_ok && UW_RULE(recheck_outer_frame) && from->outer_cframe != 0 && ptr[2] != 0 &&
        uw_visited_index(u, ptr[2]) == SIZE_MAX) {
        th->truncated = UW_ERR_ENTERING_EVAL;
        u->walk_garbage = 1;
        return;
    }
    ptrs_same = read_ok && ptr[0] == first && ptr[1] == first && ptr[3] == from->pin[0] &&
                ptr[4] == from->pin[1] &&
                (!uw__tstate_has_cframe(l) || (cf[0] == uw__tstate_cframe(l, u->tstate) &&
                                               cf[1] == uw__tstate_cframe(l, u->tstate)));
    top_same = ptrs_same;
    bottom_same = read_ok;
    if (read_ok)
        uw_recheck_compare(u, c0, i_re, k_split, &top_same, &bottom_same);
    k_caller = th->split >= 0 ? uw_split_caller(u, k_split) : SIZE_MAX;
    if (counter == 0) {
        if (!top_same || !bottom_same)
            th->truncated = UW_ERR_INCOMPLETE;
        else if (UW_RULE(recheck_unbracketed_split_site) && th->split >= 0 &&
                 (k_caller == SIZE_MAX || !uw_split_site_known(u, k_caller)))
            th->truncated = UW_ERR_INCOMPLETE;
        else if (uw_loop_call_broken(u))
            th->truncated = UW_ERR_INCOMPLETE; /* a stale frame over a call of the loop's */
        return;
    }
    th->epoch_loop = tag;
    th->epoch = e0;
    if (read_ok && e1 == e0 && bottom_same && top_same && k_caller != SIZE_MAX)
        uw_split_site_learn(u, k_caller);
    if (read_ok && e1 != e0 && bottom_same && k_caller != SIZE_MAX &&
        (!UW_RULE(anchor_split_site) || uw_split_site_known(u, k_caller)))
        uw_anchor(s, th);
    else if (!read_ok || e1 != e0 || !bottom_same)
        th->truncated = UW_ERR_INCOMPLETE;
    else if (!top_same && (k_split == SIZE_MAX || th->split < 0 ||
                           (UW_RULE(recheck_drop_top_linked) && !ptrs_same &&
                            (k_caller == SIZE_MAX || !uw_split_site_known(u, k_caller)))))
        th->truncated = UW_ERR_INCOMPLETE;
    else if (!top_same)
        uw_drop_top(s, th);
    u->walk_between =
        th->truncated == 0 && th->split < 0 && uw_split_caller_frame(u, th->shown_top);
}
