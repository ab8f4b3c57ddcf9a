#!/usr/bin/env bash
# Shared set-up of tornstack's commands: install the Debian packages the
# build and tests need (only those missing; apt-get as root), then configure
# and build one CMake preset.
#
#   scripts/setup.sh [PRESET]        (default preset: default)
#
# Packages: cmake, gcc, clang + libclang-rt-14-dev (sanitizer build),
# libcmocka-dev (unit tests), python3.11-dev (Debian's CPython 3.11 with
# headers, a live-test target), util-linux (setpriv, for the permission
# test; flock), procps; for the profile formats: protobuf-c-compiler,
# libprotobuf-c-dev and zlib1g-dev (pprof output), protobuf-compiler
# (`protoc --decode` in the pprof test), python3-jsonschema (the speedscope
# schema test), chromium (the HTML flame graph test) and python3-uvloop
# (uvloop for Debian's 3.11: the uvloop Task tests); a plain build needs
# none of these.  CPython 3.12 and 3.13 are not Debian 12 packages: the
# tests find them under pyenv (`pyenv root`, $PYENV_ROOT or ~/.pyenv) or on
# PATH, or take -DTORNSTACK_PYTHONS=... .  CPython 3.14 and 3.15 are
# Debian's own builds from the testing suite, fetched into the project's
# cache by scripts/pythons.sh (ts_fetch_pythons).
set -euo pipefail

ts_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ts_packages=(cmake make gcc g++ clang libclang-rt-14-dev libcmocka-dev python3.11-dev zip unzip
             util-linux procps pkg-config protobuf-c-compiler libprotobuf-c-dev zlib1g-dev
             protobuf-compiler python3-jsonschema chromium python3-uvloop clang-format git)

ts_install_packages() {
    local missing=() p
    for p in "${ts_packages[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
            missing+=("$p")
    done
    if [ "${#missing[@]}" -eq 0 ]; then
        echo "setup: Debian packages present: ${ts_packages[*]}"
        return 0
    fi
    echo "setup: installing Debian packages: ${missing[*]}"
    if [ "$(id -u)" -ne 0 ]; then
        echo "setup: need root to apt-get install ${missing[*]}" >&2
        exit 1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# Debian's CPython 3.14 and 3.15 (scripts/pythons.sh: skips what is there).
ts_fetch_pythons() {
    if ! "$ts_root/scripts/pythons.sh" fetch; then
        echo "setup: FAILED: CPython 3.14 and 3.15 could not be fetched (see above)" >&2
        exit 1
    fi
}

# The interpreters a build found whose frames the walks read (minor up to
# UW_WALK_MAX_MINOR in src/internal/layout.h), one per line.
ts_walk_pythons() {
    local build="$1" max
    max=$(sed -n 's/^#define UW_WALK_MAX_MINOR \([0-9]*\).*/\1/p' \
          "$ts_root/src/internal/layout.h")
    sed -n 's/^TORNSTACK_PY_LIST:INTERNAL=//p' "$build/CMakeCache.txt" | tr ';' '\n' |
        awk -F'|' -v max="$max" '{ split($1, v, "."); if (v[2] + 0 <= max + 0) print $3 }'
}

ts_build() {
    local preset="${1:-default}"
    cd "$ts_root"
    cmake --preset "$preset"
    cmake --build --preset "$preset" -j "$(nproc)"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    ts_install_packages
    ts_fetch_pythons
    ts_build "${1:-default}"
fi
