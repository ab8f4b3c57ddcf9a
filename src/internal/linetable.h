/*
 * linetable.h — decode CPython 3.11+ location tables (co_linetable, PEP 626/657).
 *
 * Entry format (same in 3.11, 3.12, 3.13): a first byte with bit 7 set,
 * code = bits 3..6, length = bits 0..2 plus one (in code units); then
 *   code 15: no location, nothing follows;
 *   code 14: long form: svarint line delta, varint end-line delta, varint
 *            column+1, varint end-column+1;
 *   code 13: no columns: svarint line delta;
 *   code 10..12: one-line form: line += code-10, then column and end column
 *            bytes;
 *   code 0..9: short form: line unchanged, one column byte.
 * varints are 6-bit groups, little-endian, bit 6 = "more"; a signed varint
 * keeps the sign in bit 0.  Lines start at co_firstlineno.
 */
#ifndef TORNSTACK_LINETABLE_H
#define TORNSTACK_LINETABLE_H

#include <stddef.h>
#include <stdint.h>

/* Line of the code unit with index `index` (instruction offset / 2).
 * *line is -1 when the table gives that unit no location or does not cover
 * it.  Returns 0, UW_ERR_LINETABLE (malformed: continuation byte where an
 * entry must start, varint overflow, entry running past the end, line out
 * of int range) or UW_ERR_LIMIT_LINETABLE (len above the bound). */
int uw__linetable_line(const uint8_t *tab, size_t len, int firstlineno, int64_t index, int *line);

#endif /* TORNSTACK_LINETABLE_H */
