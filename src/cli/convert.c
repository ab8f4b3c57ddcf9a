/*
 * convert.c — `tornstack convert IN [-o OUT] [--format F]`: a folded file
 * (what `record` writes by default) into any profile format, so one
 * recording opens in every tool with the same totals.
 *
 * The format comes from --format, else from OUT's extension (.html, .json
 * for speedscope, .pb.gz or .pprof, .folded or .txt).  IN "-" is stdin.
 * --no-task-frames and --no-thread-frames drop those markers on the way.
 */
#include <stdio.h>
#include <string.h>

#include "cli_profile.h"
#include "tornstack/error.h"

int ts_cmd_convert(int argc, char **argv)
{
    const char *in_path = NULL, *out_path = NULL, *title = NULL;
    uw_folded_read_options ro;
    uw_folded_error err;
    uw_profile p;
    ts_out out;
    FILE *in;
    int i, fmt = -1, rc;

    uw_folded_read_options_default(&ro);
    for (i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0 || strcmp(a, "--format") == 0 ||
            strcmp(a, "-f") == 0 || strcmp(a, "--title") == 0) {
            if (v == NULL) {
                fprintf(stderr, "tornstack: option %s needs a value\n", a);
                return 2;
            }
            if (a[1] == 'o' || strcmp(a, "--output") == 0)
                out_path = v;
            else if (strcmp(a, "--title") == 0)
                title = v;
            else if (ts_format_arg("convert", v, &fmt) != 0)
                return 2;
            i++;
        } else if (strcmp(a, "--no-task-frames") == 0) {
            ro.task_frames = 0;
        } else if (strcmp(a, "--no-thread-frames") == 0) {
            ro.thread_frames = 0;
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "tornstack: unknown option '%s'\n", a);
            return 2;
        } else if (in_path == NULL) {
            in_path = a;
        } else {
            fprintf(stderr, "tornstack: convert takes one input file ('%s' is a second)\n", a);
            return 2;
        }
    }
    if (in_path == NULL) {
        fprintf(stderr, "tornstack: convert needs an input file (a folded file; - for stdin)\n");
        return 2;
    }
    if (fmt < 0) {
        const char *word = ts_format_from_name("convert", out_path);
        uw_profile_format named;
        if (word != NULL && uw_profile_format_parse(word, &named) == 0)
            fmt = (int)named;
    }
    if (fmt < 0) {
        fprintf(stderr, "tornstack: convert needs --format folded|speedscope|pprof|html "
                        "(or an output name ending in .html, .json, .pb.gz or .folded)\n");
        return 2;
    }
    if (!uw_profile_format_built((uw_profile_format)fmt)) {
        fprintf(stderr, "tornstack: --format %s was not built in (docs/output.md)\n",
                uw_profile_format_name((uw_profile_format)fmt));
        return 2;
    }
    in = strcmp(in_path, "-") == 0 ? stdin : fopen(in_path, "r");
    if (in == NULL) {
        fprintf(stderr, "tornstack: cannot read %s\n", in_path);
        return 2;
    }
    if (uw_profile_init(&p) != 0) {
        if (in != stdin)
            fclose(in);
        return 1;
    }
    snprintf(p.title, sizeof p.title, "%s", title != NULL ? title : in_path);
    rc = uw_folded_read(in, &p, &ro, &err);
    if (in != stdin)
        fclose(in);
    if (rc != 0) {
        fprintf(stderr, "tornstack: %s:%zu: %s\n", in_path, err.line, err.what);
        uw_profile_free(&p);
        return rc == UW_ERR_NOMEM ? 1 : 2;
    }
    rc = ts_out_open(&out, out_path, fmt);
    if (rc == 0)
        rc = ts_out_finish(&out, &p, (uw_profile_format)fmt);
    uw_profile_free(&p);
    return rc;
}
