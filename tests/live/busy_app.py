"""Busy target: hundreds of Tasks whose names and frames tell who they are.

    python busy_app.py TRUTH_FILE [WORKERS] [SEED]

WORKERS worker Tasks (default 200; about 466 Tasks alive in all) switch
every few microseconds.  Each worker has a *family* F (0..WORKERS-1) and
loops, choosing by its own seeded random generator among: nested awaits
three levels deep with short CPU bursts, a flat gather of child Tasks, a
nested gather (a gather of gathers), an awaited child Task, a
fire-and-forget Task, and a plain burst.  Children may gather
grandchildren of their own.

Every Python function a Task runs is generated per family with exec and
named f<F>_<what>; a Task's root coroutine is f<F>_<role>_task, role w
(worker), c (child), g (grandchild) or o (fire-and-forget orphan).  A
child Task runs the *next* family's code: a worker of family F creates
children and orphans of family F+1 (mod WORKERS), a child of family G
creates grandchildren of family G+1.  About 14 code objects per family
(2,800 for 200 workers) stay within the unwinder's code cache.  Task names are
"<fam>.<role>.<serial>.<creator serial>" (the main Task is "main.m.0.-"),
so a Task's name says who created it.  In this program the creator of a
Task is also the only Task that awaits it, gathers it or links to it.

The truth file holds, for each family-role, the family-roles a Task of it
may legitimately sit under ("parents"), the pure Python stack of the loop
(frames from <module> to BaseEventLoop._run_once, root first, as a plain
callback sees them) and the frame that splits it from the running Task's
frames (Handle._run).
"""
import asyncio
import json
import os
import random
import sys

truth_file = sys.argv[1]
WORKERS = int(sys.argv[2]) if len(sys.argv) > 2 else 200
SEED = int(sys.argv[3]) if len(sys.argv) > 3 else 1
SERIAL = [0]
ORPHANS = set()

SRC = '''
def f{F}_burn(n):
    acc = 0
    for i in range(n):
        acc += i * i
    return acc

async def f{F}_leaf(n):
    f{F}_burn(n)
    await asyncio.sleep(0)
    f{F}_burn(n)

async def f{F}_level2(n):
    await f{F}_leaf(n)
    f{F}_burn(n)

async def f{F}_level1(n):
    await f{F}_level2(n)
    await f{F}_leaf(n)

async def f{F}_level0(n):
    await f{F}_level1(n)

async def f{F}_gather(kids):
    await asyncio.gather(*[spawn(k) for k in kids])

async def f{F}_nested_gather(kids):
    half = len(kids) // 2
    await asyncio.gather(asyncio.gather(*[spawn(k) for k in kids[:half]]),
                         asyncio.gather(*[spawn(k) for k in kids[half:]]))

async def f{F}_await_child(kid):
    await spawn(kid)

def f{F}_fire(kid):
    t = spawn(kid)
    ORPHANS.add(t)
    t.add_done_callback(ORPHANS.discard)

async def f{F}_steps(me, rng, role):
    forever, kid, p = ROLES[role]
    steps = 0
    while forever or steps < rng.randint(2, 5):
        steps += 1
        a = rng.random()
        if a < p[0]:
            await f{F}_level0(rng.randint(10, 60))
        elif a < p[1]:
            await f{F}_gather([(me, kid) for _ in range(rng.randint(1, 2))])
        elif a < p[2]:
            await f{F}_nested_gather([(me, kid) for _ in range(rng.randint(2, 3))])
        elif a < p[3]:
            await f{F}_await_child((me, kid))
        elif a < p[4]:
            f{F}_fire((me, "o"))
        else:
            f{F}_burn(rng.randint(20, 120))
            await asyncio.sleep(0)

async def f{F}_w_task(me, rng):
    await f{F}_steps(me, rng, "w")

async def f{F}_c_task(me, rng):
    await f{F}_steps(me, rng, "c")

async def f{F}_g_task(me, rng):
    await f{F}_steps(me, rng, "g")

async def f{F}_o_task(me, rng):
    await f{F}_steps(me, rng, "o")
'''

# Role: (runs forever, role of its children, cumulative probabilities of
# nested awaits, flat gather, nested gather, awaited child, fire-and-forget;
# the rest is a plain burst).  Grandchildren and orphans only await, burn
# and yield; only workers fire and forget.
ROLES = {
    "w": (True, "c", (0.45, 0.60, 0.68, 0.76, 0.84)),
    "c": (False, "g", (0.55, 0.65, 0.70, 0.75, 0.75)),
    "g": (False, "-", (0.70, 0.70, 0.70, 0.70, 0.70)),
    "o": (False, "-", (0.70, 0.70, 0.70, 0.70, 0.70)),
}
CODE = {}  # (family, role) -> root coroutine function


def family(f):
    ns = {"asyncio": asyncio, "spawn": spawn, "ORPHANS": ORPHANS, "ROLES": ROLES}
    exec(compile(SRC.format(F=f), "<family f%d>" % f, "exec"), ns)
    for r in ROLES:
        CODE[(f, r)] = ns["f%d_%s_task" % (f, r)]


def spawn(kid):
    """A Task of the next family for the creator `me`, of role `role`."""
    (me_fam, me_serial), role = kid
    fam = (me_fam + 1) % WORKERS
    SERIAL[0] += 1
    serial = SERIAL[0]
    rng = random.Random(SEED * 1000003 + serial)
    return asyncio.get_running_loop().create_task(
        CODE[(fam, role)]((fam, serial), rng), name="f%d.%s.%d.%d" % (fam, role, serial, me_serial))


def parents():
    """family-role -> the family-roles its Tasks may sit under."""
    out = {}
    for f in range(WORKERS):
        prev = (f - 1) % WORKERS
        out["f%d.w" % f] = ["main.m"]
        out["f%d.c" % f] = ["f%d.w" % prev]
        out["f%d.o" % f] = ["f%d.w" % prev]
        out["f%d.g" % f] = ["f%d.c" % prev]
    out["main.m"] = []
    return out


def report(loop):
    import sys as _sys
    f, frames = _sys._getframe(1), []
    while f is not None:
        frames.append({"name": f.f_code.co_qualname, "file": f.f_code.co_filename})
        f = f.f_back
    frames.reverse()  # root first; the last is Handle._run
    data = {"pid": os.getpid(), "version": sys.version.split()[0], "expected_threads": 1,
            "workers": WORKERS, "parents": parents(),
            "pure": frames[:-1], "split": frames[-1],
            "tasks_at_ready": len(asyncio.all_tasks(loop))}
    with open(truth_file + ".tmp", "w") as fh:
        json.dump(data, fh)
    os.replace(truth_file + ".tmp", truth_file)
    print("ready", flush=True)


async def main():
    asyncio.current_task().set_name("main.m.0.-")
    for f in range(WORKERS):
        family(f)
    workers = []
    for f in range(WORKERS):
        SERIAL[0] += 1
        rng = random.Random(SEED * 1000003 + SERIAL[0])
        workers.append(asyncio.create_task(CODE[(f, "w")]((f, SERIAL[0]), rng),
                                           name="f%d.w.%d.0" % (f, SERIAL[0])))
    loop = asyncio.get_running_loop()
    loop.call_later(0.5, report, loop)
    await asyncio.gather(*workers)


asyncio.run(main())
