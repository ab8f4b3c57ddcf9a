/*
 * discover_lists.c — 3.14+: an interpreter's Tasks from its lists of
 * native Tasks.
 *
 * CPython 3.14 keeps every native Task (_asyncio.Task and its subclasses)
 * on a circular doubly linked list through the Task's task_node: the list
 * of the thread that created it (its head in _PyThreadStateImpl) or, once
 * that thread has exited, the interpreter's own list.  Tasks of other
 * types go to the WeakSet as before (registry.c).  The Tasks found here
 * are candidates, read and checked as Task objects like the registry's
 * (discover.c).
 *
 * Following a list costs a read per node, so the nodes the interpreter's
 * lists held in the last sample are read first, with every head, in one
 * vectored read, and with them the pages those nodes lie on, whole: the
 * Tasks made since sit mostly next to them (an allocator gives a new
 * Task a block of the pools its size class already uses; on a busy 3.14
 * program 96 % of the nodes a round had to read lay on such a page, a
 * median 224 bytes from a remembered one).  Each list is then followed
 * through those copies, and a
 * node not among them is read in a round together with the other lists'
 * next unknown nodes (one vectored read per round).  From a list's second
 * round on, the allocator pool around the node is read with it, and later
 * nodes found in such a window need no round of their own: Tasks made one
 * after another sit in the same pools, in list order.  Rounds stop at
 * UW_LIMIT_TASK_LIST_ROUNDS a sample, over every attempt (task_list_rounds,
 * the Tasks found kept): the
 * next sample reads what this one found at once and goes on.  Every node
 * used was read in this sample: a remembered address that went stale
 * costs a piece, never a wrong node.
 *
 * A list read while the program runs can tear: a node unlinked, freed and
 * reused between two reads.  CPython inserts at the tail and unlinks
 * anywhere (an unlinked node's links are cleared), so a node that stayed
 * on the list while the walk passed is reached by following `next`, as
 * long as every node followed was still linked when it was read.  A node
 * read after it was unlinked has no `next`; one unlinked, freed and reused
 * by a new Task sits at the tail, after nodes the walk has not taken.  So
 * each node must name as its `prev` one of the last UW_TL_BACK nodes taken
 * (the one before it, or an earlier one when those in between were
 * unlinked after the walk read them), or a node being unlinked that still
 * names both (uw_unlinking: a process stopped between the two stores of
 * an unlinking reads so for good).  A node failing this from an older
 * copy (remembered, or in a window) is read again in the next round, as
 * a node without a copy would be.  One failing it when just read was
 * often unlinked after the node before it was read: that node is read
 * again (and, if it was unlinked too, the one before it, back to the
 * ring's oldest), and its new `next` followed if it is still linked after
 * a node taken before it, up to UW_TL_RETAKES times a list per attempt.
 * Every node followed was still linked when the copy followed was read,
 * which is all the argument above needs.  A busy program (500 Tasks on
 * 3.14, Tasks ending all the time) tore most first attempts of a fresh
 * sample some 220 nodes in, and one fresh sample in a hundred ran out of
 * rounds after nine attempts; with these re-reads, 192 of 200 fresh
 * samples needed one attempt, a median of 115 rounds (190 before) and
 * at most 154 (320).  Otherwise every list of the
 * interpreter is followed again from fresh reads, up to
 * UW_TASK_LIST_RETRIES more times, each from the nodes the last one took
 * (one read); the last attempt keeps the Tasks found before the tear and
 * reports task_list_torn.
 *
 * Bounds: UW_LIMIT_TASK_CANDIDATES candidates (candidate_limit: the
 * lists are still followed to their ends, to tell that from a list
 * without one), at most
 * UW_LIMIT_TASK_LIST nodes over all lists of the interpreter
 * (task_list_limit), Brent's algorithm on each list (task_list_cycle), a
 * list per thread (UW_LIMIT_THREADS) plus the interpreter's; rounds end
 * when every list has ended, and each round takes a node of every list it
 * reads, so there are at most as many rounds as nodes; the remembered
 * nodes' pages read whole, UW_TASK_LIST_PAGES at most.  Each thread
 * state's running Task is a candidate too: it is on a list unless a tear
 * hid it.
 */
#include <stdlib.h>
#include <string.h>

#include "internal/addr_sort.h"
#include "internal/rules.h"
#include "tasks_int.h"
#include "tornstack/error.h"

/* Attempts after a torn one.  Each costs one read of the heads and the
 * remembered nodes (it follows the last attempt's nodes at once); the
 * rounds of all attempts together stay within UW_LIMIT_TASK_LIST_ROUNDS.
 * A program creating and finishing Tasks every few microseconds (the busy
 * live test, 500 Tasks on 3.14) tore 11 of 200 warm samples three times
 * running and 2 of 40 fresh ones (no nodes remembered) eight times
 * running; sixteen times running, none of 200 warm and 80 fresh. */
#ifndef UW_TASK_LIST_RETRIES
#define UW_TASK_LIST_RETRIES 16
#endif
/* From a list's second round of an attempt on, the bytes next to an
 * unknown node are read with it, where the Tasks created after it usually
 * sit: an allocator hands out a pool's blocks in address order, or, for
 * memory freed and reused, often in the reverse order.  So the window
 * follows the list's last step: after a step up, the rest of the node's
 * page (mapped, as the node is), then up to UW_TASK_LIST_WINDOW bytes from
 * the node; after a step down, the node's page up to the node, then the
 * bytes before that page, up to UW_TASK_LIST_WINDOW in all.  The second
 * piece may fail alone.  The last UW_TASK_LIST_WINDOWS windows are kept,
 * in a ring.  A list that took at least one node per UW_TASK_LIST_DENSE
 * bytes of window since its last round (Tasks packed side by side, as
 * thousands made in a row are) reads UW_TASK_LIST_WINDOW_MAX bytes next
 * time: 16,384 idle Tasks read cold ran out of rounds with the smaller
 * window, while a busy program's scattered Tasks gain nothing from a
 * larger one and pay for its bytes. */
#define UW_TASK_LIST_WINDOW 32768u
#define UW_TASK_LIST_WINDOW_MAX 65536u
#define UW_TASK_LIST_DENSE 1024u
#define UW_TASK_LIST_WINDOWS 64
#define UW_TASK_LIST_PAGE 4096u

/* Nodes one memo holds: those an attempt took (UW_LIMIT_TASK_LIST at
 * most), and after a torn attempt the node each torn list's tear was
 * named by (a list per thread, and the interpreter's).  Sized for a
 * full attempt whose every list tore: sized for the attempt alone, the
 * memo of a sample that took UW_LIMIT_TASK_LIST nodes had no room for the
 * tear's node, and the sample failed (capacity) instead of reading the
 * lists again (model, small limits: pbt_model, relaxed 3.15). */
#define UW_TL_MEMO_MAX ((size_t)UW_LIMIT_TASK_LIST + (size_t)UW_LIMIT_THREADS + 1)

enum { UW__TL_WALK = 1, UW__TL_PENDING = 2, UW__TL_DONE = 3 };

/* The words of a remembered node that could not be read (no node has
 * both links all ones). */
#define UW_TL_NOT_READ UINT64_MAX

void uw__lists_init(uw__lists *ls)
{
    size_t i;

    memset(ls, 0, sizeof *ls);
    uw__view_init(&ls->lists, sizeof(uw__tlist), (size_t)UW_LIMIT_THREADS + 1);
    /* the first read: every head, the remembered nodes and their pages; a
     * round: three pieces per list (its node and the two pieces of its
     * window) */
    uw__view_init(&ls->iov, sizeof(uw_iov),
                  (size_t)UW_LIMIT_THREADS + 1 + UW_TL_MEMO_MAX + UW_TASK_LIST_PAGES >
                          3 * ((size_t)UW_LIMIT_THREADS + 1)
                      ? (size_t)UW_LIMIT_THREADS + 1 + UW_TL_MEMO_MAX + UW_TASK_LIST_PAGES
                      : 3 * ((size_t)UW_LIMIT_THREADS + 1));
    uw__view_init(&ls->pages, 1, (size_t)UW_TASK_LIST_PAGES * UW_TASK_LIST_PAGE);
    uw__view_init(&ls->page_at, sizeof(uint64_t), UW_TASK_LIST_PAGES);
    uw__view_init(&ls->words, 2 * sizeof(uint64_t), UW_TL_MEMO_MAX);
    uw__view_init(&ls->seen, sizeof(uint64_t), UW_LIMIT_TASK_LIST);
    for (i = 0; i < UW_LIST_MEMO; i++)
        uw__view_init(&ls->memo[i].nodes, sizeof(uint64_t), UW_TL_MEMO_MAX);
    uw__view_init(&ls->pairs, sizeof(uw__ab_pair), UW_LIMIT_AWAITED_BY);
    uw__view_init(&ls->mark, sizeof(uint64_t), UW_LIMIT_TASKS);
    uw__view_init(&ls->win, 1, (size_t)UW_TASK_LIST_WINDOWS * UW_TASK_LIST_WINDOW_MAX);
    uw__view_init(&ls->win_addr, sizeof(uint64_t), 2 * UW_TASK_LIST_WINDOWS);
    ls->adebug = UW_ERR_NOT_FOUND; /* not looked for yet */
}

void uw__lists_free(uw__lists *ls)
{
    size_t i;

    uw__view_free(&ls->lists);
    uw__view_free(&ls->iov);
    uw__view_free(&ls->words);
    uw__view_free(&ls->seen);
    for (i = 0; i < UW_LIST_MEMO; i++)
        uw__view_free(&ls->memo[i].nodes);
    uw__view_free(&ls->pairs);
    uw__view_free(&ls->mark);
    uw__view_free(&ls->win);
    uw__view_free(&ls->win_addr);
    uw__view_free(&ls->pages);
    uw__view_free(&ls->page_at);
}

/* The memo of interpreter interp, a recycled one if it has none. */
static uw__list_memo *uw_memo_for(uw__lists *ls, uint64_t interp)
{
    uw__list_memo *m;
    size_t i;

    for (i = 0; i < UW_LIST_MEMO; i++)
        if (ls->memo[i].interp == interp)
            return &ls->memo[i];
    m = &ls->memo[ls->memo_next];
    ls->memo_next = (ls->memo_next + 1) % UW_LIST_MEMO;
    m->interp = interp;
    m->n = 0;
    return m;
}

/* The lists of interpreter interp: each of its threads', then its own. */
static int uw_lists_of(uw_tasks *t, const uw_sample *s, uint64_t interp, size_t *nl)
{
    uw__lists *ls = &t->ls;
    size_t i;
    int rc;

    *nl = 0;
    for (i = 0; i < s->n_threads; i++) /* the sample's threads span interpreters */
        *nl += s->threads[i].interp == interp;
    rc = uw__view_reserve(&ls->lists, *nl + 1);
    *nl = 0;
    if (rc != 0)
        return rc;
    for (i = 0; i <= s->n_threads; i++) {
        uw__tlist *L = &((uw__tlist *)(void *)ls->lists.p)[*nl];
        if (i < s->n_threads && s->threads[i].interp != interp)
            continue;
        memset(L, 0, sizeof *L);
        L->head = i < s->n_threads
                      ? s->threads[i].tstate + (uint64_t)t->l->tstate_asyncio_tasks_head
                      : interp + (uint64_t)t->l->interp_asyncio_tasks_head;
        (*nl)++;
    }
    return 0;
}

/* The first byte of the page address a lies on. */
static uint64_t uw_page_base(uint64_t a)
{
    return a & ~(uint64_t)(UW_TASK_LIST_PAGE - 1);
}

/* The pages the remembered nodes (m, ascending) lie on, a node's first
 * byte deciding, at most UW_TASK_LIST_PAGES of them (the lowest): their
 * addresses into ls->page_at, room for their bytes in ls->pages.  Returns
 * how many; 0 when no room could be had for them (the walk then goes by
 * rounds alone, as it may). */
static size_t uw_memo_pages(uw_tasks *t, const uw__list_memo *m)
{
    uw__lists *ls = &t->ls;
    const size_t most = m->n < UW_TASK_LIST_PAGES ? m->n : UW_TASK_LIST_PAGES;
    size_t i, n = 0;

    if (most == 0 || uw__view_reserve(&ls->page_at, most) != 0)
        return 0;
    for (i = 0; i < m->n && n < most; i++) {
        uint64_t pg = uw_page_base(UW__U64(&m->nodes)[i]);
        if (pg != 0 && (n == 0 || pg != UW__U64(&ls->page_at)[n - 1]))
            UW__U64(&ls->page_at)[n++] = pg;
    }
    return n > 0 && uw__view_reserve(&ls->pages, n * (size_t)UW_TASK_LIST_PAGE) == 0 ? n : 0;
}

/* One vectored read of every head, every remembered node (m) and the
 * pages they lie on (uw_memo_pages). */
static int uw_read_heads_and_memo(uw_tasks *t, const uw__list_memo *m, size_t nl)
{
    uw__lists *ls = &t->ls;
    uw__tlist *L = (uw__tlist *)(void *)ls->lists.p;
    uw_iov *v;
    size_t i, np;
    int rc;

    ls->n_pages = 0;
    np = uw_memo_pages(t, m);
    if ((rc = uw__view_reserve(&ls->iov, nl + m->n + np)) != 0 ||
        (rc = uw__view_reserve(&ls->words, m->n > 0 ? m->n : 1)) != 0)
        return rc;
    v = UW__IOV(&ls->iov);
    for (i = 0; i < nl; i++)
        v[i] = (uw_iov){L[i].head, L[i].hw, 16, 0};
    for (i = 0; i < m->n; i++)
        v[nl + i] = (uw_iov){UW__U64(&m->nodes)[i], UW__U64(&ls->words) + 2 * i, 16, 0};
    for (i = 0; i < np; i++)
        v[nl + m->n + i] =
            (uw_iov){UW__U64(&ls->page_at)[i], ls->pages.p + i * (size_t)UW_TASK_LIST_PAGE,
                     UW_TASK_LIST_PAGE, 0};
    rc = uw_readv(t->r, UW__IOV(&ls->iov), nl + m->n + np);
    /* the rounds reuse the pieces: a node not read is marked in its words */
    for (i = 0; i < m->n; i++)
        if (v[nl + i].status != 0)
            UW__U64(&ls->words)[2 * i] = UW__U64(&ls->words)[2 * i + 1] = UW_TL_NOT_READ;
    for (i = 0; i < np; i++)
        if (v[nl + m->n + i].status != 0)
            UW__U64(&ls->page_at)[i] |= 1;
    ls->n_pages = np;
    return rc == UW_ERR_NO_PROCESS ? rc : 0;
}

/* The copy of `node` (next, prev) in a page read with the remembered
 * nodes, or NULL (no such page, or a node that runs past its page). */
static const uint64_t *uw_page_words(const uw_tasks *t, uint64_t node)
{
    const uw__lists *ls = &t->ls;
    const uint64_t pg = uw_page_base(node);
    size_t lo = 0, hi = ls->n_pages;

    if (node - pg > UW_TASK_LIST_PAGE - 16)
        return NULL;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if ((UW__U64(&ls->page_at)[mid] & ~(uint64_t)1) < pg)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == ls->n_pages || UW__U64(&ls->page_at)[lo] != pg)
        return NULL; /* not among them, or not read */
    return (const uint64_t *)(const void *)(ls->pages.p + lo * (size_t)UW_TASK_LIST_PAGE +
                                            (size_t)(node - pg));
}

/* The copy of remembered node `node` (next, prev), or NULL. */
static const uint64_t *uw_memo_words(const uw_tasks *t, const uw__list_memo *m, uint64_t node)
{
    size_t i = uw__u64_find(UW__U64(&m->nodes), m->n, node);
    const uint64_t *w;

    if (i == SIZE_MAX)
        return NULL;
    w = UW__U64(&t->ls.words) + 2 * i;
    return w[0] == UW_TL_NOT_READ && w[1] == UW_TL_NOT_READ ? NULL : w;
}

/* The copy of `node` (next, prev) in a window read in this attempt, or
 * NULL; the newest window first (the next node is usually in it). */
static const uint64_t *uw_win_words(const uw_tasks *t, uint64_t node)
{
    const uw__lists *ls = &t->ls;
    size_t n = ls->n_win < UW_TASK_LIST_WINDOWS ? ls->n_win : UW_TASK_LIST_WINDOWS, j;

    for (j = 0; j < n; j++) {
        size_t k = (ls->n_win - 1 - j) % UW_TASK_LIST_WINDOWS;
        uint64_t base = UW__U64(&ls->win_addr)[2 * k], len = UW__U64(&ls->win_addr)[2 * k + 1];
        if (node >= base && len >= 16 && node - base <= len - 16)
            return (const uint64_t *)(const void *)(ls->win.p +
                                                    k * (size_t)UW_TASK_LIST_WINDOW_MAX +
                                                    (size_t)(node - base));
    }
    return NULL;
}

/* Is `node` one of the last UW_TL_BACK nodes list L took? */
static int uw_taken_lately(const uw__tlist *L, uint64_t node)
{
    size_t k;

    for (k = 0; k < UW_TL_BACK && k < L->n_taken; k++)
        if (L->back[(L->n_taken - 1 - k) % UW_TL_BACK] == node)
            return 1;
    return 0;
}

/* Is `node` one of the last UW_TL_BACK nodes list L took before the d-th
 * newest (d = 1: the newest)? */
static int uw_taken_before(const uw__tlist *L, size_t d, uint64_t node)
{
    size_t k;

    for (k = d; k < UW_TL_BACK && k < L->n_taken; k++)
        if (L->back[(L->n_taken - 1 - k) % UW_TL_BACK] == node)
            return 1;
    return 0;
}

/* Is node r, named as `prev` by the node L is about to take, being
 * unlinked right now?  CPython unlinks a node by storing its
 * predecessor's `next` first, then its successor's `prev`: in between,
 * the list read forward is whole (the predecessor skips r), yet the
 * successor still names r.  So r's copy (remembered, in a window or a page:
 * never a read of its own) must still name the node being taken as its
 * `next` and a node L took lately as its `prev` (rule list_unlinking).  A
 * process stopped in that gap stays in it: without this every attempt
 * would call the list torn. */
static int uw_unlinking(const uw_tasks *t, const uw__list_memo *m, const uw__tlist *L, uint64_t r)
{
    const uint64_t *rw = uw_memo_words(t, m, r);

    if (rw == NULL)
        rw = uw_win_words(t, r);
    if (rw == NULL)
        rw = uw_page_words(t, r);
    return rw != NULL && rw[0] == L->cur && rw[1] != r && uw_taken_lately(L, rw[1]);
}

/* Take node L->cur, whose copy is w (next, prev): its `prev` must be the
 * node taken before it.  Its Task becomes a candidate, unless
 * UW_LIMIT_TASK_CANDIDATES candidates are held (then ls->full is set: the
 * lists are still followed to their ends).  No node is taken past
 * UW_LIMIT_TASK_LIST over all lists (the list ends with task_list_limit):
 * after a round, every list that was pending takes its node here, so the
 * check before the round (uw_follow) is not enough. */
static int uw_take(uw_tasks *t, const uw__list_memo *m, uw__tlist *L, const uint64_t *w, size_t *n,
                   size_t *taken)
{
    uw__lists *ls = &t->ls;
    int rc;

    if (L->retake > 0) {
        /* a node taken lately, read again: its new `next` is followed if
         * it is still linked after a node taken before it (the nodes taken
         * after it leave the back ring: they were unlinked meanwhile) */
        size_t d = (size_t)L->retake;
        L->retake = 0;
        if (w[0] == L->tore && w[0] != 0) {
            /* it still leads to the node that tore the list: a tear */
            L->state = UW_ERR_TASK_LIST_TORN;
            return 0;
        }
        if (d == L->n_taken || uw_taken_before(L, d, w[1])) {
            L->n_taken -= d - 1;
            L->cur = w[0];
            L->state = UW__TL_WALK;
            uw_brent_init(&L->br, L->back[(L->n_taken - 1) % UW_TL_BACK]);
            return 0;
        }
        if (w[0] == 0 && w[1] == 0 && d + 1 < UW_TL_BACK && d < L->n_taken &&
            L->retakes < UW_TL_RETAKES) {
            /* unlinked too: the one taken before it */
            L->retakes++;
            L->retake = (int)d + 1;
            L->cur = L->back[(L->n_taken - 1 - d) % UW_TL_BACK];
            L->state = UW__TL_PENDING;
            return 0;
        }
        L->state = UW_ERR_TASK_LIST_TORN;
        L->torn_prev = w[1];
        return 0;
    }
    if (*taken == UW_LIMIT_TASK_LIST) {
        /* a round takes a node of every pending list: each checks the
         * bound it shares with the others when it takes its own */
        L->state = UW_ERR_LIMIT_TASK_LIST;
        return 0;
    }
    if (!uw_taken_lately(L, w[1]) && !(UW_RULE(list_unlinking) && uw_unlinking(t, m, L, w[1]))) {
        if (w != L->pw) {
            /* an older copy (remembered, or a window's): read the node
             * afresh in the next round, as if no copy were at hand */
            L->state = UW__TL_PENDING;
            return 0;
        }
        if (L->retakes < UW_TL_RETAKES) {
            /* read just now, and not after the node taken last: that
             * node's copy may be older than the node's unlinking (a busy
             * program ends Tasks all the time), so it is read again */
            L->retakes++;
            L->retake = 1;
            L->tore = L->cur;
            L->torn_prev = w[1];
            L->cur = L->back[(L->n_taken - 1) % UW_TL_BACK];
            L->state = UW__TL_PENDING;
            return 0;
        }
        L->state = UW_ERR_TASK_LIST_TORN;
        L->torn_prev = w[1];
        return 0;
    }
    if ((rc = uw__put_u64(&ls->seen, *taken, L->cur)) != 0)
        return rc;
    (*taken)++;
    if (*n == UW_LIMIT_TASK_CANDIDATES)
        ls->full = 1;
    else if ((rc = uw__put_u64(&t->sc.cand, (*n)++, L->cur - (uint64_t)t->al->task_node)) != 0)
        return rc;
    L->back[L->n_taken % UW_TL_BACK] = L->cur;
    L->n_taken++;
    L->cur = w[0];
    return 0;
}

/* Follow L through the copies at hand until it ends, fails, or needs a
 * node that was not read yet (UW__TL_PENDING). */
static int uw_follow(uw_tasks *t, uw__tlist *L, const uw__list_memo *m, size_t *n, size_t *taken)
{
    int rc;

    while (L->state == UW__TL_WALK) {
        const uint64_t *w;
        if (L->cur == L->head) {
            L->state = UW__TL_DONE;
            break;
        }
        if (L->cur == 0 || (L->cur & 7) != 0 || L->cur < (uint64_t)t->al->task_node) {
            L->state = UW_ERR_TASK_LIST_TORN; /* unlinked (NULL) or garbage */
            break;
        }
        if (*taken == UW_LIMIT_TASK_LIST) {
            L->state = UW_ERR_LIMIT_TASK_LIST;
            break;
        }
        if (uw_brent_cycle(&L->br, L->cur)) {
            L->state = UW_ERR_TASK_LIST_CYCLE;
            break;
        }
        w = uw_memo_words(t, m, L->cur);
        if (w == NULL && (w = uw_win_words(t, L->cur)) != NULL)
            L->from_win++;
        if (w == NULL)
            w = uw_page_words(t, L->cur);
        if (w == NULL) {
            L->state = UW__TL_PENDING;
            break;
        }
        if ((rc = uw_take(t, m, L, w, n, taken)) != 0)
            return rc;
    }
    return 0;
}

/* Did list L's last step go down (its next node below the one taken
 * last)? */
static int uw_list_goes_down(const uw__tlist *L)
{
    return L->n_taken > 1 && L->cur < L->back[(L->n_taken - 1) % UW_TL_BACK];
}

/* Queue one round: the next unknown node of every pending list, from the
 * second round on with its window (two pieces: the node's page from or up
 * to the node, then the rest of the window).  Returns the pieces queued. */
static size_t uw_round_queue(uw_tasks *t, uw__tlist *L, size_t nl, size_t round)
{
    uw__lists *ls = &t->ls;
    size_t i, np = 0;
    int room =
        round > 0 &&
        uw__view_reserve(&ls->win, UW_TASK_LIST_WINDOWS * (size_t)UW_TASK_LIST_WINDOW_MAX) == 0 &&
        uw__view_reserve(&ls->win_addr, 2 * UW_TASK_LIST_WINDOWS) == 0;

    for (i = 0; i < nl; i++) {
        uint64_t node = L[i].cur, base, edge;
        size_t k, len;
        uint8_t *dst;
        if (L[i].state != UW__TL_PENDING)
            continue;
        /* dense since the last window: a larger one (see the top) */
        if (L[i].win != SIZE_MAX && L[i].from_win >= L[i].win_len / UW_TASK_LIST_DENSE)
            L[i].win_len = UW_TASK_LIST_WINDOW_MAX;
        else if (L[i].win != SIZE_MAX)
            L[i].win_len = UW_TASK_LIST_WINDOW;
        L[i].from_win = 0;
        len = L[i].win_len;
        L[i].win = SIZE_MAX;
        UW__IOV(&ls->iov)[np++] = (uw_iov){node, L[i].pw, 16, 0};
        L[i].win_down = uw_list_goes_down(&L[i]);
        if (!room || node > UINT64_MAX - len || (L[i].win_down && node + 16 < len))
            continue;
        k = ls->n_win++ % UW_TASK_LIST_WINDOWS;
        L[i].win = k;
        dst = ls->win.p + k * (size_t)UW_TASK_LIST_WINDOW_MAX;
        UW__U64(&ls->win_addr)[2 * k + 1] = 0; /* nothing valid until read */
        if (L[i].win_down) {
            /* [base, edge) before the node's page, [edge, node + 16) on it */
            base = node + 16 - len;
            edge = uw_page_base(node);
            if (edge < base)
                edge = base;
            UW__U64(&ls->win_addr)[2 * k] = base;
            UW__IOV(&ls->iov)
            [np++] = (uw_iov){edge, dst + (edge - base), (size_t)(node + 16 - edge), 0};
            UW__IOV(&ls->iov)[np++] = (uw_iov){base, dst, (size_t)(edge - base), 0};
            continue;
        }
        base = node;
        edge = (node | (UW_TASK_LIST_PAGE - 1)) + 1;
        UW__U64(&ls->win_addr)[2 * k] = base;
        UW__IOV(&ls->iov)[np++] = (uw_iov){base, dst, (size_t)(edge - base), 0};
        UW__IOV(&ls->iov)
        [np++] = (uw_iov){edge, dst + (edge - base), (size_t)(base + len - edge), 0};
    }
    return np;
}

/* After a round's read: how much of each window was read (its first piece,
 * or both).  A window below its node whose lower piece failed keeps the
 * node's page only: that part moves to the slot's start, where the window's
 * base (now the page's start) is looked up. */
static void uw_round_windows(uw_tasks *t, const uw__tlist *L, size_t nl)
{
    uw__lists *ls = &t->ls;
    const uw_iov *iov = UW__IOV(&ls->iov);
    size_t i, np = 0;

    for (i = 0; i < nl; i++) {
        uint64_t *wa;
        if (L[i].state != UW__TL_PENDING)
            continue;
        np++;
        if (L[i].win == SIZE_MAX)
            continue;
        wa = &UW__U64(&ls->win_addr)[2 * L[i].win];
        if (iov[np].status != 0) {
            wa[1] = 0;
        } else if (iov[np + 1].status == 0) {
            wa[1] = iov[np].len + iov[np + 1].len;
        } else if (!L[i].win_down) {
            wa[1] = iov[np].len;
        } else {
            uint8_t *slot = ls->win.p + L[i].win * (size_t)UW_TASK_LIST_WINDOW_MAX;
            memmove(slot, iov[np].dst, iov[np].len);
            wa[0] = iov[np].addr;
            wa[1] = iov[np].len;
        }
        np += 2;
    }
}

/* One attempt over the nl lists: the first read, then rounds until every
 * list ended or the sample's UW_LIMIT_TASK_LIST_ROUNDS rounds (*rounds of
 * them used, by every attempt) were read.  Returns an error that ends the
 * sample; each list's state says how it ended. */
static int uw_attempt(uw_tasks *t, const uw__list_memo *m, size_t nl, size_t *n, size_t *taken,
                      size_t *rounds)
{
    uw__lists *ls = &t->ls;
    uw__tlist *L = (uw__tlist *)(void *)ls->lists.p;
    size_t i, np, round;
    int rc;

    if ((rc = uw_read_heads_and_memo(t, m, nl)) != 0)
        return rc;
    for (i = 0; i < nl; i++) {
        /* a thread state that cannot be read has exited: its Tasks moved */
        L[i].state = UW__IOV(&ls->iov)[i].status == 0 ? UW__TL_WALK : UW__TL_DONE;
        L[i].back[0] = L[i].head;
        L[i].n_taken = 1;
        L[i].cur = L[i].hw[0];
        L[i].win = SIZE_MAX;
        L[i].win_len = UW_TASK_LIST_WINDOW;
        L[i].from_win = 0;
        L[i].retake = 0;
        L[i].retakes = 0;
        L[i].tore = 0;
        uw_brent_init(&L[i].br, L[i].head);
    }
    ls->n_win = 0;
    if ((rc = uw__view_reserve(&ls->iov, 3 * nl)) != 0)
        return rc;
    for (round = 0;; round++) {
        for (i = 0, np = 0; i < nl; i++) {
            if ((rc = uw_follow(t, &L[i], m, n, taken)) != 0)
                return rc;
            np += L[i].state == UW__TL_PENDING;
        }
        if (np == 0)
            return 0;
        if (*rounds == UW_LIMIT_TASK_LIST_ROUNDS ||
            uw__sample_reads(t) >= UW_LIMIT_TASK_LIST_READS) {
            for (i = 0; i < nl; i++)
                if (L[i].state == UW__TL_PENDING)
                    L[i].state = UW_ERR_TASK_LIST_ROUNDS;
            return 0;
        }
        (*rounds)++;
        np = uw_round_queue(t, L, nl, round);
        if (uw_readv(t->r, UW__IOV(&ls->iov), np) == UW_ERR_NO_PROCESS)
            return UW_ERR_NO_PROCESS;
        uw_round_windows(t, L, nl);
        for (i = 0, np = 0; i < nl; i++) {
            if (L[i].state != UW__TL_PENDING)
                continue;
            if (UW__IOV(&ls->iov)[np].status != 0) {
                L[i].state = UW_ERR_TASK_LIST_TORN;
            } else {
                L[i].state = UW__TL_WALK;
                if ((rc = uw_take(t, m, &L[i], L[i].pw, n, taken)) != 0)
                    return rc;
            }
            np += L[i].win != SIZE_MAX ? 3 : 1;
        }
    }
}

/* The memo for the next sample (or the next attempt): the nodes taken,
 * sorted, without duplicates. */
static int uw_memo_keep(uw_tasks *t, uw__list_memo *m, size_t taken)
{
    uint64_t *seen = UW__U64(&t->ls.seen), *nodes;
    size_t i, k = 0;
    int rc;

    if (taken == 0) {
        m->n = 0;
        return 0;
    }
    if ((rc = uw__view_reserve(&m->nodes, taken)) != 0)
        return rc;
    uw__u64_sort(seen, taken);
    nodes = UW__U64(&m->nodes);
    for (i = 0; i < taken; i++)
        if (k == 0 || nodes[k - 1] != seen[i])
            nodes[k++] = seen[i];
    m->n = k;
    return 0;
}

/* Remember one more node (a node that is no list node costs a piece of
 * the next read, nothing else). */
static int uw_memo_add(uw__list_memo *m, uint64_t node)
{
    uint64_t *nodes;
    size_t k;
    int rc;

    if ((node & 7) != 0 || (rc = uw__view_reserve(&m->nodes, m->n + 1)) != 0)
        return (node & 7) != 0 ? 0 : rc;
    nodes = UW__U64(&m->nodes);
    for (k = m->n; k > 0 && nodes[k - 1] > node; k--)
        ;
    if (k > 0 && nodes[k - 1] == node)
        return 0;
    memmove(nodes + k + 1, nodes + k, (m->n - k) * sizeof *nodes);
    nodes[k] = node;
    m->n++;
    return 0;
}

int uw__list_candidates(uw_tasks *t, const uw_sample *s, uint64_t interp, size_t *n, int *lerr)
{
    uw__lists *ls = &t->ls;
    uw__list_memo *m = uw_memo_for(ls, interp);
    const size_t n0 = *n;
    size_t nl, taken = 0, i, rounds = 0;
    unsigned attempt;
    int rc, torn = 0;

    *lerr = 0;
    if ((rc = uw_lists_of(t, s, interp, &nl)) != 0 ||
        (rc = uw__view_reserve(&ls->seen, UW_LIMIT_TASK_LIST)) != 0)
        return rc;
    for (attempt = 0;; attempt++) {
        *n = n0;
        taken = 0;
        ls->full = 0;
        if ((rc = uw_attempt(t, m, nl, n, &taken, &rounds)) != 0)
            return rc;
        for (i = 0, torn = 0; i < nl; i++)
            torn |= ((uw__tlist *)(void *)ls->lists.p)[i].state == UW_ERR_TASK_LIST_TORN;
        if (!torn || attempt == UW_TASK_LIST_RETRIES ||
            uw__sample_reads(t) >= UW_LIMIT_TASK_LIST_READS)
            break;
        /* read again: now the nodes of this attempt are remembered too,
         * and each node a tear was named by (uw_unlinking may need it) */
        if ((rc = uw_memo_keep(t, m, taken)) != 0)
            return rc;
        for (i = 0; i < nl; i++) {
            const uw__tlist *L = &((uw__tlist *)(void *)ls->lists.p)[i];
            if (L->state == UW_ERR_TASK_LIST_TORN && L->torn_prev != 0 &&
                (rc = uw_memo_add(m, L->torn_prev)) != 0)
                return rc;
        }
    }
    for (i = 0; i < nl && *lerr == 0; i++) {
        int st = ((uw__tlist *)(void *)ls->lists.p)[i].state;
        if (st < 0)
            *lerr = st;
    }
    if (*lerr == 0 && ls->full)
        *lerr = UW_ERR_LIMIT_CANDIDATES;
    /* the running Tasks the thread states name: on their lists, unless a
     * tear hid them (or they are not native: then the Task check drops
     * them) */
    for (i = 0; i < s->n_threads; i++) {
        uint64_t rt = s->threads[i].running_task;
        const uint64_t *cand = UW__U64(&t->sc.cand);
        size_t j;
        if (s->threads[i].interp != interp || rt == 0)
            continue;
        for (j = n0; j < *n && cand[j] != rt; j++)
            ;
        if (j < *n)
            continue; /* on its list, as it should be: no second candidate */
        if (*n == UW_LIMIT_TASK_CANDIDATES) {
            if (*lerr == 0)
                *lerr = UW_ERR_LIMIT_CANDIDATES;
            break;
        }
        if ((rc = uw__put_u64(&t->sc.cand, (*n)++, rt)) != 0)
            return rc;
    }
    return uw_memo_keep(t, m, taken);
}
