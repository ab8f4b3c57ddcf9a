/*
 * reader_frozen.c — the page cache of a stopped process (see
 * internal/reader_frozen.h for when it is right and its bounds).
 *
 * The table maps a page number to the page's slot in `data`, or to "cannot
 * be read" (or, sealed, "not in the snapshot").  Entries live while their
 * stamp is the cache's: a reset is a new stamp, not a clear of the table.
 * Open addressing, linear probing; the table has twice as many entries as
 * the cache may hold, so a probe meets an empty entry.  `live` lists this
 * sample's entries in the order they came, so that the pages a sample used
 * become the next one's prediction without a walk over the table.
 */
#define _GNU_SOURCE
#include "internal/reader_frozen.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "internal/addr_sort.h"
#include "internal/uw_assert.h"
#include "tornstack/error.h"

#ifndef UW_PROC_IOV_BATCH
#define UW_PROC_IOV_BATCH 1024
#endif

#define UW_FROZEN_TABLE ((size_t)2 * UW_FROZEN_PAGES)
_Static_assert((UW_FROZEN_TABLE & (UW_FROZEN_TABLE - 1)) == 0,
               "UW_FROZEN_PAGES: a power of two (the table is hashed by masking)");

enum { UW_FZ_BAD = -1, UW_FZ_PENDING = -2, UW_FZ_MISSED = -3 };

/* One entry: a lookup touches one cache line. */
typedef struct uw_fz_entry {
    uint64_t key;     /* page number */
    uint32_t stamp;   /* the entry is live when equal to now */
    int32_t slot;     /* the page's slot in data, or UW_FZ_* */
    uint32_t touched; /* a request of this sample used it */
} uw_fz_entry;

struct uw_frozen {
    uw_fz_entry *t;
    uint32_t now;
    int off;        /* out of memory in this sample: nothing more is served */
    int sealed;     /* the process runs again: a page not held is not read */
    size_t entries; /* live entries: held, unreadable, pending and missed pages */
    size_t missed;  /* requests of this sample that met a page not held, sealed */
    uint64_t *live; /* the live entries' pages, UW_FROZEN_PAGES */
    uint8_t *data;  /* held pages */
    size_t held, data_cap;
    uw_addr_key *miss; /* pages to read: 2 * UW_FROZEN_PAGES (keys, sort scratch) */
    size_t n_miss;
    /* the pages each of the last UW_FROZEN_HISTORY samples used (ring),
     * UW_FROZEN_PAGES each */
    uint64_t *pred[UW_FROZEN_HISTORY];
    size_t n_pred[UW_FROZEN_HISTORY], pred_next;
};

uw_frozen *uw__frozen_new(void)
{
    uw_frozen *f = calloc(1, sizeof *f);
    size_t i;

    if (f == NULL)
        return NULL;
    f->t = calloc(UW_FROZEN_TABLE, sizeof *f->t);
    f->live = malloc((size_t)UW_FROZEN_PAGES * sizeof *f->live);
    f->miss = malloc(2 * (size_t)UW_FROZEN_PAGES * sizeof *f->miss);
    if (f->t == NULL || f->live == NULL || f->miss == NULL) {
        uw__frozen_free(f);
        return NULL;
    }
    for (i = 0; i < UW_FROZEN_HISTORY; i++) {
        f->pred[i] = malloc((size_t)UW_FROZEN_PAGES * sizeof *f->pred[i]);
        if (f->pred[i] == NULL) {
            uw__frozen_free(f);
            return NULL;
        }
    }
    f->now = 1;
    return f;
}

void uw__frozen_free(uw_frozen *f)
{
    if (f == NULL)
        return;
    size_t i;

    free(f->t);
    free(f->live);
    for (i = 0; i < UW_FROZEN_HISTORY; i++)
        free(f->pred[i]);
    free(f->miss);
    free(f->data);
    free(f);
}

void uw__frozen_reset(uw_frozen *f)
{
    if (f == NULL)
        return;
    if (++f->now == 0) { /* the stamp wrapped: clear once */
        memset(f->t, 0, UW_FROZEN_TABLE * sizeof *f->t);
        f->now = 1;
    }
    f->entries = f->held = f->n_miss = f->missed = 0;
    f->off = f->sealed = 0;
}

size_t uw__frozen_pages(const uw_frozen *f)
{
    return f != NULL ? f->held : 0;
}

/* The entry of page pg, or the empty one where it goes. */
static uw_fz_entry *uw_fz_find(const uw_frozen *f, uint64_t pg)
{
    size_t i = (size_t)(pg * 0x9e3779b97f4a7c15ull >> 40) & (UW_FROZEN_TABLE - 1);

    while (f->t[i].stamp == f->now && f->t[i].key != pg)
        i = (i + 1) & (UW_FROZEN_TABLE - 1);
    return &f->t[i];
}

/* Make e (empty) the live entry of page pg with slot s; the caller checked
 * the bound. */
static void uw_fz_add(uw_frozen *f, uw_fz_entry *e, uint64_t pg, int32_t s, int touched)
{
    UW_ASSERT(f->entries < UW_FROZEN_PAGES);
    *e = (uw_fz_entry){pg, f->now, s, (uint32_t)touched};
    f->live[f->entries++] = pg;
    if (s == UW_FZ_PENDING)
        f->miss[f->n_miss++] = (uw_addr_key){pg, 0};
}

/* Room for `more` pages in data (grown by doubling, up to the bound). */
static int uw_fz_room(uw_frozen *f, size_t more)
{
    size_t want = f->held + more, cap = f->data_cap ? f->data_cap : 64;
    uint8_t *d;

    if (want <= f->data_cap)
        return 0;
    while (cap < want)
        cap *= 2;
    if (cap > UW_FROZEN_PAGES)
        cap = UW_FROZEN_PAGES;
    d = realloc(f->data, cap * (size_t)UW_FROZEN_PAGE);
    if (d == NULL)
        return UW_ERR_NOMEM;
    f->data = d;
    f->data_cap = cap;
    return 0;
}

/* Read the pending pages, in address order, neighbours as one span of up
 * to UW_FROZEN_RUN pages, UW_PROC_IOV_BATCH spans a call.  The kernel
 * stops at the first page it cannot read: the pages before it are held,
 * that page is held as unreadable, and the next call starts after it. */
static int uw_fz_fill(uw_frozen *f, pid_t pid, uint64_t *calls)
{
    struct iovec local[UW_PROC_IOV_BATCH], remote[UW_PROC_IOV_BATCH];
    size_t m = f->n_miss, i = 0, j;
    int rc;

    f->n_miss = 0;
    if (m == 0)
        return 0;
    uw__addr_sort(f->miss, f->miss + m, m);
    if ((rc = uw_fz_room(f, m)) != 0) {
        for (j = 0; j < m; j++)
            uw_fz_find(f, f->miss[j].addr)->slot = UW_FZ_BAD;
        return rc;
    }
    /* each pending page's slot: in address order, so a run's slots follow
     * one another as its pages do */
    for (j = 0; j < m; j++)
        uw_fz_find(f, f->miss[j].addr)->slot = (int32_t)(f->held + j);
    while (i < m) {
        size_t k = 0, p = i, got_pages;
        ssize_t got;

        while (p < m && k < UW_PROC_IOV_BATCH) {
            size_t q = p + 1;
            while (q < m && q - p < UW_FROZEN_RUN && f->miss[q].addr == f->miss[q - 1].addr + 1)
                q++;
            local[k].iov_base = f->data + (f->held + p) * (size_t)UW_FROZEN_PAGE;
            local[k].iov_len = (q - p) * (size_t)UW_FROZEN_PAGE;
            remote[k].iov_base = (void *)(uintptr_t)(f->miss[p].addr * UW_FROZEN_PAGE);
            remote[k].iov_len = local[k].iov_len;
            k++;
            p = q;
        }
        (*calls)++;
        got = process_vm_readv(pid, local, (unsigned long)k, remote, (unsigned long)k, 0);
        if (got < 0) {
            int e = uw__proc_errno(errno);
            if (e != UW_ERR_READ_FAULT) {
                for (j = i; j < m; j++)
                    uw_fz_find(f, f->miss[j].addr)->slot = UW_FZ_BAD;
                f->held += m;
                return e;
            }
            got = 0;
        }
        got_pages = (size_t)got / UW_FROZEN_PAGE; /* the kernel copies whole pages here */
        UW_ASSERT(i + got_pages <= p);
        i += got_pages;
        if (i < p) { /* page i could not be read */
            uw_fz_find(f, f->miss[i].addr)->slot = UW_FZ_BAD;
            i++;
        }
    }
    f->held += m;
    return 0;
}

/* Copy piece v out of held pages: its status.  A page with no entry (the
 * bound met while sealed) or not in the snapshot fails like an unreadable
 * one. */
static int uw_fz_serve(const uw_frozen *f, uw_iov *v)
{
    uint64_t a = v->addr;
    size_t done = 0;

    while (done < v->len) {
        uint64_t pg = a / UW_FROZEN_PAGE;
        size_t off = (size_t)(a % UW_FROZEN_PAGE), take = UW_FROZEN_PAGE - off;
        const uw_fz_entry *e = uw_fz_find(f, pg);

        UW_ASSERT(e->stamp != f->now || e->slot != UW_FZ_PENDING);
        if (e->stamp != f->now || e->slot < 0)
            return done == 0 ? UW_ERR_READ_FAULT : UW_ERR_READ_SHORT;
        if (take > v->len - done)
            take = v->len - done;
        memcpy((uint8_t *)v->dst + done, f->data + (size_t)e->slot * UW_FROZEN_PAGE + off, take);
        done += take;
        a += take;
    }
    return 0;
}

/* Two passes: note every page the pieces touch that is not held (a
 * pending entry, so each is read once; sealed, a missed one, never read),
 * read them, then copy the pieces out.  A piece whose bytes would wrap the
 * address space fails alone. */
int uw__frozen_readv(uw_frozen *f, pid_t pid, uw_iov *iov, size_t n, uint64_t *calls)
{
    size_t i;
    int full = 0, rc, missed = 0;

    UW_ASSERT(f != NULL && calls != NULL);
    *calls = 0;
    if (f->off && !f->sealed)
        return 1;
    for (i = 0; i < n && !full && !f->off; i++) {
        uint64_t pg, last;

        if (iov[i].len == 0 || iov[i].addr + iov[i].len - 1 < iov[i].addr)
            continue;
        last = (iov[i].addr + iov[i].len - 1) / UW_FROZEN_PAGE;
        for (pg = iov[i].addr / UW_FROZEN_PAGE; pg <= last; pg++) {
            uw_fz_entry *e = uw_fz_find(f, pg);
            if (e->stamp == f->now) {
                e->touched = 1;
                missed |= e->slot == UW_FZ_MISSED;
                continue;
            }
            missed |= f->sealed;
            if (f->entries == UW_FROZEN_PAGES) {
                full = 1;
                break;
            }
            uw_fz_add(f, e, pg, f->sealed ? UW_FZ_MISSED : UW_FZ_PENDING, 1);
        }
    }
    missed |= f->sealed && (full || f->off);
    f->missed += (size_t)missed;
    rc = uw_fz_fill(f, pid, calls);
    if (rc == UW_ERR_NOMEM) {
        /* its pending pages hold no bytes: serve nothing more this sample */
        f->off = 1;
        if (!f->sealed)
            return 1;
    } else if (rc == UW_ERR_NO_PROCESS || rc == UW_ERR_PERMISSION) {
        for (i = 0; i < n; i++)
            iov[i].status = rc;
        return rc;
    }
    if (full && !f->sealed)
        return 1;
    for (i = 0; i < n; i++) {
        if (iov[i].len == 0)
            iov[i].status = 0;
        else if (iov[i].addr + iov[i].len - 1 < iov[i].addr || f->off)
            iov[i].status = UW_ERR_READ_FAULT;
        else
            iov[i].status = uw_fz_serve(f, &iov[i]);
    }
    return 0;
}

int uw__frozen_prefetch(uw_frozen *f, pid_t pid, uint64_t *calls)
{
    size_t i;
    int rc;

    UW_ASSERT(f != NULL && calls != NULL && !f->sealed);
    *calls = 0;
    size_t h;

    for (h = 0; h < UW_FROZEN_HISTORY; h++) {
        /* the newest first: near the bound, the oldest pages are left */
        const size_t r = (f->pred_next + UW_FROZEN_HISTORY - 1 - h) % UW_FROZEN_HISTORY;
        for (i = 0; i < f->n_pred[r]; i++) {
            uint64_t pg = f->pred[r][i], q;
            for (q = pg >= UW_FROZEN_NEAR ? pg - UW_FROZEN_NEAR : 0;
                 q <= pg + UW_FROZEN_NEAR && f->entries < UW_FROZEN_PAGES; q++) {
                uw_fz_entry *e = uw_fz_find(f, q);
                if (e->stamp != f->now)
                    uw_fz_add(f, e, q, UW_FZ_PENDING, 0);
            }
        }
    }
    rc = uw_fz_fill(f, pid, calls);
    if (rc == UW_ERR_NOMEM) {
        f->off = 1;
        return 0;
    }
    return rc;
}

void uw__frozen_seal(uw_frozen *f)
{
    if (f != NULL)
        f->sealed = 1;
}

size_t uw__frozen_missed(const uw_frozen *f)
{
    return f != NULL ? f->missed : 0;
}

void uw__frozen_predict(uw_frozen *f)
{
    size_t i;

    if (f == NULL)
        return;
    uint64_t *out;
    size_t *n;

    out = f->pred[f->pred_next];
    n = &f->n_pred[f->pred_next];
    f->pred_next = (f->pred_next + 1) % UW_FROZEN_HISTORY;
    *n = 0;
    for (i = 0; i < f->entries; i++) {
        const uw_fz_entry *e = uw_fz_find(f, f->live[i]);
        UW_ASSERT(e->stamp == f->now);
        if (e->touched && e->slot != UW_FZ_BAD) /* an unreadable page would cost a call */
            out[(*n)++] = f->live[i];
    }
}
