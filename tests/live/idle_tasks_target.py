"""Idle target: N Tasks in all, each suspended on one shared asyncio.Event.

    python idle_tasks_target.py TRUTH_FILE N

The main Task creates N - 1 Tasks named idle-<i> (coroutine ts_idle_wait)
and then waits on the same Event, so asyncio.all_tasks() holds exactly N
Tasks and nothing moves.  The truth file lists every Task: id, name,
coroutine and its own frames (the cr_await chain, innermost first).
"""
import asyncio
import json
import os
import sys

truth_file, n = sys.argv[1], int(sys.argv[2])


async def ts_idle_wait(ev):
    await ev.wait()


def frame_info(f):
    return {"name": f.f_code.co_qualname, "file": f.f_code.co_filename, "line": f.f_lineno}


def chain_frames(coro):
    out = []
    while coro is not None and hasattr(coro, "cr_frame") and coro.cr_frame is not None:
        out.append(frame_info(coro.cr_frame))
        coro = coro.cr_await
    out.reverse()
    return out


def report(loop):
    tasks = asyncio.all_tasks(loop)
    data = {"pid": os.getpid(), "version": sys.version.split()[0], "expected_threads": 1,
            "n": n,
            "tasks": [{"id": hex(id(t)), "name": t.get_name(), "coro": t.get_coro().__qualname__,
                       "frames": chain_frames(t.get_coro())} for t in tasks]}
    with open(truth_file + ".tmp", "w") as f:
        json.dump(data, f)
    os.replace(truth_file + ".tmp", truth_file)
    print("ready", flush=True)


async def main():
    ev = asyncio.Event()
    asyncio.current_task().set_name("idle-main")
    keep = [asyncio.create_task(ts_idle_wait(ev), name="idle-%d" % i) for i in range(n - 1)]
    loop = asyncio.get_running_loop()
    # a plain callback, once every Task has suspended on the Event
    loop.call_later(0.1, report, loop)
    await ev.wait()
    del keep


asyncio.run(main())
