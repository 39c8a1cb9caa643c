#!/usr/bin/env bash
# Builds every fuzz target the way OSS-Fuzz and ClusterFuzzLite build
# projects (their build.sh contract), and lays them out in $OUT:
#   $OUT/fuzz_<target>                  the fuzzer
#   $OUT/fuzz_<target>_seed_corpus.zip  corpus/<target>/
#   $OUT/fuzz_<target>.dict             fuzz/dictionaries/<target>.dict
#   $OUT/fuzz_<target>.options          fuzz/options/<target>.options
#   $OUT/lib/                           the shared libraries the fuzzers load
#                                       beyond glibc (the runner image has
#                                       none of them), found through an
#                                       rpath of $ORIGIN/lib
# Reads CC, CXX, CFLAGS, CXXFLAGS (instrumentation and sanitizer included),
# LIB_FUZZING_ENGINE (the engine's link flags) and OUT, as the base-builder
# image sets them; builds in $WORK (a temporary directory when unset);
# NBDREF_JOBS overrides the number of compile jobs. The project adds no
# instrumentation of its own here (NBDREF_FUZZ_ENGINE) and no TLS (no
# fuzz target uses it).
set -euo pipefail

: "${CC:?}" "${CXX:?}" "${LIB_FUZZING_ENGINE:?}" "${OUT:?}"
src=$(cd "$(dirname "$0")/.." && pwd)
work=${WORK:-$(mktemp -d)}
build=$work/nbdref-fuzz
jobs=${NBDREF_JOBS:-$(nproc)}

# Build type None: CFLAGS and CXXFLAGS alone decide optimisation and debug
# information. --disable-new-dtags makes every rpath a DT_RPATH, which the
# loader also applies to the libraries' own dependencies (libnbdref.so's
# libxml2, libxml2's libicuuc, ...).
cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=None \
  -DCMAKE_C_COMPILER="$CC" -DCMAKE_CXX_COMPILER="$CXX" \
  -DCMAKE_C_FLAGS="${CFLAGS:-}" -DCMAKE_CXX_FLAGS="${CXXFLAGS:-}" \
  -DCMAKE_EXE_LINKER_FLAGS="-Wl,--disable-new-dtags" \
  -DCMAKE_SHARED_LINKER_FLAGS="-Wl,--disable-new-dtags" \
  -DCMAKE_BUILD_WITH_INSTALL_RPATH=ON -DCMAKE_INSTALL_RPATH="\$ORIGIN/lib" \
  -DNBDREF_FUZZ=ON -DNBDREF_FUZZ_ENGINE="$LIB_FUZZING_ENGINE" -DNBDREF_SANITIZE=OFF \
  -DNBDREF_TLS=OFF -DNBDREF_WERROR=OFF
mapfile -t targets <"$build/fuzz/targets.txt"
cmake --build "$build" -j "$jobs" --target "${targets[@]/#/fuzz_}"

# The project's own shared libraries the build made for the fuzzers
# (libnbdref.so), each under the name the loader asks for (its soname);
# then, below, whatever each fuzzer loads from the system.
mkdir -p "$OUT/lib"
find "$build" -path '*/CMakeFiles' -prune -o -name 'lib*.so*' -type f -print |
  while read -r library; do
    soname=$(readelf -d "$library" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
    cp "$library" "$OUT/lib/${soname:-$(basename "$library")}"
  done
for t in "${targets[@]}"; do
  fuzzer=fuzz_$t
  cp "$build/fuzz/$fuzzer" "$OUT/"
  rm -f "$OUT/${fuzzer}_seed_corpus.zip"
  if [[ -d "$src/corpus/$t" ]]; then
    (cd "$src/corpus/$t" && find . -type f | sort | zip -q -X "$OUT/${fuzzer}_seed_corpus.zip" -@)
  fi
  if [[ -f "$src/fuzz/dictionaries/$t.dict" ]]; then
    cp "$src/fuzz/dictionaries/$t.dict" "$OUT/$fuzzer.dict"
  fi
  if [[ -f "$src/fuzz/options/$t.options" ]]; then
    cp "$src/fuzz/options/$t.options" "$OUT/$fuzzer.options"
  fi
  # Every shared library beyond glibc and the loader, with what it loads.
  if ldd "$OUT/$fuzzer" | grep 'not found'; then
    echo "fuzz/build.sh: $fuzzer misses a shared library" >&2
    exit 1
  fi
  ldd "$OUT/$fuzzer" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }' |
    grep -v -E '/(libc|libm|libpthread|libdl|librt|libresolv|ld-linux[^/]*)\.so' |
    while read -r library; do
      [[ -e "$OUT/lib/$(basename "$library")" ]] || cp -L "$library" "$OUT/lib/"
    done
done
echo "fuzz/build.sh: ${#targets[@]} fuzzers in $OUT: ${targets[*]/#/fuzz_}"
