#!/usr/bin/env bash
# An AFL++ campaign on one target:
#
#   scripts/fuzz-campaign-afl.sh TARGET [SECONDS] [INSTANCES]
#
# Installs AFL++ (Debian's afl++) if missing, builds the fuzz-afl and
# fuzz-afl-cmplog presets, runs one main instance (-M) and INSTANCES-1
# secondaries (-S), the first secondary with the CMPLOG binary (-c), all
# for SECONDS (default 600) on corpus/TARGET, then prints execs/s and
# crashes.  Crashes are left in build/afl-campaign/TARGET/*/crashes.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
target="${1:?usage: fuzz-campaign-afl.sh TARGET [SECONDS] [INSTANCES]}"
seconds="${2:-600}"
n="${3:-$(nproc)}"
ts_install_packages
if ! command -v afl-fuzz >/dev/null; then
    echo "setup: installing Debian package afl++"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq afl++
fi
ts_build fuzz-afl >/dev/null
AFL_LLVM_CMPLOG=1 ts_build fuzz-afl-cmplog >/dev/null
bin="build/fuzz-afl/fuzz/fuzz_$target"
cmplog="build/fuzz-afl-cmplog/fuzz/fuzz_$target"
out="build/afl-campaign/$target"
rm -rf "$out"
mkdir -p "$out"
export AFL_SKIP_CPUFREQ=1 AFL_NO_UI=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1
dict=()
[ -f "fuzz/fuzz_$target.dict" ] && dict=(-x "fuzz/fuzz_$target.dict")
pids=()
afl-fuzz -V "$seconds" -M main "${dict[@]}" -i "corpus/$target" -o "$out" -- "$bin" \
    > "$out/main.log" 2>&1 & pids+=($!)
for i in $(seq 1 $((n - 1))); do
    extra=()
    [ "$i" -eq 1 ] && extra=(-c "$cmplog")
    afl-fuzz -V "$seconds" -S "s$i" "${extra[@]}" "${dict[@]}" -i "corpus/$target" -o "$out" \
        -- "$bin" > "$out/s$i.log" 2>&1 & pids+=($!)
done
wait "${pids[@]}" || true
execs=0
crashes=0
for st in "$out"/*/fuzzer_stats; do
    e=$(awk -F: '/execs_per_sec/ {gsub(/ /, "", $2); print int($2)}' "$st")
    c=$(awk -F: '/saved_crashes/ {gsub(/ /, "", $2); print $2}' "$st")
    execs=$((execs + e))
    crashes=$((crashes + c))
done
echo "afl campaign: $target: $execs execs/s over $n instances (one CMPLOG), $crashes crashes in $out"
