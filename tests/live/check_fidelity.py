"""Fidelity of the model: a live scenario and its fabricated twin dump alike.

    python3.X check_fidelity.py TORNSTACK TORNSTACK_VERIFY SCENARIO

Runs asyncio_scenarios.py SCENARIO under this interpreter and dumps it with
`tornstack dump`.  From the scenario's own ground truth (each Task: name,
frames, the Tasks its fut_waiter leads to, and from 3.14 the Tasks its
task_awaited_by records) and the loop thread's stack, writes a
description (model/still.h) and has the model fabricate that process for
this version; the unchanged unwinder dumps it.  The two dumps must agree
on the loop thread's frames and on every Task's name, coroutine, frames
(names, files, lines), awaited Tasks and links (the hook module's
records, fabricated from the scenario's own).  A Task awaiting several Tasks gets a
gather future over them; a running Task's root coroutine is placed among
the thread's frames, where the live dump has it.
"""
import json
import subprocess
import sys

import livelib

tornstack, verify, scenario = sys.argv[1], sys.argv[2], sys.argv[3]
wrapper = (tornstack, "run", "--") if scenario.endswith("_preloaded") else ()
t = livelib.Target("asyncio_scenarios.py", scenario, wrapper=wrapper)
try:
    live = livelib.dump(tornstack, t.pid)
finally:
    t.close()
truth = t.truth
loop = [th for th in live["threads"] if th["loop"] is not None]
if len(loop) != 1:
    livelib.fail("expected one loop thread, got %d" % len(loop))
desc = ["# fabricated twin of scenario %s" % scenario]
for f in loop[0]["frames"]:
    desc.append("loop\t%s\t%s\t%d" % (f["name"], f["file"], f["line"]))
thread = [(f["name"], f["file"], f["line"]) for f in loop[0]["frames"]]
for task in truth["tasks"]:
    desc.append("task\t%s\t%s" % (task["id"], task["name"]))
    for a in task.get("awaiters") or []:  # 3.14+: its task_awaited_by
        desc.append("awaited_by\t%s" % a)
    own = [(f["name"], f["file"], f["line"]) for f in task["frames"]]
    if task["running"]:
        # its frames are on the thread stack: its root coroutine is the
        # outermost of them there
        at = [i for i in range(len(thread) - len(own) + 1) if thread[i:i + len(own)] == own]
        if not own or not at:
            livelib.fail("running Task %s not found on the dumped thread stack" % task["name"])
        desc.append("root\t%d" % (at[0] + len(own) - 1))
        continue
    for f in task["frames"]:
        desc.append("frame\t%s\t%s\t%d" % (f["name"], f["file"], f["line"]))
    # what its fut_waiter leads to (several: a gather future over them); on
    # 3.14+ "awaiting" also holds the Tasks that record it as an awaiter
    for a in task.get("waiting_on", task["awaiting"]):
        desc.append("await\t%s" % a)
for task in truth["tasks"]:  # the hook module's records
    if task["linked_to"]:
        desc.append("link\t%s\t%s\t1" % (task["id"], task["linked_to"]))
    if task["created_by"]:
        desc.append("link\t%s\t%s\t2" % (task["id"], task["created_by"]))
r = subprocess.run([verify, "--fabricate", "-", "--python", "3.%d" % sys.version_info[1]],
                   input="\n".join(desc) + "\n", capture_output=True, text=True, timeout=60)
if r.returncode != 0:
    livelib.fail("fabrication failed: %s" % r.stderr.strip())
model = json.loads(r.stdout)


def shape(dump):
    names = {x["id"]: x["name"] for x in dump["tasks"]}
    tasks = sorted((x["name"], x["coro"], tuple(livelib.frames_of(x)),
                    tuple(sorted(names[a] for a in x["awaiting"])), x["skipped"],
                    names.get(x["linked_to"]), names.get(x["created_by"]))
                   for x in dump["tasks"])
    loops = [livelib.frames_of(th) for th in dump["threads"] if th["loop"] is not None]
    return loops, tasks


live_loops, live_tasks = shape(live)
model_loops, model_tasks = shape(model)
if live_loops != model_loops:
    livelib.fail("loop thread differs:\n  live  %s\n  model %s" % (live_loops, model_loops))
if live_tasks != model_tasks:
    for a, b in zip(live_tasks, model_tasks):
        if a != b:
            livelib.fail("task differs:\n  live  %s\n  model %s" % (a, b))
    livelib.fail("%d live Tasks, %d fabricated" % (len(live_tasks), len(model_tasks)))
print("fidelity: python %s %s: %d Tasks and the loop stack dump identically from the live "
      "process and from the model" % (live["python"], scenario, len(live_tasks)))
