/*
 * layout.h — byte offsets and sizes of the CPython structures the unwinder
 * reads, one table per supported minor version (x86-64, release GIL build).
 *
 * The tables are not written by hand: tools/layoutgen.c is compiled against
 * the real headers of one CPython version (Py_BUILD_CORE, internal headers)
 * and prints the initialiser that src/layouts/layout_py3XX.inc holds.  The
 * ctest "layouts" regenerates them from every installed interpreter and fails
 * on any difference, so a table can never drift from the headers silently.
 *
 * A field that does not exist in a version is UW_ABSENT.  Every offset is
 * small and non-negative otherwise; uw__layout_check() asserts that on load.
 */
#ifndef TORNSTACK_LAYOUT_H
#define TORNSTACK_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#define UW_ABSENT (-1)
/* For enum values that may legitimately be negative (frame states:
 * 3.13's FRAME_SUSPENDED_YIELD_FROM is -1), "absent" is INT32_MIN. */
#define UW_NO_STATE INT32_MIN

/* One entry of CPython's (3.13+) _Py_DebugOffsets block: where it sits in the
 * block and the value the headers we were generated from put there. */
typedef struct uw_debug_field {
    const char *name; /* e.g. "thread_state.current_frame" */
    uint32_t at;      /* byte offset inside _Py_DebugOffsets */
    uint64_t expect;  /* value in a build matching this table */
} uw_debug_field;

typedef struct uw_layout {
    int py_minor; /* 11 .. 15 */
    /* PY_RELEASE_LEVEL and PY_RELEASE_SERIAL of the headers the table was
     * generated from (15 and 0 for a final release).  A pre-release target
     * is only accepted by a table generated from that same pre-release. */
    int32_t release_level;
    int32_t release_serial;

    /* _PyRuntimeState */
    int32_t runtime_size;
    int32_t runtime_interpreters_head;
    int32_t runtime_interpreters_main;

    /* PyInterpreterState */
    int32_t interp_size;
    int32_t interp_next;
    int32_t interp_id;
    int32_t interp_threads_head;
    int32_t interp_modules; /* sys.modules dict (3.12+: imports.modules) */
    int32_t interp_sysdict;
    /* 3.14+: counts code objects deallocated (code_dealloc adds one before
     * anything else); equal at two reads, no code object was freed in
     * between (code_cache.h).  UW_ABSENT before. */
    int32_t interp_code_generation;

    /* PyThreadState (3.11/3.12 reach the frame through a _PyCFrame) */
    int32_t tstate_size;
    int32_t tstate_prev;
    int32_t tstate_next;
    int32_t tstate_interp;
    int32_t tstate_cframe;        /* UW_ABSENT in 3.13 */
    int32_t cframe_current_frame; /* UW_ABSENT in 3.13 */
    int32_t tstate_current_frame; /* UW_ABSENT in 3.11/3.12 */
    int32_t tstate_thread_id;
    int32_t tstate_native_thread_id;
    int32_t tstate_dict;
    int32_t tstate_datastack_chunk;
    int32_t tstate_datastack_top;
    int32_t tstate_datastack_limit;

    /* _PyStackChunk */
    int32_t chunk_previous;
    int32_t chunk_size;
    int32_t chunk_top;
    int32_t chunk_data;

    /* _PyInterpreterFrame */
    int32_t frame_size; /* sizeof, without localsplus */
    int32_t frame_code; /* f_code (3.11/3.12) or f_executable (3.13) */
    int32_t frame_previous;
    int32_t frame_func;
    int32_t frame_globals;
    int32_t frame_instr;        /* prev_instr (3.11/3.12) or instr_ptr (3.13+) */
    int32_t frame_stacktop;     /* int count of stack slots; UW_ABSENT in 3.14+ */
    int32_t frame_stackpointer; /* _PyStackRef *: one past the top (3.14+) */
    /* 1 when f_executable, f_funcobj and localsplus[] hold _PyStackRef
     * words (3.14+): a tagged pointer, or a tagged int. */
    int32_t frame_tagged;
    int32_t stackref_tag_bits;    /* Py_TAG_BITS: low bits never part of a pointer */
    int32_t stackref_borrow_mask; /* bits PyStackRef_AsPyObjectBorrow clears (measured) */
    int32_t stackref_int_tag;     /* (bits & tag_bits) == this: a tagged int, no object */
    int32_t stackref_null;        /* the bits of PyStackRef_NULL */
    int32_t frame_owner;
    int32_t frame_localsplus;
    int32_t owner_thread;
    int32_t owner_generator;
    int32_t owner_frame_object;
    int32_t owner_cstack;      /* UW_ABSENT in 3.11 and 3.15 */
    int32_t owner_interpreter; /* FRAME_OWNED_BY_INTERPRETER, 3.14+ */
    /* 1 when the instruction pointer names the instruction last started
     * (3.11/3.12 prev_instr), 0 when it names the one executing (3.13). */
    int32_t instr_is_prev;

    /* PyObject / PyTypeObject */
    int32_t object_type;
    int32_t type_name;
    int32_t type_flags;

    /* PyCodeObject */
    int32_t code_size;  /* sizeof, without bytecode */
    int32_t code_units; /* ob_size: bytecode length in code units */
    int32_t code_flags;
    int32_t code_firstlineno;
    int32_t code_filename;
    int32_t code_name;
    int32_t code_qualname;
    int32_t code_linetable;
    int32_t code_firsttraceable;
    int32_t code_adaptive;
    int32_t code_names;  /* co_names: the tuple of names attribute loads use */
    int32_t code_consts; /* co_consts: its constants, nested functions' code among them */

    /* Unicode and bytes */
    int32_t unicode_length;
    int32_t unicode_state;
    int32_t unicode_ascii_data;   /* sizeof(PyASCIIObject) */
    int32_t unicode_compact_data; /* sizeof(PyCompactUnicodeObject) */
    int32_t unicode_kind_mask;    /* bits of the state word, measured */
    int32_t unicode_kind_shift;
    int32_t unicode_compact_mask;
    int32_t unicode_ascii_mask;
    int32_t bytes_size;
    int32_t bytes_data;

    /* Generators and coroutines (same offsets for PyCoroObject) */
    int32_t gen_frame_state;
    int32_t gen_iframe;
    int32_t gen_qualname;
    int32_t state_created;
    int32_t state_suspended;
    int32_t state_suspended_yield_from;        /* UW_NO_STATE before 3.13 */
    int32_t state_suspended_yield_from_locked; /* 3.15 only */
    int32_t state_executing;
    int32_t state_completed; /* UW_NO_STATE in 3.15 (a finished frame is CLEARED) */
    int32_t state_cleared;

    /* Objects the Task walk reads (asyncio registries, links) */
    int32_t type_basicsize;
    int32_t type_dictoffset;
    int32_t type_dict; /* tp_dict: a class's own attributes (heap types) */
    int32_t type_base;
    int32_t heaptype_cached_keys; /* PyHeapTypeObject.ht_cached_keys */
    int32_t tpflags_managed_dict;
    int32_t tpflags_inline_values; /* UW_ABSENT before 3.13 */
    /* Where a managed-dict object keeps its attributes:
     * 11: dict pointer at managed_dict, values pointer at managed_values;
     * 12: one tagged word at managed_dict (low bit set: values pointer - 1);
     * 13: dict pointer at managed_dict, inline values at tp_basicsize. */
    int32_t managed_dict_mode;
    int32_t managed_dict;
    int32_t managed_values; /* UW_ABSENT unless mode 11 */
    int32_t dict_used;
    int32_t dict_keys;
    int32_t dict_values;
    int32_t dictkeys_log2_size;
    int32_t dictkeys_log2_index_bytes;
    int32_t dictkeys_kind;
    int32_t dictkeys_nentries;
    int32_t dictkeys_indices;
    int32_t dictkeys_kind_general;
    int32_t dictkeys_kind_unicode;
    int32_t dictkeys_kind_split;
    int32_t dictentry_size;
    int32_t dictentry_key;
    int32_t dictentry_value;
    int32_t dictuentry_size;
    int32_t dictuentry_key;
    int32_t dictuentry_value;
    int32_t dictvalues_values; /* offset of values[] in PyDictValues */
    int32_t module_dict;
    int32_t func_code;  /* PyFunctionObject.func_code */
    int32_t cfunc_self; /* PyCFunctionObject.m_self (a builtin method's object) */
    int32_t set_fill;
    int32_t set_used;
    int32_t set_mask;
    int32_t set_table;
    int32_t setentry_size;
    int32_t setentry_key;
    int32_t setentry_hash;
    int32_t weakref_object;
    int32_t list_size;
    int32_t list_items;
    int32_t tuple_size;
    int32_t tuple_items;
    int32_t long_tag; /* ob_size (3.11, signed digit count) or lv_tag */
    int32_t long_digits;
    int32_t long_shift;  /* bits per digit */
    int32_t long_tagged; /* 1 when lv_tag encodes sign and size (3.12+) */
    int32_t bytearray_size;
    int32_t bytearray_start;
    int32_t tstate_asyncio_running_loop; /* 3.13+: _PyThreadStateImpl */
    /* _PyThreadStateImpl (3.13+; every thread state is allocated as one) */
    int32_t tstate_impl_size;
    int32_t tstate_asyncio_running_task; /* 3.14+: strong reference */
    int32_t tstate_asyncio_tasks_head;   /* 3.14+: llist_node of native Tasks */
    /* 3.15: PyThreadState.base_frame points at the _PyInterpreterFrame
     * embedded in _PyThreadStateImpl at tstate_embedded_base_frame; every
     * complete frame chain of the thread ends there. */
    int32_t tstate_base_frame;
    int32_t tstate_embedded_base_frame;
    /* 3.14+: PyInterpreterState.asyncio_tasks_head (Tasks of exited threads) */
    int32_t interp_asyncio_tasks_head;
    int32_t llist_next; /* struct llist_node */
    int32_t llist_prev;
    int32_t opcode_resume;
    int32_t opcode_resume_alt; /* RESUME_QUICK (3.11), INSTRUMENTED_RESUME (3.12+) */
    /* A method call without arguments, `x.name()` (call_site.c): the
     * attribute load (LOAD_METHOD 3.11, LOAD_ATTR after, whose oparg is the
     * name's index shifted left by method_name_shift, its low bit the
     * method flag), PRECALL (3.11 only), CALL; the inline cache entries
     * after each; the prefix that widens an oparg; and the interpreter's
     * table folding every specialized opcode to its base instruction. */
    int32_t opcode_call;
    int32_t caches_call;
    int32_t opcode_method;
    int32_t caches_method;
    int32_t method_name_shift;
    int32_t opcode_precall;
    int32_t caches_precall;
    int32_t opcode_extended_arg;
    const uint8_t *opcode_deopt; /* 256 entries */

    /* _Py_DebugOffsets (3.13+): size of the block, where its version and
     * free_threaded words sit (the cookie is at 0), what it must hold */
    int32_t debug_offsets_size;
    int32_t debug_version_at;
    int32_t debug_free_threaded_at;
    const uw_debug_field *debug_fields;
    size_t n_debug_fields;
} uw_layout;

/* Newest minor version whose frames and Tasks the walks can read (3.14
 * and 3.15: tagged references, stackpointer, owners, generator states and
 * per-thread Task lists included).  A table for a later version could be
 * added for the attach-time checks first (uw__layout_table_for_minor):
 * attaching checks a target against it, then refuses it as unsupported. */
#define UW_WALK_MAX_MINOR 15

/* The table the walks use for a minor version, or NULL when the walks do
 * not support it (older than 3.11, or newer than UW_WALK_MAX_MINOR). */
const uw_layout *uw__layout_for_minor(int py_minor);

/* Every generated table, including versions the walks cannot read yet
 * (3.14 and 3.15): what attach-time checks and layout tests use. */
const uw_layout *uw__layout_table_for_minor(int py_minor);

/* Sanity of any generated table: offsets in range, exactly one way to the
 * current frame and to the top of a frame's value stack, the tagged-word
 * constants consistent.  Returns 0 or UW_ERR_BAD_LAYOUT / INVALID_ARG. */
int uw__layout_check_table(const uw_layout *layout);

/* May the walks use this table: uw__layout_check_table(), and a version the
 * walks support (else UW_ERR_UNSUPPORTED_VERSION).  The unwinder calls this
 * when it is created, so no table the walks cannot read reaches them. */
int uw__layout_check(const uw_layout *layout);

#endif /* TORNSTACK_LAYOUT_H */
