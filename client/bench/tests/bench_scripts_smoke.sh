#!/usr/bin/env bash
# The benchmark scripts -- compare.sh, syscalls.sh and profile.sh -- run end
# to end on one tiny workload with the programs of a build, so that they
# cannot rot unnoticed: each must print its table with figures for both
# libraries (no timing is judged: the figures of a test run mean nothing).
#
#   bench_scripts_smoke.sh BUILD-DIR
set -euo pipefail
build_dir=$(cd "${1:?usage: bench_scripts_smoke.sh BUILD-DIR}" && pwd)
cd "$(dirname "$0")/../../.."

work=$(mktemp -d "${TMPDIR:-/tmp}/nbdref-bench-scripts-XXXXXX")
trap 'rm -rf "$work"' EXIT

fail() {
  echo "bench_scripts_smoke: $*" >&2
  exit 1
}

# The first line of FILE matching REGEX must hold a positive number in each
# of the given fields (awk numbering); prints the line.
expect_positive() {  # FILE REGEX FIELD...
  local file=$1 regex=$2
  shift 2
  local line
  line=$(grep -E -m1 "$regex" "$file") || {
    cat "$file" >&2
    fail "no line matching '$regex' in $(basename "$file")"
  }
  local field value
  for field in "$@"; do
    value=$(awk -v f="$field" '{ print $f }' <<<"$line")
    awk -v v="$value" 'BEGIN { exit !(v ~ /^[0-9]*\.?[0-9]+$/ && v + 0 > 0) }' ||
      fail "field $field of '$line' is not a positive number"
  done
  echo "ok: $line"
}

echo "=== compare.sh"
client/bench/compare.sh --build-dir "$build_dir" --no-build --only 'null/sync-rand-read-4k' \
  --pairs 1 --seconds 0.2 --size 64M --results "$work/results.txt" \
  --markdown "$work/table.md" >"$work/compare.out" 2>&1 ||
  { cat "$work/compare.out" >&2; fail "compare.sh failed"; }
# workload, MiB/s libnbd and nbdref, kop/s libnbd and nbdref, ...
expect_positive "$work/compare.out" '^null/sync-rand-read-4k ' 2 3 4 5
grep -q '^| `null/sync-rand-read-4k` |' "$work/table.md" || fail "no Markdown row in table.md"
[[ $(grep -c '^workload=null/sync-rand-read-4k ' "$work/results.txt") == 2 ]] ||
  fail "results.txt does not hold one run of each library"

echo "=== syscalls.sh"
client/bench/syscalls.sh --build-dir "$build_dir" --no-build --only 'sync-rand-read-4k' \
  --requests 300 >"$work/syscalls.out" 2>&1 ||
  { cat "$work/syscalls.out" >&2; fail "syscalls.sh failed"; }
# "total (under strace) LIBNBD NBDREF"
expect_positive "$work/syscalls.out" '^ +total \(under strace\)' 4 5

echo "=== profile.sh"
client/bench/profile.sh --build-dir "$build_dir" --no-build --only 'sync-rand-read-4k' \
  --runs 1 --seconds 0.2 --size 64M >"$work/profile.out" 2>&1 ||
  { cat "$work/profile.out" >&2; fail "profile.sh failed"; }
expect_positive "$work/profile.out" '^ +CPU us/op ' 3 4
expect_positive "$work/profile.out" '^ +receive ' 2 3
