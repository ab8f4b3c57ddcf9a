/*
 * truth.c — Task, loop and gather truth, and its history over a sample
 * window (see truth.h).
 *
 * Journal.  Each entity has its current state.  During a window, the first
 * edit of an entity appends its state at the window's start (time t0);
 * every edited entity is marked dirty, and when the time moves on (the
 * next store) or the window ends, each dirty entity's state is appended,
 * stamped with the time of the store that changed it (several edits for
 * one store make one entry).  Entries of one entity are chained newest
 * first, so the state at t is the first entry at or before t.
 */
#include "truth.h"

#include <stdlib.h>
#include <string.h>

#include "tornstack/error.h"
#include "internal/uw_assert.h"

typedef struct mm_jtask {
    uint64_t time;
    int32_t prev; /* older entry of the same Task, -1 */
    int32_t id;
    mm_ttask rec;
} mm_jtask;

typedef struct mm_jloop {
    uint64_t time;
    mm_tloop rec; /* only rec.n frames are copied */
} mm_jloop;

typedef struct mm_amap_ent {
    uint64_t addr; /* 0: empty */
    int32_t id;
    int32_t pad;
} mm_amap_ent;

typedef struct mm_reuse {
    uint64_t addr;
    int32_t id;
    int32_t pad;
} mm_reuse;

struct mm_world {
    /* Tasks */
    mm_ttask *task;
    int32_t *jhead; /* newest journal entry this window, -1 */
    uint32_t *jwin; /* window of jhead */
    uint8_t *dirty;
    size_t n_task, cap_task;
    int32_t *free_ids, *late_ids; /* free now; freed during the window */
    size_t n_free, n_late, cap_free, cap_late;
    /* loops */
    int n_loops;
    mm_tloop loop[MM_MAX_LOOPS];
    uint32_t lwin[MM_MAX_LOOPS];
    uint8_t ldirty[MM_MAX_LOOPS];
    /* each loop's journal, in time order (binary search) */
    mm_jloop *jl[MM_MAX_LOOPS];
    size_t n_jl[MM_MAX_LOOPS], cap_jl[MM_MAX_LOOPS];
    /* gathers */
    mm_tgather *gather;
    size_t n_gather, cap_gather;
    int32_t *gfree, *glate;
    size_t n_gfree, n_glate, cap_gfree, cap_glate;
    uint32_t gserial;
    /* address -> Task id */
    mm_amap_ent *amap;
    size_t amap_cap, amap_n;
    mm_reuse *reuse;
    size_t n_reuse, cap_reuse;
    /* journal */
    int recording;
    uint32_t win;
    uint64_t t0, t1, now;
    mm_jtask *jt;
    size_t n_jt, cap_jt;
    int32_t *dirty_ids;
    size_t n_dirty, cap_dirty;
    /* after the window: each Task's entries, contiguous and in time order
     * (jidx[jstart[id] .. + jcount[id]]), for binary search */
    int32_t *jidx;
    size_t cap_jidx;
    uint32_t *jstart, *jcount;
    size_t cap_jstart;
    int indexed;
    /* scratch for mm_task_times / mm_loop_times */
    uint64_t *times;
    size_t cap_times;
};

/* Grow *arr (elements of size sz) to hold at least need; 0 or NOMEM. */
static int mm_grow(void **arr, size_t *cap, size_t need, size_t sz)
{
    size_t nc;
    void *a;

    if (need <= *cap)
        return 0;
    nc = *cap ? *cap : 16;
    while (nc < need)
        nc *= 2;
    a = realloc(*arr, nc * sz);
    if (a == NULL)
        return UW_ERR_NOMEM;
    *arr = a;
    *cap = nc;
    return 0;
}

/* An allocation the model cannot do without: the run stops here. */
static void mm_must(int rc)
{
    UW_ASSERT(rc == 0);
    if (rc != 0)
        abort();
}

int mm_world_new(int n_loops, mm_world **out)
{
    mm_world *w = calloc(1, sizeof *w);
    int i;

    if (w == NULL)
        return UW_ERR_NOMEM;
    w->n_loops = n_loops < 1 ? 1 : n_loops > MM_MAX_LOOPS ? MM_MAX_LOOPS : n_loops;
    for (i = 0; i < MM_MAX_LOOPS; i++)
        w->loop[i].running_task = MM_NOREF;
    w->amap_cap = 1024;
    w->amap = calloc(w->amap_cap, sizeof *w->amap);
    if (w->amap == NULL) {
        free(w);
        return UW_ERR_NOMEM;
    }
    *out = w;
    return 0;
}

void mm_world_free(mm_world *w)
{
    int i;

    if (w == NULL)
        return;
    free(w->task);
    free(w->jhead);
    free(w->jwin);
    free(w->dirty);
    free(w->free_ids);
    free(w->late_ids);
    free(w->gather);
    free(w->gfree);
    free(w->glate);
    free(w->amap);
    free(w->reuse);
    free(w->jt);
    for (i = 0; i < MM_MAX_LOOPS; i++)
        free(w->jl[i]);
    free(w->dirty_ids);
    free(w->times);
    free(w->jidx);
    free(w->jstart);
    free(w->jcount);
    free(w);
}

int32_t mm_world_task_new(mm_world *w)
{
    int32_t id;

    if (w->n_free > 0) {
        id = w->free_ids[--w->n_free];
    } else {
        size_t c0 = w->cap_task, c1 = c0, c2 = c0, c3 = c0;
        mm_must(mm_grow((void **)&w->task, &c0, w->n_task + 1, sizeof *w->task));
        mm_must(mm_grow((void **)&w->jhead, &c1, w->n_task + 1, sizeof *w->jhead));
        mm_must(mm_grow((void **)&w->jwin, &c2, w->n_task + 1, sizeof *w->jwin));
        mm_must(mm_grow((void **)&w->dirty, &c3, w->n_task + 1, sizeof *w->dirty));
        w->cap_task = c0;
        id = (int32_t)w->n_task++;
        w->jwin[id] = 0;
        w->jhead[id] = -1;
        w->dirty[id] = 0;
    }
    /* A fresh id is clean: it had no state in this window (ids freed
     * during a window are reused only after it). */
    memset(&w->task[id], 0, sizeof w->task[id]);
    w->task[id].waiter = w->task[id].awaiter = w->task[id].strong = w->task[id].creator = MM_NOREF;
    w->task[id].amem = MM_NOREF;
    return id;
}

void mm_world_task_release(mm_world *w, int32_t id)
{
    if (w->recording) {
        mm_must(mm_grow((void **)&w->late_ids, &w->cap_late, w->n_late + 1, sizeof *w->late_ids));
        w->late_ids[w->n_late++] = id;
    } else {
        mm_must(mm_grow((void **)&w->free_ids, &w->cap_free, w->n_free + 1, sizeof *w->free_ids));
        w->free_ids[w->n_free++] = id;
    }
}

static size_t mm_amap_slot(const mm_world *w, uint64_t addr)
{
    return (size_t)((addr * 0x9e3779b97f4a7c15ull) >> 17) & (w->amap_cap - 1);
}

static mm_amap_ent *mm_amap_find(const mm_world *w, uint64_t addr)
{
    size_t i = mm_amap_slot(w, addr), n;

    for (n = 0; n < w->amap_cap; n++, i = (i + 1) & (w->amap_cap - 1)) {
        if (w->amap[i].addr == addr || w->amap[i].addr == 0)
            return &w->amap[i];
    }
    return NULL;
}

void mm_world_task_at_addr(mm_world *w, uint64_t addr, int32_t id)
{
    mm_amap_ent *e;

    if (2 * (w->amap_n + 1) > w->amap_cap) {
        mm_amap_ent *old = w->amap;
        size_t oc = w->amap_cap, i;
        w->amap_cap *= 2;
        w->amap = calloc(w->amap_cap, sizeof *w->amap);
        mm_must(w->amap == NULL ? UW_ERR_NOMEM : 0);
        for (i = 0; i < oc; i++)
            if (old[i].addr != 0)
                *mm_amap_find(w, old[i].addr) = old[i];
        free(old);
    }
    e = mm_amap_find(w, addr);
    if (e->addr == 0) {
        e->addr = addr;
        w->amap_n++;
    } else if (w->recording && e->id != id) {
        mm_must(mm_grow((void **)&w->reuse, &w->cap_reuse, w->n_reuse + 1, sizeof *w->reuse));
        w->reuse[w->n_reuse++] = (mm_reuse){addr, e->id, 0};
    }
    e->id = id;
}

/* Append the dirty entities' states to the journal, stamped `now`. */
static void mm_flush(mm_world *w)
{
    size_t i;
    int l;

    for (i = 0; i < w->n_dirty; i++) {
        int32_t id = w->dirty_ids[i];
        int32_t h = w->jhead[id];
        w->dirty[id] = 0;
        if (h >= 0 && w->jt[h].time == w->now) {
            w->jt[h].rec = w->task[id];
            continue;
        }
        mm_must(mm_grow((void **)&w->jt, &w->cap_jt, w->n_jt + 1, sizeof *w->jt));
        w->jt[w->n_jt].time = w->now;
        w->jt[w->n_jt].prev = h;
        w->jt[w->n_jt].id = id;
        w->jt[w->n_jt].rec = w->task[id];
        w->jhead[id] = (int32_t)w->n_jt++;
    }
    w->n_dirty = 0;
    for (l = 0; l < w->n_loops; l++) {
        size_t bytes = offsetof(mm_tloop, f) + (size_t)w->loop[l].n * sizeof(mm_tframe);
        mm_jloop *e;
        if (!w->ldirty[l])
            continue;
        w->ldirty[l] = 0;
        if (w->n_jl[l] > 0 && w->jl[l][w->n_jl[l] - 1].time == w->now) {
            memcpy(&w->jl[l][w->n_jl[l] - 1].rec, &w->loop[l], bytes);
            continue;
        }
        mm_must(mm_grow((void **)&w->jl[l], &w->cap_jl[l], w->n_jl[l] + 1, sizeof *w->jl[l]));
        e = &w->jl[l][w->n_jl[l]++];
        e->time = w->now;
        memcpy(&e->rec, &w->loop[l], bytes);
    }
}

void mm_world_set_time(mm_world *w, uint64_t time)
{
    if (w->n_dirty > 0 || w->ldirty[0] || w->ldirty[1] || w->ldirty[2] || w->ldirty[3])
        mm_flush(w);
    w->now = time;
}

mm_ttask *mm_world_task_edit(mm_world *w, int32_t id)
{
    UW_ASSERT(id >= 0 && (size_t)id < w->n_task);
    if (w->recording) {
        if (w->jwin[id] != w->win) {
            /* first change in this window: keep the state at t0 */
            mm_must(mm_grow((void **)&w->jt, &w->cap_jt, w->n_jt + 1, sizeof *w->jt));
            w->jt[w->n_jt].time = w->t0;
            w->jt[w->n_jt].prev = -1;
            w->jt[w->n_jt].id = id;
            w->jt[w->n_jt].rec = w->task[id];
            w->jhead[id] = (int32_t)w->n_jt++;
            w->jwin[id] = w->win;
        }
        if (!w->dirty[id]) {
            mm_must(mm_grow((void **)&w->dirty_ids, &w->cap_dirty, w->n_dirty + 1,
                            sizeof *w->dirty_ids));
            w->dirty_ids[w->n_dirty++] = id;
            w->dirty[id] = 1;
        }
    }
    return &w->task[id];
}

mm_tloop *mm_world_loop_edit(mm_world *w, int l)
{
    UW_ASSERT(l >= 0 && l < w->n_loops);
    if (w->recording) {
        if (w->lwin[l] != w->win) {
            size_t bytes = offsetof(mm_tloop, f) + (size_t)w->loop[l].n * sizeof(mm_tframe);
            mm_jloop *e;
            w->n_jl[l] = 0;
            mm_must(mm_grow((void **)&w->jl[l], &w->cap_jl[l], 1, sizeof *w->jl[l]));
            e = &w->jl[l][w->n_jl[l]++];
            e->time = w->t0;
            memcpy(&e->rec, &w->loop[l], bytes);
            w->lwin[l] = w->win;
        }
        w->ldirty[l] = 1;
    }
    return &w->loop[l];
}

const mm_ttask *mm_world_task_cur(const mm_world *w, int32_t id)
{
    return &w->task[id];
}

const mm_tloop *mm_world_loop_cur(const mm_world *w, int l)
{
    return &w->loop[l];
}

int32_t mm_world_gather_new(mm_world *w, const mm_tgather *g)
{
    int32_t id;

    if (w->n_gfree > 0) {
        id = w->gfree[--w->n_gfree];
    } else {
        mm_must(mm_grow((void **)&w->gather, &w->cap_gather, w->n_gather + 1, sizeof *w->gather));
        id = (int32_t)w->n_gather++;
    }
    w->gather[id] = *g;
    w->gather[id].gen = ++w->gserial;
    return id;
}

uint32_t mm_world_gather_gen(const mm_world *w, int32_t id)
{
    return w->gather[id].gen;
}

void mm_world_gather_release(mm_world *w, int32_t id)
{
    if (w->recording) {
        mm_must(mm_grow((void **)&w->glate, &w->cap_glate, w->n_glate + 1, sizeof *w->glate));
        w->glate[w->n_glate++] = id;
    } else {
        mm_must(mm_grow((void **)&w->gfree, &w->cap_gfree, w->n_gfree + 1, sizeof *w->gfree));
        w->gfree[w->n_gfree++] = id;
    }
}

void mm_world_begin(mm_world *w, uint64_t time)
{
    size_t i;

    mm_flush(w);
    /* ids freed during the last window may be used again */
    for (i = 0; i < w->n_late; i++) {
        mm_must(mm_grow((void **)&w->free_ids, &w->cap_free, w->n_free + 1, sizeof *w->free_ids));
        w->free_ids[w->n_free++] = w->late_ids[i];
    }
    w->n_late = 0;
    for (i = 0; i < w->n_glate; i++) {
        mm_must(mm_grow((void **)&w->gfree, &w->cap_gfree, w->n_gfree + 1, sizeof *w->gfree));
        w->gfree[w->n_gfree++] = w->glate[i];
    }
    w->n_glate = 0;
    w->win++;
    if (w->win == 0) { /* wrapped: no stale stamp may equal it */
        memset(w->jwin, 0, w->n_task * sizeof *w->jwin);
        memset(w->lwin, 0, sizeof w->lwin);
        w->win = 1;
    }
    w->recording = 1;
    w->indexed = 0;
    w->t0 = w->t1 = w->now = time;
    w->n_jt = 0;
    w->n_reuse = 0;
}

/* Group each Task's entries, in time order (they were appended so). */
static void mm_index(mm_world *w)
{
    size_t i, off = 0;

    mm_must(mm_grow((void **)&w->jidx, &w->cap_jidx, w->n_jt + 1, sizeof *w->jidx));
    if (w->cap_jstart < w->n_task) {
        size_t c = w->cap_jstart;
        mm_must(mm_grow((void **)&w->jstart, &c, w->n_task, sizeof *w->jstart));
        c = w->cap_jstart;
        mm_must(mm_grow((void **)&w->jcount, &c, w->n_task, sizeof *w->jcount));
        w->cap_jstart = c;
    }
    for (i = 0; i < w->n_jt; i++)
        w->jcount[w->jt[i].id] = 0;
    for (i = 0; i < w->n_jt; i++)
        w->jcount[w->jt[i].id]++;
    for (i = 0; i < w->n_jt; i++) { /* first entry of each Task: its range */
        int32_t id = w->jt[i].id;
        if (w->jt[i].prev == -1) {
            w->jstart[id] = (uint32_t)off;
            off += w->jcount[id];
            w->jcount[id] = 0;
        }
    }
    for (i = 0; i < w->n_jt; i++) {
        int32_t id = w->jt[i].id;
        w->jidx[w->jstart[id] + w->jcount[id]++] = (int32_t)i;
    }
    w->indexed = 1;
}

void mm_world_end(mm_world *w, uint64_t time)
{
    mm_flush(w);
    w->recording = 0;
    w->t1 = time;
    mm_index(w);
}

size_t mm_world_tasks(const mm_world *w)
{
    return w->n_task;
}

int mm_world_loops(const mm_world *w)
{
    return w->n_loops;
}

uint64_t mm_world_t0(const mm_world *w)
{
    return w->t0;
}

uint64_t mm_world_t1(const mm_world *w)
{
    return w->t1;
}

int mm_world_moved(const mm_world *w)
{
    return w->t1 != w->t0;
}

const mm_ttask *mm_task_at(const mm_world *w, int32_t id, uint64_t t)
{
    int32_t h;

    UW_ASSERT(id >= 0 && (size_t)id < w->n_task);
    if (w->jwin[id] != w->win)
        return &w->task[id];
    if (w->indexed) { /* the last entry at or before t */
        const int32_t *e = w->jidx + w->jstart[id];
        size_t lo = 0, hi = w->jcount[id];
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (w->jt[e[mid]].time <= t)
                lo = mid + 1;
            else
                hi = mid;
        }
        return lo > 0 ? &w->jt[e[lo - 1]].rec : &w->task[id];
    }
    for (h = w->jhead[id]; h >= 0; h = w->jt[h].prev)
        if (w->jt[h].time <= t)
            return &w->jt[h].rec;
    return &w->task[id]; /* before the window: not asked */
}

const mm_tloop *mm_loop_at(const mm_world *w, int l, uint64_t t)
{
    size_t lo = 0, hi;

    if (w->lwin[l] != w->win)
        return &w->loop[l];
    hi = w->n_jl[l];
    while (lo < hi) { /* the first entry after t */
        size_t mid = (lo + hi) / 2;
        if (w->jl[l][mid].time <= t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo > 0 ? &w->jl[l][lo - 1].rec : &w->loop[l];
}

const mm_tgather *mm_gather_get(const mm_world *w, mm_ref g)
{
    if (g.id < 0 || (size_t)g.id >= w->n_gather || w->gather[g.id].gen != g.gen)
        return NULL;
    return &w->gather[g.id];
}

const mm_ttask *mm_ref_at(const mm_world *w, mm_ref r, uint64_t t)
{
    const mm_ttask *k;

    if (r.id < 0 || (size_t)r.id >= w->n_task)
        return NULL;
    k = mm_task_at(w, r.id, t);
    return k->gen == r.gen && k->alive ? k : NULL;
}

/* Times of a chain of entries (newest first), ascending, t0 left out. */
static const uint64_t *mm_times(const mm_world *w, int32_t h, size_t *n)
{
    mm_world *mw = (mm_world *)(uintptr_t)w; /* scratch only */
    size_t k = 0, i;
    int32_t p;

    for (p = h; p >= 0; p = w->jt[p].prev)
        k++;
    mm_must(mm_grow((void **)&mw->times, &mw->cap_times, k + 1, sizeof *mw->times));
    i = k;
    for (p = h; p >= 0; p = w->jt[p].prev)
        mw->times[--i] = w->jt[p].time;
    /* drop the t0 entry (and any at t0) */
    for (i = 0; i < k && mw->times[i] == w->t0; i++)
        ;
    *n = k - i;
    return mw->times + i;
}

const uint64_t *mm_task_times(const mm_world *w, int32_t id, size_t *n)
{
    if (w->jwin[id] != w->win) {
        *n = 0;
        return NULL;
    }
    return mm_times(w, w->jhead[id], n);
}

const uint64_t *mm_loop_times(const mm_world *w, int l, size_t *n)
{
    mm_world *mw = (mm_world *)(uintptr_t)w; /* scratch only */
    size_t i, k = 0;

    *n = 0;
    if (w->lwin[l] != w->win)
        return NULL;
    mm_must(mm_grow((void **)&mw->times, &mw->cap_times, w->n_jl[l] + 1, sizeof *mw->times));
    for (i = 0; i < w->n_jl[l]; i++)
        if (w->jl[l][i].time != w->t0)
            mw->times[k++] = w->jl[l][i].time;
    *n = k;
    return mw->times;
}

size_t mm_world_ids_at_addr(const mm_world *w, uint64_t addr, int32_t *ids, size_t cap)
{
    const mm_amap_ent *e = mm_amap_find(w, addr);
    size_t n = 0, i, j;

    if (e != NULL && e->addr == addr && cap > 0)
        ids[n++] = e->id;
    for (i = 0; i < w->n_reuse; i++) {
        if (w->reuse[i].addr != addr)
            continue;
        for (j = 0; j < n && ids[j] != w->reuse[i].id; j++)
            ;
        /* past the caller's room the oracle would judge an entry without
         * the Task it may state (a false violation, or a leak missed):
         * the bound is the oracle's, met loudly */
        UW_ASSERT(j < n || n < cap);
        if (j == n && n < cap)
            ids[n++] = w->reuse[i].id;
    }
    /* an id that now names a Task at another address held addr earlier in
     * the window only if it has a state there */
    return n;
}

void mm_world_visit_tasks(const mm_world *w, mm_task_visit_fn fn, void *ctx)
{
    size_t id;
    int32_t h;

    for (id = 0; id < w->n_task; id++) {
        fn(ctx, (int32_t)id, &w->task[id]);
        if (w->jwin[id] != w->win)
            continue;
        for (h = w->jhead[id]; h >= 0; h = w->jt[h].prev)
            fn(ctx, (int32_t)id, &w->jt[h].rec);
    }
}

void mm_world_visit_loops(const mm_world *w, mm_loop_visit_fn fn, void *ctx)
{
    int l;

    for (l = 0; l < w->n_loops; l++) {
        size_t i;
        fn(ctx, l, &w->loop[l]);
        if (w->lwin[l] != w->win)
            continue;
        for (i = 0; i < w->n_jl[l]; i++)
            fn(ctx, l, &w->jl[l][i].rec);
    }
}

int mm_truth_frames(const mm_world *w, int32_t id, uint64_t t, mm_tframe *out, int cap)
{
    const mm_ttask *k = mm_task_at(w, id, t);
    int n = 0, i;

    if (!k->alive)
        return 0;
    if (k->running) {
        const mm_tloop *l = mm_loop_at(w, k->loop, t);
        for (i = l->n - 1; i >= 0 && n < cap; i--)
            if (l->f[i].owner == id)
                out[n++] = l->f[i];
        return n;
    }
    for (i = k->n_chain - 1; i >= 0 && n < cap; i--)
        out[n++] = k->chain[i];
    return n;
}

int mm_truth_pure(const mm_world *w, int loop, uint64_t t, uint64_t handle_run, mm_tframe *out,
                  int cap)
{
    const mm_tloop *l = mm_loop_at(w, loop, t);
    int h = l->n - 1, i, n = 0;

    for (i = 0; i < l->n; i++) {
        if (l->f[i].code == handle_run) {
            h = i;
            break;
        }
    }
    for (i = h; i >= 0 && n < cap; i--)
        out[n++] = l->f[i];
    return n;
}
