/*
 * reader_proc.c — read a live process with process_vm_readv(2).
 *
 * One call costs about a microsecond whatever it copies (64 bytes or 4 KiB),
 * so the walk asks for whole data-stack chunks and batches independent
 * pieces into one vectored call.  process_vm_readv stops at the first piece
 * it cannot read and reports how many bytes it did copy; the vectored path
 * here marks the pieces that were filled, marks the failing one, and goes on
 * with the rest in a new call, so one garbage address costs its own piece
 * and not the batch.
 */
#define _GNU_SOURCE
#include "tornstack/reader_proc.h"

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <string.h>
#include <sys/uio.h>

#include "tornstack/error.h"

/* Pieces per process_vm_readv call: the kernel's IOV_MAX (UIO_MAXIOV). */
#define UW_PROC_IOV_BATCH 1024

static int uw_proc_errno(int e)
{
    switch (e) {
    case ESRCH:
        return UW_ERR_NO_PROCESS;
    case EPERM:
    case EACCES:
        return UW_ERR_PERMISSION;
    case ENOMEM:
        return UW_ERR_NOMEM;
    case EFAULT:
    default:
        return UW_ERR_READ_FAULT;
    }
}

static int uw_proc_read(void *ctx, uint64_t addr, void *dst, size_t len)
{
    const uw_proc *p = ctx;
    struct iovec local = {dst, len};
    struct iovec remote = {(void *)(uintptr_t)addr, len};
    ssize_t got;

    assert(p != NULL);
    got = process_vm_readv(p->pid, &local, 1, &remote, 1, 0);
    if (got < 0)
        return uw_proc_errno(errno);
    if ((size_t)got != len)
        return UW_ERR_READ_SHORT;
    return 0;
}

static int uw_proc_readv(void *ctx, uw_iov *iov, size_t n, uint64_t *calls)
{
    const uw_proc *p = ctx;
    struct iovec local[UW_PROC_IOV_BATCH];
    struct iovec remote[UW_PROC_IOV_BATCH];
    size_t i = 0;

    assert(p != NULL && calls != NULL);
    *calls = 0;
    while (i < n) {
        size_t k = 0, j;
        ssize_t got;
        size_t left;

        /* Skip empty pieces: the kernel would treat them as done anyway. */
        while (i < n && iov[i].len == 0) {
            iov[i].status = 0;
            i++;
        }
        for (j = i; j < n && k < UW_PROC_IOV_BATCH; j++) {
            if (iov[j].len == 0)
                break;
            local[k].iov_base = iov[j].dst;
            local[k].iov_len = iov[j].len;
            remote[k].iov_base = (void *)(uintptr_t)iov[j].addr;
            remote[k].iov_len = iov[j].len;
            k++;
        }
        if (k == 0)
            continue;
        (*calls)++;
        got = process_vm_readv(p->pid, local, (unsigned long)k, remote,
                               (unsigned long)k, 0);
        if (got < 0) {
            int e = uw_proc_errno(errno);
            /* Nothing was copied: the first piece is the bad one unless the
             * whole process is gone or forbidden. */
            if (e == UW_ERR_NO_PROCESS || e == UW_ERR_PERMISSION) {
                for (j = i; j < n; j++)
                    iov[j].status = e;
                return e;
            }
            iov[i].status = e;
            i++;
            continue;
        }
        left = (size_t)got;
        for (j = 0; j < k; j++) {
            if (left >= iov[i + j].len) {
                iov[i + j].status = 0;
                left -= iov[i + j].len;
            } else {
                break;
            }
        }
        if (j == k) {
            i += k;
            continue;
        }
        /* Piece i+j was cut short: mark it and resume after it. */
        iov[i + j].status = left > 0 ? UW_ERR_READ_SHORT : UW_ERR_READ_FAULT;
        i += j + 1;
    }
    return 0;
}

static const uw_reader_ops uw_proc_ops = {uw_proc_read, uw_proc_readv};

int uw_proc_reader_open(uw_proc *p, pid_t pid, uw_reader *r)
{
    uint8_t probe;
    struct iovec local = {&probe, 1};
    struct iovec remote = {NULL, 1};
    ssize_t got;

    if (p == NULL || r == NULL || pid <= 0)
        return UW_ERR_INVALID_ARG;
    if (kill(pid, 0) != 0 && errno == ESRCH)
        return UW_ERR_NO_PROCESS;
    /* A read of address 0 fails with EFAULT when we may read the process and
     * with EPERM/ESRCH when we may not: a cheap permission probe. */
    got = process_vm_readv(pid, &local, 1, &remote, 1, 0);
    if (got < 0 && errno != EFAULT)
        return uw_proc_errno(errno);
    p->pid = pid;
    uw_reader_init(r, &uw_proc_ops, p);
    return 0;
}
