"""Where a stop lands: the blocking reference's own bias (a benchmark).

    python3 bench_stop_site.py TORNSTACK SECONDS RATE PYTHON...

For each PYTHON, runs stop_site_app.py (a CPU burst, then a call that
makes one system call, over and over; it measures the share of its
running time spent in that call itself) and records it for SECONDS at
RATE Hz with --blocking (a running thread stopped by its own clock of
user time, or interrupted in the proportion of its kernel time), with
--stop-by kernel-clock (a clock that counts kernel time too, where the
kernel allows it), with --stop-by interrupt (by PTRACE_INTERRUPT alone),
without stopping, and with --pause-on-torn.  Prints, per recording, the share of its samples
inside ss_syscall beside that truth, and the samples it kept.
PTRACE_INTERRUPT takes effect when the thread next enters the kernel;
where the kick that should make it enter at once is slow (a virtual
CPU's interrupt), the next system call comes first, and such a
reference over-counts the code just before system calls (docs/pause.md,
"Where a stop lands").  Asserts nothing.
"""
import json
import os
import re
import select
import subprocess
import sys
import tempfile

import livelib

HERE = os.path.dirname(os.path.abspath(__file__))
tornstack, seconds, rate = sys.argv[1], float(sys.argv[2]), sys.argv[3]
pythons = sys.argv[4:]
MODES = (("blocking", ["--blocking", "--stop-by", "clock"]),
         ("blk kernel-clk", ["--blocking", "--stop-by", "kernel-clock"]),
         ("blk interrupt", ["--blocking", "--stop-by", "interrupt"]),
         ("non-blocking", []), ("pause-on-torn", ["--pause-on-torn"]))


def measure(python, work):
    truth = os.path.join(work, "truth.json")
    runtime = len(MODES) * seconds + 3
    p = subprocess.Popen([python, os.path.join(HERE, "stop_site_app.py"), truth, str(runtime)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        ready, _, _ = select.select([p.stdout], [], [], 60)
        if not ready or p.stdout.readline().strip() != "ready":
            raise RuntimeError("stop_site_app.py under %s did not start: %s" %
                               (python, p.stderr.read()))
        with open(truth) as f:
            pid = json.load(f)["pid"]
        rows = []
        for name, flags in MODES:
            out = os.path.join(work, name + ".folded")
            r = subprocess.run([tornstack, "record", "--pid", str(pid), "--rate", rate,
                                "--duration", str(seconds), "-o", out] + flags,
                               capture_output=True, text=True, timeout=seconds * 4 + 60)
            if r.returncode == 6:
                return None  # a version tornstack does not walk
            if r.returncode != 0:
                raise RuntimeError("record %s: exit %d: %s" % (name, r.returncode, r.stderr))
            m = re.search(r"tornstack: (\d+) samples", r.stderr)
            rows.append((name, livelib.folded_share(out, "ss_syscall"), int(m.group(1)) if m else 0))
        p.wait(timeout=runtime + 60)
        with open(truth) as f:
            t = json.load(f)
        return t["version"], t["syscall_share"], t["wall_share"], rows
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def main():
    print("stop-site: %.1f s per recording at %s Hz; share = samples inside ss_syscall, "
          "truth = running time inside it as the target timed it (wall: waits for a CPU "
          "included)" % (seconds, rate))
    print("%-8s %7s %7s  %-14s %7s %8s %8s" % ("python", "truth", "wall", "recording", "share",
                                               "samples", "kept"))
    for python in pythons:
        with tempfile.TemporaryDirectory(prefix="tornstack-stop-site-") as work:
            got = measure(python, work)
        if got is None:
            print("%-8s (not walked by this build)" % os.path.basename(python))
            continue
        version, truth, wall, rows = got
        for name, (inside, total), samples in rows:
            print("%-8s %7.3f %7.3f  %-14s %7.3f %8d %8d" % (version, truth, wall, name,
                                                           inside / total if total else 0.0,
                                                           samples, total))
    return 0


if __name__ == "__main__":
    sys.exit(main())
