/*
 * still.c — a still process from a description (see still.h).
 *
 * Each frame gets its own code object whose first line is the frame's line
 * (so code unit 0 is on that line); Task coroutines are suspended at
 * unit 0, each awaiting the next one inward, the innermost awaiting a
 * Future, the Task named by `await`, or, with several `await` lines, a
 * gather future (an asyncio `_GatheringFuture`: a Future subclass whose
 * instance dict holds `_children`, a list of those Tasks).
 */
#define _POSIX_C_SOURCE 200809L /* strdup */
#include "still.h"

#include <stdlib.h>
#include <string.h>

#include "fabricate.h"
#include "tornstack/error.h"
#include "tornstack/output.h"
#include "tornstack/tasks.h"
#include "tornstack/unwind.h"

#define MM_STILL_TASKS 1024
#define MM_STILL_FRAMES 64
#define MM_STILL_AWAITS 4096 /* Tasks one Task awaits (a gather's children) */
#define MM_STILL_LINKS 1024 /* hook records */
#define MM_STILL_SLOTS 2048 /* registry set table when the image's is too small */

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
    mm_sframe f[MM_STILL_FRAMES];
    int n;
    uint64_t obj;
} mm_stask;

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

/* Push frames of the loop thread (root first): into its data-stack chunk,
 * except the root coroutine frame of a running Task, which lives in that
 * Task's coroutine object, marked executing and linked like the others. */
static uint64_t mm_still_loop(mm_image *im, const mm_sframe *f, int n, mm_stask *tasks,
                              int n_tasks)
{
    const uw_layout *l = im->l;
    size_t size = ((size_t)l->frame_size + 32 + 15) & ~(size_t)15;
    uint64_t prev = 0, slot = im->chunk + (uint64_t)l->chunk_data + 8;
    int k, i;

    for (k = n - 1; k >= 0; k--) {
        uint64_t code = mm_fab_code(im, f[k].qualname, f[k].file, f[k].line, 2), at = 0;
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

/* A gather future over the Tasks tk awaits: {"_children": [Task, ...]}. */
static uint64_t mm_still_gather(mm_image *im, uint64_t gather_type, const mm_stask *tasks,
                                int n_tasks, const mm_stask *tk)
{
    const uw_layout *l = im->l;
    uint64_t fut = mm_alloc(im->space, (size_t)im->al->fut_size + 16);
    uint64_t list = mm_alloc(im->space, 64);
    uint64_t items = mm_alloc(im->space, 8 * (size_t)tk->n_await);
    int64_t n = 0;
    int a, k;

    for (a = 0; a < tk->n_await; a++)
        for (k = 0; k < n_tasks; k++)
            if (strcmp(tasks[k].id, tk->await_id[a]) == 0)
                mm_space_put64(im->space, items + 8 * (uint64_t)n++, tasks[k].obj);
    mm_space_put64(im->space, list + (uint64_t)l->object_type, im->target.types.list);
    (void)mm_space_write(im->space, list + (uint64_t)l->list_size, &n, 8);
    mm_space_put64(im->space, list + (uint64_t)l->list_items, items);
    mm_space_put64(im->space, fut + (uint64_t)l->object_type, gather_type);
    mm_space_put64(im->space, fut + (uint64_t)im->al->fut_size,
                   mm_fab_dict1(im, "_children", list));
    return fut;
}

static int mm_still_read(void *ctx, uint64_t addr, void *dst, size_t len)
{
    return mm_space_read(ctx, addr, dst, len);
}

static const uw_reader_ops mm_still_ops = {mm_still_read, NULL};

int mm_still_dump(FILE *desc, int minor, FILE *out)
{
    static mm_stask tasks[MM_STILL_TASKS];
    mm_sframe loop[MM_STILL_FRAMES];
    int n_loop = 0, n_tasks = 0, i, k, rc = 0;
    char line[4096];
    char *link_id[MM_STILL_LINKS][2];
    int link_kind[MM_STILL_LINKS], n_links = 0;
    mm_space *sp = NULL;
    mm_image im;
    uw_unwinder *u = NULL;
    uw_tasks *t = NULL;
    uw_sample s;

    memset(tasks, 0, sizeof tasks);
    while (rc == 0 && fgets(line, sizeof line, desc) != NULL) {
        char *rest = line, *kind;
        line[strcspn(line, "\n")] = '\0';
        if (line[0] == '#' || line[0] == '\0')
            continue;
        kind = mm_field(&rest);
        if (strcmp(kind, "loop") == 0 && n_loop < MM_STILL_FRAMES) {
            rc = mm_still_frame(rest, &loop[n_loop++]);
        } else if (strcmp(kind, "task") == 0 && n_tasks < MM_STILL_TASKS) {
            char *id = mm_field(&rest), *name = mm_field(&rest);
            if (id == NULL || name == NULL)
                rc = UW_ERR_FORMAT;
            else {
                tasks[n_tasks].id = strdup(id);
                tasks[n_tasks].name = strdup(name);
                tasks[n_tasks].root = -1;
                n_tasks++;
            }
        } else if (strcmp(kind, "link") == 0 && n_links < MM_STILL_LINKS) {
            char *child = mm_field(&rest), *parent = mm_field(&rest), *kd = mm_field(&rest);
            if (child == NULL || parent == NULL || kd == NULL || (atoi(kd) != 1 && atoi(kd) != 2)) {
                rc = UW_ERR_FORMAT;
            } else {
                link_id[n_links][0] = strdup(child);
                link_id[n_links][1] = strdup(parent);
                link_kind[n_links++] = atoi(kd);
            }
        } else if (strcmp(kind, "root") == 0 && n_tasks > 0) {
            char *at = mm_field(&rest);
            if (at == NULL || atoi(at) < 0)
                rc = UW_ERR_FORMAT;
            else
                tasks[n_tasks - 1].root = atoi(at);
        } else if (strcmp(kind, "frame") == 0 && n_tasks > 0 &&
                   tasks[n_tasks - 1].n < MM_STILL_FRAMES) {
            mm_stask *tk = &tasks[n_tasks - 1];
            rc = mm_still_frame(rest, &tk->f[tk->n++]);
        } else if (strcmp(kind, "await") == 0 && n_tasks > 0 &&
                   tasks[n_tasks - 1].n_await < MM_STILL_AWAITS) {
            char *id = mm_field(&rest);
            mm_stask *tk = &tasks[n_tasks - 1];
            if (id == NULL) {
                rc = UW_ERR_FORMAT;
            } else {
                if (tk->n_await == tk->cap_await) {
                    int cap = tk->cap_await ? 2 * tk->cap_await : 8;
                    char **a = realloc(tk->await_id, (size_t)cap * sizeof *a);
                    if (a == NULL) {
                        rc = UW_ERR_NOMEM;
                        continue;
                    }
                    tk->await_id = a;
                    tk->cap_await = cap;
                }
                tk->await_id[tk->n_await++] = strdup(id);
            }
        } else {
            rc = UW_ERR_FORMAT;
        }
    }
    uw_sample_init(&s);
    if (rc == 0)
        rc = mm_space_new(&sp);
    if (rc == 0)
        rc = mm_fab_process(sp, minor, &im);
    if (rc == 0) {
        const uw_layout *l = im.l;
        const uw_asyncio_layout *al = im.al;
        uint64_t keys_table = im.registry_table, slots = MM_REGISTRY_SLOTS;
        uint64_t gather_type = mm_still_gather_type(&im);
        im.target.types.list = mm_fab_type(&im, "list", 0);
        mm_still_loop(&im, loop, n_loop, tasks, n_tasks);
        if (n_tasks > MM_REGISTRY_SLOTS / 2) {
            /* a bigger table, as a set grows: at most half full */
            slots = MM_STILL_SLOTS;
            keys_table = mm_alloc(sp, (size_t)slots * (size_t)l->setentry_size);
            mm_space_put64(sp, im.registry + (uint64_t)l->set_mask, slots - 1);
            mm_space_put64(sp, im.registry + (uint64_t)l->set_table, keys_table);
        }
        /* Task objects first, so awaits can point at any of them. */
        for (i = 0; i < n_tasks; i++)
            tasks[i].obj = mm_alloc(sp, (size_t)al->task_size);
        for (i = 0; i < n_tasks && rc == 0; i++) {
            mm_stask *tk = &tasks[i];
            uint64_t waiter = 0, awaitee, root = 0;
            int suspended = l->state_suspended_yield_from != UW_NO_STATE
                                ? l->state_suspended_yield_from
                                : l->state_suspended;
            if (tk->n_await == 1) {
                for (k = 0; k < n_tasks; k++)
                    if (strcmp(tasks[k].id, tk->await_id[0]) == 0)
                        waiter = tasks[k].obj;
            } else if (tk->n_await > 1) {
                waiter = mm_still_gather(&im, gather_type, tasks, n_tasks, tk);
            }
            if (tk->coro != 0) {
                root = tk->coro; /* running: its frames are on the thread stack */
            } else if (waiter == 0) {
                waiter = mm_alloc(sp, 128);
                mm_space_put64(sp, waiter + (uint64_t)l->object_type, im.future_type);
            }
            awaitee = waiter;
            /* coroutines, innermost first in the description */
            for (k = 0; tk->coro == 0 && k < tk->n; k++) {
                uint64_t c = mm_alloc(sp, mm_fab_coro_size(&im)), f = c + (uint64_t)l->gen_iframe;
                uint64_t code = mm_fab_code(&im, tk->f[k].qualname, tk->f[k].file, tk->f[k].line, 2);
                int8_t st = (int8_t)suspended;
                mm_space_put64(sp, c + (uint64_t)l->object_type, im.target.types.coro);
                (void)mm_space_write(sp, c + (uint64_t)l->gen_frame_state, &st, 1);
                mm_space_put64(sp, f + (uint64_t)l->frame_code, code);
                uint8_t owner = (uint8_t)l->owner_generator;
                int32_t one = 1;
                (void)mm_space_write(sp, f + (uint64_t)l->frame_owner, &owner, 1);
                mm_space_put64(sp, f + (uint64_t)l->frame_instr, mm_fab_ip(&im, code, 0));
                (void)mm_space_write(sp, f + (uint64_t)l->frame_stacktop, &one, 4);
                mm_space_put64(sp, f + (uint64_t)l->frame_localsplus, awaitee);
                awaitee = c;
                root = c;
            }
            mm_space_put64(sp, tk->obj + (uint64_t)l->object_type, im.task_type);
            mm_space_put64(sp, tk->obj + (uint64_t)al->fut_loop, im.loop);
            mm_space_put64(sp, tk->obj + (uint64_t)al->task_coro, root);
            mm_space_put64(sp, tk->obj + (uint64_t)al->task_name, mm_fab_str(&im, tk->name));
            mm_space_put64(sp, tk->obj + (uint64_t)al->task_fut_waiter, waiter);
            if ((uint64_t)i >= slots) {
                rc = UW_ERR_LIMIT_TASKS;
                break;
            }
            {
                uint64_t wr = mm_alloc(sp, 64); /* the WeakSet holds weakrefs */
                mm_space_put64(sp, wr + (uint64_t)l->object_type, im.target.types.weakref);
                mm_space_put64(sp, wr + (uint64_t)l->weakref_object, tk->obj);
                mm_space_put64(sp, keys_table + (uint64_t)i * (uint64_t)l->setentry_size +
                                       (uint64_t)l->setentry_key,
                               wr);
            }
        }
    }
    if (rc == 0 && n_links > 0) {
        /* the hook module's records, by the Tasks' fabricated addresses */
        static uint64_t child[MM_STILL_LINKS], parent[MM_STILL_LINKS];
        size_t n = 0;
        for (i = 0; i < n_links; i++) {
            uint64_t c = 0, p = 0;
            for (k = 0; k < n_tasks; k++) {
                if (strcmp(tasks[k].id, link_id[i][0]) == 0)
                    c = tasks[k].obj;
                if (strcmp(tasks[k].id, link_id[i][1]) == 0)
                    p = tasks[k].obj;
            }
            if (c == 0 || p == 0) {
                rc = UW_ERR_FORMAT;
                break;
            }
            child[n] = c;
            parent[n] = p;
            link_kind[n++] = link_kind[i];
        }
        if (rc == 0)
            mm_fab_hook(&im, child, parent, link_kind, n);
    }
    if (rc == 0) {
        uw_reader r;
        uw_reader_init(&r, &mm_still_ops, sp); /* nothing moves: plain reads */
        rc = uw_unwinder_new(&r, &im.target, &u);
        if (rc == 0)
            rc = uw_tasks_new(u, &t);
        if (rc == 0) {
            rc = uw_unwind_threads(u, &s); /* Tasks found through sys.modules */
        }
        if (rc == 0)
            rc = uw_unwind_tasks(t, &s);
        if (rc == 0)
            rc = uw_output_json(out, &im.target, &s);
    }
    uw_sample_free(&s);
    uw_tasks_free(t);
    uw_unwinder_free(u);
    mm_space_free(sp);
    for (i = 0; i < n_links; i++) {
        free(link_id[i][0]);
        free(link_id[i][1]);
    }
    for (i = 0; i < n_loop; i++) {
        free(loop[i].qualname);
        free(loop[i].file);
    }
    for (i = 0; i < n_tasks; i++) {
        free(tasks[i].id);
        free(tasks[i].name);
        for (k = 0; k < tasks[i].n_await; k++)
            free(tasks[i].await_id[k]);
        free(tasks[i].await_id);
        for (k = 0; k < tasks[i].n; k++) {
            free(tasks[i].f[k].qualname);
            free(tasks[i].f[k].file);
        }
    }
    return rc;
}
