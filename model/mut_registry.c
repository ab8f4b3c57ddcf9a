/*
 * mut_registry.c — the set behind asyncio.tasks' WeakSet, and the hook
 * module's link records, as their stores (docs/model.md).
 *
 * The set (Objects/setobject.c, 3.11-3.13):
 *   add      a new weakref to the Task (type, then wr_object); the key
 *            goes where set_add_entry puts it: probing from hash & mask,
 *            LINEAR_PROBES slots at a time then perturbed, into the last
 *            dummy met before an empty slot, else the empty slot (key,
 *            then hash).  When fill * 5 >= mask * 3 the table is resized.
 *   resize   a new table of the smallest power of two above used * 4
 *            (used * 2 past 50,000) is allocated and cleared, `mask` and
 *            `table` are stored, then every live key is inserted again
 *            (set_insert_clean), then the old table is freed.  So for a
 *            while the set holds a table missing most of its keys, and a
 *            reader holding the old table reads freed memory.
 *   discard  the key becomes the dummy, hash -1 (the table never shrinks).
 * The weakref's hash is its referent's: CPython hashes a pointer by
 * rotating it right by four bits.
 *
 * Hook records (python/tornstack_hook.py): a record is written whole
 * (child, parent, kind: three words) into a free slot (the last freed
 * first, else the next one), then the count covers it if it is new;
 * releasing it writes zeros, child first.  A record is released by a done
 * callback of its child, or of its parent (added by the hook with the
 * parent's first record): so it is gone before either Task's memory can
 * be reused by another.
 */
#include "mut_internal.h"

#include <stdlib.h>
#include <string.h>

#include "tornstack/error.h"
#include "tornstack/limits.h"
#include "internal/uw_assert.h"

#define MM_LINEAR_PROBES 9
#define MM_PERTURB_SHIFT 5
#define MM_KEY_EMPTY 0
#define MM_KEY_DUMMY 1

static void mm_must(const void *p)
{
    UW_ASSERT(p != NULL);
    if (p == NULL)
        abort();
}

static int64_t mm_ptr_hash(uint64_t p)
{
    uint64_t y = (p >> 4) | (p << 60);
    int64_t h = (int64_t)y;
    return h == -1 ? -2 : h;
}

static void mm_shadow_alloc(mm_mset *s, size_t slots)
{
    s->key = calloc(slots, sizeof *s->key);
    s->hash = calloc(slots, sizeof *s->hash);
    s->who = malloc(slots * sizeof *s->who);
    mm_must(s->key);
    mm_must(s->hash);
    mm_must(s->who);
}

void mm_set_init(mm_mutator *m)
{
    mm_mset *s = &m->set;

    s->obj = m->im->registry;
    s->table = m->im->registry_table;
    s->mask = MM_REGISTRY_SLOTS - 1;
    s->fill = s->used = 0;
    mm_shadow_alloc(s, MM_REGISTRY_SLOTS);
}

static uint64_t mm_entry(const mm_mutator *m, uint64_t table, size_t i)
{
    return table + (uint64_t)i * (uint64_t)m->l->setentry_size;
}

/* set_insert_clean into a fresh table: an empty slot, found by probing. */
static size_t mm_probe_clean(const uint64_t *key, size_t mask, int64_t hash)
{
    size_t perturb = (size_t)hash, i = (size_t)hash & mask, j;

    for (;;) {
        if (key[i] == MM_KEY_EMPTY)
            return i;
        if (i + MM_LINEAR_PROBES <= mask) {
            for (j = 1; j <= MM_LINEAR_PROBES; j++)
                if (key[i + j] == MM_KEY_EMPTY)
                    return i + j;
        }
        perturb >>= MM_PERTURB_SHIFT;
        i = (i * 5 + 1 + perturb) & mask;
    }
}

/* set_table_resize(so, minused). */
static void mm_set_resize(mm_mutator *m, int th, size_t minused)
{
    mm_mset *s = &m->set;
    const uw_layout *l = m->l;
    size_t newsize = 8, i, old_slots = s->mask + 1, bytes, done;
    uint64_t old_table = s->table, *okey = s->key;
    int64_t *ohash = s->hash;
    int32_t *owho = s->who;
    uint64_t nt;

    while (newsize <= minused)
        newsize <<= 1;
    bytes = newsize * (size_t)l->setentry_size;
    nt = mm_m_alloc(m, th, bytes, 0);
    for (done = 0; done < bytes; done += 32768) /* memset(newtable, 0, ...) */
        mm_q_zero(m, th, nt + done, bytes - done < 32768 ? bytes - done : 32768);
    mm_q(m, th, s->obj + (uint64_t)l->set_mask, newsize - 1, 8);
    mm_q(m, th, s->obj + (uint64_t)l->set_table, nt, 8);
    mm_shadow_alloc(s, newsize);
    s->table = nt;
    s->mask = newsize - 1;
    s->fill = s->used;
    for (i = 0; i < old_slots; i++) {
        size_t j;
        if (okey[i] == MM_KEY_EMPTY || okey[i] == MM_KEY_DUMMY)
            continue;
        j = mm_probe_clean(s->key, s->mask, ohash[i]);
        s->key[j] = okey[i];
        s->hash[j] = ohash[i];
        s->who[j] = owho[i];
        if (owho[i] >= 0)
            mm_t(m, owho[i])->set_slot = (int)j;
        mm_q(m, th, mm_entry(m, nt, j) + (uint64_t)l->setentry_key, okey[i], 8);
        mm_q(m, th, mm_entry(m, nt, j) + 8, (uint64_t)ohash[i], 8);
    }
    mm_m_free(m, th, old_table, old_slots * (size_t)l->setentry_size);
    free(okey);
    free(ohash);
    free(owho);
}

void mm_set_add(mm_mutator *m, int th, int32_t id, uint64_t unused)
{
    const uw_layout *l = m->l;
    mm_mtask *t = mm_t(m, id);
    mm_mset *s = &m->set;
    int64_t hash = mm_ptr_hash(t->obj);
    size_t mask = s->mask, i = (size_t)hash & mask, perturb = (size_t)hash, slot = SIZE_MAX;
    size_t freeslot = SIZE_MAX;
    int found = 0;
    uint64_t wr;

    (void)unused;
    UW_ASSERT(!m->lp[th].gil_emitted); /* shared: nothing may run in between */
    /* WeakSet.add(task): self.data.add(ref(task, self._remove)) */
    wr = mm_m_alloc(m, th, 64, 0);
    mm_q(m, th, wr + (uint64_t)l->object_type, m->im->target.types.weakref, 8);
    mm_q(m, th, wr + (uint64_t)l->weakref_object, t->obj, 8);
    t->wr = wr;
    while (!found) {
        size_t probes = i + MM_LINEAR_PROBES <= mask ? MM_LINEAR_PROBES : 0, e = i, k;
        for (k = 0; k <= probes; k++, e++) {
            if (s->key[e] == MM_KEY_EMPTY) {
                slot = e;
                found = 1;
                break;
            }
            if (s->key[e] == MM_KEY_DUMMY)
                freeslot = e;
        }
        perturb >>= MM_PERTURB_SHIFT;
        i = (i * 5 + 1 + perturb) & mask;
    }
    if (freeslot != SIZE_MAX) {
        slot = freeslot;
        s->used++;
    } else {
        s->fill++;
        s->used++;
    }
    s->key[slot] = wr;
    s->hash[slot] = hash;
    s->who[slot] = id;
    t->set_slot = (int)slot;
    mm_q(m, th, mm_entry(m, s->table, slot) + (uint64_t)l->setentry_key, wr, 8);
    mm_q(m, th, mm_entry(m, s->table, slot) + 8, (uint64_t)hash, 8);
    if (freeslot == SIZE_MAX && s->fill * 5 >= mask * 3)
        mm_set_resize(m, th, s->used > 50000 ? s->used * 2 : s->used * 4);
}

/* The Task is being deallocated: its weakref is cleared (wr_object = None)
 * and its callback, WeakSet._remove, discards it from the set; the
 * weakref is freed. */
void mm_set_discard(mm_mutator *m, int th, int32_t id)
{
    const uw_layout *l = m->l;
    mm_mtask *t = mm_t(m, id);
    mm_mset *s = &m->set;
    size_t slot;

    UW_ASSERT(!m->lp[th].gil_emitted);
    if (t->wr == 0)
        return;
    mm_q(m, th, t->wr + (uint64_t)l->weakref_object, m->im->target.types.none, 8);
    if (t->set_slot >= 0 && (size_t)t->set_slot <= s->mask && s->who[t->set_slot] == id) {
        slot = (size_t)t->set_slot;
        mm_q(m, th, mm_entry(m, s->table, slot) + (uint64_t)l->setentry_key, m->im->set_dummy, 8);
        mm_q(m, th, mm_entry(m, s->table, slot) + 8, (uint64_t)(int64_t)-1, 8);
        s->key[slot] = MM_KEY_DUMMY;
        s->hash[slot] = -1;
        s->who[slot] = -1;
        s->used--;
    }
    mm_m_free(m, th, t->wr, 64);
    t->wr = 0;
    t->set_slot = -1;
}

/* --- hook records ------------------------------------------------------------ */

#define MM_HOOK_CAP 16384 /* records, as python/tornstack_hook.py's CAPACITY */

void mm_hook_init(mm_mutator *m)
{
    if (!m->prog.hook)
        return;
    m->hook_cap = MM_HOOK_CAP;
    m->hook_buf = mm_fab_hook_buffer(m->im, m->hook_cap);
    m->hook_free = malloc(m->hook_cap * sizeof *m->hook_free);
    mm_must(m->hook_free);
}

static uint64_t mm_rec(const mm_mutator *m, int slot)
{
    return m->hook_buf + 16 + 24 * (uint64_t)slot;
}

void mm_hook_record(mm_mutator *m, int th, int32_t child, int32_t parent, int kind)
{
    mm_mtask *c = mm_t(m, child), *p = mm_t(m, parent);
    mm_store *s;
    int slot, fresh = 0;

    if (m->hook_buf == 0 || child == parent || c->hook_slot[kind] >= 0)
        return;
    UW_ASSERT(!m->lp[th].gil_emitted);
    if (m->n_hook_free > 0) {
        slot = m->hook_free[--m->n_hook_free];
    } else if (m->hook_count < m->hook_cap) {
        slot = (int)m->hook_count;
        fresh = 1;
    } else {
        return; /* full: the link is lost, never a wrong one */
    }
    c->hook_slot[kind] = slot;
    c->hook_parent[kind] = parent;
    c->hook_parent_gen[kind] = p->gen;
    p->hook_kids++;
    /* _watch(child), _watch(parent): a weak reference each, whose
     * callback releases the records as the Task is deallocated
     * (mm_task_die); no done callback, so nothing here tells the
     * unwinder the Task is awaited */
    p->hook_watched = 1;
    mm_q(m, th, mm_rec(m, slot), c->obj, 8);
    mm_q(m, th, mm_rec(m, slot) + 8, p->obj, 8);
    s = mm_q(m, th, mm_rec(m, slot) + 16, (uint64_t)kind, 8);
    if (fresh) {
        m->hook_count = (size_t)slot + 1;
        s = mm_q(m, th, m->hook_buf + 8, m->hook_count, 8);
    }
    s->ev = EV_HOOK;
    s->task = child;
    s->arg = kind;
    /* a record past UW_LIMIT_LINK_RECORDS is past what a reader reads (it
     * says link_limit): the truth has no link a perfect reader could give */
    s->x = mm_pack_ref(slot < UW_LIMIT_LINK_RECORDS ? (mm_ref){parent, p->gen} : MM_NOREF);
}

void mm_hook_release(mm_mutator *m, int th, int32_t child, int kind)
{
    mm_mtask *c = mm_t(m, child);
    mm_store *s;
    int slot = c->hook_slot[kind];

    if (slot < 0)
        return;
    UW_ASSERT(!m->lp[th].gil_emitted);
    s = mm_q(m, th, mm_rec(m, slot), 0, 8);
    s->ev = EV_HOOK;
    s->task = child;
    s->arg = kind;
    s->x = mm_pack_ref(MM_NOREF);
    mm_q(m, th, mm_rec(m, slot) + 8, 0, 8);
    mm_q(m, th, mm_rec(m, slot) + 16, 0, 8);
    m->hook_free[m->n_hook_free++] = slot;
    c->hook_slot[kind] = -1;
    {
        mm_mtask *p = mm_t(m, c->hook_parent[kind]);
        if (p->gen == c->hook_parent_gen[kind] && p->hook_kids > 0)
            p->hook_kids--;
    }
}

void mm_hook_release_parent(mm_mutator *m, int th, int32_t parent)
{
    mm_mtask *p = mm_t(m, parent);
    const uint32_t gen = p->gen;
    size_t id, n = mm_world_tasks(m->w);
    int k;

    for (id = 0; id < n && p->hook_kids > 0; id++) {
        mm_mtask *c = mm_t(m, (int32_t)id);
        if (!c->used)
            continue;
        for (k = 1; k <= 2; k++)
            if (c->hook_slot[k] >= 0 && c->hook_parent[k] == parent && c->hook_parent_gen[k] == gen)
                mm_hook_release(m, th, c->id, k);
    }
}
