"""Benchmark: tornstack's cost per sample of a live process.

    python3.X bench_threads.py TORNSTACK [DEPTH] [SAMPLES]

Starts bench_target.py (one thread parked under a DEPTH-deep recursion, so
about DEPTH+3 frames) under this interpreter and runs `tornstack bench`,
which prints reads (syscalls), bytes and microseconds per sample with the
code-object cache cold (emptied before each sample) and warm.  Numbers are
printed, not asserted: they depend on the machine.
"""
import subprocess
import sys

import livelib

tornstack = sys.argv[1]
depth = int(sys.argv[2]) if len(sys.argv) > 2 else 47
samples = int(sys.argv[3]) if len(sys.argv) > 3 else 20000
t = livelib.Target("bench_target.py", depth)
try:
    r = subprocess.run([tornstack, "bench", "--pid", str(t.pid), "--samples", str(samples)],
                       capture_output=True, text=True, timeout=600)
    sys.stdout.write(r.stdout)
    sys.stderr.write(r.stderr)
    sys.exit(r.returncode)
finally:
    t.close()
