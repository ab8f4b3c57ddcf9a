/*
 * addr_sort.c — stable radix sort of pieces by address, and an in-place
 * sort of plain addresses (addr_sort.h).
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

static void uw_u64_insertion(uint64_t *a, size_t n)
{
    size_t i, j;

    for (i = 1; i < n; i++) {
        uint64_t x = a[i];
        for (j = i; j > 0 && a[j - 1] > x; j--)
            a[j] = a[j - 1];
        a[j] = x;
    }
}

static void uw_u64_sift(uint64_t *a, size_t root, size_t n)
{
    uint64_t x = a[root];

    for (;;) {
        size_t child = 2 * root + 1;
        if (child >= n)
            break;
        if (child + 1 < n && a[child + 1] > a[child])
            child++;
        if (a[child] <= x)
            break;
        a[root] = a[child];
        root = child;
    }
    a[root] = x;
}

static void uw_u64_heapsort(uint64_t *a, size_t n)
{
    size_t i;

    for (i = n / 2; i-- > 0;)
        uw_u64_sift(a, i, n);
    for (i = n; i-- > 1;) {
        uint64_t x = a[0];
        a[0] = a[i];
        a[i] = x;
        uw_u64_sift(a, 0, i);
    }
}

/* Quicksort on the median of three, the smaller side first by recursion
 * (at most log2 n deep) and the larger by the loop; past `depth` levels of
 * bad pivots the rest is heap-sorted, so n log n at worst. */
static void uw_u64_intro(uint64_t *a, size_t n, unsigned depth)
{
    while (n > UW_ADDR_SORT_SMALL) {
        uint64_t p, x;
        size_t i, j, m = n / 2;

        if (depth-- == 0) {
            uw_u64_heapsort(a, n);
            return;
        }
        /* median of a[0], a[m], a[n-1] into a[m] */
        if (a[m] < a[0]) {
            x = a[m];
            a[m] = a[0];
            a[0] = x;
        }
        if (a[n - 1] < a[m]) {
            x = a[n - 1];
            a[n - 1] = a[m];
            a[m] = x;
            if (a[m] < a[0]) {
                x = a[m];
                a[m] = a[0];
                a[0] = x;
            }
        }
        p = a[m];
        /* Hoare partition: a[0..j] <= p <= a[j+1..n-1], both sides non-empty
         * (a[0] <= p and a[n-1] >= p stop the scans inside the array) */
        i = 0;
        j = n - 1;
        for (;;) {
            while (a[i] < p)
                i++;
            while (a[j] > p)
                j--;
            if (i >= j)
                break;
            x = a[i];
            a[i] = a[j];
            a[j] = x;
            i++;
            j--;
        }
        if (j + 1 < n - (j + 1)) {
            uw_u64_intro(a, j + 1, depth);
            a += j + 1;
            n -= j + 1;
        } else {
            uw_u64_intro(a + j + 1, n - (j + 1), depth);
            n = j + 1;
        }
    }
    uw_u64_insertion(a, n);
}

void uw__u64_sort(uint64_t *a, size_t n)
{
    size_t i;
    unsigned depth = 0;

    for (i = 1; i < n && a[i - 1] <= a[i]; i++)
        ;
    if (i >= n)
        return; /* sorted already: one scan */
    for (i = n; i > 1; i >>= 1)
        depth += 2;
    uw_u64_intro(a, n, depth);
}

size_t uw__u64_find(const uint64_t *a, size_t n, uint64_t x)
{
    size_t lo = 0, hi = n;

    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (a[mid] == x)
            return mid;
        if (a[mid] < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return SIZE_MAX;
}
