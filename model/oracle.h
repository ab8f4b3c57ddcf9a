/*
 * oracle.h — judge one sample of the unwinder by what its user receives,
 * against the truth of the instants the sample spanned (truth.h).
 *
 * Each Task entry, field by field — id, name, root coroutine and its code,
 * running, thread, awaiting, awaited_by, linked_to, created_by, the parent
 * chosen (awaiter over strong link over creation link), frames (address,
 * code, line) — must equal that Task's truth at one instant of the window,
 * the same instant for the whole entry.  Each stack uw_compose() builds
 * (compose.h: what the folded, record and profile writers print) must be
 * a stack that existed at one instant: the leaf's true frames, its true
 * parent's, and so on, then its loop's pure Python stack at that instant;
 * a thread's own stack must be its true stack at one instant.
 *
 * Violations, each counted on its own (mm_vkind):
 *   leak            an entry shows a frame that belonged to another Task,
 *                   or to the loop, and never to this one
 *   bogus           an entry's frames were never the Task's true frames
 *   bogus_pure      a thread's pure Python stack never existed
 *   depth           an entry deeper than its limits
 *   read_bound      a sample took more than MM_READ_BOUND reads
 *   bad_skip        a Task skipped as running_task_not_on_stack that never
 *                   was running nor marked executing
 *   link_leak       an entry linked (awaited_by, linked_to, created_by,
 *                   parent, or awaiting) to a Task that was never its
 *                   awaiter, strong or creation parent (or child) at any
 *                   instant of the window
 *   label_leak      an entry whose frames and coroutine are a Task's at an
 *                   instant where its name is not that Task's name
 *   unrooted        a composed Task stack that does not start at its
 *                   thread's root frame (the pure Python stack is missing)
 *   bogus_stack     a composed stack that never existed whole
 *   entry_mismatch  an entry not equal to its Task's truth at any one
 *                   instant, though each part was right at some instant
 *   still_skip      a window in which no store became visible, and yet a
 *                   Task or thread was skipped, a Task was missing, or a
 *                   walk was cut: nothing moved, nothing may be skipped
 *   thread_field    a thread entry's loop or running Task that its thread
 *                   state did not hold at any instant of the window
 *   crash           the unwinder (or the model) died of a signal during a
 *                   sample: counted by the runner (verify), not here
 */
#ifndef TORNSTACK_MM_ORACLE_H
#define TORNSTACK_MM_ORACLE_H

#include <stdint.h>

#include "fabricate.h"
#include "truth.h"
#include "tornstack/compose.h"
#include "tornstack/sample.h"

/* Reads one sample of a model program may take (documented bound). */
#define MM_READ_BOUND 512

enum mm_vkind {
    MM_V_LEAK = 0,
    MM_V_BOGUS,
    MM_V_BOGUS_PURE,
    MM_V_DEPTH,
    MM_V_READS,
    MM_V_BAD_SKIP,
    MM_V_LINK_LEAK,
    MM_V_LABEL_LEAK,
    MM_V_UNROOTED,
    MM_V_BOGUS_STACK,
    MM_V_MISMATCH,
    MM_V_STILL_SKIP,
    MM_V_THREAD_FIELD,
    MM_V_CRASH,
    MM_V_KINDS
};

const char *mm_vkind_name(int kind);

typedef struct mm_verdict {
    uint64_t samples, tasks, emitted, skipped;
    uint64_t skips[UW_REASON_SLOTS];
    uint64_t recovered; /* Task readings kept after a re-read and a re-check */
    uint64_t stacks;    /* composed stacks judged */
    uint64_t still;     /* samples of a still process */
    uint64_t kept;      /* thread entries shown from a kept walk, unread
                         * (src/unwind/idle.c) */
    uint64_t viol[MM_V_KINDS];
    uint64_t calls, bytes;
    uint64_t max_calls; /* most reads in one sample */
    uint64_t max_tasks; /* most Task entries in one sample */
    uint64_t reordered; /* MM_RELAXED: stores that became visible before an
                         * older one (the model's own count, not a verdict) */
    int first_kind;     /* kind of the first violation, -1 */
    int want_kind;      /* -1, or: `first` describes the first of this kind */
    char first[640];    /* the first violation, described */
} mm_verdict;

/* What the oracle needs besides the sample and the truth. */
typedef struct mm_oracle_ctx {
    const mm_world *w;
    uint64_t handle_run;           /* Handle._run's code object */
    uint64_t tstate[MM_MAX_LOOPS]; /* each loop's thread state */
    int n_loops;
    int still; /* no store became visible */
    /* the unwinder keeps the loop epochs of epochs_kept threads only
     * (uw__tasks_limit_epochs) when epochs_limited; else UW_EPOCH_THREADS */
    int epochs_limited, epochs_kept;
    const mm_image *im; /* still windows: the registry, read
                         * from memory as a perfect reader */
    /* what composes the stacks judged: NULL for uw_compose, what users
     * get (test_oracle.c puts a faulty one in, to see it caught) */
    int (*compose)(const uw_sample *s, const uw_compose_options *o, uw_stack_fn fn, void *ctx,
                   uint32_t *skipped);
} mm_oracle_ctx;

void mm_verdict_init(mm_verdict *v);

/* Judge s; counts go into v.  Returns the number of violations found. */
int mm_oracle_check(const uw_sample *s, const mm_oracle_ctx *c, mm_verdict *v);

uint64_t mm_verdict_violations(const mm_verdict *v);
void mm_verdict_add(mm_verdict *into, const mm_verdict *v);

#endif
