#!/usr/bin/env bash
# The main job: build tornstack, start the bundled example program
# (examples/demo_app.py: a worker thread and a main thread, each parked in a
# known stack) under every CPython 3.11-3.15 found, and dump its stacks as
# text and JSON from outside the process.
#
#   scripts/demo.sh
#
# Installs missing Debian packages first (see scripts/setup.sh).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
ts_install_packages
ts_build default
cd "$ts_root"
bin="$ts_root/build/default/tornstack"
pythons=$(ts_walk_pythons build/default)
if [ -z "$pythons" ]; then
    echo "demo: no CPython 3.11-3.15 with headers found (see scripts/setup.sh)" >&2
    exit 1
fi
for py in $pythons; do
    fifo=$(mktemp -u)
    mkfifo "$fifo"
    "$py" examples/demo_app.py >"$fifo" &
    pid=$!
    read -r ready <"$fifo"
    rm -f "$fifo"
    echo "=== $("$py" -V) (pid $pid): tornstack dump --pid $pid"
    "$bin" dump --pid "$pid"
    echo "--- same, --format json (first 12 lines)"
    "$bin" dump --pid "$pid" --format json | head -12
    kill "$pid"
    wait "$pid" 2>/dev/null || true
    echo
done
