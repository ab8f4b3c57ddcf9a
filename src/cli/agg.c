/*
 * agg.c — record's aggregation: how often each folded stack was seen.
 *
 * Stacks are kept in order of first sight (the output order) and found
 * through an open-addressing hash table of their FNV-1a hashes, at most
 * half full, so counting a stack costs O(1) whatever the number of
 * distinct stacks.  A stack that cannot be stored (out of memory) is
 * dropped and said in the summary.
 */
#define _POSIX_C_SOURCE 200809L /* strdup */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

typedef struct ts_agg_line {
    char *line;
    uint64_t count, hash;
} ts_agg_line;

struct ts_agg {
    ts_agg_line *lines; /* in order of first sight */
    size_t n, cap;
    size_t *index; /* hash table: position in lines + 1, 0 when empty */
    size_t slots;  /* a power of two, at least 2 * n */
    int oom;
};

static uint64_t ts_hash(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull;

    for (; *s != '\0'; s++) {
        h ^= (unsigned char)*s;
        h *= 0x100000001b3ull;
    }
    return h;
}

ts_agg *ts_agg_new(void)
{
    return calloc(1, sizeof(ts_agg));
}

void ts_agg_free(ts_agg *g)
{
    size_t i;

    if (g == NULL)
        return;
    for (i = 0; i < g->n; i++)
        free(g->lines[i].line);
    free(g->lines);
    free(g->index);
    free(g);
}

/* Put line i into the hash table (which has room). */
static void ts_agg_slot(ts_agg *g, size_t i)
{
    size_t s = (size_t)g->lines[i].hash & (g->slots - 1);

    while (g->index[s] != 0)
        s = (s + 1) & (g->slots - 1);
    g->index[s] = i + 1;
}

/* Keep the table at most half full: double it and put every line again. */
static int ts_agg_rehash(ts_agg *g)
{
    size_t slots = g->slots ? 2 * g->slots : 256, i;
    size_t *index = calloc(slots, sizeof *index);

    if (index == NULL)
        return -1;
    free(g->index);
    g->index = index;
    g->slots = slots;
    for (i = 0; i < g->n; i++)
        ts_agg_slot(g, i);
    return 0;
}

/* A new line, counted once. */
static void ts_agg_insert(ts_agg *g, const char *line, uint64_t hash)
{
    if (2 * (g->n + 1) > g->slots && ts_agg_rehash(g) != 0) {
        g->oom = 1;
        return;
    }
    if (g->n == g->cap) {
        size_t cap = g->cap ? 2 * g->cap : 64;
        ts_agg_line *l = realloc(g->lines, cap * sizeof *l);
        if (l == NULL) {
            g->oom = 1;
            return;
        }
        g->lines = l;
        g->cap = cap;
    }
    g->lines[g->n].line = strdup(line);
    if (g->lines[g->n].line == NULL) {
        g->oom = 1;
        return;
    }
    g->lines[g->n].count = 1;
    g->lines[g->n].hash = hash;
    ts_agg_slot(g, g->n);
    g->n++;
}

void ts_agg_add(void *ctx, const char *line)
{
    ts_agg *g = ctx;
    uint64_t hash = ts_hash(line);
    size_t s;

    for (s = (size_t)hash & (g->slots - 1); g->slots != 0 && g->index[s] != 0;
         s = (s + 1) & (g->slots - 1)) {
        ts_agg_line *l = &g->lines[g->index[s] - 1];
        if (l->hash == hash && strcmp(l->line, line) == 0) {
            l->count++;
            return;
        }
    }
    ts_agg_insert(g, line, hash);
}

size_t ts_agg_count(const ts_agg *g)
{
    return g->n;
}

int ts_agg_oom(const ts_agg *g)
{
    return g->oom;
}

void ts_agg_print(const ts_agg *g, FILE *out)
{
    size_t i;

    for (i = 0; i < g->n; i++)
        fprintf(out, "%s %llu\n", g->lines[i].line, (unsigned long long)g->lines[i].count);
}
