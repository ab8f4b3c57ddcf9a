"""`tornstack compare` on hand-made folded files: known distances, the
function level, the top list, and each bad input with its exit code.

    python3 check_compare.py TORNSTACK
"""
import os
import shutil
import subprocess
import sys
import tempfile

import livelib

tornstack = sys.argv[1]
work = tempfile.mkdtemp(prefix="tornstack-compare-")
ran = []


def put(name, text):
    path = os.path.join(work, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def compare(*args):
    return subprocess.run([tornstack, "compare", *args], capture_output=True, text=True,
                          timeout=60)


def expect_tvd(name, a, b, exact, value, extra=()):
    r = compare(put(name + ".a", a), put(name + ".b", b), *extra)
    if r.returncode != 0:
        livelib.fail("%s: exit %d: %s" % (name, r.returncode, r.stderr))
    want = "tvd: %.6f (exact %s)" % (value, exact)
    if want not in r.stdout.splitlines():
        livelib.fail("%s: expected %r in %r" % (name, want, r.stdout))
    ran.append(name)
    return r.stdout


def expect_error(name, args, code, words):
    r = compare(*args)
    lines = r.stderr.strip().splitlines()
    if r.returncode != code or r.stdout:
        livelib.fail("%s: exit %d (expected %d), stdout %r, stderr %r" % (
            name, r.returncode, code, r.stdout, r.stderr))
    if code == 11 and len(lines) != 1:
        livelib.fail("%s: expected one line on stderr, got %r" % (name, r.stderr))
    for w in words:
        if w not in r.stderr:
            livelib.fail("%s: stderr %r lacks %r" % (name, r.stderr, w))
    ran.append(name)


try:
    a = "main (app.py:1);f (app.py:10) 1\nmain (app.py:1);g (app.py:20) 2\n"
    expect_tvd("identical", a, a, "0/1", 0.0)
    expect_tvd("disjoint", a, "main (app.py:1);h (app.py:30) 5\n", "1/1", 1.0)
    # pA = (1/3, 2/3, 0), pB = (1/2, 0, 1/2): TVD = (1/6 + 2/3 + 1/2) / 2 = 2/3
    out = expect_tvd("computed", a, "main (app.py:1);f (app.py:10) 1\nother 1\n", "2/3",
                     2 / 3)
    top = out.split("stack\n", 1)[1].splitlines()
    if not (top[0].endswith("main (app.py:1);g (app.py:20)") and "-0.666667" in top[0]):
        livelib.fail("computed: top stack is %r" % top[0])
    if "A %s: 3 samples in 2 stacks" % os.path.join(work, "computed.a") not in out:
        livelib.fail("computed: totals missing in %r" % out)
    # Same functions, other lines: different at line level, equal at function level.
    b = "main (app.py:2);f (app.py:11) 2\nmain (app.py:2);g (app.py:-1) 4\n"
    expect_tvd("line level", a, b, "1/1", 1.0)
    expect_tvd("function level", a, b, "0/1", 0.0, ["--functions"])
    expect_tvd("top 0", a, a, "0/1", 0.0, ["--top", "0"])

    good = put("good", a)
    expect_error("missing file", [good, os.path.join(work, "nope")], 11,
                 ["cannot read", "nope", "No such file"])
    expect_error("malformed line", [good, put("bad", "x 1\n\ny 2\nz two\n")], 11,
                 ["bad:4: malformed line"])
    expect_error("no count", [put("nocount", "main;f\n"), good], 11, ["nocount:1: malformed"])
    expect_error("empty file", [good, put("empty", "")], 11, ["empty: no samples"])
    expect_error("binary file", [good, put("binary", "a 1\n\0\n")], 11, ["binary:2: malformed"])
    expect_error("one file", [good], 2, ["two files"])
    expect_error("three files", [good, good, good], 2, ["two files"])
    expect_error("unknown option", [good, good, "--frobnicate"], 2, ["unknown option"])
    expect_error("bad top", [good, good, "--top", "x"], 2, ["invalid --top"])
finally:
    shutil.rmtree(work)
print("compare: %d cases passed: %s" % (len(ran), ", ".join(ran)))
