/*
 * debug_offsets.h — check CPython's (3.13+) _Py_DebugOffsets block (the
 * first member of _PyRuntime) and _asyncio's Py_AsyncioModuleDebugOffsets
 * block (3.14+, section .AsyncioDebug) against the tables tornstack was
 * built with, and tell apart builds no table describes.
 *
 * The blocks are target memory, hence untrusted: each is copied whole and
 * then judged field by field.  A free-threaded or patched build carries
 * different numbers; walking it with our table would read garbage, so any
 * difference is refused with the first differing field named in `why`.
 */
#ifndef TORNSTACK_DEBUG_OFFSETS_H
#define TORNSTACK_DEBUG_OFFSETS_H

#include <stddef.h>
#include <stdint.h>

#include "internal/asyncio_layout.h"
#include "internal/layout.h"

#define UW_DEBUG_COOKIE "xdebugpy"

/* blk/len: the bytes read from the start of _PyRuntime.  py_version: the
 * target's Py_Version (0 if unknown).  Returns 0, UW_ERR_DEBUG_OFFSETS (with
 * a sentence in why) or UW_ERR_INVALID_ARG. */
int uw__debug_offsets_check(const uw_layout *layout, uint64_t py_version, const uint8_t *blk,
                            size_t len, char *why, size_t whylen);

/* Is the target a build the table describes at all?  py_version: its
 * Py_Version.  blk/len: its _Py_DebugOffsets block, or NULL/0 before 3.13.
 * UW_ERR_UNSUPPORTED_BUILD for a free-threaded build (free_threaded word
 * non-zero under a valid cookie) or a pre-release other than the one the
 * table was generated from; 0 otherwise (the fields are judged by
 * uw__debug_offsets_check). */
int uw_build_check(const uw_layout *layout, uint64_t py_version, const uint8_t *blk, size_t len,
                   char *why, size_t whylen);

/* blk/len: the target's .AsyncioDebug section.  Every word must equal the
 * _asyncio table (Task fields) or the layout table (thread and interpreter
 * fields).  Returns 0, UW_ERR_DEBUG_OFFSETS (first differing field in why)
 * or UW_ERR_INVALID_ARG (no such block in this version). */
int uw_asyncio_debug_check(const uw_layout *layout, const uw_asyncio_layout *al, const uint8_t *blk,
                           size_t len, char *why, size_t whylen);

#endif /* TORNSTACK_DEBUG_OFFSETS_H */
