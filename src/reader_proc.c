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

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "internal/addr_sort.h"
#include "internal/pause.h"
#include "internal/reader_clock.h"
#include "internal/reader_frozen.h"
#include "internal/reader_replay.h"
#include "internal/uw_assert.h"
#include "tornstack/error.h"
#include "tornstack/limits.h"

/* Pieces per process_vm_readv call: the kernel's IOV_MAX (UIO_MAXIOV). */
#ifndef UW_PROC_IOV_BATCH
#define UW_PROC_IOV_BATCH 1024
#endif
/* Coalescing: pieces closer than this are read as one span ...  The
 * kernel's cost of a span more (a page-pinning walk of its own) outweighs
 * copying up to this many bytes between two pieces: on a busy program of
 * 500 Tasks, whose objects share allocator pools, 2 KiB read a warm sample
 * 13-15 % faster than 512 bytes did, and 64 bytes 40 % slower (3.12, 3.15;
 * `tornstack bench --tasks`). */
#ifndef UW_PROC_GAP
#define UW_PROC_GAP 2048
#endif
/* ... of at most this many bytes. */
#ifndef UW_PROC_SPAN_MAX
#define UW_PROC_SPAN_MAX (64 * 1024)
#endif
/* Does this machine show a process's stores to another core in the
 * order they were made (x86's total store order)?  Only then may the
 * ordered groups of one read share a call (reader.h). */
#ifndef UW_PROC_STORES_IN_ORDER
#if defined(__x86_64__) || defined(__i386__)
#define UW_PROC_STORES_IN_ORDER 1
#else
#define UW_PROC_STORES_IN_ORDER 0
#endif
#endif
/* Below this many pieces, coalescing is not worth sorting. */
#define UW_PROC_COALESCE_MIN 8

int uw__proc_errno(int e)
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

static int uw_proc_replay_readv(void *ctx, uw_iov *iov, size_t n, uint64_t *calls);

/* process_vm_readv through the thread read through.  When the process's
 * leader has exited (p->pid is another thread, uw_proc_read_id) and that
 * thread exits too, its id is refused (ESRCH) though the process lives:
 * the read is made again, once, through a thread that lives. */
static ssize_t uw_proc_vm_read(uw_proc *p, const struct iovec *local, unsigned long n_local,
                               const struct iovec *remote, unsigned long n_remote)
{
    ssize_t got = process_vm_readv(p->pid, local, n_local, remote, n_remote, 0);
    pid_t id;

    if (got < 0 && errno == ESRCH && p->pid != p->process &&
        uw_proc_read_id(p->process, &id) == 0 && id != p->pid) {
        p->pid = id;
        got = process_vm_readv(p->pid, local, n_local, remote, n_remote, 0);
    }
    return got;
}

/* The replay reads a sample's predicted bytes at the sample's first read,
 * not when the sample begins, so that run clocks asked for before it are
 * read before those bytes (reader.h). */
static void uw_proc_replay_start(uw_proc *p)
{
    if (!p->replay_armed)
        return;
    p->replay_armed = 0;
    p->replay_begun = 1;
    p->reader->calls += uw__replay_begin(p->replay, uw_proc_replay_readv, p);
}

static int uw_proc_read(void *ctx, uint64_t addr, void *dst, size_t len)
{
    uw_proc *p = ctx;
    struct iovec local = {dst, len};
    struct iovec remote = {(void *)(uintptr_t)addr, len};
    ssize_t got;

    UW_ASSERT(p != NULL);
    uw_proc_replay_start(p);
    if (p->replay != NULL) {
        uw_iov one = {addr, dst, len, 0};
        const size_t end = 1;
        if (uw__replay_serve(p->replay, &one, 1, &end, 1)) {
            p->reader->calls--; /* uw_read counted a call it did not make */
            return one.status;
        }
    }
    if (p->is_frozen) {
        uw_iov one = {addr, dst, len, 0};
        uint64_t calls = 0;
        if (uw__frozen_readv(p->frozen, p->pid, &one, 1, &calls) != 1) {
            p->reader->calls += calls;
            p->reader->calls--; /* uw_read counted one */
            return one.status;
        }
    }
    if (len > 0 && addr < p->min_addr) {
        p->reader->calls--; /* uw_read counted one: none is made */
        return UW_ERR_READ_FAULT;
    }
    got = uw_proc_vm_read(p, &local, 1, &remote, 1);
    if (got < 0)
        return uw__proc_errno(errno);
    if ((size_t)got != len)
        return UW_ERR_READ_SHORT;
    return 0;
}

static int uw_proc_readv_plain(uw_proc *p, uw_iov *iov, size_t n, uint64_t *calls)
{
    struct iovec local[UW_PROC_IOV_BATCH];
    struct iovec remote[UW_PROC_IOV_BATCH];
    size_t i = 0;

    UW_ASSERT(p != NULL && calls != NULL);
    while (i < n) {
        size_t k = 0, j;
        ssize_t got;
        size_t left;

        /* Skip empty pieces: the kernel would treat them as done anyway;
         * and pieces below any mapping: it would fail them. */
        while (i < n && (iov[i].len == 0 || iov[i].addr < p->min_addr)) {
            iov[i].status = iov[i].len == 0 ? 0 : UW_ERR_READ_FAULT;
            i++;
        }
        for (j = i; j < n && k < UW_PROC_IOV_BATCH; j++) {
            if (iov[j].len == 0 || iov[j].addr < p->min_addr)
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
        got = uw_proc_vm_read(p, local, (unsigned long)k, remote, (unsigned long)k);
        if (got < 0) {
            int e = uw__proc_errno(errno);
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

/* One span of a coalesced read: [start, end) holding the pieces
 * order[first .. next span's first), read straight into its one piece
 * (direct) or into the scratch buffer at off. */
struct uw_proc_span {
    uint64_t start, end;
    size_t first, off;
    int direct;
};

/* Room for n spans (n + 1 entries: the last one ends the list). */
static int uw_proc_spans_reserve(uw_proc *p, size_t n)
{
    struct uw_proc_span *sp;

    if (p->spans_cap > n)
        return 0;
    if (n >= SIZE_MAX / (2 * sizeof *sp))
        return UW_ERR_NOMEM;
    sp = realloc(p->spans, 2 * (n + 1) * sizeof *sp);
    if (sp == NULL)
        return UW_ERR_NOMEM;
    p->spans = sp;
    p->spans_cap = 2 * (n + 1);
    return 0;
}

/* Pages found unreadable during one coalesced read, at most this many.
 * process_vm_readv copies a span page by page and stops at the first page
 * it cannot pin, so the bytes it did copy name that page.  A busy
 * program frees allocator arenas under Tasks it has finished, and the
 * chain check's two copies meet such a page once each: a piece on a page
 * known bad fails without a call of its own. */
#define UW_PROC_BAD_PAGES 16
#define UW_PROC_PAGE 4096u

typedef struct uw_proc_bad {
    uint64_t page[UW_PROC_BAD_PAGES];
    size_t n;
} uw_proc_bad;

static void uw_bad_add(uw_proc_bad *b, uint64_t addr)
{
    uint64_t pg = addr & ~(uint64_t)(UW_PROC_PAGE - 1);
    size_t i;

    for (i = 0; i < b->n; i++)
        if (b->page[i] == pg)
            return;
    if (b->n < UW_PROC_BAD_PAGES)
        b->page[b->n++] = pg;
}

/* Does [addr, addr + len) touch a page known bad? */
static int uw_bad_touches(const uw_proc_bad *b, uint64_t addr, size_t len)
{
    uint64_t last = addr + len - 1;
    size_t i;

    for (i = 0; i < b->n; i++)
        if (b->page[i] <= last && addr < b->page[i] + UW_PROC_PAGE)
            return 1;
    return 0;
}

/* Pieces of a stopped span read again together, at most (more are read
 * one call each). */
#define UW_PROC_AGAIN 64

/* The pieces `rest` (n of them, pointers into the caller's pieces, in
 * address order) read again in calls of their own: one call, and one more
 * after each piece that fails (uw_proc_readv_plain); a piece that fails
 * within one page marks that page bad. */
static void uw_proc_again(uw_proc *p, uw_iov **rest, size_t n, uw_proc_bad *bad, uint64_t *calls)
{
    uw_iov tmp[UW_PROC_AGAIN];
    size_t j;
    uint64_t c = 0;

    for (j = 0; j < n; j++)
        tmp[j] = *rest[j];
    (void)uw_proc_readv_plain(p, tmp, n, &c);
    *calls += c;
    for (j = 0; j < n; j++) {
        rest[j]->status = tmp[j].status;
        if (tmp[j].status == UW_ERR_READ_FAULT &&
            tmp[j].addr / UW_PROC_PAGE == (tmp[j].addr + tmp[j].len - 1) / UW_PROC_PAGE)
            uw_bad_add(bad, tmp[j].addr);
    }
}

/* Spans s0 .. s1 - 1 read, got bytes copied in all: serve the pieces of
 * the spans read whole.  In the span that stopped the call, the pieces
 * before the page that stopped it are served from what was copied, those
 * on a page known bad fail, and the others are read again (uw_proc_again).
 * Returns the spans handled (those read whole and the one that stopped the
 * call, if any). */
static size_t uw_proc_serve(uw_proc *p, uw_iov *iov, size_t s0, size_t s1, size_t got,
                            uw_proc_bad *bad, uint64_t *calls)
{
    const struct uw_proc_span *sp = p->spans;
    size_t done = s0, acc = 0, i, k, n_rest = 0;
    uw_iov *rest[UW_PROC_AGAIN];
    uint64_t stop = 0;

    while (done < s1 && acc + (size_t)(sp[done].end - sp[done].start) <= got) {
        acc += (size_t)(sp[done].end - sp[done].start);
        done++;
    }
    if (done < s1) {
        stop = sp[done].start + (got - acc); /* the first byte not copied */
        uw_bad_add(bad, stop);
    }
    for (i = s0; i <= done && i < s1; i++) {
        for (k = sp[i].first; k < sp[i + 1].first; k++) {
            uw_iov *v = &iov[p->order[k].i];
            /* an empty piece, or one below any mapping (sorted first in
             * its group, so among the last group's spans): in no span */
            if (v->len == 0 || v->addr < p->min_addr)
                continue;
            if (i < done || v->addr + v->len <= stop) {
                if (!sp[i].direct)
                    memcpy(v->dst, p->scratch + sp[i].off + (v->addr - sp[i].start), v->len);
                v->status = 0;
            } else if (uw_bad_touches(bad, v->addr, v->len)) {
                /* a fault only when its first byte is on the bad page */
                v->status = uw_bad_touches(bad, v->addr, 1) ? UW_ERR_READ_FAULT : UW_ERR_READ_SHORT;
            } else {
                if (n_rest == UW_PROC_AGAIN) {
                    uw_proc_again(p, rest, n_rest, bad, calls);
                    n_rest = 0;
                }
                rest[n_rest++] = v;
            }
        }
    }
    if (n_rest > 0)
        uw_proc_again(p, rest, n_rest, bad, calls);
    return done < s1 ? done + 1 - s0 : done - s0;
}

/* An earlier group asking for the very addresses of group g (pieces
 * [end[g-1], end[g])), in the same order: its index, or g if none.  The
 * chain check reads its two copies so (check.c), with the middle group's
 * copies and the epochs' readings between them when it has a middle
 * (uw_check_read_mid): the nearest earlier group of the same length is
 * compared first, and each comparison stops at the first address that
 * differs, so a search costs little more than one scan of group g; a
 * match saves group g's sort.  At most n_groups - 1 groups are looked at
 * (UW_READV_GROUPS_MAX). */
static size_t uw_proc_same_addrs(const uw_iov *iov, const size_t *end, size_t g)
{
    const size_t b0 = end[g - 1], len = end[g] - b0;
    size_t h, i;

    if (len < UW_PROC_COALESCE_MIN)
        return g;
    for (h = g; h-- > 0;) {
        const size_t a0 = h > 0 ? end[h - 1] : 0;
        if (end[h] - a0 != len)
            continue;
        for (i = 0; i < len && iov[a0 + i].addr == iov[b0 + i].addr; i++)
            ;
        if (i == len)
            return h;
    }
    return g;
}

/* Group g's order from group h's, which asked for the same addresses
 * (uw_proc_same_addrs): the sorted keys repeated, each naming the piece
 * at the same place in group g.  What a stable sort of group g would give. */
static void uw_proc_order_as_before(uw_addr_key *order, const size_t *end, size_t h, size_t g)
{
    const size_t a0 = h > 0 ? end[h - 1] : 0, b0 = end[g - 1], len = end[g] - b0;
    size_t i;

    for (i = 0; i < len; i++)
        order[b0 + i] = (uw_addr_key){order[a0 + i].addr, order[a0 + i].i - a0 + b0};
}

/* Vectored read with coalescing.  The kernel pins every page of every
 * remote piece, so a hundred small objects sharing a few allocator pages
 * cost far more as a hundred pieces than as a few spans.  Each group's
 * pieces are sorted by address and merged while the gap to the next one is
 * at most UW_PROC_GAP bytes (spans at most UW_PROC_SPAN_MAX); a span never
 * holds pieces of two groups, and the spans go to the kernel group after
 * group, which reads them in that order: so the groups' order holds.  The
 * spans are read UW_PROC_IOV_BATCH to a call (the kernel's bound), in
 * order, and the pieces copied out of them (a span of one piece, most of a
 * busy sample's, is read straight into it).  A span that cannot be read
 * whole (it may cross into an unmapped page between two pieces) falls back
 * to reading its pieces one by one, so coalescing never turns a good piece
 * into a failed one; the spans after it are read in one call again.
 * Before the spans were kept on the heap, a read of more than
 * UW_PROC_IOV_BATCH spans (a busy 3.15 program's chain check, 500 Tasks)
 * fell back to one call per UW_PROC_IOV_BATCH pieces, not coalesced: a
 * dozen calls a sample. */
static int uw_proc_readv(void *ctx, uw_iov *iov, size_t n, const size_t *end, size_t n_groups,
                         uint64_t *calls)
{
    uw_proc *p = ctx;
    struct iovec local[UW_PROC_IOV_BATCH], remote[UW_PROC_IOV_BATCH];
    struct uw_proc_span *sp;
    size_t i, total = 0, nspan = 0, s0, g, g0, open_from = 0;
    uw_proc_bad bad;
    ssize_t got;

    UW_ASSERT(p != NULL && calls != NULL);
    *calls = 0;
    bad.n = 0;
    uw_proc_replay_start(p);
    if (p->split_groups && n_groups > 1 && !p->is_frozen) {
        /* each group a call of its own: the kernel entry and exit between
         * them let every store the earlier group could see reach this
         * core before the later group is read */
        for (g = 0, g0 = 0; g < n_groups; g0 = end[g], g++) {
            const size_t one = end[g] - g0;
            uint64_t c = 0;
            int rc;
            if (one == 0)
                continue;
            rc = uw_proc_readv(p, iov + g0, one, &one, 1, &c);
            *calls += c;
            if (rc == UW_ERR_NO_PROCESS || rc == UW_ERR_PERMISSION) {
                for (i = end[g]; i < n; i++)
                    iov[i].status = rc;
                return rc;
            }
        }
        return 0;
    }
    if (p->replay != NULL && uw__replay_serve(p->replay, iov, n, end, n_groups))
        return 0;
    if (p->is_frozen) { /* nothing moves: the groups' order holds any way */
        int rc = uw__frozen_readv(p->frozen, p->pid, iov, n, calls);
        if (rc != 1)
            return rc;
    }
    if (n < UW_PROC_COALESCE_MIN)
        return uw_proc_readv_plain(p, iov, n, calls);
    if (p->order_cap < n) {
        /* n keys, and n more of scratch for the sort */
        uw_addr_key *o =
            n <= SIZE_MAX / (2 * sizeof *o) ? realloc(p->order, 2 * n * sizeof *o) : NULL;
        if (o == NULL)
            return uw_proc_readv_plain(p, iov, n, calls);
        p->order = o;
        p->order_cap = n;
    }
    if (uw_proc_spans_reserve(p, n) != 0)
        return uw_proc_readv_plain(p, iov, n, calls);
    sp = p->spans;
    for (i = 0; i < n; i++) {
        p->order[i] = (uw_addr_key){iov[i].addr, i};
        iov[i].status = UW_ERR_READ_FAULT;
    }
    p->last_reused = 0;
    for (g = 0, g0 = 0; g < n_groups; g0 = end[g], g++) {
        const size_t h = g > 0 ? uw_proc_same_addrs(iov, end, g) : g;
        if (h < g) {
            uw_proc_order_as_before(p->order, end, h, g);
            p->last_reused++;
        } else
            uw__addr_sort(p->order + g0, p->order + n, end[g] - g0);
    }
    /* Build spans over the sorted pieces (empty pieces succeed at once);
     * a group's first piece opens a new span.  At most one span a piece. */
    for (i = 0, g = 0; i < n; i++) {
        const uw_iov *v = &iov[p->order[i].i];
        uint64_t e = v->addr + v->len;
        while (g < n_groups && i >= end[g]) {
            g++;
            open_from = nspan;
        }
        if (v->len == 0) {
            iov[p->order[i].i].status = 0;
            continue;
        }
        if (v->addr < p->min_addr)
            continue; /* fails (its status says so) without a call */
        if (e < v->addr || v->len > UW_PROC_SPAN_MAX)
            return uw_proc_readv_plain(p, iov, n, calls); /* huge or wrapping piece */
        if (nspan > open_from && v->addr <= sp[nspan - 1].end + UW_PROC_GAP &&
            (e > sp[nspan - 1].end ? e : sp[nspan - 1].end) - sp[nspan - 1].start <=
                UW_PROC_SPAN_MAX) {
            if (e > sp[nspan - 1].end)
                sp[nspan - 1].end = e;
            continue;
        }
        sp[nspan] = (struct uw_proc_span){v->addr, e, i, 0, 0};
        nspan++;
    }
    sp[nspan].first = n;
    p->last_spans = nspan;
    /* A span of one piece is read straight into the piece; only spans of
     * several pieces go through the scratch buffer and are copied out. */
    for (i = 0; i < nspan; i++) {
        sp[i].direct = sp[i + 1].first - sp[i].first == 1;
        sp[i].off = total;
        if (!sp[i].direct)
            total += (size_t)(sp[i].end - sp[i].start);
    }
    if (p->scratch_cap < total) {
        uint8_t *b = realloc(p->scratch, total);
        if (b == NULL)
            return uw_proc_readv_plain(p, iov, n, calls);
        p->scratch = b;
        p->scratch_cap = total;
    }
    /* A call for up to UW_PROC_IOV_BATCH spans from s0 on; process_vm_readv
     * stops at the first span it cannot finish: the spans before it serve
     * their pieces, that span's pieces are read one by one, and the next
     * call starts after it.  So a bad span costs its pieces' calls and one
     * more, not a call for every piece after it. */
    for (s0 = 0; s0 < nspan;) {
        size_t k;
        if (bad.n > 0 && uw_bad_touches(&bad, sp[s0].start, 1)) {
            /* a call would stop at once: the span is served as one that
             * stopped at its start (no call for what is known to fail) */
            s0 += uw_proc_serve(p, iov, s0, s0 + 1, 0, &bad, calls);
            continue;
        }
        k = nspan - s0 < UW_PROC_IOV_BATCH ? nspan - s0 : UW_PROC_IOV_BATCH;
        for (i = 0; i < k; i++) {
            const struct uw_proc_span *x = &sp[s0 + i];
            local[i].iov_base =
                x->direct ? iov[p->order[x->first].i].dst : (void *)(p->scratch + x->off);
            local[i].iov_len = (size_t)(x->end - x->start);
            remote[i].iov_base = (void *)(uintptr_t)x->start;
            remote[i].iov_len = local[i].iov_len;
        }
        (*calls)++;
        got = uw_proc_vm_read(p, local, (unsigned long)k, remote, (unsigned long)k);
        if (got < 0) {
            int e = uw__proc_errno(errno);
            if (e == UW_ERR_NO_PROCESS || e == UW_ERR_PERMISSION) {
                for (i = 0; i < n; i++)
                    iov[i].status = e;
                return e;
            }
            got = 0;
        }
        s0 += uw_proc_serve(p, iov, s0, s0 + k, (size_t)got, &bad, calls);
    }
    return 0;
}

/* A thread's run clock (reader.h, reader_clock.h).  Late, once this
 * sample's predicted bytes were read, or while frozen: the pages then
 * served were read at the stop, before any reading now. */
static int uw_proc_clock(void *ctx, uint64_t tid, uint64_t *out, uint64_t *calls)
{
    uw_proc *p = ctx;

    *calls = 0;
    if (p->clocks == NULL && (p->clocks = uw__clocks_new(p->process)) == NULL)
        return UW_ERR_NO_CLOCK;
    return uw__clocks_read(p->clocks, tid, p->replay_begun || p->is_frozen, out, calls);
}

/* The process's threads: /proc/PID/task (reader.h). */
static int uw_proc_threads(void *ctx, uint64_t *tids, size_t cap, size_t *n, uint64_t *calls)
{
    uw_proc *p = ctx;

    return uw__clocks_threads(p->process, tids, cap, n, calls);
}

static const uw_reader_ops uw_proc_ops = {uw_proc_read, uw_proc_readv, uw_proc_clock,
                                          uw_proc_threads};

/* The replay's batch: pieces read in order, no coalescing (the replay
 * coalesced within each request already). */
static int uw_proc_replay_readv(void *ctx, uw_iov *iov, size_t n, uint64_t *calls)
{
    const uw_proc *p = ctx;

    *calls = 0;
    if (p->is_frozen) {
        int rc = uw__frozen_readv(p->frozen, p->pid, iov, n, calls);
        if (rc != 1)
            return rc;
    }
    return uw_proc_readv_plain(ctx, iov, n, calls);
}

int uw_proc_freeze(uw_proc *p, int on)
{
    if (p == NULL)
        return UW_ERR_INVALID_ARG;
    if (!on) {
        if (p->is_frozen)
            uw__frozen_predict(p->frozen);
        p->is_frozen = 0;
        return 0;
    }
    p->is_frozen = 0;
    /* Read through a thread of the process (its leader has exited): one
     * that has exited since is replaced before the stop's reads, which go
     * through the frozen pages' own calls, not uw_proc_vm_read. */
    if (p->pid != p->process) {
        pid_t id;
        if (uw_proc_read_id(p->process, &id) == 0)
            p->pid = id;
    }
    if (p->frozen == NULL && (p->frozen = uw__frozen_new()) == NULL)
        return UW_ERR_NOMEM;
    uw__frozen_reset(p->frozen); /* what was read before the stop is stale */
    p->is_frozen = 1;
    {
        uint64_t calls = 0;
        int rc = uw__frozen_prefetch(p->frozen, p->pid, &calls);
        if (p->reader != NULL)
            p->reader->calls += calls;
        return rc;
    }
}

void uw_proc_seal(uw_proc *p)
{
    if (p != NULL && p->is_frozen)
        uw__frozen_seal(p->frozen);
}

size_t uw_proc_frozen_pages(const uw_proc *p)
{
    return p != NULL && p->is_frozen ? uw__frozen_pages(p->frozen) : 0;
}

size_t uw_proc_missed(const uw_proc *p)
{
    return p != NULL && p->is_frozen ? uw__frozen_missed(p->frozen) : 0;
}

void uw_proc_sample_begin(uw_proc *p, uw_reader *r)
{
    if (p == NULL || r == NULL)
        return;
    if (p->clocks == NULL)
        p->clocks = uw__clocks_new(p->process); /* NULL: no clocks, as if refused */
    uw__clocks_begin(p->clocks);
    p->replay_begun = 0;
    if (p->split_groups)
        return;
    if (p->replay == NULL) {
        p->replay = malloc(sizeof *p->replay);
        if (p->replay == NULL)
            return;
        uw__replay_init(p->replay);
    }
    p->replay_armed = 1; /* read at the sample's first read ... */
    if (p->is_frozen)
        uw_proc_replay_start(p); /* ... but now while the target is held (no
                                  * clock is read of a frozen sample) */
}

void uw_proc_close(uw_proc *p)
{
    if (p == NULL)
        return;
    if (p->replay != NULL) {
        uw__replay_free(p->replay);
        free(p->replay);
        p->replay = NULL;
    }
    free(p->scratch);
    free(p->order);
    free(p->spans);
    uw__clocks_free(p->clocks);
    p->clocks = NULL;
    uw__frozen_free(p->frozen);
    p->frozen = NULL;
    p->is_frozen = 0;
    p->scratch = NULL;
    p->order = NULL;
    p->spans = NULL;
    p->scratch_cap = p->order_cap = p->spans_cap = 0;
}

/* The lowest address a mapping may start at: vm.mmap_min_addr, or one
 * page when the machine does not say (page zero is never mapped for an
 * ordinary process).  Bound: one short read of a sysctl file. */
static uint64_t uw_proc_min_addr(void)
{
    char buf[32];
    uint64_t v = 0;
    size_t got, i;
    FILE *f = fopen("/proc/sys/vm/mmap_min_addr", "re");

    if (f == NULL)
        return UW_PROC_PAGE;
    got = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    for (i = 0; i < got && buf[i] >= '0' && buf[i] <= '9' && v < (1ull << 40); i++)
        v = v * 10 + (uint64_t)(buf[i] - '0');
    return i > 0 && v < (1ull << 40) ? v : UW_PROC_PAGE;
}

/* See reader_proc.h.  Bound: UW_LIMIT_THREADS threads listed. */
int uw_proc_read_id(pid_t pid, pid_t *id)
{
    pid_t *tids;
    size_t n = 0, i;
    char state;
    int rc;

    if (pid <= 0 || id == NULL)
        return UW_ERR_INVALID_ARG;
    *id = pid;
    (void)uw__proc_thread_state(pid, pid, &state);
    if (!uw__proc_state_gone(state))
        return 0; /* its leader lives (or its state is unknown: tried as is) */
    tids = malloc(UW_LIMIT_THREADS * sizeof *tids);
    if (tids == NULL)
        return UW_ERR_NOMEM;
    rc = uw__proc_tasks(pid, tids, UW_LIMIT_THREADS, &n);
    if (rc == 0 || rc == UW_ERR_LIMIT_THREADS) {
        for (i = 0; i < n; i++) {
            if (tids[i] == pid)
                continue;
            (void)uw__proc_thread_state(pid, tids[i], &state); /* '?' when unread */
            if (!uw__proc_state_gone(state)) {
                *id = tids[i];
                break;
            }
        }
        if (i == n)
            rc = rc == 0 ? UW_ERR_NO_PROCESS : rc;
        else
            rc = 0;
    }
    free(tids);
    return rc;
}

int uw_proc_reader_open(uw_proc *p, pid_t pid, uw_reader *r)
{
    uint8_t probe;
    struct iovec local = {&probe, 1};
    struct iovec remote = {NULL, 1};
    ssize_t got;
    pid_t id;
    int rc;

    if (p == NULL || r == NULL || pid <= 0)
        return UW_ERR_INVALID_ARG;
    if (kill(pid, 0) != 0 && errno == ESRCH)
        return UW_ERR_NO_PROCESS;
    if ((rc = uw_proc_read_id(pid, &id)) != 0)
        return rc;
    /* A read of address 0 fails with EFAULT when we may read the process and
     * with EPERM/ESRCH when we may not: a cheap permission probe. */
    got = process_vm_readv(id, &local, 1, &remote, 1, 0);
    if (got < 0 && errno != EFAULT)
        return uw__proc_errno(errno);
    memset(p, 0, sizeof *p);
    p->pid = id;
    p->process = pid;
    p->reader = r;
    p->split_groups = !UW_PROC_STORES_IN_ORDER;
    p->min_addr = uw_proc_min_addr();
    uw_reader_init(r, &uw_proc_ops, p);
    r->group_calls = p->split_groups;
    return 0;
}
