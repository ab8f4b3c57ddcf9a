"""Shared helpers of the live tests: start a target, wait for it, dump it."""
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def placement(kind, helper=None):
    """CPUs for (target, tornstack, helper process) under placement kind:
    "apart" puts the target on the first CPU this process may use,
    tornstack on the second and the helper (a load client) on a third, or
    with the target when there is none; "shared" all on the first; "free"
    none (Nones: left to the scheduler).  With one CPU, "apart" is
    "shared".  Returns the three sets and a phrase saying where each runs
    (the helper named `helper` in it, or left out when None)."""
    cpus = sorted(os.sched_getaffinity(0))
    if kind == "free":
        return (None, None, None), "left to the scheduler"
    if kind == "shared" or len(cpus) < 2:
        word = "all on CPU %d" % cpus[0]
        if kind == "apart":
            word += " (apart asked, but only one CPU is available)"
        return ({cpus[0]}, {cpus[0]}, {cpus[0]}), word
    third = cpus[2] if len(cpus) > 2 else cpus[0]
    word = "target on CPU %d, tornstack on CPU %d" % (cpus[0], cpus[1])
    if helper is not None:
        word += ", %s on CPU %d" % (helper, third)
    return ({cpus[0]}, {cpus[1]}, {third}), word


def pinned(cpus):
    """A preexec_fn pinning the child to cpus (None: no pinning)."""
    if cpus is None:
        return None
    return lambda: os.sched_setaffinity(0, cpus)


class Target:
    """A target script run by this interpreter, which prints "ready".

    It writes its truth into a temporary directory of its own, which close()
    removes (the caller closes every Target it made, in a finally).  cpus:
    the CPUs it is pinned to (placement()), None for no pinning."""

    def __init__(self, script, *args, timeout=60, wrapper=(), cpus=None):
        self.dir = tempfile.mkdtemp(prefix="tornstack-live-")
        self.truth_path = os.path.join(self.dir, "truth.json")
        self.proc = subprocess.Popen(
            [*wrapper, sys.executable, os.path.join(HERE, script), self.truth_path,
             *map(str, args)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=pinned(cpus))
        deadline = time.monotonic() + timeout
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        line = self.proc.stdout.readline() if ready else "(no answer in %ds)" % timeout
        if line.strip() != "ready":
            if self.proc.poll() is None:
                self.proc.kill()
            self.proc.wait()
            err = self.proc.stderr.read()
            self.close()
            raise RuntimeError("target %s did not get ready: %r %s" % (script, line, err))
        try:
            with open(self.truth_path) as f:
                self.truth = json.load(f)
        except (OSError, ValueError):
            self.close()
            raise
        want = self.truth.get("expected_threads")
        # Wait for helper threads (the reporter) to be gone.
        while want is not None and time.monotonic() < deadline:
            if len(os.listdir("/proc/%d/task" % self.proc.pid)) == want:
                break
            time.sleep(0.01)
        else:
            if want is not None:
                n = len(os.listdir("/proc/%d/task" % self.proc.pid))
                self.close()
                raise RuntimeError("target kept %d threads, expected %d" % (n, want))

    @property
    def pid(self):
        return self.proc.pid

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for pipe in (self.proc.stdout, self.proc.stderr):
            if pipe is not None:
                pipe.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def settle(pid, timeout=5.0):
    """Wait until every thread of pid sleeps in the kernel (State S), seen
    so twice 10 ms apart: a target prints "ready" from a callback and is
    still returning to its loop's select() for a moment, longer on a loaded
    machine (a read then finds it in the callback).  True once settled,
    False if the timeout passed first (a target whose loop never sleeps)."""
    deadline, calm = time.monotonic() + timeout, 0
    while time.monotonic() < deadline:
        states = []
        for tid in os.listdir("/proc/%d/task" % pid):
            try:
                with open("/proc/%d/task/%s/stat" % (pid, tid)) as f:
                    states.append(f.read().rsplit(")", 1)[1].split()[0])
            except OSError:
                states.append("?")
        calm = calm + 1 if states and all(x == "S" for x in states) else 0
        if calm == 2:
            return True
        time.sleep(0.01)
    return False


def dump(tornstack, pid, fmt="json", extra=()):
    r = subprocess.run([tornstack, "dump", "--pid", str(pid), "--format", fmt, *extra],
                       capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise RuntimeError("tornstack dump exited %d: %s" % (r.returncode, r.stderr.strip()))
    return json.loads(r.stdout) if fmt == "json" else r.stdout


def crash_summary(stderr, limit=600):
    """The lines of a tool's stderr that say why it died: a sanitizer's
    ERROR and SUMMARY lines and the first frames of its report, or glibc's
    abort message; else the last lines."""
    keep = [ln.strip() for ln in stderr.splitlines()
            if "ERROR:" in ln or "SUMMARY:" in ln or "runtime error" in ln
            or ln.lstrip().startswith(("#0 ", "#1 ", "#2 ")) or "invalid pointer" in ln
            or "corrupted" in ln or "double free" in ln]
    text = " | ".join(keep) if keep else " | ".join(stderr.strip().splitlines()[-3:])
    return text[:limit]


def frames_of(thread):
    return [(f["name"], f["file"], f["line"]) for f in thread["frames"]]


def fail(msg):
    print("FAIL: " + msg, flush=True)
    sys.exit(1)


def folded_share(path, function):
    """(samples with `function` on the stack, all samples) of a folded
    profile."""
    total = inside = 0
    with open(path) as f:
        for line in f:
            stack, _, n = line.rstrip("\n").rpartition(" ")
            total += int(n)
            inside += int(n) if function in stack else 0
    return inside, total
