"""Target of the --blocking tests: an asyncio program that shows its progress.

    python blocking_app.py TRUTH_FILE MODE [SECONDS]

Four Tasks of blk_* coroutines step on one loop; a progress record
"ticks usr1 born" is rewritten in place (one pwrite) in progress.txt next to
TRUTH_FILE: ticks counts loop steps, usr1 the SIGUSR1 deliveries, born the
threads started.  MODE:
  plain    the loop alone;
  threads  a spawner thread starts short-lived threads without pause (two
           at a time), next to a long-lived worker thread;
  exit     the process exits by itself SECONDS after it is ready.
"""
import asyncio
import json
import os
import signal
import sys
import threading
import time

truth_file = sys.argv[1]
mode = sys.argv[2]
seconds = float(sys.argv[3]) if len(sys.argv) > 3 else 0.0
progress_path = os.path.join(os.path.dirname(truth_file), "progress.txt")
fd = os.open(progress_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
state = {"ticks": 0, "usr1": 0, "born": 0}


def publish():
    os.pwrite(fd, ("%20d %20d %20d\n" % (state["ticks"], state["usr1"], state["born"])).encode(), 0)


def on_usr1(signum, frame):
    state["usr1"] += 1
    publish()


def blk_crunch(n):
    acc = 0
    for i in range(n):
        acc += i * i
    return acc


async def blk_step(k):
    blk_crunch(200 + 50 * k)
    await asyncio.sleep(0.001)


async def blk_task(k):
    while True:
        await blk_step(k)
        state["ticks"] += 1
        if state["ticks"] % 10 == 0:
            publish()


def blk_short_lived():
    blk_crunch(2000)


def blk_spawner():
    while True:
        ts = [threading.Thread(target=blk_short_lived) for _ in range(2)]
        for t in ts:
            t.start()
            state["born"] += 1
        for t in ts:
            t.join()
        time.sleep(0.002)


def blk_worker():
    while True:
        blk_crunch(500)
        time.sleep(0.003)


async def main():
    signal.signal(signal.SIGUSR1, on_usr1)
    tasks = [asyncio.create_task(blk_task(k), name="blk-%d" % k) for k in range(4)]
    if mode == "threads":
        threading.Thread(target=blk_worker, daemon=True).start()
        threading.Thread(target=blk_spawner, daemon=True).start()
    await asyncio.sleep(0.05)
    publish()
    with open(truth_file, "w") as f:
        json.dump({"pid": os.getpid(), "version": sys.version.split()[0],
                   "progress": progress_path}, f)
    print("ready", flush=True)
    if mode == "exit":
        await asyncio.sleep(seconds)
        os._exit(0)
    await asyncio.gather(*tasks)


asyncio.run(main())
