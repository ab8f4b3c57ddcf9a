#!/usr/bin/env bash
# Benchmarks (numbers printed, never asserted), per CPython version found,
# cache cold and warm: cost of one sample of a live process with a 50-frame
# stack, of one with 100 still Tasks (one frame per coroutine vs full
# unwind), and of the busy program (200 workers, about 500 Tasks switching
# every few microseconds; then stopped, its size without its movement)
# beside the still 100-Task sample, with ratios.
# Then, on CPython 3.15, tornstack record beside CPython's own sampling
# profiler (Tachyon) on the same processes, alternated twice in one run:
# thread stacks per second of a 50-frame stack and a second thread, and
# stacks per second of 100 Tasks async-aware, samples per second of the
# busy program async-aware (with what each could not show), and the
# ratios (tests/live/bench_tachyon.py).  Only a ratio measured in one run counts:
# run it on a quiet machine (the load average is printed).
# Builds the default preset first (see scripts/setup.sh).
#
#   scripts/bench.sh [SAMPLES] [BUSY_SAMPLES] [TACHYON_SECONDS]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
ts_install_packages
ts_build default
cd "$ts_root"
pythons=$(ts_walk_pythons build/default)
py315=""
for py in $pythons; do
    "$py" tests/live/bench_threads.py build/default/tornstack 47 "${1:-20000}"
    "$py" tests/live/bench_tasks.py build/default/tornstack 100 "${1:-2000}"
    "$py" tests/live/bench_scale.py build/default/tornstack "${2:-500}"
    if "$py" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 15))'; then
        py315="$py"
    fi
done
if [ -z "$py315" ]; then
    echo "bench: no CPython 3.15: the comparison with Tachyon is not run (scripts/pythons.sh)" >&2
    exit 1
fi
"$py315" tests/live/bench_tachyon.py build/default/tornstack "${3:-3}" 100
