/*
 * callbacks.c — done callbacks that no awaiter adds.
 *
 * Before 3.14 nothing in a Task names who awaits it; what does is a done
 * callback: awaiting a Task adds the awaiter's wakeup, gathering it the
 * gather's `_done_callback`, joining it to a TaskGroup the group's
 * `_on_task_done`, each before the awaiter suspends, and none goes before
 * the Task is done.  So a Task with no callback is awaited by nothing
 * (edges.c, rule unawaited_no_callbacks), and one with a callback, while
 * another Task of its loop awaits something not read, is skipped
 * (awaiter_unknown): it could be what that Task awaits.
 *
 * Three callbacks are common on Tasks nothing awaits, and no awaiter adds
 * any of them:
 *   - asyncio.run's main Task holds run_until_complete's
 *     `_run_until_complete_cb`, a function of asyncio/base_events.py.
 *     Without this file, as soon as one Task of a busy loop read torn,
 *     the main Task was skipped, and with it every stack under it: on the
 *     busy program (3.13.0, 300 samples of some 530 Tasks) `record` wrote
 *     one stack in three seconds;
 *   - a fire-and-forget Task kept alive in a set holds that set's
 *     `discard` (the pattern asyncio's documentation gives): a builtin
 *     method whose object is a set.  An awaiter's wakeup is a builtin
 *     method too (3.12+), but its object is the awaiting Task.
 *   - a connection's Task of asyncio's stream server (start_server) holds
 *     a closure StreamReaderProtocol.connection_made makes for it, which
 *     closes the transport when the Task failed: a function whose code is
 *     that method's constant code object named `callback`.  Without it,
 *     on an echo server under load (3.11/3.12, 17 Tasks), two thirds of
 *     the Task readings skipped were awaiter_unknown.
 * A Task whose only callback (fut_callback0 set, fut_callbacks NULL) is
 * one of these counts as one with none.
 *
 * How it is known, from fut_callback0 as discovery read it:
 *   - the function: it is the object sys.modules["asyncio.base_events"]
 *     held under that name when the registry was searched (registry.c),
 *     of type `function` then; that type and its code pointer are kept;
 *   - the closure: its code is the one the registry found in
 *     sys.modules["asyncio.streams"] (StreamReaderProtocol's
 *     connection_made, its constants), read with the method's candidates;
 *   - the method: one read of every other candidate's type up to m_self
 *     (or func_code, whichever lies further), then one of each m_self's
 *     type: a `builtin_function_or_method` whose object is a `set` (or a
 *     subclass; types.c).
 * The check reads it all again, twice, with the Task's span (check.c,
 * pieces UW_CK_CALLBACK): the callback counts only when both copies of
 * the span hold it as fut_callback0 with fut_callbacks NULL, and both
 * copies of the callable (and of its set's type) read as decided (rule
 * callback_checked).  A callable removed and freed, another made at its
 * address (an awaiter's wakeup, a gather's callback), reads otherwise.
 * Nothing else is asked of the epoch: as for unawaited_no_callbacks, an
 * awaiter adds its callback before it suspends and it stays until the
 * Task is done, so a list still NULL in copy B was NULL at copy A.
 *
 * Bounds: one piece per Task of the sample in each of the two reads
 * (UW_LIMIT_TASKS); the types' verdicts are cached (types.c).
 */
#include <string.h>

#include "internal/pyobj.h"
#include "tasks_int.h"
#include "tornstack/error.h"

/* The function's type and code, read where it was found: kept only when
 * the type makes a function. */
int uw__callbacks_find_ruc(uw_tasks *t, uw_registry *g, uint64_t mdict)
{
    const uw_layout *l = t->l;
    uint64_t fn, type, code;
    int rc = uw__dict_get_str(&t->pc, mdict, "_run_until_complete_cb", &fn);

    if (rc != 0)
        return rc == UW_ERR_NOMEM ? rc : 0;
    if (uw_read_u64(t->r, fn + (uint64_t)l->object_type, &type) != 0 ||
        uw_read_u64(t->r, fn + (uint64_t)l->func_code, &code) != 0 || code == 0 ||
        uw__type_kind(t, type) != UW_KIND_FUNCTION)
        return 0;
    g->ruc_fn = fn;
    g->ruc_type = type;
    g->ruc_code = code;
    return 0;
}

/* Constants of connection_made's code looked at, at most. */
#define UW_STREAM_CONSTS_MAX 32

int uw__callbacks_find_stream(uw_tasks *t, uw_registry *g, uint64_t mdict)
{
    const uw_layout *l = t->l;
    uint64_t cls, tdict, fn, type, code, code_type, consts, items[UW_STREAM_CONSTS_MAX], item_type;
    int rc = uw__dict_get_str(&t->pc, mdict, "StreamReaderProtocol", &cls);
    size_t i, n;

    if (rc == 0 && (rc = uw_read_u64(t->r, cls + (uint64_t)l->type_dict, &tdict)) == 0)
        rc = uw__dict_get_str(&t->pc, tdict, "connection_made", &fn);
    if (rc != 0)
        return rc == UW_ERR_NOMEM ? rc : 0;
    if (uw_read_u64(t->r, fn + (uint64_t)l->object_type, &type) != 0 ||
        uw__type_kind(t, type) != UW_KIND_FUNCTION ||
        uw_read_u64(t->r, fn + (uint64_t)l->func_code, &code) != 0 || code == 0 ||
        uw_read_u64(t->r, code + (uint64_t)l->object_type, &code_type) != 0 ||
        uw_read_u64(t->r, code + (uint64_t)l->code_consts, &consts) != 0 || consts == 0)
        return 0;
    rc = uw__tuple_items(&t->pc, consts, items, UW_STREAM_CONSTS_MAX, &n);
    if (rc != 0 && rc != UW_ERR_CAPACITY) /* past the bound: the first ones */
        return 0;
    for (i = 0; i < n; i++) {
        const uint64_t item = items[i];
        uint64_t name;
        if (item == 0 || uw_read_u64(t->r, item + (uint64_t)l->object_type, &item_type) != 0 ||
            item_type != code_type || uw_read_u64(t->r, item + (uint64_t)l->code_name, &name) != 0)
            continue;
        rc = uw__str_equals(&t->pc, name, "callback");
        if (rc == UW_ERR_NOMEM)
            return rc;
        if (rc == 1) {
            g->stream_cb_code = item;
            return 0;
        }
    }
    return 0;
}

/* The registry of Task w's interpreter, if searched (no search here). */
static const uw_registry *uw_registry_of(const uw_tasks *t, const uw_sample *s,
                                         const uw_task_work *w)
{
    size_t i;

    for (i = 0; i < t->n_reg; i++)
        if (t->reg[i].interp == s->threads[w->thread].interp)
            return &t->reg[i];
    return NULL;
}

/* Is w a candidate: one callback, a pointer, and no verdict on it yet?
 * A Task skipped when it was placed (the running Task whose frames the
 * sample could not keep, or one that read as resumed off the stack) is
 * one too: recovery reads it again as a suspended Task (recover.c), and
 * keeps it only if nothing can have come to await it unseen, which a
 * verdict on its callback tells.  Without one, on an echo server under
 * load (3.13.0, a run of 6 s), such a Task read again was dropped
 * whenever another Task had moved on to a new Future meanwhile: 46 of
 * the 105 Task readings still skipped (unit_tasks
 * test_recover_running_with_callback). */
static int uw_one_callback(const uw_task_work *w)
{
    return (w->skipped == 0 || w->skipped == UW_SKIP_STALE_PLACE ||
            w->skipped == UW_SKIP_RUNNING_TORN || w->skipped == UW_SKIP_NOT_ON_STACK) &&
           w->cb0 != 0 && w->cbs == 0;
}

/* The other candidates: the callable's type up to m_self or func_code,
 * whichever lies further (one read); a function of the stream server's
 * callback code is known then; each builtin method bound to a set has its
 * set's type read (one more read). */
static int uw_methods(uw_tasks *t, const uw_sample *s, size_t *who, size_t n)
{
    const uw_layout *l = t->l;
    const int32_t last = l->cfunc_self > l->func_code ? l->cfunc_self : l->func_code;
    const size_t len = (size_t)(last - l->object_type) + 8;
    const size_t at_self = (size_t)(l->cfunc_self - l->object_type);
    const size_t at_code = (size_t)(l->func_code - l->object_type);
    uw_iov *iov;
    size_t i, m = 0;
    int rc;

    if ((rc = uw__view_reserve(&t->sc.iov, n)) != 0 ||
        (rc = uw__view_reserve(&t->sc.bytes, n * len)) != 0)
        return rc;
    iov = UW__IOV(&t->sc.iov);
    for (i = 0; i < n; i++)
        iov[i] = (uw_iov){t->work[who[i]].cb0 + (uint64_t)l->object_type, t->sc.bytes.p + i * len,
                          len, 0};
    (void)uw_readv(t->r, iov, n);
    for (i = 0; i < n; i++) {
        const uint8_t *p = t->sc.bytes.p + i * len;
        uw_task_work *w = &t->work[who[i]];
        const uw_registry *g = uw_registry_of(t, s, w);
        int kind;
        if (iov[i].status != 0)
            continue;
        kind = uw__type_kind(t, uw__u64(p));
        if (kind == UW_KIND_FUNCTION && g != NULL && g->stream_cb_code != 0 &&
            uw__u64(p + at_code) == g->stream_cb_code) {
            w->cb_kind = UW_CB_STREAM_CLOSE;
            w->cb_type = uw__u64(p);
            w->cb_word = g->stream_cb_code;
            w->cb_len = at_code + 8;
            continue;
        }
        if (kind != UW_KIND_CFUNC || uw__u64(p + at_self) == 0)
            continue;
        w->cb_type = uw__u64(p);
        w->cb_word = uw__u64(p + at_self);
        w->cb_len = at_self + 8;
        who[m++] = who[i];
    }
    if (m == 0)
        return 0;
    for (i = 0; i < m; i++)
        iov[i] = (uw_iov){t->work[who[i]].cb_word + (uint64_t)l->object_type, t->sc.bytes.p + 8 * i,
                          8, 0};
    (void)uw_readv(t->r, iov, m);
    for (i = 0; i < m; i++) {
        uw_task_work *w = &t->work[who[i]];
        if (iov[i].status != 0 || uw__type_kind(t, uw__u64(t->sc.bytes.p + 8 * i)) != UW_KIND_SET)
            continue;
        w->cb_set_type = uw__u64(t->sc.bytes.p + 8 * i);
        w->cb_kind = UW_CB_SET_METHOD;
    }
    return 0;
}

/* Every Task's cb_kind, before the check.  A callback that is the
 * registry's _run_until_complete_cb needs no read here: what the registry
 * found is what the check reads again.  A Task that another Task's links,
 * as read, await has its callback read by nobody: the verdict matters only
 * to a Task nothing awaits (edges.c), and one awaited at the check is
 * not skipped so anyway (on the busy program, some 400 gathered Tasks a
 * sample whose callback is a gather's). */
int uw__callbacks_read(uw_tasks *t, const uw_sample *s)
{
    const uw_layout *l = t->l;
    size_t i, n = 0, *who, *awaited;
    int rc;

    for (i = 0; i < t->n_work; i++) {
        t->work[i].cb_kind = UW_CB_NONE;
        t->work[i].cb_harmless = 0;
    }
    if (t->al->fut_awaited_by >= 0)
        return 0; /* 3.14+: awaited_by names the awaiters (awaited_by.c) */
    if ((rc = uw__view_reserve(&t->sc.idx, 2 * t->n_work)) != 0)
        return rc;
    who = UW__SIZE(&t->sc.idx);
    awaited = who + t->n_work;
    memset(awaited, 0, t->n_work * sizeof *awaited);
    for (i = 0; i < t->n_kid; i++)
        awaited[UW__SIZE(&t->sc.kids)[i]] = 1;
    for (i = 0; i < t->n_work; i++) {
        int64_t k = t->work[i].waiter != 0 ? uw__task_find(t, t->work[i].waiter) : -1;
        if (k >= 0)
            awaited[k] = 1;
    }
    for (i = 0; i < t->n_work; i++) {
        uw_task_work *w = &t->work[i];
        const uw_registry *g;
        if (!uw_one_callback(w) || awaited[i])
            continue;
        g = uw_registry_of(t, s, w);
        if (g != NULL && g->ruc_fn != 0 && w->cb0 == g->ruc_fn) {
            w->cb_kind = UW_CB_RUN_UNTIL_COMPLETE;
            w->cb_type = g->ruc_type;
            w->cb_word = g->ruc_code;
            w->cb_len = (size_t)(l->func_code - l->object_type) + 8;
        } else {
            who[n++] = i;
        }
    }
    return n > 0 ? uw_methods(t, s, who, n) : 0;
}
