/*
 * profile.h — composed stacks aggregated into a profile.
 *
 * A recording is many samples; a user looks at the stacks they held and how
 * often each was seen.  The profile keeps each distinct stack once with its
 * count, found by content through a hash index, so adding a stack costs
 * O(its length) whatever the profile holds.  Strings and frames are interned
 * too: a frame is (name, file, line, kind), where kind tells a Python frame
 * from the Task and thread markers of uw_compose.  Each stack carries
 * labels: the native id and name of its thread and the name of its leaf
 * Task, so the formats that have labels (pprof) keep them even when markers
 * are switched off.
 *
 * The profile only ever receives stacks built by uw_compose (from samples)
 * or read back from a folded file that uw_write_folded wrote, so every
 * format shows the stacks the oracle judges.
 *
 * Bounds: UW_LIMIT_PROFILE_STACKS, _FRAMES and _ITEMS (a stack past one is
 * dropped and counted in stack_skips under that reason), and counts up to
 * UW_LIMIT_PROFILE_COUNT.  The limits are fields so that tests can exercise
 * them at small sizes; uw_profile_init sets the named constants.
 */
#ifndef TORNSTACK_PROFILE_H
#define TORNSTACK_PROFILE_H

#include <stddef.h>
#include <stdint.h>

#include "tornstack/compose.h"
#include "tornstack/hindex.h"
#include "tornstack/sample.h"

typedef enum uw_pframe_kind {
    UW_PFRAME_PYTHON = 0, /* name = qualname, file, line (-1: unknown) */
    UW_PFRAME_TASK = 1,   /* name = the Task's name; no file; line 0 */
    UW_PFRAME_THREAD = 2, /* name = the thread's name ("" unknown); line = native id */
} uw_pframe_kind;

typedef struct uw_pframe {
    uint32_t name, file; /* string ids */
    int64_t line;
    uw_pframe_kind kind;
} uw_pframe;

/* String id 0 is always "". */
#define UW_PSTR_EMPTY 0u
/* task_name of a stack that belongs to no Task (a thread's own stack). */
#define UW_PSTR_NONE UINT32_MAX

typedef struct uw_plabels {
    uint64_t thread_id;   /* native id, 0 when unknown */
    uint32_t thread_name; /* string id */
    uint32_t task_name;   /* string id of the leaf Task's name, or UW_PSTR_NONE */
} uw_plabels;

typedef struct uw_pstack {
    uint64_t count;
    uint64_t hash;
    size_t first; /* frame ids in items[first .. first + n), root first */
    uint32_t n;
    uw_plabels labels;
} uw_pstack;

typedef struct uw_profile {
    char **strings;
    uint32_t *string_len;
    uint32_t n_strings, cap_strings;
    uw_hindex string_index;

    uw_pframe *frames;
    uint32_t n_frames, cap_frames;
    uw_hindex frame_index;

    uint32_t *items;
    size_t n_items, cap_items;
    uw_pstack *stacks;
    uint32_t n_stacks, cap_stacks;
    uw_hindex stack_index;

    uint64_t total;                           /* sum of the stacks' counts */
    uint64_t samples;                         /* samples taken (record, dump) */
    uint64_t failed;                          /* samples that failed to read */
    uint64_t stack_skips[UW_REASON_SLOTS];    /* stacks not given, per reason */
    uint64_t task_skips[UW_REASON_SLOTS];     /* Tasks skipped in samples, per reason */
    uint64_t thread_skips[UW_REASON_SLOTS];   /* threads all of whose Tasks were skipped */
    uint64_t task_recovered[UW_REASON_SLOTS]; /* Tasks kept after a re-read, per the reason
                                               * they would have been skipped for */

    /* what the profile is of (writers put it in titles and comments) */
    char title[256];
    double rate_hz;    /* sampling rate, 0 when unknown (a converted file) */
    double duration_s; /* wall time recorded, 0 when unknown */
    int64_t start_ns;  /* wall clock at the start (Unix ns), 0 when unknown */

    uint32_t max_stacks, max_frames; /* UW_LIMIT_PROFILE_STACKS, _FRAMES */
    size_t max_items;                /* UW_LIMIT_PROFILE_ITEMS */

    uint32_t *scratch;         /* UW_LIMIT_STACK_ITEMS frame ids for add_sample */
    const char **thread_names; /* per thread of the sample being added */
    size_t cap_thread_names;
    /* add_sample's memos: a Python frame's id by (code entry, its serial,
     * line), direct-mapped (UW_PROFILE_MEMO entries); each thread's name id
     * and each Task's name id in the sample being added (UINT32_MAX: not
     * yet) */
    struct uw_pframe_memo *memo;
    uint32_t last_stack[256]; /* per label hash: the stack last added + 1 */
    uint32_t *thread_name_ids;
    uint32_t *task_name_ids;
    size_t cap_task_name_ids;
} uw_profile;

int uw_profile_init(uw_profile *p);
void uw_profile_free(uw_profile *p);

/* The id of string s[0..len) (added if new).  Returns 0, UW_ERR_NOMEM or
 * UW_ERR_LIMIT_PROFILE_STRINGS (2 * max_frames + 2 * max_stacks + 1). */
int uw_profile_intern(uw_profile *p, const char *s, size_t len, uint32_t *id);
static inline const char *uw_profile_str(const uw_profile *p, uint32_t id)
{
    return id < p->n_strings ? p->strings[id] : "";
}

/* The id of frame f (added if new): 0, UW_ERR_NOMEM, UW_ERR_INVALID_ARG or
 * UW_ERR_LIMIT_PROFILE_FRAMES. */
int uw_profile_frame(uw_profile *p, const uw_pframe *f, uint32_t *id);

/* Add `count` to the stack frames[0..n) (root first) with `labels`; a
 * stack with no frame or a count of 0 adds nothing.
 * Returns 0, UW_ERR_NOMEM, UW_ERR_INVALID_ARG, UW_ERR_LIMIT_COUNT, or a
 * profile bound (the stack is dropped; the caller counts it). */
int uw_profile_add(uw_profile *p, const uint32_t *frames, uint32_t n, const uw_plabels *labels,
                   uint64_t count);

/* The name of thread `native_id` (e.g. /proc/PID/task/TID/comm), or NULL
 * when unknown.  Valid until the next call. */
typedef const char *(*uw_thread_name_fn)(void *ctx, uint64_t native_id);

/* One sample: every stack uw_compose(s, o) gives, counted once; the
 * sample's Task and thread skips, and the stacks compose could not trust
 * or the profile could not hold, per reason.  names may be NULL.  Returns
 * 0 or UW_ERR_NOMEM (a bound is counted, not returned). */
int uw_profile_add_sample(uw_profile *p, const uw_sample *s, const uw_compose_options *o,
                          uw_thread_name_fn names, void *names_ctx);

/* Sum of stack_skips over every reason. */
uint64_t uw_profile_skipped_stacks(const uw_profile *p);

#endif /* TORNSTACK_PROFILE_H */
