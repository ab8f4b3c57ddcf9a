"""Live test: a process whose first thread has exited while another runs.

    python3.X check_zombie_leader.py TORNSTACK

Starts zombie_leader_target.py, waits until its leader thread is a
zombie (pthread_exit in main), then dumps it as JSON, running and with
--blocking, and asserts for each: exit 0, the process's own pid shown,
the worker thread listed with its frames, and the worker's three Tasks
(and its main Task) listed, unskipped, by name.  Before, tornstack read
the process through its pid, which then names the zombie: "no such
process".  Then, on a second target, `record --duration 3` while the
thread it reads through (the first listed that lives) exits a second in:
it must record to the end, not stop as if the process had exited; and
the same with --blocking, whose stopped samples read otherwise.
"""
import os
import subprocess
import sys
import time

import livelib


def leader_state(pid):
    with open("/proc/%d/stat" % pid) as f:
        return f.read().rsplit(")", 1)[1].split()[0]


def main():
    tornstack = sys.argv[1]
    t = livelib.Target("zombie_leader_target.py")
    try:
        deadline = time.monotonic() + 10
        while leader_state(t.pid) != "Z":
            if time.monotonic() > deadline:
                livelib.fail("the leader thread did not exit (state %s)" % leader_state(t.pid))
            time.sleep(0.01)
        with open("/proc/%d/maps" % t.pid) as f:
            if f.read() != "":
                livelib.fail("a zombie leader's maps are not empty: the setup tests nothing")
        truth = t.truth
        for extra in ((), ("--blocking",)):
            try:
                out = livelib.dump(tornstack, t.pid, extra=extra)
            except RuntimeError as e:
                livelib.fail("%s %s" % (" ".join(extra), e))
            workers = [th for th in out["threads"] if th["native_id"] == truth["worker"]]
            names = sorted(x["name"] for x in out["tasks"] if x["skipped"] is None)
            if out["pid"] != t.pid or len(workers) != 1 or not workers[0]["frames"]:
                livelib.fail("%s: pid %r, worker threads %r" % (" ".join(extra), out["pid"],
                                                                 workers))
            if out["tasks_error"] is not None or names != truth["tasks"]:
                livelib.fail("%s: tasks_error %r, Tasks %r, expected %r" % (
                    " ".join(extra), out["tasks_error"], names, truth["tasks"]))
            print("live zombie leader%s: python %s, pid %d (leader exited), worker %d: %d "
                  "frames, %d Tasks listed" % (" " + extra[0] if extra else "", out["python"],
                                               t.pid, truth["worker"], len(workers[0]["frames"]),
                                               len(names)))
    finally:
        t.close()
    handover(tornstack, ())
    handover(tornstack, ("--blocking",))


def handover(tornstack, extra):
    t = livelib.Target("zombie_leader_target.py", 1.0)
    out = os.path.join(t.dir, "out.folded")
    try:
        t0 = time.monotonic()
        r = subprocess.run([tornstack, "record", "--pid", str(t.pid), "--rate", "100",
                            "--duration", "3", "-o", out, *extra], capture_output=True,
                           text=True, timeout=60)
        took = time.monotonic() - t0
        first = t.truth["first"]
        if r.returncode != 0:
            livelib.fail("record exited %d: %s" % (r.returncode, r.stderr.strip()))
        if os.path.exists("/proc/%d/task/%d" % (t.pid, first)):
            livelib.fail("the first thread %d did not exit: the handover was not tested" % first)
        # record stops early, keeping what it has, when the process is gone
        if took < 2.5:
            livelib.fail("record stopped after %.1f s of 3 when thread %d exited: %s" % (
                took, first, r.stderr.strip()))
        with open(out) as f:
            waits = sum(int(ln.rsplit(" ", 1)[1]) for ln in f if "ts_zl_wait" in ln)
        if waits == 0:
            livelib.fail("no Task stack recorded")
        print("live zombie leader handover%s: thread %d exited during a %.1f s record; %d "
              "ts_zl_wait stacks" % (" " + extra[0] if extra else "", first, took, waits))
    finally:
        t.close()


if __name__ == "__main__":
    main()
