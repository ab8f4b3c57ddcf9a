/*
 * model.c — `tornstack verify` and `tornstack replay`: the model lives in
 * model/ (src/ never includes it), so these run the tornstack-verify
 * program built next to this one.  replay FILE [--svg OUT] [--policy P]
 * becomes --replay FILE --explain yes ...
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

/* The path of tornstack-verify next to this program, into self. */
static int ts_verify_path(char *self, size_t cap)
{
    ssize_t n = readlink("/proc/self/exe", self, cap - 32);
    char *slash;

    if (n <= 0)
        return -1;
    self[n] = '\0';
    slash = strrchr(self, '/');
    if (slash == NULL)
        return -1;
    strcpy(slash + 1, "tornstack-verify");
    return 0;
}

/* Replaces this process with tornstack-verify and the same arguments
 * (replay: --replay FILE --explain yes first); returns only on failure. */
int ts_cmd_model(int argc, char **argv, int replay)
{
    static char opt_replay[] = "--replay", opt_explain[] = "--explain", opt_yes[] = "yes";
    char self[4096];
    char **args;
    int i, k = 0;

    if (replay && argc < 3) {
        fprintf(stderr, "tornstack: usage: tornstack replay FILE [--svg OUT] [--policy P]\n");
        return TS_EXIT_USAGE;
    }
    args = calloc((size_t)argc + 6, sizeof *args);
    if (args == NULL || ts_verify_path(self, sizeof self) != 0) {
        fprintf(stderr, "tornstack: cannot locate tornstack-verify\n");
        free(args);
        return TS_EXIT_INTERNAL;
    }
    args[k++] = self;
    if (replay) {
        args[k++] = opt_replay;
        args[k++] = argv[2];
        args[k++] = opt_explain;
        args[k++] = opt_yes;
    }
    for (i = replay ? 3 : 2; i < argc; i++)
        args[k++] = argv[i];
    args[k] = NULL;
    execv(self, args);
    fprintf(stderr, "tornstack: cannot run %s: %s\n", self, strerror(errno));
    free(args);
    return TS_EXIT_INTERNAL;
}
