/*
 * reader_clock.c — run clocks of a live process's threads from perf task
 * clocks (internal/reader_clock.h).
 */
#define _GNU_SOURCE
#include "internal/reader_clock.h"

#include <errno.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal/pause.h"
#include "tornstack/error.h"

uw_clocks *uw__clocks_new(pid_t pid)
{
    uw_clocks *c = calloc(1, sizeof *c);

    if (c != NULL)
        c->pid = pid;
    return c;
}

static void uw_clock_drop(uw_clock_entry *e)
{
    if (e->tid != 0)
        close(e->fd);
    memset(e, 0, sizeof *e);
}

void uw__clocks_free(uw_clocks *c)
{
    size_t i;

    if (c == NULL)
        return;
    for (i = 0; i < UW_CLOCK_THREADS; i++)
        uw_clock_drop(&c->e[i]);
    free(c);
}

void uw__clocks_begin(uw_clocks *c)
{
    if (c == NULL)
        return;
    c->sample++;
    if (c->sample == 0)
        c->sample = 1; /* 0 means "no sample begun" */
    c->opened = 0;
}

/* The entry of tid, or NULL. */
static uw_clock_entry *uw_clock_find(uw_clocks *c, uint64_t tid)
{
    size_t i;

    for (i = 0; i < c->hi; i++)
        if (c->e[i].tid == tid)
            return &c->e[i];
    return NULL;
}

/* A free entry, or the one asked for longest ago if not in this sample nor
 * the last (its event closed), or NULL. */
static uw_clock_entry *uw_clock_slot(uw_clocks *c)
{
    uw_clock_entry *best = NULL;
    size_t i;

    for (i = 0; i < UW_CLOCK_THREADS; i++) {
        uw_clock_entry *e = &c->e[i];
        if (e->tid == 0) {
            if (i >= c->hi)
                c->hi = i + 1;
            return e;
        }
        if ((uint32_t)(c->sample - e->asked) >= 2 &&
            (best == NULL ||
             (uint32_t)(c->sample - e->asked) > (uint32_t)(c->sample - best->asked)))
            best = e;
    }
    if (best != NULL)
        uw_clock_drop(best);
    return best;
}

/* Open the task clock of thread tid of the process: the fd, or -1.  A
 * thread of another process is refused (a torn id must not measure some
 * other program); perf events refused as such turn clocks off. */
static int uw_clock_open(uw_clocks *c, uint64_t tid, uint64_t *calls)
{
    struct perf_event_attr a;
    char path[64];
    long fd;

    snprintf(path, sizeof path, "/proc/%d/task/%llu", (int)c->pid, (unsigned long long)tid);
    (*calls)++;
    if (access(path, F_OK) != 0)
        return -1;
    memset(&a, 0, sizeof a);
    a.size = sizeof a;
    a.type = PERF_TYPE_SOFTWARE;
    a.config = PERF_COUNT_SW_TASK_CLOCK;
    a.exclude_kernel = 1; /* all a paranoid level of 2 allows; it counts on-CPU time all the same */
    a.exclude_hv = 1;
    (*calls)++;
    fd = syscall(SYS_perf_event_open, &a, (pid_t)tid, -1, -1, PERF_FLAG_FD_CLOEXEC);
    if (fd < 0) {
        if (errno != ESRCH && errno != EINVAL)
            c->off = 1; /* EACCES, EPERM, ENOSYS, ENOENT, EOPNOTSUPP: none will open */
        return -1;
    }
    return (int)fd;
}

int uw__clocks_read(uw_clocks *c, uint64_t tid, int late, uint64_t *out, uint64_t *calls)
{
    uw_clock_entry *e;
    uint64_t v;

    *calls = 0;
    if (c == NULL || c->off || tid == 0 || tid > (uint64_t)INT32_MAX)
        return UW_ERR_NO_CLOCK;
    e = uw_clock_find(c, tid);
    if (e != NULL && c->sample != 0 && e->read == c->sample) {
        *out = e->value;
        return 0;
    }
    if (late)
        return UW_ERR_NO_CLOCK;
    if (e == NULL) {
        int fd;
        if (c->opened == UW_CLOCK_OPENS)
            return UW_ERR_NO_CLOCK;
        c->opened++;
        fd = uw_clock_open(c, tid, calls);
        if (fd < 0)
            return UW_ERR_NO_CLOCK;
        e = uw_clock_slot(c);
        if (e == NULL) {
            close(fd);
            return UW_ERR_NO_CLOCK;
        }
        e->tid = tid;
        e->fd = fd;
    }
    e->asked = c->sample;
    (*calls)++;
    if (read(e->fd, &v, sizeof v) != (ssize_t)sizeof v) {
        uw_clock_drop(e); /* reopened when next asked */
        return UW_ERR_NO_CLOCK;
    }
    e->value = v;
    e->read = c->sample;
    *out = v;
    return 0;
}

int uw__clocks_threads(pid_t pid, uint64_t *tids, size_t cap, size_t *n, uint64_t *calls)
{
    pid_t listed[UW_CLOCK_THREADS];
    size_t i;
    int rc;

    *n = 0;
    *calls = 3; /* open, the directory's reads, close */
    if (cap > UW_CLOCK_THREADS)
        cap = UW_CLOCK_THREADS;
    rc = uw__proc_tasks(pid, listed, cap, n);
    for (i = 0; i < *n; i++)
        tids[i] = (uint64_t)listed[i];
    return rc == UW_ERR_LIMIT_THREADS ? UW_ERR_CAPACITY : rc;
}
