/*
 * hand_sample.h — samples built by hand for the composition and profile
 * tests: threads, Tasks and frames with names that never went through a
 * reader, so each test states exactly the sample it judges.
 */
#ifndef TORNSTACK_TEST_HAND_SAMPLE_H
#define TORNSTACK_TEST_HAND_SAMPLE_H

#include <stddef.h>
#include <stdint.h>

#include "tornstack/sample.h"

/* Code objects named by the test; kept until hs_free. */
typedef struct hand_sample {
    uw_sample s;
    uw_code_info **codes;
    size_t n_codes, cap_codes;
} hand_sample;

void hs_init(hand_sample *h);
void hs_free(hand_sample *h);

/* A thread with native id `native` and frames names[0..n) given root
 * first, file "/app/<name>.py", line 10 + position.  pure_start is set to
 * `pure_from_root` frames counted from the root (-1: no pure stack).
 * Returns the thread's index. */
size_t hs_thread(hand_sample *h, uint64_t native, const char *const *names, size_t n,
                 int64_t pure_from_root);

/* A Task on thread `th`, named `name`, with `parent` (-1 none) and its own
 * frames root first.  Frames are appended to the sample's frame array, so
 * add a thread's frames before its Tasks'.  Returns the Task's index. */
size_t hs_task(hand_sample *h, size_t th, const char *name, int64_t parent,
               const char *const *names, size_t n);

/* One frame named `name` (file "/app/<name>.py", line `line`). */
uw_frame hs_frame(hand_sample *h, const char *name, const char *file, int line);

#endif /* TORNSTACK_TEST_HAND_SAMPLE_H */
