/*
 * split.c — where the loop ends and what it runs begins.
 *
 * The split is the outermost Handle._run frame (qualname Handle._run in
 * asyncio/events.py, recognised by code object, so every instruction of it
 * matches).  Frames from it to the root are the pure Python stack: the
 * loop.  Frames above it belong to the callback it runs: a Task step, or a
 * plain callback.  With no Handle._run on the stack the loop is idle and
 * the whole stack is pure Python.
 *
 * The code cache asks uw__split_classify once per code object it loads;
 * the thread walk asks uw__split_stable_from once per walk (its frames
 * from the split rootward cannot change during one callback, recheck.c);
 * placement (place.c) and the pure Python stack use the index it found.
 *
 * A loop that calls its callbacks from C (uvloop) has no Handle._run: a
 * Task step or a callback is entered from C, right above the frame that
 * started the loop (the loop's caller).  There the split is that caller,
 * found after placement (uw__split_c_loop): the frame below the outermost
 * running Task's root coroutine frame; else the caller learnt so from an
 * earlier sample, found again at the same address, code, line and depth;
 * else, when the walk's innermost frame is run by the thread's outermost
 * eval loop (nothing was entered from C above the root), no callback runs
 * and the whole stack is the loop's; else it is not known, and the thread
 * has no pure Python stack (docs/tasks.md, "uvloop").
 */
#include <string.h>

#include "tasks_int.h"
#include "tornstack/error.h"

uint32_t uw__split_classify(const char *qualname, const char *filename)
{
    static const char suffix[] = "/asyncio/events.py";
    size_t n = strlen(filename);

    if (strcmp(qualname, "Handle._run") == 0 && n >= sizeof suffix - 1 &&
        strcmp(filename + n - (sizeof suffix - 1), suffix) == 0)
        return UW__CODE_HANDLE_RUN;
    return 0;
}

/* Frames are innermost first: the outermost match is the last one. */
int64_t uw__split_stable_from(void *ctx, const uw_frame *f, size_t n)
{
    size_t i;

    (void)ctx;
    for (i = n; i-- > 0;)
        if (f[i].code->flags & UW__CODE_HANDLE_RUN)
            return (int64_t)i;
    return -1;
}

int64_t uw__split_top(const uw_tasks *t, const uw_thread_sample *th)
{
    if (!t->opt.split || (th->loop_in_c && th->split < 0))
        return (int64_t)th->n_frames;
    return th->split >= 0 ? th->split : 0;
}

/* Without the split (an earlier policy) the whole stack is the loop's.  A
 * walk cut short has no pure Python stack at all (-1): its frames run from
 * wherever the walk started to wherever it stopped, and no root. */
int64_t uw__split_pure_start(const uw_tasks *t, const uw_thread_sample *th)
{
    if (th->truncated != 0 && th->truncated != UW_ERR_DEPTH)
        return -1;
    if (t->opt.split && th->loop_in_c == 1 && th->split < 0)
        return -1;
    return t->opt.split ? (th->split >= 0 ? th->split : 0) : 0;
}

/* The outermost frame a Task of thread th_i was placed on, -1 if none. */
static int64_t uw_outermost_root(const uw_tasks *t, const uw_thread_sample *th, size_t th_i)
{
    int64_t k = -1;
    size_t i;

    for (i = 0; i < t->n_work; i++) {
        const uw_task_work *w = &t->work[i];
        if (w->thread == th_i && w->on_stack && w->n_own > 0 &&
            (int64_t)(w->own_first - th->first_frame + w->n_own - 1) > k)
            k = (int64_t)(w->own_first - th->first_frame + w->n_own - 1);
    }
    return k;
}

/* Frames are innermost first; f[i] is the learnt caller if it is the
 * same frame at the same depth from the root (its line is its call site,
 * fixed while the loop runs). */
static int uw_is_learnt(const uw__epoch_ent *e, const uw_frame *f, size_t n, size_t i)
{
    return e->lsplit_addr != 0 && n - i == e->lsplit_depth && f[i].addr == e->lsplit_addr &&
           f[i].code != NULL && f[i].code->addr == e->lsplit_code && f[i].line == e->lsplit_line;
}

/* Bounds: the Tasks of the sample and the thread's frames, once each. */
void uw__split_c_loop(uw_tasks *t, uw_sample *s, size_t th_i)
{
    uw_thread_sample *th = &s->threads[th_i];
    const uw_frame *f = s->frames + th->first_frame;
    uw__epoch_ent *e = uw__epoch_cloop(&t->epochs, th->tstate, th->running_loop);
    int64_t k;
    size_t n = th->n_frames;

    if (e == NULL || th->loop_in_c == 0)
        return;
    if (th->truncated != 0 && th->truncated != UW_ERR_DEPTH)
        return;
    k = uw_outermost_root(t, th, th_i);
    if (k >= 0 && (size_t)k + 1 < n) {
        th->split = k + 1;
        e->lsplit_addr = f[k + 1].addr;
        e->lsplit_code = f[k + 1].code != NULL ? f[k + 1].code->addr : 0;
        e->lsplit_line = f[k + 1].line;
        e->lsplit_depth = n - (size_t)(k + 1);
        return;
    }
    if (k >= 0)
        return; /* a Task's root with nothing below it: no loop caller */
    if (n >= e->lsplit_depth && e->lsplit_depth > 0 && uw_is_learnt(e, f, n, n - e->lsplit_depth)) {
        th->split = (int64_t)(n - e->lsplit_depth);
        return;
    }
    if (uw__walk_one_eval(t->u, th))
        th->loop_in_c = 2;
}
