#!/usr/bin/env bash
# fuzz/record-corpus.sh: seed inputs for the fuzz targets, recorded from real
# conversations with nbdkit, qemu-nbd and nbd-server, and from every
# hostile-server script; merged into corpus/<target>/ so that only the
# seeds that add coverage stay, under names that say where they came from.
#
#   fuzz/record-corpus.sh [--build DIR] [--fuzz-build DIR] [--keep] [--no-merge]
#
#   --build DIR       a build with nbdref-mock, fuzz_seed_recorder and
#                     nbdref-info (default build/gcc)
#   --fuzz-build DIR  an NBDREF_FUZZ build, whose fuzz_<target> programs do
#                     the merge (default build/fuzz)
#   --keep            keep the work directory: the recordings (one folder
#                     per server or client run, as nbdref-mock --relay
#                     --record wrote them) and every seed recorded
#   --no-merge        record only; the seeds are left in the work directory
#
# Every server listens on a Unix socket in a temporary directory, and every
# conversation passes through `nbdref-mock --relay --record`, so each one
# is also kept byte for byte as it happened. The seeds:
#   handshake     fuzz_seed_recorder configures the client exactly as the
#                 target's four bytes say and records the server's stream
#                 (HANDSHAKE_CONFIGS below, against each server);
#   transmission  fuzz_seed_recorder negotiates for real, then follows a
#                 plan and records the operations that replay it (PLANS);
#   mock_server   real clients (nbdinfo, nbdcopy, qemu-img, qemu-io,
#                 nbdref-info) through the relay: the target's two bytes
#                 describing a server like the real one, then the client's
#                 recorded bytes;
#   hostile-*     each mockserver/scripts/hostile script played against the
#                 client its `#@` header describes (handshake, and
#                 transmission where the header's actions get there).
# fuzz_seed_recorder writes a seed only when replaying it makes the client
# do exactly what it did in the conversation.
#
# The merge runs `fuzz_<target> -set_cover_merge=1 -use_counters=0
# corpus/<target> SEEDS`: what is in the corpus stays (regression-* above
# all), and of the new seeds a small set (a greedy set cover) joins that
# reaches every code edge they reach beyond the corpus -- edges, not hit
# counts, as most recordings differ only in how often a loop ran. Seeds
# over MAX_SEED_SIZE bytes are not offered. The files libFuzzer names by
# their SHA-1 are renamed after the recording they are. Another target's
# seeds are one more record_* function and a merge line at the end.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$ROOT/build/gcc
FUZZ_BUILD=$ROOT/build/fuzz
KEEP=no
MERGE=yes
MAX_SEED_SIZE=4096

while (($#)); do
  case $1 in
    --build) BUILD=$(realpath "$2"); shift 2 ;;
    --fuzz-build) FUZZ_BUILD=$(realpath "$2"); shift 2 ;;
    --keep) KEEP=yes; shift ;;
    --no-merge) MERGE=no; shift ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "record-corpus.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

MOCK=$BUILD/mockserver/src/cli/nbdref-mock
RECORDER=$BUILD/fuzz/tools/fuzz_seed_recorder
INFO=$BUILD/client/tools/info/nbdref-info
for program in "$MOCK" "$RECORDER" "$INFO"; do
  [[ -x $program ]] || { echo "record-corpus.sh: $program is not built" >&2; exit 2; }
done
for tool in nbdkit qemu-nbd qemu-img qemu-io nbd-server nbdinfo nbdcopy; do
  command -v "$tool" >/dev/null || { echo "record-corpus.sh: $tool is not installed" >&2; exit 2; }
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/nbdref-record-corpus-XXXXXX")
SEEDS=$WORK/seeds
mkdir -p "$SEEDS"/{handshake,transmission,mock_server} "$WORK/recordings"
PIDS=()            # every background process started here
NBD_SERVER_PIDS=() # nbd-server daemons, each the leader of its process group

stop_all() {
  local pid
  for pid in "${NBD_SERVER_PIDS[@]}"; do kill -- "-$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [[ $KEEP == yes ]]; then
    echo "record-corpus.sh: recordings and seeds kept in $WORK"
  else
    rm -rf "$WORK"
  fi
}
trap stop_all EXIT

wait_for_socket() {
  local path=$1 tries=0
  until [[ -S $path ]]; do
    ((++tries <= 1000)) || { echo "record-corpus.sh: nothing listens on $path" >&2; exit 1; }
    sleep 0.01
  done
}

# --- servers -----------------------------------------------------------
# Each server NAME listens on $WORK/NAME.sock, with a relay recording every
# conversation on $WORK/NAME.relay into $WORK/recordings/NAME.

start_relay() {
  local name=$1
  "$MOCK" --unix "$WORK/$name.relay" --connections 0 --relay "unix:$WORK/$name.sock" \
    --record "$WORK/recordings/$name" 2>>"$WORK/relay.log" &
  PIDS+=($!)
  wait_for_socket "$WORK/$name.relay"
}

# start_nbdkit NAME NBDKIT-ARGUMENTS...
start_nbdkit() {
  local name=$1
  shift
  nbdkit -U "$WORK/$name.sock" -f --exit-with-parent "$@" 2>>"$WORK/servers.log" &
  PIDS+=($!)
  wait_for_socket "$WORK/$name.sock"
  start_relay "$name"
}

# start_qemu_nbd NAME FORMAT IMAGE QEMU-NBD-ARGUMENTS... (export "disk")
start_qemu_nbd() {
  local name=$1 format=$2 image=$3
  shift 3
  qemu-nbd -k "$WORK/$name.sock" -f "$format" -x disk -t -e 8 "$@" "$image" \
    2>>"$WORK/servers.log" &
  PIDS+=($!)
  wait_for_socket "$WORK/$name.sock"
  start_relay "$name"
}

# start_nbd_server NAME SIZE: one writable export "disk" of SIZE bytes.
start_nbd_server() {
  local name=$1 size=$2
  truncate -s "$size" "$WORK/$name.img"
  cat >"$WORK/$name.conf" <<EOF
[generic]
unixsock = $WORK/$name.sock
allowlist = true

[disk]
exportname = $WORK/$name.img
authfile = $WORK/no-such-allow-file
trim = true
flush = true
fua = true
EOF
  nbd-server -C "$WORK/$name.conf" -p "$WORK/$name.pid" 2>>"$WORK/servers.log"
  local tries=0
  until [[ -s $WORK/$name.pid ]]; do
    ((++tries <= 1000)) || { echo "record-corpus.sh: nbd-server $name did not start" >&2; exit 1; }
    sleep 0.01
  done
  NBD_SERVER_PIDS+=("$(cat "$WORK/$name.pid")")
  wait_for_socket "$WORK/$name.sock"
  # It computes its Diffie-Hellman parameters before it greets anyone.
  nbdinfo --size "nbd+unix:///disk?socket=$WORK/$name.sock" >/dev/null
  start_relay "$name"
}

# --- handshake seeds ---------------------------------------------------
# name and the target's four configuration bytes (handshake.cpp): byte 0
# features, byte 1 TLS and handshake flags, bytes 2-3 option-mode options.
# Byte 0's bit 7 (export "disk") is added for servers with no "" export.
HANDSHAKE_CONFIGS=(
  "go-structured-base 170c0000"    # extended?, structured, block sizes, base:allocation
  "go-simple 040c0000"             # neither reply extension
  "go-full-info 0f0c0000"          # NBD_INFO_NAME and DESCRIPTION too
  "go-three-contexts 370c0000"     # base:allocation, a dirty bitmap, allocation depth
  "go-two-contexts 220c0000"       # structured only, no block sizes
  "go-no-block-size 030c0000"
  "opt-list-info-go 570c56f4"      # option mode: LIST, INFO, GO
  "opt-meta-contexts-go 760c23f4"  # LIST_META_CONTEXT, SET_META_CONTEXT, GO
  "opt-replies-go 440c01f4"        # STRUCTURED_REPLY, EXTENDED_HEADERS, GO
  "opt-info-abort 430c75ff"        # INFO, ABORT
  "opt-abort 400cf7ff"
  "opt-starttls 400cf8ff"          # STARTTLS asked for in option mode
  "tls-allow 170d0000"             # TLS if the server can
  "tls-require 170e0000"           # TLS or nothing
  "newstyle-not-fixed 17000000"    # NBD_OPT_EXPORT_NAME only
  "fixed-with-zeroes 17040000"     # no NO_ZEROES
)

# record_handshakes SERVER EXPORT-BIT(00 or 80)
record_handshakes() {
  local server=$1 export_bit=$2 entry name config byte0
  for entry in "${HANDSHAKE_CONFIGS[@]}"; do
    read -r name config <<<"$entry"
    byte0=$(printf '%02x' $((0x${config:0:2} | 0x$export_bit)))
    "$RECORDER" handshake "$byte0${config:2}" --connect "unix:$WORK/$server.relay" \
      "$SEEDS/handshake/$server-$name" >>"$WORK/recorder.log" || true
  done
}

# --- transmission seeds ------------------------------------------------
# record_transmission SERVER NAME FEATURES PLAN: FEATURES is byte 0 of the
# target's configuration (transmission.cpp), PLAN a fuzz_seed_recorder plan.
record_transmission() {
  local server=$1 name=$2 features=$3 plan=$4
  "$RECORDER" transmission "$features" "$plan" --export disk \
    --connect "unix:$WORK/$server.relay" "$SEEDS/transmission/$server-$name" \
    >>"$WORK/recorder.log" || true
}

# Byte 0: 01 structured, 04/08/0c one to three contexts, 10 strict, 20
# pread_initialize, 80 failing callbacks.
PLAN_MIX="write:0:1024 write:4096:512+fua read:0:2048 wait status:0:65535 status:0:8192+req-one wait trim:4096:4096 zero:8192:4096+no-hole flush cache:0:4096 wait read:8192:512 wait disc"
PLAN_SIMPLE="write:0:512 read:0:1024 flush wait trim:0:4096 zero:4096:4096 wait read:0:512 read:512:512 wait disc"
PLAN_PIPELINE="read:0:256 read:256:256 read:512:256 read:768:256 write:1024:256 read:1024:256 read:2048:256 read:4096:256 flush read:8192:256 wait disc"
PLAN_STATUS="status:0:65535 wait read:0:2048 wait status:65536:65535+req-one wait disc"
PLAN_ERRORS="read:0:512 wait write:0:512 wait trim:0:4096 wait disc"
PLAN_ABANDON="read:0:512 write:0:512 read:512:512 disc+abandon"

# --- mock_server seeds -------------------------------------------------
# record_client SERVER NAME CONFIG COMMAND...: runs COMMAND, with @SOCK@
# standing for the relay's socket, through a relay of its own; each
# connection's client bytes after the target's two CONFIG bytes (in hex,
# mock_server.cpp) become a seed.
record_client() {
  local server=$1 name=$2 config=$3
  shift 3
  local relay=$WORK/$server-$name.client-relay dir=$WORK/recordings/$server-$name
  "$MOCK" --unix "$relay" --connections 0 --relay "unix:$WORK/$server.sock" --record "$dir" \
    2>>"$WORK/relay.log" &
  local pid=$!
  PIDS+=("$pid")
  wait_for_socket "$relay"
  timeout 60 "${@//@SOCK@/$relay}" >>"$WORK/clients.log" 2>&1 ||
    echo "record-corpus.sh: $name against $server failed (see $WORK/clients.log)" >&2
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  local recording n
  for recording in "$dir"/conn-*.client.bin; do
    [[ -s $recording ]] || continue
    n=${recording##*/conn-}
    n=${n%.client.bin}
    {
      printf "\\x${config:0:2}\\x${config:2:2}"
      cat "$recording"
    } >"$SEEDS/mock_server/$name-${server%-64k}$([[ $n == 1 ]] || echo "-$n")"
  done
}

# record_clients SERVER CONFIG: the third-party clients and ours.
record_clients() {
  local server=$1 config=$2 uri="nbd+unix:///disk?socket=@SOCK@"
  record_client "$server" nbdinfo "$config" nbdinfo "$uri"
  record_client "$server" nbdinfo-list "$config" nbdinfo --list "nbd+unix:///?socket=@SOCK@"
  record_client "$server" nbdinfo-map "$config" nbdinfo --map "$uri"
  record_client "$server" nbdinfo-content "$config" nbdinfo --content "$uri"
  record_client "$server" nbdcopy-to-null "$config" nbdcopy --connections=1 "$uri" null:
  record_client "$server" nbdcopy-from-file "$config" nbdcopy --connections=1 \
    "$WORK/small.bin" "$uri"
  record_client "$server" qemu-img-info "$config" qemu-img info -f raw "$uri"
  record_client "$server" qemu-img-map "$config" qemu-img map -f raw --output=json "$uri"
  record_client "$server" qemu-io "$config" qemu-io -f raw -c "write -P 0xab 0 512" \
    -c "read -P 0xab 0 512" -c "discard 4096 4096" -c "write -z 8192 4096" -c "flush" "$uri"
  record_client "$server" nbdref-info "$config" "$INFO" "$uri"
  record_client "$server" nbdref-info-list "$config" "$INFO" --list --unix @SOCK@
  record_client "$server" nbdref-info-map "$config" "$INFO" --map --export disk --unix @SOCK@
}

# --- record ------------------------------------------------------------
echo "record-corpus.sh: recording in $WORK"
MIB=$((1 << 20))
head -c 2048 /dev/urandom >"$WORK/small.bin"

# The transmission target's exports are 1 MiB (its SIZES[0]).
start_nbdkit nbdkit memory 1M
start_nbdkit nbdkit-no-sr --no-sr memory 1M
start_nbdkit nbdkit-oldstyle -o memory 1M
start_nbdkit nbdkit-block-sizes --filter=blocksize-policy memory 1M blocksize-minimum=512 \
  blocksize-preferred=4096 blocksize-maximum=65536
start_nbdkit nbdkit-sparse --filter=exportname sparse-random 1M seed=1 percent=30 \
  runlength=8192 exportname=disk exportdesc=fixed:sparse
start_nbdkit nbdkit-read-errors --filter=error memory 1M error=EIO error-pread-rate=1 \
  error-trim-rate=1
start_nbdkit nbdkit-read-only -r memory 1M
qemu-img create -q -f qcow2 "$WORK/bitmaps.qcow2" 1M
qemu-img bitmap --add "$WORK/bitmaps.qcow2" bitmap0
qemu-io -f qcow2 -c "write -P 0x5a 0 64k" -c "write -P 0xa5 256k 8k" "$WORK/bitmaps.qcow2" >/dev/null
start_qemu_nbd qemu-nbd-bitmaps qcow2 "$WORK/bitmaps.qcow2" -A -B bitmap0
truncate -s 1M "$WORK/plain.raw"
start_qemu_nbd qemu-nbd raw "$WORK/plain.raw"
start_nbd_server nbd-server $MIB

for server in nbdkit nbdkit-no-sr nbdkit-block-sizes nbdkit-sparse; do
  record_handshakes "$server" 00
done
record_handshakes nbdkit-oldstyle 00
for server in qemu-nbd qemu-nbd-bitmaps nbd-server; do
  record_handshakes "$server" 80
done

record_transmission nbdkit structured-mix 35 "$PLAN_MIX"
record_transmission nbdkit simple-mix 30 "$PLAN_SIMPLE"
record_transmission nbdkit pipeline 31 "$PLAN_PIPELINE"
record_transmission nbdkit abandon 31 "$PLAN_ABANDON"
record_transmission nbdkit beyond-the-end 05 "read:1048064:1024 wait status:1048064:4096 wait disc"
record_transmission nbdkit-no-sr simple-mix 30 "$PLAN_SIMPLE"
record_transmission nbdkit-block-sizes structured-mix 35 "$PLAN_MIX"
record_transmission nbdkit-sparse status 35 "$PLAN_STATUS"
record_transmission nbdkit-sparse status-failing-callbacks b5 "$PLAN_STATUS"
record_transmission nbdkit-sparse status-simple 30 "read:0:1024 wait read:8192:1024 wait disc"
record_transmission nbdkit-read-errors errors 35 "$PLAN_ERRORS"
record_transmission nbdkit-read-errors errors-simple 30 "$PLAN_ERRORS"
record_transmission nbdkit-read-only errors 05 "$PLAN_ERRORS"
record_transmission qemu-nbd-bitmaps three-contexts 3d "$PLAN_STATUS"
record_transmission qemu-nbd-bitmaps two-contexts 39 "write:300000:4096 wait status:262144:65535 wait disc"
record_transmission qemu-nbd structured-mix 35 "$PLAN_MIX"
record_transmission qemu-nbd simple-mix 30 "$PLAN_SIMPLE"
record_transmission qemu-nbd pipeline 31 "$PLAN_PIPELINE"
record_transmission nbd-server simple-mix 30 "$PLAN_SIMPLE"
record_transmission nbd-server pipeline 30 "$PLAN_PIPELINE"
record_transmission nbd-server beyond-the-end 00 "read:1048064:1024 wait write:1048064:1024 wait disc"

for script in "$ROOT"/mockserver/scripts/hostile/*.nbd; do
  "$RECORDER" hostile "$script" "$SEEDS" >>"$WORK/recorder.log" || true
done

# The mock_server target's disk is 64 KiB, "disk": the clients see the same.
start_nbdkit nbdkit-64k --filter=exportname memory 64K exportname=disk
truncate -s 64K "$WORK/small.raw"
start_qemu_nbd qemu-nbd-64k raw "$WORK/small.raw"
start_nbd_server nbd-server-64k 65536
# mock_server.cpp byte 0: fixed newstyle, no zeroes, LIST, INFO and GO,
# and, as nbdkit and qemu-nbd have them, structured replies and
# base:allocation; byte 1: plain disk, from the greeting.
record_clients nbdkit-64k be00
record_clients qemu-nbd-64k be00
record_clients nbd-server-64k 1e00

for target in handshake transmission mock_server; do
  echo "record-corpus.sh: $target: $(ls "$SEEDS/$target" | wc -l) seeds recorded"
done
grep "no seed" "$WORK/recorder.log" | sed 's/^/  /' || true

# --- merge ---------------------------------------------------------------
# merge_seeds TARGET GROUP SEED...: offers the seeds to the target's corpus;
# those that join are named after their recording.
merge_seeds() {
  local target=$1 group=$2
  shift 2
  local fuzzer=$FUZZ_BUILD/fuzz/fuzz_$target corpus=$ROOT/corpus/$target
  local offered=$WORK/offered/$target/$group
  [[ -x $fuzzer ]] || { echo "record-corpus.sh: $fuzzer is not built" >&2; exit 2; }
  mkdir -p "$offered"
  local seed
  for seed in "$@"; do
    (($(stat -c %s "$seed") <= MAX_SEED_SIZE)) && cp "$seed" "$offered"
  done
  local before
  before=$(ls "$corpus")
  "$fuzzer" -set_cover_merge=1 -use_counters=0 -merge_control_file="$WORK/$target.merge" \
    "$corpus" "$offered" >"$WORK/$target.$group.merge.log" 2>&1
  local file hash name added=0
  for file in "$corpus"/*; do
    hash=${file##*/}
    grep -qxF "$hash" <<<"$before" && continue
    name=
    for seed in "$offered"/*; do
      if [[ $(sha1sum <"$seed" | cut -d' ' -f1) == "$hash" ]]; then
        name=${seed##*/}
        break
      fi
    done
    [[ -n $name && ! -e $corpus/$name ]] && mv "$file" "$corpus/$name"
    added=$((added + 1))
  done
  echo "record-corpus.sh: $target: $added of $(ls "$offered" | wc -l) $group seeds joined" \
    "corpus/$target ($(ls "$corpus" | wc -l) files)"
}

# merge TARGET: the recordings of real servers and clients first, so that
# what a hostile script adds is counted beyond them.
merge() {
  local target=$1
  shopt -s nullglob
  local real=() hostile=() seed
  for seed in "$SEEDS/$target"/*; do
    if [[ ${seed##*/} == hostile-* ]]; then hostile+=("$seed"); else real+=("$seed"); fi
  done
  ((${#real[@]} == 0)) || merge_seeds "$target" real "${real[@]}"
  ((${#hostile[@]} == 0)) || merge_seeds "$target" hostile "${hostile[@]}"
  shopt -u nullglob
}

if [[ $MERGE == yes ]]; then
  merge handshake
  merge transmission
  merge mock_server
fi
