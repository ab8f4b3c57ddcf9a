/*
 * output.c — text and JSON writers for a sample.
 *
 * Names and file names come from target memory; they were converted to
 * valid UTF-8 when read (pystr.c), and JSON escaping here handles quotes,
 * backslashes and control characters.  A truncated walk or name is always
 * visible: "truncated": "<reason>" per thread, "name_truncated": true per
 * frame, and "[truncated: reason]" / a trailing "..." in text.
 */
#include "tornstack/output.h"

#include <inttypes.h>

#include "tornstack/error.h"

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
        for (j = 0; j < th->n_frames; j++) {
            const uw_frame *f = &s->frames[th->first_frame + j];
            fprintf(out, "    %s%s (%s:", uw_frame_name(f),
                    (f->flags & UW_FRAME_NAME_TRUNCATED) ? "..." : "", uw_frame_file(f));
            if (f->line >= 0)
                fprintf(out, "%d)\n", f->line);
            else
                fputs("?)\n", out);
        }
    }
    if (s->truncated != 0)
        fprintf(out, "\n[sample truncated: %s]\n", uw_errname(s->truncated));
    return ferror(out) ? UW_ERR_IO : 0;
}

int uw_output_json(FILE *out, const uw_target *t, const uw_sample *s)
{
    char vs[16];
    size_t i, j;

    uw_version_string(t->py_version, vs, sizeof vs);
    fprintf(out, "{\"pid\": %d, \"python\": \"%s\", \"threads\": [", t->pid, vs);
    for (i = 0; i < s->n_threads; i++) {
        const uw_thread_sample *th = &s->threads[i];
        fprintf(out,
                "%s\n  {\"native_id\": %" PRIu64 ", \"thread_id\": %" PRIu64
                ", \"interpreter\": %" PRId64 ", \"frames\": [",
                i ? "," : "", th->native_id, th->thread_id, th->interp_id);
        for (j = 0; j < th->n_frames; j++) {
            const uw_frame *f = &s->frames[th->first_frame + j];
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
        fputs("],\n   \"truncated\": ", out);
        if (th->truncated != 0)
            uw_output_json_string(out, uw_errname(th->truncated));
        else
            fputs("null", out);
        fputc('}', out);
    }
    fputs("],\n \"truncated\": ", out);
    if (s->truncated != 0)
        uw_output_json_string(out, uw_errname(s->truncated));
    else
        fputs("null", out);
    fputs("}\n", out);
    return ferror(out) ? UW_ERR_IO : 0;
}
