/*
 * test_truth.c — the model's truth agrees with its memory.
 *
 * The oracle judges the unwinder by the truth (model/truth.h); if the
 * truth said something memory does not, every verdict built on it would
 * be wrong.  So, store by store through random classic and server
 * programs of every version, a direct reader of the model's memory (no
 * unwinder code, and nothing the mutator keeps) finds at each instant:
 *   - each thread's linked frames (current frame, then `previous`), with
 *     code and line, equal to its loop's truth stack;
 *   - each live Task's object: a Task, pending, holding the truth's root
 *     coroutine; its name (once stored) the truth's name, an int counter
 *     shown as Task-N; marked executing exactly when the truth says so;
 *     its root frame linked exactly when the truth says it runs;
 *   - for a Task not running (marked executing or not: a root resumed but
 *     not linked yet, or unlinked and not cleared yet, shows its chain
 *     too), its chain as the awaitee pointers link it (state, RESUME
 *     oparg or 3.13's yield-from state, the value stack's top, below the
 *     None a step sends to the root when it is there; a cleared
 *     coroutine ends it) equal to the truth's chain, frame by frame;
 *   - fut_waiter: none, a Future, the awaited Task, or the gather future
 *     whose _children are the truth's;
 *   - every hook record naming a live child names the parent the truth
 *     holds for that kind;
 *   - 3.14+: each thread's list of native Tasks, followed by `next` from
 *     its head, holds exactly the Tasks the truth calls listed (each
 *     marked task_is_task); each live Task's task_awaited_by is the Task
 *     the truth names, or NULL, never a set; each thread state's running
 *     Task is the truth's; frames hold tagged references (masked here),
 *     a coroutine's stack pointer is `stackpointer`, 3.15 keeps a NULL
 *     reference above the awaitee, an entry frame sits between
 *     Handle._run and a Task's root coroutine or a callback (and may be
 *     the current frame for an instant), and every thread's frames end at
 *     its entry frame (then, on 3.15, at its thread state's base frame);
 *   - 3.13+: the init shim, under a Python __init__ (or the current frame
 *     for an instant), is the one frame linked that no truth stack holds.
 * Seeds: TORNSTACK_SEED as in test_model.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tornstack/limits.h"
#include "campaign.h"
#include "mut_internal.h"

/* Stores of each program checked, one instant after each. */
#define MM_TRUTH_STORES 12000

static uint64_t seed;

static uint64_t rd64(const mm_space *sp, uint64_t a)
{
    uint64_t v = 0;
    (void)mm_space_read(sp, a, &v, 8);
    return v;
}

/* A _PyStackRef word as a pointer (3.14+: the tag bits cleared). */
static uint64_t ref(const mm_image *im, uint64_t w)
{
    return im->l->frame_tagged ? w & ~(uint64_t)im->l->stackref_tag_bits : w;
}

static int owner_of(const mm_image *im, uint64_t f)
{
    uint8_t o = 0;
    (void)mm_space_read(im->space, f + (uint64_t)im->l->frame_owner, &o, 1);
    return o;
}

/* The line of ip; a frame that never started (ip before the first unit)
 * is at its first line, as CPython says. */
static int line_of(const mm_image *im, uint64_t code, uint64_t ip)
{
    return mm_fab_line_of(im, code, ip);
}

/* Does str object s read as the ASCII string want? */
static int str_is(const mm_image *im, uint64_t s, const char *want)
{
    const uw_layout *l = im->l;
    char got[32];
    uint64_t len;

    if (s == 0 || rd64(im->space, s + (uint64_t)l->object_type) != im->target.types.str)
        return 0;
    len = rd64(im->space, s + (uint64_t)l->unicode_length);
    if (len != strlen(want))
        return 0;
    memset(got, 0, sizeof got);
    (void)mm_space_read(im->space, s + (uint64_t)l->unicode_ascii_data, got, (size_t)len);
    return strcmp(got, want) == 0;
}

/* 3.13+: is frame f the init shim, never shown, so never on a truth
 * stack: owned by the thread, its code named and filed "__init__", before
 * its first traceable instruction? */
static int init_shim(const mm_image *im, uint64_t f)
{
    const uw_layout *l = im->l;
    uint64_t code = ref(im, rd64(im->space, f + (uint64_t)l->frame_code));
    uint64_t ip = rd64(im->space, f + (uint64_t)l->frame_instr);
    int32_t first = 0;

    if (owner_of(im, f) != l->owner_thread || code == 0 ||
        !str_is(im, rd64(im->space, code + (uint64_t)l->code_qualname), "__init__") ||
        !str_is(im, rd64(im->space, code + (uint64_t)l->code_filename), "__init__"))
        return 0;
    (void)mm_space_read(im->space, code + (uint64_t)l->code_firsttraceable, &first, 4);
    return ip < code + (uint64_t)l->code_adaptive + 2u * (uint64_t)first;
}

static void disagree(const char *what, uint64_t t, int32_t id)
{
    fprintf(stderr, "truth and memory disagree at t=%llu, task #%d: %s (TORNSTACK_SEED=%llu)\n",
            (unsigned long long)t, id, what, (unsigned long long)seed);
    fail_msg("%s", what);
}

/* Each thread's linked frames against its loop's truth stack. */
static void check_loops(const mm_image *im, mm_mutator *m)
{
    const mm_world *w = mm_mutator_world(m);
    const uw_layout *l = im->l;
    int loop;

    for (loop = 0; loop < mm_world_loops(w); loop++) {
        const mm_tloop *L = mm_world_loop_cur(w, loop);
        uint64_t f = rd64(im->space, im->th[loop].current_slot);
        int i = L->n - 1;
        for (; f != 0 && i >= 0; i--) {
            uint64_t code;
            if (l->owner_interpreter != UW_ABSENT && f == im->th[loop].cstack) {
                /* 3.14+: an entry frame above Handle._run, no Python frame */
                if (owner_of(im, f) != l->owner_interpreter ||
                    ref(im, rd64(im->space, f + (uint64_t)l->frame_code)) != im->target.types.none)
                    disagree("an entry frame", mm_mutator_time(m), -1);
                f = rd64(im->space, f + (uint64_t)l->frame_previous);
                i++;
                continue;
            }
            if (l->py_minor >= 13 && init_shim(im, f)) {
                /* 3.13+: under a Python __init__ (or the current frame
                 * for an instant), hidden */
                f = rd64(im->space, f + (uint64_t)l->frame_previous);
                i++;
                continue;
            }
            code = ref(im, rd64(im->space, f + (uint64_t)l->frame_code));
            if (L->f[i].addr != f || L->f[i].code != code ||
                L->f[i].line != line_of(im, code, rd64(im->space, f + (uint64_t)l->frame_instr)))
                disagree("a linked frame", mm_mutator_time(m), -1);
            f = rd64(im->space, f + (uint64_t)l->frame_previous);
        }
        /* 3.14+: then the entry frame, 3.15: then the base frame */
        if (f != im->th[loop].bottom || i != -1)
            disagree("the number of linked frames", mm_mutator_time(m), -1);
        if (f != 0) {
            if (owner_of(im, f) != l->owner_interpreter ||
                ref(im, rd64(im->space, f + (uint64_t)l->frame_code)) != im->target.types.none)
                disagree("the entry frame", mm_mutator_time(m), -1);
            f = rd64(im->space, f + (uint64_t)l->frame_previous);
            if (f != im->th[loop].base_frame ||
                (f != 0 &&
                 (owner_of(im, f) != l->owner_interpreter ||
                  rd64(im->space, f + (uint64_t)l->frame_previous) != 0 ||
                  rd64(im->space, im->th[loop].tstate + (uint64_t)l->tstate_base_frame) != f)))
                disagree("the base frame", mm_mutator_time(m), -1);
        }
    }
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* 3.14+: the thread's list of native Tasks from its head (`next`), and the
 * running Task in its thread state, against the truth. */
static void check_lists(const mm_image *im, mm_mutator *m)
{
    static uint64_t seen[1 << 16];
    const mm_world *w = mm_mutator_world(m);
    const uw_layout *l = im->l;
    const uw_asyncio_layout *al = im->al;
    uint64_t t = mm_mutator_time(m);
    size_t id, n_seen = 0, listed = 0;
    int loop;

    if (l->tstate_asyncio_tasks_head == UW_ABSENT)
        return;
    for (loop = 0; loop < mm_world_loops(w); loop++) {
        uint64_t head = im->th[loop].tasks_head;
        uint64_t node = rd64(im->space, head + (uint64_t)l->llist_next), want = 0;
        const mm_tloop *L = mm_world_loop_cur(w, loop);
        while (node != head && n_seen < sizeof seen / sizeof seen[0]) {
            uint64_t task = node - (uint64_t)al->task_node;
            uint8_t is_task = 0;
            (void)mm_space_read(im->space, task + (uint64_t)al->fut_is_task, &is_task, 1);
            if (is_task != 1)
                disagree("a listed Task without task_is_task", t, -1);
            seen[n_seen++] = task * 4 + (uint64_t)loop; /* loop in the low bits */
            node = rd64(im->space, node + (uint64_t)l->llist_next);
        }
        if (node != head)
            disagree("a Task list that does not come back to its head", t, -1);
        if (L->running_task.id >= 0) {
            const mm_ttask *k = mm_world_task_cur(w, L->running_task.id);
            want = k->gen == L->running_task.gen ? k->addr : 1;
        }
        if (want != 1 &&
            rd64(im->space, im->th[loop].tstate + (uint64_t)l->tstate_asyncio_running_task) != want)
            disagree("the running Task", t, -1);
    }
    qsort(seen, n_seen, sizeof seen[0], cmp_u64);
    for (id = 0; id < mm_world_tasks(w); id++) {
        const mm_ttask *k = mm_world_task_cur(w, (int32_t)id);
        uint64_t key = k->addr * 4 + (uint64_t)k->loop;
        if (!k->listed)
            continue;
        listed++;
        if (bsearch(&key, seen, n_seen, sizeof seen[0], cmp_u64) == NULL)
            disagree("a Task the truth calls listed is not on its thread's list", t, (int32_t)id);
    }
    if (listed != n_seen)
        disagree("a Task on a list the truth does not call listed", t, -1);
}

/* 3.14+: task_awaited_by of a live Task against the truth (the mutator
 * never gives a Task two awaiters: never a set). */
static void check_awaited_by(const mm_image *im, const mm_world *w, const mm_ttask *k, int32_t id,
                             uint64_t t)
{
    uint64_t ab, want = 0;
    uint8_t is_set = 1;

    if (im->al->fut_awaited_by < 0)
        return;
    ab = rd64(im->space, k->addr + (uint64_t)im->al->fut_awaited_by);
    (void)mm_space_read(im->space, k->addr + (uint64_t)im->al->fut_awaited_by_is_set, &is_set, 1);
    if (k->amem.id >= 0) {
        const mm_ttask *p = mm_world_task_cur(w, k->amem.id);
        if (p->gen != k->amem.gen)
            return; /* that awaiter is gone; its address may be reused */
        want = p->addr;
    }
    if (ab != want || is_set != 0)
        disagree("task_awaited_by", t, id);
}

static int linked(const mm_image *im, int loop, uint64_t frame)
{
    uint64_t f = rd64(im->space, im->th[loop].current_slot);
    int n;

    for (n = 0; f != 0 && n < 256; n++) {
        if (f == frame)
            return 1;
        f = rd64(im->space, f + (uint64_t)im->l->frame_previous);
    }
    return 0;
}

/* Does this coroutine await what is on top of its stack?  A suspended
 * one by its state (and RESUME's oparg on 3.11/3.12); a root marked
 * executing but not linked (resumed, not yet running; or returning,
 * unlinked, not yet cleared) by where it stopped: 3.11/3.12's RESUME
 * after its instruction, on 3.13 its stack alone. */
static int awaits(const mm_image *im, uint64_t coro, int8_t state, uint64_t ip, int root)
{
    const uw_layout *l = im->l;
    uint8_t op[2] = {0, 0};
    int exec_root = root && state == l->state_executing;
    uint64_t code = rd64(im->space, coro + (uint64_t)l->gen_iframe + (uint64_t)l->frame_code);

    if (l->state_suspended_yield_from != UW_NO_STATE) {
        if (!exec_root)
            return state == l->state_suspended_yield_from;
        /* 3.13: instr_ptr is at the RESUME it goes on from */
        if (ip < code + (uint64_t)l->code_adaptive)
            return 0;
        (void)mm_space_read(im->space, ip, op, 2);
        return op[0] == l->opcode_resume && (op[1] & 3) >= 2;
    }
    (void)mm_space_read(im->space, ip + 2, op, 2);
    return (state == l->state_suspended || exec_root) && op[0] == l->opcode_resume && op[1] >= 2;
}

static void check_chain(const mm_image *im, const mm_ttask *k, int32_t id, uint64_t t)
{
    const uw_layout *l = im->l;
    uint64_t c = k->coro;
    int i;

    for (i = 0; i < k->n_chain; i++) {
        uint64_t f = c + (uint64_t)l->gen_iframe;
        uint64_t code = ref(im, rd64(im->space, f + (uint64_t)l->frame_code));
        uint64_t ip = rd64(im->space, f + (uint64_t)l->frame_instr);
        int8_t state = 0;
        int32_t top = 0, depth = im->al->awaitee_depth;
        (void)mm_space_read(im->space, c + (uint64_t)l->gen_frame_state, &state, 1);
        if (l->frame_stackpointer != UW_ABSENT)
            top = (int32_t)(int64_t)(rd64(im->space, f + (uint64_t)l->frame_stackpointer) -
                                     (f + (uint64_t)l->frame_localsplus)) /
                  8;
        else
            (void)mm_space_read(im->space, f + (uint64_t)l->frame_stacktop, &top, 4);
        if (k->chain[i].addr != f || k->chain[i].code != code ||
            k->chain[i].line != line_of(im, code, ip))
            disagree("a frame of the chain", t, id);
        if (state == l->state_created) {
            if (i != k->n_chain - 1)
                disagree("a created coroutine inside the chain", t, id);
            break;
        }
        if (i == 0 && top > depth &&
            ref(im, rd64(im->space, f + (uint64_t)l->frame_localsplus +
                                        8u * (uint64_t)(top - 1))) == im->target.types.none)
            top--; /* the value a step sends to the root, pushed first: the
                    * awaitee lies below it, where it lay before */
        if (!awaits(im, c, state, ip, i == 0) || top < depth) {
            if (i != k->n_chain - 1)
                disagree("the chain ends early", t, id);
            break;
        }
        if (depth > 1 &&
            rd64(im->space, f + (uint64_t)l->frame_localsplus + 8u * (uint64_t)(top - 1)) !=
                (uint64_t)l->stackref_null)
            disagree("no NULL reference above the awaitee", t, id);
        c = ref(im,
                rd64(im->space, f + (uint64_t)l->frame_localsplus + 8u * (uint64_t)(top - depth)));
        {
            /* a coroutine that returned (completed or cleared) is no frame
             * of the chain; 3.15 has no COMPLETED state, and CLEARED is its
             * highest */
            uint64_t type = rd64(im->space, c + (uint64_t)l->object_type);
            int8_t st = 0;
            int coro, done;
            (void)mm_space_read(im->space, c + (uint64_t)l->gen_frame_state, &st, 1);
            done = l->state_completed != UW_NO_STATE ? st >= l->state_completed
                                                     : st >= l->state_cleared;
            coro = (type == im->target.types.coro || type == im->target.types.gen) && !done;
            /* a resumed root's top that was never started is no awaitee (a
             * coroutine is started as soon as it is awaited): the root is
             * returning, its stack stale (a coroutine it created for a new
             * Task, say) */
            if (i == 0 && state == l->state_executing && st == l->state_created)
                coro = 0;
            if (coro != (i + 1 < k->n_chain))
                disagree("the chain's length", t, id);
        }
    }
}

static void check_name(const mm_image *im, const mm_ttask *k, int32_t id, uint64_t t)
{
    const uw_layout *l = im->l;
    uint64_t n = rd64(im->space, k->addr + (uint64_t)im->al->task_name), type;
    char got[64];

    if (strcmp(k->name, "?") == 0) {
        if (n != 0)
            disagree("a name stored before the truth has one", t, id);
        return;
    }
    type = rd64(im->space, n + (uint64_t)l->object_type);
    memset(got, 0, sizeof got);
    if (type == im->target.types.str) {
        uint64_t len = rd64(im->space, n + (uint64_t)l->unicode_length);
        if (len >= sizeof got)
            disagree("a name too long", t, id);
        (void)mm_space_read(im->space, n + (uint64_t)l->unicode_ascii_data, got, (size_t)len);
    } else if (type == im->target.types.long_) {
        uint32_t d = 0;
        (void)mm_space_read(im->space, n + (uint64_t)l->long_digits, &d, 4);
        snprintf(got, sizeof got, "Task-%u", d);
    }
    if (strcmp(got, k->name) != 0)
        disagree("the name", t, id);
}

static void check_waiter(const mm_image *im, const mm_world *w, const mm_ttask *k, int32_t id,
                         uint64_t t)
{
    uint64_t fw = rd64(im->space, k->addr + (uint64_t)im->al->task_fut_waiter);

    switch (k->waiter_kind) {
    case MM_W_NONE:
        if (fw != 0)
            disagree("fut_waiter set, the truth has none", t, id);
        break;
    case MM_W_FUTURE:
        if (fw == 0 || rd64(im->space, fw + (uint64_t)im->l->object_type) != im->future_type)
            disagree("fut_waiter is not a Future", t, id);
        break;
    case MM_W_TASK: {
        const mm_ttask *c = mm_world_task_cur(w, k->waiter.id);
        if (c->gen == k->waiter.gen && fw != c->addr)
            disagree("fut_waiter is not the awaited Task", t, id);
        break;
    }
    case MM_W_GATHER: {
        const mm_tgather *g = mm_gather_get(w, k->waiter);
        uint64_t dict, list, items;
        int i;
        if (g == NULL || fw != g->addr)
            disagree("fut_waiter is not the gather", t, id);
        dict = rd64(im->space, fw + (uint64_t)im->al->fut_size);
        /* the dict's first entry is _children */
        list = rd64(im->space, rd64(im->space, dict + (uint64_t)im->l->dict_keys) +
                                   (uint64_t)im->l->dictkeys_indices + 8 +
                                   (uint64_t)im->l->dictuentry_value);
        if ((int)rd64(im->space, list + (uint64_t)im->l->list_size) != g->n)
            disagree("the gather's number of children", t, id);
        items = rd64(im->space, list + (uint64_t)im->l->list_items);
        for (i = 0; i < g->n; i++) {
            uint64_t it = rd64(im->space, items + 8u * (uint64_t)i);
            uint64_t want = g->is_gather[i] ? mm_gather_get(w, g->item[i])->addr
                                            : mm_world_task_cur(w, g->item[i].id)->addr;
            if (!g->is_gather[i] && mm_world_task_cur(w, g->item[i].id)->gen != g->item[i].gen)
                continue; /* that child is gone; its slot in the list is stale */
            if (it != want)
                disagree("a gather child", t, id);
        }
        break;
    }
    default:
        break;
    }
}

static void check_hook(const mm_image *im, mm_mutator *m)
{
    const mm_world *w = mm_mutator_world(m);
    size_t i, id;

    if (m->hook_buf == 0)
        return;
    for (i = 0; i < rd64(im->space, m->hook_buf + 8); i++) { /* the count in memory */
        uint64_t r = m->hook_buf + 16 + 24 * (uint64_t)i;
        uint64_t child = rd64(im->space, r), parent = rd64(im->space, r + 8);
        uint64_t kind = rd64(im->space, r + 16);
        if (child == 0 || (kind != 1 && kind != 2))
            continue;
        for (id = 0; id < mm_world_tasks(w); id++) {
            const mm_ttask *k = mm_world_task_cur(w, (int32_t)id);
            mm_ref ref;
            const mm_ttask *p;
            if (!k->alive || k->addr != child)
                continue;
            ref = kind == 1 ? k->strong : k->creator;
            if (i >= (size_t)UW_LIMIT_LINK_RECORDS) {
                /* past what a reader reads: the truth holds no link */
                if (ref.id >= 0)
                    disagree("a hook record past UW_LIMIT_LINK_RECORDS the truth holds",
                             mm_mutator_time(m), (int32_t)id);
                continue;
            }
            if (ref.id < 0) {
                disagree("a hook record the truth does not hold", mm_mutator_time(m), (int32_t)id);
                continue;
            }
            p = mm_world_task_cur(w, ref.id);
            if (p->gen == ref.gen && p->addr != parent)
                disagree("a hook record's parent", mm_mutator_time(m), (int32_t)id);
        }
    }
}

/* What check_instant looked at, so a run that met no instant, no live
 * Task or no suspended chain fails instead of passing on nothing. */
static struct {
    uint64_t instants, tasks, chains;
} checked;

static void check_instant(const mm_image *im, mm_mutator *m)
{
    const mm_world *w = mm_mutator_world(m);
    const uw_layout *l = im->l;
    uint64_t t = mm_mutator_time(m);
    size_t id;

    checked.instants++;
    check_loops(im, m);
    for (id = 0; id < mm_world_tasks(w); id++) {
        const mm_ttask *k = mm_world_task_cur(w, (int32_t)id);
        int8_t state = 0;
        int32_t fs = -1;
        if (!k->alive)
            continue;
        checked.tasks++;
        if (rd64(im->space, k->addr + (uint64_t)l->object_type) != im->task_type ||
            rd64(im->space, k->addr + (uint64_t)im->al->task_coro) != k->coro)
            disagree("the Task object", t, (int32_t)id);
        (void)mm_space_read(im->space, k->addr + (uint64_t)im->al->fut_state, &fs, 4);
        if (fs != im->al->state_pending)
            disagree("a live Task not pending", t, (int32_t)id);
        check_name(im, k, (int32_t)id, t);
        (void)mm_space_read(im->space, k->coro + (uint64_t)l->gen_frame_state, &state, 1);
        if ((state == l->state_executing) != (k->executing != 0) && k->n_chain > 0)
            disagree("marked executing", t, (int32_t)id);
        if (linked(im, k->loop, k->coro + (uint64_t)l->gen_iframe) != (k->running != 0))
            disagree("running", t, (int32_t)id);
        if (!k->running) {
            checked.chains++;
            check_chain(im, k, (int32_t)id, t);
        }
        check_waiter(im, w, k, (int32_t)id, t);
        check_awaited_by(im, w, k, (int32_t)id, t);
    }
    check_hook(im, m);
    check_lists(im, m);
}

static void run(int minor, int shape, uint64_t *x)
{
    int n;

    for (n = 0; n < 12; n++) {
        uint8_t b[MM_SCENARIO_BYTES];
        mm_scenario sc;
        mm_space *sp;
        mm_image im;
        mm_mutator *m;
        size_t i, k;
        for (i = 0; i < sizeof b; i++) {
            *x ^= *x << 13;
            *x ^= *x >> 7;
            *x ^= *x << 17;
            b[i] = (uint8_t)(*x >> 24);
        }
        mm_scenario_set_minor(b, minor);
        b[21] = (uint8_t)shape;
        b[35] = MM_SCALE_SMALL;
        mm_scenario_decode(b, sizeof b, -1, -1, &sc);
        assert_int_equal(mm_space_new(&sp), 0);
        assert_int_equal(mm_fab_process(sp, sc.minor, &im), 0);
        assert_int_equal(mm_mutator_new(&im, &sc.prog, sc.seed, &m), 0);
        for (k = 0; k < MM_TRUTH_STORES; k++) {
            if (mm_mutator_step(m) == 1)
                break;
            check_instant(&im, m);
        }
        mm_mutator_free(m);
        mm_space_free(sp);
    }
}

/* The instants, live Tasks and suspended chains a test checked: the five
 * versions' 12 programs each ran at least 100 stores on average (they run
 * MM_TRUTH_STORES unless a program ends), with Tasks alive and suspended. */
static void report_checked(const char *shape)
{
    print_message("truth, %s: %llu instants, %llu live Tasks, %llu suspended chains checked\n",
                  shape, (unsigned long long)checked.instants, (unsigned long long)checked.tasks,
                  (unsigned long long)checked.chains);
    assert_true(checked.instants >= 5 * 12 * 100);
    assert_true(checked.tasks > checked.instants);
    assert_true(checked.chains > 0);
}

static void test_server(void **state)
{
    uint64_t x = seed | 1;
    int minor;
    (void)state;
    memset(&checked, 0, sizeof checked);
    for (minor = 11; minor <= 15; minor++)
        run(minor, MM_SHAPE_SERVER, &x);
    report_checked("server");
}

static void test_classic(void **state)
{
    uint64_t x = (seed ^ 0x5555) | 1;
    int minor;
    (void)state;
    memset(&checked, 0, sizeof checked);
    for (minor = 11; minor <= 15; minor++)
        run(minor, MM_SHAPE_CLASSIC, &x);
    report_checked("classic");
}

int main(void)
{
    const char *env = getenv("TORNSTACK_SEED");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_server),
        cmocka_unit_test(test_classic),
    };

    seed = env != NULL ? strtoull(env, NULL, 0) : 20261125u;
    printf("truth: TORNSTACK_SEED=%llu\n", (unsigned long long)seed);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
