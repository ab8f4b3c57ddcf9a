"""Live test: a process holding N idle Tasks, at and around UW_LIMIT_TASKS.

    python3.X check_idle_tasks.py TORNSTACK N

N is a number or limit-1, limit, limit+1, where limit is UW_LIMIT_TASKS as
src/include/tornstack/limits.h defines it (read from there, not repeated).
Starts idle_tasks_target.py with N Tasks, each suspended on one Event, and
takes two samples with one attach (`dump --format json --count 2`: the
first is the attach's fresh sample, the second a warm one).  Each must:
exit 0 and parse; list every Task when N <= limit, and exactly `limit`
Tasks with tasks_error "task_limit" beyond it; give each listed Task the
id, name, coroutine and frames of the truth file; skip none (nothing
moves).
"""
import json
import os
import re
import subprocess
import sys

import livelib

LIMITS_H = os.path.join(livelib.HERE, "..", "..", "src", "include", "tornstack", "limits.h")


def task_limit():
    with open(LIMITS_H) as f:
        m = re.search(r"^#define UW_LIMIT_TASKS (\d+)\s*$", f.read(), re.M)
    if m is None:
        livelib.fail("UW_LIMIT_TASKS not found in %s" % LIMITS_H)
    return int(m.group(1))


def parse_n(spec, limit):
    m = re.fullmatch(r"limit([+-]\d+)?", spec)
    if m:
        return limit + int(m.group(1) or 0)
    return int(spec)


def main():
    tornstack, spec = sys.argv[1], sys.argv[2]
    limit = task_limit()
    n = parse_n(spec, limit)
    t = livelib.Target("idle_tasks_target.py", n, timeout=120)
    try:
        r = subprocess.run([tornstack, "dump", "--pid", str(t.pid), "--format", "json",
                            "--count", "2"], capture_output=True, text=True, timeout=300)
    finally:
        t.close()
    if r.returncode != 0:
        livelib.fail("tornstack dump exited %d with %d Tasks: %s (stdout cut at %d bytes)" % (
            r.returncode, n, livelib.crash_summary(r.stderr), len(r.stdout)))
    dec = json.JSONDecoder()
    samples, pos = [], 0
    text = r.stdout
    while pos < len(text):
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos < len(text):
            try:
                doc, pos = dec.raw_decode(text, pos)
            except ValueError as e:
                livelib.fail("output is not JSON: %s" % e)
            samples.append(doc)
    if len(samples) != 2:
        livelib.fail("got %d samples, asked for 2" % len(samples))
    want = {x["id"]: x for x in t.truth["tasks"]}
    if len(want) != n:
        livelib.fail("target holds %d Tasks, meant %d" % (len(want), n))
    for k, s in enumerate(samples):
        got = {x["id"]: x for x in s["tasks"]}
        extra = set(got) - set(want)
        if extra:
            livelib.fail("sample %d lists %d Tasks the target does not hold, e.g. %s" % (
                k, len(extra), sorted(extra)[:3]))
        if n <= limit:
            if len(got) != n:
                livelib.fail("sample %d lists %d of %d Tasks" % (k, len(got), n))
            if s["tasks_error"] is not None:
                livelib.fail("sample %d: tasks_error %r with %d Tasks (limit %d)" % (
                    k, s["tasks_error"], n, limit))
        else:
            if len(got) != limit:
                livelib.fail("sample %d lists %d Tasks of %d, expected the first %d" % (
                    k, len(got), n, limit))
            if s["tasks_error"] != "task_limit":
                livelib.fail("sample %d: tasks_error %r with %d Tasks, expected task_limit" % (
                    k, s["tasks_error"], n))
        skipped = [x for x in s["tasks"] if x["skipped"] is not None]
        if skipped:
            reasons = {}
            for x in skipped:
                reasons[x["skipped"]] = reasons.get(x["skipped"], 0) + 1
            livelib.fail("sample %d: %d of %d Tasks skipped in a still process: %s" % (
                k, len(skipped), len(got), reasons))
        for tid, g in got.items():
            w = want[tid]
            for key in ("name", "coro"):
                if g[key] != w[key]:
                    livelib.fail("sample %d task %s: %s %r, expected %r" % (
                        k, tid, key, g[key], w[key]))
            gf = livelib.frames_of(g)
            wf = [(f["name"], f["file"], f["line"]) for f in w["frames"]]
            if gf != wf:
                livelib.fail("sample %d task %s (%s) frames %s, expected %s" % (
                    k, tid, w["name"], gf, wf))
    print("live idle: python %s: %d Tasks (limit %d): 2 samples, %d Tasks listed each, "
          "tasks_error %s, 0 skipped, names and frames match" % (
              samples[0]["python"], n, limit, len(samples[0]["tasks"]), samples[0]["tasks_error"]))


if __name__ == "__main__":
    main()
