"""The bias of non-blocking sampling, as a number (driven by scripts/bias.sh).

    python3 bias_run.py [--rates FILE] [--placement apart|shared|free]
                        TORNSTACK DURATION RATE CONNECTIONS PYTHON...

For each interpreter and workload (the 12-Task race program, a busy program
of about 400 Tasks, an asyncio TCP echo server under load from a separate
client process), three recordings of DURATION seconds at RATE Hz, one
after the other on the same running target:

  A  --blocking   (the reference: the target is stopped while read)
  N  non-blocking
  P  --pause-on-torn (a sample that skipped is taken again, stopped)
  B  --blocking   (a second reference: TVD(A, B) is the noise floor)

and prints one row: samples per second of N and A, Task readings skipped
by N, by P and by A+B (P's and the blocking ones must be 0), the share of
P's samples redone stopped, the target's stopped time per second of wall
time under --blocking and under P, and the total variation distance of N
and of P against A beside the noise floor TVD(B, A), at line level and at
function level (tornstack compare --functions).  "recov%" is the share of
the non-blocking recording's Task readings that the chain check found
moved and that were kept after they were read and checked again.
"lost% nb" counts every stack the non-blocking recording did not write
(a skipped Task's, and a kept Task's that had no pure Python stack to
stand on, pure_stack_not_found) against its Task readings: skip% counts
only the first kind, lost% is what the profile misses.
Placement (--placement, default apart): where the target and tornstack
run decides the rates.  Left to the scheduler on a small machine, the two
land on one CPU in some recordings and on two in others: on one CPU the
target stands still while a sample is read and almost nothing is skipped,
on two it runs on, as it does beside a profiler on a server.  The same
busy program and build on two CPUs, recordings of 5 s at 100 Hz (3.12.1):
seven left to the scheduler skipped 0.0 to 3.7 % of their Task readings,
four apart 3.0 to 3.5 %, two on one CPU 0.05 and 0.34 %.  "apart" pins the target (and the echo client) to the first CPU
this process may use and tornstack to the second (the echo client to a
third where there is one), so that every row measures the target running
while it is read; "shared" pins all to the first; "free" pins nothing
(the rows of earlier notes).  With one CPU, "apart" cannot be had and
every row says so.
With --rates FILE, the non-blocking skip% and recov% of every row are also
written to FILE (workload, python, skip%, recov%, tab-separated), the form
`tornstack verify --live-rates` prints beside the realistic model's rows
(docs/live-rates.tsv is such a file, kept with the measurement it came
from).
"""
import json
import os
import re
import select
import shutil
import subprocess
import sys
import tempfile
import time

import livelib

HERE = os.path.dirname(os.path.abspath(__file__))
args = sys.argv[1:]
rates_file = None
placement = "apart"
while args[:1] in (["--rates"], ["--placement"]):
    if args[0] == "--rates":
        rates_file = args[1]
    else:
        placement = args[1]
    args = args[2:]
if placement not in ("apart", "shared", "free"):
    sys.exit("bias_run: --placement must be apart, shared or free")
tornstack, duration, rate, connections = args[0], float(args[1]), args[2], int(args[3])
pythons = args[4:]
WARMUP = 0.5


(CPU_TARGET, CPU_TORNSTACK, CPU_CLIENT), PLACED = livelib.placement(placement, "echo client")


def start_target(python, script, work, *args):
    truth = os.path.join(work, "truth.json")
    p = subprocess.Popen([python, os.path.join(HERE, script), truth, *map(str, args)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         preexec_fn=livelib.pinned(CPU_TARGET))
    ready, _, _ = select.select([p.stdout], [], [], 60)
    if not ready or p.stdout.readline().strip() != "ready":
        p.kill()
        raise RuntimeError("%s under %s did not start: %s" % (script, python, p.stderr.read()))
    with open(truth) as f:
        return p, json.load(f)


class Unsupported(Exception):
    """tornstack does not walk this version yet (exit 6)."""


def record(pid, out, mode):
    args = [tornstack, "record", "--pid", str(pid), "--rate", rate, "--duration", str(duration),
            "-o", out] + {"blocking": ["--blocking", "--stop-by", "clock"],
               "pause": ["--pause-on-torn", "--stop-by", "clock"], "none": []}[mode]
    r = subprocess.run(args, capture_output=True, text=True, timeout=duration * 4 + 60,
                       preexec_fn=livelib.pinned(CPU_TORNSTACK))
    if r.returncode == 6:
        raise Unsupported(r.stderr.strip())
    if r.returncode != 0:
        raise RuntimeError("%s: exit %d: %s" % (" ".join(args), r.returncode, r.stderr))
    err = r.stderr
    m = re.search(r"tornstack: (\d+) samples \((\d+) failed\), ([0-9.]+) tasks/sample", err)
    samples, failed, per = int(m.group(1)), int(m.group(2)), float(m.group(3))
    skips = re.findall(r"tornstack: skipped (\S+): (\d+) tasks, (\d+) stacks", err)
    stopped = re.search(r"([0-9.]+) ms per second of wall time", err)
    paused = re.search(r"pause-on-torn: (\d+) of (\d+) samples redone", err)
    recovered = sum(int(x) for x in re.findall(r"tornstack: recovered \S+: (\d+) tasks", err))
    return {"samples": samples, "failed": failed, "readings": per * (samples - failed),
            "skipped": sum(int(tasks) for _, tasks, _ in skips),
            "lost": sum(int(stacks) for _, _, stacks in skips), "recovered": recovered, "stopped_ms_s": float(stopped.group(1)) if stopped else 0.0,
            "paused": pct(int(paused.group(1)), int(paused.group(2))) if paused else None,
            "reasons": [(name, "%s tasks/%s stacks" % (tasks, stacks)) for name, tasks, stacks in skips]}


def has_stacks(path):
    with open(path) as f:
        return any(ln.rsplit(None, 1)[-1].isdigit() and int(ln.rsplit(None, 1)[-1]) > 0
                   for ln in f if ln.strip())


def tvd(a, b, functions):
    """TVD of two folded files; None when either holds no stack (a
    recording whose every sample skipped its Tasks and showed no thread
    stack has no distribution to compare)."""
    if not has_stacks(a) or not has_stacks(b):
        return None
    args = [tornstack, "compare", a, b, "--top", "0"] + (["--functions"] if functions else [])
    r = subprocess.run(args, capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        raise RuntimeError("compare: %s" % r.stderr)
    return float(re.search(r"^tvd: ([0-9.]+)", r.stdout, re.M).group(1))


def num(x):
    return "n/a" if x is None else "%.4f" % x


def pct(part, whole):
    return 100.0 * part / whole if whole else 0.0


def measure(python, workload, work):
    client = None
    if workload == "race":
        target, truth = start_target(python, "race_app.py", work)
    elif workload == "busy":
        target, truth = start_target(python, "bias_busy_app.py", work, 1)
    else:
        target, truth = start_target(python, "bias_echo_app.py", work)
        client = subprocess.Popen(
            [python, os.path.join(HERE, "bias_echo_client.py"), str(truth["port"]),
             str(connections), str(3 * duration + WARMUP + 30)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            preexec_fn=livelib.pinned(CPU_CLIENT))
    try:
        time.sleep(WARMUP)
        files = {k: os.path.join(work, "%s-%s.folded" % (workload, k)) for k in "ANPB"}
        a = record(truth["pid"], files["A"], "blocking")
        n = record(truth["pid"], files["N"], "none")
        pp = record(truth["pid"], files["P"], "pause")
        b = record(truth["pid"], files["B"], "blocking")
        if target.poll() is not None:
            raise RuntimeError("the %s target died: %s" % (workload, target.stderr.read()))
        row = {
            "workload": workload, "python": truth["version"],
            "sps_nb": n["samples"] / duration, "sps_blk": a["samples"] / duration,
            "tasks": n["readings"] / max(n["samples"] - n["failed"], 1),
            "skip_nb": pct(n["skipped"], n["readings"]), "lost_nb": pct(n["lost"], n["readings"]),
            "skip_blk": pct(a["skipped"] + b["skipped"], a["readings"] + b["readings"]),
            "skip_pot": pct(pp["skipped"], pp["readings"]), "paused": pp["paused"],
            "recov_nb": pct(n["recovered"], n["readings"]),
            "stopped": (a["stopped_ms_s"] + b["stopped_ms_s"]) / 2,
            "stopped_pot": pp["stopped_ms_s"], "tvd_pot": tvd(files["P"], files["A"], False),
            "tvd": tvd(files["N"], files["A"], False), "floor": tvd(files["B"], files["A"], False),
            "tvd_fn": tvd(files["N"], files["A"], True),
            "floor_fn": tvd(files["B"], files["A"], True),
            "reasons_nb": n["reasons"], "reasons_blk": a["reasons"] + b["reasons"] + pp["reasons"],
        }
        return row
    finally:
        for p in (client, target):
            if p is not None and p.poll() is None:
                p.kill()
                p.wait()


def main():
    cols = ("workload", "python", "tasks", "samp/s nb", "samp/s blk", "skip% nb", "lost% nb", "skip% blk",
            "skip% pot", "recov%", "paused%", "stop ms/s", "pot ms/s", "tvd nb", "tvd pot", "floor",
            "tvd-f nb", "floor-f")
    fmt = "%-8s %-7s %6s %9s %10s %8s %8s %9s %9s %6s %7s %9s %8s %7s %7s %7s %8s %7s"
    print("bias: %.1f s per recording at %s Hz; echo load: %d connections; "
          "tvd = TVD(non-blocking or --pause-on-torn, blocking A), "
          "floor = TVD(blocking B, blocking A), "
          "-f = function level" % (duration, rate, connections))
    print("bias: placement %s: %s" % (placement, PLACED))
    print(fmt % cols)
    notes = []
    rates = []
    for python in pythons:
        for workload in ("race", "busy", "echo"):
            work = tempfile.mkdtemp(prefix="tornstack-bias-")
            try:
                r = measure(python, workload, work)
            except Unsupported as e:
                notes.append("%s: skipped, %s" % (python, e))
                break
            except Exception as e:  # report and go on with the next row
                print("%-8s %-7s error: %s" % (workload, python, e))
                continue
            finally:
                shutil.rmtree(work, ignore_errors=True)
            print(fmt % (r["workload"], r["python"], "%.0f" % r["tasks"], "%.1f" % r["sps_nb"],
                         "%.1f" % r["sps_blk"], "%.2f" % r["skip_nb"], "%.2f" % r["lost_nb"],
                         "%.2f" % r["skip_blk"],
                         "%.2f" % r["skip_pot"], "%.2f" % r["recov_nb"], ("n/a" if r["paused"] is None else "%.1f" % r["paused"]),
                         "%.2f" % r["stopped"], "%.2f" % r["stopped_pot"], num(r["tvd"]),
                         num(r["tvd_pot"]), num(r["floor"]), num(r["tvd_fn"]), num(r["floor_fn"])),
                  flush=True)
            rates.append("%s\t%s\t%.2f\t%.2f" % (r["workload"], r["python"], r["skip_nb"], r["recov_nb"]))
            for k, name in (("tvd", "non-blocking"), ("tvd_pot", "--pause-on-torn"),
                            ("floor", "second blocking")):
                if r[k] is None:
                    notes.append("%s %s: tvd n/a, the %s recording has no stack" % (
                        r["workload"], r["python"], name))
            if r["reasons_nb"]:
                notes.append("%s %s non-blocking skips: %s" % (
                    r["workload"], r["python"], ", ".join("%s=%s" % kv for kv in r["reasons_nb"])))
            if r["reasons_blk"]:
                notes.append("%s %s BLOCKING OR PAUSE-ON-TORN SKIPS (a bug): %s" % (
                    r["workload"], r["python"], ", ".join("%s=%s" % kv for kv in r["reasons_blk"])))
    for n in notes:
        print("bias: " + n)
    if rates_file is not None:
        with open(rates_file, "w") as f:
            f.write("# scripts/bias.sh %g %s %d %s on %s (non-blocking recordings; %s)\n" % (
                duration, rate, connections, placement, time.strftime("%Y-%m-%d"), PLACED))
            f.write("# workload\tpython\tskip%\trecov%\n")
            for ln in rates:
                f.write(ln + "\n")
        print("bias: live rates written to %s (tornstack verify --live-rates)" % rates_file)


main()
