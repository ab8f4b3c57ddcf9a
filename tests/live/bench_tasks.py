"""Benchmark: cost of a sample with asyncio Tasks (numbers printed only).

    python3.X bench_tasks.py TORNSTACK [N_TASKS] [SAMPLES]

Starts bench_tasks_target.py (N_TASKS Tasks, default 100, each three
coroutines deep) and runs `tornstack bench --tasks` with one frame per
coroutine (the default) and with each coroutine's frame chain unwound
fully (--task-depth 0), cache cold and warm.
"""
import subprocess
import sys

import livelib

tornstack = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 100
samples = sys.argv[3] if len(sys.argv) > 3 else "2000"
t = livelib.Target("bench_tasks_target.py", n)
try:
    for label, extra in (("one frame per coroutine", []), ("full unwind", ["--task-depth", "0"])):
        r = subprocess.run([tornstack, "bench", "--pid", str(t.pid), "--samples", samples,
                            "--tasks"] + extra, capture_output=True, text=True, timeout=600)
        print("%s (%d tasks):" % (label, n))
        sys.stdout.write(r.stdout)
        if r.returncode != 0:
            sys.stderr.write(r.stderr)
            sys.exit(r.returncode)
finally:
    t.close()
