/*
 * noptrace.c — run a command under a seccomp filter that refuses ptrace(2)
 * (as a sandbox that forbids debugging would): the --blocking refusal test.
 *
 *   ts_noptrace COMMAND [ARGS...]
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "noptrace.h"

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: ts_noptrace COMMAND [ARGS...]\n");
        return 2;
    }
    if (noptrace_install() != 0) {
        perror("ts_noptrace: seccomp");
        return 1;
    }
    execvp(argv[1], argv + 1);
    perror("ts_noptrace: exec");
    return 127;
}
