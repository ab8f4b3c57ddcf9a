/*
 * oracle.c — one sample judged (oracle.h): the bounds, the skips, every
 * Task entry (oracle_entry.c), every composed stack and pure Python stack
 * (oracle_stack.c), and, when nothing moved during the sample, that
 * nothing was skipped or missed.
 */
#include "oracle_internal.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tornstack/error.h"
#include "tornstack/limits.h"

const char *mm_vkind_name(int kind)
{
    static const char *names[MM_V_KINDS] = {
        "leak",           "bogus",      "bogus_pure",   "depth",    "read_bound",
        "bad_skip",       "link_leak",  "label_leak",   "unrooted", "bogus_stack",
        "entry_mismatch", "still_skip", "thread_field", "crash",
    };
    return kind >= 0 && kind < MM_V_KINDS ? names[kind] : "?";
}

void mm_verdict_init(mm_verdict *v)
{
    memset(v, 0, sizeof *v);
    v->first_kind = -1;
    v->want_kind = -1;
}

void mm_violation(mm_oq *q, int kind, const char *fmt, ...)
{
    mm_verdict *v = q->v;
    va_list ap;
    int n;

    v->viol[kind]++;
    q->bad++;
    if (v->first[0] != '\0' || (v->want_kind >= 0 && kind != v->want_kind))
        return;
    v->first_kind = kind;
    n = snprintf(v->first, sizeof v->first, "%s: ", mm_vkind_name(kind));
    va_start(ap, fmt);
    vsnprintf(v->first + n, sizeof v->first - (size_t)n, fmt, ap);
    va_end(ap);
}

static int mm_cmp_addr_idx(const void *a, const void *b)
{
    uint64_t x = ((const mm_addr_idx *)a)->addr, y = ((const mm_addr_idx *)b)->addr;
    return x < y ? -1 : x > y;
}

int64_t mm_sample_index(const mm_oq *q, uint64_t addr)
{
    size_t lo = 0, hi = q->n_by;

    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (q->by_addr[mid].addr == addr)
            return (int64_t)q->by_addr[mid].idx;
        if (q->by_addr[mid].addr < addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

int mm_present(const mm_oq *q, uint64_t addr)
{
    return addr != 0 && mm_sample_index(q, addr) >= 0;
}

int mm_loop_of_tstate(const mm_oq *q, uint64_t tstate)
{
    int l;
    for (l = 0; l < q->c->n_loops; l++)
        if (q->c->tstate[l] == tstate)
            return l;
    return -1;
}

static void mm_inst_push(mm_oq *q, uint64_t t);

void mm_inst_reset(mm_oq *q)
{
    q->n_inst = 0;
    mm_inst_push(q, q->t0);
}

static void mm_inst_push(mm_oq *q, uint64_t t)
{
    if (q->n_inst == q->cap_inst) {
        size_t nc = q->cap_inst ? 2 * q->cap_inst : 64;
        uint64_t *a = realloc(q->inst, nc * sizeof *a);
        if (a == NULL)
            return; /* fewer instants: stricter, never looser */
        q->inst = a;
        q->cap_inst = nc;
    }
    q->inst[q->n_inst++] = t;
}

void mm_inst_add_task(mm_oq *q, int32_t id)
{
    size_t n, i;
    const uint64_t *t = mm_task_times(q->w, id, &n);
    for (i = 0; i < n; i++)
        mm_inst_push(q, t[i]);
}

void mm_inst_add_loop(mm_oq *q, int loop)
{
    size_t n, i;
    const uint64_t *t = mm_loop_times(q->w, loop, &n);
    for (i = 0; i < n; i++)
        mm_inst_push(q, t[i]);
}

static int mm_cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Sort (when the instants came from several entities) and drop
 * duplicates; t0, the earliest, comes first. */
void mm_inst_done(mm_oq *q)
{
    size_t i, k = 0;
    int sorted = 1;

    for (i = 1; i < q->n_inst && sorted; i++)
        sorted = q->inst[i - 1] <= q->inst[i];
    if (!sorted)
        qsort(q->inst, q->n_inst, sizeof *q->inst, mm_cmp_u64);
    for (i = 0; i < q->n_inst; i++)
        if (k == 0 || q->inst[k - 1] != q->inst[i])
            q->inst[k++] = q->inst[i];
    q->n_inst = k;
}

size_t mm_frames_str(const uw_sample *s, size_t first, size_t n, char *out, size_t cap)
{
    size_t k, off = 0;

    if (cap == 0)
        return 0;
    out[0] = '\0';
    for (k = 0; k < n && off + 48 < cap; k++) {
        const uw_frame *f = &s->frames[first + k];
        off += (size_t)snprintf(out + off, cap - off, "%s%s:%d", k ? ", " : "", uw_frame_name(f),
                                f->line);
    }
    if (k < n && off + 8 < cap)
        off += (size_t)snprintf(out + off, cap - off, ", ...");
    return off;
}

/* Is obj a pending Task of one of the model's loops (read now)? */
static int mm_pending_ours(const mm_image *im, uint64_t obj)
{
    const uw_layout *l = im->l;
    const uw_asyncio_layout *al = im->al;
    uint64_t type = 0, loop = 0;
    int32_t state = -1;
    int k, ours = 0;

    if (mm_space_read(im->space, obj + (uint64_t)l->object_type, &type, 8) != 0 ||
        type != im->task_type ||
        mm_space_read(im->space, obj + (uint64_t)al->fut_state, &state, 4) != 0 ||
        state != al->state_pending ||
        mm_space_read(im->space, obj + (uint64_t)al->fut_loop, &loop, 8) != 0)
        return 0;
    for (k = 0; k < im->n_threads; k++)
        ours |= loop != 0 && im->th[k].loop == loop;
    return ours;
}

/* 3.14+: the Tasks of one list (a thread's, or the interpreter's), from
 * its head through `next` (at most UW_LIMIT_TASKS + 1 per list read
 * here, enough to tell the bound was passed). */
static void mm_list_tasks(mm_oq *q, uint64_t head, size_t *listed, size_t *missing,
                          uint64_t *first_missing)
{
    const mm_image *im = q->c->im;
    uint64_t node = 0;
    size_t n;

    if (head == 0 || mm_space_read(im->space, head + (uint64_t)im->l->llist_next, &node, 8) != 0)
        return;
    for (n = 0; node != head && node != 0 && n <= (size_t)UW_LIMIT_TASKS; n++) {
        uint64_t obj = node - (uint64_t)im->al->task_node;
        if (mm_pending_ours(im, obj)) {
            (*listed)++;
            if (!mm_present(q, obj) && (*missing)++ == 0)
                *first_missing = obj;
        }
        if (mm_space_read(im->space, node + (uint64_t)im->l->llist_next, &node, 8) != 0)
            break;
    }
}

/* 3.14+: the nodes on one list (a thread's, or the interpreter's) added
 * to *nodes, every node whatever its Task's state, as the reader follows
 * them; counting stops past UW_LIMIT_TASK_LIST over all lists, enough to
 * tell that bound was passed. */
static void mm_list_nodes(const mm_image *im, uint64_t head, size_t *nodes)
{
    uint64_t node = 0;

    if (head == 0 || mm_space_read(im->space, head + (uint64_t)im->l->llist_next, &node, 8) != 0)
        return;
    while (node != head && node != 0 && *nodes <= (size_t)UW_LIMIT_TASK_LIST) {
        (*nodes)++;
        if (mm_space_read(im->space, node + (uint64_t)im->l->llist_next, &node, 8) != 0)
            break;
    }
}

/* Each entry of the registry set in this still image (a key neither
 * empty nor the dummy), with the object its weakref holds (0 when that
 * word cannot be read), passed to fn.  0 when the set itself cannot be
 * read or has more than UW_LIMIT_SET_SLOTS slots (then fn is not
 * called), else 1. */
static int mm_registry_each(const mm_image *im, void (*fn)(void *ctx, uint64_t obj), void *ctx)
{
    const uw_layout *l = im->l;
    uint64_t mask = 0, table = 0;
    size_t i;

    if (mm_space_read(im->space, im->registry + (uint64_t)l->set_mask, &mask, 8) != 0 ||
        mm_space_read(im->space, im->registry + (uint64_t)l->set_table, &table, 8) != 0 ||
        mask + 1 > UW_LIMIT_SET_SLOTS)
        return 0;
    for (i = 0; i <= mask; i++) {
        uint64_t key = 0, obj = 0;
        if (mm_space_read(im->space, table + i * (uint64_t)l->setentry_size, &key, 8) != 0 ||
            key == 0 || key == im->set_dummy)
            continue;
        if (mm_space_read(im->space, key + (uint64_t)l->weakref_object, &obj, 8) != 0)
            obj = 0;
        fn(ctx, obj);
    }
    return 1;
}

typedef struct mm_set_count {
    const mm_image *im;
    size_t entries, live;
} mm_set_count;

static void mm_count_entry(void *ctx, uint64_t obj)
{
    mm_set_count *c = ctx;

    c->entries++;
    if (obj != 0 && obj != c->im->target.types.none)
        c->live++;
}

/* Is UW_LIMIT_TASK_CANDIDATES passed in this still image: more entries in
 * the registry set than the bound (its keys are read up to it, dead
 * weakrefs and all), or, once dead weakrefs are dropped, more live entries
 * and 3.14+ list nodes together than the bound (the candidates are
 * collected up to it)?  Counting stops just past the bound. */
static int mm_candidates_past(const mm_image *im)
{
    mm_set_count c = {im, 0, 0};
    size_t nodes = 0;
    int k;

    (void)mm_registry_each(im, mm_count_entry, &c);
    for (k = 0; k < im->n_threads; k++)
        mm_list_nodes(im, im->th[k].tasks_head, &nodes);
    mm_list_nodes(im, im->interp_tasks_head, &nodes);
    return c.entries > (size_t)UW_LIMIT_TASK_CANDIDATES ||
           c.live + nodes > (size_t)UW_LIMIT_TASK_CANDIDATES;
}

/* A bound that explains Tasks missing from a still sample: more pending
 * Tasks than UW_LIMIT_TASKS (task_limit), more registry entries or list
 * nodes than UW_LIMIT_TASK_CANDIDATES (candidate_limit), or, 3.14+, lists
 * longer than UW_LIMIT_TASK_LIST nodes over the interpreter (task_list_limit: the
 * reader cannot tell such lists from ones without an end, and that bound
 * is met before the lists' ends, whatever the Task count), or the hook
 * module holding more records than UW_LIMIT_LINK_RECORDS (link_limit: the
 * links of the records past it are not read; the truth has none).  A
 * gather list longer or nested deeper than its bounds explains the
 * gather_limit error only (its first items are linked): every Task is
 * still read, so it explains no Task missing. */
static int mm_bound_explains(const mm_oq *q, size_t listed)
{
    const mm_image *im = q->c->im;
    size_t nodes = 0;
    int i;

    if (q->s->tasks_error == UW_ERR_LIMIT_TASKS)
        return listed > UW_LIMIT_TASKS;
    if (q->s->tasks_error == UW_ERR_LIMIT_CANDIDATES)
        return mm_candidates_past(im);
    if (q->s->tasks_error == UW_ERR_LIMIT_GATHER) /* every Task read; a gather list cut */
        return mm_gather_cut_any(q, q->t0);
    if (q->s->tasks_error == UW_ERR_LIMIT_LINK_RECORDS) { /* the hook's records past the bound */
        uint64_t count = 0;
        return im->hook_buf != 0 && mm_space_read(im->space, im->hook_buf + 8, &count, 8) == 0 &&
               count > (uint64_t)UW_LIMIT_LINK_RECORDS;
    }
    if (q->s->tasks_error != UW_ERR_LIMIT_TASK_LIST)
        return 0;
    for (i = 0; i < im->n_threads; i++)
        mm_list_nodes(im, im->th[i].tasks_head, &nodes);
    mm_list_nodes(im, im->interp_tasks_head, &nodes);
    return nodes > (size_t)UW_LIMIT_TASK_LIST;
}

typedef struct mm_set_seen {
    mm_oq *q;
    size_t listed, missing;
    uint64_t first_missing;
} mm_set_seen;

/* A registry entry's object: one of the Tasks the sample must show if it
 * is a pending Task of the model's loops. */
static void mm_seen_entry(void *ctx, uint64_t obj)
{
    mm_set_seen *c = ctx;
    const mm_image *im = c->q->c->im;

    if (obj == 0 || obj == im->target.types.none || !mm_pending_ours(im, obj))
        return;
    c->listed++;
    if (!mm_present(c->q, obj) && c->missing++ == 0)
        c->first_missing = obj;
}

/* The Tasks a perfect reader finds in the registry now (the process is
 * still: memory is the one instant of the window): pending Tasks of the
 * model's loops, reached through the set's live weakrefs, and from 3.14
 * through each thread's list of native Tasks and the interpreter's. */
static void mm_check_complete(mm_oq *q)
{
    const mm_image *im = q->c->im;
    mm_set_seen c = {q, 0, 0, 0};
    size_t i;

    if (im == NULL || !mm_registry_each(im, mm_seen_entry, &c))
        return;
    for (i = 0; i < (size_t)im->n_threads; i++)
        mm_list_tasks(q, im->th[i].tasks_head, &c.listed, &c.missing, &c.first_missing);
    mm_list_tasks(q, im->interp_tasks_head, &c.listed, &c.missing, &c.first_missing);
    /* a gather list cut explains the error, never a Task left out */
    if (c.missing > 0 &&
        (q->s->tasks_error == UW_ERR_LIMIT_GATHER || !mm_bound_explains(q, c.listed)))
        mm_violation(q, MM_V_STILL_SKIP,
                     "nothing moved, yet %zu of %zu registered Tasks are missing (first 0x%" PRIx64
                     "), tasks_error %s",
                     c.missing, c.listed, c.first_missing, uw_errname(q->s->tasks_error));
    else if (q->s->tasks_error != 0 && !mm_bound_explains(q, c.listed))
        mm_violation(q, MM_V_STILL_SKIP, "nothing moved, yet the Tasks were not all read: %s",
                     uw_errname(q->s->tasks_error));
}

/* Is the frame chain of thread state tstate longer than UW_LIMIT_FRAMES
 * frames (entry frames too: every one costs the walk a hop)?  A still
 * process: memory is the one instant of the window.  Then frame_limit is
 * the bound, met by a real stack, not a skip. */
static int mm_chain_past_limit(const mm_oq *q, uint64_t tstate)
{
    const mm_image *im = q->c->im;
    uint64_t f = 0;
    size_t hops = 0;
    int k;

    if (im == NULL)
        return 0;
    for (k = 0; k < im->n_threads && im->th[k].tstate != tstate; k++)
        ;
    if (k == im->n_threads || mm_space_read(im->space, im->th[k].current_slot, &f, 8) != 0)
        return 0;
    while (f != 0 && hops <= (size_t)UW_LIMIT_FRAMES) {
        hops++;
        if (mm_space_read(im->space, f + (uint64_t)im->l->frame_previous, &f, 8) != 0)
            return 0;
    }
    return hops > (size_t)UW_LIMIT_FRAMES;
}

/* Then some thread is walked without its loop's epoch in every sample,
 * and a Task that reads as resuming there (its root marked executing, or
 * its `previous` not cleared yet) is skipped as epoch_limit: the bound,
 * met by a real program, not a skip. */
int mm_loops_past_epochs(const mm_oq *q)
{
    const mm_image *im = q->c->im;
    int k, loops = 0;

    if (im == NULL)
        return 0;
    for (k = 0; k < im->n_threads; k++)
        loops += im->th[k].loop != 0;
    return loops > (q->c->epochs_limited && q->c->epochs_kept < UW_EPOCH_THREADS
                        ? q->c->epochs_kept
                        : UW_EPOCH_THREADS);
}

static void mm_check_still(mm_oq *q)
{
    const uw_sample *s = q->s;
    size_t i;

    q->v->still++;
    if (s->truncated != 0)
        mm_violation(q, MM_V_STILL_SKIP, "nothing moved, yet the sample was cut: %s",
                     uw_errname(s->truncated));
    for (i = 0; i < s->n_threads; i++) {
        const uw_thread_sample *th = &s->threads[i];
        if ((th->truncated != 0 && th->truncated != UW_ERR_DEPTH &&
             !(th->truncated == UW_ERR_LIMIT_FRAMES && mm_chain_past_limit(q, th->tstate))) ||
            th->top_dropped)
            mm_violation(q, MM_V_STILL_SKIP,
                         "nothing moved, yet thread %" PRIu64 "'s walk was %s (%zu frames)",
                         th->native_id,
                         th->top_dropped ? "cut above Handle._run" : uw_errname(th->truncated),
                         th->n_frames);
    }
    for (i = 0; i < s->n_tasks; i++) {
        const uw_task_sample *ts = &s->tasks[i];
        if (ts->skipped == UW_SKIP_EPOCH_LIMIT && mm_loops_past_epochs(q))
            continue;
        if (ts->skipped == UW_ERR_LIMIT_FRAMES && ts->thread < s->n_threads &&
            s->threads[ts->thread].truncated == UW_ERR_LIMIT_FRAMES &&
            mm_chain_past_limit(q, s->threads[ts->thread].tstate))
            continue; /* its thread's stack is that deep: the bound */
        if (ts->skipped != 0)
            mm_violation(q, MM_V_STILL_SKIP,
                         "nothing moved, yet task 0x%" PRIx64 " (%s) was skipped: %s", ts->addr,
                         ts->name, uw_errname(ts->skipped));
    }
    mm_check_complete(q);
}

int mm_oracle_check(const uw_sample *s, const mm_oracle_ctx *c, mm_verdict *v)
{
    mm_oq q;
    size_t i;

    memset(&q, 0, sizeof q);
    q.s = s;
    q.c = c;
    q.v = v;
    q.w = c->w;
    q.t0 = mm_world_t0(c->w);
    q.t1 = mm_world_t1(c->w);
    v->samples++;
    for (i = 1; i < UW_REASON_SLOTS; i++)
        v->recovered += s->recovered[i];
    v->calls += s->calls;
    v->bytes += s->bytes;
    if (s->calls > v->max_calls)
        v->max_calls = s->calls;
    if (s->n_tasks > v->max_tasks)
        v->max_tasks = s->n_tasks;
    if (s->calls > MM_READ_BOUND)
        mm_violation(&q, MM_V_READS,
                     "%" PRIu64 " reads (%" PRIu64 " bytes) > %d, %zu threads, %zu Tasks", s->calls,
                     s->bytes, MM_READ_BOUND, s->n_threads, s->n_tasks);
    q.by_addr = malloc((s->n_tasks ? s->n_tasks : 1) * sizeof *q.by_addr);
    if (q.by_addr != NULL) {
        for (i = 0; i < s->n_tasks; i++)
            q.by_addr[i] = (mm_addr_idx){s->tasks[i].addr, i};
        q.n_by = s->n_tasks;
        qsort(q.by_addr, q.n_by, sizeof *q.by_addr, mm_cmp_addr_idx);
    }
    mm_ab_build(&q);
    for (i = 0; i < s->n_tasks; i++)
        mm_check_entry(&q, i);
    mm_check_threads(&q);
    mm_check_pure(&q);
    mm_check_stacks(&q);
    if (c->still)
        mm_check_still(&q);
    free(q.by_addr);
    free(q.owners);
    free(q.inst);
    free(q.ab);
    return q.bad;
}

uint64_t mm_verdict_violations(const mm_verdict *v)
{
    uint64_t n = 0;
    int k;
    for (k = 0; k < MM_V_KINDS; k++)
        n += v->viol[k];
    return n;
}

void mm_verdict_add(mm_verdict *into, const mm_verdict *v)
{
    size_t i;

    into->samples += v->samples;
    into->tasks += v->tasks;
    into->emitted += v->emitted;
    into->skipped += v->skipped;
    into->recovered += v->recovered;
    into->stacks += v->stacks;
    into->still += v->still;
    into->kept += v->kept;
    for (i = 0; i < UW_REASON_SLOTS; i++)
        into->skips[i] += v->skips[i];
    for (i = 0; i < MM_V_KINDS; i++)
        into->viol[i] += v->viol[i];
    into->calls += v->calls;
    into->bytes += v->bytes;
    into->reordered += v->reordered;
    if (v->max_calls > into->max_calls)
        into->max_calls = v->max_calls;
    if (v->max_tasks > into->max_tasks)
        into->max_tasks = v->max_tasks;
    if (into->first[0] == '\0' && v->first[0] != '\0') {
        memcpy(into->first, v->first, sizeof into->first);
        into->first_kind = v->first_kind;
    }
}
