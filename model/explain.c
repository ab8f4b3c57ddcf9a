/*
 * explain.c — text and SVG renderings of a sample's history (explain.h).
 *
 * The truth part prints, for each loop, its stack at the window's start
 * and after each change, and for each Task that changed during the window
 * every state it had (or, in a program of at most MM_EXPLAIN_ALL Tasks,
 * every live Task's state at the start).
 */
#include "explain.h"

#include <inttypes.h>
#include <stdlib.h>

#include "tornstack/error.h"

#define MM_EXPLAIN_ALL 40

static const char *mm_read_kind(int k)
{
    return k == 2 ? "TORN read" : k == 3 ? "failed read" : "read";
}

static const char *mm_waiter_kind(int k)
{
    return k == MM_W_FUTURE   ? "future"
           : k == MM_W_TASK   ? "task"
           : k == MM_W_GATHER ? "gather"
                              : "none";
}

static void mm_task_line(FILE *out, const mm_oracle_ctx *c, int32_t id, uint64_t t)
{
    const mm_ttask *k = mm_task_at(c->w, id, t);
    mm_tframe f[MM_MAX_STACK];
    int n = mm_truth_frames(c->w, id, t, f, MM_MAX_STACK), i;

    fprintf(out, "  t=%-8" PRIu64 " task#%d 0x%" PRIx64 " '%s' %s%s%s loop %d:", t, id, k->addr,
            k->name, k->alive ? "alive" : "gone", k->running ? " running" : "",
            k->executing && !k->running ? " marked-executing" : "", k->loop);
    for (i = 0; i < n; i++)
        fprintf(out, " %" PRIx64 ":%d", f[i].addr, f[i].line);
    fprintf(out, " | waiter %s", mm_waiter_kind(k->waiter_kind));
    if (k->waiter.id >= 0)
        fprintf(out, " #%d", k->waiter.id);
    if (k->awaiter.id >= 0)
        fprintf(out, " | awaited by #%d", k->awaiter.id);
    if (k->amem.id >= 0)
        fprintf(out, " | awaited_by names #%d", k->amem.id);
    if (k->strong.id >= 0)
        fprintf(out, " | strong #%d", k->strong.id);
    if (k->creator.id >= 0)
        fprintf(out, " | created by #%d", k->creator.id);
    fputc('\n', out);
}

static void mm_loop_line(FILE *out, const mm_oracle_ctx *c, int loop, uint64_t t)
{
    const mm_tloop *L = mm_loop_at(c->w, loop, t);
    int i;

    fprintf(out, "  t=%-8" PRIu64 " loop %d:", t, loop);
    for (i = L->n; i-- > 0;) {
        if (L->f[i].owner >= 0)
            fprintf(out, " %" PRIx64 ":%d(#%d)", L->f[i].addr, L->f[i].line, L->f[i].owner);
        else
            fprintf(out, " %" PRIx64 ":%d", L->f[i].addr, L->f[i].line);
    }
    fputc('\n', out);
}

void mm_explain_text(FILE *out, const mm_trace *tr, const mm_oracle_ctx *c, const uw_sample *s,
                     const char *verdict)
{
    const mm_world *w = c->w;
    uint64_t t0 = mm_world_t0(w);
    size_t i, j, n, alive = 0;
    int l;

    fprintf(out, "== timeline (t = stores visible) ==\n");
    for (i = 0; tr != NULL && i < tr->n; i++) {
        const mm_trace_ev *e = &tr->ev[i];
        if (e->kind == 0)
            fprintf(out,
                    "  t=%-8" PRIu64 " store %-6s th%d task#%-4d [%" PRIx64 "] = %" PRIx64
                    " (%u bytes)\n",
                    e->time, mm_event_name(e->ev), e->th, e->task, e->addr, e->value, e->len);
        else
            fprintf(out, "  t=%-8" PRIu64 " %-11s %" PRIx64 " +%u%s\n", e->time,
                    mm_read_kind(e->kind), e->addr, e->len,
                    e->time_end != e->time ? " (stores landed during the copy)" : "");
    }
    fprintf(out, "== truth (window t=%" PRIu64 "..%" PRIu64 "%s) ==\n", t0, mm_world_t1(w),
            c->still ? ", nothing moved" : "");
    for (l = 0; l < mm_world_loops(w); l++) {
        const uint64_t *tt = mm_loop_times(w, l, &n);
        uint64_t *copy = malloc((n + 1) * sizeof *copy);
        mm_loop_line(out, c, l, t0);
        for (j = 0; copy != NULL && j < n; j++)
            copy[j] = tt[j];
        for (j = 0; copy != NULL && j < n; j++)
            mm_loop_line(out, c, l, copy[j]);
        free(copy);
    }
    for (i = 0; i < mm_world_tasks(w); i++)
        alive += mm_world_task_cur(w, (int32_t)i)->alive ? 1u : 0u;
    for (i = 0; i < mm_world_tasks(w); i++) {
        const uint64_t *tt = mm_task_times(w, (int32_t)i, &n);
        uint64_t *copy;
        if (n == 0) {
            if (alive <= MM_EXPLAIN_ALL && mm_task_at(w, (int32_t)i, t0)->alive)
                mm_task_line(out, c, (int32_t)i, t0);
            continue;
        }
        copy = malloc(n * sizeof *copy);
        if (copy == NULL)
            continue;
        for (j = 0; j < n; j++)
            copy[j] = tt[j];
        mm_task_line(out, c, (int32_t)i, t0);
        for (j = 0; j < n; j++)
            mm_task_line(out, c, (int32_t)i, copy[j]);
        free(copy);
    }
    fprintf(out, "== sample ==\n");
    for (i = 0; i < s->n_threads; i++) {
        const uw_thread_sample *th = &s->threads[i];
        fprintf(out,
                "  thread %" PRIu64 " (split %" PRId64 ", pure from %" PRId64
                ", truncated %s, retries %u%s):",
                th->native_id, th->split, th->pure_start, uw_errname(th->truncated), th->retries,
                th->top_dropped ? ", top dropped" : "");
        for (j = 0; j < th->n_frames; j++) {
            const uw_frame *f = &s->frames[th->first_frame + j];
            fprintf(out, " %s@%" PRIx64 ":%d", uw_frame_name(f), f->addr, f->line);
        }
        fputc('\n', out);
    }
    for (i = 0; i < s->n_tasks; i++) {
        const uw_task_sample *ts = &s->tasks[i];
        fprintf(out, "  task %" PRIx64 " %s%s%s:", ts->addr, ts->name,
                ts->running ? " running" : "", ts->skipped ? " skipped" : "");
        if (ts->skipped)
            fprintf(out, " %s", uw_errname(ts->skipped));
        for (j = 0; j < ts->n_frames; j++) {
            const uw_frame *f = &s->frames[ts->first_frame + j];
            fprintf(out, " %s@%" PRIx64 ":%d", uw_frame_name(f), f->addr, f->line);
        }
        if (ts->parent >= 0)
            fprintf(out, " | parent %" PRIx64, s->tasks[ts->parent].addr);
        if (ts->awaited_by >= 0)
            fprintf(out, " | awaited by %" PRIx64, s->tasks[ts->awaited_by].addr);
        if (ts->linked_to >= 0)
            fprintf(out, " | strong %" PRIx64, s->tasks[ts->linked_to].addr);
        if (ts->created_by >= 0)
            fprintf(out, " | created by %" PRIx64, s->tasks[ts->created_by].addr);
        for (j = 0; j < ts->n_awaiting; j++)
            fprintf(out, "%s%" PRIx64, j == 0 ? " | awaiting " : ",",
                    s->tasks[s->awaiting[ts->first_awaiting + j]].addr);
        fputc('\n', out);
    }
    fprintf(out, "== verdict ==\n  %s\n", verdict && verdict[0] ? verdict : "no violation");
}

/* The Task running on loop `loop` at t (its frames linked), -1 if none. */
static int mm_running_at(const mm_oracle_ctx *c, int loop, uint64_t t)
{
    const mm_tloop *L = mm_loop_at(c->w, loop, t);
    int i;

    for (i = L->n; i-- > 0;)
        if (L->f[i].owner >= 0)
            return L->f[i].owner;
    return -1;
}

int mm_explain_svg(const char *path, const mm_trace *tr, const mm_oracle_ctx *c,
                   const char *verdict)
{
    static const char *pal[8] = {"#e6550d", "#3182bd", "#31a354", "#756bb1",
                                 "#de2d26", "#636363", "#8c6d31", "#17becf"};
    FILE *f = fopen(path, "w");
    uint64_t t0 = UINT64_MAX, t1 = 0;
    double w = 1200, x0 = 60, scale;
    int loops = mm_world_loops(c->w), l;
    int height = 200 + 22 * loops;
    size_t i;

    if (f == NULL)
        return UW_ERR_IO;
    for (i = 0; tr != NULL && i < tr->n; i++) {
        if (tr->ev[i].time < t0)
            t0 = tr->ev[i].time;
        if (tr->ev[i].time_end > t1)
            t1 = tr->ev[i].time_end;
        if (tr->ev[i].time > t1)
            t1 = tr->ev[i].time;
    }
    if (t0 == UINT64_MAX)
        t0 = t1 = mm_world_t0(c->w);
    scale = (w - x0 - 20) / (double)(t1 - t0 + 1);
    fprintf(f,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%d\" "
            "font-family=\"monospace\" font-size=\"11\">\n",
            w, height);
    fprintf(f, "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n");
    fprintf(f, "<text x=\"4\" y=\"52\">stores</text><text x=\"4\" y=\"122\">reads</text>\n");
    fprintf(f, "<line x1=\"%.0f\" y1=\"50\" x2=\"%.0f\" y2=\"50\" stroke=\"#ccc\"/>\n", x0, w - 20);
    for (i = 0; tr != NULL && i < tr->n; i++) {
        const mm_trace_ev *e = &tr->ev[i];
        double x = x0 + (double)(e->time - t0) * scale;
        if (e->kind == 0) {
            static const char *col[] = {"#bbb", "#2a2", "#22c", "#e80", "#e80", "#888",
                                        "#a2a", "#0aa", "#c60", "#c06", "#06c"};
            const char *cl = e->ev >= 0 && e->ev < EV_KINDS ? col[e->ev] : "#bbb";
            fprintf(f,
                    "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"60\" stroke=\"%s\" "
                    "stroke-width=\"2\">"
                    "<title>t=%" PRIu64 " store %s th%d task#%d [%" PRIx64 "]=%" PRIx64
                    "</title></line>\n",
                    x, e->ev ? 30 : 42, x, cl, e->time, mm_event_name(e->ev), e->th, e->task,
                    e->addr, e->value);
        } else {
            double x2 = x0 + (double)(e->time_end - t0) * scale;
            const char *cl = e->kind == 2 ? "#d00" : e->kind == 3 ? "#444" : "#69c";
            fprintf(f,
                    "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"10\" fill=\"%s\">"
                    "<title>t=%" PRIu64 "..%" PRIu64 " %s %" PRIx64 " +%u</title></rect>\n",
                    x, 105 + (int)(i % 4) * 12, x2 - x < 2 ? 2 : x2 - x, cl, e->time, e->time_end,
                    mm_read_kind(e->kind), e->addr, e->len);
        }
    }
    /* Which Task each loop was running, along the time axis. */
    for (l = 0; l < loops; l++) {
        size_t n, j;
        const uint64_t *tt = mm_loop_times(c->w, l, &n);
        uint64_t *at = malloc((n + 2) * sizeof *at);
        int y = 170 + 22 * l;
        if (at == NULL)
            continue;
        at[0] = t0;
        for (j = 0; j < n; j++)
            at[j + 1] = tt[j];
        at[n + 1] = t1;
        for (j = 0; j <= n; j++) {
            int who = mm_running_at(c, l, at[j]);
            double x = x0 + (double)(at[j] - t0) * scale,
                   x2 = x0 + (double)(at[j + 1] - t0) * scale;
            if (who < 0 || x2 <= x)
                continue;
            fprintf(f,
                    "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"16\" fill=\"%s\">"
                    "<title>t=%" PRIu64 " loop %d: task#%d running</title></rect>\n",
                    x, y, x2 - x, pal[who % 8], at[j], l, who);
            if (x2 - x > 20)
                fprintf(f, "<text x=\"%.1f\" y=\"%d\" fill=\"white\">%d</text>\n", x + 3, y + 12,
                        who);
        }
        fprintf(f, "<text x=\"4\" y=\"%d\">loop %d</text>\n", y + 12, l);
        free(at);
    }
    fprintf(f,
            "<text x=\"4\" y=\"%d\">t=%" PRIu64 "..%" PRIu64 "  green link, blue unlink, orange "
            "Task created/done, grey line, purple executing; reads: blue, red torn, black failed. "
            "%s</text>\n",
            height - 8, t0, t1, verdict && verdict[0] ? "Verdict in title." : "");
    if (verdict && verdict[0]) {
        const char *p;
        fputs("<title>", f);
        for (p = verdict; *p; p++) {
            if (*p == '<')
                fputs("&lt;", f);
            else if (*p == '&')
                fputs("&amp;", f);
            else
                fputc(*p, f);
        }
        fputs("</title>\n", f);
    }
    fputs("</svg>\n", f);
    return fclose(f) == 0 ? 0 : UW_ERR_IO;
}
