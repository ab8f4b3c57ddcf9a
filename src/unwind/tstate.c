/*
 * tstate.c — the fields of a PyThreadState the thread walk uses, decoded
 * from a copy (the layout check at attach proves they lie inside it).
 *
 * 3.11 and 3.12 reach the current frame through the _PyCFrame that
 * tstate->cframe points at (on the C stack); 3.13 keeps it in the thread
 * state.  3.13 also keeps the running asyncio loop in its
 * _PyThreadStateImpl, and 3.14 the running Task, read with the thread
 * state for the Task walk.
 */
#include "internal/frame.h"
#include "unwind_int.h"

void uw__tstate_decode(const uw_layout *l, const uint8_t *ts_bytes, uw_tstate_fields *out)
{
    out->next = uw__u64(ts_bytes + l->tstate_next);
    out->thread_id = uw__u64(ts_bytes + l->tstate_thread_id);
    out->native_id = uw__u64(ts_bytes + l->tstate_native_thread_id);
    out->dict = uw__u64(ts_bytes + l->tstate_dict);
    out->running_loop = l->tstate_asyncio_running_loop != UW_ABSENT
                            ? uw__u64(ts_bytes + l->tstate_asyncio_running_loop)
                            : 0;
    out->running_task = l->tstate_asyncio_running_task != UW_ABSENT
                            ? uw__u64(ts_bytes + l->tstate_asyncio_running_task)
                            : 0;
    out->chunk = uw__u64(ts_bytes + l->tstate_datastack_chunk);
    out->top = uw__u64(ts_bytes + l->tstate_datastack_top);
}

uint64_t uw__tstate_next(const uw_layout *l, const uint8_t *ts_bytes)
{
    return uw__u64(ts_bytes + l->tstate_next);
}

int uw__tstate_has_cframe(const uw_layout *l)
{
    return l->tstate_cframe != UW_ABSENT;
}

uint64_t uw__tstate_cframe_slot(const uw_layout *l, uint64_t ts)
{
    return ts + (uint64_t)l->tstate_cframe;
}

uint64_t uw__tstate_cframe(const uw_layout *l, const uint8_t *ts_bytes)
{
    return uw__u64(ts_bytes + l->tstate_cframe);
}

uint64_t uw__tstate_current_frame_addr(const uw_layout *l, const uint8_t *ts_bytes, uint64_t ts)
{
    if (uw__tstate_has_cframe(l))
        return uw__tstate_cframe(l, ts_bytes) + (uint64_t)l->cframe_current_frame;
    return ts + (uint64_t)l->tstate_current_frame;
}
