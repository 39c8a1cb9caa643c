#!/usr/bin/env bash
# nbdref against libnbd on the same work, the same server, in the same run.
#
# Starts nbdkit (memory plugin, and the null plugin to take the server's own
# work out of the picture; the memory plugin again under TLS with a
# pre-shared key) on private Unix sockets, then runs every workload with
# libnbd-bench and nbdref-bench alternately (libnbd, nbdref, libnbd,
# nbdref, ...) for --pairs pairs, and prints the medians and the ratios
# nbdref/libnbd. A whole-export copy between two memory exports compares
# nbdcopy, libnbd-bench --copy and nbdref-bench --copy, all three timed the
# same way (the whole process: wall clock, user + system CPU).
#
#   client/bench/compare.sh                    the default matrix, 5 pairs of 1 s (~10 min)
#   client/bench/compare.sh --quick            the target workloads and the copy, 3 pairs of 0.5 s
#   client/bench/compare.sh --full             every pattern x op x block size x depth x connections
#   client/bench/compare.sh --only 'memory/rand-read-4k-*,copy/*' --pairs 7
#   client/bench/compare.sh --list             the workload names of the chosen matrix
#
# Options:
#   --pairs N          runs per library and workload, alternating (5)
#   --seconds S        length of each run (1)
#   --quick | --full   the matrix (default: each dimension varied around the targets)
#   --only GLOBS       comma-separated shell patterns on workload names
#   --size SIZE        size of the exports, nbdkit syntax (1G)
#   --markdown FILE    also write the tables as Markdown
#   --build-dir DIR    the g++ build holding the benchmarks (build/gcc); configured
#                      and built there if needed (never a sanitizer build)
#   --no-build         use the programs in --build-dir as they are
#   --results FILE     where every run's result line is kept
#                      (DIR/bench-results/results.txt)
set -euo pipefail
cd "$(dirname "$0")/../.."

pairs=5
seconds=1
matrix=default
only=""
size=1G
markdown=""
build_dir=build/gcc
build=1
results=""
list=0
seconds_given=0
pairs_given=0

usage() { sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; }
die() {
  echo "compare: $*" >&2
  exit 2
}

while [[ $# -gt 0 ]]; do
  case "$1" in
    --pairs) pairs=${2:?--pairs needs a number}; pairs_given=1; shift 2 ;;
    --seconds) seconds=${2:?--seconds needs a number}; seconds_given=1; shift 2 ;;
    --quick) matrix=quick; shift ;;
    --full) matrix=full; shift ;;
    --only) only=${2:?--only needs patterns}; shift 2 ;;
    --size) size=${2:?--size needs a size}; shift 2 ;;
    --markdown) markdown=${2:?--markdown needs a file}; shift 2 ;;
    --build-dir) build_dir=${2:?--build-dir needs a directory}; shift 2 ;;
    --no-build) build=0; shift ;;
    --results) results=${2:?--results needs a file}; shift 2 ;;
    --list) list=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done
[[ $pairs =~ ^[1-9][0-9]*$ ]] || die "--pairs must be a positive number"
[[ $seconds =~ ^[0-9]*\.?[0-9]+$ ]] || die "--seconds must be a positive number"
if [[ $matrix == quick ]]; then
  ((pairs_given)) || pairs=3
  ((seconds_given)) || seconds=0.5
fi

# ---- the workloads: "name|server|benchmark arguments" ----

aio() {  # SERVER PATTERN OP BLOCK DEPTH CONNECTIONS
  echo "$1/$2-$3-$4-q$5-c$6|$1|--pattern $2 --op $3 --block-size $4 --in-flight $5 --connections $6"
}
sync_run() {  # SERVER PATTERN OP BLOCK
  echo "$1/sync-$2-$3-$4|$1|--sync --pattern $2 --op $3 --block-size $4"
}
copy_run() {  # BLOCK DEPTH CONNECTIONS
  echo "copy/memory-to-memory-$1-q$2-c$3|copy|--block-size $1 --in-flight $2 --connections $3"
}

workloads() {
  local op pattern block depth conns server
  case "$matrix" in
    quick)
      aio memory rand read 4k 64 1
      aio memory seq read 256k 16 1
      sync_run memory rand read 4k
      aio null rand read 4k 64 1
      aio memory-tls rand read 4k 64 1
      copy_run 256k 64 2
      ;;
    default)
      for op in read write; do
        for pattern in rand seq; do
          for depth in 1 16 64 256; do aio memory "$pattern" "$op" 4k "$depth" 1; done
          for block in 64k 256k 1M; do aio memory "$pattern" "$op" "$block" 16 1; done
          aio memory "$pattern" "$op" 4k 64 4
          aio memory "$pattern" "$op" 256k 16 4
        done
      done
      sync_run memory rand read 4k
      sync_run memory rand write 4k
      sync_run memory seq read 256k
      aio null rand read 4k 64 1
      aio null seq read 256k 16 1
      aio null rand write 4k 64 1
      aio null seq read 1M 64 4
      sync_run null rand read 4k
      aio memory-tls rand read 4k 64 1
      aio memory-tls seq read 256k 16 1
      aio memory-tls rand write 4k 64 1
      sync_run memory-tls rand read 4k
      copy_run 256k 64 2
      ;;
    full)
      for server in memory null memory-tls; do
        for op in read write; do
          for pattern in rand seq; do
            for block in 4k 64k 256k 1M; do
              for depth in 1 16 64 256; do
                for conns in 1 4; do aio "$server" "$pattern" "$op" "$block" "$depth" "$conns"; done
              done
              sync_run "$server" "$pattern" "$op" "$block"
            done
          done
        done
      done
      copy_run 256k 64 2
      copy_run 1M 16 2
      ;;
  esac
}

# shellcheck source=client/bench/only_globs.sh
source client/bench/only_globs.sh
selected_workloads() {
  local line
  while IFS= read -r line; do
    if matches_only "${line%%|*}" "$only"; then echo "$line"; fi
  done < <(workloads)
}

mapfile -t plan < <(selected_workloads)
[[ ${#plan[@]} -gt 0 ]] || die "no workload matches --only '$only' (see --list)"
if ((list)); then
  printf '%s\n' "${plan[@]%%|*}"
  exit 0
fi

# ---- the programs ----

build_flag=()
((build)) || build_flag=(--no-build)
client/bench/build_benchmarks.sh "$build_dir" "${build_flag[@]}"
nbdref_bench=$build_dir/client/bench/nbdref-bench
libnbd_bench=$build_dir/client/bench/libnbd-bench
[[ -n $results ]] || results=$build_dir/bench-results/results.txt
mkdir -p "$(dirname "$results")"
: >"$results"

# ---- the servers ----

# shellcheck source=client/bench/nbdkit_servers.sh
source client/bench/nbdkit_servers.sh
open_work_dir compare

uri_of() {
  case "$1" in
    *-tls) echo "nbds+unix://bench@/?socket=$work/$1.sock&tls-psk-file=$work/keys.psk" ;;
    *) echo "nbd+unix:///?socket=$work/$1.sock" ;;
  esac
}

needs_server() { printf '%s\n' "${plan[@]}" | grep -q "|$1|"; }
if needs_server memory || needs_server copy; then start_nbdkit memory memory "size=$size"; fi
if needs_server null; then start_nbdkit null null "size=$size"; fi
if needs_server copy; then start_nbdkit copy-destination memory "size=$size"; fi
if needs_server memory-tls; then
  # TLS with a pre-shared key made now (psktool, GnuTLS): both libraries
  # take it from the URI's tls-psk-file.
  psktool -u bench -p "$work/keys.psk" >/dev/null
  start_nbdkit memory-tls --tls=require --tls-psk="$work/keys.psk" memory "size=$size"
fi

fill() {  # SERVER
  echo "=== filling the $1 export ($size) with data"
  fill_export "$nbdref_bench" "$(uri_of "$1")"
}
# Reads then read data, not holes, writes never allocate, and nbdcopy finds
# no zero blocks to skip.
if needs_server memory || needs_server copy; then fill memory; fi
if needs_server memory-tls; then fill memory-tls; fi

# ---- running ----

# Runs one benchmark and appends "workload=NAME result-fields..." to the results.
run_bench() {  # WORKLOAD PROGRAM ARGS...
  local workload=$1
  shift
  local output
  if ! output=$("$@" --quiet 2>&1); then
    echo "$output" >&2
    die "failed: $*"
  fi
  local line
  line=$(grep '^result ' <<<"$output" | tail -1)
  [[ -n $line ]] || die "no result line from: $*"
  echo "workload=$workload ${line#result }" >>"$results"
}

# A copy, timed as a whole process like nbdcopy: appends
# "workload=NAME tool=TOOL proc_wall_s=.. proc_cpu_s=.. bytes=..".
run_timed_copy() {  # WORKLOAD TOOL PROGRAM ARGS...
  local workload=$1 tool=$2
  shift 2
  local times status=0
  local TIMEFORMAT='%3R %3U %3S'
  { time "$@" >"$work/copy.out" 2>&1; } 2>"$work/copy.time" || status=$?
  if ((status != 0)); then
    cat "$work/copy.out" >&2
    die "failed: $*"
  fi
  read -r -a times <"$work/copy.time"
  local cpu
  cpu=$(awk -v u="${times[1]}" -v s="${times[2]}" 'BEGIN { printf "%.3f", u + s }')
  local bench_fields=""
  if grep -q '^result ' "$work/copy.out"; then
    bench_fields=$(grep '^result ' "$work/copy.out" | tail -1)
    bench_fields=${bench_fields#result }
  fi
  echo "workload=$workload tool=$tool proc_wall_s=${times[0]} proc_cpu_s=$cpu" \
    "copy_bytes=$copy_bytes $bench_fields" >>"$results"
}

# The medians so far of one workload, on one line.
progress() {  # INDEX WORKLOAD
  printf '[%2d/%d] %-30s ' "$1" "${#plan[@]}" "$2"
  awk -v progress="$2" -f client/bench/compare_table.awk "$results"
}

# "4k" -> 4096, for nbdcopy's --request-size.
bytes_of() {
  case "$1" in
    *[kK]) echo $((${1%?} << 10)) ;;
    *[mM]) echo $((${1%?} << 20)) ;;
    *) echo "$1" ;;
  esac
}

estimate=$(awk -v n="${#plan[@]}" -v p="$pairs" -v s="$seconds" \
  'BEGIN { printf "%.0f", n * p * 2 * (s + 0.15) / 60 + 0.5 }')
echo "=== ${#plan[@]} workloads, $pairs pairs of $seconds s (about $estimate min);" \
  "nbdkit $(nbdkit --version | cut -d' ' -f2), exports of $size, $(nproc) CPUs," \
  "load average $(cut -d' ' -f1-3 /proc/loadavg)"

copy_bytes=0
index=0
for entry in "${plan[@]}"; do
  index=$((index + 1))
  IFS='|' read -r name server args <<<"$entry"
  read -r -a bench_args <<<"$args"
  if [[ $server == copy ]]; then
    copy_bytes=$(nbdinfo --size "$(uri_of memory)")
    src=$(uri_of memory)
    dst=$(uri_of copy-destination)
    # nbdcopy with the same parallelism: one thread per connection pair.
    block=${bench_args[1]} depth=${bench_args[3]} conns=${bench_args[5]}
    nbdcopy_cmd=(nbdcopy --connections="$conns" --threads="$conns" --requests="$depth"
      --request-size="$(bytes_of "$block")" "$src" "$dst")
    # Once untimed, so that every destination page exists before timing.
    "${nbdcopy_cmd[@]}"
    for _ in $(seq "$pairs"); do
      run_timed_copy "$name" nbdcopy "${nbdcopy_cmd[@]}"
      run_timed_copy "$name" libnbd "$libnbd_bench" "${bench_args[@]}" --copy "$src" "$dst"
      run_timed_copy "$name" nbdref "$nbdref_bench" "${bench_args[@]}" --copy "$src" "$dst"
    done
    progress "$index" "$name"
    continue
  fi
  uri=$(uri_of "$server")
  for _ in $(seq "$pairs"); do
    run_bench "$name" "$libnbd_bench" "${bench_args[@]}" --seconds "$seconds" "$uri"
    run_bench "$name" "$nbdref_bench" "${bench_args[@]}" --seconds "$seconds" "$uri"
  done
  progress "$index" "$name"
done

# ---- the tables ----

awk -v pairs="$pairs" -v seconds="$seconds" -v markdown_file="$markdown" \
  -f client/bench/compare_table.awk "$results"
[[ -z $markdown ]] || echo "=== Markdown: $markdown"
echo "=== every run: $results (load average now $(cut -d' ' -f1-3 /proc/loadavg))"
