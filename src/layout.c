/*
 * layout.c — the generated per-version tables and their sanity check.
 */
#include "internal/layout.h"

#include <stddef.h>

#include "internal/pyobj.h"
#include "tornstack/error.h"

#include "layouts/layout_py311.inc"
#include "layouts/layout_py312.inc"
#include "layouts/layout_py313.inc"
#include "layouts/layout_py314.inc"
#include "layouts/layout_py315.inc"

const uw_layout *uw__layout_table_for_minor(int py_minor)
{
    switch (py_minor) {
    case 11:
        return &uw_layout_py311;
    case 12:
        return &uw_layout_py312;
    case 13:
        return &uw_layout_py313;
    case 14:
        return &uw_layout_py314;
    case 15:
        return &uw_layout_py315;
    default:
        return NULL;
    }
}

const uw_layout *uw__layout_for_minor(int py_minor)
{
    return py_minor <= UW_WALK_MAX_MINOR ? uw__layout_table_for_minor(py_minor) : NULL;
}

/* An offset the walk dereferences must be present and lie inside its
 * structure; `limit` is that structure's size. */
static int uw_layout_in(int32_t off, int32_t width, int32_t limit)
{
    return off >= 0 && limit > 0 && off + width <= limit;
}

/* The fields that only exist from some version on must be all present or
 * all absent together, as the version says: a table mixing 3.13's stacktop
 * with 3.14's tagged words would make the walk misread every frame. */
static int uw_layout_check_versioned(const uw_layout *l)
{
    int tagged = l->py_minor >= 14;

    if (l->frame_tagged != tagged)
        return UW_ERR_BAD_LAYOUT;
    if (tagged) {
        if (l->frame_stacktop != UW_ABSENT ||
            !uw_layout_in(l->frame_stackpointer, 8, l->frame_size) || l->stackref_tag_bits <= 0 ||
            l->stackref_tag_bits > 7 || l->stackref_borrow_mask <= 0 ||
            (l->stackref_borrow_mask & ~l->stackref_tag_bits) != 0 ||
            (l->stackref_int_tag & ~l->stackref_tag_bits) != 0 || l->stackref_int_tag == 0 ||
            l->owner_interpreter == UW_ABSENT)
            return UW_ERR_BAD_LAYOUT;
        if (l->tstate_impl_size < l->tstate_size ||
            !uw_layout_in(l->tstate_asyncio_running_loop, 8, l->tstate_impl_size) ||
            !uw_layout_in(l->tstate_asyncio_running_task, 8, l->tstate_impl_size) ||
            !uw_layout_in(l->tstate_asyncio_tasks_head, 16, l->tstate_impl_size) ||
            !uw_layout_in(l->interp_asyncio_tasks_head, 16, l->interp_size) ||
            !uw_layout_in(l->llist_next, 8, 16) || !uw_layout_in(l->llist_prev, 8, 16) ||
            l->llist_next == l->llist_prev)
            return UW_ERR_BAD_LAYOUT;
    } else {
        if (!uw_layout_in(l->frame_stacktop, 4, l->frame_size) ||
            l->frame_stackpointer != UW_ABSENT || l->tstate_asyncio_tasks_head != UW_ABSENT ||
            l->owner_interpreter != UW_ABSENT)
            return UW_ERR_BAD_LAYOUT;
    }
    /* 3.15's base frame: the pointer in PyThreadState and the frame
     * embedded in _PyThreadStateImpl come together. */
    if ((l->tstate_base_frame == UW_ABSENT) != (l->tstate_embedded_base_frame == UW_ABSENT))
        return UW_ERR_BAD_LAYOUT;
    if (l->tstate_base_frame != UW_ABSENT &&
        (!uw_layout_in(l->tstate_base_frame, 8, l->tstate_size) ||
         !uw_layout_in(l->tstate_embedded_base_frame, l->frame_size, l->tstate_impl_size)))
        return UW_ERR_BAD_LAYOUT;
    if (l->debug_offsets_size > 0 &&
        (!uw_layout_in(l->debug_version_at, 8, l->debug_offsets_size) ||
         !uw_layout_in(l->debug_free_threaded_at, 8, l->debug_offsets_size)))
        return UW_ERR_BAD_LAYOUT;
    return 0;
}

int uw__layout_check_table(const uw_layout *l)
{
    if (l == NULL)
        return UW_ERR_INVALID_ARG;
    if (l->py_minor < 11 || l->py_minor > 15)
        return UW_ERR_BAD_LAYOUT;
    if (!uw_layout_in(l->runtime_interpreters_head, 8, l->runtime_size) ||
        !uw_layout_in(l->interp_next, 8, l->interp_size) ||
        !uw_layout_in(l->interp_id, 8, l->interp_size) ||
        !uw_layout_in(l->interp_threads_head, 8, l->interp_size) ||
        !uw_layout_in(l->tstate_next, 8, l->tstate_size) ||
        !uw_layout_in(l->tstate_native_thread_id, 8, l->tstate_size) ||
        !uw_layout_in(l->tstate_thread_id, 8, l->tstate_size) ||
        !uw_layout_in(l->tstate_datastack_chunk, 8, l->tstate_size) ||
        !uw_layout_in(l->tstate_datastack_top, 8, l->tstate_size))
        return UW_ERR_BAD_LAYOUT;
    if (l->interp_code_generation != UW_ABSENT &&
        !uw_layout_in(l->interp_code_generation, 8, l->interp_size))
        return UW_ERR_BAD_LAYOUT;
    /* Exactly one way to the current frame. */
    if ((l->tstate_current_frame == UW_ABSENT) == (l->tstate_cframe == UW_ABSENT))
        return UW_ERR_BAD_LAYOUT;
    if (l->tstate_current_frame != UW_ABSENT &&
        !uw_layout_in(l->tstate_current_frame, 8, l->tstate_size))
        return UW_ERR_BAD_LAYOUT;
    if (l->tstate_cframe != UW_ABSENT &&
        (!uw_layout_in(l->tstate_cframe, 8, l->tstate_size) || l->cframe_current_frame < 0 ||
         l->cframe_current_frame > 64))
        return UW_ERR_BAD_LAYOUT;
    if (!uw_layout_in(l->frame_code, 8, l->frame_size) ||
        !uw_layout_in(l->frame_previous, 8, l->frame_size) ||
        !uw_layout_in(l->frame_instr, 8, l->frame_size) ||
        !uw_layout_in(l->frame_owner, 1, l->frame_size) || l->frame_localsplus != l->frame_size - 8)
        return UW_ERR_BAD_LAYOUT;
    if (!uw_layout_in(l->code_qualname, 8, l->code_size) ||
        !uw_layout_in(l->code_filename, 8, l->code_size) ||
        !uw_layout_in(l->code_linetable, 8, l->code_size) ||
        !uw_layout_in(l->code_firstlineno, 4, l->code_size) ||
        !uw_layout_in(l->code_firsttraceable, 4, l->code_size) ||
        !uw_layout_in(l->code_adaptive, 2, l->code_size + 2) ||
        !uw_layout_in(l->code_names, 8, l->code_size) ||
        !uw_layout_in(l->code_consts, 8, l->code_size))
        return UW_ERR_BAD_LAYOUT;
    /* a tuple's header into a UW_PYOBJ_HEAD prefix (pyobj.c uw__tuple_items,
     * which call_site.c reads co_names with) */
    if (!uw_layout_in(l->tuple_size, 8, l->tuple_items) || l->tuple_items > UW_PYOBJ_HEAD)
        return UW_ERR_BAD_LAYOUT;
    /* call_site.c steps back over these, and looks opcodes up in the table */
    if (l->opcode_deopt == NULL || l->opcode_call < 0 || l->opcode_call > 255 ||
        l->opcode_method < 0 || l->opcode_method > 255 || l->opcode_extended_arg < 0 ||
        l->opcode_extended_arg > 255 || l->caches_call < 0 || l->caches_call > 16 ||
        l->caches_method < 0 || l->caches_method > 16 || l->method_name_shift < 0 ||
        l->method_name_shift > 1 ||
        (l->opcode_precall != UW_ABSENT && (l->opcode_precall < 0 || l->opcode_precall > 255 ||
                                            l->caches_precall < 0 || l->caches_precall > 16)))
        return UW_ERR_BAD_LAYOUT;
    if (l->unicode_ascii_data <= l->unicode_state ||
        l->unicode_compact_data < l->unicode_ascii_data || l->unicode_kind_mask == 0)
        return UW_ERR_BAD_LAYOUT;
    if (!uw_layout_in(l->chunk_previous, 8, l->chunk_data) ||
        !uw_layout_in(l->chunk_size, 8, l->chunk_data))
        return UW_ERR_BAD_LAYOUT;
    return uw_layout_check_versioned(l);
}

int uw__layout_check(const uw_layout *l)
{
    int rc = uw__layout_check_table(l);

    if (rc != 0)
        return rc;
    return l->py_minor > UW_WALK_MAX_MINOR ? UW_ERR_UNSUPPORTED_VERSION : 0;
}
