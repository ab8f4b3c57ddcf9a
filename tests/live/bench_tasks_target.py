"""Benchmark target: 100 Tasks, each suspended three coroutines deep.

    python bench_tasks_target.py TRUTH_FILE [N_TASKS]
"""
import asyncio
import json
import os
import sys

truth_file = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 100


async def ts_bench_leaf(ev):
    await ev.wait()


async def ts_bench_mid(ev):
    await ts_bench_leaf(ev)


async def ts_bench_task(ev):
    await ts_bench_mid(ev)


async def main():
    ev = asyncio.Event()
    tasks = [asyncio.create_task(ts_bench_task(ev)) for _ in range(n)]
    await asyncio.sleep(0.05)
    with open(truth_file, "w") as f:
        json.dump({"pid": os.getpid(), "version": sys.version.split()[0], "expected_threads": 1}, f)
    print("ready", flush=True)
    await asyncio.gather(*tasks)


asyncio.run(main())
