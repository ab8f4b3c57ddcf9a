/*
 * pystr.c — compact str objects to UTF-8 (see pystr.h).
 */
#include "internal/pystr.h"

#include <string.h>

#include "internal/uw_assert.h"
#include "tornstack/error.h"
#include "tornstack/limits.h"

int uw__pystr_parse_header(const uw_layout *l, const uint8_t *hdr, size_t len, uw_pystr_header *out)
{
    uint32_t state;
    int64_t length;

    if (l == NULL || hdr == NULL || out == NULL)
        return UW_ERR_INVALID_ARG;
    if (len < (size_t)l->unicode_ascii_data)
        return UW_ERR_STRING;
    memcpy(&length, hdr + l->unicode_length, sizeof length);
    memcpy(&state, hdr + l->unicode_state, sizeof state);
    if (length < 0)
        return UW_ERR_STRING;
    if ((state & (uint32_t)l->unicode_compact_mask) == 0)
        return UW_ERR_STRING; /* legacy (non-compact) strings are not names */
    out->kind = (state & (uint32_t)l->unicode_kind_mask) >> l->unicode_kind_shift;
    out->ascii = (state & (uint32_t)l->unicode_ascii_mask) != 0;
    if (out->kind != 1 && out->kind != 2 && out->kind != 4)
        return UW_ERR_STRING;
    if (out->ascii && out->kind != 1)
        return UW_ERR_STRING;
    out->length = length;
    out->data_off = (uint32_t)(out->ascii ? l->unicode_ascii_data : l->unicode_compact_data);
    return 0;
}

/* Append code point cp as UTF-8; cap checked by the caller's sizing. */
static size_t uw_utf8_put(char *o, uint32_t cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xc0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xe0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        o[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (char)(0xf0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    o[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

int uw__pystr_to_utf8(const uint8_t *data, size_t n, uint32_t kind, int ascii, char *out,
                      size_t cap, size_t *out_len)
{
    size_t i, o = 0;

    if ((data == NULL && n != 0) || out == NULL || cap == 0)
        return UW_ERR_INVALID_ARG;
    if (kind != 1 && kind != 2 && kind != 4)
        return UW_ERR_STRING;
    for (i = 0; i < n; i++) {
        uint32_t cp;
        if (kind == 1) {
            cp = data[i];
            if (ascii && cp >= 0x80)
                return UW_ERR_STRING;
        } else if (kind == 2) {
            uint16_t v;
            memcpy(&v, data + 2 * i, 2);
            cp = v;
        } else {
            memcpy(&cp, data + 4 * i, 4);
            if (cp > 0x10ffff)
                return UW_ERR_STRING;
        }
        if (cp >= 0xd800 && cp <= 0xdfff)
            cp = 0xfffd; /* lone surrogate: not encodable in UTF-8 */
        else if (cp == 0)
            cp = 0xfffd; /* U+0000 would end the C string: the rest of the name, silently */
        if (cap - o < 5)
            return UW_ERR_INVALID_ARG;
        o += uw_utf8_put(out + o, cp);
    }
    out[o] = '\0';
    if (out_len != NULL)
        *out_len = o;
    return 0;
}

int uw__pystr_read(uw_reader *r, const uw_layout *l, uint64_t addr, char *out, size_t cap,
                   int *truncated)
{
    uint8_t hdr[UW_PYSTR_HEAD];
    uint8_t data[4 * UW_LIMIT_STRING_CHARS];
    uw_pystr_header h;
    size_t n;
    int rc;

    if (r == NULL || l == NULL || out == NULL || cap < UW_PYSTR_MAX_UTF8)
        return UW_ERR_INVALID_ARG;
    UW_ASSERT((size_t)l->unicode_ascii_data <= sizeof hdr); /* checked at attach */
    out[0] = '\0';
    if (truncated != NULL)
        *truncated = 0;
    /* Length and state sit in the ASCII header, which every str has; a
     * short ASCII string may end before a compact header would. */
    rc = uw_read(r, addr, hdr, (size_t)l->unicode_ascii_data);
    if (rc != 0)
        return rc;
    rc = uw__pystr_parse_header(l, hdr, (size_t)l->unicode_ascii_data, &h);
    if (rc != 0)
        return rc;
    n = (size_t)h.length;
    if (n > UW_LIMIT_STRING_CHARS) {
        n = UW_LIMIT_STRING_CHARS;
        if (truncated != NULL)
            *truncated = 1;
    }
    rc = uw_read(r, addr + h.data_off, data, n * h.kind);
    if (rc != 0)
        return rc;
    return uw__pystr_to_utf8(data, n, h.kind, h.ascii, out, cap, NULL);
}
