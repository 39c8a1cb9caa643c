#!/usr/bin/env bash
# Test: fuzz/build.sh under the variables OSS-Fuzz's base-builder image sets
# for a libFuzzer + AddressSanitizer build puts every fuzz target, its seed
# archive, options and dictionary in $OUT; each fuzzer finds every shared
# library it loads beyond glibc in $OUT/lib, runs every seed of its archive
# and fuzzes for a few hundred runs without a finding.
#   fuzz/tests/oss_fuzz_build_test.sh SCRATCH_DIR
# SCRATCH_DIR holds $OUT (emptied first) and $WORK (kept, so a second run
# only rebuilds what changed). CC and CXX default to clang-14.
# (OSS-Fuzz adds -stdlib=libc++ to CXXFLAGS; Debian's clang builds against
# libstdc++ here, so that flag is left out.)
set -euo pipefail

src=$(cd "$(dirname "$0")/../.." && pwd)
scratch=${1:?usage: $0 SCRATCH_DIR}
mkdir -p "$scratch"
scratch=$(cd "$scratch" && pwd)

export CC=${CC:-clang-14} CXX=${CXX:-clang++-14}
export SANITIZER=address FUZZING_ENGINE=libfuzzer ARCHITECTURE=x86_64
export CFLAGS="-O1 -fno-omit-frame-pointer -gline-tables-only -fsanitize=address -fsanitize-address-use-after-scope -fsanitize=fuzzer-no-link"
export CXXFLAGS="$CFLAGS"
export LIB_FUZZING_ENGINE=-fsanitize=fuzzer
export OUT=$scratch/out WORK=$scratch/work SRC=$src
rm -rf "$OUT"
mkdir -p "$OUT" "$WORK"

failures=0
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}

started=$SECONDS
"$src/fuzz/build.sh"
echo "oss_fuzz_build_test: fuzz/build.sh took $((SECONDS - started)) s"

mapfile -t targets <"$WORK/nbdref-fuzz/fuzz/targets.txt"
[[ ${#targets[@]} -gt 0 ]] || fail "no targets configured"

for t in "${targets[@]}"; do
  fuzzer=$OUT/fuzz_$t
  if [[ ! -x "$fuzzer" ]]; then
    fail "$fuzzer missing"
    continue
  fi

  # The seed archive holds exactly corpus/<target>/.
  seeds=$(find "$src/corpus/$t" -type f 2>/dev/null | wc -l)
  archive=$OUT/fuzz_${t}_seed_corpus.zip
  if [[ ! -f "$archive" ]]; then
    fail "$archive missing"
  else
    entries=$(zip -sf "$archive" | awk '/^Total [0-9]+ entries/ { print $2 }')
    [[ "$seeds" -gt 0 && "$entries" == "$seeds" ]] ||
      fail "$archive holds ${entries:-no} entries, corpus/$t has $seeds"
  fi
  for kind in dictionaries/$t.dict:fuzz_$t.dict options/$t.options:fuzz_$t.options; do
    from=$src/fuzz/${kind%%:*}
    to=$OUT/${kind##*:}
    if [[ -f "$from" ]] && ! cmp -s "$from" "$to"; then fail "$to is not a copy of $from"; fi
  done

  # Every library beyond glibc resolves inside $OUT/lib.
  while read -r name path; do
    [[ "$path" == "$OUT/lib/$name" ]] || fail "fuzz_$t loads $name from ${path:-nowhere}, not \$OUT/lib"
  done < <(ldd "$fuzzer" | awk '$2 == "=>" { print $1, ($3 ~ /^\//) ? $3 : "" }' |
    grep -v -E '^(libc|libm|libpthread|libdl|librt|libresolv|ld-linux[^ ]*)\.so')

  # Runs every seed (the files named, each once), then fuzzes from nothing.
  log=$scratch/fuzz_$t.log
  if [[ "$seeds" -gt 0 ]]; then
    mapfile -t seed_files < <(find "$src/corpus/$t" -type f)
    "$fuzzer" "${seed_files[@]}" >"$log" 2>&1 || fail "fuzz_$t on its seeds: see $log"
  fi
  rm -rf "$scratch/new/$t"
  mkdir -p "$scratch/new/$t"
  (cd "$scratch/new/$t" && "$fuzzer" -runs=500 -timeout=10 . >>"$log" 2>&1) ||
    fail "fuzz_$t -runs=500: see $log"
  echo "oss_fuzz_build_test: fuzz_$t: $seeds seeds archived and run, 500 runs fuzzed"
done

if [[ $failures -gt 0 ]]; then
  echo "oss_fuzz_build_test: $failures failures"
  exit 1
fi
echo "oss_fuzz_build_test: ${#targets[@]} fuzzers, seed archives and \$OUT/lib in place and running"
