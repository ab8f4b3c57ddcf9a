/*
 * fuzz_folded — the folded reader on arbitrary bytes, then every writer.
 *
 * `tornstack convert` reads folded files from anywhere, so the reader must
 * refuse or accept any bytes without crashing, and whatever it accepts
 * must write back as folded text that reads to the same profile: the
 * folded text written, read again and written again is byte for byte the
 * same (the escaping round trip).  The speedscope, HTML and pprof writers
 * run on every accepted profile too.  Small profile bounds (fields of the
 * profile) let the fuzzer reach each of them.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "tornstack/error.h"
#include "tornstack/profile_io.h"

static uint64_t fz_h;

uint64_t fz_verdict(void)
{
    return fz_h;
}

/* p written in format f into a fresh buffer (the caller frees it). */
static char *fz_write(const uw_profile *p, uw_profile_format f, size_t *len, int *rc)
{
    char *buf = NULL;
    FILE *out = open_memstream(&buf, len);

    if (out == NULL)
        abort();
    *rc = uw_write_profile(out, p, f);
    if (fclose(out) != 0)
        abort();
    return buf;
}

static int fz_read(const char *text, size_t len, uw_profile *p, const uw_folded_read_options *o)
{
    FILE *in;
    int rc;

    if (uw_profile_init(p) != 0)
        abort();
    p->max_stacks = 64;
    p->max_frames = 128;
    p->max_items = 1024;
    if (len == 0)
        return 0; /* fmemopen refuses an empty buffer: an empty file is empty */
    in = fmemopen((void *)(uintptr_t)text, len, "r");
    if (in == NULL)
        abort();
    rc = uw_folded_read(in, p, o, NULL);
    fclose(in);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uw_folded_read_options o;
    uw_profile p, q;
    char *a, *b, *other;
    size_t la, lb, lo;
    int rc, rc2, f;

    fz_h = FZ_SEED;
    uw_folded_read_options_default(&o);
    if (size > 0) { /* the first byte chooses which markers to keep */
        o.task_frames = data[0] & 1;
        o.thread_frames = (data[0] >> 1) & 1;
        data++;
        size--;
    }
    rc = fz_read((const char *)data, size, &p, &o);
    fz_h = fz_mix(fz_h, (uint64_t)(int64_t)rc);
    if (rc == 0) {
        fz_h = fz_mix(fz_h, p.n_stacks);
        fz_h = fz_mix(fz_h, p.total);
        a = fz_write(&p, UW_FORMAT_FOLDED, &la, &rc2);
        if (rc2 != 0)
            abort();
        rc2 = fz_read(a, la, &q, NULL);
        if (rc2 != 0 || q.total != p.total)
            abort(); /* what the writer wrote must read back whole */
        b = fz_write(&q, UW_FORMAT_FOLDED, &lb, &rc2);
        if (rc2 != 0 || la != lb || memcmp(a, b, la) != 0)
            abort(); /* and write the same bytes again */
        for (f = UW_FORMAT_SPEEDSCOPE; f <= UW_FORMAT_HTML; f++) {
            other = fz_write(&p, (uw_profile_format)f, &lo, &rc2);
            if (rc2 != 0 && rc2 != UW_ERR_NOT_BUILT)
                abort();
            fz_h = fz_mix(fz_h, lo);
            free(other);
        }
        free(a);
        free(b);
        uw_profile_free(&q);
    }
    uw_profile_free(&p);
    return 0;
}
