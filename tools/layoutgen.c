/*
 * layoutgen — print the uw_layout table of the CPython whose headers this
 * file is compiled against.
 *
 *   inc="$(python3.X -c 'import sysconfig;print(sysconfig.get_paths()["include"])')"
 *   cc -I "$inc" -I "$inc/.." tools/layoutgen.c -o layoutgen &&
 *      ./layoutgen > src/layouts/layout_py3X.inc
 *
 * ("$inc/.." finds Debian's multiarch pyconfig.h when the headers are not
 * installed under /usr/include, as with scripts/pythons.sh's 3.14 and 3.15.)
 * Add the interpreter's own -D_Py_* macros, which pyconfig.h does not
 * carry but which change layouts (Debian's 3.15 is a JIT build):
 *   python3.X -c 'import sysconfig; print(sysconfig.get_config_var("PY_CORE_CFLAGS"))'
 *
 * Every number below is offsetof()/sizeof() of the real structure or the
 * value of the real enum constant; the unicode state masks are measured by
 * setting each bitfield in a zeroed object and looking at the word.  Nothing
 * here is typed in by hand, which is the point: the committed tables in
 * src/layouts/ are this program's output, and the ctest "layouts" tests
 * (tests/layouts/check_layout.cmake) fail when they differ from what the
 * installed headers say.
 *
 * Only the minor version is printed (patch releases of one minor share the
 * ABI), so pyenv 3.11.7 and Debian's 3.11.2 must produce the same text.
 */
#define Py_BUILD_CORE 1
/* The opcode tables (_PyOpcode_Caches, _PyOpcode_Deopt) are defined, not
 * only declared, by the headers when these are set. */
#define NEED_OPCODE_TABLES 1
#define NEED_OPCODE_METADATA 1
#include <Python.h>
#include "internal/pycore_code.h"
#include "internal/pycore_dict.h"
#include "internal/pycore_moduleobject.h"
#include "internal/pycore_object.h"
#include "opcode.h"
#if PY_VERSION_HEX >= 0x030d0000
#include "internal/pycore_opcode_metadata.h"
#else
#include "internal/pycore_opcode.h"
#endif
#include "internal/pycore_frame.h"
#include "internal/pycore_interp.h"
#include "internal/pycore_runtime.h"
#if PY_VERSION_HEX >= 0x030d0000
#include "internal/pycore_tstate.h"
#endif
#if PY_VERSION_HEX >= 0x030e0000
#include "internal/pycore_debug_offsets.h"
#include "internal/pycore_llist.h"
#include "internal/pycore_stackref.h"
#endif

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#if PY_VERSION_HEX < 0x030b0000 || PY_VERSION_HEX >= 0x03100000
#error "layoutgen supports CPython 3.11 to 3.15"
#endif
#ifdef Py_GIL_DISABLED
#error "layoutgen describes default (GIL) builds; free-threaded targets are refused"
#endif

#define MINOR ((PY_VERSION_HEX >> 16) & 0xff)

static void field(const char *name, long value)
{
    printf("    .%s = %ld,\n", name, value);
}

#define OFF(name, type, member) field(name, (long)offsetof(type, member))
#define SIZE(name, type) field(name, (long)sizeof(type))
#define ABSENT(name) printf("    .%s = UW_ABSENT,\n", name)

static unsigned int state_word(const PyASCIIObject *o)
{
    unsigned int w;
    memcpy(&w, (const char *)o + offsetof(PyASCIIObject, state), sizeof w);
    return w;
}

static int lowest_bit(unsigned int m)
{
    int s = 0;
    while (m != 0 && (m & 1u) == 0) {
        m >>= 1;
        s++;
    }
    return s;
}

#if MINOR >= 14
/* The tagged-reference bits PyStackRef_AsPyObjectBorrow() clears, found by
 * running it (it is a static inline of the headers) on words with one low
 * bit set: a bit it clears is a tag bit, not part of the pointer. */
static long stackref_borrow_mask(void)
{
    uintptr_t cleared = 0;
    int b;

    for (b = 0; b < 3; b++) {
        _PyStackRef ref;
        PyObject *o;
        ref.bits = (uintptr_t)0x10000 | ((uintptr_t)1 << b);
        if ((ref.bits & Py_INT_TAG) == Py_INT_TAG)
            continue; /* a tagged int has no object */
        o = PyStackRef_AsPyObjectBorrow(ref);
        if (((uintptr_t)o & ((uintptr_t)1 << b)) == 0)
            cleared |= (uintptr_t)1 << b;
    }
    return (long)cleared;
}
#endif

/* The base instruction of every opcode (specialized forms fold to the
 * instruction they specialize), as the interpreter's own table says. */
static void deopt_table(void)
{
    int i;

    printf("static const uint8_t uw_opcode_deopt_py3%d[256] = {", MINOR);
    for (i = 0; i < 256; i++)
        printf("%s%d,", i % 16 == 0 ? "\n    " : " ", (int)_PyOpcode_Deopt[i]);
    printf("\n};\n\n");
}

#if MINOR >= 13
static int dbg_bad;

/* One debug-offsets entry: where it sits and the value our expression for
 * it gives.  From 3.14 the headers carry the initialiser the interpreter
 * itself uses (_Py_DebugOffsets_INIT); every value is compared with it and
 * the generator fails on a difference, so the expected values are exactly
 * what a matching build holds. */
static void dbg_field(const char *path, size_t at, unsigned long value, unsigned long init)
{
    if (value != init) {
        fprintf(stderr, "layoutgen: %s: %lu here, %lu in _Py_DebugOffsets_INIT\n", path, value,
                init);
        dbg_bad = 1;
    }
    printf("    {\"%s\", %lu, %lu},\n", path, (unsigned long)at, value);
}

#if MINOR >= 14
static const _Py_DebugOffsets dbg_init = _Py_DebugOffsets_INIT(_Py_Debug_Cookie);
#define DBG(path, value)                                                       \
    dbg_field(#path, offsetof(_Py_DebugOffsets, path), (unsigned long)(value), \
              (unsigned long)dbg_init.path)
#else
#define DBG(path, value)                                                       \
    dbg_field(#path, offsetof(_Py_DebugOffsets, path), (unsigned long)(value), \
              (unsigned long)(value))
#endif

_Static_assert(offsetof(_Py_DebugOffsets, cookie) == 0, "the cookie opens the block");

static void debug_fields(void)
{
    printf("static const uw_debug_field uw_debug_fields_py3%d[] = {\n", MINOR);
    DBG(runtime_state.size, sizeof(_PyRuntimeState));
    DBG(runtime_state.finalizing, offsetof(_PyRuntimeState, _finalizing));
    DBG(runtime_state.interpreters_head, offsetof(_PyRuntimeState, interpreters.head));
    DBG(interpreter_state.size, sizeof(PyInterpreterState));
    DBG(interpreter_state.id, offsetof(PyInterpreterState, id));
    DBG(interpreter_state.next, offsetof(PyInterpreterState, next));
    DBG(interpreter_state.threads_head, offsetof(PyInterpreterState, threads.head));
    DBG(interpreter_state.gc, offsetof(PyInterpreterState, gc));
    DBG(interpreter_state.imports_modules, offsetof(PyInterpreterState, imports.modules));
    DBG(interpreter_state.sysdict, offsetof(PyInterpreterState, sysdict));
    DBG(interpreter_state.builtins, offsetof(PyInterpreterState, builtins));
    DBG(interpreter_state.ceval_gil, offsetof(PyInterpreterState, ceval.gil));
    DBG(interpreter_state.gil_runtime_state, offsetof(PyInterpreterState, _gil));
    DBG(thread_state.size, sizeof(PyThreadState));
    DBG(thread_state.prev, offsetof(PyThreadState, prev));
    DBG(thread_state.next, offsetof(PyThreadState, next));
    DBG(thread_state.interp, offsetof(PyThreadState, interp));
    DBG(thread_state.current_frame, offsetof(PyThreadState, current_frame));
    DBG(thread_state.thread_id, offsetof(PyThreadState, thread_id));
    DBG(thread_state.native_thread_id, offsetof(PyThreadState, native_thread_id));
    DBG(thread_state.datastack_chunk, offsetof(PyThreadState, datastack_chunk));
    DBG(thread_state.status, offsetof(PyThreadState, _status));
    DBG(interpreter_frame.size, sizeof(_PyInterpreterFrame));
    DBG(interpreter_frame.previous, offsetof(_PyInterpreterFrame, previous));
    DBG(interpreter_frame.executable, offsetof(_PyInterpreterFrame, f_executable));
    DBG(interpreter_frame.instr_ptr, offsetof(_PyInterpreterFrame, instr_ptr));
    DBG(interpreter_frame.localsplus, offsetof(_PyInterpreterFrame, localsplus));
    DBG(interpreter_frame.owner, offsetof(_PyInterpreterFrame, owner));
    DBG(code_object.size, sizeof(PyCodeObject));
    DBG(code_object.filename, offsetof(PyCodeObject, co_filename));
    DBG(code_object.name, offsetof(PyCodeObject, co_name));
    DBG(code_object.qualname, offsetof(PyCodeObject, co_qualname));
    DBG(code_object.linetable, offsetof(PyCodeObject, co_linetable));
    DBG(code_object.firstlineno, offsetof(PyCodeObject, co_firstlineno));
    DBG(code_object.argcount, offsetof(PyCodeObject, co_argcount));
    DBG(code_object.localsplusnames, offsetof(PyCodeObject, co_localsplusnames));
    DBG(code_object.localspluskinds, offsetof(PyCodeObject, co_localspluskinds));
    DBG(code_object.co_code_adaptive, offsetof(PyCodeObject, co_code_adaptive));
    DBG(pyobject.size, sizeof(PyObject));
    DBG(pyobject.ob_type, offsetof(PyObject, ob_type));
    DBG(type_object.size, sizeof(PyTypeObject));
    DBG(type_object.tp_name, offsetof(PyTypeObject, tp_name));
    DBG(type_object.tp_flags, offsetof(PyTypeObject, tp_flags));
    DBG(tuple_object.size, sizeof(PyTupleObject));
    DBG(tuple_object.ob_item, offsetof(PyTupleObject, ob_item));
    DBG(list_object.ob_item, offsetof(PyListObject, ob_item));
    DBG(dict_object.size, sizeof(PyDictObject));
    DBG(dict_object.ma_keys, offsetof(PyDictObject, ma_keys));
    DBG(dict_object.ma_values, offsetof(PyDictObject, ma_values));
    DBG(long_object.size, sizeof(PyLongObject));
    DBG(long_object.lv_tag, offsetof(PyLongObject, long_value.lv_tag));
    DBG(long_object.ob_digit, offsetof(PyLongObject, long_value.ob_digit));
    DBG(bytes_object.size, sizeof(PyBytesObject));
    DBG(bytes_object.ob_size, offsetof(PyBytesObject, ob_base.ob_size));
    DBG(bytes_object.ob_sval, offsetof(PyBytesObject, ob_sval));
    DBG(unicode_object.size, sizeof(PyUnicodeObject));
    DBG(unicode_object.state, offsetof(PyUnicodeObject, _base._base.state));
    DBG(unicode_object.length, offsetof(PyUnicodeObject, _base._base.length));
    DBG(unicode_object.asciiobject_size, sizeof(PyASCIIObject));
#if MINOR >= 14
    /* What the 3.14+ walks read besides the 3.13 set: the value stack's
     * top, generators, the Task lists' nodes, sets (awaited_by), and the
     * thread-local bytecode fields, 0 in a default build (non-zero: a
     * free-threaded block). */
    DBG(interpreter_state.threads_main, offsetof(PyInterpreterState, threads.main));
    DBG(interpreter_state.code_object_generation,
        offsetof(PyInterpreterState, _code_object_generation));
    DBG(interpreter_frame.stackpointer, offsetof(_PyInterpreterFrame, stackpointer));
    DBG(interpreter_frame.tlbc_index, 0);
    DBG(code_object.co_tlbc, 0);
    DBG(list_object.ob_size, offsetof(PyListObject, ob_base.ob_size));
    DBG(tuple_object.ob_size, offsetof(PyTupleObject, ob_base.ob_size));
    DBG(set_object.size, sizeof(PySetObject));
    DBG(set_object.used, offsetof(PySetObject, used));
    DBG(set_object.table, offsetof(PySetObject, table));
    DBG(set_object.mask, offsetof(PySetObject, mask));
    DBG(gen_object.size, sizeof(PyGenObject));
    DBG(gen_object.gi_name, offsetof(PyGenObject, gi_name));
    DBG(gen_object.gi_iframe, offsetof(PyGenObject, gi_iframe));
    DBG(gen_object.gi_frame_state, offsetof(PyGenObject, gi_frame_state));
    DBG(llist_node.next, offsetof(struct llist_node, next));
    DBG(llist_node.prev, offsetof(struct llist_node, prev));
#endif
#if MINOR >= 15
    DBG(thread_state.base_frame, offsetof(PyThreadState, base_frame));
    DBG(type_object.tp_basicsize, offsetof(PyTypeObject, tp_basicsize));
    DBG(type_object.tp_dictoffset, offsetof(PyTypeObject, tp_dictoffset));
    DBG(heap_type_object.ht_cached_keys, offsetof(PyHeapTypeObject, ht_cached_keys));
    DBG(unicode_object.compactunicodeobject_size, sizeof(PyCompactUnicodeObject));
#endif
    printf("};\n\n");
}
#endif

int main(void)
{
    PyASCIIObject u;

    printf("/* Generated by tools/layoutgen.c from the CPython 3.%d headers "
           "(x86-64).\n",
           MINOR);
    /* Macros the interpreter was compiled with that are not in pyconfig.h
     * (its PY_CORE_CFLAGS) but change structure layouts: Debian's 3.15 JIT
     * build adds a field to PyInterpreterState and _PyThreadStateImpl. */
#if defined(_Py_TIER2) || defined(_Py_JIT)
    printf(" * Build macros:");
#ifdef _Py_TIER2
    printf(" _Py_TIER2=%d", (int)_Py_TIER2);
#endif
#ifdef _Py_JIT
    printf(" _Py_JIT");
#endif
    printf(" (the interpreter's PY_CORE_CFLAGS).\n");
#endif
    printf(" * Do not edit: regenerate as docs/layouts.md says; "
           "ctest \"layouts\" compares. */\n\n");
#if MINOR >= 13
    debug_fields();
#endif
    deopt_table();
    printf("static const uw_layout uw_layout_py3%d = {\n", MINOR);
    field("py_minor", MINOR);
    field("release_level", PY_RELEASE_LEVEL);
    field("release_serial", PY_RELEASE_SERIAL);

    SIZE("runtime_size", _PyRuntimeState);
    OFF("runtime_interpreters_head", _PyRuntimeState, interpreters.head);
    OFF("runtime_interpreters_main", _PyRuntimeState, interpreters.main);

    SIZE("interp_size", PyInterpreterState);
    OFF("interp_next", PyInterpreterState, next);
    OFF("interp_id", PyInterpreterState, id);
    OFF("interp_threads_head", PyInterpreterState, threads.head);
#if MINOR >= 12
    OFF("interp_modules", PyInterpreterState, imports.modules);
#else
    OFF("interp_modules", PyInterpreterState, modules);
#endif
    OFF("interp_sysdict", PyInterpreterState, sysdict);
#if MINOR >= 14
    OFF("interp_code_generation", PyInterpreterState, _code_object_generation);
#else
    ABSENT("interp_code_generation");
#endif

    SIZE("tstate_size", PyThreadState);
    OFF("tstate_prev", PyThreadState, prev);
    OFF("tstate_next", PyThreadState, next);
    OFF("tstate_interp", PyThreadState, interp);
#if MINOR <= 12
    OFF("tstate_cframe", PyThreadState, cframe);
    OFF("cframe_current_frame", _PyCFrame, current_frame);
    ABSENT("tstate_current_frame");
#else
    ABSENT("tstate_cframe");
    ABSENT("cframe_current_frame");
    OFF("tstate_current_frame", PyThreadState, current_frame);
#endif
    OFF("tstate_thread_id", PyThreadState, thread_id);
    OFF("tstate_native_thread_id", PyThreadState, native_thread_id);
    OFF("tstate_dict", PyThreadState, dict);
    OFF("tstate_datastack_chunk", PyThreadState, datastack_chunk);
    OFF("tstate_datastack_top", PyThreadState, datastack_top);
    OFF("tstate_datastack_limit", PyThreadState, datastack_limit);

    OFF("chunk_previous", _PyStackChunk, previous);
    OFF("chunk_size", _PyStackChunk, size);
    OFF("chunk_top", _PyStackChunk, top);
    OFF("chunk_data", _PyStackChunk, data);

    SIZE("frame_size", _PyInterpreterFrame);
#if MINOR >= 13
    OFF("frame_code", _PyInterpreterFrame, f_executable);
    OFF("frame_func", _PyInterpreterFrame, f_funcobj);
    OFF("frame_instr", _PyInterpreterFrame, instr_ptr);
#elif MINOR == 12
    OFF("frame_code", _PyInterpreterFrame, f_code);
    OFF("frame_func", _PyInterpreterFrame, f_funcobj);
    OFF("frame_instr", _PyInterpreterFrame, prev_instr);
#else
    OFF("frame_code", _PyInterpreterFrame, f_code);
    OFF("frame_func", _PyInterpreterFrame, f_func);
    OFF("frame_instr", _PyInterpreterFrame, prev_instr);
#endif
    OFF("frame_previous", _PyInterpreterFrame, previous);
    OFF("frame_globals", _PyInterpreterFrame, f_globals);
#if MINOR >= 14
    ABSENT("frame_stacktop");
    OFF("frame_stackpointer", _PyInterpreterFrame, stackpointer);
    field("frame_tagged", 1);
    field("stackref_tag_bits", (long)Py_TAG_BITS);
    field("stackref_borrow_mask", stackref_borrow_mask());
    field("stackref_int_tag", (long)Py_INT_TAG);
    field("stackref_null", (long)PyStackRef_NULL.bits);
#else
    OFF("frame_stacktop", _PyInterpreterFrame, stacktop);
    ABSENT("frame_stackpointer");
    field("frame_tagged", 0);
    ABSENT("stackref_tag_bits");
    ABSENT("stackref_borrow_mask");
    ABSENT("stackref_int_tag");
    ABSENT("stackref_null");
#endif
    OFF("frame_owner", _PyInterpreterFrame, owner);
    OFF("frame_localsplus", _PyInterpreterFrame, localsplus);
    field("owner_thread", FRAME_OWNED_BY_THREAD);
    field("owner_generator", FRAME_OWNED_BY_GENERATOR);
    field("owner_frame_object", FRAME_OWNED_BY_FRAME_OBJECT);
#if MINOR >= 12 && MINOR <= 14
    field("owner_cstack", FRAME_OWNED_BY_CSTACK);
#else
    ABSENT("owner_cstack");
#endif
#if MINOR >= 14
    field("owner_interpreter", FRAME_OWNED_BY_INTERPRETER);
#else
    ABSENT("owner_interpreter");
#endif
    field("instr_is_prev", MINOR <= 12);

    OFF("object_type", PyObject, ob_type);
    OFF("type_name", PyTypeObject, tp_name);
    OFF("type_flags", PyTypeObject, tp_flags);

    SIZE("code_size", PyCodeObject);
    OFF("code_units", PyCodeObject, ob_base.ob_size);
    OFF("code_flags", PyCodeObject, co_flags);
    OFF("code_firstlineno", PyCodeObject, co_firstlineno);
    OFF("code_filename", PyCodeObject, co_filename);
    OFF("code_name", PyCodeObject, co_name);
    OFF("code_qualname", PyCodeObject, co_qualname);
    OFF("code_linetable", PyCodeObject, co_linetable);
    OFF("code_firsttraceable", PyCodeObject, _co_firsttraceable);
    OFF("code_adaptive", PyCodeObject, co_code_adaptive);
    OFF("code_names", PyCodeObject, co_names);
    OFF("code_consts", PyCodeObject, co_consts);

    OFF("unicode_length", PyASCIIObject, length);
    OFF("unicode_state", PyASCIIObject, state);
    SIZE("unicode_ascii_data", PyASCIIObject);
    SIZE("unicode_compact_data", PyCompactUnicodeObject);
    memset(&u, 0, sizeof u);
    u.state.kind = 7;
    field("unicode_kind_mask", (long)state_word(&u));
    field("unicode_kind_shift", lowest_bit(state_word(&u)));
    memset(&u, 0, sizeof u);
    u.state.compact = 1;
    field("unicode_compact_mask", (long)state_word(&u));
    memset(&u, 0, sizeof u);
    u.state.ascii = 1;
    field("unicode_ascii_mask", (long)state_word(&u));
    OFF("bytes_size", PyBytesObject, ob_base.ob_size);
    OFF("bytes_data", PyBytesObject, ob_sval);

    OFF("gen_frame_state", PyGenObject, gi_frame_state);
    OFF("gen_iframe", PyGenObject, gi_iframe);
    OFF("gen_qualname", PyGenObject, gi_qualname);
    field("state_created", FRAME_CREATED);
    field("state_suspended", FRAME_SUSPENDED);
#if MINOR >= 13
    field("state_suspended_yield_from", FRAME_SUSPENDED_YIELD_FROM);
#else
    printf("    .state_suspended_yield_from = UW_NO_STATE,\n");
#endif
#if MINOR >= 15
    field("state_suspended_yield_from_locked", FRAME_SUSPENDED_YIELD_FROM_LOCKED);
#else
    printf("    .state_suspended_yield_from_locked = UW_NO_STATE,\n");
#endif
    field("state_executing", FRAME_EXECUTING);
#if MINOR >= 15
    printf("    .state_completed = UW_NO_STATE,\n");
#else
    field("state_completed", FRAME_COMPLETED);
#endif
    field("state_cleared", FRAME_CLEARED);

    OFF("type_basicsize", PyTypeObject, tp_basicsize);
    OFF("type_dictoffset", PyTypeObject, tp_dictoffset);
    OFF("type_dict", PyTypeObject, tp_dict);
    OFF("type_base", PyTypeObject, tp_base);
    OFF("heaptype_cached_keys", PyHeapTypeObject, ht_cached_keys);
    field("tpflags_managed_dict", Py_TPFLAGS_MANAGED_DICT);
#if MINOR >= 13
    field("tpflags_inline_values", Py_TPFLAGS_INLINE_VALUES);
    field("managed_dict_mode", 13);
    field("managed_dict", MANAGED_DICT_OFFSET);
    ABSENT("managed_values");
#elif MINOR == 12
    ABSENT("tpflags_inline_values");
    field("managed_dict_mode", 12);
    field("managed_dict", -3 * (long)sizeof(PyDictOrValues));
    ABSENT("managed_values");
#else
    ABSENT("tpflags_inline_values");
    field("managed_dict_mode", 11);
    field("managed_dict", MANAGED_DICT_OFFSET);
    field("managed_values", -4 * (long)sizeof(PyDictValues *));
#endif
    OFF("dict_used", PyDictObject, ma_used);
    OFF("dict_keys", PyDictObject, ma_keys);
    OFF("dict_values", PyDictObject, ma_values);
    OFF("dictkeys_log2_size", PyDictKeysObject, dk_log2_size);
    OFF("dictkeys_log2_index_bytes", PyDictKeysObject, dk_log2_index_bytes);
    OFF("dictkeys_kind", PyDictKeysObject, dk_kind);
    OFF("dictkeys_nentries", PyDictKeysObject, dk_nentries);
    OFF("dictkeys_indices", PyDictKeysObject, dk_indices);
    field("dictkeys_kind_general", DICT_KEYS_GENERAL);
    field("dictkeys_kind_unicode", DICT_KEYS_UNICODE);
    field("dictkeys_kind_split", DICT_KEYS_SPLIT);
    SIZE("dictentry_size", PyDictKeyEntry);
    OFF("dictentry_key", PyDictKeyEntry, me_key);
    OFF("dictentry_value", PyDictKeyEntry, me_value);
    SIZE("dictuentry_size", PyDictUnicodeEntry);
    OFF("dictuentry_key", PyDictUnicodeEntry, me_key);
    OFF("dictuentry_value", PyDictUnicodeEntry, me_value);
    OFF("dictvalues_values", PyDictValues, values);
    OFF("module_dict", PyModuleObject, md_dict);
    OFF("func_code", PyFunctionObject, func_code);
    OFF("cfunc_self", PyCFunctionObject, m_self);
    OFF("set_fill", PySetObject, fill);
    OFF("set_used", PySetObject, used);
    OFF("set_mask", PySetObject, mask);
    OFF("set_table", PySetObject, table);
    SIZE("setentry_size", setentry);
    OFF("setentry_key", setentry, key);
    OFF("setentry_hash", setentry, hash);
    OFF("weakref_object", PyWeakReference, wr_object);
    OFF("list_size", PyListObject, ob_base.ob_size);
    OFF("list_items", PyListObject, ob_item);
    OFF("tuple_size", PyTupleObject, ob_base.ob_size);
    OFF("tuple_items", PyTupleObject, ob_item);
#if MINOR >= 12
    OFF("long_tag", PyLongObject, long_value.lv_tag);
    OFF("long_digits", PyLongObject, long_value.ob_digit);
    field("long_shift", PyLong_SHIFT);
    field("long_tagged", 1);
#else
    OFF("long_tag", PyVarObject, ob_size);
    OFF("long_digits", PyLongObject, ob_digit);
    field("long_shift", PyLong_SHIFT);
    field("long_tagged", 0);
#endif
    OFF("bytearray_size", PyByteArrayObject, ob_base.ob_size);
    OFF("bytearray_start", PyByteArrayObject, ob_start);
#if MINOR >= 13
    OFF("tstate_asyncio_running_loop", _PyThreadStateImpl, asyncio_running_loop);
    SIZE("tstate_impl_size", _PyThreadStateImpl);
#else
    ABSENT("tstate_asyncio_running_loop");
    ABSENT("tstate_impl_size");
#endif
#if MINOR >= 14
    OFF("tstate_asyncio_running_task", _PyThreadStateImpl, asyncio_running_task);
    OFF("tstate_asyncio_tasks_head", _PyThreadStateImpl, asyncio_tasks_head);
    OFF("interp_asyncio_tasks_head", PyInterpreterState, asyncio_tasks_head);
    OFF("llist_next", struct llist_node, next);
    OFF("llist_prev", struct llist_node, prev);
#else
    ABSENT("tstate_asyncio_running_task");
    ABSENT("tstate_asyncio_tasks_head");
    ABSENT("interp_asyncio_tasks_head");
    ABSENT("llist_next");
    ABSENT("llist_prev");
#endif
#if MINOR >= 15
    OFF("tstate_base_frame", PyThreadState, base_frame);
    OFF("tstate_embedded_base_frame", _PyThreadStateImpl, base_frame);
#else
    ABSENT("tstate_base_frame");
    ABSENT("tstate_embedded_base_frame");
#endif
    field("opcode_resume", RESUME);
#if MINOR == 11
    field("opcode_resume_alt", RESUME_QUICK);
#else
    field("opcode_resume_alt", INSTRUMENTED_RESUME);
#endif
    /* A method call without arguments, `x.name()`: the attribute load
     * (LOAD_METHOD on 3.11, LOAD_ATTR with its method bit after), PRECALL
     * on 3.11, CALL; each followed by its inline cache entries. */
    field("opcode_call", CALL);
    field("caches_call", _PyOpcode_Caches[CALL]);
#if MINOR == 11
    field("opcode_method", LOAD_METHOD);
    field("caches_method", _PyOpcode_Caches[LOAD_METHOD]);
    field("method_name_shift", 0);
    field("opcode_precall", PRECALL);
    field("caches_precall", _PyOpcode_Caches[PRECALL]);
#else
    field("opcode_method", LOAD_ATTR);
    field("caches_method", _PyOpcode_Caches[LOAD_ATTR]);
    field("method_name_shift", 1);
    ABSENT("opcode_precall");
    ABSENT("caches_precall");
#endif
    field("opcode_extended_arg", EXTENDED_ARG);
    printf("    .opcode_deopt = uw_opcode_deopt_py3%d,\n", MINOR);

#if MINOR >= 13
    SIZE("debug_offsets_size", _Py_DebugOffsets);
    OFF("debug_version_at", _Py_DebugOffsets, version);
    OFF("debug_free_threaded_at", _Py_DebugOffsets, free_threaded);
    printf("    .debug_fields = uw_debug_fields_py3%d,\n", MINOR);
    printf("    .n_debug_fields = sizeof uw_debug_fields_py3%d / "
           "sizeof uw_debug_fields_py3%d[0],\n",
           MINOR, MINOR);
#else
    ABSENT("debug_offsets_size");
    ABSENT("debug_version_at");
    ABSENT("debug_free_threaded_at");
    printf("    .debug_fields = NULL,\n");
    printf("    .n_debug_fields = 0,\n");
#endif
    printf("};\n");
#if MINOR >= 13
    if (dbg_bad)
        return 1;
#endif
    return 0;
}
