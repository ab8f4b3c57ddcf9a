/*
 * target.h — what is fixed about one interpreter process: where _PyRuntime
 * is, which CPython it runs, which layout table applies.
 *
 * For a live process uw_target_find() reads /proc/PID/maps, opens each
 * mapped object whose name contains "python" (the executable for static
 * builds such as Debian's python3.11, libpython for shared builds such as
 * pyenv's), and looks up _PyRuntime (symbol, else the .PyRuntime section),
 * Py_Version and PyCode_Type.  A free-threaded build or a pre-release no
 * table describes is refused; a 3.13+ target's _Py_DebugOffsets block, and
 * a 3.14+ target's _asyncio debug offsets (section .AsyncioDebug, wherever
 * it is mapped), are checked against the tables before the target is
 * accepted.  The model fills a uw_target directly.
 */
#ifndef TORNSTACK_TARGET_H
#define TORNSTACK_TARGET_H

#include <stddef.h>
#include <stdint.h>

#include "tornstack/reader.h"

/* The offsets of one CPython version (internal: src/internal/layout.h). */
typedef struct uw_layout uw_layout;

#define UW_TARGET_PATH_MAX 512
/* Bytes of a debug-offsets block read at most (3.15's is 888). */
#define UW_TARGET_DEBUG_BLOCK_MAX 1024

/* Addresses of builtin type objects (and a few singletons) in the target,
 * from exported symbols; 0 when unknown (checks needing them then fail
 * closed: an object is not trusted to be of that type). */
typedef struct uw_pytypes {
    uint64_t dict, set, list, tuple, long_, str, bytes, weakref, module;
    uint64_t coro, gen, asyncgen, asend;
    uint64_t none;      /* &_Py_NoneStruct */
    uint64_t set_dummy; /* the object _PySet_Dummy points at */
} uw_pytypes;

typedef struct uw_target {
    int pid;             /* 0 for a simulated target */
    uint64_t py_version; /* PY_VERSION_HEX of the target */
    const uw_layout *layout;
    uint64_t runtime_addr; /* &_PyRuntime in the target */
    uint64_t code_type;    /* &PyCode_Type in the target, 0 when unknown */
    uw_pytypes types;
    char object_path[UW_TARGET_PATH_MAX]; /* file holding _PyRuntime */
    /* 3.14+: address of _asyncio's checked .AsyncioDebug block, 0 while
     * not found (asyncio not imported yet, or a simulated target), and the
     * object holding it. */
    uint64_t asyncio_debug_addr;
    char asyncio_debug_path[UW_TARGET_PATH_MAX];
} uw_target;

/* One line of /proc/PID/maps. */
typedef struct uw_mapping {
    uint64_t start, end, offset;
    char perms[5];
    char path[UW_TARGET_PATH_MAX];
} uw_mapping;

/* Parse one maps line (no trailing newline needed).  Lines without a path
 * give path "".  Returns 0 or UW_ERR_MAPS. */
int uw_maps_parse_line(const char *line, uw_mapping *out);

/* Locate the interpreter in process pid, reading its memory through r.
 * On failure returns UW_ERR_NO_PROCESS, UW_ERR_PERMISSION, UW_ERR_NOT_PYTHON,
 * UW_ERR_UNSUPPORTED_VERSION, UW_ERR_UNSUPPORTED_BUILD or
 * UW_ERR_DEBUG_OFFSETS, with a one-line explanation in why.  A version
 * with a table but no walk yet (3.14, 3.15) is fully checked and then
 * refused with UW_ERR_UNSUPPORTED_VERSION. */
int uw_target_find(uw_reader *r, int pid, uw_target *out, char *why, size_t whylen);

/* The checks of a located runtime (t->layout, t->py_version and
 * t->runtime_addr set): the build (uw_build_check), then the
 * _Py_DebugOffsets block field by field.  0, UW_ERR_UNSUPPORTED_BUILD,
 * UW_ERR_DEBUG_OFFSETS or a read error; a sentence in why. */
int uw_target_check_runtime(uw_reader *r, uw_target *t, char *why, size_t whylen);

/* Read and check an .AsyncioDebug block of section_size bytes at addr.
 * 0, UW_ERR_DEBUG_OFFSETS, a read error, or UW_ERR_INVALID_ARG when the
 * version publishes no such block. */
int uw_target_check_asyncio_at(uw_reader *r, const uw_target *t, uint64_t addr,
                               uint64_t section_size, char *why, size_t whylen);

/* 3.14+: find _asyncio's .AsyncioDebug section among the objects the live
 * process maps (bounded), check it, and remember its address in
 * t->asyncio_debug_addr.  0 (found now or before), UW_ERR_NOT_FOUND (not
 * mapped yet: asyncio may be imported later, so ask again; also for
 * versions without the block and simulated targets), UW_ERR_DEBUG_OFFSETS,
 * or a /proc or read error.  Each call that has not found it yet reads
 * /proc/PID/maps and the section tables of the mapped objects: callers
 * retry at most once per sample. */
int uw_target_find_asyncio(uw_reader *r, uw_target *t, char *why, size_t whylen);

/* 0 when the _PyRuntime at runtime_addr (layout l) is initialised, the
 * one the process runs; UW_ERR_NOT_PYTHON (reason in why) for a copy of the
 * interpreter mapped a second time, whose runtime was never set up;
 * UW_ERR_NO_PROCESS or UW_ERR_PERMISSION when it cannot be read at all. */
int uw_target_runtime_ready(uw_reader *r, const uw_layout *l, uint64_t runtime_addr, char *why,
                            size_t whylen);

/* "3.12.1" from a PY_VERSION_HEX value; buf of 16 bytes is enough. */
void uw_version_string(uint64_t hex, char *buf, size_t len);

/* The same with the release level of a pre-release ("3.15.0b1",
 * "3.14.0rc2"); buf of 24 bytes is enough. */
void uw_release_string(uint64_t hex, char *buf, size_t len);

#endif /* TORNSTACK_TARGET_H */
