/*
 * scan.c — what /proc says about a process's threads.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pause/internal.h"
#include "tornstack/error.h"

/* Lines of a /proc status file read before giving up on a field (the file
 * has about 60). */
#ifndef UW_PT_STATUS_LINES
#define UW_PT_STATUS_LINES 128
#endif

static int uw_pt_parse_tid(const char *name, pid_t *out)
{
    long v = 0;
    const char *c;

    if (name[0] == '\0' || strlen(name) > 10)
        return 0;
    for (c = name; *c; c++) {
        if (*c < '0' || *c > '9')
            return 0;
        v = v * 10 + (*c - '0');
    }
    if (v <= 0 || v > 0x7fffffffL)
        return 0;
    *out = (pid_t)v;
    return 1;
}

/* The thread ids listed in /proc/PID/task, at most cap of them (more is
 * UW_ERR_LIMIT_THREADS).  A thread may exit while the directory is read;
 * the list is what the kernel showed, and callers treat each id as a
 * claim to check (an attach of an exited thread fails with ESRCH). */
int uw__proc_tasks(pid_t pid, pid_t *tids, size_t cap, size_t *n)
{
    char path[64];
    DIR *d;
    struct dirent *e;
    int rc = 0;

    *n = 0;
    snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
    d = opendir(path);
    if (d == NULL)
        return errno == ENOENT || errno == ESRCH ? UW_ERR_NO_PROCESS
               : errno == EACCES                 ? UW_ERR_PERMISSION
                                                 : UW_ERR_IO;
    while ((e = readdir(d)) != NULL) {
        pid_t tid;
        if (!uw_pt_parse_tid(e->d_name, &tid))
            continue;
        if (*n == cap) {
            rc = UW_ERR_LIMIT_THREADS;
            break;
        }
        tids[(*n)++] = tid;
    }
    closedir(d);
    return rc;
}

/* State letter ('R', 'S', 't', 'T', 'Z', ...), TracerPid and, when
 * `sigs` is not NULL, the signals pending for that thread itself (sigs[0],
 * SigPnd: those sent to it alone, as our clocks' are) and those it blocks
 * (sigs[1], SigBlk), bit sig - 1, of one thread of pid, from
 * /proc/PID/task/TID/status.  UW_ERR_NO_PROCESS if the thread is gone. */
int uw_pt_status(pid_t pid, pid_t tid, char *state, pid_t *tracer, uint64_t sigs[2])
{
    char path[96], line[256];
    FILE *f;
    int lines = 0, have = 0;
    const int want = sigs != NULL ? 15 : 3;

    *state = '?';
    *tracer = 0;
    if (sigs != NULL)
        sigs[0] = sigs[1] = 0;
    snprintf(path, sizeof path, "/proc/%d/task/%d/status", (int)pid, (int)tid);
    f = fopen(path, "re");
    if (f == NULL)
        return errno == ENOENT || errno == ESRCH ? UW_ERR_NO_PROCESS : UW_ERR_IO;
    while (have != want && lines++ < UW_PT_STATUS_LINES && fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, "State:", 6) == 0) {
            const char *c = line + 6;
            while (*c == ' ' || *c == '\t')
                c++;
            *state = *c;
            have |= 1;
        } else if (strncmp(line, "TracerPid:", 10) == 0) {
            *tracer = (pid_t)strtol(line + 10, NULL, 10);
            have |= 2;
        } else if (sigs != NULL && strncmp(line, "SigPnd:", 7) == 0) {
            sigs[0] = (uint64_t)strtoull(line + 7, NULL, 16);
            have |= 4;
        } else if (sigs != NULL && strncmp(line, "SigBlk:", 7) == 0) {
            sigs[1] = (uint64_t)strtoull(line + 7, NULL, 16);
            have |= 8;
        }
    }
    fclose(f);
    return have == want ? 0 : UW_ERR_IO;
}

/* Is signal sig pending for thread tid of pid itself?  1 or 0; 0 also
 * when that cannot be read.  *blocked: whether the thread blocks it, from
 * the same reading. */
int uw_pt_sig_pending(pid_t pid, pid_t tid, int sig, int *blocked)
{
    uint64_t sigs[2];
    pid_t tracer;
    char state;

    *blocked = 0;
    if (sig < 1 || sig > 64 || uw_pt_status(pid, tid, &state, &tracer, sigs) != 0)
        return 0;
    *blocked = ((sigs[1] >> (sig - 1)) & 1u) != 0;
    return ((sigs[0] >> (sig - 1)) & 1u) != 0;
}

/* The state letter of thread tid of pid, from /proc/PID/task/TID/stat,
 * after the command name, which may itself hold parentheses and spaces:
 * the last ')' ends it; and, when `times` is not NULL, the CPU time it
 * has run in user and in kernel mode, in clock ticks (fields 14 and 15:
 * times[0] and times[1]; the kernel samples the mode at its ticks, so
 * their ratio is an estimate, good over many ticks).
 * UW_ERR_NO_PROCESS if the thread is gone. */
int uw_pt_sched_times(pid_t pid, pid_t tid, char *state, uint64_t times[2])
{
    char path[96], buf[512];
    const char *c;
    char *end;
    size_t got;
    FILE *f;
    int field;

    *state = '?';
    snprintf(path, sizeof path, "/proc/%d/task/%d/stat", (int)pid, (int)tid);
    f = fopen(path, "re");
    if (f == NULL)
        return errno == ENOENT || errno == ESRCH ? UW_ERR_NO_PROCESS : UW_ERR_IO;
    got = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[got] = '\0';
    c = strrchr(buf, ')');
    if (c == NULL || c[1] != ' ' || c[2] == '\0')
        return UW_ERR_IO;
    *state = c[2];
    if (times == NULL)
        return 0;
    /* c + 2 is field 3; skip to field 14 (ten more separators) */
    c += 2;
    for (field = 3; field < 14 && c != NULL; field++) {
        c = strchr(c, ' ');
        if (c != NULL)
            c++;
    }
    if (c == NULL || *c < '0' || *c > '9')
        return UW_ERR_IO;
    times[0] = strtoull(c, &end, 10);
    if (*end != ' ' || end[1] < '0' || end[1] > '9')
        return UW_ERR_IO;
    times[1] = strtoull(end + 1, NULL, 10);
    return 0;
}

int uw__proc_thread_state(pid_t pid, pid_t tid, char *state)
{
    return uw_pt_sched_times(pid, tid, state, NULL);
}

/* How far thread tid of pid has got: the CPU time it has run, in
 * nanoseconds (the first field of /proc/PID/task/TID/schedstat: the
 * scheduler's sum of its run time, brought up to date when it leaves a
 * CPU, so a stopped thread's is exact), and its state letter
 * (uw__proc_thread_state).  UW_ERR_NO_PROCESS if the thread is gone; UW_ERR_IO if
 * the kernel keeps no such count. */
int uw_pt_runtime(pid_t pid, pid_t tid, uint64_t *run_ns, char *state)
{
    char path[96], buf[72];
    size_t got;
    FILE *f;
    int rc;

    *run_ns = 0;
    if ((rc = uw__proc_thread_state(pid, tid, state)) != 0)
        return rc;
    snprintf(path, sizeof path, "/proc/%d/task/%d/schedstat", (int)pid, (int)tid);
    f = fopen(path, "re");
    if (f == NULL)
        return errno == ENOENT || errno == ESRCH ? UW_ERR_NO_PROCESS : UW_ERR_IO;
    got = fread(buf, 1, 64, f);
    fclose(f);
    buf[got] = '\0';
    if (got == 0 || buf[0] < '0' || buf[0] > '9')
        return UW_ERR_IO;
    *run_ns = strtoull(buf, NULL, 10);
    return 0;
}
