/*
 * resolve.c — every code object a chain records, validated against the
 * cache in this sample before any frame points at it.
 *
 * A code object can be freed and another allocated at its address, so a
 * cache entry is trusted only after its identity fields (code_cache.h)
 * were read again in the current sample and found equal; an entry that
 * differs is reloaded.  The fixed parts come from the prefetched copies
 * (prefetch.c) or from one vectored read of all the others; the entries to
 * load are loaded together, names and location tables in two more reads
 * for all of them.  An entry
 * validated once is trusted for the rest of the sample.  Bounds: one
 * record per frame (UW_LIMIT_FRAMES), so one batch of at most that many
 * reads.
 *
 * 3.14+ counts code objects freed, per interpreter (code_dealloc adds one
 * before anything else).  An entry validated by a thread walk after that
 * walk read the counter as g is still the object at its address while the
 * counter reads g: no code object was freed since, so none was made
 * there.  A thread walk that read g before its frames takes such an
 * entry as validated without reading it, and is kept only if the counter
 * still reads g after its last read (thread.c, recheck.c): a frame read in
 * between names a code object that was alive all along.  The Task walk
 * reads later, with no such bracket, and validates by reading.
 */
#include <string.h>

#include "internal/uw_assert.h"
#include "tornstack/error.h"
#include "unwind_int.h"

/* An entry validated now: by a thread walk that read the generation
 * before, remember it with that value; otherwise, after a reload, forget
 * any value (the new object was read after no counter). */
static void uw_resolve_note_gen(uw_unwinder *u, uw_code_info *e, int reloaded)
{
    if (u->gen_trust) {
        e->gen_interp = u->gen_interp;
        e->gen = u->gen_value;
    } else if (reloaded) {
        e->gen_interp = 0;
    }
}

/* Validate the cache entry of one code object whose fixed part is in obj:
 * 0 when its entry holds, 1 when it must be loaded (its identity in *id),
 * or the error that makes it unusable. */
static int uw_resolve_one(uw_unwinder *u, uint64_t addr, const uint8_t *obj, uw_code_ident *id)
{
    uw_code_info *e;
    int rc;

    rc = uw__code_ident_parse(u->l, obj, (size_t)u->l->code_size, id);
    if (rc != 0)
        return rc;
    e = uw__code_cache_find(&u->cache, addr);
    if (e != NULL && memcmp(&e->id, id, sizeof *id) == 0) {
        e->stamp = u->cache.stamp;
        u->cache.hits++;
        uw_resolve_note_gen(u, e, 0);
        return 0;
    }
    if (e != NULL)
        u->cache.reloads++;
    return 1;
}

/* Record i's code object failed with rc: remember it, and the innermost. */
static void uw_resolve_fail(uw_unwinder *u, size_t i, int rc, size_t *bad_at, int *first_err)
{
    u->recs[i].err = rc;
    if (i < *bad_at) {
        *bad_at = i;
        *first_err = rc;
    }
}

/* Every record of code object `code` failed with rc. */
static void uw_resolve_fail_all(uw_unwinder *u, size_t n, uint64_t code, int rc, size_t *bad_at,
                                int *first_err)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (u->recs[i].code == code)
            uw_resolve_fail(u, i, rc, bad_at, first_err);
}

#define UW_QUEUED_SLOTS ((size_t)2 * UW_LIMIT_FRAMES)

/* A new, empty settled set for this call (its stamp moves on; when the
 * stamp wraps, every slot is cleared once). */
static void uw_queued_reset(uw_unwinder *u)
{
    if (++u->queued_now == 0) {
        memset(u->queued_stamp, 0, sizeof u->queued_stamp);
        u->queued_now = 1;
    }
}

/* The slot holding code, or the empty slot where it goes.  The set holds
 * fewer keys than half its slots, so the probe ends. */
static size_t uw_queued_slot(const uw_unwinder *u, uint64_t code)
{
    size_t i = (size_t)((code >> 3) * 0x9e3779b97f4a7c15ull >> 32) % UW_QUEUED_SLOTS;

    while (u->queued_stamp[i] == u->queued_now && u->queued_key[i] != code)
        i = i + 1 == UW_QUEUED_SLOTS ? 0 : i + 1;
    return i;
}

/* Is code already settled in this call: validated in this sample, or
 * queued (to be read, or to be loaded), or failed, in this call?  If not,
 * it is marked settled now: the caller settles it. */
static int uw_resolve_settled(uw_unwinder *u, uint64_t code)
{
    uw_code_info *e = uw__code_cache_find(&u->cache, code);
    size_t i;

    if (e != NULL && e->stamp == u->cache.stamp)
        return 1;
    if (e != NULL && u->gen_trust && e->gen_interp == u->gen_interp && e->gen == u->gen_value &&
        u->n_gen_taken < UW_LIMIT_FRAMES) {
        u->gen_taken[u->n_gen_taken] = e;
        u->gen_taken_stamp[u->n_gen_taken++] = e->stamp;
        e->stamp = u->cache.stamp; /* no code object freed since it was read */
        u->cache.hits++;
        return 1;
    }
    i = uw_queued_slot(u, code);
    if (u->queued_stamp[i] == u->queued_now)
        return 1;
    u->queued_stamp[i] = u->queued_now;
    u->queued_key[i] = code;
    return 0;
}

/* Records [0, n): each code object not yet validated in this sample is
 * checked from its prefetched copy, or queued (once) for one vectored read
 * of all the others; those whose entry does not hold are loaded together
 * (uw__code_cache_load_many: two more reads).  A failure marks every
 * record of that code object and the innermost one is returned with its
 * error.  Bound: n <= UW_LIMIT_FRAMES, one read of at most that many
 * pieces. */
int uw__resolve(uw_unwinder *u, size_t n, size_t *bad_at)
{
    const size_t cs = (size_t)u->l->code_size;
    uint8_t *batch_base = u->code_buf + (size_t)UW_PF_CODES * cs;
    size_t i, j, nb = 0, nl = 0;
    int first_err = 0;

    UW_ASSERT(n <= UW_LIMIT_FRAMES);
    *bad_at = n;
    uw_queued_reset(u);
    for (i = 0; i < n; i++) {
        uint64_t code = u->recs[i].code;
        const uint8_t *pre;

        if (uw_resolve_settled(u, code))
            continue;
        uw__pf_note_code(u, code);
        pre = uw__pf_code(u, code);
        if (pre != NULL) {
            int rc = uw_resolve_one(u, code, pre, &u->load_id[nl]);
            if (rc == 1)
                u->load_addr[nl++] = code;
            else if (rc != 0)
                uw_resolve_fail_all(u, n, code, rc, bad_at, &first_err);
            continue;
        }
        u->batch_addr[nb] = code;
        u->batch_iov[nb] = (uw_iov){code, batch_base + nb * cs, cs, 0};
        nb++;
    }
    if (nb > 0)
        (void)uw_readv(u->r, u->batch_iov, nb);
    for (j = 0; j < nb; j++) {
        int rc = u->batch_iov[j].status;
        if (rc == 0)
            rc = uw_resolve_one(u, u->batch_addr[j], batch_base + j * cs, &u->load_id[nl]);
        if (rc == 1)
            u->load_addr[nl++] = u->batch_addr[j];
        else if (rc != 0)
            uw_resolve_fail_all(u, n, u->batch_addr[j], rc, bad_at, &first_err);
    }
    if (nl == 0)
        return first_err;
    if (uw__code_cache_load_many(&u->cache, u->r, u->l, u->t.code_type, nl, u->load_addr,
                                 u->load_id, u->load_rc) != 0) {
        for (j = 0; j < nl; j++)
            u->load_rc[j] = UW_ERR_NOMEM;
    }
    for (j = 0; j < nl; j++) {
        if (u->load_rc[j] != 0) {
            uw_resolve_fail_all(u, n, u->load_addr[j], u->load_rc[j], bad_at, &first_err);
        } else {
            uw_code_info *e = uw__code_for(u, u->load_addr[j]);
            if (e != NULL)
                uw_resolve_note_gen(u, e, 1);
        }
    }
    return first_err;
}

uw_code_info *uw__code_for(uw_unwinder *u, uint64_t code)
{
    uw_code_info *e = uw__code_cache_find(&u->cache, code);

    if (e != NULL && e->stamp == u->cache.stamp)
        return e;
    /* Loaded while the table was full: bounded by the codes of a sample. */
    for (e = u->cache.overflow; e != NULL && e->addr != code; e = e->next_overflow)
        ;
    return e;
}

uint64_t uw__code_serial(uw_unwinder *u, uint64_t code, int now)
{
    const uw_code_info *e = now ? uw__code_for(u, code) : uw__code_cache_find(&u->cache, code);

    return e != NULL ? e->serial : 0;
}
