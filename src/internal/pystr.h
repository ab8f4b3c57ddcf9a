/*
 * pystr.h — turn a CPython str object read from a target into UTF-8.
 *
 * Only compact strings are accepted (every str CPython creates for names
 * and file names is compact: ASCII data right after PyASCIIObject, other
 * kinds right after PyCompactUnicodeObject).  Kinds 1, 2 and 4 bytes per
 * code point are converted; lone surrogates become U+FFFD; code points
 * above U+10FFFF, ASCII strings holding bytes >= 0x80 and impossible kinds
 * are malformed.  At most UW_LIMIT_STRING_CHARS code points are kept.
 */
#ifndef TORNSTACK_PYSTR_H
#define TORNSTACK_PYSTR_H

#include <stddef.h>
#include <stdint.h>

#include "internal/layout.h"
#include "tornstack/limits.h"
#include "tornstack/reader.h"

/* Bytes of a str's header read into a local buffer by uw__pystr_read (the
 * layout check at attach proves the header fits). */
#define UW_PYSTR_HEAD 128

/* Worst case UTF-8 bytes for UW_LIMIT_STRING_CHARS code points plus NUL. */
#define UW_PYSTR_MAX_UTF8 (4 * UW_LIMIT_STRING_CHARS + 1)

typedef struct uw_pystr_header {
    int64_t length;    /* code points, as stored */
    uint32_t kind;     /* 1, 2 or 4 */
    int ascii;         /* 1 when the ASCII flag is set */
    uint32_t data_off; /* offset of the characters from the object start */
} uw_pystr_header;

/* Parse the fixed header (hdr holds at least layout->unicode_ascii_data
 * bytes of the object: length and state live there for every kind). Returns 0 or UW_ERR_STRING. */
int uw__pystr_parse_header(const uw_layout *layout, const uint8_t *hdr, size_t len,
                           uw_pystr_header *out);

/* Convert n code points of the given kind to NUL-terminated UTF-8 in out
 * (cap >= UW_PYSTR_MAX_UTF8 always suffices).  Returns 0 or UW_ERR_STRING. */
int uw__pystr_to_utf8(const uint8_t *data, size_t n, uint32_t kind, int ascii, char *out,
                      size_t cap, size_t *out_len);

/* Read the str object at addr and convert it.  *truncated is set when the
 * string had more than UW_LIMIT_STRING_CHARS code points (the prefix is
 * returned).  Returns 0, a read error, or UW_ERR_STRING. */
int uw__pystr_read(uw_reader *r, const uw_layout *layout, uint64_t addr, char *out, size_t cap,
                   int *truncated);

#endif /* TORNSTACK_PYSTR_H */
