/*
 * fabricate.h — lay out a CPython 3.11 to 3.15 process in a model address
 * space, byte for byte as that version would, from the same layout tables
 * the unwinder uses (src/layouts, src/asyncio_layout.c).
 *
 * What is fabricated: _PyRuntime with one interpreter and one thread
 * state (3.11/3.12 reach the current frame through a _PyCFrame; from 3.13
 * every thread state is a _PyThreadStateImpl), the
 * thread's data-stack chunk, code objects with names and location tables
 * (and RESUME instructions, so await points decode as on 3.11/3.12), str
 * objects, the type objects the unwinder checks (Task, Future, coroutine,
 * set, dict, str, int, weakref), an event loop object with its ready
 * deque, the running-loop entry (tstate dict + _RunningLoopHolder on 3.11,
 * tstate dict on 3.12, thread state on 3.13), and sys.modules with
 * asyncio.tasks, whose WeakSet (a managed-dict instance whose `data` is the
 * registry set of weakrefs to Tasks) and, from 3.12, eager set are found
 * by the unwinder as on a live process; the hook module's link buffer on
 * request (mm_fab_hook).
 *
 * From 3.13 the runtime starts with its _Py_DebugOffsets block (cookie,
 * version, free_threaded 0 and every field the table lists), and from
 * 3.14 the image holds _asyncio's .AsyncioDebug block (13 words), so the
 * attach-time checks a live target passes run on the model too
 * (mm_fab_attach_check).  3.14+ thread states carry their asyncio fields
 * (running loop, running Task, the head of the thread's circular list of
 * native Tasks, empty: pointing at itself), the interpreter its own list
 * head (Tasks of threads that exited), and each thread an interpreter
 * entry frame (FRAME_OWNED_BY_INTERPRETER, f_executable a tagged None) on
 * its C stack below its first Python frame; on 3.15 that entry frame's
 * `previous` is the base frame embedded in the thread state, which
 * PyThreadState.base_frame points at and every frame chain ends at.
 *
 * Not fabricated: C-stack entry frames of 3.12/3.13 and entry frames
 * between a loop's Handle._run and a resumed coroutine, several
 * interpreters.
 */
#ifndef TORNSTACK_MM_FABRICATE_H
#define TORNSTACK_MM_FABRICATE_H

#include <stdint.h>

#include "space.h"
#include "internal/asyncio_layout.h"
#include "internal/layout.h"
#include "tornstack/target.h"

#define MM_REGISTRY_SLOTS 64 /* set table of the registry (mask 63) */
#define MM_CHUNK_BYTES (16 * 1024)
#define MM_FAB_THREADS 4 /* threads of one process, each running a loop */
/* The native id (the kernel's thread id) of thread k is this plus k. */
#define MM_FAB_NATIVE_ID0 4242

/* One thread running an asyncio loop. */
typedef struct mm_fthread {
    uint64_t tstate;
    uint64_t current_slot; /* where its current-frame pointer lives */
    uint64_t chunk;        /* its root data-stack chunk */
    uint64_t loop;
    uint64_t ready_state; /* its loop's ready deque's mutation count */
    uint64_t ready_len;   /* ... and its length (ob_size) */
    /* 3.14+: the frame below the thread's first Python frame (its entry
     * frame), the head of its list of native Tasks, on 3.15 the base
     * frame embedded in its thread state, and where on its C stack the
     * entry frame of a call from C above Handle._run goes (a Task step's
     * send, a callback); 0 when the version has none. */
    uint64_t bottom, tasks_head, base_frame, cstack;
} mm_fthread;

#define MM_CALL_CODES 8

typedef struct mm_image {
    mm_space *space;
    const uw_layout *l;
    const uw_asyncio_layout *al;
    uw_target target;
    uint64_t runtime, interp, tstate;
    uint64_t current_slot; /* where the current-frame pointer lives */
    uint64_t chunk;        /* root data-stack chunk */
    uint64_t task_type, future_type, loop, registry, registry_table, set_dummy;
    uint64_t ready_state;  /* the loop's ready deque's mutation count */
    uint64_t tasks_module; /* sys.modules["asyncio.tasks"] */
    /* sys.modules["asyncio.base_events"], its _run_until_complete_cb (a
     * function), the type of builtin methods, and a set that keeps
     * fire-and-forget Tasks (whose discard is their done callback) */
    uint64_t base_events_module, ruc_fn, cfunc_type, background;
    /* sys.modules["asyncio.streams"], whose StreamReaderProtocol's
     * connection_made holds, among its code's constants, the code of the
     * closure a stream server gives each connection's Task as its done
     * callback (stream_cb_code); the type of functions */
    uint64_t streams_module, stream_cb_code, func_type;
    mm_fthread th[MM_FAB_THREADS]; /* th[0] is the thread above */
    int n_threads;
    /* 3.14+: the interpreter's Task list head (Tasks of exited threads),
     * the .AsyncioDebug block, and the trampoline instruction entry frames
     * point at; 0 before. */
    uint64_t interp_tasks_head, asyncio_debug, trampoline;
    uint64_t hook_buf; /* the hook module's records (count at +8), 0 if none */
    /* code objects made by mm_fab_code_calls (mm_fab_ip places their
     * frames at a line's call) */
    uint64_t call_codes[MM_CALL_CODES];
    int n_call_codes;
} mm_image;

/* A process of CPython 3.<minor> with an idle thread and a running loop. */
int mm_fab_process(mm_space *space, int minor, mm_image *out);

/* The checks a live target passes at attach (src/target.c), on the model:
 * the build and every field of the runtime's _Py_DebugOffsets block
 * (3.13+, uw_target_check_runtime), then on 3.14+ every word of the
 * .AsyncioDebug block (uw_target_check_asyncio_at).  Reads through r.
 * 0, UW_ERR_UNSUPPORTED_BUILD or UW_ERR_DEBUG_OFFSETS (a sentence in why),
 * or a read error. */
int mm_fab_attach_check(const mm_image *im, uw_reader *r, char *why, size_t whylen);

/* Where a word of the fabricated debug blocks is, by the name the checks
 * print ("free_threaded", a uw_debug_field name such as
 * "thread_state.current_frame", or an .AsyncioDebug word such as
 * "asyncio_task_object.task_node"): its address, or 0 when the version
 * has no such word.  For tests that doctor a block. */
uint64_t mm_fab_debug_word(const mm_image *im, const char *name);

/* One more thread, with its own thread state (pushed at the head of the
 * interpreter's thread list, as a new thread is), data-stack chunk, loop,
 * ready deque and running-loop entry.  Returns its index, or a negative
 * error when MM_FAB_THREADS are made already. */
int mm_fab_thread(mm_image *im);
/* The same, for a thread that runs no loop (its loop, ready deque and
 * running-loop entry are 0). */
int mm_fab_plain_thread(mm_image *im);

/* The code object of mm_fab_code whose RESUME instructions carry `oparg`
 * (3.11/3.12: >= 2 after an await, 1 after a bare yield). */
uint64_t mm_fab_code_ex(mm_image *im, const char *qualname, const char *file, int firstlineno,
                        int n, int resume_oparg);

/* asyncio's _GatheringFuture type (a Python subclass of _asyncio.Future
 * whose instances keep a dict past the Future, at tp_dictoffset), and
 * the size of one instance. */
uint64_t mm_fab_gather_type(mm_image *im);
size_t mm_fab_gather_size(const mm_image *im);

/* A type object in the image: mapped, zeroed, with a tp_name the unwinder
 * can read and the given base (0: none). */
uint64_t mm_fab_type(mm_image *im, const char *tp_name, uint64_t base);

/* A one-entry dict {key: value} (combined table, str keys). */
uint64_t mm_fab_dict1(mm_image *im, const char *key, uint64_t value);

/* The hook module (python/tornstack_hook.py) as a target that imported it
 * holds it: sys.modules["tornstack_hook"]._LINKS, a bytearray of the magic,
 * a count and n records {child Task, parent Task, kind}. */
void mm_fab_hook(mm_image *im, const uint64_t *child, const uint64_t *parent, const int *kind,
                 size_t n);

/* The hook module with an empty _LINKS buffer of `cap` records (as a
 * target that imported it before creating any Task holds it); returns the
 * buffer's address. */
uint64_t mm_fab_hook_buffer(mm_image *im, size_t cap);

/* A compact ASCII str. */
uint64_t mm_fab_str(mm_image *im, const char *s);

/* A code object of n lines from firstlineno: each line an instruction
 * then a RESUME with oparg 3 (an await point). */
uint64_t mm_fab_code(mm_image *im, const char *qualname, const char *file, int firstlineno, int n);

/* A code object of n lines from firstlineno whose every line is one
 * method call, as CPython compiles `x.name(args)`: the attribute load
 * (LOAD_METHOD, or LOAD_ATTR with its method bit), PRECALL on 3.11, CALL,
 * each with its inline caches; line i < n_named calls names[i] with
 * nargs[i] arguments, the others a filler name without.  co_names holds
 * the names.  mm_fab_ip places a frame of it making its line's call (for
 * asyncio's _run_once, whose handle call recheck.c reads from its code). */
uint64_t mm_fab_code_calls(mm_image *im, const char *qualname, const char *file, int firstlineno,
                           int n, const char *const *names, const uint8_t *nargs, int n_named);

/* The line of a frame of a fabricated code object at ip (before the
 * first unit: the first line). */
int mm_fab_line_of(const mm_image *im, uint64_t code, uint64_t ip);

/* Instruction pointers on line firstlineno + index of a code object: of a
 * frame running there (mm_fab_ip), of one suspended there in an await
 * (mm_fab_ip_await: the RESUME after it, or at it on 3.13, tells), and of
 * one not started (mm_fab_ip_start: no RESUME that says await). */
uint64_t mm_fab_ip(const mm_image *im, uint64_t code, int index);
uint64_t mm_fab_ip_await(const mm_image *im, uint64_t code, int index);
/* 3.13+: the interpreter's init shim, the code object a specialised call
 * of a class with a Python __init__ pushes under it: qualname and file
 * name "__init__", and its first traceable instruction past its start
 * (a frame of it is always incomplete while __init__ runs). */
uint64_t mm_fab_init_shim(mm_image *im);
uint64_t mm_fab_ip_start(const mm_image *im, uint64_t code);

/* 3.14+: an interpreter entry frame at f (FRAME_OWNED_BY_INTERPRETER,
 * f_executable a tagged None, empty value stack) whose `previous` is
 * `previous`, written directly (the mutator queues the same stores). */
void mm_fab_entry_frame(mm_image *im, uint64_t f, uint64_t previous, uint64_t funcobj);

/* Sizes of the objects the mutator allocates. */
size_t mm_fab_coro_size(const mm_image *im);
size_t mm_fab_task_size(const mm_image *im);

#endif
