"""Live target: threads that stand still most of the time, one of which
moves between two stacks.

    python idle_threads_target.py TRUTH_FILE PERIOD_MS

Mover: Thread._bootstrap ... -> it_mover -> it_first -> time.sleep, then
-> it_mover -> it_second -> time.sleep, PERIOD_MS each, for ever.
Sleeper: ... -> it_sleeper -> time.sleep(3600), for ever.
Main: <module> -> it_main -> time.sleep(3600), for ever.
So most of the time no thread of the process runs (a sampler may then
show the stacks it read last), and every PERIOD_MS the mover runs and
changes its stack.

The truth, written once both of the mover's stacks were seen: each
thread's native id and its possible stacks (qualname, file, line;
innermost first), taken with sys._current_frames(): one for the sleeper
and main, two for the mover (it_first, it_second) and the stack it has
between the two (it_mover alone, for an instant).  A line of None is any
line: main's innermost (it sleeps below the line that took the truth),
and the mover's innermost, which moves while it runs.
"""
import json
import os
import sys
import threading
import time

truth_file = sys.argv[1]
period = int(sys.argv[2]) / 1000.0


def stack_of(frame):
    out = []
    while frame is not None:
        code = frame.f_code
        out.append([code.co_qualname, code.co_filename, frame.f_lineno])
        frame = frame.f_back
    return out


def it_first():
    time.sleep(period)


def it_second():
    time.sleep(period)


def it_mover():
    while True:
        it_first()
        it_second()


def it_sleeper():
    while True:
        time.sleep(3600)


def it_main(mover, sleeper):
    seen = {}
    deadline = time.monotonic() + 30
    while len(seen) < 2 and time.monotonic() < deadline:
        f = sys._current_frames().get(mover.ident)
        if f is not None and f.f_code.co_name in ("it_first", "it_second"):
            seen[f.f_code.co_name] = stack_of(f)
        time.sleep(period / 7)
    if len(seen) < 2:
        sys.exit("the mover's stacks were not both seen")
    # While it runs (a few microseconds every PERIOD_MS) the mover stands
    # at any line of it_first or it_second, and for an instant at any line
    # of it_mover (between the calls): the innermost frame's line is free.
    first, second = seen["it_first"], seen["it_second"]
    first[0][2] = second[0][2] = None
    between = first[1:]  # it_mover alone
    between[0] = between[0][:2] + [None]
    main_stack = stack_of(sys._getframe())
    main_stack[0][2] = None  # at the sleep below, not this line
    truth = {
        "pid": os.getpid(), "version": sys.version.split()[0], "expected_threads": 3,
        "threads": {
            str(mover.native_id): {"name": "mover", "stacks": [first, second, between]},
            str(sleeper.native_id): {"name": "sleeper",
                                     "stacks": [stack_of(sys._current_frames()[sleeper.ident])]},
            str(threading.main_thread().native_id): {"name": "main", "stacks": [main_stack]},
        },
    }
    tmp = truth_file + ".tmp"
    with open(tmp, "w") as f:
        json.dump(truth, f)
    os.replace(tmp, truth_file)
    print("ready", flush=True)
    while True:
        time.sleep(3600)


mover = threading.Thread(target=it_mover, daemon=True)
sleeper = threading.Thread(target=it_sleeper, daemon=True)
mover.start()
sleeper.start()
time.sleep(0.05)
it_main(mover, sleeper)
