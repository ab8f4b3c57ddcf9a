/*
 * unwinder.c — the thread walk's object: creation with its buffers, the
 * code cache, the depth limit and the hooks the Task walk installs.
 */
#include <stdlib.h>
#include <string.h>

#include "internal/layout_check.h"
#include "tornstack/error.h"
#include "unwind_int.h"

/* Bytes of each thread state read: the structure, and from 3.13 far
 * enough into _PyThreadStateImpl to cover what the Task walk needs there:
 * the running loop (3.13+) and the running Task (3.14+).  (The Task lists'
 * heads are read by the Task walk itself, with their nodes.) */
static size_t uw_tstate_len(const uw_layout *l)
{
    const struct {
        int32_t off, width;
    } f[] = {{l->tstate_asyncio_running_loop, 8}, {l->tstate_asyncio_running_task, 8}};
    size_t len = (size_t)l->tstate_size, i;

    for (i = 0; i < sizeof f / sizeof f[0]; i++)
        if (f[i].off != UW_ABSENT && (size_t)f[i].off + (size_t)f[i].width > len)
            len = (size_t)f[i].off + (size_t)f[i].width;
    return len;
}

/* The layout is checked once here, against the structures and against the
 * fixed buffers the walk reads into (UW_ERR_BAD_LAYOUT); the buffers sized
 * by the layout (code objects, visited frames) are allocated once. */
int uw_unwinder_new(uw_reader *r, const uw_target *t, uw_unwinder **out)
{
    uw_unwinder *u;
    int rc;

    if (r == NULL || t == NULL || out == NULL || t->layout == NULL)
        return UW_ERR_INVALID_ARG;
    *out = NULL;
    rc = uw__layout_check_thread_walk(t->layout, UW_TSTATE_BUF, UW_FRAME_BUF);
    if (rc != 0)
        return rc;
    u = calloc(1, sizeof *u);
    if (u == NULL)
        return UW_ERR_NOMEM;
    u->r = r;
    u->t = *t;
    u->l = t->layout;
    u->tstate_len = uw_tstate_len(u->l);
    u->walks_left = UW_SAMPLE_RETRIES; /* a walk asked before any sample's */
    u->code_buf = malloc((size_t)(UW_PF_CODES + UW_LIMIT_FRAMES) * (size_t)u->l->code_size);
    u->visited_bytes = malloc((size_t)UW_LIMIT_FRAMES * UW_FRAME_BUF);
    u->recheck_bytes = malloc((size_t)UW_LIMIT_FRAMES * UW_FRAME_BUF);
    if (u->code_buf == NULL || u->visited_bytes == NULL || u->recheck_bytes == NULL ||
        uw__code_cache_init(&u->cache) != 0) {
        free(u->code_buf);
        free(u->visited_bytes);
        free(u->recheck_bytes);
        free(u);
        return UW_ERR_NOMEM;
    }
    *out = u;
    return 0;
}

void uw_unwinder_free(uw_unwinder *u)
{
    size_t i;

    if (u == NULL)
        return;
    uw__code_cache_free(&u->cache);
    uw__idle_free(u);
    for (i = 0; i < UW_LIMIT_CHUNKS; i++)
        free(u->chunks[i].buf);
    free(u->code_buf);
    free(u->visited_bytes);
    free(u->recheck_bytes);
    free(u->recheck_chunk);
    free(u);
}

uw_code_cache *uw_unwinder_cache(uw_unwinder *u)
{
    return u != NULL ? &u->cache : NULL;
}

void uw_unwinder_clear_cache(uw_unwinder *u)
{
    if (u != NULL)
        uw__code_cache_clear(&u->cache);
}

void uw_unwinder_set_max_depth(uw_unwinder *u, uint32_t max_depth)
{
    if (u != NULL)
        u->max_depth = max_depth;
}

void uw__unwinder_set_hooks(uw_unwinder *u, const uw__walk_hooks *h)
{
    if (u == NULL)
        return;
    u->has_hooks = h != NULL;
    if (h != NULL)
        u->hooks = *h;
    else
        memset(&u->hooks, 0, sizeof u->hooks);
}

uw_reader *uw__unwinder_reader(uw_unwinder *u)
{
    return u != NULL ? u->r : NULL;
}

const uw_target *uw__unwinder_target(uw_unwinder *u)
{
    return u != NULL ? &u->t : NULL;
}

uint64_t uw__unwinder_kept_shown(const uw_unwinder *u)
{
    return u != NULL ? u->idle_shown : 0;
}
