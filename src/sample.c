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
    s->calls = 0;
    s->bytes = 0;
}

int uw_sample_add_thread(uw_sample *s, uw_thread_sample **out)
{
    if (s->n_threads == s->cap_threads) {
        size_t cap = s->cap_threads ? 2 * s->cap_threads : 8;
        uw_thread_sample *t = realloc(s->threads, cap * sizeof *t);
        if (t == NULL)
            return UW_ERR_NOMEM;
        s->threads = t;
        s->cap_threads = cap;
    }
    *out = &s->threads[s->n_threads++];
    memset(*out, 0, sizeof **out);
    (*out)->first_frame = s->n_frames;
    (*out)->split = -1;
    return 0;
}

int uw_sample_add_frame(uw_sample *s, const uw_frame *f)
{
    if (s->n_frames == s->cap_frames) {
        size_t cap = s->cap_frames ? 2 * s->cap_frames : 256;
        uw_frame *n = realloc(s->frames, cap * sizeof *n);
        if (n == NULL)
            return UW_ERR_NOMEM;
        s->frames = n;
        s->cap_frames = cap;
    }
    s->frames[s->n_frames++] = *f;
    return 0;
}

int uw_sample_add_task(uw_sample *s, uw_task_sample **out)
{
    if (s->n_tasks == s->cap_tasks) {
        size_t cap = s->cap_tasks ? 2 * s->cap_tasks : 64;
        uw_task_sample *t = realloc(s->tasks, cap * sizeof *t);
        if (t == NULL)
            return UW_ERR_NOMEM;
        s->tasks = t;
        s->cap_tasks = cap;
    }
    *out = &s->tasks[s->n_tasks++];
    memset(*out, 0, sizeof **out);
    (*out)->awaited_by = (*out)->linked_to = (*out)->created_by = (*out)->parent = -1;
    (*out)->first_frame = s->n_frames;
    (*out)->first_awaiting = s->n_awaiting;
    return 0;
}

int uw_sample_add_awaiting(uw_sample *s, size_t task_index)
{
    if (s->n_awaiting == s->cap_awaiting) {
        size_t cap = s->cap_awaiting ? 2 * s->cap_awaiting : 64;
        size_t *a = realloc(s->awaiting, cap * sizeof *a);
        if (a == NULL)
            return UW_ERR_NOMEM;
        s->awaiting = a;
        s->cap_awaiting = cap;
    }
    s->awaiting[s->n_awaiting++] = task_index;
    return 0;
}

int uw_sample_task_is_leaf(const uw_sample *s, size_t task)
{
    size_t i;

    for (i = 0; i < s->n_tasks; i++)
        if (s->tasks[i].parent == (int64_t)task && i != task)
            return 0;
    return 1;
}

int uw_sample_task_stack(const uw_sample *s, size_t task, const uw_frame **out, size_t cap,
                         size_t *n)
{
    const uw_thread_sample *th;
    size_t hops = 0, i, k = 0;
    int64_t cur = (int64_t)task, tortoise = (int64_t)task;
    size_t power = 1, lam = 0;

    *n = 0;
    if (task >= s->n_tasks)
        return UW_ERR_INVALID_ARG;
    while (cur >= 0) {
        const uw_task_sample *ts = &s->tasks[cur];
        if (ts->skipped != 0)
            return ts->skipped;
        if (hops == UW_LIMIT_LINK_CHAIN)
            return UW_ERR_LIMIT_LINKS;
        if (hops > 0) {
            if (cur == tortoise)
                return UW_ERR_LINK_CYCLE;
            if (++lam == power) {
                tortoise = cur;
                power *= 2;
                lam = 0;
            }
        }
        hops++;
        for (i = 0; i < ts->n_frames && k < cap; i++)
            out[k++] = &s->frames[ts->first_frame + i];
        cur = ts->parent;
    }
    th = &s->threads[s->tasks[task].thread];
    for (i = (size_t)th->pure_start; i < th->n_frames && k < cap; i++)
        out[k++] = &s->frames[th->first_frame + i];
    *n = k;
    return 0;
}
