/*
 * run.c — `tornstack run [--] COMMAND [ARGS...]`: start COMMAND with the
 * link hook preloaded (PYTHONPATH gets the preload directory, whose
 * sitecustomize imports tornstack_hook; docs/tasks.md, "The hook module").
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

int ts_cmd_run(int argc, char **argv)
{
    const char *dir = getenv("TORNSTACK_PYTHON_DIR");
    const char *old = getenv("PYTHONPATH");
    char *path;
    size_t n;
    int first = 2;

    if (dir == NULL || dir[0] == '\0')
        dir = TORNSTACK_PYTHON_DIR;
    if (first < argc && strcmp(argv[first], "--") == 0)
        first++;
    if (first >= argc) {
        fprintf(stderr, "tornstack: run needs a command\n");
        return TS_EXIT_USAGE;
    }
    n = strlen(dir) + strlen("/preload") + (old ? strlen(old) + 1 : 0) + 1;
    path = malloc(n);
    if (path == NULL)
        return TS_EXIT_INTERNAL;
    snprintf(path, n, "%s/preload%s%s", dir, old && old[0] ? ":" : "", old ? old : "");
    if (setenv("PYTHONPATH", path, 1) != 0) {
        free(path);
        return TS_EXIT_INTERNAL;
    }
    free(path);
    execvp(argv[first], &argv[first]);
    fprintf(stderr, "tornstack: cannot run %s: %s\n", argv[first], strerror(errno));
    return TS_EXIT_USAGE;
}
