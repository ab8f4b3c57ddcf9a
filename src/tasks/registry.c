/*
 * registry.c — where an interpreter's asyncio keeps its Tasks.
 *
 * The Tasks are looked up through sys.modules["asyncio.tasks"]: 3.11's
 * _all_tasks, 3.12/3.13's _scheduled_tasks (a WeakSet whose `data`
 * attribute is a set of weakrefs), plus 3.12+'s _eager_tasks (a plain
 * set).  The optional hook module's link buffer is found the same way
 * (sys.modules["tornstack_hook"]._LINKS).  Addresses are cached per
 * interpreter (UW_REGISTRY_CACHE interpreters); a registry not found is
 * looked for again after UW_REGISTRY_RETRY samples, and one that stops
 * reading as a set is looked for again at once (discover.c).
 */
#include <string.h>

#include "internal/pyobj.h"
#include "tasks_int.h"

/* Search sys.modules of interp for the hook buffer and the registries. */
static void uw_registry_search(uw_tasks *t, uw_registry *g, uint64_t interp)
{
    uint64_t modules, mod, mdict, obj;

    memset(g, 0, sizeof *g);
    g->interp = interp;
    g->retry = UW_REGISTRY_RETRY;
    if (uw_read_u64(t->r, interp + (uint64_t)t->l->interp_modules, &modules) != 0)
        return;
    if (uw__dict_get_str(&t->pc, modules, "tornstack_hook", &mod) == 0 &&
        uw_read_u64(t->r, mod + (uint64_t)t->l->module_dict, &mdict) == 0 &&
        uw__dict_get_str(&t->pc, mdict, "_LINKS", &obj) == 0)
        g->hook = obj;
    if (uw__dict_get_str(&t->pc, modules, "asyncio.tasks", &mod) != 0 ||
        uw_read_u64(t->r, mod + (uint64_t)t->l->module_dict, &mdict) != 0)
        return;
    if (uw__dict_get_str(&t->pc, mdict, t->al->scheduled_tasks, &obj) == 0 &&
        uw__obj_getattr(&t->pc, obj, "data", &g->scheduled) == 0)
        g->found = 1;
    if (t->al->eager_tasks != NULL &&
        uw__dict_get_str(&t->pc, mdict, t->al->eager_tasks, &obj) == 0)
        g->eager = obj;
}

/* A new interpreter is searched at once (when the cache has room); a
 * known one only when forced or, if not found, every UW_REGISTRY_RETRY
 * samples. */
uw_registry *uw__registry_for(uw_tasks *t, uint64_t interp, int force)
{
    uw_registry *g = NULL;
    size_t i;

    for (i = 0; i < t->n_reg; i++)
        if (t->reg[i].interp == interp)
            g = &t->reg[i];
    if (g == NULL) {
        if (t->n_reg == UW_REGISTRY_CACHE)
            return NULL;
        g = &t->reg[t->n_reg++];
        memset(g, 0, sizeof *g);
        g->interp = interp;
        force = 1;
    }
    if (!force && (g->found || g->retry-- > 0))
        return g;
    uw_registry_search(t, g, interp);
    return g;
}
