"""Verify tornstack's _asyncio Task/Future table against live objects.

    python3.X check_asyncio_layout.py TORNSTACK

Task and Future layouts are private to Modules/_asynciomodule.c, so the
table in src/asyncio_layout.c is mirrored by hand.  This reads real objects
of this interpreter through ctypes at the table's offsets and checks each
field against what Python says it holds.
"""
import asyncio
import asyncio.tasks
import ctypes
import subprocess
import sys

import livelib

tornstack = sys.argv[1]
minor = sys.version_info[1]
table = dict(line.split("=", 1) for line in subprocess.run(
    [tornstack, "layout", str(minor)], capture_output=True, text=True, check=True).stdout.splitlines())
off = {k: int(v) for k, v in table.items() if v.lstrip("-").isdigit()}
checked = []


def word(addr):
    return ctypes.c_uint64.from_address(addr).value


def i32(addr):
    return ctypes.c_int32.from_address(addr).value


def check(name, got, want):
    if got != want:
        livelib.fail("%s: table gives %r, live object has %r" % (name, got, want))
    checked.append(name)


async def ts_waiter(fut):
    await fut


async def main():
    loop = asyncio.get_running_loop()
    fut = loop.create_future()
    task = asyncio.create_task(ts_waiter(fut))
    await asyncio.sleep(0)
    a = id(task)
    # Read the name slot before get_name() formats it (3.12+ store an int).
    name_obj = ctypes.cast(word(a + off["task_name"]), ctypes.py_object).value
    check("task_name", name_obj if isinstance(name_obj, str) else "Task-%d" % name_obj,
          task.get_name())
    check("fut_loop", word(a + off["fut_loop"]), id(loop))
    check("task_coro", word(a + off["task_coro"]), id(task.get_coro()))
    check("task_fut_waiter", word(a + off["task_fut_waiter"]), id(fut))
    check("fut_state(pending)", i32(a + off["fut_state"]), off["state_pending"])
    check("task_size", off["task_size"], type(task).__basicsize__)
    check("fut_size", off["fut_size"], type(fut).__basicsize__)
    # Done callbacks: none on a Task nothing awaits; awaiting it adds one
    # (fut_callback0), add_done_callback the next in the fut_callbacks list.
    check("fut_callback0(none)", word(a + off["fut_callback0"]), 0)
    check("fut_callbacks(none)", word(a + off["fut_callbacks"]), 0)
    joiner = asyncio.create_task(ts_waiter(task))
    await asyncio.sleep(0)
    check("fut_callback0(awaited)", word(a + off["fut_callback0"]) != 0, True)
    check("fut_callbacks(one)", word(a + off["fut_callbacks"]), 0)
    def ts_done(_t):
        pass
    task.add_done_callback(ts_done)
    check("fut_callbacks(two)", word(a + off["fut_callbacks"]) != 0, True)
    f2 = loop.create_future()
    f2.set_result(1)
    check("fut_state(finished)", i32(id(f2) + off["fut_state"]), 2)
    # The loop's ready deque: its mutation count moves by one per append
    # and per pop, and a callback is popped before it runs.
    ready = getattr(loop, table["loop_ready"])
    check("loop_ready", type(ready).__name__, "deque")
    before = word(id(ready) + off["deque_state"])
    length = word(id(ready) + off["deque_len"])
    check("deque_len", length, len(ready))
    loop.call_soon(lambda: None)
    check("deque_state(append)", word(id(ready) + off["deque_state"]) - before, 1)
    check("deque_len(append)", word(id(ready) + off["deque_len"]), length + 1)
    await asyncio.sleep(0)
    check("deque_state(run)", word(id(ready) + off["deque_state"]) - before >= 3, True)
    # Registries in asyncio.tasks
    check("scheduled_tasks", type(getattr(asyncio.tasks, table["scheduled_tasks"])).__name__, "WeakSet")
    if table["eager_tasks"]:
        check("eager_tasks", type(getattr(asyncio.tasks, table["eager_tasks"])).__name__, "set")
    # The running loop
    if table["running_loop_key"]:
        # PyThreadState_GetDict returns a borrowed reference: take it as an
        # address and let cast() add the reference.
        get_dict = ctypes.pythonapi.PyThreadState_GetDict
        get_dict.restype = ctypes.c_void_p
        held = ctypes.cast(get_dict(), ctypes.py_object).value[table["running_loop_key"]]
        if off["holder_loop"] >= 0:
            check("holder_loop", word(id(held) + off["holder_loop"]), id(loop))
        else:
            check("running_loop_in_dict", held is loop, True)
    # async_generator_asend -> its generator
    async def ts_agen():
        yield 1
    g = ts_agen()
    asend = g.__anext__()
    check("asend_gen", word(id(asend) + off["asend_gen"]), id(g))
    asend.close()
    if "task_node" in off:
        check_314(loop, task, fut, f2)
    fut.set_result(None)
    await task
    await joiner


def check_314(loop, task, fut, done):
    """3.14+: the Task-list and awaited-by fields, the thread state's
    asyncio fields, and _asyncio's own debug offsets block."""
    ts_get = ctypes.pythonapi.PyThreadState_Get
    ts_get.restype = ctypes.c_void_p
    ts = ts_get()
    check("fut_is_task(task)", ctypes.c_uint8.from_address(id(task) + off["fut_is_task"]).value, 1)
    check("fut_is_task(future)", ctypes.c_uint8.from_address(id(done) + off["fut_is_task"]).value, 0)
    # The Task awaits fut: fut records it as its one awaiter.
    check("fut_awaited_by", word(id(fut) + off["fut_awaited_by"]), id(task))
    check("fut_awaited_by_is_set", ctypes.c_uint8.from_address(id(fut) + off["fut_awaited_by_is_set"]).value, 0)
    check("tstate_asyncio_running_loop", word(ts + off["tstate_asyncio_running_loop"]), id(loop))
    check("tstate_asyncio_running_task", word(ts + off["tstate_asyncio_running_task"]),
          id(asyncio.current_task()))
    # task_node: the Task's node is on this thread's circular list.
    head = ts + off["tstate_asyncio_tasks_head"]
    node, nodes = word(head + off["llist_next"]), []
    while node != head and len(nodes) < 100000:
        nodes.append(node)
        prev_ok = word(word(node + off["llist_next"]) + off["llist_prev"]) == node
        if not prev_ok:
            livelib.fail("llist: next->prev of node 0x%x is not the node" % node)
        node = word(node + off["llist_next"])
    check("task_node", id(task) + off["task_node"] in nodes, True)
    check("task_list", sorted(n - off["task_node"] for n in nodes),
          sorted(id(t) for t in asyncio.all_tasks()))
    # _asyncio's debug offsets, found independently of tornstack.
    import elfsect
    found = elfsect.find_section(".AsyncioDebug")
    if found is None:
        livelib.fail("no .AsyncioDebug section mapped although _asyncio is loaded")
    addr, size, path = found
    check("asyncio_debug_size", size >= off["asyncio_debug_size"], True)
    want = {
        "asyncio_task_object.size": off["task_size"],
        "asyncio_task_object.task_name": off["task_name"],
        "asyncio_task_object.task_awaited_by": off["fut_awaited_by"],
        "asyncio_task_object.task_is_task": off["fut_is_task"],
        "asyncio_task_object.task_awaited_by_is_set": off["fut_awaited_by_is_set"],
        "asyncio_task_object.task_coro": off["task_coro"],
        "asyncio_task_object.task_node": off["task_node"],
        "asyncio_interpreter_state.size": off["interp_size"],
        "asyncio_interpreter_state.asyncio_tasks_head": off["interp_asyncio_tasks_head"],
        "asyncio_thread_state.size": off["tstate_impl_size"],
        "asyncio_thread_state.asyncio_running_loop": off["tstate_asyncio_running_loop"],
        "asyncio_thread_state.asyncio_running_task": off["tstate_asyncio_running_task"],
        "asyncio_thread_state.asyncio_tasks_head": off["tstate_asyncio_tasks_head"],
    }
    for name, value in want.items():
        check("AsyncioDebug " + name, word(addr + off["asyncio_debug." + name]), value)
    print("_asyncio debug offsets from %s" % path)


asyncio.run(main())
print("asyncio layout 3.%d: %d fields match live objects: %s" % (minor, len(checked), ", ".join(checked)))
