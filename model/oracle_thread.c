/*
 * oracle_thread.c — a thread entry's own fields, as users get them (the
 * JSON "loop" and "running_task" of each thread; its frames are judged
 * with the stacks, oracle_stack.c).
 *
 * Each is one word of the thread state (3.12+, or the running-loop entry
 * of its dict on 3.11), so each must be what that word held at one
 * instant of the window:
 *   loop          the loop the thread runs (the model's loops run through
 *                 every window: no loop is a false statement too);
 *   running_task  3.14+: the Task the thread state named as running at an
 *                 instant of the window (none, 0, counts when it named
 *                 none then); before 3.14 there is no such word, so 0.
 * A wrong value is a thread_field violation.
 */
#include "oracle_internal.h"

#include <inttypes.h>

/* The word the thread state of `loop` held at instant t: the running
 * Task's object (0: none).  A Task whose coroutine has returned is still
 * named until its step leaves, whatever became of its id since. */
static uint64_t mm_running_addr(const mm_oq *q, int loop, uint64_t t)
{
    return mm_loop_at(q->w, loop, t)->running_addr;
}

void mm_check_threads(mm_oq *q)
{
    const uw_sample *s = q->s;
    size_t i, k;

    for (i = 0; i < s->n_threads; i++) {
        const uw_thread_sample *th = &s->threads[i];
        int loop = mm_loop_of_tstate(q, th->tstate), ok = 0;
        uint64_t want;

        if (loop < 0)
            continue;
        want = q->c->im != NULL ? q->c->im->th[loop].loop : 0;
        if (want != 0 && th->running_loop != want)
            mm_violation(q, MM_V_THREAD_FIELD,
                         "thread %zu (tstate 0x%" PRIx64 ") shows loop 0x%" PRIx64
                         ", but it runs loop 0x%" PRIx64,
                         i, th->tstate, th->running_loop, want);
        mm_inst_reset(q);
        mm_inst_add_loop(q, loop);
        mm_inst_done(q);
        for (k = 0; k < q->n_inst && !ok; k++)
            ok = mm_running_addr(q, loop, q->inst[k]) == th->running_task;
        if (!ok)
            mm_violation(q, MM_V_THREAD_FIELD,
                         "thread %zu (tstate 0x%" PRIx64 ") shows running Task 0x%" PRIx64
                         ", which its thread state never named in the window (at its start: "
                         "0x%" PRIx64 ")",
                         i, th->tstate, th->running_task, mm_running_addr(q, loop, q->t0));
    }
}
