/*
 * links.c — the link tables: strong and creation links that 3.11-3.13
 * memory does not hold.
 *
 * Two sources: the API table, filled by an embedding profiler that sees
 * gather/wait/TaskGroup calls and task creation (uw_tasks_link), and the
 * target's tornstack_hook module, which records links in a bytearray
 * read in every sample: "TSLINKS1", a record count, then that many 24-byte
 * records {child id, parent id, kind}.  A record is written whole before
 * the count covers it and zeroed when its child or its parent finishes
 * (python/tornstack_hook.py).  Each record used is checked with the
 * child's chain (uw__hook_deps).  Bounds:
 * UW_LIMIT_LINK_RECORDS links per table (UW_ERR_LIMIT_LINK_RECORDS) and records
 * read.
 */
#include <stdlib.h>
#include <string.h>

#include "internal/frame.h"
#include "tasks_int.h"
#include "tornstack/error.h"

/* Where (child, kind) goes in a table of mask + 1 slots (a power of two):
 * the API table's index and the hook's parse hash alike. */
static size_t uw_link_hash(uint64_t child, uint64_t kind, size_t mask)
{
    return (size_t)(((child ^ (kind << 60)) * 0x9e3779b97f4a7c15ull) >> 32) & mask;
}

/* Slots of an index for `count` links: a power of two above twice them,
 * so a probe always meets an empty slot. */
static size_t uw_link_slots(size_t count)
{
    size_t want = 64;

    while (want < 2 * count + 1)
        want *= 2;
    return want;
}

/* The slot of index `slot` (mask + 1 slots, each a link's place + 1)
 * holding (child, kind), or the empty slot where it would go: linear
 * probing from its hash.  The API table and the hook's parse share it. */
static size_t uw_link_find(const uw_link *links, const size_t *slot, size_t mask, uint64_t child,
                           int kind)
{
    size_t h = uw_link_hash(child, (uint64_t)kind, mask);

    while (slot[h] != 0 && (links[slot[h] - 1].child != child || links[slot[h] - 1].kind != kind))
        h = (h + 1) & mask;
    return h;
}

/* The API table's slot holding (child, kind), or the empty one for it. */
static size_t uw_api_slot(const uw_tasks *t, uint64_t child, int kind)
{
    return uw_link_find(t->links, t->link_slot, t->link_mask, child, kind);
}

/* Room for `cap` links and an index of at least twice as many slots (a
 * power of two), rebuilt from the links held.  0, or UW_ERR_NOMEM with
 * the table as it was. */
static int uw_api_grow(uw_tasks *t, size_t cap)
{
    size_t want = uw_link_slots(cap), i, *slot;
    uw_link *a;

    slot = calloc(want, sizeof *slot);
    if (slot == NULL)
        return UW_ERR_NOMEM;
    a = realloc(t->links, cap * sizeof *a);
    if (a == NULL) {
        free(slot);
        return UW_ERR_NOMEM;
    }
    t->links = a;
    t->cap_links = cap;
    free(t->link_slot);
    t->link_slot = slot;
    t->link_mask = want - 1;
    for (i = 0; i < t->n_links; i++)
        slot[uw_api_slot(t, t->links[i].child, t->links[i].kind)] = i + 1;
    return 0;
}

/* Empty slot i of the index, moving up the entries after it that their
 * hash would no longer reach (linear probing has no tombstones). */
static void uw_api_slot_clear(uw_tasks *t, size_t i)
{
    size_t j = i;

    t->link_slot[i] = 0;
    for (;;) {
        const uw_link *e;
        size_t h;
        j = (j + 1) & t->link_mask;
        if (t->link_slot[j] == 0)
            return;
        e = &t->links[t->link_slot[j] - 1];
        h = uw_link_hash(e->child, (uint64_t)e->kind, t->link_mask);
        if (i <= j ? (i < h && h <= j) : (i < h || h <= j))
            continue; /* still reached from its hash */
        t->link_slot[i] = t->link_slot[j];
        t->link_slot[j] = 0;
        i = j;
    }
}

/* Set the parent of (child, kind), adding the link if new: found through
 * the index, so an embedding profiler that links every Task it sees
 * created pays a constant time per call, not a scan of the table.  Bound:
 * UW_LIMIT_LINK_RECORDS links. */
int uw_tasks_link(uw_tasks *t, uint64_t child, uint64_t parent, int kind)
{
    size_t h;
    int rc;

    if (t == NULL || child == 0 || (kind != UW_LINK_STRONG && kind != UW_LINK_CREATION))
        return UW_ERR_INVALID_ARG;
    if (t->link_slot != NULL) {
        h = uw_api_slot(t, child, kind);
        if (t->link_slot[h] != 0) {
            t->links[t->link_slot[h] - 1].parent = parent;
            return 0;
        }
    }
    if (t->n_links == t->cap_links) {
        size_t nc = t->cap_links ? 2 * t->cap_links : 64;
        if (nc > UW_LIMIT_LINK_RECORDS)
            nc = UW_LIMIT_LINK_RECORDS;
        if (t->n_links == nc)
            return UW_ERR_LIMIT_LINK_RECORDS;
        if ((rc = uw_api_grow(t, nc)) != 0)
            return rc;
    }
    h = uw_api_slot(t, child, kind);
    t->links[t->n_links] = (uw_link){child, parent, kind, 0};
    t->link_slot[h] = ++t->n_links;
    return 0;
}

/* Drop both links of child: each entry's slot is emptied, and the last
 * link moves into its place (its slot follows). */
void uw_tasks_unlink(uw_tasks *t, uint64_t child)
{
    static const int kinds[2] = {UW_LINK_STRONG, UW_LINK_CREATION};
    size_t k;

    if (t == NULL || t->link_slot == NULL)
        return;
    for (k = 0; k < 2; k++) {
        size_t h = uw_api_slot(t, child, kinds[k]), at, last;
        if (t->link_slot[h] == 0)
            continue;
        at = t->link_slot[h] - 1;
        uw_api_slot_clear(t, h);
        last = --t->n_links;
        if (at != last) {
            t->links[at] = t->links[last];
            t->link_slot[uw_api_slot(t, t->links[at].child, t->links[at].kind)] = at + 1;
        }
    }
}

/* The record count the buffer's header allows: its count, cut to what its
 * size holds and to UW_LIMIT_LINK_RECORDS (*cut set when the count is
 * past it); 0 when the header is not the hook's.  *room: records the
 * buffer holds (at most UW_LIMIT_LINK_RECORDS). */
static uint64_t uw_hook_count(uw_tasks *t, uint64_t bytearray, uint64_t *start, uint64_t *room,
                              int *cut)
{
    uint8_t hdr[UW_HOOK_HEADER];
    uint64_t count;
    int64_t size;

    if (uw_read(t->r, bytearray, hdr, (size_t)t->l->bytearray_start + 8) != 0)
        return 0;
    memcpy(&size, hdr + t->l->bytearray_size, sizeof size);
    *start = uw__u64(hdr + t->l->bytearray_start);
    if (size < 16 || uw_read(t->r, *start, hdr, 16) != 0 || memcmp(hdr, UW_LINKS_MAGIC, 8) != 0)
        return 0;
    *room = (uint64_t)(size - 16) / UW_LINK_RECORD;
    if (*room > UW_LIMIT_LINK_RECORDS)
        *room = UW_LIMIT_LINK_RECORDS;
    count = uw__u64(hdr + 8);
    *cut = count > *room && *room == UW_LIMIT_LINK_RECORDS;
    return count < *room ? count : *room;
}

/* Room for `count` links (t->hook) and a slot table of at least twice as
 * many entries (a power of two), emptied, in their views.  Returns the
 * table's mask, or 0 when a view could not grow. */
static size_t uw_hook_room(uw_tasks *t, size_t count)
{
    const size_t want = uw_link_slots(count);

    if (uw__view_reserve(&t->sc.hook_links, count) != 0 ||
        uw__view_reserve(&t->sc.hook_slot, want) != 0)
        return 0;
    t->hook = (uw_link *)(void *)t->sc.hook_links.p;
    memset(t->sc.hook_slot.p, 0, want * sizeof(size_t));
    return want - 1;
}

/* The links of `count` records at p (read from start + 16) into t->hook:
 * records of a child that finished are zero; unknown kinds are skipped.
 * A (child, kind) met again takes that record's parent and place in the
 * first one's entry (a slot zeroed and reused while the buffer was read),
 * found through an open-addressing table: linear in the records, where a
 * scan of the table for each was quadratic (65,536 records took seconds
 * a sample; the hook holds up to 16,384, two per Task).  At most
 * UW_LIMIT_LINK_RECORDS records (the caller's count).  0, or UW_ERR_NOMEM
 * (the caller fails the sample or trusts no link rather than lose some). */
int uw__hook_parse(uw_tasks *t, const uint8_t *p, uint64_t count, uint64_t start)
{
    size_t i, mask, *slot;

    t->n_hook = 0;
    if (count == 0)
        return 0;
    if (count > UW_LIMIT_LINK_RECORDS || (mask = uw_hook_room(t, (size_t)count)) == 0)
        return UW_ERR_NOMEM;
    slot = UW__SIZE(&t->sc.hook_slot);
    for (i = 0; i < count; i++, p += UW_LINK_RECORD) {
        uint64_t kind = uw__u64(p + 16), child = uw__u64(p);
        size_t h;
        if (child == 0 || (kind != UW_LINK_STRONG && kind != UW_LINK_CREATION))
            continue;
        h = uw_link_find(t->hook, slot, mask, child, (int)kind);
        if (slot[h] == 0) {
            t->hook[t->n_hook] = (uw_link){child, 0, (int)kind, 0};
            slot[h] = ++t->n_hook;
        }
        t->hook[slot[h] - 1].parent = uw__u64(p + 8);
        t->hook[slot[h] - 1].addr = start + 16 + i * UW_LINK_RECORD;
    }
    return 0;
}

/* The count word and the records, in one read, kept as read (t->sc.hook,
 * t->hook_area, t->hook_len), with UW_HOOK_MARGIN records past the count
 * (free slots, zero until used): the chain check reads them again, twice,
 * with everything else, and a record written meanwhile in a new slot is
 * seen there too.  An empty table is read the same way: a Task created
 * between this read and the check has its creation record there, and a
 * table not read again would show it created by nobody while the check
 * finds it awaited (regress violation-local-47243de7). */
int uw__read_hook_links(uw_tasks *t, uint64_t bytearray)
{
    uint64_t start = 0, count, room = 0, n;
    int rc, cut = 0;

    t->n_hook = 0;
    t->hook_len = 0;
    t->hook_cut = 0;
    if (bytearray == 0)
        return 0;
    count = uw_hook_count(t, bytearray, &start, &room, &cut);
    if (room == 0)
        return 0; /* no records, nor room for one: nothing to read again */
    n = count + UW_HOOK_MARGIN < room ? count + UW_HOOK_MARGIN : room;
    rc = uw__view_reserve(&t->sc.hook, 8 + (size_t)n * UW_LINK_RECORD);
    if (rc != 0)
        return rc;
    t->hook_cut = cut;
    if (uw_read(t->r, start + 8, t->sc.hook.p, 8 + (size_t)n * UW_LINK_RECORD) != 0 ||
        (uw__u64(t->sc.hook.p) > n && !cut)) {
        t->hook_unknown = 1; /* unreadable, or grown past what was read */
        return 0;
    }
    count = uw__u64(t->sc.hook.p);
    if (count > n) /* past UW_LIMIT_LINK_RECORDS: the first are read */
        count = n;
    t->hook_area = start + 8;
    t->hook_len = 8 + (size_t)n * UW_LINK_RECORD;
    t->hook_start = start;
    if ((rc = uw__hook_parse(t, t->sc.hook.p + 8, count, start)) != 0)
        return rc;
    return cut ? UW_ERR_LIMIT_LINK_RECORDS : 0; /* the first records are read */
}
