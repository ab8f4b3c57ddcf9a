/*
 * snapshot.c — the chain levels of a sample served from one read of the
 * pages the last sample's levels read.
 *
 * The levels read every Task's next coroutine, level after level, each
 * level a vectored read, and each piece costs the kernel a walk of its
 * pages: a page holding coroutines of three levels is walked three times,
 * and the awaitees' slots on it once more.  On a busy program of 500
 * Tasks the levels walked some 1,900 pages a warm sample, of only about
 * 400 distinct ones.  Coroutines are allocated from the pools the program
 * already uses, so the pages the last sample's levels read hold nearly
 * every coroutine this sample's will (on that program 99 % of the pieces,
 * a new coroutine most often beside an old one).
 *
 * So the first chain read of a sample goes through a reader of its own:
 * at its start, the pages the levels of the last sample read are read in
 * one vectored read (runs of neighbouring pages as one piece each), and
 * every piece of the levels that lies on pages so read is served from
 * those bytes; the others are read for real, through the sample's reader,
 * and their pages noted for the next sample.
 *
 * Why the chains may be read so (docs/tasks.md, "Reading the chains from
 * one read"): the chain read is never trusted for an instant.  The check
 * reads every piece a Task depends on again, twice, between two readings
 * of the loop's epoch, after the chains; a Task is kept only when both
 * copies equal what the chains saw.  All the chains need of their read's
 * time is that it comes after the thread walks (a Task that reads as
 * running is looked for on the stack they walked) and before the check:
 * the snapshot is read when the chains begin, after the walks.  Within
 * the levels nothing depends on which piece was read first: a level's
 * pieces were read in any order already (reader.h), and a piece served
 * from the snapshot may now predate one of an earlier level read for
 * real; the chain so read may be no chain that ever was, and the check
 * finds it changed, as it finds a chain read over several levels while
 * the Task stepped.  The snapshot serves no other read: the thread walks,
 * the code objects, the names, the check and recovery read for real.
 *
 * Bounds: UW_SNAP_PAGES pages noted and read a sample (the first noted;
 * pieces on others are read for real), in as many pieces at most (runs of
 * up to UW_SNAP_RUN neighbours); a piece served is copied from
 * the pages it lies on, wholly inside them (a piece of more than
 * UW_SNAP_PIECE_MAX bytes is read for real).  The snapshot is dropped
 * (every piece read for real) when its memory cannot be had.
 */
#include <stdlib.h>
#include <string.h>

#include "internal/addr_sort.h"
#include "internal/uw_assert.h"
#include "tasks_int.h"
#include "tornstack/error.h"

#define UW_SNAP_PAGE 4096u
#define UW_SNAP_RUN 16u /* pages read as one piece at most */
/* Hash slots of the page sets: a power of two, four per page. */
#define UW_SNAP_SLOTS (4 * (size_t)UW_SNAP_PAGES)
/* A piece larger than this is not served (a coroutine's is some 500
 * bytes). */
#define UW_SNAP_PIECE_MAX (4 * UW_SNAP_PAGE)
/* A page's value in `read` while its read is pending (uw_snap_grow), and
 * once it failed (never served, never grown again this sample). */
#define UW_SNAP_PENDING 0x80000000u
#define UW_SNAP_FAILED 0xffffffffu
/* The status a piece to be served after the request's read holds
 * meanwhile (no error code of the project's is positive). */
#define UW_SNAP_LATER 1

_Static_assert(UW_SNAP_PAGES >= 1 && (UW_SNAP_PAGES & (UW_SNAP_PAGES - 1)) == 0,
               "UW_SNAP_PAGES: a power of two (the page sets are hashed by masking)");

/* A set of pages, each with a value: open addressing, the slots in use
 * stamped `now` (emptied by moving `now` on), at most UW_SNAP_PAGES
 * pages, so a probe ends. */
typedef struct uw_snap_set {
    uint64_t key[UW_SNAP_SLOTS];
    uint32_t val[UW_SNAP_SLOTS];
    uint32_t stamp[UW_SNAP_SLOTS], now;
} uw_snap_set;

struct uw__snap {
    uw_reader self; /* what the levels read through */
    uw_reader *base;
    /* the snapshot: pages[0, n) in address order, their bytes in data,
     * each page read to its index in `read` */
    uint64_t pages[UW_SNAP_PAGES];
    size_t n;
    uint8_t *data;
    uw_snap_set read;
    /* pages noted for the next sample, distinct (each in `seen`) */
    uint64_t noted[UW_SNAP_PAGES];
    size_t n_noted;
    uw_snap_set seen;
    uw_iov runs[UW_SNAP_PAGES]; /* a run per page at most */
    uw_iov *miss;               /* the pieces read for real, and where they came from */
    size_t *miss_at, miss_cap;
    uw__snap_stats stats; /* this sample's */
    int no_grow;          /* a page added could not be read: add none till the next take */
};

/* The slot holding page in set s, or the empty slot where it goes. */
static size_t uw_set_slot(const uw_snap_set *s, uint64_t page)
{
    size_t h = (size_t)((page * 0x9e3779b97f4a7c15ull) >> 40) & (UW_SNAP_SLOTS - 1);

    while (s->stamp[h] == s->now && s->key[h] != page)
        h = (h + 1) & (UW_SNAP_SLOTS - 1);
    return h;
}

static int uw_set_used(const uw_snap_set *s, size_t h)
{
    return s->stamp[h] == s->now;
}

static void uw_set_put(uw_snap_set *s, size_t h, uint64_t page, uint32_t val)
{
    s->stamp[h] = s->now;
    s->key[h] = page;
    s->val[h] = val;
}

static void uw_set_empty(uw_snap_set *s)
{
    if (++s->now == 0) {
        memset(s->stamp, 0, sizeof s->stamp);
        s->now = 1;
    }
}

/* The pages [*first, *last] a piece of len bytes at addr lies on: 1, or 0
 * for a piece the snapshot never serves (empty, wrapping, or more than
 * UW_SNAP_PIECE_MAX bytes). */
static int uw_snap_pages_of(uint64_t addr, size_t len, uint64_t *first, uint64_t *last)
{
    if (len == 0 || len > UW_SNAP_PIECE_MAX || addr + len < addr)
        return 0;
    *first = addr / UW_SNAP_PAGE;
    *last = (addr + len - 1) / UW_SNAP_PAGE;
    return 1;
}

/* The snapshot's index of page, or -1 (not noted, not read, or pending
 * in the request being read). */
static long uw_snap_find(const uw__snap *sn, uint64_t page)
{
    const size_t h = uw_set_slot(&sn->read, page);

    if (!uw_set_used(&sn->read, h) || (sn->read.val[h] & UW_SNAP_PENDING) != 0)
        return -1;
    return (long)sn->read.val[h];
}

/* Does piece v lie on pages all pending in this request (uw_snap_grow),
 * in a row?  Then it is served once they are read. */
static int uw_snap_pending(const uw__snap *sn, const uw_iov *v)
{
    uint64_t first, last, p;
    uint32_t i0 = 0;

    if (!uw_snap_pages_of(v->addr, v->len, &first, &last))
        return 0;
    for (p = first; p <= last; p++) {
        const size_t h = uw_set_slot(&sn->read, p);
        const uint32_t val = sn->read.val[h];
        if (!uw_set_used(&sn->read, h) || val == UW_SNAP_FAILED || (val & UW_SNAP_PENDING) == 0)
            return 0;
        if (p == first)
            i0 = val;
        else if (val != i0 + (uint32_t)(p - first))
            return 0;
    }
    return 1;
}

/* Note the pages of [addr, addr + len) for the next sample (until
 * UW_SNAP_PAGES are noted).  At most UW_SNAP_PIECE_MAX bytes, so a few
 * pages a piece. */
static void uw_snap_note(uw__snap *sn, uint64_t addr, size_t len)
{
    uint64_t p, first, last;

    if (!uw_snap_pages_of(addr, len, &first, &last))
        return; /* never served */
    for (p = first; p <= last && sn->n_noted < UW_SNAP_PAGES; p++) {
        const size_t h = uw_set_slot(&sn->seen, p);
        if (uw_set_used(&sn->seen, h))
            continue;
        uw_set_put(&sn->seen, h, p, 0);
        sn->noted[sn->n_noted++] = p;
    }
}

/* Serve piece v from the snapshot when every page it lies on was read:
 * 1 (v filled), else 0. */
static int uw_snap_serve(const uw__snap *sn, uw_iov *v)
{
    uint64_t first, last, p;
    long i0;

    if (!uw_snap_pages_of(v->addr, v->len, &first, &last))
        return 0;
    if ((i0 = uw_snap_find(sn, first)) < 0)
        return 0;
    for (p = first + 1; p <= last; p++)
        if (uw_snap_find(sn, p) != i0 + (long)(p - first))
            return 0;
    memcpy(v->dst, sn->data + (size_t)i0 * UW_SNAP_PAGE + (size_t)(v->addr % UW_SNAP_PAGE), v->len);
    v->status = 0;
    return 1;
}

/* Can piece v be read as whole pages, added to the snapshot (its pages
 * all new to it, and room for them)?  Then its pages are queued for the
 * read at miss[*m] on, marked pending in `read` (an index with the top
 * bit set: not served until read), and 1 is returned. */
static int uw_snap_grow(uw__snap *sn, const uw_iov *v, size_t *m)
{
    uint64_t first, last, p;

    if (!uw_snap_pages_of(v->addr, v->len, &first, &last))
        return 0;
    if (sn->n + (size_t)(last - first + 1) > UW_SNAP_PAGES)
        return 0;
    for (p = first; p <= last; p++)
        if (uw_set_used(&sn->read, uw_set_slot(&sn->read, p)))
            return 0;
    for (p = first; p <= last; p++) {
        uw_set_put(&sn->read, uw_set_slot(&sn->read, p), p, (uint32_t)sn->n | UW_SNAP_PENDING);
        sn->pages[sn->n] = p;
        sn->miss_at[*m] = SIZE_MAX; /* a page, not a piece */
        sn->miss[(*m)++] =
            (uw_iov){p * UW_SNAP_PAGE, sn->data + sn->n * UW_SNAP_PAGE, UW_SNAP_PAGE, 0};
        sn->n++;
    }
    return 1;
}

/* The reader the levels use: pieces on the snapshot's pages are served,
 * the others read through the sample's reader in one request (its
 * groups' order kept: a piece served was read before every piece read
 * now).  A request of one group reads a missed piece as its whole pages
 * instead, added to the snapshot (uw_snap_grow): a new coroutine most
 * often has its awaitee, made in the same step, on its page, and the next
 * level then costs no call.  That is the snapshot's own argument: a piece
 * served was read at some moment after the thread walks and before the
 * check, in no order the chains rely on.  Pieces on pages pending in this
 * request are served once it is read.  The sample's reader counts the
 * calls and bytes really read (the snapshot's and these), so *calls is 0.
 * A page that cannot be read (a piece on it may be: the unit tests'
 * fabricated processes map regions, not pages) stops the adding
 * until the next snapshot, and its pieces are read as themselves.
 * Bounds: the snapshot's UW_SNAP_PAGES pages in all; a piece that does
 * not fit is read as itself. */
static int uw_snap_readv(void *ctx, uw_iov *iov, size_t n, const size_t *end, size_t n_groups,
                         uint64_t *calls)
{
    uw__snap *sn = ctx;
    const size_t cap = n + UW_SNAP_PIECE_MAX / UW_SNAP_PAGE * n;
    size_t i, m = 0, g = 0, me[UW_READV_GROUPS_MAX], k, later = 0;

    UW_ASSERT(n_groups >= 1 && n_groups <= UW_READV_GROUPS_MAX);
    *calls = 0;
    if (sn->miss_cap < cap) {
        uw_iov *mi = realloc(sn->miss, cap * sizeof *mi);
        size_t *at;
        if (mi != NULL)
            sn->miss = mi;
        at = mi != NULL ? realloc(sn->miss_at, cap * sizeof *at) : NULL;
        if (at == NULL) /* no room to tell served from not: all for real */
            return uw_readv_groups(sn->base, iov, n, end, n_groups);
        sn->miss_at = at;
        sn->miss_cap = cap;
    }
    for (i = 0; i < n; i++) {
        while (g < n_groups && i >= end[g])
            me[g++] = m;
        uw_snap_note(sn, iov[i].addr, iov[i].len);
        if (uw_snap_serve(sn, &iov[i])) {
            sn->stats.served++;
            continue;
        }
        sn->stats.missed++;
        if (n_groups == 1 && !sn->no_grow &&
            (uw_snap_pending(sn, &iov[i]) || uw_snap_grow(sn, &iov[i], &m))) {
            iov[i].status = UW_SNAP_LATER;
            later++;
            continue;
        }
        sn->miss_at[m] = i;
        sn->miss[m++] = iov[i];
    }
    while (g < n_groups)
        me[g++] = m;
    if (m == 0)
        return 0;
    (void)uw_readv_groups(sn->base, sn->miss, m, me, n_groups);
    for (k = 0; k < m; k++) {
        if (sn->miss_at[k] != SIZE_MAX) {
            iov[sn->miss_at[k]].status = sn->miss[k].status;
            continue;
        }
        /* a page: served from now on if read, else left out of the set */
        {
            const uint64_t p = sn->miss[k].addr / UW_SNAP_PAGE;
            const size_t h = uw_set_slot(&sn->read, p);
            const uint32_t at = (uint32_t)((uint8_t *)sn->miss[k].dst - sn->data) / UW_SNAP_PAGE;
            UW_ASSERT(uw_set_used(&sn->read, h) && sn->read.val[h] == (at | UW_SNAP_PENDING));
            if (sn->miss[k].status == 0) {
                sn->read.val[h] = at;
                sn->stats.pages_grown++;
            } else {
                sn->read.val[h] = UW_SNAP_FAILED;
                sn->no_grow = 1;
            }
        }
    }
    /* Serve what waited for the pages; a piece a page of which could not
     * be read is read as itself, all such in one more request (a page may
     * fail where a piece on it does not, in a process mapped by regions). */
    m = 0;
    for (i = 0; i < n && later > 0; i++) {
        if (iov[i].status != UW_SNAP_LATER)
            continue;
        later--;
        if (uw_snap_serve(sn, &iov[i]))
            continue;
        sn->miss_at[m] = i;
        sn->miss[m++] = iov[i];
    }
    if (m > 0) {
        me[0] = m;
        (void)uw_readv_groups(sn->base, sn->miss, m, me, 1);
    }
    for (k = 0; k < m; k++)
        iov[sn->miss_at[k]].status = sn->miss[k].status;
    /* as a reader answers: its pieces' first error (a page's is none) */
    for (i = 0; i < n; i++)
        if (iov[i].status != 0)
            return iov[i].status;
    return 0;
}

static int uw_snap_read(void *ctx, uint64_t addr, void *dst, size_t len)
{
    uw_iov one = {addr, dst, len, 0};
    const size_t end = 1;
    uint64_t calls = 0;
    int rc = uw_snap_readv(ctx, &one, 1, &end, 1, &calls);

    return rc != 0 ? rc : one.status;
}

static const uw_reader_ops uw_snap_ops = {uw_snap_read, uw_snap_readv, NULL, NULL};

/* Read the pages noted by the last sample (address order, runs of
 * neighbours as one piece), index those read, and start noting anew. */
static void uw_snap_take(uw__snap *sn)
{
    size_t i, k = 0, nr = 0;

    memset(&sn->stats, 0, sizeof sn->stats);
    sn->no_grow = 0;
    sn->n = sn->stats.pages = sn->n_noted;
    memcpy(sn->pages, sn->noted, sn->n * sizeof *sn->pages);
    sn->n_noted = 0;
    uw_set_empty(&sn->seen);
    uw_set_empty(&sn->read);
    uw__u64_sort(sn->pages, sn->n);
    for (i = 0; i < sn->n; i++) {
        if (nr > 0 && sn->pages[i] == sn->pages[i - 1] + 1 &&
            sn->runs[nr - 1].len < UW_SNAP_RUN * UW_SNAP_PAGE) {
            sn->runs[nr - 1].len += UW_SNAP_PAGE;
            continue;
        }
        UW_ASSERT(nr < sizeof sn->runs / sizeof sn->runs[0]);
        sn->runs[nr++] =
            (uw_iov){sn->pages[i] * UW_SNAP_PAGE, sn->data + i * UW_SNAP_PAGE, UW_SNAP_PAGE, 0};
    }
    if (nr > 0)
        (void)uw_readv(sn->base, sn->runs, nr);
    for (i = 0; i < sn->n; i++) {
        uint64_t a = sn->pages[i] * UW_SNAP_PAGE;
        while (!(sn->runs[k].addr <= a && a - sn->runs[k].addr < sn->runs[k].len))
            k++;
        if (sn->runs[k].status != 0)
            continue; /* not served: its pieces are read for real */
        uw_set_put(&sn->read, uw_set_slot(&sn->read, sn->pages[i]), sn->pages[i], (uint32_t)i);
        sn->stats.pages_read++;
    }
}

/* The snapshot in *slot, made at its first use: NULL when its memory
 * cannot be had. */
static uw__snap *uw_snap_get(uw_tasks *t, uw__snap **slot)
{
    uw__snap *sn = *slot;

    UW_ASSERT(t->r != NULL && (sn == NULL || t->r != &sn->self));
    if (sn == NULL) {
        sn = calloc(1, sizeof *sn);
        if (sn == NULL)
            return NULL;
        sn->data = malloc((size_t)UW_SNAP_PAGES * UW_SNAP_PAGE);
        if (sn->data == NULL) {
            free(sn);
            return NULL;
        }
        sn->read.now = sn->seen.now = 1;
        *slot = sn;
    }
    return sn;
}

/* Read sn's noted pages and let t->r read through it. */
static void uw_snap_start(uw_tasks *t, uw__snap *sn)
{
    sn->base = t->r;
    uw_reader_init(&sn->self, &uw_snap_ops, sn);
    uw_snap_take(sn);
    t->r = &sn->self;
}

int uw__snap_begin(uw_tasks *t)
{
    uw__snap *sn = uw_snap_get(t, &t->snap);

    if (sn == NULL)
        return UW_ERR_NOMEM;
    uw_snap_start(t, sn);
    return 0;
}

/* A recovery round's own snapshot (recover.c reads the chains of the
 * Tasks it rechecks again, from their roots, a vectored read for each
 * coroutine level and one for the awaitees found: on the busy program,
 * some 15 calls a round, for a few kilobytes).  The pages it reads are,
 * for the sample's first round, those of the chains the Tasks marked
 * recheck were last read with (each coroutine's window, its awaitee's
 * slot, the instruction its await is told by, the chain's end), and for
 * a later round those the last round's levels asked for: a Task that
 * stepped keeps its outer coroutines, and a new inner one most often
 * comes from the pool, and the page, of the one it replaced.  It is a
 * snapshot of its own, so the sample's notes for the next sample stay as
 * they are.  Why a round's chains may be read so is the argument above:
 * nothing trusts the chain read for an instant; the round's check reads
 * every piece again, twice, after it.  The pages are read when the round's
 * chains begin, after its read of the Tasks' objects, as those levels
 * were.  Bounds: UW_SNAP_PAGES pages noted, as above (the first noted are
 * read, the rest read for real); a Task's chain is its range of the
 * chain frames. */
int uw__snap_round_begin(uw_tasks *t, int first)
{
    const size_t win = uw__gen_window(t->l), fs = t->sc.cf_bytes.elem;
    uw__snap *sn = uw_snap_get(t, &t->snap_round);
    size_t i, k;

    if (sn == NULL)
        return UW_ERR_NOMEM;
    if (first) {
        sn->n_noted = 0;
        uw_set_empty(&sn->seen);
        for (i = 0; i < t->n_work; i++) {
            const uw_task_work *w = &t->work[i];
            if (!w->recheck)
                continue;
            UW_ASSERT(w->n_cf == 0 || w->first_cf + w->n_cf <= t->n_cf);
            for (k = 0; k < w->n_cf; k++) {
                const size_t c = w->first_cf + k;
                const uint64_t slot = UW__U64(&t->sc.cf_slot)[c];
                uw_snap_note(sn, uw__frame_gen_addr(t->l, UW__U64(&t->sc.cf_addr)[c]), win);
                if (slot != 0)
                    uw_snap_note(sn, slot - 8, 24); /* the slot and the one below */
                uw_snap_note(sn, uw__frame_instr(t->l, t->sc.cf_bytes.p + c * fs), 2);
            }
            if (w->end_obj != 0)
                uw_snap_note(sn, w->end_obj, 8 + (size_t)t->l->object_type);
        }
    }
    uw_snap_start(t, sn);
    return 0;
}

void uw__snap_end(uw_tasks *t)
{
    if (t->snap != NULL && t->r == &t->snap->self)
        t->r = t->snap->base;
    else if (t->snap_round != NULL && t->r == &t->snap_round->self)
        t->r = t->snap_round->base;
}

void uw__snap_stats_of(const uw_tasks *t, uw__snap_stats *out)
{
    if (t->snap == NULL)
        memset(out, 0, sizeof *out);
    else
        *out = t->snap->stats;
}

static void uw_snap_free_one(uw__snap **slot)
{
    if (*slot == NULL)
        return;
    free((*slot)->data);
    free((*slot)->miss);
    free((*slot)->miss_at);
    free(*slot);
    *slot = NULL;
}

void uw__snap_free(uw_tasks *t)
{
    uw_snap_free_one(&t->snap);
    uw_snap_free_one(&t->snap_round);
}
