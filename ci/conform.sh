#!/usr/bin/env bash
# The conformance job: install what is missing, build with g++, and run
# nbdref-conform.
#   ci/conform.sh                      start nbdkit's memory plugin (64 MiB) on a
#                                      private Unix socket and check it against
#                                      conformance/expectations/nbdkit-memory.txt
#   ci/conform.sh URI [OPTIONS...]     any server: nbd://HOST[:PORT]/EXPORT,
#                                      nbd+unix:///EXPORT?socket=PATH, ...
#   ci/conform.sh [OPTIONS...] -- COMMAND ARGS...
#                                      a server started for every connection
# Options are nbdref-conform's (--expect FILE, --only PATTERNS, -v, ...).
# The report is printed and kept in build/gcc/conform/ with JUnit XML and
# JSON; the exit status is nbdref-conform's (0: as expected, 1: differences,
# 2: usage error or unreachable server).
set -euo pipefail
cd "$(dirname "$0")/.."

ci/setup.sh
ci/build.sh gcc

bin=build/gcc/conformance/nbdref-conform
out=build/gcc/conform
mkdir -p "$out"

if [[ $# -eq 0 ]]; then
  dir=$(mktemp -d "${TMPDIR:-/tmp}/nbdref-conform-XXXXXX")
  socket=$dir/nbdkit.sock
  nbdkit -U "$socket" -f --exit-with-parent memory 64M >"$dir/nbdkit.log" 2>&1 &
  nbdkit_pid=$!
  stop_nbdkit() {
    kill "$nbdkit_pid" 2>/dev/null || true
    wait "$nbdkit_pid" 2>/dev/null || true
    rm -rf "$dir"
  }
  trap stop_nbdkit EXIT
  for _ in $(seq 100); do
    [[ -S $socket ]] && break
    kill -0 "$nbdkit_pid" 2>/dev/null || { cat "$dir/nbdkit.log" >&2; exit 2; }
    sleep 0.1
  done
  [[ -S $socket ]] || { echo "conform: nbdkit did not start listening" >&2; exit 2; }
  echo "=== nbdref-conform against nbdkit $(nbdkit --version | cut -d' ' -f2) (memory 64M)"
  set -- --expect conformance/expectations/nbdkit-memory.txt "nbd+unix:///?socket=$socket"
fi

status=0
"$bin" --junit "$out/junit.xml" --json "$out/report.json" "$@" | tee "$out/report.txt" ||
  status=${PIPESTATUS[0]}
echo "=== report: $out/report.txt, JUnit: $out/junit.xml, JSON: $out/report.json"
exit "$status"
