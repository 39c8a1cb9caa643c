#!/usr/bin/env bash
# Builds nbdref-bench and libnbd-bench in a g++ build tree (configured there
# first if it is new) for compare.sh and syscalls.sh, and refuses a
# sanitizer or fuzzing build, whose figures would mean nothing.
#
#   client/bench/build_benchmarks.sh BUILD_DIR [--no-build]
#
# With --no-build it only checks that the tree is fit and the programs exist.
set -euo pipefail
cd "$(dirname "$0")/../.."

build_dir=${1:?usage: build_benchmarks.sh BUILD_DIR [--no-build]}
build=1
[[ ${2:-} == --no-build ]] && build=0

die() {
  echo "build_benchmarks.sh: $*" >&2
  exit 2
}

if ((build)); then
  ci/setup.sh
  if [[ ! -f $build_dir/CMakeCache.txt ]]; then
    CC=gcc CXX=g++ cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DNBDREF_WERROR=ON >/dev/null
  fi
  cmake --build "$build_dir" -j "${NBDREF_JOBS:-$(nproc)}" --target nbdref-bench libnbd-bench \
    >/dev/null
fi
if grep -qE '^NBDREF_(SANITIZE|FUZZ):BOOL=ON' "$build_dir/CMakeCache.txt" 2>/dev/null; then
  die "$build_dir is a sanitizer or fuzzing build: its figures would mean nothing"
fi
for p in "$build_dir/client/bench/nbdref-bench" "$build_dir/client/bench/libnbd-bench"; do
  [[ -x $p ]] || die "$p is missing (build it: cmake --build $build_dir --target $(basename "$p"))"
done
