#!/usr/bin/env bash
# Line and branch coverage of src/ and model/ from replaying the committed
# corpus (seeds and reproducers) with the replay engine:
#
#   scripts/coverage.sh [--with-tests]
#
# --with-tests also runs the unit and property tests (not the live ones).
# Builds the coverage preset (clang source-based coverage) and prints the
# llvm-cov report; per-file detail in build/coverage/report.txt.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
ts_install_packages
ts_build coverage
cd "$ts_root/build/coverage"
rm -rf profiles && mkdir profiles
export LLVM_PROFILE_FILE="$PWD/profiles/%p-%m.profraw"
objs=()
for t in elf linetable debug_offsets dict_set memory race; do
    dirs=("$ts_root/corpus/$t")
    [ -d "$ts_root/corpus/$t/regress" ] && dirs+=("$ts_root/corpus/$t/regress")
    ./fuzz/fuzz_$t "${dirs[@]}" > /dev/null
    objs+=(-object "fuzz/fuzz_$t")
done
if [ "${1:-}" = "--with-tests" ]; then
    ctest -L "unit|pbt" > /dev/null
    for t in tests/test_*; do objs+=(-object "$t"); done
fi
llvm-profdata merge -sparse profiles/*.profraw -o merged.profdata
first="${objs[1]}"
llvm-cov report "$first" "${objs[@]:2}" -instr-profile=merged.profdata \
    "$ts_root/src" "$ts_root/model" > report.txt
tail -1 report.txt | awk '{print "coverage of src/ and model/: regions " $4 ", lines " $10 ", branches " $13}'
for part in src model; do
    grep -E "^$part/" report.txt | awk -v p="$part" '{n += $8; m += $9; b += $11; bm += $12}
        END {if (n) printf "%s/: lines %.1f%% of %d, branches %.1f%% of %d\n", p,
             100 * (n - m) / n, n, b ? 100 * (b - bm) / b : 0, b}'
done
