/*
 * addr_sort.c — stable radix sort of pieces by address (addr_sort.h).
 */
#include "internal/addr_sort.h"

#include <string.h>

/* Below this many keys an insertion sort beats the radix passes. */
#define UW_ADDR_SORT_SMALL 32

static void uw_addr_insertion(uw_addr_key *k, size_t n)
{
    size_t i, j;

    for (i = 1; i < n; i++) {
        uw_addr_key x = k[i];
        for (j = i; j > 0 && k[j - 1].addr > x.addr; j--)
            k[j] = k[j - 1];
        k[j] = x;
    }
}

/* Least-significant-digit first, one byte a pass, skipping the bytes in
 * which every address agrees with the first (heap addresses of one sample
 * usually differ in their low four or five bytes only).  Each pass is a
 * stable counting sort, so ties keep their input order.  Already sorted
 * input (a common case: pieces queued in list order) costs one scan. */
void uw__addr_sort(uw_addr_key *k, uw_addr_key *tmp, size_t n)
{
    uint64_t diff = 0;
    int sorted = 1;
    unsigned shift;
    uw_addr_key *src = k, *dst = tmp;
    size_t i;

    if (n < 2)
        return;
    for (i = 1; i < n; i++) {
        diff |= k[i].addr ^ k[0].addr;
        if (k[i].addr < k[i - 1].addr)
            sorted = 0;
    }
    if (sorted)
        return;
    if (n < UW_ADDR_SORT_SMALL) {
        uw_addr_insertion(k, n);
        return;
    }
    for (shift = 0; shift < 64; shift += 8) {
        size_t count[256], sum = 0;
        uw_addr_key *t;
        if (((diff >> shift) & 0xffu) == 0)
            continue;
        memset(count, 0, sizeof count);
        for (i = 0; i < n; i++)
            count[(src[i].addr >> shift) & 0xffu]++;
        for (i = 0; i < 256; i++) {
            size_t c = count[i];
            count[i] = sum;
            sum += c;
        }
        for (i = 0; i < n; i++)
            dst[count[(src[i].addr >> shift) & 0xffu]++] = src[i];
        t = src;
        src = dst;
        dst = t;
    }
    if (src != k)
        memcpy(k, src, n * sizeof *k);
}
