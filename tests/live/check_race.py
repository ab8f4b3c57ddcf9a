"""Live race test: no frame of one Task family in another family's Task.

    python3.X check_race.py TORNSTACK [SAMPLES] [POLICY...]

Samples race_app.py SAMPLES times (default 5000) with one attach
(`tornstack dump --count`), and checks every sample: each Task's own
frames may hold fam_<family>_ frames of its own family only, and frames of
the loop (the pure Python stack) never appear in a Task.  Prints the number
of Task stacks checked, the skip rate per reason and the share of Task
readings recovered (read and checked again) per reason.  Exits non-zero on any
cross-family frame.  Extra arguments are passed to tornstack (e.g.
--no-skip, to see what an earlier policy leaks).  With --blocking the target
is stopped while each sample is read, so it does not move under the reader:
then any skipped Task fails the test, and the first ones are printed with
their reason, frames and sample.  So does --pause-on-torn, which stops the
target only to redo a sample that skipped; the share of samples redone
and the stopped time are printed.
"""
import json
import re
import subprocess
import sys
from collections import Counter

import livelib

tornstack = sys.argv[1]
samples = int(sys.argv[2]) if len(sys.argv) > 2 else 5000
policy = sys.argv[3:]
FAM = re.compile(r"^fam_([a-z]+)_")
LOOP = {"Handle._run", "BaseEventLoop._run_once", "BaseEventLoop.run_forever",
        "BaseEventLoop.run_until_complete", "Runner.run", "run"}

t = livelib.Target("race_app.py")
want_tasks = t.truth["tasks"]  # its family Tasks and the main Task, alive throughout
try:
    r = subprocess.run([tornstack, "dump", "--pid", str(t.pid), "--format", "json",
                        "--count", str(samples)] + policy,
                       capture_output=True, text=True, timeout=600)
finally:
    t.close()
if r.returncode != 0:
    livelib.fail("tornstack exited %d: %s" % (r.returncode, r.stderr.strip()))

dec = json.JSONDecoder()
text, pos = r.stdout, 0
n_samples = n_tasks = n_stacks = leaks = running = 0
skips = Counter()
recovered = Counter()
first_leak = None
short = []  # (sample, Tasks listed, tasks_error) of samples that did not list every Task
skipped_tasks = []  # (sample, name, coro, reason, running, frames) of the first skips
thread_cuts = []  # (sample, truncated, frames) of the threads of the first skips
while pos < len(text):
    while pos < len(text) and text[pos].isspace():
        pos += 1
    if pos >= len(text):
        break
    sample, pos = dec.raw_decode(text, pos)
    n_samples += 1
    recovered.update(sample.get("recovered", {}))
    if len(sample["tasks"]) != want_tasks or sample["tasks_error"] is not None:
        short.append((n_samples, len(sample["tasks"]), sample["tasks_error"]))
    for task in sample["tasks"]:
        n_tasks += 1
        if task["skipped"] is not None:
            skips[task["skipped"]] += 1
            if len(skipped_tasks) < 5:
                skipped_tasks.append((n_samples, task["name"], task["coro"], task["skipped"],
                                      task["running"], [x["name"] for x in task["frames"]]))
                for th in sample["threads"]:
                    if th.get("truncated"):
                        thread_cuts.append((n_samples, th["truncated"],
                                            [x["name"] for x in th["frames"]]))
            continue
        n_stacks += 1
        running += task["running"]
        m = FAM.match(task["coro"] or "")
        if m is None:
            continue  # the main Task
        fam = m.group(1)
        for f in task["frames"]:
            other = FAM.match(f["name"])
            if (other and other.group(1) != fam) or f["name"] in LOOP:
                leaks += 1
                if first_leak is None:
                    first_leak = (task["name"], f["name"], [x["name"] for x in task["frames"]])
skipped = sum(skips.values())
print("race: python %s: %d samples, %d task readings, %d task stacks checked (%d running), "
      "%d cross-family frames" % (sample["python"], n_samples, n_tasks, n_stacks, running, leaks))
print("race: skipped %d of %d task readings (%.3f%%)%s" % (
    skipped, n_tasks, 100.0 * skipped / max(n_tasks, 1),
    "".join(" %s=%d" % kv for kv in sorted(skips.items()))))
print("race: recovered %d of %d task readings (%.3f%%)%s" % (
    sum(recovered.values()), n_tasks, 100.0 * sum(recovered.values()) / max(n_tasks, 1),
    "".join(" %s=%d" % kv for kv in sorted(recovered.items()))))
if n_samples != samples:
    livelib.fail("got %d samples, asked for %d" % (n_samples, samples))
if leaks:
    livelib.fail("leak: task %s shows %s: %s" % first_leak)
# Every Task lives as long as the program: a sample that lists fewer (or
# says why it could not read them) lost Tasks, and a run that judged no
# family Task's stack judged nothing.
if short:
    livelib.fail("%d samples did not list the program's %d Tasks; first: sample %d listed %d, "
                 "tasks_error %r" % ((len(short), want_tasks) + short[0]))
if n_stacks <= n_samples:
    livelib.fail("%d Task stacks judged in %d samples: nearly every Task skipped" % (
        n_stacks, n_samples))
stopping = "--blocking" in policy or "--pause-on-torn" in policy
if running == 0 and not stopping:
    livelib.fail("no running Task was ever seen: the test did not race")
if stopping:
    for ln in r.stderr.strip().splitlines():
        if "blocking:" in ln or "pause-on-torn:" in ln:
            print("race: %s" % ln.replace("tornstack: ", ""))
    if skipped:
        for sk in skipped_tasks:
            print("race: skipped in sample %d: task %s (coro %s): %s, running=%s, frames %r" % sk)
        for cut in thread_cuts[:5]:
            print("race: in sample %d a thread walk was cut (%s): frames %r" % cut)
        livelib.fail("%d Task readings skipped while the target was stopped" % skipped)
