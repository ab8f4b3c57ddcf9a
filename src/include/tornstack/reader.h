/*
 * reader.h — the one door to target memory.
 *
 * Every read of another process's memory, anywhere in src/, goes through a
 * uw_reader: a live process (reader_proc.c, process_vm_readv), the model's
 * simulated address space (model/), or a test double.  Two operations: a
 * single read and a vectored read of many (address, length) pieces, which a
 * backend may serve in one system call.  The reader counts calls (backend
 * requests, i.e. syscalls for a live process) and bytes for the benchmarks,
 * and can enforce a read budget so a garbage target cannot make a sample
 * read without end.
 *
 * Contract: a read either fills dst completely and returns 0, or returns a
 * negative code (UW_ERR_READ_FAULT, UW_ERR_READ_SHORT, UW_ERR_NO_PROCESS,
 * ...); dst is then unspecified.  Callers handle every failure; nothing
 * crashes on an unmapped or short target address.  UW_ERR_READ_FAULT says
 * that not even the first byte could be read (at that address, or from
 * the reader now); UW_ERR_READ_SHORT that a first part could, the rest
 * not.  So a caller may stop at a fault without trying a shorter read
 * from the same address (uw__type_name does); test_replay and
 * test_frozen check it of the live readers, each backend keeps it.
 *
 * Order: the pieces of one vectored read are read in no particular order.
 * The live backend sorts them by address and merges close ones into spans
 * (two pieces of one address then get the same bytes), and the model reads
 * them in request order, address order or a random one.  A caller whose
 * argument needs an order splits the read into groups (uw_readv_groups):
 * every piece of a group is read after every piece of the groups before
 * it, and sees every store of the target that a piece of those groups saw,
 * or that was made before such a store.  x86 keeps a core's stores in
 * order for every other core, so there one call may hold several groups;
 * a machine that does not (ARM, POWER) needs a call per group, whose
 * kernel entry and exit let those stores arrive (reader_proc.c, and the
 * model's relaxed memory, docs/model.md).
 *
 * Run clocks: a backend may also tell, per thread of the target (by its
 * native id, the kernel's thread id), a count that grows whenever that
 * thread runs: a live process's on-CPU time (reader_clock.c), the model's
 * count of that thread's stores.  Equal at two readings, the thread did
 * not run in between, so it stored nothing there: its frames stood still.
 * A reading is taken at an instant before every memory read the reader
 * serves after the call; a backend that served a read of this sample from
 * bytes read before (reader_replay.h) and has no reading of that thread
 * from before them answers UW_ERR_NO_CLOCK.  A backend with clocks may
 * also list every thread of the target (its kernel thread ids, Python's
 * or not): a process none of whose threads ran since a reading stored
 * nothing since.
 */
#ifndef TORNSTACK_READER_H
#define TORNSTACK_READER_H

#include <stddef.h>
#include <stdint.h>

/* One piece of a vectored read; status is set by uw_readv. */
typedef struct uw_iov {
    uint64_t addr;
    void *dst;
    size_t len;
    int status; /* 0 when filled, else a negative code */
} uw_iov;

typedef struct uw_reader_ops {
    /* Required. Fill dst[0..len) from addr or fail. */
    int (*read)(void *ctx, uint64_t addr, void *dst, size_t len);
    /* Optional. Fill each piece, setting its status; return how many backend
     * requests were made through *calls.  Group g is pieces
     * [end[g-1], end[g]) (end[-1] = 0, end[n_groups-1] = n); its pieces are
     * read after those of every earlier group, in any order among
     * themselves.  NULL: uw_readv loops over read, in order. */
    int (*readv)(void *ctx, uw_iov *iov, size_t n, const size_t *end, size_t n_groups,
                 uint64_t *calls);
    /* Optional. The run clock of thread `tid` (above), into *out; 0 or a
     * negative code (UW_ERR_NO_CLOCK: none now).  *calls gets the backend
     * requests made.  NULL: no thread has a clock. */
    int (*clock)(void *ctx, uint64_t tid, uint64_t *out, uint64_t *calls);
    /* Optional. Every thread of the target at an instant after the call
     * began, into tids[0..*n): 0, UW_ERR_CAPACITY (more than cap), or
     * another negative code.  NULL: not known. */
    int (*threads)(void *ctx, uint64_t *tids, size_t cap, size_t *n, uint64_t *calls);
} uw_reader_ops;

typedef struct uw_reader {
    const uw_reader_ops *ops;
    void *ctx;
    /* Counters, never reset by the reader itself. */
    uint64_t calls; /* backend requests (syscalls for a live process) */
    uint64_t bytes; /* bytes requested */
    uint64_t faults;
    /* Optional budget (0 = none): once calls or bytes would pass it, reads
     * fail with UW_ERR_READ_BUDGET. */
    uint64_t budget_calls;
    uint64_t budget_bytes;
    /* Set by a backend whose ordered groups cost a call each (a machine
     * that may show stores out of order, above): a caller that can split
     * a read into many short ordered windows, or few, takes few. */
    int group_calls;
} uw_reader;

void uw_reader_init(uw_reader *r, const uw_reader_ops *ops, void *ctx);

int uw_read(uw_reader *r, uint64_t addr, void *dst, size_t len);

/* Read n pieces, in any order; returns 0 when all were filled, else the
 * first piece's error (every piece's status says which ones were). */
int uw_readv(uw_reader *r, uw_iov *iov, size_t n);

/* Read n pieces in n_groups ordered groups: group g is pieces
 * [end[g-1], end[g]) (end[-1] = 0), end non-decreasing (empty groups are
 * allowed) with end[n_groups-1] = n, UW_READV_GROUPS_MAX groups at most
 * (else UW_ERR_INVALID_ARG, nothing read, every status that error).  Every
 * piece of a group is read after every piece of the groups before it.
 * Returns as uw_readv. */
#define UW_READV_GROUPS_MAX 256
int uw_readv_groups(uw_reader *r, uw_iov *iov, size_t n, const size_t *end, size_t n_groups);

/* The run clock of thread tid (see the top of this file): 0 with *out
 * set, or UW_ERR_NO_CLOCK (no clock op, or none for tid now).  Counted in
 * r->calls as the backend's requests. */
int uw_reader_clock(uw_reader *r, uint64_t tid, uint64_t *out);

/* Every thread of the target (above): 0 with tids[0..*n) set,
 * UW_ERR_NO_CLOCK (no such op), UW_ERR_CAPACITY or the backend's error. */
int uw_reader_threads(uw_reader *r, uint64_t *tids, size_t cap, size_t *n);

/* Convenience: one little-endian 64-bit word. */
int uw_read_u64(uw_reader *r, uint64_t addr, uint64_t *out);

#endif /* TORNSTACK_READER_H */
