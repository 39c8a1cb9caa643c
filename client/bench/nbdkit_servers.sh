# shellcheck shell=bash
# Sourced by the benchmark scripts: nbdkit servers on private Unix sockets.
#
# The including script defines `die`. open_work_dir NAME makes the private
# directory `work` and arranges for it and every server to go when the
# script exits. start_nbdkit NAME ARGS... runs `nbdkit ARGS...` listening on
# $work/NAME.sock (log in $work/NAME.log) and waits until it listens (its
# process id is then ${nbdkit_pids[-1]}). fill_export BENCH URI writes data
# over the whole export (whole MiBs of it) with the benchmark program BENCH,
# so that reads read data, not holes, and writes never allocate.

nbdkit_pids=()

start_nbdkit() {  # NAME NBDKIT-ARGS...
  local name=$1
  shift
  local socket=$work/$name.sock
  nbdkit -U "$socket" -f --exit-with-parent "$@" >"$work/$name.log" 2>&1 &
  nbdkit_pids+=($!)
  for _ in $(seq 100); do
    [[ -S $socket ]] && return 0
    kill -0 "${nbdkit_pids[-1]}" 2>/dev/null || break
    sleep 0.1
  done
  cat "$work/$name.log" >&2
  die "nbdkit $* did not start listening"
}

open_work_dir() {  # NAME
  work=$(mktemp -d "${TMPDIR:-/tmp}/nbdref-$1-XXXXXX")
  trap 'stop_nbdkit_servers; rm -rf "$work"' EXIT
}

fill_export() {  # BENCH URI
  local bytes
  bytes=$(($(nbdinfo --size "$2") >> 20 << 20))
  "$1" --quiet --op write --pattern seq --block-size 1M --in-flight 16 --bytes "$bytes" \
    --verify "$2" >/dev/null
}

stop_nbdkit_servers() {
  local pid
  for pid in "${nbdkit_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${nbdkit_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  nbdkit_pids=()
}
