"""A process posing as another CPython version: it rewrites its own
Py_Version constant (read by extension modules and out-of-process
debuggers, never by the interpreter itself, so it keeps running), then
waits.

    python3.X patched_version_target.py TRUTH_FILE HEXVERSION

HEXVERSION is the PY_VERSION_HEX to pose as, e.g. 0x030a0cf0 (3.10.12,
older than any layout table) or 0x031000a1 (3.16.0a1, newer than all).
The page holding the constant is made writable for the one store.
"""
import ctypes
import json
import mmap
import os
import sys
import time

truth_file, want = sys.argv[1], int(sys.argv[2], 0)
version = ctypes.c_ulong.in_dll(ctypes.pythonapi, "Py_Version")
assert version.value == sys.hexversion, (hex(version.value), hex(sys.hexversion))
addr = ctypes.addressof(version)
libc = ctypes.CDLL(None, use_errno=True)
libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
page = addr & ~(mmap.PAGESIZE - 1)
if libc.mprotect(page, mmap.PAGESIZE, mmap.PROT_READ | mmap.PROT_WRITE) != 0:
    sys.exit("mprotect: %s" % os.strerror(ctypes.get_errno()))
version.value = want
with open(truth_file, "w") as f:
    json.dump({"pid": os.getpid(), "expected_threads": 1, "posing_as": hex(want)}, f)
print("ready", flush=True)
while True:
    time.sleep(3600)
