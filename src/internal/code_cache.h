/*
 * code_cache.h — code objects read from a target, remembered by address.
 *
 * Reading a code object costs several reads (the object, its qualname and
 * filename strings, its location table).  The cache keeps the decoded
 * result by address.  A code object can be freed and another allocated at
 * the same address, so an entry is served only after it has been validated
 * in the current sample: the walk re-reads the fixed part of every code
 * object it meets (one vectored read for all of them) and compares the
 * identity fields (type, name/qualname/filename/linetable pointers, first
 * line, first traceable instruction).  Any difference reloads the entry.
 *
 * Lifetime: an entry validated in a sample stays put until the next
 * sample, so a sample may point at it.  The cache holds at most
 * UW_CODE_CACHE_SLOTS entries; past that a new one replaces the entry of
 * its probe window validated longest ago (not one of this sample), or,
 * when all are in use, goes to a per-sample overflow list that the next
 * begin() frees (code_cache.c).  Loading reads every new code object of a
 * batch together: two vectored reads for all of their names and location
 * tables (uw__code_cache_load_many).
 */
#ifndef TORNSTACK_CODE_CACHE_H
#define TORNSTACK_CODE_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "internal/layout.h"
#include "tornstack/reader.h"
#include "tornstack/sample.h"

/* Classifies a code object when it is loaded, by its names: returns flags
 * from UW_CODE_CLASSES to set on the entry (the Task walk marks asyncio's
 * Handle._run this way; the cache itself knows no Python library). */
typedef uint32_t (*uw_code_classifier)(const char *qualname, const char *filename);

/* Slots an entry may lie from its hash (lookups look at no more). */
#define UW_CODE_CACHE_PROBE 16

typedef struct uw_code_cache {
    uw_code_info **slots; /* open addressing, 2 * UW_CODE_CACHE_SLOTS */
    uint64_t *keys;       /* each slot's entry's address: a probe reads no entry */
    size_t count;
    uw_code_info *overflow;
    uint32_t stamp;
    uint64_t hits, misses, reloads, evictions; /* for benchmarks */
    /* Entries freed or replaced, ever: while it stands, every entry a
     * sample pointed at is still in place (unwind/idle.c). */
    uint64_t frees;
    uw_code_classifier classify; /* NULL: none */
} uw_code_cache;

int uw__code_cache_init(uw_code_cache *c);
void uw__code_cache_free(uw_code_cache *c);
/* Drop every entry (a cold cache for benchmarks). */
void uw__code_cache_clear(uw_code_cache *c);
/* Set the classifier (NULL: none).  Entries loaded before are dropped, so
 * that every entry is classified by the classifier in place. */
void uw__code_cache_set_classifier(uw_code_cache *c, uw_code_classifier classify);
/* Start a sample: new stamp; empty the table if it is too full. */
void uw__code_cache_begin(uw_code_cache *c);

/* Entry for addr, or NULL. */
uw_code_info *uw__code_cache_find(uw_code_cache *c, uint64_t addr);

/* Parse the identity fields from the first layout->code_size bytes. */
int uw__code_ident_parse(const uw_layout *l, const uint8_t *obj, size_t len, uw_code_ident *out);

/* Read names and location table of the code object at addr whose identity
 * was just parsed, and store the result (replacing any stale entry).
 * code_type: the target's &PyCode_Type, 0 to skip the type check.
 * Returns 0 with *out set, a read error, UW_ERR_BAD_CODE, UW_ERR_STRING,
 * UW_ERR_LIMIT_LINETABLE or UW_ERR_NOMEM. */
int uw__code_cache_load(uw_code_cache *c, uw_reader *r, const uw_layout *l, uint64_t code_type,
                        uint64_t addr, const uw_code_ident *id, uw_code_info **out);

/* uw__code_cache_load for n code objects at once (addrs[i], identity
 * ids[i]), in two vectored reads: each one's result in rcs[i].  Returns 0,
 * or UW_ERR_NOMEM / UW_ERR_INVALID_ARG for the whole batch. */
int uw__code_cache_load_many(uw_code_cache *c, uw_reader *r, const uw_layout *l, uint64_t code_type,
                             size_t n, const uint64_t *addrs, const uw_code_ident *ids, int *rcs);

/* Line for code unit index (memoised per entry); -1 when unknown. */
int uw__code_line(uw_code_info *info, int64_t index, int *line);

/* The serial the last entry loaded in this process took: an entry whose
 * serial is above a value read earlier was loaded (or reloaded) since. */
uint64_t uw__code_serial_last(void);

#endif /* TORNSTACK_CODE_CACHE_H */
