/*
 * profile.c — the aggregate of profile.h: interned strings, frames and
 * stacks, each found by content through its own hash index.
 *
 * Adding a sample costs per frame: a recording meets the same code objects
 * at the same lines again and again, so a Python frame's id is memoised by
 * (code cache entry, the entry's load serial, line) in a direct-mapped
 * table, and its name and file are hashed only on a miss.  The serial is
 * new at every load, so an entry reloaded at the same place (another code
 * object at the same address) never hits an old memo.  Thread and Task
 * names are interned once per sample.
 */
#include "tornstack/profile.h"

#include <stdlib.h>
#include <string.h>

#include "tornstack/error.h"
#include "tornstack/limits.h"

/* Entries of the frame memo (a power of two). */
#define UW_PROFILE_MEMO 8192

struct uw_pframe_memo {
    const uw_code_info *code;
    uint64_t serial;
    int64_t line;
    uint32_t id;
};

/* Make room for one more element of a growing array (doubling). */
static int uw_pgrow(void **arr, size_t n, size_t *cap, size_t elem, size_t first)
{
    if (n < *cap)
        return 0;
    {
        size_t c = *cap ? 2 * *cap : first;
        void *a = realloc(*arr, c * elem);
        if (a == NULL)
            return UW_ERR_NOMEM;
        *arr = a;
        *cap = c;
    }
    return 0;
}

static int uw_pgrow32(void **arr, uint32_t n, uint32_t *cap, size_t elem, size_t first)
{
    size_t c = *cap;
    int rc = uw_pgrow(arr, n, &c, elem, first);
    if (rc == 0)
        *cap = c > UINT32_MAX ? UINT32_MAX : (uint32_t)c;
    return rc;
}

int uw_profile_init(uw_profile *p)
{
    uint32_t id;

    memset(p, 0, sizeof *p);
    uw_hindex_init(&p->string_index);
    uw_hindex_init(&p->frame_index);
    uw_hindex_init(&p->stack_index);
    p->max_stacks = UW_LIMIT_PROFILE_STACKS;
    p->max_frames = UW_LIMIT_PROFILE_FRAMES;
    p->max_items = UW_LIMIT_PROFILE_ITEMS;
    if (uw_profile_intern(p, "", 0, &id) != 0) {
        uw_profile_free(p);
        return UW_ERR_NOMEM;
    }
    return 0;
}

void uw_profile_free(uw_profile *p)
{
    uint32_t i;

    if (p == NULL)
        return;
    for (i = 0; i < p->n_strings; i++)
        free(p->strings[i]);
    free(p->strings);
    free(p->string_len);
    free(p->frames);
    free(p->items);
    free(p->stacks);
    free(p->scratch);
    free(p->thread_names);
    free(p->memo);
    free(p->thread_name_ids);
    free(p->task_name_ids);
    uw_hindex_free(&p->string_index);
    uw_hindex_free(&p->frame_index);
    uw_hindex_free(&p->stack_index);
    memset(p, 0, sizeof *p);
}

typedef struct uw_pstr_key {
    const char *s;
    size_t len;
} uw_pstr_key;

static int uw_pstr_eq(const void *ctx, uint32_t id, const void *key)
{
    const uw_profile *p = ctx;
    const uw_pstr_key *k = key;
    return p->string_len[id] == k->len && memcmp(p->strings[id], k->s, k->len) == 0;
}

/* Strings are added for new frames (name and file) and for stack labels
 * (a thread and a Task name), so 2 * max_frames + 2 * max_stacks + 1
 * bounds them (profile_string_limit past it: strings are interned before
 * their frame or stack is refused, so this is met only after those
 * bounds, by frames and labels that were never added). */
int uw_profile_intern(uw_profile *p, const char *s, size_t len, uint32_t *id)
{
    uw_pstr_key key = {s, len};
    uint64_t h = uw_hash_bytes(s, len, 1);
    uint64_t max = 2ull * p->max_frames + 2ull * p->max_stacks + 1;
    char *copy;
    int rc;

    if (uw_hindex_find(&p->string_index, h, uw_pstr_eq, p, &key, id))
        return 0;
    if (p->n_strings >= max || len > UINT32_MAX - 1)
        return UW_ERR_LIMIT_PROFILE_STRINGS;
    if (p->n_strings == p->cap_strings) {
        uint32_t cap = p->cap_strings;
        rc = uw_pgrow32((void **)&p->strings, p->n_strings, &cap, sizeof *p->strings, 256);
        if (rc == 0) {
            uint32_t cap2 = p->cap_strings;
            rc = uw_pgrow32((void **)&p->string_len, p->n_strings, &cap2, sizeof *p->string_len,
                            256);
        }
        if (rc != 0)
            return rc;
        p->cap_strings = cap;
    }
    copy = malloc(len + 1);
    if (copy == NULL)
        return UW_ERR_NOMEM;
    memcpy(copy, s, len);
    copy[len] = '\0';
    rc = uw_hindex_add(&p->string_index, h, p->n_strings);
    if (rc != 0) {
        free(copy);
        return rc;
    }
    p->strings[p->n_strings] = copy;
    p->string_len[p->n_strings] = (uint32_t)len;
    *id = p->n_strings++;
    return 0;
}

static uint64_t uw_pframe_hash(const uw_pframe *f)
{
    uint64_t h = uw_hash_mix(f->name, f->file);
    h = uw_hash_mix(h, (uint64_t)f->line);
    return uw_hash_mix(h, (uint64_t)f->kind);
}

static int uw_pframe_eq(const void *ctx, uint32_t id, const void *key)
{
    const uw_pframe *a = &((const uw_profile *)ctx)->frames[id], *b = key;
    return a->name == b->name && a->file == b->file && a->line == b->line && a->kind == b->kind;
}

int uw_profile_frame(uw_profile *p, const uw_pframe *f, uint32_t *id)
{
    uint64_t h;
    int rc;

    if (f->name >= p->n_strings || f->file >= p->n_strings ||
        (f->kind != UW_PFRAME_PYTHON && f->kind != UW_PFRAME_TASK && f->kind != UW_PFRAME_THREAD))
        return UW_ERR_INVALID_ARG;
    h = uw_pframe_hash(f);
    if (uw_hindex_find(&p->frame_index, h, uw_pframe_eq, p, f, id))
        return 0;
    if (p->n_frames >= p->max_frames)
        return UW_ERR_LIMIT_PROFILE_FRAMES;
    rc = uw_pgrow32((void **)&p->frames, p->n_frames, &p->cap_frames, sizeof *p->frames, 256);
    if (rc == 0)
        rc = uw_hindex_add(&p->frame_index, h, p->n_frames);
    if (rc != 0)
        return rc;
    p->frames[p->n_frames] = *f;
    *id = p->n_frames++;
    return 0;
}

typedef struct uw_pstack_key {
    const uint32_t *frames;
    uint32_t n;
    const uw_plabels *labels;
} uw_pstack_key;

static int uw_pstack_eq(const void *ctx, uint32_t id, const void *key)
{
    const uw_profile *p = ctx;
    const uw_pstack *a = &p->stacks[id];
    const uw_pstack_key *k = key;

    return a->n == k->n && a->labels.thread_id == k->labels->thread_id &&
           a->labels.thread_name == k->labels->thread_name &&
           a->labels.task_name == k->labels->task_name &&
           memcmp(p->items + a->first, k->frames, (size_t)k->n * sizeof *k->frames) == 0;
}

int uw_profile_add(uw_profile *p, const uint32_t *frames, uint32_t n, const uw_plabels *labels,
                   uint64_t count)
{
    uw_pstack_key key = {frames, n, labels};
    uint32_t *last;
    uint64_t h;
    uint32_t i, id;
    int rc;

    if (n > UW_LIMIT_STACK_ITEMS)
        return UW_ERR_LIMIT_STACK;
    if (labels->thread_name >= p->n_strings ||
        (labels->task_name != UW_PSTR_NONE && labels->task_name >= p->n_strings))
        return UW_ERR_INVALID_ARG;
    if (count > UW_LIMIT_PROFILE_COUNT || p->total > UW_LIMIT_PROFILE_COUNT - count)
        return UW_ERR_LIMIT_COUNT;
    if (count == 0 || n == 0)
        return 0; /* nothing to show: no frame, or never seen */
    /* A thread's stack is often the one it had last time: compared, not
     * hashed.  (An id that is no stack, or another stack, just misses.) */
    last = &p->last_stack[(labels->thread_id * 0x9e3779b97f4a7c15ull + labels->task_name) >> 56];
    if (*last != 0 && *last <= p->n_stacks && uw_pstack_eq(p, *last - 1, &key)) {
        p->stacks[*last - 1].count += count; /* its frames are the stack's: valid */
        p->total += count;
        return 0;
    }
    h = uw_hash_mix(labels->thread_id, labels->thread_name);
    h = uw_hash_mix(h, labels->task_name);
    for (i = 0; i < n; i++) {
        if (frames[i] >= p->n_frames)
            return UW_ERR_INVALID_ARG;
        h = uw_hash_mix(h, frames[i]);
    }
    if (uw_hindex_find(&p->stack_index, h, uw_pstack_eq, p, &key, &id)) {
        p->stacks[id].count += count;
        p->total += count;
        *last = id + 1;
        return 0;
    }
    if (p->n_stacks >= p->max_stacks)
        return UW_ERR_LIMIT_PROFILE_STACKS;
    if (n > p->max_items - p->n_items)
        return UW_ERR_LIMIT_PROFILE_ITEMS;
    while (p->n_items + n > p->cap_items) {
        rc = uw_pgrow((void **)&p->items, p->cap_items, &p->cap_items, sizeof *p->items, 4096);
        if (rc != 0)
            return rc;
    }
    rc = uw_pgrow32((void **)&p->stacks, p->n_stacks, &p->cap_stacks, sizeof *p->stacks, 256);
    if (rc == 0)
        rc = uw_hindex_add(&p->stack_index, h, p->n_stacks);
    if (rc != 0)
        return rc;
    if (n > 0)
        memcpy(p->items + p->n_items, frames, (size_t)n * sizeof *frames);
    p->stacks[p->n_stacks] = (uw_pstack){count, h, p->n_items, n, *labels};
    p->n_items += n;
    p->n_stacks++;
    *last = p->n_stacks;
    p->total += count;
    return 0;
}

uint64_t uw_profile_skipped_stacks(const uw_profile *p)
{
    uint64_t t = 0;
    size_t r;

    for (r = 0; r < UW_REASON_SLOTS; r++)
        t += p->stack_skips[r];
    return t;
}

typedef struct uw_padd_ctx {
    uw_profile *p;
    const uw_sample *s;
    uw_thread_name_fn names;
    void *names_ctx;
} uw_padd_ctx;

/* A Python frame's id: from the memo when its code entry (same load) and
 * line were seen, else interned and remembered.  Entries without a serial
 * (made by hand, not by a cache) are always interned. */
static int uw_padd_pyframe(uw_profile *p, const uw_frame *fr, uint32_t *id)
{
    const uw_code_info *e = fr->code;
    struct uw_pframe_memo *m = NULL;
    uw_pframe f = {0, 0, fr->line, UW_PFRAME_PYTHON};
    int rc;

    if (e != NULL && e->serial != 0) {
        uint64_t h = (e->serial * 0x9e3779b97f4a7c15ull) ^ ((uint64_t)(int64_t)fr->line << 20);
        m = &p->memo[(h ^ (h >> 29)) & (UW_PROFILE_MEMO - 1)];
        if (m->code == e && m->serial == e->serial && m->line == fr->line) {
            *id = m->id;
            return 0;
        }
    }
    rc = uw_profile_intern(p, uw_frame_name(fr), strlen(uw_frame_name(fr)), &f.name);
    if (rc == 0)
        rc = uw_profile_intern(p, uw_frame_file(fr), strlen(uw_frame_file(fr)), &f.file);
    if (rc == 0)
        rc = uw_profile_frame(p, &f, id);
    if (rc == 0 && m != NULL)
        *m = (struct uw_pframe_memo){e, e->serial, fr->line, *id};
    return rc;
}

/* The name of thread index th of the sample, asked once per sample. */
static const char *uw_padd_thread_name(uw_padd_ctx *c, size_t th)
{
    static const char unknown[] = "";
    uw_profile *p = c->p;

    if (p->thread_names[th] == NULL) {
        const char *n =
            c->names != NULL ? c->names(c->names_ctx, c->s->threads[th].native_id) : NULL;
        p->thread_names[th] = n != NULL ? n : unknown;
    }
    return p->thread_names[th];
}

/* A string of the sample interned (lengths come from the sample's own
 * bounded strings: names are cut when read). */
static int uw_padd_str(uw_profile *p, const char *s, uint32_t *id)
{
    return uw_profile_intern(p, s, strlen(s), id);
}

/* Thread th's name id, interned once per sample. */
static int uw_padd_thread_id(uw_padd_ctx *c, size_t th, uint32_t *id)
{
    uw_profile *p = c->p;
    int rc = 0;

    if (p->thread_name_ids[th] == UINT32_MAX)
        rc = uw_padd_str(p, uw_padd_thread_name(c, th), &p->thread_name_ids[th]);
    *id = p->thread_name_ids[th];
    return rc;
}

/* Task i's name id, interned once per sample. */
static int uw_padd_task_id(uw_padd_ctx *c, size_t i, uint32_t *id)
{
    uw_profile *p = c->p;
    int rc = 0;

    if (p->task_name_ids[i] == UINT32_MAX)
        rc = uw_padd_str(p, c->s->tasks[i].name, &p->task_name_ids[i]);
    *id = p->task_name_ids[i];
    return rc;
}

/* One composed stack into frame ids, then into the profile.  A bound of
 * the profile drops this stack only (counted); running out of memory
 * stops the sample. */
static int uw_padd_stack(void *ctx, const uw_stack *st)
{
    uw_padd_ctx *c = ctx;
    uw_profile *p = c->p;
    const uw_sample *s = c->s;
    uw_plabels labels;
    size_t i;
    int rc = 0;

    for (i = 0; i < st->n && rc == 0; i++) {
        const uw_stack_item *it = &st->items[i];
        uw_pframe f = {0, 0, 0, UW_PFRAME_PYTHON};
        if (it->kind == UW_ITEM_FRAME) {
            rc = uw_padd_pyframe(p, it->frame, &p->scratch[i]);
            continue;
        } else if (it->kind == UW_ITEM_TASK) {
            f.kind = UW_PFRAME_TASK;
            rc = it->index < s->n_tasks ? uw_padd_task_id(c, it->index, &f.name)
                                        : UW_ERR_INVALID_ARG;
        } else {
            f.kind = UW_PFRAME_THREAD;
            if (it->index >= s->n_threads) {
                rc = UW_ERR_INVALID_ARG;
                break;
            }
            rc = uw_padd_thread_id(c, it->index, &f.name);
            f.line = (int64_t)s->threads[it->index].native_id;
        }
        if (rc == 0)
            rc = uw_profile_frame(p, &f, &p->scratch[i]);
    }
    labels.thread_id = s->threads[st->thread].native_id;
    labels.task_name = UW_PSTR_NONE;
    if (rc == 0)
        rc = uw_padd_thread_id(c, st->thread, &labels.thread_name);
    if (rc == 0 && st->task >= 0 && (size_t)st->task < s->n_tasks)
        rc = uw_padd_task_id(c, (size_t)st->task, &labels.task_name);
    if (rc == 0)
        rc = uw_profile_add(p, p->scratch, (uint32_t)st->n, &labels, 1);
    if (rc == UW_ERR_NOMEM)
        return rc;
    if (rc != 0)
        p->stack_skips[uw_reason_slot(rc)]++;
    return 0;
}

int uw_profile_add_sample(uw_profile *p, const uw_sample *s, const uw_compose_options *o,
                          uw_thread_name_fn names, void *names_ctx)
{
    uw_padd_ctx c = {p, s, names, names_ctx};
    uint32_t skipped[UW_REASON_SLOTS] = {0};
    size_t r;
    int rc;

    if (p->scratch == NULL) {
        p->scratch = malloc(UW_LIMIT_STACK_ITEMS * sizeof *p->scratch);
        p->memo = calloc(UW_PROFILE_MEMO, sizeof *p->memo);
        if (p->scratch == NULL || p->memo == NULL)
            return UW_ERR_NOMEM;
    }
    if (s->n_threads > p->cap_thread_names) {
        const char **t = realloc(p->thread_names, s->n_threads * sizeof *t);
        uint32_t *ids;
        if (t == NULL)
            return UW_ERR_NOMEM;
        p->thread_names = t;
        ids = realloc(p->thread_name_ids, s->n_threads * sizeof *ids);
        if (ids == NULL)
            return UW_ERR_NOMEM;
        p->thread_name_ids = ids;
        p->cap_thread_names = s->n_threads;
    }
    if (s->n_tasks > p->cap_task_name_ids) {
        uint32_t *ids = realloc(p->task_name_ids, s->n_tasks * sizeof *ids);
        if (ids == NULL)
            return UW_ERR_NOMEM;
        p->task_name_ids = ids;
        p->cap_task_name_ids = s->n_tasks;
    }
    if (s->n_threads > 0) {
        memset(p->thread_names, 0, s->n_threads * sizeof *p->thread_names);
        memset(p->thread_name_ids, 0xff, s->n_threads * sizeof *p->thread_name_ids);
    }
    if (s->n_tasks > 0)
        memset(p->task_name_ids, 0xff, s->n_tasks * sizeof *p->task_name_ids);
    p->samples++;
    for (r = 0; r < UW_REASON_SLOTS; r++) {
        p->task_skips[r] += s->skips[r];
        p->thread_skips[r] += s->thread_skips[r];
        p->task_recovered[r] += s->recovered[r];
    }
    rc = uw_compose(s, o, uw_padd_stack, &c, skipped);
    for (r = 0; r < UW_REASON_SLOTS; r++)
        p->stack_skips[r] += skipped[r];
    return rc;
}
