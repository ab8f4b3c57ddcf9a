/*
 * live_rates.c — read the live programs' measured rates (live_rates.h).
 */
#include "live_rates.h"

#include <stdlib.h>
#include <string.h>

#include "tornstack/error.h"

/* One field of a tab-separated line into dst (cap bytes with its NUL).
 * Returns the rest of the line after the tab, or NULL when the field is
 * empty, too long, or (unless last) has no tab after it. */
static char *mm_field(char *s, char *dst, size_t cap, int last)
{
    size_t n = strcspn(s, "\t\n");

    if (n == 0 || n >= cap)
        return NULL;
    memcpy(dst, s, n);
    dst[n] = '\0';
    if (last)
        return s[n] == '\t' ? NULL : s + n;
    return s[n] == '\t' ? s + n + 1 : NULL;
}

/* "3.11.7" -> 11; -1 when it is not 3.<minor>[.<micro>]. */
static int mm_minor_of(const char *py)
{
    char *end;
    long m;

    if (strncmp(py, "3.", 2) != 0)
        return -1;
    m = strtol(py + 2, &end, 10);
    if (end == py + 2 || (*end != '\0' && *end != '.') || m < 0 || m > 99)
        return -1;
    return (int)m;
}

static int mm_percent(const char *s, double *out)
{
    char *end;
    double v = strtod(s, &end);

    if (end == s || *end != '\0' || !(v >= 0.0 && v <= 100.0))
        return -1;
    *out = v;
    return 0;
}

/* Each line a row or a comment; the first comment is kept as the
 * source.  Lines longer than the buffer are refused, not split. */
int mm_live_rates_read(const char *path, mm_live_rates *out, size_t *bad_line)
{
    char line[256];
    size_t no = 0;
    FILE *f = fopen(path, "r");

    memset(out, 0, sizeof *out);
    *bad_line = 0;
    if (f == NULL)
        return UW_ERR_IO;
    while (fgets(line, sizeof line, f) != NULL) {
        mm_live_rate r;
        char skip[24], recov[24], *p;
        no++;
        if (strchr(line, '\n') == NULL && !feof(f))
            goto bad;
        if (line[0] == '#') {
            if (out->source[0] == '\0') {
                p = line + 1 + strspn(line + 1, " ");
                p[strcspn(p, "\n")] = '\0';
                snprintf(out->source, sizeof out->source, "%s", p);
            }
            continue;
        }
        if (line[strspn(line, " \t\n")] == '\0')
            continue;
        memset(&r, 0, sizeof r);
        p = mm_field(line, r.workload, sizeof r.workload, 0);
        p = p ? mm_field(p, r.python, sizeof r.python, 0) : NULL;
        p = p ? mm_field(p, skip, sizeof skip, 0) : NULL;
        p = p ? mm_field(p, recov, sizeof recov, 1) : NULL;
        if (p == NULL || (r.minor = mm_minor_of(r.python)) < 0 || mm_percent(skip, &r.skip) != 0 ||
            mm_percent(recov, &r.recov) != 0 || out->n == MM_LIVE_RATES_MAX)
            goto bad;
        out->r[out->n++] = r;
    }
    if (ferror(f)) {
        fclose(f);
        return UW_ERR_IO;
    }
    fclose(f);
    return 0;
bad:
    fclose(f);
    *bad_line = no;
    out->n = 0;
    return UW_ERR_INVALID_ARG;
}

size_t mm_live_rates_print(FILE *out, const mm_live_rates *lr, const char *workload, int minor)
{
    size_t i, k = 0;

    for (i = 0; i < lr->n; i++) {
        const mm_live_rate *r = &lr->r[i];
        if (r->minor != minor || strcmp(r->workload, workload) != 0)
            continue;
        fprintf(out, "        live %-5s %-8s skip %6.2f%%  recov %6.2f%%\n", r->workload, r->python,
                r->skip, r->recov);
        k++;
    }
    return k;
}
