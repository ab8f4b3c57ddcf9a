"""CLI bad-input tests: each documented error is one line and its own exit code.

    python3 check_cli.py TORNSTACK

Cases: usage errors (2), no such process (3), permission denied (4, by
running tornstack as an unprivileged user against this root-owned process),
not a Python process (5), unsupported Python version (6, an older CPython
when one is installed, and always this interpreter posing as 3.10 and as
3.16 by rewriting its own Py_Version), mismatched debug offsets (7, a 3.13 process that
rewrites one field of its own _Py_DebugOffsets block).
"""
import glob
import json
import os
import resource
import signal
import shutil
import subprocess
import sys
import tempfile
import time

import livelib

HERE = os.path.dirname(os.path.abspath(__file__))
tornstack = sys.argv[1]
ran = []


def run(args, user=None):
    cmd = [tornstack] + args
    if user is not None:
        cmd = ["setpriv", "--reuid=%d" % user, "--regid=%d" % user, "--clear-groups"] + cmd
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60)


def expect(name, args, code, words, user=None):
    r = run(args, user)
    if r.returncode != code:
        livelib.fail("%s: exit %d, expected %d (stderr %r)" % (name, r.returncode, code, r.stderr))
    lines = r.stderr.strip().splitlines()
    if code not in (0, 2) and len(lines) != 1:
        livelib.fail("%s: expected one line on stderr, got %r" % (name, r.stderr))
    for w in words:
        if w not in r.stderr:
            livelib.fail("%s: stderr %r lacks %r" % (name, r.stderr, w))
    ran.append(name)


expect("no command", [], 2, ["usage"])
expect("unknown command", ["frobnicate"], 2, ["unknown command"])
expect("no pid", ["dump"], 2, ["--pid is required"])
expect("bad pid", ["dump", "--pid", "12abc"], 2, ["invalid pid"])
expect("negative pid", ["dump", "--pid", "-5"], 2, ["invalid pid"])
expect("bad format", ["dump", "--pid", "1", "--format", "xml"], 2, ["unknown format"])
expect("unknown command help", ["frobnicate", "--help"], 2, ["unknown command"])
expect("missing value", ["dump", "--pid"], 2, ["needs a value"])

# A pid that cannot exist (above pid_max).
with open("/proc/sys/kernel/pid_max") as f:
    pid_max = int(f.read())
expect("no such process", ["dump", "--pid", str(pid_max + 1)], 3, ["no such process"])

# A process that exited: its pid is free.
p = subprocess.Popen(["true"])
p.wait()
expect("exited process", ["dump", "--pid", str(p.pid)], 3, ["no such process"])

# Not Python: a sleeping coreutils process.
sleeper = subprocess.Popen(["sleep", "60"])
try:
    time.sleep(0.05)
    expect("not python", ["dump", "--pid", str(sleeper.pid)], 5, ["not a Python process"])
    if os.geteuid() == 0 and shutil.which("setpriv"):
        expect("permission denied", ["dump", "--pid", str(sleeper.pid)], 4,
               ["permission denied"], user=65534)
    else:
        print("permission case needs root and setpriv; not run")
finally:
    sleeper.kill()
    sleeper.wait()

# Unsupported version: an older CPython if one is installed next to this one.
older = []
for root in {os.path.expanduser("~/.pyenv"), os.environ.get("PYENV_ROOT", "")}:
    older += sorted(glob.glob(os.path.join(root, "versions", "3.[6-9]*", "bin", "python3.[6-9]")))
    older += sorted(glob.glob(os.path.join(root, "versions", "3.10*", "bin", "python3.10")))
older += [p for p in ("/usr/bin/python3.9", "/usr/bin/python3.10") if os.path.exists(p)]
if older:
    old = subprocess.Popen([older[-1], "-c", "import time; print('ready', flush=True); time.sleep(60)"],
                           stdout=subprocess.PIPE, text=True)
    try:
        old.stdout.readline()
        expect("unsupported version", ["dump", "--pid", str(old.pid)], 6,
               ["unsupported Python version", "Python 3."])
    finally:
        old.kill()
        old.wait()
else:
    print("no CPython older than 3.11 installed; the installed-interpreter case not run")

# Unsupported version, whatever is installed: this interpreter posing as
# 3.10 (no layout table, older) and as 3.16.0a1 (none yet, newer) by
# rewriting its own Py_Version.
for hexv, shown in (("0x030a0cf0", "Python 3.10.12"), ("0x031000a1", "Python 3.16.0a1")):
    t = livelib.Target("patched_version_target.py", hexv)
    try:
        expect("unsupported version %s" % shown, ["dump", "--pid", str(t.pid)], 6,
               ["unsupported Python version", shown])
    finally:
        t.close()

# Mismatched debug offsets: only meaningful under 3.13.
if sys.version_info[:2] == (3, 13):
    t = livelib.Target("patched_offsets_target.py")
    try:
        expect("debug offsets mismatch", ["dump", "--pid", str(t.pid)], 7,
               ["debug offsets", "thread_state.current_frame"])
    finally:
        t.close()

# A target that exits while `record` samples it: what was recorded is kept.
short = subprocess.Popen([sys.executable, "-c",
                          "import time\ndef ts_short_lived():\n    time.sleep(1.5)\n"
                          "print('ready', flush=True)\nts_short_lived()"],
                         stdout=subprocess.PIPE, text=True)
short.stdout.readline()
r = run(["record", "--pid", str(short.pid), "--rate", "200", "--duration", "5"])
short.wait()
if r.returncode != 0 or "samples" not in r.stderr or "ts_short_lived" not in r.stdout:
    livelib.fail("record of an exiting target: exit %d, stdout %r, stderr %r" % (
        r.returncode, r.stdout[:200], r.stderr))
# Folded lines: the thread's marker, then frames outermost first, joined by
# ';', then a count.  A sample may catch <module> alone (still in print(),
# or after the call returned), or no Python frame at all (the interpreter
# finishing), so the marker alone or with <module> is valid; the call's own
# line must show both frames.
nested = False
thread = "<thread %d " % short.pid
for line in r.stdout.splitlines():
    stack, count = line.rsplit(" ", 1)
    frames = stack.split(";")
    if (not count.isdigit() or not all(frames) or not frames[0].startswith(thread) or
            (len(frames) > 1 and not frames[1].startswith("<module> ("))):
        livelib.fail("record: bad folded line %r" % line)
    nested |= len(frames) >= 3 and frames[-1].startswith("ts_short_lived (")
if not nested:
    livelib.fail("record: no line with <module>;ts_short_lived in %r" % r.stdout[:300])
if "wrote" not in r.stderr or "stdout" not in r.stderr:
    livelib.fail("record does not say what it wrote: %r" % r.stderr)
ran.append("target exits during record")
expect("record bad rate", ["record", "--pid", "1", "--rate", "0"], 2, ["invalid rate"])
expect("record text format", ["record", "--pid", "1", "--format", "text"], 2, ["unknown format"])
expect("record unwritable output", ["record", "--pid", str(os.getpid()), "-o",
                                    "/nonexistent-dir/x.html", "--format", "html"], 2,
       ["cannot write /nonexistent-dir/x.html"])
# Output that cannot be written (a full disk): one line and exit 2, for
# text, JSON and folded dumps alike, never exit 0 with the output lost.
for fmt in ("text", "json", "folded"):
    with open("/dev/full", "w") as full:
        r = subprocess.run([tornstack, "dump", "--pid", str(os.getpid()), "--format", fmt],
                           stdout=full, stderr=subprocess.PIPE, text=True, timeout=60)
    if (r.returncode != 2 or len(r.stderr.strip().splitlines()) != 1 or
            "writing stdout failed: No space left on device" not in r.stderr):
        livelib.fail("dump --format %s to a full disk: exit %d, stderr %r" % (
            fmt, r.returncode, r.stderr))
    ran.append("dump --format %s to a full disk" % fmt)

# Every command explains itself with --help (exit 0, usage on stdout).
for cmd in ("dump", "record", "convert", "compare", "bench", "run", "verify", "replay",
            "layout"):
    for flag in ("--help", "-h"):
        h = run([cmd, flag])
        if h.returncode != 0 or not h.stdout.startswith("usage: tornstack " + cmd) or h.stderr:
            livelib.fail("%s %s: exit %d, stdout %r, stderr %r" % (cmd, flag, h.returncode,
                                                                 h.stdout[:120], h.stderr))
h = run(["record", "--pid", "1", "--help"])
if (h.returncode != 0 or "--no-task-frames" not in h.stdout or "--format" not in h.stdout
        or "--stop-by" not in h.stdout):
    livelib.fail("record --help lacks its options: %r" % h.stdout)
ran.append("--help of every command")

# convert: bad input is one line naming the file and line.
tmp = tempfile.mkdtemp(prefix="tornstack-cli-")
try:
    bad = os.path.join(tmp, "bad.folded")
    with open(bad, "w") as f:
        f.write("a (/x.py:1);b (/x.py:2) 3\nno-count-here\n")
    expect("convert bad line", ["convert", bad, "-o", os.path.join(tmp, "x.html")], 2,
           ["bad.folded:2", "count"])
    expect("convert no input", ["convert"], 2, ["needs an input file"])
    expect("convert missing file", ["convert", os.path.join(tmp, "none.folded"), "-f", "html"], 2,
           ["cannot read"])
    expect("convert unknown format", ["convert", bad, "-o", os.path.join(tmp, "x.svg")], 2,
           ["needs --format"])
    good = os.path.join(tmp, "good.folded")
    with open(good, "w") as f:
        f.write("<thread 5 main>;a (/x.py:1);<task t%3B1>;b (/x.py:2) 3\n")
    c = run(["convert", good, "-o", os.path.join(tmp, "good.html")])
    if c.returncode != 0 or "wrote 3 stacks (1 distinct) as html" not in c.stderr or \
            "open it in a browser" not in c.stderr:
        livelib.fail("convert to html: exit %d, %r" % (c.returncode, c.stderr))
    c = run(["convert", good, "--format", "folded"])
    if c.returncode != 0 or c.stdout != "<thread 5 main>;a (/x.py:1);<task t%3B1>;b (/x.py:2) 3\n":
        livelib.fail("convert folded to folded changed it: %r %r" % (c.stdout, c.stderr))
    ran.append("convert")

    # A profile that cannot be written whole (a file size limit stands for
    # a full disk) leaves the file it was to replace as it was, and no new
    # file beside it; one written whole replaces the old in place, keeping
    # its mode, and through a symlink replaces the file the link leads to.
    big = os.path.join(tmp, "big.folded")
    with open(big, "w") as f:
        for i in range(3000):
            f.write("f%d (/x.py:%d);g (/x.py:2) 3\n" % (i, i))
    old = os.path.join(tmp, "old.html")
    with open(old, "w") as f:
        f.write("precious\n")
    os.chmod(old, 0o640)

    def small_files():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))

    c = subprocess.run([tornstack, "convert", big, "-o", old], capture_output=True, text=True,
                       timeout=60, preexec_fn=small_files)
    with open(old) as f:
        kept = f.read()
    left = sorted(n for n in os.listdir(tmp) if n.startswith(".old.html.tornstack-"))
    if (c.returncode != 2 or len(c.stderr.strip().splitlines()) != 1 or
            "writing %s failed: File too large" % old not in c.stderr or
            "left as it was" not in c.stderr or
            kept != "precious\n" or left):
        livelib.fail("convert failing half-way: exit %d, stderr %r, old file now %r, left %r"
                     % (c.returncode, c.stderr, kept[:40], left))
    ran.append("a failed write leaves the old file")
    c = run(["convert", big, "-o", old])
    st = os.stat(old)
    if (c.returncode != 0 or os.path.getsize(old) < 100000 or st.st_mode & 0o7777 != 0o640 or
            os.listdir(tmp).count("old.html") != 1 or
            any(n.startswith(".") for n in os.listdir(tmp))):
        livelib.fail("convert over an old file: exit %d, %d bytes, mode %o, files %r (%r)" % (
            c.returncode, os.path.getsize(old), st.st_mode & 0o7777, os.listdir(tmp), c.stderr))
    link = os.path.join(tmp, "link.html")
    os.symlink("old.html", link)
    c = run(["convert", good, "-o", link])
    if (c.returncode != 0 or not os.path.islink(link) or os.path.getsize(old) > 100000 or
            "wrote 3 stacks" not in c.stderr):
        livelib.fail("convert through a symlink: exit %d, link kept %s, %d bytes (%r)" % (
            c.returncode, os.path.islink(link), os.path.getsize(old), c.stderr))
    twin = os.path.join(tmp, "twin.html")
    os.link(old, twin)
    c = run(["convert", big, "-o", old])
    if c.returncode != 0 or not os.path.samefile(old, twin) or os.path.getsize(twin) < 100000:
        livelib.fail("convert over a file of two names: exit %d, same file %s (%r)" % (
            c.returncode, os.path.samefile(old, twin), c.stderr))
    os.unlink(twin)
    ran.append("a whole write replaces the old file, its mode, symlinks and hard links kept")

    # -o's name chooses the format when --format does not (as for convert),
    # and dump writes its text and JSON documents to -o too (they went to
    # stdout, and the file was never made).
    me = str(os.getpid())
    for args, name, head in (
            (["record", "--duration", "0.2"], "r.html", "<!DOCTYPE html"),
            (["record", "--duration", "0.2"], "r.json", '{"$schema"'),
            (["record", "--duration", "0.2", "--format", "folded"], "r2.html", "<thread "),
            (["dump"], "d.json", '{"pid": %s' % me),
            (["dump"], "d.txt", "Process %s, Python" % me),
            (["dump"], "d.out", "Process %s, Python" % me),
            (["dump", "--format", "json"], "d2.txt", '{"pid": %s' % me),
            (["dump"], "d.folded", "<thread ")):
        path = os.path.join(tmp, name)
        c = run(args + ["--pid", me, "-o", path])
        with open(path, errors="replace") if os.path.exists(path) else open(os.devnull) as f:
            got = f.read()
        if c.returncode != 0 or not got.startswith(head) or c.stdout != "":
            livelib.fail("%s -o %s: exit %d, file starts %r (want %r), stdout %r, stderr %r" % (
                " ".join(args), name, c.returncode, got[:40], head, c.stdout[:80], c.stderr))
    with open(os.path.join(tmp, "d.json")) as f:
        if not json.load(f)["threads"]:
            livelib.fail("dump -o d.json: no threads")
    ran.append("-o's name chooses the format; dump writes text and JSON to -o")
    kept = os.path.join(tmp, "kept.json")
    with open(kept, "w") as f:
        f.write("precious\n")

    def tiny_files():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (100, 100))

    c = subprocess.run([tornstack, "dump", "--pid", me, "-o", kept], capture_output=True,
                       text=True, timeout=60, preexec_fn=tiny_files)
    with open(kept) as f:
        got = f.read()
    if (c.returncode != 2 or got != "precious\n" or "File too large; it was left" not in c.stderr
            or any(n.startswith(".kept.json") for n in os.listdir(tmp))):
        livelib.fail("dump -o past a file size limit: exit %d, file %r, stderr %r" % (
            c.returncode, got[:40], c.stderr))
    ran.append("dump's JSON written half-way leaves the old file")
    # --blocking writes each document with a write() loop of its own
    # (answering the target's stops meanwhile): the same reasons, named
    child = subprocess.Popen([sys.executable, "-c", "import time\nwhile True: time.sleep(0.01)"])
    try:
        time.sleep(0.3)
        with open("/dev/full", "w") as full:
            c = subprocess.run([tornstack, "dump", "--blocking", "--pid", str(child.pid)],
                               stdout=full, stderr=subprocess.PIPE, text=True, timeout=60)
        if c.returncode != 2 or "writing stdout failed: No space left on device" not in c.stderr:
            livelib.fail("dump --blocking to a full disk: exit %d, stderr %r" % (c.returncode,
                                                                              c.stderr))
        c = subprocess.run([tornstack, "dump", "--blocking", "--pid", str(child.pid), "-o", kept],
                           capture_output=True, text=True, timeout=60, preexec_fn=tiny_files)
        with open(kept) as f:
            got = f.read()
        if (c.returncode != 2 or got != "precious\n" or
                "File too large; it was left as it was" not in c.stderr):
            livelib.fail("dump --blocking -o past a file size limit: exit %d, file %r, stderr %r"
                         % (c.returncode, got[:40], c.stderr))
    finally:
        child.kill()
        child.wait()
    ran.append("dump --blocking names a failed write's cause")
    # A file the user may not write is not replaced, though its directory
    # would let a new file be renamed onto it.
    nobody = 65534
    os.chmod(tmp, 0o777)
    os.chmod(old, 0o444)
    with open(old) as f:
        before = f.read()
    expect("convert onto a read-only file", ["convert", good, "-o", old], 2,
           ["cannot write %s" % old, "ermission denied"], user=nobody)
    with open(old) as f:
        if f.read() != before or any(n.startswith(".") for n in os.listdir(tmp)):
            livelib.fail("convert onto a read-only file changed it: %r" % os.listdir(tmp))
finally:
    shutil.rmtree(tmp)
expect("run without command", ["run"], 2, ["needs a command"])
# verify and replay: a value they cannot take is named, never read as
# another (a seed 'x' ran the whole main job as seed 0; an --explain kind
# misspelt explained nothing)
expect("verify bad seed", ["verify", "--seed", "x"], 2, ["invalid value 'x' for --seed"])
expect("verify bad jobs", ["verify", "--jobs", "2x"], 2, ["invalid value '2x' for --jobs"])
expect("verify bad python", ["verify", "--python", "3.1x"], 2,
       ["invalid value '3.1x' for --python"])
expect("verify bad explain", ["verify", "--replay", "/nonexistent", "--explain", "nosuch"], 2,
       ["invalid value 'nosuch' for --explain"])
expect("verify unknown option", ["verify", "--frob", "1"], 2, ["unknown option '--frob'"])
expect("verify missing value", ["verify", "--seed"], 2, ["--seed needs a value"])
expect("layout bad minor", ["layout", "x"], 2, ["takes a CPython minor version", "'x'"])
expect("layout unknown minor", ["layout", "3.10"], 6, ["no asyncio layout for 3.10"])
for v in ("13", "3.13"):
    lay = run(["layout", v])
    if lay.returncode != 0 or not lay.stdout.startswith("fut_loop="):
        livelib.fail("layout %s: exit %d, %r" % (v, lay.returncode, lay.stderr))
ran.append("layout 13 and 3.13")
expect("replay missing file", ["replay", "/nonexistent/x.scenario"], 2,
       ["cannot read /nonexistent/x.scenario: No such file or directory"])

print("cli: %d cases passed: %s" % (len(ran), ", ".join(ran)))
