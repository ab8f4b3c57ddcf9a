"""Target whose time is known, for tests/live/bench_stop_site.py.

    python stop_site_app.py TRUTH_FILE SECONDS

One thread loops over a short CPU burst (ss_crunch) and a call that makes
one system call (ss_syscall, an os.stat).  It writes {"pid", "version"}
to TRUTH_FILE, prints "ready", runs SECONDS more, then writes the share of
wall time spent inside ss_syscall (timed with perf_counter_ns around each
call, a few hundred nanoseconds of its own) as "syscall_share" and exits.
A profile that samples wall time uniformly puts about that share of its
samples in ss_syscall.
"""
import json
import os
import sys
import time

truth_file = sys.argv[1]
seconds = float(sys.argv[2])


def ss_syscall():
    os.stat("/")


def ss_crunch():
    acc = 0
    for i in range(200):
        acc += i * i
    return acc


def ss_main():
    with open(truth_file, "w") as f:
        json.dump({"pid": os.getpid(), "version": sys.version.split()[0]}, f)
    print("ready", flush=True)
    inside = 0
    t0 = time.perf_counter_ns()
    end = t0 + int(seconds * 1e9)
    now = t0
    while now < end:
        ss_crunch()
        t = time.perf_counter_ns()
        ss_syscall()
        now = time.perf_counter_ns()
        inside += now - t
    with open(truth_file, "w") as f:
        json.dump({"pid": os.getpid(), "version": sys.version.split()[0],
                   "syscall_share": inside / (now - t0)}, f)


ss_main()
