"""Echo server on uvloop for check_uvloop.py: Tasks named by family.

    python echo_uvloop_app.py TRUTH_FILE

Families, each with its own functions so every frame tells whose it is:
  conn.N  a connection handler Task (root coroutine echo_conn), reading a
          line, burning a little CPU (echo_work), writing it back;
  tick.N  ticker Tasks (tick_task) gathered by the main Task (echo_main),
          sleeping and burning CPU in turn;
  cb_*    a plain timer callback that runs Python code from C, in no Task.
The truth file holds the listening port, this file's path and the loop's
pure Python stack (the main Task's callers, root first).  Prints "ready".
"""
import asyncio
import json
import os
import sys

import uvloop

truth_file = sys.argv[1]
SERIAL = [0]


def frame_info(f):
    return {"name": f.f_code.co_qualname, "file": f.f_code.co_filename, "line": f.f_lineno}


def echo_work(data):
    x = 0
    for b in data * 20:
        x = (x * 31 + b) & 0xffff
    return data


async def echo_read(reader):
    return await reader.readline()


async def echo_conn(reader, writer):
    SERIAL[0] += 1
    asyncio.current_task().set_name("conn.%d" % SERIAL[0])
    while True:
        line = await echo_read(reader)
        if not line:
            break
        writer.write(echo_work(line))
        await writer.drain()
    writer.close()


def tick_burn(n):
    return sum(i * i for i in range(n))


async def tick_wait(i):
    await asyncio.sleep(0.001 * (1 + i % 3))


async def tick_task(i):
    while True:
        await tick_wait(i)
        tick_burn(300)


def cb_inner(n):
    return sum(range(n))


def cb_timer(loop):
    cb_inner(2000)
    loop.call_later(0.002, cb_timer, loop)


async def echo_main():
    asyncio.current_task().set_name("main")
    pure, f = [], sys._getframe(0).f_back
    while f is not None:
        pure.insert(0, frame_info(f))
        f = f.f_back
    loop = asyncio.get_running_loop()
    server = await asyncio.start_server(echo_conn, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    loop.call_later(0.002, cb_timer, loop)
    ticks = [asyncio.create_task(tick_task(i), name="tick.%d" % i) for i in range(4)]
    with open(truth_file + ".tmp", "w") as fh:
        json.dump({"pid": os.getpid(), "port": port, "app": os.path.abspath(__file__),
                   "pure": pure}, fh)
    os.replace(truth_file + ".tmp", truth_file)
    print("ready", flush=True)
    await asyncio.gather(*ticks)


with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
    runner.run(echo_main())
