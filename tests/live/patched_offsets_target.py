"""A 3.13 process posing as a patched build: it rewrites the
thread_state.current_frame entry of its own _Py_DebugOffsets block (read only
by out-of-process debuggers, so the interpreter keeps running), then waits.

    python3.13 patched_offsets_target.py TRUTH_FILE
"""
import ctypes
import json
import os
import sys
import time

truth_file = sys.argv[1]
rt = ctypes.addressof(ctypes.c_char.in_dll(ctypes.pythonapi, "_PyRuntime"))
assert ctypes.string_at(rt, 8) == b"xdebugpy"
# _Py_DebugOffsets: cookie, version, free_threaded, runtime_state (3 words),
# interpreter_state (13 words), then thread_state {size, prev, next, interp,
# current_frame, ...}: current_frame is word 3 + 3 + 13 + 4 = 23.
slot = ctypes.c_uint64.from_address(rt + 8 * 23)
assert slot.value == 72, slot.value
slot.value = 80
with open(truth_file, "w") as f:
    json.dump({"pid": os.getpid(), "expected_threads": 1}, f)
print("ready", flush=True)
while True:
    time.sleep(3600)
