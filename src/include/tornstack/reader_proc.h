/*
 * reader_proc.h — uw_reader backend for a live process (process_vm_readv).
 */
#ifndef TORNSTACK_READER_PROC_H
#define TORNSTACK_READER_PROC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "tornstack/reader.h"

typedef struct uw_proc {
    pid_t pid;     /* the thread read through (uw_proc_read_id) */
    pid_t process; /* the process, as given */
    /* Reads of a sample predicted from the last one (reader_replay.h);
     * NULL until uw_proc_sample_begin is first called. */
    struct uw_replay *replay;
    int replay_armed; /* begun, its predicted bytes not read yet */
    int replay_begun; /* a byte of this sample was read (a run clock is late) */
    /* Run clocks of the process's threads (reader_clock.h); NULL until a
     * sample begins or one is asked for. */
    struct uw_clocks *clocks;
    uw_reader *reader; /* the reader bound to it (uw_proc_reader_open) */
    /* Scratch for coalesced vectored reads (see reader_proc.c). */
    uint8_t *scratch;
    size_t scratch_cap;
    struct uw_addr_key *order; /* pieces in address order, then sort scratch */
    size_t order_cap;
    struct uw_proc_span *spans; /* the spans of a coalesced read */
    size_t spans_cap;
    size_t last_spans;  /* spans of the last coalesced vectored read (tests) */
    size_t last_reused; /* its groups ordered as an earlier group (tests) */
    /* Pages of a stopped process (uw_proc_freeze); NULL until first frozen. */
    struct uw_frozen *frozen;
    int is_frozen;
    /* 1 on a machine that may show another core's stores out of order
     * (anything but x86): ordered groups are then read a call each, and
     * no sample is predicted, since the prediction's one call would join
     * them (reader.h).  Set by uw_proc_reader_open; tests may set it. */
    int split_groups;
    /* No mapping starts below this address (vm.mmap_min_addr, read at
     * open): a piece there fails without a call (a torn pointer of 0x1
     * or 0xa otherwise costs the call it stops, and one more). */
    uint64_t min_addr;
} uw_proc;

/* The id through which process pid is read and its /proc files opened:
 * pid itself, or, when its first thread has exited while others run (a
 * zombie leader, as `pthread_exit` in main leaves: its maps read empty and
 * process_vm_readv refuses its id), the id of a thread of it that lives
 * (any one reads the same memory).  0, UW_ERR_NO_PROCESS (no thread
 * lives), UW_ERR_PERMISSION, UW_ERR_IO, or UW_ERR_LIMIT_THREADS when
 * UW_LIMIT_THREADS threads were looked at and none lives. */
int uw_proc_read_id(pid_t pid, pid_t *id);

/* Bind r to process pid (through uw_proc_read_id; a read refused because
 * the thread read through has exited since is made again through one that
 * lives).  Checks
 * that the process exists and that its memory can be read
 * (UW_ERR_NO_PROCESS, UW_ERR_PERMISSION).  p must outlive r. */
int uw_proc_reader_open(uw_proc *p, pid_t pid, uw_reader *r);

/* Free the scratch buffers (the reader must not be used afterwards). */
void uw_proc_close(uw_proc *p);

/* A sample begins: its reads are recorded, and those of the last sample,
 * read in one go at the sample's first read (at once when frozen), serve
 * this sample's requests as long as they are the same requests in the
 * same order (src/internal/reader_replay.h).  Run clocks read from now
 * until that first read vouch for the whole sample (reader_clock.h).
 * The calls made count in r->calls.  Without it every read is a call. */
void uw_proc_sample_begin(uw_proc *p, uw_reader *r);
/* The caller has stopped every thread of the process (on = 1) or is done
 * with the pages read while it stood (on = 0).  While frozen, each page is
 * read once and every later read of it is served from that copy: the
 * process cannot change it (src/internal/reader_frozen.h).  Freezing
 * reads at once the pages the last frozen sample used.  Returns 0,
 * UW_ERR_NOMEM (then reads go to the process as before), or the error
 * of that first read (UW_ERR_NO_PROCESS, UW_ERR_PERMISSION). */
int uw_proc_freeze(uw_proc *p, int on);
/* Frozen, before the caller lets the process run again: from now on a
 * read of a page not held fails and is counted, instead of reading a
 * process that has moved (a snapshot). */
void uw_proc_seal(uw_proc *p);
/* Reads of this frozen sample that failed for a page not in the
 * snapshot: when not 0, the sample is not the snapshot's and must be
 * taken again. */
size_t uw_proc_missed(const uw_proc *p);
/* Pages held by the frozen reader (after uw_proc_freeze: those read at
 * once, the last frozen sample's); 0 when not frozen. */
size_t uw_proc_frozen_pages(const uw_proc *p);

#endif /* TORNSTACK_READER_PROC_H */
