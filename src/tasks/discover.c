/*
 * discover.c — which Tasks a sample has.
 *
 * Per thread, its running loop (3.11: tstate->dict holds a
 * _RunningLoopHolder whose rl_loop is the loop; 3.12: the loop itself; 3.13:
 * read with the thread state by the thread walk).  Per interpreter with a
 * running loop, once: its registry sets' keys (registry.c, or the set named
 * by uw_tasks_set_root), dead weakrefs and dummies dropped, as candidate
 * Task addresses; then each candidate read as a Task object and kept when
 * its type is a Task (types.c), it is pending, and its loop runs on a
 * thread of the same interpreter.  This is what asyncio.all_tasks()
 * returns.  Everything is read with one vectored call per step.
 *
 * From 3.14 the native Tasks come from the lists of discover_lists.c,
 * first, and the registry's WeakSet adds only what has a Task's type.
 *
 * Bounds: UW_LIMIT_TASK_CANDIDATES entries per registry set and
 * candidates per interpreter (candidate_limit: those past it are not
 * read); UW_LIMIT_TASKS Tasks kept per sample, over all interpreters,
 * counted among the candidates that are pending Tasks of a running loop
 * (task_limit: the rest are not kept).  Candidates are read at most
 * UW_DISCOVER_BATCH to a vectored read.  The
 * Tasks of interpreters past the registry cache (UW_REGISTRY_CACHE
 * interpreters with a running loop in one sample) are not read
 * (registry_limit), nor those of a registry hidden by a bound
 * (its registry.c bound, e.g. dict_limit), nor hook records past
 * UW_LIMIT_LINK_RECORDS (link_limit).
 */
#include <stdlib.h>
#include <string.h>

#include "internal/addr_sort.h"
#include "internal/pyobj.h"
#include "internal/uw_assert.h"
#include "tasks_int.h"
#include "tornstack/error.h"

/* The slot remembering where thread dict `dict` keeps its running loop:
 * its own, else the next one in turn, emptied. */
static uw_dict_slot *uw_loop_slot(uw_tasks *t, uint64_t dict)
{
    uw_dict_slot *sl;
    size_t i;

    for (i = 0; i < UW_LOOP_SLOTS; i++)
        if (t->loop_slot[i].dict == dict)
            return &t->loop_slot[i];
    sl = &t->loop_slot[t->loop_slot_next];
    t->loop_slot_next = (t->loop_slot_next + 1) % UW_LOOP_SLOTS;
    memset(sl, 0, sizeof *sl);
    return sl;
}

/* 3.11/3.12: each thread's running loop from its thread-state dict, the
 * entry's place remembered (pyobj.h, uw__dict_get_str_at): a warm sample
 * reads the dict header, the entry and 3.11's holder in one vectored read
 * instead of a lookup of five reads and the holder's. */
int uw__running_loops(uw_tasks *t, uw_sample *s)
{
    size_t i;
    int rc;

    if (t->al->running_loop_key == NULL)
        return 0; /* 3.13: read with the thread state */
    for (i = 0; i < s->n_threads; i++) {
        uw_thread_sample *th = &s->threads[i];
        uint64_t v = 0, loop = 0;
        th->running_loop = 0;
        if (th->tstate_dict == 0)
            continue;
        rc = uw__dict_get_str_at(&t->pc, th->tstate_dict, t->al->running_loop_key,
                                 uw_loop_slot(t, th->tstate_dict), t->al->holder_loop, &v, &loop);
        if (rc == UW_ERR_NOMEM)
            return rc; /* not "no loop": the sample fails */
        if (rc != 0 || v == t->t->types.none)
            continue; /* no loop, or the holder unreadable */
        if (t->al->holder_loop >= 0)
            v = loop;
        th->running_loop = v == t->t->types.none ? 0 : v;
    }
    return 0;
}

/* The slot of sc.work_slot where a lookup of addr begins. */
static size_t uw_task_slot(const uw_tasks *t, uint64_t addr)
{
    return (size_t)((addr >> 4) * 0x9e3779b97f4a7c15ull >> 32) & t->work_mask;
}

/* The index of the sample's Tasks by address, made once their entries
 * are (sc.work_addr): a busy sample looks up thousands of links, awaiters
 * and gather children, each a binary search over the work list before (a
 * few percent of a busy sample).  Open addressing over the least power of
 * two of slots at least twice the Tasks (at most UW_TASK_SLOTS_MAX), so at
 * most half are used and every probe ends at an empty slot.  Task
 * addresses are distinct (discovery keeps one of each); should garbage
 * memory give one twice, the index is not used (work_mask 0) and lookups
 * search the list as before, finding the same entry they always did. */
int uw__task_index(uw_tasks *t)
{
    const uint64_t *addr = UW__U64(&t->sc.work_addr);
    size_t slots = 2, i;
    uint32_t *slot;
    int rc;

    t->work_mask = 0;
    while (slots < 2 * t->n_work_addr)
        slots *= 2;
    if ((rc = uw__view_reserve(&t->sc.work_slot, slots)) != 0)
        return rc;
    slot = (uint32_t *)(void *)t->sc.work_slot.p;
    memset(slot, 0, slots * sizeof *slot);
    t->work_mask = slots - 1;
    for (i = 0; i < t->n_work_addr; i++) {
        size_t h = uw_task_slot(t, addr[i]);
        while (slot[h] != 0) {
            if (addr[slot[h] - 1] == addr[i]) {
                t->work_mask = 0; /* the same address twice */
                return 0;
            }
            h = (h + 1) & t->work_mask;
        }
        slot[h] = (uint32_t)(i + 1);
    }
    return 0;
}

/* The entry of the Task at addr, or -1: through the index (uw__task_index)
 * when it was made, else a binary search over the addresses alone. */
int64_t uw__task_find(const uw_tasks *t, uint64_t addr)
{
    const uint64_t *a = UW__U64(&t->sc.work_addr);
    size_t i;

    UW_ASSERT(t->n_work_addr == t->n_work);
    if (t->work_mask != 0) {
        const uint32_t *slot = (const uint32_t *)(const void *)t->sc.work_slot.p;
        int64_t found = -1;
        for (i = uw_task_slot(t, addr); slot[i] != 0; i = (i + 1) & t->work_mask)
            if (a[slot[i] - 1] == addr) {
                found = (int64_t)slot[i] - 1;
                break;
            }
#ifdef TORNSTACK_CHECK_INDEXES
        i = uw__u64_find(a, t->n_work_addr, addr);
        UW_ASSERT(found == (i == SIZE_MAX ? -1 : (int64_t)i));
#endif
        return found;
    }
    i = uw__u64_find(a, t->n_work_addr, addr);
    return i == SIZE_MAX ? -1 : (int64_t)i;
}

/* Candidates read (as weakrefs, type words or Task objects) per vectored
 * read: the scratch views hold one Task's share for UW_LIMIT_TASKS, and a
 * sample with more candidates (dead weakrefs, done Tasks) reads them in
 * turn. */
#define UW_DISCOVER_BATCH ((size_t)UW_LIMIT_TASKS)

/* Candidates in the batch from b on, of n. */
static size_t uw_batch_len(size_t n, size_t b)
{
    return n - b < UW_DISCOVER_BATCH ? n - b : UW_DISCOVER_BATCH;
}

/* One vectored read of `len` bytes at addr[i] + off for each i < m (m at
 * most UW_DISCOVER_BATCH): piece i lands at sc.bytes + i * len, its status
 * in sc.iov[i]. */
static int uw_read_windows(uw_tasks *t, const uint64_t *addr, size_t m, uint64_t off, size_t len)
{
    size_t i;
    int rc;

    UW_ASSERT(m <= UW_DISCOVER_BATCH);
    if ((rc = uw__view_reserve(&t->sc.iov, m)) != 0 ||
        (rc = uw__view_reserve(&t->sc.bytes, m * len)) != 0)
        return rc;
    for (i = 0; i < m; i++) {
        uint8_t *dst = uw__bytes(&t->sc.bytes, i * len, len);
        rc = dst != NULL ? uw__put_iov(&t->sc.iov, i, (uw_iov){addr[i] + off, dst, len, 0})
                         : UW_ERR_CAPACITY;
        if (rc != 0)
            return rc;
    }
    (void)uw_readv(t->r, UW__IOV(&t->sc.iov), m);
    return 0;
}

/* The keys of the set at `set` into the keys view, at most cap; a set
 * holding more gives its first cap keys and candidate_limit.  Which names the
 * registry set (0: the scheduled one or the root, 1: the eager one), whose
 * table is read with its header while it stays put. */
static int uw_registry_keys(uw_tasks *t, uint64_t set, int which, size_t cap, size_t *nk)
{
    int rc = uw__view_reserve(&t->sc.keys, UW_LIMIT_TASK_CANDIDATES);

    *nk = 0;
    if (rc != 0)
        return rc;
    UW_ASSERT(cap <= UW_LIMIT_TASK_CANDIDATES);
    rc = uw__set_keys_guessed(&t->pc, set, &t->reg_guess[which], UW__U64(&t->sc.keys), cap, nk);
    return rc == UW_ERR_CAPACITY ? UW_ERR_LIMIT_CANDIDATES : rc;
}

/* Registry entries are weakrefs to Tasks (or Tasks, for an explicit root
 * or the eager set): each is read far enough to tell, in one read, and
 * live ones give their referent, in place of its key (keys[0..*nt)). */
static int uw_weakref_targets(uw_tasks *t, size_t nk, size_t *nt)
{
    uint64_t *keys = UW__U64(&t->sc.keys);
    size_t b, i, m;
    int rc;

    *nt = 0;
    for (b = 0; b < nk; b += m) {
        m = uw_batch_len(nk, b);
        if ((rc = uw_read_windows(t, keys + b, m, 0, UW_WEAKREF_WINDOW)) != 0)
            return rc;
        for (i = 0; i < m; i++) {
            const uint8_t *w = t->sc.bytes.p + i * UW_WEAKREF_WINDOW;
            uint64_t type, obj = keys[b + i];
            if (UW__IOV(&t->sc.iov)[i].status != 0)
                continue;
            type = uw__u64(w + t->l->object_type);
            if (type == t->t->types.weakref && t->t->types.weakref != 0) {
                obj = uw__u64(w + t->l->weakref_object);
                if (obj == 0 || obj == t->t->types.none)
                    continue; /* dead weakref */
            }
            keys[(*nt)++] = obj; /* checked as a Task later; *nt <= b + i */
        }
    }
    return 0;
}

/* 3.14+: the Tasks of the lists come first, and the registry's WeakSet
 * holds what is no native Task (Tasks of other implementations, or
 * objects that are no Task at all).  Those must not take a Task's place
 * under the bound: the type word of each target (keys[0..*nt)) is read,
 * in one vectored read, and only those of a Task type are kept. */
static int uw_only_task_types(uw_tasks *t, size_t *nt)
{
    uint64_t *keys = UW__U64(&t->sc.keys);
    size_t b, i, m, k = 0;
    int rc;

    for (b = 0; b < *nt; b += m) {
        m = uw_batch_len(*nt, b);
        if ((rc = uw_read_windows(t, keys + b, m, (uint64_t)t->l->object_type, 8)) != 0)
            return rc;
        for (i = 0; i < m; i++)
            if (UW__IOV(&t->sc.iov)[i].status == 0 &&
                uw__type_kind(t, uw__u64(t->sc.bytes.p + i * 8)) == UW_KIND_TASK)
                keys[k++] = keys[b + i]; /* k <= b + i */
    }
    *nt = k;
    return 0;
}

/* Keep the first problem met. */
static void uw_first_problem(int *rc, int rc2)
{
    if (rc2 != 0 && *rc == 0)
        *rc = rc2;
}

/* Append keys[0..nk) to the candidates from *n on; past
 * UW_LIMIT_TASK_CANDIDATES candidates the rest is cut, candidate_limit
 * kept as a problem in *problem.
 * Returns only an error that ends the sample. */
static int uw_append_keys(uw_tasks *t, size_t nk, size_t *n, int *problem)
{
    const uint64_t *keys = UW__U64(&t->sc.keys);
    size_t i;
    int rc;

    for (i = 0; i < nk; i++) {
        if (*n == UW_LIMIT_TASK_CANDIDATES) {
            uw_first_problem(problem, UW_ERR_LIMIT_CANDIDATES);
            return 0;
        }
        if ((rc = uw__put_u64(&t->sc.cand, (*n)++, keys[i])) != 0)
            return rc;
    }
    return 0;
}

/* Registry keys of one interpreter (3.14+: and, first, its lists of native
 * Tasks, discover_lists.c) -> sorted, distinct candidate Task addresses.
 * Returns the first problem (candidate_limit, a set that is not a set, a
 * read error, a torn list), the candidates read so far kept. */
static int uw_collect_candidates(uw_tasks *t, const uw_sample *s, uint64_t interp,
                                 const uw_registry *g, size_t *n_cand)
{
    uint64_t *cand;
    size_t n = 0, nk = 0, i;
    int rc = 0, rc2;
    const int lists = t->l->tstate_asyncio_tasks_head != UW_ABSENT;

    *n_cand = 0;
    if ((rc = uw__view_reserve(&t->sc.cand, UW_LIMIT_TASK_CANDIDATES)) != 0)
        return rc;
    if (lists) {
        int lerr = 0;
        if ((rc2 = uw__list_candidates(t, s, interp, &n, &lerr)) != 0)
            return rc2;
        uw_first_problem(&rc, lerr);
    }
    if (t->root != 0)
        rc2 = uw_registry_keys(t, t->root, 0, UW_LIMIT_TASK_CANDIDATES, &nk);
    else if (g != NULL && g->scheduled != 0)
        rc2 = uw_registry_keys(t, g->scheduled, 0, UW_LIMIT_TASK_CANDIDATES, &nk);
    else
        rc2 = 0;
    if (rc2 == UW_ERR_NOMEM)
        return rc2;
    uw_first_problem(&rc, rc2);
    if ((rc2 = uw_weakref_targets(t, nk, &nk)) != 0 ||
        (lists && t->root == 0 && (rc2 = uw_only_task_types(t, &nk)) != 0))
        return rc2;
    if ((rc2 = uw_append_keys(t, nk, &n, &rc)) != 0)
        return rc2;
    if (t->root == 0 && g != NULL && g->eager != 0 && n < UW_LIMIT_TASK_CANDIDATES) {
        rc2 = uw_registry_keys(t, g->eager, 1, UW_LIMIT_TASK_CANDIDATES - n, &nk);
        if (rc2 == UW_ERR_NOMEM)
            return rc2;
        uw_first_problem(&rc, rc2);
        if ((rc2 = uw_append_keys(t, nk, &n, &rc)) != 0)
            return rc2;
    }
    cand = UW__U64(&t->sc.cand);
    uw__u64_sort(cand, n);
    for (i = 0, nk = 0; i < n; i++)
        if (nk == 0 || cand[nk - 1] != cand[i])
            cand[nk++] = cand[i];
    *n_cand = nk;
    return rc;
}

/* The thread (index) running `loop` in interpreter `interp`, or
 * s->n_threads. */
static size_t uw_loop_thread(const uw_sample *s, uint64_t interp, uint64_t loop)
{
    size_t j;

    for (j = 0; j < s->n_threads; j++)
        if (s->threads[j].interp == interp && s->threads[j].running_loop == loop && loop != 0)
            break;
    return j;
}

/* Read candidates [b, b + m) as Task objects (one read); keep pending
 * Tasks on a running loop of this interpreter's threads, up to
 * UW_LIMIT_TASKS over the sample (*full set when one more was met). */
static int uw_read_batch(uw_tasks *t, uw_sample *s, uint64_t interp, size_t b, size_t m, int *full)
{
    const uw_asyncio_layout *al = t->al;
    const size_t ts = (size_t)al->task_size;
    const uint64_t *cand = UW__U64(&t->sc.cand) + b;
    size_t i, j;
    int rc;

    if ((rc = uw_read_windows(t, cand, m, 0, ts)) != 0)
        return rc;
    for (i = 0; i < m; i++) {
        const uint8_t *o = t->sc.bytes.p + i * ts;
        uw_task_work *w;

        if (UW__IOV(&t->sc.iov)[i].status != 0)
            continue;
        if (uw__type_kind(t, uw__u64(o + t->l->object_type)) != UW_KIND_TASK)
            continue;
        if (uw__i32(o + al->fut_state) != al->state_pending)
            continue;
        j = uw_loop_thread(s, interp, uw__u64(o + al->fut_loop));
        if (j == s->n_threads)
            continue;
        if (t->n_work == UW_LIMIT_TASKS) {
            *full = 1; /* a Task past the bound: not kept */
            return 0;
        }
        if (t->n_work >= t->sc.work.have)
            return UW_ERR_CAPACITY;
        w = &t->work[t->n_work++];
        memset(w, 0, sizeof *w);
        w->addr = cand[i];
        w->loop = uw__u64(o + al->fut_loop);
        w->coro = uw__u64(o + al->task_coro);
        w->waiter = uw__u64(o + al->task_fut_waiter);
        w->name_obj = uw__u64(o + al->task_name);
        w->cb0 = uw__u64(o + al->fut_callback0);
        w->cbs = uw__u64(o + al->fut_callbacks);
        if (al->fut_awaited_by >= 0) {
            w->awaited_by = uw__u64(o + al->fut_awaited_by);
            w->awaited_by_is_set = o[al->fut_awaited_by_is_set] != 0;
        }
        w->thread = j;
        w->cur = w->coro;
        w->active = 1;
        w->state = INT32_MIN;
    }
    return 0;
}

/* Read the candidates as Task objects, UW_DISCOVER_BATCH to a read, and
 * keep what uw_read_batch keeps; past UW_LIMIT_TASKS kept Tasks over the
 * sample, task_limit goes to s->tasks_error (unless a problem came
 * first) and no more candidates are read. */
static int uw_read_tasks(uw_tasks *t, uw_sample *s, uint64_t interp, size_t n_cand)
{
    size_t b, m, room = (size_t)UW_LIMIT_TASKS - t->n_work;
    int rc, full = 0;

    UW_ASSERT(t->n_work <= UW_LIMIT_TASKS);
    if ((rc = uw__view_reserve(&t->sc.work, t->n_work + (n_cand < room ? n_cand : room))) != 0)
        return rc;
    t->work = (uw_task_work *)(void *)t->sc.work.p;
    for (b = 0; b < n_cand && !full; b += m) {
        m = uw_batch_len(n_cand, b);
        if ((rc = uw_read_batch(t, s, interp, b, m, &full)) != 0)
            return rc;
    }
    if (full && s->tasks_error == 0)
        s->tasks_error = UW_ERR_LIMIT_TASKS;
    return 0;
}

/* The Tasks of interpreter `interp` (registry g), their links, appended to
 * t->work.  Returns an error that ends the sample; the registry's own
 * problems go to s->tasks_error. */
static int uw_discover_interp(uw_tasks *t, uw_sample *s, uint64_t interp, uw_registry *g)
{
    size_t n_cand = 0;
    int rc;

    rc = uw_collect_candidates(t, s, interp, g, &n_cand);
    if (rc == UW_ERR_BAD_OBJECT && t->root == 0) {
        /* the registry moved (or was never right): search again once */
        g = uw__registry_for(t, interp, 1, &rc);
        if (rc == 0 && g != NULL && g->found)
            rc = uw_collect_candidates(t, s, interp, g, &n_cand);
    }
    if (rc == UW_ERR_NO_PROCESS || rc == UW_ERR_NOMEM || rc == UW_ERR_CAPACITY)
        return rc;
    if (rc != 0 && s->tasks_error == 0)
        s->tasks_error = rc;
    if (g != NULL && g->hook != 0 && (rc = uw__read_hook_links(t, g->hook)) != 0) {
        if (rc != UW_ERR_LIMIT_LINK_RECORDS)
            return rc;
        if (s->tasks_error == 0)
            s->tasks_error = rc; /* the first records are read */
    }
    return uw_read_tasks(t, s, interp, n_cand);
}

/* Interpreters in the order of their first thread with a running loop.
 * 3.14+: no Task is read before _asyncio's debug offsets were found and
 * matched (adebug.c; looked for at most once per sample). */
int uw__discover(uw_tasks *t, uw_sample *s)
{
    size_t i, j;
    int rc, gated = 0;

    t->reg_clock++;
    for (i = 0; i < s->n_threads; i++) {
        uint64_t interp = s->threads[i].interp;
        uw_registry *g;
        int seen = 0;

        if (s->threads[i].running_loop == 0)
            continue;
        if (!gated++ && (rc = uw__adebug_gate(t)) != 0) {
            if (rc == UW_ERR_NO_PROCESS || rc == UW_ERR_NOMEM)
                return rc;
            s->tasks_error = rc;
            return 0;
        }
        for (j = 0; j < i; j++)
            seen |= s->threads[j].running_loop != 0 && s->threads[j].interp == interp;
        if (seen)
            continue; /* this interpreter's Tasks were read already */
        g = uw__registry_for(t, interp, 0, &rc);
        if (rc != 0)
            return rc;
        /* 3.14+: the lists of native Tasks need no registry */
        if ((g == NULL || (t->root == 0 && !g->found && g->bound != 0 &&
                           t->l->tstate_asyncio_tasks_head == UW_ABSENT)) &&
            s->tasks_error == 0)
            s->tasks_error = g == NULL ? UW_ERR_LIMIT_REGISTRIES : g->bound;
        if (g == NULL ||
            (t->root == 0 && !g->found && t->l->tstate_asyncio_tasks_head == UW_ABSENT))
            continue;
        rc = uw_discover_interp(t, s, interp, g);
        if (rc != 0)
            return rc;
    }
    return 0;
}
