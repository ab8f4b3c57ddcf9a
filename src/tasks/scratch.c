/*
 * scratch.c — the Task walk's per-sample memory, as views (tasks_int.h).
 *
 * Each view states its capacity: the most elements the phase that uses it
 * can ever need, derived from the Task walk's bounds (UW_LIMIT_TASKS
 * Tasks, UW_TASK_FRAMES_MAX coroutine frames, ...).  Storage grows, by
 * doubling, to what a sample needs and is kept for the next sample, so a
 * program with a few Tasks uses a few kilobytes and one with 16,384 Tasks
 * gets all it needs.  Writes are checked against what was reserved.
 */
#include <stdlib.h>
#include <string.h>

#include "tasks_int.h"
#include "tornstack/error.h"

void uw__view_init(uw__view *v, size_t elem, size_t cap)
{
    memset(v, 0, sizeof *v);
    v->elem = elem;
    v->cap = cap;
}

void uw__view_free(uw__view *v)
{
    free(v->p);
    v->p = NULL;
    v->have = 0;
}

int uw__view_reserve(uw__view *v, size_t n)
{
    size_t have;
    uint8_t *p;

    if (n <= v->have)
        return 0;
    if (n > v->cap)
        return UW_ERR_CAPACITY;
    have = v->have ? v->have : 64;
    while (have < n)
        have *= 2;
    if (have > v->cap)
        have = v->cap;
    p = realloc(v->p, have * v->elem);
    if (p == NULL)
        return UW_ERR_NOMEM;
    v->p = p;
    v->have = have;
    return 0;
}

int uw__put_u64(uw__view *v, size_t i, uint64_t x)
{
    if (i >= v->have)
        return UW_ERR_CAPACITY;
    UW__U64(v)[i] = x;
    return 0;
}

int uw__put_size(uw__view *v, size_t i, size_t x)
{
    if (i >= v->have)
        return UW_ERR_CAPACITY;
    UW__SIZE(v)[i] = x;
    return 0;
}

int uw__put_iov(uw__view *v, size_t i, uw_iov x)
{
    if (i >= v->have)
        return UW_ERR_CAPACITY;
    UW__IOV(v)[i] = x;
    return 0;
}

uint8_t *uw__bytes(uw__view *v, size_t off, size_t len)
{
    if (off > v->have || len > v->have - off)
        return NULL;
    return v->p + off;
}

/* The largest share of the read buffer one Task takes in any phase: its
 * Task object, a registry entry, a coroutine window with its awaitee slots
 * and next instruction (UW_AWAITEE_BYTES), or its name
 * (UW_NAME_BYTES_MAX). */
static size_t uw_bytes_per_task(const uw_asyncio_layout *al)
{
    size_t n = UW_CORO_WINDOW + UW_AWAITEE_BYTES;

    if ((size_t)al->task_size > n)
        n = (size_t)al->task_size;
    if (UW_NAME_BYTES_MAX > n)
        n = UW_NAME_BYTES_MAX;
    if (UW_WEAKREF_WINDOW > n)
        n = UW_WEAKREF_WINDOW;
    return n;
}

/* Each view's element size and capacity, its worst case: UW_LIMIT_TASKS
 * Tasks (three pieces each in a chain level), UW_TASK_FRAMES_MAX
 * coroutine frames, the check's pieces and bytes (tasks_int.h), the
 * gathers' nodes and the links' dependencies, UW_LIMIT_LINK_RECORDS hook
 * records, a pending mark per possible thread. */
void uw__scratch_init(uw__scratch *sc, const uw_layout *l, const uw_asyncio_layout *al)
{
    const size_t tasks = UW_LIMIT_TASKS, frames = UW_TASK_FRAMES_MAX;
    const size_t threads = (size_t)UW_LIMIT_INTERPRETERS * (size_t)UW_LIMIT_THREADS;

    uw__view_init(&sc->keys, sizeof(uint64_t), UW_LIMIT_TASK_CANDIDATES);
    uw__view_init(&sc->cand, sizeof(uint64_t), UW_LIMIT_TASK_CANDIDATES);
    uw__view_init(&sc->work, sizeof(uw_task_work), tasks);
    uw__view_init(&sc->work_addr, sizeof(uint64_t), tasks);
    uw__view_init(&sc->work_slot, sizeof(uint32_t), UW_TASK_SLOTS_MAX);
    uw__view_init(&sc->cross_all, sizeof(size_t), tasks);
    uw__view_init(&sc->cross_at, sizeof(size_t), tasks + 1);
    uw__view_init(&sc->cross_rel, sizeof(size_t), UW_CROSS_REL_MAX);
    uw__view_init(&sc->rs_used, sizeof(uw__resume_use), frames);
    uw__view_init(&sc->rs_read, sizeof(size_t), frames);
    uw__view_init(&sc->iov, sizeof(uw_iov), UW_DEP_PIECES_MAX);
    uw__view_init(&sc->idx, sizeof(size_t), 3 * tasks);
    uw__view_init(&sc->bytes, 1, tasks * uw_bytes_per_task(al));
    uw__view_init(&sc->placed, sizeof(size_t), tasks);
    uw__view_init(&sc->roots, sizeof(uint64_t), tasks);
    uw__view_init(&sc->pending, sizeof(size_t), threads);
    uw__view_init(&sc->thread_ok, sizeof(size_t), threads);
    uw__view_init(&sc->need, sizeof(size_t), tasks);
    uw__view_init(&sc->hook, 1, 8 + (size_t)UW_LIMIT_LINK_RECORDS * UW_LINK_RECORD);
    uw__view_init(&sc->hook_now, 1, (size_t)UW_LIMIT_LINK_RECORDS * UW_LINK_RECORD);
    uw__view_init(&sc->hook_links, sizeof(uw_link), UW_LIMIT_LINK_RECORDS);
    uw__view_init(&sc->hook_slot, sizeof(size_t), UW_HOOK_SLOTS);
    uw__view_init(&sc->gnode, sizeof(uw__gnode), UW_GATHER_NODES_MAX);
    uw__view_init(&sc->gitems, sizeof(uint64_t), UW_LIMIT_GATHER_ITEMS);
    uw__view_init(&sc->gtypes, sizeof(uint8_t *), UW_LIMIT_GATHER_CHILDREN);
    uw__view_init(&sc->dep, sizeof(uw__dep), UW_DEP_PIECES_MAX);
    uw__view_init(&sc->dep_tmp, sizeof(uw__dep), UW_DEP_PIECES_MAX);
    uw__view_init(&sc->dep_count, sizeof(size_t), tasks + 1);
    uw__view_init(&sc->dep_bytes, 1, UW_DEP_BYTES_MAX);
    uw__view_init(&sc->kids, sizeof(size_t), UW_DEP_PIECES_MAX);
    uw__view_init(&sc->children, sizeof(uint64_t), UW_LIMIT_GATHER_CHILDREN);
    uw__view_init(&sc->check_iov, sizeof(uw_iov), 2 * (UW_TASK_EPOCHS + UW_CHECK_PIECES_MAX));
    uw__view_init(&sc->check_what, uw__ckpiece_size(), UW_CHECK_PIECES_MAX);
    uw__view_init(&sc->copy_a, 1, UW_CHECK_BYTES_MAX);
    uw__view_init(&sc->copy_b, 1, UW_CHECK_BYTES_MAX);
    uw__view_init(&sc->cf_addr, sizeof(uint64_t), frames);
    uw__view_init(&sc->cf_state, sizeof(int8_t), frames);
    uw__view_init(&sc->cf_yf, sizeof(uint64_t), frames);
    uw__view_init(&sc->cf_slot, sizeof(uint64_t), frames);
    uw__view_init(&sc->cf_bytes, (size_t)l->frame_size, frames);
    uw__view_init(&sc->cf_frame, sizeof(uw_frame), frames);
    uw__view_init(&sc->cf_status, sizeof(int), frames);
    uw__view_init(&sc->cf_keep, UW__CF_KEEP((size_t)l->frame_size), frames);
    uw__view_init(&sc->cf_order, sizeof(uw__cf_place), tasks);
    uw__view_init(&sc->cf_early, 1, tasks + 1);
    uw__view_init(&sc->saved, sizeof(uw__saved), tasks);
    uw__view_init(&sc->ck_rd, sizeof(uw_iov),
                  (size_t)UW_TASK_EPOCHS * (UW_RECOVER_WINDOWS + 2) + 2 * UW_CHECK_PIECES_MAX +
                      2 * (UW_PURE_THREADS + UW_PURE_PIECES));
    uw__view_init(&sc->ck_ep, sizeof(uint64_t),
                  2 * (size_t)UW_TASK_EPOCHS * (UW_RECOVER_WINDOWS + 2));
    uw__view_init(&sc->ck_grp, sizeof(size_t), 4 * tasks);
}

void uw__scratch_free(uw__scratch *sc)
{
    uw__view *all[] = {
        &sc->keys,       &sc->cand,      &sc->work,       &sc->work_addr, &sc->work_slot,
        &sc->cross_all,  &sc->cross_at,  &sc->cross_rel,  &sc->rs_used,   &sc->rs_read,
        &sc->iov,        &sc->idx,       &sc->bytes,      &sc->placed,    &sc->roots,
        &sc->pending,    &sc->thread_ok, &sc->need,       &sc->hook,      &sc->hook_now,
        &sc->hook_links, &sc->hook_slot, &sc->children,   &sc->gnode,     &sc->gitems,
        &sc->gtypes,     &sc->dep,       &sc->dep_tmp,    &sc->dep_count, &sc->dep_bytes,
        &sc->kids,       &sc->check_iov, &sc->check_what, &sc->copy_a,    &sc->copy_b,
        &sc->cf_addr,    &sc->cf_state,  &sc->cf_yf,      &sc->cf_slot,   &sc->cf_bytes,
        &sc->cf_frame,   &sc->cf_status, &sc->cf_keep,    &sc->cf_order,  &sc->cf_early,
        &sc->saved,      &sc->ck_rd,     &sc->ck_ep,      &sc->ck_grp};
    size_t i;

    for (i = 0; i < sizeof all / sizeof all[0]; i++)
        uw__view_free(all[i]);
}
