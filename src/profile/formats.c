/*
 * formats.c — the profile formats by name, and one entry point that
 * writes any of them (profile_io.h).
 */
#include <string.h>

#include "tornstack/error.h"
#include "tornstack/profile_io.h"

static const char *const uw_format_names[] = {"folded", "speedscope", "pprof", "html"};

int uw_profile_format_parse(const char *name, uw_profile_format *f)
{
    int i;

    for (i = 0; i < 4; i++)
        if (strcmp(name, uw_format_names[i]) == 0) {
            *f = (uw_profile_format)i;
            return 0;
        }
    return UW_ERR_NOT_FOUND;
}

const char *uw_profile_format_name(uw_profile_format f)
{
    return (unsigned)f < 4 ? uw_format_names[f] : "?";
}

int uw_profile_format_built(uw_profile_format f)
{
#ifdef TORNSTACK_HAVE_PPROF
    (void)f;
    return 1;
#else
    return f != UW_FORMAT_PPROF;
#endif
}

int uw_write_profile(FILE *out, const uw_profile *p, uw_profile_format f)
{
    switch (f) {
    case UW_FORMAT_FOLDED:
        return uw_write_folded(out, p);
    case UW_FORMAT_SPEEDSCOPE:
        return uw_write_speedscope(out, p);
    case UW_FORMAT_PPROF:
        return uw_write_pprof(out, p);
    case UW_FORMAT_HTML:
        return uw_write_html(out, p);
    }
    return UW_ERR_INVALID_ARG;
}
