#!/usr/bin/env bash
# A libFuzzer campaign on one target:
#
#   scripts/fuzz-campaign.sh TARGET [SECONDS] [JOBS]
#
# Builds the fuzz-libfuzzer preset, fuzzes corpus/TARGET (plus its regress
# reproducers) for SECONDS (default 600) with JOBS parallel jobs (default
# nproc), merges new coverage back into corpus/TARGET, minimises every crash
# into a regress candidate under build/fuzz-campaign/TARGET/candidates
# with its name and INDEX line drafted, and prints execs/s and coverage.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
target="${1:?usage: fuzz-campaign.sh TARGET [SECONDS] [JOBS]}"
seconds="${2:-600}"
jobs="${3:-$(nproc)}"
ts_install_packages
ts_build fuzz-libfuzzer
cd "$ts_root"
bin="build/fuzz-libfuzzer/fuzz/fuzz_$target"
[ -x "$bin" ] || { echo "campaign: no such target $target"; exit 2; }
work="build/fuzz-campaign/$target"
rm -rf "$work"
mkdir -p "$work/new" "$work/artifacts" "$work/merge-artifacts" "$work/candidates"
opts=()
[ -f "fuzz/fuzz_$target.dict" ] && opts+=("-dict=fuzz/fuzz_$target.dict")
# libFuzzer reads corpus folders recursively, and corpus/TARGET/open holds
# reproducers of violations still open: fed in, they would end every
# campaign at once without saying anything new.  Stage the seeds and the
# fixed bugs' reproducers without them.
mkdir -p "$work/seeds"
find "corpus/$target" -path "corpus/$target/open" -prune -o -type f ! -name INDEX \
    -exec cp -t "$work/seeds" {} +
echo "campaign: $target for ${seconds}s with $jobs jobs"
"$bin" "${opts[@]}" -max_total_time="$seconds" -jobs="$jobs" -workers="$jobs" \
    -artifact_prefix="$work/artifacts/" -print_final_stats=1 \
    "$work/new" "$work/seeds" > "$work/fuzz.log" 2>&1 || true
cat fuzz-*.log > "$work/jobs.log" 2>/dev/null || true
rm -f fuzz-*.log
# Merge what is new into the committed corpus (only inputs that add coverage).
before=$(ls "corpus/$target" | wc -l)
# (The merge reads corpus/TARGET/open too and trips on it; what it writes
# about that goes to the work folder, not the checkout.)
"$bin" -merge=1 -artifact_prefix="$work/merge-artifacts/" "corpus/$target" "$work/new" \
    > "$work/merge.log" 2>&1 || true
after=$(ls "corpus/$target" | wc -l)
# Minimise every crash into a regress candidate.
n=0
for crash in "$work"/artifacts/crash-* "$work"/artifacts/timeout-* "$work"/artifacts/oom-*; do
    [ -e "$crash" ] || continue
    kind=$(basename "$crash" | cut -d- -f1)
    id=$(sha1sum "$crash" | cut -c1-8)
    "$bin" -minimize_crash=1 -runs=20000 -exact_artifact_path="$work/candidates/min" "$crash" \
        > "$work/candidates/minimize-$id.log" 2>&1 || true
    [ -f "$work/candidates/min" ] && mv "$work/candidates/min" "$work/candidates/$kind-local-$id-SLUG"
    [ -f "$work/candidates/$kind-local-$id-SLUG" ] || cp "$crash" "$work/candidates/$kind-local-$id-SLUG"
    why=$(grep -m1 -E "^violation|SUMMARY|ERROR" "$crash" "$work/jobs.log" 2>/dev/null | head -1 | cut -c1-160)
    echo "$kind-local-$id-SLUG  ${why:-cause to describe} -- FIX TO DESCRIBE" >> "$work/candidates/INDEX.draft"
    if [ "$target" = race ]; then # the fuzz target clamps its scenarios; verify replays them as is
        echo "  (explain: build/verify/tornstack-verify --replay $work/candidates/$kind-local-$id-SLUG --clamp 8 --explain yes)" \
            >> "$work/candidates/INDEX.draft"
    fi
    n=$((n + 1))
done
# (A run that stops before printing a count must still get its summary:
# grep finding nothing is not an error here.)
execs=$({ grep -hoE 'stat::average_exec_per_sec: *[0-9]+' "$work/jobs.log" "$work/fuzz.log" 2>/dev/null || true; } |
        awk '{s += $2} END {print s + 0}')
cov=$({ grep -hoE 'cov: [0-9]+' "$work/jobs.log" "$work/fuzz.log" 2>/dev/null || true; } |
      awk '{print $2}' | sort -n | tail -1)
echo "campaign: $target: ${execs} execs/s over $jobs jobs, coverage ${cov:-?} edges," \
     "corpus $before -> $after files, $n crash candidates in $work/candidates"
