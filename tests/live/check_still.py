"""Live test: a process that does not move gets no skip, sample after sample.

    python3.X check_still.py TORNSTACK SCENARIO [SAMPLES] [FRESH]

Runs asyncio_scenarios.py SCENARIO (each holds still once ready: every
Task suspended, or the loop thread blocked in a spin or a sleep), then
takes SAMPLES samples with one attach (`dump --count`, default 20) and
FRESH more dumps, one attach each (default 5: the first sample of an
attach walks without a known loop epoch).  Every sample must show every
Task exactly as the target's truth says (check_tasks.compare) and skip
none: nothing moved, so nothing may be distrusted.  The one exception is
the spin scenario's running Task, which does move (its instruction pointer
is saved while it spins): it may be skipped as running_task_frames_changed
in at most a quarter of the samples, and is exact in the others.  Prints the skip count
per reason over all samples before failing.
"""
import json
import subprocess
import sys
from collections import Counter

import check_tasks
import livelib


def samples_of(text):
    dec, pos, out = json.JSONDecoder(), 0, []
    while pos < len(text):
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos < len(text):
            doc, pos = dec.raw_decode(text, pos)
            out.append(doc)
    return out


def main():
    tornstack, scenario = sys.argv[1], sys.argv[2]
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 20
    fresh = int(sys.argv[4]) if len(sys.argv) > 4 else 5
    wrapper = (tornstack, "run", "--") if scenario.endswith("_preloaded") else ()
    t = livelib.Target("asyncio_scenarios.py", scenario, wrapper=wrapper)
    runs = []
    try:
        for k in range(1 + fresh):
            n = count if k == 0 else 1
            r = subprocess.run([tornstack, "dump", "--pid", str(t.pid), "--format", "json",
                                "--count", str(n)], capture_output=True, text=True, timeout=120)
            if r.returncode != 0:
                livelib.fail("tornstack dump exited %d: %s" % (r.returncode, r.stderr.strip()))
            got = samples_of(r.stdout)
            if len(got) != n:
                livelib.fail("got %d samples, asked for %d" % (len(got), n))
            runs.extend(("warm" if (k == 0 and i > 0) else "fresh", s) for i, s in enumerate(got))
    finally:
        t.close()
    moving = ("spinner",) if scenario.startswith("spin") else ()
    skips, readings, first_err = Counter(), 0, None
    for i, (kind, s) in enumerate(runs):
        for x in s["tasks"]:
            readings += 1
            if x["skipped"] is not None:
                skips[(kind, x["skipped"], x["name"])] += 1
        err = check_tasks.compare(s, t.truth, scenario, moving)
        if err is not None and first_err is None:
            first_err = "sample %d (%s): %s" % (i, kind, err)
    n_skipped = sum(skips.values())
    # the spinner moves (check_tasks.MOVING_SKIP): it may be skipped for
    # that, in at most a quarter of the samples; it must be shown exactly
    # in the rest, and every other Task in every sample
    n_moving = sum(v for (kind, why, name), v in skips.items() if name in moving)
    if n_moving * 4 > len(runs):
        livelib.fail("the spinning Task was skipped in %d of %d samples" % (n_moving, len(runs)))
    print("live still: python %s %s: %d samples (%d with one attach, %d fresh), %d Task readings, "
          "%d skipped%s" % (runs[0][1]["python"], scenario, len(runs), count, fresh, readings,
                            n_skipped, "".join(" [%s %s %s: %d]" % (k + (v,))
                                                for k, v in sorted(skips.items()))))
    if first_err is not None:
        livelib.fail(first_err)


if __name__ == "__main__":
    main()
