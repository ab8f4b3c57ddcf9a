"""A gather/TaskGroup program to profile, for the profile format tests.

    python profile_app.py TRUTH_FILE

The main Task gathers three Tasks: two TaskGroups (batch-a with three
fetch Tasks, batch-b with two) whose children stay suspended in fetch ->
leaf -> asyncio.sleep, and a spinner that runs crunch_numbers between
yields.  A second thread runs busy_loop.  The threads name themselves
(prctl PR_SET_NAME, what /proc/PID/task/TID/comm shows): ts-loop and
ts-worker.  The hook module is loaded so TaskGroup children are linked to
their group's Task.  The truth file lists the Task names, the threads'
native ids and names, and the functions every recording must show; the
script prints "ready" once every Task exists.
"""
import asyncio
import ctypes
import json
import os
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
import tornstack_hook  # noqa: E402,F401  (links TaskGroup children to their group)

truth_file = sys.argv[1]
PR_SET_NAME = 15
libc = ctypes.CDLL(None, use_errno=True)
threads = {}
worker_ready = threading.Event()


def name_this_thread(name):
    if libc.prctl(PR_SET_NAME, name.encode(), 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NAME)")
    threads[threading.get_native_id()] = name


def busy_loop():
    x = 0
    while True:
        for i in range(5000):
            x ^= i * i


def worker():
    name_this_thread("ts-worker")
    worker_ready.set()
    busy_loop()


def crunch_numbers():
    x = 0
    for i in range(20000):
        x += i * i
    return x


async def leaf(i):
    await asyncio.sleep(3600 + i)


async def fetch(i):
    await leaf(i)


async def batch(name, n):
    async with asyncio.TaskGroup() as tg:
        for k in range(n):
            tg.create_task(fetch(k), name="fetch-%s-%d" % (name, k))


async def spin():
    while True:
        crunch_numbers()
        await asyncio.sleep(0)


def report():
    names = sorted(t.get_name() for t in asyncio.all_tasks())
    with open(truth_file, "w") as f:
        json.dump({"tasks": names, "threads": {str(k): v for k, v in threads.items()},
                   "functions": ["main", "batch", "fetch", "leaf", "spin", "crunch_numbers",
                                 "busy_loop"]}, f)
    print("ready", flush=True)


async def main():
    asyncio.current_task().set_name("main")
    asyncio.get_running_loop().call_later(0.3, report)
    await asyncio.gather(
        asyncio.create_task(batch("a", 3), name="batch-a"),
        asyncio.create_task(batch("b", 2), name="batch-b"),
        asyncio.create_task(spin(), name="spinner"),
    )


name_this_thread("ts-loop")
threading.Thread(target=worker, daemon=True).start()
worker_ready.wait()
asyncio.run(main())
