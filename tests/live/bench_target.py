"""Benchmark target: one thread parked under a DEPTH-deep recursion.

    python bench_target.py TRUTH_FILE DEPTH

Writes {"pid", "version", "expected_threads": 1} to TRUTH_FILE, prints
"ready" and sleeps in C until killed.
"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ts_live_frames  # noqa: E402

truth_file, depth = sys.argv[1], int(sys.argv[2])


def ts_bench_park():
    with open(truth_file, "w") as f:
        json.dump({"pid": os.getpid(), "version": sys.version.split()[0],
                   "expected_threads": 1}, f)
    print("ready", flush=True)
    while True:
        time.sleep(3600)


ts_live_frames.ts_recurse(depth, ts_bench_park)
