/*
 * idle.c — a thread that has not run since its last complete walk keeps
 * that walk.
 *
 * Only a thread itself pushes, pops or moves its frames: the eval loop of
 * that thread writes its current-frame pointer (its cframe's, 3.11/3.12),
 * every frame's code, `previous`, owner and instruction pointer, and its
 * data-stack chunks.  A thread that did not run stored nothing, so every
 * frame it had stood as it was.  The reader's run clock (reader.h) tells
 * whether a thread ran: equal at two readings, it did not run in between.
 *
 * So each sample first reads the run clock of every thread it keeps a walk
 * of, before any memory of the sample (uw__idle_begin, at the start of
 * uw_unwind_threads).  A thread whose clock reads as it did before its
 * kept walk's first read did not run from before that walk to now: the
 * stack that walk read stood throughout, and is this sample's stack too.
 * It is shown again without a read (uw__idle_walk), when also:
 *   - its thread state reads back byte for byte as the walk's (a thread
 *     state freed and reused by a new thread, whose id differs, or one
 *     whose native id, hence clock, changed, is walked);
 *   - the code cache freed or replaced no entry since (the kept frames
 *     point at entries, which then stand; each is marked validated in this
 *     sample, so that none is replaced while the sample points at it: the
 *     frames hold their code objects, which therefore were not freed);
 *   - the walk had no bracket and has none now (a loop thread of the Task
 *     walk is walked, its epoch read around it), and the depth limit is the
 *     same.
 * A complete walk (not cut, nothing dropped) of a thread whose clock was
 * read at the start of the sample is kept, with that reading as its base;
 * any other walk forgets the thread's kept one.
 *
 * Walks made on request later in a sample (uw__unwind_one_thread) neither
 * use nor keep one.  Bounds: UW_IDLE_THREADS threads kept, each at most
 * UW_LIMIT_FRAMES frames; a thread not met in a sample is forgotten at the
 * next one's start.  Without clocks, or memory to keep a walk, every
 * thread is walked as before.
 */
#include <stdlib.h>
#include <string.h>

#include "tornstack/error.h"
#include "unwind_int.h"

static void uw_idle_forget(uw_idle *e)
{
    e->ts = 0;
    e->tid = 0;
    e->kept = 0;
    e->now_ok = 0;
}

uw_idle *uw__idle_find(uw_unwinder *u, uint64_t ts)
{
    size_t i;

    for (i = 0; i < u->idle_hi; i++)
        if (u->idle[i].ts == ts)
            return &u->idle[i];
    return NULL;
}

/* The kept entry of thread state ts, a free one for it, or NULL. */
static uw_idle *uw_idle_entry(uw_unwinder *u, uint64_t ts)
{
    uw_idle *e = uw__idle_find(u, ts);

    if (e != NULL)
        return e;
    e = uw__idle_find(u, 0);
    if (e == NULL && u->idle_hi < UW_IDLE_THREADS)
        e = &u->idle[u->idle_hi++];
    if (e != NULL) {
        uw_idle_forget(e);
        e->ts = ts;
    }
    return e;
}

void uw__idle_begin(uw_unwinder *u)
{
    size_t i;

    u->idle_sample++;
    while (u->idle_hi > 0 && u->idle[u->idle_hi - 1].ts == 0)
        u->idle_hi--;
    for (i = 0; i < u->idle_hi; i++) {
        uw_idle *e = &u->idle[i];
        if (e->ts != 0 && u->idle_sample - e->met >= 2)
            uw_idle_forget(e); /* not met in the last sample */
        e->now_ok = e->ts != 0 && e->tid != 0 && uw_reader_clock(u->r, e->tid, &e->now) == 0;
    }
    u->idle_on = 1;
}

void uw__idle_end(uw_unwinder *u)
{
    u->idle_on = 0;
}

void uw__idle_free(uw_unwinder *u)
{
    size_t i;

    for (i = 0; i < UW_IDLE_THREADS; i++) {
        free(u->idle[i].frames);
        free(u->idle[i].codes);
        u->idle[i].frames = NULL;
        u->idle[i].codes = NULL;
        u->idle[i].cap = 0;
    }
}

int uw__idle_usable(uw_unwinder *u, const uw_idle *e, uint64_t ts)
{
    uint64_t tag;

    return e->ts == ts && e->kept && e->depth == u->max_depth && e->code_frees == u->cache.frees &&
           uw__walk_bracket(u, ts, &tag) == 0;
}

/* May the kept walk of e stand for thread ts now (the file's comment)?
 * u->tstate holds the thread state as read in this sample. */
static int uw_idle_still(uw_unwinder *u, const uw_idle *e, uint64_t ts)
{
    return uw__idle_usable(u, e, ts) && e->now_ok && e->now == e->base &&
           memcmp(e->tstate, u->tstate, u->tstate_len) == 0;
}

int uw__idle_show(uw_unwinder *u, uw_idle *e, uint64_t ts, uint64_t interp, int64_t interp_id,
                  uw_sample *s)
{
    uw_thread_sample *th;
    size_t first, i;
    int rc;

    /* The cache freed nothing since (uw__idle_usable): each entry stands
     * where the frames point; stamped, it stays there until the next
     * sample.  Only now, the thread known not to have run: its frames
     * hold their code objects, so the entries describe them still. */
    for (i = 0; i < e->n_frames; i++)
        if (e->codes[i] != NULL)
            e->codes[i]->stamp = u->cache.stamp;
    e->met = u->idle_sample;

    rc = uw_sample_add_thread(s, ts, interp, interp_id, &th);
    if (rc != 0)
        return rc;
    first = th->first_frame;
    *th = e->th;
    th->tstate = ts;
    th->interp = interp;
    th->interp_id = interp_id;
    th->first_frame = first;
    th->n_frames = 0;
    th->retries = 0;
    rc = uw_sample_add_frames(s, e->frames, e->n_frames);
    if (rc != 0)
        return rc;
    th = &s->threads[s->n_threads - 1];
    th->n_frames = e->n_frames;
    th->split = uw__walk_stable_from(u, s, th);
    u->tstate_next_ok = 0; /* no walk read the next thread state */
    u->idle_shown++;
    return 0;
}

/* Keep the walk just made of thread ts (the last thread of s) in e, or
 * forget e's kept walk. */
static void uw_idle_keep(uw_unwinder *u, uw_idle *e, const uw_sample *s)
{
    const uw_thread_sample *th = &s->threads[s->n_threads - 1];
    size_t i;

    e->met = u->idle_sample;
    e->kept = 0;
    if (th->truncated != 0 || th->top_dropped || th->epoch_loop != 0 || th->native_id == 0 ||
        th->n_frames > UW_LIMIT_FRAMES || !e->now_ok || e->tid != th->native_id) {
        e->tid = th->native_id; /* its clock is read from the next sample on */
        return;
    }
    if (e->cap < th->n_frames) {
        size_t cap = th->n_frames > 16 ? th->n_frames : 16;
        uw_frame *f = realloc(e->frames, cap * sizeof *f);
        uw_code_info **k = f != NULL ? realloc(e->codes, cap * sizeof *k) : NULL;
        if (f != NULL)
            e->frames = f;
        if (k == NULL)
            return; /* walked next time, as without a clock */
        e->codes = k;
        e->cap = cap;
    }
    for (i = 0; i < th->n_frames; i++) {
        const uw_code_info *c = s->frames[th->first_frame + i].code;
        e->codes[i] = c != NULL ? uw__code_cache_find(&u->cache, c->addr) : NULL;
        if (e->codes[i] != c)
            return; /* an entry on the overflow list, freed at the next sample */
    }
    if (th->n_frames > 0)
        memcpy(e->frames, &s->frames[th->first_frame], th->n_frames * sizeof *e->frames);
    e->n_frames = th->n_frames;
    e->th = *th;
    memcpy(e->tstate, u->tstate, u->tstate_len);
    e->base = e->now;
    e->depth = u->max_depth;
    e->code_frees = u->cache.frees;
    e->kept = 1;
}

int uw__idle_walk(uw_unwinder *u, uint64_t ts, uint64_t interp, int64_t interp_id, uw_sample *s)
{
    uw_idle *e = u->idle_on ? uw_idle_entry(u, ts) : NULL;
    int rc;

    if (e != NULL && uw_idle_still(u, e, ts))
        return uw__idle_show(u, e, ts, interp, interp_id, s);
    rc = uw__walk_thread(u, ts, interp, interp_id, s, UW_THREAD_RETRIES);
    if (e != NULL) {
        if (rc == 0)
            uw_idle_keep(u, e, s);
        else
            uw_idle_forget(e);
    }
    return rc;
}
