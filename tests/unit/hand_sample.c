/*
 * hand_sample.c — see hand_sample.h.  Allocation failures abort the test.
 */
#define _POSIX_C_SOURCE 200809L
#include "hand_sample.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *hs_must(void *p)
{
    if (p == NULL) {
        fputs("hand_sample: out of memory\n", stderr);
        abort();
    }
    return p;
}

void hs_init(hand_sample *h)
{
    memset(h, 0, sizeof *h);
    uw_sample_init(&h->s);
}

void hs_free(hand_sample *h)
{
    size_t i;

    for (i = 0; i < h->n_codes; i++) {
        free(h->codes[i]->qualname);
        free(h->codes[i]->filename);
        free(h->codes[i]);
    }
    free(h->codes);
    uw_sample_free(&h->s);
    memset(h, 0, sizeof *h);
}

uw_frame hs_frame(hand_sample *h, const char *name, const char *file, int line)
{
    uw_code_info *c = hs_must(calloc(1, sizeof *c));
    char path[512];
    uw_frame f;

    if (file == NULL) {
        snprintf(path, sizeof path, "/app/%s.py", name);
        file = path;
    }
    c->qualname = hs_must(strdup(name));
    c->filename = hs_must(strdup(file));
    c->addr = 0x1000 + 0x100 * (uint64_t)h->n_codes;
    if (h->n_codes == h->cap_codes) { /* doubling: stacks of 65,536 frames */
        h->cap_codes = h->cap_codes ? 2 * h->cap_codes : 64;
        h->codes = hs_must(realloc(h->codes, h->cap_codes * sizeof *h->codes));
    }
    h->codes[h->n_codes++] = c;
    memset(&f, 0, sizeof f);
    f.code = c;
    f.addr = 0x7000 + 0x40 * (uint64_t)h->n_codes;
    f.line = line;
    return f;
}

/* Append names (root first) as frames stored innermost first. */
static void hs_frames(hand_sample *h, const char *const *names, size_t n)
{
    size_t i;

    for (i = n; i-- > 0;) {
        uw_frame f = hs_frame(h, names[i], NULL, 10 + (int)i);
        if (uw_sample_add_frame(&h->s, &f) != 0)
            hs_must(NULL);
    }
}

size_t hs_thread(hand_sample *h, uint64_t native, const char *const *names, size_t n,
                 int64_t pure_from_root)
{
    uw_thread_sample *th = NULL;

    if (uw_sample_add_thread(&h->s, 0x9000 + native, 0x8000, 0, &th) != 0)
        hs_must(NULL);
    th->native_id = native;
    th->thread_id = 0x70000000 + native;
    th->first_frame = h->s.n_frames;
    hs_frames(h, names, n);
    th = &h->s.threads[h->s.n_threads - 1];
    th->n_frames = n;
    /* frames are stored innermost first: the root's pure_from_root frames
     * start at index n - pure_from_root */
    th->pure_start = pure_from_root < 0 ? -1 : (int64_t)n - pure_from_root;
    return h->s.n_threads - 1;
}

size_t hs_task(hand_sample *h, size_t th, const char *name, int64_t parent,
               const char *const *names, size_t n)
{
    uw_task_sample *t = NULL;
    size_t idx;

    if (uw_sample_add_task(&h->s, &t) != 0)
        hs_must(NULL);
    idx = h->s.n_tasks - 1;
    t->addr = 0x5000 + 0x100 * (uint64_t)idx;
    t->thread = th;
    t->parent = parent;
    t->awaited_by = parent;
    snprintf(t->name, sizeof t->name, "%s", name);
    t->first_frame = h->s.n_frames;
    hs_frames(h, names, n);
    t = &h->s.tasks[idx];
    t->n_frames = n;
    return idx;
}
