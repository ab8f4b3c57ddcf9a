/*
 * fuzz_folded — the folded reader on arbitrary bytes, then every writer.
 *
 * `tornstack convert` reads folded files from anywhere, so the reader must
 * refuse or accept any bytes without crashing, and whatever it accepts
 * must write back as folded text that reads to the same profile: the
 * folded text written, read again and written again is byte for byte the
 * same (the escaping round trip).  The speedscope, HTML and pprof writers
 * run on every accepted profile too.  Small profile bounds (fields of the
 * profile) let the fuzzer reach each of them.  The last byte keeps Task
 * (bit 0) and thread (bit 1) frames (fuzz_data.h); the bytes before it are
 * the file.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "fuzz_data.h"
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

    FZ_ASSERT_MSG(out != NULL, "open_memstream failed");
    *rc = uw_write_profile(out, p, f);
    FZ_ASSERT_MSG(fclose(out) == 0, "writing %s to memory failed", uw_profile_format_name(f));
    return buf;
}

static int fz_read(const char *text, size_t len, uw_profile *p, const uw_folded_read_options *o)
{
    FILE *in;
    int rc;

    FZ_ASSERT_MSG(uw_profile_init(p) == 0, "out of memory");
    p->max_stacks = 64;
    p->max_frames = 128;
    p->max_items = 1024;
    if (len == 0)
        return 0; /* fmemopen refuses an empty buffer: an empty file is empty */
    in = fmemopen((void *)(uintptr_t)text, len, "r");
    FZ_ASSERT_MSG(in != NULL, "fmemopen failed");
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

    fz_data d = fz_data_of(data, size);
    const unsigned keep = (unsigned)fz_data_range(&d, 0, 3);

    fz_h = FZ_SEED;
    uw_folded_read_options_default(&o);
    o.task_frames = (int)(keep & 1);
    o.thread_frames = (int)((keep >> 1) & 1);
    rc = fz_read((const char *)d.data, d.size, &p, &o);
    fz_h = fz_mix(fz_h, (uint64_t)(int64_t)rc);
    if (rc == 0) {
        fz_h = fz_mix(fz_h, p.n_stacks);
        fz_h = fz_mix(fz_h, p.total);
        a = fz_write(&p, UW_FORMAT_FOLDED, &la, &rc2);
        FZ_ASSERT_MSG(rc2 == 0, "the folded writer refused an accepted profile: %s",
                      uw_errname(rc2));
        rc2 = fz_read(a, la, &q, NULL);
        FZ_ASSERT_MSG(rc2 == 0 && q.total == p.total,
                      "what the writer wrote does not read back whole: %s, total %llu of %llu",
                      uw_errname(rc2), (unsigned long long)q.total, (unsigned long long)p.total);
        b = fz_write(&q, UW_FORMAT_FOLDED, &lb, &rc2);
        FZ_ASSERT_MSG(rc2 == 0 && la == lb && memcmp(a, b, la) == 0,
                      "written again, the folded text differs (%zu then %zu bytes): %s", la, lb,
                      uw_errname(rc2));
        for (f = UW_FORMAT_SPEEDSCOPE; f <= UW_FORMAT_HTML; f++) {
            other = fz_write(&p, (uw_profile_format)f, &lo, &rc2);
            FZ_ASSERT_MSG(rc2 == 0 || rc2 == UW_ERR_NOT_BUILT, "the %s writer failed: %s",
                          uw_profile_format_name((uw_profile_format)f), uw_errname(rc2));
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
