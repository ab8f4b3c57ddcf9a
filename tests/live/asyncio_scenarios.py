"""Live asyncio scenarios that compute their own ground truth.

    python asyncio_scenarios.py TRUTH_FILE SCENARIO

Each scenario builds a known set of Tasks, then holds still.  The truth is
taken either by a plain loop callback while every Task is suspended, or
(when a Task or callback occupies the loop) by a reporter thread that then
exits.  For every Task in asyncio.all_tasks(): id (hex(id(task))), name,
coroutine qualname, running, its own frames innermost first (the cr_await
chain for a suspended Task; the thread's frames from the innermost one to
the Task's coroutine frame for the running one), the Tasks it awaits as
CPython's memory says (its _fut_waiter Task, or the pending Tasks under
the gather future it waits on; from 3.14 also every Task that records it
as an awaiter, so gather, wait, shield and TaskGroup children), the Tasks
recorded as its awaiters (3.14+), and with the hook module its strong and
creation links.  The script prints "ready" once the truth file is written.
"""
import asyncio
import json
import os
import sys
import threading
import time

truth_file, scenario = sys.argv[1], sys.argv[2]
# "created_preloaded" is "created" run under `tornstack run`, which preloads
# the hook: the script itself does not import it.
PRELOADED = "tornstack_hook" in sys.modules
if scenario == "created_preloaded":
    if not PRELOADED:
        sys.exit("created_preloaded must run under `tornstack run`")
    scenario = "created"
# "X_uvloop" is scenario X on uvloop's loop: its callbacks run from C, with
# no Handle._run frame and no Python ready deque.
UVLOOP = scenario.endswith("_uvloop")
if UVLOOP:
    scenario = scenario[:-len("_uvloop")]
    import uvloop
# From 3.14 CPython records who awaits a Task (awaited_by), so gather and
# TaskGroup parents are in memory: the TaskGroup scenario runs without the
# hook there, and its parents must still be found.
AWAITED_BY = sys.version_info >= (3, 14)
HOOK = PRELOADED or scenario in ("created", "wait_shield") or (
    scenario == "taskgroup" and not AWAITED_BY)
if PRELOADED:
    import tornstack_hook  # noqa: F401  (already loaded by sitecustomize)
elif HOOK:
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                    "python"))
    import tornstack_hook  # noqa: E402

AGENS = []
LOOP_THREAD = threading.get_ident()


def frame_info(f):
    return {"name": f.f_code.co_qualname, "file": f.f_code.co_filename, "line": f.f_lineno}


def chain_frames(coro):
    """Frames of a suspended coroutine chain, innermost first."""
    out, obj, seen = [], coro, set()
    while obj is not None and id(obj) not in seen:
        seen.add(id(obj))
        kind = type(obj).__name__
        if kind == "async_generator_asend":
            live = [g for g in AGENS if g.ag_await is not None or g.ag_running]
            obj = live[0] if live else None
            continue
        if kind == "coroutine":
            frame, nxt = obj.cr_frame, obj.cr_await
        elif kind == "async_generator":
            frame, nxt = obj.ag_frame, obj.ag_await
        elif kind == "generator":
            frame, nxt = obj.gi_frame, obj.gi_yieldfrom
        else:
            break
        if frame is None:
            break
        out.append(frame_info(frame))
        obj = nxt
    out.reverse()
    return out


def gather_children(fut, depth=0):
    out = []
    for c in getattr(fut, "_children", ()):
        if isinstance(c, asyncio.Task):
            if not c.done():
                out.append(hex(id(c)))
        elif type(c).__name__ == "_GatheringFuture" and depth < 32:
            out.extend(gather_children(c, depth + 1))
    return out


def running_frames(thread_frame, tasks):
    """Each running Task's own frames: from its coroutine frame inward, up
    to the next running Task's coroutine frame (an eager Task nested in it)."""
    roots = {id(t.get_coro().cr_frame): t for t in tasks
             if getattr(t.get_coro(), "cr_running", False)}
    own, pending, f = {}, [], thread_frame
    while f is not None:
        pending.append(frame_info(f))
        if id(f) in roots:
            own[id(roots[id(f)])] = pending
            pending = []
        f = f.f_back
    return own


def truth(loop, thread_frame=None):
    tasks = [t for t in asyncio.all_tasks(loop)]
    ids = {id(t) for t in tasks}
    links = tornstack_hook.links() if HOOK else {}
    own = running_frames(thread_frame, tasks) if thread_frame is not None else {}
    # 3.14+: each Task's recorded awaiters, and the edges they make
    awaiters = {}
    if AWAITED_BY:
        for t in tasks:
            awaiters[id(t)] = sorted(hex(id(p)) for p in (t._asyncio_awaited_by or ())
                                     if id(p) in ids)
    out = []
    for t in tasks:
        coro = t.get_coro()
        running = coro.cr_running if hasattr(coro, "cr_running") else False
        if running and thread_frame is not None:
            frames = own.get(id(t), [])
        else:
            frames = chain_frames(coro)
        w = t._fut_waiter
        if isinstance(w, asyncio.Task):
            awaiting = [hex(id(w))]
        elif type(w).__name__ == "_GatheringFuture":
            awaiting = gather_children(w)
        else:
            awaiting = []
        waiting_on = list(awaiting)  # what its fut_waiter leads to, alone
        if AWAITED_BY:
            mine = hex(id(t))
            for c in tasks:
                if mine in awaiters[id(c)] and hex(id(c)) not in awaiting and c is not t:
                    awaiting.append(hex(id(c)))
        strong = links.get((id(t), 1))
        created = links.get((id(t), 2))
        out.append({
            "id": hex(id(t)), "name": t.get_name(), "coro": coro.__qualname__,
            "running": bool(running), "frames": frames, "awaiting": awaiting,
            "waiting_on": waiting_on,
            "awaiters": awaiters.get(id(t)),
            "linked_to": hex(strong) if strong in ids else None,
            "created_by": hex(created) if created in ids else None,
        })
    return out


# uvloop: the loop's pure Python stack, root first: the frames below the
# main Task's coroutine frame, as its first step sees them (the loop's
# caller and what called it; the loop itself is C).
PURE = []


def take_pure():
    f = sys._getframe(1).f_back
    while f is not None:
        PURE.insert(0, frame_info(f))
        f = f.f_back


def write(tasks, expected_threads=1, thread_frames=None):
    data = {"pid": os.getpid(), "version": sys.version.split()[0], "scenario": scenario,
            "expected_threads": expected_threads, "tasks": tasks,
            "loop_thread": LOOP_THREAD, "thread_frames": thread_frames,
            "pure": PURE if UVLOOP else None}
    with open(truth_file + ".tmp", "w") as f:
        json.dump(data, f)
    os.replace(truth_file + ".tmp", truth_file)
    print("ready", flush=True)


def report_from_callback(loop):
    """Plain callback: every Task is suspended right now."""
    loop.call_later(0.05, lambda: write(truth(loop)))


def report_from_thread(loop, ready, spin_name):
    """Reporter thread, for a loop thread that never returns to select."""
    def run():
        ready.wait()
        for _ in range(2000):
            f = sys._current_frames()[LOOP_THREAD]
            if f.f_code.co_name == spin_name:
                break
            time.sleep(0.002)
        f = sys._current_frames()[LOOP_THREAD]
        frames, g = [], f
        while g is not None:
            frames.append(frame_info(g))
            g = g.f_back
        write(truth(loop, f), expected_threads=1, thread_frames=frames)
    threading.Thread(target=run, name="reporter", daemon=True).start()


# --- scenarios -------------------------------------------------------------

async def ts_leaf(ev):
    await ev.wait()


async def ts_pair(ev, n):
    await ts_leaf(ev)
    return n


async def gather_of_gathers():
    ev = asyncio.Event()
    report_from_callback(asyncio.get_running_loop())
    await asyncio.gather(asyncio.gather(ts_pair(ev, 1), ts_pair(ev, 2)),
                         asyncio.gather(ts_pair(ev, 3), ts_leaf(ev)))


async def ts_chain_link(ev, depth):
    if depth == 0:
        await ts_leaf(ev)
        return
    await asyncio.create_task(ts_chain_link(ev, depth - 1), name="link-%d" % (depth - 1))


async def chain():
    ev = asyncio.Event()
    report_from_callback(asyncio.get_running_loop())
    await ts_chain_link(ev, 4)


async def ts_group_member(ev, i):
    await ts_leaf(ev)


async def taskgroup():
    ev = asyncio.Event()
    report_from_callback(asyncio.get_running_loop())
    async with asyncio.TaskGroup() as tg:
        for i in range(3):
            tg.create_task(ts_group_member(ev, i), name="member-%d" % i)


async def ts_orphan(ev):
    await ts_leaf(ev)


async def ts_spawner(ev):
    asyncio.create_task(ts_orphan(ev), name="orphan-a")
    asyncio.create_task(ts_orphan(ev), name="orphan-b")
    await ts_leaf(ev)


async def created():
    ev = asyncio.Event()
    report_from_callback(asyncio.get_running_loop())
    asyncio.create_task(ts_spawner(ev), name="spawner")
    await ev.wait()


async def ts_shielded(ev):
    await ts_leaf(ev)


async def wait_shield():
    ev = asyncio.Event()
    report_from_callback(asyncio.get_running_loop())
    waited = [asyncio.create_task(ts_shielded(ev), name="waited-%d" % i) for i in range(2)]
    inner = asyncio.create_task(ts_shielded(ev), name="shielded")

    async def ts_shield_holder():
        await asyncio.shield(inner)

    holder = asyncio.create_task(ts_shield_holder(), name="holder")
    await asyncio.wait(waited)
    await holder


def ts_spin_sync(stop):
    # one line: the innermost frame's line must not change while sampled
    while not stop[0]: pass  # noqa: E701


async def ts_spinner(stop, ready):
    ready.set()
    ts_spin_sync(stop)


async def spin():
    ev = asyncio.Event()
    ready = threading.Event()
    waiting = asyncio.create_task(ts_leaf(ev), name="waiting")
    await asyncio.sleep(0)
    report_from_thread(asyncio.get_running_loop(), ready, "ts_spin_sync")
    await asyncio.create_task(ts_spinner([False], ready), name="spinner")
    await waiting


def ts_blocking_callback(ready):
    ready.set()
    ts_callback_inner()


def ts_callback_inner():
    time.sleep(100000)


async def callback():
    ev = asyncio.Event()
    ready = threading.Event()
    loop = asyncio.get_running_loop()
    t = asyncio.create_task(ts_leaf(ev), name="bystander")
    report_from_thread(loop, ready, "ts_callback_inner")
    loop.call_soon(ts_blocking_callback, ready)
    await t


async def ts_many_worker(ev, i):
    await ts_leaf(ev)


async def many():
    ev = asyncio.Event()
    report_from_callback(asyncio.get_running_loop())
    await asyncio.gather(*[ts_many_worker(ev, i) for i in range(500)])


async def ts_agen(ev):
    yield 1
    await ts_leaf(ev)
    yield 2


async def ts_agen_consumer(ev):
    g = ts_agen(ev)
    AGENS.append(g)
    async for _ in g:
        pass


async def agen():
    ev = asyncio.Event()
    report_from_callback(asyncio.get_running_loop())
    await asyncio.create_task(ts_agen_consumer(ev), name="consumer")


async def ts_eager_body(stop, ready):
    ready.set()
    ts_spin_sync(stop)


async def ts_eager_creator(stop, ready):
    loop = asyncio.get_running_loop()
    # runs its first step at once, nested in this Task's step (3.12+)
    loop.create_task(ts_eager_body(stop, ready), name="eager")
    await asyncio.sleep(0)


async def eager():
    ready = threading.Event()
    loop = asyncio.get_running_loop()
    loop.set_task_factory(asyncio.eager_task_factory)
    report_from_thread(loop, ready, "ts_spin_sync")
    await asyncio.create_task(ts_eager_creator([False], ready), name="creator")


def ts_staggered_block(ready):
    ready.set()
    time.sleep(100000)


async def ts_racer_first(ready):
    # let the next racer start and suspend in wait_for -> Event.wait (on 3.11
    # wait_for wraps Event.wait in a Task of its own, which starts too)
    for _ in range(4):
        await asyncio.sleep(0)
    ts_staggered_block(ready)


async def ts_racer_second():
    await asyncio.sleep(0)


async def staggered():
    """The running Task (the first racer) blocks in time.sleep inside
    staggered_race while the next racer waits in wait_for: nothing moves."""
    import asyncio.staggered
    ready = threading.Event()
    loop = asyncio.get_running_loop()
    report_from_thread(loop, ready, "ts_staggered_block")
    await asyncio.staggered.staggered_race(
        [lambda: ts_racer_first(ready), ts_racer_second], delay=100000)


def ts_init_block(ready):
    ready.set()
    time.sleep(100000)


class TsInitHolder:
    def __init__(self, ready, block):
        self.block = block
        if block:
            ts_init_block(ready)


async def ts_initializer(ready):
    # One call site, run until the interpreter specialises it: on 3.13+ a
    # class with a Python __init__ is then entered through the init shim,
    # a frame of its own (never shown) between the caller and __init__.
    for i in range(200):
        TsInitHolder(ready, i == 199)


async def init():
    """The running Task blocks in time.sleep inside a Python __init__ that
    the interpreter entered through its init shim: nothing moves."""
    ready = threading.Event()
    loop = asyncio.get_running_loop()
    report_from_thread(loop, ready, "ts_init_block")
    await asyncio.create_task(ts_initializer(ready), name="initializer")


SCENARIOS = {
    "staggered": staggered,
    "eager": eager,
    "gather_of_gathers": gather_of_gathers, "chain": chain, "taskgroup": taskgroup,
    "created": created, "wait_shield": wait_shield, "spin": spin, "callback": callback,
    "many": many, "agen": agen, "init": init,
}
async def uvloop_main():
    take_pure()
    await SCENARIOS[scenario]()


if UVLOOP:
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(uvloop_main())
else:
    asyncio.run(SCENARIOS[scenario]())
