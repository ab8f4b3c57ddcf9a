#!/usr/bin/env bash
# The main job: build tornstack and run `tornstack verify`, the unchanged
# unwinder against simulated CPython 3.11 to 3.15 processes whose asyncio
# Tasks switch store by store under the TSO, preemption-bounded, relaxed
# (ARM-like) and realistic memory models: small programs of the classic and
# server shapes, busy ones of 50-500 workers, and 16,384 idle Tasks.  Every
# sample is judged against ground truth, by what its user receives.
# With no arguments: about 1,080,000 samples on all cores, about a minute on
# two; reproducers go to tornstack-verify-out/.
#
#   scripts/verify.sh [tornstack verify options, e.g. --policy all]
#
# Exits non-zero on any violation.  Installs missing Debian packages first
# (see scripts/setup.sh).  Built with the `verify` preset: optimised, with
# every UW_ASSERT on (tornstack verify refuses to run without them).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
ts_install_packages
ts_build verify
# the realistic model's rates beside the live programs' (docs/model.md)
exec "$ts_root/build/verify/tornstack" verify --live-rates "$ts_root/docs/live-rates.tsv" "$@"
