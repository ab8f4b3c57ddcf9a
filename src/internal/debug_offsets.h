/*
 * debug_offsets.h — check CPython 3.13's _Py_DebugOffsets block (the first
 * member of _PyRuntime) against the layout table tornstack was built with.
 *
 * The block is target memory, hence untrusted: it is copied whole and then
 * judged field by field.  A free-threaded or patched build carries different
 * numbers; walking it with our table would read garbage, so any difference
 * is refused with the first differing field named in `why`.
 */
#ifndef TORNSTACK_DEBUG_OFFSETS_H
#define TORNSTACK_DEBUG_OFFSETS_H

#include <stddef.h>
#include <stdint.h>

#include "internal/layout.h"

#define UW_DEBUG_COOKIE "xdebugpy"

/* blk/len: the bytes read from the start of _PyRuntime.  py_version: the
 * target's Py_Version (0 if unknown).  Returns 0, UW_ERR_DEBUG_OFFSETS (with
 * a sentence in why) or UW_ERR_INVALID_ARG. */
int uw__debug_offsets_check(const uw_layout *layout, uint64_t py_version, const uint8_t *blk,
                            size_t len, char *why, size_t whylen);

#endif /* TORNSTACK_DEBUG_OFFSETS_H */
