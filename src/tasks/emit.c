/*
 * emit.c — each Task's entry in the sample: its state, its skip reason or
 * its own frames, innermost first.
 *
 * A running Task placed on its thread's stack owns those frames (from the
 * sample's walk or the second one); any other Task shows its chain, one
 * frame per coroutine, cut at the first coroutine whose frame could not be
 * resolved.  The earlier policy task_depth 0 unwinds each coroutine
 * frame's whole chain instead (through the thread walk; its frames run
 * into the event loop, which is why it is not the default).
 */
#include <string.h>

#include "tasks_int.h"
#include "tornstack/error.h"

/* A running Task's frames, copied from the thread stack it was placed on
 * (the sample's walk of its thread, or the second walk that replaced it),
 * through a local: adding a frame may move s->frames. */
static int uw_emit_placed(uw_tasks *t, uw_sample *s, const uw_task_work *w, uw_task_sample *ts)
{
    size_t i;
    int rc;

    (void)t;
    for (i = 0; i < w->n_own; i++) {
        uw_frame f = s->frames[w->own_first + i];
        rc = uw_sample_add_frame(s, &f);
        if (rc != 0)
            return rc;
        ts->n_frames++;
    }
    return 0;
}

/* The chain's frames, root first in memory, innermost first in the
 * sample; cut at the first bad one. */
static int uw_emit_chain(uw_tasks *t, uw_sample *s, const uw_task_work *w, uw_task_sample *ts)
{
    const int *status = (const int *)(const void *)t->sc.cf_status.p;
    const uw_frame *frames = (const uw_frame *)(const void *)t->sc.cf_frame.p;
    size_t k, end;
    int rc;

    for (end = 0; end < w->n_cf; end++)
        if (status[w->first_cf + end] < 0)
            break;
    if (end < w->n_cf && ts->truncated == 0)
        ts->truncated = status[w->first_cf + end];
    for (k = end; k-- > 0;) {
        size_t c = w->first_cf + k;
        if (t->opt.task_depth == 0) {
            /* Earlier policy: unwind each coroutine frame's whole chain. */
            uw_thread_sample tmp;
            memset(&tmp, 0, sizeof tmp);
            tmp.first_frame = s->n_frames;
            rc = uw__unwind_chain(t->u, UW__U64(&t->sc.cf_addr)[c], 0, s, &tmp);
            if (rc != 0)
                return rc;
            ts->n_frames += tmp.n_frames;
            continue;
        }
        if (status[c] != 0)
            continue;
        rc = uw_sample_add_frame(s, &frames[c]);
        if (rc != 0)
            return rc;
        ts->n_frames++;
    }
    return 0;
}

/* Entry i of the sample is work[i]: its state, the code of its root
 * coroutine, its frames unless skipped, and its skip counted. */
int uw__emit_tasks(uw_tasks *t, uw_sample *s)
{
    size_t i;
    int rc;

    for (i = 0; i < t->n_work; i++) {
        uw_task_work *w = &t->work[i];
        uw_task_sample *ts = &s->tasks[i];
        ts->running = w->on_stack;
        ts->coro_frame = uw__root_frame(t, w);
        ts->skipped = w->skipped;
        ts->truncated = w->truncated;
        if (w->n_cf > 0 && ((const int *)(const void *)t->sc.cf_status.p)[w->first_cf] == 0)
            ts->coro_code = ((const uw_frame *)(const void *)t->sc.cf_frame.p)[w->first_cf].code;
        if (w->skipped != 0 && !w->label_ok) {
            /* Nothing vouches for its name and coroutine: they may have
             * been read from two Tasks that held its address in turn. */
            ts->label_unknown = 1;
            ts->name[0] = '\0';
            ts->coro_code = NULL;
            ts->running = 0;
            ts->truncated = 0; /* nor why a chain of neither stops */
        }
        ts->first_frame = s->n_frames;
        if (w->skipped == 0 && (w->on_stack || !w->root_finished)) {
            rc = w->on_stack && t->opt.task_depth != 0 ? uw_emit_placed(t, s, w, ts)
                                                       : uw_emit_chain(t, s, w, ts);
            if (rc != 0)
                return rc;
        }
        if (ts->skipped != 0)
            s->skips[uw_reason_slot(ts->skipped)]++;
    }
    return 0;
}
