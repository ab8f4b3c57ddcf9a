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
 * Task object, a registry entry, a coroutine window with its awaitee slot
 * (16 bytes), or its name window. */
static size_t uw_bytes_per_task(const uw_asyncio_layout *al)
{
    size_t n = UW_CORO_WINDOW + 16;

    if ((size_t)al->task_size > n)
        n = (size_t)al->task_size;
    if (UW_NAME_WINDOW > n)
        n = UW_NAME_WINDOW;
    if (UW_WEAKREF_WINDOW > n)
        n = UW_WEAKREF_WINDOW;
    return n;
}

/* The chain check's bytes per copy: every Task's state..coroutine piece,
 * and every coroutine up to its frame and, when its awaitee lies close,
 * up to the end of its value stack (at most 16 slots). */
static size_t uw_check_bytes(const uw_layout *l, const uw_asyncio_layout *al)
{
    size_t task = (size_t)(al->fut_state > al->task_coro ? al->fut_state + 4 : al->task_coro + 8);
    size_t coro = uw__gen_window(l);
    size_t deep = (size_t)uw__gen_frame_offset(l) + (size_t)uw__frame_slot_offset(l, 16);

    if (deep > coro)
        coro = deep;
    return (size_t)UW_LIMIT_TASKS * task + (size_t)UW_TASK_FRAMES_MAX * coro;
}

/* Each view's element size and capacity, its worst case: UW_LIMIT_TASKS
 * Tasks (three pieces each in a chain level), UW_TASK_FRAMES_MAX
 * coroutine frames, the check's two pieces per Task and frame plus the
 * epochs, UW_LIMIT_GATHER_CHILDREN children, UW_LIMIT_LINK_RECORDS hook
 * records, a pending mark per possible thread. */
void uw__scratch_init(uw__scratch *sc, const uw_layout *l, const uw_asyncio_layout *al)
{
    const size_t tasks = UW_LIMIT_TASKS, frames = UW_TASK_FRAMES_MAX;
    const size_t check_pieces = 2 * (UW_TASK_EPOCHS + tasks + frames);

    uw__view_init(&sc->keys, sizeof(uint64_t), tasks);
    uw__view_init(&sc->cand, sizeof(uint64_t), tasks);
    uw__view_init(&sc->work, sizeof(uw_task_work), tasks);
    uw__view_init(&sc->iov, sizeof(uw_iov), 3 * tasks);
    uw__view_init(&sc->idx, sizeof(size_t), 3 * tasks);
    uw__view_init(&sc->bytes, 1, tasks * uw_bytes_per_task(al));
    uw__view_init(&sc->placed, sizeof(size_t), tasks);
    uw__view_init(&sc->types, sizeof(uint64_t), tasks);
    uw__view_init(&sc->roots, sizeof(uint64_t), tasks);
    uw__view_init(&sc->pending, sizeof(size_t),
                  (size_t)UW_LIMIT_INTERPRETERS * (size_t)UW_LIMIT_THREADS);
    uw__view_init(&sc->children, sizeof(uint64_t), UW_LIMIT_GATHER_CHILDREN);
    uw__view_init(&sc->hook, 1, (size_t)UW_LIMIT_LINK_RECORDS * UW_LINK_RECORD);
    uw__view_init(&sc->check_iov, sizeof(uw_iov), check_pieces);
    uw__view_init(&sc->copy_a, 1, uw_check_bytes(l, al));
    uw__view_init(&sc->copy_b, 1, uw_check_bytes(l, al));
    uw__view_init(&sc->cf_addr, sizeof(uint64_t), frames);
    uw__view_init(&sc->cf_state, sizeof(int8_t), frames);
    uw__view_init(&sc->cf_yf, sizeof(uint64_t), frames);
    uw__view_init(&sc->cf_bytes, (size_t)l->frame_size, frames);
    uw__view_init(&sc->cf_frame, sizeof(uw_frame), frames);
    uw__view_init(&sc->cf_status, sizeof(int), frames);
}

void uw__scratch_free(uw__scratch *sc)
{
    uw__view *all[] = {&sc->keys,     &sc->cand,     &sc->work,      &sc->iov,      &sc->idx,
                       &sc->bytes,    &sc->placed,   &sc->types,     &sc->roots,    &sc->pending,
                       &sc->children, &sc->hook,     &sc->check_iov, &sc->copy_a,   &sc->copy_b,
                       &sc->cf_addr,  &sc->cf_state, &sc->cf_yf,     &sc->cf_bytes, &sc->cf_frame,
                       &sc->cf_status};
    size_t i;

    for (i = 0; i < sizeof all / sizeof all[0]; i++)
        uw__view_free(all[i]);
}
