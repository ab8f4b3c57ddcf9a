"""Attach-time checks on live processes of a version the walks do not read
yet (3.14, 3.15): tornstack reads the target's _Py_DebugOffsets block and
_asyncio's debug offsets (.AsyncioDebug, wherever it is mapped), compares
them with its tables, and then refuses the target as unsupported; a
doctored block, a free-threaded flag or a pre-release version is refused
with its own exit code and a one-line message naming the cause.

    python3.X check_attach.py TORNSTACK

Exit codes (docs/cli.md): 6 unsupported version, 7 debug offsets mismatch,
9 unsupported build.
"""
import os
import re
import signal
import subprocess
import sys

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


accepted = ["unsupported Python version", "layout and debug offsets match",
            "do not read 3.%d yet" % minor]
case("checked, then unsupported (asyncio not imported)", "plain", 6, accepted)
case("checked, then unsupported (asyncio running)", "asyncio", 6, accepted)
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
    expect("before asyncio is imported", dump(t.pid), 6, accepted)
    os.kill(t.pid, signal.SIGUSR1)
    line = t.proc.stdout.readline().strip()
    if line != "imported":
        livelib.fail("late target answered %r" % line)
    expect("after asyncio is imported", dump(t.pid), 7,
           ["_asyncio debug offsets mismatch", "asyncio_task_object.task_coro"])
finally:
    t.close()

print("attach checks 3.%d: %d cases pass" % (minor, len(ran)))
