/*
 * pprof.c — a profile as pprof's profile.proto, gzipped (profile_io.h).
 *
 * The message is built with the code protoc-c generates from
 * src/profile/profile.proto at build time, packed by libprotobuf-c and
 * compressed by zlib into a gzip stream.  The profile's string ids are the
 * string table's indices (both start with ""); display names of markers,
 * label keys and comments follow them.  Each frame is one Location with
 * one Line; Functions are shared by frames of the same name and file.
 * Samples list locations innermost first, with the labels thread_id (num),
 * thread_name and task_name (str).  Without protobuf-c or zlib the writer
 * is built as a stub that returns UW_ERR_NOT_BUILT.
 */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "json_str.h"
#include "tornstack/error.h"
#include "tornstack/profile_io.h"

#ifndef TORNSTACK_HAVE_PPROF

int uw_write_pprof(FILE *out, const uw_profile *p)
{
    (void)out;
    (void)p;
    return UW_ERR_NOT_BUILT;
}

#else

#include <zlib.h>

#include "profile.pb-c.h"

typedef Perftools__Profiles__Profile pb_profile;
typedef Perftools__Profiles__Sample pb_sample;
typedef Perftools__Profiles__Label pb_label;
typedef Perftools__Profiles__Location pb_location;
typedef Perftools__Profiles__Line pb_line;
typedef Perftools__Profiles__Function pb_function;
typedef Perftools__Profiles__Mapping pb_mapping;
typedef Perftools__Profiles__ValueType pb_value_type;

/* Everything the message points at, freed together. */
typedef struct uw_pp {
    const uw_profile *p;
    char **strings; /* the profile's strings, then the extra ones (owned) */
    size_t n_strings, cap_strings;
    unsigned char *repaired; /* the profile's strings replaced by a repaired (owned) copy */
    uw_hindex fn_index;
    pb_function *functions, **function_ptrs;
    size_t n_functions;
    pb_location *locations, **location_ptrs;
    pb_line *lines, **line_ptrs;
    pb_sample *samples, **sample_ptrs;
    uint64_t *location_ids;
    int64_t *values;
    pb_label *labels, **label_ptrs;
    int64_t *comments;
    size_t n_comments, cap_comments;
} uw_pp;

/* Add an extra string (owned copy); returns its index or -1. */
static int64_t uw_pp_string(uw_pp *pp, const char *s)
{
    char *copy;
    int nomem;

    if (pp->n_strings == pp->cap_strings) {
        size_t cap = pp->cap_strings ? 2 * pp->cap_strings : 64;
        char **a = realloc(pp->strings, cap * sizeof *a);
        if (a == NULL)
            return -1;
        pp->strings = a;
        pp->cap_strings = cap;
    }
    copy = uw_utf8_repaired(s, &nomem); /* a title cut mid-character, say */
    if (copy == NULL && !nomem)
        copy = strdup(s);
    if (copy == NULL)
        return -1;
    pp->strings[pp->n_strings] = copy;
    return (int64_t)pp->n_strings++;
}

static int uw_pp_comment(uw_pp *pp, const char *s)
{
    int64_t id = uw_pp_string(pp, s);

    if (id < 0)
        return UW_ERR_NOMEM;
    if (pp->n_comments == pp->cap_comments) {
        size_t cap = pp->cap_comments ? 2 * pp->cap_comments : 16;
        int64_t *a = realloc(pp->comments, cap * sizeof *a);
        if (a == NULL)
            return UW_ERR_NOMEM;
        pp->comments = a;
        pp->cap_comments = cap;
    }
    pp->comments[pp->n_comments++] = id;
    return 0;
}

typedef struct uw_pp_fn_key {
    int64_t name, file;
} uw_pp_fn_key;

static int uw_pp_fn_eq(const void *ctx, uint32_t id, const void *key)
{
    const uw_pp *pp = ctx;
    const uw_pp_fn_key *k = key;
    return pp->functions[id].name == k->name && pp->functions[id].filename == k->file;
}

/* One Function per distinct (name, file), one Location and Line per
 * frame: location id = frame id + 1. */
static int uw_pp_locations(uw_pp *pp, char *label)
{
    const uw_profile *p = pp->p;
    uint32_t i, fid;
    int rc;

    pp->functions = calloc((size_t)p->n_frames + 1, sizeof *pp->functions);
    pp->function_ptrs = calloc((size_t)p->n_frames + 1, sizeof *pp->function_ptrs);
    pp->locations = calloc((size_t)p->n_frames + 1, sizeof *pp->locations);
    pp->location_ptrs = calloc((size_t)p->n_frames + 1, sizeof *pp->location_ptrs);
    pp->lines = calloc((size_t)p->n_frames + 1, sizeof *pp->lines);
    pp->line_ptrs = calloc((size_t)p->n_frames + 1, sizeof *pp->line_ptrs);
    if (pp->functions == NULL || pp->function_ptrs == NULL || pp->locations == NULL ||
        pp->location_ptrs == NULL || pp->lines == NULL || pp->line_ptrs == NULL)
        return UW_ERR_NOMEM;
    for (i = 0; i < p->n_frames; i++) {
        const uw_pframe *f = &p->frames[i];
        uw_pp_fn_key key;
        uint64_t h;
        if (f->kind == UW_PFRAME_PYTHON) {
            key.name = f->name;
            key.file = f->file;
        } else {
            uw_profile_frame_display(p, i, label, UW_LABEL_MAX);
            key.name = uw_pp_string(pp, label);
            key.file = 0;
            if (key.name < 0)
                return UW_ERR_NOMEM;
        }
        h = uw_hash_mix((uint64_t)key.name, (uint64_t)key.file);
        if (!uw_hindex_find(&pp->fn_index, h, uw_pp_fn_eq, pp, &key, &fid)) {
            pb_function *fn = &pp->functions[pp->n_functions];
            perftools__profiles__function__init(fn);
            fn->id = pp->n_functions + 1;
            fn->name = key.name;
            fn->system_name = key.name;
            fn->filename = key.file;
            fid = (uint32_t)pp->n_functions;
            rc = uw_hindex_add(&pp->fn_index, h, fid);
            if (rc != 0)
                return rc;
            pp->function_ptrs[pp->n_functions++] = fn;
        }
        perftools__profiles__line__init(&pp->lines[i]);
        pp->lines[i].function_id = (uint64_t)fid + 1;
        pp->lines[i].line = f->kind == UW_PFRAME_PYTHON && f->line > 0 ? f->line : 0;
        pp->line_ptrs[i] = &pp->lines[i];
        perftools__profiles__location__init(&pp->locations[i]);
        pp->locations[i].id = (uint64_t)i + 1;
        pp->locations[i].mapping_id = 1;
        pp->locations[i].n_line = 1;
        pp->locations[i].line = &pp->line_ptrs[i];
        pp->location_ptrs[i] = &pp->locations[i];
    }
    return 0;
}

/* Samples: locations innermost first, one value, up to three labels. */
static int uw_pp_samples(uw_pp *pp, int64_t k_tid, int64_t k_tname, int64_t k_task)
{
    const uw_profile *p = pp->p;
    size_t nl = 0;
    uint32_t i, j;

    pp->samples = calloc((size_t)p->n_stacks + 1, sizeof *pp->samples);
    pp->sample_ptrs = calloc((size_t)p->n_stacks + 1, sizeof *pp->sample_ptrs);
    pp->location_ids = calloc(p->n_items + 1, sizeof *pp->location_ids);
    pp->values = calloc((size_t)p->n_stacks + 1, sizeof *pp->values);
    pp->labels = calloc(3 * (size_t)p->n_stacks + 1, sizeof *pp->labels);
    pp->label_ptrs = calloc(3 * (size_t)p->n_stacks + 1, sizeof *pp->label_ptrs);
    if (pp->samples == NULL || pp->sample_ptrs == NULL || pp->location_ids == NULL ||
        pp->values == NULL || pp->labels == NULL || pp->label_ptrs == NULL)
        return UW_ERR_NOMEM;
    for (i = 0; i < p->n_stacks; i++) {
        const uw_pstack *st = &p->stacks[i];
        pb_sample *s = &pp->samples[i];
        size_t first = nl;
        perftools__profiles__sample__init(s);
        for (j = 0; j < st->n; j++)
            pp->location_ids[st->first + j] = (uint64_t)p->items[st->first + st->n - 1 - j] + 1;
        s->n_location_id = st->n;
        s->location_id = &pp->location_ids[st->first];
        pp->values[i] = (int64_t)st->count;
        s->n_value = 1;
        s->value = &pp->values[i];
        if (st->labels.thread_id != 0) {
            perftools__profiles__label__init(&pp->labels[nl]);
            pp->labels[nl].key = k_tid;
            pp->labels[nl].num = (int64_t)st->labels.thread_id;
            nl++;
        }
        if (st->labels.thread_name != UW_PSTR_EMPTY) {
            perftools__profiles__label__init(&pp->labels[nl]);
            pp->labels[nl].key = k_tname;
            pp->labels[nl].str = st->labels.thread_name;
            nl++;
        }
        if (st->labels.task_name != UW_PSTR_NONE) {
            perftools__profiles__label__init(&pp->labels[nl]);
            pp->labels[nl].key = k_task;
            pp->labels[nl].str = st->labels.task_name;
            nl++;
        }
        for (j = (uint32_t)first; j < nl; j++)
            pp->label_ptrs[j] = &pp->labels[j];
        s->n_label = nl - first;
        s->label = &pp->label_ptrs[first];
        pp->sample_ptrs[i] = s;
    }
    return 0;
}

/* The comments: version and title, sample counts, skips by reason. */
static int uw_pp_comments(uw_pp *pp)
{
    const uw_profile *p = pp->p;
    char line[512];
    int r, rc;

    snprintf(line, sizeof line, "tornstack %s: %s", TORNSTACK_VERSION,
             p->title[0] ? p->title : "profile");
    rc = uw_pp_comment(pp, line);
    snprintf(line, sizeof line,
             "samples: %" PRIu64 " (%" PRIu64 " failed), stacks: %" PRIu64
             ", stacks skipped: %" PRIu64,
             p->samples, p->failed, p->total, uw_profile_skipped_stacks(p));
    if (rc == 0)
        rc = uw_pp_comment(pp, line);
    for (r = 1; r < UW_REASON_SLOTS && rc == 0; r++) {
        static const char *const what[3] = {"stacks", "tasks", "threads"};
        const uint64_t *arr[3] = {p->stack_skips, p->task_skips, p->thread_skips};
        int k;
        for (k = 0; k < 3 && rc == 0; k++) {
            if (arr[k][r] == 0)
                continue;
            snprintf(line, sizeof line, "skipped %s %s: %" PRIu64, what[k], uw_errname(-r),
                     arr[k][r]);
            rc = uw_pp_comment(pp, line);
        }
    }
    return rc;
}

/* Compress buf into out as one gzip member. */
static int uw_pp_gzip(FILE *out, const uint8_t *buf, size_t len)
{
    unsigned char chunk[65536];
    z_stream z;
    int zr;

    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return UW_ERR_NOMEM;
    z.next_in = (Bytef *)(uintptr_t)buf;
    do {
        size_t take = len > 1u << 30 ? 1u << 30 : len;
        z.avail_in = (uInt)take;
        len -= take;
        do {
            z.next_out = chunk;
            z.avail_out = sizeof chunk;
            zr = deflate(&z, len == 0 ? Z_FINISH : Z_NO_FLUSH);
            if (zr == Z_STREAM_ERROR) {
                deflateEnd(&z);
                return UW_ERR_IO;
            }
            fwrite(chunk, 1, sizeof chunk - z.avail_out, out);
        } while (z.avail_out == 0);
    } while (len > 0);
    deflateEnd(&z);
    return zr == Z_STREAM_END && !ferror(out) ? 0 : UW_ERR_IO;
}

static void uw_pp_free(uw_pp *pp)
{
    size_t i;

    for (i = pp->p->n_strings; i < pp->n_strings; i++)
        free(pp->strings[i]);
    for (i = 0; pp->repaired != NULL && i < pp->p->n_strings; i++)
        if (pp->repaired[i])
            free(pp->strings[i]);
    free(pp->repaired);
    free(pp->strings);
    uw_hindex_free(&pp->fn_index);
    free(pp->functions);
    free(pp->function_ptrs);
    free(pp->locations);
    free(pp->location_ptrs);
    free(pp->lines);
    free(pp->line_ptrs);
    free(pp->samples);
    free(pp->sample_ptrs);
    free(pp->location_ids);
    free(pp->values);
    free(pp->labels);
    free(pp->label_ptrs);
    free(pp->comments);
}

int uw_write_pprof(FILE *out, const uw_profile *p)
{
    uw_pp pp;
    pb_profile msg = PERFTOOLS__PROFILES__PROFILE__INIT;
    pb_value_type st = PERFTOOLS__PROFILES__VALUE_TYPE__INIT;
    pb_value_type pt = PERFTOOLS__PROFILES__VALUE_TYPE__INIT;
    pb_value_type *st_ptr = &st;
    pb_mapping map = PERFTOOLS__PROFILES__MAPPING__INIT;
    pb_mapping *map_ptr = &map;
    int64_t k_samples, k_count, k_tid, k_tname, k_task, k_wall, k_ns, k_python;
    char *label = malloc(UW_LABEL_MAX);
    uint8_t *buf = NULL;
    size_t len;
    uint32_t i;
    int rc = 0;

    memset(&pp, 0, sizeof pp);
    pp.p = p;
    uw_hindex_init(&pp.fn_index);
    pp.strings = malloc(((size_t)p->n_strings + 64) * sizeof *pp.strings);
    if (label == NULL || pp.strings == NULL) {
        rc = UW_ERR_NOMEM;
        goto out;
    }
    pp.n_strings = p->n_strings;
    pp.repaired = calloc((size_t)p->n_strings + 1, 1);
    if (pp.repaired == NULL) {
        rc = UW_ERR_NOMEM;
        goto out;
    }
    /* borrowed, not freed by uw_pp_free; but proto3 strings must be
     * UTF-8, and a folded file read back may hold any bytes (or a thread
     * name cut mid-character): those get a repaired copy of their own */
    for (i = 0; i < p->n_strings; i++) {
        int nomem;
        char *fixed = uw_utf8_repaired(p->strings[i], &nomem);
        if (nomem) {
            rc = UW_ERR_NOMEM;
            goto out;
        }
        pp.strings[i] = fixed != NULL ? fixed : p->strings[i];
        pp.repaired[i] = fixed != NULL;
    }
    pp.cap_strings = (size_t)p->n_strings + 64;
    k_samples = uw_pp_string(&pp, "samples");
    k_count = uw_pp_string(&pp, "count");
    k_tid = uw_pp_string(&pp, "thread_id");
    k_tname = uw_pp_string(&pp, "thread_name");
    k_task = uw_pp_string(&pp, "task_name");
    k_wall = uw_pp_string(&pp, "wall");
    k_ns = uw_pp_string(&pp, "nanoseconds");
    k_python = uw_pp_string(&pp, "python");
    if (k_samples < 0 || k_count < 0 || k_tid < 0 || k_tname < 0 || k_task < 0 || k_wall < 0 ||
        k_ns < 0 || k_python < 0) {
        rc = UW_ERR_NOMEM;
        goto out;
    }
    rc = uw_pp_locations(&pp, label);
    if (rc == 0)
        rc = uw_pp_samples(&pp, k_tid, k_tname, k_task);
    if (rc == 0)
        rc = uw_pp_comments(&pp);
    if (rc != 0)
        goto out;
    st.type = k_samples;
    st.unit = k_count;
    msg.n_sample_type = 1;
    msg.sample_type = &st_ptr;
    msg.default_sample_type = k_samples;
    map.id = 1;
    map.filename = k_python;
    map.has_functions = 1;
    map.has_filenames = 1;
    map.has_line_numbers = 1;
    msg.n_mapping = 1;
    msg.mapping = &map_ptr;
    msg.n_sample = p->n_stacks;
    msg.sample = pp.sample_ptrs;
    msg.n_location = p->n_frames;
    msg.location = pp.location_ptrs;
    msg.n_function = pp.n_functions;
    msg.function = pp.function_ptrs;
    msg.n_string_table = pp.n_strings;
    msg.string_table = pp.strings;
    msg.n_comment = pp.n_comments;
    msg.comment = pp.comments;
    msg.time_nanos = p->start_ns;
    msg.duration_nanos = (int64_t)(p->duration_s * 1e9);
    if (p->rate_hz > 0) {
        pt.type = k_wall;
        pt.unit = k_ns;
        msg.period_type = &pt;
        msg.period = (int64_t)(1e9 / p->rate_hz);
    }
    len = perftools__profiles__profile__get_packed_size(&msg);
    buf = malloc(len + 1);
    if (buf == NULL) {
        rc = UW_ERR_NOMEM;
        goto out;
    }
    if (perftools__profiles__profile__pack(&msg, buf) != len) {
        rc = UW_ERR_IO;
        goto out;
    }
    rc = uw_pp_gzip(out, buf, len);
out:
    free(buf);
    free(label);
    uw_pp_free(&pp);
    return rc;
}

#endif /* TORNSTACK_HAVE_PPROF */
