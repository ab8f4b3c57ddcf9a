"""Check, on live objects of this interpreter (3.14+), the facts about
coroutines and Tasks that docs/layouts.md records and the 3.14+ walks rely
on, with tornstack's tables (`tornstack layout MINOR`).

    python3.X check_asyncio_facts.py TORNSTACK

Each fact is read from memory through ctypes at the table's offsets and
compared with what Python itself reports (cr_await, current_task(),
all_tasks(), the tasks a coroutine awaits):

  awaitee     a coroutine suspended at an await keeps what cr_await returns
              at stackpointer[-awaitee_depth]; on 3.15 the slot above it
              holds a NULL reference
  states      created / suspended at an await / suspended at a bare yield /
              running / finished, as generator frame-state values
  frames      entry frames are owned by the interpreter and hold None
              through a tagged reference; the running Task's coroutine
              frame is on its thread's frame chain; on 3.15 the chain ends
              at the thread state's embedded base frame
  lists       native Tasks sit on their thread's circular list in creation
              order, by their task_node; non-native Tasks go to the WeakSet;
              a thread's pending Tasks move to the interpreter's list when it
              exits
  awaited_by  one awaiter, or a set of them; what gather and TaskGroup
              children record
  running     the thread state's running Task and loop
"""
import asyncio
import asyncio.tasks
import ctypes
import subprocess
import sys
import threading

import livelib

tornstack = sys.argv[1]
minor = sys.version_info[1]
table = dict(line.split("=", 1) for line in subprocess.run(
    [tornstack, "layout", str(minor)], capture_output=True, text=True, check=True).stdout.splitlines())
off = {k: int(v) for k, v in table.items() if v.lstrip("-").isdigit()}
if "task_node" not in off:
    livelib.fail("tornstack has no 3.14+ asyncio table for 3.%d" % minor)
checked = []

ts_get = ctypes.pythonapi.PyThreadState_Get
ts_get.restype = ctypes.c_void_p
interp_get = ctypes.pythonapi.PyInterpreterState_Get
interp_get.restype = ctypes.c_void_p


def word(addr):
    return ctypes.c_uint64.from_address(addr).value


def i8(addr):
    return ctypes.c_int8.from_address(addr).value


def u8(addr):
    return ctypes.c_uint8.from_address(addr).value


def check(name, got, want):
    if got != want:
        livelib.fail("%s: memory says %r, expected %r" % (name, got, want))
    checked.append(name)


def state(coro):
    return i8(id(coro) + off["gen_frame_state"])


def obj(ref):
    """The object a tagged _PyStackRef word refers to (its address)."""
    return ref & ~off["stackref_borrow_mask"]


def walk_list(head):
    """Task addresses on the circular llist at head, following next."""
    out, node = [], word(head + off["llist_next"])
    while node not in (0, head):
        if len(out) > 100000:
            livelib.fail("task list at 0x%x does not come back to its head" % head)
        out.append(node - off["task_node"])
        node = word(node + off["llist_next"])
    return out


def name_of(addr):
    return ctypes.cast(addr, ctypes.py_object).value.get_name()


def awaited_by(fut):
    """Names of the awaiters recorded in a Future or Task, sorted."""
    ref = word(id(fut) + off["fut_awaited_by"])
    if ref == 0:
        return []
    held = ctypes.cast(ref, ctypes.py_object).value
    if u8(id(fut) + off["fut_awaited_by_is_set"]):
        if type(held) is not set:
            livelib.fail("awaited_by of %r is flagged a set but is a %s" % (fut, type(held)))
        return sorted(t.get_name() for t in held)
    return [held.get_name()]


async def leaf():
    await asyncio.sleep(3600)


async def await_future(fut):
    await fut


async def await_coroutine(fut):
    await await_future(fut)


async def await_task(task):
    await task


async def gathers():
    await asyncio.gather(leaf(), leaf())


async def groups():
    async with asyncio.TaskGroup() as g:
        g.create_task(leaf(), name="tg_child_a")
        g.create_task(leaf(), name="tg_child_b")


async def returns():
    return 1


async def own_state(box):
    box.append(state(box[0]))


def bare_yield():
    yield 1


def check_awaitee(coro, label):
    """cr_await's object sits awaitee_depth slots below the stack top."""
    depth = off["awaitee_depth"]
    frame = id(coro) + off["gen_iframe"]
    sp = word(frame + off["frame_stackpointer"])
    check(label + ": state", state(coro), off["state_suspended_yield_from"])
    check(label + ": stackpointer[-%d]" % depth, obj(word(sp - 8 * depth)), id(coro.cr_await))
    for above in range(1, depth):
        check(label + ": stackpointer[-%d] is NULL" % above, word(sp - 8 * above),
              off["stackref_null"])


def orphan_thread(out):
    """A thread that leaves a pending Task behind when it exits."""
    loop = asyncio.new_event_loop()
    task = loop.create_task(leaf(), name="orphan")
    loop.run_until_complete(asyncio.sleep(0.01))
    out.append((loop, task))


async def main():
    loop = asyncio.get_running_loop()
    ts = ts_get()
    me = asyncio.current_task()

    # running: the thread state names the running Task and loop.
    check("asyncio_running_task", word(ts + off["tstate_asyncio_running_task"]), id(me))
    check("asyncio_running_loop", word(ts + off["tstate_asyncio_running_loop"]), id(loop))

    fut = loop.create_future()
    t_fut = asyncio.create_task(await_future(fut), name="awaits_future")
    t_coro = asyncio.create_task(await_coroutine(fut), name="awaits_coroutine")
    t_leaf = asyncio.create_task(leaf(), name="leaf")
    t_w1 = asyncio.create_task(await_task(t_leaf), name="waiter_1")
    t_gather = asyncio.create_task(gathers(), name="gatherer")
    t_group = asyncio.create_task(groups(), name="grouper")
    t_py = asyncio.tasks._PyTask(leaf(), name="pure_python")
    loop.set_task_factory(asyncio.eager_task_factory)
    t_eager = asyncio.create_task(leaf(), name="eager_blocked")
    loop.set_task_factory(None)
    for _ in range(5):
        await asyncio.sleep(0)

    # awaitee: await a Future, a coroutine, a Task, and sleep's own await.
    check_awaitee(t_fut.get_coro(), "await future")
    check("await future: cr_await type", type(t_fut.get_coro().cr_await).__name__, "FutureIter")
    check_awaitee(t_coro.get_coro(), "await coroutine")
    check("await coroutine: cr_await type", type(t_coro.get_coro().cr_await).__name__, "coroutine")
    check_awaitee(t_coro.get_coro().cr_await, "awaited coroutine awaiting a future")
    check_awaitee(t_w1.get_coro(), "await task")
    check_awaitee(t_leaf.get_coro(), "await sleep")

    # states
    c = returns()
    check("state created", state(c), off["state_created"])
    await c
    check("state finished (cleared)", state(c), off["state_cleared"])
    box = []
    co = own_state(box)
    box.append(co)
    await co
    check("state executing (read by itself)", box[1], off["state_executing"])
    g = bare_yield()
    next(g)
    check("state at a bare yield", state(g), off["state_suspended"])

    # frames: this thread's chain from current_frame.
    chain, f = [], word(ts + off["tstate_current_frame"])
    while f and len(chain) < 10000:
        chain.append(f)
        f = word(f + off["frame_previous"])
    owners = [i8(a + off["frame_owner"]) for a in chain]
    check("running Task's coroutine frame on the thread's chain",
          id(me.get_coro()) + off["gen_iframe"] in chain, True)
    check("outermost frame owned by the interpreter", owners[-1], off["owner_interpreter"])
    check("entry frame between Handle._run and the Task's coroutine",
          off["owner_interpreter"] in owners[:-1], True)
    # Tagged f_executable: an entry frame holds None through an immortal
    # (tagged) reference; a Python frame's masked word is its code object.
    entry = [a for a, o in zip(chain, owners) if o == off["owner_interpreter"]]
    ref = word(entry[0] + off["frame_code"])
    check("entry frame's f_executable: tag bits", ref & off["stackref_tag_bits"], 1)
    check("entry frame's f_executable: masked, None", obj(ref), id(None))
    coro_frame = id(me.get_coro()) + off["gen_iframe"]
    check("coroutine frame's f_executable, masked: its code",
          obj(word(coro_frame + off["frame_code"])), id(main.__code__))
    if off["tstate_base_frame"] >= 0:
        base = ts + off["tstate_embedded_base_frame"]
        check("base_frame pointer", word(ts + off["tstate_base_frame"]), base)
        check("chain ends at the embedded base frame", chain[-1], base)

    # lists: this thread's list holds the native Tasks in creation order.
    mine = walk_list(ts + off["tstate_asyncio_tasks_head"])
    native = [t for t in asyncio.all_tasks() if t is not t_py]
    check("thread list = native Tasks", sorted(mine), sorted(id(t) for t in native))
    check("thread list has the blocked eager Task", id(t_eager) in mine, True)
    check("non-native Task not on the list", id(t_py) in mine, False)
    check("non-native Task in asyncio.tasks._scheduled_tasks",
          t_py in getattr(asyncio.tasks, table["scheduled_tasks"]), True)
    order = [name_of(a) for a in mine]
    check("list order is creation order", order.index("awaits_future") < order.index("leaf")
          < order.index("gatherer") < order.index("eager_blocked"), True)
    check("interpreter list empty while no thread exited",
          walk_list(interp_get() + off["interp_asyncio_tasks_head"]), [])
    th = threading.Thread(target=orphan_thread, args=(kept,))
    th.start()
    th.join()
    check("exited thread's Task moved to the interpreter list",
          [name_of(a) for a in walk_list(interp_get() + off["interp_asyncio_tasks_head"])],
          ["orphan"])

    # awaited_by
    check("Future awaited by two Tasks (a set)", awaited_by(fut),
          ["awaits_coroutine", "awaits_future"])
    check("awaited_by_is_set with two awaiters", u8(id(fut) + off["fut_awaited_by_is_set"]), 1)
    check("Task awaited by one Task", awaited_by(t_leaf), ["waiter_1"])
    check("awaited_by_is_set with one awaiter", u8(id(t_leaf) + off["fut_awaited_by_is_set"]), 0)
    t_w2 = asyncio.create_task(await_task(t_leaf), name="waiter_2")
    await asyncio.sleep(0)
    check("Task awaited by two Tasks", awaited_by(t_leaf), ["waiter_1", "waiter_2"])
    children = [t for t in asyncio.all_tasks() if t.get_coro().__qualname__ == "leaf"
                and awaited_by(t) == ["gatherer"]]
    check("gather's children record the gathering Task", len(children), 2)
    check("TaskGroup children record the Task in `async with`",
          sorted(t.get_name() for t in asyncio.all_tasks() if awaited_by(t) == ["grouper"]),
          ["tg_child_a", "tg_child_b"])
    check("nothing awaits a top Task", awaited_by(t_gather), [])
    check("is_task of a Task", u8(id(t_leaf) + off["fut_is_task"]), 1)
    check("is_task of a Future", u8(id(fut) + off["fut_is_task"]), 0)

    for t in (t_fut, t_coro, t_leaf, t_w1, t_w2, t_gather, t_group, t_py, t_eager):
        t.cancel()
    fut.cancel()
    await asyncio.gather(t_fut, t_coro, t_leaf, t_w1, t_w2, t_gather, t_group, t_py, t_eager,
                         return_exceptions=True)


def no_loop_thread(out):
    ts = ts_get()
    out.append((word(ts + off["tstate_asyncio_running_task"]),
                word(ts + off["tstate_asyncio_running_loop"])))


kept = []
asyncio.run(main())
orphan_loop, orphan = kept[0]
orphan.cancel()
orphan_loop.run_until_complete(asyncio.gather(orphan, return_exceptions=True))
orphan_loop.close()
res = []
th = threading.Thread(target=no_loop_thread, args=(res,))
th.start()
th.join()
check("no running Task or loop in a thread without one", res[0], (0, 0))
print("asyncio facts 3.%d: %d checks pass: %s" % (minor, len(checked), "; ".join(checked)))
