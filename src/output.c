/*
 * output.c — text and JSON writers for a sample.  The profile formats
 * (folded, speedscope, pprof, html) are in src/profile/.
 *
 * Names and file names come from target memory; they were converted to
 * valid UTF-8 when read (pystr.c), and JSON escaping here handles quotes,
 * backslashes and control characters; the text writer shows control
 * characters escaped too (uw_text_string), so a name cannot forge a line
 * or drive the terminal.  A truncated walk or name is always
 * visible: "truncated": "<reason>" per thread, "name_truncated": true per
 * frame, and "[truncated: reason]" / a trailing "..." in text.
 */
#include "tornstack/output.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "tornstack/error.h"
#include "tornstack/limits.h"

void uw_output_json_string(FILE *out, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;

    fputc('"', out);
    for (; *p != '\0'; p++) {
        switch (*p) {
        case '"':
            fputs("\\\"", out);
            break;
        case '\\':
            fputs("\\\\", out);
            break;
        case '\n':
            fputs("\\n", out);
            break;
        case '\t':
            fputs("\\t", out);
            break;
        default:
            if (*p < 0x20)
                fprintf(out, "\\u%04x", *p);
            else
                fputc(*p, out);
        }
    }
    fputc('"', out);
}

/* A string from target memory on a text line: control characters (a
 * newline that would forge a line, an escape sequence for the terminal)
 * and DEL as \n, \r, \t or \xHH, a backslash doubled; the rest as is
 * (valid UTF-8, pystr.c). */
static void uw_text_string(FILE *out, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;

    for (; *p != '\0'; p++) {
        if (*p == '\\')
            fputs("\\\\", out);
        else if (*p == '\n')
            fputs("\\n", out);
        else if (*p == '\r')
            fputs("\\r", out);
        else if (*p == '\t')
            fputs("\\t", out);
        else if (*p < 0x20 || *p == 0x7f)
            fprintf(out, "\\x%02x", *p);
        else
            fputc(*p, out);
    }
}

static void uw_text_frame(FILE *out, const uw_frame *f, int indent)
{
    fprintf(out, "%*s", indent, "");
    uw_text_string(out, uw_frame_name(f));
    fprintf(out, "%s (", (f->flags & UW_FRAME_NAME_TRUNCATED) ? "..." : "");
    uw_text_string(out, uw_frame_file(f));
    fputc(':', out);
    if (f->line >= 0)
        fprintf(out, "%d)\n", f->line);
    else
        fputs("?)\n", out);
}

/* The Task tree as `tree` draws one: each Task under its parent, a Task
 * with siblings still to come marked "├── ", the last "└── ", and a "│"
 * kept in the column of every Task whose siblings are still to come,
 * through its frames and its children's lines.  Children are found
 * through lists made once, so the tree is written in time linear in the
 * Tasks (a scan of every Task for each Task's children took some 10^8
 * steps at UW_LIMIT_TASKS).  Bounds: a Task is written once (`seen`, so a
 * cycle of links ends), and no deeper than UW_LIMIT_LINK_CHAIN below a
 * root: a Task past it is written again as a root of its own, as is one
 * reachable only through a cycle. */
typedef struct uw_text_tree {
    size_t *first_child, *next_sibling; /* by Task index; SIZE_MAX: none */
    size_t *first_of_thread, *next_in_thread;
    unsigned char *seen;
    unsigned char more[UW_LIMIT_LINK_CHAIN + 1]; /* column d: siblings to come */
} uw_text_tree;

#define UW_TEXT_NONE SIZE_MAX

/* Does Task i's child list hold a Task still to write at `depth`? */
static int uw_text_child_next(const uw_text_tree *tr, size_t j, int depth)
{
    if (depth > UW_LIMIT_LINK_CHAIN)
        return 0;
    for (; j != UW_TEXT_NONE; j = tr->next_sibling[j])
        if (!tr->seen[j])
            return 1;
    return 0;
}

/* The guides of columns 0 .. depth - 1 (2 spaces, then 4 a column). */
static void uw_text_guides(FILE *out, const uw_text_tree *tr, int depth)
{
    int k;

    fputs("  ", out);
    for (k = 0; k < depth; k++)
        fputs(tr->more[k] ? "│   " : "    ", out);
}

/* One Task line and its frames, then its children, depth first; `last`:
 * no sibling follows it.  out NULL: only mark what would be written. */
static void uw_text_task(FILE *out, const uw_sample *s, uw_text_tree *tr, size_t i, int depth,
                         int last)
{
    const uw_task_sample *ts = &s->tasks[i];
    size_t j;
    int kids;

    if (tr->seen[i] || depth > UW_LIMIT_LINK_CHAIN)
        return;
    tr->seen[i] = 1;
    tr->more[depth] = !last;
    kids = uw_text_child_next(tr, tr->first_child[i], depth + 1);
    if (out != NULL) {
        uw_text_guides(out, tr, depth);
        fputs(last ? "└── " : "├── ", out);
        uw_text_string(out, ts->label_unknown ? "?" : ts->name);
        fprintf(out, " 0x%" PRIx64 " (", ts->addr);
        uw_text_string(
            out, ts->coro_code != NULL && ts->coro_code->qualname ? ts->coro_code->qualname : "?");
        fputc(')', out);
        if (ts->running)
            fputs(" [running]", out);
        if (ts->parent >= 0 && ts->parent == ts->linked_to && ts->awaited_by < 0)
            fputs(" [linked]", out);
        if (ts->parent >= 0 && ts->parent == ts->created_by && ts->awaited_by < 0 &&
            ts->linked_to < 0)
            fputs(" [created]", out);
        if (ts->skipped != 0)
            fprintf(out, " [skipped: %s]", uw_errname(ts->skipped));
        if (ts->truncated != 0)
            fprintf(out, " [truncated: %s]", uw_errname(ts->truncated));
        fputc('\n', out);
        for (j = 0; j < ts->n_frames; j++) {
            uw_text_guides(out, tr, depth + 1);
            fputs(kids ? "│   " : "    ", out);
            uw_text_frame(out, &s->frames[ts->first_frame + j], 0);
        }
    }
    for (j = tr->first_child[i]; j != UW_TEXT_NONE; j = tr->next_sibling[j]) {
        if (tr->seen[j])
            continue;
        uw_text_task(out, s, tr, j, depth + 1, !uw_text_child_next(tr, tr->next_sibling[j], 1));
    }
}

/* The roots of thread th's tree in the order they are written: Tasks with
 * no parent, then those no root reached (through a cycle, or past the
 * depth bound).  Marks what they reach in tr->seen; tops[0 .. return). */
static size_t uw_text_tops(const uw_sample *s, uw_text_tree *tr, size_t th, size_t *tops)
{
    size_t i, n = 0;

    for (i = tr->first_of_thread[th]; i != UW_TEXT_NONE; i = tr->next_in_thread[i])
        if (s->tasks[i].parent < 0 && !tr->seen[i]) {
            tops[n++] = i;
            uw_text_task(NULL, s, tr, i, 0, 1);
        }
    for (i = tr->first_of_thread[th]; i != UW_TEXT_NONE; i = tr->next_in_thread[i])
        if (!tr->seen[i]) {
            tops[n++] = i;
            uw_text_task(NULL, s, tr, i, 0, 1);
        }
    return n;
}

/* The child and thread lists of tr, built in one pass over the Tasks
 * (backwards, so each list is in Task order). */
static void uw_text_lists(const uw_sample *s, uw_text_tree *tr)
{
    size_t i, j;

    for (i = 0; i < s->n_tasks; i++)
        tr->first_child[i] = UW_TEXT_NONE;
    for (i = 0; i < s->n_threads; i++)
        tr->first_of_thread[i] = UW_TEXT_NONE;
    for (j = s->n_tasks; j-- > 0;) {
        const int64_t p = s->tasks[j].parent;
        tr->next_sibling[j] = UW_TEXT_NONE;
        tr->next_in_thread[j] = UW_TEXT_NONE;
        if (p >= 0 && (uint64_t)p < s->n_tasks && (size_t)p != j) {
            tr->next_sibling[j] = tr->first_child[p];
            tr->first_child[p] = j;
        }
        if (s->tasks[j].thread < s->n_threads) {
            tr->next_in_thread[j] = tr->first_of_thread[s->tasks[j].thread];
            tr->first_of_thread[s->tasks[j].thread] = j;
        }
    }
}

/* The Task tree of each thread running a loop, roots first.  0, or
 * UW_ERR_NOMEM (nothing of the tree written). */
static int uw_output_text_tasks(FILE *out, const uw_sample *s)
{
    uw_text_tree tr;
    size_t *mem, *tops, th, i, r, n, k;
    unsigned char *was;
    const size_t nt = s->n_tasks;

    if (nt == 0) {
        if (s->tasks_error != 0)
            fprintf(out, "\n[tasks: %s]\n", uw_errname(s->tasks_error));
        return 0;
    }
    if (nt > (SIZE_MAX / sizeof *mem - s->n_threads) / 4)
        return UW_ERR_NOMEM;
    mem = malloc((4 * nt + s->n_threads) * sizeof *mem);
    tr.seen = calloc(2, nt);
    if (mem == NULL || tr.seen == NULL) {
        free(mem);
        free(tr.seen);
        return UW_ERR_NOMEM;
    }
    was = tr.seen + nt;
    tr.first_child = mem;
    tr.next_sibling = mem + nt;
    tr.next_in_thread = mem + 2 * nt;
    tops = mem + 3 * nt;
    tr.first_of_thread = mem + 4 * nt;
    uw_text_lists(s, &tr);
    for (th = 0; th < s->n_threads; th++) {
        for (n = 0, i = tr.first_of_thread[th]; i != UW_TEXT_NONE; i = tr.next_in_thread[i])
            n++;
        if (n == 0)
            continue;
        fprintf(out, "\nTasks of thread %" PRIu64 " (loop 0x%" PRIx64 "): %zu\n",
                s->threads[th].native_id, s->threads[th].running_loop, n);
        /* Which Tasks are roots, and so which root is the last, is known
         * only once each has marked its tree: a pass that marks, then the
         * same pass written from the marks of before (a Task written under
         * another thread's Task is not written again). */
        memcpy(was, tr.seen, nt);
        n = uw_text_tops(s, &tr, th, tops);
        memcpy(tr.seen, was, nt);
        for (k = 0; k < n; k++)
            uw_text_task(out, s, &tr, tops[k], 0, k + 1 == n);
    }
    for (r = 1, i = 0; r < UW_REASON_SLOTS; r++)
        i += s->skips[r];
    if (i > 0) {
        fputs("\nSkipped Tasks:", out);
        for (r = 1; r < UW_REASON_SLOTS; r++)
            if (s->skips[r] != 0)
                fprintf(out, " %s=%u", uw_errname(-(int)r), s->skips[r]);
        fputc('\n', out);
    }
    for (r = 1, i = 0; r < UW_REASON_SLOTS; r++)
        i += s->recovered[r];
    if (i > 0) {
        fputs("Recovered Tasks (read and checked again):", out);
        for (r = 1; r < UW_REASON_SLOTS; r++)
            if (s->recovered[r] != 0)
                fprintf(out, " %s=%u", uw_errname(-(int)r), s->recovered[r]);
        fputc('\n', out);
    }
    free(mem);
    free(tr.seen);
    return 0;
}

int uw_output_text(FILE *out, const uw_target *t, const uw_sample *s)
{
    char vs[16];
    size_t i, j;

    uw_version_string(t->py_version, vs, sizeof vs);
    fprintf(out, "Process %d, Python %s\n", t->pid, vs);
    for (i = 0; i < s->n_threads; i++) {
        const uw_thread_sample *th = &s->threads[i];
        fprintf(out, "\nThread %" PRIu64 " (interpreter %" PRId64 ")", th->native_id,
                th->interp_id);
        if (th->truncated != 0)
            fprintf(out, " [truncated: %s]", uw_errname(th->truncated));
        fputc('\n', out);
        for (j = 0; j < th->n_frames; j++)
            uw_text_frame(out, &s->frames[th->first_frame + j], 4);
    }
    if (s->truncated != 0)
        fprintf(out, "\n[sample truncated: %s]\n", uw_errname(s->truncated));
    if (uw_output_text_tasks(out, s) != 0)
        return UW_ERR_NOMEM;
    return ferror(out) ? UW_ERR_IO : 0;
}

static void uw_json_frames(FILE *out, const uw_sample *s, size_t first, size_t n)
{
    size_t j;

    fputc('[', out);
    for (j = 0; j < n; j++) {
        const uw_frame *f = &s->frames[first + j];
        fputs(j ? ",\n    {\"name\": " : "\n    {\"name\": ", out);
        uw_output_json_string(out, uw_frame_name(f));
        fputs(", \"file\": ", out);
        uw_output_json_string(out, uw_frame_file(f));
        if (f->line >= 0)
            fprintf(out, ", \"line\": %d", f->line);
        else
            fputs(", \"line\": null", out);
        if (f->flags & UW_FRAME_NAME_TRUNCATED)
            fputs(", \"name_truncated\": true", out);
        fputc('}', out);
    }
    fputc(']', out);
}

static void uw_json_task_ref(FILE *out, const uw_sample *s, int64_t i)
{
    if (i >= 0)
        fprintf(out, "\"0x%" PRIx64 "\"", s->tasks[i].addr);
    else
        fputs("null", out);
}

static void uw_json_reason(FILE *out, int code)
{
    if (code != 0)
        uw_output_json_string(out, uw_errname(code));
    else
        fputs("null", out);
}

static void uw_json_tasks(FILE *out, const uw_sample *s)
{
    size_t i, j, r;
    int first = 1;

    fputs(",\n \"tasks\": [", out);
    for (i = 0; i < s->n_tasks; i++) {
        const uw_task_sample *ts = &s->tasks[i];
        fprintf(out, "%s\n  {\"id\": \"0x%" PRIx64 "\", \"name\": ", i ? "," : "", ts->addr);
        if (ts->label_unknown)
            fputs("null", out);
        else
            uw_output_json_string(out, ts->name);
        fputs(", \"coro\": ", out);
        if (ts->coro_code != NULL && ts->coro_code->qualname != NULL)
            uw_output_json_string(out, ts->coro_code->qualname);
        else
            fputs("null", out);
        fprintf(out, ", \"running\": %s, \"thread\": %" PRIu64 ",\n   \"frames\": ",
                ts->running ? "true" : "false", s->threads[ts->thread].native_id);
        uw_json_frames(out, s, ts->first_frame, ts->n_frames);
        fputs(",\n   \"awaiting\": [", out);
        for (j = 0; j < ts->n_awaiting; j++) {
            fputs(j ? ", " : "", out);
            uw_json_task_ref(out, s, (int64_t)s->awaiting[ts->first_awaiting + j]);
        }
        fputs("], \"awaited_by\": ", out);
        uw_json_task_ref(out, s, ts->awaited_by);
        fputs(", \"linked_to\": ", out);
        uw_json_task_ref(out, s, ts->linked_to);
        fputs(", \"created_by\": ", out);
        uw_json_task_ref(out, s, ts->created_by);
        fputs(", \"skipped\": ", out);
        uw_json_reason(out, ts->skipped);
        fputs(", \"truncated\": ", out);
        uw_json_reason(out, ts->truncated);
        fputc('}', out);
    }
    fputs("],\n \"skips\": {", out);
    for (r = 1; r < UW_REASON_SLOTS; r++) {
        if (s->skips[r] == 0)
            continue;
        fprintf(out, "%s\"%s\": %u", first ? "" : ", ", uw_errname(-(int)r), s->skips[r]);
        first = 0;
    }
    fputs("},\n \"thread_skips\": {", out);
    first = 1;
    for (r = 1; r < UW_REASON_SLOTS; r++) {
        if (s->thread_skips[r] == 0)
            continue;
        fprintf(out, "%s\"%s\": %u", first ? "" : ", ", uw_errname(-(int)r), s->thread_skips[r]);
        first = 0;
    }
    fputs("},\n \"recovered\": {", out);
    first = 1;
    for (r = 1; r < UW_REASON_SLOTS; r++) {
        if (s->recovered[r] == 0)
            continue;
        fprintf(out, "%s\"%s\": %u", first ? "" : ", ", uw_errname(-(int)r), s->recovered[r]);
        first = 0;
    }
    fputs("},\n \"tasks_error\": ", out);
    uw_json_reason(out, s->tasks_error);
}

int uw_output_json(FILE *out, const uw_target *t, const uw_sample *s)
{
    char vs[16];
    size_t i;

    uw_version_string(t->py_version, vs, sizeof vs);
    fprintf(out, "{\"pid\": %d, \"python\": \"%s\", \"threads\": [", t->pid, vs);
    for (i = 0; i < s->n_threads; i++) {
        const uw_thread_sample *th = &s->threads[i];
        fprintf(out,
                "%s\n  {\"native_id\": %" PRIu64 ", \"thread_id\": %" PRIu64
                ", \"interpreter\": %" PRId64 ", \"frames\": ",
                i ? "," : "", th->native_id, th->thread_id, th->interp_id);
        uw_json_frames(out, s, th->first_frame, th->n_frames);
        fputs(",\n   \"loop\": ", out);
        if (th->running_loop != 0)
            fprintf(out, "\"0x%" PRIx64 "\"", th->running_loop);
        else
            fputs("null", out);
        fputs(", \"running_task\": ", out);
        if (th->running_task != 0)
            fprintf(out, "\"0x%" PRIx64 "\"", th->running_task);
        else
            fputs("null", out);
        fputs(", \"truncated\": ", out);
        if (th->truncated != 0)
            uw_output_json_string(out, uw_errname(th->truncated));
        else
            fputs("null", out);
        fputc('}', out);
    }
    fputs("],\n \"truncated\": ", out);
    uw_json_reason(out, s->truncated);
    uw_json_tasks(out, s);
    fputs("}\n", out);
    return ferror(out) ? UW_ERR_IO : 0;
}
