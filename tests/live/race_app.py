"""Race target: Tasks of three families switch constantly.

    python race_app.py TRUTH_FILE

Families alpha, bravo and charlie each run Tasks whose coroutine and sync
functions carry the family's name (fam_alpha_*, ...).  Every Task loops:
some sync work in a family function, an await of a family coroutine, a
yield to the loop.  A sampler that ever shows a fam_bravo_* frame in a Task
whose coroutine is fam_alpha_* has leaked one Task's frames into another.
"""
import asyncio
import json
import os
import sys

truth_file = sys.argv[1]


def make_family(name):
    ns = {"asyncio": asyncio}
    src = f'''
def fam_{name}_crunch(n):
    acc = 0
    for i in range(n):
        acc += i * i
    return acc

async def fam_{name}_step(n):
    fam_{name}_crunch(n)
    await asyncio.sleep(0)

async def fam_{name}_task(k):
    while True:
        await fam_{name}_step(50 + 10 * k)
        fam_{name}_crunch(100)
'''
    exec(compile(src, f"<fam_{name}>", "exec"), ns)
    return ns[f"fam_{name}_task"]


async def main():
    tasks = []
    for fam in ("alpha", "bravo", "charlie"):
        fn = make_family(fam)
        for k in range(4):
            tasks.append(asyncio.create_task(fn(k), name=f"{fam}-{k}"))
    await asyncio.sleep(0.05)
    with open(truth_file, "w") as f:
        json.dump({"pid": os.getpid(), "version": sys.version.split()[0],
                   "expected_threads": 1, "tasks": len(tasks) + 1}, f)
    print("ready", flush=True)
    await asyncio.gather(*tasks)


asyncio.run(main())
