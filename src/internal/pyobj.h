/*
 * pyobj.h — reading Python container objects out of a target: dicts (by
 * str key), instance attributes (managed dicts of 3.11/3.12/3.13, or a
 * dict at tp_dictoffset), sets, lists and small ints.
 *
 * All of it is target memory: every count is bounded (limits.h), every
 * object's type is checked against the target's builtin type objects before
 * its layout is trusted, and str keys are compared by content (the target's
 * str hashes are salted, so they cannot be recomputed here).
 */
#ifndef TORNSTACK_PYOBJ_H
#define TORNSTACK_PYOBJ_H

#include <stddef.h>
#include <stdint.h>

#include "internal/layout.h"
#include "tornstack/reader.h"
#include "tornstack/target.h"

/* Bytes of an object's fixed part read into a local buffer: dicts, dict
 * keys, sets, lists and ints (UW_PYOBJ_HEAD), and the str keys compared
 * by uw__str_equals (UW_PYOBJ_STR_HEAD).  The layout check at attach
 * (layout_check.c) proves every offset read from them fits. */
#define UW_PYOBJ_HEAD 64
#define UW_PYOBJ_STR_HEAD 128

typedef struct uw_pyctx {
    uw_reader *r;
    const uw_layout *l;
    const uw_pytypes *types;
} uw_pyctx;

/* ob_type of the object at addr. */
int uw__obj_type(const uw_pyctx *c, uint64_t addr, uint64_t *type);

/* Does the str object at addr equal the NUL-terminated UTF-8 `s`?  Only
 * ASCII keys are compared (names of modules and attributes). 1 yes, 0 no,
 * negative on read errors. */
int uw__str_equals(const uw_pyctx *c, uint64_t addr, const char *s);

/* Value stored under the str key `key` in the dict at dict_addr.
 * UW_ERR_NOT_FOUND when absent, UW_ERR_BAD_OBJECT when not a dict. */
int uw__dict_get_str(const uw_pyctx *c, uint64_t dict_addr, const char *key, uint64_t *value);

/* Where one str key's entry was found in one dict (uw__dict_get_str_at):
 * the dict, its keys object, the entry's address and key object, and,
 * when asked, the word read at the value plus `extra` (3.11's running-loop
 * holder).  dict 0: nothing cached. */
typedef struct uw_dict_slot {
    uint64_t dict, keys, entry, key, value;
    size_t esize, koff, voff;
} uw_dict_slot;

/* uw__dict_get_str with a slot that remembers where the entry was: while
 * the dict keeps the same combined keys object and the entry at that
 * address still holds the same key object, one vectored read of the dict
 * header and the entry (and the word at value + extra, when extra >= 0
 * and the value is the one remembered) answers; otherwise the full lookup
 * runs and the slot is filled.  With extra >= 0, *extra_value gets the
 * word at value + extra (read on its own when not served). */
int uw__dict_get_str_at(const uw_pyctx *c, uint64_t dict_addr, const char *key, uw_dict_slot *slot,
                        int64_t extra, uint64_t *value, uint64_t *extra_value);

/* Instance attribute `name` of obj (whose type is type_addr), looked up in
 * its managed dict or values, or the dict at tp_dictoffset. */
int uw__obj_getattr(const uw_pyctx *c, uint64_t obj, const char *name, uint64_t *value);

/* Where a key was found in a dict's keys object: the key object, and the
 * keys' index size and kind (which fix where entry i lies). */
typedef struct uw_keys_hit {
    uint64_t key;
    unsigned log2_index;
    int kind;
    size_t esize, koff, voff;
} uw_keys_hit;

/* Where an instance attribute lives, so that the same attribute of other
 * instances of the type can be read without a lookup (src/tasks/gather.c):
 *   UW_ATTR_MANAGED  a managed dict: instances whose values are not a dict
 *                    keep the attribute at `index` of their values (a
 *                    values array on 3.11/3.12, inline on 3.13), index
 *                    into the type's shared keys `cached_keys`;
 *   UW_ATTR_DICT     a dict at tp_dictoffset: each instance has its own
 *                    keys, found at `index` with key object `hit.key` on
 *                    the instance it was located on.
 *   UW_ATTR_MANAGED_DICT  a managed dict whose values became a dict (the
 *                    word at managed_dict points at it): as UW_ATTR_DICT. */
enum { UW_ATTR_MANAGED = 1, UW_ATTR_DICT = 2, UW_ATTR_MANAGED_DICT = 3 };
typedef struct uw_attr_loc {
    int mode;
    int dict_only; /* 3.13+, managed dict without inline values: an
                      instance with no dict holds no attribute at all */
    uint64_t type, cached_keys;
    size_t index;
    int64_t dictoffset, basicsize;
    uw_keys_hit hit;
} uw_attr_loc;

/* Instance attribute `name` of obj, as uw__obj_getattr, and where it was
 * found (loc).  A few reads; called once per type. */
int uw__attr_locate(const uw_pyctx *c, uint64_t obj, const char *name, uw_attr_loc *loc,
                    uint64_t *value);

/* Keys of the set at set_addr (dummy slots skipped), at most cap of them,
 * in table order.  UW_ERR_LIMIT_SET when the table is over its bound,
 * UW_ERR_CAPACITY when it holds more than cap keys (the first cap are
 * returned). */
int uw__set_keys(const uw_pyctx *c, uint64_t set_addr, uint64_t *keys, size_t cap, size_t *n);

/* Where a set's table was, and its size, when last read (set 0: no
 * guess), with a buffer for it (owned; uw__set_guess_free). */
typedef struct uw_set_guess {
    uint64_t set, table;
    size_t bytes;
    uint8_t *buf;
    size_t cap;
} uw_set_guess;

/* As uw__set_keys for a set read again and again: its table in the same
 * call as its header while the guess holds (pyobj.c). */
int uw__set_keys_guessed(const uw_pyctx *c, uint64_t set_addr, uw_set_guess *g, uint64_t *keys,
                         size_t cap, size_t *n);
void uw__set_guess_free(uw_set_guess *g);

/* Items of the list at list_addr, at most cap; UW_ERR_CAPACITY when it
 * holds more (the first cap are returned). */
int uw__list_items(const uw_pyctx *c, uint64_t list_addr, uint64_t *items, size_t cap, size_t *n);
/* Items of the tuple at tuple_addr (stored in it), at most cap, the same
 * way: UW_ERR_CAPACITY when it holds more (the first cap are returned). */
int uw__tuple_items(const uw_pyctx *c, uint64_t tuple_addr, uint64_t *items, size_t cap, size_t *n);

/* Value of the int at addr if it fits in int64. */
int uw__long_value(const uw_pyctx *c, uint64_t addr, int64_t *v);

/* Parse an int object's header and digits from bytes already read (len of
 * them): UW_ERR_READ_SHORT when its header or digits lie past them,
 * UW_ERR_BAD_OBJECT when it is no int of at most two digits. */
int uw__long_parse(const uw_layout *l, const uint8_t *obj, size_t len, int64_t *v);

/* The type's tp_name (a C string), at most cap-1 bytes. */
int uw__type_name(const uw_pyctx *c, uint64_t type, char *out, size_t cap);

#endif /* TORNSTACK_PYOBJ_H */
