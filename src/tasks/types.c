/*
 * types.c — what kind of object a type makes: a Task, a gather future, a
 * Future, or something else; and the three kinds of object a done
 * callback that no awaiter adds is made of (callbacks.c): a Python
 * function, a builtin method, a set (or a subclass).
 *
 * A Task is trusted only when its type, or a base type, has tp_name
 * "_asyncio.Task"; a gather future is asyncio's _GatheringFuture, a Python
 * subclass of "_asyncio.Future".  Verdicts are cached by type address
 * (UW_TYPE_CACHE types; a type read when the cache is full is asked again
 * next time), and an unreadable type is not cached: it may be a type being
 * made.  Within one sample an unreadable one is not asked again (the last
 * UW_TYPE_BAD kept): a busy 3.14 program frees a Future that Tasks wait on
 * and makes a generator in its block between the Task's read and the
 * waiter's, so the "type" of a hundred waiters a sample was the same
 * string, each asked for its name in three reads.  Bound:
 * UW_LIMIT_TYPE_BASES base classes followed.
 */
#include <string.h>

#include "internal/pyobj.h"
#include "tasks_int.h"
#include "tornstack/error.h"

_Static_assert(UW_LIMIT_TYPE_BASES >= 2,
               "a gather future's type is two types from _asyncio.Future");

/* The type's tp_name, then its bases' (tp_base), up to
 * UW_LIMIT_TYPE_BASES: "_asyncio.Task" makes a Task; "_asyncio.Future"
 * a Future, or a gather future when the type itself is
 * "_GatheringFuture". */
int uw__type_kind(uw_tasks *t, uint64_t type)
{
    char name[64];
    uint64_t cur = type;
    int kind = UW_KIND_OTHER, first = 1, is_gather = 0;
    size_t i;

    if (type == 0)
        return UW_KIND_OTHER;
    for (i = 0; i < t->n_types; i++)
        if (t->types[i].type == type)
            return t->types[i].kind;
    for (i = 0; i < t->n_bad_types && i < UW_TYPE_BAD; i++)
        if (t->bad_types[i] == type)
            return UW_KIND_OTHER;
    for (i = 0; i < UW_LIMIT_TYPE_BASES && cur != 0; i++) {
        if (uw__type_name(&t->pc, cur, name, sizeof name) != 0) {
            /* unreadable: not cached, asked again next sample */
            t->bad_types[t->n_bad_types++ % UW_TYPE_BAD] = type;
            return UW_KIND_OTHER;
        }
        if (strcmp(name, "uvloop.loop.Loop") == 0) {
            kind = UW_KIND_CLOOP;
            break;
        }
        if (strcmp(name, "_asyncio.Task") == 0) {
            kind = UW_KIND_TASK;
            break;
        }
        if (first && strcmp(name, "_GatheringFuture") == 0)
            is_gather = 1;
        if (first && strcmp(name, "function") == 0) {
            kind = UW_KIND_FUNCTION;
            break;
        }
        if (first && strcmp(name, "builtin_function_or_method") == 0) {
            kind = UW_KIND_CFUNC;
            break;
        }
        if (strcmp(name, "set") == 0) {
            kind = UW_KIND_SET;
            break;
        }
        if (strcmp(name, "_asyncio.Future") == 0) {
            kind = is_gather ? UW_KIND_GATHER : UW_KIND_FUTURE;
            break;
        }
        first = 0;
        if (uw_read_u64(t->r, cur + (uint64_t)t->l->type_base, &cur) != 0)
            break;
    }
    if (t->n_types < UW_TYPE_CACHE) {
        memset(&t->types[t->n_types], 0, sizeof t->types[0]);
        t->types[t->n_types].type = type;
        t->types[t->n_types].kind = kind;
        t->n_types++;
    }
    return kind;
}

/* The cached verdict of a type, NULL if none. */
static uw_type_verdict *uw_verdict(uw_tasks *t, uint64_t type)
{
    size_t i;

    for (i = 0; i < t->n_types; i++)
        if (t->types[i].type == type)
            return &t->types[i];
    return NULL;
}

/* Where a gather type keeps `_children`: located once on an instance
 * (pyobj.c, a few reads) and kept with the type's verdict; a type that is
 * not cached (the cache was full) is located every time. */
int uw__type_gather_loc(uw_tasks *t, uint64_t type, uint64_t obj, uw_attr_loc *loc)
{
    uw_type_verdict *v = uw_verdict(t, type);
    uint64_t unused;
    int rc;

    if (v != NULL && v->has_loc) {
        *loc = v->loc;
        return 0;
    }
    rc = uw__attr_locate(&t->pc, obj, "_children", loc, &unused);
    if (rc != 0 || loc->type != type)
        return rc != 0 ? rc : UW_ERR_BAD_OBJECT;
    if (v != NULL) {
        v->loc = *loc;
        v->has_loc = 1;
    }
    return 0;
}

void uw__type_forget_loc(uw_tasks *t, uint64_t type)
{
    uw_type_verdict *v = uw_verdict(t, type);

    if (v != NULL)
        v->has_loc = 0;
}
