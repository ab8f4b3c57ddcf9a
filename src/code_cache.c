/*
 * code_cache.c — the code-object cache (see code_cache.h for the rules).
 *
 * Hashing: code objects are 8-byte aligned heap addresses; the multiplier
 * spreads them over the power-of-two table.  An entry lives within
 * UW_CODE_CACHE_PROBE slots of its hash (linear probing, no deletion:
 * entries are only replaced in place or dropped all at once), so a lookup
 * looks at no more than that many slots.
 *
 * Replacement: at most UW_CODE_CACHE_SLOTS entries.  A new entry goes to
 * an empty slot of its window while the cache has room; otherwise it
 * replaces the entry of its window validated longest ago (the oldest
 * stamp), never one validated in the current sample (frames of the sample
 * point at those): least recently used, among the window.  When every
 * entry of the window was used in this sample, the new one goes on the
 * sample's overflow list.  A program with more live code objects than the
 * cache holds so keeps those it runs, and reads again only the ones
 * evicted, not all of them each sample.
 */
#define _POSIX_C_SOURCE 200809L /* strdup */
#include "internal/code_cache.h"

#include <stdlib.h>
#include <string.h>

#include "internal/linetable.h"
#include "internal/pystr.h"
#include "internal/uw_assert.h"
#include "tornstack/error.h"
#include "tornstack/limits.h"

#define UW_CODE_TABLE (2 * UW_CODE_CACHE_SLOTS)
_Static_assert(UW_CODE_CACHE_SLOTS >= 2 && (UW_CODE_CACHE_SLOTS & (UW_CODE_CACHE_SLOTS - 1)) == 0,
               "UW_CODE_CACHE_SLOTS: a power of two (the table is hashed by masking)");

/* Serial numbers of loaded entries, over every cache of the process: a
 * consumer that remembers what it derived from an entry (the profile's
 * frame memo) tells a reload at the same address by its new serial. */
static uint64_t uw_code_serial;

uint64_t uw__code_serial_last(void)
{
    return __atomic_load_n(&uw_code_serial, __ATOMIC_RELAXED);
}

static size_t uw_code_hash(uint64_t addr)
{
    return (size_t)((addr >> 3) * 0x9e3779b97f4a7c15ull >> 40) & (UW_CODE_TABLE - 1);
}

static void uw_code_info_free(uw_code_info *e)
{
    if (e == NULL)
        return;
    free(e->qualname);
    free(e->filename);
    free(e->linetable);
    free(e);
}

int uw__code_cache_init(uw_code_cache *c)
{
    if (c == NULL)
        return UW_ERR_INVALID_ARG;
    memset(c, 0, sizeof *c);
    c->slots = calloc(UW_CODE_TABLE, sizeof *c->slots);
    c->keys = calloc(UW_CODE_TABLE, sizeof *c->keys);
    if (c->slots == NULL || c->keys == NULL) {
        free(c->slots);
        free(c->keys);
        c->slots = NULL;
        c->keys = NULL;
        return UW_ERR_NOMEM;
    }
    c->stamp = 1;
    return 0;
}

static void uw_code_cache_drop_overflow(uw_code_cache *c)
{
    while (c->overflow != NULL) {
        uw_code_info *n = c->overflow->next_overflow;
        uw_code_info_free(c->overflow);
        c->frees++;
        c->overflow = n;
    }
}

void uw__code_cache_clear(uw_code_cache *c)
{
    size_t i;

    if (c == NULL || c->slots == NULL)
        return;
    for (i = 0; i < UW_CODE_TABLE; i++) {
        uw_code_info_free(c->slots[i]);
        c->slots[i] = NULL;
    }
    c->count = 0;
    c->frees++;
    uw_code_cache_drop_overflow(c);
}

void uw__code_cache_free(uw_code_cache *c)
{
    if (c == NULL)
        return;
    uw__code_cache_clear(c);
    free(c->slots);
    free(c->keys);
    c->slots = NULL;
    c->keys = NULL;
}

void uw__code_cache_set_classifier(uw_code_cache *c, uw_code_classifier classify)
{
    if (c == NULL || c->classify == classify)
        return;
    uw__code_cache_clear(c);
    c->classify = classify;
}

void uw__code_cache_begin(uw_code_cache *c)
{
    UW_ASSERT(c != NULL && c->slots != NULL);
    uw_code_cache_drop_overflow(c);
    c->stamp++;
    if (c->stamp == 0)
        c->stamp = 1; /* 0 means "never validated" */
}

uw_code_info *uw__code_cache_find(uw_code_cache *c, uint64_t addr)
{
    size_t i, n;

    UW_ASSERT(c != NULL && c->slots != NULL);
    for (i = uw_code_hash(addr), n = 0; n < UW_CODE_CACHE_PROBE;
         i = (i + 1) & (UW_CODE_TABLE - 1), n++) {
        if (c->slots[i] == NULL)
            return NULL;
        if (c->keys[i] == addr)
            return c->slots[i];
    }
    return NULL;
}

int uw__code_ident_parse(const uw_layout *l, const uint8_t *obj, size_t len, uw_code_ident *out)
{
    if (l == NULL || obj == NULL || out == NULL)
        return UW_ERR_INVALID_ARG;
    if (len < (size_t)l->code_size)
        return UW_ERR_BAD_CODE;
    memcpy(&out->type, obj + l->object_type, 8);
    memcpy(&out->name, obj + l->code_name, 8);
    memcpy(&out->qualname, obj + l->code_qualname, 8);
    memcpy(&out->filename, obj + l->code_filename, 8);
    memcpy(&out->linetable, obj + l->code_linetable, 8);
    memcpy(&out->firstlineno, obj + l->code_firstlineno, 4);
    memcpy(&out->firsttraceable, obj + l->code_firsttraceable, 4);
    memcpy(&out->units, obj + l->code_units, 8);
    return 0;
}

/* Read the bytes object holding the location table. */
static int uw_code_read_linetable(uw_reader *r, const uw_layout *l, uint64_t addr, uint8_t **out,
                                  size_t *out_len)
{
    int64_t size;
    uint8_t *buf;
    int rc;

    *out = NULL;
    *out_len = 0;
    rc = uw_read(r, addr + (uint64_t)l->bytes_size, &size, sizeof size);
    if (rc != 0)
        return rc;
    if (size < 0)
        return UW_ERR_BAD_CODE;
    if (size > UW_LIMIT_LINETABLE_BYTES)
        return UW_ERR_LIMIT_LINETABLE;
    buf = malloc((size_t)size + 1);
    if (buf == NULL)
        return UW_ERR_NOMEM;
    rc = uw_read(r, addr + (uint64_t)l->bytes_data, buf, (size_t)size);
    if (rc != 0) {
        free(buf);
        return rc;
    }
    *out = buf;
    *out_len = (size_t)size;
    return 0;
}

/* Put e in its window: over the entry for the same address, into an
 * empty slot while the cache has room, else over the least recently
 * validated entry not used in this sample; or, when every entry of the
 * window is in use, on the overflow list. */
static void uw_code_cache_put(uw_code_cache *c, uw_code_info *e)
{
    size_t i, n, victim = SIZE_MAX;

    for (i = uw_code_hash(e->addr), n = 0; n < UW_CODE_CACHE_PROBE;
         i = (i + 1) & (UW_CODE_TABLE - 1), n++) {
        uw_code_info *o = c->slots[i];
        if (o != NULL && o->addr == e->addr) {
            /* Stale entry: it was not validated in this sample, so no frame
             * of this sample points at it. */
            UW_ASSERT(o->stamp != c->stamp);
            uw_code_info_free(o);
            c->frees++;
            c->slots[i] = e;
            c->keys[i] = e->addr;
            return;
        }
        if (o == NULL) {
            if (c->count < UW_CODE_CACHE_SLOTS) {
                c->slots[i] = e;
                c->keys[i] = e->addr;
                c->count++;
                return;
            }
            break; /* full: a lookup stops here, so nothing goes beyond */
        }
        if (o->stamp != c->stamp &&
            (victim == SIZE_MAX ||
             (uint32_t)(c->stamp - o->stamp) > (uint32_t)(c->stamp - c->slots[victim]->stamp)))
            victim = i;
    }
    if (victim != SIZE_MAX) {
        uw_code_info_free(c->slots[victim]);
        c->frees++;
        c->slots[victim] = e;
        c->keys[victim] = e->addr;
        c->evictions++;
        return;
    }
    e->next_overflow = c->overflow;
    c->overflow = e;
}
/* A new entry for the code object at addr: each load gets its own serial,
 * so a reload at the same address is told apart (the profile's frame
 * memo keys on it).  NULL when memory is short. */
static uw_code_info *uw_entry_new(uint64_t addr, const uw_code_ident *id)
{
    uw_code_info *e = calloc(1, sizeof *e);
    unsigned i;

    if (e == NULL)
        return NULL;
    e->addr = addr;
    e->id = *id;
    for (i = 0; i < UW_CODE_LINE_MEMO; i++)
        e->memo_index[i] = -2;
    e->serial = __atomic_add_fetch(&uw_code_serial, 1, __ATOMIC_RELAXED);
    return e;
}

/* Is this code object one of the interpreter's own shims, whose frames
 * are never shown at any depth?
 *   - the entry frame's trampoline (normally hidden by its owner byte, but
 *     a half-initialised entry frame can show a stale owner);
 *   - the init shim of 3.13+: a call site specialised for a class with a
 *     Python __init__ pushes it between the caller and __init__, where it
 *     stays, not yet at its first instruction, while __init__ runs.  Its
 *     name and file name are both "__init__"; a real function's file name
 *     is a path (or "<...>"), never that. */
static int uw_code_is_shim(const char *qualname, const char *filename)
{
    return (strcmp(qualname, "<interpreter trampoline>") == 0 && strcmp(filename, "<shim>") == 0) ||
           (strcmp(qualname, "__init__") == 0 && strcmp(filename, "__init__") == 0);
}

/* A loaded entry with its names joins the cache: its classes, whether it
 * is a shim, its stamp. */
static void uw_entry_adopt(uw_code_cache *c, uw_code_info *e, uw_code_info **out)
{
    if (c->classify != NULL)
        e->flags |= c->classify(e->qualname, e->filename) & UW_CODE_CLASSES;
    if (uw_code_is_shim(e->qualname, e->filename))
        e->flags |= UW_CODE_SHIM;
    e->stamp = c->stamp;
    c->misses++;
    uw_code_cache_put(c, e);
    *out = e;
}

int uw__code_cache_load(uw_code_cache *c, uw_reader *r, const uw_layout *l, uint64_t code_type,
                        uint64_t addr, const uw_code_ident *id, uw_code_info **out)
{
    char buf[UW_PYSTR_MAX_UTF8];
    uw_code_info *e;
    int trunc = 0, rc;

    if (c == NULL || r == NULL || l == NULL || id == NULL || out == NULL)
        return UW_ERR_INVALID_ARG;
    *out = NULL;
    if (code_type != 0 && id->type != code_type)
        return UW_ERR_BAD_CODE;
    if (id->firsttraceable < 0 || id->firstlineno < 0 || id->units <= 0 || id->units > (1 << 24))
        return UW_ERR_BAD_CODE;
    e = uw_entry_new(addr, id);
    if (e == NULL)
        return UW_ERR_NOMEM;
    rc = uw__pystr_read(r, l, id->qualname, buf, sizeof buf, &trunc);
    if (rc == 0) {
        e->flags |= trunc ? UW_CODE_NAME_TRUNCATED : 0u;
        e->qualname = strdup(buf);
        rc = uw__pystr_read(r, l, id->filename, buf, sizeof buf, &trunc);
    }
    if (rc == 0) {
        e->flags |= trunc ? UW_CODE_NAME_TRUNCATED : 0u;
        e->filename = strdup(buf);
        if (e->qualname == NULL || e->filename == NULL)
            rc = UW_ERR_NOMEM;
    }
    if (rc == 0)
        rc = uw_code_read_linetable(r, l, id->linetable, &e->linetable, &e->linetable_len);
    if (rc != 0) {
        uw_code_info_free(e);
        return rc;
    }
    uw_entry_adopt(c, e, out);
    return 0;
}

/* What one code object of a batch needs: the header of its qualname and
 * filename, its location table's size, then their contents. */
typedef struct uw_code_load {
    uint8_t hq[UW_PYSTR_HEAD], hf[UW_PYSTR_HEAD];
    int64_t lt_size;
    uw_pystr_header q, f;
    size_t nq, nf; /* characters kept */
    int trunc;
    uint8_t *dq, *df, *lt; /* contents */
    int rc;
} uw_code_load;

/* The header pieces of load i (round 1). */
static void uw_load_queue_headers(const uw_layout *l, const uw_code_ident *id, uw_code_load *x,
                                  uw_iov *iov)
{
    iov[0] = (uw_iov){id->qualname, x->hq, (size_t)l->unicode_ascii_data, 0};
    iov[1] = (uw_iov){id->filename, x->hf, (size_t)l->unicode_ascii_data, 0};
    iov[2] = (uw_iov){id->linetable + (uint64_t)l->bytes_size, &x->lt_size, 8, 0};
}

/* Parse round 1 and size round 2's pieces: 0, or the load's error. */
static int uw_load_sizes(const uw_layout *l, uw_code_load *x, const uw_iov *iov)
{
    int rc;

    if (iov[0].status != 0 || iov[1].status != 0 || iov[2].status != 0)
        return iov[0].status != 0   ? iov[0].status
               : iov[1].status != 0 ? iov[1].status
                                    : iov[2].status;
    if ((rc = uw__pystr_parse_header(l, x->hq, (size_t)l->unicode_ascii_data, &x->q)) != 0 ||
        (rc = uw__pystr_parse_header(l, x->hf, (size_t)l->unicode_ascii_data, &x->f)) != 0)
        return rc;
    x->nq = (size_t)x->q.length;
    x->nf = (size_t)x->f.length;
    if (x->nq > UW_LIMIT_STRING_CHARS) {
        x->nq = UW_LIMIT_STRING_CHARS;
        x->trunc = 1;
    }
    if (x->nf > UW_LIMIT_STRING_CHARS) {
        x->nf = UW_LIMIT_STRING_CHARS;
        x->trunc = 1;
    }
    if (x->lt_size < 0)
        return UW_ERR_BAD_CODE;
    if (x->lt_size > UW_LIMIT_LINETABLE_BYTES)
        return UW_ERR_LIMIT_LINETABLE;
    x->dq = malloc(x->nq * x->q.kind + 1);
    x->df = malloc(x->nf * x->f.kind + 1);
    x->lt = malloc((size_t)x->lt_size + 1);
    return x->dq != NULL && x->df != NULL && x->lt != NULL ? 0 : UW_ERR_NOMEM;
}

/* The entry of load i from what round 2 read (its pieces iov[0..3)). */
static int uw_load_entry(uw_code_cache *c, uint64_t addr, const uw_code_ident *id, uw_code_load *x,
                         const uw_iov *iov, uw_code_info **out)
{
    char buf[UW_PYSTR_MAX_UTF8];
    uw_code_info *e;
    int rc;

    if (iov[0].status != 0 || iov[1].status != 0 || iov[2].status != 0)
        return iov[0].status != 0   ? iov[0].status
               : iov[1].status != 0 ? iov[1].status
                                    : iov[2].status;
    e = uw_entry_new(addr, id);
    if (e == NULL)
        return UW_ERR_NOMEM;
    e->flags |= x->trunc ? UW_CODE_NAME_TRUNCATED : 0u;
    rc = uw__pystr_to_utf8(x->dq, x->nq, x->q.kind, x->q.ascii, buf, sizeof buf, NULL);
    if (rc == 0 && (e->qualname = strdup(buf)) == NULL)
        rc = UW_ERR_NOMEM;
    if (rc == 0)
        rc = uw__pystr_to_utf8(x->df, x->nf, x->f.kind, x->f.ascii, buf, sizeof buf, NULL);
    if (rc == 0 && (e->filename = strdup(buf)) == NULL)
        rc = UW_ERR_NOMEM;
    if (rc != 0) {
        uw_code_info_free(e);
        return rc;
    }
    e->linetable = x->lt;
    e->linetable_len = (size_t)x->lt_size;
    x->lt = NULL;
    uw_entry_adopt(c, e, out);
    return 0;
}

int uw__code_cache_load_many(uw_code_cache *c, uw_reader *r, const uw_layout *l, uint64_t code_type,
                             size_t n, const uint64_t *addrs, const uw_code_ident *ids, int *rcs)
{
    uw_code_load *x;
    uw_iov *iov;
    size_t i, k;

    if (c == NULL || r == NULL || l == NULL ||
        (n > 0 && (addrs == NULL || ids == NULL || rcs == NULL)))
        return UW_ERR_INVALID_ARG;
    if (n == 0)
        return 0;
    x = calloc(n, sizeof *x);
    iov = malloc(3 * n * sizeof *iov);
    if (x == NULL || iov == NULL) {
        free(x);
        free(iov);
        return UW_ERR_NOMEM;
    }
    for (i = 0, k = 0; i < n; i++) {
        const uw_code_ident *id = &ids[i];
        x[i].rc = (code_type != 0 && id->type != code_type) || id->firsttraceable < 0 ||
                          id->firstlineno < 0 || id->units <= 0 || id->units > (1 << 24)
                      ? UW_ERR_BAD_CODE
                      : 0;
        if (x[i].rc == 0)
            uw_load_queue_headers(l, id, &x[i], &iov[3 * k++]);
    }
    (void)uw_readv(r, iov, 3 * k);
    for (i = 0, k = 0; i < n; i++) {
        if (x[i].rc != 0)
            continue;
        x[i].rc = uw_load_sizes(l, &x[i], &iov[3 * k++]);
    }
    for (i = 0, k = 0; i < n; i++) {
        if (x[i].rc != 0)
            continue;
        iov[k++] = (uw_iov){ids[i].qualname + x[i].q.data_off, x[i].dq, x[i].nq * x[i].q.kind, 0};
        iov[k++] = (uw_iov){ids[i].filename + x[i].f.data_off, x[i].df, x[i].nf * x[i].f.kind, 0};
        iov[k++] =
            (uw_iov){ids[i].linetable + (uint64_t)l->bytes_data, x[i].lt, (size_t)x[i].lt_size, 0};
    }
    (void)uw_readv(r, iov, k);
    for (i = 0, k = 0; i < n; i++) {
        uw_code_info *e;
        if (x[i].rc == 0) {
            x[i].rc = uw_load_entry(c, addrs[i], &ids[i], &x[i], &iov[k], &e);
            k += 3;
        }
        rcs[i] = x[i].rc;
        free(x[i].dq);
        free(x[i].df);
        free(x[i].lt);
    }
    free(x);
    free(iov);
    return 0;
}

int uw__code_line(uw_code_info *info, int64_t index, int *line)
{
    unsigned i;
    int rc;

    if (info == NULL || line == NULL)
        return UW_ERR_INVALID_ARG;
    for (i = 0; i < UW_CODE_LINE_MEMO; i++)
        if (info->memo_index[i] == index) {
            *line = info->memo_line[i];
            return 0;
        }
    rc =
        uw__linetable_line(info->linetable, info->linetable_len, info->id.firstlineno, index, line);
    if (rc != 0)
        return rc;
    i = info->memo_next++ % UW_CODE_LINE_MEMO;
    info->memo_index[i] = index;
    info->memo_line[i] = *line;
    return 0;
}
