/*
 * tornstack — command line.
 *
 *   tornstack dump    --pid PID [--format text|json|PROFILE] [policy options]
 *   tornstack record  --pid PID [--rate HZ] [--duration S] [-o FILE] [--format PROFILE]
 *   tornstack convert IN [-o OUT] [--format PROFILE]        (convert.c)
 *   tornstack compare A B [--functions] [--top N]           (compare.c)
 *   (dump, record and bench take --blocking: stop the target's threads
 *   for each sample; blocking.c)
 *   PROFILE: folded|speedscope|pprof|html (src/profile/, docs/output.md)
 *   tornstack bench  --pid PID [--samples N] [--tasks] [policy options]
 *   tornstack run    [--] COMMAND [ARGS...]   (preloads python/tornstack_hook.py)
 *   tornstack verify | replay ...             (the model: tornstack-verify)
 *   tornstack layout MINOR                    (the asyncio table of 3.MINOR)
 *
 * Policy options (defaults are the correct ones; the others exist to
 * compare earlier profilers' behaviour): --task-depth N (0 = unwind each
 * coroutine's chain fully), --no-split, --no-skip, --no-recover, --tasks-root ADDR.
 * Exit codes and the one-line errors: cli.h.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

void ts_usage(FILE *f)
{
    fputs(
        "usage: tornstack dump    --pid PID [--format text|json|PROFILE] [--count N] [-o FILE]\n"
        "                         [BLOCKING] [POLICY]\n"
        "       tornstack record  --pid PID [--rate HZ] [--duration S] [-o FILE]\n"
        "                         [--format PROFILE] [BLOCKING] [POLICY]\n"
        "       tornstack convert IN [-o OUT] [--format PROFILE]\n"
        "       tornstack compare A B [--functions] [--top N]\n"
        "       tornstack bench   --pid PID [--samples N] [--tasks] [BLOCKING] [POLICY]\n"
        "       tornstack run     [--] COMMAND [ARGS...]\n"
        "       tornstack verify  [--python V|all] [--model M|all] [--samples N] [--policy P|all]\n"
        "       tornstack replay  FILE [--svg OUT] [--policy P]\n"
        "       tornstack layout  MINOR\n"
        "       tornstack --help | --version | COMMAND --help\n"
        "PROFILE: folded|speedscope|pprof|html   [--no-task-frames] [--no-thread-frames]\n"
        "BLOCKING: [--blocking | --pause-on-torn] [--stop-by interrupt|clock|kernel-clock] "
        "[--hold-ms MS]\n"
        "POLICY: [--task-depth N] [--no-split] [--no-skip] [--no-recover] [--tasks-root ADDR]\n",
        f);
}

/* dump, record and bench share their options. */
static int ts_sampling_command(int argc, char **argv)
{
    ts_args a;

    if (ts_parse(argc, argv, &a) != 0) { /* the line above said what */
        fprintf(stderr, "tornstack: see tornstack %s --help\n", argv[1]);
        return TS_EXIT_USAGE;
    }
    if (strcmp(argv[1], "dump") == 0)
        return ts_cmd_dump(&a);
    if (strcmp(argv[1], "record") == 0)
        return ts_cmd_record(&a);
    return ts_cmd_bench(&a);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        ts_usage(stderr);
        return TS_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        ts_usage(stdout);
        return TS_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        puts("tornstack " TORNSTACK_VERSION);
        return TS_EXIT_OK;
    }
    if (ts_wants_help(argc, argv)) {
        if (ts_help(argv[1]) == 0)
            return TS_EXIT_OK;
        fprintf(stderr, "tornstack: unknown command '%s'\n", argv[1]);
        ts_usage(stderr);
        return TS_EXIT_USAGE;
    }
    if (strcmp(argv[1], "convert") == 0)
        return ts_cmd_convert(argc, argv);
    if (strcmp(argv[1], "compare") == 0)
        return ts_cmd_compare(argc, argv);
    if (strcmp(argv[1], "dump") == 0 || strcmp(argv[1], "bench") == 0 ||
        strcmp(argv[1], "record") == 0)
        return ts_sampling_command(argc, argv);
    if (strcmp(argv[1], "layout") == 0)
        return ts_cmd_layout(argc, argv);
    if (strcmp(argv[1], "run") == 0)
        return ts_cmd_run(argc, argv);
    if (strcmp(argv[1], "verify") == 0)
        return ts_cmd_model(argc, argv, 0);
    if (strcmp(argv[1], "replay") == 0)
        return ts_cmd_model(argc, argv, 1);
    fprintf(stderr, "tornstack: unknown command '%s'\n", argv[1]);
    ts_usage(stderr);
    return TS_EXIT_USAGE;
}
