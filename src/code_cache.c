/*
 * code_cache.c — the code-object cache (see code_cache.h for the rules).
 *
 * Hashing: code objects are 8-byte aligned heap addresses; the multiplier
 * spreads them over the power-of-two table.  Linear probing with no
 * deletion (entries are only replaced in place or dropped all at once), so
 * a probe ends at the first empty slot.
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
    if (c->slots == NULL)
        return UW_ERR_NOMEM;
    c->stamp = 1;
    return 0;
}

static void uw_code_cache_drop_overflow(uw_code_cache *c)
{
    while (c->overflow != NULL) {
        uw_code_info *n = c->overflow->next_overflow;
        uw_code_info_free(c->overflow);
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
    uw_code_cache_drop_overflow(c);
}

void uw__code_cache_free(uw_code_cache *c)
{
    if (c == NULL)
        return;
    uw__code_cache_clear(c);
    free(c->slots);
    c->slots = NULL;
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
    if (c->count >= UW_CODE_CACHE_SLOTS)
        uw__code_cache_clear(c);
    c->stamp++;
    if (c->stamp == 0)
        c->stamp = 1; /* 0 means "never validated" */
}

uw_code_info *uw__code_cache_find(uw_code_cache *c, uint64_t addr)
{
    size_t i, n;

    UW_ASSERT(c != NULL && c->slots != NULL);
    for (i = uw_code_hash(addr), n = 0; n < UW_CODE_TABLE; i = (i + 1) & (UW_CODE_TABLE - 1), n++) {
        if (c->slots[i] == NULL)
            return NULL;
        if (c->slots[i]->addr == addr)
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
static int uw_code_read_linetable(uw_reader *r, const uw_layout *l, uint64_t addr,
                                  uint8_t **out, size_t *out_len)
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

/* Put e in the table (replacing the entry for the same address) or, when
 * the table is full, on the overflow list. */
static void uw_code_cache_put(uw_code_cache *c, uw_code_info *e)
{
    size_t i, n;

    for (i = uw_code_hash(e->addr), n = 0; n < UW_CODE_TABLE; i = (i + 1) & (UW_CODE_TABLE - 1), n++) {
        if (c->slots[i] != NULL && c->slots[i]->addr == e->addr) {
            /* Stale entry: it was not validated in this sample, so no frame
             * of this sample points at it. */
            UW_ASSERT(c->slots[i]->stamp != c->stamp);
            uw_code_info_free(c->slots[i]);
            c->slots[i] = e;
            return;
        }
        if (c->slots[i] == NULL) {
            if (c->count >= UW_CODE_TABLE - UW_CODE_TABLE / 8)
                break; /* keep probes short: overflow instead */
            c->slots[i] = e;
            c->count++;
            return;
        }
    }
    e->next_overflow = c->overflow;
    c->overflow = e;
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
    if (id->firsttraceable < 0 || id->firstlineno < 0 || id->units <= 0 ||
        id->units > (1 << 24))
        return UW_ERR_BAD_CODE;
    e = calloc(1, sizeof *e);
    if (e == NULL)
        return UW_ERR_NOMEM;
    e->addr = addr;
    e->id = *id;
    e->memo_index = -2;
    e->serial = __atomic_add_fetch(&uw_code_serial, 1, __ATOMIC_RELAXED);
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
    if (rc == 0 && c->classify != NULL)
        e->flags |= c->classify(e->qualname, e->filename) & UW_CODE_CLASSES;
    /* The entry frame's code: normally hidden by its owner byte, but a
     * half-initialised entry frame can show a stale owner. */
    if (rc == 0 && strcmp(e->qualname, "<interpreter trampoline>") == 0 &&
        strcmp(e->filename, "<shim>") == 0)
        e->flags |= UW_CODE_SHIM;
    if (rc != 0) {
        uw_code_info_free(e);
        return rc;
    }
    e->stamp = c->stamp;
    c->misses++;
    uw_code_cache_put(c, e);
    *out = e;
    return 0;
}

int uw__code_line(uw_code_info *info, int64_t index, int *line)
{
    int rc;

    if (info == NULL || line == NULL)
        return UW_ERR_INVALID_ARG;
    if (info->memo_index == index) {
        *line = info->memo_line;
        return 0;
    }
    rc = uw__linetable_line(info->linetable, info->linetable_len, info->id.firstlineno, index,
                           line);
    if (rc != 0)
        return rc;
    info->memo_index = index;
    info->memo_line = *line;
    return 0;
}
