#!/usr/bin/env bash
# The main job: build tornstack and run `tornstack verify`, the unchanged
# unwinder against simulated CPython 3.11/3.12/3.13 processes whose asyncio
# Tasks switch store by store under the TSO, preemption-bounded and relaxed
# (ARM-like) memory models.  Every sample is judged against ground truth.
# With no arguments: 1,008,000 samples on all cores, about a minute on two.
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
exec "$ts_root/build/verify/tornstack" verify "$@"
