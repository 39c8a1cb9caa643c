#!/usr/bin/env bash
# The README's test command: install what is missing, then build and run the
# whole suite twice -- with g++, and with clang under ASan + UBSan.
set -euo pipefail
cd "$(dirname "$0")/.."

ci/setup.sh

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

for flavour in gcc clang-asan; do
  echo "=== $flavour: build"
  ci/build.sh "$flavour"
  echo "=== $flavour: test"
  ctest --test-dir "build/$flavour" -j2 --output-on-failure --timeout 300
done
echo "=== all tests passed"
