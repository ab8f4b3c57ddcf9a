"""Target whose time is known, for tests/live/bench_stop_site.py.

    python stop_site_app.py TRUTH_FILE SECONDS

One thread loops over a short CPU burst (ss_crunch) and a call that makes
one system call (ss_syscall, an os.stat).  It writes {"pid", "version"}
to TRUTH_FILE, prints "ready", runs SECONDS more, then writes the share of
its running time spent inside ss_syscall as "syscall_share" and exits.

Each call is timed with perf_counter_ns around it (a few hundred
nanoseconds of the caller's own are inside that window), and so is each
round of the loop.  A round that took more than ROUND_SLOW times the
median round was not running all along: the thread waited for a CPU (on
a busy machine it is often made to wait as a system call returns, which
puts that wait inside ss_syscall's window) or was held by a profiler's
stop.  The share is taken over the other rounds: a stop that lands at a
random point of the thread's running time, as a blocking stop does
(docs/pause.md, "Where a stop lands"), lands in ss_syscall with that
probability.  The share over all rounds, waits included, is written
beside it as "wall_share".
"""
import array
import json
import os
import sys
import time

truth_file = sys.argv[1]
seconds = float(sys.argv[2])
ROUND_SLOW = 3


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
    # each round, and its time inside ss_syscall's window (nanoseconds)
    rounds, insides = array.array("q"), array.array("q")
    t0 = time.perf_counter_ns()
    end = t0 + int(seconds * 1e9)
    now = t0
    while now < end:
        before = now
        ss_crunch()
        t = time.perf_counter_ns()
        ss_syscall()
        now = time.perf_counter_ns()
        rounds.append(now - before)
        insides.append(now - t)
    slow = ROUND_SLOW * sorted(rounds)[len(rounds) // 2]
    running = [(r, i) for r, i in zip(rounds, insides) if r <= slow]
    with open(truth_file, "w") as f:
        json.dump({"pid": os.getpid(), "version": sys.version.split()[0],
                   "syscall_share": sum(i for _, i in running) / sum(r for r, _ in running),
                   "wall_share": sum(insides) / (now - t0),
                   "rounds": len(rounds), "rounds_running": len(running)}, f)


ss_main()
