/*
 * refusal.c — a sentence saying why the kernel refused to attach.
 *
 * PTRACE_SEIZE says EPERM for several unrelated reasons.  The usual ones
 * can each be seen from /proc, so the sentence names those that hold:
 *   - the thread already has a tracer (a debugger, strace, another
 *     profiler in blocking mode): TracerPid in its status;
 *   - tornstack runs under a seccomp filter (Seccomp: 2 in its own
 *     status), which may answer ptrace with an error;
 *   - the target runs as another user and tornstack lacks CAP_SYS_PTRACE;
 *   - Yama's ptrace_scope forbids attaching to a non-descendant (1), all
 *     but CAP_SYS_PTRACE holders (2), or everyone (3).
 * When none holds, it says so (a setuid or non-dumpable target, an LSM).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pause/internal.h"

/* Lines of a /proc status file looked at (it has about 60). */
#ifndef UW_PT_STATUS_LINES
#define UW_PT_STATUS_LINES 128
#endif
/* CAP_SYS_PTRACE's bit in CapEff. */
#define UW_PT_CAP_SYS_PTRACE 19

/* The text after "key" in a /proc status file, or "" (out has room for
 * len bytes). */
static void uw_pt_status_field(const char *path, const char *key, char *out, size_t len)
{
    char line[256];
    size_t klen = strlen(key);
    int lines = 0;
    FILE *f = fopen(path, "re");

    out[0] = '\0';
    if (f == NULL)
        return;
    while (lines++ < UW_PT_STATUS_LINES && fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, key, klen) == 0) {
            const char *c = line + klen;
            while (*c == ' ' || *c == '\t')
                c++;
            snprintf(out, len, "%.*s", (int)strcspn(c, "\n"), c);
            break;
        }
    }
    fclose(f);
}

static void uw_pt_append(char *why, size_t len, size_t *used, const char *text)
{
    int n;

    if (*used >= len)
        return;
    n = snprintf(why + *used, len - *used, "%s%s", *used > 0 ? "; " : "", text);
    if (n > 0)
        *used += (size_t)n < len - *used ? (size_t)n : len - *used - 1;
}

void uw_pt_explain_refusal(pid_t pid, pid_t tid, int err, char *why, size_t len)
{
    char path[96], val[128], text[256];
    size_t used = 0;
    int causes = 0;
    FILE *f;

    if (why == NULL || len == 0)
        return;
    why[0] = '\0';
    snprintf(text, sizeof text, "PTRACE_SEIZE of thread %d: %s", (int)tid, strerror(err));
    uw_pt_append(why, len, &used, text);

    snprintf(path, sizeof path, "/proc/%d/task/%d/status", (int)pid, (int)tid);
    uw_pt_status_field(path, "TracerPid:", val, sizeof val);
    if (atoi(val) != 0) {
        snprintf(text, sizeof text,
                 "it is already traced by pid %s (a debugger or another profiler; one tracer at "
                 "a time)",
                 val);
        uw_pt_append(why, len, &used, text);
        causes++;
    }
    uw_pt_status_field("/proc/self/status", "Seccomp:", val, sizeof val);
    if (atoi(val) != 0) {
        uw_pt_append(why, len, &used,
                     "tornstack runs under a seccomp filter (Seccomp: 2 in /proc/self/status), "
                     "which may forbid ptrace");
        causes++;
    }
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    uw_pt_status_field(path, "Uid:", val, sizeof val);
    if (val[0] != '\0') {
        char cap[64];
        unsigned long long capeff;
        long target_euid = -1;
        long real_uid;
        if (sscanf(val, "%ld %ld", &real_uid, &target_euid) != 2)
            target_euid = -1;
        uw_pt_status_field("/proc/self/status", "CapEff:", cap, sizeof cap);
        capeff = strtoull(cap, NULL, 16);
        if (target_euid >= 0 && target_euid != (long)geteuid() &&
            !(capeff & (1ull << UW_PT_CAP_SYS_PTRACE))) {
            snprintf(text, sizeof text,
                     "the target runs as uid %ld and tornstack as uid %ld without "
                     "CAP_SYS_PTRACE (run as the same user or as root)",
                     target_euid, (long)geteuid());
            uw_pt_append(why, len, &used, text);
            causes++;
        }
    }
    f = fopen("/proc/sys/kernel/yama/ptrace_scope", "re");
    if (f != NULL) {
        int scope = 0;
        if (fscanf(f, "%d", &scope) == 1 && scope > 0) {
            snprintf(text, sizeof text,
                     "Yama ptrace_scope is %d (1: descendants only, 2: CAP_SYS_PTRACE only, "
                     "3: no attach; see /proc/sys/kernel/yama/ptrace_scope)",
                     scope);
            uw_pt_append(why, len, &used, text);
            causes++;
        }
        fclose(f);
    }
    if (causes == 0)
        uw_pt_append(why, len, &used,
                     "no usual cause found (a setuid or non-dumpable target, or a security "
                     "module, may forbid it)");
}
