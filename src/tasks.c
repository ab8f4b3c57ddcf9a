/*
 * tasks.c — asyncio Task stacks (see tasks.h for the algorithm).
 *
 * Cost model.  Everything is read level by level with vectored reads: all
 * registry keys, then all weakrefs, then all Task objects, then the first
 * coroutine of every Task, then the next coroutine of every chain, ...,
 * so a sample costs a handful of calls per await level rather than a few
 * per Task.  The registry addresses (found once through sys.modules) and
 * the verdicts on type objects (is this a Task, a Future, a gather
 * future?) are cached; everything else is read fresh in every sample.
 *
 * Trust.  A Task is believed only when its type is _asyncio.Task (or a
 * subclass), it is pending, its loop is running on a thread, and its root
 * coroutine is a coroutine whose embedded frame is owned by a generator.
 * A running Task must be found on its thread's stack at its coroutine
 * frame's address, running the same code; otherwise it is skipped with a
 * reason instead of being given frames that may belong to someone else.
 */
#include "tornstack/tasks.h"

#include "internal/uw_assert.h"
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal/asyncio_layout.h"
#include "internal/unwinder.h"
#include "tornstack/error.h"
#include "tornstack/limits.h"
#include "internal/pyobj.h"
#include "internal/pystr.h"

#define UW_TYPE_CACHE 64
#define UW_REGISTRY_CACHE 8
/* Coroutine frames kept per sample over all Tasks' chains. */
#define UW_TASK_FRAMES_MAX 65536
/* A registry that was not found is looked for again after this many samples. */
#define UW_REGISTRY_RETRY 64
/* Bytes read at each step of an await chain: a coroutine up to the end of
 * its frame's fixed part (the largest is 3.11: 80 + 80). */
#define UW_CORO_WINDOW 192
/* Bytes read of a Task's name object at once (short names fit). */
#define UW_NAME_WINDOW 128
#define UW_LINKS_MAGIC "TSLINKS1"
#define UW_LINK_RECORD 24

enum { UW_KIND_OTHER = 0, UW_KIND_TASK, UW_KIND_FUTURE, UW_KIND_GATHER };

typedef struct uw_type_verdict {
    uint64_t type;
    int kind;
} uw_type_verdict;

typedef struct uw_registry {
    uint64_t interp;
    uint64_t scheduled, eager, hook; /* set, set, bytearray; 0 if absent */
    int found;                       /* asyncio.tasks was found */
    uint32_t retry;                  /* samples until the next search */
} uw_registry;

typedef struct uw_link {
    uint64_t child, parent;
    int kind;
} uw_link;

/* A loop thread's epoch counter, read first (a) and last (b) in the
 * vectored read that checks the chains.  Unchanged, the loop ran one
 * callback (or none) meanwhile: at most one Task's chain moved, within one
 * step, and two copies read one after the other catch that. */
#define UW_TASK_EPOCHS 64
/* The loop epoch of a thread: its loop and the loop's ready deque's
 * mutation count (the bracket of the thread's walk). */
#define UW_EPOCH_THREADS 64
typedef struct uw_epoch_ent {
    uint64_t tstate, loop, counter;
} uw_epoch_ent;

typedef struct uw_task_epoch {
    size_t thread;
    uint64_t counter, a, b;
    int moved; /* unreadable, or a != b */
} uw_task_epoch;

/* Working state of one Task during a sample. */
typedef struct uw_task_work {
    uint64_t addr, coro, loop, waiter, name_obj;
    size_t thread;
    int state;              /* root coroutine's frame state */
    uint64_t root_code;     /* root coroutine frame's code pointer */
    uint64_t cur;           /* next object of the await chain */
    size_t first_cf, n_cf;  /* chain frames, root first */
    int active;             /* await chain still being read */
    int skipped, truncated;
    int on_stack;           /* found on its thread's stack: the running Task */
    int own_src;            /* running: its frames are in the sample (0) or
                               in the second walk (1), ... */
    size_t own_first;       /* ... from this index ... */
    size_t n_own;           /* ... innermost first */
    size_t out;             /* index in the sample's tasks */
} uw_task_work;

struct uw_tasks {
    uw_unwinder *u;
    uw_reader *r;
    const uw_target *t;
    const uw_layout *l;
    const uw_asyncio_layout *al;
    uw_pyctx pc;
    uw_task_options opt;
    uint64_t root;
    uw_type_verdict types[UW_TYPE_CACHE];
    size_t n_types;
    uw_registry reg[UW_REGISTRY_CACHE];
    size_t n_reg;
    uw_link *links; /* the API table */
    size_t n_links, cap_links;
    uw_link *hook; /* read from the target this sample */
    size_t n_hook, cap_hook;
    /* per-sample scratch, sized for UW_LIMIT_TASKS */
    uint64_t *keys;
    uint64_t *cand;
    uw_iov *iov;
    uint8_t *buf;
    uw_task_work *work;
    size_t n_work;
    /* coroutine frames of all chains */
    uint64_t *cf_addr;
    int8_t *cf_state; /* frame state when read */
    uint64_t *cf_yf;  /* awaitee read from its value stack (0 if none) */
    uint8_t *cf_bytes;
    uw_frame *cf_frame;
    int *cf_status;
    size_t n_cf;
    uint64_t *roots; /* sorted root coroutine frame addresses of all Tasks */
    uw_sample again; /* threads walked a second time in this sample */
    int second_round;
    uw_task_epoch ep[UW_TASK_EPOCHS];
    size_t n_ep;
    uw_epoch_ent epoch[UW_EPOCH_THREADS]; /* loop epochs, by thread state */
    size_t epoch_next; /* next entry to replace when the table is full */
};

#define UW_CODE_HANDLE_RUN 0x100u

static int uw_epoch_set(uw_tasks *t, uint64_t tstate, uint64_t loop, uint64_t counter)
{
    size_t i, free_i = SIZE_MAX;

    if (tstate == 0)
        return UW_ERR_INVALID_ARG;
    for (i = 0; i < UW_EPOCH_THREADS; i++) {
        if (t->epoch[i].tstate == tstate) {
            free_i = i;
            break;
        }
        if (t->epoch[i].tstate == 0 && free_i == SIZE_MAX)
            free_i = i;
    }
    if (counter == 0) {
        if (free_i != SIZE_MAX && t->epoch[free_i].tstate == tstate)
            memset(&t->epoch[free_i], 0, sizeof t->epoch[free_i]);
        return 0;
    }
    if (free_i == SIZE_MAX) {
        free_i = t->epoch_next;
        t->epoch_next = (t->epoch_next + 1) % UW_EPOCH_THREADS;
    }
    t->epoch[free_i].tstate = tstate;
    t->epoch[free_i].loop = loop;
    t->epoch[free_i].counter = counter;
    return 0;
}

static uint64_t uw_epoch_loop(const uw_tasks *t, uint64_t tstate)
{
    size_t i;

    if (tstate == 0)
        return 0;
    for (i = 0; i < UW_EPOCH_THREADS; i++)
        if (t->epoch[i].tstate == tstate)
            return t->epoch[i].loop;
    return 0;
}

static int uw_epoch_get(const uw_tasks *t, uint64_t tstate, uint64_t *loop, uint64_t *counter)
{
    size_t i;

    for (i = 0; tstate != 0 && i < UW_EPOCH_THREADS; i++) {
        if (t->epoch[i].tstate == tstate) {
            *loop = t->epoch[i].loop;
            *counter = t->epoch[i].counter;
            return 0;
        }
    }
    return UW_ERR_NOT_FOUND;
}

static uint64_t uw_hook_bracket(void *ctx, uint64_t tstate, uint64_t *tag)
{
    const uw_tasks *t = ctx;
    uint64_t counter = 0;
    size_t i;

    *tag = 0;
    for (i = 0; i < UW_EPOCH_THREADS; i++)
        if (t->epoch[i].tstate == tstate) {
            *tag = t->epoch[i].loop;
            counter = t->epoch[i].counter;
        }
    return counter;
}

static int64_t uw_hook_stable_from(void *ctx, const uw_frame *f, size_t n)
{
    size_t i;

    (void)ctx;
    for (i = n; i-- > 0;)
        if (f[i].code->flags & UW_CODE_HANDLE_RUN)
            return (int64_t)i;
    return -1;
}

static uint32_t uw_classify(const char *qualname, const char *filename)
{
    static const char suffix[] = "/asyncio/events.py";
    size_t n = strlen(filename);

    return strcmp(qualname, "Handle._run") == 0 && n >= sizeof suffix - 1 &&
                   strcmp(filename + n - (sizeof suffix - 1), suffix) == 0
               ? UW_CODE_HANDLE_RUN
               : 0;
}

static uint64_t uw_t64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

void uw_task_options_default(uw_task_options *o)
{
    o->task_depth = 1;
    o->split = 1;
    o->skip = 1;
}

int uw_tasks_new(uw_unwinder *u, uw_tasks **out)
{
    uw_tasks *t;
    const uw_target *tg;
    size_t win;

    if (u == NULL || out == NULL)
        return UW_ERR_INVALID_ARG;
    *out = NULL;
    tg = uw__unwinder_target(u);
    if (uw_asyncio_layout_for_minor(tg->layout->py_minor) == NULL)
        return UW_ERR_UNSUPPORTED_VERSION;
    t = calloc(1, sizeof *t);
    if (t == NULL)
        return UW_ERR_NOMEM;
    t->u = u;
    t->r = uw__unwinder_reader(u);
    t->t = tg;
    t->l = tg->layout;
    t->al = uw_asyncio_layout_for_minor(tg->layout->py_minor);
    t->pc = (uw_pyctx){t->r, t->l, &tg->types};
    uw_task_options_default(&t->opt);
    win = UW_CORO_WINDOW > (size_t)t->al->task_size ? UW_CORO_WINDOW : (size_t)t->al->task_size;
    t->keys = malloc(UW_LIMIT_TASKS * sizeof *t->keys);
    t->cand = malloc(UW_LIMIT_TASKS * sizeof *t->cand);
    t->iov = malloc(2 * UW_LIMIT_TASKS * sizeof *t->iov);
    t->buf = malloc(UW_LIMIT_TASKS * win);
    t->work = malloc(UW_LIMIT_TASKS * sizeof *t->work);
    t->cf_addr = malloc(UW_TASK_FRAMES_MAX * sizeof *t->cf_addr);
    t->cf_state = malloc(UW_TASK_FRAMES_MAX * sizeof *t->cf_state);
    t->cf_yf = malloc(UW_TASK_FRAMES_MAX * sizeof *t->cf_yf);
    t->cf_bytes = malloc(UW_TASK_FRAMES_MAX * (size_t)t->l->frame_size);
    t->cf_frame = malloc(UW_TASK_FRAMES_MAX * sizeof *t->cf_frame);
    t->cf_status = malloc(UW_TASK_FRAMES_MAX * sizeof *t->cf_status);
    t->roots = malloc(UW_LIMIT_TASKS * sizeof *t->roots);
    uw_sample_init(&t->again);
    if (t->keys == NULL || t->cand == NULL || t->iov == NULL || t->buf == NULL ||
        t->work == NULL || t->cf_addr == NULL || t->cf_state == NULL || t->cf_yf == NULL ||
        t->cf_bytes == NULL ||
        t->cf_frame == NULL ||
        t->cf_status == NULL || t->roots == NULL) {
        uw_tasks_free(t);
        return UW_ERR_NOMEM;
    }
    {
        uw__walk_hooks h = {t, uw_hook_bracket, uw_hook_stable_from};
        uw__unwinder_set_hooks(u, &h);
        uw_code_cache_set_classifier(uw_unwinder_cache(u), uw_classify);
    }
    UW_ASSERT((size_t)t->l->gen_iframe + (size_t)t->l->frame_size <= UW_CORO_WINDOW);
    *out = t;
    return 0;
}

void uw_tasks_free(uw_tasks *t)
{
    if (t == NULL)
        return;
    uw__unwinder_set_hooks(t->u, NULL);
    free(t->links);
    free(t->hook);
    free(t->keys);
    free(t->cand);
    free(t->iov);
    free(t->buf);
    free(t->work);
    free(t->cf_addr);
    free(t->cf_state);
    free(t->cf_yf);
    free(t->cf_bytes);
    free(t->cf_frame);
    free(t->cf_status);
    free(t->roots);
    uw_sample_free(&t->again);
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

static int uw_link_put(uw_link **arr, size_t *n, size_t *cap, uint64_t child, uint64_t parent,
                       int kind)
{
    size_t i;

    for (i = 0; i < *n; i++) {
        if ((*arr)[i].child == child && (*arr)[i].kind == kind) {
            (*arr)[i].parent = parent;
            return 0;
        }
    }
    if (*n == *cap) {
        size_t nc = *cap ? 2 * *cap : 64;
        uw_link *a;
        if (nc > UW_LIMIT_LINK_RECORDS)
            nc = UW_LIMIT_LINK_RECORDS;
        if (*n == nc)
            return UW_ERR_LIMIT_LINKS;
        a = realloc(*arr, nc * sizeof *a);
        if (a == NULL)
            return UW_ERR_NOMEM;
        *arr = a;
        *cap = nc;
    }
    (*arr)[(*n)++] = (uw_link){child, parent, kind};
    return 0;
}

int uw_tasks_link(uw_tasks *t, uint64_t child, uint64_t parent, int kind)
{
    if (t == NULL || child == 0 || (kind != UW_LINK_STRONG && kind != UW_LINK_CREATION))
        return UW_ERR_INVALID_ARG;
    return uw_link_put(&t->links, &t->n_links, &t->cap_links, child, parent, kind);
}

void uw_tasks_unlink(uw_tasks *t, uint64_t child)
{
    size_t i = 0;

    if (t == NULL)
        return;
    while (i < t->n_links) {
        if (t->links[i].child == child)
            t->links[i] = t->links[--t->n_links];
        else
            i++;
    }
}

/* Is the type (or a base, up to UW_LIMIT_TYPE_BASES) a Task, a gather
 * future or a Future?  Verdicts are cached by type address. */
static int uw_type_kind(uw_tasks *t, uint64_t type)
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
    for (i = 0; i < UW_LIMIT_TYPE_BASES && cur != 0; i++) {
        if (uw_type_name(&t->pc, cur, name, sizeof name) != 0)
            return UW_KIND_OTHER; /* unreadable: not cached, asked again */
        if (strcmp(name, "_asyncio.Task") == 0) {
            kind = UW_KIND_TASK;
            break;
        }
        if (first && strcmp(name, "_GatheringFuture") == 0)
            is_gather = 1;
        if (strcmp(name, "_asyncio.Future") == 0) {
            kind = is_gather ? UW_KIND_GATHER : UW_KIND_FUTURE;
            break;
        }
        first = 0;
        if (uw_read_u64(t->r, cur + (uint64_t)t->l->type_base, &cur) != 0)
            break;
    }
    if (t->n_types < UW_TYPE_CACHE)
        t->types[t->n_types++] = (uw_type_verdict){type, kind};
    return kind;
}

/* The registry entry of an interpreter, searching sys.modules when needed. */
static uw_registry *uw_registry_for(uw_tasks *t, uint64_t interp, int force)
{
    uw_registry *g = NULL;
    uint64_t modules, mod, mdict, obj;
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
    memset(g, 0, sizeof *g);
    g->interp = interp;
    g->retry = UW_REGISTRY_RETRY;
    if (uw_read_u64(t->r, interp + (uint64_t)t->l->interp_modules, &modules) != 0)
        return g;
    /* The optional hook module's links buffer. */
    if (uw_dict_get_str(&t->pc, modules, "tornstack_hook", &mod) == 0 &&
        uw_read_u64(t->r, mod + (uint64_t)t->l->module_dict, &mdict) == 0 &&
        uw_dict_get_str(&t->pc, mdict, "_LINKS", &obj) == 0)
        g->hook = obj;
    if (uw_dict_get_str(&t->pc, modules, "asyncio.tasks", &mod) != 0 ||
        uw_read_u64(t->r, mod + (uint64_t)t->l->module_dict, &mdict) != 0)
        return g;
    if (uw_dict_get_str(&t->pc, mdict, t->al->scheduled_tasks, &obj) == 0 &&
        uw_obj_getattr(&t->pc, obj, "data", &g->scheduled) == 0)
        g->found = 1;
    if (t->al->eager_tasks != NULL && uw_dict_get_str(&t->pc, mdict, t->al->eager_tasks, &obj) == 0)
        g->eager = obj;
    return g;
}

/* The links written by the target's tornstack_hook module into its
 * bytearray: "TSLINKS1", count, then count records {child, parent, kind}. */
static void uw_read_hook_links(uw_tasks *t, uint64_t bytearray)
{
    uint8_t hdr[64];
    uint8_t *recs;
    uint64_t start, count;
    int64_t size;
    size_t i;

    t->n_hook = 0;
    if (bytearray == 0 ||
        uw_read(t->r, bytearray, hdr, (size_t)t->l->bytearray_start + 8) != 0)
        return;
    memcpy(&size, hdr + t->l->bytearray_size, sizeof size);
    start = uw_t64(hdr + t->l->bytearray_start);
    if (size < 16 || uw_read(t->r, start, hdr, 16) != 0 || memcmp(hdr, UW_LINKS_MAGIC, 8) != 0)
        return;
    count = uw_t64(hdr + 8);
    if (count > (uint64_t)(size - 16) / UW_LINK_RECORD)
        count = (uint64_t)(size - 16) / UW_LINK_RECORD;
    if (count > UW_LIMIT_LINK_RECORDS)
        count = UW_LIMIT_LINK_RECORDS;
    if (count == 0)
        return;
    recs = malloc((size_t)count * UW_LINK_RECORD);
    if (recs == NULL)
        return;
    if (uw_read(t->r, start + 16, recs, (size_t)count * UW_LINK_RECORD) == 0) {
        for (i = 0; i < count; i++) {
            const uint8_t *p = recs + i * UW_LINK_RECORD;
            uint64_t kind = uw_t64(p + 16);
            if (uw_t64(p) == 0 || (kind != UW_LINK_STRONG && kind != UW_LINK_CREATION))
                continue;
            if (uw_link_put(&t->hook, &t->n_hook, &t->cap_hook, uw_t64(p), uw_t64(p + 8),
                            (int)kind) != 0)
                break;
        }
    }
    free(recs);
}

/* Running loop of each thread (3.11/3.12: from tstate->dict). */
static void uw_running_loops(uw_tasks *t, uw_sample *s)
{
    size_t i;

    if (t->al->running_loop_key == NULL)
        return; /* 3.13: read with the thread state */
    for (i = 0; i < s->n_threads; i++) {
        uw_thread_sample *th = &s->threads[i];
        uint64_t v = 0;
        th->running_loop = 0;
        if (th->tstate_dict == 0 ||
            uw_dict_get_str(&t->pc, th->tstate_dict, t->al->running_loop_key, &v) != 0)
            continue;
        if (v == t->t->types.none)
            continue;
        if (t->al->holder_loop >= 0 &&
            uw_read_u64(t->r, v + (uint64_t)t->al->holder_loop, &v) != 0)
            continue;
        th->running_loop = v == t->t->types.none ? 0 : v;
    }
}

/* Keep each loop thread's epoch counter (its loop's ready deque) known to
 * the thread walk, and distrust a walk checked against another loop's
 * counter: that loop has stopped, and its deque may be freed and reused.
 * Returns how many threads got a counter they were not walked with (a new
 * loop, or the first sample): their walks lacked the epoch. */
static int uw_epochs(uw_tasks *t, uw_sample *s)
{
    size_t i;
    int fresh = 0;

    for (i = 0; i < s->n_threads; i++) {
        uw_thread_sample *th = &s->threads[i];
        uint64_t have = uw_epoch_loop(t, th->tstate), ready = 0, type = 0;
        char name[32];

        if (th->epoch_loop != 0 && th->epoch_loop != th->running_loop && th->truncated == 0)
            th->truncated = UW_ERR_INCOMPLETE;
        if (have == th->running_loop)
            continue;
        if (th->running_loop != 0 &&
            uw_obj_getattr(&t->pc, th->running_loop, t->al->loop_ready, &ready) == 0 &&
            uw_obj_type(&t->pc, ready, &type) == 0 &&
            uw_type_name(&t->pc, type, name, sizeof name) == 0 &&
            strcmp(name, "collections.deque") == 0 &&
            uw_epoch_set(t, th->tstate, th->running_loop,
                                  ready + (uint64_t)t->al->deque_state) == 0)
            fresh++;
        else
            (void)uw_epoch_set(t, th->tstate, 0, 0);
    }
    return fresh;
}

static int uw_cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Index of the working Task at addr (the work array is sorted), or -1. */
static int64_t uw_task_find(const uw_tasks *t, uint64_t addr)
{
    size_t lo = 0, hi = t->n_work;

    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (t->work[mid].addr == addr)
            return (int64_t)mid;
        if (t->work[mid].addr < addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

/* Registry keys of one interpreter -> candidate Task addresses in t->cand. */
static int uw_collect_candidates(uw_tasks *t, uw_registry *g, size_t *n_cand)
{
    size_t n = 0, nk = 0, i;
    int rc = 0, rc2;

    *n_cand = 0;
    if (t->root != 0) {
        rc = uw_set_keys(&t->pc, t->root, t->keys, UW_LIMIT_TASKS, &nk);
    } else if (g != NULL && g->scheduled != 0) {
        rc = uw_set_keys(&t->pc, g->scheduled, t->keys, UW_LIMIT_TASKS, &nk);
    }
    /* Weakrefs to Tasks (or Tasks directly, for an explicit root). */
    for (i = 0; i < nk; i++)
        t->iov[i] = (uw_iov){t->keys[i], t->buf + i * 24, 24, 0};
    (void)uw_readv(t->r, t->iov, nk);
    for (i = 0; i < nk; i++) {
        const uint8_t *w = t->buf + i * 24;
        uint64_t type, obj;
        if (t->iov[i].status != 0)
            continue;
        type = uw_t64(w + t->l->object_type);
        if (type == t->t->types.weakref && t->t->types.weakref != 0) {
            obj = uw_t64(w + t->l->weakref_object);
            if (obj == 0 || obj == t->t->types.none)
                continue; /* dead weakref */
            t->cand[n++] = obj;
        } else {
            t->cand[n++] = t->keys[i]; /* checked as a Task below */
        }
    }
    if (t->root == 0 && g != NULL && g->eager != 0) {
        rc2 = uw_set_keys(&t->pc, g->eager, t->keys, UW_LIMIT_TASKS - n, &nk);
        if (rc2 != 0 && rc == 0)
            rc = rc2;
        for (i = 0; i < nk && n < UW_LIMIT_TASKS; i++)
            t->cand[n++] = t->keys[i];
    }
    qsort(t->cand, n, sizeof *t->cand, uw_cmp_u64);
    for (i = 0, nk = 0; i < n; i++)
        if (nk == 0 || t->cand[nk - 1] != t->cand[i])
            t->cand[nk++] = t->cand[i];
    *n_cand = nk;
    return rc;
}

/* Read the candidates as Task objects; keep pending Tasks on a running loop
 * of this interpreter's threads. */
static void uw_read_tasks(uw_tasks *t, uw_sample *s, uint64_t interp, size_t n_cand)
{
    const uw_asyncio_layout *al = t->al;
    const size_t ts = (size_t)al->task_size;
    size_t i, j;

    for (i = 0; i < n_cand; i++)
        t->iov[i] = (uw_iov){t->cand[i], t->buf + i * ts, ts, 0};
    (void)uw_readv(t->r, t->iov, n_cand);
    for (i = 0; i < n_cand; i++) {
        const uint8_t *o = t->buf + i * ts;
        uint64_t loop;
        int32_t state;
        uw_task_work *w;

        if (t->iov[i].status != 0)
            continue;
        if (uw_type_kind(t, uw_t64(o + t->l->object_type)) != UW_KIND_TASK)
            continue;
        memcpy(&state, o + al->fut_state, sizeof state);
        if (state != al->state_pending)
            continue;
        loop = uw_t64(o + al->fut_loop);
        for (j = 0; j < s->n_threads; j++)
            if (s->threads[j].interp == interp && s->threads[j].running_loop == loop && loop != 0)
                break;
        if (j == s->n_threads)
            continue;
        w = &t->work[t->n_work++];
        memset(w, 0, sizeof *w);
        w->addr = t->cand[i];
        w->loop = loop;
        w->coro = uw_t64(o + al->task_coro);
        w->waiter = uw_t64(o + al->task_fut_waiter);
        w->name_obj = uw_t64(o + al->task_name);
        w->thread = j;
        w->cur = w->coro;
        w->active = 1;
        w->state = INT32_MIN;
    }
}

/* Walk every Task's await chain, one level for all Tasks at a time. */
static void uw_read_chains(uw_tasks *t)
{
    const uw_layout *l = t->l;
    const size_t win = (size_t)l->gen_iframe + (size_t)l->frame_size;
    const size_t fs = (size_t)l->frame_size;
    size_t level, i;

    for (level = 0;; level++) {
        size_t n = 0, m = 0;
        size_t *idx = (size_t *)(void *)t->keys; /* scratch: work index per piece */

        for (i = 0; i < t->n_work; i++) {
            uw_task_work *w = &t->work[i];
            if (!w->active)
                continue;
            if (level == UW_LIMIT_AWAIT_CHAIN) {
                w->active = 0;
                w->truncated = UW_ERR_LIMIT_AWAIT;
                continue;
            }
            t->iov[n] = (uw_iov){w->cur, t->buf + n * UW_CORO_WINDOW, win, 0};
            idx[n++] = i;
        }
        if (n == 0)
            break;
        (void)uw_readv(t->r, t->iov, n);
        /* Decode each coroutine; queue the reads that find its awaitee. */
        for (i = 0; i < n; i++) {
            uw_task_work *w = &t->work[idx[i]];
            const uint8_t *c = t->buf + i * UW_CORO_WINDOW;
            const uint8_t *f = c + l->gen_iframe;
            uint64_t type, frame = w->cur + (uint64_t)l->gen_iframe;
            int8_t state;
            int32_t stacktop;
            size_t k;
            int yield_from;

            if (t->iov[i].status != 0) {
                w->active = 0;
                if (level == 0)
                    w->skipped = UW_SKIP_BAD_CORO;
                else
                    w->truncated = t->iov[i].status;
                continue;
            }
            type = uw_t64(c + l->object_type);
            if (level > 0 && type == t->t->types.asend && type != 0) {
                /* async_generator_asend: continue with its generator */
                w->cur = uw_t64(c + t->al->asend_gen);
                continue;
            }
            if (type == 0 || (type != t->t->types.coro && type != t->t->types.asyncgen &&
                              type != t->t->types.gen)) {
                w->active = 0; /* a Future, FutureIter, ...: the chain ends */
                if (level == 0)
                    w->skipped = UW_SKIP_BAD_CORO;
                continue;
            }
            state = (int8_t)c[l->gen_frame_state];
            if (state >= l->state_completed || f[l->frame_owner] != l->owner_generator) {
                w->active = 0; /* finished, or torn: no frame to show */
                if (level == 0)
                    w->skipped = UW_SKIP_BAD_CORO;
                else
                    w->truncated = UW_SKIP_BAD_CORO;
                continue;
            }
            for (k = 0; k < w->n_cf; k++) {
                if (t->cf_addr[w->first_cf + k] == frame)
                    break;
            }
            if (k < w->n_cf) {
                w->active = 0;
                w->truncated = UW_ERR_AWAIT_CYCLE;
                continue;
            }
            if (t->n_cf == UW_TASK_FRAMES_MAX) {
                w->active = 0;
                w->truncated = UW_ERR_LIMIT_AWAIT;
                continue;
            }
            if (w->n_cf == 0) {
                w->first_cf = t->n_cf;
                w->state = state;
                w->root_code = uw_t64(f + l->frame_code);
            } else if (w->first_cf + w->n_cf != t->n_cf) {
                /* chains are laid out one level at a time: move this one's
                 * frames to the end so that each chain stays contiguous */
                size_t old = w->first_cf;
                if (t->n_cf + w->n_cf >= UW_TASK_FRAMES_MAX) {
                    w->active = 0;
                    w->truncated = UW_ERR_LIMIT_AWAIT;
                    continue;
                }
                for (k = 0; k < w->n_cf; k++) {
                    t->cf_addr[t->n_cf + k] = t->cf_addr[old + k];
                    t->cf_state[t->n_cf + k] = t->cf_state[old + k];
                    t->cf_yf[t->n_cf + k] = t->cf_yf[old + k];
                    memcpy(t->cf_bytes + (t->n_cf + k) * fs, t->cf_bytes + (old + k) * fs, fs);
                }
                w->first_cf = t->n_cf;
                t->n_cf += w->n_cf;
            }
            t->cf_addr[t->n_cf] = frame;
            t->cf_state[t->n_cf] = state;
            t->cf_yf[t->n_cf] = 0;
            memcpy(t->cf_bytes + t->n_cf * fs, f, fs);
            t->n_cf++;
            w->n_cf++;
            if (state == l->state_executing || state == l->state_created) {
                w->active = 0; /* running: the rest is on the thread stack */
                continue;
            }
            if (l->state_suspended_yield_from != UW_NO_STATE)
                yield_from = state == l->state_suspended_yield_from;
            else
                yield_from = state == l->state_suspended;
            memcpy(&stacktop, f + l->frame_stacktop, sizeof stacktop);
            if (!yield_from || stacktop < 1 || stacktop > (1 << 20)) {
                w->active = 0;
                continue;
            }
            /* Awaitee: the top of the frame's value stack; 3.11/3.12 also
             * need the next instruction to be RESUME with oparg >= 2 (an
             * await, not a plain yield of an async generator). */
            t->iov[n + m] = (uw_iov){frame + (uint64_t)l->frame_localsplus +
                                         8u * (uint64_t)(stacktop - 1),
                                     t->buf + n * UW_CORO_WINDOW + m * 16, 8, 0};
            idx[n + m] = idx[i];
            m++;
            if (l->state_suspended_yield_from == UW_NO_STATE) {
                t->iov[n + m] = (uw_iov){uw_t64(f + l->frame_instr) + 2,
                                         t->buf + n * UW_CORO_WINDOW + (m - 1) * 16 + 8, 2, 0};
                idx[n + m] = idx[i];
                m++;
            }
        }
        if (m == 0)
            continue;
        (void)uw_readv(t->r, t->iov + n, m);
        for (i = 0; i < m;) {
            uw_task_work *w = &t->work[idx[n + i]];
            const uint8_t *p = t->buf + n * UW_CORO_WINDOW + i * 16;
            uint64_t yf = uw_t64(p);
            int ok = t->iov[n + i].status == 0;
            if (l->state_suspended_yield_from == UW_NO_STATE) {
                int op = p[8], arg = p[9];
                ok = ok && t->iov[n + i + 1].status == 0 &&
                     (op == l->opcode_resume || op == l->opcode_resume_alt) && arg >= 2;
                i += 2;
            } else {
                i += 1;
            }
            if (!ok || yf == 0) {
                w->active = 0;
                continue;
            }
            t->cf_yf[w->first_cf + w->n_cf - 1] = yf;
            w->cur = yf;
        }
    }
}

/* Copy a name, cutting it at a UTF-8 character boundary to fit. */
static void uw_name_copy(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);

    if (n >= cap) {
        n = cap - 1;
        while (n > 0 && ((unsigned char)src[n] & 0xc0) == 0x80)
            n--; /* do not split a multi-byte character */
    }
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* Task names: a str, or (3.12+) an int counter shown as "Task-N". */
static void uw_read_names(uw_tasks *t, uw_sample *s)
{
    const uw_layout *l = t->l;
    size_t i;

    for (i = 0; i < t->n_work; i++)
        t->iov[i] = (uw_iov){t->work[i].name_obj, t->buf + i * UW_NAME_WINDOW, UW_NAME_WINDOW, 0};
    (void)uw_readv(t->r, t->iov, t->n_work);
    for (i = 0; i < t->n_work; i++) {
        uw_task_sample *ts = &s->tasks[t->work[i].out];
        const uint8_t *o = t->buf + i * UW_NAME_WINDOW;
        uint64_t type;
        char buf[UW_PYSTR_MAX_UTF8];
        int64_t v;
        int trunc = 0;

        snprintf(ts->name, sizeof ts->name, "?");
        if (t->iov[i].status != 0) {
            /* near the end of a mapping: read the object exactly */
            uint64_t type2;
            if (uw_obj_type(&t->pc, t->work[i].name_obj, &type2) != 0)
                continue;
            if (type2 == t->t->types.long_ && type2 != 0) {
                if (uw_long_value(&t->pc, t->work[i].name_obj, &v) == 0)
                    snprintf(ts->name, sizeof ts->name, "Task-%" PRId64, v);
            } else if (type2 == t->t->types.str && type2 != 0 &&
                       uw_pystr_read(t->r, l, t->work[i].name_obj, buf, sizeof buf, &trunc) == 0) {
                uw_name_copy(ts->name, sizeof ts->name, buf);
            }
            continue;
        }
        type = uw_t64(o + l->object_type);
        if (type == t->t->types.long_ && type != 0) {
            if (uw_long_parse(l, o, UW_NAME_WINDOW, &v) == 0)
                snprintf(ts->name, sizeof ts->name, "Task-%" PRId64, v);
        } else if (type == t->t->types.str && type != 0) {
            uw_pystr_header h;
            if (uw_pystr_parse_header(l, o, UW_NAME_WINDOW, &h) != 0)
                continue;
            if (h.data_off + (size_t)h.length * h.kind <= UW_NAME_WINDOW) {
                if (uw_pystr_to_utf8(o + h.data_off, (size_t)h.length, h.kind, h.ascii, buf,
                                     sizeof buf, NULL) == 0)
                    uw_name_copy(ts->name, sizeof ts->name, buf);
            } else if (uw_pystr_read(t->r, l, t->work[i].name_obj, buf, sizeof buf, &trunc) == 0) {
                uw_name_copy(ts->name, sizeof ts->name, buf);
            }
        }
    }
}

/* Children Tasks of a gather future (pending ones, nested gathers
 * flattened), appended to the sample as awaiting edges. */
static void uw_gather_children(uw_tasks *t, uw_sample *s, uint64_t fut, int depth)
{
    uint64_t list, items[256];
    size_t n = 0, i;

    if (depth >= UW_LIMIT_GATHER_NESTING)
        return;
    if (uw_obj_getattr(&t->pc, fut, "_children", &list) != 0)
        return;
    if (uw_list_items(&t->pc, list, items, sizeof items / sizeof items[0], &n) != 0) {
        /* more children than fit here: read them in a bigger buffer */
        uint64_t *big = malloc(UW_LIMIT_GATHER_CHILDREN * sizeof *big);
        if (big == NULL)
            return;
        if (uw_list_items(&t->pc, list, big, UW_LIMIT_GATHER_CHILDREN, &n) == 0) {
            for (i = 0; i < n; i++) {
                int64_t k = uw_task_find(t, big[i]);
                if (k >= 0)
                    (void)uw_sample_add_awaiting(s, t->work[k].out);
            }
        }
        free(big);
        return;
    }
    for (i = 0; i < n; i++) {
        int64_t k = uw_task_find(t, items[i]);
        uint64_t type;
        if (k >= 0) {
            (void)uw_sample_add_awaiting(s, t->work[k].out);
            continue;
        }
        if (uw_obj_type(&t->pc, items[i], &type) == 0 &&
            uw_type_kind(t, type) == UW_KIND_GATHER)
            uw_gather_children(t, s, items[i], depth + 1);
    }
}

/* Address of a Task's root coroutine frame, 0 when none was read. */
static uint64_t uw_root_frame(const uw_tasks *t, const uw_task_work *w)
{
    return w->n_cf > 0 ? t->cf_addr[w->first_cf] : 0;
}

/* Is addr the root coroutine frame of some Task of this sample? */
static int uw_is_root(const uw_tasks *t, uint64_t addr)
{
    size_t lo = 0, hi = t->n_work;

    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (t->roots[mid] == addr)
            return 1;
        if (t->roots[mid] < addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

/* Look for Task w on a thread stack (frames f[0..top), innermost first).
 * Found at the address of its root coroutine frame, running the same code:
 * it is the running Task, and owns f[j..k] where k is that frame and j-1
 * the next frame inward that is another Task's root coroutine frame (an
 * eager Task running nested in it).  Returns 1 found, 0 absent, or a skip
 * reason. */
static int uw_place(const uw_tasks *t, uw_task_work *w, const uw_frame *frames, size_t first,
                    int64_t top, int src)
{
    const uw_frame *f = frames + first;
    uint64_t root = uw_root_frame(t, w);
    int64_t k, j;

    if (root == 0)
        return 0;
    for (k = 0; k < top; k++)
        if (f[k].addr == root)
            break;
    if (k == top)
        return 0;
    if (t->opt.skip && f[k].code->addr != w->root_code)
        return UW_SKIP_CODE_MISMATCH;
    for (j = k; j > 0 && !uw_is_root(t, f[j - 1].addr); j--)
        ;
    w->own_src = src;
    w->own_first = first + (size_t)j;
    w->n_own = (size_t)(k - j + 1);
    w->on_stack = 1;
    return 1;
}

/* The frames a thread's loop runs now: above the outermost Handle._run
 * with the split, the whole stack without it. */
static int64_t uw_top(const uw_tasks *t, const uw_thread_sample *th)
{
    if (!t->opt.split)
        return (int64_t)th->n_frames;
    return th->split >= 0 ? th->split : 0;
}

/* Place running Tasks on their threads' stacks and apply the skip rules.
 *
 * The thread walk came first (instant t0), the Task objects after (t1), so
 * the two can disagree.  A Task whose root coroutine frame is on the stack
 * at t0 (running the Task's code) was running at t0 and its frames at t0
 * are known: it is placed there, whatever its coroutine state reads at
 * t1.  A Task that reads as executing at t1 but was not on the stack at t0
 * started after the walk: its thread is walked once more, and if it is not
 * there either, it is skipped rather than given someone else's frames.
 * Two Tasks claiming one frame are both skipped. */
static void uw_attribute(uw_tasks *t, uw_sample *s)
{
    const uw_layout *l = t->l;
    size_t th_i, i, j;

    for (i = 0; i < t->n_work; i++)
        t->roots[i] = uw_root_frame(t, &t->work[i]);
    qsort(t->roots, t->n_work, sizeof *t->roots, uw_cmp_u64);
    for (th_i = 0; th_i < s->n_threads; th_i++) {
        uw_thread_sample *th = &s->threads[th_i];
        int64_t top = uw_top(t, th);
        int any = 0, again = 0;

        th->pending = 0;
        th->pure_start = t->opt.split ? (th->split >= 0 ? th->split : 0) : 0;
        for (i = 0; i < t->n_work; i++)
            any |= t->work[i].thread == th_i;
        if (!any)
            continue;
        /* A thread walk cut short: the running Task's frames cannot be
         * trusted, so a Task that reads as executing is skipped.  A Task
         * that reads as suspended gets its coroutine chain, which is
         * checked on its own (uw_validate): its true stack when read. */
        if (t->opt.skip && th->truncated != 0 && th->truncated != UW_ERR_DEPTH) {
            for (i = 0; i < t->n_work; i++)
                if (t->work[i].thread == th_i && t->work[i].skipped == 0 &&
                    t->work[i].state == l->state_executing)
                    t->work[i].skipped = UW_SKIP_THREAD_TRUNCATED;
            if (!t->second_round)
                s->thread_skips[uw_reason_slot(UW_SKIP_THREAD_TRUNCATED)]++;
            continue;
        }
        for (i = 0; i < t->n_work; i++) {
            uw_task_work *w = &t->work[i];
            int rc;
            if (w->thread != th_i || w->skipped != 0)
                continue;
            rc = uw_place(t, w, s->frames, th->first_frame, top, 0);
            if (rc < 0)
                w->skipped = rc;
            else if (rc == 0 && w->state == l->state_executing)
                again = 1;
        }
        if (again && t->opt.skip && !t->second_round) {
            th->pending = 1; /* looked at again in a second round */
            continue;
        }
        for (i = 0; i < t->n_work; i++) {
            uw_task_work *w = &t->work[i];
            if (w->thread != th_i || w->skipped != 0 || w->on_stack ||
                w->state != l->state_executing)
                continue;
            if (t->opt.skip) {
                w->skipped = UW_SKIP_NOT_ON_STACK;
            } else if (top > 0) {
                /* no skip rules: give it whatever the loop runs */
                w->own_src = 0;
                w->own_first = th->first_frame;
                w->n_own = (size_t)top;
                w->on_stack = 1;
            }
        }
        /* Two Tasks placed on the same frame: compare only the Tasks that
         * were placed (a handful), not every pair of Tasks. */
        if (t->opt.skip) {
            size_t *placed = (size_t *)(void *)t->cand, np = 0;
            for (i = 0; i < t->n_work; i++)
                if (t->work[i].thread == th_i && t->work[i].on_stack)
                    placed[np++] = i;
            for (i = 0; i < np; i++) {
                for (j = i + 1; j < np; j++) {
                    uw_task_work *a = &t->work[placed[i]], *b = &t->work[placed[j]];
                    if (a->own_src != b->own_src ||
                        a->own_first + a->n_own != b->own_first + b->n_own)
                        continue;
                    a->skipped = b->skipped = UW_SKIP_CLAIMED_TWICE;
                }
            }
        }
    }
}

/* Second round for Tasks that read as executing but were not on their
 * thread's stack: walk each such thread again (into t->again), read those
 * Tasks' chains again, and place them on the new stack.  A Task found there
 * is running at the new walk; one whose chain now reads as suspended gets
 * that chain (its true stack when read); one executing again is skipped. */
static void uw_second_round(uw_tasks *t, uw_sample *s)
{
    const uw_layout *l = t->l;
    size_t th_i, i, first_cf = t->n_cf;
    int any = 0;

    uw_sample_reset(&t->again);
    for (th_i = 0; th_i < s->n_threads; th_i++) {
        uw_thread_sample *th = &s->threads[th_i];
        const uw_thread_sample *th2;
        if (!th->pending)
            continue;
        if (uw__unwind_one_thread(t->u, th->tstate, th->interp, th->interp_id, &t->again) != 0)
            continue;
        th2 = &t->again.threads[t->again.n_threads - 1];
        if (th2->truncated != 0 && th2->truncated != UW_ERR_DEPTH)
            continue;
        for (i = 0; i < t->n_work; i++) {
            uw_task_work *w = &t->work[i];
            int rc;
            if (w->thread != th_i || w->skipped != 0 || w->on_stack ||
                w->state != l->state_executing)
                continue;
            rc = uw_place(t, w, t->again.frames, th2->first_frame, uw_top(t, th2), 1);
            if (rc < 0) {
                w->skipped = rc;
            } else if (rc == 0 && th->top_dropped && th2->top_dropped) {
                /* its frames changed under both walks: not placeable */
                w->skipped = UW_SKIP_RUNNING_TORN;
            } else if (rc == 0) {
                /* read its chain again, from the root */
                w->cur = w->coro;
                w->n_cf = 0;
                w->active = 1;
                w->state = INT32_MIN;
                w->truncated = 0;
                any = 1;
            }
        }
    }
    if (!any)
        return;
    uw_read_chains(t);
    (void)uw__frames_from_copies(t->u, t->cf_addr + first_cf,
                                t->cf_bytes + first_cf * (size_t)l->frame_size,
                                t->n_cf - first_cf, t->cf_frame + first_cf,
                                t->cf_status + first_cf);
}

/* After the chains were read level by level (over a stretch of time), check
 * them in one vectored read: every loop's epoch, then a copy A of what each
 * Task depends on, then a second copy B of the same, then the epochs again.
 * A Task is kept only if
 *   - A equals what the chain read saw: the Task still pending with the
 *     same coroutine (so its root coroutine stayed alive), and every
 *     coroutine of its chain in the same state at the same instruction,
 *     with the same value-stack depth and awaitee, and its `previous`
 *     cleared (a coroutine marks itself suspended before it unlinks);
 *   - B equals A, byte for byte;
 *   - its loop's epoch did not move between the first and the last piece.
 * Equal values alone prove nothing across callbacks: a Task whose step
 * ended and whose next step began between two reads can show the same
 * values again (ABA), mixed from two steps.  With the epoch unchanged, one
 * callback ran at most, so one Task's chain moved at most, and only within
 * one step: resumed root first, suspended innermost first.  Two root-first
 * copies of it, one after the other, cannot then agree on a mix of before
 * and after (docs/tasks.md has the argument).  A moved epoch gets the read
 * retried (UW_VALIDATE_RETRIES); still moving, the Tasks of that loop that
 * are not on the thread stack are skipped (loop_stepped_while_read).
 * Running Tasks placed on the thread stack only need the Task check. */
#define UW_VALIDATE_RETRIES 3
static void uw_validate(uw_tasks *t)
{
    const uw_layout *l = t->l;
    const uw_asyncio_layout *al = t->al;
    const size_t win = (size_t)l->gen_iframe + (size_t)l->frame_size;
    /* Task fields fut_state .. task_coro in one piece */
    const size_t lo = (size_t)(al->fut_state < al->task_coro ? al->fut_state : al->task_coro);
    const size_t hi = (size_t)(al->fut_state > al->task_coro ? al->fut_state + 4 : al->task_coro + 8);
    const size_t cap = UW_LIMIT_TASKS - UW_TASK_EPOCHS; /* pieces of one copy */
    const size_t room = UW_LIMIT_TASKS * (size_t)UW_CORO_WINDOW / 2; /* bytes of one copy */
    size_t i, k, n = 0, na, ne = t->n_ep, used = 0;
    uint8_t *out = t->buf; /* copy A in the first half, copy B in the second */
    uw_iov *a;
    unsigned attempt;
    int stepped = 0;

    a = t->iov + ne;
    for (i = 0; i < t->n_work && n + 1 < cap; i++) {
        uw_task_work *w = &t->work[i];
        if (w->skipped != 0)
            continue;
        if (used + (hi - lo) > room) {
            w->skipped = UW_SKIP_TASK_CHANGED; /* cannot check it: do not trust it */
            continue;
        }
        a[n++] = (uw_iov){w->addr + lo, out + used, hi - lo, 0};
        used += hi - lo;
        if (w->on_stack)
            continue;
        for (k = 0; k < w->n_cf; k++) {
            size_t c = w->first_cf + k;
            uint64_t coro = t->cf_addr[c] - (uint64_t)l->gen_iframe;
            int32_t stacktop;
            size_t len = win;
            memcpy(&stacktop, t->cf_bytes + c * (size_t)l->frame_size + l->frame_stacktop, 4);
            /* the awaitee too (the last one's as well: a Task whose
             * coroutine now awaits a coroutine where it awaited a Future
             * has a longer chain), when it lies close to the frame */
            if (t->cf_yf[c] != 0 && stacktop >= 1 && stacktop <= 16)
                len = (size_t)l->gen_iframe + (size_t)l->frame_localsplus + 8u * (size_t)stacktop;
            if (len < win)
                len = win;
            if (n + 1 >= cap || used + len > room) {
                w->skipped = UW_SKIP_TASK_CHANGED;
                break;
            }
            a[n++] = (uw_iov){coro, out + used, len, 0};
            used += len;
        }
    }
    /* [epochs a][copy A][copy B][epochs b], one call */
    na = n;
    for (k = 0; k < ne; k++)
        t->iov[k] = (uw_iov){t->ep[k].counter, &t->ep[k].a, 8, 0};
    for (i = 0; i < n; i++)
        a[n + i] = (uw_iov){a[i].addr, (uint8_t *)a[i].dst + room, a[i].len, 0};
    for (k = 0; k < ne; k++)
        a[2 * n + k] = (uw_iov){t->ep[k].counter, &t->ep[k].b, 8, 0};
    UW_ASSERT(2 * ne + 2 * n <= 2 * UW_LIMIT_TASKS);
    for (attempt = 0;; attempt++) {
        (void)uw_readv(t->r, t->iov, 2 * ne + 2 * n);
        stepped = 0;
        for (k = 0; k < ne; k++) {
            t->ep[k].moved = t->iov[k].status != 0 || a[2 * n + k].status != 0 ||
                             t->ep[k].a != t->ep[k].b;
            stepped |= t->ep[k].moved;
        }
        if (!stepped || attempt == UW_VALIDATE_RETRIES)
            break;
    }
    n = 0;
    for (i = 0; i < t->n_work; i++) {
        uw_task_work *w = &t->work[i];
        const uint8_t *tb;
        size_t first = n;
        int32_t st;
        int ok;
        if (w->skipped != 0)
            continue;
        tb = a[n].dst;
        memcpy(&st, tb + (al->fut_state - (int32_t)lo), 4);
        ok = a[n].status == 0 && st == al->state_pending &&
             uw_t64(tb + (al->task_coro - (int32_t)lo)) == w->coro;
        n++;
        if (!w->on_stack) {
            for (k = 0; k < w->n_cf; k++) {
                size_t c = w->first_cf + k;
                const uint8_t *co = a[n].dst, *f = co + l->gen_iframe;
                const uint8_t *mine = t->cf_bytes + c * (size_t)l->frame_size;
                int32_t stacktop;
                ok = ok && a[n].status == 0 &&
                     (int8_t)co[l->gen_frame_state] == t->cf_state[c] &&
                     memcmp(f + l->frame_instr, mine + l->frame_instr, 8) == 0 &&
                     memcmp(f + l->frame_code, mine + l->frame_code, 8) == 0;
                /* A coroutine marks itself suspended before it unlinks from
                 * the thread stack and clears its `previous`: until then its
                 * Task still runs and its chain is not yet its stack.  (A
                 * never-started one may keep the copied `previous` of the
                 * frame that created it; it was never linked.) */
                ok = ok && (t->cf_state[c] == (int8_t)l->state_created ||
                            uw_t64(f + l->frame_previous) == 0);
                memcpy(&stacktop, mine + l->frame_stacktop, 4);
                ok = ok && memcmp(f + l->frame_stacktop, mine + l->frame_stacktop, 4) == 0;
                if (ok && t->cf_yf[c] != 0) {
                    size_t at = (size_t)l->gen_iframe + (size_t)l->frame_localsplus +
                                8u * (size_t)(stacktop - 1);
                    ok = stacktop >= 1 && at + 8 <= a[n].len && uw_t64(co + at) == t->cf_yf[c];
                }
                n++;
            }
        }
        for (k = first; ok && k < n; k++) /* the second copy read the same */
            ok = a[na + k].status == 0 && memcmp(a[k].dst, a[na + k].dst, a[k].len) == 0;
        if (!ok) {
            w->skipped = UW_SKIP_TASK_CHANGED;
            continue;
        }
        if (w->on_stack)
            continue;
        for (k = 0; k < ne; k++)
            if (t->ep[k].thread == w->thread && t->ep[k].moved)
                w->skipped = UW_SKIP_LOOP_STEPPED;
    }
}

/* Append a Task's own frames to the sample, innermost first. */
static int uw_task_frames(uw_tasks *t, uw_sample *s, uw_task_work *w, uw_task_sample *ts)
{
    size_t k, end;
    int rc;

    ts->first_frame = s->n_frames;
    if (w->skipped != 0)
        return 0;
    if (w->on_stack && t->opt.task_depth != 0) {
        size_t i;
        for (i = 0; i < w->n_own; i++) {
            /* through a local: adding a frame may move s->frames */
            uw_frame f = w->own_src == 0 ? s->frames[w->own_first + i]
                                         : t->again.frames[w->own_first + i];
            rc = uw_sample_add_frame(s, &f);
            if (rc != 0)
                return rc;
            ts->n_frames++;
        }
        return 0;
    }
    /* Chain frames, root first in memory; cut at the first bad one. */
    for (end = 0; end < w->n_cf; end++)
        if (t->cf_status[w->first_cf + end] < 0)
            break;
    if (end < w->n_cf && ts->truncated == 0)
        ts->truncated = t->cf_status[w->first_cf + end];
    for (k = end; k-- > 0;) {
        size_t c = w->first_cf + k;
        if (t->opt.task_depth == 0) {
            /* Earlier policy: unwind each coroutine frame's whole chain. */
            uw_thread_sample tmp;
            memset(&tmp, 0, sizeof tmp);
            tmp.first_frame = s->n_frames;
            rc = uw__unwind_chain(t->u, t->cf_addr[c], 0, s, &tmp);
            if (rc != 0)
                return rc;
            ts->n_frames += tmp.n_frames;
            continue;
        }
        if (t->cf_status[c] != 0)
            continue;
        rc = uw_sample_add_frame(s, &t->cf_frame[c]);
        if (rc != 0)
            return rc;
        ts->n_frames++;
    }
    return 0;
}

/* Awaiting edges read from memory, then strong and creation links. */
static void uw_links(uw_tasks *t, uw_sample *s)
{
    const uw_link *tabs[2] = {t->links, t->hook};
    const size_t ns[2] = {t->n_links, t->n_hook};
    size_t i, j, q;

    size_t nw = 0;
    uint64_t *types = t->keys;

    /* The types of all waiters that are not Tasks, in one vectored read. */
    for (i = 0; i < t->n_work; i++) {
        uint64_t w = t->work[i].waiter;
        t->iov[i] = (uw_iov){w + (uint64_t)t->l->object_type, &types[i], 8, 0};
        if (w == 0 || uw_task_find(t, w) >= 0)
            t->iov[i].len = 0;
        else
            nw++;
    }
    if (nw > 0)
        (void)uw_readv(t->r, t->iov, t->n_work);
    for (i = 0; i < t->n_work; i++) {
        uw_task_work *w = &t->work[i];
        uw_task_sample *ts = &s->tasks[i];
        int64_t k;

        ts->first_awaiting = s->n_awaiting;
        if (w->waiter != 0) {
            k = uw_task_find(t, w->waiter);
            if (k >= 0)
                (void)uw_sample_add_awaiting(s, (size_t)k);
            else if (nw > 0 && t->iov[i].len != 0 && t->iov[i].status == 0 &&
                     uw_type_kind(t, types[i]) == UW_KIND_GATHER)
                uw_gather_children(t, s, w->waiter, 0);
        }
        ts->n_awaiting = s->n_awaiting - ts->first_awaiting;
    }
    for (i = 0; i < s->n_tasks; i++) {
        const uw_task_sample *ts = &s->tasks[i];
        for (j = 0; j < ts->n_awaiting; j++) {
            uw_task_sample *c = &s->tasks[s->awaiting[ts->first_awaiting + j]];
            if (c->awaited_by < 0 && c != ts)
                c->awaited_by = (int64_t)i;
        }
    }
    for (q = 0; q < 2; q++) {
        for (j = 0; j < ns[q]; j++) {
            int64_t c = uw_task_find(t, tabs[q][j].child);
            int64_t p = uw_task_find(t, tabs[q][j].parent);
            if (c < 0 || p < 0 || c == p)
                continue;
            if (tabs[q][j].kind == UW_LINK_STRONG && s->tasks[c].linked_to < 0)
                s->tasks[c].linked_to = p;
            if (tabs[q][j].kind == UW_LINK_CREATION && s->tasks[c].created_by < 0)
                s->tasks[c].created_by = p;
        }
    }
    for (i = 0; i < s->n_tasks; i++) {
        uw_task_sample *ts = &s->tasks[i];
        ts->parent = ts->awaited_by >= 0   ? ts->awaited_by
                     : ts->linked_to >= 0  ? ts->linked_to
                                           : ts->created_by;
    }
}

static int uw_unwind_tasks_now(uw_tasks *t, uw_sample *s)
{
    size_t i, j;
    int rc = 0;

    s->n_tasks = 0;
    s->n_awaiting = 0;
    t->n_work = 0;
    t->n_hook = 0;
    uw_running_loops(t, s);
    if (uw_epochs(t, s) > 0) {
        /* A loop seen for the first time: its thread was walked without the
         * loop's epoch, which a Task step reusing the same slots can fool.
         * Walk the threads again, now with it (once per new loop). */
        rc = uw_unwind_threads(t->u, s);
        if (rc != 0)
            return rc;
        uw_running_loops(t, s);
        (void)uw_epochs(t, s);
    }
    t->n_ep = 0;
    for (i = 0; i < s->n_threads && t->n_ep < UW_TASK_EPOCHS; i++) {
        uint64_t loop = 0, counter = 0;
        if (s->threads[i].running_loop != 0 &&
            uw_epoch_get(t, s->threads[i].tstate, &loop, &counter) == 0 &&
            loop == s->threads[i].running_loop) {
            memset(&t->ep[t->n_ep], 0, sizeof t->ep[0]);
            t->ep[t->n_ep].thread = i;
            t->ep[t->n_ep].counter = counter;
            t->n_ep++;
        }
    }
    for (i = 0; i < s->n_threads; i++) {
        uint64_t interp = s->threads[i].interp;
        uw_registry *g;
        size_t n_cand = 0;
        int seen = 0;

        s->threads[i].pure_start = 0;
        if (s->threads[i].running_loop == 0)
            continue;
        for (j = 0; j < i; j++)
            seen |= s->threads[j].running_loop != 0 && s->threads[j].interp == interp;
        if (seen)
            continue; /* this interpreter's Tasks were read already */
        g = uw_registry_for(t, interp, 0);
        if (g == NULL || (t->root == 0 && !g->found))
            continue;
        rc = uw_collect_candidates(t, g, &n_cand);
        if (rc == UW_ERR_BAD_OBJECT && t->root == 0) {
            /* the registry moved (or was never right): search again once */
            g = uw_registry_for(t, interp, 1);
            rc = g != NULL && g->found ? uw_collect_candidates(t, g, &n_cand) : 0;
        }
        if (rc == UW_ERR_NO_PROCESS)
            return rc;
        if (rc != 0 && s->tasks_error == 0)
            s->tasks_error = rc;
        if (g != NULL && g->hook != 0)
            uw_read_hook_links(t, g->hook);
        if (t->n_work + n_cand > UW_LIMIT_TASKS)
            n_cand = UW_LIMIT_TASKS - t->n_work;
        uw_read_tasks(t, s, interp, n_cand);
    }
    if (t->n_work == 0)
        return 0;
    qsort(t->work, t->n_work, sizeof *t->work, uw_cmp_u64); /* addr is the first member */
    for (i = 0; i < t->n_work; i++) {
        uw_task_sample *ts;
        rc = uw_sample_add_task(s, &ts);
        if (rc != 0)
            return rc;
        t->work[i].out = i;
        ts->addr = t->work[i].addr;
        ts->coro = t->work[i].coro;
        ts->loop = t->work[i].loop;
        ts->thread = t->work[i].thread;
    }
    t->n_cf = 0;
    uw_read_chains(t);
    rc = uw__frames_from_copies(t->u, t->cf_addr, t->cf_bytes, t->n_cf, t->cf_frame, t->cf_status);
    if (rc != 0)
        return rc;
    t->second_round = 0;
    uw_attribute(t, s);
    if (t->opt.skip) {
        uw_second_round(t, s);
        t->second_round = 1;
        uw_attribute(t, s); /* what is still executing and unplaced is skipped */
        uw_validate(t);
    }
    uw_read_names(t, s);
    for (i = 0; i < t->n_work; i++) {
        uw_task_work *w = &t->work[i];
        uw_task_sample *ts = &s->tasks[i];
        ts->running = w->on_stack;
        ts->coro_frame = uw_root_frame(t, w);
        ts->skipped = w->skipped;
        ts->truncated = w->truncated;
        if (w->n_cf > 0 && t->cf_status[w->first_cf] == 0)
            ts->coro_code = t->cf_frame[w->first_cf].code;
        rc = uw_task_frames(t, s, w, ts);
        if (rc != 0)
            return rc;
        if (ts->skipped != 0)
            s->skips[uw_reason_slot(ts->skipped)]++;
    }
    uw_links(t, s);
    return 0;
}

/* The sample's read counts cover the whole sample: the thread walk that
 * came first (already in s->calls), then everything read here, a second
 * walk of the threads included (which resets the counts to its own). */
int uw_unwind_tasks(uw_tasks *t, uw_sample *s)
{
    uint64_t calls, bytes, c0, b0;
    int rc;

    if (t == NULL || s == NULL)
        return UW_ERR_INVALID_ARG;
    calls = s->calls;
    bytes = s->bytes;
    c0 = t->r->calls;
    b0 = t->r->bytes;
    rc = uw_unwind_tasks_now(t, s);
    s->calls = calls + (t->r->calls - c0);
    s->bytes = bytes + (t->r->bytes - b0);
    return rc;
}
