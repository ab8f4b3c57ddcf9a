"""Live test: Task stacks on uvloop's loop, which calls its callbacks from C.

    python3.X check_uvloop.py TORNSTACK still SCENARIO [SAMPLES] [FRESH]
    python3.X check_uvloop.py TORNSTACK echo [--seconds S] [--folded N] [--json N]

uvloop has no Handle._run frame and no Python ready deque: tornstack splits
the loop's stack at the loop's caller (docs/tasks.md, "uvloop").  Without
uvloop installed the test fails, saying so.

still  asyncio_scenarios.py SCENARIO on uvloop (gather_of_gathers: a gather
       tree waiting on an Event; spin: a CPU-bound Task running while others
       wait; callback: a plain callback blocking the loop).  SAMPLES samples
       with one attach (default 20) and FRESH single dumps (default 5):
       every Task entry exactly as the target's truth and none skipped
       (check_tasks.compare); then the folded stacks of `dump` and of
       `record`: every stack with a Task starts with the loop's pure Python
       stack as the target saw it (its main Task's callers) and nothing
       else before its first Task, and, unless a plain callback runs (the
       callback scenario, where the loop's caller is not known on a fresh
       attach), every leaf Task of the truth ends one stack of each sample.
echo   echo_uvloop_app.py (connection handler Tasks, ticker Tasks and a plain
       timer callback, all named by family) loaded by echo_uvloop_client.py
       in another process; `record` for S seconds (default 2), `dump
       --format folded --count N` (default 1000) and `dump --format json
       --count N` (default 100), judged as check_busy.py judges the busy
       program: no frame of one family in another's Task or in the pure
       stack (cross), every Task stack rooted at the pure stack (unrooted),
       each `<task NAME>` over its own family's root coroutine (marker), no
       Task under one that did not create it (link), and every JSON entry's
       name, coroutine and frames of one family (label).  Prints the skip
       rate.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import time
from collections import Counter

import livelib

HERE = os.path.dirname(os.path.abspath(__file__))


def need_uvloop():
    try:
        import uvloop  # noqa: F401
    except ImportError:
        livelib.fail("uvloop is not installed for %s (Debian: python3-uvloop; "
                     "scripts/setup.sh installs it)" % sys.executable)


def pure_key(frames):
    return ["%s (%s:%d)" % (f["name"], f["file"], f["line"]) for f in frames]


def parse_folded(text):
    out = Counter()
    for ln in text.splitlines():
        stack, _, n = ln.rpartition(" ")
        out[stack] += int(n)
    return out


def folded_dump(tornstack, pid, count):
    r = subprocess.run([tornstack, "dump", "--pid", str(pid), "--format", "folded",
                        "--count", str(count)], capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        livelib.fail("tornstack dump exited %d: %s" % (r.returncode, livelib.crash_summary(r.stderr)))
    return parse_folded(r.stdout)


def record(tornstack, pid, seconds, path):
    r = subprocess.run([tornstack, "record", "--pid", str(pid), "--rate", "1000",
                        "--duration", str(seconds), "-o", path], capture_output=True, text=True,
                       timeout=120)
    if r.returncode != 0:
        livelib.fail("tornstack record exited %d: %s" % (r.returncode, livelib.crash_summary(r.stderr)))
    m = re.search(r"tornstack: (\d+) samples \((\d+) failed\)", r.stderr)
    if m is None:
        livelib.fail("no sample count from record: %s" % r.stderr.strip())
    skips = Counter()
    for sm in re.finditer(r"skipped (\w+): (\d+) tasks, (\d+) stacks", r.stderr):
        skips[sm.group(1)] += int(sm.group(2))
    with open(path) as f:
        return parse_folded(f.read()), int(m.group(1)), skips


def json_dumps(tornstack, pid, count):
    import check_still
    r = subprocess.run([tornstack, "dump", "--pid", str(pid), "--format", "json", "--count",
                        str(count)], capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        livelib.fail("tornstack dump exited %d: %s" % (r.returncode, livelib.crash_summary(r.stderr)))
    got = check_still.samples_of(r.stdout)
    if len(got) != count:
        livelib.fail("got %d samples, asked for %d" % (len(got), count))
    return got


def task_stacks(folded):
    """(stack items after the thread marker, count) of stacks with a Task."""
    for stack, n in folded.items():
        items = stack.split(";")
        if not items or not items[0].startswith("<thread "):
            livelib.fail("stack without its thread marker first: %s" % stack[:200])
        if any(x.startswith("<thread ") for x in items[1:]):
            livelib.fail("thread marker inside a stack: %s" % stack[:200])
        if any(x.startswith("<task ") for x in items):
            yield items[1:], n


def rooted(items, pure):
    """None when the frames before the first Task are exactly `pure`."""
    first = next(i for i, x in enumerate(items) if x.startswith("<task "))
    if items[:first] != pure:
        return "stack roots at %s, expected the pure stack %s" % (items[:first], pure)
    return None


# --- still ---------------------------------------------------------------------

def still(tornstack, scenario, count, fresh):
    import check_tasks
    t = livelib.Target("asyncio_scenarios.py", scenario + "_uvloop")
    try:
        samples = json_dumps(tornstack, t.pid, count)
        kinds = ["fresh"] + ["warm"] * (count - 1)
        for _ in range(fresh):
            samples += json_dumps(tornstack, t.pid, 1)
            kinds.append("fresh")
        folded = [folded_dump(tornstack, t.pid, 1) for _ in range(fresh)]
        folded.append(folded_dump(tornstack, t.pid, count))
        rec, n_rec, rec_skips = record(tornstack, t.pid, 1, os.path.join(t.dir, "rec.folded"))
    finally:
        t.close()
    pure = pure_key(t.truth["pure"])
    if len(pure) < 2 or not pure[-1].startswith("Runner.run "):
        livelib.fail("the target's pure stack %s does not end at Runner.run" % pure)
    skips, readings = Counter(), 0
    for i, s in enumerate(samples):
        for x in s["tasks"]:
            readings += 1
            if x["skipped"] is not None:
                skips[(kinds[i], x["skipped"], x["name"])] += 1
        err = check_tasks.compare(s, t.truth, scenario)
        if err is not None:
            livelib.fail("sample %d (%s): %s" % (i, kinds[i], err))
    callback = scenario == "callback"
    leaves = Counter(x["name"] for x in t.truth["tasks"] if not x["awaiting"])
    n_stacks = 0
    for k, fo in enumerate(folded + [rec]):
        ends = Counter()
        for items, n in task_stacks(fo):
            n_stacks += n
            err = rooted(items, pure)
            if err is not None:
                livelib.fail(("record: " if k == len(folded) else "dump %d: " % k) + err)
            last = [x for x in items if x.startswith("<task ")][-1][len("<task "):-1]
            ends[last] += n
        if callback:
            continue
        per = n_rec if k == len(folded) else (count if k == len(folded) - 1 else 1)
        want = Counter({name: c * per for name, c in leaves.items()})
        if ends != want:
            livelib.fail("%s: leaf Task stacks %s, expected %s" % (
                "record" if k == len(folded) else "dump %d" % k, dict(ends), dict(want)))
    if sum(rec_skips.values()) and not callback:
        livelib.fail("record skipped Tasks of a still process: %s" % dict(rec_skips))
    print("live uvloop still: python %s %s: %d JSON samples (%d fresh), %d Task readings, "
          "%d skipped; %d folded Task stacks rooted at %s; record %d samples, skips %s" % (
              samples[0]["python"], scenario, len(samples), kinds.count("fresh"), readings,
              sum(skips.values()), n_stacks, " > ".join(p.split(" ")[0] for p in pure), n_rec,
              dict(rec_skips)))
    if skips:
        livelib.fail("skipped in a still process: %s" % dict(skips))


# --- echo ----------------------------------------------------------------------

FAMILIES = {"conn": "echo_conn", "tick": "tick_task", "main": "echo_main"}
PREFIX = {"conn": "echo_", "tick": "tick_", "main": "echo_main"}
PARENT = {"tick": "main"}  # a ticker is gathered by main; a connection Task has no parent


def family_of_frame(name):
    base = name.split(".")[0]
    if base.startswith("cb_"):
        return "cb"
    if base == "echo_main":
        return "main"
    if base.startswith("echo_"):
        return "conn"
    if base.startswith("tick_"):
        return "tick"
    return None


def judge_stack(items, pure, app_file):
    """Findings of one folded Task stack: (kind, detail) or None."""
    err = rooted(items, pure)
    if err is not None:
        return "unrooted", err
    first = next(i for i, x in enumerate(items) if x.startswith("<task "))
    fam, prev = None, None
    for i in range(first, len(items)):
        x = items[i]
        if x.startswith("<task "):
            name = x[len("<task "):-1]
            new = name.split(".")[0]
            if new not in FAMILIES:
                return "marker", "unknown Task name %s" % name
            nxt = items[i + 1] if i + 1 < len(items) else ""
            if not nxt.startswith(FAMILIES[new] + " "):
                return "marker", "<task %s> over %s" % (name, nxt)
            if fam is not None and PARENT.get(new) != fam:
                return "link", "%s under %s" % (name, prev)
            fam, prev = new, name
            continue
        fname, _, where = x.partition(" (")
        if app_file not in where:
            continue  # library frames (asyncio.streams, locks) may be in any Task
        ff = family_of_frame(fname)
        if ff != fam:
            return "cross", "%s in Task %s" % (fname, prev)
    return None


def judge_entry(x, app_file):
    name = x["name"].split(".")[0]
    if name not in FAMILIES:
        return "label", "unknown Task name %s" % x["name"]
    if x["coro"] != FAMILIES[name]:
        return "label", "Task %s runs %s" % (x["name"], x["coro"])
    for f in x["frames"]:
        if app_file in f["file"] and family_of_frame(f["name"]) != name:
            return "label", "Task %s has frame %s" % (x["name"], f["name"])
    return None


def echo(tornstack, args):
    t = livelib.Target("echo_uvloop_app.py")
    client = None
    try:
        client = subprocess.Popen([sys.executable, os.path.join(HERE, "echo_uvloop_client.py"),
                                   str(t.truth["port"]), str(args.connections)],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = client.stdout.readline()
        if line.strip() != "connected":
            livelib.fail("client did not connect: %r %s" % (line, client.stderr.read()))
        time.sleep(0.3)
        rec, n_rec, rec_skips = record(tornstack, t.pid, args.seconds, os.path.join(t.dir, "rec.folded"))
        dumped = folded_dump(tornstack, t.pid, args.folded)
        samples = json_dumps(tornstack, t.pid, args.json)
        alive = client.poll() is None and t.proc.poll() is None
    finally:
        if client is not None:
            if client.poll() is None:
                client.kill()
            client.wait()
            client.stdout.close()
            client.stderr.close()
        t.close()
    if not alive:
        livelib.fail("the echo server or its client died while sampled")
    pure = pure_key(t.truth["pure"])
    app = t.truth["app"]
    findings, n_stacks, examples = Counter(), 0, {}
    for fo in (rec, dumped):
        for items, n in task_stacks(fo):
            n_stacks += n
            r = judge_stack(items, pure, app)
            if r is not None:
                findings[r[0]] += n
                examples.setdefault(r[0], r[1])
    readings, skips, running = 0, Counter(), 0
    for s in samples:
        for x in s["tasks"]:
            readings += 1
            if x["skipped"] is not None:
                skips[x["skipped"]] += 1
                continue
            running += bool(x["running"])
            r = judge_entry(x, app)
            if r is not None:
                findings[r[0]] += 1
                examples.setdefault(r[0], r[1])
    fam_frames, busy = Counter(), Counter()
    for items, n in task_stacks(rec):
        for x in items:
            if x.startswith("<task "):
                fam_frames[x[len("<task "):-1].split(".")[0]] += n
        leaf = items[-1].split(" ")[0]
        if leaf in ("echo_work", "tick_burn", "<genexpr>"):
            busy[leaf] += n
    print("live uvloop echo: python %s: record %d samples (skipped Tasks by reason %s), "
          "%d folded Task stacks judged (by family %s; running in %s); JSON %d samples, %d Task readings, "
          "%d running, %d skipped (%.2f %%: %s); findings %s" % (
              samples[0]["python"] if samples else "?", n_rec, dict(rec_skips), n_stacks,
              dict(fam_frames), dict(busy), len(samples), readings, running, sum(skips.values()),
              100.0 * sum(skips.values()) / max(readings, 1), dict(skips), dict(findings)))
    for k, v in examples.items():
        print("  %s: %s" % (k, v))
    if findings:
        livelib.fail("findings: %s" % dict(findings))
    if not fam_frames.get("conn") or not busy:
        livelib.fail("no connection Task, or no Task seen running: the load did not reach the server")
    if not samples or readings == sum(skips.values()):
        livelib.fail("%d JSON samples, no Task entry judged: every reading skipped" % len(samples))


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    tornstack, mode = sys.argv[1], sys.argv[2]
    need_uvloop()
    if mode == "still":
        still(tornstack, sys.argv[3], int(sys.argv[4]) if len(sys.argv) > 4 else 20,
              int(sys.argv[5]) if len(sys.argv) > 5 else 5)
    elif mode == "echo":
        ap = argparse.ArgumentParser()
        ap.add_argument("--seconds", type=float, default=2)
        ap.add_argument("--folded", type=int, default=1000)
        ap.add_argument("--json", type=int, default=100)
        ap.add_argument("--connections", type=int, default=8)
        echo(tornstack, ap.parse_args(sys.argv[3:]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
