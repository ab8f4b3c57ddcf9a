#!/usr/bin/env bash
# Build and run every test: unit (cmocka), live tests against real CPython
# 3.11, 3.12, 3.13, 3.14 and 3.15 processes (threads, Tasks, still and busy
# programs, --blocking, profile formats; on 3.14 and 3.15 also the asyncio
# facts, the attach-time checks and CPython's own remote unwinder as an
# oracle), layout-table regeneration, CLI bad input.
#
#   scripts/test.sh [PRESET]    (default: ci — warnings are errors and all
#                                five CPython versions must be present)
#
# Installs missing Debian packages and fetches CPython 3.14 and 3.15 first
# (see scripts/setup.sh and scripts/pythons.sh).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
preset="${1:-ci}"
ts_install_packages
ts_fetch_pythons
ts_build "$preset"
cd "$ts_root"
ctest --preset "$preset" -j "$(nproc)"
