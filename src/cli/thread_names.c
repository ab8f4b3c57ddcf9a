/*
 * thread_names.c — names of a live process's threads for the thread
 * markers (cli_profile.h).
 *
 * The kernel keeps each thread's name in /proc/PID/task/TID/comm (at most
 * 15 bytes, set by prctl(PR_SET_NAME) or pthread_setname_np; a thread
 * that never set one has its process's name).  Reading it costs a few
 * syscalls, so each thread's name is read once and cached by TID.  The
 * cache holds at most TS_THREAD_NAMES_MAX names; past that (a long
 * recording of a process that keeps starting threads) it is emptied and
 * refilled, so memory stays bounded.
 */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_profile.h"
#include "tornstack/hindex.h"
#include "tornstack/limits.h"

#define TS_THREAD_NAMES_MAX (4 * UW_LIMIT_THREADS)
#define TS_COMM_MAX 64

struct ts_thread_names {
    int pid;
    uw_hindex index;
    uint64_t *tid;
    char (*name)[TS_COMM_MAX];
    uint32_t n;
};

ts_thread_names *ts_thread_names_new(int pid)
{
    ts_thread_names *t = calloc(1, sizeof *t);

    if (t == NULL)
        return NULL;
    t->pid = pid;
    uw_hindex_init(&t->index);
    t->tid = malloc(TS_THREAD_NAMES_MAX * sizeof *t->tid);
    t->name = malloc(TS_THREAD_NAMES_MAX * sizeof *t->name);
    if (t->tid == NULL || t->name == NULL) {
        ts_thread_names_free(t);
        return NULL;
    }
    return t;
}

void ts_thread_names_free(ts_thread_names *t)
{
    if (t == NULL)
        return;
    uw_hindex_free(&t->index);
    free(t->tid);
    free(t->name);
    free(t);
}

static int ts_tn_eq(const void *ctx, uint32_t id, const void *key)
{
    return ((const ts_thread_names *)ctx)->tid[id] == *(const uint64_t *)key;
}

/* Read comm into out (without its newline); "" when the thread is gone. */
static void ts_read_comm(int pid, uint64_t tid, char *out)
{
    char path[96];
    ssize_t n;
    int fd;

    out[0] = '\0';
    snprintf(path, sizeof path, "/proc/%d/task/%llu/comm", pid, (unsigned long long)tid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    n = read(fd, out, TS_COMM_MAX - 1);
    close(fd);
    if (n <= 0)
        return;
    out[n] = '\0';
    if (n > 0 && out[n - 1] == '\n')
        out[n - 1] = '\0';
}

const char *ts_thread_name(void *ctx, uint64_t tid)
{
    ts_thread_names *t = ctx;
    uint64_t h = uw_hash_mix(tid, 0x7468);
    uint32_t id;

    if (t == NULL || tid == 0)
        return NULL;
    if (uw_hindex_find(&t->index, h, ts_tn_eq, t, &tid, &id))
        return t->name[id][0] ? t->name[id] : NULL;
    if (t->n == TS_THREAD_NAMES_MAX) {
        uw_hindex_free(&t->index);
        t->n = 0;
    }
    id = t->n;
    t->tid[id] = tid;
    ts_read_comm(t->pid, tid, t->name[id]);
    if (uw_hindex_add(&t->index, h, id) == 0)
        t->n++;
    return t->name[id][0] ? t->name[id] : NULL;
}
