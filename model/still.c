/*
 * still.c — a still process from a description (see still.h).
 *
 * Method.  A description is parsed into loop frames, Tasks and link
 * records (mm_still_parse), laid out in a fresh model address space as the
 * version's CPython would lay them out (mm_still_sample, through
 * fabricate.c), sampled once by the unchanged unwinder through a plain
 * reader (nothing moves), and printed as the CLI's JSON (mm_still_dump).
 *
 * Each frame gets its own code object whose first line is the frame's line
 * (so code unit 0 is on that line); Task coroutines are suspended at
 * unit 0, each awaiting the next one inward, the innermost awaiting a
 * Future, the Task named by `await`, or, with several `await` lines, a
 * gather future (an asyncio `_GatheringFuture`: a Future subclass whose
 * instance dict holds `_children`, a list of those Tasks).
 *
 * From 3.14 the Tasks are linked into the thread's list of native Tasks
 * in the order described (each with task_is_task set, none in the
 * WeakSet), the Future, gather future or Task each awaits records it in
 * its awaited_by (a Task's from the description's `awaited_by` records:
 * one Task, or a set of them with the set flag), the innermost running
 * Task is the thread state's running Task, coroutines keep `stackpointer`
 * (3.15: a NULL reference above the awaitee), and the loop thread's first
 * frame sits on its entry frame (fabricate.c).
 *
 * Objects are allocated in a fixed order (loop, registry table, Task
 * objects, then each Task's waiter, coroutines, name and weakref, then the
 * hook records), so a description always gives the same addresses.
 */
#define _POSIX_C_SOURCE 200809L /* strdup */
#include "still.h"

#include <stdlib.h>
#include <string.h>

#include "tornstack/error.h"
#include "tornstack/output.h"

/* The registry set's table when the fabricated one (MM_REGISTRY_SLOTS) is
 * more than half full: at least this many slots, doubled until the Tasks
 * fill at most half, as a set grows. */
#define MM_STILL_SLOTS 2048

typedef struct mm_sframe {
    char *qualname, *file;
    int line;
} mm_sframe;

typedef struct mm_stask {
    char *id, *name;
    int root;        /* running: its root coroutine is loop frame `root`, else -1 */
    uint64_t coro;   /* running: that coroutine object */
    char **await_id; /* grown as `await` lines come */
    int n_await, cap_await;
    char **ab_id; /* 3.14+: its awaiters in memory (`awaited_by` lines) */
    int n_ab, cap_ab;
    mm_sframe *f; /* coroutines, innermost first; grown as `frame` lines come */
    int n, cap;
    uint64_t obj;
} mm_stask;

struct mm_still {
    mm_sframe loop[MM_STILL_FRAMES];
    int n_loop;
    mm_stask *tasks; /* grown as `task` lines come, at most MM_STILL_TASKS */
    int n_tasks, cap_tasks;
    char *link_id[MM_STILL_LINKS][2];
    int link_kind[MM_STILL_LINKS];
    int n_links;
    char *doctor_word[MM_STILL_DOCTOR];
    uint64_t doctor_value[MM_STILL_DOCTOR];
    int n_doctor;
};

/* --- parse ----------------------------------------------------------------- */

static char *mm_field(char **p)
{
    char *s = *p, *t;
    if (s == NULL)
        return NULL;
    t = strchr(s, '\t');
    if (t != NULL) {
        *t = '\0';
        *p = t + 1;
    } else {
        *p = NULL;
    }
    return s;
}

static int mm_still_frame(char *rest, mm_sframe *f)
{
    char *q = mm_field(&rest), *file = mm_field(&rest), *line = mm_field(&rest);
    if (q == NULL || file == NULL || line == NULL)
        return UW_ERR_FORMAT;
    f->qualname = strdup(q);
    f->file = strdup(file);
    f->line = atoi(line);
    return f->qualname && f->file ? 0 : UW_ERR_NOMEM;
}

/* Room for one more element of a growing array (doubling from `first`). */
static int mm_still_grow(void **arr, int n, int *cap, size_t elem, int first)
{
    if (n == *cap) {
        int c = *cap ? 2 * *cap : first;
        void *a = realloc(*arr, (size_t)c * elem);
        if (a == NULL)
            return UW_ERR_NOMEM;
        memset((char *)a + (size_t)*cap * elem, 0, (size_t)(c - *cap) * elem);
        *arr = a;
        *cap = c;
    }
    return 0;
}

/* task ID NAME: a new Task, at most MM_STILL_TASKS. */
static int mm_still_task(mm_still *d, char *rest)
{
    char *id = mm_field(&rest), *name = mm_field(&rest);
    mm_stask *tk;
    int rc;

    if (id == NULL || name == NULL || d->n_tasks == MM_STILL_TASKS)
        return UW_ERR_FORMAT;
    rc = mm_still_grow((void **)&d->tasks, d->n_tasks, &d->cap_tasks, sizeof *d->tasks, 64);
    if (rc != 0)
        return rc;
    tk = &d->tasks[d->n_tasks++];
    tk->id = strdup(id);
    tk->name = strdup(name);
    tk->root = -1;
    return tk->id && tk->name ? 0 : UW_ERR_NOMEM;
}

/* frame QUALNAME FILE LINE: one more coroutine of the last Task. */
static int mm_still_task_frame(mm_stask *tk, char *rest)
{
    int rc;

    if (tk->n == MM_STILL_FRAMES)
        return UW_ERR_FORMAT;
    rc = mm_still_grow((void **)&tk->f, tk->n, &tk->cap, sizeof *tk->f, 4);
    if (rc != 0)
        return rc;
    return mm_still_frame(rest, &tk->f[tk->n++]);
}

/* await ID: the last Task awaits Task ID. */
static int mm_still_await(mm_stask *tk, char *rest)
{
    char *id = mm_field(&rest);
    int rc;

    if (id == NULL || tk->n_await == MM_STILL_AWAITS)
        return UW_ERR_FORMAT;
    rc =
        mm_still_grow((void **)&tk->await_id, tk->n_await, &tk->cap_await, sizeof *tk->await_id, 8);
    if (rc != 0)
        return rc;
    tk->await_id[tk->n_await] = strdup(id);
    return tk->await_id[tk->n_await++] != NULL ? 0 : UW_ERR_NOMEM;
}

/* awaited_by ID: Task ID is (one of) the last Task's awaiters in memory. */
static int mm_still_ab(mm_stask *tk, char *rest)
{
    char *id = mm_field(&rest);
    int rc;

    if (id == NULL || tk->n_ab == MM_STILL_AWAITS)
        return UW_ERR_FORMAT;
    rc = mm_still_grow((void **)&tk->ab_id, tk->n_ab, &tk->cap_ab, sizeof *tk->ab_id, 4);
    if (rc != 0)
        return rc;
    tk->ab_id[tk->n_ab] = strdup(id);
    return tk->ab_id[tk->n_ab++] != NULL ? 0 : UW_ERR_NOMEM;
}

/* doctor WORD VALUE: a word of the debug blocks overwritten. */
static int mm_still_doctor(mm_still *d, char *rest)
{
    char *word = mm_field(&rest), *value = mm_field(&rest), *end;

    if (word == NULL || value == NULL || d->n_doctor == MM_STILL_DOCTOR)
        return UW_ERR_FORMAT;
    d->doctor_value[d->n_doctor] = strtoull(value, &end, 0);
    if (*end != '\0' || value[0] == '\0')
        return UW_ERR_FORMAT;
    d->doctor_word[d->n_doctor] = strdup(word);
    return d->doctor_word[d->n_doctor++] != NULL ? 0 : UW_ERR_NOMEM;
}

/* link CHILD PARENT KIND: one record of the hook module. */
static int mm_still_link(mm_still *d, char *rest)
{
    char *child = mm_field(&rest), *parent = mm_field(&rest), *kd = mm_field(&rest);

    if (d->n_links == MM_STILL_LINKS || child == NULL || parent == NULL || kd == NULL ||
        (atoi(kd) != 1 && atoi(kd) != 2))
        return UW_ERR_FORMAT;
    d->link_id[d->n_links][0] = strdup(child);
    d->link_id[d->n_links][1] = strdup(parent);
    d->link_kind[d->n_links] = atoi(kd);
    d->n_links++;
    return d->link_id[d->n_links - 1][0] && d->link_id[d->n_links - 1][1] ? 0 : UW_ERR_NOMEM;
}

/* One record; the line is cut into fields in place. */
static int mm_still_record(mm_still *d, char *line)
{
    char *rest = line, *kind = mm_field(&rest);
    mm_stask *last = d->n_tasks > 0 ? &d->tasks[d->n_tasks - 1] : NULL;

    if (strcmp(kind, "loop") == 0 && d->n_loop < MM_STILL_FRAMES)
        return mm_still_frame(rest, &d->loop[d->n_loop++]);
    if (strcmp(kind, "task") == 0)
        return mm_still_task(d, rest);
    if (strcmp(kind, "link") == 0)
        return mm_still_link(d, rest);
    if (strcmp(kind, "doctor") == 0)
        return mm_still_doctor(d, rest);
    if (strcmp(kind, "awaited_by") == 0 && last != NULL)
        return mm_still_ab(last, rest);
    if (strcmp(kind, "root") == 0 && last != NULL) {
        char *at = mm_field(&rest);
        if (at == NULL || atoi(at) < 0)
            return UW_ERR_FORMAT;
        last->root = atoi(at);
        return 0;
    }
    if (strcmp(kind, "frame") == 0 && last != NULL)
        return mm_still_task_frame(last, rest);
    if (strcmp(kind, "await") == 0 && last != NULL)
        return mm_still_await(last, rest);
    return UW_ERR_FORMAT;
}

int mm_still_parse(FILE *desc, mm_still **out)
{
    char line[4096];
    mm_still *d = calloc(1, sizeof *d);
    int rc = d != NULL ? 0 : UW_ERR_NOMEM;

    *out = NULL;
    while (rc == 0 && fgets(line, sizeof line, desc) != NULL) {
        line[strcspn(line, "\n")] = '\0';
        if (line[0] == '#' || line[0] == '\0')
            continue;
        rc = mm_still_record(d, line);
    }
    if (rc != 0) {
        mm_still_free(d);
        return rc;
    }
    *out = d;
    return 0;
}

static void mm_sframe_free(mm_sframe *f)
{
    free(f->qualname);
    free(f->file);
}

void mm_still_free(mm_still *d)
{
    int i, k;

    if (d == NULL)
        return;
    for (i = 0; i < d->n_links; i++) {
        free(d->link_id[i][0]);
        free(d->link_id[i][1]);
    }
    for (i = 0; i < d->n_doctor; i++)
        free(d->doctor_word[i]);
    for (i = 0; i < d->n_loop; i++)
        mm_sframe_free(&d->loop[i]);
    for (i = 0; i < d->n_tasks; i++) {
        mm_stask *tk = &d->tasks[i];
        free(tk->id);
        free(tk->name);
        for (k = 0; k < tk->n_await; k++)
            free(tk->await_id[k]);
        free(tk->await_id);
        for (k = 0; k < tk->n_ab; k++)
            free(tk->ab_id[k]);
        free(tk->ab_id);
        for (k = 0; k < tk->n; k++)
            mm_sframe_free(&tk->f[k]);
        free(tk->f);
    }
    free(d->tasks);
    free(d);
}

/* --- fabricate --------------------------------------------------------------- */

/* The code object of loop frame k (f[0] innermost): the frame under a
 * Handle._run frame makes the call `handle._run()` at its line, as
 * asyncio's _run_once does while a callback runs (a walk without the
 * loop's epoch keeps the split only then: rule
 * recheck_unbracketed_split_site); any other, a code object of two lines. */
static uint64_t mm_still_loop_code(mm_image *im, const mm_sframe *f, int k)
{
    static const char *const run_call[1] = {"_run"};
    static const uint8_t no_args[1] = {0};

    if (k > 0 && strcmp(f[k - 1].qualname, "Handle._run") == 0)
        return mm_fab_code_calls(im, f[k].qualname, f[k].file, f[k].line, 1, run_call, no_args, 1);
    return mm_fab_code(im, f[k].qualname, f[k].file, f[k].line, 2);
}

/* Push frames of the loop thread (root first): into its data-stack chunk,
 * except the root coroutine frame of a running Task, which lives in that
 * Task's coroutine object, marked executing and linked like the others. */
static uint64_t mm_still_loop(mm_image *im, const mm_sframe *f, int n, mm_stask *tasks, int n_tasks)
{
    const uw_layout *l = im->l;
    size_t size = ((size_t)l->frame_size + 32 + 15) & ~(size_t)15;
    /* 3.14+: the first frame sits on the thread's entry frame */
    uint64_t prev = im->th[0].bottom, slot = im->chunk + (uint64_t)l->chunk_data + 8;
    int k, i;

    for (k = n - 1; k >= 0; k--) {
        uint64_t code = mm_still_loop_code(im, f, k), at = 0;
        for (i = 0; i < n_tasks && at == 0; i++) {
            if (tasks[i].root == k) {
                uint64_t c = mm_alloc(im->space, mm_fab_coro_size(im));
                int8_t st = (int8_t)l->state_executing;
                uint8_t owner = (uint8_t)l->owner_generator;
                mm_space_put64(im->space, c + (uint64_t)l->object_type, im->target.types.coro);
                (void)mm_space_write(im->space, c + (uint64_t)l->gen_frame_state, &st, 1);
                at = c + (uint64_t)l->gen_iframe;
                (void)mm_space_write(im->space, at + (uint64_t)l->frame_owner, &owner, 1);
                tasks[i].coro = c;
            }
        }
        if (at == 0) {
            at = slot;
            slot += size;
        } else if (im->th[0].cstack != 0) {
            /* 3.14+: a root coroutine is sent to from C, past the entry
             * frame of that call to the interpreter */
            uint64_t e = mm_static(im->space, (size_t)l->frame_size + 64);
            mm_fab_entry_frame(im, e, prev, 0);
            prev = e;
        }
        mm_space_put64(im->space, at + (uint64_t)l->frame_code, code);
        mm_space_put64(im->space, at + (uint64_t)l->frame_previous, prev);
        mm_space_put64(im->space, at + (uint64_t)l->frame_instr, mm_fab_ip(im, code, 0));
        prev = at;
    }
    mm_space_put64(im->space, im->tstate + (uint64_t)l->tstate_datastack_top, slot);
    mm_space_put64(im->space, im->current_slot, prev);
    return prev;
}

/* asyncio's _GatheringFuture: a Python subclass of _asyncio.Future whose
 * instances keep a dict (at the type's tp_dictoffset, past the Future). */
static uint64_t mm_still_gather_type(mm_image *im)
{
    uint64_t t = mm_fab_type(im, "_GatheringFuture", im->future_type);
    int64_t dictoffset = im->al->fut_size, basicsize = im->al->fut_size + 16;

    (void)mm_space_write(im->space, t + (uint64_t)im->l->type_dictoffset, &dictoffset, 8);
    (void)mm_space_write(im->space, t + (uint64_t)im->l->type_basicsize, &basicsize, 8);
    return t;
}

/* The Task object of Task `id`, 0 if none. */
static uint64_t mm_still_task_obj(const mm_still *d, const char *id)
{
    uint64_t obj = 0;
    int k;

    for (k = 0; k < d->n_tasks; k++)
        if (strcmp(d->tasks[k].id, id) == 0)
            obj = d->tasks[k].obj;
    return obj;
}

/* A gather future over the Tasks tk awaits: {"_children": [Task, ...]}. */
static uint64_t mm_still_gather(mm_image *im, uint64_t gather_type, const mm_still *d,
                                const mm_stask *tk)
{
    const uw_layout *l = im->l;
    uint64_t fut = mm_alloc(im->space, (size_t)im->al->fut_size + 16);
    uint64_t list = mm_alloc(im->space, 64);
    uint64_t items = mm_alloc(im->space, 8 * (size_t)tk->n_await);
    int64_t n = 0;
    int a, k;

    for (a = 0; a < tk->n_await; a++)
        for (k = 0; k < d->n_tasks; k++)
            if (strcmp(d->tasks[k].id, tk->await_id[a]) == 0)
                mm_space_put64(im->space, items + 8 * (uint64_t)n++, d->tasks[k].obj);
    mm_space_put64(im->space, list + (uint64_t)l->object_type, im->target.types.list);
    (void)mm_space_write(im->space, list + (uint64_t)l->list_size, &n, 8);
    mm_space_put64(im->space, list + (uint64_t)l->list_items, items);
    mm_space_put64(im->space, fut + (uint64_t)l->object_type, gather_type);
    mm_space_put64(im->space, fut + (uint64_t)im->al->fut_size,
                   mm_fab_dict1(im, "_children", list));
    return fut;
}

/* The registry's set table: the fabricated one while the Tasks fill at
 * most half of it, else a bigger one hung into the set. */
static uint64_t mm_still_registry_table(mm_image *im, int n_tasks, uint64_t *slots)
{
    const uw_layout *l = im->l;
    uint64_t table;

    *slots = MM_REGISTRY_SLOTS;
    if ((uint64_t)n_tasks <= MM_REGISTRY_SLOTS / 2)
        return im->registry_table;
    *slots = MM_STILL_SLOTS;
    while (*slots < 2 * (uint64_t)n_tasks)
        *slots *= 2;
    table = mm_alloc(im->space, (size_t)*slots * (size_t)l->setentry_size);
    mm_space_put64(im->space, im->registry + (uint64_t)l->set_mask, *slots - 1);
    mm_space_put64(im->space, im->registry + (uint64_t)l->set_table, table);
    return table;
}

/* Task tk's coroutines (innermost first in the description), each
 * suspended awaiting the next one inward, the innermost awaiting `awaitee`.
 * Returns the root coroutine (0 when the Task has none). */
static uint64_t mm_still_coros(mm_image *im, const mm_stask *tk, uint64_t awaitee)
{
    const uw_layout *l = im->l;
    mm_space *sp = im->space;
    int suspended = l->state_suspended_yield_from != UW_NO_STATE ? l->state_suspended_yield_from
                                                                 : l->state_suspended;
    uint64_t root = 0;
    int k, depth = im->al->awaitee_depth > 0 ? im->al->awaitee_depth : 1;

    for (k = 0; k < tk->n; k++) {
        uint64_t c = mm_alloc(sp, mm_fab_coro_size(im)), f = c + (uint64_t)l->gen_iframe;
        uint64_t code = mm_fab_code(im, tk->f[k].qualname, tk->f[k].file, tk->f[k].line, 2);
        int8_t st = (int8_t)suspended;
        uint8_t owner = (uint8_t)l->owner_generator;
        int32_t one = 1;
        mm_space_put64(sp, c + (uint64_t)l->object_type, im->target.types.coro);
        (void)mm_space_write(sp, c + (uint64_t)l->gen_frame_state, &st, 1);
        mm_space_put64(sp, f + (uint64_t)l->frame_code, code);
        (void)mm_space_write(sp, f + (uint64_t)l->frame_owner, &owner, 1);
        mm_space_put64(sp, f + (uint64_t)l->frame_instr, mm_fab_ip_await(im, code, 0));
        mm_space_put64(sp, f + (uint64_t)l->frame_localsplus, awaitee);
        if (depth > 1) /* 3.15: a NULL reference above the awaitee */
            mm_space_put64(sp, f + (uint64_t)l->frame_localsplus + 8, (uint64_t)l->stackref_null);
        if (l->frame_stackpointer != UW_ABSENT)
            mm_space_put64(sp, f + (uint64_t)l->frame_stackpointer,
                           f + (uint64_t)l->frame_localsplus + 8u * (uint64_t)depth);
        else
            (void)mm_space_write(sp, f + (uint64_t)l->frame_stacktop, &one, 4);
        awaitee = c;
        root = c;
    }
    return root;
}

/* Task tk: its waiter (a Task, a gather future, or a Future of its own),
 * its coroutines, its fields, and a weakref to it in registry slot i. */
static void mm_still_task_fab(mm_image *im, const mm_still *d, mm_stask *tk, uint64_t gather_type,
                              uint64_t keys_table, int i)
{
    const uw_layout *l = im->l;
    const uw_asyncio_layout *al = im->al;
    mm_space *sp = im->space;
    uint64_t waiter = 0, root = 0, wr;

    if (tk->n_await == 1)
        waiter = mm_still_task_obj(d, tk->await_id[0]);
    else if (tk->n_await > 1)
        waiter = mm_still_gather(im, gather_type, d, tk);
    if (tk->coro != 0) {
        root = tk->coro; /* running: its frames are on the thread stack */
    } else {
        if (waiter == 0) {
            waiter = mm_alloc(sp, 128);
            mm_space_put64(sp, waiter + (uint64_t)l->object_type, im->future_type);
        }
        root = mm_still_coros(im, tk, waiter);
        /* 3.14+: a Future or gather future records the Task awaiting it (a
         * Task's own awaiters come from the description) */
        if (al->fut_awaited_by >= 0 && tk->n_await != 1)
            mm_space_put64(sp, waiter + (uint64_t)al->fut_awaited_by, tk->obj);
    }
    mm_space_put64(sp, tk->obj + (uint64_t)l->object_type, im->task_type);
    mm_space_put64(sp, tk->obj + (uint64_t)al->fut_loop, im->loop);
    mm_space_put64(sp, tk->obj + (uint64_t)al->task_coro, root);
    mm_space_put64(sp, tk->obj + (uint64_t)al->task_name, mm_fab_str(im, tk->name));
    mm_space_put64(sp, tk->obj + (uint64_t)al->task_fut_waiter, waiter);
    if (im->th[0].tasks_head != 0) { /* 3.14+: a native Task, on the list */
        uint8_t one = 1;
        (void)mm_space_write(sp, tk->obj + (uint64_t)al->fut_is_task, &one, 1);
        return;
    }
    wr = mm_alloc(sp, 64); /* the WeakSet holds weakrefs */
    mm_space_put64(sp, wr + (uint64_t)l->object_type, im->target.types.weakref);
    mm_space_put64(sp, wr + (uint64_t)l->weakref_object, tk->obj);
    mm_space_put64(
        sp, keys_table + (uint64_t)i * (uint64_t)l->setentry_size + (uint64_t)l->setentry_key, wr);
}

/* A set object holding the Tasks tk names in `awaited_by` lines: a table
 * of at least twice as many slots (a power of two, 8 or more), each key
 * at its hash's slot or the next free one, the hash a pointer's (rotated
 * right by four bits), as setobject.c places them. */
static uint64_t mm_still_task_set(mm_image *im, const mm_still *d, const mm_stask *tk)
{
    const uw_layout *l = im->l;
    uint64_t slots = 8, set = mm_alloc(im->space, 256), table;
    int64_t used = 0;
    int a;

    while (slots < 2 * (uint64_t)tk->n_ab)
        slots *= 2;
    table = mm_alloc(im->space, (size_t)slots * (size_t)l->setentry_size);
    for (a = 0; a < tk->n_ab; a++) {
        uint64_t key = mm_still_task_obj(d, tk->ab_id[a]);
        uint64_t h = (key >> 4) | (key << 60), i = h & (slots - 1);
        if (key == 0)
            continue;
        while (mm_space_get64(im->space, table + i * (uint64_t)l->setentry_size +
                                             (uint64_t)l->setentry_key) != 0)
            i = (i + 1) & (slots - 1);
        mm_space_put64(im->space,
                       table + i * (uint64_t)l->setentry_size + (uint64_t)l->setentry_key, key);
        mm_space_put64(im->space,
                       table + i * (uint64_t)l->setentry_size + (uint64_t)l->setentry_hash, h);
        used++;
    }
    mm_space_put64(im->space, set + (uint64_t)l->object_type, im->target.types.set);
    (void)mm_space_write(im->space, set + (uint64_t)l->set_fill, &used, 8);
    (void)mm_space_write(im->space, set + (uint64_t)l->set_used, &used, 8);
    mm_space_put64(im->space, set + (uint64_t)l->set_mask, slots - 1);
    mm_space_put64(im->space, set + (uint64_t)l->set_table, table);
    return set;
}

/* 3.14+: what the process keeps for outside readers: every Task linked
 * into the thread's list in description order (llist_insert_tail), each
 * Task's awaiters (one Task, or a set with the set flag), and the
 * innermost running Task in the thread state. */
static void mm_still_asyncio(mm_image *im, const mm_still *d)
{
    const uw_layout *l = im->l;
    const uw_asyncio_layout *al = im->al;
    uint64_t head = im->th[0].tasks_head, last = head, running = 0;
    int i, inner = MM_STILL_FRAMES;

    if (head == 0)
        return;
    for (i = 0; i < d->n_tasks; i++) {
        const mm_stask *tk = &d->tasks[i];
        uint64_t node = tk->obj + (uint64_t)al->task_node;
        mm_space_put64(im->space, node + (uint64_t)l->llist_prev, last);
        mm_space_put64(im->space, node + (uint64_t)l->llist_next, head);
        mm_space_put64(im->space, last + (uint64_t)l->llist_next, node);
        mm_space_put64(im->space, head + (uint64_t)l->llist_prev, node);
        last = node;
        if (tk->n_ab == 1) {
            mm_space_put64(im->space, tk->obj + (uint64_t)al->fut_awaited_by,
                           mm_still_task_obj(d, tk->ab_id[0]));
        } else if (tk->n_ab > 1) {
            uint8_t one = 1;
            mm_space_put64(im->space, tk->obj + (uint64_t)al->fut_awaited_by,
                           mm_still_task_set(im, d, tk));
            (void)mm_space_write(im->space, tk->obj + (uint64_t)al->fut_awaited_by_is_set, &one, 1);
        }
        if (tk->root >= 0 && tk->root < inner) {
            inner = tk->root;
            running = tk->obj;
        }
    }
    mm_space_put64(im->space, im->tstate + (uint64_t)l->tstate_asyncio_running_task, running);
}

/* The hook module's records, by the Tasks' fabricated addresses. */
static int mm_still_links(mm_image *im, const mm_still *d)
{
    uint64_t child[MM_STILL_LINKS], parent[MM_STILL_LINKS];
    int kind[MM_STILL_LINKS], i;

    for (i = 0; i < d->n_links; i++) {
        child[i] = mm_still_task_obj(d, d->link_id[i][0]);
        parent[i] = mm_still_task_obj(d, d->link_id[i][1]);
        kind[i] = d->link_kind[i];
        if (child[i] == 0 || parent[i] == 0)
            return UW_ERR_FORMAT;
    }
    mm_fab_hook(im, child, parent, kind, (size_t)d->n_links);
    return 0;
}

/* Lay out the whole description in a fresh process image. */
static int mm_still_fabricate(mm_image *im, mm_still *d)
{
    uint64_t slots, keys_table, gather_type;
    int i;

    gather_type = mm_still_gather_type(im);
    im->target.types.list = mm_fab_type(im, "list", 0);
    mm_still_loop(im, d->loop, d->n_loop, d->tasks, d->n_tasks);
    keys_table = mm_still_registry_table(im, d->n_tasks, &slots);
    /* Task objects first, so awaits can point at any of them. */
    for (i = 0; i < d->n_tasks; i++)
        d->tasks[i].obj = mm_alloc(im->space, (size_t)im->al->task_size);
    for (i = 0; i < d->n_tasks; i++)
        mm_still_task_fab(im, d, &d->tasks[i], gather_type, keys_table, i);
    mm_still_asyncio(im, d);
    for (i = 0; i < d->n_doctor; i++) {
        uint64_t at = mm_fab_debug_word(im, d->doctor_word[i]);
        if (at == 0)
            return UW_ERR_FORMAT; /* no such word in this version */
        mm_space_put64(im->space, at, d->doctor_value[i]);
    }
    return d->n_links > 0 ? mm_still_links(im, d) : 0;
}

/* --- sample ------------------------------------------------------------------ */

static int mm_still_read(void *ctx, uint64_t addr, void *dst, size_t len)
{
    return mm_space_read(ctx, addr, dst, len);
}

static const uw_reader_ops mm_still_ops = {mm_still_read, NULL, NULL, NULL};

/* Where the objects went is written into the description's Tasks
 * (mm_stask.coro, .obj); they are cleared first, so a description can be
 * sampled again, for another version. */
int mm_still_sample(mm_still_run *run, mm_still *d, int minor)
{
    int i, rc;

    memset(run, 0, sizeof *run);
    uw_sample_init(&run->s);
    for (i = 0; i < d->n_tasks; i++)
        d->tasks[i].coro = d->tasks[i].obj = 0;
    rc = mm_space_new(&run->sp);
    if (rc == 0)
        rc = mm_fab_process(run->sp, minor, &run->im);
    if (rc == 0)
        rc = mm_still_fabricate(&run->im, d);
    if (rc != 0)
        return rc;
    uw_reader_init(&run->reader, &mm_still_ops, run->sp); /* nothing moves: plain reads */
    rc = mm_fab_attach_check(&run->im, &run->reader, run->why, sizeof run->why);
    if (rc == 0)
        rc = uw_unwinder_new(&run->reader, &run->im.target, &run->u);
    if (rc == 0)
        rc = uw_tasks_new(run->u, &run->t);
    if (rc == 0)
        rc = uw_unwind_threads(run->u, &run->s); /* Tasks found through sys.modules */
    if (rc == 0)
        rc = uw_unwind_tasks(run->t, &run->s);
    return rc;
}

void mm_still_end(mm_still_run *run)
{
    uw_sample_free(&run->s);
    uw_tasks_free(run->t);
    uw_unwinder_free(run->u);
    mm_space_free(run->sp);
    memset(run, 0, sizeof *run);
}

/* --- print ------------------------------------------------------------------- */

int mm_still_dump(FILE *desc, int minor, FILE *out, char *why, size_t whylen)
{
    mm_still *d = NULL;
    mm_still_run run;
    int rc;

    if (whylen > 0)
        why[0] = '\0';
    rc = mm_still_parse(desc, &d);
    if (rc != 0)
        return rc;
    rc = mm_still_sample(&run, d, minor);
    if (rc != 0 && whylen > 0)
        snprintf(why, whylen, "%s", run.why);
    if (rc == 0)
        rc = uw_output_json(out, &run.im.target, &run.s);
    mm_still_end(&run);
    mm_still_free(d);
    return rc;
}
