"""tornstack_hook: record asyncio Task links where tornstack can read them.

CPython 3.11-3.13 keep no memory of which Task created another, or of
links that gather(), wait(), shield(), as_completed() and TaskGroup make
without an await.  Import this module early in a target process (or start
it with `tornstack run`) and it records those links in a bytearray,
_LINKS, that tornstack reads from outside the process:

    bytes 0..8    b"TSLINKS1"
    bytes 8..16   count: records in use so far (a high-water mark)
    then count records of 24 bytes: child id, parent id, kind
    (little-endian u64 each; kind 1 = strong link, 2 = creation link;
    a record of zeros is free)

A record is written whole before the count covers it.  When its child
Task or its parent is freed, the record is zeroed and its slot reused:
a weak reference to each Task a record names calls back as the Task is
deallocated, before its memory can hold a new Task (a record naming it
would then name the new one).  A finished Task that is still referenced
keeps its records, which name no pending Task: tornstack uses only
records whose child and parent are both Tasks of its sample.  Done
callbacks are not used for this: tornstack tells a Task that nothing
awaits by its done callbacks (an awaiter always adds one), and a callback
on every linked Task hid that from it.  links()
returns the same table as a dict, which is useful for tests.
"""
import asyncio
import asyncio.base_events
import asyncio.tasks
import struct
import weakref

STRONG = 1
CREATION = 2
CAPACITY = 16384
_REC = 24
_HDR = 16

_LINKS = bytearray(_HDR + _REC * CAPACITY)
_LINKS[0:8] = b"TSLINKS1"
_slots = {}  # (id(child), kind) -> slot
_parents = {}  # (id(child), kind) -> id(parent)
_kids = {}  # id(parent) -> {(id(child), kind), ...} naming it
_free = []
_count = 0
_refs = {}  # id(task) -> a weak reference to it, whose callback releases its records


def _release(key):
    slot = _slots.pop(key, None)
    parent = _parents.pop(key, None)
    if parent is not None:
        kids = _kids.get(parent)
        if kids is not None:
            kids.discard(key)
    if slot is not None:
        struct.pack_into("<QQQ", _LINKS, _HDR + slot * _REC, 0, 0, 0)
        _free.append(slot)


def _gone(tid):
    """Task tid is being deallocated: zero every record that names it."""
    _refs.pop(tid, None)
    _release((tid, STRONG))
    _release((tid, CREATION))
    for key in list(_kids.pop(tid, ())):
        if _parents.get(key) == tid:
            _release(key)


def _watch(task):
    tid = id(task)
    if tid not in _refs:
        _refs[tid] = weakref.ref(task, lambda _ref, tid=tid: _gone(tid))


def record(child, parent, kind):
    """Record that `parent` is linked to `child` (STRONG or CREATION)."""
    global _count
    if child is None or parent is None or child is parent:
        return
    if not isinstance(child, asyncio.Task) or not isinstance(parent, asyncio.Task):
        return
    key = (id(child), kind)
    slot = _slots.get(key)
    if slot is None:
        if _free:
            slot = _free.pop()
        elif _count < CAPACITY:
            slot = _count
        else:
            return  # full: the link is lost, never a wrong one
        _slots[key] = slot
        _watch(child)
    old = _parents.get(key)
    if old is not None and old != id(parent) and old in _kids:
        _kids[old].discard(key)
    _parents[key] = id(parent)
    kids = _kids.get(id(parent))
    if kids is None:
        kids = _kids[id(parent)] = set()
        _watch(parent)
    kids.add(key)
    struct.pack_into("<QQQ", _LINKS, _HDR + slot * _REC, id(child), id(parent), kind)
    if slot >= _count:
        _count = slot + 1
        struct.pack_into("<Q", _LINKS, 8, _count)


def links():
    """{(child id, kind): parent id} as recorded."""
    return dict(_parents)


def _current():
    try:
        return asyncio.current_task()
    except RuntimeError:
        return None


_orig_create_task = asyncio.base_events.BaseEventLoop.create_task


def _create_task(self, coro, *args, **kwargs):
    parent = _current()
    task = _orig_create_task(self, coro, *args, **kwargs)
    record(task, parent, CREATION)
    return task


_orig_gather = asyncio.tasks.gather


def _gather(*aws, return_exceptions=False):
    fut = _orig_gather(*aws, return_exceptions=return_exceptions)
    parent = _current()
    for child in getattr(fut, "_children", ()):
        record(child, parent, STRONG)
    return fut


_orig_shield = asyncio.tasks.shield


def _shield(arg):
    inner = asyncio.ensure_future(arg)
    record(inner, _current(), STRONG)
    return _orig_shield(inner)


_orig_wait = asyncio.tasks.wait


async def _wait(fs, *args, **kwargs):
    fs = [asyncio.ensure_future(f) for f in fs]
    parent = _current()
    for f in fs:
        record(f, parent, STRONG)
    return await _orig_wait(fs, *args, **kwargs)


_orig_as_completed = asyncio.tasks.as_completed


def _as_completed(fs, *args, **kwargs):
    fs = [asyncio.ensure_future(f) for f in fs]
    parent = _current()
    for f in fs:
        record(f, parent, STRONG)
    return _orig_as_completed(fs, *args, **kwargs)


asyncio.base_events.BaseEventLoop.create_task = _create_task
for _mod in (asyncio, asyncio.tasks):
    _mod.gather = _gather
    _mod.shield = _shield
    _mod.wait = _wait
    _mod.as_completed = _as_completed

if hasattr(asyncio, "TaskGroup"):
    _orig_tg_create_task = asyncio.TaskGroup.create_task

    def _tg_create_task(self, coro, *args, **kwargs):
        task = _orig_tg_create_task(self, coro, *args, **kwargs)
        record(task, getattr(self, "_parent_task", None), STRONG)
        return task

    asyncio.TaskGroup.create_task = _tg_create_task
