/*
 * mut_core.c — the mutator's engine: the queues of issued stores, one per
 * thread, the GIL that lets one thread issue at a time, allocation in
 * program order, frames pushed and popped, and the truth events applied
 * as stores are issued (see mutator.h, mut_internal.h).
 */
#include "mut_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tornstack/error.h"
#include "internal/uw_assert.h"

uint64_t mm_rand(mm_mutator *m)
{
    uint64_t z = (m->rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

int mm_pct(mm_mutator *m, int p)
{
    return (int)(mm_rand(m) % 100) < p;
}

int mm_code_line(const mm_mutator *m, uint64_t code)
{
    int32_t first = 0;
    (void)mm_space_read(m->sp, code + (uint64_t)m->l->code_firstlineno, &first, 4);
    return first;
}

/* An allocation the model cannot do without: the run stops. */
static void mm_must(const void *p)
{
    UW_ASSERT(p != NULL);
    if (p == NULL)
        abort();
}

void *mm_ring_room(void *ring, size_t size, size_t *head, size_t n, size_t *cap)
{
    size_t nc, i;
    uint8_t *q;

    if (n < *cap)
        return ring;
    nc = *cap ? 2 * *cap : 64;
    q = malloc(nc * size);
    mm_must(q);
    for (i = 0; i < n; i++)
        memcpy(q + i * size, (const uint8_t *)ring + ((*head + i) % *cap) * size, size);
    free(ring);
    *head = 0;
    *cap = nc;
    return q;
}

static mm_store *mm_qpush(mm_mutator *m, int th)
{
    mm_queue *q = &m->lp[th].q;
    mm_store *s;

    if (q->head + q->len == q->cap) {
        if (q->head > 0) { /* slide the pending stores down */
            memmove(q->q, q->q + q->head, q->len * sizeof *q->q);
            q->head = 0;
        }
        if (q->len == q->cap) {
            size_t nc = q->cap ? 2 * q->cap : 1024;
            mm_store *n = realloc(q->q, nc * sizeof *n);
            mm_must(n);
            q->q = n;
            q->cap = nc;
        }
    }
    s = &q->q[q->head + q->len++];
    memset(s, 0, sizeof *s);
    s->th = (int8_t)th;
    s->task = -1;
    return s;
}

mm_store *mm_q(mm_mutator *m, int th, uint64_t addr, uint64_t value, int len)
{
    mm_store *s = mm_qpush(m, th);
    s->addr = addr;
    s->value = value;
    s->len = (uint16_t)len;
    s->kind = MM_ST_PLAIN;
    return s;
}

mm_store *mm_q_zero(mm_mutator *m, int th, uint64_t addr, size_t len)
{
    mm_store *s = mm_qpush(m, th);
    UW_ASSERT(len <= UINT16_MAX);
    s->addr = addr;
    s->len = (uint16_t)len;
    s->kind = MM_ST_ZERO;
    return s;
}

void mm_q_pseudo(mm_mutator *m, int th, int kind, uint64_t addr, size_t len, int32_t task)
{
    mm_store *s = mm_qpush(m, th);
    s->addr = addr;
    s->value = len;
    s->kind = (uint8_t)kind;
    s->task = task;
}

uint32_t mm_payload(mm_mutator *m, mm_ttask **out)
{
    uint32_t i = m->pay_next++ % MM_PAYLOADS;
    *out = &m->pay[i];
    memset(*out, 0, sizeof **out);
    return i;
}

uint64_t mm_pack_ref(mm_ref r)
{
    return ((uint64_t)(uint32_t)r.id << 32) | r.gen;
}

mm_ref mm_unpack_ref(uint64_t x)
{
    mm_ref r;
    r.id = (int32_t)(uint32_t)(x >> 32);
    r.gen = (uint32_t)x;
    return r;
}

void mm_store_write(mm_space *sp, const mm_store *s)
{
    int rc = s->kind == MM_ST_ZERO ? mm_space_zero(sp, s->addr, s->len)
                                   : mm_space_write(sp, s->addr, &s->value, s->len);
    UW_ASSERT(rc == 0);
    (void)rc;
}

/* --- allocation in program order ----------------------------------------- */

static size_t mm_class(size_t size)
{
    return (size + 15) / 16;
}

uint64_t mm_m_alloc(mm_mutator *m, int th, size_t size, int zero)
{
    mm_mloop *L = &m->lp[th];
    uint64_t a = 0;
    size_t i;

    for (i = L->n_pf; i-- > 0;) { /* what this thread freed last, first */
        if (mm_class(L->pf[i].size) == mm_class(size) && size < MM_BIG_FREE) {
            a = L->pf[i].addr;
            memmove(&L->pf[i], &L->pf[i + 1], (L->n_pf - i - 1) * sizeof *L->pf);
            L->n_pf--;
            break;
        }
    }
    if (a == 0)
        a = mm_alloc_raw(m->sp, size);
    UW_ASSERT(a != 0);
    if (zero)
        mm_q_zero(m, th, a, mm_class(size) * 16);
    return a;
}

void mm_m_free(mm_mutator *m, int th, uint64_t addr, size_t size)
{
    mm_mloop *L = &m->lp[th];

    if (addr == 0)
        return;
    if (L->n_pf == L->cap_pf) {
        size_t nc = L->cap_pf ? 2 * L->cap_pf : 64;
        mm_pfree *p = realloc(L->pf, nc * sizeof *p);
        mm_must(p);
        L->pf = p;
        L->cap_pf = nc;
    }
    L->pf[L->n_pf++] = (mm_pfree){addr, size};
    mm_q_pseudo(m, th, MM_ST_FREE, addr, size, -1);
}

/* A free issued: the block goes to the allocator, unless this thread has
 * already reused it. */
static void mm_free_issued(mm_mutator *m, int th, uint64_t addr, size_t size)
{
    mm_mloop *L = &m->lp[th];
    size_t i;

    for (i = 0; i < L->n_pf; i++) {
        if (L->pf[i].addr == addr) {
            memmove(&L->pf[i], &L->pf[i + 1], (L->n_pf - i - 1) * sizeof *L->pf);
            L->n_pf--;
            mm_free(m->sp, addr, size);
            return;
        }
    }
}

/* --- frames ---------------------------------------------------------------- */

void mm_link(mm_mutator *m, int th, uint64_t frame, uint64_t code, int line, int32_t owner,
             int root)
{
    mm_store *s = mm_q(m, th, m->lp[th].current_slot, frame, 8);
    s->ev = EV_LINK;
    s->x = code;
    s->arg = line;
    s->task = owner;
    s->index = (int8_t)root;
    m->lp[th].current = frame;
}

void mm_unlink(mm_mutator *m, int th, uint64_t to, int32_t task, int root)
{
    mm_store *s = mm_q(m, th, m->lp[th].current_slot, to, 8);
    s->ev = EV_UNLINK;
    s->task = task;
    s->index = (int8_t)root;
    m->lp[th].current = to;
}

void mm_top(mm_mutator *m, int th, uint64_t top)
{
    mm_q(m, th, m->lp[th].tstate + (uint64_t)m->l->tstate_datastack_top, top, 8);
}

void mm_frame_fill(mm_mutator *m, int th, uint64_t f, uint64_t code, int line, uint64_t previous)
{
    const uw_layout *l = m->l;
    mm_q(m, th, f + (uint64_t)l->frame_code, code, 8);
    mm_q(m, th, f + (uint64_t)l->frame_owner, (uint64_t)l->owner_thread, 1);
    mm_q(m, th, f + (uint64_t)l->frame_instr, mm_fab_ip(m->im, code, line - mm_code_line(m, code)),
         8);
    mm_q(m, th, f + (uint64_t)l->frame_previous, previous, 8);
}

void mm_call(mm_mutator *m, int th, int k, uint64_t code, int line, int32_t owner)
{
    uint64_t f = m->lp[th].slot[k];
    UW_ASSERT(k < MM_SLOTS);
    mm_top(m, th, f + m->frame_bytes);
    mm_frame_fill(m, th, f, code, line, m->lp[th].current);
    mm_link(m, th, f, code, line, owner, 0);
}

void mm_return(mm_mutator *m, int th, int k, uint64_t to)
{
    mm_unlink(m, th, to, -1, 0);
    mm_top(m, th, m->lp[th].slot[k]);
}

uint64_t mm_entry_push(mm_mutator *m, int th)
{
    const uw_layout *l = m->l;
    uint64_t e = m->lp[th].entry;

    if (!m->v->entry_frames || e == 0)
        return m->lp[th].current;
    mm_q(m, th, e + (uint64_t)l->frame_code,
         m->im->target.types.none | (uint64_t)l->stackref_borrow_mask, 8); /* PyStackRef_None */
    mm_q(m, th, e + (uint64_t)l->frame_instr, m->im->trampoline + 2, 8);
    mm_q(m, th, e + (uint64_t)l->frame_stackpointer, e + (uint64_t)l->frame_localsplus, 8);
    mm_q(m, th, e + (uint64_t)l->frame_owner, (uint64_t)l->owner_interpreter, 1);
    mm_q(m, th, e + (uint64_t)l->frame_previous, m->lp[th].current, 8);
    return e;
}

void mm_entry_pop(mm_mutator *m, int th, uint64_t below)
{
    if (!m->v->entry_frames || m->lp[th].entry == 0)
        return;
    mm_q(m, th, m->lp[th].current_slot, below, 8); /* INTERPRETER_EXIT */
    m->lp[th].current = below;
}

/* _PyEvalFramePushAndInit then _PyEval_EvalFrameDefault: the frame is
 * pushed and filled, the entry frame made, the frame's `previous` set to
 * it, and the frame linked. */
void mm_call_from_c(mm_mutator *m, int th, int k, uint64_t code, int line, int32_t owner)
{
    uint64_t f = m->lp[th].slot[k], prev;
    UW_ASSERT(k < MM_SLOTS);
    mm_top(m, th, f + m->frame_bytes);
    prev = mm_entry_push(m, th);
    mm_frame_fill(m, th, f, code, line, prev);
    mm_link(m, th, f, code, line, owner, 0);
}

/* RETURN_VALUE to the entry frame (the frame unlinked, then popped),
 * then INTERPRETER_EXIT to `below`. */
void mm_return_to_c(mm_mutator *m, int th, int k, uint64_t below)
{
    uint64_t e = m->v->entry_frames && m->lp[th].entry != 0 ? m->lp[th].entry : below;
    mm_return(m, th, k, e);
    mm_entry_pop(m, th, below);
}

static mm_store *mm_line_ip(mm_mutator *m, int th, uint64_t frame, uint64_t ip, int line,
                            int32_t task)
{
    mm_store *s = mm_q(m, th, frame + (uint64_t)m->l->frame_instr, ip, 8);
    s->ev = EV_LINE;
    s->x = frame;
    s->arg = line;
    s->task = task;
    return s;
}

mm_store *mm_line(mm_mutator *m, int th, uint64_t frame, uint64_t code, int line, int32_t task)
{
    return mm_line_ip(m, th, frame, mm_fab_ip(m->im, code, line - mm_code_line(m, code)), line,
                      task);
}

/* _run_once's frame moves to the call it makes next: select (the line it
 * was made at), the ready deque's popleft, a handle's _run.  CPython saves
 * a frame's instruction pointer at each call, so a reader finds _run_once
 * at the popleft of the next handle once a callback has returned, under a
 * Handle._run frame that still holds what it held (a popped frame is not
 * cleared). */
void mm_run_once_at(mm_mutator *m, int th, int line)
{
    const uint64_t code = m->c_loop[5];

    mm_line(m, th, m->lp[th].slot[5], code, mm_code_line(m, code) + line, -1);
}

mm_store *mm_line_await(mm_mutator *m, int th, uint64_t frame, uint64_t code, int line,
                        int32_t task)
{
    return mm_line_ip(m, th, frame, mm_fab_ip_await(m->im, code, line - mm_code_line(m, code)),
                      line, task);
}

/* --- Tasks ------------------------------------------------------------------ */

mm_mtask *mm_task_slot(mm_mutator *m)
{
    int32_t id = mm_world_task_new(m->w);
    mm_mtask *t;

    while ((size_t)id / MM_TBLK >= m->n_tblk) {
        mm_mtask **b = realloc(m->tblk, (m->n_tblk + 1) * sizeof *b);
        mm_must(b);
        m->tblk = b;
        m->tblk[m->n_tblk] = calloc(MM_TBLK, sizeof **b);
        mm_must(m->tblk[m->n_tblk]);
        m->n_tblk++;
    }
    t = mm_t(m, id);
    memset(t, 0, sizeof *t);
    t->id = id;
    t->gen = ++m->gen_serial;
    t->used = 1;
    t->parent = t->child = t->gather = t->in_gather = t->in_group = -1;
    t->hook_slot[0] = t->hook_slot[1] = t->hook_slot[2] = -1;
    t->set_slot = -1;
    t->ready_at = -1;
    t->sleep_at = -1;
    t->queued = 0;
    t->ln_prev = t->ln_next = MM_LIST_OUT;
    t->ln_th = -1;
    t->ab = -1;
    return t;
}

/* A set of Task ids kept as an array, each Task holding its index (*at):
 * added at the end, removed by moving the last one into its place. */
static void mm_ids_add(int32_t **a, size_t *n, size_t *cap, int32_t id, int *at)
{
    if (*n == *cap) {
        size_t nc = *cap ? 2 * *cap : 64;
        int32_t *r = realloc(*a, nc * sizeof *r);
        mm_must(r);
        *a = r;
        *cap = nc;
    }
    *at = (int)*n;
    (*a)[(*n)++] = id;
}

static void mm_ids_del(mm_mutator *m, int32_t *a, size_t *n, int *at, int is_sleep)
{
    int32_t last = a[--*n];
    mm_mtask *lt = mm_t(m, last);

    a[*at] = last;
    if (is_sleep)
        lt->sleep_at = *at;
    else
        lt->ready_at = *at;
    *at = -1;
}

void mm_ready_add(mm_mutator *m, int32_t id)
{
    mm_mtask *t = mm_t(m, id);
    mm_mloop *L = &m->lp[t->loop];

    if (t->ready_at < 0)
        mm_ids_add(&L->rdy, &L->n_rdy, &L->cap_rdy, id, &t->ready_at);
}

void mm_ready_append(mm_mutator *m, int th, int loop, int32_t task, const mm_callback *cb)
{
    mm_mloop *L = &m->lp[loop];

    if (L->fifo) {
        mm_handle h;
        L->hq = mm_ring_room(L->hq, sizeof *L->hq, &L->hq_head, L->hq_n, &L->hq_cap);
        memset(&h, 0, sizeof h);
        h.task = cb != NULL ? -1 : task;
        if (cb != NULL) {
            h.cb = *cb;
        } else {
            UW_ASSERT(!mm_t(m, task)->queued); /* one pending step a Task */
            mm_t(m, task)->queued = 1;
        }
        L->hq[(L->hq_head + L->hq_n++) % L->hq_cap] = h;
        mm_q(m, th, L->ready_len, ++L->qlen, 8); /* Py_SET_SIZE, before state++ */
    }
    mm_q(m, th, L->ready_state, ++L->ready, 8);
}

mm_handle mm_ready_popleft(mm_mutator *m, int th)
{
    mm_mloop *L = &m->lp[th];
    mm_handle h;

    UW_ASSERT(L->fifo && L->hq_n > 0);
    h = L->hq[L->hq_head];
    L->hq_head = (L->hq_head + 1) % L->hq_cap;
    L->hq_n--;
    if (h.task >= 0)
        mm_t(m, h.task)->queued = 0;
    mm_q(m, th, L->ready_len, --L->qlen, 8);
    mm_q(m, th, L->ready_state, ++L->ready, 8);
    return h;
}

void mm_sleeper_add(mm_mutator *m, int32_t id)
{
    mm_mtask *t = mm_t(m, id);
    mm_mloop *L = &m->lp[t->loop];

    UW_ASSERT(L->fifo && t->sleep_at < 0 && !t->queued);
    mm_ids_add(&L->slp, &L->n_slp, &L->cap_slp, id, &t->sleep_at);
}

/* The timer's handle and the Future's done callback are one operation
 * here: the sleeper's wakeup is queued when its timer comes due. */
void mm_sleeper_fire(mm_mutator *m, int th, int32_t id)
{
    mm_mtask *t = mm_t(m, id);
    mm_mloop *L = &m->lp[t->loop];

    UW_ASSERT(t->sleep_at >= 0);
    mm_ids_del(m, L->slp, &L->n_slp, &t->sleep_at, 1);
    mm_ready_append(m, th, t->loop, id, NULL);
}

void mm_ready_del(mm_mutator *m, int32_t id)
{
    mm_mtask *t = mm_t(m, id);
    mm_mloop *L = &m->lp[t->loop];

    if (L->fifo && t->queued) {
        /* setup only (an idle Task built as its first step leaves it):
         * the step it was just given is taken back off the deque's tail */
        UW_ASSERT(L->hq_n > 0 && L->hq[(L->hq_head + L->hq_n - 1) % L->hq_cap].task == id);
        L->hq_n--;
        t->queued = 0;
        mm_q(m, t->loop, L->ready_len, --L->qlen, 8);
        mm_q(m, t->loop, L->ready_state, ++L->ready, 8);
    }
    if (t->ready_at >= 0)
        mm_ids_del(m, L->rdy, &L->n_rdy, &t->ready_at, 0);
}

/* --- truth events --------------------------------------------------------- */

/* Every Task a fut_waiter target leads to (a Task, or the Tasks of a gather
 * and its nested gathers), with fn applied to each. */
static void mm_waiter_targets(mm_mutator *m, int kind, mm_ref r, mm_ref who, int set, int depth)
{
    if (kind == MM_W_TASK) {
        mm_ttask *k;
        if (r.id < 0 || (size_t)r.id >= mm_world_tasks(m->w))
            return;
        if (mm_world_task_cur(m->w, r.id)->gen != r.gen)
            return;
        k = mm_world_task_edit(m->w, r.id);
        if (set)
            k->awaiter = who;
        else if (k->awaiter.id == who.id && k->awaiter.gen == who.gen)
            k->awaiter = MM_NOREF;
    } else if (kind == MM_W_GATHER && depth < 8) {
        const mm_tgather *g = mm_gather_get(m->w, r);
        int i;
        if (g == NULL)
            return;
        for (i = 0; i < g->n; i++)
            mm_waiter_targets(m, g->is_gather[i] ? MM_W_GATHER : MM_W_TASK, g->item[i], who, set,
                              depth + 1);
    }
}

static int mm_stack_has(const mm_tloop *L, uint64_t frame)
{
    int i;
    for (i = L->n; i-- > 0;)
        if (L->f[i].addr == frame)
            return 1;
    return 0;
}

static void mm_apply_event(mm_mutator *m, const mm_store *s)
{
    mm_world *w = m->w;

    mm_world_set_time(w, m->time);
    switch (s->ev) {
    case EV_LINK: {
        mm_tloop *L = mm_world_loop_edit(w, s->th);
        if (L->n < MM_MAX_STACK)
            L->f[L->n++] = (mm_tframe){s->value, s->x, s->arg, s->task};
        if (s->index == 1 && s->task >= 0)
            mm_world_task_edit(w, s->task)->running = 1;
        break;
    }
    case EV_UNLINK: {
        mm_tloop *L = mm_world_loop_edit(w, s->th);
        if (L->n > 0)
            L->n--;
        if (s->index == 1 && s->task >= 0)
            mm_world_task_edit(w, s->task)->running = 0;
        break;
    }
    case EV_NEW: {
        mm_ttask *k = mm_world_task_edit(w, s->task);
        *k = m->pay[s->arg];
        mm_world_task_at_addr(w, k->addr, s->task);
        break;
    }
    case EV_DONE: {
        mm_ttask *k = mm_world_task_edit(w, s->task);
        k->alive = 0;
        k->running = 0;
        break;
    }
    case EV_EXEC:
        mm_world_task_edit(w, s->task)->executing = s->index;
        break;
    case EV_LINE: {
        /* the frame moved: on its thread's stack while linked there, and
         * in its Task's chain */
        const mm_tloop *L0 = mm_world_loop_cur(w, s->th);
        int i;
        if (mm_stack_has(L0, s->x)) {
            mm_tloop *L = mm_world_loop_edit(w, s->th);
            for (i = 0; i < L->n; i++)
                if (L->f[i].addr == s->x)
                    L->f[i].line = s->arg;
        }
        if (s->task >= 0) {
            const mm_ttask *k0 = mm_world_task_cur(w, s->task);
            for (i = 0; i < k0->n_chain; i++) {
                if (k0->chain[i].addr == s->x) {
                    mm_world_task_edit(w, s->task)->chain[i].line = s->arg;
                    break;
                }
            }
        }
        break;
    }
    case EV_CHAIN: {
        mm_ttask *k = mm_world_task_edit(w, s->task);
        const mm_ttask *p = &m->pay[s->arg];
        k->n_chain = p->n_chain;
        memcpy(k->chain, p->chain, sizeof k->chain);
        if (p->n_chain == 0) /* the root returned */
            k->executing = 0;
        break;
    }
    case EV_WAITER: {
        mm_ttask *k = mm_world_task_edit(w, s->task);
        mm_ref me = {s->task, k->gen}, old = k->waiter;
        int old_kind = k->waiter_kind;
        k->waiter_kind = (int8_t)s->arg;
        k->waiter = mm_unpack_ref(s->x);
        mm_waiter_targets(m, old_kind, old, me, 0, 0);
        mm_waiter_targets(m, s->arg, mm_unpack_ref(s->x), me, 1, 0);
        break;
    }
    case EV_HOOK: {
        mm_ttask *k = mm_world_task_edit(w, s->task);
        if (s->arg == 1)
            k->strong = mm_unpack_ref(s->x);
        else
            k->creator = mm_unpack_ref(s->x);
        break;
    }
    case EV_NAME: {
        mm_ttask *k = mm_world_task_edit(w, s->task);
        memcpy(k->name, m->pay[s->arg].name, sizeof k->name);
        break;
    }
    case EV_AMEM:
        mm_world_task_edit(w, s->task)->amem = mm_unpack_ref(s->x);
        break;
    case EV_LISTED:
        mm_world_task_edit(w, s->task)->listed = s->index;
        break;
    case EV_RUNTASK:
        mm_world_loop_edit(w, s->th)->running_task = mm_unpack_ref(s->x);
        mm_world_loop_edit(w, s->th)->running_addr = s->value;
        break;
    default:
        break;
    }
}

/* --- issuing ---------------------------------------------------------------- */

/* The next operation: classic programs run one thread; server programs
 * give the GIL to a thread (a paused one resumes; an idle one returns
 * from select and runs its next callback). */
/* The plain thread's operation: it calls its leaf function, or returns
 * from it, or moves to another line of it; between operations it stands
 * still (blocked in C). */
static void mm_plain_op(mm_mutator *m)
{
    const int P = m->plain;
    mm_mloop *L = &m->lp[P];

    if (L->current == L->slot[3]) {
        if (mm_rand(m) % 2 == 0)
            (void)mm_line(m, P, L->slot[3], m->c_plain[3],
                          mm_code_line(m, m->c_plain[3]) + 1 + (int)(mm_rand(m) % 4), -1);
        else
            mm_return(m, P, 3, L->slot[2]);
    } else {
        mm_call(m, P, 3, m->c_plain[3], mm_code_line(m, m->c_plain[3]) + 1, MM_LOOP);
    }
}

static int mm_next_op(mm_mutator *m)
{
    if (m->plain >= 0 && mm_pct(m, m->prog.p_plain)) {
        m->cur = m->plain;
        m->ops++;
        mm_plain_op(m);
    } else if (m->prog.shape == MM_SHAPE_CLASSIC) {
        mm_classic_next_op(m);
    } else {
        /* the GIL goes to a thread that has something to run: a paused
         * one resumes, an idle one returns from select */
        int th0 = m->n_loops > 1 ? (int)(mm_rand(m) % (uint64_t)m->n_loops) : 0, i;
        for (i = 0; i < m->n_loops; i++) {
            int th = (th0 + i) % m->n_loops;
            if (m->lp[th].q.len > 0 || mm_server_has_work(m, th)) {
                m->cur = th;
                if (m->lp[th].q.len == 0) {
                    m->ops++;
                    mm_server_next_op(m, th);
                }
                break;
            }
        }
    }
    m->fence_next = 1;
    return m->lp[m->cur].q.len > 0;
}

/* Entries of the queue that are not stores (a free, a released id) take
 * effect where they stand in program order, with no time of their own:
 * handled as soon as they reach the head, so a queue never ends in one
 * (which would make the next step start a new operation unasked). */
static void mm_pseudo_head(mm_mutator *m, mm_mloop *L)
{
    while (L->q.len > 0 && L->q.q[L->q.head].kind >= MM_ST_FREE) {
        const mm_store *s = &L->q.q[L->q.head];
        if (s->kind == MM_ST_FREE)
            mm_free_issued(m, s->th, s->addr, (size_t)s->value);
        else if (s->kind == MM_ST_RELEASE)
            mm_world_task_release(m->w, s->task);
        else if (s->kind == MM_ST_GRELEASE)
            mm_world_gather_release(m->w, s->task);
        L->q.head++;
        if (--L->q.len == 0)
            L->q.head = 0;
    }
}

int mm_mutator_step(mm_mutator *m)
{
    mm_mloop *L = &m->lp[m->cur];
    mm_store s;

    if (L->q.len > 0 && L->q.q[L->q.head].kind >= MM_ST_FREE)
        mm_pseudo_head(m, L);
    if (L->q.len == 0) {
        if (!mm_next_op(m))
            return 1;
        L = &m->lp[m->cur];
        mm_pseudo_head(m, L);
        if (L->q.len == 0)
            return 1;
    }
    s = L->q.q[L->q.head++];
    if (--L->q.len == 0)
        L->q.head = 0;
    if (m->fence_next) {
        s.fence = 1;
        m->fence_next = 0;
    }
    if (!m->defer)
        mm_store_write(m->sp, &s);
    m->time++;
    if (s.ev != EV_NONE)
        mm_apply_event(m, &s);
    m->last = s;
    if (L->q.len > 0 && L->q.q[L->q.head].kind >= MM_ST_FREE)
        mm_pseudo_head(m, L); /* frees that follow this store happen with it */
    m->last_gil = s.gil && L->q.len > 0;
    if (m->last_gil && m->n_loops > 1 && mm_pct(m, m->prog.p_switch)) {
        /* the GIL goes to another thread */
        int to = (int)(mm_rand(m) % (uint64_t)(m->n_loops - 1));
        to = to >= m->cur ? to + 1 : to;
        if (m->lp[to].q.len > 0 || mm_server_has_work(m, to)) {
            m->cur = to;
            m->fence_next = 1;
            if (m->lp[to].q.len == 0) {
                m->ops++;
                mm_server_next_op(m, to);
            }
        }
    }
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
    static const char *names[] = {"",     "link",       "unlink", "task",        "done",
                                  "line", "exec",       "chain",  "waiter",      "hook",
                                  "name", "awaited_by", "listed", "running_task"};
    return ev >= 0 && ev < (int)(sizeof names / sizeof names[0]) ? names[ev] : "?";
}

size_t mm_mutator_pending(const mm_mutator *m)
{
    return m->lp[m->cur].q.len;
}

uint64_t mm_mutator_time(const mm_mutator *m)
{
    return m->time;
}

uint64_t mm_mutator_ops(const mm_mutator *m)
{
    return m->ops;
}

mm_world *mm_mutator_world(mm_mutator *m)
{
    return m->w;
}

uint64_t mm_mutator_handle_run(const mm_mutator *m)
{
    return m->c_handle_run;
}

uint64_t mm_mutator_tstate(const mm_mutator *m, int loop)
{
    return loop >= 0 && (loop < m->n_loops || loop == m->plain) ? m->lp[loop].tstate : 0;
}

size_t mm_mutator_alive(const mm_mutator *m)
{
    return m->alive;
}

int mm_mutator_at_gil_point(const mm_mutator *m)
{
    return m->last_gil;
}

/* Drain every queue: the program's setup is visible before sampling. */
static void mm_settle(mm_mutator *m)
{
    int th;

    for (th = 0; th < m->n_loops + (m->plain >= 0); th++) {
        m->cur = th;
        while (m->lp[th].q.len > 0)
            (void)mm_mutator_step(m);
    }
    m->cur = 0;
}

int mm_mutator_new(mm_image *im, const mm_program *prog, uint64_t seed, mm_mutator **out)
{
    static const char *loop_names[6] = {"<module>",
                                        "run",
                                        "Runner.run",
                                        "BaseEventLoop.run_until_complete",
                                        "BaseEventLoop.run_forever",
                                        "BaseEventLoop._run_once"};
    static const char *loop_files[6] = {"/app/main.py",
                                        "/py/asyncio/runners.py",
                                        "/py/asyncio/runners.py",
                                        "/py/asyncio/base_events.py",
                                        "/py/asyncio/base_events.py",
                                        "/py/asyncio/base_events.py"};
    /* _run_once's lines: its first, then its calls (MM_RUN_ONCE_*):
     * self._selector.select(timeout), self._ready.popleft(), handle._run() */
    static const char *const run_once_calls[MM_RUN_ONCE_HANDLE + 1] = {"_line", "select", "popleft",
                                                                       "_run"};
    static const uint8_t run_once_args[MM_RUN_ONCE_HANDLE + 1] = {0, 1, 0, 0};
    mm_mutator *m = calloc(1, sizeof *m);
    int i, k, rc;

    if (m == NULL)
        return UW_ERR_NOMEM;
    m->im = im;
    m->l = im->l;
    m->al = im->al;
    m->sp = im->space;
    m->prog = *prog;
    m->rng = seed;
    rc = mm_version_init(im->l, &m->ver);
    if (rc == 0) {
        m->v = &m->ver;
        m->n_loops = prog->shape == MM_SHAPE_SERVER ? prog->n_loops : 1;
        if (m->n_loops < 1)
            m->n_loops = 1;
        if (m->n_loops > MM_MAX_LOOPS)
            m->n_loops = MM_MAX_LOOPS;
        m->plain = prog->shape == MM_SHAPE_SERVER && prog->plain && m->n_loops < MM_MAX_LOOPS
                       ? m->n_loops
                       : -1;
        rc = mm_world_new(m->n_loops + (m->plain >= 0), &m->w);
    }
    m->pay = calloc(MM_PAYLOADS, sizeof *m->pay);
    if (rc != 0 || m->pay == NULL) {
        mm_mutator_free(m);
        return rc != 0 ? rc : UW_ERR_NOMEM;
    }
    for (i = 0; i < 5; i++)
        m->c_loop[i] = mm_fab_code(im, loop_names[i], loop_files[i], 10 + 100 * i, MM_LINES);
    m->c_loop[5] = mm_fab_code_calls(im, loop_names[5], loop_files[5], 10 + 100 * 5, MM_LINES,
                                     run_once_calls, run_once_args, MM_RUN_ONCE_HANDLE + 1);
    m->c_select = mm_fab_code(im, "EpollSelector.select", "/py/selectors.py", 460, MM_LINES);
    m->c_handle_run = mm_fab_code(im, "Handle._run", "/py/asyncio/events.py", 80, MM_LINES);
    m->frame_bytes = ((size_t)m->l->frame_size + 4 * 8 + 15) & ~(size_t)15;
    for (i = 0; i < m->n_loops + (m->plain >= 0); i++) {
        mm_mloop *L = &m->lp[i];
        const mm_fthread *ft;
        if (i >= im->n_threads &&
            (i == m->plain ? mm_fab_plain_thread(im) : mm_fab_thread(im)) < 0) {
            mm_mutator_free(m);
            return UW_ERR_INVALID_ARG;
        }
        ft = &im->th[i];
        L->idx = i;
        L->tstate = ft->tstate;
        L->current_slot = ft->current_slot;
        L->chunk = ft->chunk;
        L->loop_obj = ft->loop;
        L->ready_state = ft->ready_state;
        L->ready_len = ft->ready_len;
        L->fifo = prog->fifo && prog->shape != MM_SHAPE_CLASSIC;
        L->stepping = -1;
        L->tl_first = L->tl_last = MM_LIST_HEAD;
        L->running = -1;
        L->current = ft->bottom; /* the frame below the first Python frame */
        L->entry = ft->cstack;
        for (k = 0; k < MM_SLOTS; k++)
            L->slot[k] = ft->chunk + (uint64_t)m->l->chunk_data + 8 + (uint64_t)k * m->frame_bytes;
    }
    if (prog->shape == MM_SHAPE_CLASSIC) {
        mm_classic_init(m);
    } else {
        m->c_thread_root = mm_fab_code(im, "Thread.run", "/py/threading.py", 990, MM_LINES);
        /* The loops: all visible before the first sample. */
        for (i = 0; i < m->n_loops; i++) {
            for (k = 0; k < 6; k++)
                mm_call(m, i, k, k == 0 && i > 0 ? m->c_thread_root : m->c_loop[k],
                        mm_code_line(m, k == 0 && i > 0 ? m->c_thread_root : m->c_loop[k]) + 1,
                        MM_LOOP);
            mm_call(m, i, MM_SLOT_LOOP, m->c_select, 461, MM_LOOP);
        }
        if (m->plain >= 0) {
            static const char *names[4] = {"Thread.run", "plain_worker", "plain_wait",
                                           "plain_leaf"};
            for (k = 0; k < 4; k++)
                m->c_plain[k] = k == 0
                                    ? m->c_thread_root
                                    : mm_fab_code(im, names[k], "/app/plain.py", 100 * k, MM_LINES);
            for (k = 0; k < 3; k++)
                mm_call(m, m->plain, k, m->c_plain[k], mm_code_line(m, m->c_plain[k]) + 1, MM_LOOP);
        }
        mm_settle(m);
        mm_server_init(m);
    }
    mm_settle(m);
    *out = m;
    return 0;
}

void mm_mutator_free(mm_mutator *m)
{
    int i;

    if (m == NULL)
        return;
    for (i = 0; i < MM_MAX_LOOPS; i++) {
        free(m->lp[i].q.q);
        free(m->lp[i].pf);
        free(m->lp[i].rdy);
        free(m->lp[i].cb);
        free(m->lp[i].hq);
        free(m->lp[i].slp);
    }
    for (i = 0; i < (int)m->n_tblk; i++)
        free(m->tblk[i]);
    free(m->tblk);
    free(m->g);
    free(m->g_free);
    free(m->set.key);
    free(m->set.hash);
    free(m->set.who);
    free(m->hook_free);
    free(m->pay);
    mm_world_free(m->w);
    free(m);
}
