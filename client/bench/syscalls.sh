#!/usr/bin/env bash
# System calls per request, libnbd against nbdref, on the same workloads and
# the same nbdkit (memory plugin on a Unix socket).
#
# Each library runs a fixed number of requests, and again with none
# (--bytes 0: connect and disconnect only); the difference divided by the
# number of requests is what one request costs. `strace -c -f` gives the
# calls by name; strace slows the client so much that replies pile up and
# every read returns more of them, so the total is also counted without it
# by perf's raw_syscalls:sys_enter tracepoint (when perf can read it).
#
#   client/bench/syscalls.sh [--requests N] [--only GLOBS] [--build-dir DIR] [--no-build]
#
#   --requests N     requests per measured run (20000)
#   --only GLOBS     comma-separated shell patterns on workload names
#   --build-dir DIR  the g++ build holding the benchmarks (build/gcc)
#   --no-build       use the programs in --build-dir as they are
set -euo pipefail
cd "$(dirname "$0")/../.."

requests=20000
only=""
build_dir=build/gcc
build=1

die() {
  echo "syscalls: $*" >&2
  exit 2
}

while [[ $# -gt 0 ]]; do
  case "$1" in
    --requests) requests=${2:?--requests needs a number}; shift 2 ;;
    --only) only=${2:?--only needs patterns}; shift 2 ;;
    --build-dir) build_dir=${2:?--build-dir needs a directory}; shift 2 ;;
    --no-build) build=0; shift ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done
[[ $requests =~ ^[1-9][0-9]*$ ]] || die "--requests must be a positive number"

# name|block size in bytes|benchmark arguments
workloads=(
  "rand-read-4k-q64-c1|4096|--pattern rand --op read --block-size 4k --in-flight 64"
  "seq-read-256k-q16-c1|262144|--pattern seq --op read --block-size 256k --in-flight 16"
  "rand-write-4k-q64-c1|4096|--pattern rand --op write --block-size 4k --in-flight 64"
  "sync-rand-read-4k|4096|--sync --pattern rand --op read --block-size 4k"
  "sync-seq-read-256k|262144|--sync --pattern seq --op read --block-size 256k"
)

build_flag=()
((build)) || build_flag=(--no-build)
client/bench/build_benchmarks.sh "$build_dir" "${build_flag[@]}"
declare -A bench=([libnbd]=$build_dir/client/bench/libnbd-bench
                  [nbdref]=$build_dir/client/bench/nbdref-bench)
command -v strace >/dev/null || die "strace is missing (ci/setup.sh installs it)"
use_perf=0
if command -v perf >/dev/null && perf stat -x, -e raw_syscalls:sys_enter true >/dev/null 2>&1; then
  use_perf=1
else
  echo "syscalls: perf cannot count raw_syscalls:sys_enter here; totals from strace only" >&2
fi

# shellcheck source=client/bench/nbdkit_servers.sh
source client/bench/nbdkit_servers.sh
open_work_dir syscalls
start_nbdkit memory memory size=256M
uri="nbd+unix:///?socket=$work/memory.sock"
fill_export "${bench[nbdref]}" "$uri"

# strace -c's table as "syscall calls" lines.
strace_calls() {  # FILE
  awk '$1 ~ /^[0-9.]+$/ && $NF != "total" { print $NF, $4 }' "$1"
}

# Total system calls of a run, counted by perf.
perf_total() {  # PROGRAM ARGS...
  perf stat -x, -e raw_syscalls:sys_enter -o "$work/perf.txt" "$@" >/dev/null
  awk -F, '$3 == "raw_syscalls:sys_enter" { print $1 }' "$work/perf.txt"
}

# shellcheck source=client/bench/only_globs.sh
source client/bench/only_globs.sh

echo "=== system calls per request: $requests requests per run, minus a run of none;" \
  "nbdkit $(nbdkit --version | cut -d' ' -f2) memory plugin, Unix socket"
for entry in "${workloads[@]}"; do
  IFS='|' read -r name block args <<<"$entry"
  matches_only "$name" "$only" || continue
  read -r -a bench_args <<<"$args"
  bytes=$((requests * block))
  for lib in libnbd nbdref; do
    strace -f -c -o "$work/$lib.n" "${bench[$lib]}" --quiet "${bench_args[@]}" --bytes "$bytes" \
      "$uri" >/dev/null
    strace -f -c -o "$work/$lib.0" "${bench[$lib]}" --quiet "${bench_args[@]}" --bytes 0 \
      "$uri" >/dev/null
    strace_calls "$work/$lib.n" | sed "s/^/$lib n /" >>"$work/$name.calls"
    strace_calls "$work/$lib.0" | sed "s/^/$lib 0 /" >>"$work/$name.calls"
    if ((use_perf)); then
      n=$(perf_total "${bench[$lib]}" --quiet "${bench_args[@]}" --bytes "$bytes" "$uri")
      zero=$(perf_total "${bench[$lib]}" --quiet "${bench_args[@]}" --bytes 0 "$uri")
      echo "$lib n perf-total $n" >>"$work/$name.calls"
      echo "$lib 0 perf-total $zero" >>"$work/$name.calls"
    fi
  done
  echo
  echo "$name ($args)"
  awk -v requests="$requests" '
    { calls[$1, $2, $3] += $4; if (!($3 in known)) { known[$3] = 1; names[++n] = $3 } }
    function per_request(lib, name) { return (calls[lib, "n", name] - calls[lib, "0", name]) / requests }
    END {
      printf "  %-22s %10s %10s\n", "system call", "libnbd", "nbdref"
      for (i = 1; i <= n; i++) {
        name = names[i]
        if (name == "perf-total") continue
        l = per_request("libnbd", name); r = per_request("nbdref", name)
        if (l < 0.005 && r < 0.005) continue
        printf "  %-22s %10.3f %10.3f\n", name, l, r
        total_l += l; total_r += r
      }
      printf "  %-22s %10.3f %10.3f\n", "total (under strace)", total_l, total_r
      if ("perf-total" in known) {
        l = per_request("libnbd", "perf-total"); r = per_request("nbdref", "perf-total")
        printf "  %-22s %10.3f %10.3f   (x%.2f)\n", "total (perf, no strace)", l, r, (l > 0 ? r / l : 0)
      }
    }' "$work/$name.calls"
done
