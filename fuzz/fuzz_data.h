/*
 * fuzz_data.h — a fuzz input split into its payload and its parameters,
 * the parameters taken from the input's end.
 *
 * A target whose input is, say, a memory image and a version number reads
 * the version from the last byte and maps the bytes before it: the image
 * keeps its own bytes from offset 0, so a mutation of the version never
 * changes the image, a seed is the payload as it is with its parameters
 * appended, and a payload a fuzzer finds interesting stays interesting
 * when a parameter changes (the idea of zstd's fuzz data producer).
 *
 *   fz_data d = fz_data_of(data, size);
 *   int minor = (int)fz_data_range(&d, 11, 13);  // the last byte
 *   ...                                          // d.data[0 .. d.size): payload
 *
 * Each parameter consumes as few whole bytes from the end as its range
 * needs (1 for up to 256 values, 4 for a 32-bit one...), read as a
 * little-endian number ending at the last byte; with no bytes left it is
 * the range's low end.
 */
#ifndef TORNSTACK_FUZZ_DATA_H
#define TORNSTACK_FUZZ_DATA_H

#include <stddef.h>
#include <stdint.h>

typedef struct fz_data {
    const uint8_t *data;
    size_t size; /* bytes not consumed yet: the payload */
} fz_data;

static inline fz_data fz_data_of(const uint8_t *data, size_t size)
{
    fz_data d = {data, size};
    return d;
}

/* A number in [lo, hi] from the bytes at the end, which are consumed. */
static inline uint64_t fz_data_range(fz_data *d, uint64_t lo, uint64_t hi)
{
    const uint64_t span = hi - lo;
    uint64_t v = 0;
    unsigned bits = 0;

    while (bits < 64 && (span >> bits) != 0 && d->size > 0) {
        v = (v << 8) | d->data[--d->size];
        bits += 8;
    }
    return span == UINT64_MAX ? lo + v : lo + v % (span + 1);
}

/* A 32-bit number from the 4 bytes at the end (fewer: the low ones). */
static inline uint32_t fz_data_u32(fz_data *d)
{
    return (uint32_t)fz_data_range(d, 0, UINT32_MAX);
}

/* A 64-bit number from the 8 bytes at the end (fewer: the low ones). */
static inline uint64_t fz_data_u64(fz_data *d)
{
    return fz_data_range(d, 0, UINT64_MAX);
}

#endif
