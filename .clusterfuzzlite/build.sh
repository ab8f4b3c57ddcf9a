#!/bin/bash -eu
# OSS-Fuzz / ClusterFuzzLite build of tornstack's fuzz targets.
#
# Contract: $CC/$CXX, $CFLAGS/$CXXFLAGS (sanitizer and fuzzer-no-link
# flags), $LIB_FUZZING_ENGINE (the engine to link), $SRC (sources: the
# project is $SRC/tornstack), $WORK (scratch), $OUT (targets, seed corpora,
# dictionaries, options).  The earlier-policy race targets are not shipped.
# pprof output is left out (TORNSTACK_PPROF=OFF), so fuzz_folded links
# nothing but the project's own instrumented code.
src="$SRC/tornstack"
cmake -S "$src" -B "$WORK/tornstack-build" \
    -DCMAKE_C_COMPILER="$CC" -DCMAKE_CXX_COMPILER="$CXX" \
    -DCMAKE_C_FLAGS="$CFLAGS" -DCMAKE_CXX_FLAGS="${CXXFLAGS:-}" \
    -DCMAKE_BUILD_TYPE=Release -DTORNSTACK_FUZZ_ENGINE=env -DTORNSTACK_BUILD_TESTS=OFF \
    -DTORNSTACK_PPROF=OFF
targets="elf linetable debug_offsets dict_set memory race folded"
for t in $targets; do
    cmake --build "$WORK/tornstack-build" -j "$(nproc)" --target "fuzz_$t"
    cp "$WORK/tornstack-build/fuzz/fuzz_$t" "$OUT/"
    # seeds and every fixed bug's reproducer (not open/: still failing)
    rm -f "$OUT/fuzz_${t}_seed_corpus.zip"
    (cd "$src/corpus/$t" && find . -type f ! -path './open/*' ! -name INDEX ! -name 'README*' \
        -print | zip -q -j "$OUT/fuzz_${t}_seed_corpus.zip" -@)
    for extra in dict options; do
        if [ -f "$src/fuzz/fuzz_$t.$extra" ]; then
            cp "$src/fuzz/fuzz_$t.$extra" "$OUT/"
        fi
    done
done
