/*
 * epoch.c — the loop epoch: per loop thread, the address of a counter that
 * the asyncio loop changes before it starts any callback.
 *
 * asyncio pops every handle off loop._ready before it calls
 * handle._run(), and a deque counts its mutations (dequeobject.state), so
 * the ready deque's count is the loop's epoch.  The Task walk finds
 * loop._ready once per loop and registers the counter here; the thread
 * walk reads it before and after each walk of that thread (the bracket
 * hook, uw__epoch_bracket), and the chain check reads it around its one
 * read (check.c).  An unchanged count means the loop started no callback
 * in between.  The argument is in docs/tasks.md, "The loop epoch".
 *
 * A loop that calls its callbacks from C (uvloop) has no `_ready` attribute
 * to read; its thread gets an entry with no counter, marked cloop, which
 * also keeps the split learnt from its running Task (split.c).  Its ready
 * deque is a C field of the loop object (uvloop 0.17: offset 96, the only
 * deque among its first fields), found by the types of the objects its
 * first UW_CLOOP_SCAN_WORDS words point to: exactly one must be a
 * `collections.deque`.  Every Task step is queued on it and popped from
 * it, as with asyncio, but plain timer and I/O callbacks run without
 * touching it, so its count (ccounter) brackets no thread walk: it only
 * tells the chain check whether a Task of the loop stepped during its
 * copies (rule check_cloop_epoch; uw__epoch_of_check).
 *
 * Bound: UW_EPOCH_THREADS threads.  A full table gives a newcomer the
 * entry of a thread that no longer runs that entry's loop in the sample
 * (it exited, or its loop stopped), and else none: the threads that hold
 * entries keep them.  Entries once replaced in turn, so with one loop
 * thread more than the bound every sample registered a fresh epoch, and a
 * fresh epoch has every thread walked again (walk.c): the walks' reads
 * doubled each sample, the bound's own cost, while a thread was still
 * walked without its epoch in every sample (the one whose entry had just
 * gone).  Now the same number of threads go without (those past the
 * bound, skipping as UW_SKIP_EPOCH_LIMIT where that matters) and no
 * sample walks twice for it.
 */
#include <string.h>

#include "internal/pyobj.h"
#include "internal/rules.h"
#include "internal/tasks.h"
#include "tasks_int.h"
#include "tornstack/error.h"

/* Entries in use: UW_EPOCH_THREADS, or fewer as the model asks
 * (uw__tasks_limit_epochs). */
static size_t uw_ecap(const uw__epochs *t)
{
    return t->limited && t->limit < UW_EPOCH_THREADS ? t->limit : UW_EPOCH_THREADS;
}

void uw__tasks_limit_epochs(uw_tasks *t, size_t n)
{
    if (t == NULL)
        return;
    memset(&t->epochs, 0, sizeof t->epochs);
    t->epochs.limited = 1;
    t->epochs.limit = n;
}

/* The thread's own entry, else the first free one; UW_ERR_CAPACITY when
 * the table is full (uw_epoch_room frees a stale one first).  Counter and
 * loop 0 free the thread's entry. */
int uw__epoch_set(uw__epochs *t, uint64_t tstate, uint64_t loop, uint64_t counter)
{
    size_t i, free_i = SIZE_MAX;

    if (t == NULL || tstate == 0)
        return UW_ERR_INVALID_ARG;
    for (i = 0; i < uw_ecap(t); i++) {
        if (t->e[i].tstate == tstate) {
            free_i = i;
            break;
        }
        if (t->e[i].tstate == 0 && free_i == SIZE_MAX)
            free_i = i;
    }
    if (counter == 0 && loop == 0) {
        if (free_i != SIZE_MAX && t->e[free_i].tstate == tstate)
            memset(&t->e[free_i], 0, sizeof t->e[free_i]);
        return 0;
    }
    if (free_i == SIZE_MAX)
        return UW_ERR_CAPACITY;
    memset(&t->e[free_i], 0, sizeof t->e[free_i]);
    t->e[free_i].tstate = tstate;
    t->e[free_i].loop = loop;
    t->e[free_i].counter = counter;
    t->e[free_i].cloop = counter == 0;
    return 0;
}

uw__epoch_ent *uw__epoch_cloop(uw__epochs *t, uint64_t tstate, uint64_t loop)
{
    size_t i;

    for (i = 0; t != NULL && tstate != 0 && loop != 0 && i < uw_ecap(t); i++)
        if (t->e[i].tstate == tstate)
            return t->e[i].cloop && t->e[i].loop == loop ? &t->e[i] : NULL;
    return NULL;
}

uw__epoch_ent *uw__epoch_find(uw__epochs *t, uint64_t tstate, uint64_t loop)
{
    size_t i;

    for (i = 0; t != NULL && tstate != 0 && loop != 0 && i < uw_ecap(t); i++)
        if (t->e[i].tstate == tstate)
            return t->e[i].loop == loop && !t->e[i].cloop ? &t->e[i] : NULL;
    return NULL;
}

uint64_t uw__epoch_loop(const uw__epochs *t, uint64_t tstate)
{
    size_t i;

    if (t == NULL || tstate == 0)
        return 0;
    for (i = 0; i < uw_ecap(t); i++)
        if (t->e[i].tstate == tstate)
            return t->e[i].loop;
    return 0;
}

int uw__epoch_get(const uw__epochs *t, uint64_t tstate, uint64_t *loop, uint64_t *counter)
{
    size_t i;

    if (t == NULL || loop == NULL || counter == NULL)
        return UW_ERR_INVALID_ARG;
    for (i = 0; tstate != 0 && i < uw_ecap(t); i++) {
        if (t->e[i].tstate == tstate) {
            *loop = t->e[i].loop;
            *counter = t->e[i].counter;
            return 0;
        }
    }
    return UW_ERR_NOT_FOUND;
}

uint64_t uw__epoch_bracket(void *ctx, uint64_t tstate, uint64_t *tag)
{
    const uw_tasks *t = ctx;
    uint64_t counter = 0;
    size_t i;

    *tag = 0;
    for (i = 0; i < uw_ecap(&t->epochs); i++) {
        if (t->epochs.e[i].tstate == tstate && t->epochs.e[i].counter != 0) {
            *tag = t->epochs.e[i].loop;
            counter = t->epochs.e[i].counter;
        }
    }
    return counter;
}

/* Is `type` collections.deque (its name read)? */
static int uw_is_deque_type(uw_tasks *t, uint64_t type)
{
    char name[32];

    return uw__type_name(&t->pc, type, name, sizeof name) == 0 &&
           strcmp(name, "collections.deque") == 0;
}

/* The counter of `loop`'s ready deque into *counter: 1 when found, 0 when
 * the attribute, its type, or a type other than collections.deque says
 * otherwise. */
static int uw_loop_counter(uw_tasks *t, uint64_t loop, uint64_t *counter)
{
    uint64_t ready = 0, type = 0;

    if (loop != 0 && uw__obj_getattr(&t->pc, loop, t->al->loop_ready, &ready) == 0 &&
        uw__obj_type(&t->pc, ready, &type) == 0 && uw_is_deque_type(t, type)) {
        *counter = ready + (uint64_t)t->al->deque_state;
        return 1;
    }
    return 0;
}

/* Every registered entry, a C loop's included, gets its place among the
 * check's epochs (uw__epochs_for_check). */
_Static_assert(UW_TASK_EPOCHS >= UW_EPOCH_THREADS,
               "UW_TASK_EPOCHS: room for every thread with a registered epoch");

/* Words of a C loop object searched for its ready deque, and distinct
 * types among the objects they point to whose names are read. */
#define UW_CLOOP_SCAN_WORDS 64
#define UW_CLOOP_SCAN_TYPES 16

/* The count of C loop `loop`'s ready deque into *counter: 1 when exactly
 * one of the objects its first UW_CLOOP_SCAN_WORDS words (past the object
 * header) point to is a `collections.deque`, 0 otherwise (nothing read, no
 * deque, or two: which one is the ready queue is then not known).  Reads:
 * the words, one vectored read of the pointed-to objects' types, and the
 * names of at most UW_CLOOP_SCAN_TYPES distinct types. */
static int uw_cloop_counter(uw_tasks *t, uint64_t loop, uint64_t *counter)
{
    uint64_t words[UW_CLOOP_SCAN_WORDS], types[UW_CLOOP_SCAN_WORDS];
    uint64_t named[UW_CLOOP_SCAN_TYPES], deque = 0;
    int is_deque[UW_CLOOP_SCAN_TYPES];
    uw_iov iov[UW_CLOOP_SCAN_WORDS];
    size_t at[UW_CLOOP_SCAN_WORDS], i, j, n = 0, n_named = 0, found = 0;
    const size_t head = (size_t)t->l->object_type + 8;

    if (uw_read(t->r, loop, words, sizeof words) != 0)
        return 0;
    for (i = head / 8; i < UW_CLOOP_SCAN_WORDS; i++) {
        if (words[i] == 0 || (words[i] & 7) != 0 || words[i] == loop ||
            words[i] > UINT64_MAX - (uint64_t)t->l->object_type - 8)
            continue;
        iov[n] = (uw_iov){words[i] + (uint64_t)t->l->object_type, &types[n], 8, 0};
        at[n++] = i;
    }
    if (n == 0)
        return 0;
    (void)uw_readv(t->r, iov, n);
    for (i = 0; i < n; i++) {
        if (iov[i].status != 0 || types[i] == 0)
            continue;
        for (j = 0; j < n_named && named[j] != types[i]; j++)
            ;
        if (j == n_named) {
            if (n_named == UW_CLOOP_SCAN_TYPES)
                return 0; /* too many kinds of field to tell */
            named[j] = types[i];
            is_deque[j] = uw_is_deque_type(t, types[i]);
            n_named++;
        }
        if (is_deque[j]) {
            found++;
            deque = words[at[i]];
        }
    }
    if (found != 1)
        return 0;
    *counter = deque + (uint64_t)t->al->deque_state;
    return 1;
}

/* Does `loop` call its callbacks from C (its type or a base is uvloop's
 * loop)? */
static int uw_loop_in_c(uw_tasks *t, uint64_t loop)
{
    uint64_t type = 0;

    return loop != 0 && uw__obj_type(&t->pc, loop, &type) == 0 &&
           uw__type_kind(t, type) == UW_KIND_CLOOP;
}

/* Is there an entry for thread tstate: its own, a free one, or one held
 * for a thread that does not run that entry's loop in this sample (it
 * exited, or its loop stopped or changed), which is freed for it?  That
 * thread's walk was not bracketed with the entry (a walk of this sample
 * checked against another loop's counter is already distrusted), so
 * freeing it invalidates no walk.  Bound: UW_EPOCH_THREADS entries, each
 * looked up among the sample's threads. */
static int uw_epoch_room(uw__epochs *t, const uw_sample *s, uint64_t tstate)
{
    size_t i, j;

    for (i = 0; i < uw_ecap(t); i++)
        if (t->e[i].tstate == tstate || t->e[i].tstate == 0)
            return 1;
    for (i = 0; i < uw_ecap(t); i++) {
        for (j = 0; j < s->n_threads; j++)
            if (s->threads[j].tstate == t->e[i].tstate &&
                s->threads[j].running_loop == t->e[i].loop)
                break;
        if (j == s->n_threads) {
            memset(&t->e[i], 0, sizeof t->e[i]);
            return 1;
        }
    }
    return 0;
}

/* A walk checked against another loop's counter is distrusted: that loop
 * has stopped, and its deque may be freed and reused.  A thread whose loop
 * changed gets its new loop's counter (or none).  A thread that finds no
 * room (uw_epoch_room) stays without one, and nothing of its loop is read
 * for it. */
int uw__epochs_update(uw_tasks *t, uw_sample *s)
{
    size_t i;
    int fresh = 0;

    for (i = 0; i < s->n_threads; i++) {
        uw_thread_sample *th = &s->threads[i];
        uint64_t have = uw__epoch_loop(&t->epochs, th->tstate), counter = 0;

        if (th->epoch_loop != 0 && th->epoch_loop != th->running_loop && th->truncated == 0)
            th->truncated = UW_ERR_INCOMPLETE;
        if (have == th->running_loop)
            continue;
        if (th->running_loop != 0 && !uw_epoch_room(&t->epochs, s, th->tstate))
            continue;
        if (uw_loop_counter(t, th->running_loop, &counter) &&
            uw__epoch_set(&t->epochs, th->tstate, th->running_loop, counter) == 0)
            fresh++;
        else if (uw_loop_in_c(t, th->running_loop) &&
                 uw__epoch_set(&t->epochs, th->tstate, th->running_loop, 0) == 0) {
            uw__epoch_ent *e = uw__epoch_cloop(&t->epochs, th->tstate, th->running_loop);
            if (e != NULL && UW_RULE(check_cloop_epoch) &&
                uw_cloop_counter(t, th->running_loop, &counter))
                e->ccounter = counter;
        } else
            (void)uw__epoch_set(&t->epochs, th->tstate, 0, 0);
    }
    return fresh;
}

int uw__epoch_crowded(uw_tasks *t, const uw_sample *s, const uw_thread_sample *th)
{
    size_t i, loops = 0;

    if (th->running_loop == 0 || th->epoch_loop != 0 ||
        uw__epoch_cloop(&t->epochs, th->tstate, th->running_loop) != NULL ||
        uw_loop_in_c(t, th->running_loop))
        return 0;
    for (i = 0; i < s->n_threads; i++)
        loops += s->threads[i].running_loop != 0;
    return loops > uw_ecap(&t->epochs);
}

const uw_task_epoch *uw__epoch_of_check(const uw_tasks *t, size_t th_i)
{
    size_t k;

    for (k = 0; k < t->n_ep; k++)
        if (t->ep[k].thread == th_i)
            return &t->ep[k];
    return NULL;
}

const uw_task_epoch *uw__epoch_of(const uw_tasks *t, size_t th_i)
{
    const uw_task_epoch *e = uw__epoch_of_check(t, th_i);

    return e != NULL && !e->cloop ? e : NULL;
}

/* At most UW_TASK_EPOCHS threads, in thread order; a thread whose
 * registered loop is not its running loop has none. */
void uw__epochs_for_check(uw_tasks *t, const uw_sample *s)
{
    size_t i;

    t->n_ep = 0;
    for (i = 0; i < s->n_threads && t->n_ep < UW_TASK_EPOCHS; i++) {
        const uint64_t running = s->threads[i].running_loop;
        uint64_t loop = 0, counter = 0;
        const uw__epoch_ent *c;
        int cloop = 0;
        if (running == 0)
            continue;
        if (uw__epoch_get(&t->epochs, s->threads[i].tstate, &loop, &counter) != 0 ||
            loop != running || counter == 0) {
            /* a C loop's ready deque: the check's only */
            c = uw__epoch_cloop(&t->epochs, s->threads[i].tstate, running);
            if (c == NULL || c->ccounter == 0)
                continue;
            counter = c->ccounter;
            cloop = 1;
        }
        memset(&t->ep[t->n_ep], 0, sizeof t->ep[0]);
        t->ep[t->n_ep].thread = i;
        t->ep[t->n_ep].cloop = cloop;
        t->ep[t->n_ep].counter = counter;
        t->ep[t->n_ep].len_addr =
            counter - (uint64_t)t->al->deque_state + (uint64_t)t->al->deque_len;
        t->n_ep++;
    }
}
