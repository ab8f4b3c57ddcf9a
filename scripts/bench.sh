#!/usr/bin/env bash
# Benchmarks (numbers printed, never asserted), per CPython version found,
# cache cold and warm: cost of one sample of a live process with a 50-frame
# stack, of one with 100 still Tasks (one frame per coroutine vs full
# unwind), and of the busy program (200 workers, about 500 Tasks switching
# every few microseconds) beside the still 100-Task sample, with ratios.
# Builds the default preset first (see scripts/setup.sh).
#
#   scripts/bench.sh [SAMPLES] [BUSY_SAMPLES]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
ts_install_packages
ts_build default
cd "$ts_root"
pythons=$(ts_walk_pythons build/default)
for py in $pythons; do
    "$py" tests/live/bench_threads.py build/default/tornstack 47 "${1:-20000}"
    "$py" tests/live/bench_tasks.py build/default/tornstack 100 "${1:-2000}"
    "$py" tests/live/bench_scale.py build/default/tornstack "${2:-500}"
done
