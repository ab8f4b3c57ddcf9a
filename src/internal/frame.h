/*
 * frame.h — the one place that decodes CPython's _PyInterpreterFrame and
 * the generator (coroutine) object around an embedded frame.
 *
 * Both walks read frames as bytes: the thread walk from copies of data-stack
 * chunks and single frames, the Task walk from copies of coroutine objects.
 * Neither touches a frame field by offset: they ask here.  A CPython version
 * that changes the frame (3.14: f_executable becomes a tagged _PyStackRef,
 * stacktop becomes a stackpointer, owners and generator states are
 * renumbered) changes this file and the layout table, nothing else.  So the
 * interface speaks of what the walks need, not of fields: the code object,
 * the caller, the instruction, who owns the frame, how deep its value stack
 * is, the address of a value-stack slot.
 *
 * Every function takes a copy of at least layout->frame_size bytes (a
 * frame) or of uw__gen_window() bytes (a generator up to the end of its
 * frame's fixed part); the layout check at attach guarantees that every
 * offset used here lies inside those (layout_check.c).
 */
#ifndef TORNSTACK_FRAME_H
#define TORNSTACK_FRAME_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "internal/layout.h"
#include "internal/load.h"

/* --- frames ------------------------------------------------------------------ */

/* Who owns a frame, which decides whether and how it is shown. */
typedef enum uw__owner {
    UW__OWNER_BAD = 0,      /* no owner CPython uses: a torn or garbage frame */
    UW__OWNER_THREAD,       /* on a thread's data stack */
    UW__OWNER_GENERATOR,    /* embedded in a generator, coroutine or async generator */
    UW__OWNER_FRAME_OBJECT, /* kept alive by a frame object */
    UW__OWNER_CSTACK,       /* an entry frame, never shown: owned by the C stack (3.12-3.14)
                             * or by the interpreter (3.14+) */
} uw__owner;

/* The object a _PyStackRef word refers to (3.14+: f_executable, f_funcobj
 * and the value stack hold them), 0 for none.  The default build marks a
 * borrowed or immortal reference with the bits PyStackRef_AsPyObjectBorrow
 * clears (stackref_borrow_mask, measured from the headers); a word with
 * any other tag bit set is a tagged int (or, 3.15, an invalid reference),
 * not an object; PyStackRef_NULL masks to 0.  Before 3.14 the word is the
 * pointer itself. */
static inline uint64_t uw__stackref_object(const uw_layout *l, uint64_t word)
{
    const uint64_t tags = (uint64_t)(uint32_t)l->stackref_tag_bits;
    const uint64_t borrow = (uint64_t)(uint32_t)l->stackref_borrow_mask;

    if (!l->frame_tagged)
        return word;
    if ((word & tags & ~borrow) != 0)
        return 0;
    return word & ~borrow;
}

/* The code object the frame runs (f_code, 3.13's f_executable, 3.14's
 * tagged f_executable masked).  The raw word is what uw__frame_same_link
 * compares. */
static inline uint64_t uw__frame_code(const uw_layout *l, const uint8_t *f)
{
    return uw__stackref_object(l, uw__u64(f + l->frame_code));
}

/* The calling frame, 0 at the bottom of a chain. */
static inline uint64_t uw__frame_previous(const uw_layout *l, const uint8_t *f)
{
    return uw__u64(f + l->frame_previous);
}

/* The instruction pointer (3.11/3.12 prev_instr, 3.13 instr_ptr). */
static inline uint64_t uw__frame_instr(const uw_layout *l, const uint8_t *f)
{
    return uw__u64(f + l->frame_instr);
}

static inline uw__owner uw__frame_owner(const uw_layout *l, const uint8_t *f)
{
    int owner = f[l->frame_owner];

    if (l->owner_cstack != UW_ABSENT && owner == l->owner_cstack)
        return UW__OWNER_CSTACK;
    if (l->owner_interpreter != UW_ABSENT && owner == l->owner_interpreter)
        return UW__OWNER_CSTACK; /* 3.14+ entry frames, 3.15's base frame */
    if (owner == l->owner_thread)
        return UW__OWNER_THREAD;
    if (owner == l->owner_generator)
        return UW__OWNER_GENERATOR;
    if (owner == l->owner_frame_object)
        return UW__OWNER_FRAME_OBJECT;
    return UW__OWNER_BAD;
}

/* Do two copies of one frame agree on what links it into a stack: its code
 * (the word as stored, tag bits included), its caller and its owner? */
static inline int uw__frame_same_link(const uw_layout *l, const uint8_t *a, const uint8_t *b)
{
    return uw__u64(a + l->frame_code) == uw__u64(b + l->frame_code) &&
           uw__frame_previous(l, a) == uw__frame_previous(l, b) &&
           a[l->frame_owner] == b[l->frame_owner];
}

/* Slots of localsplus in use, the value stack's top included (3.11-3.13:
 * stacktop; 3.14+: stackpointer, one past the top, as a slot count from
 * localsplus of the frame at `frame`).  -1 when the stack pointer does not
 * point into this frame's slots (a torn or garbage frame): callers treat
 * a depth below 1 as "no value stack". */
static inline int32_t uw__frame_stack_depth(const uw_layout *l, const uint8_t *f, uint64_t frame)
{
    uint64_t sp, base;

    if (l->frame_stackpointer == UW_ABSENT)
        return uw__i32(f + l->frame_stacktop);
    sp = uw__u64(f + l->frame_stackpointer);
    base = frame + (uint64_t)l->frame_localsplus;
    if (sp < base || ((sp - base) & 7) != 0 || (sp - base) / 8 > (uint64_t)INT32_MAX)
        return -1;
    return (int32_t)((sp - base) / 8);
}

/* The value-stack slot that holds the object a coroutine suspended in an
 * await delegates to (what cr_await returns), for a stack `depth` slots
 * deep: `awaitee_depth` below the top (uw_asyncio_layout: 1 up to 3.14;
 * 3.15 keeps a NULL reference above it, so 2).  -1 when the stack is not
 * that deep. */
static inline int32_t uw__frame_awaitee_slot(int32_t depth, int32_t awaitee_depth)
{
    return awaitee_depth >= 1 && depth >= awaitee_depth ? depth - awaitee_depth : -1;
}

/* Offset, from the frame's start, of localsplus slot `slot`. */
static inline uint64_t uw__frame_slot_offset(const uw_layout *l, int32_t slot)
{
    return (uint64_t)l->frame_localsplus + 8u * (uint64_t)(uint32_t)slot;
}

/* Address of localsplus slot `slot` of the frame at `frame`. */
static inline uint64_t uw__frame_slot_addr(const uw_layout *l, uint64_t frame, int32_t slot)
{
    return frame + uw__frame_slot_offset(l, slot);
}

/* Is the frame incomplete: not yet past its first traceable instruction
 * (CPython's _PyFrame_IsIncomplete)?  A generator's frame never is. */
static inline int uw__frame_incomplete(const uw_layout *l, uw__owner owner, uint64_t ip,
                                       uint64_t code, int32_t firsttraceable)
{
    uint64_t base = code + (uint64_t)l->code_adaptive;

    return owner != UW__OWNER_GENERATOR && ip < base + 2 * (uint64_t)(uint32_t)firsttraceable;
}

/* The code unit the instruction pointer names, in *index (-1 before the
 * first).  Returns 0, or 1 when ip lies outside the code object's `units`
 * code units: then it came from another frame that used the same slot. */
static inline int uw__frame_code_index(const uw_layout *l, uint64_t ip, uint64_t code,
                                       int64_t units, int64_t *index)
{
    uint64_t base = code + (uint64_t)l->code_adaptive;

    *index = ip >= base ? (int64_t)((ip - base) / 2) : -1;
    return ip + 2 < base || *index >= units;
}

/* --- generators and coroutines ------------------------------------------------- */

/* Bytes of a generator object up to the end of its frame's fixed part:
 * what a copy must hold for the functions below. */
static inline size_t uw__gen_window(const uw_layout *l)
{
    return (size_t)l->gen_iframe + (size_t)l->frame_size;
}

/* The frame state (created, suspended, executing, completed, ...). */
static inline int8_t uw__gen_state(const uw_layout *l, const uint8_t *gen)
{
    return (int8_t)gen[l->gen_frame_state];
}

/* The embedded frame, in a copy of the generator. */
static inline const uint8_t *uw__gen_frame(const uw_layout *l, const uint8_t *gen)
{
    return gen + l->gen_iframe;
}

/* Offset of the embedded frame from the generator's start. */
static inline uint64_t uw__gen_frame_offset(const uw_layout *l)
{
    return (uint64_t)l->gen_iframe;
}

/* Address of the embedded frame of the generator at `gen`, and back. */
static inline uint64_t uw__gen_frame_addr(const uw_layout *l, uint64_t gen)
{
    return gen + (uint64_t)l->gen_iframe;
}

static inline uint64_t uw__frame_gen_addr(const uw_layout *l, uint64_t frame)
{
    return frame - (uint64_t)l->gen_iframe;
}

/* Has it finished (completed or cleared)?  Then it has no frame to show.
 * 3.11-3.14 order COMPLETED below CLEARED; 3.15 has no COMPLETED (a
 * finished frame is CLEARED, its highest state). */
static inline int uw__gen_finished(const uw_layout *l, int state)
{
    if (l->state_completed != UW_NO_STATE)
        return state >= l->state_completed;
    return state >= l->state_cleared;
}

static inline int uw__gen_executing(const uw_layout *l, int state)
{
    return state == l->state_executing;
}

static inline int uw__gen_created(const uw_layout *l, int state)
{
    return state == l->state_created;
}

/* Is it suspended in an await (3.13+: FRAME_SUSPENDED_YIELD_FROM, and on
 * 3.15 its _LOCKED form, held while another reader looks at the awaitee;
 * 3.11 and 3.12: FRAME_SUSPENDED, to be confirmed by
 * uw__gen_await_at_resume)? */
static inline int uw__gen_suspended_awaiting(const uw_layout *l, int state)
{
    if (l->state_suspended_yield_from_locked != UW_NO_STATE &&
        state == l->state_suspended_yield_from_locked)
        return 1;
    if (l->state_suspended_yield_from != UW_NO_STATE)
        return state == l->state_suspended_yield_from;
    return state == l->state_suspended;
}

/* Must the RESUME where the frame stopped be read to tell an await from a
 * plain yield?  On 3.11 and 3.12 always (no yield-from state); on 3.13 only
 * when the state is lost: a root resumed (marked executing) but not linked
 * yet, whose last suspension only its instruction still tells. */
static inline int uw__gen_await_needs_resume(const uw_layout *l, int resumed)
{
    return l->state_suspended_yield_from == UW_NO_STATE || resumed;
}

/* Address of that RESUME: the unit after the current instruction on 3.11
 * and 3.12 (prev_instr), the current one on 3.13 (instr_ptr points at the
 * RESUME a suspended frame goes on from); 0 when the frame stopped before
 * its first instruction (never started: no await). */
static inline uint64_t uw__frame_resume_unit(const uw_layout *l, const uint8_t *f)
{
    uint64_t ip = uw__frame_instr(l, f), base = uw__frame_code(l, f) + (uint64_t)l->code_adaptive;

    if (l->state_suspended_yield_from == UW_NO_STATE)
        return ip + 2;
    return ip >= base ? ip : 0;
}

/* Given that RESUME (opcode, oparg), is the suspension an await: a RESUME
 * (or its quickened or instrumented form) after a yield-from or an await
 * (its location bits >= 2; 3.13 adds a depth bit above them)? */
static inline int uw__gen_await_at_resume(const uw_layout *l, int opcode, int oparg)
{
    int where = l->state_suspended_yield_from == UW_NO_STATE ? oparg : (oparg & 3);

    return (opcode == l->opcode_resume || opcode == l->opcode_resume_alt) && where >= 2;
}

#endif /* TORNSTACK_FRAME_H */
