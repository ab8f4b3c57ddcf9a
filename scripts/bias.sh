#!/usr/bin/env bash
# The bias of non-blocking sampling as a number (a benchmark: it prints,
# it asserts nothing).  For each CPython version found and each workload
# (the 12-Task race program, a busy program of about 400 Tasks, an asyncio
# TCP echo server under load from a separate client process), two
# --blocking recordings (their TVD is the noise floor), one non-blocking
# and one --pause-on-torn recording; prints TVD against the blocking
# reference, noise floor, skip %, the share of samples redone stopped,
# stopped time per second and samples/s (tests/live/bias_run.py).  Then
# where a stop lands: a target that times itself, its share of wall time
# in a system call's function beside each recording's share of samples
# there (tests/live/bench_stop_site.py; docs/pause.md).  The skip and
# recovery rates go to build/default/live-rates.tsv as well, the form
# `tornstack verify --live-rates` prints beside the realistic model (copy
# it over docs/live-rates.tsv to re-calibrate).  Builds
# the default preset first (see scripts/setup.sh).
#
# The target runs on one CPU and tornstack on another (PLACEMENT apart):
# left to the scheduler, a small machine puts the two on one CPU in some
# recordings, and there the target stands still while it is read
# (tests/live/bias_run.py says how much that moves the rates).
#
#   scripts/bias.sh [SECONDS_PER_RECORDING [RATE_HZ [CONNECTIONS [PLACEMENT]]]]
#                   (defaults 10 s, 100 Hz, 16 echo connections, apart;
#                   PLACEMENT: apart, shared or free)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
ts_install_packages
ts_build default
cd "$ts_root"
seconds="${1:-10}"
rate="${2:-100}"
connections="${3:-16}"
placement="${4:-apart}"
case "$placement" in
apart | shared | free) ;;
*)
    echo "bias: PLACEMENT must be apart, shared or free" >&2
    exit 2
    ;;
esac
if [ "$connections" -lt 1 ] || [ "$connections" -gt 256 ]; then
    echo "bias: CONNECTIONS must be 1 to 256" >&2
    exit 2
fi
pythons=$(sed -n 's/^TORNSTACK_PY_LIST:INTERNAL=//p' build/default/CMakeCache.txt | tr ';' '\n' |
          cut -d'|' -f3)
# shellcheck disable=SC2086
python3 tests/live/bias_run.py --rates build/default/live-rates.tsv --placement "$placement" build/default/tornstack "$seconds" "$rate" "$connections" $pythons
# shellcheck disable=SC2086
python3 tests/live/bench_stop_site.py build/default/tornstack "$seconds" "$rate" $pythons
