/*
 * tasks.c — the Task walk's object: creation against one thread walk,
 * options, root, and the hooks it installs there.
 *
 * Creation checks the target's layouts against every buffer the Task walk
 * reads into (layout_check.c) and allocates nothing per Task yet: the
 * scratch views grow with the samples (scratch.c).  It installs, on the
 * thread walk, the loop epoch as each thread's bracket, the Handle._run
 * split as its stable frame, and the Handle._run classifier on its code
 * cache; uw_tasks_free takes the hooks back.
 */
#include <stdlib.h>
#include <string.h>

#include "internal/layout_check.h"
#include "tasks_int.h"
#include "tornstack/error.h"

void uw_task_options_default(uw_task_options *o)
{
    o->task_depth = 1;
    o->split = 1;
    o->skip = 1;
    o->recover = UW_RECOVER_ROUNDS;
}

/* Refused for a version without an asyncio table
 * (UW_ERR_UNSUPPORTED_VERSION) or a layout that does not fit the Task
 * walk's windows (UW_ERR_BAD_LAYOUT). */
int uw_tasks_new(uw_unwinder *u, uw_tasks **out)
{
    const uw__task_windows windows = {UW_CORO_WINDOW, UW_NAME_WINDOW, UW_WEAKREF_WINDOW,
                                      UW_HOOK_HEADER, UW_CALLABLE_PIECE};
    const uw_asyncio_layout *al;
    const uw_target *tg;
    uw__walk_hooks hooks;
    uw_tasks *t;
    int rc;

    if (u == NULL || out == NULL)
        return UW_ERR_INVALID_ARG;
    *out = NULL;
    tg = uw__unwinder_target(u);
    al = uw__asyncio_layout_for_minor(tg->layout->py_minor);
    if (al == NULL)
        return UW_ERR_UNSUPPORTED_VERSION;
    rc = uw__layout_check_task_walk(tg->layout, al, &windows);
    if (rc != 0)
        return rc;
    t = calloc(1, sizeof *t);
    if (t == NULL)
        return UW_ERR_NOMEM;
    t->u = u;
    t->r = uw__unwinder_reader(u);
    t->t = tg;
    t->l = tg->layout;
    t->al = al;
    t->pc = (uw_pyctx){t->r, t->l, &tg->types};
    uw_task_options_default(&t->opt);
    uw__scratch_init(&t->sc, t->l, al);
    uw__lists_init(&t->ls);
    uw_sample_init(&t->again);
    hooks = (uw__walk_hooks){t, uw__epoch_bracket, uw__split_stable_from, uw__split_code_role};
    uw__unwinder_set_hooks(u, &hooks);
    uw__code_cache_set_classifier(uw_unwinder_cache(u), uw__split_classify);
    *out = t;
    return 0;
}

/* The classifier stays: it is a plain function, and entries it marked may
 * still be in use by a sample. */
void uw_tasks_free(uw_tasks *t)
{
    if (t == NULL)
        return;
    uw__unwinder_set_hooks(t->u, NULL);
    free(t->links);
    free(t->link_slot);
    uw__scratch_free(&t->sc);
    uw__lists_free(&t->ls);
    uw__set_guess_free(&t->reg_guess[0]);
    uw__set_guess_free(&t->reg_guess[1]);
    uw_sample_free(&t->again);
    uw__snap_free(t);
    uw__resume_free(t);
    free(t);
}

void uw_tasks_set_options(uw_tasks *t, const uw_task_options *o)
{
    if (t != NULL && o != NULL)
        t->opt = *o;
}

void uw_tasks_set_root(uw_tasks *t, uint64_t registry_set)
{
    if (t != NULL)
        t->root = registry_set;
}
