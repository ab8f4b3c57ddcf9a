/*
 * label.c — frame labels: the percent-escaping of folded files and the
 * names people read (profile_io.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "tornstack/limits.h"
#include "tornstack/profile_io.h"
#include "tornstack/sample.h"

/* Every label a writer makes of a sample reads back: a qualname and a file
 * of UW_LIMIT_STRING_CHARS code points (4 UTF-8 bytes each, each escaped
 * to at most 3) with " (:LINE)", or a Task's name. */
_Static_assert(UW_LIMIT_FOLDED_LABEL >= 2 * 3 * 4 * UW_LIMIT_STRING_CHARS + 32 &&
                   UW_LIMIT_FOLDED_LABEL >= 3 * UW_TASK_NAME_MAX + 8,
               "UW_LIMIT_FOLDED_LABEL is too small for the labels the writers make");

/* paren: also '(' (a Python frame's name: the reader splits its label at
 * the first " (", so a name holding one must not show it). */
static int uw_label_needs_escape(unsigned char c, int paren)
{
    return c == '%' || c == ';' || c < 0x20 || c == 0x7f || (paren && c == '(');
}

static size_t uw_label_escape_as(char *dst, size_t cap, const char *s, size_t len, int paren)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t need = 0, w = 0, i; /* w: bytes written, a prefix of whole escapes */

    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        size_t k = uw_label_needs_escape(c, paren) ? 3 : 1;
        if (w == need && need + k < cap) {
            if (k == 3) {
                dst[w] = '%';
                dst[w + 1] = hex[c >> 4];
                dst[w + 2] = hex[c & 15];
            } else {
                dst[w] = (char)c;
            }
            w += k;
        }
        need += k;
    }
    if (cap > 0)
        dst[w] = '\0';
    return need;
}

size_t uw_label_escape(char *dst, size_t cap, const char *s, size_t len)
{
    return uw_label_escape_as(dst, cap, s, len, 0);
}

static int uw_hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

size_t uw_label_unescape(char *s, size_t len)
{
    size_t i, o = 0;

    for (i = 0; i < len; i++) {
        int hi, lo;
        if (s[i] == '%' && i + 2 < len && (hi = uw_hexval(s[i + 1])) >= 0 &&
            (lo = uw_hexval(s[i + 2])) >= 0) {
            s[o++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            s[o++] = s[i];
        }
    }
    s[o] = '\0';
    return o;
}

/* snprintf that reports the length it needed and never a negative one. */
static size_t uw_lprintf_len(int n)
{
    return n < 0 ? 0 : (size_t)n;
}

size_t uw_profile_frame_display(const uw_profile *p, uint32_t id, char *dst, size_t cap)
{
    const uw_pframe *f;
    const char *name;

    if (id >= p->n_frames)
        return uw_lprintf_len(snprintf(dst, cap, "?"));
    f = &p->frames[id];
    name = uw_profile_str(p, f->name);
    switch (f->kind) {
    case UW_PFRAME_TASK:
        return uw_lprintf_len(snprintf(dst, cap, "<task %s>", name));
    case UW_PFRAME_THREAD:
        if (name[0] == '\0')
            return uw_lprintf_len(snprintf(dst, cap, "<thread %" PRId64 ">", f->line));
        return uw_lprintf_len(snprintf(dst, cap, "<thread %" PRId64 " %s>", f->line, name));
    default:
        return uw_lprintf_len(snprintf(dst, cap, "%s", name));
    }
}

size_t uw_profile_frame_folded(const uw_profile *p, uint32_t id, char *dst, size_t cap)
{
    const uw_pframe *f;
    const char *name;
    size_t n = 0, k;
    char num[48];

    if (id >= p->n_frames)
        return uw_lprintf_len(snprintf(dst, cap, "?"));
    f = &p->frames[id];
    name = uw_profile_str(p, f->name);
/* append a literal, or escaped text, keeping within cap */
#define UW_PUT_LIT(lit)                            \
    do {                                           \
        k = strlen(lit);                           \
        if (n < cap)                               \
            snprintf(dst + n, cap - n, "%s", lit); \
        n += k;                                    \
    } while (0)
#define UW_PUT_ESC_AS(str, paren)                                                                \
    do {                                                                                         \
        const char *s_ = (str);                                                                  \
        n += uw_label_escape_as(n < cap ? dst + n : NULL, n < cap ? cap - n : 0, s_, strlen(s_), \
                                (paren));                                                        \
    } while (0)
#define UW_PUT_ESC(str) UW_PUT_ESC_AS(str, 0)
    switch (f->kind) {
    case UW_PFRAME_TASK:
        UW_PUT_LIT("<task ");
        UW_PUT_ESC(name);
        UW_PUT_LIT(">");
        break;
    case UW_PFRAME_THREAD:
        snprintf(num, sizeof num, "<thread %" PRId64 "%s", f->line, name[0] ? " " : ">");
        UW_PUT_LIT(num);
        if (name[0] != '\0') {
            UW_PUT_ESC(name);
            UW_PUT_LIT(">");
        }
        break;
    default:
        UW_PUT_ESC_AS(name, 1);
        UW_PUT_LIT(" (");
        UW_PUT_ESC(uw_profile_str(p, f->file));
        snprintf(num, sizeof num, ":%" PRId64 ")", f->line);
        UW_PUT_LIT(num);
        break;
    }
#undef UW_PUT_LIT
#undef UW_PUT_ESC
#undef UW_PUT_ESC_AS
    return n;
}
