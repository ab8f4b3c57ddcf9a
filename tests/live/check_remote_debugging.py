"""Live test (3.14+, as root): tornstack against CPython's own remote
unwinder on the same still process.

    python3.X check_remote_debugging.py TORNSTACK SCENARIO

Runs asyncio_scenarios.py SCENARIO, then reads it with
`tornstack dump --format json`, with _remote_debugging.RemoteUnwinder(pid)
(get_stack_trace, get_async_stack_trace, get_all_awaited_by) and with
`python3.X -m asyncio pstree PID`, then with tornstack again (the process
must not have moved in between).  Two independent readers of the same
memory must agree:

  threads   thread by thread (native id), frame by frame (qualname, file,
            line): the whole stack
  tasks     the same Tasks (id, name, thread; the interpreter's list as
            thread 0), each suspended Task's frames equal to CPython's
            coroutine stack, frame by frame
  running   each thread's running Task (tornstack's running_task, from the
            thread state) is the Task CPython's async stack trace names;
            its frames equal that trace's frames
  links     link by link: the (awaiter, awaited) pairs of tornstack's
            awaiting lists equal CPython's awaited_by records; each
            awaiter's recorded call stack equals the awaiter's own frames
  pstree    the tree `asyncio pstree` prints: the same (parent, child)
            Task names, and each leaf Task's frames

Differences of representation, documented and checked as such (never
skipped): CPython 3.14's get_stack_trace stops a thread's stack at the
first entry frame (where C code called back into Python, e.g. a Task step
under Handle._run; 3.15's goes on), so there its stack must be the
innermost part of tornstack's, and tornstack's whole stack must equal
what the target's sys._current_frames() said; a running Task's entry in get_all_awaited_by (and pstree) holds
its coroutine frames only, which must be the root end of tornstack's
frames for it (those include the plain functions it calls, as
get_async_stack_trace does); CPython follows an await chain through
coroutines only and stops at an async generator's asend object, where
tornstack goes on into the generator (checked against Python's own
cr_await/ag_await chain by check_tasks.py), so there CPython's stack must
be the root end of tornstack's; CPython names one running Task per thread
(the thread state's), tornstack also the outer Task whose step runs an
eager Task's first step, whose coroutine frames CPython lists as its
coroutine stack (again the root end of tornstack's frames).
"""
import json
import os
import re
import subprocess
import sys

import _remote_debugging

import livelib


def frame_tuple(f):
    """(qualname, file, line) of a FrameInfo (3.14: lineno; 3.15: location)."""
    line = f.lineno if hasattr(f, "lineno") else f.location.lineno
    return (f.funcname, f.filename, line)


def rd_threads(stack_trace):
    """{native thread id: [frames]} from get_stack_trace (3.15 nests the
    threads in InterpreterInfo entries)."""
    out = {}
    for entry in stack_trace:
        threads = entry.threads if hasattr(entry, "threads") else [entry]
        for th in threads:
            out[th.thread_id] = [frame_tuple(f) for f in th.frame_info]
    return out


def coro_frames(task_info):
    return [frame_tuple(f) for c in task_info.coroutine_stack for f in c.call_stack]


def tornstack_json(tornstack, pid):
    return livelib.dump(tornstack, pid)


def parse_pstree(text):
    """(edges, leaf stacks) of `asyncio pstree` output: edges are (parent,
    child) Task names; a leaf Task's stack is its frames, root first, as
    'funcname file:line' strings."""
    nodes = []  # (depth, kind, label)
    for line in text.splitlines():
        m = re.match(r"^([ │]*)(?:└── |├── )(\(T\) (.*)|\s*(.*))$", line)
        if m is None:
            continue
        depth = len(m.group(1)) // 4
        if m.group(3) is not None:
            nodes.append((depth, "T", m.group(3)))
        else:
            nodes.append((depth, "C", m.group(4).strip()))
    edges, leaves, path = set(), {}, []
    for depth, kind, label in nodes:
        path = path[:depth]
        path.append((kind, label))
        if kind == "T":
            parents = [lab for k, lab in path[:-1] if k == "T"]
            if parents:
                edges.add((parents[-1], label))
    # leaf stacks: a Task node followed only by coroutine nodes down one path
    for i, (depth, kind, label) in enumerate(nodes):
        if kind != "T":
            continue
        stack, j = [], i + 1
        while j < len(nodes) and nodes[j][0] > depth:
            if nodes[j][1] == "T":
                stack = None
                break
            stack.append(nodes[j][2])
            j += 1
        if stack is not None:
            leaves[label] = stack
    return edges, leaves


def fmt(fr):
    return "%s %s:%s" % fr


def compare(ts, ts2, rd_stack, rd_async, rd_awaited, pstree, truth):
    """Every difference found, as sentences; the representation notes."""
    errs, notes = [], []
    # the process held still across the readers
    strip = lambda o: json.dumps({"threads": o["threads"], "tasks": o["tasks"]}, sort_keys=True)
    if strip(ts) != strip(ts2):
        errs.append("the process moved between the readers (tornstack read it twice differently)")
    # threads
    rdt = rd_threads(rd_stack)
    tst = {th["native_id"]: th for th in ts["threads"]}
    if set(rdt) != set(tst):
        errs.append("threads: tornstack %s, CPython %s" % (sorted(tst), sorted(rdt)))
    truth_frames = None
    if truth.get("thread_frames"):
        truth_frames = [(f["name"], f["file"], f["line"]) for f in truth["thread_frames"]]
    for tid in set(rdt) & set(tst):
        got, rd = livelib.frames_of(tst[tid]), rdt[tid]
        if got == rd:
            continue
        if (sys.version_info[:2] == (3, 14) and rd and got[:len(rd)] == rd
                and tst[tid]["thread_id"] == truth.get("loop_thread") and got == truth_frames):
            notes.append("thread %d: CPython 3.14's get_stack_trace stops at the first entry "
                         "frame (C calling Python), %d of %d frames; tornstack's whole stack "
                         "equals sys._current_frames()" % (tid, len(rd), len(got)))
            continue
        errs.append("thread %d frames:\n  tornstack %s\n  CPython   %s" % (tid, got, rd))
    # tasks: identity, names, threads
    rd_tasks, rd_thread_of = {}, {}
    for ai in rd_awaited:
        for ti in ai.awaited_by:
            rd_tasks[ti.task_id] = ti
            rd_thread_of[ti.task_id] = ai.thread_id
    tt = {int(x["id"], 16): x for x in ts["tasks"]}
    if set(tt) != set(rd_tasks):
        errs.append("tasks: tornstack %s, CPython %s" % (sorted(map(hex, tt)), sorted(map(hex, rd_tasks))))
    running = {}
    for ai in rd_async:
        if ai.awaited_by:
            running[ai.thread_id] = ai.awaited_by[0]
    for th in ts["threads"]:
        want = running.get(th["native_id"])
        got = th.get("running_task")
        if (want is None) != (got is None) or (want is not None and int(got, 16) != want.task_id):
            errs.append("thread %d running Task: tornstack %s, CPython %s" % (
                th["native_id"], got, None if want is None else hex(want.task_id)))
    running_ids = {ti.task_id: ti for ti in running.values()}
    for tid in set(tt) & set(rd_tasks):
        x, ti = tt[tid], rd_tasks[tid]
        if x["skipped"] is not None:
            errs.append("task %s skipped: %s" % (x["name"], x["skipped"]))
            continue
        if x["name"] != ti.task_name:
            errs.append("task %s: name %r, CPython %r" % (hex(tid), x["name"], ti.task_name))
        thread = rd_thread_of[tid]
        if thread != 0 and x["thread"] != thread:
            errs.append("task %s: thread %s, CPython %s" % (x["name"], x["thread"], thread))
        got, rd = livelib.frames_of(x), coro_frames(ti)
        if tid in running_ids:
            full = coro_frames(running_ids[tid])
            if got != full:
                errs.append("running task %s frames:\n  tornstack %s\n  CPython   %s" % (
                    x["name"], got, full))
        if got == rd:
            continue
        if rd and got[-len(rd):] == rd and (x["running"] or tid in running_ids):
            notes.append("%s (running): CPython's awaited-by view keeps its %d coroutine "
                         "frame(s), the root end of tornstack's %d" % (x["name"], len(rd), len(got)))
        elif rd and got[-len(rd):] == rd and any(
                n == "ts_agen" or "agen" in n for n, _, _ in got[:len(got) - len(rd)]):
            notes.append("%s: CPython stops at the async generator's asend object; its %d "
                         "frame(s) are the root end of tornstack's %d" % (x["name"], len(rd), len(got)))
        else:
            errs.append("task %s frames:\n  tornstack %s\n  CPython   %s" % (x["name"], got, rd))
    # links
    ts_edges = {(int(p["id"], 16), int(c, 16)) for p in ts["tasks"] for c in p["awaiting"]}
    rd_edges = set()
    for tid, ti in rd_tasks.items():
        for co in ti.awaited_by:
            rd_edges.add((co.task_name, tid))
            parent = tt.get(co.task_name)
            stack = [frame_tuple(f) for f in co.call_stack]
            if parent is not None and not parent["running"] and livelib.frames_of(parent) != stack:
                errs.append("awaiter %s of %s: its recorded stack %s, tornstack's frames %s" % (
                    parent["name"], ti.task_name, stack, livelib.frames_of(parent)))
    if ts_edges != rd_edges:
        name = lambda i: tt[i]["name"] if i in tt else hex(i)
        errs.append("links: only tornstack %s; only CPython %s" % (
            sorted((name(a), name(b)) for a, b in ts_edges - rd_edges),
            sorted((name(a), name(b)) for a, b in rd_edges - ts_edges)))
    for x in ts["tasks"]:
        if x["awaited_by"] is not None and (int(x["awaited_by"], 16), int(x["id"], 16)) not in rd_edges:
            errs.append("task %s: awaited_by %s is no awaiter CPython records" % (x["name"], x["awaited_by"]))
    # pstree
    p_edges, p_leaves = pstree
    names = [x["name"] for x in ts["tasks"]]
    if len(set(names)) == len(names):
        by_name = {x["name"]: x for x in ts["tasks"]}
        ts_name_edges = {(by_name_id, c) for by_name_id, c in
                         ((tt[a]["name"], tt[b]["name"]) for a, b in ts_edges)}
        if p_edges != ts_name_edges:
            errs.append("pstree links: only pstree %s; only tornstack %s" % (
                sorted(p_edges - ts_name_edges), sorted(ts_name_edges - p_edges)))
        for name, stack in p_leaves.items():
            x = by_name.get(name)
            if x is None:
                errs.append("pstree shows Task %r that tornstack does not" % name)
                continue
            mine = [fmt(f) for f in reversed(livelib.frames_of(x))]
            if mine != stack and mine[:len(stack)] != stack:
                errs.append("pstree %s: %s, tornstack %s" % (name, stack, mine))
            elif mine != stack:
                notes.append("pstree %s: %d frame(s), the root end of tornstack's %d (as above)"
                             % (name, len(stack), len(mine)))
        missing = set(names) - {n for e in p_edges for n in e} - set(p_leaves)
        if missing:
            errs.append("pstree lacks Tasks %s" % sorted(missing))
    else:
        notes.append("pstree compared by names is skipped: Task names repeat")
    return errs, notes


def main():
    tornstack, scenario = sys.argv[1], sys.argv[2]
    if os.geteuid() != 0:
        livelib.fail("must run as root (CPython's remote unwinder reads another process)")
    wrapper = (tornstack, "run", "--") if scenario.endswith("_preloaded") else ()
    t = livelib.Target("asyncio_scenarios.py", scenario, wrapper=wrapper)
    try:
        if not t.truth.get("thread_frames") and not livelib.settle(t.pid):
            livelib.fail("%s: the target's threads did not go to sleep" % scenario)
        ts = tornstack_json(tornstack, t.pid)
        u = _remote_debugging.RemoteUnwinder(t.pid, all_threads=True)
        rd_stack = u.get_stack_trace()
        rd_async = u.get_async_stack_trace()
        rd_awaited = u.get_all_awaited_by()
        r = subprocess.run([sys.executable, "-m", "asyncio", "pstree", str(t.pid)],
                           capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            livelib.fail("asyncio pstree exited %d: %s" % (r.returncode, r.stderr.strip()[-400:]))
        pstree = parse_pstree(r.stdout)
        ts2 = tornstack_json(tornstack, t.pid)
    finally:
        t.close()
    errs, notes = compare(ts, ts2, rd_stack, rd_async, rd_awaited, pstree, t.truth)
    for n in sorted(set(notes)):
        print("representation: " + n)
    if errs:
        livelib.fail("%s: %d differences with CPython's remote unwinder:\n%s" % (
            scenario, len(errs), "\n".join(errs[:12])))
    n_frames = sum(len(th["frames"]) for th in ts["threads"]) + sum(
        len(x["frames"]) for x in ts["tasks"])
    n_links = sum(len(x["awaiting"]) for x in ts["tasks"])
    print("remote_debugging: python %s %s: %d threads, %d tasks, %d frames, %d links agree with "
          "RemoteUnwinder and asyncio pstree" % (ts["python"], scenario, len(ts["threads"]),
                                                 len(ts["tasks"]), n_frames, n_links))


if __name__ == "__main__":
    main()
