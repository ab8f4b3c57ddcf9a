"""Live test: threads that stand still most of the time, one of which moves.

    python3.X check_idle_threads.py TORNSTACK [SECONDS]

Runs idle_threads_target.py (a mover switching between two stacks every
20 ms, a sleeper, a sleeping main thread) and records it for SECONDS (2)
at 2000 samples a second (`record -f folded`, frames with file and line).
A thread that did not run since its last walk, and a process none of
whose threads ran, are shown from what was read before
(src/unwind/idle.c, quiet.c); such samples must still be exact: every
stack of every thread is one the target recorded for it, frame for frame
(lines too, but for the innermost frames the truth leaves free: the
mover's, which moves while it runs, and main's).
The mover must be seen in both of its stacks, each in at least a fifth of
its samples (a kept walk shown after the thread moved on would show one
stack for ever), and the sleeper and main in theirs only.
"""
import os
import subprocess
import sys

import livelib


def parse_frame(text):
    """'qualname (file:line)' -> [qualname, file, line]."""
    name, _, loc = text.rpartition(" (")
    file, _, line = loc.rstrip(")").rpartition(":")
    return [name, file, int(line) if line.isdigit() else None]


def matches(got, want):
    if len(got) != len(want):
        return False
    return all(g[0] == w[0] and g[1] == w[1] and (w[2] is None or g[2] == w[2])
               for g, w in zip(got, want))


def main():
    tornstack = sys.argv[1]
    seconds = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    t = livelib.Target("idle_threads_target.py", 20)
    out = os.path.join(t.dir, "idle.folded")
    try:
        r = subprocess.run([tornstack, "record", "--pid", str(t.pid), "--rate", "2000",
                            "--duration", str(seconds), "-f", "folded", "-o", out],
                           capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            livelib.fail("tornstack record exited %d: %s" % (r.returncode, r.stderr.strip()))
        with open(out) as f:
            lines = [ln.rstrip("\n") for ln in f if ln.strip()]
    finally:
        t.close()
    want = t.truth["threads"]
    seen = {th["name"]: [0] * len(th["stacks"]) for th in want.values()}
    for ln in lines:
        head, _, count = ln.rpartition(" ")
        parts = head.split(";")
        if not parts[0].startswith("<thread "):
            livelib.fail("a stack without its thread frame: %s" % ln[:120])
        nid = parts[0].split()[1]
        if nid not in want:
            livelib.fail("a thread the target does not have: %s" % parts[0])
        frames = [parse_frame(x) for x in reversed(parts[1:])]  # innermost first
        w = want[nid]
        k = next((k for k, st in enumerate(w["stacks"]) if matches(frames, st)), None)
        if k is None:
            livelib.fail("%s shows a stack it never had (%s samples): %s" % (
                w["name"], count, [f[0] for f in frames[:4]]))
        seen[w["name"]][k] += int(count)
    first, second = seen["mover"][0], seen["mover"][1]
    total = sum(seen["mover"])
    if total < 1000 or min(first, second) < total // 5:
        livelib.fail("the mover was seen in it_first %d and it_second %d times of %d: "
                     "a stack shown after the thread moved on" % (first, second, total))
    for name in ("sleeper", "main"):
        if seen[name][0] != total:
            livelib.fail("%s seen %d times, the mover %d" % (name, seen[name][0], total))
    print("live idle threads: python %s: %d samples, every stack exact; mover %d / %d / %d "
          "(first, second, between)" % (t.truth["version"], total, first, second, seen["mover"][2]))


if __name__ == "__main__":
    main()
