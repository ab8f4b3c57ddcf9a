/*
 * fabricate.c — see fabricate.h.  Everything is written with the offsets
 * of the version's uw_layout and uw_asyncio_layout, so a layout change
 * reaches the model and the unwinder alike.
 */
#include "fabricate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal/uw_assert.h"
#include "tornstack/error.h"

static void mm_fab_debug_offsets(mm_image *im);
static void mm_fab_asyncio_debug(mm_image *im);

uint64_t mm_fab_type(mm_image *im, const char *tp_name, uint64_t base)
{
    uint64_t t = mm_static(im->space, 512);
    uint64_t n = mm_static(im->space, strlen(tp_name) + 1);
    (void)mm_space_write(im->space, n, tp_name, strlen(tp_name) + 1);
    mm_space_put64(im->space, t + (uint64_t)im->l->type_name, n);
    mm_space_put64(im->space, t + (uint64_t)im->l->type_base, base);
    return t;
}

uint64_t mm_fab_str(mm_image *im, const char *s)
{
    const uw_layout *l = im->l;
    size_t n = strlen(s);
    uint64_t a = mm_alloc(im->space, (size_t)l->unicode_ascii_data + n + 1);
    uint32_t state = (uint32_t)l->unicode_compact_mask | (1u << l->unicode_kind_shift) |
                     (uint32_t)l->unicode_ascii_mask;
    mm_space_put64(im->space, a + (uint64_t)l->object_type, im->target.types.str);
    mm_space_put64(im->space, a + (uint64_t)l->unicode_length, n);
    (void)mm_space_write(im->space, a + (uint64_t)l->unicode_state, &state, 4);
    (void)mm_space_write(im->space, a + (uint64_t)l->unicode_ascii_data, s, n + 1);
    return a;
}

static uint64_t mm_fab_bytes(mm_image *im, const uint8_t *b, size_t n)
{
    const uw_layout *l = im->l;
    uint64_t a = mm_alloc(im->space, (size_t)l->bytes_data + n + 1);
    mm_space_put64(im->space, a + (uint64_t)l->object_type, im->target.types.bytes);
    mm_space_put64(im->space, a + (uint64_t)l->bytes_size, n);
    (void)mm_space_write(im->space, a + (uint64_t)l->bytes_data, b, n);
    return a;
}

/* A tuple of n items (stored in it), filled by mm_fab_tuple_put. */
static uint64_t mm_fab_tuple_alloc(mm_image *im, int n)
{
    uint64_t t = mm_alloc(im->space, (size_t)im->l->tuple_items + 8 * (size_t)n);

    mm_space_put64(im->space, t + (uint64_t)im->l->tuple_size, (uint64_t)n);
    return t;
}

static void mm_fab_tuple_put(mm_image *im, uint64_t t, int i, uint64_t item)
{
    mm_space_put64(im->space, t + (uint64_t)im->l->tuple_items + 8 * (uint64_t)i, item);
}

/* Room for a code object of units code units of bytecode (and one more),
 * filled by mm_fab_code_fill: the model allocates what a code object
 * holds after the object itself. */
static uint64_t mm_fab_code_alloc(mm_image *im, size_t units)
{
    return mm_alloc(im->space, (size_t)im->l->code_size + 2 * units + 2);
}

/* The code object at a: its names, first line, location table tab[0..nt)
 * and bytecode code[0..units], one unit more than it counts. */
static void mm_fab_code_fill(mm_image *im, uint64_t a, const char *qualname, const char *file,
                             int firstlineno, const uint8_t *tab, size_t nt, const uint8_t *code,
                             size_t units)
{
    const uw_layout *l = im->l;
    uint64_t q = mm_fab_str(im, qualname);

    mm_space_put64(im->space, a + (uint64_t)l->object_type, im->target.code_type);
    mm_space_put64(im->space, a + (uint64_t)l->code_qualname, q);
    mm_space_put64(im->space, a + (uint64_t)l->code_name, q);
    mm_space_put64(im->space, a + (uint64_t)l->code_filename, mm_fab_str(im, file));
    mm_space_put64(im->space, a + (uint64_t)l->code_linetable, mm_fab_bytes(im, tab, nt));
    (void)mm_space_write(im->space, a + (uint64_t)l->code_firstlineno, &firstlineno, 4);
    mm_space_put64(im->space, a + (uint64_t)l->code_units, (uint64_t)units);
    (void)mm_space_write(im->space, a + (uint64_t)l->code_adaptive, code, 2 * units + 2);
}

uint64_t mm_fab_code(mm_image *im, const char *qualname, const char *file, int firstlineno, int n)
{
    return mm_fab_code_ex(im, qualname, file, firstlineno, n, 3);
}

uint64_t mm_fab_code_ex(mm_image *im, const char *qualname, const char *file, int firstlineno,
                        int n, int resume_oparg)
{
    const uw_layout *l = im->l;
    const uint8_t plain = (uint8_t)(l->opcode_resume == 1 || l->opcode_resume_alt == 1 ? 2 : 1);
    uint8_t *tab = malloc((size_t)n * 2 + 2), *code = calloc((size_t)n * 4 + 4, 1);
    uint64_t a;
    int i;

    /* Line i has two units: an instruction, then a RESUME (the point a
     * suspended frame goes on from).  One "no column" entry of two units
     * per line (delta +1: svarint 2), the first at firstlineno (delta 0).
     * The unit after the last line's RESUME is an instruction too. */
    for (i = 0; i < n; i++) {
        tab[2 * i] = 0x80 | (13 << 3) | 1;
        tab[2 * i + 1] = i == 0 ? 0 : 2;
        code[4 * i] = plain;
        code[4 * i + 2] = (uint8_t)l->opcode_resume;
        code[4 * i + 3] = (uint8_t)resume_oparg;
    }
    code[4 * n] = plain;
    a = mm_fab_code_alloc(im, 2 * (size_t)n);
    mm_fab_code_fill(im, a, qualname, file, firstlineno, tab, 2 * (size_t)n, code, 2 * (size_t)n);
    free(tab);
    free(code);
    return a;
}

/* Code units of one line of a call code object: the method's attribute
 * load, PRECALL (3.11), CALL, each with its inline caches. */
static int mm_call_stride(const uw_layout *l)
{
    return 1 + l->caches_method + (l->opcode_precall != UW_ABSENT ? 1 + l->caches_precall : 0) + 1 +
           l->caches_call;
}

static int mm_is_call_code(const mm_image *im, uint64_t code)
{
    int i;

    for (i = 0; i < im->n_call_codes; i++)
        if (im->call_codes[i] == code)
            return 1;
    return 0;
}

uint64_t mm_fab_code_calls(mm_image *im, const char *qualname, const char *file, int firstlineno,
                           int n, const char *const *names, const uint8_t *nargs, int n_named)
{
    const uw_layout *l = im->l;
    const int stride = mm_call_stride(l), per_line = (stride + 7) / 8;
    const int n_names = n_named + 1; /* names[i] at i + 1; index 0 the filler */
    const int shift = l->method_name_shift;
    uint8_t *tab = malloc((size_t)(n * per_line) * 2), *code;
    size_t nt = 0;
    uint64_t a, tuple;
    int i, j, u;

    UW_ASSERT(tab != NULL && n_named <= n && n_names <= (shift ? 127 : 255));
    UW_ASSERT(im->n_call_codes < MM_CALL_CODES);
    code = calloc((size_t)(n * stride) * 2 + 2, 1);
    UW_ASSERT(code != NULL);
    /* Line i: `x.names[i](<nargs[i] arguments>)`, lines past n_named a call
     * of the filler name without arguments; every line one table entry of
     * at most 8 units, the next ones of the line with line delta 0. */
    for (i = 0; i < n; i++) {
        const int index = i < n_named ? i + 1 : 0;
        const uint8_t args = i < n_named ? nargs[i] : 0;
        uint8_t *w = code + 2 * (size_t)(i * stride);
        int left = stride;
        for (j = 0; left > 0; j++) {
            const int len = left < 8 ? left : 8;
            tab[nt++] = (uint8_t)(0x80 | (13 << 3) | (len - 1));
            tab[nt++] = (uint8_t)(i > 0 && j == 0 ? 2 : 0);
            left -= len;
        }
        u = 0;
        w[2 * u] = (uint8_t)l->opcode_method;
        w[2 * u + 1] = (uint8_t)((index << shift) | (shift ? 1 : 0));
        u += 1 + l->caches_method;
        if (l->opcode_precall != UW_ABSENT) {
            w[2 * u] = (uint8_t)l->opcode_precall;
            w[2 * u + 1] = args;
            u += 1 + l->caches_precall;
        }
        w[2 * u] = (uint8_t)l->opcode_call;
        w[2 * u + 1] = args;
    }
    a = mm_fab_code_alloc(im, (size_t)(n * stride));
    tuple = mm_fab_tuple_alloc(im, n_names);
    mm_fab_tuple_put(im, tuple, 0, mm_fab_str(im, "_line"));
    for (i = 0; i < n_named; i++)
        mm_fab_tuple_put(im, tuple, i + 1, mm_fab_str(im, names[i]));
    mm_fab_code_fill(im, a, qualname, file, firstlineno, tab, nt, code, (size_t)(n * stride));
    mm_space_put64(im->space, a + (uint64_t)l->code_names, tuple);
    im->call_codes[im->n_call_codes++] = a;
    free(tab);
    free(code);
    return a;
}

int mm_fab_line_of(const mm_image *im, uint64_t code, uint64_t ip)
{
    const uint64_t base = code + (uint64_t)im->l->code_adaptive;
    const uint64_t per_line = mm_is_call_code(im, code) ? 2u * (uint64_t)mm_call_stride(im->l) : 4u;
    int32_t first = 0;

    (void)mm_space_read(im->space, code + (uint64_t)im->l->code_firstlineno, &first, 4);
    return ip < base ? first : first + (int)((ip - base) / per_line);
}

/* 3.11/3.12 keep the instruction being run (prev_instr): a frame running
 * line i is at its RESUME unit (the next unit is an instruction), one
 * suspended there at its instruction (the next unit is the RESUME).  3.13
 * keeps the next instruction (instr_ptr): running, the instruction;
 * suspended, the RESUME. */
static int mm_unit(const mm_image *im, int index, int suspended)
{
    int at_resume = im->l->state_suspended_yield_from == UW_NO_STATE ? !suspended : suspended;
    return 2 * index + at_resume;
}

uint64_t mm_fab_ip(const mm_image *im, uint64_t code, int index)
{
    if (mm_is_call_code(im, code)) {
        /* making the line's call: at the CALL (3.13+), or at its last
         * cache entry, the last unit the interpreter stepped over */
        const int stride = mm_call_stride(im->l);
        const int unit =
            index * stride + stride - 1 - (im->l->instr_is_prev ? 0 : im->l->caches_call);
        return code + (uint64_t)im->l->code_adaptive + 2u * (uint64_t)unit;
    }
    return code + (uint64_t)im->l->code_adaptive + 2u * (uint64_t)(int64_t)mm_unit(im, index, 0);
}

uint64_t mm_fab_ip_await(const mm_image *im, uint64_t code, int index)
{
    return code + (uint64_t)im->l->code_adaptive + 2u * (uint64_t)(int64_t)mm_unit(im, index, 1);
}

uint64_t mm_fab_init_shim(mm_image *im)
{
    const int32_t first = 2;
    uint64_t a = mm_fab_code_ex(im, "__init__", "__init__", 1, 2, 0);

    (void)mm_space_write(im->space, a + (uint64_t)im->l->code_firsttraceable, &first, 4);
    return a;
}

/* Not started: 3.11/3.12 before the first unit, 3.13 at it (no RESUME). */
uint64_t mm_fab_ip_start(const mm_image *im, uint64_t code)
{
    int unit = im->l->state_suspended_yield_from == UW_NO_STATE ? -1 : 0;
    return code + (uint64_t)im->l->code_adaptive + 2u * (uint64_t)(int64_t)unit;
}

size_t mm_fab_coro_size(const mm_image *im)
{
    return (size_t)im->l->gen_iframe + (size_t)im->l->frame_size + 8 * 8;
}

size_t mm_fab_task_size(const mm_image *im)
{
    return (size_t)im->al->task_size;
}

/* A dict of n <= 5 str keys (a combined table of 8 slots, as CPython
 * sizes a small dict), entries in insertion order. */
static uint64_t mm_fab_dictn(mm_image *im, const char *const *keys, const uint64_t *values, int n)
{
    const uw_layout *l = im->l;
    uint64_t d = mm_alloc(im->space, 64);
    uint64_t k =
        mm_alloc(im->space, (size_t)l->dictkeys_indices + 8 + 8 * (size_t)l->dictuentry_size);
    uint64_t e = k + (uint64_t)l->dictkeys_indices + 8;
    int64_t count = n;
    uint8_t b;
    int i;

    UW_ASSERT(n >= 1 && n <= 5);
    mm_space_put64(im->space, d + (uint64_t)l->object_type, im->target.types.dict);
    mm_space_put64(im->space, d + (uint64_t)l->dict_used, (uint64_t)n);
    mm_space_put64(im->space, d + (uint64_t)l->dict_keys, k);
    b = 3;
    (void)mm_space_write(im->space, k + (uint64_t)l->dictkeys_log2_size, &b, 1);
    (void)mm_space_write(im->space, k + (uint64_t)l->dictkeys_log2_index_bytes, &b, 1);
    b = (uint8_t)l->dictkeys_kind_unicode;
    (void)mm_space_write(im->space, k + (uint64_t)l->dictkeys_kind, &b, 1);
    (void)mm_space_write(im->space, k + (uint64_t)l->dictkeys_nentries, &count, 8);
    for (i = 0; i < n; i++) {
        uint64_t ei = e + (uint64_t)i * (uint64_t)l->dictuentry_size;
        mm_space_put64(im->space, ei + (uint64_t)l->dictuentry_key, mm_fab_str(im, keys[i]));
        mm_space_put64(im->space, ei + (uint64_t)l->dictuentry_value, values[i]);
    }
    return d;
}

uint64_t mm_fab_dict1(mm_image *im, const char *key, uint64_t value)
{
    return mm_fab_dictn(im, &key, &value, 1);
}

/* An empty set (8 free slots). */
static uint64_t mm_fab_set(mm_image *im, size_t slots, uint64_t *table)
{
    const uw_layout *l = im->l;
    uint64_t s = mm_alloc(im->space, 256);

    *table = mm_alloc(im->space, slots * (size_t)l->setentry_size);
    mm_space_put64(im->space, s + (uint64_t)l->object_type, im->target.types.set);
    mm_space_put64(im->space, s + (uint64_t)l->set_mask, slots - 1);
    mm_space_put64(im->space, s + (uint64_t)l->set_table, *table);
    return s;
}

/* asyncio.streams: StreamReaderProtocol (a class; its own dict holds
 * connection_made), whose code's constants are None, a str and the code
 * of the closure `callback` it makes for each connection's Task. */
static void mm_fab_streams(mm_image *im)
{
    const uw_layout *l = im->l;
    char file[64];
    uint64_t made, consts, fn, cls;

    snprintf(file, sizeof file, "/usr/lib/python3.%d/asyncio/streams.py", l->py_minor);
    im->stream_cb_code = mm_fab_code(im, "callback", file, 250, 2);
    made = mm_fab_code(im, "StreamReaderProtocol.connection_made", file, 230, 2);
    consts = mm_fab_tuple_alloc(im, 3);
    mm_fab_tuple_put(im, consts, 0, 0); /* None */
    mm_fab_tuple_put(im, consts, 1, mm_fab_str(im, "callback"));
    mm_fab_tuple_put(im, consts, 2, im->stream_cb_code);
    mm_space_put64(im->space, made + (uint64_t)l->code_consts, consts);
    fn = mm_alloc(im->space, 160);
    mm_space_put64(im->space, fn + (uint64_t)l->object_type, im->func_type);
    mm_space_put64(im->space, fn + (uint64_t)l->func_code, made);
    cls = mm_fab_type(im, "StreamReaderProtocol", 0);
    mm_space_put64(im->space, cls + (uint64_t)l->type_dict,
                   mm_fab_dict1(im, "connection_made", fn));
    im->streams_module = mm_alloc(im->space, 64);
    mm_space_put64(im->space, im->streams_module + (uint64_t)l->module_dict,
                   mm_fab_dict1(im, "StreamReaderProtocol", cls));
}

/* Three done callbacks that no awaiter adds (the unwinder's callbacks.c):
 * asyncio.base_events._run_until_complete_cb, a function of that module
 * (asyncio.run's main Task holds it), and the type of a builtin method,
 * whose object (m_self) the mutator makes a set's discard of, with the
 * set that keeps the fire-and-forget Tasks; and asyncio.streams, the code
 * of whose per-connection closure the mutator makes functions of. */
static void mm_fab_callbacks(mm_image *im)
{
    const uw_layout *l = im->l;
    char file[64];
    uint64_t code, table;

    snprintf(file, sizeof file, "/usr/lib/python3.%d/asyncio/base_events.py", l->py_minor);
    code = mm_fab_code(im, "_run_until_complete_cb", file, 180, 2);
    im->func_type = mm_fab_type(im, "function", 0);
    im->ruc_fn = mm_alloc(im->space, 160);
    mm_space_put64(im->space, im->ruc_fn + (uint64_t)l->object_type, im->func_type);
    mm_space_put64(im->space, im->ruc_fn + (uint64_t)l->func_code, code);
    im->base_events_module = mm_alloc(im->space, 64);
    mm_space_put64(im->space, im->base_events_module + (uint64_t)l->module_dict,
                   mm_fab_dict1(im, "_run_until_complete_cb", im->ruc_fn));
    im->cfunc_type = mm_fab_type(im, "builtin_function_or_method", 0);
    im->background = mm_fab_set(im, 8, &table);
    mm_fab_streams(im);
}

/* The interpreter's sys.modules: asyncio.tasks, asyncio.base_events,
 * asyncio.streams, and the hook module when there is one (hook, else 0). */
static void mm_fab_modules_dict(mm_image *im, uint64_t hook)
{
    const char *names[4] = {"asyncio.tasks", "asyncio.base_events", "asyncio.streams",
                            "tornstack_hook"};
    const uint64_t mods[4] = {im->tasks_module, im->base_events_module, im->streams_module, hook};

    mm_space_put64(im->space, im->interp + (uint64_t)im->l->interp_modules,
                   mm_fab_dictn(im, names, mods, hook != 0 ? 4 : 3));
}

/* sys.modules["asyncio.tasks"], whose globals hold the registry: a WeakSet
 * (a Python class instance; its `data` attribute, the set of weakrefs to
 * Tasks, in a dict reached through the managed-dict pointer before the
 * object), and on 3.12+ the eager Tasks' set. */
static void mm_fab_modules(mm_image *im)
{
    const uw_layout *l = im->l;
    const uw_asyncio_layout *al = im->al;
    uint64_t ws_type = mm_fab_type(im, "WeakSet", 0), ws, module, eager_table;
    const char *names[2];
    uint64_t values[2];
    int n = 0;

    mm_space_put64(im->space, ws_type + (uint64_t)l->type_flags, (uint64_t)l->tpflags_managed_dict);
    ws = mm_alloc(im->space, 96) + 48; /* room for the pre-header */
    mm_space_put64(im->space, ws + (uint64_t)l->object_type, ws_type);
    mm_space_put64(im->space, ws + (uint64_t)(int64_t)l->managed_dict,
                   mm_fab_dict1(im, "data", im->registry));
    names[n] = al->scheduled_tasks;
    values[n++] = ws;
    if (al->eager_tasks != NULL) {
        names[n] = al->eager_tasks;
        values[n++] = mm_fab_set(im, 8, &eager_table);
    }
    module = mm_alloc(im->space, 64);
    mm_space_put64(im->space, module + (uint64_t)l->module_dict,
                   mm_fab_dictn(im, names, values, n));
    im->tasks_module = module;
    mm_fab_callbacks(im);
    mm_fab_modules_dict(im, 0);
}

void mm_fab_hook(mm_image *im, const uint64_t *child, const uint64_t *parent, const int *kind,
                 size_t n)
{
    const uw_layout *l = im->l;
    uint64_t hook, ba = mm_alloc(im->space, 64), buf = mm_alloc(im->space, 16 + 24 * n + 8);
    uint64_t count = n, size = 16 + 24 * (uint64_t)n;
    size_t i;

    (void)mm_space_write(im->space, buf, "TSLINKS1", 8);
    mm_space_put64(im->space, buf + 8, count);
    im->hook_buf = buf;
    for (i = 0; i < n; i++) {
        uint64_t r = buf + 16 + 24 * (uint64_t)i;
        mm_space_put64(im->space, r, child[i]);
        mm_space_put64(im->space, r + 8, parent[i]);
        mm_space_put64(im->space, r + 16, (uint64_t)kind[i]);
    }
    mm_space_put64(im->space, ba + (uint64_t)l->object_type, mm_fab_type(im, "bytearray", 0));
    mm_space_put64(im->space, ba + (uint64_t)l->bytearray_size, size);
    mm_space_put64(im->space, ba + (uint64_t)l->bytearray_start, buf);
    hook = mm_alloc(im->space, 64);
    mm_space_put64(im->space, hook + (uint64_t)l->module_dict, mm_fab_dict1(im, "_LINKS", ba));
    mm_fab_modules_dict(im, hook);
}

/* The loop running on thread k: an instance whose dict (at the type's
 * tp_dictoffset) holds `_ready`, its ready deque, whose mutation count
 * the mutator bumps as asyncio does (uw_unwinder_set_epoch); and the
 * thread's running-loop entry. */
static void mm_fab_loop(mm_image *im, mm_fthread *th)
{
    const uw_layout *l = im->l;
    mm_space *space = im->space;
    uint64_t loop_type = mm_fab_type(im, "_UnixSelectorEventLoop", 0);
    uint64_t deque_type = mm_fab_type(im, "collections.deque", 0);
    uint64_t deque = mm_alloc(space, 128);
    int64_t dictoffset = 16, basicsize = 24;

    (void)mm_space_write(space, loop_type + (uint64_t)l->type_dictoffset, &dictoffset, 8);
    (void)mm_space_write(space, loop_type + (uint64_t)l->type_basicsize, &basicsize, 8);
    mm_space_put64(space, deque + (uint64_t)l->object_type, deque_type);
    th->ready_state = deque + (uint64_t)im->al->deque_state;
    th->ready_len = deque + (uint64_t)im->al->deque_len;
    th->loop = mm_alloc(space, 64);
    mm_space_put64(space, th->loop + (uint64_t)l->object_type, loop_type);
    mm_space_put64(space, th->loop + (uint64_t)dictoffset,
                   mm_fab_dict1(im, im->al->loop_ready, deque));
    if (l->tstate_asyncio_running_loop != UW_ABSENT) {
        mm_space_put64(space, th->tstate + (uint64_t)l->tstate_asyncio_running_loop, th->loop);
    } else {
        uint64_t held = th->loop;
        if (im->al->holder_loop >= 0) {
            held = mm_alloc(space, 32);
            mm_space_put64(space, held + (uint64_t)im->al->holder_loop, th->loop);
        }
        mm_space_put64(space, th->tstate + (uint64_t)l->tstate_dict,
                       mm_fab_dict1(im, im->al->running_loop_key, held));
    }
}

/* An empty circular list: its head points at itself both ways
 * (llist_init). */
static void mm_fab_llist_init(mm_image *im, uint64_t head)
{
    mm_space_put64(im->space, head + (uint64_t)im->l->llist_next, head);
    mm_space_put64(im->space, head + (uint64_t)im->l->llist_prev, head);
}

/* An interpreter frame that runs no code (FRAME_OWNED_BY_INTERPRETER):
 * what _PyEval_EvalFrameDefault puts on the C stack for each call into
 * the interpreter, and 3.15's base frame.  f_executable is a tagged None
 * (PyStackRef_None: Py_TAG_REFCNT set), the value stack empty. */
void mm_fab_entry_frame(mm_image *im, uint64_t f, uint64_t previous, uint64_t funcobj)
{
    const uw_layout *l = im->l;
    uint8_t owner = (uint8_t)l->owner_interpreter;

    mm_space_put64(im->space, f + (uint64_t)l->frame_code,
                   im->target.types.none | (uint64_t)l->stackref_borrow_mask);
    mm_space_put64(im->space, f + (uint64_t)l->frame_instr, im->trampoline + 2);
    mm_space_put64(im->space, f + (uint64_t)l->frame_func, funcobj);
    mm_space_put64(im->space, f + (uint64_t)l->frame_previous, previous);
    mm_space_put64(im->space, f + (uint64_t)l->frame_stackpointer,
                   f + (uint64_t)l->frame_localsplus);
    (void)mm_space_write(im->space, f + (uint64_t)l->frame_owner, &owner, 1);
}

/* 3.14+: the thread state's asyncio fields (its running loop is stored
 * with the loop) and its interpreter frames: the entry frame below its
 * first Python frame, on its C stack, and on 3.15 the base frame embedded
 * in the thread state, which PyThreadState.base_frame points at. */
static void mm_fab_thread_asyncio(mm_image *im, mm_fthread *th)
{
    const uw_layout *l = im->l;
    uint64_t below = 0;

    if (l->owner_interpreter != UW_ABSENT && im->trampoline == 0)
        im->trampoline = mm_static(im->space, 16); /* _Py_INTERPRETER_TRAMPOLINE_INSTRUCTIONS */
    if (l->tstate_asyncio_tasks_head != UW_ABSENT) {
        th->tasks_head = th->tstate + (uint64_t)l->tstate_asyncio_tasks_head;
        mm_fab_llist_init(im, th->tasks_head);
    }
    if (l->tstate_embedded_base_frame != UW_ABSENT) {
        th->base_frame = th->tstate + (uint64_t)l->tstate_embedded_base_frame;
        mm_fab_entry_frame(im, th->base_frame, 0, (uint64_t)l->stackref_null);
        mm_space_put64(im->space, th->tstate + (uint64_t)l->tstate_base_frame, th->base_frame);
        below = th->base_frame;
    }
    if (l->owner_interpreter != UW_ABSENT) {
        th->bottom = mm_static(im->space, (size_t)l->frame_size + 64);
        mm_fab_entry_frame(im, th->bottom, below, 0);
        th->cstack = mm_static(im->space, (size_t)l->frame_size + 64);
    }
}

/* One more thread; with_loop: running a loop (mm_fab_thread), else a
 * plain thread (mm_fab_plain_thread). */
static int mm_fab_thread_ex(mm_image *im, int with_loop)
{
    const uw_layout *l = im->l;
    mm_space *space = im->space;
    mm_fthread *th;
    uint64_t head;
    int k = im->n_threads, rc;

    if (k >= MM_FAB_THREADS)
        return UW_ERR_INVALID_ARG;
    th = &im->th[k];
    /* every thread state is a _PyThreadStateImpl from 3.13 (3.15's is
     * more than the 1 KiB block earlier versions get) */
    th->tstate = mm_alloc(space, l->tstate_impl_size > 1024 ? (size_t)l->tstate_impl_size : 1024);
    head = mm_space_get64(space, im->interp + (uint64_t)l->interp_threads_head);
    mm_space_put64(space, im->interp + (uint64_t)l->interp_threads_head, th->tstate);
    if (head != 0) {
        mm_space_put64(space, th->tstate + (uint64_t)l->tstate_next, head);
        mm_space_put64(space, head + (uint64_t)l->tstate_prev, th->tstate);
    }
    mm_space_put64(space, th->tstate + (uint64_t)l->tstate_interp, im->interp);
    mm_space_put64(space, th->tstate + (uint64_t)l->tstate_native_thread_id,
                   MM_FAB_NATIVE_ID0 + (uint64_t)k);
    mm_space_put64(space, th->tstate + (uint64_t)l->tstate_thread_id,
                   (uint64_t)0x7f0000004242ull + (uint64_t)0x1000u * (uint64_t)k);
    if (l->tstate_cframe != UW_ABSENT) {
        uint64_t cf = mm_alloc(space, 64);
        mm_space_put64(space, th->tstate + (uint64_t)l->tstate_cframe, cf);
        th->current_slot = cf + (uint64_t)l->cframe_current_frame;
    } else {
        th->current_slot = th->tstate + (uint64_t)l->tstate_current_frame;
    }
    th->chunk = MM_STACK_BASE + (uint64_t)k * (1u << 20);
    rc = mm_space_map(space, th->chunk, MM_CHUNK_BYTES);
    if (rc != 0)
        return rc;
    mm_space_put64(space, th->chunk + (uint64_t)l->chunk_size, MM_CHUNK_BYTES);
    mm_space_put64(space, th->tstate + (uint64_t)l->tstate_datastack_chunk, th->chunk);
    mm_space_put64(space, th->tstate + (uint64_t)l->tstate_datastack_top,
                   th->chunk + (uint64_t)l->chunk_data + 8);
    if (with_loop)
        mm_fab_loop(im, th);
    mm_fab_thread_asyncio(im, th);
    if (k == 0) {
        im->tstate = th->tstate;
        im->current_slot = th->current_slot;
        im->chunk = th->chunk;
        im->loop = th->loop;
        im->ready_state = th->ready_state;
    }
    im->n_threads++;
    return k;
}

int mm_fab_thread(mm_image *im)
{
    return mm_fab_thread_ex(im, 1);
}

int mm_fab_plain_thread(mm_image *im)
{
    return mm_fab_thread_ex(im, 0);
}

uint64_t mm_fab_gather_type(mm_image *im)
{
    uint64_t t = mm_fab_type(im, "_GatheringFuture", im->future_type);
    int64_t dictoffset = im->al->fut_size, basicsize = im->al->fut_size + 16;

    (void)mm_space_write(im->space, t + (uint64_t)im->l->type_dictoffset, &dictoffset, 8);
    (void)mm_space_write(im->space, t + (uint64_t)im->l->type_basicsize, &basicsize, 8);
    return t;
}

size_t mm_fab_gather_size(const mm_image *im)
{
    return (size_t)im->al->fut_size + 16;
}

uint64_t mm_fab_hook_buffer(mm_image *im, size_t cap)
{
    const uw_layout *l = im->l;
    uint64_t hook, ba = mm_alloc(im->space, 64), size = 16 + 24 * (uint64_t)cap;
    uint64_t buf = mm_alloc(im->space, (size_t)size + 8);

    (void)mm_space_write(im->space, buf, "TSLINKS1", 8);
    mm_space_put64(im->space, buf + 8, 0);
    im->hook_buf = buf;
    mm_space_put64(im->space, ba + (uint64_t)l->object_type, mm_fab_type(im, "bytearray", 0));
    mm_space_put64(im->space, ba + (uint64_t)l->bytearray_size, size);
    mm_space_put64(im->space, ba + (uint64_t)l->bytearray_start, buf);
    hook = mm_alloc(im->space, 64);
    mm_space_put64(im->space, hook + (uint64_t)l->module_dict, mm_fab_dict1(im, "_LINKS", ba));
    mm_fab_modules_dict(im, hook);
    return buf;
}

int mm_fab_process(mm_space *space, int minor, mm_image *im)
{
    const uw_layout *l;
    uint64_t none;
    int rc;

    memset(im, 0, sizeof *im);
    im->space = space;
    /* every generated table: 3.14 and 3.15 too, whichever the walks read */
    im->l = l = uw__layout_table_for_minor(minor);
    im->al = uw__asyncio_layout_for_minor(minor);
    if (l == NULL || im->al == NULL)
        return UW_ERR_UNSUPPORTED_VERSION;
    /* Type objects and singletons live in the image (static data). */
    im->target.layout = l;
    im->target.py_version = 0x030000f0ull | ((uint64_t)minor << 16);
    im->target.code_type = mm_fab_type(im, "code", 0);
    im->target.types.str = mm_fab_type(im, "str", 0);
    im->target.types.bytes = mm_fab_type(im, "bytes", 0);
    im->target.types.dict = mm_fab_type(im, "dict", 0);
    im->target.types.set = mm_fab_type(im, "set", 0);
    im->target.types.long_ = mm_fab_type(im, "int", 0);
    im->target.types.coro = mm_fab_type(im, "coroutine", 0);
    im->target.types.gen = mm_fab_type(im, "generator", 0);
    im->target.types.asyncgen = mm_fab_type(im, "async_generator", 0);
    im->target.types.asend = mm_fab_type(im, "async_generator_asend", 0);
    im->target.types.weakref = mm_fab_type(im, "weakref.ReferenceType", 0);
    none = mm_static(space, 64);
    im->target.types.none = none;
    im->set_dummy = mm_static(space, 64);
    im->target.types.set_dummy = im->set_dummy;
    im->future_type = mm_fab_type(im, "_asyncio.Future", 0);
    im->task_type = mm_fab_type(im, "_asyncio.Task", im->future_type);

    im->runtime = mm_static(space, (size_t)l->runtime_size);
    im->target.runtime_addr = im->runtime;
    mm_fab_debug_offsets(im);
    im->interp = mm_static(space, (size_t)l->interp_size);
    mm_space_put64(space, im->runtime + (uint64_t)l->runtime_interpreters_head, im->interp);
    if (l->interp_asyncio_tasks_head != UW_ABSENT) {
        im->interp_tasks_head = im->interp + (uint64_t)l->interp_asyncio_tasks_head;
        mm_fab_llist_init(im, im->interp_tasks_head);
    }
    rc = mm_fab_thread(im);
    if (rc < 0)
        return rc;
    /* The registry: a set of weakrefs to Tasks, found through sys.modules. */
    im->registry = mm_fab_set(im, MM_REGISTRY_SLOTS, &im->registry_table);
    mm_fab_modules(im);
    mm_fab_asyncio_debug(im);
    return 0;
}

/* --- the blocks checked at attach -------------------------------------------- */

/* _Py_DebugOffsets (3.13+), the first member of _PyRuntime, as a matching
 * build fills it (_Py_DebugOffsets_INIT): the cookie, the version, the
 * free_threaded word, and every field the table lists with its value. */
static void mm_fab_debug_offsets(mm_image *im)
{
    const uw_layout *l = im->l;
    size_t i;

    if (l->debug_offsets_size <= 24 || l->debug_fields == NULL)
        return;
    (void)mm_space_write(im->space, im->runtime, "xdebugpy", 8);
    mm_space_put64(im->space, im->runtime + (uint64_t)l->debug_version_at, im->target.py_version);
    mm_space_put64(im->space, im->runtime + (uint64_t)l->debug_free_threaded_at, 0);
    for (i = 0; i < l->n_debug_fields; i++)
        mm_space_put64(im->space, im->runtime + l->debug_fields[i].at, l->debug_fields[i].expect);
}

/* What _asyncio puts in one word of its Py_AsyncioModuleDebugOffsets
 * block: offsetof/sizeof of its own TaskObj and of the interpreter and
 * thread states, which the model takes from the same tables. */
static uint64_t mm_fab_adbg_word(const mm_image *im, uw_asyncio_debug_source src)
{
    const uw_layout *l = im->l;
    const uw_asyncio_layout *al = im->al;

    switch (src) {
    case UW_ADBG_TASK_SIZE:
        return (uint64_t)al->task_size;
    case UW_ADBG_TASK_NAME:
        return (uint64_t)al->task_name;
    case UW_ADBG_TASK_AWAITED_BY:
        return (uint64_t)al->fut_awaited_by;
    case UW_ADBG_TASK_IS_TASK:
        return (uint64_t)al->fut_is_task;
    case UW_ADBG_TASK_AWAITED_BY_IS_SET:
        return (uint64_t)al->fut_awaited_by_is_set;
    case UW_ADBG_TASK_CORO:
        return (uint64_t)al->task_coro;
    case UW_ADBG_TASK_NODE:
        return (uint64_t)al->task_node;
    case UW_ADBG_INTERP_SIZE:
        return (uint64_t)l->interp_size;
    case UW_ADBG_INTERP_TASKS_HEAD:
        return (uint64_t)l->interp_asyncio_tasks_head;
    case UW_ADBG_TSTATE_SIZE:
        return (uint64_t)l->tstate_impl_size;
    case UW_ADBG_TSTATE_RUNNING_LOOP:
        return (uint64_t)l->tstate_asyncio_running_loop;
    case UW_ADBG_TSTATE_RUNNING_TASK:
        return (uint64_t)l->tstate_asyncio_running_task;
    case UW_ADBG_TSTATE_TASKS_HEAD:
        return (uint64_t)l->tstate_asyncio_tasks_head;
    }
    return 0;
}

/* _asyncio's .AsyncioDebug block (3.14+), in the image. */
static void mm_fab_asyncio_debug(mm_image *im)
{
    const uw_asyncio_debug_field *f;
    size_t n, i;

    if (im->al->debug_size <= 0)
        return;
    f = uw__asyncio_debug_fields(&n);
    im->asyncio_debug = mm_static(im->space, (size_t)im->al->debug_size);
    for (i = 0; i < n; i++)
        mm_space_put64(im->space, im->asyncio_debug + f[i].at, mm_fab_adbg_word(im, f[i].source));
}

uint64_t mm_fab_debug_word(const mm_image *im, const char *name)
{
    const uw_layout *l = im->l;
    const uw_asyncio_debug_field *f;
    size_t n, i;

    if (l->debug_offsets_size <= 24)
        return 0;
    if (strcmp(name, "free_threaded") == 0)
        return im->runtime + (uint64_t)l->debug_free_threaded_at;
    if (strcmp(name, "version") == 0)
        return im->runtime + (uint64_t)l->debug_version_at;
    if (strcmp(name, "cookie") == 0)
        return im->runtime;
    for (i = 0; i < l->n_debug_fields; i++)
        if (strcmp(name, l->debug_fields[i].name) == 0)
            return im->runtime + l->debug_fields[i].at;
    if (im->asyncio_debug != 0) {
        f = uw__asyncio_debug_fields(&n);
        for (i = 0; i < n; i++)
            if (strcmp(name, f[i].name) == 0)
                return im->asyncio_debug + f[i].at;
    }
    return 0;
}

int mm_fab_attach_check(const mm_image *im, uw_reader *r, char *why, size_t whylen)
{
    uw_target t = im->target;
    int rc;

    rc = uw_target_check_runtime(r, &t, why, whylen);
    if (rc == 0 && im->asyncio_debug != 0)
        rc = uw_target_check_asyncio_at(r, &t, im->asyncio_debug, (uint64_t)im->al->debug_size, why,
                                        whylen);
    return rc;
}
