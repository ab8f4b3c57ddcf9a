/*
 * folded_read.c — a folded file back into a profile (profile_io.h).
 *
 * The file is read one byte at a time into one label at a time, so no line
 * is ever held whole: a label is bounded by UW_LIMIT_FOLDED_LABEL bytes and
 * a line by UW_LIMIT_STACK_ITEMS labels.  Each line ends with a space and
 * its count (at most UW_LIMIT_PROFILE_COUNT); a CR before the newline and a
 * last line without a newline are accepted.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "tornstack/error.h"
#include "tornstack/limits.h"
#include "tornstack/profile_io.h"

void uw_folded_read_options_default(uw_folded_read_options *o)
{
    o->task_frames = 1;
    o->thread_frames = 1;
}

typedef struct uw_fread {
    uw_profile *p;
    const uw_folded_read_options *o;
    uw_folded_error *err;
    char *buf; /* the label being read, UW_LIMIT_FOLDED_LABEL + 1 bytes */
    size_t len;
    uint32_t *frames; /* frame ids of the line, UW_LIMIT_STACK_ITEMS */
    uint32_t n;
    uw_plabels labels;
} uw_fread;

static int uw_fread_fail(uw_fread *r, int rc, const char *what)
{
    snprintf(r->err->what, sizeof r->err->what, "%s", what);
    return rc;
}

/* A label's text, unescaped and interned.  A NUL byte in it, raw or
 * escaped (%00), is refused: names are C strings from here on, and one cut
 * at its NUL would not write back as it was read. */
static int uw_fread_str(uw_fread *r, char *s, size_t len, uint32_t *id)
{
    len = uw_label_unescape(s, len);
    if (memchr(s, '\0', len) != NULL)
        return uw_fread_fail(r, UW_ERR_FORMAT, "NUL byte in a label");
    return uw_profile_intern(r->p, s, len, id);
}

static int uw_starts(const char *s, size_t len, const char *prefix)
{
    size_t k = strlen(prefix);
    return len >= k && memcmp(s, prefix, k) == 0;
}

/* "<thread ID>" or "<thread ID NAME>": buf[0..len) without the brackets'
 * prefix handled here.  Returns 0 with f and the thread labels set. */
static int uw_fread_thread(uw_fread *r, char *s, size_t len, uw_pframe *f)
{
    size_t i = 8; /* after "<thread " */
    uint64_t id = 0;
    int digits = 0, rc;

    while (i < len - 1 && s[i] >= '0' && s[i] <= '9' && digits < 19) {
        id = id * 10 + (uint64_t)(s[i] - '0');
        i++;
        digits++;
    }
    if (digits == 0 || (s[i] != ' ' && i != len - 1))
        return uw_fread_fail(r, UW_ERR_FORMAT, "bad <thread NATIVE_ID NAME> label");
    /* kept as the frame's int64 line: a larger id would be written back
     * negative, which this reader refuses */
    if (id > (uint64_t)INT64_MAX)
        return uw_fread_fail(r, UW_ERR_FORMAT, "<thread NATIVE_ID> past 2^63 - 1");
    f->kind = UW_PFRAME_THREAD;
    f->line = (int64_t)id;
    if (i == len - 1) {
        f->name = UW_PSTR_EMPTY;
    } else {
        s[len - 1] = '\0';
        rc = uw_fread_str(r, s + i + 1, len - 1 - (i + 1), &f->name);
        if (rc != 0)
            return rc;
    }
    r->labels.thread_id = id;
    r->labels.thread_name = f->name;
    return 0;
}

/* "QUALNAME (FILE:LINE)": split at the first " (" and the last ':'.  A
 * label of another form is a frame with that name and no file. */
static int uw_fread_python(uw_fread *r, char *s, size_t len, uw_pframe *f)
{
    char *open = NULL, *colon = NULL, *end = NULL;
    long long line = -1;
    int rc;

    f->kind = UW_PFRAME_PYTHON;
    f->file = UW_PSTR_EMPTY;
    f->line = -1;
    if (len >= 5 && s[len - 1] == ')') {
        size_t i;
        for (i = 0; i + 1 < len; i++)
            if (s[i] == ' ' && s[i + 1] == '(') {
                open = s + i;
                break;
            }
        for (i = len - 1; i-- > 0 && open != NULL && s + i > open;)
            if (s[i] == ':') {
                colon = s + i;
                break;
            }
        if (colon != NULL && colon + 1 < s + len - 1) {
            s[len - 1] = '\0';
            errno = 0;
            line = strtoll(colon + 1, &end, 10);
            if (errno != 0 || end != s + len - 1 || line < -1 || line > INT32_MAX)
                colon = NULL;
            s[len - 1] = ')';
        } else {
            colon = NULL;
        }
    }
    if (colon == NULL)
        return uw_fread_str(r, s, len, &f->name);
    *open = '\0';
    *colon = '\0';
    rc = uw_fread_str(r, s, (size_t)(open - s), &f->name);
    if (rc == 0)
        rc = uw_fread_str(r, open + 2, (size_t)(colon - (open + 2)), &f->file);
    f->line = line;
    return rc;
}

/* The label in r->buf is complete: intern it as a frame of the line. */
static int uw_fread_label(uw_fread *r)
{
    char *s = r->buf;
    size_t len = r->len;
    uw_pframe f = {0, 0, 0, UW_PFRAME_PYTHON};
    int keep = 1, rc;

    s[len] = '\0';
    if (len == 0)
        return uw_fread_fail(r, UW_ERR_FORMAT, "empty frame label");
    if (r->n == UW_LIMIT_STACK_ITEMS)
        return uw_fread_fail(r, UW_ERR_LIMIT_STACK, "more than UW_LIMIT_STACK_ITEMS frames");
    if (uw_starts(s, len, "<task ") && s[len - 1] == '>') {
        s[len - 1] = '\0';
        f.kind = UW_PFRAME_TASK;
        rc = uw_fread_str(r, s + 6, len - 7, &f.name);
        r->labels.task_name = f.name; /* the innermost Task wins */
        keep = r->o->task_frames;
    } else if (uw_starts(s, len, "<thread ") && s[len - 1] == '>') {
        rc = uw_fread_thread(r, s, len, &f);
        keep = r->o->thread_frames;
    } else {
        rc = uw_fread_python(r, s, len, &f);
    }
    if (rc == 0 && keep)
        rc = uw_profile_frame(r->p, &f, &r->frames[r->n++]);
    r->len = 0;
    if (rc != 0 && r->err->what[0] == '\0')
        uw_fread_fail(r, rc, uw_strerror(rc));
    return rc;
}

/* End of a line: the last label holds " COUNT" at its end. */
static int uw_fread_line(uw_fread *r)
{
    size_t i, sp;
    uint64_t count = 0;
    int rc;

    if (r->len > 0 && r->buf[r->len - 1] == '\r')
        r->len--;
    if (r->len == 0 && r->n == 0)
        return 0; /* an empty line */
    for (sp = r->len; sp > 0 && r->buf[sp - 1] != ' '; sp--)
        ;
    if (sp == 0 || sp == r->len)
        return uw_fread_fail(r, UW_ERR_FORMAT, "line does not end with a space and a count");
    for (i = sp; i < r->len; i++) {
        unsigned d = (unsigned)(r->buf[i] - '0');
        if (d > 9)
            return uw_fread_fail(r, UW_ERR_FORMAT, "count is not a number");
        if (count > (UW_LIMIT_PROFILE_COUNT - d) / 10)
            return uw_fread_fail(r, UW_ERR_LIMIT_COUNT, "count above UW_LIMIT_PROFILE_COUNT");
        count = count * 10 + d;
    }
    r->len = sp - 1;
    rc = uw_fread_label(r);
    if (rc == 0)
        rc = uw_profile_add(r->p, r->frames, r->n, &r->labels, count);
    if (rc != 0 && r->err->what[0] == '\0')
        uw_fread_fail(r, rc, uw_strerror(rc));
    return rc;
}

static void uw_fread_reset(uw_fread *r)
{
    r->len = 0;
    r->n = 0;
    r->labels.thread_id = 0;
    r->labels.thread_name = UW_PSTR_EMPTY;
    r->labels.task_name = UW_PSTR_NONE;
}

int uw_folded_read(FILE *in, uw_profile *p, const uw_folded_read_options *o, uw_folded_error *err)
{
    uw_folded_read_options def;
    uw_folded_error dummy;
    uw_fread r;
    int c, rc = 0;

    if (err == NULL)
        err = &dummy;
    err->line = 1;
    err->what[0] = '\0';
    if (o == NULL) {
        uw_folded_read_options_default(&def);
        o = &def;
    }
    memset(&r, 0, sizeof r);
    r.p = p;
    r.o = o;
    r.err = err;
    r.buf = malloc(UW_LIMIT_FOLDED_LABEL + 1);
    r.frames = malloc(UW_LIMIT_STACK_ITEMS * sizeof *r.frames);
    if (r.buf == NULL || r.frames == NULL) {
        rc = uw_fread_fail(&r, UW_ERR_NOMEM, "out of memory");
        goto out;
    }
    uw_fread_reset(&r);
    while (rc == 0) {
        c = getc(in);
        if (c == EOF) {
            if (ferror(in))
                rc = uw_fread_fail(&r, UW_ERR_IO, "read error");
            else if (r.len > 0 || r.n > 0)
                rc = uw_fread_line(&r);
            break;
        }
        if (c == '\n') {
            rc = uw_fread_line(&r);
            uw_fread_reset(&r);
            if (rc == 0)
                err->line++;
        } else if (c == ';') {
            rc = uw_fread_label(&r);
        } else if (r.len == UW_LIMIT_FOLDED_LABEL) {
            rc = uw_fread_fail(&r, UW_ERR_LIMIT_LABEL, "label longer than UW_LIMIT_FOLDED_LABEL");
        } else {
            r.buf[r.len++] = (char)c;
        }
    }
out:
    free(r.buf);
    free(r.frames);
    return rc;
}
