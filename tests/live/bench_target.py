"""Benchmark target: one thread parked under a DEPTH-deep recursion, and
optionally a second thread parked under a few frames.

    python bench_target.py TRUTH_FILE DEPTH [THREADS]

Writes {"pid", "version", "expected_threads"} to TRUTH_FILE, prints
"ready" and sleeps in C until killed.
"""
import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ts_live_frames  # noqa: E402

truth_file, depth = sys.argv[1], int(sys.argv[2])
threads = int(sys.argv[3]) if len(sys.argv) > 3 else 1


def ts_bench_second():
    while True:
        time.sleep(3600)


def ts_bench_park():
    for _ in range(threads - 1):
        threading.Thread(target=ts_bench_second, daemon=True).start()
    with open(truth_file, "w") as f:
        json.dump({"pid": os.getpid(), "version": sys.version.split()[0],
                   "expected_threads": threads}, f)
    print("ready", flush=True)
    while True:
        time.sleep(3600)


ts_live_frames.ts_recurse(depth, ts_bench_park)
