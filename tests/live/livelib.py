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


class Target:
    """A target script run by this interpreter, which prints "ready"."""

    def __init__(self, script, *args, timeout=60, wrapper=()):
        self.dir = tempfile.mkdtemp(prefix="tornstack-live-")
        self.truth_path = os.path.join(self.dir, "truth.json")
        self.proc = subprocess.Popen(
            [*wrapper, sys.executable, os.path.join(HERE, script), self.truth_path,
             *map(str, args)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + timeout
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        line = self.proc.stdout.readline() if ready else "(no answer in %ds)" % timeout
        if line.strip() != "ready":
            self.close()
            err = self.proc.stderr.read()
            raise RuntimeError("target %s did not get ready: %r %s" % (script, line, err))
        with open(self.truth_path) as f:
            self.truth = json.load(f)
        want = self.truth.get("expected_threads")
        # Wait for helper threads (the reporter) to be gone.
        while want is not None and time.monotonic() < deadline:
            if len(os.listdir("/proc/%d/task" % self.proc.pid)) == want:
                break
            time.sleep(0.01)
        else:
            if want is not None:
                raise RuntimeError("target kept %d threads, expected %d" % (
                    len(os.listdir("/proc/%d/task" % self.proc.pid)), want))

    @property
    def pid(self):
        return self.proc.pid

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)  # tests clean up what they create


def dump(tornstack, pid, fmt="json", extra=()):
    r = subprocess.run([tornstack, "dump", "--pid", str(pid), "--format", fmt, *extra],
                       capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise RuntimeError("tornstack dump exited %d: %s" % (r.returncode, r.stderr.strip()))
    return json.loads(r.stdout) if fmt == "json" else r.stdout


def frames_of(thread):
    return [(f["name"], f["file"], f["line"]) for f in thread["frames"]]


def fail(msg):
    print("FAIL: " + msg, flush=True)
    sys.exit(1)
