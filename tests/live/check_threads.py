"""Live test: every thread's stack of a real CPython process, exactly.

    python3.X check_threads.py TORNSTACK DEPTH

Starts threads_target.py under this interpreter, dumps it with
`tornstack dump --format json` and asserts, for every thread, the exact
sequence of (qualname, file, line) that the target computed for itself with
sys._current_frames().  On 3.13, also compares the main thread with
CPython's own out-of-process unwinder, _testexternalinspection.
"""
import sys

import livelib


def main():
    tornstack, depth = sys.argv[1], int(sys.argv[2])
    t = livelib.Target("threads_target.py", depth)
    try:
        out = livelib.dump(tornstack, t.pid)
        text = livelib.dump(tornstack, t.pid, fmt="text")
        ext = None
        if sys.version_info[:2] == (3, 13):
            import _testexternalinspection
            ext = _testexternalinspection.get_stack_trace(t.pid)
    finally:
        t.close()

    truth = t.truth
    if out["python"] != truth["version"]:
        livelib.fail("python %s, target says %s" % (out["python"], truth["version"]))
    if out["pid"] != truth["pid"]:
        livelib.fail("pid mismatch")
    got = {th["thread_id"]: th for th in out["threads"]}
    want = {th["thread_id"]: th for th in truth["threads"]}
    if set(got) != set(want):
        livelib.fail("threads %s, expected %s" % (sorted(got), sorted(want)))
    total = 0
    for tid, wt in want.items():
        gt = got[tid]
        if gt["native_id"] != wt["native_id"]:
            livelib.fail("thread %d native id %s, expected %s" % (tid, gt["native_id"], wt["native_id"]))
        if gt["truncated"] is not None:
            livelib.fail("thread %d truncated: %s" % (tid, gt["truncated"]))
        g = livelib.frames_of(gt)
        w = [(f["name"], f["file"], f["line"]) for f in wt["frames"]]
        if g != w:
            for i, (a, b) in enumerate(zip(g, w)):
                if a != b:
                    livelib.fail("thread %d frame %d: got %s, expected %s" % (tid, i, a, b))
            livelib.fail("thread %d: %d frames, expected %d" % (tid, len(g), len(w)))
        total += len(g)
    # Not an asyncio program: no Tasks, and no error for it.
    if out["tasks"] != [] or out["tasks_error"] is not None or out["skips"] != {}:
        livelib.fail("non-asyncio process: tasks %r, error %r" % (out["tasks"][:2], out["tasks_error"]))
    main_thread = max(want.values(), key=lambda th: len(th["frames"]))
    names = [f["name"] for f in main_thread["frames"]]
    if names.count("ts_recurse") != depth + 1 or "ts_generator" not in names:
        livelib.fail("main stack lacks the recursion or the generator frame: %s" % names[:12])
    for f in main_thread["frames"][:3]:
        if f["name"] not in text:
            livelib.fail("text output lacks %s" % f["name"])
    if ext is not None:
        # It walks the head of the interpreter's thread list (the newest
        # thread), which is also the first thread tornstack reports.
        head = want[out["threads"][0]["thread_id"]]
        co_names = [f["co_name"] for f in head["frames"]]
        if ext != co_names:
            livelib.fail("_testexternalinspection says %s, truth %s" % (ext[:8], co_names[:8]))
        ours = [n.rsplit(".", 1)[-1] for n, _, _ in livelib.frames_of(out["threads"][0])]
        if ours != ext:
            livelib.fail("tornstack %s, _testexternalinspection %s" % (ours[:8], ext[:8]))
        print("3.13 cross-check: _testexternalinspection agrees on %d frames" % len(ext))
    print("live threads: python %s depth %d: %d threads, %d frames match exactly" % (
        out["python"], depth, len(want), total))


if __name__ == "__main__":
    main()
