/*
 * help.c — `tornstack CMD --help`: what each command does, its options and
 * their defaults, on stdout (docs/cli.md says the same at length).
 */
#include <stdio.h>
#include <string.h>

#include "cli_profile.h"

static const char ts_policy_help[] =
    "Policy options (the defaults are the correct ones; the others reproduce earlier\n"
    "profilers' behaviour for comparison):\n"
    "  --task-depth N       frames unwound per Task coroutine chain (0: all)\n"
    "  --no-split           do not split the loop's frames at Handle._run\n"
    "  --no-skip            never skip a Task that cannot be placed\n"
    "  --no-recover         skip a Task the chain check found moved at once,\n"
    "                       without reading and checking it again\n"
    "  --tasks-root ADDR    read Tasks from this registry address\n"
    "  --no-replay          read every request for real (by default a sample's reads\n"
    "                       are predicted from the last sample's and read in one call,\n"
    "                       serving the requests while they are the same)\n";

static const char ts_marker_help[] =
    "  --no-task-frames     leave out the <task NAME> frames at each Task boundary\n"
    "  --no-thread-frames   leave out the <thread NATIVE_ID NAME> frame at each root\n";

static const char ts_blocking_help[] =
    "Blocking options (docs/cli.md, docs/pause.md):\n"
    "  --blocking           stop the target's threads (ptrace) for each sample: a\n"
    "                       reference with nothing skipped; never left stopped\n"
    "  --pause-on-torn      sample running; redo stopped only a sample that tore\n"
    "  --stop-by M          how a running thread is stopped: clock (default: a timer\n"
    "                       of its own user CPU time, and an interrupt in the share\n"
    "                       of its kernel time), interrupt or kernel-clock\n"
    "  --hold-ms MS         keep the target stopped MS longer per sample (tests)\n";

typedef struct ts_cmd_help {
    const char *name;
    const char *text;
    int policy;   /* show the policy options */
    int markers;  /* show the marker options */
    int blocking; /* show the blocking options */
} ts_cmd_help;

static const ts_cmd_help ts_helps[] = {
    {"dump",
     "usage: tornstack dump --pid PID [--format F] [--count N] [-o FILE] [BLOCKING] [POLICY]\n"
     "\n"
     "Attach to a running CPython 3.11-3.15 process, take one sample of every thread and\n"
     "asyncio Task, print it and detach.\n"
     "\n"
     "  --pid PID, -p PID    the process to read (same user, root or CAP_SYS_PTRACE)\n"
     "  --format F, -f F     text (default), json, or a profile format: folded,\n"
     "                       speedscope, pprof, html (docs/output.md); without it, -o's\n"
     "                       name may choose: .txt, .json, .folded, .speedscope.json,\n"
     "                       .pb.gz or .pprof, .html\n"
     "  --count N            take N samples with one attach (text and json: N documents;\n"
     "                       profile formats: one profile of the N samples)\n"
     "  -o FILE, --output    write to FILE instead of stdout (replaced only once\n"
     "                       written whole)\n",
     1, 1, 1},
    {"record",
     "usage: tornstack record --pid PID [--rate HZ] [--duration S] [-o FILE] [--format F]\n"
     "                        [BLOCKING] [POLICY]\n"
     "\n"
     "Sample a running process at a fixed rate and write a profile: every stack seen,\n"
     "root first, with <thread ...> and <task ...> frames, and how often it was seen.\n"
     "If the target exits, what was recorded is kept.\n"
     "\n"
     "  --pid PID, -p PID    the process to read\n"
     "  --rate HZ            samples per second (default 100)\n"
     "  --duration S         seconds to record (default 5)\n"
     "  -o FILE, --output    where to write (default: stdout); an existing FILE is\n"
     "                       replaced only once the profile is written whole\n"
     "  --format F, -f F     folded (default), speedscope, pprof or html; without it,\n"
     "                       -o's name may choose: .html, .json, .pb.gz or .pprof\n"
     "\n"
     "It prints on stderr what it wrote and how to open it, the sample count and\n"
     "the skip counts by reason.  Example:\n"
     "  tornstack record --pid 1234 --duration 10 -o profile.html\n",
     1, 1, 1},
    {"convert",
     "usage: tornstack convert IN [-o OUT] [--format F] [--title T]\n"
     "\n"
     "Read a folded file (what record writes by default; - for stdin) and write it in\n"
     "another format with the same stacks and counts.\n"
     "\n"
     "  -o OUT, --output     where to write (default: stdout)\n"
     "  --format F, -f F     folded, speedscope, pprof or html (default: from OUT's\n"
     "                       extension: .html, .json, .pb.gz or .pprof, .folded)\n"
     "  --title T            the profile's title (default: IN)\n"
     "Example:\n"
     "  tornstack convert app.folded -o app.html\n",
     0, 1, 0},
    {"compare",
     "usage: tornstack compare A B [--functions] [--top N]\n"
     "\n"
     "Read two folded profiles and print each total, the total variation distance\n"
     "between their stack distributions (0: the same, 1: disjoint), as a decimal and\n"
     "as an exact fraction, and the stacks that contribute most.\n"
     "\n"
     "  --functions          compare by function: lines within a function are one\n"
     "  --top N              stacks listed (default 10; 0: none)\n",
     0, 0, 0},
    {"bench",
     "usage: tornstack bench --pid PID [--samples N] [--tasks] [BLOCKING] [POLICY]\n"
     "\n"
     "Attach and sample repeatedly; print one line for N/10 samples with the code-object\n"
     "cache emptied before each (cold) and one for N samples with it kept (warm): threads,\n"
     "Tasks, frames, reads (syscalls), bytes and microseconds per sample, with the CPU\n"
     "time of tornstack's own work and of the kernel's reads in it.\n"
     "\n"
     "  --pid PID, -p PID    the process to read\n"
     "  --samples N, -n N    warm samples (default 10000)\n"
     "  --tasks              include the asyncio Task walk\n",
     1, 0, 1},
    {"run",
     "usage: tornstack run [--] COMMAND [ARGS...]\n"
     "\n"
     "Run COMMAND with tornstack's link hook preloaded (python/tornstack_hook.py), so\n"
     "that which Task created, gathered or shields which can be read (docs/tasks.md).\n"
     "Example:\n"
     "  tornstack run -- python3 app.py &  tornstack record --pid $! -o app.html\n",
     0, 0, 0},
    {"verify",
     "usage: tornstack verify [--python 3.11|3.12|3.13|3.14|3.15|all]\n"
     "                        [--model tso|bounded|relaxed|realistic|all]\n"
     "                        [--samples N] [--seed S] [--jobs J]\n"
     "                        [--policy default|full-task-unwind|no-split|no-skip|all]\n"
     "\n"
     "The main job: the unwinder against the synthetic memory model, every sample\n"
     "judged against ground truth (docs/model.md).  One row per version x model x\n"
     "policy; exits 1 on any violation, 2 on bad usage.\n",
     0, 0, 0},
    {"replay",
     "usage: tornstack replay FILE [--svg OUT] [--policy P]\n"
     "\n"
     "Run one scenario (a reproducer from verify, a property test or the race fuzzer)\n"
     "and explain its first violation, or its last sample: stores and reads on a\n"
     "timeline, the truth, the sample and the verdict.  --svg OUT draws the timeline.\n",
     0, 0, 0},
    {"layout",
     "usage: tornstack layout MINOR\n"
     "\n"
     "Print the asyncio Task/Future layout table tornstack uses for CPython 3.MINOR\n"
     "(MINOR as 13 or 3.13).\n",
     0, 0, 0},
};

int ts_help(const char *cmd)
{
    size_t i;

    for (i = 0; i < sizeof ts_helps / sizeof ts_helps[0]; i++) {
        if (strcmp(cmd, ts_helps[i].name) != 0)
            continue;
        fputs(ts_helps[i].text, stdout);
        if (ts_helps[i].markers) {
            fputs("\nFrames (on by default):\n", stdout);
            fputs(ts_marker_help, stdout);
        }
        if (ts_helps[i].blocking) {
            fputc('\n', stdout);
            fputs(ts_blocking_help, stdout);
        }
        if (ts_helps[i].policy) {
            fputc('\n', stdout);
            fputs(ts_policy_help, stdout);
        }
        return 0;
    }
    return -1;
}

int ts_wants_help(int argc, char **argv)
{
    int i;

    if (argc < 3)
        return 0;
    if (strcmp(argv[1], "run") == 0)
        return strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0;
    for (i = 2; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return 1;
    return 0;
}
