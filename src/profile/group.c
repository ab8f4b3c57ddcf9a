/*
 * group.c — a profile's stacks grouped by thread, for the writers that show
 * one view per thread (speedscope).
 */
#include "group.h"

#include <stdlib.h>
#include <string.h>

#include "tornstack/error.h"

static int uw_group_eq(const void *ctx, uint32_t id, const void *key)
{
    const uw_thread_groups *g = ctx;
    return g->thread_id[id] == *(const uint64_t *)key;
}

/* Each thread id gets a group in the order it first appears; the stacks
 * are then laid out group by group (a counting sort): O(stacks). */
int uw_thread_groups_build(const uw_profile *p, uw_thread_groups *g)
{
    uw_hindex idx;
    uint32_t *of = NULL, i, gi;
    int rc = 0;

    memset(g, 0, sizeof *g);
    uw_hindex_init(&idx);
    of = malloc(((size_t)p->n_stacks + 1) * sizeof *of);
    g->thread_id = malloc(((size_t)p->n_stacks + 1) * sizeof *g->thread_id);
    g->thread_name = malloc(((size_t)p->n_stacks + 1) * sizeof *g->thread_name);
    g->start = calloc((size_t)p->n_stacks + 2, sizeof *g->start);
    g->total = calloc((size_t)p->n_stacks + 1, sizeof *g->total);
    g->order = malloc(((size_t)p->n_stacks + 1) * sizeof *g->order);
    if (of == NULL || g->thread_id == NULL || g->thread_name == NULL || g->start == NULL ||
        g->total == NULL || g->order == NULL) {
        rc = UW_ERR_NOMEM;
        goto out;
    }
    for (i = 0; i < p->n_stacks; i++) {
        uint64_t tid = p->stacks[i].labels.thread_id;
        uint64_t h = uw_hash_mix(tid, 3);
        if (!uw_hindex_find(&idx, h, uw_group_eq, g, &tid, &gi)) {
            gi = g->n;
            rc = uw_hindex_add(&idx, h, gi);
            if (rc != 0)
                goto out;
            g->thread_id[gi] = tid;
            g->thread_name[gi] = p->stacks[i].labels.thread_name;
            g->n++;
        }
        of[i] = gi;
        g->start[gi + 1]++;
        g->total[gi] += p->stacks[i].count;
    }
    for (gi = 0; gi < g->n; gi++)
        g->start[gi + 1] += g->start[gi];
    {
        uint32_t *fill = calloc((size_t)g->n + 1, sizeof *fill);
        if (fill == NULL) {
            rc = UW_ERR_NOMEM;
            goto out;
        }
        for (i = 0; i < p->n_stacks; i++)
            g->order[g->start[of[i]] + fill[of[i]]++] = i;
        free(fill);
    }
out:
    free(of);
    uw_hindex_free(&idx);
    if (rc != 0)
        uw_thread_groups_free(g);
    return rc;
}

void uw_thread_groups_free(uw_thread_groups *g)
{
    free(g->thread_id);
    free(g->thread_name);
    free(g->start);
    free(g->total);
    free(g->order);
    memset(g, 0, sizeof *g);
}
