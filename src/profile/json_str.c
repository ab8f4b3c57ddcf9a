/*
 * json_str.c — strings of a profile as JSON string literals.
 *
 * Names from a target are valid UTF-8 (pystr.c), but a folded file read
 * back may hold any bytes, so invalid UTF-8 becomes U+FFFD here and every
 * JSON file the writers make parses.  For JSON embedded in HTML, '<', '>'
 * and '&' are escaped too, so no name can close the script element.
 */
#include "json_str.h"

#include <stdlib.h>
#include <string.h>

/* Length of the valid UTF-8 sequence at s (1-4), or 0 when invalid. */
static size_t uw_utf8_seq(const unsigned char *s, size_t left)
{
    unsigned c = s[0];
    size_t n, i;
    unsigned cp;

    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        n = 2, cp = c & 0x1f;
    else if (c >= 0xe0 && c <= 0xef)
        n = 3, cp = c & 0x0f;
    else if (c >= 0xf0 && c <= 0xf4)
        n = 4, cp = c & 0x07;
    else
        return 0;
    if (left < n)
        return 0;
    for (i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3fu);
    }
    if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return n;
}

void uw_json_str(FILE *out, const char *str, int html)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t left = strlen(str);

    fputc('"', out);
    while (left > 0) {
        unsigned c = *s;
        size_t k;
        if (c == '"' || c == '\\') {
            fputc('\\', out);
            fputc((int)c, out);
        } else if (c == '\n') {
            fputs("\\n", out);
        } else if (c < 0x20 || c == 0x7f || (html && (c == '<' || c == '>' || c == '&'))) {
            fprintf(out, "\\u%04x", c);
        } else if (c < 0x80) {
            fputc((int)c, out);
        } else if ((k = uw_utf8_seq(s, left)) == 0) {
            fputs("\\ufffd", out);
        } else {
            fwrite(s, 1, k, out);
            s += k - 1;
            left -= k - 1;
        }
        s++;
        left--;
    }
    fputc('"', out);
}

char *uw_utf8_repaired(const char *str, int *nomem)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t len = strlen(str), left = len, k, o = 0;
    char *out;

    *nomem = 0;
    while (left > 0 && (k = uw_utf8_seq(s, left)) != 0) {
        s += k;
        left -= k;
    }
    if (left == 0)
        return NULL;           /* valid: nothing to copy */
    out = malloc(3 * len + 1); /* each byte at most U+FFFD's three */
    if (out == NULL) {
        *nomem = 1;
        return NULL;
    }
    s = (const unsigned char *)str;
    left = len;
    while (left > 0) {
        if ((k = uw_utf8_seq(s, left)) == 0) {
            memcpy(out + o, "\xef\xbf\xbd", 3);
            o += 3;
            k = 1;
        } else {
            memcpy(out + o, s, k);
            o += k;
        }
        s += k;
        left -= k;
    }
    out[o] = '\0';
    return out;
}
