/*
 * deps.c — what each Task's links were read from, kept for the chain
 * check, and the Tasks each one awaits.
 *
 * A link is decided from bytes read at one moment: a fut_waiter's type, a
 * gather's `_children` place, its list and items, the items' types
 * (gather.c).  (The hook module's records are checked whole: check.c.)  Each piece is kept as a
 * dependency of the Task it links: its address, its length and the bytes as read. The chain check
 * reads every dependency again, twice, with the Task's chain, and the Task's links are shown only
 * if all read the same (check.c).  No piece holds a reference count or a lazily filled field, so a
 * piece that reads back different changed, but one: a dict keys object's prefix starts with both,
 * and they are left out of the comparison (uw__dep_same).
 *
 * Pieces are appended in the order the rounds read them, Tasks
 * interleaved; uw__deps_index sorts them by Task, so each Task's are one
 * range (first_dep, n_dep).  A Task whose links are read again (a second
 * round of the check) drops its old pieces first (uw__deps_drop).
 *
 * Capacities (scratch.c): UW_DEP_PIECES_MAX pieces and UW_DEP_BYTES_MAX
 * bytes per sample; the rounds reserve what they read before reading.
 */
#include <stdlib.h>
#include <string.h>

#include "internal/uw_assert.h"
#include "tasks_int.h"
#include "tornstack/error.h"

static uw__dep *uw_deps(uw_tasks *t)
{
    return (uw__dep *)(void *)t->sc.dep.p;
}

int uw__deps_reserve(uw_tasks *t, size_t pieces, size_t bytes)
{
    int rc = uw__view_reserve(&t->sc.dep, pieces);

    return rc != 0 ? rc : uw__view_reserve(&t->sc.dep_bytes, bytes);
}

void uw__dep_add(uw_tasks *t, size_t task, uint64_t addr, size_t len, int keys)
{
    UW_ASSERT(t->n_dep < t->sc.dep.have && t->n_dep_bytes + len <= t->sc.dep_bytes.have);
    uw_deps(t)[t->n_dep++] = (uw__dep){task, addr, len, t->n_dep_bytes, keys};
    t->n_dep_bytes += len;
}

/* A dict keys object starts with its reference count, which moves with
 * every dict that shares the keys (a `_GatheringFuture`'s dict, made and
 * freed with each gather, on 3.12 and 3.13), then its geometry (sizes,
 * kind), a version tag filled in lazily and cleared on a change, and its
 * usable and used entry counts.  The count and the tag are left out: the
 * geometry, the counts, the indices and the entries say where an
 * attribute lives, and the keys object a type caches is itself a piece of
 * the same link (its pointer in the type), so keys replaced by others are
 * seen there.  Bounds: the layout check orders the header's fields
 * within the bytes before the indices (layout_check.c); a piece too short
 * to hold them all is compared whole. */
int uw__dep_same(const uw_tasks *t, size_t d, const uint8_t *x, const uint8_t *was)
{
    const uw__dep *p = uw__dep_get(t, d);
    const uw_layout *l = t->l;
    const size_t geo = (size_t)l->dictkeys_log2_size, geo_end = (size_t)l->dictkeys_kind + 1;
    const size_t counts = (size_t)l->dictkeys_nentries - 8; /* dk_usable, then dk_nentries */

    if (!p->keys || p->len <= counts) /* a keys piece reaches past its indices */
        return memcmp(x, was, p->len) == 0;
    return memcmp(x + geo, was + geo, geo_end - geo) == 0 &&
           memcmp(x + counts, was + counts, p->len - counts) == 0;
}

uw_iov uw__dep_iov(uw_tasks *t, size_t d)
{
    const uw__dep *p = &uw_deps(t)[d];

    return (uw_iov){p->addr, t->sc.dep_bytes.p + p->off, p->len, 0};
}

uint8_t *uw__dep_bytes(uw_tasks *t, size_t d)
{
    return t->sc.dep_bytes.p + uw_deps(t)[d].off;
}

const uw__dep *uw__dep_get(const uw_tasks *t, size_t d)
{
    return &((const uw__dep *)(const void *)t->sc.dep.p)[d];
}

/* Only the Task's own range is marked: the pieces were indexed since the
 * last was added (a round drops them between its index and its next
 * reads of links), so none of its pieces lies outside it.  The next index
 * sorts the dropped ones last and cuts them off. */
void uw__deps_drop(uw_tasks *t, size_t task)
{
    const uw_task_work *w = &t->work[task];
    size_t d;

    UW_ASSERT(t->n_dep == t->n_dep_indexed);
    for (d = w->first_dep; d < w->first_dep + w->n_dep; d++) {
        UW_ASSERT(uw_deps(t)[d].task == task);
        uw_deps(t)[d].task = SIZE_MAX;
    }
}

static int uw_cmp_dep(const void *a, const void *b)
{
    const uw__dep *x = a, *y = b;

    if (x->task != y->task)
        return x->task < y->task ? -1 : 1;
    return x->off < y->off ? -1 : x->off > y->off;
}

/* Sort the pieces by Task, each Task's in the order they were appended,
 * which is the order of their bytes (off): a counting sort over the work
 * list, dropped pieces (SIZE_MAX) last.  Returns 0, or 1 when its scratch
 * could not be had. */
static int uw_deps_sort(uw_tasks *t)
{
    const size_t nb = t->n_work + 1; /* bucket n_work: dropped */
    size_t d, i, sum = 0, *count;
    uw__dep *in = uw_deps(t), *out;

    if (uw__view_reserve(&t->sc.dep_tmp, t->n_dep) != 0 ||
        uw__view_reserve(&t->sc.dep_count, nb) != 0)
        return 1;
    count = UW__SIZE(&t->sc.dep_count);
    out = (uw__dep *)(void *)t->sc.dep_tmp.p;
    memset(count, 0, nb * sizeof *count);
    for (d = 0; d < t->n_dep; d++) {
        UW_ASSERT(in[d].task == SIZE_MAX || in[d].task < t->n_work);
        count[in[d].task == SIZE_MAX ? t->n_work : in[d].task]++;
    }
    for (i = 0; i < nb; i++) {
        size_t c = count[i];
        count[i] = sum;
        sum += c;
    }
    for (d = 0; d < t->n_dep; d++)
        out[count[in[d].task == SIZE_MAX ? t->n_work : in[d].task]++] = in[d];
    memcpy(in, out, t->n_dep * sizeof *in);
    return 0;
}

void uw__deps_index(uw_tasks *t)
{
    size_t d, i;

    /* no view yet when nothing was read: qsort's base is NULL */
    if (t->n_dep > 0 && uw_deps_sort(t) != 0)
        qsort(uw_deps(t), t->n_dep, sizeof(uw__dep), uw_cmp_dep);
    while (t->n_dep > 0 && uw_deps(t)[t->n_dep - 1].task == SIZE_MAX)
        t->n_dep--; /* dropped ones sort last */
    for (i = 0; i < t->n_work; i++)
        t->work[i].n_dep = 0;
    for (d = 0; d < t->n_dep; d++) {
        uw_task_work *w = &t->work[uw_deps(t)[d].task];
        if (w->n_dep == 0)
            w->first_dep = d;
        w->n_dep++;
    }
    t->n_dep_indexed = t->n_dep;
}

int uw__kid_add(uw_tasks *t, size_t task, size_t kid)
{
    int rc = uw__view_reserve(&t->sc.kids, t->n_kid + 1);

    if (rc != 0)
        return rc;
    UW__SIZE(&t->sc.kids)[t->n_kid++] = kid;
    t->work[task].n_kid++;
    return 0;
}
