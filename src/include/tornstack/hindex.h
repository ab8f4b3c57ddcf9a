/*
 * hindex.h — an index of small integer ids by 64-bit hash.
 *
 * The profile interns strings, frames and stacks, and the CLI caches thread
 * names; each keeps its records in its own array and uses an hindex to find
 * one by content in O(1): open addressing with linear probing over a
 * power-of-two table at most half full, so every probe sequence meets an
 * empty slot within the table's size.  The caller owns the equality test.
 */
#ifndef TORNSTACK_HINDEX_H
#define TORNSTACK_HINDEX_H

#include <stddef.h>
#include <stdint.h>

typedef struct uw_hindex {
    uint64_t *hashes;
    uint32_t *ids; /* id + 1; 0 marks an empty slot */
    size_t cap;    /* slots, a power of two (0 before the first insert) */
    size_t n;      /* ids held */
} uw_hindex;

/* 1 when record `id` holds `key`. */
typedef int (*uw_hindex_eq)(const void *ctx, uint32_t id, const void *key);

void uw_hindex_init(uw_hindex *h);
void uw_hindex_free(uw_hindex *h);

/* Find the record with `key` (hash `hash`): 1 and *id, or 0. */
int uw_hindex_find(const uw_hindex *h, uint64_t hash, uw_hindex_eq eq, const void *ctx,
                   const void *key, uint32_t *id);

/* Add `id` under `hash` (the caller has checked it is absent).  Returns 0
 * or UW_ERR_NOMEM. */
int uw_hindex_add(uw_hindex *h, uint64_t hash, uint32_t id);

/* Hashing: FNV-1a over bytes, and a mix to combine words. */
uint64_t uw_hash_bytes(const void *p, size_t n, uint64_t seed);
uint64_t uw_hash_mix(uint64_t h, uint64_t v);

#endif /* TORNSTACK_HINDEX_H */
