/*
 * compose.h — the stacks users see, built in one place.
 *
 * A sample holds pieces: each thread's frames, each Task's own frames and
 * its parent link.  What a user reads in a flame graph is a whole stack,
 * root first: the loop's pure Python stack, then each ancestor Task's own
 * frames from the outermost ancestor in, then the leaf Task's own frames.
 * Every writer that prints whole stacks (folded, record, and the profile
 * formats) takes them from uw_compose, and the model's oracle judges
 * exactly what uw_compose returns, so a stack proven in the model is the
 * stack a user sees.
 *
 * Which stacks a sample gives:
 *   - a thread with Tasks: one stack per leaf Task (a Task no other Task of
 *     the sample names as its parent).  A leaf whose stack cannot be
 *     trusted (it or an ancestor was skipped, a link cycle, the link or
 *     item bound, no pure Python stack) gives no stack; its reason is
 *     counted instead;
 *   - a thread without Tasks, or none of whose leaf Tasks gave a stack:
 *     its own frames.
 *
 * Items include synthetic markers, on by default and switched off one kind
 * at a time by the options: one UW_ITEM_THREAD at the root of every stack,
 * and one UW_ITEM_TASK just before (rootward of) each Task's own frames, so
 * a Task with no frames of its own still shows.  Markers change nothing
 * else: removing them from a stack gives the stack composed without them.
 * The writers print them as `<thread NATIVE_ID NAME>` and `<task NAME>`
 * (docs/output.md).
 *
 * Bounds: UW_LIMIT_LINK_CHAIN Tasks per stack (UW_ERR_LIMIT_LINKS), and
 * UW_LIMIT_STACK_ITEMS items per stack (UW_ERR_LIMIT_STACK).
 */
#ifndef TORNSTACK_COMPOSE_H
#define TORNSTACK_COMPOSE_H

#include <stddef.h>
#include <stdint.h>

#include "tornstack/sample.h"

typedef enum uw_item_kind {
    UW_ITEM_FRAME = 0,  /* a Python frame: `frame` */
    UW_ITEM_TASK = 1,   /* a Task boundary: `index` into s->tasks */
    UW_ITEM_THREAD = 2, /* the thread at the root: `index` into s->threads */
} uw_item_kind;

typedef struct uw_stack_item {
    uw_item_kind kind;
    size_t index;
    const uw_frame *frame;
} uw_stack_item;

/* One composed stack.  items[0] is the root, items[n-1] the innermost. */
typedef struct uw_stack {
    size_t thread; /* index into s->threads */
    int64_t task;  /* the leaf Task, or -1 for a thread's own stack */
    const uw_stack_item *items;
    size_t n;
} uw_stack;

typedef struct uw_compose_options {
    int task_items;   /* a UW_ITEM_TASK before each Task's own frames */
    int thread_items; /* a UW_ITEM_THREAD at the root of every stack */
} uw_compose_options;

/* Defaults: both kinds of markers on (what users see). */
void uw_compose_options_default(uw_compose_options *o);

/* Called once per stack; the items are valid only during the call.  A
 * non-zero return stops the composition and is returned by uw_compose. */
typedef int (*uw_stack_fn)(void *ctx, const uw_stack *st);

/* Every stack of the sample, in thread order.  Stacks that cannot be
 * trusted are counted in skipped[uw_reason_slot(reason)] (may be NULL).
 * Returns 0, UW_ERR_NOMEM, or what fn returned. */
int uw_compose(const uw_sample *s, const uw_compose_options *o, uw_stack_fn fn, void *ctx,
               uint32_t *skipped);

/* The stack of one Task (leaf or not) into items[0..*n), root first, at
 * most cap items.  Returns 0, or the reason it has none: the skip reason of
 * the Task or an ancestor, UW_ERR_LINK_CYCLE, UW_ERR_LIMIT_LINKS, or
 * UW_ERR_LIMIT_STACK when cap (or UW_LIMIT_STACK_ITEMS) is too small. */
int uw_compose_task(const uw_sample *s, size_t task, const uw_compose_options *o,
                    uw_stack_item *items, size_t cap, size_t *n);

/* 1 when no Task of the sample names `task` as its parent. */
int uw_compose_is_leaf(const uw_sample *s, size_t task);

#endif /* TORNSTACK_COMPOSE_H */
