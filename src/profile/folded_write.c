/*
 * folded_write.c — a profile as folded stacks (profile_io.h).
 *
 * One line per distinct sequence of frames, in the order the profile first
 * saw them: labels root first joined by ';', a space, the count.  Stacks that
 * differ only by their labels (possible when markers are switched off) share
 * a line, as a folded file has no labels.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tornstack/error.h"
#include "tornstack/profile_io.h"

typedef struct uw_fold_lines {
    uw_hindex index;
    uint32_t *first; /* per line: the stack that gives its frames */
    uint64_t *count; /* per line: the sum of its stacks' counts */
    uint32_t n;
} uw_fold_lines;

static int uw_fold_eq(const void *ctx, uint32_t id, const void *key)
{
    const uw_profile *p = ((const void *const *)ctx)[0];
    const uw_fold_lines *l = ((const void *const *)ctx)[1];
    const uw_pstack *a = &p->stacks[l->first[id]], *b = key;

    return a->n == b->n &&
           memcmp(p->items + a->first, p->items + b->first, (size_t)a->n * sizeof(uint32_t)) == 0;
}

static uint64_t uw_fold_hash(const uw_profile *p, const uw_pstack *st)
{
    return uw_hash_bytes(p->items + st->first, (size_t)st->n * sizeof(uint32_t), 7);
}

/* Group the profile's stacks by their frames; O(1) per stack. */
static int uw_fold_group(const uw_profile *p, uw_fold_lines *l)
{
    const void *ctx[2] = {p, l};
    uint32_t i, id;
    int rc;

    memset(l, 0, sizeof *l);
    uw_hindex_init(&l->index);
    l->first = malloc(((size_t)p->n_stacks + 1) * sizeof *l->first);
    l->count = malloc(((size_t)p->n_stacks + 1) * sizeof *l->count);
    if (l->first == NULL || l->count == NULL)
        return UW_ERR_NOMEM;
    for (i = 0; i < p->n_stacks; i++) {
        const uw_pstack *st = &p->stacks[i];
        uint64_t h = uw_fold_hash(p, st);
        if (uw_hindex_find(&l->index, h, uw_fold_eq, ctx, st, &id)) {
            l->count[id] += st->count;
            continue;
        }
        rc = uw_hindex_add(&l->index, h, l->n);
        if (rc != 0)
            return rc;
        l->first[l->n] = i;
        l->count[l->n++] = st->count;
    }
    return 0;
}

static void uw_fold_free(uw_fold_lines *l)
{
    uw_hindex_free(&l->index);
    free(l->first);
    free(l->count);
}

int uw_folded_line_count(const uw_profile *p, size_t *n)
{
    uw_fold_lines l;
    int rc = uw_fold_group(p, &l);

    *n = rc == 0 ? l.n : 0;
    uw_fold_free(&l);
    return rc;
}

/* Would every line read back?  The folded reader (folded_read.c) holds a
 * label, and the last label of a line with its space and count, in
 * UW_LIMIT_FOLDED_LABEL bytes.  Labels made from a target fit (label.c's
 * static assertion), but one read from a folded file at that bound can
 * grow when written back (a name with no file gains " (:-1)", a bare '%'
 * becomes "%25"): such a profile is refused (label_limit) before a byte
 * is written, rather than written as a file tornstack refuses to read.
 * Each frame's label is measured once; bound: the profile's own. */
static int uw_fold_fits(const uw_profile *p, const uw_fold_lines *l)
{
    size_t *len;
    uint32_t i, j;
    int rc = 0;

    if (p->n_frames == 0)
        return 0;
    len = malloc((size_t)p->n_frames * sizeof *len);
    if (len == NULL)
        return UW_ERR_NOMEM;
    for (i = 0; i < p->n_frames; i++)
        len[i] = uw_profile_frame_folded(p, i, NULL, 0);
    for (i = 0; rc == 0 && i < l->n; i++) {
        const uw_pstack *st = &p->stacks[l->first[i]];
        char count[24];
        for (j = 0; rc == 0 && j < st->n; j++) {
            size_t n = len[p->items[st->first + j]];
            if (j + 1 == st->n)
                n += (size_t)snprintf(count, sizeof count, " %" PRIu64, l->count[i]);
            if (n > UW_LIMIT_FOLDED_LABEL)
                rc = UW_ERR_LIMIT_LABEL;
        }
    }
    free(len);
    return rc;
}

int uw_write_folded(FILE *out, const uw_profile *p)
{
    uw_fold_lines l;
    char *label = malloc(UW_LABEL_MAX);
    uint32_t i, j;
    int rc;

    if (label == NULL)
        return UW_ERR_NOMEM;
    rc = uw_fold_group(p, &l);
    if (rc == 0)
        rc = uw_fold_fits(p, &l);
    for (i = 0; rc == 0 && i < l.n; i++) {
        const uw_pstack *st = &p->stacks[l.first[i]];
        if (st->n == 0)
            continue; /* no frame to show (a folded line needs one) */
        for (j = 0; j < st->n; j++) {
            uw_profile_frame_folded(p, p->items[st->first + j], label, UW_LABEL_MAX);
            if (j > 0)
                fputc(';', out);
            fputs(label, out);
        }
        fprintf(out, " %" PRIu64 "\n", l.count[i]);
    }
    uw_fold_free(&l);
    free(label);
    if (rc == 0 && ferror(out))
        rc = UW_ERR_IO;
    return rc;
}
