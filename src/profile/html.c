/*
 * html.c — a profile as one self-contained HTML file (profile_io.h).
 *
 * The page holds everything: the style sheet and script of
 * src/profile/flame/ (embedded at build time) and the profile as JSON in a
 * <script type="application/json"> element.  Nothing is fetched: a browser
 * opened offline shows the same page.  The script draws the flame graph;
 * this file only writes the page and the data:
 *
 *   {"title", "total", "samples", "failed", "rate", "duration",
 *    "frames": [[display name, file, line, kind]],   kind 0 Python, 1 Task, 2 thread
 *    "stacks": [[count, frame, frame, ...]],          root first
 *    "skips": {"stacks": {reason: n}, "tasks": {...}, "threads": {...}}}
 *
 * Every string goes through uw_json_str with '<', '>' and '&' escaped, so
 * no name from a target can end the script element or inject markup.
 */
#include <inttypes.h>
#include <stdlib.h>

#include "flame_assets.h"
#include "json_str.h"
#include "tornstack/error.h"
#include "tornstack/profile_io.h"

static void uw_html_text(FILE *out, const char *s)
{
    for (; *s != '\0'; s++) {
        if (*s == '<')
            fputs("&lt;", out);
        else if (*s == '>')
            fputs("&gt;", out);
        else if (*s == '&')
            fputs("&amp;", out);
        else if (*s == '"')
            fputs("&quot;", out);
        else
            fputc(*s, out);
    }
}

static void uw_html_skips(FILE *out, const char *key, const uint64_t *arr, int last)
{
    int r, first = 1;

    fprintf(out, "\"%s\":{", key);
    for (r = 1; r < UW_REASON_SLOTS; r++) {
        if (arr[r] == 0)
            continue;
        fprintf(out, "%s\"%s\":%" PRIu64, first ? "" : ",", uw_errname(-r), arr[r]);
        first = 0;
    }
    fputs(last ? "}" : "},", out);
}

static void uw_html_data(FILE *out, const uw_profile *p, char *label)
{
    uint32_t i, j;

    fputs("{\"title\":", out);
    uw_json_str(out, p->title[0] ? p->title : "tornstack profile", 1);
    fprintf(out,
            ",\"total\":%" PRIu64 ",\"samples\":%" PRIu64 ",\"failed\":%" PRIu64
            ",\"rate\":%.6g,\"duration\":%.6g,\n\"frames\":[",
            p->total, p->samples, p->failed, p->rate_hz, p->duration_s);
    for (i = 0; i < p->n_frames; i++) {
        const uw_pframe *f = &p->frames[i];
        fputs(i ? ",\n[" : "\n[", out);
        uw_profile_frame_display(p, i, label, UW_LABEL_MAX);
        uw_json_str(out, label, 1);
        fputc(',', out);
        uw_json_str(out, f->kind == UW_PFRAME_PYTHON ? uw_profile_str(p, f->file) : "", 1);
        fprintf(out, ",%" PRId64 ",%d]", f->kind == UW_PFRAME_PYTHON ? f->line : -1, (int)f->kind);
    }
    fputs("],\n\"stacks\":[", out);
    for (i = 0; i < p->n_stacks; i++) {
        const uw_pstack *st = &p->stacks[i];
        fprintf(out, i ? ",\n[%" PRIu64 : "\n[%" PRIu64, st->count);
        for (j = 0; j < st->n; j++)
            fprintf(out, ",%" PRIu32, p->items[st->first + j]);
        fputc(']', out);
    }
    fputs("],\n\"skips\":{", out);
    uw_html_skips(out, "stacks", p->stack_skips, 0);
    uw_html_skips(out, "tasks", p->task_skips, 0);
    uw_html_skips(out, "threads", p->thread_skips, 1);
    fputs("}}", out);
}

int uw_write_html(FILE *out, const uw_profile *p)
{
    char *label = malloc(UW_LABEL_MAX);

    if (label == NULL)
        return UW_ERR_NOMEM;
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
          "<meta name=\"generator\" content=\"tornstack " TORNSTACK_VERSION "\">\n<title>",
          out);
    uw_html_text(out, p->title[0] ? p->title : "tornstack profile");
    fputs("</title>\n<style>\n", out);
    fwrite(uw_flame_css, 1, uw_flame_css_len, out);
    fputs(
        "</style>\n</head>\n<body>\n<header>\n<h1 id=\"title\"></h1>\n<div id=\"summary\"></div>\n"
        "<div id=\"controls\">\n"
        "<input id=\"search\" type=\"search\" placeholder=\"Search frames, Tasks, files "
        "(regular expression)\" aria-label=\"Search\">\n"
        "<button id=\"reset\" type=\"button\">Reset zoom</button>\n"
        "<label><input id=\"invert\" type=\"checkbox\"> root at the top</label>\n"
        "<span class=\"legend\"><span><i style=\"background:hsl(25,80%,62%)\"></i>Python frame"
        "</span><span><i style=\"background:var(--task)\"></i>Task</span>"
        "<span><i style=\"background:var(--thread)\"></i>thread</span>"
        "<span><i style=\"background:var(--match)\"></i>search match</span></span>\n"
        "<span id=\"match\"></span>\n</div>\n</header>\n"
        "<div id=\"flame\" aria-label=\"flame graph\"></div>\n"
        "<div id=\"details\">Hover over a frame for its counts; click it to zoom in, click it "
        "again (or Esc) to zoom out.</div>\n<div id=\"notice\"></div>\n"
        "<h2>Frames by total</h2>\n<table id=\"frames\"><thead><tr><th>frame</th><th>file:line"
        "</th><th>total</th><th>%</th><th>self</th><th>%</th></tr></thead><tbody></tbody>"
        "</table>\n<div id=\"frames-note\"></div>\n<div id=\"skips\"></div>\n"
        "<script type=\"application/json\" id=\"profile-data\">",
        out);
    uw_html_data(out, p, label);
    fputs("</script>\n<script>\n", out);
    fwrite(uw_flame_js, 1, uw_flame_js_len, out);
    fputs("</script>\n</body>\n</html>\n", out);
    free(label);
    return ferror(out) ? UW_ERR_IO : 0;
}
