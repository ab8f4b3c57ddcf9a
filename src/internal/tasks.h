/*
 * tasks.h (internal) — knobs of the Task walk for the model and the tests
 * only; the CLI and an embedding profiler never set them.
 */
#ifndef TORNSTACK_INTERNAL_TASKS_H
#define TORNSTACK_INTERNAL_TASKS_H

#include <stddef.h>

#include "tornstack/tasks.h"

/* Use at most n entries of the loop-epoch table (src/tasks/epoch.c), as a
 * build with UW_EPOCH_THREADS = n would (n above the bound: the bound),
 * and forget the epochs known so far.  Loop threads past n are walked
 * without a bracket and their Tasks judged as past the bound, so that the
 * model judges that path at the default bounds. */
void uw__tasks_limit_epochs(uw_tasks *t, size_t n);

#endif /* TORNSTACK_INTERNAL_TASKS_H */
