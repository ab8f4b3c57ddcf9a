/*
 * oracle_internal.h — what the oracle's files share: one check's state,
 * the truth of a Task as an entry would state it, and the instants at
 * which to look.
 */
#ifndef TORNSTACK_MM_ORACLE_INTERNAL_H
#define TORNSTACK_MM_ORACLE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "oracle.h"
#include "tornstack/compose.h"

#define MM_OE_AWAIT 64 /* Tasks one truth entry awaits, at most */
/* Tasks that held one address in a window, at most (mm_world_ids_at_addr
 * asserts it): a busy server model reused one Task address 35 times in a
 * long bounded-model window, past the 16 this was, and the entry of the
 * last of them was judged against the first 16 (a false leak). */
#define MM_OE_IDS 1024
#define MM_OE_CHAIN 250  /* ancestors of one composed stack (UW_LIMIT_LINK_CHAIN) */
#define MM_OE_STACK 4096 /* frames of one composed stack, at most */

typedef struct mm_addr_idx {
    uint64_t addr;
    size_t idx;
} mm_addr_idx;

typedef struct mm_owner {
    uint64_t addr;
    int32_t owner; /* Task id or MM_LOOP */
} mm_owner;

/* 3.14+: a sample Task (index idx, truth id child) whose task_awaited_by
 * named Task `parent` at some instant of the window. */
typedef struct mm_abpair {
    int32_t parent, child;
    size_t idx;
} mm_abpair;

/* One check. */
typedef struct mm_oq {
    const uw_sample *s;
    const mm_oracle_ctx *c;
    mm_verdict *v;
    const mm_world *w;
    uint64_t t0, t1;
    mm_addr_idx *by_addr; /* the sample's Tasks, by address */
    size_t n_by;
    mm_owner *owners; /* every frame's owners over the window, on demand */
    size_t n_owners, cap_owners;
    int owners_built;
    uint64_t *inst; /* instants being tried */
    size_t n_inst, cap_inst;
    mm_abpair *ab; /* 3.14+: awaiters in memory, sorted by parent */
    size_t n_ab;
    int bad;
} mm_oq;

/* A Task's truth at one instant, as its entry should state it. */
typedef struct mm_tentry {
    int32_t id;
    uint64_t addr, coro, code;
    const char *name;
    int running;
    uint64_t tstate;
    int n_frames;
    mm_tframe f[MM_MAX_STACK]; /* innermost first */
    int n_await;
    uint64_t await[MM_OE_AWAIT];
    int gather_cut; /* a gather bound cut the list (gather_limit due) */
    uint64_t awaited_by, linked_to, created_by, parent; /* addresses, 0 none */
    int32_t parent_id;
} mm_tentry;

/* Fields of an entry (mm_entry_diff's bits). */
enum {
    MM_F_ADDR = 1 << 0,
    MM_F_NAME = 1 << 1,
    MM_F_CORO = 1 << 2,
    MM_F_RUNNING = 1 << 3,
    MM_F_THREAD = 1 << 4,
    MM_F_FRAMES = 1 << 5,
    MM_F_AWAITING = 1 << 6,
    MM_F_AWAITED_BY = 1 << 7,
    MM_F_LINKED_TO = 1 << 8,
    MM_F_CREATED_BY = 1 << 9,
    MM_F_PARENT = 1 << 10,
};

/* oracle.c */
void mm_violation(mm_oq *q, int kind, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int mm_present(const mm_oq *q, uint64_t addr);
int64_t mm_sample_index(const mm_oq *q, uint64_t addr);
int mm_loop_of_tstate(const mm_oq *q, uint64_t tstate);
/* More threads run a loop than the unwinder keeps epochs for
 * (UW_EPOCH_THREADS)? */
int mm_loops_past_epochs(const mm_oq *q);
void mm_inst_reset(mm_oq *q);
void mm_inst_add_task(mm_oq *q, int32_t id);
void mm_inst_add_loop(mm_oq *q, int loop);
void mm_inst_done(mm_oq *q);
size_t mm_frames_str(const uw_sample *s, size_t first, size_t n, char *out, size_t cap);

/* oracle_entry.c */
/* 3.14+: every (awaiter, sample Task) pair task_awaited_by named during
 * the window, into q->ab (nothing before 3.14). */
void mm_ab_build(mm_oq *q);
int mm_truth_entry(const mm_oq *q, int32_t id, uint64_t t, mm_tentry *e);
/* Does a Task alive at t await a gather list a bound cuts? */
int mm_gather_cut_any(const mm_oq *q, uint64_t t);
void mm_check_entry(mm_oq *q, size_t i);

/* oracle_thread.c */
void mm_check_threads(mm_oq *q);

/* oracle_stack.c */
void mm_check_stacks(mm_oq *q);
void mm_check_pure(mm_oq *q);

#endif
