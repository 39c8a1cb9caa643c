#!/usr/bin/env bash
# Where each library's CPU goes, per request: libnbd against nbdref on the
# same workloads and the same nbdkit (memory plugin on a Unix socket).
#
# Every run is sampled by `perf record -g` (cpu-clock); each sample is put
# in the first of these found walking its call chain up from where it was
# taken: "receive" (recv/recvfrom/recvmsg/read, in libc or the kernel),
# "send" (send/sendto/sendmsg/write/writev), "wait" (poll/ppoll/select/
# epoll); otherwise "other kernel" (page faults, scheduling, ...) or "user
# space" (the library, libc, the benchmark itself). The shares are applied
# to the run's own CPU time per request (getrusage), so the buckets add up
# to the benchmark's "CPU us/op". Also printed: how much of a core nbdkit
# used meanwhile (its utime + stime from /proc over the run's length).
#
# The runs alternate (libnbd, nbdref, libnbd, ...); the table shows medians.
#
#   client/bench/profile.sh [--runs N] [--seconds S] [--size SIZE] [--only GLOBS]
#                           [--build-dir DIR] [--no-build]
#
#   --runs N         runs per library and workload (3)
#   --seconds S      length of each run (2)
#   --size SIZE      size of the export, filled with data first (1G)
#   --only GLOBS     comma-separated shell patterns on workload names (--list)
#   --list           the workload names
#   --build-dir DIR  the g++ build holding the benchmarks (build/gcc)
#   --no-build       use the programs in --build-dir as they are
set -euo pipefail
cd "$(dirname "$0")/../.."

runs=3
seconds=2
size=1G
only=""
build_dir=build/gcc
build=1
list=0

die() {
  echo "profile: $*" >&2
  exit 2
}

while [[ $# -gt 0 ]]; do
  case "$1" in
    --runs) runs=${2:?--runs needs a number}; shift 2 ;;
    --seconds) seconds=${2:?--seconds needs a number}; shift 2 ;;
    --size) size=${2:?--size needs a size}; shift 2 ;;
    --only) only=${2:?--only needs patterns}; shift 2 ;;
    --list) list=1; shift ;;
    --build-dir) build_dir=${2:?--build-dir needs a directory}; shift 2 ;;
    --no-build) build=0; shift ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done
[[ $runs =~ ^[1-9][0-9]*$ ]] || die "--runs must be a positive number"
[[ $seconds =~ ^[0-9]*\.?[0-9]+$ ]] || die "--seconds must be a positive number"

# name|benchmark arguments
workloads=(
  "rand-read-4k-q64-c1|--pattern rand --op read --block-size 4k --in-flight 64"
  "seq-read-256k-q16-c1|--pattern seq --op read --block-size 256k --in-flight 16"
  "rand-write-4k-q64-c1|--pattern rand --op write --block-size 4k --in-flight 64"
  "sync-rand-read-4k|--sync --pattern rand --op read --block-size 4k"
)
# shellcheck source=client/bench/only_globs.sh
source client/bench/only_globs.sh
plan=()
for entry in "${workloads[@]}"; do
  if matches_only "${entry%%|*}" "$only"; then plan+=("$entry"); fi
done
[[ ${#plan[@]} -gt 0 ]] || die "no workload matches --only '$only' (see --list)"
if ((list)); then
  printf '%s\n' "${plan[@]%%|*}"
  exit 0
fi

command -v perf >/dev/null || die "perf is missing (ci/setup.sh installs linux-perf)"
perf record -q -e cpu-clock -o /dev/null true >/dev/null 2>&1 ||
  die "perf cannot sample cpu-clock here (see /proc/sys/kernel/perf_event_paranoid)"

build_flag=()
((build)) || build_flag=(--no-build)
client/bench/build_benchmarks.sh "$build_dir" "${build_flag[@]}"
declare -A bench=([libnbd]=$build_dir/client/bench/libnbd-bench
                  [nbdref]=$build_dir/client/bench/nbdref-bench)

# shellcheck source=client/bench/nbdkit_servers.sh
source client/bench/nbdkit_servers.sh
open_work_dir profile
start_nbdkit memory memory "size=$size"
nbdkit_pid=${nbdkit_pids[-1]}
uri="nbd+unix:///?socket=$work/memory.sock"
echo "=== filling the export ($size) with data"
fill_export "${bench[nbdref]}" "$uri"

clock_ticks=$(getconf CLK_TCK)
server_ticks() { awk '{ print $14 + $15 }' "/proc/$nbdkit_pid/stat"; }

# The share of one recording's samples in each bucket: "bucket fraction" lines.
bucket_shares() {  # PERF-DATA
  perf script -i "$1" -F ip,sym,dso 2>/dev/null | awk '
    function classify(sym) {
      if (sym ~ /^(__libc_)?(recv|recvfrom|recvmsg|read)$/ ||
          sym ~ /^(__x64_sys_|__sys_|ksys_)(recvfrom|recvmsg|read)$/) return "receive"
      if (sym ~ /^(__libc_)?(send|sendto|sendmsg|write|writev)$/ ||
          sym ~ /^(__x64_sys_|__sys_|ksys_|do_)(sendto|sendmsg|write|writev)$/) return "send"
      if (sym ~ /^(__libc_|__)?(poll|ppoll|select|pselect|epoll_wait|epoll_pwait)$/ ||
          sym ~ /^(__x64_sys_|do_sys_|do_)(poll|ppoll|select|pselect6|epoll_wait|epoll_pwait)$/) return "wait"
      return ""
    }
    function finish() {
      if (!in_sample) return
      if (bucket == "") bucket = (leaf_dso == "[kernel.kallsyms]") ? "other kernel" : "user space"
      count[bucket]++
      total++
      in_sample = 0
    }
    /^[^ \t]/ || /^$/ { finish(); next }
    {
      # "\tADDRESS SYMBOL+OFFSET (DSO)"
      sym = $2
      sub(/\+0x[0-9a-f]+$/, "", sym)
      dso = $NF
      gsub(/[()]/, "", dso)
      if (!in_sample) { in_sample = 1; bucket = ""; leaf_dso = dso }
      if (bucket == "") bucket = classify(sym)
    }
    END {
      finish()
      for (b in count) printf "%s|%.6f\n", b, count[b] / total
    }'
}

echo "=== $runs runs of $seconds s per library and workload; nbdkit" \
  "$(nbdkit --version | cut -d' ' -f2) memory plugin, Unix socket; $(nproc) CPUs," \
  "load average $(cut -d' ' -f1-3 /proc/loadavg)"
figures=$work/figures.txt
: >"$figures"
for entry in "${plan[@]}"; do
  IFS='|' read -r name args <<<"$entry"
  read -r -a bench_args <<<"$args"
  for run in $(seq "$runs"); do
    for lib in libnbd nbdref; do
      before=$(server_ticks)
      perf record -q -e cpu-clock -F 999 -g -o "$work/perf.data" -- \
        "${bench[$lib]}" --quiet "${bench_args[@]}" --seconds "$seconds" "$uri" >"$work/result" 2>&1 ||
        { cat "$work/result" >&2; die "failed: ${bench[$lib]} $args"; }
      after=$(server_ticks)
      result=$(grep '^result ' "$work/result" | tail -1) || die "no result line from ${bench[$lib]}"
      us_per_op=$(sed -n 's/.* cpu_us_per_op=\([0-9.]*\).*/\1/p' <<<"$result")
      kops=$(sed -n 's/.* kops_per_s=\([0-9.]*\).*/\1/p' <<<"$result")
      elapsed=$(sed -n 's/.* seconds=\([0-9.]*\).*/\1/p' <<<"$result")
      # The server is idle but for the run itself.
      server=$(awk -v t="$((after - before))" -v hz="$clock_ticks" -v s="$elapsed" \
        'BEGIN { printf "%.3f", t / hz / s }')
      {
        echo "$name|$lib|$run|requests/s (thousands)|$kops"
        echo "$name|$lib|$run|CPU us/op|$us_per_op"
        echo "$name|$lib|$run|nbdkit cores|$server"
        bucket_shares "$work/perf.data" | awk -F'|' -v p="$name|$lib|$run" -v us="$us_per_op" \
          '{ printf "%s|  %s|%.3f\n", p, $1, $2 * us }'
      } >>"$figures"
    done
  done
  echo
  echo "$name ($args): medians of $runs runs"
  awk -F'|' -v name="$name" -v runs="$runs" '
    function median(key,   n, i, j, v, t) {
      n = 0
      for (i = 1; i <= runs; i++) if ((key, i) in value) v[++n] = value[key, i]
      for (i = 2; i <= n; i++) for (j = i; j > 1 && v[j - 1] > v[j]; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
      if (n == 0) return 0
      return (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
    }
    $1 == name {
      value[$2 SUBSEP $4, $3] = $5
      if (!($4 in seen)) { seen[$4] = 1; rows[++nrows] = $4 }
    }
    END {
      order["requests/s (thousands)"] = 1; order["nbdkit cores"] = 2; order["CPU us/op"] = 3
      order["  receive"] = 4; order["  send"] = 5; order["  wait"] = 6
      order["  other kernel"] = 7; order["  user space"] = 8
      printf "  %-24s %10s %10s %8s\n", "", "libnbd", "nbdref", "ratio"
      for (o = 1; o <= 8; o++) for (r in order) {
        if (order[r] != o || !(r in seen)) continue
        l = median("libnbd" SUBSEP r); n = median("nbdref" SUBSEP r)
        printf "  %-24s %10.3f %10.3f %8s\n", r, l, n, (l > 0 ? sprintf("x%.2f", n / l) : "-")
      }
    }' "$figures"
done
echo
echo "(CPU us/op and its buckets: the client's CPU per request; receive/send/wait include the"
echo " kernel's work in those calls. Load average now $(cut -d' ' -f1-3 /proc/loadavg).)"
