/*
 * fuzz_mem.h — a target "process" whose memory is the fuzz input: the
 * bytes are mapped at FZ_BASE, every other address faults.  Pointers in
 * the input that land inside [FZ_BASE, FZ_BASE + size) lead back into it,
 * so the fuzzer can build (or break) any object graph.
 */
#ifndef TORNSTACK_FUZZ_MEM_H
#define TORNSTACK_FUZZ_MEM_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tornstack/error.h"
#include "tornstack/reader.h"

#define FZ_BASE 0x10000000ull

typedef struct fz_mem {
    const uint8_t *data;
    size_t size;
} fz_mem;

static int fz_mem_read(void *ctx, uint64_t addr, void *dst, size_t len)
{
    const fz_mem *m = ctx;
    uint64_t off;
    if (addr < FZ_BASE || addr - FZ_BASE >= m->size)
        return UW_ERR_READ_FAULT;
    off = addr - FZ_BASE;
    if (len > m->size - off) {
        memcpy(dst, m->data + off, m->size - off);
        return UW_ERR_READ_SHORT;
    }
    memcpy(dst, m->data + off, len);
    return 0;
}

static const uw_reader_ops fz_mem_ops = {fz_mem_read, NULL, NULL, NULL};

#endif
