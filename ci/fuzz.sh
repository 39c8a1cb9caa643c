#!/usr/bin/env bash
# Fuzzing on one machine: builds the libFuzzer targets (clang-14, ASan +
# UBSan) and runs each for a while, or replays the corpora into a coverage
# report.
#
#   ci/fuzz.sh [--time SECONDS] [--jobs N] [--merge] [--forever]
#              [--no-sanitizers] [--build-dir DIR] [--corpus DIR] [TARGET...]
#   ci/fuzz.sh --coverage [--build-dir DIR] [--corpus DIR]
#
#   --time SECONDS  how long each target runs (default 60)
#   --jobs N        targets run side by side (default 1)
#   --merge         afterwards, add to <corpus>/<target>/ the new inputs that
#                   add coverage (libFuzzer -merge=1); without it the corpus
#                   is only read
#   --forever       run every target round after round, merging each round,
#                   until interrupted (a dedicated fuzzing machine)
#   --coverage      build DIR-coverage (clang source-based coverage, no
#                   sanitizers), replay every corpus and report the line
#                   coverage of client/src/wire and client/src/engine
#   --no-sanitizers coverage instrumentation only, no ASan/UBSan (default
#                   tree build/fuzz-nosan): several times the executions
#                   per second, for throughput; findings are then crashes,
#                   broken invariants, leaks, timeouts and memory limits
#   --build-dir DIR the fuzz tree (default build/fuzz)
#   --corpus DIR    the corpora, one directory per target (default corpus)
#   TARGET...       some targets only (default: every target configured,
#                   as listed in DIR/fuzz/targets.txt)
#
# A target's libFuzzer options come from fuzz/options/<target>.options
# (max_len, ...) and its dictionary from fuzz/dictionaries/<target>.dict.
# New inputs collect in DIR/fuzz-run/new/<target>/ from run to run until a
# --merge; an input that breaks a target is saved in DIR/findings/<target>/
# and printed with the command that reproduces it. Exits 1 when a target
# crashed, leaked, timed out or ran out of memory (with --coverage: when a
# corpus input breaks its target), 2 on a usage or build error.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
  sed -n '2,/^set -euo/{/^#/s/^# \{0,1\}//p}' "$0" >&2
  exit 2
}

seconds=60
jobs=1
merge=false
forever=false
coverage=false
dir=
sanitizers=true
corpus=corpus
selected=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --time) seconds=${2:?}; shift 2 ;;
    --jobs) jobs=${2:?}; shift 2 ;;
    --merge) merge=true; shift ;;
    --forever) forever=true; merge=true; shift ;;
    --coverage) coverage=true; shift ;;
    --no-sanitizers) sanitizers=false; shift ;;
    --build-dir) dir=${2:?}; shift 2 ;;
    --corpus) corpus=${2:?}; shift 2 ;;
    -h | --help) usage ;;
    -*) echo "fuzz: unknown option $1" >&2; usage ;;
    *) selected+=("$1"); shift ;;
  esac
done
[[ "$seconds" =~ ^[1-9][0-9]*$ ]] || { echo "fuzz: --time needs a whole number of seconds > 0" >&2; exit 2; }
[[ "$jobs" =~ ^[1-9][0-9]*$ ]] || { echo "fuzz: --jobs needs a number > 0" >&2; exit 2; }
if [[ -z "$dir" ]]; then
  if $sanitizers; then dir=build/fuzz; else dir=build/fuzz-nosan; fi
fi
dir=${dir%/}
corpus=${corpus%/}
build_jobs=${NBDREF_JOBS:-$(nproc)}
coverage_threshold=90

# The targets a tree was configured with: the one list, written by fuzz/CMakeLists.txt.
configured_targets() {
  local list=$1/fuzz/targets.txt
  [[ -s "$list" ]] || { echo "fuzz: $list is missing (configure $1 first)" >&2; exit 2; }
  cat "$list"
}

# The targets to work on: those named on the command line, all by default.
choose_targets() {
  local -a all
  mapfile -t all < <(configured_targets "$1")
  if [[ ${#selected[@]} -eq 0 ]]; then
    targets=("${all[@]}")
    return
  fi
  targets=()
  for t in "${selected[@]}"; do
    if [[ " ${all[*]} " != *" $t "* ]]; then
      echo "fuzz: no target '$t' (targets: ${all[*]})" >&2
      exit 2
    fi
    targets+=("$t")
  done
}

# Prints -key=value for every setting in the [libfuzzer] section of the
# target's options file (OSS-Fuzz's format; fuzz/build.sh ships the same file).
options_of() {
  local file=fuzz/options/$1.options
  [[ -f "$file" ]] || return 0
  awk '/^[ \t]*[#;]/ { next }
       /^[ \t]*\[/ { section = $0; gsub(/[ \t\[\]]/, "", section); next }
       section == "libfuzzer" && /=/ {
         key = $0; sub(/=.*/, "", key); gsub(/[ \t]/, "", key)
         value = $0; sub(/^[^=]*=[ \t]*/, "", value); sub(/[ \t]+$/, "", value)
         print "-" key "=" value
       }' "$file"
}

dictionary_of() {
  local file=fuzz/dictionaries/$1.dict
  [[ -f "$file" ]] && echo "-dict=$file"
  return 0
}

# ---------------------------------------------------------------- coverage

# Sorted line numbers in, "12-15, 40, 88-90" out.
line_ranges() {
  awk 'NR == 1 { first = last = $1; next }
       $1 == last + 1 { last = $1; next }
       { out = out (out ? ", " : "") (first == last ? first : first "-" last); first = last = $1 }
       END { if (NR) print out (out ? ", " : "") (first == last ? first : first "-" last) }'
}

run_coverage() {
  local cov=$dir-coverage flags="-fprofile-instr-generate -fcoverage-mapping"
  echo "=== coverage: build $cov (clang-14 $flags)"
  # No compiler launcher: ccache's CCACHE_BASEDIR would turn the source
  # paths the coverage mapping records into relative ones.
  CC=clang-14 CXX=clang++-14 cmake -S . -B "$cov" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DNBDREF_WERROR=ON -DCMAKE_C_FLAGS="$flags" -DCMAKE_CXX_FLAGS="$flags" \
    -DCMAKE_EXE_LINKER_FLAGS=-fprofile-instr-generate \
    -DCMAKE_C_COMPILER_LAUNCHER= -DCMAKE_CXX_COMPILER_LAUNCHER= >/dev/null
  choose_targets "$cov"
  cmake --build "$cov" -j "$build_jobs" --target "${targets[@]/#/fuzz_replay_}" ||
    { echo "fuzz: the build failed" >&2; exit 2; }

  echo "=== coverage: replay $corpus/<target> with every target"
  rm -rf "$cov/profiles"
  mkdir -p "$cov/profiles"
  local -a binaries=()
  for t in "${targets[@]}"; do
    if [[ ! -d "$corpus/$t" ]]; then
      echo "fuzz: no corpus $corpus/$t: $t not replayed" >&2
      continue
    fi
    if ! LLVM_PROFILE_FILE="$cov/profiles/$t.profraw" "$cov/fuzz/fuzz_replay_$t" "$corpus/$t" \
      >"$cov/profiles/$t.log" 2>&1; then
      tail -n 20 "$cov/profiles/$t.log" >&2
      echo "fuzz: an input of $corpus/$t breaks $t (above; all of it in $cov/profiles/$t.log)" >&2
      exit 1
    fi
    binaries+=("$cov/fuzz/fuzz_replay_$t")
  done
  [[ ${#binaries[@]} -gt 0 ]] || { echo "fuzz: nothing replayed" >&2; exit 2; }
  llvm-profdata-14 merge -sparse -o "$cov/corpus.profdata" "$cov"/profiles/*.profraw
  # The programs, and the project's shared libraries they load (libnbdref.so).
  local -a objects=("${binaries[0]}")
  for b in "${binaries[@]:1}"; do objects+=(-object "$b"); done
  while read -r library; do objects+=(-object "$library"); done < <(
    for b in "${binaries[@]}"; do ldd "$b"; done |
      awk -v tree="$(cd "$cov" && pwd)/" 'index($3, tree) == 1 { print $3 }' | sort -u)
  # llvm-cov-14 with its warning about "mismatched data" left out: an inline
  # function a binary includes but never calls is mapped there with a
  # placeholder hash, which never matches the profile of a binary that does
  # call it; those lines are counted from the other binary.
  llvm_cov() {
    local rc=0
    llvm-cov-14 "$@" -use-color=false 2>"$cov/llvm-cov.stderr" || rc=$?
    grep -v 'functions have mismatched data' "$cov/llvm-cov.stderr" >&2 || true
    return $rc
  }

  # Per-file line counts of the two layers, as "path covered count".
  local layers='client/src/(wire|engine)/'
  llvm_cov export -summary-only -instr-profile "$cov/corpus.profdata" "${objects[@]}" |
    jq -r '.data[0].files[] | "\(.filename) \(.summary.lines.covered) \(.summary.lines.count)"' |
    grep -E "$layers" | sort >"$cov/lines.txt"
  [[ -s "$cov/lines.txt" ]] || { echo "fuzz: no coverage data for client/src/wire or client/src/engine" >&2; exit 2; }

  # Uncovered lines, from the line view: "N|      0|" is a line never run.
  local -a files
  mapfile -t files < <(cut -d' ' -f1 "$cov/lines.txt")
  llvm_cov show -instr-profile "$cov/corpus.profdata" "${objects[@]}" -show-instantiations=false \
    "${files[@]}" >"$cov/lines-shown.txt"
  llvm_cov show -format=html -output-dir "$cov/html" -instr-profile "$cov/corpus.profdata" \
    "${objects[@]}" "${files[@]}"

  echo
  echo "Line coverage of client/src/wire and client/src/engine, replaying $corpus/:"
  awk '
    function layer(path) { return path ~ /client\/src\/wire\// ? "client/src/wire" : "client/src/engine" }
    { l = layer($1); covered[l] += $2; count[l] += $3; all_covered += $2; all_count += $3 }
    END {
      for (l in count) printf "  %-20s %6d of %6d lines  %5.1f%%\n", l, covered[l], count[l], 100 * covered[l] / count[l]
      printf "  %-20s %6d of %6d lines  %5.1f%%\n", "total", all_covered, all_count, 100 * all_covered / all_count
    }' "$cov/lines.txt" | sort -k1,1 -s
  echo
  echo "Files below $coverage_threshold% (uncovered lines; seeds reaching them belong in $corpus/<target>/):"
  local below=0
  while read -r path covered count; do
    [[ "$count" -gt 0 ]] || continue
    if ((covered * 100 < count * coverage_threshold)); then
      below=$((below + 1))
      local lines
      lines=$(awk -v file="$path:" '
          /^[^ ].*:$/ { inside = ($0 == file); next }
          inside && /^ *[0-9]+\| *0\|/ { split($0, f, "|"); print f[1] + 0 }' "$cov/lines-shown.txt" |
        sort -n -u | line_ranges)
      printf '  %s  %d of %d lines (%.1f%%)\n      not run: %s\n' "${path#"$PWD/"}" "$covered" "$count" \
        "$(awk -v c="$covered" -v n="$count" 'BEGIN { print 100 * c / n }')" "${lines:-?}"
    fi
  done <"$cov/lines.txt"
  [[ $below -gt 0 ]] || echo "  none"
  echo
  echo "Every file, line by line: $cov/html/index.html"
}

if $coverage; then
  run_coverage
  exit 0
fi

# ---------------------------------------------------------------- fuzzing

if $sanitizers; then
  echo "=== fuzz: build $dir (clang-14, ASan + UBSan, libFuzzer)"
  instrumentation=(-DNBDREF_SANITIZE=ON)
else
  # Built the way OSS-Fuzz builds without a sanitizer: coverage
  # instrumentation in the flags, libFuzzer as the external engine.
  echo "=== fuzz: build $dir (clang-14, libFuzzer, no sanitizers)"
  instrumentation=(-DNBDREF_FUZZ_ENGINE=-fsanitize=fuzzer -DCMAKE_C_FLAGS=-fsanitize=fuzzer-no-link
                   -DCMAKE_CXX_FLAGS=-fsanitize=fuzzer-no-link)
fi
CC=clang-14 CXX=clang++-14 cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNBDREF_WERROR=ON \
  -DNBDREF_FUZZ=ON "${instrumentation[@]}" >/dev/null
choose_targets "$dir"
cmake --build "$dir" -j "$build_jobs" --target "${targets[@]/#/fuzz_}" "${targets[@]/#/fuzz_replay_}" ||
  { echo "fuzz: the build failed" >&2; exit 2; }

export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
run=$dir/fuzz-run
mkdir -p "$run/logs" "$run/results" "$run/pids"

# Files in a directory (0 when it does not exist).
count_files() {
  [[ -d "$1" ]] || { echo 0; return; }
  find "$1" -type f | wc -l
}

# Runs one target for $seconds, then (with --merge) merges what it found;
# writes key=value lines to $run/results/<target>.
fuzz_target() {
  local t=$1 started=$SECONDS rc=0
  local bin=$dir/fuzz/fuzz_$t log=$run/logs/$t.log
  local new=$run/new/$t findings=$dir/findings/$t
  mkdir -p "$new" "$findings"
  local -a options
  mapfile -t options < <(options_of "$t"; dictionary_of "$t")
  local -a inputs=("$new")
  [[ -d "$corpus/$t" ]] && inputs+=("$corpus/$t")
  # New inputs go to the first directory named, never into the corpus.
  "$bin" -max_total_time="$seconds" -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$findings/" "${options[@]}" "${inputs[@]}" >"$log" 2>&1 &
  echo $! >"$run/pids/$t"
  wait $! || rc=$?
  rm -f "$run/pids/$t"
  {
    echo "seconds=$((SECONDS - started))"
    echo "rc=$rc"
    if $merge; then
      mkdir -p "$corpus/$t"
      local before
      before=$(count_files "$corpus/$t")
      if "$bin" -merge=1 "${options[@]}" "$corpus/$t" "$new" >"$run/logs/$t.merge.log" 2>&1; then
        echo "merged=+$(($(count_files "$corpus/$t") - before)) into $corpus/$t"
        find "$new" -type f -delete
      else
        echo "merged=merge failed, see $run/logs/$t.merge.log"
      fi
    fi
  } >"$run/results/$t"
}

# The last status line of a running target, fields as libFuzzer prints them.
status_of() {
  tail -n 40 "$run/logs/$1.log" 2>/dev/null | grep -a -E '^#[0-9]+' | tail -n 1 | tr -s '\t ' ' ' || true
}

# libFuzzer's final figures and the outcome of a finished target, as
# key=value lines.
parse_log() {
  awk '
    /^#[0-9]+/ && / cov: / {
      for (i = 1; i < NF; i++) {
        if ($i == "cov:") cov = $(i + 1)
        if ($i == "ft:") ft = $(i + 1)
        if ($i == "corp:") corp = $(i + 1)
      }
    }
    /^stat::number_of_executed_units:/ { execs = $2 }
    /^stat::average_exec_per_sec:/ { rate = $2 }
    /^stat::new_units_added:/ { added = $2 }
    /ERROR: libFuzzer: timeout/ { outcome = outcome ? outcome : "timeout" }
    /ERROR: libFuzzer: out-of-memory/ { outcome = outcome ? outcome : "oom" }
    /ERROR: LeakSanitizer/ { outcome = outcome ? outcome : "leak" }
    /ERROR: AddressSanitizer|runtime error:|ERROR: libFuzzer: (deadly signal|fuzz target exited|fuzz target overwrites)/ {
      outcome = outcome ? outcome : "crash"
    }
    /Test unit written to / { artifact = $0; sub(/.*Test unit written to /, "", artifact) }
    /^SUMMARY: / && !summary { summary = $0; sub(/^SUMMARY: /, "", summary) }
    END {
      split(corp, c, "/")
      kib = c[2] + 0
      if (c[2] ~ /Mb$/) kib *= 1024
      else if (c[2] !~ /Kb$/) kib /= 1024
      printf "execs=%d\nrate=%d\nadded=%d\ncov=%d\nft=%d\nunits=%d\nkib=%.1f\n", execs, rate, added, cov, ft, c[1], kib
      printf "outcome=%s\nartifact=%s\nsummary=%s\n", outcome, artifact, summary
    }' "$run/logs/$1.log"
}

# Fills `figure` with a finished target's results and log figures.
declare -A figure
load_figures() {
  figure=()
  local key value
  while IFS='=' read -r key value; do
    figure[$key]=$value
  done < <(cat "$run/results/$1"; parse_log "$1")
  if [[ -z "${figure[outcome]}" && "${figure[rc]}" != 0 ]]; then
    figure[outcome]="exit ${figure[rc]}"
  fi
}

# Kills the fuzzers still running (ours, by pid) when we are interrupted.
# shellcheck disable=SC2317 # a trap handler
stop_running() {
  local f
  for f in "$run"/pids/*; do
    if [[ -f "$f" ]]; then kill "$(cat "$f")" 2>/dev/null || true; fi
  done
  wait || true
  echo "fuzz: interrupted" >&2
  exit 130
}
trap stop_running INT TERM

# Runs every target once, up to $jobs at a time, then prints the table and
# what broke. Returns 1 when any target found something.
fuzz_round() {
  local -a pending=("${targets[@]}")
  local -A running=() started_at=()
  local tick=0 t pid
  rm -f "$run"/results/* "$run"/pids/*
  while [[ ${#pending[@]} -gt 0 || ${#running[@]} -gt 0 ]]; do
    while [[ ${#pending[@]} -gt 0 && ${#running[@]} -lt $jobs ]]; do
      t=${pending[0]}
      pending=("${pending[@]:1}")
      echo "fuzz: $t: running for $seconds s"
      fuzz_target "$t" &
      running[$!]=$t
      started_at[$t]=$SECONDS
    done
    sleep 1
    tick=$((tick + 1))
    for pid in "${!running[@]}"; do
      t=${running[$pid]}
      if ! kill -0 "$pid" 2>/dev/null; then
        wait "$pid" || true
        unset "running[$pid]"
      elif ((tick % 10 == 0)); then
        echo "fuzz: $t: $((SECONDS - started_at[$t]))/$seconds s: $(status_of "$t")"
      fi
    done
  done

  local broken=0 format='%-14s %5s %11s %8s %6s %8s %6s %7s %5s  %s\n'
  echo
  # shellcheck disable=SC2059 # one format for the heading and the rows
  printf "$format" target secs execs exec/s files KiB cov ft new result
  for t in "${targets[@]}"; do
    load_figures "$t"
    # shellcheck disable=SC2059
    printf "$format" "$t" "${figure[seconds]}" "${figure[execs]}" "${figure[rate]}" "${figure[units]}" \
      "${figure[kib]}" "${figure[cov]}" "${figure[ft]}" "${figure[added]}" \
      "${figure[outcome]:-ok}${figure[merged]:+, merged ${figure[merged]}}"
    [[ -z "${figure[outcome]}" ]] || broken=$((broken + 1))
  done
  for t in "${targets[@]}"; do
    load_figures "$t"
    [[ -n "${figure[outcome]}" ]] || continue
    echo
    echo "fuzz: $t: ${figure[outcome]}${figure[summary]:+: ${figure[summary]}}"
    echo "  log:       $run/logs/$t.log"
    if [[ -n "${figure[artifact]}" ]]; then
      echo "  input:     ${figure[artifact]}"
      echo "  reproduce: $dir/fuzz/fuzz_$t ${figure[artifact]}"
      echo "  replay:    $dir/fuzz/fuzz_replay_$t ${figure[artifact]}"
    fi
    # The report itself, for logs that outlive the build tree (CI).
    local first
    first=$(grep -a -n -m1 -E '^==[0-9]+==ERROR|runtime error:|^==[0-9]+== ERROR: libFuzzer' \
      "$run/logs/$t.log" | cut -d: -f1)
    if [[ -n "$first" ]]; then
      sed -n "${first},/^SUMMARY: /p" "$run/logs/$t.log" | head -n 60 | sed 's/^/  | /'
    fi
  done
  echo
  echo "fuzz: $((${#targets[@]} - broken)) passed, $broken failed"
  [[ $broken -eq 0 ]]
}

status=0
round=1
while :; do
  if $forever; then echo "=== fuzz: round $round"; fi
  fuzz_round || status=1
  $forever || break
  round=$((round + 1))
done
if [[ $status -ne 0 ]]; then
  echo
  echo "fuzz: FAILED: a target broke (inputs under $dir/findings/; to keep one as an open finding copy it to fuzz/findings/<target>-<what>)"
fi
exit $status
