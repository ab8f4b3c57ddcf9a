"""A recording of a gather/TaskGroup program, in every profile format.

    python check_profile_formats.py TORNSTACK OUTDIR SCHEMA_PYTHON SCHEMA PROTO_DIR

Records profile_app.py (two threads named ts-loop and ts-worker, Tasks
main <- batch-a/batch-b (TaskGroups) <- fetch-*, and a spinner) as a folded
file, then checks:
  - every line has the thread marker of its thread (native id and name) at
    the root, every Task of the program appears as a <task NAME> frame, and
    Task frames nest as the Tasks do (fetch-a-K under batch-a under main);
  - --no-task-frames / --no-thread-frames leave those markers out and
    nothing else;
  - convert to speedscope passes speedscope's schema (the npm package's
    file-format-schema.json, with jsonschema) and holds exactly the folded
    file's stacks and counts, with one profile per thread;
  - convert to pprof decodes with `protoc --decode` against
    src/profile/profile.proto and holds the same stacks and counts, with
    thread_id / thread_name / task_name labels and the skip counts in its
    comments;
  - record straight to speedscope, pprof and html also works.
"""
import collections
import json
import os
import shutil
import subprocess
import sys

import livelib
import proflib

tornstack, outdir, schema_python, schema, proto_dir = sys.argv[1:6]
os.makedirs(outdir, exist_ok=True)
HERE = os.path.dirname(os.path.abspath(__file__))
checked = []


def fail(msg):
    livelib.fail(msg)


def check(cond, msg):
    if not cond:
        fail(msg)


t = livelib.Target("profile_app.py")
try:
    truth = t.truth
    threads = {int(k): v for k, v in truth["threads"].items()}
    folded = os.path.join(outdir, "recording.folded")
    err = proflib.record(tornstack, t.pid, folded, "folded", duration=2.0)
    check("wrote" in err and "recording.folded" in err and "flamegraph.pl" in err,
          "record does not say what it wrote and how to open it: %r" % err)
    stacks, lines = proflib.read_folded(folded)
    total = sum(stacks.values())
    check(total > 0, "empty recording")

    # --- markers: threads at the root, Tasks nested as the program nests them
    seen_tasks, seen_funcs, seen_threads = set(), set(), set()
    for st in stacks:
        root = st[0]
        check(root[0] == "thread", "stack without a thread marker at its root: %r" % (st,))
        check(root[1] in threads and threads[root[1]] == root[2],
              "thread marker %r is not one of %r" % (root, threads))
        check(sum(1 for f in st if f[0] == "thread") == 1, "two thread markers in %r" % (st,))
        seen_threads.add(root[1])
        tasks = [f[1] for f in st if f[0] == "task"]
        seen_tasks.update(tasks)
        seen_funcs.update(f[1] for f in st if f[0] == "py")
        if tasks:
            check(root[2] == "ts-loop", "Task frames on thread %r" % (root,))
            check(tasks[0] == "main", "outermost Task of %r is not main" % tasks)
        for i, name in enumerate(tasks):
            if name.startswith("fetch-"):
                group = "batch-" + name.split("-")[1]
                check(tasks[:i] == ["main", group],
                      "%s is under %r, not main;%s" % (name, tasks[:i], group))
            if name in ("batch-a", "batch-b", "spinner"):
                check(tasks[:i] == ["main"], "%s is under %r, not main" % (name, tasks[:i]))
        # the frame right after a Task marker is that Task's coroutine
        for i, f in enumerate(st[:-1]):
            if f[0] == "task" and f[1].startswith("fetch-"):
                check(st[i + 1][:2] == ("py", "fetch"), "after %r comes %r" % (f, st[i + 1]))
    check(seen_threads == set(threads), "threads %r, expected %r" % (seen_threads, threads))
    missing = set(truth["tasks"]) - seen_tasks
    check(not missing, "Tasks never in a <task> frame: %r" % sorted(missing))
    missing = set(truth["functions"]) - seen_funcs
    check(not missing, "functions never recorded: %r" % sorted(missing))
    checked.append("folded markers (%d stacks, %d lines)" % (total, len(lines)))

    # --- options leave the markers out, and only them
    bare = os.path.join(outdir, "bare.folded")
    proflib.record(tornstack, t.pid, bare, "folded", duration=0.5,
                   extra=("--no-task-frames", "--no-thread-frames"))
    bstacks, _ = proflib.read_folded(bare)
    check(bstacks, "bare recording is empty")
    for st in bstacks:
        check(all(f[0] == "py" for f in st), "marker left in %r" % (st,))
    bfuncs = {f[1] for st in bstacks for f in st}
    check({"fetch", "leaf", "busy_loop"} <= bfuncs, "bare recording lacks frames: %r" % bfuncs)
    # converting with the same options drops exactly the markers
    conv = os.path.join(outdir, "stripped.folded")
    proflib.convert(tornstack, folded, conv, "folded", ("--no-task-frames", "--no-thread-frames"))
    sstacks, _ = proflib.read_folded(conv)
    want = collections.Counter()
    for st, c in stacks.items():
        want[tuple(f for f in st if f[0] == "py")] += c
    check(sstacks == want, "convert --no-*-frames changed more than the markers")
    checked.append("--no-task-frames/--no-thread-frames")

    # --- speedscope: the schema, then the same stacks
    ss = os.path.join(outdir, "recording.speedscope.json")
    err = proflib.convert(tornstack, folded, ss, "speedscope")
    check("speedscope" in err and "drag it onto" in err, "convert hint: %r" % err)
    r = subprocess.run([schema_python, os.path.join(HERE, "check_speedscope_schema.py"), schema, ss],
                       capture_output=True, text=True, timeout=120)
    check(r.returncode == 0, "speedscope schema check: %s %s" % (r.stdout, r.stderr))
    print(r.stdout.strip())
    # the check can fail: a sampled profile without weights is refused
    with open(ss) as f:
        doc = json.load(f)
    del doc["profiles"][0]["weights"]
    broken = os.path.join(outdir, "broken.speedscope.json")
    with open(broken, "w") as f:
        json.dump(doc, f)
    r = subprocess.run([schema_python, os.path.join(HERE, "check_speedscope_schema.py"), schema,
                        broken], capture_output=True, text=True, timeout=120)
    check(r.returncode == 1 and "profiles/0" in r.stdout,
          "schema check accepted a profile without weights: %s" % r.stdout)
    sstacks, ends = proflib.read_speedscope(ss)
    check(sstacks == stacks, "speedscope stacks differ from the folded file's")
    check(sum(ends.values()) == total, "speedscope total %d, folded %d" % (sum(ends.values()), total))
    check(len(ends) == len(threads), "speedscope has %d profiles for %d threads" % (len(ends), len(threads)))
    checked.append("speedscope (schema, %d = %d stacks)" % (sum(ends.values()), total))

    # --- pprof: decoded by protoc against our .proto, same stacks
    pp = os.path.join(outdir, "recording.pb.gz")
    err = proflib.convert(tornstack, folded, pp, "pprof")
    check("go tool pprof" in err, "convert hint: %r" % err)
    pstacks, msg = proflib.read_pprof(pp, proto_dir)
    check(proflib.normalize_lines(pstacks) == proflib.normalize_lines(stacks),
          "pprof stacks differ from the folded file's")
    ptotal = sum(pstacks.values())
    check(ptotal == total, "pprof total %d, folded %d" % (ptotal, total))
    strings = msg["string_table"]
    st0 = msg["sample_type"][0]
    check(strings[proflib.one(st0, "type")] == "samples" and
          strings[proflib.one(st0, "unit")] == "count", "sample_type is not samples/count")
    for s in msg["sample"]:
        labels = proflib.labels_of(msg, s)
        check("thread_id" in labels and labels["thread_id"] in threads,
              "sample without a known thread_id label: %r" % labels)
        check(labels.get("thread_name") == threads[labels["thread_id"]],
              "thread_name label %r for thread %r" % (labels.get("thread_name"), labels["thread_id"]))
    # the leaf Task's name is a label of each Task stack
    task_labels = {proflib.labels_of(msg, s).get("task_name") for s in msg["sample"]}
    check(set(truth["tasks"]) - {"main", "batch-a", "batch-b"} <= task_labels,
          "task_name labels %r" % task_labels)
    comments = [strings[i] for i in msg["comment"]]
    check(any(c.startswith("tornstack ") for c in comments) and
          any(c.startswith("samples: ") for c in comments), "pprof comments %r" % comments)
    checked.append("pprof (protoc --decode, %d = %d stacks, labels)" % (ptotal, total))

    # --- record straight to each format
    for fmt, name in (("speedscope", "direct.speedscope.json"), ("pprof", "direct.pb.gz"),
                      ("html", "direct.html")):
        path = os.path.join(outdir, name)
        err = proflib.record(tornstack, t.pid, path, fmt, duration=0.5)
        check(os.path.getsize(path) > 0 and ("wrote" in err), "record --format %s: %r" % (fmt, err))
    dstacks, _ = proflib.read_speedscope(os.path.join(outdir, "direct.speedscope.json"))
    check(any(f[0] == "task" for st in dstacks for f in st), "direct speedscope has no Task frame")
    dpp, _ = proflib.read_pprof(os.path.join(outdir, "direct.pb.gz"), proto_dir)
    check(any(f[0] == "thread" for st in dpp for f in st), "direct pprof has no thread frame")
    with open(os.path.join(outdir, "direct.html"), encoding="utf-8") as f:
        html = f.read()
    check("<task fetch-a-0>" not in html and "\\u003ctask fetch-a-0\\u003e" in html,
          "direct html does not embed the Task frames escaped")
    checked.append("record --format speedscope|pprof|html")
finally:
    t.close()

print("profile formats: %d checks passed: %s" % (len(checked), "; ".join(checked)))
