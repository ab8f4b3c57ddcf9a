/*
 * tvd.c — the total variation distance between two folded profiles
 * (tvd.h): a hash table of stacks with one count per side, and exact
 * integer arithmetic.
 */
#define _POSIX_C_SOURCE 200809L /* snprintf */
#include "internal/tvd.h"

#include <stdlib.h>
#include <string.h>

#include "tornstack/error.h"
#include "tornstack/limits.h"

typedef unsigned __int128 uw_u128;

typedef struct uw__tvd_slot {
    char *stack; /* NULL: empty slot */
    uint64_t hash;
    uint64_t count[2];
} uw__tvd_slot;

struct uw__tvd {
    unsigned flags;
    uw__tvd_slot *slots;
    size_t cap, used; /* cap a power of two; used <= cap / 2 */
    uint64_t total[2];
    char *norm; /* scratch for the function-level text */
    size_t norm_cap;
};

int uw__tvd_new(unsigned flags, uw__tvd **out)
{
    uw__tvd *t;

    if (out == NULL || (flags & ~UW_TVD_FUNCTIONS) != 0)
        return UW_ERR_INVALID_ARG;
    t = calloc(1, sizeof *t);
    if (t == NULL)
        return UW_ERR_NOMEM;
    t->flags = flags;
    t->cap = 1024;
    t->slots = calloc(t->cap, sizeof *t->slots);
    if (t->slots == NULL) {
        free(t);
        return UW_ERR_NOMEM;
    }
    *out = t;
    return 0;
}

void uw__tvd_free(uw__tvd *t)
{
    size_t i;

    if (t == NULL)
        return;
    for (i = 0; i < t->cap; i++)
        free(t->slots[i].stack);
    free(t->slots);
    free(t->norm);
    free(t);
}

static uint64_t uw__tvd_hash(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    size_t i;

    for (i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h;
}

/* Double the table (load stays at most one half). */
static int uw__tvd_grow(uw__tvd *t)
{
    size_t cap = t->cap * 2, i;
    uw__tvd_slot *slots = calloc(cap, sizeof *slots);

    if (slots == NULL)
        return UW_ERR_NOMEM;
    for (i = 0; i < t->cap; i++) {
        size_t j;
        if (t->slots[i].stack == NULL)
            continue;
        for (j = t->slots[i].hash & (cap - 1); slots[j].stack != NULL; j = (j + 1) & (cap - 1))
            ;
        slots[j] = t->slots[i];
    }
    free(t->slots);
    t->slots = slots;
    t->cap = cap;
    return 0;
}

/* Add `count` to stack s[0..n) on `side`.  Open addressing, linear
 * probing; the table holds at most UW_TVD_LIMIT_STACKS stacks. */
static int uw__tvd_add(uw__tvd *t, int side, const char *s, size_t n, uint64_t count)
{
    uint64_t h = uw__tvd_hash(s, n);
    size_t j;

    if (t->total[side] + count > UW_TVD_LIMIT_TOTAL)
        return UW_ERR_LIMIT_TVD_TOTAL;
    for (j = h & (t->cap - 1); t->slots[j].stack != NULL; j = (j + 1) & (t->cap - 1)) {
        if (t->slots[j].hash == h && strncmp(t->slots[j].stack, s, n) == 0 &&
            t->slots[j].stack[n] == '\0') {
            t->slots[j].count[side] += count;
            t->total[side] += count;
            return 0;
        }
    }
    if (t->used >= UW_TVD_LIMIT_STACKS)
        return UW_ERR_LIMIT_TVD_STACKS;
    if (2 * (t->used + 1) > t->cap) {
        int rc = uw__tvd_grow(t);
        if (rc != 0)
            return rc;
        for (j = h & (t->cap - 1); t->slots[j].stack != NULL; j = (j + 1) & (t->cap - 1))
            ;
    }
    t->slots[j].stack = malloc(n + 1);
    if (t->slots[j].stack == NULL)
        return UW_ERR_NOMEM;
    memcpy(t->slots[j].stack, s, n);
    t->slots[j].stack[n] = '\0';
    t->slots[j].hash = h;
    t->slots[j].count[side] = count;
    t->total[side] += count;
    t->used++;
    return 0;
}

/* Function level: in every frame, drop the ":LINE" before the closing
 * parenthesis ("name (file:12)" -> "name (file)"; LINE may be negative,
 * -1 being tornstack's "unknown").  Frames of another shape are kept as
 * they are.  Writes into t->norm; returns its length or an error. */
static int uw__tvd_functions(uw__tvd *t, const char *s, size_t n, size_t *out_len)
{
    size_t i = 0, k = 0;

    if (t->norm_cap < n + 1) {
        char *b = realloc(t->norm, n + 1);
        if (b == NULL)
            return UW_ERR_NOMEM;
        t->norm = b;
        t->norm_cap = n + 1;
    }
    while (i < n) {
        size_t end = i, cut;
        while (end < n && s[end] != ';')
            end++;
        /* frame s[i..end): find ":digits)" at its end */
        cut = end;
        if (end - i >= 3 && s[end - 1] == ')') {
            size_t d = end - 1;
            while (d > i && s[d - 1] >= '0' && s[d - 1] <= '9')
                d--;
            if (d < end - 1 && d > i && s[d - 1] == '-')
                d--;
            if (d < end - 1 && d > i && s[d - 1] == ':')
                cut = d - 1;
        }
        memcpy(t->norm + k, s + i, cut - i);
        k += cut - i;
        if (cut != end)
            t->norm[k++] = ')';
        if (end < n)
            t->norm[k++] = ';';
        i = end + 1;
    }
    t->norm[k] = '\0';
    *out_len = k;
    return 0;
}

int uw__tvd_add_line(uw__tvd *t, int side, const char *line, size_t len)
{
    const char *sp;
    uint64_t count = 0;
    size_t i, slen;

    if (t == NULL || line == NULL || (side != 0 && side != 1))
        return UW_ERR_INVALID_ARG;
    if (len > UW_TVD_LIMIT_LINE_BYTES)
        return UW_ERR_LIMIT_TVD_LINE;
    while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == '\n'))
        len--;
    for (i = 0; i < len && (line[i] == ' ' || line[i] == '\t'); i++)
        ;
    if (i == len)
        return 0; /* blank */
    for (sp = line + len; sp > line && sp[-1] != ' '; sp--)
        ;
    if (sp == line || sp == line + len)
        return UW_ERR_FORMAT; /* no count after the last space */
    slen = (size_t)(sp - 1 - line);
    if (slen == 0)
        return UW_ERR_FORMAT; /* empty stack */
    if ((size_t)(line + len - sp) > 19)
        return UW_ERR_LIMIT_TVD_TOTAL; /* more digits than any bounded count */
    for (i = 0; sp + i < line + len; i++) {
        if (sp[i] < '0' || sp[i] > '9')
            return UW_ERR_FORMAT;
        count = count * 10 + (uint64_t)(sp[i] - '0');
    }
    if (count > UW_TVD_LIMIT_TOTAL)
        return UW_ERR_LIMIT_TVD_TOTAL;
    if (count == 0)
        return 0;
    if (t->flags & UW_TVD_FUNCTIONS) {
        int rc = uw__tvd_functions(t, line, slen, &slen);
        if (rc != 0)
            return rc;
        return uw__tvd_add(t, side, t->norm, slen, count);
    }
    return uw__tvd_add(t, side, line, slen, count);
}

/* Bytes asked of fread at a time. */
#ifndef UW_TVD_READ_CHUNK
#define UW_TVD_READ_CHUNK (64 * 1024)
#endif

/* A line reader whose buffer never grows past one line of
 * UW_TVD_LIMIT_LINE_BYTES plus a chunk, whatever the file holds (a file
 * without newlines, /dev/zero). */
typedef struct uw__tvd_lines {
    FILE *f;
    char *buf;
    size_t cap, start, end;
    int eof;
} uw__tvd_lines;

/* Next line (without its newline) in *line / *len: 1, or 0 at the end of
 * the file, or an error (UW_ERR_LIMIT_TVD_LINE for an overlong line). */
static int uw__tvd_next_line(uw__tvd_lines *r, const char **line, size_t *len)
{
    for (;;) {
        char *nl = r->end > r->start ? memchr(r->buf + r->start, '\n', r->end - r->start) : NULL;
        size_t got;
        if (nl != NULL) {
            *line = r->buf + r->start;
            *len = (size_t)(nl - *line);
            r->start += *len + 1;
            return *len > UW_TVD_LIMIT_LINE_BYTES ? UW_ERR_LIMIT_TVD_LINE : 1;
        }
        if (r->end - r->start > UW_TVD_LIMIT_LINE_BYTES)
            return UW_ERR_LIMIT_TVD_LINE;
        if (r->eof) {
            if (r->end == r->start)
                return 0;
            *line = r->buf + r->start;
            *len = r->end - r->start;
            r->start = r->end;
            return 1;
        }
        if (r->start > 0) {
            memmove(r->buf, r->buf + r->start, r->end - r->start);
            r->end -= r->start;
            r->start = 0;
        }
        if (r->cap - r->end < UW_TVD_READ_CHUNK) {
            size_t cap = r->cap ? 2 * r->cap : 2 * UW_TVD_READ_CHUNK;
            char *b;
            if (cap > UW_TVD_LIMIT_LINE_BYTES + 2 * UW_TVD_READ_CHUNK)
                cap = UW_TVD_LIMIT_LINE_BYTES + 2 * UW_TVD_READ_CHUNK;
            if (cap > r->cap) {
                b = realloc(r->buf, cap);
                if (b == NULL)
                    return UW_ERR_NOMEM;
                r->buf = b;
                r->cap = cap;
            }
        }
        got = fread(r->buf + r->end, 1, r->cap - r->end, r->f);
        r->end += got;
        if (got == 0) {
            if (ferror(r->f))
                return UW_ERR_IO;
            r->eof = 1;
        }
    }
}

int uw__tvd_read(uw__tvd *t, int side, FILE *f, uint64_t max_lines, uint64_t *line_no)
{
    uw__tvd_lines r = {f, NULL, 0, 0, 0, 0};
    uint64_t no = 0;
    int rc = 0;

    if (t == NULL || f == NULL || line_no == NULL)
        return UW_ERR_INVALID_ARG;
    for (;;) {
        const char *line;
        size_t len;
        int more = uw__tvd_next_line(&r, &line, &len);
        if (more == 0)
            break;
        no++;
        if (more < 0) {
            rc = more;
            break;
        }
        if (no > max_lines) {
            rc = UW_ERR_LIMIT_TVD_LINES;
            break;
        }
        if (memchr(line, '\0', len) != NULL) {
            rc = UW_ERR_FORMAT; /* a binary file */
            break;
        }
        rc = uw__tvd_add_line(t, side, line, len);
        if (rc != 0)
            break;
    }
    free(r.buf);
    *line_no = rc != 0 && rc != UW_ERR_IO && rc != UW_ERR_NOMEM ? no : 0;
    return rc;
}

static uw_u128 uw__tvd_gcd(uw_u128 a, uw_u128 b)
{
    while (b != 0) {
        uw_u128 r = a % b;
        a = b;
        b = r;
    }
    return a;
}

/* Decimal text of a 128-bit number (at most 39 digits). */
static void uw__tvd_u128_text(uw_u128 v, char *out)
{
    char tmp[48];
    size_t n = 0, i;

    do {
        tmp[n++] = (char)('0' + (int)(v % 10));
        v /= 10;
    } while (v != 0);
    for (i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    out[n] = '\0';
}

/* |c_A N_B - c_B N_A| of one slot: each product < 2^124 under the bounds. */
static uw_u128 uw__tvd_diff(const uw__tvd *t, const uw__tvd_slot *s)
{
    uw_u128 a = (uw_u128)s->count[0] * t->total[1];
    uw_u128 b = (uw_u128)s->count[1] * t->total[0];
    return a > b ? a - b : b - a;
}

int uw__tvd_compute(const uw__tvd *t, uw__tvd_result *r)
{
    uw_u128 num = 0, den, g;
    char a[48], b[48];
    size_t i;

    if (t == NULL || r == NULL)
        return UW_ERR_INVALID_ARG;
    memset(r, 0, sizeof *r);
    r->total[0] = t->total[0];
    r->total[1] = t->total[1];
    for (i = 0; i < t->cap; i++) {
        const uw__tvd_slot *s = &t->slots[i];
        if (s->stack == NULL)
            continue;
        r->stacks[0] += s->count[0] > 0;
        r->stacks[1] += s->count[1] > 0;
        r->stacks_union++;
        num += uw__tvd_diff(t, s); /* the sum is at most 2 N_A N_B < 2^125 */
    }
    if (t->total[0] == 0 || t->total[1] == 0)
        return UW_ERR_FORMAT;
    den = (uw_u128)2 * t->total[0] * t->total[1];
    g = uw__tvd_gcd(num, den); /* gcd(0, den) = den: "0/1" */
    num /= g;
    den /= g;
    r->tvd = (double)num / (double)den;
    uw__tvd_u128_text(num, a);
    uw__tvd_u128_text(den, b);
    snprintf(r->exact, sizeof r->exact, "%s/%s", a, b);
    return 0;
}

/* Keep the k largest contributions in out[] (insertion into a sorted
 * array of at most k entries: k is a screenful). */
int uw__tvd_top(const uw__tvd *t, size_t k, uw__tvd_entry *out, size_t *n)
{
    uw_u128 *key;
    size_t i;

    if (t == NULL || n == NULL || (k > 0 && out == NULL))
        return UW_ERR_INVALID_ARG;
    *n = 0;
    if (k == 0)
        return 0;
    key = malloc(k * sizeof *key);
    if (key == NULL)
        return UW_ERR_NOMEM;
    for (i = 0; i < t->cap; i++) {
        const uw__tvd_slot *s = &t->slots[i];
        uw_u128 d;
        size_t j;
        if (s->stack == NULL)
            continue;
        d = uw__tvd_diff(t, s);
        /* position: after every entry larger, or equal with smaller text */
        for (j = *n; j > 0; j--) {
            if (key[j - 1] > d || (key[j - 1] == d && strcmp(out[j - 1].stack, s->stack) < 0))
                break;
        }
        if (j >= k)
            continue;
        if (*n < k)
            (*n)++;
        memmove(&out[j + 1], &out[j], (*n - 1 - j) * sizeof *out);
        memmove(&key[j + 1], &key[j], (*n - 1 - j) * sizeof *key);
        key[j] = d;
        out[j].stack = s->stack;
        out[j].count[0] = s->count[0];
        out[j].count[1] = s->count[1];
        out[j].p[0] = t->total[0] ? (double)s->count[0] / (double)t->total[0] : 0.0;
        out[j].p[1] = t->total[1] ? (double)s->count[1] / (double)t->total[1] : 0.0;
    }
    free(key);
    return 0;
}
