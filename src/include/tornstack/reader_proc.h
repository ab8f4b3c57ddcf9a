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
    pid_t pid;
    /* Scratch for coalesced vectored reads (see reader_proc.c). */
    uint8_t *scratch;
    size_t scratch_cap;
    struct uw_proc_key *order; /* pieces in address order */
    size_t order_cap;
} uw_proc;

/* Bind r to process pid.  Checks that the process exists and that its
 * memory can be read (UW_ERR_NO_PROCESS, UW_ERR_PERMISSION).  p must outlive
 * r. */
int uw_proc_reader_open(uw_proc *p, pid_t pid, uw_reader *r);

/* Free the scratch buffers (the reader must not be used afterwards). */
void uw_proc_close(uw_proc *p);

#endif /* TORNSTACK_READER_PROC_H */
