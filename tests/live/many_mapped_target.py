"""Target that maps hundreds of files of its own after importing asyncio.

    python many_mapped_target.py TRUTH_FILE N_FILES

After asyncio is imported (and, on 3.14, its _asyncio extension module
loaded), N_FILES small files are created in the truth file's directory
and each is mapped read-only at offset 0, as a program mapping dataset or
model shards does.  The kernel places new mappings below the old ones, so
/proc/PID/maps lists them before the _asyncio module: the attach, which
looks for _asyncio's debug section in the mapped objects, must not let
them crowd it out.  The truth says whether an _asyncio module is mapped
and how many mapped files come before it.  Three Tasks then wait on an
Event, named many-0..2, with the main Task.
"""
import asyncio
import json
import mmap
import os
import sys

truth_file, n_files = sys.argv[1], int(sys.argv[2])
here = os.path.dirname(truth_file)


def mapped_objects():
    """(start, path) of every file mapping at offset 0, in address order."""
    out = []
    with open("/proc/self/maps") as f:
        for line in f:
            parts = line.split(None, 5)
            if len(parts) == 6 and int(parts[2], 16) == 0 and parts[5].startswith("/"):
                out.append((int(parts[0].split("-")[0], 16), parts[5].strip()))
    return out


async def ts_many_wait(ev):
    await ev.wait()


def report(loop):
    objs = mapped_objects()
    at = [i for i, (_, p) in enumerate(objs) if os.path.basename(p).startswith("_asyncio")]
    data = {"pid": os.getpid(), "version": sys.version.split()[0], "expected_threads": 1,
            "files": n_files, "objects": len(objs),
            "asyncio_module": objs[at[0]][1] if at else None,
            "before_asyncio": at[0] if at else None,
            "tasks": sorted(t.get_name() for t in asyncio.all_tasks(loop))}
    with open(truth_file + ".tmp", "w") as f:
        json.dump(data, f)
    os.replace(truth_file + ".tmp", truth_file)
    print("ready", flush=True)


async def main():
    keep = []
    for i in range(n_files):
        path = os.path.join(here, "shard-%04d" % i)
        with open(path, "wb") as f:
            f.write(b"%d\n" % i * 64)
        with open(path, "rb") as f:
            keep.append(mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ))
    ev = asyncio.Event()
    asyncio.current_task().set_name("many-main")
    tasks = [asyncio.create_task(ts_many_wait(ev), name="many-%d" % i) for i in range(3)]
    asyncio.get_running_loop().call_later(0.1, report, asyncio.get_running_loop())
    await ev.wait()
    del tasks, keep


asyncio.run(main())
