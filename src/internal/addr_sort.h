/*
 * addr_sort.h — pieces of a read put in address order.
 *
 * The vectored reads (reader_proc.c) and the replay of a sample's reads
 * (reader_replay.c) both sort a request's pieces by address to merge close
 * ones into spans.  A busy sample sorts tens of thousands of pieces, where
 * a comparison sort cost a third of the sample's time; this is a stable
 * radix sort over only the address bytes that differ.
 */
#ifndef TORNSTACK_INTERNAL_ADDR_SORT_H
#define TORNSTACK_INTERNAL_ADDR_SORT_H

#include <stddef.h>
#include <stdint.h>

/* A piece's address and its index in the request. */
typedef struct uw_addr_key {
    uint64_t addr;
    size_t i;
} uw_addr_key;

/* Sort k[0..n) by address, stably: keys of one address keep the order they
 * came in (both callers fill k in request order, so ties stay in request
 * order).  tmp holds n keys of scratch.  No allocation, no failure. */
void uw__addr_sort(uw_addr_key *k, uw_addr_key *tmp, size_t n);

/* Sort a[0..n) ascending, in place, without allocating: the Task walk's
 * lists of addresses (candidates, roots, list nodes), which qsort sorted
 * through a comparison callback a call per comparison.  Not stable (equal
 * addresses are alike).  n log n at worst (introsort). */
void uw__u64_sort(uint64_t *a, size_t n);

/* Index of x in the sorted a[0..n) (binary search), or SIZE_MAX. */
size_t uw__u64_find(const uint64_t *a, size_t n, uint64_t x);

#endif /* TORNSTACK_INTERNAL_ADDR_SORT_H */
