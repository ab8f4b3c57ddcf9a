"""Helpers of the profile format tests: read each format back into the same
shape so that tests can compare them stack by stack.

A stack is a tuple of frames, root first.  A frame is ("task", NAME),
("thread", NATIVE_ID, NAME) or ("py", QUALNAME, FILE, LINE), with names
unescaped (folded labels escape '%', ';' and control bytes as %XX).
"""
import collections
import gzip
import json
import re
import subprocess

PY_LABEL = re.compile(r"^(.*?) \((.*):(-?\d+)\)$", re.S)


def unescape(s):
    return re.sub(rb"%([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]),
                  s.encode("utf-8", "surrogateescape")).decode("utf-8", "replace")


def folded_frame(label):
    if label.startswith("<task ") and label.endswith(">"):
        return ("task", unescape(label[6:-1]))
    if label.startswith("<thread ") and label.endswith(">"):
        body = label[8:-1]
        tid, _, name = body.partition(" ")
        return ("thread", int(tid), unescape(name))
    m = PY_LABEL.match(label)
    if m is None:
        raise ValueError("not a frame label: %r" % label)
    return ("py", unescape(m.group(1)), unescape(m.group(2)), int(m.group(3)))


def read_folded(path):
    """Counter of stacks -> count, and the raw lines."""
    stacks = collections.Counter()
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        lines = f.read().splitlines()
    for line in lines:
        labels, sep, count = line.rpartition(" ")
        if not sep or not count.isdigit() or not labels:
            raise ValueError("bad folded line %r" % line)
        stacks[tuple(folded_frame(x) for x in labels.split(";"))] += int(count)
    return stacks, lines


def display(frame):
    """The name a viewer shows for a frame."""
    if frame[0] == "task":
        return "<task %s>" % frame[1]
    if frame[0] == "thread":
        return "<thread %d%s>" % (frame[1], " " + frame[2] if frame[2] else "")
    return frame[1]


def from_display(name, file=None, line=None):
    """A frame from a viewer's name, file and line."""
    if name.startswith("<task ") and name.endswith(">") and not file:
        return ("task", name[6:-1])
    if name.startswith("<thread ") and name.endswith(">") and not file:
        tid, _, rest = name[8:-1].partition(" ")
        return ("thread", int(tid), rest)
    return ("py", name, file or "", -1 if line is None else line)


def read_speedscope(path):
    """Counter of stacks, the totals per profile (name -> endValue)."""
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    frames = [from_display(fr["name"], fr.get("file"), fr.get("line"))
              for fr in doc["shared"]["frames"]]
    stacks, ends = collections.Counter(), {}
    for prof in doc["profiles"]:
        assert prof["type"] == "sampled", prof["type"]
        assert len(prof["samples"]) == len(prof["weights"])
        for sample, weight in zip(prof["samples"], prof["weights"]):
            stacks[tuple(frames[i] for i in sample)] += weight
        ends[prof["name"]] = prof["endValue"]
        if sum(prof["weights"]) != prof["endValue"]:
            raise AssertionError("profile %r: weights sum to %d, endValue %d" % (
                prof["name"], sum(prof["weights"]), prof["endValue"]))
    return stacks, ends


# --- protobuf text format (protoc --decode) --------------------------------------
TOKEN = re.compile(r'\s*(?:(\})|([A-Za-z_][A-Za-z0-9_]*)\s*(\{|:\s*("(?:[^"\\]|\\.)*"|[^\s]+)))')


def pb_string(lit):
    """A protobuf text-format string literal as str (C escapes, octal bytes)."""
    body, out, i = lit[1:-1], bytearray(), 0
    simple = {"n": 10, "t": 9, "r": 13, '"': 34, "'": 39, "\\": 92, "a": 7, "b": 8, "f": 12,
              "v": 11, "?": 63}
    while i < len(body):
        c = body[i]
        if c != "\\":
            out += c.encode("utf-8")
            i += 1
            continue
        n = body[i + 1]
        if n in simple:
            out.append(simple[n])
            i += 2
        elif n in "01234567":
            j = i + 1
            while j < len(body) and j < i + 4 and body[j] in "01234567":
                j += 1
            out.append(int(body[i + 1:j], 8))
            i = j
        elif n == "x":
            j = i + 2
            while j < len(body) and j < i + 4 and body[j] in "0123456789abcdefABCDEF":
                j += 1
            out.append(int(body[i + 2:j], 16))
            i = j
        else:
            raise ValueError("unknown escape \\%s" % n)
    return out.decode("utf-8", "replace")


def pb_parse(text):
    """protoc's text output as nested dicts of lists."""
    root = collections.defaultdict(list)
    stack, pos = [root], 0
    while True:
        m = TOKEN.match(text, pos)
        if m is None:
            if text[pos:].strip():
                raise ValueError("cannot parse protobuf text at %r" % text[pos:pos + 60])
            break
        pos = m.end()
        if m.group(1):
            stack.pop()
        elif m.group(3) == "{":
            child = collections.defaultdict(list)
            stack[-1][m.group(2)].append(child)
            stack.append(child)
        else:
            v = m.group(4)
            if v.startswith('"'):
                v = pb_string(v)
            elif v in ("true", "false"):
                v = v == "true"
            else:
                v = int(v)
            stack[-1][m.group(2)].append(v)
    if len(stack) != 1:
        raise ValueError("unbalanced braces in protobuf text")
    return root


def one(msg, field, default=0):
    v = msg.get(field, [])
    return v[0] if v else default


def read_pprof(path, proto_dir):
    """Decode with protoc; Counter of stacks, and the decoded message."""
    with open(path, "rb") as f:
        raw = gzip.decompress(f.read())
    r = subprocess.run(["protoc", "--decode", "perftools.profiles.Profile",
                        "--proto_path", proto_dir, "profile.proto"],
                       input=raw, capture_output=True, timeout=120)
    if r.returncode != 0:
        raise AssertionError("protoc --decode failed: %s" % r.stderr.decode())
    msg = pb_parse(r.stdout.decode("utf-8"))
    strings = msg["string_table"]
    if not strings or strings[0] != "":
        raise AssertionError("string_table[0] must be empty")
    functions = {one(fn, "id"): fn for fn in msg["function"]}
    locations = {}
    for loc in msg["location"]:
        line = loc["line"][0]
        fn = functions[one(line, "function_id")]
        name, file = strings[one(fn, "name")], strings[one(fn, "filename")]
        frame = from_display(name, file, one(line, "line"))
        if frame[0] == "py" and frame[3] == 0:
            frame = frame[:3] + (-1,)  # pprof has no "unknown line" but 0
        locations[one(loc, "id")] = frame
    stacks = collections.Counter()
    for s in msg["sample"]:
        ids = s["location_id"]
        stack = tuple(locations[i] for i in reversed(ids))
        stacks[stack] += one(s, "value")
    return stacks, msg


def labels_of(msg, sample):
    strings = msg["string_table"]
    out = {}
    for lab in sample["label"]:
        key = strings[one(lab, "key")]
        out[key] = strings[one(lab, "str")] if one(lab, "str") else one(lab, "num")
    return out


def normalize_lines(stacks):
    """Line 0 and -1 both mean unknown (pprof keeps 0)."""
    out = collections.Counter()
    for st, c in stacks.items():
        out[tuple(f[:3] + (-1,) if f[0] == "py" and f[3] <= 0 else f for f in st)] += c
    return out


def record(tornstack, pid, out, fmt="folded", duration=2.0, rate=200, extra=()):
    r = subprocess.run([tornstack, "record", "--pid", str(pid), "--duration", str(duration),
                        "--rate", str(rate), "--format", fmt, "-o", out, *extra],
                       capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        raise AssertionError("record exited %d: %s" % (r.returncode, r.stderr))
    return r.stderr


def convert(tornstack, src, out, fmt, extra=()):
    r = subprocess.run([tornstack, "convert", src, "-o", out, "--format", fmt, *extra],
                       capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        raise AssertionError("convert to %s exited %d: %s" % (fmt, r.returncode, r.stderr))
    return r.stderr
