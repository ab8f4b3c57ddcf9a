/*
 * reader_frozen.h — pages of a stopped process, each read once a sample.
 *
 * While every thread of the target is stopped (`--blocking`, or a sample
 * redone by `--pause-on-torn`), its memory cannot change under the reader:
 * the walk's re-read and the chain check's two copies, which exist to
 * catch a process that moved, would only read the same bytes again.  So
 * while frozen, the live reader serves every piece from a cache of whole
 * pages: the pages a request touches that are not held yet are read in one
 * vectored call (runs of neighbouring pages as one span), and every later
 * request of the sample that falls on held pages costs no call at all.
 * The checks still run, on the same bytes, so a stopped sample is judged
 * by the same code as a running one.
 *
 * A snapshot goes further: the pages the last stopped sample used are read
 * as soon as the process stands (uw__frozen_prefetch), the cache is sealed
 * and the process let go, and the sample is taken from the pages held,
 * while the process runs: a stop lasts as long as one read, not a whole
 * sample.  Sealed, a page not held is not read (the process has moved
 * since); the request that needs it fails and is counted
 * (uw__frozen_missed), and the caller takes the sample again from a new
 * stop, the missed pages now predicted too.
 *
 * The one assumption: memory the walk reads (the interpreter's objects,
 * frames and stacks) is written only by the target's own threads.  Memory
 * another process or the kernel writes on its own (shared memory, an
 * io_uring ring) is not where CPython keeps them.
 *
 * Bounds: UW_FROZEN_PAGES pages a sample (beyond it, requests are read
 * without the cache, which a stopped process makes equally right; sealed,
 * they are missed);
 * UW_FROZEN_RUN pages a span; one call per UW_PROC_IOV_BATCH spans, and
 * one more for each page that cannot be read (it is held as unreadable,
 * so it costs that call once a sample).
 */
#ifndef TORNSTACK_READER_FROZEN_H
#define TORNSTACK_READER_FROZEN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "tornstack/reader.h"

#ifndef UW_FROZEN_PAGES
#define UW_FROZEN_PAGES 16384 /* 64 MiB of target memory a sample */
#endif
#define UW_FROZEN_RUN 16 /* pages a span */
#ifndef UW_FROZEN_NEAR
#define UW_FROZEN_NEAR 1 /* pages either side of each one read too */
#endif
#ifndef UW_FROZEN_HISTORY
#define UW_FROZEN_HISTORY 4 /* samples whose pages a snapshot reads */
#endif
#define UW_FROZEN_PAGE 4096u

typedef struct uw_frozen uw_frozen;

/* A new, empty cache (NULL when out of memory). */
uw_frozen *uw__frozen_new(void);
void uw__frozen_free(uw_frozen *f);
/* Forget every page (the target ran since they were read). */
void uw__frozen_reset(uw_frozen *f);
/* Serve pieces [0, n) of process pid from the cache, reading the pages not
 * held yet; each piece's status set (UW_ERR_READ_FAULT when its first
 * byte's page cannot be read, UW_ERR_READ_SHORT when a later one cannot).
 * *calls counts the calls made.  Returns 0; 1 when the cache is full and
 * nothing was served (the caller reads the pieces itself); or
 * UW_ERR_NO_PROCESS / UW_ERR_PERMISSION (every piece failed with it). */
int uw__frozen_readv(uw_frozen *f, pid_t pid, uw_iov *iov, size_t n, uint64_t *calls);
/* reader_proc.c: process_vm_readv's errno as an error code (a fault of
 * the piece, or of the whole process: gone, forbidden, out of memory). */
int uw__proc_errno(int e);
/* Pages held (tests, benchmarks). */
size_t uw__frozen_pages(const uw_frozen *f);
/* After a reset, while the process stands: read the pages the last
 * sample used (uw__frozen_predict), in one call per UW_PROC_IOV_BATCH
 * spans.  Returns 0 (out of memory only costs the savings) or
 * UW_ERR_NO_PROCESS / UW_ERR_PERMISSION. */
int uw__frozen_prefetch(uw_frozen *f, pid_t pid, uint64_t *calls);
/* The process runs again: from now on a page not held is missed, not
 * read. */
void uw__frozen_seal(uw_frozen *f);
/* Requests of this sample that met a page not held while sealed. */
size_t uw__frozen_missed(const uw_frozen *f);
/* Remember the pages this sample's requests used (missed ones included,
 * unreadable ones not) as the next sample's prefetch. */
void uw__frozen_predict(uw_frozen *f);

#endif /* TORNSTACK_READER_FROZEN_H */
