#!/usr/bin/env bash
# Build and run every test: unit (cmocka), live tests against real CPython
# 3.11, 3.12 and 3.13 processes, layout-table regeneration, CLI bad input.
#
#   scripts/test.sh [PRESET]    (default: ci — warnings are errors and all
#                                three CPython versions must be present)
#
# Installs missing Debian packages first (see scripts/setup.sh).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
preset="${1:-ci}"
ts_install_packages
ts_build "$preset"
cd "$ts_root"
ctest --preset "$preset" -j "$(nproc)"
