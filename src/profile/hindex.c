/*
 * hindex.c — the hash index of hindex.h.
 */
#include "tornstack/hindex.h"

#include <stdlib.h>

#include "tornstack/error.h"

void uw_hindex_init(uw_hindex *h)
{
    h->hashes = NULL;
    h->ids = NULL;
    h->cap = 0;
    h->n = 0;
}

void uw_hindex_free(uw_hindex *h)
{
    free(h->hashes);
    free(h->ids);
    uw_hindex_init(h);
}

/* Probe from the hash's home slot to the first empty one.  The table is
 * never more than half full, so the probe ends within h->cap steps. */
int uw_hindex_find(const uw_hindex *h, uint64_t hash, uw_hindex_eq eq, const void *ctx,
                   const void *key, uint32_t *id)
{
    size_t mask, i, step;

    if (h->cap == 0)
        return 0;
    mask = h->cap - 1;
    for (i = (size_t)hash & mask, step = 0; step < h->cap; i = (i + 1) & mask, step++) {
        if (h->ids[i] == 0)
            return 0;
        if (h->hashes[i] == hash && eq(ctx, h->ids[i] - 1, key)) {
            *id = h->ids[i] - 1;
            return 1;
        }
    }
    return 0;
}

static void uw_hindex_put(uint64_t *hashes, uint32_t *ids, size_t cap, uint64_t hash, uint32_t id1)
{
    size_t mask = cap - 1, i = (size_t)hash & mask;

    while (ids[i] != 0)
        i = (i + 1) & mask;
    hashes[i] = hash;
    ids[i] = id1;
}

/* Double the table (or make the first one) and re-place every id. */
static int uw_hindex_grow(uw_hindex *h)
{
    size_t cap = h->cap ? 2 * h->cap : 64, i;
    uint64_t *hashes = malloc(cap * sizeof *hashes);
    uint32_t *ids = calloc(cap, sizeof *ids);

    if (hashes == NULL || ids == NULL) {
        free(hashes);
        free(ids);
        return UW_ERR_NOMEM;
    }
    for (i = 0; i < h->cap; i++)
        if (h->ids[i] != 0)
            uw_hindex_put(hashes, ids, cap, h->hashes[i], h->ids[i]);
    free(h->hashes);
    free(h->ids);
    h->hashes = hashes;
    h->ids = ids;
    h->cap = cap;
    return 0;
}

int uw_hindex_add(uw_hindex *h, uint64_t hash, uint32_t id)
{
    if (id == UINT32_MAX)
        return UW_ERR_INVALID_ARG;
    if (2 * (h->n + 1) > h->cap) {
        int rc = uw_hindex_grow(h);
        if (rc != 0)
            return rc;
    }
    uw_hindex_put(h->hashes, h->ids, h->cap, hash, id + 1);
    h->n++;
    return 0;
}

uint64_t uw_hash_bytes(const void *p, size_t n, uint64_t seed)
{
    const unsigned char *b = p;
    uint64_t h = 0xcbf29ce484222325ull ^ seed;
    size_t i;

    for (i = 0; i < n; i++) {
        h ^= b[i];
        h *= 0x100000001b3ull;
    }
    return uw_hash_mix(h, n);
}

/* splitmix64's finaliser over h combined with v: every bit of both
 * reaches every bit of the result, so linear probing sees spread hashes. */
uint64_t uw_hash_mix(uint64_t h, uint64_t v)
{
    uint64_t z = h ^ (v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2));

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
