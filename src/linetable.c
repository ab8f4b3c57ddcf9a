/*
 * linetable.c — location-table decoding (see linetable.h for the format).
 *
 * The table is target memory.  The decoder never reads past len, rejects a
 * varint longer than 32 bits, rejects bytes with bit 7 set inside an entry
 * (they start the next entry, so the current one is truncated), and keeps
 * the running line within int range.  It is linear in len, which is bounded
 * by UW_LIMIT_LINETABLE_BYTES.
 */
#include "internal/linetable.h"

#include <limits.h>

#include "internal/uw_assert.h"
#include "tornstack/error.h"
#include "tornstack/limits.h"

typedef struct uw_lt_cursor {
    const uint8_t *tab;
    size_t len, pos;
} uw_lt_cursor;

/* One payload byte of the current entry. */
static int uw_lt_byte(uw_lt_cursor *c, uint8_t *out)
{
    if (c->pos >= c->len)
        return UW_ERR_LINETABLE;
    if (c->tab[c->pos] & 0x80)
        return UW_ERR_LINETABLE;
    *out = c->tab[c->pos++];
    return 0;
}

static int uw_lt_varint(uw_lt_cursor *c, uint32_t *out)
{
    uint32_t v = 0;
    unsigned shift = 0;
    uint8_t b;
    int rc;

    do {
        if (shift >= 32)
            return UW_ERR_LINETABLE;
        rc = uw_lt_byte(c, &b);
        if (rc != 0)
            return rc;
        if (shift == 30 && (b & 0x3c) != 0)
            return UW_ERR_LINETABLE; /* bits beyond 32 */
        v |= (uint32_t)(b & 0x3f) << shift;
        shift += 6;
    } while (b & 0x40);
    *out = v;
    return 0;
}

static int uw_lt_svarint(uw_lt_cursor *c, int64_t *out)
{
    uint32_t v;
    int rc = uw_lt_varint(c, &v);
    if (rc != 0)
        return rc;
    *out = (v & 1) ? -(int64_t)(v >> 1) : (int64_t)(v >> 1);
    return 0;
}

int uw__linetable_line(const uint8_t *tab, size_t len, int firstlineno, int64_t index, int *line)
{
    uw_lt_cursor c = {tab, len, 0};
    int64_t cur = firstlineno, unit = 0;
    uint32_t skip;
    uint8_t b;
    int rc;

    if (line == NULL || (tab == NULL && len != 0))
        return UW_ERR_INVALID_ARG;
    *line = -1;
    if (len > UW_LIMIT_LINETABLE_BYTES)
        return UW_ERR_LIMIT_LINETABLE;
    if (index < 0) { /* not started yet: CPython gives the first line */
        *line = firstlineno;
        return 0;
    }
    while (c.pos < c.len) {
        uint8_t first = c.tab[c.pos++];
        int code, length;
        int64_t entry_line;

        if ((first & 0x80) == 0)
            return UW_ERR_LINETABLE;
        code = (first >> 3) & 15;
        length = (first & 7) + 1;
        switch (code) {
        case 15: /* no location */
            entry_line = -1;
            break;
        case 14: { /* long form */
            int64_t d;
            if ((rc = uw_lt_svarint(&c, &d)) != 0)
                return rc;
            cur += d;
            if ((rc = uw_lt_varint(&c, &skip)) != 0 || (rc = uw_lt_varint(&c, &skip)) != 0 ||
                (rc = uw_lt_varint(&c, &skip)) != 0)
                return rc;
            entry_line = cur;
            break;
        }
        case 13: { /* no column */
            int64_t d;
            if ((rc = uw_lt_svarint(&c, &d)) != 0)
                return rc;
            cur += d;
            entry_line = cur;
            break;
        }
        case 10:
        case 11:
        case 12: /* one-line form */
            cur += code - 10;
            if ((rc = uw_lt_byte(&c, &b)) != 0 || (rc = uw_lt_byte(&c, &b)) != 0)
                return rc;
            entry_line = cur;
            break;
        default: /* short form, codes 0..9 */
            if ((rc = uw_lt_byte(&c, &b)) != 0)
                return rc;
            entry_line = cur;
            break;
        }
        if (cur < INT_MIN || cur > INT_MAX)
            return UW_ERR_LINETABLE;
        if (index < unit + length) {
            *line = entry_line < 0 ? -1 : (int)entry_line;
            return 0;
        }
        unit += length;
    }
    UW_ASSERT(*line == -1);
    return 0;
}
