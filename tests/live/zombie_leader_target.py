"""Target whose first thread exits while another runs on.

    python zombie_leader_target.py TRUTH_FILE [HANDOVER_S]

A worker thread runs an asyncio loop with three Tasks, named zl-0..2,
waiting on an Event.  Once it runs, the main thread writes the truth,
prints "ready" and ends itself with pthread_exit (through ctypes, which
lets the GIL go around the call), as an embedding program's main thread
may: the process lives on, but its pid now names a zombie thread, whose
/proc maps read empty and whose id process_vm_readv refuses.  With
HANDOVER_S, a thread started before the worker (so listed before it, the
one a reader takes to read through) exits HANDOVER_S seconds after
"ready": a reader must go on through another.
"""
import asyncio
import ctypes
import json
import os
import sys
import threading
import time

truth_file = sys.argv[1]
handover = float(sys.argv[2]) if len(sys.argv) > 2 else None
started = threading.Event()
info = {}


async def ts_zl_wait(ev):
    await ev.wait()


async def ts_zl_main():
    ev = asyncio.Event()
    tasks = [asyncio.create_task(ts_zl_wait(ev), name="zl-%d" % i) for i in range(3)]
    await asyncio.sleep(0)
    info["tasks"] = sorted(t.get_name() for t in asyncio.all_tasks())
    info["worker"] = threading.get_native_id()
    started.set()
    await asyncio.gather(*tasks)


def ts_zl_worker():
    asyncio.run(ts_zl_main(), debug=False)


go = threading.Event()
first = {}


def ts_zl_first():
    first["id"] = threading.get_native_id()
    go.wait()
    time.sleep(handover)  # then returns: the thread exits


if handover is not None:
    threading.Thread(target=ts_zl_first, name="zl-first").start()
    while "id" not in first:
        pass
threading.Thread(target=ts_zl_worker, name="zl-worker").start()
started.wait()
data = {"pid": os.getpid(), "version": sys.version.split()[0], "leader": threading.get_native_id(),
        "worker": info["worker"], "tasks": info["tasks"], "first": first.get("id")}
with open(truth_file + ".tmp", "w") as f:
    json.dump(data, f)
os.replace(truth_file + ".tmp", truth_file)
print("ready", flush=True)
go.set()
ctypes.CDLL(None).pthread_exit(None)
