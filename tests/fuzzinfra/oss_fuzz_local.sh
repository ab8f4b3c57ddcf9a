#!/usr/bin/env bash
# Emulate the OSS-Fuzz/ClusterFuzzLite build here (no Docker engine): run
# .clusterfuzzlite/build.sh with the base builder's environment (clang,
# ASan + fuzzer-no-link in CFLAGS, LIB_FUZZING_ENGINE=-fsanitize=fuzzer,
# scratch SRC/WORK/OUT), then check $OUT and run every target: the parser,
# memory and folded targets fuzz for a few seconds from their seed zip;
# race, last (its default policy still meets the open cases of
# docs/model.md), replays its seeds only.
#   oss_fuzz_local.sh SOURCE_DIR SCRATCH_DIR
set -euo pipefail
root="$1"
scratch="$2"
rm -rf "$scratch"
mkdir -p "$scratch/src" "$scratch/work" "$scratch/out"
ln -s "$root" "$scratch/src/tornstack"
export SRC="$scratch/src" WORK="$scratch/work" OUT="$scratch/out"
export CC=clang CXX=clang++
export CFLAGS="-O1 -fno-omit-frame-pointer -gline-tables-only -fsanitize=address -fsanitize-address-use-after-scope -fsanitize=fuzzer-no-link"
export CXXFLAGS="$CFLAGS"
export LIB_FUZZING_ENGINE="-fsanitize=fuzzer"
bash "$root/.clusterfuzzlite/build.sh" > "$scratch/build.log" 2>&1 || {
    tail -30 "$scratch/build.log"
    echo "oss-fuzz emulation: build.sh failed"
    exit 1
}
for t in elf linetable debug_offsets dict_set memory folded race; do
    [ -x "$OUT/fuzz_$t" ] || { echo "missing $OUT/fuzz_$t"; exit 1; }
    [ -s "$OUT/fuzz_${t}_seed_corpus.zip" ] || { echo "missing seed zip for $t"; exit 1; }
    mkdir -p "$scratch/corpus_$t"
    unzip -q -o "$OUT/fuzz_${t}_seed_corpus.zip" -d "$scratch/corpus_$t"
    if [ "$t" = race ]; then
        args=(-runs=0)
    else
        args=(-max_total_time=3)
    fi
    if ! "$OUT/fuzz_$t" "${args[@]}" "$scratch/corpus_$t" > "$scratch/run_$t.log" 2>&1; then
        tail -20 "$scratch/run_$t.log"
        echo "oss-fuzz emulation: fuzz_$t failed"
        exit 1
    fi
    echo "fuzz_$t: $(grep -oE 'Done [0-9]+ runs' "$scratch/run_$t.log" | tail -1) ($(ls "$scratch/corpus_$t" | wc -l) seeds)"
done
ls "$OUT" | sed 's/^/  out: /'
echo "oss-fuzz emulation: all targets built and ran"
