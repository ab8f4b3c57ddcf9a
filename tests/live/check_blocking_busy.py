"""Live test: the busy program sampled with --blocking skips nothing.

    python3.X check_blocking_busy.py TORNSTACK [SAMPLES]

Samples bias_busy_app.py (about 440 Tasks: nested gathers, awaited
children, fire-and-forget Tasks, CPU bursts, switching every few
microseconds) SAMPLES times (default 1000) with one attach, `tornstack
dump --format folded --count SAMPLES --blocking`.  The target is stopped
while each sample is read, so nothing moves under the reader: every
sample must come (none failed), with the program's hundreds of Tasks,
and not one Task reading or Task stack may be skipped, for any reason
(tornstack names each on its standard error; this program meets no
bound).  Prints the samples, Tasks and stacks, and the stopped time.
"""
import re
import subprocess
import sys

import livelib

tornstack = sys.argv[1]
samples = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
# the program holds some 440 Tasks; far fewer means it was not sampled
MIN_TASKS = 100
SUMMARY = re.compile(r"^tornstack: (\d+) samples \((\d+) failed\), ([\d.]+) tasks/sample")
WROTE = re.compile(r"^tornstack: wrote ([\d,]+) stacks")

t = livelib.Target("bias_busy_app.py")
try:
    r = subprocess.run([tornstack, "dump", "--pid", str(t.pid), "--format", "folded", "--count",
                        str(samples), "--blocking"], capture_output=True, text=True, timeout=600)
finally:
    t.close()
if r.returncode != 0:
    livelib.fail("tornstack exited %d: %s" % (r.returncode, r.stderr.strip()))
got = failed = None
tasks = 0.0
stacks = 0
skips = []
for ln in r.stderr.splitlines():
    m = SUMMARY.match(ln)
    if m:
        got, failed, tasks = int(m.group(1)), int(m.group(2)), float(m.group(3))
    m = WROTE.match(ln)
    if m:
        stacks = int(m.group(1).replace(",", ""))
    if ln.startswith("tornstack: skipped ") or "Task readings skipped" in ln:
        skips.append(ln)
    if "blocking:" in ln:
        print("blocking-busy: %s" % ln.replace("tornstack: ", ""))
print("blocking-busy: %s samples (%s failed), %.1f Tasks a sample, %d stacks written, "
      "%d skip lines" % (got, failed, tasks, stacks, len(skips)))
if got != samples or failed != 0:
    livelib.fail("asked for %d samples, got %s (%s failed): %s" % (samples, got, failed,
                                                                   r.stderr.strip()))
if tasks < MIN_TASKS:
    livelib.fail("%.1f Tasks a sample: the busy program holds some 440" % tasks)
if stacks < samples * MIN_TASKS:
    livelib.fail("%d stacks written for %d samples of %.1f Tasks" % (stacks, samples, tasks))
if skips:
    for ln in skips:
        print("blocking-busy: %s" % ln)
    livelib.fail("Tasks skipped while the target was stopped")
