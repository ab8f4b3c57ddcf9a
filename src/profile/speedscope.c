/*
 * speedscope.c — a profile in speedscope's file format (profile_io.h).
 *
 * speedscope's schema (file-format-schema.json of its npm package): a file
 * has "$schema", "shared": {"frames": [...]} and "profiles".  Each profile
 * here is of type "sampled": "samples" lists stacks as arrays of indices
 * into shared.frames, root first, and "weights" gives each stack's count;
 * "unit" is "none" (counts of samples), from startValue 0 to endValue, the
 * profile's total.  One profile per thread, so speedscope's profile picker
 * switches threads; the thread and Task markers are frames like any other
 * (named "<thread ...>" and "<task ...>", with no file).
 */
#include <inttypes.h>
#include <stdlib.h>

#include "group.h"
#include "json_str.h"
#include "tornstack/error.h"
#include "tornstack/profile_io.h"

static void uw_ss_frames(FILE *out, const uw_profile *p, char *label)
{
    uint32_t i;

    fputs("\"shared\":{\"frames\":[", out);
    for (i = 0; i < p->n_frames; i++) {
        const uw_pframe *f = &p->frames[i];
        fputs(i ? ",\n{\"name\":" : "\n{\"name\":", out);
        uw_profile_frame_display(p, i, label, UW_LABEL_MAX);
        uw_json_str(out, label, 0);
        if (f->kind == UW_PFRAME_PYTHON) {
            fputs(",\"file\":", out);
            uw_json_str(out, uw_profile_str(p, f->file), 0);
            if (f->line >= 0)
                fprintf(out, ",\"line\":%" PRId64, f->line);
        }
        fputc('}', out);
    }
    fputs("]}", out);
}

static void uw_ss_profile(FILE *out, const uw_profile *p, const uw_thread_groups *g, uint32_t gi,
                          char *label)
{
    uint32_t k, j;

    if (g->thread_id[gi] != 0) {
        const char *name = uw_profile_str(p, g->thread_name[gi]);
        snprintf(label, UW_LABEL_MAX, "thread %" PRIu64 "%s%s", g->thread_id[gi],
                 name[0] ? " " : "", name);
    } else {
        snprintf(label, UW_LABEL_MAX, "all threads");
    }
    fputs("{\"type\":\"sampled\",\"name\":", out);
    uw_json_str(out, label, 0);
    fprintf(out, ",\"unit\":\"none\",\"startValue\":0,\"endValue\":%" PRIu64 ",\n\"samples\":[",
            g->total[gi]);
    for (k = g->start[gi]; k < g->start[gi + 1]; k++) {
        const uw_pstack *st = &p->stacks[g->order[k]];
        fputs(k > g->start[gi] ? ",\n[" : "\n[", out);
        for (j = 0; j < st->n; j++)
            fprintf(out, j ? ",%" PRIu32 : "%" PRIu32, p->items[st->first + j]);
        fputc(']', out);
    }
    fputs("],\n\"weights\":[", out);
    for (k = g->start[gi]; k < g->start[gi + 1]; k++)
        fprintf(out, k > g->start[gi] ? ",%" PRIu64 : "%" PRIu64, p->stacks[g->order[k]].count);
    fputs("]}", out);
}

int uw_write_speedscope(FILE *out, const uw_profile *p)
{
    uw_thread_groups g;
    char *label = malloc(UW_LABEL_MAX);
    uint32_t gi;
    int rc;

    if (label == NULL)
        return UW_ERR_NOMEM;
    rc = uw_thread_groups_build(p, &g);
    if (rc != 0) {
        free(label);
        return rc;
    }
    fputs("{\"$schema\":\"https://www.speedscope.app/file-format-schema.json\",\n"
          "\"exporter\":\"tornstack " TORNSTACK_VERSION "\",\"name\":",
          out);
    uw_json_str(out, p->title[0] ? p->title : "tornstack profile", 0);
    fputs(",\"activeProfileIndex\":0,\n", out);
    uw_ss_frames(out, p, label);
    fputs(",\n\"profiles\":[", out);
    for (gi = 0; gi < g.n; gi++) {
        if (gi > 0)
            fputs(",\n", out);
        uw_ss_profile(out, p, &g, gi, label);
    }
    fputs("]}\n", out);
    uw_thread_groups_free(&g);
    free(label);
    return ferror(out) ? UW_ERR_IO : 0;
}
