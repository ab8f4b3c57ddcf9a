/*
 * pyobj.c — bounded reading of dicts, attributes, sets, lists and ints in a
 * target (see pyobj.h).
 *
 * Dict layout (3.11–3.15): PyDictObject -> PyDictKeysObject holding
 * 2^log2_size index slots of 2^log2_index_bytes bytes in total, then
 * dk_nentries entries, either {hash, key, value} (general) or {key, value}
 * (unicode keys).  A split dict keeps its values apart (ma_values), in the
 * order of the shared keys.  Lookup here does not hash: it scans the
 * entries (at most UW_LIMIT_DICT_ENTRIES) and compares each str key by
 * length, then content, reading all candidate keys with vectored reads.
 *
 * Instance attributes of managed-dict types live, depending on the version,
 * in a dict hung before the object or in a values array indexed like the
 * type's cached shared keys (ht_cached_keys); see layout.h's
 * managed_dict_mode.
 */
#include "internal/pyobj.h"

#include <stdlib.h>
#include <string.h>

#include "internal/load.h"
#include "internal/pystr.h"
#include "internal/uw_assert.h"
#include "tornstack/error.h"
#include "tornstack/limits.h"

int uw__obj_type(const uw_pyctx *c, uint64_t addr, uint64_t *type)
{
    if (addr == 0)
        return UW_ERR_BAD_OBJECT;
    return uw_read_u64(c->r, addr + (uint64_t)c->l->object_type, type);
}

int uw__str_equals(const uw_pyctx *c, uint64_t addr, const char *s)
{
    uint8_t hdr[UW_PYOBJ_STR_HEAD], data[256];
    uw_pystr_header h;
    size_t n = strlen(s);
    int rc;

    if (n > sizeof data)
        return 0;
    rc = uw_read(c->r, addr, hdr, (size_t)c->l->unicode_ascii_data);
    if (rc != 0)
        return rc;
    if (c->types->str != 0 && uw__u64(hdr + c->l->object_type) != c->types->str)
        return 0;
    if (uw__pystr_parse_header(c->l, hdr, (size_t)c->l->unicode_ascii_data, &h) != 0)
        return 0;
    if (!h.ascii || (size_t)h.length != n)
        return 0;
    rc = uw_read(c->r, addr + h.data_off, data, n);
    if (rc != 0)
        return rc;
    return memcmp(data, s, n) == 0;
}

/* Find `name` among the entries of the keys object at keys_addr.  Gives the
 * entry index and, for combined tables, the entry's value. */
static int uw_keys_find_at(const uw_pyctx *c, uint64_t keys_addr, const char *name, size_t *index,
                           uint64_t *entry_value, uw_keys_hit *hit);

static int uw_keys_find(const uw_pyctx *c, uint64_t keys_addr, const char *name, size_t *index,
                        uint64_t *entry_value)
{
    return uw_keys_find_at(c, keys_addr, name, index, entry_value, NULL);
}

/* uw_keys_find, saying also where the key was (hit, may be NULL). */
static int uw_keys_find_at(const uw_pyctx *c, uint64_t keys_addr, const char *name, size_t *index,
                           uint64_t *entry_value, uw_keys_hit *hit)
{
    const uw_layout *l = c->l;
    uint8_t hdr[UW_PYOBJ_HEAD];
    uint8_t *entries = NULL, *heads = NULL;
    uw_iov *iov = NULL;
    size_t *cand = NULL;
    size_t esize, koff, voff, n, i, nc = 0, want = strlen(name);
    uint64_t entries_addr;
    int64_t nentries;
    unsigned log2_size, log2_index;
    int kind, rc;

    UW_ASSERT((size_t)l->dictkeys_indices <= sizeof hdr); /* checked at attach */
    rc = uw_read(c->r, keys_addr, hdr, (size_t)l->dictkeys_indices);
    if (rc != 0)
        return rc;
    log2_size = hdr[l->dictkeys_log2_size];
    log2_index = hdr[l->dictkeys_log2_index_bytes];
    kind = hdr[l->dictkeys_kind];
    memcpy(&nentries, hdr + l->dictkeys_nentries, sizeof nentries);
    if (log2_size > 30 || log2_index > 33 || nentries < 0 ||
        (uint64_t)nentries > (1ull << log2_size))
        return UW_ERR_BAD_OBJECT;
    if (nentries > UW_LIMIT_DICT_ENTRIES)
        return UW_ERR_LIMIT_DICT;
    if (kind == l->dictkeys_kind_general) {
        esize = (size_t)l->dictentry_size;
        koff = (size_t)l->dictentry_key;
        voff = (size_t)l->dictentry_value;
    } else if (kind == l->dictkeys_kind_unicode || kind == l->dictkeys_kind_split) {
        esize = (size_t)l->dictuentry_size;
        koff = (size_t)l->dictuentry_key;
        voff = (size_t)l->dictuentry_value;
    } else {
        return UW_ERR_BAD_OBJECT;
    }
    n = (size_t)nentries;
    if (n == 0)
        return UW_ERR_NOT_FOUND;
    entries_addr = keys_addr + (uint64_t)l->dictkeys_indices + (1ull << log2_index);
    entries = malloc(n * esize);
    heads = malloc(n * (size_t)l->unicode_ascii_data);
    iov = malloc(n * sizeof *iov);
    cand = malloc(n * sizeof *cand);
    if (entries == NULL || heads == NULL || iov == NULL || cand == NULL) {
        rc = UW_ERR_NOMEM;
        goto out;
    }
    rc = uw_read(c->r, entries_addr, entries, n * esize);
    if (rc != 0)
        goto out;
    /* Pass 1: the ASCII header of every key, in one vectored read. */
    for (i = 0; i < n; i++) {
        uint64_t key = uw__u64(entries + i * esize + koff);
        iov[i] = (uw_iov){key, heads + i * (size_t)l->unicode_ascii_data,
                          key ? (size_t)l->unicode_ascii_data : 0, 0};
    }
    (void)uw_readv(c->r, iov, n);
    for (i = 0; i < n; i++) {
        uw_pystr_header h;
        const uint8_t *kh = heads + i * (size_t)l->unicode_ascii_data;
        if (iov[i].len == 0 || iov[i].status != 0)
            continue;
        if (c->types->str != 0 && uw__u64(kh + l->object_type) != c->types->str)
            continue;
        if (uw__pystr_parse_header(l, kh, (size_t)l->unicode_ascii_data, &h) != 0)
            continue;
        if (h.ascii && (size_t)h.length == want)
            cand[nc++] = i;
    }
    /* Pass 2: the characters of the keys of the right length. */
    rc = UW_ERR_NOT_FOUND;
    for (i = 0; i < nc; i++) {
        uint64_t key = uw__u64(entries + cand[i] * esize + koff);
        char buf[256];
        if (want > sizeof buf)
            break;
        if (uw_read(c->r, key + (uint64_t)l->unicode_ascii_data, buf, want) != 0)
            continue;
        if (memcmp(buf, name, want) == 0) {
            *index = cand[i];
            *entry_value = uw__u64(entries + cand[i] * esize + voff);
            if (hit != NULL) {
                hit->key = key;
                hit->log2_index = log2_index;
                hit->kind = kind;
                hit->esize = esize;
                hit->voff = voff;
                hit->koff = koff;
            }
            rc = 0;
            break;
        }
    }
out:
    free(entries);
    free(heads);
    free(iov);
    free(cand);
    return rc;
}

/* Value at index i of a split values array. */
static int uw_values_get(const uw_pyctx *c, uint64_t values, size_t i, uint64_t *value)
{
    return uw_read_u64(c->r, values + (uint64_t)c->l->dictvalues_values + 8u * i, value);
}

/* A dict's keys and values pointers, from one read of its header; a
 * header whose type is not dict (when the dict type is known) is
 * UW_ERR_BAD_OBJECT. */
static int uw_dict_head(const uw_pyctx *c, uint64_t dict_addr, uint64_t *keys, uint64_t *values)
{
    const uw_layout *l = c->l;
    uint8_t hdr[UW_PYOBJ_HEAD];
    int rc;

    rc = uw_read(c->r, dict_addr, hdr, (size_t)l->dict_values + 8);
    if (rc != 0)
        return rc;
    if (c->types->dict != 0 && uw__u64(hdr + l->object_type) != c->types->dict)
        return UW_ERR_BAD_OBJECT;
    *keys = uw__u64(hdr + l->dict_keys);
    *values = uw__u64(hdr + l->dict_values);
    return 0;
}

/* A dict lookup by str key, keeping where the entry was in slot
 * (combined dicts only: a split dict's value is elsewhere). */
static int uw_dict_lookup_slot(const uw_pyctx *c, uint64_t dict_addr, const char *key,
                               uw_dict_slot *slot, uint64_t *value)
{
    uint64_t keys, values, v = 0;
    size_t index = 0;
    uw_keys_hit hit;
    int rc;

    slot->dict = 0;
    if (dict_addr == 0)
        return UW_ERR_BAD_OBJECT;
    if ((rc = uw_dict_head(c, dict_addr, &keys, &values)) != 0 ||
        (rc = uw_keys_find_at(c, keys, key, &index, &v, &hit)) != 0)
        return rc;
    if (values != 0) {
        if ((rc = uw_values_get(c, values, index, &v)) != 0)
            return rc;
    } else {
        *slot = (uw_dict_slot){dict_addr,
                               keys,
                               keys + (uint64_t)c->l->dictkeys_indices + (1ull << hit.log2_index) +
                                   (uint64_t)index * hit.esize,
                               hit.key,
                               v,
                               hit.esize,
                               hit.koff,
                               hit.voff};
    }
    if (v == 0)
        return UW_ERR_NOT_FOUND; /* deleted, or not yet stored */
    *value = v;
    return 0;
}

int uw__dict_get_str(const uw_pyctx *c, uint64_t dict_addr, const char *key, uint64_t *value)
{
    uw_dict_slot unused;

    return uw_dict_lookup_slot(c, dict_addr, key, &unused, value);
}

int uw__dict_get_str_at(const uw_pyctx *c, uint64_t dict_addr, const char *key, uw_dict_slot *slot,
                        int64_t extra, uint64_t *value, uint64_t *extra_value)
{
    const uw_layout *l = c->l;
    uint8_t hdr[UW_PYOBJ_HEAD], entry[64];
    uint64_t v, x = 0;
    int rc;

    if (slot->dict == dict_addr && dict_addr != 0 && slot->esize <= sizeof entry &&
        (size_t)l->dict_values + 8 <= sizeof hdr) {
        uw_iov iov[3] = {
            {dict_addr, hdr, (size_t)l->dict_values + 8, 0},
            {slot->entry, entry, slot->esize, 0},
            {extra >= 0 ? slot->value + (uint64_t)extra : 0, &x, extra >= 0 ? 8u : 0u, 0}};
        (void)uw_readv(c->r, iov, 3);
        if (iov[0].status == 0 && iov[1].status == 0 &&
            (c->types->dict == 0 || uw__u64(hdr + l->object_type) == c->types->dict) &&
            uw__u64(hdr + l->dict_keys) == slot->keys && uw__u64(hdr + l->dict_values) == 0 &&
            uw__u64(entry + slot->koff) == slot->key) {
            v = uw__u64(entry + slot->voff);
            if (v == 0)
                return UW_ERR_NOT_FOUND;
            *value = v;
            if (extra < 0)
                return 0;
            if (v == slot->value && iov[2].status == 0) {
                *extra_value = x;
                return 0;
            }
            slot->value = v;
            return uw_read_u64(c->r, v + (uint64_t)extra, extra_value);
        }
    }
    if ((rc = uw_dict_lookup_slot(c, dict_addr, key, slot, value)) != 0)
        return rc;
    return extra < 0 ? 0 : uw_read_u64(c->r, *value + (uint64_t)extra, extra_value);
}

/* Attribute held in a split values array shared with the type's keys. */
static int uw_split_get(const uw_pyctx *c, uint64_t cached_keys, uint64_t values, const char *name,
                        uint64_t *value)
{
    size_t index = 0;
    uint64_t unused;
    int rc;

    if (cached_keys == 0)
        return UW_ERR_NOT_FOUND;
    rc = uw_keys_find(c, cached_keys, name, &index, &unused);
    if (rc != 0)
        return rc;
    rc = uw_values_get(c, values, index, value);
    if (rc == 0 && *value == 0)
        rc = UW_ERR_NOT_FOUND;
    return rc;
}

int uw__obj_getattr(const uw_pyctx *c, uint64_t obj, const char *name, uint64_t *value)
{
    const uw_layout *l = c->l;
    uint64_t type, flags, cached_keys, word = 0, values = 0;
    int64_t dictoffset, basicsize;
    int rc;

    rc = uw__obj_type(c, obj, &type);
    if (rc != 0)
        return rc;
    if ((rc = uw_read_u64(c->r, type + (uint64_t)l->type_flags, &flags)) != 0 ||
        (rc = uw_read(c->r, type + (uint64_t)l->type_dictoffset, &dictoffset, 8)) != 0 ||
        (rc = uw_read(c->r, type + (uint64_t)l->type_basicsize, &basicsize, 8)) != 0)
        return rc;
    if (flags & (uint64_t)l->tpflags_managed_dict) {
        if (uw_read_u64(c->r, type + (uint64_t)l->heaptype_cached_keys, &cached_keys) != 0)
            cached_keys = 0;
        rc = uw_read_u64(c->r, obj + (uint64_t)(int64_t)l->managed_dict, &word);
        if (rc != 0)
            return rc;
        switch (l->managed_dict_mode) {
        case 11:
            if (word != 0)
                return uw__dict_get_str(c, word, name, value);
            rc = uw_read_u64(c->r, obj + (uint64_t)(int64_t)l->managed_values, &values);
            if (rc != 0)
                return rc;
            return values != 0 ? uw_split_get(c, cached_keys, values, name, value)
                               : UW_ERR_NOT_FOUND;
        case 12:
            if (word & 1) /* tagged: values pointer minus one */
                return uw_split_get(c, cached_keys, word + 1, name, value);
            return word != 0 ? uw__dict_get_str(c, word, name, value) : UW_ERR_NOT_FOUND;
        case 13:
            if (word != 0)
                return uw__dict_get_str(c, word, name, value);
            if (l->tpflags_inline_values != UW_ABSENT &&
                (flags & (uint64_t)l->tpflags_inline_values) && basicsize > 0 &&
                basicsize < (1 << 20)) {
                uint8_t head[4];
                values = obj + (uint64_t)basicsize;
                rc = uw_read(c->r, values, head, sizeof head);
                if (rc != 0)
                    return rc;
                if (head[3] == 0) /* "valid" byte: values moved to a dict */
                    return UW_ERR_NOT_FOUND;
                return uw_split_get(c, cached_keys, values, name, value);
            }
            return UW_ERR_NOT_FOUND;
        default:
            return UW_ERR_BAD_LAYOUT;
        }
    }
    if (dictoffset > 0 && dictoffset < (1 << 20)) {
        rc = uw_read_u64(c->r, obj + (uint64_t)dictoffset, &word);
        if (rc != 0)
            return rc;
        return word != 0 ? uw__dict_get_str(c, word, name, value) : UW_ERR_NOT_FOUND;
    }
    return UW_ERR_NOT_FOUND;
}

/* Found in the dict at dict_addr: the entry index and the keys it is in. */
static int uw_locate_in_dict(const uw_pyctx *c, uint64_t dict_addr, const char *name,
                             uw_attr_loc *loc, uint64_t *value)
{
    uint64_t keys, values, v = 0;
    size_t index = 0;
    int rc;

    if (dict_addr == 0)
        return UW_ERR_NOT_FOUND;
    rc = uw_dict_head(c, dict_addr, &keys, &values);
    if (rc != 0)
        return rc;
    rc = uw_keys_find_at(c, keys, name, &index, &v, &loc->hit);
    if (rc != 0)
        return rc;
    if (values != 0 && (rc = uw_values_get(c, values, index, &v)) != 0)
        return rc;
    if (v == 0)
        return UW_ERR_NOT_FOUND;
    loc->index = index;
    *value = v;
    return 0;
}

int uw__attr_locate(const uw_pyctx *c, uint64_t obj, const char *name, uw_attr_loc *loc,
                    uint64_t *value)
{
    const uw_layout *l = c->l;
    uint64_t type, flags, word = 0, values = 0;
    int64_t dictoffset, basicsize;
    int rc;

    memset(loc, 0, sizeof *loc);
    rc = uw__obj_type(c, obj, &type);
    if (rc != 0)
        return rc;
    if ((rc = uw_read_u64(c->r, type + (uint64_t)l->type_flags, &flags)) != 0 ||
        (rc = uw_read(c->r, type + (uint64_t)l->type_dictoffset, &dictoffset, 8)) != 0 ||
        (rc = uw_read(c->r, type + (uint64_t)l->type_basicsize, &basicsize, 8)) != 0)
        return rc;
    loc->type = type;
    loc->basicsize = basicsize;
    if (!(flags & (uint64_t)l->tpflags_managed_dict)) {
        if (dictoffset <= 0 || dictoffset >= (1 << 20))
            return UW_ERR_NOT_FOUND;
        loc->mode = UW_ATTR_DICT;
        loc->dictoffset = dictoffset;
        if ((rc = uw_read_u64(c->r, obj + (uint64_t)dictoffset, &word)) != 0)
            return rc;
        return uw_locate_in_dict(c, word, name, loc, value);
    }
    /* A managed dict: an instance whose values were never made into a dict
     * keeps them with the type's shared keys; the place of a key there is
     * the type's, for every such instance. */
    loc->mode = UW_ATTR_MANAGED_DICT;
    if ((rc = uw_read_u64(c->r, type + (uint64_t)l->heaptype_cached_keys, &loc->cached_keys)) != 0)
        return rc;
    if ((rc = uw_read_u64(c->r, obj + (uint64_t)(int64_t)l->managed_dict, &word)) != 0)
        return rc;
    switch (l->managed_dict_mode) {
    case 11:
        if (word != 0)
            return uw_locate_in_dict(c, word, name, loc, value);
        if ((rc = uw_read_u64(c->r, obj + (uint64_t)(int64_t)l->managed_values, &values)) != 0)
            return rc;
        break;
    case 12:
        if (word != 0 && !(word & 1))
            return uw_locate_in_dict(c, word, name, loc, value);
        values = word != 0 ? word + 1 : 0;
        break;
    case 13:
        loc->dict_only = l->tpflags_inline_values == UW_ABSENT ||
                         !(flags & (uint64_t)l->tpflags_inline_values) || basicsize <= 0 ||
                         basicsize >= (1 << 20);
        if (word != 0)
            return uw_locate_in_dict(c, word, name, loc, value);
        if (loc->dict_only)
            return UW_ERR_NOT_FOUND;
        values = obj + (uint64_t)basicsize;
        break;
    default:
        return UW_ERR_BAD_LAYOUT;
    }
    loc->mode = UW_ATTR_MANAGED;
    if (values == 0 || loc->cached_keys == 0)
        return UW_ERR_NOT_FOUND;
    {
        uint64_t unused;
        rc = uw_keys_find_at(c, loc->cached_keys, name, &loc->index, &unused, &loc->hit);
    }
    if (rc != 0)
        return rc;
    if ((rc = uw_values_get(c, values, loc->index, value)) != 0)
        return rc;
    return *value != 0 ? 0 : UW_ERR_NOT_FOUND;
}

/* A set's header read into hdr: its table's address and slot count, or
 * an error for what is no set of ours. */
static int uw_set_header(const uw_pyctx *c, const uint8_t *hdr, uint64_t *tab, size_t *slots)
{
    const uw_layout *l = c->l;
    int64_t mask;

    if (c->types->set != 0 && uw__u64(hdr + l->object_type) != c->types->set)
        return UW_ERR_BAD_OBJECT;
    memcpy(&mask, hdr + l->set_mask, sizeof mask);
    *tab = uw__u64(hdr + l->set_table);
    if (mask < 0 || ((uint64_t)mask & ((uint64_t)mask + 1)) != 0)
        return UW_ERR_BAD_OBJECT; /* mask + 1 is a power of two */
    if ((uint64_t)mask + 1 > UW_LIMIT_SET_SLOTS)
        return UW_ERR_LIMIT_SET;
    *slots = (size_t)mask + 1;
    return 0;
}

/* The keys of a table of `slots` entries (dummy slots skipped). */
static int uw_set_table_keys(const uw_pyctx *c, const uint8_t *table, size_t slots, uint64_t *keys,
                             size_t cap, size_t *n)
{
    const uw_layout *l = c->l;
    size_t i, k = 0;

    for (i = 0; i < slots; i++) {
        uint64_t key = uw__u64(table + i * (size_t)l->setentry_size + l->setentry_key);
        if (key == 0 || key == c->types->set_dummy)
            continue;
        if (k == cap) {
            *n = k;
            return UW_ERR_CAPACITY; /* more keys than the caller takes */
        }
        keys[k++] = key;
    }
    *n = k;
    return 0;
}

int uw__set_keys(const uw_pyctx *c, uint64_t set_addr, uint64_t *keys, size_t cap, size_t *n)
{
    const uw_layout *l = c->l;
    uint8_t hdr[UW_PYOBJ_HEAD], *table;
    uint64_t tab;
    size_t slots;
    int rc;

    *n = 0;
    rc = uw_read(c->r, set_addr, hdr, (size_t)l->set_table + 8);
    if (rc != 0)
        return rc;
    if ((rc = uw_set_header(c, hdr, &tab, &slots)) != 0)
        return rc;
    table = malloc(slots * (size_t)l->setentry_size);
    if (table == NULL)
        return UW_ERR_NOMEM;
    rc = uw_read(c->r, tab, table, slots * (size_t)l->setentry_size);
    if (rc == 0)
        rc = uw_set_table_keys(c, table, slots, keys, cap, n);
    free(table);
    return rc;
}

/* As uw__set_keys, for a set read every sample (the asyncio registry):
 * its table is read in the same call as its header, where the guess (the
 * table's place and size as last read) says it is; only when the header
 * names another table is the table read again, in a call of its own.  The
 * two pieces of one call are read in no order: the table's copy is as
 * good as one read after the header, since every key found is read and
 * checked as a Task before it is used.  Bound: the table's size
 * (UW_LIMIT_SET_SLOTS entries), kept in g->buf for the next sample. */
int uw__set_keys_guessed(const uw_pyctx *c, uint64_t set_addr, uw_set_guess *g, uint64_t *keys,
                         size_t cap, size_t *n)
{
    const uw_layout *l = c->l;
    uint8_t hdr[UW_PYOBJ_HEAD];
    uw_iov v[2];
    uint64_t tab;
    size_t slots, bytes, nv = 1;
    int rc, guessed;

    *n = 0;
    v[0] = (uw_iov){set_addr, hdr, (size_t)l->set_table + 8, 0};
    guessed = g->set == set_addr && g->bytes > 0 && g->bytes <= g->cap;
    if (guessed)
        v[nv++] = (uw_iov){g->table, g->buf, g->bytes, 0};
    (void)uw_readv(c->r, v, nv);
    if (v[0].status != 0)
        return v[0].status;
    if ((rc = uw_set_header(c, hdr, &tab, &slots)) != 0)
        return rc;
    bytes = slots * (size_t)l->setentry_size;
    if (!guessed || v[1].status != 0 || tab != g->table || bytes != g->bytes) {
        g->bytes = 0; /* no guess until this read succeeds */
        if (g->cap < bytes) {
            uint8_t *b = realloc(g->buf, bytes);
            if (b == NULL)
                return UW_ERR_NOMEM;
            g->buf = b;
            g->cap = bytes;
        }
        if ((rc = uw_read(c->r, tab, g->buf, bytes)) != 0)
            return rc;
    }
    g->set = set_addr;
    g->table = tab;
    g->bytes = bytes;
    return uw_set_table_keys(c, g->buf, slots, keys, cap, n);
}

void uw__set_guess_free(uw_set_guess *g)
{
    if (g == NULL)
        return;
    free(g->buf);
    memset(g, 0, sizeof *g);
}

int uw__list_items(const uw_pyctx *c, uint64_t list_addr, uint64_t *items, size_t cap, size_t *n)
{
    const uw_layout *l = c->l;
    uint8_t hdr[UW_PYOBJ_HEAD];
    int64_t size;
    int rc;

    *n = 0;
    rc = uw_read(c->r, list_addr, hdr, (size_t)l->list_items + 8);
    if (rc != 0)
        return rc;
    if (c->types->list != 0 && uw__u64(hdr + l->object_type) != c->types->list)
        return UW_ERR_BAD_OBJECT;
    memcpy(&size, hdr + l->list_size, sizeof size);
    if (size < 0)
        return UW_ERR_BAD_OBJECT;
    if ((uint64_t)size > cap) { /* the first cap items, and the bound */
        rc = uw_read(c->r, uw__u64(hdr + l->list_items), items, cap * 8);
        if (rc == 0)
            *n = cap;
        return rc != 0 ? rc : UW_ERR_CAPACITY;
    }
    rc = uw_read(c->r, uw__u64(hdr + l->list_items), items, (size_t)size * 8);
    if (rc == 0)
        *n = (size_t)size;
    return rc;
}

int uw__tuple_items(const uw_pyctx *c, uint64_t tuple_addr, uint64_t *items, size_t cap, size_t *n)
{
    const uw_layout *l = c->l;
    uint8_t hdr[UW_PYOBJ_HEAD];
    int64_t size;
    size_t take;
    int rc;

    *n = 0;
    rc = uw_read(c->r, tuple_addr, hdr, (size_t)l->tuple_items);
    if (rc != 0)
        return rc;
    memcpy(&size, hdr + l->tuple_size, sizeof size);
    if (size < 0)
        return UW_ERR_BAD_OBJECT;
    take = (uint64_t)size > cap ? cap : (size_t)size; /* the first cap items, and the bound */
    rc = uw_read(c->r, tuple_addr + (uint64_t)l->tuple_items, items, take * 8);
    if (rc != 0)
        return rc;
    *n = take;
    return take < (size_t)size ? UW_ERR_CAPACITY : 0;
}

int uw__long_parse(const uw_layout *l, const uint8_t *obj, size_t len, int64_t *v)
{
    int64_t tag;
    uint64_t ndigits, acc = 0, i;
    int negative;

    if ((size_t)l->long_tag + 8 > len)
        return UW_ERR_READ_SHORT;
    memcpy(&tag, obj + l->long_tag, sizeof tag);
    if (l->long_tagged) {
        uint64_t t = (uint64_t)tag;
        if ((t & 3) == 3)
            return UW_ERR_BAD_OBJECT;
        negative = (t & 3) == 2;
        ndigits = (t & 3) == 1 ? 0 : t >> 3;
    } else {
        negative = tag < 0;
        /* in unsigned arithmetic: -INT64_MIN does not exist in int64_t */
        ndigits = tag < 0 ? (uint64_t)0 - (uint64_t)tag : (uint64_t)tag;
    }
    if (ndigits > 2)
        return UW_ERR_BAD_OBJECT; /* more than 60 bits: not a task counter */
    if ((size_t)l->long_digits + 4 * ndigits > len)
        return UW_ERR_READ_SHORT; /* an int ends with its digits */
    for (i = 0; i < ndigits; i++) {
        uint32_t d;
        memcpy(&d, obj + l->long_digits + 4 * i, sizeof d);
        if (d >> l->long_shift)
            return UW_ERR_BAD_OBJECT;
        acc |= (uint64_t)d << (i * (uint64_t)l->long_shift);
    }
    *v = negative ? -(int64_t)acc : (int64_t)acc;
    return 0;
}

int uw__long_value(const uw_pyctx *c, uint64_t addr, int64_t *v)
{
    uint8_t obj[UW_PYOBJ_HEAD];
    int rc;

    UW_ASSERT((size_t)c->l->long_digits + 8 <= sizeof obj); /* checked at attach */
    rc = uw_read(c->r, addr, obj, (size_t)c->l->long_digits + 8);
    if (rc != 0)
        return rc;
    if (c->types->long_ != 0 && uw__u64(obj + c->l->object_type) != c->types->long_)
        return UW_ERR_BAD_OBJECT;
    return uw__long_parse(c->l, obj, sizeof obj, v);
}

int uw__type_name(const uw_pyctx *c, uint64_t type, char *out, size_t cap)
{
    uint64_t p;
    size_t i;
    int rc;

    if (cap == 0)
        return UW_ERR_INVALID_ARG;
    out[0] = '\0';
    rc = uw_read_u64(c->r, type + (uint64_t)c->l->type_name, &p);
    if (rc != 0)
        return rc;
    /* One read for the usual case; byte by byte near an unmapped page.  A
     * fault means its first byte is unreadable (reader.h): no name, and
     * no more reads (a freed type's garbage pointer, often). */
    rc = uw_read(c->r, p, out, cap - 1);
    if (rc == 0) {
        out[cap - 1] = '\0';
        return memchr(out, '\0', cap) != NULL ? 0 : UW_ERR_STRING;
    }
    if (rc != UW_ERR_READ_SHORT)
        return rc;
    for (i = 0; i + 1 < cap; i++) {
        rc = uw_read(c->r, p + i, &out[i], 1);
        if (rc != 0)
            return rc;
        if (out[i] == '\0')
            return 0;
    }
    out[cap - 1] = '\0';
    return 0;
}
