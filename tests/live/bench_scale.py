"""Benchmark: the busy program's sample cost beside the still 100-Task one.

    python3.X bench_scale.py TORNSTACK [SAMPLES]

Runs `tornstack bench --tasks` (default policy; cache cold, then warm) on
bench_tasks_target.py (100 Tasks, each three coroutines deep, still) and
on busy_app.py (200 workers, about 500 Tasks switching every few
microseconds), running and then stopped (SIGSTOP a second after it is
ready, SIGCONT before it is closed: its size without its movement), and
prints syscalls (reads), bytes and microseconds per sample of each, and
their ratios.  Numbers only: nothing is asserted.

Each target runs on one CPU and tornstack on another, where the machine
has two: left to the scheduler, the two share a CPU in some runs, and the
busy program's warm sample then costs about half as much time again and
a third more calls (3.12.1, one process, the two placements alternated
twice: 6.6 and 6.7 ms, 72 calls, on one CPU; 4.3 and 4.6 ms, 54 calls,
on two), as the two take turns on the CPU while the sample is read.
"""
import os
import re
import signal
import subprocess
import sys
import time

import livelib

LINE = re.compile(r"^(cold|warm)\s+samples=(\d+) .*tasks/sample=([\d.]+) "
                  r"frames/sample=([\d.]+) .*reads/sample=([\d.]+) "
                  r".*bytes/sample=([\d.]+) us/sample=([\d.]+) user_us/sample=([\d.]+) "
                  r"sys_us/sample=([\d.]+)(?: skipped%=([\d.]+))?")


(CPU_TARGET, CPU_TORNSTACK, _), PLACED = livelib.placement("apart")


def bench(tornstack, script, args, samples, stopped=False):
    """stopped: the target is stopped (SIGSTOP) a second after it is ready,
    and continued before it is closed, whatever happened in between."""
    t = livelib.Target(script, *args, cpus=CPU_TARGET)
    held = False
    try:
        if stopped:
            time.sleep(1.0)  # well into its switching
            os.kill(t.pid, signal.SIGSTOP)
            held = True
        r = subprocess.run([tornstack, "bench", "--pid", str(t.pid), "--samples", str(samples),
                            "--tasks"], capture_output=True, text=True, timeout=600,
                           preexec_fn=livelib.pinned(CPU_TORNSTACK))
    finally:
        if held:
            os.kill(t.pid, signal.SIGCONT)
        t.close()
    if r.returncode != 0:
        sys.stderr.write(r.stderr)
        sys.exit(r.returncode)
    out = {}
    for ln in r.stdout.splitlines():
        m = LINE.match(ln)
        if m:
            out[m.group(1)] = dict(n=int(m.group(2)), tasks=float(m.group(3)),
                                   frames=float(m.group(4)), reads=float(m.group(5)),
                                   bytes=float(m.group(6)), us=float(m.group(7)),
                                   user=float(m.group(8)), sys=float(m.group(9)),
                                   skip=float(m.group(10) or 0))
        elif ln.startswith("bench "):
            out["python"] = ln.split("python=")[1]
    return out


def main():
    tornstack = sys.argv[1]
    samples = int(sys.argv[2]) if len(sys.argv) > 2 else 500
    still = bench(tornstack, "bench_tasks_target.py", (100,), 4 * samples)
    busy = bench(tornstack, "busy_app.py", (200,), samples)
    # the same program stopped: its size without its movement (no skip, no
    # recovery, no retry), the cost the walk's own design puts on it
    halted = bench(tornstack, "busy_app.py", (200,), samples, stopped=True)
    print("scale: python %s, tornstack bench --tasks (default policy), per sample; %s" % (
        busy["python"], PLACED))
    print("  %-22s %8s %10s %12s %10s %10s %10s %8s" % ("", "tasks", "syscalls", "bytes", "us",
                                                        "user us", "kernel us", "skip %"))
    for name, res in (("still 100 Tasks", still), ("busy 200 workers", busy),
                      ("busy, stopped", halted)):
        for kind in ("cold", "warm"):
            x = res[kind]
            print("  %-22s %8.0f %10.1f %12.0f %10.1f %10.1f %10.1f %8.2f" % (
                "%s %s" % (name, kind), x["tasks"], x["reads"], x["bytes"], x["us"], x["user"],
                x["sys"], x["skip"]))
    s, b = still["warm"], busy["warm"]
    print("  busy / still, warm: %.1fx the Tasks, %.1fx the syscalls, %.1fx the bytes, %.1fx the time"
          % (b["tasks"] / s["tasks"], b["reads"] / s["reads"], b["bytes"] / s["bytes"],
             b["us"] / s["us"]))
    # the kernel's share: its reads of the target's pages (docs/live-scale.md,
    # "The kernel's share")
    print("  busy, warm: %.0f us in the kernel (%.0f %% of the sample), %.0f us of tornstack's own"
          % (b["sys"], 100.0 * b["sys"] / max(b["us"], 1e-9), b["user"]))
    h = halted["warm"]
    # what the busy sample costs for its size alone, and for its movement
    print("  busy stopped, warm: %.1fx the still sample's time (%.1fx its frames); the busy "
          "sample %.1fx the stopped one's time, %.1fx its syscalls"
          % (h["us"] / s["us"], h["frames"] / max(s["frames"], 1e-9), b["us"] / h["us"],
             b["reads"] / max(h["reads"], 1e-9)))


if __name__ == "__main__":
    main()
