"""Benchmark: tornstack beside CPython 3.15's own sampling profiler
(Tachyon, `python3.15 -m profiling.sampling`) on the same process
(numbers printed, nothing asserted).

    python3.15 bench_tachyon.py TORNSTACK [SECONDS] [N_TASKS]

Threads: bench_target.py with a 50-frame stack and a second thread.  In
one run, alternated twice (Tachyon, tornstack, Tachyon, tornstack):

    python3.15 -m profiling.sampling attach -a -r 1000khz -d S --collapsed -o F PID
    tornstack record --rate 1000000 --duration S -o G --pid PID

Each rate is thread stacks per second, counted from the output file (the
sum of the counts of its lines: one per thread per sample) over the
seconds asked for; the ratio is tornstack's over Tachyon's, per pair and
over both pairs.  Only a ratio measured in one run means anything: the
machine's load changes both (the load average is printed).  Each run's
CPU time (user + system, from the kernel's accounting of the child) is
printed too, as microseconds per stack: on a loaded machine a profiler
gets only part of a CPU, and that share, not its work per stack, then
sets its rate.

Tasks: bench_tasks_target.py with N_TASKS (100) Tasks, three coroutines
deep, with Tachyon's `--async-aware --async-mode all` (one thread: Tachyon
refuses -a there) against tornstack record's default Task walk, alternated
twice; the rate is stacks per second (one per Task per sample in both).

Busy: busy_app.py (200 workers, some 530 Tasks switching every few
microseconds), async-aware, alternated twice; the rate is samples per
second as each tool counts them, printed with the CPU time a sample and
what each could not show (Tachyon's error rate, tornstack's skipped Task
readings).
"""
import os
import re
import resource
import subprocess
import sys
import time

import livelib


def load():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def stacks_in(path):
    """Sum of the counts of a folded/collapsed file's lines."""
    total = 0
    with open(path) as f:
        for ln in f:
            head, _, count = ln.rstrip("\n").rpartition(" ")
            if head and count.isdigit():
                total += int(count)
    return total


def run(cmd, name, crash_ok=False):
    """Wall and CPU seconds (user + system) of one run of cmd, and its
    result.  A run killed by a signal is returned when crash_ok (a peer's
    crash is a result to print); any other failure ends the bench."""
    u0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    wall = time.monotonic() - t0
    u1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if r.returncode != 0 and not (crash_ok and r.returncode < 0):
        sys.stderr.write(r.stdout + r.stderr)
        livelib.fail("%s exited %d" % (name, r.returncode))
    return wall, (u1.ru_utime - u0.ru_utime) + (u1.ru_stime - u0.ru_stime), r


def command(tool, tornstack, pid, seconds, out, tachyon_extra):
    """Tachyon's or tornstack's recording of pid for `seconds` at the
    highest rate each takes, written to out."""
    if tool == "tachyon":
        return [sys.executable, "-m", "profiling.sampling", "attach", *tachyon_extra, "-r",
                "1000khz", "-d", str(seconds), "--collapsed", "-o", out, str(pid)]
    return [tornstack, "record", "--rate", "1000000", "--duration", str(seconds), "-o", out,
            "--pid", str(pid)]


def pairs(tornstack, target, args, seconds, tachyon_extra, label):
    t = livelib.Target(target, *args)
    out = os.path.join(t.dir, "out")
    rows = []
    try:
        for rnd in (1, 2):
            row = {}
            for tool in ("tachyon", "tornstack"):
                cmd = command(tool, tornstack, t.pid, seconds, out, tachyon_extra)
                wall, cpu, _ = run(cmd, tool)
                n = stacks_in(out)
                row[tool] = n / seconds
                row[tool + "_cpu_us"] = 1e6 * cpu / max(n, 1)
                os.unlink(out)
            rows.append(row)
    finally:
        t.close()
    print("%s (load %s):" % (label, load()))
    for i, row in enumerate(rows, 1):
        print("  round %d: Tachyon %10.0f stacks/s  tornstack %10.0f stacks/s  ratio %.2f   "
              "(CPU per stack: Tachyon %.1f us, tornstack %.1f us)" % (
                  i, row["tachyon"], row["tornstack"], row["tornstack"] / max(row["tachyon"], 1),
                  row["tachyon_cpu_us"], row["tornstack_cpu_us"]))
    ta = sum(r["tachyon"] for r in rows)
    to = sum(r["tornstack"] for r in rows)
    print("  both rounds: Tachyon %.0f, tornstack %.0f stacks/s: tornstack / Tachyon = %.2f" % (
        ta / len(rows), to / len(rows), to / max(ta, 1)))


def busy_pairs(tornstack, seconds):
    """The busy program (busy_app.py, 200 workers, some 530 Tasks switching
    every few microseconds), async-aware, alternated twice: samples per
    second each tool says it took (Tachyon's "Captured N samples", record's
    "N samples"), CPU time per sample, and what each could not show:
    Tachyon's error rate, tornstack's Task readings skipped."""
    t = livelib.Target("busy_app.py", 200)
    out = os.path.join(t.dir, "out")
    rows, crashes = [], [0]
    try:
        for rnd in (1, 2):
            row = {}
            for tool in ("tachyon", "tornstack"):
                cmd = command(tool, tornstack, t.pid, seconds, out,
                              ["--async-aware", "--async-mode", "all"])
                _, cpu, r = run(cmd, tool + " on the busy program", crash_ok=tool == "tachyon")
                text = r.stdout + r.stderr
                if r.returncode < 0:
                    row.update({tool: 0.0, tool + "_cpu_us": 0.0,
                                tool + "_lost": "crashed, signal %d" % -r.returncode})
                    crashes[0] += 1
                    continue
                if tool == "tachyon":
                    m = re.search(r"Captured (\d+) samples", text)
                    e = re.search(r"Error rate: ([\d.]+)", text)
                    lost = "error rate %s%%" % (e.group(1) if e else "?")
                else:
                    m = re.search(r"tornstack: (\d+) samples", text)
                    tasks = re.search(r"([\d.]+) tasks/sample", text)
                    skipped = sum(int(x) for x in re.findall(r"skipped \w+: (\d+) tasks", text))
                    read = float(tasks.group(1)) * int(m.group(1)) if m and tasks else 0
                    lost = "%.1f%% of Task readings skipped" % (100.0 * skipped / max(read, 1))
                if m is None:
                    livelib.fail("%s said no sample count: %r" % (tool, text[-400:]))
                n = int(m.group(1))
                row[tool] = n / seconds
                row[tool + "_cpu_us"] = 1e6 * cpu / max(n, 1)
                row[tool + "_lost"] = lost
                if os.path.exists(out):
                    os.unlink(out)
            rows.append(row)
    finally:
        t.close()
    print("busy program: 200 workers, ~530 Tasks, async-aware, samples per second (load %s):" %
          load())
    for i, row in enumerate(rows, 1):
        if row["tachyon"] > 0:
            peer = "Tachyon %7.0f samples/s (%s, CPU %.0f us a sample)" % (
                row["tachyon"], row["tachyon_lost"], row["tachyon_cpu_us"])
            ratio = "ratio %.2f" % (row["tornstack"] / row["tachyon"])
        else:
            peer, ratio = "Tachyon %s" % row["tachyon_lost"], "ratio -"
        print("  round %d: %s  tornstack %7.0f samples/s (%s, CPU %.0f us a sample)  %s" % (
            i, peer, row["tornstack"], row["tornstack_lost"], row["tornstack_cpu_us"], ratio))
    ta = sum(r["tachyon"] for r in rows)
    to = sum(r["tornstack"] for r in rows)
    print("  both rounds: Tachyon %.0f, tornstack %.0f samples/s: tornstack / Tachyon = %.2f%s" % (
        ta / len(rows), to / len(rows), to / max(ta, 1e-9),
        " (Tachyon crashed in %d of %d runs, counted as 0)" % (crashes[0], len(rows))
        if crashes[0] else ""))


def main():
    tornstack = sys.argv[1]
    seconds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    n_tasks = int(sys.argv[3]) if len(sys.argv) > 3 else 100
    if sys.version_info[:2] < (3, 15):
        livelib.fail("Tachyon (profiling.sampling) is CPython 3.15's")
    print("tachyon: python %s, pid of this runner %d, %d s per recording" % (
        sys.version.split()[0], os.getpid(), seconds))
    pairs(tornstack, "bench_target.py", (47, 2), seconds, ["-a"],
          "threads: a 50-frame stack and a second thread, thread stacks per second")
    pairs(tornstack, "bench_tasks_target.py", (n_tasks,), seconds,
          ["--async-aware", "--async-mode", "all"],
          "tasks: %d Tasks three coroutines deep, async-aware, stacks per second" % n_tasks)
    busy_pairs(tornstack, seconds)


if __name__ == "__main__":
    main()
