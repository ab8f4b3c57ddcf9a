/*
 * split.c — where the loop ends and what it runs begins.
 *
 * The split is the outermost Handle._run frame (qualname Handle._run in
 * asyncio/events.py, recognised by code object, so every instruction of it
 * matches).  Frames from it to the root are the pure Python stack: the
 * loop.  Frames above it belong to the callback it runs: a Task step, or a
 * plain callback.  With no Handle._run on the stack the loop is idle: the
 * pure Python stack runs from the root through the first run of the
 * loop's own frames (asyncio's and selectors.py's: the runner, the loop,
 * select, the clock, the timer heap), and ends before the first frame
 * inward of them that is not the loop's: code the loop calls without a
 * Handle, as a weakref callback (WeakSet._remove) that a Task freed in
 * _run_once runs, is no part of the loop's stack and not where a Task
 * waits.  A stack with no frame of the loop's keeps it whole.
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

/* Does path end with suffix? */
static int uw_ends_with(const char *path, size_t n, const char *suffix)
{
    size_t k = strlen(suffix);

    return n >= k && strcmp(path + n - k, suffix) == 0;
}

/* Is path a module of the asyncio package (".../asyncio/NAME.py")? */
static int uw_in_asyncio(const char *path, size_t n)
{
    static const char dir[] = "/asyncio"; /* before the last '/' */
    const size_t k = sizeof dir - 1;
    const char *slash = strrchr(path, '/');

    return slash != NULL && (size_t)(slash - path) >= k && strncmp(slash - k, dir, k) == 0 &&
           uw_ends_with(path, n, ".py");
}

uint32_t uw__split_classify(const char *qualname, const char *filename)
{
    size_t n = strlen(filename);
    uint32_t flags = 0;

    if (uw_in_asyncio(filename, n) || uw_ends_with(filename, n, "/selectors.py"))
        flags |= UW__CODE_LOOP_OWN;
    if (strcmp(qualname, "Handle._run") == 0 && uw_ends_with(filename, n, "/asyncio/events.py"))
        flags |= UW__CODE_HANDLE_RUN;
    return flags;
}

/* The idle loop's pure stack (frames innermost first, n of them): from the
 * root inward, past the frames before the loop's own, through the first
 * run of the loop's own frames; the index of its innermost frame, 0 when
 * the stack has none of the loop's. */
static int64_t uw_idle_pure_start(const uw_frame *f, size_t n)
{
    size_t i = n;

    while (i > 0 && (f[i - 1].code == NULL || !(f[i - 1].code->flags & UW__CODE_LOOP_OWN)))
        i--;
    if (i == 0)
        return 0;
    while (i > 1 && f[i - 2].code != NULL && (f[i - 2].code->flags & UW__CODE_LOOP_OWN))
        i--;
    return (int64_t)(i - 1);
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

int uw__split_code_role(void *ctx, const uw_code_info *code)
{
    (void)ctx;
    if (code == NULL)
        return 0;
    if (code->flags & UW__CODE_HANDLE_RUN)
        return UW__ROLE_SPLIT;
    return code->flags & UW__CODE_LOOP_OWN ? UW__ROLE_LOOP : 0;
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
int64_t uw__split_pure_start(const uw_tasks *t, const uw_sample *s, const uw_thread_sample *th)
{
    if (th->truncated != 0 && th->truncated != UW_ERR_DEPTH)
        return -1;
    if (t->opt.split && th->loop_in_c == 1 && th->split < 0)
        return -1;
    if (!t->opt.split)
        return 0;
    if (th->split >= 0)
        return th->split;
    return th->loop_in_c ? 0 : uw_idle_pure_start(uw__thread_frames(s, th), th->n_frames);
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
    const uw_frame *f = uw__thread_frames(s, th);
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
