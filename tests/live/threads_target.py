"""Live target: a Python process holding still with a known stack.

    python threads_target.py TRUTH_FILE DEPTH

Main thread: <module> -> ts_main -> ts_alpha -> ts_inner -> ts_generator
(a generator frame) -> TsHolder.ts_method -> ts_recurse x (DEPTH + 1) ->
ts_block_main -> Event.wait -> Condition.wait (blocked in C).
Worker thread (newest, so head of the thread list): Thread._bootstrap ...
-> ts_worker_block -> ts_recurse x (DEPTH/2 + 2) -> ts_worker_leaf -> Event.wait ...

A reporter thread waits until both threads are parked, takes their stacks
with sys._current_frames() (qualname, file, line; innermost first), writes
them as JSON to TRUTH_FILE, prints "ready" and exits.  The harness waits for
the reporter to be gone before it dumps, so every thread it sees is stable.
"""
import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ts_live_frames  # noqa: E402

truth_file = sys.argv[1]
depth = int(sys.argv[2])
sys.setrecursionlimit(max(1000, depth + 200))

stop = threading.Event()
parked = threading.Event()
worker_started = threading.Event()


def ts_block_main():
    parked.set()
    stop.wait()


def stack_of(frame):
    out = []
    while frame is not None:
        code = frame.f_code
        out.append({"name": code.co_qualname, "co_name": code.co_name,
                    "file": code.co_filename, "line": frame.f_lineno})
        frame = frame.f_back
    return out


def reporter():
    parked.wait()
    worker_started.wait()
    me = threading.get_ident()
    # Both threads call into C (lock acquire) right after setting their
    # events; wait until their innermost frames are inside threading.wait.
    for _ in range(2000):
        frames = sys._current_frames()
        ok = all(f.f_code.co_name == "wait" and f.f_back.f_code.co_name == "wait"
                 for t, f in frames.items() if t != me)
        if ok:
            break
        time.sleep(0.005)
    time.sleep(0.05)
    frames = sys._current_frames()
    natives = {t.ident: t.native_id for t in threading.enumerate()}
    threads = []
    for ident, frame in frames.items():
        if ident == me:
            continue
        threads.append({"thread_id": ident, "native_id": natives.get(ident),
                        "frames": stack_of(frame)})
    truth = {"pid": os.getpid(), "version": sys.version.split()[0],
             "threads": threads, "expected_threads": len(threads)}
    tmp = truth_file + ".tmp"
    with open(tmp, "w") as f:
        json.dump(truth, f)
    os.replace(tmp, truth_file)
    print("ready", flush=True)


def ts_main():
    worker = threading.Thread(target=ts_live_frames.ts_worker_block,
                              args=(worker_started, stop, depth // 2 + 1), name="ts-worker")
    worker.start()
    threading.Thread(target=reporter, name="ts-reporter").start()
    ts_live_frames.ts_alpha(depth, ts_block_main)


ts_main()
