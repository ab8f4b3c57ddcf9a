"""Busy asyncio program of a few hundred Tasks, for scripts/bias.sh.

    python bias_busy_app.py TRUTH_FILE [SEED]

Eight supervisors each run, over and over, a gather tree three levels deep
(nested gathers, 3 x 3 x 3 leaves) whose leaves await a child Task of
their own; fire-and-forget Tasks are started along the way and end by
themselves; 200 idle Tasks wake now and then for a short CPU burst.  About
400 Tasks exist at any time.  Every function is named bz_* so profiles are
easy to read.  Seeded, so two runs do the same kind of work.
"""
import asyncio
import json
import os
import random
import sys

truth_file = sys.argv[1]
rng = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 1)
background = set()  # fire-and-forget Tasks, kept alive until they finish


def bz_burst(n):
    acc = 0
    for i in range(n):
        acc += i * i % 7
    return acc


async def bz_child(k):
    bz_burst(100 + 50 * k)
    await asyncio.sleep(0.001 * (k % 3))
    return k


async def bz_fire_and_forget(k):
    bz_burst(300)
    await asyncio.sleep(0.002)
    bz_burst(200)


async def bz_leaf(k):
    bz_burst(rng.randrange(100, 1500))
    if rng.random() < 0.2:
        t = asyncio.create_task(bz_fire_and_forget(k))
        background.add(t)
        t.add_done_callback(background.discard)
    await asyncio.create_task(bz_child(k))  # an awaited child Task
    await asyncio.sleep(0)


async def bz_branch(depth, k):
    if depth == 0:
        await bz_leaf(k)
        return
    await asyncio.gather(*(bz_branch(depth - 1, 3 * k + i) for i in range(3)))


async def bz_supervisor(s):
    while True:
        await bz_branch(3, s)
        bz_burst(500)


async def bz_idle(k):
    while True:
        await asyncio.sleep(rng.uniform(0.005, 0.05))
        bz_burst(rng.randrange(50, 400))


async def main():
    tasks = [asyncio.create_task(bz_supervisor(s), name="sup-%d" % s) for s in range(8)]
    tasks += [asyncio.create_task(bz_idle(k), name="idle-%d" % k) for k in range(200)]
    await asyncio.sleep(0.3)
    with open(truth_file, "w") as f:
        json.dump({"pid": os.getpid(), "version": sys.version.split()[0],
                   "tasks_now": len(asyncio.all_tasks())}, f)
    print("ready", flush=True)
    await asyncio.gather(*tasks)


asyncio.run(main())
