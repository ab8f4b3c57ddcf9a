"""Live test: attach to a process that maps its interpreter twice.

    python3.X check_twice_mapped.py TORNSTACK MODE

Starts twice_mapped_target.py MODE (mmap: the interpreter file mapped
again below the real mapping, so it is the first candidate; dlopen: a
copy of libpython loaded with ctypes), dumps it with --format json and
asserts: exit 0, no sample-level truncation, the version of this
interpreter, and the main thread's exact frames.  The attach must choose
the mapping whose _PyRuntime is initialised.
"""
import sys

import livelib


def main():
    tornstack, mode = sys.argv[1], sys.argv[2]
    t = livelib.Target("twice_mapped_target.py", mode)
    try:
        out = livelib.dump(tornstack, t.pid)
    except RuntimeError as e:
        t.close()
        livelib.fail("%s (interpreter %s mapped twice, mode %s)" % (e, t.truth["interpreter"], mode))
    finally:
        t.close()
    truth = t.truth
    if out["python"] != truth["version"]:
        livelib.fail("python %s, target says %s" % (out["python"], truth["version"]))
    if out["truncated"] is not None:
        livelib.fail("sample truncated: %s (interpreter %s mapped twice, mode %s)" % (
            out["truncated"], truth["interpreter"], mode))
    got = [th for th in out["threads"] if th["thread_id"] == truth["thread_id"]]
    if len(out["threads"]) != 1 or not got:
        livelib.fail("threads %s, expected the main thread %d only" % (
            [th["thread_id"] for th in out["threads"]], truth["thread_id"]))
    gf = livelib.frames_of(got[0])
    wf = [(f["name"], f["file"], f["line"]) for f in truth["frames"]]
    if gf != wf:
        livelib.fail("main thread frames\n  got      %s\n  expected %s" % (gf, wf))
    print("live twice-mapped: python %s, %s (%s): main thread's %d frames match" % (
        out["python"], mode, truth["interpreter"], len(gf)))


if __name__ == "__main__":
    main()
