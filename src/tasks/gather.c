/*
 * gather.c — what each Task awaits, read from memory: its fut_waiter, a
 * Task or a gather future (_GatheringFuture) whose `_children` list holds
 * Tasks and nested gathers.  Every byte a link was decided from is kept as
 * a dependency of the Task (deps.c), and the chain check reads them again,
 * twice, with everything else (check.c): an awaiting edge is shown only
 * from a Task whose links read back the same.
 *
 * The cost is in reads per nesting level, not per gather: all gathers are
 * read together, one vectored read per step, each gather moving through
 * its steps:
 *   locate  where `_children` lives, from the type's cached place
 *           (types.c, pyobj.h's uw_attr_loc): the managed dict word, the
 *           3.11 values pointer, the 3.13 inline values with the slot, or
 *           the instance dict's pointer;
 *   dict    (a dict) its header: keys and values;
 *   keys    (a dict) the keys object up to the entry of `_children`, with
 *           the cached index, and its value in a split dict's values;
 *           locate (but for a dict at tp_dictoffset) and keys also read
 *           the Task's fut_waiter: a node whose place did not hold is
 *           located again only for a Task still awaiting the same;
 *   slot    (values) the value slot;
 *   list    the list's type, size and item pointer;
 *   items   the item pointers;
 *   types   the type of each item that is not a Task of the sample; the
 *           gathers among them start at `locate`, one level deeper.
 * An instance whose keys do not match the cached place is located on its
 * own once (a few reads) and read again.  The waiters' types come first,
 * in one read; a type is classified once (types.c).  None of it depends
 * on the await chains, so a sample's walk (walk.c) reads each step in the
 * same vectored read as a level of the chains (uw__aw_readv), and only the
 * steps left after the deepest chain on their own (uw__awaiting_end).
 *
 * Bounds (limits.h, docs/tasks.md): UW_LIMIT_GATHER_CHILDREN items per
 * gather (of a longer list the first ones are read and linked),
 * UW_LIMIT_GATHER_ITEMS items over all gathers of the sample (a list met
 * past it is cut the same way), UW_LIMIT_GATHER_NESTING levels (a gather
 * nested deeper is not read) and UW_GATHER_NODES_MAX gathers per sample
 * (gathers met past it are not read).  Each cut leaves the links read
 * before it and sets t->gather_cut, which the walk reports as
 * gather_limit in the sample's tasks_error; the items read of a cut list
 * stay dependencies like any other, so the links shown are still
 * checked.  The dependency views are sized from these bounds, each
 * node's pieces asserted within UW_G_NODE_PIECES; only their bytes can
 * run out, with dicts far larger than a gather's (uw_nodes_cut): what the
 * Tasks left await is cut there, the same way, and the sample goes on
 * with UW_ERR_CAPACITY in tasks_error.  What cannot be read (a place not
 * found, a read error) leaves the Task's links not trusted (links_cut).
 * Children are listed in list order, nested gathers flattened in place,
 * as the Task's `awaiting`.
 */
#include <string.h>

#include "internal/pyobj.h"
#include "internal/uw_assert.h"
#include "tasks_int.h"
#include "tornstack/error.h"

enum {
    UW_G_LOCATE = 1,
    UW_G_DICT,
    UW_G_KEYS,
    UW_G_SLOT,
    UW_G_LIST,
    UW_G_ITEMS,
    UW_G_TYPES,
    UW_G_DONE,
    UW_G_FAIL
};

/* A piece a step reads. */
typedef struct uw_gpiece {
    uint64_t addr;
    size_t len;
} uw_gpiece;

#define UW_G_STEP_PIECES 4

static uw__gnode *uw_node(uw_tasks *t, size_t i)
{
    return &((uw__gnode *)(void *)t->sc.gnode.p)[i];
}

/* Bytes of a keys object up to the end of entry `index` (cached place). */
static size_t uw_keys_span(const uw_layout *l, const uw_attr_loc *loc)
{
    return (size_t)l->dictkeys_indices + ((size_t)1 << loc->hit.log2_index) +
           (loc->index + 1) * loc->hit.esize;
}

/* The pieces of node g's current step (not types), at most
 * UW_G_STEP_PIECES; returns how many. */
/* The fut_waiter of the Task whose waiter leads to node g, read with each
 * step that may relocate the node (uw_node_relocate). */
static uw_gpiece uw_waiter_piece(const uw_tasks *t, const uw__gnode *g)
{
    return (uw_gpiece){t->work[g->task].addr + (uint64_t)t->al->task_fut_waiter, 8};
}

static size_t uw_step_pieces(const uw_tasks *t, const uw__gnode *g, uw_gpiece *p)
{
    const uw_layout *l = t->l;
    const uw_attr_loc *loc = &g->loc;
    size_t n = 0;

    switch (g->step) {
    case UW_G_LOCATE:
        if (loc->mode == UW_ATTR_DICT) {
            p[n++] = (uw_gpiece){g->obj + (uint64_t)loc->dictoffset, 8};
            break;
        }
        p[n++] = (uw_gpiece){g->obj + (uint64_t)(int64_t)l->managed_dict, 8};
        if (loc->mode != UW_ATTR_MANAGED_DICT) {
            p[n++] = (uw_gpiece){loc->type + (uint64_t)l->heaptype_cached_keys, 8};
            if (l->managed_dict_mode == 11)
                p[n++] = (uw_gpiece){g->obj + (uint64_t)(int64_t)l->managed_values, 8};
            else if (l->managed_dict_mode == 13)
                p[n++] = (uw_gpiece){g->obj + (uint64_t)loc->basicsize,
                                     (size_t)l->dictvalues_values + 8 * (loc->index + 1)};
        }
        p[n++] = uw_waiter_piece(t, g); /* last, for uw_node_relocate */
        break;
    case UW_G_DICT:
        p[n++] = (uw_gpiece){g->d, (size_t)l->dict_values + 8};
        break;
    case UW_G_KEYS:
        p[n++] = (uw_gpiece){g->k, uw_keys_span(l, loc)};
        if (g->v != 0)
            p[n++] = (uw_gpiece){g->v + (uint64_t)l->dictvalues_values + 8 * loc->index, 8};
        p[n++] = uw_waiter_piece(t, g); /* last, for uw_node_relocate */
        break;
    case UW_G_SLOT:
        p[n++] = (uw_gpiece){g->v + (uint64_t)l->dictvalues_values + 8 * loc->index, 8};
        break;
    case UW_G_LIST:
        p[n++] = (uw_gpiece){g->list + (uint64_t)l->object_type,
                             (size_t)l->list_items + 8 - (size_t)l->object_type};
        break;
    case UW_G_ITEMS:
        p[n++] = (uw_gpiece){g->items, 8 * (size_t)g->n};
        break;
    default:
        break;
    }
    return n;
}

/* Is item k of node g a Task of the sample? */
static int uw_item_is_task(const uw_tasks *t, const uw__gnode *g, size_t k)
{
    return uw__task_find(t, UW__U64(&t->sc.gitems)[g->first_item + k]) >= 0;
}

/* The type pieces of node g (UW_G_TYPES): one per item that is not a Task
 * of the sample; into p when not NULL.  Returns how many. */
static size_t uw_type_pieces(const uw_tasks *t, const uw__gnode *g, uw_gpiece *p)
{
    size_t k, n = 0;

    for (k = 0; k < g->n_items; k++) {
        if (uw_item_is_task(t, g, k))
            continue;
        if (p != NULL)
            p[n] = (uw_gpiece){
                UW__U64(&t->sc.gitems)[g->first_item + k] + (uint64_t)t->l->object_type, 8};
        n++;
    }
    return n;
}

/* A gather bound cut what Task `task` awaits: the Task shows what was read
 * before the cut, and the sample says gather_limit. */
static void uw_cut(uw_tasks *t, size_t task)
{
    t->gather_cut = 1;
    t->work[task].gather_cut = 1;
}

/* A new node for gather future `obj` of type `type`, awaited by Task task
 * at nesting depth `depth`; its place from the type's cache (located on
 * obj when not known yet).  *node: its index; -2 past UW_GATHER_NODES_MAX
 * (the bound, t->gather_cut set: not read, nothing lost that was read);
 * -1 when no place was found.  Returns 0, or UW_ERR_NOMEM (the sample
 * fails rather than lose links silently). */
static int uw_node_new(uw_tasks *t, size_t task, uint64_t obj, uint64_t type, int depth,
                       int64_t *node)
{
    uw__gnode *g;
    uw_attr_loc loc;
    int rc;

    *node = -1;
    if (t->n_gnode == UW_GATHER_NODES_MAX) {
        uw_cut(t, task);
        *node = -2;
        return 0;
    }
    if ((rc = uw__type_gather_loc(t, type, obj, &loc)) != 0)
        return rc == UW_ERR_NOMEM ? rc : 0;
    if ((rc = uw__view_reserve(&t->sc.gnode, t->n_gnode + 1)) != 0)
        return rc;
    g = uw_node(t, t->n_gnode);
    memset(g, 0, sizeof *g);
    g->task = task;
    g->obj = obj;
    g->loc = loc;
    g->depth = depth;
    g->step = UW_G_LOCATE;
    g->first_kid_node = -1;
    *node = (int64_t)t->n_gnode++;
    return 0;
}

/* The place cached for g's type did not hold for this instance: locate
 * `_children` on it alone, once, and read it again from the start.
 * Unless its Task no longer awaits what it did at discovery (`waiter`,
 * the word the step read at its fut_waiter): then its gathers may have
 * been let go, their memory freed and reused, which a busy program's
 * sample meets about once or twice; a relocation costs a few reads.  The
 * check finds such a Task changed, and reads its links again if it
 * recovers it, so the node ends here (its Task's links are cut).
 * Returns 0, or UW_ERR_NOMEM. */
static int uw_node_relocate(uw_tasks *t, uw__gnode *g, const uint8_t *waiter)
{
    uint64_t unused;
    int rc = 0;

    if (uw__u64(waiter) != t->work[g->task].waiter) {
        g->step = UW_G_FAIL;
        return 0;
    }
    if (g->relocated ||
        (rc = uw__attr_locate(&t->pc, g->obj, "_children", &g->loc, &unused)) != 0) {
        g->step = UW_G_FAIL;
        return g->relocated || rc != UW_ERR_NOMEM ? 0 : rc;
    }
    g->relocated = 1;
    g->step = UW_G_LOCATE;
    return 0;
}

/* Node g's step read into b[0..np) (pieces p): move it on.  Returns 0, or
 * UW_ERR_NOMEM. */
static int uw_step_done(uw_tasks *t, uw__gnode *g, uint8_t *const *b, const int *ok, size_t np)
{
    const uw_layout *l = t->l;
    const uw_attr_loc *loc = &g->loc;
    size_t i;

    for (i = 0; i < np; i++) {
        if (!ok[i]) {
            g->step = UW_G_FAIL;
            return 0;
        }
    }
    switch (g->step) {
    case UW_G_LOCATE: {
        uint64_t w = uw__u64(b[0]);
        int is_dict = l->managed_dict_mode == 12 ? (w != 0 && !(w & 1)) : w != 0;
        if (loc->mode == UW_ATTR_DICT) {
            g->d = w;
            g->step = w != 0 ? UW_G_DICT : UW_G_FAIL;
            break;
        }
        if (loc->mode == UW_ATTR_MANAGED_DICT) {
            g->d = w;
            if (!is_dict && loc->dict_only) {
                /* no dict and nowhere else to keep `_children`: a gather
                 * being freed (its Task woke and dropped it) */
                g->step = UW_G_FAIL;
                break;
            }
            if (!is_dict)
                return uw_node_relocate(t, g, b[np - 1]); /* this one keeps its values */
            g->step = UW_G_DICT;
            break;
        }
        if (uw__u64(b[1]) != loc->cached_keys) {
            uw__type_forget_loc(t, loc->type); /* the type's keys moved */
            return uw_node_relocate(t, g, b[np - 1]);
        }
        if (is_dict) {
            return uw_node_relocate(t, g, b[np - 1]); /* its values became a dict */
        }
        if (l->managed_dict_mode == 11) {
            g->v = uw__u64(b[2]);
            g->step = g->v != 0 ? UW_G_SLOT : UW_G_FAIL;
        } else if (l->managed_dict_mode == 12) {
            g->v = w != 0 ? w + 1 : 0;
            g->step = g->v != 0 ? UW_G_SLOT : UW_G_FAIL;
        } else {
            /* 3.13 inline values: the "valid" byte, then the slot */
            g->list = b[2][3] != 0 ? uw__u64(b[2] + l->dictvalues_values + 8 * loc->index) : 0;
            g->step = g->list != 0 ? UW_G_LIST : UW_G_FAIL;
        }
        break;
    }
    case UW_G_DICT:
        if (t->t->types.dict != 0 && uw__u64(b[0] + l->object_type) != t->t->types.dict) {
            g->step = UW_G_FAIL;
            break;
        }
        g->k = uw__u64(b[0] + l->dict_keys);
        g->v = uw__u64(b[0] + l->dict_values);
        g->step = g->k != 0 ? UW_G_KEYS : UW_G_FAIL;
        break;
    case UW_G_KEYS: {
        const uint8_t *k = b[0];
        int64_t nentries;
        const uint8_t *e = k + l->dictkeys_indices + ((size_t)1 << loc->hit.log2_index) +
                           loc->index * loc->hit.esize;
        memcpy(&nentries, k + l->dictkeys_nentries, sizeof nentries);
        if (k[l->dictkeys_log2_index_bytes] != loc->hit.log2_index ||
            k[l->dictkeys_kind] != loc->hit.kind || nentries < 0 ||
            (uint64_t)nentries <= (uint64_t)loc->index ||
            uw__u64(e + loc->hit.koff) != loc->hit.key) {
            return uw_node_relocate(t, g, b[np - 1]); /* another place in this dict */
        }
        g->list = g->v != 0 ? uw__u64(b[1]) : uw__u64(e + loc->hit.voff);
        g->step = g->list != 0 ? UW_G_LIST : UW_G_FAIL;
        break;
    }
    case UW_G_SLOT:
        g->list = uw__u64(b[0]);
        g->step = g->list != 0 ? UW_G_LIST : UW_G_FAIL;
        break;
    case UW_G_LIST: {
        int64_t size;
        memcpy(&size, b[0] + (l->list_size - l->object_type), sizeof size);
        if ((t->t->types.list != 0 && uw__u64(b[0]) != t->t->types.list) || size < 0) {
            g->step = UW_G_FAIL;
            break;
        }
        if (size > UW_LIMIT_GATHER_CHILDREN) { /* the first ones are read */
            size = UW_LIMIT_GATHER_CHILDREN;
            uw_cut(t, g->task);
        }
        if ((uint64_t)size > (uint64_t)(UW_LIMIT_GATHER_ITEMS - t->n_gclaimed)) {
            /* the sample's items are spent: the first ones of this list */
            size = (int64_t)(UW_LIMIT_GATHER_ITEMS - t->n_gclaimed);
            uw_cut(t, g->task);
        }
        t->n_gclaimed += (size_t)size;
        g->n = size;
        g->items = uw__u64(b[0] + (l->list_items - l->object_type));
        g->step = size > 0 ? UW_G_ITEMS : UW_G_DONE;
        break;
    }
    default:
        break;
    }
    return 0;
}

/* The items read (b): kept in gitems; on to their types, or done. */
static int uw_items_done(uw_tasks *t, uw__gnode *g, const uint8_t *b)
{
    size_t k;
    int rc;

    if ((rc = uw__view_reserve(&t->sc.gitems, t->n_gitems + (size_t)g->n)) != 0)
        return rc;
    g->first_item = t->n_gitems;
    g->n_items = (size_t)g->n;
    for (k = 0; k < g->n_items; k++)
        UW__U64(&t->sc.gitems)[t->n_gitems + k] = uw__u64(b + 8 * k);
    t->n_gitems += g->n_items;
    g->step = uw_type_pieces(t, g, NULL) > 0 ? UW_G_TYPES : UW_G_DONE;
    return 0;
}

/* The types of g's non-Task items read (b[j] for the j-th): the gathers
 * among them become nodes one level deeper, up to UW_LIMIT_GATHER_NESTING
 * levels (one deeper is not read: t->gather_cut).  Returns 0, or
 * UW_ERR_NOMEM. */
static int uw_types_done(uw_tasks *t, size_t gi, uint8_t *const *b)
{
    size_t k, j = 0;
    int64_t prev = -1;
    int rc;

    for (k = 0; k < uw_node(t, gi)->n_items; k++) {
        uw__gnode *g = uw_node(t, gi);
        uint64_t item = UW__U64(&t->sc.gitems)[g->first_item + k], type;
        int64_t c;
        if (uw_item_is_task(t, g, k))
            continue;
        type = uw__u64(b[j++]);
        if (uw__type_kind(t, type) != UW_KIND_GATHER)
            continue;
        if (g->depth + 1 >= UW_LIMIT_GATHER_NESTING) {
            uw_cut(t, g->task);
            continue;
        }
        if ((rc = uw_node_new(t, g->task, item, type, g->depth + 1, &c)) != 0)
            return rc;
        g = uw_node(t, gi); /* the node view may have moved */
        if (c < 0)
            continue;
        uw_node(t, (size_t)c)->pos = k;
        if (prev < 0)
            g->first_kid_node = c;
        else
            uw_node(t, (size_t)prev)->next_sibling = c;
        uw_node(t, (size_t)c)->next_sibling = -1;
        prev = c;
    }
    uw_node(t, gi)->step = UW_G_DONE;
    return 0;
}

/* The links' scratch memory is sized for the bounds (tasks_int.h): only
 * gathers whose dicts are far larger than a gather's own (garbage read
 * as a dict, in practice) get here.  Every node not finished ends with
 * the items it has (none), cut like a list past a bound: its Task shows
 * the Tasks linked before the cut and counts as awaiting something
 * unknown for the others (rule gather_cut_unsure), and the sample says
 * why (UW_ERR_CAPACITY in tasks_error) and goes on. */
static int uw_nodes_cut(uw_tasks *t)
{
    size_t gi;

    for (gi = 0; gi < t->n_gnode; gi++) {
        uw__gnode *g = uw_node(t, gi);
        if (g->step >= UW_G_DONE)
            continue;
        g->step = UW_G_DONE;
        g->n_items = 0;
        t->work[g->task].gather_cut = 1;
    }
    t->gather_cut = t->deps_cut = 1;
    return 0;
}

/* A round's reads: every node not finished queues its step at piece
 * base of the iov view on, every piece a dependency of the node's Task.
 * *n gets the pieces (0: no node has a step left, or the room ran out and
 * every node was cut), *first_dep the first of their dependencies.
 * Returns 0, or an error of memory. */
static int uw_gather_plan(uw_tasks *t, size_t base, size_t *n_out, size_t *first_dep)
{
    size_t gi, n = 0, bytes = 0, j;
    uw_gpiece p[UW_G_STEP_PIECES];
    int rc;

    *n_out = 0;
    *first_dep = t->n_dep;
    /* pass 1: how much this round reads */
    for (gi = 0; gi < t->n_gnode; gi++) {
        const uw__gnode *g = uw_node(t, gi);
        size_t np = g->step == UW_G_TYPES ? uw_type_pieces(t, g, NULL) : uw_step_pieces(t, g, p);
        if (g->step >= UW_G_DONE)
            continue;
        if (g->step != UW_G_TYPES)
            for (j = 0; j < np; j++)
                bytes += p[j].len;
        else
            bytes += 8 * np;
        n += np;
    }
    if (n == 0)
        return 0;
    if ((rc = uw__deps_reserve(t, t->n_dep + n, t->n_dep_bytes + bytes)) != 0 ||
        (rc = uw__view_reserve(&t->sc.iov, base + n)) != 0)
        return rc == UW_ERR_CAPACITY ? uw_nodes_cut(t) : rc;
    /* pass 2: the pieces, as dependencies, read into the dependency bytes */
    for (gi = 0, n = 0; gi < t->n_gnode; gi++) {
        const uw__gnode *g = uw_node(t, gi);
        size_t np;
        if (g->step >= UW_G_DONE)
            continue;
        if (g->step == UW_G_TYPES) {
            size_t k, m = uw_type_pieces(t, g, NULL);
            for (k = 0, np = 0; k < g->n_items; k++) {
                if (uw_item_is_task(t, g, k))
                    continue;
                uw__dep_add(t, g->task,
                            UW__U64(&t->sc.gitems)[g->first_item + k] + (uint64_t)t->l->object_type,
                            8, 0);
                np++;
            }
            UW_ASSERT(np == m);
        } else {
            np = uw_step_pieces(t, g, p);
            for (j = 0; j < np; j++) /* the keys step's first piece: its keys object */
                uw__dep_add(t, g->task, p[j].addr, p[j].len, g->step == UW_G_KEYS && j == 0);
            uw_node(t, gi)->pieces += np;
            UW_ASSERT(uw_node(t, gi)->pieces <= UW_G_NODE_PIECES);
        }
        for (j = 0; j < np; j++)
            UW__IOV(&t->sc.iov)[base + n + j] = uw__dep_iov(t, t->n_dep - np + j);
        n += np;
    }
    *n_out = n;
    return 0;
}

/* The round planned at piece base, read: each node moves on (new nodes
 * made now start next round).  Returns 0, or an error of memory. */
static int uw_gather_absorb(uw_tasks *t, size_t base, size_t first_dep)
{
    const size_t end = t->n_gnode;
    const uw_iov *iov = UW__IOV(&t->sc.iov) + base;
    size_t gi, d = first_dep, j;
    uw_gpiece p[UW_G_STEP_PIECES];
    int rc;

    for (gi = 0; gi < end; gi++) {
        uw__gnode *g = uw_node(t, gi);
        uint8_t *b[UW_G_STEP_PIECES];
        int ok[UW_G_STEP_PIECES];
        size_t np;
        if (g->step >= UW_G_DONE)
            continue;
        if (g->step == UW_G_TYPES) {
            size_t m = uw_type_pieces(t, g, NULL), k, bad = 0;
            uint8_t **tb;
            if ((rc = uw__view_reserve(&t->sc.gtypes, m)) != 0)
                return rc;
            tb = (uint8_t **)(void *)t->sc.gtypes.p;
            for (k = 0; k < m; k++, d++) {
                tb[k] = uw__dep_bytes(t, d);
                bad |= iov[d - first_dep].status != 0;
            }
            if (bad)
                g->step = UW_G_FAIL;
            else if ((rc = uw_types_done(t, gi, tb)) != 0)
                return rc;
            continue;
        }
        np = uw_step_pieces(t, g, p);
        for (j = 0; j < np; j++, d++) {
            b[j] = uw__dep_bytes(t, d);
            ok[j] = iov[d - first_dep].status == 0;
        }
        if (g->step == UW_G_ITEMS) {
            if (!ok[0])
                g->step = UW_G_FAIL;
            else if ((rc = uw_items_done(t, g, b[0])) != 0)
                return rc;
            continue;
        }
        if ((rc = uw_step_done(t, g, b, ok, np)) != 0)
            return rc;
    }
    return 0;
}

/* Task i's awaited Tasks, in list order, nested gathers flattened in
 * place, from node gi on. */
static int uw_flatten(uw_tasks *t, size_t i, size_t gi, int depth)
{
    const uw__gnode *g = uw_node(t, gi);
    int64_t kid = g->first_kid_node;
    size_t k;
    int rc;

    if (g->step != UW_G_DONE) {
        t->work[i].links_cut = 1;
        return 0;
    }
    for (k = 0; k < g->n_items; k++) {
        int64_t w = uw__task_find(t, UW__U64(&t->sc.gitems)[g->first_item + k]);
        if (w >= 0) {
            if ((rc = uw__kid_add(t, i, (size_t)w)) != 0)
                return rc;
            continue;
        }
        if (kid >= 0 && uw_node(t, (size_t)kid)->pos == k) {
            if (depth + 1 < UW_LIMIT_GATHER_NESTING &&
                (rc = uw_flatten(t, i, (size_t)kid, depth + 1)) != 0)
                return rc;
            g = uw_node(t, gi);
            kid = uw_node(t, (size_t)kid)->next_sibling;
        }
    }
    return 0;
}

/* The waiter types of the Tasks links_todo marks, as dependencies of
 * their Tasks, queued at piece base of the iov view on: *n gets the
 * pieces, *first the first dependency.  With no room (uw_nodes_cut) a
 * waiter that is a Task of the sample needs no piece and what the others
 * await is cut to nothing: then *absorb is 0 and nothing is to be read. */
static int uw_waiters_plan(uw_tasks *t, size_t base, size_t *n_out, size_t *first, int *absorb)
{
    size_t i, n = 0;
    int rc;

    *n_out = 0;
    *first = t->n_dep;
    *absorb = 1;
    for (i = 0; i < t->n_work; i++) {
        const uw_task_work *w = &t->work[i];
        n += w->links_todo && w->waiter != 0 && uw__task_find(t, w->waiter) < 0;
    }
    if ((rc = uw__deps_reserve(t, t->n_dep + n, t->n_dep_bytes + 8 * n)) != 0 ||
        (rc = uw__view_reserve(&t->sc.iov, base + n)) != 0) {
        if (rc != UW_ERR_CAPACITY)
            return rc;
        for (i = 0; i < t->n_work; i++) {
            uw_task_work *w = &t->work[i];
            if (!w->links_todo || w->waiter == 0)
                continue;
            w->waiter_task = uw__task_find(t, w->waiter);
            if (w->waiter_task < 0)
                w->gather_cut = 1;
        }
        t->gather_cut = t->deps_cut = 1;
        *absorb = 0;
        return 0;
    }
    *first = t->n_dep;
    for (i = 0, n = 0; i < t->n_work; i++) {
        const uw_task_work *w = &t->work[i];
        if (!w->links_todo || w->waiter == 0 || uw__task_find(t, w->waiter) >= 0)
            continue;
        uw__dep_add(t, i, w->waiter + (uint64_t)t->l->object_type, 8, 0);
        UW__IOV(&t->sc.iov)[base + n++] = uw__dep_iov(t, t->n_dep - 1);
    }
    *n_out = n;
    return 0;
}

/* The waiter types planned at piece base, read: a Task waiter is a child
 * at once, a gather a node (its rounds follow). */
static int uw_waiters_absorb(uw_tasks *t, size_t base, size_t first)
{
    size_t i, n = 0;
    int rc;

    for (i = 0; i < t->n_work; i++) {
        uw_task_work *w = &t->work[i];
        int64_t k;
        if (!w->links_todo || w->waiter == 0)
            continue;
        k = uw__task_find(t, w->waiter);
        if (k >= 0) {
            w->waiter_task = k;
            continue;
        }
        if (UW__IOV(&t->sc.iov)[base + n].status != 0) {
            w->links_cut = 1;
        } else {
            uint64_t type = uw__u64(uw__dep_bytes(t, first + n));
            if (uw__type_kind(t, type) == UW_KIND_GATHER) {
                if ((rc = uw_node_new(t, i, w->waiter, type, 0, &w->root_node)) != 0)
                    return rc;
                if (w->root_node == -1)
                    w->links_cut = 1; /* past the bound (-2): awaits none read */
            }
        }
        n++;
    }
    return 0;
}

/* A chain level's pieces (three per Task) and a step's (UW_G_STEP_PIECES
 * per node, or an item type each) share the iov view in one read. */
_Static_assert(3 * (size_t)UW_LIMIT_TASKS + UW_G_STEP_PIECES * (size_t)UW_GATHER_NODES_MAX +
                       (size_t)UW_LIMIT_GATHER_ITEMS <=
                   UW_DEP_PIECES_MAX,
               "the iov view holds a chain level and a step of what Tasks await together");

/* Rounds of one reading of what Tasks await: each nesting level takes at
 * most 7 steps (and a relocation 7 more). */
#define UW_G_ROUNDS_MAX (14 * (UW_LIMIT_GATHER_NESTING + 1))

void uw__awaiting_begin(uw_tasks *t)
{
    size_t i;

    for (i = 0; i < t->n_work; i++) {
        uw_task_work *w = &t->work[i];
        if (!w->links_todo)
            continue;
        w->root_node = -1;
        w->waiter_task = -1;
        w->links_cut = 0;
        w->gather_cut = 0;
    }
    t->aw_stage = UW_AW_WAITERS;
    t->aw_rounds = 0;
}

/* The next step of what Tasks await (the waiters' types, then a gather
 * round), its pieces queued at piece base of the iov view on.  *n: its
 * pieces; *mark and *absorb for uw_aw_absorb. */
static int uw_aw_plan(uw_tasks *t, size_t base, size_t *n, size_t *mark, int *absorb)
{
    *n = 0;
    *mark = 0;
    *absorb = 0;
    if (t->aw_stage == UW_AW_WAITERS)
        return uw_waiters_plan(t, base, n, mark, absorb);
    if (t->aw_stage == UW_AW_ROUNDS && t->aw_rounds < UW_G_ROUNDS_MAX) {
        int rc = uw_gather_plan(t, base, n, mark);
        *absorb = *n > 0;
        return rc;
    }
    return 0;
}

/* The step planned by uw_aw_plan, read: the stage moves on. */
static int uw_aw_absorb(uw_tasks *t, size_t base, size_t mark, int absorb)
{
    if (t->aw_stage == UW_AW_WAITERS) {
        t->aw_stage = UW_AW_ROUNDS;
        return absorb ? uw_waiters_absorb(t, base, mark) : 0;
    }
    if (t->aw_stage == UW_AW_ROUNDS) {
        if (!absorb) {
            t->aw_stage = UW_AW_DONE; /* no node read: every one is done */
            return 0;
        }
        t->aw_rounds++;
        return uw_gather_absorb(t, base, mark);
    }
    return 0;
}

int uw__aw_readv(uw_tasks *t, size_t first, size_t n)
{
    size_t g, mark;
    int absorb, rc;

    if (t->aw_stage == UW_AW_DONE || t->aw_stage == UW_AW_OFF) {
        if (n > 0)
            (void)uw_readv(t->r, UW__IOV(&t->sc.iov) + first, n);
        return 0;
    }
    if ((rc = uw_aw_plan(t, first + n, &g, &mark, &absorb)) != 0)
        return rc;
    if (n + g > 0)
        (void)uw_readv(t->r, UW__IOV(&t->sc.iov) + first, n + g);
    return uw_aw_absorb(t, first + n, mark, absorb);
}

int uw__awaiting_end(uw_tasks *t)
{
    size_t i;
    int rc = 0;

    while (t->aw_stage == UW_AW_WAITERS || t->aw_stage == UW_AW_ROUNDS) {
        if (t->aw_stage == UW_AW_ROUNDS && t->aw_rounds >= UW_G_ROUNDS_MAX)
            break;
        if ((rc = uw__aw_readv(t, 0, 0)) != 0)
            return rc;
    }
    t->aw_stage = UW_AW_OFF;
    for (i = 0; i < t->n_work; i++) {
        uw_task_work *w = &t->work[i];
        if (!w->links_todo)
            continue;
        w->links_todo = 0;
        w->first_kid = t->n_kid;
        w->n_kid = 0;
        if (w->waiter_task >= 0)
            rc = uw__kid_add(t, i, (size_t)w->waiter_task);
        else if (w->root_node >= 0)
            rc = uw_flatten(t, i, (size_t)w->root_node, 0);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int uw__read_awaiting(uw_tasks *t)
{
    uw__awaiting_begin(t);
    return uw__awaiting_end(t);
}
