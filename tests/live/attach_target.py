"""A 3.14+ process for the attach-time checks, optionally doctored: it
rewrites a word of its own _Py_DebugOffsets block, of _asyncio's
.AsyncioDebug block, or its Py_Version (memory only out-of-process readers
look at, so the interpreter keeps running), then waits.

    python3.X attach_target.py TRUTH_FILE MODE [AT]

MODE:
  plain          asyncio not imported (on 3.14 _asyncio is not mapped yet)
  asyncio        asyncio imported and a loop running in a second thread
  runtime_field  add 8 to the _Py_DebugOffsets word at byte AT
  free_threaded  set the block's free_threaded word to 1
  asyncio_field  import asyncio, add 8 to the .AsyncioDebug word at byte AT
  prerelease     make Py_Version say 3.X.0b1
  late           like plain; on SIGUSR1 import asyncio and do asyncio_field
                 with AT, then print "imported"
  late_loop      like plain; on SIGUSR1 import asyncio and start a loop
                 thread with a Task ("ts_late_task"), undoctored, unless AT
                 is given (then doctor that word first), then print
                 "imported"
"""
import ctypes
import json
import os
import signal
import sys
import threading
import time

import elfsect

truth_file, mode = sys.argv[1], sys.argv[2]
at = int(sys.argv[3]) if len(sys.argv) > 3 else 0
rt = ctypes.addressof(ctypes.c_char.in_dll(ctypes.pythonapi, "_PyRuntime"))
assert ctypes.string_at(rt, 8) == b"xdebugpy"
threads = 1


def bump(addr):
    word = ctypes.c_uint64.from_address(addr)
    word.value += 8


def doctor_asyncio():
    import asyncio  # noqa: F401  (maps _asyncio on 3.14)
    import _asyncio  # noqa: F401
    found = elfsect.find_section(".AsyncioDebug")
    assert found is not None, "no .AsyncioDebug section"
    bump(found[0] + at)


if mode == "asyncio":
    import asyncio

    suspended = threading.Event()

    def loop_thread():
        async def idle():
            # set only once the Task is suspended in its sleep, so a reader
            # told "ready" finds the Task (a still process) and never races
            # its creation
            asyncio.get_running_loop().call_soon(suspended.set)
            await asyncio.sleep(3600)
        asyncio.run(idle())
    threading.Thread(target=loop_thread, daemon=True).start()
    suspended.wait()
    threads = 2
elif mode == "runtime_field":
    bump(rt + at)
elif mode == "free_threaded":
    ctypes.c_uint64.from_address(rt + 16).value = 1
elif mode == "asyncio_field":
    doctor_asyncio()
elif mode == "prerelease":
    # Py_Version lives in read-only data: make its page writable first.
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    ver = ctypes.c_ulong.in_dll(ctypes.pythonapi, "Py_Version")
    page = ctypes.addressof(ver) & ~0xfff
    if libc.mprotect(page, 4096, 3) != 0:  # PROT_READ | PROT_WRITE
        raise OSError(ctypes.get_errno(), "mprotect")
    ver.value = (ver.value & 0xffff0000) | 0xb1  # 3.X.0b1
elif mode == "late":
    def on_signal(signum, frame):
        doctor_asyncio()
        print("imported", flush=True)
    signal.signal(signal.SIGUSR1, on_signal)
elif mode == "late_loop":
    def on_signal(signum, frame):
        import asyncio
        if len(sys.argv) > 3:
            doctor_asyncio()

        async def ts_late_task():
            await asyncio.sleep(3600)

        async def ts_late_main():
            await asyncio.create_task(ts_late_task(), name="late")

        threading.Thread(target=asyncio.run, args=(ts_late_main(),), daemon=True).start()
        print("imported", flush=True)
    signal.signal(signal.SIGUSR1, on_signal)
elif mode != "plain":
    raise SystemExit("unknown mode " + mode)

with open(truth_file, "w") as f:
    json.dump({"pid": os.getpid(), "expected_threads": threads}, f)
print("ready", flush=True)
while True:
    time.sleep(3600)
