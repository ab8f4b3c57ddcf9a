/*
 * target.h — what is fixed about one interpreter process: where _PyRuntime
 * is, which CPython it runs, which layout table applies.
 *
 * For a live process uw_target_find() reads /proc/PID/maps, opens each
 * mapped object whose name contains "python" (the executable for static
 * builds such as Debian's python3.11, libpython for shared builds such as
 * pyenv's), and looks up _PyRuntime (symbol, else the .PyRuntime section),
 * Py_Version and PyCode_Type.  A 3.13 target's _Py_DebugOffsets block is
 * checked against the table before the target is accepted.  The model fills
 * a uw_target directly.
 */
#ifndef TORNSTACK_TARGET_H
#define TORNSTACK_TARGET_H

#include <stddef.h>
#include <stdint.h>

#include "tornstack/layout.h"
#include "tornstack/reader.h"

#define UW_TARGET_PATH_MAX 512

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
    int pid;                /* 0 for a simulated target */
    uint64_t py_version;    /* PY_VERSION_HEX of the target */
    const uw_layout *layout;
    uint64_t runtime_addr;  /* &_PyRuntime in the target */
    uint64_t code_type;     /* &PyCode_Type in the target, 0 when unknown */
    uw_pytypes types;
    char object_path[UW_TARGET_PATH_MAX]; /* file holding _PyRuntime */
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
 * UW_ERR_UNSUPPORTED_VERSION or UW_ERR_DEBUG_OFFSETS, with a one-line
 * explanation in why. */
int uw_target_find(uw_reader *r, int pid, uw_target *out, char *why, size_t whylen);

/* 0 when the _PyRuntime at runtime_addr (layout l) is initialised, the
 * one the process runs; UW_ERR_NOT_PYTHON (reason in why) for a copy of the
 * interpreter mapped a second time, whose runtime was never set up;
 * UW_ERR_NO_PROCESS or UW_ERR_PERMISSION when it cannot be read at all. */
int uw_target_runtime_ready(uw_reader *r, const uw_layout *l, uint64_t runtime_addr, char *why,
                            size_t whylen);

/* "3.12.1" from a PY_VERSION_HEX value; buf of 16 bytes is enough. */
void uw_version_string(uint64_t hex, char *buf, size_t len);

#endif /* TORNSTACK_TARGET_H */
