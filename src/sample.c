/*
 * sample.c — growth of the sample's thread and frame arrays.  Capacity is
 * kept between samples, so a steady-state sample allocates nothing.
 */
#include "tornstack/sample.h"

#include <stdlib.h>
#include <string.h>

#include "tornstack/error.h"
#include "tornstack/limits.h"

void uw_sample_init(uw_sample *s)
{
    memset(s, 0, sizeof *s);
}

void uw_sample_free(uw_sample *s)
{
    if (s == NULL)
        return;
    free(s->threads);
    free(s->frames);
    free(s->tasks);
    free(s->awaiting);
    memset(s, 0, sizeof *s);
}

void uw_sample_reset(uw_sample *s)
{
    s->n_threads = 0;
    s->n_frames = 0;
    s->n_tasks = 0;
    s->n_awaiting = 0;
    s->truncated = 0;
    s->tasks_error = 0;
    memset(s->skips, 0, sizeof s->skips);
    memset(s->thread_skips, 0, sizeof s->thread_skips);
    memset(s->recovered, 0, sizeof s->recovered);
    s->calls = 0;
    s->bytes = 0;
}

/* Make room for one more element in a growing array (doubling). */
static int uw_grow(void **arr, size_t n, size_t *cap, size_t elem, size_t first)
{
    if (n == *cap) {
        size_t c = *cap ? 2 * *cap : first;
        void *a = realloc(*arr, c * elem);
        if (a == NULL)
            return UW_ERR_NOMEM;
        *arr = a;
        *cap = c;
    }
    return 0;
}

int uw_sample_add_thread(uw_sample *s, uint64_t tstate, uint64_t interp, int64_t interp_id,
                         uw_thread_sample **out)
{
    uw_thread_sample *th;

    if (uw_grow((void **)&s->threads, s->n_threads, &s->cap_threads, sizeof *s->threads, 8) != 0)
        return UW_ERR_NOMEM;
    th = &s->threads[s->n_threads++];
    memset(th, 0, sizeof *th);
    th->tstate = tstate;
    th->interp = interp;
    th->interp_id = interp_id;
    th->first_frame = s->n_frames;
    th->split = -1;
    *out = th;
    return 0;
}

int uw_sample_add_frame(uw_sample *s, const uw_frame *f)
{
    if (uw_grow((void **)&s->frames, s->n_frames, &s->cap_frames, sizeof *s->frames, 256) != 0)
        return UW_ERR_NOMEM;
    s->frames[s->n_frames++] = *f;
    return 0;
}

int uw_sample_add_frames(uw_sample *s, const uw_frame *f, size_t n)
{
    if (n == 0)
        return 0;
    if (s->cap_frames - s->n_frames < n) {
        size_t c = s->cap_frames ? s->cap_frames : 256;
        uw_frame *a;
        while (c - s->n_frames < n) {
            if (c > SIZE_MAX / 2 / sizeof *a)
                return UW_ERR_NOMEM;
            c *= 2;
        }
        a = realloc(s->frames, c * sizeof *a);
        if (a == NULL)
            return UW_ERR_NOMEM;
        s->frames = a;
        s->cap_frames = c;
    }
    memcpy(&s->frames[s->n_frames], f, n * sizeof *f);
    s->n_frames += n;
    return 0;
}

int uw_sample_add_task(uw_sample *s, uw_task_sample **out)
{
    if (uw_grow((void **)&s->tasks, s->n_tasks, &s->cap_tasks, sizeof *s->tasks, 64) != 0)
        return UW_ERR_NOMEM;
    *out = &s->tasks[s->n_tasks++];
    memset(*out, 0, sizeof **out);
    (*out)->awaited_by = (*out)->linked_to = (*out)->created_by = (*out)->parent = -1;
    (*out)->first_frame = s->n_frames;
    (*out)->first_awaiting = s->n_awaiting;
    return 0;
}

int uw_sample_add_awaiting(uw_sample *s, size_t task_index)
{
    if (uw_grow((void **)&s->awaiting, s->n_awaiting, &s->cap_awaiting, sizeof *s->awaiting, 64) !=
        0)
        return UW_ERR_NOMEM;
    s->awaiting[s->n_awaiting++] = task_index;
    return 0;
}
