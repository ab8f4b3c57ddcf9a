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
    if (!t->opt.split)
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
    return t->opt.split ? (th->split >= 0 ? th->split : 0) : 0;
}
