/*
 * load.h — fields of target memory out of a local copy: the one 8-byte
 * loader (and its 4-byte sibling) every reader uses.
 *
 * x86-64 only: host order is target order; the copy need not be aligned.
 */
#ifndef TORNSTACK_LOAD_H
#define TORNSTACK_LOAD_H

#include <stdint.h>
#include <string.h>

/* A little-endian 64-bit word at p. */
static inline uint64_t uw__u64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* A 4-byte signed field at p. */
static inline int32_t uw__i32(const uint8_t *p)
{
    int32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

#endif /* TORNSTACK_LOAD_H */
