#!/usr/bin/env bash
# Configure and build one flavour of nbdref.
#   ci/build.sh gcc          g++, warnings as errors        -> build/gcc
#   ci/build.sh clang-asan   clang, ASan + UBSan            -> build/clang-asan
# Extra arguments are passed to cmake at configure time.
set -euo pipefail
cd "$(dirname "$0")/.."

flavour=${1:-gcc}
shift || true
jobs=${NBDREF_JOBS:-$(nproc)}

case "$flavour" in
  gcc)
    export CC=gcc CXX=g++
    flags=(-DNBDREF_WERROR=ON)
    ;;
  clang-asan)
    export CC=clang-14 CXX=clang++-14
    flags=(-DNBDREF_WERROR=ON -DNBDREF_SANITIZE=ON)
    ;;
  *)
    echo "build: unknown flavour '$flavour' (gcc or clang-asan)" >&2
    exit 2
    ;;
esac

dir=build/$flavour
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "${flags[@]}" "$@" >/dev/null
cmake --build "$dir" -j "$jobs"
