"""Target that maps its own interpreter a second time.

    python twice_mapped_target.py TRUTH_FILE MODE

The interpreter is the object holding _PyRuntime: libpython for a shared
build (pyenv's), the executable for a static one (Debian's python3.11).

MODE mmap: the file is mapped again read-only at offset 0, at an address
below the real mapping, so that /proc/PID/maps lists the second mapping
first (the first candidate an attach examines).  If the whole file does
not fit below the real mapping, as for an executable loaded at 0x400000,
its first 64 KiB are mapped at the lowest address a process may map
(0x10000), so that the copy's _PyRuntime falls in the real executable's
code.
MODE dlopen: a copy of libpython in the truth file's directory is loaded
with ctypes.CDLL(copy, RTLD_LOCAL): a second, complete, never initialised
interpreter (for a static build, this version's installed libpython).

The main thread then sleeps in ts_twice_sleep; a reporter thread writes
its frames as the truth and exits.
"""
import ctypes
import json
import mmap
import os
import shutil
import sys
import sysconfig
import threading
import time

truth_file, mode = sys.argv[1], sys.argv[2]
MAIN = threading.get_ident()
MAP_FIXED_NOREPLACE = 0x100000


def shared_lib():
    """libpython of this version as installed, or None."""
    lib = os.path.join(sysconfig.get_config_var("LIBDIR") or "/",
                       sysconfig.get_config_var("INSTSONAME") or "-")
    return os.path.realpath(lib) if os.path.exists(lib) else None


def interpreter_path():
    """The object holding the running _PyRuntime, and whether it is libpython:
    a build may ship libpython without the executable using it (Debian)."""
    lib = shared_lib()
    if lib is not None and mappings(lib):
        return lib, True
    return os.path.realpath(sys.executable), False


def free_gap_below(limit, length):
    """Highest free address range of `length` bytes below `limit`."""
    used = []
    with open("/proc/self/maps") as f:
        for line in f:
            lo, hi = (int(x, 16) for x in line.split(None, 1)[0].split("-"))
            used.append((lo, hi))
    used.sort()
    floor, best = 0x10000, None
    for lo, hi in used + [(limit, limit)]:
        if lo > limit:
            break
        if lo - floor >= length and lo <= limit:
            best = lo - length
        floor = max(floor, hi)
    return best


def mappings(path):
    out = []
    with open("/proc/self/maps") as f:
        for line in f:
            parts = line.split(None, 5)
            if len(parts) == 6 and parts[5].strip() == path:
                lo, hi = (int(x, 16) for x in parts[0].split("-"))
                out.append((lo, hi, int(parts[2], 16)))
    return sorted(out)


path, shared = interpreter_path()
keep = []
if mode == "mmap":
    real = mappings(path)
    if not real:
        sys.exit("%s is not mapped" % path)
    size = os.path.getsize(path)
    page = mmap.PAGESIZE
    length = (size + page - 1) // page * page
    addr = free_gap_below(real[0][0], length)
    if addr is None:
        length = 16 * page
        addr = 0x10000  # the lowest address a process may map
    if addr is None:
        sys.exit("no room below 0x%x for a second mapping" % real[0][0])
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mmap.restype = ctypes.c_void_p
    libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                          ctypes.c_int, ctypes.c_long]
    fd = os.open(path, os.O_RDONLY)
    got = libc.mmap(addr, length, mmap.PROT_READ, mmap.MAP_PRIVATE | MAP_FIXED_NOREPLACE, fd, 0)
    os.close(fd)
    if got is None or got == ctypes.c_void_p(-1).value or got != addr:
        sys.exit("mmap at 0x%x failed: %s" % (addr, os.strerror(ctypes.get_errno())))
elif mode == "dlopen":
    # a static build loads this version's libpython, when installed
    lib = path if shared else shared_lib()
    if lib is None:
        sys.exit("dlopen mode needs a libpython of this version")
    copy = os.path.join(os.path.dirname(truth_file), os.path.basename(lib))
    shutil.copy(lib, copy)
    keep.append(ctypes.CDLL(copy, mode=os.RTLD_LOCAL))
else:
    sys.exit("unknown mode " + mode)

maps_of = [m for m in mappings(path) if m[2] == 0]
if mode == "mmap" and (len(maps_of) < 2 or maps_of[0][0] != addr):
    sys.exit("the second mapping of %s is not listed before the first: %s" % (path, maps_of))


def frame_info(f):
    return {"name": f.f_code.co_qualname, "file": f.f_code.co_filename, "line": f.f_lineno}


def report():
    for _ in range(2000):
        f = sys._current_frames()[MAIN]
        if f.f_code.co_name == "ts_twice_sleep":
            break
        time.sleep(0.002)
    frames, g = [], sys._current_frames()[MAIN]
    while g is not None:
        frames.append(frame_info(g))
        g = g.f_back
    data = {"pid": os.getpid(), "version": sys.version.split()[0], "expected_threads": 1,
            "mode": mode, "interpreter": path, "shared": shared,
            "thread_id": MAIN, "frames": frames}
    with open(truth_file + ".tmp", "w") as f:
        json.dump(data, f)
    os.replace(truth_file + ".tmp", truth_file)
    print("ready", flush=True)


def ts_twice_sleep():
    time.sleep(100000)


threading.Thread(target=report, name="reporter", daemon=True).start()
ts_twice_sleep()
