"""Live tests of --blocking: the target is stopped for each sample and never
left stopped or traced.

    python3.X check_blocking.py TORNSTACK NOPTRACE CASE

NOPTRACE is the ts_noptrace wrapper (runs a command under a seccomp filter
that refuses ptrace).  CASE:
  teardown     tornstack ends by SIGINT, SIGTERM, SIGHUP, two signals in a
               row, or SIGKILL, each while the target is held (--hold-ms);
  target_exit  the target exits by itself during a recording, is killed
               while held, or exits under a blocking dump;
  threads      a target that creates threads all the time: each is held
               while a sample is taken;
  signals      signals sent to the target during a blocking recording are
               all delivered, and a SIGSTOP/SIGCONT job-control stop keeps
               its meaning (also across the detach);
  refusal      another user, a seccomp filter, a second tracer: exit 10 and
               one line saying why; bad options; non-Python targets;
  commands     dump and bench with --blocking report the time stopped;
               dump --pause-on-torn leaves no skip, says how many samples
               it redid stopped, and ends by SIGINT or SIGKILL mid-hold
               with the target free;
  stop_site    a stop lands where the thread stands: a target that times
               its own system-call function (stop_site_app.py) has within
               0.15 of that share of its running time in its blocking
               samples there, most stops made by the thread's own clock
               (which counts user time only) and some by an interrupt
               standing for its kernel time (exit 77, a skip, where perf
               events are refused);
  stalled_reader  a blocking dump and record write to a pipe nobody reads:
               the target's signals are still delivered while the pipe is
               full;
  job_control  SIGTSTP, SIGTTIN, SIGTTOU to tornstack while it holds the
               target do not stop it.
After each run, every thread of the target is checked through
/proc/PID/task/TID/status (State neither t nor T, TracerPid 0) and the
target must make progress (a counter it writes to a file).
"""
import fcntl
import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import livelib

tornstack, noptrace, case = sys.argv[1], sys.argv[2], sys.argv[3]
ran = []
procs = []
work = tempfile.mkdtemp(prefix="tornstack-blocking-")


def threads_of(pid):
    """[(tid, state letter, tracer pid)] of every thread still listed."""
    out = []
    try:
        tids = os.listdir("/proc/%d/task" % pid)
    except FileNotFoundError:
        return out
    for tid in tids:
        try:
            with open("/proc/%d/task/%s/status" % (pid, tid)) as f:
                text = f.read()
        except (FileNotFoundError, ProcessLookupError):
            continue
        state = re.search(r"^State:\s+(\S)", text, re.M).group(1)
        tracer = int(re.search(r"^TracerPid:\s+(\d+)", text, re.M).group(1))
        out.append((int(tid), state, tracer))
    return out


def main_state(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            return re.search(r"^State:\s+(\S)", f.read(), re.M).group(1)
    except FileNotFoundError:
        return None


def main_switches(pid):
    """(state, context switches) of the main thread: every stop and every
    restart moves the count, so an equal count twice means one stop."""
    with open("/proc/%d/task/%d/status" % (pid, pid)) as f:
        text = f.read()
    n = sum(int(x) for x in re.findall(r"^\w*voluntary_ctxt_switches:\s+(\d+)", text, re.M))
    return re.search(r"^State:\s+(\S)", text, re.M).group(1), n


def progress(t):
    for _ in range(100):
        with open(t.truth["progress"]) as f:
            parts = f.read().split()
        if len(parts) == 3:
            return tuple(map(int, parts))
        time.sleep(0.01)
    livelib.fail("progress file unreadable")


def advances(t, field, timeout=5.0):
    v = progress(t)[field]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(0.02)
        if progress(t)[field] != v:
            return True
    return False


def wait_until(pred, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.005)
    livelib.fail("timed out waiting for " + what)


def held(pid):
    ts = threads_of(pid)
    return bool(ts) and all(s == "t" for _, s, _ in ts)


def in_hold(tornstack_pid):
    """tornstack is in its --hold-ms sleep (clock_nanosleep, x86-64 230;
    its other waits are sigtimedwait): every thread has been stopped."""
    try:
        with open("/proc/%d/syscall" % tornstack_pid) as f:
            return f.read().split()[0] == "230"
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False


def wait_later_hold(pid, what):
    """Wait for a hold that follows a completed one: at least one sample
    has been taken whole (the first one, cold, may still be reading)."""
    wait_until(lambda: held(pid), 20, what)
    wait_until(lambda: not held(pid), 20, what + " to end")
    wait_until(lambda: held(pid), 20, what + " again")


def assert_free(name, t, job_stopped=False):
    """Every thread runs untraced (or, with job_stopped, sits in the
    job-control stop State T, untraced), and the target makes progress."""
    want = "T" if job_stopped else None

    def ok():
        ts = threads_of(t.pid)
        if not ts or any(tr != 0 for _, _, tr in ts):
            return False
        if want:
            return all(s == want for _, s, _ in ts)
        return all(s not in "tT" for _, s, _ in ts)
    deadline = time.monotonic() + 2.0
    while not ok():
        if time.monotonic() > deadline:
            livelib.fail("%s: target threads after tornstack ended: %r" % (name, threads_of(t.pid)))
        time.sleep(0.01)
    if job_stopped:
        v = progress(t)[0]
        time.sleep(0.3)
        if progress(t)[0] != v:
            livelib.fail("%s: the target ran through its job-control stop" % name)
        os.kill(t.pid, signal.SIGCONT)
    if not advances(t, 0):
        livelib.fail("%s: the target makes no progress after tornstack ended" % name)


def start(args):
    p = subprocess.Popen([tornstack] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    procs.append(p)
    return p


def finish(p, timeout=20):
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        livelib.fail("tornstack %d did not end in %ds: %s" % (p.pid, timeout, err))
    return p.returncode, out, err


def run(args, wrapper=(), env=None):
    return subprocess.run(list(wrapper) + [tornstack] + args, capture_output=True, text=True,
                          timeout=60, env=env)


def record_args(t, *extra):
    return ["record", "--pid", str(t.pid), "--blocking", *map(str, extra)]


# --- cases ---------------------------------------------------------------------

def case_teardown():
    plans = [("SIGINT", [signal.SIGINT]), ("SIGTERM", [signal.SIGTERM]),
             ("SIGHUP", [signal.SIGHUP]), ("SIGINT then SIGTERM", [signal.SIGINT, signal.SIGTERM]),
             ("SIGKILL", [signal.SIGKILL])]
    for name, sigs in plans:
        t = livelib.Target("blocking_app.py", "plain")
        try:
            out_path = os.path.join(work, "teardown.folded")
            p = start(record_args(t, "--hold-ms", 300, "--rate", 2, "--duration", 60,
                                  "-o", out_path))
            wait_until(lambda: held(t.pid), 20, "the target to be held (%s)" % name)
            if not held(t.pid):
                livelib.fail("%s: the hold ended before the signal" % name)
            for s in sigs:
                p.send_signal(s)
            rc, _, err = finish(p)
            if sigs == [signal.SIGKILL]:
                if rc != -signal.SIGKILL:
                    livelib.fail("%s: tornstack exit %r" % (name, rc))
            else:
                if rc != 0 or "stopped by" not in err or "samples" not in err:
                    livelib.fail("%s: exit %d, stderr %r" % (name, rc, err))
                with open(out_path) as f:
                    if "blk_task" not in f.read():
                        livelib.fail("%s: the recording was not kept" % name)
            assert_free(name, t)
            ran.append(name)
        finally:
            t.close()


def case_target_exit():
    # The target exits by itself after 1.5 s of a 20 s recording.
    t = livelib.Target("blocking_app.py", "exit", 1.5)
    try:
        p = start(record_args(t, "--rate", 100, "--duration", 20))
        rc, out, err = finish(p, timeout=15)
        if rc != 0 or "blk_task" not in out or "samples" not in err:
            livelib.fail("exits itself: exit %d, stdout %r, stderr %r" % (rc, out[:200], err))
        ran.append("target exits during record")
    finally:
        t.close()
    # The target is killed while tornstack holds it.
    t = livelib.Target("blocking_app.py", "plain")
    try:
        p = start(record_args(t, "--hold-ms", 300, "--rate", 2, "--duration", 60))
        wait_later_hold(t.pid, "the target to be held")
        os.kill(t.pid, signal.SIGKILL)
        rc, out, err = finish(p, timeout=15)
        if rc != 0 or "samples" not in err:
            livelib.fail("killed while held: exit %d, stderr %r" % (rc, err))
        ran.append("target killed while held")
    finally:
        t.close()
    # A blocking dump of many samples whose target exits: a clean error.
    t = livelib.Target("blocking_app.py", "exit", 1.0)
    try:
        p = start(["dump", "--pid", str(t.pid), "--blocking", "--format", "json",
                   "--count", "100000000"])
        rc, out, err = finish(p, timeout=30)
        lines = err.strip().splitlines()
        if rc not in (3, 8) or '"tasks"' not in out or not any("sampling failed" in l for l in lines):
            livelib.fail("dump of an exiting target: exit %d, stderr %r" % (rc, err))
        ran.append("target exits during dump")
    finally:
        t.close()


def case_threads():
    t = livelib.Target("blocking_app.py", "threads")
    try:
        born0 = progress(t)[2]
        p = start(record_args(t, "--hold-ms", 40, "--rate", 10, "--duration", 4))
        snapshots = 0
        deadline = time.monotonic() + 3.5
        while time.monotonic() < deadline:
            # A snapshot counts when tornstack sleeps in its hold at both
            # ends (so every thread had reported its stop: a thread still on
            # its way to the stop may show R while stop_all waits for it)
            # and the main thread did not run in between (one hold).
            state0, sw0 = main_switches(t.pid)
            if state0 != "t" or not in_hold(p.pid):
                time.sleep(0.002)
                continue
            before = progress(t)
            time.sleep(0.015)
            listing = threads_of(t.pid)
            after = progress(t)
            if main_switches(t.pid) != (state0, sw0) or not in_hold(p.pid):
                continue  # restarted meanwhile: not a snapshot of one hold
            snapshots += 1
            loose = [(tid, s) for tid, s, _ in listing if s not in "tZX"]
            if loose or before != after:
                livelib.fail("threads: while held, threads %r run, progress %r -> %r" % (
                    loose, before, after))
            if any(tr != p.pid for _, s, tr in listing if s == "t"):
                livelib.fail("threads: a held thread is not traced by tornstack: %r" % listing)
            time.sleep(0.05)
        rc, out, err = finish(p)
        m = re.search(r"(\d+) threads attached", err)
        if rc != 0 or m is None:
            livelib.fail("threads: exit %d, stderr %r" % (rc, err))
        born = progress(t)[2] - born0
        if snapshots < 5 or int(m.group(1)) < 6 or born < 20:
            livelib.fail("threads: %d snapshots, %s threads attached, %d threads born: "
                         "the test did not exercise new threads" % (snapshots, m.group(1), born))
        if "blk_worker" not in out:
            livelib.fail("threads: the worker thread was never sampled: %r" % out[:300])
        assert_free("threads", t)
        if not advances(t, 2):
            livelib.fail("threads: no thread is created after tornstack ended")
        print("threads: %d snapshots while held, %s threads attached, %d born" % (
            snapshots, m.group(1), born))
        ran.append("new threads held")
    finally:
        t.close()


def case_signals():
    t = livelib.Target("blocking_app.py", "plain")
    try:
        p = start(record_args(t, "--hold-ms", 100, "--rate", 5, "--duration", 60))
        for i in range(1, 11):
            # odd: sent while held; even: while the target runs
            want = "t" if i % 2 else None
            wait_until(lambda: (main_state(t.pid) == "t") == (want == "t"), 20,
                       "the target %s" % ("held" if want else "running"))
            os.kill(t.pid, signal.SIGUSR1)
            wait_until(lambda: progress(t)[1] >= i, 10, "SIGUSR1 #%d to be delivered" % i)
        if progress(t)[1] != 10:
            livelib.fail("signals: %d SIGUSR1 delivered, 10 sent" % progress(t)[1])
        ran.append("10 signals delivered")
        # Job control while sampled: SIGSTOP holds, SIGCONT releases.
        os.kill(t.pid, signal.SIGSTOP)
        time.sleep(0.4)
        v = progress(t)[0]
        time.sleep(0.5)
        if progress(t)[0] != v:
            livelib.fail("signals: the target ran through SIGSTOP")
        os.kill(t.pid, signal.SIGCONT)
        if not advances(t, 0):
            livelib.fail("signals: no progress after SIGCONT")
        ran.append("SIGSTOP/SIGCONT while sampled")
        # A job-control stop in force when tornstack leaves stays in force.
        os.kill(t.pid, signal.SIGSTOP)
        time.sleep(0.4)
        p.send_signal(signal.SIGINT)
        rc, _, err = finish(p)
        m = re.search(r"(\d+) signals passed on", err)
        if rc != 0 or m is None or int(m.group(1)) < 10:
            livelib.fail("signals: exit %d, stderr %r" % (rc, err))
        assert_free("SIGSTOP kept across detach", t, job_stopped=True)
        ran.append("SIGSTOP kept across detach")
    finally:
        t.close()


def case_stalled_reader():
    """A reader that stops reading (a pager left open, a pipe nobody
    drains): the output fills the pipe while the target is attached.  Its
    own signals must still be delivered, not wait in their stops for a
    tornstack stuck in write(): a blocking dump writes each sample while it
    answers them, and record lets the target go before writing its
    profile (HTML, larger than a pipe holds)."""
    t = livelib.Target("blocking_app.py", "plain")
    try:
        runs = (("dump", ["dump", "--pid", str(t.pid), "--blocking", "--format", "json",
                          "--count", "1000000"], 130),
                ("record", record_args(t, "--rate", 50, "--duration", 1, "--format", "html"), 0))
        for name, args, code in runs:
            # a pipe of one page, so that record's profile fills it too
            r_end, w_end = os.pipe()
            fcntl.fcntl(w_end, fcntl.F_SETPIPE_SZ, 4096)
            p = subprocess.Popen([tornstack] + args, stdout=w_end, stderr=subprocess.PIPE,
                                 text=True)
            procs.append(p)
            os.close(w_end)
            try:
                time.sleep(2.5)  # the pipe is full: the dump's samples, or record's HTML
                if p.poll() is not None:
                    livelib.fail("stalled reader, %s: ended before its output filled the pipe: "
                                 "%r" % (name, p.communicate()[1]))
                base = progress(t)[1]
                for i in range(1, 4):
                    os.kill(t.pid, signal.SIGUSR1)
                    wait_until(lambda: progress(t)[1] >= base + i, 3,
                               "stalled reader, %s: SIGUSR1 #%d delivered" % (name, i))
                if code != 0:
                    p.send_signal(signal.SIGINT)
                out = b""
                while True:  # the reader comes back
                    chunk = os.read(r_end, 65536)
                    if not chunk:
                        break
                    out += chunk
            finally:
                os.close(r_end)
            rc, _, err = finish(p)
            if rc != code or not out:
                livelib.fail("stalled reader, %s: exit %d (want %d), %d bytes out, stderr %r" % (
                    name, rc, code, len(out), err))
            assert_free("stalled reader, %s" % name, t)
            ran.append("%s to a stalled reader" % name)
    finally:
        t.close()


def case_job_control():
    """Ctrl-Z (SIGTSTP), SIGTTIN or SIGTTOU to tornstack while it holds the
    target: tornstack is not stopped (it would keep the target stopped with
    it); the target's hold ends and it makes progress; SIGINT then ends the
    recording as usual.  Once detached, SIGTSTP stops tornstack again (its
    disposition is given back)."""
    t = livelib.Target("blocking_app.py", "plain")
    try:
        for sig in (signal.SIGTSTP, signal.SIGTTIN, signal.SIGTTOU):
            p = start(record_args(t, "--hold-ms", 200, "--rate", 4, "--duration", 60))
            wait_until(lambda: in_hold(p.pid), 20, "tornstack to hold the target")
            os.kill(p.pid, sig)
            time.sleep(0.5)
            if main_state(p.pid) == "T":
                os.kill(p.pid, signal.SIGCONT)
                livelib.fail("job control: %s stopped tornstack while it held the target" %
                             signal.Signals(sig).name)
            if not advances(t, 0, 3.0):
                livelib.fail("job control: the target made no progress after %s to tornstack" %
                             signal.Signals(sig).name)
            p.send_signal(signal.SIGINT)
            rc, out, err = finish(p)
            if rc != 0 or not out:
                livelib.fail("job control, %s: exit %d, stderr %r" % (
                    signal.Signals(sig).name, rc, err))
            assert_free("job control, %s" % signal.Signals(sig).name, t)
            ran.append("%s to tornstack while held" % signal.Signals(sig).name)
    finally:
        t.close()


def one_line(name, r, code, words):
    lines = r.stderr.strip().splitlines()
    if r.returncode != code or (code != 2 and len(lines) != 1):
        livelib.fail("%s: exit %d (expected %d), stderr %r" % (name, r.returncode, code, r.stderr))
    for w in words:
        if w not in r.stderr:
            livelib.fail("%s: stderr %r lacks %r" % (name, r.stderr, w))
    ran.append(name)


def case_refusal():
    t = livelib.Target("blocking_app.py", "plain")
    try:
        dump = ["dump", "--pid", str(t.pid), "--blocking"]
        if os.geteuid() == 0 and shutil.which("setpriv"):
            r = run(dump, wrapper=["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"])
            one_line("another user", r, 10, ["ptrace refused", "tornstack as uid 65534"])
        else:
            print("the other-user case needs root and setpriv; not run")
        # LeakSanitizer stops threads with ptrace at exit: in a sanitizer
        # build it cannot work under this filter, so it is told not to.
        env = dict(os.environ)
        env["ASAN_OPTIONS"] = ":".join(filter(None, [env.get("ASAN_OPTIONS"), "detect_leaks=0"]))
        r = run(dump, wrapper=[noptrace], env=env)
        one_line("seccomp filter", r, 10, ["ptrace refused", "seccomp filter"])
        first = start(record_args(t, "--rate", 10, "--duration", 60))
        wait_until(lambda: all(tr == first.pid for _, _, tr in threads_of(t.pid)), 20,
                   "the first tornstack to attach")
        r = run(dump)
        one_line("second tracer", r, 10, ["ptrace refused", "already traced by pid %d" % first.pid])
        first.send_signal(signal.SIGTERM)
        rc, _, err = finish(first)
        if rc != 0:
            livelib.fail("second tracer: the first tornstack exit %d: %r" % (rc, err))
        assert_free("refusals", t)
    finally:
        t.close()
    one_line("hold without blocking", run(["dump", "--pid", "1", "--hold-ms", "5"]), 2,
             ["--hold-ms needs --blocking"])
    one_line("bad hold", run(["dump", "--pid", "1", "--blocking", "--hold-ms", "-3"]), 2,
             ["invalid hold"])
    with open("/proc/sys/kernel/pid_max") as f:
        pid_max = int(f.read())
    one_line("blocking, no such process",
             run(["dump", "--pid", str(pid_max + 1), "--blocking"]), 3, ["no such process"])
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        time.sleep(0.05)
        one_line("blocking, not python", run(["dump", "--pid", str(sleeper.pid), "--blocking"]),
                 5, ["not a Python process"])
        left = threads_of(sleeper.pid)
        if any(s in "tT" or tr != 0 for _, s, tr in left):
            livelib.fail("not python: the process was left %r" % left)
    finally:
        sleeper.kill()
        sleeper.wait()


# blocking_app.py's Tasks: its four blk-K Tasks and the main Task.
APP_TASKS = 5


def unskipped_docs(what, text):
    """The JSON documents of a dump, each checked to list every Task of the
    program and to skip none (a document of no Task would pass "no skip"
    having read nothing)."""
    dec, pos, docs = json.JSONDecoder(), 0, 0
    while pos < len(text.rstrip()):
        doc, pos = dec.raw_decode(text, pos)
        while pos < len(text) and text[pos].isspace():
            pos += 1
        docs += 1
        if doc["skips"]:
            livelib.fail("%s skipped Tasks: %r" % (what, doc["skips"]))
        names = sorted(t["name"] for t in doc["tasks"] if t["skipped"] is None)
        if doc["tasks_error"] is not None or len(names) != APP_TASKS:
            livelib.fail("%s: document %d lists %d unskipped Tasks %r (tasks_error %r), want %d" % (
                what, docs, len(names), names, doc["tasks_error"], APP_TASKS))
    return docs


def case_commands():
    t = livelib.Target("blocking_app.py", "plain")
    try:
        r = run(["dump", "--pid", str(t.pid), "--blocking", "--format", "json", "--count", "3"])
        docs = unskipped_docs("blocking dump", r.stdout)
        # one stop a sample, and one more for each sample taken again (a
        # torn stop, or a page its snapshot lacked), as the line says
        m = re.search(r"target stopped (\d+) times \((\d+) again after a torn stop, (\d+) again "
                      r"for a page a snapshot lacked\)", r.stderr)
        if (r.returncode != 0 or docs != 3 or m is None
                or int(m.group(1)) != 3 + int(m.group(2)) + int(m.group(3))):
            livelib.fail("dump: exit %d, %d documents, stderr %r" % (r.returncode, docs, r.stderr))
        ran.append("dump")
        r = run(["bench", "--pid", str(t.pid), "--blocking", "--tasks", "--samples", "50"])
        if r.returncode != 0 or len(re.findall(r"stopped_us/sample=[0-9.]+", r.stdout)) != 2:
            livelib.fail("bench: exit %d, stdout %r, stderr %r" % (r.returncode, r.stdout, r.stderr))
        ran.append("bench")
        # A blocking dump told to stop by SIGINT: detached, exit 128 + 2.
        p = start(["dump", "--pid", str(t.pid), "--blocking", "--hold-ms", "200", "--format",
                   "folded", "--count", "1000"])
        wait_until(lambda: held(t.pid), 20, "the dump to hold the target")
        p.send_signal(signal.SIGINT)
        rc, out, err = finish(p)
        if rc != 130 or "stopped by" not in err or "blk_task" not in out:
            livelib.fail("dump interrupted: exit %d, stderr %r" % (rc, err))
        assert_free("dump interrupted", t)
        ran.append("dump interrupted")
        # --pause-on-torn: samples taken running, those that skipped taken
        # again stopped: no skip is left, and the share redone is said.
        r = run(["dump", "--pid", str(t.pid), "--pause-on-torn", "--format", "json", "--count",
                 "50"])
        docs = unskipped_docs("pause-on-torn dump", r.stdout)
        if r.returncode != 0 or docs != 50 or not re.search(
                r"pause-on-torn: [0-9]+ of 50 samples redone stopped", r.stderr):
            livelib.fail("pause-on-torn dump: exit %d, %d documents, stderr %r" % (
                r.returncode, docs, r.stderr))
        assert_free("pause-on-torn dump", t)
        ran.append("pause-on-torn dump")
        # Ended by SIGINT, then by SIGKILL, while a redone sample holds it.
        for name, sig, want in (("pause-on-torn SIGINT", signal.SIGINT, 130),
                                ("pause-on-torn SIGKILL", signal.SIGKILL, -signal.SIGKILL)):
            p = start(["dump", "--pid", str(t.pid), "--pause-on-torn", "--hold-ms", "200",
                       "--format", "folded", "--count", "100000"])
            wait_until(lambda: held(t.pid), 20, "a redone sample to hold the target (%s)" % name)
            p.send_signal(sig)
            rc, out, err = finish(p)
            if rc != want:
                livelib.fail("%s: exit %d, stderr %r" % (name, rc, err))
            assert_free(name, t)
            ran.append(name)
    finally:
        t.close()


def case_stop_site():
    t = livelib.Target("stop_site_app.py", 6)
    try:
        folded = os.path.join(work, "stop_site.folded")
        r = run(["record", "--pid", str(t.pid), "--blocking", "--stop-by", "clock", "--rate",
                 "100", "--duration", "3", "-o", folded])
        if r.returncode != 0:
            livelib.fail("stop_site: exit %d: %s" % (r.returncode, r.stderr))
        if "clocks were refused" in r.stderr:
            print("stop_site: SKIP: %s" % r.stderr.strip().splitlines()[-1])
            sys.exit(77)
        m = re.search(r"(\d+) thread stops by the thread's own clock, (\d+) of its clocks late",
                      r.stderr)
        turns = re.search(r"clocks count user time only: (\d+) running threads were interrupted "
                          r"in the place of their kernel time", r.stderr)
        inside, total = livelib.folded_share(folded, "ss_syscall")
        if t.proc.wait(timeout=60) != 0:
            livelib.fail("stop_site: the target failed: %s" % t.proc.stderr.read())
        with open(t.truth_path) as f:
            truth = json.load(f)
        want = truth["syscall_share"]
    finally:
        t.close()
    got = inside / total if total else 0.0
    print("stop_site: %d samples, %.3f in ss_syscall, truth %.3f of its running time (%.3f of "
          "wall time, %d of %d rounds running); %s; %s" % (
              total, got, want, truth["wall_share"], truth["rounds_running"], truth["rounds"],
              m.group(0) if m else "no clock line", turns.group(0) if turns else "no turns line"))
    if m is None or total < 200 or int(m.group(1)) < total // 2:
        livelib.fail("stop_site: most stops were not made by the thread's clock: %s" % r.stderr)
    # os.stat spends part of its time in the kernel: some turns are its
    if turns is None or int(turns.group(1)) == 0:
        livelib.fail("stop_site: no stop stood for the thread's kernel time: %s" % r.stderr)
    if abs(got - want) > 0.15:
        livelib.fail("stop_site: %.3f of the samples in ss_syscall, %.3f of the time there"
                     % (got, want))
    ran.append("stops where the thread stands")


try:
    {"teardown": case_teardown, "target_exit": case_target_exit, "threads": case_threads,
     "signals": case_signals, "refusal": case_refusal, "commands": case_commands,
     "stop_site": case_stop_site, "stalled_reader": case_stalled_reader,
     "job_control": case_job_control}[case]()
finally:
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()
    shutil.rmtree(work, ignore_errors=True)
print("blocking %s: python %s: %d cases passed: %s" % (
    case, sys.version.split()[0], len(ran), ", ".join(ran)))
