#!/usr/bin/env bash
# Prove every rule necessary: build the unwinder without each rule of
# src/internal/rules.h in turn (a mutant: -DTORNSTACK_DROP_RULE=name) and
# run the fast model checks against it.  A check that fails kills the
# mutant; every rule must be killed by at least one check, or the rule is
# not proven necessary (a test or model scenario that kills it is missing).
#
#   scripts/mutate.sh [RULE...]     (default: every rule)
#
# Checks, each with a time limit:
#   unit      the Task walk's, compose's and the thread walk's unit tests
#             (test_tasks, test_task_bounds, test_tasks_lists, test_compose,
#             test_unwind) and
#             the tests written to kill one rule each (test_rules_*);
#   regress   every reproducer of corpus/race/regress replayed;
#   pbt       the property tests of the model (pbt_model: bounded, TSO and
#             relaxed, every version);
#   verify    a short `tornstack verify` (every version, model and row).
# With MUTATE_FIRST=1 a mutant's checks stop at the first that kills it
# (the checks above run in that order: a quicker proof of every rule);
# the unmutated build still runs them all first.
# Prints one line per rule with the checks that killed it, and exits
# non-zero when a rule survives or the unmutated build fails a check.
# Builds in build/mutate (optimised, assertions on); about two minutes a
# rule on two cores.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bdir="$root/build/mutate"
jobs="${MUTATE_JOBS:-2}"
cd "$root"

if [ $# -gt 0 ]; then
  rules=("$@")
else
  mapfile -t rules < <(sed -n 's/^ \* RULE \([a-z0-9_]*\):.*/\1/p; s/^\/\* RULE \([a-z0-9_]*\):.*/\1/p' \
                         src/internal/rules.h)
fi

# the unit tests: the suites of the walks, and every test_rules_*.c
unit_tests=(test_tasks test_task_bounds test_tasks_lists test_compose test_unwind)
for f in tests/unit/test_rules_*.c; do
  [ -e "$f" ] && unit_tests+=("$(basename "$f" .c)")
done

build() { # $1: rule to drop ("" for none)
  cmake -S "$root" -B "$bdir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTORNSTACK_WERROR=ON \
        -DTORNSTACK_DROP_RULE="$1" >"$bdir.cfg.log" 2>&1 &&
  cmake --build "$bdir" -j "$jobs" --target tornstack-verify test_model "${unit_tests[@]}" \
        >"$bdir.build.log" 2>&1
}

check_unit() {
  local t
  for t in "${unit_tests[@]}"; do
    timeout 300 "$bdir/tests/$t" >/dev/null 2>&1 || return 1
  done
}

check_regress() {
  local f
  for f in corpus/race/regress/*; do
    [ "$(basename "$f")" = INDEX ] && continue
    timeout 300 "$bdir/tornstack-verify" --replay "$f" >/dev/null 2>&1 || return 1
  done
}

check_pbt() {
  (cd "$bdir" && timeout 900 ./tests/test_model >/dev/null 2>&1)
}

check_verify() {
  timeout 900 "$bdir/tornstack-verify" --samples 1500 --busy-samples 10 --idle-samples 1 \
    --jobs "$jobs" --out-dir "$bdir/verify-out" >/dev/null 2>&1
}

checks=(unit regress pbt verify)

run_checks() { # $1: the rule dropped ("" for none); prints the checks that failed
  local c failed=()
  for c in "${checks[@]}"; do
    "check_$c" || failed+=("$c")
    [ "${MUTATE_FIRST:-0}" = 1 ] && [ "${#failed[@]}" -gt 0 ] && [ -n "$1" ] && break
  done
  echo "${failed[*]:-}"
}

mkdir -p "$bdir"
echo "mutate: the unmutated build first"
build "" || { echo "mutate: build failed (see $bdir.build.log)"; exit 2; }
base="$(run_checks "")"
if [ -n "$base" ]; then
  echo "mutate: the unmutated unwinder fails: $base"
  exit 2
fi

survivors=0
printf '%-28s %s\n' "rule" "killed by"
for r in "${rules[@]}"; do
  if ! build "$r"; then
    printf '%-28s %s\n' "$r" "BUILD FAILED (see $bdir.build.log)"
    survivors=$((survivors + 1))
    continue
  fi
  killed="$(run_checks "$r")"
  if [ -z "$killed" ]; then
    printf '%-28s %s\n' "$r" "SURVIVED"
    survivors=$((survivors + 1))
  else
    printf '%-28s %s\n' "$r" "$killed"
  fi
done
build "" >/dev/null 2>&1 || true
if [ "$survivors" -gt 0 ]; then
  echo "mutate: $survivors of ${#rules[@]} rules not killed"
  exit 1
fi
echo "mutate: all ${#rules[@]} rules killed"
