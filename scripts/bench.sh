#!/usr/bin/env bash
# Benchmarks (numbers printed, never asserted), per CPython version found,
# cache cold and warm: cost of one sample of a live process with a 50-frame
# stack, and of one with 100 Tasks (one frame per coroutine vs full unwind).  Builds the default preset first (see scripts/setup.sh).
#
#   scripts/bench.sh [SAMPLES]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
ts_install_packages
ts_build default
cd "$ts_root"
pythons=$(ts_walk_pythons build/default)
for py in $pythons; do
    "$py" tests/live/bench_threads.py build/default/tornstack 47 "${1:-20000}"
    "$py" tests/live/bench_tasks.py build/default/tornstack 100 "${1:-2000}"
done
