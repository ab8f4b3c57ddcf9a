/*
 * fake_proc.c — see fake_proc.h.
 */
#include "fake_proc.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "internal/asyncio_layout.h"
#include "tornstack/error.h"

/* Regions are kept in address order, apart from each other (fp_alloc
 * appends at a growing brk, fp_unmap keeps the order), so a lookup is a
 * binary search: worlds of thousands of Tasks stay fast to read.  The
 * first region ending above addr: */
static size_t fp_first_ending_above(const fake_proc *fp, uint64_t addr)
{
    size_t lo = 0, hi = fp->n_regions;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (fp->regions[mid].addr + fp->regions[mid].len <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The region holding addr, or NULL. */
static fp_region *fp_find(fake_proc *fp, uint64_t addr)
{
    size_t k = fp_first_ending_above(fp, addr);

    return k < fp->n_regions && fp->regions[k].addr <= addr ? &fp->regions[k] : NULL;
}

/* Paged (fp_use_pages): the bytes of every page a region touches read, as
 * the region's where it lies and 0 between regions, as a real process maps
 * whole pages; a page no region touches faults.  Bound: the regions that
 * touch the pages read. */
#define FP_PAGE 4096u

static int fp_read_paged(fake_proc *fp, uint64_t addr, uint8_t *dst, size_t len)
{
    uint64_t at = addr, end = addr + len;

    while (at < end) {
        const uint64_t page = at & ~(uint64_t)(FP_PAGE - 1);
        const uint64_t stop = page + FP_PAGE < end ? page + FP_PAGE : end;
        size_t k = fp_first_ending_above(fp, page);
        if (k == fp->n_regions || fp->regions[k].addr >= page + FP_PAGE)
            return at == addr ? UW_ERR_READ_FAULT : UW_ERR_READ_SHORT; /* not mapped */
        memset(dst + (at - addr), 0, (size_t)(stop - at));
        for (k = fp_first_ending_above(fp, at); k < fp->n_regions && fp->regions[k].addr < stop;
             k++) {
            const fp_region *r = &fp->regions[k];
            uint64_t lo = r->addr > at ? r->addr : at;
            uint64_t hi = r->addr + r->len < stop ? r->addr + r->len : stop;
            memcpy(dst + (lo - addr), r->mem + (lo - r->addr), (size_t)(hi - lo));
        }
        at = stop;
    }
    return 0;
}

static int fp_read(void *ctx, uint64_t addr, void *dst, size_t len)
{
    fake_proc *fp = ctx;
    fp_region *r;
    fp->reads++;
    if (fp->paged)
        return fp_read_paged(fp, addr, dst, len);
    r = fp_find(fp, addr);
    if (r == NULL)
        return UW_ERR_READ_FAULT;
    if (len > r->len - (addr - r->addr)) {
        /* like process_vm_readv: the mapped prefix is copied, then short */
        memcpy(dst, r->mem + (addr - r->addr), r->len - (addr - r->addr));
        return UW_ERR_READ_SHORT;
    }
    memcpy(dst, r->mem + (addr - r->addr), len);
    return 0;
}

static const uw_reader_ops fp_ops = {fp_read, NULL, NULL, NULL};

/* Every piece in order (which keeps every group's order), one call in all,
 * as process_vm_readv and the model count a vectored read. */
static int fp_readv(void *ctx, uw_iov *iov, size_t n, const size_t *end, size_t n_groups,
                    uint64_t *calls)
{
    size_t i;
    (void)end;
    (void)n_groups;
    for (i = 0; i < n; i++)
        iov[i].status = iov[i].len == 0 ? 0 : fp_read(ctx, iov[i].addr, iov[i].dst, iov[i].len);
    *calls = 1;
    return 0;
}

static const uw_reader_ops fp_vec_ops = {fp_read, fp_readv, NULL, NULL};

void fp_use_vectored(fake_proc *fp)
{
    fp->reader.ops = &fp_vec_ops;
}

void fp_use_pages(fake_proc *fp)
{
    fp->reader.ops = &fp_vec_ops;
    fp->paged = 1;
}

void fp_init(fake_proc *fp, int py_minor)
{
    memset(fp, 0, sizeof *fp);
    fp->l = uw__layout_for_minor(py_minor);
    assert(fp->l != NULL);
    fp->brk = 0x10000000;
    uw_reader_init(&fp->reader, &fp_ops, fp);
    fp->target.layout = fp->l;
    fp->target.py_version = 0x03000000u | ((uint64_t)py_minor << 16) | 0xf0;
    fp->target.code_type = FP_CODE_TYPE;
    fp->target.types.coro = FP_CORO_TYPE;
    fp->target.types.set = FP_SET_TYPE;
    fp->target.types.str = FP_STR_TYPE;
    fp->target.types.long_ = FP_LONG_TYPE;
    fp->target.types.bytes = FP_BYTES_TYPE;
    fp->target.types.none = FP_NONE;
}

void fp_free(fake_proc *fp)
{
    size_t i;
    for (i = 0; i < fp->n_regions; i++)
        free(fp->regions[i].mem);
    free(fp->regions);
    memset(fp, 0, sizeof *fp);
}

uint64_t fp_alloc(fake_proc *fp, size_t len)
{
    fp_region *r;
    if (fp->n_regions == fp->cap_regions) {
        fp->cap_regions = fp->cap_regions ? 2 * fp->cap_regions : 64;
        fp->regions = realloc(fp->regions, fp->cap_regions * sizeof *fp->regions);
        assert(fp->regions != NULL);
    }
    r = &fp->regions[fp->n_regions++];
    r->addr = fp->brk;
    r->len = len;
    r->mem = calloc(1, len ? len : 1);
    assert(r->mem != NULL);
    /* leave a hole after every region so overruns fault */
    fp->brk += (len + 4096 + 15) & ~(uint64_t)15;
    return r->addr;
}

uint8_t *fp_ptr(fake_proc *fp, uint64_t addr, size_t len)
{
    fp_region *r = fp_find(fp, addr);
    if (r == NULL || len > r->len - (addr - r->addr))
        return NULL;
    return r->mem + (addr - r->addr);
}

void fp_put64(fake_proc *fp, uint64_t addr, uint64_t v)
{
    uint8_t *p = fp_ptr(fp, addr, 8);
    assert(p != NULL);
    memcpy(p, &v, 8);
}

void fp_put32(fake_proc *fp, uint64_t addr, uint32_t v)
{
    uint8_t *p = fp_ptr(fp, addr, 4);
    assert(p != NULL);
    memcpy(p, &v, 4);
}

void fp_put8(fake_proc *fp, uint64_t addr, uint8_t v)
{
    uint8_t *p = fp_ptr(fp, addr, 1);
    assert(p != NULL);
    *p = v;
}

void fp_unmap(fake_proc *fp, uint64_t addr)
{
    size_t i;
    for (i = 0; i < fp->n_regions; i++) {
        if (fp->regions[i].addr == addr) {
            free(fp->regions[i].mem);
            memmove(&fp->regions[i], &fp->regions[i + 1],
                    (fp->n_regions - i - 1) * sizeof *fp->regions);
            fp->n_regions--;
            return;
        }
    }
}

uint64_t fp_str_kind(fake_proc *fp, const void *data, size_t n, unsigned kind)
{
    const uw_layout *l = fp->l;
    int ascii = kind == 1;
    size_t i, off;
    uint64_t a;
    uint32_t state;

    if (kind == 1)
        for (i = 0; i < n; i++)
            ascii &= ((const uint8_t *)data)[i] < 0x80;
    off = (size_t)(ascii ? l->unicode_ascii_data : l->unicode_compact_data);
    a = fp_alloc(fp, off + (n + 1) * kind);
    fp_put64(fp, a + 8, FP_STR_TYPE);
    fp_put64(fp, a + (uint64_t)l->unicode_length, n);
    state = (uint32_t)l->unicode_compact_mask | (kind << l->unicode_kind_shift) |
            (ascii ? (uint32_t)l->unicode_ascii_mask : 0u);
    fp_put32(fp, a + (uint64_t)l->unicode_state, state);
    memcpy(fp_ptr(fp, a + off, n * kind + 1), data, n * kind);
    return a;
}

uint64_t fp_str(fake_proc *fp, const char *ascii)
{
    return fp_str_kind(fp, ascii, strlen(ascii), 1);
}

uint64_t fp_bytes(fake_proc *fp, const void *data, size_t len)
{
    uint64_t a = fp_alloc(fp, (size_t)fp->l->bytes_data + len + 1);
    fp_put64(fp, a + 8, FP_BYTES_TYPE);
    fp_put64(fp, a + (uint64_t)fp->l->bytes_size, len);
    if (len)
        memcpy(fp_ptr(fp, a + (uint64_t)fp->l->bytes_data, len), data, len);
    return a;
}

uint64_t fp_code(fake_proc *fp, const char *qualname, const char *file, int firstlineno,
                 const int *lines, size_t n)
{
    const uw_layout *l = fp->l;
    uint8_t *tab = malloc(n * 8 + 1);
    size_t len = 0, i;
    int cur = firstlineno;
    uint64_t a, q, f, lt;

    /* one "no column" entry (code 13) per code unit, svarint line delta */
    for (i = 0; i < n; i++) {
        int d = lines[i] - cur;
        uint32_t v = d < 0 ? ((uint32_t)(-d) << 1) | 1u : (uint32_t)d << 1;
        tab[len++] = 0x80 | (13 << 3);
        do {
            uint8_t b = v & 0x3f;
            v >>= 6;
            tab[len++] = (uint8_t)(b | (v ? 0x40 : 0));
        } while (v);
        cur = lines[i];
    }
    q = fp_str(fp, qualname);
    f = fp_str(fp, file);
    lt = fp_bytes(fp, tab, len);
    free(tab);
    a = fp_alloc(fp, (size_t)l->code_size + 2 * n + 2);
    fp_put64(fp, a + 8, FP_CODE_TYPE);
    fp_put64(fp, a + (uint64_t)l->code_qualname, q);
    fp_put64(fp, a + (uint64_t)l->code_name, q);
    fp_put64(fp, a + (uint64_t)l->code_filename, f);
    fp_put64(fp, a + (uint64_t)l->code_linetable, lt);
    fp_put32(fp, a + (uint64_t)l->code_firstlineno, (uint32_t)firstlineno);
    fp_put32(fp, a + (uint64_t)l->code_firsttraceable, 0);
    fp_put64(fp, a + (uint64_t)l->code_units, n + 1);
    return a;
}

void fp_frame_at(fake_proc *fp, uint64_t addr, uint64_t code, uint64_t previous, int owner,
                 int64_t index)
{
    const uw_layout *l = fp->l;
    /* 3.14+: a tagged reference, marked borrowed (the walk masks it) */
    fp_put64(fp, addr + (uint64_t)l->frame_code, l->frame_tagged && code != 0 ? code | 1 : code);
    fp_put64(fp, addr + (uint64_t)l->frame_previous, previous);
    fp_put8(fp, addr + (uint64_t)l->frame_owner, (uint8_t)owner);
    fp_put64(fp, addr + (uint64_t)l->frame_instr,
             code + (uint64_t)l->code_adaptive + (uint64_t)(2 * index));
}

uint64_t fp_frame(fake_proc *fp, uint64_t code, uint64_t previous, int owner, int64_t index)
{
    uint64_t a = fp_alloc(fp, (size_t)fp->l->frame_size + 64);
    fp_frame_at(fp, a, code, previous, owner, index);
    return a;
}

const fp_call fp_run_call = {"_run", 0, 1, 0, 0, 0};

/* An opcode other than op that folds to op, else op itself. */
static uint8_t fp_specialized(const uw_layout *l, int32_t op)
{
    for (int i = 0; i < 256; i++)
        if (i != op && l->opcode_deopt[i] == (uint8_t)op)
            return (uint8_t)i;
    return (uint8_t)op;
}

/* Units from the method load to the CALL's last cache, and the unit
 * before, at most (call_site.c has the same bound). */
#define FP_CALL_UNITS 64

uint64_t fp_code_call(fake_proc *fp, const char *qualname, const char *file, int firstlineno,
                      const fp_call *c, int64_t *index)
{
    const uw_layout *l = fp->l;
    int one_line[FP_CALL_UNITS];
    uint64_t name_items[256 + 4];
    uint64_t code, names;
    int u, k_call, n_units, at;
    uint8_t *p;

    for (u = 0; u < FP_CALL_UNITS; u++)
        one_line[u] = firstlineno;
    n_units = 1 + (1 + l->caches_method) +
              (l->opcode_precall != UW_ABSENT ? 1 + l->caches_precall : 0) + 1 + l->caches_call;
    assert(n_units + 1 <= FP_CALL_UNITS);
    code = fp_code(fp, qualname, file, firstlineno, one_line, (size_t)n_units + 1);
    at = c->index != 0 ? c->index : 1;
    assert(at < 256);
    for (u = 0; u < at + 4; u++)
        name_items[u] = fp_str(fp, u == at ? c->method : "other");
    names = fp_tuple(fp, name_items, (size_t)at + 4);
    fp_put64(fp, code + (uint64_t)l->code_names, names);
    p = fp_ptr(fp, code + (uint64_t)l->code_adaptive, 2 * (size_t)n_units);
    memset(p, 0, 2 * (size_t)n_units);
    p[0] = (uint8_t)(c->pad_ext ? l->opcode_extended_arg : l->opcode_resume);
    u = 1;
    p[2 * u] = c->spec ? fp_specialized(l, l->opcode_method) : (uint8_t)l->opcode_method;
    p[2 * u + 1] =
        (uint8_t)((at << l->method_name_shift) | (l->method_name_shift ? c->method_bit : 0));
    u += 1 + l->caches_method;
    if (l->opcode_precall != UW_ABSENT) {
        p[2 * u] = c->spec ? fp_specialized(l, l->opcode_precall) : (uint8_t)l->opcode_precall;
        p[2 * u + 1] = (uint8_t)c->args;
        u += 1 + l->caches_precall;
    }
    k_call = u;
    p[2 * u] = c->spec ? fp_specialized(l, l->opcode_call) : (uint8_t)l->opcode_call;
    p[2 * u + 1] = (uint8_t)c->args;
    /* 3.13+ keep the instruction being run, 3.11/3.12 the last unit
     * stepped over: the CALL's last cache */
    *index = k_call + (l->instr_is_prev ? l->caches_call : 0);
    return code;
}

void fp_stand_at_run_call(fake_proc *fp, uint64_t addr, const char *qualname, int line)
{
    const uw_layout *l = fp->l;
    uint64_t previous, code;
    uint8_t owner;
    int64_t at;

    memcpy(&previous, fp_ptr(fp, addr + (uint64_t)l->frame_previous, 8), 8);
    owner = *fp_ptr(fp, addr + (uint64_t)l->frame_owner, 1);
    code = fp_code_call(fp, qualname, "/py/asyncio/base_events.py", line, &fp_run_call, &at);
    fp_frame_at(fp, addr, code, previous, owner, at);
}

uint64_t fp_runtime(fake_proc *fp)
{
    fp->runtime = fp_alloc(fp, (size_t)fp->l->runtime_size);
    fp->target.runtime_addr = fp->runtime;
    fp->interp = fp_interp(fp, 0, 0);
    return fp->interp;
}

uint64_t fp_interp(fake_proc *fp, uint64_t after, int64_t id)
{
    uint64_t a = fp_alloc(fp, (size_t)fp->l->interp_size);
    fp_put64(fp, a + (uint64_t)fp->l->interp_id, (uint64_t)id);
    if (after == 0)
        fp_put64(fp, fp->runtime + (uint64_t)fp->l->runtime_interpreters_head, a);
    else
        fp_put64(fp, after + (uint64_t)fp->l->interp_next, a);
    return a;
}

/* 3.15: the base frame embedded in the thread state, where every chain
 * of the thread ends; `frame`'s chain is linked to it. */
static uint64_t fp_base_frame(fake_proc *fp, uint64_t ts, uint64_t frame)
{
    const uw_layout *l = fp->l;
    uint64_t base = ts + (uint64_t)l->tstate_embedded_base_frame, f = frame, prev;

    fp_put64(fp, base + (uint64_t)l->frame_code, FP_NONE | 1);
    fp_put64(fp, base + (uint64_t)l->frame_previous, 0);
    fp_put8(fp, base + (uint64_t)l->frame_owner, (uint8_t)l->owner_interpreter);
    fp_put64(fp, ts + (uint64_t)l->tstate_base_frame, base);
    if (frame == 0)
        return base;
    for (;;) {
        memcpy(&prev, fp_ptr(fp, f + (uint64_t)l->frame_previous, 8), 8);
        if (prev == 0)
            break;
        f = prev;
    }
    fp_put64(fp, f + (uint64_t)l->frame_previous, base);
    return frame;
}

uint64_t fp_thread(fake_proc *fp, uint64_t interp, uint64_t native_id, uint64_t frame)
{
    const uw_layout *l = fp->l;
    /* room for the _PyThreadStateImpl tail (3.13+: the asyncio fields) */
    size_t size = (size_t)l->tstate_size + 64;
    uint64_t ts, head = 0;

    if (l->tstate_impl_size != UW_ABSENT && (size_t)l->tstate_impl_size + 64 > size)
        size = (size_t)l->tstate_impl_size + 64;
    ts = fp_alloc(fp, size);
    if (l->tstate_embedded_base_frame != UW_ABSENT)
        frame = fp_base_frame(fp, ts, frame);
    memcpy(&head, fp_ptr(fp, interp + (uint64_t)l->interp_threads_head, 8), 8);
    fp_put64(fp, ts + (uint64_t)l->tstate_next, head);
    fp_put64(fp, ts + (uint64_t)l->tstate_interp, interp);
    fp_put64(fp, ts + (uint64_t)l->tstate_native_thread_id, native_id);
    fp_put64(fp, ts + (uint64_t)l->tstate_thread_id, native_id + 1000);
    if (l->tstate_cframe != UW_ABSENT) {
        uint64_t cf = fp_alloc(fp, 32);
        fp_put64(fp, cf + (uint64_t)l->cframe_current_frame, frame);
        fp_put64(fp, ts + (uint64_t)l->tstate_cframe, cf);
    } else {
        fp_put64(fp, ts + (uint64_t)l->tstate_current_frame, frame);
    }
    fp_put64(fp, interp + (uint64_t)l->interp_threads_head, ts);
    return ts;
}

uint64_t fp_type(fake_proc *fp, const char *tp_name, uint64_t base)
{
    uint64_t t = fp_alloc(fp, 512);
    uint64_t name = fp_alloc(fp, strlen(tp_name) + 64);
    memcpy(fp_ptr(fp, name, strlen(tp_name) + 1), tp_name, strlen(tp_name) + 1);
    fp_put64(fp, t + (uint64_t)fp->l->type_name, name);
    fp_put64(fp, t + (uint64_t)fp->l->type_base, base);
    return t;
}

uint64_t fp_set(fake_proc *fp, const uint64_t *keys, size_t n)
{
    const uw_layout *l = fp->l;
    size_t slots = 8, i;
    uint64_t s, tab;

    while (slots < 2 * n)
        slots *= 2;
    s = fp_alloc(fp, 256);
    tab = fp_alloc(fp, slots * (size_t)l->setentry_size);
    fp_put64(fp, s + 8, FP_SET_TYPE);
    fp_put64(fp, s + (uint64_t)l->set_mask, slots - 1);
    fp_put64(fp, s + (uint64_t)l->set_used, n);
    fp_put64(fp, s + (uint64_t)l->set_fill, n);
    fp_put64(fp, s + (uint64_t)l->set_table, tab);
    for (i = 0; i < n; i++)
        fp_put64(fp, tab + i * (uint64_t)l->setentry_size + (uint64_t)l->setentry_key, keys[i]);
    return s;
}

uint64_t fp_long(fake_proc *fp, int64_t v)
{
    const uw_layout *l = fp->l;
    uint64_t a = fp_alloc(fp, 64);
    uint64_t mag = (uint64_t)(v < 0 ? -v : v);
    uint64_t nd = mag == 0 ? 0 : (mag >> 30) ? 2 : 1;

    fp_put64(fp, a + 8, FP_LONG_TYPE);
    if (l->long_tagged)
        fp_put64(fp, a + (uint64_t)l->long_tag, (nd << 3) | (v < 0 ? 2u : v == 0 ? 1u : 0u));
    else
        fp_put64(fp, a + (uint64_t)l->long_tag, (uint64_t)(v < 0 ? -(int64_t)nd : (int64_t)nd));
    fp_put32(fp, a + (uint64_t)l->long_digits, (uint32_t)(mag & 0x3fffffff));
    fp_put32(fp, a + (uint64_t)l->long_digits + 4, (uint32_t)(mag >> 30));
    return a;
}

uint64_t fp_coro(fake_proc *fp, uint64_t code, int state, int64_t index, uint64_t awaitee)
{
    const uw_layout *l = fp->l;
    uint64_t c = fp_alloc(fp, (size_t)l->gen_iframe + (size_t)l->frame_size + 64);
    uint64_t f = c + (uint64_t)l->gen_iframe;

    fp_put64(fp, c + 8, FP_CORO_TYPE);
    fp_put8(fp, c + (uint64_t)l->gen_frame_state, (uint8_t)(int8_t)state);
    fp_frame_at(fp, f, code, 0, l->owner_generator, index);
    if (awaitee != 0 && !l->frame_tagged) {
        fp_put32(fp, f + (uint64_t)l->frame_stacktop, 1);
        fp_put64(fp, f + (uint64_t)l->frame_localsplus, awaitee);
    } else if (awaitee != 0) {
        /* 3.14+: stackpointer; the awaitee awaitee_depth slots below it, a
         * borrowed reference (low bit set); 3.15 keeps a NULL above it */
        const uw_asyncio_layout *al = uw__asyncio_layout_for_minor(l->py_minor);
        uint64_t slots = f + (uint64_t)l->frame_localsplus;
        int32_t d = al->awaitee_depth, k;
        fp_put64(fp, f + (uint64_t)l->frame_stackpointer, slots + 8u * (uint64_t)d);
        fp_put64(fp, slots, awaitee | 1);
        for (k = 1; k < d; k++)
            fp_put64(fp, slots + 8u * (uint64_t)k, (uint64_t)l->stackref_null);
    } else if (l->frame_tagged) {
        fp_put64(fp, f + (uint64_t)l->frame_stackpointer, f + (uint64_t)l->frame_localsplus);
    }
    return c;
}

void fp_coro_send_none(fake_proc *fp, uint64_t coro)
{
    const uw_layout *l = fp->l;
    const uint64_t f = coro + (uint64_t)l->gen_iframe;

    if (!l->frame_tagged) {
        uint32_t top;
        memcpy(&top, fp_ptr(fp, f + (uint64_t)l->frame_stacktop, 4), 4);
        fp_put64(fp, f + (uint64_t)l->frame_localsplus + 8u * top, FP_NONE);
        fp_put32(fp, f + (uint64_t)l->frame_stacktop, top + 1);
    } else {
        uint64_t sp;
        memcpy(&sp, fp_ptr(fp, f + (uint64_t)l->frame_stackpointer, 8), 8);
        fp_put64(fp, sp, FP_NONE | 1); /* a reference to an immortal: tagged */
        fp_put64(fp, f + (uint64_t)l->frame_stackpointer, sp + 8);
    }
}

void fp_list_append(fake_proc *fp, uint64_t head, uint64_t node)
{
    const uw_layout *l = fp->l;
    uint64_t last = 0;

    memcpy(&last, fp_ptr(fp, head + (uint64_t)l->llist_prev, 8), 8);
    if (last == 0) { /* an empty list points at itself */
        fp_put64(fp, head + (uint64_t)l->llist_next, head);
        last = head;
    }
    fp_put64(fp, node + (uint64_t)l->llist_prev, last);
    fp_put64(fp, node + (uint64_t)l->llist_next, head);
    fp_put64(fp, last + (uint64_t)l->llist_next, node);
    fp_put64(fp, head + (uint64_t)l->llist_prev, node);
}

uint64_t fp_task(fake_proc *fp, uint64_t type, uint64_t loop, uint64_t coro, uint64_t name,
                 uint64_t waiter)
{
    const uw_asyncio_layout *al = uw__asyncio_layout_for_minor(fp->l->py_minor);
    uint64_t t = fp_alloc(fp, (size_t)al->task_size + 64);

    fp_put64(fp, t + 8, type);
    fp_put64(fp, t + (uint64_t)al->fut_loop, loop);
    fp_put64(fp, t + (uint64_t)al->task_coro, coro);
    fp_put64(fp, t + (uint64_t)al->task_name, name);
    fp_put64(fp, t + (uint64_t)al->task_fut_waiter, waiter);
    fp_put32(fp, t + (uint64_t)al->fut_state, (uint32_t)al->state_pending);
    {
        /* awaiting a Task first adds a done callback to it (its wakeup):
         * a Task of the same type as waiter gets one (a stand-in word) */
        const uint8_t *wt = waiter != 0 ? fp_ptr(fp, waiter + 8, 8) : NULL;
        uint64_t wtype = 0;
        if (wt != NULL)
            memcpy(&wtype, wt, 8);
        if (wtype == type && fp_ptr(fp, waiter + (uint64_t)al->fut_callback0, 8) != NULL)
            fp_put64(fp, waiter + (uint64_t)al->fut_callback0, t);
    }
    return t;
}

uint64_t fp_dict(fake_proc *fp, const char *const *keys, const uint64_t *values, size_t n)
{
    const uw_layout *l = fp->l;
    const size_t head = (size_t)l->unicode_ascii_data, slot = (head + 64 + 15) & ~(size_t)15;
    unsigned log2_size = 3;
    size_t i, index_bytes;
    uint64_t d, k, strs;
    int64_t nentries = (int64_t)n;

    while ((1ull << log2_size) < 2 * n + 1)
        log2_size++;
    index_bytes = (size_t)1 << log2_size; /* one byte per index: small tables */
    if (log2_size > 7)
        index_bytes = (size_t)4 << log2_size;
    strs = fp_alloc(fp, n * slot + 1);
    for (i = 0; i < n; i++) {
        uint64_t a = strs + i * slot;
        size_t len = strlen(keys[i]);
        uint32_t state = (uint32_t)l->unicode_compact_mask | (1u << l->unicode_kind_shift) |
                         (uint32_t)l->unicode_ascii_mask;
        assert(len < 64);
        fp_put64(fp, a + 8, FP_STR_TYPE);
        fp_put64(fp, a + (uint64_t)l->unicode_length, len);
        fp_put32(fp, a + (uint64_t)l->unicode_state, state);
        memcpy(fp_ptr(fp, a + head, len + 1), keys[i], len);
    }
    k = fp_alloc(fp, (size_t)l->dictkeys_indices + index_bytes + n * (size_t)l->dictuentry_size);
    fp_put8(fp, k + (uint64_t)l->dictkeys_log2_size, (uint8_t)log2_size);
    fp_put8(fp, k + (uint64_t)l->dictkeys_log2_index_bytes,
            (uint8_t)(log2_size > 7 ? log2_size + 2 : log2_size));
    fp_put8(fp, k + (uint64_t)l->dictkeys_kind, (uint8_t)l->dictkeys_kind_unicode);
    memcpy(fp_ptr(fp, k + (uint64_t)l->dictkeys_nentries, 8), &nentries, 8);
    for (i = 0; i < n; i++) {
        uint64_t e =
            k + (uint64_t)l->dictkeys_indices + index_bytes + i * (uint64_t)l->dictuentry_size;
        fp_put64(fp, e + (uint64_t)l->dictuentry_key, strs + i * slot);
        fp_put64(fp, e + (uint64_t)l->dictuentry_value, values[i]);
    }
    d = fp_alloc(fp, 128);
    fp_put64(fp, d + (uint64_t)l->dict_used, n);
    fp_put64(fp, d + (uint64_t)l->dict_keys, k);
    return d;
}

uint64_t fp_list(fake_proc *fp, const uint64_t *items, size_t n)
{
    uint64_t a = fp_alloc(fp, 64), it = fp_alloc(fp, 8 * n + 8);

    fp_put64(fp, a + (uint64_t)fp->l->list_size, n);
    fp_put64(fp, a + (uint64_t)fp->l->list_items, it);
    if (n > 0)
        memcpy(fp_ptr(fp, it, 8 * n), items, 8 * n);
    return a;
}

uint64_t fp_tuple(fake_proc *fp, const uint64_t *items, size_t n)
{
    uint64_t a = fp_alloc(fp, (size_t)fp->l->tuple_items + 8 * n + 8);

    fp_put64(fp, a + (uint64_t)fp->l->tuple_size, n);
    if (n > 0)
        memcpy(fp_ptr(fp, a + (uint64_t)fp->l->tuple_items, 8 * n), items, 8 * n);
    return a;
}

uint64_t fp_instance(fake_proc *fp, uint64_t type, uint64_t dict)
{
    uint64_t o = fp_alloc(fp, 64);

    fp_put64(fp, type + (uint64_t)fp->l->type_dictoffset, 32);
    fp_put64(fp, o + 8, type);
    fp_put64(fp, o + 32, dict);
    return o;
}

uint64_t fp_bytearray(fake_proc *fp, const void *data, size_t n)
{
    uint64_t a = fp_alloc(fp, 64), buf = fp_alloc(fp, n + 1);

    fp_put64(fp, a + (uint64_t)fp->l->bytearray_size, n);
    fp_put64(fp, a + (uint64_t)fp->l->bytearray_start, buf);
    if (n > 0)
        memcpy(fp_ptr(fp, buf, n), data, n);
    return a;
}

void fp_set_modules(fake_proc *fp, uint64_t interp, uint64_t modules)
{
    fp_put64(fp, interp + (uint64_t)fp->l->interp_modules, modules);
}
