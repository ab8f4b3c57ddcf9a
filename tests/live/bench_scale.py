"""Benchmark: the busy program's sample cost beside the still 100-Task one.

    python3.X bench_scale.py TORNSTACK [SAMPLES]

Runs `tornstack bench --tasks` (default policy; cache cold, then warm) on
bench_tasks_target.py (100 Tasks, each three coroutines deep, still) and
on busy_app.py (200 workers, about 500 Tasks switching every few
microseconds), and prints syscalls (reads), bytes and microseconds per
sample of each, and their ratios.  Numbers only: nothing is asserted.
"""
import re
import subprocess
import sys

import livelib

LINE = re.compile(r"^(cold|warm)\s+samples=(\d+) .*tasks/sample=([\d.]+) .*reads/sample=([\d.]+) "
                  r".*bytes/sample=([\d.]+) us/sample=([\d.]+)")


def bench(tornstack, script, args, samples):
    t = livelib.Target(script, *args)
    try:
        r = subprocess.run([tornstack, "bench", "--pid", str(t.pid), "--samples", str(samples),
                            "--tasks"], capture_output=True, text=True, timeout=600)
    finally:
        t.close()
    if r.returncode != 0:
        sys.stderr.write(r.stderr)
        sys.exit(r.returncode)
    out = {}
    for ln in r.stdout.splitlines():
        m = LINE.match(ln)
        if m:
            out[m.group(1)] = dict(n=int(m.group(2)), tasks=float(m.group(3)),
                                   reads=float(m.group(4)), bytes=float(m.group(5)),
                                   us=float(m.group(6)))
        elif ln.startswith("bench "):
            out["python"] = ln.split("python=")[1]
    return out


def main():
    tornstack = sys.argv[1]
    samples = int(sys.argv[2]) if len(sys.argv) > 2 else 500
    still = bench(tornstack, "bench_tasks_target.py", (100,), 4 * samples)
    busy = bench(tornstack, "busy_app.py", (200,), samples)
    print("scale: python %s, tornstack bench --tasks (default policy), per sample" % busy["python"])
    print("  %-22s %8s %10s %12s %10s" % ("", "tasks", "syscalls", "bytes", "us"))
    for name, res in (("still 100 Tasks", still), ("busy 200 workers", busy)):
        for kind in ("cold", "warm"):
            x = res[kind]
            print("  %-22s %8.0f %10.1f %12.0f %10.1f" % (
                "%s %s" % (name, kind), x["tasks"], x["reads"], x["bytes"], x["us"]))
    s, b = still["warm"], busy["warm"]
    print("  busy / still, warm: %.1fx the Tasks, %.1fx the syscalls, %.1fx the bytes, %.1fx the time"
          % (b["tasks"] / s["tasks"], b["reads"] / s["reads"], b["bytes"] / s["bytes"],
             b["us"] / s["us"]))


if __name__ == "__main__":
    main()
