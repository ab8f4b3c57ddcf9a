#!/usr/bin/env bash
# scripts/format.sh --check must fail on a tree with one unformatted file
# and pass once it is formatted: a check that cannot fail is none.
#   check_format_catches.sh SOURCE_DIR
set -euo pipefail
src="$1"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cp "$src/.clang-format" "$tmp/"
git -C "$tmp" init -q
printf 'int  f( int x ){return x+1;}\n' > "$tmp/bad.c"
printf '#include <stdio.h>\n' > "$tmp/good.h"
git -C "$tmp" add .
if TORNSTACK_FORMAT_ROOT="$tmp" "$src/scripts/format.sh" --check 2> "$tmp/err"; then
    echo "FAIL: format.sh --check passed a tree with an unformatted file" >&2
    exit 1
fi
grep -q 'not formatted: bad.c' "$tmp/err" || { echo "FAIL: bad.c not named: $(cat "$tmp/err")" >&2; exit 1; }
if grep -q 'good.h' "$tmp/err"; then
    echo "FAIL: a formatted file was named" >&2
    exit 1
fi
TORNSTACK_FORMAT_ROOT="$tmp" "$src/scripts/format.sh" > /dev/null
TORNSTACK_FORMAT_ROOT="$tmp" "$src/scripts/format.sh" --check
echo "format check: catches an unformatted file, passes it once formatted"
