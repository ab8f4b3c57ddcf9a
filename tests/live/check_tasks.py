"""Live test: the Task tree of a real asyncio process, exactly.

    python3.X check_tasks.py TORNSTACK SCENARIO

Runs asyncio_scenarios.py SCENARIO under this interpreter, dumps it with
`tornstack dump --format json` and compares every Task with the target's
own ground truth: id, name, coroutine, running, own frames (names, files,
lines), awaited Tasks, strong and creation links; no Task may be skipped.
For scenarios whose loop thread is occupied (spin, callback) it also
checks the thread's stack and that frames above Handle._run that belong to
no Task (a plain callback) appear in no Task.
"""
import sys

import livelib


# A running Task that spins moves: its instruction pointer is saved into
# its frame now and then while it runs, so a sample may find its frames
# above Handle._run changed between the walk and the re-read, and the one
# sound answer is to skip it for that reason.
MOVING_SKIP = "running_task_frames_changed"


def compare(out, truth, scenario, moving=()):
    """None when the sample `out` shows every Task of `truth` exactly and
    skips none (a Task named in `moving` may be skipped as MOVING_SKIP);
    else what differs."""
    got = {x["id"]: x for x in out["tasks"]}
    want = {x["id"]: x for x in truth["tasks"]}
    if set(got) != set(want):
        return "tasks %s, expected %s" % (sorted(got), sorted(want))
    for tid, w in want.items():
        g = got[tid]
        if g["skipped"] == MOVING_SKIP and w["name"] in moving:
            continue
        if g["skipped"] is not None:
            return "task %s (%s) skipped: %s" % (tid, w["name"], g["skipped"])
        for key in ("name", "coro", "running", "linked_to", "created_by"):
            if g[key] != w[key]:
                return "task %s (%s): %s is %r, expected %r" % (tid, w["name"], key, g[key], w[key])
        gf = livelib.frames_of(g)
        wf = [(f["name"], f["file"], f["line"]) for f in w["frames"]]
        if gf != wf:
            return "task %s (%s) frames\n  got      %s\n  expected %s" % (tid, w["name"], gf, wf)
        if sorted(g["awaiting"]) != sorted(w["awaiting"]):
            return "task %s (%s) awaiting %s, expected %s" % (tid, w["name"], g["awaiting"], w["awaiting"])
        # 3.14+: the awaiter shown is one CPython recorded (none when none)
        if w.get("awaiters") is not None:
            if (g["awaited_by"] is None) != (not w["awaiters"]) or (
                    g["awaited_by"] is not None and g["awaited_by"] not in w["awaiters"]):
                return "task %s (%s) awaited_by %s, CPython records %s" % (
                    tid, w["name"], g["awaited_by"], w["awaiters"])
    if truth.get("thread_frames"):
        loop_thread = [th for th in out["threads"] if th["thread_id"] == truth["loop_thread"]]
        if not loop_thread:
            return "loop thread missing"
        tf = livelib.frames_of(loop_thread[0])
        wf = [(f["name"], f["file"], f["line"]) for f in truth["thread_frames"]]
        if tf != wf:
            return "loop thread frames\n  got      %s\n  expected %s" % (tf[:6], wf[:6])
        owned = {(f["name"], f["line"]) for x in out["tasks"] for f in x["frames"]}
        for f in truth["thread_frames"]:
            if f["name"].startswith("ts_callback") or f["name"] == "ts_blocking_callback":
                if (f["name"], f["line"]) in owned:
                    return "callback frame %s appears in a Task" % f["name"]
    if any(w.get("awaiters") is not None for w in want.values()) and scenario in (
            "taskgroup", "gather_of_gathers", "many"):
        # 3.14+: the gather and TaskGroup parents come from memory (these
        # scenarios run without the hook): every child of the scenario's
        # main Task has it as its awaiter
        main = [x["id"] for x in out["tasks"] if x["coro"] == scenario]
        if len(main) != 1 or any(x["awaited_by"] != main[0] or x["linked_to"] is not None
                                 for x in out["tasks"] if x["id"] != main[0]):
            return "%s: children's awaited_by %s, linked_to %s, expected the main Task %s" % (
                scenario, [x["awaited_by"] for x in out["tasks"]],
                [x["linked_to"] for x in out["tasks"]], main)
    if scenario.endswith("_preloaded") and not any(x["created_by"] for x in out["tasks"]):
        return "no creation link read from the preloaded hook"
    return None


def main():
    tornstack, scenario = sys.argv[1], sys.argv[2]
    wrapper = (tornstack, "run", "--") if scenario.endswith("_preloaded") else ()
    t = livelib.Target("asyncio_scenarios.py", scenario, wrapper=wrapper)
    try:
        out = livelib.dump(tornstack, t.pid)
    finally:
        t.close()
    err = compare(out, t.truth, scenario)
    if err is not None:
        livelib.fail(err)
    n_frames = sum(len(x["frames"]) for x in out["tasks"])
    print("live tasks: python %s %s: %d tasks, %d task frames, links and awaits match" % (
        out["python"], scenario, len(t.truth["tasks"]), n_frames))


if __name__ == "__main__":
    main()
