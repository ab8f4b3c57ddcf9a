/*
 * fake_proc.h — a tiny fabricated CPython process for unit tests.
 *
 * Sparse memory made of regions, read through a uw_reader whose read fails
 * like process_vm_readv does (unmapped: UW_ERR_READ_FAULT; running off the
 * end of a region: UW_ERR_READ_SHORT), and builders that lay out runtime,
 * interpreter, thread state, frames, code objects and strings with the real
 * layout table of one version.  The model (model/) does this in full for
 * racy scenarios; this helper only builds still pictures for the unit tests.
 */
#ifndef TORNSTACK_FAKE_PROC_H
#define TORNSTACK_FAKE_PROC_H

#include <stddef.h>
#include <stdint.h>

#include "internal/layout.h"
#include "tornstack/reader.h"
#include "tornstack/target.h"

#define FP_CODE_TYPE 0x7000000100ull /* fake &PyCode_Type */
#define FP_STR_TYPE 0x7000000200ull
#define FP_BYTES_TYPE 0x7000000300ull
#define FP_CORO_TYPE 0x7000000400ull
#define FP_SET_TYPE 0x7000000500ull
#define FP_LONG_TYPE 0x7000000600ull
#define FP_NONE 0x7000000700ull
#define FP_FUTURE_OBJ_TYPE 0x7000000800ull

typedef struct fp_region {
    uint64_t addr;
    size_t len;
    uint8_t *mem;
} fp_region;

typedef struct fake_proc {
    const uw_layout *l;
    fp_region *regions;
    size_t n_regions, cap_regions;
    uint64_t brk; /* next allocation */
    uw_reader reader;
    uw_target target;
    uint64_t runtime, interp;
    uint64_t reads; /* backend reads served */
    int paged;      /* fp_use_pages */
} fake_proc;

void fp_init(fake_proc *fp, int py_minor);
void fp_free(fake_proc *fp);
/* Count a vectored read as one call (default: one call per piece). */
void fp_use_vectored(fake_proc *fp);
/* As fp_use_vectored, and memory mapped a page at a time, as a process's
 * is: every byte of a page some region touches reads (0 between regions),
 * so only a page no region touches faults (by default every byte outside
 * a region does). */
void fp_use_pages(fake_proc *fp);

/* Allocate zeroed memory (16-byte aligned), in its own region. */
uint64_t fp_alloc(fake_proc *fp, size_t len);
/* Local pointer to target memory [addr, addr+len), or NULL. */
uint8_t *fp_ptr(fake_proc *fp, uint64_t addr, size_t len);
void fp_put64(fake_proc *fp, uint64_t addr, uint64_t v);
void fp_put32(fake_proc *fp, uint64_t addr, uint32_t v);
void fp_put8(fake_proc *fp, uint64_t addr, uint8_t v);
/* Drop the region starting at addr (reads then fault). */
void fp_unmap(fake_proc *fp, uint64_t addr);

/* Objects */
uint64_t fp_str(fake_proc *fp, const char *ascii);
uint64_t fp_str_kind(fake_proc *fp, const void *data, size_t n, unsigned kind);
uint64_t fp_bytes(fake_proc *fp, const void *data, size_t len);
/* A code object whose code unit i has line lines[i] (n units). */
uint64_t fp_code(fake_proc *fp, const char *qualname, const char *file, int firstlineno,
                 const int *lines, size_t n);
/* Write a frame at addr: code, previous, owner, instruction index. */
void fp_frame_at(fake_proc *fp, uint64_t addr, uint64_t code, uint64_t previous, int owner,
                 int64_t index);
/* A frame in its own allocation. */
uint64_t fp_frame(fake_proc *fp, uint64_t code, uint64_t previous, int owner, int64_t index);

/* The call `x.<method>(<args>)` as the version compiles it: the method
 * load, PRECALL (3.11), CALL, each with its inline caches, after one unit
 * (RESUME, or EXTENDED_ARG with pad_ext).  spec: specialized opcodes that
 * the interpreter's table folds to the base ones; method: LOAD_ATTR's
 * method bit (3.12+); index: the name's place in co_names (0: 1), every
 * other name being "other". */
typedef struct fp_call {
    const char *method;
    int args, method_bit, spec, pad_ext, index;
} fp_call;
/* handle._run(), the call that makes a Handle._run frame. */
extern const fp_call fp_run_call;
/* A code object of one line (firstlineno) making the call c; *index is
 * the instruction index (fp_frame_at) at which a frame making that call
 * stands. */
uint64_t fp_code_call(fake_proc *fp, const char *qualname, const char *file, int firstlineno,
                      const fp_call *c, int64_t *index);
/* Rewrite the frame at addr (its previous and owner kept) as a frame of a
 * new code object of one line named qualname that stands at its
 * handle._run() call: asyncio's _run_once with a Handle._run frame above
 * it, as a walk without the loop's epoch needs to see it (rule
 * recheck_unbracketed_split_site). */
void fp_stand_at_run_call(fake_proc *fp, uint64_t addr, const char *qualname, int line);

/* Runtime with one interpreter and no threads; returns the interpreter. */
uint64_t fp_runtime(fake_proc *fp);
/* New interpreter appended after `after` (0: the runtime's first). */
uint64_t fp_interp(fake_proc *fp, uint64_t after, int64_t id);
/* Thread state at the head of interp's list with current frame `frame`. */
uint64_t fp_thread(fake_proc *fp, uint64_t interp, uint64_t native_id, uint64_t frame);

/* A type object named tp_name (a C string) with base `base` (0: none). */
uint64_t fp_type(fake_proc *fp, const char *tp_name, uint64_t base);
/* A set holding keys[0..n) (table of the next power of two >= 2n). */
uint64_t fp_set(fake_proc *fp, const uint64_t *keys, size_t n);
/* A small int object. */
uint64_t fp_long(fake_proc *fp, int64_t v);
/* A coroutine whose embedded frame runs `code` at instruction `index` in
 * frame state `state`; a non-zero awaitee is put on its value stack. */
uint64_t fp_coro(fake_proc *fp, uint64_t code, int state, int64_t index, uint64_t awaitee);
/* gen_send_ex2's first store of a Task step: the value sent (None) pushed
 * on coroutine `coro`'s value stack, its state and `previous` not touched
 * yet (the root still reads suspended and unlinked). */
void fp_coro_send_none(fake_proc *fp, uint64_t coro);
/* 3.14+: append `node` (a Task's task_node, or any llist_node) to the
 * circular list whose head is at `head` (an all-zero head is made empty
 * first), as CPython's llist_insert_tail does. */
void fp_list_append(fake_proc *fp, uint64_t head, uint64_t node);
/* An _asyncio Task object of type `type` (per the asyncio table). */
uint64_t fp_task(fake_proc *fp, uint64_t type, uint64_t loop, uint64_t coro, uint64_t name,
                 uint64_t waiter);

/* A dict {keys[i]: values[i]} (str keys, a combined table).  Its keys
 * object and all its key strings take two regions, however many. */
uint64_t fp_dict(fake_proc *fp, const char *const *keys, const uint64_t *values, size_t n);
/* A list of items[0..n). */
uint64_t fp_list(fake_proc *fp, const uint64_t *items, size_t n);
/* A tuple of the n items (stored in it). */
uint64_t fp_tuple(fake_proc *fp, const uint64_t *items, size_t n);
/* An instance of `type` (made by fp_type) whose attributes are the dict
 * `dict`, found through the type's tp_dictoffset (any version). */
uint64_t fp_instance(fake_proc *fp, uint64_t type, uint64_t dict);
/* A bytearray holding data[0..n). */
uint64_t fp_bytearray(fake_proc *fp, const void *data, size_t n);
/* The interpreter's sys.modules := `modules` (a dict). */
void fp_set_modules(fake_proc *fp, uint64_t interp, uint64_t modules);

#endif
