/*
 * threads.c — every interpreter of the runtime and every thread of each,
 * walked in list order (uw_unwind_threads).
 *
 * The roots are read in one vectored call with guesses from the last
 * sample: the interpreter list's head, the last first interpreter's next,
 * id and thread head, and the last first thread's state.  A guess that
 * still holds saves a read per sample; one that does not is read again.
 * Each thread walk reads the next thread state with its own first read
 * (thread.c), so a steady process costs one read per thread.
 * Bounds: UW_LIMIT_INTERPRETERS interpreters, UW_LIMIT_THREADS threads per
 * interpreter; cycles in either list end it (UW_ERR_CYCLE); the sample's
 * `truncated` says why a list was cut.
 */
#include <string.h>

#include "internal/frame.h"
#include "tornstack/error.h"
#include "unwind_int.h"

/* The three words of an interpreter the walk needs: next, id, threads. */
typedef struct uw_interp_words {
    uint64_t next, id, threads;
} uw_interp_words;

/* The runtime's interpreter head, and the guessed first interpreter's words
 * and first thread state (into u->tstate).  Returns 0 or the error of the
 * head's read; *interp_known / *tstate_known say which guesses held. */
static int uw_read_roots(uw_unwinder *u, uint64_t *interp, uw_interp_words *w, int *interp_known,
                         int *tstate_known)
{
    const uw_layout *l = u->l;
    uw_iov root[5];
    size_t nroot = 0;

    root[nroot++] = (uw_iov){u->t.runtime_addr + (uint64_t)l->runtime_interpreters_head, interp,
                             sizeof *interp, 0};
    if (u->last_interp != 0) {
        root[nroot++] = (uw_iov){u->last_interp + (uint64_t)l->interp_next, &w->next, 8, 0};
        root[nroot++] = (uw_iov){u->last_interp + (uint64_t)l->interp_id, &w->id, 8, 0};
        root[nroot++] =
            (uw_iov){u->last_interp + (uint64_t)l->interp_threads_head, &w->threads, 8, 0};
        if (u->last_tstate != 0)
            root[nroot++] = (uw_iov){u->last_tstate, u->tstate, u->tstate_len, 0};
    }
    (void)uw_readv(u->r, root, nroot);
    if (root[0].status != 0)
        return root[0].status;
    *interp_known = nroot >= 4 && *interp == u->last_interp && root[1].status == 0 &&
                    root[2].status == 0 && root[3].status == 0;
    *tstate_known =
        *interp_known && nroot == 5 && root[4].status == 0 && w->threads == u->last_tstate;
    return 0;
}

/* Read the words of interpreter `interp`. */
static int uw_read_interp(uw_unwinder *u, uint64_t interp, uw_interp_words *w)
{
    const uw_layout *l = u->l;
    uw_iov iov[3];

    iov[0] = (uw_iov){interp + (uint64_t)l->interp_next, &w->next, 8, 0};
    iov[1] = (uw_iov){interp + (uint64_t)l->interp_id, &w->id, 8, 0};
    iov[2] = (uw_iov){interp + (uint64_t)l->interp_threads_head, &w->threads, 8, 0};
    return uw_readv(u->r, iov, 3);
}

/* Walk the threads of one interpreter, from thread state ts (already in
 * u->tstate when *tstate_known).  An unreadable thread state ends the
 * list: its `next` is unknown.  Returns 0, or an error that ends the
 * sample (no process, no memory). */
static int uw_walk_threads_of(uw_unwinder *u, uw_sample *s, uint64_t interp, int64_t id,
                              uint64_t ts, int tstate_known)
{
    size_t n_threads = 0;
    uw_brent br;
    int rc;

    uw_brent_init(&br, ts);
    while (ts != 0) {
        if (n_threads == UW_LIMIT_THREADS) {
            s->truncated = UW_ERR_LIMIT_THREADS;
            break;
        }
        if (n_threads > 0 && uw_brent_cycle(&br, ts)) {
            s->truncated = UW_ERR_CYCLE;
            break;
        }
        n_threads++;
        if (!tstate_known) {
            rc = uw_read(u->r, ts, u->tstate, u->tstate_len);
            if (rc != 0) {
                uw_thread_sample *th;
                if (rc == UW_ERR_NO_PROCESS)
                    return rc;
                rc = uw_sample_add_thread(s, ts, interp, id, &th);
                if (rc != 0)
                    return rc;
                th->truncated = UW_ERR_READ_FAULT;
                break;
            }
        }
        rc = uw__idle_walk(u, ts, interp, id, s);
        if (rc != 0)
            return rc;
        ts = uw__tstate_next(u->l, u->tstate);
        tstate_known = u->tstate_next_ok;
        if (tstate_known)
            memcpy(u->tstate, u->tstate_next, u->tstate_len);
    }
    return 0;
}

/* The interpreters from `interp` on (the first one's words in *w when
 * interp_known).  A list that cannot be read further is cut, with its
 * reason in s->truncated; only errors that end the sample are returned. */
static int uw_walk_interps(uw_unwinder *u, uw_sample *s, uint64_t interp, uw_interp_words *w,
                           int interp_known, int tstate_known)
{
    size_t n_interp = 0;
    uw_brent br;
    int rc;

    uw_brent_init(&br, interp);
    while (interp != 0) {
        int64_t id;

        if (n_interp == UW_LIMIT_INTERPRETERS) {
            s->truncated = UW_ERR_LIMIT_INTERPRETERS;
            break;
        }
        if (n_interp > 0 && uw_brent_cycle(&br, interp)) {
            s->truncated = UW_ERR_CYCLE;
            break;
        }
        if (!interp_known) {
            rc = uw_read_interp(u, interp, w);
            if (rc != 0) {
                s->truncated = rc;
                break;
            }
        }
        interp_known = 0;
        memcpy(&id, &w->id, sizeof id);
        if (n_interp == 0)
            u->last_tstate = w->threads;
        n_interp++;
        rc = uw_walk_threads_of(u, s, interp, id, w->threads, tstate_known);
        if (rc != 0)
            return rc;
        tstate_known = 0;
        interp = w->next;
    }
    return 0;
}

/* The roots are read, then every interpreter's threads are walked: the
 * code cache's stamp moves on (every entry must be validated again).  The
 * sample's read counts are this walk's. */
static int uw_unwind_threads_now(uw_unwinder *u, uw_sample *s)
{
    uint64_t interp = 0, c0, b0;
    uw_interp_words w = {0, 0, 0};
    int rc, interp_known = 0, tstate_known = 0;

    uw_sample_reset(s);
    uw__code_cache_begin(&u->cache);
    c0 = u->r->calls;
    b0 = u->r->bytes;
    uw__idle_begin(u); /* run clocks first: before any read of the sample */
    rc = uw__quiet_begin(u, s);
    if (rc == 0) {
        rc = uw_read_roots(u, &interp, &w, &interp_known, &tstate_known);
        if (rc == 0) {
            u->last_interp = interp;
            u->last_tstate = 0;
            rc = uw_walk_interps(u, s, interp, &w, interp_known, tstate_known);
        }
        if (rc == 0)
            uw__quiet_end(u, s);
    } else if (rc == 1) {
        rc = 0; /* nothing ran: the base sample's threads */
    }
    uw__idle_end(u);
    s->calls = u->r->calls - c0;
    s->bytes = u->r->bytes - b0;
    return rc;
}

/* A new sample, with its extra walks (UW_SAMPLE_RETRIES) to spend. */
int uw_unwind_threads(uw_unwinder *u, uw_sample *s)
{
    if (u == NULL || s == NULL)
        return UW_ERR_INVALID_ARG;
    u->walks_left = UW_SAMPLE_RETRIES;
    return uw_unwind_threads_now(u, s);
}

int uw__unwind_threads_again(uw_unwinder *u, uw_sample *s)
{
    if (u == NULL || s == NULL)
        return UW_ERR_INVALID_ARG;
    return uw_unwind_threads_now(u, s);
}
