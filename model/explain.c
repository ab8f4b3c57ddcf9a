/*
 * explain.c — text and SVG renderings of a sample's history (explain.h).
 */
#include "explain.h"

#include <inttypes.h>

#include "tornstack/error.h"

static const char *mm_read_kind(int k)
{
    return k == 2 ? "TORN read" : k == 3 ? "failed read" : "read";
}

static void mm_truth_line(FILE *out, const mm_truth *h)
{
    int i, k;
    fprintf(out, "  t=%" PRIu64 " loop:", h->time);
    for (k = 0; k < h->n_loop; k++)
        fprintf(out, " %" PRIx64 ":%d", h->loop[k].addr, h->loop[k].line);
    for (i = 0; i < MM_MAX_TASKS; i++) {
        if (h->task_addr[i] == 0)
            continue;
        fprintf(out, " | task%d%s%s:", i, h->running[i] ? " running" : "",
                h->executing[i] && !h->running[i] ? " marked-executing" : "");
        for (k = 0; k < h->n[i]; k++)
            fprintf(out, " %" PRIx64 ":%d", h->f[i][k].addr, h->f[i][k].line);
    }
    fputc('\n', out);
}

void mm_explain_text(FILE *out, const mm_trace *tr, const mm_truth *hist, size_t n_hist,
                     const uw_sample *s, const char *verdict)
{
    size_t i, j;

    fprintf(out, "== timeline (t = stores visible) ==\n");
    for (i = 0; tr != NULL && i < tr->n; i++) {
        const mm_trace_ev *e = &tr->ev[i];
        if (e->kind == 0)
            fprintf(out, "  t=%-8" PRIu64 " store %-6s task%-2d [%" PRIx64 "] = %" PRIx64 " (%u bytes)\n",
                    e->time, mm_event_name(e->ev), e->task, e->addr, e->value, e->len);
        else
            fprintf(out, "  t=%-8" PRIu64 " %-11s %" PRIx64 " +%u%s\n", e->time,
                    mm_read_kind(e->kind), e->addr, e->len,
                    e->time_end != e->time ? " (stores landed during the copy)" : "");
    }
    fprintf(out, "== truth (after each change) ==\n");
    for (i = 0; i < n_hist; i++)
        mm_truth_line(out, &hist[i]);
    fprintf(out, "== sample ==\n");
    for (i = 0; i < s->n_threads; i++) {
        const uw_thread_sample *th = &s->threads[i];
        fprintf(out, "  thread %" PRIu64 " (split %" PRId64 ", truncated %s, retries %u):", th->native_id,
                th->split, uw_errname(th->truncated), th->retries);
        for (j = 0; j < th->n_frames; j++) {
            const uw_frame *f = &s->frames[th->first_frame + j];
            fprintf(out, " %s@%" PRIx64 ":%d", uw_frame_name(f), f->addr, f->line);
        }
        fputc('\n', out);
    }
    for (i = 0; i < s->n_tasks; i++) {
        const uw_task_sample *ts = &s->tasks[i];
        fprintf(out, "  task %" PRIx64 " %s%s%s:", ts->addr, ts->name, ts->running ? " running" : "",
                ts->skipped ? " skipped" : "");
        if (ts->skipped)
            fprintf(out, " %s", uw_errname(ts->skipped));
        for (j = 0; j < ts->n_frames; j++) {
            const uw_frame *f = &s->frames[ts->first_frame + j];
            fprintf(out, " %s@%" PRIx64 ":%d", uw_frame_name(f), f->addr, f->line);
        }
        fputc('\n', out);
    }
    fprintf(out, "== verdict ==\n  %s\n", verdict && verdict[0] ? verdict : "no violation");
}

int mm_explain_svg(const char *path, const mm_trace *tr, const mm_truth *hist, size_t n_hist,
                   const char *verdict)
{
    FILE *f = fopen(path, "w");
    uint64_t t0 = UINT64_MAX, t1 = 0;
    double w = 1200, x0 = 60, scale;
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
        t0 = t1 = 0;
    scale = (w - x0 - 20) / (double)(t1 - t0 + 1);
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"230\" "
               "font-family=\"monospace\" font-size=\"11\">\n", w);
    fprintf(f, "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n");
    fprintf(f, "<text x=\"4\" y=\"52\">stores</text><text x=\"4\" y=\"122\">reads</text>\n");
    fprintf(f, "<line x1=\"%.0f\" y1=\"50\" x2=\"%.0f\" y2=\"50\" stroke=\"#ccc\"/>\n", x0, w - 20);
    for (i = 0; tr != NULL && i < tr->n; i++) {
        const mm_trace_ev *e = &tr->ev[i];
        double x = x0 + (double)(e->time - t0) * scale;
        if (e->kind == 0) {
            static const char *col[] = {"#bbb", "#2a2", "#22c", "#e80", "#e80", "#888", "#a2a"};
            const char *c = e->ev >= 0 && e->ev < 7 ? col[e->ev] : "#bbb";
            fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"60\" stroke=\"%s\" stroke-width=\"2\">"
                       "<title>t=%" PRIu64 " store %s task%d [%" PRIx64 "]=%" PRIx64 "</title></line>\n",
                    x, e->ev ? 30 : 42, x, c, e->time, mm_event_name(e->ev), e->task, e->addr, e->value);
        } else {
            double x2 = x0 + (double)(e->time_end - t0) * scale;
            const char *c = e->kind == 2 ? "#d00" : e->kind == 3 ? "#444" : "#69c";
            fprintf(f, "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"10\" fill=\"%s\">"
                       "<title>t=%" PRIu64 "..%" PRIu64 " %s %" PRIx64 " +%u</title></rect>\n",
                    x, 105 + (int)(i % 4) * 12, x2 - x < 2 ? 2 : x2 - x, c, e->time, e->time_end,
                    mm_read_kind(e->kind), e->addr, e->len);
        }
    }
    /* Which Task was running, along the time axis: one colour per Task,
     * blank while the loop runs no Task. */
    for (i = 0; i < n_hist; i++) {
        static const char *pal[MM_MAX_TASKS] = {"#e6550d", "#3182bd", "#31a354",
                                                "#756bb1", "#de2d26", "#636363"};
        double x = x0 + (double)(hist[i].time - t0) * scale;
        double x2 = x0 + (double)((i + 1 < n_hist ? hist[i + 1].time : t1) - t0) * scale;
        int k, who = -1;
        for (k = 0; k < MM_MAX_TASKS; k++)
            if (hist[i].running[k])
                who = k;
        if (who < 0 || x2 <= x)
            continue;
        fprintf(f, "<rect x=\"%.1f\" y=\"170\" width=\"%.1f\" height=\"16\" fill=\"%s\">"
                   "<title>t=%" PRIu64 " task%d running</title></rect>\n",
                x, x2 - x, pal[who], hist[i].time, who);
        if (x2 - x > 14)
            fprintf(f, "<text x=\"%.1f\" y=\"182\" fill=\"white\">%d</text>\n", x + 3, who);
    }
    fprintf(f, "<text x=\"4\" y=\"182\">running</text>\n");
    fprintf(f, "<text x=\"4\" y=\"222\">t=%" PRIu64 "..%" PRIu64 "  green link, blue unlink, orange "
               "Task created/done, grey line, purple executing; reads: blue, red torn, black failed. "
               "%s</text>\n",
            t0, t1, verdict && verdict[0] ? "Verdict in title." : "");
    if (verdict && verdict[0]) {
        fputs("<title>", f);
        for (const char *p = verdict; *p; p++) {
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
