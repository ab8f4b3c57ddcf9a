/*
 * registry.c — where an interpreter's asyncio keeps its Tasks.
 *
 * The Tasks are looked up through sys.modules["asyncio.tasks"]: 3.11's
 * _all_tasks, 3.12/3.13's _scheduled_tasks (a WeakSet whose `data`
 * attribute is a set of weakrefs), plus 3.12+'s _eager_tasks (a plain
 * set).  The optional hook module's link buffer is found the same way
 * (sys.modules["tornstack_hook"]._LINKS), and before 3.14 the main Task's
 * done callback, asyncio.base_events._run_until_complete_cb (callbacks.c).
 * Addresses are cached per interpreter (UW_REGISTRY_CACHE interpreters, the
 * least recently used giving way to a new one); a
 * registry not found is looked for again after UW_REGISTRY_RETRY samples,
 * and one that stops reading as a set is looked for again at once
 * (discover.c).
 */
#include <string.h>

#include "internal/pyobj.h"
#include "tasks_int.h"
#include "tornstack/error.h"

/* A dict lookup that tells "absent" (whatever the target holds) from
 * running out of memory, which *nomem records, and from a dict over
 * UW_LIMIT_DICT_ENTRIES, which g->bound records. */
static int uw_lookup(uw_tasks *t, uw_registry *g, uint64_t dict, const char *key, uint64_t *v,
                     int *nomem)
{
    int rc = uw__dict_get_str(&t->pc, dict, key, v);

    *nomem |= rc == UW_ERR_NOMEM;
    if (rc == UW_ERR_LIMIT_DICT && g->bound == 0)
        g->bound = rc;
    return rc;
}

/* Search sys.modules of interp for the hook buffer and the registries.
 * 0 (g->found says whether they were, g->bound which bound hid them), or
 * UW_ERR_NOMEM: then nothing is known and the next sample searches again
 * (a failed allocation is not an absent registry). */
static int uw_registry_search(uw_tasks *t, uw_registry *g, uint64_t interp)
{
    uint64_t modules, mod, mdict, obj;
    int nomem = 0, rc;

    memset(g, 0, sizeof *g);
    g->interp = interp;
    g->retry = UW_REGISTRY_RETRY;
    if (uw_read_u64(t->r, interp + (uint64_t)t->l->interp_modules, &modules) != 0)
        return 0;
    if (uw_lookup(t, g, modules, "tornstack_hook", &mod, &nomem) == 0 &&
        uw_read_u64(t->r, mod + (uint64_t)t->l->module_dict, &mdict) == 0 &&
        uw_lookup(t, g, mdict, "_LINKS", &obj, &nomem) == 0)
        g->hook = obj;
    if (uw_lookup(t, g, modules, "asyncio.tasks", &mod, &nomem) == 0 &&
        uw_read_u64(t->r, mod + (uint64_t)t->l->module_dict, &mdict) == 0) {
        if (uw_lookup(t, g, mdict, t->al->scheduled_tasks, &obj, &nomem) == 0) {
            rc = uw__obj_getattr(&t->pc, obj, "data", &g->scheduled);
            nomem |= rc == UW_ERR_NOMEM;
            g->found = rc == 0;
        }
        if (t->al->eager_tasks != NULL &&
            uw_lookup(t, g, mdict, t->al->eager_tasks, &obj, &nomem) == 0)
            g->eager = obj;
    }
    /* before 3.14: the main Task's done callback (callbacks.c) */
    if (t->al->fut_awaited_by < 0 &&
        uw_lookup(t, g, modules, "asyncio.base_events", &mod, &nomem) == 0 &&
        uw_read_u64(t->r, mod + (uint64_t)t->l->module_dict, &mdict) == 0)
        nomem |= uw__callbacks_find_ruc(t, g, mdict) == UW_ERR_NOMEM;
    /* before 3.14: the stream server's per-connection callback (callbacks.c) */
    if (t->al->fut_awaited_by < 0 &&
        uw_lookup(t, g, modules, "asyncio.streams", &mod, &nomem) == 0 &&
        uw_read_u64(t->r, mod + (uint64_t)t->l->module_dict, &mdict) == 0)
        nomem |= uw__callbacks_find_stream(t, g, mdict) == UW_ERR_NOMEM;
    if (!nomem)
        return 0;
    memset(g, 0, sizeof *g);
    g->interp = interp;
    return UW_ERR_NOMEM;
}

/* A new interpreter is searched at once; a known one only when forced
 * or, if not found, every UW_REGISTRY_RETRY samples.  When the cache is
 * full, a new interpreter takes the place of the one least recently asked
 * for among those this sample has not asked for (interpreters come and
 * go: a program that makes and ends one per job would otherwise have its
 * Tasks unread from the ninth on); NULL when this very sample asks for
 * more than UW_REGISTRY_CACHE (the caller says registry_limit). */
uw_registry *uw__registry_for(uw_tasks *t, uint64_t interp, int force, int *rc)
{
    uw_registry *g = NULL;
    size_t i;

    *rc = 0;
    for (i = 0; i < t->n_reg; i++)
        if (t->reg[i].interp == interp)
            g = &t->reg[i];
    if (g == NULL) {
        if (t->n_reg < UW_REGISTRY_CACHE) {
            g = &t->reg[t->n_reg++];
        } else {
            for (i = 0; i < t->n_reg; i++)
                if (t->reg[i].used != t->reg_clock && (g == NULL || t->reg[i].used < g->used))
                    g = &t->reg[i];
            if (g == NULL)
                return NULL;
        }
        memset(g, 0, sizeof *g);
        g->interp = interp;
        force = 1;
    }
    g->used = t->reg_clock;
    if (!force && (g->found || g->retry-- > 0))
        return g;
    *rc = uw_registry_search(t, g, interp);
    g->used = t->reg_clock; /* the search starts the entry afresh */
    return *rc == 0 ? g : NULL;
}
