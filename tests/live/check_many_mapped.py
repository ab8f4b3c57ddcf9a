"""Live test: Tasks of a process that maps hundreds of files of its own.

    python3.X check_many_mapped.py TORNSTACK [N_FILES]

Starts many_mapped_target.py with N_FILES (default 600) files mapped
after asyncio was imported, dumps it with --format json and asserts: exit
0, no tasks_error, and the program's four Tasks listed, unskipped, by
name.  Where _asyncio is a module of its own (3.14), the target's truth
must show more mapped files before it than the attach searches
(UW_TARGET_SECTION_OBJECTS, 512): else the test would not test the
crowding it is for, and fails.
"""
import sys

import livelib

SECTION_OBJECTS = 512  # src/target.c UW_TARGET_SECTION_OBJECTS


def main():
    tornstack = sys.argv[1]
    n_files = int(sys.argv[2]) if len(sys.argv) > 2 else 600
    t = livelib.Target("many_mapped_target.py", n_files)
    try:
        out = livelib.dump(tornstack, t.pid)
    except RuntimeError as e:
        livelib.fail("%s (%d files mapped)" % (e, n_files))
    finally:
        t.close()
    truth = t.truth
    before = truth["before_asyncio"]
    if truth["asyncio_module"] is not None and before <= SECTION_OBJECTS:
        livelib.fail("only %d mapped objects before %s: the setup does not crowd it" % (
            before, truth["asyncio_module"]))
    names = sorted(x["name"] for x in out["tasks"] if x["skipped"] is None)
    if out["tasks_error"] is not None or names != truth["tasks"]:
        livelib.fail("tasks_error %r, Tasks %r, expected %r (%d objects mapped, %s after %s of "
                     "them)" % (out["tasks_error"], names, truth["tasks"], truth["objects"],
                                truth["asyncio_module"], before))
    print("live many-mapped: python %s, %d objects mapped, %s: %d Tasks listed" % (
        out["python"], truth["objects"],
        "%s after %d of them" % (truth["asyncio_module"], before) if before is not None
        else "_asyncio in the interpreter", len(names)))


if __name__ == "__main__":
    main()
