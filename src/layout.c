/*
 * layout.c — the generated per-version tables and their sanity check.
 */
#include "internal/layout.h"

#include <stddef.h>

#include "tornstack/error.h"

#include "layouts/layout_py311.inc"
#include "layouts/layout_py312.inc"
#include "layouts/layout_py313.inc"

const uw_layout *uw__layout_for_minor(int py_minor)
{
    switch (py_minor) {
    case 11:
        return &uw_layout_py311;
    case 12:
        return &uw_layout_py312;
    case 13:
        return &uw_layout_py313;
    default:
        return NULL;
    }
}

/* An offset the walk dereferences must be present and lie inside its
 * structure; `limit` is that structure's size. */
static int uw_layout_in(int32_t off, int32_t width, int32_t limit)
{
    return off >= 0 && limit > 0 && off + width <= limit;
}

int uw__layout_check(const uw_layout *l)
{
    if (l == NULL)
        return UW_ERR_INVALID_ARG;
    if (l->py_minor < 11 || l->py_minor > 13)
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
    /* Exactly one way to the current frame. */
    if ((l->tstate_current_frame == UW_ABSENT) == (l->tstate_cframe == UW_ABSENT))
        return UW_ERR_BAD_LAYOUT;
    if (l->tstate_current_frame != UW_ABSENT &&
        !uw_layout_in(l->tstate_current_frame, 8, l->tstate_size))
        return UW_ERR_BAD_LAYOUT;
    if (l->tstate_cframe != UW_ABSENT &&
        (!uw_layout_in(l->tstate_cframe, 8, l->tstate_size) ||
         l->cframe_current_frame < 0 || l->cframe_current_frame > 64))
        return UW_ERR_BAD_LAYOUT;
    if (!uw_layout_in(l->frame_code, 8, l->frame_size) ||
        !uw_layout_in(l->frame_previous, 8, l->frame_size) ||
        !uw_layout_in(l->frame_instr, 8, l->frame_size) ||
        !uw_layout_in(l->frame_owner, 1, l->frame_size) ||
        !uw_layout_in(l->frame_stacktop, 4, l->frame_size) ||
        l->frame_localsplus != l->frame_size - 8)
        return UW_ERR_BAD_LAYOUT;
    if (!uw_layout_in(l->code_qualname, 8, l->code_size) ||
        !uw_layout_in(l->code_filename, 8, l->code_size) ||
        !uw_layout_in(l->code_linetable, 8, l->code_size) ||
        !uw_layout_in(l->code_firstlineno, 4, l->code_size) ||
        !uw_layout_in(l->code_firsttraceable, 4, l->code_size) ||
        !uw_layout_in(l->code_adaptive, 2, l->code_size + 2))
        return UW_ERR_BAD_LAYOUT;
    if (l->unicode_ascii_data <= l->unicode_state ||
        l->unicode_compact_data < l->unicode_ascii_data || l->unicode_kind_mask == 0)
        return UW_ERR_BAD_LAYOUT;
    if (!uw_layout_in(l->chunk_previous, 8, l->chunk_data) ||
        !uw_layout_in(l->chunk_size, 8, l->chunk_data))
        return UW_ERR_BAD_LAYOUT;
    return 0;
}
