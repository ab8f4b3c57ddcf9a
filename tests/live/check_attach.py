"""Attach-time checks on live 3.14+ processes: tornstack reads the target's
_Py_DebugOffsets block and _asyncio's debug offsets (.AsyncioDebug,
wherever it is mapped), compares them with its tables, and reads an
undoctored target; a doctored block, a free-threaded flag or a pre-release
version is refused with its own exit code and a one-line message naming
the cause.  A session attached before asyncio is imported finds the block
itself once a loop runs, and reads no Task when that block is doctored.

    python3.X check_attach.py TORNSTACK

Exit codes (docs/cli.md): 7 debug offsets mismatch,
9 unsupported build.
"""
import json
import os
import re
import signal
import subprocess
import sys
import time

import livelib

HERE = os.path.dirname(os.path.abspath(__file__))
tornstack = sys.argv[1]
minor = sys.version_info[1]
ran = []

# Where the debug fields sit, from the committed generated table.
with open(os.path.join(HERE, "..", "..", "src", "layouts", "layout_py3%d.inc" % minor)) as f:
    debug_at = {name: int(at) for name, at, _ in re.findall(r'\{"([^"]+)", (\d+), (\d+)\}', f.read())}
layout = dict(line.split("=", 1) for line in subprocess.run(
    [tornstack, "layout", str(minor)], capture_output=True, text=True, check=True).stdout.splitlines())


def dump(pid):
    return subprocess.run([tornstack, "dump", "--pid", str(pid)], capture_output=True, text=True,
                          timeout=60)


def expect(name, r, code, words):
    if r.returncode != code:
        livelib.fail("%s: exit %d, expected %d (stderr %r)" % (name, r.returncode, code, r.stderr))
    lines = r.stderr.strip().splitlines()
    if len(lines) != 1:
        livelib.fail("%s: expected one line on stderr, got %r" % (name, r.stderr))
    for w in words:
        if w not in r.stderr:
            livelib.fail("%s: stderr %r lacks %r" % (name, r.stderr, w))
    ran.append(name)
    print("%s: exit %d: %s" % (name, code, lines[0]))


def case(name, mode, code, words, at=None):
    t = livelib.Target("attach_target.py", mode, *([] if at is None else [at]))
    try:
        expect(name, dump(t.pid), code, words)
    finally:
        t.close()


def accepted(name, pid, want_task):
    """An undoctored target: read, every thread, no error; with a loop
    running, its Task too."""
    r = subprocess.run([tornstack, "dump", "--pid", str(pid), "--format", "json"],
                       capture_output=True, text=True, timeout=60)
    if r.returncode != 0 or r.stderr.strip():
        livelib.fail("%s: exit %d, stderr %r (expected a dump)" % (name, r.returncode, r.stderr))
    out = json.loads(r.stdout)
    bad = [th["truncated"] for th in out["threads"] if th["truncated"] is not None]
    if not out["threads"] or bad or out["tasks_error"] is not None:
        livelib.fail("%s: threads %d, truncated %s, tasks_error %s" % (
            name, len(out["threads"]), bad, out["tasks_error"]))
    if want_task and [x["coro"] for x in out["tasks"]] != ["loop_thread.<locals>.idle"]:
        livelib.fail("%s: tasks %s, expected the idle Task" % (name, out["tasks"]))
    ran.append(name)
    print("%s: exit 0, %d threads, %d tasks" % (name, len(out["threads"]), len(out["tasks"])))


for name, mode in [("checked and read (asyncio not imported)", "plain"),
                   ("checked and read (asyncio running)", "asyncio")]:
    t = livelib.Target("attach_target.py", mode)
    try:
        accepted(name, t.pid, mode == "asyncio")
    finally:
        t.close()
for field in ("thread_state.current_frame", "interpreter_frame.stackpointer",
              "llist_node.next", "gen_object.gi_frame_state"):
    case("doctored %s" % field, "runtime_field", 7, ["debug offsets mismatch", field],
         at=debug_at[field])
case("free-threaded flag", "free_threaded", 9, ["unsupported CPython build", "free-threaded"])
case("pre-release", "prerelease", 9, ["unsupported CPython build", "3.%d.0b1" % minor,
                                      "pre-release"])
for field in ("asyncio_task_object.task_node", "asyncio_task_object.task_awaited_by",
              "asyncio_thread_state.asyncio_tasks_head", "asyncio_interpreter_state.size"):
    case("doctored _asyncio %s" % field, "asyncio_field", 7,
         ["_asyncio debug offsets mismatch", field], at=layout["asyncio_debug." + field])

# asyncio imported after a first attach: the next attach finds the block.
t = livelib.Target("attach_target.py", "late",
                   layout["asyncio_debug.asyncio_task_object.task_coro"])
try:
    accepted("before asyncio is imported", t.pid, False)
    os.kill(t.pid, signal.SIGUSR1)
    line = t.proc.stdout.readline().strip()
    if line != "imported":
        livelib.fail("late target answered %r" % line)
    expect("after asyncio is imported", dump(t.pid), 7,
           ["_asyncio debug offsets mismatch", "asyncio_task_object.task_coro"])
finally:
    t.close()


def record_across_import(doctor):
    """One recording session attached before asyncio is imported: once a
    loop runs, the session finds the block itself (within the session) and
    reads the Task, or (doctored) reads no Task and says why."""
    args = [] if doctor is None else [layout["asyncio_debug." + doctor]]
    t = livelib.Target("attach_target.py", "late_loop", *args)
    out = os.path.join(t.dir, "late.folded")
    try:
        # the import comes well after attach and well before the end, even
        # on a loaded machine or under the sanitizers
        rec = subprocess.Popen([tornstack, "record", "--pid", str(t.pid), "--rate", "50",
                                "--duration", "6", "-o", out], stderr=subprocess.PIPE, text=True)
        time.sleep(2.0)
        os.kill(t.pid, signal.SIGUSR1)
        line = t.proc.stdout.readline().strip()
        if line != "imported":
            livelib.fail("late_loop target answered %r" % line)
        err = rec.communicate(timeout=60)[1]
        with open(out) as f:
            folded = f.read()
    finally:
        t.close()
    name = "one session across the import (%s)" % ("doctored " + doctor if doctor else "undoctored")
    if rec.returncode != 0:
        livelib.fail("%s: record exit %d: %s" % (name, rec.returncode, err))
    has_task = "<task late>" in folded and "ts_late_task" in folded
    if doctor is None and not has_task:
        livelib.fail("%s: the late Task is not in the profile: %s %r" % (name, err, folded[:400]))
    if doctor is not None and (has_task or "debug_offsets_mismatch" not in err):
        livelib.fail("%s: Tasks read with a doctored block, or no reason given: %s" % (name, err))
    ran.append(name)
    print("%s: %s" % (name, "the Task was read" if doctor is None else
                      [ln for ln in err.splitlines() if "debug_offsets" in ln][0]))


record_across_import(None)
if "_asyncio" in sys.builtin_module_names:
    # built in (Debian's 3.15): the block is mapped, found and checked at
    # attach; a word doctored later is not looked at again
    print("one session across the import (doctored): not run, _asyncio is built in")
else:
    record_across_import("asyncio_task_object.task_coro")

print("attach checks 3.%d: %d cases pass" % (minor, len(ran)))
