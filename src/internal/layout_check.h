/*
 * layout_check.h — every offset the unwinder dereferences, checked once,
 * when a walk is attached to a target, against the structure it belongs to
 * and against the fixed buffer it is read into.
 *
 * The tables are generated from CPython's headers and checked against
 * them (docs/layouts.md), but a table is still data: a new version, a
 * hand edit or a free-threaded build could move a field past the bytes a
 * walk copies.  Every offset that a walk reads out of a local buffer is
 * therefore proven to lie inside that buffer here, and a table that fails
 * is refused with UW_ERR_BAD_LAYOUT before anything is read (CPython's own
 * remote debugger does the same with debug_offsets_validation.h).  The
 * per-call checks that remain in the readers are assertions of what was
 * proven here.
 */
#ifndef TORNSTACK_LAYOUT_CHECK_H
#define TORNSTACK_LAYOUT_CHECK_H

#include <stddef.h>

#include "internal/asyncio_layout.h"
#include "internal/layout.h"

/* The thread walk (uw_unwinder_new): uw__layout_check, then the thread
 * state and frame fields read from copies of tstate_buf and frame_buf
 * bytes, the chunk header, the code object's fixed part. */
int uw__layout_check_thread_walk(const uw_layout *l, size_t tstate_buf, size_t frame_buf);

/* The object readers (pyobj.c, pystr.c): object headers read into
 * UW_PYOBJ_HEAD, UW_PYOBJ_STR_HEAD and UW_PYSTR_HEAD bytes. */
int uw__layout_check_objects(const uw_layout *l);

/* The local windows the Task walk reads objects into. */
typedef struct uw__task_windows {
    size_t coro;     /* a coroutine up to the end of its frame's fixed part */
    size_t name;     /* a Task's name object (str or int) */
    size_t weakref;  /* a registry entry: weakref or Task header */
    size_t hook;     /* the hook module's bytearray header */
    size_t callable; /* a done callback from its type to func_code or m_self */
} uw__task_windows;

/* The Task walk (uw_tasks_new): the object readers, the asyncio Task and
 * Future fields inside task_size, and the windows above. */
int uw__layout_check_task_walk(const uw_layout *l, const uw_asyncio_layout *al,
                               const uw__task_windows *w);

#endif /* TORNSTACK_LAYOUT_CHECK_H */
