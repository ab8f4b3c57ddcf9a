/*
 * group.h — a profile's stacks grouped by thread (group.c).
 */
#ifndef TORNSTACK_PROFILE_GROUP_H
#define TORNSTACK_PROFILE_GROUP_H

#include <stdint.h>

#include "tornstack/profile.h"

typedef struct uw_thread_groups {
    uint32_t n;            /* groups, one per thread id, in first-seen order */
    uint64_t *thread_id;   /* per group */
    uint32_t *thread_name; /* per group: string id of its first stack's label */
    uint64_t *total;       /* per group: sum of counts */
    uint32_t *start;       /* group g's stacks are order[start[g] .. start[g + 1]) */
    uint32_t *order;       /* stack ids */
} uw_thread_groups;

int uw_thread_groups_build(const uw_profile *p, uw_thread_groups *g);
void uw_thread_groups_free(uw_thread_groups *g);

#endif /* TORNSTACK_PROFILE_GROUP_H */
