/*
 * mutator.c — asyncio operations as CPython's stores (see mutator.h).
 *
 * Two states are kept apart: what the mutator has *issued* (program order,
 * used to generate the next operation) and what is *visible* (the stores
 * the scheduler has applied, used for the truth).  An operation's stores
 * are generated only when the previous operation's stores are all visible,
 * so freed memory is reused by a later operation only after every store
 * that referred to it has landed, as in the real allocator.
 */
#include "mutator.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal/uw_assert.h"
#include "tornstack/error.h"

enum { EV_NONE = 0, EV_LINK, EV_UNLINK, EV_NEW, EV_DONE, EV_LINE, EV_EXEC };

#define MM_LINES 8    /* code units (lines) per code object */
#define MM_SLOTS 10   /* data-stack frame slots used */
#define MM_QUEUE 1024 /* stores of one operation, at most */

typedef struct mm_coro {
    uint64_t obj, code;
    int line;
} mm_coro;

typedef struct mm_task {
    int alive;
    int executing; /* root coroutine marked executing (visible state) */
    uint64_t obj, future, name, wr; /* wr: the registry's weakref to it */
    int depth;
    mm_coro c[MM_MAX_CHAIN];
} mm_task;

struct mm_mutator {
    mm_image *im;
    const uw_layout *l;
    mm_space *sp;
    mm_program prog;
    uint64_t rng;
    uint64_t c_loop[6]; /* <module>, run, Runner.run, run_until_complete, run_forever, _run_once */
    uint64_t c_select, c_handle_run;
    uint64_t fam_code[MM_MAX_TASKS][MM_MAX_CHAIN];
    uint64_t fam_sync[MM_MAX_TASKS];
    uint64_t slot[MM_SLOTS];
    size_t frame_bytes;
    mm_task task[MM_MAX_TASKS]; /* issued */
    uint64_t current;           /* issued current frame */
    uint64_t ready;             /* issued ready-deque mutation count */
    int defer;                  /* mm_mutator_defer_writes */
    int op_first;               /* the next store pushed begins an operation */
    /* visible */
    mm_task vis[MM_MAX_TASKS];
    mm_tframe stack[64];
    int n_stack;
    /* queue of the current operation's stores */
    mm_store q[MM_QUEUE];
    size_t q_head, q_len;
    mm_store last;
    uint64_t time, ops;
};

static uint64_t mm_rand(mm_mutator *m)
{
    uint64_t z = (m->rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static int mm_pct(mm_mutator *m, int p)
{
    return (int)(mm_rand(m) % 100) < p;
}

static mm_store *mm_push(mm_mutator *m, uint64_t addr, uint64_t value, int len)
{
    mm_store *s;
    UW_ASSERT(m->q_len < MM_QUEUE);
    s = &m->q[(m->q_head + m->q_len++) % MM_QUEUE];
    memset(s, 0, sizeof *s);
    s->addr = addr;
    s->value = value;
    s->len = (uint8_t)len;
    s->fence = (uint8_t)m->op_first;
    m->op_first = 0;
    return s;
}

static void mm_ev_link(mm_mutator *m, uint64_t frame, uint64_t code, int line, int owner)
{
    mm_store *s = mm_push(m, m->im->current_slot, frame, 8);
    s->ev = EV_LINK;
    s->frame = (mm_tframe){frame, code, line, owner};
    m->current = frame;
}

static void mm_ev_unlink(mm_mutator *m, uint64_t to)
{
    mm_store *s = mm_push(m, m->im->current_slot, to, 8);
    s->ev = EV_UNLINK;
    m->current = to;
}

static int mm_code_line(const mm_mutator *m, uint64_t code)
{
    int32_t first = 0;
    (void)mm_space_read(m->sp, code + (uint64_t)m->l->code_firstlineno, &first, 4);
    return first;
}

/* Stores that fill a frame in a data-stack slot (not yet linked). */
static void mm_frame_fill(mm_mutator *m, uint64_t f, uint64_t code, int line, uint64_t previous)
{
    const uw_layout *l = m->l;
    mm_push(m, f + (uint64_t)l->frame_code, code, 8);
    mm_push(m, f + (uint64_t)l->frame_owner, (uint64_t)l->owner_thread, 1);
    mm_push(m, f + (uint64_t)l->frame_instr,
            mm_fab_ip(m->im, code, line - mm_code_line(m, code)), 8);
    mm_push(m, f + (uint64_t)l->frame_previous, previous, 8);
}

static void mm_top(mm_mutator *m, uint64_t top)
{
    mm_push(m, m->im->tstate + (uint64_t)m->l->tstate_datastack_top, top, 8);
}

/* Push a frame in slot k and link it (Python-to-Python call). */
static void mm_call(mm_mutator *m, int k, uint64_t code, int line, int owner)
{
    uint64_t f = m->slot[k];
    mm_top(m, f + m->frame_bytes);
    mm_frame_fill(m, f, code, line, m->current);
    mm_ev_link(m, f, code, line, owner);
}

/* Unlink the frame in slot k (before its memory is reused) and pop it. */
static void mm_return(mm_mutator *m, int k, uint64_t to)
{
    mm_ev_unlink(m, to);
    mm_top(m, m->slot[k]);
}

static int mm_suspended_state(const uw_layout *l)
{
    return l->state_suspended_yield_from != UW_NO_STATE ? l->state_suspended_yield_from
                                                        : l->state_suspended;
}

static int mm_rand_line(mm_mutator *m, uint64_t code)
{
    return mm_code_line(m, code) + (int)(mm_rand(m) % MM_LINES);
}

/* CREATE: a Task of family i with a chain of `depth` coroutines. */
static void mm_op_create(mm_mutator *m, int i, int depth)
{
    const uw_layout *l = m->l;
    const uw_asyncio_layout *al = m->im->al;
    mm_task *t = &m->task[i];
    char name[32];
    int k;
    mm_store *s;

    memset(t, 0, sizeof *t);
    t->depth = depth;
    t->future = mm_alloc(m->sp, 128);
    mm_push(m, t->future + (uint64_t)l->object_type, m->im->future_type, 8);
    for (k = 0; k < depth; k++) {
        t->c[k].obj = mm_alloc(m->sp, mm_fab_coro_size(m->im));
        t->c[k].code = m->fam_code[i][k];
        t->c[k].line = mm_rand_line(m, t->c[k].code);
    }
    for (k = depth - 1; k >= 0; k--) {
        uint64_t c = t->c[k].obj, f = c + (uint64_t)l->gen_iframe;
        uint64_t awaitee = k + 1 < depth ? t->c[k + 1].obj : t->future;
        mm_push(m, c + (uint64_t)l->object_type, m->im->target.types.coro, 8);
        mm_push(m, f + (uint64_t)l->frame_code, t->c[k].code, 8);
        mm_push(m, f + (uint64_t)l->frame_owner, (uint64_t)l->owner_generator, 1);
        mm_push(m, f + (uint64_t)l->frame_instr,
                mm_fab_ip(m->im, t->c[k].code, t->c[k].line - mm_code_line(m, t->c[k].code)), 8);
        mm_push(m, f + (uint64_t)l->frame_previous, 0, 8);
        mm_push(m, f + (uint64_t)l->frame_stacktop, 1, 4);
        mm_push(m, f + (uint64_t)l->frame_localsplus, awaitee, 8);
        mm_push(m, c + (uint64_t)l->gen_frame_state, (uint64_t)(uint8_t)mm_suspended_state(l), 1);
    }
    snprintf(name, sizeof name, "fam%d-%llu", i, (unsigned long long)m->ops);
    t->name = mm_fab_str(m->im, name);
    t->obj = mm_alloc(m->sp, mm_fab_task_size(m->im));
    mm_push(m, t->obj + (uint64_t)l->object_type, m->im->task_type, 8);
    mm_push(m, t->obj + (uint64_t)al->fut_loop, m->im->loop, 8);
    /* The Task exists, with a stack, once it holds its coroutine: it can be
     * reached through a stale pointer before it is published. */
    s = mm_push(m, t->obj + (uint64_t)al->task_coro, t->c[0].obj, 8);
    s->ev = EV_NEW;
    s->task = (int8_t)i;
    mm_push(m, t->obj + (uint64_t)al->task_name, t->name, 8);
    mm_push(m, t->obj + (uint64_t)al->task_fut_waiter, t->future, 8);
    mm_push(m, t->obj + (uint64_t)al->fut_state, (uint64_t)al->state_pending, 4);
    /* Published last, as a weakref: the registry slot of family i. */
    t->wr = mm_alloc(m->sp, 64);
    mm_push(m, t->wr + (uint64_t)l->object_type, m->im->target.types.weakref, 8);
    mm_push(m, t->wr + (uint64_t)l->weakref_object, t->obj, 8);
    mm_push(m, m->im->registry_table + (uint64_t)i * (uint64_t)l->setentry_size +
                   (uint64_t)l->setentry_key,
            t->wr, 8);
    mm_push(m, m->im->ready_state, ++m->ready, 8); /* its first step is scheduled */
    t->alive = 1;
}

/* STEP (or COMPLETE) of Task i. */
static void mm_op_step(mm_mutator *m, int i, int complete)
{
    const uw_layout *l = m->l;
    mm_task *t = &m->task[i];
    uint64_t run_once = m->slot[5];
    int k;

    UW_ASSERT(t->alive);
    mm_return(m, 6, run_once);                      /* select returns */
    mm_push(m, m->im->ready_state, ++m->ready, 8);  /* the handle is popped left */
    mm_call(m, 6, m->c_handle_run, mm_code_line(m, m->c_handle_run) + 2, MM_LOOP);
    for (k = 0; k < t->depth; k++) {                /* resume, root first */
        uint64_t c = t->c[k].obj, f = c + (uint64_t)l->gen_iframe;
        mm_store *st;
        if (l->py_minor == 11) {
            mm_push(m, f + (uint64_t)l->frame_previous, m->current, 8);
            st = mm_push(m, c + (uint64_t)l->gen_frame_state, (uint64_t)(uint8_t)l->state_executing, 1);
        } else {
            st = mm_push(m, c + (uint64_t)l->gen_frame_state, (uint64_t)(uint8_t)l->state_executing, 1);
            mm_push(m, f + (uint64_t)l->frame_previous, m->current, 8);
        }
        if (k == 0) {
            st->ev = EV_EXEC;
            st->task = (int8_t)i;
            st->index = 1;
        }
        mm_ev_link(m, f, t->c[k].code, t->c[k].line, i);
    }
    if (mm_pct(m, m->prog.p_sync)) {                /* a sync call and its return */
        uint64_t inner = m->current;
        mm_call(m, 7, m->fam_sync[i], mm_rand_line(m, m->fam_sync[i]), i);
        mm_return(m, 7, inner);
    }
    for (k = t->depth - 1; k >= 0; k--) {           /* suspend (or return), innermost first */
        uint64_t c = t->c[k].obj, f = c + (uint64_t)l->gen_iframe;
        uint64_t prev = k > 0 ? t->c[k - 1].obj + (uint64_t)l->gen_iframe : m->slot[6];
        if (complete) {
            mm_store *st;
            mm_ev_unlink(m, prev);
            st = mm_push(m, c + (uint64_t)l->gen_frame_state, (uint64_t)(uint8_t)l->state_cleared, 1);
            if (k == 0) {
                st->ev = EV_EXEC;
                st->task = (int8_t)i;
                st->index = 0;
            }
            mm_push(m, f + (uint64_t)l->frame_previous, 0, 8);
        } else {
            mm_store *s;
            int line = mm_rand_line(m, t->c[k].code);
            s = mm_push(m, f + (uint64_t)l->frame_instr,
                        mm_fab_ip(m->im, t->c[k].code, line - mm_code_line(m, t->c[k].code)), 8);
            s->ev = EV_LINE;
            s->task = (int8_t)i;
            s->index = (int8_t)k;
            s->frame.line = line;
            t->c[k].line = line;
            s = mm_push(m, c + (uint64_t)l->gen_frame_state, (uint64_t)(uint8_t)mm_suspended_state(l), 1);
            if (k == 0) {
                s->ev = EV_EXEC;
                s->task = (int8_t)i;
                s->index = 0;
            }
            mm_ev_unlink(m, prev);
            mm_push(m, f + (uint64_t)l->frame_previous, 0, 8);
        }
    }
    if (complete) {
        mm_store *s = mm_push(m, t->obj + (uint64_t)m->im->al->fut_state, 2, 4);
        s->ev = EV_DONE;
        s->task = (int8_t)i;
        mm_push(m, m->im->registry_table + (uint64_t)i * (uint64_t)l->setentry_size +
                       (uint64_t)l->setentry_key,
                m->im->set_dummy, 8);
        t->alive = 0;
    }
    mm_return(m, 6, run_once);                      /* Handle._run returns */
    mm_call(m, 6, m->c_select, mm_code_line(m, m->c_select) + 1, MM_LOOP);
}

/* Memory of a completed Task, freed once its stores are visible. */
static void mm_release(mm_mutator *m, int i)
{
    mm_task *t = &m->task[i];
    int k;
    for (k = 0; k < t->depth; k++)
        mm_free(m->sp, t->c[k].obj, mm_fab_coro_size(m->im));
    mm_free(m->sp, t->obj, mm_fab_task_size(m->im));
    mm_free(m->sp, t->future, 128);
    mm_free(m->sp, t->wr, 64);
    t->obj = 0;
}

static void mm_next_op(mm_mutator *m)
{
    int alive[MM_MAX_TASKS], free_slots[MM_MAX_TASKS], na = 0, nf = 0, i;

    for (i = 0; i < MM_MAX_TASKS; i++) {
        if (m->task[i].alive)
            alive[na++] = i;
        else {
            if (m->task[i].obj != 0)
                mm_release(m, i);
            free_slots[nf++] = i;
        }
    }
    m->ops++;
    m->op_first = 1;
    if (na == 0 || (nf > 0 && mm_pct(m, m->prog.p_create))) {
        int slot = free_slots[mm_rand(m) % (uint64_t)nf];
        mm_op_create(m, slot, 1 + (int)(mm_rand(m) % MM_MAX_CHAIN));
        return;
    }
    i = alive[mm_rand(m) % (uint64_t)na];
    mm_op_step(m, i, mm_pct(m, m->prog.p_complete));
}

/* Apply the visible effect of a store's event. */
static void mm_apply_event(mm_mutator *m, const mm_store *s)
{
    switch (s->ev) {
    case EV_LINK:
        if (m->n_stack < 64)
            m->stack[m->n_stack++] = s->frame;
        break;
    case EV_UNLINK:
        if (m->n_stack > 0)
            m->n_stack--;
        break;
    case EV_NEW:
        m->vis[s->task] = m->task[s->task];
        break;
    case EV_DONE:
        m->vis[s->task].alive = 0;
        break;
    case EV_EXEC:
        m->vis[s->task].executing = s->index;
        break;
    case EV_LINE: {
        /* the coroutine's frame moved to a new line: in the chain, and on
         * the thread stack while it is still linked there */
        uint64_t f = m->vis[s->task].c[s->index].obj + (uint64_t)m->l->gen_iframe;
        int q;
        m->vis[s->task].c[s->index].line = s->frame.line;
        for (q = 0; q < m->n_stack; q++)
            if (m->stack[q].addr == f)
                m->stack[q].line = s->frame.line;
        break;
    }
    default:
        break;
    }
}

static void mm_apply(mm_mutator *m, const mm_store *s)
{
    if (!m->defer) {
        int rc = mm_space_write(m->sp, s->addr, &s->value, s->len);
        UW_ASSERT(rc == 0);
        (void)rc;
    }
    mm_apply_event(m, s);
    m->time++;
}

int mm_mutator_step(mm_mutator *m)
{
    mm_store s;

    if (m->q_len == 0)
        mm_next_op(m);
    if (m->q_len == 0)
        return 1;
    s = m->q[m->q_head];
    m->q_head = (m->q_head + 1) % MM_QUEUE;
    m->q_len--;
    mm_apply(m, &s);
    m->last = s;
    return s.ev != EV_NONE ? 2 : 0;
}

void mm_mutator_defer_writes(mm_mutator *m, int on)
{
    m->defer = on;
}

const mm_store *mm_mutator_last(const mm_mutator *m)
{
    return &m->last;
}

const char *mm_event_name(int ev)
{
    static const char *names[] = {"", "link", "unlink", "task", "done", "line", "exec"};
    return ev >= 0 && ev < (int)(sizeof names / sizeof names[0]) ? names[ev] : "?";
}

size_t mm_mutator_pending(const mm_mutator *m)
{
    return m->q_len;
}

uint64_t mm_mutator_time(const mm_mutator *m)
{
    return m->time;
}

uint64_t mm_mutator_ops(const mm_mutator *m)
{
    return m->ops;
}

void mm_mutator_truth(const mm_mutator *m, mm_truth *out)
{
    int i, k, handle = -1;

    /* Only the counts are cleared: frames are read up to them (a snapshot
     * is taken after every event of a sample: the model's hottest copy). */
    out->time = m->time;
    out->n_loop = 0;
    memset(out->task_addr, 0, sizeof out->task_addr);
    memset(out->running, 0, sizeof out->running);
    memset(out->executing, 0, sizeof out->executing);
    memset(out->n, 0, sizeof out->n);
    for (k = 0; k < m->n_stack; k++)
        if (m->stack[k].code == m->c_handle_run && handle < 0)
            handle = k;
    /* pure Python stack: root .. outermost Handle._run (or all) */
    for (k = (handle >= 0 ? handle : m->n_stack - 1); k >= 0 && out->n_loop < MM_MAX_FRAMES; k--)
        out->loop[out->n_loop++] = m->stack[k];
    /* each live Task's frames on the thread stack, innermost first, in one
     * pass over the stack */
    for (k = m->n_stack - 1; k >= 0; k--) {
        int o = m->stack[k].owner;
        if (o >= 0 && o < MM_MAX_TASKS && m->vis[o].alive && out->n[o] < MM_MAX_FRAMES)
            out->f[o][out->n[o]++] = m->stack[k];
    }
    for (i = 0; i < MM_MAX_TASKS; i++) {
        const mm_task *t = &m->vis[i];
        if (!t->alive)
            continue;
        out->task_addr[i] = t->obj;
        out->executing[i] = t->executing;
        if (out->n[i] > 0) {
            out->running[i] = 1;
            continue;
        }
        for (k = t->depth - 1; k >= 0; k--)
            out->f[i][out->n[i]++] = (mm_tframe){t->c[k].obj + (uint64_t)m->l->gen_iframe,
                                                 t->c[k].code, t->c[k].line, i};
    }
}

int mm_mutator_new(mm_image *im, const mm_program *prog, uint64_t seed, mm_mutator **out)
{
    static const char *loop_names[6] = {"<module>", "run", "Runner.run",
                                        "BaseEventLoop.run_until_complete",
                                        "BaseEventLoop.run_forever", "BaseEventLoop._run_once"};
    static const char *loop_files[6] = {"/app/main.py", "/py/asyncio/runners.py",
                                        "/py/asyncio/runners.py", "/py/asyncio/base_events.py",
                                        "/py/asyncio/base_events.py", "/py/asyncio/base_events.py"};
    mm_mutator *m = calloc(1, sizeof *m);
    char name[64];
    int i, k;

    if (m == NULL)
        return UW_ERR_NOMEM;
    m->im = im;
    m->l = im->l;
    m->sp = im->space;
    m->prog = *prog;
    m->rng = seed;
    for (i = 0; i < 6; i++)
        m->c_loop[i] = mm_fab_code(im, loop_names[i], loop_files[i], 10 + 100 * i, MM_LINES);
    m->c_select = mm_fab_code(im, "EpollSelector.select", "/py/selectors.py", 460, MM_LINES);
    m->c_handle_run = mm_fab_code(im, "Handle._run", "/py/asyncio/events.py", 80, MM_LINES);
    for (i = 0; i < MM_MAX_TASKS; i++) {
        for (k = 0; k < MM_MAX_CHAIN; k++) {
            snprintf(name, sizeof name, "fam%d_coro%d", i, k);
            m->fam_code[i][k] = mm_fab_code(im, name, "/app/tasks.py", 1000 * (i + 1) + 20 * k,
                                            MM_LINES);
        }
        snprintf(name, sizeof name, "fam%d_sync", i);
        m->fam_sync[i] = mm_fab_code(im, name, "/app/tasks.py", 1000 * (i + 1) + 500, MM_LINES);
    }
    m->frame_bytes = ((size_t)m->l->frame_size + 4 * 8 + 15) & ~(size_t)15;
    for (k = 0; k < MM_SLOTS; k++)
        m->slot[k] = im->chunk + (uint64_t)m->l->chunk_data + 8 + (uint64_t)k * m->frame_bytes;
    /* The loop, then the first Tasks: all visible before the first sample. */
    for (k = 0; k < 6; k++)
        mm_call(m, k, m->c_loop[k], 10 + 100 * k + 1, MM_LOOP);
    mm_call(m, 6, m->c_select, 461, MM_LOOP);
    for (i = 0; i < prog->n_tasks && i < MM_MAX_TASKS; i++) {
        while (m->q_len > 0)
            (void)mm_mutator_step(m);
        mm_op_create(m, i, prog->depth[i] >= 1 && prog->depth[i] <= MM_MAX_CHAIN ? prog->depth[i] : 1);
    }
    while (m->q_len > 0)
        (void)mm_mutator_step(m);
    *out = m;
    return 0;
}

void mm_mutator_free(mm_mutator *m)
{
    free(m);
}
