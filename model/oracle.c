/*
 * oracle.c — see oracle.h.
 */
#include "oracle.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "tornstack/error.h"
#include "tornstack/limits.h"

static int mm_task_slot(const mm_truth *h, uint64_t addr)
{
    int i;
    for (i = 0; i < MM_MAX_TASKS; i++)
        if (h->task_addr[i] == addr && addr != 0)
            return i;
    return -1;
}

static int mm_frame_eq(const uw_frame *e, const mm_tframe *t)
{
    return e->addr == t->addr && e->code != NULL && e->code->addr == t->code && e->line == t->line;
}

static void mm_first(mm_verdict *v, const char *what, const uw_task_sample *ts, const uw_sample *s)
{
    size_t k, off;
    if (v->first[0] != '\0')
        return;
    off = (size_t)snprintf(v->first, sizeof v->first, "%s: task 0x%" PRIx64 " (%s) frames [", what,
                           ts->addr, ts->name);
    for (k = 0; k < ts->n_frames && off < sizeof v->first - 64; k++)
        off += (size_t)snprintf(v->first + off, sizeof v->first - off, "%s%s:%d", k ? ", " : "",
                                uw_frame_name(&s->frames[ts->first_frame + k]),
                                s->frames[ts->first_frame + k].line);
    snprintf(v->first + off, sizeof v->first - off, "]");
}

int mm_oracle_check(const uw_sample *s, const mm_truth *hist, size_t n, mm_verdict *v)
{
    size_t t, h, k;
    int bad = 0;

    v->samples++;
    v->calls += s->calls;
    v->bytes += s->bytes;
    if (s->calls > v->max_calls)
        v->max_calls = s->calls;
    if (s->calls > MM_READ_BOUND) {
        v->reads_over++;
        bad++;
        if (v->first[0] == '\0')
            snprintf(v->first, sizeof v->first,
                     "reads over the bound: %" PRIu64 " reads (%" PRIu64 " bytes) > %d, %zu threads, %zu Tasks",
                     s->calls, s->bytes, MM_READ_BOUND, s->n_threads, s->n_tasks);
    }
    for (t = 0; t < s->n_tasks; t++) {
        const uw_task_sample *ts = &s->tasks[t];
        int matched = 0, leak = 0, existed = 0;

        v->tasks++;
        if (ts->skipped != 0) {
            v->skipped++;
            v->skips[uw_reason_slot(ts->skipped)]++;
            if (ts->skipped == UW_SKIP_NOT_ON_STACK) {
                int ok = 0;
                for (h = 0; h < n && !ok; h++) {
                    int i = mm_task_slot(&hist[h], ts->addr);
                    ok = i >= 0 && (hist[h].running[i] || hist[h].executing[i]);
                }
                if (!ok) {
                    v->bad_skips++;
                    bad++;
                    mm_first(v, "skip reason inconsistent with history", ts, s);
                }
            }
            continue;
        }
        v->emitted++;
        if (ts->n_frames > (size_t)UW_LIMIT_AWAIT_CHAIN + UW_LIMIT_FRAMES) {
            v->depth++;
            bad++;
            mm_first(v, "stack deeper than its limit", ts, s);
        }
        /* (c) equal to its true stack at some instant */
        for (h = 0; h < n && !matched; h++) {
            int i = mm_task_slot(&hist[h], ts->addr);
            if (i < 0)
                continue;
            existed = 1;
            if ((size_t)hist[h].n[i] != ts->n_frames)
                continue;
            for (k = 0; k < ts->n_frames; k++)
                if (!mm_frame_eq(&s->frames[ts->first_frame + k], &hist[h].f[i][k]))
                    break;
            matched = k == ts->n_frames;
        }
        if (matched)
            continue;
        /* (b) is any frame another Task's or the loop's (a leak)? */
        for (k = 0; k < ts->n_frames && existed; k++) {
            const uw_frame *e = &s->frames[ts->first_frame + k];
            int mine = 0, other = 0;
            for (h = 0; h < n; h++) {
                int i = mm_task_slot(&hist[h], ts->addr), j, q;
                for (j = 0; j < MM_MAX_TASKS; j++) {
                    for (q = 0; q < hist[h].n[j]; q++) {
                        if (hist[h].f[j][q].addr != e->addr)
                            continue;
                        if (j == i)
                            mine = 1;
                        else
                            other = 1;
                    }
                }
                for (q = 0; q < hist[h].n_loop; q++)
                    other |= hist[h].loop[q].addr == e->addr;
            }
            leak |= other && !mine;
        }
        if (leak) {
            v->leaks++;
            mm_first(v, "leak (a frame of another Task or of the loop)", ts, s);
        } else {
            v->bogus++;
            mm_first(v, existed ? "bogus stack (never the Task's true stack)"
                                : "bogus Task (not a Task during the sample)",
                     ts, s);
        }
        bad++;
    }
    /* the pure Python stack of the loop thread */
    for (t = 0; t < s->n_threads && s->n_tasks > 0; t++) {
        const uw_thread_sample *th = &s->threads[t];
        size_t np = th->n_frames - (size_t)th->pure_start;
        int matched = 0;
        if (th->running_loop == 0)
            continue;
        for (h = 0; h < n && !matched; h++) {
            if ((size_t)hist[h].n_loop != np)
                continue;
            for (k = 0; k < np; k++)
                if (!mm_frame_eq(&s->frames[th->first_frame + (size_t)th->pure_start + k],
                                 &hist[h].loop[k]))
                    break;
            matched = k == np;
        }
        if (!matched && th->truncated == 0) {
            v->bogus_pure++;
            bad++;
            if (v->first[0] == '\0')
                snprintf(v->first, sizeof v->first,
                         "bogus pure Python stack (%zu frames, innermost %s)", np,
                         np ? uw_frame_name(&s->frames[th->first_frame + (size_t)th->pure_start])
                            : "-");
        }
    }
    return bad;
}

uint64_t mm_verdict_violations(const mm_verdict *v)
{
    return v->leaks + v->bogus + v->bogus_pure + v->depth + v->reads_over + v->bad_skips;
}

void mm_verdict_add(mm_verdict *into, const mm_verdict *v)
{
    size_t i;
    into->samples += v->samples;
    into->tasks += v->tasks;
    into->emitted += v->emitted;
    into->skipped += v->skipped;
    for (i = 0; i < UW_REASON_SLOTS; i++)
        into->skips[i] += v->skips[i];
    into->leaks += v->leaks;
    into->bogus += v->bogus;
    into->bogus_pure += v->bogus_pure;
    into->depth += v->depth;
    into->reads_over += v->reads_over;
    into->bad_skips += v->bad_skips;
    into->calls += v->calls;
    into->bytes += v->bytes;
    into->reordered += v->reordered;
    if (v->max_calls > into->max_calls)
        into->max_calls = v->max_calls;
    if (into->first[0] == '\0')
        memcpy(into->first, v->first, sizeof into->first);
}
